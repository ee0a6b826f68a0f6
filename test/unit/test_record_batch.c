/*
 * Unit tests of src/kafka/hoop_record_batch.c and hoop_compress.c.
 *
 * Most tests run on the .bin files of test/unit/batches: records blobs
 * written by a
 * real Kafka 4.1.1 broker for batches produced by the Java client,
 * librdkafka and Kafka's console producer, with every codec
 * (test/unit/batches/regenerate).  The rest build batches by hand, with an
 * encoder and a CRC-32C of the tests' own (test_record_batch_util.h).
 *
 * Fixtures are read from $HOOP_BATCH_FIXTURES, else ./batches.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <zlib.h>
#include <snappy-c.h>
#include <lz4frame.h>
#include <zstd.h>

#include "test_record_batch_util.h"


#define MAX_FIXTURES  64


typedef struct {
    char        name[64];
    uint8_t    *data;
    size_t      len;
    unsigned    codec;
    size_t      batches;
    size_t      control;
    uint64_t    records;
    char        kind[16];     /* java-idem, java-txn, console, rdkafka */
} fixture_t;


static fixture_t     fixtures[MAX_FIXTURES];
static size_t        nfixtures;
static test_arena_t  arena;
static hoop_kafka_alloc_t  al;


static const char *
fixture_dir(void)
{
    const char  *d;

    d = getenv("HOOP_BATCH_FIXTURES");

    return d ? d : "batches";
}


static size_t
json_num(const char *line, const char *key)
{
    char         pat[64];
    const char  *p;

    snprintf(pat, sizeof(pat), "\"%s\":", key);
    p = strstr(line, pat);

    return p ? (size_t) strtoull(p + strlen(pat), NULL, 10) : (size_t) -1;
}


static int
load_fixtures(void **state)
{
    FILE        *f;
    char         path[512], line[1024], *sp;
    size_t       n;
    unsigned     c;
    fixture_t   *x;
    const char  *codecs[] = { "none", "gzip", "snappy", "lz4", "zstd" };

    (void) state;

    snprintf(path, sizeof(path), "%s/MANIFEST", fixture_dir());
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }

    while (fgets(line, sizeof(line), f) && nfixtures < MAX_FIXTURES) {
        x = &fixtures[nfixtures];
        sp = strchr(line, ' ');
        if (sp == NULL || (size_t) (sp - line) >= sizeof(x->name)) {
            continue;
        }

        memcpy(x->name, line, (size_t) (sp - line));
        x->name[sp - line] = '\0';

        snprintf(path, sizeof(path), "%s/%s", fixture_dir(), x->name);
        x->data = test_read_file(path, &x->len);
        if (x->data == NULL) {
            fprintf(stderr, "cannot read %s\n", path);
            fclose(f);
            return -1;
        }

        x->batches = json_num(sp, "batches");
        x->control = json_num(sp, "control");
        x->records = json_num(sp, "records");

        for (c = 0; c < 5; c++) {
            if (strstr(x->name, codecs[c])) {
                x->codec = c;
            }
        }

        n = (size_t) (strrchr(x->name, '-') - x->name);
        n = n < sizeof(x->kind) - 1 ? n : sizeof(x->kind) - 1;
        memcpy(x->kind, x->name, n);
        x->kind[n] = '\0';
        nfixtures++;
    }

    fclose(f);

    al = test_arena_allocator(&arena);

    return nfixtures >= 20 ? 0 : -1;
}


static int
free_fixtures(void **state)
{
    size_t  i;

    (void) state;

    for (i = 0; i < nfixtures; i++) {
        free(fixtures[i].data);
    }

    test_arena_reset(&arena);

    return 0;
}


/* the number of data (non-control) batches of a blob */
static size_t
data_batches(const uint8_t *p, size_t len)
{
    size_t               n;
    hoop_batch_iter_t    it;
    hoop_record_batch_t  b;

    n = 0;
    hoop_batch_iter_init(&it, p, len);

    while (hoop_batch_next(&it, &b, NULL) == HOOP_BATCH_V2) {
        n += (b.attributes & HOOP_BATCH_CONTROL) == 0;
    }

    return n;
}


static uint8_t *
flatten(const hoop_batch_rewrite_t *res)
{
    uint8_t  *out;

    out = malloc(res->size + 1);
    assert_non_null(out);
    assert_ptr_equal(hoop_batch_rewrite_copy(res, out), out + res->size);

    return out;
}


/*
 * CRC-32C
 */

static void
test_crc32c_vectors(void **state)
{
    size_t    n;
    uint8_t   buf[1024];
    uint64_t  seed;

    (void) state;

    assert_int_equal(hoop_crc32c((const uint8_t *) "123456789", 9),
                     0xe3069283);
    assert_int_equal(hoop_crc32c(NULL, 0), 0);

    seed = 0x9e3779b97f4a7c15ULL;

    for (n = 0; n < sizeof(buf); n++) {
        buf[n] = (uint8_t) test_rand(&seed);
    }

    /* every length and alignment ISA-L's SIMD paths split on */
    for (n = 0; n < sizeof(buf) - 8; n += (n < 300 ? 1 : 37)) {
        assert_int_equal(hoop_crc32c(buf + (n & 7), n),
                         test_crc32c(buf + (n & 7), n));
    }
}


/*
 * Fixtures: what the broker wrote
 */

static void
test_fixture_summaries(void **state)
{
    size_t                i, whole, data;
    hoop_batch_err_t      err;
    hoop_batch_iter_t     it;
    hoop_record_batch_t   b;
    hoop_batch_summary_t  s;
    test_records_t        rs;
    fixture_t            *x;

    (void) state;

    for (i = 0; i < nfixtures; i++) {
        x = &fixtures[i];

        assert_int_equal(hoop_batch_summarize(x->data, x->len, &s, &err),
                         HOOP_BATCH_OK);
        assert_int_equal(s.batches, x->batches);
        assert_int_equal(s.records, x->records);
        assert_int_equal(s.control_batches, x->control);
        assert_int_equal(s.legacy_batches, 0);
        assert_int_equal(s.tail_size, 0);
        assert_int_equal(s.tail_offset, x->len);
        assert_int_equal(s.bytes, x->len);
        assert_int_equal(s.first_offset, 0);
        assert_int_equal((uint64_t) s.last_offset + 1, x->records);

        /* the codec of every data batch is the one in the name */
        assert_true(s.codecs & (1u << x->codec));

        whole = 0;
        data = 0;
        memset(&rs, 0, sizeof(rs));
        hoop_batch_iter_init(&it, x->data, x->len);

        while (hoop_batch_next(&it, &b, &err) == HOOP_BATCH_V2) {
            whole++;
            assert_int_equal(b.magic, 2);
            assert_true(hoop_batch_crc_ok(&b));

            if (b.attributes & HOOP_BATCH_CONTROL) {
                assert_int_equal(b.attributes & HOOP_BATCH_CODEC_MASK, 0);
                assert_true(b.attributes & HOOP_BATCH_TRANSACTIONAL);

            } else {
                data++;
                assert_int_equal(b.attributes & HOOP_BATCH_CODEC_MASK,
                                 x->codec);
            }

            /* KIP-98: idempotent and transactional producers have ids */
            if (strncmp(x->kind, "java", 4) == 0) {
                assert_true(b.producer_id >= 0);
                assert_true(b.base_sequence >= 0
                            || (b.attributes & HOOP_BATCH_CONTROL));
            }

            if (strcmp(x->kind, "console") == 0) {
                assert_int_equal(b.producer_id, -1);
            }

            if (strcmp(x->kind, "java-txn") == 0) {
                assert_true(b.attributes & HOOP_BATCH_TRANSACTIONAL);
            }

            assert_int_equal(hoop_batch_foreach_record(&al, &b, 0,
                                                       test_collect_record,
                                                       &rs, &err),
                             HOOP_BATCH_OK);
        }

        assert_int_equal(whole, x->batches);
        assert_int_equal(rs.n, x->records);

        /* the console fixtures carry nulls: tombstones, a null key, a
         * null header value, and an empty value */
        if (strcmp(x->kind, "console") == 0) {
            assert_int_equal(rs.recs[1].value_len, -1);
            assert_int_equal(rs.recs[5].value_len, -1);
            assert_int_equal(rs.recs[2].key_len, -1);
            assert_int_equal(rs.recs[2].headers[0].value_len, -1);
            assert_int_equal(rs.recs[3].value_len, 0);
            assert_int_equal(rs.recs[4].nheaders, 3);
        }

        if (strcmp(x->kind, "java-idem") == 0) {
            assert_true(data >= 2);
            assert_memory_equal(rs.recs[7].key.p, "key-7", 5);
            assert_memory_equal(rs.recs[7].headers[0].value.p, "a-7", 3);
        }

        test_records_free(&rs);
    }
}


