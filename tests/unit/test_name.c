#include <criterion/criterion.h>
#include <string.h>

#include "resolverd/name.h"

static size_t from_text(const char *t, uint8_t *out)
{
    size_t n = 0;
    int r = rd_name_from_text(t, strlen(t), NULL, out, &n);
    cr_assert_eq(r, 0, "%s: %s", t, rd_strerror(r));
    return n;
}

Test(name, text_round_trip)
{
    const char *names[] = {
        ".",           "com.",       "www.Example.COM.", "a\\.b.example.", "\\000\\255.x.",
        "sp\\032ace.", "q\\\"uote.", "semi\\;colon."};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        uint8_t w[RD_NAME_MAX];
        from_text(names[i], w);
        char t[RD_NAME_TEXT_MAX];
        int r = rd_name_to_text(w, t, sizeof(t));
        cr_assert_gt(r, 0);
        cr_assert_str_eq(t, names[i]);
    }
}

Test(name, relative_and_origin)
{
    uint8_t origin[RD_NAME_MAX], w[RD_NAME_MAX];
    from_text("example.org.", origin);
    size_t n;
    cr_assert_eq(rd_name_from_text("www", 3, origin, w, &n), 0);
    char t[RD_NAME_TEXT_MAX];
    rd_name_to_text(w, t, sizeof(t));
    cr_assert_str_eq(t, "www.example.org.");
    cr_assert_eq(rd_name_from_text("@", 1, origin, w, &n), 0);
    cr_assert(rd_name_eq(w, origin));
    cr_assert_eq(rd_name_from_text("www", 3, NULL, w, &n), RD_ESYNTAX);
}

Test(name, text_errors)
{
    uint8_t w[RD_NAME_MAX];
    size_t n;
    char l64[80];
    memset(l64, 'a', 64);
    strcpy(l64 + 64, ".");
    cr_assert_eq(rd_name_from_text(l64, strlen(l64), NULL, w, &n), RD_ELABEL);
    cr_assert_eq(rd_name_from_text(l64 + 1, strlen(l64 + 1), NULL, w, &n), 0);
    cr_assert_eq(rd_name_from_text("a..b.", 5, NULL, w, &n), RD_ESYNTAX);
    cr_assert_eq(rd_name_from_text(".a.", 3, NULL, w, &n), RD_ESYNTAX);
    cr_assert_eq(rd_name_from_text("\\256.", 5, NULL, w, &n), RD_ERANGE);
    cr_assert_eq(rd_name_from_text("\\12", 3, NULL, w, &n), RD_ESYNTAX);
    cr_assert_eq(rd_name_from_text("a\\", 2, NULL, w, &n), RD_ESYNTAX);
    /* 255 octets is the most: 4 labels of 63 = 256 with the root octet */
    char big[300] = "";
    for (int i = 0; i < 4; i++) {
        memset(big + 64 * i, 'a', 63);
        big[64 * i + 63] = '.';
    }
    big[256] = 0;
    cr_assert_eq(rd_name_from_text(big, strlen(big), NULL, w, &n), RD_ENAMELEN);
    big[192] = 0;
    strcat(big, "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxy.");
    cr_assert_eq(rd_name_from_text(big, strlen(big), NULL, w, &n), 0);
    cr_assert_eq(n, 255);
}

Test(name, compare_case_insensitive_preserving)
{
    uint8_t a[RD_NAME_MAX], b[RD_NAME_MAX];
    from_text("WWW.Example.COM.", a);
    from_text("www.example.com.", b);
    cr_assert(rd_name_eq(a, b));
    cr_assert_eq(rd_name_cmp(a, b), 0);
    char t[RD_NAME_TEXT_MAX];
    rd_name_to_text(a, t, sizeof(t));
    cr_assert_str_eq(t, "WWW.Example.COM.");
    cr_assert(rd_name_in(a, b));
    uint8_t com[RD_NAME_MAX], root[1] = {0}, xcom[RD_NAME_MAX];
    from_text("com.", com);
    from_text("xcom.", xcom);
    cr_assert(rd_name_in(a, com));
    cr_assert(rd_name_in(a, root));
    cr_assert_not(rd_name_in(com, a));
    cr_assert_not(rd_name_in(xcom, com));
    rd_name_lower(a);
    rd_name_to_text(a, t, sizeof(t));
    cr_assert_str_eq(t, "www.example.com.");
}

Test(name, canonical_order_rfc4034)
{
    /* RFC 4034 s6.1 example, in order */
    const char *ordered[] = {"example.",         "a.example.",      "yljkjljk.a.example.",
                             "Z.a.example.",     "zABC.a.EXAMPLE.", "z.example.",
                             "\\001.z.example.", "*.z.example.",    "\\200.z.example."};
    size_t n = sizeof(ordered) / sizeof(ordered[0]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            uint8_t a[RD_NAME_MAX], b[RD_NAME_MAX];
            from_text(ordered[i], a);
            from_text(ordered[j], b);
            int c = rd_name_cmp(a, b);
            if (i < j) cr_assert_lt(c, 0, "%s < %s", ordered[i], ordered[j]);
            if (i == j) cr_assert_eq(c, 0);
            if (i > j) cr_assert_gt(c, 0, "%s > %s", ordered[i], ordered[j]);
        }
}

