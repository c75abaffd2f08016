#!/usr/bin/env bash
# Encrypted-transport benchmark (issue 7): resolverd, Unbound and Knot Resolver serving the
# same local data over DNS-over-TLS and DNS-over-HTTPS, one worker thread each, with one
# certificate (ECDSA P-256, from a test CA made with openssl in the work dir), in a
# loopback-only network namespace (tests/integration/netns.sh). See bench/README.md,
# "bench-tls".
#
# "From cache" in the issue means no upstream work per query; local data is the cleanest
# equivalent (the same records for all three: bench/local/gen-data.sh, a zone for resolverd,
# local-data for Unbound, an RPZ for kresd), so no lab of authorities is needed.
#
# Workloads per server and run (the server restarted per run, servers rotating):
#   dot-max     dnsperf -m dot, one client thread, one reused connection, -q 100 (max load)
#   dot-rate    the same at a fixed offered rate (-Q, default 10000 q/s)
#   doh-get     dnsperf -m doh (HTTP/2), GET, -q 100
#   doh-post    dnsperf -m doh, POST, -q 100
#   hs-new      bench/tls/hsclient hs: full TLS 1.3 handshakes, --hs-conc at once, no data
#   hs-reuse12  openssl s_time -reuse -tls1_2: TLS 1.2 resumption, one connection at a time
#               (s_time cannot resume TLS 1.3: the ticket arrives after the handshake and
#               s_time never reads)
#   conn-new    bench/tls/hsclient new: TLS 1.3 full handshake + one DoT query + close
#   conn-resume bench/tls/hsclient resume: TLS 1.3 ticket resumption + one query + close
# hsclient (bench/tls/hsclient.c, built here) keeps --hs-conc connections in flight on one
# epoll loop with wolfSSL (the assembly build of scripts/wolfssl-asm.sh when it is there), so
# that the server, not the client, is the limit (s_time and the old Python client spent
# ~1.2 ms of client CPU per connection, more than any server).
# Measured: operations/s (queries or connections), dnsperf's average latency, lost queries or
# failed connections, and the server's CPU time per operation (all threads,
# /proc/PID/task/*/schedstat; user/system split from /proc/PID/stat). Medians of --runs.
# Also recorded: the TLS version, group, cipher suite and signature each server negotiates
# (openssl s_client -brief), its DoH ALPN, and a check of every answer of the query mix
# over DoT and DoH (kdig) against the zone. Writes bench/results/tls-<UTC date>.md.
#
# Usage: bench/bench-tls.sh [options]
#   --runs R        runs per server (default 3)
#   --secs S        length of each dnsperf run (default 5)
#   --hs-secs S     length of each handshake run (default 5)
#   --hs-conc N     connections in flight for hs-new, conn-new, conn-resume (default 16)
#   --warmup S      DoT warm-up after each start (default 1)
#   --rate Q        offered rate of dot-rate (default 10000)
#   --names N       names in the zone (default 1000)
#   --servers LIST  comma-separated subset of resolverd,unbound,kresd,resolverd-asm (default:
#                   the first three). resolverd-asm is resolverd linked against wolfSSL with
#                   assembly (scripts/wolfssl-asm.sh), same config; not a peer in the ratios
#   --asm-bin PATH  the resolverd-asm binary (default: build-bench-tls-asm/resolverd, built
#                   from the same tree as resolverd against build-wolfssl-asm/prefix)
#   --workloads L   comma-separated subset of the workloads above (default all)
#   --quick         development: 1 run, 2 s runs (~1 min)
#   --head          build and measure the committed tree (git archive HEAD into
#                   build-bench-tls-head/), leaving out uncommitted work in progress
#   --out FILE      results file (default bench/results/tls-<UTC date>.md)
#   --report DIR    only write the report again, from a work dir kept with BENCH_KEEP=1
# BENCH_KEEP=1 keeps the work dir (certificates, configs, logs, every client output).
# RD_BIN=path measures another resolverd binary (e.g. one linked against another wolfSSL).
# Needs root to install missing packages (scripts/deps.sh: services are blocked while
# installing, and no system instance is ever started).
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
src=$PWD
. bench/lib.sh

