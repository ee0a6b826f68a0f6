/*
 * The SASL mechanisms a client may use with the gateway, over the
 * nginx-free libraries beside this file: PLAIN and SCRAM against the
 * credential store (hoop_sasl_server, hoop_credentials), OAUTHBEARER with
 * an OIDC JWT checked against a JWKS (hoop_oauthbearer, hoop_jwt; KIP-255).
 * Files are re-read when they change, at most once a second per worker;
 * a bad new file keeps the last good one and logs why.
 */

#include "hoop_auth.h"
#include "hoop_auth_conf.h"
#include "../redis/hoop_redis_jwks.h"
#include "../redis/hoop_redis_creds.h"


struct hoop_mech_s {
    hoop_sasl_mech_t      mech;           /* NONE: OAUTHBEARER */
    hoop_sasl_server_t   *server;
    char                  err[256];
};


const char *
hoop_mech_name(hoop_mech_t *m)
{
    return m->mech == HOOP_SASL_MECH_NONE ? "OAUTHBEARER"
                                           : hoop_sasl_mech_name(m->mech);
}


ngx_int_t
hoop_mech_enabled(hoop_srv_conf_t *conf, ngx_str_t *name)
{
    ngx_str_t   *m;
    ngx_uint_t   i;

    m = conf->sasl_mechanisms->elts;

    for (i = 0; i < conf->sasl_mechanisms->nelts; i++) {
        if (m[i].len == name->len
            && ngx_strncmp(m[i].data, name->data, name->len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static void
hoop_auth_refresh(hoop_auth_conf_t *ac, ngx_log_t *log)
{
    int    rc;
    char   err[256];

    if (ngx_current_msec - ac->checked < 1000 && ac->checked) {
        return;
    }

    ac->checked = ngx_current_msec;
    err[0] = '\0';

    if (ac->credentials_redis) {
        /* the watcher follows Redis; start it in this worker */
        hoop_redis_creds_watch(ac->redis, log);

    } else if (ac->credentials) {
        rc = hoop_cred_store_reload(ac->credentials, err, sizeof(err));

        if (rc == HOOP_CRED_FAILED) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "hoop: keeping the last good credentials: "
                          "\"%V\": %s", &ac->credentials_file, err);

        } else if (rc == HOOP_CRED_RELOADED) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "hoop: credentials reloaded from \"%V\"",
                          &ac->credentials_file);
        }
    }

    if (ac->jwks_redis) {
        /* the watcher follows Redis; start it in this worker */
        hoop_redis_jwks_watch(ac->redis, log);

    } else if (ac->jwks) {
        err[0] = '\0';
        rc = hoop_jwks_file_refresh(ac->jwks, (char *) ac->jwks_file.data,
                                    err, sizeof(err));

        if (rc == HOOP_JWKS_FAILED) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "hoop: keeping the last good JWKS: \"%V\": %s",
                          &ac->jwks_file, err);

        } else if (rc == HOOP_JWKS_RELOADED) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "hoop: JWKS reloaded from \"%V\" (%uz keys)",
                          &ac->jwks_file, hoop_jwks_count(ac->jwks->jwks));
        }
    }
}


hoop_mech_t *
hoop_mech_start(hoop_session_t *hs, ngx_str_t *name)
{
    hoop_mech_t        *m;
    hoop_auth_conf_t   *ac;

    ac = hs->conf->auth_conf;

    m = ngx_alloc(sizeof(hoop_mech_t), hs->session->connection->log);
    if (m == NULL) {
        return NULL;
    }

    ngx_memzero(m, sizeof(hoop_mech_t));

    hoop_auth_refresh(ac, hs->session->connection->log);

    if (name->len == 11 && ngx_strncmp(name->data, "OAUTHBEARER", 11) == 0) {
        m->mech = HOOP_SASL_MECH_NONE;
        return m;
    }

    m->mech = hoop_sasl_mech_parse((char *) name->data, name->len);

    m->server = hoop_sasl_server_start(m->mech,
                                       ac->credentials_redis
                                       ? hoop_redis_creds_store()
                                       : ac->credentials);
    if (m->server == NULL) {
        ngx_free(m);
        return NULL;
    }

    return m;
}


void
hoop_mech_free(hoop_mech_t *m)
{
    if (m->server) {
        hoop_sasl_server_free(m->server);
    }

    ngx_free(m);
}


