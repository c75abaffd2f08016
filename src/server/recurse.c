/* Resolution in the shell: drives the engine's actions (DESIGN.md "One query", step 5) with
 * libuv. One upstream try at a time per request: a fresh UDP socket connected to the server
 * (a new ephemeral source port per query, and the kernel drops datagrams from any other
 * address or port), or a TCP connection after TC, or for tls:// and https:// forward
 * upstreams a query on the worker's shared encrypted connections (src/net/upstream.c); a
 * timer per try; the engine checks ID and question itself. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "net/upstream.h"
#include "server/server.h"
#include "wire/cursor.h"

/* T_ENCRYPTED: a query on a DoT/DoH upstream connection (never clear text, issue 8) */
enum try_state { T_IDLE, T_UDP, T_TCP_CONNECTING, T_TCP_OPEN, T_ENCRYPTED };

/* RFC 8914 s4.24: "Network Error", an unrecoverable error talking to another server: what a
 * client hears when a forward upstream fails TLS authentication (the log says which one and
 * why) or answers DoH with an HTTP error. */
enum { EDE_NETWORK_ERROR = 23 };

/* Another client asking the same question while it is being resolved (DESIGN.md step 5:
 * identical upstream questions are sent once and answered to every waiting client). */
typedef struct waiter {
    struct waiter *next;
    rd_query_info_t info;
    rd_client_t client;
} waiter_t;

struct rd_pending {
    rd_worker_t *w;
    rd_pending_t *prev, *next;
    rd_pending_t *hnext; /* chain in w->inflight */
    uint32_t hash;
    rd_res_ref_t *rref; /* the engine context req was made with (one reference) */
    rd_req_t *req;
    rd_query_info_t info;
    rd_client_t client;
    waiter_t *waiters;
    unsigned nwaiters;
    /* the upstream try in progress */
    int state; /* enum try_state */
    uint32_t token;
    rd_addr_t server;
    uv_timer_t timer;
    uv_handle_t *sock; /* uv_udp_t or uv_tcp_t, malloc'd per try */
    rd_upq_t *upq;     /* T_ENCRYPTED: the query on the upstream connection */
    int up_err;        /* enum rd_up_err of a try that failed at once */
    uv_connect_t conn_req;
    uv_write_t write_req;
    uint8_t query[2 + 512 + 64]; /* framed copy of the query (TCP needs it past the step) */
    size_t qlen;
    uint8_t *tcp_buf;
    size_t tcp_len, tcp_cap;
    int open_handles; /* freed when 0 and finished */
    bool finished;
    bool probe; /* a background probe of a forward upstream (issue 8): no client, no dedup */
};

rd_resolver_shared_t rd_resolver_shared;

uint32_t rd_random32(void *ctx)
{
    /* Kernel CSPRNG in blocks: query IDs and ports must not be predictable (RFC 5452). The
     * pool is per thread, so the context is not needed. */
    (void)ctx;
    static _Thread_local uint32_t pool[64];
    static _Thread_local unsigned left;
    if (left == 0) {
        if (getrandom(pool, sizeof(pool), 0) != (ssize_t)sizeof(pool)) RD_REQUIRE(!"getrandom");
        left = 64;
    }
    return pool[--left];
}

static void res_unref(rd_res_ref_t *r)
{
    if (rd_fails_assert(r->refs > 0)) return;
    if (--r->refs > 0) return;
    rd_res_free(r->res);
    free(r);
}

int rd_recurse_set_res(rd_worker_t *w, rd_res_t *res, bool old_stale)
{
    rd_res_ref_t *r = NULL;
    if (res) {
        r = malloc(sizeof(*r));
        if (!r) {
            rd_res_free(res);
            return RD_ENOMEM;
        }
        r->res = res;
        r->refs = 1;
        r->stale = false;
    }
    /* requests in flight hold their own references: the old context outlives the swap */
    if (w->res_ref) {
        w->res_ref->stale = old_stale;
        res_unref(w->res_ref);
    }
    w->res_ref = r;
    w->res = res;
    /* a new context starts with every upstream up: the probe timer stops (issue 8) */
    if (res && w->state != RD_W_STARTING) rd_recurse_health(w);
    return 0;
}

