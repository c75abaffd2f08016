/* The TLS layer of a stream connection (DESIGN.md "Transports as layers"): wolfSSL server
 * side, non-blocking, driven by whoever moves the bytes (src/net/tcp.c on libuv). Ciphertext
 * comes in through rd_tls_inbuf/rd_tls_received, plaintext goes up through rd_tls_read,
 * ciphertext goes down through the send callback given at creation. No sockets in here.
 *
 * The server context (certificate, key, ticket key, versions, suites) is built on the main
 * thread before workers start and replaced as a whole on reload: connections take a
 * reference to the context current when they start and keep it to the end. */
#ifndef RD_NET_TLS_H
#define RD_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolverd/conf.h"

typedef struct rd_tls rd_tls_t;
typedef struct rd_tls_ctx rd_tls_ctx_t;

/* One connection's TLS state (house rule 8). */
enum rd_tls_state {
    RD_TLS_HANDSHAKE, /* ClientHello expected or handshake flights in progress */
    RD_TLS_OPEN,      /* application data flows */
    RD_TLS_CLOSING,   /* close_notify sent or received: nothing more is read */
    RD_TLS_FAILED     /* fatal alert or protocol error: the connection must go */
};

/* Which service a connection is for: decides the ALPN protocols offered. */
enum rd_tls_service { RD_TLS_DOT, RD_TLS_DOH };

/* What the client and we agreed on with ALPN (RFC 7301). */
enum rd_tls_alpn { RD_TLS_ALPN_NONE, RD_TLS_ALPN_DOT, RD_TLS_ALPN_H2, RD_TLS_ALPN_HTTP11 };

/* Ciphertext for the peer. Returns 0, or a negative RD_E* when the transport is gone. */
typedef int (*rd_tls_send_cb)(void *ctx, const uint8_t *data, size_t len);

/* Main thread, before workers start: ticket key, certificate (loaded, or generated in the
 * state directory when none is configured), server context. Logs the SPKI pin. */
int rd_tls_global_init(const rd_conf_t *conf);
/* Main thread, on SIGHUP: a new context from the (possibly renewed) certificate for new
 * connections; on failure the old one stays. */
int rd_tls_global_reload(const rd_conf_t *conf);
/* After workers are joined. */
void rd_tls_global_free(void);
/* True once rd_tls_global_init succeeded. */
bool rd_tls_enabled(void);
/* A worker thread that ran TLS connections ends: wolfCrypt's per-thread ECC point cache
 * (FP_ECC in Debian's build) is freed only by the thread that filled it. */
void rd_tls_thread_done(void);

int rd_tls_new(enum rd_tls_service svc, rd_tls_send_cb send, void *send_ctx, rd_tls_t **out);
void rd_tls_free(rd_tls_t *t);

/* Room for ciphertext from the socket; *space is 0 when the input buffer is full (the
 * reader must stop until rd_tls_read consumed some). */
uint8_t *rd_tls_inbuf(rd_tls_t *t, size_t *space);
void rd_tls_received(rd_tls_t *t, size_t n);

/* Advances the handshake and decrypts into out[0..cap). Returns 0 with *got octets of
 * plaintext (0: more ciphertext needed), or a negative RD_E* when the connection must close.
 * Call again while *got > 0. */
int rd_tls_read(rd_tls_t *t, uint8_t *out, size_t cap, size_t *got);
/* Encrypts and sends. RD_EIO when the connection must close. */
int rd_tls_write(rd_tls_t *t, const uint8_t *data, size_t len);
/* Sends close_notify (best effort). */
void rd_tls_shutdown(rd_tls_t *t);

enum rd_tls_state rd_tls_state(const rd_tls_t *t);
enum rd_tls_alpn rd_tls_alpn(rd_tls_t *t);
bool rd_tls_resumed(rd_tls_t *t);
/* Ciphertext received and not yet consumed. */
size_t rd_tls_buffered(const rd_tls_t *t);

/* ---- client side: forward upstreams over DoT and DoH (src/net/upstream*.c) ---- */
/* wolfSSL for the clients, whether or not we serve TLS: main thread, before workers start,
 * and after they are joined (wolfSSL counts Init/Cleanup pairs). */
int rd_tls_client_global_init(void);
void rd_tls_client_global_free(void);
/* A client context: trust anchors from ca_file (PEM, tls-ca-file) or, when NULL, the system
 * store (/etc/ssl/certs); TLS 1.2 or 1.3, AEAD suites. Built and used by one worker thread. */
int rd_tls_client_ctx_new(const char *ca_file, rd_tls_ctx_t **out);
/* Drops the creator's reference (connections keep theirs). */
void rd_tls_ctx_release(rd_tls_ctx_t *c);
typedef struct {
    const char *auth_name; /* SNI and the name the certificate must match; NULL: pins only */
    char *const *pins;     /* tls-pin: base64 SPKI SHA-256; one must match when any is given */
    size_t npins;
    bool h2;       /* DoH: offer ALPN h2 and require it; DoT: offer "dot" */
    void *session; /* rd_tls_session_get of an earlier connection: resumption, or NULL */
} rd_tls_client_opts_t;
/* A client connection (call rd_tls_read once the socket is connected: the client speaks
 * first). A handshake that fails verification, a pin mismatch or a missing h2 is fatal
 * (RD_TLS_FAILED); rd_tls_error says why. */
int rd_tls_client_new(rd_tls_ctx_t *c, const rd_tls_client_opts_t *o, rd_tls_send_cb send,
                      void *send_ctx, rd_tls_t **out);
/* auth: the failure is about authentication (certificate, name, pin, ALPN), not the network */
const char *rd_tls_error(const rd_tls_t *t, bool *auth);
/* The session to resume with later (owned by the caller), NULL if none; in TLS 1.3 the ticket
 * comes after the handshake, so take it after the first response. */
void *rd_tls_session_get(rd_tls_t *t);
void rd_tls_session_free(void *s);

/* ---- certificates (src/net/tls_cert.c), internal to src/net ---- */
/* The certificate and key files to serve: the configured ones, or a self-signed ECDSA P-256
 * pair in the state directory, generated on first use. Paths are malloc'd. */
int rd__tls_cert_files(const rd_conf_t *conf, char **cert, char **key);
/* Logs the certificate's SPKI SHA-256 pin (RFC 7858 s4.2, base64 as kdig +tls-pin takes it). */
void rd__tls_log_pin(const char *cert);
/* The pin of a PEM certificate file into out (NUL-terminated, at least 45 octets). */
int rd__tls_pin(const char *cert, char *out, size_t cap);

#endif
