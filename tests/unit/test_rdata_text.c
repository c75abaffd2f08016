/* Rdata presentation format (src/wire/rdata_text.c, svcb_text.c): text -> wire -> text for
 * every type in the table, hand-checked wire, RFC 3597 generic form, RFC 9460 Appendix D,
 * error codes with the offending token, and printing of truncated or corrupted rdata. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "resolverd/name.h"
#include "resolverd/rrtype.h"

#define MAXTOK  300
#define WIREMAX 65535
#define TEXTMAX 140000

typedef struct {
    rd_tok_t t[MAXTOK];
    size_t n;
} toks_t;

/* Splits like the zone lexer: blanks separate tokens, '"' starts and ends a quoted token
 * (returned without its quotes) and also ends an unquoted one; escapes stay in place. */
static void lex(const char *s, toks_t *tk)
{
    size_t i = 0, n = strlen(s);
    tk->n = 0;
    while (i < n) {
        if (s[i] == ' ' || s[i] == '\t') {
            i++;
            continue;
        }
        cr_assert_lt(tk->n, MAXTOK);
        bool quoted = s[i] == '"';
        if (quoted) i++;
        size_t start = i;
        while (i < n && s[i] != '"' && (quoted || (s[i] != ' ' && s[i] != '\t'))) {
            if (s[i] == '\\' && i + 1 < n) i++;
            i++;
        }
        tk->t[tk->n++] = (rd_tok_t){.s = s + start, .len = i - start, .quoted = quoted};
        if (quoted) {
            cr_assert_lt(i, n, "unterminated quote in test text: %s", s);
            i++;
        }
    }
}

static uint8_t origin[RD_NAME_MAX];

static void setup(void)
{
    size_t n;
    cr_assert_eq(rd_name_from_text("example.", 8, NULL, origin, &n), 0);
}

static uint16_t type_of(const char *mnemonic)
{
    uint16_t t;
    cr_assert_eq(rd_rrtype_from_text(mnemonic, strlen(mnemonic), &t), 0, "%s", mnemonic);
    return t;
}

static int parse(uint16_t type, const char *text, uint8_t *w, size_t cap, size_t *len,
                 size_t *errtok)
{
    static toks_t tk;
    lex(text, &tk);
    return rd_rdata_from_text(type, tk.t, tk.n, origin, w, cap, len, errtok);
}

static size_t parse_ok(uint16_t type, const char *text, uint8_t *w)
{
    size_t len = 0, errtok = 0;
    int r = parse(type, text, w, WIREMAX, &len, &errtok);
    cr_assert_eq(r, 0, "type %u \"%s\": %s at token %zu", type, text, rd_strerror(r), errtok);
    return len;
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (const char *p = hex; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        cr_assert_eq(sscanf(p, "%2x", &v), 1, "bad hex in test: %s", hex);
        out[n++] = (uint8_t)v;
        p += 2;
    }
    return n;
}

static void print_ok(uint16_t type, const uint8_t *w, size_t len, char *out)
{
    int r = rd_rdata_to_text(type, w, len, out, TEXTMAX);
    cr_assert_geq(r, 0, "type %u: %s", type, rd_strerror(r));
    cr_assert_eq((size_t)r, strlen(out));
}

/* text -> wire (== hex when given) -> text (== want, or text itself) -> same wire. */
static void round_trip(uint16_t type, const char *text, const char *hex, const char *want)
{
    static uint8_t w[WIREMAX], w2[WIREMAX], expect[WIREMAX];
    static char out[TEXTMAX];
    size_t len = parse_ok(type, text, w);
    if (hex) {
        size_t elen = unhex(hex, expect);
        cr_assert_eq(len, elen, "\"%s\": wire length %zu, want %zu", text, len, elen);
        cr_assert_arr_eq(w, expect, len, "\"%s\": wire differs", text);
    }
    if (rd_rrtype(type)->name)
        cr_assert_eq(rd_rdata_check(w, len, 0, (uint16_t)len, type), 0, "\"%s\"", text);
    print_ok(type, w, len, out);
    cr_assert_str_eq(out, want ? want : text);
    size_t len2 = parse_ok(type, out, w2);
    cr_assert_eq(len2, len);
    cr_assert_arr_eq(w2, w, len);
}

static void parse_err(uint16_t type, const char *text, int code, size_t errtok)
{
    static uint8_t w[WIREMAX];
    size_t len = 0, et = 999;
    int r = parse(type, text, w, WIREMAX, &len, &et);
    cr_assert_eq(r, code, "type %u \"%s\": got %d (%s), want %d (%s)", type, text, r,
                 rd_strerror(r), code, rd_strerror(code));
    cr_assert_eq(et, errtok, "type %u \"%s\": errtok %zu, want %zu", type, text, et, errtok);
}

static void print_is(uint16_t type, const char *hex, const char *want)
{
    static uint8_t w[WIREMAX];
    static char out[TEXTMAX];
    size_t len = unhex(hex, w);
    print_ok(type, w, len, out);
    cr_assert_str_eq(out, want);
}

/* One sample per type in the table, in the form we print (checked against named-compilezone
 * of BIND 9.18, apart from the documented differences). */
