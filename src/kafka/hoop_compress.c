/*
 * Kafka's four batch compression codecs over zlib, libsnappy, liblz4 and
 * libzstd; see hoop_compress.h for the framings.
 */

#include <limits.h>
#include <string.h>

#include <zlib.h>
#include <snappy-c.h>
#include <lz4frame.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "hoop_compress.h"


#define HOOP_SNAPPY_BLOCK      32768    /* snappy-java's default block */
#define HOOP_SNAPPY_HEADER     16
#define HOOP_FIRST_CHUNK       16384

/* zstd: the largest window accepted is the smallest power of two that
 * holds the limit, within these bounds (2^23 covers every level up to 19
 * with an unknown content size; 2^27 is libzstd's default maximum) */
#define HOOP_ZSTD_WLOG_MIN     23
#define HOOP_ZSTD_WLOG_MAX     27


static const uint8_t  hoop_snappy_magic[8] = {
    0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0
};

/* magic, version 1, compatible version 1: what snappy-java writes */
static const uint8_t  hoop_snappy_header[HOOP_SNAPPY_HEADER] = {
    0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1
};


int
hoop_compress_buf_reserve(const hoop_kafka_alloc_t *a,
    hoop_compress_buf_t *b, size_t need)
{
    size_t    cap;
    uint8_t  *p;

    /* allocated even for 0 bytes: callers do pointer arithmetic on data */
    if (need <= b->cap - b->len && b->data != NULL) {
        return 0;
    }

    if (need > SIZE_MAX / 2 - b->len) {
        return -1;
    }

    cap = b->cap ? b->cap : 4096;

    while (cap - b->len < need) {
        cap *= 2;
    }

    p = a->alloc(a->ctx, cap);
    if (p == NULL) {
        return -1;
    }

    if (b->len) {
        memcpy(p, b->data, b->len);
    }

    b->data = p;
    b->cap = cap;

    return 0;
}


const char *
hoop_codec_name(unsigned codec)
{
    static const char  *names[] = { "none", "gzip", "snappy", "lz4", "zstd" };

    return codec < 5 ? names[codec] : "unknown";
}


/*
 * Room for the next piece of decompressed output: at least one byte, and
 * never so much that the output could pass max + 1 bytes (one byte more
 * than allowed tells "too big" from "exactly max").  Grows by doubling
 * what was produced so far, starting from hint.
 */
static int
hoop_out_room(const hoop_kafka_alloc_t *a, hoop_compress_buf_t *out,
    size_t base, size_t max, size_t hint, size_t *room)
{
    size_t  produced, left, want;

    produced = out->len - base;

    if (produced > max) {
        return HOOP_COMPRESS_ETOOBIG;
    }

    left = max + 1 - produced;

    if (out->cap == out->len) {
        want = produced ? produced : hint;

        if (want < HOOP_FIRST_CHUNK) {
            want = HOOP_FIRST_CHUNK;
        }

        if (want > left) {
            want = left;
        }

        if (hoop_compress_buf_reserve(a, out, want) != 0) {
            return HOOP_COMPRESS_ENOMEM;
        }
    }

    *room = out->cap - out->len;

    if (*room > left) {
        *room = left;
    }

    return HOOP_COMPRESS_OK;
}


