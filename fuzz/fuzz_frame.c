/*
 * libFuzzer target: the frame reassembler (src/kafka/hoop_frame.c) fed a
 * byte stream in arbitrary pieces, as TCP may deliver it.
 *
 * Input: uint8 min body size (low 5 bits), uint24 max body size, uint32
 * split seed, uint8 split mode, then the stream.  The pieces come from a
 * PRNG on the seed: 0..3 bytes, 1..256, 1..65536, or alternating 1 and
 * the rest (mode & 3); empty pieces happen too.
 *
 * Properties, against a one-pass reading of the whole stream:
 * - the frames come out in order, byte for byte, and a READY frame left
 *   untaken is offered again with nothing taken;
 * - a size prefix out of [min, max] (or negative) is refused exactly after
 *   its 4th byte with that value, and stays refused;
 * - what remains at the end is the partial prefix or body the stream
 *   ends with;
 * - memory follows the bytes that arrived: never more than the frame, and
 *   never more than max(4 + HOOP_FRAME_CHUNK, twice the bytes received).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/hoop_frame.h"


/* what the stream holds, read in one pass */
typedef struct {
    size_t   nframes;
    size_t   bad_at;        /* offset after a refused prefix; 0: none */
    int32_t  bad_size;
    size_t   tail_prefix;   /* bytes of an incomplete prefix at the end */
    size_t   tail_body;     /* body bytes of an incomplete frame at the end */
} expect_t;


static int32_t
be32(const uint8_t *p)
{
    uint32_t  v;

    v = ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
        | ((uint32_t) p[2] << 8) | (uint32_t) p[3];

    return (v & 0x80000000u) ? (int32_t) (v - 0x80000000u) + INT32_MIN
                             : (int32_t) v;
}


static void
read_whole(const uint8_t *s, size_t len, size_t min, size_t max,
    expect_t *e)
{
    size_t   off;
    int32_t  size;

    memset(e, 0, sizeof(expect_t));
    off = 0;

    for ( ;; ) {
        if (len - off < 4) {
            e->tail_prefix = len - off;
            return;
        }

        size = be32(s + off);

        if (size < 0 || (size_t) size < min || (size_t) size > max) {
            e->bad_at = off + 4;
            e->bad_size = size;
            return;
        }

        if (len - off - 4 < (size_t) size) {
            e->tail_prefix = 4;
            e->tail_body = len - off - 4;
            return;
        }

        e->nframes++;
        off += 4 + (size_t) size;
    }
}


static uint32_t
next_rand(uint32_t *state)
{
    /* xorshift32; a zero state would stay zero */
    uint32_t  x = *state ? *state : 0x9e3779b9u;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;

    return x;
}


static size_t
next_piece(uint32_t *state, unsigned mode, size_t i, size_t left)
{
    size_t  n;

    switch (mode & 3) {
    case 0:
        n = next_rand(state) % 4;
        break;
    case 1:
        n = 1 + next_rand(state) % 256;
        break;
    case 2:
        n = 1 + next_rand(state) % 65536;
        break;
    default:
        n = (i & 1) ? left : 1;
        break;
    }

    return (n < left) ? n : left;
}


static void
check_memory(const hoop_frame_reader_t *r)
{
    size_t  bound;

    if (r->frame == NULL) {
        if (r->alloc != 0) {
            abort();
        }
        return;
    }

    bound = 2 * (4 + r->body_have);
    bound = (bound < 4 + HOOP_FRAME_CHUNK) ? 4 + HOOP_FRAME_CHUNK : bound;

    if (r->alloc > 4 + r->body_size || r->alloc > bound
        || r->alloc < 4 + r->body_have)
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                off, pos, n, used, got, fsize, i;
    size_t                min, max;
    uint32_t              state;
    unsigned              mode;
    expect_t              e;
    const uint8_t        *s;
    unsigned char        *frame;
    hoop_frame_rc_e       rc;
    hoop_frame_reader_t   r;

    if (size < 9) {
        return 0;
    }

    min = data[0] & 31;
    max = ((size_t) data[1] << 16) | ((size_t) data[2] << 8) | data[3];
    state = ((uint32_t) data[4] << 24) | ((uint32_t) data[5] << 16)
            | ((uint32_t) data[6] << 8) | data[7];
    mode = data[8];
    s = data + 9;
    size -= 9;

    read_whole(s, size, min, max, &e);
    hoop_frame_reader_init(&r, min, max);

    pos = 0;       /* bytes given to the reader */
    off = 0;       /* where the next whole frame starts in s */
    got = 0;
    rc = HOOP_FRAME_MORE;

    for (i = 0; pos < size; i++) {
        n = next_piece(&state, mode, i, size - pos);

        rc = hoop_frame_feed(&r, s + pos, n, &used);

        if (used > n) {
            abort();
        }

        pos += used;
        check_memory(&r);

        if (rc == HOOP_FRAME_MORE) {
            if (used != n) {
                abort();
            }
            continue;
        }

        if (rc == HOOP_FRAME_BAD_SIZE) {
            if (e.bad_at != pos || hoop_frame_prefix(&r) != e.bad_size
                || got != e.nframes)
            {
                abort();
            }

            /* refused for good: nothing more is taken */
            if (hoop_frame_feed(&r, s + pos, size - pos, &used)
                != HOOP_FRAME_BAD_SIZE || used != 0)
            {
                abort();
            }

            break;
        }

        if (rc != HOOP_FRAME_READY) {
            abort();             /* HOOP_FRAME_NOMEM: not with these sizes */
        }

        /* untaken, the frame is offered again and nothing is taken */
        if (hoop_frame_feed(&r, s + pos, size - pos, &used)
            != HOOP_FRAME_READY || used != 0)
        {
            abort();
        }

        frame = hoop_frame_take(&r, &fsize);

        if (frame == NULL || got >= e.nframes || off + fsize > pos
            || fsize != 4 + (size_t) be32(s + off)
            || memcmp(frame, s + off, fsize) != 0)
        {
            abort();
        }

        free(frame);
        off += fsize;
        got++;

        if (off != pos || hoop_frame_take(&r, &fsize) != NULL) {
            abort();
        }
    }

    if (e.bad_at == 0) {
        if (pos != size || got != e.nframes || r.bad
            || r.size_have != e.tail_prefix
            || r.body_have != e.tail_body)
        {
            abort();
        }

        /* a size of 0 (min 0) is whole with its prefix: READY above */
        if (r.size_have == 4 && r.body_have == r.body_size) {
            abort();
        }
    }

    hoop_frame_reader_free(&r);

    if (r.frame != NULL || r.size_have != 0 || r.min != min || r.max != max) {
        abort();
    }

    return 0;
}
