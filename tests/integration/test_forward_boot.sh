#!/usr/bin/env bash
# https:// forward upstreams without @BOOTSTRAP-IP (issue 8): resolverd resolves the URL's host
# itself and sends the questions over DoH to the address found. Upstreams: two resolverd
# instances over the offline lab (tests/lab), DoH on 127.0.200.3 and DoT on 127.0.200.4 (test
# CA and certificates made here), each serving its own local zone who.test whose wildcard TXT
# says which one answered ("doh" / "dot"). The lab gets one extra name for this test only
# (a copy of zones/lab: doh.boot.lab A 127.0.200.3); doh.boot2.lab exists only in the DoT
# upstream's local data, and nx.boot.lab nowhere. Cases:
#  (a) forward who.test to https://doh.boot.lab/...: the host is outside the forward zone and
#      resolved by recursion; answers come over DoH; one warning says so;
#  (b) forward "." to https://doh.boot2.lab/... and tls://127.0.200.4 in the same zone: the host
#      is resolved through the DoT upstream (the lab does not know it: recursion would fail),
#      then questions go over DoH (the faster-upstream choice decides how many; at least
#      some); a capture shows no port-53 packet from resolverd;
#  (c) forward "." to https://doh.boot.lab/... alone: the host (only the host) is looked up by
#      recursion in clear text, with one warning; every client question goes over DoH;
#  (d) forward "." to https://nx.boot.lab/...: SERVFAIL with EDE 22 naming the upstream, the
#      log names it, resolverd stays up; with forward-first: yes, recursion answers;
#  (e) forward "." to https://doh.mine.lab/... whose host is in the forwarder's own local data
#      (a zone: section): that address, no lookup, no warning, no port-53 packet; after the
#      address changes (reload), new connections go to the new one;
#  (f) a silent DoT upstream goes down; its probes hang across a reload and a stop: the old
#      engine context lives until its probe ends, the stop is clean.
# Everything runs in this test's own network namespace (ctest: tests/integration/netns.sh).
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
    "$RD_SRC/tests/lab/stop.sh" "$work/lab" > /dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
. "$RD_SRC/tests/integration/lib.sh"
not() { ! "$@"; }
fmt() { sort | tr '\n' ' '; }

# ---- the lab, from a copy of its zones with the DoH upstream's host name added ----
cp -r "$RD_SRC/zones/lab" "$work/zones"
echo "doh.boot            IN  A     127.0.200.3        ; test_forward_boot.sh only" >> "$work/zones/lab.zone"
RD_LAB_ZONES=$work/zones RD_LAB_NETNS=1 "$RD_SRC/tests/lab/start.sh" "$work/lab" > "$work/lab.log" 2>&1 || {
    cat "$work/lab.log"; exit 1; }
hints=$work/lab/root.hints
nsd() { dig @"$1" +norec +short "$2" "$3" | fmt; }
want_www=$(nsd 127.0.10.1 www.example.lab A)
[ -n "$want_www" ] || { echo "lab not answering"; exit 1; }
check "lab: doh.boot.lab is in the lab's copy" [ "$(nsd 127.0.1.1 doh.boot.lab A)" = "127.0.200.3 " ]
check "lab: doh.boot2.lab is not" grep -q "status: NXDOMAIN" <(dig @127.0.1.1 +norec doh.boot2.lab A)

# ---- PKI: a test CA and one certificate for both upstreams (every host name used here) ----
pki=$work/pki
mkdir -p "$pki"
(
    cd "$pki"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2> /dev/null; }
    key ca.key
    openssl req -x509 -key ca.key -out ca.crt -days 30 -subj /CN=resolverd-test-ca 2> /dev/null
    san="subjectAltName=DNS:dot.lab,DNS:doh.boot.lab,DNS:doh.boot2.lab,DNS:doh.mine.lab"
    san="$san,IP:127.0.200.3,IP:127.0.200.4"
    key good.key
    openssl req -new -key good.key -out good.csr -subj /CN=good -addext "$san" 2> /dev/null
    printf '%s\n' "$san" "extendedKeyUsage=serverAuth" > ext
    openssl x509 -req -in good.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
        -extfile ext -out good.crt 2> /dev/null
)
[ -s "$pki/good.crt" ] || { echo "no certificate"; exit 1; }

