/*
 * ngx_stream_hoop_module: Kafka-aware access review on nginx's stream proxy.
 *
 * This file holds the directives, their configuration and the stream
 * filter that hands both directions of a proxied connection to the Kafka
 * session code in src/session/.  See docs/directives.md for the directives
 * and docs/architecture.md for the data path.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "src/session/hoop_session.h"
#include "src/auth/hoop_auth_conf.h"
#include "src/session/hoop_authorize.h"
#include "src/redis/hoop_redis_conf.h"
#include "src/redis/hoop_redis_policy.h"
#include "src/audit/hoop_audit.h"
#include "src/metrics/hoop_metrics.h"
#if (NGX_LINUX) && defined(__GLIBC__)
#include <malloc.h>
#endif
#include "src/session/hoop_stats.h"
#include "src/session/hoop_masking.h"
#include "src/redis/hoop_redis_approval.h"


static void *ngx_stream_hoop_create_main_conf(ngx_conf_t *cf);
static void *ngx_stream_hoop_create_srv_conf(ngx_conf_t *cf);
static char *ngx_stream_hoop_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_stream_hoop_broker_address(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_stream_hoop_policy_cache(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_stream_hoop_check_frame_size(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_stream_hoop_check_buffer_size(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_stream_hoop_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_stream_hoop_init(ngx_conf_t *cf);
static ngx_int_t ngx_stream_hoop_init_process(ngx_cycle_t *cycle);
static void ngx_stream_hoop_malloc_tune(ngx_log_t *log);
static void ngx_stream_hoop_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_stream_hoop_identify(hoop_session_t *hs);
static ngx_int_t ngx_stream_hoop_filter(ngx_stream_session_t *s,
    ngx_chain_t *in, ngx_uint_t from_upstream);


/* The broker's socket.request.max.bytes default: 100 MiB. */
#define HOOP_DEFAULT_MAX_FRAME_SIZE  (100 * 1024 * 1024)
#define HOOP_DEFAULT_BUFFER_SIZE     (1024 * 1024)


static ngx_conf_post_handler_pt  ngx_stream_hoop_frame_size_post =
    ngx_stream_hoop_check_frame_size;
static ngx_conf_post_handler_pt  ngx_stream_hoop_buffer_size_post =
    ngx_stream_hoop_check_buffer_size;


static ngx_conf_enum_t  ngx_stream_hoop_auth[] = {
    { ngx_string("none"), HOOP_AUTH_NONE },
    { ngx_string("sasl"), HOOP_AUTH_SASL },
    { ngx_string("mtls"), HOOP_AUTH_MTLS },
    { ngx_null_string, 0 }
};


static ngx_conf_num_bounds_t  ngx_stream_hoop_maxlen_bounds = {
    ngx_conf_check_num_bounds, 0, NGX_MAX_INT_T_VALUE
};


