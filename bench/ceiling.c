/* The ceiling row of the benchmarks: the cheapest UDP DNS responder we can write, so a
 * server's figures can be read against what this machine and this load generator allow.
 * One thread, no cache, no zone: every query is answered NOERROR with its question and one
 * fixed A record (192.0.2.1, TTL 3600) whatever it asked. Not a DNS server: a measuring stick.
 *
 * How it waits for datagrams is the thing the modes compare (bench/README.md, "io_uring"):
 *   block        blocking recvmmsg(MSG_WAITFORONE) + sendmmsg: 2 syscalls per wake-up (default)
 *   epoll        epoll_wait + non-blocking recvmmsg + sendmmsg: 3 syscalls per wake-up, what an
 *                event loop such as libuv (resolverd, kresd) or libevent (Unbound) pays at best
 *   uring        io_uring: one multishot recvmsg over a provided-buffer ring, answers as sendmsg
 *                SQEs, one io_uring_enter (submit + wait) per loop, no epoll
 *   uring-coop   the same with IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG
 *   uring-defer  the same with IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
 *   uring-batch:N:US  uring-defer, but each io_uring_enter sleeps until N datagrams have
 *                completed or US microseconds have passed, whichever comes first: fewer
 *                wake-ups at a low rate, paid for in latency (up to US per answer)
 * The uring modes exist only when built with -DCEILING_URING and liburing (>= 2.3).
 *
 * usage: ceiling ADDR PORT [MODE]      (IPv4; runs until killed)
 * build: cc -O2 -o ceiling bench/ceiling.c
 *        cc -O2 -DCEILING_URING -o ceiling bench/ceiling.c -luring */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef CEILING_URING
#include <liburing.h>
#include <sys/mman.h>
#endif

enum { BATCH = 64, BUF = 512, ANSWER = 16 };

/* Octets of the question section starting at off, or 0 when it does not fit in len. */
static size_t question_len(const uint8_t *p, size_t len, size_t off)
{
    size_t i = off;
    while (i < len && p[i] != 0) {
        if (p[i] > 63) return 0; /* no compression in a question we answer */
        i += 1u + p[i];
    }
    if (i + 5 > len) return 0; /* root label + QTYPE + QCLASS */
    return i + 5 - off;
}

/* The fixed answer to the query in (len octets) written to out (BUF + ANSWER octets);
 * its length, or 0 for a datagram we do not answer (a response, no question). */
static size_t answer(const uint8_t *in, size_t len, uint8_t *out)
{
    static const uint8_t rr[ANSWER] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1};
    if (len < 12 || len > BUF || (in[2] & 0x80)) return 0;
    size_t q = question_len(in, len, 12);
    if (q == 0) return 0;
    memcpy(out, in, 12 + q);
    out[2] = (uint8_t)(0x80 | (in[2] & 0x01)); /* QR, RD copied */
    out[3] = 0x80;                             /* RA, NOERROR */
    out[4] = 0, out[5] = 1;                    /* one question */
    out[6] = 0, out[7] = 1;                    /* one answer */
    memset(out + 8, 0, 4);                     /* no authority, no additional */
    memcpy(out + 12 + q, rr, ANSWER);
    return 12 + q + ANSWER;
}

static uint8_t in[BATCH][BUF], out[BATCH][BUF + ANSWER];
static struct sockaddr_in from[BATCH];
static struct iovec iin[BATCH], iout[BATCH];
static struct mmsghdr min[BATCH], mout[BATCH];

/* One recvmmsg batch answered with one sendmmsg; flags MSG_WAITFORONE (block) or
 * MSG_DONTWAIT (epoll). Returns the datagrams received, or -1 with errno. */
static int batch(int fd, int flags)
{
    for (int i = 0; i < BATCH; i++) {
        iin[i] = (struct iovec){in[i], BUF};
        min[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
                                         .msg_namelen = sizeof(from[i]),
                                         .msg_iov = &iin[i],
                                         .msg_iovlen = 1};
    }
    int n = recvmmsg(fd, min, BATCH, flags, NULL);
    if (n <= 0) return n;
    int k = 0;
    for (int i = 0; i < n; i++) {
        size_t len = answer(in[i], min[i].msg_len, out[k]);
        if (len == 0) continue;
        iout[k] = (struct iovec){out[k], len};
        mout[k].msg_hdr = (struct msghdr){.msg_name = &from[i],
                                          .msg_namelen = min[i].msg_hdr.msg_namelen,
                                          .msg_iov = &iout[k],
                                          .msg_iovlen = 1};
        k++;
    }
    for (int sent = 0; sent < k;) {
        int r = sendmmsg(fd, mout + sent, (unsigned)(k - sent), 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            break; /* a full socket buffer drops the rest, as a server would */
        }
        sent += r;
    }
    return n;
}

