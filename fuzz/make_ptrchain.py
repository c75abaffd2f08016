#!/usr/bin/env python3
"""Writes a DNS message whose names follow long chains of compression pointers (the reproducer
fuzz/regressions/msg/slow-pointer-chain-64k).

Every pointer goes strictly backwards, so rd_name_unpack accepts it, but nothing bounds the
number of jumps: a chain of C pointers (2C octets, all below offset 16384 so that they can be
pointed at) ends at the root name, and every later record's owner is one pointer to the chain's
end. With C = 8177 a 64 KiB message holds ~4096 such records and costs ~33 million pointer hops
to parse, ~220 ms on one core (a normal message of that size takes ~0.1 ms), and as much again
to rebuild or print.

    python3 fuzz/make_ptrchain.py [C] > msg.bin"""
import struct
import sys


def build(c):
    q = b"\x00" + struct.pack("!HH", 1, 1)            # question: root, at offset 12
    chain_start = 12 + len(q) + 1 + 10                # inside the rdata of one NULL record
    chain, prev = b"", 12
    for k in range(c):
        assert prev < 0x4000
        chain += struct.pack("!H", 0xC000 | prev)
        prev = chain_start + 2 * k
    body = q + b"\x00" + struct.pack("!HHIH", 10, 1, 0, len(chain)) + chain
    n = 0
    while 12 + len(body) + 12 <= 65535:               # owner: one pointer to the chain's end
        body += struct.pack("!H", 0xC000 | prev) + struct.pack("!HHIH", 10, 1, 0, 0)
        n += 1
    return struct.pack("!HHHHHH", 1, 0x8180, 1, 1 + n, 0, 0) + body


if __name__ == "__main__":
    c = int(sys.argv[1]) if len(sys.argv) > 1 else 8177
    sys.stdout.buffer.write(build(c))
