#!/usr/bin/python3
"""A misbehaving DNS-over-TLS upstream for tests/integration/test_forward_tls.sh.

    dot_upstream.py ADDR PORT CERT KEY MODE

Answers every A question with 192.0.2.99 (TTL 60) after doing what MODE says:
  reorder   holds each query until the next one arrives (or 300 ms pass), then answers the
            later one first: replies out of order on one connection
  wrongq    first sends a reply with the same ID but another question, then the right one
  garbage   first sends a 5-octet frame and a reply with an ID and a question nobody asked,
            then the right one
  huge      first sends a frame announcing 65535 octets of junk, then the right one
  close     closes the connection when a query arrives (never answers)
  silent    reads queries and never answers, keeping the connection open
Prints "ready" when listening. Logs one line per query to stdout.
"""
import socket
import ssl
import struct
import sys
import threading

addr, port, cert, key, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]


def qname_end(msg):
    i = 12
    while msg[i] != 0:
        i += msg[i] + 1
    return i + 1 + 4  # zero label, QTYPE, QCLASS


def answer(query, name_override=None):
    """A reply to query: QR, RD copied, RA, one A record for the question's name."""
    end = qname_end(query)
    question = query[12:end]
    if name_override is not None:
        question = name_override + query[end - 4:end]
    flags = struct.unpack("!H", query[2:4])[0]
    hdr = struct.pack("!HHHHHH", struct.unpack("!H", query[:2])[0],
                      0x8000 | (flags & 0x0100) | 0x0080, 1, 1, 0, 0)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 99])
    return hdr + question + rr


def frame(msg):
    return struct.pack("!H", len(msg)) + msg


def read_exact(conn, n, first=False):
    """n octets; socket.timeout only before the first octet of a frame (first=True)."""
    buf = b""
    while len(buf) < n:
        try:
            chunk = conn.recv(n - len(buf))
        except socket.timeout:
            if first and not buf:
                raise
            continue
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def serve(conn):
    held = []  # reorder: a query waiting for the next one (one thread: no locks)
    try:
        while True:
            conn.settimeout(0.3 if held else None)
            try:
                n = struct.unpack("!H", read_exact(conn, 2, first=True))[0]
            except socket.timeout:
                conn.sendall(frame(answer(held.pop())))  # no second query came
                continue
            q = read_exact(conn, n)
            print("query", q[:2].hex(), flush=True)
            if mode == "close":
                return
            if mode == "silent":
                continue
            if mode == "reorder":
                if held:
                    # the later query first, then the earlier one
                    conn.sendall(frame(answer(q)) + frame(answer(held.pop())))
                else:
                    held.append(q)
                continue
            out = b""
            if mode == "wrongq":
                out += frame(answer(q, b"\x05other\x03lab\x00"))
            elif mode == "garbage":
                bad_id = bytes([q[0] ^ 0x5A, q[1] ^ 0xA5])
                other = answer(q, b"\x05other\x03lab\x00")
                out += frame(b"\x01\x02\x03\x04\x05") + frame(bad_id + other[2:])
            elif mode == "huge":
                out += struct.pack("!H", 65535) + b"\xff" * 65535
            conn.sendall(out + frame(answer(q)))
    except (EOFError, OSError, ssl.SSLError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, port))
srv.listen(64)
print("ready", flush=True)
while True:
    raw, _ = srv.accept()
    try:
        tls = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        continue
    threading.Thread(target=serve, args=(tls,), daemon=True).start()
