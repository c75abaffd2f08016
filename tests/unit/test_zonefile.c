/* Master-file parser (src/wire/zonefile.c, zonelex.c): every feature, every error class with
 * its exact line:col, recovery after a bad record, $INCLUDE, hostile input, and the zone files
 * shipped in zones/. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolverd/name.h"
#include "resolverd/rrtype.h"
#include "resolverd/zonefile.h"

#define MAX_RRS  256
#define MAX_ERRS 64

typedef struct {
    char owner[RD_NAME_TEXT_MAX];
    uint16_t type, rclass;
    uint32_t ttl;
    uint8_t rdata[512];
    size_t rdlen;
    char file[256];
    unsigned line;
} trr_t;

typedef struct {
    trr_t rr[MAX_RRS];
    size_t nrr;
    rd_zone_error_t err[MAX_ERRS];
    size_t nerr;
    int stop_rr_after; /* >0: on_rr returns -100 at that record */
} coll_t;

static int on_rr(void *ctx, const rd_zrr_t *rr)
{
    coll_t *c = ctx;
    if (c->nrr < MAX_RRS) {
        trr_t *t = &c->rr[c->nrr];
        cr_assert(rd_name_to_text(rr->owner, t->owner, sizeof(t->owner)) > 0);
        t->type = rr->type;
        t->rclass = rr->rclass;
        t->ttl = rr->ttl;
        t->rdlen = rr->rdlen < sizeof(t->rdata) ? rr->rdlen : sizeof(t->rdata);
        memcpy(t->rdata, rr->rdata, t->rdlen);
        snprintf(t->file, sizeof(t->file), "%s", rr->file);
        t->line = rr->line;
    }
    c->nrr++;
    if (c->stop_rr_after > 0 && c->nrr == (size_t)c->stop_rr_after) return -100;
    return 0;
}

static int on_err(void *ctx, const rd_zone_error_t *e)
{
    coll_t *c = ctx;
    if (c->nerr < MAX_ERRS) c->err[c->nerr] = *e;
    c->nerr++;
    return 0;
}

static coll_t *coll_new(void)
{
    coll_t *c = calloc(1, sizeof(*c));
    cr_assert(c);
    return c;
}

static rd_zone_opts_t opts_for(coll_t *c, const uint8_t *origin)
{
    return (rd_zone_opts_t){.origin = origin,
                            .default_ttl = 1234,
                            .allow_include = true,
                            .on_rr = on_rr,
                            .on_error = on_err,
                            .ctx = c};
}

static const uint8_t *wire(const char *text, uint8_t *buf)
{
    cr_assert_eq(rd_name_from_text(text, strlen(text), NULL, buf, NULL), 0, "origin %s", text);
    return buf;
}

/* Parses text with origin (NULL: none); returns the parse's return value. */
static int parse(coll_t *c, const char *text, const char *origin)
{
    uint8_t o[RD_NAME_MAX];
    rd_zone_opts_t opts = opts_for(c, origin ? wire(origin, o) : NULL);
    return rd_zone_parse_mem(text, strlen(text), "t.zone", &opts);
}

static void dump_errors(const coll_t *c)
{
    for (size_t i = 0; i < c->nerr && i < MAX_ERRS; i++)
        fprintf(stderr, "  %s:%u:%u: %s\n", c->err[i].file, c->err[i].line, c->err[i].col,
                c->err[i].msg);
}

static void expect_clean(const coll_t *c, int r)
{
    if (r != 0) dump_errors(c);
    cr_assert_eq(r, 0, "expected no errors, got %d", r);
}

/* Exactly one error, at line:col, whose message contains want. */
static void expect_error(const coll_t *c, int r, unsigned line, unsigned col, const char *want)
{
    if (r != 1 || c->nerr != 1) dump_errors(c);
    cr_assert_eq(r, 1, "expected 1 error, got %d", r);
    cr_assert_eq(c->nerr, 1);
    cr_expect_eq(c->err[0].line, line, "line %u, want %u (%s)", c->err[0].line, line,
                 c->err[0].msg);
    cr_expect_eq(c->err[0].col, col, "col %u, want %u (%s)", c->err[0].col, col, c->err[0].msg);
    cr_expect(strstr(c->err[0].msg, want) != NULL, "message '%s' lacks '%s'", c->err[0].msg, want);
}

static const uint8_t A_1234[4] = {1, 2, 3, 4};

static void expect_a(const trr_t *t, const char *owner, uint32_t ttl, const uint8_t *addr)
{
    cr_expect_str_eq(t->owner, owner);
    cr_expect_eq(t->type, RD_TYPE_A, "type %u", t->type);
    cr_expect_eq(t->rclass, RD_CLASS_IN);
    cr_expect_eq(t->ttl, ttl, "ttl %u want %u", t->ttl, ttl);
    cr_expect_eq(t->rdlen, 4);
    cr_expect(memcmp(t->rdata, addr, 4) == 0);
}

/* ---- features ---- */

