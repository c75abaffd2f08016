/* The iterative engine's request state machine (RFC 1034 s5.3.3): cache first, then the
 * closest zone cut, one server at a time, NS-name lookups as nested goals (Knot Resolver's
 * rplan). No I/O: the shell sends what rd_req_step asks for and feeds replies back. */
#include <stdlib.h>
#include <string.h>

#include "resolve/iter_int.h"
#include "resolverd/zonefile.h"

/* ---- context and root hints ---- */

static int hints_rr(void *ctx, const rd_zrr_t *rr)
{
    rd__hints_t *h = ctx;
    rd__cut_t *cut = &h->cut;
    if (rr->rclass != RD_CLASS_IN) return 0;
    if (rr->type == RD_TYPE_NS && rr->owner[0] == 0) {
        h->ttl = rr->ttl > RD_CACHE_TTL_MAX ? 0 : rr->ttl;
        if (cut->nns >= RD_RES_NS_PER_CUT) return 0;
        size_t len;
        if (rd_name_check(rr->rdata, rr->rdlen, &len) != 0) return 0;
        for (unsigned i = 0; i < cut->nns; i++)
            if (rd_name_eq(cut->ns[i].name, rr->rdata)) return 0;
        rd_name_lower_copy(cut->ns[cut->nns++].name, rr->rdata);
        return 0;
    }
    if ((rr->type == RD_TYPE_A && rr->rdlen == 4) ||
        (rr->type == RD_TYPE_AAAA && rr->rdlen == 16)) {
        for (unsigned i = 0; i < cut->nns; i++) {
            rd__ns_t *ns = &cut->ns[i];
            if (!rd_name_eq(ns->name, rr->owner) || ns->naddr >= RD_RES_ADDRS_PER_NS) continue;
            rd_addr_t *a = &ns->addr[ns->naddr++];
            memset(a, 0, sizeof(*a));
            a->family = rr->type == RD_TYPE_A ? 4 : 6;
            memcpy(a->addr, rr->rdata, rr->rdlen);
        }
    }
    return 0;
}

static unsigned def(unsigned v, unsigned d)
{
    return v ? v : d;
}

int rd_res_new(rd_cache_t *cache, const char *hints, size_t hints_len, const rd_res_opts_t *opts,
               rd_res_rand_fn rand32, void *rand_ctx, rd_res_t **out)
{
    if (!cache || !hints || !rand32 || !out) return RD_EINVAL;
    rd_res_t *res = calloc(1, sizeof(*res));
    if (!res) return RD_ENOMEM;
    res->infra = calloc(1, sizeof(*res->infra));
    if (!res->infra) {
        free(res);
        return RD_ENOMEM;
    }
    res->cache = cache;
    res->rand32 = rand32;
    res->rand_ctx = rand_ctx;
    if (opts) res->opts = *opts;
    rd_res_opts_t *o = &res->opts;
    o->upstream_port = (uint16_t)def(o->upstream_port, 53);
    o->max_queries = def(o->max_queries, RD_RES_QUERIES_MAX);
    o->max_queries_per_cut = def(o->max_queries_per_cut, RD_RES_QUERIES_PER_CUT);
    if (o->max_queries_per_cut > RD_RES_QUERIES_PER_CUT)
        o->max_queries_per_cut = RD_RES_QUERIES_PER_CUT;
    o->max_referrals = def(o->max_referrals, RD_RES_REFERRALS_MAX);
    o->max_cname = def(o->max_cname, RD_RES_CNAME_MAX);
    if (o->max_cname > RD_RES_CNAME_MAX) o->max_cname = RD_RES_CNAME_MAX;
    o->time_limit_ms = def(o->time_limit_ms, RD_RES_TIME_MAX_MS);
    o->timeout_ms = def(o->timeout_ms, RD_RES_TIMEOUT_MS);

    /* Names first, then addresses: the parse is done twice so record order does not matter. */
    rd__cut_t *cut = &res->hints.cut;
    static const uint8_t root[1] = {0};
    rd_zone_opts_t zo = {
        .origin = root, .default_ttl = 3600000, .on_rr = hints_rr, .ctx = &res->hints};
    int r = rd_zone_parse_mem(hints, hints_len, "root-hints", &zo);
    if (r == 0) {
        for (unsigned i = 0; i < cut->nns; i++) cut->ns[i].naddr = 0;
        r = rd_zone_parse_mem(hints, hints_len, "root-hints", &zo);
    }
    unsigned naddr = 0;
    for (unsigned i = 0; i < cut->nns; i++) naddr += cut->ns[i].naddr;
    if (r != 0 || naddr == 0) {
        free(res->infra);
        free(res);
        return r < 0 ? r : RD_ESYNTAX;
    }
    for (unsigned i = 0; i < cut->nns; i++)
        for (unsigned j = 0; j < cut->ns[i].naddr; j++) cut->ns[i].addr[j].port = o->upstream_port;
    cut->hints = true;
    if ((r = rd__res_copy_policy(res)) != 0) {
        rd_res_free(res);
        return r;
    }
    o->stubs = NULL;
    o->forwards = NULL;
    o->local = NULL;
    o->nstubs = o->nforwards = 0;
    *out = res;
    return 0;
}

void rd_res_free(rd_res_t *res)
{
    if (!res) return;
    rd__res_free_upstreams(res);
    free(res->uph);
    free(res->pzones);
    free(res->infra);
    free(res);
}

/* ---- requests ---- */

