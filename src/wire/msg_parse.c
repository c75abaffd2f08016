/* Message parsing (RFC 1035 s4.1, RFC 6891 s6): views into the caller's buffer, every byte
 * bounds-checked, every name and rdata validated once so later readers can trust offsets. */
#include <string.h>

#include "resolverd/msg.h"
#include "wire/cursor.h"

static int parse_header(rd_msg_t *m, const uint8_t *wire, size_t len)
{
    memset(m->count, 0, sizeof(m->count));
    m->wire = wire;
    m->len = len;
    m->rrs = m->inline_rrs;
    m->opt_index = -1;
    memset(&m->edns, 0, sizeof(m->edns));
    if (len < RD_HDR_LEN) return RD_ETRUNC;
    if (len > RD_MSG_MAX) return RD_EINVAL;
    m->id = rd_get16(wire);
    m->flags = rd_get16(wire + 2);
    for (int s = 0; s < 4; s++) m->count[s] = rd_get16(wire + 4 + 2 * s);
    /* Smallest question is 5 octets (root name + type + class), smallest RR 11. */
    size_t need = (size_t)m->count[0] * 5 + ((size_t)m->count[1] + m->count[2] + m->count[3]) * 11;
    if (need > len - RD_HDR_LEN) return RD_ECOUNT;
    return 0;
}

static int parse_edns(rd_msg_t *m, const rd_rr_t *rr)
{
    rd_edns_t *e = &m->edns;
    /* RFC 6891 s6.1.2/s6.1.3: owner is the root, CLASS is the UDP size, TTL holds extended
     * rcode, version and flags. */
    if (m->wire[rr->owner] != 0) return RD_EOPT;
    e->present = true;
    e->udp_size = rr->rclass;
    e->ext_rcode = (uint8_t)(rr->ttl >> 24);
    e->version = (uint8_t)(rr->ttl >> 16);
    e->flags = (uint16_t)rr->ttl;
    e->opts = m->wire + rr->rdata;
    e->opts_len = rr->rdlen;
    rd_rcur_t c;
    rd_rcur_init(&c, m->wire, rr->rdata, (size_t)rr->rdata + rr->rdlen);
    while (rd_rcur_left(&c) > 0) {
        uint16_t code = rd_rcur_u16(&c), olen = rd_rcur_u16(&c);
        const uint8_t *d = rd_rcur_bytes(&c, olen);
        if (c.err) return RD_EOPT;
        switch (code) {
        case RD_EDNS_COOKIE:
            /* RFC 7873 s5.2.2: 8 octets client only, or 16..40 with the server part */
            if (olen != 8 && (olen < 16 || olen > 40)) return RD_EOPT;
            if (!e->cookie) e->cookie = d, e->cookie_len = (uint8_t)olen;
            break;
        case RD_EDNS_NSID:
            if (!e->has_nsid) e->has_nsid = true, e->nsid = d, e->nsid_len = olen;
            break;
        case RD_EDNS_PADDING:
            if (!e->has_padding) e->has_padding = true, e->padding_len = olen;
            break;
        case RD_EDNS_KEEPALIVE:
            /* RFC 7828 s3.1: empty in queries, 2 octets in responses */
            if (olen != 0 && olen != 2) return RD_EOPT;
            if (!e->has_keepalive) {
                e->has_keepalive = true;
                e->keepalive_has_timeout = olen == 2;
                e->keepalive_timeout = olen == 2 ? rd_get16(d) : 0;
            }
            break;
        case RD_EDNS_EDE:
            /* RFC 8914 s2: info-code then optional UTF-8 text */
            if (olen < 2) return RD_EOPT;
            if (!e->has_ede) {
                e->has_ede = true;
                e->ede_code = rd_get16(d);
                e->ede_text = d + 2;
                e->ede_text_len = (uint16_t)(olen - 2);
            }
            break;
        default: break; /* kept opaque, reachable with rd_edns_opt_next */
        }
    }
    return 0;
}

