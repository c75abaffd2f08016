/* libFuzzer target: domain names (src/wire/name.c).
 *
 * The input is read two ways:
 *  - as a message: rd_name_unpack at every offset (compression pointers, loops, forward
 *    pointers, reserved label types, length limits);
 *  - as presentation text: rd_name_from_text of the whole input (escapes, empty labels,
 *    length limits), relative to a fixed origin and with no origin.
 * Every name that reads must print (rd_name_to_text) and read back (rd_name_from_text) to the
 * same octets; canonical order (rd_name_cmp) must be antisymmetric, agree with rd_name_eq and
 * put a parent before its children (rd_name_in). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "resolverd/name.h"

#define MAX_NAMES   32 /* pairs are quadratic; a few dozen names cover every relation */
#define MAX_CHECKED 64 /* names per input given the full round trip */
#define MAX_DEEP    16 /* names per input whose every suffix is checked */

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

/* Properties of one valid uncompressed name of length len; deep adds the checks that are
 * quadratic in the number of labels. */
static void check_name(const uint8_t *name, size_t len, bool deep)
{
    size_t cl = 0;
    FUZZ_CHECK(rd_name_check(name, len, &cl) == 0 && cl == len, "unpacked name does not check");
    FUZZ_CHECK(rd_name_len(name) == len, "rd_name_len %zu != %zu", rd_name_len(name), len);
    FUZZ_CHECK(len <= RD_NAME_MAX, "name of %zu octets", len);
    int labels = rd_name_labels(name);
    FUZZ_CHECK(labels >= 0 && (size_t)labels * 2 + 1 <= len, "%d labels in %zu octets", labels,
               len);

    /* Print and read back: the text keeps case, so the octets must be identical. */
    char text[RD_NAME_TEXT_MAX];
    int tl = rd_name_to_text(name, text, sizeof(text));
    FUZZ_CHECK(tl > 0, "rd_name_to_text failed: %d", tl);
    FUZZ_CHECK(strlen(text) == (size_t)tl && text[tl - 1] == '.', "bad text [%s]", text);
    uint8_t back[RD_NAME_MAX];
    size_t bl = 0;
    int r = rd_name_from_text(text, (size_t)tl, NULL, back, &bl);
    if (r != 0 || bl != len || memcmp(back, name, len) != 0 || !rd_name_eq(back, name)) {
        fuzz_hexdump("name", name, len);
        if (r == 0) fuzz_hexdump("read back", back, bl);
        FUZZ_CHECK(0, "name printed as [%s] reads back %s", text,
                   r ? rd_strerror(r) : "as another name");
    }

    /* Printing into too small a buffer fails cleanly and never writes past it. */
    size_t small = (size_t)(name[len > 1 ? 1 : 0] % (unsigned)(tl + 1)) + 1;
    char *tiny = malloc(small);
    if (!tiny) abort();
    int tr = rd_name_to_text(name, tiny, small);
    FUZZ_CHECK(small > (size_t)tl ? tr == tl : tr == RD_ESPACE, "to_text cap %zu gave %d (need %d)",
               small, tr, tl + 1);
    free(tiny);

    /* Case: the lowercased copy is equal, in, and sorts equal. */
    uint8_t low[RD_NAME_MAX];
    rd_name_lower_copy(low, name);
    FUZZ_CHECK(rd_name_eq(low, name) && rd_name_eq(name, low), "lowercase copy not equal");
    FUZZ_CHECK(rd_name_cmp(low, name) == 0 && rd_name_cmp(name, low) == 0, "lowercase cmp != 0");
    FUZZ_CHECK(rd_name_in(name, low) && rd_name_in(low, name), "lowercase copy not in");
    uint8_t low2[RD_NAME_MAX];
    memcpy(low2, name, len);
    rd_name_lower(low2);
    FUZZ_CHECK(memcmp(low, low2, len) == 0, "rd_name_lower != rd_name_lower_copy");
    FUZZ_CHECK(rd_name_in(name, (const uint8_t *)""), "name not under the root");

    /* Every suffix at a label boundary is a parent. */
    if (!deep) return;
    for (size_t p = 0; name[p]; p += 1 + (size_t)name[p]) {
        FUZZ_CHECK(rd_name_in(name, name + p), "name not in its own suffix at %zu", p);
        if (p > 0) {
            FUZZ_CHECK(!rd_name_in(name + p, name), "suffix at %zu contains the name", p);
            FUZZ_CHECK(rd_name_cmp(name + p, name) < 0, "parent at %zu sorts after child", p);
        }
    }
}