Test(zonefile, origin_ttl_relative_at)
{
    coll_t *c = coll_new();
    int r = parse(c,
                  "$ORIGIN example.com.\n"
                  "$TTL 300\n"
                  "@ IN A 1.2.3.4\n"
                  "www IN A 1.2.3.4\n"
                  "abs.example.net. IN A 1.2.3.4\n"
                  "$ORIGIN sub\n" /* relative to the current origin */
                  "x IN A 1.2.3.4\n",
                  NULL);
    expect_clean(c, r);
    cr_assert_eq(c->nrr, 4);
    expect_a(&c->rr[0], "example.com.", 300, A_1234);
    expect_a(&c->rr[1], "www.example.com.", 300, A_1234);
    expect_a(&c->rr[2], "abs.example.net.", 300, A_1234);
    expect_a(&c->rr[3], "x.sub.example.com.", 300, A_1234);
    cr_expect_str_eq(c->rr[3].file, "t.zone");
    cr_expect_eq(c->rr[3].line, 7);
    free(c);
}

Test(zonefile, initial_origin_from_opts)
{
    coll_t *c = coll_new();
    int r = parse(c, "www 60 IN A 1.2.3.4\n@ 60 IN A 1.2.3.4\n", "example.org.");
    expect_clean(c, r);
    cr_assert_eq(c->nrr, 2);
    cr_expect_str_eq(c->rr[0].owner, "www.example.org.");
    cr_expect_str_eq(c->rr[1].owner, "example.org.");
    free(c);
}

Test(zonefile, ttl_units)
{
    static const struct {
        const char *ttl;
        uint32_t want;
    } cases[] = {
        {"0", 0},         {"3600", 3600},         {"1h30m", 5400}, {"1W", 604800},
        {"2d3h", 183600}, {"1w2d3h4m5s", 788645}, {"90s", 90},     {"2147483647", 2147483647u}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        coll_t *c = coll_new();
        char text[128];
        snprintf(text, sizeof(text), "$TTL %s\na IN A 1.2.3.4\nb %s IN A 1.2.3.4\n", cases[i].ttl,
                 cases[i].ttl);
        int r = parse(c, text, "x.");
        expect_clean(c, r);
        cr_assert_eq(c->nrr, 2);
        cr_expect_eq(c->rr[0].ttl, cases[i].want, "$TTL %s", cases[i].ttl);
        cr_expect_eq(c->rr[1].ttl, cases[i].want, "TTL %s", cases[i].ttl);
        free(c);
    }
}

Test(zonefile, ttl_defaults)
{
    /* No $TTL: opts->default_ttl, then the last explicit TTL (RFC 1035 s5.1), then $TTL. */
    coll_t *c = coll_new();
    int r = parse(c,
                  "a IN A 1.2.3.4\n"
                  "b 77 IN A 1.2.3.4\n"
                  "c IN A 1.2.3.4\n"
                  "$TTL 99\n"
                  "d IN A 1.2.3.4\n"
                  "e 5 IN A 1.2.3.4\n"
                  "f IN A 1.2.3.4\n",
                  "x.");
    expect_clean(c, r);
    cr_assert_eq(c->nrr, 6);
    const uint32_t want[] = {1234, 77, 77, 99, 5, 99};
    for (size_t i = 0; i < 6; i++) cr_expect_eq(c->rr[i].ttl, want[i], "record %zu", i);
    free(c);
}

Test(zonefile, omitted_owner_ttl_class_any_order)
{
    coll_t *c = coll_new();
    int r = parse(c,
                  "$TTL 10\n"
                  "a 20 IN A 1.2.3.4\n"
                  "  IN 30 A 1.2.3.4\n" /* blank owner, class then TTL */
                  "\t40 A 1.2.3.4\n"    /* tab, TTL only */
                  " A 1.2.3.4\n"        /* type only */
                  "b IN A 1.2.3.4\n"    /* class only */
                  "c 50 A 1.2.3.4\n"    /* TTL only */
                  "d in a 1.2.3.4\n",   /* lower case mnemonics */
                  "x.");
    expect_clean(c, r);
    cr_assert_eq(c->nrr, 7);
    expect_a(&c->rr[0], "a.x.", 20, A_1234);
    expect_a(&c->rr[1], "a.x.", 30, A_1234);
    expect_a(&c->rr[2], "a.x.", 40, A_1234);
    expect_a(&c->rr[3], "a.x.", 10, A_1234);
    expect_a(&c->rr[4], "b.x.", 10, A_1234);
    expect_a(&c->rr[5], "c.x.", 50, A_1234);
    expect_a(&c->rr[6], "d.x.", 10, A_1234);
    free(c);
}

