/* wolfSSL server layer driven by an event loop through custom I/O callbacks (never
 * wolfSSL_set_fd): the receive callback serves ciphertext the transport read into this
 * layer's bounded input buffer and says WANT_READ when it is empty; the send callback hands
 * ciphertext straight to the transport, which queues what the socket does not take. */
#include <wolfssl/options.h>

#include <wolfssl/error-ssl.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <uv.h>

#include "base/limits.h"
#include "net/tls.h"
#include "server/server.h"
#include "wire/encoding.h"

struct rd_tls_ctx {
    WOLFSSL_CTX *ctx;
    atomic_int refs;
};

struct rd_tls {
    WOLFSSL *ssl;
    rd_tls_ctx_t *ctx; /* the context this connection started with, kept across reloads */
    enum rd_tls_state state;
    rd_tls_send_cb send;
    void *send_ctx;
    /* client side (forward upstreams): checks after the handshake, and why it failed */
    bool client;
    bool want_h2; /* DoH: the server must select h2 (RFC 8484 s5.2) */
    size_t npins; /* SPKI SHA-256 pins: one must match (RFC 7858 s4.2) */
    uint8_t (*pins)[32];
    char why[160];
    bool auth_failed; /* why is about authentication (certificate, name, pin, ALPN) */
    size_t in_len;
    uint8_t in[RD_TLS_IN_BUF];
};

/* Process-wide, written on the main thread only; workers read g_cur under g_mtx. */
static uv_mutex_t g_mtx;
static rd_tls_ctx_t *g_cur;
static bool g_init;
/* wolfSSL initialised for upstream clients (set before workers start, cleared after they are
 * joined: workers only read it) */
static bool g_client_init;
/* RFC 8446 s4.6.1 tickets are sealed with keys derived from one secret made at start and
 * shared by every worker (and every certificate generation), so a client resumes whichever
 * worker it reaches. The key rotates every RD_TLS_TICKET_ROTATE_S without locks: the key of
 * period n is HKDF(secret, n), the ticket name carries n, and only periods n and n-1 are
 * accepted, so a stolen key opens at most two periods of tickets. */
static uint8_t g_tsecret[32];
static uint8_t g_tname[WOLFSSL_TICKET_NAME_SZ - 8]; /* + 8 octets of period number */
static atomic_uint g_tgen; /* a new secret (rd_tls_global_init again): cached keys are stale */

/* AEAD suites only (RFC 7525 s4.2, RFC 8996 for the versions); TLS 1.3 suites first. The
 * server's order decides. wolfSSL built with AES-NI (scripts/wolfssl-asm.sh) does AES-GCM
 * fastest; without it (Debian's build) AES and GHASH run in portable C, and ChaCha20-Poly1305
 * (RFC 8439) costs far less: callgrind, DoT from cache, one reused connection: AES-128-GCM
 * is 55% of the server's instructions per query. */
#ifdef WOLFSSL_AESNI
static const char suites[] = "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:"
                             "TLS13-CHACHA20-POLY1305-SHA256:"
                             "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                             "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
                             "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
#else
static const char suites[] = "TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES128-GCM-SHA256:"
                             "TLS13-AES256-GCM-SHA384:"
                             "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:"
                             "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
                             "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384";
#endif

static int fill_random(uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r <= 0) return RD_EIO;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* The ticket key of a period, HKDF-SHA256(secret, period) (RFC 5869). Each worker thread keeps
 * the last two it derived: every full handshake seals a ticket and every resumption opens
 * one, and the derivation is ~1% of a full handshake's instructions (callgrind). Nothing here
 * is more secret than g_tsecret, which stays in memory anyway. */
struct period_key {
    bool ok;
    unsigned gen; /* g_tgen it was derived under */
    uint64_t period;
    uint8_t key[CHACHA20_POLY1305_AEAD_KEYSIZE];
};

