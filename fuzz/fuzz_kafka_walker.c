/*
 * libFuzzer target: the generic Kafka walker on arbitrary bodies.
 *
 * Input: uint8 direction (bit 0: response), int16 api_key, int16 version,
 * then a frame without its size prefix.  A request's header is parsed
 * from the frame (the key and version bytes are then ignored); a
 * response's header version follows the key and version given.  Every
 * ApiKey and version the tables know is reachable.  Property: a body that
 * decodes encodes back to the same bytes (the proxy forwards re-encoded
 * frames), and nothing reads or allocates out of bounds.  Requests are
 * decoded as the gateway does, with hoop_kafka_decode_prefix() (bytes after
 * the message allowed): the prefix it took encodes back to itself, and the
 * strict decoder accepts the body exactly when nothing was left over.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/hoop_kafka_walker.h"
#include "kafka/hoop_kafka_header.h"


typedef struct chunk_s {
    struct chunk_s  *next;
    max_align_t      data[];
} chunk_t;


static void *
arena_alloc(void *ctx, size_t n)
{
    chunk_t  **head = ctx;
    chunk_t   *c;

    c = malloc(sizeof(chunk_t) + n);
    if (c == NULL) {
        return NULL;
    }

    c->next = *head;
    *head = c;

    return c->data;
}


static void
arena_free(chunk_t *c)
{
    chunk_t  *next;

    while (c) {
        next = c->next;
        free(c);
        c = next;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                           rc, is_response;
    int16_t                       api_key, version, min, max;
    size_t                        len, n, flen, hlen, used;
    uint8_t                      *out;
    chunk_t                      *chunks;
    const uint8_t                *body, *frame;
    hoop_kafka_err_t              err;
    hoop_kafka_node_t            *root, *strict;
    hoop_kafka_alloc_t            a;
    hoop_kafka_request_header_t   h;
    hoop_kafka_response_header_t  rh;

    if (size < 5) {
        return 0;
    }

    is_response = data[0] & 1;
    frame = data + 5;
    flen = size - 5;

    if (is_response) {
        api_key = (int16_t) (((data[1] << 8) | data[2])
                             % (HOOP_KAFKA_API_KEY_MAX + 1));

        if (hoop_kafka_api_versions(api_key, &min, &max) != 0) {
            return 0;
        }

        version = (int16_t) (min + ((data[3] << 8) | data[4])
                                   % (max - min + 1));

        if (hoop_kafka_response_header_parse(frame, flen,
                hoop_kafka_response_header_version(api_key, version),
                &rh, &err)
            != HOOP_KAFKA_OK)
        {
            return 0;
        }

        hlen = rh.len;

    } else {
        if (hoop_kafka_request_header_parse(frame, flen, &h, &err)
            != HOOP_KAFKA_OK
            || !hoop_kafka_message_supported(h.api_key, h.api_version, 0))
        {
            return 0;
        }

        api_key = h.api_key;
        version = h.api_version;
        hlen = h.len;
    }

    body = frame + hlen;
    len = flen - hlen;

    chunks = NULL;
    a.alloc = arena_alloc;
    a.ctx = &chunks;

    if (is_response) {
        rc = hoop_kafka_decode(&a, api_key, version, 1, body, len, &root,
                               &err);
        used = len;

    } else {
        rc = hoop_kafka_decode_prefix(&a, api_key, version, 0, body, len,
                                      &root, &used, &err);

        if ((hoop_kafka_decode(&a, api_key, version, 0, body, len, &strict,
                               &err) == HOOP_KAFKA_OK)
            != (rc == HOOP_KAFKA_OK && used == len))
        {
            abort();
        }
    }

    if (rc == HOOP_KAFKA_OK) {
        n = hoop_kafka_encoded_size(root);

        if (n != used) {
            abort();
        }

        out = malloc(n ? n : 1);
        if (out == NULL || hoop_kafka_encode(root, out) != n
            || memcmp(out, body, n) != 0)
        {
            abort();
        }

        free(out);
    }

    arena_free(chunks);

    return 0;
}
