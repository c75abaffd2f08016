/* bench_wire: parse and parse+rebuild of realistic DNS messages with our codec (librd) and,
 * in the same run on the same bytes, with libknot for reference (DESIGN.md house rule 15).
 *
 * Messages (built here with our rd_mb_* builder, full compression):
 *   referral  .com-style referral for www.example.com: 4 NS + 4 A + 4 AAAA glue, OPT
 *   root-referral  root-style referral to com.: 13 NS + 13 A + 13 AAAA glue, OPT (41 records,
 *             past RD_MSG_INLINE_RRS, so our parse takes its record array from the arena)
 *   cname     3 CNAMEs then 2 A (CDN-style chain), OPT
 *   nxdomain  NXDOMAIN with SOA in authority, OPT with a 24-octet cookie
 *   txt       10 TXT records of 200 octets of rdata each, OPT
 *   query     A query with RD+AD, OPT with an 8-octet client cookie
 *
 * What each side does per message (no malloc per iteration on either side):
 *   ours parse:  rd_arena_reset (arena over a stack block) + rd_msg_parse (header, every name,
 *                every rdata validated against its type, OPT and options; views, no copies).
 *   knot parse:  one knot_pkt_t made once over a private copy of the wire with a bump
 *                allocator as its knot_mm_t (like Knot Resolver's mempools); per iteration
 *                knot_pkt_clear (releases the previous RRs to the mm, zeroes the 12-octet
 *                header), the header is restored and pkt->size set back, the bump allocator
 *                is rewound, then knot_pkt_parse(pkt, 0) (owner and rdata copied out
 *                decompressed into the mm, canonicalised, EDNS options indexed).
 *   ours build:  ours parse, then rd_msg_rebuild into a 64 KiB buffer (names unpacked, every
 *                compressible name compressed against every earlier name, OPT last).
 *   knot build:  knot parse, then knot_pkt_clear on a preallocated output packet, id and flags
 *                set, knot_pkt_put_question, knot_pkt_begin per section, knot_pkt_put of each
 *                parsed RR (KNOT_COMPR_HINT_NONE, KNOT_PF_NOTRUNC; knot's default compression:
 *                against the QNAME and the last written name), OPT reserved then put last.
 *
 * Usage: bench_wire [--runs N] [--secs S] [--no-variants]
 *        bench_wire --loop MSG parse|build ours|knot N     (for valgrind --tool=callgrind)
 *        bench_wire --dump                               (the messages, as dig prints them)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "resolverd/msg.h"

#define WIRE_CAP  8192
#define BUMP_CAP  (256 * 1024)
#define MAX_CASES 8

/* ---- message construction with our builder ---- */

typedef struct {
    const char *name;
    const char *what;
    uint8_t wire[WIRE_CAP];
    size_t len;
} msg_case_t;

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_wire: %s: %d (%s)\n", what, err, err < 0 ? rd_strerror(err) : "");
    exit(1);
}

static size_t name_of(const char *text, uint8_t *out)
{
    size_t n;
    int r = rd_name_from_text(text, strlen(text), NULL, out, &n);
    if (r) die(text, r);
    return n;
}

typedef struct {
    rd_mb_t b;
    rd_edns_build_t e;
    rd_edns_opt_t opt;
    uint8_t cookie[40];
} builder_t;

static void start(builder_t *bb, msg_case_t *mc, uint16_t id, uint16_t flags, const char *qname,
                  uint16_t qtype, uint16_t udp, size_t cookie_len)
{
    rd_mb_init(&bb->b, mc->wire, sizeof(mc->wire), RD_MSG_MAX, id, flags);
    memset(&bb->e, 0, sizeof(bb->e));
    bb->e.udp_size = udp;
    if (cookie_len) {
        for (size_t i = 0; i < cookie_len; i++) bb->cookie[i] = (uint8_t)(0x5a ^ (i * 37));
        bb->opt.code = RD_EDNS_COOKIE;
        bb->opt.len = (uint16_t)cookie_len;
        bb->opt.data = bb->cookie;
        bb->e.opts = &bb->opt;
        bb->e.nopts = 1;
    }
    int r = rd_mb_reserve(&bb->b, rd_edns_size(&bb->e));
    if (r) die("reserve", r);
    uint8_t q[RD_NAME_MAX];
    name_of(qname, q);
    r = rd_mb_question(&bb->b, q, qtype, RD_CLASS_IN);
    if (r) die("question", r);
}