# start NAME: runs resolverd with $work/NAME.conf, log in $work/NAME.log; sets $pid
start() {
    : > "$work/$1.log"
    "$RD_BUILD/resolverd" -c "$work/$1.conf" > "$work/$1.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 200); do grep -q "ready" "$work/$1.log" && return 0; kill -0 $pid 2> /dev/null || break; sleep 0.05; done
    cat "$work/$1.log"
    return 1
}
stop() { kill -TERM "$1" 2> /dev/null; wait "$1" 2> /dev/null || true; }
zonefile() { # NAME WHO [EXTRA-RECORD]: a local zone NAME whose wildcard TXT says WHO
    {
        echo "\$ORIGIN $1."
        echo "\$TTL 300"
        echo "@ IN SOA ns.$1. hostmaster.$1. 1 3600 600 86400 300"
        echo "@ IN NS ns.$1."
        echo "ns IN A 192.0.2.53"
        [ -z "$2" ] || echo "* IN TXT \"$2\""
        [ -z "${3:-}" ] || echo "$3"
    } > "$work/$1-$2.zone"
}
up() { # NAME ADDR WHO ZONE-SECTION-LINES...: a resolverd upstream serving DoT and DoH on ADDR
    local name=$1 addr=$2 who=$3; shift 3
    zonefile who.test "$who"
    {
        echo "server:"
        echo "    threads: 1"
        echo "    access-control: 127.0.0.0/8 allow"
        echo "    root-hints: $hints"
        echo "    allow-loopback-upstreams: yes"
        echo "    state-dir: $work/state-$name"
        echo "    listen: $addr@53"
        echo "    listen-tls: $addr@853"
        echo "    listen-https: $addr@443"
        echo "    tls-certificate: $pki/good.crt"
        echo "    tls-key: $pki/good.key"
        echo "    log-level: debug"
        echo "zone:"
        echo "    name: who.test"
        echo "    file: $work/who.test-$who.zone"
        for l in "$@"; do echo "$l"; done
    } > "$work/$name.conf"
    start "$name" || { echo "upstream $name did not start"; exit 1; }
}
# the DoT upstream alone knows doh.boot2.lab (its local data): case (b) can only work
# through it
{
    echo "\$ORIGIN boot2.lab."
    echo "\$TTL 300"
    echo "@ IN SOA ns.boot2.lab. hostmaster.boot2.lab. 1 3600 600 86400 300"
    echo "@ IN NS ns.boot2.lab."
    echo "ns IN A 192.0.2.53"
    echo "doh IN A 127.0.200.3"
} > "$work/boot2.lab.zone"
up doh 127.0.200.3 doh
doh_pid=$pid
up dot 127.0.200.4 dot "zone:" "    name: boot2.lab" "    file: $work/boot2.lab.zone"
wait_port() { # addr port: until something listens on TCP addr:port
    for _ in $(seq 200); do ss -Htln "src $1:$2" | grep -q . && return 0; sleep 0.05; done
    return 1
}
wait_port 127.0.200.3 443 && wait_port 127.0.200.4 853 || { echo "upstreams not listening"; exit 1; }
check "the DoT upstream serves doh.boot2.lab" [ "$(nsd 127.0.200.4 doh.boot2.lab A)" = "127.0.200.3 " ]

# ---- the forwarder under test: 127.0.0.1@5300 (clients' questions are not port-53 traffic),
# one thread (one engine context: one warning per upstream), loopback recursion allowed so
# that a clear-text lookup would really go out (and be seen) ----
front() { # NAME FORWARD-ZONE UPSTREAM-LINES...: config and log $work/fw-NAME.*
    local name=fw-$1 zone=$2; shift 2
    {
        cat << EOF
server:
    listen: 127.0.0.1@5300
    threads: 1
    access-control: 127.0.0.0/8 allow
    root-hints: $hints
    allow-loopback-upstreams: yes
    state-dir: $work/state-$name
    tls-ca-file: $pki/ca.crt
    log-level: debug
EOF
        printf '%s\n' "forward:" "    name: $zone"
        for l in "$@"; do echo "    $l"; done
        [ -z "${front_extra:-}" ] || printf '%s\n' "$front_extra"
    } > "$work/$name.conf"
    start "$name" || { echo "forwarder $name did not start"; exit 1; }
}
q() { dig @127.0.0.1 -p 5300 +tries=1 +time=8 "$@"; }
short() { q +short "$@" | fmt; }
warns() { grep -c "looked up by recursion from the root, in clear text" "$work/fw-$1.log" || true; }
who_count() { # N PREFIX: asks N names of who.test; prints how many answers were doh / dot / bad
    local doh=0 dot=0 badn=0
    for i in $(seq 1 "$1"); do
        case "$(short "$2$i.who.test" TXT)" in
            '"doh" ') doh=$((doh + 1)) ;;
            '"dot" ') dot=$((dot + 1)) ;;
            *) badn=$((badn + 1)) ;;
        esac
    done
    echo "$doh $dot $badn"
}

