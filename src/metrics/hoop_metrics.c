/*
 * The metrics zone and the exposition text (hoop_metrics.h).
 */

#include "hoop_metrics.h"
#include "../kafka/hoop_kafka_walker.h"


hoop_metrics_t  *hoop_metrics;

static hoop_metrics_worker_t  *hoop_metrics_slot;


static const char  *hoop_metric_decision_names[HOOP_METRIC_DECISIONS] = {
    "allow", "deny", "partial", "unchecked", "local", "refused"
};

static const char  *hoop_metric_audit_names[HOOP_METRIC_AUDIT_OUTCOMES] = {
    "written", "spooled", "replayed", "dropped", "lost"
};

static const char  *hoop_metric_auth_names[HOOP_METRIC_AUTH_METHODS] = {
    "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "mTLS", "other"
};


static ngx_int_t
hoop_metrics_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    if (data) {
        /* a reload: the counters go on */
        zone->data = data;
        hoop_metrics = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (shpool->data) {
        /* the zone survived a binary upgrade */
        zone->data = shpool->data;
        hoop_metrics = shpool->data;
        return NGX_OK;
    }

    hoop_metrics = ngx_slab_calloc(shpool, sizeof(hoop_metrics_t));
    if (hoop_metrics == NULL) {
        return NGX_ERROR;
    }

    shpool->data = hoop_metrics;
    zone->data = hoop_metrics;

    return NGX_OK;
}


ngx_int_t
hoop_metrics_init_conf(ngx_conf_t *cf, void *tag)
{
    ngx_str_t        name;
    ngx_shm_zone_t  *zone;

    ngx_str_set(&name, "hoop_metrics");

    zone = ngx_shared_memory_add(cf, &name,
                                 ngx_align(sizeof(hoop_metrics_t), ngx_pagesize)
                                 + 8 * ngx_pagesize, tag);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = hoop_metrics_init_zone;

    return NGX_OK;
}


void
hoop_metrics_init_process(void)
{
    hoop_metrics_worker_t  *w;

    if (hoop_metrics == NULL) {
        return;
    }

    w = &hoop_metrics->workers[ngx_worker % HOOP_METRICS_WORKERS];

    /* the previous occupant of the slot (before a reload) is gone */
    w->pid = ngx_pid;
    w->policy_version = (ngx_atomic_uint_t) -1;
    w->redis_ready = 0;
    w->audit_spool_bytes = 0;
    w->audit_queue_bytes = 0;

    hoop_metrics_slot = w;
}


hoop_metrics_worker_t *
hoop_metrics_worker(void)
{
    return hoop_metrics_slot;
}


void
hoop_metrics_request(int16_t api_key, hoop_metric_decision_e d)
{
    if (hoop_metrics && api_key >= 0 && api_key < HOOP_METRICS_APIS) {
        (void) ngx_atomic_fetch_add(&hoop_metrics->requests[api_key][d], 1);
    }
}


void
hoop_metrics_auth(const char *method, ngx_uint_t ok)
{
    ngx_uint_t  i;

    if (hoop_metrics == NULL) {
        return;
    }

    for (i = 0; i < HOOP_METRIC_AUTH_METHODS - 1; i++) {
        if (method && ngx_strcmp(method, hoop_metric_auth_names[i]) == 0) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&hoop_metrics->auth[i][ok ? 1 : 0], 1);
}


/* ---------------------------------------------------------------------
 * Exposition
 */

typedef struct {
    u_char              *pos;
    u_char              *last;
    ngx_uint_t           overflow;
} hoop_metrics_out_t;


static void
hoop_metrics_printf(hoop_metrics_out_t *o, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    o->pos = ngx_vslprintf(o->pos, o->last, fmt, args);
    va_end(args);

    if (o->pos == o->last) {
        o->overflow = 1;
    }
}


static void
hoop_metrics_head(hoop_metrics_out_t *o, const char *name, const char *type,
    const char *help)
{
    hoop_metrics_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                        type);
}