int rd_req_new(rd_res_t *res, const uint8_t *qname, uint16_t qtype, uint16_t qclass, bool do_bit,
               bool cd, uint64_t now_ms, rd_req_t **out)
{
    size_t len;
    if (!res || !qname || !out || rd_name_check(qname, RD_NAME_MAX, &len) != 0) return RD_EINVAL;
    rd_req_t *req = calloc(1, sizeof(*req));
    if (!req) return RD_ENOMEM;
    rd_arena_init(&req->arena, NULL, 0, 0);
    req->res = res;
    rd_name_lower_copy(req->qname, qname);
    req->qtype = qtype;
    req->qclass = qclass;
    req->do_bit = do_bit;
    req->cd = cd;
    req->start_ms = now_ms;
    req->deadline_ms = now_ms + res->opts.time_limit_ms;
    req->ede = -1;
    req->up = -1;
    req->tr_ede = -1;
    req->nplan = 1;
    rd__goal_t *g = &req->plan[0];
    memcpy(g->qname, req->qname, len);
    g->qtype = qtype;
    g->state = RD__G_START;
    *out = req;
    return 0;
}

void rd_req_set_norec(rd_req_t *req)
{
    if (req) req->norec = true;
}

void rd_req_free(rd_req_t *req)
{
    if (!req) return;
    rd__probe_end(req);
    if (req->priming) {
        /* Dropped while priming (the shell gave up on it): the next request primes. */
        req->res->prime_state = RD__PRIME_IDLE;
    }
    rd_arena_free(&req->arena);
    free(req);
}

void rd__iter_fail(rd_req_t *req, int ede, const char *reason)
{
    req->done = true;
    req->rcode = RD_RCODE_SERVFAIL;
    req->ede = ede;
    req->reason = reason;
    req->nans = 0;
    req->neg = NULL;
}

/* RFC 9520 s3: the client's question (as it stands after CNAMEs) failed: no server answered,
 * or all answered SERVFAIL, REFUSED, lame or garbage, or a limit ended it. Repeats are
 * answered from memory (infra.c) without asking anyone, with the same EDE. */
void rd__iter_remember_failure(rd_req_t *req, uint64_t now_ms)
{
    const rd__goal_t *g = &req->plan[0];
    if (req->probe) return; /* a probe's failure says nothing about clients' questions */
    rd__fail_insert(req->res->infra, g->qname, g->qtype, req->qclass, req->ede, now_ms);
}

rd__goal_t *rd__iter_top(rd_req_t *req)
{
    return &req->plan[req->nplan - 1];
}

bool rd__iter_addr_eq(const rd_addr_t *a, const rd_addr_t *b)
{
    if (a->family != b->family || a->port != b->port) return false;
    return memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

static bool is_loopback(const rd_addr_t *a)
{
    static const uint8_t v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (a->family == 4) return a->addr[0] == 127;
    return memcmp(a->addr, v6lo, 16) == 0;
}

rd_cache_rdata_t *rd__iter_copy_rdata(rd_arena_t *ar, const rd_cache_rdata_t *src, unsigned n)
{
    rd_cache_rdata_t *d = rd_arena_alloc(ar, sizeof(*d) * (n ? n : 1));
    if (!d) return NULL;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = rd_arena_alloc(ar, src[i].len ? src[i].len : 1);
        if (!p) return NULL;
        memcpy(p, src[i].data, src[i].len);
        d[i].data = p;
        d[i].len = src[i].len;
    }
    return d;
}

int rd__iter_add_answer(rd_req_t *req, const rd_cache_rrset_t *rs)
{
    if (req->nans >= RD_RES_ANSWER_RRSETS) return RD_ELIMIT;
    rd_cache_rrset_t *d = &req->ans[req->nans];
    *d = *rs;
    uint8_t *owner = rd_arena_alloc(&req->arena, RD_NAME_MAX);
    rd_cache_rdata_t *rdata = rd__iter_copy_rdata(&req->arena, rs->rdata, rs->count);
    if (!owner || !rdata) return RD_ENOMEM;
    rd_name_lower_copy(owner, rs->owner);
    d->owner = owner;
    d->rdata = rdata;
    d->nsigs = 0;
    d->rrsigs = NULL;
    /* RFC 3225 s3: RRSIGs only for a client that set DO. */
    if (req->do_bit && rs->nsigs && rs->rrsigs) {
        rd_cache_rdata_t *sigs = rd__iter_copy_rdata(&req->arena, rs->rrsigs, rs->nsigs);
        if (!sigs) return RD_ENOMEM;
        d->nsigs = rs->nsigs;
        d->rrsigs = sigs;
    }
    req->nans++;
    return 0;
}

void rd__iter_ns_add_addrs(rd__ns_t *ns, const rd_cache_rrset_t *rs, uint16_t port)
{
    uint16_t want = rs->type == RD_TYPE_A ? 4 : 16;
    for (unsigned i = 0; i < rs->count && ns->naddr < RD_RES_ADDRS_PER_NS; i++) {
        if (rs->rdata[i].len != want) continue;
        rd_addr_t a = {.family = (uint8_t)(want == 4 ? 4 : 6), .port = port};
        memcpy(a.addr, rs->rdata[i].data, want);
        bool dup = false;
        for (unsigned j = 0; j < ns->naddr; j++) dup |= rd__iter_addr_eq(&ns->addr[j], &a);
        if (!dup) ns->addr[ns->naddr++] = a;
    }
}

void rd__iter_sub_addrs(rd_req_t *req, const rd_cache_rrset_t *rs)
{
    rd__goal_t *g = rd__iter_top(req);
    if (!g->sub || req->nplan < 2) return;
    rd__goal_t *parent = &req->plan[req->nplan - 2];
    if (!parent->cut || g->sub_ns < 0 || (unsigned)g->sub_ns >= parent->cut->nns) return;
    rd__ns_t *ns = &parent->cut->ns[g->sub_ns];
    rd__iter_ns_add_addrs(ns, rs, rd__res_ns_port(req->res, parent->cut, ns));
}

/* ---- zone cuts ---- */

