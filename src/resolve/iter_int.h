/* Internals of the iterative engine shared by src/resolve/iter*.c. */
#ifndef RD_RESOLVE_ITER_INT_H
#define RD_RESOLVE_ITER_INT_H

#include "base/limits.h"
#include "resolve/infra.h"
#include "resolverd/resolve.h"

/* RFC 6672 s2.2: a DNAME substitution that would overflow a name */
enum { RD__RCODE_YXDOMAIN = 6 };

/* RFC 8914 s4 info codes */
enum { RD__EDE_OTHER = 0, RD__EDE_NO_REACHABLE = 22, RD__EDE_NETWORK = 23 };

enum { RD__LOOKED_A = 1, RD__LOOKED_AAAA = 2 };

/* Room for a log line or EDE text the engine writes about an upstream (URI included). */
enum { RD__WARN_LEN = 512 };
/* A local zone's answer with an upstream's addresses (upstreams.c): what does not fit is
 * left out, and RD_RES_ADDRS_PER_NS addresses fit many times over. */
enum { RD__LOCAL_MSG = 2048 };

typedef struct {
    uint8_t name[RD_NAME_MAX];
    uint8_t naddr;
    bool tcp;          /* forward zones: a tcp://, tls:// or https:// upstream */
    uint8_t proto;     /* forward zones: enum rd_upstream_proto of the upstream, else 0 */
    int16_t up;        /* forward zones: index in rd_res.ups, else -1 */
    uint8_t looked_up; /* address lookups tried, at most once per type per cut (RD__LOOKED_*) */
    rd_addr_t addr[RD_RES_ADDRS_PER_NS];
} rd__ns_t;

/* A zone cut with its servers (Knot's kr_zonecut): from the cache, the hints or a referral. */
typedef struct {
    uint8_t name[RD_NAME_MAX];
    unsigned nns;
    rd__ns_t ns[RD_RES_NS_PER_CUT];
    unsigned ntried;
    rd_addr_t tried[RD_RES_QUERIES_PER_CUT]; /* addresses already asked at this cut */
    unsigned queries;                        /* sent at this cut */
    unsigned lookups;                        /* NS-name address lookups started */
    bool from_cache;                         /* found in the cache (not a referral just received) */
    bool timed_out[RD_RES_QUERIES_PER_CUT];  /* tried[i] did not answer */
    bool servfail[RD_RES_QUERIES_PER_CUT];   /* tried[i] answered SERVFAIL */
    uint8_t round;   /* 0, then RD_RES_RETRY_ROUNDS more rounds over silent or SERVFAIL servers */
    bool probed;     /* a held-down server was probed (only one per cut per request) */
    bool configured; /* stub or forward servers named by the operator (loopback allowed) */
    bool forward;    /* forward zone: RD=1 to the upstreams, their answer is final */
    bool forward_first; /* forward zone: fall back to recursion when no upstream answers */
    bool hints;         /* the root from the hints file, not primed (RFC 8109) */
} rd__cut_t;

/* A stub: or forward: zone (rd_res_opts_t), copied at rd_res_new. */
typedef struct {
    uint8_t name[RD_NAME_MAX];
    bool forward, forward_first;
    unsigned nsrv; /* stub: server addresses; forward: upstreams */
    /* an https:// upstream without @BOOTSTRAP-IP has family 0 here (the port is the URL's):
     * its host[] is resolved like a glueless NS name (issue 8) */
    rd_addr_t addr[RD_RES_NS_PER_CUT];
    uint8_t host[RD_RES_NS_PER_CUT][RD_NAME_MAX]; /* forward, addr family 0: HOST, lower case */
    /* HOST in local data (rd_res_opts_t.local): these addresses, never a lookup */
    bool local[RD_RES_NS_PER_CUT];
    uint8_t nlocal[RD_RES_NS_PER_CUT];
    rd_addr_t laddr[RD_RES_NS_PER_CUT][RD_RES_ADDRS_PER_NS];
    bool tcp[RD_RES_NS_PER_CUT];
    uint8_t proto[RD_RES_NS_PER_CUT]; /* forward: enum rd_upstream_proto */
    int16_t up[RD_RES_NS_PER_CUT];    /* forward: index in rd_res.ups */
} rd__pzone_t;

