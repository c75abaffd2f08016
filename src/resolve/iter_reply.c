/* Classifying an upstream reply (RFC 1034 s5.3.3 step 4, RFC 2308, RFC 2181 s5.4.1): answer,
 * CNAME, referral, NXDOMAIN, NODATA, lame or error; caching only what is in bailiwick of the
 * zone cut the server was asked as (Unbound's scrubber: data outside the server's zone is
 * dropped, glue must be below the cut). */
#include <string.h>

#include "resolve/iter_int.h"

/* Attaches to out the RRSIGs of the same section covering (owner, type) (RFC 4035 s3.1.1:
 * they travel with their RRset), at most RD_RES_SIGS_PER_RRSET. Nothing is checked (no
 * validation yet); the set's TTL is lowered to theirs so that the data never outlives its
 * signatures in the cache (RFC 4035 s5.3.3 bounds it by the RRSIG's TTL). */
static int collect_sigs(rd_req_t *req, const rd_msg_t *m, int sec, const uint8_t *owner,
                        uint16_t type, rd_cache_rrset_t *out)
{
    out->nsigs = 0;
    out->rrsigs = NULL;
    if (type == RD_TYPE_RRSIG) return 0;
    rd_cache_rdata_t *sig = NULL;
    unsigned k = 0;
    uint8_t name[RD_NAME_MAX];
    for (unsigned i = 0; i < m->count[sec] && k < RD_RES_SIGS_PER_RRSET; i++) {
        const rd_rr_t *rr = rd_msg_rr(m, sec, i);
        size_t pos = rr->owner;
        if (rr->type != RD_TYPE_RRSIG || rr->rclass != req->qclass || rr->rdlen < 18) continue;
        if (rd_name_unpack(m->wire, m->len, &pos, name, NULL) != 0 || !rd_name_eq(name, owner))
            continue;
        size_t cap = (size_t)rr->rdlen + RD_NAME_MAX, len = 0;
        uint8_t *d = rd_arena_alloc(&req->arena, cap);
        if (!d) return RD_ENOMEM;
        if (rd_rdata_unpack(m->wire, m->len, rr->rdata, rr->rdlen, RD_TYPE_RRSIG, d, cap, &len) !=
                0 ||
            len < 2 || (uint16_t)(d[0] << 8 | d[1]) != type)
            continue; /* RFC 4034 s3.1.1: the type covered comes first */
        if (!sig) {
            sig = rd_arena_alloc(&req->arena, RD_RES_SIGS_PER_RRSET * sizeof(*sig));
            if (!sig) return RD_ENOMEM;
        }
        bool dup = false;
        for (unsigned j = 0; j < k; j++)
            dup |= sig[j].len == len && memcmp(sig[j].data, d, len) == 0;
        if (dup) continue;
        sig[k].data = d;
        sig[k].len = (uint16_t)len;
        k++;
        uint32_t ttl = rr->ttl > RD_CACHE_TTL_MAX ? 0 : rr->ttl;
        if (ttl < out->ttl) out->ttl = ttl;
    }
    out->nsigs = (uint16_t)k;
    out->rrsigs = sig;
    return 0;
}

/* Collects the RRset (owner, type) of one section, rdata uncompressed into the arena.
 * Returns the number of records (0: none) or a negative code. */
