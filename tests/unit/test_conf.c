/* Configuration (src/conf/): every key, the defaults, every kind of error with its exact
 * message, sizes and durations, access control, IP address text forms, upstream URIs, TLS pins,
 * relative paths, limits, and the files shipped in the repository (resolver.conf.example and
 * tests/conf/). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolverd/conf.h"
#include "resolverd/name.h"

#define CONF_DIR RD_SOURCE_DIR "/tests/conf"
#define PIN_A    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
#define PIN_Z    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* ---- helpers ---- */

static rd_conf_t *parse_ok(const char *text)
{
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    memset(&e, 0, sizeof(e));
    int r = rd_conf_parse_mem(text, strlen(text), "t.conf", &c, &e);
    cr_assert_eq(r, 0, "unexpected error %d: %s\n--- input:\n%s", r, e.msg, text);
    cr_assert_not_null(c);
    return c;
}

/* Parses text that must fail with code, the message "t.conf:<msg>" and the given key. */
static void parse_bad(const char *text, int code, unsigned line, const char *key, const char *msg)
{
    rd_conf_t *c = (rd_conf_t *)0x1;
    rd_conf_error_t e;
    memset(&e, 0x55, sizeof(e));
    int r = rd_conf_parse_mem(text, strlen(text), "t.conf", &c, &e);
    cr_assert_eq(r, code, "code %d (%s), expected %d\n--- input:\n%s", r, e.msg, code, text);
    cr_assert_eq(c, (rd_conf_t *)0x1, "*out touched on error");
    char want[512];
    snprintf(want, sizeof(want), "t.conf:%s", msg);
    cr_assert_str_eq(e.msg, want, "\n  actual: %s\nexpected: %s\n--- input:\n%s", e.msg, want,
                     text);
    cr_assert_str_eq(e.file, "t.conf");
    cr_assert_eq(e.line, line, "line %u, expected %u (%s)", e.line, line, e.msg);
    cr_assert_str_eq(e.key, key, "key '%s', expected '%s' (%s)", e.key, key, e.msg);
}

/* A server: section with one line. */
static rd_conf_t *server_ok(const char *line)
{
    char text[1024];
    snprintf(text, sizeof(text), "server:\n    %s\n", line);
    return parse_ok(text);
}

static void server_bad(const char *line, int code, const char *key, const char *what)
{
    char text[1024], msg[512];
    snprintf(text, sizeof(text), "server:\n    %s\n", line);
    snprintf(msg, sizeof(msg), "2: %s: %s", key, what);
    parse_bad(text, code, 2, key, msg);
}

static const char *addr_text(const rd_addr_t *a)
{
    static char buf[8][64];
    static int k;
    char *b = buf[k++ % 8];
    cr_assert_gt(rd_addr_to_text(a, b, 64), 0);
    return b;
}

static const char *name_text(const uint8_t *name)
{
    static char buf[4][RD_NAME_TEXT_MAX];
    static int k;
    char *b = buf[k++ % 4];
    cr_assert_gt(rd_name_to_text(name, b, RD_NAME_TEXT_MAX), 0);
    return b;
}

static rd_addr_t addr(const char *s)
{
    rd_addr_t a;
    int r = rd_addr_parse(s, strlen(s), 0, &a);
    cr_assert_eq(r, 0, "rd_addr_parse(%s) = %d", s, r);
    return a;
}

/* ---- defaults ---- */

static void check_defaults(const rd_conf_t *c)
{
    cr_assert_eq(c->nlisten, 2);
    cr_assert_str_eq(addr_text(&c->listen[0]), "127.0.0.1@53");
    cr_assert_str_eq(addr_text(&c->listen[1]), "::1@53");
    cr_assert_eq(c->nlisten_tls, 0);
    cr_assert_eq(c->nlisten_https, 0);
    cr_assert_null(c->tls_certificate);
    cr_assert_null(c->tls_key);
    cr_assert_null(c->tls_ca_file);
    cr_assert_str_eq(c->https_path, "/dns-query");
    cr_assert_str_eq(c->state_dir, "/var/lib/resolverd");
    cr_assert_eq(c->threads, 0);
    cr_assert_eq(c->cache_size, 64u << 20);
    cr_assert_eq(c->nacl, 0);
    cr_assert_null(c->root_hints);
    cr_assert_eq(c->allow_loopback_upstreams, false);
    cr_assert_eq(c->log_level, RD_LOG_INFO);
    cr_assert_null(c->user);
    cr_assert_null(c->pidfile);
    cr_assert_eq(c->edns_buffer_size, 1232);
    cr_assert_eq(c->tcp_idle_timeout_ms, 10000);
    cr_assert_eq(c->tcp_max_connections, 256);
    cr_assert_eq(c->tcp_max_inflight, 100);
    cr_assert_eq(c->hide_identity, true);
    cr_assert_eq(c->hide_version, true);
    cr_assert_null(c->identity);
    cr_assert_null(c->version);
    cr_assert_eq(c->cache_min_ttl, 0);
    cr_assert_eq(c->cache_max_ttl, 86400);
    cr_assert_eq(c->cache_max_negative_ttl, 3600);
    cr_assert_eq(c->qname_minimisation, true);
    cr_assert_eq(c->nzones, 0);
    cr_assert_eq(c->nforwards, 0);
    cr_assert_eq(c->nstubs, 0);
}

Test(conf_defaults, rd_conf_default)
{
    rd_conf_t *c = NULL;
    cr_assert_eq(rd_conf_default(&c), 0);
    check_defaults(c);
    cr_assert_eq(rd_acl_check(c, &(rd_addr_t){.family = 4, .addr = {127, 0, 0, 1}}), RD_ACL_ALLOW);
    rd_conf_free(c);
    rd_conf_free(NULL);
    cr_assert_eq(rd_conf_default(NULL), RD_EINVAL);
}

Test(conf_defaults, empty_and_comment_only_files)
{
    static const char *texts[] = {"",
                                  "\n\n",
                                  "# nothing\n   # indented comment\n\t\n",
                                  "server:\n",
                                  "server:\n\n# empty section\n",
                                  "server:"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        rd_conf_t *c = parse_ok(texts[i]);
        check_defaults(c);
        cr_assert_str_eq(c->path, "t.conf");
        rd_conf_free(c);
    }
}

Test(conf_defaults, listen_replaces_the_default_listeners)
{
    rd_conf_t *c = server_ok("listen: 0.0.0.0");
    cr_assert_eq(c->nlisten, 1);
    cr_assert_str_eq(addr_text(&c->listen[0]), "0.0.0.0@53");
    rd_conf_free(c);
    /* Other listeners leave the UDP/TCP defaults in place. */
    c = parse_ok("server:\n tls-certificate: c\n tls-key: k\n listen-tls: ::1\n");
    cr_assert_eq(c->nlisten, 2);
    cr_assert_eq(c->nlisten_tls, 1);
    cr_assert_str_eq(addr_text(&c->listen_tls[0]), "::1@853");
    rd_conf_free(c);
}

/* ---- every key ---- */

