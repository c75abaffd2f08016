#!/usr/bin/env bash
# Runs a command in a fresh network namespace of its own (loopback only), so that tests can
# neither reach the outside nor collide with anything on the host. As real root a plain
# network namespace is enough (and privilege-dropping can be tested); otherwise an
# unprivileged user namespace maps us to root inside.
set -euo pipefail
if [ "${RD_IN_NETNS:-0}" = 1 ]; then exec "$@"; fi
export RD_IN_NETNS=1 RD_LAB_NETNS=1
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
    exec unshare -n bash -c 'ip link set lo up && exec "$@"' netns "$@"
fi
exec unshare -rn bash -c 'ip link set lo up && exec "$@"' netns "$@"