static void pending_maybe_free(rd_pending_t *p)
{
    if (!p->finished || p->open_handles > 0) return;
    free(p->tcp_buf);
    free(p);
}

static void on_handle_closed(uv_handle_t *h)
{
    rd_pending_t *p = h->data;
    if (h != (uv_handle_t *)&p->timer) free(h);
    p->open_handles--;
    pending_maybe_free(p);
}

static void end_try(rd_pending_t *p)
{
    uv_timer_stop(&p->timer);
    if (p->upq) {
        rd_upstream_cancel(p->upq);
        p->upq = NULL;
    }
    if (p->sock) {
        if (p->state == T_UDP) uv_udp_recv_stop((uv_udp_t *)p->sock);
        uv_close(p->sock, on_handle_closed);
        p->sock = NULL;
    }
    p->state = T_IDLE;
}

static void drive(rd_pending_t *p);

/* Each client gets the answer with its own ID, question case, RD bit and size limit. */
static void answer_client(rd_pending_t *p, const rd_query_info_t *info, const rd_client_t *cl)
{
    rd_worker_t *w = p->w;
    size_t len = 0;
    int r = rd_req_answer(p->req, info->id, info->qname, info->rd, info->edns, info->limit, w->out,
                          sizeof(w->out), &len);
    /* The next identical question takes the packet cache (rd_pcache_put keeps only what
     * every such client may get: a stream answer serves UDP clients whose limit it fits);
     * not an answer made under settings a reload has replaced (the reload emptied the packet
     * cache for the new ones). Before sending: a stream pads w->out in place. */
    rd_pcache_t *pc = rd_resolver_shared.pcache;
    if (r == 0 && pc && info->rd && info->qclass == 1 && p->rref == w->res_ref) {
        rd_pcache_key_t k;
        rd_pcache_key_of(pc, info->qname, info->qtype, info->do_bit, info->cd, info->edns, &k);
        rd_pcache_put(pc, &k, w->out, len, uv_now(&w->loop) / 1000);
    }
    if (cl->conn)
        rd_stream_answer_late(cl, w->out, r == 0 ? len : 0);
    else if (r == 0 && w->state != RD_W_STOPPING)
        rd_udp_send_reply(w, cl->udp, (const struct sockaddr *)&cl->addr, w->out, len);
}

static void finish(rd_pending_t *p)
{
    rd_worker_t *w = p->w;
    end_try(p);
    rd_req_result_t res;
    rd_req_result(p->req, &res);
    if (res.reason)
        rd_log_debug("%s failed: %s (%u queries)", p->probe ? "probe" : "resolution", res.reason,
                     res.queries);
    if (res.note) rd_log_debug("%s", res.note);
    if (res.warn) rd_log_warn("%s", res.warn);
    if (!p->probe) answer_client(p, &p->info, &p->client);
    while (p->waiters) {
        waiter_t *wt = p->waiters;
        p->waiters = wt->next;
        answer_client(p, &wt->info, &wt->client);
        free(wt);
    }
    rd_pending_t **pp = &w->inflight[p->hash % RD_RECURSE_BUCKETS];
    while (*pp && *pp != p) pp = &(*pp)->hnext;
    if (*pp) *pp = p->hnext;
    rd_req_free(p->req);
    p->req = NULL;
    /* A request that started before a reload changed the routes may have cached what the
     * old servers said (the reload's flush came before its answers): drop it again. The
     * cache cannot drop one subtree or one route's entries; such requests are the few in
     * flight at that reload, each clear is a memset of the bucket arrays. */
    if (p->rref->stale) rd_cache_clear(rd_resolver_shared.cache);
    res_unref(p->rref);
    p->rref = NULL;
    if (p->prev)
        p->prev->next = p->next;
    else
        w->pending = p->next;
    if (p->next) p->next->prev = p->prev;
    w->npending--;
    p->finished = true;
    uv_close((uv_handle_t *)&p->timer, on_handle_closed);
}