static ngx_int_t
hoop_mech_groups(hoop_session_t *hs, size_t n, const char *(*get)(
    const void *, size_t), const void *obj)
{
    size_t              i, len;
    ngx_str_t          *g;
    const char         *s;
    ngx_connection_t   *c;

    c = hs->session->connection;
    hs->identity.groups = NULL;

    if (n == 0) {
        return NGX_OK;
    }

    hs->identity.groups = ngx_array_create(c->pool, n, sizeof(ngx_str_t));
    if (hs->identity.groups == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        s = get(obj, i);
        len = ngx_strlen(s);

        g = ngx_array_push(hs->identity.groups);
        if (g == NULL) {
            return NGX_ERROR;
        }

        g->data = ngx_pnalloc(c->pool, len ? len : 1);
        if (g->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(g->data, s, len);
        g->len = len;
    }

    return NGX_OK;
}


static const char *
hoop_mech_server_group(const void *obj, size_t i)
{
    return hoop_sasl_server_group(obj, i);
}


static const char *
hoop_mech_claims_group(const void *obj, size_t i)
{
    return ((const hoop_jwt_claims_t *) obj)->groups[i];
}


static ngx_int_t
hoop_mech_principal(hoop_session_t *hs, const char *name)
{
    size_t             len;
    ngx_connection_t  *c;

    c = hs->session->connection;
    len = ngx_strlen(name);

    hs->identity.principal.data = ngx_pnalloc(c->pool, len ? len : 1);
    if (hs->identity.principal.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(hs->identity.principal.data, name, len);
    hs->identity.principal.len = len;

    return NGX_OK;
}


/* PLAIN, SCRAM: lifetime from hoop_session_lifetime alone */

static ngx_int_t
hoop_mech_step_server(hoop_session_t *hs, hoop_mech_t *m, const u_char *in,
    size_t len, ngx_str_t *out, ngx_str_t *reason)
{
    size_t               olen;
    const uint8_t       *o;
    hoop_sasl_rc_t       rc;
    ngx_connection_t    *c;

    c = hs->session->connection;

    rc = hoop_sasl_server_step(m->server, in, len, &o, &olen);

    out->data = (u_char *) o;
    out->len = o ? olen : 0;

    if (rc == HOOP_SASL_CONTINUE) {
        return NGX_AGAIN;
    }

    if (rc == HOOP_SASL_FAILED) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: SASL %s authentication failed: %s",
                      hoop_sasl_mech_name(m->mech),
                      hoop_sasl_server_reason(m->server));
        return NGX_DECLINED;
    }

    if (hoop_mech_principal(hs, hoop_sasl_server_principal(m->server))
        != NGX_OK
        || hoop_mech_groups(hs, hoop_sasl_server_ngroups(m->server),
                            hoop_mech_server_group, m->server)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    hs->identity.method = hoop_sasl_mech_name(m->mech);
    hs->identity.expires = 0;

    if (hs->conf->session_lifetime) {
        hs->identity.expires = ngx_current_msec + hs->conf->session_lifetime;
    }

    return NGX_OK;
}


/*
 * OAUTHBEARER (RFC 7628, KIP-255): one client message with the token.  A
 * refusal fails the exchange at once with SASL_AUTHENTICATION_FAILED,
 * which Kafka clients report as such (no error JSON round trip).
 */

static ngx_int_t
hoop_mech_step_oauth(hoop_session_t *hs, hoop_mech_t *m, const u_char *in,
    size_t len, ngx_str_t *out, ngx_str_t *reason)
{
    int                      rc;
    time_t                   now;
    ngx_msec_t               left;
    ngx_connection_t        *c;
    hoop_auth_conf_t        *ac;
    hoop_jwt_claims_t        claims;
    hoop_oauthbearer_msg_t   msg;

    c = hs->session->connection;
    ac = hs->conf->auth_conf;

    rc = hoop_oauthbearer_parse(in, len, &msg, m->err, sizeof(m->err));

    if (rc != HOOP_OAUTHBEARER_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: OAUTHBEARER refused: malformed client "
                      "message: %s", m->err);
        ngx_str_set(reason, "Authentication failed: malformed "
                            "OAUTHBEARER message");
        return NGX_DECLINED;
    }

    if (ac->jwks == NULL || ac->jwks->jwks == NULL) {
        hoop_oauthbearer_msg_free(&msg);
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: OAUTHBEARER refused: no usable JWKS in \"%V\"",
                      &ac->jwks_file);
        ngx_str_set(reason, "Authentication failed: invalid token");
        return NGX_DECLINED;
    }

    now = ngx_time();
    ngx_memzero(&claims, sizeof(claims));

    rc = hoop_jwt_verify(ac->jwks->jwks, &ac->policy, msg.token,
                         msg.token_len, now, &claims, m->err,
                         sizeof(m->err));

    if (rc == HOOP_JWT_OK && msg.authzid && msg.authzid[0]
        && ngx_strcmp(msg.authzid, claims.principal) != 0)
    {
        /* as Kafka's broker: an authzid must name the token's subject */
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: OAUTHBEARER refused: authzid \"%s\" is not the "
                      "token's subject \"%s\"", msg.authzid,
                      claims.principal);
        hoop_oauthbearer_msg_free(&msg);
        hoop_jwt_claims_free(&claims);
        ngx_str_set(reason, "Authentication failed: authorization id "
                            "differs from the token subject");
        return NGX_DECLINED;
    }

    hoop_oauthbearer_msg_free(&msg);

    if (rc != HOOP_JWT_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: OAUTHBEARER refused: %s (%s)", m->err,
                      hoop_jwt_rc_name(rc));
        hoop_jwt_claims_free(&claims);
        ngx_str_set(reason, "Authentication failed: invalid token");
        return NGX_DECLINED;
    }

    if (hoop_mech_principal(hs, claims.principal) != NGX_OK
        || hoop_mech_groups(hs, claims.ngroups, hoop_mech_claims_group,
                            &claims)
           != NGX_OK)
    {
        hoop_jwt_claims_free(&claims);
        return NGX_ERROR;
    }

    /* the session ends with the token, or sooner if configured */

    left = (claims.exp > now) ? (ngx_msec_t) (claims.exp - now) * 1000 : 1;

    if (hs->conf->session_lifetime && hs->conf->session_lifetime < left) {
        left = hs->conf->session_lifetime;
    }

    hs->identity.expires = ngx_current_msec + left;
    hs->identity.method = "OAUTHBEARER";

    hoop_jwt_claims_free(&claims);

    return NGX_OK;
}


ngx_int_t
hoop_mech_step(hoop_session_t *hs, hoop_mech_t *m, const u_char *in,
    size_t len, ngx_str_t *out, ngx_str_t *reason)
{
    if (m == NULL) {
        return NGX_DECLINED;
    }

    if (m->mech == HOOP_SASL_MECH_NONE) {
        return hoop_mech_step_oauth(hs, m, in, len, out, reason);
    }

    return hoop_mech_step_server(hs, m, in, len, out, reason);
}
