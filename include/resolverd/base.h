/* resolverd base: error codes, assertions, arena allocator. */
#ifndef RESOLVERD_BASE_H
#define RESOLVERD_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors are negative values; 0 is success. rd_strerror() names each one. */
enum {
    RD_OK = 0,
    RD_ENOMEM = -1,     /* allocation failed */
    RD_EINVAL = -2,     /* bad argument */
    RD_ETRUNC = -3,     /* input ends before the structure it holds */
    RD_ESPACE = -4,     /* output does not fit the buffer or size limit */
    RD_ELABEL = -5,     /* label longer than 63 octets or a reserved label type */
    RD_ENAMELEN = -6,   /* name longer than 255 octets */
    RD_EPTR = -7,       /* compression pointer not strictly backwards (loop or forward) */
    RD_ECOUNT = -8,     /* section counts cannot fit in the message */
    RD_ERDATA = -9,     /* rdata does not match its type's layout or its RDLENGTH */
    RD_EOPT = -10,      /* malformed OPT record or EDNS option */
    RD_EOPTDUP = -11,   /* more than one OPT record */
    RD_ETRAILING = -12, /* bytes left after the last record */
    RD_ESYNTAX = -13,   /* presentation-format syntax error */
    RD_ERANGE = -14,    /* number out of range */
    RD_ENOTFOUND = -15,
    RD_EIO = -16,      /* file or socket I/O failed */
    RD_EBUG = -17,     /* internal invariant failed; the request fails, the daemon lives */
    RD_EQDCOUNT = -18, /* question count is not what the context requires */
    RD_ELIMIT = -19,   /* a configured or built-in limit was reached */
};

const char *rd_strerror(int err);

/* Invariant whose violation would corrupt memory: always aborts. */
#define RD_REQUIRE(x)                                                                              \
    do {                                                                                           \
        if (!(x)) rd__require_fail(#x, __FILE__, __LINE__);                                        \
    } while (0)
_Noreturn void rd__require_fail(const char *expr, const char *file, int line);

/* Logic that should hold: logs loudly, aborts in debug builds, otherwise returns true so the
 * caller can fail just this request: if (rd_fails_assert(x)) return RD_EBUG; */
#define rd_fails_assert(x) (!(x) && rd__assume_fail(#x, __FILE__, __LINE__))
bool rd__assume_fail(const char *expr, const char *file, int line);

/* Arena: a bump allocator for data that dies together (one request, one parse).
 * The first block can be caller-provided (e.g. on the stack) so that typical work does not
 * touch malloc at all; larger needs chain heap blocks, all freed by rd_arena_reset/free. */
typedef struct rd_arena_block rd_arena_block_t;
typedef struct {
    uint8_t *cur;           /* next free byte in the current block */
    uint8_t *end;           /* end of the current block */
    rd_arena_block_t *heap; /* heap blocks, newest first */
    uint8_t *first;         /* caller-provided first block (may be NULL) */
    size_t first_len;
    size_t limit; /* most heap bytes this arena may take (0: RD_ARENA_DEFAULT_LIMIT) */
    size_t used_heap;
} rd_arena_t;

void rd_arena_init(rd_arena_t *a, void *first, size_t first_len, size_t limit);
/* Returns 8-byte aligned memory or NULL when out of memory or past the limit. */
void *rd_arena_alloc(rd_arena_t *a, size_t n);
/* Forget every allocation; keeps the caller block, frees heap blocks. */
void rd_arena_reset(rd_arena_t *a);
void rd_arena_free(rd_arena_t *a);

#endif
