/* Forwarder URIs ("upstream:" in forward: sections) and TLS pins.
 *
 *   udp://IP[@PORT]                       port 53
 *   tcp://IP[@PORT]                       port 53
 *   tls://IP[@PORT][#AUTHNAME]            port 853 (RFC 7858 s3.1); AUTHNAME is the name the
 *                                         certificate must carry (RFC 8310 s8); without it
 *                                         the forward: section must pin the key (tls-pin)
 *   https://HOST[:PORT][/PATH][@BOOTSTRAP] port 443, path /dns-query (RFC 8484 s3 example);
 *                                         HOST a name, an IPv4 literal or [IPv6]; BOOTSTRAP
 *                                         the address to connect to when HOST is a name
 *
 * Schemes are case-insensitive (RFC 3986 s3.1). The path may use RFC 3986 pchar characters
 * but not '@' (it marks the bootstrap address), '?' or '#': the DoH client adds ?dns= itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_int.h"
#include "wire/encoding.h"

#define DEFAULT_DOH_PATH "/dns-query"

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

bool rd__hostname_ok(const char *s, size_t len)
{
    if (len > 0 && s[len - 1] == '.') len--;
    if (len == 0 || len > 253) return false;
    size_t lab = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? s[i] : '.';
        if (c == '.') {
            if (lab == 0 || lab > 63 || s[i - 1] == '-' || s[i - lab] == '-') return false;
            lab = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok) return false;
        lab++;
    }
    return true;
}

bool rd__pin_ok(const char *s, size_t len)
{
    /* An SPKI SHA-256 pin (RFC 7469 s2.4): base64 of exactly 32 octets, padded (44 chars). */
    uint8_t out[33];
    size_t n = 0;
    rd__b64_dec_t d;
    rd__b64_dec_init(&d);
    if (len != 44 || rd__b64_dec_feed(&d, s, len, out, sizeof(out), &n) != 0 ||
        rd__b64_dec_final(&d) != 0)
        return false;
    return n == 32;
}

static bool ip_only(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) return false;
    return true;
}

/* RFC 3986 s3.3 pchar and '/', without '@' (ours). */
static bool path_char_ok(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c != '\0' && strchr("-._~!$&'()*+,;=:/%", c) != NULL;
}

bool rd__url_path_ok(const char *s, size_t len)
{
    if (len == 0 || s[0] != '/') return false;
    for (size_t i = 0; i < len; i++) {
        if (!path_char_ok(s[i])) return false;
        if (s[i] == '%') {
            static const char hex[] = "0123456789abcdefABCDEF";
            if (i + 2 >= len || !strchr(hex, s[i + 1]) || !strchr(hex, s[i + 2]) || !s[i + 1] ||
                !s[i + 2])
                return false;
            i += 2;
        }
    }
    return true;
}

static int bad(char *why, size_t cap, int code, const char *what, const char *s, size_t len,
               const char *tail)
{
    char q[80];
    rd__quote(q, sizeof(q), s, len);
    snprintf(why, cap, "%s %s%s", what, q, tail);
    return code;
}

/* IP[@PORT][#AUTHNAME] of udp://, tcp:// and tls://. */
static int parse_plain(const char *s, size_t len, bool tls, rd_conf_upstream_t *u, char *why,
                       size_t cap)
{
    const char *hash = memchr(s, '#', len);
    size_t alen = hash ? (size_t)(hash - s) : len;
    if (hash && !tls) {
        snprintf(why, cap, "#AUTHNAME is only for tls:// upstreams");
        return RD_ESYNTAX;
    }
    int r = rd_addr_parse(s, alen, tls ? 853 : 53, &u->addr);
    if (r)
        return bad(why, cap, r,
                   "expected an IP address with an optional @port after the scheme,"
                   " got",
                   s, alen, "");
    if (hash) {
        const char *n = hash + 1;
        size_t nl = len - alen - 1;
        if (!rd__hostname_ok(n, nl))
            return bad(why, cap, RD_ESYNTAX, "the authentication name", n, nl,
                       " after '#' is not a host name");
        if (nl && n[nl - 1] == '.') nl--;
        if (!(u->auth_name = dup_n(n, nl))) return RD_ENOMEM;
    }
    return 0;
}

