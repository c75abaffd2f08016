/* The one RR type table: a descriptor per type drives parse, build, compare, print and
 * presentation-format reading. Adding a type is one row in src/wire/rrtype.c. */
#ifndef RESOLVERD_RRTYPE_H
#define RESOLVERD_RRTYPE_H

#include "resolverd/base.h"

enum {
    RD_TYPE_A = 1,
    RD_TYPE_NS = 2,
    RD_TYPE_CNAME = 5,
    RD_TYPE_SOA = 6,
    RD_TYPE_NULL = 10,
    RD_TYPE_PTR = 12,
    RD_TYPE_HINFO = 13,
    RD_TYPE_MX = 15,
    RD_TYPE_TXT = 16,
    RD_TYPE_RP = 17,
    RD_TYPE_AFSDB = 18,
    RD_TYPE_AAAA = 28,
    RD_TYPE_SRV = 33,
    RD_TYPE_NAPTR = 35,
    RD_TYPE_KX = 36,
    RD_TYPE_DNAME = 39,
    RD_TYPE_OPT = 41,
    RD_TYPE_DS = 43,
    RD_TYPE_SSHFP = 44,
    RD_TYPE_RRSIG = 46,
    RD_TYPE_NSEC = 47,
    RD_TYPE_DNSKEY = 48,
    RD_TYPE_DHCID = 49,
    RD_TYPE_NSEC3 = 50,
    RD_TYPE_NSEC3PARAM = 51,
    RD_TYPE_TLSA = 52,
    RD_TYPE_SMIMEA = 53,
    RD_TYPE_CDS = 59,
    RD_TYPE_CDNSKEY = 60,
    RD_TYPE_OPENPGPKEY = 61,
    RD_TYPE_CSYNC = 62,
    RD_TYPE_ZONEMD = 63,
    RD_TYPE_SVCB = 64,
    RD_TYPE_HTTPS = 65,
    RD_TYPE_SPF = 99,
    RD_TYPE_IXFR = 251,
    RD_TYPE_AXFR = 252,
    RD_TYPE_ANY = 255,
    RD_TYPE_URI = 256,
    RD_TYPE_CAA = 257,
};

enum { RD_CLASS_IN = 1, RD_CLASS_CH = 3, RD_CLASS_HS = 4, RD_CLASS_NONE = 254, RD_CLASS_ANY = 255 };

/* Rdata field kinds, in wire order. */
enum rd_rdf {
    RD_RDF_END = 0,
    RD_RDF_NAME_C, /* name, compressible (RFC 3597 s4: NS CNAME SOA PTR MX ...) */
    RD_RDF_NAME,   /* name, never compressed on output; decompressed on parse */
    RD_RDF_U8,
    RD_RDF_U16,
    RD_RDF_U32,
    RD_RDF_TTL,       /* u32 (SOA timers); text accepts 1h2m units */
    RD_RDF_A,         /* 4 octets */
    RD_RDF_AAAA,      /* 16 octets */
    RD_RDF_TYPE,      /* u16 printed as a type mnemonic (RRSIG type covered) */
    RD_RDF_TIME,      /* u32 printed as YYYYMMDDHHmmSS (RRSIG, RFC 4034 s3.2) */
    RD_RDF_STR,       /* one <character-string> */
    RD_RDF_STRS,      /* one or more <character-string>s to the end (TXT) */
    RD_RDF_B64,       /* rest of rdata, base64 (may span several text tokens) */
    RD_RDF_HEX,       /* rest of rdata, hex (may be empty: printed as nothing) */
    RD_RDF_SALT,      /* u8 length + octets, hex, "-" when empty (NSEC3) */
    RD_RDF_B32,       /* u8 length + octets, base32hex (NSEC3 next hashed owner) */
    RD_RDF_BITMAP,    /* rest: NSEC type bitmap windows (RFC 4034 s4.1.2) */
    RD_RDF_SVCPARAMS, /* rest: SVCB SvcParams (RFC 9460) */
    RD_RDF_TAG,       /* u8 length + token (CAA tag) */
    RD_RDF_QREST,     /* rest of rdata as one quoted string (CAA value, URI target) */
    RD_RDF_OPAQUE,    /* rest of rdata, no known structure */
};

#define RD_RDF_MAX 10

typedef struct {
    uint16_t type;
    const char *name;               /* mnemonic, NULL for unknown types */
    uint8_t fields[RD_RDF_MAX + 1]; /* RD_RDF_END terminated */
    uint8_t flags;                  /* RD_RRT_* */
} rd_rrtype_desc_t;

#define RD_RRT_META 0x01 /* OPT, AXFR, ANY...: never in zone data */
#define RD_RRT_CANONLOW                                                                            \
    0x02 /* RFC 4034 s6.2 (as updated by RFC 6840 s5.1): names in rdata                            \
            lowercased in canonical form */

/* Never NULL: unknown types get a generic descriptor (name NULL, one RD_RDF_OPAQUE field). */
const rd_rrtype_desc_t *rd_rrtype(uint16_t type);
/* Mnemonic or NULL. */
const char *rd_rrtype_name(uint16_t type);
/* "A", "aaaa", "TYPE65534" -> number. */
int rd_rrtype_from_text(const char *s, size_t len, uint16_t *type);
/* Mnemonic or TYPEnnn; returns the length or RD_ESPACE. */
int rd_rrtype_to_text(uint16_t type, char *out, size_t cap);
int rd_class_from_text(const char *s, size_t len, uint16_t *rclass);
int rd_class_to_text(uint16_t rclass, char *out, size_t cap);
/* Iterates every known type (for tests): returns NULL past the end. */
const rd_rrtype_desc_t *rd_rrtype_at(size_t i);

/* ---- rdata in wire form ---- */

/* Checks rdata at msg[pos..pos+rdlen) against the type's layout; names may be compressed
 * (pointers into msg). RD_ERDATA when fields do not fill RDLENGTH exactly. */
int rd_rdata_check(const uint8_t *msg, size_t msglen, size_t pos, uint16_t rdlen, uint16_t type);
/* Copies checked rdata in uncompressed form into out; *outlen gets its length. */
int rd_rdata_unpack(const uint8_t *msg, size_t msglen, size_t pos, uint16_t rdlen, uint16_t type,
                    uint8_t *out, size_t cap, size_t *outlen);
/* Canonical rdata order (RFC 4034 s6.3) of two uncompressed rdatas of one type. */
int rd_rdata_cmp(uint16_t type, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* Lowercases the names in an uncompressed rdata in place if the type's canonical form wants. */
void rd_rdata_canonicalize(uint16_t type, uint8_t *rdata, size_t len);

/* ---- rdata in presentation form (src/wire/rdata_text.c) ---- */

/* A token of presentation text: escapes are still in place; quoted tokens come without their
 * quotes. */
typedef struct {
    const char *s;
    size_t len;
    bool quoted;
} rd_tok_t;

/* Prints uncompressed rdata as in a zone file; types with no descriptor and rdata that does
 * not fit its descriptor use RFC 3597 "\# len hex". Returns the text length or an error. */
int rd_rdata_to_text(uint16_t type, const uint8_t *rdata, size_t len, char *out, size_t cap);
/* Reads rdata from tokens (RFC 3597 "\# len hex" accepted for every type). Relative names
 * use origin. On error *errtok is the index of the offending token. */
int rd_rdata_from_text(uint16_t type, const rd_tok_t *toks, size_t ntok, const uint8_t *origin,
                       uint8_t *out, size_t cap, size_t *outlen, size_t *errtok);

#endif
