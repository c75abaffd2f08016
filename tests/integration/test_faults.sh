#!/usr/bin/env bash
# resolverd against misbehaving authoritative servers: badauth (tests/peers/) plays the root
# (127.0.9.1, tests/integration/data/faults-root.zone), the zone bad. (127.0.9.53 and .54,
# faults-bad.zone bent by tests/peers/resolver-faults.scenario) and an honest victim.
# (127.0.9.60). resolverd gets root hints naming only 127.0.9.1. For every fault of
# tests/peers/README.md we ask resolverd one question and check:
#   - the client gets the right answer or a clean SERVFAIL (with an EDE), never garbage,
#     within a bounded time (RD_RES_TIME_MAX_MS 10 s + slack: < 11 s);
#   - the upstream queries it cost (badauth's query logs) stay <= 200 (RD_RES_QUERIES_MAX);
#     fanout: <= 5 NS-name lookups (RD_RES_NS_LOOKUPS_PER_CUT);
#   - nothing wrong is cached: after out-of-bailiwick, www.victim. still comes from its real
#     server and the root NS set is untouched; after upward/sideways referrals, spoofed and
#     malformed replies, an honest name still resolves.
# Runs inside tests/integration/netns.sh (loopback only). Prints "N passed, M failed".
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
data=$RD_SRC/tests/integration/data
work=$(mktemp -d)
pids=() pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    [ -n "${RD_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
. "$RD_SRC/tests/integration/lib.sh"
ms() { date +%s%3N; }
t0=$SECONDS
[ -n "${RD_KEEP:-}" ] && echo "work dir: $work"

start_badauth root -l 127.0.9.1 -z .="$data/faults-root.zone"
start_badauth bad -l 127.0.9.53 -l 127.0.9.54 -z bad.="$data/faults-bad.zone" \
    -s "$RD_SRC/tests/peers/resolver-faults.scenario"
start_badauth victim -l 127.0.9.60 -z victim.="$data/faults-victim.zone"

cat > "$work/resolverd.conf" <<EOF
server:
    listen: 127.0.0.1@53
    threads: 1
    root-hints: $data/faults-root.hints
    allow-loopback-upstreams: yes
    log-level: info
EOF
"$RD_BUILD/resolverd" -c "$work/resolverd.conf" > "$work/resolverd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q ready "$work/resolverd.log" && break; sleep 0.05; done

nlog() { cat "$work"/root.log "$work"/bad.log "$work"/victim.log | wc -l; }
out= elapsed= nq= status=
# ask NAME [TYPE [dig options]]: sets out, status, elapsed (ms), nq (upstream queries)
ask() {
    local before after t
    before=$(nlog); t=$(ms)
    out=$(dig @127.0.0.1 +tries=1 +timeout=15 +nocookie "$@" 2>&1 || true)
    elapsed=$(($(ms) - t))
    sleep 0.05 # the query logs are line-buffered; let the last line land
    after=$(nlog)
    nq=$((after - before))
    status=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<< "$out" | head -1)
    [ -n "$status" ] || status=TIMEOUT
}
answers() { awk '/^;; ANSWER SECTION/ {a = 1; next} /^$/ {a = 0} a && $4 == "A" {print $5}' <<< "$out" | sort | tr '\n' ' ' | sed 's/ $//'; }

# fault NAME EXPECT [TYPE]: EXPECT is "answer" (the wildcard's 192.0.2.99 must come back),
# "servfail" (a clean SERVFAIL with an EDE) or "either" (one of the two, nothing else).
fault() {
    local name=$1 expect=$2 type=${3:-A} got
    ask "$name" "$type"
    got=$status
    [ "$status" = NOERROR ] && [ "$(answers)" = 192.0.2.99 ] && got=answer
    [ "$status" = SERVFAIL ] && grep -q "EDE:" <<< "$out" && got=servfail
    echo "  $name $type: $status ($got) in ${elapsed} ms, $nq upstream queries"
    case $expect in
    either) check "$name: answer or clean SERVFAIL, got $got" [ "$got" = answer -o "$got" = servfail ] ;;
    *) check "$name: expected $expect, got $got" [ "$got" = "$expect" ] ;;
    esac
    check "$name: bounded time (${elapsed} ms < 11000)" [ "$elapsed" -lt 11000 ]
    check "$name: <= 200 upstream queries ($nq)" [ "$nq" -le 200 ]
}

# sanity: the hierarchy works
fault ok.f.bad. answer
ask www.victim. A
check "victim answers before the faults ($(answers))" [ "$(answers)" = 192.0.2.200 ]

