/*
 * Helpers shared by the record batch tests (test_record_batch.c) and the
 * command-line tool the regression test drives (test_record_batch_tool.c):
 * reading fixtures, an independent CRC-32C and batch builder (so the tests
 * check one implementation against another), the "mask" transformation a
 * test callback applies, and a checker that a rewritten blob is the
 * original with exactly that transformation.  Header-only.
 */

#ifndef TEST_RECORD_BATCH_UTIL_H
#define TEST_RECORD_BATCH_UTIL_H

#include <stdio.h>
#include <stdarg.h>
#include <ctype.h>

#include "test_kafka_util.h"
#include "hoop_record_batch.h"


/* what the test callback changes */
#define TEST_MASK_VALUES    0x01
#define TEST_MASK_KEYS      0x02
#define TEST_MASK_HEADERS   0x04
#define TEST_MASK_SAME      0x08   /* "change" every value to itself */


static inline uint8_t *
test_read_file(const char *path, size_t *len)
{
    FILE     *f;
    long      n;
    uint8_t  *p;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return NULL;
    }

    p = malloc((size_t) n + 1);
    if (p == NULL || fread(p, 1, (size_t) n, f) != (size_t) n) {
        free(p);
        fclose(f);
        return NULL;
    }

    fclose(f);
    *len = (size_t) n;

    return p;
}


/* Bit by bit, from the polynomial (0x82f63b78 reflected). */
static inline uint32_t
test_crc32c(const uint8_t *p, size_t n)
{
    int       k;
    uint32_t  crc;

    crc = 0xffffffff;

    while (n--) {
        crc ^= *p++;

        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82f63b78 & (0u - (crc & 1)));
        }
    }

    return ~crc;
}


static inline void
test_buf_varint(test_buf_t *b, int64_t v)
{
    test_buf_uvarint(b, v < 0 ? (~(uint64_t) v << 1) | 1
                              : (uint64_t) v << 1);
}


static inline void
test_buf_varbytes(test_buf_t *b, const char *s, int32_t len)
{
    test_buf_varint(b, s ? len : -1);

    if (s) {
        test_buf_put(b, s, (size_t) len);
    }
}


/* A test record: NULL strings are null; headers as "k", "v" pairs. */
typedef struct {
    const char      *key;
    const char      *value;
    int              nheaders;
    const char      *headers[8];
} test_rec_t;


/* One record's encoding (length first) appended to b. */
static inline void
test_record_put(test_buf_t *b, const test_rec_t *r, int64_t ts_delta,
    int32_t offset_delta)
{
    int         i;
    test_buf_t  body;

    memset(&body, 0, sizeof(body));
    test_buf_put(&body, "\0", 1);
    test_buf_varint(&body, ts_delta);
    test_buf_varint(&body, offset_delta);
    test_buf_varbytes(&body, r->key, r->key ? (int32_t) strlen(r->key) : 0);
    test_buf_varbytes(&body, r->value,
                      r->value ? (int32_t) strlen(r->value) : 0);
    test_buf_varint(&body, r->nheaders);

    for (i = 0; i < r->nheaders; i++) {
        test_buf_varbytes(&body, r->headers[2 * i],
                          (int32_t) strlen(r->headers[2 * i]));
        test_buf_varbytes(&body, r->headers[2 * i + 1],
                          r->headers[2 * i + 1]
                          ? (int32_t) strlen(r->headers[2 * i + 1]) : 0);
    }

    test_buf_varint(b, (int64_t) body.len);
    test_buf_put(b, body.p, body.len);
    test_buf_free(&body);
}


/*
 * A magic 2 batch around records (already encoded, compressed or not),
 * with the given attributes and count; the CRC from test_crc32c().
 */
static inline void
test_batch_put(test_buf_t *out, int64_t base_offset, int16_t attributes,
    int32_t count, const uint8_t *records, size_t len)
{
    size_t      crc_at;
    test_buf_t  b;

    memset(&b, 0, sizeof(b));
    test_buf_be(&b, (uint64_t) base_offset, 8);
    test_buf_be(&b, 49 + len, 4);
    test_buf_be(&b, 7, 4);                          /* leader epoch */
    test_buf_put(&b, "\2", 1);
    crc_at = b.len;
    test_buf_be(&b, 0, 4);
    test_buf_be(&b, (uint16_t) attributes, 2);
    test_buf_be(&b, (uint32_t) (count ? count - 1 : 0), 4);
    test_buf_be(&b, 1700000000000ULL, 8);
    test_buf_be(&b, 1700000000000ULL + 9, 8);
    test_buf_be(&b, 4242, 8);                       /* producer id */
    test_buf_be(&b, 3, 2);                          /* epoch */
    test_buf_be(&b, 17, 4);                         /* base sequence */
    test_buf_be(&b, (uint32_t) count, 4);
    test_buf_put(&b, records, len);

    {
        uint32_t  crc = test_crc32c(b.p + 21, b.len - 21);

        b.p[crc_at] = (uint8_t) (crc >> 24);
        b.p[crc_at + 1] = (uint8_t) (crc >> 16);
        b.p[crc_at + 2] = (uint8_t) (crc >> 8);
        b.p[crc_at + 3] = (uint8_t) crc;
    }

    test_buf_put(out, b.p, b.len);
    test_buf_free(&b);
}


