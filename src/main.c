/* resolverd: command line, start-up, signals, reload, shutdown. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/random.h>

#include "base/file.h"
#include "resolverd/zone.h"
#include "server/notify.h"
#include "server/server.h"

#ifndef RD_VERSION
#define RD_VERSION "0.0.0"
#endif
#define DEFAULT_CONF "/etc/resolverd/resolver.conf"

static const char *conf_path;
static rd_worker_t *workers;
static unsigned nworkers;
static rd_view_t *current;

static void usage(FILE *f)
{
    fprintf(f, "usage: resolverd [-c FILE] [--check-config] [-v] [--version] [--help]\n"
               "  -c, --config FILE   configuration (default " DEFAULT_CONF ")\n"
               "  --check-config      validate the configuration and its zones, then exit\n"
               "  -v, --verbose       log at debug level\n"
               "Runs in the foreground; SIGHUP reloads, SIGTERM/SIGINT stop gracefully.\n");
}

static int print_err(void *ctx, const char *msg)
{
    (void)ctx;
    rd_log_error("%s", msg);
    return 0;
}

/* Configuration + zones, or NULL with every error logged. */
static rd_view_t *load_view(const char *path)
{
    rd_conf_t *conf = NULL;
    rd_conf_error_t err;
    int r = path ? rd_conf_parse_file(path, &conf, &err) : rd_conf_default(&conf);
    if (r) {
        if (path)
            rd_log_error("%s", err.msg);
        else
            rd_log_error("default configuration: %s", rd_strerror(r));
        return NULL;
    }
    rd_view_t *v = NULL;
    r = rd_view_new(conf, print_err, NULL, &v);
    if (r) {
        rd_log_error("%s: not loaded (%s)", path ? path : "configuration", rd_strerror(r));
        rd_conf_free(conf);
        return NULL;
    }
    return v;
}

/* Field by field: rd_addr_t has a padding octet, and an IPv4 address only 4 meaningful ones. */
static bool same_addr(const rd_addr_t *a, const rd_addr_t *b)
{
    return a->family == b->family && a->port == b->port &&
           memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

static bool same_addrs(const rd_addr_t *a, size_t na, const rd_addr_t *b, size_t nb)
{
    if (na != nb) return false;
    for (size_t i = 0; i < na; i++)
        if (!same_addr(&a[i], &b[i])) return false;
    return true;
}

static bool same_listeners(const rd_conf_t *a, const rd_conf_t *b)
{
    return same_addrs(a->listen, a->nlisten, b->listen, b->nlisten) &&
           same_addrs(a->listen_tls, a->nlisten_tls, b->listen_tls, b->nlisten_tls) &&
           same_addrs(a->listen_https, a->nlisten_https, b->listen_https, b->nlisten_https);
}

/* Root hints text of a configuration: a file's contents (*owned is set, to be freed) or the
 * compiled-in hints. -1 with the error logged. */
static int load_hints(const rd_conf_t *c, char **owned, const char **text, size_t *len)
{
    *owned = NULL;
    if (!c->root_hints) {
        *text = rd_root_hints_default(len);
        return 0;
    }
    int err_no = 0;
    int r = rd__file_read(c->root_hints, RD_HINTS_FILE_MAX, owned, len, &err_no);
    if (r) {
        rd_log_error("root-hints %s: %s", c->root_hints,
                     err_no ? strerror(err_no) : rd_strerror(r));
        return -1;
    }
    *text = *owned;
    return 0;
}

/* Engine options of a configuration; the stub/forward arrays point into c (rd_res_new copies
 * them). */
static rd_res_opts_t res_opts(const rd_conf_t *c)
{
    rd_res_opts_t o = {0};
    o.allow_loopback_upstreams = c->allow_loopback_upstreams;
    o.qname_min = c->qname_minimisation;
    /* stub: and forward: zones (issue 5) */
    o.stubs = c->stubs;
    o.nstubs = c->nstubs;
    o.forwards = c->forwards;
    o.nforwards = c->nforwards;
    return o;
}

static rd_cache_limits_t cache_limits(const rd_conf_t *c)
{
    return (rd_cache_limits_t){c->cache_min_ttl, c->cache_max_ttl, c->cache_max_negative_ttl};
}

/* The cache and root hints every worker's resolver starts from. The cache lives for the whole
 * run: a reload builds new engine contexts over it (cache-size changes need a restart). The
 * hints text of the current configuration is kept to tell whether a reload changes it. */
static char *hints_file_text;

static int setup_resolver(const rd_conf_t *c)
{
    rd_resolver_shared_t *s = &rd_resolver_shared;
    if (load_hints(c, &hints_file_text, &s->hints, &s->hints_len) != 0) return -1;
    uint8_t key[RD_CACHE_KEY_LEN];
    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
        rd_log_error("getrandom: %s", strerror(errno));
        return -1;
    }
    rd_cache_limits_t lim = cache_limits(c);
    int r = rd_cache_new(c->cache_size, key, &lim, &s->cache);
    if (r) {
        rd_log_error("cache of %zu octets: %s", c->cache_size, rd_strerror(r));
        return -1;
    }
    uint8_t pkey[16];
    if (c->packet_cache_size > 0) {
        if (getrandom(pkey, sizeof(pkey), 0) != (ssize_t)sizeof(pkey) ||
            rd_pcache_new(c->packet_cache_size, pkey, &s->pcache) != 0) {
            rd_log_error("packet cache of %zu octets: cannot create it", c->packet_cache_size);
            return -1;
        }
    }
    s->opts = res_opts(c);
    return 0;
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL) == (b == NULL) && (!a || strcmp(a, b) == 0);
}

