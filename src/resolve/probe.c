/* Health of forward upstreams (issue 8): "failures move traffic to the others, a dead
 * upstream is probed back in the background". An upstream goes down when the server table
 * holds it down (RD_RES_HOLD_TIMEOUTS failed tries in a row); clients then leave it alone
 * while another upstream of the zone is up, and it comes back when it answers: normally a
 * probe, a request without a client that the shell starts when rd_res_probe_due says so.
 * The rules are in include/resolverd/resolve.h; no I/O here (house rule 7). */
#include <stdlib.h>

#include "resolve/iter_int.h"

/* The state of upstream up, made (all up) on first need: most contexts never see a failure.
 * NULL when up is no upstream or memory ran out (then nothing is ever down: as before). */
static rd__up_health_t *health(rd_res_t *res, int up)
{
    if (up < 0 || (unsigned)up >= res->nups) return NULL;
    if (!res->uph && !(res->uph = calloc(res->nups, sizeof(*res->uph)))) return NULL;
    return &res->uph[up];
}

static const rd__up_health_t *health_of(const rd_res_t *res, int up)
{
    if (!res->uph || up < 0 || (unsigned)up >= res->nups) return NULL;
    return &res->uph[up];
}

/* A probe failed (no reply, a bad one, or abandoned): wait twice as long for the next. A
 * quiet down (see rd__up_try_failed) is now confirmed: reported. */
static void probe_failed(rd__up_health_t *h, uint64_t now_ms)
{
    if (h->state != RD__UP_PROBING) return;
    h->state = RD__UP_DOWN;
    uint64_t iv = (uint64_t)h->interval_ms * 2;
    h->interval_ms = (uint32_t)(iv > RD_RES_PROBE_MAX_MS ? RD_RES_PROBE_MAX_MS : iv);
    h->next_ms = now_ms + h->interval_ms;
    if (h->quiet) {
        h->quiet = false;
        h->report |= RD__UP_REPORT_DOWN;
    }
}

/* Whether req's last try was the probe of its upstream (a probe's sub goals, e.g. the lookup
 * of an https:// upstream's host, ask others). */
static bool probe_try(const rd_req_t *req)
{
    return req->probe && req->up == req->probe_up;
}

/* Whether req is the latest probe of its upstream, the one PROBING waits for. */
static bool probe_current(const rd_req_t *req, const rd__up_health_t *h)
{
    return req->probe && req->probe_seq == h->probe_seq;
}

void rd__up_try_failed(rd_req_t *req, uint64_t now_ms)
{
    rd__up_health_t *h = health(req->res, req->up);
    if (!h) return;
    if (probe_try(req)) {
        if (probe_current(req, h)) probe_failed(h, now_ms);
        return;
    }
    if (h->state != RD__UP_OK) return;
    /* Failures in a row, each of a try sent after the one before failed: the upstream did not
     * answer several attempts over time. */
    if (req->sent_ms >= h->last_fail_ms) {
        if (h->run < UINT16_MAX) h->run++;
        h->last_fail_ms = now_ms;
    }
    /* Down when the server table holds it down (RD_RES_HOLD_TIMEOUTS timeouts in a row): no
     * client waits on it any more, and a probe finds out when it is back. Timeouts of tries
     * in flight together (a burst meeting an upstream that is slow, stalled for a moment or
     * still in its handshake) count one each there, so unless the failures were also
     * attempts over time the down is quiet: reported only if the first probe fails too,
     * and not at all when it answers (no warning for a moment of slowness). */
    unsigned n = rd__infra_timeouts(req->res->infra, &req->target, now_ms);
    if (n < RD_RES_HOLD_TIMEOUTS) return;
    h->state = RD__UP_DOWN;
    h->fails = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
    h->quiet = h->run < RD_RES_HOLD_TIMEOUTS;
    if (!h->quiet) h->report |= RD__UP_REPORT_DOWN;
    h->run = 0;
    h->interval_ms = RD_RES_PROBE_MS;
    h->next_ms = now_ms + RD_RES_PROBE_MS;
}

void rd__up_heard(rd_req_t *req, int rcode, uint64_t now_ms)
{
    rd_res_t *res = req->res;
    /* nothing was ever recorded: nothing to clear (no allocation on the hot path) */
    if (!res->uph || req->up < 0 || (unsigned)req->up >= res->nups) return;
    rd__up_health_t *h = &res->uph[req->up];
    h->run = 0; /* whatever it said, it is alive */
    /* RFC 1035 s4.1.1: NOERROR and NXDOMAIN say it resolved the question; SERVFAIL (its own
     * resolution fails), REFUSED (it does not serve us) and the rest do not make it useful. */
    bool good = rcode == RD_RCODE_NOERROR || rcode == RD_RCODE_NXDOMAIN;
    if (good) {
        if (h->state == RD__UP_OK) return;
        h->state = RD__UP_OK;
        h->by_probe = probe_try(req);
        if (!h->quiet) h->report |= RD__UP_REPORT_BACK;
        h->quiet = false;
        return;
    }
    if (probe_try(req) && probe_current(req, h)) probe_failed(h, now_ms);
}

