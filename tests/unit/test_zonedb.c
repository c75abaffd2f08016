/* Local zone database (src/zone/): loading with its errors at file:line, every kind of answer
 * with its sections checked record by record (RFC 1034 s4.3.2, RFC 2308, RFC 4592, RFC 6672,
 * RFC 8482), truncation, the zone set's longest match and the built-in special-use zones
 * (RFC 6761, RFC 6303, RFC 7686, RFC 7793). rd_zone_answer allocates nothing by design: it
 * uses the stack and the caller's builder only (see src/zone/zone_answer.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resolverd/msg.h"
#include "resolverd/name.h"
#include "resolverd/rrtype.h"
#include "resolverd/zonedb.h"

#define ZDIR RD_SOURCE_DIR "/tests/zonedb/"

/* ---- helpers ---- */

#define MAX_ERRS 32

typedef struct {
    rd_zone_error_t err[MAX_ERRS];
    size_t nerr;
} errs_t;

static int on_err(void *ctx, const rd_zone_error_t *e)
{
    errs_t *c = ctx;
    if (c->nerr < MAX_ERRS) c->err[c->nerr] = *e;
    c->nerr++;
    return 0;
}

static void dump_errors(const errs_t *c)
{
    for (size_t i = 0; i < c->nerr && i < MAX_ERRS; i++)
        fprintf(stderr, "  %s:%u: %s\n", c->err[i].file, c->err[i].line, c->err[i].msg);
}

static const uint8_t *wire(const char *text, uint8_t *buf)
{
    cr_assert_eq(rd_name_from_text(text, strlen(text), NULL, buf, NULL), 0, "name %s", text);
    return buf;
}

static rd_zone_t *load_file(const char *path, const char *origin)
{
    uint8_t o[RD_NAME_MAX];
    errs_t e = {0};
    rd_zone_t *z = NULL;
    int r = rd_zone_load_file(path, wire(origin, o), on_err, &e, &z);
    if (r) dump_errors(&e);
    cr_assert_eq(r, 0, "loading %s: %s", path, rd_strerror(r));
    cr_assert_eq(e.nerr, 0);
    cr_assert_not_null(z);
    return z;
}

static rd_zone_t *load_text(const char *text, const char *origin)
{
    uint8_t o[RD_NAME_MAX];
    errs_t e = {0};
    rd_zone_t *z = NULL;
    int r = rd_zone_load_mem(text, strlen(text), "mem.zone", wire(origin, o), on_err, &e, &z);
    if (r) dump_errors(&e);
    cr_assert_eq(r, 0, "loading text: %s", rd_strerror(r));
    cr_assert_not_null(z);
    return z;
}

#define SOA_NS                                                                                     \
    "@ 3600 IN SOA ns1 hostmaster 1 3600 900 604800 300\n"                                         \
    "@ 3600 IN NS ns1\n"                                                                           \
    "ns1 3600 IN A 192.0.2.1\n"

typedef struct {
    uint8_t wire[65536];
    size_t len;
    rd_msg_t m;
    int result, rc;
    rd_arena_t arena;
    uint8_t abuf[65536];
} res_t;

static res_t R;

/* Asks z for qname/qtype with the message size limit given; the response is parsed in R.m. */
static res_t *ask_lim(const rd_zone_t *z, const char *qname, uint16_t qtype, bool dnssec_ok,
                      size_t limit)
{
    uint8_t q[RD_NAME_MAX];
    rd_mb_t b;
    memset(&R, 0, sizeof(R));
    rd_mb_init(&b, R.wire, sizeof(R.wire), limit, 0x1234, RD_F_QR);
    cr_assert_eq(rd_mb_question(&b, wire(qname, q), qtype, RD_CLASS_IN), 0);
    R.result = -1;
    R.rc = rd_zone_answer(z, q, qtype, dnssec_ok, &b, &R.result);
    R.len = rd_mb_finish(&b);
    rd_arena_init(&R.arena, R.abuf, sizeof(R.abuf), 0);
    int r = rd_msg_parse(&R.m, R.wire, R.len, &R.arena);
    cr_assert_eq(r, 0, "response does not parse: %s", rd_strerror(r));
    return &R;
}

static res_t *ask(const rd_zone_t *z, const char *qname, uint16_t qtype, bool dnssec_ok)
{
    res_t *r = ask_lim(z, qname, qtype, dnssec_ok, 4096);
    cr_assert_eq(r->rc, 0, "rd_zone_answer: %s", rd_strerror(r->rc));
    return r;
}

static const char *result_name(int r)
{
    static const char *n[] = {"ANSWER", "NODATA", "NXDOMAIN", "REFERRAL", "CNAME_OUT"};
    return r >= 0 && r <= 4 ? n[r] : "?";
}

/* Header: result kind, rcode, AA, TC and the three section counts. */
static void expect_hdr(const res_t *r, int result, int rcode, bool aa, unsigned an, unsigned ns,
                       unsigned ar)
{
    cr_expect_eq(r->result, result, "result %s, want %s", result_name(r->result),
                 result_name(result));
    cr_expect_eq(RD_RCODE(r->m.flags), rcode, "rcode %d, want %d", RD_RCODE(r->m.flags), rcode);
    cr_expect_eq(!!(r->m.flags & RD_F_AA), aa, "AA %d, want %d", !!(r->m.flags & RD_F_AA), aa);
    cr_expect_eq(r->m.flags & RD_F_TC, 0, "TC set");
    cr_expect_eq(r->m.count[RD_SEC_QD], 1);
    cr_expect_eq(r->m.count[RD_SEC_AN], an, "answer %u, want %u", r->m.count[RD_SEC_AN], an);
    cr_expect_eq(r->m.count[RD_SEC_NS], ns, "authority %u, want %u", r->m.count[RD_SEC_NS], ns);
    cr_expect_eq(r->m.count[RD_SEC_AR], ar, "additional %u, want %u", r->m.count[RD_SEC_AR], ar);
}

/* Record i of a section: owner (compared exactly when exact_case, else ignoring case), type,
 * TTL and, when rdata is not NULL, the rdata in presentation form. */
static void expect_rr_case(const res_t *r, int sec, unsigned i, const char *owner, uint16_t type,
                           uint32_t ttl, const char *rdata, bool exact_case)
{
    cr_assert_lt(i, r->m.count[sec], "section %d has no record %u", sec, i);
    const rd_rr_t *rr = rd_msg_rr(&r->m, sec, i);
    uint8_t o[RD_NAME_MAX], rd[65536];
    char ot[RD_NAME_TEXT_MAX], rt[4096];
    size_t pos = rr->owner, rl;
    cr_assert_eq(rd_name_unpack(r->m.wire, r->m.len, &pos, o, NULL), 0);
    cr_assert_gt(rd_name_to_text(o, ot, sizeof(ot)), 0);
    if (exact_case)
        cr_expect_str_eq(ot, owner, "section %d record %u: owner %s, want %s", sec, i, ot, owner);
    else
        cr_expect(strcasecmp(ot, owner) == 0, "section %d record %u: owner %s, want %s", sec, i, ot,
                  owner);
    cr_expect_eq(rr->type, type, "section %d record %u (%s): type %u, want %u", sec, i, ot,
                 rr->type, type);
    cr_expect_eq(rr->rclass, RD_CLASS_IN);
    cr_expect_eq(rr->ttl, ttl, "section %d record %u (%s): ttl %u, want %u", sec, i, ot, rr->ttl,
                 ttl);
    if (rdata) {
        cr_assert_eq(rd_rdata_unpack(r->m.wire, r->m.len, rr->rdata, rr->rdlen, rr->type, rd,
                                     sizeof(rd), &rl),
                     0);
        cr_assert_geq(rd_rdata_to_text(rr->type, rd, rl, rt, sizeof(rt)), 0);
        cr_expect_str_eq(rt, rdata, "section %d record %u (%s): rdata '%s', want '%s'", sec, i, ot,
                         rt, rdata);
    }
}

