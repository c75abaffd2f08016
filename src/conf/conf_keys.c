/* resolver.conf, the keys: which section each lives in, how its value reads, its range, and
 * the checks that span keys once the whole file is read.
 *
 * Value forms:
 *   number    decimal, no sign
 *   size      bytes, or k/m/g/t (binary: 1k = 1024) with an optional b, any case: 64m, 1G
 *   duration  ms, s, m, h or d suffix, any case; a plain number is seconds (Unbound's unit)
 *   boolean   yes or no, as Unbound spells them
 *   path      relative paths are joined to the configuration file's directory
 * A single-valued key given twice is an error rather than "the last one wins": two values for
 * one setting in one file is a mistake more often than an intent. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_int.h"

enum kind {
    K_ADDRS,    /* repeatable ADDR[@PORT] into an rd_addr_t array */
    K_ACL,      /* repeatable access-control rule */
    K_PATH,     /* file or directory */
    K_STR,      /* text, min..max characters */
    K_WEBPATH,  /* URL path */
    K_BOOL,     /* yes/no into bool */
    K_UINT,     /* number min..max into an unsigned field of any width */
    K_THREADS,  /* number min..max, or auto (0) */
    K_SIZE,     /* size min..max bytes into size_t */
    K_MS,       /* duration min..max ms into a field in ms */
    K_SECS,     /* duration min..max s, whole seconds */
    K_LOGLEVEL, /* error|warn|info|debug into int */
    K_NAME,     /* zone:, forward:, stub: */
    K_ZONEFILE, /* zone: */
    K_UPSTREAM, /* forward: */
    K_PIN,      /* forward: */
    K_FWDFIRST, /* forward: */
    K_STUBADDR, /* stub: */
};

typedef struct {
    const char *name;
    uint8_t section;
    uint8_t kind;
    bool repeat;
    uint16_t port;     /* K_ADDRS: default port */
    size_t off, size;  /* server: keys: the field of rd_conf_t */
    size_t off_n;      /* repeatable server: keys: the count field */
    uint64_t min, max; /* K_UINT, K_THREADS, K_STR, K_SIZE, K_MS (ms), K_SECS (s) */
} keydef_t;

#define SRV(n, k, m, lo, hi)                                                                       \
    {                                                                                              \
        .name = n, .section = RD__SEC_SERVER, .kind = k, .off = offsetof(rd_conf_t, m),            \
        .size = sizeof(((rd_conf_t *)0)->m), .min = lo, .max = hi                                  \
    }
#define SRV_LIST(n, k, m, cnt, p)                                                                  \
    {                                                                                              \
        .name = n, .section = RD__SEC_SERVER, .kind = k, .repeat = true, .port = p,                \
        .off = offsetof(rd_conf_t, m), .off_n = offsetof(rd_conf_t, cnt)                           \
    }
#define ENTRY(s, n, k, rep)                                                                        \
    {                                                                                              \
        .name = n, .section = s, .kind = k, .repeat = rep                                          \
    }

#define KIB     1024ull
#define MIB     (KIB * KIB)
#define TIB     (MIB * MIB)
#define HOUR_MS 3600000ull
#define TTL_MAX 2147483647ull /* RFC 2181 s8 */
#define STR_MAX RD_CONF_STRING_MAX

