/* Stub and forward zones (issue 5) and forward upstreams as the shell needs them (issue 8):
 * the engine keeps its own copy of each configured upstream of a forward: zone (the
 * configuration it was made from may be replaced by a reload while requests of this context
 * are still in flight), and actions name one by index. What the transport found wrong with a
 * try comes back through rd_req_try_failed. An https:// upstream without @BOOTSTRAP-IP is
 * kept by its host name, resolved like a glueless NS name (iter.c pick_server). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolve/iter_int.h"
#include "resolverd/rrtype.h"

int rd__res_add_upstream(rd_res_t *res, const rd_conf_upstream_t *u)
{
    if (res->nups >= INT16_MAX) return RD_ERANGE;
    rd_conf_upstream_t *n = realloc(res->ups, (res->nups + 1) * sizeof(*n));
    if (!n) return RD_ENOMEM;
    res->ups = n;
    bool *w = realloc(res->boot_warned, (res->nups + 1) * sizeof(*w));
    if (!w) return RD_ENOMEM;
    res->boot_warned = w;
    w[res->nups] = false;
    int r = rd_conf_upstream_copy(&res->ups[res->nups], u);
    res->nups++; /* even when incomplete: freed with the rest */
    return r ? r : (int)(res->nups - 1);
}

void rd__res_free_upstreams(rd_res_t *res)
{
    for (unsigned i = 0; i < res->nups; i++) rd_conf_upstream_free(&res->ups[i]);
    free(res->ups);
    free(res->boot_warned);
    res->ups = NULL;
    res->boot_warned = NULL;
    res->nups = 0;
}

const rd_conf_upstream_t *rd_res_upstream(const rd_res_t *res, int index)
{
    if (!res || index < 0 || (unsigned)index >= res->nups) return NULL;
    return &res->ups[index];
}

int rd_req_try_failed(rd_req_t *req, uint32_t token, int ede, const char *reason, uint64_t now_ms)
{
    int r = rd_req_timeout(req, token, now_ms);
    if (r != 0) return r;
    /* The last such failure is the one the client hears about (RFC 8914 s3: one EDE per
     * cause is enough; the log has every upstream's). */
    req->tr_ede = ede;
    req->tr_reason = reason;
    return 0;
}

/* ---- stub: and forward: zones ---- */

/* Local data wins (issue 8): when a local zone holds HOST (entry i of z), it answers for it
 * as it would answer a client, and its A/AAAA records are the upstream's addresses like an
 * @IP (none: the upstream cannot be used); HOST is then never looked up. A delegation or a
 * CNAME leaving the zone is no answer: HOST is looked up as usual. */
static void local_addrs(const rd_zoneset_t *local, rd__pzone_t *z, unsigned i, uint16_t port)
{
    const rd_zone_t *zone = local ? rd_zoneset_find(local, z->host[i]) : NULL;
    if (!zone) return;
    static const uint16_t types[2] = {RD_TYPE_A, RD_TYPE_AAAA};
    rd_addr_t got[RD_RES_ADDRS_PER_NS];
    unsigned n = 0;
    for (unsigned t = 0; t < 2; t++) {
        uint8_t buf[RD__LOCAL_MSG];
        rd_mb_t b;
        int result = RD_ZR_NXDOMAIN;
        rd_mb_init(&b, buf, sizeof(buf), sizeof(buf), 0, RD_F_QR);
        if (rd_mb_question(&b, z->host[i], types[t], RD_CLASS_IN) != 0 ||
            rd_zone_answer(zone, z->host[i], types[t], false, &b, &result) != 0)
            return;
        if (result == RD_ZR_REFERRAL || result == RD_ZR_CNAME_OUT) return;
        size_t len = rd_mb_finish(&b);
        rd_arena_t ar;
        rd_arena_init(&ar, NULL, 0, 0);
        rd_msg_t m;
        uint16_t want = types[t] == RD_TYPE_A ? 4 : 16;
        if (rd_msg_parse(&m, buf, len, &ar) == 0)
            for (unsigned k = 0; k < m.count[RD_SEC_AN] && n < RD_RES_ADDRS_PER_NS; k++) {
                const rd_rr_t *rr = rd_msg_rr(&m, RD_SEC_AN, k);
                uint8_t d[16];
                size_t dl = 0;
                if (rr->type != types[t] || rr->rclass != RD_CLASS_IN || rr->rdlen != want ||
                    rd_rdata_unpack(m.wire, m.len, rr->rdata, rr->rdlen, rr->type, d, sizeof(d),
                                    &dl) != 0 ||
                    dl != want)
                    continue;
                rd_addr_t a = {.family = (uint8_t)(want == 4 ? 4 : 6), .port = port};
                memcpy(a.addr, d, want);
                got[n++] = a;
            }
        rd_arena_free(&ar);
    }
    z->local[i] = true;
    z->nlocal[i] = (uint8_t)n;
    memcpy(z->laddr[i], got, n * sizeof(got[0]));
}

