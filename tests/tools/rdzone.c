/* rdzone: reads a master file with our parser and prints every record on one line in a
 * canonical form, "owner TTL CLASS TYPE rdata" (owner lowercased, names absolute, one space
 * between fields), for people and for tests/integration/test_zone_crosscheck.sh.
 *
 *   rdzone [-t DEFAULT_TTL] [-I] ORIGIN FILE
 *
 * Errors go to stderr as "file:line:col: error: msg"; the exit status is 1 when there was any
 * error, 2 on bad usage. -t sets the TTL of records before any $TTL or explicit TTL (default
 * 3600, what ldns-read-zone assumes); -I refuses $INCLUDE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolverd/name.h"
#include "resolverd/rrtype.h"
#include "resolverd/zonefile.h"

/* Rdata is at most 65535 octets; its text (hex or \DDD escapes) is at most ~4 times that. */
#define TEXT_MAX (4 * 65536 + 1024)

typedef struct {
    char *text;
    unsigned long records;
} out_t;

static int on_rr(void *ctx, const rd_zrr_t *rr)
{
    out_t *o = ctx;
    uint8_t owner[RD_NAME_MAX];
    char name[RD_NAME_TEXT_MAX], cls[32], type[32];
    rd_name_lower_copy(owner, rr->owner);
    if (rd_name_to_text(owner, name, sizeof(name)) < 0 ||
        rd_class_to_text(rr->rclass, cls, sizeof(cls)) < 0 ||
        rd_rrtype_to_text(rr->type, type, sizeof(type)) < 0) {
        fprintf(stderr, "%s:%u: error: cannot print record\n", rr->file, rr->line);
        return RD_EBUG;
    }
    int n = rd_rdata_to_text(rr->type, rr->rdata, rr->rdlen, o->text, TEXT_MAX);
    if (n < 0) {
        fprintf(stderr, "%s:%u: error: cannot print rdata: %s\n", rr->file, rr->line,
                rd_strerror(n));
        return n;
    }
    printf("%s %u %s %s%s%s\n", name, (unsigned)rr->ttl, cls, type, n > 0 ? " " : "", o->text);
    o->records++;
    return 0;
}

static int on_error(void *ctx, const rd_zone_error_t *e)
{
    (void)ctx;
    if (e->line == 0)
        fprintf(stderr, "%s: error: %s\n", e->file, e->msg);
    else
        fprintf(stderr, "%s:%u:%u: error: %s\n", e->file, e->line, e->col, e->msg);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: rdzone [-t DEFAULT_TTL] [-I] ORIGIN FILE\n");
    return 2;
}

int main(int argc, char **argv)
{
    rd_zone_opts_t opts = {.default_ttl = 3600, .allow_include = true, .on_error = on_error};
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (errno || *end || v > 2147483647ul) return usage();
            opts.default_ttl = (uint32_t)v;
        } else if (strcmp(argv[i], "-I") == 0) {
            opts.allow_include = false;
        } else {
            return usage();
        }
    }
    if (argc - i != 2) return usage();
    uint8_t origin[RD_NAME_MAX];
    const char *otext = argv[i];
    size_t olen = strlen(otext);
    /* The origin is always absolute: "example.com" means "example.com.". */
    char abs[RD_NAME_TEXT_MAX + 2];
    if (olen == 0 || olen > RD_NAME_TEXT_MAX) return usage();
    if (otext[olen - 1] != '.') {
        snprintf(abs, sizeof(abs), "%s.", otext);
        otext = abs;
        olen++;
    }
    if (rd_name_from_text(otext, olen, NULL, origin, NULL) < 0) {
        fprintf(stderr, "rdzone: bad origin '%s'\n", argv[i]);
        return 2;
    }
    out_t o = {.text = malloc(TEXT_MAX)};
    if (!o.text) {
        fprintf(stderr, "rdzone: out of memory\n");
        return 1;
    }
    opts.origin = origin;
    opts.on_rr = on_rr;
    opts.ctx = &o;
    int r = rd_zone_parse_file(argv[i + 1], &opts);
    free(o.text);
    if (fflush(stdout) != 0) return 1;
    if (r < 0) {
        fprintf(stderr, "rdzone: %s: %s\n", argv[i + 1], rd_strerror(r));
        return 1;
    }
    return r > 0 ? 1 : 0;
}
