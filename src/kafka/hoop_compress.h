/*
 * The four compression codecs of Kafka record batches (attributes bits
 * 0-2: 1 gzip, 2 snappy, 3 lz4, 4 zstd), over the Debian libraries zlib,
 * libsnappy, liblz4 and libzstd, with the framings Kafka's Java client
 * reads and writes (Kafka's CompressionType, "Message format" of the
 * Kafka documentation):
 *
 *   gzip    RFC 1952 members (java.util.zip.GZIP*Stream); several
 *           concatenated members are read as one stream
 *   snappy  snappy-java's xerial framing: 16 byte header (magic
 *           82 'SNAPPY' 00, int32 version 1, int32 compatible 1), then
 *           int32 big endian length + raw snappy block per 32 KiB of
 *           input.  Input without the magic is read as one raw snappy
 *           block, as snappy-java does (librdkafka writes that)
 *   lz4     one LZ4 frame (KIP-57: magic 2 batches always carry the
 *           correct header checksum; the broken one of magic 0 is never
 *           met, since those batches are never decompressed); written
 *           as Kafka writes it: independent 64 KiB blocks, no checksums
 *   zstd    zstd frames (several are read as one stream), level 3
 *
 * Output buffers come from the caller's arena (hoop_kafka_alloc_t) and
 * grow by doubling, never beyond a caller-given limit, so a small input
 * cannot make a huge allocation (decompression bombs).  The libraries'
 * own working state comes from malloc and is freed before returning.
 *
 * Plain C99, no nginx.
 */

#ifndef HOOP_COMPRESS_H
#define HOOP_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "hoop_kafka_walker.h"


/* codec numbers: RecordBatch attributes & 0x07 */
#define HOOP_CODEC_NONE        0
#define HOOP_CODEC_GZIP        1
#define HOOP_CODEC_SNAPPY      2
#define HOOP_CODEC_LZ4         3
#define HOOP_CODEC_ZSTD        4

/* return codes */
#define HOOP_COMPRESS_OK        0
#define HOOP_COMPRESS_ECORRUPT -1   /* input does not decompress */
#define HOOP_COMPRESS_ETOOBIG  -2   /* output would exceed the limit */
#define HOOP_COMPRESS_ENOMEM   -3   /* arena or library out of memory */
#define HOOP_COMPRESS_ECODEC   -4   /* not one of the four codecs */


/* A byte buffer that grows in the arena; zero it before first use.  Old
 * blocks are left to the arena (freed with it). */
typedef struct {
    uint8_t                     *data;
    size_t                       len;
    size_t                       cap;
} hoop_compress_buf_t;


/* Makes room for need more bytes after len: 0, or -1 if the arena
 * failed. */
int hoop_compress_buf_reserve(const hoop_kafka_alloc_t *a,
    hoop_compress_buf_t *b, size_t need);

/* "gzip", "snappy", "lz4", "zstd", "none", or "unknown". */
const char *hoop_codec_name(unsigned codec);

/*
 * Decompresses in[0..len) of codec (1-4) and appends the result to out
 * (out->len grows by the decompressed size).  max: the largest
 * decompressed size accepted, in bytes.  Returns HOOP_COMPRESS_OK or a
 * negative HOOP_COMPRESS_E* with *msg (a static string) saying why.
 * Trailing bytes after the last frame or member are an error.
 */
int hoop_decompress(const hoop_kafka_alloc_t *a, unsigned codec,
    const uint8_t *in, size_t len, size_t max, hoop_compress_buf_t *out,
    const char **msg);

/*
 * Compresses in[0..len) with codec (1-4) as Kafka's Java client frames it
 * (see above) and appends the result to out.  Returns HOOP_COMPRESS_OK,
 * HOOP_COMPRESS_ENOMEM, HOOP_COMPRESS_ECODEC, or HOOP_COMPRESS_ECORRUPT if
 * the library failed, with *msg set.
 */
int hoop_compress(const hoop_kafka_alloc_t *a, unsigned codec,
    const uint8_t *in, size_t len, hoop_compress_buf_t *out,
    const char **msg);


#endif /* HOOP_COMPRESS_H */
