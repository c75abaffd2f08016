/* Rdata in presentation form (RFC 1035 s5.1, RFC 3597 s5), driven by the RR type table:
 * one printer and one parser per field kind, no per-type code (house rule 6). Output follows
 * what BIND 9.18 prints for the rdata part, except that long base64/hex fields are one token
 * (dig +nosplit) and RFC 3597 hex is lowercase. */
#include <string.h>

#include "resolverd/name.h"
#include "resolverd/rrtype.h"
#include "wire/cursor.h"
#include "wire/encoding.h"

#define RDATA_MAX     65535 /* RDLENGTH is 16 bits (RFC 1035 s3.2.1) */
#define CHARSTR_MAX   255   /* RFC 1035 s3.3 */
#define BITMAP_OCTETS 8192  /* 65536 types, one bit each */
#define TIME_TEXT_LEN 14    /* YYYYMMDDHHmmSS, RFC 4034 s3.2 */
#define B32_TEXT_MAX  408   /* 255 octets in base32hex without padding */
#define SALT_TEXT_MAX 510   /* 255 octets in hex */

/* ------------------------------------------------------------------------------------------ */
/* Printing: rdata is untrusted, every read goes through the bounded cursor. A printer returns
 * RD_ERDATA when the rdata does not fit the field; the caller then prints RFC 3597 form. */

typedef int (*print_fn)(rd__tbuf_t *b, rd_rcur_t *c);

static const uint8_t *rest(rd_rcur_t *c, size_t *n)
{
    *n = rd_rcur_left(c);
    const uint8_t *p = c->base + c->pos;
    rd_rcur_skip(c, *n);
    return p;
}

static int print_name(rd__tbuf_t *b, rd_rcur_t *c)
{
    size_t nlen;
    const uint8_t *p = c->base + c->pos;
    if (rd_name_check(p, rd_rcur_left(c), &nlen) < 0) return RD_ERDATA;
    rd_rcur_skip(c, nlen);
    if (c->err) return RD_ERDATA;
    if (b->full) return 0;
    int r = rd_name_to_text(p, b->s + b->len, b->cap - b->len);
    if (r < 0) {
        b->full = true;
        return 0;
    }
    b->len += (size_t)r;
    return 0;
}

static int print_u8(rd__tbuf_t *b, rd_rcur_t *c)
{
    uint8_t v = rd_rcur_u8(c);
    if (c->err) return RD_ERDATA;
    rd__tb_u32(b, v);
    return 0;
}

static int print_u16(rd__tbuf_t *b, rd_rcur_t *c)
{
    uint16_t v = rd_rcur_u16(c);
    if (c->err) return RD_ERDATA;
    rd__tb_u32(b, v);
    return 0;
}

static int print_u32(rd__tbuf_t *b, rd_rcur_t *c)
{
    uint32_t v = rd_rcur_u32(c);
    if (c->err) return RD_ERDATA;
    rd__tb_u32(b, v);
    return 0;
}

static int print_a(rd__tbuf_t *b, rd_rcur_t *c)
{
    const uint8_t *p = rd_rcur_bytes(c, 4);
    char tmp[RD__IP4_TEXT_MAX];
    if (!p) return RD_ERDATA;
    int r = rd__ip4_to_text(p, tmp);
    if (r < 0) return r;
    rd__tb_put(b, tmp, (size_t)r);
    return 0;
}

static int print_aaaa(rd__tbuf_t *b, rd_rcur_t *c)
{
    const uint8_t *p = rd_rcur_bytes(c, 16);
    char tmp[RD__IP6_TEXT_MAX];
    if (!p) return RD_ERDATA;
    int r = rd__ip6_to_text(p, tmp);
    if (r < 0) return r;
    rd__tb_put(b, tmp, (size_t)r);
    return 0;
}