static void on_timeout(uv_timer_t *t)
{
    rd_pending_t *p = t->data;
    end_try(p);
    if (rd_req_timeout(p->req, p->token, uv_now(&p->w->loop)) == 0) drive(p);
}

/* A reply for the try in progress: the engine decides whether it is the one. */
static void deliver(rd_pending_t *p, const uint8_t *wire, size_t len)
{
    int r = rd_req_reply(p->req, p->token, &p->server, wire, len, uv_now(&p->w->loop));
    if (r == RD_RES_IGNORED) return;
    end_try(p);
    drive(p);
}

static void on_up_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    rd_pending_t *p = h->data;
    *buf = uv_buf_init((char *)p->w->up_rx, 65536);
}

static void on_up_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                       unsigned flags)
{
    (void)flags;
    rd_pending_t *p = h->data;
    if (nread < 0) {
        /* ICMP unreachable on the connected socket: the server is not there; no need to wait
         * for the timer. */
        end_try(p);
        if (rd_req_timeout(p->req, p->token, uv_now(&p->w->loop)) == 0) drive(p);
        return;
    }
    if (nread == 0 || !addr) return;
    rd_addr_t from;
    rd_addr_from_sockaddr(addr, &from);
    if (memcmp(from.addr, p->server.addr, 16) != 0 || from.port != p->server.port) return;
    deliver(p, (const uint8_t *)buf->base, (size_t)nread);
}

static void on_tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    rd_pending_t *p = s->data;
    if (nread < 0) {
        end_try(p);
        if (rd_req_timeout(p->req, p->token, uv_now(&p->w->loop)) == 0) drive(p);
        return;
    }
    p->tcp_len += (size_t)nread;
    if (p->tcp_len >= 2) {
        size_t need = 2 + (size_t)rd_get16(p->tcp_buf);
        if (p->tcp_len >= need) deliver(p, p->tcp_buf + 2, need - 2);
    }
}

static void on_tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    rd_pending_t *p = h->data;
    if (!p->tcp_buf) {
        p->tcp_buf = malloc(2 + 65535);
        p->tcp_cap = p->tcp_buf ? 2 + 65535 : 0;
    }
    *buf = uv_buf_init((char *)p->tcp_buf + p->tcp_len, (unsigned)(p->tcp_cap - p->tcp_len));
}

static void on_tcp_written(uv_write_t *req, int status)
{
    (void)req;
    (void)status; /* a failed write shows as a read error or the timeout */
}

static void on_tcp_connect(uv_connect_t *req, int status)
{
    rd_pending_t *p = req->data;
    if (status == UV_ECANCELED || p->state != T_TCP_CONNECTING) return;
    if (status < 0) {
        end_try(p);
        if (rd_req_timeout(p->req, p->token, uv_now(&p->w->loop)) == 0) drive(p);
        return;
    }
    p->state = T_TCP_OPEN;
    p->tcp_len = 0;
    uv_buf_t b = uv_buf_init((char *)p->query, (unsigned)p->qlen);
    p->write_req.data = p;
    uv_write(&p->write_req, (uv_stream_t *)p->sock, &b, 1, on_tcp_written);
    uv_read_start((uv_stream_t *)p->sock, on_tcp_alloc, on_tcp_read);
}

/* How the engine hears of an encrypted try that failed: authentication and HTTP errors are
 * told to the client (EDE), the rest is like silence (another upstream is tried). */
