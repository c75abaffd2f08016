/* The iterative resolution engine (issue 5, RFC 1034 s5.3.3): no I/O (house rule 7).
 *
 * One rd_res_t per worker holds what every request shares: the RRset cache, the root hints
 * (parsed once, immutable), options and an injected random source. One rd_req_t is one client
 * question. The shell drives it:
 *
 *     rd_req_new(res, qname, qtype, qclass, do, cd, now, &req);
 *     for (;;) {
 *         r = rd_req_step(req, now, &act);
 *         if (r == RD_RES_DONE) break;          // rd_req_answer(), rd_req_free()
 *         if (r == RD_RES_SEND) send act.wire to act.server (UDP or TCP), arm act.timeout_ms;
 *         // later, from the loop:
 *         //   rd_req_reply(req, act.token, &from, wire, len, now)  (RD_RES_IGNORED: keep waiting)
 *         //   rd_req_timeout(req, act.token, now)
 *         // and then rd_req_step() again.
 *     }
 *
 * One upstream query is outstanding per request at a time. Time is in milliseconds from any
 * fixed origin (the cache gets now_ms / 1000). */
#ifndef RESOLVERD_RESOLVE_H
#define RESOLVERD_RESOLVE_H

#include "resolverd/cache.h"
#include "resolverd/conf.h"
#include "resolverd/msg.h"
#include "resolverd/zonedb.h"

typedef struct rd_res rd_res_t;
typedef struct rd_req rd_req_t;

/* Random source: query IDs and server choice. Production passes the CSPRNG; tests a seeded
 * generator so that runs repeat exactly. */
typedef uint32_t (*rd_res_rand_fn)(void *ctx);

/* Options; a zero field takes the default from src/base/limits.h. */
typedef struct {
    bool allow_loopback_upstreams; /* false: servers in 127/8 and ::1 are never contacted */
    bool no_ipv6;                  /* never target IPv6 servers */
    uint16_t upstream_port;        /* 0: 53 (tests may move it) */
    bool qname_min;       /* RFC 9156 QNAME minimisation, relaxed (opt-in in this version) */
    unsigned max_queries; /* upstream queries per client query (RD_RES_QUERIES_MAX) */
    unsigned max_queries_per_cut; /* per zone cut (RD_RES_QUERIES_PER_CUT) */
    unsigned max_referrals;       /* referrals followed per goal (RD_RES_REFERRALS_MAX) */
    unsigned max_cname;           /* CNAME links per client query (RD_RES_CNAME_MAX) */
    unsigned time_limit_ms;       /* per client query (RD_RES_TIME_MAX_MS) */
    unsigned timeout_ms;          /* per upstream try (RD_RES_TIMEOUT_MS) */
    /* Issue 5 stub: and forward: zones, copied by rd_res_new (the arrays need not outlive it).
     * For a name the longest matching zone wins ("." matches everything). A stub zone's cut
     * starts at its servers (RD=0, referrals below followed); a forward zone's question goes
     * with RD=1 to its udp:// and tcp:// upstreams and the answer is final. Addresses named
     * here are contacted even when allow_loopback_upstreams is false (the operator named
     * them). tls:// and https:// upstreams (issue 8) are sent as actions with that transport
     * and the upstream's index. An https:// upstream whose host is a name and that has no
     * bootstrap address (@IP) gets HOST's address like a glueless NS name: from the cache
     * (its TTL decides when it is looked up again), else by a lookup: through the upstreams
     * that have an address of the forward zone holding HOST; by recursion from the root for
     * that name only when HOST is under no forward zone, or when it is one of its own zone's
     * upstreams' hosts and none of them has an address (a host inside the zone it serves),
     * reported once per upstream in rd_req_result_t.warn. HOST under a forward zone whose
     * upstreams all need their own hosts looked up: those are looked up first (one level
     * deep); a name of a forward zone without forward-first never goes out by recursion. A
     * lookup that failed is not repeated during its RFC 9520 hold while another upstream of
     * the zone has an address. Its actions carry the address found in server (the URL's
     * port). */
    const rd_conf_stub_t *stubs;
    size_t nstubs;
    const rd_conf_forward_t *forwards;
    size_t nforwards;
    /* Local data (the zones clients are answered from, built-in ones included), may be NULL:
     * when a zone of it holds such an upstream's HOST, its A/AAAA records there are the
     * addresses (as @IP would be; none: the upstream cannot be used) and HOST is never looked
     * up. Read by rd_res_new only. */
    const rd_zoneset_t *local;
} rd_res_opts_t;

/* hints: master-file text of the root hints (rd_root_hints_default() or a file's contents),
 * parsed now: NS records at "." and the A/AAAA of those names. RD_ESYNTAX when it has errors
 * or no usable root server. cache is shared and must outlive the context (and every request
 * made from it). opts may be NULL.
 * Root priming (RFC 8109): the first request that needs the root while the cache holds no
 * root NS set first asks a hints server ". NS" (RD=0, EDNS, DO=1) and caches the answer's NS
 * set (rank AUTH_ANSWER) and the addresses of those names from the additional section; the
 * root's servers then come from the cache. One priming at a time per context (the others use
 * the hints meanwhile); when it fails, the hints are used and priming is retried after
 * RD_RES_PRIME_RETRY_MS, doubling up to RD_RES_PRIME_RETRY_MAX_MS. When the cached root NS
 * set expires, the next request primes again. */
