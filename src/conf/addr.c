/* Addresses with ports, for the configuration; the IP text itself is src/wire/ip_text.c. */
#include <string.h>

#include "conf/conf_int.h"
#include "wire/encoding.h"

int rd__ip_parse(const char *s, size_t len, rd_addr_t *out)
{
    rd_addr_t a;
    memset(&a, 0, sizeof(a));
    if (!s) return RD_EINVAL;
    int r;
    if (memchr(s, ':', len)) {
        a.family = 6;
        r = rd__ip6_parse(s, len, a.addr);
    } else {
        a.family = 4;
        r = rd__ip4_parse(s, len, a.addr);
    }
    if (r) return r;
    *out = a;
    return 0;
}

int rd__port_parse(const char *s, size_t len, uint16_t *port)
{
    unsigned v = 0;
    int r = rd__dec_parse(s, len, 65535, &v);
    if (r) return r;
    if (v == 0) return RD_ERANGE;
    *port = (uint16_t)v;
    return 0;
}

bool rd__addr_is_mapped(const rd_addr_t *a)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return a->family == 6 && memcmp(a->addr, prefix, sizeof(prefix)) == 0;
}

int rd_addr_parse(const char *s, size_t len, uint16_t default_port, rd_addr_t *out)
{
    if (!s || !out) return RD_EINVAL;
    const char *at = memchr(s, '@', len);
    size_t alen = at ? (size_t)(at - s) : len;
    rd_addr_t a;
    int r = rd__ip_parse(s, alen, &a);
    int rp = 0;
    a.port = default_port;
    if (at) rp = rd__port_parse(at + 1, len - alen - 1, &a.port);
    if (r == RD_ESYNTAX || rp == RD_ESYNTAX) return RD_ESYNTAX;
    if (r || rp) return r ? r : rp;
    *out = a;
    return 0;
}

int rd_addr_to_text(const rd_addr_t *a, char *out, size_t cap)
{
    char buf[64]; /* 39 (IPv6) + 6 ("@65535") */
    size_t n;
    if (!a || (!out && cap)) return RD_EINVAL;
    if (a->family == 4)
        n = (size_t)rd__ip4_to_text(a->addr, buf);
    else if (a->family == 6)
        n = (size_t)rd__ip6_to_text(a->addr, buf);
    else
        return RD_EINVAL;
    if (a->port) {
        buf[n++] = '@';
        char d[5];
        int k = 0;
        for (unsigned v = a->port; v; v /= 10) d[k++] = (char)('0' + v % 10);
        while (k) buf[n++] = d[--k];
    }
    if (n + 1 > cap) return RD_ESPACE;
    memcpy(out, buf, n);
    out[n] = '\0';
    return (int)n;
}
