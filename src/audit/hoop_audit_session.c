/*
 * The events of one connection (hoop_audit.h, docs/audit.md): the common
 * fields, one "request" event per authorization decision, "aggregate"
 * events that sum the allowed decisions of high-volume ApiKeys over
 * hoop_audit_aggregate, and the connection milestones.
 *
 * Decisions come from hoop_authorize() as they are made
 * (hoop_audit_decision) and are matched to the planner's checks once the
 * request is planned: the checks say which request elements a decision
 * covers (partitions, record bytes, fetch offsets).  Checks Kafka does
 * not log (probes with a fallback, list filters, KIP-430 authorized
 * operations) make no event.
 */

#include "hoop_audit.h"
#include "../session/hoop_stats.h"
#include "../session/hoop_codec.h"
#include "../session/hoop_authorize.h"
#include "../kafka/hoop_kafka_authz.h"
#include "../kafka/hoop_kafka_header.h"
#include "../metrics/hoop_metrics.h"
#include "../session/hoop_masking.h"


extern ngx_module_t  ngx_stream_hoop_module;

#define hoop_main_conf(hs)                                                    \
    ((hoop_main_conf_t *) ngx_stream_get_module_main_conf((hs)->session,      \
                                                  ngx_stream_hoop_module))

#define HOOP_AUDIT_AGG_PARTS   64        /* partitions kept per aggregate */
#define HOOP_AUDIT_AGG_MAX     256       /* aggregates per connection */


typedef struct {
    int32_t              partition;
    int64_t              first;          /* fetch offsets, -1: none */
    int64_t              last;
} hoop_audit_part_t;


typedef struct hoop_audit_agg_s  hoop_audit_agg_t;

struct hoop_audit_agg_s {
    hoop_audit_agg_t    *next;
    int16_t              api_key;
    int16_t              api_version;
    hoop_policy_res_t    type;
    hoop_policy_op_t     op;
    u_char              *name;           /* ngx_alloc(), with rule after */
    size_t               len;
    u_char              *rule;           /* or NULL */
    size_t               rule_len;
    const char          *reason;
    int64_t              policy_version;
    int64_t              first;          /* ms */
    int64_t              last;
    uint64_t             count;
    uint64_t             records;
    uint64_t             bytes;
    ngx_uint_t           nparts;
    ngx_uint_t           more_parts;     /* not kept: over the cap */
    hoop_audit_part_t    parts[HOOP_AUDIT_AGG_PARTS];
};


/* what the request elements a check covers say: partitions, records */

typedef struct {
    hoop_audit_part_t    parts[HOOP_AUDIT_AGG_PARTS];
    ngx_uint_t           nparts;
    ngx_uint_t           more_parts;
    uint64_t             records;
    uint64_t             bytes;
    ngx_uint_t           has_records;
    ngx_uint_t           has_offsets;
} hoop_audit_scope_t;


/*
 * An allowed Fetch decision on a topic the caller has fetch masking for:
 * its event waits for the response, which says whether fields were masked
 * (then it is a request event with "mask", else it is what it would have
 * been: summed into an aggregate or sent as is).
 */
typedef struct hoop_audit_parked_s  hoop_audit_parked_t;

struct hoop_audit_parked_s {
    hoop_audit_parked_t *next;
    int32_t              correlation_id;
    int16_t              api_key;
    int16_t              api_version;
    hoop_policy_res_t    type;
    hoop_policy_op_t     op;
    u_char              *name;           /* ngx_alloc(), with rule after */
    size_t               len;
    u_char              *rule;           /* or NULL */
    size_t               rule_len;
    const char          *reason;
    int64_t              version;
    ngx_uint_t           aggregate;      /* would have been summed */
    json_t              *ev;             /* the request event, unsent */
    hoop_audit_scope_t   sc;
};


typedef struct hoop_audit_session_s {
    u_char               sid[96];
    size_t               sid_len;
    ngx_str_t            client_id;      /* ngx_alloc() */
    ngx_str_t            software;       /* ngx_alloc() */

    ngx_pool_t          *pool;           /* the request being planned */
    ngx_array_t         *decisions;      /* of hoop_audit_decision_t */

    hoop_audit_agg_t    *aggs;
    ngx_uint_t           naggs;
    ngx_event_t          timer;          /* aggregates due */
    hoop_session_t      *hs;
    hoop_policy_record_t record;         /* session recording, from here */
    json_t              *pending;        /* a request's record, until its
                                            frame is known */

    const hoop_audit_mask_t *masks;      /* the request's masking */
    size_t               nmasks;
    hoop_audit_parked_t *parked;         /* Fetch events waiting for the
                                            response, oldest first */
    hoop_audit_parked_t **parked_last;
} hoop_audit_session_t;


static hoop_audit_session_t *hoop_audit_session(hoop_session_t *hs);
static void hoop_audit_flush_aggs(hoop_session_t *hs);
static void hoop_audit_agg_timer(ngx_event_t *ev);
static void hoop_audit_session_cleanup(void *data);
static void hoop_audit_close(hoop_session_t *hs);
static void hoop_audit_aggregate(hoop_session_t *hs, int16_t api_key,
    int16_t api_version, hoop_policy_res_t type, hoop_policy_op_t op,
    const u_char *name, size_t len, const u_char *rule, size_t rlen,
    const char *reason, hoop_audit_scope_t *sc, int64_t version);
static void hoop_audit_unpark(hoop_session_t *hs, hoop_audit_parked_t *pk,
    const hoop_audit_mask_t *m, size_t n);


static int64_t
hoop_audit_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


/* ---------------------------------------------------------------------
 * Strings as clients sent them
 */

