/* The ceiling row of the benchmarks: the cheapest UDP DNS responder we can write, so a
 * server's figures can be read against what this machine and this load generator allow.
 * One thread, blocking recvmmsg/sendmmsg batches (as resolverd's workers receive and send),
 * no cache, no zone: every query is answered NOERROR with its question and one fixed A record
 * (192.0.2.1, TTL 3600) whatever it asked. Not a DNS server: a measuring stick.
 *
 * usage: ceiling ADDR PORT      (IPv4; runs until killed)
 * build: cc -O2 -o ceiling bench/ceiling.c */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s ADDR PORT\n", argv[0]);
        return 2;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", argv[1]);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("socket/bind");
        return 1;
    }
    static uint8_t in[BATCH][BUF], out[BATCH][BUF + ANSWER];
    static struct sockaddr_in from[BATCH];
    static struct iovec iin[BATCH], iout[BATCH];
    static struct mmsghdr min[BATCH], mout[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iin[i] = (struct iovec){in[i], BUF};
        min[i].msg_hdr = (struct msghdr){.msg_iov = &iin[i], .msg_iovlen = 1};
    }
    static const uint8_t rr[ANSWER] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1};
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            min[i].msg_hdr.msg_name = &from[i];
            min[i].msg_hdr.msg_namelen = sizeof(from[i]);
        }
        int n = recvmmsg(fd, min, BATCH, MSG_WAITFORONE, NULL);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("recvmmsg");
            return 1;
        }
        int k = 0;
        for (int i = 0; i < n; i++) {
            size_t len = min[i].msg_len;
            if (len < 12 || (in[i][2] & 0x80)) continue;
            size_t q = question_len(in[i], len, 12);
            if (q == 0) continue;
            memcpy(out[k], in[i], 12 + q);
            out[k][2] = (uint8_t)(0x80 | (in[i][2] & 0x01)); /* QR, RD copied */
            out[k][3] = 0x80;                                /* RA, NOERROR */
            out[k][4] = 0, out[k][5] = 1;                    /* one question */
            out[k][6] = 0, out[k][7] = 1;                    /* one answer */
            memset(out[k] + 8, 0, 4);                        /* no authority, no additional */
            memcpy(out[k] + 12 + q, rr, ANSWER);
            iout[k] = (struct iovec){out[k], 12 + q + ANSWER};
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
    }
}
