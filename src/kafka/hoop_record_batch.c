/*
 * Kafka record batches (magic 2): iteration, summaries, record decoding
 * and rewriting; see hoop_record_batch.h.
 *
 * Strictness follows Kafka's readers (DefaultRecordBatch, DefaultRecord,
 * ByteBufferLogInputStream), and is stricter where Kafka itself never
 * writes something (a key or value length below -1, a varint with bits
 * beyond its width): the gateway refuses what it might read differently
 * from a client.
 */

#include <limits.h>
#include <string.h>

#include <isa-l/crc.h>

#include "hoop_record_batch.h"


#define HOOP_BATCH_MAGIC_OFFSET     16
#define HOOP_BATCH_V2_MIN_LENGTH    (HOOP_BATCH_HEADER_SIZE \
                                     - HOOP_BATCH_LOG_OVERHEAD)
#define HOOP_LEGACY_V0_MIN_LENGTH   14    /* crc magic attr key value */
#define HOOP_LEGACY_V1_MIN_LENGTH   22    /* and a timestamp */


/* Reused buffers of one rewrite or foreach call. */
typedef struct {
    const hoop_kafka_alloc_t    *a;
    hoop_compress_buf_t          dec;      /* decompressed records */
    hoop_compress_buf_t          rec;      /* rebuilt records */
    hoop_compress_buf_t          cmp;      /* compressed again */
    hoop_record_header_t        *headers;  /* of the current record */
    hoop_record_header_t        *orig;     /* a copy the callback cannot
                                              touch */
    size_t                       headers_cap;
    unsigned                     flags;    /* HOOP_BATCH_HEADER_EDITS */
} hoop_batch_scratch_t;


static int
hoop_batch_fail(hoop_batch_err_t *err, int rc, size_t offset, size_t batch,
    const char *msg)
{
    if (err) {
        err->offset = offset;
        err->batch = batch;
        err->msg = msg;
    }

    return rc;
}


static int64_t
hoop_be64(const uint8_t *p)
{
    uint64_t  v;

    v = (uint64_t) p[0] << 56 | (uint64_t) p[1] << 48
        | (uint64_t) p[2] << 40 | (uint64_t) p[3] << 32
        | (uint64_t) p[4] << 24 | (uint64_t) p[5] << 16
        | (uint64_t) p[6] << 8 | (uint64_t) p[7];

    return (int64_t) v;
}


static uint32_t
hoop_be32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}


static int16_t
hoop_be16(const uint8_t *p)
{
    return (int16_t) ((uint16_t) p[0] << 8 | (uint16_t) p[1]);
}


static void
hoop_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


/* int64 + int64 without signed overflow (input may hold any values) */
static int64_t
hoop_add64(int64_t a, int64_t b)
{
    return (int64_t) ((uint64_t) a + (uint64_t) b);
}


uint32_t
hoop_crc32c(const uint8_t *p, size_t len)
{
    uint32_t  crc;

    /* ISA-L keeps the running value uninverted: start at ~0, invert at
     * the end */
    crc = 0xffffffff;

    while (len > INT_MAX) {
        crc = crc32_iscsi((unsigned char *) (uintptr_t) p, INT_MAX, crc);
        p += INT_MAX;
        len -= INT_MAX;
    }

    crc = crc32_iscsi((unsigned char *) (uintptr_t) p, (int) len, crc);

    return ~crc;
}


int
hoop_batch_crc_ok(const hoop_record_batch_t *b)
{
    if (b->magic != 2 || b->size < HOOP_BATCH_HEADER_SIZE) {
        return 0;
    }

    return hoop_crc32c(b->data + HOOP_BATCH_CRC_START,
                       b->size - HOOP_BATCH_CRC_START)
           == b->crc;
}


/*
 * Iteration
 */

void
hoop_batch_iter_init(hoop_batch_iter_t *it, const uint8_t *blob,
    size_t len)
{
    it->start = blob;
    it->len = len;
    it->pos = 0;
}