/* Same stub: and forward: sections, in the same order (a reordering counts as a change: the
 * answer is only a cache flush). */
static bool same_policy(const rd_conf_t *a, const rd_conf_t *b)
{
    if (a->nstubs != b->nstubs || a->nforwards != b->nforwards) return false;
    for (size_t i = 0; i < a->nstubs; i++) {
        const rd_conf_stub_t *x = &a->stubs[i], *y = &b->stubs[i];
        if (!rd_name_eq(x->name, y->name) ||
            !same_addrs(x->servers, x->nservers, y->servers, y->nservers))
            return false;
    }
    for (size_t i = 0; i < a->nforwards; i++) {
        const rd_conf_forward_t *x = &a->forwards[i], *y = &b->forwards[i];
        if (!rd_name_eq(x->name, y->name) || x->forward_first != y->forward_first ||
            x->nupstreams != y->nupstreams)
            return false;
        for (size_t j = 0; j < x->nupstreams; j++)
            if (!rd_conf_upstream_eq(&x->upstreams[j], &y->upstreams[j])) return false;
    }
    return true;
}

/* Whether what the cache holds may no longer be what the new configuration would have
 * fetched: other servers (stub/forward zones, root hints, loopback upstreams) or other TTL
 * clamps. Entries are not tagged with the route they came by, and the cache has no
 * per-subtree flush (a walk of every shard under its lock), so such a reload drops the whole
 * cache. Unbound flushes on every reload; we keep the cache when only other settings change
 * (the common case: ACLs, local zones, log level, QNAME minimisation). */
static bool cache_stale(const rd_conf_t *a, const rd_conf_t *b, const char *hints, size_t len)
{
    const rd_resolver_shared_t *s = &rd_resolver_shared;
    return !same_policy(a, b) || len != s->hints_len || memcmp(hints, s->hints, len) != 0 ||
           a->allow_loopback_upstreams != b->allow_loopback_upstreams ||
           a->cache_min_ttl != b->cache_min_ttl || a->cache_max_ttl != b->cache_max_ttl ||
           a->cache_max_negative_ttl != b->cache_max_negative_ttl;
}

