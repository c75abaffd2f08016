/* resolver.conf, the entry sections: zone:, forward: and stub:. Each header starts a new entry;
 * its name: is required (reported at the header's line when missing) and unique among the
 * sections of its kind (names compare case-insensitively, RFC 4343). Duplicates are found with a
 * small hash set, so 100,000 zones cost no quadratic scan.
 *
 * tls-pin applies to the upstream: line just before it, the way a certificate pin belongs to
 * one server. A tls:// upstream without #AUTHNAME must be pinned, otherwise nothing could
 * authenticate it (RFC 8310 s7: strict privacy needs an authentication domain name or an SPKI
 * pin); that is checked when the next upstream: starts or the section ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolverd/name.h"
#include "conf/conf_int.h"

static const uint8_t *entry_name(const rd_conf_t *c, int which, size_t i)
{
    switch (which) {
    case 0: return c->zones[i].name;
    case 1: return c->forwards[i].name;
    default: return c->stubs[i].name;
    }
}

static uint64_t name_hash(const uint8_t *name)
{
    uint8_t low[RD_NAME_MAX];
    size_t len = rd_name_len(name);
    rd_name_lower_copy(low, name);
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ low[i]) * 1099511628211ull;
    return h;
}

/* The slot holding name, or the empty slot where it would go. */
static rd__nameslot_t *ns_find(const rd__parser_t *p, int which, const uint8_t *name)
{
    const rd__nameset_t *s = &p->names[which];
    size_t mask = s->cap - 1;
    for (size_t i = (size_t)name_hash(name) & mask;; i = (i + 1) & mask) {
        rd__nameslot_t *slot = &s->slots[i];
        if (!slot->idx1 || rd_name_eq(entry_name(p->c, which, slot->idx1 - 1), name)) return slot;
    }
}

static int ns_grow(rd__parser_t *p, int which)
{
    rd__nameset_t *s = &p->names[which];
    if (s->cap && (s->used + 1) * 2 <= s->cap) return 0;
    rd__nameset_t old = *s;
    s->cap = old.cap ? old.cap * 2 : 64;
    s->slots = calloc(s->cap, sizeof(*s->slots));
    if (!s->slots) {
        *s = old;
        return RD_ENOMEM;
    }
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].idx1)
            *ns_find(p, which, entry_name(p->c, which, old.slots[i].idx1 - 1)) = old.slots[i];
    free(old.slots);
    return 0;
}

void rd__parser_free(rd__parser_t *p)
{
    for (int i = 0; i < 3; i++) {
        free(p->names[i].slots);
        p->names[i].slots = NULL;
        p->names[i].cap = p->names[i].used = 0;
    }
}

static int add_entry(rd__parser_t *p, void **arr, size_t *n, size_t size)
{
    const char *sec = rd__section_name(p->section);
    int r = rd__limit(p, sec, *n);
    if (r) return r;
    if (rd__grow(arr, *n, size)) return rd__fail(p, p->line, sec, RD_ENOMEM, "out of memory");
    memset((char *)*arr + *n * size, 0, size);
    (*n)++;
    return 0;
}

int rd__section_begin(rd__parser_t *p, int section)
{
    rd_conf_t *c = p->c;
    int r = rd__section_end(p);
    if (r) return r;
    p->section = section;
    p->section_line = p->line;
    p->upstream_line = 0;
    rd__seen_reset(p);
    switch (section) {
    case RD__SEC_ZONE:
        r = add_entry(p, (void **)&c->zones, &c->nzones, sizeof(*c->zones));
        if (r == 0) c->zones[c->nzones - 1].line = p->line;
        return r;
    case RD__SEC_FORWARD:
        return add_entry(p, (void **)&c->forwards, &c->nforwards, sizeof(*c->forwards));
    case RD__SEC_STUB: return add_entry(p, (void **)&c->stubs, &c->nstubs, sizeof(*c->stubs));
    default: return 0;
    }
}

/* A tls:// upstream with neither #AUTHNAME nor a pin cannot be authenticated. */
static int check_last_upstream(rd__parser_t *p)
{
    const rd_conf_forward_t *f = &p->c->forwards[p->c->nforwards - 1];
    if (!p->upstream_line || !f->nupstreams) return 0;
    const rd_conf_upstream_t *u = &f->upstreams[f->nupstreams - 1];
    if (u->proto != RD_UP_TLS || u->auth_name || u->npins) return 0;
    char q[80];
    rd__quote(q, sizeof(q), u->uri, strlen(u->uri));
    return rd__fail(p, p->upstream_line, "upstream", RD_ESYNTAX,
                    "%s cannot be authenticated: add #AUTHNAME or a tls-pin: line after it", q);
}

int rd__section_end(rd__parser_t *p)
{
    int s = p->section;
    const char *sec = rd__section_name(s);
    if (s == RD__SEC_NONE || s == RD__SEC_SERVER) return 0;
    if (!rd__seen(p, s, "name"))
        return rd__fail(p, p->section_line, "name", RD_ESYNTAX, "required in a %s: section", sec);
    if (s == RD__SEC_ZONE && !rd__seen(p, s, "file"))
        return rd__fail(p, p->section_line, "file", RD_ESYNTAX, "required in a zone: section");
    if (s == RD__SEC_FORWARD && !p->c->forwards[p->c->nforwards - 1].nupstreams)
        return rd__fail(p, p->section_line, "upstream", RD_ESYNTAX,
                        "at least one is required in a forward: section");
    if (s == RD__SEC_FORWARD) return check_last_upstream(p);
    if (s == RD__SEC_STUB && !p->c->stubs[p->c->nstubs - 1].nservers)
        return rd__fail(p, p->section_line, "server", RD_ESYNTAX,
                        "at least one is required in a stub: section");
    return 0;
}