static int try_failed(rd_pending_t *p, uint32_t token, int err)
{
    uint64_t now = uv_now(&p->w->loop);
    if (err == RD_UP_ERR_AUTH)
        return rd_req_try_failed(p->req, token, EDE_NETWORK_ERROR,
                                 "TLS authentication of the forward upstream failed", now);
    if (err == RD_UP_ERR_HTTP)
        return rd_req_try_failed(p->req, token, EDE_NETWORK_ERROR,
                                 "the forward upstream answered with an HTTP error", now);
    return rd_req_timeout(p->req, token, now);
}

static void on_upstream_reply(void *ctx, const uint8_t *wire, size_t len, int err)
{
    rd_pending_t *p = ctx;
    p->upq = NULL; /* it ends with this call */
    if (err == RD_UP_OK) {
        deliver(p, wire, len);
        return;
    }
    end_try(p);
    if (try_failed(p, p->token, err) == 0) drive(p);
}

static int start_try(rd_pending_t *p, const rd_res_action_t *act)
{
    rd_worker_t *w = p->w;
    struct sockaddr_storage ss;
    int fam = rd_addr_to_sockaddr(&act->server, &ss);
    if (act->len + 2 > sizeof(p->query)) return RD_ESPACE;
    p->query[0] = (uint8_t)(act->len >> 8);
    p->query[1] = (uint8_t)act->len;
    memcpy(p->query + 2, act->wire, act->len);
    p->qlen = act->len + 2;
    p->token = act->token;
    p->server = act->server;
    p->up_err = RD_UP_ERR_CONN;
    int r;
    if (act->transport == RD_UP_TLS || act->transport == RD_UP_HTTPS) {
        /* never clear text for these: no fallback to UDP or TCP */
        const rd_conf_upstream_t *u = rd_res_upstream(p->rref->res, act->upstream);
        if (!u || u->proto != act->transport) return RD_EBUG;
        r = rd_upstream_query(w, u, &act->server, act->wire, act->len, p->probe, on_upstream_reply,
                              p, &p->upq, &p->up_err);
        if (r) return r;
        p->state = T_ENCRYPTED;
    } else if (!act->tcp) {
        uv_udp_t *u = malloc(sizeof(*u));
        if (!u) return RD_ENOMEM;
        if ((r = uv_udp_init_ex(&w->loop, u, (unsigned)fam)) != 0) {
            free(u);
            return RD_EIO;
        }
        u->data = p;
        p->sock = (uv_handle_t *)u;
        p->open_handles++;
        p->state = T_UDP;
        uv_buf_t b = uv_buf_init((char *)p->query + 2, (unsigned)act->len);
        if ((r = uv_udp_connect(u, (struct sockaddr *)&ss)) != 0 ||
            (r = uv_udp_recv_start(u, on_up_alloc, on_up_recv)) != 0 ||
            (r = uv_udp_try_send(u, &b, 1, NULL)) < 0)
            return RD_EIO;
    } else {
        uv_tcp_t *t = malloc(sizeof(*t));
        if (!t) return RD_ENOMEM;
        if ((r = uv_tcp_init(&w->loop, t)) != 0) {
            free(t);
            return RD_EIO;
        }
        t->data = p;
        p->sock = (uv_handle_t *)t;
        p->open_handles++;
        p->state = T_TCP_CONNECTING;
        p->conn_req.data = p;
        if (uv_tcp_connect(&p->conn_req, t, (struct sockaddr *)&ss, on_tcp_connect) != 0)
            return RD_EIO;
    }
    uv_timer_start(&p->timer, on_timeout, act->timeout_ms, 0);
    return 0;
}

