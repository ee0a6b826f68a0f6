/*
 * The session's view of the Kafka codec: what a request is and whether it
 * expects a response, and the response rewrites the gateway must do
 * (ApiVersions ranges, broker addresses).  Built on the generated tables
 * and the nginx-free walker in src/kafka/.
 */

#ifndef _HOOP_CODEC_H_INCLUDED_
#define _HOOP_CODEC_H_INCLUDED_


#include "hoop_session.h"
#include "../kafka/hoop_kafka_walker.h"


/* hoop_codec_request(): the client asked ApiVersions newer than we know */
#define HOOP_REQUEST_VERSIONS_FALLBACK  1


struct hoop_kafka_node_s;


typedef struct hoop_request_s {
    int16_t              api_key;
    int16_t              api_version;
    int32_t              correlation_id;
    const char          *api_name;       /* "Produce", ... or "unknown" */
    size_t               header_size;    /* request header, bytes */
    size_t               frame_size;     /* the whole frame, bytes */
    const u_char        *client_id;      /* header v1+, or NULL */
    size_t               client_id_len;
    unsigned             expects_response:1;
    const char          *error;          /* static text when not NGX_OK */
    ngx_pool_t          *pool;           /* of the tree; see _free() */
    struct hoop_kafka_node_s  *root;     /* the decoded body */
} hoop_request_t;


/*
 * body: a request frame without its int32 size, len bytes.  Parses the
 * request header (v0-v2) and checks the ApiKey and ApiVersion against the
 * generated tables; Produce with acks=0 expects no response.
 * Returns NGX_OK with req->root the decoded body (pointing into body),
 * HOOP_REQUEST_VERSIONS_FALLBACK, or NGX_ERROR with req->error set.
 * Release with hoop_codec_request_free() in every case.
 * Source: Kafka protocol guide, request header.
 */
ngx_int_t hoop_codec_request(u_char *body, size_t len, hoop_request_t *req);
void hoop_codec_request_free(hoop_request_t *req);

/*
 * A response the gateway writes itself: hoop_codec_answer_start() builds
 * the default tree of (api_key, version) in req's pool; set its fields,
 * then hoop_codec_answer() encodes header and body into a whole frame
 * from ngx_alloc().
 */
struct hoop_kafka_node_s *hoop_codec_answer_start(hoop_request_t *req);
ngx_int_t hoop_codec_answer(hoop_request_t *req, struct hoop_kafka_node_s *root,
    u_char **frame, size_t *size);
/*
 * Encodes a changed tree after header_len bytes copied from frame (size
 * prefix and header) into a new ngx_alloc() frame; *out, *out_size.
 */
ngx_int_t hoop_codec_reencode(struct hoop_kafka_node_s *root, u_char *frame,
    size_t header_len, u_char **out, size_t *out_size);

/* a walker arena on an nginx pool */
void hoop_codec_allocator(ngx_pool_t *pool, hoop_kafka_alloc_t *a);

/* appends a default element to an array of an answer being built */
struct hoop_kafka_node_s *hoop_codec_answer_append(hoop_request_t *req,
    struct hoop_kafka_node_s *array);

/*
 * Queues a local answer (a whole frame from ngx_alloc(), owned from here
 * on) in request order; req NULL for raw SASL tokens.  close_after: the
 * connection closes once it is sent, and later requests are dropped.
 */
ngx_int_t hoop_request_answer(hoop_session_t *hs, hoop_request_t *req,
    u_char *answer, size_t size, ngx_uint_t close_after);

/*
 * An ApiVersions response v0 (KIP-511 fallback): error UNSUPPORTED_VERSION
 * (35) and the gateway's ApiVersions range, as a whole frame from
 * ngx_alloc().
 */
ngx_int_t hoop_codec_versions_fallback(int32_t correlation_id,
    u_char **frame, size_t *size);

/*
 * *frame: a whole response frame (size prefix included) to the request
 * (api_key, api_version).  Rewrites ApiVersions ranges and every broker
 * address.  On NGX_OK *frame is either unchanged or a new ngx_alloc()
 * frame (the caller frees the old one); on NGX_ERROR (logged) *frame is
 * unchanged.
 */
ngx_int_t hoop_codec_response(hoop_session_t *hs, int16_t api_key,
    int16_t api_version, u_char **frame, size_t *size);


#endif /* _HOOP_CODEC_H_INCLUDED_ */