Test(zonefile, generic_type_class_rdata)
{
    coll_t *c = coll_new();
    int r = parse(c,
                  "a 1 CLASS1 TYPE1 \\# 4 01020304\n"
                  "b 1 IN A \\# 4 01020304\n"
                  "c 1 IN TYPE65534 \\# 3 abcdef\n"
                  "d 1 IN TYPE65280 \\# 0\n",
                  "x.");
    expect_clean(c, r);
    cr_assert_eq(c->nrr, 4);
    expect_a(&c->rr[0], "a.x.", 1, A_1234);
    expect_a(&c->rr[1], "b.x.", 1, A_1234);
    cr_expect_eq(c->rr[2].type, 65534);
    cr_expect_eq(c->rr[2].rdlen, 3);
    cr_expect(memcmp(c->rr[2].rdata, "\xab\xcd\xef", 3) == 0);
    cr_expect_eq(c->rr[3].type, 65280);
    cr_expect_eq(c->rr[3].rdlen, 0);
    free(c);
}

Test(zonefile, parentheses_and_comments)
{
    coll_t *c = coll_new();
    int r = parse(c,
                  "; leading comment\n"
                  "\n"
                  "@ IN SOA ns hostmaster ( ; comment after (\n"
                  "    1   ; serial ( with a paren in the comment )\n"
                  "    2h  ; refresh\n"
                  "\n"
                  "    ; a comment line inside parentheses\n"
                  "    3 4 5 )  ; after\n"
                  "w IN A ( 1.2.3.4 )\n"
                  "v IN A (\n"
                  "1.2.3.4\n" /* column 1 inside parentheses is not an owner */
                  ")\n",
                  "x.");
    expect_clean(c, r);
    cr_assert_eq(c->nrr, 3);
    cr_expect_eq(c->rr[0].type, RD_TYPE_SOA);
    cr_expect_eq(c->rr[0].line, 3);
    /* rdata: ns.x. hostmaster.x. then 5 u32 */
    const uint8_t soa[] = {2,   'n', 's', 1, 'x', 0, 10, 'h', 'o', 's', 't', 'm', 'a',  's',
                           't', 'e', 'r', 1, 'x', 0, 0,  0,   0,   1,   0,   0,   0x1c, 0x20,
                           0,   0,   0,   3, 0,   0, 0,  4,   0,   0,   0,   5};
    cr_expect_eq(c->rr[0].rdlen, sizeof(soa));
    cr_expect(memcmp(c->rr[0].rdata, soa, sizeof(soa)) == 0);
    expect_a(&c->rr[1], "w.x.", 1234, A_1234);
    expect_a(&c->rr[2], "v.x.", 1234, A_1234);
    cr_expect_eq(c->rr[2].line, 10);
    free(c);
}

Test(zonefile, quoted_strings)
{
    coll_t *c = coll_new();
    int r = parse(c,
                  "t IN TXT \"a b;c\\\"d\" \"\" (\"in ( parens )\")\n"
                  "u IN TXT \"x\"\"y\"\n", /* adjacent quoted strings are two tokens */
                  "x.");
    expect_clean(c, r);
    cr_assert_eq(c->nrr, 2);
    const uint8_t want[] = {7,   'a', ' ', 'b', ';', 'c', '"', 'd', 0,   13,  'i', 'n',
                            ' ', '(', ' ', 'p', 'a', 'r', 'e', 'n', 's', ' ', ')'};
    cr_expect_eq(c->rr[0].rdlen, sizeof(want), "rdlen %zu", c->rr[0].rdlen);
    cr_expect(memcmp(c->rr[0].rdata, want, sizeof(want)) == 0);
    const uint8_t want2[] = {1, 'x', 1, 'y'};
    cr_expect_eq(c->rr[1].rdlen, sizeof(want2));
    cr_expect(memcmp(c->rr[1].rdata, want2, sizeof(want2)) == 0);
    free(c);
}

Test(zonefile, escapes_kept_for_name_parser)
{
    coll_t *c = coll_new();
    int r = parse(c,
                  "a\\.b IN A 1.2.3.4\n"
                  "\\065bc IN A 1.2.3.4\n"
                  "sp\\ ace IN A 1.2.3.4\n"
                  "semi\\;colon IN A 1.2.3.4\n"
                  "par\\(en IN A 1.2.3.4\n",
                  "x.");
    expect_clean(c, r);
    cr_assert_eq(c->nrr, 5);
    uint8_t w[RD_NAME_MAX];
    cr_expect(rd_name_from_text(c->rr[0].owner, strlen(c->rr[0].owner), NULL, w, NULL) == 0);
    cr_expect_eq(w[0], 3, "first label is 'a.b'");
    cr_expect(memcmp(w + 1, "a.b", 3) == 0);
    cr_expect_str_eq(c->rr[1].owner, "Abc.x.");
    cr_expect_eq(rd_name_labels(w), 2);
    free(c);
}

Test(zonefile, crlf_and_no_final_newline)
{
    coll_t *c = coll_new();
    int r = parse(c, "a IN A 1.2.3.4\r\n\r\n  IN A 1.2.3.4\r\nb IN A 1.2.3.4", "x.");
    expect_clean(c, r);
    cr_assert_eq(c->nrr, 3);
    expect_a(&c->rr[1], "a.x.", 1234, A_1234);
    expect_a(&c->rr[2], "b.x.", 1234, A_1234);
    free(c);
}

