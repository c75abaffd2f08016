/* Loading a zone into its read-only form (zone_int.h) and the set of zones searched by
 * longest match.
 *
 * Choices where the RFCs leave room:
 * - Records are grouped into RRsets by (owner, type), owners compared case-insensitively
 *   (RFC 4343); a node keeps the owner's case as first seen in the file. Within an RRset the
 *   records are kept in canonical rdata order (RFC 4034 s6.3), as Knot does; identical
 *   records collapse into one (RFC 2181 s5), names in rdata compared as RFC 4034 s6.2 says.
 * - An RRset's TTL is the smallest of its records' TTLs (RFC 2181 s5.2 forbids differing
 *   TTLs; taking the minimum never serves data longer than any record allows).
 * - Errors that refuse the zone: an owner outside the zone, a class other than IN, SOA away
 *   from the apex, more than one SOA, CNAME or DNAME record at one name (RFC 1034 s3.6.2,
 *   RFC 6672 s2.4), CNAME with other data except RRSIG and NSEC (RFC 2181 s10.1, RFC 4035
 *   s2.5), no SOA or no NS at the apex, the limits in zone_int.h. Every one is reported with
 *   file:line (line 0 when no record is to blame: a missing SOA); loading goes on to report
 *   all of them and the zone is refused.
 * - Data below a DNAME (RFC 6672 s2.3 says it must not exist) is loaded but unreachable: the
 *   DNAME redirects every name below it. Data below a zone cut other than glue is likewise
 *   occluded.
 * - A record with no TTL before any $TTL gets 3600 (the parser's default_ttl).
 * - $INCLUDE is honoured in files, not in text loaded from memory (built-in zones). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolverd/rrtype.h"
#include "zone/zone_int.h"

#define DEFAULT_TTL 3600
/* Nodes (owners and empty non-terminals) per zone: deep names add one node per empty level;
 * four per record leaves room for real trees while bounding a hostile one. */
#define NODES_MAX (4u * RD__ZONE_RECORDS_MAX)

/* ---- reading records ---- */

typedef struct {
    const uint8_t *owner; /* set once the parse is over and the blobs stop moving */
    const uint8_t *rdata;
    uint32_t owner_off, rdata_off;
    uint32_t ttl, line, seq;
    uint16_t type, covered, rdlen, file;
} trec_t;

typedef struct {
    const uint8_t *origin;
    const char *name; /* the top file, for errors no record is to blame for */
    rd_zone_err_cb on_error;
    void *ctx;
    int errors;
    trec_t *recs;
    size_t nrec, caprec;
    uint8_t *names;
    size_t nnames, capnames;
    uint8_t *rdata;
    size_t nrdata, caprdata;
    size_t last_owner, last_owner_len;
    char **files;
    size_t nfiles, capfiles;
    uint16_t last_file;
} lctx_t;

__attribute__((format(printf, 5, 6))) static int zerr(lctx_t *c, const char *file, unsigned line,
                                                      int code, const char *fmt, ...)
{
    rd_zone_error_t e;
    memset(&e, 0, sizeof(e));
    snprintf(e.file, sizeof(e.file), "%s", file);
    e.line = line;
    e.col = 0; /* the record as a whole */
    e.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
    va_end(ap);
    if (c->errors < 0x7fffffff) c->errors++;
    if (c->on_error) {
        int r = c->on_error(c->ctx, &e);
        if (r < 0) return r;
    }
    return 0;
}

static int on_parse_error(void *ctx, const rd_zone_error_t *e)
{
    lctx_t *c = ctx;
    if (c->errors < 0x7fffffff) c->errors++;
    return c->on_error ? c->on_error(c->ctx, e) : 0;
}

/* Room for need elements: returns p itself, a larger block, or NULL (p still valid). */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return p;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *q = realloc(p, n * elem);
    if (q) *cap = n;
    return q;
}

static const char *file_name(const lctx_t *c, uint16_t i)
{
    return i < c->nfiles ? c->files[i] : c->name;
}

