/* DNS over HTTPS (RFC 8484): what HTTP/2 and HTTP/1.1 share. The request slots, the DoH
 * rules for a complete request (path, method, media types, the dns= parameter, a minimal
 * look at the DNS header) and the answers with their cache-control. The two wire versions
 * live in http1.c and http2.c. */
#include <stdlib.h>
#include <string.h>

#include "net/http_int.h"
#include "resolverd/msg.h"
#include "wire/cursor.h"

#define MEDIA_DNS "application/dns-message"

bool rd__http_ieq(const char *a, size_t alen, const char *lit)
{
    size_t n = strlen(lit);
    if (alen != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != lit[i]) return false;
    }
    return true;
}

const char *rd__http_reason(unsigned status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 500 ? "Client Error" : "Server Error";
    }
}

/* ---- request slots ---- */

rd__http_req_t *rd__http_req_new(rd_http_t *h, uint32_t sid)
{
    for (unsigned i = 0; i < h->nreqs; i++) {
        rd__http_req_t *r = &h->reqs[i];
        if (r->state != RD__HQ_FREE) continue;
        memset(r, 0, sizeof(*r));
        r->state = RD__HQ_RECV;
        r->sid = sid;
        return r;
    }
    return NULL;
}

rd__http_req_t *rd__http_req_find(rd_http_t *h, uint32_t sid)
{
    for (unsigned i = 0; i < h->nreqs; i++) {
        rd__http_req_t *r = &h->reqs[i];
        if (r->state != RD__HQ_FREE && r->sid == sid) return r;
    }
    return NULL;
}

static void body_drop(rd_http_t *h, rd__http_req_t *r)
{
    RD_REQUIRE(h->body_bytes >= r->body_cap);
    h->body_bytes -= r->body_cap;
    free(r->body);
    r->body = NULL;
    r->body_len = r->body_cap = 0;
}

void rd__http_req_free(rd_http_t *h, rd__http_req_t *r)
{
    if (r->state == RD__HQ_FREE) return;
    if (r->state == RD__HQ_PENDING) h->inflight--;
    body_drop(h, r);
    free(r->target);
    RD_REQUIRE(h->out_bytes >= r->out_len);
    h->out_bytes -= r->out_len;
    free(r->out);
    memset(r, 0, sizeof(*r));
}

uint8_t *rd__http_out_alloc(rd_http_t *h, rd__http_req_t *r, size_t n)
{
    RD_REQUIRE(h->out_bytes >= r->out_len);
    h->out_bytes -= r->out_len;
    free(r->out);
    r->out_len = r->out_off = 0;
    r->out = malloc(n ? n : 1);
    if (!r->out) return NULL;
    r->out_len = n;
    h->out_bytes += n;
    return r->out;
}

bool rd__http_busy(const rd_http_t *h)
{
    return h->cb.busy && h->cb.busy(h->cb.ctx);
}

bool rd__http_body_add(rd_http_t *h, rd__http_req_t *r, const uint8_t *p, size_t n)
{
    if (r->status) return false;
    if (n > RD_HTTP_BODY_MAX - r->body_len) {
        r->status = 413; /* RFC 8484 s6: one DNS message; RFC 9110 s15.5.14 */
        body_drop(h, r);
        return false;
    }
    size_t need = r->body_len + n;
    if (need > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap * 2 : 512;
        if (cap < need) cap = need;
        if (cap > RD_HTTP_BODY_MAX) cap = RD_HTTP_BODY_MAX;
        if (h->body_bytes - r->body_cap + cap > RD_HTTP_CONN_BODY_MAX) {
            r->status = 503; /* too many big bodies at once on this connection */
            body_drop(h, r);
            return false;
        }
        uint8_t *b = realloc(r->body, cap);
        if (!b) {
            r->status = 503;
            body_drop(h, r);
            return false;
        }
        h->body_bytes = h->body_bytes - r->body_cap + cap;
        r->body = b;
        r->body_cap = cap;
    }
    if (n) memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    return true;
}

void rd__http_target(rd__http_req_t *r, const char *t, size_t n)
{
    if (r->target) {
        if (!r->status) r->status = 400; /* a second :path */
        return;
    }
    if (n > RD_HTTP_URI_MAX) {
        if (!r->status) r->status = 414;
        return;
    }
    r->target = malloc(n + 1);
    if (!r->target) {
        if (!r->status) r->status = 503;
        return;
    }
    memcpy(r->target, t, n);
    r->target[n] = '\0';
    r->target_len = n;
}

