/* RRset and negative cache (src/cache/): keys (case, type, class), TTL policy (RFC 2181 s8,
 * RFC 2308 s5, config clamps), credibility (RFC 2181 s5.4.1), RRSIGs and DO, negative entries
 * and RFC 8020, the byte bound under a flood (accounted and real), eviction order, and
 * concurrent use. Time is injected: `now` is whatever the test says. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache/cache_int.h"
#include "resolverd/cache.h"
#include "resolverd/name.h"
#include "resolverd/rrtype.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
/* from sanitizer/allocator_interface.h, which gcc does not ship */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* ---- helpers ---- */

static const uint8_t KEY[RD_CACHE_KEY_LEN] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

typedef struct {
    uint8_t w[RD_NAME_MAX];
} wname_t;

static wname_t N(const char *text)
{
    wname_t n;
    size_t len;
    int r = rd_name_from_text(text, strlen(text), NULL, n.w, &len);
    cr_assert_eq(r, 0, "%s: %s", text, rd_strerror(r));
    return n;
}

static rd_cache_t *new_cache(size_t size, const rd_cache_limits_t *lim)
{
    rd_cache_t *c;
    int r = rd_cache_new(size, KEY, lim, &c);
    cr_assert_eq(r, 0, "rd_cache_new: %s", rd_strerror(r));
    return c;
}

/* An A RRset of one address at owner. */
static int put_a(rd_cache_t *c, const char *owner, uint32_t addr, uint32_t ttl, uint8_t rank,
                 uint64_t now)
{
    wname_t n = N(owner);
    uint8_t ip[4] = {(uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8),
                     (uint8_t)addr};
    rd_cache_rdata_t rr = {ip, 4};
    rd_cache_rrset_t in = {.owner = n.w,
                           .type = RD_TYPE_A,
                           .rclass = RD_CLASS_IN,
                           .ttl = ttl,
                           .rank = rank,
                           .count = 1,
                           .rdata = &rr};
    return rd_cache_insert_rrset(c, &in, now);
}

/* Looks up the A RRset at owner: RD_ENOTFOUND, or 0 with its first address and TTL. */
static int get_a(rd_cache_t *c, const char *owner, uint64_t now, uint32_t *addr, uint32_t *ttl)
{
    uint8_t buf[1024];
    rd_arena_t a;
    rd_arena_init(&a, buf, sizeof(buf), 0);
    wname_t n = N(owner);
    rd_cache_rrset_t out;
    int r = rd_cache_lookup_rrset(c, n.w, RD_TYPE_A, RD_CLASS_IN, now, false, &a, &out);
    if (r == 0) {
        cr_assert_geq(out.count, 1);
        cr_assert_eq(out.rdata[0].len, 4);
        const uint8_t *p = out.rdata[0].data;
        if (addr) *addr = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (ttl) *ttl = out.ttl;
    }
    rd_arena_free(&a);
    return r;
}

/* SOA rdata: ns.example.com. host.example.com. serial refresh retry expire minimum */
static size_t soa_rdata(uint8_t *out, uint32_t minimum)
{
    wname_t m = N("ns.example.com."), r = N("host.example.com.");
    size_t ml = rd_name_len(m.w), rl = rd_name_len(r.w);
    memcpy(out, m.w, ml);
    memcpy(out + ml, r.w, rl);
    uint32_t v[5] = {2024010101, 7200, 3600, 1209600, minimum};
    uint8_t *p = out + ml + rl;
    for (int i = 0; i < 5; i++, p += 4) {
        p[0] = (uint8_t)(v[i] >> 24);
        p[1] = (uint8_t)(v[i] >> 16);
        p[2] = (uint8_t)(v[i] >> 8);
        p[3] = (uint8_t)v[i];
    }
    return (size_t)(p - out);
}

static int put_neg(rd_cache_t *c, const char *owner, uint8_t kind, uint16_t type, uint32_t soa_ttl,
                   uint32_t minimum, uint8_t rank, uint64_t now)
{
    wname_t n = N(owner), z = N("example.com.");
    uint8_t soa[128];
    size_t sl = soa_rdata(soa, minimum);
    static const uint8_t sig[] = {0, 6, 8, 2, 0, 0, 14, 16, 'f', 'a', 'k', 'e'};
    rd_cache_rdata_t sigs[1] = {{sig, sizeof(sig)}};
    rd_cache_neg_t in = {.owner = n.w,
                         .type = type,
                         .rclass = RD_CLASS_IN,
                         .kind = kind,
                         .rank = rank,
                         .ttl = soa_ttl,
                         .soa_owner = z.w,
                         .soa = {soa, (uint16_t)sl},
                         .nsigs = 1,
                         .rrsigs = sigs};
    return rd_cache_insert_negative(c, &in, now);
}

static void name_eq_text(const uint8_t *w, const char *text)
{
    char t[RD_NAME_TEXT_MAX];
    cr_assert_gt(rd_name_to_text(w, t, sizeof(t)), 0);
    cr_assert_str_eq(t, text);
}

/* ---- the keyed hash ---- */

Test(cache, siphash_reference_vectors)
{
    /* SipHash paper, appendix and reference test.c: key 00..0f, message 00..n-1 (2-4) */
    uint8_t msg[16];
    for (int i = 0; i < 16; i++) msg[i] = (uint8_t)i;
    cr_assert_eq(rd__siphash(KEY, msg, 0, 2, 4), 0x726fdb47dd0e0e31ULL);
    cr_assert_eq(rd__siphash(KEY, msg, 1, 2, 4), 0x74f839c593dc67fdULL);
    cr_assert_eq(rd__siphash(KEY, msg, 2, 2, 4), 0x0d6c8009d9a94f5aULL);
    cr_assert_eq(rd__siphash(KEY, msg, 8, 2, 4), 0x93f5f5799a932462ULL);
    cr_assert_eq(rd__siphash(KEY, msg, 15, 2, 4), 0xa129ca6149be45e5ULL);
    cr_assert_eq(rd__siphash(KEY, msg, 16, 2, 4), 0x3f2acc7f57c29bdbULL);
    /* 1-3 is the same construction with fewer rounds; the key changes everything */
    cr_assert_eq(rd__siphash13(KEY, msg, 15), rd__siphash(KEY, msg, 15, 1, 3));
    uint8_t k2[16];
    memcpy(k2, KEY, 16);
    k2[15] ^= 1;
    cr_assert_neq(rd__siphash13(KEY, msg, 15), rd__siphash13(k2, msg, 15));
}

/* ---- creation ---- */

Test(cache, new_checks_arguments)
{
    rd_cache_t *c = (rd_cache_t *)1;
    cr_assert_eq(rd_cache_new(1000, KEY, NULL, &c), RD_EINVAL);
    cr_assert_null(c);
    cr_assert_eq(rd_cache_new(1 << 20, NULL, NULL, &c), RD_EINVAL);
    rd_cache_limits_t bad = {.min_ttl = 100, .max_ttl = 10, .max_negative_ttl = 10};
    cr_assert_eq(rd_cache_new(1 << 20, KEY, &bad, &c), RD_EINVAL);

    c = new_cache(4 << 20, NULL);
    rd_cache_stats_t st;
    rd_cache_stats(c, &st);
    cr_assert_eq(st.limit, (size_t)4 << 20);
    cr_assert_eq(st.entries, 0);
    cr_assert_eq(st.shards, 32);
    /* the tables (1/16) are accounted from the start; the rings as they fill */
    cr_assert_gt(st.bytes, st.limit / 20);
    cr_assert_lt(st.bytes, st.limit / 10);
    rd_cache_free(c);
    rd_cache_free(NULL);

    c = new_cache((size_t)64 << 20, NULL);
    rd_cache_stats(c, &st);
    cr_assert_eq(st.shards, 512);
    rd_cache_free(c);
}

/* ---- positive entries ---- */

