/*
 * One generic decoder and encoder for every Kafka request and response
 * body, driven by the generated tables (hoop_kafka_schema.h,
 * generated/hoop_kafka_messages.c).
 *
 * A body (the bytes after the request or response header) decodes into a
 * tree of nodes, one per field present on the wire in that version; the
 * tree encodes back to the identical bytes.  Fields can be changed in place
 * (hoop_kafka_node_set_*) and the tree re-encoded with new lengths.
 *
 * Memory: nodes come from a caller-supplied arena and are never freed one
 * by one; strings, bytes, uuids and records are not copied, they point
 * into the decoded body, which must stay alive and unchanged until the last
 * encode.  Decoding allocates one node (40 bytes on LP64) per field or
 * element decoded, and refuses an array count larger than the bytes left
 * (every element takes one byte at least), so memory is linear in the
 * body's length whatever its counts claim.
 *
 * Strictness: the decoder accepts exactly the encodings Kafka itself writes
 * (minimal varints, null only where the version allows it, -1/1 presence
 * bytes, known tagged fields that fill their declared size, no trailing
 * bytes).  Anything else is an error, so decode-then-encode is the identity
 * on every accepted body, and the gateway refuses what Kafka might read
 * differently from it (e.g. a tagged field longer than its value).
 *
 * Plain C99, no nginx.
 */

#ifndef HOOP_KAFKA_WALKER_H
#define HOOP_KAFKA_WALKER_H

#include <stddef.h>
#include <stdint.h>

#include "hoop_kafka_schema.h"
#include "generated/hoop_kafka_messages.h"


/* Return codes (negative on error). */
#define HOOP_KAFKA_OK            0
#define HOOP_KAFKA_ETRUNCATED   -1  /* a length or count runs past the end */
#define HOOP_KAFKA_EINVALID     -2  /* an encoding Kafka would not write */
#define HOOP_KAFKA_ENOMEM       -3  /* the arena returned NULL */
#define HOOP_KAFKA_EUNSUPPORTED -4  /* unknown ApiKey or version */


/* The arena: alloc(ctx, n) returns n bytes aligned for any type, or NULL.
 * The module wraps ngx_palloc(); tests use malloc. */
typedef struct {
    void                      *(*alloc)(void *ctx, size_t n);
    void                        *ctx;
} hoop_kafka_alloc_t;


/* Where and why decoding failed; msg and field are static strings. */
typedef struct {
    size_t                       offset;   /* bytes into the body */
    const char                  *msg;      /* "string length exceeds frame" */
    const char                  *field;    /* field name, or NULL */
} hoop_kafka_err_t;


/* hoop_kafka_node_t.flags */
#define HOOP_KAFKA_NODE_NULL      0x01  /* null string/bytes/records/array/
                                           struct */
#define HOOP_KAFKA_NODE_NULLABLE  0x02  /* may be null in this version; a
                                           struct then has a presence byte */
#define HOOP_KAFKA_NODE_COMPACT   0x04  /* varint length (flexible version) */
#define HOOP_KAFKA_NODE_FLEXIBLE  0x08  /* struct: has a tagged section */
#define HOOP_KAFKA_NODE_TAGGED    0x10  /* sits in its struct's tagged
                                           section */
#define HOOP_KAFKA_NODE_ELEMENT   0x20  /* an array element; field is the
                                           array's */

typedef struct hoop_kafka_node_s  hoop_kafka_node_t;

/*
 * A decoded field.  Read it with the accessors below; the layout is public
 * only so that walking stays cheap.
 *
 * field: the field descriptor; for array elements the array's field (so
 * an element of a "[]string" topicName array carries that entityType); for
 * the root the message's pseudo root field; NULL for TAGGED_RAW.
 * Children of a struct are in wire order: fields of the version, then the
 * tagged section in the order received (known and unknown tags mixed).
 */
