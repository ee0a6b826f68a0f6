/*
 * Kafka request and response headers (RequestHeader.json,
 * ResponseHeader.json), the part of a frame before the message body.
 *
 *   frame:            int32 size, then size bytes: header, body
 *   request  v0:      int16 api_key, int16 api_version, int32 correlation_id
 *   request  v1:      v0, then client_id: nullable string, int16 length
 *   request  v2:      v1 (client_id keeps the int16 length so that any
 *                     broker can read an ApiVersions request), then a
 *                     tagged-field section
 *   response v0:      int32 correlation_id
 *   response v1:      v0, then a tagged-field section
 *
 * Requests use v2 in their flexible versions, else v1; only
 * ControlledShutdown v0 used v0.  Responses use v1 in flexible versions,
 * else v0; ApiVersions responses always use v0, so a client can read one
 * whatever version it asked for (KIP-511).  For the same reason a broker
 * answers an ApiVersions request newer than it knows with a v0 body
 * (ErrorCode UNSUPPORTED_VERSION and its ApiKeys): Kafka's clients decode
 * at the requested version and fall back to v0, and so must a proxy.
 *
 * Plain C99, no nginx.
 */

#ifndef HOOP_KAFKA_HEADER_H
#define HOOP_KAFKA_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "hoop_kafka_walker.h"


typedef struct {
    int16_t                      api_key;
    int16_t                      api_version;
    int32_t                      correlation_id;
    const uint8_t               *client_id;    /* NULL if null or v0 */
    size_t                       client_id_len;
    const uint8_t               *tagged;       /* v2: raw tagged section,
                                                  count included */
    size_t                       tagged_len;
    int                          version;      /* header version 0..2 */
    size_t                       len;          /* header bytes; the body
                                                  starts here */
} hoop_kafka_request_header_t;


typedef struct {
    int32_t                      correlation_id;
    const uint8_t               *tagged;       /* v1: raw tagged section */
    size_t                       tagged_len;
    int                          version;      /* header version 0..1 */
    size_t                       len;          /* header bytes */
} hoop_kafka_response_header_t;


/* Request header version (0, 1 or 2) of api_key at api_version, or -1 if
 * the ApiKey is unknown, or was removed and its flexible versions are no
 * longer known (LeaderAndIsr, StopReplica, UpdateMetadata,
 * ControlledShutdown v1+).  Versions above the maximum follow the open
 * "flexibleVersions" range, as Kafka does. */
int hoop_kafka_request_header_version(int16_t api_key, int16_t api_version);

/* Response header version (0 or 1) for a request of api_key at
 * api_version, or -1 as above. */
int hoop_kafka_response_header_version(int16_t api_key, int16_t api_version);

/*
 * Parses the request header at the start of buf[0..len), a frame without
 * its size prefix.  Fills *h (pointers into buf) and returns HOOP_KAFKA_OK;
 * or HOOP_KAFKA_ETRUNCATED / HOOP_KAFKA_EINVALID with *err set (err may be
 * NULL); or HOOP_KAFKA_EUNSUPPORTED when the header version of the ApiKey
 * is unknown (-1 above), in which case api_key, api_version and
 * correlation_id are filled in and h->len is 8.
 */
int hoop_kafka_request_header_parse(const uint8_t *buf, size_t len,
    hoop_kafka_request_header_t *h, hoop_kafka_err_t *err);

/*
 * Parses a response header of header_version (0 or 1, from
 * hoop_kafka_response_header_version() of the matching request) at the
 * start of buf[0..len).  Returns HOOP_KAFKA_OK or a negative
 * HOOP_KAFKA_E* with *err set (err may be NULL).
 */
int hoop_kafka_response_header_parse(const uint8_t *buf, size_t len,
    int header_version, hoop_kafka_response_header_t *h,
    hoop_kafka_err_t *err);

/* Bytes of a response header of header_version with no tagged fields:
 * 4 (v0) or 5 (v1). */
size_t hoop_kafka_response_header_size(int header_version);

/* Writes a response header with no tagged fields; returns its size. */
size_t hoop_kafka_response_header_encode(uint8_t *out, int header_version,
    int32_t correlation_id);

/* Bytes of the request header hoop_kafka_request_header_encode() writes,
 * or 0 if the header version of api_key/api_version is unknown. */
size_t hoop_kafka_request_header_size(int16_t api_key, int16_t api_version,
    size_t client_id_len);

/* Writes a request header (client_id NULL: null; no tagged fields) in the
 * header version of api_key/api_version; returns its size, 0 if unknown or
 * client_id_len > 32767. */
size_t hoop_kafka_request_header_encode(uint8_t *out, int16_t api_key,
    int16_t api_version, int32_t correlation_id, const uint8_t *client_id,
    size_t client_id_len);


#endif /* HOOP_KAFKA_HEADER_H */