/* Settings that only a restart applies: say so, and serve with the rest. */
static void warn_restart_only(const rd_conf_t *a, const rd_conf_t *b)
{
    if (!same_listeners(a, b))
        rd_log_warn("listen addresses changed: they take effect at the next restart");
    if (a->cache_size != b->cache_size)
        rd_log_warn("cache-size changed: it takes effect at the next restart (the cache of "
                    "%zu octets is kept)",
                    b->cache_size);
    if (a->packet_cache_size != b->packet_cache_size)
        rd_log_warn("packet-cache-size changed: it takes effect at the next restart");
    if (a->threads != b->threads)
        rd_log_warn("threads changed: it takes effect at the next restart");
    if (!same_str(a->user, b->user) || !same_str(a->pidfile, b->pidfile))
        rd_log_warn("user and pidfile changes take effect at the next restart");
}

/* SIGHUP: the new configuration as a whole or nothing. Everything that can fail (parse, zones,
 * root hints, one engine context per worker) is built first; only then is it handed over,
 * through each worker's wake (the one cross-thread call). Requests in flight finish with the
 * settings they started with. */
static void reload(void)
{
    rd_sd_notify("RELOADING=1");
    rd_log_info("SIGHUP: reloading %s", conf_path ? conf_path : "the default configuration");
    rd_view_t *v = load_view(conf_path);
    char *text = NULL;
    const char *hints = NULL;
    size_t hints_len = 0;
    rd_res_t **res = NULL;
    if (!v || load_hints(v->conf, &text, &hints, &hints_len) != 0) goto fail;
    const rd_conf_t *a = v->conf, *b = current->conf;
    res = calloc(nworkers, sizeof(*res));
    if (!res) {
        rd_log_error("out of memory");
        goto fail;
    }
    rd_res_opts_t opts = res_opts(a);
    opts.local = v->zones; /* https:// upstreams' hosts in local data (issue 8) */
    for (unsigned i = 0; i < nworkers; i++) {
        int r = rd_res_new(rd_resolver_shared.cache, hints, hints_len, &opts, rd_random32,
                           &workers[i], &res[i]);
        if (r) {
            rd_log_error("%s: resolver settings: %s", a->root_hints ? a->root_hints : "root hints",
                         rd_strerror(r));
            goto fail;
        }
    }
    rd_cache_limits_t lim = cache_limits(a);
    if (rd_cache_set_limits(rd_resolver_shared.cache, &lim) != 0) {
        rd_log_error("cache TTL limits: %s", rd_strerror(RD_EINVAL));
        goto fail;
    }
    /* nothing can fail from here on */
    warn_restart_only(a, b);
    bool flush = cache_stale(a, b, hints, hints_len);
    rd_log_level = a->log_level;
    for (unsigned i = 0; i < nworkers; i++) rd_worker_set_view(&workers[i], v, res[i], flush);
    free(res);
    if (flush) {
        /* After every worker has switched, so that no new request stores answers fetched
         * the old way; requests already in flight (at most RD_RES_TIME_MAX_MS) flush it
         * again as they end (rd_recurse_set_res). */
        for (unsigned i = 0; i < nworkers; i++)
            if (!rd_worker_wait_applied(&workers[i], RD_RELOAD_WAIT_MS))
                rd_log_warn("worker %u is slow to take the new configuration", i);
        rd_cache_clear(rd_resolver_shared.cache);
        rd_log_info("stub/forward zones, root hints, allow-loopback-upstreams or cache TTL "
                    "limits changed: cache flushed");
    }
    rd_resolver_shared.opts = res_opts(a);
    rd_resolver_shared.opts.local = v->zones;
    rd_resolver_shared.hints = hints;
    rd_resolver_shared.hints_len = hints_len;
    free(hints_file_text);
    hints_file_text = text;
    rd_view_unref(current);
    current = v;
    rd_pcache_clear(rd_resolver_shared.pcache); /* local zones or forwarding may differ */
    rd_log_info("reloaded");
    rd_sd_notify("READY=1");
    return;
fail:
    if (res)
        for (unsigned i = 0; i < nworkers; i++) rd_res_free(res[i]);
    free(res);
    free(text);
    if (v) rd_view_unref(v);
    rd_log_error("reload failed: still serving the previous configuration");
    rd_sd_notify("READY=1");
}

