/* The DoH HTTP layer (src/net/http*.c) driven with in-memory bytes: an nghttp2 client
 * session for HTTP/2, raw text for HTTP/1.1. */
#include <criterion/criterion.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "net/http.h"
#include "resolverd/msg.h"

/* ---- the layer above: records queries, collects output ---- */

#define MAXQ 512

typedef struct {
    rd_http_t *h;
    uint8_t *out; /* what the server sent, not yet consumed */
    size_t out_len;
    size_t sent_total;
    unsigned nq;
    uint32_t sid[MAXQ];
    uint8_t q[MAXQ][512];
    size_t qlen[MAXQ];
    bool answer_now; /* answer inside on_query, as a cache hit does */
    int reject;      /* on_query's return */
    bool busy;       /* what the busy callback says (when mk_busy made the object) */
} up_t;

static uint8_t *build_answer(const uint8_t *q, size_t qlen, uint32_t ttl1, uint32_t ttl2,
                             size_t *len);

static int on_query(void *ctx, uint32_t sid, const uint8_t *q, size_t len)
{
    up_t *u = ctx;
    cr_assert_lt(u->nq, MAXQ);
    u->sid[u->nq] = sid;
    size_t n = len < sizeof(u->q[0]) ? len : sizeof(u->q[0]);
    memcpy(u->q[u->nq], q, n);
    u->qlen[u->nq] = len;
    u->nq++;
    if (u->reject) return u->reject;
    if (u->answer_now) {
        size_t alen;
        uint8_t *a = build_answer(q, len, 300, 60, &alen);
        cr_assert_eq(rd_http_answer(u->h, sid, a, alen), 0);
        free(a);
    }
    return 0;
}

static int on_send(void *ctx, const uint8_t *data, size_t len)
{
    up_t *u = ctx;
    u->out = realloc(u->out, u->out_len + len);
    cr_assert(u->out);
    memcpy(u->out + u->out_len, data, len);
    u->out_len += len;
    u->sent_total += len;
    return 0;
}

static rd_http_t *mk(up_t *u, bool h2, const rd_http_opts_t *o)
{
    memset(u, 0, sizeof(*u));
    rd_http_cbs_t cb = {.ctx = u, .on_query = on_query, .on_send = on_send};
    cr_assert_eq(rd_http_new(h2, o, &cb, &u->h), 0);
    return u->h;
}

static bool on_busy(void *ctx)
{
    return ((up_t *)ctx)->busy;
}

/* With the busy callback: the layer below can say it is behind. */
static rd_http_t *mk_busy(up_t *u, bool h2)
{
    memset(u, 0, sizeof(*u));
    rd_http_cbs_t cb = {.ctx = u, .on_query = on_query, .on_send = on_send, .busy = on_busy};
    cr_assert_eq(rd_http_new(h2, NULL, &cb, &u->h), 0);
    return u->h;
}

static void up_free(up_t *u)
{
    rd_http_free(u->h);
    free(u->out);
}

/* ---- DNS messages ---- */

/* A query for NAME/A with the given ID (RFC 8484 s4.1: clients use 0). */
static size_t mkquery(const char *name, uint16_t id, uint8_t *buf, size_t cap)
{
    uint8_t qn[RD_NAME_MAX];
    size_t n;
    cr_assert_eq(rd_name_from_text(name, strlen(name), NULL, qn, &n), 0);
    rd_mb_t b;
    rd_mb_init(&b, buf, cap, cap, id, RD_F_RD);
    cr_assert_eq(rd_mb_question(&b, qn, RD_TYPE_A, RD_CLASS_IN), 0);
    return rd_mb_finish(&b);
}

/* An answer to q with two A records of the given TTLs. */
static uint8_t *build_answer(const uint8_t *q, size_t qlen, uint32_t ttl1, uint32_t ttl2,
                             size_t *len)
{
    rd_msg_t m;
    cr_assert_eq(rd_msg_parse_question(&m, q, qlen), 0);
    const uint8_t *qname = q + m.rrs[0].owner;
    uint8_t *buf = malloc(1024);
    rd_mb_t b;
    rd_mb_init(&b, buf, 1024, 1024, m.id, RD_F_QR | RD_F_RD | RD_F_RA);
    cr_assert_eq(rd_mb_question(&b, qname, RD_TYPE_A, RD_CLASS_IN), 0);
    uint8_t a1[4] = {192, 0, 2, 1}, a2[4] = {192, 0, 2, 2};
    cr_assert_eq(rd_mb_rr(&b, RD_SEC_AN, qname, RD_TYPE_A, RD_CLASS_IN, ttl1, a1, 4), 0);
    cr_assert_eq(rd_mb_rr(&b, RD_SEC_AN, qname, RD_TYPE_A, RD_CLASS_IN, ttl2, a2, 4), 0);
    *len = rd_mb_finish(&b);
    return buf;
}

static void b64url(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = a[(v >> 6) & 63];
        if (i + 2 < n) out[o++] = a[v & 63];
    }
    out[o] = '\0';
}

Test(http, min_ttl)
{
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q)), al;
    uint8_t *a = build_answer(q, ql, 300, 60, &al);
    cr_assert_eq(rd_http_min_ttl(a, al), 60);
    free(a);
    a = build_answer(q, ql, 0x80000001u, 60, &al); /* RFC 2181 s8: counts as 0 */
    cr_assert_eq(rd_http_min_ttl(a, al), 0);
    free(a);
    cr_assert_eq(rd_http_min_ttl(q, ql), 0); /* no records */
    cr_assert_eq(rd_http_min_ttl(q, 5), 0);  /* not a message */
}

Test(http, new_rejects_bad_options)
{
    up_t u = {0};
    rd_http_cbs_t cb = {.ctx = &u, .on_query = on_query, .on_send = on_send};
    rd_http_t *h;
    rd_http_opts_t o = {.path = "dns-query"};
    cr_assert_eq(rd_http_new(true, &o, &cb, &h), RD_EINVAL);
    o = (rd_http_opts_t){.max_streams = 100000};
    cr_assert_eq(rd_http_new(true, &o, &cb, &h), RD_EINVAL);
    rd_http_cbs_t nocb = {.ctx = &u, .on_send = on_send};
    cr_assert_eq(rd_http_new(false, NULL, &nocb, &h), RD_EINVAL);
}

/* ================================ HTTP/2 ================================ */

#define MAXS 512

typedef struct {
    nghttp2_session *s;
    unsigned status[MAXS]; /* by stream id / 2 */
    char ctype[MAXS][64];
    char cc[MAXS][64];
    char allow[MAXS][32];
    uint8_t body[MAXS][1024];
    size_t body_len[MAXS];
    bool closed[MAXS];
    uint32_t close_err[MAXS];
    int order[MAXS]; /* stream ids in the order their responses ended */
    unsigned nordered;
    bool goaway;
    uint32_t goaway_err;
} cli_t;

static unsigned ix(int32_t sid)
{
    cr_assert(sid > 0 && (unsigned)sid / 2 < MAXS);
    return (unsigned)sid / 2;
}

static int c_on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                       const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    (void)s, (void)flags;
    cli_t *c = ud;
    unsigned i = ix(f->hd.stream_id);
    char v[128];
    snprintf(v, sizeof(v), "%.*s", (int)vlen, (const char *)value);
    if (nlen == 7 && !memcmp(name, ":status", 7)) c->status[i] = (unsigned)atoi(v);
    if (nlen == 12 && !memcmp(name, "content-type", 12)) snprintf(c->ctype[i], 64, "%.60s", v);
    if (nlen == 13 && !memcmp(name, "cache-control", 13)) snprintf(c->cc[i], 64, "%.60s", v);
    if (nlen == 5 && !memcmp(name, "allow", 5)) snprintf(c->allow[i], 32, "%.30s", v);
    return 0;
}

static int c_on_data(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data,
                     size_t len, void *ud)
{
    (void)s, (void)flags;
    cli_t *c = ud;
    unsigned i = ix(sid);
    cr_assert_leq(c->body_len[i] + len, sizeof(c->body[0]));
    memcpy(c->body[i] + c->body_len[i], data, len);
    c->body_len[i] += len;
    return 0;
}

static int c_on_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    cli_t *c = ud;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        c->goaway = true;
        c->goaway_err = f->goaway.error_code;
    }
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        c->order[c->nordered++] = f->hd.stream_id;
    return 0;
}

static int c_on_close(nghttp2_session *s, int32_t sid, uint32_t err, void *ud)
{
    (void)s;
    cli_t *c = ud;
    c->closed[ix(sid)] = true;
    c->close_err[ix(sid)] = err;
    return 0;
}

static void cli_init(cli_t *c)
{
    memset(c, 0, sizeof(*c));
    nghttp2_session_callbacks *cb;
    cr_assert_eq(nghttp2_session_callbacks_new(&cb), 0);
    nghttp2_session_callbacks_set_on_header_callback(cb, c_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, c_on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, c_on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, c_on_close);
    nghttp2_option *opt;
    nghttp2_option_new(&opt);
    /* the client side must not itself refuse to open many streams before settings arrive */
    nghttp2_option_set_peer_max_concurrent_streams(opt, 1000);
    cr_assert_eq(nghttp2_session_client_new2(&c->s, cb, c, opt), 0);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    cr_assert_eq(nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, NULL, 0), 0);
}

/* Moves bytes both ways until neither side has anything to say. Returns the last
 * rd_http_feed result. */
