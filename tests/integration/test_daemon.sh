#!/usr/bin/env bash
# The real resolverd binary, in a network namespace of its own, answering dig, kdig and our
# stress client from local zones: every record type over UDP and TCP, truncation and TCP
# retry, pipelining, malformed traffic, access control, configuration errors, SIGHUP, SIGTERM.
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$work"' EXIT
. "$RD_SRC/tests/integration/lib.sh"

# The config refers to zones by paths relative to itself: copy it into place.
mkdir -p "$work/tests/integration/data"
cp "$RD_SRC/tests/integration/data/daemon.conf" "$work/tests/integration/data/"
ln -s "$RD_SRC/zones" "$work/zones"
conf=$work/tests/integration/data/daemon.conf

start() {
    "$RD_BUILD/resolverd" -c "$conf" > "$work/log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q "ready" "$work/log" && return 0; kill -0 $pid 2>/dev/null || break; sleep 0.05; done
    cat "$work/log"; return 1
}
start || { echo "resolverd did not start"; exit 1; }
echo "started: $(grep -c listening "$work/log") listeners"

# 1. every record of the types zone, over UDP and over TCP, as BIND reads the zone file
norm() { awk '!/^;/ && NF {$1=tolower($1); $1=$1; print}' | sort -u; }
# child.types.test is a delegation: its NS come back as a referral (checked below), not data
named-checkzone -q -D -o - types.test. "$RD_SRC/zones/local/types.test.zone" | norm |
    awk '!($1 == "child.types.test." && $4 == "NS")' > "$work/bind.txt"
awk '{print $1, $4}' "$work/bind.txt" | sort -u > "$work/questions"
for proto in notcp tcp; do
    awk -v p=$proto '{print $1, $2, "+" p, "+noall +answer +nocookie"}' "$work/questions" > "$work/batch"
    dig @127.0.0.1 -f "$work/batch" 2> "$work/dig.err" | norm > "$work/dig.$proto"
    if diff -u "$work/bind.txt" "$work/dig.$proto" > "$work/diff"; then
        ok; echo "dig over $proto: all $(wc -l < "$work/bind.txt") records of types.test match the zone"
    else bad "dig over $proto differs from the zone:"; head -40 "$work/diff"; fi
done
# kdig (libknot) reads the same answers: counts per question
kbad=0
while read -r o t; do
    want=$(O="$o" T="$t" awk '$1==ENVIRON["O"] && $4==ENVIRON["T"]' "$work/bind.txt" | wc -l)
    got=$(kdig @127.0.0.1 +noall +answer "$o" "$t" 2>&1 | grep -vc '^;\|^$' || true)
    [ "$got" = "$want" ] || { kbad=$((kbad + 1)); echo "kdig $o $t: $got records, zone has $want"; }
done < "$work/questions"
check "kdig answers" [ "$kbad" = 0 ]

# 2. answers a user expects
a=$(dig @127.0.0.1 +short router.home.lan A); check "router.home.lan A ($a)" [ -n "$a" ]
flags=$(dig @127.0.0.1 router.home.lan A | grep "flags:")
check "AA and RA set, RD copied: $flags" grep -q "flags: qr aa rd ra" <<< "$flags"
check "NXDOMAIN with SOA" grep -q "status: NXDOMAIN" <(dig @127.0.0.1 nosuchname.home.lan A)
check "NXDOMAIN SOA in authority" grep -q "SOA" <(dig @127.0.0.1 +noall +authority nosuchname.home.lan A)
check "localhost A" [ "$(dig @127.0.0.1 +short localhost A)" = 127.0.0.1 ]
check "localhost AAAA" [ "$(dig @127.0.0.1 +short localhost AAAA)" = ::1 ]
check "RFC 6303 reverse NXDOMAIN" grep -q "status: NXDOMAIN" <(dig @127.0.0.1 -x 10.1.2.3)
check "invalid. NXDOMAIN" grep -q "status: NXDOMAIN" <(dig @127.0.0.1 foo.invalid A)
out=$(dig @127.0.0.1 +tries=1 +timeout=12 www.example.com A)
check "unreachable authorities: SERVFAIL" grep -q "status: SERVFAIL" <<< "$out"
check "unreachable authorities: EDE 22 says why" grep -q "EDE: 22" <<< "$out"
check "EDNS echoed with 1232" grep -q "udp: 1232" <<< "$out"
check "version.bind hidden: REFUSED" grep -q "status: REFUSED" <(dig @127.0.0.1 CH TXT version.bind)
check "AXFR over TCP: REFUSED" grep -q "Transfer failed\|REFUSED" <(dig @127.0.0.1 home.lan AXFR 2>&1)
check "EDNS version 1: BADVERS" grep -q "status: BADVERS" <(dig @127.0.0.1 +edns=1 +noednsneg router.home.lan A)
check "ANY: minimal answer (RFC 8482)" [ "$(dig @127.0.0.1 +noall +answer home.lan ANY | grep -c .)" -le 2 ]
check "IPv6 listener" grep -q "status: NOERROR" <(dig @::1 router.home.lan A)
check "kdig over TCP" grep -q "NOERROR" <(kdig @127.0.0.1 +tcp router.home.lan A)
check "0x20 case echoed" grep -q "RoUtEr.HoMe.LaN" <(dig @127.0.0.1 +noall +question RoUtEr.HoMe.LaN A)