static void on_signal(uv_signal_t *s, int signum)
{
    if (signum == SIGHUP) {
        reload();
        return;
    }
    rd_log_info("%s: shutting down", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    rd_sd_notify("STOPPING=1");
    for (unsigned i = 0; i < nworkers; i++) rd_worker_stop(&workers[i]);
    uv_stop(s->loop);
}

static int drop_privileges(const char *user)
{
    if (!user || !*user || geteuid() != 0) return 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        rd_log_error("user '%s' does not exist", user);
        return -1;
    }
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        rd_log_error("cannot switch to user '%s': %s", user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        rd_log_error("privileges could be regained after dropping them: refusing to run");
        return -1;
    }
    rd_log_info("running as user %s", user);
    return 0;
}

int main(int argc, char **argv)
{
    bool check = false, verbose = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            printf("resolverd %s\n", RD_VERSION);
            return 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--check-config") == 0) {
            check = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = true;
        } else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
            conf_path = argv[++i];
        } else {
            fprintf(stderr, "resolverd: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!conf_path && access(DEFAULT_CONF, F_OK) == 0) conf_path = DEFAULT_CONF;
    if (verbose) rd_log_level = RD_LOG_DEBUG;
    current = load_view(conf_path);
    if (!current) return 1;
    if (!verbose) rd_log_level = current->conf->log_level;
    if (check) {
        printf("%s: configuration OK, %zu zone(s) loaded\n", conf_path ? conf_path : "(default)",
               current->conf->nzones);
        rd_view_unref(current);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    nworkers = current->conf->threads;
    if (nworkers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nworkers = n > 0 ? (unsigned)n : 1;
    }
    if (setup_resolver(current->conf) != 0) return 1;
    rd_resolver_shared.opts.local = current->zones; /* workers' engines read it at start */
    workers = calloc(nworkers, sizeof(*workers));
    if (!workers) {
        rd_log_error("out of memory");
        return 1;
    }
    rd_log_info("resolverd %s starting, %u worker thread(s)", RD_VERSION, nworkers);
    uv_loop_t *loop = uv_default_loop();
    uv_signal_t sigs[3];
    int signums[3] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(loop, &sigs[i]);
        uv_signal_start(&sigs[i], on_signal, signums[i]);
    }
    int rc = 0;
    unsigned started = 0;
    for (; started < nworkers; started++)
        if (rd_worker_start(&workers[started], started, current)) {
            rc = 1;
            started++;
            break;
        }
    if (rc == 0 && drop_privileges(current->conf->user) != 0) rc = 1;
    if (rc == 0) {
        if (current->conf->pidfile) {
            FILE *f = fopen(current->conf->pidfile, "w");
            if (f) {
                fprintf(f, "%ld\n", (long)getpid());
                fclose(f);
            } else {
                rd_log_warn("cannot write pidfile %s: %s", current->conf->pidfile, strerror(errno));
            }
        }
        rd_log_info("ready");
        rd_sd_notify("READY=1");
        uv_run(loop, UV_RUN_DEFAULT);
    } else {
        for (unsigned i = 0; i < started; i++) rd_worker_stop(&workers[i]);
    }
    for (unsigned i = 0; i < started; i++) rd_worker_join(&workers[i]);
    for (int i = 0; i < 3; i++) uv_close((uv_handle_t *)&sigs[i], NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    free(workers);
    rd_view_unref(current);
    if (rd_resolver_shared.cache) rd_cache_free(rd_resolver_shared.cache);
    if (rd_resolver_shared.pcache) {
        rd_pcache_stats_t st;
        rd_pcache_stats(rd_resolver_shared.pcache, &st);
        rd_log_info("packet cache: %llu hits, %llu misses, %llu answers stored",
                    (unsigned long long)st.hits, (unsigned long long)st.misses,
                    (unsigned long long)st.stores);
        rd_pcache_free(rd_resolver_shared.pcache);
    }
    free(hints_file_text);
    if (rc == 0) rd_log_info("stopped");
    return rc;
}
