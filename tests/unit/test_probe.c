/* Forward upstreams that go down and are probed back in the background (issue 8,
 * src/resolve/probe.c): two UDP upstreams of a forward zone on a fake network with a virtual
 * clock. A dead upstream drops every query (the try times out); a live one answers with RD
 * and RA set, an A record for A questions, the configured rcode. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "resolverd/cache.h"
#include "resolverd/conf.h"
#include "resolverd/msg.h"
#include "resolverd/name.h"
#include "resolverd/resolve.h"
#include "resolverd/rrtype.h"

static const char hints[] = ". 3600 NS a.root.\na.root. 3600 A 192.0.2.250\n";

static rd_cache_t *cache;
static rd_res_t *res;
static uint64_t now_ms = 5000000;
static uint32_t rng = 777;

/* the fake upstreams: 192.0.2.1 (index 0 in the zone) and 192.0.2.2 */
static bool alive[2];
static int rcode_of[2];
static unsigned asked[2];     /* queries each received */
static unsigned soa_asked[2]; /* of which for the zone's SOA */
static bool last_rd;          /* RD of the last query */

static uint32_t xorshift(void *ctx)
{
    (void)ctx;
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void name(const char *text, uint8_t *out)
{
    static const uint8_t root[1] = {0};
    cr_assert_eq(rd_name_from_text(text, strlen(text), root, out, NULL), 0);
}

static rd_addr_t up_addr(unsigned i)
{
    rd_addr_t a = {.family = 4, .port = 53};
    a.addr[0] = 192, a.addr[2] = 2, a.addr[3] = (uint8_t)(i + 1);
    return a;
}

static int which(const rd_addr_t *a)
{
    for (unsigned i = 0; i < 2; i++) {
        rd_addr_t u = up_addr(i);
        if (a->family == 4 && a->port == 53 && memcmp(a->addr, u.addr, 4) == 0) return (int)i;
    }
    return -1;
}

/* A new engine: forward "example." to both upstreams, both alive with NOERROR. */
static void engine(void)
{
    rd_res_free(res);
    res = NULL;
    rd_cache_free(cache);
    static const uint8_t key[RD_CACHE_KEY_LEN] = {1, 2, 3};
    cr_assert_eq(rd_cache_new(1u << 20, key, NULL, &cache), 0);
    rd_conf_upstream_t u[2] = {{.proto = RD_UP_UDP, .addr = up_addr(0), .uri = "udp://192.0.2.1"},
                               {.proto = RD_UP_UDP, .addr = up_addr(1), .uri = "udp://192.0.2.2"}};
    rd_conf_forward_t f = {.upstreams = u, .nupstreams = 2};
    name("example.", f.name);
    rd_res_opts_t o = {.forwards = &f, .nforwards = 1};
    cr_assert_eq(rd_res_new(cache, hints, sizeof(hints) - 1, &o, xorshift, NULL, &res), 0);
    for (unsigned i = 0; i < 2; i++) {
        alive[i] = true;
        rcode_of[i] = RD_RCODE_NOERROR;
        asked[i] = soa_asked[i] = 0;
    }
}

static void teardown(void)
{
    rd_res_free(res);
    rd_cache_free(cache);
    res = NULL;
    cache = NULL;
}

/* The reply of upstream k to the query of act, in out. */
static size_t reply(unsigned k, const rd_res_action_t *act, uint8_t *out, size_t cap)
{
    rd_msg_t q;
    cr_assert_eq(rd_msg_parse(&q, act->wire, act->len, NULL), 0);
    uint8_t qn[RD_NAME_MAX];
    size_t pos = RD_HDR_LEN;
    cr_assert_eq(rd_name_unpack(act->wire, act->len, &pos, qn, NULL), 0); /* case kept (0x20) */
    const rd_rr_t *qr = rd_msg_rr(&q, RD_SEC_QD, 0);
    rd_mb_t b;
    rd_mb_init(&b, out, cap, cap, q.id, (uint16_t)(RD_F_QR | RD_F_RD | RD_F_RA | rcode_of[k]));
    cr_assert_eq(rd_mb_question(&b, qn, qr->type, qr->rclass), 0);
    static const uint8_t ip[4] = {192, 0, 2, 99};
    if (qr->type == RD_TYPE_A && rcode_of[k] == RD_RCODE_NOERROR)
        cr_assert_eq(rd_mb_rr(&b, RD_SEC_AN, qn, RD_TYPE_A, RD_CLASS_IN, 300, ip, 4), 0);
    return rd_mb_finish(&b);
}

/* Drives req to the end on the fake network; returns the result's rcode. */
static int run(rd_req_t *req)
{
    for (int guard = 0; guard < 100; guard++) {
        rd_res_action_t act;
        int r = rd_req_step(req, now_ms, &act);
        if (r == RD_RES_DONE || r < 0) {
            rd_req_result_t res_;
            rd_req_result(req, &res_);
            return res_.rcode;
        }
        cr_assert_eq(r, RD_RES_SEND);
        int k = which(&act.server);
        cr_assert_geq(k, 0, "only the forward upstreams are asked");
        asked[k]++;
        rd_msg_t q;
        cr_assert_eq(rd_msg_parse(&q, act.wire, act.len, NULL), 0);
        last_rd = (q.flags & RD_F_RD) != 0;
        if (rd_msg_rr(&q, RD_SEC_QD, 0)->type == RD_TYPE_SOA) soa_asked[k]++;
        if (!alive[k]) {
            now_ms += act.timeout_ms;
            cr_assert_eq(rd_req_timeout(req, act.token, now_ms), 0);
            continue;
        }
        uint8_t out[512];
        size_t len = reply((unsigned)k, &act, out, sizeof(out));
        now_ms += 5;
        cr_assert_eq(rd_req_reply(req, act.token, &act.server, out, len, now_ms), 0);
    }
    cr_assert_fail("request did not end");
    return -1;
}

/* A client question; each a new name, so that the cache never answers. */
static int ask(void)
{
    static unsigned n;
    char text[64];
    snprintf(text, sizeof(text), "q%u.example.", n++);
    uint8_t qn[RD_NAME_MAX];
    name(text, qn);
    rd_req_t *req = NULL;
    cr_assert_eq(rd_req_new(res, qn, RD_TYPE_A, RD_CLASS_IN, false, false, now_ms, &req), 0);
    int rc = run(req);
    rd_req_free(req);
    now_ms += 10;
    return rc;
}

/* The probe of upstream k, run to its end; its rcode. */
static int probe(int k)
{
    rd_req_t *req = NULL;
    cr_assert_eq(rd_req_new_probe(res, k, now_ms, &req), 0);
    unsigned before[2] = {asked[0], asked[1]};
    int rc = run(req);
    rd_req_free(req);
    cr_assert_eq(asked[k], before[k] + 1, "a probe is one query");
    cr_assert_eq(asked[!k], before[!k], "to the probed upstream only");
    cr_assert(last_rd, "with RD=1");
    return rc;
}

/* The events pending, as a count of each kind for upstream k (others must not have any). */
static void events(int k, unsigned *down, unsigned *back, bool *by_probe, unsigned *fails)
{
    rd_res_up_event_t ev;
    *down = *back = 0;
    while (rd_res_upstream_event(res, &ev) == 1) {
        cr_assert_eq(ev.upstream, k);
        if (ev.kind == RD_RES_UP_DOWN) {
            (*down)++;
            if (fails) *fails = ev.fails;
        } else {
            cr_assert_eq(ev.kind, RD_RES_UP_BACK);
            (*back)++;
            if (by_probe) *by_probe = ev.by_probe;
        }
    }
}

/* Kills upstream 0 and asks until it goes down; returns when that was reported. */
static void take_down_0(void)
{
    alive[0] = false;
    unsigned down = 0, back = 0, fails = 0;
    for (int i = 0; i < 400 && down == 0; i++) {
        cr_assert_eq(ask(), RD_RCODE_NOERROR, "the other upstream answers");
        events(0, &down, &back, NULL, &fails);
    }
    cr_assert_eq(down, 1, "down reported once");
    cr_assert_eq(back, 0);
    cr_assert_eq(fails, RD_RES_HOLD_TIMEOUTS);
}

TestSuite(probe, .init = engine, .fini = teardown);

Test(probe, nothing_down_nothing_due)
{
    for (int i = 0; i < 20; i++) cr_assert_eq(ask(), RD_RCODE_NOERROR);
    cr_assert_gt(asked[0], 0, "both upstreams are used");
    cr_assert_gt(asked[1], 0, "both upstreams are used");
    int idx;
    uint64_t next;
    cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 0);
    cr_assert_eq(next, UINT64_MAX, "no timer needed");
    rd_res_up_event_t ev;
    cr_assert_eq(rd_res_upstream_event(res, &ev), 0);
}

