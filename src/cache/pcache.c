/* Packet cache (include/resolverd/pcache.h): fixed slots in sets of RD_PCACHE_WAYS, allocated
 * once; a set is found by a keyed hash of the question and guarded by one of
 * RD_PCACHE_LOCKS mutexes, held only to compare and copy. Entries are whole responses as the
 * engine built them, with the offsets of their TTL fields so a hit can count them down. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "cache/cache_int.h"
#include "resolverd/base.h"
#include "resolverd/pcache.h"

typedef struct {
    uint64_t hash;
    uint64_t gen;      /* rd_pcache_clear() generation it was stored in */
    uint64_t stored_s; /* when; TTLs in wire are as of then */
    uint32_t life;     /* seconds it stays valid: its smallest TTL */
    uint16_t len;      /* 0: free */
    uint16_t qtype;
    uint8_t flags, nttl, qname_len;
    uint16_t ttl_off[RD_PCACHE_TTLS];
    uint8_t wire[RD_PCACHE_WIRE_MAX];
} slot_t;

typedef struct {
    pthread_mutex_t mtx;
    uint64_t hits, misses, stores; /* under mtx: no shared counter on the hot path */
    char pad[64];                  /* keep neighbouring locks off one cache line */
} lock_t;

struct rd_pcache {
    uint8_t key[16];
    size_t nsets;
    slot_t *slots;
    uint64_t gen; /* atomic */
    lock_t locks[RD_PCACHE_LOCKS];
};

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Two wire names of equal length, ASCII case ignored (length octets are < 64, so lowering
 * every octet never changes one). */
static bool name_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

int rd_pcache_new(size_t bytes, const uint8_t key[16], rd_pcache_t **out)
{
    rd_pcache_t *pc = calloc(1, sizeof(*pc));
    if (!pc) return RD_ENOMEM;
    memcpy(pc->key, key, 16);
    pc->nsets = bytes / (sizeof(slot_t) * RD_PCACHE_WAYS);
    if (pc->nsets > 0) {
        /* calloc: untouched slots cost no RSS until a store writes them */
        pc->slots = calloc(pc->nsets * RD_PCACHE_WAYS, sizeof(slot_t));
        if (!pc->slots) {
            free(pc);
            return RD_ENOMEM;
        }
    }
    for (unsigned i = 0; i < RD_PCACHE_LOCKS; i++) pthread_mutex_init(&pc->locks[i].mtx, NULL);
    *out = pc;
    return 0;
}

void rd_pcache_free(rd_pcache_t *pc)
{
    if (!pc) return;
    for (unsigned i = 0; i < RD_PCACHE_LOCKS; i++) pthread_mutex_destroy(&pc->locks[i].mtx);
    free(pc->slots);
    free(pc);
}

static uint64_t hash_of(const rd_pcache_t *pc, const uint8_t *qname, size_t n, uint16_t qtype,
                        uint8_t flags)
{
    uint8_t buf[255 + 3];
    for (size_t i = 0; i < n; i++) buf[i] = lower(qname[i]);
    buf[n] = (uint8_t)(qtype >> 8), buf[n + 1] = (uint8_t)qtype, buf[n + 2] = flags;
    return rd__siphash13(pc->key, buf, n + 3);
}

/* QTYPEs 128-255 are meta and query types (RFC 6895 s3.1: ANY, AXFR, IXFR, TSIG ...), 41 is
 * OPT, 0 is reserved: each has an answer of its own making, never a cached one. */
static bool plain_type(uint16_t t)
{
    return t != 0 && t != 41 && (t < 128 || t > 255);
}

/* EDNS options that cannot change the answer: a client cookie (we run no server cookies, RFC
 * 7873 s5.2: the answer is the same as without one; most stubs and dig send one), padding
 * (the transport pads, RFC 8467) and an NSID request (not served). Anything else, or an
 * option the parser would reject, goes to the normal path. */
static bool harmless_options(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (len - i < 4) return false;
        uint16_t code = get16(p + i), olen = get16(p + i + 2);
        i += 4;
        if (olen > len - i) return false;
        if (code == 10) { /* COOKIE: RFC 7873 s5.2.2 lengths, as rd_msg_parse checks */
            if (olen != 8 && (olen < 16 || olen > 40)) return false;
        } else if (code != 12 && code != 3) {
            return false;
        }
        i += olen;
    }
    return true;
}

