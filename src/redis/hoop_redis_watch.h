/*
 * A worker that follows one Redis key: a command connection that reads
 * it (GET or HGETALL), a subscription to PREFIX policy:notify, and a
 * safety-net timer.  Notices are never trusted: any notice, every
 * reconnect and the timer read the key again, and the owner's reply
 * handler decides whether anything changed.  Used for the JWK Set and
 * the SASL credentials (hoop_redis_jwks.c, hoop_redis_creds.c).
 */

#ifndef _HOOP_REDIS_WATCH_H_INCLUDED_
#define _HOOP_REDIS_WATCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "hoop_redis_conf.h"
#include "hoop_redis_conn.h"


#define HOOP_REDIS_WATCH_REFRESH  1000   /* ms, the safety-net timer */
#define HOOP_REDIS_WATCH_TIMEOUT  3000   /* ms, for one read */
#define HOOP_REDIS_WATCH_KEY_LEN  (HOOP_REDIS_MAX_PREFIX + 64)


typedef struct hoop_redis_watch_s  hoop_redis_watch_t;

/* a reply that is not an error: r->type is the command's (or NIL) */
typedef void (*hoop_redis_watch_pt)(hoop_redis_watch_t *w, redisReply *r);


struct hoop_redis_watch_s {
    hoop_redis_conf_t            *conf;
    ngx_log_t                    *log;
    const char                   *command;   /* "GET", "HGETALL" */
    const char                   *what;      /* "the JWKS", for logs */
    hoop_redis_watch_pt           reply;

    hoop_redis_conn_t             cmd;
    hoop_redis_conn_t             sub;

    ngx_event_t                   tick;
    ngx_event_t                   deadline;

    u_char                        key[HOOP_REDIS_WATCH_KEY_LEN];
    size_t                        key_len;
    u_char                        channel[HOOP_REDIS_WATCH_KEY_LEN];
    size_t                        channel_len;

    unsigned                      busy:1;
    unsigned                      again:1;
};


/*
 * In a worker (or single process) only, once: connects both connections
 * and arms the timer.  key_suffix follows the prefix ("oauth:jwks").
 * Returns the watcher (allocated, kept for the process's life), or NULL
 * outside a worker, while exiting or without memory.
 */
hoop_redis_watch_t *hoop_redis_watch_start(hoop_redis_conf_t *conf,
    const char *key_suffix, const char *command, const char *what,
    hoop_redis_watch_pt reply, ngx_log_t *log);


#endif /* _HOOP_REDIS_WATCH_H_INCLUDED_ */
