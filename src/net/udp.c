/* UDP service: batched receive (recvmmsg through libuv), answers built straight into a batch
 * of reply slots, the batch sent with one sendmmsg when libuv ends the receive batch. Per
 * datagram the hot path does no allocation and one copy (the answer into its slot). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server/server.h"

typedef struct {
    struct sockaddr_storage to;
    socklen_t tolen;
    size_t len;
    uint8_t data[RD_UDP_REPLY_MAX];
} udp_reply_t;

struct rd_udp_batch {
    uv_udp_t *h; /* the socket the batch came in on */
    unsigned n;
    unsigned got;      /* datagrams of the recvmmsg batch being delivered */
    uv_udp_t *drained; /* its last batch was short: the socket is empty, see on_alloc */
    udp_reply_t r[RD_UDP_BATCH];
    udp_reply_t late; /* a resolved answer waiting for socket space */
    struct mmsghdr msg[RD_UDP_BATCH];
    struct iovec iov[RD_UDP_BATCH];
};

typedef struct {
    uv_udp_send_t req;
    uv_buf_t buf;
    uint8_t data[];
} send_req_t;

/* Bound on copies waiting for socket space, across workers: a flood cannot grow memory. */
static unsigned queued_sends;

struct rd_udp_batch *rd_udp_batch_new(void)
{
    return calloc(1, sizeof(struct rd_udp_batch));
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    /* libuv reads again after every batch until recvmmsg says EAGAIN: one wasted system call
     * per wake-up, a quarter of them at moderate load. A batch shorter than the buffer
     * already emptied the socket, so an empty buffer ends libuv's loop (it reports UV_ENOBUFS
     * and reads nothing); epoll is level-triggered, so anything that arrived since wakes the
     * loop again. */
    rd_worker_t *w = h->loop->data;
    if (w->udp_tx->drained == (uv_udp_t *)h) {
        w->udp_tx->drained = NULL;
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init((char *)h->data, RD_UDP_BATCH * 65536);
}

static void on_sent(uv_udp_send_t *req, int status)
{
    (void)status;
    __atomic_sub_fetch(&queued_sends, 1, __ATOMIC_RELAXED);
    free(req);
}

/* The socket buffer is full: queue a copy through libuv, within a bound. */
static void send_queued(rd_worker_t *w, uv_udp_t *h, const udp_reply_t *r)
{
    if (__atomic_load_n(&queued_sends, __ATOMIC_RELAXED) >= RD_UDP_SEND_QUEUE_MAX) {
        w->n_dropped++;
        return;
    }
    send_req_t *s = malloc(sizeof(*s) + r->len);
    if (!s) {
        w->n_dropped++;
        return;
    }
    memcpy(s->data, r->data, r->len);
    s->buf = uv_buf_init((char *)s->data, (unsigned)r->len);
    __atomic_add_fetch(&queued_sends, 1, __ATOMIC_RELAXED);
    if (uv_udp_send(&s->req, h, &s->buf, 1, (const struct sockaddr *)&r->to, on_sent)) {
        __atomic_sub_fetch(&queued_sends, 1, __ATOMIC_RELAXED);
        free(s);
        w->n_dropped++;
    }
}

void rd_udp_send_reply(rd_worker_t *w, uv_udp_t *h, const struct sockaddr *to, const uint8_t *p,
                       size_t len)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);
    if (uv_udp_try_send(h, &b, 1, to) >= 0) return;
    udp_reply_t *r = &w->udp_tx->late;
    if (len > sizeof(r->data)) {
        w->n_dropped++;
        return;
    }
    memcpy(r->data, p, len);
    r->len = len;
    r->tolen = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    memcpy(&r->to, to, r->tolen);
    send_queued(w, h, r);
}

static void flush(rd_worker_t *w)
{
    struct rd_udp_batch *b = w->udp_tx;
    if (b->n == 0) return;
    uv_os_fd_t fd;
    unsigned sent = 0;
    /* Nothing may overtake replies libuv still holds for this socket. */
    if (uv_udp_get_send_queue_count(b->h) == 0 && uv_fileno((uv_handle_t *)b->h, &fd) == 0) {
        for (unsigned i = 0; i < b->n; i++) {
            b->iov[i].iov_base = b->r[i].data;
            b->iov[i].iov_len = b->r[i].len;
            memset(&b->msg[i], 0, sizeof(b->msg[i]));
            b->msg[i].msg_hdr.msg_name = &b->r[i].to;
            b->msg[i].msg_hdr.msg_namelen = b->r[i].tolen;
            b->msg[i].msg_hdr.msg_iov = &b->iov[i];
            b->msg[i].msg_hdr.msg_iovlen = 1;
        }
        while (sent < b->n) {
            int r = sendmmsg(fd, b->msg + sent, b->n - sent, MSG_DONTWAIT);
            if (r > 0) {
                sent += (unsigned)r;
                continue;
            }
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                /* One bad destination must not cost the rest of the batch. */
                w->n_dropped++;
                sent++;
                continue;
            }
            break;
        }
    }
    for (unsigned i = sent; i < b->n; i++) send_queued(w, b->h, &b->r[i]);
    b->n = 0;
}

