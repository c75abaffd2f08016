/* Upstream DoT/DoH connections of one worker (issue 8): pools per upstream, the connection
 * state machine (TCP connect, TLS handshake, open, closing), DNS framing for DoT (RFC 7858
 * s3.3: pipelined queries, replies out of order, matched by ID and question) and the glue to
 * the HTTP/2 layer for DoH (upstream_doh.c). All of it lives in the worker's thread: the set
 * of pools is thread-local and dies with the worker's stop (rd_upstream_shutdown). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "net/upstream_int.h"
#include "resolverd/msg.h"
#include "wire/cursor.h"

#define RX_CAP (2 + 65535) /* one whole DoT frame */

struct up_pool {
    up_pool_t *next;
    rd_conf_upstream_t u; /* own copy: the engine context it came from may be replaced */
    rd_addr_t addr;       /* where its connections go: u's address, or what its host resolved
                           * to (issue 8: one pool per address, so a new address opens new
                           * connections while the old ones idle out) */
    char authority[300];  /* DoH :authority (RFC 9113 s8.3.1): host[:port] */
    rd__up_conn_t *conns;
    unsigned nconns;     /* until their memory is freed (closing ones included) */
    void *session;       /* TLS session to resume (after a first response) */
    uint64_t hold_until; /* after a failed connection: fail at once until then */
    int hold_err;
};

typedef struct {
    uv_loop_t *loop;
    rd_tls_ctx_t *cctx; /* client context of this worker */
    char *ca_file;      /* what cctx trusts (NULL: the system store) */
    bool have_cctx;
    up_pool_t *pools;
    unsigned npools;
    unsigned nconns;
    bool stopping;
} up_set_t;

static _Thread_local up_set_t *tl_set;
/* rd_upstream_shutdown ran: this worker is stopping (streams may still bring queries while
 * they drain): no new set, no new connection */
static _Thread_local bool tl_stopped;

static void conn_close(rd__up_conn_t *c);
static void pump(rd__up_conn_t *c);
static void conn_fail_later(rd__up_conn_t *c);
static rd__up_conn_t *pick_conn(up_set_t *s, up_pool_t *p, const rd__up_conn_t *avoid);

static char *dup_str(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL) == (b == NULL) && (!a || strcmp(a, b) == 0);
}

const rd_conf_upstream_t *rd__up_pool_conf(const up_pool_t *p)
{
    return &p->u;
}

const char *rd__up_authority(const up_pool_t *p)
{
    return p->authority;
}

/* ---- the worker's set of pools ---- */

static void set_free(up_set_t *s)
{
    while (s->pools) {
        up_pool_t *p = s->pools;
        s->pools = p->next;
        rd_conf_upstream_free(&p->u);
        rd_tls_session_free(p->session);
        free(p);
    }
    if (s->have_cctx) rd_tls_ctx_release(s->cctx);
    free(s->ca_file);
    free(s);
    if (tl_set == s) tl_set = NULL;
}

static up_set_t *set_get(rd_worker_t *w)
{
    if (tl_stopped) return NULL;
    if (!tl_set) {
        tl_set = calloc(1, sizeof(*tl_set));
        if (tl_set) tl_set->loop = &w->loop;
    }
    return tl_set;
}

/* The client context for the trust anchors configured now (a reload may change tls-ca-file:
 * new connections use the new one, open ones keep theirs). */
static int ensure_cctx(up_set_t *s, const char *ca_file)
{
    if (s->have_cctx && same_str(s->ca_file, ca_file)) return 0;
    rd_tls_ctx_t *n = NULL;
    char *f = NULL;
    if (ca_file && !(f = dup_str(ca_file))) return RD_ENOMEM;
    int r = rd_tls_client_ctx_new(ca_file, &n);
    if (r) {
        free(f);
        return r;
    }
    if (s->have_cctx) rd_tls_ctx_release(s->cctx);
    /* sessions verified under the old trust anchors are not resumed under the new ones */
    for (up_pool_t *p = s->pools; p; p = p->next) {
        rd_tls_session_free(p->session);
        p->session = NULL;
    }
    free(s->ca_file);
    s->cctx = n;
    s->ca_file = f;
    s->have_cctx = true;
    return 0;
}

static void set_authority(up_pool_t *p)
{
    const char *h = p->u.auth_name ? p->u.auth_name : "";
    bool v6 = strchr(h, ':') != NULL;
    uint16_t port = p->u.addr.port ? p->u.addr.port : 443; /* the URL's */
    if (port == 443)
        snprintf(p->authority, sizeof(p->authority), v6 ? "[%s]" : "%s", h);
    else
        snprintf(p->authority, sizeof(p->authority), v6 ? "[%s]:%u" : "%s:%u", h, port);
}

