/* Round trips for every supported type, from the shipped zone that holds one record of each:
 * text -> wire -> text -> wire, and wire -> parse -> build -> wire. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolverd/msg.h"
#include "resolverd/zonefile.h"

#define MAXREC 256

typedef struct {
    uint8_t owner[RD_NAME_MAX];
    uint16_t type, rclass, rdlen;
    uint32_t ttl;
    uint8_t rdata[4096];
} rec_t;

typedef struct {
    rec_t *r;
    size_t n;
    int errors;
} set_t;

static int collect(void *ctx, const rd_zrr_t *rr)
{
    set_t *s = ctx;
    cr_assert_lt(s->n, MAXREC);
    cr_assert_leq(rr->rdlen, sizeof(s->r[0].rdata));
    rec_t *r = &s->r[s->n++];
    memcpy(r->owner, rr->owner, rd_name_len(rr->owner));
    r->type = rr->type;
    r->rclass = rr->rclass;
    r->ttl = rr->ttl;
    r->rdlen = rr->rdlen;
    memcpy(r->rdata, rr->rdata, rr->rdlen);
    return 0;
}

static int show_err(void *ctx, const rd_zone_error_t *e)
{
    set_t *s = ctx;
    s->errors++;
    cr_log_error("%s:%u:%u: %s", e->file, e->line, e->col, e->msg);
    return 0;
}

static set_t load_types_zone(void)
{
    set_t s = {malloc(sizeof(rec_t) * MAXREC), 0, 0};
    cr_assert_not_null(s.r);
    uint8_t origin[RD_NAME_MAX];
    cr_assert_eq(rd_name_from_text("types.test.", 11, NULL, origin, NULL), 0);
    rd_zone_opts_t o = {.origin = origin,
                        .default_ttl = 3600,
                        .on_rr = collect,
                        .on_error = show_err,
                        .ctx = &s,
                        .allow_include = false};
    int r = rd_zone_parse_file(RD_SOURCE_DIR "/zones/local/types.test.zone", &o);
    cr_assert_eq(r, 0, "zone errors: %d", r);
    return s;
}

Test(roundtrip, zone_has_every_type)
{
    set_t s = load_types_zone();
    const rd_rrtype_desc_t *d;
    for (size_t i = 0; (d = rd_rrtype_at(i)); i++) {
        if (d->flags & RD_RRT_META) continue;
        if (d->type == RD_TYPE_NULL || d->type == RD_TYPE_KX) continue; /* not in zone tools */
        bool found = false;
        for (size_t k = 0; k < s.n && !found; k++) found = s.r[k].type == d->type;
        cr_expect(found, "types.test.zone lacks a %s record", d->name);
    }
    bool unknown = false;
    for (size_t k = 0; k < s.n; k++) unknown |= rd_rrtype_name(s.r[k].type) == NULL;
    cr_expect(unknown, "types.test.zone lacks an RFC 3597 unknown type");
    free(s.r);
}

static int one_back(void *ctx, const rd_zrr_t *rr)
{
    rec_t *out = ctx;
    memcpy(out->owner, rr->owner, rd_name_len(rr->owner));
    out->type = rr->type;
    out->rclass = rr->rclass;
    out->ttl = rr->ttl;
    out->rdlen = rr->rdlen;
    memcpy(out->rdata, rr->rdata, rr->rdlen);
    return 0;
}

Test(roundtrip, text_wire_text)
{
    set_t s = load_types_zone();
    for (size_t k = 0; k < s.n; k++) {
        rec_t *r = &s.r[k];
        char line[16384];
        int n = rd_rr_to_text(r->owner, r->type, r->rclass, r->ttl, r->rdata, r->rdlen, line,
                              sizeof(line));
        cr_assert_gt(n, 0, "record %zu: %s", k, rd_strerror(n));
        rec_t back;
        memset(&back, 0, sizeof(back));
        set_t dummy = {0};
        rd_zone_opts_t o = {.origin = (const uint8_t *)"",
                            .default_ttl = 1,
                            .on_rr = one_back,
                            .on_error = show_err,
                            .ctx = &back};
        (void)dummy;
        int e = rd_zone_parse_mem(line, (size_t)n, "printed", &o);
        cr_assert_eq(e, 0, "re-reading '%s' gave %d errors", line, e);
        cr_assert(rd_name_eq(back.owner, r->owner), "%s", line);
        cr_assert_eq(back.type, r->type, "%s", line);
        cr_assert_eq(back.ttl, r->ttl, "%s", line);
        cr_assert_eq(back.rdlen, r->rdlen, "%s: %u vs %u octets", line, back.rdlen, r->rdlen);
        cr_assert_eq(memcmp(back.rdata, r->rdata, r->rdlen), 0, "%s", line);
        /* and printing again gives the same text */
        char line2[16384];
        int n2 = rd_rr_to_text(back.owner, back.type, back.rclass, back.ttl, back.rdata, back.rdlen,
                               line2, sizeof(line2));
        cr_assert_eq(n2, n);
        cr_assert_str_eq(line2, line);
    }
    free(s.r);
}