/* librdkafka writes raw snappy, the Java client xerial framing */
static void
test_fixture_snappy_framings(void **state)
{
    size_t               i, seen;
    hoop_batch_iter_t    it;
    hoop_record_batch_t  b;

    (void) state;
    seen = 0;

    for (i = 0; i < nfixtures; i++) {
        if (fixtures[i].codec != HOOP_CODEC_SNAPPY) {
            continue;
        }

        hoop_batch_iter_init(&it, fixtures[i].data, fixtures[i].len);
        assert_int_equal(hoop_batch_next(&it, &b, NULL), HOOP_BATCH_V2);

        if (strcmp(fixtures[i].kind, "rdkafka") == 0) {
            assert_true(b.records[0] != 0x82);
            seen |= 1;

        } else {
            assert_memory_equal(b.records, "\x82SNAPPY\0", 8);
            seen |= 2;
        }
    }

    assert_int_equal(seen, 3);
}


/* No change asked: the output is the input itself, one segment. */
static void
test_fixture_identity(void **state)
{
    int                        modes[] = { -1, 0, TEST_MASK_SAME };
    size_t                     i, k;
    test_mask_t                m;
    hoop_batch_err_t           err;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    for (i = 0; i < nfixtures; i++) {
        for (k = 0; k < 3; k++) {
            memset(&m, 0, sizeof(m));
            memset(&conf, 0, sizeof(conf));
            m.mode = modes[k] < 0 ? 0 : modes[k];
            conf.record = modes[k] < 0 ? NULL : test_mask_record;
            conf.ctx = &m;

            assert_int_equal(hoop_batch_rewrite(&al, fixtures[i].data,
                                                fixtures[i].len, &conf, &res,
                                                &err),
                             HOOP_BATCH_OK);
            assert_int_equal(res.nsegments, 1);
            assert_ptr_equal(res.segments[0].data, fixtures[i].data);
            assert_int_equal(res.size, fixtures[i].len);
            assert_int_equal(res.changed_batches, 0);
            assert_int_equal(res.batches, fixtures[i].batches);
            assert_int_equal(res.control_batches, fixtures[i].control);

            /* the callback saw every data record */
            if (modes[k] >= 0) {
                assert_int_equal(m.calls,
                                 fixtures[i].records - fixtures[i].control);
            }

            test_buf_free(&m.buf);
        }
    }

    test_arena_reset(&arena);
}