static int pump(cli_t *c, up_t *u)
{
    int last = 0;
    for (int round = 0; round < 10000; round++) {
        bool moved = false;
        const uint8_t *p;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(c->s, &p)) > 0) {
            int rc = rd_http_feed(u->h, p, (size_t)n);
            if (rc < 0) last = rc;
            moved = true;
            if (rc < 0) break;
        }
        cr_assert_geq(n, 0);
        if (u->out_len) {
            ssize_t r = nghttp2_session_mem_recv(c->s, u->out, u->out_len);
            cr_assert_eq(r, (ssize_t)u->out_len, "client mem_recv: %zd", r);
            u->out_len = 0;
            moved = true;
        }
        if (!moved || last < 0) return last;
    }
    cr_assert_fail("pump does not settle");
    return last;
}

#define HNV(n, v)                                                                                  \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE                 \
    }

typedef struct {
    const uint8_t *p;
    size_t len, off;
} src_t;

static ssize_t c_read(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len, uint32_t *flags,
                      nghttp2_data_source *ds, void *ud)
{
    (void)s, (void)sid, (void)ud;
    src_t *src = ds->ptr;
    size_t n = src->len - src->off;
    if (n > len) n = len;
    memcpy(buf, src->p + src->off, n);
    src->off += n;
    if (src->off == src->len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int32_t h2_get(cli_t *c, const char *path)
{
    nghttp2_nv nv[] = {HNV(":method", "GET"), HNV(":scheme", "https"),
                       HNV(":authority", "resolver.lab"), HNV(":path", path),
                       HNV("accept", "application/dns-message")};
    int32_t sid = nghttp2_submit_request(c->s, NULL, nv, 5, NULL, NULL);
    cr_assert_gt(sid, 0);
    return sid;
}

static int32_t h2_get_query(cli_t *c, const uint8_t *q, size_t ql)
{
    char path[1024] = "/dns-query?dns=";
    b64url(q, ql, path + strlen(path));
    return h2_get(c, path);
}

static int32_t h2_post(cli_t *c, const char *path, const char *ctype, src_t *src)
{
    nghttp2_nv nv[] = {HNV(":method", "POST"), HNV(":scheme", "https"),
                       HNV(":authority", "resolver.lab"), HNV(":path", path),
                       HNV("content-type", ctype)};
    nghttp2_data_provider prov = {.source.ptr = src, .read_callback = c_read};
    int32_t sid = nghttp2_submit_request(c->s, NULL, nv, 5, &prov, NULL);
    cr_assert_gt(sid, 0);
    return sid;
}

static void expect_answer(cli_t *c, int32_t sid, const uint8_t *a, size_t al, const char *cc)
{
    unsigned i = ix(sid);
    cr_assert_eq(c->status[i], 200, "stream %d status %u", sid, c->status[i]);
    cr_assert_str_eq(c->ctype[i], "application/dns-message");
    cr_assert_str_eq(c->cc[i], cc);
    cr_assert_eq(c->body_len[i], al);
    cr_assert_arr_eq(c->body[i], a, al);
}

Test(http2, get_answered_with_max_age)
{
    up_t u;
    rd_http_t *h = mk(&u, true, NULL);
    cli_t c;
    cli_init(&c);
    uint8_t q[512];
    size_t ql = mkquery("www.example.com.", 0, q, sizeof(q)), al;
    int32_t sid = h2_get_query(&c, q, ql);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(u.nq, 1);
    cr_assert_eq(u.qlen[0], ql);
    cr_assert_arr_eq(u.q[0], q, ql);
    cr_assert_eq(c.status[ix(sid)], 0, "no answer before the resolver's");
    cr_assert_eq(rd_http_inflight(h), 1);
    uint8_t *a = build_answer(q, ql, 300, 60, &al);
    cr_assert_eq(rd_http_answer(h, u.sid[0], a, al), 0);
    cr_assert_eq(pump(&c, &u), 0);
    expect_answer(&c, sid, a, al, "max-age=60");
    cr_assert_eq(rd_http_inflight(h), 0);
    cr_assert(!rd_http_done(h));
    /* the server advertised its stream limit (SETTINGS_MAX_CONCURRENT_STREAMS) */
    cr_assert_eq(nghttp2_session_get_remote_settings(c.s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
                 100);
    /* a second answer for the same sid is ignored */
    size_t before = u.sent_total;
    cr_assert_eq(rd_http_answer(h, u.sid[0], a, al), 0);
    cr_assert_eq(u.sent_total, before);
    free(a);
    nghttp2_session_del(c.s);
    up_free(&u);
}

Test(http2, post_answered_from_on_query)
{
    up_t u;
    mk(&u, true, NULL);
    u.answer_now = true;
    cli_t c;
    cli_init(&c);
    uint8_t q[512];
    size_t ql = mkquery("a.example.", 0, q, sizeof(q)), al;
    src_t src = {q, ql, 0};
    int32_t sid = h2_post(&c, "/dns-query", "application/dns-message", &src);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(u.nq, 1);
    cr_assert_arr_eq(u.q[0], q, ql);
    uint8_t *a = build_answer(q, ql, 300, 60, &al);
    expect_answer(&c, sid, a, al, "max-age=60");
    free(a);
    cr_assert(c.closed[ix(sid)]);
    cr_assert_eq(c.close_err[ix(sid)], NGHTTP2_NO_ERROR);
    nghttp2_session_del(c.s);
    up_free(&u);
}

Test(http2, concurrent_streams_answered_out_of_order)
{
    up_t u;
    rd_http_opts_t o = {.path = "/q", .max_streams = 20};
    rd_http_t *h = mk(&u, true, &o);
    cli_t c;
    cli_init(&c);
    enum { N = 20 };
    uint8_t q[N][128];
    size_t ql[N];
    int32_t sid[N];
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "n%d.example.", i);
        ql[i] = mkquery(name, (uint16_t)i, q[i], sizeof(q[i]));
        char path[512] = "/q?x=1&dns=";
        b64url(q[i], ql[i], path + strlen(path));
        sid[i] = h2_get(&c, path);
    }
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(u.nq, N);
    cr_assert_eq(rd_http_inflight(h), N);
    /* answer in reverse order, each to the query it got */
    for (int k = N - 1; k >= 0; k--) {
        size_t al;
        uint16_t id = (uint16_t)(u.q[k][0] << 8 | u.q[k][1]);
        uint8_t *a = build_answer(u.q[k], u.qlen[k], 100 + id, 200, &al);
        cr_assert_eq(rd_http_answer(h, u.sid[k], a, al), 0);
        free(a);
        cr_assert_eq(pump(&c, &u), 0);
    }
    cr_assert_eq(c.nordered, N);
    for (int i = 0; i < N; i++) {
        size_t al;
        uint8_t *a = build_answer(q[i], ql[i], 100 + (uint32_t)i, 200, &al);
        char cc[32];
        snprintf(cc, sizeof(cc), "max-age=%d", 100 + i);
        expect_answer(&c, sid[i], a, al, cc);
        free(a);
        /* responses ended in the order of the answers: last submitted, first answered */
        cr_assert_eq(c.order[i], sid[N - 1 - i]);
    }
    cr_assert_eq(nghttp2_session_get_remote_settings(c.s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
                 20);
    nghttp2_session_del(c.s);
    up_free(&u);
}

/* One request with a given method, path, content type and body; returns its status. */
static unsigned h2_one(const char *method, const char *path, const char *ctype, const uint8_t *body,
                       size_t blen, const char *extra_name, const char *extra_val, char *allow)
{
    up_t u;
    mk(&u, true, NULL);
    u.answer_now = true;
    cli_t c;
    cli_init(&c);
    nghttp2_nv nv[8] = {HNV(":method", method), HNV(":scheme", "https"),
                        HNV(":authority", "resolver.lab"), HNV(":path", path)};
    size_t nnv = 4;
    if (ctype) nv[nnv++] = (nghttp2_nv)HNV("content-type", ctype);
    if (extra_name) nv[nnv++] = (nghttp2_nv)HNV(extra_name, extra_val);
    src_t src = {body, blen, 0};
    nghttp2_data_provider prov = {.source.ptr = &src, .read_callback = c_read};
    int32_t sid = nghttp2_submit_request(c.s, NULL, nv, nnv, body ? &prov : NULL, NULL);
    cr_assert_gt(sid, 0);
    cr_assert_eq(pump(&c, &u), 0);
    unsigned st = c.status[ix(sid)];
    if (st != 200) {
        cr_assert_eq(u.nq, 0, "no query for an error");
        cr_assert_eq(c.body_len[ix(sid)], 0);
    }
    if (allow) snprintf(allow, 32, "%s", c.allow[ix(sid)]);
    nghttp2_session_del(c.s);
    up_free(&u);
    return st;
}

Test(http2, error_statuses)
{
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q));
    char ok[1024] = "/dns-query?dns=";
    b64url(q, ql, ok + strlen(ok));
    cr_assert_eq(h2_one("GET", ok, NULL, NULL, 0, NULL, NULL, NULL), 200);
    /* 404: another path, also one that starts like ours */
    cr_assert_eq(h2_one("GET", "/other?dns=AAAA", NULL, NULL, 0, NULL, NULL, NULL), 404);
    cr_assert_eq(h2_one("GET", "/dns-queryX?dns=AAAA", NULL, NULL, 0, NULL, NULL, NULL), 404);
    /* 405 with allow */
    char allow[32];
    cr_assert_eq(h2_one("PUT", "/dns-query", "application/dns-message", q, ql, NULL, NULL, allow),
                 405);
    cr_assert_str_eq(allow, "GET, POST");
    /* 415 */
    cr_assert_eq(h2_one("POST", "/dns-query", "text/plain", q, ql, NULL, NULL, NULL), 415);
    cr_assert_eq(h2_one("POST", "/dns-query", NULL, q, ql, NULL, NULL, NULL), 415);
    cr_assert_eq(
        h2_one("POST", "/dns-query", "application/dns-message; x=1", q, ql, NULL, NULL, NULL), 200);
    /* 400: bad base64url, no dns parameter, padding in the middle, a short message,
     * QDCOUNT 2 */
    cr_assert_eq(h2_one("GET", "/dns-query?dns=AA$A", NULL, NULL, 0, NULL, NULL, NULL), 400);
    cr_assert_eq(h2_one("GET", "/dns-query?dnsx=AAAA", NULL, NULL, 0, NULL, NULL, NULL), 400);
    cr_assert_eq(h2_one("GET", "/dns-query", NULL, NULL, 0, NULL, NULL, NULL), 400);
    cr_assert_eq(h2_one("GET", "/dns-query?dns=AA=A", NULL, NULL, 0, NULL, NULL, NULL), 400);
    cr_assert_eq(h2_one("GET", "/dns-query?dns=AAAAAAAA", NULL, NULL, 0, NULL, NULL, NULL), 400);
    cr_assert_eq(h2_one("POST", "/dns-query", "application/dns-message", q, 11, NULL, NULL, NULL),
                 400);
    uint8_t q2[512];
    memcpy(q2, q, ql);
    q2[5] = 2;
    cr_assert_eq(h2_one("POST", "/dns-query", "application/dns-message", q2, ql, NULL, NULL, NULL),
                 400);
    /* padding tolerated (documented choice) */
    char padded[1024];
    snprintf(padded, sizeof(padded), "%s%s", ok, ql % 3 == 1 ? "==" : ql % 3 == 2 ? "=" : "");
    cr_assert_eq(h2_one("GET", padded, NULL, NULL, 0, NULL, NULL, NULL), 200);
    /* 406 for an accept that rules DNS out; lenient with lists and wildcards */
    cr_assert_eq(h2_one("GET", ok, NULL, NULL, 0, "accept", "text/html", NULL), 406);
    cr_assert_eq(h2_one("GET", ok, NULL, NULL, 0, "accept", "text/html, */*;q=0.1", NULL), 200);
    cr_assert_eq(h2_one("GET", ok, NULL, NULL, 0, "accept", "application/*", NULL), 200);
    /* 413: a body of 65536 octets */
    uint8_t *big = calloc(1, 65536);
    memcpy(big, q, ql);
    cr_assert_eq(
        h2_one("POST", "/dns-query", "application/dns-message", big, 65536, NULL, NULL, NULL), 413);
    /* 65535 is allowed (the resolver then judges the message) */
    cr_assert_eq(
        h2_one("POST", "/dns-query", "application/dns-message", big, 65535, NULL, NULL, NULL), 200);
    free(big);
    /* 414: a path over RD_HTTP_URI_MAX */
    char *lp = malloc(5000);
    memset(lp, 'A', 4999);
    lp[4999] = '\0';
    memcpy(lp, "/dns-query?dns=", 15);
    cr_assert_eq(h2_one("GET", lp, NULL, NULL, 0, NULL, NULL, NULL), 414);
    /* 431: header fields over RD_HTTP_HEADERS_MAX */
    lp[4000] = '\0';
    char *lv = strdup(lp + 15);
    cr_assert_eq(h2_one("GET", ok, NULL, NULL, 0, "x-a", lv, NULL), 200);
    lp[4999] = 'A';
    lp[4999] = '\0';
    free(lv);
    lv = malloc(9000);
    memset(lv, 'b', 8999);
    lv[8999] = '\0';
    cr_assert_eq(h2_one("GET", ok, NULL, NULL, 0, "x-a", lv, NULL), 431);
    free(lv);
    free(lp);
}