static void expect_rr(const res_t *r, int sec, unsigned i, const char *owner, uint16_t type,
                      uint32_t ttl, const char *rdata)
{
    expect_rr_case(r, sec, i, owner, type, ttl, rdata, false);
}

/* The SOA of a negative answer: authority record i. */
static void expect_soa(const res_t *r, unsigned i, const char *apex, uint32_t ttl)
{
    expect_rr(r, RD_SEC_NS, i, apex, RD_TYPE_SOA, ttl, NULL);
}

static rd_zone_t *example(void)
{
    return load_file(ZDIR "example.lan.zone", "example.lan.");
}

/* ---- loading ---- */

Test(zonedb_load, example_zone)
{
    rd_zone_t *z = example();
    uint8_t o[RD_NAME_MAX];
    cr_expect(rd_name_eq(rd_zone_origin(z), wire("example.lan.", o)));
    /* apex SOA NS MX RRSIG; ns1 A AAAA; ns2 A; mail A; www A AAAA RRSIG; Mixed.Case TXT;
     * 9 CNAMEs; dn, dnout DNAME; a.target A; a.b.ent A; child NS DS; ns1.child A AAAA;
     * nods NS; ns1.nods A; _sip._udp SRV; sip A */
    cr_expect_eq(rd_zone_rrset_count(z),
                 4 + 2 + 1 + 1 + 3 + 1 + 9 + 2 + 1 + 1 + 2 + 2 + 1 + 1 + 1 + 1);
    rd_zone_free(z);
}

Test(zonedb_load, shipped_zones)
{
    static const char *zones[][2] = {
        {RD_SOURCE_DIR "/zones/local/home.lan.zone", "home.lan."},
        {RD_SOURCE_DIR "/zones/local/types.test.zone", "types.test."},
        {RD_SOURCE_DIR "/zones/local/1.168.192.in-addr.arpa.zone", "1.168.192.in-addr.arpa."},
        {RD_SOURCE_DIR "/zones/local/3.0.0.0.2.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.zone",
         "3.0.0.0.2.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa."},
        {ZDIR "rfc4592.zone", "example."},
    };
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        rd_zone_t *z = load_file(zones[i][0], zones[i][1]);
        cr_expect_gt(rd_zone_rrset_count(z), 3, "%s", zones[i][0]);
        rd_zone_free(z);
    }
}

