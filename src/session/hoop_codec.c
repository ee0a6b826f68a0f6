/*
 * The session's use of the Kafka codec: request checks, the ApiVersions
 * rewrite and fallback, and broker address rewriting in responses.
 */

#include "hoop_codec.h"
#include "kafka/hoop_kafka_walker.h"
#include "kafka/hoop_kafka_header.h"
#include "kafka/hoop_kafka_authz.h"


#define HOOP_UNSUPPORTED_VERSION  35    /* Kafka error code */


typedef struct {
    hoop_session_t      *hs;
    ngx_uint_t           changed;
    ngx_int_t            missing_node;   /* -1 or the unmapped node id */
} hoop_address_ctx_t;


static void *hoop_codec_palloc(void *pool, size_t n);
static ngx_int_t hoop_codec_api_versions(hoop_session_t *hs,
    hoop_kafka_node_t *root, ngx_uint_t *changed);
static int hoop_codec_address(hoop_kafka_node_t *node,
    const hoop_kafka_field_t *field, hoop_kafka_node_t *parent, void *data);


/*
 * The ApiKeys the gateway lets through: those a broker listener serves,
 * minus DescribeQuorum, whose response lists controller endpoints that no
 * hoop_broker_address covers (so it could reveal them).
 */

static ngx_uint_t
hoop_codec_api_handled(int16_t api_key)
{
    const hoop_kafka_message_t  *m;

    if (api_key == HOOP_KAFKA_API_DESCRIBE_QUORUM) {
        return 0;
    }

    m = hoop_kafka_message(api_key, 0);

    return m != NULL && m->valid.lo <= m->valid.hi
           && (m->listeners & HOOP_KAFKA_LISTENER_BROKER);
}


static ngx_inline int16_t
hoop_be16(const u_char *p)
{
    return (int16_t) (((uint16_t) p[0] << 8) | p[1]);
}


static ngx_inline int32_t
hoop_be32(const u_char *p)
{
    return (int32_t) (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
                      | ((uint32_t) p[2] << 8) | (uint32_t) p[3]);
}


static void *
hoop_codec_palloc(void *pool, size_t n)
{
    return ngx_palloc(pool, n);
}


ngx_int_t
hoop_codec_request(u_char *body, size_t len, hoop_request_t *req)
{
    size_t                        used;
    int16_t                       min, max;
    ngx_int_t                     rc;
    ngx_pool_t                   *pool;
    hoop_kafka_err_t              err;
    hoop_kafka_node_t            *root, *acks;
    hoop_kafka_alloc_t            alloc;
    hoop_kafka_request_header_t   h;

    ngx_memzero(req, sizeof(hoop_request_t));

    req->api_key = hoop_be16(body);
    req->api_version = hoop_be16(body + 2);
    req->correlation_id = hoop_be32(body + 4);
    req->api_name = hoop_kafka_api_name(req->api_key);
    req->expects_response = 1;
    req->frame_size = 4 + len;

    if (req->api_name == NULL) {
        req->api_name = "unknown";
        req->error = "unknown ApiKey";
        return NGX_ERROR;
    }

    if (!hoop_codec_api_handled(req->api_key)) {
        req->error = "ApiKey not served by the gateway";
        return NGX_ERROR;
    }

    (void) hoop_kafka_api_versions(req->api_key, &min, &max);

    if (req->api_version < min || req->api_version > max) {
        if (req->api_key == HOOP_KAFKA_API_API_VERSIONS
            && req->api_version > max)
        {
            return HOOP_REQUEST_VERSIONS_FALLBACK;
        }

        req->error = "ApiVersion outside the range the gateway decodes";
        return NGX_ERROR;
    }

    if (hoop_kafka_request_header_parse(body, len, &h, &err)
        != HOOP_KAFKA_OK)
    {
        req->error = err.msg;
        return NGX_ERROR;
    }

    req->header_size = h.len;
    req->client_id = h.client_id;
    req->client_id_len = h.client_id_len;

    /* decode the whole body: nothing the broker could read otherwise */

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        req->error = "out of memory";
        return NGX_ERROR;
    }

    req->pool = pool;

    alloc.alloc = hoop_codec_palloc;
    alloc.ctx = pool;

    /* bytes after the message are ignored, as Kafka's broker does
     * (librdkafka 2.0.2 sends some); the broker reads what was decoded */
    rc = hoop_kafka_decode_prefix(&alloc, req->api_key, req->api_version, 0,
                                  body + h.len, len - h.len, &root, &used,
                                  &err);

    if (rc != HOOP_KAFKA_OK) {
        req->error = err.msg;
        return NGX_ERROR;
    }

    req->root = root;

    if (req->api_key == HOOP_KAFKA_API_PRODUCE) {
        acks = hoop_kafka_node_child(root, "Acks");

        if (acks && hoop_kafka_node_int(acks) == 0) {
            req->expects_response = 0;
        }
    }

    return NGX_OK;
}