static void rr(builder_t *bb, int sec, const char *owner, uint16_t type, uint32_t ttl,
               const void *rdata, size_t rdlen)
{
    uint8_t o[RD_NAME_MAX];
    name_of(owner, o);
    int r = rd_mb_rr(&bb->b, sec, o, type, RD_CLASS_IN, ttl, rdata, (uint16_t)rdlen);
    if (r) die(owner, r);
}

static void rr_name(builder_t *bb, int sec, const char *owner, uint16_t type, uint32_t ttl,
                    const char *target)
{
    uint8_t t[RD_NAME_MAX];
    size_t n = name_of(target, t);
    rr(bb, sec, owner, type, ttl, t, n);
}

static void finish(builder_t *bb, msg_case_t *mc)
{
    int r = rd_mb_opt(&bb->b, &bb->e);
    if (r) die("opt", r);
    mc->len = rd_mb_finish(&bb->b);
}

static void make_cases(msg_case_t *c, int *ncases)
{
    builder_t bb;
    int n = 0;
    char owner[64];

    /* (1) Referral from a .com server: RD=0 query, no AA, NS + glue, EDNS 4096. */
    c[n].name = "referral";
    c[n].what = "www.example.com A from .com: 4 NS + 4 A + 4 AAAA glue, OPT";
    start(&bb, &c[n], 0x1a2b, RD_F_QR, "www.example.com.", RD_TYPE_A, 4096, 0);
    for (int i = 1; i <= 4; i++) {
        snprintf(owner, sizeof(owner), "ns%d.example.com.", i);
        rr_name(&bb, RD_SEC_NS, "example.com.", RD_TYPE_NS, 172800, owner);
    }
    for (int i = 1; i <= 4; i++) {
        snprintf(owner, sizeof(owner), "ns%d.example.com.", i);
        uint8_t a[4] = {192, 0, 2, (uint8_t)(10 + i)};
        uint8_t aaaa[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, (uint8_t)i};
        rr(&bb, RD_SEC_AR, owner, RD_TYPE_A, 172800, a, 4);
        rr(&bb, RD_SEC_AR, owner, RD_TYPE_AAAA, 172800, aaaa, 16);
    }
    finish(&bb, &c[n++]);

    /* (1b) Referral from a root server to .com: 13 NS + 13 A + 13 AAAA glue, the message every
     * cold resolver reads first; 41 records, more than rd_msg_t holds inline. */
    c[n].name = "root-referral";
    c[n].what = "www.example.com A from the root: com. 13 NS + 13 A + 13 AAAA glue, OPT";
    start(&bb, &c[n], 0x0f1e, RD_F_QR, "www.example.com.", RD_TYPE_A, 1232, 0);
    for (int i = 0; i < 13; i++) {
        snprintf(owner, sizeof(owner), "%c.gtld-servers.net.", 'a' + i);
        rr_name(&bb, RD_SEC_NS, "com.", RD_TYPE_NS, 172800, owner);
    }
    for (int i = 0; i < 13; i++) {
        snprintf(owner, sizeof(owner), "%c.gtld-servers.net.", 'a' + i);
        uint8_t a[4] = {192, (uint8_t)(5 + i), 6, 30};
        uint8_t aaaa[16] = {0x20, 0x01, 0x05, 0x03, (uint8_t)i, 0x83, 0xeb, 0,
                            0,    0,    0,    0,    0,          0,    0,    0x30};
        rr(&bb, RD_SEC_AR, owner, RD_TYPE_A, 172800, a, 4);
        rr(&bb, RD_SEC_AR, owner, RD_TYPE_AAAA, 172800, aaaa, 16);
    }
    finish(&bb, &c[n++]);

    /* (2) CDN-style answer: 3 CNAMEs then 2 A, from a recursive server. */
    c[n].name = "cname";
    c[n].what = "www.example.com A: 3 CNAME + 2 A, OPT";
    start(&bb, &c[n], 0x2b3c, RD_F_QR | RD_F_RD | RD_F_RA, "www.example.com.", RD_TYPE_A, 1232, 0);
    rr_name(&bb, RD_SEC_AN, "www.example.com.", RD_TYPE_CNAME, 300, "www.example.com.edgekey.net.");
    rr_name(&bb, RD_SEC_AN, "www.example.com.edgekey.net.", RD_TYPE_CNAME, 21600,
            "www.example.com.edgekey.net.globalredir.akadns.net.");
    rr_name(&bb, RD_SEC_AN, "www.example.com.edgekey.net.globalredir.akadns.net.", RD_TYPE_CNAME,
            900, "e1234.dscb.akamaiedge.net.");
    {
        uint8_t a1[4] = {198, 51, 100, 17}, a2[4] = {198, 51, 100, 42};
        rr(&bb, RD_SEC_AN, "e1234.dscb.akamaiedge.net.", RD_TYPE_A, 20, a1, 4);
        rr(&bb, RD_SEC_AN, "e1234.dscb.akamaiedge.net.", RD_TYPE_A, 20, a2, 4);
    }
    finish(&bb, &c[n++]);

    /* (3) NXDOMAIN from the authoritative server, SOA for negative caching, server cookie. */
    c[n].name = "nxdomain";
    c[n].what = "nonexistent.example.com A: NXDOMAIN, SOA, OPT+cookie";
    start(&bb, &c[n], 0x3c4d, RD_F_QR | RD_F_AA | RD_RCODE_NXDOMAIN, "nonexistent.example.com.",
          RD_TYPE_A, 1232, 24);
    {
        uint8_t soa[2 * RD_NAME_MAX + 20];
        size_t k = name_of("ns.icann.org.", soa);
        k += name_of("noc.dns.icann.org.", soa + k);
        const uint32_t v[5] = {2024081474, 7200, 3600, 1209600, 3600};
        for (int i = 0; i < 5; i++) {
            soa[k++] = (uint8_t)(v[i] >> 24);
            soa[k++] = (uint8_t)(v[i] >> 16);
            soa[k++] = (uint8_t)(v[i] >> 8);
            soa[k++] = (uint8_t)v[i];
        }
        rr(&bb, RD_SEC_NS, "example.com.", RD_TYPE_SOA, 3600, soa, k);
    }
    finish(&bb, &c[n++]);

    /* (4) Large TXT answer (as over TCP): 10 records of 200 octets of rdata. */
    c[n].name = "txt";
    c[n].what = "example.com TXT: 10 x 200-octet TXT, OPT";
    start(&bb, &c[n], 0x4d5e, RD_F_QR | RD_F_AA | RD_F_RD, "example.com.", RD_TYPE_TXT, 1232, 0);
    for (int i = 0; i < 10; i++) {
        uint8_t t[200];
        t[0] = 199;
        int w = snprintf((char *)t + 1, sizeof(t) - 1, "site-verification-%02d=", i);
        for (int j = 1 + w; j < 200; j++)
            t[j] = (uint8_t) "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                [(j * 7 + i * 13) % 64];
        rr(&bb, RD_SEC_AN, "example.com.", RD_TYPE_TXT, 3600, t, sizeof(t));
    }
    finish(&bb, &c[n++]);

    /* (5) Typical client query: RD, AD (as dig sends), EDNS 1232 with a client cookie. */
    c[n].name = "query";
    c[n].what = "www.example.com A query: RD+AD, OPT+client cookie";
    start(&bb, &c[n], 0x5e6f, RD_F_RD | RD_F_AD, "www.example.com.", RD_TYPE_A, 1232, 8);
    finish(&bb, &c[n++]);

    *ncases = n;
}