Test(zonefile, empty_inputs)
{
    const char *cases[] = {"", "\n", "; only a comment", "   \n\t\n", "( )\n", "(\n\n)"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        coll_t *c = coll_new();
        int r = parse(c, cases[i], "x.");
        expect_clean(c, r);
        cr_expect_eq(c->nrr, 0);
        free(c);
    }
}

Test(zonefile, class_fixed_by_first_record)
{
    coll_t *c = coll_new();
    int r = parse(c,
                  "a CH TXT \"x\"\n"
                  "b TXT \"y\"\n"    /* no class: the zone's (CH) */
                  "c IN TXT \"z\"\n" /* error */
                  "d CLASS3 TXT \"w\"\n",
                  "x.");
    expect_error(c, r, 3, 3, "class IN does not match the zone's class CH");
    cr_assert_eq(c->nrr, 3);
    cr_expect_eq(c->rr[0].rclass, RD_CLASS_CH);
    cr_expect_eq(c->rr[1].rclass, RD_CLASS_CH);
    cr_expect_eq(c->rr[2].rclass, RD_CLASS_CH);
    free(c);
}

Test(zonefile, default_class_option)
{
    coll_t *c = coll_new();
    uint8_t o[RD_NAME_MAX];
    rd_zone_opts_t opts = opts_for(c, wire("x.", o));
    opts.default_class = RD_CLASS_CH;
    const char *t = "a TXT \"x\"\n";
    int r = rd_zone_parse_mem(t, strlen(t), "t.zone", &opts);
    expect_clean(c, r);
    cr_assert_eq(c->nrr, 1);
    cr_expect_eq(c->rr[0].rclass, RD_CLASS_CH);
    free(c);
}

/* ---- errors: exact line:col and message; the bad record is skipped, the rest is read ---- */

typedef struct {
    const char *text;
    unsigned line, col;
    const char *msg;
} ecase_t;

static void run_error_case(const ecase_t *e)
{
    coll_t *c = coll_new();
    int r = parse(c, e->text, "x.");
    cr_log_info("case: %s", e->msg);
    expect_error(c, r, e->line, e->col, e->msg);
    free(c);
}