static int
hoop_gunzip(const hoop_kafka_alloc_t *a, const uint8_t *in, size_t len,
    size_t max, hoop_compress_buf_t *out, const char **msg)
{
    int       rc, zrc;
    uInt      before;
    size_t    base, room, hint;
    z_stream  zs;

    if (len > UINT_MAX) {
        *msg = "gzip: input too large";
        return HOOP_COMPRESS_ECORRUPT;
    }

    /* ISIZE, the last member's size mod 2^32, bounded by deflate's
     * largest ratio (1032:1): only a first guess */
    hint = 0;

    if (len >= 18) {
        hint = (size_t) in[len - 4] | (size_t) in[len - 3] << 8
               | (size_t) in[len - 2] << 16 | (size_t) in[len - 1] << 24;

        if (hint / 1032 > len) {
            hint = len * 1032;
        }
    }

    memset(&zs, 0, sizeof(zs));

    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        *msg = "gzip: cannot initialise zlib";
        return HOOP_COMPRESS_ENOMEM;
    }

    zs.next_in = (Bytef *) (uintptr_t) in;
    zs.avail_in = (uInt) len;
    base = out->len;

    for ( ;; ) {
        rc = hoop_out_room(a, out, base, max, hint, &room);
        if (rc != HOOP_COMPRESS_OK) {
            *msg = rc == HOOP_COMPRESS_ETOOBIG
                   ? "gzip: decompressed size over the limit"
                   : "gzip: out of memory";
            break;
        }

        zs.next_out = out->data + out->len;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt) room;
        before = zs.avail_out;

        zrc = inflate(&zs, Z_NO_FLUSH);

        out->len += before - zs.avail_out;

        if (zrc == Z_STREAM_END) {
            if (zs.avail_in == 0) {
                rc = HOOP_COMPRESS_OK;
                break;
            }

            /* the next member of a concatenated stream */
            if (inflateReset(&zs) != Z_OK) {
                *msg = "gzip: cannot reset zlib";
                rc = HOOP_COMPRESS_ECORRUPT;
                break;
            }

            continue;
        }

        if (zrc == Z_OK || (zrc == Z_BUF_ERROR && zs.avail_out == 0)) {
            continue;    /* output full: more room next time round */
        }

        if (zrc == Z_MEM_ERROR) {
            *msg = "gzip: out of memory";
            rc = HOOP_COMPRESS_ENOMEM;

        } else if (zrc == Z_BUF_ERROR) {
            *msg = "gzip: truncated stream";
            rc = HOOP_COMPRESS_ECORRUPT;

        } else {
            *msg = "gzip: corrupt stream";
            rc = HOOP_COMPRESS_ECORRUPT;
        }

        break;
    }

    inflateEnd(&zs);

    if (rc == HOOP_COMPRESS_OK && out->len - base > max) {
        *msg = "gzip: decompressed size over the limit";
        rc = HOOP_COMPRESS_ETOOBIG;
    }

    return rc;
}


static int
hoop_gzip(const hoop_kafka_alloc_t *a, const uint8_t *in, size_t len,
    hoop_compress_buf_t *out, const char **msg)
{
    int       zrc;
    uLong     bound;
    z_stream  zs;

    if (len > UINT_MAX / 2) {
        *msg = "gzip: input too large";
        return HOOP_COMPRESS_ECORRUPT;
    }

    memset(&zs, 0, sizeof(zs));

    /* Kafka's default gzip level is zlib's default (6) */
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY)
        != Z_OK)
    {
        *msg = "gzip: cannot initialise zlib";
        return HOOP_COMPRESS_ENOMEM;
    }

    bound = deflateBound(&zs, (uLong) len);

    if (hoop_compress_buf_reserve(a, out, bound) != 0) {
        deflateEnd(&zs);
        *msg = "gzip: out of memory";
        return HOOP_COMPRESS_ENOMEM;
    }

    zs.next_in = (Bytef *) (uintptr_t) in;
    zs.avail_in = (uInt) len;
    zs.next_out = out->data + out->len;
    zs.avail_out = (uInt) bound;

    zrc = deflate(&zs, Z_FINISH);

    out->len += bound - zs.avail_out;
    deflateEnd(&zs);

    if (zrc != Z_STREAM_END) {
        *msg = "gzip: deflate failed";
        return HOOP_COMPRESS_ECORRUPT;
    }

    return HOOP_COMPRESS_OK;
}


/* one raw snappy block: checked, sized and appended */
static int
hoop_unsnappy_block(const hoop_kafka_alloc_t *a, const uint8_t *in,
    size_t len, size_t base, size_t max, hoop_compress_buf_t *out,
    const char **msg)
{
    size_t  n;

    if (snappy_uncompressed_length((const char *) in, len, &n)
        != SNAPPY_OK)
    {
        *msg = "snappy: corrupt block";
        return HOOP_COMPRESS_ECORRUPT;
    }

    if (n > max || out->len - base > max - n) {
        *msg = "snappy: decompressed size over the limit";
        return HOOP_COMPRESS_ETOOBIG;
    }

    if (hoop_compress_buf_reserve(a, out, n) != 0) {
        *msg = "snappy: out of memory";
        return HOOP_COMPRESS_ENOMEM;
    }

    if (snappy_uncompress((const char *) in, len,
                          (char *) out->data + out->len, &n)
        != SNAPPY_OK)
    {
        *msg = "snappy: corrupt block";
        return HOOP_COMPRESS_ECORRUPT;
    }

    out->len += n;

    return HOOP_COMPRESS_OK;
}


/*
 * xerial framing; pass 0 checks the layout and adds up the blocks' sizes
 * (so that the limit holds before any work and the output is allocated
 * once), pass 1 decompresses.
 */