Test(cache, insert_and_lookup)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    wname_t n = N("www.example.com.");
    uint8_t ip1[4] = {192, 0, 2, 1}, ip2[4] = {192, 0, 2, 2};
    rd_cache_rdata_t rr[2] = {{ip1, 4}, {ip2, 4}};
    rd_cache_rrset_t in = {.owner = n.w,
                           .type = RD_TYPE_A,
                           .rclass = RD_CLASS_IN,
                           .ttl = 300,
                           .rank = RD_CACHE_RANK_AUTH_ANSWER,
                           .count = 2,
                           .rdata = rr};
    cr_assert_eq(rd_cache_insert_rrset(c, &in, 1000), 0);

    uint8_t buf[512];
    rd_arena_t a;
    rd_arena_init(&a, buf, sizeof(buf), 0);
    rd_cache_rrset_t out;
    cr_assert_eq(rd_cache_lookup_rrset(c, n.w, RD_TYPE_A, RD_CLASS_IN, 1000, true, &a, &out), 0);
    name_eq_text(out.owner, "www.example.com.");
    cr_assert_eq(out.type, RD_TYPE_A);
    cr_assert_eq(out.rclass, RD_CLASS_IN);
    cr_assert_eq(out.ttl, 300);
    cr_assert_eq(out.rank, RD_CACHE_RANK_AUTH_ANSWER);
    cr_assert_eq(out.security, RD_CACHE_SEC_UNCHECKED);
    cr_assert_eq(out.count, 2);
    cr_assert_eq(out.nsigs, 0);
    cr_assert_null(out.rrsigs);
    cr_assert_eq(out.rdata[0].len, 4);
    cr_assert_eq(out.rdata[1].len, 4);
    cr_assert_arr_eq(out.rdata[0].data, ip1, 4);
    cr_assert_arr_eq(out.rdata[1].data, ip2, 4);
    /* the copy is the caller's: it lives in the arena, not in the cache */
    cr_assert(out.rdata[0].data >= buf && out.rdata[0].data < buf + sizeof(buf));

    /* the key is owner, type and class */
    cr_assert_eq(rd_cache_lookup_rrset(c, n.w, RD_TYPE_AAAA, RD_CLASS_IN, 1000, true, &a, &out),
                 RD_ENOTFOUND);
    cr_assert_eq(rd_cache_lookup_rrset(c, n.w, RD_TYPE_A, RD_CLASS_CH, 1000, true, &a, &out),
                 RD_ENOTFOUND);
    wname_t other = N("ww.example.com.");
    cr_assert_eq(rd_cache_lookup_rrset(c, other.w, RD_TYPE_A, RD_CLASS_IN, 1000, true, &a, &out),
                 RD_ENOTFOUND);

    rd_cache_stats_t st;
    rd_cache_stats(c, &st);
    cr_assert_eq(st.entries, 1);
    cr_assert_eq(st.inserts, 1);
    cr_assert_eq(st.hits, 1);
    cr_assert_eq(st.misses, 3);

    /* an arena too small for the copy: RD_ENOMEM, and the entry is still there */
    uint8_t tiny[16];
    rd_arena_t t;
    rd_arena_init(&t, tiny, sizeof(tiny), 8);
    cr_assert_eq(rd_cache_lookup_rrset(c, n.w, RD_TYPE_A, RD_CLASS_IN, 1000, true, &t, &out),
                 RD_ENOMEM);
    rd_arena_free(&t);
    cr_assert_eq(get_a(c, "www.example.com.", 1000, NULL, NULL), 0);

    rd_arena_free(&a);
    rd_cache_free(c);
}

Test(cache, keys_ignore_case)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    cr_assert_eq(put_a(c, "WwW.ExAmPlE.CoM.", 0x0a000001, 60, RD_CACHE_RANK_ANSWER, 0), 0);
    uint32_t addr;
    cr_assert_eq(get_a(c, "www.example.com.", 0, &addr, NULL), 0);
    cr_assert_eq(addr, 0x0a000001);
    cr_assert_eq(get_a(c, "WWW.EXAMPLE.COM.", 0, &addr, NULL), 0);
    /* same key: a differently cased insert replaces the entry, it does not add one */
    cr_assert_eq(put_a(c, "www.EXAMPLE.com.", 0x0a000002, 60, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "Www.Example.Com.", 0, &addr, NULL), 0);
    cr_assert_eq(addr, 0x0a000002);
    rd_cache_stats_t st;
    rd_cache_stats(c, &st);
    cr_assert_eq(st.entries, 1);
    rd_cache_free(c);
}

Test(cache, ttl_counts_down_and_expires)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    cr_assert_eq(put_a(c, "a.example.", 1, 300, RD_CACHE_RANK_ANSWER, 1000), 0);
    uint32_t ttl;
    cr_assert_eq(get_a(c, "a.example.", 1000, NULL, &ttl), 0);
    cr_assert_eq(ttl, 300);
    cr_assert_eq(get_a(c, "a.example.", 1100, NULL, &ttl), 0);
    cr_assert_eq(ttl, 200);
    cr_assert_eq(get_a(c, "a.example.", 1299, NULL, &ttl), 0);
    cr_assert_eq(ttl, 1);
    /* at TTL 0 it is gone, and the lookup that found it expired freed it */
    cr_assert_eq(get_a(c, "a.example.", 1300, NULL, &ttl), RD_ENOTFOUND);
    rd_cache_stats_t st;
    rd_cache_stats(c, &st);
    cr_assert_eq(st.entries, 0);
    cr_assert_eq(st.expired, 1);
    rd_cache_free(c);
}

Test(cache, ttl_clamps)
{
    rd_cache_limits_t lim = {.min_ttl = 60, .max_ttl = 3600, .max_negative_ttl = 900};
    rd_cache_t *c = new_cache(1 << 20, &lim);
    uint32_t ttl;
    cr_assert_eq(put_a(c, "low.example.", 1, 5, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "low.example.", 0, NULL, &ttl), 0);
    cr_assert_eq(ttl, 60);
    cr_assert_eq(put_a(c, "high.example.", 1, 100000, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "high.example.", 0, NULL, &ttl), 0);
    cr_assert_eq(ttl, 3600);
    cr_assert_eq(put_a(c, "mid.example.", 1, 1234, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "mid.example.", 0, NULL, &ttl), 0);
    cr_assert_eq(ttl, 1234);
    /* cache-min-ttl also raises a TTL of 0: the operator asked for it */
    cr_assert_eq(put_a(c, "zero.example.", 1, 0, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "zero.example.", 0, NULL, &ttl), 0);
    cr_assert_eq(ttl, 60);
    rd_cache_free(c);

    /* defaults: 0 .. 86400; TTL 0 is not cached (RFC 1035 s3.2.1) */
    c = new_cache(1 << 20, NULL);
    cr_assert_eq(put_a(c, "zero.example.", 1, 0, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "zero.example.", 0, NULL, &ttl), RD_ENOTFOUND);
    cr_assert_eq(put_a(c, "week.example.", 1, 604800, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "week.example.", 0, NULL, &ttl), 0);
    cr_assert_eq(ttl, 86400);
    rd_cache_free(c);
}

/* What the engine shows a client for data just received must be what an insert stores. */
Test(cache, ttl_policy_functions_match_inserts)
{
    rd_cache_limits_t lim = {.min_ttl = 60, .max_ttl = 3600, .max_negative_ttl = 900};
    rd_cache_t *c = new_cache(1 << 20, &lim);
    static const uint32_t in[] = {0, 5, 60, 1234, 3600, 100000, 0x80000000u, 0xffffffffu};
    for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char owner[32];
        snprintf(owner, sizeof(owner), "t%u.example.", i);
        uint32_t ttl;
        cr_assert_eq(put_a(c, owner, 1, in[i], RD_CACHE_RANK_ANSWER, 0), 0);
        cr_assert_eq(get_a(c, owner, 0, NULL, &ttl), 0);
        cr_assert_eq(rd_cache_ttl_positive(c, in[i]), ttl, "TTL %u", in[i]);
    }
    /* RFC 2308 s5: min(SOA TTL, MINIMUM), then cache-max-negative-ttl */
    cr_assert_eq(rd_cache_ttl_negative(c, 3600, 300), 300);
    cr_assert_eq(rd_cache_ttl_negative(c, 100, 300), 100);
    cr_assert_eq(rd_cache_ttl_negative(c, 3600, 7200), 900);
    cr_assert_eq(rd_cache_ttl_negative(c, 0x80000000u, 300), 0);
    /* a reload's new policy applies at once */
    rd_cache_limits_t lim2 = {.min_ttl = 0, .max_ttl = 100, .max_negative_ttl = 30};
    cr_assert_eq(rd_cache_set_limits(c, &lim2), 0);
    cr_assert_eq(rd_cache_ttl_positive(c, 3600), 100);
    cr_assert_eq(rd_cache_ttl_positive(c, 5), 5);
    cr_assert_eq(rd_cache_ttl_negative(c, 3600, 300), 30);
    rd_cache_free(c);
}

