#!/usr/bin/env python3
"""A DNS-over-TCP client for test_forward_tls.sh: on one connection to ADDR:53, asks NAME1
and reads the answer, then stops the server (SIGSTOP to PID), sends NAME2, waits STALL
seconds (past the server's tcp-idle-timeout) and lets the server run again (SIGCONT).
Prints "answered" when the answer to NAME2 arrives, "closed" when the server closed the
connection instead (it took the stall for idleness and dropped the unread query)."""
import os
import signal
import socket
import struct
import sys
import time


def query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    return struct.pack(">H", len(q)) + q


def read_msg(s):
    def exactly(n):
        buf = b""
        while len(buf) < n:
            part = s.recv(n - len(buf))
            if not part:
                return None
            buf += part
        return buf

    head = exactly(2)
    if head is None:
        return None
    return exactly(struct.unpack(">H", head)[0])


def main():
    addr, pid, name1, name2, stall = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
    s = socket.create_connection((addr, 53), timeout=15)
    s.sendall(query(name1, 1))
    m = read_msg(s)
    if m is None or struct.unpack(">H", m[:2])[0] != 1:
        print("no first answer")
        return
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(0.2)
        s.sendall(query(name2, 2))
        time.sleep(stall)
    finally:
        os.kill(pid, signal.SIGCONT)
    try:
        m = read_msg(s)
    except (ConnectionResetError, socket.timeout):
        m = None
    print("answered" if m is not None and struct.unpack(">H", m[:2])[0] == 2 else "closed")


main()