Test(probe, down_upstream_left_alone_until_probe_answers)
{
    take_down_0();
    /* its first probe is due RD_RES_PROBE_MS after it went down (during the last question) */
    int idx;
    uint64_t next;
    cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 0);
    cr_assert(next > now_ms && next <= now_ms + RD_RES_PROBE_MS);
    uint64_t t_due = next;
    cr_assert_eq(rd_res_probe_due(res, t_due - 1, &idx, &next), 0);
    cr_assert_eq(rd_res_probe_due(res, t_due, &idx, &next), 1);
    /* clients leave it alone, even after the server table's hold has ended */
    now_ms += RD_RES_HOLD_MS + 1000;
    unsigned a0 = asked[0];
    for (int i = 0; i < 100; i++) cr_assert_eq(ask(), RD_RCODE_NOERROR);
    cr_assert_eq(asked[0], a0, "a down upstream gets no client question");
    cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 1);
    cr_assert_eq(idx, 0);
    cr_assert_eq(next, UINT64_MAX, "nothing else waits");
    /* it comes back: the probe (the zone's SOA) answers */
    alive[0] = true;
    cr_assert_eq(probe(0), RD_RCODE_NOERROR);
    cr_assert_eq(soa_asked[0], 1);
    unsigned down, back;
    bool by_probe = false;
    events(0, &down, &back, &by_probe, NULL);
    cr_assert_eq(down, 0);
    cr_assert_eq(back, 1);
    cr_assert(by_probe);
    cr_assert_eq(rd_res_probe_due(res, now_ms + 600000, &idx, &next), 0);
    cr_assert_eq(next, UINT64_MAX);
    /* and client questions reach it again */
    a0 = asked[0];
    for (int i = 0; i < 40; i++) cr_assert_eq(ask(), RD_RCODE_NOERROR);
    cr_assert_gt(asked[0], a0);
}

