#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "resolverd/msg.h"

static void N(const char *t, uint8_t *out)
{
    size_t n;
    cr_assert_eq(rd_name_from_text(t, strlen(t), NULL, out, &n), 0, "%s", t);
}

/* A referral-like response with compression opportunities and EDNS. */
static size_t build_sample(uint8_t *buf, size_t cap, size_t limit, bool edns)
{
    rd_mb_t b;
    rd_mb_init(&b, buf, cap, limit, 0xBEEF, RD_F_QR | RD_F_RD);
    uint8_t q[RD_NAME_MAX], zone[RD_NAME_MAX], ns[RD_NAME_MAX];
    N("www.Example.com.", q);
    N("example.com.", zone);
    rd_edns_opt_t cookie = {RD_EDNS_COOKIE, 8, (const uint8_t *)"\1\2\3\4\5\6\7\10"};
    rd_edns_build_t e = {1232, 0, 0, RD_EDNS_DO, &cookie, 1};
    if (edns) cr_assert_eq(rd_mb_reserve(&b, rd_edns_size(&e)), 0);
    if (rd_mb_question(&b, q, RD_TYPE_A, RD_CLASS_IN)) return rd_mb_finish(&b);
    for (int i = 0; i < 4; i++) {
        char t[64];
        snprintf(t, sizeof(t), "ns%d.example.com.", i);
        N(t, ns);
        if (rd_mb_rr(&b, RD_SEC_NS, zone, RD_TYPE_NS, RD_CLASS_IN, 172800, ns,
                     (uint16_t)rd_name_len(ns)))
            break;
    }
    for (int i = 0; i < 4; i++) {
        char t[64];
        snprintf(t, sizeof(t), "ns%d.example.com.", i);
        N(t, ns);
        uint8_t a[4] = {192, 0, 2, (uint8_t)i};
        if (rd_mb_rr(&b, RD_SEC_AR, ns, RD_TYPE_A, RD_CLASS_IN, 172800, a, 4)) break;
    }
    if (edns) cr_assert_eq(rd_mb_opt(&b, &e), 0);
    return rd_mb_finish(&b);
}

Test(msg, build_parse_compression)
{
    uint8_t buf[512];
    size_t len = build_sample(buf, sizeof(buf), 512, true);
    rd_msg_t m;
    cr_assert_eq(rd_msg_parse(&m, buf, len, NULL), 0);
    cr_assert_eq(m.id, 0xBEEF);
    cr_assert_eq(m.count[RD_SEC_QD], 1);
    cr_assert_eq(m.count[RD_SEC_NS], 4);
    cr_assert_eq(m.count[RD_SEC_AR], 5);
    cr_assert(m.edns.present);
    cr_assert_eq(m.edns.udp_size, 1232);
    cr_assert_eq(m.edns.flags, RD_EDNS_DO);
    cr_assert_eq(m.edns.cookie_len, 8);
    /* compression: "example.com" appears once in full; the owner of each NS record is a
     * 2-octet pointer, each ns name is 4 octets + pointer */
    cr_assert_lt(len, 12 + 21 + 4 * (2 + 10 + 6) + 4 * (2 + 10 + 4) + 23 + 1);
    /* names read back with case preserved */
    uint8_t q[RD_NAME_MAX];
    size_t pos = rd_msg_rr(&m, RD_SEC_QD, 0)->owner;
    cr_assert_eq(rd_name_unpack(m.wire, m.len, &pos, q, NULL), 0);
    char t[RD_NAME_TEXT_MAX];
    rd_name_to_text(q, t, sizeof(t));
    cr_assert_str_eq(t, "www.Example.com.");
    /* NS rdata decompresses */
    const rd_rr_t *rr = rd_msg_rr(&m, RD_SEC_NS, 3);
    uint8_t rd[256];
    size_t rl;
    cr_assert_eq(
        rd_rdata_unpack(m.wire, m.len, rr->rdata, rr->rdlen, rr->type, rd, sizeof(rd), &rl), 0);
    rd_name_to_text(rd, t, sizeof(t));
    cr_assert_str_eq(t, "ns3.Example.com."); /* compressed: case of the question */
}

