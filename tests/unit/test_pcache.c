/* Packet cache: which queries it takes, what a hit patches, expiry, keys, hostile input. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "resolverd/pcache.h"

static const uint8_t hkey[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* www.Example.lab, wire form */
static const uint8_t qn[] = {3,   'w', 'w', 'w', 7,   'E', 'x', 'a', 'm',
                             'p', 'l', 'e', 3,   'l', 'a', 'b', 0};

/* A query: id, flags (RD by default), the name above, qtype, IN; with edns >= 0 a bare OPT
 * of that UDP size (do: DO bit). Returns its length. */
static size_t mkquery(uint8_t *q, uint16_t id, uint8_t f2, uint16_t qtype, int edns, bool dobit)
{
    size_t n = 0;
    q[n++] = (uint8_t)(id >> 8), q[n++] = (uint8_t)id, q[n++] = f2, q[n++] = 0;
    q[n++] = 0, q[n++] = 1, q[n++] = 0, q[n++] = 0, q[n++] = 0, q[n++] = 0;
    q[n++] = 0, q[n++] = edns >= 0 ? 1 : 0;
    memcpy(q + n, qn, sizeof(qn));
    n += sizeof(qn);
    q[n++] = (uint8_t)(qtype >> 8), q[n++] = (uint8_t)qtype, q[n++] = 0, q[n++] = 1;
    if (edns >= 0) {
        q[n++] = 0, q[n++] = 0, q[n++] = 41, q[n++] = (uint8_t)(edns >> 8), q[n++] = (uint8_t)edns;
        q[n++] = 0, q[n++] = 0, q[n++] = dobit ? 0x80 : 0, q[n++] = 0, q[n++] = 0, q[n++] = 0;
    }
    return n;
}

/* A response to it: rcode, n A records with TTLs ttl, ttl+100, ...; an OPT when edns, with
 * an option of optlen octets. */
static size_t mkresp(uint8_t *r, uint16_t id, uint8_t rcode, unsigned n, uint32_t ttl, bool edns,
                     unsigned optlen)
{
    size_t len = 0;
    r[len++] = (uint8_t)(id >> 8), r[len++] = (uint8_t)id, r[len++] = 0x81, r[len++] = 0x80 | rcode;
    r[len++] = 0, r[len++] = 1, r[len++] = 0, r[len++] = (uint8_t)n, r[len++] = 0, r[len++] = 0;
    r[len++] = 0, r[len++] = edns ? 1 : 0;
    for (size_t i = 0; i < sizeof(qn); i++) r[len++] = (uint8_t)(qn[i] | (qn[i] >= 'A' ? 0x20 : 0));
    r[len++] = 0, r[len++] = 1, r[len++] = 0, r[len++] = 1;
    for (unsigned i = 0; i < n; i++) {
        uint32_t t = ttl + 100 * i;
        r[len++] = 0xc0, r[len++] = 12, r[len++] = 0, r[len++] = 1, r[len++] = 0, r[len++] = 1;
        r[len++] = (uint8_t)(t >> 24), r[len++] = (uint8_t)(t >> 16), r[len++] = (uint8_t)(t >> 8);
        r[len++] = (uint8_t)t, r[len++] = 0, r[len++] = 4;
        r[len++] = 192, r[len++] = 0, r[len++] = 2, r[len++] = (uint8_t)i;
    }
    if (edns) {
        r[len++] = 0, r[len++] = 0, r[len++] = 41, r[len++] = 0x04, r[len++] = 0xd0;
        r[len++] = 0, r[len++] = 0, r[len++] = 0, r[len++] = 0;
        r[len++] = (uint8_t)((optlen ? optlen + 4 : 0) >> 8),
        r[len++] = (uint8_t)(optlen ? optlen + 4 : 0);
        if (optlen) {
            r[len++] = 0, r[len++] = 15, r[len++] = 0, r[len++] = (uint8_t)optlen;
            memset(r + len, 0, optlen);
            len += optlen;
        }
    }
    return len;
}

