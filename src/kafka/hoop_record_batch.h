/*
 * Kafka record batches: the bytes of a RECORDS field (Produce request
 * partition data, Fetch response partition data), as the codec's walker
 * hands them over (hoop_kafka_node_bytes() of a records node).
 *
 * Format: "Message format" of the Kafka documentation (RecordBatch, magic
 * 2), KIP-98 (producer id, epoch, base sequence, transactional and control
 * batches), KIP-82 (record headers).  A records blob is a sequence of
 *
 *   int64 baseOffset       int32 batchLength (bytes after this field)
 *   int32 partitionLeaderEpoch                int8 magic (2)
 *   uint32 crc             CRC-32C of attributes .. the end of the batch
 *   int16 attributes       bits 0-2 codec (0 none, 1 gzip, 2 snappy,
 *                          3 lz4, 4 zstd), 3 timestampType (LogAppendTime),
 *                          4 isTransactional, 5 isControl,
 *                          6 hasDeleteHorizon
 *   int32 lastOffsetDelta  int64 baseTimestamp   int64 maxTimestamp
 *   int64 producerId       int16 producerEpoch   int32 baseSequence
 *   int32 recordsCount     records (compressed as a whole if codec != 0)
 *
 * and each record is (varint: zigzag, as protobuf's sint32/sint64)
 *
 *   varint length (of what follows)   int8 attributes (unused)
 *   varlong timestampDelta            varint offsetDelta
 *   varint keyLength, key (-1: null)  varint valueLength, value (-1: null)
 *   varint headersCount, then per header: varint keyLength, key (a
 *   string, never null), varint valueLength, value (-1: null)
 *
 * Magic 0 and 1 entries (the old message sets: int64 offset, int32 size,
 * then a message) are recognised, reported and never changed.  A Fetch
 * response may end in a part of a batch, cut at the fetch's max bytes:
 * that is reported as a truncated tail and is either forwarded as it is or
 * trimmed, never made into a broken batch.
 *
 * Memory: every result comes from the caller's arena (hoop_kafka_alloc_t,
 * as for the walker) and points into the input where bytes are unchanged;
 * the input must stay alive and unchanged while results are used.
 * Decompression is bounded by a caller-given limit.
 *
 * Plain C99, no nginx.  CRC-32C: Intel ISA-L (libisal).  Codecs:
 * hoop_compress.h.
 */

#ifndef HOOP_RECORD_BATCH_H
#define HOOP_RECORD_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "hoop_kafka_walker.h"
#include "hoop_compress.h"


#define HOOP_BATCH_LOG_OVERHEAD     12    /* baseOffset, batchLength */
#define HOOP_BATCH_HEADER_SIZE      61    /* magic 2, up to the records */
#define HOOP_BATCH_CRC_OFFSET       17    /* of the crc field */
#define HOOP_BATCH_CRC_START        21    /* first byte the CRC covers */

/* attributes */
#define HOOP_BATCH_CODEC_MASK       0x07  /* HOOP_CODEC_* (hoop_compress.h) */
#define HOOP_BATCH_LOG_APPEND_TIME  0x08
#define HOOP_BATCH_TRANSACTIONAL    0x10
#define HOOP_BATCH_CONTROL          0x20
#define HOOP_BATCH_DELETE_HORIZON   0x40

/* the decompression limit per batch when the caller gives 0, bytes */
#define HOOP_BATCH_DEFAULT_MAX_DECOMPRESSED  (64 * 1024 * 1024)


/* Return codes: negative on error. */
#define HOOP_BATCH_OK           0
#define HOOP_BATCH_EINVALID    -1   /* bad length, varint, count, magic */
#define HOOP_BATCH_ECRC        -2   /* CRC-32C does not match */
#define HOOP_BATCH_ECODEC      -3   /* compression codec 5, 6 or 7 */
#define HOOP_BATCH_ECORRUPT    -4   /* compressed records do not
                                       decompress */
#define HOOP_BATCH_ETOOBIG     -5   /* decompressed records over the
                                       limit */
