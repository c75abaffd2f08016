/* Message building: name compression (RFC 1035 s4.1.4) only where RFC 3597 s4 allows, and
 * truncation at record boundaries with TC (RFC 2181 s9). */
#include <string.h>

#include "resolverd/msg.h"
#include "wire/cursor.h"
#include "wire/rdata_walk.h"

#define PTR_MAX 0x3FFF /* a pointer holds 14 bits of offset */

void rd_mb_init(rd_mb_t *b, uint8_t *buf, size_t cap, size_t limit, uint16_t id, uint16_t flags)
{
    RD_REQUIRE(cap >= RD_HDR_LEN);
    b->buf = buf;
    b->cap = cap;
    b->limit = limit < cap ? limit : cap;
    if (b->limit > RD_MSG_MAX) b->limit = RD_MSG_MAX;
    if (b->limit < RD_HDR_LEN) b->limit = RD_HDR_LEN;
    b->reserved = 0;
    b->pos = RD_HDR_LEN;
    b->id = id;
    b->flags = flags;
    memset(b->count, 0, sizeof(b->count));
    b->section = RD_SEC_QD;
    b->full = false;
    b->ncompr = 0;
}

int rd_mb_reserve(rd_mb_t *b, size_t n)
{
    if (b->pos + b->reserved + n > b->limit) return RD_ESPACE;
    b->reserved += n;
    return 0;
}

void rd_mb_set_flags(rd_mb_t *b, uint16_t flags)
{
    b->flags = flags;
}

void rd_mb_mark(const rd_mb_t *b, rd_mb_mark_t *mk)
{
    mk->pos = b->pos;
    memcpy(mk->count, b->count, sizeof(mk->count));
    mk->ncompr = b->ncompr;
    mk->section = b->section;
}

void rd_mb_rollback(rd_mb_t *b, const rd_mb_mark_t *mk)
{
    b->pos = mk->pos;
    memcpy(b->count, mk->count, sizeof(b->count));
    b->ncompr = mk->ncompr;
    b->section = mk->section;
}

static inline uint8_t lower(uint8_t c)
{
    return (uint8_t)((unsigned)(c - 'A') < 26u ? c + 32 : c);
}

/* Does the literal label at a equal label s, ignoring ASCII case? Compared case-insensitively
 * as BIND and Knot do: a compressed name takes the case of the name it points at (answers
 * take the case of the client's question), and messages stay smallest. */
static inline bool label_eq(const uint8_t *a, const uint8_t *s)
{
    uint8_t l = a[0];
    if (l != s[0]) return false;
    for (uint8_t i = 1; i <= l; i++)
        if (a[i] != s[i] && lower(a[i]) != lower(s[i])) return false;
    return true;
}

#define NO_PARENT 0xFF

/* The remembered labels form a tree: each entry knows the entry of the rest of its name. The
 * longest known suffix is found from the root label up, each label of the name compared only
 * with entries under the right parent (bench_wire: a third of rebuild time went to trying
 * every suffix against every entry). */
static void put_name(rd_mb_t *b, rd_wcur_t *w, const uint8_t *name, bool compress)
{
    size_t nlen = rd_name_len(name);
    if (!compress) {
        rd_wcur_bytes(w, name, nlen);
        return;
    }
    uint8_t off[128];
    int nl = 0;
    for (size_t p = 0; name[p]; p += 1 + (size_t)name[p]) off[nl++] = (uint8_t)p;
    unsigned cur = NO_PARENT;
    int mj = nl; /* first label of the matched suffix; nl: none */
    for (int j = nl - 1; j >= 0; j--) {
        unsigned hit = NO_PARENT;
        for (unsigned i = 0; i < b->ncompr; i++) {
            if (b->compr_parent[i] == cur && label_eq(b->buf + b->compr[i], name + off[j])) {
                hit = i;
                break;
            }
        }
        if (hit == NO_PARENT) break;
        cur = hit;
        mj = j;
    }
    size_t match_at = mj < nl ? off[mj] : nlen - 1;
    size_t start = w->pos;
    rd_wcur_bytes(w, name, match_at);
    if (mj < nl)
        rd_wcur_u16(w, (uint16_t)(0xC000 | b->compr[cur]));
    else
        rd_wcur_u8(w, 0);
    if (w->err) return;
    /* Remember the labels written literally, root side first so each has its parent; what
     * does not fit the table or the 14-bit pointer range is simply not remembered. */
    unsigned parent = cur;
    for (int j = mj - 1; j >= 0; j--) {
        if (b->ncompr >= RD_COMPR_MAX || start + off[j] > PTR_MAX) break;
        b->compr[b->ncompr] = (uint16_t)(start + off[j]);
        b->compr_parent[b->ncompr] = (uint8_t)parent;
        parent = b->ncompr++;
    }
}

