/*
 * Directives of authentication.  Files are read when the directive is
 * parsed, so `nginx -t` names a bad credential store or JWKS with its file
 * and line; workers then re-read them when they change (hoop_mech.c).
 */

#include "hoop_auth_conf.h"
#include "../redis/hoop_redis_jwks.h"
#include "../redis/hoop_redis_creds.h"


extern ngx_module_t  ngx_stream_hoop_module;


static hoop_auth_conf_t *
hoop_auth_conf_get(ngx_conf_t *cf, hoop_srv_conf_t *hscf)
{
    hoop_auth_conf_t  *ac;

    if (hscf->auth_conf) {
        return hscf->auth_conf;
    }

    ac = ngx_pcalloc(cf->pool, sizeof(hoop_auth_conf_t));
    if (ac == NULL) {
        return NULL;
    }

    /* policy fields stay 0/NULL until set; defaults come at merge */
    ac->clock_skew = NGX_CONF_UNSET;
    hscf->auth_conf = ac;

    return ac;
}


static void
hoop_auth_conf_free_store(void *data)
{
    hoop_cred_store_free(data);
}


static void
hoop_auth_conf_free_jwks(void *data)
{
    hoop_jwks_file_free(data);
}


/* hoop_sasl_mechanisms NAME ...; */

char *
hoop_auth_conf_mechanisms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    hoop_srv_conf_t *hscf = conf;

    ngx_str_t   *value, *m;
    ngx_uint_t   i;

    if (hscf->sasl_mechanisms != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    hscf->sasl_mechanisms = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                             sizeof(ngx_str_t));
    if (hscf->sasl_mechanisms == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        m = ngx_array_push(hscf->sasl_mechanisms);
        if (m == NULL) {
            return NGX_CONF_ERROR;
        }

        *m = value[i];
    }

    return NGX_CONF_OK;
}


/* hoop_sasl_credentials FILE | redis; */

char *
hoop_auth_conf_credentials(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                 err[256];
    ngx_str_t           *value, file;
    hoop_auth_conf_t    *ac;
    ngx_pool_cleanup_t  *cln;

    ac = hoop_auth_conf_get(cf, conf);
    if (ac == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ac->credentials || ac->credentials_redis) {
        return "is duplicate";
    }

    value = cf->args->elts;
    file = value[1];

    if (file.len == 5 && ngx_strncmp(file.data, "redis", 5) == 0) {
        /* the set is read at merge, when hoop_redis is known */
        ac->credentials_redis = 1;
        ngx_str_set(&ac->credentials_file, "redis");
        return NGX_CONF_OK;
    }

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    err[0] = '\0';
    ac->credentials = hoop_cred_store_open((char *) file.data, err,
                                           sizeof(err));

    if (ac->credentials == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hoop_sasl_credentials \"%V\": %s", &file, err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = hoop_auth_conf_free_store;
    cln->data = ac->credentials;

    ac->credentials_file = file;

    return NGX_CONF_OK;
}


/* hoop_oauth_jwks FILE | redis; */

char *
hoop_auth_conf_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    int                  rc;
    char                 err[256];
    ngx_str_t           *value, file;
    hoop_jwks_file_t    *st;
    hoop_auth_conf_t    *ac;
    ngx_pool_cleanup_t  *cln;

    ac = hoop_auth_conf_get(cf, conf);
    if (ac == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ac->jwks) {
        return "is duplicate";
    }

    value = cf->args->elts;
    file = value[1];

    if (file.len == 5 && ngx_strncmp(file.data, "redis", 5) == 0) {
        /* the set is read from Redis at merge time, hoop_redis is known */
        ac->jwks = hoop_redis_jwks_state();
        ac->jwks_redis = 1;
        ngx_str_set(&ac->jwks_file, "redis");
        return NGX_CONF_OK;
    }

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(hoop_jwks_file_t));
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    st = cln->data;
    ngx_memzero(st, sizeof(hoop_jwks_file_t));
    cln->handler = hoop_auth_conf_free_jwks;

    err[0] = '\0';
    rc = hoop_jwks_file_refresh(st, (char *) file.data, err, sizeof(err));

    if (rc == HOOP_JWKS_FAILED || st->jwks == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hoop_oauth_jwks \"%V\": %s", &file,
                           err[0] ? err : "no usable signing key");
        return NGX_CONF_ERROR;
    }

    ac->jwks = st;
    ac->jwks_file = file;

    return NGX_CONF_OK;
}


