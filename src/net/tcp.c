/* DNS over TCP (RFC 7766): 2-octet length framing, pipelined queries answered as they
 * complete, partial reads and writes, idle timeout, per-worker connection limit, backpressure
 * when a client does not read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server/server.h"
#include "wire/cursor.h"

enum conn_state { C_OPEN, C_CLOSING };

struct rd_tcp_conn {
    uv_tcp_t h;
    uv_timer_t idle;
    rd_worker_t *w;
    rd_tcp_conn_t *prev, *next;
    int state; /* enum conn_state */
    int open_handles;
    bool reading;
    bool refused; /* access control says REFUSED: every query gets it */
    uint8_t *buf;
    size_t len, cap;
    size_t write_pending; /* octets handed to uv_write and not yet written */
    unsigned refs;        /* requests in resolution that will answer on this stream */
    bool paused;          /* reading stopped: tcp-max-inflight requests in resolution */
    unsigned queries;     /* answered so far */
};

typedef struct {
    uv_write_t req;
    rd_tcp_conn_t *c;
    size_t len;
    uint8_t data[];
} write_req_t;

static void conn_close(rd_tcp_conn_t *c);

static void conn_free(rd_tcp_conn_t *c)
{
    rd_worker_t *w = c->w;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    w->nconns--;
    free(c->buf);
    free(c);
    if (w->state == RD_W_STOPPING && w->nconns == 0) rd_tcp_close_all(w, false);
}

/* The connection's memory outlives its handles while requests in resolution refer to it. */
static void on_handle_closed(uv_handle_t *h)
{
    rd_tcp_conn_t *c = h->data;
    if (--c->open_handles > 0 || c->refs > 0) return;
    conn_free(c);
}

static void conn_close(rd_tcp_conn_t *c)
{
    if (c->state == C_CLOSING) return;
    c->state = C_CLOSING;
    uv_close((uv_handle_t *)&c->idle, on_handle_closed);
    uv_close((uv_handle_t *)&c->h, on_handle_closed);
}

