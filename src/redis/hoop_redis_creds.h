/*
 * hoop_sasl_credentials redis: the PLAIN/SCRAM credential set comes from
 * the Redis hash PREFIX credentials (field: user name, value: one line as
 * hoop-passwd prints it; stored by "hoopctl credentials set";
 * docs/redis-layout.md).
 *
 * The same design as hoop_redis_jwks.h:
 *
 *   configuration time   one short blocking HGETALL; Redis away or a bad
 *                        set is not fatal: PLAIN and SCRAM then refuse
 *                        every user until a good set arrives
 *   each worker          a command connection and a SUBSCRIBE connection
 *                        to the policy notify channel; on a notice, on
 *                        (re)connecting and every second: HGETALL; when
 *                        the joined lines differ from the last seen, parse
 *                        them (hoop_cred_set_parse) and swap; a set that
 *                        does not parse is refused once and the last good
 *                        one stays.
 *
 * One set per nginx (every "hoop_sasl_credentials redis" shares it).
 */

#ifndef _HOOP_REDIS_CREDS_H_INCLUDED_
#define _HOOP_REDIS_CREDS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "../auth/hoop_credentials.h"
#include "hoop_redis_conf.h"




/*
 * The store in use: never NULL once hoop_redis_creds_load() ran (an empty
 * set until credentials arrive).  Borrowed; it is replaced on each change
 * (exchanges keep their own reference to the set they started with).
 */
hoop_cred_store_t *hoop_redis_creds_store(void);

/* Configuration time: one blocking HGETALL per configuration read. */
void hoop_redis_creds_load(ngx_conf_t *cf, hoop_redis_conf_t *conf);

/* In a worker: starts watching Redis, once (hoop_mech.c). */
void hoop_redis_creds_watch(hoop_redis_conf_t *conf, ngx_log_t *log);


#endif /* _HOOP_REDIS_CREDS_H_INCLUDED_ */
