#!/usr/bin/env bash
# badauth (tests/peers/), our misbehaving authoritative server, checked fault by fault with
# dig and kdig: it serves tests/peers/bad.lab.zone on 127.0.0.53, 127.0.0.54 and ::1 with the
# rules of tests/peers/faults.scenario, answers normally where no rule matches, logs every
# query on stdout, and stops by itself (--max-queries, --max-seconds). Runs inside
# tests/integration/netns.sh (loopback only); prints "N passed, M failed".
set -uo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
bin=$RD_BUILD/badauth
peers=$RD_SRC/tests/peers
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
. "$RD_SRC/tests/integration/lib.sh"
# expect WHAT REGEX TEXT / expect_not WHAT REGEX TEXT (extended regex, searched line by line)
expect() {
    if grep -qE -- "$2" <<< "$3"; then ok; else
        bad "$1: /$2/ not found in:"; sed 's/^/    | /' <<< "$3" | head -30; fi
}
expect_not() {
    if ! grep -qE -- "$2" <<< "$3"; then ok; else
        bad "$1: /$2/ found in:"; sed 's/^/    | /' <<< "$3" | head -30; fi
}
ms() { date +%s%3N; }

A=127.0.0.53
D() { dig @$A +norec +tries=1 +timeout=1 "$@" 2>&1; }
K() { kdig @$A +norec +retry=0 +timeout=1 "$@" 2>&1; }

# waits for "ready" on the instance's stderr
start() { # NAME ARGS...
    local name=$1; shift
    "$bin" "$@" > "$work/$name.log" 2> "$work/$name.err" &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q "ready" "$work/$name.err" && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || break
        sleep 0.05
    done
    cat "$work/$name.err"; return 1
}
# waits up to $2 seconds for pid $1 to exit; its status in $st
st=
wait_exit() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        if ! kill -0 "$1" 2>/dev/null; then wait "$1"; st=$?; return 0; fi
        sleep 0.05
    done
    st=timeout; return 1
}

[ -x "$bin" ] || { echo "no $bin: build the badauth target"; exit 1; }
start main -l $A -l 127.0.0.54 -l ::1 -z bad.lab.=$peers/bad.lab.zone \
    -s $peers/faults.scenario --max-seconds 300 || { echo "badauth did not start"; exit 1; }
main=${pids[-1]}
echo "badauth started: $(grep -c listening "$work/main.err") addresses, $(grep -o '[0-9]* rules' "$work/main.err")"

# ---- 1. normal authoritative answers
out=$(D www.bad.lab A)
expect "www A" "^www\.bad\.lab\..*IN[[:space:]]+A[[:space:]]+192\.0\.2\.1$" "$out"
expect "www: AA, NOERROR" "flags: qr aa;.*ANSWER: 1" "$out"
expect "EDNS answered" "udp: 1232" "$out"
out=$(D nx.bad.lab A)
expect "NXDOMAIN" "status: NXDOMAIN" "$out"
expect "NXDOMAIN: SOA" "^bad\.lab\..*SOA" "$out"
out=$(D www.bad.lab MX)
expect "NODATA: NOERROR" "status: NOERROR" "$out"
expect "NODATA: no answer, SOA" "flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 1" "$out"
expect "NODATA: SOA" "^bad\.lab\..*SOA" "$out"
out=$(D x.sub.bad.lab A)
expect "referral: not AA" "flags: qr; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 2" "$out"
expect "referral: NS" "^sub\.bad\.lab\..*NS[[:space:]]+ns1\.sub\.bad\.lab\.$" "$out"
expect "referral: glue" "^ns1\.sub\.bad\.lab\..*A[[:space:]]+127\.0\.0\.53$" "$out"
out=$(D alias.bad.lab A)
expect "CNAME followed in zone" "^www\.bad\.lab\..*192\.0\.2\.1$" "$out"
expect "CNAME" "^alias\.bad\.lab\..*CNAME[[:space:]]+www\.bad\.lab\.$" "$out"
expect "wildcard" "^anything\.f\.bad\.lab\..*192\.0\.2\.99$" "$(D anything.f.bad.lab A)"
expect "outside our zones: REFUSED" "status: REFUSED" "$(D www.example.com A)"
expect "TCP" "^192\.0\.2\.1$" "$(dig @$A +tcp +short www.bad.lab A 2>&1)"
expect "second address" "^192\.0\.2\.1$" "$(dig @127.0.0.54 +short www.bad.lab A 2>&1)"
expect "IPv6 listener" "^2001:db8::1$" "$(dig @::1 +short www.bad.lab AAAA 2>&1)"
expect "kdig reads normal answers" "NOERROR" "$(K www.bad.lab A)"
expect "rule 'ok'" "192\.0\.2\.99" "$(D ok.f.bad.lab A)"
expect "type not matched: normal" "status: NOERROR" "$(D aaaa-only.f.bad.lab A)"
expect "type matched" "status: SERVFAIL" "$(D aaaa-only.f.bad.lab AAAA)"