/* 8 questions in flight to upstream 0 together, all timing out together (it is stalled). */
static void burst_fails_0(void)
{
    static int k;
    alive[0] = false;
    rd_req_t *reqs[8];
    rd_res_action_t acts[8];
    unsigned n = 0;
    for (int i = 0; i < 200 && n < 8; i++) {
        char text[32];
        snprintf(text, sizeof(text), "burst%d.example.", k++);
        uint8_t qn[RD_NAME_MAX];
        name(text, qn);
        rd_req_t *req = NULL;
        cr_assert_eq(rd_req_new(res, qn, RD_TYPE_A, RD_CLASS_IN, false, false, now_ms, &req), 0);
        rd_res_action_t act;
        cr_assert_eq(rd_req_step(req, now_ms, &act), RD_RES_SEND);
        if (which(&act.server) != 0) {
            rd_req_free(req);
            continue;
        }
        reqs[n] = req;
        acts[n++] = act;
    }
    cr_assert_eq(n, 8);
    now_ms += 1000;
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(rd_req_timeout(reqs[i], acts[i].token, now_ms), 0);
    for (unsigned i = 0; i < n; i++) {
        cr_assert_eq(run(reqs[i]), RD_RCODE_NOERROR, "the retry goes to the other upstream");
        rd_req_free(reqs[i]);
    }
}

/* Failures of tries in flight together take the upstream down quietly (no client waits on it,
 * a probe is due), reported only when the probe fails too. */
