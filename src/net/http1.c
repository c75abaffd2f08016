/* DoH over HTTP/1.1 (RFC 9112) for simple clients (curl --http1.1): a small strict parser of
 * our own. Request line and header fields end with CRLF (a bare LF is refused), bodies only
 * by Content-Length (Transfer-Encoding is answered 411 and the connection closed: we cannot
 * frame it), keep-alive, pipelined requests answered in order, limits on every size.
 *
 * Errors that leave the framing of the next request known (404, 405, 415, bad base64...)
 * keep the connection; the others (bad syntax, oversize head, unusable body length) answer
 * with "connection: close" and stop reading (RFC 9112 s9.6). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_int.h"

/* Request line: method, a target of at most RD_HTTP_URI_MAX, "HTTP/1.1" and the blanks. */
#define LINE_MAX (RD_HTTP_URI_MAX + 32)
#define HEAD_MAX (LINE_MAX + RD_HTTP_HEADERS_MAX)

/* tchar of RFC 9110 s5.6.2 */
static bool is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Outcome of reading a head: which status, and whether the stream stays usable. */
typedef struct {
    unsigned status;
    bool fatal; /* framing of what follows unknown: answer, close */
    bool keepalive, close;
    bool te;
    bool has_cl;
    size_t cl;
    bool expect_continue;
    bool http10;
} head_t;

static void fail(head_t *hd, unsigned status, bool fatal)
{
    if (!hd->status || (fatal && !hd->fatal)) hd->status = status;
    hd->fatal = hd->fatal || fatal;
}

static bool parse_cl(const char *v, size_t n, size_t *out)
{
    if (n == 0 || n > 9) return false; /* 9 digits cover any limit and never overflow */
    size_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return false;
        x = x * 10 + (size_t)(v[i] - '0');
    }
    *out = x;
    return true;
}

/* "connection" is a list of tokens (RFC 9110 s7.6.1). */
static void parse_connection(head_t *hd, const char *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && v[j] != ',') j++;
        const char *t = v + i;
        size_t tl = j - i;
        while (tl && (*t == ' ' || *t == '\t')) t++, tl--;
        while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t')) tl--;
        if (rd__http_ieq(t, tl, "close")) hd->close = true;
        if (rd__http_ieq(t, tl, "keep-alive")) hd->keepalive = true;
        i = j + 1;
    }
}