bool rd__up_is_down(const rd_req_t *req, const rd__cut_t *cut, unsigned i)
{
    if (!cut->forward || req->probe || i >= cut->nns) return false;
    const rd__up_health_t *h = health_of(req->res, cut->ns[i].up);
    return h && h->state != RD__UP_OK;
}

int rd__probe_goal(rd_req_t *req, rd__goal_t *g, uint64_t now_s)
{
    rd_res_t *res = req->res;
    if (rd_fails_assert(req->probe_zone < res->npzones)) return RD_EBUG;
    g->cut = rd_arena_alloc(&req->arena, sizeof(*g->cut));
    if (!g->cut) return RD_ENOMEM;
    rd__cut_t *cut = g->cut;
    rd__res_cut_from_policy(req, cut, &res->pzones[req->probe_zone], now_s, false);
    unsigned k = 0;
    for (unsigned i = 0; i < cut->nns; i++)
        if (cut->ns[i].up == req->probe_up) cut->ns[k++] = cut->ns[i];
    cut->nns = k;
    cut->round = RD_RES_RETRY_ROUNDS; /* one try: the next probe is the retry */
    cut->probed = true;               /* no held-down fallback either */
    cut->forward_first = false;       /* a probe never recurses */
    g->no_min = true;                 /* the whole question, to a recursive upstream */
    g->state = RD__G_QUERY;
    return 0;
}

void rd__probe_end(rd_req_t *req)
{
    if (!req->probe) return;
    rd__up_health_t *h = health(req->res, req->probe_up);
    if (h && probe_current(req, h))
        probe_failed(h, req->sent_ms > req->start_ms ? req->sent_ms : req->start_ms);
}

int rd_res_upstream_event(rd_res_t *res, rd_res_up_event_t *ev)
{
    if (!res || !ev || !res->uph) return 0;
    for (unsigned i = 0; i < res->nups; i++) {
        rd__up_health_t *h = &res->uph[i];
        if (!h->report) continue;
        ev->upstream = (int)i;
        ev->fails = h->fails;
        ev->by_probe = h->by_probe;
        /* in the order they happened: a down not reported yet came before a back */
        if (h->report & RD__UP_REPORT_DOWN) {
            ev->kind = RD_RES_UP_DOWN;
            h->report &= (uint8_t)~RD__UP_REPORT_DOWN;
        } else {
            ev->kind = RD_RES_UP_BACK;
            h->report = 0;
        }
        return 1;
    }
    return 0;
}

int rd_res_probe_due(rd_res_t *res, uint64_t now_ms, int *index, uint64_t *next_ms)
{
    *index = -1;
    *next_ms = UINT64_MAX;
    if (!res || !res->uph) return 0;
    int due = 0;
    for (unsigned i = 0; i < res->nups; i++) {
        const rd__up_health_t *h = &res->uph[i];
        if (h->state != RD__UP_DOWN) continue;
        if (!due && h->next_ms <= now_ms) {
            *index = (int)i;
            due = 1;
        } else if (h->next_ms < *next_ms) {
            *next_ms = h->next_ms;
        }
    }
    return due;
}

/* The forward zone that lists upstream up (its copy belongs to exactly one). */
static int zone_of(const rd_res_t *res, int up)
{
    for (unsigned z = 0; z < res->npzones; z++) {
        const rd__pzone_t *pz = &res->pzones[z];
        if (!pz->forward) continue;
        for (unsigned i = 0; i < pz->nsrv; i++)
            if (pz->up[i] == up) return (int)z;
    }
    return -1;
}

int rd_req_new_probe(rd_res_t *res, int index, uint64_t now_ms, rd_req_t **out)
{
    if (!res || !out || index < 0 || (unsigned)index >= res->nups) return RD_EINVAL;
    int z = zone_of(res, index);
    if (z < 0 || z > UINT16_MAX) return RD_EINVAL;
    rd__up_health_t *h = health(res, index);
    if (!h) return RD_ENOMEM;
    if (h->state == RD__UP_PROBING) return RD_ELIMIT;
    rd_req_t *req = NULL;
    int r =
        rd_req_new(res, res->pzones[z].name, RD_TYPE_SOA, RD_CLASS_IN, false, false, now_ms, &req);
    if (r) {
        if (h->state == RD__UP_DOWN) {
            h->state = RD__UP_PROBING; /* so that it counts as a failed probe */
            probe_failed(h, now_ms);
        }
        return r;
    }
    req->probe = true;
    req->probe_up = (int16_t)index;
    req->probe_zone = (uint16_t)z;
    req->probe_seq = ++h->probe_seq; /* wraps: only equality matters */
    if (h->state == RD__UP_DOWN) h->state = RD__UP_PROBING;
    *out = req;
    return 0;
}