/* ---- header fields ---- */

static size_t trim(const char **s, size_t n)
{
    while (n && (**s == ' ' || **s == '\t')) (*s)++, n--;
    while (n && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t')) n--;
    return n;
}

/* The media type of a content-type or accept element, parameters (";...") dropped. */
static size_t media_type(const char *v, size_t n, const char **out)
{
    size_t i = 0;
    while (i < n && v[i] != ';') i++;
    *out = v;
    return trim(out, i);
}

void rd__http_header(rd_http_t *h, rd__http_req_t *r, const char *name, size_t nlen,
                     const char *value, size_t vlen)
{
    (void)h;
    const char *t;
    if (rd__http_ieq(name, nlen, "content-type")) {
        size_t tl = media_type(value, vlen, &t);
        if (r->ctype_seen) {
            r->ctype_ok = false; /* two content types: which one would the body be? */
        } else {
            r->ctype_ok = rd__http_ieq(t, tl, MEDIA_DNS);
        }
        r->ctype_seen = true;
    } else if (rd__http_ieq(name, nlen, "accept")) {
        /* Lenient (RFC 9110 s12.5.1): the request is refused (406) only when accept lists
         * media ranges and none of them can be application/dns-message; q-values ignored.
         * Several accept fields: one acceptable range is enough. */
        bool any = false, ok = false;
        size_t i = 0;
        while (i <= vlen) {
            size_t j = i;
            while (j < vlen && value[j] != ',') j++;
            size_t tl = media_type(value + i, j - i, &t);
            if (tl) {
                any = true;
                if (rd__http_ieq(t, tl, MEDIA_DNS) || rd__http_ieq(t, tl, "application/*") ||
                    rd__http_ieq(t, tl, "*/*"))
                    ok = true;
            }
            i = j + 1;
        }
        if (ok)
            r->accept_ok = true;
        else if (any)
            r->accept_bad = true;
    }
}

/* ---- base64url (RFC 4648 s5), as RFC 8484 s4.1 asks for the dns parameter ---- */

static int b64url_val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* RFC 8484 s4.1: clients send no padding. We accept trailing '=' padding all the same
 * (a few clients add it), but only a correct amount at the very end; unused bits of the last
 * character must be zero (RFC 4648 s3.5), so every query has exactly one encoding plus its
 * padded twin. */
static int b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
    size_t pad = 0;
    while (n && s[n - 1] == '=' && pad < 2) n--, pad++;
    if (pad && (n + pad) % 4 != 0) return RD_ESYNTAX;
    if (n % 4 == 1) return RD_ESYNTAX;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_val(s[i]);
        if (v < 0) return RD_ESYNTAX;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) return RD_ESPACE;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return RD_ESYNTAX; /* non-zero unused bits */
    *outlen = o;
    return 0;
}

/* ---- a complete request ---- */

static int respond(rd_http_t *h, rd__http_req_t *r, unsigned status, const uint8_t *body,
                   size_t len, uint32_t max_age)
{
    /* A pending request's body is the query on_query may still be reading (an answer from
     * inside on_query): rd__http_request_done drops it after the call. */
    if (r->state == RD__HQ_PENDING)
        h->inflight--;
    else
        body_drop(h, r);
    r->state = RD__HQ_READY;
    /* A client that opens streams but never lets their answers through (HTTP/2 flow control
     * window left closed, RFC 9113 s5.2) holds our copies: bounded per connection. */
    if (body &&
        (h->out_bytes > RD_HTTP_CONN_OUT_MAX || len > RD_HTTP_CONN_OUT_MAX - h->out_bytes)) {
        status = 503;
        body = NULL;
        len = 0;
    }
    return h->h2 ? rd__h2_respond(h, r, status, body, len, max_age)
                 : rd__h1_respond(h, r, status, body, len, max_age);
}

/* The value of the dns parameter in a query string (RFC 8484 s4.1), or NULL. */
static const char *find_dns_param(const char *q, size_t n, size_t *vlen)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && q[j] != '&') j++;
        if (j - i >= 4 && memcmp(q + i, "dns=", 4) == 0) {
            *vlen = j - i - 4;
            return q + i + 4;
        }
        i = j + 1;
    }
    return NULL;
}