/* Files are few ($INCLUDEs): a linear search, the current file tried first. */
static int file_index(lctx_t *c, const char *file, uint16_t *idx)
{
    if (c->last_file < c->nfiles && strcmp(c->files[c->last_file], file) == 0) {
        *idx = c->last_file;
        return 0;
    }
    for (size_t i = 0; i < c->nfiles; i++) {
        if (strcmp(c->files[i], file) == 0) {
            *idx = c->last_file = (uint16_t)i;
            return 0;
        }
    }
    if (c->nfiles >= UINT16_MAX) {
        *idx = UINT16_MAX; /* past this many files, errors name the top file */
        return 0;
    }
    char **files = grow(c->files, &c->capfiles, c->nfiles + 1, sizeof(char *));
    if (!files) return RD_ENOMEM;
    c->files = files;
    char *s = strdup(file);
    if (!s) return RD_ENOMEM;
    c->files[c->nfiles] = s;
    *idx = c->last_file = (uint16_t)c->nfiles++;
    return 0;
}

static int on_rr(void *vctx, const rd_zrr_t *rr)
{
    lctx_t *c = vctx;
    char ot[RD_NAME_TEXT_MAX], zt[RD_NAME_TEXT_MAX];
    if (c->nrec >= RD__ZONE_RECORDS_MAX) {
        int r = zerr(c, rr->file, rr->line, RD_ELIMIT, "more than %u records in the zone",
                     RD__ZONE_RECORDS_MAX);
        return r < 0 ? r : RD_ELIMIT;
    }
    if (rr->rclass != RD_CLASS_IN) {
        rd_class_to_text(rr->rclass, zt, sizeof(zt));
        return zerr(c, rr->file, rr->line, RD_ESYNTAX, "class %s: only class IN zones are served",
                    zt);
    }
    if (!rd_name_in(rr->owner, c->origin)) {
        rd_name_to_text(rr->owner, ot, sizeof(ot));
        rd_name_to_text(c->origin, zt, sizeof(zt));
        return zerr(c, rr->file, rr->line, RD_ESYNTAX, "owner %s is outside the zone %s", ot, zt);
    }
    if (rd_rdata_check(rr->rdata, rr->rdlen, 0, rr->rdlen, rr->type) < 0) {
        rd_rrtype_to_text(rr->type, zt, sizeof(zt));
        return zerr(c, rr->file, rr->line, RD_ERDATA, "%s rdata does not match its type", zt);
    }
    if (rr->type == RD_TYPE_SOA && !rd_name_eq(rr->owner, c->origin)) {
        rd_name_to_text(rr->owner, ot, sizeof(ot));
        return zerr(c, rr->file, rr->line, RD_ESYNTAX, "SOA record at %s, not at the zone apex",
                    ot);
    }
    size_t olen = rd_name_len(rr->owner);
    if (c->nnames + olen + c->nrdata + rr->rdlen > RD__ZONE_BYTES_MAX) {
        int r = zerr(c, rr->file, rr->line, RD_ELIMIT, "zone data exceeds %u octets",
                     RD__ZONE_BYTES_MAX);
        return r < 0 ? r : RD_ELIMIT;
    }
    uint16_t fi;
    if (file_index(c, rr->file, &fi)) return RD_ENOMEM;
    /* Consecutive records usually share an owner: store it once. */
    size_t owner_off = c->last_owner;
    if (!c->nrec || olen != c->last_owner_len ||
        memcmp(c->names + c->last_owner, rr->owner, olen) != 0) {
        uint8_t *names = grow(c->names, &c->capnames, c->nnames + olen, 1);
        if (!names) return RD_ENOMEM;
        c->names = names;
        memcpy(c->names + c->nnames, rr->owner, olen);
        owner_off = c->last_owner = c->nnames;
        c->last_owner_len = olen;
        c->nnames += olen;
    }
    uint8_t *rdata = grow(c->rdata, &c->caprdata, c->nrdata + rr->rdlen + 1, 1);
    if (!rdata) return RD_ENOMEM;
    c->rdata = rdata;
    if (rr->rdlen) memcpy(c->rdata + c->nrdata, rr->rdata, rr->rdlen);
    trec_t *recs = grow(c->recs, &c->caprec, c->nrec + 1, sizeof(trec_t));
    if (!recs) return RD_ENOMEM;
    c->recs = recs;
    trec_t *t = &c->recs[c->nrec];
    memset(t, 0, sizeof(*t));
    t->owner_off = (uint32_t)owner_off;
    t->rdata_off = (uint32_t)c->nrdata;
    t->ttl = rr->ttl;
    t->line = rr->line;
    t->seq = (uint32_t)c->nrec;
    t->type = rr->type;
    t->rdlen = rr->rdlen;
    t->file = fi;
    /* RFC 4034 s3.1: type covered leads the RRSIG rdata (checked above: 18+ octets). */
    if (rr->type == RD_TYPE_RRSIG) t->covered = (uint16_t)((rr->rdata[0] << 8) | rr->rdata[1]);
    c->nrdata += rr->rdlen;
    c->nrec++;
    return 0;
}

