/*
 * Masking of Produce and Fetch records (hoop_masking.h): the rule set of
 * each topic for the session's caller, the engine on every record through
 * the RecordBatch codec, the counts for audit and metrics.
 */

#include "hoop_masking.h"
#include "hoop_authorize.h"
#include "hoop_resolve.h"
#include "../kafka/hoop_record_batch.h"
#include "../kafka/hoop_kafka_header.h"
#include "../audit/hoop_audit.h"
#include "../metrics/hoop_metrics.h"


/* Kafka error codes (org.apache.kafka.common.protocol.Errors) */
#define HOOP_KAFKA_UNKNOWN_SERVER_ERROR   -1
#define HOOP_KAFKA_CORRUPT_MESSAGE         2
#define HOOP_KAFKA_REQUEST_TIMED_OUT       7
#define HOOP_KAFKA_INVALID_RECORD         87

#define HOOP_MASKING_GROUPS               64   /* on the stack; more are
                                                  allocated */


/* the engine's output and scratch: value, key, header (one per worker) */
static hoop_mask_out_t  hoop_masking_out[3];
static ngx_uint_t       hoop_masking_ready;


/* one partition's records through the engine */
typedef struct {
    const hoop_mask_set_t   *set;
    uint32_t                *counts;         /* per rule of set */
    ngx_pool_t              *pool;
    ngx_uint_t               values;         /* set has rules for them */
    ngx_uint_t               keys;
    ngx_uint_t               headers;
    int                      error;          /* HOOP_MASK_E* */
    const char              *why;            /* the engine's error text */
    hoop_record_header_t    *hbuf;
    int32_t                  hcap;
} hoop_masking_ctx_t;


/* a topic's set and counts while its partitions are masked */
typedef struct {
    const u_char            *name;
    size_t                   len;
    const hoop_mask_set_t   *set;
    uint32_t                *counts;
} hoop_masking_topic_t;


static ngx_int_t hoop_masking_select(hoop_session_t *hs,
    hoop_mask_policy_t *mp, hoop_mask_direction_t d, const u_char *topic,
    size_t len, const hoop_mask_set_t **set);
static int hoop_masking_record(void *data, const hoop_record_batch_t *batch,
    hoop_record_t *r);
static ngx_int_t hoop_masking_records(hoop_masking_ctx_t *mc,
    hoop_kafka_node_t *records, unsigned flags, ngx_uint_t *changed,
    int16_t *error, const char **why);
static ngx_int_t hoop_masking_tally(ngx_array_t *tallies,
    hoop_masking_topic_t *t, uint64_t *total);
static ngx_int_t hoop_masking_topic_name(hoop_session_t *hs,
    hoop_kafka_node_t *topic, const char *field, ngx_pool_t *pool,
    const u_char **name, size_t *len);
static hoop_kafka_node_t *hoop_masking_produce_answer(hoop_request_t *req,
    hoop_authz_plan_t *plan, hoop_kafka_node_t *failed, int16_t error);


static hoop_mask_policy_t *
hoop_masking_policy(hoop_session_t *hs, hoop_mask_direction_t d)
{
    hoop_policy_state_t  *st;

    st = hs->conf->policy;

    if (st == NULL || st->policy == NULL || st->masking == NULL
        || !hoop_mask_policy_has_direction(st->masking, d))
    {
        return NULL;
    }

    if (!hoop_masking_ready) {
        hoop_mask_out_init(&hoop_masking_out[0], NULL);
        hoop_mask_out_init(&hoop_masking_out[1], NULL);
        hoop_mask_out_init(&hoop_masking_out[2], NULL);
        hoop_masking_ready = 1;
    }

    return st->masking;
}


void
hoop_masking_exit(void)
{
    if (hoop_masking_ready) {
        hoop_mask_out_free(&hoop_masking_out[0]);
        hoop_mask_out_free(&hoop_masking_out[1]);
        hoop_mask_out_free(&hoop_masking_out[2]);
        hoop_masking_ready = 0;
    }
}


