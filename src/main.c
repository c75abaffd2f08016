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

static bool same_listeners(const rd_conf_t *a, const rd_conf_t *b)
{
    if (a->nlisten != b->nlisten) return false;
    for (size_t i = 0; i < a->nlisten; i++)
        if (memcmp(&a->listen[i], &b->listen[i], sizeof(rd_addr_t)) != 0) return false;
    return true;
}

static void reload(void)
{
    rd_sd_notify("RELOADING=1");
    rd_log_info("SIGHUP: reloading %s", conf_path ? conf_path : "the default configuration");
    rd_view_t *v = load_view(conf_path);
    if (!v) {
        rd_log_error("reload failed: still serving the previous configuration");
        rd_sd_notify("READY=1");
        return;
    }
    if (!same_listeners(v->conf, current->conf))
        rd_log_warn("listen addresses changed: they take effect at the next restart");
    const rd_conf_t *a = v->conf, *b = current->conf;
    if (a->allow_loopback_upstreams != b->allow_loopback_upstreams ||
        a->qname_minimisation != b->qname_minimisation || a->cache_size != b->cache_size ||
        (a->root_hints == NULL) != (b->root_hints == NULL) ||
        (a->root_hints && strcmp(a->root_hints, b->root_hints) != 0))
        rd_log_warn("resolver settings (root-hints, cache-size, allow-loopback-upstreams, "
                    "qname-minimisation) changed: they take effect at the next restart");
    rd_log_level = v->conf->log_level;
    for (unsigned i = 0; i < nworkers; i++) rd_worker_set_view(&workers[i], v);
    rd_view_unref(current);
    current = v;
    rd_pcache_clear(rd_resolver_shared.pcache); /* local zones or forwarding may differ */
    rd_log_info("reloaded");
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

/* The cache and root hints every worker's resolver shares. The cache outlives reloads: a
 * new configuration keeps what was learned (cache-size changes need a restart). */
static char *hints_file_text;

static int setup_resolver(const rd_conf_t *c)
{
    rd_resolver_shared_t *s = &rd_resolver_shared;
    if (c->root_hints) {
        size_t len;
        int err_no = 0;
        int r = rd__file_read(c->root_hints, 16u << 20, &hints_file_text, &len, &err_no);
        if (r) {
            rd_log_error("root-hints %s: %s", c->root_hints, strerror(err_no));
            return -1;
        }
        s->hints = hints_file_text;
        s->hints_len = len;
    } else {
        s->hints = rd_root_hints_default(&s->hints_len);
    }
    uint8_t key[RD_CACHE_KEY_LEN];
    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
        rd_log_error("getrandom: %s", strerror(errno));
        return -1;
    }
    rd_cache_limits_t lim = {c->cache_min_ttl, c->cache_max_ttl, c->cache_max_negative_ttl};
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
    s->opts.allow_loopback_upstreams = c->allow_loopback_upstreams;
    s->opts.qname_min = c->qname_minimisation;
    /* stub: and forward: zones (issue 5); rd_res_new copies them per worker. */
    s->opts.stubs = c->stubs;
    s->opts.nstubs = c->nstubs;
    s->opts.forwards = c->forwards;
    s->opts.nforwards = c->nforwards;
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
    rd_pcache_free(rd_resolver_shared.pcache);
    free(hints_file_text);
    if (rc == 0) rd_log_info("stopped");
    return rc;
}
