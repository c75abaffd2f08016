/* The immutable snapshot workers answer from: configuration + loaded zones. */
#include <stdio.h>
#include <stdlib.h>

#include "resolverd/query.h"

struct load_ctx {
    rd_view_err_cb err;
    void *ctx;
    int n;
};

static int zone_error(void *vctx, const rd_zone_error_t *e)
{
    struct load_ctx *c = vctx;
    char msg[600];
    snprintf(msg, sizeof(msg), "%s:%u:%u: %s", e->file, e->line, e->col, e->msg);
    c->n++;
    if (c->err) c->err(c->ctx, msg);
    return 0;
}

int rd_view_new(rd_conf_t *conf, rd_view_err_cb err, void *ctx, rd_view_t **out)
{
    rd_view_t *v = calloc(1, sizeof(*v));
    if (!v) return RD_ENOMEM;
    int r = rd_zoneset_new(&v->zones);
    if (r) goto fail;
    struct load_ctx lc = {err, ctx, 0};
    for (size_t i = 0; i < conf->nzones; i++) {
        rd_zone_t *z = NULL;
        r = rd_zone_load_file(conf->zones[i].file, conf->zones[i].name, zone_error, &lc, &z);
        if (r) {
            if (lc.n == 0 && err) {
                char msg[600];
                snprintf(msg, sizeof(msg), "%s: cannot load zone: %s", conf->zones[i].file,
                         rd_strerror(r));
                err(ctx, msg);
            }
            goto fail;
        }
        r = rd_zoneset_add(v->zones, z);
        if (r) {
            rd_zone_free(z);
            if (err) {
                char msg[600];
                snprintf(msg, sizeof(msg), "%s:%u: zone listed twice", conf->path,
                         conf->zones[i].line);
                err(ctx, msg);
            }
            goto fail;
        }
    }
    r = rd_zoneset_add_builtin(v->zones);
    if (r) goto fail;
    v->conf = conf;
    v->refs = 1;
    *out = v;
    return 0;
fail:
    if (v->zones) rd_zoneset_free(v->zones);
    free(v);
    return r ? r : RD_EINVAL;
}

rd_view_t *rd_view_ref(rd_view_t *v)
{
    __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
    return v;
}

void rd_view_unref(rd_view_t *v)
{
    if (!v || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    rd_zoneset_free(v->zones);
    rd_conf_free(v->conf);
    free(v);
}
