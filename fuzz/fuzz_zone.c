/* libFuzzer target: master files (src/wire/zonefile.c, zonelex.c, and through them
 * rdata_text.c and name.c).
 *
 * The input is a zone file in memory, parsed with $INCLUDE refused (no file system access)
 * and an origin of "example." (or none, for inputs of odd length: relative names are then
 * errors until a $ORIGIN line). Oracles:
 *  - the parse returns the number of errors, which is the number of error callbacks, and each
 *    error has a position and a message;
 *  - every record delivered has a valid owner, a TTL of at most 2^31-1 (RFC 2181 s8), a type
 *    that may appear in zone data, and rdata that rd_rdata_check accepts standalone;
 *  - every record goes into a message with rd_mb_rr, and the message parses;
 *  - every record's rdata prints and reads back to the same octets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "resolverd/msg.h"
#include "resolverd/zonefile.h"

static char text[FUZZ_TEXT_MAX];
static rd_tok_t toks[FUZZ_MAX_TOKENS];
static uint8_t back[65536];
static uint8_t msgbuf[RD_MSG_MAX];

typedef struct {
    rd_mb_t mb;
    bool open;
    unsigned records, errors;
} zctx_t;

static void flush_msg(zctx_t *z)
{
    if (!z->open) return;
    size_t len = rd_mb_finish(&z->mb);
    uint8_t *copy = fuzz_dup(msgbuf, len);
    uint8_t block[512];
    rd_arena_t a;
    rd_arena_init(&a, block, sizeof(block), 0);
    rd_msg_t m;
    int r = rd_msg_parse(&m, copy, len, &a);
    if (r != 0) {
        fuzz_hexdump("message", copy, len);
        FUZZ_CHECK(r == 0, "message built from zone records does not parse: %s", rd_strerror(r));
    }
    rd_arena_free(&a);
    free(copy);
    z->open = false;
}

static int on_rr(void *ctx, const rd_zrr_t *rr)
{
    zctx_t *z = ctx;
    z->records++;
    size_t ol = 0;
    FUZZ_CHECK(rd_name_check(rr->owner, RD_NAME_MAX, &ol) == 0, "invalid owner");
    FUZZ_CHECK(rr->ttl <= 2147483647u, "TTL %u above 2^31-1", rr->ttl);
    FUZZ_CHECK(!(rd_rrtype(rr->type)->flags & RD_RRT_META), "meta type %u in zone data", rr->type);
    FUZZ_CHECK(rr->file && rr->line >= 1, "record without position");
    int r = rd_rdata_check(rr->rdata, rr->rdlen, 0, rr->rdlen, rr->type);
    if (r != 0) {
        fuzz_hexdump("rdata", rr->rdata, rr->rdlen);
        FUZZ_CHECK(r == 0, "line %u: type %u rdata invalid: %s", rr->line, rr->type,
                   rd_strerror(r));
    }

    /* Into a message: a record that does not fit starts the next message. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!z->open) {
            rd_mb_init(&z->mb, msgbuf, sizeof(msgbuf), RD_MSG_MAX, 0x4242, RD_F_QR | RD_F_AA);
            z->open = true;
        }
        r = rd_mb_rr(&z->mb, RD_SEC_AN, rr->owner, rr->type, rr->rclass, rr->ttl, rr->rdata,
                     rr->rdlen);
        if (r == 0) break;
        FUZZ_CHECK(r == RD_ESPACE, "rd_mb_rr refused a zone record: %s", rd_strerror(r));
        /* Alone in a fresh message a record fits unless it is simply too big. */
        FUZZ_CHECK(attempt == 0 || RD_HDR_LEN + ol + 10 + (size_t)rr->rdlen > RD_MSG_MAX,
                   "a %zu + %u octet record does not fit an empty message", ol, rr->rdlen);
        flush_msg(z);
    }

    fuzz_rdata_roundtrip(rr->type, rr->rdata, rr->rdlen, text, toks, back);
    return 0;
}

static int on_error(void *ctx, const rd_zone_error_t *e)
{
    zctx_t *z = ctx;
    z->errors++;
    FUZZ_CHECK(e->code < 0, "error code %d", e->code);
    FUZZ_CHECK(memchr(e->msg, 0, sizeof(e->msg)) && memchr(e->file, 0, sizeof(e->file)),
               "error text not terminated");
    FUZZ_CHECK(e->msg[0] != 0, "empty error message");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t origin[] = "\7example";
    zctx_t z = {0};
    rd_zone_opts_t opts = {
        .origin = size % 2 ? NULL : origin,
        .default_ttl = 3600,
        .allow_include = false,
        .on_rr = on_rr,
        .on_error = on_error,
        .ctx = &z,
    };
    /* Exact-size copy: the lexer must not read past len (the text is not NUL-terminated). */
    char *copy = (char *)fuzz_dup(data, size);
    int r = rd_zone_parse_mem(copy, size, "fuzz.zone", &opts);
    FUZZ_CHECK(r >= 0, "rd_zone_parse_mem: %s", rd_strerror(r));
    FUZZ_CHECK((unsigned)r == z.errors, "returned %d errors, reported %u", r, z.errors);
    flush_msg(&z);
    free(copy);
    return 0;
}