static int
hoop_unsnappy(const hoop_kafka_alloc_t *a, const uint8_t *in, size_t len,
    size_t max, hoop_compress_buf_t *out, const char **msg)
{
    int             rc, pass;
    size_t          base, pos, n, block, total;
    const uint8_t  *p;

    base = out->len;

    if (len < sizeof(hoop_snappy_magic)
        || memcmp(in, hoop_snappy_magic, sizeof(hoop_snappy_magic)) != 0)
    {
        /* no xerial header: one raw block (snappy-java reads it so) */
        return hoop_unsnappy_block(a, in, len, base, max, out, msg);
    }

    total = 0;

    for (pass = 0; pass < 2; pass++) {

        if (pass == 1 && hoop_compress_buf_reserve(a, out, total) != 0) {
            *msg = "snappy: out of memory";
            return HOOP_COMPRESS_ENOMEM;
        }

        pos = 0;

        while (pos < len) {
            p = in + pos;

            /* a header: the stream's own, or that of a concatenated one */
            if (len - pos >= sizeof(hoop_snappy_magic)
                && memcmp(p, hoop_snappy_magic, sizeof(hoop_snappy_magic))
                   == 0)
            {
                if (len - pos < HOOP_SNAPPY_HEADER) {
                    *msg = "snappy: truncated xerial header";
                    return HOOP_COMPRESS_ECORRUPT;
                }

                pos += HOOP_SNAPPY_HEADER;
                continue;
            }

            if (len - pos < 4) {
                *msg = "snappy: truncated block length";
                return HOOP_COMPRESS_ECORRUPT;
            }

            block = (size_t) p[0] << 24 | (size_t) p[1] << 16
                    | (size_t) p[2] << 8 | (size_t) p[3];

            if (block > len - pos - 4) {
                *msg = "snappy: block runs past the end";
                return HOOP_COMPRESS_ECORRUPT;
            }

            if (pass == 0) {
                if (snappy_uncompressed_length((const char *) p + 4, block,
                                               &n)
                    != SNAPPY_OK)
                {
                    *msg = "snappy: corrupt block";
                    return HOOP_COMPRESS_ECORRUPT;
                }

                if (n > max - total) {
                    *msg = "snappy: decompressed size over the limit";
                    return HOOP_COMPRESS_ETOOBIG;
                }

                total += n;

            } else {
                rc = hoop_unsnappy_block(a, p + 4, block, base, max, out,
                                         msg);
                if (rc != HOOP_COMPRESS_OK) {
                    return rc;
                }
            }

            pos += 4 + block;
        }
    }

    return HOOP_COMPRESS_OK;
}


static int
hoop_snappy(const hoop_kafka_alloc_t *a, const uint8_t *in, size_t len,
    hoop_compress_buf_t *out, const char **msg)
{
    size_t    pos, chunk, n, blocks, bound;
    uint8_t  *p;

    blocks = (len + HOOP_SNAPPY_BLOCK - 1) / HOOP_SNAPPY_BLOCK;
    bound = snappy_max_compressed_length(HOOP_SNAPPY_BLOCK) + 4;

    if (blocks > (SIZE_MAX / 2) / bound) {
        *msg = "snappy: input too large";
        return HOOP_COMPRESS_ECORRUPT;
    }

    if (hoop_compress_buf_reserve(a, out, HOOP_SNAPPY_HEADER + blocks * bound)
        != 0)
    {
        *msg = "snappy: out of memory";
        return HOOP_COMPRESS_ENOMEM;
    }

    memcpy(out->data + out->len, hoop_snappy_header, HOOP_SNAPPY_HEADER);
    out->len += HOOP_SNAPPY_HEADER;

    for (pos = 0; pos < len; pos += chunk) {
        chunk = len - pos;

        if (chunk > HOOP_SNAPPY_BLOCK) {
            chunk = HOOP_SNAPPY_BLOCK;
        }

        p = out->data + out->len;
        n = bound - 4;

        if (snappy_compress((const char *) in + pos, chunk, (char *) p + 4,
                            &n)
            != SNAPPY_OK)
        {
            *msg = "snappy: compression failed";
            return HOOP_COMPRESS_ECORRUPT;
        }

        p[0] = (uint8_t) (n >> 24);
        p[1] = (uint8_t) (n >> 16);
        p[2] = (uint8_t) (n >> 8);
        p[3] = (uint8_t) n;
        out->len += 4 + n;
    }

    return HOOP_COMPRESS_OK;
}