#define HOOP_BATCH_ENOMEM      -6   /* the arena or a codec library
                                       failed */
#define HOOP_BATCH_ECALLBACK   -7   /* the record callback failed, or asked
                                       for a change that is not allowed */
#define HOOP_BATCH_ETAIL       -8   /* a truncated tail where none is
                                       allowed (HOOP_BATCH_NO_TAIL) */

/* hoop_batch_next() results */
#define HOOP_BATCH_END          0   /* no more bytes */
#define HOOP_BATCH_V2           1   /* a whole magic 2 batch */
#define HOOP_BATCH_LEGACY       2   /* a whole magic 0 or 1 entry */
#define HOOP_BATCH_TAIL         3   /* the rest is a cut-off batch; the
                                       iteration ends here */


/* Where and why something failed; msg is a static string. */
typedef struct {
    size_t                       offset;   /* bytes into the records blob,
                                              or into the decompressed
                                              records of the batch */
    size_t                       batch;    /* offset of the batch in the
                                              blob */
    const char                  *msg;
} hoop_batch_err_t;


/*
 * One batch (or a legacy entry, or the tail) as found in the blob.  For
 * magic 0/1 entries and the tail only data, size, offset, magic and
 * base_offset (the entry's offset; a tail's if it has 8 bytes, else -1)
 * are set.
 */
typedef struct {
    const uint8_t               *data;     /* the whole batch */
    size_t                       size;     /* 12 + batch_length */
    size_t                       offset;   /* of data in the blob */

    int64_t                      base_offset;
    int32_t                      batch_length;
    int32_t                      partition_leader_epoch;
    int8_t                       magic;
    uint32_t                     crc;
    int16_t                      attributes;
    int32_t                      last_offset_delta;
    int64_t                      base_timestamp;
    int64_t                      max_timestamp;
    int64_t                      producer_id;
    int16_t                      producer_epoch;
    int32_t                      base_sequence;
    int32_t                      records_count;

    const uint8_t               *records;  /* after the header; compressed
                                              when the codec is not 0 */
    size_t                       records_size;
} hoop_record_batch_t;


/* Iterator over a records blob: set up with hoop_batch_iter_init(). */
typedef struct {
    const uint8_t               *start;
    size_t                       len;
    size_t                       pos;
} hoop_batch_iter_t;


/*
 * Nullable bytes as Kafka writes them: len -1 is null (data then NULL),
 * else len bytes at data.
 */
typedef struct {
    const uint8_t               *data;
    int32_t                      len;
} hoop_batch_bytes_t;


typedef struct {
    hoop_batch_bytes_t           key;      /* never null */
    hoop_batch_bytes_t           value;
} hoop_record_header_t;


/*
 * One record of a batch.  A rewrite callback may point key, value and the
 * header values elsewhere, at bytes of any length (and return
 * HOOP_RECORD_CHANGED), or point headers at an array of its own with the
 * same keys; the data must stay valid until the callback is called again
 * or the rewrite returns.  Nullness, header keys and count, attributes and
 * the deltas stay as they are (else HOOP_BATCH_ECALLBACK).  With
 * HOOP_BATCH_HEADER_EDITS a callback may also leave headers out (the rest
 * keep their keys and order: headers_count smaller) and make a header
 * value null or not null; a record's key and value keep their nullness
 * whatever the flags (a tombstone stays a tombstone).
 */
typedef struct {
    int8_t                       attributes;
    int64_t                      timestamp_delta;
    int32_t                      offset_delta;
    int64_t                      offset;      /* base_offset + delta */
    int64_t                      timestamp;   /* base_timestamp + delta, or
                                                 max_timestamp with
                                                 LogAppendTime */
    hoop_batch_bytes_t           key;
    hoop_batch_bytes_t           value;
    hoop_record_header_t        *headers;
    int32_t                      headers_count;

    const uint8_t               *raw;         /* the encoded record, length
                                                 varint included */
    size_t                       raw_size;
} hoop_record_t;


