/* Every built-in limit and default, with the reason (house rule 10). Protocol constants that
 * an RFC fixes (255-octet names, 65535-octet messages) stay next to the code they shape;
 * what is here is policy: how much hostile input may make us hold or do. */
#ifndef RD_BASE_LIMITS_H
#define RD_BASE_LIMITS_H

/* ---- memory ---- */
#define RD_ARENA_BLOCK         16384       /* heap block size once a caller's block is used up */
#define RD_ARENA_DEFAULT_LIMIT (16u << 20) /* one request or parse never needs more */

/* ---- zone files ---- */
#define RD_ZONE_FILE_MAX        (256u * 1024 * 1024) /* the root zone is ~2 MiB; a LAN zone KiB */
#define RD_ZONE_INCLUDE_DEFAULT 8  /* $INCLUDE depth, like NSD/BIND: deep enough for real trees */
#define RD_ZONE_INCLUDE_CAP     32 /* hard cap: $INCLUDE is the only recursion input can drive */
#define RD_ZONE_PATH_MAX        4096
#define RD_ZONE_MAX_TOKENS                                                                         \
    1024                         /* per record; the longest real records (RRSIG, SVCB) use         \
                                    a few dozen */
#define RD_ZONE_MAX_TOKLEN 65535 /* a token can never carry more than an rdata */

/* ---- configuration files ---- */
#define RD_CONF_FILE_MAX   (16u << 20) /* 100,000 zones with paths fit in ~10 MiB */
#define RD_CONF_LINE_MAX   65536       /* the longest sane line is a path of 4 KiB */
#define RD_CONF_REPEAT_MAX 100000      /* entries of one repeatable key, or sections of a kind */
#define RD_CONF_PATH_MAX   4096        /* PATH_MAX on Linux, NUL included */
#define RD_CONF_STRING_MAX 255         /* identity/version go in one TXT string (RFC 1035 s3.3) */
#define RD_CONF_WHY_MAX    192         /* the "what is wrong" part of a message */

/* ---- local zones in memory ---- */
/* A LAN or policy zone holds hundreds of records; a copy of a TLD is not what local zones
 * are for. Bytes: keeps offsets in 32 bits and bounds what a zone file can expand to. */
#define RD__ZONE_RECORDS_MAX 1000000u
#define RD__ZONE_BYTES_MAX   (512u * 1024 * 1024) /* names + rdata of one zone */
/* CNAME/DNAME steps in one local answer: Unbound restarts a query at most 11 times. */
#define RD__ZONE_CHAIN_MAX 11

/* ---- transports ---- */
#define RD_UDP_BATCH          16   /* datagrams per recvmmsg/sendmmsg */
#define RD_UDP_REPLY_MAX      4096 /* largest UDP answer: edns-buffer-size is at most 4096 */
#define RD_UDP_SEND_QUEUE_MAX 1024 /* replies waiting for socket space, all workers; then drop */
/* Receive buffer of each listening UDP socket: ~8 MiB holds ~10,000 queries in flight
 * (a kernel skb costs ~768 octets on loopback), as PowerDNS and Knot size theirs. */
#define RD_UDP_RCVBUF      (8 << 20)
#define RD_TCP_BUF_INITIAL 4096
#define RD_TCP_BUF_MAX     (2 + 65535 + 2) /* one whole frame at most is ever buffered */
#define RD_TCP_WRITE_HIGH  (256 * 1024)    /* stop reading from a client this far behind */
#define RD_DRAIN_MS        2000 /* graceful shutdown: in-flight stream work gets this long */
/* A stream we close while the client may still send: FIN, then its octets are read and dropped
 * this long at most, so the kernel does not reset away our last answer (src/net/tcp.c). */
#define RD_TCP_LINGER_MS 2000
/* Hard cap of answers queued for a client that does not read: past it the connection is
 * closed, so answers that arrive late (resolution) cannot grow the queue either. */
#define RD_TCP_WRITE_MAX (4 * RD_TCP_WRITE_HIGH)
/* Reload (src/main.c): how long the main thread waits for a worker to take a new configuration
 * before it flushes the cache anyway (a worker's loop turns in microseconds unless stuck). */