static int collect(rd_req_t *req, const rd_msg_t *m, int sec, const uint8_t *owner, uint16_t type,
                   rd_cache_rrset_t *out)
{
    unsigned n = 0;
    uint8_t name[RD_NAME_MAX];
    for (unsigned i = 0; i < m->count[sec]; i++) {
        const rd_rr_t *rr = rd_msg_rr(m, sec, i);
        size_t pos = rr->owner;
        if (rr->type != type || rr->rclass != req->qclass) continue;
        if (rd_name_unpack(m->wire, m->len, &pos, name, NULL) != 0) continue;
        n += rd_name_eq(name, owner);
    }
    if (n == 0) return 0;
    rd_cache_rdata_t *rd = rd_arena_alloc(&req->arena, n * sizeof(*rd));
    uint8_t *own = rd_arena_alloc(&req->arena, RD_NAME_MAX);
    if (!rd || !own) return RD_ENOMEM;
    rd_name_lower_copy(own, owner);
    memset(out, 0, sizeof(*out));
    out->owner = own;
    out->type = type;
    out->rclass = req->qclass;
    out->ttl = RD_CACHE_TTL_MAX;
    out->rdata = rd;
    unsigned k = 0;
    for (unsigned i = 0; i < m->count[sec] && k < n; i++) {
        const rd_rr_t *rr = rd_msg_rr(m, sec, i);
        size_t pos = rr->owner;
        if (rr->type != type || rr->rclass != req->qclass) continue;
        if (rd_name_unpack(m->wire, m->len, &pos, name, NULL) != 0 || !rd_name_eq(name, owner))
            continue;
        /* Uncompressed rdata grows by at most the names it holds: 2 names x 255 for SOA. */
        size_t cap = (size_t)rr->rdlen + 2 * RD_NAME_MAX, len = 0;
        uint8_t *d = rd_arena_alloc(&req->arena, cap);
        if (!d) return RD_ENOMEM;
        if (rd_rdata_unpack(m->wire, m->len, rr->rdata, rr->rdlen, type, d, cap, &len) != 0)
            continue;
        bool dup = false;
        for (unsigned j = 0; j < k; j++) dup |= rd[j].len == len && memcmp(rd[j].data, d, len) == 0;
        if (dup) continue;
        rd[k].data = d;
        rd[k].len = (uint16_t)len;
        k++;
        uint32_t ttl = rr->ttl > RD_CACHE_TTL_MAX ? 0 : rr->ttl;
        if (ttl < out->ttl) out->ttl = ttl; /* RFC 2181 s5.2: one TTL per RRset */
    }
    out->count = (uint16_t)k;
    int r = collect_sigs(req, m, sec, own, type, out);
    return r < 0 ? r : (int)k;
}

/* The owner of the first record of a type in a section, or false. */
static bool first_owner(const rd_msg_t *m, int sec, uint16_t type, uint8_t *owner)
{
    for (unsigned i = 0; i < m->count[sec]; i++) {
        const rd_rr_t *rr = rd_msg_rr(m, sec, i);
        size_t pos = rr->owner;
        if (rr->type == type && rd_name_unpack(m->wire, m->len, &pos, owner, NULL) == 0)
            return true;
    }
    return false;
}

/* The TTL the client sees for data just received: the one the cache stores (cache-min-ttl,
 * cache-max-ttl), so that the first answer and every later one from the cache agree (Unbound
 * clamps both alike). */
static void answer_ttl(rd_req_t *req, rd_cache_rrset_t *rs)
{
    rs->ttl = rd_cache_ttl_positive(req->res->cache, rs->ttl);
}

static void cache_put(rd_req_t *req, rd_cache_rrset_t *rs, uint8_t rank, uint64_t now_ms)
{
    rs->rank = rank;
    rs->security = RD_CACHE_SEC_UNCHECKED;
    /* A failed insert (too big, TTL 0) only costs a later query: the request goes on with
     * its own copy. */
    (void)rd_cache_insert_rrset(req->res->cache, rs, rd__res_now_s(now_ms));
    answer_ttl(req, rs);
}

/* Records a final positive RRset for the top goal. */
static int goal_answer(rd_req_t *req, rd__goal_t *g, const rd_cache_rrset_t *rs)
{
    g->state = RD__G_DONE;
    if (g->sub) {
        rd__iter_sub_addrs(req, rs);
        return 0;
    }
    req->rcode = RD_RCODE_NOERROR;
    return rd__iter_add_answer(req, rs);
}

/* The NSEC / NSEC3 RRsets of the authority section, with their RRSIGs, owned inside the zone
 * (RFC 4035 s3.1.3: the proof a DO=1 client gets with a negative answer; Unbound's scrubber
 * likewise drops what is outside the zone). At most RD_CACHE_NEG_PROOFS sets and twice that in
 * records and in RRSIGs: the rest is dropped, as the cache would refuse it. */