static bool same_addr(const rd_addr_t *a, const rd_addr_t *b)
{
    return a->family == b->family && a->port == b->port &&
           memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

static up_pool_t *pool_get(up_set_t *s, const rd_conf_upstream_t *u, const rd_addr_t *addr)
{
    for (up_pool_t *p = s->pools; p; p = p->next)
        if (same_addr(&p->addr, addr) && rd_conf_upstream_eq(&p->u, u)) return p;
    up_pool_t *p = NULL;
    if (s->npools >= RD_UP_POOLS_MAX) {
        /* full: take over a pool without connections (an upstream a reload removed) */
        p = s->pools;
        while (p && p->nconns > 0) p = p->next;
        if (!p) return NULL;
        rd_conf_upstream_free(&p->u);
        rd_tls_session_free(p->session);
        up_pool_t *next = p->next;
        memset(p, 0, sizeof(*p));
        p->next = next;
    } else {
        if (!(p = calloc(1, sizeof(*p)))) return NULL;
        p->next = s->pools;
        s->pools = p;
        s->npools++;
    }
    if (rd_conf_upstream_copy(&p->u, u) != 0)
        return NULL; /* an empty pool matches nothing and is taken over later */
    p->addr = *addr;
    set_authority(p);
    return p;
}

/* ---- connections: the bottom (TCP) layer ---- */

typedef struct {
    uv_write_t req;
    rd__up_conn_t *c;
    size_t len;
    uint8_t data[];
} wreq_t;

static void on_written(uv_write_t *req, int status)
{
    (void)status; /* a failed write shows as a read error */
    wreq_t *wr = (wreq_t *)req;
    wr->c->write_pending -= wr->len;
    free(wr);
}

/* The TLS layer's ciphertext: straight to the socket, the rest queued (bounded). */
static int raw_send(void *ctx, const uint8_t *data, size_t len)
{
    rd__up_conn_t *c = ctx;
    if (c->state == UC_CLOSING) return RD_EIO;
    size_t done = 0;
    if (c->write_pending == 0) {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
        int n = uv_try_write((uv_stream_t *)&c->h, &b, 1);
        if (n < 0 && n != UV_EAGAIN) return RD_EIO;
        if (n > 0) done = (size_t)n;
    }
    if (done == len) return 0;
    size_t rest = len - done;
    if (c->write_pending + rest > RD_UP_WRITE_MAX) return RD_EIO;
    wreq_t *wr = malloc(sizeof(*wr) + rest);
    if (!wr) return RD_ENOMEM;
    wr->c = c;
    wr->len = rest;
    memcpy(wr->data, data + done, rest);
    uv_buf_t b = uv_buf_init((char *)wr->data, (unsigned)rest);
    if (uv_write(&wr->req, (uv_stream_t *)&c->h, &b, 1, on_written) != 0) {
        free(wr);
        return RD_EIO;
    }
    c->write_pending += rest;
    return 0;
}

/* The DNS header's ID is the first two octets (RFC 1035 s4.1.1). */
static void set_id(uint8_t *wire, uint16_t id)
{
    wire[0] = (uint8_t)(id >> 8);
    wire[1] = (uint8_t)id;
}

static void free_q(rd_upq_t *q)
{
    free(q->resp);
    free(q);
}

/* Bytes still move on it: replies come, streams finish (open or, DoH, draining). */
static bool conn_live(const rd__up_conn_t *c)
{
    return c->state == UC_OPEN || c->state == UC_DRAINING;
}

static void link_q(rd__up_conn_t *c, rd_upq_t *q)
{
    q->c = c;
    q->prev = NULL;
    q->next = c->qs;
    if (c->qs) c->qs->prev = q;
    c->qs = q;
    c->nq++;
}

static void unlink_q(rd__up_conn_t *c, rd_upq_t *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        c->qs = q->next;
    if (q->next) q->next->prev = q->prev;
    q->prev = q->next = NULL;
    c->nq--;
}

static void on_handle_closed(uv_handle_t *h)
{
    rd__up_conn_t *c = h->data;
    if (--c->open_handles > 0) return;
    up_pool_t *p = c->pool;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    p->nconns--;
    rd__doh_free(c);
    while (c->qs) {
        rd_upq_t *q = c->qs;
        unlink_q(c, q);
        free_q(q);
    }
    rd_tls_free(c->tls);
    free(c->rx);
    free(c);
    up_set_t *s = tl_set;
    if (s && --s->nconns == 0 && s->stopping) set_free(s);
}

/* Handles go; memory stays until their close callbacks (safe from inside any layer). */
static void conn_close(rd__up_conn_t *c)
{
    if (c->state == UC_CLOSING) return;
    c->state = UC_CLOSING;
    c->reading = false;
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->h, on_handle_closed);
}

