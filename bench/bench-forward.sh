#!/usr/bin/env bash
# Forwarding benchmark over DoT with a cold cache (issue 8): resolverd (`forward:` `name: .`,
# `upstream: tls://...`) against Unbound (`forward-tls-upstream: yes`), one worker thread and
# 64 MiB of cache each, both forwarding to the same DoT upstream, in one loopback-only network
# namespace (tests/integration/netns.sh). See bench/README.md, "bench-forward".
#
# The upstream, started once for the whole run: a resolverd (its own Release build, two worker
# threads) serving the wildcard zone bench. (bench/forward/bench.zone: * A 192.0.2.1, TTL
# 3600) over DoT on 127.0.0.53@853, with a certificate for upstream.bench signed by a test CA
# that this script makes with openssl. Its CPU time is reported, to show it is not the limit.
#
# Workload: dnsperf (one client, one thread, no EDNS) asking max<N>.bench. A (high<N>, rate<N>),
# every name once (-n 1): each question is new, so every one goes upstream over DoT. Per
# forwarder and run (forwarder restarted each run, servers alternating, order rotating):
#   warm-up  a few seconds of new names (TLS connections opened; the cache stays cold for
#            the names that follow)
#   max      no rate limit, -q in flight (default 200)
#   high     no rate limit, -q 500 (--high): more in flight than the forwarder's connections
#            carry at once (resolverd: 2 x 100 per upstream and worker); what happens then
#   rate     a fixed offered rate below both maxima, with -v: p50 and p99 of the per-query
#            latencies (dnsperf's "> RCODE name type seconds" lines)
#   probe    resumption: with a capture on port 853 (tshark), the forwarder sits idle until
#            the upstream closes its connections (tcp-idle-timeout 2 s), then gets one new
#            question: does its new connection resume the TLS session (TLS 1.3 ServerHello
#            with a pre_shared_key extension, or a TLS 1.2 abbreviated handshake)?
# Measured: queries/s, lost queries, p50/p99 latency, the forwarder's CPU time per completed
# query (all threads, /proc/PID/task/*/schedstat), the upstream's and dnsperf's CPU use, the
# DoT connections towards 127.0.0.53:853 (ss -tn, sampled every 0.5 s: most at once, and the
# distinct ones seen). Medians of --runs runs. Writes bench/results/forward-<UTC date>.md.
#
# Usage: bench/bench-forward.sh [options]
#   --runs R        runs per forwarder (default 3)
#   --secs S        length of each measured dnsperf run (default 10)
#   --warmup S      warm-up before the measured runs (default 2)
#   --rate Q        offered rate of the fixed-rate run, queries/s (default 4000)
#   --outstanding Q dnsperf -q at maximum load (default 200)
#   --high Q        a second maximum-load run with -q Q (default 500; 0: none): more questions
#                   in flight than a forwarder's upstream connections carry at once
#   --servers LIST  comma-separated subset of resolverd,unbound (default both)
#   --quick         development: 1 run, 3 s runs, 1 s warm-up
#   --out FILE      results file (default bench/results/forward-<UTC date>.md)
# BENCH_KEEP=1 keeps the work dir (PKI, configs, logs, dnsperf outputs, captures).
# Needs root to install missing packages (scripts/deps.sh: no service is started).
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
src=$PWD
. bench/lib.sh

runs=3 secs=10 warmup=2 rate=8000 outstanding=200 high=500 servers=resolverd,unbound
out='' inner='' port=5300 quick=0
cmdline="bench/bench-forward.sh${*:+ $*}"
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs=$2; shift ;;
    --secs) secs=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --rate) rate=$2; shift ;;
    --outstanding) outstanding=$2; shift ;;
    --high) high=$2; shift ;;
    --servers) servers=$2; shift ;;
    --quick) quick=1 ;;
    --out) out=$2; shift ;;
    --inner) inner=$2; shift ;; # internal: the measuring half, inside the namespace
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ "$quick" = 1 ] && runs=1 secs=3 warmup=1
build=$src/build-bench-fwd
upaddr=127.0.0.53
# names per query file: more than any forwarder can ask in one run (dnsperf stops at the end)
nnames=$((secs * 60000 + 100000))

