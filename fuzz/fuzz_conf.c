/* libFuzzer target: the configuration reader (src/conf/).
 *
 * The input is a resolver.conf. rd_conf_parse_mem must either succeed with a configuration
 * that holds every promise the parser makes, or fail with one of its documented codes and a
 * complete message "fuzz.conf:LINE: ..." whose line exists in the input; either way everything
 * is freed (LeakSanitizer checks). Oracles on success:
 *   - every address (listeners, ACL networks, upstreams, stub servers) prints and reads back
 *     to the same address (rd_addr_to_text / rd_addr_parse);
 *   - ACL rules have no host bits past their prefix, and rd_acl_check of each rule's own
 *     network gives an action at least as specific: never an error;
 *   - names are valid wire names; zone files and paths are non-empty strings;
 *   - tls:// upstreams have an authentication name or a pin; https:// have host and path;
 *   - cache-min-ttl <= cache-max-ttl; at least one listener.
 * The first line of the input is also read as an address by itself (round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "resolverd/conf.h"
#include "resolverd/name.h"

static void check_addr(const rd_addr_t *a, bool with_port)
{
    FUZZ_CHECK(a->family == 4 || a->family == 6, "family %u", a->family);
    FUZZ_CHECK(!with_port || a->port != 0, "port 0");
    char text[64];
    int n = rd_addr_to_text(a, text, sizeof(text));
    FUZZ_CHECK(n > 0 && (size_t)n == strlen(text), "rd_addr_to_text gave %d", n);
    rd_addr_t b;
    int r = rd_addr_parse(text, (size_t)n, 0, &b);
    FUZZ_CHECK(r == 0, "[%s] does not read back: %d", text, r);
    FUZZ_CHECK(b.family == a->family && b.port == a->port &&
                   memcmp(b.addr, a->addr, a->family == 4 ? 4 : 16) == 0,
               "[%s] reads back as another address", text);
    /* One octet short: RD_ESPACE, nothing written past the buffer. */
    char *tight = malloc((size_t)n);
    if (!tight) abort();
    FUZZ_CHECK(rd_addr_to_text(a, tight, (size_t)n) == RD_ESPACE, "short buffer accepted");
    free(tight);
}

static void check_name(const uint8_t *name)
{
    size_t len = 0;
    FUZZ_CHECK(rd_name_check(name, RD_NAME_MAX, &len) == 0, "invalid name stored");
}

static void check_path(const char *p)
{
    FUZZ_CHECK(p && p[0], "empty path stored");
}