static const struct {
    const char *type;
    const char *text;
} samples[] = {
    {"A", "192.0.2.1"},
    {"NS", "ns1.example."},
    {"CNAME", "target.example.org."},
    {"SOA", "ns.example. admin.example. 2024010101 7200 3600 1209600 3600"},
    {"NULL", "\\# 3 abcdef"},
    {"PTR", "host.example."},
    {"HINFO", "\"INTEL\" \"LINUX\""},
    {"MX", "10 mail.example."},
    {"TXT", "\"v=spf1 -all\" \"a\\\"b\\\\c\\001 d\" \"\""},
    {"RP", "admin.example. txt.example."},
    {"AFSDB", "1 afs.example."},
    {"AAAA", "2001:db8::1"},
    {"SRV", "0 5 5060 sip.example."},
    {"NAPTR", "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com."},
    {"KX", "10 kx.example."},
    {"DNAME", "target.example."},
    {"DS", "12345 8 2 49FD46E6C4B45C55D4AC49FD46E6C4B45C55D4AC49FD46E6C4B45C55D4AC1234"},
    {"SSHFP", "1 1 AABBCCDDEEFF00112233445566778899AABBCCDD"},
    {"RRSIG",
     "A 8 2 300 20240101000000 20231201000000 12345 example. "
     "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="},
    {"NSEC", "next.example. A NS SOA RRSIG NSEC DNSKEY TYPE1234"},
    {"DNSKEY",
     "257 3 13 "
     "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="},
    {"DHCID", "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="},
    {"NSEC3", "1 1 12 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG TYPE65534"},
    {"NSEC3PARAM", "1 0 0 -"},
    {"TLSA", "3 1 1 AABBCCDDEEFF"},
    {"SMIMEA", "3 1 1 AABB"},
    {"CDS", "0 0 0 00"},
    {"CDNSKEY", "0 3 0 AA=="},
    {"OPENPGPKEY", "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="},
    {"CSYNC", "66 3 A NS AAAA"},
    {"ZONEMD", "2018031900 1 1 AABBCCDDEEFF00112233445566778899AABBCCDDEEFF0011223344556677"
               "8899AABBCCDDEEFF00112233445566778899"},
    {"SVCB", "16 foo.example.org. mandatory=alpn,ipv4hint alpn=\"h2,h3-19\" ipv4hint=192.0.2.1"},
    {"HTTPS", "1 . alpn=\"f\\\\\\\\oo\\\\,bar,h2\" no-default-alpn port=443 ech=AEX+ "
              "ipv6hint=2001:db8::1,::ffff:1.2.3.4 key7=\"/q{?dns}\""},
    {"SPF", "\"v=spf1 -all\""},
    {"URI", "10 1 \"https://www.example.com/\""},
    {"CAA", "0 issue \"letsencrypt.org\""},
};
#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static const char *sample_for(uint16_t type)
{
    for (size_t i = 0; i < NSAMPLES; i++)
        if (type_of(samples[i].type) == type) return samples[i].text;
    return NULL;
}

TestSuite(rdata_text, .init = setup);

Test(rdata_text, every_type_round_trips)
{
    size_t n = 0;
    for (size_t i = 0; rd_rrtype_at(i); i++) {
        const rd_rrtype_desc_t *d = rd_rrtype_at(i);
        if (d->flags & RD_RRT_META) continue;
        const char *text = sample_for(d->type);
        cr_assert(text, "no presentation sample for type %s: add one", d->name);
        round_trip(d->type, text, NULL, NULL);
        n++;
    }
    cr_assert_geq(n, 36);
}

Test(rdata_text, wire_checked_by_hand)
{
    round_trip(RD_TYPE_A, "192.0.2.1", "c0000201", NULL);
    round_trip(RD_TYPE_AAAA, "2001:db8::1", "20010db8000000000000000000000001", NULL);
    round_trip(RD_TYPE_MX, "10 mail", "000a 046d61696c 076578616d706c65 00", "10 mail.example.");
    round_trip(RD_TYPE_SOA, "@ hostmaster 1 1h30m 2d 1w 300",
               "076578616d706c6500 0a686f73746d6173746572076578616d706c6500 00000001 00001518"
               " 0002a300 00093a80 0000012c",
               "example. hostmaster.example. 1 5400 172800 604800 300");
    round_trip(RD_TYPE_TXT, "\"a\" b \"\" \"\\065\\\"\"", "0161 0162 00 0241 22",
               "\"a\" \"b\" \"\" \"A\\\"\"");
    round_trip(RD_TYPE_CAA, "0 issue \"letsencrypt.org\"",
               "00 05 6973737565 6c657473656e63727970742e6f7267", NULL);
    round_trip(RD_TYPE_CAA, "128 tbs \"\"", "80 03 746273", NULL);
    round_trip(RD_TYPE_DS, "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
               "ec45 05 01 2bb183af5f22588179a53b0a98631fad1a292118", NULL);
    round_trip(RD_TYPE_DS, "60485 5 1 2bb183af5f22588179 a53b0a98631fad1a292118",
               "ec45 05 01 2bb183af5f22588179a53b0a98631fad1a292118",
               "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118");
    /* RFC 4034 s4.3 example bitmap: A MX RRSIG NSEC TYPE1234 */
    round_trip(RD_TYPE_NSEC, "host.example.com. A MX RRSIG NSEC TYPE1234",
               "04686f7374076578616d706c6503636f6d00 0006 40010000 0003 041b"
               "0000000000000000000000000000000000000000000000000000 20",
               NULL);
    round_trip(RD_TYPE_NSEC, "a. TYPE0 TYPE65535",
               "016100 000180 ff20"
               "00000000000000000000000000000000000000000000000000000000000000 01",
               NULL);
    round_trip(RD_TYPE_NSEC, "a.", "016100", NULL); /* empty bitmap */
    round_trip(
        RD_TYPE_NSEC3, "1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
        "01 01 000c 04aabbccdd 14 17f3df17b2b2adaef615257de4d2020b80ac6c7c 0006 400000000002",
        "1 1 12 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG");
    round_trip(RD_TYPE_NSEC3PARAM, "1 0 0 -", "01 00 0000 00", NULL);
    round_trip(RD_TYPE_RRSIG, "A 8 2 300 20240101000000 1700000000 12345 example. AQID",
               "0001 08 02 0000012c 65920080 6553f100 3039 076578616d706c6500 010203",
               "A 8 2 300 20240101000000 20231114221320 12345 example. AQID");
    round_trip(RD_TYPE_RRSIG, "TYPE65534 8 2 300 21060207062815 19700101000000 0 . AQI=",
               "fffe 08 02 0000012c ffffffff 00000000 0000 00 0102", NULL);
    round_trip(RD_TYPE_DNSKEY, "256 3 8 AQID BAU=", "0100 03 08 0102030405", "256 3 8 AQIDBAU=");
    round_trip(RD_TYPE_SRV, "0 5 5060 .", "0000 0005 13c4 00", NULL);
    round_trip(RD_TYPE_HINFO, "INTEL \"Linux 6\"", "05494e54454c 074c696e75782036",
               "\"INTEL\" \"Linux 6\"");
    round_trip(RD_TYPE_URI, "10 1 \"ftp://ftp1.example.com/public\"",
               "000a 0001 6674703a2f2f667470312e6578616d706c652e636f6d2f7075626c6963", NULL);
    round_trip(RD_TYPE_DS, "1 2 3", "0001 02 03", NULL); /* empty digest, lenient */
    round_trip(RD_TYPE_DNSKEY, "256 3 8", "0100 03 08", NULL);
}

