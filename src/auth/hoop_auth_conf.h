/*
 * Configuration of authentication: the credential store and the JWKS with
 * their reload state (one copy per worker after fork), the JWT policy, and
 * the directive handlers that fill them in (nginx -t reads every file).
 */

#ifndef _HOOP_AUTH_CONF_H_INCLUDED_
#define _HOOP_AUTH_CONF_H_INCLUDED_


#include "hoop_auth.h"
#include "hoop_credentials.h"
#include "hoop_sasl_server.h"
#include "hoop_oauthbearer.h"
#include "hoop_jwt.h"
#include "hoop_sasl_client.h"


struct hoop_auth_conf_s {
    ngx_str_t             credentials_file;
    hoop_cred_store_t    *credentials;

    ngx_str_t             jwks_file;          /* NUL-terminated */
    hoop_jwks_file_t     *jwks;
    hoop_jwt_policy_t     policy;             /* strings NUL-terminated */
    ngx_int_t             clock_skew;         /* seconds, -1: unset */
    hoop_redis_conf_t    *redis;              /* hoop_oauth_jwks redis,
                                                 hoop_sasl_credentials
                                                 redis */
    unsigned              jwks_redis:1;
    unsigned              credentials_redis:1;  /* ac->credentials: see
                                                   hoop_redis_creds_store */

    ngx_msec_t            checked;            /* last look at the files */
};


char *hoop_auth_conf_mechanisms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *hoop_auth_conf_credentials(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *hoop_auth_conf_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *hoop_auth_conf_oauth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *hoop_auth_conf_mtls_rule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *hoop_auth_conf_merge(ngx_conf_t *cf, hoop_srv_conf_t *prev,
    hoop_srv_conf_t *conf);
ngx_int_t hoop_auth_conf_init_process(ngx_cycle_t *cycle);
void hoop_auth_conf_cleanup(void *data);


#endif /* _HOOP_AUTH_CONF_H_INCLUDED_ */
