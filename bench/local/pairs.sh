#!/usr/bin/env bash
# Paired fixed-rate CPU per query of several UDP servers running side by side (issue 6,
# "io_uring" in bench/README.md). bench-local.sh starts one server at a time and measures
# each for ~12 s; on this shared 2-core VM the load moves more than that in a minute, so a
# 10-20% difference between two servers measured a minute apart is not a result. Here every
# server runs at once, each on its own port (idle ones sleep and cost nothing), and short
# fixed-rate dnsperf runs go to each in turn, the order rotating round by round: adjacent
# measurements share the machine's load, and the per-round ratio to the reference server is
# the figure (median over the rounds), next to each server's own median.
#
# Usage: bench/local/pairs.sh [options]   (as root: it enters tests/integration/netns.sh)
#   --servers LIST  comma-separated, from: unbound, resolverd,
#                   ceiling[-block|-epoll|-uring|-uring-coop|-uring-defer|-uring-batch:N:US]
#                   (default ceiling,ceiling-epoll,ceiling-uring,ceiling-uring-coop,
#                   ceiling-uring-defer,unbound); the first of unbound/resolverd listed is
#                   the reference of the ratios
#   --rate Q        offered rate, queries/s (default 10000)
#   --secs S        length of one measured run (default 3)
#   --rounds R      rounds (default 7)
#   --names N       names in the data set (default 1000; bench/local/gen-data.sh)
#   --out FILE      Markdown report (default: stdout only)
# Binaries: CEILING (default build-bench-local/ceiling, built with liburing by
# bench/bench-local.sh or `cc -O2 -DCEILING_URING -o ... bench/ceiling.c -luring`),
# RD_BIN (default build-bench-local/resolverd). Wrap the call in `flock /tmp/rd-bench.lock`.
# Besides CPU: context switches per query (/proc/PID/status, voluntary + involuntary), the
# number of times the server went to sleep and was woken, which is what the loops differ in.
set -euo pipefail
self=$(realpath "$0")
src=$(dirname "$self")/../..
src=$(realpath "$src")
servers=ceiling,ceiling-epoll,ceiling-uring,ceiling-uring-coop,ceiling-uring-defer,unbound
rate=10000 secs=3 rounds=7 names=1000 out='' inner=''
cmdline="bench/local/pairs.sh${*:+ $*}"
while [ $# -gt 0 ]; do
    case "$1" in
    --servers) servers=$2; shift ;;
    --rate) rate=$2; shift ;;
    --secs) secs=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --names) names=$2; shift ;;
    --out) out=$2; shift ;;
    --inner) inner=$2; shift ;;
    -h | --help) sed -n '2,/^set -e/p' "$self" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
# shellcheck source=../lib.sh
. "$src/bench/lib.sh"
CEILING=${CEILING:-$src/build-bench-local/ceiling}
RD_BIN=${RD_BIN:-$src/build-bench-local/resolverd}
IFS=, read -r -a list <<< "$servers"

