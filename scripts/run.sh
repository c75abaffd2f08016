#!/usr/bin/env bash
# Builds resolverd and runs it in the foreground with resolver.conf.example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec build/resolverd -c resolver.conf.example "$@"