Test(zonedb_load, home_lan_answers)
{
    rd_zone_t *z = load_file(RD_SOURCE_DIR "/zones/local/home.lan.zone", "home.lan.");
    res_t *r = ask(z, "files.home.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 2, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "files.home.lan.", RD_TYPE_CNAME, 3600, "nas.home.lan.");
    expect_rr(r, RD_SEC_AN, 1, "nas.home.lan.", RD_TYPE_A, 3600, "192.168.1.10");
    r = ask(z, "app1.dev.home.lan.", RD_TYPE_AAAA, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "app1.dev.home.lan.", RD_TYPE_AAAA, 3600, "fd00:1:2:3::100");
    r = ask(z, "www.home.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 2, 0, 0);
    expect_rr(r, RD_SEC_AN, 1, "home.lan.", RD_TYPE_A, 3600, "192.168.1.1");
    r = ask(z, "tv.home.lan.", RD_TYPE_A, false);
    expect_rr(r, RD_SEC_AN, 0, "tv.home.lan.", RD_TYPE_A, 300, "192.168.1.102");
    r = ask(z, "_ipp._tcp.home.lan.", RD_TYPE_SRV, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 2);
    expect_rr(r, RD_SEC_AR, 0, "printer.home.lan.", RD_TYPE_A, 3600, "192.168.1.20");
    expect_rr(r, RD_SEC_AR, 1, "printer.home.lan.", RD_TYPE_AAAA, 3600, "fd00:1:2:3::20");
    r = ask(z, "_tcp.home.lan.", RD_TYPE_SRV, false); /* empty non-terminal */
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    expect_soa(r, 0, "home.lan.", 300);
    rd_zone_free(z);
}

Test(zonedb_load, types_test_answers)
{
    rd_zone_t *z = load_file(RD_SOURCE_DIR "/zones/local/types.test.zone", "types.test.");
    /* The wildcard's own RRSIG comes with the synthesised TXT, owner rewritten. */
    res_t *r = ask(z, "x.sub.types.test.", RD_TYPE_TXT, true);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 2, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "x.sub.types.test.", RD_TYPE_TXT, 300, "\"wildcard below sub\"");
    expect_rr(r, RD_SEC_AN, 1, "x.sub.types.test.", RD_TYPE_RRSIG, 300, NULL);
    /* Mixed-case owner found by any case. */
    r = ask(z, "upper.case.types.test.", RD_TYPE_TXT, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    /* Secure delegation: DS with DO; the NS targets are in the zone, so their addresses are
     * in additional. */
    r = ask(z, "www.child.types.test.", RD_TYPE_A, true);
    expect_hdr(r, RD_ZR_REFERRAL, RD_RCODE_NOERROR, false, 0, 4, 3);
    expect_rr(r, RD_SEC_NS, 2, "child.types.test.", RD_TYPE_DS, 3600, NULL);
    /* DNAME to outside the zone. */
    r = ask(z, "a.redirect.types.test.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_CNAME_OUT, RD_RCODE_NOERROR, true, 2, 0, 0);
    expect_rr(r, RD_SEC_AN, 1, "a.redirect.types.test.", RD_TYPE_CNAME, 3600, "a.example.net.");
    rd_zone_free(z);
}

/* Loads a broken file: RD_ESYNTAX, no zone, and the first error at file:line with want. */
static void expect_load_error(const char *file, unsigned line, const char *want)
{
    uint8_t o[RD_NAME_MAX];
    errs_t e = {0};
    rd_zone_t *z = (rd_zone_t *)1;
    char path[512];
    snprintf(path, sizeof(path), "%sbad/%s", ZDIR, file);
    int r = rd_zone_load_file(path, wire("bad.test.", o), on_err, &e, &z);
    cr_expect_eq(r, RD_ESYNTAX, "%s: %s", file, rd_strerror(r));
    cr_expect_null(z);
    if (e.nerr != 1) dump_errors(&e);
    cr_assert_eq(e.nerr, 1, "%s: %zu errors", file, e.nerr);
    cr_expect_str_eq(e.err[0].file, path);
    cr_expect_eq(e.err[0].line, line, "%s: line %u, want %u (%s)", file, e.err[0].line, line,
                 e.err[0].msg);
    cr_expect(strstr(e.err[0].msg, want) != NULL, "%s: '%s' lacks '%s'", file, e.err[0].msg, want);
}

Test(zonedb_load, two_soa)
{
    expect_load_error("two-soa.zone", 6, "more than one SOA record at bad.test.");
}

Test(zonedb_load, no_soa)
{
    expect_load_error("no-soa.zone", 0, "no SOA record at the zone apex bad.test.");
}

Test(zonedb_load, no_ns)
{
    expect_load_error("no-ns.zone", 0, "no NS records at the zone apex bad.test.");
}

Test(zonedb_load, out_of_zone)
{
    expect_load_error("out-of-zone.zone", 6, "owner www.other.test. is outside the zone bad.test.");
}

Test(zonedb_load, cname_and_other_data)
{
    expect_load_error("cname-other.zone", 7,
                      "CNAME and other data at www.bad.test. (A; the other "
                      "record is at line 6)");
}

Test(zonedb_load, two_cnames)
{
    expect_load_error("two-cnames.zone", 7, "more than one CNAME record at www.bad.test.");
}

Test(zonedb_load, soa_not_at_apex)
{
    expect_load_error("soa-not-apex.zone", 6, "SOA record at sub.bad.test., not at the zone apex");
}

Test(zonedb_load, every_error_reported)
{
    uint8_t o[RD_NAME_MAX];
    errs_t e = {0};
    rd_zone_t *z = NULL;
    const char *text = "a 3600 IN A 192.0.2.1\n"               /* no SOA, no NS */
                       "a.other. 3600 IN A 192.0.2.1\n"        /* outside */
                       "b 3600 IN A 300.1.1.1\n"               /* parser: bad address */
                       "c 3600 IN CNAME a\nc 3600 IN TXT x\n"; /* CNAME and other data */
    int r = rd_zone_load_mem(text, strlen(text), "m.zone", wire("z.test.", o), on_err, &e, &z);
    cr_expect_eq(r, RD_ESYNTAX);
    cr_expect_null(z);
    if (e.nerr != 5) dump_errors(&e);
    cr_assert_eq(e.nerr, 5);
    cr_expect_eq(e.err[0].line, 2);
    cr_expect_eq(e.err[1].line, 3);
    cr_expect_eq(e.err[2].line, 5);
    cr_expect(strstr(e.err[2].msg, "CNAME and other data") != NULL);
    cr_expect_eq(e.err[3].line, 0);
    cr_expect_eq(e.err[4].line, 0);
    cr_expect_str_eq(e.err[4].file, "m.zone");
}

Test(zonedb_load, missing_file_and_bad_arguments)
{
    uint8_t o[RD_NAME_MAX];
    errs_t e = {0};
    rd_zone_t *z = NULL;
    cr_expect_eq(rd_zone_load_file(ZDIR "no-such.zone", wire("x.", o), on_err, &e, &z), RD_EIO);
    cr_expect_null(z);
    cr_expect_eq(e.nerr, 1);
    cr_expect_eq(rd_zone_load_mem("", 0, "m", NULL, NULL, NULL, &z), RD_EINVAL);
    cr_expect_eq(rd_zone_load_mem("", 0, "m", o, NULL, NULL, NULL), RD_EINVAL);
    /* Errors without a callback are still errors. */
    cr_expect_eq(rd_zone_load_mem("", 0, "m", o, NULL, NULL, &z), RD_ESYNTAX);
    cr_expect_null(z);
}

Test(zonedb_load, class_must_be_in)
{
    uint8_t o[RD_NAME_MAX];
    errs_t e = {0};
    rd_zone_t *z = NULL;
    const char *text = "@ 3600 CH SOA ns1 hostmaster 1 3600 900 604800 300\n"
                       "@ 3600 CH NS ns1\n";
    cr_expect_eq(rd_zone_load_mem(text, strlen(text), "m", wire("z.", o), on_err, &e, &z),
                 RD_ESYNTAX);
    cr_assert_geq(e.nerr, 1);
    cr_expect(strstr(e.err[0].msg, "only class IN") != NULL, "%s", e.err[0].msg);
}

Test(zonedb_load, record_limit, .timeout = 120)
{
    /* One record past RD__ZONE_RECORDS_MAX (1,000,000): the load stops with RD_ELIMIT. */
    size_t n = 1000001, cap = n * 24 + 256, len = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    len += (size_t)snprintf(text, cap, "$TTL 60\n@ SOA ns1 h 1 1 1 1 1\n@ NS ns1\n");
    for (size_t i = 2; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "h%zu A 10.0.0.1\n", i);
    uint8_t o[RD_NAME_MAX];
    errs_t e = {0};
    rd_zone_t *z = NULL;
    int r = rd_zone_load_mem(text, len, "big.zone", wire("big.test.", o), on_err, &e, &z);
    cr_expect_eq(r, RD_ELIMIT, "%s", rd_strerror(r));
    cr_expect_null(z);
    cr_assert_eq(e.nerr, 1);
    cr_expect_eq(e.err[0].line, 1000002); /* record k is on line k + 1 */
    cr_expect(strstr(e.err[0].msg, "more than 1000000 records") != NULL, "%s", e.err[0].msg);
    free(text);
}

Test(zonedb_load, owners_in_any_case_share_a_node)
{
    rd_zone_t *z = load_text("@ 3600 IN SOA ns1 hostmaster 1 3600 900 604800 300\n"
                             "@ 3600 IN NS nS1\n"
                             "Ns1 3600 IN A 192.0.2.1\n"
                             "ns1 3600 IN AAAA 2001:db8::1\n"
                             "NS1 3600 IN A 192.0.2.1\n", /* a duplicate in other case */
                             "example.lan.");
    cr_expect_eq(rd_zone_rrset_count(z), 4);
    res_t *r = ask(z, "example.lan.", RD_TYPE_NS, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 2);
    /* Names in rdata keep their case. */
    expect_rr(r, RD_SEC_AN, 0, "example.lan.", RD_TYPE_NS, 3600, "nS1.example.lan.");
    expect_rr(r, RD_SEC_AR, 0, "ns1.example.lan.", RD_TYPE_A, 3600, "192.0.2.1");
    expect_rr(r, RD_SEC_AR, 1, "ns1.example.lan.", RD_TYPE_AAAA, 3600, "2001:db8::1");
    rd_zone_free(z);
}

Test(zonedb_load, empty_apex_and_root_origin)
{
    /* A zone at the root: names one label deep, the apex written last. */
    rd_zone_t *z = load_text("a.b 60 IN A 192.0.2.1\n"
                             "@ 60 IN NS a.b\n"
                             "@ 60 IN SOA a.b. h. 1 2 3 4 5\n",
                             ".");
    res_t *r = ask(z, "b.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    expect_soa(r, 0, ".", 5);
    r = ask(z, "c.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 0, 1, 0);
    r = ask(z, "a.b.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    /* The longest names: 127 labels, 255 octets; no room left for "*." at the encloser. */
    char q[300] = "";
    for (int i = 0; i < 125; i++) strcat(q, "x.");
    strcat(q, "a.b.");
    r = ask(z, q, RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 0, 1, 0);
    rd_zone_free(z);
}

/* ---- answers ---- */

Test(zonedb_answer, exact)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "ns2.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "ns2.example.lan.", RD_TYPE_A, 3600, "192.0.2.2");
    rd_zone_free(z);
}

Test(zonedb_answer, multi_record_rrset_min_ttl_and_duplicates)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "www.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 3, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "www.example.lan.", RD_TYPE_A, 300, "192.0.2.80");
    expect_rr(r, RD_SEC_AN, 1, "www.example.lan.", RD_TYPE_A, 300, "192.0.2.81");
    expect_rr(r, RD_SEC_AN, 2, "www.example.lan.", RD_TYPE_A, 300, "192.0.2.82");
    rd_zone_free(z);
}

Test(zonedb_answer, owner_as_the_client_wrote_it)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "WwW.ExAmple.LAN.", RD_TYPE_AAAA, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr_case(r, RD_SEC_AN, 0, "WwW.ExAmple.LAN.", RD_TYPE_AAAA, 3600, "2001:db8::80", true);
    r = ask(z, "mixed.case.example.lan.", RD_TYPE_TXT, false);
    expect_rr_case(r, RD_SEC_AN, 0, "mixed.case.example.lan.", RD_TYPE_TXT, 3600, NULL, true);
    rd_zone_free(z);
}

Test(zonedb_answer, cname_chain_inside_zone)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "alias1.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 5, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "alias1.example.lan.", RD_TYPE_CNAME, 3600, "alias2.example.lan.");
    expect_rr(r, RD_SEC_AN, 1, "alias2.example.lan.", RD_TYPE_CNAME, 600, "www.example.lan.");
    expect_rr(r, RD_SEC_AN, 2, "www.example.lan.", RD_TYPE_A, 300, "192.0.2.80");
    expect_rr(r, RD_SEC_AN, 4, "www.example.lan.", RD_TYPE_A, 300, "192.0.2.82");
    /* qtype CNAME is not followed. */
    r = ask(z, "alias1.example.lan.", RD_TYPE_CNAME, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    /* CNAME then NODATA at the target: SOA in authority. */
    r = ask(z, "alias1.example.lan.", RD_TYPE_MX, false);
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 2, 1, 0);
    expect_soa(r, 0, "example.lan.", 300);
    rd_zone_free(z);
}

Test(zonedb_answer, cname_leaving_zone)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "out.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_CNAME_OUT, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "out.example.lan.", RD_TYPE_CNAME, 3600, "www.example.net.");
    /* Into a delegated child: the child zone answers the rest. */
    r = ask(z, "tochild.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_CNAME_OUT, RD_RCODE_NOERROR, true, 1, 0, 0);
    rd_zone_free(z);
}

Test(zonedb_answer, cname_to_missing_name_is_nxdomain)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "dangling.example.lan.", RD_TYPE_A, false);
    /* RFC 6604 s2.1: the rcode is about the last name of the chain. */
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 1, 1, 0);
    expect_rr(r, RD_SEC_AN, 0, "dangling.example.lan.", RD_TYPE_CNAME, 3600, NULL);
    expect_soa(r, 0, "example.lan.", 300);
    rd_zone_free(z);
}

