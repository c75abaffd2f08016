/* A worker: one thread, one libuv loop, its own listening sockets (SO_REUSEPORT) over the
 * shared read-only view. */
#include <stdlib.h>
#include <string.h>

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
    w->pending_view = NULL;
    bool stop = w->stop_requested;
    uv_mutex_unlock(&w->mtx);
    if (nv) {
        rd_view_t *old = w->view;
        w->view = nv;
        rd_view_unref(old);
    }
    if (stop && w->state != RD_W_STOPPING) {
        set_state(w, RD_W_STOPPING);
        begin_stop(w);
    }
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
    w->udp = calloc(c->nlisten ? c->nlisten : 1, sizeof(uv_udp_t));
    w->tcp = calloc(c->nlisten ? c->nlisten : 1, sizeof(uv_tcp_t));
    w->udp_rx = malloc((size_t)RD_UDP_BATCH * 65536 * (c->nlisten ? c->nlisten : 1));
    w->udp_tx = rd_udp_batch_new();
    w->up_rx = malloc(65536);
    w->inflight = calloc(RD_RECURSE_BUCKETS, sizeof(*w->inflight));
    bool ok = w->udp && w->tcp && w->udp_rx && w->udp_tx && w->up_rx && w->inflight;
    if (ok && rd_resolver_shared.cache) {
        int rr = rd_res_new(rd_resolver_shared.cache, rd_resolver_shared.hints,
                            rd_resolver_shared.hints_len, &rd_resolver_shared.opts, rd_random32, w,
                            &w->res);
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
    if (!ok) {
        set_state(w, RD_W_FAILED);
        uv_walk(&w->loop, close_walk, NULL);
    } else {
        set_state(w, RD_W_READY);
    }
    uv_run(&w->loop, UV_RUN_DEFAULT);
    r = uv_loop_close(&w->loop);
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
    if (w->res) rd_res_free(w->res);
    w->res = NULL;
    w->udp = NULL;
    w->tcp = NULL;
    w->udp_rx = NULL;
    rd_view_unref(w->view);
    w->view = NULL;
    uv_mutex_lock(&w->mtx);
    if (w->pending_view) rd_view_unref(w->pending_view);
    w->pending_view = NULL;
    if (w->state != RD_W_FAILED) w->state = RD_W_STOPPED;
    uv_cond_broadcast(&w->cond);
    uv_mutex_unlock(&w->mtx);
}

int rd_worker_start(rd_worker_t *w, unsigned index, rd_view_t *view)
{
    memset(w, 0, sizeof(*w));
    w->index = index;
    w->view = rd_view_ref(view);
    w->state = RD_W_STARTING;
    if (uv_mutex_init(&w->mtx) || uv_cond_init(&w->cond)) return RD_ENOMEM;
    int r = uv_thread_create(&w->thread, worker_main, w);
    if (r) {
        rd_view_unref(w->view);
        return RD_EIO;
    }
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

void rd_worker_set_view(rd_worker_t *w, rd_view_t *view)
{
    uv_mutex_lock(&w->mtx);
    if (w->pending_view) rd_view_unref(w->pending_view);
    w->pending_view = rd_view_ref(view);
    bool alive = w->state == RD_W_READY;
    uv_mutex_unlock(&w->mtx);
    if (alive) uv_async_send(&w->wake);
}

void rd_worker_join(rd_worker_t *w)
{
    uv_thread_join(&w->thread);
    uv_mutex_destroy(&w->mtx);
    uv_cond_destroy(&w->cond);
}

int rd_server_acl(const rd_worker_t *w, const struct sockaddr *sa)
{
    rd_addr_t a;
    rd_addr_from_sockaddr(sa, &a);
    return rd_acl_check(w->view->conf, &a);
}