/* ---- building the zone ---- */

static int rec_cmp(const void *va, const void *vb)
{
    const trec_t *a = va, *b = vb;
    int r = rd_name_cmp(a->owner, b->owner);
    if (r) return r;
    if (a->type != b->type) return a->type < b->type ? -1 : 1;
    if (a->covered != b->covered) return a->covered < b->covered ? -1 : 1;
    r = rd_rdata_cmp(a->type, a->rdata, a->rdlen, b->rdata, b->rdlen);
    if (r) return r;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static uint32_t name_hash(const uint8_t *name)
{
    /* FNV-1a over the lowercased name. Zone contents are the operator's, so a fixed function
     * is enough: queries cannot add keys, and probe lengths are set by the load factor. */
    uint32_t h = 2166136261u;
    size_t len = rd_name_len(name);
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = name[i];
        if (ch >= 'A' && ch <= 'Z') ch = (uint8_t)(ch + 32);
        h = (h ^ ch) * 16777619u;
    }
    return h;
}

uint32_t rd__zone_find(const rd_zone_t *z, const uint8_t *name)
{
    uint32_t h = name_hash(name);
    for (uint32_t i = h & z->slot_mask;; i = (i + 1) & z->slot_mask) {
        const rd__zslot_t *s = &z->slots[i];
        if (!s->node) return RD__ZNODE_NONE;
        if (s->hash == h && rd_name_eq(rd__znode_name(z, s->node - 1), name)) return s->node - 1;
    }
}

const rd__zrrset_t *rd__zone_rrset(const rd_zone_t *z, uint32_t n, uint16_t type)
{
    const rd__znode_t *nd = &z->nodes[n];
    for (uint32_t i = 0; i < nd->nrrsets; i++) {
        const rd__zrrset_t *rs = &z->rrsets[nd->rrset + i];
        if (rs->type == type) return rs;
        if (rs->type > type) break;
    }
    return NULL;
}

static int add_node(rd_zone_t *z, size_t *cap, uint32_t name, uint32_t rrset)
{
    if (z->nnodes >= NODES_MAX) return RD_ELIMIT;
    rd__znode_t *nodes = grow(z->nodes, cap, (size_t)z->nnodes + 1, sizeof(rd__znode_t));
    if (!nodes) return RD_ENOMEM;
    z->nodes = nodes;
    z->nodes[z->nnodes++] = (rd__znode_t){.name = name, .rrset = rrset};
    return 0;
}

/* Labels the two names share at their ends. */
static int common_labels(const uint8_t *a, const uint8_t *b)
{
    uint8_t oa[128], ob[128];
    int na = 0, nb = 0, n = 0;
    for (size_t p = 0; a[p]; p += 1 + (size_t)a[p]) oa[na++] = (uint8_t)p;
    for (size_t p = 0; b[p]; p += 1 + (size_t)b[p]) ob[nb++] = (uint8_t)p;
    while (na > 0 && nb > 0 && rd_name_eq(a + oa[na - 1], b + ob[nb - 1])) na--, nb--, n++;
    return n;
}

/* Empty non-terminals above the node about to be added (RFC 4592 s2.2.2, RFC 8020): names
 * between it and what it shares with the previous node. Nodes arrive in canonical order, a
 * preorder walk of the tree, so an ancestor not shared with the previous node belongs to no
 * earlier node and is not an owner itself: one pass finds every one, in order. The apex is
 * made an empty node when it holds no data, so nodes[0] is always the apex. */
static int add_ents(rd_zone_t *z, size_t *cap, uint32_t name_off, const uint8_t *prev)
{
    const uint8_t *name = z->names + name_off;
    int labels = rd_name_labels(name);
    int shared = prev ? common_labels(prev, name) : z->origin_labels - 1;
    uint8_t off[128];
    int n = 0;
    for (size_t p = 0; name[p]; p += 1 + (size_t)name[p]) off[n++] = (uint8_t)p;
    off[n] = (uint8_t)(rd_name_len(name) - 1);
    for (int l = shared + 1; l < labels; l++) {
        int r = add_node(z, cap, name_off + off[labels - l], 0);
        if (r) return r;
    }
    return 0;
}