/* ---- our side ---- */

typedef struct {
    const msg_case_t *mc;
    rd_arena_t arena;
    _Alignas(16) uint8_t block[4096];
    rd_msg_t m;
    size_t outlen;
    uint8_t out[RD_MSG_MAX];
} ours_t;

static void ours_init(ours_t *o, const msg_case_t *mc)
{
    memset(o, 0, sizeof(*o));
    o->mc = mc;
    rd_arena_init(&o->arena, o->block, sizeof(o->block), 0);
}

__attribute__((noinline)) static long loop_ours_parse(void *ctx, long n)
{
    ours_t *o = ctx;
    long acc = 0;
    for (long i = 0; i < n; i++) {
        rd_arena_reset(&o->arena);
        int r = rd_msg_parse(&o->m, o->mc->wire, o->mc->len, &o->arena);
        acc += r + o->m.count[3];
    }
    return acc;
}

__attribute__((noinline)) static long loop_ours_build(void *ctx, long n)
{
    ours_t *o = ctx;
    long acc = 0;
    for (long i = 0; i < n; i++) {
        rd_arena_reset(&o->arena);
        int r = rd_msg_parse(&o->m, o->mc->wire, o->mc->len, &o->arena);
        r |= rd_msg_rebuild(&o->m, o->out, sizeof(o->out), RD_MSG_MAX, &o->outlen);
        acc += r + (long)o->outlen;
    }
    return acc;
}

/* Exact comparison of two parsed messages: header, counts, and every record's owner, type,
 * class, TTL and uncompressed rdata. */