Test(zonefile, error_positions)
{
    static const ecase_t cases[] = {
        {"a IN A 1.2.3.4\nwww foo A 1.2.3.4\n", 2, 5, "expected a TTL or class or type, got 'foo'"},
        {"www 300 foo IN A 1.2.3.4\n", 1, 9, "expected a class or type, got 'foo'"},
        {"www IN 300 300 A 1.2.3.4\n", 1, 12, "expected a type, got '300'"},
        {"www IN AAAAA 1.2.3.4\n", 1, 8, "unknown type 'AAAAA'"},
        {"www 1 IN AAAAA 1.2.3.4\n", 1, 10, "unknown type 'AAAAA'"},
        {"www IN\n", 1, 7, "expected a TTL or type, got end of record"},
        {"a IN A 1.2.3.4 )\n", 1, 16, "unbalanced ')'"},
        {"a IN A 1.2.3.4\n  )\n", 2, 3, "unbalanced ')'"},
        {"a IN TXT \"abc\nb IN A 1.2.3.4\n", 1, 10, "unterminated quoted string"},
        {"a IN TXT ( \"abc\n)\n", 1, 12, "unterminated quoted string"},
        {"x.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa IN A 1.2.3.4\n", 1, 1,
         "label longer than 63 octets"},
        {"a IN CNAME bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n", 1, 12,
         "label longer than 63 octets"},
        {"a IN A 1.2.3\n", 1, 8, "bad IPv4 address '1.2.3'"},
        {"a IN A 1.2.3.4 5.6.7.8\n", 1, 16, "unexpected '5.6.7.8' after the A rdata"},
        {"a IN A\n", 1, 7, "expected an IPv4 address in A rdata, got end of record"},
        {"a IN MX 10\n", 1, 11, "expected a domain name in MX rdata, got end of record"},
        {"a IN MX 70000 b\n", 1, 9, "70000"},
        {"a IN AAAA 1::2::3\n", 1, 11, "bad IPv6 address '1::2::3'"},
        {"a 1h30x IN A 1.2.3.4\n", 1, 3, "bad TTL '1h30x'"},
        {"a 4294967296 IN A 1.2.3.4\n", 1, 3, "TTL '4294967296' out of range"},
        {"$TTL 2147483648\n", 1, 6, "TTL '2147483648' out of range"},
        {"$TTL\n", 1, 5, "expected a TTL after $TTL, got end of record"},
        {"$TTL 1 2\n", 1, 8, "unexpected '2' after $TTL"},
        {"$ORIGIN\n", 1, 8, "expected a domain name after $ORIGIN"},
        {"$GENERATE 1-2 a A 1.2.3.4\n", 1, 1, "unknown directive '$GENERATE'"},
        {"a IN A 1.2.3.4\n$INCLUDE\n", 2, 9, "expected a file name after $INCLUDE"},
        {"  IN A 1.2.3.4\n", 1, 1, "no previous owner"},
        {"a IN TYPE70000 \\# 0\n", 1, 6, "type number out of range: 'TYPE70000'"},
        {"a CLASS70000 A 1.2.3.4\n", 1, 3, "class number out of range: 'CLASS70000'"},
        {"a ANY A 1.2.3.4\n", 1, 3, "class ANY is not allowed in zone data"},
        {"a IN OPT \\# 0\n", 1, 6, "type OPT is not allowed in zone data"},
        {"a IN A \\# 5 0102030405\n", 1, 8, "RFC 3597 rdata does not fit the layout of type A"},
        {"a IN A \\# 5 01020304\n", 1, 11, "bad RFC 3597 generic rdata at '5'"},
        {"a IN A \\#\n", 1, 10, "expected RFC 3597"},
        {"a IN A ( 1.2.3.4\n b IN A 1.2.3.4\n", 1, 8, "unbalanced '('"},
        {"a IN A 1.2.3.4\\\n", 1, 15, "backslash at end of line"},
        {"a..b IN A 1.2.3.4\n", 1, 1, "bad domain name 'a..b'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) run_error_case(&cases[i]);
}

Test(zonefile, nul_byte_mid_file)
{
    /* strlen() would stop at the NUL: pass the length. */
    static const char text[] = "a IN A 1.2.3.4\nb IN TXT \"x\0y\"\nc IN A 1.2.3.4\n";
    coll_t *c = coll_new();
    uint8_t o[RD_NAME_MAX];
    rd_zone_opts_t opts = opts_for(c, wire("x.", o));
    int r = rd_zone_parse_mem(text, sizeof(text) - 1, "t.zone", &opts);
    expect_error(c, r, 2, 12, "NUL byte in input");
    cr_expect_eq(c->nrr, 2);
    free(c);
}

Test(zonefile, relative_names_need_origin)
{
    coll_t *c = coll_new();
    int r = parse(c,
                  "www IN A 1.2.3.4\n"
                  "@ IN A 1.2.3.4\n"
                  "abs. IN CNAME rel\n"
                  "abs. IN CNAME abs.\n",
                  NULL);
    cr_assert_eq(r, 3);
    cr_expect_eq(c->err[0].line, 1);
    cr_expect(strstr(c->err[0].msg, "relative name 'www' but no $ORIGIN") != NULL);
    cr_expect_eq(c->err[1].line, 2);
    cr_expect(strstr(c->err[1].msg, "'@' used but no $ORIGIN") != NULL);
    cr_expect_eq(c->err[2].line, 3);
    cr_expect_eq(c->err[2].col, 15, "col %u: %s", c->err[2].col, c->err[2].msg);
    cr_expect_eq(c->nrr, 1);
    free(c);
}

Test(zonefile, good_records_around_bad_ones)
{
    coll_t *c = coll_new();
    int r = parse(c,
                  "a IN A 1.2.3.4\n"
                  "b IN A 1.2.3.999\n"
                  "  IN A 1.2.3.4\n" /* b's owner was fine: the record lands on b */
                  "c IN A ( 1.2.3.4\n"
                  "  junk ) ; comment\n" /* bad record over two lines, skipped as one */
                  "d IN A 1.2.3.4\n"
                  "bad..name IN A 1.2.3.4\n"
                  "  IN A 1.2.3.4\n" /* refused: its owner was bad */
                  "e IN A 1.2.3.4\n"
                  "f IN TXT \"open\n"
                  "g IN A 1.2.3.4\n",
                  "x.");
    cr_assert_eq(r, 5, "errors: %d", r);
    dump_errors(c);
    cr_expect_eq(c->err[0].line, 2);
    cr_expect_eq(c->err[1].line, 5);
    cr_expect_eq(c->err[1].col, 3);
    cr_expect_eq(c->err[2].line, 7);
    cr_expect_eq(c->err[3].line, 8);
    cr_expect_eq(c->err[4].line, 10);
    cr_assert_eq(c->nrr, 5);
    cr_expect_str_eq(c->rr[0].owner, "a.x.");
    cr_expect_str_eq(c->rr[1].owner, "b.x.");
    cr_expect_str_eq(c->rr[2].owner, "d.x.");
    cr_expect_str_eq(c->rr[3].owner, "e.x.");
    cr_expect_str_eq(c->rr[4].owner, "g.x.");
    free(c);
}

Test(zonefile, unbalanced_open_paren_at_eof_drops_record)
{
    coll_t *c = coll_new();
    int r = parse(c, "a IN A 1.2.3.4\nb IN SOA ns hm (\n 1 2 3\n 4 5\n", "x.");
    expect_error(c, r, 2, 16, "unbalanced '('");
    cr_expect_eq(c->nrr, 1);
    free(c);
}

Test(zonefile, callbacks_stop_parse)
{
    coll_t *c = coll_new();
    c->stop_rr_after = 2;
    int r = parse(c, "a IN A 1.2.3.4\nb IN A 1.2.3.4\nc IN A 1.2.3.4\n", "x.");
    cr_expect_eq(r, -100);
    cr_expect_eq(c->nrr, 2);
    free(c);
}

static int err_stop(void *ctx, const rd_zone_error_t *e)
{
    (void)e;
    (*(int *)ctx)++;
    return RD_ESYNTAX;
}

Test(zonefile, error_callback_stops_and_null_error_callback_counts)
{
    int n = 0;
    rd_zone_opts_t opts = {.on_error = err_stop, .ctx = &n};
    const char *t = "a. IN A 1\nb. IN A 2\n";
    cr_expect_eq(rd_zone_parse_mem(t, strlen(t), "t", &opts), RD_ESYNTAX);
    cr_expect_eq(n, 1);
    rd_zone_opts_t quiet = {0};
    cr_expect_eq(rd_zone_parse_mem(t, strlen(t), "t", &quiet), 2);
    cr_expect_eq(rd_zone_parse_mem(t, strlen(t), "t", NULL), RD_EINVAL);
}

/* ---- hostile input ---- */

Test(zonefile, huge_token_and_too_many_tokens)
{
    size_t n = 70000;
    char *t = malloc(n + 64);
    cr_assert(t);
    int k = snprintf(t, 64, "a IN TXT ");
    memset(t + k, 'x', n);
    strcpy(t + k + n, "\nb IN A 1.2.3.4\n");
    coll_t *c = coll_new();
    int r = parse(c, t, "x.");
    expect_error(c, r, 1, 10, "token longer than 65535");
    cr_expect_eq(c->nrr, 1);
    free(c);
    free(t);

    /* 2000 one-character strings: more than the token limit. */
    t = malloc(2000 * 8 + 64);
    cr_assert(t);
    k = snprintf(t, 64, "a IN TXT (");
    for (int i = 0; i < 2000; i++) k += snprintf(t + k, 8, " \"%c\"\n", 'a' + i % 26);
    strcpy(t + k, ")\nb IN A 1.2.3.4\n");
    c = coll_new();
    r = parse(c, t, "x.");
    cr_assert_eq(r, 1);
    cr_expect(strstr(c->err[0].msg, "more than 1024 tokens") != NULL, "%s", c->err[0].msg);
    cr_expect_eq(c->err[0].line, 1022);
    cr_expect_eq(c->nrr, 1);
    free(c);
    free(t);
}

Test(zonefile, deep_parentheses_and_long_lines)
{
    size_t n = 1 << 20;
    char *t = malloc(n + 64);
    cr_assert(t);
    memset(t, '(', n / 2);
    memset(t + n / 2, ')', n / 2);
    strcpy(t + n, "\nb IN A 1.2.3.4\n");
    coll_t *c = coll_new();
    int r = parse(c, t, "x.");
    expect_clean(c, r); /* balanced and empty: no record at all */
    cr_expect_eq(c->nrr, 1);
    free(c);

    memset(t, '(', n);
    strcpy(t + n, "\nb IN A 1.2.3.4\n");
    c = coll_new();
    r = parse(c, t, "x.");
    expect_error(c, r, 1, 1, "unbalanced '('");
    cr_expect_eq(c->nrr, 0);
    free(c);
    free(t);
}

Test(zonefile, garbage_never_crashes)
{
    /* Deterministic pseudo-random bytes from a small alphabet of the lexer's special
     * characters: the parse must end, report errors, and leave ASan quiet. */
    static const char alpha[] = "ab.@$;()\"\\ \t\n0123456789INATXT\r\0";
    char *t = malloc(1 << 16);
    cr_assert(t);
    uint32_t s = 12345;
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < (1 << 16); i++) {
            s = s * 1103515245u + 12345u;
            t[i] = alpha[(s >> 16) % (sizeof(alpha) - 1)];
        }
        coll_t *c = coll_new();
        uint8_t o[RD_NAME_MAX];
        rd_zone_opts_t opts = opts_for(c, wire("x.", o));
        opts.allow_include = false;
        int r = rd_zone_parse_mem(t, 1 << 16, "junk", &opts);
        cr_expect(r >= 0);
        free(c);
    }
    free(t);
}