ref=$(dig @127.0.0.1 child.types.test NS)
check "delegation: referral, AA clear" grep -q "flags: qr rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 2" <<< "$ref"

# 3. truncation: a 100-record RRset is cut at a record boundary with TC; dig retries over TCP
t=$(dig @127.0.0.1 +ignore +noall +comments +answer big.example.lab A)
check "TC over UDP for a large RRset" grep -q "flags:.* tc" <<< "$t"
n=$(dig @127.0.0.1 +noall +answer big.example.lab A | grep -c "IN[[:space:]]A")
check "TCP retry returns all 100 records ($n)" [ "$n" = 100 ]
n=$(dig @127.0.0.1 +noedns +ignore big.example.lab A | sed -n 's/.*MSG SIZE  rcvd: //p')
check "no-EDNS answer within 512 octets ($n)" [ "$n" -le 512 ]

# 4. TCP: 100 pipelined queries on one connection, a query trickled one octet at a time
check "pipelining" "$RD_BUILD/rdstress" pipeline 127.0.0.1 53 router.home.lan. 100
check "partial reads" "$RD_BUILD/rdstress" trickle 127.0.0.1 53 router.home.lan.
check "keepalive advertised (RFC 7828)" grep -q "TCP.KEEPALIVE: 3.0 secs" <(dig @127.0.0.1 +tcp +keepalive router.home.lan A)

# a silent TCP connection is closed after tcp-idle-timeout (3 s here)
t0=$(date +%s%N)
rc=0; timeout 10 bash -c 'exec 7<>/dev/tcp/127.0.0.1/53; cat <&7 > /dev/null' || rc=$?
el=$(( ($(date +%s%N) - t0) / 1000000 ))
check "idle TCP connection closed by the server after ${el} ms (rc=$rc)" test "$rc" = 0 -a "$el" -ge 2500 -a "$el" -lt 6000

# 5. 1000 malformed datagrams never stop service
check "malformed flood" "$RD_BUILD/rdstress" garbage 127.0.0.1 53 1000 42
check "still alive after garbage" kill -0 $pid

# 6. access control: refuse answers REFUSED, deny is silent
check "ACL refuse" grep -q "status: REFUSED" <(dig @127.0.0.1 -b 127.0.0.66 router.home.lan A)
check "ACL deny: no answer" bash -c "! dig @127.0.0.1 -b 127.0.0.67 +tries=1 +timeout=1 router.home.lan A | grep -q 'status:'"

# 7. configuration errors name file:line; --check-config
printf 'server:\n    listen: 127.0.0.1@53\n    threads: lots\n' > "$work/bad.conf"
msg=$("$RD_BUILD/resolverd" --check-config -c "$work/bad.conf" 2>&1 || true)
check "config error names file:line: $msg" grep -q "bad.conf:3: threads" <<< "$msg"
check "--check-config accepts the test config" "$RD_BUILD/resolverd" --check-config -c "$conf"
check "--check-config accepts resolver.conf.example" "$RD_BUILD/resolverd" --check-config -c "$RD_SRC/resolver.conf.example"

# 8. SIGHUP with a broken config keeps serving; a good one takes effect
cp "$conf" "$work/good.conf"
echo "    bogus-key: 1" >> "$conf"
kill -HUP $pid; sleep 0.5
check "bad reload logged with file:line" grep -q "daemon.conf:[0-9]*: bogus-key" "$work/log"
check "still serving after bad reload" grep -q "status: NOERROR" <(dig @127.0.0.1 router.home.lan A)
cp "$work/good.conf" "$conf"
cp "$RD_SRC/zones/local/home.lan.zone" "$work/home.lan.zone"
echo 'reloaded-name 60 IN A 192.0.2.99' >> "$work/home.lan.zone"
sed -i "s|file: ../../../zones/local/home.lan.zone|file: $work/home.lan.zone|" "$conf"
kill -HUP $pid; sleep 0.5
check "good reload serves new data" [ "$(dig @127.0.0.1 +short reloaded-name.home.lan A)" = 192.0.2.99 ]

# 9. SIGTERM: graceful, exit 0
kill -TERM $pid
rc=0; wait $pid || rc=$?
pid=
check "exit 0 on SIGTERM (rc=$rc)" [ "$rc" = 0 ]
check "stopped cleanly" grep -q "stopped" "$work/log"

tally_end