Test(zonedb_answer, cname_loop)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "loop1.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 2, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "loop1.example.lan.", RD_TYPE_CNAME, 3600, "loop2.example.lan.");
    expect_rr(r, RD_SEC_AN, 1, "loop2.example.lan.", RD_TYPE_CNAME, 3600, "loop1.example.lan.");
    r = ask(z, "self.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    rd_zone_free(z);
}

Test(zonedb_answer, cname_chain_limit)
{
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof(text), "%s", SOA_NS);
    for (int i = 0; i < 15; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "c%d 60 IN CNAME c%d\n", i, i + 1);
    snprintf(text + n, sizeof(text) - n, "c15 60 IN A 192.0.2.15\n");
    rd_zone_t *z = load_text(text, "chain.test.");
    /* 11 CNAMEs followed, then the caller takes over from c11. */
    res_t *r = ask(z, "c0.chain.test.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_CNAME_OUT, RD_RCODE_NOERROR, true, 11, 0, 0);
    expect_rr(r, RD_SEC_AN, 10, "c10.chain.test.", RD_TYPE_CNAME, 60, "c11.chain.test.");
    /* A shorter chain gets to the end. */
    r = ask(z, "c5.chain.test.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 11, 0, 0);
    expect_rr(r, RD_SEC_AN, 10, "c15.chain.test.", RD_TYPE_A, 60, "192.0.2.15");
    rd_zone_free(z);
}

Test(zonedb_answer, dname)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "a.dn.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 3, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "dn.example.lan.", RD_TYPE_DNAME, 1200, "target.example.lan.");
    /* RFC 6672 s3.1: the synthesised CNAME has the DNAME's TTL. */
    expect_rr(r, RD_SEC_AN, 1, "a.dn.example.lan.", RD_TYPE_CNAME, 1200, "a.target.example.lan.");
    expect_rr(r, RD_SEC_AN, 2, "a.target.example.lan.", RD_TYPE_A, 3600, "192.0.2.100");
    /* Rewritten to a missing name. */
    r = ask(z, "zz.dn.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 2, 1, 0);
    /* Out of the zone. */
    r = ask(z, "x.y.dnout.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_CNAME_OUT, RD_RCODE_NOERROR, true, 2, 0, 0);
    expect_rr(r, RD_SEC_AN, 1, "x.y.dnout.example.lan.", RD_TYPE_CNAME, 3600, "x.y.example.net.");
    /* The DNAME owner itself is not redirected. */
    r = ask(z, "dn.example.lan.", RD_TYPE_DNAME, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    r = ask(z, "dn.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    rd_zone_free(z);
}

Test(zonedb_answer, dname_too_long_is_yxdomain)
{
    char text[1024], q[512];
    const char *l50 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    snprintf(text, sizeof(text), "%sd 60 IN DNAME %s.%s.%s.%s.example.net.\n", SOA_NS, l50, l50,
             l50, l50);
    rd_zone_t *z = load_text(text, "y.test.");
    /* The target is 4 * 51 + 13 = 217 octets; a 39-character label (40 octets) before d.y.test.
     * makes the rewrite 257. */
    snprintf(q, sizeof(q), "%.39s.d.y.test.", l50);
    res_t *r = ask(z, q, RD_TYPE_A, false);
    cr_expect_eq(RD_RCODE(r->m.flags), 6, "rcode %d", RD_RCODE(r->m.flags));
    cr_expect_eq(r->result, RD_ZR_ANSWER);
    cr_expect_eq(r->m.count[RD_SEC_AN], 1);
    expect_rr(r, RD_SEC_AN, 0, "d.y.test.", RD_TYPE_DNAME, 60, NULL);
    /* Two octets shorter fits: 255 exactly. */
    snprintf(q, sizeof(q), "%.37s.d.y.test.", l50);
    r = ask(z, q, RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_CNAME_OUT, RD_RCODE_NOERROR, true, 2, 0, 0);
    rd_zone_free(z);
}

Test(zonedb_answer, dname_at_apex)
{
    rd_zone_t *z = load_text(SOA_NS "@ 60 IN DNAME example.net.\n", "old.test.");
    res_t *r = ask(z, "www.old.test.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_CNAME_OUT, RD_RCODE_NOERROR, true, 2, 0, 0);
    expect_rr(r, RD_SEC_AN, 1, "www.old.test.", RD_TYPE_CNAME, 60, "www.example.net.");
    /* Data below the DNAME is shadowed by it (RFC 6672 s2.3). */
    r = ask(z, "ns1.old.test.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_CNAME_OUT, RD_RCODE_NOERROR, true, 2, 0, 0);
    r = ask(z, "old.test.", RD_TYPE_SOA, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    rd_zone_free(z);
}

Test(zonedb_answer, nxdomain_and_nodata)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "nothere.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 0, 1, 0);
    /* RFC 2308 s5: min(SOA TTL 3600, MINIMUM 300). */
    expect_soa(r, 0, "example.lan.", 300);
    r = ask(z, "ns2.example.lan.", RD_TYPE_MX, false);
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    expect_soa(r, 0, "example.lan.", 300);
    /* Empty non-terminals exist (RFC 8020): NODATA, not NXDOMAIN. */
    r = ask(z, "b.ent.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    r = ask(z, "ent.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    r = ask(z, "x.b.ent.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 0, 1, 0);
    r = ask(z, "a.b.ent.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    rd_zone_free(z);
}

Test(zonedb_answer, negative_ttl_is_the_smaller)
{
    rd_zone_t *z = load_text("@ 60 IN SOA ns1 hostmaster 1 3600 900 604800 300\n"
                             "@ 60 IN NS ns1\n",
                             "neg.test.");
    res_t *r = ask(z, "x.neg.test.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 0, 1, 0);
    expect_soa(r, 0, "neg.test.", 60);
    /* Asked directly, the SOA keeps its own TTL. */
    r = ask(z, "neg.test.", RD_TYPE_SOA, false);
    expect_rr(r, RD_SEC_AN, 0, "neg.test.", RD_TYPE_SOA, 60,
              "ns1.neg.test. hostmaster.neg.test. 1 3600 900 604800 300");
    rd_zone_free(z);
}

Test(zonedb_answer, wildcard_rfc4592_matches)
{
    rd_zone_t *z = load_file(ZDIR "rfc4592.zone", "example.");
    res_t *r = ask(z, "host3.example.", RD_TYPE_MX, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 1);
    expect_rr_case(r, RD_SEC_AN, 0, "host3.example.", RD_TYPE_MX, 3600, "10 host1.example.", true);
    expect_rr(r, RD_SEC_AR, 0, "host1.example.", RD_TYPE_A, 3600, "192.0.2.1");
    r = ask(z, "host3.example.", RD_TYPE_A, false); /* the wildcard has no A */
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    r = ask(z, "foo.bar.example.", RD_TYPE_TXT, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "foo.bar.example.", RD_TYPE_TXT, 3600, "\"this is a wildcard\"");
    /* The wildcard itself, asked for by name. */
    r = ask(z, "*.example.", RD_TYPE_TXT, false);
    expect_rr(r, RD_SEC_AN, 0, "*.example.", RD_TYPE_TXT, 3600, "\"this is a wildcard\"");
    rd_zone_free(z);
}

Test(zonedb_answer, wildcard_rfc4592_non_matches)
{
    rd_zone_t *z = load_file(ZDIR "rfc4592.zone", "example.");
    res_t *r = ask(z, "host1.example.", RD_TYPE_MX, false); /* the name exists */
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    r = ask(z, "sub.*.example.", RD_TYPE_MX, false);
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    /* Closest encloser _tcp.host1.example has no wildcard child. */
    r = ask(z, "_telnet._tcp.host1.example.", RD_TYPE_SRV, false);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 0, 1, 0);
    expect_soa(r, 0, "example.", 3600);
    /* An empty non-terminal blocks the wildcard above it. */
    r = ask(z, "_tcp.host1.example.", RD_TYPE_SRV, false);
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    r = ask(z, "host.subdel.example.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_REFERRAL, RD_RCODE_NOERROR, false, 0, 2, 0);
    /* Closest encloser is *.example itself: *.*.example does not exist. */
    r = ask(z, "ghost.*.example.", RD_TYPE_MX, false);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 0, 1, 0);
    rd_zone_free(z);
}

Test(zonedb_answer, wildcard_cname)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "x.wild.example.lan.", RD_TYPE_AAAA, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 2, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "x.wild.example.lan.", RD_TYPE_CNAME, 3600, "www.example.lan.");
    expect_rr(r, RD_SEC_AN, 1, "www.example.lan.", RD_TYPE_AAAA, 3600, "2001:db8::80");
    r = ask(z, "wild.example.lan.", RD_TYPE_A, false); /* empty non-terminal */
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    /* A wildcard CNAME into its own wildcard: a loop, stopped. */
    rd_zone_t *z2 = load_text(SOA_NS "* 60 IN CNAME a.x\n", "w.test.");
    r = ask(z2, "b.w.test.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 2, 0, 0);
    expect_rr(r, RD_SEC_AN, 1, "a.x.w.test.", RD_TYPE_CNAME, 60, "a.x.w.test.");
    rd_zone_free(z2);
    rd_zone_free(z);
}

Test(zonedb_answer, referral_with_glue)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "host.child.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_REFERRAL, RD_RCODE_NOERROR, false, 0, 2, 2);
    expect_rr(r, RD_SEC_NS, 0, "child.example.lan.", RD_TYPE_NS, 3600, "ns.example.net.");
    expect_rr(r, RD_SEC_NS, 1, "child.example.lan.", RD_TYPE_NS, 3600, "ns1.child.example.lan.");
    expect_rr(r, RD_SEC_AR, 0, "ns1.child.example.lan.", RD_TYPE_A, 3600, "192.0.2.53");
    expect_rr(r, RD_SEC_AR, 1, "ns1.child.example.lan.", RD_TYPE_AAAA, 3600, "2001:db8::53");
    /* At the cut itself, for NS or anything else but DS. */
    r = ask(z, "child.example.lan.", RD_TYPE_NS, false);
    expect_hdr(r, RD_ZR_REFERRAL, RD_RCODE_NOERROR, false, 0, 2, 2);
    /* The glue's own name is below the cut too. */
    r = ask(z, "ns1.child.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_REFERRAL, RD_RCODE_NOERROR, false, 0, 2, 2);
    /* With DO the DS goes along (RFC 4035 s3.1.4). */
    r = ask(z, "host.child.example.lan.", RD_TYPE_A, true);
    expect_hdr(r, RD_ZR_REFERRAL, RD_RCODE_NOERROR, false, 0, 3, 2);
    expect_rr(r, RD_SEC_NS, 2, "child.example.lan.", RD_TYPE_DS, 3600, NULL);
    rd_zone_free(z);
}

Test(zonedb_answer, ds_at_the_cut)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "child.example.lan.", RD_TYPE_DS, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "child.example.lan.", RD_TYPE_DS, 3600, NULL);
    r = ask(z, "nods.example.lan.", RD_TYPE_DS, false);
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    expect_soa(r, 0, "example.lan.", 300);
    /* Below the cut, DS is the child's business. */
    r = ask(z, "x.child.example.lan.", RD_TYPE_DS, false);
    expect_hdr(r, RD_ZR_REFERRAL, RD_RCODE_NOERROR, false, 0, 2, 2);
    rd_zone_free(z);
}

Test(zonedb_answer, any_is_minimal)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "www.example.lan.", RD_TYPE_ANY, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 3, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "www.example.lan.", RD_TYPE_A, 300, NULL);
    r = ask(z, "example.lan.", RD_TYPE_ANY, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 2, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "example.lan.", RD_TYPE_NS, 3600, NULL);
    r = ask(z, "alias1.example.lan.", RD_TYPE_ANY, false); /* not followed */
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "alias1.example.lan.", RD_TYPE_CNAME, 3600, NULL);
    r = ask(z, "www.example.lan.", RD_TYPE_ANY, true);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 4, 0, 0);
    expect_rr(r, RD_SEC_AN, 3, "www.example.lan.", RD_TYPE_RRSIG, 300, NULL);
    r = ask(z, "nothere.example.lan.", RD_TYPE_ANY, false);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 0, 1, 0);
    rd_zone_free(z);
}

Test(zonedb_answer, dnssec_ok_adds_rrsigs)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "www.example.lan.", RD_TYPE_A, true);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 4, 0, 0);
    expect_rr(r, RD_SEC_AN, 3, "www.example.lan.", RD_TYPE_RRSIG, 300,
              "A 13 3 300 20340601000000 20240601000000 23413 example.lan. YXNpZ25hdHVyZQ==");
    r = ask(z, "www.example.lan.", RD_TYPE_AAAA, true);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 2, 0, 0);
    expect_rr(r, RD_SEC_AN, 1, "www.example.lan.", RD_TYPE_RRSIG, 3600,
              "AAAA 13 3 3600 20340601000000 20240601000000 23413 example.lan. YWFhYXNpZw==");
    /* Negative answers: the SOA's signature, at the negative TTL too. */
    r = ask(z, "nothere.example.lan.", RD_TYPE_A, true);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 0, 2, 0);
    expect_soa(r, 0, "example.lan.", 300);
    expect_rr(r, RD_SEC_NS, 1, "example.lan.", RD_TYPE_RRSIG, 300, NULL);
    /* Without DO, no signatures anywhere; qtype RRSIG gets them all. */
    r = ask(z, "www.example.lan.", RD_TYPE_A, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 3, 0, 0);
    r = ask(z, "www.example.lan.", RD_TYPE_RRSIG, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 2, 0, 0);
    rd_zone_free(z);
}

