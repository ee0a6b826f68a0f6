/*
 * Kafka frame reassembly: cuts one direction of a Kafka connection into
 * frames, each an INT32 big-endian size followed by that many bytes (the
 * protocol's "Size" field of every request and response), whatever the
 * boundaries of the reads that deliver them.
 *
 * The size prefix is checked against [min, max] before anything is
 * allocated, and a frame's memory grows with the bytes that really arrived
 * (first HOOP_FRAME_CHUNK, then doubling, never past the frame), so a
 * client that announces 100 MB and sends 10 bytes costs 16 KiB.
 *
 * Plain C99, no nginx: src/session/hoop_session.c drives it from the
 * proxy's buffers, fuzz/fuzz_frame.c from arbitrary splits.  Frames are
 * malloc()ed (nginx's ngx_free() is free()); the caller owns a frame once
 * it is taken.  Not thread-safe; one reader per direction.
 */

#ifndef HOOP_FRAME_H
#define HOOP_FRAME_H

#include <stddef.h>
#include <stdint.h>


/* first allocation for a frame's prefix and body, bytes */
#define HOOP_FRAME_CHUNK  16384


typedef struct {
    unsigned char   size_buf[4];    /* the size prefix as received */
    size_t          size_have;      /* bytes of size_buf filled, 0..4 */
    size_t          body_size;      /* from the prefix, once valid */
    size_t          body_have;      /* body bytes received */

    unsigned char  *frame;          /* prefix + body; NULL between frames */
    size_t          alloc;          /* bytes allocated at frame */

    size_t          min;            /* smallest body accepted, bytes */
    size_t          max;            /* largest body accepted, bytes */
    unsigned        bad:1;          /* a size out of [min, max] was seen */
} hoop_frame_reader_t;


typedef enum {
    HOOP_FRAME_MORE = 0,            /* all input taken, no whole frame yet */
    HOOP_FRAME_READY,               /* a whole frame: hoop_frame_take() it */
    HOOP_FRAME_BAD_SIZE,            /* size out of [min, max] (or negative):
                                       a protocol error, the reader stays
                                       in it; hoop_frame_bad_size() tells */
    HOOP_FRAME_NOMEM                /* malloc failed; retrying is allowed */
} hoop_frame_rc_e;


/* An empty reader for bodies of min..max bytes (max <= INT32_MAX). */
void hoop_frame_reader_init(hoop_frame_reader_t *r, size_t min, size_t max);

/*
 * Takes bytes p[0..n) until a frame is whole or the input is used up;
 * *used says how many were taken (the rest belongs to the next call).
 * Returns READY with a whole frame waiting, which must be taken before the
 * next call (until then every call returns READY and takes nothing).
 */
hoop_frame_rc_e hoop_frame_feed(hoop_frame_reader_t *r,
    const unsigned char *p, size_t n, size_t *used);

/* The whole frame (prefix included) after READY; *size is 4 + body.  The
 * caller frees it with free().  The reader is ready for the next one. */
unsigned char *hoop_frame_take(hoop_frame_reader_t *r, size_t *size);

/* The size prefix as a signed INT32 (after BAD_SIZE: the one refused). */
int32_t hoop_frame_prefix(const hoop_frame_reader_t *r);

/* Frees a partly received frame; the reader is empty again. */
void hoop_frame_reader_free(hoop_frame_reader_t *r);


#endif /* HOOP_FRAME_H */
