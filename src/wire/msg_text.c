/* Presentation of records and whole messages, in the layout dig prints (logs and tests). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "resolverd/msg.h"
#include "wire/cursor.h"

typedef struct {
    char *out;
    size_t cap, n;
    int err;
} sbuf_t;

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    if (b->err) return;
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(b->out + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= b->cap - b->n) {
        b->err = RD_ESPACE;
        return;
    }
    b->n += (size_t)r;
}

/* Runs a text producer that writes at the end of the buffer and returns its length. */
#define SB_CALL(b, call)                                                                           \
    do {                                                                                           \
        if (!(b)->err) {                                                                           \
            char *out = (b)->out + (b)->n;                                                         \
            size_t cap = (b)->cap - (b)->n;                                                        \
            int r_ = (call);                                                                       \
            if (r_ < 0)                                                                            \
                (b)->err = r_;                                                                     \
            else                                                                                   \
                (b)->n += (size_t)r_;                                                              \
        }                                                                                          \
    } while (0)

const char *rd_rcode_name(int rcode)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                        "NXRRSET", "NOTAUTH", "NOTZONE"};
    if (rcode >= 0 && rcode < (int)(sizeof(names) / sizeof(names[0]))) return names[rcode];
    if (rcode == RD_RCODE_BADVERS) return "BADVERS";
    if (rcode == 23) return "BADCOOKIE";
    return NULL;
}

const char *rd_opcode_name(int opcode)
{
    switch (opcode) {
    case RD_OPCODE_QUERY: return "QUERY";
    case RD_OPCODE_IQUERY: return "IQUERY";
    case RD_OPCODE_STATUS: return "STATUS";
    case RD_OPCODE_NOTIFY: return "NOTIFY";
    case RD_OPCODE_UPDATE: return "UPDATE";
    default: return NULL;
    }
}

static void put_owner_type_class(sbuf_t *b, const uint8_t *owner, uint16_t type, uint16_t rclass,
                                 const uint32_t *ttl)
{
    SB_CALL(b, rd_name_to_text(owner, out, cap));
    sb_printf(b, "\t");
    if (ttl) sb_printf(b, "%u\t", (unsigned)*ttl);
    SB_CALL(b, rd_class_to_text(rclass, out, cap));
    sb_printf(b, "\t");
    SB_CALL(b, rd_rrtype_to_text(type, out, cap));
}

int rd_rr_to_text(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                  const uint8_t *rdata, size_t rdlen, char *out_, size_t cap_)
{
    sbuf_t b = {out_, cap_, 0, 0};
    if (cap_ == 0) return RD_ESPACE;
    out_[0] = 0;
    put_owner_type_class(&b, owner, type, rclass, &ttl);
    sb_printf(&b, "\t");
    SB_CALL(&b, rd_rdata_to_text(type, rdata, rdlen, out, cap));
    return b.err ? b.err : (int)b.n;
}

static void put_hex(sbuf_t *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) sb_printf(b, "%02X", p[i]);
}

static void put_edns(sbuf_t *b, const rd_msg_t *m)
{
    const rd_edns_t *e = &m->edns;
    sb_printf(b, ";; OPT PSEUDOSECTION:\n; EDNS: version: %u, flags:", e->version);
    if (e->flags & RD_EDNS_DO) sb_printf(b, " do");
    if (e->flags & ~RD_EDNS_DO) sb_printf(b, "; MBZ: 0x%04x", (unsigned)(e->flags & ~RD_EDNS_DO));
    sb_printf(b, "; udp: %u\n", e->udp_size);
    size_t it = 0;
    rd_edns_opt_t o;
    while (rd_edns_opt_next(e, &it, &o)) {
        switch (o.code) {
        case RD_EDNS_COOKIE:
            sb_printf(b, "; COOKIE: ");
            put_hex(b, o.data, o.len < 8 ? o.len : 8);
            if (o.len > 8) put_hex(b, o.data + 8, o.len - 8u);
            sb_printf(b, "\n");
            break;
        case RD_EDNS_NSID:
            sb_printf(b, "; NSID: ");
            put_hex(b, o.data, o.len);
            sb_printf(b, "\n");
            break;
        case RD_EDNS_PADDING: sb_printf(b, "; PAD: (%u bytes)\n", o.len); break;
        case RD_EDNS_KEEPALIVE:
            if (o.len == 2)
                sb_printf(b, "; TCP-KEEPALIVE: %u.%u secs\n", rd_get16(o.data) / 10,
                          rd_get16(o.data) % 10);
            else
                sb_printf(b, "; TCP-KEEPALIVE\n");
            break;
        case RD_EDNS_EDE:
            if (o.len >= 2) {
                sb_printf(b, "; EDE: %u", rd_get16(o.data));
                if (o.len > 2) {
                    sb_printf(b, " (");
                    for (size_t i = 2; i < o.len; i++) {
                        uint8_t c = o.data[i];
                        if (c >= 0x20 && c < 0x7F)
                            sb_printf(b, "%c", c);
                        else
                            sb_printf(b, "\\%03u", c);
                    }
                    sb_printf(b, ")");
                }
                sb_printf(b, "\n");
            }
            break;
        default:
            sb_printf(b, "; OPT=%u: ", o.code);
            put_hex(b, o.data, o.len);
            sb_printf(b, "\n");
        }
    }
}

