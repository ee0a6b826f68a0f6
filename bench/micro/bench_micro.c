/*
 * The CPU cost of the gateway's per-frame hot paths outside policy and
 * masking (bench/policy and bench/mask measure those): nanoseconds per
 * operation, one thread, CPU time.
 *
 *   frame parse     hoop_kafka_request_header_parse() and
 *                   hoop_kafka_decode_prefix() of a Produce v13 request
 *                   carrying one lz4 batch of 16 records of 1 KB, and
 *                   hoop_kafka_response_header_parse() and
 *                   hoop_kafka_decode() of a Fetch v18 response carrying
 *                   64 such batches (1 MiB before compression) in one
 *                   partition; plus hoop_batch_summarize() of those
 *                   records (what audit counts)
 *   batch re-encode hoop_batch_rewrite() of one lz4 batch of 16 records
 *                   of 1 KB (JSON order events) where every value
 *                   changes (decompress, re-encode, lz4 again, CRC-32C),
 *                   where none does, and of the same batch uncompressed;
 *                   hoop_crc32c() of 16 KiB
 *
 * The Produce and Fetch frames are frames captured from a real Kafka
 * 4.1.1 broker and client (test/unit/frames) whose records field is
 * replaced by the batches above and re-encoded with the walker, so every
 * other field is what Kafka's Java client and broker write.
 *
 *   make -C bench micro               (this, then bench_policy, bench_mask)
 *   bench/build/bench_micro [SECONDS_PER_ROW] [FRAMES_DIR]
 */

#define _POSIX_C_SOURCE  200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hoop_kafka_walker.h"
#include "hoop_kafka_header.h"
#include "hoop_record_batch.h"
#include "hoop_compress.h"


#define NRECORDS     16          /* records per batch: batch.size 16 KiB */
#define FETCH_BATCHES 64         /* batches in the Fetch response */
#define ARENA_SIZE   (64 * 1024 * 1024)


typedef struct {
    uint8_t             *p;
    size_t               len;
    size_t               cap;
} buf_t;


/* a bump arena, reset before each operation, as a worker's request pool */
typedef struct {
    uint8_t             *base;
    size_t               used;
    size_t               size;
} arena_t;


static arena_t           arena;
static volatile size_t   sink;


static void *
arena_alloc(void *ctx, size_t n)
{
    arena_t  *ar = ctx;
    size_t    at;

    at = (ar->used + 15) & ~(size_t) 15;
    if (at + n > ar->size) {
        return NULL;
    }

    ar->used = at + n;

    return ar->base + at;
}


static const hoop_kafka_alloc_t  alloc = { arena_alloc, &arena };


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


static void
die(const char *what, const char *why)
{
    fprintf(stderr, "bench_micro: %s: %s\n", what, why);
    exit(1);
}


static void
buf_put(buf_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL) {
            die("realloc", "out of memory");
        }
    }

    memcpy(b->p + b->len, p, n);
    b->len += n;
}


static void
buf_be(buf_t *b, uint64_t v, int bytes)
{
    uint8_t  x[8];
    int      i;

    for (i = 0; i < bytes; i++) {
        x[i] = (uint8_t) (v >> (8 * (bytes - 1 - i)));
    }

    buf_put(b, x, (size_t) bytes);
}


/* zigzag varint, as RecordBatch records use */
static void
buf_varint(buf_t *b, int64_t v)
{
    uint64_t  z;
    uint8_t   x[10];
    size_t    n;

    z = ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
    n = 0;

    while (z >= 0x80) {
        x[n++] = (uint8_t) (z | 0x80);
        z >>= 7;
    }

    x[n++] = (uint8_t) z;
    buf_put(b, x, n);
}