static int
hoop_unlz4(const hoop_kafka_alloc_t *a, const uint8_t *in, size_t len,
    size_t max, hoop_compress_buf_t *out, const char **msg)
{
    int                     rc;
    size_t                  base, pos, room, src, dst, r, hint;
    LZ4F_dctx              *dctx;
    LZ4F_frameInfo_t        info;

    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
        *msg = "lz4: out of memory";
        return HOOP_COMPRESS_ENOMEM;
    }

    base = out->len;
    pos = 0;
    rc = HOOP_COMPRESS_OK;

    /* the frame header first: its content size, when the producer wrote
     * one, sizes the output in one go */
    src = len;
    r = LZ4F_getFrameInfo(dctx, &info, in, &src);

    if (LZ4F_isError(r)) {
        *msg = "lz4: bad or truncated frame header";
        LZ4F_freeDecompressionContext(dctx);
        return HOOP_COMPRESS_ECORRUPT;
    }

    pos = src;

    if (info.contentSize > max) {
        *msg = "lz4: decompressed size over the limit";
        LZ4F_freeDecompressionContext(dctx);
        return HOOP_COMPRESS_ETOOBIG;
    }

    /* a claim only: LZ4 expands 255:1 at most */
    hint = len * 4;

    if (info.contentSize && info.contentSize / 255 <= len) {
        hint = (size_t) info.contentSize + 1;
    }

    for ( ;; ) {
        rc = hoop_out_room(a, out, base, max, hint, &room);
        if (rc != HOOP_COMPRESS_OK) {
            *msg = rc == HOOP_COMPRESS_ETOOBIG
                   ? "lz4: decompressed size over the limit"
                   : "lz4: out of memory";
            break;
        }

        dst = room;
        src = len - pos;

        r = LZ4F_decompress(dctx, out->data + out->len, &dst, in + pos, &src,
                            NULL);

        if (LZ4F_isError(r)) {
            *msg = "lz4: corrupt frame";
            rc = HOOP_COMPRESS_ECORRUPT;
            break;
        }

        pos += src;
        out->len += dst;

        if (r == 0) {
            /* the frame is complete */
            if (pos != len) {
                *msg = "lz4: bytes after the frame";
                rc = HOOP_COMPRESS_ECORRUPT;
            }

            break;
        }

        if (pos == len && dst < room) {
            *msg = "lz4: truncated frame";
            rc = HOOP_COMPRESS_ECORRUPT;
            break;
        }
    }

    LZ4F_freeDecompressionContext(dctx);

    if (rc == HOOP_COMPRESS_OK && out->len - base > max) {
        *msg = "lz4: decompressed size over the limit";
        rc = HOOP_COMPRESS_ETOOBIG;
    }

    return rc;
}


static int
hoop_lz4(const hoop_kafka_alloc_t *a, const uint8_t *in, size_t len,
    hoop_compress_buf_t *out, const char **msg)
{
    size_t             bound, r;
    LZ4F_preferences_t  prefs;

    /* as KafkaLZ4BlockOutputStream: independent 64 KiB blocks, no block
     * or content checksum, no content size */
    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;

    bound = LZ4F_compressFrameBound(len, &prefs);

    if (hoop_compress_buf_reserve(a, out, bound) != 0) {
        *msg = "lz4: out of memory";
        return HOOP_COMPRESS_ENOMEM;
    }

    r = LZ4F_compressFrame(out->data + out->len, bound, in, len, &prefs);

    if (LZ4F_isError(r)) {
        *msg = "lz4: compression failed";
        return HOOP_COMPRESS_ECORRUPT;
    }

    out->len += r;

    return HOOP_COMPRESS_OK;
}