Test(cache, ttl_over_2_31_is_zero)
{
    /* RFC 2181 s8 */
    rd_cache_t *c = new_cache(1 << 20, NULL);
    uint32_t ttl;
    cr_assert_eq(put_a(c, "big.example.", 1, 0x80000000u, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "big.example.", 0, NULL, &ttl), RD_ENOTFOUND);
    cr_assert_eq(put_a(c, "max.example.", 1, 0xffffffffu, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "max.example.", 0, NULL, &ttl), RD_ENOTFOUND);
    /* 2^31-1 is a real TTL, then capped by cache-max-ttl */
    cr_assert_eq(put_a(c, "edge.example.", 1, 0x7fffffffu, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "edge.example.", 0, NULL, &ttl), 0);
    cr_assert_eq(ttl, 86400);
    rd_cache_free(c);

    rd_cache_limits_t lim = {.min_ttl = 30, .max_ttl = 0xffffffffu, .max_negative_ttl = 3600};
    c = new_cache(1 << 20, &lim);
    cr_assert_eq(put_a(c, "big.example.", 1, 0x80000000u, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "big.example.", 0, NULL, &ttl), 0);
    cr_assert_eq(ttl, 30); /* counted as 0, then raised to cache-min-ttl */
    cr_assert_eq(put_a(c, "edge.example.", 1, 0x7fffffffu, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "edge.example.", 0, NULL, &ttl), 0);
    cr_assert_eq(ttl, 0x7fffffffu); /* a max-ttl above 2^31-1 is 2^31-1 */
    rd_cache_free(c);
}

/* ---- credibility, RFC 2181 s5.4.1 ---- */

Test(cache, authoritative_answer_replaces_glue)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    uint32_t addr;
    cr_assert_eq(put_a(c, "ns1.example.", 1, 3600, RD_CACHE_RANK_ADDITIONAL, 0), 0);
    cr_assert_eq(put_a(c, "ns1.example.", 2, 3600, RD_CACHE_RANK_AUTHORITY, 0), 0);
    cr_assert_eq(get_a(c, "ns1.example.", 0, &addr, NULL), 0);
    cr_assert_eq(addr, 2);
    cr_assert_eq(put_a(c, "ns1.example.", 3, 3600, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "ns1.example.", 0, &addr, NULL), 0);
    cr_assert_eq(addr, 3);
    cr_assert_eq(put_a(c, "ns1.example.", 4, 3600, RD_CACHE_RANK_AUTH_AUTHORITY, 0), 0);
    cr_assert_eq(get_a(c, "ns1.example.", 0, &addr, NULL), 0);
    cr_assert_eq(addr, 4);
    cr_assert_eq(put_a(c, "ns1.example.", 5, 3600, RD_CACHE_RANK_AUTH_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "ns1.example.", 0, &addr, NULL), 0);
    cr_assert_eq(addr, 5);
    /* equal rank: the newer data wins (a refresh) */
    cr_assert_eq(put_a(c, "ns1.example.", 6, 3600, RD_CACHE_RANK_AUTH_ANSWER, 10), 0);
    uint32_t ttl;
    cr_assert_eq(get_a(c, "ns1.example.", 10, &addr, &ttl), 0);
    cr_assert_eq(addr, 6);
    cr_assert_eq(ttl, 3600);
    rd_cache_free(c);
}

Test(cache, glue_never_replaces_authoritative_answer)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    uint32_t addr, ttl;
    cr_assert_eq(put_a(c, "ns1.example.", 5, 300, RD_CACHE_RANK_AUTH_ANSWER, 0), 0);
    const uint8_t lower[] = {RD_CACHE_RANK_ADDITIONAL, RD_CACHE_RANK_AUTHORITY,
                             RD_CACHE_RANK_ANSWER, RD_CACHE_RANK_AUTH_AUTHORITY};
    for (size_t i = 0; i < sizeof(lower); i++) {
        cr_assert_eq(put_a(c, "ns1.example.", 100 + (uint32_t)i, 86400, lower[i], 10), 0);
        cr_assert_eq(get_a(c, "ns1.example.", 10, &addr, &ttl), 0);
        cr_assert_eq(addr, 5, "rank %u replaced an authoritative answer", lower[i]);
        cr_assert_eq(ttl, 290);
    }
    /* once the credible entry has expired, anything may take its place */
    cr_assert_eq(put_a(c, "ns1.example.", 7, 300, RD_CACHE_RANK_ADDITIONAL, 300), 0);
    cr_assert_eq(get_a(c, "ns1.example.", 300, &addr, NULL), 0);
    cr_assert_eq(addr, 7);
    rd_cache_free(c);
}

Test(cache, ttl_zero_insert_replaces_what_it_outranks)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    cr_assert_eq(put_a(c, "a.example.", 1, 300, RD_CACHE_RANK_ANSWER, 0), 0);
    cr_assert_eq(put_a(c, "a.example.", 2, 0, RD_CACHE_RANK_ADDITIONAL, 0), 0);
    cr_assert_eq(get_a(c, "a.example.", 0, NULL, NULL), 0);
    cr_assert_eq(put_a(c, "a.example.", 2, 0, RD_CACHE_RANK_AUTH_ANSWER, 0), 0);
    cr_assert_eq(get_a(c, "a.example.", 0, NULL, NULL), RD_ENOTFOUND);
    rd_cache_free(c);
}

/* ---- RRSIGs and DO ---- */

Test(cache, rrsigs_only_when_wanted)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    wname_t n = N("signed.example.");
    uint8_t ip[4] = {198, 51, 100, 7};
    uint8_t sig1[40], sig2[60];
    memset(sig1, 0x11, sizeof(sig1));
    memset(sig2, 0x22, sizeof(sig2));
    rd_cache_rdata_t rr = {ip, 4};
    rd_cache_rdata_t sigs[2] = {{sig1, sizeof(sig1)}, {sig2, sizeof(sig2)}};
    rd_cache_rrset_t in = {.owner = n.w,
                           .type = RD_TYPE_A,
                           .rclass = RD_CLASS_IN,
                           .ttl = 600,
                           .rank = RD_CACHE_RANK_AUTH_ANSWER,
                           .count = 1,
                           .rdata = &rr,
                           .nsigs = 2,
                           .rrsigs = sigs};
    cr_assert_eq(rd_cache_insert_rrset(c, &in, 0), 0);

    rd_arena_t a;
    rd_arena_init(&a, NULL, 0, 0);
    rd_cache_rrset_t out;
    /* DO=0 */
    cr_assert_eq(rd_cache_lookup_rrset(c, n.w, RD_TYPE_A, RD_CLASS_IN, 0, false, &a, &out), 0);
    cr_assert_eq(out.count, 1);
    cr_assert_eq(out.nsigs, 0);
    cr_assert_null(out.rrsigs);
    cr_assert_arr_eq(out.rdata[0].data, ip, 4);
    /* DO=1 */
    cr_assert_eq(rd_cache_lookup_rrset(c, n.w, RD_TYPE_A, RD_CLASS_IN, 0, true, &a, &out), 0);
    cr_assert_eq(out.count, 1);
    cr_assert_eq(out.nsigs, 2);
    cr_assert_eq(out.rrsigs[0].len, sizeof(sig1));
    cr_assert_eq(out.rrsigs[1].len, sizeof(sig2));
    cr_assert_arr_eq(out.rrsigs[0].data, sig1, sizeof(sig1));
    cr_assert_arr_eq(out.rrsigs[1].data, sig2, sizeof(sig2));
    cr_assert_arr_eq(out.rdata[0].data, ip, 4);
    rd_arena_free(&a);
    rd_cache_free(c);
}

