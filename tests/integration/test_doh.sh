#!/usr/bin/env bash
# DNS over HTTPS (RFC 8484) end to end: resolverd's TLS layer and listeners with the HTTP
# module (src/net/http*.c) on top, driven by real clients: kdig +https (POST, GET), dig +https,
# curl --http2 / --http1.1, dnsperf -m doh. HTTP errors, EDNS padding, answers that come
# late from resolution (on their own stream), pinning; HTTP/1.1 corners (chunked bodies,
# absolute-form targets, 100 Continue, pipelining). The HTTP layer's own corner cases are
# unit-tested (tests/unit/test_http.c).
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$work"' EXIT
. "$RD_SRC/tests/integration/lib.sh"
not() { ! "$@"; }
py=/usr/bin/python3
cl="$RD_SRC/tests/integration/data/dotclient.py"

zone=$RD_SRC/zones/local/home.lan.zone
named-checkzone -q -D -o - home.lan. "$zone" > "$work/zone.txt"
want=$(awk '$1=="router.home.lan." && $4=="A" {print $5}' "$work/zone.txt")
ttl=$(awk '$1=="router.home.lan." && $4=="A" {print $2}' "$work/zone.txt")
[ -n "$want" ] && [ -n "$ttl" ] || { echo "no router.home.lan A in $zone"; exit 1; }

cat > "$work/doh.conf" << EOF
server:
    listen: 127.0.0.1@53
    listen-https: 127.0.0.1@443
    listen-https: 127.0.0.1@8443
    https-path: /dns-query
    threads: 2
    access-control: 127.0.0.0/8 allow
    tcp-idle-timeout: 10s
    log-level: info
    state-dir: $work/state
    root-hints: $RD_SRC/zones/lab/root.hints
    allow-loopback-upstreams: yes
zone:
    name: home.lan
    file: $zone
EOF
"$RD_BUILD/resolverd" -c "$work/doh.conf" > "$work/log" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q "ready" "$work/log" && break; kill -0 $pid 2> /dev/null || break; sleep 0.05; done
grep -q ready "$work/log" || { cat "$work/log"; echo "resolverd did not start"; exit 1; }
check "two DoH listeners" [ "$(grep -c 'listening on .* (DoH)' "$work/log")" = 2 ]
pin=$(grep -o 'SPKI SHA-256 pin [^ ]*' "$work/log" | tail -1 | awk '{print $4}')

# 1. real clients
check "kdig +https (POST)" [ "$(kdig @127.0.0.1 +https +short router.home.lan A)" = "$want" ]
check "kdig +https-get" [ "$(kdig @127.0.0.1 +https-get +short router.home.lan A)" = "$want" ]
check "dig +https" [ "$(dig @127.0.0.1 +https +short router.home.lan A)" = "$want" ]
check "dig +https-get" [ "$(dig @127.0.0.1 +https-get +short router.home.lan A)" = "$want" ]
check "kdig +https on the second port" [ "$(kdig @127.0.0.1 -p 8443 +https +short router.home.lan A)" = "$want" ]
check "kdig +https +tls-pin" [ "$(kdig @127.0.0.1 +https +tls-pin="$pin" +short router.home.lan A)" = "$want" ]
out=$(kdig @127.0.0.1 +https router.home.lan A)
check "kdig over HTTP/2" grep -q "HTTP/2-POST" <<< "$out"
n=$(kdig @127.0.0.1 +https +padding router.home.lan A | grep -o 'Received [0-9]* B' | awk '{print $2}')
check "padded DoH response ($n) in 468-octet blocks" [ -n "$n" -a $((n % 468)) = 0 ]
check "ALPN h2 chosen" [ "$($py "$cl" alpn 127.0.0.1 443 h2 http/1.1)" = h2 ]
check "ALPN http/1.1 chosen" [ "$($py "$cl" alpn 127.0.0.1 443 http/1.1)" = http/1.1 ]