Test(zonedb_answer, additional_for_mx_srv_ns)
{
    rd_zone_t *z = example();
    res_t *r = ask(z, "example.lan.", RD_TYPE_MX, false);
    /* mail twice among the MX targets: its address once; mail2 is out of the zone. */
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 3, 0, 1);
    expect_rr(r, RD_SEC_AR, 0, "mail.example.lan.", RD_TYPE_A, 3600, "192.0.2.25");
    r = ask(z, "_sip._udp.example.lan.", RD_TYPE_SRV, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 1);
    expect_rr(r, RD_SEC_AR, 0, "sip.example.lan.", RD_TYPE_A, 3600, "192.0.2.60");
    r = ask(z, "example.lan.", RD_TYPE_NS, false);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 2, 0, 3);
    expect_rr(r, RD_SEC_AR, 0, "ns1.example.lan.", RD_TYPE_A, 3600, "192.0.2.1");
    expect_rr(r, RD_SEC_AR, 1, "ns1.example.lan.", RD_TYPE_AAAA, 3600, "2001:db8::1");
    expect_rr(r, RD_SEC_AR, 2, "ns2.example.lan.", RD_TYPE_A, 3600, "192.0.2.2");
    rd_zone_free(z);
}

static rd_zone_t *big_zone(void)
{
    char *text = malloc(8192);
    cr_assert_not_null(text);
    size_t n = (size_t)snprintf(text, 8192, "%s", SOA_NS);
    for (int i = 1; i <= 100; i++)
        n += (size_t)snprintf(text + n, 8192 - n, "big 60 IN A 10.0.0.%d\n", i);
    n += (size_t)snprintf(text + n, 8192 - n, "to-big 60 IN CNAME big\n");
    rd_zone_t *z = load_text(text, "big.test.");
    free(text);
    return z;
}

