/* badauth: a small, deliberately misbehaving authoritative DNS server for fault tests of the
 * resolver (tests/peers/README.md). It serves zone files (read with rd_zone_parse_file) over
 * UDP and TCP on loopback addresses and answers like a plain authoritative server, except for
 * the queries that match a rule of its scenario (NAME TYPE FAULT [ARG...] [modifiers]): those
 * get dropped, delayed, mangled, truncated, cut, sent from the wrong address... Every query
 * received is logged to stdout as one line so tests can count what the resolver sent.
 * Test code: plain POSIX sockets and poll(2), one thread. It only binds loopback addresses
 * (127/8, ::1, the lab's fd00:1ab::/64) and only ever answers the client that asked, and it
 * always stops by itself (--max-seconds, default 300). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "resolverd/msg.h"
#include "resolverd/rrtype.h"
#include "resolverd/zonefile.h"

#define MAX_LISTEN    16
#define MAX_ZONES     32
#define MAX_CONNS     64
#define MAX_SENDSOCKS 32
#define MAX_RR        1200 /* records per section of one answer */
#define MAX_ARGS      16
#define TCP_IDLE_MS   20000
#define DEFAULT_TTL   3600

/* ---------------------------------------------------------------- zones */

typedef struct {
    uint8_t owner[RD_NAME_MAX];
    uint16_t type, rclass, rdlen;
    uint32_t ttl;
    uint8_t *rdata;
} rec_t;

typedef struct {
    uint8_t apex[RD_NAME_MAX];
    char file[256];
    rec_t *recs;
    size_t n, cap;
} zone_t;

static zone_t zones[MAX_ZONES];
static size_t nzones;

static int zone_add_rr(void *ctx, const rd_zrr_t *rr)
{
    zone_t *z = ctx;
    if (z->n == z->cap) {
        size_t cap = z->cap ? z->cap * 2 : 64;
        rec_t *n = realloc(z->recs, cap * sizeof(*n));
        if (!n) return RD_ENOMEM;
        z->recs = n;
        z->cap = cap;
    }
    rec_t *r = &z->recs[z->n];
    memcpy(r->owner, rr->owner, rd_name_len(rr->owner));
    r->type = rr->type;
    r->rclass = rr->rclass;
    r->ttl = rr->ttl;
    r->rdlen = rr->rdlen;
    r->rdata = malloc(rr->rdlen ? rr->rdlen : 1);
    if (!r->rdata) return RD_ENOMEM;
    memcpy(r->rdata, rr->rdata, rr->rdlen);
    z->n++;
    return 0;
}

static int zone_err(void *ctx, const rd_zone_error_t *e)
{
    (void)ctx;
    fprintf(stderr, "badauth: %s:%u:%u: %s\n", e->file, e->line, e->col, e->msg);
    return 0;
}

/* "ZONE=FILE" */
static int load_zone(const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || nzones == MAX_ZONES) {
        fprintf(stderr, "badauth: -z wants ZONE=FILE (at most %d zones)\n", MAX_ZONES);
        return -1;
    }
    zone_t *z = &zones[nzones];
    if (rd_name_from_text(spec, (size_t)(eq - spec), (const uint8_t *)"", z->apex, NULL)) {
        fprintf(stderr, "badauth: bad zone name in %s\n", spec);
        return -1;
    }
    snprintf(z->file, sizeof(z->file), "%s", eq + 1);
    rd_zone_opts_t o = {.origin = z->apex,
                        .default_ttl = DEFAULT_TTL,
                        .allow_include = true,
                        .on_rr = zone_add_rr,
                        .on_error = zone_err,
                        .ctx = z};
    int r = rd_zone_parse_file(z->file, &o);
    if (r != 0) {
        fprintf(stderr, "badauth: %s: %s\n", z->file,
                r < 0 ? rd_strerror(r) : "errors in the zone file");
        nzones++; /* so its records are freed */
        return -1;
    }
    nzones++;
    return 0;
}

/* The deepest zone holding name, or NULL. */
static const zone_t *find_zone(const uint8_t *name)
{
    const zone_t *best = NULL;
    for (size_t i = 0; i < nzones; i++)
        if (rd_name_in(name, zones[i].apex) &&
            (!best || rd_name_labels(zones[i].apex) > rd_name_labels(best->apex)))
            best = &zones[i];
    return best;
}

static bool has_type(const zone_t *z, const uint8_t *name, uint16_t type)
{
    for (size_t i = 0; i < z->n; i++)
        if (z->recs[i].type == type && rd_name_eq(z->recs[i].owner, name)) return true;
    return false;
}

/* The name owns records, or is an empty non-terminal above some. */
static bool name_exists(const zone_t *z, const uint8_t *name)
{
    for (size_t i = 0; i < z->n; i++)
        if (rd_name_in(z->recs[i].owner, name)) return true;
    return false;
}

static const uint8_t *parent_of(const uint8_t *name)
{
    return name[0] ? name + 1 + name[0] : name;
}

/* The topmost delegation (NS below the apex) at or above name, or NULL. Suffixes of a wire
 * name are wire names: the result points into name. */
static const uint8_t *find_cut(const zone_t *z, const uint8_t *name)
{
    const uint8_t *cut = NULL;
    for (const uint8_t *s = name; s[0] && !rd_name_eq(s, z->apex); s = parent_of(s))
        if (has_type(z, s, RD_TYPE_NS)) cut = s;
    return cut;
}

/* The child of the apex on the way down to name (name itself when it is the apex). */
static const uint8_t *child_of_apex(const uint8_t *name, const uint8_t *apex)
{
    const uint8_t *s = name;
    while (s[0] && !rd_name_eq(parent_of(s), apex)) s = parent_of(s);
    return s[0] ? s : name;
}

/* ---------------------------------------------------------------- scenario */

enum fault {
    FT_OK,
    FT_DROP,
    FT_DELAY,
    FT_WRONG_ID,
    FT_WRONG_QUESTION,
    FT_FROM_OTHER_PORT,
    FT_FROM_OTHER_ADDR,
    FT_OUT_OF_BAILIWICK,
    FT_REFERRAL_LOOP,
    FT_FANOUT,
    FT_CNAME_LOOP,
    FT_MALFORMED,
    FT_MALFORMED_PTR,
    FT_TRUNCATED,
    FT_CUT,
    FT_FORMERR_EDNS,
    FT_CASE_MANGLE,
    FT_SERVFAIL,
    FT_REFUSED,
    FT_NOTIMP,
    FT_LAME,
    FT_TCP_CLOSE,
    FT_BIG,
    FT_COUNT
};

static const char *const fault_names[FT_COUNT] = {"ok",
                                                  "drop",
                                                  "delay",
                                                  "wrong-id",
                                                  "wrong-question",
                                                  "from-other-port",
                                                  "from-other-addr",
                                                  "out-of-bailiwick",
                                                  "referral-loop",
                                                  "fanout",
                                                  "cname-loop",
                                                  "malformed",
                                                  "malformed-ptr",
                                                  "truncated",
                                                  "cut",
                                                  "formerr-edns",
                                                  "case-mangle",
                                                  "servfail",
                                                  "refused",
                                                  "notimp",
                                                  "lame",
                                                  "tcp-close",
                                                  "big"};