int
hoop_batch_next(hoop_batch_iter_t *it, hoop_record_batch_t *b,
    hoop_batch_err_t *err)
{
    int32_t         length, min;
    size_t          rest;
    const uint8_t  *p;

    memset(b, 0, sizeof(hoop_record_batch_t));
    b->base_offset = -1;
    b->offset = it->pos;

    if (it->pos >= it->len) {
        return HOOP_BATCH_END;
    }

    p = it->start + it->pos;
    rest = it->len - it->pos;

    b->data = p;
    b->size = rest;

    if (rest >= 8) {
        b->base_offset = hoop_be64(p);
    }

    /* the order of Kafka's ByteBufferLogInputStream.nextBatchSize() */

    if (rest < HOOP_BATCH_LOG_OVERHEAD) {
        it->pos = it->len;
        return HOOP_BATCH_TAIL;
    }

    length = (int32_t) hoop_be32(p + 8);
    b->batch_length = length;

    if (length < HOOP_LEGACY_V0_MIN_LENGTH) {
        return hoop_batch_fail(err, HOOP_BATCH_EINVALID, it->pos + 8,
                               it->pos, "batch length below the smallest "
                               "message");
    }

    if (rest < HOOP_BATCH_MAGIC_OFFSET + 1) {
        it->pos = it->len;
        return HOOP_BATCH_TAIL;
    }

    b->magic = (int8_t) p[HOOP_BATCH_MAGIC_OFFSET];

    if (b->magic < 0 || b->magic > 2) {
        return hoop_batch_fail(err, HOOP_BATCH_EINVALID,
                               it->pos + HOOP_BATCH_MAGIC_OFFSET, it->pos,
                               "unknown magic");
    }

    min = b->magic == 2 ? HOOP_BATCH_V2_MIN_LENGTH
          : b->magic == 1 ? HOOP_LEGACY_V1_MIN_LENGTH
          : HOOP_LEGACY_V0_MIN_LENGTH;

    if (length < min) {
        return hoop_batch_fail(err, HOOP_BATCH_EINVALID, it->pos + 8,
                               it->pos, "batch length below the header of "
                               "its magic");
    }

    if (rest - HOOP_BATCH_LOG_OVERHEAD < (size_t) length) {
        it->pos = it->len;
        return HOOP_BATCH_TAIL;
    }

    b->size = HOOP_BATCH_LOG_OVERHEAD + (size_t) length;

    if (b->magic != 2) {
        it->pos += b->size;
        return HOOP_BATCH_LEGACY;
    }

    b->partition_leader_epoch = (int32_t) hoop_be32(p + 12);
    b->crc = hoop_be32(p + 17);
    b->attributes = hoop_be16(p + 21);
    b->last_offset_delta = (int32_t) hoop_be32(p + 23);
    b->base_timestamp = hoop_be64(p + 27);
    b->max_timestamp = hoop_be64(p + 35);
    b->producer_id = hoop_be64(p + 43);
    b->producer_epoch = hoop_be16(p + 51);
    b->base_sequence = (int32_t) hoop_be32(p + 53);
    b->records_count = (int32_t) hoop_be32(p + 57);
    b->records = p + HOOP_BATCH_HEADER_SIZE;
    b->records_size = b->size - HOOP_BATCH_HEADER_SIZE;

    if (b->records_count < 0) {
        return hoop_batch_fail(err, HOOP_BATCH_EINVALID, it->pos + 57,
                               it->pos, "negative records count");
    }

    it->pos += b->size;

    return HOOP_BATCH_V2;
}


int
hoop_batch_summarize(const uint8_t *blob, size_t len,
    hoop_batch_summary_t *s, hoop_batch_err_t *err)
{
    int                  rc;
    hoop_batch_iter_t    it;
    hoop_record_batch_t  b;

    memset(s, 0, sizeof(hoop_batch_summary_t));
    s->first_offset = -1;
    s->last_offset = -1;
    s->tail_offset = len;
    s->total = len;

    hoop_batch_iter_init(&it, blob, len);

    for ( ;; ) {
        rc = hoop_batch_next(&it, &b, err);

        switch (rc) {

        case HOOP_BATCH_END:
            return HOOP_BATCH_OK;

        case HOOP_BATCH_TAIL:
            s->tail_offset = b.offset;
            s->tail_size = b.size;
            return HOOP_BATCH_OK;

        case HOOP_BATCH_LEGACY:
            s->legacy_batches++;
            s->last_offset = b.base_offset;
            break;

        case HOOP_BATCH_V2:
            s->records += (uint64_t) b.records_count;
            s->codecs |= 1u << (b.attributes & HOOP_BATCH_CODEC_MASK);

            if (b.attributes & HOOP_BATCH_CONTROL) {
                s->control_batches++;
                s->control_records += (uint64_t) b.records_count;
            }

            if (b.attributes & HOOP_BATCH_TRANSACTIONAL) {
                s->transactional_batches++;
            }

            s->last_offset = hoop_add64(b.base_offset, b.last_offset_delta);
            break;

        default:
            return rc;
        }

        if (s->batches++ == 0) {
            s->first_offset = b.base_offset;
        }

        s->bytes += b.size;
    }
}