# 2. curl, both HTTP versions, POST and GET; the answer decoded with dig's own parser
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06router\x04home\x03lan\x00\x00\x01\x00\x01' > "$work/q.bin"
b64=$(basenc --base64url -w0 "$work/q.bin" | tr -d =)
u=https://127.0.0.1/dns-query
decode() { $py - "$1" << 'PY'
import struct, sys
m = open(sys.argv[1], "rb").read()
i, fl, qd, an = struct.unpack(">HHHH", m[:8])
# skip the question, read the first answer's A rdata
p = 12
while m[p]: p += m[p] + 1
p += 5
p += 2 if m[p] & 0xC0 == 0xC0 else 0
t, c, ttl, rl = struct.unpack(">HHIH", m[p:p + 10])
print("%04x %d %d %s" % (i, fl & 0xF, an, ".".join(str(x) for x in m[p + 10:p + 14])))
PY
}
for v in --http2 --http1.1; do
    code=$(curl -sk $v -H 'content-type: application/dns-message' --data-binary @"$work/q.bin" \
        -D "$work/h" -o "$work/r.bin" -w '%{http_code} %{http_version}' $u)
    check "curl $v POST: $code" grep -q "^200 " <<< "$code"
    check "curl $v: application/dns-message" grep -qi '^content-type: application/dns-message' "$work/h"
    check "curl $v: cache-control max-age=$ttl (the record's TTL)" grep -qi "^cache-control: max-age=$ttl" "$work/h"
    check "curl $v: answer ($(decode "$work/r.bin"))" [ "$(decode "$work/r.bin")" = "1234 0 1 $want" ]
    code=$(curl -sk $v -o "$work/r.bin" -w '%{http_code}' "$u?dns=$b64")
    check "curl $v GET: $code" [ "$code" = 200 ]
    check "curl $v GET answer" [ "$(decode "$work/r.bin")" = "1234 0 1 $want" ]
done
check "HTTP/1.1 really used" grep -q "1.1" <(curl -sk --http1.1 -o /dev/null -w '%{http_version}' "$u?dns=$b64")