static void
check_framing(unsigned codec, const uint8_t *records)
{
    switch (codec) {

    case HOOP_CODEC_GZIP:
        assert_memory_equal(records, "\x1f\x8b\x08", 3);
        break;

    case HOOP_CODEC_SNAPPY:
        assert_memory_equal(records,
                            "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
        break;

    case HOOP_CODEC_LZ4:
        /* magic; FLG version 01, independent blocks, no checksums, no
         * content size; BD 64 KiB: what KafkaLZ4BlockOutputStream
         * writes */
        assert_memory_equal(records, "\x04\x22\x4d\x18\x60\x40", 6);
        break;

    case HOOP_CODEC_ZSTD:
        assert_memory_equal(records, "\x28\xb5\x2f\xfd", 4);
        break;
    }
}


/* Every mode on every fixture: the result is the original with exactly
 * the transformation, batches rebuilt with the same codec. */
static void
test_fixture_masked(void **state)
{
    int                        modes[] = { TEST_MASK_VALUES, TEST_MASK_KEYS,
                                           TEST_MASK_HEADERS,
                                           TEST_MASK_VALUES | TEST_MASK_KEYS
                                           | TEST_MASK_HEADERS };
    char                       why[256];
    size_t                     i, k, rebuilt;
    uint8_t                   *out;
    test_mask_t                m;
    hoop_batch_err_t           err;
    hoop_batch_iter_t          it;
    hoop_record_batch_t        b;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    for (i = 0; i < nfixtures; i++) {
        for (k = 0; k < 4; k++) {
            memset(&m, 0, sizeof(m));
            memset(&conf, 0, sizeof(conf));
            m.mode = modes[k];
            conf.record = test_mask_record;
            conf.ctx = &m;

            assert_int_equal(hoop_batch_rewrite(&al, fixtures[i].data,
                                                fixtures[i].len, &conf, &res,
                                                &err),
                             HOOP_BATCH_OK);

            /* every data batch of the fixtures has a record to change */
            assert_int_equal(res.changed_batches,
                             data_batches(fixtures[i].data,
                                          fixtures[i].len));
            assert_int_equal(res.changed_records, m.changed);
            assert_true(m.changed > 0);

            out = flatten(&res);

            if (test_check_rewrite(&al, fixtures[i].data, fixtures[i].len,
                                   out, res.size, modes[k], &rebuilt, why,
                                   sizeof(why))
                != 0)
            {
                fail_msg("%s mode %d: %s", fixtures[i].name, modes[k], why);
            }

            assert_int_equal(rebuilt, res.changed_batches);

            /* the codec's framing is what the Java client writes */
            hoop_batch_iter_init(&it, out, res.size);

            while (hoop_batch_next(&it, &b, NULL) == HOOP_BATCH_V2) {
                if ((b.attributes & HOOP_BATCH_CONTROL) == 0) {
                    check_framing(fixtures[i].codec, b.records);
                }
            }

            /* and the checker itself fails on the wrong transformation */
            assert_int_not_equal(test_check_rewrite(&al, fixtures[i].data,
                                                    fixtures[i].len, out,
                                                    res.size, 0, &rebuilt,
                                                    why, sizeof(why)),
                                 0);

            free(out);
            test_buf_free(&m.buf);
        }

        test_arena_reset(&arena);
    }
}


/* A rewritten blob rewritten again with identity stays as it is, and
 * masked twice gives the same as the checker expects from the first. */
static void
test_fixture_rewrite_twice(void **state)
{
    size_t                     i;
    uint8_t                   *once;
    test_mask_t                m;
    hoop_batch_err_t           err;
    hoop_batch_rewrite_t       res, res2;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    for (i = 0; i < nfixtures; i++) {
        memset(&m, 0, sizeof(m));
        memset(&conf, 0, sizeof(conf));
        m.mode = TEST_MASK_VALUES;
        conf.record = test_mask_record;
        conf.ctx = &m;

        assert_int_equal(hoop_batch_rewrite(&al, fixtures[i].data,
                                            fixtures[i].len, &conf, &res,
                                            &err),
                         HOOP_BATCH_OK);
        once = flatten(&res);

        conf.record = NULL;
        assert_int_equal(hoop_batch_rewrite(&al, once, res.size, &conf,
                                            &res2, &err),
                         HOOP_BATCH_OK);
        assert_int_equal(res2.nsegments, 1);
        assert_ptr_equal(res2.segments[0].data, once);

        free(once);
        test_buf_free(&m.buf);
        test_arena_reset(&arena);
    }
}


/*
 * Truncated tails (a Fetch response cut at max bytes)
 */

static void
test_truncated_tail(void **state)
{
    int                        rc;
    size_t                     i, cut, whole, bytes, starts[64], n, k;
    uint8_t                   *out;
    test_mask_t                m;
    hoop_batch_err_t           err;
    hoop_batch_iter_t          it;
    hoop_record_batch_t        b;
    hoop_batch_summary_t       s;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    for (i = 0; i < nfixtures; i++) {
        if (fixtures[i].batches < 2) {
            continue;
        }

        /* where each batch starts */
        n = 0;
        hoop_batch_iter_init(&it, fixtures[i].data, fixtures[i].len);

        while (hoop_batch_next(&it, &b, NULL) == HOOP_BATCH_V2) {
            starts[n++] = b.offset;
        }

        starts[n] = fixtures[i].len;

        for (cut = 0; cut <= fixtures[i].len; cut++) {
            for (k = 0; starts[k + 1] <= cut && k < n; k++) {
                /* void */
            }

            whole = k;
            bytes = starts[k];

            assert_int_equal(hoop_batch_summarize(fixtures[i].data, cut, &s,
                                                  &err),
                             HOOP_BATCH_OK);
            assert_int_equal(s.batches, whole);
            assert_int_equal(s.bytes, bytes);
            assert_int_equal(s.tail_offset, bytes == cut ? cut : bytes);
            assert_int_equal(s.tail_size, cut - bytes);

            /* untouched: the input, tail included */
            memset(&conf, 0, sizeof(conf));
            assert_int_equal(hoop_batch_rewrite(&al, fixtures[i].data, cut,
                                                &conf, &res, &err),
                             HOOP_BATCH_OK);
            assert_int_equal(res.size, cut);
            assert_int_equal(res.tail_size, cut - bytes);

            /* masked: whole batches rebuilt, the tail copied as it was */
            memset(&m, 0, sizeof(m));
            m.mode = TEST_MASK_VALUES;
            conf.record = test_mask_record;
            conf.ctx = &m;

            assert_int_equal(hoop_batch_rewrite(&al, fixtures[i].data, cut,
                                                &conf, &res, &err),
                             HOOP_BATCH_OK);
            assert_int_equal(res.changed_batches,
                             data_batches(fixtures[i].data, bytes));
            out = flatten(&res);
            assert_memory_equal(out + res.size - (cut - bytes),
                                fixtures[i].data + bytes, cut - bytes);
            free(out);

            /* trimmed: whole batches only */
            conf.flags = HOOP_BATCH_TRIM_TAIL;
            assert_int_equal(hoop_batch_rewrite(&al, fixtures[i].data, cut,
                                                &conf, &res, &err),
                             HOOP_BATCH_OK);
            assert_int_equal(res.tail_trimmed, cut != bytes);
            out = flatten(&res);
            assert_int_equal(hoop_batch_summarize(out, res.size, &s, &err),
                             HOOP_BATCH_OK);
            assert_int_equal(s.batches, whole);
            assert_int_equal(s.tail_size, 0);
            free(out);

            /* a Produce must not end in a part of a batch */
            conf.flags = HOOP_BATCH_NO_TAIL;
            rc = hoop_batch_rewrite(&al, fixtures[i].data, cut, &conf, &res,
                                    &err);
            assert_int_equal(rc, cut == bytes ? HOOP_BATCH_OK
                                              : HOOP_BATCH_ETAIL);

            if (rc == HOOP_BATCH_ETAIL) {
                assert_int_equal(err.offset, bytes);
            }

            test_buf_free(&m.buf);
            test_arena_reset(&arena);
        }
    }
}


/*
 * CRC mismatches
 */

static void
test_bad_crc(void **state)
{
    size_t                     i, at;
    uint8_t                   *p, *out;
    test_mask_t                m;
    hoop_batch_err_t           err;
    hoop_batch_summary_t       s;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    for (i = 0; i < nfixtures; i++) {
        p = malloc(fixtures[i].len);
        memcpy(p, fixtures[i].data, fixtures[i].len);

        /* one bit of the first batch's last byte */
        at = fixtures[i].batches > 1 ? 61 : fixtures[i].len - 1;
        p[at] ^= 0x01;

        /* the summary does not read records: still fine */
        assert_int_equal(hoop_batch_summarize(p, fixtures[i].len, &s, &err),
                         HOOP_BATCH_OK);

        memset(&m, 0, sizeof(m));
        memset(&conf, 0, sizeof(conf));
        m.mode = TEST_MASK_VALUES;
        conf.record = test_mask_record;
        conf.ctx = &m;

        assert_int_equal(hoop_batch_rewrite(&al, p, fixtures[i].len, &conf,
                                            &res, &err),
                         HOOP_BATCH_ECRC);
        assert_int_equal(err.offset, err.batch + 17);
        assert_non_null(err.msg);

        /* passed through unread: the same corrupt bytes, so the broker
         * or consumer refuses them as it would without the gateway */
        conf.flags = HOOP_BATCH_PASS_CORRUPT;
        m.calls = 0;
        assert_int_equal(hoop_batch_rewrite(&al, p, fixtures[i].len, &conf,
                                            &res, &err),
                         HOOP_BATCH_OK);
        assert_int_equal(res.corrupt_batches, 1);
        out = flatten(&res);

        if (fixtures[i].batches == 1) {
            assert_memory_equal(out, p, fixtures[i].len);
            assert_int_equal(m.calls, 0);
        }

        free(out);
        free(p);
        test_buf_free(&m.buf);
        test_arena_reset(&arena);
    }
}


/*
 * Hand-built batches
 */

static const test_rec_t  hand_recs[] = {
    { "k0", "{\"card\":\"4111\"}", 2, { "h1", "a", "h2", NULL } },
    { NULL, "no key", 0, { NULL } },
    { "k2", NULL, 1, { "h1", "tomb" } },
    { "", "", 0, { NULL } },
    { "k4", "a longer value with some text in it", 3,
      { "h1", "x1", "h2", "", "h3", "y" } },
};


static void
hand_records(test_buf_t *recs, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        test_record_put(recs, &hand_recs[i % 5], (int64_t) i * 3,
                        (int32_t) i);
    }
}