/*
 * Records
 */

/* Kafka's zigzag varint (32 bits, at most 5 bytes); 0 or -1. */
static int
hoop_get_varint(const uint8_t **pp, const uint8_t *end, int32_t *v)
{
    int             i;
    uint32_t        raw, u;
    const uint8_t  *p;

    p = *pp;
    raw = 0;

    for (i = 0; i < 5; i++) {
        if (p == end) {
            return -1;
        }

        if (i == 4 && (*p & 0xf0)) {
            return -1;    /* more than 32 bits */
        }

        raw |= (uint32_t) (*p & 0x7f) << (7 * i);

        if ((*p++ & 0x80) == 0) {
            u = (raw >> 1) ^ (0u - (raw & 1));
            *v = u <= INT32_MAX ? (int32_t) u : -(int32_t) (~u) - 1;
            *pp = p;
            return 0;
        }
    }

    return -1;
}


/* Kafka's zigzag varlong (64 bits, at most 10 bytes); 0 or -1. */
static int
hoop_get_varlong(const uint8_t **pp, const uint8_t *end, int64_t *v)
{
    int             i;
    uint64_t        raw, u;
    const uint8_t  *p;

    p = *pp;
    raw = 0;

    for (i = 0; i < 10; i++) {
        if (p == end) {
            return -1;
        }

        if (i == 9 && (*p & 0xfe)) {
            return -1;    /* more than 64 bits */
        }

        raw |= (uint64_t) (*p & 0x7f) << (7 * i);

        if ((*p++ & 0x80) == 0) {
            u = (raw >> 1) ^ (0u - (raw & 1));
            *v = u <= INT64_MAX ? (int64_t) u : -(int64_t) (~u) - 1;
            *pp = p;
            return 0;
        }
    }

    return -1;
}


static size_t
hoop_varint_size(int64_t v)
{
    size_t    n;
    uint64_t  u;

    u = v < 0 ? (~(uint64_t) v << 1) | 1 : (uint64_t) v << 1;

    for (n = 1; u >= 0x80; n++) {
        u >>= 7;
    }

    return n;
}


static uint8_t *
hoop_put_varint(uint8_t *p, int64_t v)
{
    uint64_t  u;

    u = v < 0 ? (~(uint64_t) v << 1) | 1 : (uint64_t) v << 1;

    while (u >= 0x80) {
        *p++ = (uint8_t) (u | 0x80);
        u >>= 7;
    }

    *p++ = (uint8_t) u;

    return p;
}


/* A varint length, then that many bytes (-1: null, if nullable). */
static int
hoop_get_bytes(const uint8_t **pp, const uint8_t *end, int nullable,
    hoop_batch_bytes_t *out)
{
    int32_t  n;

    if (hoop_get_varint(pp, end, &n) != 0) {
        return -1;
    }

    if (n == -1 && nullable) {
        out->data = NULL;
        out->len = -1;
        return 0;
    }

    if (n < 0 || (size_t) n > (size_t) (end - *pp)) {
        return -1;
    }

    out->data = *pp;
    out->len = n;
    *pp += n;

    return 0;
}


static int
hoop_batch_headers_reserve(hoop_batch_scratch_t *sc, size_t n)
{
    size_t  cap;

    if (n <= sc->headers_cap) {
        return 0;
    }

    cap = sc->headers_cap ? sc->headers_cap * 2 : 16;

    if (cap < n) {
        cap = n;
    }

    sc->headers = sc->a->alloc(sc->a->ctx,
                               cap * sizeof(hoop_record_header_t));
    sc->orig = sc->a->alloc(sc->a->ctx, cap * sizeof(hoop_record_header_t));

    if (sc->headers == NULL || sc->orig == NULL) {
        sc->headers_cap = 0;
        return -1;
    }

    sc->headers_cap = cap;

    return 0;
}


/*
 * Decodes the record at *pp (before end) into *r, headers into the
 * scratch array.  Returns HOOP_BATCH_OK, HOOP_BATCH_EINVALID with *msg,
 * or HOOP_BATCH_ENOMEM.
 */