# 3. errors as HTTP statuses (RFC 8484 s4.2.1)
st() { curl -sk --http2 -o /dev/null -w '%{http_code}' "$@"; }
check "other path: 404" [ "$(st "https://127.0.0.1/other?dns=$b64")" = 404 ]
check "PUT: 405" [ "$(st -X PUT --data-binary @"$work/q.bin" $u)" = 405 ]
check "wrong content type: 415" [ "$(st -H 'content-type: text/plain' --data-binary @"$work/q.bin" $u)" = 415 ]
check "bad base64url: 400" [ "$(st "$u?dns=!!!!")" = 400 ]
head -c 70000 /dev/zero > "$work/big.bin"
check "body over 65535: 413" [ "$(st -H 'content-type: application/dns-message' --data-binary @"$work/big.bin" $u)" = 413 ]
check "alive after errors" kill -0 $pid

# 3b. HTTP/1.1 corners (issue 7 review). curl with a chunked body (RFC 9112 s7.1), with
# Expect: 100-continue (a missing 100 would cost the 20 s --expect100-timeout), HEAD, the
# head limits; a raw TLS client for what curl does not send: absolute-form targets (s3.2.2,
# which a server MUST accept), chunk extensions and trailers, pipelining, Connection: close.
v1() { curl -sk --http1.1 "$@"; }
code=$(v1 -v -H 'content-type: application/dns-message' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$work/q.bin" -o "$work/r.bin" -w '%{http_code}' $u 2> "$work/v")
check "curl --http1.1 sent a chunked body" grep -qi '^> transfer-encoding: chunked' "$work/v"
check "curl --http1.1 chunked POST: $code" [ "$code" = 200 ]
check "curl --http1.1 chunked POST answer" [ "$(decode "$work/r.bin")" = "1234 0 1 $want" ]
code=$(v1 -v -H 'content-type: application/dns-message' -H 'Expect: 100-continue' --expect100-timeout 20 \
    --data-binary @"$work/q.bin" -o "$work/r.bin" -w '%{http_code} %{time_total}' $u 2> "$work/v")
check "curl --http1.1 Expect: 100-continue got 100 Continue" grep -q '^< HTTP/1.1 100 Continue' "$work/v"
check "curl --http1.1 Expect: 100-continue: 200 at once ($code s)" \
    awk -v c="$code" 'BEGIN {split(c, f, " "); exit !(f[1] == 200 && f[2] < 10)}'
check "curl --http1.1 Expect: 100-continue answer" [ "$(decode "$work/r.bin")" = "1234 0 1 $want" ]
code=$(v1 -D "$work/h" -o /dev/null -w '%{http_code}' -I "$u?dns=$b64")
check "curl --http1.1 HEAD: 405 ($code) with allow: GET, POST" \
    eval '[ "$code" = 405 ] && grep -qi "^allow: GET, POST" "$work/h"'
long=$(head -c 6000 /dev/zero | tr '\0' A)
check "curl --http1.1 request target over the limit: 414" [ "$(v1 -o /dev/null -w '%{http_code}' "$u?dns=$long")" = 414 ]
check "curl --http1.1 header fields over the limit: 431" \
    [ "$(v1 -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 13000 /dev/zero | tr '\0' b)" "$u?dns=$b64")" = 431 ]
cat > "$work/h1raw.py" << 'PY'
# h1raw.py HOST PORT QUERYFILE MODE: one TLS connection (ALPN http/1.1), requests written at
# once, responses read until the server closes; prints "status:answer-ip" per response, then
# "closed" when the server closed the connection.
import base64, socket, ssl, struct, sys

host, port, qf, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
q = open(qf, "rb").read()
b64 = base64.urlsafe_b64encode(q).rstrip(b"=")
ct = b"Content-Type: application/dns-message\r\n"
if mode == "pipeline":
    chunks = b"".join(b"%x;n=\"v\"\r\n%s\r\n" % (len(q[i:i + 7]), q[i:i + 7]) for i in range(0, len(q), 7))
    reqs = [
        # absolute-form POST, Host says something else: the target's authority counts
        b"POST https://%s/dns-query HTTP/1.1\r\nHost: elsewhere.example\r\n%sContent-Length: %d\r\n\r\n%s"
        % (host.encode(), ct, len(q), q),
        b"GET https://resolver.example:443/dns-query?dns=%s HTTP/1.1\r\nHost: resolver.example\r\n\r\n" % b64,
        b"POST /dns-query HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding: chunked\r\n\r\n%s0\r\nX-Sum: 1\r\n\r\n"
        % (ct, chunks),
        b"HEAD /dns-query?dns=%s HTTP/1.1\r\nHost: x\r\n\r\n" % b64,
        b"GET /dns-query?dns=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % b64,
        b"GET /dns-query?dns=%s HTTP/1.1\r\nHost: x\r\n\r\n" % b64,  # never read
    ]
elif mode == "bigchunk":  # 32768 + 32768 octets in two chunks: over 65535
    reqs = [b"POST /dns-query HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding: chunked\r\n\r\n" % ct
            + (b"8000\r\n" + bytes(0x8000) + b"\r\n") * 2 + b"0\r\n\r\n"]
elif mode == "badchunk":
    reqs = [b"POST /dns-query HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding: chunked\r\n\r\nzz\r\n" % ct]
elif mode == "gzip":
    reqs = [b"POST /dns-query HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" % ct]
else:
    sys.exit("mode?")
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["http/1.1"])
s = ctx.wrap_socket(socket.create_connection((host, port), timeout=10), server_hostname=host)
s.sendall(b"".join(reqs))
buf = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
except (ConnectionResetError, ssl.SSLError):
    pass
except socket.timeout:
    print("timeout")
    sys.exit(1)
out = []
while buf:
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        out.append("partial")
        break
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    cl = 0
    for l in lines[1:]:
        n, _, v = l.partition(b":")
        if n.strip().lower() == b"content-length":
            cl = int(v)
    body, buf = rest[:cl], rest[cl:]
    ip = ""
    if status == 200:  # the first answer's A rdata
        p = 12
        while body[p]:
            p += body[p] + 1
        p += 5
        p += 2 if body[p] & 0xC0 == 0xC0 else 0
        ip = ".".join(str(x) for x in body[p + 10:p + 14])
    out.append("%d:%s" % (status, ip))
print(" ".join(out + ["closed"]))
PY
out=$($py "$work/h1raw.py" 127.0.0.1 443 "$work/q.bin" pipeline || true)
check "raw HTTP/1.1: absolute-form POST and GET, chunked with extensions and trailer, HEAD, Connection: close; in order, then closed ($out)" \
    [ "$out" = "200:$want 200:$want 200:$want 405: 200:$want closed" ]
out=$($py "$work/h1raw.py" 127.0.0.1 443 "$work/q.bin" bigchunk || true)
check "raw HTTP/1.1: chunked body over 65535: 413 and closed ($out)" [ "$out" = "413: closed" ]
out=$($py "$work/h1raw.py" 127.0.0.1 443 "$work/q.bin" badchunk || true)
check "raw HTTP/1.1: malformed chunk size: 400 and closed ($out)" [ "$out" = "400: closed" ]
out=$($py "$work/h1raw.py" 127.0.0.1 443 "$work/q.bin" gzip || true)
check "raw HTTP/1.1: a transfer coding we do not undo: 501 and closed ($out)" [ "$out" = "501: closed" ]

# 4. answers that come later from resolution go back on their own stream: the lab's
# authorities are down here, so this is a SERVFAIL with EDE 22, after the cached local ones
out=$(kdig @127.0.0.1 +https www.example.com A)
check "late answer over DoH: SERVFAIL + EDE" grep -q "status: SERVFAIL" <<< "$out"
check "late answer over DoH: HTTP 200" grep -q "status: 200" <<< "$out"

# 5. dnsperf over DoH (HTTP/2) for a few seconds: nothing lost
for i in $(seq 20); do echo "router.home.lan A"; echo "nas.home.lan A"; echo "nosuch.home.lan A"; done > "$work/perf.txt"
for m in POST GET; do
    dnsperf -m doh -O doh-method=$m -O doh-uri=$u -s 127.0.0.1 -p 443 -d "$work/perf.txt" -l 3 -c 2 -q 50 \
        > "$work/dnsperf" 2>&1 || true
    sent=$(awk '/Queries sent:/ {print $3}' "$work/dnsperf")
    lost=$(awk '/Queries lost:/ {print $3}' "$work/dnsperf")
    echo "dnsperf -m doh $m: ${sent:-?} queries sent, ${lost:-?} lost"
    check "dnsperf -m doh $m sent queries" [ "${sent:-0}" -gt 500 ]
    check "dnsperf -m doh $m lost none" [ "${lost:-1}" = 0 ]
done
check "alive after dnsperf" kill -0 $pid

kill -TERM $pid
wait $pid || true
pid=
check "clean exit" not grep -q "ERROR: \(Leak\|Address\)Sanitizer\|runtime error" "$work/log"
check "loop empty at exit" not grep -q "loop not empty" "$work/log"
# 6. review findings. A DNS response (QR=1) posted as a query is a bad request, not 503;
# clients that do not take their answers hold a bounded amount of memory and are closed at
# the idle timeout (PINGs do not keep them). Big answers: a zone with a ~60 KB TXT RRset.
ab="$RD_SRC/tests/integration/data/stream_abuse.py"
{
    printf '$ORIGIN big.lan.\n$TTL 3600\n@ IN SOA ns h 1 3600 900 604800 300\n@ IN NS ns\nns IN A 192.0.2.1\n'
    pad=$(printf 'x%.0s' $(seq 250))
    for i in $(seq -w 0 229); do echo "txt IN TXT \"$i$pad\""; done
} > "$work/big.zone"
cat > "$work/doh2.conf" << EOF
server:
    listen: 127.0.0.5@53
    listen-https: 127.0.0.5@443
    threads: 1
    access-control: 127.0.0.0/8 allow
    tcp-idle-timeout: 2s
    log-level: info
    state-dir: $work/state
    root-hints: $RD_SRC/zones/lab/root.hints
    allow-loopback-upstreams: yes
zone:
    name: big.lan
    file: $work/big.zone
zone:
    name: home.lan
    file: $zone
EOF
# RSS is compared below: under ASan, freed memory must not sit in its quarantine
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
    "$RD_BUILD/resolverd" -c "$work/doh2.conf" > "$work/log2" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q "ready" "$work/log2" && break; kill -0 $pid 2> /dev/null || break; sleep 0.05; done
grep -q ready "$work/log2" || { cat "$work/log2"; bad "second resolverd did not start"; tally_end; exit 1; }
u2=https://127.0.0.5/dns-query
printf '\x12\x34\x81\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06router\x04home\x03lan\x00\x00\x01\x00\x01' > "$work/r.bin"
for v in --http2 --http1.1; do
    code=$(curl -sk $v -H 'content-type: application/dns-message' --data-binary @"$work/r.bin" -o /dev/null -w '%{http_code}' $u2)
    check "curl $v: a response (QR=1) as the query: 400 ($code)" [ "$code" = 400 ]
done
n=$(kdig @127.0.0.5 +https txt.big.lan TXT | grep -o 'Received [0-9]* B' | awk '{print $2}')
check "big answer over DoH (${n:-?} octets)" [ "${n:-0}" -gt 50000 ]
out=$($py "$ab" h2hold 127.0.0.5 443 $pid 3 txt.big.lan 8)
echo "HTTP/2, 3 connections x 100 streams, window closed, PINGs: $out"
g=$(awk '{print $2}' <<< "$out")
check "held HTTP/2 answers bounded: ${g:-?} KiB RSS for 3 connections (< 3 x 3 MiB)" \
    awk -v g="$g" 'BEGIN {exit !(g != "" && g < 9216)}'
check "PINGs do not keep stalled connections past the idle timeout ($out)" \
    awk -v s="$out" 'BEGIN {split(s, f, " "); exit !(f[4] == "3/3" && f[5] < 6)}'
out=$($py "$ab" noread h1 127.0.0.5 443 $pid 4 txt.big.lan)
pc=$(awk '{print $4}' <<< "$out")
check "HTTP/1.1 clients that do not read: ${pc:-?} KiB RSS per connection (< 3 MiB)" \
    awk -v p="$pc" 'BEGIN {exit !(p != "" && p < 3072)}'
check "alive after the hostile DoH clients" kill -0 $pid
check "DoH served after them" [ "$(kdig @127.0.0.5 +https +short router.home.lan A)" = "$want" ]
kill -TERM $pid
wait $pid || true
pid=
check "clean exit (hostile DoH clients)" not grep -q "ERROR: \(Leak\|Address\)Sanitizer\|runtime error" "$work/log2"
tally_end