static ngx_conf_enum_t  ngx_stream_hoop_mtls_from[] = {
    { ngx_string("subject"), HOOP_MTLS_SUBJECT },
    { ngx_string("san_dns"), HOOP_MTLS_SAN_DNS },
    { ngx_string("san_email"), HOOP_MTLS_SAN_EMAIL },
    { ngx_string("san_uri"), HOOP_MTLS_SAN_URI },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_stream_hoop_commands[] = {

    { ngx_string("hoop"),
      NGX_STREAM_SRV_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(hoop_srv_conf_t, enable),
      NULL },

    { ngx_string("hoop_max_frame_size"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(hoop_srv_conf_t, max_frame_size),
      &ngx_stream_hoop_frame_size_post },

    { ngx_string("hoop_buffer_size"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(hoop_srv_conf_t, buffer_size),
      &ngx_stream_hoop_buffer_size_post },

    { ngx_string("hoop_broker_address"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE2,
      ngx_stream_hoop_broker_address,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_auth"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(hoop_srv_conf_t, auth),
      &ngx_stream_hoop_auth },

    { ngx_string("hoop_sasl_mechanisms"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_1MORE,
      hoop_auth_conf_mechanisms,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_sasl_credentials"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      hoop_auth_conf_credentials,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_session_lifetime"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(hoop_srv_conf_t, session_lifetime),
      NULL },

    { ngx_string("hoop_oauth_jwks"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      hoop_auth_conf_jwks,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_oauth_issuer"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      hoop_auth_conf_oauth,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_oauth_audience"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      hoop_auth_conf_oauth,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_oauth_clock_skew"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      hoop_auth_conf_oauth,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_oauth_principal_claim"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      hoop_auth_conf_oauth,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_oauth_groups_claim"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      hoop_auth_conf_oauth,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_oauth_algorithms"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_1MORE,
      hoop_auth_conf_oauth,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_policy"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      hoop_authorize_conf,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_redis"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_1MORE,
      hoop_redis_conf,
      NGX_STREAM_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_policy_cache"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_stream_hoop_policy_cache,
      NGX_STREAM_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_upstream_sasl"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE2,
      hoop_upstream_conf,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_mtls_principal_from"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(hoop_srv_conf_t, mtls_principal_from),
      &ngx_stream_hoop_mtls_from },

    { ngx_string("hoop_mtls_principal_rule"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE2,
      hoop_auth_conf_mtls_rule,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("hoop_audit"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(hoop_srv_conf_t, audit),
      NULL },

    { ngx_string("hoop_node_name"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_MAIN_CONF_OFFSET,
      offsetof(hoop_main_conf_t, audit.node),
      NULL },

    { ngx_string("hoop_audit_stream"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_MAIN_CONF_OFFSET,
      offsetof(hoop_main_conf_t, audit.stream),
      NULL },

    { ngx_string("hoop_audit_maxlen"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_STREAM_MAIN_CONF_OFFSET,
      offsetof(hoop_main_conf_t, audit.maxlen),
      &ngx_stream_hoop_maxlen_bounds },

    { ngx_string("hoop_audit_retention"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_STREAM_MAIN_CONF_OFFSET,
      offsetof(hoop_main_conf_t, audit.retention),
      NULL },

    { ngx_string("hoop_audit_aggregate"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_STREAM_MAIN_CONF_OFFSET,
      offsetof(hoop_main_conf_t, audit.aggregate),
      NULL },

    { ngx_string("hoop_metrics"),
      NGX_STREAM_SRV_CONF|NGX_CONF_NOARGS,
      hoop_metrics_conf,
      0,
      0,
      NULL },

    { ngx_string("hoop_audit_spool"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_1MORE,
      hoop_audit_conf_spool,
      NGX_STREAM_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_stream_module_t  ngx_stream_hoop_module_ctx = {
    ngx_stream_hoop_preconfiguration,      /* preconfiguration */
    ngx_stream_hoop_init,                  /* postconfiguration */

    ngx_stream_hoop_create_main_conf,      /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_stream_hoop_create_srv_conf,       /* create server configuration */
    ngx_stream_hoop_merge_srv_conf         /* merge server configuration */
};


ngx_module_t  ngx_stream_hoop_module = {
    NGX_MODULE_V1,
    &ngx_stream_hoop_module_ctx,           /* module context */
    ngx_stream_hoop_commands,              /* module directives */
    NGX_STREAM_MODULE,                     /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_stream_hoop_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_stream_hoop_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_stream_filter_pt  ngx_stream_next_filter;


static void *
ngx_stream_hoop_create_main_conf(ngx_conf_t *cf)
{
    hoop_main_conf_t  *hmcf;

    hmcf = ngx_pcalloc(cf->pool, sizeof(hoop_main_conf_t));
    if (hmcf == NULL) {
        return NULL;
    }

    hmcf->audit.maxlen = NGX_CONF_UNSET_UINT;
    hmcf->audit.retention = NGX_CONF_UNSET;
    hmcf->audit.aggregate = NGX_CONF_UNSET_MSEC;
    hmcf->audit.spool_max = NGX_CONF_UNSET;
    hmcf->audit.spool_full = NGX_CONF_UNSET_UINT;

    return hmcf;
}


static void *
ngx_stream_hoop_create_srv_conf(ngx_conf_t *cf)
{
    hoop_srv_conf_t  *hscf;

    hscf = ngx_pcalloc(cf->pool, sizeof(hoop_srv_conf_t));
    if (hscf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     hscf->broker_addresses = NULL;
     */

    hscf->enable = NGX_CONF_UNSET;
    hscf->max_frame_size = NGX_CONF_UNSET_SIZE;
    hscf->buffer_size = NGX_CONF_UNSET_SIZE;
    hscf->auth = NGX_CONF_UNSET_UINT;
    hscf->session_lifetime = NGX_CONF_UNSET_MSEC;
    hscf->mtls_principal_from = NGX_CONF_UNSET_UINT;
    hscf->sasl_mechanisms = NGX_CONF_UNSET_PTR;
    hscf->audit = NGX_CONF_UNSET;

    return hscf;
}


static char *
ngx_stream_hoop_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    hoop_srv_conf_t *prev = parent;
    hoop_srv_conf_t *conf = child;

    hoop_main_conf_t  *hmcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_size_value(conf->max_frame_size, prev->max_frame_size,
                              HOOP_DEFAULT_MAX_FRAME_SIZE);
    ngx_conf_merge_size_value(conf->buffer_size, prev->buffer_size,
                              HOOP_DEFAULT_BUFFER_SIZE);

    if (conf->broker_addresses == NULL) {
        conf->broker_addresses = prev->broker_addresses;
    }

    ngx_conf_merge_uint_value(conf->auth, prev->auth, HOOP_AUTH_NONE);
    ngx_conf_merge_msec_value(conf->session_lifetime, prev->session_lifetime,
                              0);
    ngx_conf_merge_uint_value(conf->mtls_principal_from,
                              prev->mtls_principal_from, HOOP_MTLS_SUBJECT);
    ngx_conf_merge_ptr_value(conf->sasl_mechanisms, prev->sasl_mechanisms,
                             NULL);

    if (conf->upstream_sasl == NULL) {
        conf->upstream_sasl = prev->upstream_sasl;
    }

    if (conf->policy == NULL) {
        conf->policy = prev->policy;
    }

    ngx_conf_merge_value(conf->audit, prev->audit, 0);

    if (conf->audit && conf->enable) {
        hmcf = ngx_stream_conf_get_module_main_conf(cf,
                                                    ngx_stream_hoop_module);
        hmcf->audit.used = 1;
    }

    return hoop_auth_conf_merge(cf, prev, conf);
}


/* hoop_policy_cache FILE; (relative to the prefix, like logs) */

static char *
ngx_stream_hoop_policy_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    hoop_main_conf_t *hmcf = conf;

    ngx_str_t  *value;

    if (hmcf->policy_cache.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    hmcf->policy_cache = value[1];

    if (ngx_conf_full_name(cf->cycle, &hmcf->policy_cache, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_stream_hoop_check_frame_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t *sp = data;

    if (*sp < 1024 || *sp > NGX_MAX_INT32_VALUE) {
        return "must be between 1k and 2147483647 bytes (2g - 1)";
    }

    return NGX_CONF_OK;
}


static char *
ngx_stream_hoop_check_buffer_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t *sp = data;

    if (*sp < 4096) {
        return "must be at least 4k";
    }

    return NGX_CONF_OK;
}


/* hoop_broker_address NODE_ID HOST:PORT; */

static char *
ngx_stream_hoop_broker_address(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    hoop_srv_conf_t *hscf = conf;

    u_char                 *colon;
    ngx_int_t               node, port;
    ngx_str_t              *value, host;
    ngx_uint_t              i;
    hoop_broker_address_t  *ba;

    value = cf->args->elts;

    node = ngx_atoi(value[1].data, value[1].len);
    if (node == NGX_ERROR || node > NGX_MAX_INT32_VALUE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid broker node id \"%V\": expected the "
                           "broker's node.id, a non-negative integer",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    colon = ngx_strlchr(value[2].data, value[2].data + value[2].len, ':');

    if (colon == NULL) {
        goto invalid;
    }

    /* the last colon, so that [::1]:9092 works */
    while (ngx_strlchr(colon + 1, value[2].data + value[2].len, ':')) {
        colon = ngx_strlchr(colon + 1, value[2].data + value[2].len, ':');
    }

    host.data = value[2].data;
    host.len = colon - value[2].data;

    if (host.len >= 2 && host.data[0] == '[' && host.data[host.len - 1] == ']')
    {
        host.data++;
        host.len -= 2;
    }

    port = ngx_atoi(colon + 1, value[2].data + value[2].len - colon - 1);

    if (host.len == 0 || host.len > 0x7fff
        || port == NGX_ERROR || port < 1 || port > 65535)
    {
        goto invalid;
    }

    if (hscf->broker_addresses == NULL) {
        hscf->broker_addresses = ngx_array_create(cf->pool, 4,
                                                  sizeof(hoop_broker_address_t));
        if (hscf->broker_addresses == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ba = hscf->broker_addresses->elts;

    for (i = 0; i < hscf->broker_addresses->nelts; i++) {
        if (ba[i].node_id == node) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate hoop_broker_address for node %i",
                               node);
            return NGX_CONF_ERROR;
        }
    }

    ba = ngx_array_push(hscf->broker_addresses);
    if (ba == NULL) {
        return NGX_CONF_ERROR;
    }

    ba->node_id = node;
    ba->host = host;
    ba->port = port;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid gateway address \"%V\": expected host:port "
                       "as clients should reach this broker through nginx",
                       &value[2]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_stream_hoop_preconfiguration(ngx_conf_t *cf)
{
    if (hoop_stats_add_variables(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return hoop_auth_add_variables(cf);
}


static ngx_int_t
ngx_stream_hoop_init_process(ngx_cycle_t *cycle)
{
    char               err[256];
    hoop_main_conf_t  *hmcf;

    err[0] = '\0';

    if (hoop_sasl_server_init(err, sizeof(err)) != 0) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "hoop: SASL server library: %s", err);
        return NGX_ERROR;
    }

    if (err[0]) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0, "hoop: SASL: %s", err);
    }

    err[0] = '\0';

    if (hoop_sasl_client_init(err, sizeof(err)) != 0) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "hoop: SASL client library: %s", err);
        return NGX_ERROR;
    }

    if (ngx_process == NGX_PROCESS_WORKER
        || ngx_process == NGX_PROCESS_SINGLE)
    {
        hoop_metrics_init_process();
        ngx_stream_hoop_malloc_tune(cycle->log);
    }

    /* hoop_policy redis: worker processes watch Redis, helpers do not */
    hmcf = ngx_stream_cycle_get_module_main_conf(cycle,
                                                 ngx_stream_hoop_module);

    if (hmcf && hmcf->redis_policy
        && (ngx_process == NGX_PROCESS_WORKER
            || ngx_process == NGX_PROCESS_SINGLE))
    {
        if (hoop_redis_policy_start(cycle, hmcf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (hmcf && hmcf->audit.used
        && (ngx_process == NGX_PROCESS_WORKER
            || ngx_process == NGX_PROCESS_SINGLE))
    {
        if (hoop_audit_start(cycle, hmcf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Every Kafka frame is a malloc'ed block, freed once forwarded; Fetch
 * responses are typically 1 MiB (max.partition.fetch.bytes) or more.
 * glibc's defaults give such blocks back to the kernel (mmap above its
 * dynamic threshold, or a heap trim once 2x that is free at the top), so
 * each frame page-faults on every page: more than half of a worker's CPU
 * on a consumer's traffic (bench/run, perf).  Blocks up to 32 MiB stay in
 * the heap and the heap is trimmed only above 16 MiB free, so the next
 * frame reuses the last one's pages.  Workers only; glibc only.
 */

static void
ngx_stream_hoop_malloc_tune(ngx_log_t *log)
{
#if (NGX_LINUX) && defined(__GLIBC__)

    if (mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) != 1
        || mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024) != 1)
    {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "hoop: mallopt() refused; glibc's defaults stay");
    }

#endif
}


static void
ngx_stream_hoop_exit_process(ngx_cycle_t *cycle)
{
    hoop_main_conf_t  *hmcf;

    hmcf = ngx_stream_cycle_get_module_main_conf(cycle,
                                                 ngx_stream_hoop_module);

    if (hmcf && hmcf->redis_policy) {
        hoop_redis_policy_stop(cycle, hmcf);
    }

    hoop_redis_approval_stop();
    hoop_audit_stop(cycle);
    hoop_masking_exit();

    hoop_sasl_client_done();
    hoop_sasl_server_done();
}


static ngx_int_t
ngx_stream_hoop_init(ngx_conf_t *cf)
{
    hoop_main_conf_t  *hmcf;

    /* hoop_policy redis: the stream block is read, load the policy */
    hmcf = ngx_stream_conf_get_module_main_conf(cf, ngx_stream_hoop_module);

    if (hoop_redis_policy_init_conf(cf, hmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (hoop_audit_conf_init(cf, hmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (hoop_metrics_init_conf(cf, &ngx_stream_hoop_module) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_stream_next_filter = ngx_stream_top_filter;
    ngx_stream_top_filter = ngx_stream_hoop_filter;

    return NGX_OK;
}


/*
 * The stream filter.  from_upstream 0 carries client requests to the
 * broker, 1 broker responses to the client.  Returns NGX_ERROR to make the
 * proxy close both sides (a protocol error, logged where it was found).
 */

static ngx_int_t
ngx_stream_hoop_filter(ngx_stream_session_t *s, ngx_chain_t *in,
    ngx_uint_t from_upstream)
{
    ngx_int_t          rc, crc;
    hoop_dir_t        *d;
    ngx_chain_t       *cl, *ln, **ll;
    hoop_session_t    *hs;
    hoop_srv_conf_t   *hscf;
    ngx_connection_t  *c;

    c = s->connection;
    hscf = ngx_stream_get_module_srv_conf(s, ngx_stream_hoop_module);

    if (!hscf->enable || c->type != SOCK_STREAM || s->upstream == NULL) {
        return ngx_stream_next_filter(s, in, from_upstream);
    }

    hs = ngx_stream_get_module_ctx(s, ngx_stream_hoop_module);

    if (hs == NULL) {
        hs = hoop_session_create(s, hscf);
        if (hs == NULL) {
            return NGX_ERROR;
        }

        ngx_stream_set_ctx(s, hs, ngx_stream_hoop_module);

        if (hscf->audit) {
            hoop_audit_open(hs);
        }

        if (ngx_stream_hoop_identify(hs) != NGX_OK) {
            hs->error = 1;
            return NGX_ERROR;
        }
    }

    if (hs->error) {
        return NGX_ERROR;
    }

    d = &hs->dir[from_upstream ? HOOP_DIR_RESPONSE : HOOP_DIR_REQUEST];

    if (!from_upstream && hscf->upstream_sasl && hs->up_state == HOOP_UP_NONE)
    {
        if (hoop_upstream_start(hs) != NGX_OK) {
            hs->error = 1;
            return NGX_ERROR;
        }
    }

    for (ll = &d->pending; *ll; ll = &(*ll)->next) { /* void */ }

    for (cl = in; cl; cl = cl->next) {
        if (cl->buf->last == cl->buf->pos) {
            continue;    /* the proxy's empty EOF link */
        }

        ln = ngx_alloc_chain_link(c->pool);
        if (ln == NULL) {
            return NGX_ERROR;
        }

        ln->buf = cl->buf;
        ln->next = NULL;
        *ll = ln;
        ll = &ln->next;
    }

    for ( ;; ) {
        crc = hoop_session_consume(hs, from_upstream ? HOOP_DIR_RESPONSE
                                                     : HOOP_DIR_REQUEST);
        if (crc == NGX_ERROR) {
            hs->error = 1;
            return NGX_ERROR;
        }

        rc = hoop_session_emit(hs, from_upstream ? HOOP_DIR_RESPONSE
                                                 : HOOP_DIR_REQUEST,
                               ngx_stream_next_filter);

        if (rc == NGX_ERROR) {
            hs->error = 1;
            return NGX_ERROR;
        }

        /* sent below the high-water mark while input waits: go on */
        if (crc == NGX_AGAIN && rc == NGX_OK
            && hoop_session_backlog(hs, d == &hs->dir[HOOP_DIR_REQUEST]
                                        ? HOOP_DIR_REQUEST : HOOP_DIR_RESPONSE)
               < hscf->buffer_size)
        {
            continue;
        }

        return rc;
    }
}


/*
 * The identity a connection starts with: its client certificate's with
 * hoop_auth mtls, Kafka's ANONYMOUS with none; SASL sets it later.
 */

static ngx_int_t
ngx_stream_hoop_identify(hoop_session_t *hs)
{
    ngx_str_t  reason;

    switch (hs->conf->auth) {

    case HOOP_AUTH_MTLS:
        if (hoop_mtls_identify(hs->session, hs->conf, &hs->identity)
            != NGX_OK)
        {
            /* the error log has the details */
            ngx_str_set(&reason, "client certificate refused");
            hoop_audit_auth(hs, 0, &reason);
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_INFO, hs->session->connection->log, 0,
                      "hoop: client certificate identifies \"%V\"",
                      &hs->identity.principal);
        hoop_audit_auth(hs, 1, NULL);
        return NGX_OK;

    case HOOP_AUTH_NONE:
        ngx_str_set(&hs->identity.principal, "ANONYMOUS");
        hs->identity.method = "none";
        hs->identity.authenticated = 1;
        return NGX_OK;

    default:
        return NGX_OK;
    }
}
