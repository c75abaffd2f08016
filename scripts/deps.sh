#!/usr/bin/env bash
# Installs the Debian 12 packages a command needs, only when something is missing.
# Usage: scripts/deps.sh build|test|fuzz|bench [EXTRA-PACKAGE...]
set -euo pipefail
build=(build-essential cmake pkg-config libcriterion-dev libuv1-dev libwolfssl-dev libnghttp2-dev)
test=(iproute2 util-linux bind9-dnsutils knot-dnsutils ldnsutils bind9-utils nsd python3 unbound dnsperf
      knot-resolver tshark openssl)
fuzz=(clang-14 libclang-rt-14-dev)
bench=(libknot-dev dnsperf nsd unbound knot-resolver pdns-recursor bind9-dnsutils)
want=("${build[@]}")
case "${1:-build}" in
build) ;;
test) want+=("${test[@]}") ;;
fuzz) want+=("${fuzz[@]}") ;;
bench) want+=("${bench[@]}") ;;
*) echo "usage: $0 build|test|fuzz|bench [EXTRA-PACKAGE...]" >&2; exit 2 ;;
esac
shift || true
want+=("$@")
missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
fi
# Packages such as nsd start a system service on install; block that so nothing but our own
# instances ever runs (and nothing reaches the real root servers).
prc=/usr/sbin/policy-rc.d
created=0
if [ ! -e "$prc" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$prc" && chmod +x "$prc" && created=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
[ "$created" = 1 ] && rm -f "$prc"
exit 0
