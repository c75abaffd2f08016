/* The response to the client once a request is done: RA set, AA clear (we are not the
 * authority), RD copied (RFC 1035 s4.1.1), the answer chain, the SOA for negative answers
 * (RFC 2308 s3) and, for DO=1, their NSEC / NSEC3 proof (RFC 4035 s3.1.3), SERVFAIL with an
 * Extended DNS Error (RFC 8914) when resolution failed. */
#include <string.h>

#include "resolve/iter_int.h"

/* RFC 2308 s5 / RFC 1035 s3.2.1: the negative TTL is what the SOA goes out with. */
static uint32_t neg_ttl(const rd_cache_neg_t *neg)
{
    return neg->ttl;
}

/* One RRset and its RRSIGs, whole or not at all (RFC 2181 s9; RFC 4035 s3.1.1: an RRset
 * whose RRSIGs do not fit is not sent without them, TC is set instead). */
static int put_rrset(rd_mb_t *b, int sec, const uint8_t *owner, uint16_t type, uint16_t rclass,
                     uint32_t ttl, const rd_cache_rdata_t *rd, unsigned n,
                     const rd_cache_rdata_t *sig, unsigned nsig)
{
    rd_mb_mark_t mk;
    rd_mb_mark(b, &mk);
    for (unsigned j = 0; j < n + nsig; j++) {
        const rd_cache_rdata_t *d = j < n ? &rd[j] : &sig[j - n];
        int r = rd_mb_rr(b, sec, owner, j < n ? type : RD_TYPE_RRSIG, rclass, ttl, d->data, d->len);
        if (r == RD_ESPACE) {
            rd_mb_rollback(b, &mk); /* TC is set by rd_mb_rr */
            return 0;
        }
        if (r != 0) return r;
    }
    return 0;
}

int rd_req_answer(const rd_req_t *req, uint16_t client_id, const uint8_t *client_qname,
                  bool client_rd, bool client_edns, uint16_t udp_limit, uint8_t *out, size_t cap,
                  size_t *len)
{
    if (!req->done || !client_qname || !out || !len) return RD_EINVAL;
    int rcode = req->rcode;
    uint16_t flags = (uint16_t)(RD_F_QR | RD_F_RA | (client_rd ? RD_F_RD : 0) |
                                (req->cd ? RD_F_CD : 0) | (rcode & 0xF));
    size_t limit = udp_limit < 512 ? 512 : udp_limit;
    if (!client_edns && limit > 512 && udp_limit != RD_MSG_MAX) limit = 512;
    rd_mb_t b;
    rd_mb_init(&b, out, cap, limit, client_id, flags);

    rd_edns_build_t e = {.udp_size = RD_RES_EDNS_UDP, .flags = req->do_bit ? RD_EDNS_DO : 0};
    rd_edns_opt_t opt;
    uint8_t ede[2 + 128];
    if (client_edns && rcode == RD_RCODE_SERVFAIL && req->ede >= 0) {
        const char *text = req->reason ? req->reason : "";
        size_t tl = strlen(text);
        if (tl > sizeof(ede) - 2) tl = sizeof(ede) - 2;
        ede[0] = (uint8_t)(req->ede >> 8);
        ede[1] = (uint8_t)req->ede;
        memcpy(ede + 2, text, tl);
        opt = (rd_edns_opt_t){RD_EDNS_EDE, (uint16_t)(2 + tl), ede};
        e.opts = &opt;
        e.nopts = 1;
    }
    int r = 0;
    if (client_edns) r = rd_mb_reserve(&b, rd_edns_size(&e));
    if (r == 0) r = rd_mb_question(&b, client_qname, req->qtype, req->qclass);
    if (r != 0) return r;

    /* RFC 3225 s3 / RFC 4035 s3.2.1: RRSIGs only to a client that set DO (which needs EDNS). */
    bool sigs = req->do_bit && client_edns;
    if (rcode != RD_RCODE_SERVFAIL) {
        for (unsigned i = 0; i < req->nans && !b.full; i++) {
            const rd_cache_rrset_t *rs = &req->ans[i];
            /* The client's spelling of its own name (RFC 4343), compressed to the question. */
            const uint8_t *owner = rd_name_eq(rs->owner, client_qname) ? client_qname : rs->owner;
            r = put_rrset(&b, RD_SEC_AN, owner, rs->type, rs->rclass, rs->ttl, rs->rdata, rs->count,
                          sigs ? rs->rrsigs : NULL, sigs ? rs->nsigs : 0);
            if (r != 0) return r;
        }
        for (unsigned i = 0; i < req->nref && !b.full; i++) {
            /* a norec referral: NS in authority, then what fits of the addresses */
            const rd_cache_rrset_t *rs = &req->ref[i];
            r = put_rrset(&b, i == 0 ? RD_SEC_NS : RD_SEC_AR, rs->owner, rs->type, rs->rclass,
                          rs->ttl, rs->rdata, rs->count, sigs ? rs->rrsigs : NULL,
                          sigs ? rs->nsigs : 0);
            if (r != 0) return r;
        }
        if (req->neg && !b.full) {
            const rd_cache_neg_t *n = req->neg;
            r = put_rrset(&b, RD_SEC_NS, n->soa_owner, RD_TYPE_SOA, n->rclass, neg_ttl(n), &n->soa,
                          1, sigs ? n->rrsigs : NULL, sigs ? n->nsigs : 0);
            if (r != 0) return r;
            /* RFC 4035 s3.1.3: the NSEC / NSEC3 proof and its RRSIGs after the SOA, to DO=1
             * clients only; with the negative TTL (RFC 9077 s3). What does not fit sets TC. */
            for (unsigned i = 0; sigs && i < n->nproof && !b.full; i++) {
                const rd_cache_rrset_t *ps = &n->proof[i];
                r = put_rrset(&b, RD_SEC_NS, ps->owner, ps->type, n->rclass, neg_ttl(n), ps->rdata,
                              ps->count, ps->rrsigs, ps->nsigs);
                if (r != 0) return r;
            }
        }
    }
    if (client_edns && (r = rd_mb_opt(&b, &e)) != 0) return r;
    *len = rd_mb_finish(&b);
    return 0;
}