enum { PROTO_ANY = 0, PROTO_UDP = 1, PROTO_TCP = 2 };

typedef struct {
    char src[300]; /* where it came from, for messages */
    int match;     /* 0 exact, 1 any name, 2 strictly below name */
    uint8_t name[RD_NAME_MAX];
    bool any_type;
    uint16_t type;
    enum fault fault;
    unsigned nargs;
    char *args[MAX_ARGS];
    long num;      /* delay MS, fanout N, big N */
    long delay_ms; /* delay= modifier (plus delay MS) */
    long count;    /* count= modifier: applies to the first count matches; -1: always */
    int proto;     /* proto= modifier */
    long hits;
    struct sockaddr_storage addr;         /* from-other-addr */
    uint8_t names[MAX_ARGS][RD_NAME_MAX]; /* parsed name arguments */
    unsigned nnames;
} rule_t;

static rule_t *rules;
static size_t nrules, caprules;

static int parse_addr(const char *text, uint16_t defport, struct sockaddr_storage *ss,
                      socklen_t *len);
static bool addr_allowed(const struct sockaddr_storage *ss);

static int name_arg(rule_t *r, const char *text)
{
    if (r->nnames == MAX_ARGS ||
        rd_name_from_text(text, strlen(text), (const uint8_t *)"", r->names[r->nnames], NULL))
        return -1;
    r->nnames++;
    return 0;
}

static int number(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* One rule from a line; 0 ok, 1 blank or comment, -1 error (printed). */
static int parse_rule(char *line, const char *where)
{
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    char *tok[MAX_ARGS + 8];
    unsigned nt = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t;
         t = strtok_r(NULL, " \t\r\n", &save)) {
        if (nt == sizeof(tok) / sizeof(tok[0])) {
            fprintf(stderr, "badauth: %s: too many fields\n", where);
            return -1;
        }
        tok[nt++] = t;
    }
    if (nt == 0) return 1;
    if (nt < 3) {
        fprintf(stderr, "badauth: %s: want NAME TYPE FAULT [ARG...]\n", where);
        return -1;
    }
    if (nrules == caprules) {
        size_t cap = caprules ? caprules * 2 : 16;
        rule_t *n = realloc(rules, cap * sizeof(*n));
        if (!n) return -1;
        rules = n;
        caprules = cap;
    }
    rule_t *r = &rules[nrules];
    memset(r, 0, sizeof(*r));
    snprintf(r->src, sizeof(r->src), "%s", where);
    r->count = -1;
    if (strcmp(tok[0], "*") == 0) {
        r->match = 1;
    } else {
        const char *n = tok[0];
        if (strncmp(n, "*.", 2) == 0) {
            r->match = 2;
            n += 2;
        }
        if (rd_name_from_text(n, strlen(n), (const uint8_t *)"", r->name, NULL)) {
            fprintf(stderr, "badauth: %s: bad name %s\n", where, tok[0]);
            return -1;
        }
    }
    if (strcmp(tok[1], "*") == 0) {
        r->any_type = true;
    } else if (rd_rrtype_from_text(tok[1], strlen(tok[1]), &r->type)) {
        fprintf(stderr, "badauth: %s: bad type %s\n", where, tok[1]);
        return -1;
    }
    int f;
    for (f = 0; f < FT_COUNT; f++)
        if (strcmp(tok[2], fault_names[f]) == 0) break;
    if (f == FT_COUNT) {
        fprintf(stderr, "badauth: %s: unknown fault %s\n", where, tok[2]);
        return -1;
    }
    r->fault = (enum fault)f;
    for (unsigned i = 3; i < nt; i++) {
        long v;
        if (strncmp(tok[i], "count=", 6) == 0) {
            if (number(tok[i] + 6, 0, 1000000000, &v)) goto badarg;
            r->count = v;
        } else if (strncmp(tok[i], "delay=", 6) == 0) {
            if (number(tok[i] + 6, 0, 3600000, &v)) goto badarg;
            r->delay_ms += v;
        } else if (strcmp(tok[i], "proto=udp") == 0) {
            r->proto = PROTO_UDP;
        } else if (strcmp(tok[i], "proto=tcp") == 0) {
            r->proto = PROTO_TCP;
        } else if (r->nargs < MAX_ARGS) {
            r->args[r->nargs++] = tok[i];
        } else {
            goto badarg;
        }
        continue;
    badarg:
        fprintf(stderr, "badauth: %s: bad argument %s\n", where, tok[i]);
        return -1;
    }
    /* Fault arguments. */
    const char *a0 = r->nargs ? r->args[0] : NULL;
    unsigned want_max = 0;
    switch (r->fault) {
    case FT_DELAY:
        if (!a0 || number(a0, 0, 3600000, &r->num)) goto usage;
        r->delay_ms += r->num;
        want_max = 1;
        break;
    case FT_FANOUT:
        if (!a0 || number(a0, 1, 1000, &r->num)) goto usage;
        if (r->nargs > 1 && name_arg(r, r->args[1])) goto usage;
        want_max = 2;
        break;
    case FT_BIG:
        r->num = 100;
        if (a0 && number(a0, 1, MAX_RR - 10, &r->num)) goto usage;
        want_max = 1;
        break;
    case FT_FROM_OTHER_ADDR: {
        socklen_t sl;
        if (!a0 || parse_addr(a0, 0, &r->addr, &sl) || !addr_allowed(&r->addr)) goto usage;
        want_max = 1;
        break;
    }
    case FT_WRONG_QUESTION:
    case FT_CNAME_LOOP:
    case FT_OUT_OF_BAILIWICK:
        if (a0 && name_arg(r, a0)) goto usage;
        want_max = 1;
        break;
    case FT_REFERRAL_LOOP:
        if (a0) {
            char *save = NULL;
            for (char *z = strtok_r(r->args[0], ",", &save); z; z = strtok_r(NULL, ",", &save))
                if (name_arg(r, z)) goto usage;
        }
        want_max = 1;
        break;
    case FT_MALFORMED:
        if (a0 && strcmp(a0, "header") != 0) goto usage;
        want_max = 1;
        break;
    case FT_LAME:
        if (a0 && strcmp(a0, "refused") != 0 && strcmp(a0, "referral") != 0) goto usage;
        want_max = 1;
        break;
    default: break;
    }
    if (r->nargs > want_max) goto usage;
    nrules++;
    return 0;
usage:
    fprintf(stderr, "badauth: %s: bad arguments for %s (see tests/peers/README.md)\n", where,
            fault_names[r->fault]);
    return -1;
}

/* Rule lines keep pointers into their text: the buffers live until exit. */
static char **texts;
static size_t ntexts;

