/* Internals shared by src/net/http.c (requests, DoH rules, answers), http1.c (HTTP/1.1) and
 * http2.c (HTTP/2 through nghttp2). */
#ifndef RD_NET_HTTP_INT_H
#define RD_NET_HTTP_INT_H

#include "base/limits.h"
#include "net/http.h"

/* One request (an HTTP/2 stream or an HTTP/1.1 request in the pipeline). */
enum rd__http_req_state {
    RD__HQ_FREE = 0, /* slot unused */
    RD__HQ_RECV,     /* headers / body arriving */
    RD__HQ_PENDING,  /* query handed to on_query, answer awaited */
    RD__HQ_READY,    /* response built: HTTP/1.1 waits its turn, HTTP/2 sends its body */
};

enum rd__http_method { RD__HM_NONE = 0, RD__HM_GET, RD__HM_POST, RD__HM_OTHER };

typedef struct {
    int state;       /* enum rd__http_req_state */
    uint32_t sid;    /* HTTP/2: the stream id; HTTP/1.1: the request's number */
    int method;      /* enum rd__http_method */
    unsigned status; /* error found while receiving (413, 414, 431, 400...), 0 when none */
    bool ctype_seen, ctype_ok;
    bool accept_bad; /* an accept element list that rules application/dns-message out */
    bool accept_ok;  /* an accept element that allows it (wins over accept_bad) */
    bool close;      /* HTTP/1.1: close the connection after this response */
    bool has_host;   /* HTTP/1.1 */
    size_t hdr_bytes;
    unsigned nhdr;
    char *target; /* path and query as received (NUL-terminated), or NULL */
    size_t target_len;
    uint8_t *body; /* request body, then the decoded query of a GET */
    size_t body_len, body_cap;
    uint8_t *out; /* response: HTTP/1.1 head and body; HTTP/2 the body */
    size_t out_len, out_off;
} rd__http_req_t;

enum rd__h1_state {
    RD__H1_HEAD = 0, /* reading a request line and header fields */
    RD__H1_BODY,     /* reading a request body */
    RD__H1_CLOSING,  /* no more requests: answer what is queued, then close */
};

/* Where in the body of the request being read (h->cur) we are: RFC 9112 s6.3 framing. */
enum rd__h1_body {
    RD__H1B_LENGTH = 0, /* Content-Length octets (body_left of them still to come) */
    RD__H1B_CHUNK_SIZE, /* chunked (s7.1): a chunk-size line with its extensions */
    RD__H1B_CHUNK_DATA, /* body_left octets of chunk data */
    RD__H1B_CHUNK_END,  /* the CRLF after chunk data */
    RD__H1B_TRAILER,    /* after the last chunk: trailer fields up to an empty line */
};

struct nghttp2_session;

struct rd_http {
    bool h2;
    rd_http_cbs_t cb;
    char *path;
    size_t path_len;
    unsigned nreqs; /* slots */
    rd__http_req_t *reqs;
    unsigned inflight; /* requests in RD__HQ_PENDING */
    size_t body_bytes; /* request bodies buffered, all slots */
    bool in_feed;      /* nghttp2 or our parser is running: no nested flush */
    size_t out_bytes;  /* response octets held in request slots (r->out), all slots */
    int failed;        /* on_send failed: sticky error */
    /* HTTP/2 */
    struct nghttp2_session *ng;
    unsigned resets; /* streams the client reset before their answer */
    unsigned answered;
    bool calm; /* GOAWAY(ENHANCE_YOUR_CALM) sent */
    /* HTTP/1.1 */
    int h1_state; /* enum rd__h1_state */
    uint8_t *in;
    size_t in_len, in_cap;
    size_t scan, scan_eol; /* head search: octets already looked at, first LF seen */
    rd__http_req_t *cur;   /* request whose body is arriving */
    int h1_body;           /* enum rd__h1_body, while cur is set */
    size_t body_left;      /* octets of the body (or of the current chunk) still to come */
    size_t body_seen;      /* chunked: chunk data octets so far */
    bool cont_owed;        /* cur asked for 100 Continue before its turn: sent at its turn */
    uint32_t next_sid;     /* number of the next request */
    uint32_t out_sid;      /* number of the request to answer next (in order) */
};

/* ---- http.c ---- */
rd__http_req_t *rd__http_req_new(rd_http_t *h, uint32_t sid);
rd__http_req_t *rd__http_req_find(rd_http_t *h, uint32_t sid);
void rd__http_req_free(rd_http_t *h, rd__http_req_t *r);
/* Appends to the request body; false (and status 413 or 503) when it would pass a limit. */
bool rd__http_body_add(rd_http_t *h, rd__http_req_t *r, const uint8_t *p, size_t n);
/* Header fields common to both versions (name in lower case). */
void rd__http_header(rd_http_t *h, rd__http_req_t *r, const char *name, size_t nlen,
                     const char *value, size_t vlen);
/* Stores the request target; status 414 when too long. */
void rd__http_target(rd__http_req_t *r, const char *t, size_t n);
/* The request is complete: checks it (RFC 8484) and answers the error or hands the query
 * over. < 0 only when sending failed. */
int rd__http_request_done(rd_http_t *h, rd__http_req_t *r);
int rd__http_send(rd_http_t *h, const uint8_t *p, size_t n);
/* The layer below asks for a pause (rd_http_cbs_t.busy). */
bool rd__http_busy(const rd_http_t *h);
/* Stores a response in r->out (head + body, n octets, uninitialised), accounted in
 * h->out_bytes; NULL when out of memory. */
uint8_t *rd__http_out_alloc(rd_http_t *h, rd__http_req_t *r, size_t n);
const char *rd__http_reason(unsigned status);
bool rd__http_ieq(const char *a, size_t alen, const char *lit);

/* ---- http1.c / http2.c: respond with status; body NULL for errors ---- */
int rd__h1_respond(rd_http_t *h, rd__http_req_t *r, unsigned status, const uint8_t *body,
                   size_t len, uint32_t max_age);
int rd__h1_feed(rd_http_t *h, const uint8_t *data, size_t len, size_t *used);
int rd__h1_flush(rd_http_t *h);
bool rd__h1_done(const rd_http_t *h);
int rd__h1_shutdown(rd_http_t *h);

int rd__h2_new(rd_http_t *h);
void rd__h2_free(rd_http_t *h);
int rd__h2_respond(rd_http_t *h, rd__http_req_t *r, unsigned status, const uint8_t *body,
                   size_t len, uint32_t max_age);
int rd__h2_feed(rd_http_t *h, const uint8_t *data, size_t len, size_t *used);
int rd__h2_flush(rd_http_t *h);
bool rd__h2_done(const rd_http_t *h);
int rd__h2_shutdown(rd_http_t *h);

#endif