# Every fault of tests/peers/README.md. "either" where RFCs allow both; the reasons:
fault drop.f.bad. servfail                 # both servers silent: timeouts, then SERVFAIL
fault delay.f.bad. either                  # 300 ms: within our 400 ms try timeout
fault delay-long.f.bad. either             # 1.5 s: late answers are dropped (socket closed)
fault wrong-id.f.bad. servfail             # ID+1 ignored (RFC 5452 s9.1): only timeouts
fault wrong-question.f.bad. servfail       # question differs: ignored
fault from-other-port.f.bad. servfail      # connected UDP socket: the kernel drops it
fault from-other-addr.f.bad. servfail      # likewise
fault oob.f.bad. answer                    # the answer is right; the extra records are not used
fault referral-loop.f.bad. servfail        # upward referral: lame
fault x.a.f.bad. servfail                  # sideways referrals a.f.bad. <-> b.f.bad.
fault cname-loop.f.bad. servfail           # CNAME loop: RD_RES_CNAME_MAX
fault malformed.f.bad. servfail
fault malformed-header.f.bad. servfail
fault malformed-ptr.f.bad. servfail
fault truncated.f.bad. either              # TC=1 over UDP -> TCP gets the full answer
fault cut.f.bad. servfail
fault formerr-edns.f.bad. answer           # FORMERR to EDNS: the same server again without OPT
check "formerr-edns: retried without EDNS" grep -qi "formerr-edns.f.bad. A .*edns=no" "$work/bad.log"
check "formerr-edns: few upstream queries ($nq)" [ "$nq" -le 4 ]
fault case-mangle.f.bad. answer            # 0x20: flipped case ignored, then the plain name
check "case-mangle: asked in random case (0x20)" \
    grep -q "[[:space:]][a-zA-Z.-]*[A-Z][a-zA-Z.-]* A .*fault=case-mangle" "$work/bad.log"
check "case-mangle: then with the plain name" grep -q " case-mangle.f.bad. A .*fault=case-mangle" "$work/bad.log"
check "case-mangle: few upstream queries ($nq)" [ "$nq" -le 4 ]
fault servfail.f.bad. servfail
fault refused.f.bad. servfail
fault notimp.f.bad. servfail
fault lame.f.bad. servfail                 # referral to itself
fault lame-refused.f.bad. servfail
fault tcp-close.f.bad. servfail            # TC over UDP, then the TCP connection closes
fault once.f.bad. answer                   # two SERVFAILs (both servers), one more round answers
check "once: few upstream queries ($nq)" [ "$nq" -le 6 ]
# one spoofed or broken reply, then honest ones: the retry must bring the right answer
fault spoof-id.f.bad. answer
fault spoof-question.f.bad. answer
fault spoof-port.f.bad. answer
fault spoof-addr.f.bad. answer
fault drop-once.f.bad. answer
fault malformed-once.f.bad. answer

# truncated: the right answer, which has to come over TCP
check "truncated came back over TCP" grep -q "truncated.f.bad. A .*proto=tcp" "$work/bad.log"
check "tcp-close tried TCP" grep -q "tcp-close.f.bad. A .*proto=tcp" "$work/bad.log"

# big: 100 A records, via TC and TCP upstream, to a TCP client
ask big.f.bad. A +tcp
n=$(grep -c "IN[[:space:]]A[[:space:]]198.18" <<< "$out" || true)
echo "  big.f.bad. A: $status, $n records in ${elapsed} ms, $nq upstream queries"
check "big: 100 records over TCP ($n)" [ "$n" = 100 ]
check "big: <= 200 upstream queries ($nq)" [ "$nq" -le 200 ]

# fanout: a glueless referral to 20 NS names: at most 5 of them are looked up
fault www.fan.bad. servfail
nslog() { cat "$work"/root.log "$work"/bad.log "$work"/victim.log | awk '{print tolower($2)}' |
    grep -E '^ns[0-9]+\.fanout\.bad\.$' || true; }
lookups=$(nslog | wc -l)
names=$(nslog | sort -u | wc -l)
echo "  fanout: $names NS names looked up ($lookups queries)"
check "fanout: <= 5 NS names looked up ($names)" [ "$names" -le 5 ]

# nothing wrong cached
ask www.victim. A
check "out-of-bailiwick: www.victim. from its own server ($(answers))" [ "$(answers)" = 192.0.2.200 ]
check "out-of-bailiwick: www.victim. was asked to 127.0.9.60" \
    grep -qi "www.victim. A .*to=127.0.9.60" "$work/victim.log"
ask . NS
check "root NS set untouched" [ "$(grep -ci 'victim' <<< "$out" || true)" = 0 ]
ask ns.victim.example. A
check "forged ns.victim.example. not served ($status)" [ "$(grep -c '192.0.2.67' <<< "$out" || true)" = 0 ]
ask www.bad. A
check "an honest name in bad. still resolves after the faults ($(answers))" [ "$(answers)" = 192.0.2.1 ]
ask again.ok.f.bad. A
check "and a new one under f.bad. ($(answers))" [ "$(answers)" = 192.0.2.99 ]
# spoofed replies left nothing: the names now answer SERVFAIL again (negative answers of
# SERVFAIL are not cached as data) or, when asked again, never a wrong record
ask wrong-question.f.bad. A
check "wrong-question: no data from the other name ($status)" [ "$(answers)" = "" -o "$(answers)" = 192.0.2.99 ]

check "resolverd still running" kill -0 "$pid"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
check "resolverd exit 0 on SIGTERM (rc=$rc)" [ "$rc" = 0 ]
if grep -qE "ERROR: AddressSanitizer|runtime error:" "$work/resolverd.log"; then
    bad "sanitizer report in resolverd's log"; grep -A20 -E "AddressSanitizer|runtime error" "$work/resolverd.log" | head -40
fi
echo "runtime: $((SECONDS - t0))s"
tally_end