size_t rd_server_pcache_answer(rd_worker_t *w, const uint8_t *q, size_t len, uint8_t *out,
                               size_t cap, bool stream)
{
    rd_pcache_t *pc = rd_resolver_shared.pcache;
    rd_pcache_key_t k;
    if (!pc || !w->res || !rd_pcache_key(pc, q, len, w->view->conf->edns_buffer_size, &k)) return 0;
    if (stream) k.limit = UINT16_MAX; /* no size limit but the message's own */
    return rd_pcache_get(pc, &k, uv_now(&w->loop) / 1000, out, cap);
}

/* One query datagram from addr: access control, the packet cache, the engine; the answer goes
 * into the batch (or resolution starts). */
static void datagram(rd_worker_t *w, uv_udp_t *h, const uint8_t *q, size_t nread,
                     const struct sockaddr *addr)
{
    struct rd_udp_batch *b = w->udp_tx;
    if (b->n > 0 && b->h != h) flush(w);
    b->h = h;
    w->n_udp++;
    udp_reply_t *r = &b->r[b->n];
    int verdict, acl = rd_server_acl(w, addr);
    rd_query_info_t info;
    if (acl == RD_ACL_DENY) {
        w->n_dropped++;
        verdict = RD_QUERY_DROP;
    } else if (acl == RD_ACL_REFUSE) {
        w->n_refused++;
        verdict = rd_query_refuse(q, nread, r->data, sizeof(r->data), &r->len);
    } else if ((r->len = rd_server_pcache_answer(w, q, nread, r->data, sizeof(r->data), false)) >
               0) {
        verdict = RD_QUERY_SEND;
    } else {
        rd_query_env_t env = {false, 0, acl == RD_ACL_ALLOW_SNOOP};
        verdict = rd_query_answer(w->view, &env, q, nread, r->data, sizeof(r->data), &r->len,
                                  w->res ? &info : NULL);
    }
    if (verdict == RD_QUERY_RECURSE) {
        rd_client_t client = {.udp = h};
        memcpy(&client.addr, addr,
               addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                           : sizeof(struct sockaddr_in));
        rd_recurse_start(w, &info, &client);
    }
    if (verdict == RD_QUERY_SEND) {
        r->tolen =
            addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        memcpy(&r->to, addr, r->tolen);
        b->n++;
    }
    if (b->n == RD_UDP_BATCH) flush(w);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags)
{
    rd_worker_t *w = h->loop->data;
    struct rd_udp_batch *b = w->udp_tx;
    if (flags & UV_UDP_MMSG_FREE) {
        flush(w); /* end of a receive batch */
        if (b->got < RD_UDP_BATCH) b->drained = h;
        b->got = 0;
        return;
    }
    if (flags & UV_UDP_MMSG_CHUNK) b->got++;
    if (nread > 0 && addr) datagram(w, h, (const uint8_t *)buf->base, (size_t)nread, addr);
    /* Outside a recvmmsg batch send at once. */
    if (!(flags & UV_UDP_MMSG_CHUNK)) flush(w);
}

int rd_udp_listen(rd_worker_t *w, const rd_addr_t *a, uv_udp_t *h)
{
    struct sockaddr_storage ss;
    int fam = rd_addr_to_sockaddr(a, &ss);
    int r = uv_udp_init_ex(&w->loop, h, (unsigned)fam | UV_UDP_RECVMMSG);
    if (r) return r;
    w->loop.data = w;
    size_t idx = (size_t)(h - w->udp);
    h->data = w->udp_rx + idx * (size_t)RD_UDP_BATCH * 65536;
    uv_os_fd_t fd;
    int one = 1;
    if ((r = uv_fileno((uv_handle_t *)h, &fd)) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        r = -errno;
    if (!r) {
        /* A burst (a client's first hundreds of queries, a cold cache) must wait in the socket,
         * not be dropped by it: the default buffer holds ~270 small datagrams. FORCE passes
         * net.core.rmem_max while we still run as root; otherwise the kernel caps it. */
        int sz = RD_UDP_RCVBUF;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    }
    if (!r) r = uv_udp_bind(h, (struct sockaddr *)&ss, fam == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
    if (!r) r = uv_udp_recv_start(h, on_alloc, on_recv);
    if (r) uv_close((uv_handle_t *)h, NULL);
    return r;
}
