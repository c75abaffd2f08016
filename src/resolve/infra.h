/* Per-worker infrastructure table for server selection (issue 5) and the failure cache
 * (RFC 9520). Lives in rd_res_t, used by one worker only: no locks. Bounded. */
#ifndef RD_RESOLVE_INFRA_H
#define RD_RESOLVE_INFRA_H

#include "base/limits.h"
#include "resolverd/resolve.h"

typedef struct {
    rd_addr_t addr;
    bool used;
    bool known;        /* srtt/rttvar hold at least one sample */
    uint16_t timeouts; /* consecutive, reset by a reply */
    uint32_t srtt, rttvar;
    uint64_t last_ms;     /* last sample or timeout (LRU and decay) */
    uint64_t hold_until;  /* held down (not chosen) until then */
    uint64_t plain_until; /* did not keep the 0x20 case: plain names until then */
} rd__infra_ent_t;

typedef struct {
    uint8_t name[RD_NAME_MAX];
    uint16_t qtype, qclass;
    bool used;
    uint8_t fails; /* consecutive failures: the hold doubles with each (RFC 9520 s3.2) */
    int16_t ede;   /* RFC 8914 code of the failure, repeated to the clients asking again */
    uint64_t until;
} rd__fail_ent_t;

typedef struct {
    rd__infra_ent_t ent[RD_RES_INFRA_MAX];
    unsigned fam_fail[2]; /* consecutive timeouts per family without a reply: [0] v4, [1] v6 */
    rd__fail_ent_t fail[RD_RES_FAILCACHE_MAX];
} rd__infra_t;

/* What choosing needs to know of a server now. */
typedef struct {
    uint32_t score;   /* expected wait in ms (lower is better), family penalty included */
    uint32_t timeout; /* for a try in round 0 */
    bool held;        /* held down: do not choose */
} rd__infra_view_t;

void rd__infra_get(const rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms, uint32_t init_ms,
                   uint32_t cap_ms, unsigned round, rd__infra_view_t *out);
void rd__infra_rtt(rd__infra_t *t, const rd_addr_t *a, uint32_t rtt_ms, uint64_t now_ms);
void rd__infra_timeout(rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms);
/* A reply without an RTT sample (over a new TCP connection: the handshake is in it) still ends
 * a's run of timeouts and its hold: "consecutive" timeouts, and a tcp:// forward upstream a
 * probe brought back is chosen again at once (issue 8). */
void rd__infra_heard(rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms);
/* Consecutive timeouts of a (0 when unknown or forgotten): RD_RES_HOLD_TIMEOUTS holds it. */
unsigned rd__infra_timeouts(const rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms);
/* 0x20 memory: the server echoed a query name in another case; for RD_RES_NO0X20_MS every
 * request asks it with plain names at once instead of failing first (Unbound's per-server
 * 0x20 fallback). */
void rd__infra_no0x20(rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms);
bool rd__infra_is_no0x20(const rd__infra_t *t, const rd_addr_t *a, uint64_t now_ms);

/* Health of a forward upstream (issue 8, src/resolve/probe.c; house rule 8). */
enum rd__up_state {
    RD__UP_OK = 0,  /* chosen like any server */
    RD__UP_DOWN,    /* not chosen while another upstream of its zone is usable; probe due at
                       next_ms */
    RD__UP_PROBING, /* down, a probe in flight (one at a time) */
};
/* Changes not yet reported to the shell (rd_res_upstream_event), a bit each. */
enum { RD__UP_REPORT_DOWN = 1, RD__UP_REPORT_BACK = 2 };

typedef struct {
    uint8_t state;         /* enum rd__up_state */
    uint8_t report;        /* RD__UP_REPORT_* */
    bool by_probe;         /* it came back with a probe's reply (else a client question's) */
    bool quiet;            /* DOWN or PROBING, not reported: see rd__up_try_failed */
    uint16_t run;          /* OK: failed tries in a row, each sent after the one before failed */
    uint16_t fails;        /* failures in a row when it went down (the log says how many) */
    uint64_t last_fail_ms; /* OK: when the last of them was seen */
    uint32_t interval_ms;  /* until the next probe; doubles after a failed one */
    uint64_t next_ms;      /* DOWN: the next probe is due then */
    /* The latest probe started (rd_req_new_probe numbers them): only its end moves the state.
     * An older one still in flight (a client's reply brought the upstream back, it went down
     * again and a new probe started) is stale: its failure says nothing of the new probe. */
    uint32_t probe_seq;
} rd__up_health_t;

/* RFC 9520 s3: true while (qname, qtype, qclass) is remembered as failed; *ede gets the
 * RFC 8914 code it failed with. */
bool rd__fail_lookup(const rd__infra_t *t, const uint8_t *qname, uint16_t qtype, uint16_t qclass,
                     uint64_t now_ms, int *ede);
/* Remembers a failure for RD_RES_FAILCACHE_MS, doubled for each consecutive failure of the
 * same question (one that fails again within RD_RES_FAILCACHE_MAX_MS of the last hold's end),
 * capped at RD_RES_FAILCACHE_MAX_MS (RFC 9520 s3.2: at least 1 s, at most 5 min, backoff). */
void rd__fail_insert(rd__infra_t *t, const uint8_t *qname, uint16_t qtype, uint16_t qclass, int ede,
                     uint64_t now_ms);

#endif
