/* Error names, assertion failure paths. */
#include <stdio.h>
#include <stdlib.h>

#include "resolverd/base.h"

const char *rd_strerror(int err)
{
    switch (err) {
    case RD_OK: return "success";
    case RD_ENOMEM: return "out of memory";
    case RD_EINVAL: return "invalid argument";
    case RD_ETRUNC: return "truncated input";
    case RD_ESPACE: return "no space in output";
    case RD_ELABEL: return "label too long or of a reserved type";
    case RD_ENAMELEN: return "name longer than 255 octets";
    case RD_EPTR: return "compression pointer not strictly backwards";
    case RD_ECOUNT: return "section counts exceed the message";
    case RD_ERDATA: return "rdata does not match its type";
    case RD_EOPT: return "malformed OPT record or EDNS option";
    case RD_EOPTDUP: return "more than one OPT record";
    case RD_ETRAILING: return "trailing bytes after the last record";
    case RD_ESYNTAX: return "syntax error";
    case RD_ERANGE: return "value out of range";
    case RD_ENOTFOUND: return "not found";
    case RD_EIO: return "I/O error";
    case RD_EBUG: return "internal error";
    case RD_EQDCOUNT: return "wrong question count";
    case RD_ELIMIT: return "limit reached";
    default: return "unknown error";
    }
}

_Noreturn void rd__require_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "resolverd: invariant failed: %s at %s:%d\n", expr, file, line);
    abort();
}

bool rd__assume_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "resolverd: assumption failed: %s at %s:%d\n", expr, file, line);
#ifdef RD_DEBUG
    abort();
#endif
    return true;
}
