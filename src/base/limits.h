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
#define RD_TCP_BUF_INITIAL    4096
#define RD_TCP_BUF_MAX        (2 + 65535 + 2) /* one whole frame at most is ever buffered */
#define RD_TCP_WRITE_HIGH     (256 * 1024)    /* stop reading from a client this far behind */
#define RD_DRAIN_MS           2000 /* graceful shutdown: in-flight stream work gets this long */

#endif