# (a) the host outside the forward zone: found by recursion (a normal lookup), one warning
front a who.test "upstream: https://doh.boot.lab/dns-query"
f=$pid
check "(a) answer over DoH" [ "$(short a1.who.test TXT)" = '"doh" ' ]
read -r doh dot badn <<< "$(who_count 5 a)"
check "(a) every who.test question answered by the DoH upstream ($doh doh, $dot dot, $badn other)" [ "$doh" = 5 ]
check "(a) outside the forward zone: recursion" [ "$(short www.example.lab A)" = "$want_www" ]
check "(a) one clear-text warning naming the upstream ($(warns a))" [ "$(warns a)" = 1 ]
check "(a) the warning names the upstream and its host" \
    grep -q "\[warn\]: forward upstream https://doh.boot.lab/dns-query: .*doh.boot.lab was looked up by recursion" "$work/fw-a.log"
check "(a) a DoH connection to the host's address" \
    grep -q "forward upstream https://doh.boot.lab/dns-query: connected" "$work/fw-a.log"
stop "$f"

# (b) "." to the DoH upstream by name and a DoT upstream with an address: the host's lookup
# goes through the DoT one (only it knows doh.boot2.lab), then both carry questions; a
# capture shows no port-53 packet from resolverd (a dig to 127.0.20.1 is the control)
tshark -i lo -f "port 53" -w "$work/cap-b.pcap" > "$work/tshark-b.log" 2>&1 &
tpid=$!
pids+=("$tpid")
for _ in $(seq 200); do grep -q "Capturing on" "$work/tshark-b.log" && break; sleep 0.05; done
sleep 0.5
front b . "upstream: https://doh.boot2.lab/dns-query" "upstream: tls://127.0.200.4@853#dot.lab"
f=$pid
read -r doh dot badn <<< "$(who_count 24 b)"
echo "(b) 24 questions: $doh answered over DoH, $dot over DoT, $badn otherwise"
check "(b) every question answered ($doh doh, $dot dot, $badn other)" [ "$badn" = 0 ]
check "(b) questions went over DoH to the looked-up address ($doh)" [ "$doh" -gt 0 ]
check "(b) a connection to the DoH upstream's address" \
    grep -q "forward upstream https://doh.boot2.lab/dns-query: connected" "$work/fw-b.log"
check "(b) no clear-text warning" [ "$(warns b)" = 0 ]
dig @127.0.20.1 +norec dns-host.net SOA > /dev/null
sleep 1
kill -INT $tpid
wait $tpid 2> /dev/null || true
count() { # PCAP FILTER: packets matching (a bad filter fails the test, not the count)
    tshark -r "$1" -Y "$2" > "$work/count.out" 2> "$work/count.err" || { cat "$work/count.err"; echo -1; return 0; }
    wc -l < "$work/count.out"
}
control=$(count "$work/cap-b.pcap" "dns && ip.addr == 127.0.20.1")
leaked=$(count "$work/cap-b.pcap" "!(ip.addr == 127.0.20.1)")
echo "(b) capture: $control control packets, $leaked others"
check "(b) capture: the control query seen ($control packets)" [ "$control" -gt 0 ]
check "(b) capture: no port-53 packet from resolverd ($leaked)" [ "$leaked" = 0 ]
[ "$leaked" = 0 ] || tshark -r "$work/cap-b.pcap" -Y "!(ip.addr == 127.0.20.1)" 2> /dev/null | head
stop "$f"