#############################################################################################
# Inner half: runs inside the network namespace. Writes $work/raw.tsv and $work/probe.tsv.
#############################################################################################
if [ -n "$inner" ]; then
    work=$inner
    cd "$work"
    require_loopback_only bench-forward
    pid='' uppid='' tspid=''
    trap 'for p in $pid $uppid $tspid; do kill -9 "$p" 2>/dev/null; done; true' EXIT

    # UDP datagrams dropped for a full receive buffer, in this namespace (/proc/net/snmp)
    udp_rcvbuf_errors() { awk '$1 == "Udp:" && ++n == 2 {print $6}' /proc/net/snmp; }
    answer() { dig @"$1" -p "$2" +short +time=1 +tries=1 "$3" A 2>/dev/null; }
    # the upstream, once: plain DNS on 53 answers when the zone is loaded; then DoT must listen
    "$build/resolverd" -c "$work/upstream.conf" > "$work/upstream.log" 2>&1 &
    uppid=$!
    for _ in $(seq 100); do
        [ "$(answer "$upaddr" 53 ready.bench)" = 192.0.2.1 ] && ss -Htln "src $upaddr:853" | grep -q . && break
        kill -0 "$uppid" 2>/dev/null || { echo "upstream exited:" >&2; cat "$work/upstream.log" >&2; exit 1; }
        sleep 0.1
    done
    ss -Htln "src $upaddr:853" | grep -q . || { echo "upstream DoT not listening" >&2; exit 1; }

    start_server() { # name
        case "$1" in
        resolverd) "$build/resolverd" -c "$work/resolverd.conf" > "$work/$1.log" 2>&1 & ;;
        unbound) unbound -d -p -c "$work/unbound.conf" > "$work/$1.log" 2>&1 & ;;
        esac
        pid=$!
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || { echo "$1 exited at start:" >&2; cat "$work/$1.log" >&2; return 1; }
            # a new name each try: the answer comes over DoT from the upstream
            [ "$(answer 127.0.0.1 "$port" "start$RANDOM.bench")" = 192.0.2.1 ] && return 0
            sleep 0.1
        done
        echo "$1 did not answer over DoT within 10 s" >&2; cat "$work/$1.log" >&2; return 1
    }
    stop_server() {
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=
    }
    # DoT connections of the forwarder: local ports of established connections to the upstream
    conn_ports() { ss -Htn state established "dst $upaddr:853" | awk '{n = split($3, a, ":"); print a[n]}'; }
    sampler() { # file: every 0.5 s, "count port..." until killed
        while :; do
            echo "$(conn_ports | wc -l) $(conn_ports | tr '\n' ' ')" >> "$1"
            sleep 0.5
        done
    }
    dnsperf_run() { # outfile queries extra-args...
        local f=$1 q=$2
        shift 2
        (dnsperf -s 127.0.0.1 -p "$port" -d "$q" -n 1 -c 1 -T 1 "$@" > "$f" 2>&1 ||
            echo "dnsperf exit status $?" >> "$f"; times > "$f.times")
    }
    measure() { # server rep mode queries extra-args...
        local s=$1 rep=$2 mode=$3 q=$4
        shift 4
        local f=$work/dnsperf.$s.$rep.$mode load c0 c1 u0 u1 spid d0 d1
        load=$(cut -d' ' -f1 /proc/loadavg)
        d0=$(udp_rcvbuf_errors)
        : > "$f.conns"
        sampler "$f.conns" &
        spid=$!
        c0=$(cpu_ns_of "$pid")
        u0=$(cpu_ns_of "$uppid")
        dnsperf_run "$f" "$q" -l "$secs" "$@"
        c1=$(cpu_ns_of "$pid")
        u1=$(cpu_ns_of "$uppid")
        d1=$(udp_rcvbuf_errors)
        kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null || true
        local comp lost qps rc warn p50 p99 cl runt cmax cdist sf
        comp=$(awk '/Queries completed:/ {print $3; exit}' "$f")
        lost=$(awk '/Queries lost:/ {print $3; exit}' "$f")
        qps=$(dnsperf_field "$f" "Queries per second")
        runt=$(dnsperf_field "$f" "Run time (s)")
        rc=$(awk -F': *' '/Response codes:/ {gsub(/ /, "_", $2); print $2; exit}' "$f")
        sf=$(awk '/Response codes:/ {for (i = 1; i < NF; i++) if ($i == "SERVFAIL") print $(i + 1) + 0; exit}' "$f")
        warn=$(grep -v '^>' "$f" | grep -ciE 'warning|timeout|timed out|failed|^error|\[error\]|exit status' || true)
        # percentiles of the per-query latencies dnsperf -v prints ("> RCODE name type seconds")
        pct() {
            awk '$1 == ">" && NF == 5 {print $5}' "$f" | sort -g |
                awk -v p="$1" '{v[NR] = $1} END {if (NR) {i = int(NR * p); if (i < NR * p) i++; if (i < 1) i = 1; print v[i]} else print "-"}'
        }
        p50=- p99=-
        if [ "$mode" = rate ]; then p50=$(pct 0.5); p99=$(pct 0.99); fi
        cl=$(times_cpu "$f.times")
        cmax=$(awk '$1 > m {m = $1} END {print m + 0}' "$f.conns")
        cdist=$(awk '{for (i = 2; i <= NF; i++) p[$i] = 1} END {print length(p)}' "$f.conns")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$rep" "$mode" \
            "${qps:-0}" "${comp:-0}" "${lost:-0}" "$p50" "$p99" "$((c1 - c0))" "$((u1 - u0))" "$cl" \
            "${runt:-$secs}" "$cmax" "$cdist" "$load" "${rc:-none}|$warn" "${sf:-0}" "$((d1 - d0))" >> "$work/raw.tsv"
    }
    # Resumption: idle until the upstream closes (tcp-idle-timeout 2 s), then one new question
    # with a capture running; TLS 1.3 resumption = a ServerHello carrying pre_shared_key (41).
    probe() { # server rep
        local s=$1 rep=$2 cap=$work/probe.$1.$2.pcap before after
        before=$(conn_ports | wc -l)
        tshark -q -i lo -f "tcp port 853" -w "$cap" > "$cap.log" 2>&1 &
        tspid=$!
        for _ in $(seq 50); do grep -q "Capturing on" "$cap.log" && break; sleep 0.1; done
        sleep 3
        after=$(conn_ports | wc -l)
        local a
        a=$(answer 127.0.0.1 "$port" "probe$rep.bench")
        sleep 0.5
        kill -INT "$tspid" 2>/dev/null; wait "$tspid" 2>/dev/null || true
        tspid=
        local ch sh psk_offered psk_accepted
        ch=$(tshark -r "$cap" -Y "tls.handshake.type == 1" 2>/dev/null | wc -l)
        sh=$(tshark -r "$cap" -Y "tls.handshake.type == 2" 2>/dev/null | wc -l)
        psk_offered=$(tshark -r "$cap" -Y "tls.handshake.type == 1 && tls.handshake.extension.type == 41" 2>/dev/null | wc -l)
        psk_accepted=$(tshark -r "$cap" -Y "tls.handshake.type == 2 && tls.handshake.extension.type == 41" 2>/dev/null | wc -l)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$rep" "$before" "$after" "${a:-none}" \
            "$ch" "$sh" "$psk_offered" "$psk_accepted" >> "$work/probe.tsv"
    }

    : > "$work/raw.tsv"
    : > "$work/probe.tsv"
    IFS=, read -r -a list <<< "$servers"
    n=${#list[@]}
    for rep in $(seq "$runs"); do
        for k in $(seq 0 $((n - 1))); do
            s=${list[$(((k + rep - 1) % n))]} # rotate the order run by run
            echo "run $rep/$runs: $s" >&2
            start_server "$s"
            # fresh names for every phase: the warm-up opens connections, caches nothing reused
            dnsperf_run "$work/warmup.$s.$rep" "$work/q.warm" -l "$warmup" -q "$outstanding"
            measure "$s" "$rep" max "$work/q.max" -q "$outstanding"
            [ "$high" = 0 ] || measure "$s" "$rep" high "$work/q.high" -q "$high"
            # the rate run last: the resumption probe wants the connections it leaves open
            measure "$s" "$rep" rate "$work/q.rate" -q "$outstanding" -Q "$rate" -v
            probe "$s" "$rep"
            stop_server
        done
    done
    kill -TERM "$uppid" 2>/dev/null || true
    wait "$uppid" 2>/dev/null || true
    uppid=
    exit 0
fi

#############################################################################################
# Outer half: install, build, make the PKI and the data, run the inner half, write the report.
#############################################################################################
need_pkgs=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$1"); }
need dnsperf
need bind9-dnsutils
need iproute2
need util-linux
need openssl
need tshark
case ",$servers," in *,unbound,*) need unbound ;; esac
[ ${#need_pkgs[@]} = 0 ] || scripts/deps.sh build "${need_pkgs[@]}"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRD_TESTS=OFF -DRD_WERROR=OFF >/dev/null
cmake --build "$build" -j2 --target resolverd >/dev/null

work=$(mktemp -d /tmp/bench-forward.XXXXXX)
chmod 755 "$work"
if [ "${BENCH_KEEP:-0}" = 1 ]; then trap 'echo "kept: $work" >&2' EXIT; else trap 'rm -rf "$work"' EXIT; fi

# test PKI: a CA (ECDSA P-256) and the upstream's certificate for upstream.bench (and its IP)
(
    cd "$work"
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=resolverd bench-forward CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out ca.crt 2>/dev/null
    openssl ecparam -name prime256v1 -genkey -noout -out server.key 2>/dev/null
    openssl req -new -key server.key -subj "/CN=upstream.bench" -out server.csr 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:upstream.bench,IP:$upaddr" "extendedKeyUsage=serverAuth" \
        "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 2 \
        -extfile server.ext -out server.crt 2>/dev/null
    cat server.crt ca.crt > server.chain
    openssl verify -CAfile ca.crt server.crt >/dev/null
)
for f in upstream resolverd unbound; do
    sed "s|@WORK@|$work|g; s|@PORT@|$port|g" "bench/forward/$f.conf" > "$work/$f.conf"
done
cp bench/forward/bench.zone bench/forward/fence.hints "$work/"
mkdir -p "$work/upstream-state" "$work/resolverd-state"
for p in warm max rate high; do
    awk -v n="$nnames" -v p="$p" 'BEGIN {for (i = 0; i < n; i++) printf "%s%d.bench A\n", p, i}' > "$work/q.$p"
done
"$build/resolverd" --check-config -c "$work/upstream.conf" >/dev/null
"$build/resolverd" --check-config -c "$work/resolverd.conf" >/dev/null
case ",$servers," in *,unbound,*) unbound-checkconf "$work/unbound.conf" >/dev/null ;; esac

t_start=$(date +%s)
tests/integration/netns.sh bash "$self" --runs "$runs" --secs "$secs" --warmup "$warmup" \
    --rate "$rate" --outstanding "$outstanding" --high "$high" --servers "$servers" --inner "$work"
t_run=$(($(date +%s) - t_start))

#############################################################################################
# Report
#############################################################################################
mkdir -p bench/results
[ -n "$out" ] || out=bench/results/forward-$(date -u +%Y-%m-%d).md
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$( (git status --porcelain -- src include CMakeLists.txt 2>/dev/null || true) | wc -l)
tree=$rev
[ "$dirty" -gt 0 ] && tree="$rev with $dirty uncommitted file(s) in src/, include/ or CMakeLists.txt"
ver() {
    case "$1" in
    resolverd) "$build/resolverd" --version 2>&1 | head -1 ;;
    unbound) unbound -V 2>&1 | awk '/^Version/ {print "Unbound " $2; exit}' ;;
    esac
}
srvcmd() {
    case "$1" in
    resolverd) echo "build-bench-fwd/resolverd -c resolverd.conf  (bench/forward/resolverd.conf: threads: 1, cache-size: 64m, forward . to tls://$upaddr@853#upstream.bench)" ;;
    unbound) echo "unbound -d -p -c unbound.conf  (bench/forward/unbound.conf: num-threads: 1, msg 21m + rrset 43m, forward-tls-upstream to $upaddr@853#upstream.bench)" ;;
    esac
}
cpu_model=$(awk -F'model name\t: ' 'NF > 1 {print $2; exit}' /proc/cpuinfo)
IFS=, read -r -a list <<< "$servers"

