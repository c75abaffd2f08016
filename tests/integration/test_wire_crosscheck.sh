#!/usr/bin/env bash
# Cross-check of our message codec with independent implementations: rdrespond (our zone
# parser + message builder) answers dig and kdig over UDP. Every record that BIND's
# named-checkzone reads from the zone file must come back, identical, through dig's parser of
# our wire format; kdig (libknot) must parse every answer without complaint and count the same
# records; truncation must cut at a record boundary with TC set. Our parser meanwhile reads
# dig's and kdig's queries (EDNS, cookies, NSID, padding): a rejected query fails the test.
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
zone=$RD_SRC/zones/local/types.test.zone
origin=types.test.
port=5353
. "$RD_SRC/tests/integration/lib.sh"

"$RD_BUILD/rdrespond" "$origin" "$zone" 127.0.0.1 $port 100000 2> "$work/resp.log" &
pid=$!
for _ in $(seq 50); do grep -q listening "$work/resp.log" && break; sleep 0.1; done
grep -q listening "$work/resp.log" || { cat "$work/resp.log"; exit 1; }

norm() { # owner ttl class type rdata, single spaces, lowercase owner
    awk 'BEGIN{OFS=" "} !/^;/ && NF {$1=tolower($1); $1=$1; print}' | sort -u
}
named-checkzone -q -D -o - "$origin" "$zone" | norm > "$work/bind.txt"
# One question per (owner, type) the zone holds: dig answers from our wire format must give
# back exactly what BIND reads from the zone file. (ANY is avoided: dig sends it over TCP.)
awk '{print $1, $4}' "$work/bind.txt" | sort -u > "$work/questions"
awk '{print $1, $2, "+norec +noall +answer +bufsize=65000 +nocookie"}' "$work/questions" > "$work/batch"
dig @127.0.0.1 -p $port -f "$work/batch" > "$work/dig.txt" 2> "$work/dig.err" || true
norm < "$work/dig.txt" > "$work/dig.norm"
if diff -u "$work/bind.txt" "$work/dig.norm" > "$work/diff.txt"; then
    ok
    echo "dig decoded all $(wc -l < "$work/bind.txt") records exactly as named-checkzone reads them"
else
    bad "dig's view of our wire format differs from named-checkzone's reading:"
    cat "$work/diff.txt"
fi
if grep -qi "warning\|malformed\|error" "$work/dig.err"; then bad "dig complained:"; cat "$work/dig.err"; else ok; fi

# kdig (libknot's parser): every answer parses and has as many records as the zone has
while read -r o t; do
    want=$(O="$o" T="$t" awk '$1==ENVIRON["O"] && $4==ENVIRON["T"]' "$work/bind.txt" | wc -l)
    out=$(kdig @127.0.0.1 -p $port +norec +noall +answer +bufsize=65000 "$o" "$t" 2>&1 || true)
    got=$(printf '%s\n' "$out" | grep -vc '^;\|^$' || true)
    if printf '%s' "$out" | grep -qi "malformed\|warning\|failed"; then
        bad "kdig could not parse our answer for $o $t: $out"
    elif [ "$got" != "$want" ]; then
        bad "kdig saw $got records for $o $t, zone has $want"
    else ok; fi
done < "$work/questions"
echo "kdig parsed $(wc -l < "$work/questions") answers"

# dig's and kdig's query options must all pass our parser (rdrespond logs rejects)
dig @127.0.0.1 -p $port +norec +nsid +cookie +padding=128 +bufsize=1232 "a.$origin" A > /dev/null
dig @127.0.0.1 -p $port +norec +keepalive +ednsopt=15:0012 +ednsopt=65001:abcd "a.$origin" A > /dev/null
kdig @127.0.0.1 -p $port +norec +nsid +cookie +padding=128 +bufsize=1232 "a.$origin" A > /dev/null
kdig @127.0.0.1 -p $port +norec +subnet=192.0.2.0/24 "a.$origin" A > /dev/null
if grep -q "query rejected" "$work/resp.log"; then bad "our parser rejected a query:"; cat "$work/resp.log"; else ok; fi

# truncation: a 100-record RRset from the lab zone with a 512-octet limit (no EDNS) must be
# cut at a record boundary with TC set, and dig must parse what is there
"$RD_BUILD/rdrespond" example.lab. "$RD_SRC/zones/lab/example.lab.zone" 127.0.0.1 5354 1000 2> "$work/resp2.log" &
pid2=$!
for _ in $(seq 50); do grep -q listening "$work/resp2.log" && break; sleep 0.1; done
for opts in "+noedns" "+bufsize=1232"; do
    tout=$(dig @127.0.0.1 -p 5354 +norec $opts +ignore +noall +answer +comments big.example.lab A 2>&1)
    got=$(printf '%s\n' "$tout" | grep -c 'IN[[:space:]]A[[:space:]]' || true)
    size=$(dig @127.0.0.1 -p 5354 +norec $opts +ignore big.example.lab A | sed -n 's/.*MSG SIZE  rcvd: //p')
    lim=512; [ "$opts" = "+noedns" ] || lim=1232
    if printf '%s' "$tout" | grep -q "flags:.* tc" && [ "$got" -gt 0 ] && [ "$got" -lt 100 ] && [ "$size" -le $lim ]; then
        ok; echo "truncated big.example.lab ($opts): $got of 100 records in $size octets, TC set"
    else
        bad "truncation ($opts): $got records, $size octets: $tout"
    fi
    if printf '%s' "$tout" | grep -qi "malformed\|warning"; then bad "dig: truncated answer malformed"; else ok; fi
done
kill $pid2 2>/dev/null || true

tally_end