/* Why the next step asks the same server again. */
enum rd__retry {
    RD__RETRY_NONE = 0,
    RD__RETRY_TCP,    /* TC=1 over UDP (RFC 7766 s5) */
    RD__RETRY_PLAIN,  /* the name's case came back changed: once more without 0x20 */
    RD__RETRY_NOEDNS, /* FORMERR/NOTIMP to EDNS (RFC 6891 s7): once more without OPT */
};

/* What a goal is doing (house rule 8). */
enum rd__goal_state {
    RD__G_START = 0, /* look in the cache, else find the closest cut */
    RD__G_QUERY,     /* choose a server at the cut and send */
    RD__G_WAIT,      /* a query is outstanding */
    RD__G_DONE,      /* answered (positive or negative) */
    RD__G_FAILED,    /* no answer can be had */
};

/* One entry of the resolution plan: the client's question or an NS name's address. */
typedef struct {
    uint8_t qname[RD_NAME_MAX];
    uint16_t qtype;
    bool sub;   /* an NS-name address lookup for the goal below it */
    int sub_ns; /* sub: index in the parent cut's NS list to fill */
    bool boot;  /* sub: the host of forward upstream boot_up (an https:// one without @IP) */
    int16_t boot_up;
    bool nested; /* sub in a forward zone: waits for its upstreams' hosts (iter.c advance) */
    int state;   /* enum rd__goal_state */
    unsigned referrals;
    rd__cut_t *cut;
    /* QNAME minimisation (RFC 9156): labels of qname to send at this cut, queries sent
     * minimised, and whether it is off for this goal (a server gave NXDOMAIN to it) */
    int min_labels;
    unsigned min_queries;
    bool no_min;
    bool no_policy; /* forward_first fell back: ignore stub/forward zones for this goal */
    bool prime;     /* root priming (RFC 8109): ". NS" to a hints server, for the goal below */
} rd__goal_t;

typedef struct {
    rd__cut_t cut; /* ".": the hints' servers and addresses */
    uint32_t ttl;  /* of the hints' NS records (norec referrals to the root) */
} rd__hints_t;

/* Root priming (RFC 8109) of one worker's engine (house rule 8). */
enum rd__prime_state {
    RD__PRIME_IDLE = 0, /* the next request that finds no cached root NS primes */
    RD__PRIME_RUNNING,  /* one request is priming; the others use the hints meanwhile */
    RD__PRIME_BACKOFF,  /* it failed: the hints until prime_retry_ms */
};

struct rd_res {
    rd_cache_t *cache;
    rd__hints_t hints;
    rd_res_opts_t opts; /* defaults filled in */
    rd_res_rand_fn rand32;
    void *rand_ctx;
    rd__infra_t *infra;  /* per-worker server table and failure cache (infra.c) */
    rd__pzone_t *pzones; /* stub and forward zones */
    unsigned npzones;
    rd_conf_upstream_t *ups; /* forward upstreams, deep copies (rd_res_upstream) */
    bool *boot_warned;       /* per upstream: its host was looked up in clear text (warned) */
    rd__up_health_t *uph;    /* per upstream: down or up, probes (probe.c); NULL until needed */
    unsigned nups;
    int prime_state;         /* enum rd__prime_state */
    unsigned prime_fails;    /* consecutive failed primings (the backoff doubles) */
    uint64_t prime_retry_ms; /* BACKOFF: no priming before then */
};