int rd_edns_opt_next(const rd_edns_t *e, size_t *iter, rd_edns_opt_t *opt)
{
    if (!e->present || *iter + 4 > e->opts_len) return 0;
    const uint8_t *p = e->opts + *iter;
    uint16_t len = rd_get16(p + 2);
    if (*iter + 4 + len > e->opts_len) return 0; /* cannot happen after parse */
    opt->code = rd_get16(p);
    opt->len = len;
    opt->data = p + 4;
    *iter += 4 + (size_t)len;
    return 1;
}

static int parse_question(rd_rcur_t *c, rd_rr_t *rr)
{
    size_t pos = c->pos;
    int r = rd_name_unpack(c->base, c->end, &pos, NULL, NULL);
    if (r) return r;
    rr->owner = (uint16_t)c->pos;
    c->pos = pos;
    rr->type = rd_rcur_u16(c);
    rr->rclass = rd_rcur_u16(c);
    rr->ttl = 0;
    rr->rdlen = 0;
    rr->rdata = (uint16_t)c->pos;
    return c->err;
}

int rd_msg_parse_question(rd_msg_t *m, const uint8_t *wire, size_t len)
{
    int r = parse_header(m, wire, len);
    if (r) return r;
    m->start[0] = 0;
    rd_rcur_t c;
    rd_rcur_init(&c, wire, RD_HDR_LEN, len);
    unsigned n = m->count[0] < RD_MSG_INLINE_RRS ? m->count[0] : RD_MSG_INLINE_RRS;
    for (unsigned i = 0; i < n; i++) {
        r = parse_question(&c, &m->rrs[i]);
        if (r) return r;
    }
    for (int s = 1; s < 4; s++) m->start[s] = (uint16_t)n;
    return 0;
}

int rd_msg_parse(rd_msg_t *m, const uint8_t *wire, size_t len, rd_arena_t *arena)
{
    int r = parse_header(m, wire, len);
    if (r) return r;
    size_t total = (size_t)m->count[0] + m->count[1] + m->count[2] + m->count[3];
    if (total > RD_MSG_INLINE_RRS) {
        /* total is bounded by len / 5 through the count check, so at most ~13k entries */
        if (!arena) return RD_ENOMEM;
        m->rrs = rd_arena_alloc(arena, total * sizeof(rd_rr_t));
        if (!m->rrs) return RD_ENOMEM;
    }
    rd_rcur_t c;
    rd_rcur_init(&c, wire, RD_HDR_LEN, len);
    size_t k = 0;
    for (int s = 0; s < 4; s++) {
        m->start[s] = (uint16_t)k;
        for (unsigned i = 0; i < m->count[s]; i++, k++) {
            rd_rr_t *rr = &m->rrs[k];
            if (s == RD_SEC_QD) {
                r = parse_question(&c, rr);
                if (r) return r;
                continue;
            }
            size_t pos = c.pos;
            r = rd_name_unpack(wire, len, &pos, NULL, NULL);
            if (r) return r;
            rr->owner = (uint16_t)c.pos;
            c.pos = pos;
            rr->type = rd_rcur_u16(&c);
            rr->rclass = rd_rcur_u16(&c);
            rr->ttl = rd_rcur_u32(&c);
            rr->rdlen = rd_rcur_u16(&c);
            rr->rdata = (uint16_t)c.pos;
            rd_rcur_skip(&c, rr->rdlen);
            if (c.err) return c.err;
            if (rr->type == RD_TYPE_OPT) {
                /* RFC 6891 s6.1.1: at most one OPT, only in the additional section */
                if (s != RD_SEC_AR) return RD_EOPT;
                if (m->opt_index >= 0) return RD_EOPTDUP;
                m->opt_index = (int)k;
                r = parse_edns(m, rr);
            } else {
                r = rd_rdata_check(wire, len, rr->rdata, rr->rdlen, rr->type);
            }
            if (r) return r;
        }
    }
    if (c.pos != len) return RD_ETRAILING;
    return 0;
}

int rd_msg_rcode(const rd_msg_t *m)
{
    int rc = RD_RCODE(m->flags);
    if (m->edns.present) rc |= (int)m->edns.ext_rcode << 4;
    return rc;
}