static void rrsig_with(char *text, const char *expiration)
{
    strcpy(text, "A 8 2 300 ");
    strcat(text, expiration);
    strcat(text, " 20231201000000 1 . AQID");
}

Test(rdata_text, ttl_and_time_forms)
{
    round_trip(RD_TYPE_SOA, ". . 0 1W2D3H4M5S 0s 4294967295 1m1m",
               "00 00 00000000 000c08a5 00000000 ffffffff 00000078",
               ". . 0 788645 0 4294967295 120");
    parse_err(RD_TYPE_SOA, ". . 0 1h30 0 0 0", RD_ESYNTAX, 3);
    parse_err(RD_TYPE_SOA, ". . 0 h 0 0 0", RD_ESYNTAX, 3);
    parse_err(RD_TYPE_SOA, ". . 0 1y 0 0 0", RD_ESYNTAX, 3);
    parse_err(RD_TYPE_SOA, ". . 0 7102w 0 0 0", RD_ERANGE, 3);
    parse_err(RD_TYPE_SOA, ". . 0 4294967296 0 0 0", RD_ERANGE, 3);
    parse_err(RD_TYPE_SOA, ". . 4294967296 0 0 0 0", RD_ERANGE, 2);
    char text[200];
    const char *bad[] = {"20241301000000", "20240230000000", "20230229000000", "20240101240000",
                         "20240101006000", "20240101000060", "2024010100000x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rrsig_with(text, bad[i]);
        parse_err(RD_TYPE_RRSIG, text, RD_ESYNTAX, 4);
    }
    rrsig_with(text, "20240229235959");
    round_trip(RD_TYPE_RRSIG, text, NULL, NULL);
    rrsig_with(text, "21060207062816"); /* 2^32 seconds */
    parse_err(RD_TYPE_RRSIG, text, RD_ERANGE, 4);
    rrsig_with(text, "19691231235959");
    parse_err(RD_TYPE_RRSIG, text, RD_ERANGE, 4);
    rrsig_with(text, "4294967296");
    parse_err(RD_TYPE_RRSIG, text, RD_ERANGE, 4);
}

Test(rdata_text, strings)
{
    static char text[2000];
    static uint8_t w[WIREMAX];
    /* 255 octets fit, 256 do not; \DDD counts as one */
    memset(text, 'a', 255);
    text[255] = 0;
    cr_assert_eq(parse_ok(RD_TYPE_TXT, text, w), 256);
    strcpy(text + 255, "b");
    parse_err(RD_TYPE_TXT, text, RD_ERANGE, 0);
    text[0] = 0;
    for (int i = 0; i < 255; i++) strcat(text, "\\255");
    cr_assert_eq(parse_ok(RD_TYPE_TXT, text, w), 256);
    strcat(text, "x");
    parse_err(RD_TYPE_TXT, text, RD_ERANGE, 0);
    /* CAA value and URI target have no 255 limit */
    strcpy(text, "0 issue \"");
    memset(text + 9, 'v', 300);
    strcpy(text + 309, "\"");
    round_trip(RD_TYPE_CAA, text, NULL, NULL);
    /* escapes */
    round_trip(RD_TYPE_TXT, "\\\"q\\\" \\; \\\\ \\000\\127\\200", NULL,
               "\"\\\"q\\\"\" \";\" \"\\\\\" \"\\000\\127\\200\"");
    parse_err(RD_TYPE_TXT, "ok \"bad\\25\"", RD_ESYNTAX, 1);
    parse_err(RD_TYPE_TXT, "ok bad\\256", RD_ERANGE, 1);
    parse_err(RD_TYPE_TXT, "ok bad\\", RD_ESYNTAX, 1);
    /* an unquoted \# is RFC 3597, a quoted one is text */
    round_trip(RD_TYPE_TXT, "\"\\#\"", "0123", "\"#\"");
    round_trip(RD_TYPE_TXT, "\"\\\\#\" \\# x", "025c23 0123 0178", "\"\\\\#\" \"#\" \"x\"");
}

