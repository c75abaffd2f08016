#!/usr/bin/env bash
# Local-data benchmark (issue 4): resolverd, Unbound and Knot Resolver answering the same
# generated zone (N names: A, plus some AAAA, TXT, MX) from local data, one worker thread
# each, on 127.0.0.1, measured with dnsperf (one client, one thread) in a loopback-only
# network namespace. See bench/README.md, "bench-local".
#
# Per server and run: a warm-up, then one run at maximum load and one at a fixed offered
# rate. Measured: queries/s, average latency, lost queries, and the server's CPU time per
# completed query (all its threads, from /proc/PID/task/*/schedstat; /proc/PID/stat
# utime+stime as a cross-check). Servers alternate run by run (the order rotates); the
# tables give medians. Writes bench/results/local-<date>.md.
#
# Usage: bench/bench-local.sh [options]
#   --names N      names in the zone (default 1000)
#   --secs S       length of each measured dnsperf run (default 10)
#   --warmup S     warm-up before the measured runs (default 2)
#   --runs R       runs per server (default 3)
#   --rate Q       offered rate of the fixed-rate run, queries/s (default 20000)
#   --outstanding Q  dnsperf -q, queries in flight at maximum load (default 100)
#   --servers LIST comma-separated subset of resolverd,unbound,kresd,ceiling (default:
#                  the first three). ceiling is bench/ceiling.c, a trivial fixed-answer
#                  responder with resolverd's batching: the machine's and dnsperf's limit.
#                  ceiling-MODE runs it in another receive mode (ceiling-epoll,
#                  ceiling-uring, ceiling-uring-coop, ceiling-uring-defer; see its header;
#                  the uring modes need liburing-dev, installed when missing).
#   --callgrind    also profile resolverd under valgrind's callgrind at a small fixed load
#                  (dnsperf -Q 2000 for 5 s; -g Release build in build-bench-local-cg/)
#   --out FILE     results file (default bench/results/local-<UTC date>.md)
# BENCH_BUILD=DIR builds into DIR instead of build-bench-local/ (resolverd only when listed).
# Needs root to install missing packages (dnsperf, unbound, knot-resolver, dig, valgrind);
# services are blocked while installing (policy-rc.d), and no system instance is started.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
src=$PWD

names=1000 secs=10 warmup=2 runs=3 rate=20000 outstanding=100 port=5300
servers=resolverd,unbound,kresd callgrind=0 out='' inner=''
cmdline="bench/bench-local.sh${*:+ $*}"
while [ $# -gt 0 ]; do
    case "$1" in
    --names) names=$2; shift ;;
    --secs) secs=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --runs) runs=$2; shift ;;
    --rate) rate=$2; shift ;;
    --outstanding) outstanding=$2; shift ;;
    --servers) servers=$2; shift ;;
    --callgrind) callgrind=1 ;;
    --out) out=$2; shift ;;
    --inner) inner=$2; shift ;; # internal: the measuring half, inside the namespace
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
build=${BENCH_BUILD:-$src/build-bench-local}
build_cg=$src/build-bench-local-cg
has() { case ",$servers," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
has_prefix() { case ",$servers" in *",$1"*) return 0 ;; *) return 1 ;; esac; }
is_ceiling() { case "$1" in ceiling | ceiling-*) return 0 ;; *) return 1 ;; esac; }

