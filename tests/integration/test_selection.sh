#!/usr/bin/env bash
# Upstream server selection by the real daemon (issue 5: "Integration tests against the lab
# for each behaviour"), checked on badauth's query logs (tests/peers/README.md: one line per
# query with the address it came to). badauth plays a root of our own
# (tests/integration/data/sel-root.zone, which maps every zone and address) and, one
# instance per behaviour, the servers of its children:
#   1. every upstream query carries EDNS with a 1232-octet UDP size and DO=1 (RFC 6891,
#      DNS flag day 2020; RD_RES_EDNS_UDP), and IDs and source ports spread (RFC 5452);
#   2. smoothed RTT (src/resolve/infra.c): of three servers of rtt., after a warm-up most
#      queries go to the fast one, the slow ones still get an exploring query now and then
#      (RD_RES_EXPLORE_PCT), and once the fast one turns slow it loses its traffic;
#   3. timeouts and hold-down: a dead server of hold. is tried, times out, the live one
#      answers within one timeout (RD_RES_TIMEOUT_MS); after RD_RES_HOLD_TIMEOUTS timeouts
#      it gets no query at all (not even exploring ones) for RD_RES_HOLD_MS, then it is
#      probed again;
#   4. limits: of the 20 glued NS of wide. (all dead) at most 13 addresses are asked
#      (RD_RES_NS_PER_CUT) and the client gets SERVFAIL within the 10 s limit
#      (RD_RES_TIME_MAX_MS); 20 servers of lame. that all fail fast cost <= 32 queries
#      (RD_RES_QUERIES_PER_CUT), and nested NS-name lookups through them (deep.) <= 200 in
#      all (RD_RES_QUERIES_MAX);
#   5. address family: the NS of dual. have a live IPv4 and a dead IPv6 address; after the
#      first IPv6 timeouts the traffic goes over IPv4, and servers never seen before
#      (fresh1-10.) are asked over IPv4 first (RD_RES_FAMILY_FAIL).
# Distinct names per query (a wildcard in every child zone), so the cache never answers.
# One worker (threads: 1): the infrastructure table is per worker. Not covered: the decay of
# an idle server's RTT (RD_RES_RTT_DECAY_MS is 60 s: too long here; no unit test has it yet).
# Runs inside tests/integration/netns.sh (loopback only). Prints "N passed, M failed".
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
# It adds addresses to lo: only in a namespace of its own.
[ "${RD_IN_NETNS:-}" = 1 ] || { echo "run it through tests/integration/netns.sh"; exit 1; }
data=$RD_SRC/tests/integration/data
work=$(mktemp -d)
pids=() pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    # badauth ends cleanly on SIGTERM (and by itself after BADAUTH_MAX_SECONDS)
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "${RD_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
. "$RD_SRC/tests/integration/lib.sh"
[ -n "${RD_KEEP:-}" ] && echo "work dir: $work"
t0=$SECONDS
ms() { date +%s%3N; }
# shellcheck disable=SC2034 # read by start_badauth (lib.sh): the peers stop by themselves
BADAUTH_MAX_SECONDS=120

# The IPv6 addresses of dual. and fresh1-10. (the lab's ULA prefix, on lo like tests/lab).
for a in 31 32 33 34 {41..50}; do ip -6 addr add "fd00:1ab::$a/128" dev lo nodad; done

# child ZONE: writes $work/ZONE.zone from the delegation in sel-root.zone (NS and glue), with
# an SOA and a wildcard A, so that every name under ZONE exists.
child() {
    local z=$1
    {
        printf '$ORIGIN .\n$TTL 3600\n%s. IN SOA %s hostmaster.%s. 1 3600 900 604800 300\n' \
            "$z" "$(awk -v z="$z." '$1 == z && $3 == "NS" {print $4; exit}' "$data/sel-root.zone")" "$z"
        awk -v z="$z." '$1 == z && $3 == "NS" || $1 ~ ("\\." z "$") && ($3 == "A" || $3 == "AAAA")' \
            "$data/sel-root.zone"
        printf '*.%s. IN A 192.0.2.1\n' "$z"
    } > "$work/$z.zone"
}
for z in rtt hold wide lame dual fresh{1..10}; do child $z; done
fresh_zones=()
for i in {1..10}; do fresh_zones+=(-z "fresh$i.=$work/fresh$i.zone"); done
# badauth NAME ARGS...: start_badauth (lib.sh), its stderr file made first so that its
# readiness poll does not complain about a file the background job has not opened yet
badauth() { : > "$work/$1.err"; start_badauth "$@"; }
listen() { local a; for a in "$@"; do printf -- '-l %s ' "$a"; done; }
# lame.: x.lame. costs each server two queries (TC over UDP, then a TCP connection closed
# without an answer), so that 13 servers could take 52; every other name gets SERVFAIL.
lame_rules=(-r 'x.lame. * tcp-close' -r '* * servfail')

