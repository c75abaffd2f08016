/* Encrypted forward upstreams (issue 8): DNS over TLS (RFC 7858) and DNS over HTTPS (RFC
 * 8484) clients, per worker thread, as layers on one upstream connection object (DESIGN.md
 * "Transports as layers": TCP, then TLS, then DNS framing or HTTP/2).
 *
 * Per upstream a bounded pool of connections (RD_UP_CONNS_PER_UPSTREAM), each carrying many
 * queries at once (DoT: pipelined, matched by ID and question, out of order; DoH: one HTTP/2
 * stream each), kept open while idle for RD_UP_IDLE_MS and reopened with TLS session
 * resumption. Certificates are verified (CA store or tls-ca-file, authentication name, pins)
 * and any failure is hard: the query fails, never falls back to clear text.
 *
 * Servers close connections they find idle at any time (RFC 7766 s6.2.3, RFC 7858 s3.4) and
 * HTTP/2 servers send GOAWAY or refuse streams (RFC 9113 s6.8, s8.7): the queries such a close
 * leaves unanswered (and, for DoH, unprocessed) are sent again once, at once, on another
 * connection of the same upstream, within the caller's own timeout; no new query goes on a
 * connection known to be closing. */
#ifndef RD_NET_UPSTREAM_H
#define RD_NET_UPSTREAM_H

#include "server/server.h"

typedef struct rd_upq rd_upq_t;

/* How a query ended (the callback's err). */
enum rd_up_err {
    RD_UP_OK = 0,
    RD_UP_ERR_AUTH, /* TLS authentication failed: certificate, name, pin or ALPN */
    RD_UP_ERR_CONN, /* connection refused, closed or timed out, or the queue is full */
    RD_UP_ERR_HTTP, /* DoH: the server answered with an HTTP error or a non-DNS body */
};

/* A reply (ID restored to the query's), or wire NULL and err. Called from the loop, never from
 * inside rd_upstream_query; the query is gone when it returns. */
typedef void (*rd_upq_cb)(void *ctx, const uint8_t *wire, size_t len, int err);

/* Sends one query (wire: a complete DNS message) to a tls:// or https:// upstream at server
 * (the engine's rd_res_action_t.server: for an https:// upstream without @BOOTSTRAP-IP, the
 * address its host resolved to; an upstream with an address always goes to that one). Pools
 * are per upstream and address: when the host's address changes, new connections go to the
 * new one and the old ones idle out. SNI, certificate name and :authority stay the URL's
 * host. Returns 0 with *out (cancel it with rd_upstream_cancel until the callback ran), or a
 * negative RD_E code and *err (enum rd_up_err) when the query failed at once: the upstream
 * is held down after a recent failure (RD_UP_FAIL_HOLD_MS) or every connection is full.
 * probe: the engine's background probe of a down upstream, which is the attempt to reconnect:
 * it ignores that hold (client tries renew it while every upstream is down, and a probe
 * failing without a packet would only push the next one back). */
int rd_upstream_query(rd_worker_t *w, const rd_conf_upstream_t *u, const rd_addr_t *server,
                      const uint8_t *wire, size_t len, bool probe, rd_upq_cb cb, void *ctx,
                      rd_upq_t **out, int *err);
/* The caller no longer wants the answer (its timeout fired or its request ended). */
void rd_upstream_cancel(rd_upq_t *q);
/* Worker stop: closes every upstream connection; memory goes with the close callbacks. */
void rd_upstream_shutdown(rd_worker_t *w);

/* ---- internal to src/net/upstream*.c ---- */
typedef struct rd__up_conn rd__up_conn_t;
/* DoH layer (upstream_doh.c) over an open TLS connection. */
int rd__doh_open(rd__up_conn_t *c);
int rd__doh_submit(rd__up_conn_t *c, rd_upq_t *q);
/* 0; 1 when the session is over (GOAWAY, nothing left); RD_EIO when writing failed (the
 * connection is gone); RD_EINVAL (or RD_ENOMEM) when the peer broke HTTP/2. */
int rd__doh_input(rd__up_conn_t *c, const uint8_t *p, size_t n);
int rd__doh_flush(rd__up_conn_t *c);
void rd__doh_cancel(rd__up_conn_t *c, rd_upq_t *q);
void rd__doh_goaway(rd__up_conn_t *c);
/* q leaves c's session: no callback of it refers to q any more (q moves or ends). */
void rd__doh_detach(rd__up_conn_t *c, rd_upq_t *q);
void rd__doh_free(rd__up_conn_t *c);

#endif
