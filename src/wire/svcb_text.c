/* SVCB/HTTPS SvcParams in presentation form (RFC 9460 s2.1, s7, s8 and Appendix A). The same
 * validity rules apply in both directions, so whatever is printed reads back, and rdata that
 * breaks them is printed in RFC 3597 form by the caller. */
#include <string.h>
#include <strings.h>

#include "wire/cursor.h"
#include "wire/encoding.h"

enum {
    KEY_MANDATORY = 0,   /* RFC 9460 s8 */
    KEY_ALPN = 1,        /* RFC 9460 s7.1 */
    KEY_NODEFALPN = 2,   /* RFC 9460 s7.1 */
    KEY_PORT = 3,        /* RFC 9460 s7.2 */
    KEY_IPV4HINT = 4,    /* RFC 9460 s7.3 */
    KEY_ECH = 5,         /* RFC 9460 s14.3.2 (ECHConfigList) */
    KEY_IPV6HINT = 6,    /* RFC 9460 s7.3 */
    KEY_DOHPATH = 7,     /* RFC 9461 s5 */
    KEY_INVALID = 65535, /* RFC 9460 s14.3.2: reserved, "Invalid key" */
};

static const char *const key_names[] = {
    "mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint", "dohpath",
};
#define NKEYNAMES (sizeof(key_names) / sizeof(key_names[0]))

#define KEY_BITMAP_OCTETS 8192 /* one bit per 16-bit key */
#define ALPN_ID_MAX       255  /* RFC 9460 s7.1.1: alpn-id is a <character-string> */
#define LIST_ITEM_MAX     64   /* longest key name or address text in a value list */

/* ---- keys ---- */

/* Registered name, or keyNNNNN (RFC 9460 s2.1: no leading zeros). */
static int key_from_text(const char *s, size_t n, uint16_t *key)
{
    for (size_t i = 0; i < NKEYNAMES; i++) {
        if (strlen(key_names[i]) == n && strncasecmp(key_names[i], s, n) == 0) {
            *key = (uint16_t)i;
            return 0;
        }
    }
    if (n < 4 || n > 8 || strncasecmp(s, "key", 3) != 0) return RD_ESYNTAX;
    if (s[3] == '0' && n > 4) return RD_ESYNTAX;
    uint32_t v = 0;
    for (size_t i = 3; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return RD_ESYNTAX;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v > UINT16_MAX) return RD_ERANGE;
    if (v == KEY_INVALID) return RD_ESYNTAX;
    *key = (uint16_t)v;
    return 0;
}

/* BIND 9.18 prints dohpath as key7; so do we, so that our output matches dig's. */
#define NKEYNAMES_OUT KEY_DOHPATH

static void put_key(rd__tbuf_t *b, uint16_t key)
{
    if (key < NKEYNAMES_OUT) {
        rd__tb_puts(b, key_names[key]);
    } else {
        rd__tb_put(b, "key", 3);
        rd__tb_u32(b, key);
    }
}

/* ---- wire validity ---- */

static bool value_ok(uint16_t key, const uint8_t *v, size_t n)
{
    switch (key) {
    case KEY_MANDATORY:
        /* RFC 9460 s8: strictly increasing, never itself. */
        if (n < 2 || n % 2) return false;
        for (size_t i = 0; i < n; i += 2) {
            uint16_t k = rd_get16(v + i);
            if (k == KEY_MANDATORY || (i > 0 && k <= rd_get16(v + i - 2))) return false;
        }
        return true;
    case KEY_ALPN:
        if (n == 0) return false;
        for (size_t i = 0; i < n; i += 1 + (size_t)v[i])
            if (v[i] == 0 || n - i - 1 < v[i]) return false;
        return true;
    case KEY_NODEFALPN: return n == 0;
    case KEY_PORT: return n == 2;
    case KEY_IPV4HINT: return n >= 4 && n % 4 == 0;
    case KEY_ECH: return n > 0;
    case KEY_IPV6HINT: return n >= 16 && n % 16 == 0;
    case KEY_INVALID: return false;
    default: return true;
    }
}

/* Keys strictly increasing (RFC 9460 s2.2), every value well-formed, and every key in
 * mandatory present (RFC 9460 s8). Both lists are sorted, so one merge pass checks the last. */