static int run_block(int fd)
{
    for (;;) {
        if (batch(fd, MSG_WAITFORONE) < 0 && errno != EINTR) {
            perror("recvmmsg");
            return 1;
        }
    }
}

/* epoll_wait, then one non-blocking recvmmsg per wake-up (a second one only when the batch
 * came back full), then the sendmmsg: the event-loop floor. */
static int run_epoll(int fd)
{
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        perror("epoll");
        return 1;
    }
    for (;;) {
        int r = epoll_wait(ep, &ev, 1, -1);
        if (r < 0 && errno != EINTR) {
            perror("epoll_wait");
            return 1;
        }
        if (r <= 0) continue;
        int n;
        while ((n = batch(fd, MSG_DONTWAIT)) == BATCH) {
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            perror("recvmmsg");
            return 1;
        }
    }
}

#ifdef CEILING_URING
/* Receive buffers given to the kernel through a provided-buffer ring: each holds the
 * io_uring_recvmsg_out header, the source address and the payload. A power of two. */
enum { NRBUF = 256, RBUF = 1024, BGID = 1, SLOTS = 256, UD_RECV = 0xffffffffu };

/* An answer in flight: its octets, destination and msghdr live until the sendmsg's CQE. */
struct slot {
    uint8_t out[BUF + ANSWER];
    struct sockaddr_in to;
    struct iovec iov;
    struct msghdr mh;
};

static struct slot slots[SLOTS];
static unsigned freelist[SLOTS], nfree;

static struct io_uring_sqe *sqe_get(struct io_uring *ring)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (!sqe) { /* SQ full: push it to the kernel and take a fresh entry */
        io_uring_submit(ring);
        sqe = io_uring_get_sqe(ring);
    }
    return sqe;
}

