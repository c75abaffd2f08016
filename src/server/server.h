/* The I/O shell: workers, their loops and listeners. Internal to the daemon. */
#ifndef RD_SERVER_H
#define RD_SERVER_H

#include "base/limits.h"
#include <uv.h>

#include "resolverd/pcache.h"
#include "resolverd/query.h"
#include "resolverd/resolve.h"

/* ---- logging (stderr, systemd-journal friendly) ---- */
extern int rd_log_level;
void rd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define rd_log_error(...) rd_log(RD_LOG_ERROR, __VA_ARGS__)
#define rd_log_warn(...)  rd_log(RD_LOG_WARN, __VA_ARGS__)
#define rd_log_info(...)  rd_log(RD_LOG_INFO, __VA_ARGS__)
#define rd_log_debug(...)                                                                          \
    do {                                                                                           \
        if (rd_log_level >= RD_LOG_DEBUG) rd_log(RD_LOG_DEBUG, __VA_ARGS__);                       \
    } while (0)

typedef struct rd_worker rd_worker_t;
typedef struct rd_tcp_conn rd_tcp_conn_t;
typedef struct rd_pending rd_pending_t;

/* A worker's engine context and the requests that use it. A reload hands the worker a new
 * one; a request keeps the one it started with (DESIGN.md "Threads and shared state"), so the
 * old one is freed when the last of them ends. Touched by the worker thread only: a plain
 * count. */
typedef struct {
    rd_res_t *res;
    unsigned refs; /* 1 while it is the worker's current one, plus 1 per request */
    bool stale;    /* retired by a reload that flushed the cache (see rd_recurse_set_res) */
} rd_res_ref_t;

/* Where an answer that takes time goes back to: a UDP socket + address, or a stream
 * connection (TCP, DoT, DoH) and, for DoH, the HTTP stream on it. */
typedef struct {
    uv_udp_t *udp;
    struct sockaddr_storage addr;
    rd_tcp_conn_t *conn;
    uint32_t sid; /* DoH: the HTTP stream (HTTP/2 stream id or HTTP/1.1 request number) */
    bool pad;     /* RFC 8467: the query was padded over an encrypted transport: pad too */
} rd_client_t;

enum rd_worker_state { RD_W_STARTING, RD_W_READY, RD_W_FAILED, RD_W_STOPPING, RD_W_STOPPED };

struct rd_worker {
    unsigned index;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wake; /* stop or new view: the only cross-thread call (uv_async_send) */
    rd_view_t *view; /* owned reference, swapped on reload */
    /* set by the main thread under mtx, read by the worker in its wake callback */
    uv_mutex_t mtx;
    rd_view_t *pending_view;
    rd_res_t *pending_res; /* owned until the worker takes it (reload) */
    bool pending_flush;    /* that reload flushes the cache: the old context is stale */
    unsigned reloads_asked, reloads_done; /* the worker has applied what was asked when equal */
    bool stop_requested;
    int state; /* enum rd_worker_state, under mtx */
    uv_cond_t cond;
    /* listeners */
    uv_udp_t *udp;
    size_t nudp;
    uv_tcp_t *tcp;
    size_t ntcp;
    /* resolution: this worker's engine context (NULL: none) and its requests in flight */
    rd_res_t *res;
    rd_res_ref_t *res_ref; /* the holder of res */
    rd_pending_t *pending; /* doubly linked list */
    unsigned npending;
    rd_pending_t **inflight; /* RD_RECURSE_BUCKETS chains: identical questions join one */
    uint8_t *up_rx;          /* upstream UDP receive buffer */
    uv_timer_t probe_timer;  /* the next probe of a forward upstream that is down (issue 8) */
    bool in_health;          /* rd_recurse_health is running (it starts probes) */
    /* stream connections */
    rd_tcp_conn_t *conns; /* doubly linked list */
    unsigned nconns;
    uv_timer_t drain_timer; /* bounds graceful shutdown */
    /* per-worker buffers: the hot path allocates nothing */
    uint8_t *udp_rx;             /* recvmmsg area */
    struct rd_udp_batch *udp_tx; /* replies to one recvmmsg batch, sent with one sendmmsg */
    uint8_t out[RD_MSG_MAX + 2];
    /* counters */
    uint64_t n_udp, n_tcp, n_dropped, n_refused;
};