static void cut_from_ns(rd_req_t *req, rd__cut_t *cut, const rd_cache_rrset_t *ns, uint64_t now_s)
{
    rd_cache_t *c = req->res->cache;
    for (unsigned i = 0; i < ns->count && cut->nns < RD_RES_NS_PER_CUT; i++) {
        size_t len;
        if (rd_name_check(ns->rdata[i].data, ns->rdata[i].len, &len) != 0) continue;
        rd__ns_t *n = &cut->ns[cut->nns++];
        memset(n, 0, sizeof(*n));
        rd_name_lower_copy(n->name, ns->rdata[i].data);
        static const uint16_t types[2] = {RD_TYPE_A, RD_TYPE_AAAA};
        for (unsigned t = 0; t < 2; t++) {
            rd_cache_rrset_t a;
            if (rd_cache_lookup_rrset(c, n->name, types[t], RD_CLASS_IN, now_s, false, &req->arena,
                                      &a) == 0)
                rd__iter_ns_add_addrs(n, &a, req->res->opts.upstream_port);
        }
    }
}

/* The closest enclosing zone cut with NS in the cache; the hints at the top. Addresses of
 * root servers missing from the cache come from the hints. */
static rd__cut_t *find_cut(rd_req_t *req, const uint8_t *qname, uint64_t now_s,
                           const rd__pzone_t *stub)
{
    rd__cut_t *cut = rd_arena_alloc(&req->arena, sizeof(*cut));
    if (!cut) return NULL;
    const uint8_t *name = qname;
    for (;;) {
        rd_cache_rrset_t ns;
        if (stub && rd_name_eq(name, stub->name)) {
            /* A stub zone: its servers, not the cache's or the parent's view of the cut. */
            rd__res_cut_from_policy(req, cut, stub, now_s, false);
            return cut;
        }
        memset(cut, 0, sizeof(*cut));
        if (rd_cache_lookup_rrset(req->res->cache, name, RD_TYPE_NS, RD_CLASS_IN, now_s, false,
                                  &req->arena, &ns) == 0) {
            rd_name_lower_copy(cut->name, name);
            cut->from_cache = true;
            cut_from_ns(req, cut, &ns, now_s);
            if (cut->nns > 0) break;
        }
        if (name[0] == 0) {
            *cut = req->res->hints.cut;
            return cut;
        }
        name += name[0] + 1;
    }
    if (cut->name[0] == 0) {
        const rd__cut_t *h = &req->res->hints.cut;
        for (unsigned i = 0; i < cut->nns; i++)
            for (unsigned j = 0; j < h->nns; j++)
                if (cut->ns[i].naddr == 0 && rd_name_eq(cut->ns[i].name, h->ns[j].name)) {
                    memcpy(cut->ns[i].addr, h->ns[j].addr, sizeof(h->ns[j].addr));
                    cut->ns[i].naddr = h->ns[j].naddr;
                }
    }
    return cut;
}

/* ---- sending ---- */

/* What the infrastructure table says of a server now: expected RTT, timeout of a try (from
 * srtt + 4 * rttvar, doubled per consecutive timeout or retry round, capped), hold-down. */
static void server_view(const rd_req_t *req, const rd_addr_t *server, uint64_t now_ms,
                        unsigned round, rd__infra_view_t *v)
{
    const rd_res_opts_t *o = &req->res->opts;
    uint32_t cap = o->timeout_ms > RD_RES_RTO_MAX_MS ? o->timeout_ms : RD_RES_RTO_MAX_MS;
    rd__infra_get(req->res->infra, server, now_ms, o->timeout_ms, cap, round, v);
}

static uint32_t server_timeout(const rd_req_t *req, const rd_addr_t *server, uint64_t now_ms)
{
    rd__infra_view_t v;
    server_view(req, server, now_ms, req->round, &v);
    return v.timeout;
}

static bool usable(const rd_req_t *req, const rd__cut_t *cut, const rd_addr_t *a)
{
    const rd_res_opts_t *o = &req->res->opts;
    if (a->family == 6 && o->no_ipv6) return false;
    /* Stub and forward addresses were named by the operator: loopback is allowed there. */
    if (!o->allow_loopback_upstreams && !cut->configured && is_loopback(a)) return false;
    for (unsigned i = 0; i < cut->ntried; i++)
        if (rd__iter_addr_eq(&cut->tried[i], a)) return false;
    return true;
}

/* RFC 9156 s2.3: the name to send at the goal's cut, one label more than the cut each time
 * (type A: NS queries for the hidden type upset some servers, as Unbound found). */
static const uint8_t *qmin_name(const rd_req_t *req, rd__goal_t *g, uint16_t *type)
{
    *type = g->qtype;
    if (!req->res->opts.qname_min || g->no_min) return g->qname;
    int ql = rd_name_labels(g->qname), cl = rd_name_labels(g->cut->name);
    if (g->min_labels <= cl) g->min_labels = cl + 1;
    if (g->min_labels >= ql || g->min_queries >= RD_RES_QMIN_MAX) return g->qname;
    const uint8_t *n = g->qname;
    for (int i = 0; i < ql - g->min_labels; i++) n += n[0] + 1;
    *type = RD_TYPE_A;
    return n;
}

static bool in_noedns(const rd_req_t *req, const rd_addr_t *server)
{
    for (unsigned i = 0; i < req->nnoedns; i++)
        if (rd__iter_addr_eq(&req->noedns[i], server)) return true;
    return false;
}

/* Whether the name to this server goes out in random case (draft-vixie-dnsext-dns0x20): over
 * UDP only (TCP is not blind-spoofable), until a server of this request failed to keep it, and
 * not to a server remembered for failing to keep it (infra.c, RD_RES_NO0X20_MS). */
static bool use_0x20(const rd_req_t *req, const rd_addr_t *server, bool tcp, uint64_t now_ms)
{
    return !tcp && !req->no_0x20 && !rd__infra_is_no0x20(req->res->infra, server, now_ms);
}

