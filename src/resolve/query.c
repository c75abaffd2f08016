/* One query, validated and answered from local data. Order of checks follows what clients
 * need to learn first: unreadable -> drop; not a query -> NOTIMP; malformed -> FORMERR;
 * EDNS version -> BADVERS (RFC 6891 s6.1.3); then policy (zone transfers, classes) and data. */
#include <string.h>

#include "resolverd/query.h"
#include "wire/cursor.h"

#ifndef RD_VERSION
#define RD_VERSION "0.0.0"
#endif

/* RFC 8914 s4 info codes we use */
enum { EDE_OTHER = 0, EDE_PROHIBITED = 18, EDE_NOT_AUTHORITATIVE = 20, EDE_NOT_SUPPORTED = 21 };

typedef struct {
    bool edns;
    bool do_bit;
    uint16_t ede_code;
    const char *ede_text;
    uint16_t keepalive; /* 100 ms units, sent when > 0 */
    uint16_t udp_size;  /* what we advertise */
} reply_opt_t;

static void opt_build(const reply_opt_t *o, rd_edns_build_t *e, rd_edns_opt_t *opts,
                      uint8_t *ede_buf, size_t ede_cap, uint8_t *ka_buf)
{
    memset(e, 0, sizeof(*e));
    e->udp_size = o->udp_size;
    e->flags = o->do_bit ? RD_EDNS_DO : 0;
    e->opts = opts;
    size_t n = 0;
    if (o->keepalive) {
        ka_buf[0] = (uint8_t)(o->keepalive >> 8);
        ka_buf[1] = (uint8_t)o->keepalive;
        opts[n++] = (rd_edns_opt_t){RD_EDNS_KEEPALIVE, 2, ka_buf};
    }
    if (o->ede_text) {
        size_t tl = strlen(o->ede_text);
        if (tl > ede_cap - 2) tl = ede_cap - 2;
        ede_buf[0] = (uint8_t)(o->ede_code >> 8);
        ede_buf[1] = (uint8_t)o->ede_code;
        memcpy(ede_buf + 2, o->ede_text, tl);
        opts[n++] = (rd_edns_opt_t){RD_EDNS_EDE, (uint16_t)(2 + tl), ede_buf};
    }
    e->nopts = n;
}

/* A response with the header and (when readable) the question only. */
static int reply_bare(const rd_msg_t *m, bool have_q, uint16_t flags, int rcode,
                      const reply_opt_t *o, uint8_t *out, size_t cap, size_t *outlen)
{
    rd_mb_t b;
    rd_mb_init(&b, out, cap, 512, m->id, (uint16_t)(flags | (rcode & 0xF)));
    rd_edns_build_t e;
    rd_edns_opt_t opts[2];
    uint8_t ede[128], ka[2];
    if (o && o->edns) {
        opt_build(o, &e, opts, ede, sizeof(ede), ka);
        e.ext_rcode = (uint8_t)(rcode >> 4);
        if (rd_mb_reserve(&b, rd_edns_size(&e))) o = NULL;
    }
    if (have_q) {
        const rd_rr_t *q = rd_msg_rr(m, RD_SEC_QD, 0);
        uint8_t qname[RD_NAME_MAX];
        size_t pos = q->owner;
        if (rd_name_unpack(m->wire, m->len, &pos, qname, NULL) == 0)
            (void)rd_mb_question(&b, qname, q->type, q->rclass);
    }
    if (o && o->edns) (void)rd_mb_opt(&b, &e);
    *outlen = rd_mb_finish(&b);
    return RD_QUERY_SEND;
}

int rd_query_refuse(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, size_t *outlen)
{
    rd_msg_t m;
    if (qlen < RD_HDR_LEN || (rd_get16(q + 2) & RD_F_QR)) return RD_QUERY_DROP;
    bool have_q = rd_msg_parse_question(&m, q, qlen) == 0 && m.count[RD_SEC_QD] == 1;
    if (!have_q) {
        m.id = rd_get16(q);
        m.flags = rd_get16(q + 2);
    }
    uint16_t flags = RD_F_QR | (m.flags & (0x7800 | RD_F_RD | RD_F_CD)) | RD_F_RA;
    return reply_bare(&m, have_q, flags, RD_RCODE_REFUSED, NULL, out, cap, outlen);
}

static bool name_is(const uint8_t *qname, const char *text)
{
    uint8_t n[RD_NAME_MAX];
    if (rd_name_from_text(text, strlen(text), NULL, n, NULL)) return false;
    return rd_name_eq(qname, n);
}

