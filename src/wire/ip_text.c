/* IP addresses as text, without socket headers (the core does no I/O).
 *
 * Input: IPv4 dotted quads, strictly (four decimal octets, no leading zeros, since "010"
 * means 8 to inet_aton and 10 to people); IPv6 in every RFC 4291 s2.2 form: eight groups,
 * "::" once for one or more zero groups, a dotted quad as the last 32 bits. No scope ids.
 * Output: RFC 5952 s4 (lowercase, no leading zeros, the longest run of two or more zero groups
 * as "::", the first on ties) and s5 (IPv4-mapped addresses end in a dotted quad). */
#include <string.h>

#include "wire/encoding.h"

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Decimal without sign or leading zeros, at most max. */
int rd__dec_parse(const char *s, size_t len, unsigned max, unsigned *out)
{
    if (len == 0) return RD_ESYNTAX;
    unsigned v = 0;
    bool big = false;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i])) return RD_ESYNTAX;
        if (!big) v = v * 10 + (unsigned)(s[i] - '0');
        if (v > max) big = true;
    }
    if (len > 1 && s[0] == '0') return RD_ESYNTAX;
    if (big) return RD_ERANGE;
    *out = v;
    return 0;
}

int rd__ip4_parse(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    int rc = 0;
    for (int part = 0; part < 4; part++) {
        size_t start = i;
        while (i < len && s[i] != '.') i++;
        if ((i == len) != (part == 3)) return RD_ESYNTAX; /* three dots, nothing after */
        unsigned v = 0;
        int r = rd__dec_parse(s + start, i - start, 255, &v);
        if (r == RD_ESYNTAX) return r;
        if (r) rc = r; /* finish the syntax check before saying out of range */
        out[part] = (uint8_t)v;
        i++;
    }
    return rc;
}

int rd__ip6_parse(const char *s, size_t len, uint8_t out[16])
{
    uint16_t g[8];
    int n = 0, gap = -1; /* groups read; where "::" stands (group index) */
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }
    while (i < len) {
        size_t start = i;
        bool dot = false;
        while (i < len && s[i] != ':') dot |= s[i++] == '.';
        if (dot) {
            /* RFC 4291 s2.2 form 3: a dotted quad is the last 32 bits, nothing follows. */
            if (i != len || n > 6) return RD_ESYNTAX;
            uint8_t q[4];
            int r = rd__ip4_parse(s + start, i - start, q);
            if (r) return r;
            g[n++] = (uint16_t)(q[0] << 8 | q[1]);
            g[n++] = (uint16_t)(q[2] << 8 | q[3]);
            break;
        }
        if (i - start < 1 || i - start > 4 || n == 8) return RD_ESYNTAX;
        unsigned v = 0;
        for (size_t k = start; k < i; k++) {
            int h = hexval(s[k]);
            if (h < 0) return RD_ESYNTAX;
            v = v << 4 | (unsigned)h;
        }
        g[n++] = (uint16_t)v;
        if (i == len) break;
        i++; /* ':' */
        if (i < len && s[i] == ':') {
            if (gap >= 0) return RD_ESYNTAX; /* "::" twice */
            gap = n;
            i++;
        } else if (i == len) {
            return RD_ESYNTAX; /* "1::2:" */
        }
    }
    if (gap < 0 ? n != 8 : n > 7) return RD_ESYNTAX; /* "::" stands for one group or more */
    memset(out, 0, 16);
    int tail = gap < 0 ? 0 : n - gap;
    for (int k = 0; k < n - tail; k++) {
        out[2 * k] = (uint8_t)(g[k] >> 8);
        out[2 * k + 1] = (uint8_t)g[k];
    }
    for (int k = 0; k < tail; k++) {
        int d = 8 - tail + k;
        out[2 * d] = (uint8_t)(g[gap + k] >> 8);
        out[2 * d + 1] = (uint8_t)g[gap + k];
    }
    return 0;
}

static size_t put_ipv4(char *p, const uint8_t *q)
{
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = q[i];
        if (i) p[n++] = '.';
        if (v >= 100) p[n++] = (char)('0' + v / 100);
        if (v >= 10) p[n++] = (char)('0' + v / 10 % 10);
        p[n++] = (char)('0' + v % 10);
    }
    return n;
}

static size_t put_ipv6(char *p, const uint8_t *addr)
{
    static const char hex[] = "0123456789abcdef";
    unsigned g[8];
    for (int i = 0; i < 8; i++) g[i] = (unsigned)addr[2 * i] << 8 | addr[2 * i + 1];
    bool mapped = memcmp(addr, mapped_prefix, sizeof(mapped_prefix)) == 0;
    int ngroups = mapped ? 6 : 8;
    /* RFC 5952 s4.2: the longest run of zero groups, at least two, the first on ties. */
    int best = -1, bestlen = 1;
    for (int i = 0; i < ngroups;) {
        if (g[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < ngroups && g[j] == 0) j++;
        if (j - i > bestlen) {
            best = i;
            bestlen = j - i;
        }
        i = j;
    }
    size_t n = 0;
    for (int i = 0; i < ngroups; i++) {
        if (i == best) {
            p[n++] = ':';
            p[n++] = ':';
            i += bestlen - 1;
            continue;
        }
        if (i && i != best + bestlen) p[n++] = ':';
        bool lead = true;
        for (int sh = 12; sh >= 0; sh -= 4) {
            unsigned d = g[i] >> sh & 15;
            if (lead && d == 0 && sh) continue;
            lead = false;
            p[n++] = hex[d];
        }
    }
    if (mapped) {
        p[n++] = ':';
        n += put_ipv4(p + n, addr + 12);
    }
    return n;
}

/* Presentation format (rdata, SVCB hints): every error is a syntax error there. */
int rd__ip4_from_text(const char *s, size_t n, uint8_t out[4])
{
    return rd__ip4_parse(s, n, out) ? RD_ESYNTAX : 0;
}

int rd__ip6_from_text(const char *s, size_t n, uint8_t out[16])
{
    return rd__ip6_parse(s, n, out) ? RD_ESYNTAX : 0;
}

int rd__ip4_to_text(const uint8_t in[4], char *out)
{
    size_t n = put_ipv4(out, in);
    out[n] = '\0';
    return (int)n;
}

int rd__ip6_to_text(const uint8_t in[16], char *out)
{
    size_t n = put_ipv6(out, in);
    out[n] = '\0';
    return (int)n;
}
