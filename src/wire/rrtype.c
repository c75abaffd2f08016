/* The RR type table (house rule 6). Field layouts follow each type's RFC; compressible names
 * are exactly the RFC 3597 s4 well-known types (NS, CNAME, SOA, PTR, MX, ...). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "resolverd/rrtype.h"

#define F(...)                                                                                     \
    {                                                                                              \
        __VA_ARGS__, RD_RDF_END                                                                    \
    }
#define LOW RD_RRT_CANONLOW

static const rd_rrtype_desc_t table[] = {
    {RD_TYPE_A, "A", F(RD_RDF_A), 0},
    {RD_TYPE_NS, "NS", F(RD_RDF_NAME_C), LOW},
    {RD_TYPE_CNAME, "CNAME", F(RD_RDF_NAME_C), LOW},
    {RD_TYPE_SOA, "SOA",
     F(RD_RDF_NAME_C, RD_RDF_NAME_C, RD_RDF_U32, RD_RDF_TTL, RD_RDF_TTL, RD_RDF_TTL, RD_RDF_TTL),
     LOW},
    {RD_TYPE_NULL, "NULL", F(RD_RDF_OPAQUE), 0},
    {RD_TYPE_PTR, "PTR", F(RD_RDF_NAME_C), LOW},
    {RD_TYPE_HINFO, "HINFO", F(RD_RDF_STR, RD_RDF_STR), 0},
    {RD_TYPE_MX, "MX", F(RD_RDF_U16, RD_RDF_NAME_C), LOW},
    {RD_TYPE_TXT, "TXT", F(RD_RDF_STRS), 0},
    {RD_TYPE_RP, "RP", F(RD_RDF_NAME, RD_RDF_NAME), LOW},
    {RD_TYPE_AFSDB, "AFSDB", F(RD_RDF_U16, RD_RDF_NAME), LOW},
    {RD_TYPE_AAAA, "AAAA", F(RD_RDF_AAAA), 0},
    {RD_TYPE_SRV, "SRV", F(RD_RDF_U16, RD_RDF_U16, RD_RDF_U16, RD_RDF_NAME), LOW},
    {RD_TYPE_NAPTR, "NAPTR",
     F(RD_RDF_U16, RD_RDF_U16, RD_RDF_STR, RD_RDF_STR, RD_RDF_STR, RD_RDF_NAME), LOW},
    {RD_TYPE_KX, "KX", F(RD_RDF_U16, RD_RDF_NAME), LOW},
    {RD_TYPE_DNAME, "DNAME", F(RD_RDF_NAME), LOW},
    {RD_TYPE_OPT, "OPT", F(RD_RDF_OPAQUE), RD_RRT_META},
    {RD_TYPE_DS, "DS", F(RD_RDF_U16, RD_RDF_U8, RD_RDF_U8, RD_RDF_HEX), 0},
    {RD_TYPE_SSHFP, "SSHFP", F(RD_RDF_U8, RD_RDF_U8, RD_RDF_HEX), 0},
    {RD_TYPE_RRSIG, "RRSIG",
     F(RD_RDF_TYPE, RD_RDF_U8, RD_RDF_U8, RD_RDF_U32, RD_RDF_TIME, RD_RDF_TIME, RD_RDF_U16,
       RD_RDF_NAME, RD_RDF_B64),
     LOW},
    /* RFC 6840 s5.1: NSEC next name is not lowercased in canonical form. */
    {RD_TYPE_NSEC, "NSEC", F(RD_RDF_NAME, RD_RDF_BITMAP), 0},
    {RD_TYPE_DNSKEY, "DNSKEY", F(RD_RDF_U16, RD_RDF_U8, RD_RDF_U8, RD_RDF_B64), 0},
    {RD_TYPE_DHCID, "DHCID", F(RD_RDF_B64), 0},
    {RD_TYPE_NSEC3, "NSEC3",
     F(RD_RDF_U8, RD_RDF_U8, RD_RDF_U16, RD_RDF_SALT, RD_RDF_B32, RD_RDF_BITMAP), 0},
    {RD_TYPE_NSEC3PARAM, "NSEC3PARAM", F(RD_RDF_U8, RD_RDF_U8, RD_RDF_U16, RD_RDF_SALT), 0},
    {RD_TYPE_TLSA, "TLSA", F(RD_RDF_U8, RD_RDF_U8, RD_RDF_U8, RD_RDF_HEX), 0},
    {RD_TYPE_SMIMEA, "SMIMEA", F(RD_RDF_U8, RD_RDF_U8, RD_RDF_U8, RD_RDF_HEX), 0},
    {RD_TYPE_CDS, "CDS", F(RD_RDF_U16, RD_RDF_U8, RD_RDF_U8, RD_RDF_HEX), 0},
    {RD_TYPE_CDNSKEY, "CDNSKEY", F(RD_RDF_U16, RD_RDF_U8, RD_RDF_U8, RD_RDF_B64), 0},
    {RD_TYPE_OPENPGPKEY, "OPENPGPKEY", F(RD_RDF_B64), 0},
    {RD_TYPE_CSYNC, "CSYNC", F(RD_RDF_U32, RD_RDF_U16, RD_RDF_BITMAP), 0},
    {RD_TYPE_ZONEMD, "ZONEMD", F(RD_RDF_U32, RD_RDF_U8, RD_RDF_U8, RD_RDF_HEX), 0},
    {RD_TYPE_SVCB, "SVCB", F(RD_RDF_U16, RD_RDF_NAME, RD_RDF_SVCPARAMS), 0},
    {RD_TYPE_HTTPS, "HTTPS", F(RD_RDF_U16, RD_RDF_NAME, RD_RDF_SVCPARAMS), 0},
    {RD_TYPE_SPF, "SPF", F(RD_RDF_STRS), 0},
    {RD_TYPE_IXFR, "IXFR", F(RD_RDF_OPAQUE), RD_RRT_META},
    {RD_TYPE_AXFR, "AXFR", F(RD_RDF_OPAQUE), RD_RRT_META},
    {RD_TYPE_ANY, "ANY", F(RD_RDF_OPAQUE), RD_RRT_META},
    {RD_TYPE_URI, "URI", F(RD_RDF_U16, RD_RDF_U16, RD_RDF_QREST), 0},
    {RD_TYPE_CAA, "CAA", F(RD_RDF_U8, RD_RDF_TAG, RD_RDF_QREST), 0},
};