/* ---- files and $INCLUDE ---- */

static char tmpdir[64];

static void mk_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/rdzoneXXXXXX");
    cr_assert(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
}

static void write_file(const char *rel, const char *text)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
    FILE *f = fopen(p, "w");
    cr_assert(f, "%s: %s", p, strerror(errno));
    fputs(text, f);
    fclose(f);
}

static void rm_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
        if (unlink(p) != 0) {
            /* one level of subdirectories */
            DIR *s = opendir(p);
            struct dirent *f;
            char q[768];
            while (s && (f = readdir(s))) {
                if (f->d_name[0] == '.') continue;
                snprintf(q, sizeof(q), "%s/%s", p, f->d_name);
                unlink(q);
            }
            if (s) closedir(s);
            rmdir(p);
        }
    }
    closedir(d);
    rmdir(tmpdir);
}

static int parse_path(coll_t *c, const char *rel, const char *origin, unsigned depth)
{
    char p[256];
    uint8_t o[RD_NAME_MAX];
    snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
    rd_zone_opts_t opts = opts_for(c, origin ? wire(origin, o) : NULL);
    opts.max_include_depth = depth;
    return rd_zone_parse_file(p, &opts);
}

Test(zonefile, include_relative_path_and_origin, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/sub", tmpdir);
    cr_assert_eq(mkdir(p, 0700), 0);
    write_file("main.zone", "$ORIGIN example.com.\n"
                            "a IN A 1.2.3.4\n"
                            "$INCLUDE sub/inc.zone other.example. ; comment\n"
                            "  IN A 1.2.3.4\n" /* owner restored: a */
                            "b IN A 1.2.3.4\n" /* origin restored: example.com. */
                            "$INCLUDE \"sub/inc.zone\"\n"
                            "c IN A 1.2.3.4\n");
    write_file("sub/inc.zone", "inc IN A 1.2.3.4\n"
                               "$INCLUDE deeper.zone\n" /* relative to sub/ */
                               "$ORIGIN changed.\n");
    write_file("sub/deeper.zone", "deep IN A 1.2.3.4\n");
    coll_t *c = coll_new();
    int r = parse_path(c, "main.zone", NULL, 0);
    expect_clean(c, r);
    cr_assert_eq(c->nrr, 8);
    const char *want[] = {"a.example.com.",    "inc.other.example.", "deep.other.example.",
                          "a.example.com.",    "b.example.com.",     "inc.example.com.",
                          "deep.example.com.", "c.example.com."};
    for (size_t i = 0; i < 8; i++) cr_expect_str_eq(c->rr[i].owner, want[i], "record %zu", i);
    cr_expect(strstr(c->rr[1].file, "sub/inc.zone") != NULL, "%s", c->rr[1].file);
    cr_expect_eq(c->rr[1].line, 1);
    cr_expect(strstr(c->rr[2].file, "sub/deeper.zone") != NULL, "%s", c->rr[2].file);
    free(c);
}