static int collect_proofs(rd_req_t *req, const rd_msg_t *m, const uint8_t *zone,
                          rd_cache_neg_t *neg)
{
    rd_cache_rrset_t *ps = NULL;
    unsigned n = 0, nrr = 0, nsig = 0, tries = 0;
    uint8_t name[RD_NAME_MAX];
    /* tries: sets collected, kept or not, so a reply full of unusable ones costs little */
    for (unsigned i = 0;
         i < m->count[RD_SEC_NS] && n < RD_CACHE_NEG_PROOFS && tries < 2 * RD_CACHE_NEG_PROOFS;
         i++) {
        const rd_rr_t *rr = rd_msg_rr(m, RD_SEC_NS, i);
        size_t pos = rr->owner;
        if ((rr->type != RD_TYPE_NSEC && rr->type != RD_TYPE_NSEC3) || rr->rclass != req->qclass)
            continue;
        if (rd_name_unpack(m->wire, m->len, &pos, name, NULL) != 0 || !rd_name_in(name, zone))
            continue;
        bool seen = false;
        for (unsigned j = 0; j < n; j++)
            seen |= ps[j].type == rr->type && rd_name_eq(ps[j].owner, name);
        if (seen) continue;
        if (!ps) {
            ps = rd_arena_alloc(&req->arena, RD_CACHE_NEG_PROOFS * sizeof(*ps));
            if (!ps) return RD_ENOMEM;
        }
        tries++;
        int r = collect(req, m, RD_SEC_NS, name, rr->type, &ps[n]);
        if (r < 0) return r;
        if (r == 0) continue; /* its rdata did not parse */
        if (nrr + ps[n].count > 2 * RD_CACHE_NEG_PROOFS ||
            nsig + ps[n].nsigs > 2 * RD_CACHE_NEG_PROOFS)
            break;
        nrr += ps[n].count;
        nsig += ps[n].nsigs;
        n++;
    }
    neg->nproof = (uint16_t)n;
    neg->proof = n ? ps : NULL;
    return 0;
}

/* NXDOMAIN / NODATA for the top goal at name; the SOA (when in bailiwick) is cached and kept. */
static int goal_negative(rd_req_t *req, rd__goal_t *g, const rd_msg_t *m, const uint8_t *name,
                         bool nxdomain, bool aa, uint64_t now_ms)
{
    g->state = RD__G_DONE;
    uint8_t soa_owner[RD_NAME_MAX];
    rd_cache_rrset_t soa;
    rd_cache_neg_t *neg = NULL;
    /* RFC 2308 s5: the SOA must be the zone's (in bailiwick of the cut and above the name). */
    if (first_owner(m, RD_SEC_NS, RD_TYPE_SOA, soa_owner) && rd_name_in(soa_owner, g->cut->name) &&
        rd_name_in(name, soa_owner)) {
        int r = collect(req, m, RD_SEC_NS, soa_owner, RD_TYPE_SOA, &soa);
        if (r < 0) return r;
        if (r == 1 && soa.rdata[0].len >= 20) {
            neg = rd_arena_alloc(&req->arena, sizeof(*neg));
            uint8_t *own = rd_arena_alloc(&req->arena, RD_NAME_MAX);
            if (!neg || !own) return RD_ENOMEM;
            rd_name_lower_copy(own, name);
            memset(neg, 0, sizeof(*neg));
            neg->owner = own;
            neg->type = nxdomain ? 0 : g->qtype;
            neg->rclass = req->qclass;
            neg->kind = nxdomain ? RD_CACHE_NXDOMAIN : RD_CACHE_NODATA;
            neg->rank = aa ? RD_CACHE_RANK_AUTH_AUTHORITY : RD_CACHE_RANK_AUTHORITY;
            neg->security = RD_CACHE_SEC_UNCHECKED;
            neg->soa_owner = soa.owner;
            neg->soa = soa.rdata[0];
            neg->nsigs = soa.nsigs; /* RFC 4035 s3.1.3: the SOA goes with its RRSIGs */
            neg->rrsigs = soa.rrsigs;
            if ((r = collect_proofs(req, m, soa.owner, neg)) != 0) return r;
            /* RFC 2308 s5: the lesser of the SOA TTL and its MINIMUM. */
            const uint8_t *mp = soa.rdata[0].data + soa.rdata[0].len - 4;
            uint32_t minimum =
                (uint32_t)mp[0] << 24 | (uint32_t)mp[1] << 16 | (uint32_t)mp[2] << 8 | mp[3];
            neg->ttl = soa.ttl;
            uint64_t now_s = rd__res_now_s(now_ms);
            if (rd_cache_insert_negative(req->res->cache, neg, now_s) == RD_ESPACE && neg->nproof) {
                /* proofs too big for one entry (huge NSEC bitmaps): the negative answer itself
                 * is still worth caching; this client gets the proofs, later ones do not */
                rd_cache_neg_t bare = *neg;
                bare.nproof = 0;
                bare.proof = NULL;
                (void)rd_cache_insert_negative(req->res->cache, &bare, now_s);
            }
            /* RFC 2308 s5: the lesser of the SOA TTL and its MINIMUM, capped by
             * cache-max-negative-ttl: what the cache stored, so later answers agree. */
            neg->ttl = rd_cache_ttl_negative(req->res->cache, soa.ttl, minimum);
        }
    }
    if (!g->sub) {
        req->rcode = nxdomain ? RD_RCODE_NXDOMAIN : RD_RCODE_NOERROR;
        req->neg = neg;
    }
    return 0;
}