runs=3 secs=5 hs_secs=5 hs_conc=16 warmup=1 rate=10000 names=1000 outstanding=100
servers=resolverd,unbound,kresd
workloads='dot-max,dot-rate,doh-get,doh-post,hs-new,hs-reuse12,conn-new,conn-resume'
out='' inner='' report='' quick=0 head=0 asm_bin=''
port=5300 dot=8530 doh=4430
cmdline="bench/bench-tls.sh${*:+ $*}"
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs=$2; shift ;;
    --secs) secs=$2; shift ;;
    --hs-secs) hs_secs=$2; shift ;;
    --hs-conc) hs_conc=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --rate) rate=$2; shift ;;
    --names) names=$2; shift ;;
    --servers) servers=$2; shift ;;
    --workloads) workloads=$2; shift ;;
    --quick) runs=1 secs=2 hs_secs=2 quick=1 ;;
    --head) head=1 ;;
    --asm-bin) asm_bin=$2; shift ;;
    --out) out=$2; shift ;;
    --report) report=$2; shift ;;
    --inner) inner=$2; shift ;; # internal: the measuring half, inside the namespace
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
build=$src/build-bench-tls
[ "$head" = 1 ] && build=$src/build-bench-tls-head
rd_bin=${RD_BIN:-$build/resolverd}
[ -n "$asm_bin" ] || asm_bin=$src/build-bench-tls-asm/resolverd
asm_bin=$(realpath -m "$asm_bin")
in_list() { case ",$2," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
has() { in_list "$1" "$servers"; }
wl() { in_list "$1" "$workloads"; }

#############################################################################################
# Inner half: runs inside the network namespace. Writes $work/raw.tsv, check.txt, tls.*.
#############################################################################################
if [ -n "$inner" ]; then
    work=$inner
    cd "$work"
    require_loopback_only bench-tls
    # s_time and hsclient open ~1-3k connections a second from one address to one port; the
    # client closes first, so its ports sit in TIME_WAIT for 60 s. Both settings are this
    # namespace's own (the host is untouched).
    sysctl -qw net.ipv4.tcp_tw_reuse=1
    sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
    ulimit -n 65536 2>/dev/null || true
    pid=
    trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; true' EXIT

    start_server() { # name
        local s=$1
        case "$s" in
        resolverd) "$rd_bin" -c "$work/resolverd.conf" > "$work/$s.log" 2>&1 & ;;
        resolverd-asm) "$asm_bin" -c "$work/resolverd.conf" > "$work/$s.log" 2>&1 & ;;
        unbound) unbound -d -p -c "$work/unbound.conf" > "$work/$s.log" 2>&1 & ;;
        kresd) kresd -n -c "$work/kresd.conf" "$work/kresd-run" > "$work/$s.log" 2>&1 & ;;
        esac
        pid=$!
        for _ in $(seq 300); do
            if ! kill -0 "$pid" 2>/dev/null; then
                echo "$s exited at start:" >&2; cat "$work/$s.log" >&2; return 1
            fi
            # ready when plain DNS answers and the DoT and DoH ports accept connections
            if [ "$(dig @127.0.0.1 -p "$port" +short +time=1 +tries=1 h1.bench.lab A 2>/dev/null)" = 10.0.0.1 ] &&
                (exec 3<> /dev/tcp/127.0.0.1/$dot) 2>/dev/null && (exec 3<> /dev/tcp/127.0.0.1/$doh) 2>/dev/null; then
                return 0
            fi
            sleep 0.1
        done
        echo "$s did not answer within 30 s" >&2; cat "$work/$s.log" >&2; return 1
    }
    stop_server() {
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=
    }
    now() { date +%s.%N; }
    # the client command for a workload, output to $1 (`times` in the subshell: client CPU)
    client() { # outfile mode
        local f=$1 m=$2 uri="https://127.0.0.1:$doh/dns-query"
        local dp=(dnsperf -s 127.0.0.1 -d "$work/queries" -c 1 -T 1 -l "$secs")
        (
            case "$m" in
            dot-max) "${dp[@]}" -m dot -p "$dot" -q "$outstanding" ;;
            dot-rate) "${dp[@]}" -m dot -p "$dot" -q "$outstanding" -Q "$rate" ;;
            doh-get) "${dp[@]}" -m doh -p "$doh" -q "$outstanding" -O doh-uri="$uri" -O doh-method=GET ;;
            doh-post) "${dp[@]}" -m doh -p "$doh" -q "$outstanding" -O doh-uri="$uri" -O doh-method=POST ;;
            hs-new) "$work/hsclient" hs 127.0.0.1 $dot "$hs_secs" -c "$hs_conc" ;;
            hs-reuse12) openssl s_time -connect 127.0.0.1:$dot -reuse -tls1_2 -time "$hs_secs" ;;
            conn-new) "$work/hsclient" new 127.0.0.1 $dot "$hs_secs" -c "$hs_conc" -n h1.bench.lab ;;
            conn-resume) "$work/hsclient" resume 127.0.0.1 $dot "$hs_secs" -c "$hs_conc" -n h1.bench.lab ;;
            esac > "$f" 2>&1 || echo "client exit status $?" >> "$f"
            times > "$f.times"
        )
    }
    measure() { # server rep mode
        local s=$1 rep=$2 m=$3
        local f=$work/out.$s.$rep.$m load c0 c1 u0 u1 t0 t1 w0 w1
        load=$(cut -d' ' -f1 /proc/loadavg)
        c0=$(cpu_ns_of "$pid")
        read -r u0 t0 <<< "$(cpu_ticks_of "$pid")"
        w0=$(now)
        client "$f" "$m"
        w1=$(now)
        c1=$(cpu_ns_of "$pid")
        read -r u1 t1 <<< "$(cpu_ticks_of "$pid")"
        # ops: queries completed or connections made; bad: lost queries or failed connections;
        # extra: response codes (dnsperf) or resumed connections (handshakes); wall: seconds
        local ops=0 bad=0 extra='' lat=0 wall qps warn
        wall=$(awk -v a="$w0" -v b="$w1" 'BEGIN {printf "%.3f", b - a}')
        case "$m" in
        dot-* | doh-*)
            ops=$(awk '/Queries completed:/ {print $3; exit}' "$f")
            bad=$(awk '/Queries lost:/ {print $3; exit}' "$f")
            qps=$(dnsperf_field "$f" "Queries per second")
            lat=$(dnsperf_field "$f" "Average Latency (s)")
            extra=$(awk -F': *' '/Response codes:/ {gsub(/ /, "_", $2); print $2; exit}' "$f")
            ;;
        hs-reuse12)
            # "N connections in U.UUs; ..." (U is s_time's user CPU, not wall time): the last
            # such line is the measured phase. Progress lines: one character per connection,
            # 'r' when the session was resumed ('*', 't', '3': a new session of some version)
            ops=$(grep -oE '^[0-9]+ connections in [0-9.]+s' "$f" | tail -1 | awk '{print $1}')
            extra=$( (grep -xE '[rt3*]+' "$f" || true) | tr -cd 'r' | wc -c)
            qps=$(awk -v n="${ops:-0}" -v w="$wall" 'BEGIN {printf "%.1f", (w > 0 ? n / w : 0)}')
            ;;
        hs-new | conn-*)
            read -r _ ops _ extra _ bad _ wall _ < <(grep '^connections' "$f" || echo "x 0 x 0 x 0 x $wall")
            qps=$(awk -v n="${ops:-0}" -v w="$wall" 'BEGIN {printf "%.1f", (w > 0 ? n / w : 0)}')
            ;;
        esac
        warn=$(grep -ciE 'warning|timeout|timed out|failed|^error|\[error\]|exit status|unable' "$f" || true)
        case "$m" in hs-new | conn-*) warn=$(grep -c 'exit status' "$f" || true) ;; esac
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$rep" "$m" \
            "${qps:-0}" "${lat:-0}" "${ops:-0}" "${bad:-0}" "$((c1 - c0))" "$((u1 - u0))" \
            "$((t1 - t0))" "$(times_cpu "$f.times")" "$load" "${extra:-none}" "$warn" >> "$work/raw.tsv"
    }
    # What each server negotiates with OpenSSL's client: the TLS 1.3 default (what s_time
    # -new and dnsperf get), TLS 1.2 (s_time -reuse -tls1_2), and ALPN on the DoH port.
    tls_params() { # server
        local s=$1 o
        {
            o=$(echo | timeout 10 openssl s_client -connect 127.0.0.1:$dot -brief -CAfile "$work/ca.crt" 2>&1 | tr -d '\0' || true)
            echo "tls13	$(awk -F': ' '/^Protocol version/ {p = $2} /^Ciphersuite/ {c = $2}
                /^(Server|Peer) Temp Key/ {g = $2} /^Signature type/ {sg = $2} /^Verification/ {v = $2}
                END {print p "\t" c "\t" g "\t" sg "\t" v}' <<< "$o")"
            o=$(echo | timeout 10 openssl s_client -connect 127.0.0.1:$dot -brief -tls1_2 2>&1 | tr -d '\0' || true)
            echo "tls12	$(awk -F': ' '/^Protocol version/ {p = $2} /^Ciphersuite/ {c = $2}
                /^(Server|Peer) Temp Key/ {g = $2} END {print p "\t" c "\t" g}' <<< "$o")"
            o=$(echo | timeout 10 openssl s_client -connect 127.0.0.1:$doh -alpn h2,http/1.1 2>&1 | tr -d '\0' || true)
            echo "doh	$(awk -F', *|: ' '/^New, TLS/ {p = $2; c = $3; sub(/^Cipher is /, "", c)} /^ALPN protocol/ {a = $2}
                /^No ALPN/ {a = "none"} END {print p "\t" c "\t" a}' <<< "$o")"
        } > "$work/tls.$s"
    }
    # Every query of the mix over DoT and over DoH (kdig, one kept-open connection each)
    # compared with the zone's records.
    check_answers() { # server
        local s=$1 t args=() qn qt
        while read -r qn qt; do args+=("$qn" "$qt"); done < "$work/queries"
        for t in tls https; do
            local p=$dot
            [ "$t" = https ] && p=$doh
            timeout 120 kdig @127.0.0.1 -p "$p" +"$t" +tls-ca="$work/ca.crt" +tls-hostname=bench.lab \
                +keepopen +noall +answer "${args[@]}" > "$work/kdig.$s.$t" 2>&1 || true
            awk '!/^;/ && NF {$1 = tolower($1); $1 = $1; print}' "$work/kdig.$s.$t" | sort -u > "$work/got.$s.$t"
            local bad
            bad=$(comm -3 "$work/expected" "$work/got.$s.$t" | wc -l)
            printf '%s\t%s\t%s\t%s\n' "$s" "$t" "$bad" "$(wc -l < "$work/expected")" >> "$work/check.txt"
            if [ "$bad" != 0 ]; then
                echo "$s over $t: $bad answer lines differ from the zone:" >&2
                comm -3 "$work/expected" "$work/got.$s.$t" | head -10 >&2
            fi
        done
    }
    awk '$1 ~ /^h[0-9]+\./ {$1 = $1; print}' "$work/bench.lab.zone" | sort -u > "$work/expected"

    : > "$work/raw.tsv"
    : > "$work/check.txt"
    IFS=, read -r -a list <<< "$servers"
    IFS=, read -r -a wls <<< "$workloads"
    n=${#list[@]}
    for rep in $(seq "$runs"); do
        for k in $(seq 0 $((n - 1))); do
            s=${list[$(((k + rep - 1) % n))]} # rotate the order run by run
            echo "run $rep/$runs: $s" >&2
            start_server "$s"
            if [ "$rep" = 1 ]; then
                tls_params "$s"
                check_answers "$s"
            fi
            dnsperf -s 127.0.0.1 -m dot -p "$dot" -d "$work/queries" -c 1 -T 1 -l "$warmup" \
                > "$work/warmup.$s.$rep" 2>&1 || true
            for m in "${wls[@]}"; do
                measure "$s" "$rep" "$m"
            done
            stop_server
        done
    done
    exit 0
fi
# a shell error (not a failed command) aborts the whole if-block above and lands here
[ -z "$inner" ] || { echo "bench-tls: the measuring half failed" >&2; exit 1; }

#############################################################################################
# Outer half: install, build, make the PKI and data, run the inner half in a namespace.
#############################################################################################
if [ -z "$report" ]; then
    need_pkgs=()
    need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$1"); }
    need dnsperf
    need bind9-dnsutils
    need knot-dnsutils
    need openssl
    need iproute2
    need util-linux
    need procps
    need libwolfssl-dev # bench/tls/hsclient.c
    has unbound && need unbound
    if has resolverd-asm && [ ! -x "$asm_bin" ] && [ ! -f "$src/build-wolfssl-asm/prefix/include/wolfssl/options.h" ]; then
        echo "no $asm_bin: build wolfSSL with scripts/wolfssl-asm.sh and resolverd against it" >&2
        echo "(see the script's header), or pass --asm-bin" >&2
        exit 2
    fi
    has kresd && need knot-resolver
    # unbound and knot-resolver would start system resolvers on install: deps.sh blocks every
    # service start while installing (DEPENDENCIES.md).
    scripts/deps.sh build "${need_pkgs[@]}"

    if [ -z "${RD_BIN:-}" ]; then
        tree_src=.
        if [ "$head" = 1 ]; then
            # a fresh copy only when HEAD moved; git archive stamps every file with the
            # commit's time, which can be older than the objects of the last build: touch
            # them all so make rebuilds everything
            tree_src=$build/src
            if [ "$(cat "$build/src.rev" 2>/dev/null)" != "$(git rev-parse HEAD)" ]; then
                rm -rf "$tree_src"
                mkdir -p "$tree_src"
                git archive HEAD | tar -x -m -C "$tree_src"
                git rev-parse HEAD > "$build/src.rev"
            fi
        fi
        cmake -S "$tree_src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRD_TESTS=OFF -DRD_WERROR=OFF >/dev/null
        cmake --build "$build" -j2 --target resolverd > "$build/bench-build.log" 2>&1 ||
            { cat "$build/bench-build.log" >&2; exit 1; }
        # resolverd-asm from the same source, against the wolfSSL of scripts/wolfssl-asm.sh
        asm_prefix=$src/build-wolfssl-asm/prefix
        if has resolverd-asm && [ "$asm_bin" = "$src/build-bench-tls-asm/resolverd" ] &&
            [ -f "$asm_prefix/include/wolfssl/options.h" ]; then
            # the same build dir serves the working tree and --head: start over when it changes
            home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$src/build-bench-tls-asm/CMakeCache.txt" 2>/dev/null || true)
            [ -z "$home" ] || [ "$home" = "$(realpath "$tree_src")" ] || rm -rf "$src/build-bench-tls-asm"
            PKG_CONFIG_PATH=$asm_prefix/lib/pkgconfig cmake -S "$tree_src" -B "$src/build-bench-tls-asm" \
                -DCMAKE_BUILD_TYPE=Release -DRD_TESTS=OFF -DRD_WERROR=OFF >/dev/null
            cmake --build "$src/build-bench-tls-asm" -j2 --target resolverd > "$build/bench-build-asm.log" 2>&1 ||
                { cat "$build/bench-build-asm.log" >&2; exit 1; }
            ldd "$asm_bin" | grep -q "$asm_prefix" || { echo "$asm_bin is not linked against $asm_prefix" >&2; exit 1; }
        fi
    fi

    work=$(mktemp -d /tmp/bench-tls.XXXXXX)
    chmod 755 "$work"
    if [ "${BENCH_KEEP:-0}" = 1 ]; then trap 'echo "kept: $work" >&2' EXIT; else trap 'rm -rf "$work"' EXIT; fi
    bench/tls/mkcert.sh "$work"
    # the handshake client, the same binary for every server: against wolfSSL with assembly
    # when scripts/wolfssl-asm.sh built it (the client's own crypto then costs a fraction of a
    # server's), Debian's wolfSSL otherwise
    hs_prefix=$src/build-wolfssl-asm/prefix
    if [ -f "$hs_prefix/include/wolfssl/options.h" ]; then
        cc -O2 -o "$work/hsclient" bench/tls/hsclient.c -I"$hs_prefix/include" -L"$hs_prefix/lib" \
            -Wl,-rpath,"$hs_prefix/lib" -lwolfssl
    else
        # shellcheck disable=SC2046
        cc -O2 -o "$work/hsclient" bench/tls/hsclient.c $(pkg-config --cflags --libs wolfssl)
    fi
    hs_lib=$(ldd "$work/hsclient" | awk '/libwolfssl/ {print $3}')
    bench/local/gen-data.sh "$names" "$work"
    for f in resolverd unbound kresd; do
        sed "s|@WORK@|$work|g; s|@PORT@|$port|g; s|@DOT@|$dot|g; s|@DOH@|$doh|g" "bench/tls/$f.conf" > "$work/$f.conf"
    done
    mkdir -p "$work/kresd-run"
    "$rd_bin" --check-config -c "$work/resolverd.conf" >/dev/null
    has unbound && unbound-checkconf "$work/unbound.conf" >/dev/null

    t_start=$(date +%s)
    RD_BIN=$rd_bin tests/integration/netns.sh bash "$self" --runs "$runs" --secs "$secs" \
        --hs-secs "$hs_secs" --hs-conc "$hs_conc" --warmup "$warmup" --rate "$rate" --names "$names" \
        --servers "$servers" --workloads "$workloads" --asm-bin "$asm_bin" --inner "$work"
    t_run=$(($(date +%s) - t_start))
    {
        echo "cmdline=\"$cmdline\""
        echo "t_run=$t_run"
        echo "rd_bin=\"$rd_bin\" asm_bin=\"$asm_bin\""
        echo "quick=$quick head=$head"
        echo "runs=$runs secs=$secs hs_secs=$hs_secs hs_conc=$hs_conc warmup=$warmup rate=$rate names=$names"
        echo "hs_lib=\"$hs_lib\""
        echo "servers=$servers workloads=$workloads"
    } > "$work/meta"
else
    work=$report
    # shellcheck disable=SC1091
    . "$work/meta"
fi

#############################################################################################
# Report
#############################################################################################
mkdir -p bench/results
[ -n "$out" ] || out=bench/results/tls-$(date -u +%Y-%m-%d).md
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$( (git status --porcelain -- src include CMakeLists.txt 2>/dev/null || true) | wc -l)
tree=$rev
[ "$dirty" -gt 0 ] && tree="$rev with $dirty uncommitted file(s) in src/, include/ or CMakeLists.txt"
[ "$head" = 1 ] && tree="$rev as committed (--head: git archive HEAD; uncommitted work left out)"
[ -n "${RD_BIN:-}" ] && [ "$rd_bin" != "$build/resolverd" ] && tree="$tree; resolverd binary: $rd_bin"
ver() {
    case "$1" in
    resolverd)
        echo "$("$rd_bin" --version 2>&1 | head -1), wolfSSL $(pkg-config --modversion wolfssl 2>/dev/null ||
            echo '?') ($(ldd "$rd_bin" | awk '/libwolfssl/ {print $3}')), nghttp2 $(pkg-config --modversion libnghttp2 2>/dev/null || echo '?')"
        ;;
    resolverd-asm)
        echo "$("$asm_bin" --version 2>&1 | head -1) linked against $(ldd "$asm_bin" | awk '/libwolfssl/ {print $3}')"
        echo "    (wolfSSL with --enable-intelasm --enable-aesni --enable-sp --enable-sp-asm: scripts/wolfssl-asm.sh)"
        ;;
    unbound) unbound -V 2>&1 | awk '/^Version/ {v = $2} /^Linked libs/ {sub(/^Linked libs: /, ""); l = $0}
                                      END {print "Unbound " v " (" l ")"}' ;;
    kresd) echo "$(kresd --version 2>&1 | head -1) (GnuTLS $(dpkg-query -W -f='${Version}' libgnutls30 2>/dev/null), nghttp2)" ;;
    esac
}
srvcmd() {
    case "$1" in
    resolverd) echo "resolverd -c resolverd.conf  (bench/tls/resolverd.conf: threads: 1)" ;;
    resolverd-asm) echo "$asm_bin -c resolverd.conf  (the same config)" ;;
    unbound) echo "unbound -d -p -c unbound.conf  (bench/tls/unbound.conf: num-threads: 1)" ;;
    kresd) echo "kresd -n -c kresd.conf RUNDIR  (bench/tls/kresd.conf: one process = one thread)" ;;
    esac
}
cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
IFS=, read -r -a list <<< "$servers"
IFS=, read -r -a wls <<< "$workloads"
peers=()
for s in "${list[@]}"; do case "$s" in resolverd*) ;; *) peers+=("$s") ;; esac; done

