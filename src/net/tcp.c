/* Stream connections: DNS over TCP (RFC 7766) and DNS over TLS (RFC 7858) as layers on one
 * connection object (DESIGN.md "Transports as layers"):
 *   bottom  uv_tcp_t: raw_send (uv_try_write, then uv_write for the rest), reads, EOF;
 *   middle  optional TLS (src/net/tls.c): ciphertext in, plaintext up, ciphertext down;
 *   top     DNS framing: 2-octet length, pipelined queries answered as they complete
 *           (TCP, DoT); or HTTP (DoH, src/net/http.c): requests in, responses out.
 * The middle and top layers talk to the ones next to them only through stream_write (bytes
 * down) and app_input (bytes up); closing goes down the stack (close_notify, then the
 * socket). Idle timeout, handshake timeout, per-worker connection limit, and backpressure
 * when a client does not read or has too many queries in resolution.
 *
 * Backpressure is checked per query, not per read: while the client is RD_TCP_WRITE_HIGH
 * behind (throttled) or has tcp-max-inflight queries in resolution (paused), buffered
 * queries wait where they are (plaintext buffer, TLS input, HTTP input) and are taken up
 * again from the kick handle once that clears. Answers never pump input themselves (they may
 * come from deep inside the HTTP layer or a resolution that finished synchronously): they
 * only schedule the kick. A hard cap (RD_TCP_WRITE_MAX) closes the connection of a client
 * that lets late answers pile up.
 *
 * Idle timeout (RFC 7766 s6.2.3, RFC 7858 s3.4): it runs from the last progress (a complete
 * query or request taken, an answer handed down), not from the last octet, so trickling
 * octets of a frame that never completes (or HTTP/2 PINGs) does not keep a connection; and
 * it never closes a connection while queries are in resolution for it.
 *
 * Batching: what the layers send while one callback of a connection runs (the answers to the
 * queries of one read, a handshake flight, a session ticket, HTTP/2 frames) is gathered and
 * goes out at the end of the callback as one TLS record and one write() where it fits, not one
 * record and one system call per answer or frame. A read that sends nothing back is
 * acknowledged at once (TCP_QUICKACK): see ack_now. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "net/http.h"
#include "net/stream.h"
#include "net/tls.h"
#include "server/server.h"
#include "wire/cursor.h"

/* C_HANDSHAKE only on TLS connections; plain TCP starts C_OPEN. C_FLUSHING: the HTTP layer
 * said goodbye (GOAWAY, Connection: close); nothing more is read, the socket closes once the
 * last octets are written. */
enum conn_state { C_HANDSHAKE, C_OPEN, C_FLUSHING, C_CLOSING };

struct rd_tcp_conn {
    uv_tcp_t h;
    uv_timer_t idle; /* handshake deadline while C_HANDSHAKE, idle timeout after */
    uv_idle_t kick;  /* takes up buffered input again after a pause, outside any callback */
    rd_worker_t *w;
    rd_tcp_conn_t *prev, *next;
    int state; /* enum conn_state */
    int kind;  /* enum rd_stream_kind */
    int open_handles;
    bool reading;   /* uv_read_start in effect */
    bool throttled; /* the client is RD_TCP_WRITE_HIGH behind reading our answers */
    bool paused;    /* tcp-max-inflight requests in resolution: no new queries read */
    bool refused;   /* access control says REFUSED: every query gets it */
    bool snoop;     /* access control says allow_snoop: RD=0 answered from the cache */
    bool eof;       /* the client half-closed: finish what is in resolution, then close */
    bool lingering; /* closed for us, FIN sent, client's late octets read and dropped */
    uv_shutdown_t shut;
    rd_tls_t *tls;   /* NULL for plain TCP */
    rd_http_t *http; /* DoH, once the handshake chose HTTP/2 or HTTP/1.1 */
    uint8_t *buf;    /* plaintext: framed queries */
    size_t len, cap; /* DoH: plaintext the HTTP layer did not take yet (it was busy) */
    /* the query being handed to rd_recurse_start, for an answer when that fails at once */
    const uint8_t *cur_q;
    size_t cur_qlen;
    size_t write_pending; /* octets handed to uv_write and not yet written */
    unsigned long writes; /* socket writes so far (uv_try_write or uv_write) */
    unsigned refs;        /* requests in resolution that will answer on this stream */
    unsigned queries;     /* answered so far */
};

typedef struct {
    uv_write_t req;
    rd_tcp_conn_t *c;
    size_t len;
    uint8_t data[];
} write_req_t;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void tls_pump(rd_tcp_conn_t *c);

/* The batch of the connection whose callback is running (batch_begin .. batch_end): plaintext
 * for the TLS layer (one record when it is encrypted), and the octets for the socket (one
 * write). One per worker thread: a callback of one connection may answer another one (a
 * resolution that finished inside it), and that one simply writes at once. */
