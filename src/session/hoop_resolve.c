/*
 * Topic ids on the data path: the worker's map, learning from broker
 * answers, and the gateway's own Metadata request when a client names an
 * id the map does not know (see hoop_resolve.h).  The own request travels
 * like the gateway's SASL exchange (src/auth/hoop_upstream.c): queued
 * toward the broker behind what was forwarded, its answer kept here; an
 * in-flight slot marked own keeps it in the broker's answer order.
 */

#include "hoop_resolve.h"
#include "../auth/hoop_auth.h"
#include "../kafka/hoop_kafka_header.h"


#define HOOP_RESOLVE_CLIENT_ID   "hoop-gateway"

/* Metadata v10 is the first with topic ids (Kafka 2.8); v12 the last
 * with the same request (v13 only adds a top-level error to the answer,
 * which is read too). */
#define HOOP_RESOLVE_METADATA_MIN   10
#define HOOP_RESOLVE_METADATA_MAX   12


static ngx_int_t hoop_resolve_ask(hoop_session_t *hs, int16_t version);
static void hoop_resolve_append(hoop_session_t *hs, hoop_out_t *o);
static void hoop_resolve_wake(hoop_session_t *hs);
static void hoop_resolve_free_map(void *data);


hoop_topic_ids_t *
hoop_resolve_map(hoop_session_t *hs)
{
    hoop_srv_conf_t     *conf;
    ngx_pool_cleanup_t  *cln;

    conf = hs->conf;

    if (conf->topic_ids || conf->topic_ids_failed) {
        return conf->topic_ids;
    }

    /* after fork: each worker fills its own; freed with the cycle */
    cln = ngx_pool_cleanup_add(ngx_cycle->pool, 0);
    if (cln != NULL) {
        conf->topic_ids = hoop_topic_ids_create(HOOP_TOPIC_IDS_DEFAULT_MAX);
    }

    if (cln == NULL || conf->topic_ids == NULL) {
        ngx_log_error(NGX_LOG_ALERT, hs->session->connection->log, 0,
                      "hoop: no memory for the topic id map: topic ids "
                      "are answered UNKNOWN_TOPIC_ID");
        conf->topic_ids_failed = 1;

        if (cln) {
            cln->handler = NULL;
        }

        return NULL;
    }

    cln->handler = hoop_resolve_free_map;
    cln->data = conf;

    return conf->topic_ids;
}


static void
hoop_resolve_free_map(void *data)
{
    hoop_srv_conf_t *conf = data;

    hoop_topic_ids_free(conf->topic_ids);
    conf->topic_ids = NULL;
}


/* The requests that may name topics by id (KIP-516). */

static ngx_uint_t
hoop_resolve_names_ids(int16_t api_key, int16_t version)
{
    switch (api_key) {

    case HOOP_KAFKA_API_PRODUCE:
    case HOOP_KAFKA_API_FETCH:
        return version >= 13;

    case HOOP_KAFKA_API_OFFSET_COMMIT:
    case HOOP_KAFKA_API_OFFSET_FETCH:
        return version >= 10;

    case HOOP_KAFKA_API_DELETE_TOPICS:
        return version >= 6;

    case HOOP_KAFKA_API_METADATA:
        return version >= 10;
    }

    return 0;
}


ngx_uint_t
hoop_resolve_teaches(int16_t api_key, int16_t version)
{
    switch (api_key) {

    case HOOP_KAFKA_API_METADATA:
        return version >= 10;

    case HOOP_KAFKA_API_CREATE_TOPICS:
        return version >= 7;

    case HOOP_KAFKA_API_DELETE_TOPICS:
        return version >= 6;

    case HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS:
        return 1;
    }

    return 0;
}


ngx_int_t
hoop_resolve_request(hoop_session_t *hs, hoop_request_t *req, u_char *frame,
    size_t size)
{
    size_t             n;
    int16_t            version, min, max;
    hoop_out_t        *o;
    hoop_topic_ids_t  *map;

    if (hs->ids_state != HOOP_IDS_NONE
        || !hoop_resolve_names_ids(req->api_key, req->api_version))
    {
        /* while held requests are taken again, what is unknown now is
         * unknown to the broker too: the planner answers it */
        return NGX_OK;
    }

    map = hoop_resolve_map(hs);
    if (map == NULL) {
        return NGX_OK;
    }

    n = hoop_topic_ids_unknown(map, req->root);
    if (n == 0) {
        return NGX_OK;
    }

    /* a Metadata version the broker serves (from its ApiVersions answer,
     * when the client asked for one) that carries topic ids */
    version = HOOP_RESOLVE_METADATA_MIN;

    if (hs->metadata_max >= 0) {
        version = ngx_min(hs->metadata_max, HOOP_RESOLVE_METADATA_MAX);
    }

    if (hoop_kafka_api_versions(HOOP_KAFKA_API_METADATA, &min, &max) != 0
        || version < HOOP_RESOLVE_METADATA_MIN || version < min
        || version > max)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, hs->session->connection->log, 0,
                  "hoop: %s v%d correlation id %D names %uz unknown topic "
                  "id%s: asking the broker (Metadata v%d)", req->api_name,
                  (int) req->api_version, req->correlation_id, n,
                  n == 1 ? "" : "s", (int) version);

    /* on an error the caller still owns the frame */
    o = hoop_out_wrap(frame, size);
    if (o == NULL) {
        return NGX_ERROR;
    }

    if (hoop_resolve_ask(hs, version) != NGX_OK) {
        o->data = NULL;
        hoop_out_free(o);
        return NGX_ERROR;
    }

    hs->ids_state = HOOP_IDS_ASKING;
    hoop_resolve_append(hs, o);

    return NGX_DONE;
}