/* Flips the case of the letters of name (lower case) from random bits. */
static void randomise_case(rd_res_t *res, uint8_t *name)
{
    uint32_t bits = 0;
    unsigned left = 0;
    for (size_t i = 0; name[i] != 0; i += (size_t)name[i] + 1)
        for (size_t j = i + 1; j <= i + name[i]; j++) {
            if (name[j] < 'a' || name[j] > 'z') continue;
            if (left == 0) {
                bits = res->rand32(res->rand_ctx);
                left = 32;
            }
            if (bits & 1) name[j] = (uint8_t)(name[j] - 'a' + 'A');
            bits >>= 1;
            left--;
        }
}

static int build_query(rd_req_t *req, rd__goal_t *g, const rd_addr_t *server, bool tcp,
                       uint64_t now_ms)
{
    rd_res_t *res = req->res;
    rd_mb_t b;
    req->id = (uint16_t)res->rand32(res->rand_ctx);
    /* RFC 1034 s5.3.1: RD=0 towards authoritative servers; RD=1 to forward upstreams. */
    rd_mb_init(&b, req->qwire, sizeof(req->qwire), sizeof(req->qwire), req->id,
               g->cut->forward ? RD_F_RD : 0);
    /* DO=1 on every query (as Unbound and Knot Resolver do): the RRSIGs come back and are
     * cached with their RRsets, so the cache can serve a DO=1 client whoever asked first
     * (RFC 3225 s3: DO=1 tells the server we can take them). */
    rd_edns_build_t e = {.udp_size = RD_RES_EDNS_UDP, .flags = RD_EDNS_DO};
    bool edns = !in_noedns(req, server);
    int r = edns ? rd_mb_reserve(&b, rd_edns_size(&e)) : 0;
    uint16_t stype;
    const uint8_t *sname = qmin_name(req, g, &stype);
    size_t slen = rd_name_len(sname);
    rd_name_lower_copy(req->scase, sname);
    bool mix = use_0x20(req, server, tcp, now_ms);
    if (mix) randomise_case(res, req->scase);
    if (r == 0) r = rd_mb_question(&b, req->scase, stype, req->qclass);
    if (r == 0 && edns) r = rd_mb_opt(&b, &e);
    if (r != 0) return r;
    req->qlen = rd_mb_finish(&b);
    if (sname != g->qname) g->min_queries++;
    memcpy(req->sname, sname, slen);
    req->stype = stype;
    req->edns = edns;
    req->used_0x20 = mix;
    req->case_mismatch = false;
    req->target = *server;
    req->tcp = tcp;
    req->round = g->cut->round;
    req->token++;
    req->queries++;
    g->cut->queries++;
    return 0;
}

enum { PICK_SENT = 0, PICK_SUB = 1, PICK_NONE = 2 };

static bool in_plan(const rd_req_t *req, const uint8_t *name)
{
    for (unsigned i = 0; i < req->nplan; i++)
        if (req->plan[i].sub && rd_name_eq(req->plan[i].qname, name)) return true;
    return false;
}

/* The address type to look up next for an NS name, or 0 (RFC 1034 s5.3.3 step 3: NS names
 * without an address are resolved as sub-questions). A first; then AAAA when the A lookup left
 * the name without a usable address (an IPv6-only server, or its IPv4 addresses failed) and
 * IPv6 is allowed. Names below the cut cannot be found without glue (the lookup would come
 * back to this cut); in_plan stops longer cycles. */
static uint16_t ns_lookup_type(const rd_req_t *req, const rd__cut_t *cut, const rd__ns_t *ns)
{
    /* A forward upstream's host is looked up through policy (rd__res_cut_from_policy)
     * wherever it is: the forward zone's name says nothing about where it can be found. */
    if ((!cut->forward && rd_name_in(ns->name, cut->name)) || in_plan(req, ns->name)) return 0;
    if (!(ns->looked_up & RD__LOOKED_A)) return ns->naddr == 0 ? RD_TYPE_A : 0;
    if ((ns->looked_up & RD__LOOKED_AAAA) || req->res->opts.no_ipv6) return 0;
    for (unsigned j = 0; j < ns->naddr; j++)
        if (usable(req, cut, &ns->addr[j])) return 0;
    return RD_TYPE_AAAA;
}

/* A nested goal for the address (type) of the cut's NS entry i. */
static int start_lookup(rd_req_t *req, rd__cut_t *cut, unsigned i, uint16_t type)
{
    rd__ns_t *ns = &cut->ns[i];
    ns->looked_up |= type == RD_TYPE_A ? RD__LOOKED_A : RD__LOOKED_AAAA;
    cut->lookups++;
    rd__goal_t *s = &req->plan[req->nplan++];
    memset(s, 0, sizeof(*s));
    memcpy(s->qname, ns->name, rd_name_len(ns->name));
    s->qtype = type;
    s->sub = true;
    s->sub_ns = (int)i;
    s->boot = cut->forward && ns->up >= 0;
    s->boot_up = ns->up;
    s->state = RD__G_START;
    return PICK_SUB;
}

/* Chooses the next server of the goal's cut among the untried addresses not held down: one
 * of those within RD_RES_RTT_BAND_MS of the lowest expected RTT, at random, or in
 * RD_RES_EXPLORE_PCT percent of the choices any of them (exploration). When no address is
 * known, a nested lookup of an NS name's address (at most RD_RES_NS_LOOKUPS_PER_CUT per cut);
 * at a forward cut, an upstream known by host name only is looked up before any choice. */