static char *keep_text(const char *s)
{
    char **n = realloc(texts, (ntexts + 1) * sizeof(*n));
    if (!n) return NULL;
    texts = n;
    texts[ntexts] = strdup(s);
    return texts[ntexts] ? texts[ntexts++] : NULL;
}

static int load_scenario(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "badauth: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char buf[2048], where[300];
    unsigned lineno = 0;
    int rc = 0;
    while (fgets(buf, sizeof(buf), f)) {
        lineno++;
        snprintf(where, sizeof(where), "%s:%u", path, lineno);
        char *t = keep_text(buf);
        if (!t || parse_rule(t, where) < 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

static bool rule_matches(rule_t *r, const uint8_t *qname, uint16_t qtype, int proto)
{
    if (r->proto && r->proto != proto) return false;
    if (!r->any_type && r->type != qtype) return false;
    if (r->match == 0 && !rd_name_eq(qname, r->name)) return false;
    if (r->match == 2 && (!rd_name_in(qname, r->name) || rd_name_eq(qname, r->name))) return false;
    if (r->count >= 0 && r->hits >= r->count) return false;
    r->hits++;
    return true;
}

/* ---------------------------------------------------------------- answers */

typedef struct {
    const uint8_t *owner;
    uint16_t type, rclass;
    uint32_t ttl;
    const uint8_t *rdata;
    uint16_t rdlen;
} orr_t;

enum { S_AN = 0, S_NS = 1, S_AR = 2 };

typedef struct {
    uint16_t id, flags;
    bool has_q;
    uint8_t qname[RD_NAME_MAX];
    uint16_t qtype, qclass;
    orr_t sec[3][MAX_RR];
    unsigned n[3];
    bool edns;
    rd_edns_build_t eb;
    size_t limit;
} resp_t;

static resp_t resp;
static rd_arena_t arena;
static uint8_t arena_block[1 << 16];

static void *copy(const void *p, size_t n)
{
    void *d = rd_arena_alloc(&arena, n ? n : 1);
    if (d) memcpy(d, p, n);
    return d;
}

static void add(int s, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                size_t rdlen)
{
    if (!owner || !rdata || resp.n[s] == MAX_RR || rdlen > 0xFFFF) return;
    resp.sec[s][resp.n[s]++] = (orr_t){owner, type, RD_CLASS_IN, ttl, rdata, (uint16_t)rdlen};
}

static void add_rec(int s, const rec_t *r, const uint8_t *owner)
{
    if (resp.n[s] == MAX_RR) return;
    resp.sec[s][resp.n[s]++] =
        (orr_t){owner ? owner : r->owner, r->type, r->rclass, r->ttl, r->rdata, r->rdlen};
}

/* Every record of type (any type for RD_TYPE_ANY) at name; owner replaces the owner name
 * (wildcards). Returns how many. */
static unsigned add_rrset(int s, const zone_t *z, const uint8_t *name, uint16_t type,
                          const uint8_t *owner)
{
    unsigned n = 0;
    for (size_t i = 0; i < z->n; i++) {
        const rec_t *r = &z->recs[i];
        if ((type == RD_TYPE_ANY || r->type == type) && rd_name_eq(r->owner, name)) {
            add_rec(s, r, owner);
            n++;
        }
    }
    return n;
}

/* Name built from a label (text, no dots) and a wire name; NULL when too long. */
static const uint8_t *prepend(const char *label, const uint8_t *name)
{
    size_t ll = strlen(label), nl = rd_name_len(name);
    if (ll == 0 || ll > RD_LABEL_MAX || 1 + ll + nl > RD_NAME_MAX) return NULL;
    uint8_t *out = rd_arena_alloc(&arena, 1 + ll + nl);
    if (!out) return NULL;
    out[0] = (uint8_t)ll;
    memcpy(out + 1, label, ll);
    memcpy(out + 1 + ll, name, nl);
    return out;
}

static void add_soa(const zone_t *z)
{
    add_rrset(S_NS, z, z->apex, RD_TYPE_SOA, NULL);
}

/* Referral for cut from zone z: its NS records, and address records of the NS targets that
 * the zone holds as glue. */
static void add_referral(const zone_t *z, const uint8_t *cut)
{
    resp.flags &= (uint16_t)~RD_F_AA;
    for (size_t i = 0; i < z->n; i++) {
        const rec_t *r = &z->recs[i];
        if (r->type != RD_TYPE_NS || !rd_name_eq(r->owner, cut)) continue;
        add_rec(S_NS, r, NULL);
        add_rrset(S_AR, z, r->rdata, RD_TYPE_A, NULL);
        add_rrset(S_AR, z, r->rdata, RD_TYPE_AAAA, NULL);
    }
}

/* A plain authoritative answer for qname/qtype: data, CNAME chains inside the zone,
 * wildcards, referrals at zone cuts, NXDOMAIN and NODATA with the SOA, REFUSED outside our
 * zones. */
static void answer_normal(const uint8_t *qname, uint16_t qtype)
{
    const zone_t *z = find_zone(qname);
    if (!z) {
        resp.flags = (uint16_t)((resp.flags & ~(RD_F_AA | 0xF)) | RD_RCODE_REFUSED);
        return;
    }
    resp.flags |= RD_F_AA;
    const uint8_t *cur = qname;
    for (int hop = 0; hop < 16; hop++) {
        const uint8_t *cut = find_cut(z, cur);
        if (cut && !(qtype == RD_TYPE_DS && rd_name_eq(cut, cur))) {
            if (resp.n[S_AN] == 0) add_referral(z, cut);
            return;
        }
        const uint8_t *src = cur;
        if (!name_exists(z, cur)) {
            /* closest encloser, then its wildcard (RFC 4592) */
            const uint8_t *ce = parent_of(cur);
            while (!rd_name_eq(ce, z->apex) && !name_exists(z, ce)) ce = parent_of(ce);
            const uint8_t *wc = prepend("*", ce);
            if (!wc || !name_exists(z, wc)) {
                resp.flags = (uint16_t)((resp.flags & ~0xF) | RD_RCODE_NXDOMAIN);
                add_soa(z);
                return;
            }
            src = wc;
        }
        if (add_rrset(S_AN, z, src, qtype, cur == src ? NULL : cur)) return;
        const rec_t *cname = NULL;
        for (size_t i = 0; i < z->n && qtype != RD_TYPE_CNAME; i++)
            if (z->recs[i].type == RD_TYPE_CNAME && rd_name_eq(z->recs[i].owner, src))
                cname = &z->recs[i];
        if (!cname) {
            if (resp.n[S_AN] == 0) add_soa(z);
            return;
        }
        add_rec(S_AN, cname, cur == src ? NULL : cur);
        if (find_zone(cname->rdata) != z) return;
        cur = cname->rdata;
    }
}

/* The response as a message. */
static size_t serialize(uint8_t *out, size_t cap)
{
    rd_mb_t b;
    rd_mb_init(&b, out, cap, resp.limit, resp.id, resp.flags);
    if (resp.edns) rd_mb_reserve(&b, rd_edns_size(&resp.eb));
    if (resp.has_q) rd_mb_question(&b, resp.qname, resp.qtype, resp.qclass);
    static const int secs[3] = {RD_SEC_AN, RD_SEC_NS, RD_SEC_AR};
    for (int s = 0; s < 3; s++)
        for (unsigned i = 0; i < resp.n[s]; i++) {
            const orr_t *r = &resp.sec[s][i];
            int e = rd_mb_rr(&b, secs[s], r->owner, r->type, r->rclass, r->ttl, r->rdata, r->rdlen);
            if (e == RD_ESPACE) goto done;
        }
done:
    if (resp.edns) rd_mb_opt(&b, &resp.eb);
    return rd_mb_finish(&b);
}

/* ---------------------------------------------------------------- sockets */

typedef struct {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char text[80];
    int udp, tcp;
    int other; /* UDP socket on the same address, another port (from-other-port) */
} listener_t;

static listener_t listeners[MAX_LISTEN];
static size_t nlisteners;

typedef struct {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int fd;
} sendsock_t;

static sendsock_t sendsocks[MAX_SENDSOCKS];
static size_t nsendsocks;

typedef struct {
    int fd; /* -1: free */
    uint32_t gen;
    int listener;
    struct sockaddr_storage peer;
    socklen_t peerlen;
    uint8_t in[2 + RD_MSG_MAX];
    size_t inlen;
    uint8_t *out;
    size_t outlen, outoff, outcap;
    bool close_after_write;
    int64_t last;
} conn_t;

static conn_t conns[MAX_CONNS];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char a[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
        port = ntohs(s4->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
        port = ntohs(s6->sin6_port);
    }
    snprintf(out, cap, "%s#%u", a, port);
}

static uint16_t addr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family) return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && x->sin6_port == y->sin6_port;
}

/* ADDR, ADDR#PORT, IPv4:PORT or [IPv6]:PORT. */
static int parse_addr(const char *text, uint16_t defport, struct sockaddr_storage *ss,
                      socklen_t *len)
{
    char host[INET6_ADDRSTRLEN + 8];
    const char *port = NULL;
    snprintf(host, sizeof(host), "%s", text);
    char *h = host;
    char *p = strchr(h, '#');
    if (p) {
        *p = 0;
        port = p + 1;
    } else if (h[0] == '[') {
        h++;
        p = strchr(h, ']');
        if (!p) return -1;
        *p = 0;
        if (p[1] == ':')
            port = p + 2;
        else if (p[1])
            return -1;
    } else if ((p = strchr(h, ':')) && !strchr(p + 1, ':')) {
        *p = 0;
        port = p + 1;
    }
    long pv = defport;
    if (port && number(port, 0, 65535, &pv)) return -1;
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, h, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)pv);
        *len = sizeof(*s4);
    } else if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)pv);
        *len = sizeof(*s6);
    } else {
        return -1;
    }
    return 0;
}