static const keydef_t keys[] = {
    SRV_LIST("listen", K_ADDRS, listen, nlisten, 53),
    SRV_LIST("listen-tls", K_ADDRS, listen_tls, nlisten_tls, 853),       /* RFC 7858 s3.1 */
    SRV_LIST("listen-https", K_ADDRS, listen_https, nlisten_https, 443), /* RFC 8484 s8.1 */
    SRV("tls-certificate", K_PATH, tls_certificate, 0, 0),
    SRV("tls-key", K_PATH, tls_key, 0, 0),
    SRV("tls-ca-file", K_PATH, tls_ca_file, 0, 0),
    SRV("https-path", K_WEBPATH, https_path, 0, 0),
    SRV("state-dir", K_PATH, state_dir, 0, 0),
    SRV("threads", K_THREADS, threads, 1, 1024),
    SRV("cache-size", K_SIZE, cache_size, MIB, TIB),
    SRV("packet-cache-size", K_SIZE, packet_cache_size, 0, TIB),
    SRV_LIST("access-control", K_ACL, acl, nacl, 0),
    SRV("root-hints", K_PATH, root_hints, 0, 0),
    SRV("allow-loopback-upstreams", K_BOOL, allow_loopback_upstreams, 0, 0),
    SRV("log-level", K_LOGLEVEL, log_level, 0, 0),
    SRV("user", K_STR, user, 1, STR_MAX),
    SRV("pidfile", K_PATH, pidfile, 0, 0),
    /* RFC 6891 s6.2.5: below 512 is treated as 512; above 4096 fragments on most paths. */
    SRV("edns-buffer-size", K_UINT, edns_buffer_size, 512, 4096),
    SRV("tcp-idle-timeout", K_MS, tcp_idle_timeout_ms, 100, HOUR_MS),
    SRV("tcp-max-connections", K_UINT, tcp_max_connections, 1, 65535),
    SRV("tcp-max-inflight", K_UINT, tcp_max_inflight, 1, 65535),
    SRV("hide-identity", K_BOOL, hide_identity, 0, 0),
    SRV("hide-version", K_BOOL, hide_version, 0, 0),
    SRV("identity", K_STR, identity, 0, STR_MAX),
    SRV("version", K_STR, version, 0, STR_MAX),
    SRV("cache-min-ttl", K_SECS, cache_min_ttl, 0, TTL_MAX),
    SRV("cache-max-ttl", K_SECS, cache_max_ttl, 0, TTL_MAX),
    SRV("cache-max-negative-ttl", K_SECS, cache_max_negative_ttl, 0, TTL_MAX),
    SRV("qname-minimisation", K_BOOL, qname_minimisation, 0, 0),
    ENTRY(RD__SEC_ZONE, "name", K_NAME, false),
    ENTRY(RD__SEC_ZONE, "file", K_ZONEFILE, false),
    ENTRY(RD__SEC_FORWARD, "name", K_NAME, false),
    ENTRY(RD__SEC_FORWARD, "upstream", K_UPSTREAM, true),
    ENTRY(RD__SEC_FORWARD, "tls-pin", K_PIN, true),
    ENTRY(RD__SEC_FORWARD, "forward-first", K_FWDFIRST, false),
    ENTRY(RD__SEC_STUB, "name", K_NAME, false),
    ENTRY(RD__SEC_STUB, "server", K_STUBADDR, true),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS <= RD__NKEYS, "RD__NKEYS must cover the key table");

static const char *const section_names[] = {"", "server", "zone", "forward", "stub"};

const char *rd__section_name(int section)
{
    return section_names[section];
}

int rd__section_by_name(const char *s, size_t len)
{
    for (int i = RD__SEC_SERVER; i <= RD__SEC_STUB; i++)
        if (strlen(section_names[i]) == len && memcmp(section_names[i], s, len) == 0) return i;
    return RD__SEC_NONE;
}

static const keydef_t *find_key(const char *key, size_t len, int section)
{
    for (size_t i = 0; i < NKEYS; i++)
        if ((section < 0 || keys[i].section == section) && strlen(keys[i].name) == len &&
            memcmp(keys[i].name, key, len) == 0)
            return &keys[i];
    return NULL;
}

bool rd__key_known(const char *key, size_t len)
{
    return find_key(key, len, -1) != NULL;
}

unsigned rd__seen(const rd__parser_t *p, int section, const char *key)
{
    const keydef_t *k = find_key(key, strlen(key), section);
    return k ? p->seen[k - keys] : 0;
}

void rd__seen_reset(rd__parser_t *p)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].section != RD__SEC_SERVER) p->seen[i] = 0;
}

int rd__grow(void **arr, size_t n, size_t size)
{
    if (n != 0 && (n < 4 || (n & (n - 1)) != 0)) return 0;
    size_t cap = n < 4 ? 4 : 2 * n;
    void *na = realloc(*arr, cap * size);
    if (!na) return RD_ENOMEM;
    *arr = na;
    return 0;
}

int rd__limit(rd__parser_t *p, const char *key, size_t n)
{
    if (n < RD_CONF_REPEAT_MAX) return 0;
    return rd__fail(p, p->line, key, RD_ELIMIT, "more than %u entries", RD_CONF_REPEAT_MAX);
}