/* Copies the stub and forward zones of the options (their arrays belong to the caller). */
int rd__res_copy_policy(rd_res_t *res)
{
    const rd_res_opts_t *o = &res->opts;
    size_t n = o->nstubs + o->nforwards;
    if (n == 0) return 0;
    if ((o->nstubs && !o->stubs) || (o->nforwards && !o->forwards)) return RD_EINVAL;
    res->pzones = calloc(n, sizeof(*res->pzones));
    if (!res->pzones) return RD_ENOMEM;
    for (size_t i = 0; i < o->nstubs; i++) {
        const rd_conf_stub_t *st = &o->stubs[i];
        rd__pzone_t *z = &res->pzones[res->npzones++];
        rd_name_lower_copy(z->name, st->name);
        for (size_t j = 0; j < st->nservers && z->nsrv < RD_RES_NS_PER_CUT; j++)
            z->addr[z->nsrv++] = st->servers[j];
    }
    for (size_t i = 0; i < o->nforwards; i++) {
        const rd_conf_forward_t *fw = &o->forwards[i];
        rd__pzone_t *z = &res->pzones[res->npzones++];
        rd_name_lower_copy(z->name, fw->name);
        z->forward = true;
        z->forward_first = fw->forward_first;
        for (size_t j = 0; j < fw->nupstreams && z->nsrv < RD_RES_NS_PER_CUT; j++) {
            const rd_conf_upstream_t *u = &fw->upstreams[j];
            if (u->addr.family == 0) {
                /* https:// to a name without @BOOTSTRAP-IP: the name is resolved (issue 8) */
                static const uint8_t root[1] = {0};
                const char *h = u->auth_name;
                if (u->proto != RD_UP_HTTPS || !h ||
                    rd_name_from_text(h, strlen(h), root, z->host[z->nsrv], NULL) != 0)
                    continue; /* the configuration checks this: nothing to reach */
                rd_name_lower(z->host[z->nsrv]);
                local_addrs(o->local, z, z->nsrv, u->addr.port ? u->addr.port : 443);
            }
            int up = rd__res_add_upstream(res, u);
            if (up < 0) return up;
            z->tcp[z->nsrv] = u->proto != RD_UP_UDP; /* TCP, TLS, HTTPS: streams */
            z->proto[z->nsrv] = u->proto;
            z->up[z->nsrv] = (int16_t)up;
            z->addr[z->nsrv++] = u->addr;
        }
    }
    return 0;
}

/* The longest stub or forward zone holding name (NULL: none). */
const rd__pzone_t *rd__res_policy_zone(const rd_res_t *res, const uint8_t *name)
{
    const rd__pzone_t *best = NULL;
    int bl = -1;
    for (unsigned i = 0; i < res->npzones; i++) {
        const rd__pzone_t *z = &res->pzones[i];
        if (!rd_name_in(name, z->name)) continue;
        int l = rd_name_labels(z->name);
        if (l > bl) {
            best = z;
            bl = l;
        }
    }
    return best;
}

/* The cut of a stub or forward zone: one pseudo NS entry per configured address. A forward
 * upstream known by its host name only (https:// without @BOOTSTRAP-IP) is an NS entry with
 * that name, its addresses from the cache when they are there (their TTL decides when the
 * name is looked up again), else looked up like a glueless NS name (pick_server).
 * Circularity: a sub goal (the lookup of some name's address, an upstream's host included)
 * never waits for an upstream whose own address is still unknown: such upstreams are left
 * out of its cut. A cut left empty sends the lookup of one of those upstreams' own hosts to
 * recursion; any other name is looked up through a cut made again with sub false (their
 * hosts looked up first, one level deep) and never by recursion (advance in iter.c). */