static int
hoop_record_decode(hoop_batch_scratch_t *sc, const uint8_t **pp,
    const uint8_t *end, hoop_record_t *r, const char **msg)
{
    int32_t         len, i;
    const uint8_t  *p, *body_end;

    p = *pp;
    r->raw = p;

    if (hoop_get_varint(&p, end, &len) != 0) {
        *msg = "bad record length varint";
        return HOOP_BATCH_EINVALID;
    }

    if (len < 1 || (size_t) len > (size_t) (end - p)) {
        *msg = "record length out of the batch";
        return HOOP_BATCH_EINVALID;
    }

    body_end = p + len;
    r->attributes = (int8_t) *p++;

    if (hoop_get_varlong(&p, body_end, &r->timestamp_delta) != 0) {
        *msg = "bad record timestamp delta";
        return HOOP_BATCH_EINVALID;
    }

    if (hoop_get_varint(&p, body_end, &r->offset_delta) != 0) {
        *msg = "bad record offset delta";
        return HOOP_BATCH_EINVALID;
    }

    if (hoop_get_bytes(&p, body_end, 1, &r->key) != 0) {
        *msg = "bad record key length";
        return HOOP_BATCH_EINVALID;
    }

    if (hoop_get_bytes(&p, body_end, 1, &r->value) != 0) {
        *msg = "bad record value length";
        return HOOP_BATCH_EINVALID;
    }

    if (hoop_get_varint(&p, body_end, &r->headers_count) != 0
        || r->headers_count < 0)
    {
        *msg = "bad record headers count";
        return HOOP_BATCH_EINVALID;
    }

    /* every header takes two bytes at least */
    if ((size_t) r->headers_count > (size_t) (body_end - p) / 2) {
        *msg = "record headers count larger than the record";
        return HOOP_BATCH_EINVALID;
    }

    if (hoop_batch_headers_reserve(sc, (size_t) r->headers_count) != 0) {
        *msg = "out of memory";
        return HOOP_BATCH_ENOMEM;
    }

    r->headers = sc->headers;

    for (i = 0; i < r->headers_count; i++) {
        if (hoop_get_bytes(&p, body_end, 0, &r->headers[i].key) != 0) {
            *msg = "bad record header key length";
            return HOOP_BATCH_EINVALID;
        }

        if (hoop_get_bytes(&p, body_end, 1, &r->headers[i].value) != 0) {
            *msg = "bad record header value length";
            return HOOP_BATCH_EINVALID;
        }
    }

    if (p != body_end) {
        *msg = "record length does not match its fields";
        return HOOP_BATCH_EINVALID;
    }

    r->raw_size = (size_t) (body_end - r->raw);
    *pp = body_end;

    return HOOP_BATCH_OK;
}


static size_t
hoop_bytes_size(hoop_batch_bytes_t b)
{
    return hoop_varint_size(b.len) + (b.len > 0 ? (size_t) b.len : 0);
}


static uint8_t *
hoop_put_bytes(uint8_t *p, hoop_batch_bytes_t b)
{
    p = hoop_put_varint(p, b.len);

    if (b.len > 0) {
        memcpy(p, b.data, (size_t) b.len);
        p += b.len;
    }

    return p;
}


/* Appends the encoding of r (length varint first) to out. */
static int
hoop_record_encode(const hoop_kafka_alloc_t *a, const hoop_record_t *r,
    hoop_compress_buf_t *out, const char **msg)
{
    size_t    size;
    int32_t   i;
    uint8_t  *p;

    size = 1 + hoop_varint_size(r->timestamp_delta)
           + hoop_varint_size(r->offset_delta)
           + hoop_bytes_size(r->key) + hoop_bytes_size(r->value)
           + hoop_varint_size(r->headers_count);

    for (i = 0; i < r->headers_count; i++) {
        size += hoop_bytes_size(r->headers[i].key)
                + hoop_bytes_size(r->headers[i].value);
    }

    if (size > INT32_MAX) {
        *msg = "rewritten record too large";
        return HOOP_BATCH_EINVALID;
    }

    if (hoop_compress_buf_reserve(a, out, hoop_varint_size((int64_t) size)
                                          + size)
        != 0)
    {
        *msg = "out of memory";
        return HOOP_BATCH_ENOMEM;
    }

    p = out->data + out->len;
    p = hoop_put_varint(p, (int64_t) size);
    *p++ = (uint8_t) r->attributes;
    p = hoop_put_varint(p, r->timestamp_delta);
    p = hoop_put_varint(p, r->offset_delta);
    p = hoop_put_bytes(p, r->key);
    p = hoop_put_bytes(p, r->value);
    p = hoop_put_varint(p, r->headers_count);

    for (i = 0; i < r->headers_count; i++) {
        p = hoop_put_bytes(p, r->headers[i].key);
        p = hoop_put_bytes(p, r->headers[i].value);
    }

    out->len = (size_t) (p - out->data);

    return HOOP_BATCH_OK;
}