/* ---- value readers ---- */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Leading decimal digits: *i past them; RD_ERANGE on overflow (digits still consumed). */
static int digits(const char *s, size_t len, size_t *i, uint64_t *v)
{
    uint64_t x = 0;
    bool over = false;
    size_t start = *i;
    for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
        unsigned d = (unsigned)(s[*i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            over = true;
        else
            x = x * 10 + d;
    }
    if (*i == start) return RD_ESYNTAX;
    *v = x;
    return over ? RD_ERANGE : 0;
}

static int read_number(const char *s, size_t len, uint64_t *v)
{
    size_t i = 0;
    int r = digits(s, len, &i, v);
    return i != len ? RD_ESYNTAX : r;
}

static int read_size(const char *s, size_t len, uint64_t *v)
{
    size_t i = 0;
    uint64_t x = 0, mul = 1;
    int r = digits(s, len, &i, &x);
    if (r == RD_ESYNTAX) return r;
    if (i < len) {
        switch (lower(s[i])) {
        case 'k': mul = KIB, i++; break;
        case 'm': mul = MIB, i++; break;
        case 'g': mul = KIB * MIB, i++; break;
        case 't': mul = TIB, i++; break;
        default: break;
        }
    }
    if (i < len && lower(s[i]) == 'b') i++;
    if (i != len) return RD_ESYNTAX;
    if (r || x > UINT64_MAX / mul) return RD_ERANGE;
    *v = x * mul;
    return 0;
}

/* A duration in milliseconds. */
static int read_duration(const char *s, size_t len, uint64_t *ms)
{
    static const struct {
        const char *suffix;
        uint64_t mul;
    } units[] = {{"", 1000},   {"ms", 1},      {"s", 1000},
                 {"m", 60000}, {"h", HOUR_MS}, {"d", 24 * HOUR_MS}};
    size_t i = 0;
    uint64_t x = 0;
    int r = digits(s, len, &i, &x);
    if (r == RD_ESYNTAX) return r;
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        size_t sl = strlen(units[u].suffix);
        if (len - i != sl) continue;
        bool same = true;
        for (size_t k = 0; k < sl; k++) same &= lower(s[i + k]) == units[u].suffix[k];
        if (!same) continue;
        if (r || x > UINT64_MAX / units[u].mul) return RD_ERANGE;
        *ms = x * units[u].mul;
        return 0;
    }
    return RD_ESYNTAX;
}

static void fmt_size(char *out, size_t cap, uint64_t v)
{
    static const char units[] = "tgmk";
    for (int u = 0; u < 4; u++) {
        uint64_t m = 1ull << (10 * (4 - u));
        if (v && v % m == 0) {
            snprintf(out, cap, "%llu%c", (unsigned long long)(v / m), units[u]);
            return;
        }
    }
    snprintf(out, cap, "%llu", (unsigned long long)v);
}

static void fmt_ms(char *out, size_t cap, uint64_t v)
{
    if (v && v % HOUR_MS == 0)
        snprintf(out, cap, "%lluh", (unsigned long long)(v / HOUR_MS));
    else if (v && v % 60000 == 0)
        snprintf(out, cap, "%llum", (unsigned long long)(v / 60000));
    else if (v % 1000 == 0)
        snprintf(out, cap, "%llus", (unsigned long long)(v / 1000));
    else
        snprintf(out, cap, "%llums", (unsigned long long)v);
}

static void store_uint(void *field, size_t size, uint64_t v)
{
    switch (size) {
    case 1: *(uint8_t *)field = (uint8_t)v; break;
    case 2: *(uint16_t *)field = (uint16_t)v; break;
    case 4: *(uint32_t *)field = (uint32_t)v; break;
    default: *(uint64_t *)field = v; break;
    }
}

int rd__bool(rd__parser_t *p, const char *key, const char *v, size_t vlen, bool *out)
{
    if (vlen == 3 && memcmp(v, "yes", 3) == 0) {
        *out = true;
        return 0;
    }
    if (vlen == 2 && memcmp(v, "no", 2) == 0) {
        *out = false;
        return 0;
    }
    char q[80];
    rd__quote(q, sizeof(q), v, vlen);
    return rd__fail(p, p->line, key, RD_ESYNTAX, "expected yes or no, got %s", q);
}