static void
append_control_batch(test_buf_t *out)
{
    size_t               i;
    hoop_batch_iter_t    it;
    hoop_record_batch_t  b;

    for (i = 0; i < nfixtures; i++) {
        if (strcmp(fixtures[i].kind, "java-txn") != 0) {
            continue;
        }

        hoop_batch_iter_init(&it, fixtures[i].data, fixtures[i].len);

        while (hoop_batch_next(&it, &b, NULL) == HOOP_BATCH_V2) {
            if (b.attributes & HOOP_BATCH_CONTROL) {
                test_buf_put(out, b.data, b.size);
                return;
            }
        }
    }

    fail_msg("no control batch in the fixtures");
}


static void
test_hand_built_codecs(void **state)
{
    char                       why[256];
    size_t                     rebuilt;
    unsigned                   codec;
    uint8_t                   *out;
    test_buf_t                 recs, blob;
    test_mask_t                m;
    const char                *msg;
    hoop_batch_err_t           err;
    hoop_compress_buf_t        z;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    for (codec = 0; codec <= 4; codec++) {
        memset(&recs, 0, sizeof(recs));
        memset(&blob, 0, sizeof(blob));
        memset(&z, 0, sizeof(z));
        hand_records(&recs, 5);

        if (codec) {
            assert_int_equal(hoop_compress(&al, codec, recs.p, recs.len, &z,
                                           &msg),
                             HOOP_COMPRESS_OK);
            test_batch_put(&blob, 100, (int16_t) (codec | 0x10), 5, z.data,
                           z.len);

        } else {
            test_batch_put(&blob, 100, 0x10, 5, recs.p, recs.len);
        }

        /* a COMMIT marker from the broker after it: copied, never read */
        append_control_batch(&blob);

        memset(&m, 0, sizeof(m));
        memset(&conf, 0, sizeof(conf));
        m.mode = TEST_MASK_VALUES | TEST_MASK_KEYS | TEST_MASK_HEADERS;
        conf.record = test_mask_record;
        conf.ctx = &m;

        assert_int_equal(hoop_batch_rewrite(&al, blob.p, blob.len, &conf,
                                            &res, &err),
                         HOOP_BATCH_OK);
        assert_int_equal(res.changed_batches, 1);
        out = flatten(&res);

        if (test_check_rewrite(&al, blob.p, blob.len, out, res.size,
                               m.mode, &rebuilt, why, sizeof(why))
            != 0)
        {
            fail_msg("codec %u: %s", codec, why);
        }

        free(out);
        test_buf_free(&m.buf);
        test_buf_free(&recs);
        test_buf_free(&blob);
        test_arena_reset(&arena);
    }
}


/* The other framings Kafka's readers accept: raw snappy, several xerial
 * headers, several gzip members, several zstd frames. */
static void
test_codec_variants(void **state)
{
    size_t                i, n, half;
    uLongf                glen;
    uint8_t               buf[4096];
    test_buf_t            recs, blob, c;
    test_records_t        rs;
    hoop_batch_err_t      err;
    hoop_batch_iter_t     it;
    hoop_record_batch_t   b;
    z_stream              zs;

    (void) state;

    memset(&recs, 0, sizeof(recs));
    hand_records(&recs, 10);
    half = recs.len / 2;

    for (i = 0; i < 4; i++) {
        memset(&c, 0, sizeof(c));
        memset(&blob, 0, sizeof(blob));

        if (i == 0) {
            /* raw snappy, as librdkafka writes it */
            n = sizeof(buf);
            assert_int_equal(snappy_compress((const char *) recs.p,
                                             recs.len, (char *) buf, &n),
                             SNAPPY_OK);
            test_buf_put(&c, buf, n);
            test_batch_put(&blob, 0, HOOP_CODEC_SNAPPY, 10, c.p, c.len);

        } else if (i == 1) {
            /* two xerial streams back to back, tiny blocks */
            size_t  part, pos;

            for (part = 0; part < 2; part++) {
                test_buf_put(&c, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);

                for (pos = part ? half : 0; pos < (part ? recs.len : half);
                     pos += 7)
                {
                    size_t  len = (part ? recs.len : half) - pos;

                    len = len > 7 ? 7 : len;
                    n = sizeof(buf);
                    assert_int_equal(snappy_compress((const char *) recs.p
                                                     + pos, len,
                                                     (char *) buf, &n),
                                     SNAPPY_OK);
                    test_buf_be(&c, n, 4);
                    test_buf_put(&c, buf, n);
                }
            }

            test_batch_put(&blob, 0, HOOP_CODEC_SNAPPY, 10, c.p, c.len);

        } else if (i == 2) {
            /* two gzip members */
            size_t  part;

            for (part = 0; part < 2; part++) {
                memset(&zs, 0, sizeof(zs));
                assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8,
                                              Z_DEFAULT_STRATEGY),
                                 Z_OK);
                zs.next_in = recs.p + (part ? half : 0);
                zs.avail_in = (uInt) (part ? recs.len - half : half);
                zs.next_out = buf;
                zs.avail_out = sizeof(buf);
                assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
                glen = sizeof(buf) - zs.avail_out;
                deflateEnd(&zs);
                test_buf_put(&c, buf, glen);
            }

            test_batch_put(&blob, 0, HOOP_CODEC_GZIP, 10, c.p, c.len);

        } else {
            /* two zstd frames */
            n = ZSTD_compress(buf, sizeof(buf), recs.p, half, 1);
            assert_false(ZSTD_isError(n));
            test_buf_put(&c, buf, n);
            n = ZSTD_compress(buf, sizeof(buf), recs.p + half,
                              recs.len - half, 19);
            assert_false(ZSTD_isError(n));
            test_buf_put(&c, buf, n);
            test_batch_put(&blob, 0, HOOP_CODEC_ZSTD, 10, c.p, c.len);
        }

        hoop_batch_iter_init(&it, blob.p, blob.len);
        assert_int_equal(hoop_batch_next(&it, &b, &err), HOOP_BATCH_V2);

        memset(&rs, 0, sizeof(rs));
        assert_int_equal(hoop_batch_foreach_record(&al, &b, 0,
                                                   test_collect_record, &rs,
                                                   &err),
                         HOOP_BATCH_OK);
        assert_int_equal(rs.n, 10);
        assert_memory_equal(rs.recs[9].value.p, hand_recs[4].value,
                            strlen(hand_recs[4].value));
        test_records_free(&rs);

        test_buf_free(&c);
        test_buf_free(&blob);
        test_arena_reset(&arena);
    }

    test_buf_free(&recs);
}