static int same_msg(const rd_msg_t *a, const rd_msg_t *b, char *why, size_t whylen)
{
    if (a->id != b->id || a->flags != b->flags) {
        snprintf(why, whylen, "header %04x/%04x vs %04x/%04x", a->id, a->flags, b->id, b->flags);
        return 0;
    }
    for (int s = 0; s < 4; s++) {
        if (a->count[s] != b->count[s]) {
            snprintf(why, whylen, "section %d count %u vs %u", s, a->count[s], b->count[s]);
            return 0;
        }
        for (unsigned i = 0; i < a->count[s]; i++) {
            const rd_rr_t *x = rd_msg_rr(a, s, i), *y = rd_msg_rr(b, s, i);
            uint8_t ox[RD_NAME_MAX], oy[RD_NAME_MAX];
            static uint8_t rx[RD_MSG_MAX], ry[RD_MSG_MAX];
            size_t p = x->owner, q = y->owner, lx, ly, dx, dy;
            if (rd_name_unpack(a->wire, a->len, &p, ox, &lx) ||
                rd_name_unpack(b->wire, b->len, &q, oy, &ly) || lx != ly ||
                memcmp(ox, oy, lx) != 0) {
                snprintf(why, whylen, "section %d record %u owner", s, i);
                return 0;
            }
            if (x->type != y->type || x->rclass != y->rclass || x->ttl != y->ttl) {
                snprintf(why, whylen, "section %d record %u type/class/ttl", s, i);
                return 0;
            }
            if (s == RD_SEC_QD) continue;
            if (x->type == RD_TYPE_OPT) {
                dx = x->rdlen, dy = y->rdlen;
                memcpy(rx, a->wire + x->rdata, dx);
                memcpy(ry, b->wire + y->rdata, dy);
            } else if (rd_rdata_unpack(a->wire, a->len, x->rdata, x->rdlen, x->type, rx, sizeof(rx),
                                       &dx) ||
                       rd_rdata_unpack(b->wire, b->len, y->rdata, y->rdlen, y->type, ry, sizeof(ry),
                                       &dy)) {
                snprintf(why, whylen, "section %d record %u rdata unpack", s, i);
                return 0;
            }
            if (dx != dy || memcmp(rx, ry, dx) != 0) {
                snprintf(why, whylen, "section %d record %u rdata differs", s, i);
                return 0;
            }
        }
    }
    return 1;
}

/* ---- libknot side ---- */

typedef struct {
    uint8_t *base, *cur, *end, *floor;
} bump_t;

static void *bump_alloc(void *ctx, size_t n)
{
    bump_t *b = ctx;
    n = (n + 15) & ~(size_t)15;
    if ((size_t)(b->end - b->cur) < n) return NULL;
    void *p = b->cur;
    b->cur += n;
    return p;
}

static void bump_free(void *p)
{
    (void)p; /* released all at once by rewinding to the floor */
}

typedef struct {
    const msg_case_t *mc;
    unsigned parse_flags;
    bool use_bump;
    bump_t bump;
    knot_mm_t mm;
    knot_pkt_t *in, *out;
    size_t outlen;
    uint8_t hdr[KNOT_WIRE_HEADER_SIZE];
    uint8_t inwire[WIRE_CAP];
    uint8_t outwire[RD_MSG_MAX];
} knot_t;

static inline int knot_parse_once(knot_t *k)
{
    knot_pkt_clear(k->in);
    memcpy(k->in->wire, k->hdr, KNOT_WIRE_HEADER_SIZE);
    k->in->size = k->mc->len;
    if (k->use_bump) k->bump.cur = k->bump.floor;
    return knot_pkt_parse(k->in, k->parse_flags);
}

static inline int knot_build_once(knot_t *k)
{
    knot_pkt_t *in = k->in, *out = k->out;
    knot_pkt_clear(out);
    knot_wire_set_id(out->wire, knot_wire_get_id(in->wire));
    out->wire[2] = in->wire[2];
    out->wire[3] = in->wire[3];
    int r = knot_pkt_put_question(out, knot_pkt_wire_qname(in), knot_pkt_qclass(in),
                                  knot_pkt_qtype(in));
    uint16_t optsz = 0;
    if (in->opt_rr) {
        optsz = (uint16_t)knot_edns_wire_size(in->opt_rr);
        r |= knot_pkt_reserve(out, optsz);
    }
    for (int s = KNOT_ANSWER; s <= KNOT_ADDITIONAL; s++) {
        r |= knot_pkt_begin(out, (knot_section_t)s);
        const knot_pktsection_t *sec = knot_pkt_section(in, (knot_section_t)s);
        for (uint16_t i = 0; i < sec->count; i++) {
            const knot_rrset_t *rrs = knot_pkt_rr(sec, i);
            if (rrs->type == KNOT_RRTYPE_OPT) continue;
            r |= knot_pkt_put(out, KNOT_COMPR_HINT_NONE, rrs, KNOT_PF_NOTRUNC);
        }
    }
    if (in->opt_rr) {
        r |= knot_pkt_reclaim(out, optsz);
        r |= knot_pkt_put(out, KNOT_COMPR_HINT_NONE, in->opt_rr, KNOT_PF_NOTRUNC);
    }
    k->outlen = out->size;
    return r;
}

