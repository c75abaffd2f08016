#!/usr/bin/python3
"""A small DNS-over-TLS client for tests/integration/test_dot.sh (standard library only).

  dotclient.py pipeline HOST PORT NAME COUNT [any]  COUNT queries in one write on one
                                                  connection; "any": NAME may hold %d (the
                                                  query's number) and any RCODE counts
  dotclient.py resume HOST PORT NAME TIMES        reconnects TIMES with the first session
  dotclient.py alpn HOST PORT PROTO...            prints the ALPN protocol the server chose
  dotclient.py version HOST PORT 1.1|1.2|1.3      handshake with only that version: cipher
  dotclient.py garbage HOST PORT                  random bytes instead of a ClientHello
  dotclient.py stall HOST PORT [trickle]          connects, sends nothing (or 1 byte/s)
  dotclient.py hold HOST PORT NAME GOFILE         connects, waits for GOFILE, then queries
  dotclient.py idle HOST TLSPORT TCPPORT N SECS   N idle TLS + N idle TCP connections
  dotclient.py udplat HOST PORT NAME N            median UDP round trip of N queries (ms)
  dotclient.py noread HOST PORT NAME SECS         sends queries for SECS and reads nothing
Prints one result line; exit status 0 when the check inside succeeded.
"""
import os
import socket
import ssl
import struct
import sys
import time


def query(name, qid, qtype=1):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)


def frame(msg):
    return struct.pack(">H", len(msg)) + msg


def ctx(alpn=("dot",), minv=None, maxv=None):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    if alpn:
        c.set_alpn_protocols(list(alpn))
    if minv:
        c.minimum_version = minv
    if maxv:
        c.maximum_version = maxv
    return c


def connect(host, port, c, session=None, timeout=10):
    raw = socket.create_connection((host, port), timeout=timeout)
    return c.wrap_socket(raw, server_hostname="resolverd.test", session=session)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError("closed after %d of %d octets" % (len(buf), n))
        buf += d
    return buf


def read_answer(s):
    n = struct.unpack(">H", recv_exact(s, 2))[0]
    return recv_exact(s, n)


def answered(resp, qid):
    """ID matches, QR set, RCODE NOERROR, at least one answer record."""
    i, fl, qd, an = struct.unpack(">HHHH", resp[:8])
    return i == qid and fl & 0x8000 and fl & 0xF == 0 and an >= 1


def pipeline(host, port, name, count, anyrcode):
    s = connect(host, port, ctx(), timeout=30)
    ids = list(range(1000, 1000 + count))
    names = [name % i if "%d" in name else name for i in ids]
    s.sendall(b"".join(frame(query(n, i)) for n, i in zip(names, ids)))
    got = {}
    order = []
    for _ in ids:
        r = read_answer(s)
        i = struct.unpack(">H", r[:2])[0]
        got[i] = r
        order.append(i)

    def good_one(i):
        if i not in got:
            return False
        if anyrcode:
            return struct.unpack(">H", got[i][2:4])[0] & 0x8000 != 0
        return answered(got[i], i)
    good = sum(1 for i in ids if good_one(i))
    print("pipeline: %d of %d answered%s" % (good, count,
          "" if order == ids else " (out of order)"))
    return good == count


def resume(host, port, name, times):
    c = ctx()
    s = connect(host, port, c)
    s.sendall(frame(query(name, 1)))
    read_answer(s)  # the TLS 1.3 ticket comes after the handshake: read past it
    sess = s.session
    s.close()
    reused = 0
    for i in range(times):
        s = connect(host, port, c, session=sess)
        s.sendall(frame(query(name, 2 + i)))
        ok = answered(read_answer(s), 2 + i)
        if s.session_reused and ok:
            reused += 1
        s.close()
    print("resume: %d of %d connections resumed" % (reused, times))
    return reused == times


def alpn(host, port, protos):
    s = connect(host, port, ctx(alpn=protos))
    print(s.selected_alpn_protocol())
    return True


def version(host, port, v):
    m = {"1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2,
         "1.3": ssl.TLSVersion.TLSv1_3}[v]
    c = ctx(minv=m, maxv=m)
    if v == "1.1":
        c.set_ciphers("ALL:@SECLEVEL=0")
    try:
        s = connect(host, port, c)
    except (ssl.SSLError, OSError) as e:
        print("refused: %s" % e.__class__.__name__)
        return False
    s.sendall(frame(query("router.home.lan", 7)))
    ok = answered(read_answer(s), 7)
    print("%s %s %s" % (s.version(), s.cipher()[0], "answered" if ok else "no answer"))
    return ok