Test(msg, rebuild_is_stable)
{
    uint8_t buf[512], out[512], out2[512];
    size_t len = build_sample(buf, sizeof(buf), 512, true), ol, ol2;
    rd_msg_t m, m2;
    cr_assert_eq(rd_msg_parse(&m, buf, len, NULL), 0);
    cr_assert_eq(rd_msg_rebuild(&m, out, sizeof(out), 512, &ol), 0);
    cr_assert_eq(ol, len);
    cr_assert_eq(memcmp(out, buf, len), 0);
    cr_assert_eq(rd_msg_parse(&m2, out, ol, NULL), 0);
    cr_assert_eq(rd_msg_rebuild(&m2, out2, sizeof(out2), 512, &ol2), 0);
    cr_assert_eq(ol2, ol);
    cr_assert_eq(memcmp(out, out2, ol), 0);
}

Test(msg, truncation_at_record_boundary)
{
    uint8_t full[512];
    size_t flen = build_sample(full, sizeof(full), 512, true);
    for (size_t limit = 12; limit < flen; limit++) {
        uint8_t buf[512];
        size_t len = build_sample(buf, sizeof(buf), limit, false);
        cr_assert_leq(len, limit);
        rd_msg_t m;
        /* whatever fit is a complete, valid message */
        cr_assert_eq(rd_msg_parse(&m, buf, len, NULL), 0, "limit %zu", limit);
        if (m.count[RD_SEC_NS] < 4) cr_assert(m.flags & RD_F_TC, "limit %zu", limit);
    }
}

Test(msg, truncation_keeps_reserved_opt)
{
    uint8_t buf[512];
    size_t len = build_sample(buf, sizeof(buf), 100, true);
    rd_msg_t m;
    cr_assert_eq(rd_msg_parse(&m, buf, len, NULL), 0);
    cr_assert(m.edns.present);
    cr_assert(m.flags & RD_F_TC);
    cr_assert_leq(len, 100);
}