struct hoop_kafka_node_s {
    const hoop_kafka_field_t    *field;
    hoop_kafka_node_t           *next;     /* next sibling */
    union {
        int64_t                  i;        /* bool (raw byte), ints */
        uint64_t                 bits;     /* float64, IEEE 754 bits */
        struct {
            const uint8_t       *data;
            size_t               len;
        }                        bytes;    /* string, bytes, records, uuid
                                              (16), TAGGED_RAW value */
        struct {
            hoop_kafka_node_t   *first;
            size_t               count;
        }                        list;     /* struct children, elements */
    } u;
    uint32_t                     tag;      /* TAGGED_RAW: the tag */
    uint8_t                      type;     /* hoop_kafka_type_e */
    uint8_t                      flags;    /* HOOP_KAFKA_NODE_* */
    int16_t                      version;  /* of the message */
};


/*
 * Tables
 */

/* The request (is_response 0) or response message of api_key, or NULL. */
const hoop_kafka_message_t *hoop_kafka_message(int16_t api_key,
    int is_response);

/* 1 if this Kafka release defines api_key at version, else 0. */
int hoop_kafka_message_supported(int16_t api_key, int16_t version,
    int is_response);

/* Min and max valid versions of api_key: 0, or -1 if unknown or removed
 * (e.g. LeaderAndIsr, whose "validVersions" is "none" since Kafka 4.0). */
int hoop_kafka_api_versions(int16_t api_key, int16_t *min, int16_t *max);

/* "Metadata" for 3, or NULL if unknown. */
const char *hoop_kafka_api_name(int16_t api_key);

/* 1 if version is a flexible version of api_key (compact encodings,
 * tagged fields, header v2/v1), 0 if not, -1 if api_key is unknown.  Like
 * Kafka, uses "flexibleVersions" only, so it answers for versions above
 * the maximum too (ApiVersions requests from newer clients). */
int hoop_kafka_version_is_flexible(int16_t api_key, int16_t version,
    int is_response);


/*
 * Decode and encode
 */

/*
 * Decodes the body (the bytes after the header) of a request or response
 * of api_key at version into a tree rooted at *root.
 * Returns HOOP_KAFKA_OK, or a negative HOOP_KAFKA_E* with *err filled in
 * (err may be NULL).  Never reads outside body[0..len).  The tree points
 * into body.  Spec: the JSON file of the message; encodings per the Kafka
 * protocol guide (https://kafka.apache.org/protocol) and KIP-482 (tagged
 * fields, compact types).
 */
int hoop_kafka_decode(const hoop_kafka_alloc_t *a, int16_t api_key,
    int16_t version, int is_response, const uint8_t *body, size_t len,
    hoop_kafka_node_t **root, hoop_kafka_err_t *err);

/*
 * As hoop_kafka_decode(), but the message may end before len: *used is the
 * number of bytes it took.  Kafka's broker reads a request's fields and
 * ignores what follows them (RequestContext.parseRequest() has no check),
 * and some clients send extra bytes: librdkafka 2.0.2 ends ListGroups v4
 * with one zero byte too many and OffsetFetch v7 with three.  Requests are
 * decoded with this; responses and everything else with the strict form.
 */
int hoop_kafka_decode_prefix(const hoop_kafka_alloc_t *a, int16_t api_key,
    int16_t version, int is_response, const uint8_t *body, size_t len,
    hoop_kafka_node_t **root, size_t *used, hoop_kafka_err_t *err);

/* The number of bytes hoop_kafka_encode() writes for node and its
 * descendants (any node, usually the root). */
size_t hoop_kafka_encoded_size(const hoop_kafka_node_t *node);

/* Writes node's encoding to out, which has room for
 * hoop_kafka_encoded_size(node) bytes; returns the bytes written. */
size_t hoop_kafka_encode(const hoop_kafka_node_t *node, uint8_t *out);

/*
 * Builds the tree Kafka's Java client would write for a message with every
 * field left at its default: "default" values, empty or (default "null")
 * null strings, arrays and structs, zero uuids, no tagged fields.  For
 * answers the gateway writes itself (fill in with the setters below).
 * Returns HOOP_KAFKA_OK, HOOP_KAFKA_EUNSUPPORTED or HOOP_KAFKA_ENOMEM.
 */
int hoop_kafka_build(const hoop_kafka_alloc_t *a, int16_t api_key,
    int16_t version, int is_response, hoop_kafka_node_t **root);

/* Appends a default element (as hoop_kafka_build()) to an array node and
 * returns it; a null array becomes a one element array.  NULL on ENOMEM or
 * if node is not an array. */
