/* resolver.conf, the file: lines, sections, "key: value", quoting, comments, messages.
 *
 * The syntax is Unbound's, which operators know:
 *   - a section header is a word and a colon alone on its line ("server:", indentation free);
 *   - inside, "key: value" lines; "#" starts a comment outside double quotes, at the start
 *     of a word (after a blank or the colon), so "tls://192.0.2.1#dns.example" is one value;
 *   - a value may be double-quoted, with \" and \\ as the only escapes;
 *   - blank lines and indentation mean nothing.
 * What each key means is in conf_keys.c. The first error stops the parse: a configuration is
 * used whole or not at all, and one precise message ("file:line: key: what") beats a cascade.
 * Everything is allocated into the rd_conf_t as it is read, so one rd_conf_free releases a
 * half-built configuration on every error path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/file.h"
#include "conf/conf_int.h"

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

void rd__quote(char *out, size_t cap, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    enum { SHOWN = 48 };
    size_t n = 0;
    if (cap < 8) {
        if (cap) out[0] = '\0';
        return;
    }
    out[n++] = '\'';
    for (size_t i = 0; i < len && i < SHOWN; i++) {
        unsigned char c = (unsigned char)s[i];
        if (n + 8 >= cap) break;
        if (c < 0x20 || c == 0x7f) {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        } else {
            out[n++] = (char)c;
        }
    }
    if (len > SHOWN && n + 5 < cap) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n++] = '\'';
    out[n] = '\0';
}

static void cat(char *dst, size_t cap, size_t *n, const char *s)
{
    size_t l = strlen(s);
    if (*n + 1 >= cap) return;
    if (l > cap - 1 - *n) l = cap - 1 - *n;
    memcpy(dst + *n, s, l);
    *n += l;
    dst[*n] = '\0';
}

int rd__fail(rd__parser_t *p, unsigned line, const char *key, int code, const char *fmt, ...)
{
    rd_conf_error_t *e = p->err;
    char what[RD_CONF_WHY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    memset(e, 0, sizeof(*e));
    snprintf(e->file, sizeof(e->file), "%s", p->name);
    e->line = line;
    snprintf(e->key, sizeof(e->key), "%s", key);
    /* "file:line: key: what"; a long file name cuts the message short, never overflows it. */
    char num[16];
    size_t n = 0;
    cat(e->msg, sizeof(e->msg), &n, p->name);
    if (line) {
        snprintf(num, sizeof(num), ":%u", line);
        cat(e->msg, sizeof(e->msg), &n, num);
    }
    cat(e->msg, sizeof(e->msg), &n, ": ");
    if (line && key[0]) {
        cat(e->msg, sizeof(e->msg), &n, e->key);
        cat(e->msg, sizeof(e->msg), &n, ": ");
    }
    cat(e->msg, sizeof(e->msg), &n, what);
    return code;
}

/* Unquotes "..." starting at s[0] == '"' into out; *used gets the octets consumed. */
static int unquote(rd__parser_t *p, const char *key, const char *s, size_t len, char *out,
                   size_t *outlen, size_t *used)
{
    size_t n = 0;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (c == '"') {
            *outlen = n;
            *used = i + 1;
            return 0;
        }
        if (c == '\\') {
            if (i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\\')) {
                out[n++] = s[++i];
                continue;
            }
            char q[16];
            rd__quote(q, sizeof(q), s + i, i + 1 < len ? 2 : 1);
            return rd__fail(p, p->line, key, RD_ESYNTAX,
                            "unknown escape %s in a quoted value (only \\\" and \\\\)", q);
        }
        out[n++] = c;
    }
    return rd__fail(p, p->line, key, RD_ESYNTAX, "the quoted value has no closing '\"'");
}