static int parse_https(const char *s, size_t len, rd_conf_upstream_t *u, char *why, size_t cap)
{
    size_t i = 0, hs, he;
    rd_addr_t host_ip;
    bool host_is_ip = false;
    int r;
    memset(&host_ip, 0, sizeof(host_ip));
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return bad(why, cap, RD_ESYNTAX, "unclosed '[' in", s, len, " (expected [IPv6])");
        hs = 1;
        he = (size_t)(close - s);
        r = rd__ip_parse(s + hs, he - hs, &host_ip);
        if (r || host_ip.family != 6)
            return bad(why, cap, r ? r : RD_ESYNTAX, "host", s + hs, he - hs,
                       " in brackets is not an IPv6 address");
        host_is_ip = true;
        i = he + 1;
    } else {
        while (i < len && s[i] != ':' && s[i] != '/' && s[i] != '@') i++;
        hs = 0;
        he = i;
        /* host[:port] with two colons or more is an IPv6 literal without its brackets. */
        size_t al = 0, colons = 0;
        for (; al < len && s[al] != '/' && s[al] != '@'; al++) colons += s[al] == ':';
        if (colons > 1)
            return bad(why, cap, RD_ESYNTAX, "IPv6 host", s, al, " must be written in [brackets]");
        if (he == 0) {
            snprintf(why, cap, "expected a host after https://");
            return RD_ESYNTAX;
        }
        if (ip_only(s, he)) {
            r = rd__ip_parse(s, he, &host_ip);
            if (r) return bad(why, cap, r, "host", s, he, " is not an IPv4 address");
            host_is_ip = true;
        } else if (!rd__hostname_ok(s, he)) {
            return bad(why, cap, RD_ESYNTAX, "host", s, he,
                       " is not a host name or an IP address (IPv6 goes in [brackets])");
        }
    }
    uint16_t port = 443;
    if (i < len && s[i] == ':') {
        size_t ps = ++i;
        while (i < len && s[i] != '/' && s[i] != '@') i++;
        r = rd__port_parse(s + ps, i - ps, &port);
        if (r) return bad(why, cap, r, "port", s + ps, i - ps, " is not a number from 1 to 65535");
    }
    if (i < len && s[i] != '/' && s[i] != '@')
        return bad(why, cap, RD_ESYNTAX, "unexpected", s + i, len - i,
                   " after the host (expected :PORT, /PATH or @BOOTSTRAP-IP)");
    const char *at = NULL;
    for (size_t k = len; k > i; k--)
        if (s[k - 1] == '@') {
            at = s + k - 1;
            break;
        }
    size_t path_end = at ? (size_t)(at - s) : len;
    const char *path = DEFAULT_DOH_PATH;
    size_t plen = strlen(DEFAULT_DOH_PATH);
    if (i < path_end) {
        path = s + i;
        plen = path_end - i;
        if (!rd__url_path_ok(path, plen))
            return bad(why, cap, RD_ESYNTAX, "path", path, plen,
                       " has characters a URL path cannot hold (no '?', '#', '@' or blanks)");
    }
    if (at) {
        const char *b = at + 1;
        size_t bl = len - path_end - 1;
        r = rd__ip_parse(b, bl, &u->addr);
        if (r)
            return bad(why, cap, r, "bootstrap address", b, bl,
                       " after '@' is not an IP address (the port is the URL's)");
    } else if (host_is_ip) {
        u->addr = host_ip;
    }
    /* no address (HOST is looked up by the engine): the port is still the URL's */
    u->addr.port = port;
    if (!(u->path = dup_n(path, plen))) return RD_ENOMEM;
    size_t hl = he - hs;
    if (!host_is_ip && s[he - 1] == '.') hl--;
    if (!(u->auth_name = dup_n(s + hs, hl))) return RD_ENOMEM;
    return 0;
}

int rd__upstream_parse(const char *s, size_t len, rd_conf_upstream_t *out, char *why, size_t cap)
{
    static const struct {
        const char *scheme;
        uint8_t proto;
    } schemes[] = {{"udp://", RD_UP_UDP},
                   {"tcp://", RD_UP_TCP},
                   {"tls://", RD_UP_TLS},
                   {"https://", RD_UP_HTTPS}};
    rd_conf_upstream_t u;
    memset(&u, 0, sizeof(u));
    size_t skip = 0;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t sl = strlen(schemes[i].scheme);
        if (len >= sl && strncasecmp(s, schemes[i].scheme, sl) == 0) {
            u.proto = schemes[i].proto;
            skip = sl;
            break;
        }
    }
    if (!u.proto)
        return bad(why, cap, RD_ESYNTAX, "expected udp://, tcp://, tls:// or https:// URI, got", s,
                   len, "");
    int r;
    if (u.proto == RD_UP_HTTPS)
        r = parse_https(s + skip, len - skip, &u, why, cap);
    else
        r = parse_plain(s + skip, len - skip, u.proto == RD_UP_TLS, &u, why, cap);
    if (r == 0 && !(u.uri = dup_n(s, len))) r = RD_ENOMEM;
    if (r) {
        if (r == RD_ENOMEM) snprintf(why, cap, "out of memory");
        rd_conf_upstream_free(&u);
        return r;
    }
    *out = u;
    return 0;
}

void rd_conf_upstream_free(rd_conf_upstream_t *u)
{
    free(u->auth_name);
    free(u->path);
    free(u->uri);
    for (size_t i = 0; i < u->npins; i++) free(u->pins[i]);
    free(u->pins);
    memset(u, 0, sizeof(*u));
}

static bool dup_opt(char **dst, const char *s)
{
    return !s || (*dst = dup_n(s, strlen(s))) != NULL;
}

int rd_conf_upstream_copy(rd_conf_upstream_t *d, const rd_conf_upstream_t *s)
{
    memset(d, 0, sizeof(*d));
    d->proto = s->proto;
    d->addr = s->addr;
    if (!dup_opt(&d->auth_name, s->auth_name) || !dup_opt(&d->path, s->path) ||
        !dup_opt(&d->uri, s->uri) || (s->npins && !(d->pins = calloc(s->npins, sizeof(char *)))))
        goto fail;
    for (; d->npins < s->npins; d->npins++)
        if (!dup_opt(&d->pins[d->npins], s->pins[d->npins])) goto fail;
    return 0;
fail:
    rd_conf_upstream_free(d);
    return RD_ENOMEM;
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL) == (b == NULL) && (!a || strcmp(a, b) == 0);
}

bool rd_conf_upstream_eq(const rd_conf_upstream_t *a, const rd_conf_upstream_t *b)
{
    if (a->proto != b->proto || a->addr.family != b->addr.family || a->addr.port != b->addr.port ||
        memcmp(a->addr.addr, b->addr.addr, sizeof(a->addr.addr)) != 0 ||
        !same_str(a->uri, b->uri) || !same_str(a->auth_name, b->auth_name) ||
        !same_str(a->path, b->path) || a->npins != b->npins)
        return false;
    for (size_t i = 0; i < a->npins; i++)
        if (!same_str(a->pins[i], b->pins[i])) return false;
    return true;
}