static size_t room_end(const rd_mb_t *b)
{
    return b->limit - b->reserved;
}

int rd_mb_question(rd_mb_t *b, const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
    if (b->section != RD_SEC_QD) return RD_EINVAL;
    if (b->full) return RD_ESPACE;
    rd_mb_mark_t mk;
    rd_mb_mark(b, &mk);
    rd_wcur_t w;
    rd_wcur_init(&w, b->buf, b->pos, room_end(b));
    put_name(b, &w, qname, true);
    rd_wcur_u16(&w, qtype);
    rd_wcur_u16(&w, qclass);
    if (w.err) {
        rd_mb_rollback(b, &mk);
        b->full = true;
        b->flags |= RD_F_TC;
        return RD_ESPACE;
    }
    b->pos = w.pos;
    b->count[RD_SEC_QD]++;
    return 0;
}

struct rdata_put {
    rd_mb_t *b;
    rd_wcur_t *w;
    size_t srclen;
    bool from_msg; /* names in the source may be compressed: read them one at a time */
};

static int put_field(void *vctx, int kind, const uint8_t *src, size_t at, size_t len)
{
    struct rdata_put *c = vctx;
    if (kind == RD_RDF_NAME_C || (c->from_msg && kind == RD_RDF_NAME)) {
        uint8_t name[RD_NAME_MAX];
        const uint8_t *n = src + at;
        if (c->from_msg) {
            size_t p = at;
            int r = rd_name_unpack(src, c->srclen, &p, name, NULL);
            if (r) return r;
            n = name;
        }
        put_name(c->b, c->w, n, kind == RD_RDF_NAME_C);
    } else {
        rd_wcur_bytes(c->w, src + at, len);
    }
    return c->w->err;
}

/* One record; its rdata is src[pos..pos+rdlen): standalone uncompressed rdata (pos 0) or
 * rdata inside a parsed message, so a rebuild never copies rdata twice. */
static int add_rr(rd_mb_t *b, int section, const uint8_t *owner, uint16_t type, uint16_t rclass,
                  uint32_t ttl, const uint8_t *src, size_t srclen, size_t pos, uint16_t rdlen)
{
    if (section < b->section || section < RD_SEC_AN || section > RD_SEC_AR) return RD_EINVAL;
    if (b->full) return RD_ESPACE;
    rd_mb_mark_t mk;
    rd_mb_mark(b, &mk);
    b->section = section;
    rd_wcur_t w;
    rd_wcur_init(&w, b->buf, b->pos, room_end(b));
    put_name(b, &w, owner, true);
    rd_wcur_u16(&w, type);
    rd_wcur_u16(&w, rclass);
    rd_wcur_u32(&w, ttl);
    size_t lenpos = w.pos;
    rd_wcur_u16(&w, 0);
    int r = 0;
    if (!w.err) {
        size_t rstart = w.pos;
        struct rdata_put c = {b, &w, srclen, pos != 0};
        r = rd__rdata_walk(src, srclen, pos, rdlen, type, put_field, &c);
        if (r == RD_ERDATA || r == RD_ETRUNC || r == RD_EPTR || r == RD_ELABEL ||
            r == RD_ENAMELEN) {
            /* rdata that does not fit its type: refuse rather than emit garbage */
            rd_mb_rollback(b, &mk);
            return RD_ERDATA;
        }
        if (!w.err && w.pos - rstart > 0xFFFF) w.err = RD_ESPACE;
        rd_wcur_put16_at(&w, lenpos, (uint16_t)(w.pos - rstart));
    }
    if (w.err || r) {
        rd_mb_rollback(b, &mk);
        b->full = true;
        if (section != RD_SEC_AR) b->flags |= RD_F_TC;
        return RD_ESPACE;
    }
    b->pos = w.pos;
    b->count[section]++;
    return 0;
}

int rd_mb_rr(rd_mb_t *b, int section, const uint8_t *owner, uint16_t type, uint16_t rclass,
             uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
    /* Standalone rdata is walked at offset 0, so a pointer inside it is refused. */
    return add_rr(b, section, owner, type, rclass, ttl, rdata, rdlen, 0, rdlen);
}

