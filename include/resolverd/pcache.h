/* Packet cache (DESIGN.md "One query", step 3): whole responses to exact repeat questions, in
 * front of the engine, so a hot answer is a hash, one lookup and one copy with the ID,
 * question case and TTLs patched. No I/O, no allocation after creation; shared by every
 * worker (sharded, a short lock per shard held only for the copy).
 *
 * Only what cannot differ between two clients asking the same question is cached: responses
 * to RD=1, class IN queries with at most an OPT of version 0 whose options cannot
 * change the answer (client cookie, padding, NSID request),
 * NOERROR or NXDOMAIN, not truncated, no EDE. The key is (qname without case, qtype, DO,
 * CD, EDNS present); a response larger than the asking client's limit is a miss (the slow
 * path truncates). An entry lives until its smallest TTL runs out; TTLs are counted down
 * from the time it was stored. rd_pcache_clear() (reload) empties it at once. */
#ifndef RESOLVERD_PCACHE_H
#define RESOLVERD_PCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rd_pcache rd_pcache_t;

/* What the lookup needs of one query, read from its wire form by rd_pcache_key(). */
typedef struct {
    uint64_t hash;
    const uint8_t *qname; /* in the query (the client's case, copied into the answer) */
    uint8_t qname_len;    /* octets of the wire name, root label included */
    uint8_t flags;        /* RD_PCACHE_F_* */
    uint16_t qtype;
    uint16_t id;
    uint16_t limit; /* largest response this client takes over UDP */
} rd_pcache_key_t;

enum { RD_PCACHE_F_DO = 1, RD_PCACHE_F_CD = 2, RD_PCACHE_F_EDNS = 4 };

/* bytes: the memory budget (slots are allocated once, RSS grows as they fill); 0 gives a
 * cache that stores nothing. key: 16 octets for the keyed hash (outsiders cannot aim
 * collisions at one set). */
int rd_pcache_new(size_t bytes, const uint8_t key[16], rd_pcache_t **out);
void rd_pcache_free(rd_pcache_t *pc);

/* Reads the key of a UDP query; false when the query is not one the packet cache answers
 * (anything unusual: the normal path judges it). edns_max: our edns-buffer-size. */
bool rd_pcache_key(const rd_pcache_t *pc, const uint8_t *q, size_t len, uint16_t edns_max,
                   rd_pcache_key_t *k);
/* The same key from a query's parts (qname in wire form, any case), for storing an answer
 * whose query is gone. */
void rd_pcache_key_of(const rd_pcache_t *pc, const uint8_t *qname, uint16_t qtype, bool do_bit,
                      bool cd, bool edns, rd_pcache_key_t *k);

/* Copies a live answer for k into out with k's ID and question case and TTLs counted down;
 * returns its length, 0 on a miss. now_s: any monotonic seconds, the same for every call. */
size_t rd_pcache_get(rd_pcache_t *pc, const rd_pcache_key_t *k, uint64_t now_s, uint8_t *out,
                     size_t cap);
/* Offers a response built for k. Stored only when cacheable (see above) and it fits a slot. */
void rd_pcache_put(rd_pcache_t *pc, const rd_pcache_key_t *k, const uint8_t *resp, size_t len,
                   uint64_t now_s);
/* Forgets every entry (a reload may change what any name answers). Thread-safe. */
void rd_pcache_clear(rd_pcache_t *pc);

typedef struct {
    uint64_t hits, misses, stores;
} rd_pcache_stats_t;
void rd_pcache_stats(const rd_pcache_t *pc, rd_pcache_stats_t *out);

#endif
