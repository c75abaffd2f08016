#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets (fuzz/corpus/<target>/).

There is no network here, so the DNS messages are built by hand: queries with EDNS and
cookies, referrals with glue, CNAME chains, NXDOMAIN with SOA, large TXT, DNSSEC answers,
every rdata type the type table knows (src/wire/rrtype.c), compression everywhere. Zone seeds
are the project's zones/ files plus small snippets for every directive and syntax corner.

    python3 fuzz/make_seeds.py          # rewrites fuzz/corpus/{msg,name,rdata_text,zone}/seed-*

Deterministic: the same script writes the same files (names are a hash of the content)."""
import base64
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")

# ---- names and rdata ------------------------------------------------------------------------


def wname(text):
    """Uncompressed wire form of an absolute dotted name (no escapes needed here)."""
    if text in (".", ""):
        return b"\x00"
    out = b""
    for label in text.rstrip(".").split("."):
        lb = label.encode()
        assert 0 < len(lb) < 64
        out += bytes([len(lb)]) + lb
    return out + b"\x00"


def cstr(s):
    b = s if isinstance(s, bytes) else s.encode()
    assert len(b) < 256
    return bytes([len(b)]) + b


def bitmap(types):
    windows = {}
    for t in types:
        windows.setdefault(t >> 8, set()).add(t & 0xFF)
    out = b""
    for w in sorted(windows):
        bits = windows[w]
        n = max(bits) // 8 + 1
        bm = bytearray(n)
        for b in bits:
            bm[b // 8] |= 0x80 >> (b % 8)
        out += bytes([w, n]) + bytes(bm)
    return out


def svcparams(params):
    out = b""
    for key, val in sorted(params):
        out += struct.pack("!HH", key, len(val)) + val
    return out


N, NC = "name", "cname"  # rdata parts: ("name", text) uncompressible, ("cname", text) compressible

KEY = base64.b64decode("McnzUnyJHa+8CcRE0YYq/vGk9exvwhLHDQt42nxELSI+YsIx5AiT9s5wdgEJCs2bpAoyjtYJWw2l+NWZsXCabg==")
SIG = bytes(range(64))

# type number -> list of rdata part lists. A part is bytes, or (N|NC, name).
RDATA = {
    1: [[bytes([192, 0, 2, 1])], [bytes([10, 0, 0, 255])]],
    2: [[(NC, "ns1.example.com.")]],
    5: [[(NC, "target.example.net.")]],
    6: [[(NC, "ns1.example.com."), (NC, "hostmaster.example.com."),
         struct.pack("!IIIII", 2024010101, 3600, 900, 604800, 300)]],
    10: [[b"\x00\x01\x02anything"], [b""]],
    12: [[(NC, "host.example.com.")]],
    13: [[cstr("INTEL-386"), cstr("Linux")], [cstr(""), cstr('with "quote" and \\')]],
    15: [[struct.pack("!H", 10), (NC, "mail.example.com.")]],
    16: [[cstr("v=spf1 -all")], [cstr("a"), cstr(""), cstr(b"\x00\xff;()\" \\")],
         [cstr("x" * 255) * 3]],
    17: [[(N, "admin.example.com."), (N, "txt.example.com.")]],
    18: [[struct.pack("!H", 1), (N, "afs.example.com.")]],
    28: [[bytes.fromhex("20010db8000000000000000000000001")], [bytes(16)],
          [bytes.fromhex("00000000000000000000ffffc0000201")]],
    33: [[struct.pack("!HHH", 0, 5, 5060), (N, "sip.example.com.")],
          [struct.pack("!HHH", 1, 0, 0), (N, ".")]],
    35: [[struct.pack("!HH", 100, 10), cstr("S"), cstr("SIP+D2U"), cstr(""),
           (N, "_sip._udp.example.com.")],
          [struct.pack("!HH", 100, 50), cstr("u"), cstr("E2U+sip"),
           cstr("!^.*$!sip:info@example.com!"), (N, ".")]],
    36: [[struct.pack("!H", 10), (N, "kx.example.com.")]],
    39: [[(N, "example.net.")]],
    43: [[struct.pack("!HBB", 12345, 13, 2), bytes(range(32))]],
    44: [[bytes([4, 2]) + bytes(range(32))], [bytes([1, 1])]],
    46: [[struct.pack("!HBBIIIH", 1, 13, 2, 3600, 1735689600, 1704067200, 12345),
           (N, "example.com."), SIG],
          [struct.pack("!HBBIIIH", 65280, 8, 0, 0, 0xFFFFFFFF, 0, 0), (N, "."), b"\x01"]],
    47: [[(N, "b.example.com."), bitmap([1, 2, 6, 15, 46, 47, 48, 257])],
          [(N, "\\000.example.com."), b""]],
    48: [[struct.pack("!HBB", 257, 3, 13), KEY], [struct.pack("!HBB", 256, 3, 8), b"\x03\x01\x00\x01"]],
    49: [[bytes(range(35))]],
    50: [[struct.pack("!BBH", 1, 1, 10), cstr(bytes.fromhex("aabbccdd")),
           cstr(bytes(range(20))), bitmap([1, 28, 46])],
          [struct.pack("!BBH", 1, 0, 0), b"\x00", cstr(bytes(range(20))), b""]],
    51: [[struct.pack("!BBH", 1, 0, 0), b"\x00"], [struct.pack("!BBH", 1, 0, 5), cstr(b"\xaa\xbb")]],
    52: [[bytes([3, 1, 1]) + bytes(range(32))]],
    53: [[bytes([3, 0, 0]) + bytes(range(40))]],
    59: [[struct.pack("!HBB", 12345, 13, 2), bytes(range(32))], [struct.pack("!HBB", 0, 0, 0), b"\x00"]],
    60: [[struct.pack("!HBB", 257, 3, 13), KEY], [struct.pack("!HBB", 0, 3, 0), b"\x00"]],
    61: [[KEY * 2]],
    62: [[struct.pack("!IH", 2024010101, 3), bitmap([1, 2, 28])]],
    63: [[struct.pack("!IBB", 2024010101, 1, 1), bytes(range(48))]],
    64: [[struct.pack("!H", 1), (N, "svc.example.com."),
           svcparams([(0, struct.pack("!H", 1)), (1, cstr("h2") + cstr("h3")), (3, struct.pack("!H", 8443)),
                      (4, bytes([192, 0, 2, 1, 192, 0, 2, 2])), (5, b"\x00\x10echconfig"),
                      (6, bytes(16)), (7, b"/dns-query{?dns}"), (65000, b"opaque")])],
          [struct.pack("!H", 0), (N, "alias.example.com."), b""]],
    65: [[struct.pack("!H", 1), (N, "."), svcparams([(1, cstr("h2")), (2, b""), (3, struct.pack("!H", 443))])]],
    99: [[cstr("v=spf1 mx -all")]],
    256: [[struct.pack("!HH", 10, 1), b"https://www.example.com/path?q=1"]],
    257: [[b"\x00" + cstr("issue") + b"ca.example.net"], [b"\x80" + cstr("iodef") + b"mailto:x@example.com"],
          [b"\x00" + cstr("issuewild") + b";"]],
    65280: [[b"\xde\xad\xbe\xef"], [b""]],
    0: [[b"\x01\x02"]],
}
COMPRESSIBLE = {2, 5, 6, 12, 15}


def rdata_plain(parts):
    out = b""
    for p in parts:
        out += wname(p[1]) if isinstance(p, tuple) else p
    return out


class Msg:
    """A DNS message builder with RFC 1035 s4.1.4 compression of owners and NC names."""

    def __init__(self, ident=0x1234, flags=0x8180):
        self.ident, self.flags = ident, flags
        self.body = bytearray()
        self.counts = [0, 0, 0, 0]
        self.names = {}  # suffix text -> offset

    def _name(self, text, compress=True):
        if text in (".", ""):
            return b"\x00"
        labels = text.rstrip(".").split(".")
        out = b""
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            if compress and suffix in self.names:
                return out + struct.pack("!H", 0xC000 | self.names[suffix])
            off = 12 + len(self.body) + len(out)
            if compress and off < 0x3FFF:
                self.names[suffix] = off
            out += cstr(labels[i])
        return out + b"\x00"

    def question(self, name, qtype=1, qclass=1):
        self.body += self._name(name) + struct.pack("!HH", qtype, qclass)
        self.counts[0] += 1
        return self

    def rr(self, sec, name, rtype, parts, ttl=3600, rclass=1):
        self.body += self._name(name) + struct.pack("!HHI", rtype, rclass, ttl)
        lenpos = len(self.body)
        self.body += b"\x00\x00"
        for p in parts:
            if isinstance(p, tuple):
                self.body += self._name(p[1], compress=(p[0] == NC and rtype in COMPRESSIBLE))
            else:
                self.body += p
        struct.pack_into("!H", self.body, lenpos, len(self.body) - lenpos - 2)
        self.counts[sec] += 1
        return self

    def opt(self, udp=1232, do=False, opts=(), ext_rcode=0, version=0):
        rd = b"".join(struct.pack("!HH", c, len(d)) + d for c, d in opts)
        ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
        self.body += b"\x00" + struct.pack("!HHIH", 41, udp, ttl, len(rd)) + rd
        self.counts[3] += 1
        return self

    def wire(self):
        return struct.pack("!HHHHHH", self.ident, self.flags, *self.counts) + bytes(self.body)


COOKIE_C = bytes.fromhex("0102030405060708")
COOKIE_CS = COOKIE_C + bytes.fromhex("0100000065920e2b") + bytes(range(8))


def messages():
    out = []
    # Queries.
    out.append(Msg(0xbeef, 0x0100).question("www.example.com.").wire())
    out.append(Msg(1, 0x0100).question("example.com.", 28).opt(1232, True, [(10, COOKIE_C)]).wire())
    out.append(Msg(2, 0x0110).question("example.com.", 48).opt(
        4096, True, [(10, COOKIE_CS), (3, b""), (11, b""), (12, bytes(20)),
                     (8, b"\x00\x01\x18\x00\xc0\x00\x02")]).wire())
    out.append(Msg(3, 0x0000).question(".", 2).wire())
    out.append(Msg(4, 0x2000).question("example.com.", 6).wire())  # NOTIFY
    out.append(Msg(5, 0x0100).question("version.bind.", 16, 3).wire())
    out.append(Msg(6, 0x0100).question("EXAMPLE.com.", 255).opt(512, False, [], 0, 1).wire())
    # Referral with glue.
    m = Msg(7, 0x8000).question("www.example.com.")
    for i in (1, 2, 3):
        m.rr(2, "com.", 2, [(NC, f"{'abc'[i-1]}.gtld-servers.net.")], 172800)
    for i in (1, 2, 3):
        m.rr(3, f"{'abc'[i-1]}.gtld-servers.net.", 1, [bytes([192, 5, 6, 30 + i])], 172800)
        m.rr(3, f"{'abc'[i-1]}.gtld-servers.net.", 28, [bytes.fromhex("20010503a83e00000000000000020030")], 172800)
    out.append(m.opt(1232, True).wire())
    # CNAME chain ending in another zone, with answer and authority.
    m = Msg(8, 0x8180).question("www.example.com.")
    m.rr(1, "www.example.com.", 5, [(NC, "a.example.com.")], 300)
    m.rr(1, "a.example.com.", 5, [(NC, "b.cdn.example.net.")], 300)
    m.rr(1, "b.cdn.example.net.", 5, [(NC, "c.cdn.example.net.")], 60)
    m.rr(1, "c.cdn.example.net.", 1, [bytes([198, 51, 100, 7])], 60)
    m.rr(1, "c.cdn.example.net.", 1, [bytes([198, 51, 100, 8])], 60)
    m.rr(2, "cdn.example.net.", 2, [(NC, "ns.cdn.example.net.")])
    out.append(m.wire())
    # NXDOMAIN + SOA, and NODATA.
    soa = RDATA[6][0]
    out.append(Msg(9, 0x8183).question("nope.example.com.").rr(2, "example.com.", 6, soa, 300).opt(1232, True).wire())
    out.append(Msg(10, 0x8580).question("example.com.", 99).rr(2, "example.com.", 6, soa, 300).wire())
    # SERVFAIL with EDE, and BADCOOKIE (extended rcode).
    out.append(Msg(11, 0x8182).question("dnssec-failed.org.").opt(
        1232, True, [(15, struct.pack("!H", 6) + b"DNSSEC Bogus"), (3, b"ns1")]).wire())
    out.append(Msg(12, 0x8187).question("example.com.").opt(1232, False, [(10, COOKIE_CS)], 1).wire())
    # Large TXT (TCP-sized) and a message with many small records (arena path).
    m = Msg(13, 0x8580).question("big.example.com.", 16)
    for i in range(12):
        m.rr(1, "big.example.com.", 16, [cstr(chr(65 + i) * 255), cstr("tail%d" % i)])
    out.append(m.wire())
    m = Msg(14, 0x8180).question("many.example.com.")
    for i in range(60):
        m.rr(1, "many.example.com.", 1, [bytes([10, 0, i // 256, i % 256])], 30)
    out.append(m.opt(1232).wire())
    # DNSSEC answer: A + RRSIG, DNSKEY, DS, NSEC, NSEC3.
    m = Msg(15, 0x81a0).question("example.com.", 1)
    m.rr(1, "example.com.", 1, RDATA[1][0]).rr(1, "example.com.", 46, RDATA[46][0])
    m.rr(2, "example.com.", 47, RDATA[47][0]).rr(2, "example.com.", 46, RDATA[46][0])
    m.rr(2, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.com.", 50, RDATA[50][0])
    m.rr(3, "example.com.", 48, RDATA[48][0]).rr(3, "example.com.", 43, RDATA[43][0])
    out.append(m.opt(1232, True).wire())
    # Every type, a few messages so that each stays small.
    types = sorted(RDATA)
    for k in range(0, len(types), 8):
        m = Msg(100 + k, 0x8400).question("types.example.", 255)
        for t in types[k:k + 8]:
            for parts in RDATA[t]:
                m.rr(1, "t%d.types.example." % t, t, parts)
        out.append(m.wire())
    # Hand-made compression corners: pointer to a pointer, pointer into the question, root.
    hdr = struct.pack("!HHHHHH", 16, 0x8180, 1, 2, 0, 0)
    q = wname("a.example.com.") + struct.pack("!HH", 1, 1)   # question at 12
    rr1 = b"\x01b\xc0\x0e" + struct.pack("!HHIH", 5, 1, 60, 2) + b"\xc0\x0c"  # b.example.com CNAME a.example.com
    rr2 = b"\xc0" + bytes([12 + len(q)]) + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 9])
    out.append(hdr + q + rr1 + rr2)
    # A message with EDNS padding to a block, TC set.
    out.append(Msg(17, 0x8380).question("example.com.").opt(512, False, [(12, bytes(100))]).wire())
    return out


# Presentation text per type, for the text half of fuzz_rdata_text (2 octets of type, then
# the tokens of the rdata as a zone file has them).
RDATA_TEXT = {
    1: ["192.0.2.1", "255.255.255.255", "1.2.3"],
    2: ["ns1.example.com.", "ns1", "@", "\\@\\.x."],
    5: ["target.example.net."],
    6: ["ns1 hostmaster.example.com. ( 2024010101 1h 15m 1w 300 )", ". . 0 0 0 0 0"],
    10: ["\\# 3 010203", "\\# 0"],
    12: ["host.example.com."],
    13: ['"INTEL-386" "Linux"', 'a "b c"'],
    15: ["10 mail.example.com.", "0 ."],
    16: ['"v=spf1 -all"', '"a" "" "\\"q\\" \\255\\000;"', "unquoted words \\032here"],
    17: ["admin.example.com. txt.example.com."],
    18: ["1 afs.example.com."],
    28: ["2001:db8::1", "::", "::ffff:192.0.2.1", "1:2:3:4:5:6:7:8", "1::2::3"],
    33: ["0 5 5060 sip.example.com.", "1 0 0 ."],
    35: ['100 10 "S" "SIP+D2U" "" _sip._udp.example.com.', '100 50 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .'],
    36: ["10 kx.example.com."],
    39: ["example.net."],
    43: ["12345 13 2 ( 000102030405060708090A0B0C0D0E0F 101112131415161718191A1B1C1D1E1F )"],
    44: ["4 2 000102030405060708090a0b0c0d0e0f", "1 1"],
    46: ["A 13 2 3600 20250101000000 20240101000000 12345 example.com. AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
         "TYPE65280 8 0 0 4294967295 0 0 . AQ==", "NSEC3PARAM 1 1 1 21060207062815 19700101000000 1 x. AA=="],
    47: ["b.example.com. A NS SOA MX RRSIG NSEC DNSKEY CAA TYPE65535", "\\000.example.com."],
    48: ["257 3 13 McnzUnyJHa+8CcRE0YYq/vGk9exvwhLHDQt42nxELSI+ YsIx5AiT9s5wdgEJCs2bpAoyjtYJWw2l+NWZsXCabg=="],
    49: ["AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="],
    50: ["1 1 10 AABBCCDD 0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM A AAAA RRSIG", "1 0 0 - 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"],
    51: ["1 0 0 -", "1 0 5 AABB"],
    52: ["3 1 1 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"],
    53: ["3 0 0 0001"],
    59: ["12345 13 2 0001", "0 0 0 00"],
    60: ["257 3 13 AQID", "0 3 0 AA=="],
    61: ["AQIDBAUGBwg="],
    62: ["2024010101 3 A NS AAAA"],
    63: ["2024010101 1 1 ( 000102030405060708090A0B0C0D0E0F 101112131415161718191A1B1C1D1E1F 202122232425262728292A2B2C2D2E2F )"],
    64: ['1 svc.example.com. mandatory=alpn,port alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEP+DQA= ipv6hint=2001:db8::1 key65000="opaque"',
         "0 alias.example.com.", '1 . alpn="h2,h3\\,x" no-default-alpn', "1 . dohpath=/dns-query{?dns} key7=x key65535"],
    65: ["1 . alpn=h2 port=443", "1 . mandatory=key65000 key65000"],
    99: ['"v=spf1 mx -all"'],
    256: ['10 1 "https://www.example.com/path?q=1"'],
    257: ['0 issue "ca.example.net"', '128 iodef "mailto:x@example.com"', '0 issuewild ";"', "0 tbs \\# "],
    65280: ["\\# 4 deadbeef", "\\# 0"],
}


def rdata_seeds():
    out = []
    for t, texts in sorted(RDATA_TEXT.items()):
        for text in texts:
            out.append(struct.pack("!H", t) + text.encode())
    for t, variants in sorted(RDATA.items()):
        for parts in variants:
            out.append(struct.pack("!H", t) + rdata_plain(parts))
    out.append(struct.pack("!H", 41) + struct.pack("!HH", 10, 8) + COOKIE_C)  # OPT (meta)
    out.append(struct.pack("!H", 1) + b"\x01\x02\x03")  # A of the wrong length: RFC 3597 form
    out.append(struct.pack("!H", 2) + b"\xc0\x00")      # pointer in standalone rdata
    return out


def name_seeds(msgs):
    out = [m for m in msgs if len(m) <= 4096]
    out += [b"www.example.com.", b"relative.name", b"@", b".", b"a\\.b\\032c.\\255.\\000.",
            b"\\(\\)\\;\\\"\\$\\@.", b"xn--bcher-kva.example.", b"a..b.", b"\\1234.",
            (b"a" * 63 + b".") * 4, b"*.wild.example.", b"_sip._tcp.example.com",
            b"\x03www\x07example\x03com\x00\xc0\x00\xc0\x04\x01a\xc0\x0c",
            b"\x01a\x00\x01b\xc0\x00\x01c\xc0\x03\x01d\xc0\x06"]
    return out


ZONE_SNIPPETS = [
    # Every directive and the usual shorthand.
    b"""$ORIGIN example.com.
