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
  closeafter:N  on the first connection: reads N queries, answers none, sends close_notify
            and closes (queries sent after the N-th are lost with it); later connections
            answer everything
  halfclose:N   on the first connection: reads N queries, answers every second one (the
            2nd, 4th, ...), then ends the TCP connection without close_notify (FIN; what
            still comes is dropped unanswered); later connections answer everything
Prints "ready" when listening. Logs "conn K" per accepted connection (K from 1) and one line
per query to stdout: "query ID conn=K name=QNAME".
"""
import socket
import ssl
import struct
import sys
import threading

addr, port, cert, key, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
mode, _, arg = mode.partition(":")
limit = int(arg) if arg else 0


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


def qname_text(msg):
    labels, i = [], 12
    while msg[i] != 0:
        labels.append(msg[i + 1:i + 1 + msg[i]].decode("ascii", "replace").lower())
        i += msg[i] + 1
    return ".".join(labels) + "."


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


def serve(conn, k):
    held = []  # reorder: a query waiting for the next one (one thread: no locks)
    nread = 0
    # closeafter / halfclose misbehave on the first connection only: the queries it loses
    # must be sent again on another one, which answers
    hostile_conn = mode in ("closeafter", "halfclose") and k == 1
    try:
        while True:
            conn.settimeout(0.3 if held else None)
            try:
                n = struct.unpack("!H", read_exact(conn, 2, first=True))[0]
            except socket.timeout:
                conn.sendall(frame(answer(held.pop())))  # no second query came
                continue
            q = read_exact(conn, n)
            nread += 1
            print("query", q[:2].hex(), "conn=%d" % k, "name=" + qname_text(q), flush=True)
            if hostile_conn:
                if mode == "halfclose" and nread % 2 == 0:
                    conn.sendall(frame(answer(q)))
                    print("answered conn=%d name=%s" % (k, qname_text(q)), flush=True)
                if nread < limit:
                    continue
                print("closing conn=%d" % k, flush=True)
                conn.settimeout(1)
                if mode == "closeafter":
                    try:
                        conn.unwrap()  # close_notify (RFC 8446 s6.1), then the socket
                    except (OSError, ssl.SSLError, ValueError):
                        pass
                    return
                # halfclose: a FIN after the answers, then whatever still comes is read and
                # dropped until the client closes (closing with unread data would reset the
                # connection, and a reset can discard the answers before the client reads them)
                conn.shutdown(socket.SHUT_WR)
                while conn.recv(4096):
                    pass
                return
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
nconn = 0
while True:
    raw, _ = srv.accept()
    try:
        tls = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        continue
    nconn += 1
    print("conn", nconn, flush=True)
    threading.Thread(target=serve, args=(tls, nconn), daemon=True).start()