Test(msg, print_like_dig)
{
    uint8_t buf[512];
    size_t len = build_sample(buf, sizeof(buf), 512, true);
    rd_msg_t m;
    cr_assert_eq(rd_msg_parse(&m, buf, len, NULL), 0);
    char text[4096];
    int r = rd_msg_to_text(&m, text, sizeof(text));
    cr_assert_gt(r, 0, "%s", rd_strerror(r));
    cr_assert(strstr(text, ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 48879\n"));
    cr_assert(strstr(text, ";; flags: qr rd; QUERY: 1, ANSWER: 0, AUTHORITY: 4, ADDITIONAL: 5"));
    cr_assert(strstr(text, "; EDNS: version: 0, flags: do; udp: 1232\n"));
    cr_assert(strstr(text, "; COOKIE: 0102030405060708\n"));
    cr_assert(strstr(text, ";www.Example.com.\tIN\tA\n"), "%s", text);
    cr_assert(strstr(text, "Example.com.\t172800\tIN\tNS\tns0.Example.com.\n"), "%s", text);
    cr_assert(strstr(text, "ns2.Example.com.\t172800\tIN\tA\t192.0.2.2\n"), "%s", text);
    /* a too small buffer is an error, never an overflow */
    char small[40];
    cr_assert_eq(rd_msg_to_text(&m, small, sizeof(small)), RD_ESPACE);
}

/* ---- malformed-message corpus: each rejected with a specific error ---- */

static int parse(const uint8_t *w, size_t len)
{
    rd_msg_t m;
    rd_arena_t a;
    rd_arena_init(&a, NULL, 0, 0);
    int r = rd_msg_parse(&m, w, len, &a);
    rd_arena_free(&a);
    return r;
}

Test(malformed, truncated_at_every_offset)
{
    uint8_t buf[512];
    size_t len = build_sample(buf, sizeof(buf), 512, true);
    for (size_t cut = 0; cut < len; cut++) {
        /* heap copy of exactly cut bytes so ASan sees any read past the end */
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, buf, cut);
        int r = parse(p, cut);
        free(p);
        cr_assert(r == RD_ETRUNC || r == RD_ECOUNT, "cut %zu: %s", cut, rd_strerror(r));
    }
}

static const uint8_t hdr_q1[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};

static size_t mk(uint8_t *w, const uint8_t *hdr, const uint8_t *body, size_t blen)
{
    memcpy(w, hdr, 12);
    memcpy(w + 12, body, blen);
    return 12 + blen;
}

Test(malformed, pointer_loop_and_forward)
{
    uint8_t w[64];
    const uint8_t self[] = {0xC0, 12, 0, 1, 0, 1};
    cr_assert_eq(parse(w, mk(w, hdr_q1, self, sizeof(self))), RD_EPTR);
    const uint8_t fwd[] = {0xC0, 14, 0, 1, 0, 1, 0};
    uint8_t h[12];
    memcpy(h, hdr_q1, 12);
    cr_assert_eq(parse(w, mk(w, h, fwd, sizeof(fwd))), RD_EPTR);
    /* answer owner pointing at itself */
    const uint8_t body[] = {0, 0, 1, 0, 1, 0xC0, 17, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4};
    memcpy(h, hdr_q1, 12);
    h[7] = 1;
    cr_assert_eq(parse(w, mk(w, h, body, sizeof(body))), RD_EPTR);
}

Test(malformed, counts_larger_than_message)
{
    uint8_t w[64];
    uint8_t h[12];
    memcpy(h, hdr_q1, 12);
    h[6] = 0xFF;
    h[7] = 0xFF; /* 65535 answers */
    const uint8_t body[] = {0, 0, 1, 0, 1};
    cr_assert_eq(parse(w, mk(w, h, body, sizeof(body))), RD_ECOUNT);
    memcpy(h, hdr_q1, 12);
    h[11] = 1; /* one additional that is not there */
    cr_assert_eq(parse(w, mk(w, h, body, sizeof(body))), RD_ECOUNT);
}

Test(malformed, label_64_and_name_256)
{
    uint8_t w[400];
    uint8_t body[300];
    body[0] = 64;
    memset(body + 1, 'a', 64);
    body[65] = 0;
    body[66] = 0, body[67] = 1, body[68] = 0, body[69] = 1;
    cr_assert_eq(parse(w, mk(w, hdr_q1, body, 70)), RD_ELABEL);
    size_t p = 0;
    for (int i = 0; i < 4; i++) {
        body[p++] = 63;
        memset(body + p, 'b', 63);
        p += 63;
    }
    body[p++] = 0;
    body[p++] = 0, body[p++] = 1, body[p++] = 0, body[p++] = 1;
    cr_assert_eq(parse(w, mk(w, hdr_q1, body, p)), RD_ENAMELEN);
}

static size_t with_opt(uint8_t *w, const uint8_t *opt, size_t optlen, int nopt)
{
    uint8_t h[12];
    memcpy(h, hdr_q1, 12);
    h[11] = (uint8_t)nopt;
    uint8_t body[256];
    const uint8_t q[] = {0, 0, 1, 0, 1};
    memcpy(body, q, 5);
    size_t p = 5;
    for (int i = 0; i < nopt; i++) {
        memcpy(body + p, opt, optlen);
        p += optlen;
    }
    return mk(w, h, body, p);
}

Test(malformed, bad_opt)
{
    uint8_t w[512];
    /* OPT with a non-root owner */
    const uint8_t o1[] = {1, 'a', 0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0};
    cr_assert_eq(parse(w, with_opt(w, o1, sizeof(o1), 1)), RD_EOPT);
    /* option length running past the rdata */
    const uint8_t o2[] = {0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 4, 0, 10, 0, 8};
    cr_assert_eq(parse(w, with_opt(w, o2, sizeof(o2), 1)), RD_EOPT);
    /* cookie of 5 octets */
    const uint8_t o3[] = {0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 9, 0, 10, 0, 5, 1, 2, 3, 4, 5};
    cr_assert_eq(parse(w, with_opt(w, o3, sizeof(o3), 1)), RD_EOPT);
    /* keepalive of 1 octet */
    const uint8_t o4[] = {0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 5, 0, 11, 0, 1, 9};
    cr_assert_eq(parse(w, with_opt(w, o4, sizeof(o4), 1)), RD_EOPT);
    /* EDE shorter than its info code */
    const uint8_t o5[] = {0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 5, 0, 15, 0, 1, 9};
    cr_assert_eq(parse(w, with_opt(w, o5, sizeof(o5), 1)), RD_EOPT);
    /* OPT in the answer section */
    uint8_t h[12];
    memcpy(h, hdr_q1, 12);
    h[7] = 1;
    uint8_t body[64];
    const uint8_t q[] = {0, 0, 1, 0, 1};
    memcpy(body, q, 5);
    const uint8_t o6[] = {0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0};
    memcpy(body + 5, o6, sizeof(o6));
    cr_assert_eq(parse(w, mk(w, h, body, 5 + sizeof(o6))), RD_EOPT);
}

Test(malformed, two_opts)
{
    uint8_t w[512];
    const uint8_t o[] = {0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0};
    cr_assert_eq(parse(w, with_opt(w, o, sizeof(o), 1)), 0);
    cr_assert_eq(parse(w, with_opt(w, o, sizeof(o), 2)), RD_EOPTDUP);
}

Test(malformed, edns_options_all_kinds)
{
    uint8_t w[512];
    const uint8_t o[] = {0,    0,    41, 4, 0xD0, 0,   0,   0x80, 0, 0, 33, /* rdlen */
                         0,    3,    0,  2, 'n',  's',                      /* NSID */
                         0,    12,   0,  3, 0,    0,   0,                   /* PADDING */
                         0,    11,   0,  2, 0,    100,                      /* KEEPALIVE */
                         0,    15,   0,  4, 0,    18,  'h', 'i',            /* EDE 18 */
                         0xFD, 0xE9, 0,  2, 0xAB, 0xCD};                    /* unknown */
    size_t len = with_opt(w, o, sizeof(o), 1);
    rd_msg_t m;
    cr_assert_eq(rd_msg_parse(&m, w, len, NULL), 0);
    cr_assert(m.edns.has_nsid && m.edns.nsid_len == 2);
    cr_assert(m.edns.has_padding && m.edns.padding_len == 3);
    cr_assert(m.edns.has_keepalive && m.edns.keepalive_timeout == 100);
    cr_assert(m.edns.has_ede && m.edns.ede_code == 18 && m.edns.ede_text_len == 2);
    cr_assert(m.edns.flags & RD_EDNS_DO);
    size_t it = 0, n = 0;
    rd_edns_opt_t opt;
    uint16_t last = 0;
    while (rd_edns_opt_next(&m.edns, &it, &opt)) n++, last = opt.code;
    cr_assert_eq(n, 5);
    cr_assert_eq(last, 65001);
}

Test(malformed, rdata_not_matching_type)
{
    uint8_t w[64];
    uint8_t h[12];
    memcpy(h, hdr_q1, 12);
    h[7] = 1;
    /* A record with 3 octets */
    const uint8_t b1[] = {0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3};
    cr_assert_eq(parse(w, mk(w, h, b1, sizeof(b1))), RD_ERDATA);
    /* NS whose name runs past its rdlength */
    const uint8_t b2[] = {0, 0, 1, 0, 1, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 2, 1, 'a', 0};
    cr_assert_eq(parse(w, mk(w, h, b2, sizeof(b2))), RD_ERDATA);
    /* MX with trailing octet in rdata */
    const uint8_t b3[] = {0, 0, 1, 0, 1, 0, 0, 15, 0, 1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 7};
    cr_assert_eq(parse(w, mk(w, h, b3, sizeof(b3))), RD_ERDATA);
    /* trailing bytes after the message */
    const uint8_t b4[] = {0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4, 9};
    cr_assert_eq(parse(w, mk(w, h, b4, sizeof(b4))), RD_ETRAILING);
}

Test(malformed, header_too_short)
{
    uint8_t w[11] = {0};
    for (size_t i = 0; i < sizeof(w); i++) cr_assert_eq(parse(w, i), RD_ETRUNC);
}

Test(msg, many_records_use_arena)
{
    uint8_t buf[4096];
    rd_mb_t b;
    rd_mb_init(&b, buf, sizeof(buf), sizeof(buf), 1, RD_F_QR);
    uint8_t q[RD_NAME_MAX];
    N("many.example.", q);
    cr_assert_eq(rd_mb_question(&b, q, RD_TYPE_A, RD_CLASS_IN), 0);
    for (int i = 0; i < 100; i++) {
        uint8_t a[4] = {10, 0, 0, (uint8_t)i};
        cr_assert_eq(rd_mb_rr(&b, RD_SEC_AN, q, RD_TYPE_A, RD_CLASS_IN, 60, a, 4), 0);
    }
    size_t len = rd_mb_finish(&b);
    rd_msg_t m;
    cr_assert_eq(rd_msg_parse(&m, buf, len, NULL), RD_ENOMEM);
    rd_arena_t ar;
    uint8_t stackblk[8192];
    rd_arena_init(&ar, stackblk, sizeof(stackblk), 0);
    cr_assert_eq(rd_msg_parse(&m, buf, len, &ar), 0);
    cr_assert_eq(m.count[RD_SEC_AN], 100);
    cr_assert_null(ar.heap); /* served from the caller's block: no malloc */
    rd_arena_free(&ar);
}

Test(msg, builder_refuses_bad_rdata)
{
    uint8_t buf[512];
    rd_mb_t b;
    rd_mb_init(&b, buf, sizeof(buf), sizeof(buf), 1, RD_F_QR);
    uint8_t q[RD_NAME_MAX];
    N("x.example.", q);
    const uint8_t bad_a[3] = {1, 2, 3};
    cr_assert_eq(rd_mb_rr(&b, RD_SEC_AN, q, RD_TYPE_A, RD_CLASS_IN, 60, bad_a, 3), RD_ERDATA);
    const uint8_t ptr_ns[2] = {0xC0, 0};
    cr_assert_eq(rd_mb_rr(&b, RD_SEC_AN, q, RD_TYPE_NS, RD_CLASS_IN, 60, ptr_ns, 2), RD_ERDATA);
    cr_assert_eq(b.count[RD_SEC_AN], 0);
    cr_assert_eq(b.pos, 12);
}

Test(malformed, pointer_chain_regression_is_fast)
{
    /* fuzz/regressions/msg/slow-pointer-chain-64k: thousands of records whose owners follow
     * long chains of backwards pointers. Rejected, not worked through (the bound on jumps). */
    FILE *f = fopen(RD_SOURCE_DIR "/fuzz/regressions/msg/slow-pointer-chain-64k", "rb");
    cr_assert_not_null(f);
    static uint8_t w[65536];
    size_t n = fread(w, 1, sizeof(w), f);
    fclose(f);
    rd_arena_t a;
    rd_arena_init(&a, NULL, 0, 0);
    rd_msg_t m;
    cr_assert_eq(rd_msg_parse(&m, w, n, &a), RD_EPTR);
    rd_arena_free(&a);
}
