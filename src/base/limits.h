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

#endif
