/* Rdata in wire form, driven by the type table: check, decompress, compare, canonicalize. */
#include <string.h>

#include "resolverd/name.h"
#include "resolverd/rrtype.h"
#include "wire/cursor.h"
#include "wire/rdata_walk.h"

static int check_bitmap(const uint8_t *p, size_t len)
{
    /* RFC 4034 s4.1.2: windows in increasing order, 1..32 octets each. */
    size_t i = 0;
    int last = -1;
    while (i < len) {
        if (len - i < 2) return RD_ERDATA;
        int win = p[i];
        size_t bl = p[i + 1];
        if (win <= last || bl < 1 || bl > 32 || len - i - 2 < bl) return RD_ERDATA;
        if (p[i + 1 + bl] == 0) return RD_ERDATA; /* s4.1.2: trailing zero octets omitted */
        last = win;
        i += 2 + bl;
    }
    return 0;
}

static int check_svcparams(const uint8_t *p, size_t len)
{
    /* RFC 9460 s2.2: keys strictly increasing; s7: per-key value shapes. */
    size_t i = 0;
    long last = -1;
    while (i < len) {
        if (len - i < 4) return RD_ERDATA;
        uint16_t key = rd_get16(p + i), vl = rd_get16(p + i + 2);
        if ((long)key <= last || len - i - 4 < vl) return RD_ERDATA;
        last = key;
        const uint8_t *v = p + i + 4;
        switch (key) {
        case 0: /* mandatory */
            if (vl == 0 || vl % 2) return RD_ERDATA;
            break;
        case 1: /* alpn: non-empty strings */
            if (vl == 0) return RD_ERDATA;
            for (size_t j = 0; j < vl;) {
                if (v[j] == 0 || j + 1 + v[j] > vl) return RD_ERDATA;
                j += 1 + (size_t)v[j];
            }
            break;
        case 2: /* no-default-alpn */
            if (vl != 0) return RD_ERDATA;
            break;
        case 3: /* port */
            if (vl != 2) return RD_ERDATA;
            break;
        case 4: /* ipv4hint */
            if (vl == 0 || vl % 4) return RD_ERDATA;
            break;
        case 6: /* ipv6hint */
            if (vl == 0 || vl % 16) return RD_ERDATA;
            break;
        case 65535: /* invalid key */ return RD_ERDATA;
        default: break;
        }
        i += 4 + (size_t)vl;
    }
    return 0;
}

int rd__rdata_walk(const uint8_t *msg, size_t msglen, size_t pos, uint16_t rdlen, uint16_t type,
                   rd_rdata_field_cb cb, void *ctx)
{
    const rd_rrtype_desc_t *d = rd_rrtype(type);
    size_t end = pos + rdlen;
    if (end > msglen) return RD_ETRUNC;
    size_t p = pos;
    for (const uint8_t *f = d->fields; *f != RD_RDF_END; f++) {
        size_t start = p, left = end - p, n = 0;
        switch (*f) {
        case RD_RDF_NAME_C:
        case RD_RDF_NAME: {
            /* rdata at offset 0 is standalone (never inside a message, whose header comes
             * first): no compression pointers at all there. */
            int r = pos == 0 ? rd_name_check(msg + p, left, &n)
                             : rd_name_unpack(msg, end, &p, NULL, NULL);
            if (r == RD_ETRUNC) return RD_ERDATA;
            if (r) return r;
            if (pos == 0) p += n;
            n = p - start;
            p = start;
            break;
        }
        case RD_RDF_U8: n = 1; break;
        case RD_RDF_U16:
        case RD_RDF_TYPE: n = 2; break;
        case RD_RDF_U32:
        case RD_RDF_TTL:
        case RD_RDF_TIME:
        case RD_RDF_A: n = 4; break;
        case RD_RDF_AAAA: n = 16; break;
        case RD_RDF_STR:
        case RD_RDF_SALT:
        case RD_RDF_B32:
            if (left < 1) return RD_ERDATA;
            n = 1 + (size_t)msg[p];
            break;
        case RD_RDF_TAG:
            if (left < 1 || msg[p] == 0) return RD_ERDATA;
            n = 1 + (size_t)msg[p];
            break;
        case RD_RDF_STRS:
            if (left < 1) return RD_ERDATA;
            while (n < left) {
                size_t sl = 1 + (size_t)msg[p + n];
                if (sl > left - n) return RD_ERDATA;
                n += sl;
            }
            break;
        case RD_RDF_BITMAP:
            if (check_bitmap(msg + p, left)) return RD_ERDATA;
            n = left;
            break;
        case RD_RDF_SVCPARAMS:
            if (check_svcparams(msg + p, left)) return RD_ERDATA;
            n = left;
            break;
        case RD_RDF_B64:
        case RD_RDF_HEX:
        case RD_RDF_QREST:
        case RD_RDF_OPAQUE: n = left; break;
        default: return RD_EBUG;
        }
        if (n > left) return RD_ERDATA;
        if (cb) {
            int r = cb(ctx, *f, msg, start, n);
            if (r) return r;
        }
        p = start + n;
    }
    return p == end ? 0 : RD_ERDATA;
}