/*
 * Compares a callback's replacement with the original: 0 same bytes, 1
 * different bytes, -1 not allowed (nullness changed, or a bad length).
 */
static int
hoop_bytes_changed(hoop_batch_bytes_t orig, hoop_batch_bytes_t now)
{
    if (now.len < -1 || (now.len > 0 && now.data == NULL)) {
        return -1;
    }

    if ((orig.len == -1) != (now.len == -1)) {
        return -1;
    }

    if (orig.len != now.len) {
        return 1;
    }

    if (orig.len <= 0 || orig.data == now.data) {
        return 0;
    }

    return memcmp(orig.data, now.data, (size_t) orig.len) != 0;
}


/*
 * What the callback did to r (was: the record before the callback, orig:
 * its headers): 0 nothing, 1 a change, -1 a forbidden one (*msg says
 * which).
 */
static int
hoop_record_changed(const hoop_record_t *r, const hoop_record_t *was,
    const hoop_record_header_t *orig, unsigned flags, const char **msg)
{
    int      changed, c;
    int32_t  i, j, count;

    count = was->headers_count;

    if (r->headers_count != count) {
        if (!(flags & HOOP_BATCH_HEADER_EDITS)) {
            *msg = "record callback changed the number of headers";
            return -1;
        }

        if (r->headers_count < 0 || r->headers_count > count
            || (r->headers_count && r->headers == NULL))
        {
            *msg = "record callback added headers";
            return -1;
        }
    }

    /* encoded from r: they must be the producer's */
    if (r->attributes != was->attributes
        || r->timestamp_delta != was->timestamp_delta
        || r->offset_delta != was->offset_delta)
    {
        *msg = "record callback changed a record's attributes, timestamp "
               "or offset";
        return -1;
    }

    changed = 0;

    c = hoop_bytes_changed(was->key, r->key);
    if (c < 0) {
        *msg = "record callback changed the nullness of a key";
        return -1;
    }

    changed |= c;

    c = hoop_bytes_changed(was->value, r->value);
    if (c < 0) {
        *msg = "record callback changed the nullness of a value";
        return -1;
    }

    changed |= c;

    if (flags & HOOP_BATCH_HEADER_EDITS) {
        /* headers left out (the others in their order, keys unchanged),
         * values made null or not null */
        changed |= (r->headers_count != count);

        for (i = 0, j = 0; i < r->headers_count; i++, j++) {
            while (j < count
                   && hoop_bytes_changed(orig[j].key, r->headers[i].key) != 0)
            {
                j++;
                changed = 1;
            }

            if (j == count) {
                *msg = "record callback changed a header key";
                return -1;
            }

            c = hoop_bytes_changed(orig[j].value, r->headers[i].value);

            if (c < 0) {
                if (r->headers[i].value.len < -1
                    || (r->headers[i].value.len > 0
                        && r->headers[i].value.data == NULL))
                {
                    *msg = "record callback set a bad header value";
                    return -1;
                }

                c = 1;
            }

            changed |= c;
        }

        return changed;
    }

    for (i = 0; i < count; i++) {
        if (hoop_bytes_changed(orig[i].key, r->headers[i].key) != 0) {
            *msg = "record callback changed a header key";
            return -1;
        }

        c = hoop_bytes_changed(orig[i].value, r->headers[i].value);
        if (c < 0) {
            *msg = "record callback changed the nullness of a header value";
            return -1;
        }

        changed |= c;
    }

    return changed;
}


static int
hoop_compress_rc(int rc)
{
    switch (rc) {

    case HOOP_COMPRESS_OK:
        return HOOP_BATCH_OK;

    case HOOP_COMPRESS_ETOOBIG:
        return HOOP_BATCH_ETOOBIG;

    case HOOP_COMPRESS_ENOMEM:
        return HOOP_BATCH_ENOMEM;

    case HOOP_COMPRESS_ECODEC:
        return HOOP_BATCH_ECODEC;
    }

    return HOOP_BATCH_ECORRUPT;
}


/*
 * Walks the records of b, calling cb.  With rebuild, records are copied or
 * re-encoded into sc->rec from the first changed one on; *changed counts
 * changed records (0: sc->rec is unused).  Errors carry offsets into the
 * (decompressed) records, counted from the batch's records field.
 */
