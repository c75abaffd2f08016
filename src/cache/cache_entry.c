/* The public insert and lookup calls: argument checks, TTL policy (RFC 2181 s8, RFC 2308 s5),
 * packing an RRset or a negative answer into one entry, and unpacking a copy of it from the
 * caller's arena. */
#include <string.h>

#include "cache/cache_int.h"
#include "resolverd/rrtype.h"

/* the size cache_int.h and the per-entry figures assume on 64-bit hosts */
_Static_assert(sizeof(void *) != 8 || sizeof(rd__centry_t) == 40, "entry header grew");

/* RFC 2181 s8: a TTL with the top bit set is treated as 0. */
static uint32_t ttl_2181(uint32_t ttl)
{
    return ttl > RD_CACHE_TTL_MAX ? 0 : ttl;
}

static uint64_t expiry(uint64_t now, uint32_t ttl)
{
    return now > UINT64_MAX - ttl ? UINT64_MAX : now + ttl;
}

static bool name_ok(const uint8_t *name, size_t *len)
{
    return name && rd_name_check(name, RD_NAME_MAX, len) == RD_OK;
}

/* Octets the packed records take (2-octet length each), or 0 when one is malformed. */
static size_t packed_len(const rd_cache_rdata_t *rr, size_t n)
{
    size_t len = 0;
    if (n && !rr) return 0;
    for (size_t i = 0; i < n; i++) {
        if (!rr[i].data && rr[i].len) return 0;
        len += 2 + (size_t)rr[i].len;
    }
    return n ? len : 1; /* 1: "no records, fine" for the caller's check */
}

static uint8_t *pack(uint8_t *p, const rd_cache_rdata_t *rr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memcpy(p, &rr[i].len, 2);
        if (rr[i].len) memcpy(p + 2, rr[i].data, rr[i].len);
        p += 2 + rr[i].len;
    }
    return p;
}

/* Reads n packed records at *pos in data[0..len) into arena descriptors. */
static int unpack(const uint8_t *data, uint32_t len, uint32_t *pos, uint16_t n, rd_arena_t *arena,
                  const rd_cache_rdata_t **out)
{
    *out = NULL;
    if (n == 0) return RD_OK;
    rd_cache_rdata_t *rr = rd_arena_alloc(arena, (size_t)n * sizeof(*rr));
    if (!rr) return RD_ENOMEM;
    uint32_t p = *pos;
    for (uint16_t i = 0; i < n; i++) {
        uint16_t l;
        if (rd_fails_assert(len - p >= 2)) return RD_EBUG;
        memcpy(&l, data + p, 2);
        if (rd_fails_assert(len - p - 2 >= l)) return RD_EBUG;
        rr[i].data = data + p + 2;
        rr[i].len = l;
        p += 2 + (uint32_t)l;
    }
    *pos = p;
    *out = rr;
    return RD_OK;
}

/* Octets the proof sets of a negative answer take in an entry (0 when there are none), after
 * checking them: NSEC / NSEC3 only, within RD_CACHE_NEG_PROOFS. RD_EINVAL otherwise. */
static int proofs_len(const rd_cache_neg_t *in, size_t *out)
{
    *out = 0;
    if (in->nproof == 0) return RD_OK;
    if (!in->proof || in->nproof > RD_CACHE_NEG_PROOFS) return RD_EINVAL;
    size_t len = 1, nrr = 0, nsig = 0; /* 1: the count octet */
    for (uint16_t i = 0; i < in->nproof; i++) {
        const rd_cache_rrset_t *ps = &in->proof[i];
        size_t ownlen;
        if (!name_ok(ps->owner, &ownlen) || ps->count == 0 ||
            (ps->type != RD_TYPE_NSEC && ps->type != RD_TYPE_NSEC3))
            return RD_EINVAL;
        nrr += ps->count;
        nsig += ps->nsigs;
        if (nrr > 2 * RD_CACHE_NEG_PROOFS || nsig > 2 * RD_CACHE_NEG_PROOFS) return RD_EINVAL;
        size_t rrlen = packed_len(ps->rdata, ps->count);
        size_t siglen = packed_len(ps->rrsigs, ps->nsigs);
        if (!rrlen || !siglen) return RD_EINVAL;
        len += ownlen + 6 + rrlen + (ps->nsigs ? siglen : 0);
    }
    *out = len;
    return RD_OK;
}