/* an order event of 1000 to 1100 bytes, the shape bench/mask uses */
static size_t
make_value(unsigned i, char *out, size_t size)
{
    size_t  n;
    int     k;

    n = (size_t) snprintf(out, size,
        "{\"order_id\":\"ORD-%06u\",\"created_at\":\"2026-03-01T10:%02u:00Z\","
        "\"customer\":{\"id\":%u,\"name\":\"Customer %u\",\"email\":"
        "\"customer.%u@example.com\",\"phone\":\"+1-202-555-%04u\"},"
        "\"payment\":{\"method\":\"card\",\"card\":{\"number\":"
        "\"41111111%08u\",\"expiry\":\"12/29\"},\"amount\":%u.%02u},"
        "\"items\":[", i, i % 60, 50000 + i, i, i, i % 10000, i * 7919,
        10 + i % 500, i % 100);

    for (k = 0; n < 1000; k++) {
        n += (size_t) snprintf(out + n, size - n,
                               "%s{\"sku\":\"SKU-%05u\",\"qty\":%u,\"price\":"
                               "%u.99}", k ? "," : "", i * 13 + k, 1 + k % 3,
                               5 + k);
    }

    n += (size_t) snprintf(out + n, size - n, "]}");

    return n;
}


/* One magic 2 batch of NRECORDS records (values from make_value(),
 * null keys, no headers), records compressed with codec, appended to
 * out.  Returns the uncompressed record bytes. */
static size_t
make_batch(buf_t *out, unsigned first, unsigned codec)
{
    char                 v[2048];
    size_t               vlen, start, vbytes;
    buf_t                recs, rec;
    unsigned             i;
    uint32_t             crc;
    const char          *msg;
    const uint8_t       *body;
    size_t               body_len;
    hoop_compress_buf_t  z;

    memset(&recs, 0, sizeof(buf_t));
    memset(&rec, 0, sizeof(buf_t));
    vbytes = 0;

    for (i = 0; i < NRECORDS; i++) {
        vlen = make_value(first + i, v, sizeof(v));
        vbytes += vlen;

        rec.len = 0;
        buf_put(&rec, "\0", 1);                  /* attributes */
        buf_varint(&rec, i);                     /* timestampDelta */
        buf_varint(&rec, i);                     /* offsetDelta */
        buf_varint(&rec, -1);                    /* key: null */
        buf_varint(&rec, (int64_t) vlen);
        buf_put(&rec, v, vlen);
        buf_varint(&rec, 0);                     /* headers */

        buf_varint(&recs, (int64_t) rec.len);
        buf_put(&recs, rec.p, rec.len);
    }

    body = recs.p;
    body_len = recs.len;

    if (codec != HOOP_CODEC_NONE) {
        memset(&z, 0, sizeof(z));
        arena.used = 0;

        if (hoop_compress(&alloc, codec, recs.p, recs.len, &z, &msg)
            != HOOP_COMPRESS_OK)
        {
            die("hoop_compress", msg);
        }

        body = z.data;
        body_len = z.len;
    }

    start = out->len;
    buf_be(out, 0, 8);                           /* baseOffset */
    buf_be(out, HOOP_BATCH_HEADER_SIZE - HOOP_BATCH_LOG_OVERHEAD + body_len,
           4);                                   /* batchLength */
    buf_be(out, 0xffffffff, 4);                  /* partitionLeaderEpoch */
    buf_put(out, "\2", 1);                       /* magic */
    buf_be(out, 0, 4);                           /* crc, below */
    buf_be(out, codec, 2);                       /* attributes */
    buf_be(out, NRECORDS - 1, 4);                /* lastOffsetDelta */
    buf_be(out, 1772359200000ULL, 8);            /* baseTimestamp */
    buf_be(out, 1772359200000ULL + NRECORDS - 1, 8);
    buf_be(out, UINT64_MAX, 8);                  /* producerId -1 */
    buf_be(out, 0xffff, 2);                      /* producerEpoch -1 */
    buf_be(out, 0xffffffff, 4);                  /* baseSequence -1 */
    buf_be(out, NRECORDS, 4);                    /* recordsCount */
    buf_put(out, body, body_len);

    crc = hoop_crc32c(out->p + start + HOOP_BATCH_CRC_START,
                      out->len - start - HOOP_BATCH_CRC_START);
    out->p[start + HOOP_BATCH_CRC_OFFSET] = (uint8_t) (crc >> 24);
    out->p[start + HOOP_BATCH_CRC_OFFSET + 1] = (uint8_t) (crc >> 16);
    out->p[start + HOOP_BATCH_CRC_OFFSET + 2] = (uint8_t) (crc >> 8);
    out->p[start + HOOP_BATCH_CRC_OFFSET + 3] = (uint8_t) crc;

    free(recs.p);
    free(rec.p);

    return vbytes;
}


