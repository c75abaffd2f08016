#!/usr/bin/env bash
# The self-signed certificate of the state directory (issue 7 review): its key and its
# certificate are two files replaced one after the other, so a crash between the two renames
# leaves a pair that does not belong together (or half a pair). Each start checks that the key
# is the certificate's and makes a new pair when it is not, logging why; a good pair is reused
# untouched. The symlink and hard-link protections of the state directory are in test_dot.sh.
set -euo pipefail
: "${RD_BUILD:?}" "${RD_SRC:?}"
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
. "$RD_SRC/tests/integration/lib.sh"
not() { ! "$@"; }

zone=$RD_SRC/zones/local/home.lan.zone
want=$(named-checkzone -q -D -o - home.lan. "$zone" | awk '$1=="router.home.lan." && $4=="A" {print $5}')
[ -n "$want" ] || { echo "no router.home.lan A in $zone"; exit 1; }

# conf NAME ADDR STATE: DoT on ADDR@853 with its self-signed certificate in STATE.
conf() {
    cat > "$work/$1.conf" << EOF
server:
    listen: $2@53
    listen-tls: $2@853
    threads: 1
    access-control: 127.0.0.0/8 allow
    log-level: info
    state-dir: $3
    root-hints: $RD_SRC/zones/lab/root.hints
    allow-loopback-upstreams: yes
zone:
    name: home.lan
    file: $zone
EOF
}
# run NAME: starts resolverd with $work/NAME.conf (log $work/NAME.log, a new one each time:
# the previous one goes to earlier.log first, so that its "ready" is not taken for the new
# process's), waits until it is ready; sets $pid.
run() {
    if [ -f "$work/$1.log" ]; then cat "$work/$1.log" >> "$work/earlier.log" && rm "$work/$1.log"; fi
    "$RD_BUILD/resolverd" -c "$work/$1.conf" > "$work/$1.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 200); do grep -qs "ready" "$work/$1.log" && return 0; kill -0 $pid 2> /dev/null || break; sleep 0.05; done
    cat "$work/$1.log"
    return 1
}
stop() {
    kill -TERM "$pid"
    wait "$pid" || true
}
logpin() { grep -o 'SPKI SHA-256 pin [^ ]*' "$1" | tail -1 | awk '{print $4}'; }
# OpenSSL's view: the pin of a certificate, the public keys of a certificate and of a key
sslpin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64; }
crtpub() { openssl x509 -in "$1" -pubkey -noout; }
keypub() { openssl pkey -in "$1" -pubout; }
# matched DIR: the key in DIR is the certificate's, as OpenSSL sees them
matched() { [ -n "$(crtpub "$1/tls-selfsigned.crt")" ] && [ "$(crtpub "$1/tls-selfsigned.crt")" = "$(keypub "$1/tls-selfsigned.key")" ]; }
dot() { kdig @"$1" -p 853 +tls-pin="$2" +short +retry=0 +timeout=3 router.home.lan A; }

# 1. a first start generates a matching pair; a second start reuses it untouched
a=$work/a
conf a 127.0.0.1 "$a"
run a || { bad "first start"; tally_end; exit 1; }
pin1=$(logpin "$work/a.log")
check "generated pair matches (OpenSSL)" matched "$a"
check "logged pin is OpenSSL's" [ -n "$pin1" -a "$pin1" = "$(sslpin "$a/tls-selfsigned.crt")" ]
stop
sum1=$(cat "$a"/tls-selfsigned.* | sha256sum)
run a || { bad "second start"; tally_end; exit 1; }
check "restart: same pin" [ "$(logpin "$work/a.log")" = "$pin1" ]
check "restart: nothing generated, no warning" not grep -q "generat" "$work/a.log"
check "restart: files untouched" [ "$(cat "$a"/tls-selfsigned.* | sha256sum)" = "$sum1" ]
check "restart: DoT answers with the pin" [ "$(dot 127.0.0.1 "$pin1")" = "$want" ]
stop