int rd__path(rd__parser_t *p, const char *key, const char *v, size_t vlen, char **field)
{
    if (vlen == 0) return rd__fail(p, p->line, key, RD_ESYNTAX, "expected a path, got ''");
    bool join = v[0] != '/' && p->dir;
    size_t n = join ? p->dirlen + 1 + vlen : vlen;
    if (n >= RD_CONF_PATH_MAX)
        return rd__fail(p, p->line, key, RD_ELIMIT, "path longer than %u characters%s",
                        RD_CONF_PATH_MAX - 1, join ? " (joined to the file's directory)" : "");
    char *s = malloc(n + 1);
    if (!s) return rd__fail(p, p->line, key, RD_ENOMEM, "out of memory");
    if (join) {
        memcpy(s, p->dir, p->dirlen);
        s[p->dirlen] = '/';
        memcpy(s + p->dirlen + 1, v, vlen);
    } else {
        memcpy(s, v, vlen);
    }
    s[n] = '\0';
    free(*field);
    *field = s;
    return 0;
}

static int set_string(rd__parser_t *p, const keydef_t *k, const char *v, size_t vlen, char **field)
{
    if (vlen < k->min || vlen > k->max) {
        if (vlen == 0) return rd__fail(p, p->line, k->name, RD_ESYNTAX, "expected a value");
        return rd__fail(p, p->line, k->name, RD_ELIMIT, "longer than %llu characters",
                        (unsigned long long)k->max);
    }
    char *s = malloc(vlen + 1);
    if (!s) return rd__fail(p, p->line, k->name, RD_ENOMEM, "out of memory");
    memcpy(s, v, vlen);
    s[vlen] = '\0';
    free(*field);
    *field = s;
    return 0;
}

static int add_addr(rd__parser_t *p, const keydef_t *k, const char *v, size_t vlen)
{
    void **arr = (void **)((char *)p->c + k->off);
    size_t *n = (size_t *)((char *)p->c + k->off_n);
    rd_addr_t a;
    int r = rd_addr_parse(v, vlen, k->port, &a);
    if (r) {
        char q[80];
        rd__quote(q, sizeof(q), v, vlen);
        return rd__fail(p, p->line, k->name, r,
                        "expected an IPv4 or IPv6 address with an optional @port (default %u), "
                        "got %s",
                        k->port, q);
    }
    if ((r = rd__limit(p, k->name, *n))) return r;
    if (rd__grow(arr, *n, sizeof(rd_addr_t)))
        return rd__fail(p, p->line, k->name, RD_ENOMEM, "out of memory");
    ((rd_addr_t *)*arr)[(*n)++] = a;
    return 0;
}

static int add_acl(rd__parser_t *p, const keydef_t *k, const char *v, size_t vlen)
{
    rd_conf_t *c = p->c;
    rd_acl_rule_t rule;
    char why[RD_CONF_WHY_MAX];
    int r = rd__acl_parse(v, vlen, &rule, why, sizeof(why));
    if (r) return rd__fail(p, p->line, k->name, r, "%s", why);
    if ((r = rd__limit(p, k->name, c->nacl))) return r;
    if (rd__grow((void **)&c->acl, c->nacl, sizeof(*c->acl)))
        return rd__fail(p, p->line, k->name, RD_ENOMEM, "out of memory");
    c->acl[c->nacl++] = rule;
    return 0;
}

