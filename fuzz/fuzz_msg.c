/* libFuzzer target: DNS messages (src/wire/msg_parse.c, msg_build.c, msg_text.c, rdata.c).
 *
 * The input is one message as received on the wire. Oracles, for every message that parses:
 *  - every record's owner and rdata unpack, and the uncompressed rdata is valid standalone;
 *  - rd_msg_rebuild at limits 65535, 512, the client's EDNS size and an arbitrary small limit
 *    either fails only because the OPT record cannot fit, or gives a message that
 *      . parses again (an invariant: we must never emit what we refuse),
 *      . holds a prefix of the original records, same names (octet for octet but for the
 *        case of compressed names), types, classes, TTLs and rdata, with the OPT record
 *        kept and last,
 *      . has TC set when the question, answer or authority section lost records,
 *      . rebuilds to the very same octets (compression is deterministic);
 *  - rd_msg_to_text succeeds (or says RD_ESPACE when the buffer is small, never writing past
 *    it), and EDNS options iterate to exactly the option area;
 *  - rd_msg_parse_question agrees with rd_msg_parse on the question section. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "resolverd/msg.h"

#define TEXT_CAP (1u << 20) /* most messages print in far less; RD_ESPACE is fine beyond */

static uint8_t out1[RD_MSG_MAX + 1], out2[RD_MSG_MAX + 1];
static uint8_t rd1[RD_MSG_MAX + 1], rd2[RD_MSG_MAX + 1];
static char text[TEXT_CAP];

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

static size_t unpack_owner(const rd_msg_t *m, const rd_rr_t *rr, uint8_t out[RD_NAME_MAX])
{
    size_t pos = rr->owner, len = 0;
    int r = rd_name_unpack(m->wire, m->len, &pos, out, &len);
    FUZZ_CHECK(r == 0, "owner at %u of a parsed message does not unpack: %s", rr->owner,
               rd_strerror(r));
    return len;
}

static size_t unpack_rdata(const rd_msg_t *m, const rd_rr_t *rr, uint8_t *out)
{
    size_t len = 0;
    int r =
        rd_rdata_unpack(m->wire, m->len, rr->rdata, rr->rdlen, rr->type, out, RD_MSG_MAX + 1, &len);
    FUZZ_CHECK(r == 0, "rdata of type %u at %u does not unpack: %s", rr->type, rr->rdata,
               rd_strerror(r));
    return len;
}

/* Per-record properties of a parsed message. */
static void check_records(const rd_msg_t *m)
{
    uint8_t owner[RD_NAME_MAX];
    const uint8_t *prev = NULL;
    size_t prevlen = 0;
    uint16_t prevtype = 0;
    static uint8_t canon[RD_MSG_MAX + 1], prevbuf[RD_MSG_MAX + 1];
    for (int s = 0; s < 4; s++) {
        for (unsigned i = 0; i < m->count[s]; i++) {
            const rd_rr_t *rr = rd_msg_rr(m, s, i);
            size_t ol = unpack_owner(m, rr, owner);
            size_t cl = 0;
            FUZZ_CHECK(rd_name_check(owner, ol, &cl) == 0 && cl == ol, "owner invalid");
            if (s == RD_SEC_QD) {
                FUZZ_CHECK(rr->rdlen == 0 && rr->ttl == 0, "question with rdata");
                continue;
            }
            FUZZ_CHECK((size_t)rr->rdata + rr->rdlen <= m->len, "rdata past the end");
            if (rr->type == RD_TYPE_OPT) {
                FUZZ_CHECK(s == RD_SEC_AR && m->opt_index == (int)(m->start[s] + i),
                           "OPT record not where opt_index says");
                continue;
            }
            size_t rl = unpack_rdata(m, rr, rd1);
            /* Decompressed rdata stands alone: this is what rd_mb_rr and caches take. */
            int r = rl <= 0xFFFF ? rd_rdata_check(rd1, rl, 0, (uint16_t)rl, rr->type) : RD_ERDATA;
            if (r != 0) {
                fuzz_hexdump("rdata", rd1, rl);
                FUZZ_CHECK(r == 0, "unpacked rdata of type %u is not valid standalone: %s",
                           rr->type, rd_strerror(r));
            }
            FUZZ_CHECK(rd_rdata_cmp(rr->type, rd1, rl, rd1, rl) == 0, "rdata != itself");
            memcpy(canon, rd1, rl);
            rd_rdata_canonicalize(rr->type, canon, rl);
            FUZZ_CHECK(rd_rdata_cmp(rr->type, rd1, rl, canon, rl) == 0 &&
                           rd_rdata_cmp(rr->type, canon, rl, rd1, rl) == 0,
                       "rdata and its canonical form compare unequal (type %u)", rr->type);
            if (prev && prevtype == rr->type) {
                int ab = rd_rdata_cmp(rr->type, prev, prevlen, rd1, rl);
                int ba = rd_rdata_cmp(rr->type, rd1, rl, prev, prevlen);
                FUZZ_CHECK(sign(ab) == -sign(ba), "rdata cmp not antisymmetric: %d %d", ab, ba);
            }
            memcpy(prevbuf, rd1, rl);
            prev = prevbuf;
            prevlen = rl;
            prevtype = rr->type;
        }
    }
}