static uint32_t ttl_at(const uint8_t *r, unsigned i)
{
    const uint8_t *p = r + 12 + sizeof(qn) + 4 + 16 * i + 6;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static rd_pcache_t *mk(size_t bytes)
{
    rd_pcache_t *pc = NULL;
    cr_assert_eq(rd_pcache_new(bytes, hkey, &pc), 0);
    return pc;
}

Test(pcache, key_accepts_plain_queries_only)
{
    rd_pcache_t *pc = mk(1 << 20);
    uint8_t q[128];
    rd_pcache_key_t k;
    size_t n = mkquery(q, 7, 0x01, 1, -1, false);
    cr_assert(rd_pcache_key(pc, q, n, 1232, &k));
    cr_assert_eq(k.limit, 512);
    cr_assert_eq(k.id, 7);
    cr_assert_eq(k.qname_len, sizeof(qn));
    cr_assert_eq(k.flags, 0);
    n = mkquery(q, 7, 0x01, 1, 4096, true);
    cr_assert(rd_pcache_key(pc, q, n, 1232, &k));
    cr_assert_eq(k.limit, 1232, "capped by our edns-buffer-size");
    cr_assert_eq(k.flags, RD_PCACHE_F_EDNS | RD_PCACHE_F_DO);
    n = mkquery(q, 7, 0x01, 1, 100, false);
    cr_assert(rd_pcache_key(pc, q, n, 1232, &k));
    cr_assert_eq(k.limit, 512, "RFC 6891: below 512 counts as 512");
    q[3] = 0x10; /* CD */
    cr_assert(rd_pcache_key(pc, q, n, 1232, &k));
    cr_assert_eq(k.flags, RD_PCACHE_F_EDNS | RD_PCACHE_F_CD);

    /* each of these goes to the normal path */
    n = mkquery(q, 7, 0x00, 1, -1, false);
    cr_assert_not(rd_pcache_key(pc, q, n, 1232, &k), "RD=0");
    n = mkquery(q, 7, 0x81, 1, -1, false);
    cr_assert_not(rd_pcache_key(pc, q, n, 1232, &k), "a response");
    n = mkquery(q, 7, 0x01 | (4 << 3), 1, -1, false);
    cr_assert_not(rd_pcache_key(pc, q, n, 1232, &k), "NOTIFY");
    uint16_t meta[] = {0, 41, 251, 252, 255, 250, 128};
    for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
        n = mkquery(q, 7, 0x01, meta[i], -1, false);
        cr_assert_not(rd_pcache_key(pc, q, n, 1232, &k), "qtype %u", meta[i]);
    }
    n = mkquery(q, 7, 0x01, 1, -1, false);
    q[n - 1] = 3; /* CH */
    cr_assert_not(rd_pcache_key(pc, q, n, 1232, &k), "class CH");
    n = mkquery(q, 7, 0x01, 1, -1, false);
    q[n++] = 0;
    cr_assert_not(rd_pcache_key(pc, q, n, 1232, &k), "trailing octet");
    n = mkquery(q, 7, 0x01, 1, 1232, false);
    q[n - 5] = 1; /* EDNS version 1: BADVERS is the normal path's */
    cr_assert_not(rd_pcache_key(pc, q, n, 1232, &k), "EDNS version 1");
    n = mkquery(q, 7, 0x01, 1, 1232, false);
    q[n - 1] = 4; /* rdlen 4 without the octets */
    cr_assert_not(rd_pcache_key(pc, q, n, 1232, &k), "OPT with options");
    /* options that cannot change the answer are fine: a client cookie (dig sends one) */
    static const uint8_t cookie[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t bad_cookie[] = {0, 10, 0, 7, 1, 2, 3, 4, 5, 6, 7};
    static const uint8_t keepalive[] = {0, 11, 0, 0};
    static const uint8_t ecs[] = {0, 8, 0, 4, 0, 1, 0, 0};
    const struct {
        const uint8_t *o;
        size_t n;
        bool ok;
    } opts[] = {{cookie, sizeof(cookie), true},
                {bad_cookie, sizeof(bad_cookie), false},
                {keepalive, sizeof(keepalive), false},
                {ecs, sizeof(ecs), false}};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        n = mkquery(q, 7, 0x01, 1, 1232, true);
        q[n - 2] = 0, q[n - 1] = (uint8_t)opts[i].n;
        memcpy(q + n, opts[i].o, opts[i].n);
        cr_assert_eq(rd_pcache_key(pc, q, n + opts[i].n, 1232, &k), opts[i].ok, "option %zu", i);
        if (opts[i].ok) cr_assert_eq(k.flags, RD_PCACHE_F_EDNS | RD_PCACHE_F_DO);
    }
    n = mkquery(q, 7, 0x01, 1, -1, false);
    q[12] = 0xc0; /* a pointer in a question */
    cr_assert_not(rd_pcache_key(pc, q, n, 1232, &k), "compressed qname");
    n = mkquery(q, 7, 0x01, 1, -1, false);
    q[5] = 2;
    cr_assert_not(rd_pcache_key(pc, q, n, 1232, &k), "QDCOUNT 2");
    for (size_t cut = 0; cut < n; cut++) {
        n = mkquery(q, 7, 0x01, 1, 1232, false);
        cr_assert_not(rd_pcache_key(pc, q, cut, 1232, &k), "truncated at %zu", cut);
    }
    rd_pcache_free(pc);
}

