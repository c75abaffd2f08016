/* The RRset cache and the negative cache (issue 5), shared by every worker thread.
 *
 * What it holds. Positive entries are RRsets keyed by (owner, type, class), each stored with its
 * RRSIGs, a credibility rank (RFC 2181 s5.4.1) and a DNSSEC security status. Negative entries
 * are NXDOMAIN (keyed by owner and class: every type) and NODATA (owner, type, class), each
 * with the SOA to put in the authority section and that SOA's RRSIGs (RFC 2308 s5). Owner
 * names are keys in lowercased wire form (RFC 4343), so lookups ignore case.
 *
 * DO and CD are not part of the key. RRSIGs are always stored; a lookup for a DO=0 client
 * passes want_rrsigs=false and gets none. The security status comes back with every hit;
 * the caller serves a bogus entry only to a CD=1 client. (The packet cache, which stores whole
 * responses, is the one that keys on DO and CD.)
 *
 * Time is an argument (house rule 7): `now` is in seconds from any fixed origin, increasing;
 * entries store their absolute expiry and a lookup returns the seconds left.
 *
 * Bounded (house rule 10): the cache allocates all its memory at creation, within max_bytes
 * (shard headers, hash tables and ring buffers, with the allocator's own overhead), and never
 * calls malloc again: entries live in the rings, so resident memory cannot outgrow the limit
 * whatever the allocator does. An insert makes room by dropping expired entries first, then the
 * least recently used (CLOCK). Sharded by a keyed hash (SipHash-1-3), each shard with its own
 * mutex held only for the hash-table step and one memcpy; there is no global lock. Results are
 * copied into the caller's arena, so nothing returned is shared with the cache. */
#ifndef RESOLVERD_CACHE_H
#define RESOLVERD_CACHE_H

#include "resolverd/base.h"

typedef struct rd_cache rd_cache_t;

/* Length of the secret hash key given at creation: fill it from the CSPRNG so that nobody
 * outside can choose names that collide in one hash chain (HashDoS). */
#define RD_CACHE_KEY_LEN 16

/* TTL policy, applied on insert (config cache-min-ttl, cache-max-ttl, cache-max-negative-ttl). */
typedef struct {
    uint32_t min_ttl;          /* positive TTLs below are raised to it (default 0) */
    uint32_t max_ttl;          /* positive TTLs above are lowered to it (default 86400) */
    uint32_t max_negative_ttl; /* negative TTLs above are lowered to it (default 3600) */
} rd_cache_limits_t;

/* Credibility of cached data, RFC 2181 s5.4.1, lowest first. An insert replaces an unexpired
 * entry only when its rank is at least the entry's: an authoritative answer replaces glue,
 * glue never replaces an authoritative answer. */
enum rd_cache_rank {
    RD_CACHE_RANK_ADDITIONAL = 1, /* additional section (glue, addresses of NS targets) */
    RD_CACHE_RANK_AUTHORITY = 2,  /* authority section of a non-authoritative reply (referral) */
    RD_CACHE_RANK_ANSWER = 3,     /* answer section of a non-authoritative reply (forwarder) */
    RD_CACHE_RANK_AUTH_AUTHORITY = 4, /* authority section of an authoritative reply */
    RD_CACHE_RANK_AUTH_ANSWER = 5,    /* answer section of an authoritative reply (AA=1) */
};

/* DNSSEC status of an entry (RFC 4035 s4.3). Only UNCHECKED is produced until validation. */
enum rd_cache_sec {
    RD_CACHE_SEC_UNCHECKED = 0,
    RD_CACHE_SEC_SECURE = 1,
    RD_CACHE_SEC_INSECURE = 2,
    RD_CACHE_SEC_BOGUS = 3,
};

enum rd_cache_neg_kind {
    RD_CACHE_NXDOMAIN = 1, /* the name does not exist: no type (RFC 2308 s2.1) */
    RD_CACHE_NODATA = 2,   /* the name exists, the type does not (RFC 2308 s2.2) */
};

/* One uncompressed rdata (RRSIGs too: their rdata, type covered first). */
typedef struct {
    const uint8_t *data;
    uint16_t len;
} rd_cache_rdata_t;

/* An RRset going in (the caller fills it) or coming out (the cache fills it; every pointer
 * then points into the caller's arena). */
typedef struct {
    const uint8_t *owner; /* in: wire name, any case; out: lowercased */
    uint16_t type;        /* not 0 (0 is reserved, RFC 6895 s3.1) */
    uint16_t rclass;
    uint32_t ttl;     /* in: as received (the RRset's, RFC 2181 s5.2); out: seconds left */
    uint8_t rank;     /* enum rd_cache_rank */
    uint8_t security; /* enum rd_cache_sec */
    uint16_t count;   /* records, at least 1 */
    uint16_t nsigs;   /* RRSIGs covering the set; out: 0 unless they were asked for */
    const rd_cache_rdata_t *rdata;
    const rd_cache_rdata_t *rrsigs;
} rd_cache_rrset_t;

