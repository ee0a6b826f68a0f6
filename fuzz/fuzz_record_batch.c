/*
 * libFuzzer target for Kafka record batches (src/kafka/hoop_record_batch.c)
 * and the codecs under them (src/kafka/hoop_compress.c).
 *
 * Input: one mode byte, then a records blob.  Mode bits:
 *   0x01  recompute every magic 2 batch's CRC first, so that mutations
 *         reach the records and the decompressors instead of stopping at
 *         the CRC check
 *   0x02  trim a truncated tail          0x04  refuse a tail (Produce)
 *   0x08  pass batches with a bad CRC    0x10  mask keys and headers too
 *
 * Properties checked (abort on failure):
 *   - nothing is read outside the input (ASan), no undefined behaviour;
 *   - a rewrite that changes nothing gives the input back byte for byte;
 *   - a masking rewrite that succeeds gives a blob that summarizes to the
 *     same batches, whose rebuilt batches have valid CRCs and records
 *     counts, and that rewrites to itself when nothing is changed.
 */

#include <stdlib.h>
#include <string.h>

#include "hoop_record_batch.h"


#define FUZZ_MAX_DECOMPRESSED  (1 << 20)


typedef struct fuzz_block_s  fuzz_block_t;

struct fuzz_block_s {
    fuzz_block_t    *next;
    long double      align;
};


static void *
fuzz_alloc(void *ctx, size_t n)
{
    fuzz_block_t  **head, *b;

    head = ctx;
    b = malloc(sizeof(fuzz_block_t) + n);
    if (b == NULL) {
        return NULL;
    }

    b->next = *head;
    *head = b;

    return b + 1;
}


static void
fuzz_free_all(fuzz_block_t **head)
{
    fuzz_block_t  *b, *next;

    for (b = *head; b; b = next) {
        next = b->next;
        free(b);
    }

    *head = NULL;
}


typedef struct {
    int                    all;
    int                    edits;    /* HOOP_BATCH_HEADER_EDITS */
    uint8_t                buf[512];
    hoop_record_header_t   h[8];
} fuzz_mask_t;


/* values: reversed, then "#" (longer); keys and the first header value
 * become "x" */
static int
fuzz_mask(void *ctx, const hoop_record_batch_t *batch, hoop_record_t *r)
{
    int32_t       i, n;
    fuzz_mask_t  *m;

    (void) batch;
    m = ctx;

    if (r->value.len < 0 || r->value.len > 500) {
        return HOOP_RECORD_UNCHANGED;
    }

    n = r->value.len;

    for (i = 0; i < n; i++) {
        m->buf[i] = r->value.data[n - 1 - i];
    }

    m->buf[n] = '#';
    r->value.data = m->buf;
    r->value.len = n + 1;

    if (m->all) {
        if (r->key.len >= 0) {
            r->key.data = (const uint8_t *) "x";
            r->key.len = 1;
        }

        if (r->headers_count && r->headers[0].value.len >= 0) {
            r->headers[0].value.data = (const uint8_t *) "x";
            r->headers[0].value.len = 1;
        }
    }

    if (m->edits && r->headers_count > 0 && r->headers_count <= 8) {
        /* the first header goes, the next one's value flips nullness */
        n = r->headers_count - 1;
        memcpy(m->h, r->headers + 1, (size_t) n * sizeof(m->h[0]));

        if (n) {
            if (m->h[0].value.len < 0) {
                m->h[0].value.data = (const uint8_t *) "v";
                m->h[0].value.len = 1;
            } else {
                m->h[0].value.data = NULL;
                m->h[0].value.len = -1;
            }
        }

        r->headers = m->h;
        r->headers_count = n;
    }

    return HOOP_RECORD_CHANGED;
}


static int
fuzz_count(void *ctx, const hoop_record_batch_t *batch, hoop_record_t *r)
{
    (void) batch;
    (void) r;

    (*(size_t *) ctx)++;

    return HOOP_RECORD_UNCHANGED;
}


