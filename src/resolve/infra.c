/* Per-worker infrastructure table (issue 5): smoothed RTT per upstream server as Unbound's
 * rtt_update (srtt = 7/8 old + 1/8 sample, rttvar = 3/4 old + 1/4 |diff|, RFC 6298), a
 * timeout from them with exponential backoff on consecutive timeouts, hold-down after
 * RD_RES_HOLD_TIMEOUTS of them, and address-family preference. Plus the failure cache of
 * RFC 9520. Both tables are set-associative with LRU replacement inside a set: bounded, no
 * allocation after rd_res_new, no deletion. */
#include <string.h>

#include "resolve/infra.h"

#define INFRA_SETS (RD_RES_INFRA_MAX / RD_RES_INFRA_WAYS)
#define FAIL_SETS  (RD_RES_FAILCACHE_MAX / RD_RES_FAILCACHE_WAYS)
_Static_assert(INFRA_SETS *RD_RES_INFRA_WAYS == RD_RES_INFRA_MAX, "infra table shape");
_Static_assert(FAIL_SETS *RD_RES_FAILCACHE_WAYS == RD_RES_FAILCACHE_MAX, "fail table shape");

static uint32_t fnv(uint32_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static uint32_t addr_hash(const rd_addr_t *a)
{
    uint8_t hdr[3] = {a->family, (uint8_t)(a->port >> 8), (uint8_t)a->port};
    uint32_t h = fnv(2166136261u, hdr, 3);
    return fnv(h, a->addr, a->family == 4 ? 4 : 16);
}

static bool addr_eq(const rd_addr_t *a, const rd_addr_t *b)
{
    if (a->family != b->family || a->port != b->port) return false;
    return memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

static unsigned fam(const rd_addr_t *a)
{
    return a->family == 6;
}

/* The entry of a, or NULL; one forgotten after RD_RES_INFRA_TTL_MS idle counts as absent. */
static const rd__infra_ent_t *find(const rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms)
{
    const rd__infra_ent_t *set = &t->ent[(addr_hash(a) % INFRA_SETS) * RD_RES_INFRA_WAYS];
    for (unsigned i = 0; i < RD_RES_INFRA_WAYS; i++)
        if (set[i].used && addr_eq(&set[i].addr, a))
            return now_ms - set[i].last_ms > RD_RES_INFRA_TTL_MS ? NULL : &set[i];
    return NULL;
}

/* The entry of a, made when missing (replacing the least recently used of its set). */
static rd__infra_ent_t *get(rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms)
{
    rd__infra_ent_t *set = &t->ent[(addr_hash(a) % INFRA_SETS) * RD_RES_INFRA_WAYS];
    rd__infra_ent_t *victim = &set[0];
    for (unsigned i = 0; i < RD_RES_INFRA_WAYS; i++) {
        rd__infra_ent_t *e = &set[i];
        if (e->used && addr_eq(&e->addr, a)) {
            if (now_ms - e->last_ms > RD_RES_INFRA_TTL_MS) break; /* forgotten: start over */
            return e;
        }
        if (!e->used) {
            if (victim->used) victim = e;
        } else if (victim->used && e->last_ms < victim->last_ms) {
            victim = e;
        }
    }
    /* Re-look for a stale entry of the same address so it is not duplicated. */
    for (unsigned i = 0; i < RD_RES_INFRA_WAYS; i++)
        if (set[i].used && addr_eq(&set[i].addr, a)) victim = &set[i];
    memset(victim, 0, sizeof(*victim));
    victim->used = true;
    victim->addr = *a;
    victim->last_ms = now_ms;
    return victim;
}

static uint32_t clamp(uint64_t v, uint32_t lo, uint32_t hi)
{
    return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

void rd__infra_get(const rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms, uint32_t init_ms,
                   uint32_t cap_ms, unsigned round, rd__infra_view_t *out)
{
    const rd__infra_ent_t *e = find(t, a, now_ms);
    uint32_t srtt = init_ms, rto = init_ms;
    unsigned backoff = round;
    out->held = false;
    if (e) {
        if (e->known) {
            /* Decay toward the initial estimate while idle: halfway per RD_RES_RTT_DECAY_MS. */
            uint64_t s = e->srtt, v = e->rttvar;
            uint64_t idle = now_ms > e->last_ms ? now_ms - e->last_ms : 0;
            for (uint64_t k = idle / RD_RES_RTT_DECAY_MS; k > 0 && s != init_ms; k--) {
                s = (s + init_ms) / 2;
                v = (v + init_ms / 2) / 2;
            }
            srtt = (uint32_t)s;
            rto = clamp(s + 4 * v, RD_RES_RTO_MIN_MS, cap_ms);
        }
        if (e->timeouts > backoff) backoff = e->timeouts;
        out->held = e->timeouts >= RD_RES_HOLD_TIMEOUTS && now_ms < e->hold_until;
    }
    if (backoff > 16) backoff = 16;
    out->timeout = clamp((uint64_t)rto << backoff, RD_RES_RTO_MIN_MS, cap_ms);
    /* Unknown servers come first (score 0), so each gets measured once instead of a server
     * measured slow keeping the work; a timeout makes the expected wait the timeout. */
    uint64_t score = e && e->timeouts ? out->timeout : e && e->known ? srtt : 0;
    if (t->fam_fail[fam(a)] >= RD_RES_FAMILY_FAIL && t->fam_fail[!fam(a)] < RD_RES_FAMILY_FAIL)
        score += RD_RES_FAMILY_PENALTY_MS;
    out->score = (uint32_t)score;
}

void rd__infra_rtt(rd__infra_t *t, const rd_addr_t *a, uint32_t rtt_ms, uint64_t now_ms)
{
    rd__infra_ent_t *e = get(t, a, now_ms);
    if (!e->known) {
        /* RFC 6298 s2.2: the first sample */
        e->srtt = rtt_ms;
        e->rttvar = rtt_ms / 2;
        e->known = true;
    } else {
        uint32_t diff = rtt_ms > e->srtt ? rtt_ms - e->srtt : e->srtt - rtt_ms;
        e->rttvar = (3 * e->rttvar + diff) / 4;
        e->srtt = (7 * e->srtt + rtt_ms) / 8;
    }
    e->timeouts = 0;
    e->hold_until = 0;
    e->last_ms = now_ms;
    t->fam_fail[fam(a)] = 0;
}

void rd__infra_heard(rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms)
{
    const rd__infra_ent_t *f = find(t, a, now_ms);
    if (!f || f->timeouts == 0) return;     /* nothing to clear: no entry made for it */
    rd__infra_ent_t *e = get(t, a, now_ms); /* the same entry, writable */
    e->timeouts = 0;
    e->hold_until = 0;
    e->last_ms = now_ms;
    t->fam_fail[fam(a)] = 0;
}

void rd__infra_timeout(rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms)
{
    rd__infra_ent_t *e = get(t, a, now_ms);
    if (e->timeouts < UINT16_MAX) e->timeouts++;
    if (e->timeouts >= RD_RES_HOLD_TIMEOUTS) e->hold_until = now_ms + RD_RES_HOLD_MS;
    e->last_ms = now_ms;
    if (t->fam_fail[fam(a)] < 1000000) t->fam_fail[fam(a)]++;
}

unsigned rd__infra_timeouts(const rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms)
{
    const rd__infra_ent_t *e = find(t, a, now_ms);
    return e ? e->timeouts : 0;
}

void rd__infra_no0x20(rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms)
{
    rd__infra_ent_t *e = get(t, a, now_ms);
    e->plain_until = now_ms + RD_RES_NO0X20_MS;
    e->last_ms = now_ms;
}

bool rd__infra_is_no0x20(const rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms)
{
    const rd__infra_ent_t *e = find(t, a, now_ms);
    return e && now_ms < e->plain_until;
}

/* ---- failure cache (RFC 9520) ---- */

static unsigned fail_set(const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
    uint8_t tc[4] = {(uint8_t)(qtype >> 8), (uint8_t)qtype, (uint8_t)(qclass >> 8),
                     (uint8_t)qclass};
    uint32_t h = fnv(fnv(2166136261u, tc, 4), qname, rd_name_len(qname));
    return (h % FAIL_SETS) * RD_RES_FAILCACHE_WAYS;
}

static bool fail_match(const rd__fail_ent_t *f, const uint8_t *qname, uint16_t qtype,
                       uint16_t qclass)
{
    return f->used && f->qtype == qtype && f->qclass == qclass && rd_name_eq(f->name, qname);
}

bool rd__fail_lookup(const rd__infra_t *t, const uint8_t *qname, uint16_t qtype, uint16_t qclass,
                     uint64_t now_ms, int *ede)
{
    const rd__fail_ent_t *set = &t->fail[fail_set(qname, qtype, qclass)];
    for (unsigned i = 0; i < RD_RES_FAILCACHE_WAYS; i++)
        if (fail_match(&set[i], qname, qtype, qclass)) {
            if (now_ms >= set[i].until) return false;
            *ede = set[i].ede;
            return true;
        }
    return false;
}

void rd__fail_insert(rd__infra_t *t, const uint8_t *qname, uint16_t qtype, uint16_t qclass, int ede,
                     uint64_t now_ms)
{
    rd__fail_ent_t *set = &t->fail[fail_set(qname, qtype, qclass)];
    rd__fail_ent_t *victim = &set[0];
    for (unsigned i = 0; i < RD_RES_FAILCACHE_WAYS; i++) {
        rd__fail_ent_t *f = &set[i];
        if (fail_match(f, qname, qtype, qclass)) {
            victim = f;
            break;
        }
        if (victim->used && (!f->used || f->until < victim->until)) victim = f;
    }
    /* Backoff (RFC 9520 s3.2): a question failing again soon after its last hold ended is
     * held twice as long, up to the cap; after a quiet spell it starts over. */
    unsigned fails = 1;
    if (fail_match(victim, qname, qtype, qclass) &&
        now_ms < victim->until + RD_RES_FAILCACHE_MAX_MS)
        fails = victim->fails < 16 ? victim->fails + 1u : 16u;
    uint64_t hold = (uint64_t)RD_RES_FAILCACHE_MS << (fails - 1);
    if (hold > RD_RES_FAILCACHE_MAX_MS) hold = RD_RES_FAILCACHE_MAX_MS;
    victim->used = true;
    rd_name_lower_copy(victim->name, qname);
    victim->qtype = qtype;
    victim->qclass = qclass;
    victim->fails = (uint8_t)fails;
    victim->ede = (int16_t)(ede < 0 || ede > INT16_MAX ? 0 : ede);
    victim->until = now_ms + hold;
}
