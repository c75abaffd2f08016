/* DoH over HTTP/1.1 (RFC 9112) for simple clients (curl --http1.1): a small strict parser of
 * our own. Request line and header fields end with CRLF (a bare LF is refused), bodies by
 * Content-Length or by the chunked transfer coding (s7.1; other codings are not ours to
 * undo: 501), origin-form and absolute-form targets (s3.2.2), keep-alive, pipelined
 * requests answered in order, 100 Continue, limits on every size.
 *
 * Errors that leave the framing of the next request known (404, 405, 415, bad base64...)
 * keep the connection; the others (bad syntax, oversize head, unusable body length, broken
 * chunks) answer with "connection: close" and stop reading (RFC 9112 s9.6). */
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
    bool te;             /* a transfer-encoding field came */
    unsigned te_chunked; /* how often "chunked" is in the list of codings */
    bool te_last_chunked, te_other, te_bad;
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

/* One element of a comma-separated list (RFC 9110 s5.6.1) at v[*i..n), blanks trimmed;
 * *i moves past it and its comma. */
static size_t list_elem(const char *v, size_t n, size_t *i, const char **t)
{
    size_t j = *i;
    while (j < n && v[j] != ',') j++;
    *t = v + *i;
    size_t tl = j - *i;
    while (tl && (**t == ' ' || **t == '\t')) (*t)++, tl--;
    while (tl && ((*t)[tl - 1] == ' ' || (*t)[tl - 1] == '\t')) tl--;
    *i = j + 1;
    return tl;
}

/* "transfer-encoding" lists codings, in the order they were applied (RFC 9112 s6.1), each
 * a token maybe with parameters; several fields make one list (RFC 9110 s5.3), so an empty
 * one is no error by itself, nor are empty elements (s5.6.1). A list with no coding at all
 * has no chunked last: te_check refuses it. */
static void parse_te(head_t *hd, const char *v, size_t n)
{
    for (size_t i = 0; i < n;) {
        const char *t;
        size_t tl = list_elem(v, n, &i, &t);
        if (!tl) continue;
        size_t c = 0;
        while (c < tl && is_tchar((uint8_t)t[c])) c++;
        if (c == 0) {
            hd->te_bad = true;
            continue;
        }
        bool chunked = rd__http_ieq(t, c, "chunked");
        if (chunked && c != tl) hd->te_bad = true; /* s7: chunked has no parameters */
        hd->te_chunked += chunked;
        hd->te_other = hd->te_other || !chunked;
        hd->te_last_chunked = chunked;
    }
}

/* "connection" is a list of tokens (RFC 9110 s7.6.1). */
static void parse_connection(head_t *hd, const char *v, size_t n)
{
    for (size_t i = 0; i < n;) {
        const char *t;
        size_t tl = list_elem(v, n, &i, &t);
        if (rd__http_ieq(t, tl, "close")) hd->close = true;
        if (rd__http_ieq(t, tl, "keep-alive")) hd->keepalive = true;
    }
}

/* A field line (RFC 9112 s5) of n > 0 octets, CRLF excluded: the name's length and the
 * value, blanks trimmed. False when it is no field line (the answer is 400). Header and
 * trailer sections alike. */