Test(conf_keys, full_file_every_key)
{
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    int r = rd_conf_parse_file(CONF_DIR "/full.conf", &c, &e);
    cr_assert_eq(r, 0, "%s", e.msg);
    cr_assert_str_eq(c->path, CONF_DIR "/full.conf");

    cr_assert_eq(c->nlisten, 2);
    cr_assert_str_eq(addr_text(&c->listen[0]), "192.0.2.1@53");
    cr_assert_str_eq(addr_text(&c->listen[1]), "2001:db8::53@5353");
    cr_assert_eq(c->nlisten_tls, 2);
    cr_assert_str_eq(addr_text(&c->listen_tls[0]), "192.0.2.1@853");
    cr_assert_str_eq(addr_text(&c->listen_tls[1]), "::1@8853");
    cr_assert_eq(c->nlisten_https, 2);
    cr_assert_str_eq(addr_text(&c->listen_https[0]), "192.0.2.1@8443");
    cr_assert_str_eq(addr_text(&c->listen_https[1]), "::@443");
    cr_assert_str_eq(c->tls_certificate, CONF_DIR "/certs/server.pem");
    cr_assert_str_eq(c->tls_key, "/etc/resolverd/server.key");
    cr_assert_str_eq(c->tls_ca_file, CONF_DIR "/certs/ca.pem");
    cr_assert_str_eq(c->https_path, "/custom-query");
    cr_assert_str_eq(c->state_dir, CONF_DIR "/state");
    cr_assert_eq(c->threads, 4);
    cr_assert_eq(c->cache_size, 128u << 20);
    cr_assert_eq(c->nacl, 3);
    cr_assert_str_eq(addr_text(&c->acl[0].net), "192.168.1.0");
    cr_assert_eq(c->acl[0].prefix, 24);
    cr_assert_eq(c->acl[0].action, RD_ACL_ALLOW);
    cr_assert_str_eq(addr_text(&c->acl[1].net), "10.0.0.0");
    cr_assert_eq(c->acl[1].prefix, 8);
    cr_assert_eq(c->acl[1].action, RD_ACL_REFUSE);
    cr_assert_str_eq(addr_text(&c->acl[2].net), "2001:db8::");
    cr_assert_eq(c->acl[2].prefix, 32);
    cr_assert_eq(c->acl[2].action, RD_ACL_DENY);
    cr_assert_str_eq(c->root_hints, CONF_DIR "/root.hints");
    cr_assert_eq(c->allow_loopback_upstreams, true);
    cr_assert_eq(c->log_level, RD_LOG_DEBUG);
    cr_assert_str_eq(c->user, "resolverd");
    cr_assert_str_eq(c->pidfile, "/run/resolverd.pid");
    cr_assert_eq(c->edns_buffer_size, 1400);
    cr_assert_eq(c->tcp_idle_timeout_ms, 30000);
    cr_assert_eq(c->tcp_max_connections, 1000);
    cr_assert_eq(c->tcp_max_inflight, 50);
    cr_assert_eq(c->hide_identity, false);
    cr_assert_eq(c->hide_version, false);
    cr_assert_str_eq(c->identity, "resolver \"one\" # not a comment");
    cr_assert_str_eq(c->version, "1.0 \\ beta");
    cr_assert_eq(c->cache_min_ttl, 60);
    cr_assert_eq(c->cache_max_ttl, 7200);
    cr_assert_eq(c->cache_max_negative_ttl, 900);
    cr_assert_eq(c->qname_minimisation, false);

    cr_assert_eq(c->nzones, 2);
    cr_assert_str_eq(name_text(c->zones[0].name), "home.lan.");
    cr_assert_str_eq(c->zones[0].file, CONF_DIR "/zones/home.lan.zone");
    cr_assert_eq(c->zones[0].line, 37);
    cr_assert_str_eq(name_text(c->zones[1].name), "1.168.192.in-addr.arpa.");
    cr_assert_str_eq(c->zones[1].file, "/var/lib/resolverd/reverse.zone");
    cr_assert_eq(c->zones[1].line, 41);

    cr_assert_eq(c->nforwards, 2);
    const rd_conf_forward_t *f = &c->forwards[0];
    cr_assert_str_eq(name_text(f->name), ".");
    cr_assert_eq(f->forward_first, true);
    cr_assert_eq(f->nupstreams, 2);
    cr_assert_eq(f->upstreams[0].proto, RD_UP_UDP);
    cr_assert_str_eq(addr_text(&f->upstreams[0].addr), "9.9.9.9@53");
    cr_assert_str_eq(f->upstreams[0].uri, "udp://9.9.9.9");
    cr_assert_eq(f->upstreams[1].proto, RD_UP_TCP);
    cr_assert_str_eq(addr_text(&f->upstreams[1].addr), "2620:fe::fe@53");

    f = &c->forwards[1];
    cr_assert_str_eq(name_text(f->name), "corp.example.");
    cr_assert_eq(f->forward_first, false);
    cr_assert_eq(f->nupstreams, 5);
    const rd_conf_upstream_t *u = &f->upstreams[0];
    cr_assert_eq(u->proto, RD_UP_TLS);
    cr_assert_str_eq(addr_text(&u->addr), "192.0.2.53@853");
    cr_assert_str_eq(u->auth_name, "dns.corp.example");
    cr_assert_eq(u->npins, 1);
    cr_assert_str_eq(u->pins[0], PIN_A);
    u = &f->upstreams[1];
    cr_assert_eq(u->proto, RD_UP_TLS);
    cr_assert_str_eq(addr_text(&u->addr), "2001:db8::53@8853");
    cr_assert_null(u->auth_name);
    cr_assert_eq(u->npins, 2);
    cr_assert_str_eq(u->pins[0], PIN_A);
    cr_assert_str_eq(u->pins[1], PIN_Z);
    u = &f->upstreams[2];
    cr_assert_eq(u->proto, RD_UP_HTTPS);
    cr_assert_str_eq(u->auth_name, "dns.corp.example");
    cr_assert_str_eq(u->path, "/dns-query");
    cr_assert_str_eq(addr_text(&u->addr), "192.0.2.80@443");
    cr_assert_eq(u->npins, 0);
    u = &f->upstreams[3];
    cr_assert_eq(u->proto, RD_UP_HTTPS);
    cr_assert_str_eq(u->auth_name, "2001:db8::443");
    cr_assert_str_eq(u->path, "/dns-query");
    cr_assert_str_eq(addr_text(&u->addr), "2001:db8::443@8443");
    u = &f->upstreams[4];
    cr_assert_eq(u->proto, RD_UP_HTTPS);
    cr_assert_str_eq(u->auth_name, "192.0.2.44");
    cr_assert_str_eq(u->path, "/q");
    cr_assert_str_eq(u->uri, "HTTPS://192.0.2.44/q");

    cr_assert_eq(c->nstubs, 1);
    cr_assert_str_eq(name_text(c->stubs[0].name), "lab.test.");
    cr_assert_eq(c->stubs[0].nservers, 2);
    cr_assert_str_eq(addr_text(&c->stubs[0].servers[0]), "127.0.0.53@53");
    cr_assert_str_eq(addr_text(&c->stubs[0].servers[1]), "::1@5300");
    rd_conf_free(c);
}

Test(conf_keys, the_example_file_parses)
{
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    int r = rd_conf_parse_file(RD_SOURCE_DIR "/resolver.conf.example", &c, &e);
    cr_assert_eq(r, 0, "%s", e.msg);
    cr_assert_geq(c->nzones, 1);
    cr_assert_str_eq(name_text(c->zones[0].name), "home.lan.");
    cr_assert_str_eq(c->zones[0].file, RD_SOURCE_DIR "/zones/local/home.lan.zone");
    cr_assert_eq(rd_acl_check(c, &(rd_addr_t){.family = 4, .addr = {127, 0, 0, 1}}), RD_ACL_ALLOW);
    rd_conf_free(c);
}

Test(conf_keys, threads_auto_and_bounds)
{
    rd_conf_t *c = server_ok("threads: auto");
    cr_assert_eq(c->threads, 0);
    rd_conf_free(c);
    c = server_ok("threads: 1024");
    cr_assert_eq(c->threads, 1024);
    rd_conf_free(c);
    server_bad("threads: lots", RD_ESYNTAX, "threads",
               "expected a number from 1 to 1024, got 'lots'");
    server_bad("threads: 0", RD_ERANGE, "threads", "expected a number from 1 to 1024, got '0'");
    server_bad("threads: 1025", RD_ERANGE, "threads",
               "expected a number from 1 to 1024, got '1025'");
    server_bad("threads: -1", RD_ESYNTAX, "threads", "expected a number from 1 to 1024, got '-1'");
    server_bad("threads: 99999999999999999999999", RD_ERANGE, "threads",
               "expected a number from 1 to 1024, got '99999999999999999999999'");
    server_bad("threads: AUTO", RD_ESYNTAX, "threads",
               "expected a number from 1 to 1024, got 'AUTO'");
}

Test(conf_keys, numbers)
{
    rd_conf_t *c = parse_ok("server:\n edns-buffer-size: 512\n tcp-max-connections: 65535\n"
                            " tcp-max-inflight: 1\n");
    cr_assert_eq(c->edns_buffer_size, 512);
    cr_assert_eq(c->tcp_max_connections, 65535);
    cr_assert_eq(c->tcp_max_inflight, 1);
    rd_conf_free(c);
    server_bad("edns-buffer-size: 511", RD_ERANGE, "edns-buffer-size",
               "expected a number from 512 to 4096, got '511'");
    server_bad("edns-buffer-size: 4097", RD_ERANGE, "edns-buffer-size",
               "expected a number from 512 to 4096, got '4097'");
    server_bad("edns-buffer-size: 1232b", RD_ESYNTAX, "edns-buffer-size",
               "expected a number from 512 to 4096, got '1232b'");
    server_bad("tcp-max-connections: 0", RD_ERANGE, "tcp-max-connections",
               "expected a number from 1 to 65535, got '0'");
    server_bad("tcp-max-inflight: 65536", RD_ERANGE, "tcp-max-inflight",
               "expected a number from 1 to 65535, got '65536'");
}

Test(conf_keys, booleans_yes_no_only)
{
    static const char *keys[] = {"allow-loopback-upstreams", "hide-identity", "hide-version",
                                 "qname-minimisation"};
    for (size_t i = 0; i < 4; i++) {
        char line[128];
        snprintf(line, sizeof(line), "%s: yes", keys[i]);
        rd_conf_t *c = server_ok(line);
        rd_conf_free(c);
        snprintf(line, sizeof(line), "%s: no", keys[i]);
        c = server_ok(line);
        rd_conf_free(c);
        snprintf(line, sizeof(line), "%s: true", keys[i]);
        server_bad(line, RD_ESYNTAX, keys[i], "expected yes or no, got 'true'");
        snprintf(line, sizeof(line), "%s: YES", keys[i]);
        server_bad(line, RD_ESYNTAX, keys[i], "expected yes or no, got 'YES'");
    }
    rd_conf_t *c = server_ok("qname-minimisation: \"no\"");
    cr_assert_eq(c->qname_minimisation, false);
    rd_conf_free(c);
}

Test(conf_keys, log_levels)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        char line[64];
        snprintf(line, sizeof(line), "log-level: %s", names[i]);
        rd_conf_t *c = server_ok(line);
        cr_assert_eq(c->log_level, i);
        rd_conf_free(c);
    }
    server_bad("log-level: verbose", RD_ESYNTAX, "log-level",
               "expected error, warn, info or debug, got 'verbose'");
    server_bad("log-level: 2", RD_ESYNTAX, "log-level",
               "expected error, warn, info or debug, got '2'");
}

Test(conf_keys, strings)
{
    rd_conf_t *c = server_ok("identity: \"\"");
    cr_assert_str_eq(c->identity, "");
    rd_conf_free(c);
    c = server_ok("version: resolverd with spaces   # comment");
    cr_assert_str_eq(c->version, "resolverd with spaces");
    rd_conf_free(c);
    c = server_ok("user: \"#nobody\"");
    cr_assert_str_eq(c->user, "#nobody");
    rd_conf_free(c);
    server_bad("user: \"\"", RD_ESYNTAX, "user", "expected a value");
    server_bad("identity:", RD_ESYNTAX, "identity", "expected a value");
    server_bad("identity:    # only a comment", RD_ESYNTAX, "identity", "expected a value");
    char line[400];
    memset(line, 0, sizeof(line));
    strcpy(line, "identity: ");
    memset(line + strlen(line), 'x', 256);
    server_bad(line, RD_ELIMIT, "identity", "longer than 255 characters");
    line[strlen(line) - 1] = '\0';
    c = server_ok(line);
    cr_assert_eq(strlen(c->identity), 255);
    rd_conf_free(c);
}