/* record callback results */
#define HOOP_RECORD_UNCHANGED   0
#define HOOP_RECORD_CHANGED     1

/*
 * Called once per record, in order.  Returns HOOP_RECORD_UNCHANGED,
 * HOOP_RECORD_CHANGED (key, value or header values were replaced, see
 * hoop_record_t), or a negative value to stop with HOOP_BATCH_ECALLBACK.
 */
typedef int (*hoop_record_pt)(void *ctx, const hoop_record_batch_t *batch,
    hoop_record_t *record);


/*
 * Iteration (no allocation, no decompression, no CRC check)
 */

void hoop_batch_iter_init(hoop_batch_iter_t *it, const uint8_t *blob,
    size_t len);

/*
 * The next batch of the blob into *b.  Returns HOOP_BATCH_V2,
 * HOOP_BATCH_LEGACY, HOOP_BATCH_TAIL (fewer bytes left than the next
 * batch's header or its batchLength promise; b covers them), HOOP_BATCH_END,
 * or HOOP_BATCH_EINVALID with *err set (err may be NULL): a batchLength
 * below the smallest batch of its magic, a magic above 2, a negative
 * records count.  After END, TAIL or an error it keeps returning the same.
 * As Kafka's ByteBufferLogInputStream, a tail is anything shorter than
 * 17 bytes (up to the magic) or than 12 + batchLength.
 */
int hoop_batch_next(hoop_batch_iter_t *it, hoop_record_batch_t *b,
    hoop_batch_err_t *err);

/* CRC-32C (Castagnoli), as RecordBatch uses it: crc32c("123456789") is
 * 0xe3069283. */
uint32_t hoop_crc32c(const uint8_t *p, size_t len);

/* 1 if the magic 2 batch's crc field matches its bytes, else 0. */
int hoop_batch_crc_ok(const hoop_record_batch_t *b);


/*
 * Summary for audit, from batch headers only (no decompression, no CRC).
 */

typedef struct {
    size_t                       batches;         /* whole batches, legacy
                                                     entries included */
    size_t                       legacy_batches;  /* magic 0/1 entries */
    size_t                       control_batches;
    size_t                       transactional_batches;
    uint64_t                     records;         /* sum of recordsCount
                                                     of magic 2 batches
                                                     (control included) */
    uint64_t                     control_records;
    int64_t                      first_offset;    /* baseOffset of the
                                                     first whole batch
                                                     (legacy: its offset);
                                                     -1 if none */
    int64_t                      last_offset;     /* baseOffset +
                                                     lastOffsetDelta of the
                                                     last one (legacy: its
                                                     offset); -1 if none */
    size_t                       bytes;           /* of the whole batches */
    size_t                       tail_offset;     /* where a truncated tail
                                                     starts; = total when
                                                     there is none */
    size_t                       tail_size;
    size_t                       total;           /* the blob's length */
    unsigned                     codecs;          /* bit (1 << codec) for
                                                     each codec seen */
} hoop_batch_summary_t;

/*
 * Fills *s for blob[0..len).  Returns HOOP_BATCH_OK, or HOOP_BATCH_EINVALID
 * (as hoop_batch_next()) with *s holding what came before.
 */
int hoop_batch_summarize(const uint8_t *blob, size_t len,
    hoop_batch_summary_t *s, hoop_batch_err_t *err);


/*
 * Records of one batch
 */

/*
 * Calls cb for every record of the magic 2 batch b, decompressing it first
 * if needed (at most max_decompressed bytes; 0: the default).  cb's
 * changes are ignored.  Checks that the records fill the batch exactly and
 * that their number is recordsCount; does not check the CRC.  Returns
 * HOOP_BATCH_OK or a negative HOOP_BATCH_E* with *err set.
 */
int hoop_batch_foreach_record(const hoop_kafka_alloc_t *a,
    const hoop_record_batch_t *b, size_t max_decompressed, hoop_record_pt cb,
    void *ctx, hoop_batch_err_t *err);


/*
 * Rewriting
 */

