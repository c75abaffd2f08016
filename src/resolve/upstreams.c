/* Forward upstreams as the shell needs them (issue 8): the engine keeps its own copy of each
 * configured upstream of a forward: zone (the configuration it was made from may be replaced
 * by a reload while requests of this context are still in flight), and actions name one by
 * index. What the transport found wrong with a try comes back through rd_req_try_failed. */
#include <stdlib.h>
#include <string.h>

#include "resolve/iter_int.h"

int rd__res_add_upstream(rd_res_t *res, const rd_conf_upstream_t *u)
{
    if (res->nups >= INT16_MAX) return RD_ERANGE;
    rd_conf_upstream_t *n = realloc(res->ups, (res->nups + 1) * sizeof(*n));
    if (!n) return RD_ENOMEM;
    res->ups = n;
    int r = rd_conf_upstream_copy(&res->ups[res->nups], u);
    res->nups++; /* even when incomplete: freed with the rest */
    return r ? r : (int)(res->nups - 1);
}

void rd__res_free_upstreams(rd_res_t *res)
{
    for (unsigned i = 0; i < res->nups; i++) rd_conf_upstream_free(&res->ups[i]);
    free(res->ups);
    res->ups = NULL;
    res->nups = 0;
}

const rd_conf_upstream_t *rd_res_upstream(const rd_res_t *res, int index)
{
    if (!res || index < 0 || (unsigned)index >= res->nups) return NULL;
    return &res->ups[index];
}

int rd_req_try_failed(rd_req_t *req, uint32_t token, int ede, const char *reason, uint64_t now_ms)
{
    int r = rd_req_timeout(req, token, now_ms);
    if (r != 0) return r;
    /* The last such failure is the one the client hears about (RFC 8914 s3: one EDE per
     * cause is enough; the log has every upstream's). */
    req->tr_ede = ede;
    req->tr_reason = reason;
    return 0;
}