/* Only loopback (and the lab's private IPv6 prefix, which exists only in its namespace). */
static bool addr_allowed(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family != AF_INET6) return false;
    const uint8_t *a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
    static const uint8_t lo[16] = {[15] = 1};
    static const uint8_t lab[8] = {0xfd, 0x00, 0x01, 0xab, 0, 0, 0, 0};
    return memcmp(a, lo, 16) == 0 || memcmp(a, lab, 8) == 0;
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static int bind_socket(const struct sockaddr_storage *ss, int type)
{
    int fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    if (type == SOCK_STREAM) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss->ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)ss, addr_len(ss)) != 0 ||
        (type == SOCK_STREAM && listen(fd, 64) != 0)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int add_listener(const char *spec, uint16_t defport)
{
    if (nlisteners == MAX_LISTEN) return -1;
    listener_t *l = &listeners[nlisteners];
    if (parse_addr(spec, defport, &l->addr, &l->addrlen)) {
        fprintf(stderr, "badauth: bad address %s\n", spec);
        return -1;
    }
    if (!addr_allowed(&l->addr)) {
        fprintf(stderr, "badauth: %s: only 127.0.0.0/8, ::1 and fd00:1ab::/64 allowed\n", spec);
        return -1;
    }
    addr_text(&l->addr, l->text, sizeof(l->text));
    l->udp = bind_socket(&l->addr, SOCK_DGRAM);
    l->tcp = l->udp < 0 ? -1 : bind_socket(&l->addr, SOCK_STREAM);
    struct sockaddr_storage other = l->addr;
    set_port(&other, 0);
    l->other = l->tcp < 0 ? -1 : bind_socket(&other, SOCK_DGRAM);
    if (l->udp < 0 || l->tcp < 0 || l->other < 0) {
        fprintf(stderr, "badauth: bind %s: %s\n", l->text, strerror(errno));
        if (l->udp >= 0) close(l->udp);
        if (l->tcp >= 0) close(l->tcp);
        return -1;
    }
    nlisteners++;
    return 0;
}

/* A UDP socket sending from addr (port included), bound on first use; reuses our listeners. */
static int send_socket(const struct sockaddr_storage *addr)
{
    for (size_t i = 0; i < nlisteners; i++)
        if (same_addr(&listeners[i].addr, addr)) return listeners[i].udp;
    for (size_t i = 0; i < nsendsocks; i++)
        if (same_addr(&sendsocks[i].addr, addr)) return sendsocks[i].fd;
    if (nsendsocks == MAX_SENDSOCKS) return -1;
    int fd = bind_socket(addr, SOCK_DGRAM);
    if (fd < 0) {
        /* the address and port are taken (another server): same address, any port */
        struct sockaddr_storage any = *addr;
        set_port(&any, 0);
        fd = bind_socket(&any, SOCK_DGRAM);
    }
    if (fd < 0) return -1;
    sendsocks[nsendsocks].addr = *addr;
    sendsocks[nsendsocks++].fd = fd;
    return fd;
}

/* ---------------------------------------------------------------- actions */

enum { ACT_UDP, ACT_TCP, ACT_CLOSE };

typedef struct {
    int64_t due;
    int kind;
    int fd; /* UDP: socket to send from */
    struct sockaddr_storage to;
    int conn;
    uint32_t gen;
    uint8_t *data;
    size_t len;
} action_t;

static action_t *pending;
static size_t npending, cappending;

static void conn_close(int c)
{
    if (conns[c].fd < 0) return;
    close(conns[c].fd);
    conns[c].fd = -1;
    conns[c].gen++;
    free(conns[c].out);
    conns[c].out = NULL;
    conns[c].outlen = conns[c].outoff = conns[c].outcap = 0;
}