static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE     *f;
    long      n;
    uint8_t  *p;

    f = fopen(path, "rb");
    if (f == NULL) {
        die(path, "cannot open (run from bench/, or give FRAMES_DIR)");
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        die(path, "cannot read");
    }

    p = malloc((size_t) n + 1);
    if (p == NULL || fread(p, 1, (size_t) n, f) != (size_t) n) {
        die(path, "cannot read");
    }

    fclose(f);
    *len = (size_t) n;

    return p;
}


static hoop_kafka_node_t  *records_node;

static int
find_records(hoop_kafka_node_t *node, const hoop_kafka_field_t *field,
    hoop_kafka_node_t *parent, void *ctx)
{
    (void) field;
    (void) parent;
    (void) ctx;

    if (node->type == HOOP_KAFKA_T_RECORDS && records_node == NULL) {
        records_node = node;
    }

    return HOOP_KAFKA_WALK_CONTINUE;
}


/*
 * A captured frame (size prefix included) of api_key/version with its
 * first records field replaced by blob: the new frame, without the size
 * prefix (as the module hands a frame to the decoder), in *out.
 */
static void
reframe(const char *path, int16_t api_key, int16_t version, int response,
    const uint8_t *blob, size_t blob_len, buf_t *out)
{
    int                           rc, hv;
    size_t                        len, hlen, n;
    uint8_t                      *frame, *enc;
    hoop_kafka_node_t            *root;
    hoop_kafka_err_t              err;
    hoop_kafka_request_header_t   rq;
    hoop_kafka_response_header_t  rs;

    frame = read_file(path, &len);
    if (len < 4) {
        die(path, "too short");
    }

    if (response) {
        hv = hoop_kafka_response_header_version(api_key, version);
        rc = hoop_kafka_response_header_parse(frame + 4, len - 4, hv, &rs,
                                              &err);
        hlen = rs.len;

    } else {
        rc = hoop_kafka_request_header_parse(frame + 4, len - 4, &rq, &err);
        hlen = rq.len;
        if (rc == HOOP_KAFKA_OK
            && (rq.api_key != api_key || rq.api_version != version))
        {
            die(path, "not the expected ApiKey and version");
        }
    }

    if (rc != HOOP_KAFKA_OK) {
        die(path, err.msg);
    }

    arena.used = 0;
    rc = hoop_kafka_decode(&alloc, api_key, version, response,
                           frame + 4 + hlen, len - 4 - hlen, &root, &err);
    if (rc != HOOP_KAFKA_OK) {
        die(path, err.msg);
    }

    records_node = NULL;
    hoop_kafka_walk(root, find_records, NULL);
    if (records_node == NULL) {
        die(path, "no records field");
    }

    /* the node layout is public: point the records at the new blob */
    records_node->u.bytes.data = blob;
    records_node->u.bytes.len = blob_len;
    records_node->flags &= (uint8_t) ~HOOP_KAFKA_NODE_NULL;

    n = hoop_kafka_encoded_size(root);
    enc = malloc(n);
    if (enc == NULL) {
        die(path, "out of memory");
    }

    hoop_kafka_encode(root, enc);

    out->len = 0;
    buf_put(out, frame + 4, hlen);
    buf_put(out, enc, n);

    free(enc);
    free(frame);
}


/* run op until seconds of CPU time passed; ns per call */
typedef void (*op_pt)(void *ctx);

static double
measure(op_pt op, void *ctx, double seconds)
{
    unsigned long  n, k;
    double         t0, t1;

    for (k = 0; k < 16; k++) {                   /* warm up */
        op(ctx);
    }

    n = 0;
    k = 1;
    t0 = now();

    do {
        unsigned long  i;

        for (i = 0; i < k; i++) {
            op(ctx);
        }

        n += k;
        if (k < 65536) {
            k *= 2;
        }

        t1 = now();
    } while (t1 - t0 < seconds);

    return (t1 - t0) * 1e9 / (double) n;
}


typedef struct {
    buf_t                        frame;
    int16_t                      api_key;
    int16_t                      version;
    int                          response;
} parse_ctx_t;


