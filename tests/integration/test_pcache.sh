#!/usr/bin/env bash
# The packet cache (include/resolverd/pcache.h) through the real daemon against the lab: a
# repeat question is answered from it (the shutdown log counts hits) with the asking client's
# ID, question case and TTLs counted down; it never answers what must be judged again
# (RD=0, refused clients, other DO/CD/EDNS/type keys, sizes over the client's limit, TCP too);
# a reload empties it; packet-cache-size 0 turns it off.
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 $pid 2>/dev/null
    "$RD_SRC/tests/lab/stop.sh" "$work/lab" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
. "$RD_SRC/tests/integration/lib.sh"

RD_LAB_NETNS=1 "$RD_SRC/tests/lab/start.sh" "$work/lab" > "$work/lab.log" 2>&1 || {
    cat "$work/lab.log"; exit 1; }
conf() { # packet-cache-size
    cat > "$work/r.conf" <<CONF
server:
    listen: 127.0.0.1@53
    threads: 2
    root-hints: $RD_SRC/zones/lab/root.hints
    allow-loopback-upstreams: yes
    access-control: 127.0.0.2/32 refuse
    packet-cache-size: $1
CONF
}
start() {
    "$RD_BUILD/resolverd" -c "$work/r.conf" > "$work/log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q ready "$work/log" && break; sleep 0.05; done
}
stop() { kill -TERM $pid; wait $pid || true; pid=; }
hits() { sed -n 's/.*packet cache: \([0-9]*\) hits.*/\1/p' "$work/log"; }
q() { dig @127.0.0.1 +tries=1 +timeout=5 "$@"; }
ttl_of() { q +noall +answer "$@" | awk 'NR == 1 {print $2}'; }

conf 4m
start
first=$(q +noall +answer www.example.lab A)
check "first answer resolved" grep -q "192.0.2.10" <<< "$first"
sleep 2.1
out=$(q WwW.eXaMpLe.LaB A)
check "repeat: the client's case in the answer" grep -q "^WwW.eXaMpLe.LaB\." <(q +noall +answer WwW.eXaMpLe.LaB A)
check "repeat: the client's case in the question section" grep -q "^;WwW.eXaMpLe.LaB\." <<< "$out"
t0=$(awk '{print $2}' <<< "$first") t1=$(ttl_of www.example.lab A)
check "repeat: TTL counted down ($t0 -> $t1)" [ "$t1" -lt "$t0" -a "$t1" -ge $((t0 - 4)) ]
id=$(q +qid=4242 www.example.lab A | sed -n 's/.*id: \([0-9]*\).*/\1/p')
check "repeat: the client's ID ($id)" [ "$id" = 4242 ]
check "repeat: RA set, AA clear, RD copied" grep -q "flags: qr rd ra;" <<< "$out"
# keys: each of these is another entry and must give its own right answer
check "AAAA is not the A entry" [ "$(q +short www.example.lab AAAA)" = 2001:db8::10 ]
check "no EDNS: no OPT in the answer" bash -c "! dig @127.0.0.1 +noedns www.example.lab A | grep -q 'OPT PSEUDOSECTION'"
check "no EDNS: the address" [ "$(q +noedns +short www.example.lab A)" = 192.0.2.10 ]
q +dnssec www.signed.lab A > /dev/null
q +dnssec www.signed.lab A > /dev/null
check "DO=0 after DO=1 was cached: no RRSIG" bash -c "! dig @127.0.0.1 +noall +answer www.signed.lab A | grep -q RRSIG"
check "DO=1 repeat: RRSIG kept" grep -q RRSIG <(q +dnssec +noall +answer www.signed.lab A)
check "CD=1 answered" [ "$(q +cd +short www.example.lab A)" = 192.0.2.10 ]
check "NXDOMAIN repeat" grep -q "status: NXDOMAIN" <(q nosuch.example.lab A; q nosuch.example.lab A)
# never from the packet cache
check "RD=0 still REFUSED (no cache snooping)" grep -q "status: REFUSED" <(q +norec www.example.lab A)
check "refused client still REFUSED" grep -q "status: REFUSED" <(dig -b 127.0.0.2 @127.0.0.1 +tries=1 www.example.lab A)
n=$(q +noall +answer big.example.lab A | grep -c "IN[[:space:]]A" || true)
check "big RRset over TCP after UDP ($n of 100)" [ "$n" = 100 ]
check "big RRset without EDNS: TC" grep -q "flags: qr tc" <(q +noedns +ignore big.example.lab A)
check "TCP repeat" [ "$(q +tcp +short www.example.lab A)" = 192.0.2.10 ]
check "TCP repeat keeps the case" grep -q "^WWW.example.lab\." <(q +tcp +noall +answer WWW.example.lab A)
stop
h=$(hits)
check "hits counted at shutdown (${h:-none})" [ "${h:-0}" -ge 8 ]

# a reload empties it: a local zone now answers a name the packet cache held
conf 4m
start
check "before reload: recursive answer" [ "$(q +short www.example.lab A)" = 192.0.2.10 ]
q +short www.example.lab A > /dev/null
cat > "$work/example.lab.zone" <<'ZONE'
$ORIGIN example.lab.
$TTL 60
@   SOA ns.example.lab. h.example.lab. 1 3600 600 86400 60
@   NS  ns.example.lab.
ns  A   192.0.2.1
www A   198.51.100.7
ZONE
printf 'zone:\n    name: example.lab\n    file: %s\n' "$work/example.lab.zone" >> "$work/r.conf"
kill -HUP $pid
for _ in $(seq 100); do grep -q "reloaded" "$work/log" && break; sleep 0.05; done
check "after reload: the local zone, not the packet cache" [ "$(q +short www.example.lab A)" = 198.51.100.7 ]
stop

# off
conf 0
start
q +short www.example.lab A > /dev/null
check "packet-cache-size 0: still answers" [ "$(q +short www.example.lab A)" = 192.0.2.10 ]
stop
check "packet-cache-size 0: no packet cache line" [ -z "$(hits)" ]
tally_end
