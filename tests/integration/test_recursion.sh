#!/usr/bin/env bash
# Iterative resolution by the real daemon against the offline lab: NSD instances on 127.x
# (tests/lab/start.sh) serving zones/lab, in this test's own network namespace. Answers are
# compared with what the zone files say; a second query must come from the cache.
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
work=$(mktemp -d)
pid= spid=
cleanup() {
    [ -n "$pid" ] && kill -9 $pid 2>/dev/null
    [ -n "$spid" ] && kill -9 $spid 2>/dev/null
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
check "glueless IPv6-only name server (AAAA of an NS name)" [ "$(short www.v6noglue.lab A)" = 192.0.2.81 ]
check "TCP from the client" [ "$(short +tcp www.example.lab A)" = 192.0.2.10 ]
check "local special-use names still local" [ "$(short localhost A)" = 127.0.0.1 ]

# DNSSEC pass-through (no validation): the RRSIGs NSD serves for signed.lab reach DO=1
# clients, first from upstream and then from the cache; DO=0 clients get none.
sigs() { # server-args... -> sorted "owner type-covered rdata" of the answer's RRSIGs
    dig +tries=1 +timeout=12 +dnssec +noall +answer +nottlid +nocl "$@" |
        awk '$2 == "RRSIG" { $1 = tolower($1); print }' | sort
}
nsd_sigs=$(sigs @127.0.60.1 +norec www.signed.lab A)
first=$(sigs @127.0.0.1 www.signed.lab A)
same() { [ -n "$1" ] && [ "$1" = "$2" ]; } # non-empty and equal
check "DO=1 gets the RRSIGs NSD serves" same "$nsd_sigs" "$first"
check "DO=1, again from the cache: the same RRSIGs" [ "$(sigs @127.0.0.1 www.signed.lab A)" = "$nsd_sigs" ]
check "DO=1 answer has DO in its OPT" grep -q "flags: do;" <(q +dnssec www.signed.lab A)
check "DO=0 gets no RRSIG" [ -z "$(q +noall +answer www.signed.lab A | awk '$4 == "RRSIG"')" ]
check "DO=0 answer still there" [ "$(short www.signed.lab A)" = 192.0.2.95 ]
nsd_neg=$(dig @127.0.60.1 +norec +dnssec +noall +authority nosuch.signed.lab A | awk '$4 == "RRSIG" && $5 == "SOA" { print $NF }')
ours_auth=$(q +dnssec +noall +authority +nottlid +nocl nosuch.signed.lab A) # first: from NSD
ours_neg=$(awk '$2 == "RRSIG" && $3 == "SOA" { print $NF }' <<< "$ours_auth")
check "DO=1 NXDOMAIN has the SOA's RRSIG" same "$nsd_neg" "$ours_neg"
check "DO=0 NXDOMAIN has no RRSIG" [ -z "$(q +noall +authority nosuch.signed.lab A | awk '$4 == "RRSIG"')" ]
# The NSEC proof (issue 5, RFC 4035 s3.1.3): the NSECs and their RRSIGs NSD puts in a negative
# answer reach DO=1 clients after the SOA, fresh and from the cache; DO=0 clients get none.
nsec() { # "owner type rdata" of the NSECs and RRSIG NSECs of an authority section, sorted
    awk '$2 == "NSEC" || ($2 == "RRSIG" && $3 == "NSEC") { $1 = tolower($1); print }' | sort
}
nsd_nsec=$(dig @127.0.60.1 +tries=1 +timeout=12 +norec +dnssec +noall +authority +nottlid +nocl \
    nosuch.signed.lab A | nsec)
check "NSD's NXDOMAIN for nosuch.signed.lab has NSECs" \
    [ "$(awk '$2 == "NSEC"' <<< "$nsd_nsec" | wc -l)" -ge 1 ]
check "DO=1 NXDOMAIN: NSEC and RRSIG NSEC as NSD sent them" same "$nsd_nsec" "$(nsec <<< "$ours_auth")"
check "DO=1 NXDOMAIN: the SOA comes first" [ "$(awk 'NR == 1 { print $2 }' <<< "$ours_auth")" = SOA ]
cached_auth=$(q +dnssec +noall +authority +nottlid +nocl nosuch.signed.lab A)
check "DO=1 NXDOMAIN again, from the cache: the same NSECs" same "$nsd_nsec" "$(nsec <<< "$cached_auth")"
check "DO=0 NXDOMAIN has no NSEC" \
    [ -z "$(q +noall +authority nosuch.signed.lab A | awk '$4 == "NSEC"')" ]
check "DO=0 NXDOMAIN still has its SOA" \
    [ "$(q +noall +authority nosuch.signed.lab A | awk '$4 == "SOA"' | wc -l)" = 1 ]
nsd_nodata=$(dig @127.0.60.1 +tries=1 +timeout=12 +norec +dnssec +noall +authority +nottlid +nocl \
    txtonly.signed.lab A | nsec)
check "NSD's NODATA for txtonly.signed.lab A has an NSEC" grep -q "^txtonly.signed.lab. NSEC" <<< "$nsd_nodata"
for i in fresh cached; do
    check "DO=1 NODATA ($i): NSEC and RRSIG NSEC as NSD sent them" \
        same "$nsd_nodata" "$(q +dnssec +noall +authority +nottlid +nocl txtonly.signed.lab A | nsec)"
done
check "DO=0 NODATA has no NSEC" \
    [ -z "$(q +noall +authority txtonly.signed.lab A | awk '$4 == "NSEC"')" ]

# DNAME (RFC 6672): a name below old.example.lab. is synthesised from the cached DNAME; a
# CNAME question below it keeps the DNAME in the answer, asked again or not
check "DNAME: target data" [ "$(short www.old.example.lab A)" = "192.0.2.50 example.org. www.example.org." ]
dn=$(q +noall +answer mail.old.example.lab A)
check "DNAME: another name below it (DNAME, CNAME, A)" \
    grep -q "old.example.lab.*DNAME.*example.org" <<< "$dn"
check "DNAME: synthesised CNAME" grep -q "mail.old.example.lab.*CNAME.*mail.example.org" <<< "$dn"
for i in 1 2; do
    dn=$(q +noall +answer www.old.example.lab CNAME)
    check "DNAME kept in a CNAME answer ($i)" grep -q "DNAME" <<< "$dn"
done

# RD=0 (RFC 1035 s4.1.1): refused (EDE 18) unless access-control says allow_snoop; local data
# is answered as always
nr=$(q +norec www.example.lab A)
check "RD=0 REFUSED" grep -q "status: REFUSED" <<< "$nr"
check "RD=0 refusal says why (EDE 18 Prohibited)" grep -q "EDE: 18" <<< "$nr"
check "RD=0 local data answered" [ "$(short +norec localhost A)" = 127.0.0.1 ]
# a second resolverd on 127.0.0.53 whose clients may snoop
{
    sed -e 's/listen: 127.0.0.1@53/listen: 127.0.0.53@53/' -e '/listen: ::1@53/d' \
        "$work/tests/integration/data/lab.conf"
    echo "    access-control: 127.0.0.0/8 allow_snoop"
} > "$work/tests/integration/data/snoop.conf"
"$RD_BUILD/resolverd" -c "$work/tests/integration/data/snoop.conf" > "$work/snoop.log" 2>&1 &
spid=$!
for _ in $(seq 100); do grep -q ready "$work/snoop.log" && break; sleep 0.05; done
sq() { dig @127.0.0.53 +tries=1 +timeout=12 "$@"; }
sq +short www.example.lab A > /dev/null
check "allow_snoop: RD=0 answered from the cache" [ "$(sq +short +norec www.example.lab A)" = 192.0.2.10 ]
check "allow_snoop: RD=0 answer has RD clear, RA set" grep -q "flags: qr ra;" <(sq +norec www.example.lab A)

# the cache: stop every lab server; cached answers keep coming
"$RD_SRC/tests/lab/stop.sh" "$work/lab" >/dev/null 2>&1
check "DNAME synthesised from the cache (lab gone)" \
    grep -q "other.old.example.lab.*CNAME.*other.example.org" <(q +noall +answer other.old.example.lab CNAME)
# with every server gone, an upstream query could only fail: a referral proves there was none
sn=$(sq +norec never-asked.example.lab A)
check "allow_snoop: RD=0 miss is the cached referral (NOERROR, no answer)" \
    grep -q "status: NOERROR.*ANSWER: 0" <(tr '\n' ' ' <<< "$sn")
check "allow_snoop: the referral names example.lab.'s servers" \
    grep -q "^example.lab.*NS.*ns1.example.lab" <<< "$sn"
kill -TERM $spid
rc=0; wait $spid || rc=$?
spid=
check "snoop instance exits 0 on SIGTERM (rc=$rc)" [ "$rc" = 0 ]
check "cached after the lab is gone" [ "$(short www.example.lab A)" = 192.0.2.10 ]
check "negative answer cached" grep -q "status: NXDOMAIN" <(q nosuch.example.lab A)
check "uncached name now fails cleanly with EDE" grep -q "EDE: 22" <(q never-asked.example.org A)
# Root priming (RFC 8109): the root's NS set came from the root itself (". NS" asked to a
# hints server and cached as authoritative data), so with the lab gone it is still answered;
# the hints alone never are. Its TTL is the root zone's 518400 capped by cache-max-ttl (1 day),
# not the hints' 3600000.
rn=$(q +noall +answer . NS)
check "priming: '. NS' answered from the cache with the lab gone" \
    [ "$(awk '$4 == "NS" {print $5}' <<< "$rn" | sort | tr '\n' ' ')" = "a.root-servers.lab. b.root-servers.lab. " ]
rt=$(awk '$4 == "NS" {print $2; exit}' <<< "$rn")
check "priming: the root zone's TTL capped to a day ($rt), not the hints' 3600000" \
    [ -n "$rt" -a "$rt" -le 86400 -a "$rt" -gt 86000 ]
# RFC 2181 s5.4.1: ns2.example.lab. A was only ever cached as glue (from lab.'s referral):
# it reached the server, but it is not an answer; with the lab gone it cannot be resolved.
g=$(q ns2.example.lab A)
check "glue is not an answer: ns2.example.lab. A with the lab gone is SERVFAIL" \
    grep -q "status: SERVFAIL" <<< "$g"
check "glue is not an answer: no 127.0.10.2 given" [ "$(grep -c "127.0.10.2" <<< "$g" || true)" = 0 ]
# RFC 9520: a failure is remembered; asked again at once (same source port, so the same
# worker, whose failure cache it is) it is answered from memory, which its EDE text says.
f1=$(q -b 127.0.0.1#53535 never-asked2.example.org A)
f2=$(q -b 127.0.0.1#53535 never-asked2.example.org A)
check "failure cache: the first failure was resolved (EDE 22, not from memory)" \
    [ "$(grep -c "EDE: 22" <<< "$f1")" = 1 -a "$(grep -c "RFC 9520" <<< "$f1" || true)" = 0 ]
check "failure cache: the repeat is SERVFAIL, EDE 22, from the failure cache (RFC 9520)" \
    grep -q "EDE: 22.*RFC 9520" <<< "$f2"

kill -TERM $pid
rc=0; wait $pid || rc=$?
pid=
check "exit 0 on SIGTERM (rc=$rc)" [ "$rc" = 0 ]
tally_end
