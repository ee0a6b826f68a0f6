/*
 * A worker's connection to Redis that stays up: connects without blocking,
 * authenticates, tells its owner when it is ready and when it is lost, and
 * reconnects with a growing delay (a cancelable timer, so it never keeps
 * an exiting worker alive, and never re-armed once the worker exits).
 *
 * With hoop_redis sentinel=... master=NAME every connect first asks a
 * sentinel (asynchronously too) for the master's address, then confirms
 * with ROLE that the address it reached is the master, as Redis's
 * Sentinel client guidelines describe; a sentinel that fails is passed
 * over for the next one.  Each worker also keeps one subscription to a
 * sentinel's +switch-master: on a switch, the connections to the old
 * master are dropped and those waiting to retry retry at once.
 */

#ifndef _HOOP_REDIS_CONN_H_INCLUDED_
#define _HOOP_REDIS_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "hoop_redis_conf.h"
#include "hoop_redis_event.h"


/* reconnect delays: first, then doubled up to the maximum (plus jitter) */
#define HOOP_REDIS_RETRY_MIN        200
#define HOOP_REDIS_RETRY_MAX        5000

/* connect and AUTH must be done within this */
#define HOOP_REDIS_CONNECT_TIMEOUT  3000


typedef struct hoop_redis_conn_s  hoop_redis_conn_t;

typedef void (*hoop_redis_conn_handler_pt)(hoop_redis_conn_t *rc);


typedef enum {
    HOOP_REDIS_IDLE = 0,        /* not connected; maybe a retry timer */
    HOOP_REDIS_CONNECTING,      /* TCP connect, then AUTH */
    HOOP_REDIS_READY,           /* commands may be sent */
    HOOP_REDIS_CLOSED           /* hoop_redis_conn_close(): for good */
} hoop_redis_state_e;


struct hoop_redis_conn_s {
    redisAsyncContext            *ac;        /* NULL unless connecting/ready */
    hoop_redis_conf_t            *conf;
    ngx_log_t                    *log;
    const char                   *role;      /* "policy", for logs */

    hoop_redis_state_e            state;
    ngx_event_t                   timer;     /* connect timeout or retry */
    ngx_msec_t                    delay;     /* next retry */
    ngx_uint_t                    failures;  /* since the last success */

    /* Sentinel: the sentinel to ask next, the master it reported */
    ngx_uint_t                    sentinel;
    int                           master_port;
    char                          master_host[NGX_INET6_ADDRSTRLEN + 1];

    unsigned                      asking:1;  /* ac is a sentinel's */
    unsigned                      direct:1;  /* to the sentinels: the
                                                +switch-master watcher */
    unsigned                      auth_refused:1;
    unsigned                      idle:1;    /* owner's: closed by nginx
                                                at graceful shutdown */

    hoop_redis_conn_handler_pt    ready;     /* state became READY */
    hoop_redis_conn_handler_pt    lost;      /* READY connection gone */
    void                         *data;      /* the owner's */

    hoop_redis_conn_t            *next;      /* the worker's Sentinel-mode
                                                connections */
};


/*
 * Sets up rc (zeroed by the caller, with conf, log, role, ready, lost and
 * data filled in) and starts connecting.  Failures are retried; nothing
 * is returned.
 */
void hoop_redis_conn_start(hoop_redis_conn_t *rc);

/*
 * Drops the connection because it misbehaves (a command timed out, a
 * reply made no sense): frees the context (pending callbacks get a NULL
 * reply), calls lost if it was ready, and retries later.  May be called
 * from a hiredis reply callback.
 */
void hoop_redis_conn_drop(hoop_redis_conn_t *rc, const char *why);

/*
 * For good (exit_process): cancels the timer, frees the context without
 * calling lost and never reconnects.  Not from a hiredis callback.
 */
void hoop_redis_conn_close(hoop_redis_conn_t *rc);

#define hoop_redis_conn_ready(rc)  ((rc)->state == HOOP_REDIS_READY)


/*
 * Configuration time: a blocking connection to conf with a 1 s timeout
 * for connect and each command, authenticated (AUTH) when conf has a
 * password; in the Sentinel form, to the master the sentinels report
 * (each asked in turn), confirmed with ROLE.  Returns the context, or
 * NULL after a warning naming what (for instance "JWKS") was being read.
 * redisFree() it.
 */
redisContext *hoop_redis_connect_sync(hoop_redis_conf_t *conf,
    ngx_log_t *log, const char *what);

/*
 * The same with a timeout of tv for each step; the warning ends with
 * "; " and then tail as given (for instance "no policy yet").
 */
redisContext *hoop_redis_connect_sync_tv(hoop_redis_conf_t *conf,
    struct timeval tv, ngx_log_t *log, const char *tail);


#endif /* _HOOP_REDIS_CONN_H_INCLUDED_ */
