/* EDNS(0) Padding (RFC 7830) of responses on encrypted transports, applied where the answer
 * leaves for the client, so cached and late answers are padded alike. */
#include "net/stream.h"

#include <string.h>

#include "resolverd/msg.h"
#include "wire/cursor.h"

bool rd__stream_query_padded(const uint8_t *q, size_t len)
{
    rd_msg_t m;
    /* Queries carry one question and an OPT: the inline records suffice (no arena). */
    return rd_msg_parse(&m, q, len, NULL) == 0 && m.edns.present && m.edns.has_padding;
}

size_t rd__stream_pad(uint8_t *msg, size_t len, size_t cap)
{
    uint8_t first[4096];
    rd_arena_t a;
    rd_arena_init(&a, first, sizeof(first), 0);
    rd_msg_t m;
    size_t out = len;
    if (cap > RD_MSG_MAX) cap = RD_MSG_MAX;
    if (rd_msg_parse(&m, msg, len, &a) != 0 || m.opt_index < 0 || m.edns.has_padding) goto done;
    const rd_rr_t *opt = &m.rrs[m.opt_index];
    /* Only an OPT that ends the message can grow in place (our builder puts it last). */
    if ((size_t)opt->rdata + opt->rdlen != len) goto done;
    size_t want = (len + 4 + RD_STREAM_PAD_BLOCK - 1) / RD_STREAM_PAD_BLOCK * RD_STREAM_PAD_BLOCK;
    if (want > cap || want - len - 4 + opt->rdlen + 4 > 65535) goto done;
    size_t plen = want - len - 4;
    rd_wcur_t w;
    rd_wcur_init(&w, msg, len, cap);
    rd_wcur_u16(&w, RD_EDNS_PADDING);
    rd_wcur_u16(&w, (uint16_t)plen);
    if (!rd_wcur_need(&w, plen)) goto done;
    memset(msg + w.pos, 0, plen); /* RFC 7830 s3: the padding octets SHOULD be 0x00 */
    w.pos += plen;
    rd_wcur_put16_at(&w, (size_t)opt->rdata - 2, (uint16_t)(opt->rdlen + 4 + plen));
    if (!w.err) out = w.pos;
done:
    rd_arena_free(&a);
    return out;
}
