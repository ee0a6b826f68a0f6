/*
 * Kafka frame reassembly (see hoop_frame.h).
 */

#include <stdlib.h>
#include <string.h>

#include "hoop_frame.h"


static hoop_frame_rc_e hoop_frame_begin(hoop_frame_reader_t *r);
static int hoop_frame_reserve(hoop_frame_reader_t *r, size_t need);


void
hoop_frame_reader_init(hoop_frame_reader_t *r, size_t min, size_t max)
{
    memset(r, 0, sizeof(hoop_frame_reader_t));
    r->min = min;
    r->max = max;
}


int32_t
hoop_frame_prefix(const hoop_frame_reader_t *r)
{
    uint32_t  v;

    v = ((uint32_t) r->size_buf[0] << 24) | ((uint32_t) r->size_buf[1] << 16)
        | ((uint32_t) r->size_buf[2] << 8) | (uint32_t) r->size_buf[3];

    /* two's complement, as Kafka's INT32; no implementation-defined cast */
    return (v & 0x80000000u) ? (int32_t) (v - 0x80000000u) + INT32_MIN
                             : (int32_t) v;
}


hoop_frame_rc_e
hoop_frame_feed(hoop_frame_reader_t *r, const unsigned char *p, size_t n,
    size_t *used)
{
    size_t           k;
    hoop_frame_rc_e  rc;

    *used = 0;

    if (r->bad) {
        return HOOP_FRAME_BAD_SIZE;
    }

    if (r->size_have == 4 && r->frame == NULL) {
        /* a valid prefix whose first allocation failed: try again */
        rc = hoop_frame_begin(r);
        if (rc != HOOP_FRAME_MORE) {
            return rc;
        }
    }

    if (r->frame && r->body_have == r->body_size) {
        return HOOP_FRAME_READY;
    }

    if (r->size_have < 4) {
        k = 4 - r->size_have;
        k = (n < k) ? n : k;

        memcpy(r->size_buf + r->size_have, p, k);
        r->size_have += k;
        *used = k;

        if (r->size_have < 4) {
            return HOOP_FRAME_MORE;
        }

        rc = hoop_frame_begin(r);
        if (rc != HOOP_FRAME_MORE) {
            return rc;
        }

        p += k;
        n -= k;
    }

    k = r->body_size - r->body_have;
    k = (n < k) ? n : k;

    if (k) {
        if (hoop_frame_reserve(r, 4 + r->body_have + k) != 0) {
            return HOOP_FRAME_NOMEM;
        }

        memcpy(r->frame + 4 + r->body_have, p, k);
        r->body_have += k;
        *used += k;
    }

    return (r->body_have == r->body_size) ? HOOP_FRAME_READY
                                          : HOOP_FRAME_MORE;
}


unsigned char *
hoop_frame_take(hoop_frame_reader_t *r, size_t *size)
{
    unsigned char  *frame;

    if (r->frame == NULL || r->body_have != r->body_size) {
        *size = 0;
        return NULL;
    }

    frame = r->frame;
    *size = 4 + r->body_size;

    r->frame = NULL;
    r->alloc = 0;
    r->size_have = 0;
    r->body_size = 0;
    r->body_have = 0;

    return frame;
}


void
hoop_frame_reader_free(hoop_frame_reader_t *r)
{
    free(r->frame);
    hoop_frame_reader_init(r, r->min, r->max);
}


/* A whole prefix: check it before anything is allocated. */

static hoop_frame_rc_e
hoop_frame_begin(hoop_frame_reader_t *r)
{
    int32_t  size;
    size_t   first;

    size = hoop_frame_prefix(r);

    if (size < 0 || (size_t) size < r->min || (size_t) size > r->max) {
        r->bad = 1;
        return HOOP_FRAME_BAD_SIZE;
    }

    r->body_size = (size_t) size;
    r->body_have = 0;

    first = (r->body_size < HOOP_FRAME_CHUNK) ? r->body_size
                                              : HOOP_FRAME_CHUNK;

    r->frame = malloc(4 + first);
    if (r->frame == NULL) {
        return HOOP_FRAME_NOMEM;
    }

    r->alloc = 4 + first;
    memcpy(r->frame, r->size_buf, 4);

    return (r->body_size == 0) ? HOOP_FRAME_READY : HOOP_FRAME_MORE;
}


/* Room for need bytes: doubles, capped at the whole frame. */

static int
hoop_frame_reserve(hoop_frame_reader_t *r, size_t need)
{
    size_t          alloc;
    unsigned char  *frame;

    if (need <= r->alloc) {
        return 0;
    }

    alloc = r->alloc * 2;
    alloc = (alloc < need) ? need : alloc;
    alloc = (alloc > 4 + r->body_size) ? 4 + r->body_size : alloc;

    frame = realloc(r->frame, alloc);
    if (frame == NULL) {
        return -1;
    }

    r->frame = frame;
    r->alloc = alloc;

    return 0;
}