Test(zonedb_answer, truncation_keeps_whole_rrsets)
{
    rd_zone_t *z = big_zone();
    res_t *r = ask_lim(z, "big.big.test.", RD_TYPE_A, false, 512);
    cr_expect_eq(r->rc, 0);
    cr_expect(r->m.flags & RD_F_TC, "TC not set");
    cr_expect_eq(r->m.count[RD_SEC_AN], 0, "partial RRset: %u records", r->m.count[RD_SEC_AN]);
    cr_expect_eq(r->m.count[RD_SEC_NS], 0);
    cr_expect_eq(r->result, RD_ZR_ANSWER);
    cr_expect_leq(r->len, 512);
    /* The CNAME fits, the RRset after it does not: the CNAME stays, TC, nothing after. */
    r = ask_lim(z, "to-big.big.test.", RD_TYPE_A, false, 512);
    cr_expect(r->m.flags & RD_F_TC);
    cr_expect_eq(r->m.count[RD_SEC_AN], 1);
    expect_rr(r, RD_SEC_AN, 0, "to-big.big.test.", RD_TYPE_CNAME, 60, "big.big.test.");
    /* With room, all 100. */
    r = ask_lim(z, "big.big.test.", RD_TYPE_A, false, 4096);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 100, 0, 0);
    rd_zone_free(z);
}

Test(zonedb_answer, additional_dropped_silently)
{
    /* A referral whose glue does not fit: NS kept, no TC, glue dropped whole. */
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof(text), "%s", SOA_NS);
    n += (size_t)snprintf(text + n, sizeof(text) - n, "sub 60 IN NS ns.sub\n");
    for (int i = 1; i <= 40; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "ns.sub 60 IN A 10.0.0.%d\n", i);
    rd_zone_t *z = load_text(text, "glue.test.");
    res_t *r = ask_lim(z, "x.sub.glue.test.", RD_TYPE_A, false, 512);
    cr_expect_eq(r->rc, 0);
    cr_expect_eq(r->m.flags & RD_F_TC, 0);
    cr_expect_eq(r->result, RD_ZR_REFERRAL);
    cr_expect_eq(r->m.count[RD_SEC_NS], 1);
    cr_expect_eq(r->m.count[RD_SEC_AR], 0);
    rd_zone_free(z);
}

/* A naive model of RFC 1034 s4.3.2 + RFC 4592 + RFC 8020 over names relative to the apex
 * ("" is the apex), checked against the zone on every name of up to four labels from a small
 * alphabet that includes "*": owners, empty non-terminals, wildcards, wildcard non-terminals
 * and names that do not exist. */
#define MODEL_OWNERS 24

static bool model_owner(char owners[][16], int n, const char *q)
{
    for (int i = 0; i < n; i++)
        if (strcmp(owners[i], q) == 0) return true;
    return false;
}

static bool model_exists(char owners[][16], int n, const char *q)
{
    if (!*q) return true;
    size_t ql = strlen(q);
    for (int i = 0; i < n; i++) {
        size_t ol = strlen(owners[i]);
        if (strcmp(owners[i], q) == 0) return true;
        if (ol > ql && owners[i][ol - ql - 1] == '.' && strcmp(owners[i] + ol - ql, q) == 0)
            return true;
    }
    return false;
}

static const char *model_parent(const char *q)
{
    const char *dot = strchr(q, '.');
    return dot ? dot + 1 : "";
}