/*
 * The gateway's own MetadataRequest for all topics (Topics null, no
 * auto-creation, no authorized operations), toward the broker behind
 * everything already forwarded, with a slot of its own.
 */

static ngx_int_t
hoop_resolve_ask(hoop_session_t *hs, int16_t version)
{
    u_char              *frame, *p;
    size_t               hlen, blen, size;
    ngx_int_t            rc;
    ngx_pool_t          *pool;
    hoop_out_t          *o;
    hoop_slot_t         *slot;
    ngx_connection_t    *c;
    hoop_kafka_node_t   *root, *topics;
    hoop_kafka_alloc_t   a;

    c = hs->session->connection;

    pool = ngx_create_pool(1024, c->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    hoop_codec_allocator(pool, &a);

    if (hoop_kafka_build(&a, HOOP_KAFKA_API_METADATA, version, 0, &root)
        != HOOP_KAFKA_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    topics = hoop_kafka_node_child(root, "Topics");

    if (topics == NULL || !(topics->flags & HOOP_KAFKA_NODE_NULLABLE)) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    topics->flags |= HOOP_KAFKA_NODE_NULL;          /* all topics */

    (void) hoop_kafka_node_set_int(
               hoop_kafka_node_child(root, "AllowAutoTopicCreation"), 0);

    hs->ids_correlation++;

    hlen = hoop_kafka_request_header_size(HOOP_KAFKA_API_METADATA, version,
                                          sizeof(HOOP_RESOLVE_CLIENT_ID) - 1);
    blen = hoop_kafka_encoded_size(root);
    size = 4 + hlen + blen;

    frame = ngx_alloc(size, c->log);
    if (frame == NULL || hlen == 0) {
        if (frame) {
            ngx_free(frame);
        }

        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    p = frame;
    *p++ = (u_char) ((size - 4) >> 24);
    *p++ = (u_char) ((size - 4) >> 16);
    *p++ = (u_char) ((size - 4) >> 8);
    *p++ = (u_char) (size - 4);

    p += hoop_kafka_request_header_encode(p, HOOP_KAFKA_API_METADATA, version,
                                          hs->ids_correlation,
                                          (const uint8_t *)
                                              HOOP_RESOLVE_CLIENT_ID,
                                          sizeof(HOOP_RESOLVE_CLIENT_ID) - 1);

    if (hoop_kafka_encode(root, p) != blen) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "hoop: encoder wrote an unexpected size");
        ngx_free(frame);
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ngx_destroy_pool(pool);

    slot = hoop_slot_push(hs, hs->ids_correlation, HOOP_KAFKA_API_METADATA,
                          version, 0);
    o = hoop_out_wrap(frame, size);

    if (slot == NULL || o == NULL) {
        ngx_free(frame);
        return NGX_ERROR;
    }

    slot->own = 1;

    if (hs->conf->upstream_sasl) {
        /* counted as in flight: a re-authentication waits for it */
        rc = hoop_upstream_forward(hs, o, 1);

    } else {
        hoop_out_queue(hs, HOOP_DIR_REQUEST, o);
        rc = NGX_OK;
    }

    hoop_resolve_wake(hs);

    return rc;
}


ngx_int_t
hoop_resolve_hold(hoop_session_t *hs, u_char *frame, size_t size)
{
    hoop_out_t  *o;

    o = hoop_out_wrap(frame, size);
    if (o == NULL) {
        ngx_free(frame);
        return NGX_ERROR;
    }

    hoop_resolve_append(hs, o);

    return NGX_OK;
}


static void
hoop_resolve_append(hoop_session_t *hs, hoop_out_t *o)
{
    o->next = NULL;
    *hs->ids_held_last = o;
    hs->ids_held_last = &o->next;
    hs->ids_held_bytes += o->buf.last - o->buf.start;
}


ngx_int_t
hoop_resolve_response(hoop_session_t *hs, u_char *frame, size_t size)
{
    int                            hv, rc, n;
    u_char                        *data;
    size_t                         len;
    ngx_int_t                      ret;
    hoop_out_t                    *o;
    ngx_pool_t                    *pool;
    hoop_slot_t                   *slot;
    ngx_connection_t              *c;
    hoop_kafka_err_t               err;
    hoop_topic_ids_t              *map;
    hoop_kafka_node_t             *root;
    hoop_kafka_alloc_t             a;
    hoop_kafka_response_header_t   h;

    c = hs->session->connection;
    slot = hs->inflight;

    hv = hoop_kafka_response_header_version(slot->api_key, slot->api_version);

    if (hoop_kafka_response_header_parse(frame + 4, size - 4, hv, &h, &err)
        != HOOP_KAFKA_OK
        || h.correlation_id != slot->correlation_id)
    {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: unexpected broker answer "
                      "to the gateway's own Metadata request");
        ngx_free(frame);
        return NGX_ERROR;
    }

    pool = ngx_create_pool(4096, c->log);
    if (pool == NULL) {
        ngx_free(frame);
        return NGX_ERROR;
    }

    hoop_codec_allocator(pool, &a);

    rc = hoop_kafka_decode(&a, slot->api_key, slot->api_version, 1,
                           frame + 4 + h.len, size - 4 - h.len, &root, &err);
    if (rc != HOOP_KAFKA_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: bad answer from broker to "
                      "the gateway's own Metadata request: %s", err.msg);
        ngx_destroy_pool(pool);
        ngx_free(frame);
        return NGX_ERROR;
    }

    map = hoop_resolve_map(hs);
    n = hoop_topic_ids_learn_response(map, slot->api_key, root);

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "hoop: broker answered the gateway's Metadata request: "
                  "%d topic ids learned, %uz known", n,
                  hoop_topic_ids_count(map));

    ngx_destroy_pool(pool);
    ngx_free(frame);

    hoop_slot_pop(hs);

    hs->ids_state = HOOP_IDS_DRAINING;

    if (hs->conf->upstream_sasl && hoop_upstream_answered(hs) != NGX_OK) {
        return NGX_ERROR;
    }

    hoop_slot_release_local(hs);

    /* the held requests, in order, with what is known now */
    ret = NGX_OK;

    while (hs->ids_held) {
        o = hs->ids_held;
        hs->ids_held = o->next;

        if (hs->ids_held == NULL) {
            hs->ids_held_last = &hs->ids_held;
        }

        data = o->data;
        len = o->buf.last - o->buf.start;
        hs->ids_held_bytes -= len;
        o->data = NULL;
        hoop_out_free(o);

        if (hs->error || ret != NGX_OK) {
            ngx_free(data);
            continue;
        }

        ret = hoop_request_frame(hs, data, len);
    }

    hs->ids_state = HOOP_IDS_NONE;

    hoop_resolve_wake(hs);

    return ret;
}