static int pick_server(rd_req_t *req, rd__goal_t *g, uint64_t now_ms)
{
    rd__cut_t *cut = g->cut;
    const rd_addr_t *pool[RD_RES_NS_PER_CUT * RD_RES_ADDRS_PER_NS];
    const rd_addr_t *held[RD_RES_NS_PER_CUT * RD_RES_ADDRS_PER_NS];
    uint32_t score[RD_RES_NS_PER_CUT * RD_RES_ADDRS_PER_NS];
    uint32_t best = UINT32_MAX;
    unsigned n = 0, nheld = 0;
    if (cut->forward && !g->sub && cut->lookups < RD_RES_NS_LOOKUPS_PER_CUT &&
        req->nplan < RD_RES_PLAN_MAX) {
        /* Every upstream the operator named takes part in the choice (issue 8: the fastest
         * healthy one is preferred): a host without a known address is looked up first,
         * even when another upstream has one (an NS name would wait until the others fail). */
        bool other = false; /* an upstream with an address: questions need not wait */
        for (unsigned i = 0; i < cut->nns; i++) other = other || cut->ns[i].naddr > 0;
        for (unsigned i = 0; i < cut->nns; i++) {
            rd__ns_t *ns = &cut->ns[i];
            uint16_t type;
            int ede;
            /* RFC 9520 s3: a lookup of the host that failed a moment ago is not repeated for
             * every question (each would wait for it, e.g. an upstream's SERVFAIL after its
             * own timeouts) while another upstream can take them. */
            while ((type = ns->name[0] && ns->naddr == 0 ? ns_lookup_type(req, cut, ns) : 0) &&
                   other &&
                   rd__fail_lookup(req->res->infra, ns->name, type, RD_CLASS_IN, now_ms, &ede))
                ns->looked_up |= type == RD_TYPE_A ? RD__LOOKED_A : RD__LOOKED_AAAA;
            if (type) return start_lookup(req, cut, i, type);
        }
    }
    for (unsigned i = 0; i < cut->nns; i++)
        for (unsigned j = 0; j < cut->ns[i].naddr; j++) {
            const rd_addr_t *a = &cut->ns[i].addr[j];
            if (!usable(req, cut, a)) continue;
            rd__infra_view_t v;
            server_view(req, a, now_ms, cut->round, &v);
            /* issue 8: a forward upstream that is down waits for its probe (probe.c), which
             * asks it whatever the server table says */
            if ((v.held && !req->probe) || rd__up_is_down(req, cut, i)) {
                req->held = true;
                held[nheld++] = a;
                continue;
            }
            pool[n] = a;
            score[n++] = v.score;
            if (v.score < best) best = v.score;
        }
    if (n == 0 && nheld > 0 && !cut->probed) {
        /* Only held-down servers are left: one of them is probed, once per cut per request
         * (a server that times out for some names may answer others). */
        cut->probed = true;
        for (unsigned i = 0; i < nheld; i++) {
            pool[n] = held[i];
            score[n++] = 0;
        }
        best = 0;
    }
    if (n == 0 && cut->round < RD_RES_RETRY_ROUNDS) {
        /* Another round over the servers that were silent or said SERVFAIL (a passing failure
         * upstream), not those that answered badly. */
        unsigned k = 0;
        for (unsigned i = 0; i < cut->ntried; i++)
            if (!cut->timed_out[i] && !cut->servfail[i]) cut->tried[k++] = cut->tried[i];
        if (k < cut->ntried) {
            memset(cut->timed_out, 0, sizeof(cut->timed_out));
            memset(cut->servfail, 0, sizeof(cut->servfail));
            cut->ntried = k;
            cut->round++;
            return pick_server(req, g, now_ms);
        }
    }
    if (n > 0) {
        uint32_t rnd = req->res->rand32(req->res->rand_ctx);
        unsigned m = n;
        if (rnd % 100 >= RD_RES_EXPLORE_PCT) {
            m = 0;
            for (unsigned i = 0; i < n; i++)
                if (score[i] - best <= RD_RES_RTT_BAND_MS) pool[m++] = pool[i];
        }
        const rd_addr_t *a = pool[(rnd / 100) % m];
        if (cut->ntried < RD_RES_QUERIES_PER_CUT) cut->tried[cut->ntried++] = *a;
        bool tcp = false;
        req->proto = 0;
        req->up = -1;
        if (cut->forward)
            for (unsigned i = 0; i < cut->nns && req->up < 0; i++)
                for (unsigned j = 0; j < cut->ns[i].naddr; j++)
                    if (rd__iter_addr_eq(&cut->ns[i].addr[j], a)) {
                        tcp = cut->ns[i].tcp;
                        req->proto = cut->ns[i].proto; /* the route: udp, tcp, tls, https */
                        req->up = cut->ns[i].up;
                        break;
                    }
        int r = build_query(req, g, a, tcp, now_ms);
        return r ? r : PICK_SENT;
    }
    /* No usable address: look one NS name up (ns_lookup_type). */
    if (cut->lookups >= RD_RES_NS_LOOKUPS_PER_CUT || req->nplan >= RD_RES_PLAN_MAX)
        return PICK_NONE;
    unsigned cand = 0;
    for (unsigned i = 0; i < cut->nns; i++) cand += ns_lookup_type(req, cut, &cut->ns[i]) != 0;
    if (cand == 0) return PICK_NONE;
    unsigned k = req->res->rand32(req->res->rand_ctx) % cand;
    for (unsigned i = 0; i < cut->nns; i++) {
        uint16_t type = ns_lookup_type(req, cut, &cut->ns[i]);
        if (type == 0 || k-- > 0) continue;
        return start_lookup(req, cut, i, type);
    }
    return PICK_NONE;
}

static void fill_action(rd_req_t *req, uint64_t now_ms, rd_res_action_t *act)
{
    uint32_t t = server_timeout(req, &req->target, now_ms);
    req->sent_ms = now_ms;
    /* Never wait past the client query's time limit. */
    if (req->deadline_ms > now_ms && req->deadline_ms - now_ms < t)
        t = (uint32_t)(req->deadline_ms - now_ms);
    act->server = req->target;
    act->tcp = req->tcp;
    act->upstream = req->up;
    /* TLS and HTTPS upstreams keep their transport; the rest is UDP, or TCP after TC=1. */
    act->transport = req->proto == RD_UP_TLS || req->proto == RD_UP_HTTPS ? req->proto
                     : req->tcp                                           ? RD_UP_TCP
                                                                          : RD_UP_UDP;
    act->wire = req->qwire;
    act->len = req->qlen;
    act->id = req->id;
    act->timeout_ms = t;
    act->token = req->token;
}