#############################################################################################
# Inner half: runs inside the network namespace. Writes $work/raw.tsv and $work/check.txt.
#############################################################################################
if [ -n "$inner" ]; then
    work=$inner
    cd "$work"
    # Never measure (or leak) anything but loopback: refuse to run with another interface up.
    if ip -o link show | awk -F': ' '$2 != "lo"' | grep -q .; then
        echo "bench-local: not in a loopback-only network namespace; refusing" >&2
        exit 1
    fi
    pid=
    trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; true' EXIT

    start_server() { # name [valgrind-prefix...]
        local s=$1
        shift
        case "$s" in
        resolverd) "$@" "${RD_BIN:-$build/resolverd}" -c "$work/resolverd.conf" > "$work/$s.log" 2>&1 & ;;
        unbound) "$@" unbound -d -p -c "$work/unbound.conf" > "$work/$s.log" 2>&1 & ;;
        kresd) "$@" kresd -n -c "$work/kresd.conf" "$work/kresd-run" > "$work/$s.log" 2>&1 & ;;
        ceiling) "$build/ceiling" 127.0.0.1 "$port" > "$work/$s.log" 2>&1 & ;;
        ceiling-*) "$build/ceiling" 127.0.0.1 "$port" "${s#ceiling-}" > "$work/$s.log" 2>&1 & ;;
        esac
        pid=$!
        local want=10.0.0.1
        is_ceiling "$s" && want=192.0.2.1 # its one fixed answer
        for _ in $(seq 600); do # up to 60 s (valgrind is slow to start)
            if ! kill -0 "$pid" 2>/dev/null; then
                echo "$s exited at start:" >&2; cat "$work/$s.log" >&2; return 1
            fi
            [ "$(dig @127.0.0.1 -p "$port" +short +time=1 +tries=1 h1.bench.lab A 2>/dev/null)" = "$want" ] \
                && return 0
            sleep 0.1
        done
        echo "$s did not answer within 60 s" >&2; cat "$work/$s.log" >&2; return 1
    }
    stop_server() {
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=
    }
    # CPU time of the whole process, every thread: ns from schedstat, ticks from stat.
    # (%.0f, not %d: mawk's %d stops at 2^31)
    cpu_ns() { cat /proc/"$pid"/task/*/schedstat | awk '{s += $1} END {printf "%.0f", s}'; }
    cpu_ticks() { awk '{print $14, $15}' /proc/"$pid"/stat; } # utime stime
    # dnsperf, its output kept; `times` in the subshell gives dnsperf's own CPU (children).
    dnsperf_run() { # outfile extra-args...
        local f=$1
        shift
        (dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -c 1 -T 1 -q "$outstanding" "$@" \
            > "$f" 2>&1 || echo "dnsperf exit status $?" >> "$f"; times > "$f.times")
    }
    field() { # file label -> the number after "label:"
        awk -v l="$2:" 'i = index($0, l) { $0 = substr($0, i + length(l)); print $1 + 0; exit }' "$1"
    }
    measure() { # server rep mode extra-args...
        local s=$1 rep=$2 mode=$3
        shift 3
        local f=$work/dnsperf.$s.$rep.$mode load c0 t0 c1 t1 u0 u1
        load=$(cut -d' ' -f1 /proc/loadavg)
        c0=$(cpu_ns)
        read -r u0 t0 <<< "$(cpu_ticks)"
        dnsperf_run "$f" -l "$secs" "$@"
        c1=$(cpu_ns)
        read -r u1 t1 <<< "$(cpu_ticks)"
        local comp lost qps lat rc cl size
        comp=$(awk '/Queries completed:/ {print $3; exit}' "$f")
        lost=$(awk '/Queries lost:/ {print $3; exit}' "$f")
        qps=$(field "$f" "Queries per second")
        lat=$(field "$f" "Average Latency (s)")
        size=$(awk '/Average packet size:/ {print $NF; exit}' "$f")
        rc=$(awk -F': *' '/Response codes:/ {gsub(/ /, "_", $2); print $2; exit}' "$f")
        # dnsperf's CPU: second line of `times` (children), "XmY.YYYs XmY.YYYs"
        cl=$(awk 'NR == 2 {split($1, u, /[ms]/); split($2, s, /[ms]/);
                           printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2]}' "$f.times")
        local warn
        warn=$(grep -ciE 'warning|timeout|timed out|failed|^error|\[error\]|exit status' "$f" || true)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$rep" "$mode" \
            "${qps:-0}" "${lat:-0}" "${comp:-0}" "${lost:-0}" "$((c1 - c0))" "$((u1 - u0))" \
            "$cl" "$load" "${rc:-none}" "$warn" "${size:-0}" "$((t1 - t0))" >> "$work/raw.tsv"
    }
    # Every server must give the zone's answer for every query of the mix (dig without EDNS,
    # as dnsperf sends them); also the mean response size over the mix.
    check_answers() { # server
        local s=$1
        awk '{print $1, $2, "+noedns +noall +answer +stats +time=2 +tries=1"}' "$work/queries" > "$work/batch"
        dig @127.0.0.1 -p "$port" -f "$work/batch" > "$work/dig.$s" 2>&1 || true
        awk '!/^;/ && NF {$1 = tolower($1); $1 = $1; print}' "$work/dig.$s" | sort -u > "$work/got.$s"
        local bad size
        bad=$(comm -3 "$work/expected" "$work/got.$s" | wc -l)
        size=$(awk '/MSG SIZE/ {n++; t += $NF} END {printf "%.2f", (n ? t / n : 0)}' "$work/dig.$s")
        printf '%s\t%s\t%s\t%s\n' "$s" "$bad" "$size" "$(wc -l < "$work/expected")" >> "$work/check.txt"
        if [ "$bad" != 0 ]; then
            echo "$s: $bad answer lines differ from the zone:" >&2
            comm -3 "$work/expected" "$work/got.$s" | head -10 >&2
        fi
    }
    # expected answers: every zone record but the apex SOA/NS and the two helper names
    awk '$1 ~ /^h[0-9]+\./ {$1 = $1; print}' "$work/bench.lab.zone" | sort -u > "$work/expected"

    : > "$work/raw.tsv"
    : > "$work/check.txt"
    IFS=, read -r -a list <<< "$servers"
    n=${#list[@]}
    for rep in $(seq "$runs"); do
        for k in $(seq 0 $((n - 1))); do
            s=${list[$(((k + rep - 1) % n))]} # rotate the order run by run
            echo "run $rep/$runs: $s" >&2
            start_server "$s"
            [ "$rep" = 1 ] && ! is_ceiling "$s" && check_answers "$s"
            dnsperf_run "$work/warmup.$s.$rep" -l "$warmup"
            measure "$s" "$rep" max
            measure "$s" "$rep" rate -Q "$rate"
            stop_server
        done
    done

    if [ "$callgrind" = 1 ]; then
        # Instructions per query, repeatable on a noisy machine: each server under callgrind at
        # a small fixed load, collecting only inside its event loop (zone loading and start-up
        # left out), so Ir / queries completed is the user-space cost of one answer.
        for s in "${list[@]}"; do
            echo "callgrind: $s at dnsperf -Q 2000 for 5 s" >&2
            case "$s" in
            unbound) loopfn=event_base_loop ;; # Debian's unbound runs on libevent
            *) loopfn=uv_run ;;                # resolverd and kresd run on libuv
            esac
            RD_BIN=$build_cg/resolverd start_server "$s" \
                valgrind --tool=callgrind --toggle-collect="$loopfn" \
                --callgrind-out-file="$work/callgrind.$s"
            dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -c 1 -T 1 -l 5 -Q 2000 \
                > "$work/dnsperf.callgrind.$s" 2>&1 || true
            stop_server
        done
    fi
    exit 0
fi

#############################################################################################
# Outer half: install, build, generate, run the inner half in a namespace, write the report.
#############################################################################################
need_pkgs=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$1"); }
need dnsperf
need bind9-dnsutils
need iproute2
need util-linux
has unbound && need unbound
has kresd && need knot-resolver
[ "$callgrind" = 1 ] && need valgrind
has_prefix ceiling-uring && need liburing-dev
# unbound and knot-resolver would start system resolvers on install: deps.sh blocks every
# service start while installing (DEPENDENCIES.md).
scripts/deps.sh build "${need_pkgs[@]}"

jobs=$(nproc)
if has resolverd; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRD_TESTS=OFF -DRD_WERROR=OFF >/dev/null
    cmake --build "$build" -j"$jobs" --target resolverd >/dev/null
fi
mkdir -p "$build"
if has_prefix ceiling-uring; then
    cc -O2 -Wall -Wextra -DCEILING_URING -o "$build/ceiling" bench/ceiling.c -luring
elif has_prefix ceiling; then
    cc -O2 -Wall -Wextra -o "$build/ceiling" bench/ceiling.c
fi
if [ "$callgrind" = 1 ]; then
    # Release optimisation plus debug info, so callgrind names files and lines
    cmake -S . -B "$build_cg" -DCMAKE_BUILD_TYPE=Release -DRD_TESTS=OFF -DRD_WERROR=OFF \
        -DCMAKE_C_FLAGS=-g >/dev/null
    cmake --build "$build_cg" -j"$jobs" --target resolverd >/dev/null
fi

work=$(mktemp -d /tmp/bench-local.XXXXXX)
chmod 755 "$work"
# BENCH_KEEP=1 keeps the work dir (configs, logs, dnsperf outputs) for inspection
if [ "${BENCH_KEEP:-0}" = 1 ]; then trap 'echo "kept: $work" >&2' EXIT; else trap 'rm -rf "$work"' EXIT; fi
bench/local/gen-data.sh "$names" "$work"
for f in resolverd unbound kresd; do
    sed "s|@WORK@|$work|g; s|@PORT@|$port|g" "bench/local/$f.conf" > "$work/$f.conf"
done
mkdir -p "$work/kresd-run"
has resolverd && "$build/resolverd" --check-config -c "$work/resolverd.conf" >/dev/null
has unbound && unbound-checkconf "$work/unbound.conf" >/dev/null

t_start=$(date +%s)
cg=()
[ "$callgrind" = 1 ] && cg=(--callgrind)
tests/integration/netns.sh bash "$self" --names "$names" --secs "$secs" --warmup "$warmup" \
    --runs "$runs" --rate "$rate" --outstanding "$outstanding" --servers "$servers" \
    "${cg[@]}" --inner "$work"
t_run=$(($(date +%s) - t_start))

#############################################################################################
# Report
#############################################################################################
mkdir -p bench/results
[ -n "$out" ] || out=bench/results/local-$(date -u +%Y-%m-%d).md
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$( (git status --porcelain -- src include CMakeLists.txt 2>/dev/null || true) | wc -l)
tree=$rev
[ "$dirty" -gt 0 ] && tree="$rev with $dirty uncommitted file(s) in src/, include/ or CMakeLists.txt"
ver() {
    case "$1" in
    resolverd) "$build/resolverd" --version 2>&1 | head -1 ;;
    unbound) unbound -V 2>&1 | awk '/^Version/ {print "Unbound " $2; exit}' ;;
    kresd) kresd --version 2>&1 | head -1 ;;
    ceiling) echo "ceiling (bench/ceiling.c)" ;;
    ceiling-*) echo "ceiling (bench/ceiling.c) in mode ${1#ceiling-}" ;;
    esac
}
srvcmd() {
    case "$1" in
    resolverd) echo "build-bench-local/resolverd -c resolverd.conf  (bench/local/resolverd.conf: threads: 1)" ;;
    unbound) echo "unbound -d -p -c unbound.conf  (bench/local/unbound.conf: num-threads: 1)" ;;
    kresd) echo "kresd -n -c kresd.conf RUNDIR  (bench/local/kresd.conf: one process = one thread)" ;;
    ceiling) echo "ceiling 127.0.0.1 $port  (answers every query with one fixed A record; not a DNS server)" ;;
    ceiling-*) echo "ceiling 127.0.0.1 $port ${1#ceiling-}  (the same responder, another receive/send loop)" ;;
    esac
}
cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
IFS=, read -r -a list <<< "$servers"

# medians: server mode column -> value
med() { # server mode column(1-based in raw.tsv) [expr: cpu_ns/comp etc.]
    awk -F'\t' -v s="$1" -v m="$2" -v c="$3" '$1 == s && $3 == m {print $c}' "$work/raw.tsv" |
        sort -g | awk '{v[NR] = $1} END {if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
                                       else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
# raw.tsv: 1 server, 2 run, 3 mode, 4 q/s, 5 avg latency (s), 6 completed, 7 lost, 8 server CPU
# ns, 9 server user-time ticks, 10 dnsperf CPU s, 11 load average, 12 response codes, 13 dnsperf
# warning lines, 14 mean response size, 15 server system-time ticks; derived columns appended
# here: 16 CPU us/query (schedstat), 17 user us/query, 18 system us/query (stat ticks, 10 ms),
# 19 server CPU use (% of one core), 20 dnsperf's
awk -F'\t' -v OFS='\t' -v secs="$secs" '{
    q = $6 > 0 ? $6 : 1
    print $0, $8 / 1000 / q, $9 * 10000 / q, $15 * 10000 / q, $8 / 1e7 / secs, $10 * 100 / secs
}' "$work/raw.tsv" > "$work/raw2.tsv"
mv "$work/raw2.tsv" "$work/raw.tsv"
spread() { # server mode column -> (max - min) / median, in %
    awk -F'\t' -v s="$1" -v m="$2" -v c="$3" -v md="$(med "$1" "$2" "$3")" '$1 == s && $3 == m {
        v = $c + 0; if (n == 0 || v < lo) lo = v; if (n == 0 || v > hi) hi = v; n++ }
        END {printf "%.0f%%", (md > 0 ? (hi - lo) * 100 / md : 0)}' "$work/raw.tsv"
}
num() { # value [decimals] -> with thousands separators
    awk -v v="$1" -v d="${2:-0}" 'BEGIN {
        s = sprintf("%." d "f", v); sg = ""
        if (substr(s, 1, 1) == "-") { sg = "-"; s = substr(s, 2) }
        p = index(s, "."); i = p ? substr(s, 1, p - 1) : s; f = p ? substr(s, p) : ""; o = ""
        while (length(i) > 3) { o = "," substr(i, length(i) - 2) o; i = substr(i, 1, length(i) - 3) }
        print sg i o f }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "n/a"}'; }

{
    echo "# Local-data benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Produced by \`$cmdline\` (see bench/README.md, \"bench-local\")."
    echo
    echo "- tree: $tree"
    echo "- machine: $cpu_model, $(nproc) online CPUs, Linux $(uname -r); 1-minute load average at the"
    echo "  start of the measured runs: $(awk -F'\t' 'NR == 1 || $11 < lo {lo = $11} NR == 1 || $11 > hi {hi = $11}
        END {print "min " lo ", max " hi}' "$work/raw.tsv")"
    echo "  (shared VM: dnsperf and the server compete for 2 cores with other work; expect noise)"
    echo "- servers (one worker thread each, 127.0.0.1 port $port, in one loopback-only network namespace):"
    for s in "${list[@]}"; do echo "  - $(ver "$s"): \`$(srvcmd "$s")\`"; done
    echo "- client: $(dnsperf -h 2>&1 | awk '/^Version/ {print "dnsperf " $2}'), one client, one thread:"
    echo "  \`dnsperf -s 127.0.0.1 -p $port -d queries -c 1 -T 1 -q $outstanding -l $secs\` (maximum load),"
    echo "  the same with \`-Q $rate\` (fixed offered rate); each after a ${warmup} s warm-up (\`-l $warmup\`), no EDNS"
    echo "- data: $names names under bench.lab. ($(wc -l < "$work/queries") (name, type) queries: $names A,"
    echo "  $((names / 10)) AAAA, $((names / 20)) TXT, $((names / 50)) MX), cycled in order; generated by bench/local/gen-data.sh"
    echo "  (zone file for resolverd, local-data for Unbound, an RPZ of local data for kresd)"
    echo "- method: $runs runs per server, servers alternating (the order rotates each run), each"
    echo "  server restarted per run; medians below. CPU/query = the server's CPU time (all threads,"
    echo "  /proc/PID/task/*/schedstat) during the measured run / queries completed."
    echo "- wall time of the measuring part: ${t_run} s"
    echo
    echo "## Answers"
    echo
    echo "The answer section of every query of the mix (dig, no EDNS), compared with the zone's records."
    echo "Response sizes differ where servers fill the additional section differently: resolverd adds the"
    echo "MX target's address (RFC 1035 s3.3.9 additional processing); Unbound's local-data and kresd's"
    echo "policy answers do not."
    echo
    echo "| server | answer lines expected | lines differing | mean response size (octets, no EDNS) |"
    echo "|---|---:|---:|---:|"
    while IFS=$'\t' read -r s bad size total; do
        echo "| $s | $total | $bad | $size |"
    done < "$work/check.txt"
    echo
    echo "## Results (medians of $runs runs)"
    echo
    ms() { awk -v v="$(med "$@")" 'BEGIN {print v * 1000}'; } # seconds -> ms
    for mode in max rate; do
        if [ "$mode" = max ]; then
            echo "At maximum load (\`-q $outstanding\` in flight, no rate limit):"
        else
            echo "At a fixed offered rate (\`-Q $rate\`):"
        fi
        echo
        echo "| server | q/s | avg latency (ms) | lost | CPU µs/query | user µs/query | system µs/query | server CPU (% of a core) | dnsperf CPU (% of a core) |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        for s in "${list[@]}"; do
            printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$(num "$(med "$s" $mode 4)")" \
                "$(num "$(ms "$s" $mode 5)" 3)" "$(num "$(med "$s" $mode 7)")" \
                "$(num "$(med "$s" $mode 16)" 2)" "$(num "$(med "$s" $mode 17)" 2)" \
                "$(num "$(med "$s" $mode 18)" 2)" "$(num "$(med "$s" $mode 19)")" "$(num "$(med "$s" $mode 20)")"
        done
        echo
    done
    echo "CPU µs/query is the server's CPU time over all its threads (schedstat, ns) divided by the"
    echo "queries completed; user and system are the same split from /proc/PID/stat (10 ms ticks)."
    echo
    echo "Spread over the runs ((max - min) / median):"
    echo
    echo "| server | max load q/s | CPU µs/query at max load | CPU µs/query at $(num "$rate") q/s |"
    echo "|---|---:|---:|---:|"
    for s in "${list[@]}"; do
        echo "| $s | $(spread "$s" max 4) | $(spread "$s" max 16) | $(spread "$s" rate 16) |"
    done
    if has resolverd; then
        echo
        echo "## Ratios (resolverd / peer)"
        echo
        echo "q/s: > 1 means resolverd answered more. Queries per CPU-second (the inverse of CPU/query):"
        echo "> 1 means resolverd spends less CPU per answer; that is its single-core capacity relative"
        echo "to the peer when the client is not the bottleneck."
        echo
        echo "| peer | max load q/s | queries per CPU-second at max load | queries per CPU-second at $(num "$rate") q/s | user-space only, at max load | target (issue 4: q/s >= 1.3x Unbound) |"
        echo "|---|---:|---:|---:|---:|---|"
        for p in "${list[@]}"; do
            [ "$p" = resolverd ] && continue
            is_ceiling "$p" && continue
            q=$(ratio "$(med resolverd max 4)" "$(med "$p" max 4)")
            e1=$(ratio "$(med "$p" max 16)" "$(med resolverd max 16)")
            e2=$(ratio "$(med "$p" rate 16)" "$(med resolverd rate 16)")
            e3=$(ratio "$(med "$p" max 17)" "$(med resolverd max 17)")
            t=
            if [ "$p" = unbound ]; then
                t=$(awk -v a="$(med resolverd max 4)" -v b="$(med unbound max 4)" \
                    'BEGIN {print (b > 0 && a / b >= 1.3) ? "q/s: met" : "q/s: not met"}')
            fi
            echo "| $p | $q | $e1 | $e2 | $e3 | $t |"
        done
        if has ceiling; then
            c=$(med ceiling max 4)
            echo
            echo "Ceiling (bench/ceiling.c: no parsing beyond the question, no lookup, one fixed answer,"
            echo "the same recvmmsg/sendmmsg batching): $(num "$c") q/s at maximum load. As a share of it:"
            for s in "${list[@]}"; do
                is_ceiling "$s" && continue
                echo "$s $(awk -v a="$(med "$s" max 4)" -v c="$c" 'BEGIN {printf "%.0f%%", (c > 0 ? a * 100 / c : 0)}')"
            done | paste -sd, - | sed 's/,/, /g; s/$/./'
            if has unbound; then
                echo "The ceiling itself is $(ratio "$c" "$(med unbound max 4)") Unbound's q/s: no server measured"
                echo "this way can exceed that ratio."
            fi
        fi
        busiest=$(for s in "${list[@]}"; do is_ceiling "$s" || med "$s" max 19; done | sort -g | tail -1)
        if awk -v b="$busiest" 'BEGIN {exit !(b < 90)}'; then
            echo
            printf 'At "maximum load" no server used more than %.0f%% of a core (median): the single\n' "$busiest"
            echo "dnsperf thread and the shared machine's scheduler set the q/s, not the servers, so the"
            echo "q/s ratio says little about capacity; the queries-per-CPU-second ratios do."
        fi
    fi
    if has unbound; then
        echo
        echo "## CPU per query against Unbound's (same run)"
        echo
        echo "Each server's median CPU µs/query divided by Unbound's: < 1 means cheaper. Issue 6 asks"
        echo "resolverd for <= 0.70 at a fixed rate; a ceiling mode above 0.70 shows that no server"
        echo "using that receive/send loop can get there on this machine."
        echo
        echo "| server | at max load | at $(num "$rate") q/s |"
        echo "|---|---:|---:|"
        for s in "${list[@]}"; do
            [ "$s" = unbound ] && continue
            echo "| $s | $(ratio "$(med "$s" max 16)" "$(med unbound max 16)") | $(ratio "$(med "$s" rate 16)" "$(med unbound rate 16)") |"
        done
    fi
    echo
    echo "## Every run"
    echo
    echo "| server | run | mode | q/s | avg latency (ms) | completed | lost | CPU µs/query | user µs/q | system µs/q | server CPU % | dnsperf CPU % | load avg | mean response (octets) | response codes | dnsperf warnings |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
    sort -t$'\t' -k2,2n -k3,3 "$work/raw.tsv" | while IFS=$'\t' read -r s rep mode qps lat comp lost _ _ _ load rc warn size _ c16 c17 c18 c19 c20; do
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$rep" "$mode" \
            "$(num "$qps")" "$(num "$(awk -v v="$lat" 'BEGIN {print v * 1000}')" 3)" "$(num "$comp")" "$lost" \
            "$(num "$c16" 2)" "$(num "$c17" 2)" "$(num "$c18" 2)" "$(num "$c19")" "$(num "$c20")" "$load" "$size" \
            "${rc//_/ }" "$warn"
    done
    if [ "$callgrind" = 1 ]; then
        echo
        echo "## Instructions per query (callgrind, dnsperf -Q 2000 -l 5)"
        echo
        echo "User-space instructions executed inside each server's event loop (\`--toggle-collect\` of"
        echo "\`uv_run\` or libevent's \`event_base_loop\`) divided by the queries completed; kernel work"
        echo "(recvmmsg, sendmsg, epoll) is not counted. Repeatable, unlike the timings. resolverd is the"
        echo "-g Release build in build-bench-local-cg/."
        echo
        echo "| server | queries completed | Ir | Ir per query |"
        echo "|---|---:|---:|---:|"
        for s in "${list[@]}"; do
            [ -s "$work/callgrind.$s" ] || { echo "| $s | (no profile) | | |"; continue; }
            cq=$(awk '/Queries completed:/ {print $3; exit}' "$work/dnsperf.callgrind.$s")
            tot=$(awk '/^(summary|totals):/ {print $2; exit}' "$work/callgrind.$s")
            echo "| $s | $(num "${cq:-0}") | $(num "$tot") | $(num "$(awk -v t="$tot" -v q="${cq:-0}" 'BEGIN {print (q > 0 ? t / q : 0)}')") |"
        done
        if [ -s "$work/callgrind.resolverd" ]; then
            echo
            echo "resolverd, top functions by self cost:"
            echo
            echo '```'
            callgrind_annotate "$work/callgrind.resolverd" 2>/dev/null |
                awk '/^-+$/ {d++; next} d >= 6 && NF && n++ < 30' | sed "s| \[/[^]]*\]\$||; s|$src/||"
            echo '```'
        fi
    fi
} > "$work/report.md"
cp "$work/report.md" "$out"
cat "$out"
echo >&2
echo "written: $out" >&2