__attribute__((noinline)) static long loop_knot_parse(void *ctx, long n)
{
    knot_t *k = ctx;
    long acc = 0;
    for (long i = 0; i < n; i++) {
        int r = knot_parse_once(k);
        acc += r + k->in->sections[KNOT_ADDITIONAL].count;
    }
    return acc;
}

__attribute__((noinline)) static long loop_knot_build(void *ctx, long n)
{
    knot_t *k = ctx;
    long acc = 0;
    for (long i = 0; i < n; i++) {
        int r = knot_parse_once(k);
        r |= knot_build_once(k);
        acc += r + (long)k->outlen;
    }
    return acc;
}

static knot_t *knot_new(const msg_case_t *mc, unsigned parse_flags, bool use_bump)
{
    knot_t *k = calloc(1, sizeof(*k));
    if (!k) die("calloc", RD_ENOMEM);
    k->mc = mc;
    k->parse_flags = parse_flags;
    k->use_bump = use_bump;
    memcpy(k->inwire, mc->wire, mc->len);
    memcpy(k->hdr, mc->wire, KNOT_WIRE_HEADER_SIZE);
    knot_mm_t *mm = NULL;
    if (use_bump) {
        k->bump.base = malloc(BUMP_CAP);
        if (!k->bump.base) die("malloc", RD_ENOMEM);
        k->bump.cur = k->bump.base;
        k->bump.end = k->bump.base + BUMP_CAP;
        k->mm.ctx = &k->bump;
        k->mm.alloc = bump_alloc;
        k->mm.free = bump_free;
        mm = &k->mm;
    }
    k->in = knot_pkt_new(k->inwire, (uint16_t)mc->len, mm);
    k->out = knot_pkt_new(k->outwire, sizeof(k->outwire), mm);
    if (!k->in || !k->out) die("knot_pkt_new", RD_ENOMEM);
    /* Warm-up: the first parse and build size knot's RR arrays; they stay below the floor, so
     * rewinding to it per iteration frees exactly the per-message data. */
    k->bump.floor = k->bump.cur;
    int r = knot_parse_once(k);
    if (r) {
        fprintf(stderr, "knot_pkt_parse(%s): %s\n", mc->name, knot_strerror(r));
        exit(1);
    }
    r = knot_build_once(k);
    if (r) {
        fprintf(stderr, "knot build(%s): %s\n", mc->name, knot_strerror(r));
        exit(1);
    }
    if (use_bump) k->bump.floor = k->bump.cur;
    return k;
}

static void knot_del(knot_t *k)
{
    /* With the bump allocator everything lives in one block; otherwise knot frees. */
    if (!k->use_bump) {
        knot_pkt_free(k->in);
        knot_pkt_free(k->out);
    }
    free(k->bump.base);
    free(k);
}

/* ---- correctness before timing ---- */

static void check(bool ok, const char *mc, const char *what, const char *why)
{
    if (ok) return;
    fprintf(stderr, "bench_wire: verification failed for %s: %s%s%s\n", mc, what, why ? ": " : "",
            why ? why : "");
    exit(1);
}

/* Parses knot's output back with a fresh packet and compares it RRset by RRset with what knot
 * parsed from the original. */