Test(rdata_text, generic_rfc3597)
{
    uint16_t unknown = 65534;
    cr_assert_null(rd_rrtype_name(unknown));
    round_trip(unknown, "\\# 4 0a000001", "0a000001", NULL);
    round_trip(unknown, "\\# 4 0A00 0001", "0a000001", "\\# 4 0a000001");
    round_trip(unknown, "\\# 0", "", NULL);
    round_trip(RD_TYPE_NULL, "\\# 1 ff", "ff", NULL);
    round_trip(RD_TYPE_NULL, "\\# 0", "", NULL);
    /* known types read \# and print their own form */
    round_trip(RD_TYPE_A, "\\# 4 c0000201", "c0000201", "192.0.2.1");
    round_trip(RD_TYPE_MX, "\\# 3 000a 00", "000a00", "10 .");
    round_trip(RD_TYPE_TXT, "\\# 3 026869", "026869", "\"hi\"");
    /* ... but the octets must fit the layout */
    parse_err(RD_TYPE_A, "\\# 3 c00002", RD_ERDATA, 0);
    parse_err(RD_TYPE_A, "\\# 0", RD_ERDATA, 0);
    parse_err(RD_TYPE_MX, "\\# 3 000a01", RD_ERDATA, 0);
    parse_err(RD_TYPE_NS, "\\# 2 c000", RD_ERDATA, 0); /* compression pointer */
    parse_err(RD_TYPE_TXT, "\\# 0", RD_ERDATA, 0);
    /* syntax */
    parse_err(unknown, "\\#", RD_ESYNTAX, 1);
    parse_err(unknown, "\\# x", RD_ESYNTAX, 1);
    parse_err(unknown, "\\# -1", RD_ESYNTAX, 1);
    parse_err(unknown, "\\# 65536", RD_ERANGE, 1);
    parse_err(unknown, "\\# 4 0a0000", RD_ESYNTAX, 1);
    parse_err(unknown, "\\# 2 0a0000", RD_ESYNTAX, 1);
    parse_err(unknown, "\\# 0 00", RD_ESYNTAX, 1);
    parse_err(unknown, "\\# 2 0a 0g", RD_ESYNTAX, 3);
    parse_err(unknown, "\\# 2 0a0", RD_ESYNTAX, 2);
    parse_err(unknown, "0a000001", RD_ESYNTAX, 0);
    parse_err(unknown, "", RD_ESYNTAX, 0);
    parse_err(RD_TYPE_NULL, "abcdef", RD_ESYNTAX, 0);
    /* printing unknown types and known types whose octets do not fit */
    print_is(unknown, "", "\\# 0");
    print_is(unknown, "DEADbeef", "\\# 4 deadbeef");
    print_is(RD_TYPE_A, "c00002", "\\# 3 c00002");
    print_is(RD_TYPE_A, "c000020100", "\\# 5 c000020100");
    print_is(RD_TYPE_A, "", "\\# 0");
    print_is(RD_TYPE_MX, "000a0000", "\\# 4 000a0000");
    print_is(RD_TYPE_NS, "c00c", "\\# 2 c00c");
    print_is(RD_TYPE_TXT, "", "\\# 0");
    print_is(RD_TYPE_TXT, "0361", "\\# 2 0361");
    print_is(RD_TYPE_DHCID, "", "\\# 0");
    print_is(RD_TYPE_CAA, "0005697373752d", "\\# 7 0005697373752d"); /* "issu-" */
    print_is(RD_TYPE_CAA, "0000", "\\# 2 0000");
    print_is(RD_TYPE_NSEC, "00 0001 00", "\\# 4 00000100");               /* trailing zero */
    print_is(RD_TYPE_NSEC, "00 0101 40 0001 40", "\\# 7 00010140000140"); /* order */
    print_is(
        RD_TYPE_NSEC,
        "00 0021 000000000000000000000000000000000000000000000000000000000000000001", /* window of
                                                                                         33 */
        "\\# 36 000021000000000000000000000000000000000000000000000000000000000000000001");
    print_is(RD_TYPE_NSEC3, "01 00 0000 00 00", "\\# 6 010000000000"); /* empty hash */
    print_is(RD_TYPE_OPT, "00", "\\# 1 00");
}

