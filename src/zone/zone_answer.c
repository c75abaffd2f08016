/* Answers from a loaded zone: RFC 1034 s4.3.2 step 3 with RFC 4592 wildcards, RFC 2308
 * negative answers, RFC 6672 DNAME and RFC 8482 minimal ANY. Reads the zone only; uses the
 * stack and the caller's builder, never the heap, so it is safe to run from any worker.
 *
 * Choices where the RFCs leave room:
 * - ANY gets one RRset (RFC 8482 s4.2, as Knot does): the node's first RRset in type order
 *   other than RRSIG, with its signatures when DO is set.
 * - A CNAME/DNAME chain is followed inside the zone for at most RD__ZONE_CHAIN_MAX steps;
 *   past that the result is RD_ZR_CNAME_OUT so the caller may go on from the last target with
 *   its own limits. A chain that comes back to a name it has visited stops there with
 *   RD_ZR_ANSWER and the CNAMEs so far: an authoritative answer can say no more.
 * - A chain that reaches a name at or below a zone cut of this zone ends with
 *   RD_ZR_CNAME_OUT too: the data lives in the child zone.
 * - A DNAME rewrite longer than 255 octets gives YXDOMAIN (RFC 6672 s2.2) and RD_ZR_ANSWER:
 *   the response is final.
 * - The rcode follows the last name of a chain (RFC 6604 s2.1): a CNAME to a missing name of
 *   the zone gives NXDOMAIN with the CNAME in the answer.
 * - Negative answers carry the SOA with TTL min(SOA TTL, MINIMUM) (RFC 2308 s5), and its
 *   RRSIGs when DO is set; no NSEC/NSEC3 denial is assembled (local zones are not expected
 *   to be signed).
 * - Additional data: glue (A, AAAA) of in-zone NS targets in referrals, and A/AAAA of in-zone
 *   targets of an NS, MX or SRV answer, without signatures. RRsets that do not fit there are
 *   dropped without TC (RFC 2181 s9 allows it for additional data).
 * - When an answer or authority RRset does not fit, it is left out whole with TC set and
 *   nothing more is added; *result still says what the answer was. */
#include <string.h>

#include "resolverd/rrtype.h"
#include "zone/zone_int.h"

#define RCODE_YXDOMAIN 6  /* RFC 6672 s2.2 */
#define ADDITIONAL_MAX 16 /* distinct target names given additional data per answer */

typedef struct {
    const rd_zone_t *z;
    rd_mb_t *b;
    bool dnssec_ok;
    bool stop; /* an answer or authority RRset did not fit: add nothing more */
} ans_t;

enum { LK_EXACT, LK_CUT, LK_DNAME, LK_MISS };

typedef struct {
    int kind;
    uint32_t node; /* the exact match, the cut, the DNAME owner, or the closest encloser */
    size_t off;    /* where that node's name starts in the name looked up */
} look_t;

/* Walks from the apex down the labels of name (in the zone), stopping at the first zone cut
 * (except at name itself for DS, which the parent side answers: RFC 4035 s3.1.4.1), at a DNAME
 * owned by a strict ancestor (RFC 6672 s3.2), or where the next name does not exist. Empty
 * non-terminals are nodes, so a walk through them goes on (RFC 8020). */
static void lookup(const rd_zone_t *z, const uint8_t *name, uint16_t qtype, look_t *lk)
{
    uint8_t off[128];
    int n = 0;
    for (size_t p = 0; name[p]; p += 1 + (size_t)name[p]) off[n++] = (uint8_t)p;
    off[n] = (uint8_t)(rd_name_len(name) - 1);
    int top = n - z->origin_labels;
    uint32_t node = 0;
    for (int i = top;; i--) {
        uint32_t f = z->nodes[node].flags;
        if (i < top && (f & RD__ZN_DELEG) && !(i == 0 && qtype == RD_TYPE_DS)) {
            *lk = (look_t){LK_CUT, node, off[i]};
            return;
        }
        if (i > 0 && (f & RD__ZN_DNAME)) {
            *lk = (look_t){LK_DNAME, node, off[i]};
            return;
        }
        if (i == 0) {
            *lk = (look_t){LK_EXACT, node, 0};
            return;
        }
        uint32_t c = rd__zone_find(z, name + off[i - 1]);
        if (c == RD__ZNODE_NONE) {
            *lk = (look_t){LK_MISS, node, off[i]};
            return;
        }
        node = c;
    }
}