static void verify_knot_roundtrip(const msg_case_t *mc, knot_t *k)
{
    static uint8_t copy[RD_MSG_MAX];
    memcpy(copy, k->outwire, k->outlen);
    knot_pkt_t *p = knot_pkt_new(copy, (uint16_t)k->outlen, NULL);
    check(p != NULL, mc->name, "knot_pkt_new", NULL);
    int r = knot_pkt_parse(p, 0);
    check(r == KNOT_EOK, mc->name, "knot reparse of knot output", knot_strerror(r));
    check(knot_wire_get_id(p->wire) == knot_wire_get_id(k->in->wire) &&
              p->wire[2] == k->in->wire[2] && p->wire[3] == k->in->wire[3],
          mc->name, "knot output header", NULL);
    check(knot_pkt_qtype(p) == knot_pkt_qtype(k->in) &&
              knot_dname_is_equal(knot_pkt_wire_qname(p), knot_pkt_wire_qname(k->in)),
          mc->name, "knot output question", NULL);
    for (int s = KNOT_ANSWER; s <= KNOT_ADDITIONAL; s++) {
        const knot_pktsection_t *a = knot_pkt_section(k->in, (knot_section_t)s);
        const knot_pktsection_t *b = knot_pkt_section(p, (knot_section_t)s);
        check(a->count == b->count, mc->name, "knot output section count", NULL);
        for (uint16_t i = 0; i < a->count; i++) {
            const knot_rrset_t *x = knot_pkt_rr(a, i), *y = knot_pkt_rr(b, i);
            if (x->type == KNOT_RRTYPE_OPT) {
                check(y->type == KNOT_RRTYPE_OPT && x->rclass == y->rclass && x->ttl == y->ttl &&
                          x->rrs.rdata->len == y->rrs.rdata->len &&
                          memcmp(x->rrs.rdata->data, y->rrs.rdata->data, x->rrs.rdata->len) == 0,
                      mc->name, "knot output OPT", NULL);
                continue;
            }
            check(knot_rrset_equal(x, y, true), mc->name, "knot output RR differs", NULL);
        }
    }
    knot_pkt_free(p);
}

static void verify(const msg_case_t *mc, ours_t *o, knot_t *k)
{
    char why[160] = "";
    rd_msg_t orig, back;
    rd_arena_t arena; /* heap blocks, freed at the end */
    rd_arena_init(&arena, NULL, 0, 0);
    int r = rd_msg_parse(&orig, mc->wire, mc->len, &arena);
    check(r == 0, mc->name, "rd_msg_parse", rd_strerror(r));
    /* Our rebuild parses back to the same message, record for record. */
    check(loop_ours_build(o, 1) == (long)o->outlen, mc->name, "ours parse+rebuild", NULL);
    r = rd_msg_parse(&back, o->out, o->outlen, &arena);
    check(r == 0, mc->name, "rd_msg_parse of our rebuilt message", rd_strerror(r));
    check(same_msg(&orig, &back, why, sizeof(why)), mc->name, "our rebuilt message", why);
    /* knot sees the same counts as we do in the original. */
    check(loop_knot_build(k, 1) == (long)k->outlen, mc->name, "knot parse+build", NULL);
    for (int s = KNOT_ANSWER; s <= KNOT_ADDITIONAL; s++)
        check(knot_pkt_section(k->in, (knot_section_t)s)->count == orig.count[s + 1], mc->name,
              "knot section count differs from ours", NULL);
    verify_knot_roundtrip(mc, k);
    /* Interop: knot parses our output, we parse knot's output, both equal to the original. */
    {
        static uint8_t copy[RD_MSG_MAX];
        memcpy(copy, o->out, o->outlen);
        knot_pkt_t *p = knot_pkt_new(copy, (uint16_t)o->outlen, NULL);
        check(p && knot_pkt_parse(p, 0) == KNOT_EOK, mc->name, "knot parse of our output", NULL);
        for (int s = KNOT_ANSWER; s <= KNOT_ADDITIONAL; s++)
            check(knot_pkt_section(p, (knot_section_t)s)->count == orig.count[s + 1], mc->name,
                  "knot count of our output", NULL);
        knot_pkt_free(p);
    }
    r = rd_msg_parse(&back, k->outwire, k->outlen, &arena);
    check(r == 0, mc->name, "rd_msg_parse of knot's output", rd_strerror(r));
    check(same_msg(&orig, &back, why, sizeof(why)), mc->name, "knot's output vs original", why);
    /* Timed loops return consistent results. */
    check(loop_ours_parse(o, 3) == 3L * orig.count[3], mc->name, "ours parse loop", NULL);
    check(loop_knot_parse(k, 3) == 3L * orig.count[3], mc->name, "knot parse loop", NULL);
    rd_arena_free(&arena);
}

/* ---- timing ---- */

typedef long (*loop_fn)(void *ctx, long n);
static volatile long sink;

/* CPU time of this thread, not wall time: on a shared 2-core VM other processes taking the
 * CPU do not count against whichever side happened to be running (hypervisor steal still
 * does, and caches are shared, so the spread column stays honest about noise). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double time_loop(loop_fn f, void *ctx, long n)
{
    double t0 = now();
    sink += f(ctx, n);
    return now() - t0;
}

static long calibrate(loop_fn f, void *ctx, double secs)
{
    long n = 16;
    for (;;) {
        double t = time_loop(f, ctx, n);
        if (t >= 0.05 || n > (1L << 40)) {
            double want = (double)n * secs / (t > 0 ? t : 1e-9);
            return want < 1 ? 1 : (long)want;
        }
        n *= 2;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    double median, lo, hi; /* messages per second */
} rate_t;

