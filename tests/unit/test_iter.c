/* The iterative engine (src/resolve/iter*.c) against a fake network inside the test: every
 * lab server of zones/lab/servers.conf answers from its zone files through rd_zone_answer and
 * the message builder (exactly what NSD would send, AA and referrals included); dead servers
 * drop queries. A virtual clock moves by 1 ms per reply and by the timeout per drop. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolverd/cache.h"
#include "resolverd/conf.h"
#include "resolverd/msg.h"
#include "resolverd/name.h"
#include "resolverd/resolve.h"
#include "resolverd/rrtype.h"
#include "resolverd/zonedb.h"
#include "resolve/iter_int.h"

#define LAB RD_SOURCE_DIR "/zones/lab/"

/* ---- the fake network ---- */

typedef struct {
    rd_addr_t addr;
    rd_zoneset_t *zones; /* NULL: dead or sink, nothing answers */
} fake_srv_t;

#define MAX_SRV 64
static fake_srv_t srv[MAX_SRV];
static unsigned nsrv;

/* A test may take over answering: return 1 with a reply in out, 0 to drop, -1 for default. */
typedef int (*hook_fn)(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out, size_t cap,
                       size_t *len);
static hook_fn hook;
/* NSEC owners hook_nsec adds to negative replies (see the NSEC proof scenarios) */
static const char *nsec_owners[8];
static unsigned nnsec;
static bool nsec_evil;

static const uint8_t *wire(const char *text, uint8_t *buf)
{
    cr_assert_eq(rd_name_from_text(text, strlen(text), NULL, buf, NULL), 0, "name %s", text);
    return buf;
}

static void add_zones(fake_srv_t *s, char *zones)
{
    if (strcmp(zones, "-") == 0) return;
    for (char *save = NULL, *z = strtok_r(zones, ",", &save); z; z = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(z, '=');
        cr_assert_not_null(eq);
        *eq = 0;
        uint8_t origin[RD_NAME_MAX];
        char path[512];
        snprintf(path, sizeof(path), LAB "%s", eq + 1);
        rd_zone_t *zone = NULL;
        cr_assert_eq(rd_zone_load_file(path, wire(z, origin), NULL, NULL, &zone), 0, "%s", path);
        cr_assert_eq(rd_zoneset_add(s->zones, zone), 0);
    }
}

/* Reads zones/lab/servers.conf: one fake server per address. */
static void net_load(void)
{
    FILE *f = fopen(LAB "servers.conf", "r");
    cr_assert_not_null(f);
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char name[64], kind[16], addrs[128], zones[256];
        if (sscanf(line, "%63s %15s %127s %255s", name, kind, addrs, zones) != 4) continue;
        for (char *save = NULL, *a = strtok_r(addrs, ",", &save); a;
             a = strtok_r(NULL, ",", &save)) {
            cr_assert_lt(nsrv, MAX_SRV);
            fake_srv_t *s = &srv[nsrv++];
            cr_assert_eq(rd_addr_parse(a, strlen(a), 53, &s->addr), 0, "%s", a);
            if (strcmp(kind, "nsd") != 0) continue;
            cr_assert_eq(rd_zoneset_new(&s->zones), 0);
            char z[256];
            memcpy(z, zones, sizeof(z));
            add_zones(s, z);
        }
    }
    fclose(f);
}