static void conn_flush(int c)
{
    conn_t *k = &conns[c];
    while (k->outoff < k->outlen) {
        ssize_t w = send(k->fd, k->out + k->outoff, k->outlen - k->outoff, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (w <= 0) {
            conn_close(c);
            return;
        }
        k->outoff += (size_t)w;
        k->last = now_ms();
    }
    k->outoff = k->outlen = 0;
    if (k->close_after_write) conn_close(c);
}

static void run_action(action_t *a)
{
    if (a->kind == ACT_UDP) {
        if (sendto(a->fd, a->data, a->len, 0, (struct sockaddr *)&a->to, addr_len(&a->to)) < 0)
            perror("badauth: sendto");
        return;
    }
    conn_t *k = &conns[a->conn];
    if (k->fd < 0 || k->gen != a->gen) return; /* the client went away */
    if (a->kind == ACT_CLOSE) {
        k->close_after_write = true;
        conn_flush(a->conn);
        if (k->fd >= 0 && k->outlen == 0) conn_close(a->conn);
        return;
    }
    size_t need = k->outlen + 2 + a->len;
    if (need > k->outcap) {
        uint8_t *n = realloc(k->out, need);
        if (!n) return;
        k->out = n;
        k->outcap = need;
    }
    k->out[k->outlen] = (uint8_t)(a->len >> 8);
    k->out[k->outlen + 1] = (uint8_t)a->len;
    memcpy(k->out + k->outlen + 2, a->data, a->len);
    k->outlen = need;
    conn_flush(a->conn);
}

static void schedule(action_t *a, long delay_ms)
{
    if (delay_ms <= 0) {
        run_action(a);
        return;
    }
    if (npending == cappending) {
        size_t cap = cappending ? cappending * 2 : 16;
        action_t *n = realloc(pending, cap * sizeof(*n));
        if (!n) return;
        pending = n;
        cappending = cap;
    }
    uint8_t *d = malloc(a->len ? a->len : 1);
    if (!d) return;
    memcpy(d, a->data, a->len);
    a->data = d;
    a->due = now_ms() + delay_ms;
    pending[npending++] = *a;
}

static void run_due(int64_t now)
{
    for (size_t i = 0; i < npending;) {
        if (pending[i].due > now) {
            i++;
            continue;
        }
        action_t a = pending[i];
        memmove(&pending[i], &pending[i + 1], (npending - i - 1) * sizeof(*pending));
        npending--;
        run_action(&a);
        free(a.data);
    }
}

/* ---------------------------------------------------------------- queries */

typedef struct {
    int proto;
    int listener;
    struct sockaddr_storage peer;
    int conn;
    uint32_t gen;
} qsrc_t;

static long nqueries;
static uint8_t outbuf[RD_MSG_MAX + 1024];

static void flags_text(uint16_t f, bool edns_do, char *out, size_t cap)
{
    static const struct {
        uint16_t bit;
        const char *name;
    } bits[] = {{RD_F_QR, "qr"}, {RD_F_AA, "aa"}, {RD_F_TC, "tc"}, {RD_F_RD, "rd"},
                {RD_F_RA, "ra"}, {RD_F_Z, "z"},   {RD_F_AD, "ad"}, {RD_F_CD, "cd"}};
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        if (f & bits[i].bit)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "", bits[i].name);
    if (edns_do && n < cap) n += (size_t)snprintf(out + n, cap - n, "%sdo", n ? "," : "");
    if (RD_OPCODE(f) && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "%sopcode=%d", n ? "," : "", RD_OPCODE(f));
    if (n == 0) snprintf(out, cap, "-");
}

/* One line per query received: CLIENT QNAME QTYPE FLAGS edns=yes|no, then proto=, to=, id=,
 * with EDNS the advertised UDP size (udpsize=, so tests can check what a resolver asks for,
 * RFC 6891 s6.2.3), and the fault applied. */
static void log_query(const qsrc_t *src, const rd_msg_t *m, const uint8_t *qname, uint16_t qtype,
                      const char *fault)
{
    char client[80], name[RD_NAME_TEXT_MAX] = "-", type[32] = "-", flags[80] = "-", size[24] = "";
    addr_text(&src->peer, client, sizeof(client));
    if (m && m->edns.present) snprintf(size, sizeof(size), " udpsize=%u", m->edns.udp_size);
    if (qname) rd_name_to_text(qname, name, sizeof(name));
    if (qname) rd_rrtype_to_text(qtype, type, sizeof(type));
    if (m)
        flags_text(m->flags, m->edns.present && (m->edns.flags & RD_EDNS_DO), flags, sizeof(flags));
    printf("%s %s %s %s edns=%s proto=%s to=%s id=%u%s fault=%s\n", client, name, type, flags,
           m && m->edns.present ? "yes" : "no", src->proto == PROTO_TCP ? "tcp" : "udp",
           listeners[src->listener].text, m ? m->id : 0, size, fault);
}

static void set_rcode(int rcode)
{
    resp.flags = (uint16_t)((resp.flags & ~0xF) | rcode);
}

static void toggle_case(uint8_t *name)
{
    for (size_t p = 0; name[p]; p += 1 + (size_t)name[p])
        for (size_t i = 1; i <= name[p]; i++) {
            uint8_t c = name[p + i];
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) name[p + i] = c ^ 0x20;
        }
}

/* Where to end the message for "cut": in the middle of the first record's rdata. */
static size_t cut_point(const uint8_t *msg, size_t len)
{
    rd_msg_t m;
    size_t fallback = len > RD_HDR_LEN + 1 ? RD_HDR_LEN + (len - RD_HDR_LEN) / 2 : len;
    if (rd_msg_parse(&m, msg, len, &arena)) return fallback;
    for (int s = RD_SEC_AN; s <= RD_SEC_AR; s++) {
        if (m.count[s] == 0) continue;
        const rd_rr_t *rr = rd_msg_rr(&m, s, 0);
        return rr->rdlen >= 2 ? (size_t)rr->rdata + rr->rdlen / 2 : (size_t)rr->rdata - 1;
    }
    return fallback;
}

static size_t put16(uint8_t *p, size_t at, uint16_t v)
{
    p[at] = (uint8_t)(v >> 8);
    p[at + 1] = (uint8_t)v;
    return at + 2;
}

/* malformed / malformed-ptr: a valid header (and question), then something no parser may
 * accept. */
static size_t build_malformed(enum fault f, bool header_only, uint16_t id, uint16_t qflags,
                              const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
    size_t p = 0;
    p = put16(outbuf, p, id);
    p = put16(outbuf, p, (uint16_t)(RD_F_QR | RD_F_AA | (qflags & RD_F_RD)));
    p = put16(outbuf, p, 1); /* one question */
    p = put16(outbuf, p, 1); /* one answer */
    p = put16(outbuf, p, 0);
    p = put16(outbuf, p, 0);
    if (!header_only) {
        size_t nl = rd_name_len(qname);
        memcpy(outbuf + p, qname, nl);
        p += nl;
        p = put16(outbuf, p, qtype);
        p = put16(outbuf, p, qclass);
    }
    if (f == FT_MALFORMED_PTR) {
        /* the answer's owner is a compression pointer to itself */
        p = put16(outbuf, p, (uint16_t)(0xC000 | p));
        p = put16(outbuf, p, RD_TYPE_A);
        p = put16(outbuf, p, RD_CLASS_IN);
        p = put16(outbuf, p, 0);
        p = put16(outbuf, p, 300);
        p = put16(outbuf, p, 4);
        static const uint8_t a[4] = {192, 0, 2, 1};
        memcpy(outbuf + p, a, 4);
        return p + 4;
    }
    /* label type 0x40 (reserved), then noise */
    outbuf[p++] = 0x7F;
    uint32_t x = 0x9E3779B9u ^ id;
    for (int i = 0; i < 63; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        outbuf[p++] = (uint8_t)x;
    }
    return p;
}