Test(pcache, hit_patches_id_case_and_ttls)
{
    rd_pcache_t *pc = mk(1 << 20);
    uint8_t q[128], r[512], out[1500];
    rd_pcache_key_t k;
    size_t qlen = mkquery(q, 1, 0x01, 1, 1232, false);
    cr_assert(rd_pcache_key(pc, q, qlen, 1232, &k));
    cr_assert_eq(rd_pcache_get(pc, &k, 100, out, sizeof(out)), 0, "empty");
    size_t rlen = mkresp(r, 1, 0, 2, 300, true, 0);
    rd_pcache_put(pc, &k, r, rlen, 100);

    /* another client, other ID, other case, 10 s later */
    qlen = mkquery(q, 0xbeef, 0x01, 1, 1232, false);
    q[13] = 'W', q[18] = 'x';
    cr_assert(rd_pcache_key(pc, q, qlen, 1232, &k));
    size_t n = rd_pcache_get(pc, &k, 110, out, sizeof(out));
    cr_assert_eq(n, rlen);
    cr_assert_eq(out[0], 0xbe);
    cr_assert_eq(out[1], 0xef);
    cr_assert_arr_eq(out + 12, q + 12, sizeof(qn), "question in the client's case");
    cr_assert_eq(ttl_at(out, 0), 290);
    cr_assert_eq(ttl_at(out, 1), 390);
    cr_assert_arr_eq(out + 2, r + 2, 10, "flags and counts unchanged");
    /* the stored copy is not modified by a hit */
    n = rd_pcache_get(pc, &k, 101, out, sizeof(out));
    cr_assert_eq(ttl_at(out, 0), 299);
    /* gone when the smallest TTL runs out */
    cr_assert_eq(rd_pcache_get(pc, &k, 399, out, sizeof(out)), rlen);
    cr_assert_eq(ttl_at(out, 0), 1);
    cr_assert_eq(rd_pcache_get(pc, &k, 400, out, sizeof(out)), 0);
    cr_assert_eq(rd_pcache_get(pc, &k, 110, out, sizeof(out)), 0, "expired entries are freed");
    rd_pcache_stats_t st;
    rd_pcache_stats(pc, &st);
    cr_assert_eq(st.stores, 1);
    cr_assert_eq(st.hits, 3);
    rd_pcache_free(pc);
}