bool rd_pcache_key(const rd_pcache_t *pc, const uint8_t *q, size_t len, uint16_t edns_max,
                   rd_pcache_key_t *k)
{
    if (!pc || pc->nsets == 0 || len < 12 + 1 + 4) return false;
    /* QR=0, opcode QUERY, TC=0, RD=1 (RD=0 has its own policy); Z and RCODE clear */
    if ((q[2] & 0xfb) != 0x01 || (q[3] & 0x4f) != 0) return false;
    if (get16(q + 4) != 1 || get16(q + 6) != 0 || get16(q + 8) != 0 || get16(q + 10) > 1)
        return false;
    size_t i = 12;
    while (q[i] != 0) {
        if (q[i] > 63) return false; /* a pointer or an extended label: the normal path */
        i += 1u + q[i];
        if (i >= len || i - 12 >= 255) return false;
    }
    size_t nlen = i + 1 - 12;
    if (nlen > 255 || i + 5 > len) return false;
    uint16_t qtype = get16(q + i + 1);
    if (!plain_type(qtype) || get16(q + i + 3) != 1 /* IN */) return false;
    size_t pos = i + 5;
    uint8_t flags = (q[3] & 0x10) ? RD_PCACHE_F_CD : 0;
    uint16_t limit = 512;
    if (get16(q + 10) == 1) {
        /* OPT: root owner, TYPE 41, version 0, no extended RCODE, harmless options only */
        if (pos + 11 > len || q[pos] != 0 || get16(q + pos + 1) != 41) return false;
        if (q[pos + 5] != 0 || q[pos + 6] != 0) return false;
        size_t rdlen = get16(q + pos + 9);
        if (pos + 11 + rdlen != len || !harmless_options(q + pos + 11, rdlen)) return false;
        uint16_t udp = get16(q + pos + 3); /* RFC 6891 s6.2.5: below 512 means 512 */
        limit = udp < 512 ? 512 : udp;
        if (limit > edns_max) limit = edns_max < 512 ? 512 : edns_max;
        flags |= RD_PCACHE_F_EDNS;
        if (q[pos + 7] & 0x80) flags |= RD_PCACHE_F_DO;
    } else if (pos != len) {
        return false;
    }
    k->qname = q + 12;
    k->qname_len = (uint8_t)nlen;
    k->qtype = qtype;
    k->flags = flags;
    k->id = get16(q);
    k->limit = limit;
    k->hash = hash_of(pc, k->qname, nlen, qtype, flags);
    return true;
}

void rd_pcache_key_of(const rd_pcache_t *pc, const uint8_t *qname, uint16_t qtype, bool do_bit,
                      bool cd, bool edns, rd_pcache_key_t *k)
{
    size_t n = 0;
    while (qname[n] != 0 && n < 255) n += 1u + qname[n];
    n = n < 255 ? n + 1 : 255;
    k->qname = qname;
    k->qname_len = (uint8_t)n;
    k->qtype = qtype;
    k->flags = (uint8_t)((do_bit ? RD_PCACHE_F_DO : 0) | (cd ? RD_PCACHE_F_CD : 0) |
                         (edns ? RD_PCACHE_F_EDNS : 0));
    k->id = 0;
    k->limit = 0;
    k->hash = pc ? hash_of(pc, qname, n, qtype, k->flags) : 0;
}

static size_t set_of(const rd_pcache_t *pc, uint64_t hash)
{
    return (size_t)(((hash >> 32) * (uint64_t)pc->nsets) >> 32);
}

static lock_t *lock_of(rd_pcache_t *pc, size_t set)
{
    return &pc->locks[set % RD_PCACHE_LOCKS];
}

static bool matches(const slot_t *s, const rd_pcache_key_t *k, uint64_t gen)
{
    return s->len != 0 && s->hash == k->hash && s->gen == gen && s->flags == k->flags &&
           s->qtype == k->qtype && s->qname_len == k->qname_len &&
           name_eq(s->wire + 12, k->qname, k->qname_len);
}

size_t rd_pcache_get(rd_pcache_t *pc, const rd_pcache_key_t *k, uint64_t now_s, uint8_t *out,
                     size_t cap)
{
    if (!pc || pc->nsets == 0) return 0;
    uint64_t gen = __atomic_load_n(&pc->gen, __ATOMIC_ACQUIRE);
    size_t set = set_of(pc, k->hash);
    slot_t *ways = &pc->slots[set * RD_PCACHE_WAYS];
    lock_t *l = lock_of(pc, set);
    uint16_t off[RD_PCACHE_TTLS];
    size_t len = 0;
    unsigned nttl = 0;
    uint32_t elapsed = 0;
    pthread_mutex_lock(&l->mtx);
    for (unsigned i = 0; i < RD_PCACHE_WAYS; i++) {
        slot_t *s = &ways[i];
        if (!matches(s, k, gen)) continue;
        uint64_t age = now_s > s->stored_s ? now_s - s->stored_s : 0;
        if (age >= s->life) {
            s->len = 0; /* expired: free the slot */
            break;
        }
        if (s->len > k->limit || s->len > cap) break; /* the slow path truncates */
        len = s->len;
        nttl = s->nttl;
        elapsed = (uint32_t)age;
        memcpy(out, s->wire, len);
        memcpy(off, s->ttl_off, nttl * sizeof(off[0]));
        break;
    }
    if (len)
        l->hits++;
    else
        l->misses++;
    pthread_mutex_unlock(&l->mtx);
    if (!len) return 0;
    out[0] = (uint8_t)(k->id >> 8), out[1] = (uint8_t)k->id;
    memcpy(out + 12, k->qname, k->qname_len); /* the client's case (RFC 1035 s7.3, 0x20) */
    for (unsigned i = 0; i < nttl; i++) put32(out + off[i], get32(out + off[i]) - elapsed);
    return len;
}