Test(roundtrip, wire_parse_build_wire)
{
    set_t s = load_types_zone();
    static uint8_t msg[65535], out[65535], out2[65535];
    rd_mb_t b;
    rd_mb_init(&b, msg, sizeof(msg), sizeof(msg), 7, RD_F_QR | RD_F_AA);
    uint8_t q[RD_NAME_MAX];
    rd_name_from_text("types.test.", 11, NULL, q, NULL);
    cr_assert_eq(rd_mb_question(&b, q, RD_TYPE_ANY, RD_CLASS_IN), 0);
    for (size_t k = 0; k < s.n; k++) {
        rec_t *r = &s.r[k];
        int e = rd_mb_rr(&b, RD_SEC_AN, r->owner, r->type, r->rclass, r->ttl, r->rdata, r->rdlen);
        cr_assert_eq(e, 0, "record %zu type %u: %s", k, r->type, rd_strerror(e));
    }
    size_t len = rd_mb_finish(&b), ol, ol2;
    rd_arena_t a;
    rd_arena_init(&a, NULL, 0, 0);
    rd_msg_t m, m2;
    cr_assert_eq(rd_msg_parse(&m, msg, len, &a), 0);
    cr_assert_eq(m.count[RD_SEC_AN], s.n);
    for (size_t k = 0; k < s.n; k++) {
        const rd_rr_t *rr = rd_msg_rr(&m, RD_SEC_AN, (unsigned)k);
        uint8_t rd[4096];
        size_t rl;
        cr_assert_eq(
            rd_rdata_unpack(m.wire, m.len, rr->rdata, rr->rdlen, rr->type, rd, sizeof(rd), &rl), 0);
        cr_assert_eq(rl, s.r[k].rdlen, "type %u", rr->type);
        cr_assert_eq(memcmp(rd, s.r[k].rdata, rl), 0, "type %u", rr->type);
        uint8_t owner[RD_NAME_MAX];
        size_t pos = rr->owner;
        cr_assert_eq(rd_name_unpack(m.wire, m.len, &pos, owner, NULL), 0);
        cr_assert_eq(memcmp(owner, s.r[k].owner, rd_name_len(owner)), 0);
    }
    /* our own output is a fixed point of parse+build */
    cr_assert_eq(rd_msg_rebuild(&m, out, sizeof(out), sizeof(out), &ol), 0);
    cr_assert_eq(ol, len);
    cr_assert_eq(memcmp(out, msg, len), 0);
    cr_assert_eq(rd_msg_parse(&m2, out, ol, &a), 0);
    cr_assert_eq(rd_msg_rebuild(&m2, out2, sizeof(out2), sizeof(out2), &ol2), 0);
    cr_assert_eq(ol2, ol);
    cr_assert_eq(memcmp(out2, out, ol), 0);
    rd_arena_free(&a);
    free(s.r);
}

Test(roundtrip, canonical_compare_is_an_order)
{
    set_t s = load_types_zone();
    for (size_t i = 0; i < s.n; i++) {
        rec_t *x = &s.r[i];
        cr_assert_eq(rd_rdata_cmp(x->type, x->rdata, x->rdlen, x->rdata, x->rdlen), 0);
        for (size_t j = 0; j < s.n; j++) {
            rec_t *y = &s.r[j];
            if (y->type != x->type) continue;
            int c1 = rd_rdata_cmp(x->type, x->rdata, x->rdlen, y->rdata, y->rdlen);
            int c2 = rd_rdata_cmp(x->type, y->rdata, y->rdlen, x->rdata, x->rdlen);
            cr_assert((c1 < 0 && c2 > 0) || (c1 > 0 && c2 < 0) || (c1 == 0 && c2 == 0));
        }
    }
    /* names in rdata compare case-insensitively for the RFC 4034 s6.2 types */
    uint8_t a[32], b[32];
    size_t al, bl;
    rd_name_from_text("NS1.Example.", 12, NULL, a, &al);
    rd_name_from_text("ns1.example.", 12, NULL, b, &bl);
    cr_assert_eq(rd_rdata_cmp(RD_TYPE_NS, a, al, b, bl), 0);
    cr_assert_neq(rd_rdata_cmp(RD_TYPE_NSEC, a, al, b, bl), 0); /* RFC 6840 s5.1 */
    rd_rdata_canonicalize(RD_TYPE_NS, a, al);
    cr_assert_eq(memcmp(a, b, al), 0);
    free(s.r);
}