Test(http2, rejected_query_is_503_and_error_status_passes)
{
    up_t u;
    rd_http_t *h = mk(&u, true, NULL);
    u.reject = -1;
    cli_t c;
    cli_init(&c);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q));
    int32_t s1 = h2_get_query(&c, q, ql);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(c.status[ix(s1)], 503);
    cr_assert_eq(rd_http_inflight(h), 0);
    u.reject = 0;
    int32_t s2 = h2_get_query(&c, q, ql);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(rd_http_error(h, u.sid[1], 504), 0);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(c.status[ix(s2)], 504);
    cr_assert_eq(c.body_len[ix(s2)], 0);
    nghttp2_session_del(c.s);
    up_free(&u);
}

Test(http2, reset_while_pending_then_answered)
{
    up_t u;
    rd_http_t *h = mk(&u, true, NULL);
    cli_t c;
    cli_init(&c);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q)), al;
    int32_t sid = h2_get_query(&c, q, ql);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(u.nq, 1);
    cr_assert_eq(rd_http_inflight(h), 1);
    cr_assert_eq(nghttp2_submit_rst_stream(c.s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL), 0);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(rd_http_inflight(h), 0, "the query is detached");
    size_t before = u.sent_total;
    uint8_t *a = build_answer(q, ql, 300, 60, &al);
    cr_assert_eq(rd_http_answer(h, u.sid[0], a, al), 0);
    cr_assert_eq(rd_http_error(h, u.sid[0], 500), 0);
    cr_assert_eq(u.sent_total, before, "nothing sent for a reset stream");
    cr_assert_eq(c.status[ix(sid)], 0);
    /* the connection still works */
    int32_t s2 = h2_get_query(&c, q, ql);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(rd_http_answer(h, u.sid[1], a, al), 0);
    cr_assert_eq(pump(&c, &u), 0);
    expect_answer(&c, s2, a, al, "max-age=60");
    free(a);
    nghttp2_session_del(c.s);
    up_free(&u);
}

Test(http2, rapid_reset_gets_goaway)
{
    up_t u;
    rd_http_t *h = mk(&u, true, NULL);
    cli_t c;
    cli_init(&c);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q));
    int rc = 0;
    for (int i = 0; i < 400 && !c.goaway; i++) {
        int32_t sid = h2_get_query(&c, q, ql);
        /* HEADERS, then RST_STREAM before any answer (nghttp2 would not even send a
         * request reset before it left) */
        rc = pump(&c, &u);
        if (rc < 0) break;
        cr_assert_eq(nghttp2_submit_rst_stream(c.s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL), 0);
        rc = pump(&c, &u);
        if (rc < 0) break;
    }
    cr_assert(c.goaway, "GOAWAY after a reset flood");
    cr_assert_eq(c.goaway_err, NGHTTP2_ENHANCE_YOUR_CALM);
    cr_assert(rd_http_done(h));
    cr_assert_eq(rd_http_inflight(h), 0);
    /* about RD_HTTP_RESETS_FREE queries were started, not hundreds */
    cr_assert_leq(u.nq, 110);
    nghttp2_session_del(c.s);
    up_free(&u);
}

Test(http2, resets_after_answers_are_fine)
{
    /* A client that cancels some queries but gets most answered keeps its connection. */
    up_t u;
    rd_http_t *h = mk(&u, true, NULL);
    cli_t c;
    cli_init(&c);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q)), al;
    uint8_t *a = build_answer(q, ql, 300, 60, &al);
    for (int i = 0; i < 150; i++) {
        int32_t sid = h2_get_query(&c, q, ql);
        cr_assert_eq(pump(&c, &u), 0);
        if (i % 2)
            cr_assert_eq(nghttp2_submit_rst_stream(c.s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL), 0);
        else
            cr_assert_eq(rd_http_answer(h, u.sid[u.nq - 1], a, al), 0);
        cr_assert_eq(pump(&c, &u), 0);
    }
    cr_assert(!c.goaway);
    cr_assert(!rd_http_done(h));
    free(a);
    nghttp2_session_del(c.s);
    up_free(&u);
}

Test(http2, garbage_preface_closes)
{
    up_t u;
    rd_http_t *h = mk(&u, true, NULL);
    const char *junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_lt(rd_http_feed(h, (const uint8_t *)junk, strlen(junk)), 0);
    cr_assert(rd_http_done(h));
    up_free(&u);
}

Test(http2, free_with_queries_in_flight)
{
    up_t u;
    rd_http_t *h = mk(&u, true, NULL);
    cli_t c;
    cli_init(&c);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q));
    for (int i = 0; i < 5; i++) h2_get_query(&c, q, ql);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(rd_http_inflight(h), 5);
    nghttp2_session_del(c.s);
    up_free(&u); /* LSan checks that nothing leaks */
}

/* ================================ HTTP/1.1 ================================ */

typedef struct {
    unsigned status;
    char ctype[64], cc[64], conn[32], allow[32];
    size_t clen;
    const uint8_t *body;
} h1resp_t;

