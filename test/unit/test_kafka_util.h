/*
 * Helpers shared by the Kafka codec unit tests: a malloc arena for the
 * walker (with an optional allocation budget, to test ENOMEM), a growable
 * byte buffer, and a deterministic PRNG.  Header-only; each test program
 * includes it once.
 */

#ifndef TEST_KAFKA_UTIL_H
#define TEST_KAFKA_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hoop_kafka_walker.h"


/* Every block starts with this header; the union keeps data aligned. */
typedef union test_block_u  test_block_t;

union test_block_u {
    test_block_t    *next;
    long double      ld;
    int64_t          i;
    void            *p;
};


typedef struct {
    test_block_t    *blocks;
    size_t           nallocs;
    size_t           limit;     /* fail after this many allocations; 0: none */
} test_arena_t;


static inline void *
test_arena_alloc(void *ctx, size_t n)
{
    test_arena_t  *ar;
    test_block_t  *b;

    ar = ctx;

    if (ar->limit && ar->nallocs >= ar->limit) {
        return NULL;
    }

    b = malloc(sizeof(test_block_t) + n);
    if (b == NULL) {
        return NULL;
    }

    b->next = ar->blocks;
    ar->blocks = b;
    ar->nallocs++;

    return b + 1;
}


static inline void
test_arena_reset(test_arena_t *ar)
{
    test_block_t  *b, *next;

    for (b = ar->blocks; b; b = next) {
        next = b->next;
        free(b);
    }

    ar->blocks = NULL;
    ar->nallocs = 0;
}


static inline hoop_kafka_alloc_t
test_arena_allocator(test_arena_t *ar)
{
    hoop_kafka_alloc_t  a;

    a.alloc = test_arena_alloc;
    a.ctx = ar;

    return a;
}


typedef struct {
    uint8_t         *p;
    size_t           len;
    size_t           cap;
} test_buf_t;


static inline void
test_buf_put(test_buf_t *b, const void *data, size_t n)
{
    size_t  cap;

    if (b->len + n > b->cap) {
        cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) {
            cap *= 2;
        }

        b->p = realloc(b->p, cap);
        if (b->p == NULL) {
            abort();
        }

        b->cap = cap;
    }

    if (n) {
        memcpy(b->p + b->len, data, n);
    }

    b->len += n;
}


static inline void
test_buf_be(test_buf_t *b, uint64_t v, size_t n)
{
    uint8_t  tmp[8];
    size_t   i;

    for (i = n; i > 0; i--) {
        tmp[i - 1] = (uint8_t) v;
        v >>= 8;
    }

    test_buf_put(b, tmp, n);
}


/* Written here rather than with the walker's encoder, so that the tests
 * check one implementation against another. */
static inline void
test_buf_uvarint(test_buf_t *b, uint64_t v)
{
    uint8_t  c;

    while (v >= 0x80) {
        c = (uint8_t) (v | 0x80);
        test_buf_put(b, &c, 1);
        v >>= 7;
    }

    c = (uint8_t) v;
    test_buf_put(b, &c, 1);
}


static inline void
test_buf_free(test_buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}


static inline uint64_t
test_rand(uint64_t *s)
{
    /* xorshift64 */
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;

    return *s;
}


#endif /* TEST_KAFKA_UTIL_H */