static void check_pair(const uint8_t *a, const uint8_t *b)
{
    int ab = rd_name_cmp(a, b), ba = rd_name_cmp(b, a);
    bool eq = rd_name_eq(a, b);
    FUZZ_CHECK(sign(ab) == -sign(ba), "cmp not antisymmetric: %d %d", ab, ba);
    FUZZ_CHECK((ab == 0) == eq, "cmp %d but eq %d", ab, eq);
    FUZZ_CHECK(eq == rd_name_eq(b, a), "eq not symmetric");
    bool in_ab = rd_name_in(a, b), in_ba = rd_name_in(b, a);
    FUZZ_CHECK((in_ab && in_ba) == eq, "in both ways %d %d but eq %d", in_ab, in_ba, eq);
    /* RFC 4034 s6.1: a parent sorts before everything below it. */
    if (in_ab) FUZZ_CHECK(ab >= 0, "a under b but cmp(a,b) = %d", ab);
    if (in_ba) FUZZ_CHECK(ab <= 0, "b under a but cmp(a,b) = %d", ab);
}

static void check_triple(const uint8_t *a, const uint8_t *b, const uint8_t *c)
{
    if (rd_name_cmp(a, b) <= 0 && rd_name_cmp(b, c) <= 0)
        FUZZ_CHECK(rd_name_cmp(a, c) <= 0, "cmp not transitive");
}

static uint8_t names[MAX_NAMES][RD_NAME_MAX];
static size_t nnames;

static void keep(const uint8_t *name, size_t len)
{
    if (nnames < MAX_NAMES) memcpy(names[nnames++], name, len);
}

static void from_text(const uint8_t *data, size_t size, const uint8_t *origin)
{
    uint8_t out[RD_NAME_MAX];
    size_t ol = 0;
    /* An exact-size copy: the parser must not read past len (text need not be NUL-ended). */
    char *text = (char *)fuzz_dup(data, size);
    int r = rd_name_from_text(text, size, origin, out, &ol);
    free(text);
    if (r != 0) return;
    FUZZ_CHECK(ol >= 1 && ol <= RD_NAME_MAX, "from_text length %zu", ol);
    check_name(out, ol, true);
    keep(out, ol);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t origin[] = "\7example\3com";
    nnames = 0;
    size_t checked = 0;

    for (size_t off = 0; off < size; off++) {
        size_t pos = off, len = 0, pos2 = off, len2 = 0;
        uint8_t out[RD_NAME_MAX];
        int r = rd_name_unpack(data, size, &pos, out, &len);
        int r2 = rd_name_unpack(data, size, &pos2, NULL, &len2);
        FUZZ_CHECK(r == r2, "unpack with and without output differ: %d %d", r, r2);
        if (r != 0) {
            FUZZ_CHECK(r == RD_ETRUNC || r == RD_ELABEL || r == RD_ENAMELEN || r == RD_EPTR,
                       "unexpected error %d", r);
            FUZZ_CHECK(pos == off, "failed unpack moved pos");
            continue;
        }
        FUZZ_CHECK(pos == pos2 && len == len2, "unpack with and without output differ");
        FUZZ_CHECK(pos > off && pos <= size, "pos %zu after name at %zu (size %zu)", pos, off,
                   size);
        /* Most offsets of a long input decode to names already seen (suffixes, pointers to
         * one place): the full check on the first names keeps big inputs fast. */
        if (checked < MAX_CHECKED) check_name(out, len, checked < MAX_DEEP);
        checked++;
        /* An uncompressed name at off is what rd_name_check validates in place. */
        size_t cl = 0;
        if (rd_name_check(data + off, size - off, &cl) == 0)
            FUZZ_CHECK(cl == len && pos == off + len && memcmp(out, data + off, len) == 0,
                       "rd_name_check and rd_name_unpack disagree at %zu", off);
        keep(out, len);
    }

    from_text(data, size, NULL);
    from_text(data, size, origin);

    for (size_t i = 0; i < nnames; i++)
        for (size_t j = i; j < nnames; j++) check_pair(names[i], names[j]);
    for (size_t i = 0; i + 2 < nnames && i < 16; i++) {
        check_triple(names[i], names[i + 1], names[i + 2]);
        check_triple(names[i + 2], names[i + 1], names[i]);
        check_triple(names[i], names[i + 2], names[i + 1]);
    }
    return 0;
}
