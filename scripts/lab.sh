#!/usr/bin/env bash
# Watch a real iterative resolution offline: starts, inside a new network namespace of its
# own (nothing can leave it), the lab's NSD servers (zones/lab, tests/lab/start.sh) and
# resolverd pointed at the lab's root, then gives you a shell there. Try:
#   dig @127.0.0.1 www.example.lab          # root -> lab. -> example.lab., answered
#   dig @127.0.0.1 chain.example.lab        # a CNAME chain across three zones
#   dig @127.0.0.1 www.noglue.lab           # NS names in another zone: resolved first
#   dig @127.0.0.2 +norec www.example.lab   # ask the lab root yourself (a referral)
#   tail -f "$RD_LAB_DIR/resolverd.log"       # what resolverd says (-v for debug)
# Leave the shell (exit) to stop everything. Usage: scripts/lab.sh [COMMAND...] runs
# COMMAND instead of the shell.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "${RD_IN_NETNS:-0}" != 1 ]; then
    "$root/scripts/deps.sh" test
    cmake -S "$root" -B "$root/build-run" -DRD_TESTS=OFF >/dev/null
    cmake --build "$root/build-run" -j"$(nproc)" --target resolverd >/dev/null
    exec "$root/tests/integration/netns.sh" "$0" "$@"
fi
export RD_LAB_DIR
RD_LAB_DIR=$(mktemp -d /tmp/rd-lab.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    "$root/tests/lab/stop.sh" "$RD_LAB_DIR/lab" >/dev/null 2>&1 || true
    rm -rf "$RD_LAB_DIR"
}
trap cleanup EXIT
echo "starting the lab's name servers (NSD on 127.0.x.y) ..."
RD_LAB_NETNS=1 "$root/tests/lab/start.sh" "$RD_LAB_DIR/lab" > "$RD_LAB_DIR/lab.log" 2>&1 || {
    cat "$RD_LAB_DIR/lab.log"; exit 1; }
cat > "$RD_LAB_DIR/resolver.conf" <<CONF
server:
    listen: 127.0.0.1@53
    listen: ::1@53
    root-hints: $root/zones/lab/root.hints
    allow-loopback-upstreams: yes
CONF
"$root/build-run/resolverd" -c "$RD_LAB_DIR/resolver.conf" > "$RD_LAB_DIR/resolverd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q ready "$RD_LAB_DIR/resolverd.log" && break; sleep 0.05; done
echo "resolverd is listening on 127.0.0.1 and ::1 (log: $RD_LAB_DIR/resolverd.log)"
if [ $# -gt 0 ]; then
    "$@"
else
    echo "try: dig @127.0.0.1 www.example.lab    (exit to stop the lab)"
    PS1='[lab] \w\$ ' bash --norc -i || true
fi
