#!/usr/bin/env bash
# What a service manager relies on: sd_notify readiness (READY, RELOADING, STOPPING over
# $NOTIFY_SOCKET, as systemd's Type=notify), and privileges dropped to `user:` after the
# sockets are bound (only checkable as real root).
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$RD_SRC/tests/integration/lib.sh"
user=nobody
can_drop=0
if [ "$(id -u)" = 0 ] && [ "$(cat /proc/self/uid_map | awk '{print $2}')" = 0 ] && id nobody >/dev/null 2>&1; then
    can_drop=1
fi
cat > "$work/svc.conf" <<CONF
server:
    listen: 127.0.0.1@53
    threads: 1
$( [ $can_drop = 1 ] && echo "    user: $user" )
zone:
    name: home.lan
    file: $RD_SRC/zones/local/home.lan.zone
CONF
chmod 755 "$work"
out=$(RD=$RD_BUILD/resolverd CONF=$work/svc.conf SOCK=$work/notify CAN_DROP=$can_drop /usr/bin/python3 - <<'PY'
import os, socket, subprocess, sys
sock = os.environ["SOCK"]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock)
os.chmod(sock, 0o777)  # the daemon may have dropped to another user before it notifies
s.settimeout(5)
env = dict(os.environ, NOTIFY_SOCKET=sock)
p = subprocess.Popen([os.environ["RD"], "-c", os.environ["CONF"]], env=env,
                     stderr=subprocess.DEVNULL)
msgs = [s.recv(100).decode()]
if os.environ["CAN_DROP"] == "1":
    uid = [l.split()[1] for l in open(f"/proc/{p.pid}/status") if l.startswith("Uid:")][0]
    print("uid", uid)
ans = subprocess.run(["dig", "@127.0.0.1", "+short", "router.home.lan"], capture_output=True,
                     text=True).stdout.strip()
print("answer", ans)
p.send_signal(1)
msgs += [s.recv(100).decode(), s.recv(100).decode()]
p.terminate()
msgs.append(s.recv(100).decode())
print("notify", ",".join(msgs))
print("rc", p.wait())
PY
)
echo "$out"
grep -q "notify READY=1,RELOADING=1,READY=1,STOPPING=1" <<< "$out" && ok || bad "sd_notify sequence"
grep -q "answer 192.168.1.1" <<< "$out" && ok || bad "answers while supervised"
grep -q "rc 0" <<< "$out" && ok || bad "exit 0"
if [ $can_drop = 1 ]; then
    grep -q "uid $(id -u $user)" <<< "$out" && ok || bad "privileges dropped to $user"
else
    echo "note: not real root here, privilege drop not checked"
fi
tally_end