static void
op_parse(void *ctx)
{
    int                           rc;
    size_t                        used;
    parse_ctx_t                  *pc = ctx;
    hoop_kafka_node_t            *root;
    hoop_kafka_request_header_t   rq;
    hoop_kafka_response_header_t  rs;

    arena.used = 0;

    if (pc->response) {
        rc = hoop_kafka_response_header_parse(pc->frame.p, pc->frame.len,
                 hoop_kafka_response_header_version(pc->api_key,
                                                    pc->version),
                 &rs, NULL);
        if (rc == HOOP_KAFKA_OK) {
            rc = hoop_kafka_decode(&alloc, pc->api_key, pc->version, 1,
                                   pc->frame.p + rs.len,
                                   pc->frame.len - rs.len, &root, NULL);
        }

    } else {
        rc = hoop_kafka_request_header_parse(pc->frame.p, pc->frame.len, &rq,
                                             NULL);
        if (rc == HOOP_KAFKA_OK) {
            rc = hoop_kafka_decode_prefix(&alloc, rq.api_key, rq.api_version,
                                          0, pc->frame.p + rq.len,
                                          pc->frame.len - rq.len, &root,
                                          &used, NULL);
        }
    }

    if (rc != HOOP_KAFKA_OK) {
        die("decode", "failed");
    }

    sink += (size_t) root;
}


typedef struct {
    const uint8_t               *blob;
    size_t                       len;
} summary_ctx_t;


static void
op_summary(void *ctx)
{
    summary_ctx_t         *sc = ctx;
    hoop_batch_summary_t   s;

    if (hoop_batch_summarize(sc->blob, sc->len, &s, NULL) != HOOP_BATCH_OK) {
        die("hoop_batch_summarize", "failed");
    }

    sink += s.records;
}


typedef struct {
    const uint8_t               *blob;
    size_t                       len;
    int                          change;
    uint8_t                      value[2048];
    size_t                       changed;
} rewrite_ctx_t;


/* "masks" the card number: the value with 8 digits replaced by '*' */
static int
change_record(void *ctx, const hoop_record_batch_t *batch,
    hoop_record_t *record)
{
    rewrite_ctx_t  *rc = ctx;
    const uint8_t  *p;
    size_t          len;

    (void) batch;

    if (!rc->change) {
        return HOOP_RECORD_UNCHANGED;
    }

    len = (size_t) record->value.len;
    if (len > sizeof(rc->value)) {
        return -1;
    }

    memcpy(rc->value, record->value.data, len);
    p = memchr(rc->value, '4', len);
    if (p != NULL && (size_t) (p - rc->value) + 8 <= len) {
        memset(rc->value + (p - rc->value), '*', 8);
    }

    record->value.data = rc->value;

    return HOOP_RECORD_CHANGED;
}


static void
op_rewrite(void *ctx)
{
    int                        rc;
    rewrite_ctx_t             *wc = ctx;
    hoop_batch_err_t           err;
    hoop_batch_rewrite_t       res;
    hoop_batch_rewrite_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.record = change_record;
    conf.ctx = wc;
    conf.flags = HOOP_BATCH_NO_TAIL;

    arena.used = 0;
    rc = hoop_batch_rewrite(&alloc, wc->blob, wc->len, &conf, &res, &err);
    if (rc != HOOP_BATCH_OK) {
        die("hoop_batch_rewrite", err.msg ? err.msg : "failed");
    }

    wc->changed = res.changed_records;
    sink += res.size;
}


static void
op_crc(void *ctx)
{
    summary_ctx_t  *sc = ctx;

    sink += hoop_crc32c(sc->blob, sc->len);
}


static void
row(const char *name, double ns, size_t bytes, size_t records)
{
    printf("  %-58s %10.0f ns", name, ns);

    if (records) {
        printf("  %7.0f ns/record", ns / (double) records);
    }

    if (bytes) {
        printf("  %7.0f MB/s", (double) bytes / ns * 1e3);
    }

    printf("\n");
}


