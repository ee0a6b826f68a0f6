/*
 * The frame reassembler (src/kafka/hoop_frame.c): real captured frames cut
 * at every byte, size prefixes at and past their bounds, memory that
 * follows the bytes received, and allocation failures that lose nothing.
 *
 * malloc and realloc are wrapped (-Wl,--wrap) so that a test can make the
 * next one fail.
 */

#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hoop_frame.h"


void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);

static int  fail_malloc, fail_realloc;


void *
__wrap_malloc(size_t n)
{
    if (fail_malloc) {
        fail_malloc = 0;
        return NULL;
    }

    return __real_malloc(n);
}


void *
__wrap_realloc(void *p, size_t n)
{
    if (fail_realloc) {
        fail_realloc = 0;
        return NULL;
    }

    return __real_realloc(p, n);
}


/* the captured frames (size prefix included), one stream per direction */
static const char  *frames_dir = "frames";

typedef struct {
    unsigned char  *data;
    size_t          len;
    size_t          nframes;
    size_t         *ends;          /* where each frame ends in data */
} stream_t;


static void
stream_load(stream_t *s, const char *kind)
{
    FILE           *f;
    DIR            *d;
    long            n;
    char            path[4096];
    struct dirent  *de;

    memset(s, 0, sizeof(stream_t));

    d = opendir(frames_dir);
    if (d == NULL) {
        return;
    }

    while ((de = readdir(d)) != NULL) {
        if (strstr(de->d_name, kind) == NULL) {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", frames_dir, de->d_name);
        f = fopen(path, "rb");
        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        rewind(f);

        s->data = __real_realloc(s->data, s->len + n);
        s->ends = __real_realloc(s->ends,
                                 (s->nframes + 1) * sizeof(size_t));
        assert_non_null(s->data);
        assert_non_null(s->ends);
        assert_int_equal(fread(s->data + s->len, 1, n, f), (size_t) n);
        fclose(f);

        s->len += n;
        s->ends[s->nframes++] = s->len;
    }

    closedir(d);
}


/*
 * Feeds s in pieces of the sizes cut[] gives (cycled), checks that every
 * frame comes out whole and in order; returns the frames seen.
 */
static size_t
feed_pieces(const stream_t *s, size_t min, const size_t *cut, size_t ncut)
{
    size_t               pos, n, used, got, size, start, i;
    unsigned char       *frame;
    hoop_frame_rc_e      rc;
    hoop_frame_reader_t  r;

    hoop_frame_reader_init(&r, min, 1 << 20);
    pos = 0;
    got = 0;

    for (i = 0; pos < s->len; i++) {
        n = cut[i % ncut];
        n = (n < s->len - pos) ? n : s->len - pos;

        rc = hoop_frame_feed(&r, s->data + pos, n, &used);
        pos += used;

        if (rc == HOOP_FRAME_MORE) {
            assert_int_equal(used, n);
            continue;
        }

        assert_int_equal(rc, HOOP_FRAME_READY);
        assert_int_equal(pos, s->ends[got]);

        frame = hoop_frame_take(&r, &size);
        assert_non_null(frame);

        start = got ? s->ends[got - 1] : 0;
        assert_int_equal(size, s->ends[got] - start);
        assert_memory_equal(frame, s->data + start, size);

        free(frame);
        got++;
    }

    assert_int_equal(r.size_have, 0);
    hoop_frame_reader_free(&r);

    return got;
}


static void
test_captured_frames_every_split(void **state)
{
    size_t    cut, pieces[2];
    stream_t  s;

    (void) state;

    stream_load(&s, "-req-");

    if (s.nframes == 0) {
        skip();
    }

    /* byte by byte, then every piece size up to 300 */
    for (cut = 1; cut <= 300; cut++) {
        assert_int_equal(feed_pieces(&s, 10, &cut, 1), s.nframes);
    }

    /* two pieces, cut at every byte of the first frames */
    for (cut = 1; cut < s.ends[3 < s.nframes ? 3 : s.nframes - 1]; cut++) {
        pieces[0] = cut;
        pieces[1] = s.len;
        assert_int_equal(feed_pieces(&s, 10, pieces, 2), s.nframes);
    }

    /* all at once */
    cut = s.len;
    assert_int_equal(feed_pieces(&s, 10, &cut, 1), s.nframes);

    free(s.data);
    free(s.ends);

    stream_load(&s, "-resp-");
    assert_true(s.nframes > 0);

    for (cut = 1; cut <= 64; cut++) {
        assert_int_equal(feed_pieces(&s, 4, &cut, 1), s.nframes);
    }

    free(s.data);
    free(s.ends);
}


/* one prefix of value v fed to a reader for bodies of min..max */
static hoop_frame_rc_e
feed_prefix(hoop_frame_reader_t *r, size_t min, size_t max, uint32_t v)
{
    size_t           used;
    unsigned char    p[4];
    hoop_frame_rc_e  rc;

    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;

    hoop_frame_reader_init(r, min, max);
    rc = hoop_frame_feed(r, p, 4, &used);
    assert_int_equal(used, 4);

    return rc;
}


static void
test_size_bounds(void **state)
{
    size_t               used;
    hoop_frame_reader_t  r;

    (void) state;

    /* below min, negative, INT32_MIN, above max: refused with the value */
    assert_int_equal(feed_prefix(&r, 10, 1000, 9), HOOP_FRAME_BAD_SIZE);
    assert_int_equal(hoop_frame_prefix(&r), 9);
    assert_null(r.frame);

    assert_int_equal(feed_prefix(&r, 10, 1000, 0xffffffff),
                     HOOP_FRAME_BAD_SIZE);
    assert_int_equal(hoop_frame_prefix(&r), -1);

    assert_int_equal(feed_prefix(&r, 10, 1000, 0x80000000),
                     HOOP_FRAME_BAD_SIZE);
    assert_int_equal(hoop_frame_prefix(&r), INT32_MIN);

    assert_int_equal(feed_prefix(&r, 10, 1000, 1001), HOOP_FRAME_BAD_SIZE);
    assert_int_equal(hoop_frame_prefix(&r), 1001);
    assert_null(r.frame);

    /* refused for good: nothing more is taken */
    assert_int_equal(hoop_frame_feed(&r, (const unsigned char *) "\0\0\0\x0a",
                                     4, &used), HOOP_FRAME_BAD_SIZE);
    assert_int_equal(used, 0);
    hoop_frame_reader_free(&r);

    /* the bounds themselves are accepted */
    assert_int_equal(feed_prefix(&r, 10, 1000, 10), HOOP_FRAME_MORE);
    assert_int_equal(r.body_size, 10);
    hoop_frame_reader_free(&r);

    assert_int_equal(feed_prefix(&r, 10, 1000, 1000), HOOP_FRAME_MORE);
    assert_int_equal(r.body_size, 1000);
    hoop_frame_reader_free(&r);

    assert_int_equal(feed_prefix(&r, 0, INT32_MAX, INT32_MAX),
                     HOOP_FRAME_MORE);
    assert_int_equal(r.body_size, INT32_MAX);
    hoop_frame_reader_free(&r);

    /* an empty body (min 0) is whole with its prefix */
    assert_int_equal(feed_prefix(&r, 0, 1000, 0), HOOP_FRAME_READY);
    hoop_frame_reader_free(&r);
}


static void
test_memory_follows_arrivals(void **state)
{
    size_t               used, size;
    unsigned char       *buf, *frame;
    hoop_frame_rc_e      rc;
    hoop_frame_reader_t  r;

    (void) state;

    buf = calloc(1, 70000);
    assert_non_null(buf);

    /* 100 MB announced, 10 bytes sent: one chunk */
    assert_int_equal(feed_prefix(&r, 10, INT32_MAX, 100000000),
                     HOOP_FRAME_MORE);
    assert_int_equal(r.alloc, 4 + HOOP_FRAME_CHUNK);

    assert_int_equal(hoop_frame_feed(&r, buf, 10, &used), HOOP_FRAME_MORE);
    assert_int_equal(r.alloc, 4 + HOOP_FRAME_CHUNK);

    /* past the chunk: doubles */
    assert_int_equal(hoop_frame_feed(&r, buf, 20000, &used), HOOP_FRAME_MORE);
    assert_int_equal(r.body_have, 20010);
    assert_int_equal(r.alloc, 2 * (4 + HOOP_FRAME_CHUNK));

    /* a big piece: exactly what is needed */
    assert_int_equal(hoop_frame_feed(&r, buf, 70000, &used), HOOP_FRAME_MORE);
    assert_int_equal(r.alloc, 4 + 90010);
    hoop_frame_reader_free(&r);
    assert_null(r.frame);

    /* a small frame gets its size, and growth stops at the frame */
    assert_int_equal(feed_prefix(&r, 10, INT32_MAX, 100), HOOP_FRAME_MORE);
    assert_int_equal(r.alloc, 104);
    hoop_frame_reader_free(&r);

    assert_int_equal(feed_prefix(&r, 10, INT32_MAX, 20000), HOOP_FRAME_MORE);
    rc = hoop_frame_feed(&r, buf, 70000, &used);
    assert_int_equal(rc, HOOP_FRAME_READY);
    assert_int_equal(used, 20000);
    assert_int_equal(r.alloc, 4 + 20000);

    /* untaken, it is offered again */
    assert_int_equal(hoop_frame_feed(&r, buf, 70000, &used),
                     HOOP_FRAME_READY);
    assert_int_equal(used, 0);

    frame = hoop_frame_take(&r, &size);
    assert_non_null(frame);
    assert_int_equal(size, 20004);
    assert_int_equal(frame[3], 20000 & 0xff);
    assert_null(hoop_frame_take(&r, &size));
    free(frame);

    free(buf);
}


static void
test_allocation_failures(void **state)
{
    size_t               used, size;
    unsigned char       *frame, in[4 + 30000];
    hoop_frame_reader_t  r;

    (void) state;

    memset(in, 'x', sizeof(in));
    in[0] = 0;
    in[1] = 0;
    in[2] = 30000 >> 8;
    in[3] = 30000 & 0xff;

    hoop_frame_reader_init(&r, 10, 1 << 20);

    /* the first allocation fails: the prefix is taken, the body is not */
    fail_malloc = 1;
    assert_int_equal(hoop_frame_feed(&r, in, sizeof(in), &used),
                     HOOP_FRAME_NOMEM);
    assert_int_equal(used, 4);
    assert_null(r.frame);

    /* growing fails: what arrived is kept, the rest is not taken */
    fail_realloc = 1;
    assert_int_equal(hoop_frame_feed(&r, in + 4, sizeof(in) - 4, &used),
                     HOOP_FRAME_NOMEM);
    assert_int_equal(used, 0);
    assert_non_null(r.frame);
    assert_int_equal(r.body_have, 0);

    /* memory again: the same bytes make the same frame */
    assert_int_equal(hoop_frame_feed(&r, in + 4, sizeof(in) - 4, &used),
                     HOOP_FRAME_READY);
    assert_int_equal(used, 30000);

    frame = hoop_frame_take(&r, &size);
    assert_non_null(frame);
    assert_int_equal(size, sizeof(in));
    assert_memory_equal(frame, in, sizeof(in));
    free(frame);

    hoop_frame_reader_free(&r);
}


int
main(int argc, char **argv)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_captured_frames_every_split),
        cmocka_unit_test(test_size_bounds),
        cmocka_unit_test(test_memory_follows_arrivals),
        cmocka_unit_test(test_allocation_failures),
    };

    if (argc > 1) {
        frames_dir = argv[1];
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