/* CH TXT identity queries (RFC 4892): hidden unless configured. */
static int chaos_answer(const rd_view_t *v, const uint8_t *qname, uint16_t qtype, rd_mb_t *b)
{
    const rd_conf_t *c = v->conf;
    const char *text = NULL;
    if (qtype != RD_TYPE_TXT && qtype != RD_TYPE_ANY) return RD_RCODE_REFUSED;
    if (name_is(qname, "version.bind.") || name_is(qname, "version.server.")) {
        if (c->hide_version) return RD_RCODE_REFUSED;
        text = c->version ? c->version : "resolverd " RD_VERSION;
    } else if (name_is(qname, "id.server.") || name_is(qname, "hostname.bind.")) {
        if (c->hide_identity) return RD_RCODE_REFUSED;
        text = c->identity ? c->identity : "resolverd";
    } else {
        return RD_RCODE_REFUSED;
    }
    uint8_t rdata[256];
    size_t tl = strlen(text);
    if (tl > 255) tl = 255;
    rdata[0] = (uint8_t)tl;
    memcpy(rdata + 1, text, tl);
    (void)rd_mb_rr(b, RD_SEC_AN, qname, RD_TYPE_TXT, RD_CLASS_CH, 0, rdata, (uint16_t)(tl + 1));
    b->flags |= RD_F_AA;
    return RD_RCODE_NOERROR;
}

