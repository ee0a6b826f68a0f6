/*
 * Topic ids to names (KIP-516), as the gateway has seen them in broker
 * responses.  Requests that name topics by id (Produce v13, Fetch v13+,
 * OffsetCommit/OffsetFetch v10, DeleteTopics v6, Metadata v12+) are
 * authorized by name, as Kafka's broker does with its metadata cache; this
 * map is the gateway's cache: learned from Metadata, CreateTopics and
 * DescribeTopicPartitions responses, an id dropped when DeleteTopics
 * answers that its topic is gone.
 *
 * Bounded: every entry is charged its size (the entry, its name and its
 * share of the two hash tables); when learning would pass max_bytes, the
 * least recently used entries (learned or resolved longest ago) are
 * evicted.  A name learned with a new id (the topic was deleted and
 * created again) replaces the entry of the old id.
 *
 * One map per process and server (the module keeps one per worker for
 * each server with a policy); not thread-safe.  Plain C99, no nginx.
 */

#ifndef HOOP_TOPIC_IDS_H
#define HOOP_TOPIC_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "hoop_kafka_walker.h"


/* The module's bound per worker and server: 8 MiB, about 80,000 topics
 * with 30-byte names. */
#define HOOP_TOPIC_IDS_DEFAULT_MAX   (8 * 1024 * 1024)

/* Kafka's longest legal topic name (Topic.MAX_NAME_LENGTH); longer names
 * are never learned. */
#define HOOP_TOPIC_IDS_NAME_MAX      249


typedef struct hoop_topic_ids_s  hoop_topic_ids_t;


/* A map charged at most max_bytes (at least one entry fits whatever the
 * value); NULL when out of memory.  Free with hoop_topic_ids_free(). */
hoop_topic_ids_t *hoop_topic_ids_create(size_t max_bytes);
void hoop_topic_ids_free(hoop_topic_ids_t *m);

/*
 * id[0..16) names topic name[0..len).  An entry of the same name with
 * another id is replaced (topic re-created); the least recently used
 * entries are evicted to stay within the bound.  Returns 1 if the map
 * changed, 0 if it already knew exactly this (the entry becomes the most
 * recently used), -1 if not learned: zero id, empty or too long name, or
 * out of memory (the map is unchanged then).
 */
int hoop_topic_ids_learn(hoop_topic_ids_t *m, const uint8_t *id,
    const uint8_t *name, size_t len);

/* Drops id (its topic was deleted).  Returns 1 if it was known, else 0. */
int hoop_topic_ids_forget(hoop_topic_ids_t *m, const uint8_t *id);

/*
 * The name of id[0..16): 1 with *name, *len set (the map's copy, valid
 * until the next learn or forget), and the entry becomes the most recently
 * used; 0 if unknown (m may be NULL).  The signature of the planner's
 * hoop_authz_resolve_pt, with the map as ctx.
 */
int hoop_topic_ids_resolve(void *m, const uint8_t *id, const uint8_t **name,
    size_t *len);

/* Entries, and the bytes charged for them. */
size_t hoop_topic_ids_count(const hoop_topic_ids_t *m);
size_t hoop_topic_ids_bytes(const hoop_topic_ids_t *m);

/* For tests and fuzzers: 0 if the tables, the list of use, the count and
 * the bytes agree and the bound holds (or one entry is left), else -1. */
int hoop_topic_ids_check(const hoop_topic_ids_t *m);

/*
 * Learns from a decoded response body of api_key (any version): every
 * topic of Metadata, CreateTopics and DescribeTopicPartitions that pairs
 * a name with a non-zero TopicId; DeleteTopics: ids deleted without error
 * are forgotten.  Other ApiKeys are ignored.  Returns the number of
 * entries learned or forgotten, or -1 when out of memory (what was
 * learned before stays).
 */
int hoop_topic_ids_learn_response(hoop_topic_ids_t *m, int16_t api_key,
    hoop_kafka_node_t *root);

/* 1 if responses of api_key teach or forget ids, else 0. */
int hoop_topic_ids_teaches(int16_t api_key);

/*
 * The number of non-zero TopicId fields of a decoded request that m does
 * not know (m NULL: all of them), so that the caller can resolve them
 * before planning.  Fetch's ForgottenTopicsData is not counted: the
 * planner does not authorize it (consumer fetches are made sessionless).
 */
size_t hoop_topic_ids_unknown(hoop_topic_ids_t *m, hoop_kafka_node_t *req);


#endif /* HOOP_TOPIC_IDS_H */
