/* The bounded cursor: the only way wire data is read or written (house rule 4).
 * Errors are sticky: a sequence of reads is checked once at the end. */
#ifndef RD_WIRE_CURSOR_H
#define RD_WIRE_CURSOR_H

#include <string.h>
#include "resolverd/base.h"

typedef struct {
    const uint8_t *base; /* start of the whole buffer (for compression pointers) */
    size_t pos;
    size_t end;
    int err;
} rd_rcur_t;

static inline void rd_rcur_init(rd_rcur_t *c, const uint8_t *base, size_t pos, size_t end)
{
    c->base = base;
    c->pos = pos;
    c->end = end;
    c->err = 0;
}
static inline size_t rd_rcur_left(const rd_rcur_t *c)
{
    return c->err ? 0 : c->end - c->pos;
}
static inline bool rd_rcur_need(rd_rcur_t *c, size_t n)
{
    if (c->err) return false;
    if (c->end - c->pos < n) {
        c->err = RD_ETRUNC;
        return false;
    }
    return true;
}
static inline uint8_t rd_rcur_u8(rd_rcur_t *c)
{
    if (!rd_rcur_need(c, 1)) return 0;
    return c->base[c->pos++];
}
static inline uint16_t rd_rcur_u16(rd_rcur_t *c)
{
    if (!rd_rcur_need(c, 2)) return 0;
    uint16_t v = (uint16_t)((c->base[c->pos] << 8) | c->base[c->pos + 1]);
    c->pos += 2;
    return v;
}
static inline uint32_t rd_rcur_u32(rd_rcur_t *c)
{
    if (!rd_rcur_need(c, 4)) return 0;
    const uint8_t *p = c->base + c->pos;
    c->pos += 4;
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline const uint8_t *rd_rcur_bytes(rd_rcur_t *c, size_t n)
{
    if (!rd_rcur_need(c, n)) return NULL;
    const uint8_t *p = c->base + c->pos;
    c->pos += n;
    return p;
}
static inline void rd_rcur_skip(rd_rcur_t *c, size_t n)
{
    (void)rd_rcur_bytes(c, n);
}

typedef struct {
    uint8_t *base;
    size_t pos;
    size_t end;
    int err;
} rd_wcur_t;

static inline void rd_wcur_init(rd_wcur_t *c, uint8_t *base, size_t pos, size_t end)
{
    c->base = base;
    c->pos = pos;
    c->end = end;
    c->err = 0;
}
static inline bool rd_wcur_need(rd_wcur_t *c, size_t n)
{
    if (c->err) return false;
    if (c->end - c->pos < n) {
        c->err = RD_ESPACE;
        return false;
    }
    return true;
}
static inline void rd_wcur_u8(rd_wcur_t *c, uint8_t v)
{
    if (rd_wcur_need(c, 1)) c->base[c->pos++] = v;
}
static inline void rd_wcur_u16(rd_wcur_t *c, uint16_t v)
{
    if (!rd_wcur_need(c, 2)) return;
    c->base[c->pos] = (uint8_t)(v >> 8);
    c->base[c->pos + 1] = (uint8_t)v;
    c->pos += 2;
}
static inline void rd_wcur_u32(rd_wcur_t *c, uint32_t v)
{
    if (!rd_wcur_need(c, 4)) return;
    uint8_t *p = c->base + c->pos;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    c->pos += 4;
}
static inline void rd_wcur_bytes(rd_wcur_t *c, const void *p, size_t n)
{
    if (n == 0 || !rd_wcur_need(c, n)) return;
    memcpy(c->base + c->pos, p, n);
    c->pos += n;
}
/* Overwrites a u16 at an earlier position (lengths, counts). */
static inline void rd_wcur_put16_at(rd_wcur_t *c, size_t at, uint16_t v)
{
    if (c->err || at + 2 > c->pos) return;
    c->base[at] = (uint8_t)(v >> 8);
    c->base[at + 1] = (uint8_t)v;
}

static inline uint16_t rd_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t rd_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

#endif