/* Recomputes the CRC of the magic 2 batch at p (size bytes). */
static inline void
test_batch_fix_crc(uint8_t *p, size_t size)
{
    uint32_t  crc;

    crc = test_crc32c(p + 21, size - 21);
    p[17] = (uint8_t) (crc >> 24);
    p[18] = (uint8_t) (crc >> 16);
    p[19] = (uint8_t) (crc >> 8);
    p[20] = (uint8_t) crc;
}


/*
 * The transformation: values by offset delta mod 3 become longer
 * ("masked-" and the value in upper case), shorter (the first half) or
 * stay; keys at even deltas get a "k*" prefix; header values of "h1"
 * become "x".  Nulls stay null.  Returns 1 if t differs from in.
 */
static inline int
test_transform(int what, int32_t offset_delta, const char *hkey,
    size_t hkey_len, hoop_batch_bytes_t in, test_buf_t *out,
    size_t *off, int32_t *len)
{
    int32_t  i;
    uint8_t  c;

    *off = out->len;
    *len = in.len;

    if (in.len < 0) {
        return 0;
    }

    if (what == TEST_MASK_VALUES && offset_delta % 3 == 0) {
        test_buf_put(out, "masked-", 7);

        for (i = 0; i < in.len; i++) {
            c = (uint8_t) toupper(in.data[i]);
            test_buf_put(out, &c, 1);
        }

    } else if (what == TEST_MASK_VALUES && offset_delta % 3 == 1) {
        test_buf_put(out, in.data, (size_t) in.len / 2);

    } else if (what == TEST_MASK_KEYS && offset_delta % 2 == 0) {
        test_buf_put(out, "k*", 2);
        test_buf_put(out, in.data, (size_t) in.len);

    } else if (what == TEST_MASK_HEADERS && hkey_len == 2
               && memcmp(hkey, "h1", 2) == 0)
    {
        test_buf_put(out, "x", 1);

    } else {
        test_buf_put(out, in.data, (size_t) in.len);
    }

    *len = (int32_t) (out->len - *off);

    return *len != in.len
           || (in.len > 0
               && memcmp(out->p + *off, in.data, (size_t) in.len) != 0);
}


typedef struct {
    int              mode;       /* TEST_MASK_* */
    test_buf_t       buf;        /* this record's new bytes */
    size_t           calls;
    size_t           changed;    /* records the callback changed */
} test_mask_t;


/* The rewrite callback applying test_transform(). */
static inline int
test_mask_record(void *ctx, const hoop_record_batch_t *batch,
    hoop_record_t *r)
{
    int           changed;
    size_t        koff, voff, hoff[64];
    int32_t       klen, vlen, hlen[64], i, n;
    test_mask_t  *m;

    (void) batch;
    m = ctx;
    m->calls++;
    m->buf.len = 0;
    changed = 0;
    n = r->headers_count < 64 ? r->headers_count : 64;

    changed |= test_transform((m->mode & TEST_MASK_KEYS), r->offset_delta,
                              NULL, 0, r->key, &m->buf, &koff, &klen);
    changed |= test_transform((m->mode & TEST_MASK_VALUES), r->offset_delta,
                              NULL, 0, r->value, &m->buf, &voff, &vlen);

    for (i = 0; i < n; i++) {
        changed |= test_transform((m->mode & TEST_MASK_HEADERS),
                                  r->offset_delta,
                                  (const char *) r->headers[i].key.data,
                                  (size_t) r->headers[i].key.len,
                                  r->headers[i].value, &m->buf, &hoff[i],
                                  &hlen[i]);
    }

    if (!changed && !(m->mode & TEST_MASK_SAME)) {
        return HOOP_RECORD_UNCHANGED;
    }

    /* the buffer no longer moves: point into it */
    if (klen >= 0) {
        r->key.data = m->buf.p + koff;
        r->key.len = klen;
    }

    if (vlen >= 0) {
        r->value.data = m->buf.p + voff;
        r->value.len = vlen;
    }

    for (i = 0; i < n; i++) {
        if (hlen[i] >= 0) {
            r->headers[i].value.data = m->buf.p + hoff[i];
            r->headers[i].value.len = hlen[i];
        }
    }

    m->changed += changed;

    return HOOP_RECORD_CHANGED;
}