static void field(rd_http_t *h, rd__http_req_t *r, head_t *hd, const char *line, size_t n)
{
    if (line[0] == ' ' || line[0] == '\t') return fail(hd, 400, true); /* obs-fold, s5.2 */
    size_t c = 0;
    while (c < n && is_tchar((uint8_t)line[c])) c++;
    /* RFC 9112 s5.1: no whitespace between name and colon, on pain of 400. */
    if (c == 0 || c >= n || line[c] != ':') return fail(hd, 400, true);
    const char *v = line + c + 1;
    size_t vl = n - c - 1;
    while (vl && (*v == ' ' || *v == '\t')) v++, vl--;
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
    for (size_t i = 0; i < vl; i++) {
        uint8_t ch = (uint8_t)v[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return fail(hd, 400, true);
    }
    if (++r->nhdr > RD_HTTP_HEADER_COUNT_MAX) return fail(hd, 431, false);
    if (rd__http_ieq(line, c, "content-length")) {
        size_t cl;
        if (!parse_cl(v, vl, &cl)) {
            /* Too many digits is too large a body; anything else is not a length. */
            bool digits = vl > 0 && strspn(v, "0123456789") >= vl;
            return fail(hd, digits ? 413 : 400, true);
        }
        if (hd->has_cl && cl != hd->cl) return fail(hd, 400, true); /* RFC 9112 s6.3 */
        hd->has_cl = true;
        hd->cl = cl;
    } else if (rd__http_ieq(line, c, "transfer-encoding")) {
        hd->te = true;
    } else if (rd__http_ieq(line, c, "host")) {
        if (r->has_host) fail(hd, 400, false); /* RFC 9112 s3.2 */
        r->has_host = true;
    } else if (rd__http_ieq(line, c, "connection")) {
        parse_connection(hd, v, vl);
    } else if (rd__http_ieq(line, c, "expect")) {
        if (rd__http_ieq(v, vl, "100-continue"))
            hd->expect_continue = true;
        else
            fail(hd, 417, false);
    } else {
        rd__http_header(h, r, line, c, v, vl);
    }
}

static void request_line(rd__http_req_t *r, head_t *hd, const char *l, size_t n)
{
    const char *sp1 = memchr(l, ' ', n);
    if (!sp1 || sp1 == l) return fail(hd, 400, true);
    for (const char *p = l; p < sp1; p++)
        if (!is_tchar((uint8_t)*p)) return fail(hd, 400, true);
    size_t ml = (size_t)(sp1 - l);
    r->method = ml == 3 && memcmp(l, "GET", 3) == 0    ? RD__HM_GET
                : ml == 4 && memcmp(l, "POST", 4) == 0 ? RD__HM_POST
                                                       : RD__HM_OTHER;
    const char *t = sp1 + 1, *end = l + n;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2 || sp2 == t) return fail(hd, 400, true);
    for (const char *p = t; p < sp2; p++)
        if ((uint8_t)*p <= 0x20 || (uint8_t)*p >= 0x7f) return fail(hd, 400, true);
    /* origin-form only (RFC 9112 s3.2.1): we are no proxy. */
    if (*t != '/') fail(hd, 400, false);
    rd__http_target(r, t, (size_t)(sp2 - t));
    const char *v = sp2 + 1;
    size_t vl = (size_t)(end - v);
    if (vl == 8 && memcmp(v, "HTTP/1.1", 8) == 0) return;
    if (vl == 8 && memcmp(v, "HTTP/1.0", 8) == 0) {
        hd->http10 = true;
        return;
    }
    if (vl == 8 && memcmp(v, "HTTP/", 5) == 0 && v[5] >= '0' && v[5] <= '9' && v[6] == '.' &&
        v[7] >= '0' && v[7] <= '9')
        return fail(hd, 505, true);
    fail(hd, 400, true);
}

static int respond_head_error(rd_http_t *h, unsigned status)
{
    rd__http_req_t *r = rd__http_req_new(h, h->next_sid++);
    if (rd_fails_assert(r)) return RD_EBUG; /* the caller made sure a slot is free */
    r->status = status;
    r->close = true;
    h->h1_state = RD__H1_CLOSING;
    return rd__http_request_done(h, r);
}

/* Reads one request head of n octets (CRLF CRLF included) at h->in. */
static int head(rd_http_t *h, size_t n)
{
    rd__http_req_t *r = rd__http_req_new(h, h->next_sid++);
    if (rd_fails_assert(r)) return RD_EBUG;
    head_t hd = {0};
    const char *s = (const char *)h->in;
    size_t eol = (size_t)((const char *)memchr(s, '\r', n) - s);
    request_line(r, &hd, s, eol);
    r->hdr_bytes = n - eol - 2;
    if (r->hdr_bytes > RD_HTTP_HEADERS_MAX + 2) fail(&hd, 431, false);
    for (size_t i = eol + 2; !hd.fatal && i < n - 2;) {
        size_t e = i;
        while (s[e] != '\r') e++;
        if (e == i) break; /* the empty line */
        field(h, r, &hd, s + i, e - i);
        i = e + 2;
    }
    if (!hd.fatal && !hd.status && !hd.http10 && !r->has_host) fail(&hd, 400, false);
    if (!hd.fatal && hd.te) fail(&hd, hd.has_cl ? 400 : 411, true);  /* RFC 9112 s6.1 */
    if (!hd.fatal && hd.cl > RD_HTTP_BODY_MAX) fail(&hd, 413, true); /* too big to skip */
    r->close = hd.fatal || hd.close || (hd.http10 && !hd.keepalive);
    if (hd.status) r->status = hd.status;
    if (r->close) h->h1_state = RD__H1_CLOSING;
    if (hd.fatal || hd.cl == 0) return rd__http_request_done(h, r);
    if (hd.expect_continue && r->sid == h->out_sid && !r->status) {
        /* RFC 9110 s10.1.1: only when no earlier response is still owed on the stream. */
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        int rc = rd__http_send(h, (const uint8_t *)cont, sizeof(cont) - 1);
        if (rc < 0) return rc;
    }
    h->cur = r;
    h->body_left = hd.cl;
    if (h->h1_state != RD__H1_CLOSING) h->h1_state = RD__H1_BODY;
    return 0;
}