Test(name, unpack_compression)
{
    /* header(12) + "a.example." at 12, then "www" + ptr->12, then ptr->14 */
    uint8_t m[64] = {0};
    size_t p = 12;
    const uint8_t n1[] = {1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
    memcpy(m + p, n1, sizeof(n1));
    p += sizeof(n1);
    size_t at2 = p;
    const uint8_t n2[] = {3, 'w', 'w', 'w', 0xC0, 12};
    memcpy(m + p, n2, sizeof(n2));
    p += sizeof(n2);
    size_t at3 = p;
    m[p++] = 0xC0;
    m[p++] = 14;
    uint8_t out[RD_NAME_MAX];
    size_t ol, pos = at2;
    cr_assert_eq(rd_name_unpack(m, p, &pos, out, &ol), 0);
    cr_assert_eq(pos, at2 + sizeof(n2));
    char t[RD_NAME_TEXT_MAX];
    rd_name_to_text(out, t, sizeof(t));
    cr_assert_str_eq(t, "www.a.example.");
    pos = at3;
    cr_assert_eq(rd_name_unpack(m, p, &pos, out, &ol), 0);
    rd_name_to_text(out, t, sizeof(t));
    cr_assert_str_eq(t, "example.");
    cr_assert_eq(ol, 9);
}

Test(name, unpack_hostile)
{
    uint8_t out[RD_NAME_MAX];
    size_t pos;
    /* pointer to itself */
    uint8_t self[] = {0xC0, 0x00};
    pos = 0;
    cr_assert_eq(rd_name_unpack(self, 2, &pos, out, NULL), RD_EPTR);
    /* forward pointer */
    uint8_t fwd[] = {0xC0, 0x02, 0x00};
    pos = 0;
    cr_assert_eq(rd_name_unpack(fwd, 3, &pos, out, NULL), RD_EPTR);
    /* two-step loop: label at 0 ends in a pointer back to 0 (target not below the limit) */
    uint8_t loop[] = {0x01, 'a', 0xC0, 0x00, 0xC0, 0x00};
    pos = 4;
    cr_assert_eq(rd_name_unpack(loop, sizeof(loop), &pos, out, NULL), RD_EPTR);
    /* reserved label types */
    uint8_t r40[] = {0x41, 'a', 0};
    pos = 0;
    cr_assert_eq(rd_name_unpack(r40, 3, &pos, out, NULL), RD_ELABEL);
    uint8_t r80[] = {0x81, 'a', 0};
    pos = 0;
    cr_assert_eq(rd_name_unpack(r80, 3, &pos, out, NULL), RD_ELABEL);
    /* truncated label and truncated pointer */
    uint8_t tr[] = {0x05, 'a', 'b'};
    pos = 0;
    cr_assert_eq(rd_name_unpack(tr, 3, &pos, out, NULL), RD_ETRUNC);
    uint8_t tp[] = {0x01, 'a', 0xC0};
    pos = 0;
    cr_assert_eq(rd_name_unpack(tp, 3, &pos, out, NULL), RD_ETRUNC);
    /* name of 256 octets through pointers: 4 x 63-octet labels */
    uint8_t big[300] = {0};
    size_t p = 0;
    for (int i = 0; i < 4; i++) {
        big[p++] = 63;
        memset(big + p, 'x', 63);
        p += 63;
    }
    big[p++] = 0;
    pos = 0;
    cr_assert_eq(rd_name_unpack(big, p, &pos, out, NULL), RD_ENAMELEN);
    /* label 64 */
    uint8_t l64[70] = {64};
    memset(l64 + 1, 'a', 64);
    pos = 0;
    cr_assert_eq(rd_name_unpack(l64, 66, &pos, out, NULL), RD_ELABEL);
}

Test(name, pointer_chain_is_bounded)
{
    /* Each pointer points two octets back: strictly backwards, so legal one by one, but a chain
     * of thousands would make every name cost thousands of steps. 128 jumps is the most a
     * 127-label name can need. */
    static uint8_t m[4096];
    m[0] = 0;
    for (size_t p = 1; p + 1 < sizeof(m); p += 2) {
        size_t target = p == 1 ? 0 : p - 2;
        m[p] = (uint8_t)(0xC0 | (target >> 8));
        m[p + 1] = (uint8_t)target;
    }
    size_t pos = 1 + 2 * 100;
    cr_assert_eq(rd_name_unpack(m, sizeof(m), &pos, NULL, NULL), 0); /* 101 jumps: fine */
    pos = 1 + 2 * 1000;
    cr_assert_eq(rd_name_unpack(m, sizeof(m), &pos, NULL, NULL), RD_EPTR);
}