$TTL 1h
@ IN SOA ns1 hostmaster ( 1 2h 15m 1w 300 )
  IN NS ns1
ns1 A 192.0.2.1
www 300 IN A 192.0.2.2
    IN AAAA 2001:db8::2
mail CNAME www
""",
    b"""$TTL 3600
$ORIGIN sub.example.com.
a A 10.0.0.1
$INCLUDE other.zone sub2.example.com. ; disabled in the fuzzer: an error
$INCLUDE "quoted file.zone"
b 1w2d3h4m5s CH TXT "a" "b c" "\\"quoted\\"" "\\065\\066" ; comment
c CLASS1 TYPE1 \\# 4 c0000201
d IN TYPE65280 \\# 0
e IN A \\# 4 C0 00 02 01
$ORIGIN .
f.example. A 192.0.2.3
$GENERATE 1-10 host$ A 10.0.0.$
$UNKNOWN directive
""",
    b"""@ A 192.0.2.1\n""",  # no origin: an error
    b"""$ORIGIN x.
( a
  A 192.0.2.1 )
b ( A ; comment inside
  192.0.2.4 )
c A 192.0.2.5 ) ; unbalanced
d A 1.2.3.4 ( ; unterminated
""",
    b"""$ORIGIN x.\nq TXT "unterminated\n  A 1.2.3.4\nr TXT "nul\x00byte"\ns A 1.2.3.4 \\\n""",
    b"""$ORIGIN x.\n\\@\\.\\032odd\\255 A 192.0.2.1\n\\065 TXT \\"\n*.w MX 10 \\@\n""",
    b"""$ORIGIN x.\nt 4294967295 A 1.1.1.1\nu 2147483647 A 1.1.1.1\nv 99999999999 A 1.1.1.1\nw 1W A 1.1.1.1\n""",
    b"""$ORIGIN x.\nsvc SVCB 1 . alpn=h2,h3 port=443 ipv4hint=192.0.2.1 ech=AAA= mandatory=alpn,port key65000="x"\n"""
    b"""h HTTPS 0 alias.x.\ncaa CAA 0 issue "ca.example.net; account=1"\nuri URI 10 1 "https://e.x/"\n""",
    b"""$ORIGIN x.\nn NSEC a.x. A NS SOA TYPE65280\nn3 NSEC3 1 1 10 AABB 0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM A RRSIG\n"""
    b"""s RRSIG A 13 2 3600 20250101000000 20240101000000 12345 x. AAECAwQ=\nk DNSKEY 257 3 13 ( AQID\n BAU= )\n"""
    b"""ds DS 12345 13 2 ( 0001 0203 )\nl LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m\n""",
]