/* Takes one response off the front of u->out. */
static bool h1_next(up_t *u, h1resp_t *r)
{
    memset(r, 0, sizeof(*r));
    if (!u->out_len) return false;
    char *s = (char *)u->out;
    char *end = memmem(s, u->out_len, "\r\n\r\n", 4);
    cr_assert(end, "a complete head");
    cr_assert_eq(strncmp(s, "HTTP/1.1 ", 9), 0);
    r->status = (unsigned)atoi(s + 9);
    char *line = strstr(s, "\r\n") + 2;
    while (line < end) {
        char *e = strstr(line, "\r\n");
        char name[64], val[128];
        char *colon = memchr(line, ':', (size_t)(e - line));
        cr_assert(colon);
        snprintf(name, sizeof(name), "%.*s", (int)(colon - line), line);
        snprintf(val, sizeof(val), "%.*s", (int)(e - colon - 2), colon + 2);
        if (!strcmp(name, "content-type")) snprintf(r->ctype, 64, "%.60s", val);
        if (!strcmp(name, "cache-control")) snprintf(r->cc, 64, "%.60s", val);
        if (!strcmp(name, "connection")) snprintf(r->conn, 32, "%.30s", val);
        if (!strcmp(name, "allow")) snprintf(r->allow, 32, "%.30s", val);
        if (!strcmp(name, "content-length")) r->clen = (size_t)atol(val);
        line = e + 2;
    }
    size_t hl = (size_t)(end + 4 - s);
    cr_assert_leq(hl + r->clen, u->out_len);
    static uint8_t body[70000];
    memcpy(body, u->out + hl, r->clen);
    r->body = body;
    memmove(u->out, u->out + hl + r->clen, u->out_len - hl - r->clen);
    u->out_len -= hl + r->clen;
    return true;
}

static int feed_s(rd_http_t *h, const char *s)
{
    return rd_http_feed(h, (const uint8_t *)s, strlen(s));
}

static char *get_req(const uint8_t *q, size_t ql, const char *extra)
{
    char *r = malloc(2048), b[1024];
    b64url(q, ql, b);
    snprintf(r, 2048, "GET /dns-query?dns=%s HTTP/1.1\r\nHost: resolver.lab\r\n%s\r\n", b,
             extra ? extra : "");
    return r;
}

Test(http1, get_and_post_keepalive)
{
    up_t u;
    rd_http_t *h = mk(&u, false, NULL);
    uint8_t q[512];
    size_t ql = mkquery("www.example.com.", 0, q, sizeof(q)), al;
    char *req = get_req(q, ql, "Accept: application/dns-message\r\n");
    cr_assert_eq(feed_s(h, req), 0);
    free(req);
    cr_assert_eq(u.nq, 1);
    cr_assert_arr_eq(u.q[0], q, ql);
    cr_assert_eq(u.out_len, 0);
    uint8_t *a = build_answer(q, ql, 3600, 7, &al);
    cr_assert_eq(rd_http_answer(h, u.sid[0], a, al), 0);
    h1resp_t r;
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.ctype, "application/dns-message");
    cr_assert_str_eq(r.cc, "max-age=7");
    cr_assert_eq(r.clen, al);
    cr_assert_arr_eq(r.body, a, al);
    cr_assert_str_eq(r.conn, "");
    /* POST on the same connection, body split over several feeds */
    char head[256];
    snprintf(head, sizeof(head),
             "POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: application/dns-message\r\n"
             "Content-Length: %zu\r\n\r\n",
             ql);
    cr_assert_eq(feed_s(h, head), 0);
    cr_assert_eq(rd_http_feed(h, q, 5), 0);
    cr_assert_eq(u.nq, 1);
    cr_assert_eq(rd_http_feed(h, q + 5, ql - 5), 0);
    cr_assert_eq(u.nq, 2);
    cr_assert_arr_eq(u.q[1], q, ql);
    cr_assert_eq(rd_http_answer(h, u.sid[1], a, al), 0);
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200);
    cr_assert_arr_eq(r.body, a, al);
    cr_assert(!rd_http_done(h));
    free(a);
    up_free(&u);
}

Test(http1, pipelined_answered_in_order)
{
    up_t u;
    rd_http_t *h = mk(&u, false, NULL);
    uint8_t q[3][128];
    size_t ql[3];
    char all[4096] = "";
    for (int i = 0; i < 3; i++) {
        char n[32];
        snprintf(n, sizeof(n), "p%d.example.", i);
        ql[i] = mkquery(n, (uint16_t)(i + 1), q[i], sizeof(q[i]));
        char *r = get_req(q[i], ql[i], NULL);
        strcat(all, r);
        free(r);
    }
    cr_assert_eq(feed_s(h, all), 0);
    cr_assert_eq(u.nq, 3);
    uint8_t *a[3];
    size_t al[3];
    for (int i = 0; i < 3; i++) a[i] = build_answer(q[i], ql[i], 10 + (uint32_t)i, 100, &al[i]);
    /* third, then first: only the first is sent; then the second releases the third */
    cr_assert_eq(rd_http_answer(h, u.sid[2], a[2], al[2]), 0);
    cr_assert_eq(u.out_len, 0);
    cr_assert_eq(rd_http_answer(h, u.sid[0], a[0], al[0]), 0);
    h1resp_t r;
    cr_assert(h1_next(&u, &r));
    cr_assert_arr_eq(r.body, a[0], al[0]);
    cr_assert_eq(u.out_len, 0);
    cr_assert_eq(rd_http_answer(h, u.sid[1], a[1], al[1]), 0);
    for (int i = 1; i < 3; i++) {
        cr_assert(h1_next(&u, &r));
        cr_assert_eq(r.status, 200);
        char cc[32];
        snprintf(cc, sizeof(cc), "max-age=%d", 10 + i);
        cr_assert_str_eq(r.cc, cc);
        cr_assert_arr_eq(r.body, a[i], al[i]);
    }
    cr_assert_eq(u.out_len, 0);
    for (int i = 0; i < 3; i++) free(a[i]);
    up_free(&u);
}

Test(http1, pipeline_limit_waits_for_a_slot)
{
    up_t u;
    rd_http_opts_t o = {.pipeline_max = 2};
    rd_http_t *h = mk(&u, false, &o);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q)), al;
    char *r1 = get_req(q, ql, NULL), all[4096];
    snprintf(all, sizeof(all), "%s%s%s", r1, r1, r1);
    free(r1);
    cr_assert_eq(feed_s(h, all), 0);
    cr_assert_eq(u.nq, 2, "the third waits");
    uint8_t *a = build_answer(q, ql, 5, 5, &al);
    cr_assert_eq(rd_http_answer(h, u.sid[0], a, al), 0);
    cr_assert_eq(u.nq, 3, "an answer frees a slot for the third");
    cr_assert_eq(rd_http_answer(h, u.sid[1], a, al), 0);
    cr_assert_eq(rd_http_answer(h, u.sid[2], a, al), 0);
    h1resp_t r;
    for (int i = 0; i < 3; i++) {
        cr_assert(h1_next(&u, &r));
        cr_assert_eq(r.status, 200);
    }
    free(a);
    up_free(&u);
}

Test(http1, connection_close_and_http10)
{
    up_t u;
    rd_http_t *h = mk(&u, false, NULL);
    u.answer_now = true;
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q));
    char *req = get_req(q, ql, "Connection: close\r\n"), two[4096];
    snprintf(two, sizeof(two), "%s%s", req, req); /* the second is never read */
    free(req);
    cr_assert_eq(feed_s(h, two), 0);
    cr_assert_eq(u.nq, 1);
    h1resp_t r;
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.conn, "close");
    cr_assert(!h1_next(&u, &r));
    cr_assert(rd_http_done(h));
    up_free(&u);

    h = mk(&u, false, NULL);
    u.answer_now = true;
    char b[1024], req10[2048];
    b64url(q, ql, b);
    snprintf(req10, sizeof(req10), "GET /dns-query?dns=%s HTTP/1.0\r\n\r\n", b);
    cr_assert_eq(feed_s(h, req10), 0);
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.conn, "close");
    cr_assert(rd_http_done(h));
    up_free(&u);
}

/* Feeds one raw request; returns the status of the one response and whether the layer
 * wants the connection closed. */
static unsigned h1_one(const char *raw, size_t len, bool *closed, char *allow)
{
    up_t u;
    rd_http_t *h = mk(&u, false, NULL);
    u.answer_now = true;
    int rc = rd_http_feed(h, (const uint8_t *)raw, len);
    h1resp_t r;
    cr_assert(h1_next(&u, &r), "a response to %.40s", raw);
    if (r.status != 200) {
        cr_assert_eq(u.nq, 0);
        cr_assert_eq(r.clen, 0);
    }
    *closed = rc < 0 || rd_http_done(h);
    if (*closed && rc >= 0) cr_assert_str_eq(r.conn, "close");
    if (allow) snprintf(allow, 32, "%s", r.allow);
    unsigned st = r.status;
    cr_assert(!h1_next(&u, &r), "only one response");
    up_free(&u);
    return st;
}

static unsigned h1s(const char *raw, bool *closed)
{
    return h1_one(raw, strlen(raw), closed, NULL);
}