static int
hoop_batch_walk(hoop_batch_scratch_t *sc, const hoop_record_batch_t *b,
    size_t max, hoop_record_pt cb, void *ctx, int rebuild, size_t *changed,
    hoop_batch_err_t *err)
{
    int                   rc, c;
    int32_t               i;
    unsigned              codec;
    const char           *msg;
    const uint8_t        *data, *p, *end;
    hoop_record_t         r, was;

    *changed = 0;
    codec = (unsigned) b->attributes & HOOP_BATCH_CODEC_MASK;

    if (codec > HOOP_CODEC_ZSTD) {
        return hoop_batch_fail(err, HOOP_BATCH_ECODEC, b->offset + 21,
                               b->offset, "unknown compression codec");
    }

    if (codec == HOOP_CODEC_NONE) {
        data = b->records;
        end = data + b->records_size;

    } else {
        sc->dec.len = 0;
        msg = NULL;

        rc = hoop_decompress(sc->a, codec, b->records, b->records_size, max,
                             &sc->dec, &msg);
        if (rc != HOOP_COMPRESS_OK) {
            return hoop_batch_fail(err, hoop_compress_rc(rc),
                                   b->offset + HOOP_BATCH_HEADER_SIZE,
                                   b->offset, msg);
        }

        data = sc->dec.data;
        end = data + sc->dec.len;
    }

    sc->rec.len = 0;
    p = data;

    for (i = 0; i < b->records_count; i++) {

        if (p == end) {
            return hoop_batch_fail(err, HOOP_BATCH_EINVALID,
                                   (size_t) (p - data), b->offset,
                                   "fewer records than the records count");
        }

        msg = NULL;

        rc = hoop_record_decode(sc, &p, end, &r, &msg);
        if (rc != HOOP_BATCH_OK) {
            return hoop_batch_fail(err, rc, (size_t) (r.raw - data),
                                   b->offset, msg);
        }

        r.offset = hoop_add64(b->base_offset, r.offset_delta);
        r.timestamp = (b->attributes & HOOP_BATCH_LOG_APPEND_TIME)
                      ? b->max_timestamp
                      : hoop_add64(b->base_timestamp, r.timestamp_delta);

        was = r;

        if (rebuild && r.headers_count) {
            memcpy(sc->orig, r.headers,
                   (size_t) r.headers_count * sizeof(hoop_record_header_t));
        }

        rc = cb(ctx, b, &r);

        if (rc < 0) {
            return hoop_batch_fail(err, HOOP_BATCH_ECALLBACK,
                                   (size_t) (r.raw - data), b->offset,
                                   "record callback failed");
        }

        if (!rebuild) {
            continue;
        }

        c = 0;

        if (rc == HOOP_RECORD_CHANGED) {
            c = hoop_record_changed(&r, &was, sc->orig, sc->flags, &msg);
            if (c < 0) {
                return hoop_batch_fail(err, HOOP_BATCH_ECALLBACK,
                                       (size_t) (r.raw - data), b->offset,
                                       msg);
            }
        }

        if (c && *changed == 0 && r.raw != data) {
            /* the first change: the records before it, as they were */
            if (hoop_compress_buf_reserve(sc->a, &sc->rec,
                                          (size_t) (r.raw - data))
                != 0)
            {
                return hoop_batch_fail(err, HOOP_BATCH_ENOMEM, 0, b->offset,
                                       "out of memory");
            }

            memcpy(sc->rec.data, data, (size_t) (r.raw - data));
            sc->rec.len = (size_t) (r.raw - data);
        }

        if (c) {
            (*changed)++;

            rc = hoop_record_encode(sc->a, &r, &sc->rec, &msg);
            if (rc != HOOP_BATCH_OK) {
                return hoop_batch_fail(err, rc, (size_t) (r.raw - data),
                                       b->offset, msg);
            }

        } else if (*changed) {
            if (hoop_compress_buf_reserve(sc->a, &sc->rec, r.raw_size)
                != 0)
            {
                return hoop_batch_fail(err, HOOP_BATCH_ENOMEM, 0, b->offset,
                                       "out of memory");
            }

            memcpy(sc->rec.data + sc->rec.len, r.raw, r.raw_size);
            sc->rec.len += r.raw_size;
        }
    }

    if (p != end) {
        return hoop_batch_fail(err, HOOP_BATCH_EINVALID, (size_t) (p - data),
                               b->offset, "bytes after the last record");
    }

    return HOOP_BATCH_OK;
}