static int period_key(uint64_t period, uint8_t key[CHACHA20_POLY1305_AEAD_KEYSIZE])
{
    static _Thread_local struct period_key cache[2]; /* periods n and n - 1 */
    struct period_key *e = &cache[period & 1];
    unsigned gen = atomic_load(&g_tgen);
    if (!e->ok || e->period != period || e->gen != gen) {
        uint8_t info[8];
        for (int i = 0; i < 8; i++) info[i] = (uint8_t)(period >> (56 - 8 * i));
        e->ok = false;
        if (wc_HKDF(WC_SHA256, g_tsecret, sizeof(g_tsecret), NULL, 0, info, sizeof(info), e->key,
                    sizeof(e->key)) != 0)
            return RD_EIO;
        e->period = period;
        e->gen = gen;
        e->ok = true;
    }
    memcpy(key, e->key, CHACHA20_POLY1305_AEAD_KEYSIZE);
    return 0;
}

/* Ticket = ChaCha20-Poly1305 under the shared key, AAD = name | iv | length; the 12-octet
 * nonce is the first part of the random 16-octet IV field. */
static int ticket_cb(WOLFSSL *ssl, unsigned char name[WOLFSSL_TICKET_NAME_SZ],
                     unsigned char iv[WOLFSSL_TICKET_IV_SZ],
                     unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int enc, unsigned char *ticket,
                     int in_len, int *out_len, void *uctx)
{
    (void)uctx;
    uint8_t aad[WOLFSSL_TICKET_NAME_SZ + WOLFSSL_TICKET_IV_SZ + 2];
    uint8_t key[CHACHA20_POLY1305_AEAD_KEYSIZE];
    if (in_len < 0 || in_len > 65535) return WOLFSSL_TICKET_RET_REJECT;
    uint64_t now = (uint64_t)time(NULL) / RD_TLS_TICKET_ROTATE_S, period = now;
    if (enc) {
        memcpy(name, g_tname, sizeof(g_tname));
        for (int i = 0; i < 8; i++) name[sizeof(g_tname) + i] = (uint8_t)(now >> (56 - 8 * i));
        /* Poly1305 fills 16 octets of the 32-octet MAC field: no stray memory in tickets */
        memset(mac, 0, WOLFSSL_TICKET_MAC_SZ);
        /* the connection's own DRBG: no system call per ticket */
        WC_RNG *rng = wolfSSL_GetRNG(ssl);
        if (rng ? wc_RNG_GenerateBlock(rng, iv, WOLFSSL_TICKET_IV_SZ) != 0
                : fill_random(iv, WOLFSSL_TICKET_IV_SZ) != 0)
            return WOLFSSL_TICKET_RET_FATAL;
    } else {
        if (memcmp(name, g_tname, sizeof(g_tname)) != 0)
            return WOLFSSL_TICKET_RET_REJECT; /* another process's ticket: full handshake */
        period = 0;
        for (int i = 0; i < 8; i++) period = period << 8 | name[sizeof(g_tname) + i];
        if (period != now && period + 1 != now) return WOLFSSL_TICKET_RET_REJECT; /* expired */
    }
    if (period_key(period, key) != 0) return WOLFSSL_TICKET_RET_FATAL;
    memcpy(aad, name, WOLFSSL_TICKET_NAME_SZ);
    memcpy(aad + WOLFSSL_TICKET_NAME_SZ, iv, WOLFSSL_TICKET_IV_SZ);
    aad[sizeof(aad) - 2] = (uint8_t)(in_len >> 8);
    aad[sizeof(aad) - 1] = (uint8_t)in_len;
    int r;
    if (enc)
        r = wc_ChaCha20Poly1305_Encrypt(key, iv, aad, sizeof(aad), ticket, (word32)in_len, ticket,
                                        mac);
    else
        r = wc_ChaCha20Poly1305_Decrypt(key, iv, aad, sizeof(aad), ticket, (word32)in_len, mac,
                                        ticket);
    memset(key, 0, sizeof(key));
    if (r != 0) return WOLFSSL_TICKET_RET_REJECT;
    *out_len = in_len;
    return WOLFSSL_TICKET_RET_OK;
}

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
    (void)ssl;
    rd_tls_t *t = arg;
    if (t->in_len == 0) return WOLFSSL_CBIO_ERR_WANT_READ;
    size_t n = sz < 0 ? 0 : (size_t)sz;
    if (n > t->in_len) n = t->in_len;
    memcpy(buf, t->in, n);
    memmove(t->in, t->in + n, t->in_len - n);
    t->in_len -= n;
    return (int)n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
    (void)ssl;
    rd_tls_t *t = arg;
    if (sz <= 0) return 0;
    if (t->send(t->send_ctx, (const uint8_t *)buf, (size_t)sz) < 0)
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    return sz;
}

