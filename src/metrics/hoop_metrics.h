/*
 * Prometheus metrics (docs/metrics.md): counters and gauges in one shared
 * memory zone that every worker adds to with atomic operations, so the
 * numbers are the whole nginx instance's, and survive a reload (the zone
 * is reused).  Per-worker gauges have a slot per worker (ngx_worker).
 *
 * The exposition (Prometheus text format 0.0.4) is served by a stream
 * server with "hoop_metrics;" (hoop_metrics_http.c): it answers any HTTP
 * GET with the current values and closes.
 */

#ifndef _HOOP_METRICS_H_INCLUDED_
#define _HOOP_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>


#define HOOP_METRICS_APIS      128     /* ApiKeys 0..127 */
#define HOOP_METRICS_WORKERS   64      /* per-worker slots */

/* what happened to a request (hoop_requests_total{decision}) */
typedef enum {
    HOOP_METRIC_ALLOW = 0,             /* forwarded as the policy allowed */
    HOOP_METRIC_DENY,                  /* answered by the gateway: denied */
    HOOP_METRIC_PARTIAL,               /* forwarded in part */
    HOOP_METRIC_UNCHECKED,             /* forwarded, no policy configured */
    HOOP_METRIC_LOCAL,                 /* answered by the gateway (SASL,
                                          ApiVersions fallback) */
    HOOP_METRIC_REFUSED,               /* connection closed for it */
    HOOP_METRIC_DECISIONS
} hoop_metric_decision_e;

/* audit events (hoop_audit_events_total{outcome}) */
typedef enum {
    HOOP_METRIC_AUDIT_WRITTEN = 0,
    HOOP_METRIC_AUDIT_SPOOLED,
    HOOP_METRIC_AUDIT_REPLAYED,
    HOOP_METRIC_AUDIT_DROPPED,
    HOOP_METRIC_AUDIT_LOST,
    HOOP_METRIC_AUDIT_OUTCOMES
} hoop_metric_audit_e;

#define HOOP_METRIC_AUTH_METHODS  6    /* PLAIN, SCRAM-SHA-256, -512,
                                          OAUTHBEARER, mTLS, other */

typedef struct {
    ngx_atomic_t         pid;
    ngx_atomic_t         policy_version;     /* -1: none */
    ngx_atomic_t         redis_ready;        /* connections ready */
    ngx_atomic_t         audit_spool_bytes;
    ngx_atomic_t         audit_queue_bytes;
} hoop_metrics_worker_t;

typedef struct {
    ngx_atomic_t         requests[HOOP_METRICS_APIS][HOOP_METRIC_DECISIONS];
    ngx_atomic_t         auth[HOOP_METRIC_AUTH_METHODS][2];  /* fail, ok */
    ngx_atomic_t         connections_total;
    ngx_atomic_t         connections_active;
    ngx_atomic_t         client_bytes_in;
    ngx_atomic_t         client_bytes_out;
    ngx_atomic_t         protocol_errors;
    ngx_atomic_t         audit[HOOP_METRIC_AUDIT_OUTCOMES];
    ngx_atomic_t         policy_loads;
    ngx_atomic_t         policy_refused;
    ngx_atomic_t         masked_fields;
    ngx_atomic_t         approvals_held;
    hoop_metrics_worker_t  workers[HOOP_METRICS_WORKERS];
} hoop_metrics_t;


/* the zone's data in this process, NULL before it is set up */
extern hoop_metrics_t  *hoop_metrics;

/* postconfiguration: the zone "hoop_metrics" (reused across reloads) */
ngx_int_t hoop_metrics_init_conf(ngx_conf_t *cf, void *tag);

/* init_process: this worker's slot */
void hoop_metrics_init_process(void);

#define hoop_metric_add(field, n)                                             \
    do {                                                                      \
        if (hoop_metrics) {                                                   \
            (void) ngx_atomic_fetch_add(&hoop_metrics->field,                 \
                                        (ngx_atomic_int_t) (n));              \
        }                                                                     \
    } while (0)

/* this worker's slot, or NULL */
hoop_metrics_worker_t *hoop_metrics_worker(void);

void hoop_metrics_request(int16_t api_key, hoop_metric_decision_e d);
void hoop_metrics_auth(const char *method, ngx_uint_t ok);

/*
 * The exposition text into a buffer from pool: Prometheus text format
 * version 0.0.4.  NULL on allocation failure.
 */
ngx_buf_t *hoop_metrics_render(ngx_pool_t *pool);

/* "hoop_metrics;" in a stream server: that server serves the metrics */
char *hoop_metrics_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


#endif /* _HOOP_METRICS_H_INCLUDED_ */