/* The resolver validates the message fully; here only what makes it a query at all. */
static bool looks_like_query(const uint8_t *q, size_t len)
{
    rd_rcur_t c;
    rd_rcur_init(&c, q, 0, len);
    rd_rcur_skip(&c, 4); /* ID, flags */
    uint16_t qdcount = rd_rcur_u16(&c);
    rd_rcur_skip(&c, 6);
    return c.err == 0 && qdcount == 1;
}

int rd__http_request_done(rd_http_t *h, rd__http_req_t *r)
{
    if (r->status) return respond(h, r, r->status, NULL, 0, 0);
    if (!r->target) return respond(h, r, 400, NULL, 0, 0);
    const char *q = memchr(r->target, '?', r->target_len);
    size_t plen = q ? (size_t)(q - r->target) : r->target_len;
    if (plen != h->path_len || memcmp(r->target, h->path, plen) != 0)
        return respond(h, r, 404, NULL, 0, 0);
    if (r->method != RD__HM_GET && r->method != RD__HM_POST)
        return respond(h, r, 405, NULL, 0, 0); /* RFC 8484 s4.1: GET and POST */
    if (r->accept_bad && !r->accept_ok) return respond(h, r, 406, NULL, 0, 0);
    if (r->method == RD__HM_GET) {
        size_t vlen = 0;
        const char *v = q ? find_dns_param(q + 1, r->target_len - plen - 1, &vlen) : NULL;
        if (!v) return respond(h, r, 400, NULL, 0, 0);
        body_drop(h, r); /* a GET has no body; the decoded query takes its place */
        size_t cap = vlen / 4 * 3 + 3;
        if (h->body_bytes + cap > RD_HTTP_CONN_BODY_MAX) return respond(h, r, 503, NULL, 0, 0);
        r->body = malloc(cap);
        if (!r->body) return respond(h, r, 503, NULL, 0, 0);
        r->body_cap = cap;
        h->body_bytes += cap;
        if (b64url_decode(v, vlen, r->body, cap, &r->body_len) < 0)
            return respond(h, r, 400, NULL, 0, 0);
    } else if (!r->ctype_ok) {
        return respond(h, r, 415, NULL, 0, 0); /* RFC 8484 s4.1: application/dns-message */
    }
    if (!looks_like_query(r->body, r->body_len)) return respond(h, r, 400, NULL, 0, 0);

    uint32_t sid = r->sid;
    r->state = RD__HQ_PENDING;
    h->inflight++;
    int rc = h->cb.on_query(h->cb.ctx, sid, r->body, r->body_len);
    /* on_query may have answered already (the slot is READY, or even gone). */
    r = rd__http_req_find(h, sid);
    if (!r) return h->failed;
    body_drop(h, r);
    /* RFC 8484 s4.1: a message that is no query (a response) is a bad request. */
    if (rc < 0 && r->state == RD__HQ_PENDING)
        return respond(h, r, rc == RD_EINVAL ? 400 : 503, NULL, 0, 0);
    return h->failed;
}

int rd__http_send(rd_http_t *h, const uint8_t *p, size_t n)
{
    if (h->failed) return h->failed;
    if (n == 0) return 0;
    int rc = h->cb.on_send(h->cb.ctx, p, n);
    if (rc < 0) h->failed = rc;
    return rc < 0 ? rc : 0;
}

/* ---- cache-control (RFC 8484 s5.1) ---- */

uint32_t rd_http_min_ttl(const uint8_t *resp, size_t len)
{
    uint8_t first[4096];
    rd_arena_t a;
    rd_arena_init(&a, first, sizeof(first), 0);
    rd_msg_t m;
    uint32_t min = 0;
    if (rd_msg_parse(&m, resp, len, &a) == 0) {
        bool any = false;
        for (int s = RD_SEC_AN; s <= RD_SEC_AR; s++) {
            for (unsigned i = 0; i < m.count[s]; i++) {
                if (s == RD_SEC_AR && (int)(m.start[s] + i) == m.opt_index) continue;
                uint32_t ttl = rd_msg_rr(&m, s, i)->ttl;
                if (ttl > RD_CACHE_TTL_MAX) ttl = 0; /* RFC 2181 s8 */
                if (!any || ttl < min) min = ttl;
                any = true;
            }
        }
    }
    rd_arena_free(&a);
    return min;
}

