#!/usr/bin/env bash
# Check every zone file the project ships (zones/) with the reference tools:
#   named-checkzone (bind9-utils), ldns-read-zone (ldnsutils), nsd-checkzone (nsd).
#
#   tests/lab/check-zones.sh
#
# - zones/root.hints, zones/lab/root.hints: ldns-read-zone
# - zones/local/*.zone, zones/lab/*.zone: all three tools must accept them
# - zones/local/bad/*.zone: must be rejected; named-checkzone must report the line given
#   in the file's "; expect-error: LINE:..." comment. Known leniencies of ldns and NSD
#   (zones/README.md) are expected, so a change in a tool's behaviour is reported too.
# - zones/lab: root.hints agrees with root.zone; every address in servers.conf is
#   127/8 or fd00:1ab::/64 and every zone file it names exists.
#
# named-checkzone looks up out-of-zone NS/MX/SRV names and glue with getaddrinfo, so
# this script re-executes itself under `unshare -rn` (no network at all) before
# running it. Tools that are not installed are skipped with a note.
set -uo pipefail

if [ "${RD_CHECK_NETNS:-}" != 1 ]; then
    exec unshare -rn env RD_CHECK_NETNS=1 "$0" "$@"
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/zones" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
have() { command -v "$1" > /dev/null; }
for t in named-checkzone ldns-read-zone nsd-checkzone; do
    have "$t" || echo "note: $t not installed, its checks are skipped"
done

origin_of() { # file -> zone name: first $ORIGIN, else from the file name
    local o
    o=$(awk '$1 == "$ORIGIN" { print $2; exit }' "$1")
    if [ -z "$o" ]; then o=$(basename "$1" .zone); [ "$o" = root ] && o=.; fi
    echo "$o"
}

# ---- hints ----------------------------------------------------------------------------
for f in root.hints lab/root.hints; do
    have ldns-read-zone && { ldns-read-zone "$f" > /dev/null 2>&1 || fail "ldns-read-zone $f"; }
done
n=$(grep -c '^\.  *3600000  *NS ' root.hints)
[ "$n" = 13 ] || fail "root.hints: $n root NS records, expected 13"