static void consume(rd_http_t *h, size_t n)
{
    memmove(h->in, h->in + n, h->in_len - n);
    h->in_len -= n;
    h->scan = h->scan_eol = 0;
}

static bool slot_free(const rd_http_t *h)
{
    for (unsigned i = 0; i < h->nreqs; i++)
        if (h->reqs[i].state == RD__HQ_FREE) return true;
    return false;
}

/* Parses what the input buffer holds. Returns < 0 on failure, else whether it consumed
 * anything. */
static int parse(rd_http_t *h)
{
    int progress = 0;
    for (;;) {
        if (h->cur) { /* a body, also the last one before closing */
            size_t n = h->in_len < h->body_left ? h->in_len : h->body_left;
            if (n == 0) return progress;
            (void)rd__http_body_add(h, h->cur, h->in, n); /* past a limit: status set */
            consume(h, n);
            progress = 1;
            if ((h->body_left -= n) > 0) return progress;
            rd__http_req_t *r = h->cur;
            h->cur = NULL;
            if (h->h1_state == RD__H1_BODY) h->h1_state = RD__H1_HEAD;
            int rc = rd__http_request_done(h, r);
            if (rc < 0) return rc;
            continue;
        }
        if (h->h1_state != RD__H1_HEAD || !slot_free(h) || rd__http_busy(h)) return progress;
        if (h->in_len >= 2 && h->in[0] == '\r' && h->in[1] == '\n') {
            consume(h, 2); /* an empty line before a request (RFC 9112 s2.2 allows it) */
            continue;
        }
        /* Find the end of the head; every LF must follow a CR (RFC 9112 s2.2: we refuse the
         * bare LF some parsers tolerate, as it splits requests differently from them). */
        /* A head arriving in small pieces is searched once, not once per piece. */
        size_t i, lim = h->in_len < HEAD_MAX ? h->in_len : HEAD_MAX, first_eol = h->scan_eol;
        bool end = false;
        for (i = h->scan; i < lim; i++) {
            if (h->in[i] == '\n') {
                if (i == 0 || h->in[i - 1] != '\r') {
                    consume(h, h->in_len);
                    return respond_head_error(h, 400);
                }
                if (!first_eol) first_eol = i;
                if (i >= 3 && h->in[i - 2] == '\n') {
                    end = true;
                    break;
                }
            } else if (h->in[i] == '\r' && i + 1 < h->in_len && h->in[i + 1] != '\n') {
                consume(h, h->in_len);
                return respond_head_error(h, 400);
            }
        }
        if (!end) {
            /* the last octet again next time: a CR whose LF has not arrived */
            h->scan = lim ? lim - 1 : 0;
            h->scan_eol = first_eol;
            if (h->in_len < HEAD_MAX && (first_eol || h->in_len <= LINE_MAX)) return progress;
            /* RFC 9112 s3: a request line over our limit is 414, a head too big is 431. */
            unsigned st = (!first_eol && h->in_len > LINE_MAX) || first_eol > LINE_MAX ? 414 : 431;
            consume(h, h->in_len);
            return respond_head_error(h, st);
        }
        int rc = head(h, i + 1);
        consume(h, i + 1);
        if (rc < 0) return rc;
        progress = 1;
    }
}

int rd__h1_respond(rd_http_t *h, rd__http_req_t *r, unsigned status, const uint8_t *body,
                   size_t len, uint32_t max_age)
{
    char hd[256];
    int n;
    if (body)
        n = snprintf(hd, sizeof(hd),
                     "HTTP/1.1 %u %s\r\ncontent-type: application/dns-message\r\n"
                     "cache-control: max-age=%" PRIu32 "\r\ncontent-length: %zu\r\n%s\r\n",
                     status, rd__http_reason(status), max_age, len,
                     r->close ? "connection: close\r\n" : "");
    else
        n = snprintf(hd, sizeof(hd), "HTTP/1.1 %u %s\r\ncontent-length: 0\r\n%s%s\r\n", status,
                     rd__http_reason(status), status == 405 ? "allow: GET, POST\r\n" : "",
                     r->close ? "connection: close\r\n" : "");
    if (rd_fails_assert(n > 0 && (size_t)n < sizeof(hd))) return RD_EBUG;
    if (!rd__http_out_alloc(h, r, (size_t)n + len)) {
        /* Nothing to send in this request's turn: the stream would lose its order. */
        r->close = true;
        h->h1_state = RD__H1_CLOSING;
        return 0;
    }
    memcpy(r->out, hd, (size_t)n);
    if (len) memcpy(r->out + n, body, len);
    return 0;
}