/* A rebuilt batch: b's header, then sc->rec compressed with b's codec. */
static int
hoop_batch_build(hoop_batch_scratch_t *sc, const hoop_record_batch_t *b,
    hoop_batch_segment_t *seg, hoop_batch_err_t *err)
{
    int                   rc;
    size_t                size;
    unsigned              codec;
    uint8_t              *nb;
    const char           *msg;
    hoop_compress_buf_t  *body;

    codec = (unsigned) b->attributes & HOOP_BATCH_CODEC_MASK;
    body = &sc->rec;

    if (codec != HOOP_CODEC_NONE) {
        sc->cmp.len = 0;
        msg = NULL;

        rc = hoop_compress(sc->a, codec, sc->rec.data, sc->rec.len, &sc->cmp,
                           &msg);
        if (rc != HOOP_COMPRESS_OK) {
            return hoop_batch_fail(err, hoop_compress_rc(rc), b->offset,
                                   b->offset, msg);
        }

        body = &sc->cmp;
    }

    if (body->len > (size_t) INT32_MAX - HOOP_BATCH_V2_MIN_LENGTH) {
        return hoop_batch_fail(err, HOOP_BATCH_EINVALID, b->offset,
                               b->offset, "rewritten batch too large");
    }

    size = HOOP_BATCH_HEADER_SIZE + body->len;

    nb = sc->a->alloc(sc->a->ctx, size);
    if (nb == NULL) {
        return hoop_batch_fail(err, HOOP_BATCH_ENOMEM, b->offset, b->offset,
                               "out of memory");
    }

    memcpy(nb, b->data, HOOP_BATCH_HEADER_SIZE);
    memcpy(nb + HOOP_BATCH_HEADER_SIZE, body->data, body->len);
    hoop_put_be32(nb + 8, (uint32_t) (size - HOOP_BATCH_LOG_OVERHEAD));
    hoop_put_be32(nb + HOOP_BATCH_CRC_OFFSET,
                  hoop_crc32c(nb + HOOP_BATCH_CRC_START,
                              size - HOOP_BATCH_CRC_START));

    seg->data = nb;
    seg->len = size;

    return HOOP_BATCH_OK;
}


static int
hoop_record_ignore(void *ctx, const hoop_record_batch_t *batch,
    hoop_record_t *record)
{
    (void) ctx;
    (void) batch;
    (void) record;

    return HOOP_RECORD_UNCHANGED;
}


int
hoop_batch_foreach_record(const hoop_kafka_alloc_t *a,
    const hoop_record_batch_t *b, size_t max_decompressed, hoop_record_pt cb,
    void *ctx, hoop_batch_err_t *err)
{
    size_t                changed;
    hoop_batch_scratch_t  sc;

    if (b->magic != 2 || b->records == NULL) {
        return hoop_batch_fail(err, HOOP_BATCH_EINVALID, b->offset, b->offset,
                               "not a magic 2 batch");
    }

    memset(&sc, 0, sizeof(hoop_batch_scratch_t));
    sc.a = a;

    return hoop_batch_walk(&sc, b,
                           max_decompressed ? max_decompressed
                           : HOOP_BATCH_DEFAULT_MAX_DECOMPRESSED,
                           cb ? cb : hoop_record_ignore, ctx, 0, &changed,
                           err);
}


/*
 * Rewriting
 */

/* Appends a segment, joining slices of the input that follow each other. */
static void
hoop_batch_add(hoop_batch_rewrite_t *res, const uint8_t *data, size_t len,
    int from_input, const uint8_t **input_end)
{
    hoop_batch_segment_t  *last;

    res->size += len;

    if (from_input && res->nsegments && *input_end == data) {
        last = &res->segments[res->nsegments - 1];
        last->len += len;
        *input_end = data + len;
        return;
    }

    res->segments[res->nsegments].data = data;
    res->segments[res->nsegments].len = len;
    res->nsegments++;

    *input_end = from_input ? data + len : NULL;
}