static int params_check(const uint8_t *p, size_t n, size_t *mand_missing)
{
    rd_rcur_t c;
    rd_rcur_init(&c, p, 0, n);
    int32_t last = -1;
    const uint8_t *mand = NULL;
    size_t mandlen = 0;
    while (rd_rcur_left(&c) > 0) {
        uint16_t key = rd_rcur_u16(&c);
        uint16_t len = rd_rcur_u16(&c);
        const uint8_t *v = rd_rcur_bytes(&c, len);
        if (c.err || (int32_t)key <= last || !value_ok(key, v, len)) return RD_ERDATA;
        last = key;
        if (key == KEY_MANDATORY) {
            mand = v;
            mandlen = len;
        }
    }
    if (!mand) return 0;
    rd_rcur_init(&c, p, 0, n);
    for (size_t i = 0; i < mandlen; i += 2) {
        uint16_t want = rd_get16(mand + i), key = 0;
        while (rd_rcur_left(&c) > 0) {
            key = rd_rcur_u16(&c);
            rd_rcur_skip(&c, rd_rcur_u16(&c));
            if (key >= want) break;
        }
        if (key != want) {
            if (mand_missing) *mand_missing = want;
            return RD_ERDATA;
        }
    }
    return 0;
}

/* ---- printing ---- */

static void put_alpn(rd__tbuf_t *b, const uint8_t *v, size_t n)
{
    /* RFC 9460 Appendix A.1: "," and "\" inside an alpn-id are escaped for the value list,
     * then the whole value is escaped again as a quoted char-string (as BIND prints it). */
    static const uint8_t bs = '\\';
    rd__tb_putc(b, '"');
    for (size_t i = 0; i < n; i += 1 + (size_t)v[i]) {
        if (i > 0) rd__tb_putc(b, ',');
        for (size_t k = 0; k < v[i]; k++) {
            const uint8_t *ch = &v[i + 1 + k];
            if (*ch == ',' || *ch == '\\') {
                rd__tb_quoted(b, &bs, 1);
            } else if (*ch == ' ') {
                rd__tb_put(b, "\\032", 4); /* BIND escapes blanks in a value list */
                continue;
            }
            rd__tb_quoted(b, ch, 1);
        }
    }
    rd__tb_putc(b, '"');
}

static void put_value(rd__tbuf_t *b, uint16_t key, const uint8_t *v, size_t n)
{
    char tmp[RD__IP6_TEXT_MAX];
    int r;
    switch (key) {
    case KEY_MANDATORY:
        rd__tb_putc(b, '=');
        for (size_t i = 0; i < n; i += 2) {
            if (i > 0) rd__tb_putc(b, ',');
            put_key(b, rd_get16(v + i));
        }
        return;
    case KEY_ALPN:
        rd__tb_putc(b, '=');
        put_alpn(b, v, n);
        return;
    case KEY_NODEFALPN: return;
    case KEY_PORT:
        rd__tb_putc(b, '=');
        rd__tb_u32(b, rd_get16(v));
        return;
    case KEY_IPV4HINT:
    case KEY_IPV6HINT: {
        size_t step = key == KEY_IPV4HINT ? 4 : 16;
        rd__tb_putc(b, '=');
        for (size_t i = 0; i < n; i += step) {
            if (i > 0) rd__tb_putc(b, ',');
            r = step == 4 ? rd__ip4_to_text(v + i, tmp) : rd__ip6_to_text(v + i, tmp);
            if (r > 0) rd__tb_put(b, tmp, (size_t)r);
        }
        return;
    }
    case KEY_ECH: {
        rd__tb_putc(b, '=');
        char *o = rd__tb_reserve(b, rd__b64_encoded_len(n));
        if (o) rd__b64_encode(v, n, o);
        return;
    }
    default:
        if (n == 0) return;
        rd__tb_put(b, "=\"", 2);
        rd__tb_quoted(b, v, n);
        rd__tb_putc(b, '"');
        return;
    }
}

int rd__svcparams_to_text(rd__tbuf_t *b, const uint8_t *p, size_t n)
{
    int r = params_check(p, n, NULL);
    if (r < 0) return r;
    rd_rcur_t c;
    rd_rcur_init(&c, p, 0, n);
    for (bool first = true; rd_rcur_left(&c) > 0 && !b->full; first = false) {
        uint16_t key = rd_rcur_u16(&c);
        uint16_t len = rd_rcur_u16(&c);
        const uint8_t *v = rd_rcur_bytes(&c, len);
        if (c.err) return RD_ERDATA;
        if (!first) rd__tb_putc(b, ' ');
        put_key(b, key);
        put_value(b, key, v, len);
    }
    return 0;
}

/* ---- parsing ---- */

/* RFC 9460 Appendix A.1 value list over an already unescaped char-string: items split on ","
 * with "\," and "\\" as escapes; every item non-empty. */