Test(zonefile, include_errors_report_included_file, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    write_file("main.zone", "a IN A 1.2.3.4\n$INCLUDE inc.zone\nb IN A 1.2.3.4\n");
    write_file("inc.zone", "x IN A 1.2.3.4\n\ny IN A 300.2.3.4\n");
    coll_t *c = coll_new();
    int r = parse_path(c, "main.zone", "example.", 0);
    expect_error(c, r, 3, 8, "bad IPv4 address '300.2.3.4'");
    cr_expect(strstr(c->err[0].file, "inc.zone") != NULL);
    cr_expect_eq(c->nrr, 3);
    free(c);
}

Test(zonefile, include_missing_file, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    write_file("main.zone", "a IN A 1.2.3.4\n$INCLUDE   x\nb IN A 1.2.3.4\n");
    coll_t *c = coll_new();
    int r = parse_path(c, "main.zone", "example.", 0);
    expect_error(c, r, 2, 12, "cannot open $INCLUDE file 'x': No such file or directory");
    cr_expect_eq(c->nrr, 2);
    free(c);
}

Test(zonefile, include_depth_limit_and_cycle, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    /* A includes itself: stopped by the depth limit, one error, records still read. */
    write_file("loop.zone", "a IN A 1.2.3.4\n$INCLUDE loop.zone\n");
    coll_t *c = coll_new();
    int r = parse_path(c, "loop.zone", "example.", 3);
    expect_error(c, r, 2, 1, "$INCLUDE nested more than 3 deep");
    cr_expect_eq(c->nrr, 4); /* depths 0..3 */
    free(c);

    /* Default limit: 8. */
    c = coll_new();
    r = parse_path(c, "loop.zone", "example.", 0);
    expect_error(c, r, 2, 1, "$INCLUDE nested more than 8 deep");
    cr_expect_eq(c->nrr, 9);
    free(c);
}

Test(zonefile, include_refused_when_not_allowed, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    write_file("inc.zone", "x IN A 1.2.3.4\n");
    write_file("main.zone", "$INCLUDE inc.zone\na IN A 1.2.3.4\n");
    char p[256];
    uint8_t o[RD_NAME_MAX];
    snprintf(p, sizeof(p), "%s/main.zone", tmpdir);
    coll_t *c = coll_new();
    rd_zone_opts_t opts = opts_for(c, wire("example.", o));
    opts.allow_include = false;
    int r = rd_zone_parse_file(p, &opts);
    expect_error(c, r, 1, 1, "$INCLUDE is not allowed");
    cr_expect_eq(c->nrr, 1);
    free(c);
}

