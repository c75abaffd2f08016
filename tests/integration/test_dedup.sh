#!/usr/bin/env bash
# Identical questions in flight are sent upstream once and answered to every waiting client
# (DESIGN.md step 5): 20 clients ask at once for a name whose server answers after 300 ms
# (badauth's delay fault); badauth's query log must show one upstream query for it (a few at
# most), and every client must get the answer with its own ID and case.
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
data=$RD_SRC/tests/integration/data
work=$(mktemp -d)
pids=() pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
. "$RD_SRC/tests/integration/lib.sh"
BADAUTH_MAX_SECONDS=60
start_badauth root -l 127.0.9.1 -z .="$data/faults-root.zone"
start_badauth bad -l 127.0.9.53 -l 127.0.9.54 -z bad.="$data/faults-bad.zone" \
    -s "$RD_SRC/tests/peers/resolver-faults.scenario"
cat > "$work/resolverd.conf" <<CONF
server:
    listen: 127.0.0.1@53
    threads: 1
    root-hints: $data/faults-root.hints
    allow-loopback-upstreams: yes
CONF
"$RD_BUILD/resolverd" -c "$work/resolverd.conf" > "$work/resolverd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q ready "$work/resolverd.log" && break; sleep 0.05; done
# warm the delegation so that only the final question is in flight together
dig @127.0.0.1 +short warm.f.bad A > /dev/null
digs=()
for i in $(seq 20); do
    name=delay.f.bad
    [ $((i % 2)) = 0 ] && name=DeLaY.F.BaD
    dig @127.0.0.1 +tries=1 +timeout=5 +noall +answer "$name" A > "$work/c$i" 2>&1 &
    digs+=($!)
done
for d in "${digs[@]}"; do wait "$d" || true; done
sleep 0.2
answered=0 casekept=0
for i in $(seq 20); do
    grep -q "192.0.2.99" "$work/c$i" && answered=$((answered + 1))
    if [ $((i % 2)) = 0 ]; then grep -q "^DeLaY.F.BaD" "$work/c$i" && casekept=$((casekept + 1)); fi
done
up=$(grep -ci "delay\.f\.bad\." "$work/bad.log" || true)
echo "20 clients: $answered answered ($casekept of 10 kept their case); upstream queries: $up"
[ "$answered" = 20 ] && ok || bad "every client answered ($answered)"
[ "$casekept" = 10 ] && ok || bad "each waiter gets its own question case ($casekept)"
[ "$up" -ge 1 ] && [ "$up" -le 3 ] && ok || bad "identical questions sent once (upstream $up)"
kill -TERM $pid; rc=0; wait $pid || rc=$?; pid=
[ "$rc" = 0 ] && ok || bad "exit 0 (rc=$rc)"
tally_end
