/* RFC 1035 s5 master files: directives, owner/TTL/class/type, rdata via the type table, and
 * $INCLUDE. The lexer (zonelex.c) cuts records; this file gives them meaning.
 *
 * Choices where the RFCs leave room (they match BIND's named-checkzone unless said):
 * - A record without a TTL takes $TTL (RFC 2308 s4); without $TTL, the last TTL written on a
 *   record (RFC 1035 s5.1); before either, opts->default_ttl (BIND would use the SOA minimum).
 * - TTLs accept BIND units (1w2d3h4m5s, case-insensitive) and must be <= 2^31-1 (RFC 2181 s8).
 * - The zone's class is the class of the first record read; every later record must match.
 * - $INCLUDE file [origin]: a relative path is relative to the including file's directory;
 *   the origin and the current owner are restored after the include (RFC 1035 s5.1: an include
 *   never changes the parent's origin). Depth is bounded, which also stops include cycles.
 * - A bad record is reported and skipped; so is a line starting with a blank after a record
 *   whose owner was bad (it would otherwise land on the wrong owner, silently). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/file.h"
#include "resolverd/name.h"
#include "resolverd/rrtype.h"
#include "resolverd/zonefile.h"
#include "base/limits.h"
#include "wire/zonelex.h"

#define ZONE_FILE_MAX        RD_ZONE_FILE_MAX
#define ZONE_INCLUDE_DEFAULT RD_ZONE_INCLUDE_DEFAULT
#define ZONE_INCLUDE_CAP     RD_ZONE_INCLUDE_CAP
#define ZONE_TTL_MAX         2147483647u /* RFC 2181 s8 */
#define ZONE_PATH_MAX        RD_ZONE_PATH_MAX
#define ZONE_RDATA_MAX       65535 /* RDLENGTH is 16 bits (RFC 1035 s3.2.1) */

/* Returned by handlers: the error was reported, go on with the next record. */
#define SKIP 1

typedef struct {
    const rd_zone_opts_t *opts;
    int errors;
    unsigned max_depth;
    uint16_t default_class;
    uint16_t zclass;
    bool have_zclass;
    uint32_t dollar_ttl, last_ttl;
    bool have_dollar_ttl, have_last_ttl;
    uint8_t origin[RD_NAME_MAX];
    bool have_origin;
    uint8_t owner[RD_NAME_MAX];
    bool have_owner;
    rd__zrec_t rec;
    uint8_t rdata[ZONE_RDATA_MAX];
} zstate_t;

__attribute__((format(printf, 6, 7))) static int report(zstate_t *st, const rd__zsrc_t *src,
                                                        unsigned line, unsigned col, int code,
                                                        const char *fmt, ...)
{
    rd_zone_error_t e;
    memset(&e, 0, sizeof(e));
    snprintf(e.file, sizeof(e.file), "%s", src->name);
    e.line = line;
    e.col = col;
    e.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
    va_end(ap);
    if (st->errors < 0x7fffffff) st->errors++;
    if (st->opts->on_error) {
        int r = st->opts->on_error(st->opts->ctx, &e);
        if (r < 0) return r;
    }
    return SKIP;
}

/* Reports at token i of the current record, quoting it into the message at %s. */
static int report_tok(zstate_t *st, const rd__zsrc_t *src, size_t i, int code, const char *fmt)
{
    char q[RD__ZLEX_MSG_MAX];
    const rd_tok_t *t = &st->rec.tok[i];
    rd__zlex_quote(q, sizeof(q), t->s, t->len);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    return report(st, src, st->rec.line[i], st->rec.col[i], code, fmt, q);
#pragma GCC diagnostic pop
}

static int report_end(zstate_t *st, const rd__zsrc_t *src, int code, const char *what)
{
    return report(st, src, st->rec.end_line, st->rec.end_col, code,
                  "expected %s, got end of record", what);
}

