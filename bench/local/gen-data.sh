#!/usr/bin/env bash
# Writes the benchmark's data set into DIR, the same records in each server's form:
#   bench.lab.zone     zone file (resolverd)
#   unbound-data.conf  local-zone + local-data lines (Unbound)
#   bench.rpz          RPZ zone with the records as local data (Knot Resolver 5.x policy.rpz)
#   queries            dnsperf input: every (name, type) that has data, in zone order
# Usage: bench/local/gen-data.sh N DIR
# Names h1..hN.bench.lab. each have an A record; every 10th also AAAA, every 20th also TXT,
# every 50th also MX. Deterministic: the same N gives the same files.
set -euo pipefail
n=${1:?N}
dir=${2:?DIR}
mkdir -p "$dir"
awk -v n="$n" -v dir="$dir" '
function rr(owner, type, data) {
    # zone file: absolute owners so the same line serves as RPZ data too
    printf "%s 3600 IN %s %s\n", owner, type, data > zone
    printf "    local-data: \x27%s 3600 IN %s %s\x27\n", owner, type, data > ub
    if (type != "SOA" && type != "NS") printf "%s 3600 IN %s %s\n", owner, type, data > rpz
}
function q(owner, type) { printf "%s %s\n", owner, type > qf }
BEGIN {
    zone = dir "/bench.lab.zone"; ub = dir "/unbound-data.conf"
    rpz = dir "/bench.rpz"; qf = dir "/queries"
    printf "$ORIGIN bench.lab.\n$TTL 3600\n" > zone
    printf "server:\n    local-zone: \"bench.lab.\" static\n" > ub
    # RPZ: the SOA owner is the origin the rules are relative to; "." keeps owners absolute
    printf "$TTL 3600\n. 3600 IN SOA ns.bench.lab. hostmaster.bench.lab. 1 3600 900 604800 300\n" > rpz
    rr("bench.lab.", "SOA", "ns.bench.lab. hostmaster.bench.lab. 1 3600 900 604800 300")
    rr("bench.lab.", "NS", "ns.bench.lab.")
    rr("ns.bench.lab.", "A", "10.53.0.1")
    rr("mail.bench.lab.", "A", "10.53.0.2")
    for (i = 1; i <= n; i++) {
        o = "h" i ".bench.lab."
        rr(o, "A", sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256))
        q(o, "A")
        if (i % 10 == 0) { rr(o, "AAAA", sprintf("fd00:53::%x", i)); q(o, "AAAA") }
        if (i % 20 == 0) { rr(o, "TXT", sprintf("\"bench text record %d\"", i)); q(o, "TXT") }
        if (i % 50 == 0) { rr(o, "MX", "10 mail.bench.lab."); q(o, "MX") }
    }
}'