static uint8_t *pack_proofs(uint8_t *d, const rd_cache_rrset_t *proof, uint16_t n)
{
    if (n == 0) return d;
    *d++ = (uint8_t)n;
    for (uint16_t i = 0; i < n; i++) {
        const rd_cache_rrset_t *ps = &proof[i];
        rd_name_lower_copy(d, ps->owner);
        d += rd_name_len(ps->owner);
        memcpy(d, &ps->type, 2);
        memcpy(d + 2, &ps->count, 2);
        memcpy(d + 4, &ps->nsigs, 2);
        d = pack(d + 6, ps->rdata, ps->count);
        d = pack(d, ps->rrsigs, ps->nsigs);
    }
    return d;
}

void rd__cache_write(rd__centry_t *e, const rd__ckey_t *k, const rd__cput_t *p)
{
    memset(e, 0, sizeof(*e));
    e->expire = p->expire;
    e->hash = (uint32_t)k->hash;
    e->datalen = p->datalen;
    e->sigoff = p->sigoff;
    e->type = k->type;
    e->rclass = k->rclass;
    e->nrr = p->nrr;
    e->nsig = p->nsig;
    e->namelen = k->namelen;
    e->flags = p->kind;
    e->rank = p->rank;
    e->security = p->security;
    uint8_t *d = e->data;
    memcpy(d, k->buf, k->namelen);
    d += k->namelen;
    if (p->soa_owner) {
        rd_name_lower_copy(d, p->soa_owner); /* case is not kept; the owner is lowercased too */
        d += p->soa_owner_len;
    }
    d = pack(d, p->rr, p->nrr);
    d = pack(d, p->sig, p->nsig);
    d = pack_proofs(d, p->proof, p->nproof);
    RD_REQUIRE(d == e->data + e->datalen);
}

uint32_t rd_cache_ttl_positive(rd_cache_t *c, uint32_t ttl)
{
    ttl = ttl_2181(ttl);
    uint32_t lo = atomic_load_explicit(&c->min_ttl, memory_order_relaxed);
    uint32_t hi = atomic_load_explicit(&c->max_ttl, memory_order_relaxed);
    if (ttl < lo) ttl = lo;
    if (ttl > hi) ttl = hi;
    return ttl;
}

uint32_t rd_cache_ttl_negative(rd_cache_t *c, uint32_t soa_ttl, uint32_t minimum)
{
    uint32_t ttl = ttl_2181(soa_ttl);
    if (ttl_2181(minimum) < ttl) ttl = ttl_2181(minimum);
    uint32_t hi = atomic_load_explicit(&c->max_negative_ttl, memory_order_relaxed);
    return ttl > hi ? hi : ttl;
}

static bool rank_ok(uint8_t rank, uint8_t security)
{
    return rank >= RD_CACHE_RANK_ADDITIONAL && rank <= RD_CACHE_RANK_AUTH_ANSWER &&
           security <= RD_CACHE_SEC_BOGUS;
}

int rd_cache_insert_rrset(rd_cache_t *c, const rd_cache_rrset_t *in, uint64_t now)
{
    size_t namelen;
    if (!c || !in || !name_ok(in->owner, &namelen) || in->type == 0 || in->count == 0 ||
        !rank_ok(in->rank, in->security))
        return RD_EINVAL;
    size_t rrlen = packed_len(in->rdata, in->count);
    size_t siglen = packed_len(in->rrsigs, in->nsigs);
    if (!rrlen || !siglen) return RD_EINVAL;
    if (!in->nsigs) siglen = 0;
    size_t datalen = namelen + rrlen + siglen;
    if (datalen > c->entry_max) return RD_ESPACE; /* (and keeps it in 32 bits) */

    uint32_t ttl = rd_cache_ttl_positive(c, in->ttl);

    rd__ckey_t k;
    rd__cache_key(c, &k, in->owner, namelen, in->type, in->rclass);
    rd__cput_t p = {.expire = expiry(now, ttl),
                    .kind = RD__CE_RRSET,
                    .rank = in->rank,
                    .security = in->security,
                    .rr = in->rdata,
                    .nrr = in->count,
                    .sig = in->rrsigs,
                    .nsig = in->nsigs,
                    .datalen = (uint32_t)datalen,
                    .sigoff = (uint32_t)(namelen + rrlen)};
    return rd__cache_put(c, &k, &p, now);
}