def wait_closed(s, limit):
    """Seconds until the server closed the connection (None: still open after limit)."""
    t0 = time.monotonic()
    s.settimeout(limit)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return time.monotonic() - t0
    except ConnectionResetError:
        return time.monotonic() - t0
    except socket.timeout:
        return None


def garbage(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n" + os.urandom(3000))
    t = wait_closed(s, 10)
    print("garbage: closed after %s s" % (None if t is None else round(t, 2)))
    return t is not None and t < 2


def stall(host, port, trickle):
    s = socket.create_connection((host, port), timeout=20)
    t0 = time.monotonic()
    if trickle:  # a ClientHello record header, then one octet per second
        s.sendall(b"\x16\x03\x01\x02\x00")
        s.settimeout(1)
        while time.monotonic() - t0 < 20:
            try:
                if not s.recv(1):
                    break
            except socket.timeout:
                try:
                    s.sendall(b"\x01")
                except OSError:
                    break
            except ConnectionResetError:
                break
        t = time.monotonic() - t0
    else:
        t = wait_closed(s, 20)
    print("stall: closed after %s s" % (None if t is None else round(t, 1)))
    return t is not None


def hold(host, port, name, gofile):
    s = connect(host, port, ctx())
    der = s.getpeercert(binary_form=True)
    print("held: certificate %d octets" % len(der), flush=True)
    while not os.path.exists(gofile):
        time.sleep(0.05)
    s.sendall(frame(query(name, 99)))
    ok = answered(read_answer(s), 99)
    print("hold: old connection %s" % ("answered" if ok else "no answer"))
    return ok


def idle(host, tls_port, tcp_port, n, secs):
    conns = []
    c = ctx()
    for _ in range(n):
        conns.append(connect(host, tls_port, c))
        conns.append(socket.create_connection((host, tcp_port)))
    print("idle: %d TLS + %d TCP connections open" % (n, n), flush=True)
    time.sleep(secs)
    for s in conns:
        s.close()
    return True


def udplat(host, port, name, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    times = []
    for i in range(n):
        t0 = time.monotonic()
        s.sendto(query(name, i), (host, port))
        try:
            r, _ = s.recvfrom(4096)
        except socket.timeout:
            continue
        if answered(r, i):
            times.append((time.monotonic() - t0) * 1000)
        time.sleep(0.01)
    times.sort()
    med = times[len(times) // 2] if times else -1
    print("%.3f %d" % (med, len(times)))
    return len(times) == n


def noread(host, port, name, secs):
    s = connect(host, port, ctx())
    chunk = b"".join(frame(query(name, i)) for i in range(100))
    s.settimeout(0.5)
    sent = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        try:
            s.sendall(chunk)
            sent += 100
        except socket.timeout:
            break  # the server stopped reading: its side is full
        except OSError:
            break
    print("noread: %d queries sent before the server stopped reading" % sent, flush=True)
    time.sleep(1)
    s.close()
    return True


def main():
    a = sys.argv[1:]
    cmd, host, port = a[0], a[1], int(a[2])
    if cmd == "pipeline":
        r = pipeline(host, port, a[3], int(a[4]), len(a) > 5 and a[5] == "any")
    elif cmd == "resume":
        r = resume(host, port, a[3], int(a[4]))
    elif cmd == "alpn":
        r = alpn(host, port, a[3:])
    elif cmd == "version":
        r = version(host, port, a[3])
    elif cmd == "garbage":
        r = garbage(host, port)
    elif cmd == "stall":
        r = stall(host, port, len(a) > 3)
    elif cmd == "hold":
        r = hold(host, port, a[3], a[4])
    elif cmd == "udplat":
        r = udplat(host, port, a[3], int(a[4]))
    elif cmd == "noread":
        r = noread(host, port, a[3], float(a[4]))
    elif cmd == "idle":
        r = idle(host, port, int(a[3]), int(a[4]), float(a[5]))
    else:
        sys.exit("unknown command " + cmd)
    sys.exit(0 if r else 1)


if __name__ == "__main__":
    main()