/* RFC 9460 Appendix D.1 and D.2, wire from the RFC, text as we print it. */
Test(rdata_text, svcb_rfc9460_vectors)
{
    round_trip(RD_TYPE_HTTPS, "0 foo.example.com.", "0000 03666f6f076578616d706c6503636f6d00",
               NULL);
    round_trip(RD_TYPE_SVCB, "1 .", "0001 00", NULL);
    round_trip(RD_TYPE_SVCB, "16 foo.example.com. port=53",
               "0010 03666f6f076578616d706c6503636f6d00 0003 0002 0035", NULL);
    round_trip(RD_TYPE_SVCB, "1 foo.example.com. key667=hello",
               "0001 03666f6f076578616d706c6503636f6d00 029b 0005 68656c6c6f",
               "1 foo.example.com. key667=\"hello\"");
    round_trip(RD_TYPE_SVCB, "1 foo.example.com. key667=\"hello\\210qoo\"",
               "0001 03666f6f076578616d706c6503636f6d00 029b 0009 68656c6c6fd2716f6f", NULL);
    round_trip(RD_TYPE_SVCB, "1 foo.example.com. ipv6hint=\"2001:db8::1,2001:db8::53:1\"",
               "0001 03666f6f076578616d706c6503636f6d00 0006 0020"
               " 20010db8000000000000000000000001 20010db8000000000000000000530001",
               "1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1");
    round_trip(RD_TYPE_SVCB,
               "1 example.com. ipv6hint=\"2001:db8:ffff:ffff:ffff:ffff:198.51.100.100\"",
               "0001 076578616d706c6503636f6d00 0006 0010 20010db8ffffffffffffffffc6336464",
               "1 example.com. ipv6hint=2001:db8:ffff:ffff:ffff:ffff:c633:6464");
    /* neither keys nor mandatory list sorted in the text; sorted on the wire */
    round_trip(RD_TYPE_SVCB,
               "16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn "
               "ipv4hint=192.0.2.1",
               "0010 03666f6f076578616d706c65036f726700 0000 0004 0001 0004"
               " 0001 0009 026832 0568332d3139 0004 0004 c0000201",
               "16 foo.example.org. mandatory=alpn,ipv4hint alpn=\"h2,h3-19\" ipv4hint=192.0.2.1");
    /* value-list escapes inside a char-string, both forms of the RFC */
    const char *alpn_wire =
        "0010 03666f6f076578616d706c65036f726700 0001 000c 08665c6f6f2c626172 026832";
    const char *alpn_text = "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"";
    round_trip(RD_TYPE_SVCB, alpn_text, alpn_wire, NULL);
    round_trip(RD_TYPE_SVCB, "16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2", alpn_wire,
               alpn_text);
}

Test(rdata_text, svcb_more)
{
    /* the quote may sit in the middle of an unquoted token (key="..." kept whole by a lexer
     * that does not split there) */
    static const rd_tok_t toks[] = {{"1", 1, false},
                                    {".", 1, false},
                                    {"alpn=\"h2,h3\"", 12, false},
                                    {"key9=\"a b\"", 10, false}};
    uint8_t w[100];
    size_t len, et;
    cr_assert_eq(rd_rdata_from_text(RD_TYPE_HTTPS, toks, 4, NULL, w, sizeof(w), &len, &et), 0);
    char out[200];
    cr_assert_gt(rd_rdata_to_text(RD_TYPE_HTTPS, w, len, out, sizeof(out)), 0);
    cr_assert_str_eq(out, "1 . alpn=\"h2,h3\" key9=\"a b\"");
    static const rd_tok_t bad[] = {{"1", 1, false}, {".", 1, false}, {"alpn=\"h2", 8, false}};
    cr_assert_eq(rd_rdata_from_text(RD_TYPE_HTTPS, bad, 3, NULL, w, sizeof(w), &len, &et),
                 RD_ESYNTAX);
    cr_assert_eq(et, 2);

    round_trip(RD_TYPE_HTTPS, "1 . key3=443 KEY1=h2 No-Default-Alpn key4=1.2.3.4 DOHpath=/x", NULL,
               "1 . alpn=\"h2\" no-default-alpn port=443 ipv4hint=1.2.3.4 key7=\"/x\"");
    round_trip(RD_TYPE_HTTPS, "1 . key65534 key0=key65534 key1000=", NULL,
               "1 . mandatory=key65534 key1000 key65534");
    round_trip(RD_TYPE_HTTPS, "1 . no-default-alpn=\"\" alpn=\"a\\\\\\\\\" ech=\"AAAA\"",
               "0001 00 0001 0003 02615c 0002 0000 0005 0003 000000",
               "1 . alpn=\"a\\\\\\\\\" no-default-alpn ech=AAAA");
    round_trip(RD_TYPE_HTTPS, "1 . alpn=\"\\\"\\007\"", "0001 00 0001 0003 022207",
               "1 . alpn=\"\\\"\\007\"");
    /* AliasMode with params is printed as is (RFC 9460 s2.4.2: receivers ignore them) */
    round_trip(RD_TYPE_HTTPS, "0 a.example. port=1", NULL, NULL);
    /* wire that breaks the rules prints as RFC 3597 */
    print_is(RD_TYPE_HTTPS, "0001 00 0003 0002 0035 0001 0003 026832",
             "\\# 16 00010000030002003500010003026832"); /* out of order */
    print_is(RD_TYPE_HTTPS, "0001 00 0000 0002 0001", "\\# 9 000100000000020001"); /* missing */
    print_is(RD_TYPE_HTTPS, "0001 00 0000 0002 0000 ", "\\# 9 000100000000020000");
    print_is(RD_TYPE_HTTPS, "0001 00 0003 0001 00", "\\# 8 0001000003000100");
    print_is(RD_TYPE_HTTPS, "0001 00 0001 0002 0161 0001", "\\# 11 0001000001000201610001");
    print_is(RD_TYPE_HTTPS, "0001 00 0005 0000", "\\# 7 00010000050000");
    print_is(RD_TYPE_HTTPS, "0001 00 0002 0001 00", "\\# 8 0001000002000100");
    print_is(RD_TYPE_HTTPS, "0001 00 0004 0003 010203", "\\# 10 00010000040003010203");
    print_is(RD_TYPE_HTTPS, "0001 00 0000 0004 0004 0001 0004 0004 01020304 ",
             "\\# 19 00010000000004000400010004000401020304"); /* mandatory not increasing */
}