int rd_cache_lookup_rrset(rd_cache_t *c, const uint8_t *owner, uint16_t type, uint16_t rclass,
                          uint64_t now, bool want_rrsigs, rd_arena_t *arena, rd_cache_rrset_t *out)
{
    size_t namelen;
    if (!c || !arena || !out || !name_ok(owner, &namelen)) return RD_EINVAL;
    rd__ckey_t k;
    rd__cache_key(c, &k, owner, namelen, type, rclass);
    rd__ccopy_t cp;
    int ret = rd__cache_get(c, &k, now, RD__CE_RRSET, want_rrsigs, true, arena, &cp);
    if (ret) return ret;
    memset(out, 0, sizeof(*out));
    out->owner = cp.data;
    out->type = type;
    out->rclass = rclass;
    out->ttl = cp.ttl;
    out->rank = cp.rank;
    out->security = cp.security;
    out->count = cp.nrr;
    out->nsigs = cp.nsig;
    uint32_t pos = cp.namelen;
    ret = unpack(cp.data, cp.len, &pos, cp.nrr, arena, &out->rdata);
    if (!ret) ret = unpack(cp.data, cp.len, &pos, cp.nsig, arena, &out->rrsigs);
    return ret;
}

int rd_cache_insert_negative(rd_cache_t *c, const rd_cache_neg_t *in, uint64_t now)
{
    size_t namelen, soalen;
    if (!c || !in || !name_ok(in->owner, &namelen) || !name_ok(in->soa_owner, &soalen) ||
        !rank_ok(in->rank, in->security))
        return RD_EINVAL;
    if (in->kind != RD_CACHE_NXDOMAIN && (in->kind != RD_CACHE_NODATA || in->type == 0))
        return RD_EINVAL;
    if (!in->soa.data || rd_rdata_check(in->soa.data, in->soa.len, 0, in->soa.len, RD_TYPE_SOA))
        return RD_ERDATA;
    size_t siglen = packed_len(in->rrsigs, in->nsigs);
    if (!siglen) return RD_EINVAL;
    if (!in->nsigs) siglen = 0;
    size_t prooflen;
    if (proofs_len(in, &prooflen) != RD_OK) return RD_EINVAL;
    size_t rrlen = 2 + (size_t)in->soa.len;
    size_t datalen = namelen + soalen + rrlen + siglen + prooflen;
    if (datalen > c->entry_max) return RD_ESPACE;

    /* RFC 2308 s5: the lesser of the SOA's TTL and its MINIMUM field (the last 4 octets) */
    const uint8_t *m = in->soa.data + in->soa.len - 4;
    uint32_t minimum = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    uint32_t ttl = rd_cache_ttl_negative(c, in->ttl, minimum);

    bool nx = in->kind == RD_CACHE_NXDOMAIN;
    rd__ckey_t k;
    rd__cache_key(c, &k, in->owner, namelen, nx ? 0 : in->type, in->rclass);
    rd__cput_t p = {.expire = expiry(now, ttl),
                    .kind = nx ? RD__CE_NXDOMAIN : RD__CE_NODATA,
                    .rank = in->rank,
                    .security = in->security,
                    .soa_owner = in->soa_owner,
                    .soa_owner_len = soalen,
                    .rr = &in->soa,
                    .nrr = 1,
                    .sig = in->rrsigs,
                    .nsig = in->nsigs,
                    .proof = in->proof,
                    .nproof = in->nproof,
                    .datalen = (uint32_t)datalen,
                    .sigoff = (uint32_t)(namelen + soalen + rrlen)};
    return rd__cache_put(c, &k, &p, now);
}