Test(cache, bad_arguments)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    wname_t n = N("x.example.");
    uint8_t ip[4] = {0};
    rd_cache_rdata_t rr = {ip, 4};
    rd_cache_rrset_t in = {.owner = n.w,
                           .type = RD_TYPE_A,
                           .rclass = RD_CLASS_IN,
                           .ttl = 60,
                           .rank = RD_CACHE_RANK_ANSWER,
                           .count = 1,
                           .rdata = &rr};
    rd_cache_rrset_t bad = in;
    bad.type = 0;
    cr_assert_eq(rd_cache_insert_rrset(c, &bad, 0), RD_EINVAL);
    bad = in;
    bad.count = 0;
    cr_assert_eq(rd_cache_insert_rrset(c, &bad, 0), RD_EINVAL);
    bad = in;
    bad.rank = 0;
    cr_assert_eq(rd_cache_insert_rrset(c, &bad, 0), RD_EINVAL);
    bad = in;
    bad.nsigs = 1; /* and no rrsigs array */
    cr_assert_eq(rd_cache_insert_rrset(c, &bad, 0), RD_EINVAL);
    uint8_t badname[] = {70, 'a', 0};
    bad = in;
    bad.owner = badname;
    cr_assert_eq(rd_cache_insert_rrset(c, &bad, 0), RD_EINVAL);

    /* an RRset larger than a quarter of its shard is not cached */
    static uint8_t big[60000];
    rd_cache_rdata_t bigrr = {big, sizeof(big)};
    bad = in;
    bad.type = RD_TYPE_TXT;
    bad.rdata = &bigrr;
    cr_assert_eq(rd_cache_insert_rrset(c, &bad, 0), RD_ESPACE);

    /* negative: not SOA rdata, NODATA without a type, unknown kind */
    wname_t z = N("example.");
    uint8_t junk[5] = {1, 2, 3, 4, 5};
    rd_cache_neg_t neg = {.owner = n.w,
                          .rclass = RD_CLASS_IN,
                          .kind = RD_CACHE_NXDOMAIN,
                          .rank = RD_CACHE_RANK_AUTH_AUTHORITY,
                          .ttl = 60,
                          .soa_owner = z.w,
                          .soa = {junk, sizeof(junk)}};
    cr_assert_eq(rd_cache_insert_negative(c, &neg, 0), RD_ERDATA);
    uint8_t soa[128];
    neg.soa.data = soa;
    neg.soa.len = (uint16_t)soa_rdata(soa, 60);
    cr_assert_eq(rd_cache_insert_negative(c, &neg, 0), 0);
    neg.kind = RD_CACHE_NODATA;
    cr_assert_eq(rd_cache_insert_negative(c, &neg, 0), RD_EINVAL);
    neg.kind = 9;
    cr_assert_eq(rd_cache_insert_negative(c, &neg, 0), RD_EINVAL);

    rd_arena_t a;
    rd_arena_init(&a, NULL, 0, 0);
    rd_cache_rrset_t out;
    cr_assert_eq(rd_cache_lookup_rrset(c, badname, RD_TYPE_A, RD_CLASS_IN, 0, false, &a, &out),
                 RD_EINVAL);
    rd_arena_free(&a);
    rd_cache_free(c);
}

/* ---- negative entries, RFC 2308 ---- */

Test(cache, nxdomain_answers_every_type)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    /* SOA TTL 3600, MINIMUM 300: RFC 2308 s5 takes the lesser */
    cr_assert_eq(put_neg(c, "NX.Example.com.", RD_CACHE_NXDOMAIN, RD_TYPE_A, 3600, 300,
                         RD_CACHE_RANK_AUTH_AUTHORITY, 1000),
                 0);
    rd_arena_t a;
    rd_arena_init(&a, NULL, 0, 0);
    wname_t n = N("nx.example.COM.");
    rd_cache_neg_t out;
    const uint16_t types[] = {RD_TYPE_A, RD_TYPE_AAAA, RD_TYPE_MX, RD_TYPE_TXT};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(rd_cache_lookup_negative(c, n.w, types[i], RD_CLASS_IN, 1100, false, &a, &out),
                     0);
        cr_assert_eq(out.kind, RD_CACHE_NXDOMAIN);
        cr_assert_eq(out.type, 0);
        cr_assert_eq(out.ttl, 200);
        cr_assert_eq(out.rank, RD_CACHE_RANK_AUTH_AUTHORITY);
        cr_assert_eq(out.nsigs, 0);
        name_eq_text(out.owner, "nx.example.com.");
        name_eq_text(out.soa_owner, "example.com.");
        uint8_t soa[128];
        size_t sl = soa_rdata(soa, 300);
        cr_assert_eq(out.soa.len, sl);
        cr_assert_arr_eq(out.soa.data, soa, sl);
    }
    /* with DO: the SOA's RRSIG comes along */
    cr_assert_eq(rd_cache_lookup_negative(c, n.w, RD_TYPE_A, RD_CLASS_IN, 1100, true, &a, &out), 0);
    cr_assert_eq(out.nsigs, 1);
    cr_assert_eq(out.rrsigs[0].len, 12);
    cr_assert_arr_eq(out.rrsigs[0].data + 8, "fake", 4);
    /* a negative entry is not an RRset */
    rd_cache_rrset_t rs;
    cr_assert_eq(rd_cache_lookup_rrset(c, n.w, RD_TYPE_A, RD_CLASS_IN, 1100, true, &a, &rs),
                 RD_ENOTFOUND);
    /* and it expires */
    cr_assert_eq(rd_cache_lookup_negative(c, n.w, RD_TYPE_A, RD_CLASS_IN, 1300, true, &a, &out),
                 RD_ENOTFOUND);
    rd_arena_free(&a);
    rd_cache_free(c);
}

Test(cache, nodata_is_per_type)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    cr_assert_eq(put_neg(c, "v4only.example.com.", RD_CACHE_NODATA, RD_TYPE_AAAA, 600, 900,
                         RD_CACHE_RANK_AUTH_AUTHORITY, 0),
                 0);
    rd_arena_t a;
    rd_arena_init(&a, NULL, 0, 0);
    wname_t n = N("v4only.example.com.");
    rd_cache_neg_t out;
    cr_assert_eq(rd_cache_lookup_negative(c, n.w, RD_TYPE_AAAA, RD_CLASS_IN, 0, false, &a, &out),
                 0);
    cr_assert_eq(out.kind, RD_CACHE_NODATA);
    cr_assert_eq(out.type, RD_TYPE_AAAA);
    cr_assert_eq(out.ttl, 600);
    cr_assert_eq(rd_cache_lookup_negative(c, n.w, RD_TYPE_A, RD_CLASS_IN, 0, false, &a, &out),
                 RD_ENOTFOUND);
    rd_cache_rrset_t rs;
    cr_assert_eq(rd_cache_lookup_rrset(c, n.w, RD_TYPE_AAAA, RD_CLASS_IN, 0, false, &a, &rs),
                 RD_ENOTFOUND);
    /* the NODATA shares its key with the AAAA RRset: data of a higher rank replaces it */
    uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8};
    rd_cache_rdata_t rr = {ip6, 16};
    rd_cache_rrset_t in = {.owner = n.w,
                           .type = RD_TYPE_AAAA,
                           .rclass = RD_CLASS_IN,
                           .ttl = 60,
                           .rank = RD_CACHE_RANK_ADDITIONAL,
                           .count = 1,
                           .rdata = &rr};
    cr_assert_eq(rd_cache_insert_rrset(c, &in, 1), 0);
    cr_assert_eq(rd_cache_lookup_negative(c, n.w, RD_TYPE_AAAA, RD_CLASS_IN, 1, false, &a, &out), 0,
                 "glue replaced a NODATA from an authoritative server");
    in.rank = RD_CACHE_RANK_AUTH_ANSWER;
    cr_assert_eq(rd_cache_insert_rrset(c, &in, 1), 0);
    cr_assert_eq(rd_cache_lookup_negative(c, n.w, RD_TYPE_AAAA, RD_CLASS_IN, 1, false, &a, &out),
                 RD_ENOTFOUND);
    cr_assert_eq(rd_cache_lookup_rrset(c, n.w, RD_TYPE_AAAA, RD_CLASS_IN, 1, false, &a, &rs), 0);
    rd_arena_free(&a);
    rd_cache_free(c);
}

