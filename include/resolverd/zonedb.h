/* Local authoritative zones in memory and the answers they give (RFC 1034 s4.3.2 with
 * RFC 4592 wildcards, RFC 2308 negative answers), plus the built-in special-use zones
 * (RFC 6761 localhost/invalid, RFC 6303 private reverse zones). Read-only once built: shared
 * by every worker without locks. */
#ifndef RESOLVERD_ZONEDB_H
#define RESOLVERD_ZONEDB_H

#include "resolverd/msg.h"
#include "resolverd/zonefile.h"

typedef struct rd_zone rd_zone_t;
typedef struct rd_zoneset rd_zoneset_t;

/* Loads a zone from a master file. The file must hold exactly one SOA, at origin, and NS at
 * origin; records outside the zone are errors (reported, skipped). Errors go to on_error
 * (may be NULL) and the function returns RD_ESYNTAX if any, so a zone with errors is never
 * served half-loaded. */
int rd_zone_load_file(const char *path, const uint8_t *origin, rd_zone_err_cb on_error, void *ctx,
                      rd_zone_t **out);
int rd_zone_load_mem(const char *text, size_t len, const char *name, const uint8_t *origin,
                     rd_zone_err_cb on_error, void *ctx, rd_zone_t **out);
void rd_zone_free(rd_zone_t *z);
const uint8_t *rd_zone_origin(const rd_zone_t *z);
size_t rd_zone_rrset_count(const rd_zone_t *z);

/* A set of zones searched by longest match. It takes ownership of added zones. */
int rd_zoneset_new(rd_zoneset_t **out);
/* RD_EINVAL if a zone with that origin is already there. */
int rd_zoneset_add(rd_zoneset_t *s, rd_zone_t *z);
/* Adds the built-in special-use zones (localhost., invalid., RFC 6303 reverse zones...) that
 * no added zone equals or encloses: call after adding the configured zones. */
int rd_zoneset_add_builtin(rd_zoneset_t *s);
void rd_zoneset_free(rd_zoneset_t *s);
/* The zone that holds qname (deepest origin that qname is at or below), or NULL. */
const rd_zone_t *rd_zoneset_find(const rd_zoneset_t *s, const uint8_t *qname);

enum rd_zone_result {
    RD_ZR_ANSWER = 0, /* data (possibly after CNAMEs inside the zone) */
    RD_ZR_NODATA,     /* name exists, type does not: SOA in authority */
    RD_ZR_NXDOMAIN,   /* SOA in authority */
    RD_ZR_REFERRAL,   /* delegation below the apex: NS in authority, glue in additional */
    RD_ZR_CNAME_OUT,  /* CNAME/DNAME chain leaves the zone: what is there is in the answer */
};

/* Answers qname/qtype from z into b, whose question is already written: fills answer,
 * authority and additional sections (whole RRsets only: an RRset that does not fit is
 * left out and TC set, except in additional), and sets AA (not for referrals) and the rcode
 * in b->flags. dnssec_ok adds stored RRSIGs of each RRset. *result says what kind of answer
 * it was. Returns 0 or RD_E... on an internal error (the caller answers SERVFAIL). */
int rd_zone_answer(const rd_zone_t *z, const uint8_t *qname, uint16_t qtype, bool dnssec_ok,
                   rd_mb_t *b, int *result);

#endif