/* Reads the proof sets written by pack_proofs (the entry is ours: a mismatch is a bug). */
static int unpack_proofs(const rd__ccopy_t *cp, uint32_t *pos, rd_arena_t *arena,
                         rd_cache_neg_t *out)
{
    uint32_t p = *pos;
    uint8_t n = cp->data[p++];
    if (rd_fails_assert(n >= 1 && n <= RD_CACHE_NEG_PROOFS)) return RD_EBUG;
    rd_cache_rrset_t *ps = rd_arena_alloc(arena, (size_t)n * sizeof(*ps));
    if (!ps) return RD_ENOMEM;
    for (uint8_t i = 0; i < n; i++) {
        size_t ownlen;
        if (rd_fails_assert(rd_name_check(cp->data + p, cp->len - p, &ownlen) == RD_OK &&
                            cp->len - p - ownlen >= 6))
            return RD_EBUG;
        memset(&ps[i], 0, sizeof(ps[i]));
        ps[i].owner = cp->data + p;
        p += (uint32_t)ownlen;
        memcpy(&ps[i].type, cp->data + p, 2);
        memcpy(&ps[i].count, cp->data + p + 2, 2);
        memcpy(&ps[i].nsigs, cp->data + p + 4, 2);
        p += 6;
        ps[i].rclass = out->rclass;
        ps[i].ttl = out->ttl; /* RFC 9077 s3: no longer than the negative answer they prove */
        ps[i].rank = out->rank;
        ps[i].security = out->security;
        int ret = unpack(cp->data, cp->len, &p, ps[i].count, arena, &ps[i].rdata);
        if (!ret) ret = unpack(cp->data, cp->len, &p, ps[i].nsigs, arena, &ps[i].rrsigs);
        if (ret) return ret;
    }
    if (rd_fails_assert(p == cp->len)) return RD_EBUG;
    *pos = p;
    out->nproof = n;
    out->proof = ps;
    return RD_OK;
}

static int neg_out(const rd__ccopy_t *cp, uint16_t rclass, rd_arena_t *arena, rd_cache_neg_t *out)
{
    memset(out, 0, sizeof(*out));
    out->owner = cp->data;
    out->type = cp->type;
    out->rclass = rclass;
    out->kind = cp->flags & RD__CE_NXDOMAIN ? RD_CACHE_NXDOMAIN : RD_CACHE_NODATA;
    out->rank = cp->rank;
    out->security = cp->security;
    out->ttl = cp->ttl;
    out->soa_owner = cp->data + cp->namelen;
    out->nsigs = cp->nsig;
    uint32_t pos = cp->namelen + (uint32_t)rd_name_len(out->soa_owner);
    const rd_cache_rdata_t *soa;
    int ret = unpack(cp->data, cp->len, &pos, 1, arena, &soa);
    if (ret) return ret;
    out->soa = soa[0];
    ret = unpack(cp->data, cp->len, &pos, cp->nsig, arena, &out->rrsigs);
    if (ret || pos == cp->len) return ret; /* no proofs, or RRSIGs not copied */
    return unpack_proofs(cp, &pos, arena, out);
}

int rd_cache_lookup_negative(rd_cache_t *c, const uint8_t *owner, uint16_t type, uint16_t rclass,
                             uint64_t now, bool want_rrsigs, rd_arena_t *arena, rd_cache_neg_t *out)
{
    size_t namelen;
    if (!c || !arena || !out || !name_ok(owner, &namelen)) return RD_EINVAL;
    rd__ckey_t k;
    rd__ccopy_t cp;
    /* an NXDOMAIN answers every type; only the second probe counts as the miss */
    rd__cache_key(c, &k, owner, namelen, 0, rclass);
    int ret = rd__cache_get(c, &k, now, RD__CE_NXDOMAIN, want_rrsigs, false, arena, &cp);
    if (ret == RD_ENOTFOUND && type != 0) {
        rd__cache_key(c, &k, owner, namelen, type, rclass);
        ret = rd__cache_get(c, &k, now, RD__CE_NODATA, want_rrsigs, true, arena, &cp);
    }
    return ret ? ret : neg_out(&cp, rclass, arena, out);
}

int rd_cache_lookup_nxdomain_above(rd_cache_t *c, const uint8_t *owner, uint16_t rclass,
                                   uint64_t now, bool want_rrsigs, rd_arena_t *arena,
                                   rd_cache_neg_t *out)
{
    size_t namelen;
    if (!c || !arena || !out || !name_ok(owner, &namelen)) return RD_EINVAL;
    /* closest ancestor first; the root is never NXDOMAIN. Probes that miss are not counted:
     * the caller's own lookups already were. */
    for (size_t off = (size_t)owner[0] + 1; off < namelen - 1; off += (size_t)owner[off] + 1) {
        rd__ckey_t k;
        rd__ccopy_t cp;
        rd__cache_key(c, &k, owner + off, namelen - off, 0, rclass);
        int ret = rd__cache_get(c, &k, now, RD__CE_NXDOMAIN, want_rrsigs, false, arena, &cp);
        if (ret != RD_ENOTFOUND) return ret ? ret : neg_out(&cp, rclass, arena, out);
    }
    return RD_ENOTFOUND;
}
