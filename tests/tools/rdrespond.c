/* A tiny UDP responder for cross-checks: loads a zone file with our parser and answers every
 * query with the matching records, built by our message builder. dig and kdig then read what
 * we wrote, and its queries exercise our parser. Test tool only: no limits beyond the zone.
 * usage: rdrespond ORIGIN ZONEFILE ADDR PORT [MAXQUERIES] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolverd/msg.h"
#include "resolverd/zonefile.h"

typedef struct {
    uint8_t owner[RD_NAME_MAX];
    uint16_t type, rclass, rdlen;
    uint32_t ttl;
    uint8_t *rdata;
} rec_t;

static rec_t *recs;
static size_t nrecs, caprecs;

static int add_rr(void *ctx, const rd_zrr_t *rr)
{
    (void)ctx;
    if (nrecs == caprecs) {
        caprecs = caprecs ? caprecs * 2 : 64;
        rec_t *n = realloc(recs, caprecs * sizeof(*recs));
        if (!n) return RD_ENOMEM;
        recs = n;
    }
    rec_t *r = &recs[nrecs];
    memcpy(r->owner, rr->owner, rd_name_len(rr->owner));
    r->type = rr->type;
    r->rclass = rr->rclass;
    r->ttl = rr->ttl;
    r->rdlen = rr->rdlen;
    r->rdata = malloc(rr->rdlen ? rr->rdlen : 1);
    if (!r->rdata) return RD_ENOMEM;
    memcpy(r->rdata, rr->rdata, rr->rdlen);
    nrecs++;
    return 0;
}

static int on_err(void *ctx, const rd_zone_error_t *e)
{
    (void)ctx;
    fprintf(stderr, "%s:%u:%u: error: %s\n", e->file, e->line, e->col, e->msg);
    return 0;
}

static size_t answer(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap)
{
    rd_msg_t m;
    int r = rd_msg_parse(&m, q, qlen, NULL);
    uint16_t id = qlen >= 2 ? (uint16_t)(q[0] << 8 | q[1]) : 0;
    uint16_t qflags = qlen >= 4 ? (uint16_t)(q[2] << 8 | q[3]) : 0;
    rd_mb_t b;
    if (r || m.count[RD_SEC_QD] != 1) {
        fprintf(stderr, "rdrespond: query rejected: %s\n", r ? rd_strerror(r) : "qdcount");
        rd_mb_init(&b, out, cap, 512, id, RD_F_QR | RD_RCODE_FORMERR);
        return rd_mb_finish(&b);
    }
    size_t limit = 512;
    if (m.edns.present && m.edns.udp_size > 512) limit = m.edns.udp_size;
    rd_mb_init(&b, out, cap, limit, m.id, RD_F_QR | RD_F_AA | (qflags & (RD_F_RD | RD_F_CD)));
    rd_edns_build_t e = {1232, 0, 0, (uint16_t)(m.edns.flags & RD_EDNS_DO), NULL, 0};
    if (m.edns.present) rd_mb_reserve(&b, rd_edns_size(&e));
    const rd_rr_t *qr = rd_msg_rr(&m, RD_SEC_QD, 0);
    uint8_t qname[RD_NAME_MAX];
    size_t pos = qr->owner;
    rd_name_unpack(m.wire, m.len, &pos, qname, NULL);
    rd_mb_question(&b, qname, qr->type, qr->rclass);
    bool found = false;
    for (size_t i = 0; i < nrecs; i++) {
        if (!rd_name_eq(recs[i].owner, qname)) continue;
        found = true;
        if (qr->type != RD_TYPE_ANY && recs[i].type != qr->type) continue;
        if (rd_mb_rr(&b, RD_SEC_AN, recs[i].owner, recs[i].type, recs[i].rclass, recs[i].ttl,
                     recs[i].rdata, recs[i].rdlen))
            break;
    }
    if (!found) rd_mb_set_flags(&b, (uint16_t)(b.flags | RD_RCODE_NXDOMAIN));
    if (m.edns.present) rd_mb_opt(&b, &e);
    return rd_mb_finish(&b);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: rdrespond ORIGIN ZONEFILE ADDR PORT [MAXQUERIES]\n");
        return 2;
    }
    uint8_t origin[RD_NAME_MAX];
    if (rd_name_from_text(argv[1], strlen(argv[1]), (const uint8_t *)"", origin, NULL)) {
        fprintf(stderr, "bad origin\n");
        return 2;
    }
    rd_zone_opts_t o = {.origin = origin,
                        .default_ttl = 3600,
                        .allow_include = true,
                        .on_rr = add_rr,
                        .on_error = on_err};
    int r = rd_zone_parse_file(argv[2], &o);
    if (r != 0) {
        fprintf(stderr, "rdrespond: %s: %d errors (%s)\n", argv[2], r, r < 0 ? rd_strerror(r) : "");
        return 1;
    }
    long maxq = argc > 5 ? atol(argv[5]) : 100000;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[4]))};
    if (fd < 0 || inet_pton(AF_INET, argv[3], &sa.sin_addr) != 1 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("rdrespond: bind");
        return 1;
    }
    fprintf(stderr, "rdrespond: %zu records, listening on %s:%s\n", nrecs, argv[3], argv[4]);
    static uint8_t in[65536], out[65536];
    for (long n = 0; n < maxq; n++) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t got = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
        if (got < 0) continue;
        size_t len = answer(in, (size_t)got, out, sizeof(out));
        if (sendto(fd, out, len, 0, (struct sockaddr *)&from, fl) < 0) perror("sendto");
    }
    for (size_t i = 0; i < nrecs; i++) free(recs[i].rdata);
    free(recs);
    close(fd);
    return 0;
}