/* Skips a name in a response (compressed or not); 0 when it runs out of the message. */
static size_t skip_name(const uint8_t *p, size_t len, size_t i)
{
    for (unsigned labels = 0; i < len && labels < 128; labels++) {
        uint8_t c = p[i];
        if (c == 0) return i + 1;
        if ((c & 0xc0) == 0xc0) return i + 2 <= len ? i + 2 : 0;
        if (c > 63) return 0;
        i += 1u + c;
    }
    return 0;
}

void rd_pcache_put(rd_pcache_t *pc, const rd_pcache_key_t *k, const uint8_t *resp, size_t len,
                   uint64_t now_s)
{
    if (!pc || pc->nsets == 0 || len < 12 || len > RD_PCACHE_WIRE_MAX) return;
    /* QR=1, not truncated; NOERROR or NXDOMAIN (failures are not worth remembering here) */
    if (!(resp[2] & 0x80) || (resp[2] & 0x02)) return;
    if ((resp[3] & 0x0f) != 0 && (resp[3] & 0x0f) != 3) return;
    if (get16(resp + 4) != 1) return;
    size_t i = 12 + (size_t)k->qname_len;
    if (i + 4 > len || !name_eq(resp + 12, k->qname, k->qname_len) || resp[i - 1] != 0 ||
        get16(resp + i) != k->qtype)
        return;
    i += 4;
    unsigned nrr = (unsigned)get16(resp + 6) + get16(resp + 8) + get16(resp + 10);
    uint16_t off[RD_PCACHE_TTLS];
    unsigned nttl = 0;
    uint32_t life = RD_CACHE_TTL_MAX;
    bool opt = false;
    for (unsigned r = 0; r < nrr; r++) {
        i = skip_name(resp, len, i);
        if (i == 0 || i + 10 > len) return;
        uint16_t type = get16(resp + i), rdlen = get16(resp + i + 8);
        if (i + 10 + (size_t)rdlen > len) return;
        if (type == 41) {
            /* OPT: EDNS options (EDE, keepalive, padding...) belong to one exchange */
            if (opt || rdlen != 0) return;
            opt = true;
        } else {
            if (nttl == RD_PCACHE_TTLS) return;
            uint32_t ttl = get32(resp + i + 4);
            if (ttl < life) life = ttl;
            off[nttl++] = (uint16_t)(i + 4);
        }
        i += 10u + rdlen;
    }
    /* no record: nothing bounds how long it stays true */
    if (i != len || opt != ((k->flags & RD_PCACHE_F_EDNS) != 0) || nttl == 0 || life == 0) return;
    uint64_t gen = __atomic_load_n(&pc->gen, __ATOMIC_ACQUIRE);
    size_t set = set_of(pc, k->hash);
    slot_t *ways = &pc->slots[set * RD_PCACHE_WAYS];
    lock_t *l = lock_of(pc, set);
    pthread_mutex_lock(&l->mtx);
    /* the same key, else a free or stale way, else the one closest to expiry */
    slot_t *victim = NULL;
    uint64_t victim_end = UINT64_MAX;
    for (unsigned w = 0; w < RD_PCACHE_WAYS; w++) {
        slot_t *s = &ways[w];
        if (matches(s, k, gen)) {
            victim = s;
            break;
        }
        uint64_t end = (s->len == 0 || s->gen != gen) ? 0 : s->stored_s + s->life;
        if (end < victim_end) victim = s, victim_end = end;
    }
    victim->hash = k->hash;
    victim->gen = gen;
    victim->stored_s = now_s;
    victim->life = life;
    victim->len = (uint16_t)len;
    victim->qtype = k->qtype;
    victim->flags = k->flags;
    victim->qname_len = k->qname_len;
    victim->nttl = (uint8_t)nttl;
    memcpy(victim->ttl_off, off, nttl * sizeof(off[0]));
    memcpy(victim->wire, resp, len);
    l->stores++;
    pthread_mutex_unlock(&l->mtx);
}

void rd_pcache_clear(rd_pcache_t *pc)
{
    if (pc) __atomic_add_fetch(&pc->gen, 1, __ATOMIC_ACQ_REL);
}

void rd_pcache_stats(const rd_pcache_t *pc, rd_pcache_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!pc) return;
    for (unsigned i = 0; i < RD_PCACHE_LOCKS; i++) {
        lock_t *l = (lock_t *)&pc->locks[i];
        pthread_mutex_lock(&l->mtx);
        out->hits += l->hits;
        out->misses += l->misses;
        out->stores += l->stores;
        pthread_mutex_unlock(&l->mtx);
    }
}