static int put_records(ans_t *a, int sec, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       uint32_t rd_off, uint32_t rec, uint32_t count)
{
    const rd_zone_t *z = a->z;
    for (uint32_t i = 0; i < count; i++) {
        uint16_t len = z->rdlen[rec + i];
        int r = rd_mb_rr(a->b, sec, owner, type, z->rclass, ttl, z->rdata + rd_off, len);
        if (r) return r;
        rd_off += len;
    }
    return 0;
}

/* A builder error: RD_ESPACE rolls back to mk, sets a->stop outside the additional section
 * (the builder has set TC) and returns 1; anything else is returned as is. */
static int put_failed(ans_t *a, int sec, const rd_mb_mark_t *mk, int r)
{
    rd_mb_rollback(a->b, mk);
    if (r != RD_ESPACE) return r;
    if (sec != RD_SEC_AR) a->stop = true;
    return 1;
}

/* Adds an RRset, and its RRSIGs when DO is set, whole or not at all (RFC 2181 s9). TTLs are
 * capped at ttl_cap. Returns 0 when added, 1 when it did not fit, or an error. */
static int put_rrset(ans_t *a, int sec, const uint8_t *owner, const rd__zrrset_t *rs,
                     uint32_t ttl_cap)
{
    if (a->stop) return 1;
    rd_mb_mark_t mk;
    rd_mb_mark(a->b, &mk);
    uint32_t ttl = rs->ttl < ttl_cap ? rs->ttl : ttl_cap;
    int r = put_records(a, sec, owner, rs->type, ttl, rs->rd_off, rs->rec, rs->count);
    if (!r && a->dnssec_ok && rs->sig_count) {
        uint32_t sttl = rs->sig_ttl < ttl_cap ? rs->sig_ttl : ttl_cap;
        r = put_records(a, sec, owner, RD_TYPE_RRSIG, sttl, rs->sig_rd_off, rs->sig_rec,
                        rs->sig_count);
    }
    return r ? put_failed(a, sec, &mk, r) : 0;
}

/* RFC 6672 s3.1: the CNAME a DNAME implies, with the DNAME's TTL; never signed. */
static int put_synth_cname(ans_t *a, const uint8_t *owner, uint32_t ttl, const uint8_t *target)
{
    if (a->stop) return 1;
    rd_mb_mark_t mk;
    rd_mb_mark(a->b, &mk);
    int r = rd_mb_rr(a->b, RD_SEC_AN, owner, RD_TYPE_CNAME, a->z->rclass, ttl, target,
                     (uint16_t)rd_name_len(target));
    return r ? put_failed(a, RD_SEC_AN, &mk, r) : 0;
}

/* A and AAAA of an in-zone name into the additional section, each name once. */
static int put_addresses(ans_t *a, const uint8_t *target, uint32_t *done, int *ndone)
{
    if (!rd_name_in(target, a->z->origin)) return 0;
    uint32_t n = rd__zone_find(a->z, target);
    if (n == RD__ZNODE_NONE) return 0;
    for (int i = 0; i < *ndone; i++)
        if (done[i] == n) return 0;
    if (*ndone >= ADDITIONAL_MAX) return 0;
    done[(*ndone)++] = n;
    static const uint16_t types[] = {RD_TYPE_A, RD_TYPE_AAAA};
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        const rd__zrrset_t *rs = rd__zone_rrset(a->z, n, types[t]);
        if (!rs) continue;
        rd__zrrset_t nosig = *rs;
        nosig.sig_count = 0;
        int r = put_rrset(a, RD_SEC_AR, rd__znode_name(a->z, n), &nosig, UINT32_MAX);
        if (r < 0) return r;
    }
    return 0;
}

/* Additional section processing (RFC 1034 s4.3.2 step 6) for the name in each record of rs
 * at octet at of its rdata. */
