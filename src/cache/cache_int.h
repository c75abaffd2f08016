/* Internals shared by the cache files: the entry layout (cache_entry.c writes and reads
 * entries), the shards with their hash tables and rings (cache_table.c), the keyed hash
 * (siphash.c).
 *
 * Memory. The cache is an array of shards; a key's SipHash picks the shard (bits 40 and up)
 * and the bucket (low bits). Each shard gets an equal part of max_bytes (less the fixed part)
 * and allocates all of it at creation: a bucket array and a ring buffer. Entries live in the
 * ring, back to back, so the cache never calls malloc after creation and what it holds can
 * never exceed max_bytes, whatever the allocator does with per-thread arenas and freed chunks
 * (with one malloc per entry, glibc kept up to 2.7 times the limit when floods moved between
 * threads). Pages of the ring become resident only as they are first filled.
 *
 * An entry is a slot in the ring: the header below, then its data, padded to 8 octets:
 *
 *     lowercased owner | [negative: SOA owner] | records | RRSIGs | [negative: proofs]
 *
 * where proofs, only when there are any, is a count octet and, for each NSEC / NSEC3 set,
 * its lowercased owner, type, record and RRSIG counts (2 octets each, host order), then its
 * records and RRSIGs packed alike. Being after sigoff, they are copied only with the RRSIGs.
 *
 * where each record and RRSIG is a 2-octet length (host order) and the rdata. A typical A
 * RRset for "www.example.com." is 40 + 17 + 6 = 63 octets, a 64-octet slot, plus its share of
 * the bucket array (8 octets per RD_CACHE_BYTES_PER_BUCKET of budget).
 *
 * Eviction. New slots are taken at the head; room is made at the tail (FIFO with reinsertion,
 * which is CLOCK): a tail entry that was hit since it was last written is moved to the head
 * with its reference bit cleared; one that was not is dropped. New entries start unreferenced,
 * so a flood of names asked once only displaces itself. Expired entries go first: each shard
 * keeps a lower bound of its entries' expiry times and, when it needs room and that bound has
 * passed, scans its table once and marks every expired entry dead. After such a scan the bound
 * is above `now`, so a shard is scanned at most once per second of `now` however inserts come.
 * Dead slots (expired, replaced) are free once the tail reaches them; when they add up to
 * 1/RD_CACHE_COMPACT_SHARE of the ring, the tail moves live entries to the head instead of
 * dropping them until it has gathered the dead space (at most one lap of the ring: the copying
 * is bounded by that share for each octet gained). */
#ifndef RD_CACHE_CACHE_INT_H
#define RD_CACHE_CACHE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/limits.h"
#include "resolverd/cache.h"
#include "resolverd/name.h"

/* kinds, in the low bits of rd__centry_t.flags; a NODATA shares its key with the RRset of its
 * type, an NXDOMAIN has type 0 */
#define RD__CE_RRSET    0x01
#define RD__CE_NODATA   0x02
#define RD__CE_NXDOMAIN 0x04
#define RD__CE_KINDS    0x07
#define RD__CE_REF      0x08 /* CLOCK reference bit: hit since it was last written */
#define RD__CE_DEAD     0x10 /* unlinked from the table; the slot is free once the tail passes */
#define RD__CE_SKIP     0x20 /* padding to the end of the ring */

typedef struct rd__centry rd__centry_t;
struct rd__centry {
    rd__centry_t *next; /* hash chain */
    uint64_t expire;    /* absolute, in `now` seconds; expired when now >= expire */
    uint32_t hash;      /* low 32 bits of the key's hash */
    uint32_t datalen;   /* octets in data[] */
    uint32_t sigoff;    /* offset in data[] of the first RRSIG (= datalen when none) */
    uint16_t type, rclass;
    uint16_t nrr, nsig;
    uint8_t namelen; /* of the owner at data[0]; 1..255 */
    uint8_t flags;   /* RD__CE_* */
    uint8_t rank;
    uint8_t security;
    _Alignas(8) uint8_t data[];
};

/* Octets of ring an entry with datalen octets of data takes. */
static inline uint32_t rd__cache_slot(uint32_t datalen)
{
    return (uint32_t)((sizeof(rd__centry_t) + datalen + 7) & ~(size_t)7);
}

/* A lookup key: the lowercased owner followed by type and class (big endian), hashed
 * together. */
typedef struct {
    uint8_t buf[RD_NAME_MAX + 4];
    uint8_t namelen;
    uint16_t type, rclass;
    uint64_t hash;
} rd__ckey_t;