static void fault_referral_loop(const rule_t *r, const listener_t *l)
{
    const uint8_t *q = resp.qname, *target;
    const zone_t *z = find_zone(q);
    if (r->nnames == 0) {
        target = z ? parent_of(z->apex) : parent_of(q);
    } else {
        int best = -1;
        for (unsigned i = 0; i < r->nnames; i++)
            if (rd_name_in(q, r->names[i]) &&
                (best < 0 || rd_name_labels(r->names[i]) > rd_name_labels(r->names[best])))
                best = (int)i;
        target = r->names[best < 0 ? 0 : ((unsigned)best + 1) % r->nnames];
    }
    const uint8_t *ns = prepend("ns1", target);
    if (!ns) {
        set_rcode(RD_RCODE_SERVFAIL);
        return;
    }
    add(S_NS, target, RD_TYPE_NS, 3600, ns, rd_name_len(ns));
    /* glue: the address this query came to, so the resolver comes back here */
    if (l->addr.ss_family == AF_INET)
        add(S_AR, ns, RD_TYPE_A, 3600,
            (const uint8_t *)&((const struct sockaddr_in *)&l->addr)->sin_addr, 4);
    else
        add(S_AR, ns, RD_TYPE_AAAA, 3600,
            ((const struct sockaddr_in6 *)&l->addr)->sin6_addr.s6_addr, 16);
}

static void fault_fanout(const rule_t *r)
{
    const uint8_t *q = resp.qname;
    const zone_t *z = find_zone(q);
    const uint8_t *cut = z ? child_of_apex(q, z->apex) : q;
    const uint8_t *dom = r->nnames ? r->names[0] : prepend("fanout", z ? z->apex : q);
    for (long i = 1; dom && i <= r->num; i++) {
        char label[24];
        snprintf(label, sizeof(label), "ns%ld", i);
        const uint8_t *ns = prepend(label, dom);
        if (ns) add(S_NS, cut, RD_TYPE_NS, 3600, ns, rd_name_len(ns));
    }
}

static void fault_cname_loop(const rule_t *r)
{
    const uint8_t *q = resp.qname, *other;
    if (r->nnames)
        other = r->names[0];
    else if (q[0] == 4 && strncasecmp((const char *)q + 1, "loop", 4) == 0)
        other = parent_of(q);
    else
        other = prepend("loop", q);
    if (!other) return;
    resp.flags |= RD_F_AA;
    add(S_AN, q, RD_TYPE_CNAME, 300, other, rd_name_len(other));
    add(S_AN, other, RD_TYPE_CNAME, 300, q, rd_name_len(q));
}

static void fault_big(const rule_t *r)
{
    resp.flags |= RD_F_AA;
    for (long i = 0; i < r->num; i++) {
        uint8_t rd[128];
        size_t len;
        uint16_t type = resp.qtype;
        if (type == RD_TYPE_A) {
            rd[0] = 198, rd[1] = 18, rd[2] = (uint8_t)(i >> 8), rd[3] = (uint8_t)i;
            len = 4;
        } else if (type == RD_TYPE_AAAA) {
            static const uint8_t p[14] = {0x20, 0x01, 0x0d, 0xb8};
            memcpy(rd, p, 14);
            rd[14] = (uint8_t)(i >> 8), rd[15] = (uint8_t)i;
            len = 16;
        } else {
            type = RD_TYPE_TXT;
            int n = snprintf((char *)rd + 1, sizeof(rd) - 1,
                             "big record %04ld padding padding padding padding padding padding "
                             "padding padding",
                             i);
            rd[0] = (uint8_t)n;
            len = 1 + (size_t)n;
        }
        add(S_AN, resp.qname, type, 300, copy(rd, len), len);
    }
}

static void fault_out_of_bailiwick(const rule_t *r)
{
    static const uint8_t victim[] = "\3www\6victim\7example";
    static const uint8_t victim_ns[] = "\2ns\6victim\7example";
    static const uint8_t a1[4] = {192, 0, 2, 66}, a2[4] = {192, 0, 2, 67};
    const uint8_t *v = r->nnames ? r->names[0] : victim;
    add(S_NS, (const uint8_t *)"", RD_TYPE_NS, 86400, victim_ns, sizeof(victim_ns));
    add(S_AR, v, RD_TYPE_A, 86400, a1, 4);
    add(S_AR, victim_ns, RD_TYPE_A, 86400, a2, 4);
}