static void check_edns(const rd_msg_t *m)
{
    const rd_edns_t *e = &m->edns;
    FUZZ_CHECK(e->present == (m->opt_index >= 0), "edns.present disagrees with opt_index");
    size_t it = 0, total = 0, n = 0;
    rd_edns_opt_t o;
    bool seen_cookie = false;
    while (rd_edns_opt_next(e, &it, &o)) {
        FUZZ_CHECK(o.data >= e->opts && o.data + o.len <= e->opts + e->opts_len,
                   "option outside the option area");
        total += 4 + (size_t)o.len;
        FUZZ_CHECK(it == total, "iterator %zu after %zu octets", it, total);
        if (o.code == RD_EDNS_COOKIE && !seen_cookie) {
            seen_cookie = true;
            FUZZ_CHECK(e->cookie == o.data && e->cookie_len == o.len, "cookie not the first");
        }
        FUZZ_CHECK(++n <= 65536 / 4, "too many options");
    }
    FUZZ_CHECK(!e->present || total == e->opts_len, "options cover %zu of %u octets", total,
               e->opts_len);
    FUZZ_CHECK(seen_cookie == (e->cookie != NULL), "cookie found at parse but not iterating");
    if (e->cookie)
        FUZZ_CHECK(e->cookie_len == 8 || (e->cookie_len >= 16 && e->cookie_len <= 40),
                   "cookie length %u", e->cookie_len);
    int rc = rd_msg_rcode(m);
    FUZZ_CHECK(rc >= 0 && rc < 4096, "rcode %d", rc);
}

/* One record of a message in order, skipping OPT: section and index, or false at the end. */
static bool next_rr(const rd_msg_t *m, int *s, unsigned *i)
{
    for (;;) {
        if (*s > RD_SEC_AR) return false;
        if (*i < m->count[*s]) {
            const rd_rr_t *rr = rd_msg_rr(m, *s, *i);
            if (*s != RD_SEC_QD && rr->type == RD_TYPE_OPT) {
                (*i)++;
                continue;
            }
            return true;
        }
        (*s)++;
        *i = 0;
    }
}

static bool has_compressible_name(uint16_t type)
{
    const rd_rrtype_desc_t *d = rd_rrtype(type);
    for (const uint8_t *f = d->fields; *f != RD_RDF_END; f++)
        if (*f == RD_RDF_NAME_C) return (d->flags & RD_RRT_CANONLOW) != 0;
    return false;
}

