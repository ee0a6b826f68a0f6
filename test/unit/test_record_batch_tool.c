/*
 * A command-line front end to src/kafka/hoop_record_batch.c, for the
 * fixture script (test/unit/batches/regenerate) and the regression test
 * t/086-record-batch.t, which feed it records blobs fetched from a real
 * broker.
 *
 *   test_record_batch_tool summary FILE         one JSON line
 *   test_record_batch_tool dump FILE            one JSON line per record
 *   test_record_batch_tool rewrite MODE IN OUT  apply the test callback
 *   test_record_batch_tool check MODE ORIG NEW  is NEW ORIG rewritten?
 *   test_record_batch_tool split FILE PREFIX    PREFIX-N.bin per batch
 *
 * MODE: identity, values, keys, headers or all (test_transform() in
 * test_record_batch_util.h); rewrite also takes trim (drop a truncated
 * tail).  Exit status 0 ok, 1 failure (message on stderr), 2 usage.
 */

#include "test_record_batch_util.h"


static int
tool_mode(const char *s)
{
    if (strcmp(s, "identity") == 0) {
        return 0;
    }

    if (strcmp(s, "values") == 0) {
        return TEST_MASK_VALUES;
    }

    if (strcmp(s, "keys") == 0) {
        return TEST_MASK_KEYS;
    }

    if (strcmp(s, "headers") == 0) {
        return TEST_MASK_HEADERS;
    }

    if (strcmp(s, "all") == 0) {
        return TEST_MASK_VALUES | TEST_MASK_KEYS | TEST_MASK_HEADERS;
    }

    fprintf(stderr, "unknown mode %s\n", s);
    exit(2);
}


static void
tool_json_bytes(const uint8_t *p, int32_t len)
{
    int32_t  i;

    if (len < 0) {
        fputs("null", stdout);
        return;
    }

    putchar('"');

    for (i = 0; i < len; i++) {
        if (p[i] == '"' || p[i] == '\\') {
            printf("\\%c", p[i]);

        } else if (p[i] < 0x20 || p[i] >= 0x7f) {
            printf("\\u%04x", p[i]);

        } else {
            putchar(p[i]);
        }
    }

    putchar('"');
}


typedef struct {
    size_t  batch;
} tool_dump_t;


static int
tool_dump_record(void *ctx, const hoop_record_batch_t *b, hoop_record_t *r)
{
    int32_t       i;
    tool_dump_t  *d;

    d = ctx;

    printf("{\"batch\":%zu,\"base_offset\":%lld,\"codec\":\"%s\","
           "\"attributes\":%d,\"control\":%d,\"transactional\":%d,"
           "\"producer_id\":%lld,\"producer_epoch\":%d,"
           "\"base_sequence\":%d,\"offset_delta\":%d,\"offset\":%lld,"
           "\"timestamp\":%lld,\"key\":",
           d->batch, (long long) b->base_offset,
           hoop_codec_name((unsigned) b->attributes & 7), b->attributes,
           (b->attributes & HOOP_BATCH_CONTROL) != 0,
           (b->attributes & HOOP_BATCH_TRANSACTIONAL) != 0,
           (long long) b->producer_id, b->producer_epoch, b->base_sequence,
           r->offset_delta, (long long) r->offset,
           (long long) r->timestamp);
    tool_json_bytes(r->key.data, r->key.len);
    fputs(",\"value\":", stdout);
    tool_json_bytes(r->value.data, r->value.len);
    fputs(",\"headers\":[", stdout);

    for (i = 0; i < r->headers_count; i++) {
        fputs(i ? ",[" : "[", stdout);
        tool_json_bytes(r->headers[i].key.data, r->headers[i].key.len);
        putchar(',');
        tool_json_bytes(r->headers[i].value.data, r->headers[i].value.len);
        putchar(']');
    }

    puts("]}");

    return HOOP_RECORD_UNCHANGED;
}


static int
tool_fail(const char *what, int rc, const hoop_batch_err_t *err)
{
    fprintf(stderr, "%s: %s (%d): %s at %zu (batch at %zu)\n", what,
            hoop_batch_strerror(rc), rc, err->msg ? err->msg : "",
            err->offset, err->batch);

    return 1;
}