#define RD_RELOAD_WAIT_MS 1000
#define RD_HINTS_FILE_MAX (16u << 20) /* root-hints file: the IANA one is ~4 KiB */

/* ---- TLS (src/net/tls*.c): DoT and DoH ---- */
/* RFC 7858 s3.4 asks for idle and handshake timeouts; 6 s covers a full handshake over a
 * slow mobile link with a lost packet, and bounds what a silent connection costs. */
#define RD_TLS_HANDSHAKE_MS 6000
/* Ciphertext buffered per connection before it is decrypted: one full TLS record (16 KiB of
 * plaintext + 256 of overhead, RFC 8446 s5.2) plus a header; reading stops when full. */
#define RD_TLS_IN_BUF (16384 + 256 + 5 + 2048)
/* TLS session ticket key rotation: tickets are accepted for one to two periods (RFC 8446
 * s4.6.1 caps the lifetime at 7 days; RFC 8446 s8 advises short ones): 12 h, so a phone
 * resumes through a day of use while a stolen key opens at most a day of sessions. */
#define RD_TLS_TICKET_ROTATE_S 43200
/* Validity of the generated self-signed certificate: pinned by key, so ten years. */
#define RD_TLS_SELFSIGNED_DAYS 3650

/* ---- DNS over HTTPS (src/net/http*.c) ---- */
#define RD_HTTP_STREAMS_DEFAULT   100  /* concurrent HTTP/2 streams per connection (issue 7) */
#define RD_HTTP_STREAMS_MAX       1000 /* cap of max_streams: each may hold 2 x 64 KiB */
#define RD_HTTP1_PIPELINE_DEFAULT 16   /* HTTP/1.1 requests queued per connection, in order */
#define RD_HTTP1_PIPELINE_MAX     256
/* RFC 8484 s6: a DoH body is one DNS message, at most 65535 octets; more is 413. */
#define RD_HTTP_BODY_MAX 65535
/* Request target (path and query): a GET carries the query in base64url (4/3 of it), so
 * 4096 takes queries up to ~3000 octets; EDNS-padded queries (RFC 8467: 128) need ~200. */
#define RD_HTTP_URI_MAX 4096
/* Header bytes of one request (HTTP/2 counts name + value + 32 per field, as
 * SETTINGS_MAX_HEADER_LIST_SIZE does, RFC 9113 s6.5.2); browsers send ~1-2 KiB. */
#define RD_HTTP_HEADERS_MAX      8192
#define RD_HTTP_HEADER_COUNT_MAX 64 /* fields per request; browsers send ~15 */
/* HTTP/1.1 chunked request bodies (RFC 9112 s7.1): one chunk-size line with its extensions.
 * Extensions and trailer fields also count against RD_HTTP_HEADERS_MAX (s7.1.1: limited like
 * the other parts of a message); curl sends neither. */
#define RD_HTTP1_CHUNK_LINE_MAX 1024
/* HTTP/1.1 octets received and not yet parsed: one request head plus a body in flight. */
#define RD_HTTP1_INBUF_MAX (RD_HTTP_URI_MAX + RD_HTTP_HEADERS_MAX + RD_HTTP_BODY_MAX + 1024)
/* Request bodies buffered at once on one connection: more concurrent big POSTs get 503. */
#define RD_HTTP_CONN_BODY_MAX (1u << 20)
/* Response octets held per DoH connection for a client that does not take them (HTTP/2
 * flow-control window left closed; 100 streams x 64 KiB would be 6.4 MB): past it answers
 * become 503 without a body. Such a connection makes no progress and ends at the idle
 * timeout. */
#define RD_HTTP_CONN_OUT_MAX (1u << 20)
/* HTTP/2 rapid reset (CVE-2023-44487): nghttp2's RST_STREAM token bucket (burst, per second;
 * its default is 1000/33), and our own count: a client that reset more streams before their
 * answer than this plus the number of answers it got gets GOAWAY (ENHANCE_YOUR_CALM). */
