/* DNS messages: parse into views over the wire buffer (no copying), EDNS(0), build with
 * compression and truncation, print like dig. */
#ifndef RESOLVERD_MSG_H
#define RESOLVERD_MSG_H

#include "resolverd/base.h"
#include "resolverd/name.h"
#include "resolverd/rrtype.h"

#define RD_HDR_LEN 12
#define RD_MSG_MAX 65535

/* Header flag bits (RFC 1035 s4.1.1, RFC 4035 s3.2) */
#define RD_F_QR          0x8000
#define RD_F_AA          0x0400
#define RD_F_TC          0x0200
#define RD_F_RD          0x0100
#define RD_F_RA          0x0080
#define RD_F_Z           0x0040
#define RD_F_AD          0x0020
#define RD_F_CD          0x0010
#define RD_OPCODE(flags) (((flags) >> 11) & 0xF)
#define RD_RCODE(flags)  ((flags)&0xF)

enum {
    RD_OPCODE_QUERY = 0,
    RD_OPCODE_IQUERY = 1,
    RD_OPCODE_STATUS = 2,
    RD_OPCODE_NOTIFY = 4,
    RD_OPCODE_UPDATE = 5
};
enum {
    RD_RCODE_NOERROR = 0,
    RD_RCODE_FORMERR = 1,
    RD_RCODE_SERVFAIL = 2,
    RD_RCODE_NXDOMAIN = 3,
    RD_RCODE_NOTIMP = 4,
    RD_RCODE_REFUSED = 5,
    RD_RCODE_BADVERS = 16
};

enum rd_section { RD_SEC_QD = 0, RD_SEC_AN = 1, RD_SEC_NS = 2, RD_SEC_AR = 3 };

/* EDNS option codes (IANA) */
enum {
    RD_EDNS_NSID = 3,
    RD_EDNS_CLIENT_SUBNET = 8,
    RD_EDNS_COOKIE = 10,
    RD_EDNS_KEEPALIVE = 11,
    RD_EDNS_PADDING = 12,
    RD_EDNS_EDE = 15
};
#define RD_EDNS_DO 0x8000

/* One record as offsets into the message. Owner and rdata names may be compressed: read them
 * with rd_name_unpack / rd_rdata_unpack. Parsing has already validated both. */
typedef struct {
    uint16_t owner; /* offset of the owner name */
    uint16_t type;
    uint16_t rclass;
    uint16_t rdlen;
    uint32_t ttl;   /* as received; RFC 2181 s8: callers treat > 2^31-1 as 0 */
    uint16_t rdata; /* offset of rdata */
} rd_rr_t;

typedef struct {
    uint16_t code;
    uint16_t len;
    const uint8_t *data;
} rd_edns_opt_t;

typedef struct {
    bool present;
    uint8_t version;
    uint8_t ext_rcode;   /* upper 8 bits of the 12-bit rcode */
    uint16_t udp_size;   /* as sent; RFC 6891 s6.2.3: treat < 512 as 512 */
    uint16_t flags;      /* RD_EDNS_DO ... */
    const uint8_t *opts; /* option area (OPT rdata) for rd_edns_opt_next */
    uint16_t opts_len;
    /* the options we act on, found once at parse time (first occurrence) */
    const uint8_t *cookie;
    uint8_t cookie_len; /* 8, or 16..40 (RFC 7873 s4) */
    const uint8_t *nsid;
    uint16_t nsid_len;
    bool has_nsid;
    bool has_padding;
    uint16_t padding_len;
    bool has_keepalive;
    bool keepalive_has_timeout;
    uint16_t keepalive_timeout; /* 100 ms units */
    bool has_ede;
    uint16_t ede_code;
    const uint8_t *ede_text;
    uint16_t ede_text_len;
} rd_edns_t;

#define RD_MSG_INLINE_RRS 32

typedef struct {
    const uint8_t *wire;
    size_t len;
    uint16_t id;
    uint16_t flags;    /* raw header flags */
    uint16_t count[4]; /* records per section (the OPT record stays counted in AR) */
    rd_rr_t *rrs;      /* all records, section by section; questions have rdlen 0, ttl 0 */
    uint16_t start[4]; /* index in rrs of each section's first record */
    int opt_index;     /* index in rrs of the OPT record, -1 when none */
    rd_edns_t edns;
    rd_rr_t inline_rrs[RD_MSG_INLINE_RRS];
} rd_msg_t;

