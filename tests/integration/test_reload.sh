#!/usr/bin/env bash
# SIGHUP applies a changed configuration's stub: and forward: zones and resolver settings to
# the running daemon (src/main.c reload): each worker gets a new engine context over the same
# cache; requests in flight finish with the settings they started with; a configuration that
# fails anywhere (parse, root hints) changes nothing.
#
# Two servers hold example.lab. with different data, so the answer says who was asked: the
# lab's NSD (www 192.0.2.10, unknown names NXDOMAIN) and badauth on 127.0.9.70
# (tests/integration/data/reload-example.lab.zone: www 192.0.2.110, slow 192.0.2.111 after
# 300 ms, a wildcard 192.0.2.119); badauth's query log shows its queries and their RD bit.
# Runs inside tests/integration/netns.sh (loopback only). Prints "N passed, M failed".
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
data=$RD_SRC/tests/integration/data
work=$(mktemp -d)
pids=() pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    "$RD_SRC/tests/lab/stop.sh" "$work/lab" > /dev/null 2>&1 || true
    [ -n "${RD_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
. "$RD_SRC/tests/integration/lib.sh"
[ -n "${RD_KEEP:-}" ] && echo "work dir: $work"

RD_LAB_NETNS=1 "$RD_SRC/tests/lab/start.sh" "$work/lab" > "$work/lab.log" 2>&1 || {
    cat "$work/lab.log"; exit 1; }
BADAUTH_MAX_SECONDS=120
start_badauth b -l 127.0.9.70 -z example.lab.="$data/reload-example.lab.zone" \
    -r 'slow.example.lab. A delay 300'

conf="$work/resolverd.conf"
# write_conf EXTRA: the configuration file, with EXTRA (sections) at the end
write_conf() {
    cat > "$conf.new" <<EOF
server:
    listen: 127.0.0.1@53
    threads: 2
    root-hints: ${HINTS:-$work/lab/root.hints}
    allow-loopback-upstreams: yes
    log-level: ${LOGLEVEL:-info}
    qname-minimisation: ${QMIN:-yes}
$1
EOF
    mv "$conf.new" "$conf" # whole, as an operator's editor would
}
fwd_b="forward:
    name: example.lab
    upstream: udp://127.0.9.70"
fwd_nsd="forward:
    name: example.lab
    upstream: udp://127.0.10.1"
stub_b="stub:
    name: example.lab
    server: 127.0.9.70"

log="$work/resolverd.log"
write_conf "$fwd_b"
"$RD_BUILD/resolverd" -c "$conf" > "$log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q ready "$log" && break; sleep 0.05; done

q() { dig @127.0.0.1 +tries=1 +timeout=5 "$@"; }
short() { q +short "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
status() { q "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -1; }
# hup OUTCOME: SIGHUP, then wait for the log line of that outcome ("reloaded" or "reload failed")
hup() {
    local n0
    n0=$(grep -c "$1" "$log" || true)
    kill -HUP "$pid"
    for _ in $(seq 100); do
        [ "$(grep -c "$1" "$log" || true)" -gt "$n0" ] && return 0
        sleep 0.05
    done
    return 1
}
bq() { grep -ci " $1 A " "$work/b.log" || true; } # badauth's queries for a name
# the header flags of badauth's A queries for NAME (the name may come in 0x20 mixed case)
flags_of() { awk -v n="$1" 'tolower($2) == n && $3 == "A" {print $4}' "$work/b.log"; }
# all_answer ADDR NAME...: every NAME answered ADDR (unique names: dig's random source
# ports spread them over both workers)
all_answer() {
    local want=$1 got n=0; shift
    for name in "$@"; do
        got=$(short "$name" A)
        [ "$got" = "$want" ] && n=$((n + 1)) || echo "  $name: '$got' (want $want)"
    done
    [ "$n" = $# ]
}
# all_status RCODE NAME...: likewise for the rcode
all_status() {
    local want=$1 got n=0; shift
    for name in "$@"; do
        got=$(status "$name" A)
        [ "$got" = "$want" ] && n=$((n + 1)) || echo "  $name: '$got' (want $want)"
    done
    [ "$n" = $# ]
}

# ---- 1. forward: to badauth
check "forward to B: www from B" [ "$(short www.example.lab A)" = 192.0.2.110 ]
check "forward to B: asked with RD=1 ($(flags_of www.example.lab.))" \
    grep -q "rd" <(flags_of www.example.lab.)
check "outside the forward zone: iterative (www.noglue.lab)" [ "$(short www.noglue.lab A)" = 192.0.2.60 ]

# ---- 2. a reload that changes no route keeps the cache
n_www=$(bq www.example.lab.)
LOGLEVEL=debug write_conf "$fwd_b"
check "unrelated change: reloaded" hup reloaded
check "unrelated change: www still B's" [ "$(short www.example.lab A)" = 192.0.2.110 ]
check "unrelated change: www from the cache (B asked $n_www -> $(bq www.example.lab.) times)" \
    [ "$(bq www.example.lab.)" = "$n_www" ]
check "unrelated change: no flush logged" [ "$(grep -c "cache flushed" "$log" || true)" = 0 ]

# ---- 3. the forward points elsewhere: the lab's NSD answers, B is not asked
write_conf "$fwd_nsd"
check "forward to NSD: reloaded" hup reloaded
check "forward to NSD: cache flushed (logged)" grep -q "cache flushed" "$log"
n_b=$(wc -l < "$work/b.log")
check "forward to NSD: www now from NSD (was cached from B)" [ "$(short www.example.lab A)" = 192.0.2.10 ]
check "forward to NSD: every worker routes anew (NXDOMAIN from NSD)" all_status NXDOMAIN \
    n1.example.lab n2.example.lab n3.example.lab n4.example.lab n5.example.lab n6.example.lab
check "forward to NSD: B not asked ($n_b -> $(wc -l < "$work/b.log") queries)" \
    [ "$(wc -l < "$work/b.log")" = "$n_b" ]

# ---- 4. a stub: zone replaces the forward: B asked iteratively (RD=0)
write_conf "$stub_b"
check "stub to B: reloaded" hup reloaded
check "stub to B: www from B" [ "$(short www.example.lab A)" = 192.0.2.110 ]
check "stub to B: every worker" all_answer 192.0.2.119 s1.example.lab s2.example.lab \
    s3.example.lab s4.example.lab s5.example.lab s6.example.lab
f=$(flags_of s1.example.lab. | head -1)
check "stub to B: asked iteratively, RD=0 (flags '$f')" [ -n "$f" -a "${f/rd/}" = "$f" ]

# resolver options too: QNAME minimisation on (the default), then off by a reload. B has a
# wildcard, so a minimised walk asks q2.example.lab. before q1.q2.example.lab.
check "QNAME minimisation on: answered" [ "$(short q1.q2.example.lab A)" = 192.0.2.119 ]
check "QNAME minimisation on: B was asked q2.example.lab. first" grep -qi " q2.example.lab. " "$work/b.log"
QMIN=no write_conf "$stub_b"
check "qname-minimisation: no: reloaded" hup reloaded
check "qname-minimisation: no: answered" [ "$(short r1.r2.example.lab A)" = 192.0.2.119 ]
check "qname-minimisation: no: B asked the full name only ($(grep -ci "r2.example.lab. " "$work/b.log" || true) queries)" \
    [ "$(grep -ci " r2.example.lab. " "$work/b.log" || true)" = 0 -a "$(grep -ci " r1.r2.example.lab. " "$work/b.log" || true)" -ge 1 ]

# ---- 5. broken configurations change nothing
printf 'server:\n    threads: two\n' > "$conf.new" && mv "$conf.new" "$conf"
check "syntax error: reload failed" hup "reload failed"
check "syntax error: still the stub to B" all_answer 192.0.2.119 e1.example.lab e2.example.lab \
    e3.example.lab e4.example.lab
printf '; no servers at all\n' > "$work/empty.hints"
HINTS=$work/empty.hints write_conf "$fwd_nsd"
check "unusable root hints: reload failed" hup "reload failed"
check "unusable root hints: the forward to NSD was not applied" all_answer 192.0.2.119 \
    h1.example.lab h2.example.lab h3.example.lab h4.example.lab
check "unusable root hints: iteration still works" [ "$(short www.a.b.c.d.deep.lab A)" = 192.0.2.74 ]
HINTS=$work/missing.hints write_conf "$fwd_nsd"
check "missing root hints: reload failed" hup "reload failed"
check "missing root hints: still the stub" [ "$(short m1.example.lab A)" = 192.0.2.119 ]

# ---- 6. a request in flight keeps the settings it started with
write_conf "$stub_b"
q slow.example.lab A > "$work/slow.out" 2>&1 &
dpid=$!
sleep 0.1
write_conf "$fwd_nsd"
hup reloaded || true
inflight=no
kill -0 "$dpid" 2> /dev/null && inflight=yes # B holds the answer 300 ms
hup reloaded || true # a second one while the first request may still wait upstream
rc=0; wait "$dpid" || rc=$?
check "in flight: the question was still waiting upstream when the reload was done ($inflight)" \
    [ "$inflight" = yes ]
check "in flight: answered (dig rc $rc)" grep -q "status: NOERROR" "$work/slow.out"
check "in flight: by the server it was sent to (B's 192.0.2.111)" grep -q "192.0.2.111" "$work/slow.out"
check "after it: the new route (NSD: NXDOMAIN for slow)" [ "$(status slow.example.lab A)" = NXDOMAIN ]

check "resolverd still running" kill -0 "$pid"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
check "exit 0 on SIGTERM (rc=$rc)" [ "$rc" = 0 ]
if [ "$fail" != 0 ]; then tail -n 30 "$log"; fi
tally_end