ngx_buf_t *
hoop_metrics_render(ngx_pool_t *pool)
{
    size_t                  size;
    ngx_buf_t              *b;
    ngx_uint_t              k, d, i;
    const char             *api;
    hoop_metrics_t         *m;
    hoop_metrics_out_t      o;
    hoop_metrics_worker_t  *w;

    m = hoop_metrics;
    size = 64 * 1024;

    for ( ;; ) {
        b = ngx_create_temp_buf(pool, size);
        if (b == NULL) {
            return NULL;
        }

        o.pos = b->pos;
        o.last = b->end;
        o.overflow = 0;

        if (m == NULL) {
            hoop_metrics_printf(&o, "# hoop: no metrics zone\n");
            b->last = o.pos;
            return b;
        }

        hoop_metrics_head(&o, "hoop_requests_total", "counter",
                          "Kafka requests by ApiKey and what the gateway "
                          "did with them.");

        for (k = 0; k < HOOP_METRICS_APIS; k++) {
            api = hoop_kafka_api_name((int16_t) k);

            for (d = 0; d < HOOP_METRIC_DECISIONS; d++) {
                if (m->requests[k][d] == 0) {
                    continue;
                }

                hoop_metrics_printf(&o,
                    "hoop_requests_total{api=\"%s\",api_key=\"%ui\","
                    "decision=\"%s\"} %uA\n", api ? api : "unknown", k,
                    hoop_metric_decision_names[d], m->requests[k][d]);
            }
        }

        hoop_metrics_head(&o, "hoop_authentications_total", "counter",
                          "Client authentications by mechanism and result.");

        for (i = 0; i < HOOP_METRIC_AUTH_METHODS; i++) {
            for (d = 0; d < 2; d++) {
                hoop_metrics_printf(&o,
                    "hoop_authentications_total{method=\"%s\","
                    "result=\"%s\"} %uA\n", hoop_metric_auth_names[i],
                    d ? "success" : "failure", m->auth[i][d]);
            }
        }

        hoop_metrics_head(&o, "hoop_connections_total", "counter",
                          "Kafka client connections handled.");
        hoop_metrics_printf(&o, "hoop_connections_total %uA\n",
                            m->connections_total);
        hoop_metrics_head(&o, "hoop_connections_active", "gauge",
                          "Kafka client connections open now.");
        hoop_metrics_printf(&o, "hoop_connections_active %uA\n",
                            m->connections_active);

        hoop_metrics_head(&o, "hoop_client_bytes_total", "counter",
                          "Bytes from and to Kafka clients, counted when "
                          "a connection closes.");
        hoop_metrics_printf(&o,
                            "hoop_client_bytes_total{direction=\"in\"} %uA\n"
                            "hoop_client_bytes_total{direction=\"out\"} %uA\n",
                            m->client_bytes_in, m->client_bytes_out);

        hoop_metrics_head(&o, "hoop_protocol_errors_total", "counter",
                          "Connections closed for a malformed frame.");
        hoop_metrics_printf(&o, "hoop_protocol_errors_total %uA\n",
                            m->protocol_errors);

        hoop_metrics_head(&o, "hoop_audit_events_total", "counter",
                          "Audit events by outcome: written to Redis, "
                          "spooled, replayed from a spool, dropped (spool "
                          "full, full=drop), lost.");

        for (i = 0; i < HOOP_METRIC_AUDIT_OUTCOMES; i++) {
            hoop_metrics_printf(&o,
                                "hoop_audit_events_total{outcome=\"%s\"} %uA\n",
                                hoop_metric_audit_names[i], m->audit[i]);
        }

        hoop_metrics_head(&o, "hoop_policy_loads_total", "counter",
                          "Policy versions loaded, and refused (did not "
                          "compile).");
        hoop_metrics_printf(&o,
                            "hoop_policy_loads_total{result=\"loaded\"} %uA\n"
                            "hoop_policy_loads_total{result=\"refused\"} %uA\n",
                            m->policy_loads, m->policy_refused);

        hoop_metrics_head(&o, "hoop_masked_fields_total", "counter",
                          "Record fields masked.");
        hoop_metrics_printf(&o, "hoop_masked_fields_total %uA\n",
                            m->masked_fields);

        hoop_metrics_head(&o, "hoop_approvals_held", "gauge",
                          "Requests held for an approval now.");
        hoop_metrics_printf(&o, "hoop_approvals_held %uA\n",
                            m->approvals_held);

        hoop_metrics_head(&o, "hoop_worker_policy_version", "gauge",
                          "The Redis policy version each worker enforces "
                          "(-1: none).");

        for (i = 0; i < HOOP_METRICS_WORKERS; i++) {
            w = &m->workers[i];
            if (w->pid) {
                hoop_metrics_printf(&o,
                    "hoop_worker_policy_version{worker=\"%ui\",pid=\"%uA\"} "
                    "%A\n", i, w->pid, (ngx_atomic_int_t) w->policy_version);
            }
        }

        hoop_metrics_head(&o, "hoop_worker_redis_connections", "gauge",
                          "Redis connections ready, per worker.");

        for (i = 0; i < HOOP_METRICS_WORKERS; i++) {
            w = &m->workers[i];
            if (w->pid) {
                hoop_metrics_printf(&o,
                    "hoop_worker_redis_connections{worker=\"%ui\","
                    "pid=\"%uA\"} %uA\n", i, w->pid, w->redis_ready);
            }
        }

        hoop_metrics_head(&o, "hoop_worker_audit_spool_bytes", "gauge",
                          "Bytes of audit events waiting in the worker's "
                          "spool file.");

        for (i = 0; i < HOOP_METRICS_WORKERS; i++) {
            w = &m->workers[i];
            if (w->pid) {
                hoop_metrics_printf(&o,
                    "hoop_worker_audit_spool_bytes{worker=\"%ui\","
                    "pid=\"%uA\"} %uA\n", i, w->pid, w->audit_spool_bytes);
            }
        }

        if (!o.overflow) {
            b->last = o.pos;
            return b;
        }

        size *= 2;
    }
}