def write_dir(target, blobs):
    """Rewrites the seed-* files of one corpus; other files (inputs merged from campaigns,
    named by libFuzzer after their SHA-1) stay."""
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for fn in os.listdir(d):
        if fn.startswith("seed-"):
            os.remove(os.path.join(d, fn))
    for b in blobs:
        h = hashlib.sha1(b).hexdigest()[:16]
        with open(os.path.join(d, "seed-" + h), "wb") as f:
            f.write(b)
    return len(blobs)


def main():
    msgs = messages()
    for m in msgs:
        assert len(m) <= 65535
    n = write_dir("msg", msgs)
    n += write_dir("name", name_seeds(msgs))
    n += write_dir("rdata_text", rdata_seeds())
    zones = list(ZONE_SNIPPETS)
    for sub in ("zones/local", "zones/local/bad", "zones/lab"):
        d = os.path.join(ROOT, sub)
        if not os.path.isdir(d):
            continue
        for fn in sorted(os.listdir(d)):
            p = os.path.join(d, fn)
            if fn.endswith(".zone") and os.path.isfile(p) and os.path.getsize(p) <= 65536:
                with open(p, "rb") as f:
                    zones.append(f.read())
    n += write_dir("zone", zones)
    print("wrote %d seeds under %s" % (n, CORPUS), file=sys.stderr)


if __name__ == "__main__":
    main()
