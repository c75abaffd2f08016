/* Internals shared by src/net/upstream.c (pools, connections, DoT) and upstream_doh.c. */
#ifndef RD_NET_UPSTREAM_INT_H
#define RD_NET_UPSTREAM_INT_H

#include "net/tls.h"
#include "net/upstream.h"

typedef struct up_pool up_pool_t;

/* One upstream connection (house rule 8). */
enum up_conn_state {
    UC_CONNECTING, /* TCP connect in progress */
    UC_HANDSHAKE,  /* TLS handshake (and, for DoH, ALPN h2) in progress */
    UC_OPEN,       /* queries flow */
    UC_DRAINING,   /* DoH: GOAWAY received (RFC 9113 s6.8): the streams it let through may
                    * still be answered, no new query goes on it */
    UC_CLOSING,    /* failed, idle-closed or shutting down: handles closing */
};

/* What the connection's one timer is counting down (house rule 8). */
enum up_timer_mode {
    UT_HANDSHAKE, /* connect + TLS handshake deadline (RD_UP_HANDSHAKE_MS) */
    UT_IDLE,      /* no queries: close after RD_UP_IDLE_MS */
    UT_STALL,     /* queries outstanding: something must come within RD_UP_STALL_MS */
    UT_DOOM,      /* a write failed: fail from the loop at once */
};

struct rd__up_conn {
    uv_tcp_t h;
    uv_timer_t timer; /* handshake deadline, then idle timeout */
    uv_connect_t creq;
    up_pool_t *pool;
    rd__up_conn_t *prev, *next; /* in the pool */
    int state;                  /* enum up_conn_state */
    int timer_mode;             /* enum up_timer_mode */
    int open_handles;
    bool reading;
    bool answered; /* a first response came: the TLS session was saved */
    bool in_h2;    /* inside nghttp2 mem_recv or mem_send: no nested mem_send */
    bool doomed;   /* a write failed: fails from the loop (timer), not re-entrantly */
    rd_tls_t *tls;
    void *h2;             /* nghttp2_session * (DoH) */
    int32_t goaway_sid;   /* UC_DRAINING: the GOAWAY's last-stream-id (streams up to it were
                           * or will be processed by the server) */
    rd_upq_t *qs;         /* queries on this connection (DoH: also cancelled, until closed) */
    unsigned nq;          /* entries in qs */
    size_t write_pending; /* octets handed to uv_write and not yet written */
    size_t rx_len;        /* DoT: plaintext framing buffer */
    uint8_t *rx;
};

struct rd_upq {
    rd_upq_t *prev, *next; /* in c->qs */
    rd__up_conn_t *c;
    rd_upq_cb cb; /* NULL: cancelled (a DoH stream still refers to it until it closes) */
    void *ctx;
    uint16_t orig_id; /* the engine's ID, restored in the reply */
    uint16_t id;      /* on the wire: unique per DoT connection; 0 for DoH (RFC 8484 s4.1) */
    bool sent;
    bool resent;   /* already sent again once: its connection closed under it or refused it */
    int32_t sid;   /* DoH stream, -1 before submission */
    int status;    /* DoH :status */
    bool ctype_ok; /* DoH content-type application/dns-message */
    size_t off;    /* DoH: request body octets handed to nghttp2 */
    uint8_t *resp; /* DoH: response body */
    size_t resp_len;
    uint8_t qname[RD_NAME_MAX]; /* the question, to check the reply's against */
    uint16_t qtype, qclass;
    size_t len; /* of msg (DoT: with the 2-octet length prefix) */
    uint8_t msg[];
};

/* upstream.c, for upstream_doh.c */
const rd_conf_upstream_t *rd__up_pool_conf(const up_pool_t *p);
const char *rd__up_authority(const up_pool_t *p);
/* A reply for q (wire owned by the caller, may be rewritten): checked, then q ends. */
void rd__up_reply(rd__up_conn_t *c, rd_upq_t *q, uint8_t *wire, size_t len);
/* q ends with an error (or is freed when cancelled). */
void rd__up_end(rd__up_conn_t *c, rd_upq_t *q, int err);
/* The whole connection fails: every query ends with err; why goes to the log. */
void rd__up_conn_fail(rd__up_conn_t *c, int err, const char *why);
/* The upstream closed the connection under its queries (EOF, reset, close_notify, the end of
 * an HTTP/2 session after GOAWAY): those it did not answer and did not process are resent
 * once on another connection of the same upstream (RFC 7766 s6.2.1, RFC 7858 s3.4, RFC 9113
 * s6.8), the rest end with RD_UP_ERR_CONN; why goes to the log if any query failed. */
void rd__up_conn_lost(rd__up_conn_t *c, const char *why);
/* DoH: the server refused q's stream (REFUSED_STREAM, or a stream above a GOAWAY's
 * last-stream-id: RFC 9113 s8.7, not processed): true if q moved to another connection of the
 * same upstream (once per query), false if it stays on c (then it must end). */
bool rd__up_resend(rd__up_conn_t *c, rd_upq_t *q);
/* DoH: the server sent GOAWAY with last_sid: c takes no new query (UC_DRAINING). */
void rd__up_goaway(rd__up_conn_t *c, int32_t last_sid);

#endif