static bool field_line(const char *line, size_t n, size_t *c, const char **v, size_t *vl)
{
    if (line[0] == ' ' || line[0] == '\t') return false; /* obs-fold, s5.2 */
    size_t nl = 0;
    while (nl < n && is_tchar((uint8_t)line[nl])) nl++;
    /* RFC 9112 s5.1: no whitespace between name and colon, on pain of 400. */
    if (nl == 0 || nl >= n || line[nl] != ':') return false;
    const char *p = line + nl + 1;
    size_t pl = n - nl - 1;
    while (pl && (*p == ' ' || *p == '\t')) p++, pl--;
    while (pl && (p[pl - 1] == ' ' || p[pl - 1] == '\t')) pl--;
    for (size_t i = 0; i < pl; i++) {
        uint8_t ch = (uint8_t)p[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return false;
    }
    *c = nl;
    *v = p;
    *vl = pl;
    return true;
}

static void field(rd_http_t *h, rd__http_req_t *r, head_t *hd, const char *line, size_t n)
{
    size_t c, vl;
    const char *v;
    if (!field_line(line, n, &c, &v, &vl)) return fail(hd, 400, true);
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
        parse_te(hd, v, vl);
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

/* RFC 9112 s3.2.2: a server MUST accept the absolute-form ("https://host/dns-query?dns=..."),
 * which clients send to proxies and some send everywhere. Only http and https URIs name a
 * resource of ours. The authority takes the place of Host (s3.3), which we do not use either:
 * the service answers under any name it is reached by, so it is checked for syntax only.
 * What follows it is the origin-form the DoH rules look at. */
static void absolute_form(rd__http_req_t *r, head_t *hd, const char *t, size_t n)
{
    size_t s = 0;
    while (s < n && t[s] != ':') s++;
    if (!(rd__http_ieq(t, s, "https") || rd__http_ieq(t, s, "http")) || n - s < 3 ||
        memcmp(t + s, "://", 3) != 0)
        return fail(hd, 400, false); /* no absolute URI of ours (or asterisk/authority-form) */
    const char *a = t + s + 3, *end = t + n;
    size_t al = 0;
    while (a + al < end && a[al] != '/' && a[al] != '?') al++;
    /* RFC 3986 s3.2 authority characters; RFC 9110 s4.2.4: userinfo is an error, s4.2.1: an
     * empty host is invalid. */
    if (al == 0 || a[0] == ':') return fail(hd, 400, false);
    for (size_t i = 0; i < al; i++) {
        uint8_t c = (uint8_t)a[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("-._~!$&'()*+,;=:[]%", c) != NULL;
        if (!ok || c == '\0') return fail(hd, 400, false);
    }
    const char *p = a + al;
    size_t pl = (size_t)(end - p);
    if (pl && *p == '/') return rd__http_target(r, p, pl);
    /* RFC 9110 s4.2.3: an empty path is "/" */
    if (pl + 1 > RD_HTTP_URI_MAX) return fail(hd, 414, false);
    char buf[RD_HTTP_URI_MAX];
    buf[0] = '/';
    if (pl) memcpy(buf + 1, p, pl);
    rd__http_target(r, buf, pl + 1);
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
    if (*t == '/')
        rd__http_target(r, t, (size_t)(sp2 - t)); /* origin-form, RFC 9112 s3.2.1 */
    else
        absolute_form(r, hd, t, (size_t)(sp2 - t));
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

static int send_continue(rd_http_t *h)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    h->cont_owed = false;
    return rd__http_send(h, (const uint8_t *)cont, sizeof(cont) - 1);
}

/* The framing a transfer-encoding field leaves us with (RFC 9112 s6.1, s6.3). */
static void te_check(head_t *hd)
{
    /* s6.1: HTTP/1.0 has no transfer codings: the framing is faulty. s6.3: with
     * Content-Length as well it may be smuggling: refused, and closed. */
    if (hd->http10 || hd->has_cl || hd->te_bad) return fail(hd, 400, true);
    /* s6.3: the length cannot be known unless chunked comes last, and s7 applies it once. */
    if (!hd->te_last_chunked || hd->te_chunked > 1) return fail(hd, 400, true);
    /* s6.1: a coding we do not know (and we undo none but chunked) is 501. */
    if (hd->te_other) return fail(hd, 501, true);
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
    if (hd.http10) hd.expect_continue = false; /* RFC 9110 s10.1.1: MUST be ignored */
    if (!hd.fatal && hd.te) te_check(&hd);
    if (!hd.fatal && hd.cl > RD_HTTP_BODY_MAX) fail(&hd, 413, true); /* too big to skip */
    bool body = hd.te || hd.cl > 0;
    /* RFC 9110 s10.1.1: a client waiting for 100 Continue gets the final status at once
     * when the head alone decides it; it may never send the body, so we do not wait for it. */
    if (!hd.fatal && body && hd.expect_continue && hd.status) hd.fatal = true;
    r->close = hd.fatal || hd.close || (hd.http10 && !hd.keepalive);
    if (hd.status) r->status = hd.status;
    if (r->close) h->h1_state = RD__H1_CLOSING;
    if (hd.fatal || !body) return rd__http_request_done(h, r);
    h->cur = r;
    h->h1_body = hd.te ? RD__H1B_CHUNK_SIZE : RD__H1B_LENGTH;
    h->body_left = hd.cl;
    h->body_seen = 0;
    h->cont_owed = false;
    if (h->h1_state != RD__H1_CLOSING) h->h1_state = RD__H1_BODY;
    /* RFC 9110 s10.1.1: 100 Continue, unless some of the body came already (then the client
     * did not wait). Only when no earlier response is still owed on the stream: otherwise
     * when that one has gone (rd__h1_flush). */
    if (hd.expect_continue && h->in_len == n) {
        if (r->sid != h->out_sid) {
            h->cont_owed = true;
            return 0;
        }
        return send_continue(h);
    }
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

/* ---- request bodies: Content-Length or chunked (RFC 9112 s6.3) ---- */

/* The body of h->cur is complete: the request goes to the DoH rules. < 0 or 1 (progress). */
static int body_done(rd_http_t *h)
{
    rd__http_req_t *r = h->cur;
    h->cur = NULL;
    h->cont_owed = false;
    if (h->h1_state == RD__H1_BODY) h->h1_state = RD__H1_HEAD;
    int rc = rd__http_request_done(h, r);
    return rc < 0 ? rc : 1;
}

/* A body whose framing broke, or that grew too big to skip: answered with status, and the
 * connection closes, as where the next request starts is unknown (RFC 9112 s9.6). */
static int body_fail(rd_http_t *h, unsigned status)
{
    h->cur->status = status;
    h->cur->close = true;
    h->h1_state = RD__H1_CLOSING;
    consume(h, h->in_len);
    return body_done(h);
}

/* Data octets of the body (Content-Length or one chunk): up to body_left of them. */
static size_t body_data(rd_http_t *h)
{
    size_t n = h->in_len < h->body_left ? h->in_len : h->body_left;
    if (n == 0) return 0;
    (void)rd__http_body_add(h, h->cur, h->in, n); /* past a limit: status set */
    consume(h, n);
    h->body_left -= n;
    h->body_seen += n;
    h->cont_owed = false; /* the client did not wait for it */
    return n;
}

/* A CRLF-terminated line at the front of the input, of at most lim octets before the CRLF:
 * 1 and its length in *len, 0 when it has not all come, -1 when a CR or an LF stands alone
 * (RFC 9112 s2.2, as in the head), -2 when it is longer than lim. A line that arrives in
 * small pieces is searched once (h->scan). */
static int find_line(rd_http_t *h, size_t lim, size_t *len)
{
    size_t n = h->in_len < lim + 2 ? h->in_len : lim + 2;
    for (size_t i = h->scan; i < n; i++) {
        if (h->in[i] == '\n') {
            if (i == 0 || h->in[i - 1] != '\r') return -1;
            *len = i - 1;
            return 1;
        }
        if (h->in[i] == '\r' && i + 1 < h->in_len && h->in[i + 1] != '\n') return -1;
    }
    if (n == lim + 2) return -2;
    h->scan = n ? n - 1 : 0; /* the last octet again: a CR whose LF has not come */
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Skips BWS (RFC 9110 s5.6.3) in l[*i..n). */
static void bws(const char *l, size_t n, size_t *i)
{
    while (*i < n && (l[*i] == ' ' || l[*i] == '\t')) (*i)++;
}

/* token / quoted-string (RFC 9110 s5.6.2, s5.6.4) at l[*i..n): false when neither. */
static bool ext_value(const char *l, size_t n, size_t *i)
{
    size_t j = *i;
    if (j < n && l[j] == '"') {
        for (j++; j < n; j++) {
            uint8_t c = (uint8_t)l[j];
            if (c == '"') {
                *i = j + 1;
                return true;
            }
            if (c == '\\') {
                if (++j >= n) return false;
                c = (uint8_t)l[j]; /* quoted-pair: HTAB, SP, VCHAR, obs-text */
                if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
            } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return false; /* qdtext */
            }
        }
        return false; /* no closing quote */
    }
    while (j < n && is_tchar((uint8_t)l[j])) j++;
    if (j == *i) return false;
    *i = j;
    return true;
}

/* chunk-size [ chunk-ext ] (RFC 9112 s7.1, s7.1.1), CRLF excluded: the size and how many
 * octets the extensions took. 0, or the answer: 400 for no size or broken extensions, 413
 * for a size past any body we take. Extensions are checked for syntax and ignored (s7.1.1:
 * unrecognized ones MUST be; we recognize none). */
static unsigned chunk_size(const char *l, size_t n, size_t *size, size_t *ext)
{
    size_t i = 0, v = 0;
    /* leading zeros are allowed: a value is capped, never overflows */
    for (int d; i < n && (d = hexval(l[i])) >= 0; i++)
        if (v <= RD_HTTP_BODY_MAX) v = v * 16 + (size_t)d;
    if (i == 0) return 400;
    *ext = n - i;
    while (i < n) { /* *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) */
        bws(l, n, &i);
        if (i >= n || l[i] != ';') return 400;
        i++;
        bws(l, n, &i);
        size_t name = i;
        while (i < n && is_tchar((uint8_t)l[i])) i++;
        if (i == name) return 400;
        size_t j = i;
        bws(l, n, &j);
        if (j < n && l[j] == '=') {
            j++;
            bws(l, n, &j);
            if (!ext_value(l, n, &j)) return 400;
            i = j;
        }
    }
    if (v > RD_HTTP_BODY_MAX) return 413;
    *size = v;
    return 0;
}

/* One step through a chunked body (RFC 9112 s7.1):
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 * Returns < 0 on failure, 0 when more input is needed, 1 after progress. */
static int body_chunked(rd_http_t *h)
{
    rd__http_req_t *r = h->cur;
    size_t len, size = 0, ext = 0;
    int f;
    if (rd_fails_assert(h->h1_body > RD__H1B_LENGTH && h->h1_body <= RD__H1B_TRAILER))
        return RD_EBUG;
    switch (h->h1_body) {
    case RD__H1B_CHUNK_SIZE: {
        f = find_line(h, RD_HTTP1_CHUNK_LINE_MAX, &len);
        if (f <= 0) return f == 0 ? 0 : body_fail(h, f == -2 ? 413 : 400);
        unsigned st = chunk_size((const char *)h->in, len, &size, &ext);
        if (st) return body_fail(h, st);
        /* s7.1.1: extensions are limited like the rest of the head */
        r->hdr_bytes += ext;
        if (r->hdr_bytes > RD_HTTP_HEADERS_MAX + 2) return body_fail(h, 413);
        /* the body is bounded as a whole (RFC 8484 s6: one DNS message); skipping the rest of
         * a chunked body would have no bound */
        if (size > RD_HTTP_BODY_MAX - h->body_seen) return body_fail(h, 413);
        consume(h, len + 2);
        h->body_left = size;
        h->h1_body = size ? RD__H1B_CHUNK_DATA : RD__H1B_TRAILER;
        return 1;
    }
    case RD__H1B_CHUNK_DATA:
        if (!body_data(h)) return 0;
        if (h->body_left == 0) h->h1_body = RD__H1B_CHUNK_END;
        return 1;
    case RD__H1B_CHUNK_END:
        if (h->in_len >= 1 && h->in[0] != '\r') return body_fail(h, 400);
        if (h->in_len < 2) return 0;
        if (h->in[1] != '\n') return body_fail(h, 400);
        consume(h, 2);
        h->h1_body = RD__H1B_CHUNK_SIZE;
        return 1;
    default: { /* RD__H1B_TRAILER */
        /* Trailer fields (s7.1.2) are read for their syntax and size, and dropped: none
         * matters to DoH (RFC 9110 s6.5.1 lets a recipient discard them). */
        size_t room =
            RD_HTTP_HEADERS_MAX + 2 > r->hdr_bytes ? RD_HTTP_HEADERS_MAX + 2 - r->hdr_bytes : 0;
        f = find_line(h, room, &len);
        if (f <= 0) return f == 0 ? 0 : body_fail(h, f == -2 ? 431 : 400);
        if (len == 0) {
            consume(h, 2);
            return body_done(h);
        }
        const char *v;
        size_t c, vl;
        if (!field_line((const char *)h->in, len, &c, &v, &vl)) return body_fail(h, 400);
        r->hdr_bytes += len + 2;
        if (++r->nhdr > RD_HTTP_HEADER_COUNT_MAX) return body_fail(h, 431);
        consume(h, len + 2);
        return 1;
    }
    }
}

/* One step through the body of h->cur, as body_chunked. */
static int body(rd_http_t *h)
{
    if (h->h1_body != RD__H1B_LENGTH) return body_chunked(h);
    if (!body_data(h)) return 0;
    return h->body_left ? 1 : body_done(h);
}

/* Parses what the input buffer holds. Returns < 0 on failure, else whether it consumed
 * anything. */
static int parse(rd_http_t *h)
{
    int progress = 0;
    for (;;) {
        if (h->cur) { /* a body, also the last one before closing */
            int rc = body(h);
            if (rc <= 0) return rc < 0 ? rc : progress;
            progress = 1;
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
    /* The request whose body we wait for asked for 100 Continue: its turn has come. */
    if (h->cont_owed && h->cur && h->cur->sid == h->out_sid && !rd__http_busy(h)) {
        int rc = send_continue(h);
        if (rc < 0) return rc;
        sent = 1;
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