Test(http1, errors)
{
    bool cl;
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q));
    char b[1024], buf[4096];
    b64url(q, ql, b);
    snprintf(buf, sizeof(buf), "GET /dns-query?dns=%s HTTP/1.1\r\nHost: x\r\n\r\n", b);
    cr_assert_eq(h1s(buf, &cl), 200);
    cr_assert(!cl);
    cr_assert_eq(h1s("GET /nope?dns=AAAA HTTP/1.1\r\nHost: x\r\n\r\n", &cl), 404);
    cr_assert(!cl);
    char allow[32];
    const char *del = "DELETE /dns-query HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(h1_one(del, strlen(del), &cl, allow), 405);
    cr_assert_str_eq(allow, "GET, POST");
    cr_assert(!cl);
    snprintf(buf, sizeof(buf),
             "POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
             "Content-Length: %zu\r\n\r\n",
             ql);
    size_t hl = strlen(buf);
    memcpy(buf + hl, q, ql);
    cr_assert_eq(h1_one(buf, hl + ql, &cl, NULL), 415);
    cr_assert(!cl, "the body was consumed: the connection goes on");
    cr_assert_eq(h1s("GET /dns-query?dns=!!!! HTTP/1.1\r\nHost: x\r\n\r\n", &cl), 400);
    cr_assert(!cl);
    cr_assert_eq(h1s("GET /dns-query?dns=AAAA HTTP/1.1\r\n\r\n", &cl), 400); /* no Host */
    /* 413: Content-Length over 65535, the connection closes (the body is not skipped) */
    cr_assert_eq(h1s("POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     "application/dns-message\r\nContent-Length: 65536\r\n\r\n",
                     &cl),
                 413);
    cr_assert(cl);
    cr_assert_eq(
        h1s("POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", &cl),
        413);
    /* chunked with Content-Length too: 400 (smuggling, RFC 9112 s6.3) */
    cr_assert_eq(h1s("POST /dns-query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     "Content-Length: 5\r\n\r\n",
                     &cl),
                 400);
    cr_assert(cl);
    cr_assert_eq(h1s("POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     "Content-Length: 6\r\n\r\n",
                     &cl),
                 400);
    /* syntax: bare LF, space before colon, obs-fold, bad version */
    cr_assert_eq(h1s("GET /dns-query?dns=AAAA HTTP/1.1\nHost: x\n\n", &cl), 400);
    cr_assert(cl);
    cr_assert_eq(h1s("GET /dns-query HTTP/1.1\r\nHost : x\r\n\r\n", &cl), 400);
    cr_assert(cl);
    cr_assert_eq(h1s("GET /dns-query HTTP/1.1\r\nHost: x\r\n y\r\n\r\n", &cl), 400);
    cr_assert_eq(h1s("GET /dns-query HTTP/2.0\r\nHost: x\r\n\r\n", &cl), 505);
    cr_assert_eq(h1s("GET /dns-query FOO\r\nHost: x\r\n\r\n", &cl), 400);
    /* 406 */
    snprintf(buf, sizeof(buf),
             "GET /dns-query?dns=%s HTTP/1.1\r\nHost: x\r\nAccept: image/png\r\n\r\n", b);
    cr_assert_eq(h1s(buf, &cl), 406);
}

Test(http1, oversize)
{
    bool cl;
    /* 414: a request line over the limit, complete or not */
    size_t n = 6000;
    char *s = malloc(n + 64);
    memcpy(s, "GET /dns-query?dns=", 19);
    memset(s + 19, 'A', n - 19);
    strcpy(s + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert_eq(h1s(s, &cl), 414);
    s[n] = '\0'; /* no end of line at all */
    cr_assert_eq(h1s(s, &cl), 414);
    cr_assert(cl);
    /* 431: header fields over the limit */
    free(s);
    n = 13000;
    s = malloc(n + 64);
    strcpy(s, "GET /dns-query?dns=AAAA HTTP/1.1\r\nHost: x\r\nX-Big: ");
    size_t l = strlen(s);
    memset(s + l, 'b', n - l);
    s[n] = '\0';
    cr_assert_eq(h1s(s, &cl), 431);
    cr_assert(cl);
    strcpy(s + n, "\r\n\r\n");
    cr_assert_eq(h1s(s, &cl), 431);
    /* 431: too many fields */
    char many[4096] = "GET /dns-query?dns=AAAA HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 70; i++) strcat(many, "A: b\r\n");
    strcat(many, "\r\n");
    cr_assert_eq(h1s(many, &cl), 431);
    free(s);
}

Test(http1, expect_continue_and_garbage)
{
    up_t u;
    rd_http_t *h = mk(&u, false, NULL);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q));
    char head[256];
    snprintf(head, sizeof(head),
             "POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: application/dns-message\r\n"
             "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
             ql);
    cr_assert_eq(feed_s(h, head), 0);
    const char *cont = "HTTP/1.1 100 Continue\r\n\r\n";
    cr_assert_eq(u.out_len, strlen(cont));
    cr_assert_eq(memcmp(u.out, cont, u.out_len), 0);
    up_free(&u);

    /* binary garbage: an answer and a close, never a crash */
    h = mk(&u, false, NULL);
    uint8_t junk[300];
    for (int i = 0; i < 300; i++) junk[i] = (uint8_t)(i * 37 + 11);
    int rc = rd_http_feed(h, junk, sizeof(junk));
    cr_assert(rc < 0 || rd_http_done(h) || u.out_len == 0);
    up_free(&u);
}

Test(http2, streams_over_the_limit_are_refused)
{
    up_t u;
    rd_http_opts_t o = {.max_streams = 2};
    rd_http_t *h = mk(&u, true, &o);
    cli_t c;
    cli_init(&c);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q)), al;
    int32_t sid[3];
    /* all three leave before the client has seen the server's SETTINGS */
    for (int i = 0; i < 3; i++) sid[i] = h2_get_query(&c, q, ql);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(u.nq, 2);
    cr_assert_eq(rd_http_inflight(h), 2);
    cr_assert(c.closed[ix(sid[2])]);
    cr_assert_eq(c.close_err[ix(sid[2])], NGHTTP2_REFUSED_STREAM);
    uint8_t *a = build_answer(q, ql, 30, 30, &al);
    for (int i = 0; i < 2; i++) cr_assert_eq(rd_http_answer(h, u.sid[i], a, al), 0);
    cr_assert_eq(pump(&c, &u), 0);
    for (int i = 0; i < 2; i++) expect_answer(&c, sid[i], a, al, "max-age=30");
    /* the limit is free again: a retry works */
    int32_t s = h2_get_query(&c, q, ql);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(rd_http_answer(h, u.sid[2], a, al), 0);
    cr_assert_eq(pump(&c, &u), 0);
    expect_answer(&c, s, a, al, "max-age=30");
    free(a);
    nghttp2_session_del(c.s);
    up_free(&u);
}

Test(http1, fed_one_octet_at_a_time)
{
    up_t u;
    rd_http_t *h = mk(&u, false, NULL);
    u.answer_now = true;
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q));
    char head[256];
    snprintf(head, sizeof(head),
             "\r\nPOST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: application/dns-message\r\n"
             "Content-Length: %zu\r\n\r\n",
             ql);
    uint8_t all[1024];
    size_t hl = strlen(head);
    memcpy(all, head, hl);
    memcpy(all + hl, q, ql);
    for (size_t i = 0; i < hl + ql; i++) cr_assert_eq(rd_http_feed(h, all + i, 1), 0);
    cr_assert_eq(u.nq, 1);
    cr_assert_arr_eq(u.q[0], q, ql);
    h1resp_t r;
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.cc, "max-age=60");
    up_free(&u);
}

Test(http1, free_with_queries_in_flight)
{
    up_t u;
    rd_http_t *h = mk(&u, false, NULL);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q));
    char *r = get_req(q, ql, NULL), all[4096];
    snprintf(all, sizeof(all), "%s%s", r, r);
    free(r);
    cr_assert_eq(feed_s(h, all), 0);
    cr_assert_eq(rd_http_inflight(h), 2);
    up_free(&u); /* LSan: nothing leaks */
}

Test(http2, buffered_bodies_are_bounded_per_connection)
{
    /* 20 concurrent POSTs of 60000 octets: more than RD_HTTP_CONN_BODY_MAX at once, so
     * some are answered 503 instead of buffered; the rest work. */
    up_t u;
    rd_http_t *h = mk(&u, true, NULL);
    u.answer_now = true;
    cli_t c;
    cli_init(&c);
    enum { N = 20, LEN = 60000 };
    uint8_t *body = calloc(1, LEN);
    size_t ql = mkquery("example.com.", 0, body, LEN);
    cr_assert_lt(ql, 100);
    src_t src[N];
    int32_t sid[N];
    for (int i = 0; i < N; i++) {
        src[i] = (src_t){body, LEN, 0};
        sid[i] = h2_post(&c, "/dns-query", "application/dns-message", &src[i]);
    }
    cr_assert_eq(pump(&c, &u), 0);
    unsigned ok = 0, busy = 0;
    for (int i = 0; i < N; i++) {
        unsigned st = c.status[ix(sid[i])];
        cr_assert(st == 200 || st == 503, "status %u", st);
        ok += st == 200;
        busy += st == 503;
    }
    cr_assert_eq(ok, u.nq);
    cr_assert_geq(busy, 1);
    cr_assert_geq(ok, 1);
    cr_assert_eq(rd_http_inflight(h), 0);
    free(body);
    nghttp2_session_del(c.s);
    up_free(&u);
}

Test(http2, graceful_shutdown_answers_what_it_took)
{
    up_t u;
    rd_http_t *h = mk(&u, true, NULL);
    cli_t c;
    cli_init(&c);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q)), al;
    int32_t s1 = h2_get_query(&c, q, ql);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(rd_http_shutdown(h), 0);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert(c.goaway);
    cr_assert_eq(c.goaway_err, NGHTTP2_NO_ERROR);
    cr_assert(!rd_http_done(h), "one answer still owed");
    uint8_t *a = build_answer(q, ql, 9, 9, &al);
    cr_assert_eq(rd_http_answer(h, u.sid[0], a, al), 0);
    cr_assert_eq(pump(&c, &u), 0);
    expect_answer(&c, s1, a, al, "max-age=9");
    cr_assert(rd_http_done(h));
    free(a);
    nghttp2_session_del(c.s);
    up_free(&u);
}