typedef struct {
    uint16_t covered;
    uint32_t rd_off, rec, count, ttl;
} sigrun_t;

typedef struct {
    uint32_t first, end; /* this RRset's records in the sorted c->recs */
} rssrc_t;

static uint32_t rec_line_max(const lctx_t *c, const rssrc_t *s, const trec_t **which)
{
    const trec_t *w = &c->recs[s->first];
    for (uint32_t i = s->first; i < s->end; i++)
        if (c->recs[i].seq > w->seq) w = &c->recs[i];
    *which = w;
    return w->line;
}

static const trec_t *rec_first_seen(const lctx_t *c, const rssrc_t *s)
{
    const trec_t *w = &c->recs[s->first];
    for (uint32_t i = s->first; i < s->end; i++)
        if (c->recs[i].seq < w->seq) w = &c->recs[i];
    return w;
}

/* Rules that hold per name: singletons and CNAME exclusivity. */
static int check_node(lctx_t *c, rd_zone_t *z, uint32_t n, const rssrc_t *src)
{
    const rd__znode_t *nd = &z->nodes[n];
    const uint8_t *name = rd__znode_name(z, n);
    char nt[RD_NAME_TEXT_MAX], tt[16];
    const rssrc_t *cname = NULL, *other = NULL;
    int r = 0;
    for (uint32_t i = 0; i < nd->nrrsets && r >= 0; i++) {
        const rd__zrrset_t *rs = &z->rrsets[nd->rrset + i];
        const rssrc_t *s = &src[nd->rrset + i];
        if (rs->type == RD_TYPE_CNAME)
            cname = s;
        else if (rs->type != RD_TYPE_RRSIG && rs->type != RD_TYPE_NSEC && !other)
            other = s;
        bool singleton =
            rs->type == RD_TYPE_SOA || rs->type == RD_TYPE_CNAME || rs->type == RD_TYPE_DNAME;
        if (singleton && rs->count > 1) {
            const trec_t *w;
            unsigned line = rec_line_max(c, s, &w);
            rd_name_to_text(name, nt, sizeof(nt));
            rd_rrtype_to_text(rs->type, tt, sizeof(tt));
            r = zerr(c, file_name(c, w->file), line, RD_ESYNTAX, "more than one %s record at %s",
                     tt, nt);
        }
    }
    if (cname && other && r >= 0) {
        /* Blame the later of the two: reading the file top down, that is where it breaks. */
        const trec_t *a = rec_first_seen(c, cname), *b = rec_first_seen(c, other);
        const trec_t *late = a->seq > b->seq ? a : b, *early = late == a ? b : a;
        rd_name_to_text(name, nt, sizeof(nt));
        rd_rrtype_to_text(b->type, tt, sizeof(tt));
        r = zerr(c, file_name(c, late->file), late->line, RD_ESYNTAX,
                 "CNAME and other data at %s (%s; the other record is at line %u)", nt, tt,
                 early->line);
    }
    return r;
}

/* Points every RRset at its slice of the node's RRSIG RRset. */
static void attach_sigs(rd_zone_t *z, uint32_t n, const sigrun_t *runs, size_t nruns)
{
    for (size_t i = 0; i < nruns; i++) {
        const rd__znode_t *nd = &z->nodes[n];
        for (uint32_t k = 0; k < nd->nrrsets; k++) {
            rd__zrrset_t *rs = &z->rrsets[nd->rrset + k];
            if (rs->type != runs[i].covered) continue;
            rs->sig_rd_off = runs[i].rd_off;
            rs->sig_rec = runs[i].rec;
            rs->sig_count = runs[i].count;
            rs->sig_ttl = runs[i].ttl;
        }
    }
}