int rd_msg_to_text(const rd_msg_t *m, char *out_, size_t cap_)
{
    sbuf_t b = {out_, cap_, 0, 0};
    if (cap_ == 0) return RD_ESPACE;
    out_[0] = 0;
    int rcode = rd_msg_rcode(m), opcode = RD_OPCODE(m->flags);
    const char *rn = rd_rcode_name(rcode), *on = rd_opcode_name(opcode);
    sb_printf(&b, ";; ->>HEADER<<- opcode: ");
    if (on)
        sb_printf(&b, "%s", on);
    else
        sb_printf(&b, "RESERVED%d", opcode);
    if (rn)
        sb_printf(&b, ", status: %s", rn);
    else
        sb_printf(&b, ", status: RESERVED%d", rcode);
    sb_printf(&b, ", id: %u\n;; flags:", m->id);
    static const struct {
        uint16_t bit;
        const char *name;
    } fl[] = {{RD_F_QR, "qr"}, {RD_F_AA, "aa"}, {RD_F_TC, "tc"}, {RD_F_RD, "rd"},
              {RD_F_RA, "ra"}, {RD_F_AD, "ad"}, {RD_F_CD, "cd"}};
    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
        if (m->flags & fl[i].bit) sb_printf(&b, " %s", fl[i].name);
    unsigned ar = m->count[RD_SEC_AR];
    sb_printf(&b, "; QUERY: %u, ANSWER: %u, AUTHORITY: %u, ADDITIONAL: %u\n", m->count[0],
              m->count[1], m->count[2], ar);
    if (m->edns.present) {
        sb_printf(&b, "\n");
        put_edns(&b, m);
    }
    static const char *const secname[] = {"QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL"};
    uint8_t owner[RD_NAME_MAX];
    uint8_t rdata[RD_MSG_MAX];
    for (int s = 0; s < 4; s++) {
        unsigned n = m->count[s] - (s == RD_SEC_AR && m->opt_index >= 0 ? 1u : 0u);
        if (n == 0) continue;
        sb_printf(&b, "%s;; %s SECTION:\n", s == 0 && !m->edns.present ? "\n" : "\n", secname[s]);
        for (unsigned i = 0; i < m->count[s]; i++) {
            const rd_rr_t *rr = rd_msg_rr(m, s, i);
            if (rr->type == RD_TYPE_OPT) continue;
            size_t pos = rr->owner, rl = 0;
            int r = rd_name_unpack(m->wire, m->len, &pos, owner, NULL);
            if (r) return r;
            if (s == RD_SEC_QD) {
                sb_printf(&b, ";");
                put_owner_type_class(&b, owner, rr->type, rr->rclass, NULL);
                sb_printf(&b, "\n");
                continue;
            }
            r = rd_rdata_unpack(m->wire, m->len, rr->rdata, rr->rdlen, rr->type, rdata,
                                sizeof(rdata), &rl);
            if (r) return r;
            SB_CALL(&b, rd_rr_to_text(owner, rr->type, rr->rclass, rr->ttl, rdata, rl, out, cap));
            sb_printf(&b, "\n");
        }
    }
    return b.err ? b.err : (int)b.n;
}