Test(conf_keys, https_path)
{
    rd_conf_t *c = server_ok("https-path: /a/b-c_d.e~f%20g");
    cr_assert_str_eq(c->https_path, "/a/b-c_d.e~f%20g");
    rd_conf_free(c);
    server_bad("https-path: dns-query", RD_ESYNTAX, "https-path",
               "expected a URL path starting with '/' (no '?', '#', '@' or blanks), got "
               "'dns-query'");
    server_bad("https-path: /dns?x", RD_ESYNTAX, "https-path",
               "expected a URL path starting with '/' (no '?', '#', '@' or blanks), got '/dns?x'");
    server_bad("https-path: \"/a b\"", RD_ESYNTAX, "https-path",
               "expected a URL path starting with '/' (no '?', '#', '@' or blanks), got '/a b'");
    server_bad("https-path: /%zz", RD_ESYNTAX, "https-path",
               "expected a URL path starting with '/' (no '?', '#', '@' or blanks), got '/%zz'");
}

Test(conf_keys, tls_certificate_and_key_go_together)
{
    parse_bad("server:\n  tls-certificate: a.pem\n", RD_ESYNTAX, 2, "tls-certificate",
              "2: tls-certificate: needs tls-key as well");
    parse_bad("server:\n  threads: 2\n  tls-key: a.key\n", RD_ESYNTAX, 3, "tls-key",
              "3: tls-key: needs tls-certificate as well");
    /* without a certificate, a self-signed one is generated at start (issue 7) */
    rd_conf_t *c = parse_ok("server:\n  listen-tls: 127.0.0.1\n  listen-https: ::1\n");
    cr_assert_eq(c->nlisten_tls, 1);
    cr_assert_eq(c->nlisten_https, 1);
    rd_conf_free(c);
}

Test(conf_keys, cache_ttls_min_not_above_max)
{
    rd_conf_t *c = parse_ok("server:\n cache-min-ttl: 1h\n cache-max-ttl: 3600\n");
    cr_assert_eq(c->cache_min_ttl, 3600);
    cr_assert_eq(c->cache_max_ttl, 3600);
    rd_conf_free(c);
    parse_bad("server:\n cache-min-ttl: 2w\n", RD_ESYNTAX, 2, "cache-min-ttl",
              "2: cache-min-ttl: expected whole seconds from 0 to 2147483647 (or an s, m, h or d "
              "suffix), got '2w'");
    parse_bad("server:\n cache-min-ttl: 100000\n", RD_ERANGE, 2, "cache-min-ttl",
              "2: cache-min-ttl: 100000s is more than cache-max-ttl (86400s)");
    parse_bad("server:\n cache-min-ttl: 600\n cache-max-ttl: 5m\n", RD_ERANGE, 3, "cache-max-ttl",
              "3: cache-max-ttl: 300s is less than cache-min-ttl (600s)");
    parse_bad("server:\n cache-max-ttl: 5m\n cache-min-ttl: 600\n", RD_ERANGE, 3, "cache-min-ttl",
              "3: cache-min-ttl: 600s is more than cache-max-ttl (300s)");
    server_bad("cache-max-ttl: 1500ms", RD_ESYNTAX, "cache-max-ttl",
               "expected whole seconds from 0 to 2147483647 (or an s, m, h or d suffix), got "
               "'1500ms'");
    server_bad("cache-max-negative-ttl: 2147483648", RD_ERANGE, "cache-max-negative-ttl",
               "expected whole seconds from 0 to 2147483647 (or an s, m, h or d suffix), got "
               "'2147483648'");
    c = server_ok("cache-max-negative-ttl: 2000ms");
    cr_assert_eq(c->cache_max_negative_ttl, 2);
    rd_conf_free(c);
}

/* ---- sizes and durations ---- */

Test(conf_values, sizes)
{
    static const struct {
        const char *text;
        size_t bytes;
    } good[] = {
        {"1048576", 1u << 20},   {"1m", 1u << 20},
        {"64m", 64u << 20},      {"64M", 64u << 20},
        {"64mb", 64u << 20},     {"64MB", 64u << 20},
        {"1G", 1u << 30},        {"1gB", 1u << 30},
        {"2048k", 2u << 20},     {"512K", 0},
        {"1t", (size_t)1 << 40}, {"1024g", (size_t)1 << 40},
        {"2097152b", 2u << 20},  {"0001m", 1u << 20},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char line[64];
        snprintf(line, sizeof(line), "cache-size: %s", good[i].text);
        if (good[i].bytes == 0) {
            server_bad(line, RD_ERANGE, "cache-size",
                       "expected a size from 1m to 1t (bytes, or a k, m, g or t suffix), got "
                       "'512K'");
            continue;
        }
        rd_conf_t *c = server_ok(line);
        cr_assert_eq(c->cache_size, good[i].bytes, "%s", good[i].text);
        rd_conf_free(c);
    }
    static const struct {
        const char *text;
        int code;
    } bad[] = {
        {"1048575", RD_ERANGE},      {"1025g", RD_ERANGE},
        {"2t", RD_ERANGE},           {"m", RD_ESYNTAX},
        {"64 m", RD_ESYNTAX},        {"64mm", RD_ESYNTAX},
        {"64x", RD_ESYNTAX},         {"-64m", RD_ESYNTAX},
        {"1.5g", RD_ESYNTAX},        {"99999999999999999999m", RD_ERANGE},
        {"17179869184g", RD_ERANGE}, {"64bm", RD_ESYNTAX},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[64], what[160];
        snprintf(line, sizeof(line), "cache-size: %s", bad[i].text);
        snprintf(what, sizeof(what),
                 "expected a size from 1m to 1t (bytes, or a k, m, g or t suffix), got '%s'",
                 bad[i].text);
        server_bad(line, bad[i].code, "cache-size", what);
    }
}

Test(conf_values, durations)
{
    static const struct {
        const char *text;
        uint32_t ms;
    } good[] = {
        {"100ms", 100},    {"100MS", 100},         {"1", 1000},
        {"1s", 1000},      {"10S", 10000},         {"2m", 120000},
        {"1h", 3600000},   {"1H", 3600000},        {"60m", 3600000},
        {"3600", 3600000}, {"3600000ms", 3600000},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char line[64];
        snprintf(line, sizeof(line), "tcp-idle-timeout: %s", good[i].text);
        rd_conf_t *c = server_ok(line);
        cr_assert_eq(c->tcp_idle_timeout_ms, good[i].ms, "%s", good[i].text);
        rd_conf_free(c);
    }
    static const struct {
        const char *text;
        int code;
    } bad[] = {
        {"99ms", RD_ERANGE},
        {"0", RD_ERANGE},
        {"3601", RD_ERANGE},
        {"2h", RD_ERANGE},
        {"1d", RD_ERANGE},
        {"1w", RD_ESYNTAX},
        {"1hm", RD_ESYNTAX},
        {"ms", RD_ESYNTAX},
        {"1.5s", RD_ESYNTAX},
        {"5 s", RD_ESYNTAX},
        {"1sec", RD_ESYNTAX},
        {"-1s", RD_ESYNTAX},
        {"999999999999999999999h", RD_ERANGE},
        {"9999999999999999h", RD_ERANGE},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[64], what[160];
        snprintf(line, sizeof(line), "tcp-idle-timeout: %s", bad[i].text);
        snprintf(what, sizeof(what),
                 "expected a duration from 100ms to 1h (seconds, or an ms, s, m, h or d "
                 "suffix), got '%s'",
                 bad[i].text);
        server_bad(line, bad[i].code, "tcp-idle-timeout", what);
    }
}

/* ---- syntax ---- */

Test(conf_syntax, sections_comments_quotes_blanks)
{
    rd_conf_t *c = parse_ok("# header\n"
                            "  server:   # indented header with a comment\n"
                            "threads:4\n"
                            "\tcache-size:\t 2m\t\n"
                            "    identity: \"a#b\" # c\n"
                            "    version: x#y #z\n"
                            "server:\n"
                            "    user: \"\\\\\\\"\"\n"
                            "  zone:\n"
                            "name: a.lan\n"
                            "        file: \"with space.zone\"\n");
    cr_assert_eq(c->threads, 4);
    cr_assert_eq(c->cache_size, 2u << 20);
    cr_assert_str_eq(c->identity, "a#b");
    cr_assert_str_eq(c->version, "x#y");
    cr_assert_str_eq(c->user, "\\\"");
    cr_assert_eq(c->nzones, 1);
    cr_assert_str_eq(c->zones[0].file, "with space.zone");
    cr_assert_eq(c->zones[0].line, 9);
    rd_conf_free(c);
}

Test(conf_syntax, hash_starts_a_comment_at_a_word_only)
{
    /* As in Unbound: "tls://IP#AUTHNAME" keeps its '#'; a blank before '#' starts a comment. */
    rd_conf_t *c = parse_ok("forward:\n name: .\n"
                            " upstream: tls://192.0.2.1#dns.example # the resolver\n"
                            " upstream: tls://192.0.2.2#dns.example\t# tab\n"
                            "server:#comment right after the colon\n"
                            " threads: 2 #x#y\n");
    const rd_conf_forward_t *f = &c->forwards[0];
    cr_assert_eq(f->nupstreams, 2);
    cr_assert_eq(c->threads, 2);
    cr_assert_str_eq(f->upstreams[0].uri, "tls://192.0.2.1#dns.example");
    cr_assert_str_eq(f->upstreams[0].auth_name, "dns.example");
    cr_assert_str_eq(f->upstreams[1].uri, "tls://192.0.2.2#dns.example");
    rd_conf_free(c);
    parse_bad("server:\n identity:#x\n", RD_ESYNTAX, 2, "identity",
              "2: identity: expected a value");
    parse_bad("forward:\n name: .\n upstream: tls://192.0.2.3#x#y\n", RD_ESYNTAX, 3, "upstream",
              "3: upstream: the authentication name 'x#y' after '#' is not a host name");
}

