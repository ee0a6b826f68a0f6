/*
 * The PLAIN/SCRAM credential set from Redis to every worker
 * (hoop_redis_creds.h).
 *
 *   PREFIX credentials          hash: user name -> one credential line
 *   PREFIX credentials:sha256   string: SHA-256 of the hash, for people
 *   PREFIX policy:notify        channel: a notice after each change
 *
 * As for the JWKS, a notice is never trusted: any notice, every reconnect
 * and the timer make a worker read the hash again; lines equal to the
 * last ones seen (loaded or refused) cost a memcmp.
 */

#include "hoop_redis_creds.h"
#include "hoop_redis_watch.h"


static hoop_cred_store_t         *hoop_redis_creds_current;
static unsigned                   hoop_redis_creds_good;  /* from Redis */
static u_char                    *hoop_redis_creds_seen;
static size_t                     hoop_redis_creds_seen_len;
static hoop_redis_watch_t        *hoop_redis_creds_w;
static void                      *hoop_redis_creds_loaded_for;  /* cycle */


hoop_cred_store_t *
hoop_redis_creds_store(void)
{
    hoop_cred_set_t  *set;
    char              err[128];

    if (hoop_redis_creds_current == NULL) {
        /* no user at all: every PLAIN/SCRAM attempt fails */
        set = hoop_cred_set_parse("", 0, err, sizeof(err));
        if (set != NULL) {
            hoop_redis_creds_current = hoop_cred_store_from_set(set);
        }
    }

    return hoop_redis_creds_current;
}


/*
 * The values of an HGETALL reply joined with newlines: installed when they
 * differ from the last ones seen.  NGX_OK (installed), NGX_DECLINED
 * (unchanged) or NGX_ERROR (refused, the last good set kept).
 */

static ngx_int_t
hoop_redis_creds_take(redisReply *r, ngx_uint_t level, ngx_log_t *log)
{
    char                err[256];
    u_char             *text, *p;
    size_t              i, len;
    hoop_cred_set_t    *set;
    hoop_cred_store_t  *store;

    len = 0;

    for (i = 1; i < r->elements; i += 2) {
        if (r->element[i]->type != REDIS_REPLY_STRING) {
            return NGX_ERROR;
        }

        len += r->element[i]->len + 1;
    }

    text = ngx_alloc(len + 1, log);
    if (text == NULL) {
        return NGX_ERROR;
    }

    p = text;

    for (i = 1; i < r->elements; i += 2) {
        p = ngx_cpymem(p, r->element[i]->str, r->element[i]->len);
        *p++ = '\n';
    }

    *p = '\0';

    if (hoop_redis_creds_seen && len == hoop_redis_creds_seen_len
        && ngx_memcmp(text, hoop_redis_creds_seen, len) == 0)
    {
        ngx_free(text);
        return NGX_DECLINED;
    }

    ngx_free(hoop_redis_creds_seen);
    hoop_redis_creds_seen = text;
    hoop_redis_creds_seen_len = len;

    err[0] = '\0';
    set = hoop_cred_set_parse((const char *) text, len, err, sizeof(err));

    if (set == NULL) {
        ngx_log_error(level, log, 0,
                      "hoop: credentials from redis refused: %s; %s",
                      err[0] ? err : "out of memory",
                      hoop_redis_creds_good ? "keeping the last good set"
                                            : "PLAIN and SCRAM are refused");
        return NGX_ERROR;
    }

    store = hoop_cred_store_from_set(set);
    if (store == NULL) {
        return NGX_ERROR;
    }

    /* running exchanges hold their own reference to the old set */
    hoop_cred_store_free(hoop_redis_creds_current);
    hoop_redis_creds_current = store;
    hoop_redis_creds_good = 1;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "hoop: credentials loaded from redis (%uz users)",
                  hoop_cred_set_count(set));

    return NGX_OK;
}


/* ---------------------------------------------------------------------
 * Configuration time
 */

void
hoop_redis_creds_load(ngx_conf_t *cf, hoop_redis_conf_t *conf)
{
    u_char         key[HOOP_REDIS_WATCH_KEY_LEN];
    redisReply    *r;
    redisContext  *c;

    (void) hoop_redis_creds_store();

    if (hoop_redis_creds_loaded_for == cf->cycle
        || ngx_process == NGX_PROCESS_SIGNALLER)
    {
        return;
    }

    hoop_redis_creds_loaded_for = cf->cycle;

    c = hoop_redis_connect_sync(conf, cf->log, "credentials");
    if (c == NULL) {
        return;
    }

    (void) hoop_redis_key(conf, HOOP_REDIS_CREDS_KEY, 0, key, sizeof(key));

    r = redisCommand(c, "HGETALL %s", key);

    if (r == NULL) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "hoop: redis %V while reading the credentials: %s",
                      &conf->name, c->errstr[0] ? c->errstr : "error");

    } else if (r->type == REDIS_REPLY_ARRAY) {
        if (r->elements == 0) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "hoop: redis %V: no credentials (no \"%s\"): "
                          "PLAIN and SCRAM are refused until some are "
                          "stored", &conf->name, key);
        }

        (void) hoop_redis_creds_take(r, NGX_LOG_WARN, cf->log);

    } else {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "hoop: redis %V: HGETALL %s: %*s", &conf->name, key,
                      (size_t) r->len, r->str ? r->str : "");
    }

    if (r) {
        freeReplyObject(r);
    }

    redisFree(c);
}


/* ---------------------------------------------------------------------
 * Workers
 */

static void
hoop_redis_creds_reply(hoop_redis_watch_t *w, redisReply *r)
{
    if (r->type == REDIS_REPLY_ARRAY) {
        (void) hoop_redis_creds_take(r, NGX_LOG_ERR, w->log);
    }
}


void
hoop_redis_creds_watch(hoop_redis_conf_t *conf, ngx_log_t *log)
{
    if (hoop_redis_creds_w == NULL) {
        hoop_redis_creds_w = hoop_redis_watch_start(conf, HOOP_REDIS_CREDS_KEY,
                                                    "HGETALL",
                                                    "the credentials",
                                                    hoop_redis_creds_reply,
                                                    log);
    }
}