static int build(lctx_t *c, rd_zone_t *z)
{
    int r = 0;
    size_t nodecap = 0;
    rssrc_t *src = NULL;
    sigrun_t *runs = NULL;
    size_t nrec = c->nrec;
    for (size_t i = 0; i < nrec; i++) {
        c->recs[i].owner = c->names + c->recs[i].owner_off;
        c->recs[i].rdata = c->rdata + c->recs[i].rdata_off;
    }
    if (nrec) qsort(c->recs, nrec, sizeof(trec_t), rec_cmp);

    z->rrsets = calloc(nrec ? nrec : 1, sizeof(rd__zrrset_t));
    z->rdlen = calloc(nrec ? nrec : 1, sizeof(uint16_t));
    z->rdata = malloc(c->nrdata ? c->nrdata : 1);
    z->names = malloc(c->nnames + RD_NAME_MAX); /* room for the apex when it has no data */
    src = calloc(nrec ? nrec : 1, sizeof(rssrc_t));
    runs = calloc(nrec ? nrec : 1, sizeof(sigrun_t));
    if (!z->rrsets || !z->rdlen || !z->rdata || !z->names || !src || !runs) {
        r = RD_ENOMEM;
        goto out;
    }

    uint32_t nrs = 0, nout = 0, rdoff = 0, noff = 0;
    const uint8_t *prev = NULL;
    for (size_t i = 0; i < nrec;) {
        size_t j = i + 1;
        while (j < nrec && rd_name_cmp(c->recs[j].owner, c->recs[i].owner) == 0) j++;
        /* The owner's case as first seen in the file. */
        const trec_t *first = &c->recs[i];
        for (size_t k = i; k < j; k++)
            if (c->recs[k].seq < first->seq) first = &c->recs[k];
        size_t olen = rd_name_len(first->owner);
        memcpy(z->names + noff, first->owner, olen);
        if ((r = add_ents(z, &nodecap, noff, prev))) goto out;
        if ((r = add_node(z, &nodecap, noff, nrs))) goto out;
        uint32_t n = z->nnodes - 1;
        prev = z->names + noff;
        noff += (uint32_t)olen;

        size_t nruns = 0;
        for (size_t k = i; k < j;) {
            size_t m = k + 1;
            while (m < j && c->recs[m].type == c->recs[k].type) m++;
            rd__zrrset_t *rs = &z->rrsets[nrs];
            rs->type = c->recs[k].type;
            rs->rd_off = rdoff;
            rs->rec = nout;
            rs->ttl = UINT32_MAX;
            src[nrs] = (rssrc_t){(uint32_t)k, (uint32_t)m};
            for (size_t q = k; q < m; q++) {
                const trec_t *t = &c->recs[q];
                if (t->ttl < rs->ttl) rs->ttl = t->ttl;
                bool dup = q > k && t->covered == c->recs[q - 1].covered &&
                           rd_rdata_cmp(t->type, t->rdata, t->rdlen, c->recs[q - 1].rdata,
                                        c->recs[q - 1].rdlen) == 0;
                if (rs->type == RD_TYPE_RRSIG) {
                    if (!nruns || runs[nruns - 1].covered != t->covered)
                        runs[nruns++] = (sigrun_t){t->covered, rdoff, nout, 0, UINT32_MAX};
                    if (t->ttl < runs[nruns - 1].ttl) runs[nruns - 1].ttl = t->ttl;
                    if (!dup) runs[nruns - 1].count++;
                }
                if (dup) continue;
                z->rdlen[nout++] = t->rdlen;
                if (t->rdlen) memcpy(z->rdata + rdoff, t->rdata, t->rdlen);
                rdoff += t->rdlen;
                rs->count++;
            }
            nrs++;
            z->nodes[n].nrrsets++;
            k = m;
        }
        attach_sigs(z, n, runs, nruns);
        rd__znode_t *nd = &z->nodes[n];
        bool apex = n == 0;
        for (uint32_t k = 0; k < nd->nrrsets; k++) {
            uint16_t t = z->rrsets[nd->rrset + k].type;
            if (t == RD_TYPE_NS && !apex) nd->flags |= RD__ZN_DELEG;
            if (t == RD_TYPE_CNAME) nd->flags |= RD__ZN_CNAME;
            if (t == RD_TYPE_DNAME) nd->flags |= RD__ZN_DNAME;
        }
        if ((r = check_node(c, z, n, src)) < 0) goto out;
        i = j;
    }
    z->nrrsets = nrs;
    if (!z->nnodes) {
        /* No records at all: an empty apex node keeps nodes[0] the apex (add_ents makes it
         * for a zone with records below an empty apex). */
        memcpy(z->names + noff, z->origin, rd_name_len(z->origin));
        if ((r = add_node(z, &nodecap, noff, 0))) goto out;
    }

    /* The apex: exactly one SOA (more was reported per node) and NS (RFC 1034 s4.2.1). */
    char zt[RD_NAME_TEXT_MAX];
    rd_name_to_text(z->origin, zt, sizeof(zt));
    const rd__zrrset_t *soa = rd__zone_rrset(z, 0, RD_TYPE_SOA);
    if (!soa && (r = zerr(c, c->name, 0, RD_ESYNTAX, "no SOA record at the zone apex %s", zt)))
        goto out;
    if (!rd__zone_rrset(z, 0, RD_TYPE_NS) &&
        (r = zerr(c, c->name, 0, RD_ESYNTAX, "no NS records at the zone apex %s", zt)))
        goto out;
    if (soa) {
        /* RFC 2308 s5: negative answers live min(SOA TTL, SOA MINIMUM). MINIMUM ends the
         * rdata (RFC 1035 s3.3.13). */
        const uint8_t *p = z->rdata + soa->rd_off + z->rdlen[soa->rec] - 4;
        uint32_t min =
            ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
        z->neg_ttl = soa->ttl < min ? soa->ttl : min;
    }

    /* Exact lookups: open addressing, at most half full. */
    size_t slots = 8;
    while (slots < 2 * (size_t)z->nnodes) slots *= 2;
    z->slots = calloc(slots, sizeof(rd__zslot_t));
    if (!z->slots) {
        r = RD_ENOMEM;
        goto out;
    }
    z->slot_mask = (uint32_t)(slots - 1);
    for (uint32_t n = 0; n < z->nnodes; n++) {
        uint32_t h = name_hash(rd__znode_name(z, n));
        uint32_t i = h & z->slot_mask;
        while (z->slots[i].node) i = (i + 1) & z->slot_mask;
        z->slots[i] = (rd__zslot_t){h, n + 1};
    }
out:
    free(src);
    free(runs);
    return r;
}