Test(conf_syntax, byte_order_mark_is_skipped)
{
    rd_conf_t *c = parse_ok("\xef\xbb\xbfserver:\n threads: 2\n");
    cr_assert_eq(c->threads, 2);
    rd_conf_free(c);
    parse_bad("server:\n\xef\xbb\xbfthreads: 2\n", RD_ESYNTAX, 2, "",
              "2: expected 'key: value' or a section header such as 'server:', got "
              "'\xef\xbb\xbfthreads: 2'");
}

Test(conf_syntax, crlf_file)
{
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    cr_assert_eq(rd_conf_parse_file(CONF_DIR "/crlf.conf", &c, &e), 0, "%s", e.msg);
    cr_assert_eq(c->threads, 3);
    cr_assert_str_eq(c->zones[0].file, CONF_DIR "/crlf.zone");
    rd_conf_free(c);
}

Test(conf_syntax, errors)
{
    parse_bad("server:\n  threads 4\n", RD_ESYNTAX, 2, "",
              "2: expected 'key: value' or a section header such as 'server:', got 'threads 4'");
    parse_bad("server:\n  : 4\n", RD_ESYNTAX, 2, "",
              "2: expected 'key: value' or a section header such as 'server:', got ': 4'");
    parse_bad("server:\n  threads! : 4\n", RD_ESYNTAX, 2, "",
              "2: expected 'key: value' or a section header such as 'server:', got "
              "'threads! : 4'");
    parse_bad("server:\n  \"threads\": 4\n", RD_ESYNTAX, 2, "",
              "2: expected 'key: value' or a section header such as 'server:', got "
              "'\"threads\": 4'");
    parse_bad("server:\n  identity: \"abc\" def\n", RD_ESYNTAX, 2, "identity",
              "2: identity: unexpected 'def' after the closing quote");
    parse_bad("server:\n  identity: \"a\\nb\"\n", RD_ESYNTAX, 2, "identity",
              "2: identity: unknown escape '\\n' in a quoted value (only \\\" and \\\\)");
    parse_bad("server:\n  identity: \"abc\\\"\n", RD_ESYNTAX, 2, "identity",
              "2: identity: the quoted value has no closing '\"'");
    parse_bad("server:\n  identity: ab\"c\"\n", RD_ESYNTAX, 2, "identity",
              "2: identity: a '\"' inside a value: quote the whole value");
    parse_bad("server:\n  identity: a\x01z\n", RD_ESYNTAX, 2, "identity",
              "2: identity: the value holds a control character (\\x01)");
    parse_bad("server:\n  server: 1.2.3.4\n", RD_ESYNTAX, 2, "server",
              "2: server: not allowed in a server: section (it belongs in stub:)");
    parse_bad("server:\n  zone: x\n", RD_ESYNTAX, 2, "zone",
              "2: zone: a section header stands alone on its line");
    parse_bad("server:\n  name: x\n", RD_ESYNTAX, 2, "name",
              "2: name: not allowed in a server: section (it belongs in zone:, forward: or "
              "stub:)");
    parse_bad("server:\n  foo:\n", RD_ESYNTAX, 2, "foo",
              "2: foo: unknown key in a server: section");
    parse_bad("server:\n  Threads: 4\n", RD_ESYNTAX, 2, "Threads",
              "2: Threads: unknown key in a server: section");
    parse_bad("foo: bar\n", RD_ESYNTAX, 1, "foo",
              "1: foo: unknown key, outside any section (expected server:, zone:, forward: or "
              "stub: first)");
    parse_bad("\n\nname: x\n", RD_ESYNTAX, 3, "name",
              "3: name: outside any section (it belongs in zone:, forward: or stub:)");
    parse_bad("listen:\n", RD_ESYNTAX, 1, "listen",
              "1: listen: outside any section (it belongs in server:)");
    parse_bad("Server:\n", RD_ESYNTAX, 1, "Server",
              "1: Server: unknown section (expected server:, zone:, forward: or stub:)");
    parse_bad("server:\n  threads: 2\n  threads: 3\n", RD_ESYNTAX, 3, "threads",
              "3: threads: already set at line 2");
    parse_bad("server:\n  threads: 2\nserver:\n  threads: 3\n", RD_ESYNTAX, 4, "threads",
              "4: threads: already set at line 2");
}

Test(conf_syntax, nul_octet)
{
    static const char text[] = "server:\n  identity: a\0b\n";
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    cr_assert_eq(rd_conf_parse_mem(text, sizeof(text) - 1, "t.conf", &c, &e), RD_ESYNTAX);
    cr_assert_str_eq(e.msg, "t.conf:2: the line holds a NUL octet");
    cr_assert_eq(e.line, 2);
}

Test(conf_syntax, long_values_are_cut_in_messages)
{
    char text[512], x[101];
    memset(x, 'x', 100);
    x[100] = '\0';
    snprintf(text, sizeof(text), "server:\n threads: %s\n", x);
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    cr_assert_eq(rd_conf_parse_mem(text, strlen(text), "t.conf", &c, &e), RD_ESYNTAX);
    cr_assert_str_eq(e.msg, "t.conf:2: threads: expected a number from 1 to 1024, got "
                            "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'");
    /* A very long file name cuts the message, never overflows it. */
    char name[400];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    cr_assert_eq(rd_conf_parse_mem(text, strlen(text), name, &c, &e), RD_ESYNTAX);
    cr_assert_eq(strlen(e.msg), sizeof(e.msg) - 1);
    cr_assert_eq(strlen(e.file), sizeof(e.file) - 1);
    cr_assert_eq(e.line, 2);
}

Test(conf_syntax, null_arguments)
{
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    cr_assert_eq(rd_conf_parse_mem(NULL, 0, NULL, &c, &e), 0);
    check_defaults(c);
    cr_assert_str_eq(c->path, "(config)");
    rd_conf_free(c);
    c = NULL;
    cr_assert_eq(rd_conf_parse_mem(NULL, 3, "x", &c, &e), RD_EINVAL);
    cr_assert_null(c);
    cr_assert_eq(rd_conf_parse_mem("", 0, "x", NULL, &e), RD_EINVAL);
    cr_assert_eq(rd_conf_parse_mem("threads: x\n", 11, "x", &c, NULL), RD_ESYNTAX);
    cr_assert_eq(rd_conf_parse_file(NULL, &c, &e), RD_EINVAL);
}

/* ---- files ---- */

Test(conf_files, unreadable)
{
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    cr_assert_eq(rd_conf_parse_file(CONF_DIR "/does-not-exist.conf", &c, &e), RD_EIO);
    cr_assert_str_eq(e.msg, CONF_DIR "/does-not-exist.conf: cannot read: No such file or "
                                     "directory");
    cr_assert_eq(e.line, 0);
    cr_assert_str_eq(e.key, "");
    cr_assert_null(c);
    cr_assert_eq(rd_conf_parse_file(CONF_DIR, &c, &e), RD_EIO);
    cr_assert_str_eq(e.msg, CONF_DIR ": cannot read: Is a directory");
}

Test(conf_files, too_large)
{
    char path[] = "/tmp/test_conf_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    static char block[65536];
    memset(block, '\n', sizeof(block));
    for (int i = 0; i < 256; i++) cr_assert_eq(fwrite(block, 1, sizeof(block), f), sizeof(block));
    cr_assert_eq(fflush(f), 0);
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    cr_assert_eq(rd_conf_parse_file(path, &c, &e), 0, "%s", e.msg); /* exactly 16 MiB */
    rd_conf_free(c);
    c = NULL;
    cr_assert_eq(fwrite("\n", 1, 1, f), 1);
    fclose(f);
    int r = rd_conf_parse_file(path, &c, &e);
    unlink(path);
    cr_assert_eq(r, RD_ELIMIT);
    char want[128];
    snprintf(want, sizeof(want), "%s: larger than 16 MiB", path);
    cr_assert_str_eq(e.msg, want);
    cr_assert_null(c);
}

Test(conf_files, relative_paths_join_the_file_directory)
{
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    cr_assert_eq(rd_conf_parse_file(CONF_DIR "/relative.conf", &c, &e), 0, "%s", e.msg);
    cr_assert_str_eq(c->root_hints, CONF_DIR "/hints/root.hints");
    cr_assert_str_eq(c->pidfile, CONF_DIR "/run/resolverd.pid");
    cr_assert_str_eq(c->state_dir, CONF_DIR "/../state");
    cr_assert_str_eq(c->tls_certificate, CONF_DIR "/cert.pem");
    cr_assert_str_eq(c->tls_key, "/abs/key.pem");
    cr_assert_str_eq(c->tls_ca_file, CONF_DIR "/./ca.pem");
    cr_assert_str_eq(c->zones[0].file, CONF_DIR "/zones/x.lan.zone");
    rd_conf_free(c);

    /* From memory, relative to ".": kept as written. */
    c = parse_ok("server:\n root-hints: hints/root.hints\nzone:\n name: x.lan\n file: x.zone\n");
    cr_assert_str_eq(c->root_hints, "hints/root.hints");
    cr_assert_str_eq(c->zones[0].file, "x.zone");
    rd_conf_free(c);
    server_bad("pidfile: \"\"", RD_ESYNTAX, "pidfile", "expected a path, got ''");
    char line[5000];
    strcpy(line, "pidfile: /");
    memset(line + 10, 'p', 4095);
    line[4105] = '\0';
    char text[5100];
    snprintf(text, sizeof(text), "server:\n%s\n", line);
    parse_bad(text, RD_ELIMIT, 2, "pidfile", "2: pidfile: path longer than 4095 characters");
    line[4104] = '\0';
    snprintf(text, sizeof(text), "server:\n%s\n", line);
    c = parse_ok(text);
    cr_assert_eq(strlen(c->pidfile), 4095);
    rd_conf_free(c);
}