int rd__set_name(rd__parser_t *p, const char *key, const char *v, size_t vlen)
{
    static const uint8_t root[1] = {0};
    rd_conf_t *c = p->c;
    int which = p->section == RD__SEC_ZONE ? 0 : p->section == RD__SEC_FORWARD ? 1 : 2;
    size_t idx = which == 0 ? c->nzones - 1 : which == 1 ? c->nforwards - 1 : c->nstubs - 1;
    uint8_t name[RD_NAME_MAX];
    size_t len = 0;
    char q[80];
    /* Without a final dot the name is still absolute: the origin is the root. */
    int r = rd_name_from_text(v, vlen, root, name, &len);
    if (r) {
        rd__quote(q, sizeof(q), v, vlen);
        const char *why = r == RD_ELABEL     ? " (a label is longer than 63 octets)"
                          : r == RD_ENAMELEN ? " (longer than 255 octets)"
                                             : "";
        return rd__fail(p, p->line, key, r == RD_ESYNTAX ? RD_ESYNTAX : RD_ERANGE,
                        "expected a domain name, got %s%s", q, why);
    }
    if (ns_grow(p, which)) return rd__fail(p, p->line, key, RD_ENOMEM, "out of memory");
    rd__nameslot_t *slot = ns_find(p, which, name);
    if (slot->idx1) {
        char text[RD_NAME_TEXT_MAX];
        if (rd_name_to_text(name, text, sizeof(text)) < 0) snprintf(text, sizeof(text), "?");
        rd__quote(q, sizeof(q), text, strlen(text));
        return rd__fail(p, p->line, key, RD_ESYNTAX, "%s %s is already defined at line %u",
                        rd__section_name(p->section), q, slot->line);
    }
    memcpy((uint8_t *)entry_name(c, which, idx), name, len);
    slot->idx1 = (uint32_t)(idx + 1);
    slot->line = p->line;
    p->names[which].used++;
    return 0;
}

int rd__set_zone_file(rd__parser_t *p, const char *key, const char *v, size_t vlen)
{
    return rd__path(p, key, v, vlen, &p->c->zones[p->c->nzones - 1].file);
}

int rd__add_upstream(rd__parser_t *p, const char *key, const char *v, size_t vlen)
{
    rd_conf_forward_t *f = &p->c->forwards[p->c->nforwards - 1];
    int r = check_last_upstream(p);
    if (r) return r;
    if ((r = rd__limit(p, key, f->nupstreams))) return r;
    rd_conf_upstream_t u;
    char why[RD_CONF_WHY_MAX];
    r = rd__upstream_parse(v, vlen, &u, why, sizeof(why));
    if (r) return rd__fail(p, p->line, key, r, "%s", why);
    if (rd__grow((void **)&f->upstreams, f->nupstreams, sizeof(*f->upstreams))) {
        rd_conf_upstream_free(&u);
        return rd__fail(p, p->line, key, RD_ENOMEM, "out of memory");
    }
    f->upstreams[f->nupstreams++] = u;
    p->upstream_line = p->line;
    return 0;
}

int rd__add_pin(rd__parser_t *p, const char *key, const char *v, size_t vlen)
{
    rd_conf_forward_t *f = &p->c->forwards[p->c->nforwards - 1];
    char q[80];
    if (!p->upstream_line || !f->nupstreams)
        return rd__fail(p, p->line, key, RD_ESYNTAX,
                        "must follow the upstream: line it pins (none yet in this forward: "
                        "section)");
    rd_conf_upstream_t *u = &f->upstreams[f->nupstreams - 1];
    if (u->proto != RD_UP_TLS && u->proto != RD_UP_HTTPS)
        return rd__fail(p, p->line, key, RD_ESYNTAX,
                        "the upstream on line %u is %s, which has no TLS to pin", p->upstream_line,
                        u->proto == RD_UP_UDP ? "udp://" : "tcp://");
    if (!rd__pin_ok(v, vlen)) {
        rd__quote(q, sizeof(q), v, vlen);
        return rd__fail(p, p->line, key, RD_ESYNTAX,
                        "expected the base64 SHA-256 of a public key (44 characters ending in "
                        "'='), got %s",
                        q);
    }
    int r = rd__limit(p, key, u->npins);
    if (r) return r;
    char *pin = malloc(vlen + 1);
    if (!pin || rd__grow((void **)&u->pins, u->npins, sizeof(*u->pins))) {
        free(pin);
        return rd__fail(p, p->line, key, RD_ENOMEM, "out of memory");
    }
    memcpy(pin, v, vlen);
    pin[vlen] = '\0';
    u->pins[u->npins++] = pin;
    return 0;
}

int rd__set_forward_first(rd__parser_t *p, const char *key, const char *v, size_t vlen)
{
    return rd__bool(p, key, v, vlen, &p->c->forwards[p->c->nforwards - 1].forward_first);
}

int rd__add_stub_server(rd__parser_t *p, const char *key, const char *v, size_t vlen)
{
    rd_conf_stub_t *s = &p->c->stubs[p->c->nstubs - 1];
    rd_addr_t a;
    int r = rd_addr_parse(v, vlen, 53, &a);
    if (r) {
        char q[80];
        rd__quote(q, sizeof(q), v, vlen);
        return rd__fail(p, p->line, key, r,
                        "expected an IPv4 or IPv6 address with an optional @port (default 53), "
                        "got %s",
                        q);
    }
    if ((r = rd__limit(p, key, s->nservers))) return r;
    if (rd__grow((void **)&s->servers, s->nservers, sizeof(*s->servers)))
        return rd__fail(p, p->line, key, RD_ENOMEM, "out of memory");
    s->servers[s->nservers++] = a;
    return 0;
}