/* RFC 9460 Appendix D.3 failure cases, and more of ours. */
Test(rdata_text, svcb_errors)
{
    uint16_t S = RD_TYPE_SVCB;
    parse_err(S, "1 foo.example.com. key123=abc key123=def", RD_ESYNTAX, 3);
    parse_err(S, "1 foo.example.com. mandatory", RD_ESYNTAX, 2);
    parse_err(S, "1 foo.example.com. alpn", RD_ESYNTAX, 2);
    parse_err(S, "1 foo.example.com. port", RD_ESYNTAX, 2);
    parse_err(S, "1 foo.example.com. ipv4hint", RD_ESYNTAX, 2);
    parse_err(S, "1 foo.example.com. ipv6hint", RD_ESYNTAX, 2);
    parse_err(S, "1 foo.example.com. no-default-alpn=abc", RD_ESYNTAX, 2);
    parse_err(S, "1 foo.example.com. mandatory=key123", RD_ESYNTAX, 2);
    parse_err(S, "1 foo.example.com. mandatory=mandatory", RD_ESYNTAX, 2);
    parse_err(S, "1 foo.example.com. mandatory=key123,key123 key123=abc", RD_ESYNTAX, 2);
    parse_err(S, "1 foo.example.com. ipv6hint=1.2.3.4", RD_ESYNTAX, 2);
    /* ours */
    parse_err(S, "1 . port=53 alpn=h2 port=54", RD_ESYNTAX, 4);
    parse_err(S, "1 . alpn=h2 key1=h3", RD_ESYNTAX, 3);
    parse_err(S, "1 . alpn= key1=h3", RD_ESYNTAX, 2);
    parse_err(S, "1 . alpn=\"\"", RD_ESYNTAX, 3);
    parse_err(S, "1 . alpn=h2,,h3", RD_ESYNTAX, 2);
    parse_err(S, "1 . alpn=h2,", RD_ESYNTAX, 2);
    parse_err(S, "1 . alpn=h2\\\\x", RD_ESYNTAX, 2); /* lone value-list backslash */
    parse_err(S, "1 . port=65536", RD_ERANGE, 2);
    parse_err(S, "1 . port=5x", RD_ESYNTAX, 2);
    parse_err(S, "1 . port=\"\"", RD_ESYNTAX, 3);
    parse_err(S, "1 . ipv4hint=1.2.3.4,", RD_ESYNTAX, 2);
    parse_err(S, "1 . ipv4hint=\"1.2.3\"", RD_ESYNTAX, 3);
    parse_err(S, "1 . ech=AAA", RD_ESYNTAX, 2);
    parse_err(S, "1 . ech", RD_ESYNTAX, 2);
    parse_err(S, "1 . ech=\"\"", RD_ESYNTAX, 3);
    parse_err(S, "1 . foo=bar", RD_ESYNTAX, 2);
    parse_err(S, "1 . key=bar", RD_ESYNTAX, 2);
    parse_err(S, "1 . key01=bar", RD_ESYNTAX, 2);
    parse_err(S, "1 . key65535=bar", RD_ESYNTAX, 2);
    parse_err(S, "1 . key65536=bar", RD_ERANGE, 2);
    parse_err(S, "1 . mandatory=foo key1=h2", RD_ESYNTAX, 2);
    parse_err(S, "1 . mandatory=alpn,", RD_ESYNTAX, 2);
    parse_err(S, "1 . \"alpn=h2\"", RD_ESYNTAX, 2);
    parse_err(S, "1 . key7=\\256", RD_ERANGE, 2);
    parse_err(S, "1", RD_ESYNTAX, 1);
}