/* ---- root priming (RFC 8109) ---- */

/* The goal on top found only the hints for the root: when this worker is not priming already
 * (nor backing off after a failure) and this request has not primed yet, a priming goal goes
 * on top of it. Returns true when it did. */
static bool prime_start(rd_req_t *req, uint64_t now_ms)
{
    rd_res_t *res = req->res;
    if (req->norec || req->prime_tried || req->nplan >= RD_RES_PLAN_MAX) return false;
    if (res->prime_state == RD__PRIME_RUNNING) return false;
    if (res->prime_state == RD__PRIME_BACKOFF && now_ms < res->prime_retry_ms) return false;
    rd__goal_t *p = &req->plan[req->nplan++];
    memset(p, 0, sizeof(*p));
    p->qname[0] = 0;
    p->qtype = RD_TYPE_NS;
    p->sub = true;
    p->sub_ns = -1;
    p->prime = true;
    p->state = RD__G_START;
    res->prime_state = RD__PRIME_RUNNING;
    req->priming = true;
    req->prime_tried = true;
    return true;
}

/* The priming goal ended. On failure the hints serve (RFC 8109 s3 leaves the fallback to the
 * resolver) and priming waits, with a doubling backoff, before it is tried again. */
static void prime_end(rd_req_t *req, bool ok, uint64_t now_ms)
{
    rd_res_t *res = req->res;
    req->priming = false;
    if (ok) {
        res->prime_state = RD__PRIME_IDLE;
        res->prime_fails = 0;
        return;
    }
    if (res->prime_fails < 16) res->prime_fails++;
    uint64_t wait = (uint64_t)RD_RES_PRIME_RETRY_MS << (res->prime_fails - 1);
    if (wait > RD_RES_PRIME_RETRY_MAX_MS) wait = RD_RES_PRIME_RETRY_MAX_MS;
    res->prime_state = RD__PRIME_BACKOFF;
    res->prime_retry_ms = now_ms + wait;
    req->note = "root priming (RFC 8109) failed: using the root hints";
}

static bool over_limits(rd_req_t *req, const rd__goal_t *g, uint64_t now_ms)
{
    const rd_res_opts_t *o = &req->res->opts;
    if (req->queries >= o->max_queries)
        rd__iter_fail(req, RD__EDE_OTHER, "upstream query limit per client query reached");
    else if (g->cut && g->cut->queries >= o->max_queries_per_cut)
        rd__iter_fail(req, RD__EDE_OTHER, "upstream query limit per zone cut reached");
    else
        return false;
    rd__iter_remember_failure(req, now_ms); /* RFC 9520: repeats would cost as much again */
    return true;
}

/* Whether a goal below the top one waits for the hosts of its forward zone's upstreams
 * (g->nested, see advance). */
static bool nested_below(const rd_req_t *req)
{
    for (unsigned i = 0; i + 1 < req->nplan; i++)
        if (req->plan[i].nested) return true;
    return false;
}

/* One transition of the top goal. Returns 1 when an action is ready in act, 0 to go on, or
 * RD_RES_DONE / a negative code. */