int rd_query_answer(const rd_view_t *v, const rd_query_env_t *env, const uint8_t *q, size_t qlen,
                    uint8_t *out, size_t cap, size_t *outlen, rd_query_info_t *info)
{
    if (qlen < RD_HDR_LEN || cap < 512) return RD_QUERY_DROP;
    uint16_t qflags = rd_get16(q + 2);
    if (qflags & RD_F_QR) return RD_QUERY_DROP; /* never answer a response: no loops */
    /* The header alone decides flags we echo (RFC 1035 s4.1.1; RD and CD copied). */
    uint16_t flags = RD_F_QR | (qflags & (0x7800 | RD_F_RD | RD_F_CD)) | RD_F_RA;

    rd_msg_t m;
    uint8_t arena_blk[2048];
    rd_arena_t arena;
    rd_arena_init(&arena, arena_blk, sizeof(arena_blk), 64 * 1024);
    int pr = rd_msg_parse(&m, q, qlen, &arena);
    if (pr) {
        /* Malformed: echo what we can read, FORMERR (NOTIMP if it is not even a query). */
        rd_msg_t h;
        bool have_q = rd_msg_parse_question(&h, q, qlen) == 0 && h.count[RD_SEC_QD] == 1;
        if (!have_q) h.id = rd_get16(q);
        int rc = RD_OPCODE(qflags) != RD_OPCODE_QUERY ? RD_RCODE_NOTIMP : RD_RCODE_FORMERR;
        rd_arena_free(&arena);
        return reply_bare(&h, have_q, flags, rc, NULL, out, cap, outlen);
    }
    reply_opt_t o = {0};
    if (m.edns.present) {
        o.edns = true;
        o.do_bit = (m.edns.flags & RD_EDNS_DO) != 0;
        o.udp_size = v->conf->edns_buffer_size;
        if (env->stream && m.edns.has_keepalive && env->keepalive_ms)
            o.keepalive = (uint16_t)(env->keepalive_ms / 100);
    }
    int ret;
    bool have_q = m.count[RD_SEC_QD] == 1;
    if (RD_OPCODE(qflags) != RD_OPCODE_QUERY) {
        ret = reply_bare(&m, have_q, flags, RD_RCODE_NOTIMP, &o, out, cap, outlen);
        goto done;
    }
    if (!have_q) {
        ret = reply_bare(&m, false, flags, RD_RCODE_FORMERR, &o, out, cap, outlen);
        goto done;
    }
    if (m.edns.present && m.edns.version > 0) {
        /* RFC 6891 s6.1.3: BADVERS, with our version (0) */
        ret = reply_bare(&m, true, flags, RD_RCODE_BADVERS, &o, out, cap, outlen);
        goto done;
    }
    const rd_rr_t *qr = rd_msg_rr(&m, RD_SEC_QD, 0);
    uint8_t qname[RD_NAME_MAX];
    size_t pos = qr->owner;
    (void)rd_name_unpack(m.wire, m.len, &pos, qname, NULL); /* validated by the parse */
    uint16_t qtype = qr->type, qclass = qr->rclass;

    if (qtype == RD_TYPE_AXFR || qtype == RD_TYPE_IXFR) {
        /* Zone transfers are an authoritative server's business; over UDP AXFR is not even
         * defined (RFC 5936 s4.2), hence NOTIMP there. */
        o.ede_code = EDE_PROHIBITED;
        o.ede_text = "zone transfers are not served";
        ret = reply_bare(&m, true, flags, env->stream ? RD_RCODE_REFUSED : RD_RCODE_NOTIMP, &o, out,
                         cap, outlen);
        goto done;
    }
    if (qtype == RD_TYPE_OPT || (qtype >= 128 && qtype <= 255 && qtype != RD_TYPE_ANY)) {
        /* meta and question-only types other than ANY have no data (RFC 6895 s3.1) */
        ret = reply_bare(&m, true, flags, qtype == RD_TYPE_OPT ? RD_RCODE_FORMERR : RD_RCODE_NOTIMP,
                         &o, out, cap, outlen);
        goto done;
    }

    size_t limit = 512;
    if (env->stream)
        limit = RD_MSG_MAX;
    else if (m.edns.present) {
        /* RFC 6891 s6.2.5: never more than the requester's size, never less than 512; and not
         * more than our own configured size (fragmentation: DNS flag day 2020) */
        limit = m.edns.udp_size < 512 ? 512 : m.edns.udp_size;
        if (limit > v->conf->edns_buffer_size) limit = v->conf->edns_buffer_size;
    }
    if (limit > cap) limit = cap;
    rd_mb_t b;
    rd_mb_init(&b, out, cap, limit, m.id, flags);
    rd_edns_build_t e;
    rd_edns_opt_t opts[2];
    uint8_t ede[128], ka[2];
    /* The EDE we might add is not known yet: reserve for the largest one we send. */
    if (o.edns) {
        reply_opt_t worst = o;
        worst.ede_code = EDE_OTHER;
        worst.ede_text = "recursion is not available in this build (local data only)";
        opt_build(&worst, &e, opts, ede, sizeof(ede), ka);
        (void)rd_mb_reserve(&b, rd_edns_size(&e));
    }
    (void)rd_mb_question(&b, qname, qtype, qclass);
    int rcode = RD_RCODE_NOERROR;
    if (qclass == RD_CLASS_CH) {
        rcode = chaos_answer(v, qname, qtype, &b);
    } else if (qclass != RD_CLASS_IN) {
        rcode = RD_RCODE_REFUSED;
        o.ede_code = EDE_NOT_SUPPORTED;
        o.ede_text = "only class IN is served";
    } else {
        const rd_zone_t *z = rd_zoneset_find(v->zones, qname);
        if (z) {
            int result;
            int r = rd_zone_answer(z, qname, qtype, o.do_bit, &b, &result);
            rcode = r ? RD_RCODE_SERVFAIL : RD_RCODE(b.flags);
            if (r) {
                o.ede_code = EDE_OTHER;
                o.ede_text = "internal error";
            }
        } else if (!(qflags & RD_F_RD) && !env->allow_snoop) {
            /* RD=0 and not local data: a resolver's cache is nobody's business but its
             * clients' (cache snooping); Unbound refuses it too unless allow_snoop. */
            rcode = RD_RCODE_REFUSED;
            o.ede_code = EDE_PROHIBITED;
            o.ede_text = "RD=0 queries are refused here (no cache snooping)";
        } else if (info) {
            memcpy(info->qname, qname, rd_name_len(qname));
            info->qtype = qtype;
            info->qclass = qclass;
            info->id = m.id;
            info->rd = (qflags & RD_F_RD) != 0;
            info->cd = (qflags & RD_F_CD) != 0;
            info->do_bit = o.do_bit;
            info->edns = o.edns;
            info->limit = (uint16_t)(limit > 65535 ? 65535 : limit);
            ret = RD_QUERY_RECURSE;
            goto done;
        } else {
            /* No resolver for this transport: RFC 8914 s4.22 "Not Supported" says why. */
            rcode = RD_RCODE_SERVFAIL;
            o.ede_code = EDE_NOT_SUPPORTED;
            o.ede_text = "recursion is not available in this build (local data only)";
        }
    }
    b.flags = (uint16_t)((b.flags & ~0xF) | (rcode & 0xF));
    if (o.edns) {
        opt_build(&o, &e, opts, ede, sizeof(ede), ka);
        (void)rd_mb_opt(&b, &e);
    }
    *outlen = rd_mb_finish(&b);
    ret = RD_QUERY_SEND;
done:
    rd_arena_free(&arena);
    return ret;
}
