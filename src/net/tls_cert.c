/* Certificates for DoT/DoH: the configured PEM files, or (RFC 7858 s4.2 opportunistic and
 * pinned use on a LAN) a self-signed ECDSA P-256 certificate made with wolfCrypt in the state
 * directory on first start and reused afterwards, so its SPKI pin stays the same.
 *
 * The key and the certificate are two files, each replaced atomically, but not together: a
 * crash between the two renames leaves a new key beside an old certificate (or one without
 * the other). Each start therefore checks that the key is the certificate's (same public key)
 * and makes a new pair when it is not, rather than failing to start or serving a pair that
 * no client can complete a handshake with. */
#include <wolfssl/options.h>

#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/tls.h"
#include "server/server.h"
#include "wire/encoding.h"

#define CERT_FILE "tls-selfsigned.crt"
#define KEY_FILE  "tls-selfsigned.key"

static char *join(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, file);
    return p;
}

/* The state directory may belong to the unprivileged user: never write through a name it
 * could have planted (a symlink or hard link at the temporary name pointing at a file of
 * root's). The temporary name is removed, then created exclusively without following
 * symlinks; mode and owner are set on the descriptor; the rename is made durable by syncing
 * the directory. Written under a temporary name and renamed, so a crash never leaves half a
 * key. */
static int write_private(int dfd, const char *dir, const char *file, const uint8_t *data,
                         size_t len, mode_t mode, uid_t uid, gid_t gid)
{
    size_t n = strlen(file) + 5;
    char *tmp = malloc(n);
    if (!tmp) return RD_ENOMEM;
    snprintf(tmp, n, "%s.new", file);
    int r = RD_EIO;
    const char *what = "create";
    if (unlinkat(dfd, tmp, 0) != 0 && errno != ENOENT) goto out;
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) goto out;
    what = "write";
    if (fchmod(fd, mode) == 0 && (uid == (uid_t)-1 || fchown(fd, uid, gid) == 0)) {
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(fd, data + off, len - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            off += (size_t)w;
        }
        if (off == len && fsync(fd) == 0) r = 0;
    }
    close(fd);
    if (!r && renameat(dfd, tmp, dfd, file) != 0) r = RD_EIO;
    if (!r && fsync(dfd) != 0) r = RD_EIO; /* the rename itself survives a crash */
    if (r) unlinkat(dfd, tmp, 0);
out:
    if (r) rd_log_error("tls: cannot %s %s/%s: %s", what, dir, file, strerror(errno));
    free(tmp);
    return r;
}

static int generate(int dfd, const char *dir, uid_t uid, gid_t gid)
{
    enum { DER_MAX = 4096, PEM_MAX = 8192 };
    WC_RNG rng;
    ecc_key key;
    Cert cert;
    uint8_t *der = malloc(DER_MAX), *pem = malloc(PEM_MAX);
    int r = RD_EIO, have_rng = 0, have_key = 0;
    if (!der || !pem) {
        r = RD_ENOMEM;
        goto out;
    }
    if (wc_InitRng(&rng) != 0) goto out;
    have_rng = 1;
    if (wc_ecc_init(&key) != 0) goto out;
    have_key = 1;
    if (wc_ecc_make_key_ex(&rng, 32, &key, ECC_SECP256R1) != 0) goto out;
    /* the key first: a certificate without its key is useless */
    int n = wc_EccKeyToDer(&key, der, DER_MAX);
    if (n <= 0) goto out;
    int pn = wc_DerToPem(der, (word32)n, pem, PEM_MAX, ECC_PRIVATEKEY_TYPE);
    if (pn <= 0 || write_private(dfd, dir, KEY_FILE, pem, (size_t)pn, 0600, uid, gid)) goto out;
    if (wc_InitCert(&cert) != 0) goto out;
    snprintf(cert.subject.commonName, sizeof(cert.subject.commonName), "resolverd");
    snprintf(cert.subject.org, sizeof(cert.subject.org), "resolverd self-signed");
    cert.sigType = CTC_SHA256wECDSA;
    cert.isCA = 0;
    cert.daysValid = RD_TLS_SELFSIGNED_DAYS;
    n = wc_MakeCert_ex(&cert, der, DER_MAX, ECC_TYPE, &key, &rng);
    if (n <= 0) goto out;
    n = wc_SignCert_ex(cert.bodySz, cert.sigType, der, DER_MAX, ECC_TYPE, &key, &rng);
    if (n <= 0) goto out;
    pn = wc_DerToPem(der, (word32)n, pem, PEM_MAX, CERT_TYPE);
    if (pn <= 0 || write_private(dfd, dir, CERT_FILE, pem, (size_t)pn, 0644, uid, gid)) goto out;
    rd_log_info("tls: generated a self-signed ECDSA P-256 certificate in %s/%s", dir, CERT_FILE);
    r = 0;
out:
    if (r) rd_log_error("tls: cannot generate a self-signed certificate (%d)", r);
    if (have_key) wc_ecc_free(&key);
    if (have_rng) wc_FreeRng(&rng);
    free(der);
    free(pem);
    return r;
}

