/*
 * hoop_oauth_jwks redis: the OIDC JWK Set comes from the Redis key
 * PREFIX oauth:jwks (a string: the JWKS JSON, stored by "hoopctl jwks
 * push|fetch"; docs/redis-layout.md).
 *
 *   configuration time   one short blocking GET (hoop_redis_jwks_load);
 *                        a missing or unusable set is not fatal: OAUTHBEARER
 *                        is then refused until one arrives
 *   each worker          a command connection and a SUBSCRIBE connection to
 *                        the policy notify channel (hoop_redis_conn); on a
 *                        notice, on (re)connecting and every second: GET the
 *                        set; when its text differs from the last one seen,
 *                        parse it and swap; a set that does not parse is
 *                        refused once and the last good one stays.
 *
 * One set per nginx (every "hoop_oauth_jwks redis" shares it).
 */

#ifndef _HOOP_REDIS_JWKS_H_INCLUDED_
#define _HOOP_REDIS_JWKS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "../auth/hoop_jwt.h"
#include "hoop_redis_conf.h"




/* the shared state: .jwks is the set in use (NULL until one loaded) */
hoop_jwks_file_t *hoop_redis_jwks_state(void);

/*
 * Configuration time (from the merge of a server with "hoop_oauth_jwks
 * redis"): one blocking GET, once per configuration read.  Never fails
 * because Redis is away; logs what it found.
 */
void hoop_redis_jwks_load(ngx_conf_t *cf, hoop_redis_conf_t *conf);

/*
 * In a worker (or single) process: starts watching Redis, once; later
 * calls do nothing.  Called on each authentication (hoop_mech.c), so a
 * worker watches from its first client on.
 */
void hoop_redis_jwks_watch(hoop_redis_conf_t *conf, ngx_log_t *log);


#endif /* _HOOP_REDIS_JWKS_H_INCLUDED_ */