static void on_timer(uv_timer_t *t);

static void set_timer(rd__up_conn_t *c, int mode, uint64_t ms)
{
    c->timer_mode = mode;
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* RFC 7858 s3.4: keep an idle connection for a while, then close it; a draining one (the
 * server sent GOAWAY) has nothing left to wait for once its streams are done. */
static void idle_check(rd__up_conn_t *c)
{
    if (!conn_live(c) || c->nq > 0 || c->doomed) return;
    set_timer(c, UT_IDLE, c->state == UC_DRAINING ? 0 : RD_UP_IDLE_MS);
}

/* Queries are outstanding: the upstream must say something within RD_UP_STALL_MS (restarted
 * by everything it sends), or the connection is taken for dead (a stopped server, a
 * middlebox that dropped the flow) and the next query opens a new one. */
static void stall_watch(rd__up_conn_t *c, bool restart)
{
    if (!conn_live(c) || c->doomed || c->nq == 0) return;
    if (restart || c->timer_mode != UT_STALL) set_timer(c, UT_STALL, RD_UP_STALL_MS);
}

static void log_failure(const up_pool_t *p, const char *why)
{
    char at[64] = "";
    if (p->u.addr.family == 0) {
        /* its host was looked up: which address failed matters */
        char a[56];
        if (rd_addr_to_text(&p->addr, a, sizeof(a)) == 0) snprintf(at, sizeof(at), " at %s", a);
    }
    rd_log_warn("forward upstream %s%s: %s", p->u.uri ? p->u.uri : "?", at, why);
}

/* DoT: an ID unique on c (RFC 7858 s3.3: replies are told apart by it), from want on. */
static int dot_assign_id(rd__up_conn_t *c, rd_upq_t *q, uint16_t want)
{
    uint16_t id = want;
    for (int tries = 0;; tries++) {
        rd_upq_t *x = c->qs;
        while (x && x->id != id) x = x->next;
        if (!x) break;
        if (tries == 64) return RD_ESPACE;
        id = (uint16_t)rd_random32(NULL);
    }
    q->id = id;
    set_id(q->msg + 2, id);
    return 0;
}

static int send_q(rd__up_conn_t *c, rd_upq_t *q);

/* Where a query that lost its connection goes again: a connection of the same upstream other
 * than avoid, with room (opening one counts against the pool's bound like any other), or
 * NULL. A recent failed connect holds (RD_UP_FAIL_HOLD_MS): no reconnect storm. */
static rd__up_conn_t *resend_conn(up_pool_t *p, const rd__up_conn_t *avoid)
{
    up_set_t *s = tl_set;
    if (!s || s->stopping || tl_stopped || uv_now(s->loop) < p->hold_until) return NULL;
    rd__up_conn_t *c = pick_conn(s, p, avoid);
    return c && c->nq < RD_UP_CONN_INFLIGHT ? c : NULL;
}

/* q goes out again on to (taken off from, if it is still on one): the same object, so the
 * engine's handle and its try timer stay as they are (the engine's timeout stays the bound).
 * Once only: q->resent. */
static int resend_on(rd__up_conn_t *to, rd__up_conn_t *from, rd_upq_t *q)
{
    if (to->pool->u.proto == RD_UP_TLS && dot_assign_id(to, q, q->orig_id) != 0) return RD_ESPACE;
    if (from) unlink_q(from, q);
    free(q->resp);
    q->resp = NULL;
    q->resp_len = 0;
    q->status = 0;
    q->ctype_ok = false;
    q->off = 0;
    q->sid = -1;
    q->sent = false;
    q->resent = true;
    link_q(to, q);
    if (to->state == UC_OPEN) { /* else it goes when to opens (on_open) */
        if (send_q(to, q) != 0 || (to->h2 && rd__doh_flush(to) != 0))
            conn_fail_later(to);
        else
            stall_watch(to, false);
    }
    return 0;
}

/* May q go out again after its connection closed under it? Only if someone still waits for
 * it, only once, and (DoH after GOAWAY) not if its stream is one the server said it took:
 * RFC 9113 s6.8, streams up to last-stream-id "might have been processed". */
static bool resendable(const rd_upq_t *q, int32_t goaway_sid)
{
    return q->cb && !q->resent && !(q->sid >= 0 && q->sid <= goaway_sid);
}

/* The one way a connection ends with queries on it. lost: the upstream closed it under them
 * (not a failed connect, handshake, stall, protocol error or our own stop). */
static void conn_end(rd__up_conn_t *c, int err, const char *why, bool lost)
{
    if (c->state == UC_CLOSING) return;
    up_pool_t *p = c->pool;
    bool was_live = conn_live(c);
    int32_t goaway_sid = c->state == UC_DRAINING ? c->goaway_sid : -1;
    /* A connection that never opened (refused, timed out, failed verification) holds the
     * upstream down briefly: a burst of queries does not become a burst of handshakes and
     * log lines. One that was open and closes (idle timeout of the server) is no failure. */
    if (!was_live || err == RD_UP_ERR_AUTH) {
        p->hold_until = uv_now(c->h.loop) + RD_UP_FAIL_HOLD_MS;
        p->hold_err = err;
    }
    rd_upq_t *list = c->qs;
    c->qs = NULL;
    c->nq = 0;
    for (rd_upq_t *q = list; q; q = q->next) {
        q->c = NULL; /* rd_upstream_cancel: leave it */
        rd__doh_detach(c, q);
    }
    conn_close(c);
    /* RFC 7766 s6.2.1, RFC 7858 s3.4: a server may close an idle connection at any time, and
     * the queries it left unanswered are sent again, once, on another connection of the same
     * upstream (a new one if need be), without waiting for their try's timeout. First all of
     * them are placed (no callback runs meanwhile), then the others end. */
    rd_upq_t *failed = NULL;
    unsigned nresent = 0, nfailed = 0;
    while (list) {
        rd_upq_t *q = list;
        list = q->next;
        q->prev = q->next = NULL;
        rd__up_conn_t *to = NULL;
        if (lost && was_live && resendable(q, goaway_sid) && (to = resend_conn(p, c)) &&
            resend_on(to, NULL, q) == 0) {
            nresent++;
            continue;
        }
        if (q->cb) nfailed++;
        q->next = failed;
        failed = q;
    }
    if (why && nfailed > 0) {
        char line[200];
        if (nresent > 0)
            snprintf(line, sizeof(line), "%s (%u unanswered queries sent again)", why, nresent);
        log_failure(p, nresent > 0 ? line : why);
    } else if (why && nresent > 0) {
        rd_log_debug("forward upstream %s: %s: %u unanswered queries sent again", p->u.uri, why,
                     nresent);
    }
    /* the queries end after the connection is out of reach: their callbacks may start new
     * ones, which must not land on it */
    while (failed) {
        rd_upq_t *q = failed;
        failed = q->next;
        if (q->cb) q->cb(q->ctx, NULL, 0, err);
        free_q(q);
    }
}

void rd__up_conn_fail(rd__up_conn_t *c, int err, const char *why)
{
    conn_end(c, err, why, false);
}

void rd__up_conn_lost(rd__up_conn_t *c, const char *why)
{
    conn_end(c, RD_UP_ERR_CONN, why, true);
}

bool rd__up_resend(rd__up_conn_t *c, rd_upq_t *q)
{
    if (!conn_live(c) || !q->cb || q->resent) return false;
    rd__up_conn_t *to = resend_conn(c->pool, c);
    if (!to || resend_on(to, c, q) != 0) return false;
    rd_log_debug("forward upstream %s: stream refused, query sent again", c->pool->u.uri);
    idle_check(c);
    return true;
}

void rd__up_goaway(rd__up_conn_t *c, int32_t last_sid)
{
    if (!conn_live(c)) return;
    /* RFC 9113 s6.8: no new stream on it; streams above last_sid were not processed (nghttp2
     * closes them with REFUSED_STREAM: rd__up_resend), the others may still be answered */
    if (c->state == UC_OPEN || last_sid < c->goaway_sid) c->goaway_sid = last_sid;
    c->state = UC_DRAINING;
    rd_log_debug("forward upstream %s: GOAWAY (last stream %d): draining", c->pool->u.uri,
                 (int)last_sid);
}

/* From a path that may be inside a caller's stack (a write in rd_upstream_query): the
 * failure is delivered from the loop. */
static void conn_fail_later(rd__up_conn_t *c)
{
    if (c->state == UC_CLOSING || c->doomed) return;
    c->doomed = true;
    set_timer(c, UT_DOOM, 0);
}

static void on_timer(uv_timer_t *t)
{
    rd__up_conn_t *c = t->data;
    switch (c->timer_mode) {
    case UT_DOOM:
        /* a reset (EPIPE, ECONNRESET) shows here first when we write: the upstream closed */
        rd__up_conn_lost(c, "write to the upstream failed");
        return;
    case UT_HANDSHAKE:
        rd__up_conn_fail(c, RD_UP_ERR_CONN, "connect or TLS handshake timed out");
        return;
    case UT_STALL:
        if (c->nq > 0) {
            rd__up_conn_fail(c, RD_UP_ERR_CONN,
                             "nothing received for a while with queries outstanding: "
                             "connection dropped");
            return;
        }
        idle_check(c);
        return;
    case UT_IDLE:
        if (c->nq > 0 || !conn_live(c)) return;
        /* idle: close_notify (and GOAWAY) as a courtesy, then the socket */
        if (c->h2) {
            rd__doh_goaway(c);
            (void)rd__doh_flush(c);
        }
        rd_tls_shutdown(c->tls);
        conn_close(c);
        return;
    }
}

/* ---- queries ---- */

static void end_q(rd__up_conn_t *c, rd_upq_t *q, const uint8_t *wire, size_t len, int err)
{
    unlink_q(c, q);
    if (q->cb) q->cb(q->ctx, wire, len, err);
    free_q(q);
    idle_check(c);
}

void rd__up_end(rd__up_conn_t *c, rd_upq_t *q, int err)
{
    end_q(c, q, NULL, 0, err);
}

/* The reply's question must be the query's (RFC 7858 s3.3: replies are matched by ID and
 * question; RFC 8484 s4.1: by stream, the question checked all the same). */
typedef struct {
    uint8_t name[RD_NAME_MAX];
    uint16_t type, rclass;
} reply_q_t;

/* The question of a reply (QR set, exactly one question), or false. */
static bool reply_question(const uint8_t *wire, size_t len, reply_q_t *rq)
{
    rd_msg_t m;
    if (rd_msg_parse_question(&m, wire, len) != 0 || !(m.flags & RD_F_QR) ||
        m.count[RD_SEC_QD] != 1)
        return false;
    const rd_rr_t *rr = rd_msg_rr(&m, RD_SEC_QD, 0);
    size_t pos = RD_HDR_LEN;
    rq->type = rr->type;
    rq->rclass = rr->rclass;
    return rd_name_unpack(wire, len, &pos, rq->name, NULL) == 0;
}

static bool same_question(const rd_upq_t *q, const reply_q_t *rq)
{
    return rq->type == q->qtype && rq->rclass == q->qclass && rd_name_eq(rq->name, q->qname);
}

static bool reply_matches(const rd_upq_t *q, const uint8_t *wire, size_t len)
{
    reply_q_t rq;
    return reply_question(wire, len, &rq) && same_question(q, &rq);
}

void rd__up_reply(rd__up_conn_t *c, rd_upq_t *q, uint8_t *wire, size_t len)
{
    if (len < RD_HDR_LEN || !reply_matches(q, wire, len)) {
        rd_log_debug("forward upstream %s: reply does not match its query: dropped",
                     c->pool->u.uri);
        /* DoT: the right one may still come; DoH: this stream was the only chance */
        if (c->h2) end_q(c, q, NULL, 0, RD_UP_ERR_HTTP);
        return;
    }
    if (!c->answered) {
        /* TLS 1.3 tickets come after the handshake: by the first response there is one */
        c->answered = true;
        void *sess = rd_tls_session_get(c->tls);
        if (sess) {
            rd_tls_session_free(c->pool->session);
            c->pool->session = sess;
        }
    }
    set_id(wire, q->orig_id);
    end_q(c, q, wire, len, RD_UP_OK);
}

/* DoT frames in the plaintext buffer: each reply goes to the query with its ID. */
static void dot_frames(rd__up_conn_t *c)
{
    size_t off = 0;
    while (conn_live(c) && c->rx_len - off >= 2) {
        size_t need = 2 + (size_t)rd_get16(c->rx + off);
        if (c->rx_len - off < need) break;
        uint8_t *msg = c->rx + off + 2;
        size_t len = need - 2;
        off += need;
        if (len < RD_HDR_LEN) continue;
        uint16_t id = rd_get16(msg);
        rd_upq_t *q = c->qs;
        while (q && !(q->sent && q->id == id)) q = q->next;
        /* The reply to a query whose try timed out, while the engine asks the same question
         * again with a new ID: on an authenticated stream the ID only tells replies apart
         * (nothing can be spoofed here), so it answers the retry; a slow upstream is not
         * left answering questions nobody waits for. */
        reply_q_t rq;
        if (!q && reply_question(msg, len, &rq)) {
            q = c->qs;
            while (q && !(q->sent && same_question(q, &rq))) q = q->next;
        }
        if (q)
            rd__up_reply(c, q, msg, len);
        else
            rd_log_debug("forward upstream %s: reply with unknown ID %u dropped", c->pool->u.uri,
                         id);
    }
    if (c->state == UC_CLOSING) return;
    memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off;
}

static int send_q(rd__up_conn_t *c, rd_upq_t *q)
{
    if (c->h2) return rd__doh_submit(c, q);
    q->sent = true;
    return rd_tls_write(c->tls, q->msg, q->len);
}

/* ---- connection life ---- */

static void on_open(rd__up_conn_t *c)
{
    c->state = UC_OPEN;
    uv_timer_stop(&c->timer);
    rd_log_debug("forward upstream %s: connected (%s)", c->pool->u.uri,
                 rd_tls_resumed(c->tls) ? "TLS session resumed" : "full handshake");
    if (c->pool->u.proto == RD_UP_HTTPS) {
        if (rd__doh_open(c) != 0) {
            rd__up_conn_fail(c, RD_UP_ERR_CONN, "cannot start an HTTP/2 session");
            return;
        }
    } else if (!(c->rx = malloc(RX_CAP))) {
        rd__up_conn_fail(c, RD_UP_ERR_CONN, "out of memory");
        return;
    }
    /* the queries queued while it opened; a write that fails here (the server closed while a
     * burst was being written) loses the connection like any other close: they go again */
    for (rd_upq_t *q = c->qs; q; q = q->next)
        if (!q->sent && send_q(c, q) != 0) {
            rd__up_conn_lost(c, "write to the upstream failed");
            return;
        }
    if (c->h2 && rd__doh_flush(c) != 0) {
        rd__up_conn_lost(c, "write to the upstream failed");
        return;
    }
    idle_check(c);
    stall_watch(c, true);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    rd__up_conn_t *c = h->data;
    size_t space = 0;
    uint8_t *p = c->tls ? rd_tls_inbuf(c->tls, &space) : NULL;
    *buf = uv_buf_init((char *)p, (unsigned)space);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    rd__up_conn_t *c = st->data;
    if (c->state == UC_CLOSING) return;
    if (nread < 0) {
        bool quiet = conn_live(c) && c->nq == 0;
        /* EOF or reset: queries written on it and not answered go again (conn_end) */
        rd__up_conn_lost(c, quiet ? NULL
                            : c->state == UC_HANDSHAKE
                                ? "connection closed during the TLS handshake"
                                : "connection closed by the upstream");
        return;
    }
    if (nread == 0) return;
    rd_tls_received(c->tls, (size_t)nread);
    pump(c);
}

static void update_reading(rd__up_conn_t *c)
{
    size_t space = 0;
    if (c->tls) rd_tls_inbuf(c->tls, &space);
    bool want = (c->state == UC_HANDSHAKE || conn_live(c)) && space > 0;
    if (want && !c->reading)
        c->reading = uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) == 0;
    else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->h);
        c->reading = false;
    }
}