int
main(int argc, char **argv)
{
    char            path[1024], name[128];
    double          seconds, ns;
    size_t          vbytes, fetch_vbytes;
    unsigned        i;
    const char     *dir;
    buf_t           lz4, plain, fetch;
    parse_ctx_t     produce_pc, fetch_pc;
    summary_ctx_t   sc;
    rewrite_ctx_t  *wc;

    seconds = argc > 1 ? atof(argv[1]) : 0.5;
    if (seconds <= 0) {
        seconds = 0.5;
    }

    dir = argc > 2 ? argv[2] : "../test/unit/frames";

    arena.size = ARENA_SIZE;
    arena.base = malloc(arena.size);
    wc = calloc(1, sizeof(rewrite_ctx_t));
    if (arena.base == NULL || wc == NULL) {
        die("malloc", "out of memory");
    }

    memset(&lz4, 0, sizeof(buf_t));
    memset(&plain, 0, sizeof(buf_t));
    memset(&fetch, 0, sizeof(buf_t));
    memset(&produce_pc, 0, sizeof(parse_ctx_t));
    memset(&fetch_pc, 0, sizeof(parse_ctx_t));

    vbytes = make_batch(&lz4, 0, HOOP_CODEC_LZ4);
    make_batch(&plain, 0, HOOP_CODEC_NONE);

    fetch_vbytes = 0;
    for (i = 0; i < FETCH_BATCHES; i++) {
        fetch_vbytes += make_batch(&fetch, i * NRECORDS, HOOP_CODEC_LZ4);
    }

    snprintf(path, sizeof(path), "%s/Produce-v13-req-2.bin", dir);
    produce_pc.api_key = 0;
    produce_pc.version = 13;
    reframe(path, 0, 13, 0, lz4.p, lz4.len, &produce_pc.frame);

    snprintf(path, sizeof(path), "%s/Fetch-v18-resp-1.bin", dir);
    fetch_pc.api_key = 1;
    fetch_pc.version = 18;
    fetch_pc.response = 1;
    reframe(path, 1, 18, 1, fetch.p, fetch.len, &fetch_pc.frame);

    printf("gateway hot paths: ns of CPU time per operation, one thread, "
           "%.2f s per row\n", seconds);
    printf("records: JSON order events of %zu bytes on average, %d per "
           "batch; lz4 batch %zu bytes (%zu uncompressed)\n\n",
           vbytes / NRECORDS, NRECORDS, lz4.len, plain.len);

    printf("frame parse (header + walker decode; records stay slices)\n");
    ns = measure(op_parse, &produce_pc, seconds);
    snprintf(name, sizeof(name), "Produce v13 request, 1 lz4 batch (%zu bytes)",
             produce_pc.frame.len);
    row(name, ns, 0, 0);
    ns = measure(op_parse, &fetch_pc, seconds);
    snprintf(name, sizeof(name),
             "Fetch v18 response, 64 lz4 batches (%zu bytes)",
             fetch_pc.frame.len);
    row(name, ns, 0, 0);

    sc.blob = fetch.p;
    sc.len = fetch.len;
    ns = measure(op_summary, &sc, seconds);
    row("hoop_batch_summarize() of those 64 batches (audit counts)", ns,
        0, 0);

    printf("\nbatch re-encode (hoop_batch_rewrite)\n");
    wc->blob = lz4.p;
    wc->len = lz4.len;
    wc->change = 1;
    ns = measure(op_rewrite, wc, seconds);
    if (wc->changed != NRECORDS) {
        die("rewrite", "not every record changed");
    }
    row("lz4 batch, every record changed", ns, vbytes, NRECORDS);

    wc->change = 0;
    ns = measure(op_rewrite, wc, seconds);
    row("lz4 batch, no record changed (read only)", ns, vbytes, NRECORDS);

    wc->blob = plain.p;
    wc->len = plain.len;
    wc->change = 1;
    ns = measure(op_rewrite, wc, seconds);
    row("uncompressed batch, every record changed", ns, vbytes, NRECORDS);

    sc.blob = plain.p;
    sc.len = plain.len;
    ns = measure(op_crc, &sc, seconds);
    row("hoop_crc32c() of the uncompressed batch", ns, plain.len, 0);

    free(lz4.p);
    free(plain.p);
    free(fetch.p);
    free(produce_pc.frame.p);
    free(fetch_pc.frame.p);
    free(arena.base);
    free(wc);

    (void) fetch_vbytes;

    return sink == 1;
}
