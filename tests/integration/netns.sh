#!/usr/bin/env bash
# Runs a command in a fresh network namespace of its own (loopback only), so that tests can
# neither reach the outside nor collide with anything on the host. As real root a plain
# network namespace is enough (and privilege-dropping can be tested); otherwise an
# unprivileged user namespace maps us to root inside. A PID namespace of its own too (with
# its own /proc): the command is its init, so when it ends, however it ends (a failed check,
# a ctest timeout killing unshare: --kill-child), every daemon it started (NSD forks into the
# background, test servers) ends with it instead of lingering on the host.
set -euo pipefail
if [ "${RD_IN_NETNS:-0}" = 1 ]; then exec "$@"; fi
export RD_IN_NETNS=1 RD_LAB_NETNS=1
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
    exec unshare -n --pid --fork --kill-child --mount-proc bash -c 'ip link set lo up && exec "$@"' netns "$@"
fi
exec unshare -rn --pid --fork --kill-child --mount-proc bash -c 'ip link set lo up && exec "$@"' netns "$@"