/* Sends the responses whose turn has come. Returns < 0 on failure, else whether it sent. */
int rd__h1_flush(rd_http_t *h)
{
    int sent = 0;
    rd__http_req_t *r;
    /* While the client does not read, responses wait in their slots: the pipeline fills and
     * no more requests are parsed (backpressure instead of copies). */
    while (!rd__http_busy(h) && (r = rd__http_req_find(h, h->out_sid)) &&
           r->state == RD__HQ_READY) {
        int rc = rd__http_send(h, r->out, r->out_len);
        if (rc < 0) return rc;
        bool close = r->close;
        rd__http_req_free(h, r);
        h->out_sid++;
        sent = 1;
        if (close) {
            /* Nothing after this response is answered: later requests (only when building
             * a response failed) are dropped with their queries detached. */
            h->h1_state = RD__H1_CLOSING;
            h->cur = NULL;
            for (unsigned i = 0; i < h->nreqs; i++) rd__http_req_free(h, &h->reqs[i]);
            break;
        }
    }
    return sent;
}

int rd__h1_feed(rd_http_t *h, const uint8_t *data, size_t len, size_t *used)
{
    h->in_feed = true;
    int rc = 0;
    size_t total = len;
    for (;;) {
        size_t took = 0;
        if (h->h1_state == RD__H1_CLOSING && !h->cur) {
            len = 0; /* nothing more is read: the rest counts as taken (dropped) */
        }
        /* busy: what is not buffered yet stays with the caller */
        if (len && !rd__http_busy(h)) {
            took = RD_HTTP1_INBUF_MAX - h->in_len;
            if (took > len) took = len;
            if (h->in_len + took > h->in_cap) {
                size_t cap = h->in_cap ? h->in_cap : 4096;
                while (cap < h->in_len + took) cap *= 2;
                if (cap > RD_HTTP1_INBUF_MAX) cap = RD_HTTP1_INBUF_MAX;
                uint8_t *p = realloc(h->in, cap);
                if (!p) {
                    rc = RD_ENOMEM;
                    break;
                }
                h->in = p;
                h->in_cap = cap;
            }
            if (took) memcpy(h->in + h->in_len, data, took);
            h->in_len += took;
            data += took;
            len -= took;
        }
        int p = parse(h);
        if (p < 0) {
            rc = p;
            break;
        }
        int s = rd__h1_flush(h);
        if (s < 0) {
            rc = s;
            break;
        }
        if (!took && !p && !s) {
            /* Input left that cannot be buffered: a client that pipelines past every limit
             * while its answers are pending. */
            if (len && !rd__http_busy(h)) rc = RD_ELIMIT;
            break;
        }
    }
    *used = total - len;
    h->in_feed = false;
    return rc < 0 ? rc : h->failed;
}

bool rd__h1_done(const rd_http_t *h)
{
    if (h->h1_state != RD__H1_CLOSING || h->cur) return false;
    for (unsigned i = 0; i < h->nreqs; i++)
        if (h->reqs[i].state != RD__HQ_FREE) return false;
    return true;
}

int rd__h1_shutdown(rd_http_t *h)
{
    /* A request whose body is arriving is still read and answered; no more after it. */
    if (h->h1_state == RD__H1_HEAD) {
        h->h1_state = RD__H1_CLOSING;
        h->in_len = 0;
        h->scan = h->scan_eol = 0;
    } else if (h->h1_state == RD__H1_BODY) {
        h->h1_state = RD__H1_CLOSING;
    }
    return 0;
}