/* A file of the state directory, read without following a symlink (existing() has refused
 * those already; this closes the window between its look and ours). At most 64 KiB: our PEM
 * files are well under 1 KiB. */
static int read_small(int dfd, const char *file, uint8_t **out, size_t *len)
{
    enum { SMALL_MAX = 65536 };
    int fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return RD_EIO;
    int r = RD_EIO;
    uint8_t *p = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > SMALL_MAX)
        goto out;
    size_t n = (size_t)st.st_size, off = 0;
    p = malloc(n);
    if (!p) {
        r = RD_ENOMEM;
        goto out;
    }
    while (off < n) {
        ssize_t got = read(fd, p + off, n - off);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        off += (size_t)got;
    }
    if (off == n) {
        *out = p;
        *len = n;
        p = NULL;
        r = 0;
    }
out:
    free(p);
    close(fd);
    return r;
}

/* Room for a SubjectPublicKeyInfo: P-256 needs 91 octets, RSA-8192 about 1,100. */
enum { RD__SPKI_MAX = 2048 };

/* The SubjectPublicKeyInfo (DER, RFC 7469 s2.4) of a certificate: what the pin hashes.
 * Frees x. */
static int x509_spki(WOLFSSL_X509 *x, uint8_t *out, size_t cap, size_t *n)
{
    int r = RD_EINVAL;
    unsigned char *spki = NULL;
    WOLFSSL_EVP_PKEY *pk = NULL;
    if (!x) goto out;
    pk = wolfSSL_X509_get_pubkey(x);
    if (!pk) goto out;
    int sn = wolfSSL_i2d_PUBKEY(pk, &spki);
    if (sn <= 0 || !spki || (size_t)sn > cap) goto out;
    memcpy(out, spki, (size_t)sn);
    *n = (size_t)sn;
    r = 0;
out:
    if (spki) XFREE(spki, NULL, DYNAMIC_TYPE_OPENSSL);
    if (pk) wolfSSL_EVP_PKEY_free(pk);
    if (x) wolfSSL_X509_free(x);
    return r;
}

static int cert_spki(const uint8_t *pem, size_t len, uint8_t *out, size_t cap, size_t *n)
{
    return x509_spki(wolfSSL_X509_load_certificate_buffer(pem, (int)len, WOLFSSL_FILETYPE_PEM), out,
                     cap, n);
}

/* The SubjectPublicKeyInfo (DER) of a PEM EC private key, its public point computed from
 * the private scalar (not the copy the file may carry beside it). */
static int key_spki(const uint8_t *pem, size_t len, uint8_t *out, size_t cap, size_t *n)
{
    enum { DER_MAX = 4096 };
    int r = RD_EINVAL, have_key = 0, have_rng = 0;
    ecc_key key;
    WC_RNG rng;
    uint8_t *der = malloc(DER_MAX);
    if (!der) return RD_ENOMEM;
    int dn = wc_KeyPemToDer(pem, (int)len, der, DER_MAX, NULL);
    if (dn <= 0) goto out;
    if (wc_ecc_init(&key) != 0) goto out;
    have_key = 1;
    word32 idx = 0;
    if (wc_EccPrivateKeyDecode(der, &idx, &key, (word32)dn) != 0) goto out;
    if (wc_InitRng(&rng) != 0) goto out; /* ECC_TIMING_RESISTANT: the multiplication is blinded */
    have_rng = 1;
    if (wc_ecc_make_pub_ex(&key, NULL, &rng) != 0) goto out;
    int sn = wc_EccPublicKeyToDer(&key, out, (word32)cap, 1);
    if (sn <= 0) goto out;
    *n = (size_t)sn;
    r = 0;
out:
    if (have_rng) wc_FreeRng(&rng);
    if (have_key) wc_ecc_free(&key);
    free(der);
    return r;
}

/* 1 when the key in KEY_FILE belongs to the certificate in CERT_FILE, 0 when it does not or
 * either cannot be read as such (logged), RD_ENOMEM: no verdict. */
static int pair_matches(int dfd, const char *dir)
{
    uint8_t *crt = NULL, *key = NULL, a[RD__SPKI_MAX], b[RD__SPKI_MAX];
    size_t cl = 0, kl = 0, an = 0, bn = 0;
    const char *why = NULL;
    int r = 0, e;
    if ((e = read_small(dfd, CERT_FILE, &crt, &cl)) < 0 ||
        (e = cert_spki(crt, cl, a, sizeof(a), &an)) < 0)
        why = "the certificate cannot be read";
    else if ((e = read_small(dfd, KEY_FILE, &key, &kl)) < 0 ||
             (e = key_spki(key, kl, b, sizeof(b), &bn)) < 0)
        why = "the key cannot be read as an EC key";
    else if (an != bn || memcmp(a, b, an) != 0)
        why = "the key is not the certificate's (an interrupted generation?)";
    else
        r = 1;
    if (e == RD_ENOMEM)
        r = RD_ENOMEM; /* a good pair must not be replaced for want of memory */
    else if (why)
        rd_log_warn("tls: %s/%s and %s: %s; generating a new pair (clients that pinned the old "
                    "SPKI need the new pin)",
                    dir, CERT_FILE, KEY_FILE, why);
    free(crt);
    free(key);
    return r;
}