/* Moves the TLS layer: handshake, then plaintext up to DoT framing or HTTP/2. */
static void pump(rd__up_conn_t *c)
{
    uint8_t buf[16384];
    while (c->state == UC_HANDSHAKE || conn_live(c)) {
        bool dot = conn_live(c) && !c->h2;
        uint8_t *dst = dot ? c->rx + c->rx_len : buf;
        size_t cap = dot ? RX_CAP - c->rx_len : sizeof(buf), got = 0;
        if (c->state == UC_HANDSHAKE) cap = 0; /* data after the handshake waits for on_open */
        int r = rd_tls_read(c->tls, dst, cap, &got);
        if (r < 0) {
            bool auth = false;
            const char *why = rd_tls_error(c->tls, &auth);
            if (c->state == UC_HANDSHAKE)
                rd__up_conn_fail(c, auth ? RD_UP_ERR_AUTH : RD_UP_ERR_CONN,
                                 why ? why : "TLS handshake failed");
            else /* close_notify (RFC 8446 s6.1) or a fatal alert */
                rd__up_conn_lost(c, c->nq == 0 ? NULL : "TLS connection closed by the upstream");
            return;
        }
        if (c->state == UC_HANDSHAKE) {
            if (rd_tls_state(c->tls) != RD_TLS_OPEN) break; /* more ciphertext needed */
            on_open(c);
            continue;
        }
        if (got == 0) break;
        stall_watch(c, true); /* the upstream is alive */
        if (dot) {
            c->rx_len += got;
            dot_frames(c);
        } else if ((r = rd__doh_input(c, buf, got)) == RD_EIO) {
            rd__up_conn_lost(c, c->nq == 0 ? NULL : "write to the upstream failed");
            return;
        } else if (r < 0) {
            rd__up_conn_fail(c, RD_UP_ERR_CONN, "HTTP/2 protocol error from the upstream");
            return;
        } else if (r > 0) {
            rd__up_conn_lost(c,
                             c->nq == 0 ? NULL : "the upstream ended the HTTP/2 session (GOAWAY)");
            return;
        }
    }
    if (c->state != UC_CLOSING) update_reading(c);
}