/*
 * The set for (topic, the session's identity, d).  Every group takes part
 * (a group left out could be the one a rule names), so more than
 * HOOP_MASKING_GROUPS are copied to the heap.
 */

static ngx_int_t
hoop_masking_select(hoop_session_t *hs, hoop_mask_policy_t *mp,
    hoop_mask_direction_t d, const u_char *topic, size_t len,
    const hoop_mask_set_t **set)
{
    int                   rc;
    ngx_str_t            *g;
    ngx_uint_t            i, n;
    hoop_mask_str_t       stack[HOOP_MASKING_GROUPS], *groups;
    hoop_mask_request_t   r;

    ngx_memzero(&r, sizeof(hoop_mask_request_t));

    r.topic.data = (const char *) topic;
    r.topic.len = len;
    r.direction = d;

    if (hs->identity.principal.len) {
        r.principal.data = (const char *) hs->identity.principal.data;
        r.principal.len = hs->identity.principal.len;
    }

    groups = stack;
    n = hs->identity.groups ? hs->identity.groups->nelts : 0;

    if (n > HOOP_MASKING_GROUPS) {
        groups = ngx_alloc(n * sizeof(hoop_mask_str_t),
                           hs->session->connection->log);
        if (groups == NULL) {
            return NGX_ERROR;
        }
    }

    if (n) {
        g = hs->identity.groups->elts;

        for (i = 0; i < n; i++) {
            groups[i].data = (const char *) g[i].data;
            groups[i].len = g[i].len;
        }

        r.groups = groups;
        r.ngroups = n;
    }

    rc = hoop_mask_policy_select(mp, &r, set);

    if (groups != stack) {
        ngx_free(groups);
    }

    if (rc != 0) {
        ngx_log_error(NGX_LOG_ERR, hs->session->connection->log, 0,
                      "hoop: masking: no rule set for \"%V\" on topic "
                      "\"%*s\" (%d)", &hs->identity.principal, len, topic,
                      rc);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_uint_t
hoop_masking_applies(hoop_session_t *hs, hoop_mask_direction_t d,
    const u_char *topic, size_t len)
{
    hoop_mask_policy_t     *mp;
    const hoop_mask_set_t  *set;

    mp = hoop_masking_policy(hs, d);

    if (mp == NULL) {
        return 0;
    }

    set = NULL;

    if (hoop_masking_select(hs, mp, d, topic, len, &set) != NGX_OK) {
        return 1;
    }

    return set != NULL;
}


/* ---------------------------------------------------------------------
 * Records
 */

/* hoop_record_pt: value, key and headers of one record */

static int
hoop_masking_record(void *data, const hoop_record_batch_t *batch,
    hoop_record_t *r)
{
    hoop_masking_ctx_t *mc = data;

    int                    rc, changed;
    u_char                *copy;
    int32_t                i, n;
    hoop_mask_out_t       *out;
    hoop_record_header_t  *h;

    changed = 0;

    /* a tombstone (null) stays null, an empty value stays empty */
    if (mc->values && r->value.len > 0) {
        out = &hoop_masking_out[0];

        rc = hoop_mask_apply(mc->set, HOOP_MASK_VALUE, r->value.data,
                             (size_t) r->value.len, out, mc->counts);
        if (rc < 0) {
            goto failed;
        }

        if (rc == HOOP_MASK_CHANGED) {
            if (out->len > NGX_MAX_INT32_VALUE) {
                rc = HOOP_MASK_ETOOBIG;
                goto failed;
            }

            r->value.data = out->data;
            r->value.len = (int32_t) out->len;
            changed = 1;
        }
    }

    if (mc->keys && r->key.len > 0) {
        out = &hoop_masking_out[1];

        rc = hoop_mask_apply(mc->set, HOOP_MASK_KEY, r->key.data,
                             (size_t) r->key.len, out, mc->counts);
        if (rc < 0) {
            goto failed;
        }

        if (rc == HOOP_MASK_CHANGED) {
            if (out->len > NGX_MAX_INT32_VALUE) {
                rc = HOOP_MASK_ETOOBIG;
                goto failed;
            }

            r->key.data = out->data;
            r->key.len = (int32_t) out->len;
            changed = 1;
        }
    }

    if (!mc->headers || r->headers_count == 0) {
        return changed ? HOOP_RECORD_CHANGED : HOOP_RECORD_UNCHANGED;
    }

    if (r->headers_count > mc->hcap) {
        mc->hbuf = ngx_palloc(mc->pool,
                              r->headers_count * sizeof(hoop_record_header_t));
        if (mc->hbuf == NULL) {
            rc = HOOP_MASK_ENOMEM;
            goto failed;
        }

        mc->hcap = r->headers_count;
    }

    h = mc->hbuf;
    out = &hoop_masking_out[2];
    n = 0;

    for (i = 0; i < r->headers_count; i++) {
        h[n] = r->headers[i];

        rc = hoop_mask_header(mc->set, r->headers[i].key.data,
                              (size_t) r->headers[i].key.len,
                              r->headers[i].value.len < 0
                              ? NULL : r->headers[i].value.data,
                              r->headers[i].value.len < 0
                              ? 0 : (size_t) r->headers[i].value.len,
                              out, mc->counts);

        switch (rc) {

        case HOOP_MASK_UNCHANGED:
            break;

        case HOOP_MASK_CHANGED:
            if (out->len > NGX_MAX_INT32_VALUE) {
                rc = HOOP_MASK_ETOOBIG;
                goto failed;
            }

            /* out is reused by the next header */
            copy = ngx_pnalloc(mc->pool, out->len ? out->len : 1);
            if (copy == NULL) {
                rc = HOOP_MASK_ENOMEM;
                goto failed;
            }

            ngx_memcpy(copy, out->data, out->len);
            h[n].value.data = copy;
            h[n].value.len = (int32_t) out->len;
            changed = 1;
            break;

        case HOOP_MASK_DROP_HEADER:
            changed = 1;
            continue;

        case HOOP_MASK_NULL_HEADER:
            if (h[n].value.len != -1) {
                h[n].value.data = NULL;
                h[n].value.len = -1;
                changed = 1;
            }
            break;

        default:
            goto failed;
        }

        n++;
    }

    if (changed) {
        r->headers = h;
        r->headers_count = n;
        return HOOP_RECORD_CHANGED;
    }

    return HOOP_RECORD_UNCHANGED;

failed:

    mc->error = rc;
    mc->why = (rc == HOOP_MASK_EREGEX || rc == HOOP_MASK_ECRYPTO)
              ? hoop_masking_out[0].error[0] ? hoop_masking_out[0].error
                : hoop_masking_out[1].error[0] ? hoop_masking_out[1].error
                : hoop_masking_out[2].error
              : rc == HOOP_MASK_ETOOBIG ? "a masked value would be too large"
              : "out of memory";

    return -1;
}


/*
 * One partition's records node: NGX_OK (*changed: set to the masked
 * records), NGX_DECLINED with *error (a Kafka error code) and *why when
 * the records cannot be masked, NGX_ERROR out of memory.
 */

static ngx_int_t
hoop_masking_records(hoop_masking_ctx_t *mc, hoop_kafka_node_t *records,
    unsigned flags, ngx_uint_t *changed, int16_t *error, const char **why)
{
    int                         rc;
    u_char                     *p;
    size_t                      len;
    const uint8_t              *data;
    hoop_batch_err_t            err;
    hoop_kafka_alloc_t          a;
    hoop_batch_rewrite_t        res;
    hoop_batch_rewrite_conf_t   conf;

    *changed = 0;
    data = hoop_kafka_node_bytes(records, &len);

    if (data == NULL || len == 0) {
        return NGX_OK;
    }

    hoop_codec_allocator(mc->pool, &a);

    ngx_memzero(&conf, sizeof(hoop_batch_rewrite_conf_t));
    conf.record = hoop_masking_record;
    conf.ctx = mc;
    conf.flags = flags | HOOP_BATCH_HEADER_EDITS;

    mc->error = 0;
    mc->why = NULL;
    err.msg = NULL;

    rc = hoop_batch_rewrite(&a, data, len, &conf, &res, &err);

    if (rc != HOOP_BATCH_OK) {
        if (mc->error == HOOP_MASK_ENOMEM || rc == HOOP_BATCH_ENOMEM) {
            *why = "out of memory";
            *error = HOOP_KAFKA_UNKNOWN_SERVER_ERROR;
            return NGX_ERROR;
        }

        if (mc->error) {
            *why = mc->why;
            *error = HOOP_KAFKA_INVALID_RECORD;

        } else {
            *why = err.msg ? err.msg : hoop_batch_strerror(rc);
            *error = HOOP_KAFKA_CORRUPT_MESSAGE;
        }

        return NGX_DECLINED;
    }

    if (res.legacy_batches && !(flags & HOOP_BATCH_PASS_CORRUPT)) {
        /* magic 0/1 message sets are never read: they cannot go out */
        *why = "magic 0 or 1 message sets cannot be masked";
        *error = HOOP_KAFKA_CORRUPT_MESSAGE;
        return NGX_DECLINED;
    }

    if (res.changed_batches == 0 && !res.tail_trimmed) {
        return NGX_OK;
    }

    p = ngx_pnalloc(mc->pool, res.size ? res.size : 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    (void) hoop_batch_rewrite_copy(&res, p);

    if (hoop_kafka_node_set_string(records, p, res.size) != 0) {
        *why = "the masked records are too large";
        *error = HOOP_KAFKA_INVALID_RECORD;
        return NGX_DECLINED;
    }

    *changed = 1;

    return NGX_OK;
}


/* a topic's counts, summed per masking rule id, onto tallies and *total */

static ngx_int_t
hoop_masking_tally(ngx_array_t *tallies, hoop_masking_topic_t *t,
    uint64_t *total)
{
    size_t              i, n;
    const char         *id;
    hoop_audit_mask_t  *m;

    if (t->set == NULL) {
        return NGX_OK;
    }

    n = hoop_mask_rule_count(t->set);

    for (i = 0; i < n; i++) {
        if (t->counts[i] == 0) {
            continue;
        }

        *total += t->counts[i];
        id = hoop_mask_rule_id(t->set, i);
        m = tallies->nelts ? (hoop_audit_mask_t *) tallies->elts
                             + tallies->nelts - 1
                           : NULL;

        /* a rule's fields are adjacent in its set */
        if (m && m->topic == t->name && m->topic_len == t->len
            && ngx_strcmp(m->rule, id) == 0)
        {
            m->fields += t->counts[i];
            continue;
        }

        m = ngx_array_push(tallies);
        if (m == NULL) {
            return NGX_ERROR;
        }

        m->topic = t->name;
        m->topic_len = t->len;
        m->rule = id;
        m->fields = t->counts[i];
    }

    return NGX_OK;
}


/* the name of a topic entry: field ("Name", "Topic") or its TopicId */

static ngx_int_t
hoop_masking_topic_name(hoop_session_t *hs, hoop_kafka_node_t *topic,
    const char *field, ngx_pool_t *pool, const u_char **name, size_t *len)
{
    u_char             *copy;
    const uint8_t      *id, *n;
    hoop_topic_ids_t   *map;
    hoop_kafka_node_t  *node;

    node = hoop_kafka_node_child(topic, field);

    if (node) {
        *name = hoop_kafka_node_bytes(node, len);
        return *name ? NGX_OK : NGX_DECLINED;
    }

    /* KIP-516: by id, named by the worker's map as the planner did */
    node = hoop_kafka_node_child(topic, "TopicId");
    id = node ? hoop_kafka_node_bytes(node, len) : NULL;
    map = hoop_resolve_map(hs);

    if (id == NULL || *len != 16 || map == NULL
        || hoop_topic_ids_resolve(map, id, &n, len) != 1)
    {
        return NGX_DECLINED;
    }

    /* the map's copy may go with the next name it learns */
    copy = ngx_pnalloc(pool, *len ? *len : 1);
    if (copy == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(copy, n, *len);
    *name = copy;

    return NGX_OK;
}


static hoop_masking_topic_t *
hoop_masking_topic(hoop_session_t *hs, hoop_mask_policy_t *mp,
    hoop_mask_direction_t d, const u_char *name, size_t len,
    ngx_pool_t *pool, hoop_masking_topic_t *t)
{
    ngx_memzero(t, sizeof(hoop_masking_topic_t));

    t->name = name;
    t->len = len;

    if (hoop_masking_select(hs, mp, d, name, len, &t->set) != NGX_OK) {
        return NULL;
    }

    if (t->set) {
        t->counts = ngx_pcalloc(pool, (hoop_mask_rule_count(t->set) + 1)
                                      * sizeof(uint32_t));
        if (t->counts == NULL) {
            return NULL;
        }
    }

    return t;
}


static void
hoop_masking_ctx_init(hoop_masking_ctx_t *mc, hoop_masking_topic_t *t,
    ngx_pool_t *pool)
{
    ngx_memzero(mc, sizeof(hoop_masking_ctx_t));

    mc->set = t->set;
    mc->counts = t->counts;
    mc->pool = pool;
    mc->values = hoop_mask_has_part(t->set, HOOP_MASK_VALUE);
    mc->keys = hoop_mask_has_part(t->set, HOOP_MASK_KEY);
    mc->headers = hoop_mask_has_part(t->set, HOOP_MASK_HEADER);
}


/* ---------------------------------------------------------------------
 * Produce
 */

ngx_int_t
hoop_masking_produce(hoop_session_t *hs, hoop_request_t *req,
    hoop_authz_plan_t *plan, ngx_uint_t *changed, hoop_kafka_node_t **answer)
{
    size_t                 len;
    u_char                *end, msg[512];
    int16_t                error;
    uint64_t               total;
    ngx_int_t              rc;
    ngx_uint_t             one;
    const char            *why;
    ngx_array_t           *tallies;
    const u_char          *name;
    ngx_connection_t      *c;
    hoop_kafka_node_t     *topics, *topic, *parts, *part, *records, *idx;
    hoop_mask_policy_t    *mp;
    hoop_masking_ctx_t     mc;
    hoop_masking_topic_t   t;

    *changed = 0;
    *answer = NULL;

    mp = hoop_masking_policy(hs, HOOP_MASK_PRODUCE);

    if (mp == NULL) {
        return NGX_OK;
    }

    c = hs->session->connection;
    name = NULL;
    len = 0;
    part = NULL;
    total = 0;

    tallies = ngx_array_create(req->pool, 4, sizeof(hoop_audit_mask_t));
    if (tallies == NULL) {
        return NGX_ERROR;
    }

    topics = hoop_kafka_node_child(req->root, "TopicData");

    for (topic = topics ? hoop_kafka_node_first(topics) : NULL; topic;
         topic = hoop_kafka_node_next(topic))
    {
        parts = hoop_kafka_node_child(topic, "PartitionData");

        if (parts == NULL || hoop_kafka_node_count(parts) == 0) {
            continue;
        }

        if (hoop_masking_topic_name(hs, topic, "Name", req->pool, &name,
                                    &len)
            != NGX_OK)
        {
            /* an id nobody could name: masking cannot say, so no write */
            why = "its topic id has no known name";
            error = HOOP_KAFKA_INVALID_RECORD;
            part = hoop_kafka_node_first(parts);
            goto failed;
        }

        if (hoop_masking_topic(hs, mp, HOOP_MASK_PRODUCE, name, len,
                               req->pool, &t)
            == NULL)
        {
            why = "no rule set could be chosen";
            error = HOOP_KAFKA_INVALID_RECORD;
            part = hoop_kafka_node_first(parts);
            goto failed;
        }

        if (t.set == NULL) {
            continue;
        }

        hoop_masking_ctx_init(&mc, &t, req->pool);

        for (part = hoop_kafka_node_first(parts); part;
             part = hoop_kafka_node_next(part))
        {
            records = hoop_kafka_node_child(part, "Records");

            if (records == NULL || hoop_kafka_node_is_null(records)) {
                continue;
            }

            /* a bad CRC goes to the broker unread: it refuses the batch,
             * as it would without the gateway */
            rc = hoop_masking_records(&mc, records,
                                      HOOP_BATCH_NO_TAIL
                                      | HOOP_BATCH_PASS_CORRUPT,
                                      &one, &error, &why);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_DECLINED) {
                goto failed;
            }

            *changed |= one;
        }

        if (hoop_masking_tally(tallies, &t, &total) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* counted once the request goes: a refused one wrote nothing */
    hoop_metric_add(masked_fields, total);
    hoop_audit_masks(hs, tallies->elts, tallies->nelts);

    return NGX_OK;

failed:

    idx = part ? hoop_kafka_node_child(part, "Index") : NULL;

    ngx_log_error(NGX_LOG_ERR, c->log, 0,
                  "hoop: masking: Produce of \"%V\" to topic \"%*s\" "
                  "partition %L refused (Kafka error %d): %s",
                  &hs->identity.principal, name ? len : 1,
                  name ? name : (const u_char *) "?",
                  idx ? hoop_kafka_node_int(idx) : (int64_t) -1,
                  (int) error, why);

    if (!req->expects_response) {
        /* acks=0: no answer to give; Kafka closes on errors, and the
         * audit trail says why this connection ends */
        end = ngx_snprintf(msg, sizeof(msg) - 1,
                           "Produce without response refused: records for "
                           "topic \"%*s\" partition %L cannot be masked "
                           "(Kafka error %d): %s",
                           name ? len : 1,
                           name ? name : (const u_char *) "?",
                           idx ? hoop_kafka_node_int(idx) : (int64_t) -1,
                           (int) error, why);
        *end = '\0';
        hoop_audit_protocol_error(hs, (const char *) msg);

        return NGX_DECLINED;
    }

    *answer = hoop_masking_produce_answer(req, plan, part, error);

    return *answer ? NGX_DECLINED : NGX_ERROR;
}


/*
 * The Produce response for a request that is not forwarded: failed (one
 * partition element of the request) gets error, every other partition
 * REQUEST_TIMED_OUT (not written: a producer sends it again), and the
 * plan's denied entries are merged back with their own errors.
 */

static hoop_kafka_node_t *
hoop_masking_produce_answer(hoop_request_t *req, hoop_authz_plan_t *plan,
    hoop_kafka_node_t *failed, int16_t error)
{
    size_t              len;
    const uint8_t      *data;
    hoop_kafka_node_t  *root, *topics, *topic, *parts, *part, *rt, *rts;
    hoop_kafka_node_t  *rp, *rps, *n, *src;

    root = hoop_codec_answer_start(req);
    if (root == NULL) {
        return NULL;
    }

    rts = hoop_kafka_node_child(root, "Responses");
    topics = hoop_kafka_node_child(req->root, "TopicData");

    if (rts == NULL || topics == NULL) {
        return NULL;
    }

    for (topic = hoop_kafka_node_first(topics); topic;
         topic = hoop_kafka_node_next(topic))
    {
        rt = hoop_codec_answer_append(req, rts);
        if (rt == NULL) {
            return NULL;
        }

        src = hoop_kafka_node_child(topic, "Name");
        n = hoop_kafka_node_child(rt, "Name");

        if (src && n) {
            data = hoop_kafka_node_bytes(src, &len);
            if (hoop_kafka_node_set_string(n, data, len) != 0) {
                return NULL;
            }
        }

        src = hoop_kafka_node_child(topic, "TopicId");
        n = hoop_kafka_node_child(rt, "TopicId");

        if (src && n) {
            n->u.bytes = src->u.bytes;
        }

        parts = hoop_kafka_node_child(topic, "PartitionData");
        rps = hoop_kafka_node_child(rt, "PartitionResponses");

        if (parts == NULL || rps == NULL) {
            continue;
        }

        for (part = hoop_kafka_node_first(parts); part;
             part = hoop_kafka_node_next(part))
        {
            rp = hoop_codec_answer_append(req, rps);
            if (rp == NULL) {
                return NULL;
            }

            (void) hoop_kafka_node_set_int(hoop_kafka_node_child(rp, "Index"),
                hoop_kafka_node_int(hoop_kafka_node_child(part, "Index")));
            (void) hoop_kafka_node_set_int(
                       hoop_kafka_node_child(rp, "ErrorCode"),
                       part == failed ? error : HOOP_KAFKA_REQUEST_TIMED_OUT);

            if ((n = hoop_kafka_node_child(rp, "BaseOffset"))) {
                (void) hoop_kafka_node_set_int(n, -1);
            }

            if ((n = hoop_kafka_node_child(rp, "LogAppendTimeMs"))) {
                (void) hoop_kafka_node_set_int(n, -1);
            }

            if ((n = hoop_kafka_node_child(rp, "LogStartOffset"))) {
                (void) hoop_kafka_node_set_int(n, -1);
            }

            if ((n = hoop_kafka_node_child(rp, "ErrorMessage"))) {
                if (part == failed) {
                    (void) hoop_kafka_node_set_string(n,
                               (const uint8_t *) "the gateway could not "
                               "mask the records", 37);
                } else {
                    (void) hoop_kafka_node_set_string(n,
                               (const uint8_t *) "not written: another "
                               "partition of the request could not be "
                               "masked", 66);
                }
            }
        }
    }

    if (plan && hoop_authz_merge_response(plan, root) < 0) {
        return NULL;
    }

    return root;
}


/* ---------------------------------------------------------------------
 * Fetch
 */

ngx_int_t
hoop_masking_fetch(hoop_session_t *hs, hoop_slot_t *slot, u_char **frame,
    size_t *size)
{
    int                            hv, rc;
    size_t                         len;
    int16_t                        error;
    uint64_t                       total;
    ngx_int_t                      ret, mrc;
    ngx_uint_t                     changed, one;
    ngx_pool_t                    *pool;
    const char                    *why;
    ngx_array_t                   *tallies;
    const u_char                  *name;
    ngx_connection_t              *c;
    hoop_kafka_err_t               err;
    hoop_kafka_node_t             *root, *topics, *topic, *parts, *part;
    hoop_kafka_node_t             *records, *n;
    hoop_kafka_alloc_t             a;
    hoop_mask_policy_t            *mp;
    hoop_masking_ctx_t             mc;
    hoop_masking_topic_t           t;
    hoop_kafka_response_header_t   h;

    c = hs->session->connection;
    mp = hoop_masking_policy(hs, HOOP_MASK_FETCH);

    if (mp == NULL) {
        hoop_audit_fetch_masked(hs, slot->correlation_id, NULL, 0);
        return NGX_OK;
    }

    hv = hoop_kafka_response_header_version(slot->api_key, slot->api_version);

    if (hoop_kafka_response_header_parse(*frame + 4, *size - 4, hv, &h, &err)
        != HOOP_KAFKA_OK)
    {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: bad Fetch response header "
                      "from broker: %s", err.msg);
        return NGX_ERROR;
    }

    pool = ngx_create_pool(4096, c->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    hoop_codec_allocator(pool, &a);

    rc = hoop_kafka_decode(&a, slot->api_key, slot->api_version, 1,
                           *frame + 4 + h.len, *size - 4 - h.len, &root,
                           &err);
    if (rc != HOOP_KAFKA_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: bad Fetch v%d response "
                      "from broker: %s", (int) slot->api_version, err.msg);
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    tallies = ngx_array_create(pool, 4, sizeof(hoop_audit_mask_t));
    if (tallies == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    changed = 0;
    total = 0;
    topics = hoop_kafka_node_child(root, "Responses");

    for (topic = topics ? hoop_kafka_node_first(topics) : NULL; topic;
         topic = hoop_kafka_node_next(topic))
    {
        parts = hoop_kafka_node_child(topic, "Partitions");

        if (parts == NULL || hoop_kafka_node_count(parts) == 0) {
            continue;
        }

        name = NULL;
        len = 0;
        t.set = NULL;

        if (hoop_masking_topic_name(hs, topic, "Topic", pool, &name, &len)
            != NGX_OK)
        {
            why = "its topic id has no known name";
            mrc = NGX_DECLINED;

        } else if (hoop_masking_topic(hs, mp, HOOP_MASK_FETCH, name, len,
                                      pool, &t)
                   == NULL)
        {
            why = "no rule set could be chosen";
            mrc = NGX_DECLINED;
            t.set = NULL;

        } else if (t.set == NULL) {
            continue;

        } else {
            why = NULL;
            mrc = NGX_OK;
        }

        if (t.set) {
            hoop_masking_ctx_init(&mc, &t, pool);
        }

        for (part = hoop_kafka_node_first(parts); part;
             part = hoop_kafka_node_next(part))
        {
            records = hoop_kafka_node_child(part, "Records");

            if (records == NULL || hoop_kafka_node_is_null(records)
                || records->u.bytes.len == 0)
            {
                continue;
            }

            error = HOOP_KAFKA_UNKNOWN_SERVER_ERROR;
            rc = mrc;

            if (rc == NGX_OK) {
                /* a cut last batch would carry clear bytes: left out */
                rc = hoop_masking_records(&mc, records, HOOP_BATCH_TRIM_TAIL,
                                          &one, &error, &why);

                if (rc == NGX_ERROR) {
                    ngx_destroy_pool(pool);
                    return NGX_ERROR;
                }

                if (rc == NGX_OK) {
                    changed |= one;
                    continue;
                }
            }

            /* fail closed: the partition goes without its records */
            n = hoop_kafka_node_child(part, "PartitionIndex");

            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "hoop: masking: Fetch of \"%V\" from topic \"%*s\" "
                          "partition %L: records withheld: %s",
                          &hs->identity.principal, len,
                          name ? name : (const u_char *) "?",
                          n ? hoop_kafka_node_int(n) : (int64_t) -1,
                          why ? why : "masking failed");

            (void) hoop_kafka_node_set_int(
                       hoop_kafka_node_child(part, "ErrorCode"),
                       HOOP_KAFKA_UNKNOWN_SERVER_ERROR);
            (void) hoop_kafka_node_set_string(records, (const uint8_t *) "",
                                              0);
            changed = 1;
        }

        if (t.set && hoop_masking_tally(tallies, &t, &total) != NGX_OK) {
            ngx_destroy_pool(pool);
            return NGX_ERROR;
        }
    }

    hoop_metric_add(masked_fields, total);
    hoop_audit_fetch_masked(hs, slot->correlation_id, tallies->elts,
                            tallies->nelts);

    ret = NGX_OK;

    if (changed) {
        ret = hoop_codec_reencode(root, *frame, 4 + h.len, frame, size);
    }

    ngx_destroy_pool(pool);

    return ret;
}
