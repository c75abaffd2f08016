/* SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), written from the
 * paper: keys and message words are little endian whatever the host. */
#include <string.h>

#include "cache/cache_int.h"

static uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = rotl(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = rotl(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = rotl(v2, 32);                                                                         \
    } while (0)

/* static inline so that the callers below get copies with constant round counts */
static inline uint64_t siphash(const uint8_t key[16], const void *data, size_t len, int crounds,
                               int drounds)
{
    const uint8_t *p = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    size_t whole = len & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = load_le64(p + i);
        v3 ^= m;
        for (int r = 0; r < crounds; r++) SIPROUND;
        v0 ^= m;
    }
    /* last block: the leftover octets, the length's low octet on top */
    uint64_t b = (uint64_t)(len & 0xff) << 56;
    for (size_t i = len - whole; i > 0; i--) b |= (uint64_t)p[whole + i - 1] << (8 * (i - 1));
    v3 ^= b;
    for (int r = 0; r < crounds; r++) SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < drounds; r++) SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t rd__siphash(const uint8_t key[16], const void *data, size_t len, int crounds, int drounds)
{
    return siphash(key, data, len, crounds, drounds);
}

uint64_t rd__siphash13(const uint8_t key[16], const void *data, size_t len)
{
    return siphash(key, data, len, 1, 3);
}