static void on_connect(uv_connect_t *req, int status)
{
    rd__up_conn_t *c = req->data;
    if (status == UV_ECANCELED || c->state != UC_CONNECTING) return;
    if (status < 0) {
        char why[96];
        snprintf(why, sizeof(why), "connect: %s", uv_strerror(status));
        rd__up_conn_fail(c, RD_UP_ERR_CONN, why);
        return;
    }
    up_set_t *s = tl_set;
    const rd_conf_upstream_t *u = &c->pool->u;
    rd_tls_client_opts_t o = {.auth_name = u->auth_name,
                              .pins = u->pins,
                              .npins = u->npins,
                              .h2 = u->proto == RD_UP_HTTPS,
                              .session = c->pool->session};
    if (!s || !s->have_cctx || rd_tls_client_new(s->cctx, &o, raw_send, c, &c->tls) != 0) {
        rd__up_conn_fail(c, RD_UP_ERR_CONN, "cannot start TLS");
        return;
    }
    c->state = UC_HANDSHAKE;
    pump(c); /* the client speaks first: ClientHello */
}

static rd__up_conn_t *conn_open(up_set_t *s, up_pool_t *p)
{
    struct sockaddr_storage ss;
    int fam = rd_addr_to_sockaddr(&p->addr, &ss);
    if (fam < 0) return NULL;
    rd__up_conn_t *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->pool = p;
    if (uv_tcp_init(s->loop, &c->h) != 0) {
        free(c);
        return NULL;
    }
    uv_timer_init(s->loop, &c->timer);
    c->h.data = c;
    c->timer.data = c;
    c->open_handles = 2;
    c->state = UC_CONNECTING;
    c->next = p->conns;
    if (p->conns) p->conns->prev = c;
    p->conns = c;
    p->nconns++;
    s->nconns++;
    /* RFC 7766 s6.2.5: small queries, no need to wait for more */
    uv_tcp_nodelay(&c->h, 1);
    c->creq.data = c;
    set_timer(c, UT_HANDSHAKE, RD_UP_HANDSHAKE_MS);
    if (uv_tcp_connect(&c->creq, &c->h, (struct sockaddr *)&ss, on_connect) != 0)
        conn_fail_later(c);
    return c;
}