static void arm_recv(struct io_uring *ring, int fd, struct msghdr *mh)
{
    struct io_uring_sqe *sqe = sqe_get(ring);
    io_uring_prep_recvmsg_multishot(sqe, fd, mh, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BGID;
    io_uring_sqe_set_data64(sqe, UD_RECV);
}

/* batch_n datagrams or batch_us microseconds per wake-up (uring-batch); 1 and 0 otherwise */
static unsigned batch_n = 1, batch_us;

static int run_uring(int fd, unsigned setup_flags)
{
    struct io_uring ring;
    struct io_uring_params p = {.flags = setup_flags | IORING_SETUP_CQSIZE, .cq_entries = 4096};
    int e = io_uring_queue_init_params(SLOTS, &ring, &p);
    if (e < 0) {
        fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-e));
        return 1;
    }
    size_t brsz = NRBUF * sizeof(struct io_uring_buf);
    struct io_uring_buf_ring *br =
        mmap(NULL, brsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static uint8_t rbuf[NRBUF][RBUF];
    if (br == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)br, .ring_entries = NRBUF, .bgid = BGID};
    if ((e = io_uring_register_buf_ring(&ring, &reg, 0)) != 0) {
        fprintf(stderr, "io_uring_register_buf_ring: %s\n", strerror(-e));
        return 1;
    }
    io_uring_buf_ring_init(br);
    int mask = io_uring_buf_ring_mask(NRBUF);
    for (unsigned i = 0; i < NRBUF; i++) io_uring_buf_ring_add(br, rbuf[i], RBUF, i, mask, i);
    io_uring_buf_ring_advance(br, NRBUF);
    for (unsigned i = 0; i < SLOTS; i++) freelist[i] = SLOTS - 1 - i;
    nfree = SLOTS;

    /* The kernel reads msg_namelen and msg_controllen of this template for every datagram. */
    static struct msghdr mh = {.msg_namelen = sizeof(struct sockaddr_in)};
    arm_recv(&ring, fd, &mh);
    unsigned queued = 0; /* sendmsg SQEs prepared since the last io_uring_enter */
    for (;;) {
        /* Wait for one more completion than the sends just queued: UDP sends complete
         * inline at submission, so this sleeps until the next datagram, one syscall per loop. */
        if (batch_us == 0) {
            e = io_uring_submit_and_wait(&ring, queued + 1);
        } else {
            struct __kernel_timespec ts = {.tv_nsec = (long long)batch_us * 1000};
            struct io_uring_cqe *first;
            e = io_uring_submit_and_wait_timeout(&ring, &first, queued + batch_n, &ts, NULL);
        }
        if (e < 0 && e != -EINTR && e != -EAGAIN && e != -EBUSY && e != -ETIME) {
            fprintf(stderr, "io_uring_submit_and_wait: %s\n", strerror(-e));
            return 1;
        }
        queued = 0;
        unsigned seen = 0, bufs = 0, head;
        struct io_uring_cqe *cqe;
        io_uring_for_each_cqe(&ring, head, cqe)
        {
            seen++;
            if (cqe->user_data != UD_RECV) { /* a sendmsg finished: its slot is free */
                freelist[nfree++] = (unsigned)cqe->user_data;
                continue;
            }
            if (!(cqe->flags & IORING_CQE_F_MORE)) arm_recv(&ring, fd, &mh); /* e.g. ENOBUFS */
            if (cqe->res < 0 || !(cqe->flags & IORING_CQE_F_BUFFER)) continue;
            unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
            struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(rbuf[bid], cqe->res, &mh);
            if (o && !(o->flags & MSG_TRUNC) && o->namelen == sizeof(struct sockaddr_in) &&
                nfree > 0) {
                struct slot *s = &slots[freelist[nfree - 1]];
                size_t len = answer(io_uring_recvmsg_payload(o, &mh),
                                    io_uring_recvmsg_payload_length(o, cqe->res, &mh), s->out);
                if (len > 0) {
                    unsigned id = freelist[--nfree];
                    memcpy(&s->to, io_uring_recvmsg_name(o), sizeof(s->to));
                    s->iov = (struct iovec){s->out, len};
                    s->mh = (struct msghdr){.msg_name = &s->to,
                                            .msg_namelen = sizeof(s->to),
                                            .msg_iov = &s->iov,
                                            .msg_iovlen = 1};
                    struct io_uring_sqe *sqe = sqe_get(&ring);
                    io_uring_prep_sendmsg(sqe, fd, &s->mh, 0);
                    io_uring_sqe_set_data64(sqe, id);
                    queued++;
                }
            }
            /* the receive buffer goes straight back: the answer was copied out of it */
            io_uring_buf_ring_add(br, rbuf[bid], RBUF, (unsigned short)bid, mask, (int)bufs++);
        }
        io_uring_buf_ring_advance(br, (int)bufs);
        io_uring_cq_advance(&ring, seen);
    }
}
#endif

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr,
                "usage: %s ADDR PORT [block|epoll|uring|uring-coop|uring-defer|uring-batch:N:US]\n",
                argv[0]);
        return 2;
    }
    const char *mode = argc == 4 ? argv[3] : "block";
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", argv[1]);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    /* A ring's sockets are released by the kernel shortly after its process exits: when the
     * previous run used io_uring, the port may still be taken for a moment. */
    int b = -1;
    for (int try = 0; fd >= 0 && try < 50; try++) {
        if ((b = bind(fd, (struct sockaddr *)&sa, sizeof(sa))) == 0 || errno != EADDRINUSE) break;
        usleep(100000);
    }
    if (fd < 0 || b != 0) {
        perror("socket/bind");
        return 1;
    }
    if (strcmp(mode, "block") == 0) return run_block(fd);
    if (strcmp(mode, "epoll") == 0) return run_epoll(fd);
#ifdef CEILING_URING
    if (strcmp(mode, "uring") == 0) return run_uring(fd, 0);
    if (strcmp(mode, "uring-coop") == 0)
        return run_uring(fd, IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
    if (strcmp(mode, "uring-defer") == 0)
        return run_uring(fd, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
    if (sscanf(mode, "uring-batch:%u:%u", &batch_n, &batch_us) == 2 && batch_n >= 1 &&
        batch_n <= 64 && batch_us >= 1 && batch_us < 1000000)
        return run_uring(fd, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
#endif
    fprintf(stderr, "unknown mode %s (uring modes need -DCEILING_URING)\n", mode);
    return 2;
}
