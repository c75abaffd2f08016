#!/usr/bin/env bash
# Encrypted forwarding (issue 8): queries that a closing DoT/DoH upstream connection leaves
# unanswered are sent again, once, on another connection of the same upstream, at once (not
# after their try's timeout): RFC 7766 s6.2.1, RFC 7858 s3.4, RFC 9113 s6.8 and s8.7.
# Hostile upstreams (tests/integration/data/dot_upstream.py and doh_upstream.py) misbehave on
# their first connection only: close it with close_notify after reading N queries, answer
# half and close it, send GOAWAY in the middle of a burst, refuse streams (REFUSED_STREAM),
# drop the connection; a burst of distinct questions (data/burst.py, over UDP to the
# forwarder) must be answered in full, without SERVFAIL, before the engine's first try timeout
# (RD_RES_TIMEOUT_MS, 400 ms), with exactly one more connection, no query failed (no try
# charged to the upstream, no warning), and no question that was answered or that the server
# said it processed asked twice. After GOAWAY no new query goes on the draining connection; a
# connection that closes on every query costs each try one resend, not more. Runs in this
# test's own network namespace (ctest: tests/integration/netns.sh); the upstreams answer every
# question themselves. (Before the resend existed, 14 of these checks failed: the DoH bursts
# ended in SERVFAIL, the DoT ones in failed tries and warnings.)
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
. "$RD_SRC/tests/integration/lib.sh"
not() { ! "$@"; }
data=$RD_SRC/tests/integration/data

# ---- a test CA and a server certificate for the hostile upstreams ----
pki=$work/pki
mkdir -p "$pki"
(
    cd "$pki"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2> /dev/null; }
    key ca.key
    openssl req -x509 -key ca.key -out ca.crt -days 30 -subj /CN=resolverd-test-ca 2> /dev/null
    key good.key
    san="subjectAltName=DNS:dot.lab,DNS:doh.lab,IP:127.0.200.6"
    openssl req -new -key good.key -out good.csr -subj /CN=good -addext "$san" 2> /dev/null
    printf '%s\n' "$san" "extendedKeyUsage=serverAuth" > ext
    openssl x509 -req -in good.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
        -extfile ext -out good.crt 2> /dev/null
)
[ -s "$pki/good.crt" ] || { echo "no good.crt"; exit 1; }