badauth root -l 127.0.10.1 -z .="$data/sel-root.zone"
badauth rtt1 -l 127.0.10.11 -z rtt.="$work/rtt.zone"
rtt1_pid=${pids[-1]}
badauth rtt2 -l 127.0.10.12 -z rtt.="$work/rtt.zone" -r '* * delay 100'
badauth rtt3 -l 127.0.10.13 -z rtt.="$work/rtt.zone" -r '* * delay 100'
badauth dead -l 127.0.10.21 -z hold.="$work/hold.zone" -r '* * drop'
badauth live -l 127.0.10.22 -z hold.="$work/hold.zone" \
    -r 'sf.hold. * servfail' -r '*.sf.hold. * servfail'
# shellcheck disable=SC2046 # one -l per address
badauth wide1 $(listen 127.0.10.{101..110}) -z wide.="$work/wide.zone" -r '* * drop'
# shellcheck disable=SC2046
badauth wide2 $(listen 127.0.10.{111..120}) -z wide.="$work/wide.zone" -r '* * drop'
# shellcheck disable=SC2046
badauth lame1 $(listen 127.0.10.{151..160}) -z lame.="$work/lame.zone" "${lame_rules[@]}"
# shellcheck disable=SC2046
badauth lame2 $(listen 127.0.10.{161..170}) -z lame.="$work/lame.zone" "${lame_rules[@]}"
# shellcheck disable=SC2046
badauth dual4 $(listen 127.0.10.{31..34}) -z dual.="$work/dual.zone"
# shellcheck disable=SC2046
badauth dual6 $(listen fd00:1ab::{31..34}) -z dual.="$work/dual.zone" -r '* * drop'
# shellcheck disable=SC2046
badauth fresh4 $(listen 127.0.10.{41..50}) "${fresh_zones[@]}"
# shellcheck disable=SC2046
badauth fresh6 $(listen fd00:1ab::{41..50}) "${fresh_zones[@]}" -r '* * drop'

cat > "$work/resolverd.conf" <<EOF
server:
    listen: 127.0.0.1@53
    threads: 1
    root-hints: $data/sel-root.hints
    allow-loopback-upstreams: yes
EOF
"$RD_BUILD/resolverd" -c "$work/resolverd.conf" > "$work/resolverd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q ready "$work/resolverd.log" && break; sleep 0.05; done

# nlines LOG...: queries logged so far (a mark); since MARK LOG: the queries logged after it
nlines() { cat "$@" | wc -l; }
since() { tail -n +$(($1 + 1)) "$2"; }
# count MARK LOG: queries after MARK
count() { since "$1" "$2" | wc -l; }
settle() { sleep 0.1; } # badauth's logs are line-buffered; let the last lines land
out='' status='' elapsed=''
# ask NAME [TYPE]: one client query; sets out, status and elapsed (ms)
ask() {
    local t
    t=$(ms)
    out=$(dig @127.0.0.1 +tries=1 +timeout=15 +nocookie "$1" "${2:-A}" 2>&1 || true)
    elapsed=$(($(ms) - t))
    status=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<< "$out" | head -1)
    [ -n "$status" ] || status=TIMEOUT
    settle
}
# batch PREFIX ZONE FROM TO: one client query per name PREFIX{FROM..TO}.ZONE, one after the
# other (dig -f); sets answered (how many got the wildcard's address)
answered=0
batch() {
    local i f=$work/batch
    for i in $(seq "$3" "$4"); do echo "$1$i.$2 A"; done > "$f"
    dig @127.0.0.1 +tries=1 +timeout=8 +nocookie +noall +answer -f "$f" > "$f.out" 2>&1 || true
    answered=$(grep -c "IN[[:space:]]A[[:space:]]192\.0\.2\.1$" "$f.out" || true)
    settle
}

echo "== 3. timeouts and hold-down (hold.: dead 127.0.10.21, live .22)"
# Both servers are unknown at first (equal, random): query until one goes to the dead server.
hit=0
for i in $(seq 1 20); do
    ask h$i.hold.
    if [ "$(nlines "$work/dead.log")" -gt 0 ]; then hit=$i; break; fi
