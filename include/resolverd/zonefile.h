/* RFC 1035 s5 master files: $ORIGIN, $TTL, $INCLUDE, parentheses, comments, quoted strings,
 * escapes, relative names, @, omitted owner/TTL/class, RFC 3597 generic rdata. */
#ifndef RESOLVERD_ZONEFILE_H
#define RESOLVERD_ZONEFILE_H

#include "resolverd/base.h"
#include "resolverd/name.h"

/* One record as read; pointers are valid during the callback only. */
typedef struct {
    const uint8_t *owner; /* uncompressed wire name */
    uint16_t type;
    uint16_t rclass;
    uint32_t ttl;
    const uint8_t *rdata; /* uncompressed wire rdata */
    uint16_t rdlen;
    const char *file;
    unsigned line;
} rd_zrr_t;

/* Return 0 to go on; a negative value stops the parse and is returned by rd_zone_parse_*. */
typedef int (*rd_zone_rr_cb)(void *ctx, const rd_zrr_t *rr);

typedef struct {
    char file[256];
    unsigned line, col; /* 1-based */
    int code;           /* RD_E... */
    char msg[200];      /* what was expected */
} rd_zone_error_t;

/* Called for each error; return 0 to go on with the next record, negative to stop. */
typedef int (*rd_zone_err_cb)(void *ctx, const rd_zone_error_t *err);

typedef struct {
    const uint8_t *origin;      /* initial $ORIGIN (wire); NULL: relative names are errors until
                                   a $ORIGIN line */
    uint32_t default_ttl;       /* used before any $TTL when a record has no TTL (RFC 2308 s4:
                                   the SOA minimum is the classic fallback; we take this value) */
    uint16_t default_class;     /* RD_CLASS_IN when 0 */
    unsigned max_include_depth; /* 0: 8 */
    bool allow_include;         /* $INCLUDE honoured (false: an error) */
    rd_zone_rr_cb on_rr;
    rd_zone_err_cb on_error; /* NULL: errors are counted only */
    void *ctx;
} rd_zone_opts_t;

/* Parses a file. Returns the number of errors (0: clean) or a negative RD_E code when the file
 * cannot be read or a callback stopped the parse. A bad record is reported and skipped; the
 * rest of the file is still read. */
int rd_zone_parse_file(const char *path, const rd_zone_opts_t *opts);
/* Same for text in memory; name is used in error messages; $INCLUDE paths are relative to the
 * current directory. */
int rd_zone_parse_mem(const char *text, size_t len, const char *name, const rd_zone_opts_t *opts);

#endif