# raw.tsv: 1 server, 2 run, 3 mode, 4 ops/s, 5 avg latency (s), 6 ops, 7 lost/failed, 8 server
# CPU ns, 9 user ticks, 10 system ticks, 11 client CPU s, 12 load average, 13 response codes or
# resumed connections, 14 client warning lines. Derived, appended: 15 CPU µs/op (schedstat),
# 16 user µs/op, 17 system µs/op (10 ms ticks), 18 ops per server CPU-second, 19 server CPU
# (% of one core over the run), 20 client CPU (%)
if [ ! -s "$work/raw2.tsv" ]; then
    awk -F'\t' -v OFS='\t' -v secs="$secs" -v hs="$hs_secs" '{
        q = $6 > 0 ? $6 : 1; d = ($3 ~ /^(hs|conn)-/) ? hs : secs
        print $0, $8 / 1000 / q, $9 * 10000 / q, $10 * 10000 / q, ($8 > 0 ? $6 * 1e9 / $8 : 0),
            $8 / 1e7 / d, $11 * 100 / d
    }' "$work/raw.tsv" > "$work/raw2.tsv"
fi
R=$work/raw2.tsv
med() { awk -F'\t' -v s="$1" -v m="$2" -v c="$3" '$1 == s && $3 == m {print $c}' "$R" | median; }
spread() { # server mode column -> (max - min) / median, in %
    awk -F'\t' -v s="$1" -v m="$2" -v c="$3" -v md="$(med "$1" "$2" "$3")" '$1 == s && $3 == m {
        v = $c + 0; if (n == 0 || v < lo) lo = v; if (n == 0 || v > hi) hi = v; n++ }
        END {printf "%.0f%%", (md > 0 ? (hi - lo) * 100 / md : 0)}' "$R"
}
best_peer() { # mode column -> "server value" of the peer with the highest median
    local p b='' bv=0 v
    for p in "${peers[@]}"; do
        v=$(med "$p" "$1" "$2")
        if awk -v a="$v" -v b="$bv" 'BEGIN {exit !(a > b)}'; then b=$p bv=$v; fi
    done
    echo "${b:-none} $bv"
}
ms() { awk -v v="$(med "$@")" 'BEGIN {print v * 1000}'; }
desc() {
    case "$1" in
    dot-max) echo "DoT queries/s, max load (dnsperf -m dot -q $outstanding, one connection)" ;;
    dot-rate) echo "DoT at $(num "$rate") q/s offered (dnsperf -m dot -Q $rate)" ;;
    doh-get) echo "DoH GET queries/s, max load (dnsperf -m doh, HTTP/2, -q $outstanding)" ;;
    doh-post) echo "DoH POST queries/s, max load (dnsperf -m doh, HTTP/2, -q $outstanding)" ;;
    hs-new) echo "full TLS 1.3 handshakes/s (hsclient hs, $hs_conc at once)" ;;
    hs-reuse12) echo "TLS 1.2 resumed handshakes/s (openssl s_time -reuse -tls1_2)" ;;
    conn-new) echo "TLS 1.3 full handshake + 1 query + close, per s (hsclient new)" ;;
    conn-resume) echo "TLS 1.3 ticket resumption + 1 query + close, per s (hsclient resume)" ;;
    esac
}
unit() { case "$1" in dot-* | doh-*) echo query ;; *) echo conn ;; esac; }