static void handle_query(const qsrc_t *src, const uint8_t *wire, size_t len)
{
    nqueries++;
    rd_arena_reset(&arena);
    const listener_t *l = &listeners[src->listener];
    action_t a = {.kind = src->proto == PROTO_TCP ? ACT_TCP : ACT_UDP,
                  .fd = l->udp,
                  .to = src->peer,
                  .conn = src->conn,
                  .gen = src->gen};
    rd_msg_t m;
    int pr = rd_msg_parse(&m, wire, len, NULL);
    memset(resp.n, 0, sizeof(resp.n));
    resp.edns = false;
    resp.has_q = false;
    resp.limit = src->proto == PROTO_TCP ? RD_MSG_MAX : 512;
    if (pr || m.count[RD_SEC_QD] != 1 || (m.flags & RD_F_QR)) {
        log_query(src, NULL, NULL, 0, pr ? "bad-query" : "not-a-query");
        if (len < RD_HDR_LEN || (wire[2] & 0x80)) return; /* nothing to answer, or a response */
        resp.id = (uint16_t)(wire[0] << 8 | wire[1]);
        resp.flags = (uint16_t)(RD_F_QR | (wire[2] << 8 & 0x7800) | RD_RCODE_FORMERR);
        a.data = outbuf;
        a.len = serialize(outbuf, sizeof(outbuf));
        schedule(&a, 0);
        return;
    }
    const rd_rr_t *qr = rd_msg_rr(&m, RD_SEC_QD, 0);
    size_t pos = qr->owner;
    uint8_t qname[RD_NAME_MAX];
    rd_name_unpack(m.wire, m.len, &pos, qname, NULL);
    rule_t *rule = NULL;
    for (size_t i = 0; i < nrules && !rule; i++)
        if (rule_matches(&rules[i], qname, qr->type, src->proto)) rule = &rules[i];
    enum fault f = rule ? rule->fault : FT_OK;
    log_query(src, &m, qname, qr->type, fault_names[f]);

    resp.id = m.id;
    resp.flags = (uint16_t)(RD_F_QR | (m.flags & (RD_F_RD | RD_F_CD | 0x7800)));
    resp.has_q = true;
    memcpy(resp.qname, qname, rd_name_len(qname));
    resp.qtype = qr->type;
    resp.qclass = qr->rclass;
    resp.edns = m.edns.present;
    resp.eb = (rd_edns_build_t){1232, 0, 0, (uint16_t)(m.edns.flags & RD_EDNS_DO), NULL, 0};
    if (resp.edns && src->proto == PROTO_UDP)
        resp.limit = m.edns.udp_size > 512 ? m.edns.udp_size : 512;
    long delay = rule ? rule->delay_ms : 0;
    bool udp = src->proto == PROTO_UDP;
    const uint8_t *other;

    switch (f) {
    case FT_DROP: return;
    case FT_MALFORMED:
    case FT_MALFORMED_PTR:
        a.data = outbuf;
        a.len = build_malformed(f, rule->nargs > 0, m.id, m.flags, qname, qr->type, qr->rclass);
        schedule(&a, delay);
        return;
    case FT_TCP_CLOSE:
        if (!udp) {
            a.kind = ACT_CLOSE;
            schedule(&a, delay);
            return;
        }
        resp.flags |= RD_F_AA | RD_F_TC; /* over UDP: truncated, so the client comes by TCP */
        break;
    case FT_TRUNCATED:
        if (udp)
            resp.flags |= RD_F_AA | RD_F_TC;
        else
            answer_normal(resp.qname, resp.qtype);
        break;
    case FT_FORMERR_EDNS:
        if (resp.edns) {
            set_rcode(RD_RCODE_FORMERR);
            resp.edns = false;
        } else {
            answer_normal(resp.qname, resp.qtype);
        }
        break;
    case FT_SERVFAIL: set_rcode(RD_RCODE_SERVFAIL); break;
    case FT_REFUSED: set_rcode(RD_RCODE_REFUSED); break;
    case FT_NOTIMP: set_rcode(RD_RCODE_NOTIMP); break;
    case FT_LAME: {
        const zone_t *z = find_zone(resp.qname);
        if (!z || (rule->nargs && strcmp(rule->args[0], "refused") == 0))
            set_rcode(RD_RCODE_REFUSED);
        else
            add_referral(z, z->apex); /* not authoritative: "ask the zone's servers", i.e. us */
        break;
    }
    case FT_WRONG_QUESTION:
        other = rule->nnames ? rule->names[0] : prepend("wrong", qname);
        if (other) memcpy(resp.qname, other, rd_name_len(other));
        answer_normal(resp.qname, resp.qtype);
        break;
    case FT_REFERRAL_LOOP: fault_referral_loop(rule, l); break;
    case FT_FANOUT: fault_fanout(rule); break;
    case FT_CNAME_LOOP: fault_cname_loop(rule); break;
    case FT_BIG: fault_big(rule); break;
    case FT_OUT_OF_BAILIWICK:
        answer_normal(resp.qname, resp.qtype);
        fault_out_of_bailiwick(rule);
        break;
    default:
        if (RD_OPCODE(m.flags) != RD_OPCODE_QUERY) {
            set_rcode(RD_RCODE_NOTIMP);
        } else if (resp.edns && m.edns.version > 0) {
            resp.eb.ext_rcode = RD_RCODE_BADVERS >> 4; /* RFC 6891 s6.1.3 */
        } else {
            answer_normal(resp.qname, resp.qtype);
        }
        break;
    }
    if (f == FT_CASE_MANGLE) toggle_case(resp.qname);
    if (f == FT_WRONG_ID) resp.id++;
    a.data = outbuf;
    a.len = serialize(outbuf, sizeof(outbuf));
    if (f == FT_CUT) a.len = cut_point(outbuf, a.len);
    if (udp && f == FT_FROM_OTHER_PORT) a.fd = l->other;
    if (udp && f == FT_FROM_OTHER_ADDR) {
        struct sockaddr_storage from = rule->addr;
        if (from.ss_family != l->addr.ss_family) {
            fprintf(stderr, "badauth: from-other-addr: address family differs, dropped\n");
            return;
        }
        if (addr_port(&from) == 0) set_port(&from, addr_port(&l->addr));
        a.fd = send_socket(&from);
        if (a.fd < 0) {
            fprintf(stderr, "badauth: from-other-addr: cannot bind: %s\n", strerror(errno));
            return;
        }
    }
    schedule(&a, delay);
}

/* ---------------------------------------------------------------- main loop */

static void read_udp(int li, bool *accepting, long max_queries)
{
    static uint8_t in[RD_MSG_MAX];
    for (int i = 0; i < 64 && *accepting; i++) {
        qsrc_t src = {.proto = PROTO_UDP, .listener = li, .conn = -1};
        socklen_t sl = sizeof(src.peer);
        ssize_t got =
            recvfrom(listeners[li].udp, in, sizeof(in), 0, (struct sockaddr *)&src.peer, &sl);
        if (got < 0) return;
        handle_query(&src, in, (size_t)got);
        if (max_queries > 0 && nqueries >= max_queries) *accepting = false;
    }
}