size_t rd_edns_size(const rd_edns_build_t *e)
{
    size_t n = 11;
    for (size_t i = 0; i < e->nopts; i++) n += 4 + (size_t)e->opts[i].len;
    return n;
}

int rd_mb_opt(rd_mb_t *b, const rd_edns_build_t *e)
{
    size_t need = rd_edns_size(e);
    if (need - 11 > 0xFFFF) return RD_EINVAL;
    /* The reserved room is released for OPT itself. */
    size_t res = b->reserved < need ? b->reserved : need;
    b->reserved -= res;
    rd_wcur_t w;
    rd_wcur_init(&w, b->buf, b->pos, room_end(b));
    rd_wcur_u8(&w, 0);
    rd_wcur_u16(&w, RD_TYPE_OPT);
    rd_wcur_u16(&w, e->udp_size);
    rd_wcur_u32(&w, ((uint32_t)e->ext_rcode << 24) | ((uint32_t)e->version << 16) | e->flags);
    rd_wcur_u16(&w, (uint16_t)(need - 11));
    for (size_t i = 0; i < e->nopts; i++) {
        rd_wcur_u16(&w, e->opts[i].code);
        rd_wcur_u16(&w, e->opts[i].len);
        rd_wcur_bytes(&w, e->opts[i].data, e->opts[i].len);
    }
    if (w.err) {
        b->reserved += res;
        return RD_ESPACE;
    }
    b->pos = w.pos;
    b->section = RD_SEC_AR;
    b->count[RD_SEC_AR]++;
    return 0;
}

size_t rd_mb_finish(rd_mb_t *b)
{
    uint8_t *h = b->buf;
    h[0] = (uint8_t)(b->id >> 8);
    h[1] = (uint8_t)b->id;
    h[2] = (uint8_t)(b->flags >> 8);
    h[3] = (uint8_t)b->flags;
    for (int s = 0; s < 4; s++) {
        h[4 + 2 * s] = (uint8_t)(b->count[s] >> 8);
        h[5 + 2 * s] = (uint8_t)b->count[s];
    }
    return b->pos;
}

int rd_msg_rebuild(const rd_msg_t *m, uint8_t *out, size_t cap, size_t limit, size_t *outlen)
{
    rd_mb_t b;
    if (cap < RD_HDR_LEN) return RD_ESPACE;
    rd_mb_init(&b, out, cap, limit, m->id, m->flags);
    if (m->opt_index >= 0) {
        const rd_rr_t *o = &m->rrs[m->opt_index];
        int r = rd_mb_reserve(&b, 11 + (size_t)o->rdlen);
        if (r) return r;
    }
    uint8_t owner[RD_NAME_MAX];
    for (unsigned i = 0; i < m->count[RD_SEC_QD]; i++) {
        const rd_rr_t *q = rd_msg_rr(m, RD_SEC_QD, i);
        size_t pos = q->owner;
        int r = rd_name_unpack(m->wire, m->len, &pos, owner, NULL);
        if (r) return r;
        if (rd_mb_question(&b, owner, q->type, q->rclass)) break;
    }
    for (int s = RD_SEC_AN; s <= RD_SEC_AR; s++) {
        for (unsigned i = 0; i < m->count[s]; i++) {
            const rd_rr_t *rr = rd_msg_rr(m, s, i);
            if (rr->type == RD_TYPE_OPT) continue;
            size_t pos = rr->owner;
            int r = rd_name_unpack(m->wire, m->len, &pos, owner, NULL);
            if (r) return r;
            r = add_rr(&b, s, owner, rr->type, rr->rclass, rr->ttl, m->wire, m->len, rr->rdata,
                       rr->rdlen);
            if (r == RD_ESPACE) goto done;
            if (r) return r;
        }
    }
done:
    if (m->opt_index >= 0) {
        const rd_rr_t *o = &m->rrs[m->opt_index];
        /* OPT carries its options verbatim: its rdata is one opaque block. */
        b.reserved = 0;
        b.full = false;
        int r = rd_mb_rr(&b, RD_SEC_AR, (const uint8_t *)"", RD_TYPE_OPT, o->rclass, o->ttl,
                         m->wire + o->rdata, o->rdlen);
        if (r) return r;
    }
    *outlen = rd_mb_finish(&b);
    return 0;
}
