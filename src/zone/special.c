/* Built-in zones for special-use names, so questions about them never leave the machine:
 * - localhost. (RFC 6761 s6.3): the name and every name below it are the loopback addresses
 *   (a wildcard does the names below; Unbound answers NXDOMAIN there, we follow the RFC and
 *   draft-ietf-dnsop-let-localhost-be-localhost as Knot Resolver does).
 * - invalid. (RFC 6761 s6.4) and onion. (RFC 7686 s2): NXDOMAIN for everything below.
 * - RFC 6303 s4 locally served reverse zones (private, loopback, link-local, documentation,
 *   limited broadcast, ::, ::1, ULA, IPv6 link-local) and RFC 7793 for 100.64.0.0/10: an empty
 *   zone, so NXDOMAIN with the zone's SOA. 127.0.0.1 and ::1 map back to localhost. as
 *   Unbound does (RFC 6303 s4.2 leaves it open).
 * - test. is left alone: RFC 6761 s6.2 asks caching servers not to answer it by default.
 * Each zone is master-file text parsed at start-up, so it goes through the same checks as a
 * configured zone. The SOA and NS follow RFC 6303 s3 (and Unbound's values for localhost). */
#include <stdio.h>
#include <string.h>

#include "zone/zone_int.h"

#define SOA_NS                                                                                     \
    "@ 10800 IN SOA @ nobody.invalid. 1 3600 1200 604800 10800\n"                                  \
    "@ 10800 IN NS @\n"

static const char empty_zone[] = SOA_NS;
static const char localhost_zone[] = SOA_NS "@ 10800 IN A 127.0.0.1\n"
                                            "@ 10800 IN AAAA ::1\n"
                                            "* 10800 IN A 127.0.0.1\n"
                                            "* 10800 IN AAAA ::1\n";
static const char loopback4_zone[] = SOA_NS "1.0.0 10800 IN PTR localhost.\n";
static const char loopback6_zone[] = SOA_NS "@ 10800 IN PTR localhost.\n";

typedef struct {
    const char *origin;
    const char *text;
} builtin_t;

static const builtin_t builtins[] = {
    {"localhost.", localhost_zone},
    {"invalid.", empty_zone},
    {"onion.", empty_zone},
    /* RFC 6303 s4.1: RFC 1918 (172.16/12 is generated below) */
    {"10.in-addr.arpa.", empty_zone},
    {"168.192.in-addr.arpa.", empty_zone},
    /* RFC 6303 s4.2: RFC 5735 */
    {"0.in-addr.arpa.", empty_zone},
    {"127.in-addr.arpa.", loopback4_zone},
    {"254.169.in-addr.arpa.", empty_zone},
    {"2.0.192.in-addr.arpa.", empty_zone},
    {"100.51.198.in-addr.arpa.", empty_zone},
    {"113.0.203.in-addr.arpa.", empty_zone},
    {"255.255.255.255.in-addr.arpa.", empty_zone},
    /* RFC 6303 s4.3: ::1 and :: */
    {"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", loopback6_zone},
    {"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", empty_zone},
    /* RFC 6303 s4.4: fd00::/8 (ULA); s4.5: fe80::/10 (link-local); s4.6: 2001:db8::/32 */
    {"d.f.ip6.arpa.", empty_zone},
    {"8.e.f.ip6.arpa.", empty_zone},
    {"9.e.f.ip6.arpa.", empty_zone},
    {"a.e.f.ip6.arpa.", empty_zone},
    {"b.e.f.ip6.arpa.", empty_zone},
    {"8.b.d.0.1.0.0.2.ip6.arpa.", empty_zone},
};

/* Adds one built-in zone unless a zone of the set already holds its origin. */
static int add_one(rd_zoneset_t *s, const char *origin_text, const char *text)
{
    uint8_t origin[RD_NAME_MAX];
    size_t olen;
    int r = rd_name_from_text(origin_text, strlen(origin_text), NULL, origin, &olen);
    if (rd_fails_assert(r == 0)) return RD_EBUG;
    if (rd_zoneset_find(s, origin)) return 0;
    char name[RD_NAME_TEXT_MAX + 16];
    snprintf(name, sizeof(name), "builtin:%s", origin_text);
    rd_zone_t *z;
    r = rd_zone_load_mem(text, strlen(text), name, origin, NULL, NULL, &z);
    if (r == RD_ENOMEM) return r;
    if (rd_fails_assert(r == 0)) return RD_EBUG;
    r = rd_zoneset_add(s, z);
    if (r) rd_zone_free(z);
    return r;
}

int rd_zoneset_add_builtin(rd_zoneset_t *s)
{
    if (!s) return RD_EINVAL;
    int r;
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if ((r = add_one(s, builtins[i].origin, builtins[i].text))) return r;
    char origin[64];
    /* RFC 6303 s4.1: 172.16.0.0/12 is sixteen /16 zones. */
    for (int i = 16; i <= 31; i++) {
        snprintf(origin, sizeof(origin), "%d.172.in-addr.arpa.", i);
        if ((r = add_one(s, origin, empty_zone))) return r;
    }
    /* RFC 7793 s2: 100.64.0.0/10 (shared address space) is sixty-four /16 zones. */
    for (int i = 64; i <= 127; i++) {
        snprintf(origin, sizeof(origin), "%d.100.in-addr.arpa.", i);
        if ((r = add_one(s, origin, empty_zone))) return r;
    }
    return 0;
}