static uint8_t *
fuzz_flatten(const hoop_batch_rewrite_t *res)
{
    uint8_t  *out;

    out = malloc(res->size + 1);
    if (out == NULL) {
        abort();
    }

    if (hoop_batch_rewrite_copy(res, out) != out + res->size) {
        abort();
    }

    return out;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                        rc, rc2;
    size_t                     len, n, nrec;
    uint8_t                   *in, *out, mode;
    fuzz_mask_t                m;
    fuzz_block_t              *blocks;
    hoop_batch_err_t           err;
    hoop_batch_iter_t          it;
    hoop_kafka_alloc_t         a;
    hoop_record_batch_t        b, b2;
    hoop_batch_summary_t       s, s2;
    hoop_batch_rewrite_t       res, res2;
    hoop_batch_rewrite_conf_t  conf;

    if (size < 1) {
        return 0;
    }

    mode = data[0];
    len = size - 1;
    in = malloc(len + 1);
    if (in == NULL) {
        return 0;
    }

    memcpy(in, data + 1, len);

    blocks = NULL;
    a.alloc = fuzz_alloc;
    a.ctx = &blocks;

    if (mode & 0x01) {
        hoop_batch_iter_init(&it, in, len);

        while (hoop_batch_next(&it, &b, NULL) == HOOP_BATCH_V2) {
            uint32_t  crc = hoop_crc32c(b.data + HOOP_BATCH_CRC_START,
                                        b.size - HOOP_BATCH_CRC_START);
            uint8_t  *p = in + b.offset + HOOP_BATCH_CRC_OFFSET;

            p[0] = (uint8_t) (crc >> 24);
            p[1] = (uint8_t) (crc >> 16);
            p[2] = (uint8_t) (crc >> 8);
            p[3] = (uint8_t) crc;
        }
    }

    rc = hoop_batch_summarize(in, len, &s, &err);

    /* every batch's records, read only */
    hoop_batch_iter_init(&it, in, len);

    while (hoop_batch_next(&it, &b, NULL) == HOOP_BATCH_V2) {
        nrec = 0;

        if (hoop_batch_foreach_record(&a, &b, FUZZ_MAX_DECOMPRESSED,
                                      fuzz_count, &nrec, &err)
            == HOOP_BATCH_OK
            && nrec != (size_t) b.records_count)
        {
            abort();
        }
    }

    fuzz_free_all(&blocks);

    memset(&conf, 0, sizeof(conf));
    conf.max_decompressed = FUZZ_MAX_DECOMPRESSED;
    conf.flags = ((mode & 0x02) ? HOOP_BATCH_TRIM_TAIL : 0)
                 | ((mode & 0x04) ? HOOP_BATCH_NO_TAIL : 0)
                 | ((mode & 0x08) ? HOOP_BATCH_PASS_CORRUPT : 0);

    /* no change: the input, untouched (less a trimmed tail) */
    rc2 = hoop_batch_rewrite(&a, in, len, &conf, &res, &err);

    if (rc != HOOP_BATCH_OK && rc2 == HOOP_BATCH_OK) {
        abort();    /* the rewrite accepted what the summary refused */
    }

    if (rc2 == HOOP_BATCH_OK) {
        n = res.tail_trimmed ? res.tail_offset : len;

        if (res.size != n || res.changed_batches != 0) {
            abort();
        }

        out = fuzz_flatten(&res);

        if (memcmp(out, in, n) != 0) {
            abort();
        }

        free(out);
    }

    fuzz_free_all(&blocks);

    /* masked */
    memset(&m, 0, sizeof(m));
    m.all = (mode & 0x10) != 0;
    m.edits = (mode & 0x20) != 0;
    conf.flags |= m.edits ? HOOP_BATCH_HEADER_EDITS : 0;
    conf.record = fuzz_mask;
    conf.ctx = &m;

    rc2 = hoop_batch_rewrite(&a, in, len, &conf, &res, &err);

    if (rc2 == HOOP_BATCH_OK) {
        out = fuzz_flatten(&res);

        if (hoop_batch_summarize(out, res.size, &s2, &err) != HOOP_BATCH_OK
            || s2.batches != s.batches || s2.records != s.records
            || s2.first_offset != s.first_offset
            || s2.last_offset != s.last_offset
            || s2.tail_size != (res.tail_trimmed ? 0 : s.tail_size))
        {
            abort();
        }

        /* rebuilt batches: valid CRC, readable, same counts */
        hoop_batch_iter_init(&it, in, len);
        hoop_batch_iter_t  it2;
        hoop_batch_iter_init(&it2, out, res.size);

        while (hoop_batch_next(&it, &b, NULL) == HOOP_BATCH_V2) {
            if (hoop_batch_next(&it2, &b2, NULL) != HOOP_BATCH_V2) {
                abort();
            }

            if (b.size == b2.size && memcmp(b.data, b2.data, b.size) == 0) {
                continue;
            }

            nrec = 0;

            if (!hoop_batch_crc_ok(&b2)
                || b2.attributes != b.attributes
                || b2.base_offset != b.base_offset
                || b2.producer_id != b.producer_id
                || b2.base_sequence != b.base_sequence
                || b2.records_count != b.records_count
                || hoop_batch_foreach_record(&a, &b2, 0, fuzz_count, &nrec,
                                             &err)
                   != HOOP_BATCH_OK
                || nrec != (size_t) b.records_count)
            {
                abort();
            }
        }

        /* the new blob, rewritten without change, stays as it is */
        conf.record = NULL;
        conf.flags &= ~(HOOP_BATCH_TRIM_TAIL | HOOP_BATCH_HEADER_EDITS);
        conf.max_decompressed = 0;

        if (hoop_batch_rewrite(&a, out, res.size, &conf, &res2, &err)
            == HOOP_BATCH_OK
            && (res2.size != res.size || res2.changed_batches != 0))
        {
            abort();
        }

        free(out);
    }

    fuzz_free_all(&blocks);
    free(in);

    return 0;
}
