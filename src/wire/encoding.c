/* Hex, base64, base32hex (RFC 4648) and IP address text for presentation format. Decoders
 * are strict (no whitespace, canonical trailing bits) so text -> wire -> text is stable. */
#include <string.h>

#include "wire/encoding.h"

/* ---- hex ---- */

int rd__hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void rd__hex_encode(const uint8_t *in, size_t n, char *out, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
}

void rd__hex_dec_init(rd__hex_dec_t *d)
{
    d->hi = -1;
}

int rd__hex_dec_feed(rd__hex_dec_t *d, const char *s, size_t n, uint8_t *out, size_t cap,
                     size_t *pos)
{
    for (size_t i = 0; i < n; i++) {
        int v = rd__hex_digit((unsigned char)s[i]);
        if (v < 0) return RD_ESYNTAX;
        if (d->hi < 0) {
            d->hi = v;
            continue;
        }
        if (*pos >= cap) return RD_ESPACE;
        out[(*pos)++] = (uint8_t)(d->hi << 4 | v);
        d->hi = -1;
    }
    return 0;
}

int rd__hex_dec_final(const rd__hex_dec_t *d)
{
    return d->hi < 0 ? 0 : RD_ESYNTAX;
}

/* ---- base64 ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

size_t rd__b64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

void rd__b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
}

void rd__b64_dec_init(rd__b64_dec_t *d)
{
    d->acc = 0;
    d->nchar = 0;
    d->npad = 0;
}

#define B64_ENDED 4 /* npad value once a padded final quantum is complete */

int rd__b64_dec_feed(rd__b64_dec_t *d, const char *s, size_t n, uint8_t *out, size_t cap,
                     size_t *pos)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            /* RFC 4648 s4: "xx==" or "xxx=" only, at the very end. */
            if (d->npad == B64_ENDED || d->nchar < 2) return RD_ESYNTAX;
            d->npad++;
            if (d->nchar + d->npad < 4) continue;
            size_t nout = d->nchar - 1;
            uint32_t unused = d->nchar == 2 ? (d->acc & 0xf) : (d->acc & 0x3);
            if (unused) return RD_ESYNTAX;
            if (cap - *pos < nout) return RD_ESPACE;
            if (d->nchar == 2) {
                out[(*pos)++] = (uint8_t)(d->acc >> 4);
            } else {
                out[(*pos)++] = (uint8_t)(d->acc >> 10);
                out[(*pos)++] = (uint8_t)(d->acc >> 2);
            }
            d->npad = B64_ENDED;
            d->nchar = 0;
            d->acc = 0;
            continue;
        }
        int v = b64_value((unsigned char)s[i]);
        if (v < 0 || d->npad) return RD_ESYNTAX;
        d->acc = d->acc << 6 | (uint32_t)v;
        if (++d->nchar < 4) continue;
        if (cap - *pos < 3) return RD_ESPACE;
        out[(*pos)++] = (uint8_t)(d->acc >> 16);
        out[(*pos)++] = (uint8_t)(d->acc >> 8);
        out[(*pos)++] = (uint8_t)d->acc;
        d->nchar = 0;
        d->acc = 0;
    }
    return 0;
}

int rd__b64_dec_final(const rd__b64_dec_t *d)
{
    return d->nchar == 0 && (d->npad == 0 || d->npad == B64_ENDED) ? 0 : RD_ESYNTAX;
}

/* ---- base32hex ---- */

static const char b32hex_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

static int b32hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'V') return c - 'A' + 10;
    if (c >= 'a' && c <= 'v') return c - 'a' + 10;
    return -1;
}

size_t rd__b32hex_encoded_len(size_t n)
{
    return (n * 8 + 4) / 5;
}

void rd__b32hex_encode(const uint8_t *in, size_t n, char *out)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8 | in[i]) & 0xfff;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = b32hex_alphabet[(acc >> bits) & 31];
        }
    }
    if (bits) out[o++] = b32hex_alphabet[(acc << (5 - bits)) & 31];
}

int rd__b32hex_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *pos)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b32hex_value((unsigned char)s[i]);
        if (v < 0) return RD_ESYNTAX;
        acc = (acc << 5 | (uint32_t)v) & 0x1fff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (*pos >= cap) return RD_ESPACE;
            out[(*pos)++] = (uint8_t)(acc >> bits);
        }
    }
    /* A leftover of 5 or more bits is a character that encodes nothing (lengths 1, 3, 6 mod
     * 8); leftover bits must be zero so that one value has one text form. */
    if (bits >= 5 || (acc & ((1u << bits) - 1))) return RD_ESYNTAX;
    return 0;
}

/* ---- presentation text output ---- */

void rd__tb_init(rd__tbuf_t *b, char *s, size_t cap)
{
    b->s = s;
    b->cap = cap;
    b->len = 0;
    b->full = false;
}

char *rd__tb_reserve(rd__tbuf_t *b, size_t n)
{
    if (b->full || b->cap == 0 || b->cap - 1 - b->len < n) {
        b->full = true;
        return NULL;
    }
    char *p = b->s + b->len;
    b->len += n;
    return p;
}

void rd__tb_put(rd__tbuf_t *b, const char *s, size_t n)
{
    char *p = rd__tb_reserve(b, n);
    if (p && n) memcpy(p, s, n);
}

void rd__tb_puts(rd__tbuf_t *b, const char *s)
{
    rd__tb_put(b, s, strlen(s));
}

void rd__tb_putc(rd__tbuf_t *b, char c)
{
    char *p = rd__tb_reserve(b, 1);
    if (p) *p = c;
}

void rd__tb_u32(rd__tbuf_t *b, uint32_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    rd__tb_put(b, tmp + sizeof(tmp) - n, n);
}

void rd__tb_quoted(rd__tbuf_t *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && !b->full; i++) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            char *o = rd__tb_reserve(b, 2);
            if (o) {
                o[0] = '\\';
                o[1] = (char)c;
            }
        } else if (c < 0x20 || c > 0x7e) {
            char *o = rd__tb_reserve(b, 4);
            if (o) {
                o[0] = '\\';
                o[1] = (char)('0' + c / 100);
                o[2] = (char)('0' + c / 10 % 10);
                o[3] = (char)('0' + c % 10);
            }
        } else {
            rd__tb_putc(b, (char)c);
        }
    }
}

int rd__tb_finish(rd__tbuf_t *b)
{
    if (b->cap == 0) return RD_ESPACE;
    b->s[b->len] = '\0';
    if (b->full) return RD_ESPACE;
    return (int)b->len;
}

/* ---- char-string escapes ---- */

void rd__unesc_init(rd__unesc_t *u, const char *s, size_t n)
{
    u->s = s;
    u->n = n;
    u->i = 0;
}

int rd__unesc_next(rd__unesc_t *u, uint8_t *c)
{
    if (u->i >= u->n) return 0;
    char ch = u->s[u->i++];
    if (ch != '\\') {
        *c = (uint8_t)ch;
        return 1;
    }
    if (u->i >= u->n) return RD_ESYNTAX;
    ch = u->s[u->i];
    if (ch < '0' || ch > '9') {
        *c = (uint8_t)ch;
        u->i++;
        return 1;
    }
    if (u->n - u->i < 3) return RD_ESYNTAX;
    unsigned v = 0;
    for (int k = 0; k < 3; k++) {
        char d = u->s[u->i++];
        if (d < '0' || d > '9') return RD_ESYNTAX;
        v = v * 10 + (unsigned)(d - '0');
    }
    if (v > 255) return RD_ERANGE;
    *c = (uint8_t)v;
    return 1;
}