static int
tool_write(const char *path, const uint8_t *p, size_t len)
{
    FILE  *f;

    f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        return 1;
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int                        rc, mode, kind;
    char                       why[256], path[4096];
    size_t                     len, len2, n, crc_bad;
    uint8_t                   *in, *in2, *out;
    test_arena_t               ar;
    tool_dump_t                d;
    test_mask_t                m;
    hoop_batch_err_t           err;
    hoop_batch_iter_t          it;
    hoop_kafka_alloc_t         a;
    hoop_record_batch_t        b;
    hoop_batch_summary_t       s;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    if (argc < 3) {
        fprintf(stderr, "usage: %s summary|dump|rewrite|check|split ...\n",
                argv[0]);
        return 2;
    }

    memset(&ar, 0, sizeof(ar));
    memset(&err, 0, sizeof(err));
    a = test_arena_allocator(&ar);

    if (strcmp(argv[1], "summary") == 0 || strcmp(argv[1], "dump") == 0
        || strcmp(argv[1], "split") == 0)
    {
        in = test_read_file(argv[2], &len);
        if (in == NULL) {
            perror(argv[2]);
            return 1;
        }

        if (strcmp(argv[1], "summary") == 0) {
            rc = hoop_batch_summarize(in, len, &s, &err);
            if (rc != HOOP_BATCH_OK) {
                return tool_fail("summary", rc, &err);
            }

            crc_bad = 0;
            hoop_batch_iter_init(&it, in, len);

            while (hoop_batch_next(&it, &b, NULL) == HOOP_BATCH_V2) {
                crc_bad += !hoop_batch_crc_ok(&b);
            }

            printf("{\"batches\":%zu,\"legacy\":%zu,\"control\":%zu,"
                   "\"transactional\":%zu,\"records\":%llu,"
                   "\"control_records\":%llu,\"first_offset\":%lld,"
                   "\"last_offset\":%lld,\"bytes\":%zu,\"tail_offset\":%zu,"
                   "\"tail_size\":%zu,\"total\":%zu,\"codecs\":%u,"
                   "\"crc_bad\":%zu}\n",
                   s.batches, s.legacy_batches, s.control_batches,
                   s.transactional_batches, (unsigned long long) s.records,
                   (unsigned long long) s.control_records,
                   (long long) s.first_offset, (long long) s.last_offset,
                   s.bytes, s.tail_offset, s.tail_size, s.total, s.codecs,
                   crc_bad);
            return 0;
        }

        hoop_batch_iter_init(&it, in, len);

        for (n = 0; ; n++) {
            kind = hoop_batch_next(&it, &b, &err);

            if (kind == HOOP_BATCH_END) {
                break;
            }

            if (kind < 0) {
                return tool_fail(argv[1], kind, &err);
            }

            if (strcmp(argv[1], "split") == 0) {
                if (argc < 4) {
                    return 2;
                }

                snprintf(path, sizeof(path), "%s-%03zu.bin", argv[3], n);

                if (tool_write(path, b.data, b.size) != 0) {
                    return 1;
                }

                printf("%s %s %s\n", path,
                       kind == HOOP_BATCH_V2 ? "v2"
                       : kind == HOOP_BATCH_LEGACY ? "legacy" : "tail",
                       kind != HOOP_BATCH_V2 ? "-"
                       : (b.attributes & HOOP_BATCH_CONTROL) ? "control"
                       : (b.attributes & HOOP_BATCH_TRANSACTIONAL)
                       ? "transactional" : "data");
                continue;
            }

            if (kind != HOOP_BATCH_V2) {
                continue;
            }

            d.batch = n;
            rc = hoop_batch_foreach_record(&a, &b, 0, tool_dump_record, &d,
                                           &err);
            if (rc != HOOP_BATCH_OK) {
                return tool_fail("dump", rc, &err);
            }
        }

        return 0;
    }

    if (strcmp(argv[1], "rewrite") == 0 && argc >= 5) {
        mode = tool_mode(argv[2]);

        in = test_read_file(argv[3], &len);
        if (in == NULL) {
            perror(argv[3]);
            return 1;
        }

        memset(&m, 0, sizeof(m));
        memset(&conf, 0, sizeof(conf));
        m.mode = mode;
        conf.record = test_mask_record;
        conf.ctx = &m;
        conf.flags = argc > 5 && strcmp(argv[5], "trim") == 0
                     ? HOOP_BATCH_TRIM_TAIL : 0;

        rc = hoop_batch_rewrite(&a, in, len, &conf, &res, &err);
        if (rc != HOOP_BATCH_OK) {
            return tool_fail("rewrite", rc, &err);
        }

        out = malloc(res.size + 1);
        if (out == NULL) {
            return 1;
        }

        hoop_batch_rewrite_copy(&res, out);

        fprintf(stderr, "rewrite: %zu batches, %zu rebuilt, %zu records "
                "changed, %zu control, %zu legacy, %zu -> %zu bytes\n",
                res.batches, res.changed_batches, res.changed_records,
                res.control_batches, res.legacy_batches, len, res.size);

        return tool_write(argv[4], out, res.size);
    }

    if (strcmp(argv[1], "check") == 0 && argc >= 5) {
        mode = tool_mode(argv[2]);
        in = test_read_file(argv[3], &len);
        in2 = test_read_file(argv[4], &len2);

        if (in == NULL || in2 == NULL) {
            fprintf(stderr, "check: cannot read the files\n");
            return 1;
        }

        if (test_check_rewrite(&a, in, len, in2, len2, mode, &n, why,
                               sizeof(why))
            != 0)
        {
            fprintf(stderr, "check: %s\n", why);
            return 1;
        }

        printf("{\"rebuilt\":%zu}\n", n);
        return 0;
    }

    fprintf(stderr, "usage: %s summary|dump|rewrite|check|split ...\n",
            argv[0]);

    return 2;
}