static int parse_line(rd__parser_t *p, const char *s, size_t len, char *scratch)
{
    size_t i = 0;
    while (i < len && blank(s[i])) i++;
    if (i == len || s[i] == '#') return 0;
    if (memchr(s, '\0', len))
        return rd__fail(p, p->line, "", RD_ESYNTAX, "the line holds a NUL octet");

    size_t ks = i;
    while (i < len && key_char(s[i])) i++;
    if (i == ks || i == len || s[i] != ':') {
        char q[80];
        rd__quote(q, sizeof(q), s + ks, len - ks);
        return rd__fail(p, p->line, "", RD_ESYNTAX,
                        "expected 'key: value' or a section header such as 'server:', got %s", q);
    }
    char key[64];
    size_t klen = i - ks;
    snprintf(key, sizeof(key), "%.*s", (int)(klen < 63 ? klen : 63), s + ks);
    i++;
    while (i < len && blank(s[i])) i++;

    const char *v = s + i;
    size_t vlen = 0;
    bool quoted = false;
    if (i < len && s[i] == '"') {
        size_t used = 0;
        int r = unquote(p, key, s + i, len - i, scratch, &vlen, &used);
        if (r) return r;
        size_t j = i + used;
        while (j < len && blank(s[j])) j++;
        if (j < len && s[j] != '#') {
            char q[80];
            rd__quote(q, sizeof(q), s + j, len - j);
            return rd__fail(p, p->line, key, RD_ESYNTAX, "unexpected %s after the closing quote",
                            q);
        }
        v = scratch;
        quoted = true;
    } else {
        /* As in Unbound, '#' starts a comment at the start of a word only, so that
         * "tls://192.0.2.1#dns.example" keeps its authentication name. */
        vlen = 0;
        while (i + vlen < len && !(v[vlen] == '#' && (vlen == 0 || blank(v[vlen - 1])))) vlen++;
        while (vlen && blank(v[vlen - 1])) vlen--;
        if (memchr(v, '"', vlen))
            return rd__fail(p, p->line, key, RD_ESYNTAX,
                            "a '\"' inside a value: quote the whole value");
    }
    for (size_t k = 0; k < vlen; k++) {
        unsigned char c = (unsigned char)v[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return rd__fail(p, p->line, key, RD_ESYNTAX,
                            "the value holds a control character (\\x%02x)", c);
    }

    if (!quoted && vlen == 0) {
        int sec = rd__section_by_name(s + ks, klen);
        if (sec) return rd__section_begin(p, sec);
        if (p->section == RD__SEC_NONE && !rd__key_known(s + ks, klen))
            return rd__fail(p, p->line, key, RD_ESYNTAX,
                            "unknown section (expected server:, zone:, forward: or stub:)");
    }
    return rd__key(p, s + ks, klen, v, vlen, quoted);
}

static int parse_text(rd__parser_t *p, const char *text, size_t len)
{
    if (len > RD_CONF_FILE_MAX)
        return rd__fail(p, 0, "", RD_ELIMIT, "larger than %u MiB", RD_CONF_FILE_MAX >> 20);
    size_t scap = (len < RD_CONF_LINE_MAX ? len : RD_CONF_LINE_MAX) + 1;
    char *scratch = malloc(scap);
    if (!scratch) return rd__fail(p, 0, "", RD_ENOMEM, "out of memory");
    int r = 0;
    size_t pos = 0;
    p->line = 0;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) pos = 3; /* a UTF-8 byte order mark */
    while (pos < len) {
        p->line++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t ll = end - pos;
        if (ll && text[end - 1] == '\r') ll--; /* CRLF files */
        if (ll > RD_CONF_LINE_MAX) {
            r = rd__fail(p, p->line, "", RD_ELIMIT, "line longer than %u characters",
                         RD_CONF_LINE_MAX);
            break;
        }
        r = parse_line(p, text + pos, ll, scratch);
        if (r) break;
        pos = nl ? end + 1 : len;
    }
    free(scratch);
    if (r) return r;
    return rd__finish(p);
}

static int parse(const char *text, size_t len, const char *name, const char *dir, size_t dirlen,
                 rd_conf_t **out, rd_conf_error_t *err)
{
    rd__parser_t p;
    rd_conf_t *c = NULL;
    memset(&p, 0, sizeof(p));
    p.err = err;
    p.name = name;
    p.dir = dir;
    p.dirlen = dirlen;
    int r = rd_conf_default(&c);
    if (r) return rd__fail(&p, 0, "", r, "out of memory");
    /* listen: replaces the default listeners; the defaults come back in rd__finish if no
     * listen: line was given. */
    free(c->listen);
    c->listen = NULL;
    c->nlisten = 0;
    p.c = c;
    if (!(c->path = strdup(name))) {
        r = rd__fail(&p, 0, "", RD_ENOMEM, "out of memory");
        goto fail;
    }
    r = parse_text(&p, text, len);
    if (r) goto fail;
    rd__parser_free(&p);
    memset(err, 0, sizeof(*err));
    *out = c;
    return 0;
fail:
    rd__parser_free(&p);
    rd_conf_free(c);
    return r;
}