static int model_answer(char owners[][16], int n, const char *q)
{
    if (model_exists(owners, n, q)) return model_owner(owners, n, q) ? RD_ZR_ANSWER : RD_ZR_NODATA;
    const char *ce = model_parent(q);
    while (!model_exists(owners, n, ce)) ce = model_parent(ce);
    char wc[32];
    snprintf(wc, sizeof(wc), *ce ? "*.%s" : "*", ce);
    if (!model_exists(owners, n, wc)) return RD_ZR_NXDOMAIN;
    return model_owner(owners, n, wc) ? RD_ZR_ANSWER : RD_ZR_NODATA;
}

Test(zonedb_answer, model_of_wildcards_and_empty_non_terminals)
{
    static const char *labels[] = {"a", "b", "c", "*"};
    unsigned seed = 12345;
    for (int round = 0; round < 40; round++) {
        char owners[MODEL_OWNERS][16], text[4096];
        int n = 0;
        size_t tl = (size_t)snprintf(text, sizeof(text),
                                     "@ 60 IN SOA ns.example. h.example. 1 2 3 4 5\n"
                                     "@ 60 IN NS ns.example.\n");
        int want = 1 + round % MODEL_OWNERS;
        while (n < want) {
            seed = seed * 1103515245u + 12345u;
            int depth = 1 + (int)((seed >> 16) % 4);
            char name[16] = "", cased[16] = "";
            for (int d = 0; d < depth; d++) {
                seed = seed * 1103515245u + 12345u;
                const char *l = labels[(seed >> 16) % 4];
                strcat(name, d ? "." : "");
                strcat(name, l);
                /* the file writes some labels in upper case */
                strcat(cased, d ? "." : "");
                strcat(cased, ((seed >> 20) & 1) && *l != '*' ? (*l == 'a'   ? "A"
                                                                 : *l == 'b' ? "B"
                                                                             : "C")
                                                              : l);
            }
            if (model_owner(owners, n, name)) continue;
            strcpy(owners[n++], name);
            tl += (size_t)snprintf(text + tl, sizeof(text) - tl, "%s 60 IN A 192.0.2.1\n", cased);
        }
        rd_zone_t *z = load_text(text, "t.");
        /* every name of up to four labels over the alphabet */
        for (int depth = 0; depth <= 4; depth++) {
            int total = 1;
            for (int d = 0; d < depth; d++) total *= 4;
            for (int k = 0; k < total; k++) {
                char q[16] = "", qn[32];
                for (int d = 0, v = k; d < depth; d++, v /= 4) {
                    strcat(q, d ? "." : "");
                    strcat(q, labels[v % 4]);
                }
                snprintf(qn, sizeof(qn), "%s%st.", q, depth ? "." : "");
                int w = model_answer(owners, n, q);
                res_t *r = ask(z, qn, RD_TYPE_A, false);
                cr_assert_eq(r->result, w, "round %d, %s: %s, model says %s", round, qn,
                             result_name(r->result), result_name(w));
                cr_assert_eq(r->m.count[RD_SEC_AN], w == RD_ZR_ANSWER);
                cr_assert_eq(r->m.count[RD_SEC_NS], w != RD_ZR_ANSWER);
                if (w == RD_ZR_ANSWER)
                    expect_rr_case(r, RD_SEC_AN, 0, qn, RD_TYPE_A, 60, NULL, true);
            }
        }
        rd_zone_free(z);
    }
}

Test(zonedb_answer, question_outside_zone)
{
    rd_zone_t *z = example();
    uint8_t q[RD_NAME_MAX], buf[512];
    rd_mb_t b;
    int res;
    rd_mb_init(&b, buf, sizeof(buf), sizeof(buf), 1, RD_F_QR);
    cr_expect_eq(rd_zone_answer(z, wire("example.com.", q), RD_TYPE_A, false, &b, &res), RD_EINVAL);
    cr_expect_eq(rd_zone_answer(z, wire("lan.", q), RD_TYPE_A, false, &b, &res), RD_EINVAL);
    rd_zone_free(z);
}

/* ---- zone sets ---- */

Test(zoneset, longest_match)
{
    rd_zoneset_t *s;
    cr_assert_eq(rd_zoneset_new(&s), 0);
    cr_assert_eq(rd_zoneset_add(s, example()), 0);
    cr_assert_eq(rd_zoneset_add(s, load_text(SOA_NS, "child.example.lan.")), 0);
    cr_assert_eq(rd_zoneset_add(s, load_text(SOA_NS, "net.")), 0);
    uint8_t n[RD_NAME_MAX], o[RD_NAME_MAX];
    const rd_zone_t *z = rd_zoneset_find(s, wire("a.b.child.example.lan.", n));
    cr_assert_not_null(z);
    cr_expect(rd_name_eq(rd_zone_origin(z), wire("child.example.lan.", o)));
    z = rd_zoneset_find(s, wire("CHILD.example.LAN.", n));
    cr_assert_not_null(z);
    cr_expect(rd_name_eq(rd_zone_origin(z), wire("child.example.lan.", o)));
    z = rd_zoneset_find(s, wire("www.example.lan.", n));
    cr_assert_not_null(z);
    cr_expect(rd_name_eq(rd_zone_origin(z), wire("example.lan.", o)));
    z = rd_zoneset_find(s, wire("xchild.example.lan.", n));
    cr_expect(rd_name_eq(rd_zone_origin(z), wire("example.lan.", o)));
    z = rd_zoneset_find(s, wire("example.net.", n));
    cr_expect(rd_name_eq(rd_zone_origin(z), wire("net.", o)));
    cr_expect_null(rd_zoneset_find(s, wire("lan.", n)));
    cr_expect_null(rd_zoneset_find(s, wire("example.com.", n)));
    cr_expect_null(rd_zoneset_find(s, wire(".", n)));
    /* The same origin twice is refused and the zone stays the caller's. */
    rd_zone_t *dup = load_text(SOA_NS, "Example.LAN.");
    cr_expect_eq(rd_zoneset_add(s, dup), RD_EINVAL);
    rd_zone_free(dup);
    rd_zoneset_free(s);
}

/* Asks the zone set, as a caller would: find the zone, then answer from it. */
static res_t *ask_set(const rd_zoneset_t *s, const char *qname, uint16_t qtype)
{
    uint8_t q[RD_NAME_MAX];
    const rd_zone_t *z = rd_zoneset_find(s, wire(qname, q));
    cr_assert_not_null(z, "no zone for %s", qname);
    return ask(z, qname, qtype, false);
}

static rd_zoneset_t *builtin_set(void)
{
    rd_zoneset_t *s;
    cr_assert_eq(rd_zoneset_new(&s), 0);
    cr_assert_eq(rd_zoneset_add_builtin(s), 0);
    return s;
}

Test(zoneset, builtin_localhost)
{
    rd_zoneset_t *s = builtin_set();
    res_t *r = ask_set(s, "localhost.", RD_TYPE_A);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "localhost.", RD_TYPE_A, 10800, "127.0.0.1");
    r = ask_set(s, "localhost.", RD_TYPE_AAAA);
    expect_rr(r, RD_SEC_AN, 0, "localhost.", RD_TYPE_AAAA, 10800, "::1");
    /* RFC 6761 s6.3: names below localhost. are loopback too. */
    r = ask_set(s, "x.localhost.", RD_TYPE_A);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "x.localhost.", RD_TYPE_A, 10800, "127.0.0.1");
    r = ask_set(s, "a.b.localhost.", RD_TYPE_AAAA);
    expect_rr(r, RD_SEC_AN, 0, "a.b.localhost.", RD_TYPE_AAAA, 10800, "::1");
    r = ask_set(s, "x.localhost.", RD_TYPE_MX);
    expect_hdr(r, RD_ZR_NODATA, RD_RCODE_NOERROR, true, 0, 1, 0);
    expect_soa(r, 0, "localhost.", 10800);
    rd_zoneset_free(s);
}

