/* rd_cache_set_limits (a reload changes cache-min-ttl, cache-max-ttl, cache-max-negative-ttl
 * of the live cache): new inserts follow the new policy, stored entries keep their expiry,
 * a bad policy is refused and leaves the old one in place. Time is injected. */
#include <criterion/criterion.h>
#include <string.h>

#include "resolverd/cache.h"
#include "resolverd/name.h"
#include "resolverd/rrtype.h"

static const uint8_t KEY[RD_CACHE_KEY_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};

static void name(const char *text, uint8_t out[RD_NAME_MAX])
{
    size_t len;
    cr_assert_eq(rd_name_from_text(text, strlen(text), NULL, out, &len), 0, "%s", text);
}

static int put_a(rd_cache_t *c, const char *owner, uint32_t ttl, uint64_t now)
{
    uint8_t n[RD_NAME_MAX], ip[4] = {192, 0, 2, 1};
    name(owner, n);
    rd_cache_rdata_t rr = {ip, 4};
    rd_cache_rrset_t in = {.owner = n,
                           .type = RD_TYPE_A,
                           .rclass = RD_CLASS_IN,
                           .ttl = ttl,
                           .rank = RD_CACHE_RANK_AUTH_ANSWER,
                           .count = 1,
                           .rdata = &rr};
    return rd_cache_insert_rrset(c, &in, now);
}

/* Seconds left on the A RRset at owner, or -1 on a miss. */
static long ttl_of(rd_cache_t *c, const char *owner, uint64_t now)
{
    uint8_t buf[1024], n[RD_NAME_MAX];
    rd_arena_t a;
    rd_arena_init(&a, buf, sizeof(buf), 0);
    name(owner, n);
    rd_cache_rrset_t out;
    int r = rd_cache_lookup_rrset(c, n, RD_TYPE_A, RD_CLASS_IN, now, false, &a, &out);
    long ttl = r == 0 ? (long)out.ttl : -1;
    rd_arena_free(&a);
    return ttl;
}

/* A NXDOMAIN for owner whose SOA says ttl (TTL and MINIMUM alike); the seconds it got. */
static long neg_ttl(rd_cache_t *c, const char *owner, uint32_t ttl, uint64_t now)
{
    uint8_t n[RD_NAME_MAX], soa_owner[RD_NAME_MAX], soa[64];
    name(owner, n);
    name("lab.", soa_owner);
    /* mname "." rname "." serial refresh retry expire minimum */
    uint32_t v[5] = {1, 3600, 600, 86400, ttl};
    soa[0] = 0;
    soa[1] = 0;
    for (int i = 0; i < 5; i++) {
        soa[2 + 4 * i] = (uint8_t)(v[i] >> 24);
        soa[3 + 4 * i] = (uint8_t)(v[i] >> 16);
        soa[4 + 4 * i] = (uint8_t)(v[i] >> 8);
        soa[5 + 4 * i] = (uint8_t)v[i];
    }
    rd_cache_neg_t in = {.owner = n,
                         .rclass = RD_CLASS_IN,
                         .kind = RD_CACHE_NXDOMAIN,
                         .rank = RD_CACHE_RANK_AUTH_AUTHORITY,
                         .ttl = ttl,
                         .soa_owner = soa_owner,
                         .soa = {soa, 22}};
    cr_assert_eq(rd_cache_insert_negative(c, &in, now), 0);
    uint8_t buf[1024];
    rd_arena_t a;
    rd_arena_init(&a, buf, sizeof(buf), 0);
    rd_cache_neg_t out;
    int r = rd_cache_lookup_negative(c, n, RD_TYPE_A, RD_CLASS_IN, now, false, &a, &out);
    long left = r == 0 ? (long)out.ttl : -1;
    rd_arena_free(&a);
    return left;
}

Test(cache_limits, new_policy_applies_to_new_inserts_only)
{
    rd_cache_t *c;
    rd_cache_limits_t lim = {0, 300, 60};
    cr_assert_eq(rd_cache_new(1u << 20, KEY, &lim, &c), 0);
    cr_assert_eq(put_a(c, "old.lab.", 86400, 1000), 0);
    cr_assert_eq(ttl_of(c, "old.lab.", 1000), 300);
    cr_assert_eq(neg_ttl(c, "nx1.lab.", 3600, 1000), 60);

    rd_cache_limits_t lim2 = {30, 120, 10};
    cr_assert_eq(rd_cache_set_limits(c, &lim2), 0);
    cr_assert_eq(put_a(c, "new.lab.", 86400, 1000), 0);
    cr_assert_eq(ttl_of(c, "new.lab.", 1000), 120, "max-ttl lowered");
    cr_assert_eq(put_a(c, "short.lab.", 5, 1000), 0);
    cr_assert_eq(ttl_of(c, "short.lab.", 1000), 30, "min-ttl raised");
    cr_assert_eq(neg_ttl(c, "nx2.lab.", 3600, 1000), 10, "max-negative-ttl lowered");
    cr_assert_eq(ttl_of(c, "old.lab.", 1000), 300, "stored entries keep their expiry");
    rd_cache_free(c);
}

Test(cache_limits, bad_policy_refused_and_old_kept)
{
    rd_cache_t *c;
    rd_cache_limits_t lim = {0, 300, 60};
    cr_assert_eq(rd_cache_new(1u << 20, KEY, &lim, &c), 0);
    rd_cache_limits_t bad = {500, 100, 60};
    cr_assert_eq(rd_cache_set_limits(c, &bad), RD_EINVAL);
    cr_assert_eq(rd_cache_set_limits(NULL, &lim), RD_EINVAL);
    cr_assert_eq(put_a(c, "a.lab.", 86400, 1000), 0);
    cr_assert_eq(ttl_of(c, "a.lab.", 1000), 300);
    /* NULL restores the defaults (max 1 day) */
    cr_assert_eq(rd_cache_set_limits(c, NULL), 0);
    cr_assert_eq(put_a(c, "b.lab.", 7200, 1000), 0);
    cr_assert_eq(ttl_of(c, "b.lab.", 1000), 7200);
    rd_cache_free(c);
}
