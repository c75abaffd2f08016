#!/usr/bin/env bash
# The whole default test suite: a release build (warnings are errors) and an ASan+UBSan build,
# each running every unit and integration test. Long fuzzing and benchmarks are separate
# (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs=$(nproc)
run_suite() {
    local dir=$1; shift
    cmake -S . -B "$dir" -DRD_WERROR=ON -DRD_TESTS=ON -DRD_FUZZ=OFF -DRD_BENCH=OFF "$@" >/dev/null
    cmake --build "$dir" -j"$jobs"
    (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600)
}
echo "== release build =="
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== ASan+UBSan build =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DRD_SANITIZE=ON
echo "== formatting =="
# clang-format is part of the build tools; a file out of format fails the suite.
if command -v clang-format >/dev/null; then
    bad=$(git ls-files '*.c' '*.h' 2>/dev/null | while read -r f; do
        clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
    if [ -n "$bad" ]; then echo "not clang-formatted:"; echo "$bad"; exit 1; fi
    echo "all C files formatted"
fi