#define RD_HTTP_RST_BURST   200
#define RD_HTTP_RST_RATE    30
#define RD_HTTP_RESETS_FREE 100

/* ---- packet cache (include/resolverd/pcache.h) ---- */
/* packet-cache-size default: at ~760 octets a slot, ~44,000 answers; the hot set of a busy
 * resolver is far smaller, and the RRset cache behind it holds the rest. */
#define RD_PCACHE_SIZE_DEFAULT ((size_t)32 << 20)
/* Largest response kept: typical answers are under 300 octets; a signed answer that does
 * not fit is served by the RRset cache (only the copy is saved here, not the lookup). */
#define RD_PCACHE_WIRE_MAX 640u
/* TTL fields patched per hit; responses with more records are not kept. */
#define RD_PCACHE_TTLS 32u
/* Slots per set (a new answer replaces the one closest to expiry among them) and mutexes
 * shared by the sets: 64 makes two workers wanting the same lock rare. */
#define RD_PCACHE_WAYS  4u
#define RD_PCACHE_LOCKS 64u

/* ---- RRset and negative cache ---- */
/* ---- defaults of the config knobs ---- */
#define RD_CACHE_SIZE_DEFAULT    ((size_t)64 << 20) /* cache-size, as src/conf sets it */
#define RD_CACHE_MIN_TTL_DEFAULT 0u                 /* cache-min-ttl: keep the owner's TTL */
#define RD_CACHE_MAX_TTL_DEFAULT 86400u             /* cache-max-ttl: a day, as Unbound */
/* cache-max-negative-ttl: RFC 2308 s5 finds one to three hours work well; Unbound uses 3600 */
#define RD_CACHE_MAX_NEG_TTL_DEFAULT 3600u
/* RFC 2181 s8: a TTL with the top bit set counts as 0. */
#define RD_CACHE_TTL_MAX 0x7fffffffu
/* NSEC/NSEC3 RRsets kept with a negative answer for DO=1 clients (RFC 4035 s3.1.3): an
 * NXDOMAIN proof takes at most 2 NSECs (name, wildcard) or 3 NSEC3s (RFC 5155 s7.2.2),
 * a NODATA 1 or 2; 4 leaves one spare. Their records, and their RRSIGs, number at most twice
 * this across the sets (one NSEC per owner, RFC 4034 s4; two signatures during an algorithm
 * roll): bounded so that a hostile server cannot make one negative entry big. */
#define RD_CACHE_NEG_PROOFS 4u

/* ---- size and shape ---- */
/* Smallest cache-size we accept: one shard with room for ~1000 RRsets. The config's own
 * minimum (1 MiB) is above it; tests use small caches. */
#define RD_CACHE_SIZE_MIN ((size_t)64 << 10)
/* Shards are powers of two, as many as keep each at least this big: with ~100-byte entries a
 * shard holds ~1300, so its full scan for expired entries (at most once per second of `now`,
 * see cache_int.h) stays short, and 64 MiB gives 512 shards, far more than worker threads, so
 * two threads rarely want one lock. */
#define RD_CACHE_SHARD_TARGET ((size_t)128 << 10)
/* Upper bound on shards (128 KiB of shard headers): past ~1000 lock contention is nil already;
 * bigger caches get bigger shards. */
#define RD_CACHE_SHARDS_MAX 1024u
/* One entry takes at most 1/this of its shard's ring, so a single huge RRset (a DNS message
 * can carry ~64 KiB of rdata) cannot flush a whole shard; bigger sets are not cached
 * (RD_ESPACE). At 128 KiB shards that is RRsets up to ~30 KiB. */
#define RD_CACHE_ENTRY_SHARE 4u
/* The bucket array of a shard has one 8-octet bucket per about this many octets of its
 * budget (the nearest power of two: 4-9% of the memory): a typical entry takes 64-200 octets,
 * so chains stay at one or two entries, and the array never needs to grow. */