static int advance(rd_req_t *req, uint64_t now_ms, rd_res_action_t *act)
{
    rd__goal_t *g = rd__iter_top(req);
    uint64_t now_s = rd__res_now_s(now_ms);
    int r;
    switch (g->state) {
    case RD__G_START:
        if (req->probe && !g->sub) return rd__probe_goal(req, g, now_s); /* probe.c */
        if (g->prime) {
            /* RFC 8109 s3: ". NS" to the hints' servers, whatever the cache holds. */
            g->cut = rd_arena_alloc(&req->arena, sizeof(*g->cut));
            if (!g->cut) return RD_ENOMEM;
            *g->cut = req->res->hints.cut;
            g->no_min = true;
            g->state = RD__G_QUERY;
            return 0;
        }
        r = rd__iter_from_cache(req, g, now_s);
        if (r < 0) return r;
        if (req->done) return RD_RES_DONE;
        if (r == RD__FROM_CACHE_DONE) return 0;
        if (req->norec && !g->sub) {
            if ((r = rd__iter_norec_referral(req, g->qname, now_s)) != 0) return r;
            return RD_RES_DONE;
        }
        int fede;
        if (!g->sub &&
            rd__fail_lookup(req->res->infra, g->qname, g->qtype, req->qclass, now_ms, &fede)) {
            /* RFC 9520 s3: it failed a moment ago; no new upstream query. */
            rd__iter_fail(req, fede,
                          "recent failure to resolve this question is remembered (RFC 9520)");
            return RD_RES_DONE;
        }
        g->min_labels = 0;
        g->min_queries = 0;
        g->no_min = false;
        const rd__pzone_t *pz = g->no_policy ? NULL : rd__res_policy_zone(req->res, g->qname);
        if (pz && pz->forward) {
            g->cut = rd_arena_alloc(&req->arena, sizeof(*g->cut));
            if (!g->cut) return RD_ENOMEM;
            rd__res_cut_from_policy(req, g->cut, pz, now_s, g->sub);
            if (g->cut->nns > 0) {
                g->no_min = true; /* the whole question goes to a recursive upstream */
                g->state = RD__G_QUERY;
                return 0;
            }
            if (!g->sub && !pz->forward_first) {
                rd__iter_fail(req, RD__EDE_OTHER, "no usable forward upstream");
                return RD_RES_DONE;
            }
            if (g->sub && !pz->forward_first && !rd__res_zone_has_host(pz, g->qname)) {
                /* A lookup inside a forward zone (forward-first: no) whose upstreams all wait
                 * for their own address, of a name that is none of their hosts (e.g. the host
                 * of another zone's upstream): recursion would send a name of that zone out in
                 * clear text, which the operator ruled out. Its upstreams' hosts are looked up
                 * in turn (pick_server), one level deep only: below another such lookup it
                 * fails instead (two zones whose upstreams' hosts are in each other end there,
                 * and crossed sets of them cannot multiply lookups past the step limit). None
                 * found: this lookup fails. */
                if (nested_below(req)) {
                    g->state = RD__G_FAILED;
                    return 0;
                }
                g->nested = true;
                rd__res_cut_from_policy(req, g->cut, pz, now_s, false);
                g->no_min = true;
                g->state = RD__G_QUERY;
                return 0;
            }
            /* A lookup whose zone's upstreams all wait for their own address, of one of their
             * hosts (an upstream's host inside the zone it serves): by recursion, for this
             * name only (or forward-first allows recursion anyway). */
            g->no_policy = true;
            pz = NULL;
        }
        g->cut = find_cut(req, g->qname, now_s, pz);
        if (!g->cut) return RD_ENOMEM;
        if (g->boot && !g->cut->configured) rd__res_boot_warn(req, g);
        if (g->cut->hints && prime_start(req, now_ms)) return 0; /* this goal starts again */
        g->state = RD__G_QUERY;
        return 0;
    case RD__G_QUERY:
        if (req->retry != RD__RETRY_NONE) {
            /* The same server again: over TCP after TC=1 (RFC 7766 s5); without 0x20 or
             * without EDNS (both already recorded in the request) after those failed. */
            bool tcp = req->retry == RD__RETRY_TCP ? true : req->tcp;
            req->retry = RD__RETRY_NONE;
            if (over_limits(req, g, now_ms)) return RD_RES_DONE;
            rd_addr_t server = req->target;
            if ((r = build_query(req, g, &server, tcp, now_ms)) != 0) return r;
            g->state = RD__G_WAIT;
            fill_action(req, now_ms, act);
            return 1;
        }
        if (over_limits(req, g, now_ms)) return RD_RES_DONE;
        r = pick_server(req, g, now_ms);
        if (r < 0) return r;
        if (r == PICK_SENT) {
            g->state = RD__G_WAIT;
            fill_action(req, now_ms, act);
            return 1;
        }
        if (r == PICK_NONE) {
            /* A cached cut whose servers cannot be reached at all (glue expired before the
             * NS): the parent's servers will refer us again (Unbound does the same). */
            rd__cut_t *c = g->cut;
            if (c->forward && c->forward_first) {
                /* forward-first: no upstream answered, resolve it ourselves. */
                g->no_policy = true;
                g->state = RD__G_START;
                return 0;
            }
            if (c->from_cache && c->queries == 0 && c->name[0] != 0) {
                const rd__pzone_t *spz =
                    g->no_policy ? NULL : rd__res_policy_zone(req->res, g->qname);
                g->cut = find_cut(req, c->name + c->name[0] + 1, now_s,
                                  spz && !spz->forward ? spz : NULL);
                if (!g->cut) return RD_ENOMEM;
                return 0;
            }
            g->state = RD__G_FAILED;
        }
        return 0;
    case RD__G_WAIT: return RD_RES_WAIT;
    case RD__G_DONE:
    case RD__G_FAILED:
        if (g->sub) {
            bool prime = g->prime;
            if (g->boot && g->state == RD__G_FAILED) /* remembered: see pick_server */
                rd__fail_insert(req->res->infra, g->qname, g->qtype, RD_CLASS_IN,
                                RD__EDE_NO_REACHABLE, now_ms);
            if (prime) prime_end(req, g->state == RD__G_DONE, now_ms);
            req->nplan--;
            /* after priming the goal below looks for its cut again: the primed root now */
            rd__iter_top(req)->state = prime ? RD__G_START : RD__G_QUERY;
            return 0;
        }
        if (g->state == RD__G_FAILED) {
            /* RFC 8914 s4.23: 23 when servers were reached but spoke garbage; otherwise 22
             * (dead, refusing, lame or not allowed: no authority could be reached). */
            const char *unres =
                g->cut && g->cut->forward ? rd__res_unresolved_upstream(req, g->cut) : NULL;
            if (g->cut && g->cut->forward && req->tr_reason)
                rd__iter_fail(req, req->tr_ede, req->tr_reason); /* e.g. TLS authentication */
            else if (unres)
                rd__iter_fail(req, RD__EDE_NO_REACHABLE, unres);
            else if (g->cut && g->cut->forward)
                rd__iter_fail(req, RD__EDE_NO_REACHABLE, "no forward upstream answered");
            else if (req->malformed && !req->timeouts)
                rd__iter_fail(req, RD__EDE_NETWORK, "the zone's servers sent malformed replies");
            else if (req->timeouts || req->held)
                rd__iter_fail(req, RD__EDE_NO_REACHABLE, "no server of the zone answered");
            else
                rd__iter_fail(req, RD__EDE_NO_REACHABLE,
                              "no usable server: all lame, refusing or not allowed");
            rd__iter_remember_failure(req, now_ms);
        }
        req->done = true;
        return RD_RES_DONE;
    }
    return RD_EBUG;
}

int rd_req_step(rd_req_t *req, uint64_t now_ms, rd_res_action_t *act)
{
    if (req->done) return RD_RES_DONE;
    memset(act, 0, sizeof(*act));
    for (int i = 0; i < RD_RES_STEP_LOOPS; i++) {
        if (rd__iter_top(req)->state == RD__G_WAIT) return RD_RES_WAIT;
        if (now_ms >= req->deadline_ms) {
            if (req->priming) prime_end(req, false, now_ms);
            rd__iter_fail(req, RD__EDE_NO_REACHABLE, "time limit per client query reached");
            rd__iter_remember_failure(req, now_ms);
            return RD_RES_DONE;
        }
        int r = advance(req, now_ms, act);
        if (r == 1) return RD_RES_SEND;
        if (r == RD_RES_DONE || r == RD_RES_WAIT) return r;
        if (r < 0) {
            rd__iter_fail(req, RD__EDE_OTHER, rd_strerror(r));
            return r;
        }
    }
    rd__iter_fail(req, RD__EDE_OTHER, "resolution did not converge");
    return RD_EBUG;
}