static void ctx_unref(rd_tls_ctx_t *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
        wolfSSL_CTX_free(c->ctx);
        free(c);
    }
}

/* A complete server context: nothing in it changes once workers may use it. */
static int ctx_build(const char *cert, const char *key, rd_tls_ctx_t **out)
{
    rd_tls_ctx_t *c = calloc(1, sizeof(*c));
    if (!c) return RD_ENOMEM;
    atomic_init(&c->refs, 1);
    c->ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
    if (!c->ctx) goto fail;
    if (wolfSSL_CTX_SetMinVersion(c->ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) goto fail;
    if (wolfSSL_CTX_set_cipher_list(c->ctx, suites) != WOLFSSL_SUCCESS) goto fail;
    if (wolfSSL_CTX_use_certificate_chain_file(c->ctx, cert) != WOLFSSL_SUCCESS) {
        rd_log_error("tls: cannot load certificate chain %s", cert);
        goto fail;
    }
    if (wolfSSL_CTX_use_PrivateKey_file(c->ctx, key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_check_private_key(c->ctx) != WOLFSSL_SUCCESS) {
        rd_log_error("tls: cannot load private key %s (or it does not match the certificate)", key);
        goto fail;
    }
    wolfSSL_CTX_SetIORecv(c->ctx, io_recv);
    wolfSSL_CTX_SetIOSend(c->ctx, io_send);
    /* Stateless resumption only: no per-process session cache to share between workers. */
    wolfSSL_CTX_set_session_cache_mode(c->ctx, WOLFSSL_SESS_CACHE_OFF);
    if (wolfSSL_CTX_set_TicketEncCb(c->ctx, ticket_cb) != WOLFSSL_SUCCESS) goto fail;
    /* a ticket lives one to two rotation periods: promise the shorter */
    wolfSSL_CTX_set_TicketHint(c->ctx, RD_TLS_TICKET_ROTATE_S);
    *out = c;
    return 0;
fail:
    ctx_unref(c);
    return RD_EINVAL;
}

static int load_current(const rd_conf_t *conf, rd_tls_ctx_t **out)
{
    char *cert = NULL, *key = NULL;
    int r = rd__tls_cert_files(conf, &cert, &key);
    if (!r) r = ctx_build(cert, key, out);
    if (!r) rd__tls_log_pin(cert);
    free(cert);
    free(key);
    return r;
}

int rd_tls_global_init(const rd_conf_t *conf)
{
    if (g_init) return 0;
    if (wolfSSL_Init() != WOLFSSL_SUCCESS) return RD_EIO;
    if (uv_mutex_init(&g_mtx)) return RD_ENOMEM;
    int r = fill_random(g_tsecret, sizeof(g_tsecret));
    if (!r) r = fill_random(g_tname, sizeof(g_tname));
    atomic_fetch_add(&g_tgen, 1);
    if (!r) r = load_current(conf, &g_cur);
    if (r) {
        uv_mutex_destroy(&g_mtx);
        wolfSSL_Cleanup();
        return r;
    }
    g_init = true;
    return 0;
}

int rd_tls_global_reload(const rd_conf_t *conf)
{
    if (!g_init) return 0;
    rd_tls_ctx_t *n = NULL;
    int r = load_current(conf, &n);
    if (r) {
        rd_log_error("tls: certificate reload failed: new connections keep the old one");
        return r;
    }
    uv_mutex_lock(&g_mtx);
    rd_tls_ctx_t *old = g_cur;
    g_cur = n;
    uv_mutex_unlock(&g_mtx);
    ctx_unref(old); /* freed when its last connection ends */
    rd_log_info("tls: certificate reloaded");
    return 0;
}

void rd_tls_global_free(void)
{
    if (!g_init) return;
    ctx_unref(g_cur);
    g_cur = NULL;
    uv_mutex_destroy(&g_mtx);
    wolfSSL_Cleanup();
    g_init = false;
}

bool rd_tls_enabled(void)
{
    return g_init;
}

void rd_tls_thread_done(void)
{
#ifdef FP_ECC
    if (g_init || g_client_init) wc_ecc_fp_free();
#endif
}

/* A connection's TLS object before its side (server or client) is set up; the input buffer
 * past `in` is left as it is (it is filled before it is read). */
static rd_tls_t *tls_alloc(rd_tls_send_cb send, void *send_ctx)
{
    rd_tls_t *t = malloc(sizeof(*t));
    if (!t) return NULL;
    memset(t, 0, offsetof(rd_tls_t, in));
    t->send = send;
    t->send_ctx = send_ctx;
    t->state = RD_TLS_HANDSHAKE;
    return t;
}

int rd_tls_new(enum rd_tls_service svc, rd_tls_send_cb send, void *send_ctx, rd_tls_t **out)
{
    if (!g_init) return RD_EINVAL;
    rd_tls_t *t = tls_alloc(send, send_ctx);
    if (!t) return RD_ENOMEM;
    uv_mutex_lock(&g_mtx);
    t->ctx = g_cur;
    atomic_fetch_add(&t->ctx->refs, 1);
    uv_mutex_unlock(&g_mtx);
    t->ssl = wolfSSL_new(t->ctx->ctx);
    if (!t->ssl) goto fail;
    wolfSSL_SetIOReadCtx(t->ssl, t);
    wolfSSL_SetIOWriteCtx(t->ssl, t);
    /* RFC 7858 s3.2 / RFC 8310 s8.1: "dot"; RFC 8484 s5.2: HTTP/2, and HTTP/1.1 for simple
     * clients. A client without ALPN (dnsperf) still gets the service of the port. */
    char dot[] = "dot", doh[] = "h2,http/1.1";
    char *list = svc == RD_TLS_DOT ? dot : doh;
    if (wolfSSL_UseALPN(t->ssl, list, (unsigned)strlen(list), WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) !=
        WOLFSSL_SUCCESS)
        goto fail;
    *out = t;
    return 0;
fail:
    rd_tls_free(t);
    return RD_ENOMEM;
}

void rd_tls_free(rd_tls_t *t)
{
    if (!t) return;
    if (t->ssl) wolfSSL_free(t->ssl);
    ctx_unref(t->ctx);
    free(t->pins);
    free(t);
}

uint8_t *rd_tls_inbuf(rd_tls_t *t, size_t *space)
{
    *space = sizeof(t->in) - t->in_len;
    return t->in + t->in_len;
}

void rd_tls_received(rd_tls_t *t, size_t n)
{
    RD_REQUIRE(n <= sizeof(t->in) - t->in_len);
    t->in_len += n;
}

size_t rd_tls_buffered(const rd_tls_t *t)
{
    return t->in_len;
}

/* ---- client side ---- */

/* Why a client handshake failed, in words for the operator's log (the codes DEPENDENCIES.md
 * lists for wolfSSL 5.5). */
static void client_why(rd_tls_t *t, int e)
{
    const char *w;
    switch (e) {
    case ASN_NO_SIGNER_E: w = "certificate not signed by a trusted CA"; break;
    case ASN_SELF_SIGNED_E: w = "self-signed certificate"; break;
    case ASN_AFTER_DATE_E: w = "certificate expired"; break;
    case ASN_BEFORE_DATE_E: w = "certificate not yet valid"; break;
    case ASN_SIG_CONFIRM_E: w = "certificate signature does not verify"; break;
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH: w = "certificate does not match the authentication name"; break;
    case FATAL_ERROR: w = "the server sent a fatal alert"; break;
    case SOCKET_ERROR_E:
    case SOCKET_PEER_CLOSED_E: w = "connection closed during the handshake"; break;
    default: w = NULL;
    }
    t->auth_failed = e != FATAL_ERROR && e != SOCKET_ERROR_E && e != SOCKET_PEER_CLOSED_E &&
                     (w != NULL || e == VERIFY_CERT_ERROR);
    if (w)
        snprintf(t->why, sizeof(t->why), "TLS handshake failed: %s (%d)", w, e);
    else
        snprintf(t->why, sizeof(t->why), "TLS handshake failed: %d (%s)", e,
                 wolfSSL_ERR_reason_error_string(e));
}

/* SHA-256 of the SubjectPublicKeyInfo of the server's end-entity certificate (RFC 7469
 * s2.4), from the chain the session keeps (SESSION_CERTS). */
static int peer_spki_hash(rd_tls_t *t, uint8_t h[32])
{
    WOLFSSL_X509_CHAIN *ch = wolfSSL_get_peer_chain(t->ssl);
    if (!ch || wolfSSL_get_chain_count(ch) < 1) return RD_EINVAL;
    const unsigned char *der = wolfSSL_get_chain_cert(ch, 0);
    int len = wolfSSL_get_chain_length(ch, 0);
    if (!der || len <= 0) return RD_EINVAL;
    int r = RD_EINVAL;
    unsigned char *spki = NULL;
    WOLFSSL_EVP_PKEY *pk = NULL;
    WOLFSSL_X509 *x = wolfSSL_X509_d2i(NULL, der, len);
    if (!x || !(pk = wolfSSL_X509_get_pubkey(x))) goto out;
    int n = wolfSSL_i2d_PUBKEY(pk, &spki);
    if (n > 0 && spki && wc_Sha256Hash(spki, (word32)n, h) == 0) r = 0;
out:
    if (spki) XFREE(spki, NULL, DYNAMIC_TYPE_OPENSSL);
    if (pk) wolfSSL_EVP_PKEY_free(pk);
    if (x) wolfSSL_X509_free(x);
    return r;
}

/* After a complete client handshake: the pins (when configured; a resumed session was pinned
 * when it was made and carries no certificate) and, for DoH, ALPN h2: wolfSSL does not fail
 * when the server sends no ALPN at all (DEPENDENCIES.md). */
static int client_checks(rd_tls_t *t)
{
    if (t->npins && !rd_tls_resumed(t)) {
        uint8_t h[32];
        bool ok = false;
        if (peer_spki_hash(t, h) == 0)
            for (size_t i = 0; i < t->npins && !ok; i++) ok = memcmp(h, t->pins[i], 32) == 0;
        if (!ok) {
            char got[48] = "?";
            if (peer_spki_hash(t, h) == 0) {
                rd__b64_encode(h, sizeof(h), got);
                got[rd__b64_encoded_len(sizeof(h))] = '\0';
            }
            snprintf(t->why, sizeof(t->why), "no tls-pin matches the server's key (its pin is %s)",
                     got);
            t->auth_failed = true;
            return RD_EIO;
        }
    }
    if (t->want_h2 && rd_tls_alpn(t) != RD_TLS_ALPN_H2) {
        snprintf(t->why, sizeof(t->why), "the server did not select HTTP/2 with ALPN");
        t->auth_failed = true;
        return RD_EIO;
    }
    return 0;
}

int rd_tls_client_global_init(void)
{
    if (wolfSSL_Init() != WOLFSSL_SUCCESS) return RD_EIO;
    g_client_init = true;
    return 0;
}

void rd_tls_client_global_free(void)
{
    if (!g_client_init) return;
    g_client_init = false;
    wolfSSL_Cleanup();
}

int rd_tls_client_ctx_new(const char *ca_file, rd_tls_ctx_t **out)
{
    rd_tls_ctx_t *c = calloc(1, sizeof(*c));
    if (!c) return RD_ENOMEM;
    atomic_init(&c->refs, 1);
    c->ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
    if (!c->ctx) goto fail;
    /* RFC 8996, RFC 7525 s3.1 (TLS 1.2 at least), AEAD suites only (RFC 7525 s4.2) */
    if (wolfSSL_CTX_SetMinVersion(c->ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_set_cipher_list(c->ctx, suites) != WOLFSSL_SUCCESS)
        goto fail;
    int ok = ca_file ? wolfSSL_CTX_load_verify_locations(c->ctx, ca_file, NULL)
                     : wolfSSL_CTX_load_system_CA_certs(c->ctx);
    if (ok != WOLFSSL_SUCCESS) {
        rd_log_error("tls: cannot load the trust anchors from %s",
                     ca_file ? ca_file : "the system store (/etc/ssl/certs)");
        goto fail;
    }
    wolfSSL_CTX_set_verify(c->ctx, WOLFSSL_VERIFY_PEER, NULL);
    wolfSSL_CTX_SetIORecv(c->ctx, io_recv);
    wolfSSL_CTX_SetIOSend(c->ctx, io_send);
    *out = c;
    return 0;
fail:
    ctx_unref(c);
    return RD_EINVAL;
}

void rd_tls_ctx_release(rd_tls_ctx_t *c)
{
    ctx_unref(c);
}

static bool is_ip_literal(const char *s)
{
    rd_addr_t a;
    return rd_addr_parse(s, strlen(s), 0, &a) == 0;
}

/* The name wolfSSL compares with the certificate: host names and IPv4 literals as they are;
 * an IPv6 literal in the form wolfSSL 5.5 prints iPAddress subjectAltNames in (eight groups of
 * four upper-case hex digits: "::1" is "0000:...:0001"), or "::1" would never match. */
static const char *san_form(const char *name, char *buf, size_t cap)
{
    rd_addr_t a;
    if (rd_addr_parse(name, strlen(name), 0, &a) != 0 || a.family != 6 || cap < 40) return name;
    for (int i = 0; i < 8; i++)
        snprintf(buf + 5 * i, cap - 5 * (size_t)i, i < 7 ? "%02X%02X:" : "%02X%02X", a.addr[2 * i],
                 a.addr[2 * i + 1]);
    return buf;
}

int rd_tls_client_new(rd_tls_ctx_t *c, const rd_tls_client_opts_t *o, rd_tls_send_cb send,
                      void *send_ctx, rd_tls_t **out)
{
    rd_tls_t *t = tls_alloc(send, send_ctx);
    if (!t) return RD_ENOMEM;
    t->client = true;
    t->want_h2 = o->h2;
    t->ctx = c;
    atomic_fetch_add(&c->refs, 1);
    if (o->npins) {
        if (!(t->pins = calloc(o->npins, sizeof(*t->pins)))) goto fail;
        for (size_t i = 0; i < o->npins; i++) {
            rd__b64_dec_t d;
            size_t n = 0;
            rd__b64_dec_init(&d);
            if (rd__b64_dec_feed(&d, o->pins[i], strlen(o->pins[i]), t->pins[t->npins], 32, &n) ==
                    0 &&
                rd__b64_dec_final(&d) == 0 && n == 32)
                t->npins++; /* the configuration checked it; a bad one simply never matches */
        }
    }
    t->ssl = wolfSSL_new(c->ctx);
    if (!t->ssl) goto fail;
    wolfSSL_SetIOReadCtx(t->ssl, t);
    wolfSSL_SetIOWriteCtx(t->ssl, t);
    if (o->auth_name) {
        /* RFC 8310 s8.1: the authentication domain name is checked against the certificate
         * (subjectAltName, wolfSSL also matches IP addresses) and sent as SNI, except an IP
         * literal (RFC 6066 s3 allows host names only). */
        char v6[48];
        if (wolfSSL_check_domain_name(t->ssl, san_form(o->auth_name, v6, sizeof(v6))) !=
            WOLFSSL_SUCCESS)
            goto fail;
        if (!is_ip_literal(o->auth_name) &&
            wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, o->auth_name,
                           (unsigned short)strlen(o->auth_name)) != WOLFSSL_SUCCESS)
            goto fail;
    } else {
        /* tls://IP without #AUTHNAME is pinned (the configuration requires it): RFC 7858 s4.2
         * out-of-band key-pinned privacy, the pin is the authentication. */
        wolfSSL_set_verify(t->ssl, WOLFSSL_VERIFY_NONE, NULL);
    }
    char dot[] = "dot", h2[] = "h2";
    char *alpn = o->h2 ? h2 : dot;
    if (wolfSSL_UseALPN(t->ssl, alpn, (unsigned)strlen(alpn), WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) !=
        WOLFSSL_SUCCESS)
        goto fail;
    if (o->session) (void)wolfSSL_set_session(t->ssl, o->session); /* a stale one: full handshake */
    *out = t;
    return 0;
fail:
    rd_tls_free(t);
    return RD_ENOMEM;
}

const char *rd_tls_error(const rd_tls_t *t, bool *auth)
{
    *auth = t->auth_failed;
    return t->why[0] ? t->why : NULL;
}

void *rd_tls_session_get(rd_tls_t *t)
{
    return t->state == RD_TLS_OPEN ? wolfSSL_get1_session(t->ssl) : NULL;
}

void rd_tls_session_free(void *s)
{
    if (s) wolfSSL_SESSION_free(s);
}

static int fail(rd_tls_t *t, const char *what, int err)
{
    rd_log_debug("tls: %s failed: %d (%s)", what, err, wolfSSL_ERR_reason_error_string(err));
    t->state = RD_TLS_FAILED;
    return RD_EIO;
}

int rd_tls_read(rd_tls_t *t, uint8_t *out, size_t cap, size_t *got)
{
    *got = 0;
    if (t->state == RD_TLS_HANDSHAKE) {
        int r = t->client ? wolfSSL_connect(t->ssl) : wolfSSL_accept(t->ssl);
        if (r != WOLFSSL_SUCCESS) {
            int e = wolfSSL_get_error(t->ssl, r);
            if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE) return 0;
            if (t->client) client_why(t, e);
            return fail(t, "handshake", e);
        }
        if (t->client && client_checks(t) != 0) {
            t->state = RD_TLS_FAILED;
            return RD_EIO;
        }
        t->state = RD_TLS_OPEN;
    }
    if (t->state != RD_TLS_OPEN || cap == 0) return t->state == RD_TLS_FAILED ? RD_EIO : 0;
    if (cap > INT32_MAX) cap = INT32_MAX;
    int n = wolfSSL_read(t->ssl, out, (int)cap);
    if (n > 0) {
        *got = (size_t)n;
        return 0;
    }
    int e = wolfSSL_get_error(t->ssl, n);
    if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE) return 0;
    if (e == WOLFSSL_ERROR_ZERO_RETURN) { /* close_notify (RFC 8446 s6.1) */
        t->state = RD_TLS_CLOSING;
        return RD_EIO;
    }
    return fail(t, "read", e);
}

