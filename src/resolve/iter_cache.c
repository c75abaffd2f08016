/* What the engine answers from the cache alone (RFC 1034 s5.3.3 step 1): the client's goal
 * with the CNAME chain and DNAME synthesis (RFC 6672 s3.2), negative answers (RFC 2308,
 * RFC 8020), and for RD=0 clients allowed to snoop the closest cached delegation. */
#include <string.h>

#include "resolve/iter_int.h"

static const uint8_t *rdata_name_target(const rd_cache_rrset_t *rs)
{
    size_t len;
    if (rs->count < 1 || rd_name_check(rs->rdata[0].data, rs->rdata[0].len, &len) != 0) return NULL;
    return rs->rdata[0].data;
}

/* RFC 6672 s3.2 / s3.3: the closest cached DNAME at a proper ancestor of the goal's name
 * answers for every name below it without asking upstream: the DNAME goes into the answer with
 * the CNAME synthesised from it (owner: the name; target: the name with the DNAME's owner
 * replaced by its target; TTL: the DNAME's, RFC 6672 s3.3), and resolution goes on at the
 * target (a CNAME question ends there). Returns 1 when a DNAME applied (the goal moved to the
 * target, or is done), 0 when none is cached, or a negative code. */
static int dname_from_cache(rd_req_t *req, rd__goal_t *g, uint64_t now_s, bool sigs)
{
    if (g->qname[0] == 0) return 0;
    for (const uint8_t *anc = g->qname + g->qname[0] + 1; anc[0] != 0; anc += anc[0] + 1) {
        rd_cache_rrset_t dn;
        int r = rd_cache_lookup_rrset(req->res->cache, anc, RD_TYPE_DNAME, req->qclass, now_s, sigs,
                                      &req->arena, &dn);
        if (r == RD_ENOTFOUND) continue;
        if (r != 0) return r;
        const uint8_t *target = rdata_name_target(&dn);
        if (!target) return 0;
        if (++req->cnames > req->res->opts.max_cname) {
            rd__iter_fail(req, RD__EDE_OTHER, "CNAME chain too long");
            return 1;
        }
        if ((r = rd__iter_add_answer(req, &dn)) != 0) return r;
        size_t plen = (size_t)(anc - g->qname), tlen = rd_name_len(target);
        if (plen + tlen > RD_NAME_MAX) {
            /* RFC 6672 s2.2: the substituted name would be too long. */
            req->rcode = RD__RCODE_YXDOMAIN;
            g->state = RD__G_DONE;
            return 1;
        }
        uint8_t syn[RD_NAME_MAX];
        memcpy(syn, g->qname, plen);
        rd_name_lower_copy(syn + plen, target);
        rd_cache_rdata_t rd = {syn, (uint16_t)(plen + tlen)};
        rd_cache_rrset_t cn = {.owner = g->qname,
                               .type = RD_TYPE_CNAME,
                               .rclass = req->qclass,
                               .ttl = dn.ttl,
                               .rank = dn.rank,
                               .security = dn.security,
                               .count = 1,
                               .rdata = &rd};
        if ((r = rd__iter_add_answer(req, &cn)) != 0) return r;
        if (g->qtype == RD_TYPE_CNAME) {
            req->rcode = RD_RCODE_NOERROR;
            g->state = RD__G_DONE;
            return 1;
        }
        memcpy(g->qname, syn, plen + tlen);
        return 1;
    }
    return 0;
}

/* RFC 1034 s5.3.3 step 1: what the cache knows. CNAMEs are followed for the client's goal;
 * NS-name lookups take no aliases (RFC 2181 s10.3). */
int rd__iter_from_cache(rd_req_t *req, rd__goal_t *g, uint64_t now_s)
{
    rd_cache_t *c = req->res->cache;
    for (;;) {
        rd_cache_rrset_t rs;
        rd_cache_neg_t neg;
        bool sigs = req->do_bit && !g->sub; /* the client's own answer: RRSIGs for DO=1 */
        int r = rd_cache_lookup_rrset(c, g->qname, g->qtype, req->qclass, now_s, sigs, &req->arena,
                                      &rs);
        /* RFC 2181 s5.4.1: glue and a referral's NS set are never answers to a client; only
         * answer-section data is (Unbound's rrset trust). The name is resolved from its zone
         * and the authoritative set replaces them. An NS-name lookup may use them: they are
         * how servers are reached. */
        if (r == 0 && !g->sub && rs.rank < RD_CACHE_RANK_ANSWER) r = RD_ENOTFOUND;
        if (r == 0) {
            if (g->sub) {
                rd__iter_sub_addrs(req, &rs);
            } else {
                if ((r = rd__iter_add_answer(req, &rs)) != 0) return r;
                req->rcode = RD_RCODE_NOERROR;
            }
            g->state = RD__G_DONE;
            return RD__FROM_CACHE_DONE;
        }
        if (r != RD_ENOTFOUND) return r;
        r = rd_cache_lookup_negative(c, g->qname, g->qtype, req->qclass, now_s, sigs, &req->arena,
                                     &neg);
        if (r == RD_ENOTFOUND)
            r = rd_cache_lookup_nxdomain_above(c, g->qname, req->qclass, now_s, sigs, &req->arena,
                                               &neg);
        if (r == 0) {
            if (!g->sub) {
                req->neg = rd_arena_alloc(&req->arena, sizeof(*req->neg));
                if (!req->neg) return RD_ENOMEM;
                *req->neg = neg;
                req->rcode = neg.kind == RD_CACHE_NXDOMAIN ? RD_RCODE_NXDOMAIN : RD_RCODE_NOERROR;
            }
            g->state = RD__G_DONE;
            return RD__FROM_CACHE_DONE;
        }
        if (r != RD_ENOTFOUND) return r;
        if (g->sub) return RD__FROM_CACHE_MISS;
        r = g->qtype == RD_TYPE_CNAME
                ? RD_ENOTFOUND
                : rd_cache_lookup_rrset(c, g->qname, RD_TYPE_CNAME, req->qclass, now_s, sigs,
                                        &req->arena, &rs);
        if (r == RD_ENOTFOUND) {
            r = dname_from_cache(req, g, now_s, sigs);
            if (r <= 0) return r; /* 0: RD__FROM_CACHE_MISS */
            if (req->done || g->state == RD__G_DONE) return RD__FROM_CACHE_DONE;
            continue; /* at the synthesised CNAME's target */
        }
        if (r != 0) return r;
        const uint8_t *target = rdata_name_target(&rs);
        if (!target) return RD__FROM_CACHE_MISS;
        if (++req->cnames > req->res->opts.max_cname) {
            rd__iter_fail(req, RD__EDE_OTHER, "CNAME chain too long");
            return RD__FROM_CACHE_DONE;
        }
        if ((r = rd__iter_add_answer(req, &rs)) != 0) return r;
        rd_name_lower_copy(g->qname, target);
    }
}