/* Each tests/conf/bad-*.conf says on its first line what parsing it must report:
 * "# expect: CODE LINE: key: message". */
Test(conf_files, bad_samples)
{
    DIR *d = opendir(CONF_DIR);
    cr_assert_not_null(d);
    struct dirent *de;
    int seen = 0;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "bad-", 4) != 0) continue;
        char path[512], first[512], code[32], want[1100];
        snprintf(path, sizeof(path), "%s/%s", CONF_DIR, de->d_name);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f);
        cr_assert_not_null(fgets(first, sizeof(first), f));
        fclose(f);
        first[strcspn(first, "\n")] = '\0';
        int off = 0;
        cr_assert_eq(sscanf(first, "# expect: %31s %n", code, &off), 1, "%s", path);
        snprintf(want, sizeof(want), "%s:%s", path, first + off);
        int expect = strcmp(code, "ESYNTAX") == 0  ? RD_ESYNTAX
                     : strcmp(code, "ERANGE") == 0 ? RD_ERANGE
                                                   : 1;
        rd_conf_t *c = NULL;
        rd_conf_error_t e;
        int r = rd_conf_parse_file(path, &c, &e);
        cr_expect_eq(r, expect, "%s: %d (%s)", path, r, e.msg);
        cr_expect_str_eq(e.msg, want);
        cr_expect_null(c);
        seen++;
    }
    closedir(d);
    cr_assert_geq(seen, 10);
}

/* ---- limits ---- */

Test(conf_limits, repeatable_keys)
{
    size_t n = 100001, cap = n * 24 + 64, len = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    len += (size_t)snprintf(text + len, cap - len, "server:\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "listen: 10.%zu.%zu.%zu\n", i >> 16 & 255,
                                i >> 8 & 255, i & 255);
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    cr_assert_eq(rd_conf_parse_mem(text, len, "t.conf", &c, &e), RD_ELIMIT);
    cr_assert_str_eq(e.msg, "t.conf:100002: listen: more than 100000 entries");
    /* One fewer is fine. */
    char *last = strstr(text, "listen: 10.1.134.160\n");
    cr_assert_not_null(last);
    cr_assert_eq(rd_conf_parse_mem(text, (size_t)(last - text), "t.conf", &c, &e), 0, "%s", e.msg);
    cr_assert_eq(c->nlisten, 100000);
    cr_assert_str_eq(addr_text(&c->listen[99999]), "10.1.134.159@53");
    rd_conf_free(c);
    free(text);
}

Test(conf_limits, many_zones_and_duplicates)
{
    size_t n = 20000, cap = n * 64 + 128, len = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "zone:\n name: z%zu.lan\n file: f\n", i);
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    cr_assert_eq(rd_conf_parse_mem(text, len, "t.conf", &c, &e), 0, "%s", e.msg);
    cr_assert_eq(c->nzones, n);
    cr_assert_str_eq(name_text(c->zones[n - 1].name), "z19999.lan.");
    rd_conf_free(c);
    len += (size_t)snprintf(text + len, cap - len, "zone:\n name: Z777.LAN.\n file: f\n");
    cr_assert_eq(rd_conf_parse_mem(text, len, "t.conf", &c, &e), RD_ESYNTAX);
    cr_assert_str_eq(e.msg, "t.conf:60002: name: zone 'Z777.LAN.' is already defined at line "
                            "2333");
    free(text);
}

Test(conf_limits, line_and_file_size)
{
    /* Line 2 is a comment of exactly 65536 characters, then one more. */
    size_t len = 8 + 2 + 65534;
    char *text = malloc(len + 2);
    cr_assert_not_null(text);
    memcpy(text, "server:\n# ", 10);
    memset(text + 10, 'c', 65534);
    text[len] = '\n';
    rd_conf_t *c = NULL;
    rd_conf_error_t e;
    cr_assert_eq(rd_conf_parse_mem(text, len + 1, "t.conf", &c, &e), 0, "%s", e.msg);
    rd_conf_free(c);
    text[len] = 'c';
    text[len + 1] = '\n';
    cr_assert_eq(rd_conf_parse_mem(text, len + 2, "t.conf", &c, &e), RD_ELIMIT);
    cr_assert_str_eq(e.msg, "t.conf:2: line longer than 65536 characters");
    free(text);

    size_t huge = (16u << 20) + 1;
    text = malloc(huge);
    cr_assert_not_null(text);
    memset(text, '\n', huge);
    cr_assert_eq(rd_conf_parse_mem(text, huge, "t.conf", &c, &e), RD_ELIMIT);
    cr_assert_str_eq(e.msg, "t.conf: larger than 16 MiB");
    cr_assert_eq(rd_conf_parse_mem(text, huge - 1, "t.conf", &c, &e), 0, "%s", e.msg);
    rd_conf_free(c);
    free(text);
}

/* ---- sections ---- */

Test(conf_sections, zone)
{
    rd_conf_t *c = parse_ok("zone:\n name: \"a\\\\.b.lan\"\n file: z\nzone:\n name: .\n file: r\n");
    cr_assert_eq(c->nzones, 2);
    cr_assert_str_eq(name_text(c->zones[0].name), "a\\.b.lan.");
    cr_assert_eq(c->zones[0].name[0], 3); /* one label "a.b" */
    cr_assert_str_eq(name_text(c->zones[1].name), ".");
    rd_conf_free(c);
    parse_bad("zone:\n name: a.lan\n", RD_ESYNTAX, 1, "file",
              "1: file: required in a zone: section");
    parse_bad("zone:\n name: a.lan\n file: x\nzone:\nserver:\n", RD_ESYNTAX, 4, "name",
              "4: name: required in a zone: section");
    parse_bad("zone:\n name: a..lan\n", RD_ESYNTAX, 2, "name",
              "2: name: expected a domain name, got 'a..lan'");
    parse_bad("zone:\n name: "
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.lan\n",
              RD_ERANGE, 2, "name",
              "2: name: expected a domain name, got "
              "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (a label is longer than 63 "
              "octets)");
    parse_bad("zone:\n name: a.lan\n name: b.lan\n", RD_ESYNTAX, 3, "name",
              "3: name: already set at line 2");
    parse_bad("zone:\n file: a\n upstream: udp://1.2.3.4\n", RD_ESYNTAX, 3, "upstream",
              "3: upstream: not allowed in a zone: section (it belongs in forward:)");
    /* The same name in sections of different kinds is fine. */
    c = parse_ok("zone:\n name: x.\n file: f\nforward:\n name: x.\n upstream: udp://1.1.1.1\n"
                 "stub:\n name: x.\n server: 1.1.1.1\n");
    rd_conf_free(c);
}

Test(conf_sections, forward)
{
    parse_bad("forward:\n name: x.\n", RD_ESYNTAX, 1, "upstream",
              "1: upstream: at least one is required in a forward: section");
    parse_bad("forward:\n upstream: udp://1.1.1.1\n", RD_ESYNTAX, 1, "name",
              "1: name: required in a forward: section");
    parse_bad("forward:\n name: x.\n upstream: udp://1.1.1.1\nforward:\n name: X\n", RD_ESYNTAX, 5,
              "name", "5: name: forward 'X.' is already defined at line 2");
    parse_bad("forward:\n name: x.\n upstream: udp://1.1.1.1\n forward-first: maybe\n", RD_ESYNTAX,
              4, "forward-first", "4: forward-first: expected yes or no, got 'maybe'");
}

Test(conf_sections, stub)
{
    parse_bad("stub:\n name: x.\n", RD_ESYNTAX, 1, "server",
              "1: server: at least one is required in a stub: section");
    parse_bad("stub:\n name: x.\n server: 1.2.3\n", RD_ESYNTAX, 3, "server",
              "3: server: expected an IPv4 or IPv6 address with an optional @port (default 53), "
              "got '1.2.3'");
    parse_bad("stub:\n name: x.\n server: 1.2.3.4@0\n", RD_ERANGE, 3, "server",
              "3: server: expected an IPv4 or IPv6 address with an optional @port (default 53), "
              "got '1.2.3.4@0'");
    parse_bad("stub:\n name: x.\n server: 1.1.1.1\nstub:\n name: x\n server: 1.1.1.1\n", RD_ESYNTAX,
              5, "name", "5: name: stub 'x.' is already defined at line 2");
}

Test(conf_sections, listen_errors)
{
    server_bad("listen: 127.0.0.1:53", RD_ESYNTAX, "listen",
               "expected an IPv4 or IPv6 address with an optional @port (default 53), got "
               "'127.0.0.1:53'");
    server_bad("listen: [::1]@53", RD_ESYNTAX, "listen",
               "expected an IPv4 or IPv6 address with an optional @port (default 53), got "
               "'[::1]@53'");
    server_bad("listen-tls: localhost", RD_ESYNTAX, "listen-tls",
               "expected an IPv4 or IPv6 address with an optional @port (default 853), got "
               "'localhost'");
    server_bad("listen-https: 1.2.3.4@65536", RD_ERANGE, "listen-https",
               "expected an IPv4 or IPv6 address with an optional @port (default 443), got "
               "'1.2.3.4@65536'");
}