static int print_type(rd__tbuf_t *b, rd_rcur_t *c)
{
    uint16_t v = rd_rcur_u16(c);
    char tmp[32];
    if (c->err) return RD_ERDATA;
    int r = rd_rrtype_to_text(v, tmp, sizeof(tmp));
    if (r < 0) return RD_EBUG;
    rd__tb_put(b, tmp, (size_t)r);
    return 0;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian), for non-negative days. */
static void civil_from_days(uint32_t days, unsigned *y, unsigned *m, unsigned *d)
{
    uint32_t z = days + 719468; /* days since 0000-03-01 */
    uint32_t era = z / 146097;
    uint32_t doe = z - era * 146097;
    uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint32_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *o, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        o[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* RFC 4034 s3.2: YYYYMMDDHHmmSS in UTC; the value is read as seconds since 1970 (no serial
 * number arithmetic, so 2106 is the end). */
static int print_time(rd__tbuf_t *b, rd_rcur_t *c)
{
    uint32_t t = rd_rcur_u32(c);
    if (c->err) return RD_ERDATA;
    unsigned y, mo, d;
    civil_from_days(t / 86400, &y, &mo, &d);
    uint32_t s = t % 86400;
    char *o = rd__tb_reserve(b, TIME_TEXT_LEN);
    if (!o) return 0;
    put_digits(o, y, 4);
    put_digits(o + 4, mo, 2);
    put_digits(o + 6, d, 2);
    put_digits(o + 8, s / 3600, 2);
    put_digits(o + 10, s / 60 % 60, 2);
    put_digits(o + 12, s % 60, 2);
    return 0;
}

static int print_str(rd__tbuf_t *b, rd_rcur_t *c)
{
    uint8_t n = rd_rcur_u8(c);
    const uint8_t *p = rd_rcur_bytes(c, n);
    if (c->err) return RD_ERDATA;
    rd__tb_putc(b, '"');
    rd__tb_quoted(b, p, n);
    rd__tb_putc(b, '"');
    return 0;
}

static int print_strs(rd__tbuf_t *b, rd_rcur_t *c)
{
    if (rd_rcur_left(c) == 0) return RD_ERDATA; /* at least one string */
    for (bool first = true; rd_rcur_left(c) > 0; first = false) {
        if (!first) rd__tb_putc(b, ' ');
        int r = print_str(b, c);
        if (r < 0) return r;
    }
    return 0;
}

static int print_qrest(rd__tbuf_t *b, rd_rcur_t *c)
{
    size_t n;
    const uint8_t *p = rest(c, &n);
    rd__tb_putc(b, '"');
    rd__tb_quoted(b, p, n);
    rd__tb_putc(b, '"');
    return 0;
}

static void put_hex(rd__tbuf_t *b, const uint8_t *p, size_t n, bool upper)
{
    char *o = rd__tb_reserve(b, 2 * n);
    if (o) rd__hex_encode(p, n, o, upper);
}

static int print_hex(rd__tbuf_t *b, rd_rcur_t *c)
{
    size_t n;
    const uint8_t *p = rest(c, &n);
    put_hex(b, p, n, true);
    return 0;
}

static int print_b64(rd__tbuf_t *b, rd_rcur_t *c)
{
    size_t n;
    const uint8_t *p = rest(c, &n);
    char *o = rd__tb_reserve(b, rd__b64_encoded_len(n));
    if (o) rd__b64_encode(p, n, o);
    return 0;
}

static int print_salt(rd__tbuf_t *b, rd_rcur_t *c)
{
    uint8_t n = rd_rcur_u8(c);
    const uint8_t *p = rd_rcur_bytes(c, n);
    if (c->err) return RD_ERDATA;
    if (n == 0)
        rd__tb_putc(b, '-'); /* RFC 5155 s3.3 */
    else
        put_hex(b, p, n, true);
    return 0;
}

static int print_b32(rd__tbuf_t *b, rd_rcur_t *c)
{
    uint8_t n = rd_rcur_u8(c);
    const uint8_t *p = rd_rcur_bytes(c, n);
    /* An empty hash would print as nothing and could not be read back. */
    if (c->err || n == 0) return RD_ERDATA;
    char *o = rd__tb_reserve(b, rd__b32hex_encoded_len(n));
    if (o) rd__b32hex_encode(p, n, o);
    return 0;
}

/* RFC 4034 s4.1.2: windows in increasing order, 1..32 octets each, no trailing zero octet. */
static int print_bitmap(rd__tbuf_t *b, rd_rcur_t *c)
{
    int last = -1;
    bool first = true;
    while (rd_rcur_left(c) > 0) {
        uint8_t win = rd_rcur_u8(c);
        uint8_t n = rd_rcur_u8(c);
        const uint8_t *p = rd_rcur_bytes(c, n);
        if (c->err || (int)win <= last || n == 0 || n > 32 || p[n - 1] == 0) return RD_ERDATA;
        last = win;
        for (unsigned i = 0; i < n; i++) {
            for (unsigned bit = 0; bit < 8; bit++) {
                if (!(p[i] & (0x80 >> bit))) continue;
                char tmp[32];
                int r = rd_rrtype_to_text((uint16_t)(win * 256 + i * 8 + bit), tmp, sizeof(tmp));
                if (r < 0) return RD_EBUG;
                if (!first) rd__tb_putc(b, ' ');
                rd__tb_put(b, tmp, (size_t)r);
                first = false;
            }
        }
    }
    return 0;
}

static int print_tag(rd__tbuf_t *b, rd_rcur_t *c)
{
    uint8_t n = rd_rcur_u8(c);
    const uint8_t *p = rd_rcur_bytes(c, n);
    if (c->err || n == 0) return RD_ERDATA;
    /* RFC 8659 s4.1: tags are letters and digits; anything else goes out as RFC 3597. */
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        bool alnum =
            (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        if (!alnum) return RD_ERDATA;
    }
    rd__tb_put(b, (const char *)p, n);
    return 0;
}

static int print_svcparams(rd__tbuf_t *b, rd_rcur_t *c)
{
    size_t n;
    const uint8_t *p = rest(c, &n);
    return rd__svcparams_to_text(b, p, n);
}

/* No structure known: the whole rdata goes out in RFC 3597 form. */
static int print_opaque(rd__tbuf_t *b, rd_rcur_t *c)
{
    (void)b;
    (void)c;
    return RD_ERDATA;
}

static const print_fn printers[] = {
    [RD_RDF_NAME_C] = print_name,   [RD_RDF_NAME] = print_name,
    [RD_RDF_U8] = print_u8,         [RD_RDF_U16] = print_u16,
    [RD_RDF_U32] = print_u32,       [RD_RDF_TTL] = print_u32,
    [RD_RDF_A] = print_a,           [RD_RDF_AAAA] = print_aaaa,
    [RD_RDF_TYPE] = print_type,     [RD_RDF_TIME] = print_time,
    [RD_RDF_STR] = print_str,       [RD_RDF_STRS] = print_strs,
    [RD_RDF_B64] = print_b64,       [RD_RDF_HEX] = print_hex,
    [RD_RDF_SALT] = print_salt,     [RD_RDF_B32] = print_b32,
    [RD_RDF_BITMAP] = print_bitmap, [RD_RDF_SVCPARAMS] = print_svcparams,
    [RD_RDF_TAG] = print_tag,       [RD_RDF_QREST] = print_qrest,
    [RD_RDF_OPAQUE] = print_opaque,
};

/* RFC 3597 s5: \# <length> <hex>. */
static void print_generic(rd__tbuf_t *b, const uint8_t *rdata, size_t len)
{
    rd__tb_put(b, "\\# ", 3);
    rd__tb_u32(b, (uint32_t)len);
    if (len == 0) return;
    rd__tb_putc(b, ' ');
    put_hex(b, rdata, len, false);
}

/* Prints the fields; RD_ERDATA when the rdata does not match them. Validation goes on to the
 * end even when the output is full, so a too small buffer never hides bad rdata. */
static int print_fields(const rd_rrtype_desc_t *desc, rd__tbuf_t *b, const uint8_t *rdata,
                        size_t len)
{
    rd_rcur_t c;
    rd_rcur_init(&c, rdata, 0, len);
    for (size_t i = 0; i < RD_RDF_MAX && desc->fields[i] != RD_RDF_END; i++) {
        uint8_t kind = desc->fields[i];
        if (rd_fails_assert(kind < sizeof(printers) / sizeof(printers[0]) && printers[kind]))
            return RD_EBUG;
        /* A rest-of-rdata field with nothing left prints nothing and takes no separator;
         * deciding before writing keeps an exactly sized buffer sufficient. */
        bool rest = kind == RD_RDF_HEX || kind == RD_RDF_B64 || kind == RD_RDF_BITMAP ||
                    kind == RD_RDF_SVCPARAMS;
        if (i > 0 && !(rest && rd_rcur_left(&c) == 0)) rd__tb_putc(b, ' ');
        int r = printers[kind](b, &c);
        if (r < 0) return r;
    }
    if (c.err || rd_rcur_left(&c) != 0) return RD_ERDATA;
    if (b->len == 0 && !b->full) return RD_ERDATA; /* nothing printed: "\# 0" is clearer */
    return 0;
}

int rd_rdata_to_text(uint16_t type, const uint8_t *rdata, size_t len, char *out, size_t cap)
{
    static const uint8_t empty[1];
    rd__tbuf_t b;
    rd__tb_init(&b, out, cap);
    if (!rdata) {
        if (len) {
            if (cap) out[0] = '\0';
            return RD_EINVAL;
        }
        rdata = empty;
    }
    const rd_rrtype_desc_t *desc = rd_rrtype(type);
    int r = len > RDATA_MAX ? RD_ERDATA : print_fields(desc, &b, rdata, len);
    if (r == RD_ERDATA) {
        rd__tb_init(&b, out, cap);
        print_generic(&b, rdata, len);
    } else if (r < 0) {
        if (cap) out[0] = '\0';
        return r;
    }
    return rd__tb_finish(&b);
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing: tokens in, wire out through the write cursor. */

typedef struct {
    const rd_tok_t *toks;
    size_t ntok;
    size_t ti; /* next token */
    const uint8_t *origin;
    rd_wcur_t w;
    size_t errtok;
} pctx_t;

typedef int (*parse_fn)(pctx_t *p);

/* The next token, or RD_ESYNTAX at ntok when there is none. */
static int next_tok(pctx_t *p, const rd_tok_t **t)
{
    if (p->ti >= p->ntok) {
        p->errtok = p->ntok;
        return RD_ESYNTAX;
    }
    p->errtok = p->ti;
    *t = &p->toks[p->ti++];
    return 0;
}

/* The next token of a field that runs to the end (caller checked there is one). */
static const rd_tok_t *take(pctx_t *p)
{
    p->errtok = p->ti;
    return &p->toks[p->ti++];
}

static int parse_uint(const char *s, size_t n, uint32_t max, uint32_t *v)
{
    if (n == 0) return RD_ESYNTAX;
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return RD_ESYNTAX;
        acc = acc * 10 + (uint64_t)(s[i] - '0');
        if (acc > max) {
            for (; i < n; i++)
                if (s[i] < '0' || s[i] > '9') return RD_ESYNTAX;
            return RD_ERANGE;
        }
    }
    *v = (uint32_t)acc;
    return 0;
}

static int parse_num(pctx_t *p, uint32_t max, uint32_t *v)
{
    const rd_tok_t *t;
    int r = next_tok(p, &t);
    return r < 0 ? r : parse_uint(t->s, t->len, max, v);
}

static int parse_u8(pctx_t *p)
{
    uint32_t v;
    int r = parse_num(p, UINT8_MAX, &v);
    if (r == 0) rd_wcur_u8(&p->w, (uint8_t)v);
    return r;
}

static int parse_u16(pctx_t *p)
{
    uint32_t v;
    int r = parse_num(p, UINT16_MAX, &v);
    if (r == 0) rd_wcur_u16(&p->w, (uint16_t)v);
    return r;
}

static int parse_u32(pctx_t *p)
{
    uint32_t v;
    int r = parse_num(p, UINT32_MAX, &v);
    if (r == 0) rd_wcur_u32(&p->w, v);
    return r;
}

/* BIND TTL syntax: a plain number of seconds, or numbers each with a unit s m h d w
 * ("1h30m", "2d"), case-insensitive. */
static int parse_ttl(pctx_t *p)
{
    const rd_tok_t *t;
    int r = next_tok(p, &t);
    if (r < 0) return r;
    uint32_t v;
    r = parse_uint(t->s, t->len, UINT32_MAX, &v);
    if (r != RD_ESYNTAX) {
        if (r == 0) rd_wcur_u32(&p->w, v);
        return r;
    }
    uint64_t total = 0;
    size_t i = 0;
    while (i < t->len) {
        uint64_t num = 0;
        size_t start = i;
        for (; i < t->len && t->s[i] >= '0' && t->s[i] <= '9'; i++) {
            num = num * 10 + (uint64_t)(t->s[i] - '0');
            if (num > UINT32_MAX) num = (uint64_t)UINT32_MAX + 1; /* sticky overflow */
        }
        if (i == start || i == t->len) return RD_ESYNTAX;
        uint64_t mult;
        switch (t->s[i++] | 0x20) {
        case 's': mult = 1; break;
        case 'm': mult = 60; break;
        case 'h': mult = 3600; break;
        case 'd': mult = 86400; break;
        case 'w': mult = 604800; break;
        default: return RD_ESYNTAX;
        }
        total += num * mult;
        if (total > UINT32_MAX) total = (uint64_t)UINT32_MAX + 1;
    }
    if (total > UINT32_MAX) return RD_ERANGE;
    rd_wcur_u32(&p->w, (uint32_t)total);
    return 0;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* RFC 4034 s3.2: YYYYMMDDHHmmSS (UTC), or a plain number of seconds. */
static int parse_time(pctx_t *p)
{
    const rd_tok_t *t;
    int r = next_tok(p, &t);
    if (r < 0) return r;
    if (t->len != TIME_TEXT_LEN) {
        uint32_t v;
        r = parse_uint(t->s, t->len, UINT32_MAX, &v);
        if (r == 0) rd_wcur_u32(&p->w, v);
        return r;
    }
    uint32_t f[6];
    static const uint8_t width[6] = {4, 2, 2, 2, 2, 2};
    size_t off = 0;
    for (int i = 0; i < 6; i++) {
        r = parse_uint(t->s + off, width[i], UINT32_MAX, &f[i]);
        if (r < 0) return r;
        off += width[i];
    }
    static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (f[0] % 4 == 0 && f[0] % 100 != 0) || f[0] % 400 == 0;
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > mdays[f[1] - 1] ||
        (f[1] == 2 && f[2] == 29 && !leap) || f[3] > 23 || f[4] > 59 || f[5] > 59)
        return RD_ESYNTAX;
    int64_t secs = days_from_civil(f[0], f[1], f[2]) * 86400 + f[3] * 3600 + f[4] * 60 + f[5];
    if (secs < 0 || secs > (int64_t)UINT32_MAX) return RD_ERANGE;
    rd_wcur_u32(&p->w, (uint32_t)secs);
    return 0;
}

static int parse_a(pctx_t *p)
{
    const rd_tok_t *t;
    uint8_t a[4];
    int r = next_tok(p, &t);
    if (r == 0) r = rd__ip4_from_text(t->s, t->len, a);
    if (r == 0) rd_wcur_bytes(&p->w, a, sizeof(a));
    return r;
}

static int parse_aaaa(pctx_t *p)
{
    const rd_tok_t *t;
    uint8_t a[16];
    int r = next_tok(p, &t);
    if (r == 0) r = rd__ip6_from_text(t->s, t->len, a);
    if (r == 0) rd_wcur_bytes(&p->w, a, sizeof(a));
    return r;
}

static int type_from_tok(const rd_tok_t *t, uint16_t *type)
{
    int r = rd_rrtype_from_text(t->s, t->len, type);
    return r == RD_ENOTFOUND ? RD_ESYNTAX : r;
}

static int parse_type(pctx_t *p)
{
    const rd_tok_t *t;
    uint16_t v;
    int r = next_tok(p, &t);
    if (r == 0) r = type_from_tok(t, &v);
    if (r == 0) rd_wcur_u16(&p->w, v);
    return r;
}

static int parse_name(pctx_t *p)
{
    const rd_tok_t *t;
    uint8_t name[RD_NAME_MAX];
    size_t n;
    int r = next_tok(p, &t);
    if (r == 0) r = rd_name_from_text(t->s, t->len, p->origin, name, &n);
    if (r == 0) rd_wcur_bytes(&p->w, name, n);
    return r;
}

/* Decodes one token as <character-string> octets into the output; *n gets their count.
 * More than max octets is RD_ERANGE. */
static int put_unescaped(pctx_t *p, const rd_tok_t *t, size_t max, size_t *n)
{
    rd__unesc_t u;
    uint8_t ch;
    int r;
    *n = 0;
    rd__unesc_init(&u, t->s, t->len);
    while ((r = rd__unesc_next(&u, &ch)) == 1) {
        if (++*n > max) return RD_ERANGE;
        rd_wcur_u8(&p->w, ch);
    }
    return r;
}

static int parse_str_tok(pctx_t *p, const rd_tok_t *t)
{
    size_t at = p->w.pos, n;
    rd_wcur_u8(&p->w, 0);
    int r = put_unescaped(p, t, CHARSTR_MAX, &n);
    if (r < 0) return r;
    if (!p->w.err) p->w.base[at] = (uint8_t)n;
    return 0;
}

static int parse_str(pctx_t *p)
{
    const rd_tok_t *t;
    int r = next_tok(p, &t);
    return r < 0 ? r : parse_str_tok(p, t);
}

static int parse_strs(pctx_t *p)
{
    int r = parse_str(p); /* at least one */
    while (r == 0 && p->ti < p->ntok) r = parse_str(p);
    return r;
}

/* Rest of rdata as one string, no 255 limit (CAA value RFC 8659 s4.1.1, URI target RFC 7553
 * s4.4). */
static int parse_qrest(pctx_t *p)
{
    const rd_tok_t *t;
    size_t n;
    int r = next_tok(p, &t);
    return r < 0 ? r : put_unescaped(p, t, RDATA_MAX, &n);
}

static int parse_tag(pctx_t *p)
{
    const rd_tok_t *t;
    int r = next_tok(p, &t);
    if (r < 0) return r;
    if (t->len == 0) return RD_ESYNTAX;
    for (size_t i = 0; i < t->len; i++) {
        char ch = t->s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            return RD_ESYNTAX;
    }
    if (t->len > CHARSTR_MAX) return RD_ERANGE;
    rd_wcur_u8(&p->w, (uint8_t)t->len);
    rd_wcur_bytes(&p->w, t->s, t->len);
    return 0;
}

/* Base64 or hex over all remaining tokens, concatenated (RFC 4034 s2.2: "whitespace is
 * allowed within the Base64 text"). No tokens means empty. */
static int parse_b64(pctx_t *p)
{
    rd__b64_dec_t d;
    rd__b64_dec_init(&d);
    while (p->ti < p->ntok) {
        const rd_tok_t *t = take(p);
        int r = rd__b64_dec_feed(&d, t->s, t->len, p->w.base, p->w.end, &p->w.pos);
        if (r < 0) return r;
    }
    return rd__b64_dec_final(&d);
}

static int parse_hex(pctx_t *p)
{
    rd__hex_dec_t d;
    rd__hex_dec_init(&d);
    while (p->ti < p->ntok) {
        const rd_tok_t *t = take(p);
        int r = rd__hex_dec_feed(&d, t->s, t->len, p->w.base, p->w.end, &p->w.pos);
        if (r < 0) return r;
    }
    return rd__hex_dec_final(&d);
}

static int parse_salt(pctx_t *p)
{
    const rd_tok_t *t;
    int r = next_tok(p, &t);
    if (r < 0) return r;
    size_t at = p->w.pos;
    rd_wcur_u8(&p->w, 0);
    if (t->len == 1 && t->s[0] == '-') return 0; /* RFC 5155 s3.3: no salt */
    if (t->len == 0) return RD_ESYNTAX;
    if (t->len > SALT_TEXT_MAX) return RD_ERANGE;
    if (p->w.err) return RD_ESPACE;
    rd__hex_dec_t d;
    rd__hex_dec_init(&d);
    r = rd__hex_dec_feed(&d, t->s, t->len, p->w.base, p->w.end, &p->w.pos);
    if (r == 0) r = rd__hex_dec_final(&d);
    if (r == 0) p->w.base[at] = (uint8_t)(p->w.pos - at - 1);
    return r;
}

static int parse_b32(pctx_t *p)
{
    const rd_tok_t *t;
    int r = next_tok(p, &t);
    if (r < 0) return r;
    if (t->len == 0) return RD_ESYNTAX;
    if (t->len > B32_TEXT_MAX) return RD_ERANGE;
    size_t at = p->w.pos;
    rd_wcur_u8(&p->w, 0);
    if (p->w.err) return RD_ESPACE;
    r = rd__b32hex_decode(t->s, t->len, p->w.base, p->w.end, &p->w.pos);
    if (r == 0 && p->w.pos == at + 1) r = RD_ESYNTAX; /* one character holds no octet */
    if (r == 0) p->w.base[at] = (uint8_t)(p->w.pos - at - 1);
    return r;
}

/* RFC 4034 s4.1.2 type bitmap from the remaining mnemonics; may be empty. */
static int parse_bitmap(pctx_t *p)
{
    uint8_t bits[BITMAP_OCTETS];
    memset(bits, 0, sizeof(bits));
    while (p->ti < p->ntok) {
        const rd_tok_t *t = take(p);
        uint16_t type;
        int r = type_from_tok(t, &type);
        if (r < 0) return r;
        bits[type >> 3] |= (uint8_t)(0x80 >> (type & 7));
    }
    for (unsigned win = 0; win < 256; win++) {
        const uint8_t *wb = bits + win * 32;
        unsigned n = 32;
        while (n > 0 && wb[n - 1] == 0) n--;
        if (n == 0) continue;
        rd_wcur_u8(&p->w, (uint8_t)win);
        rd_wcur_u8(&p->w, (uint8_t)n);
        rd_wcur_bytes(&p->w, wb, n);
    }
    return 0;
}

static int parse_svcparams(pctx_t *p)
{
    if (p->w.err) return RD_ESPACE;
    return rd__svcparams_from_text(p->toks, p->ntok, &p->ti, p->w.base, p->w.end, &p->w.pos,
                                   &p->errtok);
}

/* Only RFC 3597 form (handled before the fields) can give rdata of unknown structure. */
static int parse_opaque(pctx_t *p)
{
    p->errtok = p->ti < p->ntok ? p->ti : p->ntok;
    return RD_ESYNTAX;
}

static const parse_fn parsers[] = {
    [RD_RDF_NAME_C] = parse_name,   [RD_RDF_NAME] = parse_name,
    [RD_RDF_U8] = parse_u8,         [RD_RDF_U16] = parse_u16,
    [RD_RDF_U32] = parse_u32,       [RD_RDF_TTL] = parse_ttl,
    [RD_RDF_A] = parse_a,           [RD_RDF_AAAA] = parse_aaaa,
    [RD_RDF_TYPE] = parse_type,     [RD_RDF_TIME] = parse_time,
    [RD_RDF_STR] = parse_str,       [RD_RDF_STRS] = parse_strs,
    [RD_RDF_B64] = parse_b64,       [RD_RDF_HEX] = parse_hex,
    [RD_RDF_SALT] = parse_salt,     [RD_RDF_B32] = parse_b32,
    [RD_RDF_BITMAP] = parse_bitmap, [RD_RDF_SVCPARAMS] = parse_svcparams,
    [RD_RDF_TAG] = parse_tag,       [RD_RDF_QREST] = parse_qrest,
    [RD_RDF_OPAQUE] = parse_opaque,
};

static bool is_generic(const rd_tok_t *t)
{
    return !t->quoted && t->len == 2 && t->s[0] == '\\' && t->s[1] == '#';
}

/* RFC 3597 s5: \# <length> <hex, possibly in several tokens>. */
static int parse_generic(pctx_t *p, uint16_t type)
{
    const rd_tok_t *t;
    uint32_t len;
    p->ti = 1;
    int r = next_tok(p, &t);
    if (r < 0) return r;
    r = parse_uint(t->s, t->len, RDATA_MAX, &len);
    if (r < 0) return r;
    if (len > p->w.end) return RD_ESPACE;
    rd__hex_dec_t d;
    rd__hex_dec_init(&d);
    while (p->ti < p->ntok) {
        const rd_tok_t *h = take(p);
        r = rd__hex_dec_feed(&d, h->s, h->len, p->w.base, len, &p->w.pos);
        if (r == RD_ESPACE) {
            p->errtok = 1; /* more data than the length says */
            return RD_ESYNTAX;
        }
        if (r < 0) return r;
    }
    r = rd__hex_dec_final(&d);
    if (r < 0) return r;
    if (p->w.pos != len) {
        p->errtok = 1;
        return RD_ESYNTAX;
    }
    /* Known types: the octets must still fit the type's layout. */
    if (rd_rrtype(type)->name && rd_rdata_check(p->w.base, len, 0, (uint16_t)len, type) < 0) {
        p->errtok = 0;
        return RD_ERDATA;
    }
    return 0;
}

int rd_rdata_from_text(uint16_t type, const rd_tok_t *toks, size_t ntok, const uint8_t *origin,
                       uint8_t *out, size_t cap, size_t *outlen, size_t *errtok)
{
    size_t dummy;
    if (!errtok) errtok = &dummy;
    *errtok = 0;
    if ((ntok && !toks) || (cap && !out) || !outlen) return RD_EINVAL;
    pctx_t p = {.toks = toks, .ntok = ntok, .origin = origin};
    rd_wcur_init(&p.w, out, 0, cap > RDATA_MAX ? RDATA_MAX : cap);

    int r = 0;
    if (ntok > 0 && is_generic(&toks[0])) {
        r = parse_generic(&p, type);
    } else {
        const rd_rrtype_desc_t *desc = rd_rrtype(type);
        for (size_t i = 0; r == 0 && i < RD_RDF_MAX && desc->fields[i] != RD_RDF_END; i++) {
            uint8_t kind = desc->fields[i];
            if (rd_fails_assert(kind < sizeof(parsers) / sizeof(parsers[0]) && parsers[kind]))
                return RD_EBUG;
            r = parsers[kind](&p);
            if (r == 0 && p.w.err) r = RD_ESPACE;
        }
        if (r == 0 && p.ti < ntok) {
            p.errtok = p.ti;
            r = RD_ESYNTAX;
        }
    }
    if (r == 0 && p.w.err) r = RD_ESPACE;
    if (r < 0) {
        *errtok = p.errtok;
        return r;
    }
    *outlen = p.w.pos;
    return 0;
}