# ---- 2. faults
out=$(D drop.f.bad.lab A)
expect "drop: timeout" "timed out" "$out"
expect_not "drop: no answer" "status:" "$out"
expect "drop over TCP: timeout" "timed out" "$(D +tcp drop.f.bad.lab A)"

out=$(D delay.f.bad.lab A)
expect "delay 1500 > dig timeout 1 s" "timed out" "$out"
t0=$(ms)
dig @$A +norec +tries=1 +timeout=4 delay.f.bad.lab A > "$work/delayed" 2>&1 &
dpid=$!
sleep 0.1
out=$(D www.bad.lab A); t1=$(ms)
expect "delay: others served meanwhile" "192\.0\.2\.1$" "$out"
check "delay: others served within 1 s ($((t1 - t0)) ms)" [ $((t1 - t0)) -lt 1000 ]
wait $dpid; t2=$(ms)
expect "delay: answer comes" "^delay\.f\.bad\.lab\..*192\.0\.2\.99$" "$(cat "$work/delayed")"
check "delay: after 1.5 s ($((t2 - t0)) ms)" [ $((t2 - t0)) -ge 1450 ]
qt=$(D x.slow.bad.lab A | sed -n 's/^;; Query time: \([0-9]*\) msec/\1/p')
check "suffix rule *.slow.bad.lab.: delayed 300 ms (${qt:-none})" [ "${qt:-0}" -ge 280 ]
qt=$(D slow.bad.lab A | sed -n 's/^;; Query time: \([0-9]*\) msec/\1/p')
check "suffix rule does not match its own apex (${qt:-none} ms)" [ "${qt:-999}" -lt 250 ]