Test(probe, failures_together_are_a_quiet_down)
{
    burst_fails_0();
    rd_res_up_event_t ev;
    cr_assert_eq(rd_res_upstream_event(res, &ev), 0, "not reported");
    int idx;
    uint64_t next;
    cr_assert_eq(rd_res_probe_due(res, now_ms + RD_RES_PROBE_MS, &idx, &next), 1, "but probed");
    unsigned a0 = asked[0];
    for (int i = 0; i < 20; i++) cr_assert_eq(ask(), RD_RCODE_NOERROR);
    cr_assert_eq(asked[0], a0, "and left alone meanwhile");
    /* it was only slow: the probe answers, nothing is reported, clients use it again */
    alive[0] = true;
    now_ms += RD_RES_PROBE_MS;
    cr_assert_eq(probe(0), RD_RCODE_NOERROR);
    cr_assert_eq(rd_res_upstream_event(res, &ev), 0, "its return is quiet too");
    for (int i = 0; i < 40; i++) cr_assert_eq(ask(), RD_RCODE_NOERROR);
    cr_assert_gt(asked[0], a0 + 1);
    /* again, and this time the probe fails: now the down is reported */
    burst_fails_0();
    cr_assert_eq(rd_res_upstream_event(res, &ev), 0);
    now_ms += RD_RES_PROBE_MS;
    cr_assert_eq(probe(0), RD_RCODE_SERVFAIL);
    cr_assert_eq(rd_res_upstream_event(res, &ev), 1);
    cr_assert_eq(ev.kind, RD_RES_UP_DOWN);
    cr_assert_geq(ev.fails, RD_RES_HOLD_TIMEOUTS);
    cr_assert_eq(rd_res_upstream_event(res, &ev), 0);
    /* and its return is reported */
    alive[0] = true;
    now_ms += 2 * RD_RES_PROBE_MS;
    cr_assert_eq(probe(0), RD_RCODE_NOERROR);
    cr_assert_eq(rd_res_upstream_event(res, &ev), 1);
    cr_assert_eq(ev.kind, RD_RES_UP_BACK);
    cr_assert(ev.by_probe);
}

Test(probe, failed_probes_back_off_to_the_cap)
{
    take_down_0();
    int idx;
    uint64_t next;
    uint32_t want = RD_RES_PROBE_MS;
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 0);
        cr_assert_neq(next, UINT64_MAX);
        now_ms = next;
        cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 1);
        rd_req_t *req = NULL;
        cr_assert_eq(rd_req_new_probe(res, 0, now_ms, &req), 0);
        /* one probe at a time: none due, none startable while it runs */
        cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 0);
        rd_req_t *again = NULL;
        cr_assert_eq(rd_req_new_probe(res, 0, now_ms, &again), RD_ELIMIT);
        cr_assert_eq(run(req), RD_RCODE_SERVFAIL);
        rd_req_free(req);
        want = want * 2 > RD_RES_PROBE_MAX_MS ? RD_RES_PROBE_MAX_MS : want * 2;
        cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 0);
        cr_assert_eq(next, now_ms + want, "probe %d: next in %u ms", i, want);
    }
    cr_assert_eq(want, RD_RES_PROBE_MAX_MS, "the cap was reached");
    unsigned down, back;
    events(0, &down, &back, NULL, NULL);
    cr_assert_eq(down + back, 0, "failed probes change nothing to report");
}

Test(probe, servfail_or_refused_keep_it_down)
{
    take_down_0();
    alive[0] = true;
    int bad[2] = {RD_RCODE_SERVFAIL, RD_RCODE_REFUSED};
    for (int i = 0; i < 2; i++) {
        rcode_of[0] = bad[i];
        (void)probe(0);
        unsigned down, back;
        events(0, &down, &back, NULL, NULL);
        cr_assert_eq(back, 0, "rcode %d does not bring it back", bad[i]);
        unsigned a0 = asked[0];
        for (int j = 0; j < 20; j++) cr_assert_eq(ask(), RD_RCODE_NOERROR);
        cr_assert_eq(asked[0], a0);
    }
    /* NXDOMAIN does: the upstream resolved the question */
    rcode_of[0] = RD_RCODE_NXDOMAIN;
    (void)probe(0);
    unsigned down, back;
    events(0, &down, &back, NULL, NULL);
    cr_assert_eq(back, 1);
}