Test(rdata_text, errors)
{
    static const struct {
        const char *type, *text;
        int code;
        size_t errtok;
    } cases[] = {
        {"A", "", RD_ESYNTAX, 0},
        {"A", "192.0.2", RD_ESYNTAX, 0},
        {"A", "192.0.2.256", RD_ESYNTAX, 0},
        {"A", "192.0.2.1 x", RD_ESYNTAX, 1},
        {"A", "\"\"", RD_ESYNTAX, 0},
        {"AAAA", "2001:db8::g", RD_ESYNTAX, 0},
        {"AAAA", "192.0.2.1", RD_ESYNTAX, 0},
        {"MX", "10", RD_ESYNTAX, 1},
        {"MX", "65536 mx.", RD_ERANGE, 0},
        {"MX", "99999999999999999999 mx.", RD_ERANGE, 0},
        {"MX", "1x mx.", RD_ESYNTAX, 0},
        {"MX", "-1 mx.", RD_ESYNTAX, 0},
        {"MX", "10 a..b.", RD_ESYNTAX, 1},
        {"MX", "10 mx. extra", RD_ESYNTAX, 2},
        {"SOA", "ns. admin. 1 2 3 4", RD_ESYNTAX, 6},
        {"SOA", "ns. admin. 1 2 3 4 5 6", RD_ESYNTAX, 7},
        {"TXT", "", RD_ESYNTAX, 0},
        {"HINFO", "x", RD_ESYNTAX, 1},
        {"HINFO", "x y z", RD_ESYNTAX, 2},
        {"DS", "1 8 2 zz", RD_ESYNTAX, 3},
        {"DS", "1 8 2 abc", RD_ESYNTAX, 3},
        {"DS", "1 8 2 ab c", RD_ESYNTAX, 4},
        {"DS", "1 256 2 ab", RD_ERANGE, 1},
        {"DNSKEY", "257 3 13 AAA", RD_ESYNTAX, 3},
        {"DNSKEY", "257 3 13 A$==", RD_ESYNTAX, 3},
        {"DNSKEY", "257 3 13 AA== AA==", RD_ESYNTAX, 4},
        {"DNSKEY", "257 3 13 AB==", RD_ESYNTAX, 3},
        {"DNSKEY", "257 3 13 A===", RD_ESYNTAX, 3},
        {"DNSKEY", "257 3 13 AA=A", RD_ESYNTAX, 3},
        {"RRSIG", "FOO 8 2 300 1 1 1 . AA==", RD_ESYNTAX, 0},
        {"RRSIG", "A 8 2 300 1 1 1 .", RD_OK, 0},
        {"NSEC", "next. A FOO", RD_ESYNTAX, 2},
        {"NSEC", "next. A TYPE65536", RD_ERANGE, 2},
        {"NSEC3", "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3W", RD_ESYNTAX, 4},
        {"NSEC3", "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S01", RD_ESYNTAX, 4}, /* bits */
        {"NSEC3", "1 0 0 - 2", RD_ESYNTAX, 4},
        {"NSEC3", "1 0 0 - \"\"", RD_ESYNTAX, 4},
        {"NSEC3", "1 0 0 -", RD_ESYNTAX, 4},
        {"NSEC3", "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S=", RD_ESYNTAX, 4},
        {"NSEC3PARAM", "1 0 0 abc", RD_ESYNTAX, 3},
        {"NSEC3PARAM", "1 0 0 \"\"", RD_ESYNTAX, 3},
        {"NSEC3PARAM", "1 0 0 - x", RD_ESYNTAX, 4},
        {"CAA", "0 is-sue \"x\"", RD_ESYNTAX, 1},
        {"CAA", "0 issue", RD_ESYNTAX, 2},
        {"CAA", "0 \"\" x", RD_ESYNTAX, 1},
        {"CAA", "0 issue a b", RD_ESYNTAX, 3},
        {"URI", "1 1", RD_ESYNTAX, 2},
        {"SSHFP", "1 1 GG", RD_ESYNTAX, 2},
        {"TLSA", "3 1 1 aab", RD_ESYNTAX, 3},
        {"CSYNC", "1 3 A BOGUS", RD_ESYNTAX, 3},
        {"NS", "", RD_ESYNTAX, 0},
        {"NS", "relative\\", RD_ESYNTAX, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].code == RD_OK) {
            uint8_t w[WIREMAX];
            parse_ok(type_of(cases[i].type), cases[i].text, w);
            continue;
        }
        parse_err(type_of(cases[i].type), cases[i].text, cases[i].code, cases[i].errtok);
    }
    /* relative names need an origin */
    toks_t tk;
    lex("10 mx", &tk);
    uint8_t w[100];
    size_t len, et = 9;
    cr_assert_eq(rd_rdata_from_text(RD_TYPE_MX, tk.t, tk.n, NULL, w, sizeof(w), &len, &et),
                 RD_ESYNTAX);
    cr_assert_eq(et, 1);
    /* names: the name parser's own codes come through */
    char big[80];
    memset(big, 'a', 64);
    strcpy(big + 64, ".");
    parse_err(RD_TYPE_NS, big, RD_ELABEL, 0);
}

/* Every prefix and many corruptions of every sample: never out of bounds (the sanitizer build
 * checks that), RFC 3597 form whenever the octets do not fit the type, and whatever is printed
 * reads back to the same octets exactly when the layout check accepts them. */
static void check_print(uint16_t type, const uint8_t *w, size_t len)
{
    static char out[TEXTMAX];
    static uint8_t w2[WIREMAX];
    /* a copy of exactly len octets so that the sanitizer sees any over-read */
    uint8_t *copy = len ? malloc(len) : NULL;
    if (len) memcpy(copy, w, len);
    int r = rd_rdata_to_text(type, copy, len, out, TEXTMAX);
    cr_assert_geq(r, 0);
    bool valid = rd_rdata_check(copy, len, 0, (uint16_t)len, type) == 0;
    if (!valid) cr_assert(strncmp(out, "\\# ", 3) == 0, "type %u: printed \"%s\"", type, out);
    size_t len2 = 0, et;
    int r2 = parse(type, out, w2, WIREMAX, &len2, &et);
    if (valid || !rd_rrtype(type)->name) {
        cr_assert_eq(r2, 0, "type %u: \"%s\" does not read back: %s", type, out, rd_strerror(r2));
        cr_assert_eq(len2, len);
        if (len) cr_assert_arr_eq(w2, copy, len);
    } else {
        cr_assert_eq(r2, RD_ERDATA, "type %u: \"%s\"", type, out);
    }
    free(copy);
}