static int additional_for(ans_t *a, const rd__zrrset_t *rs)
{
    size_t at;
    switch (rs->type) {
    case RD_TYPE_NS: at = 0; break;
    case RD_TYPE_MX: at = 2; break;  /* RFC 1035 s3.3.9: preference, exchange */
    case RD_TYPE_SRV: at = 6; break; /* RFC 2782: priority, weight, port, target */
    default: return 0;
    }
    uint32_t done[ADDITIONAL_MAX];
    int ndone = 0;
    uint32_t off = rs->rd_off;
    for (uint32_t i = 0; i < rs->count; i++) {
        int r = put_addresses(a, a->z->rdata + off + at, done, &ndone);
        if (r < 0) return r;
        off += a->z->rdlen[rs->rec + i];
    }
    return 0;
}

/* RFC 1034 s4.3.2 step 3b: NS of the cut in authority (with DS when DO: RFC 4035 s3.1.4),
 * glue in additional, AA clear. */
static int referral(ans_t *a, uint32_t cut)
{
    const rd_zone_t *z = a->z;
    const uint8_t *owner = rd__znode_name(z, cut);
    a->b->flags &= (uint16_t)~RD_F_AA;
    const rd__zrrset_t *ns = rd__zone_rrset(z, cut, RD_TYPE_NS);
    if (rd_fails_assert(ns)) return RD_EBUG;
    int r = put_rrset(a, RD_SEC_NS, owner, ns, UINT32_MAX);
    if (r < 0) return r;
    const rd__zrrset_t *ds = a->dnssec_ok ? rd__zone_rrset(z, cut, RD_TYPE_DS) : NULL;
    if (ds && (r = put_rrset(a, RD_SEC_NS, owner, ds, UINT32_MAX)) < 0) return r;
    if (a->stop) return 0;
    return additional_for(a, ns);
}

enum { STEP_DONE, STEP_FOLLOW };

/* Data at node n for a name that is n or matches its wildcard (then owner is the name asked
 * for, RFC 4592 s3.3.1). Sets *res, or *next to a CNAME target to follow. */
static int answer_node(ans_t *a, uint32_t n, const uint8_t *owner, uint16_t qtype, int *res,
                       const uint8_t **next, const rd__zrrset_t **answered)
{
    const rd_zone_t *z = a->z;
    const rd__znode_t *nd = &z->nodes[n];
    const rd__zrrset_t *rs = NULL;
    *res = RD_ZR_NODATA;
    if (!nd->nrrsets) return STEP_DONE; /* empty non-terminal: NODATA (RFC 8020 s2) */
    if (qtype == RD_TYPE_ANY) {
        rs = &z->rrsets[nd->rrset];
        if (rs->type == RD_TYPE_RRSIG && nd->nrrsets > 1) rs++;
    } else {
        rs = rd__zone_rrset(z, n, qtype);
    }
    if (rs) {
        int r = put_rrset(a, RD_SEC_AN, owner, rs, UINT32_MAX);
        if (r < 0) return r;
        *res = RD_ZR_ANSWER;
        if (qtype != RD_TYPE_ANY) *answered = rs;
        return STEP_DONE;
    }
    if ((nd->flags & RD__ZN_CNAME) && qtype != RD_TYPE_CNAME) {
        const rd__zrrset_t *cn = rd__zone_rrset(z, n, RD_TYPE_CNAME);
        if (rd_fails_assert(cn)) return RD_EBUG;
        int r = put_rrset(a, RD_SEC_AN, owner, cn, UINT32_MAX);
        if (r < 0) return r;
        *next = z->rdata + cn->rd_off;
        *res = RD_ZR_ANSWER;
        return STEP_FOLLOW;
    }
    return STEP_DONE;
}