typedef struct {
    _Alignas(64) pthread_mutex_t lock;
    rd__centry_t **buckets;
    uint8_t *ring;
    uint32_t nbuckets;   /* power of two */
    uint32_t cap;        /* octets in ring, a multiple of 8 */
    uint32_t head;       /* next slot is written here */
    uint32_t tail;       /* oldest slot */
    uint32_t fill;       /* octets from tail to head: live, dead and skipped */
    uint32_t dead;       /* octets of dead slots within fill */
    size_t count;        /* live entries */
    uint64_t min_expire; /* no live entry expires before it (exact after a scan) */
    uint64_t hits, misses, inserts, evictions, expired;
} rd__cshard_t;

struct rd_cache {
    rd__cshard_t *shards;
    uint32_t nshards;   /* power of two */
    uint32_t entry_max; /* largest slot accepted */
    size_t max_bytes;
    size_t shard_fixed; /* octets a shard holds whatever it caches: table and ring overhead */
    /* TTL policy (rd_cache_limits_t): atomics, since rd_cache_set_limits (a reload) may change
     * it while workers insert; relaxed, as each field is a clamp on its own */
    _Atomic uint32_t min_ttl, max_ttl, max_negative_ttl;
    uint8_t key[RD_CACHE_KEY_LEN];
};

/* What goes into an entry: the key gives owner, type and class. */
typedef struct {
    uint64_t expire;
    uint8_t kind; /* RD__CE_RRSET, _NODATA, _NXDOMAIN */
    uint8_t rank, security;
    const uint8_t *soa_owner; /* negative entries only */
    size_t soa_owner_len;
    const rd_cache_rdata_t *rr;
    uint16_t nrr;
    const rd_cache_rdata_t *sig;
    uint16_t nsig;
    const rd_cache_rrset_t *proof; /* negative entries only: NSEC / NSEC3 sets */
    uint16_t nproof;
    uint32_t datalen, sigoff; /* from rd__cache_layout */
} rd__cput_t;

/* What a lookup copied out of an entry, still in the packed layout. */
typedef struct {
    uint8_t flags, rank, security, namelen;
    uint16_t type, nrr, nsig; /* nsig is 0 when RRSIGs were not copied */
    uint32_t ttl;
    uint32_t len;  /* octets at data */
    uint8_t *data; /* in the caller's arena */
} rd__ccopy_t;

/* SipHash-1-3 (Aumasson and Bernstein, 2012; the variant Python and Rust use for their hash
 * tables): a keyed hash fast on short inputs that outsiders cannot aim collisions at.
 * rd__siphash takes the round counts, so the tests can check the reference 2-4 vectors. */
uint64_t rd__siphash(const uint8_t key[16], const void *data, size_t len, int crounds, int drounds);
uint64_t rd__siphash13(const uint8_t key[16], const void *data, size_t len);

/* Octets a malloc of n really takes (src/base/limits.h). */
size_t rd__cache_charge(size_t n);

/* Fills k from an owner already checked valid (lowercasing it) and hashes it. */
void rd__cache_key(const rd_cache_t *c, rd__ckey_t *k, const uint8_t *owner, size_t namelen,
                   uint16_t type, uint16_t rclass);
/* Writes the header and data of a new entry into slot e (under the shard lock). */
void rd__cache_write(rd__centry_t *e, const rd__ckey_t *k, const rd__cput_t *p);

/* Stores an entry for k: the rank rule, room in the ring, linking. An NXDOMAIN cached for the
 * same name goes when p is data of at least its rank. RD_ESPACE when it is too big. */
int rd__cache_put(rd_cache_t *c, const rd__ckey_t *k, const rd__cput_t *p, uint64_t now);
/* Finds an unexpired entry of one of the kinds in kinds and copies it into arena (RRSIGs only
 * when want_sigs). count_miss: count a miss in the statistics. RD_ENOTFOUND, RD_ENOMEM. */
int rd__cache_get(rd_cache_t *c, const rd__ckey_t *k, uint64_t now, unsigned kinds, bool want_sigs,
                  bool count_miss, rd_arena_t *arena, rd__ccopy_t *out);

/* Shard set-up and teardown (cache_table.c); budget is the octets the shard may take. */
int rd__cshard_init(rd__cshard_t *s, size_t budget, size_t *fixed);
void rd__cshard_destroy(rd__cshard_t *s);
void rd__cshard_clear(rd__cshard_t *s);

#endif
