/*
 * hoop_policy redis: the access-review policy comes from Redis, where
 * hoopctl pushes versions (docs/redis-layout.md), and reaches every worker
 * (docs/policy-distribution.md).
 *
 *   configuration time   the cache file (hoop_policy_cache), then one
 *                        short blocking look at Redis; neither is required
 *   each worker          a command connection and a SUBSCRIBE connection;
 *                        on a notice, on (re)connecting and every few
 *                        seconds: GET the current version; when it is not
 *                        the loaded one, HMGET its text, compile, swap,
 *                        rewrite the cache file.  A version that does not
 *                        compile is refused once and the last good one
 *                        stays.  Lost connections come back with backoff.
 */

#ifndef _HOOP_REDIS_POLICY_H_INCLUDED_
#define _HOOP_REDIS_POLICY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "../session/hoop_session.h"


#define HOOP_REDIS_POLICY_REFRESH   5000   /* ms, the safety-net timer */
#define HOOP_REDIS_POLICY_TIMEOUT   3000   /* ms, for one refresh */
#define HOOP_REDIS_POLICY_CONF_WAIT 1      /* s, per step at config time */


/*
 * At the end of the stream block (postconfiguration), when some server
 * has "hoop_policy redis": checks hoop_redis is there, loads the cache
 * file, then asks Redis once.  Never fails because Redis or the cache is
 * missing: nginx then starts denying every request, and says so.
 */
ngx_int_t hoop_redis_policy_init_conf(ngx_conf_t *cf,
    hoop_main_conf_t *hmcf);

/* init_process, in worker (and single) processes: start watching */
ngx_int_t hoop_redis_policy_start(ngx_cycle_t *cycle,
    hoop_main_conf_t *hmcf);

/* exit_process: close both connections and cancel the timers */
void hoop_redis_policy_stop(ngx_cycle_t *cycle, hoop_main_conf_t *hmcf);


#endif /* _HOOP_REDIS_POLICY_H_INCLUDED_ */
