/*
 * Types of the generated Kafka message tables (src/kafka/generated/).
 *
 * Kafka describes every request and response in JSON (common/message/
 * *.json in kafka-clients); tools/kafka-codegen/generate.py turns each file
 * into one hoop_kafka_message_t: a tree of structs and fields with the
 * versions each field exists in, is nullable in, is tagged in, and uses the
 * compact (flexible) encoding in.  hoop_kafka_walker.c is the one decoder
 * and encoder that walks these tables.
 *
 * Plain C99, no nginx: shared by the module, the unit tests and fuzzers.
 */

#ifndef HOOP_KAFKA_SCHEMA_H
#define HOOP_KAFKA_SCHEMA_H

#include <stddef.h>
#include <stdint.h>


/* Wire types of the JSON specs ("type"), plus node-only kinds. */
typedef enum {
    HOOP_KAFKA_T_BOOL = 1,
    HOOP_KAFKA_T_INT8,
    HOOP_KAFKA_T_INT16,
    HOOP_KAFKA_T_UINT16,
    HOOP_KAFKA_T_INT32,
    HOOP_KAFKA_T_UINT32,
    HOOP_KAFKA_T_INT64,
    HOOP_KAFKA_T_FLOAT64,
    HOOP_KAFKA_T_UUID,
    HOOP_KAFKA_T_STRING,
    HOOP_KAFKA_T_BYTES,
    HOOP_KAFKA_T_RECORDS,
    HOOP_KAFKA_T_STRUCT,
    HOOP_KAFKA_T_ARRAY,
    /* a tagged field this Kafka version does not know: kept as raw bytes */
    HOOP_KAFKA_T_TAGGED_RAW
} hoop_kafka_type_e;


/* "entityType": what a field names; authorization keys on these. */
typedef enum {
    HOOP_KAFKA_ENTITY_NONE = 0,
    HOOP_KAFKA_ENTITY_TOPIC_NAME,
    HOOP_KAFKA_ENTITY_GROUP_ID,
    HOOP_KAFKA_ENTITY_TRANSACTIONAL_ID,
    HOOP_KAFKA_ENTITY_BROKER_ID,
    HOOP_KAFKA_ENTITY_PRODUCER_ID
} hoop_kafka_entity_e;


/* "listeners": which Kafka listeners accept a request. */
#define HOOP_KAFKA_LISTENER_BROKER          0x01
#define HOOP_KAFKA_LISTENER_CONTROLLER      0x02
#define HOOP_KAFKA_LISTENER_ZK_BROKER       0x04

/* hoop_kafka_field_t.flags */
#define HOOP_KAFKA_FIELD_MAP_KEY            0x01   /* "mapKey": true */
#define HOOP_KAFKA_FIELD_ZERO_COPY          0x02   /* "zeroCopy": true */
#define HOOP_KAFKA_FIELD_IGNORABLE          0x04   /* "ignorable": true */
#define HOOP_KAFKA_FIELD_DEFAULT_NULL       0x08   /* "default": "null" */

/* hoop_kafka_struct_t.flags: has a string Host and an int32 Port, i.e. an
 * address a broker hands out that the gateway must rewrite. */
#define HOOP_KAFKA_STRUCT_BROKER_ENDPOINT   0x01
/* has a string Host and a uint16 Port: KRaft controller listeners (Vote,
 * DescribeQuorum, ...) and Kafka Streams user endpoints, which are
 * application addresses, not brokers. */
#define HOOP_KAFKA_STRUCT_PORT16_ENDPOINT   0x02

/* hoop_kafka_message_t.flags; BROKER_ENDPOINTS: one of its structs is a
 * HOOP_KAFKA_STRUCT_BROKER_ENDPOINT. */
#define HOOP_KAFKA_MESSAGE_LATEST_UNSTABLE  0x01   /* "latestVersionUnstable" */
#define HOOP_KAFKA_MESSAGE_BROKER_ENDPOINTS 0x02


/*
 * A version range, inclusive.  "N+" has hi = INT16_MAX; "none" is empty
 * (lo > hi).
 */
typedef struct {
    int16_t                      lo;
    int16_t                      hi;
} hoop_kafka_versions_t;

#define hoop_kafka_versions_has(r, v)  ((v) >= (r).lo && (v) <= (r).hi)


typedef struct hoop_kafka_struct_s  hoop_kafka_struct_t;

/*
 * One field of a struct, as in the JSON spec.  A field exists on the wire
 * in "versions"; it is one of the struct's tagged fields (carried in the
 * trailing tagged-field section, by tag number) in "taggedVersions"; it may
 * be null in "nullableVersions"; strings, bytes, records and arrays use the
 * compact encoding (unsigned varint length + 1) in "flexible", which is the
 * message's flexibleVersions unless the field overrides it.
 */
typedef struct {
    const char                  *name;         /* "TopicName" */
    const hoop_kafka_struct_t   *type_struct;  /* STRUCT or ARRAY of STRUCT */
    hoop_kafka_versions_t        versions;
    hoop_kafka_versions_t        nullable;
    hoop_kafka_versions_t        tagged;
    hoop_kafka_versions_t        flexible;
    int32_t                      tag;          /* -1 if never tagged */
    int64_t                      def;          /* "default" of ints, bool */
    uint8_t                      type;         /* hoop_kafka_type_e */
    uint8_t                      elem_type;    /* ARRAY: element type */
    uint8_t                      entity_type;  /* hoop_kafka_entity_e */
    uint8_t                      flags;        /* HOOP_KAFKA_FIELD_* */
} hoop_kafka_field_t;


struct hoop_kafka_struct_s {
    const char                  *name;         /* "MetadataResponseBroker" */
    const hoop_kafka_field_t    *fields;       /* in wire order */
    uint16_t                     nfields;
    uint16_t                     flags;        /* HOOP_KAFKA_STRUCT_* */
};


/*
 * One request or response.  root is a pseudo field of type STRUCT whose
 * type_struct holds the top-level fields, so the whole message walks like
 * any struct.  Requests and responses of one ApiKey share valid versions.
 */
typedef struct {
    const char                  *name;         /* "MetadataRequest" */
    const char                  *api_name;     /* "Metadata" */
    const hoop_kafka_field_t    *root;
    hoop_kafka_versions_t        valid;        /* "validVersions" */
    hoop_kafka_versions_t        flexible;     /* "flexibleVersions" */
    int16_t                      api_key;
    uint8_t                      is_response;
    uint8_t                      listeners;    /* HOOP_KAFKA_LISTENER_* */
    uint8_t                      flags;        /* HOOP_KAFKA_MESSAGE_* */
} hoop_kafka_message_t;


#endif /* HOOP_KAFKA_SCHEMA_H */