/* Batches that are not well formed get an error, never a crash. */
static void
test_malformed_batches(void **state)
{
    uint8_t                    *p;
    test_buf_t                  recs, blob;
    hoop_batch_err_t            err;
    hoop_batch_iter_t           it;
    hoop_record_batch_t         b;
    hoop_batch_summary_t        s;
    hoop_batch_rewrite_t        res;
    hoop_batch_rewrite_conf_t   conf;

    (void) state;

    memset(&recs, 0, sizeof(recs));
    memset(&conf, 0, sizeof(conf));
    hand_records(&recs, 3);

#define BLOB(attrs, count, data, len)                                       \
    do {                                                                    \
        memset(&blob, 0, sizeof(blob));                                     \
        test_batch_put(&blob, 0, attrs, count, data, len);                  \
        p = blob.p;                                                         \
    } while (0)

#define EXPECT(rc)                                                          \
    do {                                                                    \
        memset(&err, 0, sizeof(err));                                       \
        assert_int_equal(hoop_batch_rewrite(&al, blob.p, blob.len, &conf,   \
                                            &res, &err), rc);               \
        if ((rc) != HOOP_BATCH_OK) {                                        \
            assert_non_null(err.msg);                                       \
        }                                                                   \
        test_buf_free(&blob);                                               \
    } while (0)

    /* well formed */
    BLOB(0, 3, recs.p, recs.len);
    EXPECT(HOOP_BATCH_OK);

    /* batchLength below any message */
    BLOB(0, 3, recs.p, recs.len);
    p[8] = 0; p[9] = 0; p[10] = 0; p[11] = 13;
    EXPECT(HOOP_BATCH_EINVALID);

    /* negative batchLength */
    BLOB(0, 3, recs.p, recs.len);
    p[8] = 0xff;
    EXPECT(HOOP_BATCH_EINVALID);

    /* magic 2 with a batchLength that cannot hold its header */
    BLOB(0, 3, recs.p, recs.len);
    p[11] = 48; p[10] = 0; p[9] = 0; p[8] = 0;
    EXPECT(HOOP_BATCH_EINVALID);

    /* unknown magics */
    BLOB(0, 3, recs.p, recs.len);
    p[16] = 3;
    EXPECT(HOOP_BATCH_EINVALID);

    BLOB(0, 3, recs.p, recs.len);
    p[16] = 0xff;
    EXPECT(HOOP_BATCH_EINVALID);

    /* negative records count */
    BLOB(0, -1, recs.p, recs.len);
    EXPECT(HOOP_BATCH_EINVALID);

    /* more or fewer records than counted */
    BLOB(0, 4, recs.p, recs.len);
    EXPECT(HOOP_BATCH_EINVALID);

    BLOB(0, 2, recs.p, recs.len);
    EXPECT(HOOP_BATCH_EINVALID);

    /* codecs 5, 6, 7 */
    BLOB(5, 3, recs.p, recs.len);
    EXPECT(HOOP_BATCH_ECODEC);

    BLOB(7, 3, recs.p, recs.len);
    EXPECT(HOOP_BATCH_ECODEC);

    /* not compressed data under a codec */
    BLOB(HOOP_CODEC_GZIP, 3, recs.p, recs.len);
    EXPECT(HOOP_BATCH_ECORRUPT);

    BLOB(HOOP_CODEC_LZ4, 3, recs.p, recs.len);
    EXPECT(HOOP_BATCH_ECORRUPT);

    BLOB(HOOP_CODEC_ZSTD, 3, recs.p, recs.len);
    EXPECT(HOOP_BATCH_ECORRUPT);

    BLOB(HOOP_CODEC_SNAPPY, 3, (const uint8_t *) "\x82SNAPPY\0\0\0\0\1\0\0"
                                                 "\0\1\0\0\0\5abcde", 25);
    EXPECT(HOOP_BATCH_ECORRUPT);

    BLOB(HOOP_CODEC_SNAPPY, 3, (const uint8_t *) "\x82SNAPPY\0\0\0\0\1\0\0"
                                                 "\0\1\0\0\0\xff", 21);
    EXPECT(HOOP_BATCH_ECORRUPT);

    /* the iterator stops at the first error, and says where */
    BLOB(0, 3, recs.p, recs.len);
    p[16] = 9;
    hoop_batch_iter_init(&it, blob.p, blob.len);
    assert_int_equal(hoop_batch_next(&it, &b, &err), HOOP_BATCH_EINVALID);
    assert_int_equal(err.offset, 16);
    assert_int_equal(hoop_batch_summarize(blob.p, blob.len, &s, &err),
                     HOOP_BATCH_EINVALID);
    test_buf_free(&blob);

    test_buf_free(&recs);
    test_arena_reset(&arena);

#undef BLOB
#undef EXPECT
}


/* Records that are not well formed, each in an otherwise valid batch. */
static void
test_malformed_records(void **state)
{
    size_t                      i;
    test_buf_t                  blob;
    hoop_batch_err_t            err;
    hoop_batch_rewrite_t        res;
    hoop_batch_rewrite_conf_t   conf;

    /* length varint, then the body */
    static const struct {
        const char  *rec;
        size_t       len;
        const char  *what;
        const char  *msg;       /* the error it must give */
    } bad[] = {
        { "\x80\x80\x80\x80\x80\x01", 6, "length varint of 6 bytes",
          "bad record length varint" },
        { "\xff\xff\xff\xff\x1f", 5, "length varint beyond 32 bits",
          "bad record length varint" },
        { "\x01", 1, "negative length",
          "record length out of the batch" },
        { "\x00", 1, "empty record",
          "record length out of the batch" },
        { "\x14\x00\x00\x00\x01\x61", 6, "length past the batch",
          "record length out of the batch" },
        { "\x0e\x00\x00\x00\x03\x02\x62\x00", 8, "key length -2",
          "bad record key length" },
        { "\x12\x00\x00\x00\x02\x61\x08\x62\x62\x00", 10,
          "value past the record",
          "bad record value length" },
        { "\x10\x00\x00\x00\x02\x61\x02\x62\x01", 9,
          "negative headers count",
          "bad record headers count" },
        { "\x14\x00\x00\x00\x02\x61\x02\x62\x02\x01\x00", 11,
          "null header key",
          "bad record header key length" },
        { "\x16\x00\x00\x00\x02\x61\x02\x62\x02\x02\x68\x03", 12,
          "header value length -2",
          "bad record header value length" },
        { "\x12\x00\x00\x00\x02\x61\x02\x62\x00\x00", 10,
          "length longer than the fields",
          "record length does not match its fields" },
        { "\x0e\x00\x00\x00\x02\x61\x02\x62\x00", 9,
          "length shorter than the fields",
          "bad record headers count" },
        { "\x1e\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x00\x00\x00"
          "\x00", 16, "timestamp delta beyond 64 bits",
          "bad record timestamp delta" },
        { "\x1e\x00\x00\xff\xff\xff\xff\x7f\x00\x00\x00\x00\x00\x00\x00"
          "\x00", 16, "offset delta beyond 32 bits",
          "bad record offset delta" },
    };

    (void) state;
    memset(&conf, 0, sizeof(conf));

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&blob, 0, sizeof(blob));
        test_batch_put(&blob, 0, 0, 1, (const uint8_t *) bad[i].rec,
                       bad[i].len);

        memset(&err, 0, sizeof(err));

        if (hoop_batch_rewrite(&al, blob.p, blob.len, &conf, &res, &err)
            != HOOP_BATCH_EINVALID)
        {
            fail_msg("%s: accepted", bad[i].what);
        }

        assert_non_null(err.msg);
        assert_int_equal(err.batch, 0);
        if (strcmp(err.msg, bad[i].msg) != 0) {
            fail_msg("%s: \"%s\"", bad[i].what, err.msg);
        }
        test_buf_free(&blob);
    }

    /* and the smallest valid record, for contrast */
    memset(&blob, 0, sizeof(blob));
    test_batch_put(&blob, 0, 0, 1,
                   (const uint8_t *) "\x10\x00\x00\x00\x02\x61\x02\x62\x00",
                   9);
    assert_int_equal(hoop_batch_rewrite(&al, blob.p, blob.len, &conf, &res,
                                        &err),
                     HOOP_BATCH_OK);
    test_buf_free(&blob);
    test_arena_reset(&arena);
}


