/* The DoH layer of an upstream connection (RFC 8484 over HTTP/2, RFC 9113): one nghttp2
 * client session on the open TLS connection, one stream per query (POST of
 * application/dns-message to the URL's path, :authority the URL's host), many at once. The
 * session is driven with mem_recv / mem_send like the server side (src/net/http2.c); replies
 * go back through upstream.c, which restores the ID (sent as 0, RFC 8484 s4.1). */
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/limits.h"
#include "net/upstream_int.h"

#define DNS_MSG_TYPE "application/dns-message"

static rd_upq_t *stream_q(nghttp2_session *s, int32_t sid)
{
    return nghttp2_session_get_stream_user_data(s, sid);
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
    (void)flags;
    (void)ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_RESPONSE) return 0;
    rd_upq_t *q = stream_q(s, f->hd.stream_id);
    if (!q) return 0;
    if (nl == 7 && memcmp(name, ":status", 7) == 0) {
        q->status = 0;
        for (size_t i = 0; i < vl && i < 3; i++)
            q->status = value[i] >= '0' && value[i] <= '9' ? q->status * 10 + (value[i] - '0') : -1;
        if (vl != 3 || q->status < 0) q->status = -1;
    } else if (nl == 12 && memcmp(name, "content-type", 12) == 0) {
        /* RFC 8484 s6: the media type, parameters allowed */
        size_t tl = sizeof(DNS_MSG_TYPE) - 1;
        q->ctype_ok = vl >= tl && strncasecmp((const char *)value, DNS_MSG_TYPE, tl) == 0 &&
                      (vl == tl || value[tl] == ';' || value[tl] == ' ');
    }
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data, size_t len,
                   void *ud)
{
    (void)flags;
    (void)ud;
    rd_upq_t *q = stream_q(s, sid);
    if (!q || q->status == -2) return 0;
    if (q->resp_len + len > 65535) {
        /* a DNS message is 65535 octets at most: this is no reply, stop it */
        q->status = -2;
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
        return 0;
    }
    uint8_t *n = realloc(q->resp, q->resp_len + len);
    if (!n) {
        q->status = -2;
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_INTERNAL_ERROR);
        return 0;
    }
    memcpy(n + q->resp_len, data, len);
    q->resp = n;
    q->resp_len += len;
    return 0;
}

/* RFC 9113 s6.8: after GOAWAY no new stream goes on this connection. */
static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    if (f->hd.type == NGHTTP2_GOAWAY) rd__up_goaway(ud, f->goaway.last_stream_id);
    return 0;
}

static int on_close(nghttp2_session *s, int32_t sid, uint32_t ec, void *ud)
{
    rd__up_conn_t *c = ud;
    rd_upq_t *q = stream_q(s, sid);
    if (!q) return 0;
    nghttp2_session_set_stream_user_data(s, sid, NULL);
    if (q->cb && q->status == 200 && q->ctype_ok && ec == NGHTTP2_NO_ERROR) {
        rd__up_reply(c, q, q->resp, q->resp_len);
        return 0;
    }
    /* RFC 9113 s8.7: REFUSED_STREAM says the server did not process the request (nghttp2 also
     * closes so the streams above a GOAWAY's last-stream-id and requests it could no longer
     * send): it goes again, once, on another connection */
    if (q->cb && ec == NGHTTP2_REFUSED_STREAM && q->status == 0 && rd__up_resend(c, q)) return 0;
    if (q->cb)
        rd_log_debug("forward upstream %s: stream failed: HTTP status %d, %s, error code %u",
                     rd__up_pool_conf(c->pool)->uri, q->status,
                     q->ctype_ok ? DNS_MSG_TYPE : "other content type", ec);
    rd__up_end(c, q, RD_UP_ERR_HTTP);
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    (void)s;
    (void)sid;
    (void)ud;
    rd_upq_t *q = src->ptr;
    size_t n = q->len - q->off;
    if (n > len) n = len;
    memcpy(buf, q->msg + q->off, n);
    q->off += n;
    if (q->off == q->len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

int rd__doh_open(rd__up_conn_t *c)
{
    nghttp2_session_callbacks *cb = NULL;
    nghttp2_session *s = NULL;
    int r = RD_ENOMEM;
    if (nghttp2_session_callbacks_new(&cb) != 0) return RD_ENOMEM;
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    if (nghttp2_session_client_new(&s, cb, c) != 0) goto out;
    /* no server push (RFC 9113 s8.4): we would never use it */
    nghttp2_settings_entry set[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 0}};
    if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, set, 2) != 0) {
        nghttp2_session_del(s);
        goto out;
    }
    c->h2 = s;
    r = 0;
