/* UDP service: batched receive (recvmmsg through libuv), answer in place, send at once.
 * The hot path touches only per-worker buffers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server/server.h"

#define UDP_RX_CHUNKS      16
#define UDP_SEND_QUEUE_MAX 1024 /* sends waiting for a full socket buffer; beyond: drop */

typedef struct {
    uv_udp_send_t req;
    uv_buf_t buf;
    rd_worker_t *w;
    uint8_t data[];
} send_req_t;

/* Bound on copies waiting for socket space, across workers: a flood cannot grow memory. */
static unsigned queued_sends;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    uint8_t *area = h->data;
    *buf = uv_buf_init((char *)area, UDP_RX_CHUNKS * 65536);
}

static void on_sent(uv_udp_send_t *req, int status)
{
    (void)status;
    send_req_t *s = (send_req_t *)req;
    __atomic_sub_fetch(&queued_sends, 1, __ATOMIC_RELAXED);
    free(s);
}

static void send_reply(rd_worker_t *w, uv_udp_t *h, const struct sockaddr *to, const uint8_t *p,
                       size_t len)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);
    int r = uv_udp_try_send(h, &b, 1, to);
    if (r >= 0) return;
    if (r != UV_EAGAIN && r != UV_ENOSYS) {
        w->n_dropped++;
        return;
    }
    /* Socket buffer full: queue a copy, within a bound. */
    if (__atomic_load_n(&queued_sends, __ATOMIC_RELAXED) >= UDP_SEND_QUEUE_MAX) {
        w->n_dropped++;
        return;
    }
    send_req_t *s = malloc(sizeof(*s) + len);
    if (!s) {
        w->n_dropped++;
        return;
    }
    memcpy(s->data, p, len);
    s->buf = uv_buf_init((char *)s->data, (unsigned)len);
    s->w = w;
    __atomic_add_fetch(&queued_sends, 1, __ATOMIC_RELAXED);
    if (uv_udp_send(&s->req, h, &s->buf, 1, to, on_sent)) {
        __atomic_sub_fetch(&queued_sends, 1, __ATOMIC_RELAXED);
        free(s);
        w->n_dropped++;
    }
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags)
{
    (void)buf;
    if (flags & UV_UDP_MMSG_FREE) return; /* our area is per worker: nothing to free */
    if (nread <= 0 || !addr) return;
    rd_worker_t *w = h->loop->data;
    w->n_udp++;
    const uint8_t *q = (const uint8_t *)buf->base;
    size_t outlen = 0;
    int verdict;
    int acl = rd_server_acl(w, addr);
    if (acl == RD_ACL_DENY) {
        w->n_dropped++;
        return;
    }
    if (acl == RD_ACL_REFUSE) {
        w->n_refused++;
        verdict = rd_query_refuse(q, (size_t)nread, w->out, sizeof(w->out), &outlen);
    } else {
        rd_query_env_t env = {false, 0};
        verdict = rd_query_answer(w->view, &env, q, (size_t)nread, w->out, &outlen);
    }
    if (verdict == RD_QUERY_SEND) send_reply(w, h, addr, w->out, outlen);
}

int rd_udp_listen(rd_worker_t *w, const rd_addr_t *a, uv_udp_t *h)
{
    struct sockaddr_storage ss;
    int fam = rd_addr_to_sockaddr(a, &ss);
    int r = uv_udp_init_ex(&w->loop, h, (unsigned)fam | UV_UDP_RECVMMSG);
    if (r) return r;
    w->loop.data = w;
    size_t idx = (size_t)(h - w->udp);
    h->data = w->udp_rx + idx * (size_t)UDP_RX_CHUNKS * 65536;
    uv_os_fd_t fd;
    int one = 1;
    if ((r = uv_fileno((uv_handle_t *)h, &fd)) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        r = -errno;
    if (!r) r = uv_udp_bind(h, (struct sockaddr *)&ss, fam == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
    if (!r) r = uv_udp_recv_start(h, on_alloc, on_recv);
    if (r) uv_close((uv_handle_t *)h, NULL);
    return r;
}
