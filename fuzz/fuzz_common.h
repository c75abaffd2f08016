/* Helpers shared by the libFuzzer targets (fuzz/fuzz_*.c). Header-only so that each target
 * stays one translation unit, as CMakeLists.txt builds them (one executable per fuzz_*.c).
 *
 * Failures of an oracle abort() after printing what was compared: libFuzzer then saves the
 * input as crash-<sha1>, and the message says which invariant broke. */
#ifndef RD_FUZZ_COMMON_H
#define RD_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolverd/base.h"
#include "resolverd/rrtype.h"

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz oracle failed: %s (%s:%d): ", #cond, __FILE__, __LINE__);        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static inline void fuzz_hexdump(const char *what, const uint8_t *p, size_t n)
{
    fprintf(stderr, "%s (%zu octets):", what, n);
    for (size_t i = 0; i < n && i < 512; i++) fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ", p[i]);
    fprintf(stderr, "%s\n", n > 512 ? "\n  ..." : "");
}

/* A copy of p[0..n) in a heap block of exactly n octets (at least 1), so that AddressSanitizer
 * catches a read even one octet past the end. */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    if (!q) abort();
    if (n) memcpy(q, p, n);
    return q;
}

/* Splits presentation text as a master-file lexer does (RFC 1035 s5.1), independently of
 * src/wire/zonelex.c so that it checks the printer rather than agrees with the reader:
 * blanks separate tokens, "..." is one token (quotes removed, \" and \\ kept escaped inside),
 * a backslash outside quotes escapes the next character, '(' and ')' outside quotes are
 * dropped (a printer may wrap long rdata in them). Tokens point into text. Returns the number
 * of tokens, or -1 when the text cannot be a record (unterminated quote, more than max
 * tokens, a ';' comment, an unpaired trailing backslash). */
static inline long fuzz_tokenize(const char *text, size_t len, rd_tok_t *toks, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')') {
            i++;
            continue;
        }
        if (c == ';') return -1;
        if (n == max) return -1;
        if (c == '"') {
            size_t start = ++i;
            for (;;) {
                if (i >= len) return -1;
                if (text[i] == '\\') {
                    if (i + 1 >= len) return -1;
                    i += 2;
                    continue;
                }
                if (text[i] == '"') break;
                i++;
            }
            toks[n++] = (rd_tok_t){.s = text + start, .len = i - start, .quoted = true};
            i++; /* closing quote */
            continue;
        }
        size_t start = i;
        while (i < len) {
            char d = text[i];
            if (d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '(' || d == ')' ||
                d == '"' || d == ';')
                break;
            if (d == '\\') {
                if (i + 1 >= len) return -1;
                i += 2;
                continue;
            }
            i++;
        }
        toks[n++] = (rd_tok_t){.s = text + start, .len = i - start, .quoted = false};
    }
    return (long)n;
}

/* Presentation text of an rdata is at most a few times its size (\DDD is 4 characters per
 * octet, hex 2, base64 4/3) plus separators; this bounds every printer with room to spare. */
#define FUZZ_TEXT_MAX   (8u * 65536u + 4096u)
#define FUZZ_MAX_TOKENS 70000u /* a 64 KiB rdata of 1-octet fields could print ~65k tokens */

/* Round trip oracle for one standalone, valid rdata: print it, split the text, read it back;
 * the result must be the same octets. Used by fuzz_rdata_text and fuzz_zone. text and toks are
 * caller buffers (FUZZ_TEXT_MAX characters, FUZZ_MAX_TOKENS tokens), back 65536 octets. */
static inline void fuzz_rdata_roundtrip(uint16_t type, const uint8_t *rdata, size_t len, char *text,
                                        rd_tok_t *toks, uint8_t *back)
{
    int n = rd_rdata_to_text(type, rdata, len, text, FUZZ_TEXT_MAX);
    if (n < 0) {
        fuzz_hexdump("rdata", rdata, len);
        FUZZ_CHECK(n >= 0, "rd_rdata_to_text(type %u) of valid rdata failed: %s", type,
                   rd_strerror(n));
    }
    FUZZ_CHECK(strlen(text) == (size_t)n, "rd_rdata_to_text returned %d but strlen is %zu", n,
               strlen(text));
    long nt = fuzz_tokenize(text, (size_t)n, toks, FUZZ_MAX_TOKENS);
    if (nt < 0) {
        fuzz_hexdump("rdata", rdata, len);
        FUZZ_CHECK(nt >= 0, "type %u printed as text that is not a token list: [%s]", type, text);
    }
    size_t outlen = 0, errtok = 0;
    int r = rd_rdata_from_text(type, toks, (size_t)nt, NULL, back, 65536, &outlen, &errtok);
    if (r != 0) {
        fuzz_hexdump("rdata", rdata, len);
        FUZZ_CHECK(r == 0, "type %u: text [%s] does not read back: %s at token %zu", type, text,
                   rd_strerror(r), errtok);
    }
    if (outlen != len || (len && memcmp(back, rdata, len) != 0)) {
        fuzz_hexdump("rdata", rdata, len);
        fuzz_hexdump("read back", back, outlen);
        FUZZ_CHECK(0, "type %u: text [%s] reads back as different rdata", type, text);
    }
}

#endif