typedef struct {
    rd__unesc_t u;
    bool done;
} vlist_t;

static int vlist_next(vlist_t *l, uint8_t *buf, size_t cap, size_t *n)
{
    if (l->done) return 0;
    size_t k = 0;
    for (;;) {
        uint8_t ch;
        int r = rd__unesc_next(&l->u, &ch);
        if (r < 0) return r;
        if (r == 0) {
            l->done = true;
            break;
        }
        if (ch == ',') break;
        if (ch == '\\') {
            r = rd__unesc_next(&l->u, &ch);
            if (r < 0) return r;
            if (r == 0 || (ch != ',' && ch != '\\')) return RD_ESYNTAX;
        }
        if (k >= cap) return RD_ERANGE;
        buf[k++] = ch;
    }
    if (k == 0) return RD_ESYNTAX;
    *n = k;
    return 1;
}

static int parse_keylist(vlist_t *l, rd_wcur_t *w)
{
    uint8_t seen[KEY_BITMAP_OCTETS];
    uint8_t item[LIST_ITEM_MAX];
    size_t n;
    int r;
    uint32_t lo = UINT16_MAX, hi = 0;
    memset(seen, 0, sizeof(seen));
    while ((r = vlist_next(l, item, sizeof(item), &n)) == 1) {
        uint16_t key;
        r = key_from_text((const char *)item, n, &key);
        if (r < 0) return r;
        /* RFC 9460 s8: never itself, never twice. */
        if (key == KEY_MANDATORY || (seen[key >> 3] & (0x80 >> (key & 7)))) return RD_ESYNTAX;
        seen[key >> 3] |= (uint8_t)(0x80 >> (key & 7));
        if (key < lo) lo = key;
        if (key > hi) hi = key;
    }
    if (r < 0) return r == RD_ERANGE ? RD_ESYNTAX : r;
    /* Wire order is strictly increasing whatever the text order. */
    for (uint32_t k = lo; k <= hi; k++)
        if (seen[k >> 3] & (0x80 >> (k & 7))) rd_wcur_u16(w, (uint16_t)k);
    return 0;
}

static int parse_alpn(vlist_t *l, rd_wcur_t *w)
{
    uint8_t item[ALPN_ID_MAX];
    size_t n;
    int r;
    while ((r = vlist_next(l, item, sizeof(item), &n)) == 1) {
        rd_wcur_u8(w, (uint8_t)n);
        rd_wcur_bytes(w, item, n);
    }
    return r;
}

static int parse_hints(vlist_t *l, rd_wcur_t *w, bool v6)
{
    uint8_t item[LIST_ITEM_MAX], a[16];
    size_t n;
    int r;
    while ((r = vlist_next(l, item, sizeof(item), &n)) == 1) {
        r = v6 ? rd__ip6_from_text((const char *)item, n, a)
               : rd__ip4_from_text((const char *)item, n, a);
        if (r < 0) return r;
        rd_wcur_bytes(w, a, v6 ? 16 : 4);
    }
    return r == RD_ERANGE ? RD_ESYNTAX : r;
}

static int parse_port(rd__unesc_t *u, rd_wcur_t *w)
{
    uint32_t v = 0;
    size_t n = 0;
    uint8_t ch;
    int r;
    while ((r = rd__unesc_next(u, &ch)) == 1) {
        if (ch < '0' || ch > '9') return RD_ESYNTAX;
        v = v * 10 + (uint32_t)(ch - '0');
        if (v > UINT16_MAX) return RD_ERANGE;
        n++;
    }
    if (r < 0) return r;
    if (n == 0) return RD_ESYNTAX;
    rd_wcur_u16(w, (uint16_t)v);
    return 0;
}

static int parse_ech(rd__unesc_t *u, rd_wcur_t *w)
{
    rd__b64_dec_t d;
    size_t start = w->pos;
    uint8_t ch;
    int r;
    rd__b64_dec_init(&d);
    while ((r = rd__unesc_next(u, &ch)) == 1) {
        char c = (char)ch;
        r = rd__b64_dec_feed(&d, &c, 1, w->base, w->end, &w->pos);
        if (r < 0) return r;
    }
    if (r == 0) r = rd__b64_dec_final(&d);
    if (r == 0 && w->pos == start) r = RD_ESYNTAX;
    return r;
}

static int parse_opaque(rd__unesc_t *u, rd_wcur_t *w)
{
    uint8_t ch;
    int r;
    while ((r = rd__unesc_next(u, &ch)) == 1) rd_wcur_u8(w, ch);
    return r;
}