static void drive_steps(rd_pending_t *p)
{
    for (int guard = 0; guard < 64; guard++) {
        rd_res_action_t act;
        int r = rd_req_step(p->req, uv_now(&p->w->loop), &act);
        if (r == RD_RES_WAIT) return;
        if (r == RD_RES_SEND) {
            if (start_try(p, &act) == 0) return;
            /* could not even send: the engine hears a timeout (or why) and moves on */
            end_try(p);
            if (try_failed(p, act.token, p->up_err) != 0) return;
            continue;
        }
        finish(p); /* DONE, or an error: rd_req_answer gives SERVFAIL */
        return;
    }
    finish(p);
}

/* ---- forward upstreams that are down: probes in the background (issue 8) ---- */

static void health_log(rd_res_t *res)
{
    rd_res_up_event_t ev;
    while (rd_res_upstream_event(res, &ev) == 1) {
        const rd_conf_upstream_t *u = rd_res_upstream(res, ev.upstream);
        const char *uri = u && u->uri ? u->uri : "?";
        if (ev.kind == RD_RES_UP_DOWN)
            rd_log_warn("forward upstream %s: down after %u failures, probing in the background",
                        uri, ev.fails);
        else
            rd_log_info("forward upstream %s: back in service (%s)", uri,
                        ev.by_probe ? "probe answered" : "answered a client question");
    }
}

static void pending_link(rd_worker_t *w, rd_pending_t *p, rd_req_t *req)
{
    p->w = w;
    p->req = req;
    p->rref = w->res_ref;
    p->rref->refs++;
    uv_timer_init(&w->loop, &p->timer);
    p->timer.data = p;
    p->open_handles = 1;
    p->next = w->pending;
    if (w->pending) w->pending->prev = p;
    w->pending = p;
    w->npending++;
}

/* A probe: a pending request with no client, never in the table identical questions join. */
static int start_probe(rd_worker_t *w, int index)
{
    if (w->npending >= RD_RECURSE_PENDING_MAX) return RD_ELIMIT;
    rd_pending_t *p = calloc(1, sizeof(*p));
    if (!p) return RD_ENOMEM;
    rd_req_t *req = NULL;
    int r = rd_req_new_probe(w->res, index, uv_now(&w->loop), &req);
    if (r) {
        free(p);
        return r;
    }
    p->probe = true;
    pending_link(w, p, req);
    const rd_conf_upstream_t *u = rd_res_upstream(w->res, index);
    rd_log_debug("forward upstream %s: probing", u && u->uri ? u->uri : "?");
    drive_steps(p);
    return 0;
}

static void on_probe_timer(uv_timer_t *t)
{
    rd_recurse_health(t->data);
}

void rd_recurse_health(rd_worker_t *w)
{
    /* Probes started here drive requests, which come back here: the outer call goes on. */
    if (w->in_health) return;
    if (w->res_ref) health_log(w->res);
    if (!w->res || w->state == RD_W_STOPPING || uv_is_closing((uv_handle_t *)&w->probe_timer))
        return;
    w->in_health = true;
    uint64_t now = uv_now(&w->loop), next = UINT64_MAX;
    for (unsigned guard = 0; guard < 4096; guard++) {
        int index;
        if (rd_res_probe_due(w->res, now, &index, &next) != 1) break;
        if (start_probe(w, index) != 0) {
            /* table full or out of memory: try again a little later */
            next = now + RD_RES_PROBE_MS;
            break;
        }
        health_log(w->res); /* a probe that failed at once */
    }
    w->in_health = false;
    /* one timer per worker, armed for the earliest probe, stopped while nothing is down */
    if (next == UINT64_MAX)
        uv_timer_stop(&w->probe_timer);
    else
        uv_timer_start(&w->probe_timer, on_probe_timer, next > now ? next - now : 0, 0);
}

static void drive(rd_pending_t *p)
{
    rd_worker_t *w = p->w;
    if (p->rref == w->res_ref) {
        drive_steps(p);       /* p may be finished (not freed: its timer closes first) */
        rd_recurse_health(w); /* what the tries did to the upstreams: logged, probes planned */
        return;
    }
    /* a context a reload replaced: its last request may end here, the context with it */
    rd_res_ref_t *r = p->rref;
    r->refs++;
    drive_steps(p);
    health_log(r->res);
    res_unref(r);
}