static const rd_rrtype_desc_t unknown = {0, NULL, F(RD_RDF_OPAQUE), 0};

/* Types are sparse but small: a direct index for 0..511 makes lookup one load. */
#define DIRECT 512
static const rd_rrtype_desc_t *direct[DIRECT];
static int direct_ready;

static void build_direct(void)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        RD_REQUIRE(table[i].type < DIRECT);
        direct[table[i].type] = &table[i];
    }
    direct_ready = 1;
}

const rd_rrtype_desc_t *rd_rrtype(uint16_t type)
{
    /* Idempotent and race-benign: every thread writes the same pointers. Called first at
     * start-up, before workers exist. */
    if (!__atomic_load_n(&direct_ready, __ATOMIC_ACQUIRE)) build_direct();
    if (type < DIRECT && direct[type]) return direct[type];
    return &unknown;
}

const rd_rrtype_desc_t *rd_rrtype_at(size_t i)
{
    return i < sizeof(table) / sizeof(table[0]) ? &table[i] : NULL;
}

const char *rd_rrtype_name(uint16_t type)
{
    return rd_rrtype(type)->name;
}

static int parse_num_suffix(const char *s, size_t len, size_t prefix, uint16_t *out)
{
    if (len <= prefix || len > prefix + 5) return RD_ESYNTAX;
    uint32_t v = 0;
    for (size_t i = prefix; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return RD_ESYNTAX;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v > 65535) return RD_ERANGE;
    *out = (uint16_t)v;
    return 0;
}

int rd_rrtype_from_text(const char *s, size_t len, uint16_t *type)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strlen(table[i].name) == len && strncasecmp(table[i].name, s, len) == 0) {
            *type = table[i].type;
            return 0;
        }
    }
    if (len > 4 && strncasecmp(s, "TYPE", 4) == 0) return parse_num_suffix(s, len, 4, type);
    return RD_ENOTFOUND;
}

int rd_rrtype_to_text(uint16_t type, char *out, size_t cap)
{
    const char *n = rd_rrtype_name(type);
    int r = n ? snprintf(out, cap, "%s", n) : snprintf(out, cap, "TYPE%u", (unsigned)type);
    return (r < 0 || (size_t)r >= cap) ? RD_ESPACE : r;
}

static const struct {
    uint16_t c;
    const char *n;
} classes[] = {{RD_CLASS_IN, "IN"},
               {RD_CLASS_CH, "CH"},
               {RD_CLASS_HS, "HS"},
               {RD_CLASS_NONE, "NONE"},
               {RD_CLASS_ANY, "ANY"}};

int rd_class_from_text(const char *s, size_t len, uint16_t *rclass)
{
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        if (strlen(classes[i].n) == len && strncasecmp(classes[i].n, s, len) == 0) {
            *rclass = classes[i].c;
            return 0;
        }
    }
    if (len == 5 && strncasecmp(s, "CHAOS", 5) == 0) {
        *rclass = RD_CLASS_CH;
        return 0;
    }
    if (len > 5 && strncasecmp(s, "CLASS", 5) == 0) return parse_num_suffix(s, len, 5, rclass);
    return RD_ENOTFOUND;
}

int rd_class_to_text(uint16_t rclass, char *out, size_t cap)
{
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        if (classes[i].c == rclass) {
            int r = snprintf(out, cap, "%s", classes[i].n);
            return (r < 0 || (size_t)r >= cap) ? RD_ESPACE : r;
        }
    }
    int r = snprintf(out, cap, "CLASS%u", (unsigned)rclass);
    return (r < 0 || (size_t)r >= cap) ? RD_ESPACE : r;
}
