/* New-connection load for bench/bench-tls.sh: many DoT connections at once, each a TLS
 * handshake (full, or resumed with a ticket), optionally one DNS query answered, then a close.
 * Non-blocking, N connections in flight on one epoll loop, so that the server rather than the
 * client sets the pace: openssl s_time and the Python client this replaces do one connection
 * at a time and spend ~1.2 ms of client CPU on each, more than any of the servers measured.
 * wolfSSL, not OpenSSL: OpenSSL 3.0's client spends ~0.65 ms of CPU per full handshake here
 * (most of it in provider and property lookups, pthread_rwlock), wolfSSL with assembly
 * (scripts/wolfssl-asm.sh) a fraction of that; bench-tls.sh links it when it is built and
 * Debian's wolfSSL otherwise, and says which in the report. The client offers what OpenSSL's
 * does by default: TLS 1.3 only here, key share X25519 (then P-256), suites
 * AES-256-GCM, ChaCha20-Poly1305, AES-128-GCM in that order.
 *
 *   hsclient MODE HOST PORT SECS [-c CONCURRENCY] [-n QNAME] [-s SNI]
 *
 * MODE  hs      full TLS 1.3 handshake, close_notify, close (what s_time -new measures)
 *       new     full TLS 1.3 handshake, one DoT query (RFC 7858), its answer, close
 *       resume  like new, but every connection offers the newest TLS 1.3 ticket received
 *               (RFC 8446 s2.2, PSK with (EC)DHE: the default psk_dhe_ke mode of all the
 *               servers' libraries); connections started before the first ticket arrived
 *               go without one (full handshakes, counted as not resumed)
 *
 * Prints one line: "connections N resumed R failed F secs S cpu C", N counting only
 * connections that completed (handshake, and the answer where there is a query), R those the
 * server resumed, F failures (refused, reset, a bad or missing answer, a 5 s timeout), C the
 * client's own CPU seconds. Certificates are not verified (as with s_time): the cost measured
 * is the server's; the client still checks the handshake signature, as TLS requires.
 * HSCLIENT_DEBUG=1 prints why the first failures failed.
 *
 * Built by bench/bench-tls.sh: cc -O2 -o hsclient hsclient.c $(pkg-config --cflags --libs wolfssl)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/options.h>

#include <wolfssl/ssl.h>

#define MAX_CONC  256
#define TIMEOUT_S 5.0

enum mode { M_HS, M_NEW, M_RESUME };
enum cstate { S_IDLE, S_CONNECT, S_HANDSHAKE, S_WRITE, S_READ };

struct conn {
    int fd;
    WOLFSSL *ssl;
    enum cstate st;
    double deadline;
    uint16_t id;
    size_t got;
    uint8_t buf[4096];
};

static enum mode mode;
static struct sockaddr_in addr;
static WOLFSSL_CTX *ctx;
static WOLFSSL_SESSION *latest; /* newest ticket (resume) */
static uint8_t query[512];
static size_t qlen;
static const char *sni = "bench.lab";
static unsigned long n_ok, n_resumed, n_failed;
static int ep;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A DoT query for name/A with RD set: 2-octet length (RFC 7858 s3.3, RFC 7766 s8), header,
 * question. The ID is patched per connection. */
static int make_query(const char *name)
{
    uint8_t *p = query + 2;
    static const uint8_t hdr[12] = {0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(p, hdr, 12);
    size_t n = 12;
    const char *s = name;
    while (*s && *s != '.') {
        const char *e = strchr(s, '.');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l == 0 || l > 63 || n + l + 1 > 255 + 12) return -1;
        p[n++] = (uint8_t)l;
        memcpy(p + n, s, l);
        n += l;
        s += l;
        if (*s == '.') s++;
    }
    p[n++] = 0;
    p[n++] = 0, p[n++] = 1; /* A */
    p[n++] = 0, p[n++] = 1; /* IN */
    query[0] = (uint8_t)(n >> 8);
    query[1] = (uint8_t)n;
    qlen = n + 2;
    return 0;
}

/* TLS 1.3 tickets arrive after the handshake (with the answer): keep the newest. */
static void keep_session(WOLFSSL *ssl)
{
    WOLFSSL_SESSION *s = wolfSSL_get1_session(ssl);
    if (!s) return;
    if (latest) wolfSSL_SESSION_free(latest);
    latest = s;
}

static void watch(struct conn *c, int op, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    if (epoll_ctl(ep, op, c->fd, &e) != 0 && op == EPOLL_CTL_MOD)
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
}

