/* Shards: each a chained hash table over a ring of entries behind one mutex (the layout and
 * the eviction policy are described in cache_int.h). Every insert and lookup takes one shard
 * lock for the table step and one copy; nothing here allocates after creation. */
#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"

/* ---- set-up ---- */

/* The largest ring whose malloc costs at most avail octets (rd__cache_charge inverted). */
static size_t ring_cap(size_t avail)
{
    size_t cap = (avail & ~(size_t)(RD_CACHE_MALLOC_ALIGN - 1)) - RD_CACHE_MALLOC_HDR;
    if (cap >= RD_CACHE_MMAP_MIN)
        cap = (avail & ~(size_t)(RD_CACHE_PAGE - 1)) - 2 * RD_CACHE_MALLOC_HDR;
    if (cap > UINT32_MAX - 7) cap = UINT32_MAX - 7; /* offsets are 32-bit: 4 GiB a shard */
    return cap & ~(size_t)7;
}

int rd__cshard_init(rd__cshard_t *s, size_t budget, size_t *fixed)
{
    /* the power of two nearest to budget / RD_CACHE_BYTES_PER_BUCKET */
    size_t want = budget / RD_CACHE_BYTES_PER_BUCKET;
    uint32_t nb = RD_CACHE_BUCKETS_MIN;
    while (nb < (1u << 30) && (size_t)nb * 2 <= want) nb *= 2;
    if (nb < (1u << 30) && (size_t)nb * 3 < want * 2) nb *= 2;
    size_t table = rd__cache_charge((size_t)nb * sizeof(rd__centry_t *));
    if (rd_fails_assert(budget > table + 4 * RD_CACHE_PAGE)) return RD_EINVAL;
    size_t cap = ring_cap(budget - table);
    if (rd_fails_assert(rd__cache_charge(cap) + table <= budget)) return RD_EBUG;

    memset(s, 0, sizeof(*s));
    s->buckets = calloc(nb, sizeof(*s->buckets));
    s->ring = malloc(cap);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    /* glibc: spin briefly before sleeping, as the lock is only ever held for a short copy */
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    int err = pthread_mutex_init(&s->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (!s->buckets || !s->ring || err) {
        free(s->buckets);
        free(s->ring);
        if (!err) pthread_mutex_destroy(&s->lock);
        return RD_ENOMEM;
    }
    s->nbuckets = nb;
    s->cap = (uint32_t)cap;
    s->min_expire = UINT64_MAX;
    /* what the shard holds even when empty: its table and the ring's allocator overhead */
    *fixed = table + rd__cache_charge(cap) - cap;
    return RD_OK;
}

void rd__cshard_destroy(rd__cshard_t *s)
{
    free(s->buckets);
    free(s->ring);
    pthread_mutex_destroy(&s->lock);
}

void rd__cshard_clear(rd__cshard_t *s)
{
    memset(s->buckets, 0, (size_t)s->nbuckets * sizeof(*s->buckets));
    s->head = s->tail = s->fill = s->dead = 0;
    s->count = 0;
    s->min_expire = UINT64_MAX;
}

/* ---- the table ---- */

static rd__cshard_t *shard_of(rd_cache_t *c, uint64_t hash)
{
    /* bits 40 and up: independent of the bucket index, which takes the low bits */
    return &c->shards[(hash >> 40) & (c->nshards - 1)];
}

static bool key_eq(const rd__centry_t *e, const rd__ckey_t *k)
{
    return e->hash == (uint32_t)k->hash && e->type == k->type && e->rclass == k->rclass &&
           e->namelen == k->namelen && memcmp(e->data, k->buf, k->namelen) == 0;
}

/* The link that points at k's entry, or the NULL link ending its chain. */
static rd__centry_t **find_link(rd__cshard_t *s, const rd__ckey_t *k)
{
    rd__centry_t **pp = &s->buckets[(uint32_t)k->hash & (s->nbuckets - 1)];
    while (*pp && !key_eq(*pp, k)) pp = &(*pp)->next;
    return pp;
}

/* The link that points at a live entry. */
static rd__centry_t **link_to(rd__cshard_t *s, const rd__centry_t *e)
{
    rd__centry_t **pp = &s->buckets[e->hash & (s->nbuckets - 1)];
    while (*pp != e) {
        RD_REQUIRE(*pp); /* a live entry is in its chain, or the table is corrupt */
        pp = &(*pp)->next;
    }
    return pp;
}

/* Unlinks *pp and leaves its slot to be reclaimed when the tail reaches it. */
static void kill(rd__cshard_t *s, rd__centry_t **pp)
{
    rd__centry_t *e = *pp;
    *pp = e->next;
    e->flags |= RD__CE_DEAD;
    s->dead += rd__cache_slot(e->datalen);
    s->count--;
}

/* Marks every expired entry dead and makes min_expire exact. */
static void purge_expired(rd__cshard_t *s, uint64_t now)
{
    uint64_t min = UINT64_MAX;
    for (uint32_t i = 0; i < s->nbuckets; i++) {
        rd__centry_t **pp = &s->buckets[i];
        while (*pp) {
            if ((*pp)->expire <= now) {
                kill(s, pp);
                s->expired++;
            } else {
                if ((*pp)->expire < min) min = (*pp)->expire;
                pp = &(*pp)->next;
            }
        }
    }
    s->min_expire = min;
}

/* ---- the ring ---- */

/* Free octets right at the head. */
static uint32_t room_at_head(const rd__cshard_t *s)
{
    if (s->fill == s->cap) return 0;
    return s->head < s->tail ? s->tail - s->head : s->cap - s->head;
}

/* Frees or moves the slot at the tail; the caller has made sure head <= tail, so the free
 * octets [head, tail) lie just before it. */
static void reclaim_tail(rd__cshard_t *s, uint64_t now, bool keep_live, bool force,
                         uint64_t *passed)
{
    uint32_t rest = s->cap - s->tail;
    if (rest < sizeof(rd__centry_t)) { /* the end of the ring, too short for a skip slot */
        s->fill -= rest;
        s->tail = 0;
        *passed += rest;
        return;
    }
    rd__centry_t *e = (rd__centry_t *)(void *)(s->ring + s->tail);
    uint32_t sz = rd__cache_slot(e->datalen);
    *passed += sz;
    if (e->flags & RD__CE_SKIP) {
        /* nothing to do: the padding goes */
    } else if (e->flags & RD__CE_DEAD) {
        s->dead -= sz;
    } else if (e->expire <= now) {
        *link_to(s, e) = e->next;
        s->count--;
        s->expired++;
    } else if (!force && (keep_live || (e->flags & RD__CE_REF))) {
        /* CLOCK's second chance (or compaction): the entry moves to the head; the ranges may
         * overlap, hence memmove */
        rd__centry_t **pp = link_to(s, e);
        e->flags &= (uint8_t)~RD__CE_REF;
        memmove(s->ring + s->head, e, sz);
        *pp = (rd__centry_t *)(void *)(s->ring + s->head);
        s->head += sz;
        s->tail += sz;
        return;
    } else {
        *link_to(s, e) = e->next;
        s->count--;
        s->evictions++;
    }
    s->tail += sz;
    s->fill -= sz;
}

/* A slot of n octets (a multiple of 8, at most cap / RD_CACHE_ENTRY_SHARE) at the head. */
static rd__centry_t *ring_alloc(rd__cshard_t *s, uint32_t n, uint64_t now)
{
    if (room_at_head(s) < n && now >= s->min_expire) purge_expired(s, now);
    /* compaction only pays when much is dead; passed bounds the work: one lap keeping live
     * entries, a second giving referenced ones their second chance, then everything goes */
    bool compact = s->dead >= s->cap / RD_CACHE_COMPACT_SHARE;
    uint64_t passed = 0;
    for (;;) {
        if (s->fill == 0) s->head = s->tail = 0;
        if (room_at_head(s) >= n) break;
        if (s->head > s->tail || (s->head == s->tail && s->fill < s->cap)) {
            /* the free octets at the end are too few: pad to the end and start over at 0 */
            uint32_t rest = s->cap - s->head;
            if (rest >= sizeof(rd__centry_t)) {
                rd__centry_t *skip = (rd__centry_t *)(void *)(s->ring + s->head);
                memset(skip, 0, sizeof(*skip));
                skip->flags = RD__CE_SKIP;
                skip->datalen = rest - (uint32_t)sizeof(*skip);
            }
            s->fill += rest;
            s->head = 0;
            continue;
        }
        reclaim_tail(s, now, compact && passed < s->cap, passed >= 2 * (uint64_t)s->cap, &passed);
    }
    rd__centry_t *e = (rd__centry_t *)(void *)(s->ring + s->head);
    s->head += n;
    s->fill += n;
    return e;
}

/* ---- insert and lookup ---- */

/* RFC 2308 s5 and RFC 2181 s5.4.1: data at a name shows the name exists, so a cached NXDOMAIN
 * for it that is no more credible goes. */
static void drop_nxdomain(rd_cache_t *c, const rd__ckey_t *k, uint8_t rank, uint64_t now)
{
    rd__ckey_t nk;
    rd__cache_key(c, &nk, k->buf, k->namelen, 0, k->rclass);
    rd__cshard_t *s = shard_of(c, nk.hash);
    pthread_mutex_lock(&s->lock);
    rd__centry_t **pp = find_link(s, &nk);
    if (*pp && ((*pp)->expire <= now || (*pp)->rank <= rank)) kill(s, pp);
    pthread_mutex_unlock(&s->lock);
}

int rd__cache_put(rd_cache_t *c, const rd__ckey_t *k, const rd__cput_t *p, uint64_t now)
{
    uint32_t n = rd__cache_slot(p->datalen);
    if (n > c->entry_max) return RD_ESPACE;
    rd__cshard_t *s = shard_of(c, k->hash);
    uint8_t ref = 0;

    pthread_mutex_lock(&s->lock);
    rd__centry_t **pp = find_link(s, k);
    if (*pp) {
        rd__centry_t *old = *pp;
        /* RFC 2181 s5.4.1: less credible data never replaces what we hold */
        if (old->expire > now && old->rank > p->rank) {
            pthread_mutex_unlock(&s->lock);
            return RD_OK;
        }
        ref = old->flags & RD__CE_REF;
        kill(s, pp);
    }
    if (p->expire > now) { /* TTL 0: used once, never cached (but it did replace) */
        rd__centry_t *e = ring_alloc(s, n, now);
        rd__cache_write(e, k, p);
        e->flags |= ref;
        rd__centry_t **head = &s->buckets[e->hash & (s->nbuckets - 1)];
        e->next = *head;
        *head = e;
        s->count++;
        s->inserts++;
        if (e->expire < s->min_expire) s->min_expire = e->expire;
    }
    pthread_mutex_unlock(&s->lock);
    if (p->kind != RD__CE_NXDOMAIN) drop_nxdomain(c, k, p->rank, now);
    return RD_OK;
}

int rd__cache_get(rd_cache_t *c, const rd__ckey_t *k, uint64_t now, unsigned kinds, bool want_sigs,
                  bool count_miss, rd_arena_t *arena, rd__ccopy_t *out)
{
    rd__cshard_t *s = shard_of(c, k->hash);
    int ret = RD_ENOTFOUND;

    pthread_mutex_lock(&s->lock);
    rd__centry_t **pp = find_link(s, k);
    rd__centry_t *e = *pp;
    if (e && e->expire <= now) {
        kill(s, pp);
        s->expired++;
        e = NULL;
    }
    if (e && (e->flags & kinds)) {
        uint32_t len = want_sigs ? e->datalen : e->sigoff;
        uint8_t *d = rd_arena_alloc(arena, len);
        if (d) {
            memcpy(d, e->data, len);
            out->flags = e->flags & RD__CE_KINDS;
            out->rank = e->rank;
            out->security = e->security;
            out->namelen = e->namelen;
            out->type = e->type;
            out->nrr = e->nrr;
            out->nsig = want_sigs ? e->nsig : 0;
            /* a clock set back could make this more than any TTL stored */
            uint64_t left = e->expire - now;
            out->ttl = left > RD_CACHE_TTL_MAX ? RD_CACHE_TTL_MAX : (uint32_t)left;
            out->len = len;
            out->data = d;
            e->flags |= RD__CE_REF;
            s->hits++;
            ret = RD_OK;
        } else {
            ret = RD_ENOMEM;
        }
    }
    if (ret == RD_ENOTFOUND && count_miss) s->misses++;
    pthread_mutex_unlock(&s->lock);
    return ret;
}