Test(probe, all_down_clients_still_try_one)
{
    take_down_0();
    alive[1] = false;
    unsigned down = 0;
    for (int i = 0; i < 20 && down == 0; i++) {
        cr_assert_eq(ask(), RD_RCODE_SERVFAIL);
        rd_res_up_event_t ev;
        while (rd_res_upstream_event(res, &ev) == 1) down += ev.upstream == 1;
    }
    cr_assert_eq(down, 1, "upstream 1 went down too");
    /* every upstream is down: each client question still gets one try */
    unsigned before = asked[0] + asked[1];
    cr_assert_eq(ask(), RD_RCODE_SERVFAIL);
    cr_assert_eq(asked[0] + asked[1], before + 1, "one try, not none and not more");
    /* one comes back: a client question that reaches it brings it back */
    alive[1] = true;
    bool got = false;
    for (int i = 0; i < 40 && !got; i++) got = ask() == RD_RCODE_NOERROR;
    cr_assert(got);
    rd_res_up_event_t ev;
    cr_assert_eq(rd_res_upstream_event(res, &ev), 1);
    cr_assert_eq(ev.upstream, 1);
    cr_assert_eq(ev.kind, RD_RES_UP_BACK);
    cr_assert(!ev.by_probe, "a client question's reply");
    /* now clients stay on it, and upstream 0 still waits for its probe */
    unsigned a0 = asked[0];
    for (int i = 0; i < 20; i++) cr_assert_eq(ask(), RD_RCODE_NOERROR);
    cr_assert_eq(asked[0], a0);
}

Test(probe, probe_never_from_cache_nor_failure_cache)
{
    take_down_0();
    /* a failed probe is not remembered for clients (RFC 9520 failure cache) */
    now_ms += RD_RES_PROBE_MS;
    cr_assert_eq(probe(0), RD_RCODE_SERVFAIL);
    uint8_t zone[RD_NAME_MAX];
    name("example.", zone);
    rd_req_t *req = NULL;
    cr_assert_eq(rd_req_new(res, zone, RD_TYPE_SOA, RD_CLASS_IN, false, false, now_ms, &req), 0);
    unsigned a1 = asked[1];
    cr_assert_eq(run(req), RD_RCODE_NOERROR, "the client's SOA question is asked, not failed");
    rd_req_free(req);
    cr_assert_eq(asked[1], a1 + 1);
    /* the SOA question is in the cache now: a probe still goes out */
    alive[0] = true;
    now_ms += 10 * RD_RES_PROBE_MS;
    cr_assert_eq(probe(0), RD_RCODE_NOERROR);
    /* an upstream that is up can be probed too (the shell decides); it stays up */
    cr_assert_eq(probe(1), RD_RCODE_NOERROR);
    cr_assert_eq(soa_asked[0], 2);
}

Test(probe, abandoned_probe_counts_as_failed)
{
    take_down_0();
    now_ms += RD_RES_PROBE_MS;
    rd_req_t *req = NULL;
    cr_assert_eq(rd_req_new_probe(res, 0, now_ms, &req), 0);
    rd_res_action_t act;
    cr_assert_eq(rd_req_step(req, now_ms, &act), RD_RES_SEND);
    cr_assert_eq(which(&act.server), 0);
    rd_req_free(req); /* e.g. the worker stops */
    int idx;
    uint64_t next;
    cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 0);
    cr_assert_eq(next, now_ms + 2 * RD_RES_PROBE_MS, "backed off as after a failure");
    cr_assert_eq(rd_res_probe_due(res, next, &idx, &next), 1);
    cr_assert_eq(idx, 0);
}

Test(probe, bad_arguments)
{
    rd_req_t *req = NULL;
    cr_assert_eq(rd_req_new_probe(res, -1, now_ms, &req), RD_EINVAL);
    cr_assert_eq(rd_req_new_probe(res, 2, now_ms, &req), RD_EINVAL);
    cr_assert_eq(rd_req_new_probe(NULL, 0, now_ms, &req), RD_EINVAL);
    cr_assert_null(req);
    /* a context without forward zones has nothing to probe */
    rd_res_t *plain = NULL;
    cr_assert_eq(rd_res_new(cache, hints, sizeof(hints) - 1, NULL, xorshift, NULL, &plain), 0);
    cr_assert_eq(rd_req_new_probe(plain, 0, now_ms, &req), RD_EINVAL);
    int idx;
    uint64_t next;
    cr_assert_eq(rd_res_probe_due(plain, now_ms, &idx, &next), 0);
    cr_assert_eq(next, UINT64_MAX);
    rd_res_up_event_t ev;
    cr_assert_eq(rd_res_upstream_event(plain, &ev), 0);
    rd_res_free(plain);
}