static void lctx_free(lctx_t *c)
{
    for (size_t i = 0; i < c->nfiles; i++) free(c->files[i]);
    free(c->files);
    free(c->recs);
    free(c->names);
    free(c->rdata);
}

static int load(const char *path, const char *text, size_t len, const char *name,
                const uint8_t *origin, rd_zone_err_cb on_error, void *ctx, rd_zone_t **out)
{
    size_t olen;
    if (!out) return RD_EINVAL;
    *out = NULL;
    if (!origin || rd_name_check(origin, RD_NAME_MAX, &olen) < 0) return RD_EINVAL;
    lctx_t c = {.origin = origin,
                .name = path ? path : (name ? name : "<memory>"),
                .on_error = on_error,
                .ctx = ctx};
    rd_zone_opts_t o = {.origin = origin,
                        .default_ttl = DEFAULT_TTL,
                        .default_class = RD_CLASS_IN,
                        .allow_include = path != NULL,
                        .on_rr = on_rr,
                        .on_error = on_parse_error,
                        .ctx = &c};
    rd_zone_t *z = calloc(1, sizeof(*z));
    if (!z) return RD_ENOMEM;
    memcpy(z->origin, origin, olen);
    z->origin_labels = rd_name_labels(origin);
    z->rclass = RD_CLASS_IN;
    int r = path ? rd_zone_parse_file(path, &o) : rd_zone_parse_mem(text, len, name, &o);
    if (r >= 0) r = build(&c, z);
    if (r >= 0 && c.errors) r = RD_ESYNTAX;
    lctx_free(&c);
    if (r < 0) {
        rd_zone_free(z);
        return r;
    }
    /* Shrink what was sized for the worst case; a failed shrink keeps the larger block. */
    void *p = realloc(z->nodes, (z->nnodes ? z->nnodes : 1) * sizeof(rd__znode_t));
    if (p) z->nodes = p;
    *out = z;
    return 0;
}

int rd_zone_load_file(const char *path, const uint8_t *origin, rd_zone_err_cb on_error, void *ctx,
                      rd_zone_t **out)
{
    if (!path) return RD_EINVAL;
    return load(path, NULL, 0, NULL, origin, on_error, ctx, out);
}

int rd_zone_load_mem(const char *text, size_t len, const char *name, const uint8_t *origin,
                     rd_zone_err_cb on_error, void *ctx, rd_zone_t **out)
{
    if (!text && len) return RD_EINVAL;
    return load(NULL, text ? text : "", len, name, origin, on_error, ctx, out);
}