void rd__res_cut_from_policy(rd_req_t *req, rd__cut_t *cut, const rd__pzone_t *z, uint64_t now_s,
                             bool sub)
{
    memset(cut, 0, sizeof(*cut));
    memcpy(cut->name, z->name, rd_name_len(z->name));
    cut->configured = true;
    cut->forward = z->forward;
    cut->forward_first = z->forward_first;
    for (unsigned i = 0; i < z->nsrv; i++) {
        rd__ns_t *ns = &cut->ns[cut->nns];
        memset(ns, 0, sizeof(*ns));
        ns->tcp = z->tcp[i];
        ns->proto = z->forward ? z->proto[i] : 0;
        ns->up = z->forward ? z->up[i] : -1;
        ns->looked_up = RD__LOOKED_A | RD__LOOKED_AAAA;
        if (z->addr[i].family != 0) {
            ns->naddr = 1;
            ns->addr[0] = z->addr[i];
            cut->nns++;
            continue;
        }
        memcpy(ns->name, z->host[i], rd_name_len(z->host[i]));
        if (z->local[i]) {
            /* local data has HOST: its addresses (maybe none), no lookup */
            ns->naddr = z->nlocal[i];
            memcpy(ns->addr, z->laddr[i], z->nlocal[i] * sizeof(ns->addr[0]));
            if (!sub || ns->naddr > 0) cut->nns++;
            continue;
        }
        ns->looked_up = sub ? RD__LOOKED_A | RD__LOOKED_AAAA : 0;
        static const uint16_t types[2] = {RD_TYPE_A, RD_TYPE_AAAA};
        for (unsigned t = 0; t < 2; t++) {
            rd_cache_rrset_t a;
            if (rd_cache_lookup_rrset(req->res->cache, ns->name, types[t], RD_CLASS_IN, now_s,
                                      false, &req->arena, &a) == 0)
                rd__iter_ns_add_addrs(ns, &a, rd__res_ns_port(req->res, cut, ns));
        }
        if (sub && ns->naddr == 0) continue; /* it needs a lookup itself: not for a lookup */
        cut->nns++;
    }
}

/* Whether name is the host of one of z's upstreams known by name only (not in local data). */
bool rd__res_zone_has_host(const rd__pzone_t *z, const uint8_t *name)
{
    for (unsigned i = 0; z->forward && i < z->nsrv; i++)
        if (z->addr[i].family == 0 && !z->local[i] && rd_name_eq(z->host[i], name)) return true;
    return false;
}

/* The port of a name server's addresses: a forward upstream's (its URL's) or the DNS one. */
uint16_t rd__res_ns_port(const rd_res_t *res, const rd__cut_t *cut, const rd__ns_t *ns)
{
    if (cut->forward && ns->up >= 0 && (unsigned)ns->up < res->nups) {
        const rd_conf_upstream_t *u = &res->ups[ns->up];
        if (u->addr.port) return u->addr.port;
        return u->proto == RD_UP_HTTPS ? 443 : u->proto == RD_UP_TLS ? 853 : 53; /* URL default */
    }
    return res->opts.upstream_port;
}

/* ---- forward upstreams known by name (issue 8) ---- */

/* A lookup of an upstream's host went to recursion from the root: in clear text, unlike
 * everything else this forwarder sends (the clients' questions never go that way). The
 * operator hears of it once per upstream and engine context, through the request's result;
 * an @IP on the upstream line avoids it. */
void rd__res_boot_warn(rd_req_t *req, const rd__goal_t *g)
{
    rd_res_t *res = req->res;
    if (g->boot_up < 0 || (unsigned)g->boot_up >= res->nups) return;
    if (res->boot_warned[g->boot_up] || req->warn) return;
    const rd_conf_upstream_t *u = &res->ups[g->boot_up];
    char *m = rd_arena_alloc(&req->arena, RD__WARN_LEN);
    if (!m) return;
    snprintf(m, RD__WARN_LEN,
             "forward upstream %s: no other upstream of its zone has an address, so its host "
             "%s was looked up by recursion from the root, in clear text (client questions "
             "were not); add @IP to the upstream line to avoid this",
             u->uri ? u->uri : "?", u->auth_name ? u->auth_name : "?");
    res->boot_warned[g->boot_up] = true;
    req->warn = m;
}

/* A forward cut failed before any upstream was asked because an upstream's host has no
 * address (NXDOMAIN, NODATA or its lookup failed): the reason names that upstream (RFC 8914
 * EXTRA-TEXT, so the client's operator learns which line is wrong). NULL otherwise. */
const char *rd__res_unresolved_upstream(rd_req_t *req, const rd__cut_t *cut)
{
    if (cut->queries > 0) return NULL;
    for (unsigned i = 0; i < cut->nns; i++) {
        const rd__ns_t *ns = &cut->ns[i];
        if (ns->name[0] == 0 || ns->naddr > 0 || ns->up < 0 || (unsigned)ns->up >= req->res->nups)
            continue;
        const rd_conf_upstream_t *u = &req->res->ups[ns->up];
        char *m = rd_arena_alloc(&req->arena, RD__WARN_LEN);
        if (!m) return NULL;
        snprintf(m, RD__WARN_LEN, "forward upstream %s: no address for its host",
                 u->uri ? u->uri : "?");
        return m;
    }
    return NULL;
}