void
hoop_codec_request_free(hoop_request_t *req)
{
    if (req->pool) {
        ngx_destroy_pool(req->pool);
        req->pool = NULL;
        req->root = NULL;
    }
}


hoop_kafka_node_t *
hoop_codec_answer_start(hoop_request_t *req)
{
    hoop_kafka_node_t   *root;
    hoop_kafka_alloc_t   alloc;

    if (req->pool == NULL) {
        req->pool = ngx_create_pool(4096, ngx_cycle->log);
        if (req->pool == NULL) {
            return NULL;
        }
    }

    alloc.alloc = hoop_codec_palloc;
    alloc.ctx = req->pool;

    if (hoop_kafka_build(&alloc, req->api_key, req->api_version, 1, &root)
        != HOOP_KAFKA_OK)
    {
        return NULL;
    }

    return root;
}


void
hoop_codec_allocator(ngx_pool_t *pool, hoop_kafka_alloc_t *a)
{
    a->alloc = hoop_codec_palloc;
    a->ctx = pool;
}


hoop_kafka_node_t *
hoop_codec_answer_append(hoop_request_t *req, hoop_kafka_node_t *array)
{
    hoop_kafka_alloc_t  alloc;

    alloc.alloc = hoop_codec_palloc;
    alloc.ctx = req->pool;

    return hoop_kafka_array_append(&alloc, array);
}


ngx_int_t
hoop_codec_answer(hoop_request_t *req, hoop_kafka_node_t *root,
    u_char **frame, size_t *size)
{
    int      hv;
    u_char   hdr[16];
    size_t   hlen;

    hv = hoop_kafka_response_header_version(req->api_key, req->api_version);
    hlen = hoop_kafka_response_header_encode(hdr + 4, hv,
                                             req->correlation_id);

    return hoop_codec_reencode(root, hdr, 4 + hlen, frame, size);
}