#define RD_CACHE_BYTES_PER_BUCKET 128u
#define RD_CACHE_BUCKETS_MIN      16u
/* When dead slots (expired, replaced) reach 1/this of a ring, making room moves live entries
 * instead of dropping them until it reaches the dead space: at most this many octets copied
 * per octet gained, and live data is seldom evicted while expired data holds much memory. */
#define RD_CACHE_COMPACT_SHARE 8u

/* ---- what an allocation really costs (memory accounting, house rule 9) ----
 * The tables and rings are allocated once, at creation; they are charged what glibc's malloc
 * takes on 64-bit: the request plus an 8-octet size field, rounded up to 16, at least 32;
 * blocks at or over the mmap threshold take whole pages plus a 16-octet header. */
#define RD_CACHE_MALLOC_HDR   8u
#define RD_CACHE_MALLOC_ALIGN 16u
#define RD_CACHE_MALLOC_MIN   32u
#define RD_CACHE_MMAP_MIN     ((size_t)128 << 10) /* glibc M_MMAP_THRESHOLD default */
#define RD_CACHE_PAGE         4096u

/* ---- iterative resolution (src/resolve/iter*.c) ----
 */
/* Upstream queries for one client query, never reset by CNAME restarts: Unbound's
 * max-sent-count is 32 per step and ~128 overall; 200 leaves room for NS-name lookups while a
 * query can never be turned into a flood (NXNS attack, CVE-2020-12662). */
#define RD_RES_QUERIES_MAX 200
/* Queries while working at one zone cut: 13 servers, each once with a TCP retry, and NS-name
 * lookups, fit; a cut that needs more is broken. */
#define RD_RES_QUERIES_PER_CUT 32
/* Referrals followed by one goal: real trees are < 10 deep; 30 as Unbound's MAX_REFERRAL_COUNT
 * order of magnitude, and a scripted referral chain ends fast. */
#define RD_RES_REFERRALS_MAX 30
/* Whole resolution time: clients give up after ~5-10 s (dig's default is 5 s x 3 tries). */
#define RD_RES_TIME_MAX_MS 10000u
/* CNAME links per client query: Unbound's MAX_RESTART_COUNT (11), as for local zones. */
#define RD_RES_CNAME_MAX 11
/* NS names considered per delegation (NXNS mitigation, as Unbound's and BIND's limits). */
#define RD_RES_NS_PER_CUT 13
/* NS names whose address we resolve per delegation (NXNS, CVE-2020-12662: Knot uses 5...). */
#define RD_RES_NS_LOOKUPS_PER_CUT 5
/* Addresses kept per NS name (A and AAAA together). */
#define RD_RES_ADDRS_PER_NS 4
/* Nested goals (client question + NS-name lookups for NS-name lookups...): Knot's rplan
 * depth order; deeper than this the delegation is not worth following. */
#define RD_RES_PLAN_MAX 6
/* Timeout of a try to a server we know nothing about (Unbound's UNKNOWN_SERVER_NICENESS
 * order); known servers get srtt + 4 * rttvar (RFC 6298), see the infrastructure table below. */
#define RD_RES_TIMEOUT_MS 400u
/* Extra rounds over the servers of a cut that did not answer, each with the timeout doubled:
 * one lost datagram must not fail a zone with a single server. */
#define RD_RES_RETRY_ROUNDS 1
/* QNAME minimisation (RFC 9156 s2.3 MAX_MINIMISE_COUNT): minimised queries per goal, then
 * the full name, so a name with many labels inside one zone costs at most this many more. */
#define RD_RES_QMIN_MAX 10
/* EDNS UDP size we advertise upstream (DNS flag day 2020: 1232 avoids fragmentation). */
#define RD_RES_EDNS_UDP 1232
/* Servers remembered per client query as rejecting EDNS (FORMERR/NOTIMP to an OPT, RFC 6891
 * s7): each is asked again once without OPT; beyond this many, they get no fallback. */
#define RD_RES_NOEDNS_MAX 8
/* RRSIGs kept with one RRset from a reply (DNSSEC pass-through): one per key and algorithm
 * of the zone; a KSK/ZSK pair during an algorithm roll needs 4, the rest is padding. */