/* The value of a server: key (or the entry keys, handed to conf_sections.c). */
static int set_value(rd__parser_t *p, const keydef_t *k, const char *v, size_t vlen)
{
    void *field = (char *)p->c + k->off;
    char q[80], lo[24], hi[24];
    uint64_t x = 0;
    int r;
    rd__quote(q, sizeof(q), v, vlen);
    switch ((enum kind)k->kind) {
    case K_ADDRS:
        r = add_addr(p, k, v, vlen);
        if (r == 0 && k->off == offsetof(rd_conf_t, listen)) p->listen_given = true;
        if (r == 0 && k->off == offsetof(rd_conf_t, listen_tls) && !p->listen_tls_line)
            p->listen_tls_line = p->line;
        if (r == 0 && k->off == offsetof(rd_conf_t, listen_https) && !p->listen_https_line)
            p->listen_https_line = p->line;
        return r;
    case K_ACL: return add_acl(p, k, v, vlen);
    case K_PATH: return rd__path(p, k->name, v, vlen, field);
    case K_STR: return set_string(p, k, v, vlen, field);
    case K_WEBPATH:
        if (!rd__url_path_ok(v, vlen))
            return rd__fail(p, p->line, k->name, RD_ESYNTAX,
                            "expected a URL path starting with '/' (no '?', '#', '@' or blanks), "
                            "got %s",
                            q);
        return set_string(p, &(keydef_t){.name = k->name, .min = 1, .max = 1024}, v, vlen, field);
    case K_BOOL: return rd__bool(p, k->name, v, vlen, field);
    case K_LOGLEVEL: {
        static const char *const levels[] = {"error", "warn", "info", "debug"};
        for (int i = 0; i < 4; i++)
            if (strlen(levels[i]) == vlen && memcmp(levels[i], v, vlen) == 0) {
                *(int *)field = i;
                return 0;
            }
        return rd__fail(p, p->line, k->name, RD_ESYNTAX,
                        "expected error, warn, info or debug, got %s", q);
    }
    case K_THREADS:
        if (vlen == 4 && memcmp(v, "auto", 4) == 0) {
            store_uint(field, k->size, 0);
            return 0;
        }
        __attribute__((fallthrough));
    case K_UINT:
        r = read_number(v, vlen, &x);
        if (r == 0 && (x < k->min || x > k->max)) r = RD_ERANGE;
        if (r)
            return rd__fail(p, p->line, k->name, r, "expected a number from %llu to %llu, got %s",
                            (unsigned long long)k->min, (unsigned long long)k->max, q);
        store_uint(field, k->size, x);
        return 0;
    case K_SIZE:
        r = read_size(v, vlen, &x);
        if (r == 0 && (x < k->min || x > k->max || x > SIZE_MAX)) r = RD_ERANGE;
        if (r) {
            fmt_size(lo, sizeof(lo), k->min);
            fmt_size(hi, sizeof(hi), k->max);
            return rd__fail(p, p->line, k->name, r,
                            "expected a size from %s to %s (bytes, or a k, m, g or t suffix), "
                            "got %s",
                            lo, hi, q);
        }
        store_uint(field, k->size, x);
        return 0;
    case K_MS:
        r = read_duration(v, vlen, &x);
        if (r == 0 && (x < k->min || x > k->max)) r = RD_ERANGE;
        if (r) {
            fmt_ms(lo, sizeof(lo), k->min);
            fmt_ms(hi, sizeof(hi), k->max);
            return rd__fail(p, p->line, k->name, r,
                            "expected a duration from %s to %s (seconds, or an ms, s, m, h or d "
                            "suffix), got %s",
                            lo, hi, q);
        }
        store_uint(field, k->size, x);
        return 0;
    case K_SECS:
        r = read_duration(v, vlen, &x);
        if (r == 0 && x % 1000) r = RD_ESYNTAX;
        if (r == 0 && (x / 1000 < k->min || x / 1000 > k->max)) r = RD_ERANGE;
        if (r)
            return rd__fail(p, p->line, k->name, r,
                            "expected whole seconds from %llu to %llu (or an s, m, h or d suffix), "
                            "got %s",
                            (unsigned long long)k->min, (unsigned long long)k->max, q);
        store_uint(field, k->size, x / 1000);
        if (k->off == offsetof(rd_conf_t, cache_min_ttl)) p->min_ttl_line = p->line;
        if (k->off == offsetof(rd_conf_t, cache_max_ttl)) p->max_ttl_line = p->line;
        return 0;
    case K_NAME: return rd__set_name(p, k->name, v, vlen);
    case K_ZONEFILE: return rd__set_zone_file(p, k->name, v, vlen);
    case K_UPSTREAM: return rd__add_upstream(p, k->name, v, vlen);
    case K_PIN: return rd__add_pin(p, k->name, v, vlen);
    case K_FWDFIRST: return rd__set_forward_first(p, k->name, v, vlen);
    case K_STUBADDR: return rd__add_stub_server(p, k->name, v, vlen);
    }
    return rd__fail(p, p->line, k->name, RD_EBUG, "internal error: key kind %u", k->kind);
}