/* What workers build their first engine context from: written by the main thread only,
 * read by workers while they start (before the main loop runs, so before any reload). The
 * cache is shared for the whole run: a reload builds new contexts over the same cache. */
typedef struct {
    rd_cache_t *cache;
    rd_pcache_t *pcache; /* NULL: packet-cache-size 0 */
    const char *hints;   /* root hints text */
    size_t hints_len;
    rd_res_opts_t opts;
} rd_resolver_shared_t;
extern rd_resolver_shared_t rd_resolver_shared;

int rd_worker_start(rd_worker_t *w, unsigned index, rd_view_t *view);
void rd_worker_stop(rd_worker_t *w);
/* Reload: hands the worker a new view and, unless res is NULL, a new engine context (owned
 * by the worker from now on, even when it is stopping). flush: the reload flushes the cache
 * because routes changed, so what the old context's requests still learn is stale. */
void rd_worker_set_view(rd_worker_t *w, rd_view_t *view, rd_res_t *res, bool flush);
/* Waits up to timeout_ms until the worker has applied every rd_worker_set_view so far (true),
 * or is not running (true: nothing more will start there). */
bool rd_worker_wait_applied(rd_worker_t *w, unsigned timeout_ms);
void rd_worker_join(rd_worker_t *w);

/* transports (src/net) */
struct rd_udp_batch *rd_udp_batch_new(void);
/* The hot path (DESIGN.md step 3): an exact repeat of a resolved question answered from the
 * packet cache into out (ID, question case and TTLs patched). Returns the length, 0 on a
 * miss. Access control must have allowed the client. stream: TCP/DoT/DoH (no size limit). */
size_t rd_server_pcache_answer(rd_worker_t *w, const uint8_t *q, size_t len, uint8_t *out,
                               size_t cap, bool stream);
int rd_udp_listen(rd_worker_t *w, const rd_addr_t *a, uv_udp_t *h);
int rd_tcp_listen(rd_worker_t *w, const rd_addr_t *a, uv_tcp_t *h);
void rd_tcp_close_all(rd_worker_t *w, bool only_idle);
void rd_udp_send_reply(rd_worker_t *w, uv_udp_t *h, const struct sockaddr *to, const uint8_t *p,
                       size_t len);
/* TLS listeners (DoT, DoH): the same connection machinery as TCP (src/net/tcp.c). */
enum rd_stream_kind { RD_STREAM_TCP, RD_STREAM_DOT, RD_STREAM_DOH };
int rd_stream_listen(rd_worker_t *w, const rd_addr_t *a, uv_tcp_t *h, enum rd_stream_kind k);
/* A stream answer that completed later (p may be the worker's out buffer); dropped if the
 * connection is gone; len 0: no answer. Releases the reference the pending request held. */
void rd_stream_answer_late(const rd_client_t *cl, uint8_t *p, size_t len);

/* resolution in the shell (src/server/recurse.c) */
void rd_recurse_start(rd_worker_t *w, const rd_query_info_t *info, const rd_client_t *client);
void rd_recurse_cancel_all(rd_worker_t *w);
/* Makes res (owned from now on) the engine context new requests use; the previous one stays
 * alive until its last request ends. NULL drops the current one (worker exit). RD_ENOMEM:
 * res is freed and the previous one stays current. old_stale: the main thread flushes the
 * cache for this reload; requests of the previous context flush it again when they end, so
 * that what they fetched the old way does not outlive them. */
int rd_recurse_set_res(rd_worker_t *w, rd_res_t *res, bool old_stale);
uint32_t rd_random32(void *ctx);
/* Issue 8: logs what happened to forward upstreams (down, back in service), starts the
 * probes of those that are down when due and arms w->probe_timer for the next one (stops it
 * when nothing is down). Called after requests are driven and when the timer fires. */
void rd_recurse_health(rd_worker_t *w);

/* conversions between rd_addr_t and sockaddr */
void rd_addr_from_sockaddr(const struct sockaddr *sa, rd_addr_t *out);
int rd_addr_to_sockaddr(const rd_addr_t *a, struct sockaddr_storage *ss);

/* access control verdict on a client address, for the current view */
int rd_server_acl(const rd_worker_t *w, const struct sockaddr *sa);

#endif