static void check_conf(const rd_conf_t *c)
{
    FUZZ_CHECK(c->nlisten >= 1, "no listener");
    for (size_t i = 0; i < c->nlisten; i++) check_addr(&c->listen[i], true);
    for (size_t i = 0; i < c->nlisten_tls; i++) check_addr(&c->listen_tls[i], true);
    for (size_t i = 0; i < c->nlisten_https; i++) check_addr(&c->listen_https[i], true);
    /* TLS listeners may go without a certificate (one is generated in state-dir), but a
     * certificate never comes without its key, nor a key without its certificate */
    FUZZ_CHECK(!c->tls_certificate == !c->tls_key, "tls-certificate and tls-key apart");
    FUZZ_CHECK(c->https_path && c->https_path[0] == '/', "https-path");
    FUZZ_CHECK(c->threads <= 1024, "threads %u", c->threads);
    FUZZ_CHECK(c->cache_size >= (1u << 20), "cache-size %zu", c->cache_size);
    FUZZ_CHECK(c->edns_buffer_size >= 512 && c->edns_buffer_size <= 4096, "edns-buffer-size");
    FUZZ_CHECK(c->tcp_idle_timeout_ms >= 100 && c->tcp_idle_timeout_ms <= 3600000, "timeout");
    FUZZ_CHECK(c->cache_min_ttl <= c->cache_max_ttl, "min ttl %u > max %u", c->cache_min_ttl,
               c->cache_max_ttl);
    FUZZ_CHECK(c->log_level >= RD_LOG_ERROR && c->log_level <= RD_LOG_DEBUG, "log level");
    if (c->identity) FUZZ_CHECK(strlen(c->identity) <= 255, "identity too long");
    if (c->version) FUZZ_CHECK(strlen(c->version) <= 255, "version too long");
    if (c->root_hints) check_path(c->root_hints);
    if (c->pidfile) check_path(c->pidfile);
    check_path(c->state_dir);

    for (size_t i = 0; i < c->nacl; i++) {
        const rd_acl_rule_t *r = &c->acl[i];
        unsigned max = r->net.family == 4 ? 32 : 128;
        FUZZ_CHECK(r->prefix <= max, "prefix %u", r->prefix);
        FUZZ_CHECK(r->action <= RD_ACL_ALLOW_SNOOP, "action %u", r->action);
        for (unsigned b = r->prefix; b < max; b++)
            FUZZ_CHECK(!(r->net.addr[b / 8] & (0x80 >> (b % 8))), "host bit %u set", b);
        check_addr(&r->net, false);
        int a = rd_acl_check(c, &r->net);
        FUZZ_CHECK(a >= RD_ACL_DENY && a <= RD_ACL_ALLOW_SNOOP, "rd_acl_check gave %d", a);
    }

    for (size_t i = 0; i < c->nzones; i++) {
        check_name(c->zones[i].name);
        check_path(c->zones[i].file);
        FUZZ_CHECK(c->zones[i].line > 0, "zone line 0");
    }
    for (size_t i = 0; i < c->nforwards; i++) {
        const rd_conf_forward_t *f = &c->forwards[i];
        check_name(f->name);
        FUZZ_CHECK(f->nupstreams > 0, "forward without upstream");
        for (size_t j = 0; j < f->nupstreams; j++) {
            const rd_conf_upstream_t *u = &f->upstreams[j];
            FUZZ_CHECK(u->uri && u->uri[0], "no uri");
            switch (u->proto) {
            case RD_UP_UDP:
            case RD_UP_TCP:
                check_addr(&u->addr, true);
                FUZZ_CHECK(!u->auth_name && !u->path && !u->npins, "plain upstream extras");
                break;
            case RD_UP_TLS:
                check_addr(&u->addr, true);
                FUZZ_CHECK(u->auth_name || u->npins, "tls upstream cannot be authenticated");
                break;
            case RD_UP_HTTPS:
                FUZZ_CHECK(u->auth_name && u->auth_name[0], "https without host");
                FUZZ_CHECK(u->path && u->path[0] == '/', "https path");
                if (u->addr.family) check_addr(&u->addr, true);
                break;
            default: FUZZ_CHECK(0, "proto %u", u->proto);
            }
            for (size_t k = 0; k < u->npins; k++)
                FUZZ_CHECK(strlen(u->pins[k]) == 44, "pin length");
        }
    }
    for (size_t i = 0; i < c->nstubs; i++) {
        check_name(c->stubs[i].name);
        FUZZ_CHECK(c->stubs[i].nservers > 0, "stub without server");
        for (size_t j = 0; j < c->stubs[i].nservers; j++) check_addr(&c->stubs[i].servers[j], true);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: the parser must not read past len (the text is not NUL-ended). */
    char *text = (char *)fuzz_dup(data, size);
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    memset(&e, 0x5a, sizeof(e));
    int r = rd_conf_parse_mem(text, size, "fuzz.conf", &c, &e);
    if (r == 0) {
        FUZZ_CHECK(c != NULL, "success without a configuration");
        check_conf(c);
        rd_conf_free(c);
    } else {
        FUZZ_CHECK(c == NULL, "*out written on error");
        FUZZ_CHECK(r == RD_ESYNTAX || r == RD_ERANGE || r == RD_ELIMIT, "unexpected code %d", r);
        FUZZ_CHECK(memchr(e.msg, '\0', sizeof(e.msg)) && memchr(e.file, '\0', sizeof(e.file)) &&
                       memchr(e.key, '\0', sizeof(e.key)),
                   "unterminated error strings");
        FUZZ_CHECK(strncmp(e.msg, "fuzz.conf:", 10) == 0, "message [%s]", e.msg);
        size_t lines = 1;
        for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
        FUZZ_CHECK(e.line >= 1 && e.line <= lines, "error line %u of %zu", e.line, lines);
        if (e.key[0]) {
            char prefix[96];
            snprintf(prefix, sizeof(prefix), "fuzz.conf:%u: %s: ", e.line, e.key);
            FUZZ_CHECK(strncmp(e.msg, prefix, strlen(prefix)) == 0, "message [%s] key [%s]", e.msg,
                       e.key);
        }
    }

    /* The first line alone as an address. */
    size_t n = 0;
    while (n < size && n < 64 && data[n] != '\n') n++;
    rd_addr_t a;
    if (rd_addr_parse(text, n, 53, &a) == 0) check_addr(&a, true);
    free(text);
    return 0;
}