/* ---- the API ---- */

int rd_http_new(bool h2, const rd_http_opts_t *o, const rd_http_cbs_t *cb, rd_http_t **out)
{
    *out = NULL;
    if (!cb || !cb->on_query || !cb->on_send) return RD_EINVAL;
    const char *path = o && o->path ? o->path : "/dns-query";
    size_t plen = strlen(path);
    if (plen == 0 || path[0] != '/' || plen > RD_HTTP_URI_MAX || memchr(path, '?', plen))
        return RD_EINVAL;
    unsigned n = o && o->max_streams ? o->max_streams : RD_HTTP_STREAMS_DEFAULT;
    if (!h2) n = o && o->pipeline_max ? o->pipeline_max : RD_HTTP1_PIPELINE_DEFAULT;
    if (n > (h2 ? RD_HTTP_STREAMS_MAX : RD_HTTP1_PIPELINE_MAX)) return RD_EINVAL;

    rd_http_t *h = calloc(1, sizeof(*h));
    if (!h) return RD_ENOMEM;
    h->h2 = h2;
    h->cb = *cb;
    h->nreqs = n;
    h->path = malloc(plen + 1);
    h->reqs = calloc(n, sizeof(*h->reqs));
    if (!h->path || !h->reqs) goto fail;
    memcpy(h->path, path, plen + 1);
    h->path_len = plen;
    if (h2 && rd__h2_new(h) < 0) goto fail;
    *out = h;
    return 0;
fail:
    free(h->path);
    free(h->reqs);
    free(h);
    return RD_ENOMEM;
}

void rd_http_free(rd_http_t *h)
{
    if (!h) return;
    if (h->h2) rd__h2_free(h);
    for (unsigned i = 0; i < h->nreqs; i++) rd__http_req_free(h, &h->reqs[i]);
    free(h->reqs);
    free(h->in);
    free(h->path);
    free(h);
}

int rd_http_feed_some(rd_http_t *h, const uint8_t *data, size_t len, size_t *used)
{
    *used = 0;
    if (h->failed) return h->failed;
    if (rd_fails_assert(!h->in_feed)) return RD_EBUG;
    return h->h2 ? rd__h2_feed(h, data, len, used) : rd__h1_feed(h, data, len, used);
}

int rd_http_feed(rd_http_t *h, const uint8_t *data, size_t len)
{
    size_t used;
    return rd_http_feed_some(h, data, len, &used);
}

static int answer(rd_http_t *h, uint32_t sid, unsigned status, const uint8_t *resp, size_t len)
{
    if (h->failed) return h->failed;
    rd__http_req_t *r = rd__http_req_find(h, sid);
    if (!r || r->state != RD__HQ_PENDING) return 0; /* closed, reset or answered already */
    uint32_t max_age = 0;
    if (status == 200) {
        if (len < RD_HDR_LEN || len > RD_MSG_MAX) {
            status = 500;
        } else {
            max_age = rd_http_min_ttl(resp, len);
            h->answered++;
        }
    }
    int rc = respond(h, r, status, status == 200 ? resp : NULL, status == 200 ? len : 0, max_age);
    if (rc < 0 || h->in_feed) return rc;
    /* Outside rd_http_feed: send now (HTTP/1.1 also parses requests waiting for a slot). */
    size_t used;
    return h->h2 ? rd__h2_flush(h) : rd__h1_feed(h, NULL, 0, &used);
}

int rd_http_answer(rd_http_t *h, uint32_t sid, const uint8_t *resp, size_t len)
{
    return answer(h, sid, 200, resp, len);
}

int rd_http_error(rd_http_t *h, uint32_t sid, unsigned status)
{
    if (status < 400 || status > 599) status = 500;
    return answer(h, sid, status, NULL, 0);
}

int rd_http_shutdown(rd_http_t *h)
{
    if (h->failed) return h->failed;
    if (rd_fails_assert(!h->in_feed)) return RD_EBUG;
    return h->h2 ? rd__h2_shutdown(h) : rd__h1_shutdown(h);
}

bool rd_http_done(const rd_http_t *h)
{
    if (h->failed) return true;
    return h->h2 ? rd__h2_done(h) : rd__h1_done(h);
}

unsigned rd_http_inflight(const rd_http_t *h)
{
    return h->inflight;
}
