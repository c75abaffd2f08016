/* Master-file lexer (RFC 1035 s5.1): cuts text into logical records of raw tokens. Internal to
 * src/wire (zonefile.c). Tokens point into the caller's buffer and keep their escapes; the
 * name and rdata parsers decode them. */
#ifndef RD_WIRE_ZONELEX_H
#define RD_WIRE_ZONELEX_H

#include "resolverd/base.h"
#include "base/limits.h"
#include "resolverd/rrtype.h"

/* Bounds for hostile input (move to src/base/limits.h when it exists). A record needs at most
 * a few hundred tokens (a 64 KiB TXT split in 255-octet strings is 257 of them); a token is at
 * most one 64 KiB rdata in hex or base64 without spaces, rounded to what fits a u16 length. */
#define RD__ZLEX_MAX_TOKENS RD_ZONE_MAX_TOKENS
#define RD__ZLEX_MAX_TOKLEN RD_ZONE_MAX_TOKLEN
#define RD__ZLEX_MSG_MAX    200

/* One source being read: a whole file (or a caller's buffer) in memory. */
typedef struct {
    const char *buf;
    size_t len;
    size_t pos;
    unsigned line, col; /* of buf[pos], 1-based */
    const char *name;   /* for messages and rd_zrr_t.file */
    bool in_memory;     /* not a file: $INCLUDE paths are relative to the current directory */
} rd__zsrc_t;

/* One logical record: its tokens (parentheses, comments and quotes removed). */
typedef struct {
    rd_tok_t tok[RD__ZLEX_MAX_TOKENS];
    unsigned line[RD__ZLEX_MAX_TOKENS], col[RD__ZLEX_MAX_TOKENS]; /* start of each token */
    size_t ntok;
    bool blank_owner;           /* the line starts with a blank: owner omitted (s5.1) */
    unsigned end_line, end_col; /* just past the last token, for "got end of record" */
} rd__zrec_t;

typedef struct {
    unsigned line, col;
    char msg[RD__ZLEX_MSG_MAX];
} rd__zlexerr_t;

enum {
    RD__ZLEX_EOF = 0, /* no more records */
    RD__ZLEX_REC = 1, /* rec holds a record with at least one token */
    RD__ZLEX_ERR = 2, /* err holds the first error of a record that was skipped entirely */
};

/* Reads the next non-empty logical record from src. */
int rd__zlex_record(rd__zsrc_t *src, rd__zrec_t *rec, rd__zlexerr_t *err);

/* Writes s[0..len) for a message: at most ~60 characters, unprintable octets as \DDD, "..."
 * when cut. Always NUL-terminates (cap > 0). */
void rd__zlex_quote(char *out, size_t cap, const char *s, size_t len);

#endif
