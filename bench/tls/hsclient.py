#!/usr/bin/python3
"""New-connection load for bench/bench-tls.sh: DoT connections one after another, each with a
TLS handshake, one DNS query answered, and a close.

    hsclient.py new|resume HOST PORT SECS NAME

new     every connection is a full TLS 1.3 handshake (no session offered);
resume  every connection offers the TLS 1.3 ticket from the previous connection
        (RFC 8446 s2.2: PSK with (EC)DHE, the default "psk_dhe_ke" mode of all three
        servers' libraries), so each connection is a resumption.

Why not `openssl s_time -reuse`: in TLS 1.3 the ticket arrives after the handshake, and
s_time never reads, so it never holds a ticket and every "reuse" connection is a full
handshake (checked: no 'r' in its progress output). Reading one DNS answer per connection
is what a real DoT client does before it closes, and it lets the ticket arrive.

Prints one line: "connections N resumed R failed F secs S". Certificates are not verified
(as with s_time): the cost measured is the server's.
"""
import socket
import ssl
import struct
import sys
import time


def query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", 1, 1)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def one(host, port, c, name, qid, session):
    raw = socket.create_connection((host, port), timeout=5)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = c.wrap_socket(raw, server_hostname="bench.lab", session=session)
    try:
        q = query(name, qid)
        s.sendall(struct.pack(">H", len(q)) + q)
        (n,) = struct.unpack(">H", recv_exact(s, 2))
        resp = recv_exact(s, n)
        ok = resp[:2] == q[:2] and (resp[3] & 0x0F) == 0 and resp[6:8] != b"\x00\x00"
        return ok, s.session_reused, s.session
    finally:
        s.close()


def main():
    mode, host, port, secs, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.minimum_version = ssl.TLSVersion.TLSv1_3
    conns = resumed = failed = 0
    session = None
    t0 = time.monotonic()
    end = t0 + secs
    while time.monotonic() < end:
        try:
            ok, reused, sess = one(host, port, c, name, conns & 0xFFFF, session if mode == "resume" else None)
        except (OSError, ssl.SSLError, ConnectionError):
            failed += 1
            session = None
            continue
        conns += 1
        resumed += reused
        failed += not ok
        session = sess
    print("connections %d resumed %d failed %d secs %.3f" % (conns, resumed, failed, time.monotonic() - t0))


if __name__ == "__main__":
    main()