/* The rebuilt message b holds a prefix of a's records, same content, OPT kept. */
static void compare_rebuilt(const rd_msg_t *a, const rd_msg_t *b, size_t limit)
{
    FUZZ_CHECK(a->id == b->id, "id changed");
    FUZZ_CHECK((a->flags & ~RD_F_TC) == (b->flags & ~RD_F_TC), "flags %04x became %04x", a->flags,
               b->flags);
    FUZZ_CHECK(!(a->flags & RD_F_TC) || (b->flags & RD_F_TC), "TC cleared");
    int sa = 0, sb = 0;
    unsigned ia = 0, ib = 0;
    uint8_t oa[RD_NAME_MAX], ob[RD_NAME_MAX];
    while (next_rr(b, &sb, &ib)) {
        FUZZ_CHECK(next_rr(a, &sa, &ia), "rebuilt message has more records (limit %zu)", limit);
        FUZZ_CHECK(sa == sb, "record moved from section %d to %d", sa, sb);
        const rd_rr_t *ra = rd_msg_rr(a, sa, ia), *rb = rd_msg_rr(b, sb, ib);
        size_t la = unpack_owner(a, ra, oa), lb = unpack_owner(b, rb, ob);
        /* Compression matches names case-insensitively (msg_build.c): a compressed name may
         * take the case of the earlier name it points at. */
        FUZZ_CHECK(la == lb && rd_name_eq(oa, ob), "owner changed (section %d #%u)", sa, ia);
        FUZZ_CHECK(ra->type == rb->type && ra->rclass == rb->rclass && ra->ttl == rb->ttl,
                   "type/class/ttl changed (section %d #%u)", sa, ia);
        if (sa != RD_SEC_QD) {
            size_t da = unpack_rdata(a, ra, rd1), db = unpack_rdata(b, rb, rd2);
            /* Only compressible names may change case, and the types that have them
             * (NS, CNAME, SOA, PTR, MX) compare their names case-insensitively. */
            bool same = da == db && (has_compressible_name(ra->type)
                                         ? rd_rdata_cmp(ra->type, rd1, da, rd2, db) == 0
                                         : memcmp(rd1, rd2, da) == 0);
            if (!same) {
                fuzz_hexdump("rdata", rd1, da);
                fuzz_hexdump("rebuilt rdata", rd2, db);
                FUZZ_CHECK(same, "rdata changed (type %u)", ra->type);
            }
        }
        ia++;
        ib++;
    }
    /* Records lost from the question, answer or authority sections: TC (RFC 2181 s9). */
    if (next_rr(a, &sa, &ia) && sa != RD_SEC_AR)
        FUZZ_CHECK(b->flags & RD_F_TC, "section %d truncated without TC (limit %zu)", sa, limit);
    /* OPT survives truncation, as the last record (RFC 6891 s7). */
    FUZZ_CHECK((a->opt_index >= 0) == (b->opt_index >= 0), "OPT lost or invented");
    if (a->opt_index >= 0) {
        const rd_rr_t *pa = &a->rrs[a->opt_index], *pb = &b->rrs[b->opt_index];
        FUZZ_CHECK(b->opt_index == b->start[RD_SEC_AR] + b->count[RD_SEC_AR] - 1,
                   "OPT is not the last record");
        FUZZ_CHECK(pa->rclass == pb->rclass && pa->ttl == pb->ttl && pa->rdlen == pb->rdlen &&
                       memcmp(a->wire + pa->rdata, b->wire + pb->rdata, pa->rdlen) == 0,
                   "OPT changed");
    }
}