static int parse_value(uint16_t key, bool has_value, const char *s, size_t n, rd_wcur_t *w)
{
    vlist_t l = {.done = false};
    rd__unesc_init(&l.u, s, n);
    switch (key) {
    case KEY_NODEFALPN: return n == 0 ? 0 : RD_ESYNTAX; /* RFC 9460 s7.1.1: empty */
    case KEY_MANDATORY:
    case KEY_ALPN:
    case KEY_PORT:
    case KEY_IPV4HINT:
    case KEY_ECH:
    case KEY_IPV6HINT:
        if (!has_value) return RD_ESYNTAX; /* these need a value */
        break;
    default: break;
    }
    switch (key) {
    case KEY_MANDATORY: return parse_keylist(&l, w);
    case KEY_ALPN: return parse_alpn(&l, w);
    case KEY_PORT: return parse_port(&l.u, w);
    case KEY_IPV4HINT: return parse_hints(&l, w, false);
    case KEY_IPV6HINT: return parse_hints(&l, w, true);
    case KEY_ECH: return parse_ech(&l.u, w);
    default: return parse_opaque(&l.u, w);
    }
}

/* value = "..." inside an unquoted token (key="a b" kept whole by the lexer). */
static int strip_quotes(const char **s, size_t *n)
{
    const char *v = *s;
    size_t i = 1;
    while (i < *n && v[i] != '"') i += v[i] == '\\' ? 2 : 1;
    if (i != *n - 1) return RD_ESYNTAX;
    *s = v + 1;
    *n -= 2;
    return 0;
}

static void reverse(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        uint8_t t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

/* The param at out[start..end) goes before the first one with a greater key: text order is
 * free, wire order strictly increasing (RFC 9460 s2.2). In place, no allocation. */
static int insert_sorted(uint8_t *out, size_t begin, size_t start, size_t end)
{
    uint16_t key = rd_get16(out + start);
    for (size_t q = begin; q < start; q += 4 + (size_t)rd_get16(out + q + 2)) {
        uint16_t k = rd_get16(out + q);
        if (k == key) return RD_ESYNTAX;
        if (k > key) {
            reverse(out + q, start - q);
            reverse(out + start, end - start);
            reverse(out + q, end - q);
            return 0;
        }
    }
    return 0;
}

int rd__svcparams_from_text(const rd_tok_t *toks, size_t ntok, size_t *ti, uint8_t *out, size_t cap,
                            size_t *pos, size_t *errtok)
{
    rd_wcur_t w;
    rd_wcur_init(&w, out, *pos, cap);
    size_t begin = *pos, mand_tok = 0;
    while (*ti < ntok) {
        size_t keytok = (*ti)++;
        const rd_tok_t *t = &toks[keytok];
        *errtok = keytok;
        if (t->quoted || t->len == 0) return RD_ESYNTAX;
        const char *eq = memchr(t->s, '=', t->len);
        size_t klen = eq ? (size_t)(eq - t->s) : t->len;
        uint16_t key;
        int r = key_from_text(t->s, klen, &key);
        if (r < 0) return r;
        const char *vs = eq ? eq + 1 : t->s + t->len;
        size_t vn = eq ? t->len - klen - 1 : 0;
        if (eq && vn == 0 && *ti < ntok && toks[*ti].quoted) {
            /* key= "value": a lexer that splits at the quote */
            *errtok = (*ti)++;
            vs = toks[*errtok].s;
            vn = toks[*errtok].len;
        } else if (vn > 0 && vs[0] == '"') {
            r = strip_quotes(&vs, &vn);
            if (r < 0) return r;
        }
        size_t start = w.pos;
        rd_wcur_u16(&w, key);
        rd_wcur_u16(&w, 0);
        r = parse_value(key, eq != NULL, vs, vn, &w);
        if (r < 0) return r;
        if (w.err) return RD_ESPACE;
        rd_wcur_put16_at(&w, start + 2, (uint16_t)(w.pos - start - 4));
        *errtok = keytok;
        r = insert_sorted(out, begin, start, w.pos);
        if (r < 0) return r;
        if (key == KEY_MANDATORY) mand_tok = keytok;
    }
    size_t missing = SIZE_MAX;
    int r = params_check(out + begin, w.pos - begin, &missing);
    if (r < 0) {
        /* Values were checked as they were read: only a mandatory key can be missing. */
        if (rd_fails_assert(missing != SIZE_MAX)) return RD_EBUG;
        *errtok = mand_tok;
        return RD_ESYNTAX;
    }
    *pos = w.pos;
    return 0;
}
