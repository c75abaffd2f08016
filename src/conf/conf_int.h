/* Internal interface of the configuration module (src/conf/), shared by its files only.
 *
 * addr.c      IPv4/IPv6 text forms (RFC 4291 s2.2 in, RFC 5952 out), "ADDR@PORT"
 * acl.c       access-control rules: "NET[/PREFIX] ACTION", longest-prefix match
 * upstream.c  forwarder URIs (udp://, tcp://, tls://, https://) and tls-pin values
 * conf_parse.c  the file: lines, sections, quoting, errors, defaults, memory
 * conf_keys.c   the key table: which key lives in which section and how its value reads */
#ifndef RD_CONF_CONF_INT_H
#define RD_CONF_CONF_INT_H

#include "base/limits.h"
#include <stdarg.h>

#include "resolverd/conf.h"

/* Limits: src/base/limits.h (RD_CONF_*). */

/* ---- addr.c ---- */
/* An IPv4 or IPv6 address without port or scope; out->port = 0. RD_ESYNTAX or RD_ERANGE. */
int rd__ip_parse(const char *s, size_t len, rd_addr_t *out);
/* A port 1..65535 in decimal without leading zeros. RD_ESYNTAX or RD_ERANGE. */
int rd__port_parse(const char *s, size_t len, uint16_t *port);
/* True for ::ffff:0:0/96 (RFC 4291 s2.5.5.2). */
bool rd__addr_is_mapped(const rd_addr_t *a);

/* ---- acl.c ---- */
/* "NET[/PREFIX] allow|refuse|deny"; on error a sentence in why. ::ffff:a.b.c.d/96+n rules
 * become a.b.c.d/n, since mapped clients are matched as IPv4. */
int rd__acl_parse(const char *s, size_t len, rd_acl_rule_t *out, char *why, size_t cap);

/* ---- upstream.c ---- */
/* One upstream URI; strings in out are allocated (rd_conf_upstream_free). npins = 0. */
int rd__upstream_parse(const char *s, size_t len, rd_conf_upstream_t *out, char *why, size_t cap);
/* Base64 (RFC 4648 s4, padded, canonical) of exactly 32 octets: an SPKI SHA-256. */
bool rd__pin_ok(const char *s, size_t len);
/* A host name: dot-separated labels of letters, digits, '-' and '_', 1..63 each, at most 253
 * characters, an optional final dot. */
bool rd__hostname_ok(const char *s, size_t len);
/* An absolute URL path: '/' then RFC 3986 pchar characters (no '?', '#', '@' or blanks). */
bool rd__url_path_ok(const char *s, size_t len);

/* ---- conf_parse.c ---- */
/* Writes 'value' (with the quotes) for messages: at most ~48 characters then "...",
 * unprintable octets as \xNN. */
void rd__quote(char *out, size_t cap, const char *s, size_t len);

/* ---- conf_keys.c and conf_sections.c: what conf_parse.c drives ---- */
enum { RD__SEC_NONE = 0, RD__SEC_SERVER, RD__SEC_ZONE, RD__SEC_FORWARD, RD__SEC_STUB };

#define RD__NKEYS 40 /* at least the number of rows of the key table */

typedef struct {
    uint32_t idx1; /* index + 1 into the section's array; 0 is an empty slot */
    uint32_t line; /* where its name: was given */
} rd__nameslot_t;

typedef struct {
    rd__nameslot_t *slots;
    size_t cap, used; /* cap is 0 or a power of two */
} rd__nameset_t;

typedef struct rd__parser {
    rd_conf_t *c;
    rd_conf_error_t *err;
    const char *name; /* the file as named in messages */
    const char *dir;  /* relative paths are joined to this; NULL: kept as written */
    size_t dirlen;
    unsigned line; /* the line being read */
    int section;   /* RD__SEC_* */
    unsigned section_line;
    unsigned seen[RD__NKEYS]; /* line where each single-valued key was set in this scope */
    unsigned upstream_line;   /* line of the current forward's last upstream, 0: none */
    unsigned min_ttl_line, max_ttl_line;
    unsigned listen_tls_line, listen_https_line;
    bool listen_given;
    rd__nameset_t names[3]; /* zone, forward, stub names seen, for duplicates */
} rd__parser_t;

/* Fills p->err and returns code. key may be "" (then "file:line: what"). */
__attribute__((format(printf, 5, 6))) int rd__fail(rd__parser_t *p, unsigned line, const char *key,
                                                   int code, const char *fmt, ...);
/* A section header at p->line: closes the previous section (checks it is complete) and opens
 * the new one. */
int rd__section_begin(rd__parser_t *p, int section);
int rd__section_end(rd__parser_t *p);
/* "key: value" at p->line; value is unescaped (quoted says whether it was quoted). */
int rd__key(rd__parser_t *p, const char *key, size_t keylen, const char *v, size_t vlen,
            bool quoted);
/* After the last line: checks across keys. */
int rd__finish(rd__parser_t *p);
int rd__section_by_name(const char *s, size_t len);
/* True when some section has this key. */
bool rd__key_known(const char *key, size_t len);
void rd__parser_free(rd__parser_t *p);

/* conf_keys.c, for conf_sections.c: value readers that report their own errors, the growth of
 * arrays (capacity 4, doubled whenever the count reaches a power of two), and the bookkeeping
 * of single-valued keys. */
int rd__grow(void **arr, size_t n, size_t size);
int rd__bool(rd__parser_t *p, const char *key, const char *v, size_t vlen, bool *out);
int rd__path(rd__parser_t *p, const char *key, const char *v, size_t vlen, char **field);
int rd__limit(rd__parser_t *p, const char *key, size_t n);
/* Line where key was set in the current section (0: not yet). */
unsigned rd__seen(const rd__parser_t *p, int section, const char *key);
/* Forgets what the previous zone:/forward:/stub: section set. */
void rd__seen_reset(rd__parser_t *p);
const char *rd__section_name(int section);

/* conf_sections.c: the keys of zone:, forward: and stub: entries. */
int rd__set_name(rd__parser_t *p, const char *key, const char *v, size_t vlen);
int rd__set_zone_file(rd__parser_t *p, const char *key, const char *v, size_t vlen);
int rd__add_upstream(rd__parser_t *p, const char *key, const char *v, size_t vlen);
int rd__add_pin(rd__parser_t *p, const char *key, const char *v, size_t vlen);
int rd__set_forward_first(rd__parser_t *p, const char *key, const char *v, size_t vlen);
int rd__add_stub_server(rd__parser_t *p, const char *key, const char *v, size_t vlen);

#endif
