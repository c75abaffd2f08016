/* Binary-to-text encodings used by presentation format: hex (RFC 4648 s8), base64 (RFC 4648
 * s4), base32hex without padding (RFC 4648 s7, as NSEC3 uses it: RFC 5155 s3.3), and IP
 * address text. Internal to src/wire. Decoders are streaming so that a value split over
 * several presentation tokens can be fed token by token straight into the output buffer. */
#ifndef RD_WIRE_ENCODING_H
#define RD_WIRE_ENCODING_H

#include "resolverd/base.h"
#include "resolverd/rrtype.h"

/* ---- hex ---- */

/* Value of a hex digit (either case) or -1. */
int rd__hex_digit(int c);
/* Writes 2*n characters (no NUL). */
void rd__hex_encode(const uint8_t *in, size_t n, char *out, bool upper);

typedef struct {
    int hi; /* pending high nibble, -1 when none */
} rd__hex_dec_t;

void rd__hex_dec_init(rd__hex_dec_t *d);
/* Decodes s[0..n) appending to out[*pos..cap). RD_ESYNTAX on a non-hex character,
 * RD_ESPACE when out is full. */
int rd__hex_dec_feed(rd__hex_dec_t *d, const char *s, size_t n, uint8_t *out, size_t cap,
                     size_t *pos);
/* RD_ESYNTAX when an odd number of digits was fed. */
int rd__hex_dec_final(const rd__hex_dec_t *d);

/* ---- base64 ---- */

size_t rd__b64_encoded_len(size_t n);
/* Writes rd__b64_encoded_len(n) characters with '=' padding (no NUL). */
void rd__b64_encode(const uint8_t *in, size_t n, char *out);

typedef struct {
    uint32_t acc;   /* bits of the current quantum */
    unsigned nchar; /* characters of the current quantum seen (0..3) */
    unsigned npad;  /* '=' seen; nothing but more '=' may follow */
} rd__b64_dec_t;

void rd__b64_dec_init(rd__b64_dec_t *d);
/* Strict RFC 4648 s4: no whitespace, padding only at the end, unused bits must be zero. */
int rd__b64_dec_feed(rd__b64_dec_t *d, const char *s, size_t n, uint8_t *out, size_t cap,
                     size_t *pos);
/* RD_ESYNTAX when the input did not end on a quantum boundary. */
int rd__b64_dec_final(const rd__b64_dec_t *d);

/* ---- base32hex, no padding ---- */

size_t rd__b32hex_encoded_len(size_t n);
/* Writes rd__b32hex_encoded_len(n) characters, uppercase, no padding (no NUL). */
void rd__b32hex_encode(const uint8_t *in, size_t n, char *out);
/* Case-insensitive, no padding, unused trailing bits must be zero. Appends to
 * out[*pos..cap). */
int rd__b32hex_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *pos);

/* ---- IP addresses ---- */

#define RD__IP4_TEXT_MAX 16 /* "255.255.255.255" + NUL */
#define RD__IP6_TEXT_MAX 46 /* INET6_ADDRSTRLEN */

/* Strict dotted quad / RFC 4291 s2.2 text; s need not be NUL-terminated. RD_ESYNTAX. */
/* Strict parsers (src/wire/ip_text.c): RD_ESYNTAX, or RD_ERANGE for a number too large. */
int rd__ip4_parse(const char *s, size_t len, uint8_t out[4]);
int rd__ip6_parse(const char *s, size_t len, uint8_t out[16]);
/* Decimal without sign or leading zeros, at most max. */
int rd__dec_parse(const char *s, size_t len, unsigned max, unsigned *out);
int rd__ip4_from_text(const char *s, size_t n, uint8_t out[4]);
int rd__ip6_from_text(const char *s, size_t n, uint8_t out[16]);
/* Writes NUL-terminated text into out (RD__IP4_TEXT_MAX / RD__IP6_TEXT_MAX octets); returns
 * its length. */
int rd__ip4_to_text(const uint8_t in[4], char *out);
int rd__ip6_to_text(const uint8_t in[16], char *out);

/* ---- presentation text output and char-string escapes ---- */

/* Text output that always keeps one octet for the NUL. After an overflow it writes nothing
 * more and remembers it, so a printer can go on validating its input to the end. */
typedef struct {
    char *s;
    size_t cap;
    size_t len;
    bool full;
} rd__tbuf_t;

void rd__tb_init(rd__tbuf_t *b, char *s, size_t cap);
/* Room for n more characters, or NULL (and b->full set). */
char *rd__tb_reserve(rd__tbuf_t *b, size_t n);
void rd__tb_put(rd__tbuf_t *b, const char *s, size_t n);
void rd__tb_puts(rd__tbuf_t *b, const char *s);
void rd__tb_putc(rd__tbuf_t *b, char c);
void rd__tb_u32(rd__tbuf_t *b, uint32_t v);
/* The inside of a quoted <character-string> (RFC 1035 s5.1): '"' and '\' escaped, octets
 * outside 0x20..0x7e as \DDD, as BIND prints them. */
void rd__tb_quoted(rd__tbuf_t *b, const uint8_t *p, size_t n);
/* NUL-terminates; returns the length or RD_ESPACE. */
int rd__tb_finish(rd__tbuf_t *b);

/* Reads presentation text one octet at a time, undoing \X and \DDD (RFC 1035 s5.1). */
typedef struct {
    const char *s;
    size_t n;
    size_t i;
} rd__unesc_t;

void rd__unesc_init(rd__unesc_t *u, const char *s, size_t n);
/* 1 with *c set, 0 at the end, RD_ESYNTAX on a bad escape (\ at the end, \DDD with fewer
 * than three digits), RD_ERANGE for \DDD over 255 (as rd_name_from_text). */
int rd__unesc_next(rd__unesc_t *u, uint8_t *c);

/* ---- SVCB/HTTPS SvcParams (RFC 9460 s2.1, src/wire/svcb_text.c) ---- */

/* Prints SvcParams p[0..n) as space-separated key=value; RD_ERDATA when they are not valid
 * (order, lengths, values, mandatory list), in which case the caller prints RFC 3597 form. */
int rd__svcparams_to_text(rd__tbuf_t *b, const uint8_t *p, size_t n);
/* Reads every token from toks[*ti] on as a SvcParam and writes them sorted by key into
 * out[*pos..cap). On error *errtok is the offending token. */
int rd__svcparams_from_text(const rd_tok_t *toks, size_t ntok, size_t *ti, uint8_t *out, size_t cap,
                            size_t *pos, size_t *errtok);

#endif