static _Thread_local struct {
    rd_tcp_conn_t *owner;
    size_t len, wlen;
    uint8_t buf[RD_STREAM_BATCH_MAX];      /* plaintext, TLS connections only */
    uint8_t wbuf[2 * RD_STREAM_BATCH_MAX]; /* for the socket: a record and a flight fit */
} batch;

static void batch_drop(rd_tcp_conn_t *c)
{
    if (batch.owner == c) batch.len = batch.wlen = 0;
}

static int batch_flush(rd_tcp_conn_t *c);
static int wbatch_flush(rd_tcp_conn_t *c);

static void conn_free(rd_tcp_conn_t *c)
{
    rd_worker_t *w = c->w;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    w->nconns--;
    if (batch.owner == c) {
        batch_drop(c);
        batch.owner = NULL;
    }
    rd_http_free(c->http);
    rd_tls_free(c->tls);
    free(c->buf);
    free(c);
    if (w->state == RD_W_STOPPING && w->nconns == 0) rd_tcp_close_all(w, false);
}

/* The connection's memory outlives its handles while requests in resolution refer to it. */
static void on_handle_closed(uv_handle_t *h)
{
    rd_tcp_conn_t *c = h->data;
    if (--c->open_handles > 0 || c->refs > 0) return;
    conn_free(c);
}

/* Bottom layer gone: no more bytes either way. Safe from inside the TLS layer's callbacks
 * (memory stays until the close callbacks and the last reference). */
static void conn_abort(rd_tcp_conn_t *c)
{
    if (c->state == C_CLOSING) return;
    c->state = C_CLOSING;
    c->reading = false;
    batch_drop(c);
    uv_close((uv_handle_t *)&c->kick, on_handle_closed);
    uv_close((uv_handle_t *)&c->idle, on_handle_closed);
    uv_close((uv_handle_t *)&c->h, on_handle_closed);
}

static bool input_waiting(rd_tcp_conn_t *c);

static void linger_end(rd_tcp_conn_t *c)
{
    c->lingering = false;
    if (!uv_is_closing((uv_handle_t *)&c->idle))
        uv_close((uv_handle_t *)&c->idle, on_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&c->h)) uv_close((uv_handle_t *)&c->h, on_handle_closed);
}

static void on_linger_timeout(uv_timer_t *t)
{
    linger_end(t->data);
}

static void on_shut(uv_shutdown_t *req, int status)
{
    (void)req; /* the FIN went out, or the connection is gone: linger_end decides */
    (void)status;
}

static void on_linger_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static _Thread_local char sink[4096];
    *buf = uv_buf_init(sink, sizeof(sink));
}

static void on_linger_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread < 0) linger_end(s->data); /* the client closed too (or reset): done */
}

/* RFC 9112 s9.6 (and any stream): closing a socket with unread input makes the kernel send a
 * reset, and a reset can destroy our last octets (an HTTP 413/400, the last DNS answers)
 * before the client reads them. So a close for us that may still have input coming sends FIN
 * after the queued octets, reads and drops whatever arrives until the client closes too, and
 * ends after RD_TCP_LINGER_MS at the latest. Never while the worker stops. */
static bool linger_start(rd_tcp_conn_t *c)
{
    if (c->w->state == RD_W_STOPPING || (c->eof && !input_waiting(c))) return false;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->h, on_shut) != 0) return false;
    if (c->reading) uv_read_stop((uv_stream_t *)&c->h);
    c->reading = false; /* the connection's own reading is over; update_reading leaves it */
    if (uv_read_start((uv_stream_t *)&c->h, on_linger_alloc, on_linger_read) != 0) return false;
    c->state = C_CLOSING;
    c->lingering = true;
    batch_drop(c);
    uv_close((uv_handle_t *)&c->kick, on_handle_closed);
    uv_timer_stop(&c->idle);
    uv_timer_start(&c->idle, on_linger_timeout, RD_TCP_LINGER_MS, 0);
    return true;
}

/* Orderly close down the stack: TLS close_notify (RFC 8446 s6.1) first, then the socket
 * (lingering when asked: not for timeouts, where nothing of ours is left to be read). */
static void conn_end(rd_tcp_conn_t *c, bool linger)
{
    if (c->state == C_CLOSING) return;
    if (batch.owner == c) batch_flush(c); /* the answers gathered go before close_notify */
    if (c->state == C_CLOSING) return;
    if (c->tls) rd_tls_shutdown(c->tls);
    if (batch.owner == c) wbatch_flush(c);
    if (c->state == C_CLOSING || (linger && linger_start(c))) return;
    conn_abort(c);
}