static void accept_tcp(int li)
{
    struct sockaddr_storage peer;
    socklen_t sl = sizeof(peer);
    int fd =
        accept4(listeners[li].tcp, (struct sockaddr *)&peer, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    for (int c = 0; c < MAX_CONNS; c++) {
        if (conns[c].fd >= 0) continue;
        conn_t *k = &conns[c];
        k->fd = fd;
        k->listener = li;
        k->peer = peer;
        k->peerlen = sl;
        k->inlen = 0;
        k->close_after_write = false;
        k->last = now_ms();
        return;
    }
    close(fd); /* full */
}

static void read_tcp(int c, bool *accepting, long max_queries)
{
    conn_t *k = &conns[c];
    ssize_t got = recv(k->fd, k->in + k->inlen, sizeof(k->in) - k->inlen, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (got <= 0) {
        conn_close(c);
        return;
    }
    k->inlen += (size_t)got;
    k->last = now_ms();
    while (k->fd >= 0 && k->inlen >= 2 && *accepting) {
        size_t ml = (size_t)k->in[0] << 8 | k->in[1];
        if (k->inlen < 2 + ml) break;
        qsrc_t src = {
            .proto = PROTO_TCP, .listener = k->listener, .peer = k->peer, .conn = c, .gen = k->gen};
        handle_query(&src, k->in + 2, ml);
        if (max_queries > 0 && nqueries >= max_queries) *accepting = false;
        if (k->fd < 0) break; /* closed by the fault */
        memmove(k->in, k->in + 2 + ml, k->inlen - 2 - ml);
        k->inlen -= 2 + ml;
    }
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: badauth -l ADDR[#PORT] [-l ...] [-z ZONE=FILE ...] [-s SCENARIO] [-r RULE]\n"
               "               [-p PORT] [--max-queries N] [--max-seconds S]\n"
               "  -l, --listen ADDR    UDP and TCP on ADDR (127/8, ::1, fd00:1ab::/64);\n"
               "                       ADDR#PORT, 127.0.0.1:PORT or [::1]:PORT for another port\n"
               "  -p, --port PORT      default port (53)\n"
               "  -z, --zone Z=FILE    serve zone Z from FILE (repeatable)\n"
               "  -s, --scenario FILE  fault rules, one per line: NAME TYPE FAULT [ARG...]\n"
               "  -r, --rule RULE      one rule (repeatable; rules apply in the order given)\n"
               "  -n, --max-queries N  exit after N queries (once their answers are sent)\n"
               "  -t, --max-seconds S  exit after S seconds (default 300)\n"
               "Faults and modifiers: tests/peers/README.md. Query log on stdout.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"zone", required_argument, NULL, 'z'},
                                         {"scenario", required_argument, NULL, 's'},
                                         {"rule", required_argument, NULL, 'r'},
                                         {"max-queries", required_argument, NULL, 'n'},
                                         {"max-seconds", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *listen_specs[MAX_LISTEN];
    size_t nspecs = 0;
    long port = 53, max_queries = 0, max_seconds = 300;
    int rc = 1, opt;
    for (int c = 0; c < MAX_CONNS; c++) conns[c].fd = -1;
    rd_arena_init(&arena, arena_block, sizeof(arena_block), 0);
    while ((opt = getopt_long(argc, argv, "l:p:z:s:r:n:t:h", opts, NULL)) != -1) {
        char where[64];
        switch (opt) {
        case 'l':
            if (nspecs == MAX_LISTEN) goto out;
            listen_specs[nspecs++] = optarg;
            break;
        case 'p':
            if (number(optarg, 1, 65535, &port)) goto bad_usage;
            break;
        case 'z':
            if (load_zone(optarg)) goto out;
            break;
        case 's':
            if (load_scenario(optarg)) goto out;
            break;
        case 'r': {
            char *t = keep_text(optarg);
            snprintf(where, sizeof(where), "rule %zu", nrules + 1);
            if (!t || parse_rule(t, where) != 0) goto out;
            break;
        }
        case 'n':
            if (number(optarg, 1, 1L << 40, &max_queries)) goto bad_usage;
            break;
        case 't':
            if (number(optarg, 1, 86400, &max_seconds)) goto bad_usage;
            break;
        case 'h': usage(stdout); return 0;
        default: goto bad_usage;
        }
    }
    if (optind != argc || nspecs == 0) goto bad_usage;
    for (size_t i = 0; i < nspecs; i++)
        if (add_listener(listen_specs[i], (uint16_t)port)) goto out;

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < nzones; i++) {
        char name[RD_NAME_TEXT_MAX];
        rd_name_to_text(zones[i].apex, name, sizeof(name));
        fprintf(stderr, "badauth: zone %s: %zu records from %s\n", name, zones[i].n, zones[i].file);
    }
    for (size_t i = 0; i < nlisteners; i++)
        fprintf(stderr, "badauth: listening on %s (udp, tcp)\n", listeners[i].text);
    fprintf(stderr, "badauth: %zu rules; ready\n", nrules);

    int64_t end = now_ms() + max_seconds * 1000;
    bool accepting = true;
    const char *why = "max-seconds";
    for (;;) {
        int64_t now = now_ms();
        run_due(now);
        if (got_signal) {
            why = "signal";
            break;
        }
        if (now >= end) break;
        bool writing = false;
        int64_t wake = end;
        for (int c = 0; c < MAX_CONNS; c++) {
            if (conns[c].fd < 0) continue;
            if (now - conns[c].last > TCP_IDLE_MS) {
                conn_close(c);
                continue;
            }
            if (conns[c].outlen > conns[c].outoff) writing = true;
            if (conns[c].last + TCP_IDLE_MS < wake) wake = conns[c].last + TCP_IDLE_MS + 1;
        }
        if (!accepting && npending == 0 && !writing) {
            why = "max-queries";
            break;
        }
        for (size_t i = 0; i < npending; i++)
            if (pending[i].due < wake) wake = pending[i].due;

        struct pollfd pfd[MAX_LISTEN * 2 + MAX_CONNS];
        int what[MAX_LISTEN * 2 + MAX_CONNS]; /* listener*2 (+1 for TCP), or -1-conn */
        nfds_t n = 0;
        bool conn_free = false;
        for (int c = 0; c < MAX_CONNS; c++) conn_free |= conns[c].fd < 0;
        for (size_t i = 0; i < nlisteners && accepting; i++) {
            pfd[n] = (struct pollfd){.fd = listeners[i].udp, .events = POLLIN};
            what[n++] = (int)i * 2;
            if (!conn_free) continue;
            pfd[n] = (struct pollfd){.fd = listeners[i].tcp, .events = POLLIN};
            what[n++] = (int)i * 2 + 1;
        }
        for (int c = 0; c < MAX_CONNS; c++) {
            if (conns[c].fd < 0) continue;
            short ev = accepting ? POLLIN : 0;
            if (conns[c].outlen > conns[c].outoff) ev |= POLLOUT;
            pfd[n] = (struct pollfd){.fd = conns[c].fd, .events = ev};
            what[n++] = -1 - c;
        }
        int timeout = wake > now ? (int)(wake - now) : 0;
        int pr = poll(pfd, n, timeout);
        if (pr < 0) {
            if (errno == EINTR) continue;
            perror("badauth: poll");
            why = "error";
            break;
        }
        for (nfds_t i = 0; i < n && pr > 0; i++) {
            if (!pfd[i].revents) continue;
            if (what[i] >= 0) {
                int li = what[i] / 2;
                if (what[i] % 2 == 0)
                    read_udp(li, &accepting, max_queries);
                else if (accepting)
                    accept_tcp(li);
                continue;
            }
            int c = -1 - what[i];
            if (conns[c].fd != pfd[i].fd) continue;
            if (pfd[i].revents & POLLOUT) conn_flush(c);
            if (conns[c].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (accepting)
                read_tcp(c, &accepting, max_queries);
            else
                conn_close(c); /* hung up while we no longer read */
        }
    }
    fprintf(stderr, "badauth: exiting (%s) after %ld queries\n", why, nqueries);
    rc = 0;
    goto out;
bad_usage:
    usage(stderr);
    rc = 2;
out:
    for (int c = 0; c < MAX_CONNS; c++) conn_close(c);
    for (size_t i = 0; i < npending; i++) free(pending[i].data);
    free(pending);
    for (size_t i = 0; i < nlisteners; i++) {
        close(listeners[i].udp);
        close(listeners[i].tcp);
        close(listeners[i].other);
    }
    for (size_t i = 0; i < nsendsocks; i++) close(sendsocks[i].fd);
    for (size_t z = 0; z < nzones; z++) {
        for (size_t i = 0; i < zones[z].n; i++) free(zones[z].recs[i].rdata);
        free(zones[z].recs);
    }
    free(rules);
    for (size_t i = 0; i < ntexts; i++) free(texts[i]);
    free(texts);
    rd_arena_free(&arena);
    return rc;
}