Test(http1, graceful_shutdown_answers_what_it_took)
{
    up_t u;
    rd_http_t *h = mk(&u, false, NULL);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q)), al;
    char *r = get_req(q, ql, NULL);
    cr_assert_eq(feed_s(h, r), 0);
    cr_assert_eq(rd_http_shutdown(h), 0);
    cr_assert_eq(feed_s(h, r), 0); /* not read any more */
    free(r);
    cr_assert_eq(u.nq, 1);
    cr_assert(!rd_http_done(h));
    uint8_t *a = build_answer(q, ql, 9, 9, &al);
    cr_assert_eq(rd_http_answer(h, u.sid[0], a, al), 0);
    h1resp_t resp;
    cr_assert(h1_next(&u, &resp));
    cr_assert_eq(resp.status, 200);
    cr_assert(!h1_next(&u, &resp));
    cr_assert(rd_http_done(h));
    free(a);
    up_free(&u);
}

/* ---- review findings: backpressure, response budget, non-queries ---- */

Test(http2, not_a_query_is_400)
{
    up_t u;
    rd_http_t *h = mk(&u, true, NULL);
    u.reject = RD_EINVAL; /* what the resolver side says for a response (QR=1) */
    cli_t c;
    cli_init(&c);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q));
    int32_t s1 = h2_get_query(&c, q, ql);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(c.status[ix(s1)], 400);
    cr_assert_eq(rd_http_inflight(h), 0);
    nghttp2_session_del(c.s);
    up_free(&u);
}

/* A client that never opens its flow-control window: the answers it cannot receive are held
 * up to RD_HTTP_CONN_OUT_MAX, then answered 503 without a body. */
Test(http2, held_responses_are_bounded_per_connection)
{
    up_t u;
    rd_http_t *h = mk(&u, true, NULL);
    cli_t c;
    cli_init(&c);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0}};
    cr_assert_eq(nghttp2_submit_settings(c.s, NGHTTP2_FLAG_NONE, iv, 1), 0);
    uint8_t q[512];
    size_t ql = mkquery("big.example.", 0, q, sizeof(q));
    enum { N = 40, BIG = 60000 };
    int32_t sid[N];
    for (int i = 0; i < N; i++) sid[i] = h2_get_query(&c, q, ql);
    cr_assert_eq(pump(&c, &u), 0);
    cr_assert_eq(u.nq, N);
    uint8_t *big = calloc(1, BIG);
    memcpy(big, q, ql); /* a header and question; the rest padding octets */
    big[2] |= 0x80;
    for (unsigned i = 0; i < N; i++) cr_assert_eq(rd_http_answer(h, u.sid[i], big, BIG), 0);
    cr_assert_eq(pump(&c, &u), 0);
    unsigned held = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        unsigned st = c.status[ix(sid[i])];
        cr_assert(st == 200 || st == 503, "stream %d: %u", sid[i], st);
        held += st == 200;
        refused += st == 503;
        if (st == 200) cr_assert_eq(c.body_len[ix(sid[i])], 0, "window 0: no DATA");
    }
    cr_assert_leq(held * (size_t)BIG, RD_HTTP_CONN_OUT_MAX);
    cr_assert_geq(held, RD_HTTP_CONN_OUT_MAX / BIG - 1);
    cr_assert_eq(refused, N - held);
    free(big);
    nghttp2_session_del(c.s);
    up_free(&u); /* the held copies go with it (LSan) */
}

/* busy: no request is taken and nothing is sent; the rest of the input is left to the
 * caller, who feeds it again once the layer below has caught up. */
Test(http2, busy_takes_no_requests_and_sends_nothing)
{
    up_t u;
    rd_http_t *h = mk_busy(&u, true);
    u.answer_now = true;
    cli_t c;
    cli_init(&c);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q));
    int32_t sid[3];
    for (int i = 0; i < 3; i++) sid[i] = h2_get_query(&c, q, ql);
    uint8_t in[4096];
    size_t inl = 0;
    const uint8_t *p;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(c.s, &p)) > 0) {
        cr_assert_leq(inl + (size_t)n, sizeof(in));
        memcpy(in + inl, p, (size_t)n);
        inl += (size_t)n;
    }
    u.busy = true;
    size_t used = 0, off = 0;
    cr_assert_eq(rd_http_feed_some(h, in, inl, &used), 0);
    cr_assert_lt(used, inl, "paused before the end");
    cr_assert_eq(u.nq, 0, "no request taken while busy");
    cr_assert_eq(u.sent_total, 0, "nothing sent while busy");
    off += used;
    /* still busy: a call makes no progress and takes no request */
    cr_assert_eq(rd_http_feed_some(h, in + off, inl - off, &used), 0);
    off += used;
    cr_assert_eq(u.nq, 0);
    u.busy = false;
    for (int round = 0; off < inl && round < 100; round++) {
        cr_assert_eq(rd_http_feed_some(h, in + off, inl - off, &used), 0);
        off += used;
    }
    cr_assert_eq(off, inl);
    cr_assert_eq(u.nq, 3);
    cr_assert_eq(pump(&c, &u), 0);
    for (int i = 0; i < 3; i++) cr_assert_eq(c.status[ix(sid[i])], 200);
    nghttp2_session_del(c.s);
    up_free(&u);
}

Test(http1, busy_parses_nothing_and_holds_answers)
{
    up_t u;
    rd_http_t *h = mk_busy(&u, false);
    uint8_t q[512];
    size_t ql = mkquery("example.com.", 0, q, sizeof(q)), al;
    char *req = get_req(q, ql, NULL);
    char two[4096];
    snprintf(two, sizeof(two), "%s%s", req, req);
    free(req);
    u.busy = true;
    size_t used = 1;
    cr_assert_eq(rd_http_feed_some(h, (const uint8_t *)two, strlen(two), &used), 0);
    cr_assert_eq(used, 0, "busy: nothing taken");
    cr_assert_eq(u.nq, 0);
    u.busy = false;
    cr_assert_eq(rd_http_feed_some(h, (const uint8_t *)two, strlen(two), &used), 0);
    cr_assert_eq(used, strlen(two));
    cr_assert_eq(u.nq, 2);
    /* an answer while busy waits in its slot */
    uint8_t *a = build_answer(q, ql, 300, 60, &al);
    u.busy = true;
    cr_assert_eq(rd_http_answer(h, u.sid[0], a, al), 0);
    cr_assert_eq(u.out_len, 0);
    u.busy = false;
    cr_assert_eq(rd_http_feed_some(h, NULL, 0, &used), 0);
    h1resp_t r;
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.clen, al);
    free(a);
    up_free(&u);
}

/* ---- HTTP/1.1: chunked bodies, absolute-form, 100 Continue, HEAD (issue 7 review) ---- */

#define POST_CHUNKED                                                                               \
    "POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: application/dns-message\r\n"             \
    "Transfer-Encoding: chunked\r\n"

/* A chunked POST of q (RFC 9112 s7.1): extra header lines, chunks of `piece` octets with the
 * extension text `ext` on each size line, then `tail` (the last chunk and trailers). */
static size_t chunked(char *out, size_t cap, const char *extra, const uint8_t *q, size_t ql,
                      size_t piece, const char *ext, const char *tail)
{
    size_t o = (size_t)snprintf(out, cap, POST_CHUNKED "%s\r\n", extra);
    for (size_t i = 0; i < ql; i += piece) {
        size_t n = ql - i < piece ? ql - i : piece;
        o += (size_t)snprintf(out + o, cap - o, "%zx%s\r\n", n, ext);
        cr_assert_lt(o + n + 2, cap);
        memcpy(out + o, q + i, n);
        memcpy(out + o + n, "\r\n", 2);
        o += n + 2;
    }
    o += (size_t)snprintf(out + o, cap - o, "%s", tail);
    cr_assert_lt(o, cap);
    return o;
}

/* One request that must be answered 200 with the query handed over intact; the connection
 * stays open. */
static void h1_ok(const rd_http_opts_t *o, const char *raw, size_t len, const uint8_t *q, size_t ql)
{
    up_t u;
    rd_http_t *h = mk(&u, false, o);
    u.answer_now = true;
    cr_assert_eq(rd_http_feed(h, (const uint8_t *)raw, len), 0);
    cr_assert_eq(u.nq, 1, "the query of %.60s; answer %.40s", raw,
                 u.out_len ? (const char *)u.out : "none");
    cr_assert_eq(u.qlen[0], ql);
    cr_assert_arr_eq(u.q[0], q, ql);
    h1resp_t r;
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200, "%u for %.60s", r.status, raw);
    cr_assert_str_eq(r.conn, "");
    cr_assert(!h1_next(&u, &r));
    cr_assert(!rd_http_done(h));
    up_free(&u);
}

