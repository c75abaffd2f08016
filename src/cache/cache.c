/* The cache object: creation with its shards and their budgets, clearing, counters, keys. */
#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"

size_t rd__cache_charge(size_t n)
{
    if (n >= RD_CACHE_MMAP_MIN)
        return (n + 2 * RD_CACHE_MALLOC_HDR + RD_CACHE_PAGE - 1) & ~(size_t)(RD_CACHE_PAGE - 1);
    size_t c = (n + RD_CACHE_MALLOC_HDR + RD_CACHE_MALLOC_ALIGN - 1) &
               ~(size_t)(RD_CACHE_MALLOC_ALIGN - 1);
    return c < RD_CACHE_MALLOC_MIN ? RD_CACHE_MALLOC_MIN : c;
}

void rd__cache_key(const rd_cache_t *c, rd__ckey_t *k, const uint8_t *owner, size_t namelen,
                   uint16_t type, uint16_t rclass)
{
    RD_REQUIRE(namelen >= 1 && namelen <= RD_NAME_MAX);
    rd_name_lower_copy(k->buf, owner);
    k->namelen = (uint8_t)namelen;
    k->type = type;
    k->rclass = rclass;
    k->buf[namelen] = (uint8_t)(type >> 8);
    k->buf[namelen + 1] = (uint8_t)type;
    k->buf[namelen + 2] = (uint8_t)(rclass >> 8);
    k->buf[namelen + 3] = (uint8_t)rclass;
    k->hash = rd__siphash13(c->key, k->buf, namelen + 4);
}

/* The cache object and the shard array (aligned_alloc pads by the alignment). */
static size_t fixed_charge(uint32_t nshards)
{
    return rd__cache_charge(sizeof(rd_cache_t)) +
           rd__cache_charge((size_t)nshards * sizeof(rd__cshard_t) + _Alignof(rd__cshard_t));
}

static void destroy(rd_cache_t *c, uint32_t ninit)
{
    for (uint32_t i = 0; i < ninit; i++) rd__cshard_destroy(&c->shards[i]);
    free(c->shards);
    free(c);
}

/* The TTL policy to apply (defaults for NULL), or RD_EINVAL. */
static int limits_check(const rd_cache_limits_t *limits, rd_cache_limits_t *lim)
{
    *lim = (rd_cache_limits_t){RD_CACHE_MIN_TTL_DEFAULT, RD_CACHE_MAX_TTL_DEFAULT,
                               RD_CACHE_MAX_NEG_TTL_DEFAULT};
    if (limits) *lim = *limits;
    if (lim->min_ttl > lim->max_ttl) return RD_EINVAL;
    /* RFC 2181 s8: nothing lives longer than 2^31-1 seconds, whatever the config says */
    if (lim->max_ttl > RD_CACHE_TTL_MAX) lim->max_ttl = RD_CACHE_TTL_MAX;
    if (lim->min_ttl > RD_CACHE_TTL_MAX) lim->min_ttl = RD_CACHE_TTL_MAX;
    if (lim->max_negative_ttl > RD_CACHE_TTL_MAX) lim->max_negative_ttl = RD_CACHE_TTL_MAX;
    return RD_OK;
}

static void limits_store(rd_cache_t *c, const rd_cache_limits_t *lim)
{
    atomic_store_explicit(&c->min_ttl, lim->min_ttl, memory_order_relaxed);
    atomic_store_explicit(&c->max_ttl, lim->max_ttl, memory_order_relaxed);
    atomic_store_explicit(&c->max_negative_ttl, lim->max_negative_ttl, memory_order_relaxed);
}

int rd_cache_set_limits(rd_cache_t *c, const rd_cache_limits_t *limits)
{
    rd_cache_limits_t lim;
    if (!c || limits_check(limits, &lim)) return RD_EINVAL;
    limits_store(c, &lim);
    return RD_OK;
}

int rd_cache_new(size_t max_bytes, const uint8_t key[RD_CACHE_KEY_LEN],
                 const rd_cache_limits_t *limits, rd_cache_t **out)
{
    if (!out) return RD_EINVAL;
    *out = NULL;
    rd_cache_limits_t lim;
    if (!key || max_bytes < RD_CACHE_SIZE_MIN || limits_check(limits, &lim)) return RD_EINVAL;

    uint32_t n = 1;
    while (n < RD_CACHE_SHARDS_MAX && max_bytes / ((size_t)n * 2) >= RD_CACHE_SHARD_TARGET) n *= 2;
    size_t fixed = fixed_charge(n);
    /* RD_CACHE_SIZE_MIN keeps this far away; checked so that a change there cannot break it */
    if (rd_fails_assert(fixed < max_bytes / 2)) return RD_EINVAL;
    size_t budget = (max_bytes - fixed) / n;

    rd_cache_t *c = calloc(1, sizeof(*c));
    if (!c) return RD_ENOMEM;
    size_t shards_size = (size_t)n * sizeof(rd__cshard_t);
    c->shards = aligned_alloc(_Alignof(rd__cshard_t), shards_size);
    if (!c->shards) {
        free(c);
        return RD_ENOMEM;
    }
    memset(c->shards, 0, shards_size);
    c->nshards = n;
    c->max_bytes = max_bytes;
    limits_store(c, &lim);
    memcpy(c->key, key, RD_CACHE_KEY_LEN);
    uint32_t i;
    int ret = RD_OK;
    for (i = 0; i < n && ret == RD_OK; i++) {
        ret = rd__cshard_init(&c->shards[i], budget, &c->shard_fixed);
        if (ret) break;
    }
    if (ret) {
        destroy(c, i);
        return ret;
    }
    c->entry_max = c->shards[0].cap / RD_CACHE_ENTRY_SHARE;
    *out = c;
    return RD_OK;
}

void rd_cache_free(rd_cache_t *c)
{
    if (c) destroy(c, c->nshards);
}

void rd_cache_clear(rd_cache_t *c)
{
    for (uint32_t i = 0; i < c->nshards; i++) {
        rd__cshard_t *s = &c->shards[i];
        pthread_mutex_lock(&s->lock);
        rd__cshard_clear(s);
        pthread_mutex_unlock(&s->lock);
    }
}

void rd_cache_stats(rd_cache_t *c, rd_cache_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->limit = c->max_bytes;
    out->shards = c->nshards;
    out->bytes = fixed_charge(c->nshards) + c->nshards * c->shard_fixed;
    for (uint32_t i = 0; i < c->nshards; i++) {
        rd__cshard_t *s = &c->shards[i];
        pthread_mutex_lock(&s->lock);
        out->bytes += s->fill;
        out->entries += s->count;
        out->hits += s->hits;
        out->misses += s->misses;
        out->inserts += s->inserts;
        out->evictions += s->evictions;
        out->expired += s->expired;
        pthread_mutex_unlock(&s->lock);
    }
}
