/* A worker: one thread, one libuv loop, its own listening sockets (SO_REUSEPORT) over the
 * shared read-only view. */
#include <stdlib.h>
#include <string.h>

#include "net/tls.h"
#include "server/server.h"

static void on_close_free_nothing(uv_handle_t *h)
{
    (void)h;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, on_close_free_nothing);
}

static void on_drain_timeout(uv_timer_t *t)
{
    rd_worker_t *w = t->data;
    rd_tcp_close_all(w, false);
    uv_walk(&w->loop, close_walk, NULL);
}

static void begin_stop(rd_worker_t *w)
{
    /* Resolution in progress ends now: stream clients get what can be answered (SERVFAIL). */
    rd_recurse_cancel_all(w);
    /* Stop accepting first, then let streams finish what they have, within a bound. */
    for (size_t i = 0; i < w->nudp; i++)
        if (!uv_is_closing((uv_handle_t *)&w->udp[i])) uv_close((uv_handle_t *)&w->udp[i], NULL);
    for (size_t i = 0; i < w->ntcp; i++)
        if (!uv_is_closing((uv_handle_t *)&w->tcp[i])) uv_close((uv_handle_t *)&w->tcp[i], NULL);
    rd_tcp_close_all(w, true);
    if (w->nconns == 0) {
        uv_walk(&w->loop, close_walk, NULL);
        return;
    }
    uv_timer_start(&w->drain_timer, on_drain_timeout, RD_DRAIN_MS, 0);
    uv_close((uv_handle_t *)&w->wake, NULL);
}

static void set_state(rd_worker_t *w, int s)
{
    uv_mutex_lock(&w->mtx);
    w->state = s;
    uv_cond_broadcast(&w->cond);
    uv_mutex_unlock(&w->mtx);
}

static void on_wake(uv_async_t *a)
{
    rd_worker_t *w = a->data;
    uv_mutex_lock(&w->mtx);
    rd_view_t *nv = w->pending_view;
    rd_res_t *nres = w->pending_res;
    bool flush = w->pending_flush;
    w->pending_view = NULL;
    w->pending_res = NULL;
    w->pending_flush = false;
    unsigned asked = w->reloads_asked;
    bool stop = w->stop_requested;
    uv_mutex_unlock(&w->mtx);
    if (nv) {
        rd_view_t *old = w->view;
        w->view = nv;
        rd_view_unref(old);
    }
    /* Requests in flight keep the context they started with (rd_recurse_set_res). */
    if (nres && rd_recurse_set_res(w, nres, flush) != 0)
        rd_log_error("worker %u: out of memory: resolver settings not reloaded", w->index);
    if (nv || nres) {
        uv_mutex_lock(&w->mtx);
        w->reloads_done = asked;
        uv_cond_broadcast(&w->cond);
        uv_mutex_unlock(&w->mtx);
    }
    if (stop && w->state != RD_W_STOPPING) {
        set_state(w, RD_W_STOPPING);
        begin_stop(w);
    }
}

/* DoT (RFC 7858) and DoH (RFC 8484) listeners: TLS stream connections (src/net/tcp.c). */
static int listen_tls(rd_worker_t *w, const rd_conf_t *c)
{
    for (size_t i = 0; i < c->nlisten_tls; i++) {
        char at[80];
        rd_addr_to_text(&c->listen_tls[i], at, sizeof(at));
        int r = rd_stream_listen(w, &c->listen_tls[i], &w->tcp[w->ntcp], RD_STREAM_DOT);
        if (r) {
            rd_log_error("cannot listen on %s (DoT): %s", at, uv_strerror(r));
            return r;
        }
        w->ntcp++;
        if (w->index == 0) rd_log_info("listening on %s (DoT)", at);
    }
    for (size_t i = 0; i < c->nlisten_https; i++) {
        char at[80];
        rd_addr_to_text(&c->listen_https[i], at, sizeof(at));
        int r = rd_stream_listen(w, &c->listen_https[i], &w->tcp[w->ntcp], RD_STREAM_DOH);
        if (r) {
            rd_log_error("cannot listen on %s (DoH): %s", at, uv_strerror(r));
            return r;
        }
        w->ntcp++;
        if (w->index == 0) rd_log_info("listening on %s (DoH)", at);
    }
    return 0;
}