/* ---- replies ---- */

int rd_req_timeout(rd_req_t *req, uint32_t token, uint64_t now_ms)
{
    rd__goal_t *g = rd__iter_top(req);
    if (req->done || g->state != RD__G_WAIT || token != req->token) return RD_RES_IGNORED;
    g->state = RD__G_QUERY;
    if (req->case_mismatch && req->used_0x20) {
        /* The server answered, but with the name in another case: it does not keep it (or
         * someone guessed the ID). Ask it once more with the plain name, and no 0x20 for the
         * rest of this request. Not a timeout. */
        req->no_0x20 = true;
        req->retry = RD__RETRY_PLAIN;
        rd__infra_no0x20(req->res->infra, &req->target, now_ms);
        return 0;
    }
    req->timeouts++;
    req->retry = RD__RETRY_NONE;
    rd__infra_timeout(req->res->infra, &req->target, now_ms);
    rd__up_try_failed(req, now_ms); /* a forward upstream may go down (probe.c) */
    rd__cut_t *cut = g->cut;
    for (unsigned i = 0; i < cut->ntried; i++)
        if (rd__iter_addr_eq(&cut->tried[i], &req->target)) cut->timed_out[i] = true;
    return 0;
}

/* The name of the reply's question against the one sent: exactly when it went out in random
 * case (0x20), else ignoring case. A case-only difference is noted in req->case_mismatch. */
static bool question_name_ok(rd_req_t *req, const uint8_t *qn)
{
    if (!rd_name_eq(qn, req->sname)) return false;
    if (!req->used_0x20) return true;
    if (memcmp(qn, req->scase, rd_name_len(req->scase)) == 0) return true;
    req->case_mismatch = true;
    return false;
}

int rd_req_reply(rd_req_t *req, uint32_t token, const rd_addr_t *from, const uint8_t *wire,
                 size_t len, uint64_t now_ms)
{
    rd__goal_t *g = rd__iter_top(req);
    if (req->done || g->state != RD__G_WAIT || token != req->token) return RD_RES_IGNORED;
    if (!from || !rd__iter_addr_eq(from, &req->target)) return RD_RES_IGNORED;
    rd_msg_t m;
    if (rd_msg_parse_question(&m, wire, len) != 0) return RD_RES_IGNORED;
    if (m.id != req->id || !(m.flags & RD_F_QR) || RD_OPCODE(m.flags) != RD_OPCODE_QUERY ||
        m.count[RD_SEC_QD] != 1)
        return RD_RES_IGNORED;
    uint8_t qn[RD_NAME_MAX];
    size_t pos = RD_HDR_LEN;
    const rd_rr_t *q = rd_msg_rr(&m, RD_SEC_QD, 0);
    if (rd_name_unpack(wire, len, &pos, qn, NULL) != 0 || q->type != req->stype ||
        q->rclass != req->qclass || !question_name_ok(req, qn))
        return RD_RES_IGNORED;
    /* It is the reply to our query: from here on it is consumed. RTT samples over UDP only
     * (a TCP try includes the handshake), and over TLS/HTTPS upstreams, whose connections are
     * reused (issue 8: the fastest one is preferred; a new connection's handshake is in its
     * first sample, which the smoothing absorbs). */
    if (!req->tcp || req->proto == RD_UP_TLS || req->proto == RD_UP_HTTPS) {
        uint64_t rtt = now_ms > req->sent_ms ? now_ms - req->sent_ms : 0;
        rd__infra_rtt(req->res->infra, &req->target, rtt > 60000 ? 60000 : (uint32_t)rtt, now_ms);
    } else {
        rd__infra_heard(req->res->infra, &req->target, now_ms);
    }
    if ((m.flags & RD_F_TC) && !req->tcp) {
        req->retry = RD__RETRY_TCP;
        g->state = RD__G_QUERY;
        return 0;
    }
    req->retry = RD__RETRY_NONE;
    int rcode = RD_RCODE(m.flags);
    if (req->edns && (rcode == RD_RCODE_FORMERR || rcode == RD_RCODE_NOTIMP) &&
        req->nnoedns < RD_RES_NOEDNS_MAX) {
        /* RFC 6891 s7: a server that does not know EDNS may answer FORMERR or NOTIMP to an
         * OPT; ask it again without one (and without OPT for the rest of this request). */
        req->noedns[req->nnoedns++] = req->target;
        req->retry = RD__RETRY_NOEDNS;
        g->state = RD__G_QUERY;
        return 0;
    }
    if (rd_msg_parse(&m, wire, len, &req->arena) != 0) {
        req->malformed++;
        g->state = RD__G_QUERY; /* malformed: next server */
        return 0;
    }
    if (rd_msg_rcode(&m) == RD_RCODE_SERVFAIL) {
        /* Worth one more round (pick_server) when every server of the cut says so. */
        rd__cut_t *cut = g->cut;
        for (unsigned i = 0; i < cut->ntried; i++)
            if (rd__iter_addr_eq(&cut->tried[i], &req->target)) cut->servfail[i] = true;
    }
    rd__up_heard(req, rd_msg_rcode(&m), now_ms); /* a forward upstream may be back (probe.c) */
    int r = rd__iter_classify(req, &m, now_ms);
    if (r < 0) rd__iter_fail(req, RD__EDE_OTHER, rd_strerror(r));
    return 0;
}

void rd_req_result(const rd_req_t *req, rd_req_result_t *out)
{
    memset(out, 0, sizeof(*out));
    out->rcode = req->done ? req->rcode : RD_RCODE_SERVFAIL;
    out->nrrsets = req->nans;
    out->rrsets = req->ans;
    out->neg = req->neg;
    out->ede = req->rcode == RD_RCODE_SERVFAIL ? req->ede : -1;
    out->reason = req->reason;
    out->queries = req->queries;
    out->timeouts = req->timeouts;
    out->note = req->note;
    out->warn = req->warn;
}