/* ---- RD=0 (allow_snoop) ---- */

/* Appends to the referral an RRset built from rdata (copied into the arena). */
static int ref_add(rd_req_t *req, const uint8_t *owner, uint16_t type, uint32_t ttl,
                   const rd_cache_rdata_t *rd, unsigned n, const rd_cache_rdata_t *sigs,
                   unsigned nsigs)
{
    if (n == 0 || req->nref >= sizeof(req->ref) / sizeof(req->ref[0])) return 0;
    rd_cache_rrset_t *d = &req->ref[req->nref];
    uint8_t *own = rd_arena_alloc(&req->arena, RD_NAME_MAX);
    rd_cache_rdata_t *rdata = rd__iter_copy_rdata(&req->arena, rd, n);
    rd_cache_rdata_t *s = nsigs ? rd__iter_copy_rdata(&req->arena, sigs, nsigs) : NULL;
    if (!own || !rdata || (nsigs && !s)) return RD_ENOMEM;
    rd_name_lower_copy(own, owner);
    *d = (rd_cache_rrset_t){.owner = own,
                            .type = type,
                            .rclass = req->qclass,
                            .ttl = ttl,
                            .count = (uint16_t)n,
                            .nsigs = (uint16_t)nsigs,
                            .rdata = rdata,
                            .rrsigs = s};
    req->nref++;
    return 0;
}

/* RD=0 with allow_snoop, and the cache has no answer: the closest delegation it knows, as a
 * referral (NOERROR, NS in authority, their cached addresses in additional), as Unbound's
 * answer_norec_from_cache does. No upstream query: with nothing cached, the root's servers
 * from the hints (local data). */
int rd__iter_norec_referral(rd_req_t *req, const uint8_t *qname, uint64_t now_s)
{
    rd_cache_t *c = req->res->cache;
    static const uint16_t types[2] = {RD_TYPE_A, RD_TYPE_AAAA};
    req->rcode = RD_RCODE_NOERROR;
    req->done = true;
    for (const uint8_t *name = qname;; name += name[0] + 1) {
        rd_cache_rrset_t ns;
        int r = rd_cache_lookup_rrset(c, name, RD_TYPE_NS, req->qclass, now_s, req->do_bit,
                                      &req->arena, &ns);
        if (r == 0) {
            if ((r = ref_add(req, ns.owner, RD_TYPE_NS, ns.ttl, ns.rdata, ns.count, ns.rrsigs,
                             ns.nsigs)) != 0)
                return r;
            for (unsigned i = 0; i < ns.count && i < RD_RES_NS_PER_CUT; i++) {
                size_t len;
                if (rd_name_check(ns.rdata[i].data, ns.rdata[i].len, &len) != 0) continue;
                for (unsigned t = 0; t < 2; t++) {
                    rd_cache_rrset_t a;
                    if (rd_cache_lookup_rrset(c, ns.rdata[i].data, types[t], req->qclass, now_s,
                                              req->do_bit, &req->arena, &a) != 0)
                        continue;
                    if ((r = ref_add(req, a.owner, a.type, a.ttl, a.rdata, a.count, a.rrsigs,
                                     a.nsigs)) != 0)
                        return r;
                }
            }
            return 0;
        }
        if (r != RD_ENOTFOUND) return r;
        if (name[0] == 0) break;
    }
    const rd__cut_t *h = &req->res->hints.cut;
    rd_cache_rdata_t names[RD_RES_NS_PER_CUT];
    for (unsigned i = 0; i < h->nns; i++)
        names[i] = (rd_cache_rdata_t){h->ns[i].name, (uint16_t)rd_name_len(h->ns[i].name)};
    static const uint8_t root[1] = {0};
    int r = ref_add(req, root, RD_TYPE_NS, req->res->hints.ttl, names, h->nns, NULL, 0);
    for (unsigned i = 0; i < h->nns && r == 0; i++)
        for (unsigned t = 0; t < 2 && r == 0; t++) {
            rd_cache_rdata_t ad[RD_RES_ADDRS_PER_NS];
            unsigned n = 0;
            for (unsigned j = 0; j < h->ns[i].naddr; j++)
                if (h->ns[i].addr[j].family == (t == 0 ? 4 : 6))
                    ad[n++] = (rd_cache_rdata_t){h->ns[i].addr[j].addr, t == 0 ? 4 : 16};
            r = ref_add(req, h->ns[i].name, types[t], req->res->hints.ttl, ad, n, NULL, 0);
        }
    return r;
}
