/*
 * libFuzzer target: the topic id map (src/kafka/hoop_topic_ids.c) fed by
 * arbitrary responses and requests.
 *
 * Input: the fuzz_kafka_walker format (uint8 direction, int16 api_key,
 * int16 version, a frame without its size prefix), so the walker's corpus
 * of captured frames seeds it.  A response that decodes is learned twice
 * into a map with a small bound (eviction on every input) and once into a
 * large one; a request is scanned for unknown ids.  Properties: the map's
 * tables, list of use, count and bytes agree and respect the bound
 * (hoop_topic_ids_check()), also after the same answer is read as a
 * DeleteTopics answer, which never adds; a request has no more unknown
 * ids than with an empty map.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/hoop_kafka_walker.h"
#include "kafka/hoop_kafka_header.h"
#include "kafka/hoop_topic_ids.h"


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
    size_t                        len, hlen, before, n0, n1;
    int16_t                       api_key, version;
    chunk_t                      *chunks;
    const uint8_t                *frame;
    hoop_kafka_node_t            *root;
    hoop_kafka_alloc_t            a;
    hoop_topic_ids_t             *small, *large;
    hoop_kafka_request_header_t   h;
    hoop_kafka_response_header_t  rh;

    if (size < 5) {
        return 0;
    }

    is_response = data[0] & 1;
    api_key = (int16_t) (((uint16_t) data[1] << 8) | data[2]);
    version = (int16_t) (((uint16_t) data[3] << 8) | data[4]);
    frame = data + 5;
    len = size - 5;

    if (is_response) {
        rc = hoop_kafka_response_header_parse(frame, len,
                 hoop_kafka_response_header_version(api_key, version), &rh,
                 NULL);
        hlen = rh.len;

    } else {
        rc = hoop_kafka_request_header_parse(frame, len, &h, NULL);
        api_key = h.api_key;
        version = h.api_version;
        hlen = h.len;
    }

    if (rc != HOOP_KAFKA_OK) {
        return 0;
    }

    chunks = NULL;
    a.alloc = arena_alloc;
    a.ctx = &chunks;

    rc = hoop_kafka_decode(&a, api_key, version, is_response, frame + hlen,
                           len - hlen, &root, NULL);
    if (rc != HOOP_KAFKA_OK) {
        arena_free(chunks);
        return 0;
    }

    small = hoop_topic_ids_create(2048);
    large = hoop_topic_ids_create(HOOP_TOPIC_IDS_DEFAULT_MAX);

    if (small == NULL || large == NULL) {
        abort();
    }

    if (is_response) {
        (void) hoop_topic_ids_learn_response(small, api_key, root);
        (void) hoop_topic_ids_learn_response(small, api_key, root);
        (void) hoop_topic_ids_learn_response(large, api_key, root);

        if (hoop_topic_ids_check(small) != 0
            || hoop_topic_ids_check(large) != 0)
        {
            abort();
        }

        /* DeleteTopics only forgets */
        before = hoop_topic_ids_count(large);

        if (hoop_topic_ids_learn_response(large,
                                          HOOP_KAFKA_API_DELETE_TOPICS, root)
            < 0
            || hoop_topic_ids_count(large) > before
            || hoop_topic_ids_check(large) != 0)
        {
            abort();
        }

    } else {
        n0 = hoop_topic_ids_unknown(NULL, root);
        n1 = hoop_topic_ids_unknown(large, root);

        if (n1 > n0) {
            abort();
        }
    }

    hoop_topic_ids_free(small);
    hoop_topic_ids_free(large);
    arena_free(chunks);

    return 0;
}