int rd_rdata_check(const uint8_t *msg, size_t msglen, size_t pos, uint16_t rdlen, uint16_t type)
{
    return rd__rdata_walk(msg, msglen, pos, rdlen, type, NULL, NULL);
}

struct unpack_ctx {
    uint8_t *out;
    size_t cap, n;
    size_t msglen;
};

static int unpack_field(void *vctx, int kind, const uint8_t *msg, size_t at, size_t len)
{
    struct unpack_ctx *c = vctx;
    if (kind == RD_RDF_NAME || kind == RD_RDF_NAME_C) {
        uint8_t name[RD_NAME_MAX];
        size_t nl, p = at;
        int r = rd_name_unpack(msg, c->msglen, &p, name, &nl);
        if (r) return r;
        if (c->cap - c->n < nl) return RD_ESPACE;
        memcpy(c->out + c->n, name, nl);
        c->n += nl;
        return 0;
    }
    if (c->cap - c->n < len) return RD_ESPACE;
    if (len) memcpy(c->out + c->n, msg + at, len);
    c->n += len;
    return 0;
}

int rd_rdata_unpack(const uint8_t *msg, size_t msglen, size_t pos, uint16_t rdlen, uint16_t type,
                    uint8_t *out, size_t cap, size_t *outlen)
{
    struct unpack_ctx c = {out, cap, 0, msglen};
    int r = rd__rdata_walk(msg, msglen, pos, rdlen, type, unpack_field, &c);
    if (r) return r;
    if (outlen) *outlen = c.n;
    return 0;
}

/* Field extents of a standalone rdata, for the lockstep comparison. */
#define MAXF (RD_RDF_MAX + 1)
struct extents {
    int n;
    uint8_t kind[MAXF];
    size_t at[MAXF], len[MAXF];
};

static int record_extent(void *vctx, int kind, const uint8_t *msg, size_t at, size_t len)
{
    (void)msg;
    struct extents *e = vctx;
    if (e->n >= MAXF) return RD_EBUG;
    e->kind[e->n] = (uint8_t)kind;
    e->at[e->n] = at;
    e->len[e->n] = len;
    e->n++;
    return 0;
}

static inline uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

int rd_rdata_cmp(uint16_t type, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    /* RFC 4034 s6.3: octet order of the canonical forms. Canonical form only lowercases names,
     * which keeps every length, so fields line up until the first difference. */
    const rd_rrtype_desc_t *d = rd_rrtype(type);
    struct extents ea = {0}, eb = {0};
    bool low = (d->flags & RD_RRT_CANONLOW) && alen <= 65535 && blen <= 65535 &&
               rd__rdata_walk(a, alen, 0, (uint16_t)alen, type, record_extent, &ea) == 0 &&
               rd__rdata_walk(b, blen, 0, (uint16_t)blen, type, record_extent, &eb) == 0;
    if (!low) {
        size_t m = alen < blen ? alen : blen;
        int r = m ? memcmp(a, b, m) : 0;
        if (r) return r;
        return alen < blen ? -1 : alen > blen;
    }
    for (int i = 0; i < ea.n && i < eb.n; i++) {
        bool name = ea.kind[i] == RD_RDF_NAME || ea.kind[i] == RD_RDF_NAME_C;
        size_t m = ea.len[i] < eb.len[i] ? ea.len[i] : eb.len[i];
        for (size_t k = 0; k < m; k++) {
            uint8_t x = a[ea.at[i] + k], y = b[eb.at[i] + k];
            if (name) x = lower(x), y = lower(y);
            if (x != y) return (int)x - (int)y;
        }
        if (ea.len[i] != eb.len[i]) return ea.len[i] < eb.len[i] ? -1 : 1;
    }
    return alen < blen ? -1 : alen > blen;
}

static int lower_field(void *vctx, int kind, const uint8_t *msg, size_t at, size_t len)
{
    (void)msg;
    uint8_t *rdata = vctx;
    if (kind != RD_RDF_NAME && kind != RD_RDF_NAME_C) return 0;
    (void)len;
    rd_name_lower(rdata + at);
    return 0;
}

void rd_rdata_canonicalize(uint16_t type, uint8_t *rdata, size_t len)
{
    if (!(rd_rrtype(type)->flags & RD_RRT_CANONLOW) || len > 65535) return;
    (void)rd__rdata_walk(rdata, len, 0, (uint16_t)len, type, lower_field, rdata);
}
