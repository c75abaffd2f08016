/* The request path shared by every transport: a query in wire form in, a response out.
 * Validation (RFC 1035, RFC 6891, RFC 8482), special-use and local zones, and (from issue 5)
 * the resolver. No I/O. */
#ifndef RESOLVERD_QUERY_H
#define RESOLVERD_QUERY_H

#include "resolverd/conf.h"
#include "resolverd/msg.h"
#include "resolverd/zonedb.h"

/* What every worker answers from: the configuration and the zones loaded from it, immutable
 * and shared; replaced as a whole on reload, freed when the last user lets go. */
typedef struct rd_view {
    rd_conf_t *conf;
    rd_zoneset_t *zones;
    int refs; /* atomic */
} rd_view_t;

typedef int (*rd_view_err_cb)(void *ctx, const char *msg);

/* Builds a view: loads every configured zone and the built-in special-use zones. Errors are
 * reported through err (one message per problem, "file:line:col: ..."); any error fails. Takes
 * ownership of conf on success. */
int rd_view_new(rd_conf_t *conf, rd_view_err_cb err, void *ctx, rd_view_t **out);
rd_view_t *rd_view_ref(rd_view_t *v);
void rd_view_unref(rd_view_t *v);

enum { RD_QUERY_SEND = 0, RD_QUERY_DROP = 1, RD_QUERY_RECURSE = 2 };

/* A valid query that local data does not answer: what resolution needs to know, and what the
 * response must echo. */
typedef struct {
    uint8_t qname[RD_NAME_MAX]; /* as the client wrote it (case kept for the echo) */
    uint16_t qtype, qclass;
    uint16_t id;
    bool rd, cd, do_bit; /* rd false: allow_snoop, answer from the cache only (rd_req_set_norec) */
    bool edns;
    uint16_t limit; /* size the response may take (UDP: the client's EDNS size capped by ours) */
} rd_query_info_t;

/* Transport facts the answer depends on. */
typedef struct {
    bool stream;           /* TCP/DoT/DoH: no 512 limit, TC never needed */
    uint16_t keepalive_ms; /* stream idle timeout to advertise (RFC 7828); 0: none */
    bool allow_snoop;      /* the client's access-control action is allow_snoop */
} rd_query_env_t;

/* Answers one query. Returns RD_QUERY_SEND with the response in out[0..*outlen), or
 * RD_QUERY_DROP when nothing should be sent (unreadable header, or a response). cap (>= 512)
 * bounds the response: RD_MSG_MAX for streams, the largest EDNS size we allow for UDP. With
 * info non-NULL, a query that needs resolution returns RD_QUERY_RECURSE with info filled and
 * nothing in out; with info NULL it gets SERVFAIL + EDE (no resolver available). A query with
 * RD=0 that local data does not answer is REFUSED with EDE 18 (Prohibited: no cache snooping),
 * unless env->allow_snoop; then it goes to the resolver with info->rd false. */
int rd_query_answer(const rd_view_t *v, const rd_query_env_t *env, const uint8_t *q, size_t qlen,
                    uint8_t *out, size_t cap, size_t *outlen, rd_query_info_t *info);

/* A REFUSED answer (access control): header and question echoed when readable. */
int rd_query_refuse(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, size_t *outlen);

#endif