int rd_tls_write(rd_tls_t *t, const uint8_t *data, size_t len)
{
    if (t->state != RD_TLS_OPEN) return RD_EIO;
    if (len == 0) return 0;
    if (len > INT32_MAX) return RD_EINVAL;
    int n = wolfSSL_write(t->ssl, data, (int)len);
    /* The send callback never says WANT_WRITE (the transport queues), so a short write is an
     * error. */
    if (n != (int)len) return fail(t, "write", wolfSSL_get_error(t->ssl, n));
    return 0;
}

void rd_tls_shutdown(rd_tls_t *t)
{
    if (t->state == RD_TLS_OPEN) {
        t->state = RD_TLS_CLOSING;
        (void)wolfSSL_shutdown(t->ssl);
    }
}

enum rd_tls_state rd_tls_state(const rd_tls_t *t)
{
    return t->state;
}

enum rd_tls_alpn rd_tls_alpn(rd_tls_t *t)
{
    char *p = NULL;
    unsigned short n = 0;
    if (wolfSSL_ALPN_GetProtocol(t->ssl, &p, &n) != WOLFSSL_SUCCESS || !p) return RD_TLS_ALPN_NONE;
    if (n == 3 && memcmp(p, "dot", 3) == 0) return RD_TLS_ALPN_DOT;
    if (n == 2 && memcmp(p, "h2", 2) == 0) return RD_TLS_ALPN_H2;
    if (n == 8 && memcmp(p, "http/1.1", 8) == 0) return RD_TLS_ALPN_HTTP11;
    return RD_TLS_ALPN_NONE;
}

bool rd_tls_resumed(rd_tls_t *t)
{
    return wolfSSL_session_reused(t->ssl) == 1;
}