#define RD_RES_SIGS_PER_RRSET 8
/* Answer RRsets kept for the response: the CNAME chain plus the data. */
#define RD_RES_ANSWER_RRSETS (RD_RES_CNAME_MAX + 2)
/* Internal transitions inside one rd_req_step before it gives up (a bug guard). */
#define RD_RES_STEP_LOOPS 1000
/* Server selection (src/resolve/infra.c): a per-worker table of upstream servers keyed by
 * address and port, set-associative (RD_RES_INFRA_WAYS entries per set, least recently used
 * replaced), so it stays bounded whatever referrals say. */
#define RD_RES_INFRA_MAX  4096
#define RD_RES_INFRA_WAYS 8
/* Bounds of a try's timeout from srtt + 4 * rttvar; consecutive timeouts double it up to the
 * cap (Unbound caps at 120 s, but our whole budget is RD_RES_TIME_MAX_MS). A larger
 * opts.timeout_ms raises the cap to itself. The floor is the initial timeout, not Unbound's
 * 50 ms: a server measured at 1 ms that sometimes takes 300 ms (online signing, its own
 * lookups) must still be waited for (tests/integration/test_faults.sh delay, test_dedup), and
 * our 2 rounds per cut leave no room for spurious timeouts. Slow servers get more. */
#define RD_RES_RTO_MIN_MS 400u
#define RD_RES_RTO_MAX_MS 3000u
/* Consecutive timeouts after which a server is held down (not chosen) for RD_RES_HOLD_MS; once
 * that has passed it may be chosen again as a probe, and one more timeout holds it again.
 * 30 s: long enough to spare clients of a dead zone the wait, short enough to notice a
 * server coming back (Unbound probes blocked hosts after its 120 s RTO). */
#define RD_RES_HOLD_TIMEOUTS 3
#define RD_RES_HOLD_MS       30000u
/* A forward upstream (issue 8) held down this way is "down": clients stop trying it while
 * another upstream of the zone is not, and it comes back only when it answers a probe in the
 * background (src/resolve/probe.c). The first probe 1 s after it went down (a restarted
 * server or a passing network fault is back in service within about a second), the interval
 * doubling after each failed probe up to 60 s (a server that stays dead costs one query a
 * minute per worker; Unbound's blocked hosts wait its 120 s RTO). */
#define RD_RES_PROBE_MS     1000u
#define RD_RES_PROBE_MAX_MS 60000u
/* Servers whose expected RTT is within this of the best are equally good (random among them;
 * Unbound's band is 400 ms, too wide to prefer a near server to a far one). */
#define RD_RES_RTT_BAND_MS 50u
/* Percent of choices made at random among all untried servers not held down (exploration:
 * a server whose RTT improved or that was never tried gets measured). */
#define RD_RES_EXPLORE_PCT 5u
/* An idle server's estimate moves halfway back to RD_RES_TIMEOUT_MS per this much idle time,
 * and is forgotten after RD_RES_INFRA_TTL_MS (Unbound's infra-host-ttl, 900 s). */
#define RD_RES_RTT_DECAY_MS 60000u
#define RD_RES_INFRA_TTL_MS 900000u
/* An address family (IPv4/IPv6) whose servers timed out this many times in a row with no reply
 * over it loses preference: its servers count RD_RES_FAMILY_PENALTY_MS slower. */
#define RD_RES_FAMILY_FAIL       4
#define RD_RES_FAMILY_PENALTY_MS 1000u
/* A server that echoed a query name in another case (it does not keep the 0x20 case) is asked
 * with plain names for this long, by every request, instead of each one waiting for its
 * timeout first; then it is tried with 0x20 again (it may have been fixed). Kept in its
 * infrastructure entry, so bounded by RD_RES_INFRA_MAX. */