int rd_res_new(rd_cache_t *cache, const char *hints, size_t hints_len, const rd_res_opts_t *opts,
               rd_res_rand_fn rand32, void *rand_ctx, rd_res_t **out);
void rd_res_free(rd_res_t *res);

/* rd_req_step results */
enum {
    RD_RES_SEND = 1, /* act describes one upstream query to send */
    RD_RES_WAIT = 2, /* a query is outstanding: wait for rd_req_reply / rd_req_timeout */
    RD_RES_DONE = 3, /* the result is ready: rd_req_answer / rd_req_result */
};
/* rd_req_reply / rd_req_timeout results besides 0 (consumed: call rd_req_step) */
enum { RD_RES_IGNORED = 1 /* not for the outstanding query: keep waiting */ };

typedef struct {
    rd_addr_t server;
    bool tcp; /* a stream transport (TCP, TLS or HTTPS): no 0x20, no TC retry */
    /* How to reach server (enum rd_upstream_proto): UDP or TCP for authoritative servers;
     * for a forward: upstream its configured scheme (issue 8), and upstream is its index for
     * rd_res_upstream() (-1 for anything else). */
    uint8_t transport;
    int upstream;
    const uint8_t *wire; /* the query, owned by the request, valid until the next step */
    size_t len;
    uint16_t id;
    uint32_t timeout_ms;
    uint32_t token; /* give it back with the reply or the timeout */
} rd_res_action_t;

int rd_req_new(rd_res_t *res, const uint8_t *qname, uint16_t qtype, uint16_t qclass, bool do_bit,
               bool cd, uint64_t now_ms, rd_req_t **out);
/* A query with RD=0 from a client allowed to snoop (access-control allow_snoop), called before
 * the first rd_req_step: answered from the cache only, never with an upstream query. What the
 * cache lacks is answered with the closest delegation it knows (a referral: NOERROR, the NS
 * RRset in authority and the servers' cached addresses in additional), as Unbound does. */
void rd_req_set_norec(rd_req_t *req);
/* Returns RD_RES_SEND, RD_RES_WAIT, RD_RES_DONE or a negative RD_E code (the request then
 * counts as failed: rd_req_answer gives SERVFAIL). */
int rd_req_step(rd_req_t *req, uint64_t now_ms, rd_res_action_t *act);
/* An upstream reply. It is checked against the outstanding query (token, source address and
 * port, ID, QR, opcode, question with the name compared case-insensitively, type, class); on a
 * mismatch returns RD_RES_IGNORED and nothing changes. Otherwise 0: wire is consumed (not kept),
 * call rd_req_step. TC=1 over UDP makes the next step retry the same server over TCP.
 * 0x20 (draft-vixie-dnsext-dns0x20): a UDP query's name goes out in random case and the reply
 * must echo it exactly; one that differs only in case is RD_RES_IGNORED too, but noted: when
 * the try then times out, the same server is asked once more with the plain name (and no 0x20
 * for the rest of the request). FORMERR or NOTIMP to a query with EDNS makes the next step ask
 * the same server again without OPT (RFC 6891 s7). */
int rd_req_reply(rd_req_t *req, uint32_t token, const rd_addr_t *from, const uint8_t *wire,
                 size_t len, uint64_t now_ms);
/* The outstanding query timed out (0), or token is stale (RD_RES_IGNORED). */
int rd_req_timeout(rd_req_t *req, uint32_t token, uint64_t now_ms);
/* The outstanding query failed in the transport for a reason the client should learn when no
 * other server answers (e.g. the TLS certificate of a forward upstream did not verify):
 * handled like a timeout for server choice (another upstream is tried, the failing one is
 * backed off), and if the request then fails, it fails with this RFC 8914 info code and
 * reason (a static string) instead of the generic ones. RD_RES_IGNORED for a stale token. */
int rd_req_try_failed(rd_req_t *req, uint32_t token, int ede, const char *reason, uint64_t now_ms);
/* A configured forward upstream (rd_res_action_t.upstream): the engine's own copy of the
 * rd_conf_upstream_t (URI, authentication name, path, pins), valid as long as res. NULL for
 * an index out of range. */
const rd_conf_upstream_t *rd_res_upstream(const rd_res_t *res, int index);