static void on_idle(uv_timer_t *t)
{
    rd_tcp_conn_t *c = t->data;
    rd_log_debug("tcp: closing idle connection after %u queries", c->queries);
    conn_close(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    rd_tcp_conn_t *c = h->data;
    if (c->cap - c->len < 512 && c->cap < RD_TCP_BUF_MAX) {
        size_t ncap = c->cap ? c->cap * 2 : RD_TCP_BUF_INITIAL;
        if (ncap > RD_TCP_BUF_MAX) ncap = RD_TCP_BUF_MAX;
        uint8_t *nb = realloc(c->buf, ncap);
        if (nb) {
            c->buf = nb;
            c->cap = ncap;
        }
    }
    *buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_written(uv_write_t *req, int status)
{
    write_req_t *wr = (write_req_t *)req;
    rd_tcp_conn_t *c = wr->c;
    c->write_pending -= wr->len;
    free(wr);
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (!c->reading && !c->paused && c->state == C_OPEN &&
        c->write_pending < RD_TCP_WRITE_HIGH / 2) {
        c->reading = true;
        uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read);
    }
}

static void send_frame(rd_tcp_conn_t *c, const uint8_t *msg, size_t len)
{
    uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    uv_buf_t bufs[2] = {uv_buf_init((char *)hdr, 2), uv_buf_init((char *)msg, (unsigned)len)};
    size_t total = len + 2, done = 0;
    int r = uv_try_write((uv_stream_t *)&c->h, bufs, 2);
    if (r >= 0)
        done = (size_t)r;
    else if (r != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    if (done == total) return;
    size_t rest = total - done;
    write_req_t *wr = malloc(sizeof(*wr) + rest);
    if (!wr) {
        conn_close(c);
        return;
    }
    /* copy what is left of hdr+msg */
    size_t k = 0;
    for (size_t i = done; i < total; i++) wr->data[k++] = i < 2 ? hdr[i] : msg[i - 2];
    wr->c = c;
    wr->len = rest;
    uv_buf_t b = uv_buf_init((char *)wr->data, (unsigned)rest);
    if (uv_write(&wr->req, (uv_stream_t *)&c->h, &b, 1, on_written)) {
        free(wr);
        conn_close(c);
        return;
    }
    c->write_pending += rest;
    if (c->write_pending > RD_TCP_WRITE_HIGH && c->reading) {
        c->reading = false;
        uv_read_stop((uv_stream_t *)&c->h);
    }
}

static void process_frames(rd_tcp_conn_t *c)
{
    rd_worker_t *w = c->w;
    size_t off = 0;
    while (c->state == C_OPEN && !c->paused && c->len - off >= 2) {
        size_t flen = rd_get16(c->buf + off);
        if (c->len - off - 2 < flen) break;
        const uint8_t *q = c->buf + off + 2;
        off += 2 + flen;
        w->n_tcp++;
        c->queries++;
        rd_query_env_t env = {true, (uint16_t)w->view->conf->tcp_idle_timeout_ms, false};
        if (w->view->conf->tcp_idle_timeout_ms > 65535) env.keepalive_ms = 65535;
        size_t outlen;
        rd_query_info_t info;
        int v = c->refused ? rd_query_refuse(q, flen, w->out, sizeof(w->out), &outlen)
                           : rd_query_answer(w->view, &env, q, flen, w->out, sizeof(w->out),
                                             &outlen, w->res ? &info : NULL);
        if (v == RD_QUERY_SEND) send_frame(c, w->out, outlen);
        if (v == RD_QUERY_RECURSE) {
            /* Answered when resolved, in whatever order that happens (RFC 7766 s6.2.1.1). */
            c->refs++;
            rd_client_t client = {.conn = c};
            rd_recurse_start(w, &info, &client);
            if (c->refs >= w->view->conf->tcp_max_inflight && c->reading) {
                c->reading = false;
                c->paused = true;
                uv_read_stop((uv_stream_t *)&c->h);
            }
        }
    }
    if (off) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
}

void rd_tcp_answer_late(rd_tcp_conn_t *c, const uint8_t *p, size_t len)
{
    c->refs--;
    if (c->state == C_OPEN && len) {
        send_frame(c, p, len);
        if (c->state == C_OPEN) uv_timer_again(&c->idle);
    }
    if (c->state != C_OPEN) {
        if (c->open_handles == 0 && c->refs == 0) conn_free(c);
        return;
    }
    if (c->paused && c->refs < c->w->view->conf->tcp_max_inflight) {
        c->paused = false;
        c->reading = true;
        uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read);
        process_frames(c); /* queries that arrived before the pause */
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    rd_tcp_conn_t *c = s->data;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0) return;
    c->len += (size_t)nread;
    uv_timer_again(&c->idle);
    process_frames(c);
}

static void on_connection(uv_stream_t *srv, int status)
{
    rd_worker_t *w = srv->loop->data;
    if (status < 0) return;
    rd_tcp_conn_t *c = calloc(1, sizeof(*c));
    if (!c) return;
    c->w = w;
    uv_tcp_init(&w->loop, &c->h);
    uv_timer_init(&w->loop, &c->idle);
    c->h.data = c;
    c->idle.data = c;
    c->open_handles = 2;
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    if (uv_accept(srv, (uv_stream_t *)&c->h)) {
        conn_close(c);
        return;
    }
    const rd_conf_t *conf = w->view->conf;
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    if (w->nconns > conf->tcp_max_connections ||
        uv_tcp_getpeername(&c->h, (struct sockaddr *)&ss, &sl) != 0) {
        rd_log_debug("tcp: connection limit reached, closing new connection");
        conn_close(c);
        return;
    }
    int acl = rd_server_acl(w, (struct sockaddr *)&ss);
    if (acl == RD_ACL_DENY) {
        conn_close(c);
        return;
    }
    c->refused = acl == RD_ACL_REFUSE;
    uv_tcp_nodelay(&c->h, 1);
    uint64_t idle = conf->tcp_idle_timeout_ms;
    uv_timer_start(&c->idle, on_idle, idle, idle);
    c->reading = true;
    uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read);
}

int rd_tcp_listen(rd_worker_t *w, const rd_addr_t *a, uv_tcp_t *h)
{
    struct sockaddr_storage ss;
    int fam = rd_addr_to_sockaddr(a, &ss);
    int r = uv_tcp_init_ex(&w->loop, h, (unsigned)fam);
    if (r) return r;
    w->loop.data = w;
    uv_os_fd_t fd;
    int one = 1;
    if ((r = uv_fileno((uv_handle_t *)h, &fd)) == 0 &&
        (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
         setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0))
        r = -errno;
    if (!r) r = uv_tcp_bind(h, (struct sockaddr *)&ss, fam == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
    if (!r) r = uv_listen((uv_stream_t *)h, 1024, on_connection);
    if (r) uv_close((uv_handle_t *)h, NULL);
    return r;
}

void rd_tcp_close_all(rd_worker_t *w, bool only_idle)
{
    for (rd_tcp_conn_t *c = w->conns, *n; c; c = n) {
        n = c->next;
        if (!only_idle || c->write_pending == 0) conn_close(c);
    }
    if (!only_idle && w->nconns == 0 && w->state == RD_W_STOPPING) {
        uv_timer_stop(&w->drain_timer);
        if (!uv_is_closing((uv_handle_t *)&w->drain_timer))
            uv_close((uv_handle_t *)&w->drain_timer, NULL);
    }
}
