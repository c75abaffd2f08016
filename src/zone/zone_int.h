/* Internals shared by the zone database files: the in-memory layout of a loaded zone
 * (zonedb.c builds it, zone_answer.c reads it, special.c feeds it built-in text).
 *
 * A zone is read-only once loaded. Its nodes (one per owner name, plus one per empty
 * non-terminal) are kept in canonical order (RFC 4034 s6.1) in one array; an open-addressing
 * hash of the names gives exact lookups. Each node points at a run of RRsets sorted by type;
 * each RRset at a run of records whose rdata lie back to back in one blob, their lengths in a
 * parallel array. RRSIGs are an ordinary RRset at their node (so qtype RRSIG works) sorted
 * by type covered, and every covered RRset also points at its own slice of that RRset, so an
 * answer adds the signatures of an RRset without searching. */
#ifndef RD_ZONE_ZONE_INT_H
#define RD_ZONE_ZONE_INT_H

#include "base/limits.h"
#include "resolverd/zonedb.h"

/* Limits: src/base/limits.h (RD__ZONE_*). */

#define RD__ZNODE_NONE UINT32_MAX

/* Node flags */
#define RD__ZN_DELEG 0x01 /* NS below the apex: a zone cut (RFC 1034 s4.2.1) */
#define RD__ZN_CNAME 0x02
#define RD__ZN_DNAME 0x04

typedef struct {
    uint32_t rd_off;     /* first rdata octet in z->rdata */
    uint32_t rec;        /* index of the first record's length in z->rdlen */
    uint32_t count;      /* records */
    uint32_t ttl;        /* minimum of the records' TTLs (RFC 2181 s5.2) */
    uint32_t sig_rd_off; /* the RRSIGs covering this type, a slice of the node's RRSIG RRset */
    uint32_t sig_rec;
    uint32_t sig_count;
    uint32_t sig_ttl;
    uint16_t type;
} rd__zrrset_t;

typedef struct {
    uint32_t name;    /* offset of the owner in z->names, in the case first seen in the file */
    uint32_t rrset;   /* first RRset in z->rrsets */
    uint32_t nrrsets; /* 0: an empty non-terminal (RFC 8020 s2: it exists) */
    uint32_t flags;   /* RD__ZN_* */
} rd__znode_t;

typedef struct {
    uint32_t hash;
    uint32_t node; /* node index + 1; 0 is an empty slot */
} rd__zslot_t;

struct rd_zone {
    uint8_t origin[RD_NAME_MAX];
    int origin_labels;
    uint16_t rclass;
    uint32_t neg_ttl; /* RFC 2308 s5: min(SOA TTL, SOA MINIMUM) */
    rd__znode_t *nodes;
    uint32_t nnodes; /* nodes[0] is the apex */
    rd__zrrset_t *rrsets;
    uint32_t nrrsets;
    uint16_t *rdlen;
    uint8_t *rdata;
    uint8_t *names;
    rd__zslot_t *slots;
    uint32_t slot_mask; /* slots - 1, a power of two minus one */
};

/* Node index of name (any case), or RD__ZNODE_NONE. */
uint32_t rd__zone_find(const rd_zone_t *z, const uint8_t *name);
/* The RRset of type at node n, or NULL. */
const rd__zrrset_t *rd__zone_rrset(const rd_zone_t *z, uint32_t n, uint16_t type);

static inline const uint8_t *rd__znode_name(const rd_zone_t *z, uint32_t n)
{
    return z->names + z->nodes[n].name;
}

#endif
