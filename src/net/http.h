/* DNS over HTTPS (RFC 8484), the HTTP layer: HTTP/2 (nghttp2) or HTTP/1.1 (our own small
 * parser) over bytes that the TLS layer below has already decrypted. Transport-agnostic: no
 * sockets, no libuv, no TLS in here. The layer above feeds received octets with
 * rd_http_feed, gets octets to encrypt and send through on_send, gets each DNS query through
 * on_query and answers it later (in any order) with rd_http_answer or rd_http_error.
 *
 * Calls must not be nested into rd_http_free: do not free the object from inside a callback.
 * rd_http_answer may be called from inside on_query (an answer from the cache). */
#ifndef RD_NET_HTTP_H
#define RD_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolverd/base.h"

typedef struct rd_http rd_http_t;

typedef struct {
    void *ctx;
    /* A complete, valid DoH request carrying a DNS query (wire octets, at least a 12-octet
     * header with QDCOUNT 1). The upper layer answers later with rd_http_answer(h, sid, ...)
     * (or rd_http_error). Return 0, or < 0 to reject: RD_EINVAL when the message is not a
     * query (a response, QR=1: answered 400), anything else answered 503. q is only valid
     * during the call. */
    int (*on_query)(void *ctx, uint32_t sid, const uint8_t *q, size_t len);
    /* Octets for the peer. The layer above must accept them all (it bounds its own queue);
     * < 0 makes the connection fail (rd_http_feed and rd_http_answer return it). */
    int (*on_send)(void *ctx, const uint8_t *data, size_t len);
    /* Optional. True while the layer below cannot take more octets (the client does not
     * read what was sent): no new request is taken and no more is sent (HTTP/2 frames stay
     * queued in nghttp2) until the next rd_http_feed_some, which the layer above calls once
     * it is no longer busy. Without it everything is taken and sent at once. */
    bool (*busy)(void *ctx);
    /* Optional. HTTP/2: the octets of one complete response (its last frame, END_STREAM)
     * were handed to on_send. A layer below that gathers what it sends may end a TLS record
     * there: dnsperf 2.10's DoH client takes one DNS answer per TLS record it reads and loses
     * the others when answers share a record. */
    void (*response_end)(void *ctx);
} rd_http_cbs_t;

typedef struct {
    const char *path;      /* https-path, default "/dns-query"; must start with '/' */
    unsigned max_streams;  /* concurrent streams per connection (HTTP/2: SETTINGS_MAX_
                              CONCURRENT_STREAMS), default RD_HTTP_STREAMS_DEFAULT */
    unsigned pipeline_max; /* HTTP/1.1 requests queued per connection, default
                              RD_HTTP1_PIPELINE_DEFAULT */
    /* other limits: RD_HTTP_* in src/base/limits.h */
} rd_http_opts_t;

/* h2: ALPN said "h2" (HTTP/2 via nghttp2); else HTTP/1.1. o may be NULL (defaults).
 * RD_EINVAL for a path that is not "/..." or too long, RD_ENOMEM. Nothing is sent before the
 * first rd_http_feed (HTTP/2: our SETTINGS go out then, with the first reply bytes). */
int rd_http_new(bool h2, const rd_http_opts_t *o, const rd_http_cbs_t *cb, rd_http_t **out);
/* Decrypted input. < 0: the connection must be closed (after sending what on_send got). */
int rd_http_feed(rd_http_t *h, const uint8_t *data, size_t len);
/* The same, for a caller with a busy callback: *used tells how many octets were taken; the
 * rest (taken while busy turned true) is for a later call. A call with len 0 sends what is
 * queued and parses what is buffered. */
int rd_http_feed_some(rd_http_t *h, const uint8_t *data, size_t len, size_t *used);
/* The DNS answer for request sid: 200, application/dns-message, cache-control: max-age=
 * the smallest TTL of the answer (RFC 8484 s5.1). Unknown or closed sid: ignored (returns 0).
 * A response that is not a DNS message of 12..65535 octets is answered 500 instead. */
int rd_http_answer(rd_http_t *h, uint32_t sid, const uint8_t *resp, size_t len);
/* An HTTP error status (400..599) for request sid; unknown or closed sid: ignored.
 * Responses held for a client that does not take them (HTTP/2 flow control, HTTP/1.1 order)
 * count against RD_HTTP_CONN_OUT_MAX per connection: past it an answer becomes a 503. */
int rd_http_error(rd_http_t *h, uint32_t sid, unsigned status);
/* GOAWAY sent / Connection: close: close the connection once on_send's octets are flushed. */
bool rd_http_done(const rd_http_t *h);
/* Graceful close (shutdown, reload): no new requests are taken (HTTP/2: GOAWAY with the last
 * stream id, RFC 9113 s6.8; HTTP/1.1: nothing more is read), those already taken are still
 * answered, then rd_http_done turns true. */
int rd_http_shutdown(rd_http_t *h);
/* Queries still in flight are detached: their later answers must not come here any more
 * (the object is gone); the caller forgets its sids with it. */
void rd_http_free(rd_http_t *h);

/* Queries handed to on_query and not yet answered (in flight), for the upper layer's
 * accounting and tests. */
unsigned rd_http_inflight(const rd_http_t *h);

/* The cache-control max-age for a DNS response: the smallest TTL of its records (OPT
 * excluded; RFC 2181 s8: a TTL over 2^31-1 counts as 0); 0 when it has none or does not
 * parse. Exposed for tests. */
uint32_t rd_http_min_ttl(const uint8_t *resp, size_t len);

#endif