{
    echo "# DoT/DoH benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Produced by \`$cmdline\` (see bench/README.md, \"bench-tls\")."
    [ "$quick" = 1 ] && echo "**--quick run: one run of 2 s per workload, for development; not a result.**"
    echo
    echo "- tree: $tree"
    echo "- machine: $cpu_model, $(nproc) online CPUs, Linux $(uname -r); 1-minute load average at the"
    echo "  start of the measured runs: $(awk -F'\t' 'NR == 1 || $12 < lo {lo = $12} NR == 1 || $12 > hi {hi = $12}
        END {print "min " lo ", max " hi}' "$R")"
    echo "  (shared VM: the client and the server compete for 2 cores with other work; expect noise)"
    echo "- servers (one worker thread each, 127.0.0.1, DoT port $dot, DoH port $doh, in one loopback-only"
    echo "  network namespace; one certificate for all: ECDSA P-256 leaf + test CA, made by bench/tls/mkcert.sh):"
    for s in "${list[@]}"; do echo "  - $(ver "$s"): \`$(srvcmd "$s")\`"; done
    echo "- clients: $(dnsperf -h 2>&1 | awk '/^Version/ {print "dnsperf " $2}') (one client, one thread, no EDNS),"
    echo "  $(openssl version | awk '{print $1, $2}') s_time (hs-reuse12 only), bench/tls/hsclient.c"
    echo "  (${hs_conc} connections in flight on one epoll loop; linked against ${hs_lib:-?}; TLS 1.3,"
    echo "  key share X25519, suites AES-256-GCM, ChaCha20-Poly1305, AES-128-GCM as OpenSSL offers them)"
    echo "- data: $names names under bench.lab. ($(wc -l < "$work/queries") (name, type) queries), served as local data"
    echo "  (bench/local/gen-data.sh: zone for resolverd, local-data for Unbound, RPZ for kresd): no"
    echo "  upstream work, the equivalent of answering from cache"
    echo "- method: $runs run(s) per server, servers rotating, each restarted per run; a ${warmup} s DoT"
    echo "  warm-up, then each workload in turn: dnsperf runs of ${secs} s, handshake runs of ${hs_secs} s."
    echo "  CPU/op = the server's CPU time (all threads, /proc/PID/task/*/schedstat) during the run /"
    echo "  operations (queries completed or connections made). Medians below."
    echo "- wall time of the measuring part: ${t_run} s"
    echo
    echo "## What each server negotiates (openssl s_client -brief)"
    echo
    echo "| server | default (s_time -new, dnsperf) | group | signature | TLS 1.2 (s_time -reuse -tls1_2) | DoH port, ALPN offered h2,http/1.1 |"
    echo "|---|---|---|---|---|---|"
    for s in "${list[@]}"; do
        [ -s "$work/tls.$s" ] || continue
        IFS=$'\t' read -r _ p13 c13 g13 sg13 v13 < <(grep '^tls13' "$work/tls.$s")
        IFS=$'\t' read -r _ p12 c12 g12 < <(grep '^tls12' "$work/tls.$s")
        IFS=$'\t' read -r _ ph ch ah < <(grep '^doh' "$work/tls.$s")
        echo "| $s | $p13 $c13 | $g13 | $sg13 (chain verified: $v13) | $p12 $c12, $g12 | $ph $ch, ALPN ${ah:-none} |"
    done
    echo
    echo "## Answers"
    echo
    echo "Every query of the mix asked over one DoT and one DoH (POST) connection with kdig, answer"
    echo "sections compared with the zone's records:"
    echo
    echo "| server | transport | answer lines expected | lines differing |"
    echo "|---|---|---:|---:|"
    while IFS=$'\t' read -r s t bad total; do
        echo "| $s | $t | $total | $bad |"
    done < "$work/check.txt"
    echo
    echo "## Results (medians of $runs run(s))"
    echo
    echo "| workload | server | ops/s | avg latency (ms) | lost or failed | CPU µs/op | user µs/op | system µs/op | ops per CPU-second | server CPU (% of a core) | client CPU (%) | resumed |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for m in "${wls[@]}"; do
        for s in "${list[@]}"; do
            res=''
            case "$m" in
            hs-* | conn-*) res="$(num "$(med "$s" "$m" 13)") of $(num "$(med "$s" "$m" 6)")" ;;
            esac
            lat=''
            case "$m" in dot-* | doh-*) lat=$(num "$(ms "$s" "$m" 5)" 3) ;; esac
            printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$m" "$s" \
                "$(num "$(med "$s" "$m" 4)")" "$lat" "$(num "$(med "$s" "$m" 7)")" \
                "$(num "$(med "$s" "$m" 15)" 2)" "$(num "$(med "$s" "$m" 16)" 2)" "$(num "$(med "$s" "$m" 17)" 2)" \
                "$(num "$(med "$s" "$m" 18)")" "$(num "$(med "$s" "$m" 19)")" "$(num "$(med "$s" "$m" 20)")" "$res"
        done
    done
    echo
    echo "ops are queries (dot-*, doh-*) or connections (hs-*, conn-*). \"resumed\": connections that"
    echo "resumed a session (s_time's 'r' marks; hsclient's wolfSSL_session_reused), of those made."
    echo "\"ops per CPU-second\" is the inverse of CPU/op: what one worker could do with a core to itself."
    echo
    echo "Spread over the runs ((max - min) / median) of ops/s and of CPU/op:"
    echo
    echo "| workload | $(printf '%s | ' "${list[@]}" | sed 's/ | $//') |"
    echo "|---|$(printf -- '---:|%.0s' "${list[@]}")"
    for m in "${wls[@]}"; do
        row="| $m |"
        for s in "${list[@]}"; do row="$row $(spread "$s" "$m" 4) / $(spread "$s" "$m" 15) |"; done
        echo "$row"
    done
    if has resolverd && [ ${#peers[@]} -gt 0 ]; then
        echo
        echo "## Ratios: resolverd / the better peer"
        echo
        echo "For each workload the peer with the higher median is the reference. Target (issue 7):"
        echo "resolverd >= 1.2x the better of Unbound and Knot Resolver on DoT/DoH queries/s and on"
        echo "new-connection handshakes/s, resumption counted separately."
        echo
        echo "| workload | better peer (ops/s) | ops/s ratio | better peer (ops per CPU-s) | ops per CPU-second ratio | target |"
        echo "|---|---|---:|---|---:|---|"
        for m in "${wls[@]}"; do
            read -r bp bv <<< "$(best_peer "$m" 4)"
            read -r cp cv <<< "$(best_peer "$m" 18)"
            r=$(ratio "$(med resolverd "$m" 4)" "$bv")
            rc=$(ratio "$(med resolverd "$m" 18)" "$cv")
            t=''
            case "$m" in
            dot-max | doh-get | doh-post | hs-new | conn-resume | hs-reuse12)
                t=$(awk -v a="$(med resolverd "$m" 4)" -v b="$bv" 'BEGIN {
                    if (a <= 0 || b <= 0) print "n/a"; else if (a / b >= 1.2) print ">= 1.2x: met"; else print ">= 1.2x: not met" }')
                ;;
            esac
            echo "| $m | $bp ($(num "$bv")) | $r | $cp ($(num "$cv")) | $rc | $t |"
        done
    fi
    if has resolverd-asm; then
        echo
        echo "## resolverd with wolfSSL assembly (resolverd-asm)"
        echo
        echo "The same resolverd source and configuration linked against wolfSSL built with"
        echo "--enable-intelasm --enable-aesni --enable-sp --enable-sp-asm (scripts/wolfssl-asm.sh)."
        echo
        echo "| workload | asm / Debian build, ops/s | asm / Debian build, ops per CPU-s | asm / better peer, ops/s | asm / better peer, ops per CPU-s |"
        echo "|---|---:|---:|---:|---:|"
        for m in "${wls[@]}"; do
            read -r _ bv <<< "$(best_peer "$m" 4)"
            read -r _ cv <<< "$(best_peer "$m" 18)"
            echo "| $m | $(ratio "$(med resolverd-asm "$m" 4)" "$(med resolverd "$m" 4)") |" \
                "$(ratio "$(med resolverd-asm "$m" 18)" "$(med resolverd "$m" 18)") |" \
                "$(ratio "$(med resolverd-asm "$m" 4)" "$bv") | $(ratio "$(med resolverd-asm "$m" 18)" "$cv") |"
        done
    fi
    echo
    echo "## Every run"
    echo
    echo "| server | run | workload | ops/s | avg latency (ms) | ops | lost/failed | CPU µs/op | user µs/op | system µs/op | server CPU % | client CPU % | load avg | rcodes or resumed | client warnings |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
    sort -t$'\t' -k2,2n -k3,3 -k1,1 "$R" | while IFS=$'\t' read -r s rep m qps lat ops bad _ _ _ _ load ex warn c15 c16 c17 _ c19 c20; do
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$rep" "$m" \
            "$(num "$qps")" "$(num "$(awk -v v="$lat" 'BEGIN {print v * 1000}')" 3)" "$(num "$ops")" "$bad" \
            "$(num "$c15" 2)" "$(num "$c16" 2)" "$(num "$c17" 2)" "$(num "$c19")" "$(num "$c20")" "$load" \
            "${ex//_/ }" "$warn"
    done
    echo
    echo "## Commands"
    echo
    echo '```'
    echo "dnsperf -s 127.0.0.1 -d queries -c 1 -T 1 -l $secs -m dot -p $dot -q $outstanding             # dot-max"
    echo "dnsperf -s 127.0.0.1 -d queries -c 1 -T 1 -l $secs -m dot -p $dot -q $outstanding -Q $rate    # dot-rate"
    echo "dnsperf -s 127.0.0.1 -d queries -c 1 -T 1 -l $secs -m doh -p $doh -q $outstanding \\"
    echo "    -O doh-uri=https://127.0.0.1:$doh/dns-query -O doh-method=GET   # doh-get (POST: doh-post)"
    echo "hsclient hs 127.0.0.1 $dot $hs_secs -c $hs_conc                             # hs-new"
    echo "openssl s_time -connect 127.0.0.1:$dot -reuse -tls1_2 -time $hs_secs       # hs-reuse12"
    echo "hsclient new|resume 127.0.0.1 $dot $hs_secs -c $hs_conc -n h1.bench.lab    # conn-new, conn-resume"
    echo '```'
} > "$work/report.md"
cp "$work/report.md" "$out"
cat "$out"
echo >&2
echo "written: $out" >&2