Test(cache, negative_ttl)
{
    rd_cache_limits_t lim = {.min_ttl = 600, .max_ttl = 86400, .max_negative_ttl = 3600};
    rd_cache_t *c = new_cache(1 << 20, &lim);
    rd_arena_t a;
    rd_arena_init(&a, NULL, 0, 0);
    rd_cache_neg_t out;
    struct {
        const char *name;
        uint32_t soa_ttl, minimum, want; /* want 0: not cached */
    } cases[] = {
        {"a.example.com.", 100, 300, 100},        /* the SOA's TTL is less than MINIMUM */
        {"b.example.com.", 900, 300, 300},        /* MINIMUM is less */
        {"c.example.com.", 86400, 86400, 3600},   /* cache-max-negative-ttl */
        {"d.example.com.", 60, 60, 60},           /* cache-min-ttl does not apply to negatives */
        {"e.example.com.", 3600, 0x80000000u, 0}, /* RFC 2181 s8 on MINIMUM too */
        {"f.example.com.", 0x90000000u, 300, 0},  {"g.example.com.", 0, 300, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(put_neg(c, cases[i].name, RD_CACHE_NXDOMAIN, 0, cases[i].soa_ttl,
                             cases[i].minimum, RD_CACHE_RANK_AUTH_AUTHORITY, 50),
                     0);
        wname_t n = N(cases[i].name);
        int r = rd_cache_lookup_negative(c, n.w, RD_TYPE_A, RD_CLASS_IN, 50, false, &a, &out);
        if (cases[i].want == 0) {
            cr_assert_eq(r, RD_ENOTFOUND, "%s", cases[i].name);
        } else {
            cr_assert_eq(r, 0, "%s", cases[i].name);
            cr_assert_eq(out.ttl, cases[i].want, "%s: %u", cases[i].name, out.ttl);
        }
    }
    rd_arena_free(&a);
    rd_cache_free(c);
}

Test(cache, rfc8020_nxdomain_covers_the_subtree)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    cr_assert_eq(put_neg(c, "nx.example.com.", RD_CACHE_NXDOMAIN, 0, 3600, 600,
                         RD_CACHE_RANK_AUTH_AUTHORITY, 0),
                 0);
    rd_arena_t a;
    rd_arena_init(&a, NULL, 0, 0);
    rd_cache_neg_t out;
    wname_t deep = N("a.B.c.NX.example.com.");
    cr_assert_eq(rd_cache_lookup_nxdomain_above(c, deep.w, RD_CLASS_IN, 100, true, &a, &out), 0);
    cr_assert_eq(out.kind, RD_CACHE_NXDOMAIN);
    name_eq_text(out.owner, "nx.example.com.");
    name_eq_text(out.soa_owner, "example.com.");
    cr_assert_eq(out.ttl, 500);
    cr_assert_eq(out.nsigs, 1);
    wname_t child = N("x.nx.example.com.");
    cr_assert_eq(rd_cache_lookup_nxdomain_above(c, child.w, RD_CLASS_IN, 100, false, &a, &out), 0);
    /* the name itself is not its own ancestor: the exact lookup finds that */
    wname_t self = N("nx.example.com.");
    cr_assert_eq(rd_cache_lookup_nxdomain_above(c, self.w, RD_CLASS_IN, 100, false, &a, &out),
                 RD_ENOTFOUND);
    cr_assert_eq(rd_cache_lookup_negative(c, self.w, RD_TYPE_A, RD_CLASS_IN, 100, false, &a, &out),
                 0);
    /* siblings, parents, other classes, the root: nothing */
    const char *none[] = {"y.example.com.",   "example.com.",      "com.", ".",
                          "nxx.example.com.", "a.xnx.example.com."};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        wname_t n = N(none[i]);
        cr_assert_eq(rd_cache_lookup_nxdomain_above(c, n.w, RD_CLASS_IN, 100, false, &a, &out),
                     RD_ENOTFOUND, "%s", none[i]);
    }
    cr_assert_eq(rd_cache_lookup_nxdomain_above(c, deep.w, RD_CLASS_CH, 100, false, &a, &out),
                 RD_ENOTFOUND);
    /* the closest ancestor wins */
    cr_assert_eq(put_neg(c, "c.nx.example.com.", RD_CACHE_NXDOMAIN, 0, 60, 60,
                         RD_CACHE_RANK_AUTH_AUTHORITY, 0),
                 0);
    cr_assert_eq(rd_cache_lookup_nxdomain_above(c, deep.w, RD_CLASS_IN, 10, false, &a, &out), 0);
    name_eq_text(out.owner, "c.nx.example.com.");
    /* expired: gone */
    cr_assert_eq(rd_cache_lookup_nxdomain_above(c, deep.w, RD_CLASS_IN, 600, false, &a, &out),
                 RD_ENOTFOUND);
    rd_arena_free(&a);
    rd_cache_free(c);
}

/* NSEC / NSEC3 proofs kept with a negative answer (RFC 4035 s3.1.3): only for DO lookups,
 * with the entry's TTL, bounded by RD_CACHE_NEG_PROOFS. */
Test(cache, negative_keeps_nsec_proofs)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    wname_t n = N("nx.example.com."), z = N("example.com.");
    wname_t o1 = N("MAIL.example.com."), o2 = N("example.com.");
    uint8_t soa[128];
    size_t sl = soa_rdata(soa, 300);
    /* NSEC rdata: next name, type bitmap (A RRSIG NSEC) */
    static const uint8_t nsec1[] = {2,   'n', 's', 7, 'e', 'x', 'a',  'm', 'p', 'l', 'e', 3,
                                    'c', 'o', 'm', 0, 0,   6,   0x40, 0,   0,   0,   0,   3};
    static const uint8_t nsec2[] = {1,   'a', 7, 'e', 'x', 'a',  'm', 'p', 'l', 'e', 3, 'c',
                                    'o', 'm', 0, 0,   6,   0x22, 0,   0,   0,   0,   3};
    static const uint8_t sig1[] = {0, 47, 13, 3, 0, 0, 1, 44, 's', 'i', 'g', '1'};
    static const uint8_t sig2[] = {0, 47, 13, 2, 0, 0, 1, 44, 's', 'i', 'g', '2'};
    static const uint8_t soasig[] = {0, 6, 13, 2, 0, 0, 14, 16, 'f', 'a', 'k', 'e'};
    rd_cache_rdata_t r1 = {nsec1, sizeof(nsec1)}, r2 = {nsec2, sizeof(nsec2)};
    rd_cache_rdata_t s1 = {sig1, sizeof(sig1)}, s2 = {sig2, sizeof(sig2)};
    rd_cache_rdata_t ss = {soasig, sizeof(soasig)};
    rd_cache_rrset_t proofs[RD_CACHE_NEG_PROOFS + 1] = {
        {.owner = o1.w,
         .type = RD_TYPE_NSEC,
         .ttl = 300,
         .count = 1,
         .rdata = &r1,
         .nsigs = 1,
         .rrsigs = &s1},
        {.owner = o2.w,
         .type = RD_TYPE_NSEC,
         .ttl = 300,
         .count = 1,
         .rdata = &r2,
         .nsigs = 1,
         .rrsigs = &s2},
    };
    rd_cache_neg_t in = {.owner = n.w,
                         .rclass = RD_CLASS_IN,
                         .kind = RD_CACHE_NXDOMAIN,
                         .rank = RD_CACHE_RANK_AUTH_AUTHORITY,
                         .ttl = 3600,
                         .soa_owner = z.w,
                         .soa = {soa, (uint16_t)sl},
                         .nsigs = 1,
                         .rrsigs = &ss,
                         .nproof = 2,
                         .proof = proofs};
    rd_cache_stats_t st0, st1;
    rd_cache_stats(c, &st0);
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), 0);
    rd_cache_stats(c, &st1);
    /* accounted like everything: the slot holds SOA, RRSIG and both proofs */
    cr_assert_geq(st1.bytes - st0.bytes, sl + sizeof(nsec1) + sizeof(nsec2) + 3 * 12);

    rd_arena_t a;
    rd_arena_init(&a, NULL, 0, 0);
    rd_cache_neg_t out;
    /* DO=0: exactly what it was, no proof */
    cr_assert_eq(rd_cache_lookup_negative(c, n.w, RD_TYPE_A, RD_CLASS_IN, 1100, false, &a, &out),
                 0);
    cr_assert_eq(out.nsigs, 0);
    cr_assert_eq(out.nproof, 0);
    cr_assert_null(out.proof);
    cr_assert_eq(out.soa.len, sl);
    /* DO=1: both sets, with their RRSIGs, the entry's TTL, owners lowercased */
    cr_assert_eq(rd_cache_lookup_negative(c, n.w, RD_TYPE_A, RD_CLASS_IN, 1100, true, &a, &out), 0);
    cr_assert_eq(out.ttl, 200);
    cr_assert_eq(out.nsigs, 1);
    cr_assert_eq(out.nproof, 2);
    name_eq_text(out.proof[0].owner, "mail.example.com.");
    name_eq_text(out.proof[1].owner, "example.com.");
    for (int i = 0; i < 2; i++) {
        const rd_cache_rrset_t *ps = &out.proof[i];
        cr_assert_eq(ps->type, RD_TYPE_NSEC);
        cr_assert_eq(ps->rclass, RD_CLASS_IN);
        cr_assert_eq(ps->ttl, 200);
        cr_assert_eq(ps->count, 1);
        cr_assert_eq(ps->nsigs, 1);
        const rd_cache_rdata_t *want = i == 0 ? &r1 : &r2, *wsig = i == 0 ? &s1 : &s2;
        cr_assert_eq(ps->rdata[0].len, want->len);
        cr_assert_arr_eq(ps->rdata[0].data, want->data, want->len);
        cr_assert_eq(ps->rrsigs[0].len, wsig->len);
        cr_assert_arr_eq(ps->rrsigs[0].data, wsig->data, wsig->len);
    }
    /* RFC 8020: a name below gets the same proof */
    wname_t deep = N("a.nx.example.com.");
    cr_assert_eq(rd_cache_lookup_nxdomain_above(c, deep.w, RD_CLASS_IN, 1100, true, &a, &out), 0);
    cr_assert_eq(out.nproof, 2);
    cr_assert_eq(rd_cache_lookup_nxdomain_above(c, deep.w, RD_CLASS_IN, 1100, false, &a, &out), 0);
    cr_assert_eq(out.nproof, 0);

    /* a NODATA whose SOA has no RRSIG still keeps its proof */
    in.kind = RD_CACHE_NODATA;
    in.type = RD_TYPE_MX;
    in.owner = o1.w;
    in.nsigs = 0;
    in.rrsigs = NULL;
    in.nproof = 1;
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), 0);
    cr_assert_eq(rd_cache_lookup_negative(c, o1.w, RD_TYPE_MX, RD_CLASS_IN, 1000, true, &a, &out),
                 0);
    cr_assert_eq(out.kind, RD_CACHE_NODATA);
    cr_assert_eq(out.nsigs, 0);
    cr_assert_eq(out.nproof, 1);
    cr_assert_eq(out.proof[0].nsigs, 1);
    cr_assert_eq(out.proof[0].ttl, 300);

    /* bounds and types: refused, nothing stored */
    wname_t bad = N("bad.example.com.");
    in.owner = bad.w;
    in.nproof = RD_CACHE_NEG_PROOFS + 1;
    for (unsigned i = 0; i <= RD_CACHE_NEG_PROOFS; i++) proofs[i] = proofs[0];
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), RD_EINVAL);
    in.nproof = 1;
    proofs[0].type = RD_TYPE_A;
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), RD_EINVAL);
    proofs[0].type = RD_TYPE_NSEC3;
    proofs[0].count = 0;
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), RD_EINVAL);
    rd_cache_rdata_t many[2 * RD_CACHE_NEG_PROOFS + 1];
    for (unsigned i = 0; i < 2 * RD_CACHE_NEG_PROOFS + 1; i++) many[i] = r1;
    proofs[0].count = 2 * RD_CACHE_NEG_PROOFS + 1;
    proofs[0].rdata = many;
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), RD_EINVAL);
    proofs[0].count = 1;
    proofs[0].nsigs = 2 * RD_CACHE_NEG_PROOFS + 1;
    proofs[0].rrsigs = many;
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), RD_EINVAL);
    proofs[0].nsigs = 1;
    proofs[0].owner = NULL;
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), RD_EINVAL);
    in.proof = NULL;
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), RD_EINVAL);
    cr_assert_eq(rd_cache_lookup_negative(c, bad.w, RD_TYPE_A, RD_CLASS_IN, 1000, true, &a, &out),
                 RD_ENOTFOUND);
    /* the largest allowed: RD_CACHE_NEG_PROOFS NSEC3 sets, records and RRSIGs at the bound */
    for (unsigned i = 0; i < RD_CACHE_NEG_PROOFS; i++)
        proofs[i] = (rd_cache_rrset_t){.owner = o1.w,
                                       .type = RD_TYPE_NSEC3,
                                       .count = 2,
                                       .rdata = many,
                                       .nsigs = 2,
                                       .rrsigs = many};
    in.proof = proofs;
    in.nproof = RD_CACHE_NEG_PROOFS;
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), 0);
    cr_assert_eq(rd_cache_lookup_negative(c, bad.w, RD_TYPE_MX, RD_CLASS_IN, 1000, true, &a, &out),
                 0);
    cr_assert_eq(out.nproof, RD_CACHE_NEG_PROOFS);
    cr_assert_eq(out.proof[RD_CACHE_NEG_PROOFS - 1].nsigs, 2);
    cr_assert_eq(out.proof[RD_CACHE_NEG_PROOFS - 1].type, RD_TYPE_NSEC3);
    rd_arena_free(&a);
    rd_cache_free(c);

    /* proofs count against the entry size: too big for the smallest cache, RD_ESPACE (the
     * engine then caches the answer without them) */
    c = new_cache(RD_CACHE_SIZE_MIN, NULL);
    static uint8_t huge[8000];
    rd_cache_rdata_t hr[2] = {{huge, sizeof(huge)}, {huge, sizeof(huge)}};
    for (unsigned i = 0; i < RD_CACHE_NEG_PROOFS; i++)
        proofs[i] = (rd_cache_rrset_t){
            .owner = o1.w, .type = RD_TYPE_NSEC, .count = 2, .rdata = hr, .nsigs = 0};
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), RD_ESPACE);
    in.nproof = 0;
    cr_assert_eq(rd_cache_insert_negative(c, &in, 1000), 0);
    rd_cache_free(c);
}