/*
 * Checking a rewrite
 */

typedef struct {
    test_buf_t       key;
    test_buf_t       value;
    int32_t          value_len;
} test_header_copy_t;


typedef struct {
    int8_t               attributes;
    int64_t              timestamp_delta;
    int32_t              offset_delta;
    test_buf_t           key;
    int32_t              key_len;
    test_buf_t           value;
    int32_t              value_len;
    int32_t              nheaders;
    test_header_copy_t  *headers;
} test_record_copy_t;


typedef struct {
    test_record_copy_t  *recs;
    size_t               n;
    size_t               cap;
} test_records_t;


/* A foreach callback that copies every record into a test_records_t. */
static inline int
test_collect_record(void *ctx, const hoop_record_batch_t *batch,
    hoop_record_t *r)
{
    int32_t              i;
    test_records_t      *rs;
    test_record_copy_t  *c;
    test_header_copy_t  *h;

    (void) batch;
    rs = ctx;

    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->recs = realloc(rs->recs, rs->cap * sizeof(test_record_copy_t));
        if (rs->recs == NULL) {
            abort();
        }
    }

    c = &rs->recs[rs->n++];
    memset(c, 0, sizeof(test_record_copy_t));
    c->attributes = r->attributes;
    c->timestamp_delta = r->timestamp_delta;
    c->offset_delta = r->offset_delta;
    c->key_len = r->key.len;
    c->value_len = r->value.len;

    if (r->key.len > 0) {
        test_buf_put(&c->key, r->key.data, (size_t) r->key.len);
    }

    if (r->value.len > 0) {
        test_buf_put(&c->value, r->value.data, (size_t) r->value.len);
    }

    c->nheaders = r->headers_count;
    c->headers = calloc((size_t) r->headers_count + 1,
                        sizeof(test_header_copy_t));
    if (c->headers == NULL) {
        abort();
    }

    for (i = 0; i < r->headers_count; i++) {
        h = &c->headers[i];
        test_buf_put(&h->key, r->headers[i].key.data,
                     (size_t) r->headers[i].key.len);
        test_buf_put(&h->key, "", 1);   /* NUL, for printing */
        h->key.len--;
        h->value_len = r->headers[i].value.len;

        if (h->value_len > 0) {
            test_buf_put(&h->value, r->headers[i].value.data,
                         (size_t) h->value_len);
        }
    }

    return HOOP_RECORD_UNCHANGED;
}


static inline void
test_records_free(test_records_t *rs)
{
    size_t   i;
    int32_t  h;

    for (i = 0; i < rs->n; i++) {
        test_buf_free(&rs->recs[i].key);
        test_buf_free(&rs->recs[i].value);

        for (h = 0; h < rs->recs[i].nheaders; h++) {
            test_buf_free(&rs->recs[i].headers[h].key);
            test_buf_free(&rs->recs[i].headers[h].value);
        }

        free(rs->recs[i].headers);
    }

    free(rs->recs);
    memset(rs, 0, sizeof(test_records_t));
}


static inline int
test_problem(char *why, size_t size, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);

    return -1;
}


/* Is a (alen bytes, -1 null) test_transform() of b? */
static inline int
test_expect(int what, int32_t od, const char *hkey, size_t hkey_len,
    const uint8_t *a, int32_t alen, const uint8_t *b, int32_t blen)
{
    int                 ok;
    size_t              off;
    int32_t             len;
    test_buf_t          t;
    hoop_batch_bytes_t  in;

    memset(&t, 0, sizeof(t));
    in.data = b;
    in.len = blen;
    test_transform(what, od, hkey, hkey_len, in, &t, &off, &len);

    ok = len == alen
         && (len <= 0 || memcmp(t.p + off, a, (size_t) len) == 0);
    test_buf_free(&t);

    return ok;
}


