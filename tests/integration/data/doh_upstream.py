#!/usr/bin/python3
"""A misbehaving DNS-over-HTTPS upstream (HTTP/2 over TLS, ALPN h2) for
tests/integration/test_forward_retry.sh. A minimal HTTP/2 server written for the test, so
that it can send GOAWAY and RST_STREAM exactly when asked (RFC 9113): requests are taken
from HEADERS + DATA frames (the request headers are not decoded: every request is taken for
a POST of application/dns-message, which is what resolverd sends), replies are a HEADERS frame
(:status 200, content-type application/dns-message, no dynamic table) and a DATA frame.

    doh_upstream.py ADDR PORT CERT KEY MODE

Answers every A question with 192.0.2.99 (TTL 60). MODE says what the FIRST connection does
(later connections answer everything at once):
  goaway:N  waits for N requests, then sends GOAWAY with last-stream-id the N/2-th request's
            stream, answers the requests up to it, ignores the others (those above it were
            not processed: RFC 9113 s6.8) and closes the connection 300 ms later
  refuse:N  of the first N requests, resets every second one (the 1st, 3rd, ...) with
            RST_STREAM REFUSED_STREAM (RFC 9113 s8.7) and answers the others; stays open
  close:N   reads N requests, answers none, closes the TCP connection
  drain     sends GOAWAY with last-stream-id the first request's stream at once, answers
            that request 250 ms later, then closes; any stream opened after the GOAWAY
            is logged as "late stream"
Prints "ready" when listening. Logs "conn K" per connection (K from 1), one line per request
("req conn=K sid=S name=QNAME") and what happened to it ("answered", "refused", "ignored").
"""
import socket
import ssl
import struct
import sys
import threading
import time

addr, port, cert, key, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
mode, _, arg = mode.partition(":")
limit = int(arg) if arg else 0

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20
REFUSED_STREAM, NO_ERROR = 7, 0
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# HPACK (RFC 7541): ":status: 200" is static entry 8; content-type (static name 31) as a
# literal without indexing: no dynamic table state to keep
RESP_HEADERS = b"\x88" + b"\x0f\x10" + bytes([23]) + b"application/dns-message"


def qname_end(msg):
    i = 12
    while msg[i] != 0:
        i += msg[i] + 1
    return i + 1 + 4


def qname_text(msg):
    labels, i = [], 12
    while msg[i] != 0:
        labels.append(msg[i + 1:i + 1 + msg[i]].decode("ascii", "replace").lower())
        i += msg[i] + 1
    return ".".join(labels) + "."


def answer(query):
    end = qname_end(query)
    flags = struct.unpack("!H", query[2:4])[0]
    hdr = struct.pack("!HHHHHH", struct.unpack("!H", query[:2])[0],
                      0x8000 | (flags & 0x0100) | 0x0080, 1, 1, 0, 0)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 99])
    return hdr + query[12:end] + rr


def frame(ftype, flags, sid, payload=b""):
    return struct.pack("!I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack("!I", sid & 0x7FFFFFFF) + payload


def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


class Conn:
    def __init__(self, sock, k):
        self.sock, self.k = sock, k
        self.lock = threading.Lock()
        self.hostile = k == 1 and mode in ("goaway", "refuse", "close", "drain")
        self.bodies = {}  # stream -> request body so far
        self.done = []  # complete requests in order: (sid, body)
        self.goaway_sid = None

    def send(self, data):
        with self.lock:
            self.sock.sendall(data)

    def respond(self, sid, body):
        self.send(frame(HEADERS, END_HEADERS, sid, RESP_HEADERS) +
                  frame(DATA, END_STREAM, sid, answer(body)))
        log("answered conn=%d sid=%d name=%s" % (self.k, sid, qname_text(body)))

    def request(self, sid, body):
        log("req conn=%d sid=%d name=%s" % (self.k, sid, qname_text(body)))
        if self.goaway_sid is not None and sid > self.goaway_sid:
            log("ignored conn=%d sid=%d name=%s" % (self.k, sid, qname_text(body)))
            return
        if not self.hostile:
            self.respond(sid, body)
            return
        self.done.append((sid, body))
        n = len(self.done)
        if mode == "refuse":
            if n <= limit and n % 2 == 1:
                self.send(frame(RST_STREAM, 0, sid, struct.pack("!I", REFUSED_STREAM)))
                log("refused conn=%d sid=%d name=%s" % (self.k, sid, qname_text(body)))
            else:
                self.respond(sid, body)
        elif mode == "close" and n >= limit:
            log("closing conn=%d" % self.k)
            raise EOFError
        elif mode == "goaway" and n == limit:
            last = sorted(s for s, _ in self.done)[limit // 2 - 1]
            self.goaway_sid = last
            self.send(frame(GOAWAY, 0, 0, struct.pack("!II", last, NO_ERROR)))
            log("goaway conn=%d last=%d" % (self.k, last))
            for s, b in self.done:
                if s <= last:
                    self.respond(s, b)
                else:
                    log("ignored conn=%d sid=%d name=%s" % (self.k, s, qname_text(b)))
            threading.Timer(0.3, self.shut).start()
        elif mode == "drain" and n == 1:
            self.goaway_sid = sid
            self.send(frame(GOAWAY, 0, 0, struct.pack("!II", sid, NO_ERROR)))
            log("goaway conn=%d last=%d" % (self.k, sid))
            threading.Timer(0.25, lambda: (self.respond(sid, body), self.shut())).start()

    def shut(self):
        log("closing conn=%d" % self.k)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def serve(self):
        if read_exact(self.sock, len(PREFACE)) != PREFACE:
            return
        self.send(frame(SETTINGS, 0, 0, struct.pack("!HI", 3, 100)))  # MAX_CONCURRENT_STREAMS
        while True:
            hdr = read_exact(self.sock, 9)
            length = struct.unpack("!I", b"\0" + hdr[:3])[0]
            ftype, flags = hdr[3], hdr[4]
            sid = struct.unpack("!I", hdr[5:9])[0] & 0x7FFFFFFF
            payload = read_exact(self.sock, length)
            if ftype == SETTINGS and not flags & ACK:
                self.send(frame(SETTINGS, ACK, 0))
            elif ftype == PING and not flags & ACK:
                self.send(frame(PING, ACK, 0, payload))
            elif ftype == GOAWAY:
                return
            elif ftype == HEADERS:
                if self.goaway_sid is not None and sid > self.goaway_sid:
                    log("late stream conn=%d sid=%d" % (self.k, sid))
                self.bodies[sid] = b""
                if flags & END_STREAM:
                    self.request(sid, self.bodies.pop(sid))
            elif ftype == DATA and sid in self.bodies:
                pad = payload[0] if flags & PADDED else 0
                data = payload[1:len(payload) - pad] if flags & PADDED else payload
                self.bodies[sid] += data
                if length:  # keep the client's connection window open (RFC 9113 s6.9)
                    self.send(frame(WINDOW_UPDATE, 0, 0, struct.pack("!I", length)))
                if flags & END_STREAM:
                    self.request(sid, self.bodies.pop(sid))
            elif ftype == RST_STREAM:
                self.bodies.pop(sid, None)


out_lock = threading.Lock()


def log(line):
    with out_lock:
        print(line, flush=True)


def run(sock, k):
    c = Conn(sock, k)
    try:
        c.serve()
    except (EOFError, OSError, ssl.SSLError, IndexError, struct.error):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.set_alpn_protocols(["h2"])
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
    log("conn %d" % nconn)
    threading.Thread(target=run, args=(tls, nconn), daemon=True).start()