/* Parses and fully validates a message: header, every name (compression), every rdata against
 * its type, OPT placement and options. Views point into wire, which must outlive m. Records
 * beyond RD_MSG_INLINE_RRS take memory from arena (which may be NULL: then RD_ENOMEM). */
int rd_msg_parse(rd_msg_t *m, const uint8_t *wire, size_t len, rd_arena_t *arena);
/* Parses only header and question: the cheap path for incoming queries. */
int rd_msg_parse_question(rd_msg_t *m, const uint8_t *wire, size_t len);

static inline const rd_rr_t *rd_msg_rr(const rd_msg_t *m, int section, unsigned i)
{
    return &m->rrs[m->start[section] + i];
}
/* 12-bit rcode including the EDNS extension. */
int rd_msg_rcode(const rd_msg_t *m);

/* Iterates EDNS options: *iter starts at 0. Returns 1 with *opt filled, 0 at the end. */
int rd_edns_opt_next(const rd_edns_t *e, size_t *iter, rd_edns_opt_t *opt);

/* ---- building ---- */

#define RD_COMPR_MAX 64 /* name positions remembered for compression */

typedef struct {
    uint8_t *buf;
    size_t cap;      /* size of buf */
    size_t limit;    /* message size limit (client's UDP size, 512, 65535) */
    size_t reserved; /* room kept back at the end (for OPT) */
    size_t pos;
    uint16_t id, flags;
    uint16_t count[4];
    int section; /* section being written; sections only go forward */
    bool full;   /* a record did not fit: later records are refused */
    uint8_t ncompr;
    uint16_t compr[RD_COMPR_MAX];       /* offsets of labels already written literally */
    uint8_t compr_parent[RD_COMPR_MAX]; /* entry of the rest of that name (0xFF: the root) */
} rd_mb_t;

/* limit is the most the message may take (capped at cap). */
void rd_mb_init(rd_mb_t *b, uint8_t *buf, size_t cap, size_t limit, uint16_t id, uint16_t flags);
/* Keeps n octets free at the end for a later rd_mb_opt. */
int rd_mb_reserve(rd_mb_t *b, size_t n);
int rd_mb_question(rd_mb_t *b, const uint8_t *qname, uint16_t qtype, uint16_t qclass);
/* Adds a record with uncompressed rdata; names in compressible fields are compressed. When it
 * does not fit, nothing of it is written, TC is set (answer and authority sections; the caller
 * may set it for additional data it needs) and RD_ESPACE returned; later records are refused. */
int rd_mb_rr(rd_mb_t *b, int section, const uint8_t *owner, uint16_t type, uint16_t rclass,
             uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
/* Marks and rolls back so a caller can drop a whole RRset that did not fit. */
typedef struct {
    size_t pos;
    uint16_t count[4];
    uint8_t ncompr;
    int section;
} rd_mb_mark_t;
void rd_mb_mark(const rd_mb_t *b, rd_mb_mark_t *mk);
void rd_mb_rollback(rd_mb_t *b, const rd_mb_mark_t *mk);

typedef struct {
    uint16_t udp_size;
    uint8_t version;
    uint8_t ext_rcode;
    uint16_t flags;
    const rd_edns_opt_t *opts; /* written in order */
    size_t nopts;
} rd_edns_build_t;

/* Size the OPT record will take (for rd_mb_reserve). */
size_t rd_edns_size(const rd_edns_build_t *e);
/* Appends OPT to the additional section using the reserved room. */
int rd_mb_opt(rd_mb_t *b, const rd_edns_build_t *e);
void rd_mb_set_flags(rd_mb_t *b, uint16_t flags);
/* Writes the header; returns the message length. */
size_t rd_mb_finish(rd_mb_t *b);

/* Rebuilds a parsed message (compression redone, limit applied). For tests and tools. */
int rd_msg_rebuild(const rd_msg_t *m, uint8_t *out, size_t cap, size_t limit, size_t *outlen);

/* ---- presentation ---- */

/* One record as a zone-file line (no newline): "owner TTL CLASS TYPE rdata". */
int rd_rr_to_text(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                  const uint8_t *rdata, size_t rdlen, char *out, size_t cap);
/* The whole message as dig prints it (header, OPT pseudosection, sections). Returns the text
 * length or an error; RD_ESPACE when cap is too small. */
int rd_msg_to_text(const rd_msg_t *m, char *out, size_t cap);
const char *rd_rcode_name(int rcode);
const char *rd_opcode_name(int opcode);

#endif