static void worker_main(void *arg)
{
    rd_worker_t *w = arg;
    const rd_conf_t *c = w->view->conf;
    int r = uv_loop_init(&w->loop);
    if (r) {
        rd_log_error("worker %u: loop: %s", w->index, uv_strerror(r));
        set_state(w, RD_W_FAILED);
        return;
    }
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    uv_timer_init(&w->loop, &w->probe_timer); /* closed at stop by rd_recurse_cancel_all */
    w->probe_timer.data = w;
    w->udp = calloc(c->nlisten ? c->nlisten : 1, sizeof(uv_udp_t));
    w->tcp = calloc(c->nlisten + c->nlisten_tls + c->nlisten_https + 1, sizeof(uv_tcp_t));
    w->udp_rx = malloc((size_t)RD_UDP_BATCH * 65536 * (c->nlisten ? c->nlisten : 1));
    w->udp_tx = rd_udp_batch_new();
    w->up_rx = malloc(65536);
    w->inflight = calloc(RD_RECURSE_BUCKETS, sizeof(*w->inflight));
    bool ok = w->udp && w->tcp && w->udp_rx && w->udp_tx && w->up_rx && w->inflight;
    if (ok && rd_resolver_shared.cache) {
        rd_res_t *res = NULL;
        int rr = rd_res_new(rd_resolver_shared.cache, rd_resolver_shared.hints,
                            rd_resolver_shared.hints_len, &rd_resolver_shared.opts, rd_random32, w,
                            &res);
        if (rr == 0) rr = rd_recurse_set_res(w, res, false);
        if (rr) {
            rd_log_error("worker %u: resolver: %s", w->index, rd_strerror(rr));
            ok = false;
        }
    }
    for (size_t i = 0; ok && i < c->nlisten; i++) {
        char at[80];
        rd_addr_to_text(&c->listen[i], at, sizeof(at));
        r = rd_udp_listen(w, &c->listen[i], &w->udp[w->nudp]);
        if (r) {
            rd_log_error("cannot listen on %s (UDP): %s", at, uv_strerror(r));
            ok = false;
            break;
        }
        w->nudp++;
        r = rd_tcp_listen(w, &c->listen[i], &w->tcp[w->ntcp]);
        if (r) {
            rd_log_error("cannot listen on %s (TCP): %s", at, uv_strerror(r));
            ok = false;
            break;
        }
        w->ntcp++;
        if (w->index == 0) rd_log_info("listening on %s (UDP, TCP)", at);
    }
    if (ok) ok = listen_tls(w, c) == 0;
    if (!ok) {
        set_state(w, RD_W_FAILED);
        uv_walk(&w->loop, close_walk, NULL);
    } else {
        set_state(w, RD_W_READY);
    }
    uv_run(&w->loop, UV_RUN_DEFAULT);
    r = uv_loop_close(&w->loop);
    rd_tls_thread_done();
    if (r) rd_log_warn("worker %u: loop not empty at exit: %s", w->index, uv_strerror(r));
    free(w->udp);
    free(w->tcp);
    free(w->udp_rx);
    free(w->udp_tx);
    w->udp_tx = NULL;
    free(w->up_rx);
    w->up_rx = NULL;
    free(w->inflight);
    w->inflight = NULL;
    rd_recurse_set_res(w, NULL, false); /* every request has ended: frees the last context */
    w->udp = NULL;
    w->tcp = NULL;
    w->udp_rx = NULL;
    rd_view_unref(w->view);
    w->view = NULL;
    uv_mutex_lock(&w->mtx);
    if (w->pending_view) rd_view_unref(w->pending_view);
    w->pending_view = NULL;
    rd_res_free(w->pending_res);
    w->pending_res = NULL;
    if (w->state != RD_W_FAILED) w->state = RD_W_STOPPED;
    uv_cond_broadcast(&w->cond);
    uv_mutex_unlock(&w->mtx);
}