done
echo "  the dead server was tried at query $hit: $status in $elapsed ms"
check "dead server tried within 20 queries (both unknown: random)" [ "$hit" -gt 0 ]
check "the query that met the dead server was answered ($status)" [ "$status" = NOERROR ]
check "after its timeout the live server answered within one timeout: $elapsed ms (400..1200)" \
    [ "$elapsed" -ge 380 -a "$elapsed" -lt 1200 ]
check "that query went to the live server after the dead one" \
    grep -qi " h$hit\.hold\. A .*to=127\.0\.10\.22#53" "$work/live.log"
# A name the live server answers with SERVFAIL: the dead one is tried in every round of the
# request, until it has timed out RD_RES_HOLD_TIMEOUTS (3) times in a row.
ask x.sf.hold.
nd=$(nlines "$work/dead.log")
echo "  x.sf.hold.: $status in $elapsed ms; the dead server has had $nd queries"
check "sf.hold.: SERVFAIL when the live server fails and the dead is silent ($status)" \
    [ "$status" = SERVFAIL ]
check "the dead server has timed out at least 3 times ($nd)" [ "$nd" -ge 3 ]
t_hold=$(ms) # hold-down lasts RD_RES_HOLD_MS (30 s) from the last timeout, before now
mark_dead=$nd mark_live=$(nlines "$work/live.log")
# Held down: 200 names, none to the dead server. Without a hold-down each would go there by
# exploration with probability ~2.5% (RD_RES_EXPLORE_PCT 5 among 2): 200 queries, ~5.
batch hd hold. 1 200
nd=$(count "$mark_dead" "$work/dead.log") nl=$(count "$mark_live" "$work/live.log")
echo "  held down: 200 queries: $answered answered; dead $nd, live $nl"
check "held down: every query answered ($answered of 200)" [ "$answered" = 200 ]
check "held down: no query to the dead server for a while ($nd)" [ "$nd" = 0 ]
check "held down: the live server got them all ($nl)" [ "$nl" -ge 200 ]
check "held down: still within the hold period ($(($(ms) - t_hold)) ms < 25000)" \
    [ $(($(ms) - t_hold)) -lt 25000 ]

echo "== 2. selection by smoothed RTT (rtt.: fast .11, slow .12 .13 at 100 ms)"
# Warm-up: an unknown server scores 0 and the fast one ~1 ms, within the 50 ms band of each
# other, so an unknown one is picked with odds >= 1/3 per query until measured.
batch w rtt. 1 30
m1=$(nlines "$work/rtt1.log") m2=$(nlines "$work/rtt2.log") m3=$(nlines "$work/rtt3.log")
check "rtt warm-up: every server measured at least once ($m1, $m2, $m3)" \
    [ "$m1" -ge 1 -a "$m2" -ge 1 -a "$m3" -ge 1 ]
batch r rtt. 1 300
n1=$(count "$m1" "$work/rtt1.log") n2=$(count "$m2" "$work/rtt2.log") n3=$(count "$m3" "$work/rtt3.log")
echo "  300 queries after the warm-up: fast $n1, slow $n2 + $n3; $answered answered"
check "rtt: every query answered ($answered of 300)" [ "$answered" = 300 ]
check "rtt: at least 80% to the fastest server ($n1 of 300)" [ "$n1" -ge 240 ]
# 5% of choices explore among the 3: ~10 of 300 to a slow one; none would be a bug, and the
# chance of none with the feature is (1 - 0.05 * 2/3)^300 < 0.0001.
check "rtt: the slow servers still get exploring queries ($((n2 + n3)))" [ $((n2 + n3)) -ge 1 ]
check "rtt: but only a few ($((n2 + n3)) <= 60)" [ $((n2 + n3)) -le 60 ]
# The fast server turns slow (250 ms, still within the 400 ms timeout): a new badauth on its
# address. Its smoothed RTT climbs past the others' (100 ms + the 50 ms band) in ~7 samples.
kill "$rtt1_pid"
wait "$rtt1_pid" 2> /dev/null || true
badauth rtt1b -l 127.0.10.11 -z rtt.="$work/rtt.zone" -r '* * delay 250'
batch s rtt. 1 25
m1=$(nlines "$work/rtt1b.log") m2=$(nlines "$work/rtt2.log") m3=$(nlines "$work/rtt3.log")
echo "  the fast server turned slow: 25 queries to adapt, $m1 of them to it"
check "rtt: the server turned slow was still asked while it looked fast ($m1)" [ "$m1" -ge 1 ]
batch t rtt. 1 40
n1=$(count "$m1" "$work/rtt1b.log") n2=$(count "$m2" "$work/rtt2.log") n3=$(count "$m3" "$work/rtt3.log")
echo "  then 40 queries: formerly fast $n1, others $n2 + $n3; $answered answered"
check "rtt: every query answered after the change ($answered of 40)" [ "$answered" = 40 ]
check "rtt: the server that turned slow lost its traffic ($n1 of 40 <= 8)" [ "$n1" -le 8 ]
check "rtt: the others took it ($((n2 + n3)) >= 32)" [ $((n2 + n3)) -ge 32 ]