struct rd_req {
    rd_res_t *res;
    rd_arena_t arena;
    bool probe;                 /* rd_req_new_probe: no client, the zone's SOA from one upstream */
    int16_t probe_up;           /* probe: the upstream (index in res->ups) */
    uint16_t probe_zone;        /* probe: its forward zone (index in res->pzones) */
    uint32_t probe_seq;         /* probe: its number (rd__up_health_t.probe_seq) */
    uint8_t qname[RD_NAME_MAX]; /* the client's question */
    uint16_t qtype, qclass;
    bool do_bit, cd;
    uint64_t start_ms, deadline_ms;
    bool done;
    rd__goal_t plan[RD_RES_PLAN_MAX];
    unsigned nplan;
    /* the outstanding (or last) upstream query */
    rd_addr_t target;
    bool tcp;
    uint8_t proto; /* forward upstream: its enum rd_upstream_proto (0: plain UDP/TCP) */
    int16_t up;    /* forward upstream: index in res->ups, else -1 */
    int tr_ede;    /* rd_req_try_failed: EDE and reason for the failure, if it comes to that */
    const char *tr_reason;
    int retry;          /* enum rd__retry: the next step asks req->target again */
    bool edns;          /* the outstanding query carries an OPT record */
    bool used_0x20;     /* its name went out in random case (draft-vixie-dnsext-dns0x20) */
    bool case_mismatch; /* a reply echoed it in another case (ignored; see rd_req_timeout) */
    bool no_0x20;       /* a server did not keep the case: plain names for the rest */
    unsigned nnoedns;   /* servers that rejected EDNS during this request (RFC 6891 s7) */
    rd_addr_t noedns[RD_RES_NOEDNS_MAX];
    uint16_t id;
    uint8_t round; /* retry round of the outstanding query (its timeout doubles) */
    uint32_t token;
    uint64_t sent_ms; /* when the outstanding query was handed out (RTT samples) */
    bool held;        /* a server was skipped as held down (no reachable authority) */
    uint8_t qwire[RD_NAME_MAX + 64];
    uint8_t sname[RD_NAME_MAX]; /* the question sent (minimised or not), lower case */
    uint8_t scase[RD_NAME_MAX]; /* the same name in the case it went out (0x20) */
    uint16_t stype;
    size_t qlen;
    /* counters against the limits */
    unsigned queries, timeouts, cnames;
    unsigned malformed; /* replies that did not parse */
    bool norec;         /* RD=0 (access-control allow_snoop): the cache only, never upstream */
    bool priming;       /* this request runs the worker's root priming (res->prime_state) */
    bool prime_tried;   /* it primed once already: never twice per request */
    const char *note;   /* something worth a debug log line (rd_req_result_t.note) */
    const char *warn;   /* something worth a warning (rd_req_result_t.warn), in the arena */
    /* result */
    int rcode;
    rd_cache_rrset_t ans[RD_RES_ANSWER_RRSETS];
    unsigned nans;
    rd_cache_neg_t *neg;
    /* norec miss: the closest delegation known (Unbound's answer_norec_from_cache): ref[0] is
     * the NS RRset for authority, the rest A/AAAA of the NS names for additional */
    rd_cache_rrset_t ref[1 + 2 * RD_RES_NS_PER_CUT];
    unsigned nref;
    int ede;
    const char *reason;
};

static inline uint64_t rd__res_now_s(uint64_t now_ms)
{
    return now_ms / 1000;
}

/* iter.c */
void rd__iter_fail(rd_req_t *req, int ede, const char *reason);
rd__goal_t *rd__iter_top(rd_req_t *req);
void rd__iter_remember_failure(rd_req_t *req, uint64_t now_ms);
/* Appends an RRset (copied into the arena) to the answer of the client's goal. */
int rd__iter_add_answer(rd_req_t *req, const rd_cache_rrset_t *rs);
/* Fills the parent's NS entry from an A/AAAA RRset found for a sub goal. */
/* Adds the A or AAAA addresses of rs to a name server (no duplicates, at most
 * RD_RES_ADDRS_PER_NS). */