hoop_kafka_node_t *hoop_kafka_array_append(const hoop_kafka_alloc_t *a,
    hoop_kafka_node_t *array);


/*
 * Reading the tree
 */

/* First child of a struct or first element of an array; NULL if none. */
hoop_kafka_node_t *hoop_kafka_node_first(const hoop_kafka_node_t *node);

/* Next sibling, NULL after the last. */
hoop_kafka_node_t *hoop_kafka_node_next(const hoop_kafka_node_t *node);

/* The child of a struct node named name (as in the JSON spec, e.g.
 * "Host"); NULL if the field is absent in this version, or is tagged and
 * was not sent. */
hoop_kafka_node_t *hoop_kafka_node_child(const hoop_kafka_node_t *node,
    const char *name);

/* Number of elements of an array, children of a struct, else 0. */
size_t hoop_kafka_node_count(const hoop_kafka_node_t *node);

/* The field name, "" for an unknown tagged field. */
const char *hoop_kafka_node_name(const hoop_kafka_node_t *node);

/* The struct type of a struct node (root, struct field or element), or
 * NULL. */
const hoop_kafka_struct_t *hoop_kafka_node_struct(
    const hoop_kafka_node_t *node);

int hoop_kafka_node_is_null(const hoop_kafka_node_t *node);

/* Value of a bool, int8..int64, uint16 or uint32 node; 0 for others. */
int64_t hoop_kafka_node_int(const hoop_kafka_node_t *node);

/* Value of a float64 node; 0.0 for others. */
double hoop_kafka_node_float(const hoop_kafka_node_t *node);

/* Data and length (bytes) of a string, bytes, records, uuid (16 bytes) or
 * unknown tagged node; NULL with *len 0 if null or of another type. */
const uint8_t *hoop_kafka_node_bytes(const hoop_kafka_node_t *node,
    size_t *len);


/*
 * Changing the tree (then re-encode; sizes are recomputed)
 */

/* Sets a string or bytes node to data[0..len), which must outlive the
 * encode; data NULL sets null.  Returns 0, or -1 if node has another type,
 * null is not allowed in this version, or len exceeds what the encoding
 * holds (strings: 32767 bytes, as Kafka). */
int hoop_kafka_node_set_string(hoop_kafka_node_t *node, const uint8_t *data,
    size_t len);

/* Sets a bool or integer node.  Returns 0, or -1 if node is not an integer
 * or v does not fit its type (e.g. a Port of 70000 into a uint16). */
int hoop_kafka_node_set_int(hoop_kafka_node_t *node, int64_t v);


/*
 * Unsigned varints (lengths, counts, tags in flexible versions)
 */

/* Reads an unsigned varint of at most 32 bits from p[0..len), minimally
 * encoded as Kafka writes it.  Returns the bytes read (1..5), 0 if len
 * ends first, -1 if padded or longer than 32 bits. */
int hoop_kafka_uvarint_decode(const uint8_t *p, size_t len, uint32_t *v);

/* Bytes hoop_kafka_uvarint_encode() writes for v (1..10). */
size_t hoop_kafka_uvarint_size(uint64_t v);

/* Writes v as an unsigned varint; returns the end of what it wrote. */
uint8_t *hoop_kafka_uvarint_encode(uint8_t *p, uint64_t v);


/*
 * Visiting every node
 */

#define HOOP_KAFKA_WALK_CONTINUE  0
#define HOOP_KAFKA_WALK_SKIP      1    /* do not descend into this node */

/* Called for every node, parents before children; field is node->field
 * (NULL for an unknown tagged field), parent is NULL for the root.
 * Returns HOOP_KAFKA_WALK_CONTINUE, HOOP_KAFKA_WALK_SKIP, or a negative
 * value to stop the walk. */
typedef int (*hoop_kafka_walk_pt)(hoop_kafka_node_t *node,
    const hoop_kafka_field_t *field, hoop_kafka_node_t *parent, void *ctx);

/* Calls cb for root and every descendant in wire order.  Returns 0, or
 * the negative value cb stopped with. */
int hoop_kafka_walk(hoop_kafka_node_t *root, hoop_kafka_walk_pt cb,
    void *ctx);


#endif /* HOOP_KAFKA_WALKER_H */
