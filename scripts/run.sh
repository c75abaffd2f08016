#!/usr/bin/env bash
# Builds resolverd and runs it in the foreground with resolver.conf.example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build-run -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRD_TESTS=OFF >/dev/null
cmake --build build-run -j"$(nproc)" --target resolverd
exec build-run/resolverd -c resolver.conf.example "$@"