# (c) "." to the DoH upstream alone, its host only in the lab: that name (and root priming)
# goes out by recursion in clear text, once, with one warning; client questions never do
tshark -i lo -f "port 53" -w "$work/cap-c.pcap" > "$work/tshark-c.log" 2>&1 &
tpid=$!
pids+=("$tpid")
for _ in $(seq 200); do grep -q "Capturing on" "$work/tshark-c.log" && break; sleep 0.05; done
sleep 0.5
front c . "upstream: https://doh.boot.lab/dns-query"
f=$pid
read -r doh dot badn <<< "$(who_count 10 c)"
check "(c) every question answered over DoH ($doh doh, $dot dot, $badn other)" [ "$doh" = 10 ]
sleep 1
kill -INT $tpid
wait $tpid 2> /dev/null || true
# Port-53 queries while only who.test was asked (the DoH upstream answers it from local data,
# so it sends none itself): resolverd's lookup of the host, QNAME-minimised (RFC 9156: lab.,
# boot.lab., doh.boot.lab.) and in random case (0x20), after root priming; nothing else.
boot='lower(dns.qry.name) == "doh.boot.lab"'
boot_path="$boot || lower(dns.qry.name) == \"boot.lab\" || lower(dns.qry.name) == \"lab\" || dns.qry.name == \"<Root>\""
host_q=$(count "$work/cap-c.pcap" "dns.flags.response == 0 && ($boot)")
other_q=$(count "$work/cap-c.pcap" "dns.flags.response == 0 && !($boot_path)")
echo "(c) capture: $host_q queries for doh.boot.lab, $other_q for other names than its path"
check "(c) capture: the host's lookup went out on port 53 ($host_q queries)" [ "$host_q" -gt 0 ]
check "(c) capture: no client question did ($other_q other queries)" [ "$other_q" = 0 ]
[ "$other_q" = 0 ] || tshark -r "$work/cap-c.pcap" -Y 'dns.flags.response == 0' 2> /dev/null | head
check "(c) the lab's names too, through the DoH upstream" [ "$(short www.example.lab A)" = "$want_www" ]
check "(c) exactly one clear-text warning ($(warns c))" [ "$(warns c)" = 1 ]
stop "$f"

# (d) the host does not exist: SERVFAIL with EDE 22 whose text names the upstream, a log line
# names it too, resolverd stays up; forward-first: yes falls back to recursion
front d . "upstream: https://nx.boot.lab/dns-query"
f=$pid
out=$(q x1.who.test TXT)
check "(d) SERVFAIL" grep -q "status: SERVFAIL" <<< "$out"
check "(d) EDE 22 naming the upstream" grep -q "EDE: 22.*https://nx.boot.lab/dns-query: no address" <<< "$out"
grep -q "EDE: 22" <<< "$out" || echo "$out"
check "(d) again: SERVFAIL" grep -q "status: SERVFAIL" <(q x2.who.test TXT)
check "(d) the log names the upstream" grep -q "forward upstream https://nx.boot.lab/dns-query" "$work/fw-d.log"
check "(d) resolverd still up" kill -0 $f
check "(d) no DoH connection attempted" not grep -q "connected\|connect:" "$work/fw-d.log"
stop "$f"
front d-first . "upstream: https://nx.boot.lab/dns-query" "forward-first: yes"
f=$pid
check "(d) forward-first: yes: answered by recursion" [ "$(short www.example.lab A)" = "$want_www" ]
stop "$f"

# (e) local data has the host: it wins (no lookup at all, no warning, nothing on port 53)
{
    echo "\$ORIGIN mine.lab."
    echo "\$TTL 300"
    echo "@ IN SOA ns.mine.lab. hostmaster.mine.lab. 1 3600 600 86400 300"
    echo "@ IN NS ns.mine.lab."
    echo "ns IN A 192.0.2.53"
    echo "doh IN A 127.0.200.3"
} > "$work/mine.lab.zone"
tshark -i lo -f "port 53" -w "$work/cap-e.pcap" > "$work/tshark-e.log" 2>&1 &
tpid=$!
pids+=("$tpid")
for _ in $(seq 200); do grep -q "Capturing on" "$work/tshark-e.log" && break; sleep 0.05; done
sleep 0.5
front_extra=$(printf '%s\n' "zone:" "    name: mine.lab" "    file: $work/mine.lab.zone")
front e . "upstream: https://doh.mine.lab/dns-query"
front_extra=
f=$pid
read -r doh dot badn <<< "$(who_count 5 e)"
check "(e) every question answered over DoH ($doh doh, $dot dot, $badn other)" [ "$doh" = 5 ]
check "(e) the host answered from local data to clients too" [ "$(short doh.mine.lab A)" = "127.0.200.3 " ]
check "(e) no clear-text warning" [ "$(warns e)" = 0 ]
dig @127.0.20.1 +norec dns-host.net SOA > /dev/null
sleep 1
kill -INT $tpid
wait $tpid 2> /dev/null || true
control=$(count "$work/cap-e.pcap" "dns && ip.addr == 127.0.20.1")
leaked=$(count "$work/cap-e.pcap" "!(ip.addr == 127.0.20.1)")
echo "(e) capture: $control control packets, $leaked others"
check "(e) capture: the control query seen ($control packets)" [ "$control" -gt 0 ]
check "(e) capture: no port-53 packet from resolverd ($leaked)" [ "$leaked" = 0 ]
# the host's address changes (local data edited, SIGHUP): new connections go to the new
# address (127.0.200.4 serves DoH too, with its own who.test: "dot"); the old one idles out
sed -i 's/^doh IN A 127.0.200.3$/doh IN A 127.0.200.4/' "$work/mine.lab.zone"
kill -HUP $f
for _ in $(seq 100); do grep -q "reloaded" "$work/fw-e.log" && break; sleep 0.05; done
check "(e) reload applied" grep -q "reloaded" "$work/fw-e.log"
read -r doh dot badn <<< "$(who_count 5 e-new)"
check "(e) after the address changed: every question to the new one ($doh doh, $dot dot)" [ "$dot" = 5 ]
check "(e) a new DoH connection to 127.0.200.4:443" [ "$(ss -Htn state established "dst 127.0.200.4:443" | wc -l)" -ge 1 ]
stop "$f"