static uint32_t question_hash(const rd_query_info_t *q)
{
    /* FNV-1a of the lowercased name and the fields that change the answer. The table is per
     * worker and bounded by RD_RECURSE_PENDING_MAX, so crafted collisions only make one
     * chain longer, never memory larger. */
    uint32_t h = 2166136261u;
    size_t n = rd_name_len(q->qname);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = q->qname[i];
        if (c >= 'A' && c <= 'Z') c = (uint8_t)(c + 32);
        h = (h ^ c) * 16777619u;
    }
    uint32_t extra = (uint32_t)q->qtype << 16 | q->qclass;
    h = (h ^ extra) * 16777619u;
    return (h ^ (uint32_t)(q->rd << 2 | q->do_bit << 1 | q->cd)) * 16777619u;
}

static bool same_question(const rd_query_info_t *a, const rd_query_info_t *b)
{
    return a->qtype == b->qtype && a->qclass == b->qclass && a->do_bit == b->do_bit &&
           a->cd == b->cd && a->rd == b->rd && rd_name_eq(a->qname, b->qname);
}

static void refuse_late(const rd_client_t *client)
{
    if (client->conn) rd_stream_answer_late(client, NULL, 0);
}

void rd_recurse_start(rd_worker_t *w, const rd_query_info_t *info, const rd_client_t *client)
{
    uint32_t hash = question_hash(info);
    for (rd_pending_t *q = w->inflight[hash % RD_RECURSE_BUCKETS]; q; q = q->hnext) {
        if (q->hash != hash || !same_question(&q->info, info)) continue;
        /* after a reload, new clients do not join a resolution under the old settings */
        if (q->rref != w->res_ref) continue;
        if (q->nwaiters >= RD_RECURSE_WAITERS_MAX) break;
        waiter_t *wt = malloc(sizeof(*wt));
        if (!wt) break;
        wt->info = *info;
        wt->client = *client;
        wt->next = q->waiters;
        q->waiters = wt;
        q->nwaiters++;
        return;
    }
    if (w->npending >= RD_RECURSE_PENDING_MAX) {
        rd_log_debug("resolution table full (%u): query dropped", w->npending);
        w->n_dropped++;
        refuse_late(client);
        return;
    }
    rd_pending_t *p = calloc(1, sizeof(*p));
    rd_req_t *req = NULL;
    if (!p || rd_req_new(w->res, info->qname, info->qtype, info->qclass, info->do_bit, info->cd,
                         uv_now(&w->loop), &req) != 0) {
        free(p);
        refuse_late(client);
        return;
    }
    if (!info->rd) rd_req_set_norec(req); /* allow_snoop: the cache only (query.c) */
    p->info = *info;
    p->client = *client;
    p->hash = hash;
    p->hnext = w->inflight[hash % RD_RECURSE_BUCKETS];
    w->inflight[hash % RD_RECURSE_BUCKETS] = p;
    pending_link(w, p, req);
    drive(p);
}

void rd_recurse_cancel_all(rd_worker_t *w)
{
    /* No more probes: the worker is stopping (rd_recurse_health starts none in
     * RD_W_STOPPING). Closed here, by its owner, rather than left to whichever walk of the
     * loop comes last: the stop that waits for stream connections to drain ended with it still
     * open ("loop not empty at exit"). */
    if (!uv_is_closing((uv_handle_t *)&w->probe_timer))
        uv_close((uv_handle_t *)&w->probe_timer, NULL);
    while (w->pending) {
        rd_pending_t *p = w->pending;
        /* finish() answers what it can (SERVFAIL for unfinished work) and unlinks p */
        finish(p);
    }
    rd_upstream_shutdown(w); /* worker stop: the upstream connections close */
}
