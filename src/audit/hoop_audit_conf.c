/*
 * The audit trail's directives (docs/directives.md):
 *
 *   hoop_audit on|off;                                   server
 *   hoop_node_name NAME;                                 stream
 *   hoop_audit_stream NAME;                              stream
 *   hoop_audit_maxlen N;                                 stream
 *   hoop_audit_retention TIME;                           stream
 *   hoop_audit_aggregate TIME;                           stream
 *   hoop_audit_spool DIR [max_size=SIZE] [full=refuse|drop];  stream
 */

#include "hoop_audit.h"


char *
hoop_audit_conf_spool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    hoop_main_conf_t *hmcf = conf;

    off_t               size;
    ngx_str_t          *value, s;
    ngx_uint_t          i;
    hoop_audit_conf_t  *ac;

    ac = &hmcf->audit;

    if (ac->spool) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ac->spool = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (ac->spool == NULL) {
        return NGX_CONF_ERROR;
    }

    ac->spool->name = value[1];

    if (ngx_conf_full_name(cf->cycle, &ac->spool->name, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ac->spool->conf_file = cf->conf_file->file.name.data;
    ac->spool->line = cf->conf_file->line;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "max_size=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            size = ngx_parse_offset(&s);
            if (size == NGX_ERROR || size < 65536) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_size \"%V\": a size of at "
                                   "least 64k, like 256m", &s);
                return NGX_CONF_ERROR;
            }

            ac->spool_max = size;
            continue;
        }

        if (ngx_strcmp(value[i].data, "full=refuse") == 0) {
            ac->spool_full = HOOP_AUDIT_FULL_REFUSE;
            continue;
        }

        if (ngx_strcmp(value[i].data, "full=drop") == 0) {
            ac->spool_full = HOOP_AUDIT_FULL_DROP;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\": expected "
                           "max_size=SIZE or full=refuse|drop", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
hoop_audit_conf_init(ngx_conf_t *cf, hoop_main_conf_t *hmcf)
{
    u_char             *p;
    hoop_audit_conf_t  *ac;

    ac = &hmcf->audit;

    if (!ac->used) {
        return NGX_OK;
    }

    if (hmcf->redis == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"hoop_audit on\" needs \"hoop_redis\" in the stream "
                      "block: events are written to a Redis stream");
        return NGX_ERROR;
    }

    if (ac->node.data == NULL) {
        ac->node = cf->cycle->hostname;
    }

    for (p = ac->node.data; p < ac->node.data + ac->node.len; p++) {
        if (*p <= ' ' || *p == ':' || *p >= 0x7f) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "invalid hoop_node_name \"%V\": printable ASCII "
                          "without spaces or colons", &ac->node);
            return NGX_ERROR;
        }
    }

    if (ac->stream.data == NULL) {
        ngx_str_set(&ac->stream, "audit");
    }

    ngx_conf_init_uint_value(ac->maxlen, 0);

    if (ac->retention == NGX_CONF_UNSET) {
        ac->retention = HOOP_AUDIT_DEFAULT_RETENTION;
    }

    ngx_conf_init_msec_value(ac->aggregate, HOOP_AUDIT_DEFAULT_AGGREGATE);

    if (ac->spool_max == NGX_CONF_UNSET) {
        ac->spool_max = HOOP_AUDIT_DEFAULT_SPOOL_MAX;
    }

    if (ac->spool_full == NGX_CONF_UNSET_UINT) {
        ac->spool_full = HOOP_AUDIT_FULL_REFUSE;
    }

    if (ac->spool == NULL) {
        ac->spool = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
        if (ac->spool == NULL) {
            return NGX_ERROR;
        }

        ngx_str_set(&ac->spool->name, "hoop_audit_spool");

        if (ngx_conf_full_name(cf->cycle, &ac->spool->name, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* a path: nginx creates it at start, owned by the worker user */
    if (ngx_add_path(cf, &ac->spool) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}