# (f) probes in flight outlive their engine context and the worker (issue 8 review): a DoT
# upstream that accepts connections and never says a word (127.0.200.5) goes down; its probe
# hangs in the TLS handshake while a reload replaces the context (the old one must stay
# alive until the probe ends, then go); in the new context it goes down again and the
# forwarder is stopped while that probe hangs and a client's TCP connection is open: a clean stop ("stopped", nothing left in the
# loop, no sanitizer report; ASan builds check the leaks).
python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.200.5", 853))
s.listen(64)
held = []
while True:
    held.append(s.accept()[0])
' &
pids+=($!)
wait_port 127.0.200.5 853 || { echo "silent upstream not listening"; exit 1; }
front f who.test "upstream: tls://127.0.200.5@853#dot.lab"
f=$pid
flog=$work/fw-f.log
probes() { grep -c "tls://127.0.200.5@853#dot.lab: probing" "$flog" || true; }
downs() { grep -c "tls://127.0.200.5@853#dot.lab: down after" "$flog" || true; }
take_down() { # WANT: asks until the upstream has gone down WANT times, then returns as soon
    # as its probe starts (the probe then hangs for its timeout, about a second)
    for i in $(seq 12); do
        q +time=3 "f$1-$i.who.test" TXT > /dev/null 2>&1 &
        for _ in $(seq 200); do
            [ "$(downs)" -ge "$1" ] && break 2
            kill -0 $! 2> /dev/null || break
            sleep 0.02
        done
    done
    for _ in $(seq 250); do [ "$(probes)" -ge "$1" ] && return 0; sleep 0.02; done
    return 1
}
check "(f) the silent upstream goes down and is probed" take_down 1
kill -HUP $f # the probe is in its handshake: the old context must outlive the swap
for _ in $(seq 100); do grep -q "reloaded" "$flog" && break; sleep 0.05; done
check "(f) reload with a probe in flight" grep -q "reloaded" "$flog"
# line numbers in the log: the probe ended after the reload (the old context's last request)
after_reload() { awk '/]: reloaded$/ {r = NR} /probe failed/ {p = NR} END {exit !(r && p > r)}' "$flog"; }
for _ in $(seq 200); do after_reload && break; sleep 0.05; done
check "(f) the old context's probe ended (failed) after the reload" after_reload
check "(f) still answering after the reload" grep -q "status: SERVFAIL" <(q f-after.who.test TXT)
check "(f) resolverd still up" kill -0 $f
check "(f) down again in the new context, probed again" take_down 2
# a client's TCP connection open at the stop: the worker waits for it to drain (the path
# that ended with the probe timer still open before this review)
exec 3<> /dev/tcp/127.0.0.1/5300
stop "$f" # while that probe hangs
exec 3>&-
check "(f) stopped with a probe in flight" grep -q "stopped" "$flog"
check "(f) nothing left in the worker's loop" not grep -q "loop not empty" "$flog"
if grep -q "loop not empty" "$flog"; then tail -20 "$flog"; fi

# every resolverd above stopped cleanly: no sanitizer report (ASan/UBSan builds), no crash
stop $doh_pid
check "no sanitizer report in any resolverd log" not grep -l "Sanitizer\|runtime error" "$work"/*.log
check "no forwarder's loop had handles left at exit" not grep -l "loop not empty" "$work"/*.log
check "every forwarder stopped cleanly" [ "$(grep -l "resolverd.*starting" "$work"/fw-*.log | wc -l)" = "$(grep -l "stopped" "$work"/fw-*.log | wc -l)" ]

tally_end