Test(http1, chunked_post)
{
    uint8_t q[512];
    size_t ql = mkquery("chunked.example.", 0x4242, q, sizeof(q));
    char buf[8192];
    /* one chunk (curl -H 'Transfer-Encoding: chunked'), then many small ones */
    size_t n = chunked(buf, sizeof(buf), "", q, ql, 4096, "", "0\r\n\r\n");
    h1_ok(NULL, buf, n, q, ql);
    n = chunked(buf, sizeof(buf), "", q, ql, 3, "", "0\r\n\r\n");
    h1_ok(NULL, buf, n, q, ql);
    /* s7.1.1: extensions (token and quoted-string values, BWS) ignored; s7.1.2: trailers
     * dropped; leading zeros and upper-case hex in sizes; a last-chunk with extensions */
    n = chunked(buf, sizeof(buf), "", q, ql, 10, " ; a=b ;c = \"q\\\"s;=\" ;d",
                "000;end=1\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n");
    h1_ok(NULL, buf, n, q, ql);
    n = (size_t)snprintf(buf, sizeof(buf), POST_CHUNKED "\r\n00%zX\r\n", ql);
    memcpy(buf + n, q, ql);
    n += ql + (size_t)snprintf(buf + n + ql, sizeof(buf) - n - ql, "\r\n0\r\n\r\n");
    h1_ok(NULL, buf, n, q, ql);
    /* the coding's name is case-insensitive; empty list elements are allowed (RFC 9110
     * s5.6.1); a second field adds to the list */
    char alt[8192];
    n = chunked(buf, sizeof(buf), "", q, ql, 7, "", "0\r\n\r\n");
    const char *te = "Transfer-Encoding: chunked\r\n";
    char *at = strstr(buf, te);
    cr_assert(at);
    size_t pre = (size_t)(at - buf), post = n - pre - strlen(te);
    const char *variants[] = {"Transfer-Encoding: CHUNKED\r\n",
                              "Transfer-Encoding: , chunked ,\r\n",
                              "Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n"};
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        size_t vl = strlen(variants[i]);
        memcpy(alt, buf, pre);
        memcpy(alt + pre, variants[i], vl);
        memcpy(alt + pre + vl, at + strlen(te), post);
        h1_ok(NULL, alt, pre + vl + post, q, ql);
    }

    /* fed one octet at a time, then a pipelined GET behind it in the same stream */
    up_t u;
    rd_http_t *h = mk(&u, false, NULL);
    u.answer_now = true;
    n = chunked(buf, sizeof(buf), "", q, ql, 5, ";x=y", "0\r\nT: v\r\n\r\n");
    char *get = get_req(q, ql, NULL);
    size_t gl = strlen(get);
    memcpy(buf + n, get, gl);
    free(get);
    for (size_t i = 0; i < n + gl; i++) cr_assert_eq(rd_http_feed(h, (uint8_t *)buf + i, 1), 0);
    cr_assert_eq(u.nq, 2);
    for (int i = 0; i < 2; i++) {
        cr_assert_arr_eq(u.q[i], q, ql);
        h1resp_t r;
        cr_assert(h1_next(&u, &r));
        cr_assert_eq(r.status, 200);
    }
    cr_assert(!rd_http_done(h));
    up_free(&u);

    /* a body of exactly 65535 octets in chunks is taken (then found not to be a query: 400,
     * not 413) */
    size_t big = RD_HTTP_BODY_MAX;
    uint8_t *body = calloc(1, big); /* QDCOUNT 0 */
    char *raw = malloc(big + 4096);
    n = chunked(raw, big + 4096, "", body, big, 20000, "", "0\r\n\r\n");
    bool cl;
    cr_assert_eq(h1_one(raw, n, &cl, NULL), 400);
    cr_assert(!cl, "a body within the limit: the connection goes on");
    free(raw);
    free(body);
}

/* The status of one chunked POST whose body text (after the head) is `tail`; the connection
 * must close (the framing is lost). */
static unsigned chunk_err(const char *head_extra, const char *tail)
{
    char buf[16384];
    int n = snprintf(buf, sizeof(buf), POST_CHUNKED "%s\r\n%s", head_extra, tail);
    cr_assert(n > 0 && (size_t)n < sizeof(buf));
    bool cl;
    unsigned st = h1_one(buf, (size_t)n, &cl, NULL);
    cr_assert(cl, "closed after %u for %.80s", st, tail);
    return st;
}

Test(http1, chunked_errors)
{
    /* s7.1: malformed sizes and chunk framing are 400 */
    cr_assert_eq(chunk_err("", "zz\r\nabc\r\n0\r\n\r\n"), 400);
    cr_assert_eq(chunk_err("", "\r\n"), 400);
    cr_assert_eq(chunk_err("", "-1\r\n"), 400);
    cr_assert_eq(chunk_err("", "0x1d\r\n"), 400);
    cr_assert_eq(chunk_err("", "5 \r\nabcde\r\n0\r\n\r\n"), 400);
    cr_assert_eq(chunk_err("", "5\r\nabcdeXY0\r\n\r\n"), 400); /* no CRLF after the data */
    cr_assert_eq(chunk_err("", "5\r\nabcdef\r\n0\r\n\r\n"), 400);
    cr_assert_eq(chunk_err("", "5\nabcde\r\n0\r\n\r\n"), 400); /* bare LF */
    cr_assert_eq(chunk_err("", "5\r\nabcde\r\n0\r\r\n\r\n"), 400);
    /* extensions: ";" with no name, "=" with no value, an open quote, a bad character */
    cr_assert_eq(chunk_err("", "5;\r\nabcde\r\n0\r\n\r\n"), 400);
    cr_assert_eq(chunk_err("", "5;a=\r\nabcde\r\n0\r\n\r\n"), 400);
    cr_assert_eq(chunk_err("", "5;a=\"x\r\nabcde\r\n0\r\n\r\n"), 400);
    cr_assert_eq(chunk_err("", "5;a=b c\r\nabcde\r\n0\r\n\r\n"), 400);
    cr_assert_eq(chunk_err("", "5;a@b\r\nabcde\r\n0\r\n\r\n"), 400);
    /* trailers: obs-fold, no colon, whitespace before the colon, a control character */
    cr_assert_eq(chunk_err("", "0\r\nA: b\r\n c\r\n\r\n"), 400);
    cr_assert_eq(chunk_err("", "0\r\nno colon\r\n\r\n"), 400);
    cr_assert_eq(chunk_err("", "0\r\nA : b\r\n\r\n"), 400);
    cr_assert_eq(chunk_err("", "0\r\nA: \001\r\n\r\n"), 400);
    /* sizes past the body limit: one chunk, many hex digits, or the sum of chunks */
    cr_assert_eq(chunk_err("", "10000\r\n"), 413);
    cr_assert_eq(chunk_err("", "ffffffffffffffffffffffffffffffff\r\n"), 413);
    cr_assert_eq(chunk_err("", "0000000000000000000000000000000010000\r\n"), 413);
    char *raw = malloc(70000);
    int n = snprintf(raw, 70000, POST_CHUNKED "\r\n8000\r\n");
    memset(raw + n, 'a', 0x8000);
    n += 0x8000;
    n += snprintf(raw + n, 70000 - (size_t)n, "\r\n8000\r\n");
    bool cl;
    cr_assert_eq(h1_one(raw, (size_t)n, &cl, NULL), 413, "32768 + 32768 > 65535");
    cr_assert(cl);
    free(raw);
    /* s7.1.1: extensions are bounded, per line and in all */
    char ext[4096], body[16384];
    memset(ext, 'e', 1100);
    ext[1100] = '\0';
    snprintf(body, sizeof(body), "1;%s\r\na\r\n0\r\n\r\n", ext);
    cr_assert_eq(chunk_err("", body), 413);
    ext[900] = '\0';
    size_t o = 0;
    for (int i = 0; i < 10; i++)
        o += (size_t)snprintf(body + o, sizeof(body) - o, "1;%s\r\na\r\n", ext);
    snprintf(body + o, sizeof(body) - o, "0\r\n\r\n");
    cr_assert_eq(chunk_err("", body), 413);
    /* trailers are bounded like header fields: size and count */
    memset(ext, 't', 4000);
    ext[4000] = '\0';
    snprintf(body, sizeof(body), "0\r\nA: %s\r\nB: %s\r\nC: %s\r\n\r\n", ext, ext, ext);
    cr_assert_eq(chunk_err("", body), 431);
    o = (size_t)snprintf(body, sizeof(body), "0\r\n");
    for (int i = 0; i < 70; i++) o += (size_t)snprintf(body + o, sizeof(body) - o, "T: v\r\n");
    snprintf(body + o, sizeof(body) - o, "\r\n");
    cr_assert_eq(chunk_err("", body), 431);
}

Test(http1, transfer_codings)
{
    bool cl;
    const char *post =
        "POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: application/dns-message\r\n";
    struct {
        const char *te;
        unsigned status;
    } cases[] = {
        {"Transfer-Encoding: gzip\r\n", 400},          /* s6.3: chunked not final */
        {"Transfer-Encoding: chunked, gzip\r\n", 400}, /* s6.3 */
        {"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", 400},
        {"Transfer-Encoding: chunked, chunked\r\n", 400}, /* s7: applied once */
        {"Transfer-Encoding: chunked;q=1\r\n", 400},      /* chunked has no parameters */
        {"Transfer-Encoding: \r\n", 400},                 /* 1#transfer-coding */
        {"Transfer-Encoding: ,\r\n", 400},
        {"Transfer-Encoding: ch@nked\r\n", 400},
        {"Transfer-Encoding: gzip, chunked\r\n", 501}, /* s6.1: a coding we do not undo */
        {"Transfer-Encoding: x-custom;a=b, chunked\r\n", 501},
    };
    char buf[1024];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(buf, sizeof(buf), "%s%s\r\n5\r\nabcde\r\n0\r\n\r\n", post, cases[i].te);
        cr_assert_eq(h1s(buf, &cl), cases[i].status, "%s", cases[i].te);
        cr_assert(cl, "%s: closed", cases[i].te);
    }
    /* s6.1: HTTP/1.0 has no transfer codings: faulty framing */
    cr_assert_eq(
        h1s("POST /dns-query HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", &cl), 400);
    cr_assert(cl);
}