/* A negative answer going in or coming out. */
typedef struct {
    const uint8_t *owner; /* in: the name; out: lowercased, the ancestor for RFC 8020 hits */
    uint16_t type;        /* NODATA: the type; NXDOMAIN: 0 */
    uint16_t rclass;
    uint8_t kind; /* enum rd_cache_neg_kind */
    uint8_t rank; /* rank of the SOA it came with (usually AUTH_AUTHORITY) */
    uint8_t security;
    uint32_t ttl; /* in: the SOA record's TTL; out: seconds left (the SOA's TTL) */
    const uint8_t *soa_owner;
    rd_cache_rdata_t soa; /* SOA rdata, uncompressed */
    uint16_t nsigs;       /* RRSIGs of the SOA; out: 0 unless asked for */
    const rd_cache_rdata_t *rrsigs;
    /* The NSEC / NSEC3 RRsets of the authority section, with their RRSIGs (RFC 4035 s3.1.3),
     * for DO=1 clients: at most RD_CACHE_NEG_PROOFS sets, their records and their RRSIGs at
     * most twice that each. In: owner, type, count, rdata, nsigs, rrsigs are read (the rest
     * is the entry's). Out: 0 sets unless RRSIGs were asked for; each with the entry's TTL
     * (seconds left), rank and security. */
    uint16_t nproof;
    const rd_cache_rrset_t *proof;
} rd_cache_neg_t;

typedef struct {
    size_t limit; /* max_bytes given at creation */
    size_t bytes; /* in use now (tables, overhead, ring octets filled); never more than limit */
    size_t entries;
    unsigned shards;
    uint64_t hits, misses;
    uint64_t inserts;   /* entries stored */
    uint64_t evictions; /* unexpired entries dropped to make room */
    uint64_t expired;   /* expired entries dropped */
} rd_cache_stats_t;

/* Creates a cache that never takes more than max_bytes (at least RD_CACHE_SIZE_MIN from
 * src/base/limits.h; config cache-size), allocating it now: pages become resident as
 * they fill. limits may be NULL for the defaults. RD_EINVAL when max_bytes is too small or
 * min_ttl > max_ttl, RD_ENOMEM. */
int rd_cache_new(size_t max_bytes, const uint8_t key[RD_CACHE_KEY_LEN],
                 const rd_cache_limits_t *limits, rd_cache_t **out);
void rd_cache_free(rd_cache_t *c);
/* Replaces the TTL policy (a reload): it applies to inserts from now on, entries already
 * stored keep their expiry. Safe while other threads use the cache. RD_EINVAL as for
 * rd_cache_new (min_ttl > max_ttl); the policy is then unchanged. */
int rd_cache_set_limits(rd_cache_t *c, const rd_cache_limits_t *limits);
/* Drops every entry (counters stay). */
void rd_cache_clear(rd_cache_t *c);
void rd_cache_stats(rd_cache_t *c, rd_cache_stats_t *out);

/* The TTL an insert made now would store for a positive RRset received with ttl (RFC 2181
 * s8, then the min_ttl / max_ttl clamps), and for a negative answer whose SOA came with
 * soa_ttl and MINIMUM minimum (RFC 2308 s5, then max_negative_ttl). The engine answers the
 * first client with these, so it sees the TTL every later cached answer starts from (as
 * Unbound does); they follow rd_cache_set_limits. */
uint32_t rd_cache_ttl_positive(rd_cache_t *c, uint32_t ttl);
uint32_t rd_cache_ttl_negative(rd_cache_t *c, uint32_t soa_ttl, uint32_t minimum);

/* Stores an RRset and its RRSIGs. TTL: RFC 2181 s8 (over 2^31-1 counts as 0), then raised to
 * min_ttl and lowered to max_ttl; a TTL still 0 is not stored (RFC 1035 s3.2.1) but does
 * replace an entry it outranks. An unexpired entry of higher rank is kept and the insert
 * ignored (still 0). Storing data at a name drops a cached NXDOMAIN of that name of lower or
 * equal rank (the name exists after all). RD_EINVAL for a bad name or type 0, RD_ESPACE when
 * the set takes more than a quarter of a shard (it is then not cached). Never allocates. */
int rd_cache_insert_rrset(rd_cache_t *c, const rd_cache_rrset_t *in, uint64_t now);
/* Finds an unexpired RRset and copies it into arena. want_rrsigs: the client set DO.
 * RD_ENOTFOUND on a miss (also when the key holds a NODATA entry), RD_ENOMEM when the arena
 * is full. */
int rd_cache_lookup_rrset(rd_cache_t *c, const uint8_t *owner, uint16_t type, uint16_t rclass,
                          uint64_t now, bool want_rrsigs, rd_arena_t *arena, rd_cache_rrset_t *out);

/* Stores a negative answer. TTL per RFC 2308 s5: the lesser of the SOA's TTL and its MINIMUM
 * field (each over 2^31-1 counting as 0), lowered to max_negative_ttl; min_ttl does not apply.
 * Rank rules as for RRsets (a NODATA shares its key with the RRset of that type). RD_ERDATA
 * when soa is not SOA rdata; RD_EINVAL, RD_ESPACE as above (RD_EINVAL too for proof sets
 * that are not NSEC / NSEC3 or over the bounds). The proof sets go in the same entry, after
 * the SOA's RRSIGs, so a DO=0 lookup never copies them. */
int rd_cache_insert_negative(rd_cache_t *c, const rd_cache_neg_t *in, uint64_t now);
/* Exact negative lookup: an NXDOMAIN of owner, else a NODATA of (owner, type). */
int rd_cache_lookup_negative(rd_cache_t *c, const uint8_t *owner, uint16_t type, uint16_t rclass,
                             uint64_t now, bool want_rrsigs, rd_arena_t *arena,
                             rd_cache_neg_t *out);
/* RFC 8020 s2: an NXDOMAIN for a name means nothing exists below it. Finds a cached NXDOMAIN at
 * the closest proper ancestor of owner (the root excluded); out->owner is that ancestor.
 * RD_ENOTFOUND when there is none. */
int rd_cache_lookup_nxdomain_above(rd_cache_t *c, const uint8_t *owner, uint16_t rclass,
                                   uint64_t now, bool want_rrsigs, rd_arena_t *arena,
                                   rd_cache_neg_t *out);

#endif