# ---- good zones -------------------------------------------------------------------------
# Tools run in the file's directory: BIND and NSD resolve $INCLUDE paths from there.
# ldns-read-zone has no $INCLUDE and no <class> <TTL> order: syntax.test must fail it.
ldns_rejects=" syntax.test "
for f in local/*.zone lab/*.zone; do
    z=$(origin_of "$f")
    d=$(dirname "$f")
    b=$(basename "$f")
    if have named-checkzone; then
        out=$(cd "$d" && named-checkzone "$z" "$b" 2>&1) || fail "named-checkzone $z $f: $out"
    fi
    if have ldns-read-zone; then
        if out=$(cd "$d" && ldns-read-zone "$b" 2>&1 > /dev/null); then r=accepts; else r=rejects; fi
        if [[ $ldns_rejects == *" $(basename "$f" .zone) "* ]]; then e=rejects; else e=accepts; fi
        [ $r = $e ] || fail "ldns-read-zone $r $f (expected: $e): $out"
    fi
    if have nsd-checkzone; then
        out=$(cd "$d" && nsd-checkzone "$z" "$b" 2>&1) || fail "nsd-checkzone $z $f: $out"
    fi
done

# ---- the tools agree on the content --------------------------------------------------------
# BIND's and NSD's view of each zone, printed and re-read by ldns, must equal ldns's own.
if have ldns-read-zone && have named-compilezone && have nsd-checkzone; then
    tmp=$(mktemp -d)
    for f in local/*.zone lab/*.zone; do
        [[ $ldns_rejects == *" $(basename "$f" .zone) "* ]] && continue
        z=$(origin_of "$f")
        ldns-read-zone -z "$f" > "$tmp/ldns" 2>&1
        named-compilezone -q -i none -s full -o "$tmp/bind.txt" "$z" "$f" > /dev/null 2>&1 &&
            ldns-read-zone -z "$tmp/bind.txt" > "$tmp/bind" 2>&1 ||
            echo "named-compilezone or ldns failed" > "$tmp/bind"
        nsd-checkzone -p "$z" "$f" 2> /dev/null | ldns-read-zone -z /dev/stdin > "$tmp/nsd" 2>&1
        cmp -s "$tmp/ldns" "$tmp/bind" || fail "$f: BIND and ldns read different data: $(diff "$tmp/ldns" "$tmp/bind" | head -5)"
        cmp -s "$tmp/ldns" "$tmp/nsd" || fail "$f: NSD and ldns read different data: $(diff "$tmp/ldns" "$tmp/nsd" | head -5)"
    done
    rm -rf "$tmp"
fi

# ---- bad zones ------------------------------------------------------------------------
# Files each tool wrongly ACCEPTS (documented in zones/README.md).
ldns_accepts=" bad-ttl ttl-overflow unbalanced-parens unterminated-quote "
nsd_accepts=" ttl-overflow "
for f in local/bad/*.zone; do
    b=$(basename "$f" .zone)
    exp=$(sed -n '1s/^; expect-error: \([0-9]*\):.*/\1/p' "$f")
    [ -n "$exp" ] || { fail "$f: first line is not '; expect-error: LINE:DESCRIPTION'"; continue; }
    if have named-checkzone; then
        if out=$(cd local/bad && named-checkzone bad.test "$b.zone" 2>&1); then
            fail "named-checkzone accepted $f"
        else
            line=$(grep -o "$b\.zone:[0-9]*" <<< "$out" | head -1 | cut -d: -f2)
            [ "$line" = "$exp" ] || fail "named-checkzone $f: error on line '$line', expected $exp: $out"
        fi
    fi
    if have ldns-read-zone; then
        if (cd local/bad && ldns-read-zone "$b.zone" > /dev/null 2>&1); then r=accepts; else r=rejects; fi
        if [[ $ldns_accepts == *" $b "* ]]; then e=accepts; else e=rejects; fi
        [ $r = $e ] || fail "ldns-read-zone $r $f (expected: $e)"
    fi
    if have nsd-checkzone; then
        if (cd local/bad && nsd-checkzone bad.test "$b.zone" > /dev/null 2>&1); then r=accepts; else r=rejects; fi
        if [[ $nsd_accepts == *" $b "* ]]; then e=accepts; else e=rejects; fi
        [ $r = $e ] || fail "nsd-checkzone $r $f (expected: $e)"
    fi
done

# ---- lab consistency ---------------------------------------------------------------------
norm() { awk '!/^;/ && NF { print tolower($1), $4, tolower($5) }' | sort -u; }
if have ldns-read-zone; then
    hints=$(ldns-read-zone lab/root.hints | norm)
    apex=$(ldns-read-zone lab/root.zone |
        awk '($1 == "." && $4 == "NS") || ($1 ~ /root-servers\.lab\.$/)' | norm)
    [ "$hints" = "$apex" ] || fail "lab/root.hints does not match the apex NS and glue of lab/root.zone"
fi
while read -r name _kind addrs zl; do
    case $name in '' | '#'*) continue ;; esac
    for a in ${addrs//,/ }; do
        case $a in 127.*.*.* | fd00:1ab:*) ;; *) fail "servers.conf: $name: address $a outside 127/8 and fd00:1ab::/64" ;; esac
    done
    [ "$zl" = - ] && continue
    for z in ${zl//,/ }; do [ -r "lab/${z#*=}" ] || fail "servers.conf: $name: no file lab/${z#*=}"; done
done < lab/servers.conf
# every A/AAAA of a name server in the lab zones is a lab address
bad=$(cat lab/*.zone | awk '{ sub(/;.*/, "") } ($3 == "A" || $4 == "A" || $3 == "AAAA" || $4 == "AAAA") && $1 ~ /^(ns[0-9]|[ab]\.root-servers)/ { print $NF }' |
    grep -v -e '^127\.' -e '^fd00:1ab:' || true)
[ -z "$bad" ] || fail "lab name-server addresses outside the lab ranges: $bad"

if [ $fails -eq 0 ]; then echo "all zone checks passed"; else echo "$fails zone check(s) failed"; fi
[ $fails -eq 0 ]