/* Compressed fixtures with bytes changed inside the compressed data (the
 * CRC made right again): an error or a readable batch, never a crash. */
static void
test_corrupt_compressed(void **state)
{
    int                        rc;
    size_t                     i, at;
    uint8_t                   *p;
    test_mask_t                m;
    hoop_batch_err_t           err;
    hoop_batch_iter_t          it;
    hoop_record_batch_t        b;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    for (i = 0; i < nfixtures; i++) {
        if (fixtures[i].codec == 0) {
            continue;
        }

        hoop_batch_iter_init(&it, fixtures[i].data, fixtures[i].len);
        assert_int_equal(hoop_batch_next(&it, &b, NULL), HOOP_BATCH_V2);

        for (at = 61; at < b.size; at++) {
            p = malloc(b.size);
            memcpy(p, b.data, b.size);
            p[at] ^= 0x5a;
            test_batch_fix_crc(p, b.size);

            memset(&m, 0, sizeof(m));
            memset(&conf, 0, sizeof(conf));
            m.mode = TEST_MASK_VALUES;
            conf.record = test_mask_record;
            conf.ctx = &m;
            conf.max_decompressed = 1 << 20;

            rc = hoop_batch_rewrite(&al, p, b.size, &conf, &res, &err);
            assert_true(rc == HOOP_BATCH_OK || rc == HOOP_BATCH_ECORRUPT
                        || rc == HOOP_BATCH_EINVALID
                        || rc == HOOP_BATCH_ETOOBIG);

            free(p);
            test_buf_free(&m.buf);
            test_arena_reset(&arena);
        }

        /* cut short: the compressed data ends early */
        for (at = 62; at < b.size; at += 3) {
            p = malloc(at);
            memcpy(p, b.data, at);
            p[8] = (uint8_t) ((at - 12) >> 24);
            p[9] = (uint8_t) ((at - 12) >> 16);
            p[10] = (uint8_t) ((at - 12) >> 8);
            p[11] = (uint8_t) (at - 12);
            test_batch_fix_crc(p, at);

            memset(&conf, 0, sizeof(conf));
            rc = hoop_batch_rewrite(&al, p, at, &conf, &res, &err);
            assert_true(rc == HOOP_BATCH_ECORRUPT
                        || rc == HOOP_BATCH_EINVALID);

            free(p);
            test_arena_reset(&arena);
        }
    }
}


/* A batch that decompresses to 4 MiB is refused under a 1 MiB limit,
 * and rewritten under a 16 MiB one (blocks of every codec's framing). */
static void
test_decompression_limit(void **state)
{
    char                       why[256];
    size_t                     rebuilt, vlen, big;
    unsigned                   codec;
    uint8_t                   *out;
    char                      *value;
    test_buf_t                 recs, blob;
    test_rec_t                 r;
    test_mask_t                m;
    const char                *msg;
    hoop_batch_err_t           err;
    hoop_compress_buf_t        z;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    vlen = 4 << 20;
    value = malloc(vlen + 1);
    memset(value, 'a', vlen);
    memcpy(value, "{\"pan\":\"4111\"}", 14);
    value[vlen] = '\0';

    memset(&r, 0, sizeof(r));
    r.key = "big";
    r.value = value;

    for (codec = 1; codec <= 4; codec++) {
        memset(&recs, 0, sizeof(recs));
        memset(&blob, 0, sizeof(blob));
        memset(&z, 0, sizeof(z));

        test_record_put(&recs, &r, 0, 0);
        test_record_put(&recs, &r, 1, 1);
        big = recs.len;

        assert_int_equal(hoop_compress(&al, codec, recs.p, recs.len, &z,
                                       &msg),
                         HOOP_COMPRESS_OK);
        assert_true(z.len < big / 20);
        test_batch_put(&blob, 0, (int16_t) codec, 2, z.data, z.len);

        memset(&m, 0, sizeof(m));
        memset(&conf, 0, sizeof(conf));
        m.mode = TEST_MASK_VALUES;
        conf.record = test_mask_record;
        conf.ctx = &m;
        conf.max_decompressed = 1 << 20;

        assert_int_equal(hoop_batch_rewrite(&al, blob.p, blob.len, &conf,
                                            &res, &err),
                         HOOP_BATCH_ETOOBIG);
        assert_int_equal(m.calls, 0);

        /* exactly the size passes, one byte less does not */
        conf.max_decompressed = big - 1;
        assert_int_equal(hoop_batch_rewrite(&al, blob.p, blob.len, &conf,
                                            &res, &err),
                         HOOP_BATCH_ETOOBIG);

        conf.max_decompressed = big;
        assert_int_equal(hoop_batch_rewrite(&al, blob.p, blob.len, &conf,
                                            &res, &err),
                         HOOP_BATCH_OK);
        assert_int_equal(res.changed_batches, 1);

        out = flatten(&res);

        if (test_check_rewrite(&al, blob.p, blob.len, out, res.size, m.mode,
                               &rebuilt, why, sizeof(why))
            != 0)
        {
            fail_msg("codec %u: %s", codec, why);
        }

        free(out);
        test_buf_free(&m.buf);
        test_buf_free(&recs);
        test_buf_free(&blob);
        test_arena_reset(&arena);
    }

    free(value);
}