Test(rdata_text, truncated_and_corrupted_rdata)
{
    static uint8_t w[WIREMAX], m[WIREMAX];
    uint32_t seed = 12345;
    for (size_t i = 0; rd_rrtype_at(i); i++) {
        const rd_rrtype_desc_t *d = rd_rrtype_at(i);
        if (d->flags & RD_RRT_META) continue;
        size_t len = parse_ok(d->type, sample_for(d->type), w);
        for (size_t k = 0; k <= len; k++) check_print(d->type, w, k);
        for (int iter = 0; iter < 400; iter++) {
            memcpy(m, w, len);
            size_t mlen = len;
            int nflip = 1 + iter % 3;
            for (int f = 0; f < nflip && len; f++) {
                seed = seed * 1103515245 + 12345;
                size_t at = (seed >> 8) % len;
                seed = seed * 1103515245 + 12345;
                m[at] = iter % 2 ? (uint8_t)(seed >> 16) : (uint8_t)(m[at] ^ (1u << (seed >> 29)));
            }
            if (iter % 5 == 0) {
                seed = seed * 1103515245 + 12345;
                mlen = (seed >> 8) % (len + 8);
                for (size_t k = len; k < mlen; k++) m[k] = (uint8_t)(seed >> (k % 24));
            }
            check_print(d->type, m, mlen);
        }
    }
}

Test(rdata_text, output_space)
{
    static uint8_t w[WIREMAX];
    static char out[TEXTMAX], small[TEXTMAX];
    for (size_t i = 0; rd_rrtype_at(i); i++) {
        const rd_rrtype_desc_t *d = rd_rrtype_at(i);
        if (d->flags & RD_RRT_META) continue;
        size_t len = parse_ok(d->type, sample_for(d->type), w);
        int full = rd_rdata_to_text(d->type, w, len, out, sizeof(out));
        cr_assert_gt(full, 0);
        for (size_t cap = 0; cap <= (size_t)full + 1; cap++) {
            memset(small, 'x', cap + 1);
            int r = rd_rdata_to_text(d->type, w, len, small, cap);
            if (cap > (size_t)full) {
                cr_assert_eq(r, full);
                cr_assert_str_eq(small, out);
            } else {
                cr_assert_eq(r, RD_ESPACE, "type %s cap %zu: %d", d->name, cap, r);
                if (cap) cr_assert_lt(strlen(small), cap);
            }
            cr_assert_eq(small[cap], 'x', "wrote past cap");
        }
        /* reading: every too small buffer is RD_ESPACE */
        for (size_t cap = 0; cap < len; cap++) {
            static uint8_t o[WIREMAX];
            size_t olen, et;
            int r = parse(d->type, out, o, cap, &olen, &et);
            cr_assert_eq(r, RD_ESPACE, "type %s cap %zu: %d", d->name, cap, r);
        }
    }
    /* the RFC 3597 form needs room too */
    uint8_t bad[3] = {1, 2, 3};
    cr_assert_eq(rd_rdata_to_text(RD_TYPE_A, bad, 3, small, 11), RD_ESPACE);
    cr_assert_eq(rd_rdata_to_text(RD_TYPE_A, bad, 3, small, 12), 11);
    cr_assert_str_eq(small, "\\# 3 010203");
}

Test(rdata_text, large_rdata)
{
    /* 65535 octets fit, one more does not */
    static char text[300000];
    static uint8_t w[WIREMAX];
    char *p = text;
    for (int i = 0; i < 256; i++) {
        memset(p, 'z', i < 255 ? 255 : 254);
        p += i < 255 ? 255 : 254;
        *p++ = ' ';
    }
    *p = 0;
    cr_assert_eq(parse_ok(RD_TYPE_TXT, text, w), 65535);
    strcpy(p, "a");
    parse_err(RD_TYPE_TXT, text, RD_ESPACE, 256);
    /* 65535 octets of hex in one RFC 3597 token */
    strcpy(text, "\\# 65535 ");
    p = text + strlen(text);
    for (int i = 0; i < 65535; i++, p += 2) memcpy(p, "ab", 2);
    *p = 0;
    size_t len = parse_ok(65534, text, w);
    cr_assert_eq(len, 65535);
    static char out[TEXTMAX];
    print_ok(65534, w, len, out);
    cr_assert_str_eq(out, text);
}

/* Regressions found by fuzz_rdata_text and fuzz_msg (fuzz/regressions/). */
Test(rdata_text, exact_fit_with_empty_last_field)
{
    const uint8_t sshfp[] = {0x2c, 0x01}; /* SSHFP 44 1, no fingerprint */
    char buf[5];
    cr_assert_eq(rd_rdata_to_text(RD_TYPE_SSHFP, sshfp, sizeof(sshfp), buf, sizeof(buf)), 4);
    cr_assert_str_eq(buf, "44 1");
    cr_assert_eq(rd_rdata_to_text(RD_TYPE_SSHFP, sshfp, sizeof(sshfp), buf, 4), RD_ESPACE);
}

Test(rdata_text, bitmap_with_trailing_zero_is_invalid)
{
    /* NSEC "." + window 0, length 2, second octet zero: RFC 4034 s4.1.2 forbids it */
    const uint8_t bad[] = {0, 0, 2, 0x40, 0x00};
    cr_assert_eq(rd_rdata_check(bad, sizeof(bad), 0, sizeof(bad), RD_TYPE_NSEC), RD_ERDATA);
    const uint8_t good[] = {0, 0, 1, 0x40};
    cr_assert_eq(rd_rdata_check(good, sizeof(good), 0, sizeof(good), RD_TYPE_NSEC), 0);
}
