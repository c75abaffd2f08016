/* DoH over HTTP/2 (RFC 9113, RFC 8484 s5.2) with nghttp2 as a server session driven by
 * memory: nghttp2_session_mem_recv takes the decrypted input, nghttp2_session_mem_send gives
 * the octets for on_send. Each stream is one request slot whose sid is the stream id (never
 * reused in a connection, RFC 9113 s5.1.1), so an answer for a stream that was reset or
 * closed finds no slot and is dropped. */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "net/http_int.h"

static rd__http_req_t *req_of(rd_http_t *h, int32_t stream_id, int state)
{
    if (stream_id <= 0) return NULL;
    rd__http_req_t *r = rd__http_req_find(h, (uint32_t)stream_id);
    return r && (state < 0 || r->state == state) ? r : NULL;
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    rd_http_t *h = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    if (!rd__http_req_new(h, (uint32_t)f->hd.stream_id))
        /* Every slot busy (streams closing while their answers are sent): the client may
         * retry this one (RFC 9113 s8.7). */
        return nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id,
                                         NGHTTP2_REFUSED_STREAM) == 0
                   ? 0
                   : NGHTTP2_ERR_CALLBACK_FAILURE;
    return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    (void)s, (void)flags;
    rd_http_t *h = ud;
    if (f->hd.type != NGHTTP2_HEADERS) return 0;
    rd__http_req_t *r = req_of(h, f->hd.stream_id, RD__HQ_RECV);
    if (!r) return 0;
    /* Counted like SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 s6.5.2), trailers included. */
    r->hdr_bytes += nlen + vlen + 32;
    if (++r->nhdr > RD_HTTP_HEADER_COUNT_MAX || r->hdr_bytes > RD_HTTP_HEADERS_MAX) {
        if (!r->status || r->status == 414) r->status = 431;
        return 0;
    }
    if (f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0; /* trailers: nothing we use */
    const char *n = (const char *)name, *v = (const char *)value;
    /* nghttp2 has checked the pseudo-header fields (RFC 9113 s8.3.1): one of each, names
     * in lower case, :method, :scheme and :path present. */
    if (nlen == 7 && memcmp(n, ":method", 7) == 0) {
        r->method = vlen == 3 && memcmp(v, "GET", 3) == 0    ? RD__HM_GET
                    : vlen == 4 && memcmp(v, "POST", 4) == 0 ? RD__HM_POST
                                                             : RD__HM_OTHER;
    } else if (nlen == 5 && memcmp(n, ":path", 5) == 0) {
        rd__http_target(r, v, vlen);
    } else if (nlen && n[0] != ':') {
        rd__http_header(h, r, n, nlen, v, vlen);
    }
    /* The client does not read: this request waits, unfinished, until it does (the rest of
     * the input stays with the layer above). */
    return rd__http_busy(h) ? NGHTTP2_ERR_PAUSE : 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *ud)
{
    (void)s, (void)flags;
    rd_http_t *h = ud;
    rd__http_req_t *r = req_of(h, stream_id, RD__HQ_RECV);
    if (r) (void)rd__http_body_add(h, r, data, len); /* past a limit: status set */
    return rd__http_busy(h) ? NGHTTP2_ERR_PAUSE : 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    rd_http_t *h = ud;
    switch (f->hd.type) {
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA:
        if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) {
            rd__http_req_t *r = req_of(h, f->hd.stream_id, RD__HQ_RECV);
            if (r && rd__http_request_done(h, r) < 0) return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        return 0;
    case NGHTTP2_RST_STREAM: {
        /* CVE-2023-44487: opening streams and resetting them before the answer costs the
         * client nothing and us a resolution each. nghttp2's token bucket limits the rate;
         * this counts them against the answers the client let arrive. */
        rd__http_req_t *r = req_of(h, f->hd.stream_id, -1);
        if (r && (r->state == RD__HQ_RECV || r->state == RD__HQ_PENDING)) h->resets++;
        if (!h->calm && h->resets > RD_HTTP_RESETS_FREE + h->answered) {
            h->calm = true;
            if (nghttp2_session_terminate_session(s, NGHTTP2_ENHANCE_YOUR_CALM) != 0)
                return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        return 0;
    }
    default: return 0;
    }
}

static int on_stream_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *ud)
{
    (void)s, (void)error_code;
    rd_http_t *h = ud;
    rd__http_req_t *r = req_of(h, stream_id, -1);
    /* A query still in flight is detached here: its answer will find no slot. */
    if (r) rd__http_req_free(h, r);
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t len,
                         uint32_t *data_flags, nghttp2_data_source *src, void *ud)
{
    (void)s, (void)src;
    rd_http_t *h = ud;
    rd__http_req_t *r = req_of(h, stream_id, RD__HQ_READY);
    if (!r) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    size_t n = r->out_len - r->out_off;
    if (n > len) n = len;
    if (n) memcpy(buf, r->out + r->out_off, n);
    r->out_off += n;
    if (r->out_off == r->out_len) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

#define NV(n, v, vl)                                                                               \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NONE                  \
    }