static int referral(rd_req_t *req, rd__goal_t *g, const rd_msg_t *m, const uint8_t *zone,
                    uint64_t now_ms)
{
    if (++g->referrals > req->res->opts.max_referrals) {
        rd__iter_fail(req, RD__EDE_OTHER, "referral limit reached");
        rd__iter_remember_failure(req, now_ms);
        return 0;
    }
    rd_cache_rrset_t ns;
    int r = collect(req, m, RD_SEC_NS, zone, RD_TYPE_NS, &ns);
    if (r <= 0) return r;
    cache_put(req, &ns, RD_CACHE_RANK_AUTHORITY, now_ms);
    rd__cut_t *cut = rd_arena_alloc(&req->arena, sizeof(*cut));
    if (!cut) return RD_ENOMEM;
    memset(cut, 0, sizeof(*cut));
    rd_name_lower_copy(cut->name, zone);
    const uint8_t *server_zone = g->cut->name;
    for (unsigned i = 0; i < ns.count && cut->nns < RD_RES_NS_PER_CUT; i++) {
        size_t len;
        if (rd_name_check(ns.rdata[i].data, ns.rdata[i].len, &len) != 0) continue;
        rd__ns_t *n = &cut->ns[cut->nns++];
        rd_name_lower_copy(n->name, ns.rdata[i].data);
        /* Glue only from within the zone of the server that sent it (in bailiwick). */
        if (!rd_name_in(n->name, server_zone)) continue;
        static const uint16_t types[2] = {RD_TYPE_A, RD_TYPE_AAAA};
        for (unsigned t = 0; t < 2; t++) {
            rd_cache_rrset_t a;
            r = collect(req, m, RD_SEC_AR, n->name, types[t], &a);
            if (r < 0) return r;
            if (r == 0) continue;
            cache_put(req, &a, RD_CACHE_RANK_ADDITIONAL, now_ms);
            rd__iter_ns_add_addrs(n, &a, req->res->opts.upstream_port);
        }
    }
    /* Addresses of out-of-bailiwick names may already be cached. */
    for (unsigned i = 0; i < cut->nns; i++) {
        rd__ns_t *n = &cut->ns[i];
        if (n->naddr) continue;
        static const uint16_t types[2] = {RD_TYPE_A, RD_TYPE_AAAA};
        for (unsigned t = 0; t < 2; t++) {
            rd_cache_rrset_t a;
            if (rd_cache_lookup_rrset(req->res->cache, n->name, types[t], RD_CLASS_IN,
                                      rd__res_now_s(now_ms), false, &req->arena, &a) != 0)
                continue;
            rd__iter_ns_add_addrs(n, &a, req->res->opts.upstream_port);
        }
    }
    g->cut = cut;
    g->state = RD__G_QUERY;
    return 0;
}

