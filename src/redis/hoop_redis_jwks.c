/*
 * The OIDC JWK Set from Redis to every worker (hoop_redis_jwks.h).
 *
 *   PREFIX oauth:jwks          string: the JWK Set (JSON)
 *   PREFIX oauth:jwks:sha256   string: its SHA-256, for people (hoopctl)
 *   PREFIX policy:notify       channel: "jwks" after each push
 *
 * Like the policy watcher, a worker never trusts a notice: any notice,
 * every reconnect and the timer make it GET the set again; a text equal
 * to the last one seen (loaded or refused) costs a memcmp.
 */

#include "hoop_redis_jwks.h"
#include "hoop_redis_conn.h"


#define HOOP_REDIS_KEY_LEN  (HOOP_REDIS_MAX_PREFIX + 64)


typedef struct {
    hoop_redis_conf_t            *conf;
    ngx_log_t                    *log;

    hoop_redis_conn_t             cmd;        /* GET */
    hoop_redis_conn_t             sub;        /* SUBSCRIBE */

    ngx_event_t                   tick;
    ngx_event_t                   deadline;

    u_char                        key[HOOP_REDIS_KEY_LEN];
    size_t                        key_len;
    u_char                        channel[HOOP_REDIS_KEY_LEN];
    size_t                        channel_len;

    unsigned                      busy:1;
    unsigned                      again:1;
    unsigned                      none_logged:1;
} hoop_redis_jwks_watch_t;


static hoop_jwks_file_t          hoop_redis_jwks;      /* .jwks in use */
static u_char                   *hoop_redis_jwks_seen;  /* last text seen */
static size_t                    hoop_redis_jwks_seen_len;
static hoop_redis_jwks_watch_t  *hoop_redis_jwks_w;
static void                     *hoop_redis_jwks_loaded_for;  /* cycle */


static void hoop_redis_jwks_refresh(hoop_redis_jwks_watch_t *w);


hoop_jwks_file_t *
hoop_redis_jwks_state(void)
{
    return &hoop_redis_jwks;
}


/*
 * A set's text as found in Redis: parsed and installed when it differs
 * from the last one seen.  Returns NGX_OK (installed), NGX_DECLINED
 * (unchanged) or NGX_ERROR (refused, the last good set kept).
 */

static ngx_int_t
hoop_redis_jwks_take(const u_char *text, size_t len, ngx_uint_t level,
    ngx_log_t *log)
{
    int           rc;
    char          err[256];
    u_char       *copy;
    hoop_jwks_t  *set;

    if (hoop_redis_jwks_seen && len == hoop_redis_jwks_seen_len
        && ngx_memcmp(text, hoop_redis_jwks_seen, len) == 0)
    {
        return NGX_DECLINED;
    }

    copy = ngx_alloc(len + 1, log);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(copy, text, len);
    copy[len] = '\0';

    ngx_free(hoop_redis_jwks_seen);
    hoop_redis_jwks_seen = copy;
    hoop_redis_jwks_seen_len = len;

    err[0] = '\0';
    rc = 0;
    set = hoop_jwks_parse_rc((const char *) copy, len, &rc, err, sizeof(err));

    if (set == NULL) {
        hoop_redis_jwks.failed = 1;
        hoop_redis_jwks.last_rc = rc;

        ngx_log_error(level, log, 0,
                      "hoop: JWKS from redis refused: %s; %s",
                      err[0] ? err : "no usable signing key",
                      hoop_redis_jwks.jwks ? "keeping the last good set"
                                           : "OAUTHBEARER is refused");
        return NGX_ERROR;
    }

    hoop_jwks_free(hoop_redis_jwks.jwks);
    hoop_redis_jwks.jwks = set;
    hoop_redis_jwks.generation++;
    hoop_redis_jwks.failed = 0;
    hoop_redis_jwks.last_rc = rc;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "hoop: JWKS loaded from redis (%uz keys)%s%s",
                  hoop_jwks_count(set), err[0] ? ": " : "", err);

    return NGX_OK;
}


/* ---------------------------------------------------------------------
 * Configuration time
 */

void
hoop_redis_jwks_load(ngx_conf_t *cf, hoop_redis_conf_t *conf)
{
    u_char          key[HOOP_REDIS_KEY_LEN];
    redisReply     *r;
    redisContext   *c;

    if (hoop_redis_jwks_loaded_for == cf->cycle
        || ngx_process == NGX_PROCESS_SIGNALLER)
    {
        return;
    }

    hoop_redis_jwks_loaded_for = cf->cycle;

    c = hoop_redis_connect_sync(conf, cf->log, "JWKS");
    if (c == NULL) {
        return;
    }

    (void) hoop_redis_key(conf, HOOP_REDIS_JWKS_KEY, 0, key, sizeof(key));

    r = redisCommand(c, "GET %s", key);

    if (r == NULL) {
        goto failed;
    }

    if (r->type == REDIS_REPLY_STRING) {
        (void) hoop_redis_jwks_take((u_char *) r->str, r->len, NGX_LOG_WARN,
                                    cf->log);

    } else {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "hoop: redis %V: no JWKS published (no \"%s\"): "
                      "OAUTHBEARER is refused until one is", &conf->name,
                      key);
    }

    freeReplyObject(r);
    redisFree(c);
    return;

failed:

    ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                  "hoop: redis %V while reading the JWKS: %s", &conf->name,
                  c->errstr[0] ? c->errstr : "error");
    redisFree(c);
}


/* ---------------------------------------------------------------------
 * Workers
 */

static void
hoop_redis_jwks_done(hoop_redis_jwks_watch_t *w, ngx_uint_t more)
{
    w->busy = 0;

    if (w->deadline.timer_set) {
        ngx_del_timer(&w->deadline);
    }

    if (more && w->again) {
        hoop_redis_jwks_refresh(w);
    }
}