static bool tok_is(const rd_tok_t *t, const char *word)
{
    return !t->quoted && strlen(word) == t->len && strncasecmp(t->s, word, t->len) == 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* "3600", "1h30m", "2W": RFC 1035 decimal or BIND units. */
static int parse_ttl(const char *s, size_t len, uint32_t *out)
{
    uint64_t total = 0;
    bool units = false;
    size_t i = 0;
    if (len == 0) return RD_ESYNTAX;
    while (i < len) {
        if (!is_digit(s[i])) return RD_ESYNTAX;
        uint64_t v = 0;
        while (i < len && is_digit(s[i])) {
            v = v * 10 + (uint64_t)(s[i++] - '0');
            if (v > ZONE_TTL_MAX) return RD_ERANGE;
        }
        if (i == len) {
            if (units) return RD_ESYNTAX; /* "1h30": BIND wants a unit on every part */
            total = v;
            break;
        }
        uint64_t mult;
        switch (s[i]) {
        case 's':
        case 'S': mult = 1; break;
        case 'm':
        case 'M': mult = 60; break;
        case 'h':
        case 'H': mult = 3600; break;
        case 'd':
        case 'D': mult = 86400; break;
        case 'w':
        case 'W': mult = 604800; break;
        default: return RD_ESYNTAX;
        }
        i++;
        units = true;
        total += v * mult;
        if (total > ZONE_TTL_MAX) return RD_ERANGE;
    }
    *out = (uint32_t)total;
    return 0;
}

static int ttl_or_error(zstate_t *st, const rd__zsrc_t *src, size_t i, uint32_t *ttl)
{
    const rd_tok_t *t = &st->rec.tok[i];
    int r = t->quoted ? RD_ESYNTAX : parse_ttl(t->s, t->len, ttl);
    if (r == RD_ERANGE) return report_tok(st, src, i, r, "TTL '%s' out of range (at most 2^31-1)");
    if (r < 0) return report_tok(st, src, i, r, "bad TTL '%s' (expected seconds or 1w2d3h4m5s)");
    return 0;
}

/* True when the token's last character is an unescaped dot. */
static bool ends_with_dot(const rd_tok_t *t)
{
    if (t->len == 0 || t->s[t->len - 1] != '.') return false;
    size_t bs = 0;
    while (bs + 1 < t->len && t->s[t->len - 2 - bs] == '\\') bs++;
    return bs % 2 == 0;
}

static int name_or_error(zstate_t *st, const rd__zsrc_t *src, size_t i, uint8_t *out)
{
    const rd_tok_t *t = &st->rec.tok[i];
    const uint8_t *origin = st->have_origin ? st->origin : NULL;
    if (!origin && !ends_with_dot(t) && !(t->len == 1 && t->s[0] == '.')) {
        if (t->len == 1 && t->s[0] == '@' && !t->quoted)
            return report_tok(st, src, i, RD_ESYNTAX, "'%s' used but no $ORIGIN is set");
        return report_tok(st, src, i, RD_ESYNTAX, "relative name '%s' but no $ORIGIN is set");
    }
    int r = rd_name_from_text(t->s, t->len, origin, out, NULL);
    switch (r) {
    case 0: return 0;
    case RD_ELABEL: return report_tok(st, src, i, r, "label longer than 63 octets in '%s'");
    case RD_ENAMELEN: return report_tok(st, src, i, r, "name longer than 255 octets: '%s'");
    case RD_ERANGE: return report_tok(st, src, i, r, "escape above \\255 in name '%s'");
    default: return report_tok(st, src, i, r, "bad domain name '%s'");
    }
}

/* ---- rdata errors: say which field was wanted ---- */

static bool field_takes_rest(uint8_t f)
{
    switch (f) {
    case RD_RDF_STRS:
    case RD_RDF_B64:
    case RD_RDF_HEX:
    case RD_RDF_BITMAP:
    case RD_RDF_SVCPARAMS:
    case RD_RDF_QREST:
    case RD_RDF_OPAQUE: return true;
    default: return false;
    }
}

static const char *field_what(uint8_t f)
{
    switch (f) {
    case RD_RDF_NAME_C:
    case RD_RDF_NAME: return "a domain name";
    case RD_RDF_U8: return "a number 0..255";
    case RD_RDF_U16: return "a number 0..65535";
    case RD_RDF_U32: return "a number 0..4294967295";
    case RD_RDF_TTL: return "a TTL";
    case RD_RDF_A: return "an IPv4 address";
    case RD_RDF_AAAA: return "an IPv6 address";
    case RD_RDF_TYPE: return "a type";
    case RD_RDF_TIME: return "a time (YYYYMMDDHHmmSS)";
    case RD_RDF_STR:
    case RD_RDF_STRS: return "a character string";
    case RD_RDF_B64: return "base64";
    case RD_RDF_HEX: return "hex";
    case RD_RDF_SALT: return "a hex salt or '-'";
    case RD_RDF_B32: return "a base32hex hash";
    case RD_RDF_BITMAP: return "a type list";
    case RD_RDF_SVCPARAMS: return "SvcParams";
    case RD_RDF_TAG: return "a tag";
    case RD_RDF_QREST: return "a string";
    default: return "rdata";
    }
}

/* "an IPv4 address" -> "IPv4 address" for "bad %s '%s'". */
static const char *noun(const char *what)
{
    if (strncmp(what, "a ", 2) == 0) return what + 2;
    if (strncmp(what, "an ", 3) == 0) return what + 3;
    return what;
}

static int rdata_error(zstate_t *st, const rd__zsrc_t *src, uint16_t type, size_t first, int code,
                       size_t errtok)
{
    const rd__zrec_t *rec = &st->rec;
    size_t ntok = rec->ntok - first;
    char tname[16], q[RD__ZLEX_MSG_MAX];
    rd_rrtype_to_text(type, tname, sizeof(tname));
    if (code == RD_ESPACE)
        return report(st, src, rec->line[first], rec->col[first], code,
                      "%s rdata longer than 65535 octets", tname);
    if (ntok > 0 && tok_is(&rec->tok[first], "\\#")) {
        if (errtok >= ntok) return report_end(st, src, code, "RFC 3597 '\\# length hex'");
        if (code == RD_ERDATA)
            return report(st, src, rec->line[first], rec->col[first], code,
                          "RFC 3597 rdata does not fit the layout of type %s", tname);
        rd__zlex_quote(q, sizeof(q), rec->tok[first + errtok].s, rec->tok[first + errtok].len);
        return report(st, src, rec->line[first + errtok], rec->col[first + errtok], code,
                      "bad RFC 3597 generic rdata at '%s' (expected '\\# length hex')", q);
    }
    /* Which field was the token for? Fields take one token each, the last may take the rest. */
    const uint8_t *f = rd_rrtype(type)->fields;
    size_t idx = 0;
    const char *what = NULL;
    for (; *f != RD_RDF_END; f++, idx++) {
        if (errtok == idx || (field_takes_rest(*f) && errtok >= idx)) {
            what = field_what(*f);
            break;
        }
    }
    if (errtok >= ntok) {
        char w[96];
        snprintf(w, sizeof(w), "%s in %s rdata", what ? what : "more", tname);
        return report_end(st, src, code, w);
    }
    size_t i = first + errtok;
    rd__zlex_quote(q, sizeof(q), rec->tok[i].s, rec->tok[i].len);
    if (!what)
        return report(st, src, rec->line[i], rec->col[i], code,
                      "unexpected '%s' after the %s rdata", q, tname);
    switch (code) {
    case RD_ELABEL:
        return report(st, src, rec->line[i], rec->col[i], code,
                      "label longer than 63 octets in '%s'", q);
    case RD_ENAMELEN:
        return report(st, src, rec->line[i], rec->col[i], code, "name longer than 255 octets: '%s'",
                      q);
    case RD_ERANGE:
        return report(st, src, rec->line[i], rec->col[i], code, "%s out of range: '%s'", noun(what),
                      q);
    default: return report(st, src, rec->line[i], rec->col[i], code, "bad %s '%s'", noun(what), q);
    }
}

/* ---- records ---- */

static bool looks_like_field(const rd_tok_t *t)
{
    uint16_t v;
    uint32_t ttl;
    if (t->quoted) return false;
    return rd_class_from_text(t->s, t->len, &v) == 0 ||
           rd_rrtype_from_text(t->s, t->len, &v) == 0 || parse_ttl(t->s, t->len, &ttl) == 0;
}

static const char *expect_what(bool have_ttl, bool have_class)
{
    if (!have_ttl && !have_class) return "a TTL or class or type";
    if (!have_ttl) return "a TTL or type";
    if (!have_class) return "a class or type";
    return "a type";
}

static int record(zstate_t *st, const rd__zsrc_t *src)
{
    const rd__zrec_t *rec = &st->rec;
    size_t i = 0;
    int r;
    if (rec->blank_owner) {
        if (!st->have_owner)
            return report(st, src, rec->line[0], 1, RD_ESYNTAX,
                          "expected an owner name at the start of the line (no previous owner)");
    } else {
        r = name_or_error(st, src, 0, st->owner);
        st->have_owner = r == 0;
        if (r) return r;
        i = 1;
    }

    bool have_ttl = false, have_class = false;
    uint32_t ttl = 0;
    uint16_t rclass = 0, type = 0;
    size_t class_i = 0, type_i = 0;
    for (;; i++) {
        if (i >= rec->ntok)
            return report_end(st, src, RD_ESYNTAX, expect_what(have_ttl, have_class));
        const rd_tok_t *t = &rec->tok[i];
        if (!t->quoted && t->len > 0) {
            if (!have_class && (r = rd_class_from_text(t->s, t->len, &rclass)) != RD_ENOTFOUND &&
                r != RD_ESYNTAX) {
                if (r < 0) return report_tok(st, src, i, r, "class number out of range: '%s'");
                have_class = true;
                class_i = i;
                continue;
            }
            if (!have_ttl && is_digit(t->s[0])) {
                if ((r = ttl_or_error(st, src, i, &ttl))) return r;
                have_ttl = true;
                continue;
            }
            if ((r = rd_rrtype_from_text(t->s, t->len, &type)) != RD_ENOTFOUND && r != RD_ESYNTAX) {
                if (r < 0) return report_tok(st, src, i, r, "type number out of range: '%s'");
                type_i = i;
                break;
            }
        }
        /* A word where the type goes (rather than a stray word before it) is an unknown type. */
        if (t->len > 0 && !t->quoted && is_alpha(t->s[0]) &&
            ((have_ttl && have_class) || i + 1 >= rec->ntok || !looks_like_field(&rec->tok[i + 1])))
            return report_tok(st, src, i, RD_ESYNTAX, "unknown type '%s'");
        char fmt[80];
        snprintf(fmt, sizeof(fmt), "expected %s, got '%%s'", expect_what(have_ttl, have_class));
        return report_tok(st, src, i, RD_ESYNTAX, fmt);
    }

    char text[16];
    if (!have_class) rclass = st->have_zclass ? st->zclass : st->default_class;
    if (rclass == RD_CLASS_ANY || rclass == RD_CLASS_NONE) {
        rd_class_to_text(rclass, text, sizeof(text));
        return report(st, src, rec->line[class_i], rec->col[class_i], RD_ESYNTAX,
                      "class %s is not allowed in zone data", text);
    }
    if (st->have_zclass && rclass != st->zclass) {
        char zc[16];
        rd_class_to_text(rclass, text, sizeof(text));
        rd_class_to_text(st->zclass, zc, sizeof(zc));
        return report(st, src, rec->line[class_i], rec->col[class_i], RD_ESYNTAX,
                      "class %s does not match the zone's class %s", text, zc);
    }
    if (rd_rrtype(type)->flags & RD_RRT_META) {
        rd_rrtype_to_text(type, text, sizeof(text));
        return report(st, src, rec->line[type_i], rec->col[type_i], RD_ESYNTAX,
                      "type %s is not allowed in zone data", text);
    }

    size_t first = type_i + 1, rdlen = 0, errtok = 0;
    r = rd_rdata_from_text(type, rec->tok + first, rec->ntok - first,
                           st->have_origin ? st->origin : NULL, st->rdata, sizeof(st->rdata),
                           &rdlen, &errtok);
    if (r < 0) return rdata_error(st, src, type, first, r, errtok);
    if (rdlen > ZONE_RDATA_MAX) return rdata_error(st, src, type, first, RD_ESPACE, 0);

    if (have_ttl) {
        st->last_ttl = ttl;
        st->have_last_ttl = true;
    } else if (st->have_dollar_ttl) {
        ttl = st->dollar_ttl;
    } else if (st->have_last_ttl) {
        ttl = st->last_ttl;
    } else {
        ttl = st->opts->default_ttl;
    }
    st->zclass = rclass;
    st->have_zclass = true;
    if (!st->opts->on_rr) return 0;
    rd_zrr_t zr = {.owner = st->owner,
                   .type = type,
                   .rclass = rclass,
                   .ttl = ttl,
                   .rdata = st->rdata,
                   .rdlen = (uint16_t)rdlen,
                   .file = src->name,
                   .line = rec->line[0]};
    r = st->opts->on_rr(st->opts->ctx, &zr);
    return r < 0 ? r : 0;
}

/* ---- files and directives ---- */

static int read_whole(const char *path, char **out, size_t *outlen, int *err_no)
{
    return rd__file_read(path, ZONE_FILE_MAX, out, outlen, err_no);
}

static const char *errno_text(int e, char *buf, size_t cap)
{
    if (e == EFBIG) return "larger than 256 MiB";
    return strerror_r(e, buf, cap); /* GNU version (-D_GNU_SOURCE) */
}

static int parse_src(zstate_t *st, rd__zsrc_t *src, unsigned depth);

/* Decodes the $INCLUDE path token (\X, \DDD) and makes it relative to the including file. */
static int include_path(zstate_t *st, const rd__zsrc_t *src, char *path)
{
    const rd_tok_t *t = &st->rec.tok[1];
    size_t n = 0;
    if (t->len > 0 && t->s[0] != '/' && !src->in_memory) {
        const char *slash = strrchr(src->name, '/');
        if (slash) {
            n = (size_t)(slash - src->name) + 1;
            if (n >= ZONE_PATH_MAX) goto toolong;
            memcpy(path, src->name, n);
        }
    }
    for (size_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->s[i];
        if (c == '\\' && i + 1 < t->len) {
            c = (unsigned char)t->s[++i];
            if (is_digit((char)c) && i + 2 < t->len && is_digit(t->s[i + 1]) &&
                is_digit(t->s[i + 2])) {
                unsigned v = (unsigned)(c - '0') * 100 + (unsigned)(t->s[i + 1] - '0') * 10 +
                             (unsigned)(t->s[i + 2] - '0');
                if (v > 255) return report_tok(st, src, 1, RD_ESYNTAX, "bad escape in '%s'");
                c = (unsigned char)v;
                i += 2;
            }
        }
        if (c == 0) return report_tok(st, src, 1, RD_ESYNTAX, "NUL in file name '%s'");
        if (n + 1 >= ZONE_PATH_MAX) goto toolong;
        path[n++] = (char)c;
    }
    if (n == 0) return report_tok(st, src, 1, RD_ESYNTAX, "empty $INCLUDE file name '%s'");
    path[n] = '\0';
    return 0;
toolong:
    return report_tok(st, src, 1, RD_ELIMIT, "$INCLUDE path too long: '%s'");
}

static int include(zstate_t *st, rd__zsrc_t *src, unsigned depth)
{
    const rd__zrec_t *rec = &st->rec;
    uint8_t new_origin[RD_NAME_MAX], saved_origin[RD_NAME_MAX], saved_owner[RD_NAME_MAX];
    char *path = NULL, *buf = NULL;
    size_t len = 0;
    int r, err_no = 0;

    if (!st->opts->allow_include)
        return report(st, src, rec->line[0], rec->col[0], RD_EINVAL,
                      "$INCLUDE is not allowed here");
    if (rec->ntok < 2) return report_end(st, src, RD_ESYNTAX, "a file name after $INCLUDE");
    if (rec->ntok > 3)
        return report_tok(st, src, 3, RD_ESYNTAX, "unexpected '%s' after $INCLUDE file origin");
    if (depth + 1 > st->max_depth)
        return report(st, src, rec->line[0], rec->col[0], RD_ELIMIT,
                      "$INCLUDE nested more than %u deep (include loop?)", st->max_depth);
    if (rec->ntok == 3 && (r = name_or_error(st, src, 2, new_origin))) return r;
    path = malloc(ZONE_PATH_MAX);
    if (!path) return RD_ENOMEM;
    if ((r = include_path(st, src, path))) goto out;
    r = read_whole(path, &buf, &len, &err_no);
    if (r == RD_ENOMEM) goto out;
    if (r < 0) {
        char q[RD__ZLEX_MSG_MAX], eb[128];
        rd__zlex_quote(q, sizeof(q), rec->tok[1].s, rec->tok[1].len);
        r = report(st, src, rec->line[1], rec->col[1], r, "cannot open $INCLUDE file '%s': %s", q,
                   errno_text(err_no, eb, sizeof(eb)));
        goto out;
    }

    bool had_origin = st->have_origin, had_owner = st->have_owner;
    memcpy(saved_origin, st->origin, sizeof(saved_origin));
    memcpy(saved_owner, st->owner, sizeof(saved_owner));
    if (rec->ntok == 3) {
        memcpy(st->origin, new_origin, sizeof(new_origin));
        st->have_origin = true;
    }
    rd__zsrc_t sub = {.buf = buf, .len = len, .line = 1, .col = 1, .name = path};
    r = parse_src(st, &sub, depth + 1); /* rec now holds the included file's last record */
    memcpy(st->origin, saved_origin, sizeof(saved_origin));
    memcpy(st->owner, saved_owner, sizeof(saved_owner));
    st->have_origin = had_origin;
    st->have_owner = had_owner;
out:
    free(buf);
    free(path);
    return r < 0 ? r : 0;
}

static int directive(zstate_t *st, rd__zsrc_t *src, unsigned depth)
{
    const rd__zrec_t *rec = &st->rec;
    const rd_tok_t *d = &rec->tok[0];
    int r;
    if (tok_is(d, "$INCLUDE")) return include(st, src, depth);
    if (tok_is(d, "$ORIGIN")) {
        uint8_t name[RD_NAME_MAX];
        if (rec->ntok < 2) return report_end(st, src, RD_ESYNTAX, "a domain name after $ORIGIN");
        if (rec->ntok > 2)
            return report_tok(st, src, 2, RD_ESYNTAX, "unexpected '%s' after $ORIGIN");
        if ((r = name_or_error(st, src, 1, name))) return r;
        memcpy(st->origin, name, sizeof(name));
        st->have_origin = true;
        return 0;
    }
    if (tok_is(d, "$TTL")) {
        uint32_t ttl;
        if (rec->ntok < 2) return report_end(st, src, RD_ESYNTAX, "a TTL after $TTL");
        if (rec->ntok > 2) return report_tok(st, src, 2, RD_ESYNTAX, "unexpected '%s' after $TTL");
        if ((r = ttl_or_error(st, src, 1, &ttl))) return r;
        st->dollar_ttl = ttl;
        st->have_dollar_ttl = true;
        return 0;
    }
    return report_tok(st, src, 0, RD_ESYNTAX,
                      "unknown directive '%s' (expected $ORIGIN, $TTL or $INCLUDE)");
}

static int parse_src(zstate_t *st, rd__zsrc_t *src, unsigned depth)
{
    rd__zrec_t *rec = &st->rec;
    rd__zlexerr_t lerr;
    int r;
    for (;;) {
        bool is_dir;
        switch (rd__zlex_record(src, rec, &lerr)) {
        case RD__ZLEX_EOF: return 0;
        case RD__ZLEX_ERR:
            r = report(st, src, lerr.line, lerr.col, RD_ESYNTAX, "%s", lerr.msg);
            if (r < 0) return r;
            /* The owner of a broken record still becomes the current owner when it can be
             * read; otherwise the following blank-led lines are refused, not misattributed. */
            if (!rec->blank_owner && !(rec->ntok > 0 && !rec->tok[0].quoted &&
                                       rec->tok[0].len > 0 && rec->tok[0].s[0] == '$')) {
                const uint8_t *origin = st->have_origin ? st->origin : NULL;
                st->have_owner = rec->ntok > 0 && rd_name_from_text(rec->tok[0].s, rec->tok[0].len,
                                                                    origin, st->owner, NULL) == 0;
            }
            continue;
        default: break;
        }
        is_dir = !rec->blank_owner && !rec->tok[0].quoted && rec->tok[0].len > 0 &&
                 rec->tok[0].s[0] == '$';
        r = is_dir ? directive(st, src, depth) : record(st, src);
        if (r < 0) return r;
    }
}

static int parse_begin(zstate_t **out, const rd_zone_opts_t *opts)
{
    size_t olen;
    if (!opts) return RD_EINVAL;
    if (opts->origin && rd_name_check(opts->origin, RD_NAME_MAX, &olen) < 0) return RD_EINVAL;
    zstate_t *st = calloc(1, sizeof(*st));
    if (!st) return RD_ENOMEM;
    st->opts = opts;
    st->max_depth = opts->max_include_depth ? opts->max_include_depth : ZONE_INCLUDE_DEFAULT;
    if (st->max_depth > ZONE_INCLUDE_CAP) st->max_depth = ZONE_INCLUDE_CAP;
    st->default_class = opts->default_class ? opts->default_class : RD_CLASS_IN;
    if (opts->origin) {
        memcpy(st->origin, opts->origin, olen);
        st->have_origin = true;
    }
    *out = st;
    return 0;
}

static int parse_end(zstate_t *st, int r)
{
    int errors = st->errors;
    free(st);
    return r < 0 ? r : errors;
}

int rd_zone_parse_mem(const char *text, size_t len, const char *name, const rd_zone_opts_t *opts)
{
    zstate_t *st;
    int r;
    if (!text && len) return RD_EINVAL;
    if ((r = parse_begin(&st, opts))) return r;
    rd__zsrc_t src = {.buf = text ? text : "",
                      .len = len,
                      .line = 1,
                      .col = 1,
                      .name = name ? name : "<memory>",
                      .in_memory = true};
    return parse_end(st, parse_src(st, &src, 0));
}

int rd_zone_parse_file(const char *path, const rd_zone_opts_t *opts)
{
    zstate_t *st;
    char *buf = NULL, eb[128];
    size_t len = 0;
    int r, err_no = 0;
    if (!path) return RD_EINVAL;
    if ((r = parse_begin(&st, opts))) return r;
    rd__zsrc_t src = {.line = 1, .col = 1, .name = path};
    r = read_whole(path, &buf, &len, &err_no);
    if (r < 0) {
        /* No position: line and column 0. */
        int cr = report(st, &src, 0, 0, r, "cannot open zone file: %s",
                        errno_text(err_no, eb, sizeof(eb)));
        return parse_end(st, cr < 0 ? cr : r);
    }
    src.buf = buf;
    src.len = len;
    r = parse_src(st, &src, 0);
    free(buf);
    return parse_end(st, r);
}