echo "== 5. address family (dual.: IPv4 live, IPv6 dead)"
batch d dual. 1 20
m4=$(nlines "$work/dual4.log") m6=$(nlines "$work/dual6.log")
echo "  first 20 queries: IPv4 $m4, IPv6 $m6; $answered answered"
check "dual: the first 20 answered ($answered)" [ "$answered" = 20 ]
check "dual: the dead IPv6 addresses were tried ($m6)" [ "$m6" -ge 1 ]
batch e dual. 1 40
n4=$(count "$m4" "$work/dual4.log") n6=$(count "$m6" "$work/dual6.log")
echo "  then 40 queries: IPv4 $n4, IPv6 $n6; $answered answered"
check "dual: all answered ($answered of 40)" [ "$answered" = 40 ]
check "dual: every one answered over IPv4 ($n4 >= 40)" [ "$n4" -ge 40 ]
# Exploring: 5% of choices, half of them IPv6: ~1 of 40. Without a preference for what
# works, half of the choices (~20) would go to the dead IPv6 addresses.
check "dual: after the first failures IPv6 gets at most exploring queries ($n6 <= 6)" \
    [ "$n6" -le 6 ]
# Servers never seen (fresh1-10.): without a family preference the first choice between the
# unknown IPv4 and IPv6 address of each is a coin toss; with it, IPv4 unless exploring (5% of
# choices, among both: ~2.5%).
v4first=0
for i in {1..10}; do
    ask "q.fresh$i."
    # IPv4 first: the answer came from the IPv4 address and the IPv6 one was not asked
    if [ "$status" = NOERROR ] && ! grep -qi "\.fresh$i\. " "$work/fresh6.log"; then
        v4first=$((v4first + 1))
    fi
done
echo "  fresh1-10.: $v4first of 10 asked over IPv4 only"
# With the preference, 3 or more of 10 over IPv6 first has odds ~0.002; without it (a coin
# toss each), 8 or more over IPv4 has odds ~0.05.
check "fresh servers: IPv4 chosen first ($v4first of 10 >= 8)" [ "$v4first" -ge 8 ]

echo "== 4. limits (wide.: 20 dead NS; lame.: 20 failing NS)"
# every badauth query log (not resolverd's)
all=()
for f in "$work"/*.log; do [ "$f" = "$work/resolverd.log" ] || all+=("$f"); done
n_all=$(nlines "${all[@]}") mw1=$(nlines "$work/wide1.log") mw2=$(nlines "$work/wide2.log")
ask x.wide.
nw=$(( $(count "$mw1" "$work/wide1.log") + $(count "$mw2" "$work/wide2.log") ))
addrs=$( (since "$mw1" "$work/wide1.log"; since "$mw2" "$work/wide2.log") |
    sed -n 's/.* to=\([^ ]*\) .*/\1/p' | sort -u | wc -l)
echo "  x.wide.: $status in $elapsed ms; $nw queries to $addrs addresses"
check "wide: SERVFAIL ($status)" [ "$status" = SERVFAIL ]
check "wide: at most 13 server addresses of 20 (RD_RES_NS_PER_CUT): $addrs" [ "$addrs" -le 13 ]
check "wide: more than one asked ($addrs)" [ "$addrs" -ge 2 ]
# 13 timeouts of 400 ms, then a second round at 800 ms each would take ~15.6 s: the 10 s
# limit (RD_RES_TIME_MAX_MS) must end it first, with an EDE.
check "wide: within the 10 s limit ($elapsed ms < 11000)" [ "$elapsed" -lt 11000 ]
check "wide: SERVFAIL with an EDE" grep -q "EDE:" <<< "$out"
check "wide: <= 32 queries at that cut ($nw)" [ "$nw" -le 32 ]
check "wide: <= 200 queries in all ($(( $(nlines "${all[@]}") - n_all )))" \
    [ $(( $(nlines "${all[@]}") - n_all )) -le 200 ]
n_all=$(nlines "${all[@]}") ml1=$(nlines "$work/lame1.log") ml2=$(nlines "$work/lame2.log")
ask x.lame.
nl=$(( $(count "$ml1" "$work/lame1.log") + $(count "$ml2" "$work/lame2.log") ))
addrs=$( (since "$ml1" "$work/lame1.log"; since "$ml2" "$work/lame2.log") |
    sed -n 's/.* to=\([^ ]*\) .*/\1/p' | sort -u | wc -l)
