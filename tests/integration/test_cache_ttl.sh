#!/usr/bin/env bash
# The cache as a client sees it through the daemon (issue 5 "Cache"), against the offline lab
# (zones/lab/example.lab.zone: www TTL 3600, short TTL 5, zero TTL 0, SOA TTL 3600 with
# MINIMUM 300) and, for credibility, a two-level badauth hierarchy
# (tests/integration/data/cred-*.zone):
#   - TTLs count down between two queries; an expired entry is fetched again;
#   - TTL 0 is never cached (RFC 1035 s3.2.1);
#   - negative answers live min(SOA TTL, SOA MINIMUM) (RFC 2308 s5);
#   - cache-min-ttl, cache-max-ttl, cache-max-negative-ttl clamp what dig sees, and a
#     reload (SIGHUP) that changes them applies them (src/main.c reload);
#   - RFC 2181 s5.4.1: glue is used to reach a server, never given to a client as an answer;
#     the authoritative data replaces it.
# And the issue 5 bullets no other integration test checks through the daemon (the audit
# in the issue 5 report): keys ignore case, RFC 8020 (nothing below an NXDOMAIN), a chain of
# 11 CNAMEs (the limit) and a CNAME loop, root priming (RFC 8109), QNAME minimisation
# (RFC 9156), a new source port and ID per upstream query (RFC 5452), resolution starting
# at the closest cached zone cut, and failures cached briefly (RFC 9520).
# Runs inside tests/integration/netns.sh (loopback only). Prints "N passed, M failed".
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
data=$RD_SRC/tests/integration/data
work=$(mktemp -d)
pids=() pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    "$RD_SRC/tests/lab/stop.sh" "$work/lab" > /dev/null 2>&1 || true
    [ -n "${RD_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
. "$RD_SRC/tests/integration/lib.sh"
[ -n "${RD_KEEP:-}" ] && echo "work dir: $work"

RD_LAB_NETNS=1 "$RD_SRC/tests/lab/start.sh" "$work/lab" > "$work/lab.log" 2>&1 || {
    cat "$work/lab.log"; exit 1; }
conf="$work/resolverd.conf"
log="$work/resolverd.log"
# write_conf [server: lines...]
write_conf() {
    {
        printf 'server:\n    listen: 127.0.0.1@53\n    threads: 2\n'
        printf '    root-hints: %s\n    allow-loopback-upstreams: yes\n' "$work/lab/root.hints"
        for l in "$@"; do printf '    %s\n' "$l"; done
    } > "$conf.new"
    mv "$conf.new" "$conf"
}
hup() {
    local n0
    n0=$(grep -c "reloaded" "$log" || true)
    kill -HUP "$pid"
    for _ in $(seq 100); do
        [ "$(grep -c "reloaded" "$log" || true)" -gt "$n0" ] && return 0
        sleep 0.05
    done
    return 1
}
q() { dig @"${SERVER:-127.0.0.1}" -p "${PORT:-53}" +tries=1 +timeout=5 "$@"; }
# ttl NAME TYPE: the TTL of the first answer record ("" when there is none)
ttl() { q +noall +answer "$1" "$2" | awk '$4 == "'"$2"'" {print $2; exit}'; }
# negttl NAME: the TTL of the SOA in the authority section of a negative answer
negttl() { q +noall +authority "$1" A | awk '$4 == "SOA" {print $2; exit}'; }
between() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

write_conf
"$RD_BUILD/resolverd" -c "$conf" > "$log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q ready "$log" && break; sleep 0.05; done

# ---- defaults (cache-min-ttl 0, cache-max-ttl 1 day, cache-max-negative-ttl 1 hour)
t1=$(ttl www.example.lab A)
check "first answer carries the zone's TTL ($t1 of 3600)" between "$t1" 3590 3600
q +noall +answer short.example.lab A > /dev/null
t_short1=$(ttl short.example.lab A)
check "short (TTL 5) cached: $t_short1" between "$t_short1" 0 5
sleep 2.2
t2=$(ttl www.example.lab A)
check "TTL counts down: $t1 then $t2 after 2.2 s" between "$t2" $((t1 - 4)) $((t1 - 2))
sleep 4
t_short2=$(ttl short.example.lab A)
# 6 s after it was cached at TTL 5 it has expired: a new fetch starts again at 5
check "an expired entry is fetched again (short: $t_short1, 6 s later $t_short2)" between "$t_short2" 3 5
n1=$(negttl nxa.example.lab)
check "NXDOMAIN: SOA TTL is min(SOA TTL 3600, MINIMUM 300) = $n1 (RFC 2308 s5)" between "$n1" 295 300
sleep 1.1
n2=$(negttl nxa.example.lab)
check "negative TTL counts down ($n1 then $n2)" between "$n2" $((n1 - 3)) $((n1 - 1))
check "NODATA: SOA TTL 300 too ($(negttl nodata.example.lab))" between "$(negttl nodata.example.lab)" 295 300
t0=$(ttl zero.example.lab A)
check "TTL 0 answered with 0 ($t0)" [ "$t0" = 0 ]
cn=$(q +noall +answer cn1.example.lab A)
check "11 CNAMEs (RD_RES_CNAME_MAX) followed to the A ($(grep -c CNAME <<< "$cn" || true) CNAMEs)" \
    [ "$(grep -c CNAME <<< "$cn" || true)" = 11 -a "$(awk '$4 == "A" {print $5}' <<< "$cn")" = 192.0.2.15 ]
out=$(q self.example.lab A)
check "CNAME loop: SERVFAIL with an EDE" grep -q "status: SERVFAIL" <<< "$out"
check "CNAME loop: the EDE is there" grep -q "EDE:" <<< "$out"

# ---- clamps, applied by a reload (TTL limits changed: the cache is flushed)
write_conf "cache-min-ttl: 60" "cache-max-ttl: 100" "cache-max-negative-ttl: 30"
check "clamps: reloaded" hup
check "clamps: the reload flushed the cache (logged)" grep -q "cache flushed" "$log"
# The first answer (just fetched) and the second (from the cache) must both show the clamped
# TTL: a client must not see one TTL from us and another a moment later (Unbound clamps both).
a=$(ttl www.example.lab A); b=$(ttl www.example.lab A)
check "cache-max-ttl 100: www (3600), first answer seen as $a" between "$a" 95 100
check "cache-max-ttl 100: www (3600), from the cache seen as $b" between "$b" 95 100
# the same through the packet cache: a client with a bare OPT (no cookie) is answered from it
a=$(q +nocookie +noall +answer mail.example.lab A | awk '$4 == "A" {print $2; exit}')
b=$(q +nocookie +noall +answer mail.example.lab A | awk '$4 == "A" {print $2; exit}')
check "cache-max-ttl 100 through the packet cache: mail (3600) seen as $b (first $a)" \
    between "$b" 95 100
a=$(ttl short.example.lab A); b=$(ttl short.example.lab A)
check "cache-min-ttl 60: short (5), first answer seen as $a" between "$a" 55 60
check "cache-min-ttl 60: short (5), from the cache seen as $b" between "$b" 55 60
a=$(negttl nxb.example.lab); b=$(negttl nxb.example.lab)
check "cache-max-negative-ttl 30: NXDOMAIN SOA (300), first answer seen as $a" between "$a" 25 30
check "cache-max-negative-ttl 30: NXDOMAIN SOA (300), from the cache seen as $b" between "$b" 25 30
a=$(negttl nodata.example.lab); b=$(negttl nodata.example.lab)
check "cache-max-negative-ttl 30: NODATA SOA, first answer seen as $a" between "$a" 25 30
check "cache-max-negative-ttl 30: NODATA SOA, from the cache seen as $b" between "$b" 25 30
sleep 1.1
t2=$(ttl short.example.lab A)
check "a raised TTL counts down too (short: $t2)" between "$t2" 53 59

write_conf "cache-max-ttl: 50"
check "cache-max-ttl 100 -> 50: reloaded" hup
ttl www.example.lab A > /dev/null
t=$(ttl www.example.lab A)
check "cache-max-ttl 50 after the reload: www from the cache seen as $t" between "$t" 45 50
negttl nxc.example.lab > /dev/null
t=$(negttl nxc.example.lab)
check "cache-max-negative-ttl back to its default: SOA from the cache $t" between "$t" 295 300

# ---- TTL 0 is not cached: with the lab gone, a cached name answers, zero does not
"$RD_SRC/tests/lab/stop.sh" "$work/lab" > /dev/null 2>&1
check "lab gone: www still answered from the cache" [ "$(q +short www.example.lab A)" = 192.0.2.10 ]
check "lab gone: cache keys ignore case (WwW.ExAmPlE.lAb)" [ "$(q +short WwW.ExAmPlE.lAb A)" = 192.0.2.10 ]
st=$(q below.nxc.example.lab A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
check "lab gone: below a cached NXDOMAIN is NXDOMAIN too (RFC 8020): $st" [ "$st" = NXDOMAIN ]
st=$(q zero.example.lab A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
check "lab gone: zero (TTL 0) was not cached ($st)" [ "$st" = SERVFAIL ]
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
check "exit 0 on SIGTERM (rc=$rc)" [ "$rc" = 0 ]

# ---- credibility: glue (rank additional) is not an answer; authoritative data replaces it
start_badauth root -l 127.0.9.1 -z .="$data/cred-root.zone"
start_badauth child -l 127.0.9.81 -z child.="$data/cred-child.zone" -r 'fail.child. * servfail'
cat > "$conf" <<EOF
server:
    listen: 127.0.0.1@53
    threads: 1
    root-hints: $data/cred-root.hints
    allow-loopback-upstreams: yes
EOF
"$RD_BUILD/resolverd" -c "$conf" > "$log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q ready "$log" && break; sleep 0.05; done
check "via the glue (127.0.9.81): www.child." [ "$(q +short www.child A)" = 192.0.2.82 ]
check "root priming (RFC 8109): '. NS' asked to the hints' server" grep -q "^[^ ]* \. NS " "$work/root.log"
check "QNAME minimisation (RFC 9156): the root never saw www.child." \
    [ "$(grep -ci " www.child. " "$work/root.log" || true)" = 0 ]
check "QNAME minimisation: the root was asked about child." grep -qi " child\. " "$work/root.log"
n_root=$(wc -l < "$work/root.log")
st=$(q other.child A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
check "closest cached cut: other.child. ($st) asked to the child only" \
    [ "$st" = NXDOMAIN -a "$(wc -l < "$work/root.log")" = "$n_root" ]
st=$(q fail.child A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
n_fail=$(grep -ci " fail.child. " "$work/child.log" || true)
st2=$(q fail.child A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
check "a failing server: SERVFAIL ($st, then $st2)" [ "$st" = SERVFAIL -a "$st2" = SERVFAIL ]
check "failure cached (RFC 9520): asked again at once, no new upstream query" \
    [ "$(grep -ci " fail.child. " "$work/child.log" || true)" = "$n_fail" -a "$n_fail" -ge 1 ]
# every upstream query so far: "CLIENT#PORT ... id=N"; ports and IDs must not repeat
ports=$(cat "$work/root.log" "$work/child.log" | awk '{split($1, a, "#"); print a[2]}')
ids=$(cat "$work/root.log" "$work/child.log" | sed -n 's/.* id=\([0-9]*\).*/\1/p')
nq=$(wc -l <<< "$ports")
check "a new source port per upstream query ($(sort -u <<< "$ports" | wc -l) of $nq)" \
    [ "$nq" -ge 4 -a "$(sort -u <<< "$ports" | wc -l)" = "$nq" ]
check "a new ID per upstream query ($(sort -u <<< "$ids" | wc -l) of $nq)" \
    [ "$(sort -u <<< "$ids" | wc -l)" = "$nq" ]
out=$(q +short ns.child A)
check "ns.child. A: the child's own data, not the glue ($out)" [ "$out" = 192.0.2.81 ]
check "ns.child. A was asked to the child's server, not answered from glue" \
    grep -qi " ns.child. A " "$work/child.log"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
check "exit 0 on SIGTERM (rc=$rc)" [ "$rc" = 0 ]
tally_end