/* Workers started and not yet joined: the TLS server context lives as long as they do. */
static unsigned live_workers;

int rd_worker_start(rd_worker_t *w, unsigned index, rd_view_t *view)
{
    memset(w, 0, sizeof(*w));
    /* The TLS context is complete before any worker can use it, and shared read-only. */
    if (index == 0 && (view->conf->nlisten_tls || view->conf->nlisten_https) &&
        rd_tls_global_init(view->conf) != 0)
        return RD_EIO;
    /* wolfSSL for DoT/DoH forward upstreams (issue 8), ready before any worker runs */
    if (live_workers == 0 && rd_tls_client_global_init() != 0) return RD_EIO;
    w->index = index;
    w->view = rd_view_ref(view);
    w->state = RD_W_STARTING;
    if (uv_mutex_init(&w->mtx) || uv_cond_init(&w->cond)) return RD_ENOMEM;
    int r = uv_thread_create(&w->thread, worker_main, w);
    if (r) {
        rd_view_unref(w->view);
        if (live_workers == 0) {
            rd_tls_global_free();
            rd_tls_client_global_free();
        }
        return RD_EIO;
    }
    live_workers++;
    /* Wait until its sockets are bound, so privileges can be dropped after. */
    uv_mutex_lock(&w->mtx);
    while (w->state == RD_W_STARTING) uv_cond_wait(&w->cond, &w->mtx);
    int st = w->state;
    uv_mutex_unlock(&w->mtx);
    return st == RD_W_READY ? 0 : RD_EIO;
}

void rd_worker_stop(rd_worker_t *w)
{
    uv_mutex_lock(&w->mtx);
    w->stop_requested = true;
    bool alive = w->state == RD_W_READY;
    uv_mutex_unlock(&w->mtx);
    if (alive) uv_async_send(&w->wake);
}

void rd_worker_set_view(rd_worker_t *w, rd_view_t *view, rd_res_t *res, bool flush)
{
    /* SIGHUP: new TLS connections get the certificate as it is now on disk. */
    if (w->index == 0) rd_tls_global_reload(view->conf);
    uv_mutex_lock(&w->mtx);
    if (w->pending_view) rd_view_unref(w->pending_view);
    w->pending_view = rd_view_ref(view);
    if (res) {
        /* one not yet taken was never used: the newer one replaces it */
        rd_res_free(w->pending_res);
        w->pending_res = res;
        w->pending_flush |= flush; /* the current context is retired by both reloads */
    }
    w->reloads_asked++;
    bool alive = w->state == RD_W_READY;
    uv_mutex_unlock(&w->mtx);
    if (alive) uv_async_send(&w->wake);
}

bool rd_worker_wait_applied(rd_worker_t *w, unsigned timeout_ms)
{
    uint64_t deadline = uv_hrtime() + (uint64_t)timeout_ms * 1000000u;
    bool done = true;
    uv_mutex_lock(&w->mtx);
    while (w->state == RD_W_READY && w->reloads_done != w->reloads_asked) {
        uint64_t now = uv_hrtime();
        if (now >= deadline || uv_cond_timedwait(&w->cond, &w->mtx, deadline - now) != 0) {
            done = w->reloads_done == w->reloads_asked;
            break;
        }
    }
    uv_mutex_unlock(&w->mtx);
    return done;
}

void rd_worker_join(rd_worker_t *w)
{
    uv_thread_join(&w->thread);
    uv_mutex_destroy(&w->mtx);
    uv_cond_destroy(&w->cond);
    if (live_workers > 0 && --live_workers == 0) {
        rd_tls_global_free();
        rd_tls_client_global_free();
    }
}

int rd_server_acl(const rd_worker_t *w, const struct sockaddr *sa)
{
    rd_addr_t a;
    rd_addr_from_sockaddr(sa, &a);
    return rd_acl_check(w->view->conf, &a);
}