/* A connection with room: the least loaded live one; a second one opens only when that one
 * is half full (pipelining first, RFC 7766 s6.2.1.1), up to the pool's bound. Never one known
 * to be closing (GOAWAY received, a failed write, closed by us or the server) nor avoid (the
 * one a refused query comes from). A draining one still counts against the bound: a server
 * that sends GOAWAY on every connection and lets them hang gets no new connection per query. */
static rd__up_conn_t *pick_conn(up_set_t *s, up_pool_t *p, const rd__up_conn_t *avoid)
{
    rd__up_conn_t *best = NULL;
    unsigned live = 0;
    for (rd__up_conn_t *c = p->conns; c; c = c->next) {
        if (c->state == UC_CLOSING || c->doomed) continue;
        live++;
        if (c == avoid || c->state == UC_DRAINING) continue;
        if (c->nq < RD_UP_CONN_INFLIGHT && (!best || c->nq < best->nq)) best = c;
    }
    if ((!best || best->nq >= RD_UP_CONN_INFLIGHT / 2) && live < RD_UP_CONNS_PER_UPSTREAM)
        return conn_open(s, p);
    return best;
}

int rd_upstream_query(rd_worker_t *w, const rd_conf_upstream_t *u, const rd_addr_t *server,
                      const uint8_t *wire, size_t len, bool probe, rd_upq_cb cb, void *ctx,
                      rd_upq_t **out, int *err)
{
    *err = RD_UP_ERR_CONN;
    if (!u || (u->proto != RD_UP_TLS && u->proto != RD_UP_HTTPS) || len < RD_HDR_LEN ||
        len > 65535 || !cb)
        return RD_EINVAL;
    /* the configured address when there is one (the engine sends there anyway); the one the
     * engine found for the upstream's host otherwise */
    const rd_addr_t *addr = u->addr.family ? &u->addr : server;
    if (!addr || (addr->family != 4 && addr->family != 6) || addr->port == 0) return RD_EINVAL;
    up_set_t *s = set_get(w);
    if (!s || s->stopping) return RD_EIO;
    up_pool_t *p = pool_get(s, u, addr);
    if (!p) return RD_ENOMEM;
    if (!probe && uv_now(s->loop) < p->hold_until) {
        *err = p->hold_err;
        return RD_EIO;
    }
    const char *ca = w->view && w->view->conf ? w->view->conf->tls_ca_file : NULL;
    if (ensure_cctx(s, ca) != 0) {
        /* no trust anchors, no authentication: fail closed */
        log_failure(p, "no trust anchors to verify it with (tls-ca-file or /etc/ssl/certs)");
        p->hold_until = uv_now(s->loop) + RD_UP_FAIL_HOLD_MS;
        p->hold_err = *err = RD_UP_ERR_AUTH;
        return RD_EIO;
    }
    rd_msg_t m;
    uint8_t qn[RD_NAME_MAX];
    size_t pos = RD_HDR_LEN;
    if (rd_msg_parse_question(&m, wire, len) != 0 || m.count[RD_SEC_QD] != 1 ||
        rd_name_unpack(wire, len, &pos, qn, NULL) != 0)
        return RD_EINVAL;
    rd__up_conn_t *c = pick_conn(s, p, NULL);
    if (!c || c->nq >= RD_UP_CONN_INFLIGHT) return RD_ESPACE;
    bool dot = u->proto == RD_UP_TLS;
    rd_upq_t *q = calloc(1, sizeof(*q) + len + 2);
    if (!q) return RD_ENOMEM;
    const rd_rr_t *rr = rd_msg_rr(&m, RD_SEC_QD, 0);
    rd_name_lower_copy(q->qname, qn);
    q->qtype = rr->type;
    q->qclass = rr->rclass;
    q->orig_id = m.id;
    q->sid = -1;
    q->cb = cb;
    q->ctx = ctx;
    q->c = c;
    if (dot) {
        q->msg[0] = (uint8_t)(len >> 8);
        q->msg[1] = (uint8_t)len;
        memcpy(q->msg + 2, wire, len);
        q->len = len + 2;
        if (dot_assign_id(c, q, m.id) != 0) {
            free(q);
            return RD_ESPACE;
        }
    } else {
        q->id = 0; /* RFC 8484 s4.1: ID 0 keeps HTTP caches friendly */
        memcpy(q->msg, wire, len);
        set_id(q->msg, 0);
        q->len = len;
    }
    link_q(c, q);
    if (c->state == UC_OPEN) {
        if (send_q(c, q) != 0 || (c->h2 && rd__doh_flush(c) != 0))
            conn_fail_later(c);
        else
            stall_watch(c, false); /* the idle timer becomes the stall watch */
    }
    *out = q;
    *err = RD_UP_OK;
    return 0;
}

void rd_upstream_cancel(rd_upq_t *q)
{
    if (!q) return;
    rd__up_conn_t *c = q->c;
    q->cb = NULL;
    if (!c) return; /* its connection is failing: freed by rd__up_conn_fail */
    if (c->h2 && q->sent && conn_live(c)) {
        /* the stream refers to q until it closes: reset it, q goes with the close */
        rd__doh_cancel(c, q);
        return;
    }
    unlink_q(c, q);
    free_q(q);
    idle_check(c);
}

void rd_upstream_shutdown(rd_worker_t *w)
{
    (void)w;
    tl_stopped = true;
    up_set_t *s = tl_set;
    if (!s) return;
    s->stopping = true;
    for (up_pool_t *p = s->pools; p; p = p->next)
        for (rd__up_conn_t *c = p->conns; c; c = c->next) rd__up_conn_fail(c, RD_UP_ERR_CONN, NULL);
    if (s->nconns == 0) set_free(s);
}