/* RFC 6672 s3.1: a CNAME synthesised from a DNAME comes after the DNAME; the client gets both.
 * Returns 1 when a DNAME above cur was found (cached and added to the answer), 0 when none, or
 * a negative code. The synthesised CNAME is then not cached: repeats are synthesised again
 * from the cached DNAME (rd__iter_from_cache, RFC 6672 s3.2), which keeps the DNAME in every
 * answer, CNAME questions included. */
static int dname_above(rd_req_t *req, const rd_msg_t *m, const uint8_t *cur, const uint8_t *zone,
                       bool aa, uint64_t now_ms)
{
    uint8_t owner[RD_NAME_MAX];
    for (unsigned i = 0; i < m->count[RD_SEC_AN]; i++) {
        const rd_rr_t *rr = rd_msg_rr(m, RD_SEC_AN, i);
        size_t pos = rr->owner;
        if (rr->type != RD_TYPE_DNAME || rd_name_unpack(m->wire, m->len, &pos, owner, NULL) != 0)
            continue;
        if (!rd_name_in(cur, owner) || rd_name_eq(cur, owner) || !rd_name_in(owner, zone)) continue;
        rd_cache_rrset_t rs;
        int r = collect(req, m, RD_SEC_AN, owner, RD_TYPE_DNAME, &rs);
        if (r <= 0) return r;
        cache_put(req, &rs, aa ? RD_CACHE_RANK_AUTH_ANSWER : RD_CACHE_RANK_ANSWER, now_ms);
        r = rd__iter_add_answer(req, &rs);
        return r < 0 ? r : 1;
    }
    return 0;
}

/* The server answered: the next question at this cut may go to any of its servers again. */
static void cut_progress(rd__cut_t *cut)
{
    cut->ntried = 0;
    cut->round = 0;
    memset(cut->timed_out, 0, sizeof(cut->timed_out));
    memset(cut->servfail, 0, sizeof(cut->servfail));
}

/* A reply to a minimised question (RFC 9156 s3): a referral moves down; anything else that
 * is authoritative means no cut at that name, so one more label is sent. NXDOMAIN turns
 * minimisation off for the goal (relaxed mode: broken servers answer it for empty
 * non-terminals) and the full name is asked. Nothing else from the reply is used. */
static int classify_minimised(rd_req_t *req, rd__goal_t *g, const rd_msg_t *m, uint64_t now_ms)
{
    const uint8_t *zone = g->cut->name;
    int rcode = rd_msg_rcode(m);
    bool aa = (m->flags & RD_F_AA) != 0;
    if (rcode != RD_RCODE_NOERROR && rcode != RD_RCODE_NXDOMAIN) return 0;
    uint8_t ns_owner[RD_NAME_MAX];
    bool has_ns = first_owner(m, RD_SEC_NS, RD_TYPE_NS, ns_owner);
    if (!aa && has_ns) {
        if (rd_name_in(ns_owner, zone) && !rd_name_eq(ns_owner, zone) &&
            rd_name_in(g->qname, ns_owner))
            return referral(req, g, m, ns_owner, now_ms);
        return 0; /* lame */
    }
    if (!aa) return 0;
    if (rcode == RD_RCODE_NXDOMAIN)
        g->no_min = true;
    else
        g->min_labels++;
    cut_progress(g->cut);
    return 0;
}

/* A forward upstream's reply (RD=1): final. The answer chain for the question is taken as
 * it comes (the upstream followed it) and cached with rank ANSWER; nothing else is cached
 * except a negative answer's SOA at or below the forward zone (an upstream for corp.example
 * cannot inject data for other zones). Errors and referrals: next upstream. */