/* hoop_batch_rewrite_conf_t.flags */
#define HOOP_BATCH_TRIM_TAIL     0x01  /* leave a truncated tail out (a
                                          Fetch response's last partial
                                          batch) instead of copying it */
#define HOOP_BATCH_NO_TAIL       0x02  /* a truncated tail is an error
                                          (HOOP_BATCH_ETAIL; Produce) */
#define HOOP_BATCH_PASS_CORRUPT  0x04  /* copy a batch whose CRC does not
                                          match, unread, instead of failing
                                          with HOOP_BATCH_ECRC */
#define HOOP_BATCH_HEADER_EDITS  0x08  /* the callback may leave headers
                                          out and change the nullness of
                                          header values (masking's remove
                                          and null of a header) */

typedef struct {
    hoop_record_pt               record;   /* per record of data batches */
    void                        *ctx;
    size_t                       max_decompressed;  /* per batch, bytes;
                                                       0: the default */
    unsigned                     flags;
} hoop_batch_rewrite_conf_t;


/* A piece of the rewritten blob: a slice of the input or new bytes. */
typedef struct {
    const uint8_t               *data;
    size_t                       len;
} hoop_batch_segment_t;


typedef struct {
    hoop_batch_segment_t        *segments; /* in order; their bytes joined
                                              are the new blob */
    size_t                       nsegments;
    size_t                       size;     /* bytes of the new blob */

    size_t                       batches;          /* whole batches seen */
    size_t                       changed_batches;  /* rebuilt */
    size_t                       changed_records;
    size_t                       legacy_batches;   /* copied, unread */
    size_t                       control_batches;  /* copied, unread */
    size_t                       corrupt_batches;  /* bad CRC, copied
                                                      (PASS_CORRUPT) */
    size_t                       tail_offset;      /* = input length when
                                                      there is no tail */
    size_t                       tail_size;
    int                          tail_trimmed;
} hoop_batch_rewrite_t;


/*
 * Calls conf->record for each record of each magic 2 data batch of
 * in[0..len) and builds the new blob in *res:
 *
 * - batches where no record changed, control batches, magic 0/1 entries
 *   (counted in legacy_batches) and a truncated tail (unless trimmed) are
 *   slices of the input, byte for byte, compressed ones too;
 * - a batch with changed records is rebuilt: unchanged records are copied
 *   as they were, changed ones re-encoded, all compressed again with the
 *   batch's codec (hoop_compress.h), batchLength and CRC-32C recomputed;
 *   baseOffset, partitionLeaderEpoch, attributes, lastOffsetDelta,
 *   timestamps, producer id, epoch, base sequence, recordsCount and each
 *   record's attributes and deltas are kept.
 *
 * Every batch's CRC is checked before it is read: a mismatch fails with
 * HOOP_BATCH_ECRC (masking must not read, nor give a valid CRC to, bytes
 * that are not what the producer wrote); with HOOP_BATCH_PASS_CORRUPT the
 * batch is copied unread instead, so the broker or the consumer rejects
 * it as Kafka would.  A callback may not change the nullness of a key,
 * value or header value (a tombstone stays a tombstone, a value never
 * becomes one), nor a header key: that fails with HOOP_BATCH_ECALLBACK.
 *
 * Returns HOOP_BATCH_OK or a negative HOOP_BATCH_E* with *err set (err may
 * be NULL); on error *res is undefined.  With no changed batch the result
 * is the input itself (one segment, unless a tail was trimmed).
 */
int hoop_batch_rewrite(const hoop_kafka_alloc_t *a, const uint8_t *in,
    size_t len, const hoop_batch_rewrite_conf_t *conf,
    hoop_batch_rewrite_t *res, hoop_batch_err_t *err);

/* Copies the rewritten blob to out (res->size bytes); returns out's end. */
uint8_t *hoop_batch_rewrite_copy(const hoop_batch_rewrite_t *res,
    uint8_t *out);

/* "crc mismatch" and the like for a HOOP_BATCH_E* code. */
const char *hoop_batch_strerror(int rc);


#endif /* HOOP_RECORD_BATCH_H */