Test(pcache, keys_keep_do_cd_edns_and_type_apart)
{
    rd_pcache_t *pc = mk(1 << 20);
    uint8_t q[128], r[512], out[1500];
    rd_pcache_key_t k, k2;
    size_t qlen = mkquery(q, 1, 0x01, 1, 1232, false);
    cr_assert(rd_pcache_key(pc, q, qlen, 1232, &k));
    size_t rlen = mkresp(r, 1, 0, 1, 300, true, 0);
    rd_pcache_put(pc, &k, r, rlen, 0);
    qlen = mkquery(q, 1, 0x01, 1, 1232, true);
    cr_assert(rd_pcache_key(pc, q, qlen, 1232, &k2));
    cr_assert_eq(rd_pcache_get(pc, &k2, 1, out, sizeof(out)), 0, "DO=1 is another key");
    qlen = mkquery(q, 1, 0x01, 1, -1, false);
    cr_assert(rd_pcache_key(pc, q, qlen, 1232, &k2));
    cr_assert_eq(rd_pcache_get(pc, &k2, 1, out, sizeof(out)), 0, "no EDNS is another key");
    qlen = mkquery(q, 1, 0x01, 28, 1232, false);
    cr_assert(rd_pcache_key(pc, q, qlen, 1232, &k2));
    cr_assert_eq(rd_pcache_get(pc, &k2, 1, out, sizeof(out)), 0, "AAAA is another key");
    qlen = mkquery(q, 1, 0x01, 1, 1232, false);
    q[3] = 0x10;
    cr_assert(rd_pcache_key(pc, q, qlen, 1232, &k2));
    cr_assert_eq(rd_pcache_get(pc, &k2, 1, out, sizeof(out)), 0, "CD=1 is another key");
    /* key_of gives the same key as the wire */
    rd_pcache_key_of(pc, qn, 1, false, false, true, &k2);
    cr_assert_eq(k2.hash, k.hash);
    cr_assert_eq(k2.flags, k.flags);
    cr_assert_eq(k2.qname_len, k.qname_len);
    rd_pcache_clear(pc);
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), 0, "clear forgets everything");
    rd_pcache_put(pc, &k, r, rlen, 0);
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), rlen, "and stores again");
    rd_pcache_free(pc);
}

Test(pcache, only_plain_complete_answers_are_stored)
{
    rd_pcache_t *pc = mk(1 << 20);
    uint8_t q[128], r[1500], out[1500];
    rd_pcache_key_t k;
    size_t qlen = mkquery(q, 1, 0x01, 1, 1232, false);
    cr_assert(rd_pcache_key(pc, q, qlen, 1232, &k));
    size_t rlen;
    rlen = mkresp(r, 1, 2, 0, 300, true, 0); /* SERVFAIL */
    rd_pcache_put(pc, &k, r, rlen, 0);
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), 0, "SERVFAIL");
    rlen = mkresp(r, 1, 0, 1, 300, true, 6); /* an EDE option */
    rd_pcache_put(pc, &k, r, rlen, 0);
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), 0, "EDNS options");
    rlen = mkresp(r, 1, 0, 1, 300, false, 0); /* no OPT for an EDNS query */
    rd_pcache_put(pc, &k, r, rlen, 0);
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), 0, "OPT missing");
    rlen = mkresp(r, 1, 0, 1, 0, true, 0);
    rd_pcache_put(pc, &k, r, rlen, 0);
    cr_assert_eq(rd_pcache_get(pc, &k, 0, out, sizeof(out)), 0, "TTL 0");
    rlen = mkresp(r, 1, 0, 1, 300, true, 0);
    r[2] |= 0x02; /* TC */
    rd_pcache_put(pc, &k, r, rlen, 0);
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), 0, "truncated");
    rlen = mkresp(r, 1, 0, 40, 300, true, 0); /* over RD_PCACHE_WIRE_MAX */
    rd_pcache_put(pc, &k, r, rlen, 0);
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), 0, "too big");
    rlen = mkresp(r, 1, 3, 0, 300, true, 0); /* NXDOMAIN (no records: nothing expires it) */
    rd_pcache_put(pc, &k, r, rlen, 0);
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), 0, "no TTL at all");
    rlen = mkresp(r, 1, 3, 1, 60, true, 0); /* NXDOMAIN with a record (as SOA would be) */
    rd_pcache_put(pc, &k, r, rlen, 0);
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), rlen, "NXDOMAIN");
    /* bigger than a client's limit: a miss, the normal path truncates */
    rlen = mkresp(r, 1, 0, 30, 300, false, 0);
    qlen = mkquery(q, 1, 0x01, 1, -1, false);
    cr_assert(rd_pcache_key(pc, q, qlen, 1232, &k));
    rd_pcache_put(pc, &k, r, rlen, 0);
    cr_assert_gt(rlen, 512);
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), 0, "over 512 without EDNS");
    rd_pcache_free(pc);
}