static int classify_forward(rd_req_t *req, rd__goal_t *g, const rd_msg_t *m, uint64_t now_ms)
{
    int rcode = rd_msg_rcode(m);
    if (rcode != RD_RCODE_NOERROR && rcode != RD_RCODE_NXDOMAIN) return 0;
    uint8_t cur[RD_NAME_MAX];
    if (rcode == RD_RCODE_NOERROR && m->count[RD_SEC_AN] == 0 &&
        first_owner(m, RD_SEC_NS, RD_TYPE_NS, cur) && !first_owner(m, RD_SEC_NS, RD_TYPE_SOA, cur))
        return 0; /* a referral: not a recursive server, next upstream */
    memcpy(cur, g->qname, rd_name_len(g->qname));
    for (unsigned links = 0;; links++) {
        rd_cache_rrset_t rs;
        int r = collect(req, m, RD_SEC_AN, cur, g->qtype, &rs);
        if (r < 0) return r;
        if (r > 0) {
            cache_put(req, &rs, RD_CACHE_RANK_ANSWER, now_ms);
            return goal_answer(req, g, &rs);
        }
        if (g->sub || g->qtype == RD_TYPE_CNAME) break;
        r = collect(req, m, RD_SEC_AN, cur, RD_TYPE_CNAME, &rs);
        if (r < 0) return r;
        if (r == 0) break;
        cache_put(req, &rs, RD_CACHE_RANK_ANSWER, now_ms);
        if (++req->cnames > req->res->opts.max_cname || links >= RD_RES_CNAME_MAX) {
            rd__iter_fail(req, RD__EDE_OTHER, "CNAME chain too long");
            return 0;
        }
        if ((r = rd__iter_add_answer(req, &rs)) != 0) return r;
        rd_name_lower_copy(cur, rs.rdata[0].data);
    }
    /* NXDOMAIN or NODATA for the end of the chain; the SOA only when in the forward zone
     * (goal_negative checks it against the cut, which is the forward zone). */
    return goal_negative(req, g, m, cur, rcode == RD_RCODE_NXDOMAIN, false, now_ms);
}

/* The priming answer (RFC 8109 s4): NOERROR, AA, the root's NS RRset in the answer section.
 * It is cached as authoritative answer data (it replaces whatever referral-ranked root NS set
 * there was) and the addresses of those names found in the additional section as
 * additional-ranked data: everything is below the root, so in bailiwick (RFC 8109 s4.1 notes
 * the root servers may not return them all; the hints fill the gaps in find_cut). Anything
 * else: the next hints server. */
static int classify_prime(rd_req_t *req, rd__goal_t *g, const rd_msg_t *m, uint64_t now_ms)
{
    static const uint8_t root[1] = {0};
    static const uint16_t types[2] = {RD_TYPE_A, RD_TYPE_AAAA};
    if (rd_msg_rcode(m) != RD_RCODE_NOERROR || !(m->flags & RD_F_AA)) return 0;
    rd_cache_rrset_t ns;
    int r = collect(req, m, RD_SEC_AN, root, RD_TYPE_NS, &ns);
    if (r <= 0) return r;
    cache_put(req, &ns, RD_CACHE_RANK_AUTH_ANSWER, now_ms);
    for (unsigned i = 0; i < ns.count && i < RD_RES_NS_PER_CUT; i++) {
        size_t len;
        if (rd_name_check(ns.rdata[i].data, ns.rdata[i].len, &len) != 0) continue;
        for (unsigned t = 0; t < 2; t++) {
            rd_cache_rrset_t a;
            r = collect(req, m, RD_SEC_AR, ns.rdata[i].data, types[t], &a);
            if (r < 0) return r;
            if (r > 0) cache_put(req, &a, RD_CACHE_RANK_ADDITIONAL, now_ms);
        }
    }
    g->state = RD__G_DONE;
    return 0;
}