void rd_zone_free(rd_zone_t *z)
{
    if (!z) return;
    free(z->nodes);
    free(z->rrsets);
    free(z->rdlen);
    free(z->rdata);
    free(z->names);
    free(z->slots);
    free(z);
}

const uint8_t *rd_zone_origin(const rd_zone_t *z)
{
    return z->origin;
}

size_t rd_zone_rrset_count(const rd_zone_t *z)
{
    return z->nrrsets;
}

/* ---- the zone set ---- */

/* Zones sorted by origin in canonical order, plus a hash of their origins for the query
 * path: a lookup probes only the suffixes of the name whose label count some zone has, so a
 * query costs a few hashes instead of a binary search per suffix (bench-local profile: the
 * search was a third of all instructions with the ~100 built-in zones). No allocation. */
struct rd_zoneset {
    rd_zone_t **zones;
    size_t n, cap;
    const rd_zone_t **slots; /* open addressing, at most half full */
    size_t nslots;
    uint64_t label_counts; /* bit k: some origin has k labels (bit 63: 63 or more) */
};

static int label_bit(int labels)
{
    return labels < 63 ? labels : 63;
}

/* Index of the zone with this origin, or where it would go (*found false). */
static size_t set_search(const rd_zoneset_t *s, const uint8_t *origin, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = rd_name_cmp(s->zones[mid]->origin, origin);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static void slot_put(const rd_zone_t **slots, size_t nslots, const rd_zone_t *z)
{
    size_t h = name_hash(z->origin) & (nslots - 1);
    while (slots[h]) h = (h + 1) & (nslots - 1);
    slots[h] = z;
}

/* Adds z to the origin hash, doubling it when half full (amortised O(1) per zone). */
static int hash_add(rd_zoneset_t *s, const rd_zone_t *z)
{
    if (s->n * 2 + 2 > s->nslots) {
        size_t want = s->nslots ? s->nslots * 2 : 16;
        const rd_zone_t **slots = calloc(want, sizeof(*slots));
        if (!slots) return RD_ENOMEM;
        for (size_t i = 0; i < s->nslots; i++)
            if (s->slots[i]) slot_put(slots, want, s->slots[i]);
        free(s->slots);
        s->slots = slots;
        s->nslots = want;
    }
    slot_put(s->slots, s->nslots, z);
    return 0;
}

int rd_zoneset_new(rd_zoneset_t **out)
{
    if (!out) return RD_EINVAL;
    *out = calloc(1, sizeof(rd_zoneset_t));
    return *out ? 0 : RD_ENOMEM;
}

/* On success the set owns z; on error the caller still does. */
int rd_zoneset_add(rd_zoneset_t *s, rd_zone_t *z)
{
    if (!s || !z) return RD_EINVAL;
    bool found;
    size_t at = set_search(s, z->origin, &found);
    if (found) return RD_EINVAL;
    rd_zone_t **zones = grow(s->zones, &s->cap, s->n + 1, sizeof(rd_zone_t *));
    if (!zones) return RD_ENOMEM;
    s->zones = zones;
    int r = hash_add(s, z);
    if (r) return r;
    memmove(s->zones + at + 1, s->zones + at, (s->n - at) * sizeof(rd_zone_t *));
    s->zones[at] = z;
    s->n++;
    s->label_counts |= 1ull << label_bit(rd_name_labels(z->origin));
    return 0;
}

void rd_zoneset_free(rd_zoneset_t *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) rd_zone_free(s->zones[i]);
    free(s->zones);
    free(s->slots);
    free(s);
}

const rd_zone_t *rd_zoneset_find(const rd_zoneset_t *s, const uint8_t *qname)
{
    if (!s || !qname || !s->n) return NULL;
    int k = rd_name_labels(qname);
    for (const uint8_t *p = qname;; p += 1 + (size_t)*p, k--) {
        if (s->label_counts & (1ull << label_bit(k))) {
            size_t h = name_hash(p) & (s->nslots - 1);
            for (; s->slots[h]; h = (h + 1) & (s->nslots - 1)) {
                const rd_zone_t *z = s->slots[h];
                if (rd_name_eq(z->origin, p)) return z;
            }
        }
        if (!*p) return NULL;
    }
}