#define RD_RES_NO0X20_MS 900000u
/* Failure cache (RFC 9520): a (qname, qtype, qclass) whose resolution failed (no server
 * answered, or every one answered SERVFAIL, REFUSED, lame or malformed, or a limit was hit)
 * is answered SERVFAIL from memory for this long (RFC 9520 s3.2: at least 1 s, at most 5 min;
 * 5 s as a client's retry), doubled for each consecutive failure up to RD_RES_FAILCACHE_MAX_MS
 * (RFC 9520 s3.2 backoff), per worker, in a bounded set-associative table. */
#define RD_RES_FAILCACHE_MS     5000u
#define RD_RES_FAILCACHE_MAX_MS 300000u
#define RD_RES_FAILCACHE_MAX    1024
#define RD_RES_FAILCACHE_WAYS   4
/* Root priming (RFC 8109 s3): after a failed priming the hints are used and it is tried
 * again after this long, doubled per consecutive failure up to the cap (bounded retries; a
 * dead root is not asked once per client query). */
#define RD_RES_PRIME_RETRY_MS     1000u
#define RD_RES_PRIME_RETRY_MAX_MS 60000u

/* ---- resolution in the shell (src/server/recurse.c) ---- */
/* Client queries in resolution per worker: beyond it new ones are dropped (the client retries;
 * Unbound's num-queries-per-thread is 1024 by default), so a flood of unique names cannot grow
 * memory without bound. */
#define RD_RECURSE_PENDING_MAX 4096
/* Buckets of the per-worker table of questions in flight (identical ones are sent once). */
#define RD_RECURSE_BUCKETS 1024
/* Clients waiting on one question in flight; more start their own resolution. */
#define RD_RECURSE_WAITERS_MAX 64

/* ---- encrypted forward upstreams (src/net/upstream*.c, issue 8) ---- */
/* Connections per worker per DoT/DoH upstream: queries are pipelined (RFC 7858 s3.3, RFC 7766
 * s6.2.1.1) or multiplexed (HTTP/2 streams), so a few suffice; a second one opens only when
 * the first is full. */
#define RD_UP_CONNS_PER_UPSTREAM 2
/* Queries in flight on one connection; beyond it on every connection a try fails at once and
 * the engine moves on (bounded, never an unbounded backlog). Sized so that the connections of
 * one upstream hold every resolution a worker can have (RD_RECURSE_PENDING_MAX): a burst
 * of questions for one forwarder waits on its connections instead of failing (at 100 per
 * connection, 200 in flight already gave SERVFAIL, bench-forward -q 250). Beyond the
 * server's own stream limit, HTTP/2 requests wait inside nghttp2, DoT queries in the
 * server's socket; the write queue stays bounded by RD_UP_WRITE_MAX. */
#define RD_UP_CONN_INFLIGHT (RD_RECURSE_PENDING_MAX / RD_UP_CONNS_PER_UPSTREAM)
/* An upstream connection without queries stays open this long (RFC 7858 s3.4: reuse, RFC 7766
 * s6.2.3), then closes; the next one resumes the TLS session (RFC 8446 s2.2). */
#define RD_UP_IDLE_MS 10000u
/* TCP connect plus TLS handshake of an upstream connection. */
#define RD_UP_HANDSHAKE_MS 5000u
/* An upstream connection with queries outstanding from which nothing at all arrives for this
 * long is dropped (a hung server, a middlebox that forgot the flow: TCP alone would take
 * minutes to notice). Above RD_RES_RTO_MAX_MS, the longest a try is waited for. */
#define RD_UP_STALL_MS 5000u
/* After a failed connection (refused, handshake or certificate failure) new tries to that
 * upstream fail at once for this long: a flood of client queries does not become a flood of
 * handshakes and log lines; the engine backs the upstream off meanwhile (infra.c). */
#define RD_UP_FAIL_HOLD_MS 1000u
/* Upstream pools per worker (distinct upstreams of all forward: zones, across reloads): an
 * empty pool is reused when the table is full. */
#define RD_UP_POOLS_MAX 64
/* Ciphertext/HTTP octets queued for an upstream that does not read: beyond it the connection
 * is dropped (its queries fail over). */
#define RD_UP_WRITE_MAX (1024 * 1024)

#endif
