#!/usr/bin/env bash
# Builds Debian 12's wolfSSL (the same source package and patches as libwolfssl-dev,
# configured like debian/rules: --enable-distro --enable-pkcs11) with x86-64 assembly
# added: --enable-intelasm --enable-aesni --enable-sp --enable-sp-asm. Debian builds it
# without assembly (DEPENDENCIES.md: ECDSA P-256 sign ~14.6k/s, X25519 ~18k/s, AES-GCM
# ~137 MB/s per core here). Installs into a local prefix; the system package is untouched
# and the default build keeps using it. Optional: see bench/README.md, "bench-tls".
#
# Usage: scripts/wolfssl-asm.sh [PREFIX]     (default: build-wolfssl-asm/prefix)
# Then build resolverd against it (its own build dir; CMake records the library's directory
# as the binary's RPATH, so no LD_LIBRARY_PATH is needed):
#   PKG_CONFIG_PATH=$PWD/build-wolfssl-asm/prefix/lib/pkgconfig \
#       cmake -S . -B build-asm -DCMAKE_BUILD_TYPE=Release -DRD_TESTS=OFF
#   cmake --build build-asm -j2 --target resolverd
#   ldd build-asm/resolverd | grep wolfssl      # must name the prefix
#   RD_BIN=$PWD/build-asm/resolverd bench/bench-tls.sh --servers resolverd,unbound,kresd
# bench/bench-tls.sh also links its handshake client (bench/tls/hsclient.c) against this
# prefix when it exists: its own crypto then costs about what the fastest server's does.
# The release build stays on Debian's wolfSSL (security updates through apt); this is the
# documented performance build (bench/README.md, "bench-tls").
#
# The source comes from Debian's mirror through apt with a private deb-src list and private
# state in the work dir (build-wolfssl-asm/apt): the system's apt configuration is not
# changed. Needs autoconf, automake, libtool (installed by scripts/deps.sh if missing, as root).
set -euo pipefail
cd "$(dirname "$(realpath "$0")")/.."
top=$PWD/build-wolfssl-asm
prefix=${1:-$top/prefix}
mkdir -p "$top" "$prefix"
prefix=$(realpath "$prefix")
scripts/deps.sh build autoconf automake libtool dpkg-dev

# 1. the source package, with a private apt state (no change to /etc/apt)
apt_dir=$top/apt
mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$top/src"
cat > "$apt_dir/parts/debian-src.sources" << 'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$apt_dir/parts"
    -o Dir::State::Lists="$apt_dir/lists" -o APT::Sandbox::User=root)
# the version the system's libwolfssl-dev has, so headers and behaviour match but for asm
want=$(dpkg-query -W -f='${Version}' libwolfssl-dev 2>/dev/null || true)
if ! ls "$top"/src/wolfssl_*.dsc > /dev/null 2>&1; then
    apt-get "${apt_opts[@]}" update -qq
    (cd "$top/src" && apt-get "${apt_opts[@]}" source --download-only "wolfssl${want:+=$want}")
fi
dsc=$(find "$top/src" -maxdepth 1 -name 'wolfssl_*.dsc' | sort | tail -1)
srcdir=$top/src/wolfssl
if [ ! -d "$srcdir" ]; then
    dpkg-source -x "$dsc" "$srcdir" > /dev/null # applies debian/patches (security fixes)
fi

# 2. configure as debian/rules does, plus assembly; build; install into the prefix
cd "$srcdir"
[ -x configure ] || autoreconf -fi > /dev/null 2>&1
./configure --prefix="$prefix" --enable-distro --enable-pkcs11 --disable-examples \
    --enable-intelasm --enable-aesni --enable-sp --enable-sp-asm \
    CFLAGS="-O2 -g" > "$top/configure.log" 2>&1 || { tail -30 "$top/configure.log" >&2; exit 1; }
make -j2 > "$top/make.log" 2>&1 || { tail -30 "$top/make.log" >&2; exit 1; }
make install > "$top/install.log" 2>&1
# --enable-distro leaves options.h out of `make install`; debian/libwolfssl-dev.install ships
# it by hand, and so do we (it carries the build's feature macros: DEPENDENCIES.md)
install -m 644 wolfssl/options.h "$prefix/include/wolfssl/options.h"
install -m 644 cyassl/options.h "$prefix/include/cyassl/options.h"
# Compare the feature macros with the system build's: the asm build must offer everything
# resolverd uses from Debian's (only assembly/SP related macros should differ).
diff <(grep -o '^#define [A-Z0-9_]*' /usr/include/wolfssl/options.h | sort -u) \
    <(grep -o '^#define [A-Z0-9_]*' "$prefix/include/wolfssl/options.h" | sort -u) \
    > "$top/options.diff" || true
echo "installed: $prefix ($(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --modversion wolfssl))"
echo "feature macros only in the system build (<) or only here (>): $top/options.diff"
grep '^[<>]' "$top/options.diff" | sed 's/^/  /' || true
