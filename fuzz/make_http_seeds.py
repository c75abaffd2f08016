#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_http (fuzz/corpus/http/): HTTP/1.1 requests as text and
HTTP/2 frames (HPACK literals without Huffman coding), each behind the mode octet that
fuzz/fuzz_http.c reads (bit 0: HTTP/2, the harness sends the client preface itself).

    python3 fuzz/make_http_seeds.py
"""
import base64
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "http")


def query(name="example.com", qid=0, qtype=1):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", qtype, 1)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# ---- HTTP/1.1 ----

def h1_get(q, extra=""):
    return f"GET /dns-query?dns={b64u(q)} HTTP/1.1\r\nHost: r.lab\r\n{extra}\r\n".encode()


def h1_post(q, ctype="application/dns-message", extra=""):
    return (f"POST /dns-query HTTP/1.1\r\nHost: r.lab\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(q)}\r\n{extra}\r\n").encode() + q


def h1_chunked(q, piece, ext=b"", tail=b"0\r\n\r\n", extra=""):
    head = (f"POST /dns-query HTTP/1.1\r\nHost: r.lab\r\nContent-Type: application/dns-message\r\n"
            f"Transfer-Encoding: chunked\r\n{extra}\r\n").encode()
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(q[i:i + piece]), ext, q[i:i + piece])
                    for i in range(0, len(q), piece))
    return head + body + tail


# ---- HTTP/2 ----

def hint(v, prefix_bits, first=0):
    lim = (1 << prefix_bits) - 1
    if v < lim:
        return bytes([first | v])
    out = [first | lim]
    v -= lim
    while v >= 128:
        out.append((v & 127) | 128)
        v >>= 7
    out.append(v)
    return bytes(out)


def lit(name, value):
    """Literal header field without indexing, new name (RFC 7541 s6.2.2)."""
    n, v = name.encode(), value.encode()
    return b"\x00" + hint(len(n), 7) + n + hint(len(v), 7) + v


def frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def headers(sid, fields, end_stream=True):
    block = b"".join(lit(n, v) for n, v in fields)
    return frame(1, 0x4 | (0x1 if end_stream else 0), sid, block)


def req_fields(method, path, extra=()):
    return [(":method", method), (":scheme", "https"), (":authority", "r.lab"),
            (":path", path)] + list(extra)


def h2_get(sid, q, extra=()):
    return headers(sid, req_fields("GET", "/dns-query?dns=" + b64u(q), extra))


def h2_post(sid, q, ctype="application/dns-message"):
    return (headers(sid, req_fields("POST", "/dns-query", [("content-type", ctype)]), False)
            + frame(0, 0x1, sid, q))


SETTINGS_ACK = frame(4, 0x1, 0, b"")


def main():
    os.makedirs(OUT, exist_ok=True)
    q, q2 = query(), query("www.example.org", 0x1234, 28)
    seeds = {
        # HTTP/1.1 (mode 0: answers later; 2: answered in on_query; 0x10.. chunked feeds)
        "h1-get": (0x02, h1_get(q)),
        "h1-post": (0x02, h1_post(q)),
        "h1-pipelined": (0x00, h1_get(q) + h1_post(q2) + h1_get(q2, "Connection: close\r\n")),
        "h1-pipelined-small": (0x18, h1_get(q) * 5),
        "h1-split": (0x12, h1_post(q2) + h1_get(q)),
        "h1-errors": (0x06, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"DELETE /dns-query HTTP/1.1\r\nHost: x\r\n\r\n"
                      + h1_post(q, "text/plain")
                      + b"GET /dns-query?dns=%%% HTTP/1.1\r\nHost: x\r\n\r\n"),
        "h1-chunked": (0x02, b"POST /dns-query HTTP/1.1\r\nHost: x\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n1d\r\n" + q + b"\r\n0\r\n\r\n"),
        # chunked with extensions and trailers (RFC 9112 s7.1), fed in pieces, then a GET
        "h1-chunked-ext": (0x12, h1_chunked(q2, 5, b' ;a=b;c="q\\"x"', b"0;e\r\nT: v\r\n\r\n")
                           + h1_get(q)),
        "h1-absolute": (0x02, f"GET https://r.lab:443/dns-query?dns={b64u(q)} HTTP/1.1\r\n"
                        f"Host: r.lab\r\n\r\n".encode()
                        + b"POST http://[::1]/dns-query HTTP/1.1\r\nHost: r.lab\r\nContent-Type: "
                        + f"application/dns-message\r\nContent-Length: {len(q)}\r\n\r\n".encode() + q),
        "h1-expect-chunked": (0x00, h1_get(q) + h1_chunked(q, 64, b"", b"0\r\n\r\n",
                                                           "Expect: 100-continue\r\n")),
        "h1-mix": (0x02, f"HEAD /dns-query?dns={b64u(q)} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                   + h1_chunked(q, 3, b"", b"0\r\n\r\n")
                   + h1_get(q2, "Connection: close\r\n") + h1_get(q)),
        "h1-te-codings": (0x06, b"POST /dns-query HTTP/1.1\r\nHost: x\r\n"
                          b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        "h1-http10": (0x02, f"GET /dns-query?dns={b64u(q)} HTTP/1.0\r\n\r\n".encode()),
        "h1-expect": (0x00, h1_post(q, extra="Expect: 100-continue\r\n")),
        "h1-accept": (0x02, h1_get(q, "Accept: text/html, application/*;q=0.5\r\n")),
        # HTTP/2 (mode bit 0)
        "h2-get": (0x03, SETTINGS_ACK + h2_get(1, q)),
        "h2-post": (0x01, SETTINGS_ACK + h2_post(1, q)),
        "h2-concurrent": (0x01, SETTINGS_ACK + b"".join(h2_get(2 * i + 1, query(f"n{i}.lab", i))
                                                        for i in range(8))),
        "h2-reset": (0x01, SETTINGS_ACK + b"".join(
            h2_get(2 * i + 1, q) + frame(3, 0, 2 * i + 1, struct.pack(">I", 8)) for i in range(20))),
        "h2-errors": (0x07, SETTINGS_ACK
                      + headers(1, req_fields("GET", "/other?dns=AAAA"))
                      + headers(3, req_fields("PUT", "/dns-query"))
                      + h2_post(5, q, "text/plain")
                      + headers(7, req_fields("GET", "/dns-query?dns=A$A"))
                      + h2_get(9, q, [("accept", "image/png")])),
        "h2-small-limits": (0x09, SETTINGS_ACK + b"".join(h2_get(2 * i + 1, q) for i in range(4))),
        "h2-continuation": (0x01, SETTINGS_ACK
                            + frame(1, 0x1, 1, lit(":method", "GET") + lit(":scheme", "https"))
                            + frame(9, 0, 1, lit(":authority", "r.lab"))
                            + frame(9, 0x4, 1, lit(":path", "/dns-query?dns=" + b64u(q)))),
        "h2-ping-window": (0x01, SETTINGS_ACK + frame(6, 0, 0, b"12345678")
                           + frame(8, 0, 0, struct.pack(">I", 100000)) + h2_get(1, q)),
        "h2-goaway": (0x03, SETTINGS_ACK + h2_get(1, q) + frame(7, 0, 0, struct.pack(">II", 1, 0))),
        "h1-413": (0x00, b"POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   b"application/dns-message\r\nContent-Length: 65536\r\n\r\n" + q),
        "h2-big-post": (0x01, SETTINGS_ACK
                        + headers(1, req_fields("POST", "/dns-query",
                                                [("content-type", "application/dns-message")]),
                                  False)
                        + b"".join(frame(0, 0, 1, (q + bytes(16384))[:16384]) for _ in range(4))
                        + frame(0, 0x1, 1, bytes(100))),
        "h2-split-feed": (0x21, SETTINGS_ACK + h2_post(1, q2) + h2_get(3, q)),
    }
    for name, (mode, body) in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([mode]) + body)
    print(f"{len(seeds)} seeds in {OUT}")


if __name__ == "__main__":
    main()