/* Record y is record x with mode applied: 0, or a negative code. */
static inline int
test_check_record(const test_record_copy_t *x, const test_record_copy_t *y,
    int mode)
{
    int32_t                   h;
    const test_header_copy_t  *hx, *hy;

    if (x->attributes != y->attributes
        || x->timestamp_delta != y->timestamp_delta
        || x->offset_delta != y->offset_delta
        || x->nheaders != y->nheaders)
    {
        return -1;
    }

    if (!test_expect(mode & TEST_MASK_KEYS, x->offset_delta, NULL, 0,
                     y->key.p, y->key_len, x->key.p, x->key_len))
    {
        return -2;
    }

    if (!test_expect(mode & TEST_MASK_VALUES, x->offset_delta, NULL, 0,
                     y->value.p, y->value_len, x->value.p, x->value_len))
    {
        return -3;
    }

    for (h = 0; h < x->nheaders; h++) {
        hx = &x->headers[h];
        hy = &y->headers[h];

        if (hx->key.len != hy->key.len
            || memcmp(hx->key.p, hy->key.p, hx->key.len) != 0)
        {
            return -4;
        }

        if (!test_expect(mode & TEST_MASK_HEADERS, x->offset_delta,
                         (const char *) hx->key.p, hx->key.len,
                         hy->value.p, hy->value_len, hx->value.p,
                         hx->value_len))
        {
            return -5;
        }
    }

    return 0;
}


/*
 * Checks that blob b is blob a rewritten with mode: the same batches in
 * the same order; control batches, legacy entries and batches without a
 * change identical; rebuilt ones with a valid CRC, every header field but
 * batchLength and crc equal (the codec is in the attributes), and records
 * equal but for the transformation.  Returns 0, or -1 with why filled in.
 * *rebuilt counts the rebuilt batches.
 */
static inline int
test_check_rewrite(const hoop_kafka_alloc_t *al, const uint8_t *a,
    size_t alen, const uint8_t *b, size_t blen, int mode, size_t *rebuilt,
    char *why, size_t size)
{
    int                  ra, rb, rc;
    size_t               i, n;
    test_records_t       xs, ys;
    hoop_batch_iter_t    ia, ib;
    hoop_record_batch_t  ba, bb;

    hoop_batch_iter_init(&ia, a, alen);
    hoop_batch_iter_init(&ib, b, blen);
    *rebuilt = 0;

    for (n = 0; ; n++) {
        ra = hoop_batch_next(&ia, &ba, NULL);
        rb = hoop_batch_next(&ib, &bb, NULL);

        if (ra != rb) {
            return test_problem(why, size, "batch %zu: kind %d, then %d",
                                n, ra, rb);
        }

        if (ra == HOOP_BATCH_END) {
            return 0;
        }

        if (ra < 0) {
            return test_problem(why, size, "batch %zu: error %d", n, ra);
        }

        if (ba.size == bb.size && memcmp(ba.data, bb.data, ba.size) == 0) {
            /* copied: fine for anything; records still compared below */
            if (ra != HOOP_BATCH_V2) {
                continue;
            }

        } else if (ra != HOOP_BATCH_V2
                   || (ba.attributes & HOOP_BATCH_CONTROL))
        {
            return test_problem(why, size, "batch %zu: changed, but it is "
                                "a tail, a legacy entry or control", n);

        } else {
            (*rebuilt)++;

            if (!hoop_batch_crc_ok(&bb)
                || test_crc32c(bb.data + 21, bb.size - 21) != bb.crc)
            {
                return test_problem(why, size, "batch %zu: bad CRC", n);
            }

            if (memcmp(ba.data, bb.data, 8) != 0
                || memcmp(ba.data + 12, bb.data + 12, 5) != 0
                || memcmp(ba.data + 21, bb.data + 21, 40) != 0)
            {
                return test_problem(why, size,
                                    "batch %zu: header fields differ", n);
            }
        }

        memset(&xs, 0, sizeof(xs));
        memset(&ys, 0, sizeof(ys));

        rc = hoop_batch_foreach_record(al, &ba, 0, test_collect_record, &xs,
                                       NULL);
        if (rc == HOOP_BATCH_OK) {
            rc = hoop_batch_foreach_record(al, &bb, 0, test_collect_record,
                                           &ys, NULL);
        }

        if (rc != HOOP_BATCH_OK || xs.n != ys.n
            || xs.n != (size_t) ba.records_count)
        {
            test_records_free(&xs);
            test_records_free(&ys);
            return test_problem(why, size, "batch %zu: records unreadable "
                                "(%d) or counts differ", n, rc);
        }

        for (i = 0; i < xs.n; i++) {
            /* control records are never transformed */
            rc = test_check_record(&xs.recs[i], &ys.recs[i],
                                   (ba.attributes & HOOP_BATCH_CONTROL)
                                   ? 0 : mode & ~TEST_MASK_SAME);
            if (rc != 0) {
                test_records_free(&xs);
                test_records_free(&ys);
                return test_problem(why, size, "batch %zu record %zu: "
                                    "mismatch %d", n, i, rc);
            }
        }

        test_records_free(&xs);
        test_records_free(&ys);
    }
}


#endif /* TEST_RECORD_BATCH_UTIL_H */