/* Magic 0 and 1 entries are reported and copied, never read. */
static void
test_legacy_message_sets(void **state)
{
    int                        v;
    char                       why[256];
    size_t                     rebuilt;
    uint8_t                   *out;
    uint32_t                   crc;
    test_buf_t                 blob, msg, recs;
    test_mask_t                m;
    hoop_batch_err_t           err;
    hoop_batch_iter_t          it;
    hoop_record_batch_t        b;
    hoop_batch_summary_t       s;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    memset(&blob, 0, sizeof(blob));

    /* a magic 0 and a magic 1 message (key "k", value "old") */
    for (v = 0; v < 2; v++) {
        memset(&msg, 0, sizeof(msg));
        test_buf_put(&msg, v ? "\1" : "\0", 1);     /* magic */
        test_buf_put(&msg, "\0", 1);                /* attributes */

        if (v) {
            test_buf_be(&msg, 1600000000000ULL, 8);
        }

        test_buf_be(&msg, 1, 4);
        test_buf_put(&msg, "k", 1);
        test_buf_be(&msg, 3, 4);
        test_buf_put(&msg, "old", 3);
        crc = (uint32_t) crc32(0, msg.p, (uInt) msg.len);

        test_buf_be(&blob, (uint64_t) (40 + v), 8);
        test_buf_be(&blob, 4 + msg.len, 4);
        test_buf_be(&blob, crc, 4);
        test_buf_put(&blob, msg.p, msg.len);
        test_buf_free(&msg);
    }

    /* then a magic 2 batch */
    memset(&recs, 0, sizeof(recs));
    hand_records(&recs, 2);
    test_batch_put(&blob, 42, 0, 2, recs.p, recs.len);

    hoop_batch_iter_init(&it, blob.p, blob.len);
    assert_int_equal(hoop_batch_next(&it, &b, &err), HOOP_BATCH_LEGACY);
    assert_int_equal(b.magic, 0);
    assert_int_equal(b.base_offset, 40);
    assert_int_equal(hoop_batch_next(&it, &b, &err), HOOP_BATCH_LEGACY);
    assert_int_equal(b.magic, 1);
    assert_int_equal(hoop_batch_next(&it, &b, &err), HOOP_BATCH_V2);
    assert_int_equal(hoop_batch_next(&it, &b, &err), HOOP_BATCH_END);

    assert_int_equal(hoop_batch_summarize(blob.p, blob.len, &s, &err),
                     HOOP_BATCH_OK);
    assert_int_equal(s.batches, 3);
    assert_int_equal(s.legacy_batches, 2);
    assert_int_equal(s.records, 2);
    assert_int_equal(s.first_offset, 40);
    assert_int_equal(s.last_offset, 43);

    memset(&m, 0, sizeof(m));
    memset(&conf, 0, sizeof(conf));
    m.mode = TEST_MASK_VALUES;
    conf.record = test_mask_record;
    conf.ctx = &m;

    assert_int_equal(hoop_batch_rewrite(&al, blob.p, blob.len, &conf, &res,
                                        &err),
                     HOOP_BATCH_OK);
    assert_int_equal(res.legacy_batches, 2);
    assert_int_equal(res.changed_batches, 1);
    assert_int_equal(m.calls, 2);

    /* the legacy part is the same slice of the input */
    assert_ptr_equal(res.segments[0].data, blob.p);
    out = flatten(&res);
    assert_int_equal(test_check_rewrite(&al, blob.p, blob.len, out, res.size,
                                        m.mode, &rebuilt, why, sizeof(why)),
                     0);

    free(out);
    test_buf_free(&m.buf);
    test_buf_free(&recs);
    test_buf_free(&blob);
    test_arena_reset(&arena);
}


typedef struct {
    int     what;
    int     calls;
} rule_ctx_t;


static int
rule_breaker(void *ctx, const hoop_record_batch_t *batch, hoop_record_t *r)
{
    rule_ctx_t                   *c;
    static hoop_record_header_t   other[4];

    (void) batch;
    c = ctx;
    c->calls++;

    switch (c->what) {

    case 0:     /* a value becomes a tombstone */
        if (r->value.len >= 0) {
            r->value.data = NULL;
            r->value.len = -1;
        }
        break;

    case 1:     /* a tombstone gets a value */
        if (r->value.len < 0) {
            r->value.data = (const uint8_t *) "x";
            r->value.len = 1;
        }
        break;

    case 2:     /* a header key changes */
        if (r->headers_count) {
            r->headers[0].key.data = (const uint8_t *) "zz";
        }
        break;

    case 3:     /* a header goes away */
        if (r->headers_count) {
            r->headers_count--;
        }
        break;

    case 4:     /* the callback fails */
        return -1;

    case 5:     /* a length below -1 */
        r->key.len = -7;
        break;

    case 7:     /* an offset moves */
        r->offset_delta++;
        break;

    case 8:     /* a timestamp moves */
        r->timestamp_delta--;
        break;

    case 9:     /* the record's attributes change */
        r->attributes = 1;
        break;

    case 6:     /* headers from the callback's own array: allowed */
        if (r->headers_count && r->headers_count <= 4) {
            memcpy(other, r->headers,
                   (size_t) r->headers_count * sizeof(other[0]));
            other[0].value.data = (const uint8_t *) "new";
            other[0].value.len = 3;
            r->headers = other;
        }
        break;
    }

    return HOOP_RECORD_CHANGED;
}


static void
test_callback_rules(void **state)
{
    int                        what, rc;
    test_buf_t                 recs, blob;
    rule_ctx_t                 c;
    hoop_batch_err_t           err;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    memset(&recs, 0, sizeof(recs));
    memset(&blob, 0, sizeof(blob));
    hand_records(&recs, 5);
    test_batch_put(&blob, 0, 0, 5, recs.p, recs.len);

    for (what = 0; what <= 9; what++) {
        memset(&c, 0, sizeof(c));
        memset(&conf, 0, sizeof(conf));
        c.what = what;
        conf.record = rule_breaker;
        conf.ctx = &c;

        rc = hoop_batch_rewrite(&al, blob.p, blob.len, &conf, &res, &err);
        assert_int_equal(rc, what == 6 ? HOOP_BATCH_OK
                                       : HOOP_BATCH_ECALLBACK);

        if (rc != HOOP_BATCH_OK) {
            assert_non_null(err.msg);
        } else {
            /* the three records that have headers */
            assert_int_equal(res.changed_records, 3);
        }
    }

    test_buf_free(&recs);
    test_buf_free(&blob);
    test_arena_reset(&arena);
}


/*
 * HOOP_BATCH_HEADER_EDITS: headers left out and header values made null or
 * not null (masking's remove and null of a header); keys, order and the
 * nullness of record keys and values still checked.
 */
typedef struct {
    int                    what;
    hoop_record_header_t   h[8];
} header_edit_ctx_t;


static int
header_editor(void *ctx, const hoop_record_batch_t *batch, hoop_record_t *r)
{
    int32_t             i, n;
    header_edit_ctx_t  *c;

    (void) batch;
    c = ctx;

    if (r->headers_count == 0 || r->headers_count > 8) {
        return HOOP_RECORD_UNCHANGED;
    }

    n = 0;

    for (i = 0; i < r->headers_count; i++) {
        c->h[n] = r->headers[i];

        if (r->headers[i].key.len == 2
            && memcmp(r->headers[i].key.data, "h1", 2) == 0)
        {
            continue;                       /* h1 goes */
        }

        if (r->headers[i].key.len == 2
            && memcmp(r->headers[i].key.data, "h2", 2) == 0)
        {
            if (r->headers[i].value.len < 0) {
                c->h[n].value.data = (const uint8_t *) "set";
                c->h[n].value.len = 3;
            } else {
                c->h[n].value.data = NULL;
                c->h[n].value.len = -1;
            }
        }

        n++;
    }

    switch (c->what) {

    case 1:     /* a header added */
        c->h[n] = r->headers[0];
        n++;
        break;

    case 2:     /* a key changes */
        if (n) {
            c->h[0].key.data = (const uint8_t *) "zz";
        }
        break;

    case 3:     /* two kept headers swap places */
        if (n == 2) {
            hoop_record_header_t  t = c->h[0];
            c->h[0] = c->h[1];
            c->h[1] = t;
        }
        break;

    case 4:     /* a value becomes a tombstone: never, whatever the flags */
        if (r->value.len >= 0) {
            r->value.data = NULL;
            r->value.len = -1;
        }
        break;
    }

    r->headers = c->h;
    r->headers_count = n;

    return HOOP_RECORD_CHANGED;
}