/* The first step of a new question to upstream 0 (other names are freed): its request, its
 * action. */
static rd_req_t *pending_to_0(rd_res_action_t *act)
{
    static int k;
    for (int i = 0; i < 200; i++) {
        char text[32];
        snprintf(text, sizeof(text), "held%d.example.", k++);
        uint8_t qn[RD_NAME_MAX];
        name(text, qn);
        rd_req_t *req = NULL;
        cr_assert_eq(rd_req_new(res, qn, RD_TYPE_A, RD_CLASS_IN, false, false, now_ms, &req), 0);
        cr_assert_eq(rd_req_step(req, now_ms, act), RD_RES_SEND);
        if (which(&act->server) == 0) return req;
        rd_req_free(req);
    }
    cr_assert_fail("upstream 0 never chosen");
    return NULL;
}

/* A probe in flight when a client's reply brings the upstream back, which then goes down again:
 * the old probe's end must not touch the new probe's state (one probe per upstream at a time,
 * no timer armed while it runs). */
Test(probe, stale_probe_after_client_brought_it_back)
{
    rd_res_action_t cact;
    rd_req_t *client = pending_to_0(&cact); /* sent while it was up, answered later */
    take_down_0();
    now_ms += RD_RES_PROBE_MS;
    int idx;
    uint64_t next;
    cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 1);
    rd_req_t *p1 = NULL;
    cr_assert_eq(rd_req_new_probe(res, 0, now_ms, &p1), 0);
    rd_res_action_t a1;
    cr_assert_eq(rd_req_step(p1, now_ms, &a1), RD_RES_SEND);
    cr_assert_eq(which(&a1.server), 0);
    /* the client's reply arrives: upstream 0 is back (by a client question) */
    uint8_t out[512];
    size_t len = reply(0, &cact, out, sizeof(out));
    cr_assert_eq(rd_req_reply(client, cact.token, &cact.server, out, len, now_ms), 0);
    rd_req_free(client);
    unsigned down, back;
    bool by_probe = true;
    events(0, &down, &back, &by_probe, NULL);
    cr_assert_eq(back, 1);
    cr_assert(!by_probe);
    /* it goes down again, its next probe starts while the first is still out */
    now_ms += RD_RES_HOLD_MS + 1000;
    take_down_0();
    now_ms += RD_RES_PROBE_MS;
    cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 1);
    rd_req_t *p2 = NULL;
    cr_assert_eq(rd_req_new_probe(res, 0, now_ms, &p2), 0);
    rd_res_action_t a2;
    cr_assert_eq(rd_req_step(p2, now_ms, &a2), RD_RES_SEND);
    /* the first probe times out: that says nothing about the second one, still running */
    now_ms += 10;
    cr_assert_eq(rd_req_timeout(p1, a1.token, now_ms), 0);
    rd_res_action_t tmp;
    (void)rd_req_step(p1, now_ms, &tmp);
    rd_req_free(p1);
    cr_assert_eq(rd_res_probe_due(res, now_ms + 600000, &idx, &next), 0,
                 "a probe of upstream 0 is running: none due");
    cr_assert_eq(next, UINT64_MAX, "no timer while the probe runs");
    rd_req_t *p3 = NULL;
    cr_assert_eq(rd_req_new_probe(res, 0, now_ms, &p3), RD_ELIMIT, "one probe at a time");
    /* the second probe's answer brings it back */
    len = reply(0, &a2, out, sizeof(out));
    cr_assert_eq(rd_req_reply(p2, a2.token, &a2.server, out, len, now_ms), 0);
    rd_req_free(p2);
    events(0, &down, &back, &by_probe, NULL);
    cr_assert_eq(back, 1);
    cr_assert(by_probe);
    cr_assert_eq(rd_res_probe_due(res, now_ms + 600000, &idx, &next), 0);
    cr_assert_eq(next, UINT64_MAX);
}

/* Hostile probe replies (wrong ID, another question, cut short, garbage after a good header)
 * never bring an upstream back; each probe ends as failed and the next one backs off. */
