/* libFuzzer target for the DoH HTTP layer (src/net/http*.c): arbitrary octets from a client,
 * over HTTP/1.1 or HTTP/2.
 *
 * Input: one mode octet, then the client's octets.
 *   bit 0   0: HTTP/1.1; 1: HTTP/2, after a valid client preface and an empty SETTINGS frame
 *           (so that the fuzzer starts past the magic and reaches frames and HPACK at once)
 *   bit 1   answer each query inside on_query (a cache hit); else later, out of order
 *   bit 2   answer one query in four with an HTTP error instead of a DNS message
 *   bit 3   small limits: 2 streams / 2 pipelined requests
 *   bits 4-7 feed size: the input is fed in chunks of 1, 7, 64 ... octets (partial reads)
 *
 * Oracles: every query handed over has a 12-octet header with QDCOUNT 1; queries in flight
 * never exceed the slots; HTTP/1.1 output is whole responses ("HTTP/1.1 " first); after a
 * < 0 from rd_http_feed nothing more is fed (as the TLS layer will do); odd-sized inputs end
 * with rd_http_shutdown, after which every query still owed is answered; everything is freed
 * (LSan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "net/http.h"

#define MAXPEND 64

typedef struct {
    rd_http_t *h;
    bool h2, now, errors;
    unsigned slots;
    unsigned nq;
    uint32_t pend[MAXPEND];
    unsigned npend;
    size_t sent;
} fz_t;

/* The query turned into an answer: QR set, one A record for the question's name (a
 * compression pointer to offset 12) with a TTL taken from the query's ID. */
static size_t mkanswer(const uint8_t *q, size_t len, uint8_t *out, size_t cap)
{
    if (len + 16 > cap) len = cap - 16;
    memcpy(out, q, len);
    out[2] |= 0x80;
    out[7] = 1; /* ANCOUNT 1 (other counts as the query had them) */
    static const uint8_t rr[16] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1};
    memcpy(out + len, rr, 16);
    out[len + 8] = q[0];
    out[len + 9] = q[1];
    return len + 16;
}

static void answer(fz_t *f, uint32_t sid, const uint8_t *q, size_t len)
{
    if (f->errors && (f->nq % 4) == 0) {
        (void)rd_http_error(f->h, sid, 400 + f->nq % 200);
        return;
    }
    uint8_t buf[1024];
    uint8_t qq[12] = {0, 0, 0, 0, 0, 1};
    if (!q) q = qq, len = sizeof(qq);
    size_t n = mkanswer(q, len < 1000 ? len : 1000, buf, sizeof(buf));
    (void)rd_http_answer(f->h, sid, buf, n);
}

static int on_query(void *ctx, uint32_t sid, const uint8_t *q, size_t len)
{
    fz_t *f = ctx;
    FUZZ_CHECK(len >= 12 && len <= 65535, "query of %zu octets", len);
    FUZZ_CHECK(q[4] == 0 && q[5] == 1, "QDCOUNT %u", q[4] << 8 | q[5]);
    FUZZ_CHECK(rd_http_inflight(f->h) <= f->slots, "%u in flight, %u slots", rd_http_inflight(f->h),
               f->slots);
    f->nq++;
    if (f->nq % 13 == 0) return -1; /* the upper layer refuses one now and then: 503 */
    if (f->now) {
        answer(f, sid, q, len);
    } else if (f->npend < MAXPEND) {
        f->pend[f->npend++] = sid;
    } else {
        answer(f, sid, q, len);
    }
    return 0;
}

static int on_send(void *ctx, const uint8_t *data, size_t len)
{
    fz_t *f = ctx;
    FUZZ_CHECK(len > 0, "empty send");
    if (!f->h2)
        FUZZ_CHECK(len >= 12 && memcmp(data, "HTTP/1.1 ", 9) == 0, "HTTP/1.1 output: %.*s",
                   (int)(len < 40 ? len : 40), (const char *)data);
    f->sent += len;
    return 0;
}

/* Answers what waits, last first (out of order), also sids that were reset meanwhile. */
static void answer_pending(fz_t *f)
{
    while (f->npend) {
        uint32_t sid = f->pend[--f->npend];
        answer(f, sid, NULL, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++, size--;
    fz_t f = {0};
    f.h2 = mode & 1;
    f.now = mode & 2;
    f.errors = mode & 4;
    rd_http_opts_t o = {0};
    if (mode & 8) o.max_streams = o.pipeline_max = 2;
    f.slots = f.h2 ? (o.max_streams ? o.max_streams : 100) : (o.pipeline_max ? 2 : 16);
    static const size_t chunks[16] = {1,   7,    64,   100,   512,   1000,  1500,  4096,
                                      555, 8192, 9000, 16384, 16385, 30000, 65536, 1u << 20};
    size_t chunk = chunks[mode >> 4];
    rd_http_cbs_t cb = {.ctx = &f, .on_query = on_query, .on_send = on_send};
    FUZZ_CHECK(rd_http_new(f.h2, &o, &cb, &f.h) == 0, "rd_http_new");

    int rc = 0;
    if (f.h2) {
        /* RFC 9113 s3.4: the client preface, then a SETTINGS frame (empty here) */
        static const uint8_t pre[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
        rc = rd_http_feed(f.h, pre, sizeof(pre) - 1);
        FUZZ_CHECK(rc == 0, "a valid preface fails: %d", rc);
    }
    uint8_t *copy = fuzz_dup(data, size);
    for (size_t off = 0; off < size && rc >= 0;) {
        size_t n = size - off < chunk ? size - off : chunk;
        rc = rd_http_feed(f.h, copy + off, n);
        off += n;
        if (rc >= 0 && !f.now && (off / chunk) % 2 == 0) answer_pending(&f);
        if (rd_http_done(f.h)) break;
    }
    /* Odd sizes end with a graceful shutdown while answers are still owed. */
    if (rc >= 0 && (size & 1) && !rd_http_done(f.h)) rc = rd_http_shutdown(f.h);
    if (rc >= 0) answer_pending(&f);
    if (rc >= 0 && (size & 1) && !f.now)
        FUZZ_CHECK(rd_http_inflight(f.h) == 0, "%u in flight after all answers",
                   rd_http_inflight(f.h));
    free(copy);
    rd_http_free(f.h);
    return 0;
}
