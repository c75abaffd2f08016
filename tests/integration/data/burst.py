#!/usr/bin/python3
"""A burst of DNS questions over UDP, all sent at once, for tests/integration/test_forward_retry.sh.

    burst.py ADDR PORT PREFIX COUNT [SECONDS]

Asks PREFIX1.hostile.lab A .. PREFIXCOUNT.hostile.lab A (distinct IDs) and waits up to
SECONDS (default 5) for the replies. Prints one line:
    answered A servfail S other O missing M maxms T
A: NOERROR with exactly the answer 192.0.2.99; S: SERVFAIL; O: any other reply; M: no reply;
T: the slowest reply in milliseconds. Then one line per name not answered: "unanswered NAME".
"""
import random
import select
import socket
import struct
import sys
import time

addr, port, prefix, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 5.0


def query(qid, name):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", 1, 1)


def verdict(msg):
    """answered / servfail / other for one reply."""
    if len(msg) < 12:
        return "other"
    flags, qd, an = struct.unpack("!HHH", msg[2:8])
    rcode = flags & 0xF
    if rcode == 2:
        return "servfail"
    if rcode != 0 or qd != 1 or an < 1:
        return "other"
    i = 12
    while msg[i] != 0:
        i += msg[i] + 1
    i += 5
    addrs = []
    for _ in range(an):  # names compressed to the question (a pointer) or full
        if msg[i] & 0xC0 == 0xC0:
            i += 2
        else:
            while msg[i] != 0:
                i += msg[i] + 1
            i += 1
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[i:i + 10])
        i += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(".".join(str(b) for b in msg[i:i + 4]))
        i += rdlen
    return "answered" if addrs == ["192.0.2.99"] else "other"


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((addr, port))
ids = random.sample(range(1, 65536), count)
pending = {}  # id -> (name, sent at)
for n, qid in enumerate(ids, 1):
    name = "%s%d.hostile.lab" % (prefix, n)
    pending[qid] = (name, time.monotonic())
    s.send(query(qid, name))
tally = {"answered": 0, "servfail": 0, "other": 0}
maxms = 0
end = time.monotonic() + seconds
while pending and time.monotonic() < end:
    r, _, _ = select.select([s], [], [], max(0.0, end - time.monotonic()))
    if not r:
        break
    msg = s.recv(65535)
    if len(msg) < 2:
        continue
    qid = struct.unpack("!H", msg[:2])[0]
    if qid not in pending:
        continue
    name, t0 = pending.pop(qid)
    try:
        v = verdict(msg)
    except (IndexError, struct.error):
        v = "other"
    tally[v] += 1
    if v != "answered":
        print("unanswered", name, v)
    maxms = max(maxms, int((time.monotonic() - t0) * 1000))
print("answered %d servfail %d other %d missing %d maxms %d" %
      (tally["answered"], tally["servfail"], tally["other"], len(pending), maxms), flush=True)
for name, _ in pending.values():
    print("unanswered", name, "missing")
