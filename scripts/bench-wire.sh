#!/usr/bin/env bash
# Wire codec benchmark: our parse and parse+rebuild against libknot on the same messages, in
# the same run (bench/bench_wire.c, bench/README.md). Installs libknot-dev when missing (as root,
# through scripts/deps.sh), builds build-bench/ in Release, runs bench_wire and writes the
# Markdown tables to bench/results/wire-<date>.md.
#
# Usage: scripts/bench-wire.sh [--callgrind] [bench_wire options: --runs N --secs S --no-variants]
#   --callgrind  also counts instructions per message for every cell with valgrind's callgrind
#                (repeatable on a noisy machine; needs valgrind) in a -g build, build-bench-cg/,
#                and appends them with the top functions of our referral parse+build.
set -euo pipefail
cd "$(dirname "$0")/.."

callgrind=0
args=()
for a in "$@"; do
    case "$a" in
    --callgrind) callgrind=1 ;;
    *) args+=("$a") ;;
    esac
done

scripts/deps.sh bench
jobs=$(nproc)
cmake -S . -B build-bench -DRD_BENCH=ON -DRD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$jobs" --target bench_wire >/dev/null

mkdir -p bench/results
out=bench/results/wire-$(date -u +%Y-%m-%d).md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$( (git status --porcelain -- src include CMakeLists.txt 2>/dev/null || true) | wc -l)
if [ "$dirty" -gt 0 ]; then
    BENCH_TREE="$rev with $dirty uncommitted file(s) in src/, include/ or CMakeLists.txt"
else
    BENCH_TREE="$rev"
fi
export BENCH_TREE
{
    echo "# Wire codec benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Produced by \`scripts/bench-wire.sh${*:+ $*}\` (see bench/README.md)."
    echo
    build-bench/bench_wire "${args[@]}"
} | tee "$tmp"

if [ "$callgrind" = 1 ]; then
    command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
    # Same optimisation as Release, plus debug info so callgrind can name inlined code's lines.
    cmake -S . -B build-bench-cg -DRD_BENCH=ON -DRD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_C_FLAGS=-g >/dev/null
    cmake --build build-bench-cg -j"$jobs" --target bench_wire >/dev/null
    cgdir=$(mktemp -d)
    trap 'rm -f "$tmp"; rm -rf "$cgdir"' EXIT
    n=1000
    # Instructions in the timed loop only (--toggle-collect); the run with N=0 counts what the
    # pre-timing verification spends in the same loop functions, subtracted per cell.
    ir() { # msg op lib iterations
        valgrind --tool=callgrind --toggle-collect="loop_$3_$2" \
            --callgrind-out-file="$cgdir/$1.$2.$3.$4" \
            build-bench-cg/bench_wire --loop "$1" "$2" "$3" "$4" >/dev/null 2>&1
        awk '/^(summary|totals):/ {print $2; exit}' "$cgdir/$1.$2.$3.$4"
    }
    {
        echo
        echo "Instructions per message (callgrind, Ir; repeatable; knot/ours > 1: ours runs fewer):"
        echo
        echo "| message | operation | resolverd Ir/msg | libknot Ir/msg | knot/ours |"
        echo "|---|---|---:|---:|---:|"
        for m in referral root-referral cname nxdomain txt query; do
            for op in parse build; do
                o=$(( ($(ir "$m" "$op" ours $n) - $(ir "$m" "$op" ours 0)) / n ))
                k=$(( ($(ir "$m" "$op" knot $n) - $(ir "$m" "$op" knot 0)) / n ))
                label=$op; [ "$op" = build ] && label=parse+build
                echo "| $m | $label | $o | $k | $(awk -v o="$o" -v k="$k" \
                    'BEGIN { printf "%.2fx", k / o }') |"
            done
        done
        echo
        echo "Top functions of our referral parse+build (self Ir, inlined helpers folded in):"
        echo
        echo '```'
        callgrind_annotate "$cgdir/referral.build.ours.$n" 2>/dev/null |
            sed -n '/file:function/,/^$/p' | sed -n '3,17p' |
            sed -e 's| \[[^]]*\]$||' -e "s|$PWD/||"
        echo '```'
    } | tee -a "$tmp"
fi

cat "$tmp" > "$out"
echo "wrote $out" >&2