void
hoop_resolve_learn(hoop_session_t *hs, int16_t api_key,
    hoop_kafka_node_t *root)
{
    int                n;
    hoop_topic_ids_t  *map;

    map = hoop_resolve_map(hs);
    if (map == NULL) {
        return;
    }

    n = hoop_topic_ids_learn_response(map, api_key, root);

    if (n != 0) {
        ngx_log_debug3(NGX_LOG_DEBUG_STREAM, hs->session->connection->log, 0,
                       "hoop: %s answer: %d topic ids learned or forgotten, "
                       "%uz known", hoop_kafka_api_name(api_key), n,
                       hoop_topic_ids_count(map));
    }
}


void
hoop_resolve_learn_frame(hoop_session_t *hs, int16_t api_key,
    int16_t version, u_char *frame, size_t size)
{
    ngx_pool_t                    *pool;
    hoop_kafka_node_t             *root;
    hoop_kafka_alloc_t             a;
    hoop_kafka_response_header_t   h;

    if (hoop_kafka_response_header_parse(frame + 4, size - 4,
            hoop_kafka_response_header_version(api_key, version), &h, NULL)
        != HOOP_KAFKA_OK)
    {
        return;
    }

    pool = ngx_create_pool(4096, hs->session->connection->log);
    if (pool == NULL) {
        return;
    }

    hoop_codec_allocator(pool, &a);

    if (hoop_kafka_decode(&a, api_key, version, 1, frame + 4 + h.len,
                          size - 4 - h.len, &root, NULL)
        == HOOP_KAFKA_OK)
    {
        hoop_resolve_learn(hs, api_key, root);
    }

    ngx_destroy_pool(pool);
}


/* Requests were queued toward the broker outside its write event. */

static void
hoop_resolve_wake(hoop_session_t *hs)
{
    ngx_connection_t  *pc;

    pc = hs->session->upstream ? hs->session->upstream->peer.connection
                               : NULL;

    if (pc) {
        pc->buffered |= HOOP_BUFFERED;
        ngx_post_event(pc->write, &ngx_posted_events);
    }
}


void
hoop_resolve_cleanup(hoop_session_t *hs)
{
    hoop_out_t  *o;

    while (hs->ids_held) {
        o = hs->ids_held;
        hs->ids_held = o->next;
        hoop_out_free(o);
    }

    hs->ids_held_last = &hs->ids_held;
    hs->ids_held_bytes = 0;
}