# raw.tsv: 1 server, 2 run, 3 mode, 4 q/s, 5 completed, 6 lost, 7 p50 (s), 8 p99 (s),
# 9 forwarder CPU ns, 10 upstream CPU ns, 11 dnsperf CPU s, 12 run time (s), 13 most DoT
# connections at once, 14 distinct DoT connections seen, 15 load average, 16 response
# codes|dnsperf warnings, 17 SERVFAIL answers, 18 UDP receive-buffer drops (netns);
# derived: 19 CPU µs/query, 20 forwarder CPU (% of a core), 21 upstream CPU (% of a core),
# 22 dnsperf CPU (% of a core), 23 p50 ms, 24 p99 ms, 25 answers other than SERVFAIL per second
awk -F'\t' -v OFS='\t' '{
    q = $5 > 0 ? $5 : 1; t = $12 > 0 ? $12 : 1
    print $0, $9 / 1000 / q, $9 / 1e7 / t, $10 / 1e7 / t, $11 * 100 / t,
        ($7 == "-" ? "-" : $7 * 1000), ($8 == "-" ? "-" : $8 * 1000), ($5 - $17) / t
}' "$work/raw.tsv" > "$work/raw2.tsv"
mv "$work/raw2.tsv" "$work/raw.tsv"
med() { # server mode column
    awk -F'\t' -v s="$1" -v m="$2" -v c="$3" '$1 == s && $3 == m && $c != "-" {print $c}' "$work/raw.tsv" | median
}
spread() { # server mode column -> (max - min) / median, in %
    awk -F'\t' -v s="$1" -v m="$2" -v c="$3" -v md="$(med "$1" "$2" "$3")" '$1 == s && $3 == m {
        v = $c + 0; if (n == 0 || v < lo) lo = v; if (n == 0 || v > hi) hi = v; n++ }
        END {printf "%.0f%%", (md > 0 ? (hi - lo) * 100 / md : 0)}' "$work/raw.tsv"
}
colsum() { awk -F'\t' -v s="$1" -v c="$2" '$1 == s {l += $c} END {print l + 0}' "$work/raw.tsv"; }
resumed() { # server -> "yes (k of n probes)" / "no ..."
    awk -F'\t' -v s="$1" '$1 == s {n++; if ($9 > 0) r++; if ($6 > 0) h++}
        END {if (!n) print "not probed"; else if (!h) printf "no new connection (%d probes)", n;
             else printf "%s (%d of %d probes)", (r == n ? "yes" : (r ? "partly" : "no")), r, n}' "$work/probe.tsv"
}