Test(http1, absolute_form)
{
    uint8_t q[512];
    size_t ql = mkquery("abs.example.", 7, q, sizeof(q));
    char b[1024], buf[4096];
    b64url(q, ql, b);
    /* RFC 9112 s3.2.2: MUST accept; the authority replaces Host (s3.3), whatever it says */
    const char *targets[] = {
        "https://resolver.lab/dns-query?dns=", "https://resolver.lab:443/dns-query?dns=",
        "HTTPS://[::1]:8443/dns-query?dns=", "http://192.0.2.1/dns-query?dns=",
        "https://other.example/dns-query?x=1&dns="};
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        char t[2048];
        snprintf(t, sizeof(t), "%s%s", targets[i], b);
        int n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: resolver.lab\r\n\r\n", t);
        h1_ok(NULL, buf, (size_t)n, q, ql);
    }
    int n = snprintf(buf, sizeof(buf),
                     "POST https://resolver.lab/dns-query HTTP/1.1\r\nHost: resolver.lab\r\n"
                     "Content-Type: application/dns-message\r\nContent-Length: %zu\r\n\r\n",
                     ql);
    memcpy(buf + n, q, ql);
    h1_ok(NULL, buf, (size_t)n + ql, q, ql);
    /* s4.2.3 of RFC 9110: an empty path is "/" (the configured path may be "/") */
    rd_http_opts_t root = {.path = "/"};
    n = snprintf(buf, sizeof(buf), "GET https://r.lab?dns=%s HTTP/1.1\r\nHost: r.lab\r\n\r\n", b);
    h1_ok(&root, buf, (size_t)n, q, ql);

    bool cl;
    /* other paths: 404 and the connection goes on */
    snprintf(buf, sizeof(buf), "GET https://r.lab?dns=%s HTTP/1.1\r\nHost: r.lab\r\n\r\n", b);
    cr_assert_eq(h1s(buf, &cl), 404);
    cr_assert(!cl);
    cr_assert_eq(h1s("GET https://r.lab HTTP/1.1\r\nHost: r.lab\r\n\r\n", &cl), 404);
    cr_assert_eq(h1s("GET https://r.lab/other?dns=AAAA HTTP/1.1\r\nHost: r.lab\r\n\r\n", &cl), 404);
    cr_assert(!cl);
    /* no URI of ours: 400 (other schemes, userinfo, empty host, authority- or asterisk-form,
     * no "//") */
    const char *bad[] = {"ftp://r.lab/dns-query",
                         "https://user@r.lab/dns-query",
                         "https:///dns-query",
                         "https://:443/dns-query",
                         "https:/dns-query",
                         "https:dns-query",
                         "r.lab:443",
                         "*",
                         "dns-query",
                         "https://r.lab\"/dns-query",
                         "https://r.lab#f/dns-query",
                         "https"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: r.lab\r\n\r\n", bad[i]);
        cr_assert_eq(h1s(buf, &cl), 400, "%s", bad[i]);
    }
    /* RFC 9112 s3.2: an HTTP/1.1 request needs Host, absolute-form or not */
    snprintf(buf, sizeof(buf), "GET https://r.lab/dns-query?dns=%s HTTP/1.1\r\n\r\n", b);
    cr_assert_eq(h1s(buf, &cl), 400);
    /* and the target length limit holds: 414 */
    char *longt = malloc(6000);
    memset(longt, 'A', 5999);
    longt[5999] = '\0';
    char *req = malloc(7000);
    snprintf(req, 7000, "GET https://r.lab/dns-query?dns=%s HTTP/1.1\r\nHost: r.lab\r\n\r\n",
             longt);
    cr_assert_eq(h1s(req, &cl), 414);
    memcpy(longt, "GET https://r.lab?dns=", 22);
    snprintf(req, 7000, "%.*s HTTP/1.1\r\nHost: r.lab\r\n\r\n", RD_HTTP_URI_MAX + 20, longt);
    cr_assert_eq(h1s(req, &cl), 414);
    free(req);
    free(longt);
}

Test(http1, expect_continue_cases)
{
    uint8_t q[512];
    size_t ql = mkquery("expect.example.", 0, q, sizeof(q)), al;
    uint8_t *a = build_answer(q, ql, 60, 60, &al);
    char head[512];
    snprintf(head, sizeof(head),
             "POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: application/dns-message\r\n"
             "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
             ql);
    h1resp_t r;

    /* behind a request still owed its answer: the 100 waits for that answer to go first
     * (RFC 9110 s10.1.1), then comes at once */
    up_t u;
    rd_http_t *h = mk(&u, false, NULL);
    char *get = get_req(q, ql, NULL), all[4096];
    snprintf(all, sizeof(all), "%s%s", get, head);
    free(get);
    cr_assert_eq(feed_s(h, all), 0);
    cr_assert_eq(u.nq, 1);
    cr_assert_eq(u.out_len, 0, "no 100 before the first response");
    cr_assert_eq(rd_http_answer(h, u.sid[0], a, al), 0);
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200);
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 100);
    cr_assert_eq(u.out_len, 0);
    cr_assert_eq(rd_http_feed(h, q, ql), 0);
    cr_assert_eq(u.nq, 2);
    cr_assert_eq(rd_http_answer(h, u.sid[1], a, al), 0);
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200);
    cr_assert(!h1_next(&u, &r));
    up_free(&u);

    /* the body came with the head: no 100, only the answer */
    h = mk(&u, false, NULL);
    u.answer_now = true;
    size_t hl = strlen(head);
    memcpy(all, head, hl);
    memcpy(all + hl, q, ql);
    cr_assert_eq(rd_http_feed(h, (uint8_t *)all, hl + ql), 0);
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200);
    cr_assert(!h1_next(&u, &r));
    up_free(&u);

    /* chunked: 100, then the chunks */
    h = mk(&u, false, NULL);
    u.answer_now = true;
    cr_assert_eq(feed_s(h, POST_CHUNKED "Expect: 100-continue\r\n\r\n"), 0);
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 100);
    char body[1024];
    size_t n = chunked(body, sizeof(body), "", q, ql, 8, "", "0\r\n\r\n");
    char *start = strstr(body, "\r\n\r\n") + 4; /* the chunks without the head */
    cr_assert_eq(rd_http_feed(h, (uint8_t *)start, n - (size_t)(start - body)), 0);
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200);
    up_free(&u);

    /* RFC 9110 s10.1.1: HTTP/1.0 has no 100 Continue: the expectation is ignored */
    h = mk(&u, false, NULL);
    u.answer_now = true;
    char h10[512];
    snprintf(h10, sizeof(h10),
             "POST /dns-query HTTP/1.0\r\nContent-Type: application/dns-message\r\n"
             "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
             ql);
    cr_assert_eq(feed_s(h, h10), 0);
    cr_assert_eq(u.out_len, 0, "no 100 Continue for HTTP/1.0");
    cr_assert_eq(rd_http_feed(h, q, ql), 0);
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 200);
    up_free(&u);

    /* the head alone decides the answer (two Host fields: 400): it comes at once, without
     * waiting for a body the client may never send, and the connection closes */
    h = mk(&u, false, NULL);
    cr_assert_eq(feed_s(h, "POST /dns-query HTTP/1.1\r\nHost: x\r\nHost: y\r\n"
                           "Expect: 100-continue\r\nContent-Length: 30\r\n\r\n"),
                 0);
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(r.conn, "close");
    cr_assert(!h1_next(&u, &r));
    cr_assert(rd_http_done(h));
    up_free(&u);
    free(a);
}

Test(http1, head_method_and_pipelined_mix)
{
    up_t u;
    rd_http_t *h = mk(&u, false, NULL);
    u.answer_now = true;
    uint8_t q[512];
    size_t ql = mkquery("mix.example.", 0, q, sizeof(q));
    char b[1024], all[8192];
    b64url(q, ql, b);
    /* HEAD: 405 with Allow (RFC 8484 s4.1 has GET and POST), no body, the stream goes on; then
     * absolute-form, chunked and origin-form requests in one write, answered in order; the
     * last says Connection: close and what follows it is never read */
    size_t o = (size_t)snprintf(all, sizeof(all),
                                "HEAD /dns-query?dns=%s HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET https://x/dns-query?dns=%s HTTP/1.1\r\nHost: x\r\n\r\n",
                                b, b);
    o += chunked(all + o, sizeof(all) - o, "", q, ql, 16, "", "0\r\n\r\n");
    o += (size_t)snprintf(all + o, sizeof(all) - o,
                          "GET /dns-query?dns=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                          "GET /dns-query?dns=%s HTTP/1.1\r\nHost: x\r\n\r\n",
                          b, b);
    cr_assert_eq(rd_http_feed(h, (uint8_t *)all, o), 0);
    cr_assert_eq(u.nq, 3);
    h1resp_t r;
    cr_assert(h1_next(&u, &r));
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(r.allow, "GET, POST");
    cr_assert_eq(r.clen, 0);
    cr_assert_str_eq(r.conn, "");
    for (int i = 0; i < 3; i++) {
        cr_assert(h1_next(&u, &r));
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(r.conn, i == 2 ? "close" : "");
    }
    cr_assert(!h1_next(&u, &r));
    cr_assert(rd_http_done(h));
    up_free(&u);
}