int rd__iter_classify(rd_req_t *req, const rd_msg_t *m, uint64_t now_ms)
{
    rd__goal_t *g = rd__iter_top(req);
    const uint8_t *zone = g->cut->name;
    int rcode = rd_msg_rcode(m);
    bool aa = (m->flags & RD_F_AA) != 0;
    g->state = RD__G_QUERY; /* unless classified below: next server */
    if (g->prime) return classify_prime(req, g, m, now_ms);
    if (g->cut->forward) return classify_forward(req, g, m, now_ms);
    if (!rd_name_eq(req->sname, g->qname) || req->stype != g->qtype)
        return classify_minimised(req, g, m, now_ms);
    if (rcode != RD_RCODE_NOERROR && rcode != RD_RCODE_NXDOMAIN) return 0;

    /* Answer section: the data, or a CNAME chain the server followed inside its zone. */
    uint8_t cur[RD_NAME_MAX];
    memcpy(cur, g->qname, rd_name_len(g->qname));
    bool moved = false;
    for (;;) {
        if (!rd_name_in(cur, zone)) break; /* out of bailiwick: never used */
        rd_cache_rrset_t rs;
        int r = collect(req, m, RD_SEC_AN, cur, g->qtype, &rs);
        if (r < 0) return r;
        if (r > 0) {
            /* RFC 6672 s3.4: a CNAME asked for below a DNAME is the synthesised one; the
             * client gets the DNAME before it, as for any other type. */
            int dn = 0;
            if (g->qtype == RD_TYPE_CNAME && !g->sub &&
                (dn = dname_above(req, m, cur, zone, aa, now_ms)) < 0)
                return dn;
            if (dn == 0)
                cache_put(req, &rs, aa ? RD_CACHE_RANK_AUTH_ANSWER : RD_CACHE_RANK_ANSWER, now_ms);
            else
                answer_ttl(req, &rs); /* synthesised from the DNAME, not cached */
            return goal_answer(req, g, &rs);
        }
        if (g->sub || g->qtype == RD_TYPE_CNAME) break;
        r = collect(req, m, RD_SEC_AN, cur, RD_TYPE_CNAME, &rs);
        if (r < 0) return r;
        if (r == 0) break;
        int dn = dname_above(req, m, cur, zone, aa, now_ms);
        if (dn < 0) return dn;
        if (dn == 0)
            cache_put(req, &rs, aa ? RD_CACHE_RANK_AUTH_ANSWER : RD_CACHE_RANK_ANSWER, now_ms);
        else
            answer_ttl(req, &rs); /* synthesised from the DNAME, not cached */
        if (++req->cnames > req->res->opts.max_cname) {
            rd__iter_fail(req, RD__EDE_OTHER, "CNAME chain too long");
            return 0;
        }
        if ((r = rd__iter_add_answer(req, &rs)) != 0) return r;
        rd_name_lower_copy(cur, rs.rdata[0].data);
        moved = true;
    }
    if (moved) {
        /* RFC 1034 s5.3.3 step 4c: restart at the alias target, from the cache and its own
         * closest cut. An NXDOMAIN for the target from this same zone ends it here. */
        if (rcode == RD_RCODE_NXDOMAIN && rd_name_in(cur, zone))
            return goal_negative(req, g, m, cur, true, aa, now_ms);
        memcpy(g->qname, cur, rd_name_len(cur));
        g->state = RD__G_START;
        g->referrals = 0;
        g->no_policy = false; /* the alias target may be in a stub or forward zone */
        return 0;
    }
    if (rcode == RD_RCODE_NXDOMAIN) return goal_negative(req, g, m, g->qname, true, aa, now_ms);

    uint8_t ns_owner[RD_NAME_MAX];
    bool has_ns = first_owner(m, RD_SEC_NS, RD_TYPE_NS, ns_owner);
    bool has_soa = first_owner(m, RD_SEC_NS, RD_TYPE_SOA, cur);
    if (!aa && has_ns) {
        /* A referral must go down: below the cut we asked and at or above the name. */
        if (rd_name_in(ns_owner, zone) && !rd_name_eq(ns_owner, zone) &&
            rd_name_in(g->qname, ns_owner))
            return referral(req, g, m, ns_owner, now_ms);
        return 0; /* upward or sideways: lame, next server */
    }
    if (aa || has_soa) return goal_negative(req, g, m, g->qname, false, aa, now_ms);
    return 0; /* empty, not authoritative, no delegation: next server */
}