/* "(it belongs in zone:, forward: or stub:)" for a key of other sections. */
static void homes(char *out, size_t cap, const char *key, size_t klen)
{
    int found[4], n = 0;
    for (int s = RD__SEC_SERVER; s <= RD__SEC_STUB; s++)
        if (find_key(key, klen, s)) found[n++] = s;
    size_t w = (size_t)snprintf(out, cap, "it belongs in ");
    for (int i = 0; i < n && w < cap; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%s:",
                              i == 0       ? ""
                              : i == n - 1 ? " or "
                                           : ", ",
                              section_names[found[i]]);
}

int rd__key(rd__parser_t *p, const char *key, size_t klen, const char *v, size_t vlen, bool quoted)
{
    char kname[64], where[96];
    snprintf(kname, sizeof(kname), "%.*s", (int)(klen < 63 ? klen : 63), key);
    const keydef_t *k = find_key(key, klen, p->section);
    if (!k) {
        bool elsewhere = find_key(key, klen, -1) != NULL;
        if (elsewhere) homes(where, sizeof(where), key, klen);
        if (p->section == RD__SEC_NONE && elsewhere)
            return rd__fail(p, p->line, kname, RD_ESYNTAX, "outside any section (%s)", where);
        if (p->section == RD__SEC_NONE)
            return rd__fail(p, p->line, kname, RD_ESYNTAX,
                            "unknown key, outside any section (expected server:, zone:, "
                            "forward: or stub: first)");
        if (elsewhere)
            return rd__fail(p, p->line, kname, RD_ESYNTAX, "not allowed in a %s: section (%s)",
                            section_names[p->section], where);
        if (rd__section_by_name(key, klen))
            return rd__fail(p, p->line, kname, RD_ESYNTAX,
                            "a section header stands alone on its line");
        return rd__fail(p, p->line, kname, RD_ESYNTAX, "unknown key in a %s: section",
                        section_names[p->section]);
    }
    if (!quoted && vlen == 0) return rd__fail(p, p->line, kname, RD_ESYNTAX, "expected a value");
    size_t idx = (size_t)(k - keys);
    if (!k->repeat && p->seen[idx])
        return rd__fail(p, p->line, kname, RD_ESYNTAX, "already set at line %u", p->seen[idx]);
    int r = set_value(p, k, v, vlen);
    if (r == 0 && !p->seen[idx]) p->seen[idx] = p->line;
    return r;
}

static int add_default_listeners(rd__parser_t *p)
{
    rd_conf_t *d = NULL;
    int r = rd_conf_default(&d);
    for (size_t i = 0; r == 0 && i < d->nlisten; i++) {
        r = rd__grow((void **)&p->c->listen, p->c->nlisten, sizeof(rd_addr_t));
        if (r == 0) p->c->listen[p->c->nlisten++] = d->listen[i];
    }
    rd_conf_free(d);
    return r ? rd__fail(p, 0, "", RD_ENOMEM, "out of memory") : 0;
}

int rd__finish(rd__parser_t *p)
{
    rd_conf_t *c = p->c;
    int r = rd__section_end(p);
    if (r) return r;
    p->section = RD__SEC_NONE;
    if (!p->listen_given && (r = add_default_listeners(p))) return r;

    unsigned cert = rd__seen(p, RD__SEC_SERVER, "tls-certificate");
    unsigned key = rd__seen(p, RD__SEC_SERVER, "tls-key");
    if (cert && !key)
        return rd__fail(p, cert, "tls-certificate", RD_ESYNTAX, "needs tls-key as well");
    if (key && !cert)
        return rd__fail(p, key, "tls-key", RD_ESYNTAX, "needs tls-certificate as well");
    /* listen-tls/listen-https without a certificate: resolverd makes a self-signed one in
     * state-dir at start (issue 7, src/net/tls_cert.c). */

    if (c->cache_min_ttl > c->cache_max_ttl) {
        if (p->min_ttl_line > p->max_ttl_line)
            return rd__fail(p, p->min_ttl_line, "cache-min-ttl", RD_ERANGE,
                            "%us is more than cache-max-ttl (%us)", (unsigned)c->cache_min_ttl,
                            (unsigned)c->cache_max_ttl);
        return rd__fail(p, p->max_ttl_line, "cache-max-ttl", RD_ERANGE,
                        "%us is less than cache-min-ttl (%us)", (unsigned)c->cache_max_ttl,
                        (unsigned)c->cache_min_ttl);
    }
    return 0;
}
