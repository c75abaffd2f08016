#!/usr/bin/python3
"""A DNS server that never answers: tests/lab/start.sh runs one per "sink" line of
zones/lab/servers.conf.

    sink.py PIDFILE ADDR[,ADDR...]

Binds UDP and TCP port 53 on each address and then does nothing: UDP queries queue
up unread (and are dropped by the kernel once the buffer is full), TCP connections
complete the handshake into the listen backlog and are never accepted. A resolver
sees timeouts rather than ICMP port-unreachable or TCP resets. The pid file is
written only once every socket is bound. Exits on SIGTERM.
"""
import os
import signal
import socket
import sys


def main():
    pidfile, addrs = sys.argv[1], sys.argv[2].split(",")
    socks = []
    for a in addrs:
        fam = socket.AF_INET6 if ":" in a else socket.AF_INET
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.bind((a, 53))
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((a, 53))
        t.listen(64)
        socks += [u, t]
    with open(pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(pidfile + ".tmp", pidfile)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