Test(zonefile, file_size_limit, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    /* A sparse file just over 256 MiB: refused from its size, nothing is read. */
    char p[256];
    snprintf(p, sizeof(p), "%s/huge.zone", tmpdir);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    cr_assert_eq(ftruncate(fileno(f), (off_t)256 * 1024 * 1024 + 1), 0);
    fclose(f);
    coll_t *c = coll_new();
    int r = parse_path(c, "huge.zone", "example.", 0);
    cr_expect_eq(r, RD_ELIMIT);
    cr_assert_eq(c->nerr, 1);
    cr_expect(strstr(c->err[0].msg, "larger than 256 MiB") != NULL, "%s", c->err[0].msg);
    free(c);

    write_file("main.zone", "a IN A 1.2.3.4\n$INCLUDE huge.zone\nb IN A 1.2.3.4\n");
    c = coll_new();
    r = parse_path(c, "main.zone", "example.", 0);
    expect_error(c, r, 2, 10, "cannot open $INCLUDE file 'huge.zone': larger than 256 MiB");
    cr_expect_eq(c->nrr, 2);
    free(c);
}

Test(zonefile, missing_top_file)
{
    coll_t *c = coll_new();
    rd_zone_opts_t opts = opts_for(c, NULL);
    int r = rd_zone_parse_file("/nonexistent/dir/zone", &opts);
    cr_expect_eq(r, RD_EIO);
    cr_assert_eq(c->nerr, 1);
    cr_expect(strstr(c->err[0].msg, "No such file or directory") != NULL);
    r = rd_zone_parse_file("/", &opts);
    cr_expect_eq(r, RD_EIO);
    free(c);
}

/* ---- the zone files shipped in zones/ ---- */

/* "home.lan.zone" -> "home.lan."; "root.hints" and "root.zone" -> "." */
static void origin_from_filename(const char *fname, char *out, size_t cap)
{
    size_t n = strlen(fname);
    if (strcmp(fname, "root.hints") == 0 || strcmp(fname, "root.zone") == 0) {
        snprintf(out, cap, ".");
        return;
    }
    if (n > 5 && strcmp(fname + n - 5, ".zone") == 0) n -= 5;
    snprintf(out, cap, "%.*s.", (int)n, fname);
}

static int parse_shipped(coll_t *c, const char *dir, const char *fname)
{
    char path[1024], origin[256];
    uint8_t o[RD_NAME_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, fname);
    origin_from_filename(fname, origin, sizeof(origin));
    rd_zone_opts_t opts = opts_for(c, wire(origin, o));
    return rd_zone_parse_file(path, &opts);
}

static bool is_zone_file(const char *n)
{
    size_t l = strlen(n);
    return (l > 5 && strcmp(n + l - 5, ".zone") == 0) || strcmp(n, "root.hints") == 0;
}

Test(zonefile, shipped_zone_files_parse_clean)
{
    const char *dirs[] = {RD_SOURCE_DIR "/zones", RD_SOURCE_DIR "/zones/local",
                          RD_SOURCE_DIR "/zones/lab"};
    int files = 0;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        DIR *d = opendir(dirs[i]);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!is_zone_file(e->d_name)) continue;
            coll_t *c = coll_new();
            int r = parse_shipped(c, dirs[i], e->d_name);
            if (r != 0) dump_errors(c);
            cr_expect_eq(r, 0, "%s/%s: %d errors", dirs[i], e->d_name, r);
            cr_expect_gt(c->nrr, 0, "%s/%s: no records", dirs[i], e->d_name);
            cr_log_info("%s/%s: %zu records", dirs[i], e->d_name, c->nrr);
            files++;
            free(c);
        }
        closedir(d);
    }
    cr_expect_geq(files, 2, "expected at least root.hints and one local zone");
}

Test(zonefile, shipped_bad_zone_files_fail_at_expected_line)
{
    const char *dir = RD_SOURCE_DIR "/zones/local/bad";
    DIR *d = opendir(dir);
    if (!d) {
        cr_log_warn("%s: missing, nothing to check", dir);
        return;
    }
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        if (!is_zone_file(e->d_name)) continue;
        char path[1024], first[512] = "";
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        cr_assert(f, "%s", path);
        cr_assert(fgets(first, sizeof(first), f));
        fclose(f);
        unsigned line = 0;
        cr_assert_eq(sscanf(first, "; expect-error: %u:", &line), 1, "%s: first line '%s'", path,
                     first);
        coll_t *c = coll_new();
        int r = parse_shipped(c, dir, e->d_name);
        cr_expect_eq(r, 1, "%s: %d errors, want 1", e->d_name, r);
        if (c->nerr >= 1)
            cr_expect_eq(c->err[0].line, line, "%s: error at line %u (%s), want %u", e->d_name,
                         c->err[0].line, c->err[0].msg, line);
        if (r != 1) dump_errors(c);
        cr_log_info("%s:%u:%u: %s", e->d_name, c->nerr ? c->err[0].line : 0,
                    c->nerr ? c->err[0].col : 0, c->nerr ? c->err[0].msg : "");
        /* the records after the error are read */
        cr_expect(c->nrr > 0 && strncmp(c->rr[c->nrr - 1].owner, "after.", 6) == 0,
                  "%s: last record not 'after'", e->d_name);
        files++;
        free(c);
    }
    closedir(d);
    cr_log_info("%d bad zone files checked", files);
}
