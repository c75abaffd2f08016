/* resolver.conf: Unbound-like syntax (sections, "key: value", # comments, quoted strings).
 * The parsed configuration is an immutable snapshot: built once, shared read-only by every
 * worker, replaced as a whole on reload. */
#ifndef RESOLVERD_CONF_H
#define RESOLVERD_CONF_H

#include "resolverd/base.h"
#include "resolverd/name.h"

/* An IP address and port, without socket headers (the core does no I/O). */
typedef struct {
    uint8_t family;   /* 4 or 6 */
    uint8_t addr[16]; /* IPv4 in the first 4 octets */
    uint16_t port;
} rd_addr_t;

/* allow_snoop (Unbound's name): allow, and RD=0 queries are answered from the cache (without
 * it they are REFUSED, so nobody can probe what others asked). */
enum rd_acl_action {
    RD_ACL_DENY = 0,
    RD_ACL_REFUSE = 1,
    RD_ACL_ALLOW = 2,
    RD_ACL_ALLOW_SNOOP = 3,
};

typedef struct {
    rd_addr_t net;  /* port unused */
    uint8_t prefix; /* 0..32 or 0..128 */
    uint8_t action; /* enum rd_acl_action */
} rd_acl_rule_t;

enum rd_log_level { RD_LOG_ERROR = 0, RD_LOG_WARN = 1, RD_LOG_INFO = 2, RD_LOG_DEBUG = 3 };

typedef struct {
    uint8_t name[RD_NAME_MAX];
    char *file;
    unsigned line; /* where the zone: section starts, for messages */
} rd_conf_zone_t;

enum rd_upstream_proto { RD_UP_UDP = 1, RD_UP_TCP, RD_UP_TLS, RD_UP_HTTPS };

typedef struct {
    uint8_t proto;   /* enum rd_upstream_proto */
    rd_addr_t addr;  /* for https: the bootstrap address if given (family 0 if none: HOST is
                      * looked up; port still the URL's) */
    char *auth_name; /* tls: #AUTHNAME; https: the host of the URL */
    char *path;      /* https: the URL path */
    char *uri;       /* as written */
    char **pins;     /* tls-pin: SPKI SHA-256, base64, as written */
    size_t npins;
} rd_conf_upstream_t;

typedef struct {
    uint8_t name[RD_NAME_MAX];
    rd_conf_upstream_t *upstreams;
    size_t nupstreams;
    bool forward_first;
} rd_conf_forward_t;

typedef struct {
    uint8_t name[RD_NAME_MAX];
    rd_addr_t *servers;
    size_t nservers;
} rd_conf_stub_t;

typedef struct rd_conf {
    char *path; /* the file this came from */
    /* server: */
    rd_addr_t *listen;
    size_t nlisten; /* UDP+TCP */
    rd_addr_t *listen_tls;
    size_t nlisten_tls; /* default port 853 */
    rd_addr_t *listen_https;
    size_t nlisten_https; /* default port 443 */
    char *tls_certificate, *tls_key, *tls_ca_file;
    char *https_path;         /* default "/dns-query" */
    char *state_dir;          /* default "/var/lib/resolverd" */
    unsigned threads;         /* 0 in the file means one per core (resolved at start) */
    size_t cache_size;        /* bytes, default 64m */
    size_t packet_cache_size; /* bytes, default 32m; 0: no packet cache */
    rd_acl_rule_t *acl;
    size_t nacl;
    char *root_hints;              /* NULL: the compiled-in hints */
    bool allow_loopback_upstreams; /* default no */
    int log_level;                 /* enum rd_log_level, default info */
    char *user;                    /* drop privileges to this user after binding */
    char *pidfile;
    /* answering */
    uint16_t edns_buffer_size;    /* advertised and used for our responses, default 1232 */
    uint32_t tcp_idle_timeout_ms; /* default 10000 (RFC 7766 s6.2.3) */
    unsigned tcp_max_connections; /* per thread, default 256 */
    unsigned tcp_max_inflight;    /* per connection, default 100 */
    bool hide_identity,
        hide_version;         /* CH TXT id.server/hostname.bind, version.bind: default yes */
    char *identity, *version; /* NULL: hostname / "resolverd X.Y" */
    uint32_t cache_min_ttl, cache_max_ttl, cache_max_negative_ttl; /* seconds: 0, 86400, 3600 */
    bool qname_minimisation;                                       /* default yes */
    /* sections */
    rd_conf_zone_t *zones;
    size_t nzones;
    rd_conf_forward_t *forwards;
    size_t nforwards;
    rd_conf_stub_t *stubs;
    size_t nstubs;
} rd_conf_t;

typedef struct {
    char file[256];
    unsigned line; /* 0 when the file could not be read */
    char key[64];  /* the key concerned, "" if none */
    char msg[256]; /* "file:line: key: what is wrong" is how callers print it */
} rd_conf_error_t;

/* Parses a file; relative paths inside (zone files, certificates, root hints) are taken
 * relative to the configuration file's directory. On error returns RD_ESYNTAX/RD_ERANGE/
 * RD_EIO/RD_ENOMEM with *err filled, *out untouched. */
int rd_conf_parse_file(const char *path, rd_conf_t **out, rd_conf_error_t *err);
/* Same from memory; name is used in messages and as the base for relative paths ("." dir). */
int rd_conf_parse_mem(const char *text, size_t len, const char *name, rd_conf_t **out,
                      rd_conf_error_t *err);
/* A configuration with every default (listen on 127.0.0.1@53 and ::1@53, loopback allowed). */
int rd_conf_default(rd_conf_t **out);
void rd_conf_free(rd_conf_t *c);

/* One upstream, for the engine and the shell that keep copies beyond a configuration's life:
 * a deep copy (RD_ENOMEM leaves dst empty, safe to free), field-by-field equality (address,
 * scheme, URI, name, path and pins in order), and release (dst zeroed). */
int rd_conf_upstream_copy(rd_conf_upstream_t *dst, const rd_conf_upstream_t *src);
bool rd_conf_upstream_eq(const rd_conf_upstream_t *a, const rd_conf_upstream_t *b);
void rd_conf_upstream_free(rd_conf_upstream_t *u);

/* Longest-prefix match of addr against the ACL; the default when nothing matches: loopback
 * (127/8, ::1) allowed, everything else refused. */
int rd_acl_check(const rd_conf_t *c, const rd_addr_t *addr);

/* "192.0.2.1", "2001:db8::1", with optional "@port"; default_port when absent. */
int rd_addr_parse(const char *s, size_t len, uint16_t default_port, rd_addr_t *out);
/* "192.0.2.1@53" style; returns the text length or RD_ESPACE. */
int rd_addr_to_text(const rd_addr_t *a, char *out, size_t cap);

#endif