int rd__h2_respond(rd_http_t *h, rd__http_req_t *r, unsigned status, const uint8_t *body,
                   size_t len, uint32_t max_age)
{
    char st[4], cc[32], cl[16];
    snprintf(st, sizeof(st), "%03u", status % 1000);
    snprintf(cc, sizeof(cc), "max-age=%" PRIu32, max_age);
    snprintf(cl, sizeof(cl), "%zu", len);
    nghttp2_nv nv[5] = {NV(":status", st, 3)};
    size_t nnv = 1;
    nghttp2_data_provider prov = {.read_callback = read_body};
    if (body) {
        if (!rd__http_out_alloc(h, r, len)) {
            status = 503;
            snprintf(st, sizeof(st), "%03u", status);
            body = NULL;
        } else {
            memcpy(r->out, body, len);
            nv[nnv++] = (nghttp2_nv)NV("content-type", "application/dns-message", 23);
            nv[nnv++] = (nghttp2_nv)NV("cache-control", cc, strlen(cc));
        }
    }
    if (!body) snprintf(cl, sizeof(cl), "0");
    nv[nnv++] = (nghttp2_nv)NV("content-length", cl, strlen(cl));
    if (status == 405) nv[nnv++] = (nghttp2_nv)NV("allow", "GET, POST", 9); /* RFC 9110 */
    int rc = nghttp2_submit_response(h->ng, (int32_t)r->sid, nv, nnv, body ? &prov : NULL);
    if (rc != 0) rd__http_req_free(h, r); /* the stream is gone already */
    return 0;
}

int rd__h2_flush(rd_http_t *h)
{
    bool nested = h->in_feed;
    h->in_feed = true; /* an answer given from on_send is queued, and this loop sends it */
    int rc = 0;
    /* busy: frames stay queued in nghttp2 (answers in r->out, bounded by
     * RD_HTTP_CONN_OUT_MAX) until the layer above feeds again. */
    while (!rd__http_busy(h)) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(h->ng, &p);
        if (n < 0) {
            rc = RD_EINVAL;
            break;
        }
        if (n == 0) break;
        rc = rd__http_send(h, p, (size_t)n);
        if (rc < 0) break;
        /* one whole DATA or HEADERS frame (RFC 9113 s4.1) that ends its stream: a response */
        if (h->cb.response_end && n >= 9 &&
            (size_t)n == 9 + ((size_t)p[0] << 16 | p[1] << 8 | p[2]) &&
            (p[3] == NGHTTP2_DATA || p[3] == NGHTTP2_HEADERS) && (p[4] & NGHTTP2_FLAG_END_STREAM))
            h->cb.response_end(h->cb.ctx);
    }
    h->in_feed = nested;
    return rc;
}

int rd__h2_feed(rd_http_t *h, const uint8_t *data, size_t len, size_t *used)
{
    h->in_feed = true;
    ssize_t n = len ? nghttp2_session_mem_recv(h->ng, data, len) : 0;
    h->in_feed = false;
    /* NGHTTP2_ERR_PAUSE from a callback: n octets were processed, the rest comes again */
    *used = n > 0 ? (size_t)n : 0;
    /* After a fatal error nghttp2 has queued GOAWAY when it could: send it before closing. */
    int rc = rd__h2_flush(h);
    if (n < 0) {
        h->failed = RD_EINVAL; /* nothing more is read or sent: rd_http_done says close */
        return RD_EINVAL;
    }
    return rc;
}

int rd__h2_shutdown(rd_http_t *h)
{
    /* Streams up to the last one processed are still answered; nghttp2 then stops wanting to
     * read and write, which rd_http_done reports. */
    int32_t last = nghttp2_session_get_last_proc_stream_id(h->ng);
    if (nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE, last, NGHTTP2_NO_ERROR, NULL, 0) != 0)
        return RD_EINVAL;
    return rd__h2_flush(h);
}

bool rd__h2_done(const rd_http_t *h)
{
    return !nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng);
}

int rd__h2_new(rd_http_t *h)
{
    nghttp2_session_callbacks *cb = NULL;
    nghttp2_option *opt = NULL;
    int rc = RD_ENOMEM;
    if (nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0) goto out;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    /* Closed streams are kept only for RFC 7540 priorities, which DoH does not need. */
    nghttp2_option_set_no_closed_streams(opt, 1);
#ifdef RD_HAVE_NGHTTP2_RST_RATE_LIMIT
    nghttp2_option_set_stream_reset_rate_limit(opt, RD_HTTP_RST_BURST, RD_HTTP_RST_RATE);
#endif
    if (nghttp2_session_server_new2(&h->ng, cb, h, opt) != 0) goto out;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h->nreqs},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, RD_HTTP_HEADERS_MAX},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    if (nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0)
        goto out;
    rc = 0;
out:
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    return rc;
}

void rd__h2_free(rd_http_t *h)
{
    /* nghttp2_session_del calls no stream-close callbacks, so slots are freed afterwards by
     * rd_http_free. */
    nghttp2_session_del(h->ng);
    h->ng = NULL;
}