int
hoop_batch_rewrite(const hoop_kafka_alloc_t *a, const uint8_t *in,
    size_t len, const hoop_batch_rewrite_conf_t *conf,
    hoop_batch_rewrite_t *res, hoop_batch_err_t *err)
{
    int                    rc;
    size_t                 n, max, changed;
    const uint8_t         *input_end;
    hoop_batch_iter_t      it;
    hoop_record_batch_t    b;
    hoop_batch_segment_t   seg;
    hoop_batch_scratch_t   sc;

    memset(res, 0, sizeof(hoop_batch_rewrite_t));
    res->tail_offset = len;
    seg.data = NULL;
    seg.len = 0;

    /* a first pass over the headers: the shape is sound before any
     * callback runs, and the number of segments is known */
    n = 0;
    hoop_batch_iter_init(&it, in, len);

    while ((rc = hoop_batch_next(&it, &b, err)) > HOOP_BATCH_END) {
        n++;
    }

    if (rc < 0) {
        return rc;
    }

    res->segments = a->alloc(a->ctx, (n ? n : 1)
                                     * sizeof(hoop_batch_segment_t));
    if (res->segments == NULL) {
        return hoop_batch_fail(err, HOOP_BATCH_ENOMEM, 0, 0, "out of memory");
    }

    memset(&sc, 0, sizeof(hoop_batch_scratch_t));
    sc.a = a;
    sc.flags = conf->flags;
    max = conf->max_decompressed ? conf->max_decompressed
                                 : HOOP_BATCH_DEFAULT_MAX_DECOMPRESSED;
    input_end = NULL;

    hoop_batch_iter_init(&it, in, len);

    for ( ;; ) {
        rc = hoop_batch_next(&it, &b, err);

        if (rc == HOOP_BATCH_END) {
            break;
        }

        if (rc == HOOP_BATCH_TAIL) {
            res->tail_offset = b.offset;
            res->tail_size = b.size;

            if (conf->flags & HOOP_BATCH_NO_TAIL) {
                return hoop_batch_fail(err, HOOP_BATCH_ETAIL, b.offset,
                                       b.offset, "truncated batch at the "
                                       "end");
            }

            if (conf->flags & HOOP_BATCH_TRIM_TAIL) {
                res->tail_trimmed = 1;
            } else {
                hoop_batch_add(res, b.data, b.size, 1, &input_end);
            }

            break;
        }

        if (rc < 0) {
            return rc;    /* not reached: the first pass saw it */
        }

        res->batches++;

        if (rc == HOOP_BATCH_LEGACY) {
            res->legacy_batches++;
            hoop_batch_add(res, b.data, b.size, 1, &input_end);
            continue;
        }

        if (!hoop_batch_crc_ok(&b)) {
            if ((conf->flags & HOOP_BATCH_PASS_CORRUPT) == 0) {
                return hoop_batch_fail(err, HOOP_BATCH_ECRC,
                                       b.offset + HOOP_BATCH_CRC_OFFSET,
                                       b.offset, "batch CRC-32C mismatch");
            }

            res->corrupt_batches++;
            hoop_batch_add(res, b.data, b.size, 1, &input_end);
            continue;
        }

        if (b.attributes & HOOP_BATCH_CONTROL) {
            res->control_batches++;
            hoop_batch_add(res, b.data, b.size, 1, &input_end);
            continue;
        }

        rc = hoop_batch_walk(&sc, &b, max,
                             conf->record ? conf->record : hoop_record_ignore,
                             conf->ctx, 1, &changed, err);
        if (rc != HOOP_BATCH_OK) {
            return rc;
        }

        if (changed == 0) {
            hoop_batch_add(res, b.data, b.size, 1, &input_end);
            continue;
        }

        rc = hoop_batch_build(&sc, &b, &seg, err);
        if (rc != HOOP_BATCH_OK) {
            return rc;
        }

        res->changed_batches++;
        res->changed_records += changed;
        hoop_batch_add(res, seg.data, seg.len, 0, &input_end);
    }

    return HOOP_BATCH_OK;
}


uint8_t *
hoop_batch_rewrite_copy(const hoop_batch_rewrite_t *res, uint8_t *out)
{
    size_t  i;

    for (i = 0; i < res->nsegments; i++) {
        if (res->segments[i].len) {
            memcpy(out, res->segments[i].data, res->segments[i].len);
            out += res->segments[i].len;
        }
    }

    return out;
}


const char *
hoop_batch_strerror(int rc)
{
    switch (rc) {

    case HOOP_BATCH_OK:
        return "ok";

    case HOOP_BATCH_EINVALID:
        return "malformed record batch";

    case HOOP_BATCH_ECRC:
        return "record batch CRC mismatch";

    case HOOP_BATCH_ECODEC:
        return "unknown compression codec";

    case HOOP_BATCH_ECORRUPT:
        return "compressed records do not decompress";

    case HOOP_BATCH_ETOOBIG:
        return "decompressed records over the limit";

    case HOOP_BATCH_ENOMEM:
        return "out of memory";

    case HOOP_BATCH_ECALLBACK:
        return "record callback refused or broke a rule";

    case HOOP_BATCH_ETAIL:
        return "truncated record batch";
    }

    return "unknown error";
}