Test(zoneset, builtin_reverse_zones)
{
    rd_zoneset_t *s = builtin_set();
    res_t *r = ask_set(s, "1.0.0.127.in-addr.arpa.", RD_TYPE_PTR);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "1.0.0.127.in-addr.arpa.", RD_TYPE_PTR, 10800, "localhost.");
    r = ask_set(s, "5.1.168.192.in-addr.arpa.", RD_TYPE_PTR);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 0, 1, 0);
    expect_soa(r, 0, "168.192.in-addr.arpa.", 10800);
    expect_rr(r, RD_SEC_NS, 0, "168.192.in-addr.arpa.", RD_TYPE_SOA, 10800,
              "168.192.in-addr.arpa. nobody.invalid. 1 3600 1200 604800 10800");
    r = ask_set(s, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
                RD_TYPE_PTR);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr(r, RD_SEC_AN, 0,
              "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
              RD_TYPE_PTR, 10800, "localhost.");
    static const char *nx[] = {
        "1.2.3.10.in-addr.arpa.",
        "1.1.16.172.in-addr.arpa.",
        "1.1.31.172.in-addr.arpa.",
        "1.1.1.0.in-addr.arpa.",
        "2.0.0.127.in-addr.arpa.",
        "1.1.254.169.in-addr.arpa.",
        "1.2.0.192.in-addr.arpa.",
        "1.100.51.198.in-addr.arpa.",
        "1.113.0.203.in-addr.arpa.",
        "255.255.255.255.in-addr.arpa.",
        "1.1.64.100.in-addr.arpa.",
        "1.1.127.100.in-addr.arpa.",
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
        "1.2.d.f.ip6.arpa.",
        "1.8.e.f.ip6.arpa.",
        "1.9.e.f.ip6.arpa.",
        "1.a.e.f.ip6.arpa.",
        "1.b.e.f.ip6.arpa.",
        "1.8.b.d.0.1.0.0.2.ip6.arpa.",
        "x.onion.",
        "x.invalid.",
    };
    for (size_t i = 0; i < sizeof(nx) / sizeof(nx[0]); i++) {
        uint8_t q[RD_NAME_MAX];
        const rd_zone_t *z = rd_zoneset_find(s, wire(nx[i], q));
        cr_assert_not_null(z, "%s", nx[i]);
        r = ask(z, nx[i], RD_TYPE_PTR, false);
        /* 255.255.255.255.in-addr.arpa. is an apex: NODATA there. */
        int want = i == 9 ? RD_ZR_NODATA : RD_ZR_NXDOMAIN;
        cr_expect_eq(r->result, want, "%s: %s", nx[i], result_name(r->result));
        cr_expect_eq(r->m.count[RD_SEC_NS], 1, "%s", nx[i]);
        cr_expect_eq(rd_msg_rr(&r->m, RD_SEC_NS, 0)->ttl, 10800);
    }
    /* Every /16 of 172.16/12 and 100.64/10 is a zone; the neighbours are not. */
    for (int i = 0; i < 256; i++) {
        char name[64];
        uint8_t q[RD_NAME_MAX];
        snprintf(name, sizeof(name), "%d.172.in-addr.arpa.", i);
        cr_expect_eq(rd_zoneset_find(s, wire(name, q)) != NULL, i >= 16 && i <= 31, "%s", name);
        snprintf(name, sizeof(name), "%d.100.in-addr.arpa.", i);
        cr_expect_eq(rd_zoneset_find(s, wire(name, q)) != NULL, i >= 64 && i <= 127, "%s", name);
    }
    rd_zoneset_free(s);
}

Test(zoneset, builtin_leaves_others_alone)
{
    rd_zoneset_t *s = builtin_set();
    uint8_t q[RD_NAME_MAX];
    static const char *none[] = {"foo.test.",           "test.",
                                 "example.com.",        "1.1.168.193.in-addr.arpa.",
                                 "1.1.1.in-addr.arpa.", "1.1.15.172.in-addr.arpa.",
                                 "in-addr.arpa.",       "1.c.e.f.ip6.arpa.",
                                 "1.c.f.ip6.arpa.",     "."};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        cr_expect_null(rd_zoneset_find(s, wire(none[i], q)), "%s", none[i]);
    /* Adding them again changes nothing. */
    cr_expect_eq(rd_zoneset_add_builtin(s), 0);
    rd_zoneset_free(s);
}

Test(zoneset, configured_zone_overrides_builtin)
{
    rd_zoneset_t *s;
    cr_assert_eq(rd_zoneset_new(&s), 0);
    cr_assert_eq(rd_zoneset_add(s, load_text("@ 600 IN SOA ns1 h 7 3600 900 604800 60\n"
                                             "@ 600 IN NS ns1.example.lan.\n"
                                             "5.2 600 IN PTR printer.example.lan.\n",
                                             "168.192.in-addr.arpa.")),
                 0);
    /* A configured zone below a builtin one leaves the builtin in place. */
    cr_assert_eq(
        rd_zoneset_add(s, load_file(RD_SOURCE_DIR "/zones/local/1.168.192.in-addr.arpa.zone",
                                    "1.168.192.in-addr.arpa.")),
        0);
    /* One that encloses builtins replaces them all. */
    cr_assert_eq(rd_zoneset_add(s, load_text(SOA_NS, "ip6.arpa.")), 0);
    cr_assert_eq(rd_zoneset_add_builtin(s), 0);
    res_t *r = ask_set(s, "5.2.168.192.in-addr.arpa.", RD_TYPE_PTR);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    expect_rr(r, RD_SEC_AN, 0, "5.2.168.192.in-addr.arpa.", RD_TYPE_PTR, 600,
              "printer.example.lan.");
    r = ask_set(s, "6.2.168.192.in-addr.arpa.", RD_TYPE_PTR);
    expect_hdr(r, RD_ZR_NXDOMAIN, RD_RCODE_NXDOMAIN, true, 0, 1, 0);
    expect_soa(r, 0, "168.192.in-addr.arpa.", 60);
    r = ask_set(s, "1.1.168.192.in-addr.arpa.", RD_TYPE_PTR);
    expect_rr(r, RD_SEC_AN, 0, "1.1.168.192.in-addr.arpa.", RD_TYPE_PTR, 3600, "router.home.lan.");
    uint8_t q[RD_NAME_MAX], o[RD_NAME_MAX];
    const rd_zone_t *z = rd_zoneset_find(s, wire("1.2.d.f.ip6.arpa.", q));
    cr_assert_not_null(z);
    cr_expect(rd_name_eq(rd_zone_origin(z), wire("ip6.arpa.", o)));
    /* Builtins the configured zones do not cover are still there. */
    r = ask_set(s, "localhost.", RD_TYPE_A);
    expect_hdr(r, RD_ZR_ANSWER, RD_RCODE_NOERROR, true, 1, 0, 0);
    rd_zoneset_free(s);
}