static bool addr_eq(const rd_addr_t *a, const rd_addr_t *b)
{
    return a->family == b->family && a->port == b->port &&
           memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

/* Fake forward upstreams (stub:/forward: zones) live in 127.0.99.0/24: .1 is a "recursive"
 * server answering from all the lab zones at once (RA set, AA clear), .3 the same but it adds
 * an out-of-zone record to the additional section; the others are dead. */
static fake_srv_t rec; /* rec.zones: loaded by policy_engine() */
static unsigned nroot; /* queries to the lab root servers */
static unsigned nup;   /* queries to the fake upstreams */

static bool is_upstream(const rd_addr_t *a)
{
    return a->family == 4 && a->addr[0] == 127 && a->addr[1] == 0 && a->addr[2] == 99;
}

static bool is_root(const rd_addr_t *a)
{
    static const uint8_t v6[16] = {0xfd, 0, 0x01, 0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    if (a->family == 6) return memcmp(a->addr, v6, 16) == 0;
    return a->addr[0] == 127 && a->addr[1] == 0 && a->addr[2] == 0 &&
           (a->addr[3] == 2 || a->addr[3] == 3);
}

/* What the server at act->server sends back: 1 with a reply, 0 when nothing comes. */
static int net_answer(const rd_res_action_t *act, uint8_t *out, size_t cap, size_t *len)
{
    rd_msg_t q;
    cr_assert_eq(rd_msg_parse(&q, act->wire, act->len, NULL), 0);
    cr_assert_eq(q.id, act->id);
    bool up = is_upstream(&act->server);
    nup += up;
    nroot += is_root(&act->server);
    if (up)
        cr_assert_neq(q.flags & RD_F_RD, 0, "RD must be set towards forward upstreams");
    else
        cr_assert_eq(q.flags & RD_F_RD, 0, "RD must be clear towards authoritative servers");
    if (hook) {
        int h = hook(act, &q, out, cap, len);
        if (h >= 0) return h;
    }
    const fake_srv_t *s = NULL;
    for (unsigned i = 0; i < nsrv; i++)
        if (addr_eq(&srv[i].addr, &act->server)) s = &srv[i];
    bool evil = up && act->server.addr[3] == 3;
    if (up) s = (act->server.addr[3] == 1 || evil) ? &rec : NULL;
    if (!s || !s->zones) return 0;
    uint8_t qname[RD_NAME_MAX];
    size_t pos = RD_HDR_LEN;
    cr_assert_eq(rd_name_unpack(q.wire, q.len, &pos, qname, NULL), 0);
    const rd_rr_t *qr = rd_msg_rr(&q, RD_SEC_QD, 0);
    size_t limit = act->tcp ? RD_MSG_MAX : (q.edns.present ? q.edns.udp_size : 512);
    rd_mb_t b;
    rd_mb_init(&b, out, cap, limit, q.id, RD_F_QR);
    rd_edns_build_t e = {.udp_size = 1232};
    if (q.edns.present) cr_assert_eq(rd_mb_reserve(&b, rd_edns_size(&e)), 0);
    cr_assert_eq(rd_mb_question(&b, qname, qr->type, qr->rclass), 0);
    const rd_zone_t *z = rd_zoneset_find(s->zones, qname);
    if (!z) {
        rd_mb_set_flags(&b, RD_F_QR | RD_RCODE_REFUSED); /* lame: not our zone */
    } else {
        int result;
        bool dnssec_ok = q.edns.present && (q.edns.flags & RD_EDNS_DO);
        cr_assert_eq(rd_zone_answer(z, qname, qr->type, dnssec_ok, &b, &result), 0);
    }
    if (up) rd_mb_set_flags(&b, (uint16_t)((b.flags & ~RD_F_AA) | RD_F_RA | RD_F_RD));
    if (evil) {
        uint8_t own[RD_NAME_MAX];
        static const uint8_t bad[4] = {6, 6, 6, 6};
        cr_assert_eq(rd_mb_rr(&b, RD_SEC_AR, wire("www.example.corp.", own), RD_TYPE_A, RD_CLASS_IN,
                              3600, bad, 4),
                     0);
    }
    if (q.edns.present) cr_assert_eq(rd_mb_opt(&b, &e), 0);
    *len = rd_mb_finish(&b);
    return 1;
}

/* ---- the engine under test ---- */

static rd_cache_t *cache;
static rd_res_t *res;
static bool client_do;                     /* the next resolve() asks with DO=1 */
static uint16_t answer_limit = RD_MSG_MAX; /* the client's UDP size for resolve() */
static uint64_t clock_ms = 1000000;
static uint32_t rng = 12345;

static uint32_t xorshift(void *ctx)
{
    uint32_t *s = ctx;
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void engine_new_unprimed(const char *hints, const rd_res_opts_t *opts)
{
    uint8_t key[RD_CACHE_KEY_LEN] = {1, 2, 3};
    cr_assert_eq(rd_cache_new(1u << 20, key, NULL, &cache), 0);
    size_t hl = strlen(hints);
    rd_res_opts_t o = {.allow_loopback_upstreams = true};
    if (opts) o = *opts;
    cr_assert_eq(rd_res_new(cache, hints, hl, &o, xorshift, &rng, &res), 0);
}

/* The state root priming (RFC 8109) leaves: the root NS set as authoritative answer data and
 * its servers' addresses, here those of the hints, cached for a day. Most scenarios start
 * from it so that their query counts are about what they test; the priming scenarios use
 * engine_new_unprimed. */
static void preprime(void)
{
    const rd__cut_t *h = &res->hints.cut;
    static const uint8_t root[1] = {0};
    rd_cache_rdata_t names[RD_RES_NS_PER_CUT];
    for (unsigned i = 0; i < h->nns; i++)
        names[i] = (rd_cache_rdata_t){h->ns[i].name, (uint16_t)rd_name_len(h->ns[i].name)};
    rd_cache_rrset_t ns = {.owner = root,
                           .type = RD_TYPE_NS,
                           .rclass = RD_CLASS_IN,
                           .ttl = 86400,
                           .rank = RD_CACHE_RANK_AUTH_ANSWER,
                           .count = (uint16_t)h->nns,
                           .rdata = names};
    cr_assert_eq(rd_cache_insert_rrset(cache, &ns, clock_ms / 1000), 0);
    for (unsigned i = 0; i < h->nns; i++)
        for (uint8_t fam = 4; fam <= 6; fam += 2) {
            rd_cache_rdata_t ad[RD_RES_ADDRS_PER_NS];
            unsigned n = 0;
            for (unsigned j = 0; j < h->ns[i].naddr; j++)
                if (h->ns[i].addr[j].family == fam)
                    ad[n++] = (rd_cache_rdata_t){h->ns[i].addr[j].addr, fam == 4 ? 4 : 16};
            if (n == 0) continue;
            rd_cache_rrset_t a = {.owner = h->ns[i].name,
                                  .type = fam == 4 ? RD_TYPE_A : RD_TYPE_AAAA,
                                  .rclass = RD_CLASS_IN,
                                  .ttl = 86400,
                                  .rank = RD_CACHE_RANK_ADDITIONAL,
                                  .count = (uint16_t)n,
                                  .rdata = ad};
            cr_assert_eq(rd_cache_insert_rrset(cache, &a, clock_ms / 1000), 0);
        }
}

static void engine_new(const char *hints, const rd_res_opts_t *opts)
{
    engine_new_unprimed(hints, opts);
    preprime();
}

/* An empty cache, but primed (as the daemon's stays: priming comes back with the next query). */
static void cache_clear(void)
{
    rd_cache_clear(cache);
    preprime();
}

static char *hints_file(void)
{
    static char buf[4096];
    FILE *f = fopen(LAB "root.hints", "r");
    cr_assert_not_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* A new engine and cache: forgets the servers' RTTs and the failure cache as well. */
static void fresh_engine(void)
{
    rd_res_free(res);
    rd_cache_free(cache);
    engine_new(hints_file(), NULL);
}

static void setup(void)
{
    net_load();
    engine_new(hints_file(), NULL);
}

static void teardown(void)
{
    rd_res_free(res);
    rd_cache_free(cache);
    for (unsigned i = 0; i < nsrv; i++) rd_zoneset_free(srv[i].zones);
    nsrv = 0;
    hook = NULL;
    client_do = false;
    nnsec = 0;
    nsec_evil = false;
    answer_limit = RD_MSG_MAX;
    rd_zoneset_free(rec.zones);
    rec.zones = NULL;
}

typedef struct {
    unsigned sends, tcp, drops, ignored;
    rd_req_result_t res;
    int rcode;
    unsigned an, ns;
    bool tc;
    char text[65536];
    uint64_t elapsed;
    uint32_t ttl[RD_RES_ANSWER_RRSETS]; /* of out.res.rrsets, copied before the request dies */
    int64_t neg_ttl;                    /* of out.res.neg, or -1 */
    char reason[512], warn[512];        /* out.res.reason and .warn point here (they may be in the
                                         * request's arena) */
} outcome_t;

static outcome_t out;

/* Resolves name/type through the fake network and builds the client response. */
static void resolve(const char *name, uint16_t qtype)
{
    memset(&out, 0, sizeof(out));
    uint8_t qn[RD_NAME_MAX];
    wire(name, qn);
    rd_req_t *req = NULL;
    uint64_t start = clock_ms;
    cr_assert_eq(rd_req_new(res, qn, qtype, RD_CLASS_IN, client_do, false, clock_ms, &req), 0);
    for (int i = 0;; i++) {
        cr_assert_lt(i, 1000, "no end");
        rd_res_action_t act;
        int r = rd_req_step(req, clock_ms, &act);
        if (r == RD_RES_DONE) break;
        cr_assert_eq(r, RD_RES_SEND, "step returned %d", r);
        out.sends++;
        out.tcp += act.tcp;
        static uint8_t reply[RD_MSG_MAX];
        size_t len = 0;
        int got = net_answer(&act, reply, sizeof(reply), &len);
        if (got) {
            clock_ms += 1;
            int rr = rd_req_reply(req, act.token, &act.server, reply, len, clock_ms);
            cr_assert(rr == 0 || rr == RD_RES_IGNORED, "reply returned %d", rr);
            if (rr == RD_RES_IGNORED) got = 0, out.ignored++; /* waits for the timeout */
        }
        if (!got) {
            out.drops++;
            clock_ms += act.timeout_ms;
            cr_assert_eq(rd_req_timeout(req, act.token, clock_ms), 0);
        }
    }
    out.elapsed = clock_ms - start;
    rd_req_result(req, &out.res);
    for (unsigned i = 0; i < out.res.nrrsets && i < RD_RES_ANSWER_RRSETS; i++)
        out.ttl[i] = out.res.rrsets[i].ttl;
    out.neg_ttl = out.res.neg ? (int64_t)out.res.neg->ttl : -1;
    if (out.res.reason) {
        snprintf(out.reason, sizeof(out.reason), "%s", out.res.reason);
        out.res.reason = out.reason;
    }
    if (out.res.warn) {
        snprintf(out.warn, sizeof(out.warn), "%s", out.res.warn);
        out.res.warn = out.warn;
    }
    static uint8_t resp[RD_MSG_MAX];
    size_t rlen = 0;
    cr_assert_eq(
        rd_req_answer(req, 0x1234, qn, true, true, answer_limit, resp, sizeof(resp), &rlen), 0);
    out.tc = (resp[2] & (RD_F_TC >> 8)) != 0;
    rd_msg_t m;
    rd_arena_t ar;
    rd_arena_init(&ar, NULL, 0, 0);
    cr_assert_eq(rd_msg_parse(&m, resp, rlen, &ar), 0);
    out.rcode = rd_msg_rcode(&m);
    out.an = m.count[RD_SEC_AN];
    out.ns = m.count[RD_SEC_NS];
    cr_assert_eq(m.id, 0x1234);
    cr_assert(m.flags & RD_F_RA);
    cr_assert(m.flags & RD_F_RD);
    cr_assert_not(m.flags & RD_F_AA);
    cr_assert(rd_msg_to_text(&m, out.text, sizeof(out.text)) > 0);
    rd_arena_free(&ar);
    rd_req_free(req);
}

#define EXPECT(rc_, nan_, sends_)                                                                  \
    do {                                                                                           \
        if (out.rcode != (rc_) || out.an != (unsigned)(nan_) || out.sends != (unsigned)(sends_))   \
            fprintf(stderr, "sends %u drops %u tcp %u reason %s\n%s\n", out.sends, out.drops,      \
                    out.tcp, out.res.reason ? out.res.reason : "-", out.text);                     \
        cr_assert_eq(out.rcode, (rc_));                                                            \
        cr_assert_eq(out.an, (unsigned)(nan_));                                                    \
        cr_assert_eq(out.sends, (unsigned)(sends_));                                               \
    } while (0)

#define HAS(s) cr_assert(strstr(out.text, (s)) != NULL, "missing %s in\n%s", (s), out.text)

TestSuite(iter, .init = setup, .fini = teardown);

Test(iter, glue_delegation)
{
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3); /* root, lab., example.lab. */
    HAS("192.0.2.10");
}

Test(iter, second_query_from_cache)
{
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    resolve("WWW.Example.LAB.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 0);
    HAS("WWW.Example.LAB.");
    /* The cut is cached: a sibling name goes straight to example.lab.'s servers. */
    resolve("mixedcase.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.sends, 1);
}

Test(iter, cached_cut_without_addresses_falls_back)
{
    /* example.lab. NS ns9.example.lab. is cached, with no address anywhere: the engine goes
     * back up to a cut it can reach and is referred down again. */
    uint8_t zone[RD_NAME_MAX], ns[RD_NAME_MAX];
    wire("example.lab.", zone);
    wire("ns9.example.lab.", ns);
    rd_cache_rdata_t rd = {ns, (uint16_t)rd_name_len(ns)};
    rd_cache_rrset_t rs = {.owner = zone,
                           .type = RD_TYPE_NS,
                           .rclass = RD_CLASS_IN,
                           .ttl = 3600,
                           .rank = RD_CACHE_RANK_AUTHORITY,
                           .count = 1,
                           .rdata = &rd};
    cr_assert_eq(rd_cache_insert_rrset(cache, &rs, clock_ms / 1000), 0);
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    HAS("192.0.2.10");
}

Test(iter, noglue_subresolution)
{
    resolve("www.noglue.lab.", RD_TYPE_A);
    /* root, lab. (no glue); NS name: root, net., dns-host.net.; then the question */
    EXPECT(RD_RCODE_NOERROR, 1, 6);
    HAS("192.0.2.60");
}

Test(iter, cname_chain_across_zones)
{
    resolve("chain.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 3, out.sends);
    HAS("step2.example.corp.");
    HAS("step3.example.net.");
    HAS("192.0.2.33");
    cr_assert_leq(out.sends, 10);
    resolve("chain.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 3, 0);
}

Test(iter, nxdomain_then_negative_cache)
{
    resolve("nx.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 3);
    cr_assert_eq(out.ns, 1);
    HAS("SOA");
    resolve("nx.example.lab.", RD_TYPE_AAAA);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 0);
    /* RFC 8020: nothing below an NXDOMAIN */
    resolve("below.nx.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 0);
}

Test(iter, nodata_then_negative_cache)
{
    resolve("nodata.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 0, 3);
    cr_assert_eq(out.ns, 1);
    HAS("SOA");
    resolve("nodata.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 0, 0);
    cr_assert_eq(out.ns, 1);
}

Test(iter, dname)
{
    resolve("www.old.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 3, out.sends); /* DNAME, synthesised CNAME, A */
    HAS("DNAME");
    HAS("192.0.2.50");
    cr_assert_leq(out.sends, 6);
}

Test(iter, ipv6_only_server)
{
    resolve("www.v6only.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    HAS("192.0.2.80");
}

Test(iter, ttl_expiry_requeries)
{
    resolve("short.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    clock_ms += 4000;
    resolve("short.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 0);
    clock_ms += 2000;
    resolve("short.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1); /* the cut is still cached */
}

Test(iter, self_cname_servfail)
{
    resolve("self.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_leq(out.sends, 20);
}

Test(iter, slow_server_sink)
{
    unsigned drops = 0;
    for (uint32_t seed = 1; seed <= 8; seed++) {
        rng = seed * 31337;
        fresh_engine(); /* else the sink, once timed out, is rarely chosen again */
        resolve("www.slow.lab.", RD_TYPE_A);
        EXPECT(RD_RCODE_NOERROR, 1, 3 + out.drops);
        HAS("192.0.2.91");
        drops += out.drops;
    }
    cr_assert_gt(drops, 0);
}

Test(iter, nxdomain_tld_from_root)
{
    resolve("nosuchtld.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 1);
}

Test(iter, wildcard)
{
    resolve("foo.wild.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    HAS("192.0.2.20");
}

Test(iter, five_zone_cuts)
{
    resolve("www.a.b.c.d.deep.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 7);
    HAS("192.0.2.74");
}

Test(iter, one_server_down)
{
    unsigned with_timeout = 0;
    for (uint32_t seed = 1; seed <= 12; seed++) {
        rng = seed * 7919;
        fresh_engine(); /* else the dead server, once timed out, is rarely chosen again */
        resolve("www.onedown.lab.", RD_TYPE_A);
        EXPECT(RD_RCODE_NOERROR, 1, 3 + out.drops);
        HAS("192.0.2.90");
        cr_assert_leq(out.drops, 1);
        cr_assert_eq(out.res.timeouts, out.drops);
        with_timeout += out.drops;
    }
    cr_assert_gt(with_timeout, 0, "the dead server was never tried");
}

Test(iter, all_servers_down)
{
    resolve("www.alldown.lab.", RD_TYPE_A);
    /* root, lab., both dead servers, both again with a doubled timeout */
    EXPECT(RD_RCODE_SERVFAIL, 0, 6);
    cr_assert_eq(out.res.ede, 22);
    cr_assert_eq(out.drops, 4);
    cr_assert_eq(out.elapsed, 2 + 2 * 400 + 2 * 800);
    cr_assert_leq(out.elapsed, 10000);
    HAS("EDE");
}

Test(iter, lame_delegation)
{
    resolve("www.lame.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 3);
    cr_assert_neq(out.res.ede, -1);
}

Test(iter, half_lame)
{
    for (uint32_t seed = 1; seed <= 6; seed++) {
        rng = seed * 104729;
        cache_clear();
        resolve("www.halflame.lab.", RD_TYPE_A);
        EXPECT(RD_RCODE_NOERROR, 1, out.sends);
        HAS("192.0.2.92");
        cr_assert(out.sends == 3 || out.sends == 4);
    }
}

Test(iter, cname_loop_servfail)
{
    resolve("loop1.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, out.sends);
    cr_assert_leq(out.sends, 30);
}

Test(iter, tc_retries_over_tcp)
{
    resolve("big.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 100, 4); /* root, lab., UDP (TC), TCP */
    cr_assert_eq(out.tcp, 1);
}

/* ---- QNAME minimisation (RFC 9156), opt-in ---- */

static unsigned leaks; /* queries that told a server more labels than it needed */

static int qmin_watch_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                           size_t *len)
{
    (void)out_, (void)cap, (void)len;
    uint8_t qname[RD_NAME_MAX];
    size_t pos = RD_HDR_LEN;
    cr_assert_eq(rd_name_unpack(q->wire, q->len, &pos, qname, NULL), 0);
    int labels = rd_name_labels(qname);
    bool root = (act->server.family == 4 && act->server.addr[2] == 0) ||
                (act->server.family == 6 && act->server.addr[13] == 2);
    bool tld = act->server.family == 4 && act->server.addr[2] >= 1 && act->server.addr[2] <= 4;
    if ((root && labels > 1) || (tld && labels > 2)) leaks++;
    return -1;
}

static void qmin_engine(void)
{
    rd_res_free(res);
    rd_cache_free(cache);
    rd_res_opts_t o = {.allow_loopback_upstreams = true, .qname_min = true};
    engine_new(hints_file(), &o);
    hook = qmin_watch_hook;
}

Test(iter, qmin_lab_answers)
{
    static const struct {
        const char *name;
        uint16_t type;
        int rcode;
        unsigned an;
        const char *has;
    } cases[] = {
        {"www.example.lab.", RD_TYPE_A, RD_RCODE_NOERROR, 1, "192.0.2.10"},
        {"www.a.b.c.d.deep.lab.", RD_TYPE_A, RD_RCODE_NOERROR, 1, "192.0.2.74"},
        {"www.noglue.lab.", RD_TYPE_A, RD_RCODE_NOERROR, 1, "192.0.2.60"},
        {"chain.example.lab.", RD_TYPE_A, RD_RCODE_NOERROR, 3, "192.0.2.33"},
        {"nx.example.lab.", RD_TYPE_A, RD_RCODE_NXDOMAIN, 0, "SOA"},
        {"ent.example.lab.", RD_TYPE_A, RD_RCODE_NOERROR, 0, "SOA"},
        {"a.ent.example.lab.", RD_TYPE_A, RD_RCODE_NOERROR, 1, "192.0.2.14"},
        {"x.y.nodata.example.lab.", RD_TYPE_A, RD_RCODE_NXDOMAIN, 0, "SOA"},
        {"foo.bar.wild.example.lab.", RD_TYPE_A, RD_RCODE_NOERROR, 1, "192.0.2.20"},
        {"www.old.example.lab.", RD_TYPE_A, RD_RCODE_NOERROR, 3, "192.0.2.50"},
        {"nosuchtld.", RD_TYPE_A, RD_RCODE_NXDOMAIN, 0, "SOA"},
        {"www.halflame.lab.", RD_TYPE_A, RD_RCODE_NOERROR, 1, "192.0.2.92"},
        {"www.lame.lab.", RD_TYPE_A, RD_RCODE_SERVFAIL, 0, "EDE"},
    };
    qmin_engine();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        resolve(cases[i].name, cases[i].type);
        if (out.rcode != cases[i].rcode || out.an != cases[i].an)
            fprintf(stderr, "%s: sends %u reason %s\n%s\n", cases[i].name, out.sends,
                    out.res.reason ? out.res.reason : "-", out.text);
        cr_assert_eq(out.rcode, cases[i].rcode, "%s", cases[i].name);
        cr_assert_eq(out.an, cases[i].an, "%s", cases[i].name);
        HAS(cases[i].has);
    }
    cr_assert_eq(leaks, 0, "a root or TLD server saw a full name");
}

Test(iter, qmin_query_counts)
{
    qmin_engine();
    resolve("www.a.b.c.d.deep.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 7); /* every label is a cut: as many as without */
    resolve("a.ent.example.lab.", RD_TYPE_AAAA);
    /* lab. is cached: example.lab. (referral), ent (NODATA: no cut), then the full name */
    EXPECT(RD_RCODE_NOERROR, 0, 3);
    cr_assert_eq(leaks, 0);
}

/* ---- scripted servers ---- */

/* A referral loop: the server at 127.0.60.K serves the zone of the last K "a" labels above
 * loop. and always refers one label down, to a new server 127.0.60.(K+1) with glue. */
static int loop_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                     size_t *len)
{
    if (act->server.family != 4 || act->server.addr[0] != 127 || act->server.addr[2] != 60)
        return -1;
    unsigned k = act->server.addr[3];
    uint8_t qname[RD_NAME_MAX];
    size_t pos = RD_HDR_LEN;
    cr_assert_eq(rd_name_unpack(q->wire, q->len, &pos, qname, NULL), 0);
    int labels = rd_name_labels(qname);
    const uint8_t *zone = qname; /* the child: loop. plus k+1 labels */
    for (int i = 0; i < labels - 1 - (int)(k + 1); i++) zone += zone[0] + 1;
    rd_mb_t b;
    rd_mb_init(&b, out_, cap, 1232, q->id, RD_F_QR);
    const rd_rr_t *qr = rd_msg_rr(q, RD_SEC_QD, 0);
    cr_assert_eq(rd_mb_question(&b, qname, qr->type, qr->rclass), 0);
    uint8_t ns[RD_NAME_MAX] = {2, 'n', 's'};
    memcpy(ns + 3, zone, rd_name_len(zone));
    cr_assert_eq(
        rd_mb_rr(&b, RD_SEC_NS, zone, RD_TYPE_NS, RD_CLASS_IN, 3600, ns, (uint16_t)rd_name_len(ns)),
        0);
    uint8_t a[4] = {127, 0, 60, (uint8_t)(k + 1)};
    cr_assert_eq(rd_mb_rr(&b, RD_SEC_AR, ns, RD_TYPE_A, RD_CLASS_IN, 3600, a, 4), 0);
    *len = rd_mb_finish(&b);
    return 1;
}

static const char loop_hints[] = ". 3600 NS ns.loop.\nns.loop. 3600 A 127.0.60.0\n";

static void long_name(char *buf)
{
    buf[0] = 0;
    for (int i = 0; i < 100; i++) strcat(buf, "a.");
    strcat(buf, "loop.");
}

Test(iter, referral_depth_limit)
{
    rd_res_free(res);
    rd_cache_free(cache);
    engine_new(loop_hints, NULL);
    hook = loop_hook;
    char name[512];
    long_name(name);
    resolve(name, RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 31); /* the hints' server, then 30 referrals followed */
    cr_assert_str_eq(out.res.reason, "referral limit reached");
}

Test(iter, total_query_limit)
{
    rd_res_free(res);
    rd_cache_free(cache);
    rd_res_opts_t o = {.allow_loopback_upstreams = true, .max_referrals = 1000, .max_queries = 50};
    engine_new(loop_hints, &o);
    hook = loop_hook;
    char name[512];
    long_name(name);
    resolve(name, RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 50);
    cr_assert_str_eq(out.res.reason, "upstream query limit per client query reached");
}

Test(iter, default_total_query_limit)
{
    /* 100 labels of referrals: the default cap (200) is never passed whatever stops it. */
    rd_res_free(res);
    rd_cache_free(cache);
    rd_res_opts_t o = {.allow_loopback_upstreams = true, .max_referrals = 1000};
    engine_new(loop_hints, &o);
    hook = loop_hook;
    char name[512];
    long_name(name);
    resolve(name, RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_leq(out.sends, 200);
}

Test(iter, loopback_upstreams_refused_unless_allowed)
{
    rd_res_free(res);
    rd_cache_free(cache);
    rd_res_opts_t o = {.allow_loopback_upstreams = false, .no_ipv6 = true};
    engine_new(hints_file(), &o);
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 0);
}

Test(iter, time_limit)
{
    /* Every server is dead and the limits are wide: the 10 s budget ends it. */
    rd_res_free(res);
    rd_cache_free(cache);
    rd_res_opts_t o = {.allow_loopback_upstreams = true, .timeout_ms = 4000};
    engine_new(hints_file(), &o);
    for (unsigned i = 0; i < nsrv; i++) {
        rd_zoneset_free(srv[i].zones);
        srv[i].zones = NULL;
    }
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(out.res.ede, 22);
    cr_assert_eq(out.elapsed, 10000); /* the last try's timeout is cut to what is left */
    cr_assert_eq(out.sends, 3, "%u", out.sends);
    cr_assert_str_eq(out.res.reason, "time limit per client query reached");
}

/* NXNS (CVE-2020-12662): a referral with 20 NS names outside any glue; each lookup of one
 * gets NXDOMAIN. At most RD_RES_NS_LOOKUPS_PER_CUT (5) are looked up. */
static unsigned nxns_lookups;

static int nxns_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                     size_t *len)
{
    (void)act;
    uint8_t qname[RD_NAME_MAX], victim[RD_NAME_MAX];
    size_t pos = RD_HDR_LEN;
    cr_assert_eq(rd_name_unpack(q->wire, q->len, &pos, qname, NULL), 0);
    const rd_rr_t *qr = rd_msg_rr(q, RD_SEC_QD, 0);
    rd_mb_t b;
    rd_mb_init(&b, out_, cap, 1232, q->id, RD_F_QR);
    cr_assert_eq(rd_mb_question(&b, qname, qr->type, qr->rclass), 0);
    if (rd_name_in(qname, wire("victim.", victim))) {
        for (int i = 0; i < 20; i++) {
            char t[64];
            uint8_t ns[RD_NAME_MAX];
            snprintf(t, sizeof(t), "ns%d.nowhere%d.", i, i);
            wire(t, ns);
            cr_assert_eq(rd_mb_rr(&b, RD_SEC_NS, victim, RD_TYPE_NS, RD_CLASS_IN, 3600, ns,
                                  (uint16_t)rd_name_len(ns)),
                         0);
        }
    } else {
        nxns_lookups++;
        rd_mb_set_flags(&b, RD_F_QR | RD_F_AA | RD_RCODE_NXDOMAIN);
    }
    *len = rd_mb_finish(&b);
    return 1;
}

Test(iter, nxns_lookups_bounded)
{
    rd_res_free(res);
    rd_cache_free(cache);
    engine_new(loop_hints, NULL);
    hook = nxns_hook;
    resolve("www.victim.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 6); /* the referral, then 5 NS-name lookups */
    cr_assert_eq(nxns_lookups, 5);
}

/* ---- replies that are not ours ---- */

Test(iter, spoofed_replies_ignored)
{
    uint8_t qn[RD_NAME_MAX];
    rd_req_t *req = NULL;
    cr_assert_eq(rd_req_new(res, wire("www.example.lab.", qn), RD_TYPE_A, RD_CLASS_IN, false, false,
                            clock_ms, &req),
                 0);
    rd_res_action_t act;
    cr_assert_eq(rd_req_step(req, clock_ms, &act), RD_RES_SEND);
    static uint8_t reply[RD_MSG_MAX];
    size_t len = 0;
    cr_assert_eq(net_answer(&act, reply, sizeof(reply), &len), 1);
    /* wrong source address, then wrong port */
    rd_addr_t other = act.server;
    other.addr[3] ^= 1;
    cr_assert_eq(rd_req_reply(req, act.token, &other, reply, len, clock_ms), RD_RES_IGNORED);
    other = act.server;
    other.port = 5353;
    cr_assert_eq(rd_req_reply(req, act.token, &other, reply, len, clock_ms), RD_RES_IGNORED);
    /* wrong ID */
    reply[0] ^= 0x55;
    cr_assert_eq(rd_req_reply(req, act.token, &act.server, reply, len, clock_ms), RD_RES_IGNORED);
    reply[0] ^= 0x55;
    /* stale token, garbage */
    cr_assert_eq(rd_req_reply(req, act.token + 1, &act.server, reply, len, clock_ms),
                 RD_RES_IGNORED);
    cr_assert_eq(rd_req_reply(req, act.token, &act.server, reply, 5, clock_ms), RD_RES_IGNORED);
    /* still waiting */
    rd_res_action_t act2;
    cr_assert_eq(rd_req_step(req, clock_ms, &act2), RD_RES_WAIT);
    /* wrong question (another type) */
    rd_msg_t m;
    cr_assert_eq(rd_msg_parse_question(&m, reply, len), 0);
    size_t tpos = RD_HDR_LEN + rd_name_len(qn);
    reply[tpos + 1] = RD_TYPE_AAAA;
    cr_assert_eq(rd_req_reply(req, act.token, &act.server, reply, len, clock_ms), RD_RES_IGNORED);
    reply[tpos + 1] = RD_TYPE_A;
    /* the name in another case (0x20): ignored too */
    reply[RD_HDR_LEN + 1] ^= 0x20;
    cr_assert_eq(rd_req_reply(req, act.token, &act.server, reply, len, clock_ms), RD_RES_IGNORED);
    cr_assert_eq(rd_req_step(req, clock_ms, &act2), RD_RES_WAIT);
    reply[RD_HDR_LEN + 1] ^= 0x20;
    /* the real one, in the case it went out */
    cr_assert_eq(rd_req_reply(req, act.token, &act.server, reply, len, clock_ms), 0);
    cr_assert_eq(rd_req_step(req, clock_ms, &act2), RD_RES_SEND);
    cr_assert_neq(act2.token, act.token);
    rd_req_free(req);
}

/* Out-of-bailiwick data in a reply is never cached: the lab. server adds a forged address for
 * a name in corp. and a forged NS for net. */
static unsigned poisoned;

static int poison_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                       size_t *len)
{
    /* the lab. servers: 127.0.1.1, 127.0.1.2, fd00:1ab::1:1 */
    bool lab4 = act->server.family == 4 && act->server.addr[2] == 1;
    bool lab6 = act->server.family == 6 && act->server.addr[13] == 1;
    if (!lab4 && !lab6) return -1;
    poisoned++;
    hook = NULL;
    int r = net_answer(act, out_, cap, len);
    hook = poison_hook;
    cr_assert_eq(r, 1);
    rd_msg_t m;
    rd_arena_t ar;
    rd_arena_init(&ar, NULL, 0, 0);
    cr_assert_eq(rd_msg_parse(&m, out_, *len, &ar), 0);
    static uint8_t copy[RD_MSG_MAX];
    cr_assert_eq(rd_msg_rebuild(&m, copy, sizeof(copy), RD_MSG_MAX, len), 0);
    rd_arena_free(&ar);
    /* Append an additional record by hand: owner www.example.corp., A 6.6.6.6 */
    uint8_t owner[RD_NAME_MAX];
    wire("www.example.corp.", owner);
    size_t ol = rd_name_len(owner), n = *len;
    memcpy(copy + n, owner, ol);
    n += ol;
    const uint8_t tail[] = {0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 6, 6, 6, 6};
    memcpy(copy + n, tail, sizeof(tail));
    n += sizeof(tail);
    uint16_t ar_count = (uint16_t)(copy[10] << 8 | copy[11]);
    ar_count++;
    copy[10] = (uint8_t)(ar_count >> 8);
    copy[11] = (uint8_t)ar_count;
    (void)q;
    memcpy(out_, copy, n);
    *len = n;
    rd_arena_init(&ar, NULL, 0, 0);
    cr_assert_eq(rd_msg_parse(&m, out_, n, &ar), 0, "forged reply must parse");
    cr_assert_eq(m.count[RD_SEC_AR], ar_count);
    rd_arena_free(&ar);
    return 1;
}

Test(iter, out_of_bailiwick_not_cached)
{
    hook = poison_hook;
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    cr_assert_eq(poisoned, 1);
    uint8_t owner[RD_NAME_MAX];
    rd_arena_t ar;
    rd_arena_init(&ar, NULL, 0, 0);
    rd_cache_rrset_t rs;
    cr_assert_eq(rd_cache_lookup_rrset(cache, wire("www.example.corp.", owner), RD_TYPE_A,
                                       RD_CLASS_IN, clock_ms / 1000, false, &ar, &rs),
                 RD_ENOTFOUND);
    /* the in-bailiwick glue was cached */
    cr_assert_eq(rd_cache_lookup_rrset(cache, wire("ns1.example.lab.", owner), RD_TYPE_A,
                                       RD_CLASS_IN, clock_ms / 1000, false, &ar, &rs),
                 0);
    cr_assert_eq(rs.rank, RD_CACHE_RANK_ADDITIONAL);
    rd_arena_free(&ar);
}

/* One lost datagram to the only server of a zone: the second round gets through. */
static unsigned lost;

static int lose_once_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                          size_t *len)
{
    (void)q, (void)out_, (void)cap, (void)len;
    static const uint8_t deep1[4] = {127, 0, 30, 1};
    if (act->server.family == 4 && memcmp(act->server.addr, deep1, 4) == 0 && lost++ == 0) {
        cr_assert_eq(act->timeout_ms, 400);
        return 0;
    }
    if (lost == 2) cr_assert_eq(act->timeout_ms, 800);
    return -1;
}

Test(iter, lost_datagram_retried)
{
    hook = lose_once_hook;
    resolve("www.deep.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 4); /* root, lab., deep.lab. lost, deep.lab. again */
    HAS("192.0.2.70");
    cr_assert_eq(out.drops, 1);
    cr_assert_eq(out.res.timeouts, 1);
}

Test(iter, answer_truncated_for_small_client)
{
    uint8_t qn[RD_NAME_MAX];
    wire("big.example.lab.", qn);
    resolve("big.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 100, 4);
    /* the same request again, answered to a client without EDNS: 512 octets, TC */
    rd_req_t *req = NULL;
    cr_assert_eq(rd_req_new(res, qn, RD_TYPE_A, RD_CLASS_IN, false, false, clock_ms, &req), 0);
    rd_res_action_t act;
    cr_assert_eq(rd_req_step(req, clock_ms, &act), RD_RES_DONE);
    uint8_t buf[RD_MSG_MAX];
    size_t len = 0;
    cr_assert_eq(rd_req_answer(req, 7, qn, false, false, 512, buf, sizeof(buf), &len), 0);
    cr_assert_leq(len, 512);
    rd_msg_t m;
    cr_assert_eq(rd_msg_parse(&m, buf, len, NULL), 0);
    cr_assert(m.flags & RD_F_TC);
    cr_assert_not(m.flags & RD_F_RD);
    cr_assert_eq(m.count[RD_SEC_AN], 0, "whole RRsets only");
    cr_assert_eq(m.opt_index, -1);
    rd_req_free(req);
}

Test(iter, servfail_answer_has_ede)
{
    resolve("www.alldown.lab.", RD_TYPE_A);
    HAS("EDE: 22");
}

/* ---- 0x20, EDNS fallback, SERVFAIL rounds ---- */

static bool is_example_lab(const rd_addr_t *a)
{
    return a->family == 4 && a->addr[0] == 127 && a->addr[1] == 0 && a->addr[2] == 10;
}

static void query_name(const rd_msg_t *q, uint8_t *qname)
{
    size_t pos = RD_HDR_LEN;
    cr_assert_eq(rd_name_unpack(q->wire, q->len, &pos, qname, NULL), 0);
}

static bool has_upper(const uint8_t *name)
{
    for (size_t i = 0; name[i] != 0; i += (size_t)name[i] + 1)
        for (size_t j = i + 1; j <= i + name[i]; j++)
            if (name[j] >= 'A' && name[j] <= 'Z') return true;
    return false;
}

/* The default answer of the fake network for this query. */
static int default_answer(const rd_res_action_t *act, uint8_t *out_, size_t cap, size_t *len)
{
    hook_fn saved = hook;
    hook = NULL;
    int r = net_answer(act, out_, cap, len);
    hook = saved;
    return r;
}

static unsigned mixed_sent, plain_sent, udp_sent;

static int case_watch_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                           size_t *len)
{
    (void)act, (void)out_, (void)cap, (void)len;
    uint8_t qname[RD_NAME_MAX];
    query_name(q, qname);
    if (!act->tcp) udp_sent++;
    if (has_upper(qname)) mixed_sent++;
    if (act->tcp) cr_assert(!has_upper(qname), "no 0x20 over TCP");
    return -1;
}

Test(iter, x20_names_go_out_in_random_case)
{
    hook = case_watch_hook;
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    HAS("192.0.2.10");
    cr_assert_eq(out.ignored, 0);
    resolve("big.example.lab.", RD_TYPE_A); /* UDP (TC) then TCP: the TCP name is plain */
    EXPECT(RD_RCODE_NOERROR, 100, 2);
    /* 4 UDP names of 11-16 letters: all lower case by chance is ~2^-50 */
    cr_assert_eq(udp_sent, 4);
    cr_assert_eq(mixed_sent, 4);
}

/* example.lab.'s servers flip the case of the question's letters (and of the owners that
 * point to it), as a server that does not keep the case would. */
static int case_mangle_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_,
                            size_t cap, size_t *len)
{
    uint8_t qname[RD_NAME_MAX];
    query_name(q, qname);
    if (has_upper(qname))
        mixed_sent++;
    else
        plain_sent++;
    if (!is_example_lab(&act->server)) return -1;
    cr_assert_eq(default_answer(act, out_, cap, len), 1);
    for (size_t i = RD_HDR_LEN; out_[i] != 0; i += (size_t)out_[i] + 1)
        for (size_t j = i + 1; j <= i + out_[i]; j++) {
            uint8_t c = out_[j] | 0x20;
            if (c >= 'a' && c <= 'z') out_[j] ^= 0x20;
        }
    return 1;
}

Test(iter, x20_case_mangling_server_falls_back)
{
    hook = case_mangle_hook;
    resolve("www.example.lab.", RD_TYPE_A);
    /* root, lab., example.lab. (case flipped: ignored, the try times out), the same server
     * again with the plain name */
    EXPECT(RD_RCODE_NOERROR, 1, 4);
    HAS("192.0.2.10");
    cr_assert_eq(out.ignored, 1);
    cr_assert_eq(out.res.timeouts, 0, "a case mismatch is not a timeout");
    cr_assert_eq(mixed_sent, 3);
    cr_assert_eq(plain_sent, 1);
    /* the rest of the request goes out plain: a CNAME chain out of example.lab. */
    mixed_sent = plain_sent = 0;
    resolve("chain.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 3, out.sends);
    HAS("192.0.2.33");
    cr_assert_eq(out.ignored, 1);
    cr_assert_eq(mixed_sent, 1);
    cr_assert_eq(plain_sent, out.sends - 1);
    cr_assert_leq(out.sends, 11);
}

/* A spoofer with the right ID but the wrong case, then the real reply: the real one wins. */
Test(iter, x20_case_mismatch_then_real_reply)
{
    uint8_t qn[RD_NAME_MAX];
    rd_req_t *req = NULL;
    cr_assert_eq(rd_req_new(res, wire("www.example.lab.", qn), RD_TYPE_A, RD_CLASS_IN, false, false,
                            clock_ms, &req),
                 0);
    rd_res_action_t act, act2;
    cr_assert_eq(rd_req_step(req, clock_ms, &act), RD_RES_SEND);
    static uint8_t reply[RD_MSG_MAX];
    size_t len = 0;
    cr_assert_eq(net_answer(&act, reply, sizeof(reply), &len), 1);
    reply[RD_HDR_LEN + 2] ^= 0x20;
    cr_assert_eq(rd_req_reply(req, act.token, &act.server, reply, len, clock_ms), RD_RES_IGNORED);
    reply[RD_HDR_LEN + 2] ^= 0x20;
    cr_assert_eq(rd_req_reply(req, act.token, &act.server, reply, len, clock_ms), 0);
    cr_assert_eq(rd_req_step(req, clock_ms, &act2), RD_RES_SEND);
    /* still 0x20 for the next server (www.example.lab. has letters enough) */
    rd_msg_t q;
    cr_assert_eq(rd_msg_parse(&q, act2.wire, act2.len, NULL), 0);
    uint8_t sent[RD_NAME_MAX];
    query_name(&q, sent);
    cr_assert(has_upper(sent));
    rd_req_free(req);
}

/* Servers that do not know EDNS: FORMERR (or NOTIMP) without OPT to any query with one. */
static int edns_rcode = RD_RCODE_FORMERR;
static unsigned edns_rejected, noedns_sent;

static int no_edns_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                        size_t *len)
{
    if (!is_example_lab(&act->server)) return -1;
    if (!q->edns.present) {
        noedns_sent++;
        return -1;
    }
    edns_rejected++;
    uint8_t qname[RD_NAME_MAX];
    query_name(q, qname);
    const rd_rr_t *qr = rd_msg_rr(q, RD_SEC_QD, 0);
    rd_mb_t b;
    rd_mb_init(&b, out_, cap, 512, q->id, (uint16_t)(RD_F_QR | edns_rcode));
    cr_assert_eq(rd_mb_question(&b, qname, qr->type, qr->rclass), 0);
    *len = rd_mb_finish(&b);
    return 1;
}

Test(iter, edns_formerr_falls_back)
{
    hook = no_edns_hook;
    resolve("www.example.lab.", RD_TYPE_A);
    /* root, lab., example.lab. with EDNS (FORMERR), the same server without */
    EXPECT(RD_RCODE_NOERROR, 1, 4);
    HAS("192.0.2.10");
    cr_assert_eq(edns_rejected, 1);
    cr_assert_eq(noedns_sent, 1);
    /* within one request the server is remembered: the CNAME chain's next question to it goes
     * without OPT at once */
    edns_rejected = noedns_sent = 0;
    resolve("chain.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 3, out.sends);
    HAS("192.0.2.33");
    cr_assert_leq(edns_rejected, 1);
    cr_assert_geq(noedns_sent, 1);
}

Test(iter, edns_notimp_falls_back)
{
    edns_rcode = RD_RCODE_NOTIMP;
    hook = no_edns_hook;
    resolve("www.example.lab.", RD_TYPE_A);
    edns_rcode = RD_RCODE_FORMERR;
    EXPECT(RD_RCODE_NOERROR, 1, 4);
    HAS("192.0.2.10");
    cr_assert_eq(edns_rejected, 1);
    cr_assert_eq(noedns_sent, 1);
}

/* FORMERR without EDNS too: no endless fallback, the next server, then SERVFAIL. */
static int formerr_always_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_,
                               size_t cap, size_t *len)
{
    if (!is_example_lab(&act->server)) return -1;
    edns_rejected++;
    uint8_t qname[RD_NAME_MAX];
    query_name(q, qname);
    const rd_rr_t *qr = rd_msg_rr(q, RD_SEC_QD, 0);
    rd_mb_t b;
    rd_mb_init(&b, out_, cap, 512, q->id, RD_F_QR | RD_RCODE_FORMERR);
    cr_assert_eq(rd_mb_question(&b, qname, qr->type, qr->rclass), 0);
    *len = rd_mb_finish(&b);
    return 1;
}

Test(iter, formerr_always_bounded)
{
    hook = formerr_always_hook;
    resolve("www.example.lab.", RD_TYPE_A);
    /* root, lab., each example.lab. server with and without EDNS */
    EXPECT(RD_RCODE_SERVFAIL, 0, 6);
    cr_assert_eq(edns_rejected, 4);
}

/* example.lab.'s servers say SERVFAIL to the first servfail_left queries. */
static unsigned servfail_left;

static int servfail_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                         size_t *len)
{
    if (!is_example_lab(&act->server) || servfail_left == 0) return -1;
    servfail_left--;
    uint8_t qname[RD_NAME_MAX];
    query_name(q, qname);
    const rd_rr_t *qr = rd_msg_rr(q, RD_SEC_QD, 0);
    rd_mb_t b;
    rd_mb_init(&b, out_, cap, 512, q->id, RD_F_QR | RD_RCODE_SERVFAIL);
    cr_assert_eq(rd_mb_question(&b, qname, qr->type, qr->rclass), 0);
    *len = rd_mb_finish(&b);
    return 1;
}

Test(iter, servfail_from_all_servers_gets_one_more_round)
{
    hook = servfail_hook;
    servfail_left = 2;
    resolve("www.example.lab.", RD_TYPE_A);
    /* root, lab., both example.lab. servers SERVFAIL, a second round answers */
    EXPECT(RD_RCODE_NOERROR, 1, 5);
    HAS("192.0.2.10");
    cr_assert_eq(servfail_left, 0);
}

Test(iter, servfail_always_bounded)
{
    hook = servfail_hook;
    servfail_left = 1000;
    resolve("www.example.lab.", RD_TYPE_A);
    /* root, lab., both servers twice (RD_RES_RETRY_ROUNDS = 1), then SERVFAIL */
    EXPECT(RD_RCODE_SERVFAIL, 0, 6);
    cr_assert_eq(out.res.ede, 22);
    servfail_left = 0;
}

/* ---- server selection (infrastructure table) and the failure cache ---- */

static const uint8_t ex1[4] = {127, 0, 10, 1}, ex2[4] = {127, 0, 10, 2};
static unsigned to_fast, to_slow;
static uint32_t fast_timeout, slow_timeout;

static bool is4(const rd_addr_t *a, const uint8_t *v4)
{
    return a->family == 4 && memcmp(a->addr, v4, 4) == 0;
}

/* example.lab.'s second server answers 350 ms late. */
static int slow_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                     size_t *len)
{
    (void)q, (void)out_, (void)cap, (void)len;
    if (is4(&act->server, ex1)) to_fast++, fast_timeout = act->timeout_ms;
    if (is4(&act->server, ex2)) {
        to_slow++;
        slow_timeout = act->timeout_ms;
        clock_ms += 350;
    }
    return -1;
}

Test(iter, faster_server_preferred_with_rare_exploration)
{
    hook = slow_hook;
    unsigned early_slow = 0;
    for (int i = 0; i < 200; i++) {
        if (i == 10) early_slow = to_slow, to_slow = to_fast = 0;
        cache_clear();
        resolve("www.example.lab.", RD_TYPE_A);
        EXPECT(RD_RCODE_NOERROR, 1, 3);
    }
    fprintf(stderr, "faster_server_preferred: first 10: %u slow; then 190: %u fast, %u slow\n",
            early_slow, to_fast, to_slow);
    cr_assert_eq(to_fast + to_slow, 190);
    /* exploration: sometimes (5 % of choices, half of them the slow one), but rarely */
    cr_assert_geq(to_slow, 1);
    cr_assert_leq(to_slow, 19);
    /* the timeout follows the smoothed RTT: 1 ms replies give the floor, 350 ms more */
    cr_assert_eq(fast_timeout, RD_RES_RTO_MIN_MS);
    cr_assert_gt(slow_timeout, 400);
    cr_assert_leq(slow_timeout, RD_RES_RTO_MAX_MS);
}

Test(iter, unknown_server_gets_initial_timeout)
{
    hook = slow_hook;
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    cr_assert_eq(fast_timeout + slow_timeout, 400); /* the one asked, unknown till then */
}

static const uint8_t down1[4] = {127, 0, 41, 1}, down2[4] = {127, 0, 41, 2};
static unsigned to_down;

static int down_count_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                           size_t *len)
{
    (void)q, (void)out_, (void)cap, (void)len;
    if (is4(&act->server, down1) || is4(&act->server, down2)) to_down++;
    return -1;
}

Test(iter, dead_servers_held_down_then_probed)
{
    hook = down_count_hook;
    resolve("www.alldown.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 6); /* 2 timeouts each */
    clock_ms += 6000;                /* past the failure cache */
    to_down = 0;
    resolve("www.alldown.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    /* third timeout each (now held down), then one probe of a held server */
    cr_assert_eq(to_down, 3, "%u", to_down);
    clock_ms += 11000; /* past the failure cache, doubled for the second failure in a row */
    to_down = 0;
    resolve("www.alldown.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(out.res.ede, 22);
    cr_assert_eq(to_down, 1, "held down: only one probe, %u", to_down);
    cr_assert_eq(out.elapsed, 3000, "the probe waits the capped backed-off timeout");
    clock_ms += 31000; /* past the hold-down */
    to_down = 0;
    resolve("www.alldown.lab.", RD_TYPE_A);
    cr_assert_eq(to_down, 3, "both tried again after the hold-down, %u", to_down);
}

/* A server of a zone with another one that works: held down, it is not asked at all. */
static bool kill_ex1;

static int kill_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                     size_t *len)
{
    (void)q, (void)out_, (void)cap, (void)len;
    if (is4(&act->server, ex1)) {
        to_fast++;
        if (kill_ex1) return 0;
    }
    return -1;
}

Test(iter, timed_out_server_skipped)
{
    hook = kill_hook;
    kill_ex1 = true;
    rd_addr_t a1 = {.family = 4, .addr = {127, 0, 10, 1}, .port = 53};
    rd_addr_t a2 = {.family = 4, .addr = {127, 0, 10, 2}, .port = 53};
    /* three consecutive timeouts of 127.0.10.1 as the table sees them: held down */
    for (int i = 0; i < 3; i++) rd__infra_timeout(res->infra, &a1, clock_ms);
    rd__infra_view_t v;
    rd__infra_get(res->infra, &a1, clock_ms, 400, 3000, 0, &v);
    cr_assert(v.held);
    cr_assert_eq(v.timeout, 3000); /* 400 doubled thrice, capped */
    rd__infra_get(res->infra, &a2, clock_ms, 400, 3000, 0, &v);
    cr_assert_not(v.held);
    cr_assert_eq(v.timeout, 400);
    to_fast = 0;
    for (int i = 0; i < 20; i++) {
        cache_clear();
        resolve("www.example.lab.", RD_TYPE_A);
        EXPECT(RD_RCODE_NOERROR, 1, 3);
    }
    cr_assert_eq(to_fast, 0, "a held-down server is not asked while another works");
    clock_ms += 31000; /* past the hold-down: it may be probed again (and is, when alone) */
    rd__infra_get(res->infra, &a1, clock_ms, 400, 3000, 0, &v);
    cr_assert_not(v.held);
}

/* Every IPv6 server is silent: the family loses preference. */
static unsigned v6_sent, v6_late;

static int v6_dead_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                        size_t *len)
{
    (void)q, (void)out_, (void)cap, (void)len;
    if (act->server.family != 6) return -1;
    v6_sent++;
    return 0;
}

Test(iter, failing_ipv6_loses_preference)
{
    hook = v6_dead_hook;
    /* four IPv6 timeouts in a row: the family is penalised even for unknown v6 servers */
    rd_addr_t v6 = {.family = 6, .addr = {0xfd, 0, 0x1, 0xab, [15] = 9}, .port = 53};
    rd_addr_t v4 = {.family = 4, .addr = {127, 0, 99, 1}, .port = 53};
    rd_addr_t v6b = {.family = 6, .addr = {0xfd, 0, 0x1, 0xab, [15] = 10}, .port = 53};
    for (int i = 0; i < 4; i++) rd__infra_timeout(res->infra, &v6, clock_ms);
    rd__infra_view_t a, b;
    rd__infra_get(res->infra, &v4, clock_ms, 400, 3000, 0, &a);
    rd__infra_get(res->infra, &v6b, clock_ms, 400, 3000, 0, &b);
    cr_assert_eq(a.score, 0); /* unknown: first */
    cr_assert_eq(b.score, RD_RES_FAMILY_PENALTY_MS);
    for (int i = 0; i < 60; i++) {
        if (i == 20) v6_late = v6_sent;
        cache_clear();
        resolve("www.example.lab.", RD_TYPE_A);
        EXPECT(RD_RCODE_NOERROR, 1, 3 + out.drops);
    }
    fprintf(stderr, "failing_ipv6: %u IPv6 tries in 60 requests, %u after the first 20\n", v6_sent,
            v6_sent - v6_late);
    cr_assert_leq(v6_sent - v6_late, 4, "rare exploration only");
}

Test(iter, failure_cache_hit_and_expiry)
{
    resolve("www.alldown.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 6);
    resolve("www.alldown.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 0); /* from the failure cache: nothing sent */
    cr_assert_eq(out.res.ede, 22);
    HAS("EDE: 22");
    cr_assert(strstr(out.res.reason, "RFC 9520") != NULL);
    clock_ms += 4999;
    resolve("www.alldown.lab.", RD_TYPE_A);
    cr_assert_eq(out.sends, 0);
    clock_ms += 1;
    resolve("www.alldown.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_gt(out.sends, 0, "expired after 5 s: resolved again");
    /* RFC 9520 s3.2 backoff: it failed again right after its hold ended, so 10 s this time */
    uint64_t failed_at = clock_ms;
    clock_ms = failed_at + 9999;
    resolve("www.alldown.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 0);
    clock_ms = failed_at + 10000;
    resolve("www.alldown.lab.", RD_TYPE_A);
    cr_assert_gt(out.sends, 0, "expired after 10 s");
    resolve("www.alldown.lab.", RD_TYPE_AAAA); /* another question: not cached */
    cr_assert_gt(out.sends, 0);
}

/* RFC 9520 s3: failures from answers are remembered too (lame: REFUSED from every server),
 * with the EDE they had. */
Test(iter, failure_cache_lame)
{
    resolve("www.lame.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 3);
    cr_assert_eq(out.res.timeouts, 0);
    int ede = out.res.ede;
    cr_assert_eq(ede, 22);
    resolve("www.lame.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 0);
    cr_assert_eq(out.res.ede, ede);
    cr_assert(strstr(out.res.reason, "RFC 9520") != NULL);
    HAS("EDE: 22");
    /* keyed by the question: another type is resolved (and fails on its own) */
    resolve("www.lame.lab.", RD_TYPE_AAAA);
    cr_assert_gt(out.sends, 0);
    clock_ms += RD_RES_FAILCACHE_MS;
    resolve("www.lame.lab.", RD_TYPE_A);
    cr_assert_gt(out.sends, 0, "expired: resolved again");
}

/* SERVFAIL from every server (after the extra round) and malformed replies: remembered. */
static int sf_junk_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                        size_t *len)
{
    uint8_t qname[RD_NAME_MAX], bad[RD_NAME_MAX];
    size_t pos = RD_HDR_LEN;
    cr_assert_eq(rd_name_unpack(q->wire, q->len, &pos, qname, NULL), 0);
    bool sf = rd_name_eq(qname, wire("sf.example.lab.", bad));
    bool junk = rd_name_eq(qname, wire("junk.example.lab.", bad));
    if ((!sf && !junk) || !(is4(&act->server, ex1) || is4(&act->server, ex2))) return -1;
    const rd_rr_t *qr = rd_msg_rr(q, RD_SEC_QD, 0);
    rd_mb_t b;
    rd_mb_init(&b, out_, cap, 1232, q->id, RD_F_QR | RD_F_AA);
    cr_assert_eq(rd_mb_question(&b, qname, qr->type, qr->rclass), 0);
    if (sf) rd_mb_set_flags(&b, RD_F_QR | RD_RCODE_SERVFAIL);
    *len = rd_mb_finish(&b);
    if (junk) {
        out_[7] = 1; /* ANCOUNT 1 with no record: does not parse */
    }
    return 1;
}

Test(iter, failure_cache_servfail_and_malformed)
{
    hook = sf_junk_hook;
    resolve("sf.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(out.res.timeouts, 0);
    cr_assert_gt(out.sends, 2);
    resolve("sf.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 0);
    cr_assert_eq(out.res.ede, 22);
    resolve("junk.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(out.res.ede, 23, "malformed replies: EDE 23 (network error)");
    resolve("junk.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_SERVFAIL, 0, 0);
    cr_assert_eq(out.res.ede, 23, "the same EDE from memory");
    /* the rest of the zone is unaffected */
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
}

/* The failure cache is bounded: many failing questions never grow it, old ones are evicted. */
Test(iter, failure_cache_bounded)
{
    for (unsigned i = 0; i < RD_RES_FAILCACHE_MAX * 2; i++) {
        uint8_t n[RD_NAME_MAX];
        char t[64];
        snprintf(t, sizeof(t), "q%u.lame.lab.", i);
        wire(t, n);
        rd__fail_insert(res->infra, n, RD_TYPE_A, RD_CLASS_IN, 22, clock_ms);
    }
    unsigned held = 0;
    for (unsigned i = 0; i < RD_RES_FAILCACHE_MAX * 2; i++) {
        uint8_t n[RD_NAME_MAX];
        char t[64];
        snprintf(t, sizeof(t), "q%u.lame.lab.", i);
        wire(t, n);
        int ede = -1;
        held += rd__fail_lookup(res->infra, n, RD_TYPE_A, RD_CLASS_IN, clock_ms, &ede);
    }
    cr_assert_leq(held, RD_RES_FAILCACHE_MAX);
    cr_assert_gt(held, RD_RES_FAILCACHE_MAX / 2);
    /* the backoff is capped at 5 minutes (RFC 9520 s3.2) */
    uint8_t n[RD_NAME_MAX];
    wire("capped.lame.lab.", n);
    uint64_t t = clock_ms;
    for (int i = 0; i < 20; i++) rd__fail_insert(res->infra, n, RD_TYPE_A, RD_CLASS_IN, 22, t);
    int ede;
    cr_assert(rd__fail_lookup(res->infra, n, RD_TYPE_A, RD_CLASS_IN,
                              t + RD_RES_FAILCACHE_MAX_MS - 1, &ede));
    cr_assert_not(
        rd__fail_lookup(res->infra, n, RD_TYPE_A, RD_CLASS_IN, t + RD_RES_FAILCACHE_MAX_MS, &ede));
}

/* ---- stub: and forward: zones (issue 5) ---- */

static rd_addr_t addr_of(const char *text)
{
    rd_addr_t a;
    cr_assert_eq(rd_addr_parse(text, strlen(text), 53, &a), 0, "%s", text);
    return a;
}

static const rd_zoneset_t *policy_local; /* local data for the next policy_engine() */

/* A new engine with these stub and forward zones; the fake upstreams get the lab's data. */
static void policy_engine(const rd_conf_stub_t *stubs, size_t nstubs, const rd_conf_forward_t *fwds,
                          size_t nfwds, bool loopback)
{
    if (!rec.zones) {
        cr_assert_eq(rd_zoneset_new(&rec.zones), 0);
        char z[] = ".=root.zone,lab.=lab.zone,corp.=corp.zone,net.=net.zone,org.=org.zone,"
                   "example.lab.=example.lab.zone,example.corp.=example.corp.zone,"
                   "example.net.=example.net.zone,example.org.=example.org.zone";
        add_zones(&rec, z);
    }
    rd_res_free(res);
    rd_cache_free(cache);
    rd_res_opts_t o = {.allow_loopback_upstreams = loopback,
                       .stubs = stubs,
                       .nstubs = nstubs,
                       .forwards = fwds,
                       .nforwards = nfwds,
                       .local = policy_local};
    engine_new(hints_file(), &o);
    nroot = nup = 0;
}

static void set_name(uint8_t *dst, const char *text)
{
    wire(text, dst);
}

Test(iter, forward_zone_goes_to_upstream_with_rd)
{
    rd_conf_upstream_t u = {.proto = RD_UP_UDP, .addr = addr_of("127.0.99.1")};
    rd_conf_forward_t f = {.upstreams = &u, .nupstreams = 1};
    set_name(f.name, "example.lab.");
    policy_engine(NULL, 0, &f, 1, true);
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    HAS("192.0.2.10");
    cr_assert_eq(nup, 1);
    cr_assert_eq(nroot, 0);
    cr_assert_eq(out.tcp, 0);
    resolve("www.example.lab.", RD_TYPE_A); /* cached */
    EXPECT(RD_RCODE_NOERROR, 1, 0);
    resolve("nx.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 1);
    cr_assert_eq(out.ns, 1); /* the SOA, in the forward zone */
    cr_assert_eq(nroot, 0);
    /* outside the forward zone: normal recursion */
    resolve("www.example.net.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_gt(nroot, 0);
    cr_assert_eq(nup, 2);

    /* tcp:// upstreams are asked over TCP; the operator's loopback address is used even
     * when allow_loopback_upstreams is off */
    u.proto = RD_UP_TCP;
    policy_engine(NULL, 0, &f, 1, false);
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    cr_assert_eq(out.tcp, 1);
}

Test(iter, forward_root_sends_everything)
{
    rd_conf_upstream_t u = {.proto = RD_UP_UDP, .addr = addr_of("127.0.99.1")};
    rd_conf_forward_t f = {.upstreams = &u, .nupstreams = 1};
    set_name(f.name, ".");
    policy_engine(NULL, 0, &f, 1, false);
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    resolve("www.example.net.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    resolve("www.example.org.", RD_TYPE_AAAA);
    cr_assert_eq(out.sends, 1);
    cr_assert_eq(nup, 3);
    cr_assert_eq(nroot, 0);
}

Test(iter, longest_match_between_forward_and_stub)
{
    rd_conf_upstream_t u = {.proto = RD_UP_UDP, .addr = addr_of("127.0.99.1")};
    rd_conf_forward_t f = {.upstreams = &u, .nupstreams = 1};
    set_name(f.name, ".");
    rd_addr_t ss = addr_of("127.0.10.1");
    rd_conf_stub_t st = {.servers = &ss, .nservers = 1};
    set_name(st.name, "example.lab.");
    policy_engine(&st, 1, &f, 1, false);
    /* the stub is longer: iterative (RD=0, checked by the fake network) to its server */
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    HAS("192.0.2.10");
    cr_assert_eq(nup, 0);
    cr_assert_eq(nroot, 0);
    /* everything else to the forward "." */
    resolve("www.example.net.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    cr_assert_eq(nup, 1);
    cr_assert_eq(nroot, 0);

    /* a stub for lab.: the cut starts there and referrals below are followed */
    rd_addr_t ls = addr_of("127.0.1.1");
    set_name(st.name, "lab.");
    st.servers = &ls;
    policy_engine(&st, 1, NULL, 0, true);
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 2); /* lab. (referral), example.lab. */
    cr_assert_eq(nroot, 0);
}

Test(iter, forward_upstream_cannot_inject_other_zones)
{
    rd_conf_upstream_t u = {.proto = RD_UP_UDP, .addr = addr_of("127.0.99.3")};
    rd_conf_forward_t f = {.upstreams = &u, .nupstreams = 1};
    set_name(f.name, "example.lab.");
    policy_engine(NULL, 0, &f, 1, true);
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    uint8_t bad[RD_NAME_MAX];
    rd_cache_rrset_t rs;
    rd_arena_t ar;
    rd_arena_init(&ar, NULL, 0, 0);
    cr_assert_eq(rd_cache_lookup_rrset(cache, wire("www.example.corp.", bad), RD_TYPE_A,
                                       RD_CLASS_IN, clock_ms / 1000, false, &ar, &rs),
                 RD_ENOTFOUND, "out-of-zone data from a forward upstream was cached");
    rd_arena_free(&ar);
    resolve("www.example.lab.", RD_TYPE_A); /* the answer itself was cached */
    EXPECT(RD_RCODE_NOERROR, 1, 0);
}

Test(iter, forward_all_upstreams_dead)
{
    rd_conf_upstream_t u[2] = {{.proto = RD_UP_UDP, .addr = addr_of("127.0.99.2")},
                               {.proto = RD_UP_TCP, .addr = addr_of("127.0.99.4")}};
    rd_conf_forward_t f = {.upstreams = u, .nupstreams = 2};
    set_name(f.name, "example.lab.");
    policy_engine(NULL, 0, &f, 1, true);
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(out.res.ede, 22);
    HAS("EDE: 22");
    cr_assert_gt(out.sends, 0);
    cr_assert_eq(nup, out.sends);
    cr_assert_gt(out.tcp, 0);
    cr_assert_eq(nroot, 0);
}

Test(iter, forward_first_falls_back_to_recursion)
{
    rd_conf_upstream_t u = {.proto = RD_UP_UDP, .addr = addr_of("127.0.99.2")};
    rd_conf_forward_t f = {.upstreams = &u, .nupstreams = 1, .forward_first = true};
    set_name(f.name, "example.lab.");
    policy_engine(NULL, 0, &f, 1, true);
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR, "%s", out.res.reason ? out.res.reason : "");
    HAS("192.0.2.10");
    cr_assert_gt(nup, 0);
    cr_assert_gt(nroot, 0);
}

/* Issue 8: tls:// and https:// upstreams become actions with their transport and the index of
 * the engine's own copy of the upstream (the shell routes by it); https:// to a name without a
 * bootstrap address gets its host looked up (scenarios below); what the shell reports with
 * rd_req_try_failed ends in SERVFAIL with that EDE when no upstream answers, unless
 * forward-first falls back to recursion. */
static unsigned enc_sends;
static int hook_encrypted(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *buf, size_t cap,
                          size_t *len)
{
    (void)q, (void)buf, (void)cap, (void)len;
    if (!is_upstream(&act->server)) {
        cr_assert_eq(act->upstream, -1);
        cr_assert(act->transport == RD_UP_UDP || act->transport == RD_UP_TCP);
        return -1;
    }
    const rd_conf_upstream_t *u = rd_res_upstream(res, act->upstream);
    cr_assert(u != NULL, "upstream index %d", act->upstream);
    cr_assert_eq(act->transport, u->proto);
    cr_assert(act->tcp, "TLS and HTTPS are streams: no 0x20, no TC retry");
    if (u->addr.family)
        cr_assert(addr_eq(&u->addr, &act->server) && u->addr.port == act->server.port);
    else
        cr_assert_eq(act->server.port, u->addr.port, "a looked-up host keeps the URL's port");
    enc_sends++;
    return -1; /* the fake upstream answers */
}

Test(iter, forward_tls_and_https_actions)
{
    char dot[] = "dot.lab", doh[] = "doh.lab", path[] = "/dns-query", pin[] = "pin",
         *pins[] = {pin};
    char u0[] = "tls://127.0.99.1@853#dot.lab", u1[] = "https://doh.lab/dns-query@127.0.99.1",
         u2[] = "https://nobootstrap.lab/dns-query";
    rd_conf_upstream_t u[3] = {
        {.proto = RD_UP_TLS,
         .addr = addr_of("127.0.99.1@853"),
         .auth_name = dot,
         .uri = u0,
         .pins = pins,
         .npins = 1},
        {.proto = RD_UP_HTTPS,
         .addr = addr_of("127.0.99.1@443"),
         .auth_name = doh,
         .path = path,
         .uri = u1},
        {.proto = RD_UP_HTTPS, .auth_name = doh, .path = path, .uri = u2}, /* no address */
    };
    rd_conf_forward_t f = {.upstreams = u, .nupstreams = 3};
    set_name(f.name, "example.lab.");
    policy_engine(NULL, 0, &f, 1, true);
    /* the engine's copies: deep, of every upstream */
    const rd_conf_upstream_t *c0 = rd_res_upstream(res, 0), *c1 = rd_res_upstream(res, 1);
    cr_assert(c0 && c1 && rd_res_upstream(res, 2) && !rd_res_upstream(res, 3) &&
              !rd_res_upstream(res, -1));
    cr_assert(c0->uri != u0 && strcmp(c0->uri, u0) == 0 && strcmp(c0->auth_name, dot) == 0);
    cr_assert(c0->npins == 1 && strcmp(c0->pins[0], pin) == 0 && c0->pins[0] != pin);
    cr_assert(c1->proto == RD_UP_HTTPS && strcmp(c1->path, path) == 0);
    hook = hook_encrypted;
    enc_sends = 0;
    /* the third one's host, doh.lab, does not exist (the lab's lab. zone says so, through
     * recursion: the zone's other upstreams are for example.lab. only); the others serve,
     * and the @IP ones are never looked up */
    for (int i = 0; i < 8; i++) {
        char name[64];
        snprintf(name, sizeof(name), "n%d.wild.example.lab.", i);
        resolve(name, RD_TYPE_A);
        cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
        HAS("192.0.2.20");
    }
    cr_assert_eq(enc_sends, 8);
    hook = NULL;
}

/* Drives one request, answering every upstream try with rd_req_try_failed (the shell's TLS
 * authentication failure); other servers answer from the fake network. */
static void resolve_tls_failing(const char *name)
{
    memset(&out, 0, sizeof(out));
    uint8_t qn[RD_NAME_MAX];
    wire(name, qn);
    rd_req_t *req = NULL;
    cr_assert_eq(rd_req_new(res, qn, RD_TYPE_A, RD_CLASS_IN, false, false, clock_ms, &req), 0);
    for (int i = 0;; i++) {
        cr_assert_lt(i, 1000, "no end");
        rd_res_action_t act;
        int r = rd_req_step(req, clock_ms, &act);
        if (r == RD_RES_DONE) break;
        cr_assert_eq(r, RD_RES_SEND);
        out.sends++;
        clock_ms += 1;
        if (act.transport == RD_UP_TLS) {
            cr_assert_eq(rd_req_try_failed(req, act.token + 1, 23, "x", clock_ms), RD_RES_IGNORED);
            cr_assert_eq(
                rd_req_try_failed(req, act.token, 23, "TLS authentication failed", clock_ms), 0);
            out.drops++;
            continue;
        }
        static uint8_t reply[RD_MSG_MAX];
        size_t len = 0;
        if (net_answer(&act, reply, sizeof(reply), &len) &&
            rd_req_reply(req, act.token, &act.server, reply, len, clock_ms) == 0)
            continue;
        clock_ms += act.timeout_ms;
        cr_assert_eq(rd_req_timeout(req, act.token, clock_ms), 0);
    }
    rd_req_result(req, &out.res);
    out.rcode = out.res.rcode;
    rd_req_free(req);
}

Test(iter, forward_tls_failure_is_servfail_with_ede)
{
    char dot[] = "dot.lab", u0[] = "tls://127.0.99.1@853#dot.lab";
    rd_conf_upstream_t u = {
        .proto = RD_UP_TLS, .addr = addr_of("127.0.99.1@853"), .auth_name = dot, .uri = u0};
    rd_conf_forward_t f = {.upstreams = &u, .nupstreams = 1};
    set_name(f.name, "example.lab.");
    policy_engine(NULL, 0, &f, 1, true);
    resolve_tls_failing("www.example.lab.");
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(out.res.ede, 23);
    cr_assert_str_eq(out.res.reason, "TLS authentication failed");
    cr_assert_gt(out.drops, 0);
    cr_assert_eq(nroot, 0, "no recursion without forward-first: nothing leaks");
    /* forward-first: the failure falls back to recursion */
    f.forward_first = true;
    policy_engine(NULL, 0, &f, 1, true);
    resolve_tls_failing("www.example.lab.");
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_gt(nroot, 0);
}

/* ---- https:// upstreams without @BOOTSTRAP-IP (issue 8): HOST is looked up ---- */

/* The host doh.boot.lab. (not in the lab's zones) resolves to 127.0.99.1 (a fake upstream,
 * port the URL's) for whoever is asked: each lookup is recorded with who was asked. */
static unsigned boot_a, boot_aaaa;    /* lookups of the host */
static unsigned boot_via_up;          /* of which to a forward upstream */
static unsigned boot_via_root;        /* of which to a lab root server (recursion) */
static int boot_via_index;            /* act->upstream of the last lookup */
static unsigned doh_sends, dot_sends; /* other questions to the DoH and DoT upstreams */
static uint32_t boot_ttl = 300;
static bool dot_drops;  /* the DoT upstream answers nothing but the host's lookups */
static bool boot_first; /* a lookup of the host came before any other upstream query */

static int hook_boot(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                     size_t *len)
{
    uint8_t qn[RD_NAME_MAX], host[RD_NAME_MAX];
    query_name(q, qn);
    uint16_t qtype = rd_msg_rr(q, RD_SEC_QD, 0)->type;
    if (rd_name_eq(qn, wire("doh.boot.lab.", host))) {
        cr_assert(qtype == RD_TYPE_A || qtype == RD_TYPE_AAAA);
        boot_a += qtype == RD_TYPE_A;
        boot_aaaa += qtype == RD_TYPE_AAAA;
        boot_via_up += is_upstream(&act->server);
        boot_via_root += is_root(&act->server);
        boot_via_index = act->upstream;
        if (doh_sends + dot_sends == 0) boot_first = true;
        if (is_upstream(&act->server)) {
            cr_assert_eq(act->transport, RD_UP_TLS, "the lookup goes over the DoT upstream");
        } else {
            cr_assert_eq(act->upstream, -1);
            cr_assert(act->transport == RD_UP_UDP || act->transport == RD_UP_TCP);
        }
        rd_mb_t b;
        rd_mb_init(&b, out_, cap, cap, q->id,
                   (uint16_t)(RD_F_QR | (is_upstream(&act->server) ? RD_F_RA | RD_F_RD : RD_F_AA)));
        cr_assert_eq(rd_mb_question(&b, qn, qtype, RD_CLASS_IN), 0);
        static const uint8_t a[4] = {127, 0, 99, 1};
        if (qtype == RD_TYPE_A)
            cr_assert_eq(rd_mb_rr(&b, RD_SEC_AN, qn, RD_TYPE_A, RD_CLASS_IN, boot_ttl, a, 4), 0);
        *len = rd_mb_finish(&b);
        return 1;
    }
    if (act->transport == RD_UP_HTTPS) {
        const rd_conf_upstream_t *u = rd_res_upstream(res, act->upstream);
        cr_assert(u && u->proto == RD_UP_HTTPS);
        cr_assert_str_eq(u->auth_name, "doh.boot.lab");
        rd_addr_t want = addr_of("127.0.99.1@8443");
        cr_assert(addr_eq(&act->server, &want), "the question goes to the host's address");
        cr_assert(act->tcp);
        doh_sends++;
    } else if (act->transport == RD_UP_TLS) {
        dot_sends++;
        if (dot_drops) return 0;
    }
    return -1;
}

static rd_conf_upstream_t boot_doh(void)
{
    static char host[] = "doh.boot.lab", path[] = "/dns-query",
                uri[] = "https://doh.boot.lab:8443/dns-query";
    rd_conf_upstream_t u = {.proto = RD_UP_HTTPS, .auth_name = host, .path = path, .uri = uri};
    u.addr.port = 8443; /* the URL's port, no address */
    return u;
}

static void boot_reset(void)
{
    boot_a = boot_aaaa = boot_via_up = boot_via_root = doh_sends = dot_sends = 0;
    boot_via_index = -2;
    boot_ttl = 300;
    dot_drops = false;
    boot_first = false;
    hook = hook_boot;
}

Test(iter, https_host_looked_up_through_the_dot_upstream)
{
    static char dot[] = "dot.lab", u1[] = "tls://127.0.99.1@853#dot.lab";
    rd_conf_upstream_t u[2] = {
        boot_doh(),
        {.proto = RD_UP_TLS, .addr = addr_of("127.0.99.1@853"), .auth_name = dot, .uri = u1}};
    rd_conf_forward_t f = {.upstreams = u, .nupstreams = 2};
    set_name(f.name, ".");
    policy_engine(NULL, 0, &f, 1, false);
    boot_reset();
    /* the DoT upstream is silent for questions: only the DoH one can answer them */
    dot_drops = true;
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR, "%s", out.res.reason ? out.res.reason : "");
    HAS("192.0.2.10");
    /* first the host's A, asked of the DoT upstream (the zone's one with an address: the
     * host is inside the zone it serves, "."), then the question over DoH to that address */
    cr_assert_eq(boot_a, 1);
    cr_assert(boot_first, "the host is looked up before any question goes out");
    cr_assert_eq(boot_aaaa, 0, "an A answer is enough");
    cr_assert_eq(boot_via_up, 1);
    cr_assert_eq(boot_via_root, 0);
    cr_assert_eq(boot_via_index, 1, "the DoT upstream's index");
    cr_assert_eq(nroot, 0, "nothing went out by recursion");
    cr_assert_geq(doh_sends, 1);
    cr_assert_null(out.res.warn);
    /* the address is cached with its TTL: no new lookup while it lasts */
    dot_drops = false;
    for (int i = 0; i < 16; i++) {
        char name[64];
        snprintf(name, sizeof(name), "n%d.wild.example.lab.", i);
        resolve(name, RD_TYPE_A);
        EXPECT(RD_RCODE_NOERROR, 1, 1);
        HAS("192.0.2.20");
    }
    cr_assert_eq(boot_a, 1);
    /* both upstreams take part in the choice */
    cr_assert_gt(doh_sends, 1);
    cr_assert_gt(dot_sends, 0);
    /* the TTL ends: the next question looks the host up again first */
    clock_ms += 301 * 1000;
    resolve("www.example.net.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    HAS("192.0.2.40");
    cr_assert_eq(boot_a, 2);
    cr_assert_eq(boot_via_up, 2);
    cr_assert_eq(nroot, 0);
    hook = NULL;
}

Test(iter, https_host_inside_its_own_zone_by_recursion_with_one_warning)
{
    rd_conf_upstream_t u = boot_doh();
    rd_conf_forward_t f = {.upstreams = &u, .nupstreams = 1};
    set_name(f.name, ".");
    policy_engine(NULL, 0, &f, 1, true);
    boot_reset();
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR, "%s", out.res.reason ? out.res.reason : "");
    HAS("192.0.2.10");
    /* circular: the only upstream needs its own address, so the host (only it) is looked up
     * by recursion from the root; the client's question goes over DoH */
    cr_assert_eq(boot_a, 1);
    cr_assert_eq(boot_via_root, 1);
    cr_assert_eq(boot_via_up, 0);
    cr_assert_eq(nroot, 1, "only the host's lookup went to the root");
    cr_assert_eq(doh_sends, 1);
    cr_assert_eq(out.sends, 2);
    cr_assert_not_null(out.res.warn);
    cr_assert(strstr(out.res.warn, "https://doh.boot.lab:8443/dns-query") &&
                  strstr(out.res.warn, "clear text") && strstr(out.res.warn, "@IP"),
              "%s", out.res.warn);
    /* cached: no lookup, no warning */
    resolve("www.example.net.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    cr_assert_null(out.res.warn);
    /* after the TTL: looked up again by recursion, but warned once only */
    clock_ms += 301 * 1000;
    resolve("mail.example.org.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_eq(boot_a, 2);
    cr_assert_eq(boot_via_root, 2);
    cr_assert_null(out.res.warn, "one warning per upstream");
    cr_assert_eq(nroot, 2);
    cr_assert_eq(doh_sends, 3);
    hook = NULL;
}

/* The host's lookup fails (the DoT upstream answers SERVFAIL for it, e.g. its authority is
 * down): the failure is remembered (RFC 9520) and, while another upstream has an address,
 * the next client questions go out at once instead of each waiting for the same lookup. */
static unsigned sf_lookups;
static int hook_boot_servfail(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_,
                              size_t cap, size_t *len)
{
    uint8_t qn[RD_NAME_MAX], host[RD_NAME_MAX];
    query_name(q, qn);
    if (!rd_name_eq(qn, wire("doh.boot.lab.", host))) return -1;
    cr_assert_eq(act->transport, RD_UP_TLS);
    sf_lookups++;
    rd_mb_t b;
    rd_mb_init(&b, out_, cap, cap, q->id,
               (uint16_t)(RD_F_QR | RD_F_RA | RD_F_RD | RD_RCODE_SERVFAIL));
    cr_assert_eq(rd_mb_question(&b, qn, rd_msg_rr(q, RD_SEC_QD, 0)->type, RD_CLASS_IN), 0);
    *len = rd_mb_finish(&b);
    return 1;
}

Test(iter, https_host_lookup_failure_remembered)
{
    static char dot[] = "dot.lab", u1[] = "tls://127.0.99.1@853#dot.lab";
    rd_conf_upstream_t u[2] = {
        boot_doh(),
        {.proto = RD_UP_TLS, .addr = addr_of("127.0.99.1@853"), .auth_name = dot, .uri = u1}};
    rd_conf_forward_t f = {.upstreams = u, .nupstreams = 2};
    set_name(f.name, ".");
    policy_engine(NULL, 0, &f, 1, false);
    sf_lookups = 0;
    hook = hook_boot_servfail;
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR, "through the DoT upstream");
    HAS("192.0.2.10");
    unsigned first = sf_lookups;
    cr_assert_gt(first, 0);
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof(name), "r%d.wild.example.lab.", i);
        resolve(name, RD_TYPE_A);
        EXPECT(RD_RCODE_NOERROR, 1, 1);
        cr_assert_eq(out.sends, 1, "question %d waited for the host's lookup again", i);
    }
    cr_assert_eq(sf_lookups, first, "the failed lookup was repeated");
    /* the hold ends: looked up again */
    clock_ms += RD_RES_FAILCACHE_MAX_MS + 1000;
    resolve("www.example.net.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_gt(sf_lookups, first);
    /* the upstream alone: its host is looked up whatever was remembered (nothing else can
     * answer) */
    rd_conf_forward_t alone = {.upstreams = u, .nupstreams = 1};
    set_name(alone.name, ".");
    policy_engine(NULL, 0, &alone, 1, true);
    hook = hook_boot;
    boot_reset();
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    hook = NULL;
}

Test(iter, https_host_in_another_forward_zone_uses_that_zone)
{
    /* example.lab. goes to the DoH upstream; its host is under boot.lab., forwarded to a
     * DoT upstream with an address */
    static char dot[] = "dot.lab", u1[] = "tls://127.0.99.1@853#dot.lab";
    rd_conf_upstream_t ud = boot_doh(), ut = {.proto = RD_UP_TLS,
                                              .addr = addr_of("127.0.99.1@853"),
                                              .auth_name = dot,
                                              .uri = u1};
    rd_conf_forward_t f[2] = {{.upstreams = &ud, .nupstreams = 1},
                              {.upstreams = &ut, .nupstreams = 1}};
    set_name(f[0].name, "example.lab.");
    set_name(f[1].name, "boot.lab.");
    policy_engine(NULL, 0, f, 2, false);
    boot_reset();
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 2);
    cr_assert_eq(boot_via_up, 1);
    cr_assert_eq(boot_via_index, 1);
    cr_assert_eq(doh_sends, 1);
    cr_assert_eq(nroot, 0);
    cr_assert_null(out.res.warn);
    hook = NULL;
}

/* Two forward zones whose https:// upstreams each have their host in the other's zone: neither
 * can be reached. The lookups must not go out by recursion (names of forward zones with
 * forward-first: no never do, in clear text), nor loop: SERVFAIL naming the upstream. */
Test(iter, https_hosts_in_each_others_zone_fail_closed)
{
    static char h2[] = "doh2.example.lab", p2[] = "/dns-query",
                uri2[] = "https://doh2.example.lab/dns-query";
    rd_conf_upstream_t ud = boot_doh(),
                       ue = {.proto = RD_UP_HTTPS, .auth_name = h2, .path = p2, .uri = uri2};
    ue.addr.port = 443;
    rd_conf_forward_t f[2] = {{.upstreams = &ud, .nupstreams = 1},
                              {.upstreams = &ue, .nupstreams = 1}};
    set_name(f[0].name, "example.lab.");
    set_name(f[1].name, "boot.lab.");
    policy_engine(NULL, 0, f, 2, true);
    boot_reset();
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(out.res.ede, 22);
    cr_assert(out.res.reason && strstr(out.res.reason, "https://doh.boot.lab:8443/dns-query") &&
                  strstr(out.res.reason, "no address"),
              "%s", out.res.reason ? out.res.reason : "-");
    cr_assert_eq(nroot, 0, "a name of a forward-only zone went out by recursion");
    cr_assert_eq(boot_via_root, 0);
    cr_assert_eq(out.sends, 0);
    cr_assert_null(out.res.warn);
    /* the same with the host under a forward zone whose only upstream is that very host: the
     * unavoidable circle, by recursion for the host alone, warned */
    ue = boot_doh();
    policy_engine(NULL, 0, f, 2, true);
    boot_reset();
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR, "%s", out.res.reason ? out.res.reason : "-");
    cr_assert_eq(boot_via_root, 1);
    cr_assert_eq(nroot, 1, "only the host's lookup went to the root");
    cr_assert_eq(doh_sends, 1);
    cr_assert_not_null(out.res.warn);
    hook = NULL;
}

/* Worse: three https:// upstreams without address in each of two forward zones, every host in
 * the other zone. The nested lookups stay bounded (the plan's depth, in_plan, lookups per
 * cut): SERVFAIL, no query at all, nothing by recursion. */
Test(iter, https_hosts_crossed_three_by_three_bounded)
{
    static char hosts[6][32], uris[6][64], path[] = "/dns-query";
    rd_conf_upstream_t u[6];
    for (int i = 0; i < 6; i++) {
        /* zone 0 (example.lab.) gets hosts in boot.lab., zone 1 (boot.lab.) in example.lab. */
        snprintf(hosts[i], sizeof(hosts[i]), "d%d.%s", i, i < 3 ? "boot.lab" : "example.lab");
        snprintf(uris[i], sizeof(uris[i]), "https://%s/dns-query", hosts[i]);
        u[i] = (rd_conf_upstream_t){
            .proto = RD_UP_HTTPS, .auth_name = hosts[i], .path = path, .uri = uris[i]};
        u[i].addr.port = 443;
    }
    rd_conf_forward_t f[2] = {{.upstreams = u, .nupstreams = 3},
                              {.upstreams = u + 3, .nupstreams = 3}};
    set_name(f[0].name, "example.lab.");
    set_name(f[1].name, "boot.lab.");
    policy_engine(NULL, 0, f, 2, true);
    boot_reset();
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(out.sends, 0);
    cr_assert_eq(nroot, 0);
    cr_assert(out.res.reason && strstr(out.res.reason, "https://d0.boot.lab/dns-query") &&
                  strstr(out.res.reason, "no address"),
              "%s", out.res.reason ? out.res.reason : "-");
    hook = NULL;
}

/* A chain: example.org.'s upstream has its host doh.boot.lab under boot.lab., forwarded to an
 * https:// upstream without address whose host (x.wild.example.lab, outside every forward
 * zone; here its authority says 127.0.99.1) is found by recursion. The host of the first is
 * looked up over DoH through the second (nested), never by recursion. */
static unsigned chain_via_doh, chain_leak;
static int hook_chain(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                      size_t *len)
{
    uint8_t qn[RD_NAME_MAX], host[RD_NAME_MAX];
    query_name(q, qn);
    uint16_t qtype = rd_msg_rr(q, RD_SEC_QD, 0)->type;
    bool first = rd_name_eq(qn, wire("doh.boot.lab.", host));
    bool second = rd_name_eq(qn, wire("x.wild.example.lab.", host));
    if (!first && !second) return -1;
    rd_addr_t via = addr_of("127.0.99.1@443");
    if (first && act->transport == RD_UP_HTTPS && addr_eq(&act->server, &via) && act->upstream == 1)
        chain_via_doh++;
    else if (first)
        chain_leak++;
    rd_mb_t b;
    rd_mb_init(&b, out_, cap, cap, q->id,
               (uint16_t)(RD_F_QR | (first ? RD_F_RA | RD_F_RD : RD_F_AA)));
    cr_assert_eq(rd_mb_question(&b, qn, qtype, RD_CLASS_IN), 0);
    static const uint8_t a[4] = {127, 0, 99, 1};
    if (qtype == RD_TYPE_A)
        cr_assert_eq(rd_mb_rr(&b, RD_SEC_AN, qn, RD_TYPE_A, RD_CLASS_IN, 300, a, 4), 0);
    *len = rd_mb_finish(&b);
    return 1;
}

Test(iter, https_host_through_another_bootstrapped_upstream)
{
    static char h2[] = "x.wild.example.lab", p2[] = "/dns-query",
                uri2[] = "https://x.wild.example.lab/dns-query";
    rd_conf_upstream_t ud = boot_doh(),
                       ue = {.proto = RD_UP_HTTPS, .auth_name = h2, .path = p2, .uri = uri2};
    ue.addr.port = 443;
    rd_conf_forward_t f[2] = {{.upstreams = &ud, .nupstreams = 1},
                              {.upstreams = &ue, .nupstreams = 1}};
    set_name(f[0].name, "example.org.");
    set_name(f[1].name, "boot.lab.");
    policy_engine(NULL, 0, f, 2, true);
    chain_via_doh = chain_leak = 0;
    hook = hook_chain;
    resolve("mail.example.org.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR, "%s", out.res.reason ? out.res.reason : "-");
    cr_assert_eq(chain_via_doh, 1, "doh.boot.lab asked over DoH of the second upstream");
    cr_assert_eq(chain_leak, 0, "doh.boot.lab asked elsewhere");
    cr_assert_gt(nroot, 0, "x.wild.example.lab (no forward zone's name) by recursion");
    cr_assert_not_null(out.res.warn, "that recursion is warned about");
    cr_assert(strstr(out.res.warn, "https://x.wild.example.lab/dns-query"), "%s", out.res.warn);
    hook = NULL;
}

Test(iter, https_host_missing_is_servfail_naming_the_upstream)
{
    /* nx.boot.lab does not exist in the lab (recursion: root, lab. NXDOMAIN) */
    static char host[] = "nx.boot.lab", path[] = "/dns-query",
                uri[] = "https://nx.boot.lab/dns-query";
    rd_conf_upstream_t u = {.proto = RD_UP_HTTPS, .auth_name = host, .path = path, .uri = uri};
    u.addr.port = 443;
    rd_conf_forward_t f = {.upstreams = &u, .nupstreams = 1};
    set_name(f.name, ".");
    policy_engine(NULL, 0, &f, 1, true);
    boot_reset();
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(out.res.ede, 22);
    cr_assert(out.res.reason && strstr(out.res.reason, "https://nx.boot.lab/dns-query") &&
                  strstr(out.res.reason, "no address"),
              "%s", out.res.reason ? out.res.reason : "-");
    HAS("EDE: 22");
    HAS("nx.boot.lab");
    cr_assert_eq(nup, 0, "no upstream was asked");
    cr_assert_eq(doh_sends, 0);
    cr_assert_not_null(out.res.warn); /* its lookup went out by recursion */
    /* a second question: the negative answers are cached, no new query at all */
    resolve("www.example.net.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(out.sends, 0);
    /* forward-first: yes falls back to recursion for the client's question */
    f.forward_first = true;
    policy_engine(NULL, 0, &f, 1, true);
    boot_reset();
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR, "%s", out.res.reason ? out.res.reason : "-");
    HAS("192.0.2.10");
    cr_assert_eq(nup, 0);
    hook = NULL;
}

Test(iter, https_host_in_local_data_wins)
{
    /* a local zone (what clients are answered from) holds the host: its address is used as
     * an @IP would be, nothing is looked up, nothing goes out in clear text */
    static const char zone[] = "$ORIGIN boot.lab.\n$TTL 300\n"
                               "@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\n"
                               "ns A 192.0.2.53\ndoh A 127.0.99.1\n"
                               "alias CNAME elsewhere.example.lab.\n";
    uint8_t origin[RD_NAME_MAX];
    rd_zone_t *z = NULL;
    rd_zoneset_t *local = NULL;
    cr_assert_eq(rd_zoneset_new(&local), 0);
    cr_assert_eq(
        rd_zone_load_mem(zone, strlen(zone), "boot.lab", wire("boot.lab.", origin), NULL, NULL, &z),
        0);
    cr_assert_eq(rd_zoneset_add(local, z), 0);
    rd_conf_upstream_t u = boot_doh();
    rd_conf_forward_t f = {.upstreams = &u, .nupstreams = 1};
    set_name(f.name, ".");
    policy_local = local;
    policy_engine(NULL, 0, &f, 1, true);
    policy_local = NULL;
    rd_zoneset_free(local); /* read by rd_res_new only */
    boot_reset();
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    cr_assert_eq(boot_a + boot_aaaa, 0);
    cr_assert_eq(doh_sends, 1);
    cr_assert_eq(nroot, 0);
    cr_assert_null(out.res.warn);
    /* a host the local zone says does not exist: the upstream cannot be used, and nothing
     * asks anyone else about it */
    static char host[] = "nx.boot.lab", uri[] = "https://nx.boot.lab/dns-query";
    u.auth_name = host;
    u.uri = uri;
    cr_assert_eq(rd_zoneset_new(&local), 0);
    cr_assert_eq(rd_zone_load_mem(zone, strlen(zone), "boot.lab", origin, NULL, NULL, &z), 0);
    cr_assert_eq(rd_zoneset_add(local, z), 0);
    policy_local = local;
    policy_engine(NULL, 0, &f, 1, true);
    policy_local = NULL;
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(out.sends, 0);
    cr_assert(strstr(out.res.reason, "https://nx.boot.lab/dns-query: no address"), "%s",
              out.res.reason);
    /* an alias leaving the zone is no local answer: the host is looked up as usual */
    static char ahost[] = "alias.boot.lab", auri[] = "https://alias.boot.lab/dns-query";
    u.auth_name = ahost;
    u.uri = auri;
    policy_local = local;
    policy_engine(NULL, 0, &f, 1, true);
    policy_local = NULL;
    rd_zoneset_free(local);
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_gt(nroot, 0, "looked up by recursion (alias.boot.lab does not exist in the lab)");
    hook = NULL;
}

Test(iter, https_with_bootstrap_never_looked_up)
{
    rd_conf_upstream_t u = boot_doh();
    u.addr = addr_of("127.0.99.1@8443");
    rd_conf_forward_t f = {.upstreams = &u, .nupstreams = 1};
    set_name(f.name, ".");
    policy_engine(NULL, 0, &f, 1, false);
    boot_reset();
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    cr_assert_eq(boot_a + boot_aaaa, 0);
    cr_assert_eq(nroot, 0);
    cr_assert_null(out.res.warn);
    hook = NULL;
}

/* ---- DNSSEC pass-through (issue 5): RRSIGs cached with their RRsets, given to DO=1 only ---- */

static unsigned no_do_queries;
static int hook_count_do(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *reply, size_t cap,
                         size_t *len)
{
    (void)act, (void)reply, (void)cap, (void)len;
    if (!q->edns.present || !(q->edns.flags & RD_EDNS_DO)) no_do_queries++;
    return -1;
}

static unsigned count_of(const char *what)
{
    unsigned n = 0;
    for (const char *p = out.text; (p = strstr(p, what)) != NULL; p++) n++;
    return n;
}

Test(iter, dnssec_do_gets_rrsigs_do0_does_not)
{
    hook = hook_count_do;
    no_do_queries = 0;
    client_do = true;
    resolve("www.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 2, 3); /* the A and its RRSIG */
    HAS("192.0.2.95");
    HAS("RRSIG\tA 13 3 3600");
    cr_assert_eq(no_do_queries, 0, "every upstream query carries DO=1");
    /* from the cache: DO=0 gets none, DO=1 gets them again */
    client_do = false;
    resolve("www.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 0);
    cr_assert_eq(count_of("RRSIG"), 0);
    client_do = true;
    resolve("www.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 2, 0);
    HAS("RRSIG\tA 13 3 3600");
    cr_assert(strstr(out.text, "flags: do") || strstr(out.text, " do"), "DO echoed:\n%s", out.text);
}

Test(iter, dnssec_do0_first_then_do1_from_cache)
{
    resolve("www.signed.lab.", RD_TYPE_AAAA);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    cr_assert_eq(count_of("RRSIG"), 0);
    /* the first (DO=0) client's resolution asked with DO=1: the RRSIGs are in the cache */
    client_do = true;
    resolve("www.signed.lab.", RD_TYPE_AAAA);
    EXPECT(RD_RCODE_NOERROR, 2, 0);
    HAS("RRSIG\tAAAA 13 3 3600");
}

Test(iter, dnssec_cname_chain_signed)
{
    client_do = true;
    resolve("alias.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 4, out.sends); /* CNAME, RRSIG, A, RRSIG */
    HAS("RRSIG\tCNAME 13 3");
    HAS("RRSIG\tA 13 3");
    resolve("alias.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 4, 0);
    client_do = false;
    resolve("alias.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 2, 0);
    cr_assert_eq(count_of("RRSIG"), 0);
}

Test(iter, dnssec_negative_keeps_soa_rrsig)
{
    client_do = true;
    resolve("nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 3);
    cr_assert_eq(out.ns, 2, "SOA and its RRSIG:\n%s", out.text);
    HAS("RRSIG\tSOA 13 2");
    resolve("nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 0);
    cr_assert_eq(out.ns, 2);
    client_do = false;
    resolve("nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 0);
    cr_assert_eq(out.ns, 1);
    /* NODATA too */
    client_do = true;
    resolve("txtonly.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 0, 1);
    cr_assert_eq(out.ns, 2);
    HAS("RRSIG\tSOA 13 2");
}

Test(iter, dnssec_unsigned_zone_do1_no_rrsig)
{
    client_do = true;
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    cr_assert_eq(count_of("RRSIG"), 0);
}

/* ---- NSEC proofs in negative answers (issue 5, RFC 4035 s3.1.3) ----
 * rd_zone_answer assembles no denial, so this hook adds to the signed.lab server's negative
 * replies what NSD adds for DO=1: the NSEC RRsets named in nsec_owners, taken from the zone
 * (with their RRSIGs), after the SOA. nsec_evil adds one owned outside the zone. */

/* Appends to b the NSEC RRset at owner and its RRSIGs, as the zone holds them. */
static void add_nsec(rd_mb_t *b, const rd_zone_t *z, const char *owner, const char *as_owner)
{
    uint8_t on[RD_NAME_MAX], asn[RD_NAME_MAX];
    wire(owner, on);
    wire(as_owner, asn);
    static uint8_t tmp[RD_MSG_MAX];
    rd_mb_t t;
    rd_mb_init(&t, tmp, sizeof(tmp), RD_MSG_MAX, 1, RD_F_QR);
    cr_assert_eq(rd_mb_question(&t, on, RD_TYPE_NSEC, RD_CLASS_IN), 0);
    int result;
    cr_assert_eq(rd_zone_answer(z, on, RD_TYPE_NSEC, true, &t, &result), 0);
    size_t tl = rd_mb_finish(&t);
    rd_msg_t m;
    cr_assert_eq(rd_msg_parse(&m, tmp, tl, NULL), 0);
    cr_assert_geq(m.count[RD_SEC_AN], 2, "NSEC and RRSIG at %s", owner);
    for (unsigned i = 0; i < m.count[RD_SEC_AN]; i++) {
        const rd_rr_t *rr = rd_msg_rr(&m, RD_SEC_AN, i);
        uint8_t rd[RD_MSG_MAX];
        size_t rl = 0;
        cr_assert_eq(rd_rdata_unpack(tmp, tl, rr->rdata, rr->rdlen, rr->type, rd, sizeof(rd), &rl),
                     0);
        cr_assert_eq(rd_mb_rr(b, RD_SEC_NS, asn, rr->type, rr->rclass, rr->ttl, rd, (uint16_t)rl),
                     0);
    }
}

static int hook_nsec(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *reply, size_t cap,
                     size_t *len)
{
    uint8_t qname[RD_NAME_MAX], zone[RD_NAME_MAX];
    size_t pos = RD_HDR_LEN;
    cr_assert_eq(rd_name_unpack(q->wire, q->len, &pos, qname, NULL), 0);
    const fake_srv_t *s = NULL;
    for (unsigned i = 0; i < nsrv; i++)
        if (addr_eq(&srv[i].addr, &act->server)) s = &srv[i];
    if (!s || !s->zones || !rd_name_in(qname, wire("signed.lab.", zone))) return -1;
    const rd_zone_t *z = rd_zoneset_find(s->zones, qname);
    if (!z || !rd_name_eq(rd_zone_origin(z), zone)) return -1;
    const rd_rr_t *qr = rd_msg_rr(q, RD_SEC_QD, 0);
    bool dnssec_ok = q->edns.present && (q->edns.flags & RD_EDNS_DO);
    rd_mb_t b;
    rd_mb_init(&b, reply, cap, RD_MSG_MAX, q->id, RD_F_QR);
    rd_edns_build_t e = {.udp_size = 1232, .flags = dnssec_ok ? RD_EDNS_DO : 0};
    if (q->edns.present) cr_assert_eq(rd_mb_reserve(&b, rd_edns_size(&e)), 0);
    cr_assert_eq(rd_mb_question(&b, qname, qr->type, qr->rclass), 0);
    int result;
    cr_assert_eq(rd_zone_answer(z, qname, qr->type, dnssec_ok, &b, &result), 0);
    bool negative = b.count[RD_SEC_AN] == 0 && b.count[RD_SEC_NS] > 0 &&
                    ((b.flags & 0xF) == RD_RCODE_NXDOMAIN || (b.flags & 0xF) == RD_RCODE_NOERROR);
    if (negative && dnssec_ok) {
        for (unsigned i = 0; i < nnsec; i++) add_nsec(&b, z, nsec_owners[i], nsec_owners[i]);
        if (nsec_evil) add_nsec(&b, z, "signed.lab.", "evil.example.lab.");
    }
    if (q->edns.present) cr_assert_eq(rd_mb_opt(&b, &e), 0);
    *len = rd_mb_finish(&b);
    return 1;
}

/* The NSEC records of the answer text, each with its RRSIG: "<owner>\t...\tNSEC\t". */
static unsigned nsec_count(void)
{
    return count_of("\tNSEC\t");
}

Test(iter, dnssec_nxdomain_gets_nsec_proof)
{
    hook = hook_nsec;
    /* NSD's denial for nx.signed.lab: the NSEC covering the name (ns1 -> txtonly) and the one
     * covering the wildcard (signed.lab -> alias) */
    nsec_owners[0] = "ns1.signed.lab.";
    nsec_owners[1] = "signed.lab.";
    nnsec = 2;
    client_do = true;
    resolve("nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 3);
    cr_assert_eq(out.ns, 6, "SOA, NSEC x2, each with its RRSIG:\n%s", out.text);
    HAS("RRSIG\tSOA 13 2");
    HAS("ns1.signed.lab.\t300\tIN\tNSEC\ttxtonly.signed.lab. A RRSIG NSEC");
    HAS("signed.lab.\t300\tIN\tNSEC\talias.signed.lab. NS SOA RRSIG NSEC DNSKEY");
    cr_assert_eq(count_of("RRSIG\tNSEC 13"), 2);
    /* after the SOA (RFC 4035 s3.1.3 order: SOA first) */
    cr_assert_lt(strstr(out.text, "\tSOA\t") - out.text, strstr(out.text, "\tNSEC\t") - out.text);
    /* from the cache: the same, with the negative TTL */
    resolve("nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 0);
    cr_assert_eq(out.ns, 6, "%s", out.text);
    cr_assert_eq(nsec_count(), 2);
    cr_assert_eq(count_of("RRSIG\tNSEC 13"), 2);
    /* RFC 8020: a name below, from the cache, gets the proof too */
    resolve("a.nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 0);
    cr_assert_eq(out.ns, 6, "%s", out.text);
    /* DO=0 from the cache: the SOA alone, as before */
    client_do = false;
    resolve("nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 0);
    cr_assert_eq(out.ns, 1, "%s", out.text);
    cr_assert_eq(count_of("NSEC"), 0);
    cr_assert_eq(count_of("RRSIG"), 0);
}

Test(iter, dnssec_nodata_gets_nsec_proof)
{
    hook = hook_nsec;
    nsec_owners[0] = "txtonly.signed.lab.";
    nnsec = 1;
    client_do = true;
    resolve("txtonly.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 0, 3);
    cr_assert_eq(out.ns, 4, "SOA, NSEC, each with its RRSIG:\n%s", out.text);
    HAS("txtonly.signed.lab.\t300\tIN\tNSEC\twww.signed.lab. TXT RRSIG NSEC");
    HAS("RRSIG\tNSEC 13 3");
    resolve("txtonly.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 0, 0);
    cr_assert_eq(out.ns, 4, "%s", out.text);
    HAS("RRSIG\tNSEC 13 3");
    client_do = false;
    resolve("txtonly.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 0, 0);
    cr_assert_eq(out.ns, 1, "%s", out.text);
    cr_assert_eq(count_of("NSEC"), 0);
}

Test(iter, dnssec_nsec_do0_first_then_do1_from_cache)
{
    hook = hook_nsec;
    nsec_owners[0] = "ns1.signed.lab.";
    nsec_owners[1] = "signed.lab.";
    nnsec = 2;
    /* a DO=0 client's fresh answer: exactly the SOA */
    resolve("nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 3);
    cr_assert_eq(out.ns, 1, "%s", out.text);
    cr_assert_eq(count_of("NSEC"), 0);
    /* the resolution asked with DO=1: the proof is in the cache for the next DO=1 client */
    client_do = true;
    resolve("nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 0);
    cr_assert_eq(out.ns, 6, "%s", out.text);
}

Test(iter, dnssec_nsec_proof_bounded_and_in_zone)
{
    hook = hook_nsec;
    /* every NSEC of the zone (6 sets) and one owned outside it: at most RD_CACHE_NEG_PROOFS
     * in-zone sets are kept, the foreign one never */
    static const char *all[] = {"signed.lab.",     "alias.signed.lab.",   "mail.signed.lab.",
                                "ns1.signed.lab.", "txtonly.signed.lab.", "www.signed.lab."};
    nsec_evil = true;
    for (nnsec = 0; nnsec < 6; nnsec++) nsec_owners[nnsec] = all[nnsec];
    client_do = true;
    resolve("nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 3);
    cr_assert_eq(nsec_count(), RD_CACHE_NEG_PROOFS, "%s", out.text);
    cr_assert_eq(out.ns, 2 + 2 * RD_CACHE_NEG_PROOFS, "%s", out.text);
    cr_assert_null(strstr(out.text, "evil.example.lab"), "%s", out.text);
    resolve("nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 0);
    cr_assert_eq(out.ns, 2 + 2 * RD_CACHE_NEG_PROOFS, "%s", out.text);
    cr_assert_null(strstr(out.text, "evil.example.lab"));
    nsec_evil = false;
}

Test(iter, dnssec_nsec_proof_truncated_for_small_client)
{
    hook = hook_nsec;
    static const char *four[] = {"signed.lab.", "alias.signed.lab.", "mail.signed.lab.",
                                 "ns1.signed.lab."};
    for (nnsec = 0; nnsec < 4; nnsec++) nsec_owners[nnsec] = four[nnsec];
    client_do = true;
    resolve("nx.signed.lab.", RD_TYPE_A); /* cached */
    cr_assert_eq(out.ns, 10);
    cr_assert_not(out.tc);
    /* 512 octets hold the SOA and its RRSIG, not four NSECs with theirs: TC (RFC 4035
     * s3.1.1), and never an NSEC without its RRSIG */
    answer_limit = 512;
    resolve("nx.signed.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 0);
    cr_assert(out.tc, "TC when the proof does not fit:\n%s", out.text);
    cr_assert_lt(out.ns, 10);
    cr_assert_geq(out.ns, 2, "the SOA and its RRSIG still go:\n%s", out.text);
    cr_assert_eq(out.ns % 2, 0, "each set whole with its RRSIG:\n%s", out.text);
    cr_assert_eq(nsec_count(), count_of("RRSIG\tNSEC 13"));
    /* DO=0 in 512: the SOA, no TC */
    client_do = false;
    resolve("nx.signed.lab.", RD_TYPE_A);
    cr_assert_not(out.tc);
    cr_assert_eq(out.ns, 1);
}

/* ---- AAAA lookups of NS names ---- */

static unsigned aaaa_lookups, v6_sends;
static int hook_count_aaaa(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *reply,
                           size_t cap, size_t *len)
{
    (void)reply, (void)cap, (void)len;
    const rd_rr_t *qr = rd_msg_rr(q, RD_SEC_QD, 0);
    aaaa_lookups += qr->type == RD_TYPE_AAAA;
    v6_sends += act->server.family == 6;
    return -1;
}

Test(iter, glueless_ipv6_only_ns_name)
{
    /* v6noglue.lab. NS ns6.dns-host.net., which has an AAAA only: after its A lookup comes
     * back empty (NODATA), the AAAA is looked up and the server is asked over IPv6. */
    hook = hook_count_aaaa;
    aaaa_lookups = v6_sends = 0;
    resolve("www.v6noglue.lab.", RD_TYPE_A);
    /* root, lab. (no glue); ns6: root, net., dns-host.net. A (NODATA), dns-host.net. AAAA;
     * then the question at fd00:1ab::53 */
    EXPECT(RD_RCODE_NOERROR, 1, 7);
    HAS("192.0.2.81");
    cr_assert_eq(aaaa_lookups, 1);
    cr_assert_geq(v6_sends, 1);
    /* the cut and the NS address are cached now */
    resolve("www.v6noglue.lab.", RD_TYPE_AAAA);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    HAS("2001:db8::81");
}

Test(iter, glueless_ipv6_only_ns_name_without_ipv6)
{
    rd_res_free(res);
    rd_cache_free(cache);
    rd_res_opts_t o = {.allow_loopback_upstreams = true, .no_ipv6 = true};
    engine_new(hints_file(), &o);
    hook = hook_count_aaaa;
    aaaa_lookups = v6_sends = 0;
    resolve("www.v6noglue.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_SERVFAIL);
    cr_assert_eq(aaaa_lookups, 0, "no AAAA lookup when IPv6 is off");
    cr_assert_eq(v6_sends, 0);
}

Test(iter, glueless_ipv4_ns_name_no_aaaa_lookup)
{
    /* An NS name whose A answers: no AAAA lookup is spent on it. */
    hook = hook_count_aaaa;
    aaaa_lookups = 0;
    resolve("www.noglue.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 6);
    cr_assert_eq(aaaa_lookups, 0);
}

/* ---- DNAME synthesis from the cache (RFC 6672 s3.2) ---- */

static unsigned to_example_lab;
static int hook_count_example_lab(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *reply,
                                  size_t cap, size_t *len)
{
    (void)q, (void)reply, (void)cap, (void)len;
    to_example_lab += act->server.family == 4 && act->server.addr[0] == 127 &&
                      act->server.addr[1] == 0 && act->server.addr[2] == 10;
    return -1;
}

Test(iter, dname_synthesised_from_cache)
{
    resolve("www.old.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 3, out.sends);
    hook = hook_count_example_lab;
    to_example_lab = 0;
    /* another name below the cached DNAME: the CNAME is synthesised here, only the target's
     * data is asked (example.org.'s cut is cached: one query) */
    resolve("mail.old.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 3, 1);
    HAS("old.example.lab.\t3600\tIN\tDNAME\texample.org.");
    HAS("mail.old.example.lab.\t3600\tIN\tCNAME\tmail.example.org.");
    HAS("192.0.2.51");
    cr_assert_eq(to_example_lab, 0, "example.lab.'s servers not asked again");
    /* all from the cache now; the synthesised CNAME takes the DNAME's TTL, counting down */
    clock_ms += 10000;
    resolve("MAIL.old.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 3, 0);
    HAS("MAIL.old.example.lab.\t3590\tIN\tCNAME\tmail.example.org.");
    HAS("old.example.lab.\t3590\tIN\tDNAME");
    /* a name below the DNAME whose target does not exist */
    resolve("nothere.old.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NXDOMAIN);
    HAS("DNAME");
    cr_assert_eq(to_example_lab, 0);
}

Test(iter, dname_cname_question_keeps_dname)
{
    /* RFC 6672 s3.4: a CNAME question below a DNAME gets the DNAME and the synthesised CNAME,
     * from upstream and every time after from the cache. */
    resolve("www.old.example.lab.", RD_TYPE_CNAME);
    EXPECT(RD_RCODE_NOERROR, 2, out.sends);
    HAS("DNAME");
    HAS("CNAME\twww.example.org.");
    for (int i = 0; i < 2; i++) {
        resolve("www.old.example.lab.", RD_TYPE_CNAME);
        EXPECT(RD_RCODE_NOERROR, 2, 0);
        HAS("old.example.lab.\t3600\tIN\tDNAME\texample.org.");
        HAS("www.old.example.lab.\t3600\tIN\tCNAME\twww.example.org.");
    }
    /* after the A question too */
    resolve("www.old.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 3, out.sends);
    resolve("www.old.example.lab.", RD_TYPE_CNAME);
    EXPECT(RD_RCODE_NOERROR, 2, 0);
    HAS("DNAME");
}

Test(iter, dname_overflow_yxdomain)
{
    /* RFC 6672 s2.2: a substitution longer than 255 octets is YXDOMAIN. */
    uint8_t owner[RD_NAME_MAX], target[RD_NAME_MAX];
    char t[300] = "";
    for (int i = 0; i < 3; i++)
        strcat(t, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
    strcat(t, "lab.");
    wire("d.example.lab.", owner);
    wire(t, target);
    rd_cache_rdata_t rd = {target, (uint16_t)rd_name_len(target)};
    rd_cache_rrset_t rs = {.owner = owner,
                           .type = RD_TYPE_DNAME,
                           .rclass = RD_CLASS_IN,
                           .ttl = 3600,
                           .rank = RD_CACHE_RANK_AUTH_ANSWER,
                           .count = 1,
                           .rdata = &rd};
    cr_assert_eq(rd_cache_insert_rrset(cache, &rs, clock_ms / 1000), 0);
    resolve("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.cc.d.example.lab.",
            RD_TYPE_A);
    EXPECT(6, 1, 0); /* YXDOMAIN with the DNAME */
    HAS("DNAME");
    /* a short prefix fits: synthesised, then asked (the target does not exist) */
    resolve("x.d.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NXDOMAIN);
    HAS("CNAME");
}

/* ---- RD=0 (access-control allow_snoop): the cache only ---- */

static void resolve_norec(const char *name, uint16_t qtype)
{
    memset(&out, 0, sizeof(out));
    uint8_t qn[RD_NAME_MAX];
    wire(name, qn);
    rd_req_t *req = NULL;
    cr_assert_eq(rd_req_new(res, qn, qtype, RD_CLASS_IN, client_do, false, clock_ms, &req), 0);
    rd_req_set_norec(req);
    rd_res_action_t act;
    cr_assert_eq(rd_req_step(req, clock_ms, &act), RD_RES_DONE, "no upstream query for RD=0");
    rd_req_result(req, &out.res);
    static uint8_t resp[RD_MSG_MAX];
    size_t rlen = 0;
    cr_assert_eq(rd_req_answer(req, 0x4321, qn, false, true, 1232, resp, sizeof(resp), &rlen), 0);
    rd_msg_t m;
    rd_arena_t ar;
    rd_arena_init(&ar, NULL, 0, 0);
    cr_assert_eq(rd_msg_parse(&m, resp, rlen, &ar), 0);
    out.rcode = rd_msg_rcode(&m);
    out.an = m.count[RD_SEC_AN];
    out.ns = m.count[RD_SEC_NS];
    cr_assert_not(m.flags & RD_F_RD, "RD copied from the client (0)");
    cr_assert(m.flags & RD_F_RA);
    cr_assert_not(m.flags & RD_F_AA);
    cr_assert(rd_msg_to_text(&m, out.text, sizeof(out.text)) > 0);
    rd_arena_free(&ar);
    rd_req_free(req);
}

Test(iter, norec_answers_from_cache_only)
{
    /* nothing cached: the root referral from the hints, no query */
    resolve_norec("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_eq(out.an, 0);
    cr_assert_eq(out.ns, 2, "%s", out.text);
    HAS("a.root-servers.lab.");
    HAS("127.0.0.2");
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    /* cached: the answer */
    resolve_norec("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_eq(out.an, 1);
    HAS("192.0.2.10");
    /* a miss below a cached cut: the referral to it, with the glue */
    resolve_norec("other.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_eq(out.an, 0);
    cr_assert_eq(out.ns, 2);
    HAS("example.lab.\t86400\tIN\tNS\tns1.example.lab.");
    HAS("127.0.10.1");
    /* negative answers come from the cache too */
    resolve("nx.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 1);
    resolve_norec("nx.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NXDOMAIN);
    HAS("SOA");
    /* and the miss was not cached as anything: RD=1 still resolves it */
    resolve("other.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NXDOMAIN);
    cr_assert_eq(out.sends, 1);
}

/* ---- 0x20: servers that do not keep the case are remembered (infra.c) ---- */

Test(iter, x20_case_mangling_server_remembered)
{
    hook = case_mangle_hook;
    /* Each of example.lab.'s two servers fails the case check once; after that, every request
     * asks them with plain names at once (no wait for a timeout). */
    static const char *names[] = {"www.example.lab.",       "alias.example.lab.",
                                  "mixedcase.example.lab.", "exists.wild.example.lab.",
                                  "a.ent.example.lab.",     "foo.wild.example.lab.",
                                  "nodata.example.lab."};
    unsigned ignored = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        resolve(names[i], RD_TYPE_A);
        cr_assert_neq(out.rcode, RD_RCODE_SERVFAIL, "%s", names[i]);
        ignored += out.ignored;
        if (i >= 4) cr_assert_eq(out.ignored, 0, "%s: the server is remembered", names[i]);
    }
    cr_assert_leq(ignored, 2, "one case failure per server, not per request");
    cr_assert_geq(ignored, 1);
    /* the memory expires: 0x20 is tried again (and fails again) */
    clock_ms += RD_RES_NO0X20_MS + 1000;
    mixed_sent = plain_sent = 0;
    resolve("www.example.lab.", RD_TYPE_AAAA);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_eq(out.ignored, 1);
}

Test(iter, x20_memory_is_per_server)
{
    /* A server that keeps the case is not affected by another one's failure. */
    hook = case_mangle_hook;
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.ignored, 1);
    mixed_sent = plain_sent = 0;
    resolve("step3.example.net.", RD_TYPE_A); /* example.net.'s server keeps it */
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_eq(out.ignored, 0);
    cr_assert_geq(mixed_sent, 1, "0x20 still used towards other servers");
}

Test(iter, dnssec_rrset_without_room_for_its_rrsigs_truncates)
{
    /* RFC 4035 s3.1.1: an RRset goes with its RRSIGs or not at all; TC says what is missing.
     * One A with 6 RRSIGs of ~200 octets each, from the cache. */
    uint8_t owner[RD_NAME_MAX], signer[RD_NAME_MAX];
    wire("big-sigs.signed.lab.", owner);
    wire("signed.lab.", signer);
    static const uint8_t a[4] = {192, 0, 2, 99};
    static uint8_t sig[6][220];
    rd_cache_rdata_t sigs[6];
    size_t sl = rd_name_len(signer);
    for (int i = 0; i < 6; i++) {
        memset(sig[i], i + 1, sizeof(sig[i]));
        sig[i][0] = 0, sig[i][1] = RD_TYPE_A; /* type covered */
        sig[i][2] = 13, sig[i][3] = 3;        /* algorithm, labels */
        memcpy(sig[i] + 18, signer, sl);      /* signer name after the fixed 18 octets */
        sigs[i] = (rd_cache_rdata_t){sig[i], (uint16_t)sizeof(sig[i])};
    }
    rd_cache_rdata_t rd = {a, 4};
    rd_cache_rrset_t rs = {.owner = owner,
                           .type = RD_TYPE_A,
                           .rclass = RD_CLASS_IN,
                           .ttl = 3600,
                           .rank = RD_CACHE_RANK_AUTH_ANSWER,
                           .count = 1,
                           .nsigs = 6,
                           .rdata = &rd,
                           .rrsigs = sigs};
    cr_assert_eq(rd_cache_insert_rrset(cache, &rs, clock_ms / 1000), 0);
    client_do = true;
    answer_limit = 1232;
    resolve("big-sigs.signed.lab.", RD_TYPE_A);
    cr_assert_eq(out.sends, 0);
    cr_assert(out.tc, "TC when the RRSIGs do not fit");
    cr_assert_eq(out.an, 0, "never the RRset without its RRSIGs");
    answer_limit = 4096;
    resolve("big-sigs.signed.lab.", RD_TYPE_A);
    cr_assert_not(out.tc);
    cr_assert_eq(out.an, 7);
    /* DO=0: the A alone fits in 512 */
    client_do = false;
    answer_limit = 512;
    resolve("big-sigs.signed.lab.", RD_TYPE_A);
    cr_assert_not(out.tc);
    cr_assert_eq(out.an, 1);
    HAS("192.0.2.99");
}

/* ---- TTL policy on the first answer (cache-min-ttl, cache-max-ttl, cache-max-negative-ttl) ----
 * The answer given right after resolution shows the TTLs the cache stored, as a later cached
 * answer does (Unbound clamps both alike). */

static void set_limits(uint32_t min_ttl, uint32_t max_ttl, uint32_t max_neg)
{
    rd_cache_limits_t lim = {min_ttl, max_ttl, max_neg};
    cr_assert_eq(rd_cache_set_limits(cache, &lim), 0);
}

static uint32_t answer_ttl(unsigned i)
{
    cr_assert_lt(i, out.res.nrrsets);
    return out.ttl[i];
}

Test(iter, ttl_max_clamps_first_answer)
{
    set_limits(0, 100, 3600);
    resolve("www.example.lab.", RD_TYPE_A); /* TTL 3600 in the zone */
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    cr_assert_eq(answer_ttl(0), 100, "first answer: %u", answer_ttl(0));
    HAS("100");
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 0);
    cr_assert_eq(answer_ttl(0), 100, "from the cache: %u", answer_ttl(0));
    /* a CNAME chain: every link as the cache keeps it */
    resolve("chain.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    for (unsigned i = 0; i < out.res.nrrsets; i++) cr_assert_leq(answer_ttl(i), 100);
}

Test(iter, ttl_min_raises_first_answer)
{
    set_limits(60, 86400, 3600);
    resolve("short.example.lab.", RD_TYPE_A); /* TTL 5 */
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    cr_assert_eq(answer_ttl(0), 60, "first answer: %u", answer_ttl(0));
    clock_ms += 10000; /* past the zone's 5 s: still cached, for 60 */
    resolve("short.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 0);
    cr_assert_eq(answer_ttl(0), 50, "from the cache 10 s later: %u", answer_ttl(0));
}

Test(iter, ttl_max_negative_clamps_first_answer)
{
    set_limits(0, 86400, 30);
    resolve("nx.example.lab.", RD_TYPE_A); /* SOA MINIMUM 300 */
    EXPECT(RD_RCODE_NXDOMAIN, 0, 3);
    cr_assert_eq(out.neg_ttl, 30, "first NXDOMAIN: %lld", (long long)out.neg_ttl);
    resolve("nx.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NXDOMAIN, 0, 0);
    cr_assert_eq(out.neg_ttl, 30);
    resolve("nodata.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 0, 1);
    cr_assert_eq(out.neg_ttl, 30, "first NODATA: %lld", (long long)out.neg_ttl);
    /* without the cap: min(SOA TTL, MINIMUM), RFC 2308 s5 */
    set_limits(0, 86400, 3600);
    resolve("nx2.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.neg_ttl, 300);
}

/* ---- glue is not an answer (RFC 2181 s5.4.1) ---- */

static uint8_t cached_rank(const char *name, uint16_t type)
{
    uint8_t n[RD_NAME_MAX];
    rd_arena_t ar;
    rd_arena_init(&ar, NULL, 0, 0);
    rd_cache_rrset_t rs;
    int r = rd_cache_lookup_rrset(cache, wire(name, n), type, RD_CLASS_IN, clock_ms / 1000, false,
                                  &ar, &rs);
    uint8_t rank = r == 0 ? rs.rank : 0;
    rd_arena_free(&ar);
    return rank;
}

/* The example.lab. server answers ns1.example.lab. A with another address than the glue in
 * lab. (as a zone may): the client must get the zone's own data. */
static int own_ns1_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                        size_t *len)
{
    uint8_t qname[RD_NAME_MAX], ns1[RD_NAME_MAX];
    size_t pos = RD_HDR_LEN;
    cr_assert_eq(rd_name_unpack(q->wire, q->len, &pos, qname, NULL), 0);
    const rd_rr_t *qr = rd_msg_rr(q, RD_SEC_QD, 0);
    bool ex = is4(&act->server, ex1) || is4(&act->server, ex2);
    if (!ex || qr->type != RD_TYPE_A || !rd_name_eq(qname, wire("ns1.example.lab.", ns1)))
        return -1;
    rd_mb_t b;
    rd_mb_init(&b, out_, cap, 1232, q->id, RD_F_QR | RD_F_AA);
    cr_assert_eq(rd_mb_question(&b, qname, qr->type, qr->rclass), 0);
    static const uint8_t own[4] = {192, 0, 2, 111};
    cr_assert_eq(rd_mb_rr(&b, RD_SEC_AN, qname, RD_TYPE_A, RD_CLASS_IN, 3600, own, 4), 0);
    *len = rd_mb_finish(&b);
    return 1;
}

Test(iter, glue_not_answered_as_data)
{
    hook = own_ns1_hook;
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3);
    cr_assert_eq(cached_rank("ns1.example.lab.", RD_TYPE_A), RD_CACHE_RANK_ADDITIONAL);
    cr_assert_eq(cached_rank("example.lab.", RD_TYPE_NS), RD_CACHE_RANK_AUTHORITY);
    /* only glue cached: asked to the zone's servers (reached through that glue) */
    resolve("ns1.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1);
    HAS("192.0.2.111");
    cr_assert(strstr(out.text, "127.0.10.1") == NULL, "glue answered:\n%s", out.text);
    cr_assert_eq(cached_rank("ns1.example.lab.", RD_TYPE_A), RD_CACHE_RANK_AUTH_ANSWER);
    resolve("ns1.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 0); /* the authoritative data replaced the glue */
    HAS("192.0.2.111");
    /* the referral's NS set is not an answer either */
    resolve("example.lab.", RD_TYPE_NS);
    EXPECT(RD_RCODE_NOERROR, 2, 1);
    cr_assert_eq(cached_rank("example.lab.", RD_TYPE_NS), RD_CACHE_RANK_AUTH_ANSWER);
    resolve("example.lab.", RD_TYPE_NS);
    EXPECT(RD_RCODE_NOERROR, 2, 0);
}

Test(iter, glue_still_reaches_servers)
{
    /* glue of ns2.example.lab. only (no address of ns1): used to reach the zone */
    resolve("www.example.lab.", RD_TYPE_A);
    cache_clear();
    uint8_t ns2[RD_NAME_MAX], zone[RD_NAME_MAX], ns1[RD_NAME_MAX];
    wire("ns2.example.lab.", ns2);
    wire("example.lab.", zone);
    wire("ns1.example.lab.", ns1);
    rd_cache_rdata_t names[2] = {{ns1, (uint16_t)rd_name_len(ns1)},
                                 {ns2, (uint16_t)rd_name_len(ns2)}};
    rd_cache_rrset_t nsset = {.owner = zone,
                              .type = RD_TYPE_NS,
                              .rclass = RD_CLASS_IN,
                              .ttl = 3600,
                              .rank = RD_CACHE_RANK_AUTHORITY,
                              .count = 2,
                              .rdata = names};
    cr_assert_eq(rd_cache_insert_rrset(cache, &nsset, clock_ms / 1000), 0);
    static const uint8_t a2[4] = {127, 0, 10, 2};
    rd_cache_rdata_t ad = {a2, 4};
    rd_cache_rrset_t glue = {.owner = ns2,
                             .type = RD_TYPE_A,
                             .rclass = RD_CLASS_IN,
                             .ttl = 3600,
                             .rank = RD_CACHE_RANK_ADDITIONAL,
                             .count = 1,
                             .rdata = &ad};
    cr_assert_eq(rd_cache_insert_rrset(cache, &glue, clock_ms / 1000), 0);
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 1); /* straight to 127.0.10.2 through the glue */
    HAS("192.0.2.10");
}

/* ---- root priming (RFC 8109) ---- */

static unsigned nprime;          /* ". NS" queries seen */
static bool prime_refuse;        /* root servers refuse ". NS" */
static bool prime_only_b;        /* the root says its NS set is b.root-servers.lab. only */
static rd_addr_t root_seen[256]; /* servers asked anything but ". NS" at the root level */
static unsigned nroot_seen;

static int prime_hook(const rd_res_action_t *act, const rd_msg_t *q, uint8_t *out_, size_t cap,
                      size_t *len)
{
    uint8_t qname[RD_NAME_MAX];
    size_t pos = RD_HDR_LEN;
    cr_assert_eq(rd_name_unpack(q->wire, q->len, &pos, qname, NULL), 0);
    const rd_rr_t *qr = rd_msg_rr(q, RD_SEC_QD, 0);
    if (!is_root(&act->server)) return -1;
    if (qname[0] != 0 || qr->type != RD_TYPE_NS) {
        if (nroot_seen < 256) root_seen[nroot_seen++] = act->server;
        return -1;
    }
    nprime++;
    /* RFC 8109 s3: RD=0 (net_answer checks it), EDNS with DO=1 */
    cr_assert(q->edns.present);
    cr_assert_neq(q->edns.flags & RD_EDNS_DO, 0);
    if (prime_refuse) {
        rd_mb_t b;
        rd_mb_init(&b, out_, cap, 1232, q->id, RD_F_QR | RD_RCODE_REFUSED);
        cr_assert_eq(rd_mb_question(&b, qname, qr->type, qr->rclass), 0);
        *len = rd_mb_finish(&b);
        return 1;
    }
    if (!prime_only_b) return -1; /* the root zone's own answer */
    rd_mb_t b;
    rd_mb_init(&b, out_, cap, 1232, q->id, RD_F_QR | RD_F_AA);
    cr_assert_eq(rd_mb_question(&b, qname, qr->type, qr->rclass), 0);
    uint8_t nb[RD_NAME_MAX];
    wire("b.root-servers.lab.", nb);
    static const uint8_t ab[4] = {127, 0, 0, 3};
    cr_assert_eq(rd_mb_rr(&b, RD_SEC_AN, qname, RD_TYPE_NS, RD_CLASS_IN, 518400, nb,
                          (uint16_t)rd_name_len(nb)),
                 0);
    cr_assert_eq(rd_mb_rr(&b, RD_SEC_AR, nb, RD_TYPE_A, RD_CLASS_IN, 518400, ab, 4), 0);
    *len = rd_mb_finish(&b);
    return 1;
}

static void unprimed_engine(void)
{
    rd_res_free(res);
    rd_cache_free(cache);
    engine_new_unprimed(hints_file(), NULL);
    hook = prime_hook;
    nprime = nroot_seen = 0;
    prime_refuse = prime_only_b = false;
}

Test(iter, priming_before_first_query)
{
    unprimed_engine();
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 4); /* ". NS", then root, lab., example.lab. */
    HAS("192.0.2.10");
    cr_assert_eq(nprime, 1);
    cr_assert_null(out.res.note);
    cr_assert_eq(cached_rank(".", RD_TYPE_NS), RD_CACHE_RANK_AUTH_ANSWER);
    cr_assert_neq(cached_rank("a.root-servers.lab.", RD_TYPE_A), 0, "additional cached");
    /* primed: no more priming */
    resolve("www.example.net.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_eq(nprime, 1);
    /* the root's NS set is an answer now (authoritative data), without a query */
    resolve(".", RD_TYPE_NS);
    EXPECT(RD_RCODE_NOERROR, 2, 0);
    HAS("a.root-servers.lab.");
}

Test(iter, priming_ns_set_from_the_root_not_the_hints)
{
    unprimed_engine();
    prime_only_b = true;
    resolve("nosuchtld0.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NXDOMAIN);
    cr_assert_eq(nprime, 1);
    for (int i = 1; i <= 20; i++) {
        char t[32];
        snprintf(t, sizeof(t), "nosuchtld%d.", i);
        resolve(t, RD_TYPE_A);
        EXPECT(RD_RCODE_NXDOMAIN, 0, 1);
    }
    /* the hints name a. (two addresses) and b.; the root said b. only */
    static const uint8_t b3[4] = {127, 0, 0, 3};
    cr_assert_geq(nroot_seen, 21);
    for (unsigned i = 0; i < nroot_seen; i++)
        cr_assert(root_seen[i].family == 4 && memcmp(root_seen[i].addr, b3, 4) == 0,
                  "query %u went to a hints-only server", i);
}

Test(iter, priming_failure_falls_back_to_hints_and_retries_later)
{
    unprimed_engine();
    prime_refuse = true;
    resolve("www.example.lab.", RD_TYPE_A);
    EXPECT(RD_RCODE_NOERROR, 1, 3 + nprime); /* every hints server refused, then the hints */
    cr_assert_eq(nprime, 3);                 /* a. over IPv4 and IPv6, b. */
    cr_assert_not_null(out.res.note);
    cr_assert(strstr(out.res.note, "priming") != NULL);
    cr_assert_eq(cached_rank(".", RD_TYPE_NS), 0);
    /* backing off: the next question needing the root does not prime */
    resolve("www.example.net.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_eq(nprime, 3);
    /* after RD_RES_PRIME_RETRY_MS it does; failing again doubles the wait */
    clock_ms += RD_RES_PRIME_RETRY_MS;
    resolve("www.example.org.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_eq(nprime, 6);
    clock_ms += RD_RES_PRIME_RETRY_MS;
    resolve("nosuchtld1.", RD_TYPE_A);
    cr_assert_eq(nprime, 6, "second failure: waits twice as long");
    clock_ms += RD_RES_PRIME_RETRY_MS;
    prime_refuse = false;
    resolve("nosuchtld2.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NXDOMAIN);
    cr_assert_eq(nprime, 7);
    cr_assert_null(out.res.note);
    cr_assert_eq(cached_rank(".", RD_TYPE_NS), RD_CACHE_RANK_AUTH_ANSWER);
}

Test(iter, priming_again_when_root_ns_expires)
{
    unprimed_engine();
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(nprime, 1);
    clock_ms += 86400ull * 1000; /* cache-max-ttl: the root NS (518400) lives a day */
    resolve("www.example.lab.", RD_TYPE_A);
    cr_assert_eq(out.rcode, RD_RCODE_NOERROR);
    cr_assert_eq(nprime, 2);
}

/* Requests interleaved by hand: only one primes at a time, the others use the hints. */
Test(iter, priming_one_at_a_time)
{
    unprimed_engine();
    uint8_t q1[RD_NAME_MAX], q2[RD_NAME_MAX], q3[RD_NAME_MAX];
    rd_req_t *r1, *r2, *r3;
    rd_res_action_t a1, a2, a3;
    cr_assert_eq(rd_req_new(res, wire("www.example.lab.", q1), RD_TYPE_A, RD_CLASS_IN, false, false,
                            clock_ms, &r1),
                 0);
    cr_assert_eq(rd_req_new(res, wire("www.example.net.", q2), RD_TYPE_A, RD_CLASS_IN, false, false,
                            clock_ms, &r2),
                 0);
    cr_assert_eq(rd_req_step(r1, clock_ms, &a1), RD_RES_SEND);
    cr_assert_eq(rd_req_step(r2, clock_ms, &a2), RD_RES_SEND);
    rd_msg_t m1, m2;
    cr_assert_eq(rd_msg_parse(&m1, a1.wire, a1.len, NULL), 0);
    cr_assert_eq(rd_msg_parse(&m2, a2.wire, a2.len, NULL), 0);
    cr_assert_eq(rd_msg_rr(&m1, RD_SEC_QD, 0)->type, RD_TYPE_NS, "r1 primes");
    cr_assert_eq(a1.wire[RD_HDR_LEN], 0, "r1 asks about the root");
    cr_assert_eq(rd_msg_rr(&m2, RD_SEC_QD, 0)->type, RD_TYPE_A, "r2 uses the hints meanwhile");
    cr_assert(is_root(&a2.server));
    /* r1 is dropped while priming (the shell gave up on it): the next request primes */
    rd_req_free(r1);
    rd_req_free(r2);
    cr_assert_eq(rd_req_new(res, wire("www.example.org.", q3), RD_TYPE_A, RD_CLASS_IN, false, false,
                            clock_ms, &r3),
                 0);
    cr_assert_eq(rd_req_step(r3, clock_ms, &a3), RD_RES_SEND);
    rd_msg_t m3;
    cr_assert_eq(rd_msg_parse(&m3, a3.wire, a3.len, NULL), 0);
    cr_assert_eq(rd_msg_rr(&m3, RD_SEC_QD, 0)->type, RD_TYPE_NS, "r3 primes");
    rd_req_free(r3);
}

/* RD=0 (snooping) clients never cause priming: the hints answer them. */
Test(iter, priming_not_for_norec)
{
    unprimed_engine();
    uint8_t qn[RD_NAME_MAX];
    rd_req_t *req;
    rd_res_action_t act;
    cr_assert_eq(rd_req_new(res, wire("www.example.lab.", qn), RD_TYPE_A, RD_CLASS_IN, false, false,
                            clock_ms, &req),
                 0);
    rd_req_set_norec(req);
    cr_assert_eq(rd_req_step(req, clock_ms, &act), RD_RES_DONE);
    rd_req_free(req);
    cr_assert_eq(nprime, 0);
}