int rd_conf_parse_mem(const char *text, size_t len, const char *name, rd_conf_t **out,
                      rd_conf_error_t *err)
{
    rd_conf_error_t spare;
    if (!err) err = &spare;
    if (!name) name = "(config)";
    if (!out || (!text && len)) {
        rd__parser_t p = {.err = err, .name = name};
        return rd__fail(&p, 0, "", RD_EINVAL, "invalid argument");
    }
    return parse(text ? text : "", len, name, NULL, 0, out, err);
}

static int read_file(const char *path, char **out, size_t *outlen, int *err_no)
{
    return rd__file_read(path, RD_CONF_FILE_MAX, out, outlen, err_no);
}

int rd_conf_parse_file(const char *path, rd_conf_t **out, rd_conf_error_t *err)
{
    rd_conf_error_t spare;
    if (!err) err = &spare;
    rd__parser_t p = {.err = err, .name = path ? path : "(null)"};
    if (!path || !out) return rd__fail(&p, 0, "", RD_EINVAL, "invalid argument");
    char *text = NULL;
    size_t len = 0;
    int err_no = 0;
    int r = read_file(path, &text, &len, &err_no);
    if (r) {
        if (err_no == EFBIG)
            return rd__fail(&p, 0, "", r, "larger than %u MiB", RD_CONF_FILE_MAX >> 20);
        char eb[128];
        return rd__fail(&p, 0, "", r, "cannot read: %s", strerror_r(err_no, eb, sizeof(eb)));
    }
    /* Relative paths inside are relative to the file's directory. */
    const char *slash = strrchr(path, '/');
    r = parse(text, len, path, slash ? path : NULL, slash ? (size_t)(slash - path) : 0, out, err);
    free(text);
    return r;
}

int rd_conf_default(rd_conf_t **out)
{
    static const rd_addr_t lo4 = {.family = 4, .addr = {127, 0, 0, 1}, .port = 53};
    static const rd_addr_t lo6 = {.family = 6, .addr = {[15] = 1}, .port = 53};
    if (!out) return RD_EINVAL;
    rd_conf_t *c = calloc(1, sizeof(*c));
    if (!c) return RD_ENOMEM;
    c->threads = 0; /* auto: one worker per core, resolved at start-up */
    c->cache_size = (size_t)64 << 20;
    c->packet_cache_size = RD_PCACHE_SIZE_DEFAULT;
    c->log_level = RD_LOG_INFO;
    c->edns_buffer_size = 1232; /* DNS flag day 2020: no fragmentation on common paths */
    c->tcp_idle_timeout_ms = 10000;
    c->tcp_max_connections = 256;
    c->tcp_max_inflight = 100;
    c->hide_identity = true;
    c->hide_version = true;
    c->cache_min_ttl = 0;
    c->cache_max_ttl = 86400;
    c->cache_max_negative_ttl = 3600;
    c->qname_minimisation = true;
    c->https_path = strdup("/dns-query");
    c->state_dir = strdup("/var/lib/resolverd");
    /* Four slots: the growth rule of conf_keys.c (capacity 4, then doubling at powers of
     * two) holds for arrays started here. */
    c->listen = malloc(4 * sizeof(*c->listen));
    if (!c->https_path || !c->state_dir || !c->listen) {
        rd_conf_free(c);
        return RD_ENOMEM;
    }
    c->listen[0] = lo4;
    c->listen[1] = lo6;
    c->nlisten = 2;
    *out = c;
    return 0;
}

void rd_conf_free(rd_conf_t *c)
{
    if (!c) return;
    free(c->path);
    free(c->listen);
    free(c->listen_tls);
    free(c->listen_https);
    free(c->tls_certificate);
    free(c->tls_key);
    free(c->tls_ca_file);
    free(c->https_path);
    free(c->state_dir);
    free(c->acl);
    free(c->root_hints);
    free(c->user);
    free(c->pidfile);
    free(c->identity);
    free(c->version);
    for (size_t i = 0; i < c->nzones; i++) free(c->zones[i].file);
    free(c->zones);
    for (size_t i = 0; i < c->nforwards; i++) {
        rd_conf_forward_t *f = &c->forwards[i];
        for (size_t j = 0; j < f->nupstreams; j++) rd_conf_upstream_free(&f->upstreams[j]);
        free(f->upstreams);
    }
    free(c->forwards);
    for (size_t i = 0; i < c->nstubs; i++) free(c->stubs[i].servers);
    free(c->stubs);
    free(c);
}