/* Health of forward upstreams (issue 8: "a dead upstream is probed back in the background").
 * Kept per context (one per worker; a reload's new context starts with every upstream up).
 * - An upstream goes down when it has failed RD_RES_HOLD_TIMEOUTS tries in a row (timeouts,
 *   refused or failed connections, failed TLS authentication, HTTP errors: whatever reaches
 *   rd_req_timeout or rd_req_try_failed), i.e. when the server table holds it down. The change
 *   is reported when those were attempts over time (each try sent after the previous one
 *   failed); failures of tries in flight together (a burst meeting an upstream that is slow
 *   for a moment or still in its handshake) make a quiet down, reported only if its first
 *   probe fails too (and its return not at all).
 * - While down it is not chosen for client questions as long as another upstream of the zone
 *   is up; the hold does not expire into client traffic. When every upstream of a zone is
 *   down, each client question still gets one try on one of them (rather than a SERVFAIL
 *   without trying: the operator sees the resolver retry, and a network that came back is
 *   found at once); with forward-first, recursion follows when that try fails.
 * - It comes back when a reply from it matches its query and has rcode NOERROR or NXDOMAIN
 *   (it resolved something; SERVFAIL, REFUSED and the rest keep it down): normally a probe's.
 * - A probe is a request with no client (rd_req_new_probe) for the forward zone's SOA, RD=1,
 *   sent to that upstream only (whatever its state), once (no retry round), never answered
 *   from the cache and never remembered in the failure cache. The first is due
 *   RD_RES_PROBE_MS after the upstream went down; each failed probe doubles the interval up
 *   to RD_RES_PROBE_MAX_MS. One probe per upstream at a time.
 * The shell calls rd_res_upstream_event (to log the changes) and rd_res_probe_due (to start
 * probes and arm a timer) after driving requests and when that timer fires. */
enum rd_res_up_event_kind {
    RD_RES_UP_DOWN = 1, /* it went down: fails consecutive failures */
    RD_RES_UP_BACK = 2, /* it answered again: back in service */
};
typedef struct {
    int upstream;   /* index for rd_res_upstream */
    int kind;       /* enum rd_res_up_event_kind */
    unsigned fails; /* RD_RES_UP_DOWN: failed tries in a row */
    bool by_probe;  /* RD_RES_UP_BACK: a probe's reply (else a client question's) */
} rd_res_up_event_t;
/* The next change not reported yet: 1 with *ev filled (and forgotten), 0 when none. A change
 * undone before it was reported is still reported (down, then back). */
int rd_res_upstream_event(rd_res_t *res, rd_res_up_event_t *ev);
/* 1 when a probe is due at now_ms: *index names the upstream (start it with
 * rd_req_new_probe, then ask again: more may be due). 0 when none is. Either way *next_ms is
 * the earliest time another probe falls due (UINT64_MAX: no upstream waits for one, a timer
 * can stop). */
int rd_res_probe_due(rd_res_t *res, uint64_t now_ms, int *index, uint64_t *next_ms);
/* A probe of upstream index (see above), driven like any request (rd_req_step, rd_req_reply,
 * rd_req_timeout, rd_req_try_failed) and freed with rd_req_free; what it finds updates the
 * upstream's state as it happens (a probe freed before it ended counts as failed). RD_EINVAL
 * for an index that is no forward upstream, RD_ELIMIT while a probe of it is in flight, or
 * another negative RD_E code (the next probe is then pushed back as after a failure). */
int rd_req_new_probe(rd_res_t *res, int index, uint64_t now_ms, rd_req_t **out);

/* What a finished request found (pointers into the request, valid until rd_req_free). */
typedef struct {
    int rcode;        /* NOERROR, NXDOMAIN, SERVFAIL (or YXDOMAIN: DNAME overflow) */
    unsigned nrrsets; /* answer chain: CNAMEs in order, then the data */
    const rd_cache_rrset_t *rrsets;
    const rd_cache_neg_t *neg; /* negative answers: the SOA for authority, or NULL */
    int ede;                   /* RFC 8914 info code when rcode is SERVFAIL, else -1 */
    const char *reason;        /* why it failed (debug logs); NULL on success */
    unsigned queries;          /* upstream queries sent */
    unsigned timeouts;         /* of which timed out */
    const char *note;          /* for a debug log line (e.g. root priming failed), or NULL */
    const char *warn; /* for a warning log line (an upstream's host looked up in clear text) */
} rd_req_result_t;
void rd_req_result(const rd_req_t *req, rd_req_result_t *out);

/* Builds the response after RD_RES_DONE: RA set, AA clear, RD copied from the client, CD as
 * asked, the answer chain (with the RRSIGs cached with each RRset when the request was made
 * with DO=1 and the client sent EDNS; DO is then set in the response's OPT, RFC 3225), the SOA
 * in authority for negative answers (likewise with its RRSIGs), a referral for a norec miss
 * (rd_req_set_norec), and for SERVFAIL an EDE
 * option (when the client sent EDNS). client_qname is the name as the client wrote it (its case
 * is kept). udp_limit bounds the message (the client's UDP size capped by ours; 65535 for
 * streams); RRsets that do not fit are left out with TC set. */
int rd_req_answer(const rd_req_t *req, uint16_t client_id, const uint8_t *client_qname,
                  bool client_rd, bool client_edns, uint16_t udp_limit, uint8_t *out, size_t cap,
                  size_t *len);
void rd_req_free(rd_req_t *req);

#endif