static rate_t summarize(double *rates, int runs)
{
    qsort(rates, (size_t)runs, sizeof(double), cmp_double);
    rate_t r = {rates[runs / 2], rates[0], rates[runs - 1]};
    if (runs % 2 == 0) r.median = (rates[runs / 2 - 1] + rates[runs / 2]) / 2;
    return r;
}

/* Runs two loops alternately (A B A B ...) so drift on a shared machine hits both alike. */
static void measure_pair(loop_fn fa, void *ca, loop_fn fb, void *cb, int runs, double secs,
                         rate_t *ra, rate_t *rb)
{
    double xa[64], xb[64];
    long na = calibrate(fa, ca, secs), nb = calibrate(fb, cb, secs);
    for (int i = 0; i < runs; i++) {
        xa[i] = (double)na / time_loop(fa, ca, na);
        xb[i] = (double)nb / time_loop(fb, cb, nb);
    }
    *ra = summarize(xa, runs);
    *rb = summarize(xb, runs);
}

static const char *fmt_rate(double r, char *buf, size_t cap)
{
    /* thousands separators keep wide numbers readable in the table */
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%.0f", r);
    size_t n = strlen(tmp), k = 0;
    for (size_t i = 0; i < n && k + 2 < cap; i++) {
        buf[k++] = tmp[i];
        if ((n - i - 1) % 3 == 0 && i + 1 < n) buf[k++] = ',';
    }
    buf[k] = 0;
    return buf;
}

static double spread(const rate_t *r)
{
    return r->median > 0 ? 100.0 * (r->hi - r->lo) / r->median : 0;
}

static void machine_note(void)
{
    struct utsname u;
    char model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof(line), f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *p = strchr(line, ':');
                if (p) {
                    p += 2;
                    p[strcspn(p, "\n")] = 0;
                    snprintf(model, sizeof(model), "%s", p);
                }
                break;
            }
        }
        fclose(f);
    }
    uname(&u);
    printf("- machine: %s, %ld online CPUs, %s %s (shared VM: expect noise; the ratios, "
           "measured alternately in the same run, are what to compare)\n",
           model, sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release);
}

#ifndef BENCH_CC
#define BENCH_CC __VERSION__
#endif

