#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolverd/msg.h"
#include "resolverd/zone.h"
#include "resolverd/zonefile.h"

struct count {
    int ns, a, aaaa, other;
    uint8_t names[13][RD_NAME_MAX];
};

static int on_rr(void *ctx, const rd_zrr_t *rr)
{
    struct count *c = ctx;
    if (rr->type == RD_TYPE_NS) {
        cr_assert_eq(rr->owner[0], 0, "NS owner must be the root");
        cr_assert_lt(c->ns, 13);
        memcpy(c->names[c->ns++], rr->rdata, rr->rdlen);
    } else if (rr->type == RD_TYPE_A) {
        c->a++;
    } else if (rr->type == RD_TYPE_AAAA) {
        c->aaaa++;
    } else {
        c->other++;
    }
    return 0;
}

Test(roothints, compiled_in_hints_parse)
{
    size_t len;
    const char *text = rd_root_hints_default(&len);
    cr_assert_gt(len, 1000);
    struct count c = {0};
    rd_zone_opts_t o = {
        .origin = (const uint8_t *)"", .default_ttl = 3600000, .on_rr = on_rr, .ctx = &c};
    cr_assert_eq(rd_zone_parse_mem(text, len, "root.hints", &o), 0);
    cr_assert_eq(c.ns, 13);
    cr_assert_eq(c.a, 13);
    cr_assert_eq(c.aaaa, 13);
    cr_assert_eq(c.other, 0);
    char t[RD_NAME_TEXT_MAX];
    rd_name_to_text(c.names[0], t, sizeof(t));
    cr_assert_str_eq(t, "A.ROOT-SERVERS.NET.");
}

Test(roothints, same_as_shipped_file)
{
    size_t len;
    const char *text = rd_root_hints_default(&len);
    FILE *f = fopen(RD_SOURCE_DIR "/zones/root.hints", "rb");
    cr_assert_not_null(f);
    char *buf = malloc(len + 1);
    size_t got = fread(buf, 1, len + 1, f);
    fclose(f);
    cr_assert_eq(got, len);
    cr_assert_eq(memcmp(buf, text, len), 0);
    free(buf);
}