int rd_zone_answer(const rd_zone_t *z, const uint8_t *qname, uint16_t qtype, bool dnssec_ok,
                   rd_mb_t *b, int *result)
{
    if (!z || !qname || !b || !result) return RD_EINVAL;
    if (!rd_name_in(qname, z->origin)) return RD_EINVAL;
    ans_t a = {.z = z, .b = b, .dnssec_ok = dnssec_ok};
    uint8_t synth[2][RD_NAME_MAX]; /* DNAME rewrites, used in turn */
    int synth_i = 0;
    uint8_t seen[RD__ZONE_CHAIN_MAX + 1][RD_NAME_MAX];
    int nseen = 0, steps = 0, rcode = RD_RCODE_NOERROR, res = RD_ZR_ANSWER, r = 0;
    const uint8_t *cur = qname;
    const rd__zrrset_t *answered = NULL;
    b->flags |= RD_F_AA;

    for (;;) {
        memcpy(seen[nseen++], cur, rd_name_len(cur));
        look_t lk;
        lookup(z, cur, qtype, &lk);
        const uint8_t *next = NULL;
        if (lk.kind == LK_CUT) {
            if (steps == 0) {
                r = referral(&a, lk.node);
                res = RD_ZR_REFERRAL;
            } else {
                res = RD_ZR_CNAME_OUT;
            }
            goto done;
        } else if (lk.kind == LK_DNAME) {
            const rd__zrrset_t *dn = rd__zone_rrset(z, lk.node, RD_TYPE_DNAME);
            if (rd_fails_assert(dn)) {
                r = RD_EBUG;
                goto done;
            }
            if ((r = put_rrset(&a, RD_SEC_AN, cur + lk.off, dn, UINT32_MAX)) < 0) goto done;
            const uint8_t *target = z->rdata + dn->rd_off;
            size_t tlen = rd_name_len(target);
            if (lk.off + tlen > RD_NAME_MAX) {
                rcode = RCODE_YXDOMAIN;
                res = RD_ZR_ANSWER;
                goto done;
            }
            uint8_t *nn = synth[synth_i];
            synth_i ^= 1;
            memcpy(nn, cur, lk.off);
            memcpy(nn + lk.off, target, tlen);
            if ((r = put_synth_cname(&a, cur, dn->ttl, nn)) < 0) goto done;
            next = nn;
        } else {
            uint32_t n = lk.node;
            if (lk.kind == LK_MISS) {
                /* RFC 4592 s3.3.1: only the wildcard child of the closest encloser. */
                const uint8_t *ce = cur + lk.off;
                size_t celen = rd_name_len(ce);
                uint8_t wc[RD_NAME_MAX];
                n = RD__ZNODE_NONE;
                if (celen + 2 <= RD_NAME_MAX) {
                    wc[0] = 1;
                    wc[1] = '*';
                    memcpy(wc + 2, ce, celen);
                    n = rd__zone_find(z, wc);
                }
                if (n == RD__ZNODE_NONE) {
                    res = RD_ZR_NXDOMAIN;
                    rcode = RD_RCODE_NXDOMAIN;
                    goto done;
                }
            }
            r = answer_node(&a, n, cur, qtype, &res, &next, &answered);
            if (r < 0) goto done;
            if (r == STEP_DONE) {
                r = 0;
                goto done;
            }
            r = 0;
        }
        /* Following a CNAME or a DNAME rewrite (RFC 1034 s4.3.2 step 3a). */
        steps++;
        res = RD_ZR_ANSWER;
        if (a.stop) goto done;
        if (!rd_name_in(next, z->origin)) {
            res = RD_ZR_CNAME_OUT;
            goto done;
        }
        for (int i = 0; i < nseen; i++)
            if (rd_name_eq(seen[i], next)) goto done; /* a loop: say what there is */
        if (steps >= RD__ZONE_CHAIN_MAX) {
            res = RD_ZR_CNAME_OUT;
            goto done;
        }
        cur = next;
    }
done:
    if (r >= 0 && (res == RD_ZR_NODATA || res == RD_ZR_NXDOMAIN)) {
        /* RFC 2308 s3: the SOA in authority, for the negative TTL. */
        const rd__zrrset_t *soa = rd__zone_rrset(z, 0, RD_TYPE_SOA);
        if (rd_fails_assert(soa))
            r = RD_EBUG;
        else
            r = put_rrset(&a, RD_SEC_NS, rd__znode_name(z, 0), soa, z->neg_ttl);
    }
    if (r >= 0 && answered && !a.stop) r = additional_for(&a, answered);
    b->flags = (uint16_t)((b->flags & ~0xF) | rcode);
    *result = res;
    return r < 0 ? r : 0;
}