/* length of the valid UTF-8 sequence at p (RFC 3629), 0 if invalid */
static size_t
hoop_audit_utf8_len(const u_char *p, const u_char *last)
{
    size_t    n, i;
    uint32_t  cp, min;

    if (p[0] < 0x80) {
        return 1;
    }

    if ((p[0] & 0xe0) == 0xc0) {
        n = 2; cp = p[0] & 0x1f; min = 0x80;

    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3; cp = p[0] & 0x0f; min = 0x800;

    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4; cp = p[0] & 0x07; min = 0x10000;

    } else {
        return 0;
    }

    if ((size_t) (last - p) < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        cp = (cp << 6) | (p[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }

    return n;
}


void
hoop_audit_set_bytes(json_t *ev, const char *key, const u_char *data,
    size_t len)
{
    u_char        *buf, *b, *hex;
    size_t         n;
    json_t        *s;
    const u_char  *p, *last;
    char           hkey[64];

    if (data == NULL) {
        return;
    }

    s = json_stringn((const char *) data, len);

    if (s) {
        json_object_set_new(ev, key, s);
        return;
    }

    /* not UTF-8: U+FFFD (3 bytes) for each bad byte, and the raw hex */

    buf = ngx_alloc(len * 3 + 1, ngx_cycle->log);
    hex = ngx_alloc(len * 2 + 1, ngx_cycle->log);

    if (buf == NULL || hex == NULL) {
        goto done;
    }

    b = buf;
    last = data + len;

    for (p = data; p < last; /* void */) {
        n = hoop_audit_utf8_len(p, last);

        if (n == 0) {
            *b++ = 0xef; *b++ = 0xbf; *b++ = 0xbd;
            p++;
            continue;
        }

        b = ngx_cpymem(b, p, n);
        p += n;
    }

    json_object_set_new(ev, key, json_stringn((char *) buf, b - buf));

    ngx_hex_dump(hex, (u_char *) data, len);
    ngx_snprintf((u_char *) hkey, sizeof(hkey) - 1, "%s_hex%Z", key);
    json_object_set_new(ev, hkey, json_stringn((char *) hex, len * 2));

done:

    if (buf) {
        ngx_free(buf);
    }

    if (hex) {
        ngx_free(hex);
    }
}


/* ---------------------------------------------------------------------
 * The session's state
 */

static hoop_audit_session_t *
hoop_audit_session(hoop_session_t *hs)
{
    hoop_main_conf_t      *hmcf;
    ngx_connection_t      *c;
    ngx_pool_cleanup_t    *cln;
    hoop_audit_session_t  *as;

    if (hs->audit) {
        return hs->audit;
    }

    if (!hs->conf->audit) {
        return NULL;
    }

    c = hs->session->connection;
    hmcf = hoop_main_conf(hs);

    as = ngx_pcalloc(c->pool, sizeof(hoop_audit_session_t));
    if (as == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(c->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = hoop_audit_session_cleanup;
    cln->data = as;

    /* unique across nodes and restarts: node, worker start, connection */
    as->sid_len = ngx_snprintf(as->sid, sizeof(as->sid), "%V-%xL-%uA",
                               &hmcf->audit.node, hoop_audit_epoch,
                               c->number)
                  - as->sid;
    as->hs = hs;
    as->parked_last = &as->parked;

    as->timer.handler = hoop_audit_agg_timer;
    as->timer.data = hs;
    as->timer.log = c->log;
    as->timer.cancelable = 1;

    hs->audit = as;

    return as;
}


/* the connection's pool is going: its last events, then the state */

static void
hoop_audit_session_cleanup(void *data)
{
    hoop_audit_session_t *as = data;

    hoop_audit_agg_t  *a, *next;

    hoop_audit_record_frame(as->hs, NULL, 0);
    hoop_audit_close(as->hs);

    if (as->timer.timer_set) {
        ngx_del_timer(&as->timer);
    }

    for (a = as->aggs; a; a = next) {
        next = a->next;
        ngx_free(a->name);
        ngx_free(a);
    }

    as->aggs = NULL;

    if (as->client_id.data) {
        ngx_free(as->client_id.data);
        as->client_id.data = NULL;
    }

    if (as->software.data) {
        ngx_free(as->software.data);
        as->software.data = NULL;
    }
}


json_t *
hoop_audit_event(hoop_session_t *hs, const char *event)
{
    u_char                 buf[NGX_SOCKADDR_STRLEN + 16];
    size_t                 n;
    json_t                *ev, *groups;
    int64_t                now;
    ngx_tm_t               tm;
    ngx_str_t             *g;
    ngx_uint_t             i;
    ngx_connection_t      *c;
    hoop_main_conf_t      *hmcf;
    hoop_audit_session_t  *as;

    as = hoop_audit_session(hs);
    if (as == NULL) {
        return NULL;
    }

    c = hs->session->connection;
    hmcf = hoop_main_conf(hs);

    ev = json_object();
    if (ev == NULL) {
        return NULL;
    }

    now = hoop_audit_now();
    ngx_gmtime(now / 1000, &tm);
    n = ngx_sprintf(buf, "%04d-%02d-%02d", tm.ngx_tm_year, tm.ngx_tm_mon,
                    tm.ngx_tm_mday) - buf;

    json_object_set_new(ev, "v", json_integer(HOOP_AUDIT_FORMAT));
    json_object_set_new(ev, "ts", json_integer(now));
    json_object_set_new(ev, "day", json_stringn((char *) buf, n));
    json_object_set_new(ev, "node", json_stringn(
                                        (char *) hmcf->audit.node.data,
                                        hmcf->audit.node.len));
    json_object_set_new(ev, "sid", json_stringn((char *) as->sid,
                                                as->sid_len));
    json_object_set_new(ev, "event", json_string(event));

    if (hs->identity.principal.len) {
        hoop_audit_set_bytes(ev, "principal", hs->identity.principal.data,
                             hs->identity.principal.len);
    }

    if (hs->identity.groups && hs->identity.groups->nelts) {
        groups = json_array();
        g = hs->identity.groups->elts;

        for (i = 0; groups && i < hs->identity.groups->nelts; i++) {
            json_array_append_new(groups, json_stringn((char *) g[i].data,
                                                       g[i].len));
        }

        json_object_set_new(ev, "groups", groups);
    }

    if (hs->identity.method) {
        json_object_set_new(ev, "auth", json_string(hs->identity.method));
    }

    if (c->sockaddr->sa_family == AF_INET6) {
        n = ngx_sprintf(buf, "[%V]:%ui", &c->addr_text,
                        ngx_inet_get_port(c->sockaddr)) - buf;

    } else {
        n = ngx_sprintf(buf, "%V:%ui", &c->addr_text,
                        ngx_inet_get_port(c->sockaddr)) - buf;
    }

    json_object_set_new(ev, "client", json_stringn((char *) buf, n));

    if (as->client_id.data) {
        hoop_audit_set_bytes(ev, "client_id", as->client_id.data,
                             as->client_id.len);
    }

    if (as->software.data) {
        hoop_audit_set_bytes(ev, "software", as->software.data,
                             as->software.len);
    }

    return ev;
}


static ngx_int_t
hoop_audit_keep(ngx_str_t *s, const u_char *data, size_t len)
{
    if (s->data && s->len == len && ngx_memcmp(s->data, data, len) == 0) {
        return NGX_OK;
    }

    if (s->data) {
        ngx_free(s->data);
        s->data = NULL;
    }

    s->data = ngx_alloc(len ? len : 1, ngx_cycle->log);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, data, len);
    s->len = len;

    return NGX_OK;
}


void
hoop_audit_client(hoop_session_t *hs, hoop_request_t *req)
{
    u_char                 buf[512], *p;
    size_t                 nlen, vlen;
    const uint8_t         *name, *ver;
    hoop_kafka_node_t     *n, *v;
    hoop_audit_session_t  *as;

    as = hoop_audit_session(hs);
    if (as == NULL) {
        return;
    }

    if (req->client_id) {
        (void) hoop_audit_keep(&as->client_id, req->client_id,
                               ngx_min(req->client_id_len, 1024));
    }

    /* KIP-511: ApiVersions v3+ names the client library */
    if (req->api_key != HOOP_KAFKA_API_API_VERSIONS || req->root == NULL) {
        return;
    }

    n = hoop_kafka_node_child(req->root, "ClientSoftwareName");
    v = hoop_kafka_node_child(req->root, "ClientSoftwareVersion");

    if (n == NULL || v == NULL) {
        return;
    }

    name = hoop_kafka_node_bytes(n, &nlen);
    ver = hoop_kafka_node_bytes(v, &vlen);

    if (name == NULL || ver == NULL || nlen + vlen + 1 > sizeof(buf)) {
        return;
    }

    p = ngx_cpymem(buf, name, nlen);
    *p++ = '/';
    p = ngx_cpymem(p, ver, vlen);

    (void) hoop_audit_keep(&as->software, buf, p - buf);
}


/* ---------------------------------------------------------------------
 * Decisions
 */

void
hoop_audit_open(hoop_session_t *hs)
{
    (void) hoop_audit_session(hs);
}


ngx_uint_t
hoop_audit_session_id(hoop_session_t *hs, ngx_str_t *sid)
{
    if (hs->audit == NULL) {
        return 0;
    }

    sid->data = hs->audit->sid;
    sid->len = hs->audit->sid_len;

    return 1;
}


void
hoop_audit_begin(hoop_session_t *hs, hoop_request_t *req)
{
    hoop_audit_session_t  *as;

    as = hoop_audit_session(hs);
    if (as == NULL) {
        return;
    }

    as->pool = req->pool;
    as->decisions = NULL;
}


void
hoop_audit_decision(hoop_session_t *hs, hoop_policy_res_t type,
    const u_char *name, size_t len, hoop_policy_op_t op,
    const hoop_policy_decision_t *d)
{
    hoop_audit_session_t   *as;
    hoop_audit_decision_t  *ad;

    as = hs->audit;

    if (as == NULL || as->pool == NULL) {
        return;    /* not planning a request: a response filter's check */
    }

    if (as->decisions == NULL) {
        as->decisions = ngx_array_create(as->pool, 4,
                                         sizeof(hoop_audit_decision_t));
        if (as->decisions == NULL) {
            return;
        }
    }

    ad = ngx_array_push(as->decisions);
    if (ad == NULL) {
        return;
    }

    ngx_memzero(ad, sizeof(hoop_audit_decision_t));

    ad->type = type;
    ad->op = op;
    ad->len = len;
    ad->allowed = d ? d->allowed : 0;
    ad->reason = d ? d->text : "no policy loaded";

    if (len) {
        ad->name = ngx_pnalloc(as->pool, len);
        if (ad->name == NULL) {
            as->decisions->nelts--;
            return;
        }

        ngx_memcpy(ad->name, name, len);
    }

    if (d && d->rule && d->rule->record > as->record) {
        /* the rule asks for a record of this session from now on */
        ngx_log_error(NGX_LOG_INFO, hs->session->connection->log, 0,
                      "hoop: audit: recording session %*s (%s, rule \"%s\")",
                      as->sid_len, as->sid,
                      d->rule->record == HOOP_POLICY_RECORD_PAYLOADS
                      ? "payloads" : "summary", d->rule_id);
        as->record = d->rule->record;
    }

    if (d && d->rule_id) {
        ad->rule = ngx_pnalloc(as->pool, ngx_strlen(d->rule_id) + 1);
        if (ad->rule) {
            ngx_cpystrn(ad->rule, (u_char *) d->rule_id,
                        ngx_strlen(d->rule_id) + 1);
        }
    }
}


void
hoop_audit_decision_approval(hoop_session_t *hs, const char *id)
{
    hoop_audit_session_t   *as;
    hoop_audit_decision_t  *ad;

    as = hs->audit;

    if (id == NULL || as == NULL || as->pool == NULL
        || as->decisions == NULL || as->decisions->nelts == 0)
    {
        return;
    }

    ad = as->decisions->elts;
    ad = &ad[as->decisions->nelts - 1];

    ngx_cpystrn((u_char *) ad->approval, (u_char *) id, sizeof(ad->approval));
}


static hoop_audit_decision_t *
hoop_audit_find(hoop_audit_session_t *as, const hoop_authz_check_t *ck)
{
    ngx_uint_t              i;
    hoop_audit_decision_t  *ad;

    if (as->decisions == NULL) {
        return NULL;
    }

    ad = as->decisions->elts;

    for (i = 0; i < as->decisions->nelts; i++) {
        if (ad[i].type == ck->type && ad[i].op == ck->op
            && ad[i].len == ck->len
            && (ck->len == 0 || ngx_memcmp(ad[i].name, ck->name, ck->len) == 0))
        {
            return &ad[i];
        }
    }

    return NULL;
}


static uint32_t
hoop_audit_be32(const u_char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


/*
 * From the RecordBatch v2 headers only (baseOffset at 0, batchLength at
 * 8, magic at 16, lastOffsetDelta at 23, records count at 57): records,
 * and the offset after the last whole batch (*next, -1 if none).  A
 * batch cut short by the fetch size limit is not counted.
 */
static uint64_t
hoop_audit_records(const u_char *p, size_t len, int64_t *next)
{
    size_t    off;
    int64_t   base;
    uint32_t  blen;
    uint64_t  n;

    n = 0;
    *next = -1;

    for (off = 0; off + 61 <= len; off += 12 + (size_t) blen) {
        blen = hoop_audit_be32(p + off + 8);

        if (blen > len || off + 12 + (size_t) blen > len) {
            break;
        }

        if (p[off + 16] == 2) {
            n += hoop_audit_be32(p + off + 57);
            base = (int64_t) (((uint64_t) hoop_audit_be32(p + off) << 32)
                              | hoop_audit_be32(p + off + 4));
            *next = base + (int32_t) hoop_audit_be32(p + off + 23) + 1;
        }
    }

    return n;
}


static void
hoop_audit_count_records(const u_char *p, size_t len, hoop_audit_scope_t *sc)
{
    int64_t  next;

    sc->bytes += len;
    sc->has_records = 1;
    sc->records += hoop_audit_records(p, len, &next);
}


static void
hoop_audit_scope(const hoop_authz_check_t *ck, hoop_audit_scope_t *sc)
{
    size_t              len;
    uint32_t            k;
    const char         *name;
    const uint8_t      *rec;
    hoop_kafka_node_t  *topic, *arr, *e, *pn, *fo, *r;

    ngx_memzero(sc, sizeof(hoop_audit_scope_t));

    topic = ck->node;

    for (k = 0; topic && k < ck->count; k++, topic = topic->next) {
        if (hoop_kafka_node_struct(topic) == NULL) {
            continue;
        }

        for (arr = hoop_kafka_node_first(topic); arr;
             arr = hoop_kafka_node_next(arr))
        {
            name = hoop_kafka_node_name(arr);

            if (name == NULL
                || (ngx_strcmp(name, "PartitionData") != 0
                    && ngx_strcmp(name, "Partitions") != 0))
            {
                continue;
            }

            for (e = hoop_kafka_node_first(arr); e;
                 e = hoop_kafka_node_next(e))
            {
                if (hoop_kafka_node_struct(e) == NULL) {
                    continue;
                }

                pn = hoop_kafka_node_child(e, "Index");
                if (pn == NULL) {
                    pn = hoop_kafka_node_child(e, "Partition");
                }
                if (pn == NULL) {
                    pn = hoop_kafka_node_child(e, "PartitionIndex");
                }

                if (pn == NULL) {
                    continue;
                }

                if (sc->nparts < HOOP_AUDIT_AGG_PARTS) {
                    sc->parts[sc->nparts].partition =
                                         (int32_t) hoop_kafka_node_int(pn);
                    sc->parts[sc->nparts].first = -1;
                    sc->parts[sc->nparts].last = -1;

                    fo = hoop_kafka_node_child(e, "FetchOffset");
                    if (fo) {
                        sc->parts[sc->nparts].first =
                                                   hoop_kafka_node_int(fo);
                        sc->parts[sc->nparts].last =
                                                   sc->parts[sc->nparts].first;
                        sc->has_offsets = 1;
                    }

                    sc->nparts++;

                } else {
                    sc->more_parts++;
                }

                r = hoop_kafka_node_child(e, "Records");
                if (r && !hoop_kafka_node_is_null(r)) {
                    rec = hoop_kafka_node_bytes(r, &len);
                    if (rec) {
                        hoop_audit_count_records(rec, len, sc);
                    }
                }
            }
        }
    }
}


static json_t *
hoop_audit_parts_json(hoop_audit_part_t *parts, ngx_uint_t n,
    ngx_uint_t offsets)
{
    json_t      *a, *o;
    ngx_uint_t   i;

    a = json_array();

    for (i = 0; a && i < n; i++) {
        if (offsets) {
            o = json_array();
            json_array_append_new(o, json_integer(parts[i].partition));
            json_array_append_new(o, json_integer(parts[i].first));
            json_array_append_new(o, json_integer(parts[i].last));
            json_array_append_new(a, o);

        } else {
            json_array_append_new(a, json_integer(parts[i].partition));
        }
    }

    return a;
}


static void
hoop_audit_set_api(json_t *ev, int16_t api_key, int16_t api_version)
{
    const char  *name;

    name = hoop_kafka_api_name(api_key);

    json_object_set_new(ev, "api", json_string(name ? name : "unknown"));
    json_object_set_new(ev, "api_key", json_integer(api_key));
    json_object_set_new(ev, "api_version", json_integer(api_version));
}


static void
hoop_audit_set_resource(json_t *ev, hoop_policy_res_t type,
    const u_char *name, size_t len, hoop_policy_op_t op)
{
    json_object_set_new(ev, "resource_type",
                        json_string(hoop_policy_res_name(type)));

    if (name) {
        hoop_audit_set_bytes(ev, "resource", name, len);

    } else {
        /* KIP-679: "some topic" (authorizeByResourceType) */
        json_object_set_new(ev, "resource", json_string("*"));
    }

    json_object_set_new(ev, "operation", json_string(hoop_policy_op_name(op)));
}


/* ApiKeys whose allowed decisions are summed (docs/audit.md) */
static ngx_uint_t
hoop_audit_high_volume(int16_t api_key)
{
    switch (api_key) {
    case HOOP_KAFKA_API_PRODUCE:
    case HOOP_KAFKA_API_FETCH:
    case HOOP_KAFKA_API_LIST_OFFSETS:
    case HOOP_KAFKA_API_METADATA:
    case HOOP_KAFKA_API_OFFSET_COMMIT:
    case HOOP_KAFKA_API_OFFSET_FETCH:
    case HOOP_KAFKA_API_FIND_COORDINATOR:
    case HOOP_KAFKA_API_HEARTBEAT:
    case HOOP_KAFKA_API_CONSUMER_GROUP_HEARTBEAT:
    case HOOP_KAFKA_API_SHARE_GROUP_HEARTBEAT:
    case HOOP_KAFKA_API_SHARE_FETCH:
    case HOOP_KAFKA_API_SHARE_ACKNOWLEDGE:
        return 1;
    default:
        return 0;
    }
}


static void
hoop_audit_aggregate(hoop_session_t *hs, int16_t api_key,
    int16_t api_version, hoop_policy_res_t type, hoop_policy_op_t op,
    const u_char *name, size_t len, const u_char *rule, size_t rlen,
    const char *reason, hoop_audit_scope_t *sc, int64_t version)
{
    int64_t                now;
    ngx_uint_t             i, j;
    hoop_audit_agg_t      *a;
    hoop_main_conf_t      *hmcf;
    hoop_audit_session_t  *as;

    as = hs->audit;
    hmcf = hoop_main_conf(hs);

    for (a = as->aggs; a; a = a->next) {
        if (a->api_key == api_key && a->type == type
            && a->op == op && a->len == len
            && ngx_memcmp(a->name, name, len) == 0
            && a->rule_len == rlen
            && (rlen == 0 || ngx_memcmp(a->rule, rule, rlen) == 0)
            && a->policy_version == version)
        {
            break;
        }
    }

    now = hoop_audit_now();

    if (a == NULL) {
        if (as->naggs >= HOOP_AUDIT_AGG_MAX) {
            hoop_audit_flush_aggs(hs);
        }

        a = ngx_calloc(sizeof(hoop_audit_agg_t), ngx_cycle->log);
        if (a == NULL) {
            return;
        }

        a->name = ngx_alloc(len + rlen + 1, ngx_cycle->log);
        if (a->name == NULL) {
            ngx_free(a);
            return;
        }

        ngx_memcpy(a->name, name, len);
        a->len = len;

        if (rlen) {
            a->rule = a->name + len;
            ngx_memcpy(a->rule, rule, rlen);
            a->rule_len = rlen;
        }

        a->api_key = api_key;
        a->api_version = api_version;
        a->type = type;
        a->op = op;
        a->reason = reason;
        a->policy_version = version;
        a->first = now;

        a->next = as->aggs;
        as->aggs = a;
        as->naggs++;

        if (!as->timer.timer_set) {
            ngx_add_timer(&as->timer, hmcf->audit.aggregate);
        }
    }

    a->last = now;
    a->count++;
    a->records += sc->records;
    a->bytes += sc->bytes;
    a->more_parts += sc->more_parts;

    for (i = 0; i < sc->nparts; i++) {
        for (j = 0; j < a->nparts; j++) {
            if (a->parts[j].partition == sc->parts[i].partition) {
                break;
            }
        }

        if (j == a->nparts) {
            if (a->nparts == HOOP_AUDIT_AGG_PARTS) {
                a->more_parts++;
                continue;
            }

            a->parts[j] = sc->parts[i];
            a->nparts++;
            continue;
        }

        if (sc->parts[i].first >= 0) {
            if (a->parts[j].first < 0
                || sc->parts[i].first < a->parts[j].first)
            {
                a->parts[j].first = sc->parts[i].first;
            }

            if (sc->parts[i].last > a->parts[j].last) {
                a->parts[j].last = sc->parts[i].last;
            }
        }
    }
}


/* ---------------------------------------------------------------------
 * Session recording: "record" events, one per request and per response
 */

static json_t *
hoop_audit_record_event(hoop_session_t *hs, const char *dir,
    int16_t api_key, int16_t api_version, int32_t correlation_id,
    const u_char *frame, size_t size)
{
    u_char     *b64;
    json_t     *ev;
    ngx_str_t   src, dst;

    ev = hoop_audit_event(hs, "record");
    if (ev == NULL) {
        return NULL;
    }

    json_object_set_new(ev, "dir", json_string(dir));
    hoop_audit_set_api(ev, api_key, api_version);
    json_object_set_new(ev, "correlation_id", json_integer(correlation_id));
    json_object_set_new(ev, "size", json_integer((json_int_t) size));

    if (hs->audit->record == HOOP_POLICY_RECORD_PAYLOADS && frame) {
        b64 = ngx_alloc(ngx_base64_encoded_length(size) + 1, ngx_cycle->log);

        if (b64) {
            src.data = (u_char *) frame;
            src.len = size;
            dst.data = b64;
            ngx_encode_base64(&dst, &src);
            json_object_set_new(ev, "payload",
                                json_stringn((char *) dst.data, dst.len));
            ngx_free(b64);
        }
    }

    return ev;
}


void
hoop_audit_record_request(hoop_session_t *hs, hoop_request_t *req,
    const hoop_authz_check_t *ck, size_t n)
{
    size_t   i;
    json_t  *ev, *checks, *c;

    ev = hoop_audit_record_event(hs, "request", req->api_key,
                                 req->api_version, req->correlation_id,
                                 NULL, req->frame_size);
    if (ev == NULL) {
        return;
    }

    checks = json_array();

    for (i = 0; checks && i < n; i++) {
        if (ck[i].flags & (HOOP_AUTHZ_CHECK_OPS | HOOP_AUTHZ_CHECK_RESPONSE))
        {
            continue;
        }

        c = json_array();
        json_array_append_new(c, json_string(
                                       hoop_policy_res_name(ck[i].type)));
        json_array_append_new(c, ck[i].name
                                 ? json_stringn((char *) ck[i].name,
                                                ck[i].len)
                                 : json_string("*"));
        json_array_append_new(c, json_string(hoop_policy_op_name(ck[i].op)));
        json_array_append_new(c, json_string(ck[i].allowed ? "allow"
                                                           : "deny"));
        json_array_append_new(checks, c);
    }

    json_object_set_new(ev, "checks", checks);

    /* the payload is added when the frame is forwarded or answered */
    if (hs->audit->record == HOOP_POLICY_RECORD_PAYLOADS) {
        hs->audit->pending = ev;
        return;
    }

    hoop_audit_emit(ev);
}


/* the request frame as forwarded (after the policy's rewrite) */
void
hoop_audit_record_frame(hoop_session_t *hs, const u_char *frame, size_t size)
{
    u_char     *b64;
    json_t     *ev;
    ngx_str_t   src, dst;

    if (hs->audit == NULL || hs->audit->pending == NULL) {
        return;
    }

    ev = hs->audit->pending;
    hs->audit->pending = NULL;

    if (frame) {
        b64 = ngx_alloc(ngx_base64_encoded_length(size) + 1, ngx_cycle->log);

        if (b64) {
            src.data = (u_char *) frame;
            src.len = size;
            dst.data = b64;
            ngx_encode_base64(&dst, &src);
            json_object_set_new(ev, "payload",
                                json_stringn((char *) dst.data, dst.len));
            ngx_free(b64);
        }
    }

    hoop_audit_emit(ev);
}


void
hoop_audit_record_response(hoop_session_t *hs, int16_t api_key,
    int16_t api_version, int32_t correlation_id, ngx_uint_t local,
    const u_char *frame, size_t size)
{
    json_t  *ev;

    if (hs->audit == NULL || !hs->audit->record) {
        return;
    }

    /* a request's record goes first, with or without its frame */
    hoop_audit_record_frame(hs, NULL, 0);

    ev = hoop_audit_record_event(hs, "response", api_key, api_version,
                                 correlation_id, frame, size);
    if (ev == NULL) {
        return;
    }

    if (local) {
        json_object_set_new(ev, "local", json_true());
    }

    hoop_audit_emit(ev);
}


static void
hoop_audit_flush_aggs(hoop_session_t *hs)
{
    json_t                *ev;
    ngx_uint_t             offsets;
    hoop_audit_agg_t      *a, *next;
    hoop_audit_session_t  *as;

    as = hs->audit;

    if (as == NULL) {
        return;
    }

    if (as->timer.timer_set) {
        ngx_del_timer(&as->timer);
    }

    for (a = as->aggs; a; a = next) {
        next = a->next;

        ev = hoop_audit_event(hs, "aggregate");

        if (ev) {
            /* the window's first request */
            json_object_set_new(ev, "ts", json_integer(a->first));
            hoop_audit_set_api(ev, a->api_key, a->api_version);
            hoop_audit_set_resource(ev, a->type, a->name, a->len, a->op);

            offsets = (a->api_key == HOOP_KAFKA_API_FETCH);

            if (a->nparts) {
                json_object_set_new(ev, "partitions",
                    hoop_audit_parts_json(a->parts, a->nparts, 0));

                if (offsets) {
                    json_object_set_new(ev, "offsets",
                        hoop_audit_parts_json(a->parts, a->nparts, 1));
                }
            }

            if (a->more_parts) {
                json_object_set_new(ev, "partitions_more",
                                    json_integer(a->more_parts));
            }

            if (a->api_key == HOOP_KAFKA_API_PRODUCE
                || a->api_key == HOOP_KAFKA_API_FETCH)
            {
                json_object_set_new(ev, "records", json_integer(a->records));
                json_object_set_new(ev, "bytes", json_integer(a->bytes));
            }

            json_object_set_new(ev, "decision", json_string("allow"));
            json_object_set_new(ev, "reason", json_string(a->reason));

            if (a->rule) {
                json_object_set_new(ev, "rule",
                                    json_stringn((char *) a->rule,
                                                 a->rule_len));
            }

            json_object_set_new(ev, "policy_version",
                                json_integer(a->policy_version));
            json_object_set_new(ev, "count", json_integer(a->count));
            json_object_set_new(ev, "until", json_integer(a->last));

            hoop_audit_emit(ev);
        }

        ngx_free(a->name);
        ngx_free(a);
    }

    as->aggs = NULL;
    as->naggs = 0;
}


static void
hoop_audit_agg_timer(ngx_event_t *ev)
{
    hoop_audit_flush_aggs(ev->data);
}


/* "mask": [[rule id, fields], ...] of topic[0..len), or NULL if none */

static json_t *
hoop_audit_mask_json(const hoop_audit_mask_t *m, size_t n,
    const u_char *topic, size_t len)
{
    size_t   i;
    json_t  *a, *e;

    a = NULL;

    for (i = 0; i < n; i++) {
        if (m[i].fields == 0 || m[i].topic_len != len
            || ngx_memcmp(m[i].topic, topic, len) != 0)
        {
            continue;
        }

        if (a == NULL) {
            a = json_array();
            if (a == NULL) {
                return NULL;
            }
        }

        e = json_array();
        json_array_append_new(e, json_string(m[i].rule));
        json_array_append_new(e, json_integer((json_int_t) m[i].fields));
        json_array_append_new(a, e);
    }

    return a;
}


static hoop_audit_parked_t *
hoop_audit_park(hoop_session_t *hs, hoop_request_t *req,
    const hoop_authz_check_t *ck, hoop_audit_decision_t *ad,
    hoop_audit_scope_t *sc, int64_t version, ngx_uint_t aggregate,
    json_t *ev)
{
    size_t                 rlen;
    hoop_audit_parked_t   *pk;
    hoop_audit_session_t  *as;

    as = hs->audit;
    rlen = (ad && ad->rule) ? ngx_strlen(ad->rule) : 0;

    pk = ngx_calloc(sizeof(hoop_audit_parked_t), ngx_cycle->log);
    if (pk == NULL) {
        return NULL;
    }

    pk->name = ngx_alloc(ck->len + rlen + 1, ngx_cycle->log);
    if (pk->name == NULL) {
        ngx_free(pk);
        return NULL;
    }

    ngx_memcpy(pk->name, ck->name, ck->len);
    pk->len = ck->len;

    if (rlen) {
        pk->rule = pk->name + ck->len;
        ngx_memcpy(pk->rule, ad->rule, rlen);
        pk->rule_len = rlen;
    }

    pk->correlation_id = req->correlation_id;
    pk->api_key = req->api_key;
    pk->api_version = req->api_version;
    pk->type = ck->type;
    pk->op = ck->op;
    pk->reason = ad ? ad->reason : "grant";
    pk->version = version;
    pk->aggregate = aggregate;
    pk->ev = ev;
    pk->sc = *sc;

    *as->parked_last = pk;
    as->parked_last = &pk->next;

    return pk;
}


/* a parked Fetch event: with its masking, or as it would have been */

static void
hoop_audit_unpark(hoop_session_t *hs, hoop_audit_parked_t *pk,
    const hoop_audit_mask_t *m, size_t n)
{
    json_t  *mask;

    mask = hoop_audit_mask_json(m, n, pk->name, pk->len);

    if (mask) {
        json_object_set_new(pk->ev, "mask", mask);
        hoop_audit_emit(pk->ev);

    } else if (pk->aggregate) {
        json_decref(pk->ev);
        hoop_audit_aggregate(hs, pk->api_key, pk->api_version, pk->type,
                             pk->op, pk->name, pk->len, pk->rule,
                             pk->rule_len, pk->reason, &pk->sc, pk->version);

    } else {
        hoop_audit_emit(pk->ev);
    }

    ngx_free(pk->name);
    ngx_free(pk);
}


void
hoop_audit_request(hoop_session_t *hs, hoop_request_t *req,
    hoop_authz_plan_t *plan)
{
    size_t                  n, i, rlen;
    json_t                 *ev, *mask;
    int64_t                 version;
    ngx_uint_t              aggregate, park;
    hoop_main_conf_t       *hmcf;
    hoop_audit_scope_t      sc;
    hoop_audit_parked_t    *pk;
    hoop_audit_session_t   *as;
    hoop_audit_decision_t  *ad;
    const hoop_authz_check_t  *ck;

    as = hs->audit;

    if (as == NULL || plan == NULL) {
        goto done;
    }

    hmcf = hoop_main_conf(hs);
    version = hoop_authorize_version(hs);
    ck = hoop_authz_checks(plan, &n);

    for (i = 0; i < n; i++) {
        /* IF_ABSENT: Metadata's CREATE for auto-creation, which decides
         * nothing for topics that exist (most): not an event */
        if (ck[i].flags & (HOOP_AUTHZ_CHECK_QUIET | HOOP_AUTHZ_CHECK_OPS
                           | HOOP_AUTHZ_CHECK_RESPONSE
                           | HOOP_AUTHZ_CHECK_IF_ABSENT))
        {
            continue;
        }

        ad = hoop_audit_find(as, &ck[i]);

        hoop_audit_scope(&ck[i], &sc);

        /* a mask is never summed away: Produce knows it now, Fetch once
         * the response is masked */
        mask = NULL;
        park = 0;

        if (ck[i].allowed && ck[i].type == HOOP_POLICY_RES_TOPIC
            && ck[i].name)
        {
            if (req->api_key == HOOP_KAFKA_API_PRODUCE
                && ck[i].op == HOOP_POLICY_OP_WRITE)
            {
                mask = hoop_audit_mask_json(as->masks, as->nmasks,
                                            ck[i].name, ck[i].len);

            } else if (req->api_key == HOOP_KAFKA_API_FETCH
                       && ck[i].op == HOOP_POLICY_OP_READ
                       && hoop_masking_applies(hs, HOOP_MASK_FETCH,
                                               ck[i].name, ck[i].len))
            {
                park = 1;
            }
        }

        /* a request that waited for an approval is never summed away */
        aggregate = ck[i].allowed && hmcf->audit.aggregate
                    && hoop_audit_high_volume(req->api_key)
                    && !(ad && ad->approval[0]);

        if (aggregate && mask == NULL && !park) {
            rlen = (ad && ad->rule) ? ngx_strlen(ad->rule) : 0;
            hoop_audit_aggregate(hs, req->api_key, req->api_version,
                                 ck[i].type, ck[i].op, ck[i].name,
                                 ck[i].len, ad ? ad->rule : NULL, rlen,
                                 ad ? ad->reason : "grant", &sc, version);
            continue;
        }

        ev = hoop_audit_event(hs, "request");
        if (ev == NULL) {
            if (mask) {
                json_decref(mask);
            }

            continue;
        }

        hoop_audit_set_api(ev, req->api_key, req->api_version);
        json_object_set_new(ev, "correlation_id",
                            json_integer(req->correlation_id));
        hoop_audit_set_resource(ev, ck[i].type, ck[i].name, ck[i].len,
                                ck[i].op);

        if (sc.nparts) {
            json_object_set_new(ev, "partitions",
                hoop_audit_parts_json(sc.parts, sc.nparts, 0));
        }

        if (sc.has_offsets) {
            json_object_set_new(ev, "offsets",
                hoop_audit_parts_json(sc.parts, sc.nparts, 1));
        }

        if (sc.has_records) {
            json_object_set_new(ev, "records", json_integer(sc.records));
            json_object_set_new(ev, "bytes", json_integer(sc.bytes));
        }

        json_object_set_new(ev, "decision",
                            json_string(ck[i].allowed ? "allow" : "deny"));

        if (ck[i].flags & HOOP_AUTHZ_CHECK_IMPLICIT) {
            json_object_set_new(ev, "reason", json_string("kafka rule"));

        } else if (ad) {
            json_object_set_new(ev, "reason", json_string(ad->reason));

            if (ad->rule) {
                json_object_set_new(ev, "rule",
                                    json_string((char *) ad->rule));
            }

            if (ad->approval[0]) {
                json_object_set_new(ev, "approval",
                                    json_string(ad->approval));
            }
        }

        json_object_set_new(ev, "policy_version", json_integer(version));

        if (mask) {
            json_object_set_new(ev, "mask", mask);
        }

        if (park) {
            pk = hoop_audit_park(hs, req, &ck[i], ad, &sc, version,
                                 aggregate, ev);
            if (pk) {
                continue;
            }
        }

        hoop_audit_emit(ev);
    }

    if (as->record) {
        hoop_audit_record_request(hs, req, ck, n);
    }

done:

    if (as) {
        as->pool = NULL;
        as->decisions = NULL;
        as->masks = NULL;
        as->nmasks = 0;
    }
}


void
hoop_audit_masks(hoop_session_t *hs, const hoop_audit_mask_t *m, size_t n)
{
    if (hs->audit) {
        hs->audit->masks = m;
        hs->audit->nmasks = n;
    }
}


void
hoop_audit_fetch_masked(hoop_session_t *hs, int32_t correlation_id,
    const hoop_audit_mask_t *m, size_t n)
{
    hoop_audit_parked_t   *pk, **link;
    hoop_audit_session_t  *as;

    as = hs->audit;

    if (as == NULL) {
        return;
    }

    link = &as->parked;

    while ((pk = *link) != NULL) {
        if (pk->correlation_id != correlation_id) {
            link = &pk->next;
            continue;
        }

        *link = pk->next;

        if (as->parked_last == &pk->next) {
            as->parked_last = link;
        }

        hoop_audit_unpark(hs, pk, m, n);
    }
}


void
hoop_audit_auth(hoop_session_t *hs, ngx_uint_t ok, ngx_str_t *reason)
{
    json_t  *ev;

    hoop_metrics_auth(hs->identity.method, ok);
    hoop_stats_auth(hs, ok);

    ev = hoop_audit_event(hs, ok ? "authenticated" : "authentication_failed");
    if (ev == NULL) {
        return;
    }

    if (!ok && reason && reason->len) {
        hoop_audit_set_bytes(ev, "error", reason->data, reason->len);
    }

    hoop_audit_emit(ev);
}


void
hoop_audit_protocol_error(hoop_session_t *hs, const char *why)
{
    json_t  *ev;

    hoop_metric_add(protocol_errors, 1);

    ev = hoop_audit_event(hs, "protocol_error");
    if (ev == NULL) {
        return;
    }

    hoop_audit_set_bytes(ev, "error", (u_char *) why, ngx_strlen(why));
    hoop_audit_emit(ev);
}


static void
hoop_audit_close(hoop_session_t *hs)
{
    json_t                *ev;
    ngx_time_t            *tp;
    ngx_connection_t      *c;
    ngx_stream_session_t  *s;
    hoop_audit_parked_t   *pk;
    hoop_audit_session_t  *as;

    /* Fetch events still waiting: the response never came */
    as = hs->audit;

    while (as && (pk = as->parked) != NULL) {
        as->parked = pk->next;
        hoop_audit_unpark(hs, pk, NULL, 0);
    }

    if (as) {
        as->parked_last = &as->parked;
    }

    hoop_audit_flush_aggs(hs);

    s = hs->session;
    c = s->connection;

    ev = hoop_audit_event(hs, "closed");
    if (ev == NULL) {
        return;
    }

    json_object_set_new(ev, "bytes_in", json_integer(s->received));
    json_object_set_new(ev, "bytes_out", json_integer(c->sent));
    json_object_set_new(ev, "requests",
                        json_integer(hs->dir[HOOP_DIR_REQUEST].frames));
    tp = ngx_timeofday();
    json_object_set_new(ev, "duration_ms",
                        json_integer((json_int_t) (tp->sec - s->start_sec)
                                     * 1000 + (json_int_t) tp->msec
                                     - (json_int_t) s->start_msec));

    hoop_audit_emit(ev);
}


/*
 * A Fetch response (v0-v12: topics by name): what was read goes into the
 * connection's aggregate for (Fetch, topic, read): records and bytes
 * (RecordBatch headers), and the "next" offset of each partition (after
 * the last whole batch).  Without aggregation there is nothing to add to.
 */

void
hoop_audit_fetch_response(hoop_session_t *hs, int16_t version,
    const u_char *frame, size_t size)
{
    int                            hv;
    size_t                         nlen, rlen;
    int64_t                        next;
    uint64_t                       nrec;
    ngx_uint_t                     j;
    ngx_pool_t                    *pool;
    const uint8_t                 *name, *rec;
    hoop_kafka_err_t               err;
    hoop_kafka_node_t             *root, *arr, *t, *pa, *p, *n, *r;
    hoop_audit_agg_t              *a;
    hoop_kafka_alloc_t             alloc;
    hoop_audit_session_t          *as;
    hoop_kafka_response_header_t   h;

    as = hs->audit;

    if (as == NULL || as->aggs == NULL || version >= 13) {
        return;
    }

    hv = hoop_kafka_response_header_version(HOOP_KAFKA_API_FETCH, version);

    if (hoop_kafka_response_header_parse(frame + 4, size - 4, hv, &h, &err)
        != HOOP_KAFKA_OK)
    {
        return;    /* hoop_codec_response() says why */
    }

    pool = ngx_create_pool(4096, hs->session->connection->log);
    if (pool == NULL) {
        return;
    }

    hoop_codec_allocator(pool, &alloc);

    if (hoop_kafka_decode(&alloc, HOOP_KAFKA_API_FETCH, version, 1,
                          frame + 4 + h.len, size - 4 - h.len, &root, &err)
        != HOOP_KAFKA_OK)
    {
        goto done;
    }

    arr = hoop_kafka_node_child(root, "Responses");

    for (t = arr ? hoop_kafka_node_first(arr) : NULL; t;
         t = hoop_kafka_node_next(t))
    {
        n = hoop_kafka_node_child(t, "Topic");
        pa = hoop_kafka_node_child(t, "Partitions");
        name = n ? hoop_kafka_node_bytes(n, &nlen) : NULL;

        if (name == NULL || pa == NULL) {
            continue;
        }

        for (a = as->aggs; a; a = a->next) {
            if (a->api_key == HOOP_KAFKA_API_FETCH
                && a->type == HOOP_POLICY_RES_TOPIC
                && a->op == HOOP_POLICY_OP_READ && a->len == nlen
                && ngx_memcmp(a->name, name, nlen) == 0)
            {
                break;
            }
        }

        if (a == NULL) {
            continue;    /* flushed since the request, or not allowed */
        }

        for (p = hoop_kafka_node_first(pa); p; p = hoop_kafka_node_next(p)) {
            n = hoop_kafka_node_child(p, "PartitionIndex");
            r = hoop_kafka_node_child(p, "Records");

            if (n == NULL || r == NULL || hoop_kafka_node_is_null(r)) {
                continue;
            }

            rec = hoop_kafka_node_bytes(r, &rlen);
            if (rec == NULL || rlen == 0) {
                continue;
            }

            nrec = hoop_audit_records(rec, rlen, &next);
            a->records += nrec;
            a->bytes += rlen;

            for (j = 0; j < a->nparts; j++) {
                if (a->parts[j].partition
                    == (int32_t) hoop_kafka_node_int(n))
                {
                    if (next > a->parts[j].last) {
                        a->parts[j].last = next;
                    }

                    break;
                }
            }
        }
    }

done:

    ngx_destroy_pool(pool);
}