# hostile dot|doh MODE: the hostile upstream on 127.0.200.6 (DoT @853, DoH @443), its log
# in $work/up-MODE.out; sets $hpid
hostile() {
    local kind=$1 mode=$2 port=853
    [ "$kind" = doh ] && port=443
    /usr/bin/python3 "$data/${kind}_upstream.py" 127.0.200.6 $port "$pki/good.crt" "$pki/good.key" \
        "$mode" > "$work/up-$kind-$mode.out" 2>&1 &
    hpid=$!
    pids+=($hpid)
    for _ in $(seq 100); do grep -q ready "$work/up-$kind-$mode.out" && return 0; sleep 0.05; done
    cat "$work/up-$kind-$mode.out"
    exit 1
}
# front NAME UPSTREAM: a forwarder (one worker: one pool) on 127.0.0.1@5300 sending "." to
# UPSTREAM; log in $work/fw-NAME.log; sets $pid
front() {
    local name=fw-$1
    printf '%s\n' "server:" "    listen: 127.0.0.1@5300" "    threads: 1" \
        "    access-control: 127.0.0.0/8 allow" "    root-hints: $RD_SRC/zones/lab/root.hints" \
        "    state-dir: $work/state-$name" "    tls-ca-file: $pki/ca.crt" "    log-level: debug" \
        "forward:" "    name: ." "    upstream: $2" > "$work/$name.conf"
    : > "$work/$name.log"
    "$RD_BUILD/resolverd" -c "$work/$name.conf" > "$work/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 200); do grep -q "ready" "$work/$name.log" && return 0; kill -0 $pid 2> /dev/null || break; sleep 0.05; done
    cat "$work/$name.log"
    exit 1
}
stop() { kill -TERM "$1" 2> /dev/null; wait "$1" 2> /dev/null || true; }
q() { dig @127.0.0.1 -p 5300 +tries=1 +time=5 "$@"; }
# burst PREFIX COUNT: COUNT distinct questions at once; the summary in $res, its fields in
# $answered $servfail $missing $maxms
burst() {
    /usr/bin/python3 "$data/burst.py" 127.0.0.1 5300 "$1" "$2" 5 > "$work/burst-$1.out"
    res=$(grep "^answered" "$work/burst-$1.out")
    read -r _ answered _ servfail _ other _ missing _ maxms <<< "$res"
    answered=$((answered + 0)) servfail=$((servfail + 0)) other=$((other + 0))
}
# names OUT CONN [WHAT]: the names of the lines "WHAT ... conn=CONN ... name=N" (WHAT: the
# line's first word, default the query/request line), sorted
names() {
    local what=${3:-}
    [ -n "$what" ] || { [[ ${1##*/} == up-doh* ]] && what=req || what=query; }
    awk -v w="$what" -v c="conn=$2" '$1 == w && (" " $0 " ") ~ (" " c " ") {
        for (i = 1; i <= NF; i++) if ($i ~ /^name=/) print substr($i, 6) }' "$1" | sort
}
conns() { grep -c "^conn " "$1" || true; }
# every name in list A is in list B (files of sorted names)
subset() { [ -z "$(comm -23 "$1" "$2")" ]; }
# no name asked more than twice in all (once, and once again at most)
at_most_twice() { [ -z "$(names "$1" '[0-9]*' | uniq -c | awk '$1 > 2')" ]; }
fast() { [ "$maxms" -lt 400 ]; }

n=40 # questions per burst
half=20

# 1. DoT: the first connection reads 20 queries, answers none, sends close_notify and
# closes (queries written after the 20th are lost with it: a reset). Every question is
# answered through a second connection, at once.
hostile dot closeafter:$half
front dot-closeafter "tls://127.0.200.6@853#dot.lab"
f=$pid
out=$work/up-dot-closeafter:$half.out
burst dca $n
check "DoT close_notify after $half queries: all $n answered ($res)" [ "$answered" = $n ]
check "DoT close_notify after $half queries: no SERVFAIL" [ "$servfail" = 0 ]
check "DoT close_notify after $half queries: before the first try timeout (${maxms} ms)" fast
check "DoT close_notify after $half queries: the first connection read $half" \
    [ "$(names "$out" 1 | wc -l)" = $half ]
names "$out" 1 > "$work/c1" && names "$out" 2 > "$work/c2"
check "DoT close_notify after $half queries: those asked again on the second connection" subset "$work/c1" "$work/c2"
check "DoT close_notify after $half queries: two connections ($(conns "$out"))" [ "$(conns "$out")" = 2 ]
check "DoT close_notify after $half queries: no question asked more than twice" at_most_twice "$out"
# (close_notify, or a reset first: the server closed with queries unread)
check "DoT close_notify after $half queries: resending logged" \
    grep -q "forward upstream tls://127.0.200.6@853#dot.lab: .*: [0-9]* unanswered queries sent again" "$work/fw-dot-closeafter.log"
# (the engine would try a failed query again at once too, but each failure would count
# against the upstream as a timeout, RD_RES_HOLD_TIMEOUTS of which hold it down, and be
# logged as a warning: none of that for a close nothing was lost to)
check "DoT close_notify after $half queries: no query failed (no warning)" \
    not grep -q "\[warn\]" "$work/fw-dot-closeafter.log"
stop "$f"
kill $hpid

# 2. DoT: the first connection answers every second query of 20, then closes without
# close_notify (EOF). The answered ones are not asked again; the others are, at once.
hostile dot halfclose:$half
front dot-halfclose "tls://127.0.200.6@853#dot.lab"
f=$pid
out=$work/up-dot-halfclose:$half.out
burst dhc $n
check "DoT half answered then EOF: all $n answered ($res)" [ "$answered" = $n ]
check "DoT half answered then EOF: no SERVFAIL" [ "$servfail" = 0 ]
check "DoT half answered then EOF: before the first try timeout (${maxms} ms)" fast
names "$out" 1 answered > "$work/a1"
names "$out" 1 > "$work/c1"
names "$out" 2 > "$work/c2"
comm -23 "$work/c1" "$work/a1" > "$work/u1"
check "DoT half answered then EOF: $((half / 2)) answered on the first connection" [ "$(wc -l < "$work/a1")" = $((half / 2)) ]
check "DoT half answered then EOF: none of those asked again" [ -z "$(comm -12 "$work/a1" "$work/c2")" ]
check "DoT half answered then EOF: the unanswered ones asked again" subset "$work/u1" "$work/c2"
check "DoT half answered then EOF: two connections ($(conns "$out"))" [ "$(conns "$out")" = 2 ]
check "DoT half answered then EOF: no question asked more than twice" at_most_twice "$out"
check "DoT half answered then EOF: no query failed (no warning)" not grep -q "\[warn\]" "$work/fw-dot-halfclose.log"
stop "$f"
kill $hpid

# 3. DoT: every connection closes on the first query. A question is sent again once (a
# second connection), not more: each try of the engine costs at most two connections, and
# the question fails (SERVFAIL), resolverd stays up.
hostile dot close
front dot-close "tls://127.0.200.6@853#dot.lab"
f=$pid
out=$work/up-dot-close.out
check "DoT closing every connection: SERVFAIL" grep -q "status: SERVFAIL" <(q closed.hostile.lab A)
sleep 0.3
warned=$(grep -c "\[warn\]: forward upstream tls://127.0.200.6@853#dot.lab: .*closed by the upstream" "$work/fw-dot-close.log" || true)
resent=$(grep -c "unanswered queries sent again" "$work/fw-dot-close.log" || true)
asked=$(grep -c "^query" "$out" || true)
check "DoT closing every connection: each try sent once more, not more ($asked asked, $warned failed, $resent resent)" \
    [ "$asked" -ge 2 -a "$asked" = $((warned + resent)) -a "$resent" = "$warned" ]
check "DoT closing every connection: one connection per query ($(conns "$out") for $asked)" [ "$(conns "$out")" = "$asked" ]
check "DoT closing every connection: resolverd still up" kill -0 $f
stop "$f"
kill $hpid

# 4. DoH: GOAWAY after 20 requests with last-stream-id the 10th: the 10 up to it are
# answered on that connection, the others (not processed, RFC 9113 s6.8) and the rest of the
# burst go on a new one at once.
hostile doh goaway:$half
front doh-goaway "https://doh.lab/dns-query@127.0.200.6"
f=$pid
out=$work/up-doh-goaway:$half.out
burst hga $n
check "DoH GOAWAY mid-burst: all $n answered ($res)" [ "$answered" = $n ]
check "DoH GOAWAY mid-burst: no SERVFAIL" [ "$servfail" = 0 ]
check "DoH GOAWAY mid-burst: before the first try timeout (${maxms} ms)" fast
names "$out" 1 answered > "$work/a1"
names "$out" 1 ignored > "$work/i1"
names "$out" 2 > "$work/c2"
check "DoH GOAWAY mid-burst: $((half / 2)) processed on the first connection" [ "$(wc -l < "$work/a1")" = $((half / 2)) ]
check "DoH GOAWAY mid-burst: none of those asked again" [ -z "$(comm -12 "$work/a1" "$work/c2")" ]
above_again() { [ -s "$work/i1" ] && subset "$work/i1" "$work/c2"; }
check "DoH GOAWAY mid-burst: the streams above last-stream-id asked again ($(wc -l < "$work/i1"))" above_again
check "DoH GOAWAY mid-burst: two connections ($(conns "$out"))" [ "$(conns "$out")" = 2 ]
check "DoH GOAWAY mid-burst: no question asked more than twice" at_most_twice "$out"
stop "$f"
kill $hpid

# 5. DoH: every second stream of the first 20 reset with REFUSED_STREAM (RFC 9113 s8.7: not
# processed); they go again on another connection, the answered ones do not.
hostile doh refuse:$half
front doh-refuse "https://doh.lab/dns-query@127.0.200.6"
f=$pid
out=$work/up-doh-refuse:$half.out
burst hrf $n
check "DoH REFUSED_STREAM: all $n answered ($res)" [ "$answered" = $n ]
check "DoH REFUSED_STREAM: no SERVFAIL" [ "$servfail" = 0 ]
check "DoH REFUSED_STREAM: before the first try timeout (${maxms} ms)" fast
names "$out" 1 refused > "$work/r1"
names "$out" 1 answered > "$work/a1"
names "$out" 2 > "$work/c2"
check "DoH REFUSED_STREAM: $((half / 2)) refused" [ "$(wc -l < "$work/r1")" = $((half / 2)) ]
check "DoH REFUSED_STREAM: each asked again on the other connection" subset "$work/r1" "$work/c2"
check "DoH REFUSED_STREAM: and not again on the refusing one" \
    [ "$(names "$out" 1 | uniq -d | wc -l)" = 0 ]
check "DoH REFUSED_STREAM: none of the answered ones asked again" [ -z "$(comm -12 "$work/a1" "$work/c2")" ]
check "DoH REFUSED_STREAM: two connections ($(conns "$out"))" [ "$(conns "$out")" = 2 ]
stop "$f"
kill $hpid

# 6. DoH: the first connection reads 20 requests, answers none and drops the TCP connection.
hostile doh close:$half
front doh-close "https://doh.lab/dns-query@127.0.200.6"
f=$pid
out=$work/up-doh-close:$half.out
burst hcl $n
check "DoH connection dropped after $half requests: all $n answered ($res)" [ "$answered" = $n ]
check "DoH connection dropped after $half requests: no SERVFAIL" [ "$servfail" = 0 ]
check "DoH connection dropped after $half requests: before the first try timeout (${maxms} ms)" fast
names "$out" 1 > "$work/c1"
names "$out" 2 > "$work/c2"
check "DoH connection dropped after $half requests: those asked again" subset "$work/c1" "$work/c2"
check "DoH connection dropped after $half requests: two connections ($(conns "$out"))" [ "$(conns "$out")" = 2 ]
check "DoH connection dropped after $half requests: no question asked more than twice" at_most_twice "$out"
check "DoH connection dropped after $half requests: no query failed (no warning)" not grep -q "\[warn\]" "$work/fw-doh-close.log"
stop "$f"
kill $hpid

# 7. DoH: GOAWAY right at the first request, which is answered 250 ms later on that
# connection; a question asked meanwhile must not go on the draining connection.
hostile doh drain
front doh-drain "https://doh.lab/dns-query@127.0.200.6"
f=$pid
out=$work/up-doh-drain.out
q +short first.hostile.lab A > "$work/drain1" &
d1=$!
# the second question once the GOAWAY is out (and has had time to arrive): asked earlier,
# while the connection is still being set up, it would rightly be sent on it with the first
for _ in $(seq 100); do grep -q "^goaway conn=1" "$out" && break; sleep 0.01; done
sleep 0.05
check "DoH draining connection: a question asked meanwhile answered" [ "$(q +short second.hostile.lab A)" = 192.0.2.99 ]
wait $d1 || true
check "DoH draining connection: the first answered on it" [ "$(cat "$work/drain1")" = 192.0.2.99 ]
check "DoH draining connection: the first answered on the first connection, once" \
    [ "$(names "$out" 1 answered)" = first.hostile.lab. -a "$(names "$out" '[0-9]*' | grep -c first)" = 1 ]
check "DoH draining connection: the second went on a new connection" [ "$(names "$out" 2)" = second.hostile.lab. ]
check "DoH draining connection: no stream opened on it after GOAWAY" not grep -q "late stream" "$out"
stop "$f"
kill $hpid

check "no sanitizer report in any resolverd log" not grep -l "Sanitizer\|runtime error" "$work"/fw-*.log
check "every forwarder stopped cleanly" [ "$(grep -l "stopped" "$work"/fw-*.log | wc -l)" = 7 ]
tally_end