Test(cache, data_at_a_name_drops_its_nxdomain)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    rd_arena_t a;
    rd_arena_init(&a, NULL, 0, 0);
    rd_cache_neg_t out;
    wname_t n = N("new.example.com.");
    cr_assert_eq(put_neg(c, "new.example.com.", RD_CACHE_NXDOMAIN, 0, 3600, 3600,
                         RD_CACHE_RANK_AUTH_AUTHORITY, 0),
                 0);
    /* glue does not outrank the NXDOMAIN: both stay */
    cr_assert_eq(put_a(c, "NEW.example.com.", 1, 60, RD_CACHE_RANK_ADDITIONAL, 0), 0);
    cr_assert_eq(rd_cache_lookup_negative(c, n.w, RD_TYPE_A, RD_CLASS_IN, 0, false, &a, &out), 0);
    /* an authoritative answer does: the name exists now */
    cr_assert_eq(put_a(c, "new.example.com.", 1, 60, RD_CACHE_RANK_AUTH_ANSWER, 0), 0);
    cr_assert_eq(rd_cache_lookup_negative(c, n.w, RD_TYPE_A, RD_CLASS_IN, 0, false, &a, &out),
                 RD_ENOTFOUND);
    rd_arena_free(&a);
    rd_cache_free(c);
}

/* ---- bounded memory and eviction ---- */