out=$(D wrong-id.f.bad.lab A)
expect "wrong-id: dig warns" ";; Warning: ID mismatch" "$out"
ids=$(sed -n 's/.*ID mismatch: expected ID \([0-9]*\), got \([0-9]*\).*/\1 \2/p' <<< "$out")
diff=none; [ -n "$ids" ] && diff=$(( ${ids#* } - ${ids% *} ))
check "wrong-id: ID+1 ($ids)" [ "$diff" = 1 ]
expect "wrong-id: kdig warns" "reply ID .* is different" "$(K wrong-id.f.bad.lab A)"
t0=$(ms); out=$(dig @$A +norec +tries=1 +timeout=2 slow-wrong-id.f.bad.lab A 2>&1); t1=$(ms)
expect "delay= modifier with wrong-id" "ID mismatch" "$out"
check "delay= modifier: 500 ms ($((t1 - t0)) ms)" [ $((t1 - t0)) -ge 480 ]

out=$(D wrong-question.f.bad.lab A)
expect "wrong-question: dig" "Question section mismatch: got wrong\.wrong-question\.f\.bad\.lab/A/IN" "$out"
expect "wrong-question NAME" "Question section mismatch: got www\.bad\.lab/A/IN" \
    "$(D wrong-question2.f.bad.lab A)"
expect "wrong-question: kdig" "question sections are different" "$(K wrong-question.f.bad.lab A)"

# dig's UDP sockets are connected: answers from elsewhere never reach it. kdig's are not.
expect "from-other-port: dig times out" "timed out" "$(D from-other-port.f.bad.lab A)"
out=$(K from-other-port.f.bad.lab A)
port=$(sed -n 's/.*unexpected reply source 127\.0\.0\.53@\([0-9]*\).*/\1/p' <<< "$out" | head -1)
check "from-other-port: same address, port ${port:-none}" [ "${port:-53}" != 53 ]
expect "from-other-addr: kdig" "unexpected reply source 127\.0\.0\.55@53" \
    "$(K from-other-addr.f.bad.lab A)"
expect "from-other-addr: dig times out" "timed out" "$(D from-other-addr.f.bad.lab A)"

out=$(D out-of-bailiwick.f.bad.lab A)
expect "out-of-bailiwick: answer still there" "^out-of-bailiwick\.f\.bad\.lab\..*192\.0\.2\.99$" "$out"
expect "out-of-bailiwick: root NS" "^\.[[:space:]].*NS[[:space:]]+ns\.victim\.example\.$" "$out"
expect "out-of-bailiwick: victim A" "^www\.victim\.example\..*A[[:space:]]+192\.0\.2\.66$" "$out"

out=$(D referral-loop.f.bad.lab A)
expect "referral-loop: upward referral, not AA" "flags: qr; .*ANSWER: 0" "$out"
expect "referral-loop: to the parent lab." "^lab\.[[:space:]].*NS[[:space:]]+ns1\.lab\.$" "$out"
expect "referral-loop: glue is us" "^ns1\.lab\..*A[[:space:]]+127\.0\.0\.53$" "$out"
expect "referral-loop: glue is the address asked" "^ns1\.lab\..*A[[:space:]]+127\.0\.0\.54$" \
    "$(dig @127.0.0.54 +norec referral-loop.f.bad.lab A 2>&1)"
expect "referral-loop a->b" "^b\.f\.bad\.lab\..*NS[[:space:]]+ns1\.b\.f\.bad\.lab\.$" \
    "$(D x.a.f.bad.lab A)"
expect "referral-loop b->a" "^a\.f\.bad\.lab\..*NS[[:space:]]+ns1\.a\.f\.bad\.lab\.$" \
    "$(D x.b.f.bad.lab A)"

out=$(D fanout.f.bad.lab A)
expect "fanout 20: 20 NS, no glue" "flags: qr; QUERY: 1, ANSWER: 0, AUTHORITY: 20, ADDITIONAL: 1" "$out"
expect "fanout: ns20" "^f\.bad\.lab\..*NS[[:space:]]+ns20\.fanout\.bad\.lab\.$" "$out"
out=$(D fanout2.f.bad.lab A)
expect "fanout N DOMAIN" "AUTHORITY: 5," "$out"
expect "fanout N DOMAIN: names" "NS[[:space:]]+ns5\.victim\.example\.$" "$out"

out=$(D cname-loop.f.bad.lab A)
expect "cname-loop: a->b" "^cname-loop\.f\.bad\.lab\..*CNAME[[:space:]]+loop\.cname-loop\.f\.bad\.lab\.$" "$out"
expect "cname-loop: b->a" "^loop\.cname-loop\.f\.bad\.lab\..*CNAME[[:space:]]+cname-loop\.f\.bad\.lab\.$" "$out"
out=$(D loop.cname-loop.f.bad.lab A)
expect "cname-loop from the other end" "^loop\.cname-loop\.f\.bad\.lab\..*CNAME[[:space:]]+cname-loop\.f\.bad\.lab\.$" "$out"
expect "cname-loop NAME" "^www\.bad\.lab\..*CNAME[[:space:]]+cname-loop2\.f\.bad\.lab\.$" \
    "$(D cname-loop2.f.bad.lab A)"

expect "malformed: dig" "Got bad packet" "$(D malformed.f.bad.lab A)"
expect "malformed: kdig" "malformed reply packet" "$(K malformed.f.bad.lab A)"
expect "malformed header: dig" "Got bad packet" "$(D malformed-header.f.bad.lab A)"
expect "malformed-ptr: dig" "Got bad packet: bad compression pointer" "$(D malformed-ptr.f.bad.lab A)"
expect "malformed-ptr: kdig" "malformed reply packet" "$(K malformed-ptr.f.bad.lab A)"

out=$(D +ignore truncated.f.bad.lab A)
expect "truncated: TC over UDP, empty" "flags: qr aa tc; QUERY: 1, ANSWER: 0" "$out"
out=$(dig @$A +norec +tries=1 +timeout=1 truncated.f.bad.lab A 2>&1)
expect "truncated: dig retries over TCP" "Truncated, retrying in TCP mode" "$out"
expect "truncated: full answer over TCP" "^truncated\.f\.bad\.lab\..*192\.0\.2\.99$" "$out"

expect "cut: dig" "malformed message packet|Got bad packet" "$(D cut.f.bad.lab A)"
expect "cut: kdig" "malformed reply packet" "$(K cut.f.bad.lab A)"
expect "cut over TCP: kdig" "malformed reply packet" "$(K +tcp cut.f.bad.lab A)"

out=$(D formerr-edns.f.bad.lab A)
expect "formerr-edns: FORMERR with EDNS" "status: FORMERR" "$out"
expect_not "formerr-edns: no OPT" "OPT PSEUDOSECTION" "$out"
expect "formerr-edns: fine without EDNS" "192\.0\.2\.99$" "$(D +noedns formerr-edns.f.bad.lab A)"

out=$(D +noall +question +answer Case-Mangle.f.bad.lab A)
expect "case-mangle: question case flipped" "^;cASE-mANGLE\.F\.BAD\.LAB\." "$out"
expect "case-mangle: kdig notices" "question sections are different" "$(K case-mangle.f.bad.lab A)"

expect "servfail" "status: SERVFAIL" "$(D servfail.f.bad.lab A)"
expect "refused" "status: REFUSED" "$(D refused.f.bad.lab A)"
expect "notimp" "status: NOTIMP" "$(D notimp.f.bad.lab A)"
out=$(D lame.f.bad.lab A)
expect "lame: NOERROR" "status: NOERROR" "$out"
expect "lame: non-AA referral" "flags: qr; QUERY: 1, ANSWER: 0, AUTHORITY: 2" "$out"
expect "lame: to its own zone" "^bad\.lab\..*NS[[:space:]]+ns1\.bad\.lab\.$" "$out"
expect "lame refused" "status: REFUSED" "$(D lame-refused.f.bad.lab A)"

expect "tcp-close: TC over UDP" "flags: qr aa tc" "$(D +ignore tcp-close.f.bad.lab A)"
out=$(D tcp-close.f.bad.lab A)
expect "tcp-close: dig retries over TCP and gets EOF" "Truncated, retrying in TCP mode" "$out"
expect_not "tcp-close: no answer" "status:" "$out"
expect "tcp-close: kdig over TCP" "can't receive reply|failed to query" "$(K +tcp tcp-close.f.bad.lab A)"

out=$(D +ignore big.f.bad.lab A)
expect "big: TC over UDP" "flags: qr aa tc;" "$out"
n=$(dig @$A +tcp +norec +noall +answer big.f.bad.lab A | grep -c "IN[[:space:]]A")
check "big: 100 A over TCP ($n)" [ "$n" = 100 ]
n=$(dig @$A +norec +bufsize=65000 +noall +answer big.f.bad.lab A | grep -c "IN[[:space:]]A")
check "big: all of it over UDP with a large buffer ($n)" [ "$n" = 100 ]
n=$(dig @$A +tcp +norec +noall +answer big.f.bad.lab TXT | grep -c "TXT")
check "big 30 TXT ($n)" [ "$n" = 30 ]

# ---- 3. modifiers
s1=$(D once.f.bad.lab A | grep -o "status: [A-Z]*")
s2=$(D once.f.bad.lab A | grep -o "status: [A-Z]*")
s3=$(D once.f.bad.lab A | grep -o "status: [A-Z]*")
check "count=2: two SERVFAIL then NOERROR ($s1, $s2, $s3)" \
    [ "$s1 $s2 $s3" = "status: SERVFAIL status: SERVFAIL status: NOERROR" ]
expect "proto=tcp: UDP untouched" "status: NOERROR" "$(D tcponly.f.bad.lab A)"
expect "proto=tcp: TCP refused" "status: REFUSED" "$(D +tcp tcponly.f.bad.lab A)"

# ---- 4. query log
for _ in 1 2 3; do dig @$A +norec +tries=1 +timeout=1 logcount.bad.lab A > /dev/null 2>&1; done
dig @$A +tcp +norec logcount.bad.lab AAAA > /dev/null 2>&1
dig @$A +norec +noedns +noadflag plain.bad.lab A > /dev/null 2>&1
dig @$A +dnssec +cdflag flagged.bad.lab TXT > /dev/null 2>&1
log=$(cat "$work/main.log")
check "log: one line per query (3 x logcount A)" [ "$(grep -c ' logcount\.bad\.lab\. A ' <<< "$log")" = 3 ]
expect "log: format, no flags, no EDNS" \
    "^127\.0\.0\.1#[0-9]+ plain\.bad\.lab\. A - edns=no proto=udp to=127\.0\.0\.53#53 id=[0-9]+ fault=ok$" "$log"
expect "log: flags and DO" "^127\.0\.0\.1#[0-9]+ flagged\.bad\.lab\. TXT rd,ad,cd,do edns=yes " "$log"
expect "log: TCP" " logcount\.bad\.lab\. AAAA [a-z,-]+ edns=yes proto=tcp " "$log"
expect "log: the fault applied" " drop\.f\.bad\.lab\. A .* fault=drop$" "$log"
expect "log: case as received" " Case-Mangle\.f\.bad\.lab\. A " "$log"
expect "log: IPv6 client" "^::1#[0-9]+ www\.bad\.lab\. AAAA .* to=::1#53 " "$log"

# ---- 5. bounds, errors, shutdown
start maxq -l 127.0.0.60 -z bad.lab.=$peers/bad.lab.zone --max-queries 3 --max-seconds 60
p=${pids[-1]}
for i in 1 2 3; do dig @127.0.0.60 +short +tries=1 +timeout=1 www.bad.lab A > "$work/maxq.$i" 2>&1; done
wait_exit "$p" 3
check "--max-queries 3: exits by itself ($st)" [ "$st" = 0 ]
expect "--max-queries: last query answered first" "^192\.0\.2\.1$" "$(cat "$work/maxq.3")"
expect "--max-queries: says why" "exiting \(max-queries\) after 3 queries" "$(cat "$work/maxq.err")"
t0=$(ms)
start maxs -l 127.0.0.61 --max-seconds 1
expect "no zone: REFUSED" "status: REFUSED" "$(dig @127.0.0.61 +tries=1 +timeout=1 www.bad.lab 2>&1)"
wait_exit "${pids[-1]}" 4; t1=$(ms)
check "--max-seconds 1: exits by itself ($st)" [ "$st" = 0 ]
check "--max-seconds 1: in time ($((t1 - t0)) ms)" [ $((t1 - t0)) -lt 2500 ]

out=$("$bin" -l 127.0.0.62 -r 'x. A nosuchfault' 2>&1); rc=$?
check "unknown fault refused (rc $rc)" [ "$rc" = 1 ]
expect "unknown fault: message" "unknown fault nosuchfault" "$out"
out=$("$bin" -l 127.0.0.62 -r 'x. A delay' 2>&1); rc=$?
check "missing argument refused (rc $rc)" [ "$rc" = 1 ]
out=$("$bin" -l 10.1.2.3 2>&1); rc=$?
check "non-loopback address refused (rc $rc)" [ "$rc" = 1 ]
expect "non-loopback: message" "only 127\.0\.0\.0/8" "$out"
out=$("$bin" -l 127.0.0.62 -r 'x. A from-other-addr 192.0.2.1' 2>&1); rc=$?
check "from-other-addr outside loopback refused (rc $rc)" [ "$rc" = 1 ]

kill -TERM "$main"
wait_exit "$main" 5
check "SIGTERM: clean exit ($st)" [ "$st" = 0 ]
errs=$(cat "$work"/*.err)
expect_not "no sanitizer reports" "AddressSanitizer|LeakSanitizer|runtime error" "$errs"

tally_end
