#!/usr/bin/env bash
# Iterative resolution by the real daemon against the offline lab: NSD instances on 127.x
# (tests/lab/start.sh) serving zones/lab, in this test's own network namespace. Answers are
# compared with what the zone files say; a second query must come from the cache.
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 $pid 2>/dev/null
    "$RD_SRC/tests/lab/stop.sh" "$work/lab" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
. "$RD_SRC/tests/integration/lib.sh"

RD_LAB_NETNS=1 "$RD_SRC/tests/lab/start.sh" "$work/lab" > "$work/lab.log" 2>&1 || {
    cat "$work/lab.log"; exit 1; }
mkdir -p "$work/tests/integration/data"
cp "$RD_SRC/tests/integration/data/lab.conf" "$work/tests/integration/data/"
ln -s "$RD_SRC/zones" "$work/zones"
"$RD_BUILD/resolverd" -c "$work/tests/integration/data/lab.conf" > "$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q ready "$work/log" && break; sleep 0.05; done
q() { dig @127.0.0.1 +tries=1 +timeout=12 "$@"; }
short() { q +short "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }

check "www.example.lab A (root -> lab -> example.lab, glue)" [ "$(short www.example.lab A)" = 192.0.2.10 ]
check "www.example.lab AAAA" [ "$(short www.example.lab AAAA)" = 2001:db8::10 ]
out=$(q www.example.lab A)
check "recursive answer: RA set, AA clear" grep -q "flags: qr rd ra;" <<< "$out"
check "CNAME chain across zones" grep -q "192.0.2.33" <(short chain.example.lab A)
check "NXDOMAIN" grep -q "status: NXDOMAIN" <(q nosuch.example.lab A)
check "NXDOMAIN has the SOA" grep -q "SOA" <(q +noall +authority nosuch.example.lab A)
check "NODATA" grep -q "status: NOERROR, id: .*" <(q nodata.example.lab A)
check "NODATA is empty" [ -z "$(short nodata.example.lab A)" ]
check "wildcard" [ "$(short foo.wild.example.lab A)" = 192.0.2.20 ]
n=$(q +noall +answer big.example.lab A | grep -c "IN[[:space:]]A" || true)
check "large RRset via TC then TCP upstream ($n of 100)" [ "$n" = 100 ]
check "0x20: answer keeps the client's case" grep -q "WwW.ExAmPlE.LaB" <(q +noall +answer WwW.ExAmPlE.LaB A)
check "glueless delegation (NS names in net.)" [ -n "$(short www.noglue.lab A)" ]
check "deep delegation (5 zone cuts)" [ -n "$(short www.a.b.c.d.deep.lab A)" ]
check "one dead server of three" [ -n "$(short www.onedown.lab A)" ]
check "IPv6-only name server" [ -n "$(short www.v6only.lab A)" ]
check "TCP from the client" [ "$(short +tcp www.example.lab A)" = 192.0.2.10 ]
check "local special-use names still local" [ "$(short localhost A)" = 127.0.0.1 ]

# the cache: stop every lab server; cached answers keep coming
"$RD_SRC/tests/lab/stop.sh" "$work/lab" >/dev/null 2>&1
check "cached after the lab is gone" [ "$(short www.example.lab A)" = 192.0.2.10 ]
check "negative answer cached" grep -q "status: NXDOMAIN" <(q nosuch.example.lab A)
check "uncached name now fails cleanly with EDE" grep -q "EDE: 22" <(q never-asked.example.org A)

kill -TERM $pid
rc=0; wait $pid || rc=$?
pid=
check "exit 0 on SIGTERM (rc=$rc)" [ "$rc" = 0 ]
tally_end