/* Octets the process has allocated now: glibc's count, or ASan's when it owns malloc. */
static size_t heap_in_use(void)
{
#ifdef HAVE_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

/* Resident memory of the process. */
static size_t rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert_not_null(f);
    unsigned long size, resident;
    cr_assert_eq(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return resident * 4096;
}

/* What resident memory may exceed the limit by: a few pages of stack and libc, and under ASan
 * its shadow (1/8 of what is touched) and allocator metadata. */
static size_t rss_slack(size_t limit)
{
#ifdef HAVE_ASAN
    return limit / 8 + ((size_t)2 << 20);
#else
    (void)limit;
    return (size_t)512 << 10;
#endif
}

Test(cache, flood_of_unique_names_stays_in_bounds)
{
    const size_t limit = (size_t)4 << 20;
    const unsigned total = 1000000;
    size_t heap0 = heap_in_use(), rss0 = rss();
    rd_cache_t *c = new_cache(limit, NULL);
    /* every octet is allocated at creation, and no more than the limit */
    size_t heap1 = heap_in_use();
    cr_assert_leq(heap1 - heap0, limit, "created with %zu for a %zu cache", heap1 - heap0, limit);
    rd_cache_stats_t st;
    for (unsigned i = 0; i < total; i++) {
        char name[64];
        snprintf(name, sizeof(name), "host-%u.flood.example.com.", i);
        cr_assert_eq(put_a(c, name, i, 3600, RD_CACHE_RANK_ANSWER, 0), 0);
        if (i % 5000 == 0 || i == total - 1) {
            rd_cache_stats(c, &st);
            cr_assert_leq(st.bytes, limit, "accounted %zu > limit %zu after %u", st.bytes, limit,
                          i);
            cr_assert_leq(heap_in_use(), heap1, "the cache allocated after creation");
            cr_assert_leq(rss() - rss0, limit + rss_slack(limit), "RSS grew %zu after %u",
                          rss() - rss0, i);
        }
    }
    rd_cache_stats(c, &st);
    cr_assert_eq(st.inserts, total);
    cr_assert_gt(st.evictions, total / 2);
    cr_assert_eq(st.entries + st.evictions, total);
    /* the cache is used, not just bounded */
    cr_assert_geq(st.bytes, limit - limit / 20, "%zu of %zu", st.bytes, limit);
    /* issue 6: at most 300 octets of memory per cached A RRset, everything included */
    size_t per_entry = st.bytes / st.entries;
    cr_assert_leq(per_entry, 300, "%zu octets per entry", per_entry);
    size_t rss_per_entry = (rss() - rss0) / st.entries;
    cr_assert_leq(rss_per_entry, 300, "%zu octets of RSS per entry", rss_per_entry);
    /* the last names are in, the first were evicted */
    cr_assert_eq(get_a(c, "host-999999.flood.example.com.", 0, NULL, NULL), 0);
    cr_assert_eq(get_a(c, "host-0.flood.example.com.", 0, NULL, NULL), RD_ENOTFOUND);
    rd_cache_free(c);
    cr_assert_leq(heap_in_use(), heap0, "the cache leaked");
}

Test(cache, mixed_sizes_and_ttls_stay_in_bounds)
{
    /* RRsets of 1 to 40 records of 4 to 400 octets, with RRSIGs, and TTLs from 1 s to a day,
     * while time runs: replacement, expiry, compaction and eviction all happen */
    const size_t limit = (size_t)1 << 20;
    size_t rss0 = rss();
    rd_cache_t *c = new_cache(limit, NULL);
    size_t heap1 = heap_in_use();
    static uint8_t blob[400 * 40];
    for (size_t i = 0; i < sizeof(blob); i++) blob[i] = (uint8_t)(i * 131);
    rd_cache_rdata_t rr[40], sig = {blob, 150};
    uint32_t x = 12345;
    rd_cache_stats_t st;
    uint8_t buf[1 << 16];
    rd_arena_t a;
    rd_arena_init(&a, buf, sizeof(buf), 0);
    for (unsigned i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        unsigned n = 1 + (x >> 8) % 40, len = 4 + (x >> 16) % 397;
        if ((x >> 4) % 8) n = 1 + n % 3; /* most sets are small */
        for (unsigned j = 0; j < n; j++) rr[j] = (rd_cache_rdata_t){blob + j * len, (uint16_t)len};
        char name[64];
        snprintf(name, sizeof(name), "m%u.example.", (x >> 3) % 20000);
        wname_t w = N(name);
        uint16_t type = (uint16_t)(1 + x % 3);
        rd_cache_rrset_t in = {.owner = w.w,
                               .type = type,
                               .rclass = RD_CLASS_IN,
                               .ttl = 1 + (x >> 12) % 3600,
                               .rank = (uint8_t)(1 + (x >> 20) % 5),
                               .count = (uint16_t)n,
                               .rdata = rr,
                               .nsigs = 1,
                               .rrsigs = &sig};
        cr_assert_eq(rd_cache_insert_rrset(c, &in, i / 20), 0);
        /* what comes back is what some insert of that key stored */
        rd_cache_rrset_t out;
        int r = rd_cache_lookup_rrset(c, w.w, type, RD_CLASS_IN, i / 20, true, &a, &out);
        if (r == 0) {
            cr_assert_eq(out.nsigs, 1);
            cr_assert_arr_eq(out.rrsigs[0].data, blob, 150);
            for (unsigned j = 0; j < out.count; j++)
                cr_assert_arr_eq(out.rdata[j].data, blob + j * out.rdata[0].len, out.rdata[j].len);
        } else {
            cr_assert_eq(r, RD_ENOTFOUND);
        }
        rd_arena_reset(&a);
        if (i % 1000 == 0) {
            rd_cache_stats(c, &st);
            cr_assert_leq(st.bytes, limit);
            cr_assert_leq(heap_in_use(), heap1);
            cr_assert_leq(rss() - rss0, limit + rss_slack(limit));
        }
    }
    rd_cache_stats(c, &st);
    cr_assert_gt(st.evictions, 0);
    cr_assert_gt(st.expired, 0);
    rd_arena_free(&a);
    rd_cache_free(c);
}

Test(cache, large_sets_in_the_smallest_cache)
{
    /* one shard: sets of up to a quarter of its ring wrap around its end all the time, and hits
     * keep some of them alive across laps; every copy read back must be intact */
    rd_cache_t *c = new_cache((size_t)64 << 10, NULL);
    rd_cache_stats_t st;
    rd_cache_stats(c, &st);
    cr_assert_eq(st.shards, 1);
    static uint8_t blob[16384];
    uint8_t buf[1 << 15];
    rd_arena_t a;
    rd_arena_init(&a, buf, sizeof(buf), 0);
    uint32_t x = 99;
    unsigned stored = 0, too_big = 0, hits = 0;
    for (unsigned i = 0; i < 20000; i++) {
        x = x * 1103515245u + 12345u;
        unsigned id = (x >> 8) % 64;
        uint16_t len = (uint16_t)(4 + (x >> 14) % 16000);
        for (unsigned j = 0; j < len; j++) blob[j] = (uint8_t)(id * 7 + j);
        char name[64];
        snprintf(name, sizeof(name), "big-%u.example.", id);
        wname_t w = N(name);
        rd_cache_rdata_t rr = {blob, len};
        rd_cache_rrset_t in = {.owner = w.w,
                               .type = RD_TYPE_TXT,
                               .rclass = RD_CLASS_IN,
                               .ttl = 100,
                               .rank = RD_CACHE_RANK_ANSWER,
                               .count = 1,
                               .rdata = &rr};
        int r = rd_cache_insert_rrset(c, &in, i / 100);
        if (r == RD_ESPACE) {
            too_big++;
            continue;
        }
        cr_assert_eq(r, 0);
        stored++;
        snprintf(name, sizeof(name), "big-%u.example.", (x >> 20) % 64);
        wname_t q = N(name);
        rd_cache_rrset_t out;
        r = rd_cache_lookup_rrset(c, q.w, RD_TYPE_TXT, RD_CLASS_IN, i / 100, false, &a, &out);
        if (r == 0) {
            hits++;
            unsigned qid = (x >> 20) % 64;
            for (unsigned j = 0; j < out.rdata[0].len; j++)
                cr_assert_eq(out.rdata[0].data[j], (uint8_t)(qid * 7 + j), "%s octet %u", name, j);
        } else {
            cr_assert_eq(r, RD_ENOTFOUND);
        }
        rd_arena_reset(&a);
    }
    rd_cache_stats(c, &st);
    cr_assert_leq(st.bytes, st.limit);
    cr_assert_gt(stored, 1000);
    cr_assert_gt(too_big, 0);
    cr_assert_gt(hits, 100);
    rd_arena_free(&a);
    rd_cache_free(c);
}

Test(cache, eviction_takes_expired_entries_first)
{
    const size_t limit = (size_t)1 << 20;
    rd_cache_t *c = new_cache(limit, NULL);
    rd_cache_stats_t st;
    char name[64];
    /* 40% of the cache with entries that expire at 10, 30% that live an hour */
    unsigned na = 0, nb = 0;
    do {
        snprintf(name, sizeof(name), "short-%u.example.", na++);
        cr_assert_eq(put_a(c, name, 1, 10, RD_CACHE_RANK_ANSWER, 0), 0);
        rd_cache_stats(c, &st);
    } while (st.bytes < limit * 4 / 10);
    do {
        snprintf(name, sizeof(name), "long--%u.example.", nb++);
        cr_assert_eq(put_a(c, name, 2, 3600, RD_CACHE_RANK_ANSWER, 0), 0);
        rd_cache_stats(c, &st);
    } while (st.bytes < limit * 7 / 10);
    cr_assert_eq(st.evictions, 0);
    /* at 100 the short ones have expired; another 40% must displace them, not the long ones */
    for (unsigned i = 0; i < na; i++) {
        snprintf(name, sizeof(name), "newer-%u.example.", i);
        cr_assert_eq(put_a(c, name, 3, 3600, RD_CACHE_RANK_ANSWER, 100), 0);
    }
    rd_cache_stats(c, &st);
    cr_assert_eq(st.evictions, 0, "%" PRIu64 " unexpired entries were evicted", st.evictions);
    cr_assert_gt(st.expired, na / 2);
    for (unsigned i = 0; i < nb; i++) {
        snprintf(name, sizeof(name), "long--%u.example.", i);
        cr_assert_eq(get_a(c, name, 100, NULL, NULL), 0, "%s", name);
    }
    for (unsigned i = 0; i < na; i++) {
        snprintf(name, sizeof(name), "newer-%u.example.", i);
        cr_assert_eq(get_a(c, name, 100, NULL, NULL), 0, "%s", name);
    }
    rd_cache_free(c);
}

Test(cache, expired_entries_scattered_among_live_ones_go_first)
{
    /* short- and long-lived entries alternate, so the expired ones are spread over the whole
     * memory: room must come from them (by moving the live ones), not from evicting */
    const size_t limit = (size_t)1 << 20;
    rd_cache_t *c = new_cache(limit, NULL);
    rd_cache_stats_t st;
    char name[64];
    unsigned n = 0;
    do {
        snprintf(name, sizeof(name), "short-%u.example.", n);
        cr_assert_eq(put_a(c, name, 1, 10, RD_CACHE_RANK_ANSWER, 0), 0);
        snprintf(name, sizeof(name), "long--%u.example.", n++);
        cr_assert_eq(put_a(c, name, 2, 3600, RD_CACHE_RANK_ANSWER, 0), 0);
        rd_cache_stats(c, &st);
    } while (st.bytes < limit * 8 / 10);
    cr_assert_eq(st.evictions, 0);
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "newer-%u.example.", i);
        cr_assert_eq(put_a(c, name, 3, 3600, RD_CACHE_RANK_ANSWER, 100), 0);
    }
    rd_cache_stats(c, &st);
    cr_assert_eq(st.evictions, 0, "%" PRIu64 " unexpired entries were evicted", st.evictions);
    cr_assert_eq(st.entries, 2 * n);
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "long--%u.example.", i);
        cr_assert_eq(get_a(c, name, 100, NULL, NULL), 0, "%s", name);
        snprintf(name, sizeof(name), "newer-%u.example.", i);
        cr_assert_eq(get_a(c, name, 100, NULL, NULL), 0, "%s", name);
    }
    rd_cache_free(c);
}