ngx_int_t
hoop_codec_versions_fallback(int32_t correlation_id, u_char **frame,
    size_t *size)
{
    u_char   *p;
    int16_t   min, max;

    (void) hoop_kafka_api_versions(HOOP_KAFKA_API_API_VERSIONS, &min, &max);

    /*
     * ApiVersionsResponse v0 after a v0 response header: correlation_id,
     * ErrorCode, ApiKeys [ApiKey, MinVersion, MaxVersion].
     */

    *size = 4 + 4 + 2 + 4 + 6;

    p = ngx_alloc(*size, ngx_cycle->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    *frame = p;

    p = ngx_cpymem(p, "\0\0\0\x10", 4);
    *p++ = (u_char) (correlation_id >> 24);
    *p++ = (u_char) (correlation_id >> 16);
    *p++ = (u_char) (correlation_id >> 8);
    *p++ = (u_char) correlation_id;
    *p++ = 0;
    *p++ = HOOP_UNSUPPORTED_VERSION;
    p = ngx_cpymem(p, "\0\0\0\x01", 4);
    *p++ = 0;
    *p++ = HOOP_KAFKA_API_API_VERSIONS;
    *p++ = (u_char) (min >> 8);
    *p++ = (u_char) min;
    *p++ = (u_char) (max >> 8);
    *p++ = (u_char) max;

    return NGX_OK;
}


ngx_int_t
hoop_codec_response(hoop_session_t *hs, int16_t api_key,
    int16_t api_version, u_char **frame, size_t *size)
{
    int                            hv, rc;
    u_char                        *body;
    size_t                         len;
    ngx_int_t                      ret;
    ngx_uint_t                     changed;
    ngx_pool_t                    *pool;
    ngx_connection_t              *c;
    hoop_kafka_err_t               err;
    hoop_kafka_node_t             *root;
    hoop_kafka_alloc_t             alloc;
    hoop_address_ctx_t             actx;
    const hoop_kafka_message_t    *m;
    hoop_kafka_response_header_t   h;

    c = hs->session->connection;
    m = hoop_kafka_message(api_key, 1);

    if (api_key != HOOP_KAFKA_API_API_VERSIONS
        && (m == NULL || !(m->flags & HOOP_KAFKA_MESSAGE_BROKER_ENDPOINTS)))
    {
        return NGX_OK;
    }

    body = *frame + 4;
    len = *size - 4;

    hv = hoop_kafka_response_header_version(api_key, api_version);

    if (hoop_kafka_response_header_parse(body, len, hv, &h, &err)
        != HOOP_KAFKA_OK)
    {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: bad %s response header "
                      "from broker: %s", m->api_name, err.msg);
        return NGX_ERROR;
    }

    pool = ngx_create_pool(4096, c->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    alloc.alloc = hoop_codec_palloc;
    alloc.ctx = pool;

    rc = hoop_kafka_decode(&alloc, api_key, api_version, 1, body + h.len,
                           len - h.len, &root, &err);

    if (rc != HOOP_KAFKA_OK && api_key == HOOP_KAFKA_API_API_VERSIONS) {
        /* a broker older than the client answers v0 (KIP-511) */
        rc = hoop_kafka_decode(&alloc, api_key, 0, 1, body + h.len,
                               len - h.len, &root, &err);
    }

    if (rc != HOOP_KAFKA_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: bad %s v%d response from "
                      "broker: %s%s%s at byte %uz", m->api_name,
                      (int) api_version, err.msg, err.field ? " in " : "",
                      err.field ? err.field : "", err.offset);
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    changed = 0;

    if (api_key == HOOP_KAFKA_API_API_VERSIONS) {
        if (hoop_codec_api_versions(hs, root, &changed) != NGX_OK) {
            ngx_destroy_pool(pool);
            return NGX_ERROR;
        }

    } else {
        actx.hs = hs;
        actx.changed = 0;
        actx.missing_node = -1;

        if (hoop_kafka_walk(root, hoop_codec_address, &actx) != 0) {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "hoop: closing connection: %s response names "
                          "broker node %i, which has no "
                          "hoop_broker_address; its address is not "
                          "revealed to clients", m->api_name,
                          actx.missing_node);
            ngx_destroy_pool(pool);
            return NGX_ERROR;
        }

        changed = actx.changed;
    }

    ret = NGX_OK;

    if (changed) {
        ret = hoop_codec_reencode(root, *frame, 4 + h.len, frame, size);
    }

    ngx_destroy_pool(pool);

    return ret;
}


/*
 * ApiVersionsResponse: per ApiKey the intersection of the broker's range
 * and the gateway's.  The broker's minimum is kept (lowering it breaks
 * clients); keys the gateway does not serve, or whose ranges do not meet,
 * are removed so clients never pick them.
 */

static ngx_int_t
hoop_codec_api_versions(hoop_session_t *hs, hoop_kafka_node_t *root,
    ngx_uint_t *changed)
{
    int16_t             key, bmin, bmax, gmin, gmax, amin, amax;
    hoop_kafka_node_t  *keys, *e, **link, *n;

    keys = hoop_kafka_node_child(root, "ApiKeys");

    if (keys == NULL || hoop_kafka_node_is_null(keys)) {
        return NGX_OK;
    }

    link = &keys->u.list.first;

    while ((e = *link) != NULL) {
        key = (int16_t) hoop_kafka_node_int(hoop_kafka_node_child(e,
                                                                "ApiKey"));
        bmin = (int16_t) hoop_kafka_node_int(hoop_kafka_node_child(e,
                                                             "MinVersion"));
        n = hoop_kafka_node_child(e, "MaxVersion");
        bmax = (int16_t) hoop_kafka_node_int(n);

        if (key == HOOP_KAFKA_API_METADATA) {
            /* the gateway's own Metadata requests use a version it has */
            hs->metadata_max = bmax;
        }

        if (!hoop_codec_api_handled(key)
            || hoop_kafka_api_versions(key, &gmin, &gmax) != 0
            || bmin > gmax || bmax < gmin)
        {
            ngx_log_debug1(NGX_LOG_DEBUG_STREAM,
                           hs->session->connection->log, 0,
                           "hoop: ApiVersions: removed ApiKey %d", key);
            *link = e->next;
            keys->u.list.count--;
            *changed = 1;
            continue;
        }

        if (hs->conf->policy) {
            /* fail closed: only what the planner authorizes like Kafka;
             * topic ids are resolved (hoop_resolve.c) */
            if (hoop_authz_versions(key, HOOP_AUTHZ_TOPIC_IDS, &amin, &amax)
                != 0
                || bmin > amax || bmax < amin)
            {
                *link = e->next;
                keys->u.list.count--;
                *changed = 1;
                continue;
            }

            gmax = ngx_min(gmax, amax);

            if (bmin < amin && key != HOOP_KAFKA_API_PRODUCE) {
                /* raising a minimum is safe: clients pick within range.
                 * Not for Produce: Kafka 4 advertises v0 while refusing
                 * v0-v2 (KAFKA-18659), because librdkafka before 2.10
                 * compresses with gzip, snappy or lz4 only when the
                 * broker's Produce range reaches v0; the gateway refuses
                 * v0-v2 as Kafka does (hoop_codec_request()) */
                (void) hoop_kafka_node_set_int(
                           hoop_kafka_node_child(e, "MinVersion"), amin);
                *changed = 1;
            }
        }

        if (bmax > gmax) {
            (void) hoop_kafka_node_set_int(n, gmax);
            *changed = 1;
        }

        link = &e->next;
    }

    return NGX_OK;
}