static void
test_header_edits(void **state)
{
    int                        what, rc;
    uint8_t                   *out;
    unsigned                   codec;
    test_buf_t                 recs, blob;
    const char                *msg;
    test_records_t             rs;
    hoop_batch_err_t           err;
    hoop_batch_iter_t          it;
    hoop_compress_buf_t        z;
    hoop_record_batch_t        b;
    header_edit_ctx_t          c;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    for (codec = 0; codec <= 4; codec += 3) {
        memset(&recs, 0, sizeof(recs));
        memset(&blob, 0, sizeof(blob));
        memset(&z, 0, sizeof(z));
        hand_records(&recs, 5);

        if (codec) {
            assert_int_equal(hoop_compress(&al, codec, recs.p, recs.len, &z,
                                           &msg), HOOP_COMPRESS_OK);
            test_batch_put(&blob, 7, (int16_t) codec, 5, z.data, z.len);
        } else {
            test_batch_put(&blob, 7, 0, 5, recs.p, recs.len);
        }

        /* without the flag: refused, as before */
        memset(&c, 0, sizeof(c));
        memset(&conf, 0, sizeof(conf));
        conf.record = header_editor;
        conf.ctx = &c;

        assert_int_equal(hoop_batch_rewrite(&al, blob.p, blob.len, &conf,
                                            &res, &err),
                         HOOP_BATCH_ECALLBACK);

        /* with it: h1 gone, h2 null <-> not null, h3 kept */
        conf.flags = HOOP_BATCH_HEADER_EDITS;

        rc = hoop_batch_rewrite(&al, blob.p, blob.len, &conf, &res, &err);
        assert_int_equal(rc, HOOP_BATCH_OK);
        assert_int_equal(res.changed_batches, 1);
        assert_int_equal(res.changed_records, 3);

        out = test_arena_alloc(&arena, res.size);
        assert_non_null(out);
        assert_ptr_equal(hoop_batch_rewrite_copy(&res, out), out + res.size);

        hoop_batch_iter_init(&it, out, res.size);
        assert_int_equal(hoop_batch_next(&it, &b, NULL), HOOP_BATCH_V2);
        assert_true(hoop_batch_crc_ok(&b));
        assert_int_equal(b.base_offset, 7);

        memset(&rs, 0, sizeof(rs));
        assert_int_equal(hoop_batch_foreach_record(&al, &b, 0,
                                                   test_collect_record, &rs,
                                                   NULL), HOOP_BATCH_OK);
        assert_int_equal(rs.n, 5);

        /* record 0: h1 "a", h2 null -> h2 "set" */
        assert_int_equal(rs.recs[0].nheaders, 1);
        assert_string_equal((char *) rs.recs[0].headers[0].key.p, "h2");
        assert_int_equal(rs.recs[0].headers[0].value_len, 3);
        assert_memory_equal(rs.recs[0].headers[0].value.p, "set", 3);
        assert_int_equal(rs.recs[0].value_len, 15);

        /* record 1: no headers, untouched */
        assert_int_equal(rs.recs[1].nheaders, 0);
        assert_int_equal(rs.recs[1].key_len, -1);

        /* record 2: its only header gone, still a tombstone */
        assert_int_equal(rs.recs[2].nheaders, 0);
        assert_int_equal(rs.recs[2].value_len, -1);

        /* record 4: h2 "" -> null, h3 "y" kept */
        assert_int_equal(rs.recs[4].nheaders, 2);
        assert_string_equal((char *) rs.recs[4].headers[0].key.p, "h2");
        assert_int_equal(rs.recs[4].headers[0].value_len, -1);
        assert_string_equal((char *) rs.recs[4].headers[1].key.p, "h3");
        assert_int_equal(rs.recs[4].headers[1].value_len, 1);
        assert_memory_equal(rs.recs[4].headers[1].value.p, "y", 1);

        test_records_free(&rs);

        /* still refused with the flag */
        for (what = 1; what <= 4; what++) {
            memset(&c, 0, sizeof(c));
            c.what = what;

            rc = hoop_batch_rewrite(&al, blob.p, blob.len, &conf, &res,
                                    &err);
            assert_int_equal(rc, HOOP_BATCH_ECALLBACK);
            assert_non_null(err.msg);
        }

        test_buf_free(&recs);
        test_buf_free(&blob);
        test_arena_reset(&arena);
    }
}


/* The arena failing at any point gives ENOMEM, nothing worse. */
static void
test_out_of_memory(void **state)
{
    int                        rc;
    size_t                     i, limit, ok;
    test_mask_t                m;
    hoop_batch_err_t           err;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    (void) state;

    for (i = 0; i < nfixtures; i++) {
        if (strcmp(fixtures[i].kind, "java-idem") != 0) {
            continue;
        }

        ok = 0;

        for (limit = 1; limit < 40 && !ok; limit++) {
            memset(&m, 0, sizeof(m));
            memset(&conf, 0, sizeof(conf));
            m.mode = TEST_MASK_VALUES;
            conf.record = test_mask_record;
            conf.ctx = &m;
            arena.limit = limit;

            rc = hoop_batch_rewrite(&al, fixtures[i].data, fixtures[i].len,
                                    &conf, &res, &err);
            assert_true(rc == HOOP_BATCH_OK || rc == HOOP_BATCH_ENOMEM);
            ok = rc == HOOP_BATCH_OK;

            arena.limit = 0;
            test_buf_free(&m.buf);
            test_arena_reset(&arena);
        }

        assert_true(ok);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_crc32c_vectors),
        cmocka_unit_test(test_fixture_summaries),
        cmocka_unit_test(test_fixture_snappy_framings),
        cmocka_unit_test(test_fixture_identity),
        cmocka_unit_test(test_fixture_masked),
        cmocka_unit_test(test_fixture_rewrite_twice),
        cmocka_unit_test(test_truncated_tail),
        cmocka_unit_test(test_bad_crc),
        cmocka_unit_test(test_hand_built_codecs),
        cmocka_unit_test(test_codec_variants),
        cmocka_unit_test(test_malformed_batches),
        cmocka_unit_test(test_malformed_records),
        cmocka_unit_test(test_corrupt_compressed),
        cmocka_unit_test(test_decompression_limit),
        cmocka_unit_test(test_legacy_message_sets),
        cmocka_unit_test(test_callback_rules),
        cmocka_unit_test(test_header_edits),
        cmocka_unit_test(test_out_of_memory),
    };

    return cmocka_run_group_tests(tests, load_fixtures, free_fixtures);
}