Test(pcache, hostile_responses_and_small_caches)
{
    rd_pcache_t *pc = mk(1 << 20);
    uint8_t q[128], r[600], out[1500];
    rd_pcache_key_t k;
    size_t qlen = mkquery(q, 1, 0x01, 1, 1232, false);
    cr_assert(rd_pcache_key(pc, q, qlen, 1232, &k));
    size_t rlen = mkresp(r, 1, 0, 3, 300, true, 0);
    /* every truncation and a sweep of corrupted octets: stored or not, never read outside */
    for (size_t cut = 0; cut < rlen; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, r, cut);
        rd_pcache_put(pc, &k, copy, cut, 0);
        free(copy);
    }
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), 0, "no truncation was stored");
    srand(1);
    for (int i = 0; i < 20000; i++) {
        uint8_t bad[600];
        memcpy(bad, r, rlen);
        for (int j = 0; j < 3; j++) bad[12 + (size_t)rand() % (rlen - 12)] = (uint8_t)rand();
        uint8_t *copy = malloc(rlen);
        memcpy(copy, bad, rlen);
        rd_pcache_put(pc, &k, copy, rlen, 0);
        free(copy);
        size_t n = rd_pcache_get(pc, &k, 1, out, sizeof(out));
        cr_assert(n == 0 || n == rlen);
    }
    rd_pcache_free(pc);

    /* no room: nothing stored, nothing breaks */
    pc = mk(0);
    cr_assert_not(rd_pcache_key(pc, q, qlen, 1232, &k));
    rd_pcache_key_of(pc, qn, 1, false, false, true, &k);
    rd_pcache_put(pc, &k, r, rlen, 0);
    cr_assert_eq(rd_pcache_get(pc, &k, 1, out, sizeof(out)), 0);
    rd_pcache_free(pc);
}

Test(pcache, a_full_set_replaces_the_entry_closest_to_expiry)
{
    /* one set of RD_PCACHE_WAYS (4) slots: every name lands in it */
    rd_pcache_t *pc = mk(4 * 800);
    uint8_t q[128], r[512], out[1500];
    rd_pcache_key_t k[6];
    for (unsigned i = 0; i < 6; i++) {
        size_t qlen = mkquery(q, 1, 0x01, (uint16_t)(1 + i), 1232, false);
        cr_assert(rd_pcache_key(pc, q, qlen, 1232, &k[i]));
        k[i].qname = qn; /* q is reused: keep the name valid */
        size_t rlen = mkresp(r, 1, 0, 1, 100 + 10 * i, true, 0);
        r[12 + sizeof(qn) + 1] = (uint8_t)(1 + i); /* the response's qtype */
        rd_pcache_put(pc, &k[i], r, rlen, 0);
    }
    /* 0 and 1 (shortest lives) made room for 4 and 5 */
    cr_assert_eq(rd_pcache_get(pc, &k[0], 1, out, sizeof(out)), 0);
    cr_assert_eq(rd_pcache_get(pc, &k[1], 1, out, sizeof(out)), 0);
    for (unsigned i = 2; i < 6; i++) cr_assert_gt(rd_pcache_get(pc, &k[i], 1, out, sizeof(out)), 0);
    rd_pcache_free(pc);
}