{
    echo "# Forwarding over DoT, cold cache: resolverd vs Unbound, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Produced by \`$cmdline\` (see bench/README.md, \"bench-forward\")."
    echo
    echo "- tree: $tree"
    echo "- machine: $cpu_model, $(nproc) online CPUs, Linux $(uname -r); 1-minute load average at the"
    echo "  start of the measured runs: $(awk -F'\t' 'NR == 1 || $15 < lo {lo = $15} NR == 1 || $15 > hi {hi = $15}
        END {print "min " lo ", max " hi}' "$work/raw.tsv")"
    echo "  (shared VM: dnsperf, the forwarder and the upstream compete for $(nproc) cores with other work;"
    echo "  expect noise)"
    echo "- forwarders under test (one worker thread, 64 MiB of cache each, 127.0.0.1 port $port):"
    for s in "${list[@]}"; do echo "  - $(ver "$s"): \`$(srvcmd "$s")\`"; done
    echo "- upstream (the same for both, started once): $(ver resolverd), \`build-bench-fwd/resolverd -c upstream.conf\`"
    echo "  (bench/forward/upstream.conf: threads: 2, DoT on $upaddr@853, zone bench. with \`* 3600 A 192.0.2.1\`,"
    echo "  certificate for upstream.bench (ECDSA P-256) from a test CA made by the script, tcp-idle-timeout 2s)."
    echo "  resolverd rather than NSD: it serves DoT from a wildcard zone with one config file, and"
    echo "  both forwarders talk to exactly the same server."
    echo "- client: $(dnsperf -h 2>&1 | awk '/^Version/ {print "dnsperf " $2}'), one client, one thread, no EDNS, every name once (cold cache):"
    echo "  \`dnsperf -s 127.0.0.1 -p $port -d q.max -n 1 -c 1 -T 1 -q $outstanding -l $secs\` (maximum load),"
    [ "$high" = 0 ] || echo "  the same with \`-d q.high -q $high\` (maximum load, more in flight),"
    echo "  \`dnsperf -s 127.0.0.1 -p $port -d q.rate -n 1 -c 1 -T 1 -q $outstanding -l $secs -Q $rate -v\` (fixed rate,"
    echo "  per-query latencies); each forwarder restarted per run, after a ${warmup} s warm-up on other new names"
    echo "  (\`q.warm\`: it opens the DoT connections). q.warm/q.max/q.high/q.rate: ${nnames} names each, \`max<N>.bench A\` etc."
    echo "- method: $runs runs per forwarder, forwarders alternating (the order rotates each run); medians."
    echo "  CPU/query = the forwarder's CPU time (all threads, /proc/PID/task/*/schedstat) during the"
    echo "  measured run / queries completed. DoT connections: \`ss -tn state established dst $upaddr:853\`"
    echo "  sampled every 0.5 s during the run (most at once / distinct local ports seen)."
    echo "- wall time of the measuring part: ${t_run} s"
    echo
    echo "## Results (medians of $runs runs)"
    echo
    conns() { echo "$(med "$1" "$2" 13) / $(med "$1" "$2" 14)"; }
    short() { # server: " (only N q/s)" when the fixed rate was not reached
        awk -v a="$(med "$1" rate 4)" -v o="$rate" 'BEGIN {if (a < 0.95 * o) printf " (only %d q/s)", a}'
    }
    for mode in max high; do
        [ "$mode" = high ] && ! awk -F'\t' '$3 == "high" {f = 1} END {exit !f}' "$work/raw.tsv" && continue
        if [ "$mode" = max ]; then
            echo "At maximum load (\`-q $outstanding\` in flight, no rate limit):"
        else
            echo "At maximum load with more in flight (\`-q $high\`): more questions at once than resolverd's"
            echo "connections to one upstream carry (RD_UP_CONNS_PER_UPSTREAM 2 x RD_UP_CONN_INFLIGHT 100 per worker):"
        fi
        echo
        echo "| forwarder | q/s | q/s without SERVFAIL | lost | of which UDP buffer drops | SERVFAIL | CPU µs/query | forwarder CPU (% of a core) | upstream CPU (% of a core) | dnsperf CPU (% of a core) | DoT connections: most at once / distinct |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for s in "${list[@]}"; do
            printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$(num "$(med "$s" $mode 4)")" \
                "$(num "$(med "$s" $mode 25)")" \
                "$(num "$(med "$s" $mode 6)")" "$(num "$(med "$s" $mode 18)")" "$(num "$(med "$s" $mode 17)")" \
                "$(num "$(med "$s" $mode 19)" 2)" "$(num "$(med "$s" $mode 20)")" "$(num "$(med "$s" $mode 21)")" \
                "$(num "$(med "$s" $mode 22)")" "$(conns "$s" $mode)"
        done
        echo
    done
    echo "At a fixed offered rate (\`-Q $rate\`, \`-v\`: p50 and p99 over the answered queries):"
    echo
    echo "| forwarder | q/s | lost | SERVFAIL | p50 latency (ms) | p99 latency (ms) | CPU µs/query | forwarder CPU (% of a core) | upstream CPU (% of a core) | DoT connections: most at once / distinct |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for s in "${list[@]}"; do
        printf '| %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$(num "$(med "$s" rate 4)")" "$(short "$s")" \
            "$(num "$(med "$s" rate 6)")" "$(num "$(med "$s" rate 17)")" "$(num "$(med "$s" rate 23)" 3)" \
            "$(num "$(med "$s" rate 24)" 3)" "$(num "$(med "$s" rate 19)" 2)" "$(num "$(med "$s" rate 20)")" \
            "$(num "$(med "$s" rate 21)")" "$(conns "$s" rate)"
    done
    echo
    echo "Spread over the runs ((max - min) / median): $(for s in "${list[@]}"; do
        printf '%s: max q/s %s, p99 %s, CPU/query at max load %s; ' "$s" "$(spread "$s" max 4)" \
            "$(spread "$s" rate 24)" "$(spread "$s" max 19)"; done | sed 's/; $/./')"
    echo
    echo "## TLS session resumption"
    echo
    echo "After the fixed-rate run the forwarder sits idle 3 s with a capture on port 853 (tshark);"
    echo "the upstream closes idle DoT connections after 2 s (its tcp-idle-timeout); then one new"
    echo "question. A resumed TLS 1.3 session is a ServerHello carrying the pre_shared_key extension"
    echo "(41), answering a ClientHello that offers one."
    echo
    echo "| forwarder | run | connections before / after the idle close | answer | ClientHellos | ServerHellos | ClientHellos offering a PSK | ServerHellos accepting it |"
    echo "|---|---:|---|---|---:|---:|---:|---:|"
    while IFS=$'\t' read -r s rep b a ans ch sh po pa; do
        echo "| $s | $rep | $b / $a | $ans | $ch | $sh | $po | $pa |"
    done < "$work/probe.tsv"
    echo
    for s in "${list[@]}"; do echo "- $s: resumed: $(resumed "$s")"; done
    if [[ ",$servers," == *,resolverd,* && ",$servers," == *,unbound,* ]]; then
        qr=$(awk -v a="$(med resolverd max 4)" -v b="$(med unbound max 4)" 'BEGIN {print (b > 0 ? a / b : 0)}')
        pr=$(awk -v a="$(med resolverd rate 24)" -v b="$(med unbound rate 24)" 'BEGIN {print (b > 0 ? a / b : 99)}')
        echo
        echo "## Ratio resolverd / Unbound and the target"
        echo
        echo "q/s: > 1 means resolverd answered more; latency and CPU/query: < 1 means resolverd was faster"
        echo "or spent less CPU per answer."
        echo
        echo "| max q/s (\`-q $outstanding\`) | p50 at $(num "$rate") q/s | p99 at $(num "$rate") q/s | CPU/query at max load | CPU/query at $(num "$rate") q/s | target (issue 8: q/s >= 1.2x Unbound at equal or lower p99) |"
        echo "|---:|---:|---:|---:|---:|---|"
        verdict=$(awk -v q="$qr" -v p="$pr" 'BEGIN {
            printf "%s: q/s %.2fx (%s), p99 %.2fx (%s)", (q >= 1.2 && p <= 1) ? "**met**" : "**not met**",
                q, (q >= 1.2 ? "ok" : "below 1.2x"), p, (p <= 1 ? "ok" : "higher than Unbound")}')
        echo "| $(ratio "$(med resolverd max 4)" "$(med unbound max 4)") | $(ratio "$(med resolverd rate 23)" "$(med unbound rate 23)") | $(ratio "$(med resolverd rate 24)" "$(med unbound rate 24)") | $(ratio "$(med resolverd max 19)" "$(med unbound max 19)") | $(ratio "$(med resolverd rate 19)" "$(med unbound rate 19)") | $verdict |"
        echo
        echo "Over all runs: lost queries resolverd $(colsum resolverd 6), Unbound $(colsum unbound 6);"
        echo "SERVFAIL answers resolverd $(colsum resolverd 17), Unbound $(colsum unbound 17)."
        busiest=$(for s in "${list[@]}"; do med "$s" max 20; done | sort -g | tail -1)
        if awk -v b="$busiest" 'BEGIN {exit !(b < 90)}'; then
            echo
            printf 'At maximum load no forwarder used more than %.0f%% of a core (median): dnsperf, the\n' "$busiest"
            echo "upstream and the other work on this shared machine hold the rest of its cores, so the"
            echo "q/s ratio is partly the scheduler's; the CPU/query ratio is the steadier comparison."
        fi
    fi
    echo
    echo "## Every run"
    echo
    echo "| forwarder | run | mode | q/s | completed | lost | UDP drops | SERVFAIL | p50 (ms) | p99 (ms) | CPU µs/query | forwarder CPU % | upstream CPU % | dnsperf CPU % | DoT conns most / distinct | load avg | response codes; dnsperf warning lines |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"
    sort -t$'\t' -k2,2n -k1,1 -k3,3 "$work/raw.tsv" | while IFS=$'\t' read -r s rep mode qps comp lost _ _ _ _ _ _ cmax cdist load rcw sf drops c19 c20 c21 c22 p50 p99 _; do
        p50v=$p50 p99v=$p99
        [ "$p50" = - ] || p50v=$(num "$p50" 3)
        [ "$p99" = - ] || p99v=$(num "$p99" 3)
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s |\n' "$s" "$rep" "$mode" \
            "$(num "$qps")" "$(num "$comp")" "$lost" "$drops" "$sf" "$p50v" "$p99v" "$(num "$c19" 2)" "$(num "$c20")" \
            "$(num "$c21")" "$(num "$c22")" "$cmax" "$cdist" "$load" "$(echo "$rcw" | sed "s/_/ /g; s/|/; warnings: /")"
    done
} > "$work/report.md"
cp "$work/report.md" "$out"
cat "$out"
echo >&2
echo "written: $out" >&2