/*
 * hoop_oauth_issuer URL; hoop_oauth_audience AUD; hoop_oauth_clock_skew
 * TIME; hoop_oauth_principal_claim NAME; hoop_oauth_groups_claim PATH;
 * hoop_oauth_algorithms ALG ...;
 */

char *
hoop_auth_conf_oauth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    unsigned           bit;
    ngx_str_t         *value;
    ngx_int_t          n;
    ngx_uint_t         i;
    hoop_auth_conf_t  *ac;

    ac = hoop_auth_conf_get(cf, conf);
    if (ac == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    /* arguments from ngx_conf_read_token() are NUL-terminated */

    if (ngx_strcmp(cmd->name.data, "hoop_oauth_issuer") == 0) {
        ac->policy.issuer = (char *) value[1].data;

    } else if (ngx_strcmp(cmd->name.data, "hoop_oauth_audience") == 0) {
        ac->policy.audience = (char *) value[1].data;

    } else if (ngx_strcmp(cmd->name.data, "hoop_oauth_principal_claim")
               == 0)
    {
        ac->policy.sub_claim = (char *) value[1].data;

    } else if (ngx_strcmp(cmd->name.data, "hoop_oauth_groups_claim") == 0) {
        ac->policy.groups_claim = (char *) value[1].data;

    } else if (ngx_strcmp(cmd->name.data, "hoop_oauth_clock_skew") == 0) {
        n = ngx_parse_time(&value[1], 1);
        if (n == NGX_ERROR || n > 3600) {
            return "must be a time of at most 1h";
        }

        ac->clock_skew = n;

    } else { /* hoop_oauth_algorithms */
        for (i = 1; i < cf->args->nelts; i++) {
            bit = hoop_jwt_alg_from_name((char *) value[i].data);

            if (bit == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unsupported JWT algorithm \"%V\": "
                                   "RS256..RS512, PS256..PS512, "
                                   "ES256..ES512 (never none or HS*)",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            ac->policy.algs |= bit;
        }
    }

    return NGX_CONF_OK;
}


/* hoop_mtls_principal_rule REGEX REPLACEMENT; */

char *
hoop_auth_conf_mtls_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    hoop_srv_conf_t *hscf = conf;

    u_char               errstr[NGX_MAX_CONF_ERRSTR];
    ngx_str_t           *value;
    hoop_mtls_rule_t    *rule;
    ngx_regex_compile_t  rc;

    value = cf->args->elts;

    if (hscf->mtls_rules == NULL) {
        hscf->mtls_rules = ngx_array_create(cf->pool, 2,
                                            sizeof(hoop_mtls_rule_t));
        if (hscf->mtls_rules == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rule = ngx_array_push(hscf->mtls_rules);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

    rc.pattern = value[1];
    rc.pool = cf->pool;
    rc.err.len = NGX_MAX_CONF_ERRSTR;
    rc.err.data = errstr;

    if (ngx_regex_compile(&rc) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V", &rc.err);
        return NGX_CONF_ERROR;
    }

    if (rc.captures > 9) {
        return "allows at most 9 captures ($1..$9)";
    }

    rule->regex = rc.regex;
    rule->pattern = value[1];
    rule->replacement = value[2];

    return NGX_CONF_OK;
}


/*
 * Inherits what a server leaves unset from the stream level, fills in
 * defaults, and checks that the chosen authentication can work.
 */

char *
hoop_auth_conf_merge(ngx_conf_t *cf, hoop_srv_conf_t *prev,
    hoop_srv_conf_t *conf)
{
    ngx_str_t         *m;
    ngx_uint_t         i;
    hoop_auth_conf_t  *ac, *pac;
    hoop_main_conf_t  *hmcf;

    pac = prev->auth_conf;

    if (conf->auth_conf == NULL) {
        conf->auth_conf = pac;

    } else if (pac && conf->auth_conf != pac) {
        ac = conf->auth_conf;

        if (ac->credentials == NULL && !ac->credentials_redis) {
            ac->credentials = pac->credentials;
            ac->credentials_file = pac->credentials_file;
            ac->credentials_redis = pac->credentials_redis;
        }

        if (ac->jwks == NULL) {
            ac->jwks = pac->jwks;
            ac->jwks_file = pac->jwks_file;
            ac->jwks_redis = pac->jwks_redis;
        }

#define hoop_merge_policy(f)  if (!ac->policy.f) ac->policy.f = pac->policy.f
        hoop_merge_policy(issuer);
        hoop_merge_policy(audience);
        hoop_merge_policy(sub_claim);
        hoop_merge_policy(groups_claim);
        hoop_merge_policy(algs);
#undef hoop_merge_policy

        if (ac->clock_skew == NGX_CONF_UNSET) {
            ac->clock_skew = pac->clock_skew;
        }
    }

    ac = conf->auth_conf;

    if (ac) {
        /* defaults, idempotent: an inherited conf passes here again */
        ac->policy.skew = (ac->clock_skew == NGX_CONF_UNSET)
                          ? HOOP_JWT_DEFAULT_SKEW : ac->clock_skew;
        ac->policy.max_len = HOOP_JWT_DEFAULT_MAX_LEN;

        if (ac->policy.sub_claim == NULL) {
            ac->policy.sub_claim = "sub";
        }

        if (ac->policy.groups_claim == NULL) {
            ac->policy.groups_claim = "groups";
        }
    }

    if (conf->mtls_rules == NULL) {
        conf->mtls_rules = prev->mtls_rules;
    }

    ac = conf->auth_conf;

    if (ac && (ac->jwks_redis || ac->credentials_redis)
        && ac->redis == NULL)
    {
        hmcf = ngx_stream_conf_get_module_main_conf(cf,
                                                    ngx_stream_hoop_module);

        if (hmcf == NULL || hmcf->redis == NULL) {
            return ac->jwks_redis
                   ? "\"hoop_oauth_jwks redis\" needs \"hoop_redis\" in "
                     "the stream block"
                   : "\"hoop_sasl_credentials redis\" needs \"hoop_redis\" "
                     "in the stream block";
        }

        ac->redis = hmcf->redis;

        if (ac->jwks_redis) {
            hoop_redis_jwks_load(cf, hmcf->redis);
        }

        if (ac->credentials_redis) {
            hoop_redis_creds_load(cf, hmcf->redis);
        }
    }

    if (ac && ac->credentials_redis) {
        /* non-NULL for the checks below; hoop_mech.c asks for the
         * current store on each exchange */
        ac->credentials = hoop_redis_creds_store();

        if (ac->credentials == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (conf->auth != HOOP_AUTH_SASL || !conf->enable) {
        return NGX_CONF_OK;
    }

    if (ac == NULL || (ac->credentials == NULL && ac->jwks == NULL)) {
        return "\"hoop_auth sasl\" needs hoop_sasl_credentials or "
               "hoop_oauth_jwks";
    }

    if (ac->jwks && (ac->policy.issuer == NULL
                     || ac->policy.audience == NULL))
    {
        return "\"hoop_oauth_jwks\" needs hoop_oauth_issuer and "
               "hoop_oauth_audience";
    }

    if (conf->sasl_mechanisms == NULL) {
        /* what the configured stores can serve */
        conf->sasl_mechanisms = ngx_array_create(cf->pool, 3,
                                                 sizeof(ngx_str_t));
        if (conf->sasl_mechanisms == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ac->credentials) {
            m = ngx_array_push_n(conf->sasl_mechanisms, 2);
            if (m == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_str_set(&m[0], "PLAIN");
            ngx_str_set(&m[1], "SCRAM-SHA-256");
        }

        if (ac->jwks) {
            m = ngx_array_push(conf->sasl_mechanisms);
            if (m == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_str_set(m, "OAUTHBEARER");
        }
    }

    m = conf->sasl_mechanisms->elts;

    for (i = 0; i < conf->sasl_mechanisms->nelts; i++) {
        if (m[i].len == 11 && ngx_strncmp(m[i].data, "OAUTHBEARER", 11) == 0)
        {
            if (ac->jwks == NULL) {
                return "lists OAUTHBEARER without hoop_oauth_jwks";
            }

            continue;
        }

        if (hoop_sasl_mech_parse((char *) m[i].data, m[i].len)
            == HOOP_SASL_MECH_NONE)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown SASL mechanism \"%V\" in "
                               "hoop_sasl_mechanisms", &m[i]);
            return NGX_CONF_ERROR;
        }

        if (ac->credentials == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "SASL mechanism \"%V\" needs "
                               "hoop_sasl_credentials", &m[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}
