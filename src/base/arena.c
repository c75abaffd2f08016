/* Bump allocator with a caller-provided first block (house rule 9). */
#include <stdlib.h>

#include "base/limits.h"
#include "resolverd/base.h"

struct rd_arena_block {
    rd_arena_block_t *next;
    size_t size;
    _Alignas(16) uint8_t data[];
};

void rd_arena_init(rd_arena_t *a, void *first, size_t first_len, size_t limit)
{
    a->first = first;
    a->first_len = first ? first_len : 0;
    a->cur = first;
    a->end = first ? (uint8_t *)first + first_len : NULL;
    a->heap = NULL;
    a->limit = limit ? limit : RD_ARENA_DEFAULT_LIMIT;
    a->used_heap = 0;
}

void *rd_arena_alloc(rd_arena_t *a, size_t n)
{
    if (n == 0) n = 1;
    if (n > a->limit) return NULL;
    n = (n + 7) & ~(size_t)7;
    if (a->cur) {
        uintptr_t p = ((uintptr_t)a->cur + 7) & ~(uintptr_t)7;
        if (p <= (uintptr_t)a->end && (uintptr_t)a->end - p >= n) {
            a->cur = (uint8_t *)(p + n);
            return (void *)p;
        }
    }
    size_t size = n > RD_ARENA_BLOCK ? n : RD_ARENA_BLOCK;
    if (a->used_heap + size > a->limit) return NULL;
    rd_arena_block_t *b = malloc(sizeof(*b) + size);
    if (!b) return NULL;
    b->next = a->heap;
    b->size = size;
    a->heap = b;
    a->used_heap += size;
    a->cur = b->data + n;
    a->end = b->data + size;
    return b->data;
}

static void free_heap(rd_arena_t *a)
{
    rd_arena_block_t *b = a->heap;
    while (b) {
        rd_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    a->heap = NULL;
    a->used_heap = 0;
}

void rd_arena_reset(rd_arena_t *a)
{
    free_heap(a);
    a->cur = a->first;
    a->end = a->first ? a->first + a->first_len : NULL;
}

void rd_arena_free(rd_arena_t *a)
{
    free_heap(a);
    a->cur = a->end = NULL;
    a->first = NULL;
    a->first_len = 0;
}
