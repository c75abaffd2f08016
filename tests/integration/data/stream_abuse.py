#!/usr/bin/env python3
"""Hostile stream clients for test_dot.sh / test_doh.sh (review findings of the DoT/DoH
service). Each mode prints one result line; the shell test judges the numbers.

  noread MODE ADDR PORT PID NCONN NAME   MODE tcp|dot|h1: connections that send many queries
        for NAME (big answers) and never read; prints "growth KIB per-conn KIB"
  h2hold ADDR PORT PID NCONN NAME SECS   HTTP/2 connections opening 100 streams each with the
        flow-control window closed, PINGs every second; prints "growth KIB closed N/NCONN T"
  trickle ADDR PORT SECS                 DoT: a frame that never completes, one octet every
        0.3 s for SECS; prints "closed T" or "open T"
  h1pipe ADDR PORT NAMEFMT N             HTTP/1.1: N GETs (NAMEFMT % i) pipelined in one write;
        prints "answered K/N" and the statuses seen
  halfclose ADDR PORT NAME               TCP: one query, then shutdown(SHUT_WR) (RFC 7766
        s6.2.4); prints "answered RCODE T" or "closed T"
"""
import base64, socket, ssl, struct, sys, time


def query(name, qid, qtype=16):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    return 0


def tls(raw, alpn):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.set_alpn_protocols([alpn])
    return c.wrap_socket(raw, server_hostname="x")


def small_socket(addr, port):
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((addr, port))
    return raw


def noread(mode, addr, port, pid, n, name):
    before = rss(pid)
    socks = []
    for _ in range(n):
        raw = small_socket(addr, port)
        if mode == "tcp":
            s = raw
        else:
            s = tls(raw, "dot" if mode == "dot" else "http/1.1")
        if mode == "h1":
            b = base64.urlsafe_b64encode(query(name, 0)).rstrip(b"=")
            one = b"GET /dns-query?dns=" + b + b" HTTP/1.1\r\nHost: a\r\n\r\n"
        else:
            q = query(name, 1)
            one = struct.pack(">H", len(q)) + q
        blob = one * (16000 // len(one))
        s.settimeout(1)
        try:
            for _ in range(6):
                s.sendall(blob)
        except (socket.timeout, OSError):
            pass
        socks.append(s)
        time.sleep(0.3)
    time.sleep(1)
    growth = rss(pid) - before
    print("growth %d per-conn %d" % (growth, growth // n), flush=True)


def h2frame(t, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([t, flags]) + struct.pack(">I", sid) + payload


def lit(n, v):  # literal header field without indexing, new name (RFC 7541 s6.2.2)
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def h2hold(addr, port, pid, n, name, secs):
    before = rss(pid)
    path = b"/dns-query?dns=" + base64.urlsafe_b64encode(query(name, 0)).rstrip(b"=")
    hdr = lit(b":method", b"GET") + lit(b":scheme", b"https") + lit(b":path", path) + \
        lit(b":authority", b"x")
    socks = []
    for _ in range(n):
        s = tls(small_socket(addr, port), "h2")
        assert s.selected_alpn_protocol() == "h2"
        # SETTINGS_INITIAL_WINDOW_SIZE 0: no DATA may be sent to us
        out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2frame(4, 0, 0, struct.pack(">HI", 4, 0))
        for i in range(100):
            out += h2frame(1, 0x5, 2 * i + 1, hdr)
        s.sendall(out)
        socks.append(s)
    time.sleep(1)
    growth = rss(pid) - before
    t0 = time.time()
    closed = 0
    alive = list(socks)
    while time.time() - t0 < secs and alive:
        time.sleep(1)
        for s in list(alive):
            try:
                s.sendall(h2frame(6, 0, 0, b"12345678"))  # PING
            except OSError:
                closed += 1
                alive.remove(s)
    print("growth %d closed %d/%d %.1f" % (growth, closed, n, time.time() - t0), flush=True)


def trickle(addr, port, secs):
    s = tls(socket.create_connection((addr, port)), "dot")
    t0 = time.time()
    s.sendall(struct.pack(">H", 60000))
    try:
        while time.time() - t0 < secs:
            time.sleep(0.3)
            s.sendall(b"\0")
        s.settimeout(0.5)
        d = s.recv(10)
        if d:
            print("open %.1f" % (time.time() - t0))
            return
    except (socket.timeout,):
        print("open %.1f" % (time.time() - t0))
        return
    except (OSError, ssl.SSLError):
        pass
    print("closed %.1f" % (time.time() - t0))


def h1pipe(addr, port, fmt, n):
    s = tls(socket.create_connection((addr, port)), "http/1.1")
    reqs = b""
    for i in range(n):
        b = base64.urlsafe_b64encode(query(fmt % i, 0, 1)).rstrip(b"=")
        reqs += b"GET /dns-query?dns=" + b + b" HTTP/1.1\r\nHost: a\r\n\r\n"
    s.sendall(reqs)
    s.settimeout(25)
    buf, statuses = b"", []
    try:
        while len(statuses) < n:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                head = buf[:end].decode("latin-1").split("\r\n")
                cl = 0
                for h in head[1:]:
                    k, _, v = h.partition(":")
                    if k.strip().lower() == "content-length":
                        cl = int(v)
                if len(buf) >= end + 4 + cl:
                    statuses.append(head[0].split(" ")[1])
                    buf = buf[end + 4 + cl:]
                    continue
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except (socket.timeout, OSError):
        pass
    print("answered %d/%d %s" % (len(statuses), n, ",".join(sorted(set(statuses)))))


def halfclose(addr, port, name):
    s = socket.create_connection((addr, port))
    t0 = time.time()
    q = query(name, 4242)
    s.sendall(struct.pack(">H", len(q)) + q)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(10)
    buf = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
            if len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                break
    except (socket.timeout, OSError):
        pass
    if len(buf) >= 6 and struct.unpack(">H", buf[2:4])[0] == 4242:
        print("answered %d %.1f" % (buf[5] & 0xF, time.time() - t0))
    else:
        print("closed %.1f" % (time.time() - t0))


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "noread":
        noread(a[1], a[2], int(a[3]), int(a[4]), int(a[5]), a[6])
    elif a[0] == "h2hold":
        h2hold(a[1], int(a[2]), int(a[3]), int(a[4]), a[5], float(a[6]))
    elif a[0] == "h1pipe":
        h1pipe(a[1], int(a[2]), a[3], int(a[4]))
    elif a[0] == "halfclose":
        halfclose(a[1], int(a[2]), a[3])
    elif a[0] == "trickle":
        trickle(a[1], int(a[2]), float(a[3]))