/* ---- upstream URIs and pins ---- */

static rd_conf_t *forward_ok(const char *lines)
{
    char text[2048];
    snprintf(text, sizeof(text), "forward:\n  name: .\n%s", lines);
    return parse_ok(text);
}

static void upstream_bad(const char *uri, int code, const char *what)
{
    char text[1024], msg[512];
    snprintf(text, sizeof(text), "forward:\n  name: .\n  upstream: %s\n", uri);
    snprintf(msg, sizeof(msg), "3: upstream: %s", what);
    parse_bad(text, code, 3, "upstream", msg);
}

Test(conf_upstream, forms)
{
    static const struct {
        const char *uri;
        uint8_t proto;
        const char *addr, *auth, *path;
    } good[] = {
        {"udp://192.0.2.1", RD_UP_UDP, "192.0.2.1@53", NULL, NULL},
        {"udp://192.0.2.1@5353", RD_UP_UDP, "192.0.2.1@5353", NULL, NULL},
        {"tcp://2001:DB8::1", RD_UP_TCP, "2001:db8::1@53", NULL, NULL},
        {"TCP://::ffff:192.0.2.1@54", RD_UP_TCP, "::ffff:192.0.2.1@54", NULL, NULL},
        {"tls://192.0.2.1#dns.example", RD_UP_TLS, "192.0.2.1@853", "dns.example", NULL},
        {"tls://192.0.2.1@8853#dns.example.", RD_UP_TLS, "192.0.2.1@8853", "dns.example", NULL},
        {"tls://2001:db8::1#_x-1.example", RD_UP_TLS, "2001:db8::1@853", "_x-1.example", NULL},
        {"https://dns.example", RD_UP_HTTPS, NULL, "dns.example", "/dns-query"},
        {"https://dns.example/", RD_UP_HTTPS, NULL, "dns.example", "/"},
        {"https://dns.example:8443/q/r", RD_UP_HTTPS, NULL, "dns.example", "/q/r"},
        {"https://dns.example./dns-query@192.0.2.9", RD_UP_HTTPS, "192.0.2.9@443", "dns.example",
         "/dns-query"},
        {"https://dns.example:444@2001:db8::9", RD_UP_HTTPS, "2001:db8::9@444", "dns.example",
         "/dns-query"},
        {"https://192.0.2.7", RD_UP_HTTPS, "192.0.2.7@443", "192.0.2.7", "/dns-query"},
        {"https://[2001:db8::7]:4443/x%2Fy", RD_UP_HTTPS, "2001:db8::7@4443", "2001:db8::7",
         "/x%2Fy"},
        {"https://[::1]/dns-query@::2", RD_UP_HTTPS, "::2@443", "::1", "/dns-query"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char lines[512];
        snprintf(lines, sizeof(lines), "  upstream: %s\n%s", good[i].uri,
                 good[i].proto == RD_UP_TLS && !strchr(good[i].uri, '#') ? "tls-pin: " PIN_A "\n"
                                                                         : "");
        rd_conf_t *c = forward_ok(lines);
        const rd_conf_upstream_t *u = &c->forwards[0].upstreams[0];
        cr_assert_eq(u->proto, good[i].proto, "%s", good[i].uri);
        cr_assert_str_eq(u->uri, good[i].uri);
        if (good[i].addr)
            cr_assert_str_eq(addr_text(&u->addr), good[i].addr, "%s", good[i].uri);
        else
            cr_assert_eq(u->addr.family, 0, "%s", good[i].uri);
        if (good[i].auth)
            cr_assert_str_eq(u->auth_name, good[i].auth, "%s", good[i].uri);
        else
            cr_assert_null(u->auth_name, "%s", good[i].uri);
        if (good[i].path)
            cr_assert_str_eq(u->path, good[i].path, "%s", good[i].uri);
        else
            cr_assert_null(u->path, "%s", good[i].uri);
        rd_conf_free(c);
    }
}

Test(conf_upstream, errors)
{
    upstream_bad("192.0.2.1", RD_ESYNTAX,
                 "expected udp://, tcp://, tls:// or https:// URI, got '192.0.2.1'");
    upstream_bad("quic://192.0.2.1", RD_ESYNTAX,
                 "expected udp://, tcp://, tls:// or https:// URI, got 'quic://192.0.2.1'");
    upstream_bad("udp://192.0.2.1#dns.example", RD_ESYNTAX,
                 "#AUTHNAME is only for tls:// upstreams");
    upstream_bad("udp://dns.example", RD_ESYNTAX,
                 "expected an IP address with an optional @port after the scheme, got "
                 "'dns.example'");
    upstream_bad("tcp://1.2.3.256", RD_ERANGE,
                 "expected an IP address with an optional @port after the scheme, got "
                 "'1.2.3.256'");
    upstream_bad("tcp://[::1]@53", RD_ESYNTAX,
                 "expected an IP address with an optional @port after the scheme, got '[::1]@53'");
    upstream_bad("udp://", RD_ESYNTAX,
                 "expected an IP address with an optional @port after the scheme, got ''");
    upstream_bad("tls://192.0.2.1#", RD_ESYNTAX,
                 "the authentication name '' after '#' is not a host name");
    upstream_bad("tls://192.0.2.1#a..b", RD_ESYNTAX,
                 "the authentication name 'a..b' after '#' is not a host name");
    upstream_bad("tls://192.0.2.1#-a.b", RD_ESYNTAX,
                 "the authentication name '-a.b' after '#' is not a host name");
    upstream_bad("https://", RD_ESYNTAX, "expected a host after https://");
    upstream_bad("https://:443/x", RD_ESYNTAX, "expected a host after https://");
    upstream_bad("https://dns example/", RD_ESYNTAX,
                 "host 'dns example' is not a host name or an IP address (IPv6 goes in "
                 "[brackets])");
    upstream_bad("https://2001:db8::1/", RD_ESYNTAX,
                 "IPv6 host '2001:db8::1' must be written in [brackets]");
    upstream_bad("https://::1", RD_ESYNTAX, "IPv6 host '::1' must be written in [brackets]");
    upstream_bad("https://1.2.3.999/", RD_ERANGE, "host '1.2.3.999' is not an IPv4 address");
    upstream_bad("https://[2001:db8::1/", RD_ESYNTAX,
                 "unclosed '[' in '[2001:db8::1/' (expected [IPv6])");
    upstream_bad("https://[1.2.3.4]/", RD_ESYNTAX,
                 "host '1.2.3.4' in brackets is not an IPv6 address");
    upstream_bad("https://[::1]x/", RD_ESYNTAX,
                 "unexpected 'x/' after the host (expected :PORT, /PATH or @BOOTSTRAP-IP)");
    upstream_bad("https://dns.example:0/", RD_ERANGE, "port '0' is not a number from 1 to 65535");
    upstream_bad("https://dns.example:/", RD_ESYNTAX, "port '' is not a number from 1 to 65535");
    upstream_bad("https://dns.example/q?dns=x", RD_ESYNTAX,
                 "path '/q?dns=x' has characters a URL path cannot hold (no '?', '#', '@' or "
                 "blanks)");
    upstream_bad("https://dns.example/dns-query@dns.google", RD_ESYNTAX,
                 "bootstrap address 'dns.google' after '@' is not an IP address (the port is the "
                 "URL's)");
    upstream_bad("https://dns.example/dns-query@1.2.3.4@53", RD_ESYNTAX,
                 "path '/dns-query@1.2.3.4' has characters a URL path cannot hold (no '?', '#', "
                 "'@' or blanks)");
    upstream_bad("https://dns.example@1.2.3.4@53", RD_ESYNTAX,
                 "path '@1.2.3.4' has characters a URL path cannot hold (no '?', '#', '@' or "
                 "blanks)");
}

Test(conf_upstream, tls_needs_authname_or_pin)
{
    parse_bad("forward:\n name: .\n upstream: tls://192.0.2.1\n", RD_ESYNTAX, 3, "upstream",
              "3: upstream: 'tls://192.0.2.1' cannot be authenticated: add #AUTHNAME or a "
              "tls-pin: line after it");
    parse_bad("forward:\n name: .\n upstream: tls://192.0.2.1\n upstream: tls://192.0.2.2#a\n",
              RD_ESYNTAX, 3, "upstream",
              "3: upstream: 'tls://192.0.2.1' cannot be authenticated: add #AUTHNAME or a "
              "tls-pin: line after it");
    parse_bad("forward:\n name: .\n upstream: tls://192.0.2.1\nserver:\n", RD_ESYNTAX, 3,
              "upstream",
              "3: upstream: 'tls://192.0.2.1' cannot be authenticated: add #AUTHNAME or a "
              "tls-pin: line after it");
    rd_conf_t *c = forward_ok(" upstream: tls://192.0.2.1\n tls-pin: " PIN_A "\n");
    cr_assert_eq(c->forwards[0].upstreams[0].npins, 1);
    rd_conf_free(c);
}

Test(conf_upstream, tls_pin_placement_and_form)
{
    parse_bad("forward:\n name: .\n tls-pin: " PIN_A "\n", RD_ESYNTAX, 3, "tls-pin",
              "3: tls-pin: must follow the upstream: line it pins (none yet in this forward: "
              "section)");
    /* Pins do not carry over to the next forward: section. */
    parse_bad("forward:\n name: a.\n upstream: tls://1.1.1.1#a.b\nforward:\n name: b.\n"
              " tls-pin: " PIN_A "\n",
              RD_ESYNTAX, 6, "tls-pin",
              "6: tls-pin: must follow the upstream: line it pins (none yet in this forward: "
              "section)");
    parse_bad("forward:\n name: .\n upstream: udp://1.1.1.1\n tls-pin: " PIN_A "\n", RD_ESYNTAX, 4,
              "tls-pin", "4: tls-pin: the upstream on line 3 is udp://, which has no TLS to pin");
    parse_bad("forward:\n name: .\n upstream: tcp://1.1.1.1\n\n tls-pin: " PIN_A "\n", RD_ESYNTAX,
              5, "tls-pin",
              "5: tls-pin: the upstream on line 3 is tcp://, which has no TLS to pin");
    static const char *bad_pins[] = {
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",    /* no padding */
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=",   /* non-canonical last bits */
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF==",   /* 31 octets */
        "47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",   /* URL alphabet */
        "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3h", /* a prefix */
    };
    for (size_t i = 0; i < sizeof(bad_pins) / sizeof(bad_pins[0]); i++) {
        char text[512], msg[512];
        snprintf(text, sizeof(text),
                 "forward:\n name: .\n upstream: https://d.example\n"
                 " tls-pin: %s\n",
                 bad_pins[i]);
        snprintf(msg, sizeof(msg),
                 "4: tls-pin: expected the base64 SHA-256 of a public key (44 characters ending "
                 "in '='), got '%.48s%s'",
                 bad_pins[i], strlen(bad_pins[i]) > 48 ? "..." : "");
        parse_bad(text, RD_ESYNTAX, 4, "tls-pin", msg);
    }
    rd_conf_t *c = forward_ok(" upstream: https://d.example\n tls-pin: " PIN_Z "\n");
    cr_assert_eq(c->forwards[0].upstreams[0].npins, 1);
    cr_assert_str_eq(c->forwards[0].upstreams[0].pins[0], PIN_Z);
    rd_conf_free(c);
}

/* ---- access control ---- */

static int acl(const rd_conf_t *c, const char *a)
{
    rd_addr_t x = addr(a);
    return rd_acl_check(c, &x);
}

Test(conf_acl, builtin_rules)
{
    cr_assert_eq(acl(NULL, "127.0.0.1"), RD_ACL_ALLOW);
    cr_assert_eq(acl(NULL, "127.255.255.255"), RD_ACL_ALLOW);
    cr_assert_eq(acl(NULL, "128.0.0.1"), RD_ACL_REFUSE);
    cr_assert_eq(acl(NULL, "::1"), RD_ACL_ALLOW);
    cr_assert_eq(acl(NULL, "::2"), RD_ACL_REFUSE);
    cr_assert_eq(acl(NULL, "::"), RD_ACL_REFUSE);
    cr_assert_eq(acl(NULL, "::ffff:127.0.0.1"), RD_ACL_ALLOW);
    cr_assert_eq(acl(NULL, "::ffff:192.0.2.1"), RD_ACL_REFUSE);
    cr_assert_eq(acl(NULL, "::127.0.0.1"), RD_ACL_REFUSE); /* compatible, not mapped */
    cr_assert_eq(rd_acl_check(NULL, &(rd_addr_t){.family = 5}), RD_EINVAL);
    cr_assert_eq(rd_acl_check(NULL, NULL), RD_EINVAL);
}

Test(conf_acl, longest_prefix_wins)
{
    rd_conf_t *c = parse_ok("server:\n"
                            "  access-control: 10.0.0.0/8 allow\n"
                            "  access-control: 10.1.0.0/16 deny\n"
                            "  access-control: 10.1.2.0/24 allow\n"
                            "  access-control: 10.1.2.3 refuse\n"
                            "  access-control: 0.0.0.0/0 deny\n"
                            "  access-control: 127.0.0.0/8 refuse\n"
                            "  access-control: 127.0.0.0/8 deny\n" /* equal prefix: last wins */
                            "  access-control: 2001:db8::/32 allow\n"
                            "  access-control: 2001:db8:1::/48 deny\n"
                            "  access-control: ::1 refuse\n"
                            "  access-control: ::ffff:192.168.0.0/112 allow\n"
                            "  access-control: fe80::/10 allow\n");
    cr_assert_eq(acl(c, "10.9.9.9"), RD_ACL_ALLOW);
    cr_assert_eq(acl(c, "10.1.9.9"), RD_ACL_DENY);
    cr_assert_eq(acl(c, "10.1.2.9"), RD_ACL_ALLOW);
    cr_assert_eq(acl(c, "10.1.2.3"), RD_ACL_REFUSE);
    cr_assert_eq(acl(c, "11.0.0.1"), RD_ACL_DENY); /* configured /0 beats the built-in /0 */
    cr_assert_eq(acl(c, "127.0.0.1"), RD_ACL_DENY);
    cr_assert_eq(acl(c, "2001:db8::1"), RD_ACL_ALLOW);
    cr_assert_eq(acl(c, "2001:db8:1::1"), RD_ACL_DENY);
    cr_assert_eq(acl(c, "2001:db9::1"), RD_ACL_REFUSE);
    cr_assert_eq(acl(c, "::1"), RD_ACL_REFUSE);
    cr_assert_eq(acl(c, "fe80::1"), RD_ACL_ALLOW);
    cr_assert_eq(acl(c, "febf:ffff::1"), RD_ACL_ALLOW);
    cr_assert_eq(acl(c, "fec0::1"), RD_ACL_REFUSE);
    /* Mapped clients are IPv4 clients; mapped rules are IPv4 rules. */
    cr_assert_eq(acl(c, "::ffff:10.1.2.3"), RD_ACL_REFUSE);
    cr_assert_eq(acl(c, "::ffff:10.1.2.4"), RD_ACL_ALLOW);
    cr_assert_eq(acl(c, "::ffff:127.0.0.1"), RD_ACL_DENY);
    cr_assert_eq(acl(c, "192.168.44.1"), RD_ACL_ALLOW);
    cr_assert_eq(acl(c, "::ffff:192.168.44.1"), RD_ACL_ALLOW);
    cr_assert_eq(acl(c, "192.169.0.1"), RD_ACL_DENY);
    cr_assert_eq(c->acl[10].net.family, 4);
    cr_assert_eq(c->acl[10].prefix, 16);
    cr_assert_str_eq(addr_text(&c->acl[10].net), "192.168.0.0");
    rd_conf_free(c);

    /* A configured rule with the same prefix as a built-in one wins over it. */
    c = server_ok("access-control: ::1/128 deny");
    cr_assert_eq(acl(c, "::1"), RD_ACL_DENY);
    rd_conf_free(c);
    c = server_ok("access-control: ::/0 allow");
    cr_assert_eq(acl(c, "2001:db8::1"), RD_ACL_ALLOW);
    cr_assert_eq(acl(c, "192.0.2.1"), RD_ACL_REFUSE);
    cr_assert_eq(acl(c, "::ffff:192.0.2.1"), RD_ACL_REFUSE);
    rd_conf_free(c);
    c = server_ok("access-control: 192.0.2.128/25 allow");
    cr_assert_eq(acl(c, "192.0.2.127"), RD_ACL_REFUSE);
    cr_assert_eq(acl(c, "192.0.2.128"), RD_ACL_ALLOW);
    cr_assert_eq(acl(c, "192.0.2.255"), RD_ACL_ALLOW);
    rd_conf_free(c);
}

Test(conf_acl, allow_snoop)
{
    /* Unbound's allow_snoop, also spelt allow-snoop: allowed, RD=0 answered from the cache. */
    rd_conf_t *c = parse_ok("server:\n"
                            "  access-control: 10.0.0.0/8 allow_snoop\n"
                            "  access-control: 10.1.0.0/16 allow-snoop\n"
                            "  access-control: 10.1.2.0/24 allow\n"
                            "  access-control: ::1 allow_snoop\n");
    cr_assert_eq(c->nacl, 4);
    cr_assert_eq(c->acl[0].action, RD_ACL_ALLOW_SNOOP);
    cr_assert_eq(c->acl[1].action, RD_ACL_ALLOW_SNOOP);
    cr_assert_eq(acl(c, "10.9.9.9"), RD_ACL_ALLOW_SNOOP);
    cr_assert_eq(acl(c, "10.1.9.9"), RD_ACL_ALLOW_SNOOP);
    cr_assert_eq(acl(c, "10.1.2.9"), RD_ACL_ALLOW);
    cr_assert_eq(acl(c, "::1"), RD_ACL_ALLOW_SNOOP);
    cr_assert_eq(acl(c, "127.0.0.1"), RD_ACL_ALLOW); /* built-in */
    cr_assert_eq(acl(c, "11.0.0.1"), RD_ACL_REFUSE);
    rd_conf_free(c);
}

Test(conf_acl, rule_errors)
{
    const char *k = "access-control";
    server_bad("access-control: 192.168.1.0/24", RD_ESYNTAX, k,
               "expected 'NETWORK[/PREFIX] allow|allow_snoop|refuse|deny', got '192.168.1.0/24'");
    server_bad("access-control: 192.168.1.0/24 allow now", RD_ESYNTAX, k,
               "expected 'NETWORK[/PREFIX] allow|allow_snoop|refuse|deny', got '192.168.1.0/24 "
               "allow now'");
    server_bad("access-control: 192.168.1.0/24 allow_snoopy", RD_ESYNTAX, k,
               "expected allow, allow_snoop, refuse or deny after the network, got "
               "'allow_snoopy'");
    server_bad("access-control: 192.168.1.0/24 allow-snoop-all", RD_ESYNTAX, k,
               "expected allow, allow_snoop, refuse or deny after the network, got "
               "'allow-snoop-all'");
    server_bad("access-control: 192.168.1.0/24 ALLOW", RD_ESYNTAX, k,
               "expected allow, allow_snoop, refuse or deny after the network, got 'ALLOW'");
    server_bad("access-control: 192.168.1.1/24 allow", RD_ESYNTAX, k,
               "'192.168.1.1/24' has host bits set past the prefix (the network is "
               "192.168.1.0/24)");
    server_bad("access-control: 2001:db8::1/32 allow", RD_ESYNTAX, k,
               "'2001:db8::1/32' has host bits set past the prefix (the network is "
               "2001:db8::/32)");
    server_bad("access-control: 10.0.0.0/33 allow", RD_ERANGE, k,
               "prefix '33' is not a number from 0 to 32 for IPv4");
    server_bad("access-control: ::/129 allow", RD_ERANGE, k,
               "prefix '129' is not a number from 0 to 128 for IPv6");
    server_bad("access-control: 10.0.0.0/08 allow", RD_ESYNTAX, k,
               "prefix '08' is not a number from 0 to 32 for IPv4");
    server_bad("access-control: 10.0.0.0/ allow", RD_ESYNTAX, k,
               "prefix '' is not a number from 0 to 32 for IPv4");
    server_bad("access-control: 10.0.0/8 allow", RD_ESYNTAX, k,
               "'10.0.0' is not an IPv4 or IPv6 address");
    server_bad("access-control: 10.0.0.1@53 allow", RD_ESYNTAX, k,
               "'10.0.0.1@53' is not an IPv4 or IPv6 address (no @port here)");
    server_bad("access-control: fe80::1%eth0 allow", RD_ESYNTAX, k,
               "'fe80::1%eth0' is not an IPv4 or IPv6 address");
    rd_conf_t *c = server_ok("access-control: \t0.0.0.0/0\t deny  ");
    cr_assert_eq(c->acl[0].prefix, 0);
    cr_assert_eq(c->acl[0].action, RD_ACL_DENY);
    rd_conf_free(c);
}

/* ---- addresses ---- */

Test(conf_addr, round_trips)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"0.0.0.0", "0.0.0.0"},
        {"255.255.255.255", "255.255.255.255"},
        {"192.0.2.1@53", "192.0.2.1@53"},
        {"10.20.30.40@65535", "10.20.30.40@65535"},
        {"::", "::"},
        {"::1", "::1"},
        {"1::", "1::"},
        {"::1@53", "::1@53"},
        {"2001:DB8::1", "2001:db8::1"},
        {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    /* RFC 5952 s4.2.3: first run */
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* s4.2.2: one 0 stays */
        {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          /* s4.2.3: longest run */
        {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
        {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
        {"fe80::a:b:c:d", "fe80::a:b:c:d"},
        {"FFFF:ffff:FFFF:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        {"::ffff:192.0.2.1", "::ffff:192.0.2.1"}, /* s5: mapped keeps the quad */
        {"::FFFF:c000:0201", "::ffff:192.0.2.1"},
        {"0:0:0:0:0:ffff:1.2.3.4@853", "::ffff:1.2.3.4@853"},
        {"::1.2.3.4", "::102:304"},
        {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
        {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
        {"1:0:0:0:0:0:0:0", "1::"},
        {"0:0:0:0:0:0:0:0", "::"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rd_addr_t a;
        int r = rd_addr_parse(cases[i].in, strlen(cases[i].in), 0, &a);
        cr_assert_eq(r, 0, "%s: %d", cases[i].in, r);
        char text[64];
        int n = rd_addr_to_text(&a, text, sizeof(text));
        cr_assert_str_eq(text, cases[i].out, "%s", cases[i].in);
        cr_assert_eq(n, (int)strlen(cases[i].out));
        rd_addr_t b;
        cr_assert_eq(rd_addr_parse(text, (size_t)n, 0, &b), 0, "%s", text);
        cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0, "%s does not read back", text);
    }
}

Test(conf_addr, default_port_and_lengths)
{
    rd_addr_t a;
    cr_assert_eq(rd_addr_parse("192.0.2.1", 9, 853, &a), 0);
    cr_assert_eq(a.family, 4);
    cr_assert_eq(a.port, 853);
    cr_assert_eq(rd_addr_parse("2001:db8::1@5353", 16, 853, &a), 0);
    cr_assert_eq(a.family, 6);
    cr_assert_eq(a.port, 5353);
    /* len bounds the text: no NUL needed, nothing read past it. */
    cr_assert_eq(rd_addr_parse("10.0.0.1xyz", 8, 0, &a), 0);
    cr_assert_str_eq(addr_text(&a), "10.0.0.1");
    char out[64];
    cr_assert_eq(rd_addr_to_text(&a, out, 9), 8);
    cr_assert_eq(rd_addr_to_text(&a, out, 8), RD_ESPACE);
    cr_assert_eq(rd_addr_to_text(&a, NULL, 0), RD_ESPACE);
    a.family = 0;
    cr_assert_eq(rd_addr_to_text(&a, out, sizeof(out)), RD_EINVAL);
    a = (rd_addr_t){.family = 6,
                    .addr = {0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
                    .port = 65535};
    cr_assert_eq(rd_addr_to_text(&a, out, sizeof(out)), 38);
    cr_assert_str_eq(out, "2001:db8:102:304:506:708:90a:b0c@65535");
}

Test(conf_addr, rejects)
{
    static const struct {
        const char *in;
        int code;
    } cases[] = {
        {"", RD_ESYNTAX},
        {"1.2.3", RD_ESYNTAX},
        {"1.2.3.4.5", RD_ESYNTAX},
        {"1.2.3.256", RD_ERANGE},
        {"1.2.3.1000", RD_ERANGE},
        {"01.2.3.4", RD_ESYNTAX},
        {"1.2.3.04", RD_ESYNTAX},
        {"1.2.3.00", RD_ESYNTAX},
        {"1..3.4", RD_ESYNTAX},
        {"1.2.3.4.", RD_ESYNTAX},
        {".1.2.3.4", RD_ESYNTAX},
        {"1.2.3.-4", RD_ESYNTAX},
        {"1.2.3.+4", RD_ESYNTAX},
        {" 1.2.3.4", RD_ESYNTAX},
        {"1.2.3.4 ", RD_ESYNTAX},
        {"0x1.2.3.4", RD_ESYNTAX},
        {"1.2.3.4@", RD_ESYNTAX},
        {"1.2.3.4@0", RD_ERANGE},
        {"1.2.3.4@65536", RD_ERANGE},
        {"1.2.3.4@053", RD_ESYNTAX},
        {"1.2.3.4@5x", RD_ESYNTAX},
        {"1.2.3.4@53@53", RD_ESYNTAX},
        {"1.2.3.4:53", RD_ESYNTAX},
        {":", RD_ESYNTAX},
        {":::", RD_ESYNTAX},
        {"::1::", RD_ESYNTAX},
        {"1::2::3", RD_ESYNTAX},
        {":1::", RD_ESYNTAX},
        {"1:", RD_ESYNTAX},
        {"1::2:", RD_ESYNTAX},
        {"1:2:3:4:5:6:7", RD_ESYNTAX},
        {"1:2:3:4:5:6:7:8:9", RD_ESYNTAX},
        {"1:2:3:4:5:6:7:8::", RD_ESYNTAX},
        {"::1:2:3:4:5:6:7:8", RD_ESYNTAX},
        {"1:2:3:4::5:6:7:8", RD_ESYNTAX},
        {"12345::", RD_ESYNTAX},
        {"g::", RD_ESYNTAX},
        {"fe80::1%eth0", RD_ESYNTAX},
        {"fe80::1%1", RD_ESYNTAX},
        {"[::1]", RD_ESYNTAX},
        {"[::1]@53", RD_ESYNTAX},
        {"::ffff:1.2.3", RD_ESYNTAX},
        {"::ffff:1.2.3.256", RD_ERANGE},
        {"::ffff:01.2.3.4", RD_ESYNTAX},
        {"::1.2.3.4:5", RD_ESYNTAX},
        {"1.2.3.4::", RD_ESYNTAX},
        {"1:2:3:4:5:6:7:1.2.3.4", RD_ESYNTAX},
        {"1:2:3:4:5:6::1.2.3.4", RD_ESYNTAX},
        {"::1@0", RD_ERANGE},
        {"localhost", RD_ESYNTAX},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rd_addr_t a = {.family = 99};
        int r = rd_addr_parse(cases[i].in, strlen(cases[i].in), 53, &a);
        cr_assert_eq(r, cases[i].code, "'%s': %d, expected %d", cases[i].in, r, cases[i].code);
        cr_assert_eq(a.family, 99, "'%s': out written on error", cases[i].in);
    }
    cr_assert_eq(rd_addr_parse(NULL, 0, 53, &(rd_addr_t){0}), RD_EINVAL);
}

/* Every IPv6 address with each group 0 or 1 (256 of them) prints in RFC 5952 form and reads
 * back: exercises every placement of "::". */
Test(conf_addr, ipv6_zero_patterns)
{
    for (unsigned m = 0; m < 256; m++) {
        rd_addr_t a = {.family = 6};
        for (int g = 0; g < 8; g++) a.addr[2 * g + 1] = (uint8_t)(m >> g & 1);
        char text[64];
        int n = rd_addr_to_text(&a, text, sizeof(text));
        cr_assert_gt(n, 0);
        rd_addr_t b;
        cr_assert_eq(rd_addr_parse(text, (size_t)n, 0, &b), 0, "%s", text);
        cr_assert_eq(memcmp(a.addr, b.addr, 16), 0, "%s", text);
        /* No ":::" and at most one "::"; "::" never stands for a single group. */
        cr_assert_null(strstr(text, ":::"), "%s", text);
        const char *dc = strstr(text, "::");
        if (dc) cr_assert_null(strstr(dc + 1, "::"), "%s", text);
        int colons = 0;
        for (int i = 0; i < n; i++) colons += text[i] == ':';
        if (dc)
            cr_assert_leq(colons, 7, "%s", text);
        else
            cr_assert_eq(colons, 7, "%s", text);
    }
}
