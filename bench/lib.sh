# shellcheck shell=bash
# Shell helpers shared by the benchmark scripts (sourced, not run). bench/bench-recursive.sh
# and bench/local/pairs.sh use them; bench/bench-local.sh has its own copies of the same functions.

# median of the numbers on stdin (one a line); 0 when there are none
median() {
    sort -g | awk '{v[NR] = $1} END {if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
                                     else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
# value [decimals] -> with thousands separators
num() {
    awk -v v="$1" -v d="${2:-0}" 'BEGIN {
        s = sprintf("%." d "f", v); sg = ""
        if (substr(s, 1, 1) == "-") { sg = "-"; s = substr(s, 2) }
        p = index(s, "."); i = p ? substr(s, 1, p - 1) : s; f = p ? substr(s, p) : ""; o = ""
        while (length(i) > 3) { o = "," substr(i, length(i) - 2) o; i = substr(i, 1, length(i) - 3) }
        print sg i o f }'
}
# a b -> "a/b" as "1.23x", or n/a
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a > 0 && b > 0) printf "%.2fx", a / b; else print "n/a"}'; }
# file label -> the number after "label:" in a dnsperf report
dnsperf_field() {
    awk -v l="$2:" 'i = index($0, l) { $0 = substr($0, i + length(l)); print $1 + 0; exit }' "$1"
}
# Refuse to measure anything but loopback: no interface but lo may be up.
require_loopback_only() { # who
    if ip -o link show | awk -F': ' '$2 != "lo"' | grep -q .; then
        echo "$1: not in a loopback-only network namespace; refusing" >&2
        exit 1
    fi
}
# CPU time in ns of every thread of the given processes (schedstat; %.0f: mawk's %d stops at 2^31)
cpu_ns_of() { # pid...
    local p
    for p in "$@"; do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done | awk '{s += $1} END {printf "%.0f", s}'
}
# user and system ticks (/proc/PID/stat fields 14 and 15) summed over the processes
cpu_ticks_of() { # pid...
    local p
    for p in "$@"; do cat /proc/"$p"/stat 2>/dev/null; done | awk '{u += $14; s += $15} END {print u + 0, s + 0}'
}
# sum of a /proc/PID/status field in kB (VmHWM, VmRSS) over the processes
status_kb_of() { # field pid...
    local f=$1 p
    shift
    for p in "$@"; do cat /proc/"$p"/status 2>/dev/null; done | awk -v f="$f:" '$1 == f {s += $2} END {print s + 0}'
}
# dnsperf's CPU seconds from the `times` output of the subshell that ran it (children line)
times_cpu() { # file
    awk 'NR == 2 {split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2]}' "$1"
}