static void conn_close(rd_tcp_conn_t *c)
{
    conn_end(c, true);
}

/* Reading follows from the state: never while closing, paused, throttled or with the TLS
 * input buffer full. */
static void update_reading(rd_tcp_conn_t *c)
{
    bool want =
        (c->state == C_HANDSHAKE || c->state == C_OPEN) && !c->paused && !c->throttled && !c->eof;
    if (want && c->tls) {
        size_t space;
        rd_tls_inbuf(c->tls, &space);
        want = space > 0;
    }
    if (want && !c->reading)
        c->reading = uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) == 0;
    else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->h);
        c->reading = false;
    }
}

/* Octets received by the kernel and not read yet. */
static bool input_waiting(rd_tcp_conn_t *c)
{
    uv_os_fd_t fd;
    int n = 0;
    return uv_fileno((uv_handle_t *)&c->h, &fd) == 0 && ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

static void on_idle(uv_timer_t *t)
{
    rd_tcp_conn_t *c = t->data;
    if (c->state == C_HANDSHAKE) {
        rd_log_debug("tls: handshake timeout, closing connection");
    } else if (c->refs > 0) {
        /* RFC 7766 s6.2.3, RFC 7858 s3.4: not idle while queries are in resolution. The timer
         * repeats; the last answer restarts it for a whole period. */
        return;
    } else if (c->reading && input_waiting(c)) {
        /* Not idle either: the client's queries are in the socket, unread because this
         * process did not run for a while (libuv runs timers before polling for input).
         * Closing now would drop queries the client has sent, all of them failing at once. */
        return;
    } else {
        rd_log_debug("tcp: closing idle connection after %u queries", c->queries);
    }
    conn_end(c, false);
}

/* A query taken or an answer handed down: the idle period starts again. Octets that complete
 * nothing do not count, so a frame trickled in never keeps the connection. */
static void progress(rd_tcp_conn_t *c)
{
    if (c->state == C_OPEN || c->state == C_FLUSHING) uv_timer_again(&c->idle);
}

static void on_kick(uv_idle_t *k);

/* Buffered input is taken up again on the next loop turn, never from inside an answer. */
static void kick(rd_tcp_conn_t *c)
{
    if (c->state != C_CLOSING && !uv_is_active((uv_handle_t *)&c->kick))
        uv_idle_start(&c->kick, on_kick);
}

/* RFC 7766 s6.2.4: a client may half-close once it has sent its queries; the connection ends
 * when every one of them (buffered ones included) is answered and written. */
static void finish_if_done(rd_tcp_conn_t *c)
{
    if (c->eof && c->state == C_OPEN && c->refs == 0 && c->write_pending == 0 && !c->paused &&
        !c->throttled && !uv_is_active((uv_handle_t *)&c->kick))
        conn_close(c);
}

/* Plaintext buffer: grows to one whole frame at most. */
static void grow_buf(rd_tcp_conn_t *c)
{
    if (c->cap - c->len >= 512 || c->cap >= RD_TCP_BUF_MAX) return;
    size_t ncap = c->cap ? c->cap * 2 : RD_TCP_BUF_INITIAL;
    if (ncap > RD_TCP_BUF_MAX) ncap = RD_TCP_BUF_MAX;
    uint8_t *nb = realloc(c->buf, ncap);
    if (nb) {
        c->buf = nb;
        c->cap = ncap;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    rd_tcp_conn_t *c = h->data;
    if (c->tls) {
        size_t space;
        uint8_t *p = rd_tls_inbuf(c->tls, &space);
        *buf = uv_buf_init((char *)p, (unsigned)space);
        return;
    }
    grow_buf(c);
    *buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

/* C_FLUSHING is over when every answer in resolution came back and was written. */
static bool flushed(const rd_tcp_conn_t *c)
{
    return c->state == C_FLUSHING && c->write_pending == 0 && c->refs == 0 &&
           (batch.owner != c || (batch.len == 0 && batch.wlen == 0));
}

static void on_written(uv_write_t *req, int status)
{
    write_req_t *wr = (write_req_t *)req;
    rd_tcp_conn_t *c = wr->c;
    c->write_pending -= wr->len;
    free(wr);
    if (status < 0) {
        conn_abort(c);
        return;
    }
    if (flushed(c)) {
        conn_close(c);
        return;
    }
    if (c->throttled && c->write_pending < RD_TCP_WRITE_HIGH / 2) {
        c->throttled = false;
        kick(c); /* the queries that waited in the buffers, then reading */
    }
    finish_if_done(c);
}

/* ---- bottom layer: bytes to the socket ---- */

static int raw_write(rd_tcp_conn_t *c, const uv_buf_t *bufs, unsigned n)
{
    if (c->state == C_CLOSING) return RD_EIO;
    size_t total = 0, done = 0;
    for (unsigned i = 0; i < n; i++) total += bufs[i].len;
    c->writes++;
    /* Keep order: nothing may overtake bytes already queued in uv_write. */
    int r = c->write_pending ? UV_EAGAIN : uv_try_write((uv_stream_t *)&c->h, bufs, n);
    if (r >= 0)
        done = (size_t)r;
    else if (r != UV_EAGAIN) {
        conn_abort(c);
        return RD_EIO;
    }
    if (done == total) return 0;
    size_t rest = total - done;
    if (c->write_pending + rest > RD_TCP_WRITE_MAX) {
        rd_log_debug("tcp: client %zu octets behind reading its answers, closing",
                     c->write_pending + rest);
        conn_abort(c);
        return RD_ELIMIT;
    }
    write_req_t *wr = malloc(sizeof(*wr) + rest);
    if (!wr) {
        conn_abort(c);
        return RD_ENOMEM;
    }
    size_t k = 0, skip = done;
    for (unsigned i = 0; i < n; i++) {
        size_t l = bufs[i].len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        memcpy(wr->data + k, bufs[i].base + skip, l - skip);
        k += l - skip;
        skip = 0;
    }
    wr->c = c;
    wr->len = rest;
    uv_buf_t b = uv_buf_init((char *)wr->data, (unsigned)rest);
    if (uv_write(&wr->req, (uv_stream_t *)&c->h, &b, 1, on_written)) {
        free(wr);
        conn_abort(c);
        return RD_EIO;
    }
    c->write_pending += rest;
    if (c->write_pending > RD_TCP_WRITE_HIGH && !c->throttled) {
        c->throttled = true;
        update_reading(c);
    }
    return 0;
}

/* The socket octets gathered in this callback, in one write. */
static int wbatch_flush(rd_tcp_conn_t *c)
{
    if (batch.owner != c || batch.wlen == 0) return 0;
    uv_buf_t b = uv_buf_init((char *)batch.wbuf, (unsigned)batch.wlen);
    batch.wlen = 0;
    return raw_write(c, &b, 1); /* copies what the socket does not take at once */
}

/* Bytes to the socket, gathered while the connection's callback runs. */
static int raw_sendv(rd_tcp_conn_t *c, const uv_buf_t *bufs, unsigned n)
{
    if (c->state == C_CLOSING) return RD_EIO;
    if (batch.owner != c) return raw_write(c, bufs, n);
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) total += bufs[i].len;
    if (total > sizeof(batch.wbuf) - batch.wlen) {
        int r = wbatch_flush(c);
        if (r) return r;
        if (total > sizeof(batch.wbuf)) return raw_write(c, bufs, n);
    }
    for (unsigned i = 0; i < n; i++) {
        memcpy(batch.wbuf + batch.wlen, bufs[i].base, bufs[i].len);
        batch.wlen += bufs[i].len;
    }
    return 0;
}

static int tls_send(void *ctx, const uint8_t *data, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    return raw_sendv(ctx, &b, 1);
}

/* ---- the stream interface: bytes down through TLS when there is TLS ---- */

static int direct_write(rd_tcp_conn_t *c, const uint8_t *data, size_t len)
{
    if (c->state != C_OPEN && c->state != C_FLUSHING) return RD_EIO;
    if (!c->tls) {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
        return raw_sendv(c, &b, 1);
    }
    int r = rd_tls_write(c->tls, data, len);
    if (r) conn_close(c);
    return r;
}

/* The plaintext gathered in this callback, as one TLS record. */
static int batch_flush(rd_tcp_conn_t *c)
{
    if (batch.owner != c || batch.len == 0) return 0;
    size_t n = batch.len;
    batch.len = 0; /* nothing is added while it is encrypted: rd_tls_write calls only tls_send */
    return direct_write(c, batch.buf, n);
}

/* Makes room for n octets of plaintext in the batch; false when they do not fit even in an
 * empty one (or the connection failed): then they go down at once, after the batch. */
static bool batch_room(rd_tcp_conn_t *c, size_t n)
{
    if (batch.owner != c || !c->tls) return false;
    if (n > sizeof(batch.buf) - batch.len && batch_flush(c) != 0) return false;
    return n <= sizeof(batch.buf) - batch.len;
}

static int stream_write(rd_tcp_conn_t *c, const uint8_t *data, size_t len)
{
    if (c->state != C_OPEN && c->state != C_FLUSHING) return RD_EIO;
    if (!batch_room(c, len)) {
        int r = batch_flush(c); /* keep the order */
        return r ? r : direct_write(c, data, len);
    }
    memcpy(batch.buf + batch.len, data, len);
    batch.len += len;
    return 0;
}

/* Starts gathering for c; false when another connection's callback gathers (this one is being
 * answered from inside it) or c already does. */
static bool batch_begin(rd_tcp_conn_t *c)
{
    if (batch.owner) return false;
    batch.owner = c;
    batch.len = batch.wlen = 0;
    return true;
}

static void batch_end(rd_tcp_conn_t *c)
{
    if (batch.owner != c) return;
    if (batch_flush(c) == 0) wbatch_flush(c);
    batch_drop(c);
    batch.owner = NULL;
}

/* A read that sends nothing back (a partial frame, an HTTP/2 WINDOW_UPDATE or SETTINGS ack,
 * the HEADERS of a POST whose DATA follows, queries gone to resolution) is acknowledged at
 * once instead of when the delayed-ACK timer fires (40 ms on Linux): a client without
 * TCP_NODELAY holds its next small write until its data is acknowledged (Nagle, RFC 896;
 * RFC 1122 s4.2.3.2 allows the ACK at any time), so it would stall that long. dnsperf's DoH
 * client is one. When an answer goes out, the ACK rides on it as before. */
static void ack_now(rd_tcp_conn_t *c)
{
    uv_os_fd_t fd;
    int one = 1;
    if (uv_fileno((uv_handle_t *)&c->h, &fd) == 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/* ---- top layer: DNS framing ---- */

/* msg sits in a buffer of cap octets; with room, the frame is built in place so TLS sends one
 * record per answer. */
static void send_frame(rd_tcp_conn_t *c, uint8_t *msg, size_t len, size_t cap, bool pad)
{
    if (pad) len = rd__stream_pad(msg, len, cap >= 2 ? cap - 2 : 0);
    uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    if (batch_room(c, len + 2)) { /* the answers of one read: one record */
        memcpy(batch.buf + batch.len, hdr, 2);
        memcpy(batch.buf + batch.len + 2, msg, len);
        batch.len += len + 2;
        return;
    }
    if (c->tls && batch_flush(c) != 0) return; /* keep the order */
    if (!c->tls) {
        uv_buf_t bufs[2] = {uv_buf_init((char *)hdr, 2), uv_buf_init((char *)msg, (unsigned)len)};
        raw_sendv(c, bufs, 2);
        return;
    }
    if (len + 2 <= cap) {
        memmove(msg + 2, msg, len);
        msg[0] = hdr[0];
        msg[1] = hdr[1];
        stream_write(c, msg, len + 2);
        return;
    }
    if (stream_write(c, hdr, 2) == 0) stream_write(c, msg, len);
}

static void process_frames(rd_tcp_conn_t *c)
{
    rd_worker_t *w = c->w;
    size_t off = 0;
    while (c->state == C_OPEN && !c->paused && !c->throttled && c->len - off >= 2) {
        size_t flen = rd_get16(c->buf + off);
        if (c->len - off - 2 < flen) break;
        const uint8_t *q = c->buf + off + 2;
        off += 2 + flen;
        w->n_tcp++;
        c->queries++;
        progress(c);
        rd_query_env_t env = {true, (uint16_t)w->view->conf->tcp_idle_timeout_ms, c->snoop};
        if (w->view->conf->tcp_idle_timeout_ms > 65535) env.keepalive_ms = 65535;
        /* RFC 8467 s4.1: pad responses to padded queries, on encrypted transports only. */
        bool pad = c->tls && rd__stream_query_padded(q, flen);
        size_t outlen;
        rd_query_info_t info;
        int v;
        if (c->refused)
            v = rd_query_refuse(q, flen, w->out, sizeof(w->out), &outlen);
        else if ((outlen = rd_server_pcache_answer(w, q, flen, w->out, RD_MSG_MAX, true)) > 0)
            v = RD_QUERY_SEND;
        else
            v = rd_query_answer(w->view, &env, q, flen, w->out, RD_MSG_MAX, &outlen,
                                w->res ? &info : NULL);
        if (v == RD_QUERY_SEND) send_frame(c, w->out, outlen, sizeof(w->out), pad);
        if (v == RD_QUERY_RECURSE) {
            /* Answered when resolved, in whatever order that happens (RFC 7766 s6.2.1.1). */
            c->refs++;
            rd_client_t client = {.conn = c, .pad = pad};
            c->cur_q = q;
            c->cur_qlen = flen;
            rd_recurse_start(w, &info, &client);
            c->cur_q = NULL;
            if (c->refs >= w->view->conf->tcp_max_inflight) {
                c->paused = true;
                update_reading(c);
            }
        }
    }
    if (off) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
}

static void http_answer(rd_tcp_conn_t *c, uint32_t sid, uint8_t *p, size_t len, size_t cap,
                        bool pad);

/* Resolution could not even start (the worker's resolution table is full): SERVFAIL with an
 * EDE for the query still in the buffer rather than silence (RFC 7766 s7: a stream client
 * waits for every answer). */
static size_t answer_failed(rd_tcp_conn_t *c)
{
    rd_worker_t *w = c->w;
    rd_query_env_t env = {true, (uint16_t)w->view->conf->tcp_idle_timeout_ms, c->snoop};
    if (w->view->conf->tcp_idle_timeout_ms > 65535) env.keepalive_ms = 65535;
    size_t outlen = 0;
    if (rd_query_answer(w->view, &env, c->cur_q, c->cur_qlen, w->out, RD_MSG_MAX, &outlen, NULL) !=
        RD_QUERY_SEND)
        return 0;
    return outlen;
}

/* An answer from resolution. It may come from anywhere (a timer, an upstream reply, or inside
 * rd_recurse_start itself, which may be inside the HTTP layer's parser): it is sent, and
 * whatever input waited for it is left to the kick. */
void rd_stream_answer_late(const rd_client_t *cl, uint8_t *p, size_t len)
{
    rd_tcp_conn_t *c = cl->conn;
    c->refs--;
    bool live = c->state == C_OPEN || c->state == C_FLUSHING;
    if (live && c->http) {
        bool own = batch_begin(c); /* HEADERS and DATA in one record */
        http_answer(c, cl->sid, p, len, p == c->w->out ? sizeof(c->w->out) : len, cl->pad);
        if (own) batch_end(c);
        progress(c);
        if (c->state == C_OPEN && rd_http_done(c->http)) {
            /* that was the last answer (Connection: close, GOAWAY): close once written */
            c->state = C_FLUSHING;
            update_reading(c);
        }
    } else if (live) {
        if (!len && c->cur_q && (len = answer_failed(c)) > 0) p = c->w->out;
        if (len) send_frame(c, p, len, p == c->w->out ? sizeof(c->w->out) : len, cl->pad);
        progress(c);
    }
    if (c->state == C_CLOSING) {
        if (c->open_handles == 0 && c->refs == 0) conn_free(c);
        return;
    }
    if (flushed(c)) {
        conn_close(c);
        return;
    }
    if (c->state == C_FLUSHING) return;
    if (c->paused && c->refs < c->w->view->conf->tcp_max_inflight) {
        c->paused = false;
        kick(c); /* queries that arrived before the pause, and what is still encrypted */
    }
    finish_if_done(c);
}

/* ---- top layer, DoH: the HTTP module (RFC 8484) ---- */

static void http_answer(rd_tcp_conn_t *c, uint32_t sid, uint8_t *p, size_t len, size_t cap,
                        bool pad)
{
    int r;
    if (!len) /* nothing to send back (resolution table full, internal error) */
        r = rd_http_error(c->http, sid, 503);
    else {
        if (pad) len = rd__stream_pad(p, len, cap);
        r = rd_http_answer(c->http, sid, p, len);
    }
    if (r < 0) conn_close(c);
}

static int http_on_send(void *ctx, const uint8_t *data, size_t len)
{
    return stream_write(ctx, data, len);
}

/* Each DoH response its own TLS record (see rd_http_cbs_t.response_end); the records of one
 * read still leave in one write. */
static void http_response_end(void *ctx)
{
    rd_tcp_conn_t *c = ctx;
    if (batch.owner == c) batch_flush(c);
}

static int http_on_query(void *ctx, uint32_t sid, const uint8_t *q, size_t len)
{
    rd_tcp_conn_t *c = ctx;
    rd_worker_t *w = c->w;
    w->n_tcp++;
    c->queries++;
    progress(c);
    rd_query_env_t env = {true, 0, c->snoop}; /* RFC 8484 s5.3 / RFC 7828: no keepalive (HTTP) */
    bool pad = rd__stream_query_padded(q, len);
    size_t outlen;
    rd_query_info_t info;
    int v;
    if (c->refused)
        v = rd_query_refuse(q, len, w->out, sizeof(w->out), &outlen);
    else if ((outlen = rd_server_pcache_answer(w, q, len, w->out, RD_MSG_MAX, true)) > 0)
        v = RD_QUERY_SEND;
    else
        v = rd_query_answer(w->view, &env, q, len, w->out, RD_MSG_MAX, &outlen,
                            w->res ? &info : NULL);
    if (v == RD_QUERY_SEND) http_answer(c, sid, w->out, outlen, sizeof(w->out), pad);
    if (v == RD_QUERY_DROP) return RD_EINVAL; /* not a query: the HTTP layer answers 400 */
    if (v == RD_QUERY_RECURSE) {
        c->refs++;
        rd_client_t client = {.conn = c, .sid = sid, .pad = pad};
        rd_recurse_start(w, &info, &client);
        if (c->refs >= w->view->conf->tcp_max_inflight) {
            c->paused = true;
            update_reading(c);
        }
    }
    return 0;
}

/* The client is behind reading our answers: the HTTP layer takes no new request and sends no
 * more until the kick feeds it again. */
static bool http_busy(void *ctx)
{
    const rd_tcp_conn_t *c = ctx;
    return c->throttled || c->state == C_CLOSING;
}

static int http_start(rd_tcp_conn_t *c)
{
    const rd_conf_t *conf = c->w->view->conf;
    rd_http_cbs_t cbs = {.ctx = c,
                         .on_query = http_on_query,
                         .on_send = http_on_send,
                         .busy = http_busy,
                         .response_end = http_response_end};
    rd_http_opts_t o = {.path = conf->https_path ? conf->https_path : "/dns-query"};
    /* RFC 8484 s5.2: HTTP/2 is the minimum; HTTP/1.1 only when the client asked for it. */
    bool h2 = rd_tls_alpn(c->tls) != RD_TLS_ALPN_HTTP11;
    return rd_http_new(h2, &o, &cbs, &c->http);
}

/* ---- middle layer: TLS ---- */

static void handshake_done(rd_tcp_conn_t *c)
{
    c->state = C_OPEN;
    uint64_t idle = c->w->view->conf->tcp_idle_timeout_ms;
    uv_timer_start(&c->idle, on_idle, idle, idle);
    rd_log_debug("tls: handshake done (alpn %d, %s)", (int)rd_tls_alpn(c->tls),
                 rd_tls_resumed(c->tls) ? "resumed" : "full");
    if (c->kind == RD_STREAM_DOH && http_start(c) != 0) conn_close(c);
}

/* The plaintext buffer to the HTTP module; what it does not take (busy) stays for the kick.
 * While flushing only what it queued is sent. */
static void http_input(rd_tcp_conn_t *c)
{
    size_t used = 0;
    int r = rd_http_feed_some(c->http, c->buf, c->state == C_OPEN ? c->len : 0, &used);
    if (c->state == C_CLOSING) return;
    if (used) {
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    }
    if (r < 0 || rd_http_done(c->http)) {
        /* GOAWAY or Connection: close was queued: let it and the answers in resolution
         * reach the client first */
        c->state = C_FLUSHING;
        if (flushed(c)) {
            conn_close(c);
            return;
        }
        update_reading(c);
    }
}

/* Plaintext up to the layer above: DNS framing, or the HTTP module. */
static void app_input(rd_tcp_conn_t *c, size_t got)
{
    c->len += got;
    if (c->http)
        http_input(c);
    else
        process_frames(c);
}

/* Decrypts what was received into the plaintext buffer and hands it up, until the TLS layer
 * needs more ciphertext or the framing layer is paused. */
static void tls_pump(rd_tcp_conn_t *c)
{
    while ((c->state == C_HANDSHAKE || c->state == C_OPEN) && !c->paused && !c->throttled) {
        grow_buf(c);
        size_t got = 0;
        int r = rd_tls_read(c->tls, c->buf + c->len, c->cap - c->len, &got);
        if (c->state == C_HANDSHAKE && rd_tls_state(c->tls) == RD_TLS_OPEN) handshake_done(c);
        if (r < 0) {
            conn_close(c);
            return;
        }
        if (got == 0) break;
        app_input(c, got);
    }
    update_reading(c);
}

static void on_kick(uv_idle_t *k)
{
    rd_tcp_conn_t *c = k->data;
    uv_idle_stop(k);
    if (c->state != C_OPEN && c->state != C_FLUSHING) return;
    bool own = batch_begin(c);
    if (c->http)
        http_input(c); /* sends what it held back, takes what it left in the buffer */
    else
        process_frames(c);
    if (c->state == C_OPEN && c->tls)
        tls_pump(c);
    else
        update_reading(c);
    if (own) batch_end(c);
    if (flushed(c)) {
        conn_close(c);
        return;
    }
    finish_if_done(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    rd_tcp_conn_t *c = s->data;
    if (nread == UV_ENOBUFS) { /* TLS input full: wait until it is consumed */
        update_reading(c);
        return;
    }
    if (nread == UV_EOF && c->state == C_OPEN) {
        c->eof = true; /* RFC 7766 s6.2.4: answer what was asked, then close */
        update_reading(c);
        finish_if_done(c);
        return;
    }
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0) return;
    unsigned long writes = c->writes;
    bool own = batch_begin(c);
    if (c->tls) {
        rd_tls_received(c->tls, (size_t)nread);
        tls_pump(c);
    } else {
        c->len += (size_t)nread;
        process_frames(c);
    }
    if (own) batch_end(c);
    if (c->state == C_CLOSING) return;
    if (c->writes == writes) ack_now(c);
    if (flushed(c)) conn_close(c);
}

static void on_connection(uv_stream_t *srv, int status)
{
    rd_worker_t *w = srv->loop->data;
    if (status < 0) return;
    rd_tcp_conn_t *c = calloc(1, sizeof(*c));
    if (!c) return;
    c->w = w;
    c->kind = (int)(uintptr_t)srv->data;
    uv_tcp_init(&w->loop, &c->h);
    uv_timer_init(&w->loop, &c->idle);
    uv_idle_init(&w->loop, &c->kick);
    c->h.data = c;
    c->idle.data = c;
    c->kick.data = c;
    c->open_handles = 3;
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    if (uv_accept(srv, (uv_stream_t *)&c->h)) {
        conn_abort(c);
        return;
    }
    const rd_conf_t *conf = w->view->conf;
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    if (w->nconns > conf->tcp_max_connections ||
        uv_tcp_getpeername(&c->h, (struct sockaddr *)&ss, &sl) != 0) {
        rd_log_debug("tcp: connection limit reached, closing new connection");
        conn_abort(c);
        return;
    }
    int acl = rd_server_acl(w, (struct sockaddr *)&ss);
    if (acl == RD_ACL_DENY) {
        conn_abort(c);
        return;
    }
    c->refused = acl == RD_ACL_REFUSE;
    c->snoop = acl == RD_ACL_ALLOW_SNOOP;
    uv_tcp_nodelay(&c->h, 1);
    if (c->kind == RD_STREAM_TCP) {
        c->state = C_OPEN;
        uint64_t idle = conf->tcp_idle_timeout_ms;
        uv_timer_start(&c->idle, on_idle, idle, idle);
    } else {
        c->state = C_HANDSHAKE;
        if (rd_tls_new(c->kind == RD_STREAM_DOH ? RD_TLS_DOH : RD_TLS_DOT, tls_send, c, &c->tls)) {
            conn_abort(c);
            return;
        }
        /* RFC 7858 s3.4: a fixed deadline, not extended by trickling bytes. */
        uv_timer_start(&c->idle, on_idle, RD_TLS_HANDSHAKE_MS, 0);
    }
    update_reading(c);
}

int rd_stream_listen(rd_worker_t *w, const rd_addr_t *a, uv_tcp_t *h, enum rd_stream_kind k)
{
    struct sockaddr_storage ss;
    int fam = rd_addr_to_sockaddr(a, &ss);
    int r = uv_tcp_init_ex(&w->loop, h, (unsigned)fam);
    if (r) return r;
    w->loop.data = w;
    h->data = (void *)(uintptr_t)k;
    uv_os_fd_t fd;
    int one = 1;
    if ((r = uv_fileno((uv_handle_t *)h, &fd)) == 0 &&
        (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
         setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0))
        r = -errno;
    if (!r) r = uv_tcp_bind(h, (struct sockaddr *)&ss, fam == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
    if (!r) r = uv_listen((uv_stream_t *)h, 1024, on_connection);
    if (r) uv_close((uv_handle_t *)h, NULL);
    return r;
}

int rd_tcp_listen(rd_worker_t *w, const rd_addr_t *a, uv_tcp_t *h)
{
    return rd_stream_listen(w, a, h, RD_STREAM_TCP);
}

/* Shutdown of a DoH connection: GOAWAY (RFC 9113 s6.8) with the last stream taken, so the
 * client knows no later request was processed and may retry it elsewhere (HTTP/1.1: nothing
 * more is read). The connection closes once that and the answers still owed are written. */
static void http_goaway(rd_tcp_conn_t *c)
{
    bool own = batch_begin(c);
    int r = rd_http_shutdown(c->http);
    if (own) batch_end(c);
    if (c->state == C_CLOSING) return;
    if (r < 0) {
        conn_close(c);
        return;
    }
    c->state = C_FLUSHING;
    update_reading(c);
    if (flushed(c)) conn_close(c);
}

void rd_tcp_close_all(rd_worker_t *w, bool only_idle)
{
    for (rd_tcp_conn_t *c = w->conns, *n; c; c = n) {
        n = c->next;
        if (c->lingering) /* its work is over: nothing to wait for at a stop */
            linger_end(c);
        else if (only_idle && c->http && c->state == C_OPEN)
            http_goaway(c);
        else if (!only_idle || c->write_pending == 0)
            conn_close(c);
    }
    if (!only_idle && w->nconns == 0 && w->state == RD_W_STOPPING) {
        uv_timer_stop(&w->drain_timer);
        if (!uv_is_closing((uv_handle_t *)&w->drain_timer))
            uv_close((uv_handle_t *)&w->drain_timer, NULL);
    }
}
