/* Master-file lexer (RFC 1035 s5.1). One pass, no recursion, no allocation: a logical record
 * is the text up to a newline outside parentheses; ';' starts a comment (also inside
 * parentheses); "..." is one token that may hold blanks, ';' and \" ; \X and \DDD stay in the
 * token text. After the first error in a record the rest of it is skipped (parentheses still
 * counted) so the next record starts where a reader would expect it to. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wire/zonelex.h"

typedef struct {
    rd__zsrc_t *src;
    rd__zrec_t *rec;
    rd__zlexerr_t *err;
    bool failed;
} lex_t;

static inline void advance(rd__zsrc_t *s)
{
    if (s->buf[s->pos] == '\n') {
        s->line++;
        s->col = 1;
    } else {
        s->col++;
    }
    s->pos++;
}

static inline bool at_end(const rd__zsrc_t *s)
{
    return s->pos >= s->len;
}

static inline char peek(const rd__zsrc_t *s)
{
    return s->buf[s->pos];
}

__attribute__((format(printf, 4, 5))) static void fail(lex_t *lx, unsigned line, unsigned col,
                                                       const char *fmt, ...)
{
    if (lx->failed) return; /* only the first error of a record is worth reading */
    lx->failed = true;
    lx->err->line = line;
    lx->err->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->err->msg, sizeof(lx->err->msg), fmt, ap);
    va_end(ap);
}

static void add_token(lex_t *lx, size_t start, size_t len, unsigned line, unsigned col, bool quoted)
{
    rd__zrec_t *r = lx->rec;
    if (lx->failed) return;
    if (len > RD__ZLEX_MAX_TOKLEN) {
        fail(lx, line, col, "token longer than %d characters", RD__ZLEX_MAX_TOKLEN);
        return;
    }
    if (r->ntok == RD__ZLEX_MAX_TOKENS) {
        fail(lx, line, col, "more than %d tokens in one record", RD__ZLEX_MAX_TOKENS);
        return;
    }
    r->tok[r->ntok] = (rd_tok_t){.s = lx->src->buf + start, .len = len, .quoted = quoted};
    r->line[r->ntok] = line;
    r->col[r->ntok] = col;
    r->ntok++;
    r->end_line = lx->src->line;
    r->end_col = lx->src->col;
}

static bool is_delim(char c)
{
    switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case ';':
    case '(':
    case ')':
    case '"':
    case '\0': return true;
    default: return false;
    }
}

static void lex_word(lex_t *lx)
{
    rd__zsrc_t *s = lx->src;
    size_t start = s->pos;
    unsigned line = s->line, col = s->col;
    while (!at_end(s) && !is_delim(peek(s))) {
        if (peek(s) == '\\') {
            if (s->pos + 1 >= s->len || s->buf[s->pos + 1] == '\n' || s->buf[s->pos + 1] == '\r') {
                fail(lx, s->line, s->col, "backslash at end of line");
                advance(s);
                break;
            }
            if (s->buf[s->pos + 1] == '\0') {
                advance(s); /* the NUL itself is reported by the caller's loop */
                break;
            }
            advance(s);
        }
        advance(s);
    }
    add_token(lx, start, s->pos - start, line, col, false);
}

static void lex_quoted(lex_t *lx)
{
    rd__zsrc_t *s = lx->src;
    unsigned line = s->line, col = s->col;
    advance(s); /* opening quote */
    size_t start = s->pos;
    for (;;) {
        if (at_end(s) || peek(s) == '\n') {
            /* The newline is left for the record loop: it may end the record. */
            fail(lx, line, col, "unterminated quoted string");
            return;
        }
        char c = peek(s);
        if (c == '\0') {
            fail(lx, s->line, s->col, "NUL byte in input");
        } else if (c == '"') {
            size_t len = s->pos - start;
            advance(s);
            add_token(lx, start, len, line, col, true);
            return;
        } else if (c == '\\' && s->pos + 1 < s->len && s->buf[s->pos + 1] != '\n') {
            advance(s); /* \" and \\ do not end the string */
        }
        advance(s);
    }
}

/* One logical record, possibly empty (blank line, comment only). */
static int lex_one(lex_t *lx)
{
    rd__zsrc_t *s = lx->src;
    rd__zrec_t *r = lx->rec;
    size_t depth = 0;
    unsigned pline = 0, pcol = 0; /* the outermost open '(' */
    r->ntok = 0;
    r->blank_owner = !at_end(s) && (peek(s) == ' ' || peek(s) == '\t');
    r->end_line = s->line;
    r->end_col = s->col;
    lx->failed = false;
    while (!at_end(s)) {
        char c = peek(s);
        switch (c) {
        case '\n':
            advance(s);
            if (depth == 0) goto done;
            break;
        case ' ':
        case '\t':
        case '\r': advance(s); break;
        case ';':
            while (!at_end(s) && peek(s) != '\n') {
                if (peek(s) == '\0') fail(lx, s->line, s->col, "NUL byte in input");
                advance(s);
            }
            break;
        case '(':
            if (depth == 0) {
                pline = s->line;
                pcol = s->col;
            }
            depth++;
            advance(s);
            break;
        case ')':
            if (depth == 0)
                fail(lx, s->line, s->col, "unbalanced ')'");
            else
                depth--;
            advance(s);
            break;
        case '"': lex_quoted(lx); break;
        case '\0':
            fail(lx, s->line, s->col, "NUL byte in input");
            advance(s);
            break;
        default: lex_word(lx); break;
        }
    }
    if (depth > 0) fail(lx, pline, pcol, "unbalanced '(': no ')' before the end of the file");
done:
    if (lx->failed) return RD__ZLEX_ERR;
    return r->ntok > 0 ? RD__ZLEX_REC : RD__ZLEX_EOF;
}

int rd__zlex_record(rd__zsrc_t *src, rd__zrec_t *rec, rd__zlexerr_t *err)
{
    lex_t lx = {.src = src, .rec = rec, .err = err, .failed = false};
    while (!at_end(src)) {
        int r = lex_one(&lx);
        if (r != RD__ZLEX_EOF) return r;
    }
    return RD__ZLEX_EOF;
}

void rd__zlex_quote(char *out, size_t cap, const char *s, size_t len)
{
    enum { SHOW = 60 };
    size_t n = 0;
    if (cap == 0) return;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[5];
        size_t tl;
        if (i >= SHOW) {
            memcpy(tmp, "...", 4);
            tl = 3;
        } else if (c < 0x20 || c >= 0x7f) {
            snprintf(tmp, sizeof(tmp), "\\%03u", c);
            tl = 4;
        } else {
            tmp[0] = (char)c;
            tl = 1;
        }
        if (n + tl >= cap) break;
        memcpy(out + n, tmp, tl);
        n += tl;
        if (i >= SHOW) break;
    }
    out[n] = '\0';
}