void rd__iter_ns_add_addrs(rd__ns_t *ns, const rd_cache_rrset_t *rs, uint16_t port);
void rd__iter_sub_addrs(rd_req_t *req, const rd_cache_rrset_t *rs);
bool rd__iter_addr_eq(const rd_addr_t *a, const rd_addr_t *b);

rd_cache_rdata_t *rd__iter_copy_rdata(rd_arena_t *ar, const rd_cache_rdata_t *src, unsigned n);

/* iter_cache.c */
enum { RD__FROM_CACHE_MISS = 0, RD__FROM_CACHE_DONE = 1 };
/* The goal from the cache: RD__FROM_CACHE_DONE when answered (or failed: req->done), MISS when
 * upstream must be asked (g->qname may have moved along cached CNAMEs/DNAMEs), or negative. */
int rd__iter_from_cache(rd_req_t *req, rd__goal_t *g, uint64_t now_s);
/* RD=0 miss: the closest delegation known becomes the result (see rd_req_set_norec). */
int rd__iter_norec_referral(rd_req_t *req, const uint8_t *qname, uint64_t now_s);

/* upstreams.c: forward upstreams copied into the context (rd_res_upstream). Returns the
 * index of the copy or a negative RD_E code. */
int rd__res_add_upstream(rd_res_t *res, const rd_conf_upstream_t *u);
void rd__res_free_upstreams(rd_res_t *res);
/* Copies the stub and forward zones of res->opts (their arrays belong to the caller). */
int rd__res_copy_policy(rd_res_t *res);
/* The longest stub or forward zone holding name (NULL: none). */
const rd__pzone_t *rd__res_policy_zone(const rd_res_t *res, const uint8_t *name);
/* The cut of a stub or forward zone; sub: for a nested lookup (no upstream that needs its own
 * address looked up). */
void rd__res_cut_from_policy(rd_req_t *req, rd__cut_t *cut, const rd__pzone_t *z, uint64_t now_s,
                             bool sub);
/* Whether name is the host of one of z's upstreams that has no address of its own: a lookup
 * of it through z can only go by recursion (the circle of an upstream's host inside the zone
 * it serves). */
bool rd__res_zone_has_host(const rd__pzone_t *z, const uint8_t *name);
/* The port of a name server's addresses: a forward upstream's (its URL's) or the DNS one. */
uint16_t rd__res_ns_port(const rd_res_t *res, const rd__cut_t *cut, const rd__ns_t *ns);
/* g (a lookup of an upstream's host) goes by recursion: req->warn, once per upstream. */
void rd__res_boot_warn(rd_req_t *req, const rd__goal_t *g);
/* The reason for a forward cut that failed because an upstream's host has no address. */
const char *rd__res_unresolved_upstream(rd_req_t *req, const rd__cut_t *cut);

/* probe.c: health of forward upstreams (rd_res_probe_due). A try of req to a forward
 * upstream failed (after rd__infra_timeout) / got a parsed reply with rcode (-1: malformed). */
void rd__up_try_failed(rd_req_t *req, uint64_t now_ms);
void rd__up_heard(rd_req_t *req, int rcode, uint64_t now_ms);
/* Whether the cut's NS entry i is a forward upstream that is down (not for client choice). */
bool rd__up_is_down(const rd_req_t *req, const rd__cut_t *cut, unsigned i);
/* The START of a probe's goal: its cut is the probed upstream alone, for one try; the cache
 * is not looked at. 0 or a negative RD_E code. */
int rd__probe_goal(rd_req_t *req, rd__goal_t *g, uint64_t now_s);
/* rd_req_free of a probe: unfinished, it failed. */
void rd__probe_end(rd_req_t *req);

/* iter_reply.c: classifies a verified reply for the top goal and moves its state. */
int rd__iter_classify(rd_req_t *req, const rd_msg_t *m, uint64_t now_ms);

#endif