int main(int argc, char **argv)
{
    int runs = 5;
    double secs = 0.4;
    bool variants = true;
    static msg_case_t cases[MAX_CASES];
    int ncases = 0;
    make_cases(cases, &ncases);

    if (argc == 2 && strcmp(argv[1], "--dump") == 0) {
        static char text[65536];
        for (int i = 0; i < ncases; i++) {
            rd_msg_t m;
            rd_arena_t arena;
            rd_arena_init(&arena, NULL, 0, 0);
            int r = rd_msg_parse(&m, cases[i].wire, cases[i].len, &arena);
            if (!r) r = rd_msg_to_text(&m, text, sizeof(text));
            rd_arena_free(&arena);
            if (r < 0) die(cases[i].name, r);
            printf("=== %s (%zu octets): %s\n%s\n", cases[i].name, cases[i].len, cases[i].what,
                   text);
        }
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--loop") == 0) {
        if (argc != 6) {
            fprintf(stderr, "usage: %s --loop MSG parse|build ours|knot N\n", argv[0]);
            return 2;
        }
        const msg_case_t *mc = NULL;
        for (int i = 0; i < ncases; i++)
            if (strcmp(cases[i].name, argv[2]) == 0) mc = &cases[i];
        bool build = strcmp(argv[3], "build") == 0, ours = strcmp(argv[4], "ours") == 0;
        if (!mc || (!build && strcmp(argv[3], "parse") != 0) ||
            (!ours && strcmp(argv[4], "knot") != 0)) {
            fprintf(stderr, "bench_wire: unknown message or operation\n");
            return 2;
        }
        long n = atol(argv[5]);
        static ours_t o;
        ours_init(&o, mc);
        knot_t *k = knot_new(mc, 0, true);
        verify(mc, &o, k);
        long acc = ours ? (build ? loop_ours_build(&o, n) : loop_ours_parse(&o, n))
                        : (build ? loop_knot_build(k, n) : loop_knot_parse(k, n));
        printf("%s %s %s x%ld: %ld\n", mc->name, argv[3], argv[4], n, acc);
        knot_del(k);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--secs") == 0 && i + 1 < argc) {
            secs = atof(argv[++i]);
        } else if (strcmp(argv[i], "--no-variants") == 0) {
            variants = false;
        } else {
            fprintf(stderr,
                    "usage: %s [--runs N] [--secs S] [--no-variants]\n"
                    "       %s --loop MSG parse|build ours|knot N\n",
                    argv[0], argv[0]);
            return 2;
        }
    }
    if (runs < 1 || runs > 64 || secs <= 0) {
        fprintf(stderr, "bench_wire: --runs 1..64, --secs > 0\n");
        return 2;
    }

    static ours_t ours[MAX_CASES];
    knot_t *knot[MAX_CASES];
    for (int i = 0; i < ncases; i++) {
        ours_init(&ours[i], &cases[i]);
        knot[i] = knot_new(&cases[i], 0, true);
        verify(&cases[i], &ours[i], knot[i]);
    }
    fprintf(stderr, "bench_wire: %d messages verified (round trips and interop)\n", ncases);

    char date[64];
    time_t t = time(NULL);
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
    printf("## bench_wire: resolverd codec vs libknot %d.%d.%d\n\n", KNOT_VERSION_MAJOR,
           KNOT_VERSION_MINOR, KNOT_VERSION_PATCH);
    printf("- date: %s\n", date);
    if (getenv("BENCH_TREE")) printf("- tree: %s\n", getenv("BENCH_TREE"));
    machine_note();
    printf("- compiler: gcc %s, CMake Release (-O3); libknot from the distribution package\n",
           BENCH_CC);
    printf("- method: messages per second of thread CPU time (CLOCK_THREAD_CPUTIME_ID), median "
           "of %d runs of ~%.2f s each per cell; ours and knot alternate run by run; spread = "
           "(max-min)/median over the runs\n\n",
           runs, secs);

    printf("| message | octets | operation | resolverd msg/s | libknot msg/s | ours/knot | "
           "spread ours/knot | target |\n");
    printf("|---|---:|---|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < ncases; i++) {
        for (int op = 0; op < 2; op++) {
            rate_t ro, rk;
            measure_pair(op ? loop_ours_build : loop_ours_parse, &ours[i],
                         op ? loop_knot_build : loop_knot_parse, knot[i], runs, secs, &ro, &rk);
            double ratio = ro.median / rk.median;
            const char *target = "";
            if (op == 0 || strcmp(cases[i].name, "referral") == 0)
                target = ratio >= 1.0 ? ">= 1.0x: met" : ">= 1.0x: **missed**";
            char b1[32], b2[32];
            printf("| %s | %zu | %s | %s | %s | %.2fx | %.0f%% / %.0f%% | %s |\n", cases[i].name,
                   cases[i].len, op ? "parse+build" : "parse", fmt_rate(ro.median, b1, sizeof(b1)),
                   fmt_rate(rk.median, b2, sizeof(b2)), ratio, spread(&ro), spread(&rk), target);
            fflush(stdout);
        }
    }

    printf("\nRebuilt message size (compression quality):\n\n");
    printf("| message | original | resolverd rebuild | libknot rebuild |\n|---|---:|---:|---:|\n");
    for (int i = 0; i < ncases; i++)
        printf("| %s | %zu | %zu | %zu |\n", cases[i].name, cases[i].len, ours[i].outlen,
               knot[i]->outlen);

    if (variants) {
        printf("\nlibknot parse variants (same loop, for context): `NOCANON` skips knot's "
               "lowercasing of owners and rdata names (our parse never rewrites names); "
               "`malloc` uses knot's default allocator (knot_pkt_new(..., NULL)) instead of the "
               "bump allocator.\n\n");
        printf("| message | resolverd parse msg/s | knot flags=0, bump | knot NOCANON, bump | "
               "knot flags=0, malloc |\n|---|---:|---:|---:|---:|\n");
        for (int i = 0; i < ncases; i++) {
            knot_t *kn = knot_new(&cases[i], KNOT_PF_NOCANON, true);
            knot_t *km = knot_new(&cases[i], 0, false);
            rate_t ro, rk, rn, rm;
            measure_pair(loop_ours_parse, &ours[i], loop_knot_parse, knot[i], runs, secs, &ro, &rk);
            measure_pair(loop_knot_parse, kn, loop_knot_parse, km, runs, secs, &rn, &rm);
            char b[4][32];
            printf("| %s | %s | %s | %s | %s |\n", cases[i].name, fmt_rate(ro.median, b[0], 32),
                   fmt_rate(rk.median, b[1], 32), fmt_rate(rn.median, b[2], 32),
                   fmt_rate(rm.median, b[3], 32));
            fflush(stdout);
            knot_del(kn);
            knot_del(km);
        }
    }
    for (int i = 0; i < ncases; i++) knot_del(knot[i]);
    return (int)(sink & 0);
}
