/* Access control: "access-control: NET[/PREFIX] allow|allow_snoop|refuse|deny" rules and the
 * longest-prefix match the server runs on every client address.
 *
 * Built-in rules sit under the configured ones: loopback (127.0.0.0/8, ::1) is allowed,
 * everything else refused (0.0.0.0/0, ::/0), so a resolver is never open by accident
 * (RFC 5358 s4). The longest matching prefix decides; on equal prefixes a configured rule beats
 * a built-in one and a later configured rule beats an earlier one, so a file can be read top
 * to bottom. IPv4-mapped clients (::ffff:a.b.c.d, seen on dual-stack sockets) are matched as
 * the IPv4 address they are, and a rule written in the mapped form becomes an IPv4 rule. */
#include <stdio.h>
#include <string.h>

#include "conf/conf_int.h"

static const rd_acl_rule_t builtin[] = {
    {.net = {.family = 4, .addr = {127}}, .prefix = 8, .action = RD_ACL_ALLOW},
    {.net = {.family = 6, .addr = {[15] = 1}}, .prefix = 128, .action = RD_ACL_ALLOW},
    {.net = {.family = 4}, .prefix = 0, .action = RD_ACL_REFUSE},
    {.net = {.family = 6}, .prefix = 0, .action = RD_ACL_REFUSE},
};

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, net, full) != 0) return false;
    if (!rest) return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

/* Clears the bits past prefix; true when some were set. */
static bool clear_host_bits(uint8_t *a, unsigned bytes, unsigned prefix)
{
    bool had = false;
    for (unsigned i = 0; i < bytes; i++) {
        unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
        uint8_t mask = (uint8_t)(keep ? 0xff << (8 - keep) : 0);
        if (a[i] & ~mask) had = true;
        a[i] &= mask;
    }
    return had;
}

int rd__acl_parse(const char *s, size_t len, rd_acl_rule_t *out, char *why, size_t cap)
{
    static const char form[] = "expected 'NETWORK[/PREFIX] allow|allow_snoop|refuse|deny'";
    char q[80];
    size_t i = 0, net_end, act, act_end;
    while (i < len && !blank(s[i])) i++;
    net_end = i;
    while (i < len && blank(s[i])) i++;
    act = i;
    while (i < len && !blank(s[i])) i++;
    act_end = i;
    while (i < len && blank(s[i])) i++;
    if (net_end == 0 || act == act_end || i != len) {
        rd__quote(q, sizeof(q), s, len);
        snprintf(why, cap, "%s, got %s", form, q);
        return RD_ESYNTAX;
    }

    rd_acl_rule_t rule;
    memset(&rule, 0, sizeof(rule));
    const char *act_s = s + act;
    size_t act_len = act_end - act;
    if (act_len == 5 && memcmp(act_s, "allow", 5) == 0)
        rule.action = RD_ACL_ALLOW;
    else if (act_len == 11 &&
             (memcmp(act_s, "allow_snoop", 11) == 0 || memcmp(act_s, "allow-snoop", 11) == 0))
        rule.action = RD_ACL_ALLOW_SNOOP; /* Unbound's spelling, and ours with a dash */
    else if (act_len == 6 && memcmp(act_s, "refuse", 6) == 0)
        rule.action = RD_ACL_REFUSE;
    else if (act_len == 4 && memcmp(act_s, "deny", 4) == 0)
        rule.action = RD_ACL_DENY;
    else {
        rd__quote(q, sizeof(q), act_s, act_len);
        snprintf(why, cap, "expected allow, allow_snoop, refuse or deny after the network, got %s",
                 q);
        return RD_ESYNTAX;
    }

    const char *slash = memchr(s, '/', net_end);
    size_t alen = slash ? (size_t)(slash - s) : net_end;
    int r = rd__ip_parse(s, alen, &rule.net);
    if (r) {
        rd__quote(q, sizeof(q), s, alen);
        snprintf(why, cap, "%s is not an IPv4 or IPv6 address%s", q,
                 memchr(s, '@', alen) ? " (no @port here)" : "");
        return r;
    }
    unsigned max = rule.net.family == 4 ? 32 : 128, prefix = max;
    if (slash) {
        int rp = 0;
        const char *ps = slash + 1;
        size_t pl = net_end - alen - 1;
        /* A prefix is a decimal 0..max without leading zeros. */
        prefix = 0;
        if (pl == 0 || pl > 3 || (pl > 1 && ps[0] == '0')) rp = RD_ESYNTAX;
        for (size_t k = 0; !rp && k < pl; k++) {
            if (ps[k] < '0' || ps[k] > '9')
                rp = RD_ESYNTAX;
            else
                prefix = prefix * 10 + (unsigned)(ps[k] - '0');
        }
        if (rp || prefix > max) {
            rd__quote(q, sizeof(q), ps, pl);
            snprintf(why, cap, "prefix %s is not a number from 0 to %u for IPv%u", q, max,
                     rule.net.family);
            return rp ? rp : RD_ERANGE;
        }
    }
    uint8_t clean[16];
    memcpy(clean, rule.net.addr, sizeof(clean));
    if (clear_host_bits(clean, max / 8, prefix)) {
        rd_addr_t n = rule.net;
        memcpy(n.addr, clean, sizeof(clean));
        char t[64];
        rd_addr_to_text(&n, t, sizeof(t));
        rd__quote(q, sizeof(q), s, net_end);
        snprintf(why, cap, "%s has host bits set past the prefix (the network is %s/%u)", q, t,
                 prefix);
        return RD_ESYNTAX;
    }
    if (rd__addr_is_mapped(&rule.net) && prefix >= 96) {
        memmove(rule.net.addr, rule.net.addr + 12, 4);
        memset(rule.net.addr + 4, 0, 12);
        rule.net.family = 4;
        prefix -= 96;
    }
    rule.prefix = (uint8_t)prefix;
    *out = rule;
    return 0;
}

int rd_acl_check(const rd_conf_t *c, const rd_addr_t *addr)
{
    if (!addr || (addr->family != 4 && addr->family != 6)) return RD_EINVAL;
    rd_addr_t a = *addr;
    if (rd__addr_is_mapped(&a)) {
        memmove(a.addr, a.addr + 12, 4);
        a.family = 4;
    }
    int best = -1, action = RD_ACL_REFUSE;
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
        const rd_acl_rule_t *r = &builtin[i];
        if (r->net.family == a.family && (int)r->prefix > best &&
            prefix_match(a.addr, r->net.addr, r->prefix)) {
            best = r->prefix;
            action = r->action;
        }
    }
    /* ">=": a configured rule wins over a built-in one and over earlier configured ones. */
    for (size_t i = 0; c && i < c->nacl; i++) {
        const rd_acl_rule_t *r = &c->acl[i];
        if (r->net.family == a.family && (int)r->prefix >= best &&
            prefix_match(a.addr, r->net.addr, r->prefix)) {
            best = r->prefix;
            action = r->action;
        }
    }
    return action;
}