echo "  x.lame.: $status in $elapsed ms; $nl queries to $addrs addresses"
check "lame: SERVFAIL ($status)" [ "$status" = SERVFAIL ]
check "lame: at most 13 server addresses of 20: $addrs" [ "$addrs" -le 13 ]
check "lame: <= 32 queries at that cut (RD_RES_QUERIES_PER_CUT): $nl" [ "$nl" -le 32 ]
check "lame: <= 200 queries in all ($(( $(nlines "${all[@]}") - n_all )))" \
    [ $(( $(nlines "${all[@]}") - n_all )) -le 200 ]
check "lame: the EDE names the limit" grep -qi "EDE:.*limit" <<< "$out"
# deep.: its 6 glueless NS names are in mid., whose 13 glueless NS names are under lame.
# (SERVFAIL from all 20 servers): every NS-name lookup nests one that costs ~26 queries, far
# more than 200 in all without the limit.
n_all=$(nlines "${all[@]}")
ask x.deep.
nd=$(( $(nlines "${all[@]}") - n_all ))
echo "  x.deep.: $status in $elapsed ms; $nd queries in all"
check "deep: SERVFAIL ($status)" [ "$status" = SERVFAIL ]
check "deep: <= 200 upstream queries for one client query (RD_RES_QUERIES_MAX): $nd" \
    [ "$nd" -le 200 ]
check "deep: more than one cut's worth (nested lookups really ran): $nd > 32" [ "$nd" -gt 32 ]
check "deep: within the 10 s limit ($elapsed ms)" [ "$elapsed" -lt 11000 ]
check "deep: the EDE names the limit" grep -qi "EDE:.*limit" <<< "$out"

echo "== 3. (end) the dead server probed again after the hold-down"
wait_ms=$((t_hold + 33000 - $(ms)))
[ "$wait_ms" -gt 0 ] && sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
mark_dead=$(nlines "$work/dead.log")
for b in 1 2 3 4 5 6 7 8; do
    batch p$b- hold. 1 50
    [ "$(count "$mark_dead" "$work/dead.log")" -gt 0 ] && break
done
nd=$(count "$mark_dead" "$work/dead.log")
echo "  after the hold-down: $nd queries to the dead server within $((b * 50)) queries"
check "the dead server is probed again after the hold-down ($nd)" [ "$nd" -ge 1 ]

echo "== 1. EDNS on every upstream query"
cat "${all[@]}" > "$work/all.q"
nq=$(wc -l < "$work/all.q")
n_edns=$(grep -c " edns=yes .* udpsize=1232 " "$work/all.q" || true)
n_do=$(awk '$4 ~ /(^|,)do(,|$)/' "$work/all.q" | wc -l)
echo "  $nq upstream queries: $n_edns with EDNS size 1232, $n_do with DO=1"
check "EDNS with UDP size 1232 on every upstream query ($n_edns of $nq)" [ "$n_edns" = "$nq" ]
check "DO=1 on every upstream query ($n_do of $nq)" [ "$n_do" = "$nq" ]
check "many queries looked at ($nq >= 500)" [ "$nq" -ge 500 ]
# RFC 5452 s9.2: random IDs and source ports (test_cache_ttl.sh checks that none repeat on a
# few queries; here, over ~1000, birthday repeats are expected: < 5% of them).
ids=$(sed -n 's/.* id=\([0-9]*\) .*/\1/p' "$work/all.q" | sort -u | wc -l)
ports=$(awk '{n = split($1, a, "#"); print a[n]}' "$work/all.q" | sort -u | wc -l)
echo "  $ids distinct IDs, $ports distinct source ports"
check "IDs spread: $ids distinct of $nq (>= 95%)" [ $((ids * 100)) -ge $((nq * 95)) ]
check "source ports spread: $ports distinct of $nq (>= 95%)" [ $((ports * 100)) -ge $((nq * 95)) ]

check "resolverd still running" kill -0 "$pid"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
check "resolverd exit 0 on SIGTERM (rc=$rc)" [ "$rc" = 0 ]
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$work/resolverd.log"; then
    bad "sanitizer report in resolverd's log"
    grep -A20 -E "(Address|Leak)Sanitizer|runtime error" "$work/resolverd.log" | head -40
fi
# and in badauth's (a sanitizer build of the peers reports at exit): stop them first
for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
pids=()
if grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$work"/*.err; then
    bad "sanitizer report in a badauth log (above)"
fi
echo "runtime: $((SECONDS - t0))s"
tally_end
