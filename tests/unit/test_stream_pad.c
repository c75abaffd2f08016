/* EDNS padding of stream responses (src/net/stream_pad.c, RFC 7830 and RFC 8467): which
 * queries ask for it, responses grown to 468-octet blocks that still parse, and every case
 * where the message must stay as it is (no OPT, already padded, no room, not a message). */
#include <criterion/criterion.h>
#include <string.h>

#include "net/stream.h"
#include "resolverd/msg.h"

/* header, question a. A IN, then OPT (class 1232) with the given options */
static size_t msg(uint8_t *out, bool qr, const uint8_t *opts, size_t olen, bool with_opt)
{
    static const uint8_t hq[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0,
                                 0,    1,    1,    'a',  0, 0, 1, 0, 1};
    memcpy(out, hq, sizeof(hq));
    if (qr) out[2] |= 0x80;
    size_t n = sizeof(hq);
    if (!with_opt) {
        out[11] = 0;
        return n;
    }
    const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, (uint8_t)olen};
    memcpy(out + n, opt, sizeof(opt));
    n += sizeof(opt);
    if (olen) memcpy(out + n, opts, olen);
    return n + olen;
}

static const uint8_t pad_opt[] = {0, 12, 0, 2, 0, 0};

Test(stream_pad, padded_queries_are_recognised)
{
    uint8_t q[600];
    cr_assert(rd__stream_query_padded(q, msg(q, false, pad_opt, sizeof(pad_opt), true)));
    cr_assert_not(rd__stream_query_padded(q, msg(q, false, NULL, 0, true)));
    cr_assert_not(rd__stream_query_padded(q, msg(q, false, NULL, 0, false)));
    cr_assert_not(rd__stream_query_padded(q, 5)); /* truncated */
}

Test(stream_pad, response_grows_to_a_block_and_parses)
{
    uint8_t r[2000];
    size_t n = msg(r, true, NULL, 0, true);
    size_t p = rd__stream_pad(r, n, sizeof(r));
    cr_assert_eq(p, RD_STREAM_PAD_BLOCK);
    rd_msg_t m;
    cr_assert_eq(rd_msg_parse(&m, r, p, NULL), 0);
    cr_assert(m.edns.has_padding);
    cr_assert_eq(m.edns.padding_len, RD_STREAM_PAD_BLOCK - n - 4);
    for (size_t i = n + 4; i < p; i++) cr_assert_eq(r[i], 0);
}

Test(stream_pad, unchanged_when_it_cannot_or_need_not)
{
    uint8_t r[2000], copy[2000];
    size_t n = msg(r, true, NULL, 0, false); /* no OPT: the client did not use EDNS */
    memcpy(copy, r, n);
    cr_assert_eq(rd__stream_pad(r, n, sizeof(r)), n);
    cr_assert_eq(memcmp(r, copy, n), 0);
    n = msg(r, true, pad_opt, sizeof(pad_opt), true); /* already padded */
    cr_assert_eq(rd__stream_pad(r, n, sizeof(r)), n);
    n = msg(r, true, NULL, 0, true); /* no room for the block */
    cr_assert_eq(rd__stream_pad(r, n, 400), n);
    cr_assert_eq(rd__stream_pad(r, 7, sizeof(r)), 7); /* not a message */
    memset(r, 0xff, 100);
    cr_assert_eq(rd__stream_pad(r, 100, sizeof(r)), 100);
}