/*
 * Walk callback: a struct with a Host and a Port is a broker address (the
 * generator flags those structs; DescribeQuorum's listeners are excluded
 * from the APIs served).  Its node id is the NodeId or BrokerId beside it.
 */

static int
hoop_codec_address(hoop_kafka_node_t *node, const hoop_kafka_field_t *field,
    hoop_kafka_node_t *parent, void *data)
{
    hoop_address_ctx_t *actx = data;

    int64_t                     id;
    ngx_uint_t                  i;
    hoop_kafka_node_t          *host, *port, *nid;
    hoop_broker_address_t      *ba;
    const hoop_kafka_struct_t  *st;

    st = hoop_kafka_node_struct(node);

    if (st == NULL || !(st->flags & HOOP_KAFKA_STRUCT_BROKER_ENDPOINT)
        || hoop_kafka_node_is_null(node))
    {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    host = hoop_kafka_node_child(node, "Host");
    port = hoop_kafka_node_child(node, "Port");
    nid = hoop_kafka_node_child(node, "NodeId");

    if (nid == NULL) {
        nid = hoop_kafka_node_child(node, "BrokerId");
    }

    if (host == NULL || port == NULL) {
        /* FindCoordinator v4+: the top-level address is gone, the batched
         * Coordinators below carry it */
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    id = nid ? hoop_kafka_node_int(nid) : -1;

    if (id < 0) {
        /* "no coordinator" answers: NodeId -1, Host "", Port -1 */
        return HOOP_KAFKA_WALK_SKIP;
    }

    if (actx->hs->conf->broker_addresses) {
        ba = actx->hs->conf->broker_addresses->elts;

        for (i = 0; i < actx->hs->conf->broker_addresses->nelts; i++) {
            if (ba[i].node_id != id) {
                continue;
            }

            if (hoop_kafka_node_set_string(host, ba[i].host.data,
                                           ba[i].host.len) != 0
                || hoop_kafka_node_set_int(port, ba[i].port) != 0)
            {
                actx->missing_node = id;
                return -1;
            }

            actx->changed = 1;
            return HOOP_KAFKA_WALK_SKIP;
        }
    }

    actx->missing_node = id;

    return -1;
}


/* header_len: size prefix and response header, copied as they are */

ngx_int_t
hoop_codec_reencode(hoop_kafka_node_t *root, u_char *frame,
    size_t header_len, u_char **out, size_t *out_size)
{
    ngx_log_t  *log;

    log = ngx_cycle->log;

    u_char  *p;
    size_t   body, size;

    body = hoop_kafka_encoded_size(root);
    size = header_len + body;

    if (size - 4 > NGX_MAX_INT32_VALUE) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "hoop: rewritten response too large");
        return NGX_ERROR;
    }

    p = ngx_alloc(size, log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, frame, header_len);

    if (hoop_kafka_encode(root, p + header_len) != body) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "hoop: encoder wrote an unexpected size");
        ngx_free(p);
        return NGX_ERROR;
    }

    p[0] = (u_char) ((size - 4) >> 24);
    p[1] = (u_char) ((size - 4) >> 16);
    p[2] = (u_char) ((size - 4) >> 8);
    p[3] = (u_char) (size - 4);

    *out = p;
    *out_size = size;

    return NGX_OK;
}