Test(cache, clock_keeps_entries_in_use)
{
    /* names asked again and again survive a flood of names asked once */
    const size_t limit = (size_t)1 << 20;
    rd_cache_t *c = new_cache(limit, NULL);
    char name[64];
    const unsigned hot = 500;
    for (unsigned i = 0; i < hot; i++) {
        snprintf(name, sizeof(name), "hot-%u.example.", i);
        cr_assert_eq(put_a(c, name, i, 3600, RD_CACHE_RANK_ANSWER, 0), 0);
        snprintf(name, sizeof(name), "cold-%u.example.", i);
        cr_assert_eq(put_a(c, name, i, 3600, RD_CACHE_RANK_ANSWER, 0), 0);
    }
    for (unsigned i = 0; i < 100000; i++) {
        if (i % 1000 == 0) {
            for (unsigned h = 0; h < hot; h++) {
                snprintf(name, sizeof(name), "hot-%u.example.", h);
                cr_assert_eq(get_a(c, name, 0, NULL, NULL), 0, "%s lost after %u", name, i);
            }
        }
        snprintf(name, sizeof(name), "once-%u.example.", i);
        cr_assert_eq(put_a(c, name, i, 3600, RD_CACHE_RANK_ANSWER, 0), 0);
    }
    unsigned cold_left = 0;
    for (unsigned i = 0; i < hot; i++) {
        snprintf(name, sizeof(name), "cold-%u.example.", i);
        if (get_a(c, name, 0, NULL, NULL) == 0) cold_left++;
    }
    cr_assert_eq(cold_left, 0, "%u names never asked survived", cold_left);
    rd_cache_free(c);
}

Test(cache, clear_empties_everything)
{
    rd_cache_t *c = new_cache(1 << 20, NULL);
    rd_cache_stats_t st0, st;
    rd_cache_stats(c, &st0);
    char name[64];
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "n%u.example.", i);
        cr_assert_eq(put_a(c, name, i, 60, RD_CACHE_RANK_ANSWER, 0), 0);
    }
    cr_assert_eq(put_neg(c, "nx.example.com.", RD_CACHE_NXDOMAIN, 0, 60, 60,
                         RD_CACHE_RANK_AUTH_AUTHORITY, 0),
                 0);
    rd_cache_stats(c, &st);
    cr_assert_eq(st.entries, 1001);
    rd_cache_clear(c);
    rd_cache_stats(c, &st);
    cr_assert_eq(st.entries, 0);
    cr_assert_eq(st.bytes, st0.bytes);
    cr_assert_eq(get_a(c, "n1.example.", 0, NULL, NULL), RD_ENOTFOUND);
    cr_assert_eq(st.inserts, 1001); /* counters survive */
    rd_cache_free(c);
}

/* ---- threads ---- */

typedef struct {
    rd_cache_t *c;
    unsigned id;
    unsigned long ops;
    int failed;
    int first_line; /* of the first failure */
} worker_t;

#define FAIL(w)                                                                                    \
    do {                                                                                           \
        if (!(w)->failed++) (w)->first_line = __LINE__;                                            \
    } while (0)

#define SHARED_NAMES 200

/* The virtual clock all threads share: thread 0 moves it a second per 1024 of its
 * operations, so entries expire during the run. */
static _Atomic uint64_t vclock;

static uint32_t addr_of(unsigned n)
{
    return 0x0a000000u | (n * 2654435761u >> 8);
}

static void *worker(void *arg)
{
    worker_t *w = arg;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint8_t buf[2048];
    rd_arena_t a;
    rd_arena_init(&a, buf, sizeof(buf), 0);
    char name[64];
    for (unsigned long i = 0;; i++) {
        if ((i & 1023) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > 1000000000L)
                break;
            if (w->id == 0) vclock++;
        }
        uint64_t now = vclock;
        unsigned shared = (unsigned)((i * 7 + w->id) % SHARED_NAMES);
        uint32_t addr;
        switch (i % 8) {
        case 0:
        case 1: /* everyone writes the same names, with the same data */
            snprintf(name, sizeof(name), "shared-%u.example.", shared);
            if (put_a(w->c, name, addr_of(shared), 5, RD_CACHE_RANK_ANSWER, now)) FAIL(w);
            break;
        case 2:
        case 3: /* names of this thread only */
            snprintf(name, sizeof(name), "t%u-%lu.example.", w->id, i);
            if (put_a(w->c, name, addr_of((unsigned)i), 30, RD_CACHE_RANK_ANSWER, now)) FAIL(w);
            break;
        case 4:
            snprintf(name, sizeof(name), "nx-%u.example.com.", shared);
            if (put_neg(w->c, name, RD_CACHE_NXDOMAIN, 0, 5, 5, RD_CACHE_RANK_AUTH_AUTHORITY, now))
                FAIL(w);
            break;
        default: { /* lookups: what comes back is whole */
            snprintf(name, sizeof(name), "shared-%u.example.", shared);
            uint8_t nb[RD_NAME_MAX];
            size_t nl;
            rd_name_from_text(name, strlen(name), NULL, nb, &nl);
            rd_cache_rrset_t out;
            int r = rd_cache_lookup_rrset(w->c, nb, RD_TYPE_A, RD_CLASS_IN, now, true, &a, &out);
            if (r == 0) {
                const uint8_t *p = out.rdata[0].data;
                addr = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
                /* whoever stored it did so at a time no later than the clock now */
                uint64_t late = vclock - now;
                if (out.count != 1 || out.rdata[0].len != 4 || addr != addr_of(shared) ||
                    out.ttl < 1 || out.ttl > 5 + late || !rd_name_eq(out.owner, nb))
                    FAIL(w);
            } else if (r != RD_ENOTFOUND) {
                FAIL(w);
            }
            snprintf(name, sizeof(name), "a.nx-%u.example.com.", shared);
            rd_name_from_text(name, strlen(name), NULL, nb, &nl);
            rd_cache_neg_t neg;
            r = rd_cache_lookup_nxdomain_above(w->c, nb, RD_CLASS_IN, now, true, &a, &neg);
            if (r == 0 && (neg.kind != RD_CACHE_NXDOMAIN || neg.nsigs != 1)) FAIL(w);
            if (r != 0 && r != RD_ENOTFOUND) FAIL(w);
            rd_arena_reset(&a);
            break;
        }
        }
        if (w->id == 0 && i % 200000 == 199999) rd_cache_clear(w->c);
        if (w->id == 1 && i % 10000 == 0) {
            rd_cache_stats_t st;
            rd_cache_stats(w->c, &st);
            if (st.bytes > st.limit) FAIL(w);
        }
        w->ops++;
    }
    rd_arena_free(&a);
    return NULL;
}

Test(cache, threads_share_it)
{
    /* small, so that eviction runs all the time as well */
    rd_cache_t *c = new_cache((size_t)256 << 10, NULL);
    enum { NT = 4 };
    pthread_t th[NT];
    worker_t w[NT];
    for (unsigned i = 0; i < NT; i++) {
        w[i] = (worker_t){.c = c, .id = i};
        cr_assert_eq(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    for (unsigned i = 0; i < NT; i++) pthread_join(th[i], NULL);
    rd_cache_stats_t st;
    rd_cache_stats(c, &st);
    for (unsigned i = 0; i < NT; i++) {
        cr_assert_eq(w[i].failed, 0, "thread %u: %d failures, the first at line %d", i, w[i].failed,
                     w[i].first_line);
        cr_assert_gt(w[i].ops, 1000);
    }
    cr_assert_leq(st.bytes, st.limit);
    cr_assert_gt(st.hits, 0);
    cr_assert_gt(st.evictions + st.expired, 0);
    rd_cache_free(c);
}