out:
    nghttp2_session_callbacks_del(cb);
    return r;
}

#define NV(n, v, vl)                                                                               \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NONE                  \
    }

int rd__doh_submit(rd__up_conn_t *c, rd_upq_t *q)
{
    const rd_conf_upstream_t *u = rd__up_pool_conf(c->pool);
    const char *auth = rd__up_authority(c->pool);
    const char *path = u->path ? u->path : "/dns-query";
    char clen[8];
    snprintf(clen, sizeof(clen), "%zu", q->len);
    /* RFC 8484 s4.1: POST, the body the DNS message; s5.1: accept the DNS media type */
    nghttp2_nv nva[] = {
        NV(":method", "POST", 4),
        NV(":scheme", "https", 5),
        NV(":authority", auth, strlen(auth)),
        NV(":path", path, strlen(path)),
        NV("accept", DNS_MSG_TYPE, sizeof(DNS_MSG_TYPE) - 1),
        NV("content-type", DNS_MSG_TYPE, sizeof(DNS_MSG_TYPE) - 1),
        NV("content-length", clen, strlen(clen)),
    };
    nghttp2_data_provider prd = {.source.ptr = q, .read_callback = read_body};
    q->off = 0;
    int32_t sid = nghttp2_submit_request(c->h2, NULL, nva, sizeof(nva) / sizeof(nva[0]), &prd, q);
    if (sid < 0) return RD_EIO;
    q->sid = sid;
    q->sent = true;
    return 0;
}

/* Callbacks run inside mem_recv and mem_send and may submit or reset streams: nghttp2 takes
 * no nested mem_send, so the outermost caller sends what they queued (the loop runs until
 * nothing is left). */
int rd__doh_flush(rd__up_conn_t *c)
{
    if (!c->h2 || c->in_h2) return 0;
    int r = 0;
    c->in_h2 = true;
    for (;;) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->h2, &data);
        if (n <= 0) {
            r = n < 0 ? RD_EIO : 0;
            break;
        }
        if (c->state == UC_CLOSING || rd_tls_write(c->tls, data, (size_t)n) != 0) {
            r = RD_EIO;
            break;
        }
    }
    c->in_h2 = false;
    return r;
}

int rd__doh_input(rd__up_conn_t *c, const uint8_t *p, size_t n)
{
    c->in_h2 = true;
    ssize_t r = nghttp2_session_mem_recv(c->h2, p, n);
    c->in_h2 = false;
    if (c->state == UC_CLOSING) return 0; /* a callback's query failed it: already gone */
    if (r == NGHTTP2_ERR_NOMEM) return RD_ENOMEM;
    if (r < 0 || (size_t)r != n) return RD_EINVAL; /* the peer broke HTTP/2 */
    /* writing what the input asked for (SETTINGS ACK, WINDOW_UPDATE) fails when the peer
     * has closed: that is the connection lost, not a protocol error */
    if (rd__doh_flush(c) != 0) return RD_EIO;
    if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2))
        return 1; /* GOAWAY and nothing left: the session is over */
    return 0;
}

void rd__doh_cancel(rd__up_conn_t *c, rd_upq_t *q)
{
    /* the stream closes (on_close frees q, no callback: q->cb is NULL) */
    if (nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, q->sid, NGHTTP2_CANCEL) != 0) {
        nghttp2_session_set_stream_user_data(c->h2, q->sid, NULL);
        rd__up_end(c, q, RD_UP_ERR_CONN);
        return;
    }
    (void)rd__doh_flush(c);
}

void rd__doh_goaway(rd__up_conn_t *c)
{
    if (c->h2) (void)nghttp2_session_terminate_session(c->h2, NGHTTP2_NO_ERROR);
}

void rd__doh_detach(rd__up_conn_t *c, rd_upq_t *q)
{
    if (c->h2 && q->sid >= 0) (void)nghttp2_session_set_stream_user_data(c->h2, q->sid, NULL);
}

void rd__doh_free(rd__up_conn_t *c)
{
    if (c->h2) nghttp2_session_del(c->h2);
    c->h2 = NULL;
}
