#!/usr/bin/env bash
# Makes the benchmark's test PKI in DIR with openssl: a CA (ECDSA P-256, self-signed) and a
# server certificate (ECDSA P-256, SAN IP:127.0.0.1 and DNS:bench.lab) signed by it.
#   ca.crt  server.key  server.crt  server.chain (leaf then CA, what the servers send)
# All three servers use the same key and chain, so the handshakes carry the same certificate
# and the server-side signature is ECDSA P-256 for everyone.
# Usage: bench/tls/mkcert.sh DIR
set -euo pipefail
d=${1:?DIR}
mkdir -p "$d"
cd "$d"
openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=resolverd bench CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.crt 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out server.key 2>/dev/null
openssl req -new -key server.key -subj "/CN=bench.lab" -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:bench.lab\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 30 \
    -extfile server.ext -out server.crt 2>/dev/null
cat server.crt ca.crt > server.chain
chmod 600 ca.key server.key
openssl verify -CAfile ca.crt server.crt >/dev/null
