/* libFuzzer target: rdata presentation format (src/wire/rdata_text.c, svcb_text.c,
 * encoding.c).
 *
 * Input: 2 octets of RR type (network order), then the uncompressed rdata.
 *  - rd_rdata_to_text never crashes, whatever the rdata, and never writes past a small
 *    buffer (RD_ESPACE);
 *  - when the rdata is valid for its type (rd_rdata_check), the printed text, split into
 *    tokens as a zone file would be, reads back with rd_rdata_from_text to the very same
 *    octets. For types without a descriptor and for invalid rdata the text is RFC 3597
 *    "\# len hex", which must read back too when the type is not a meta type.
 * The same input is then read as presentation text: rd_rdata_from_text of its tokens must
 * never crash, and what it accepts must be valid rdata that prints and reads back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "resolverd/rrtype.h"

static char text[FUZZ_TEXT_MAX];
static rd_tok_t toks[FUZZ_MAX_TOKENS];
static uint8_t back[65536], parsed[65536];

static void print_small(uint16_t type, const uint8_t *rdata, size_t len, int full)
{
    /* A buffer one octet short of what the text needs (or a few octets): RD_ESPACE. */
    size_t cap = full > 0 ? (size_t)full : 1;
    if (len) cap = (size_t)rdata[0] % (cap + 1) + 1;
    char *t = malloc(cap);
    if (!t) abort();
    int r = rd_rdata_to_text(type, rdata, len, t, cap);
    if (cap > (size_t)full)
        FUZZ_CHECK(r == full && memcmp(t, text, (size_t)full + 1) == 0,
                   "type %u: cap %zu gave %d, expected %d", type, cap, r, full);
    else
        FUZZ_CHECK(r == RD_ESPACE, "type %u: cap %zu < %d + 1 gave %d", type, cap, full, r);
    free(t);
}

/* The input as tokens of presentation text, read with the type from its first octets. */
static void from_text(uint16_t type, const uint8_t *data, size_t size)
{
    char *s = (char *)fuzz_dup(data, size);
    long nt = fuzz_tokenize(s, size, toks, FUZZ_MAX_TOKENS);
    if (nt >= 0) {
        static const uint8_t origin[] = "\6origin";
        size_t outlen = 0, errtok = 0;
        int r = rd_rdata_from_text(type, toks, (size_t)nt, origin, parsed, sizeof(parsed), &outlen,
                                   &errtok);
        if (r == 0) {
            FUZZ_CHECK(outlen <= 65535, "type %u: %zu octets of rdata", type, outlen);
            int c = rd_rdata_check(parsed, outlen, 0, (uint16_t)outlen, type);
            if (c != 0) {
                fuzz_hexdump("parsed", parsed, outlen);
                FUZZ_CHECK(c == 0, "type %u: rd_rdata_from_text gave invalid rdata: %s", type,
                           rd_strerror(c));
            }
            if (!(rd_rrtype(type)->flags & RD_RRT_META))
                fuzz_rdata_roundtrip(type, parsed, outlen, text, toks, back);
        } else {
            FUZZ_CHECK(r < 0 && errtok <= (size_t)nt, "type %u: error %d at token %zu of %ld", type,
                       r, errtok, nt);
        }
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size - 2 > 65535) return 0;
    uint16_t type = (uint16_t)((data[0] << 8) | data[1]);
    const uint8_t *rdata = data + 2;
    size_t len = size - 2;

    int n = rd_rdata_to_text(type, rdata, len, text, sizeof(text));
    FUZZ_CHECK(n >= 0, "type %u: rd_rdata_to_text failed: %s", type, rd_strerror(n));
    FUZZ_CHECK(strlen(text) == (size_t)n, "type %u: length %d but strlen %zu", type, n,
               strlen(text));
    if (n < 4096) print_small(type, rdata, len, n);

    const rd_rrtype_desc_t *d = rd_rrtype(type);
    bool valid = rd_rdata_check(rdata, len, 0, (uint16_t)len, type) == 0;
    if (!(d->flags & RD_RRT_META)) {
        if (valid) {
            fuzz_rdata_roundtrip(type, rdata, len, text, toks, back);
        } else {
            /* Invalid rdata prints as RFC 3597 generic data... */
            FUZZ_CHECK(n >= 3 && memcmp(text, "\\# ", 3) == 0,
                       "type %u: invalid rdata not printed as \\# (%.60s)", type, text);
        }
    }
    from_text(type, rdata, len);
    return 0;
}