static void
hoop_redis_jwks_on_get(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply               *r = reply;
    hoop_redis_jwks_watch_t  *w = data;

    if (r == NULL) {
        hoop_redis_jwks_done(w, 0);
        return;
    }

    if (r->type == REDIS_REPLY_STRING) {
        w->none_logged = 0;
        (void) hoop_redis_jwks_take((u_char *) r->str, r->len, NGX_LOG_ERR,
                                    w->log);

    } else if (r->type == REDIS_REPLY_NIL) {
        if (!w->none_logged) {
            w->none_logged = 1;
            ngx_log_error(NGX_LOG_WARN, w->log, 0,
                          "hoop: redis %V: no JWKS published (no \"%s\"); %s",
                          &w->conf->name, w->key,
                          hoop_redis_jwks.jwks ? "keeping the loaded set"
                                               : "OAUTHBEARER is refused");
        }

    } else if (r->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "hoop: redis %V: GET %s: %*s", &w->conf->name,
                      w->key, (size_t) r->len, r->str);
    }

    hoop_redis_jwks_done(w, 1);
}


static void
hoop_redis_jwks_refresh(hoop_redis_jwks_watch_t *w)
{
    if (!hoop_redis_conn_ready(&w->cmd)) {
        return;
    }

    if (w->busy) {
        w->again = 1;
        return;
    }

    w->again = 0;

    if (redisAsyncCommand(w->cmd.ac, hoop_redis_jwks_on_get, w, "GET %b",
                          w->key, w->key_len)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "hoop: redis %V: cannot send GET %s",
                      &w->conf->name, w->key);
        return;
    }

    w->busy = 1;
    ngx_add_timer(&w->deadline, HOOP_REDIS_JWKS_TIMEOUT);
}


static void
hoop_redis_jwks_on_notice(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply               *r = reply;
    hoop_redis_jwks_watch_t  *w = data;

    redisReply               *kind;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 3
        || r->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    kind = r->element[0];

    if ((kind->len == 9 && ngx_strncmp(kind->str, "subscribe", 9) == 0)
        || (kind->len == 7 && ngx_strncmp(kind->str, "message", 7) == 0))
    {
        hoop_redis_jwks_refresh(w);
    }
}


static void
hoop_redis_jwks_cmd_ready(hoop_redis_conn_t *rc)
{
    hoop_redis_jwks_refresh(rc->data);
}


static void
hoop_redis_jwks_cmd_lost(hoop_redis_conn_t *rc)
{
    hoop_redis_jwks_done(rc->data, 0);
}


static void
hoop_redis_jwks_sub_ready(hoop_redis_conn_t *rc)
{
    hoop_redis_jwks_watch_t  *w = rc->data;

    if (redisAsyncCommand(rc->ac, hoop_redis_jwks_on_notice, w,
                          "SUBSCRIBE %b", w->channel, w->channel_len)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "hoop: redis %V: cannot send SUBSCRIBE %s",
                      &w->conf->name, w->channel);
    }
}


static void
hoop_redis_jwks_tick(ngx_event_t *ev)
{
    hoop_redis_jwks_watch_t  *w = ev->data;

    hoop_redis_jwks_refresh(w);

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(&w->tick, HOOP_REDIS_JWKS_REFRESH);
    }
}


static void
hoop_redis_jwks_timeout(ngx_event_t *ev)
{
    hoop_redis_jwks_watch_t  *w = ev->data;

    hoop_redis_conn_drop(&w->cmd, "no answer to a JWKS refresh in time");
}


void
hoop_redis_jwks_watch(hoop_redis_conf_t *conf, ngx_log_t *log)
{
    hoop_redis_jwks_watch_t  *w;

    if (hoop_redis_jwks_w != NULL || ngx_exiting || ngx_quit || ngx_terminate
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return;
    }

    w = ngx_calloc(sizeof(hoop_redis_jwks_watch_t), ngx_cycle->log);
    if (w == NULL) {
        return;
    }

    hoop_redis_jwks_w = w;

    w->conf = conf;
    w->log = ngx_cycle->log;

    w->key_len = hoop_redis_key(conf, HOOP_REDIS_JWKS_KEY, 0, w->key,
                                sizeof(w->key));
    w->channel_len = hoop_redis_key(conf, HOOP_REDIS_POLICY_CHANNEL, 0,
                                    w->channel, sizeof(w->channel));

    w->tick.handler = hoop_redis_jwks_tick;
    w->tick.data = w;
    w->tick.log = w->log;
    w->tick.cancelable = 1;

    w->deadline.handler = hoop_redis_jwks_timeout;
    w->deadline.data = w;
    w->deadline.log = w->log;
    w->deadline.cancelable = 1;

    w->cmd.conf = conf;
    w->cmd.log = w->log;
    w->cmd.role = "jwks";
    w->cmd.ready = hoop_redis_jwks_cmd_ready;
    w->cmd.lost = hoop_redis_jwks_cmd_lost;
    w->cmd.data = w;
    w->cmd.idle = 1;     /* no exit_process hook: nginx closes it */

    w->sub.conf = conf;
    w->sub.log = w->log;
    w->sub.role = "jwks notices";
    w->sub.ready = hoop_redis_jwks_sub_ready;
    w->sub.data = w;
    w->sub.idle = 1;

    hoop_redis_conn_start(&w->cmd);
    hoop_redis_conn_start(&w->sub);

    ngx_add_timer(&w->tick, HOOP_REDIS_JWKS_REFRESH);

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "hoop: watching redis %V for the JWKS", &conf->name);
}