static void check_rebuild(const rd_msg_t *m, size_t limit)
{
    size_t l1 = 0;
    int r = rd_msg_rebuild(m, out1, sizeof(out1), limit, &l1);
    if (r != 0) {
        /* The only acceptable failure: the OPT record alone cannot fit the limit. */
        size_t optlen = m->opt_index >= 0 ? 11 + (size_t)m->rrs[m->opt_index].rdlen : 0;
        FUZZ_CHECK(r == RD_ESPACE && m->opt_index >= 0 && RD_HDR_LEN + optlen > limit,
                   "rebuild at limit %zu failed: %s", limit, rd_strerror(r));
        return;
    }
    FUZZ_CHECK(l1 >= RD_HDR_LEN && l1 <= limit && l1 <= RD_MSG_MAX, "rebuilt %zu octets, limit %zu",
               l1, limit);
    uint8_t *copy = fuzz_dup(out1, l1);
    uint8_t block[256];
    rd_arena_t a;
    rd_arena_init(&a, block, sizeof(block), 0);
    rd_msg_t m2;
    r = rd_msg_parse(&m2, copy, l1, &a);
    if (r != 0) {
        fuzz_hexdump("rebuilt", copy, l1);
        FUZZ_CHECK(r == 0, "rebuilt message (limit %zu) does not parse: %s", limit, rd_strerror(r));
    }
    compare_rebuilt(m, &m2, limit);
    size_t l2 = 0;
    r = rd_msg_rebuild(&m2, out2, sizeof(out2), limit, &l2);
    FUZZ_CHECK(r == 0, "second rebuild failed: %s", rd_strerror(r));
    if (l2 != l1 || memcmp(out1, out2, l1) != 0) {
        fuzz_hexdump("first rebuild", out1, l1);
        fuzz_hexdump("second rebuild", out2, l2);
        FUZZ_CHECK(0, "rebuild is not idempotent (limit %zu)", limit);
    }
    rd_arena_free(&a);
    free(copy);
}

static void check_text(const rd_msg_t *m, size_t small)
{
    int n = rd_msg_to_text(m, text, sizeof(text));
    FUZZ_CHECK(n >= 0 || n == RD_ESPACE, "rd_msg_to_text: %s", rd_strerror(n));
    if (n < 0) return;
    FUZZ_CHECK(strlen(text) == (size_t)n, "text length %d but strlen %zu", n, strlen(text));
    /* A smaller buffer: RD_ESPACE and nothing written past it; exactly enough: same text. */
    if ((size_t)n < 65536) {
        size_t cap = small % ((size_t)n + 2);
        if (cap == 0) cap = 1;
        char *t = malloc(cap);
        if (!t) abort();
        int n2 = rd_msg_to_text(m, t, cap);
        if (cap > (size_t)n)
            FUZZ_CHECK(n2 == n && memcmp(t, text, (size_t)n + 1) == 0, "text differs");
        else
            FUZZ_CHECK(n2 == RD_ESPACE, "cap %zu < %d + 1 gave %d", cap, n, n2);
        free(t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd_msg_t q;
    int rq = rd_msg_parse_question(&q, data, size);
    if (rq == 0) {
        uint8_t owner[RD_NAME_MAX];
        for (unsigned i = 0; i < q.count[RD_SEC_QD] && i < RD_MSG_INLINE_RRS; i++)
            (void)unpack_owner(&q, rd_msg_rr(&q, RD_SEC_QD, i), owner);
    }

    uint8_t block[256]; /* small: more than ~20 records spill into the arena's heap blocks */
    rd_arena_t a;
    rd_arena_init(&a, block, sizeof(block), 0);
    rd_msg_t m;
    int r = rd_msg_parse(&m, data, size, &a);
    if (r == 0) {
        FUZZ_CHECK(rq == 0, "rd_msg_parse accepts what rd_msg_parse_question refuses: %s",
                   rd_strerror(rq));
        for (unsigned i = 0; i < m.count[RD_SEC_QD] && i < RD_MSG_INLINE_RRS; i++) {
            const rd_rr_t *x = rd_msg_rr(&m, RD_SEC_QD, i), *y = rd_msg_rr(&q, RD_SEC_QD, i);
            FUZZ_CHECK(x->owner == y->owner && x->type == y->type && x->rclass == y->rclass,
                       "question %u differs between the two parsers", i);
        }
        check_records(&m);
        check_edns(&m);
        uint16_t id = (uint16_t)((data[0] << 8) | data[1]);
        check_rebuild(&m, RD_MSG_MAX);
        check_rebuild(&m, 512);
        if (m.edns.present && m.edns.udp_size > 512) check_rebuild(&m, m.edns.udp_size);
        check_rebuild(&m, RD_HDR_LEN + id % 1024u);
        check_text(&m, id);
    }
    rd_arena_free(&a);
    return 0;
}
