#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.c) with ASan+UBSan and runs them.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]
#
# TARGET is the name of a fuzz/fuzz_<TARGET>.c: msg, name, zone, rdata_text, http... (default: all
# of them, one after the other, one process each); SECONDS is the time per target (default
# 600). Each target works on fuzz/out/<target>/ (gitignored), seeded from the committed
# fuzz/corpus/<target>/ (or fuzz/corpus/fuzz_<target>/); crashes
# land in fuzz/out/artifacts/<target>-crash-*, logs in fuzz/out/<target>.log.
#
# Environment:
#   RD_FUZZ_BUILD     build directory (default build-fuzz)
#   RD_FUZZ_JOBS      targets run at the same time when TARGET is all (default 1)
#   RD_FUZZ_FLAGS     extra libFuzzer flags (e.g. "-seed=1 -only_ascii=1")
#   RD_FUZZ_NO_BUILD  set to 1 to skip the build step
#
# Exit status: 0 when every run finished without a crash, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${RD_FUZZ_BUILD:-$ROOT/build-fuzz}
TARGET=${1:-all}
SECONDS_PER=${2:-600}
JOBS=${RD_FUZZ_JOBS:-1}
# Every fuzz/fuzz_<target>.c is a target.
ALL=()
for f in "$ROOT"/fuzz/fuzz_*.c; do
    [[ -e $f ]] || continue
    f=${f##*/fuzz_}
    ALL+=("${f%.c}")
done

usage() {
    echo "usage: $0 [$(IFS='|'; echo "${ALL[*]}")|all] [SECONDS]" >&2
    exit 2
}
[[ $SECONDS_PER =~ ^[0-9]+$ ]] || usage
if [[ $TARGET == all ]]; then
    TARGETS=("${ALL[@]}")
else
    [[ " ${ALL[*]} " == *" $TARGET "* ]] || usage
    TARGETS=("$TARGET")
fi

# ---- toolchain --------------------------------------------------------------------------
fuzzer_rt_present() {
    compgen -G "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null
}
if ! command -v clang-14 >/dev/null || ! fuzzer_rt_present; then
    echo "== installing clang-14 and libclang-rt-14-dev" >&2
    SUDO=
    [[ $(id -u) -eq 0 ]] || SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-14 libclang-rt-14-dev
fi

# ---- build ------------------------------------------------------------------------------
# The library is instrumented too (-fsanitize=fuzzer-no-link) so that coverage reaches into
# it; CMakeLists.txt adds -fsanitize=fuzzer to the fuzz_* executables themselves.
# RD_WERROR=OFF: clang warns (-Wconstant-conversion) where gcc does not; warnings are still
# printed.
if [[ ${RD_FUZZ_NO_BUILD:-0} != 1 ]]; then
    echo "== building $BUILD" >&2
    CC=clang-14 cmake -S "$ROOT" -B "$BUILD" -DRD_FUZZ=ON -DRD_SANITIZE=ON -DRD_TESTS=OFF \
        -DRD_WERROR=OFF -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]/#/fuzz_}"
fi

# ---- run --------------------------------------------------------------------------------
OUT=$ROOT/fuzz/out
mkdir -p "$OUT/artifacts"

max_len() {
    case $1 in
    msg) echo 65535 ;;         # RFC 1035 s4.2.2: a message over TCP
    name) echo 4096 ;;         # enough for every pointer layout around a 255-octet name
    zone) echo 65536 ;;
    rdata_text) echo 65537 ;;  # 2 octets of type + 65535 of rdata
    http) echo 80000 ;;        # mode octet + requests; reaches the 65535-octet body limit
    *) echo 65536 ;;
    esac
}

run_one() {
    local t=$1 bin=$BUILD/fuzz_$1 log=$OUT/$1.log
    [[ -x $bin ]] || { echo "no $bin" >&2; return 1; }
    mkdir -p "$OUT/$t"
    # Keep what earlier runs found; add the seeds (never overwrite).
    local seeds
    for seeds in "$ROOT/fuzz/corpus/$t" "$ROOT/fuzz/corpus/fuzz_$t"; do
        if [[ -d $seeds ]]; then cp -n "$seeds/"* "$OUT/$t/" 2>/dev/null || true; fi
    done
    local dict=()
    [[ -f $ROOT/fuzz/$t.dict ]] && dict=(-dict="$ROOT/fuzz/$t.dict")
    local cmd=("$bin" "$OUT/$t" -max_len="$(max_len "$t")" -max_total_time="$SECONDS_PER"
        -timeout=25 -rss_limit_mb=2560 -print_final_stats=1
        -artifact_prefix="$OUT/artifacts/$t-" "${dict[@]}")
    # shellcheck disable=SC2206
    cmd+=(${RD_FUZZ_FLAGS:-})
    echo "== $t: ${cmd[*]}" >&2
    local rc=0
    (cd "$OUT" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "${cmd[@]}") >"$log" 2>&1 || rc=$?
    local done_line execs
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
    if [[ $rc -eq 0 ]]; then
        echo "== $t: ok: ${done_line:-no DONE line}; executions: ${execs:-?}" >&2
    else
        echo "== $t: FAILED (exit $rc), see $log and $OUT/artifacts/$t-*" >&2
        grep -E 'ERROR|SUMMARY|oracle failed|invariant failed|assumption failed' "$log" | head -n 5 >&2 || true
    fi
    return $rc
}

status=0
if [[ $JOBS -le 1 || ${#TARGETS[@]} -le 1 ]]; then
    for t in "${TARGETS[@]}"; do run_one "$t" || status=1; done
else
    running=0
    for t in "${TARGETS[@]}"; do
        run_one "$t" &
        running=$((running + 1))
        if [[ $running -ge $JOBS ]]; then
            wait -n || status=1
            running=$((running - 1))
        fi
    done
    while [[ $running -gt 0 ]]; do
        wait -n || status=1
        running=$((running - 1))
    done
fi
exit $status