static int
hoop_unzstd(const hoop_kafka_alloc_t *a, const uint8_t *in, size_t len,
    size_t max, hoop_compress_buf_t *out, const char **msg)
{
    int                 rc, wlog;
    size_t              base, room, r, hint;
    ZSTD_DCtx          *d;
    ZSTD_inBuffer       ib;
    ZSTD_outBuffer      ob;
    ZSTD_ErrorCode      ec;
    unsigned long long  size;

    d = ZSTD_createDCtx();
    if (d == NULL) {
        *msg = "zstd: out of memory";
        return HOOP_COMPRESS_ENOMEM;
    }

    for (wlog = HOOP_ZSTD_WLOG_MIN;
         wlog < HOOP_ZSTD_WLOG_MAX && ((size_t) 1 << wlog) < max;
         wlog++)
    {
        /* void */
    }

    ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, wlog);

    size = ZSTD_getFrameContentSize(in, len);
    /* a claim only, trusted up to a plausible ratio */
    hint = size < (unsigned long long) max && size / 64 <= len
           ? (size_t) size + 1 : len * 4;

    base = out->len;
    ib.src = in;
    ib.size = len;
    ib.pos = 0;
    r = 1;

    for ( ;; ) {
        rc = hoop_out_room(a, out, base, max, hint, &room);
        if (rc != HOOP_COMPRESS_OK) {
            *msg = rc == HOOP_COMPRESS_ETOOBIG
                   ? "zstd: decompressed size over the limit"
                   : "zstd: out of memory";
            break;
        }

        ob.dst = out->data + out->len;
        ob.size = room;
        ob.pos = 0;

        r = ZSTD_decompressStream(d, &ob, &ib);

        if (ZSTD_isError(r)) {
            ec = ZSTD_getErrorCode(r);
            *msg = ec == ZSTD_error_frameParameter_windowTooLarge
                   ? "zstd: window larger than the limit allows"
                   : "zstd: corrupt frame";
            rc = ec == ZSTD_error_memory_allocation
                 ? HOOP_COMPRESS_ENOMEM : HOOP_COMPRESS_ECORRUPT;
            break;
        }

        out->len += ob.pos;

        if (ib.pos == ib.size) {
            if (r == 0) {
                break;      /* the last frame is complete */
            }

            if (ob.pos < ob.size) {
                *msg = "zstd: truncated frame";
                rc = HOOP_COMPRESS_ECORRUPT;
                break;
            }
        }
    }

    ZSTD_freeDCtx(d);

    if (rc == HOOP_COMPRESS_OK && out->len - base > max) {
        *msg = "zstd: decompressed size over the limit";
        rc = HOOP_COMPRESS_ETOOBIG;
    }

    return rc;
}


static int
hoop_zstd(const hoop_kafka_alloc_t *a, const uint8_t *in, size_t len,
    hoop_compress_buf_t *out, const char **msg)
{
    size_t  bound, r;

    bound = ZSTD_compressBound(len);

    if (ZSTD_isError(bound)
        || hoop_compress_buf_reserve(a, out, bound) != 0)
    {
        *msg = "zstd: out of memory";
        return HOOP_COMPRESS_ENOMEM;
    }

    /* level 3: Kafka's default for zstd */
    r = ZSTD_compress(out->data + out->len, bound, in, len, 3);

    if (ZSTD_isError(r)) {
        *msg = "zstd: compression failed";
        return HOOP_COMPRESS_ECORRUPT;
    }

    out->len += r;

    return HOOP_COMPRESS_OK;
}


int
hoop_decompress(const hoop_kafka_alloc_t *a, unsigned codec,
    const uint8_t *in, size_t len, size_t max, hoop_compress_buf_t *out,
    const char **msg)
{
    /* keep max + 1 and doubling clear of overflow */
    if (max > SIZE_MAX / 4) {
        max = SIZE_MAX / 4;
    }

    switch (codec) {

    case HOOP_CODEC_GZIP:
        return hoop_gunzip(a, in, len, max, out, msg);

    case HOOP_CODEC_SNAPPY:
        return hoop_unsnappy(a, in, len, max, out, msg);

    case HOOP_CODEC_LZ4:
        return hoop_unlz4(a, in, len, max, out, msg);

    case HOOP_CODEC_ZSTD:
        return hoop_unzstd(a, in, len, max, out, msg);
    }

    *msg = "unknown compression codec";

    return HOOP_COMPRESS_ECODEC;
}


int
hoop_compress(const hoop_kafka_alloc_t *a, unsigned codec,
    const uint8_t *in, size_t len, hoop_compress_buf_t *out,
    const char **msg)
{
    switch (codec) {

    case HOOP_CODEC_GZIP:
        return hoop_gzip(a, in, len, out, msg);

    case HOOP_CODEC_SNAPPY:
        return hoop_snappy(a, in, len, out, msg);

    case HOOP_CODEC_LZ4:
        return hoop_lz4(a, in, len, out, msg);

    case HOOP_CODEC_ZSTD:
        return hoop_zstd(a, in, len, out, msg);
    }

    *msg = "unknown compression codec";

    return HOOP_COMPRESS_ECODEC;
}