Test(probe, bad_probe_replies_keep_it_down)
{
    take_down_0();
    alive[0] = true;
    uint32_t want = RD_RES_PROBE_MS;
    for (int mode = 0; mode < 4; mode++) {
        int idx;
        uint64_t next;
        cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 0);
        now_ms = next;
        rd_req_t *req = NULL;
        cr_assert_eq(rd_req_new_probe(res, 0, now_ms, &req), 0);
        rd_res_action_t act;
        cr_assert_eq(rd_req_step(req, now_ms, &act), RD_RES_SEND);
        uint8_t out[512];
        size_t len = reply(0, &act, out, sizeof(out));
        int r;
        if (mode == 0) {
            out[0] ^= 0x5a; /* ID */
            r = rd_req_reply(req, act.token, &act.server, out, len, now_ms + 5);
            cr_assert_eq(r, RD_RES_IGNORED);
        } else if (mode == 1) {
            out[RD_HDR_LEN + 1] ^= 0x01; /* a letter of the question's name */
            r = rd_req_reply(req, act.token, &act.server, out, len, now_ms + 5);
            cr_assert_eq(r, RD_RES_IGNORED);
        } else if (mode == 2) {
            r = rd_req_reply(req, act.token, &act.server, out, RD_HDR_LEN + 3, now_ms + 5);
            cr_assert_eq(r, RD_RES_IGNORED);
        } else {
            /* a good question, then an answer record that is garbage */
            out[7] = 1;
            memset(out + len, 0xff, 11);
            r = rd_req_reply(req, act.token, &act.server, out, len + 11, now_ms + 5);
            cr_assert_eq(r, 0, "consumed as malformed: %d", r);
        }
        if (r == RD_RES_IGNORED) {
            now_ms += act.timeout_ms;
            cr_assert_eq(rd_req_timeout(req, act.token, now_ms), 0);
        }
        rd_res_action_t more;
        cr_assert_eq(rd_req_step(req, now_ms, &more), RD_RES_DONE, "a probe is one try");
        rd_req_free(req);
        unsigned down, back;
        events(0, &down, &back, NULL, NULL);
        cr_assert_eq(back, 0, "mode %d brought it back", mode);
        want = want * 2 > RD_RES_PROBE_MAX_MS ? RD_RES_PROBE_MAX_MS : want * 2;
        cr_assert_eq(rd_res_probe_due(res, now_ms, &idx, &next), 0);
        cr_assert_eq(next, now_ms + want, "mode %d: backed off", mode);
        unsigned a0 = asked[0];
        for (int j = 0; j < 10; j++) cr_assert_eq(ask(), RD_RCODE_NOERROR);
        cr_assert_eq(asked[0], a0, "still down for clients");
    }
}

/* A tcp:// upstream (replies over TCP give no RTT sample): a probe's answer brings it back into
 * client service at once, not after the server table's hold (RD_RES_HOLD_MS) runs out. */
Test(probe, tcp_upstream_back_in_service_at_once)
{
    rd_res_free(res);
    res = NULL;
    rd_conf_upstream_t u[2] = {{.proto = RD_UP_TCP, .addr = up_addr(0), .uri = "tcp://192.0.2.1"},
                               {.proto = RD_UP_UDP, .addr = up_addr(1), .uri = "udp://192.0.2.2"}};
    rd_conf_forward_t f = {.upstreams = u, .nupstreams = 2};
    name("example.", f.name);
    rd_res_opts_t o = {.forwards = &f, .nforwards = 1};
    cr_assert_eq(rd_res_new(cache, hints, sizeof(hints) - 1, &o, xorshift, NULL, &res), 0);
    take_down_0();
    alive[0] = true;
    now_ms += RD_RES_PROBE_MS;
    cr_assert_eq(probe(0), RD_RCODE_NOERROR);
    unsigned down, back;
    events(0, &down, &back, NULL, NULL);
    cr_assert_eq(back, 1);
    unsigned a0 = asked[0];
    for (int i = 0; i < 40; i++) cr_assert_eq(ask(), RD_RCODE_NOERROR);
    cr_assert_gt(asked[0], a0, "back in service, but clients do not reach it");
}