# 2. the crash: the key renamed into place, the certificate still the old one. Simulated
# with a new P-256 key in the same format (SEC1 PEM, as wolfCrypt writes it), mode 0600.
openssl ecparam -name prime256v1 -genkey -noout -out "$work/other.key" 2> /dev/null
install -m 600 "$work/other.key" "$a/tls-selfsigned.key"
check "set-up: the key is not the certificate's" not matched "$a"
run a || { bad "start with a mismatched pair (the daemon must regenerate, not fail)"; tally_end; exit 1; }
pin2=$(logpin "$work/a.log")
check "mismatch: logged why" grep -q "the key is not the certificate's" "$work/a.log"
check "mismatch: a new pair generated" grep -q "generated a self-signed" "$work/a.log"
check "mismatch: the new pair matches (OpenSSL)" matched "$a"
check "mismatch: a new pin ($pin2), OpenSSL's" [ -n "$pin2" -a "$pin2" != "$pin1" -a "$pin2" = "$(sslpin "$a/tls-selfsigned.crt")" ]
check "mismatch: the key is a regular 0600 file" [ -f "$a/tls-selfsigned.key" -a ! -L "$a/tls-selfsigned.key" -a "$(stat -c %a "$a/tls-selfsigned.key")" = 600 ]
check "mismatch: no temporary file left" not ls "$a"/*.new 2> /dev/null
check "mismatch: DoT answers with the new pin" [ "$(dot 127.0.0.1 "$pin2")" = "$want" ]
check "mismatch: the old pin is refused" not dot 127.0.0.1 "$pin1"
stop

# 3. the other way round: a certificate that belongs to another key (another state
# directory's pair, complete and valid on its own)
b=$work/b
conf b 127.0.0.2 "$b"
run b || { bad "start b"; tally_end; exit 1; }
stop
cp "$b/tls-selfsigned.crt" "$a/tls-selfsigned.crt"
check "set-up: b's certificate with a's key does not match" not matched "$a"
run a || { bad "start with another pair's certificate"; tally_end; exit 1; }
pin3=$(logpin "$work/a.log")
check "foreign certificate: logged, regenerated" grep -q "the key is not the certificate's" "$work/a.log"
check "foreign certificate: the new pair matches" matched "$a"
check "foreign certificate: DoT answers with the new pin" [ "$(dot 127.0.0.1 "$pin3")" = "$want" ]
stop

# 4. half a pair (a crash before the second rename of a first generation, or a file
# removed by hand): a key without certificate, a certificate without key
rm "$a/tls-selfsigned.crt"
run a || { bad "start with a key alone"; tally_end; exit 1; }
check "key alone: logged" grep -q "tls-selfsigned.key without its certificate" "$work/a.log"
check "key alone: a matching pair again" matched "$a"
check "key alone: DoT answers" [ "$(dot 127.0.0.1 "$(logpin "$work/a.log")")" = "$want" ]
stop
rm "$a/tls-selfsigned.key"
run a || { bad "start with a certificate alone"; tally_end; exit 1; }
check "certificate alone: logged" grep -q "tls-selfsigned.crt without its key" "$work/a.log"
check "certificate alone: a matching pair again" matched "$a"
stop

# 5. files that are not what they should be (truncated by a disk that lied about fsync, or
# garbage): regenerated, not fatal
head -c 40 "$a/tls-selfsigned.key" > "$work/trunc" && install -m 600 "$work/trunc" "$a/tls-selfsigned.key"
run a || { bad "start with a truncated key"; tally_end; exit 1; }
check "truncated key: logged" grep -q "the key cannot be read" "$work/a.log"
check "truncated key: a matching pair again" matched "$a"
stop
echo "not a certificate" > "$a/tls-selfsigned.crt"
run a || { bad "start with a garbage certificate"; tally_end; exit 1; }
check "garbage certificate: logged" grep -q "the certificate cannot be read" "$work/a.log"
check "garbage certificate: a matching pair again" matched "$a"
pin5=$(logpin "$work/a.log")
check "garbage certificate: DoT answers" [ "$(dot 127.0.0.1 "$pin5")" = "$want" ]
stop
# and the good pair that came out of it is kept from now on
sum5=$(cat "$a"/tls-selfsigned.* | sha256sum)
run a || { bad "last start"; tally_end; exit 1; }
check "then reused: same pin, files untouched" [ "$(logpin "$work/a.log")" = "$pin5" -a "$(cat "$a"/tls-selfsigned.* | sha256sum)" = "$sum5" ]
check "then reused: no warning" not grep -q "generat" "$work/a.log"
stop
if grep -q "ERROR: \(Leak\|Address\)Sanitizer\|runtime error\|assumption failed\|invariant failed" "$work"/*.log; then
    bad "clean exits (every start)"
    grep -h -B2 -A40 "ERROR: \(Leak\|Address\)Sanitizer\|runtime error\|assumption failed\|invariant failed" "$work"/*.log | head -80
else ok; fi
tally_end