static void finish(struct conn *c, bool ok)
{
    if (!ok && getenv("HSCLIENT_DEBUG") && n_failed < 5)
        fprintf(stderr, "failed in state %d after %zu octets: errno %d, TLS error %d\n", (int)c->st,
                c->got, errno, c->ssl ? wolfSSL_get_error(c->ssl, 0) : 0);
    if (c->ssl) {
        if (ok) {
            if (wolfSSL_session_reused(c->ssl)) n_resumed++;
            if (mode == M_RESUME) keep_session(c->ssl);
            (void)wolfSSL_shutdown(c->ssl); /* close_notify, best effort (non-blocking) */
        }
        wolfSSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    if (ok)
        n_ok++;
    else
        n_failed++;
    c->st = S_IDLE;
}

static void start(struct conn *c)
{
    c->got = 0;
    c->id++;
    c->deadline = now() + TIMEOUT_S;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("socket");
        exit(1);
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->ssl = wolfSSL_new(ctx);
    if (!c->ssl || wolfSSL_set_fd(c->ssl, c->fd) != WOLFSSL_SUCCESS ||
        wolfSSL_UseSNI(c->ssl, WOLFSSL_SNI_HOST_NAME, sni, (unsigned short)strlen(sni)) !=
            WOLFSSL_SUCCESS ||
        wolfSSL_UseKeyShare(c->ssl, WOLFSSL_ECC_X25519) != WOLFSSL_SUCCESS) {
        fprintf(stderr, "wolfSSL_new failed\n");
        exit(1);
    }
    if (mode == M_RESUME && latest) (void)wolfSSL_set_session(c->ssl, latest);
    c->st = S_CONNECT;
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 && errno != EINPROGRESS) {
        finish(c, false);
        return;
    }
    watch(c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* What the TLS library wants next: wait for it, or fail. */
static void want(struct conn *c, int r)
{
    int e = wolfSSL_get_error(c->ssl, r);
    if (e == WOLFSSL_ERROR_WANT_READ)
        watch(c, EPOLL_CTL_MOD, EPOLLIN);
    else if (e == WOLFSSL_ERROR_WANT_WRITE)
        watch(c, EPOLL_CTL_MOD, EPOLLOUT);
    else
        finish(c, false);
}

static void drive(struct conn *c)
{
    for (;;) {
        switch (c->st) {
        case S_IDLE: return;
        case S_CONNECT: {
            int err = 0;
            socklen_t l = sizeof(err);
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err != 0) {
                finish(c, false);
                return;
            }
            c->st = S_HANDSHAKE;
            break;
        }
        case S_HANDSHAKE: {
            int r = wolfSSL_connect(c->ssl);
            if (r != WOLFSSL_SUCCESS) {
                want(c, r);
                return;
            }
            if (mode == M_HS) {
                finish(c, true);
                return;
            }
            query[2] = (uint8_t)(c->id >> 8);
            query[3] = (uint8_t)c->id;
            c->st = S_WRITE;
            break;
        }
        case S_WRITE: {
            int r = wolfSSL_write(c->ssl, query, (int)qlen);
            if (r <= 0) {
                want(c, r);
                return;
            }
            c->st = S_READ; /* a 2 + ~30 octet query is always written whole */
            break;
        }
        case S_READ: {
            int r = wolfSSL_read(c->ssl, c->buf + c->got, (int)(sizeof(c->buf) - c->got));
            if (r <= 0) {
                want(c, r);
                return;
            }
            c->got += (size_t)r;
            if (c->got < 2) break;
            size_t n = (size_t)c->buf[0] << 8 | c->buf[1];
            if (n + 2 > sizeof(c->buf)) {
                finish(c, false);
                return;
            }
            if (c->got < n + 2) break;
            const uint8_t *m = c->buf + 2;
            /* our ID, QR, RCODE 0 (NOERROR), at least one answer */
            bool ok = n >= 12 && m[0] == (uint8_t)(c->id >> 8) && m[1] == (uint8_t)c->id &&
                      (m[2] & 0x80) && (m[3] & 0x0F) == 0 && (m[6] | m[7]) != 0;
            finish(c, ok);
            return;
        }
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s hs|new|resume HOST PORT SECS [-c N] [-n QNAME] [-s SNI]\n",
                argv[0]);
        return 2;
    }
    mode = strcmp(argv[1], "hs") == 0    ? M_HS
           : strcmp(argv[1], "new") == 0 ? M_NEW
           : strcmp(argv[1], "resume") == 0
               ? M_RESUME
               : (fprintf(stderr, "unknown mode %s\n", argv[1]), exit(2), M_HS);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &addr.sin_addr) != 1) {
        fprintf(stderr, "bad IPv4 address %s\n", argv[2]);
        return 2;
    }
    double secs = atof(argv[4]);
    int conc = 8;
    const char *qname = "h1.bench.lab";
    for (int i = 5; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-c") == 0)
            conc = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "-n") == 0)
            qname = argv[i + 1];
        else if (strcmp(argv[i], "-s") == 0)
            sni = argv[i + 1];
    }
    if (conc < 1 || conc > MAX_CONC || make_query(qname) != 0) {
        fprintf(stderr, "bad -c (1..%d) or -n\n", MAX_CONC);
        return 2;
    }
    int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1};
    if (wolfSSL_Init() != WOLFSSL_SUCCESS ||
        !(ctx = wolfSSL_CTX_new(wolfTLSv1_3_client_method())) ||
        wolfSSL_CTX_set_cipher_list(ctx, "TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256:"
                                         "TLS13-AES128-GCM-SHA256") != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_set_groups(ctx, groups, 2) != WOLFSSL_SUCCESS) {
        fprintf(stderr, "wolfSSL context set-up failed\n");
        return 1;
    }
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
    ep = epoll_create1(EPOLL_CLOEXEC);
    static struct conn conns[MAX_CONC];
    double t0 = now(), end = t0 + secs;
    for (int i = 0; i < conc; i++) {
        conns[i].fd = -1;
        conns[i].id = (uint16_t)(i * 1000);
        start(&conns[i]);
    }
    int active = conc;
    while (active > 0) {
        struct epoll_event ev[MAX_CONC];
        int n = epoll_wait(ep, ev, MAX_CONC, 100);
        for (int i = 0; i < n; i++) drive(ev[i].data.ptr);
        double t = now();
        active = 0;
        for (int i = 0; i < conc; i++) {
            struct conn *c = &conns[i];
            if (c->st != S_IDLE && t > c->deadline) finish(c, false);
            if (c->st == S_IDLE && t < end) start(c);
            if (c->st != S_IDLE) active++;
        }
    }
    double wall = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("connections %lu resumed %lu failed %lu secs %.3f cpu %.3f\n", n_ok, n_resumed, n_failed,
           wall, cpu);
    if (latest) wolfSSL_SESSION_free(latest);
    wolfSSL_CTX_free(ctx);
    wolfSSL_Cleanup();
    close(ep);
    return 0;
}