/* The daemon drops to user: after start; the state directory and what is in it belong to
 * that user, so that a SIGHUP after the drop can still read them. Only the uid/gid are
 * looked up here: ownership is given through descriptors (fchown), never through a path
 * that could be a symlink. (uid_t)-1 when nothing is to be given. */
static void state_owner(const rd_conf_t *conf, uid_t *uid, gid_t *gid)
{
    *uid = (uid_t)-1;
    *gid = (gid_t)-1;
    if (!conf->user || geteuid() != 0) return;
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwnam_r(conf->user, &pw, buf, sizeof(buf), &res) != 0 || !res) return;
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
}

/* An existing certificate or key must be a regular file of its own: a symlink or a hard link
 * planted by whoever owns the state directory would make us serve (or later overwrite) a
 * file of theirs. 1: present and usable, 0: absent, < 0: refuse to start. */
static int existing(int dfd, const char *dir, const char *file)
{
    struct stat st;
    if (fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return 0;
        rd_log_error("tls: cannot stat %s/%s: %s", dir, file, strerror(errno));
        return RD_EIO;
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
        rd_log_error("tls: %s/%s is not a regular file (symlink or hard link?): refusing to "
                     "use it; remove it to have a new certificate generated",
                     dir, file);
        return RD_EINVAL;
    }
    return 1;
}

int rd__tls_cert_files(const rd_conf_t *conf, char **cert, char **key)
{
    *cert = *key = NULL;
    if (conf->tls_certificate || conf->tls_key) {
        if (!conf->tls_certificate || !conf->tls_key) {
            rd_log_error("tls: tls-certificate and tls-key go together");
            return RD_EINVAL;
        }
        *cert = strdup(conf->tls_certificate);
        *key = strdup(conf->tls_key);
        if (!*cert || !*key) goto nomem;
        return 0;
    }
    const char *dir = conf->state_dir ? conf->state_dir : "/var/lib/resolverd";
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rd_log_error("tls: cannot create state directory %s: %s", dir, strerror(errno));
        return RD_EIO;
    }
    *cert = join(dir, CERT_FILE);
    *key = join(dir, KEY_FILE);
    if (!*cert || !*key) goto nomem;
    int r = RD_EIO;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        rd_log_error("tls: cannot open state directory %s: %s", dir, strerror(errno));
        goto fail;
    }
    int have_cert = existing(dfd, dir, CERT_FILE), have_key = existing(dfd, dir, KEY_FILE);
    int match = 0;
    if (have_cert < 0 || have_key < 0) {
        r = have_cert < 0 ? have_cert : have_key;
    } else if (have_cert && have_key && faccessat(dfd, CERT_FILE, R_OK, 0) == 0 &&
               faccessat(dfd, KEY_FILE, R_OK, 0) == 0 && (match = pair_matches(dfd, dir)) != 0) {
        r = match < 0 ? match : 0;
    } else {
        if (have_cert != have_key)
            rd_log_warn("tls: %s/%s without its %s (an interrupted generation?): generating a "
                        "new pair",
                        dir, have_cert ? CERT_FILE : KEY_FILE, have_cert ? "key" : "certificate");
        uid_t uid;
        gid_t gid;
        state_owner(conf, &uid, &gid);
        r = generate(dfd, dir, uid, gid);
        /* The directory itself: through the descriptor, and only when the configured path
         * is a real directory, not a symlink to one (which would hand over its target). */
        struct stat st;
        if (!r && uid != (uid_t)-1 && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
            fchown(dfd, uid, gid) != 0)
            rd_log_warn("tls: cannot give %s to %s: %s", dir, conf->user, strerror(errno));
    }
    close(dfd);
fail:
    if (r) {
        free(*cert);
        free(*key);
        *cert = *key = NULL;
    }
    return r;
nomem:
    free(*cert);
    free(*key);
    *cert = *key = NULL;
    return RD_ENOMEM;
}

int rd__tls_pin(const char *cert, char *out, size_t cap)
{
    uint8_t spki[RD__SPKI_MAX], h[WC_SHA256_DIGEST_SIZE];
    size_t n = 0;
    int r = x509_spki(wolfSSL_X509_load_certificate_file(cert, WOLFSSL_FILETYPE_PEM), spki,
                      sizeof(spki), &n);
    if (r < 0) return r;
    if (wc_Sha256Hash(spki, (word32)n, h) != 0) return RD_EINVAL;
    if (cap < rd__b64_encoded_len(sizeof(h)) + 1) return RD_ESPACE;
    rd__b64_encode(h, sizeof(h), out);
    out[rd__b64_encoded_len(sizeof(h))] = '\0';
    return 0;
}

void rd__tls_log_pin(const char *cert)
{
    char pin[64];
    if (rd__tls_pin(cert, pin, sizeof(pin)) == 0)
        rd_log_info("tls: certificate %s, SPKI SHA-256 pin %s", cert, pin);
    else
        rd_log_warn("tls: cannot compute the SPKI pin of %s", cert);
}
