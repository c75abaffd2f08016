/* Test client for the daemon's transports (test tool, not part of resolverd):
 *   rdstress pipeline ADDR PORT NAME N     N queries pipelined on one TCP connection, sent in
 *                                          one write; every ID must come back (any order)
 *   rdstress trickle ADDR PORT NAME        one TCP query sent one octet at a time
 *   rdstress garbage ADDR PORT N SEED      N malformed UDP datagrams, then one good query
 *                                          that must still be answered
 * Exit 0 on success; prints a summary line. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolverd/msg.h"

static struct sockaddr_in target(const char *addr, const char *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", addr);
        exit(2);
    }
    return sa;
}

static size_t make_query(const char *name, uint16_t id, uint8_t *out, size_t cap)
{
    uint8_t qn[RD_NAME_MAX];
    if (rd_name_from_text(name, strlen(name), (const uint8_t *)"", qn, NULL)) exit(2);
    rd_mb_t b;
    rd_mb_init(&b, out, cap, cap, id, RD_F_RD);
    rd_mb_question(&b, qn, RD_TYPE_A, RD_CLASS_IN);
    return rd_mb_finish(&b);
}

static int tcp_connect(struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)sa, sizeof(*sa)) != 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int read_full(int fd, uint8_t *p, size_t n, int timeout_ms)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, timeout_ms) <= 0) return -1;
        ssize_t r = read(fd, p + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

static int pipeline(struct sockaddr_in *sa, const char *name, int n)
{
    int fd = tcp_connect(sa);
    size_t cap = (size_t)n * 300;
    uint8_t *all = malloc(cap), q[300];
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        size_t ql = make_query(name, (uint16_t)(1000 + i), q, sizeof(q));
        all[len++] = (uint8_t)(ql >> 8);
        all[len++] = (uint8_t)ql;
        memcpy(all + len, q, ql);
        len += ql;
    }
    if (write(fd, all, len) != (ssize_t)len) {
        perror("write");
        return 1;
    }
    free(all);
    char *seen = calloc((size_t)n, 1);
    int answered = 0;
    for (int i = 0; i < n; i++) {
        uint8_t hdr[2], msg[65535];
        if (read_full(fd, hdr, 2, 5000)) break;
        size_t ml = (size_t)(hdr[0] << 8 | hdr[1]);
        if (read_full(fd, msg, ml, 5000)) break;
        rd_msg_t m;
        if (rd_msg_parse(&m, msg, ml, NULL) != 0) {
            fprintf(stderr, "unparsable response\n");
            break;
        }
        int idx = m.id - 1000;
        if (idx >= 0 && idx < n && !seen[idx]) {
            seen[idx] = 1;
            answered++;
        }
    }
    close(fd);
    free(seen);
    printf("pipeline: %d of %d queries answered on one connection\n", answered, n);
    return answered == n ? 0 : 1;
}

static int trickle(struct sockaddr_in *sa, const char *name)
{
    int fd = tcp_connect(sa);
    uint8_t q[300], f[302];
    size_t ql = make_query(name, 4242, q, sizeof(q));
    f[0] = (uint8_t)(ql >> 8);
    f[1] = (uint8_t)ql;
    memcpy(f + 2, q, ql);
    for (size_t i = 0; i < ql + 2; i++) {
        if (write(fd, f + i, 1) != 1) return 1;
        usleep(2000);
    }
    uint8_t hdr[2], msg[65535];
    int ok = read_full(fd, hdr, 2, 5000) == 0 &&
             read_full(fd, msg, (size_t)(hdr[0] << 8 | hdr[1]), 5000) == 0 &&
             (msg[0] << 8 | msg[1]) == 4242;
    close(fd);
    printf("trickle: %s\n", ok ? "answered" : "NOT answered");
    return ok ? 0 : 1;
}

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

static int garbage(struct sockaddr_in *sa, int n, unsigned seed)
{
    rng_state = seed;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    uint8_t good[300], pkt[600];
    size_t gl = make_query("home.lan.", 7, good, sizeof(good));
    for (int i = 0; i < n; i++) {
        size_t len;
        switch (i % 4) {
        case 0: /* truncation of a good query */
            len = rnd() % gl;
            memcpy(pkt, good, len);
            break;
        case 1: /* good query with a fuzzed header */
            memcpy(pkt, good, gl);
            for (int k = 0; k < 12; k++) pkt[k] = (uint8_t)rnd();
            pkt[2] &= 0x7F; /* keep QR clear so it is treated as a query */
            len = gl;
            break;
        case 2: /* random bytes after a plausible header */
            len = 12 + rnd() % 500;
            for (size_t k = 0; k < len; k++) pkt[k] = (uint8_t)rnd();
            pkt[2] &= 0x7F;
            break;
        default: /* flipped bits in a good query */
            memcpy(pkt, good, gl);
            len = gl;
            for (int k = 0; k < 3; k++) pkt[rnd() % gl] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        }
        sendto(fd, pkt, len, 0, (struct sockaddr *)sa, sizeof(*sa));
    }
    /* drain what came back, then the service must still answer */
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    uint8_t buf[65535];
    int replies = 0;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 300) <= 0) break;
        if (recv(fd, buf, sizeof(buf), 0) > 0) replies++;
    }
    sendto(fd, good, gl, 0, (struct sockaddr *)sa, sizeof(*sa));
    ssize_t r = recv(fd, buf, sizeof(buf), 0);
    int ok = r >= 12 && buf[0] == 0 && buf[1] == 7;
    printf("garbage: sent %d malformed datagrams, %d replies; service %s\n", n, replies,
           ok ? "still answering" : "NOT answering");
    close(fd);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && strcmp(argv[1], "pipeline") == 0) {
        struct sockaddr_in sa = target(argv[2], argv[3]);
        return pipeline(&sa, argv[4], atoi(argv[5]));
    }
    if (argc >= 5 && strcmp(argv[1], "trickle") == 0) {
        struct sockaddr_in sa = target(argv[2], argv[3]);
        return trickle(&sa, argv[4]);
    }
    if (argc >= 6 && strcmp(argv[1], "garbage") == 0) {
        struct sockaddr_in sa = target(argv[2], argv[3]);
        return garbage(&sa, atoi(argv[4]), (unsigned)atoi(argv[5]));
    }
    fprintf(stderr, "usage: rdstress pipeline|trickle|garbage ...\n");
    return 2;
}
