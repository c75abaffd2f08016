#!/usr/bin/env bash
# Runs a command in a fresh network namespace of its own (loopback only), so that tests can
# neither reach the outside nor collide with anything on the host. Unprivileged user
# namespaces are used when we are not root.
set -euo pipefail
if [ "${RD_IN_NETNS:-0}" = 1 ]; then exec "$@"; fi
export RD_IN_NETNS=1 RD_LAB_NETNS=1
exec unshare -rn bash -c 'ip link set lo up && exec "$@"' netns "$@"