if [ -n "$inner" ]; then
    work=$inner
    cd "$work"
    require_loopback_only pairs.sh
    pids=()
    trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; true' EXIT
    declare -A pid port
    i=0
    for s in "${list[@]}"; do
        port[$s]=$((5301 + i))
        i=$((i + 1))
        p=${port[$s]}
        case "$s" in
        unbound)
            sed "s|@WORK@|$work|g; s|@PORT@|$p|g" "$src/bench/local/unbound.conf" > "$work/unbound.conf"
            unbound -d -p -c "$work/unbound.conf" > "$work/$s.log" 2>&1 &
            ;;
        resolverd)
            sed "s|@PORT@|$p|g" "$src/bench/local/resolverd.conf" > "$work/$s.conf"
            "$RD_BIN" -c "$work/$s.conf" > "$work/$s.log" 2>&1 &
            ;;
        ceiling) "$CEILING" 127.0.0.1 "$p" > "$work/$s.log" 2>&1 & ;;
        ceiling-*) "$CEILING" 127.0.0.1 "$p" "${s#ceiling-}" > "$work/$s.log" 2>&1 & ;;
        *) echo "unknown server $s" >&2; exit 2 ;;
        esac
        pid[$s]=$!
        pids+=($!)
    done
    for s in "${list[@]}"; do
        want=10.0.0.1
        case "$s" in ceiling*) want=192.0.2.1 ;; esac
        okay=0
        for _ in $(seq 100); do
            if [ "$(dig @127.0.0.1 -p "${port[$s]}" +short +time=1 +tries=1 h1.bench.lab A 2>/dev/null)" = "$want" ]; then
                okay=1; break
            fi
            sleep 0.1
        done
        if [ $okay = 0 ]; then echo "$s did not answer" >&2; cat "$work/$s.log" >&2; exit 1; fi
        # warm-up: every name once (fills resolverd's packet cache)
        dnsperf -s 127.0.0.1 -p "${port[$s]}" -d "$work/queries" -c 1 -T 1 -l 1 -Q "$rate" > /dev/null 2>&1 || true
    done
    ctxsw() { awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ {s += $2} END {print s + 0}' /proc/"$1"/task/*/status; }
    : > "$work/raw.tsv"
    n=${#list[@]}
    for r in $(seq "$rounds"); do
        for k in $(seq 0 $((n - 1))); do
            s=${list[$(((k + r - 1) % n))]}
            p=${pid[$s]}
            f=$work/dnsperf.$s.$r
            load=$(cut -d' ' -f1 /proc/loadavg)
            c0=$(cpu_ns_of "$p"); x0=$(ctxsw "$p")
            dnsperf -s 127.0.0.1 -p "${port[$s]}" -d "$work/queries" -c 1 -T 1 -l "$secs" -Q "$rate" > "$f" 2>&1 || true
            c1=$(cpu_ns_of "$p"); x1=$(ctxsw "$p")
            comp=$(awk '/Queries completed:/ {print $3; exit}' "$f")
            lost=$(awk '/Queries lost:/ {print $3; exit}' "$f")
            lat=$(dnsperf_field "$f" "Average Latency (s)")
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "${comp:-0}" "${lost:-0}" "$((c1 - c0))" "$((x1 - x0))" "$load" "${lat:-0}" >> "$work/raw.tsv"
        done
        echo "round $r/$rounds done" >&2
    done
    for s in "${list[@]}"; do
        kill -0 "${pid[$s]}" 2>/dev/null || { echo "$s died during the runs" >&2; cat "$work/$s.log" >&2; exit 1; }
    done
    exit 0
fi

[ "$(id -u)" = 0 ] || { echo "pairs.sh: run as root (network namespace)" >&2; exit 1; }
work=$(mktemp -d /tmp/bench-pairs.XXXXXX)
chmod 755 "$work"
if [ "${BENCH_KEEP:-0}" = 1 ]; then trap 'echo "kept: $work" >&2' EXIT; else trap 'rm -rf "$work"' EXIT; fi
"$src/bench/local/gen-data.sh" "$names" "$work"
"$src/tests/integration/netns.sh" bash "$self" --servers "$servers" --rate "$rate" --secs "$secs" \
    --rounds "$rounds" --names "$names" --inner "$work"

ref=
for s in "${list[@]}"; do case "$s" in unbound | resolverd) ref=$s; break ;; esac; done
# raw.tsv: 1 server, 2 round, 3 completed, 4 lost, 5 cpu ns, 6 context switches, 7 load,
# 8 dnsperf's average latency (s)
col() { # server expr(awk, over $3..$6) -> values, one per round
    awk -F'\t' -v s="$1" '$1 == s {q = $3 > 0 ? $3 : 1; print '"$2"'}' "$work/raw.tsv"
}
{
    echo "# Paired fixed-rate CPU per query, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Produced by \`$cmdline\` (bench/README.md, \"io_uring\"). Tree $(git -C "$src" rev-parse --short HEAD)"
    echo "($(git -C "$src" status --porcelain -- src bench CMakeLists.txt | wc -l) uncommitted files in src/, bench/, CMakeLists.txt),"
    echo "Linux $(uname -r), $(nproc) CPUs; 1-minute load average during the rounds: $(cut -f7 "$work/raw.tsv" | sort -g | sed -n '1p;$p' | paste -sd- -)."
    echo "All servers up at once, each on its own port; \`dnsperf -c 1 -T 1 -Q $rate -l $secs\` to each in"
    echo "turn, $rounds rounds, the order rotating. CPU = the server's schedstat time (every thread) over"
    echo "the run / queries completed; context switches from /proc/PID/task/*/status."
    echo
    echo "| server | CPU µs/query (median) | min | max | per-round ratio to $ref (median) | context switches per query | avg latency (ms, median) | lost |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for s in "${list[@]}"; do
        v=$(col "$s" '$5 / 1000 / q')
        ratio_med=n/a
        if [ -n "$ref" ]; then
            ratio_med=$(join -t$'\t' <(awk -F'\t' -v s="$s" '$1 == s {print $2 "\t" $5 / ($3 > 0 ? $3 : 1)}' "$work/raw.tsv" | sort) \
                <(awk -F'\t' -v s="$ref" '$1 == s {print $2 "\t" $5 / ($3 > 0 ? $3 : 1)}' "$work/raw.tsv" | sort) |
                awk -F'\t' '$3 > 0 {print $2 / $3}' | median)
            ratio_med=$(printf '%.2fx' "$ratio_med")
        fi
        printf '| %s | %.2f | %.2f | %.2f | %s | %.2f | %.3f | %s |\n' "$s" "$(median <<< "$v")" \
            "$(sort -g <<< "$v" | head -1)" "$(sort -g <<< "$v" | tail -1)" "$ratio_med" \
            "$(col "$s" '$6 / q' | median)" "$(col "$s" '$8 * 1000' | median)" \
            "$(col "$s" '$4' | awk '{s += $1} END {print s + 0}')"
    done
    echo
    echo "Every run (CPU µs/query):"
    echo
    echo "| round | $(printf '%s | ' "${list[@]}")load |"
    echo "|---:|$(printf -- '---:|%.0s' "${list[@]}")---:|"
    for r in $(seq "$rounds"); do
        row="| $r |"
        for s in "${list[@]}"; do
            row+=" $(awk -F'\t' -v s="$s" -v r="$r" '$1 == s && $2 == r {printf "%.2f", $5 / 1000 / ($3 > 0 ? $3 : 1)}' "$work/raw.tsv") |"
        done
        row+=" $(awk -F'\t' -v r="$r" '$2 == r {print $7; exit}' "$work/raw.tsv") |"
        echo "$row"
    done
} > "$work/report.md"
[ -n "$out" ] && cp "$work/report.md" "$out"
cat "$work/report.md"
