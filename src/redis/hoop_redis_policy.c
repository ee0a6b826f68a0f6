/*
 * Policy versions from Redis to every worker (hoop_redis_policy.h).
 *
 * Redis layout (docs/redis-layout.md; PREFIX is hoop_redis' prefix=):
 *
 *   PREFIX policy:current   string, the current version number N
 *   PREFIX policy:v:N       hash: text, format, canonical, sha256, ...
 *   PREFIX policy:notify    channel: a message after each push/rollback
 *
 * A worker never trusts a notice's content: any notice (and the refresh
 * timer, and every reconnect) just makes it read policy:current again, so
 * lost, repeated or reordered notices do no harm, and a rollback (a
 * smaller N) is followed like any other change.
 */

#include "hoop_redis_policy.h"
#include "hoop_redis_conf.h"
#include "hoop_redis_conn.h"
#include "hoop_policy_cache.h"
#include "../session/hoop_authorize.h"
#include "../metrics/hoop_metrics.h"


#define HOOP_REDIS_KEY_LEN  (HOOP_REDIS_MAX_PREFIX + 64)


typedef struct {
    hoop_policy_state_t          *st;
    hoop_main_conf_t             *hmcf;
    hoop_redis_conf_t            *conf;
    ngx_log_t                    *log;

    hoop_redis_conn_t             cmd;        /* GET, HMGET */
    hoop_redis_conn_t             sub;        /* SUBSCRIBE */

    ngx_event_t                   tick;       /* every REFRESH ms */
    ngx_event_t                   deadline;   /* a refresh in flight */

    int64_t                       asked;      /* version being fetched */
    int64_t                       missing;    /* announced, no text */
    int64_t                       unsaved;    /* cache write failed */

    u_char                        current[HOOP_REDIS_KEY_LEN];
    size_t                        current_len;
    u_char                        channel[HOOP_REDIS_KEY_LEN];
    size_t                        channel_len;

    unsigned                      busy:1;     /* GET/HMGET in flight */
    unsigned                      again:1;    /* asked while busy */
    unsigned                      stopping:1;
    unsigned                      none_logged:1;
} hoop_redis_watch_t;


static ngx_int_t hoop_redis_policy_take(hoop_policy_state_t *st,
    hoop_redis_conf_t *conf, int64_t version, const u_char *text, size_t len,
    const u_char *sha256, ngx_uint_t level, ngx_log_t *log);
static void hoop_redis_policy_fetch_now(ngx_conf_t *cf,
    hoop_main_conf_t *hmcf, hoop_policy_state_t *st);
static void hoop_redis_policy_refresh(hoop_redis_watch_t *w);
static void hoop_redis_policy_done(hoop_redis_watch_t *w, ngx_uint_t more);
static void hoop_redis_policy_save(hoop_redis_watch_t *w);
static void hoop_redis_policy_on_current(redisAsyncContext *ac, void *reply,
    void *data);
static void hoop_redis_policy_on_version(redisAsyncContext *ac, void *reply,
    void *data);
static void hoop_redis_policy_on_notice(redisAsyncContext *ac, void *reply,
    void *data);
static void hoop_redis_policy_cmd_ready(hoop_redis_conn_t *rc);
static void hoop_redis_policy_cmd_lost(hoop_redis_conn_t *rc);
static void hoop_redis_policy_sub_ready(hoop_redis_conn_t *rc);
static void hoop_redis_policy_tick(ngx_event_t *ev);
static void hoop_redis_policy_timeout(ngx_event_t *ev);


/* ---------------------------------------------------------------------
 * Installing a version
 */

/*
 * Compiles version (text, len) and, when it compiles, makes it the one st
 * enforces.  sha256 (64 hex digits, or NULL when the hash has none) is the
 * version's identity as hoopctl stored it: a compiled policy with another
 * one is refused too (the hash was edited, or hoopctl and the gateway
 * disagree on the canonical form).  Returns NGX_OK or NGX_ERROR
 * (st->refused set, the last good version kept; logged at level).
 */

static ngx_int_t
hoop_redis_policy_take(hoop_policy_state_t *st, hoop_redis_conf_t *conf,
    int64_t version, const u_char *text, size_t len, const u_char *sha256,
    ngx_uint_t level, ngx_log_t *log)
{
    u_char               name[HOOP_REDIS_KEY_LEN];
    const char          *hex, *why;
    hoop_policy_t       *p;
    hoop_mask_policy_t  *mp;

    if (hoop_redis_key(conf, HOOP_REDIS_POLICY_VERSION, version, name,
                       sizeof(name))
        == 0)
    {
        return NGX_ERROR;
    }

    p = hoop_authorize_compile(text, len, (char *) name, level, log, &mp);

    if (p == NULL) {
        why = "it does not compile";
        goto refused;
    }

    hex = hoop_policy_sha256_hex(p);

    if (sha256 && ngx_strncmp(sha256, hex, 64) != 0) {
        ngx_log_error(level, log, 0,
                      "hoop: policy version %L: its sha256 in redis is %*s, "
                      "the compiled policy's is %s", version, (size_t) 64,
                      sha256, hex);
        hoop_policy_free(p);
        hoop_mask_policy_free(mp);
        why = "its sha256 does not match";
        goto refused;
    }

    hoop_authorize_install(st, p, mp, version);
    st->origin = "redis";
    st->confirmed = 1;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "hoop: policy version %L (sha256 %s) from redis",
                  version, hex);

    return NGX_OK;

refused:

    st->refused = version;
    hoop_metric_add(policy_refused, 1);

    if (st->policy) {
        ngx_log_error(level, log, 0,
                      "hoop: policy version %L from redis refused: %s; "
                      "keeping version %L (sha256 %s)", version, why,
                      st->version, hoop_policy_sha256_hex(st->policy));
    } else {
        ngx_log_error(level, log, 0,
                      "hoop: policy version %L from redis refused: %s; "
                      "no policy loaded, every request is denied", version,
                      why);
    }

    return NGX_ERROR;
}


/* ---------------------------------------------------------------------
 * Configuration time
 */

ngx_int_t
hoop_redis_policy_init_conf(ngx_conf_t *cf, hoop_main_conf_t *hmcf)
{
    ngx_int_t             rc;
    hoop_policy_t        *p;
    hoop_mask_policy_t   *mp;
    hoop_policy_state_t  *st;
    hoop_policy_cache_t   pc;

    st = hmcf->redis_policy;

    if (st == NULL) {
        if (hmcf->policy_cache.len) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "hoop_policy_cache is only used with "
                          "\"hoop_policy redis\"");
        }

        return NGX_OK;
    }

    if (hmcf->redis == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"hoop_policy redis\" needs \"hoop_redis\" in the "
                      "stream block");
        return NGX_ERROR;
    }

    if (ngx_process == NGX_PROCESS_SIGNALLER) {
        /* nginx -s reload: the running master loads it */
        return NGX_OK;
    }

    if (hmcf->policy_cache.len == 0) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "hoop: no hoop_policy_cache: started while Redis is "
                      "unreachable, nginx will deny every request");

    } else {
        rc = hoop_policy_cache_read(&hmcf->policy_cache, &pc, NGX_LOG_WARN,
                                    cf->log);

        if (rc == NGX_OK) {
            p = hoop_authorize_compile(pc.text, pc.len,
                                       (char *) hmcf->policy_cache.data,
                                       NGX_LOG_WARN, cf->log, &mp);
            if (p) {
                hoop_authorize_install(st, p, mp, pc.version);
                st->cached = pc.version;
                st->origin = "cache";

                ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                              "hoop: policy version %L (sha256 %s) from "
                              "cache \"%V\"", pc.version,
                              hoop_policy_sha256_hex(p), &hmcf->policy_cache);

            } else {
                ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                              "hoop: policy cache \"%V\" (version %L) does "
                              "not compile: not used", &hmcf->policy_cache,
                              pc.version);
            }

            hoop_policy_cache_free(&pc);

        } else if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                          "hoop: no policy cache \"%V\" yet",
                          &hmcf->policy_cache);
        }
    }

    hoop_redis_policy_fetch_now(cf, hmcf, st);

    if (st->policy == NULL) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "hoop: no policy loaded (no usable cache, nothing from "
                      "redis %V): every request is denied until a version is "
                      "loaded from Redis", &hmcf->redis->name);
    }

    return NGX_OK;
}


/*
 * One blocking look at Redis while the configuration is read (master
 * process, nginx -t), each step bounded by HOOP_REDIS_POLICY_CONF_WAIT
 * seconds, so that a fresh start gets the current version before the
 * first client.  Workers check again as soon as they run.
 */

static void
hoop_redis_policy_fetch_now(ngx_conf_t *cf, hoop_main_conf_t *hmcf,
    hoop_policy_state_t *st)
{
    u_char              key[HOOP_REDIS_KEY_LEN];
    int64_t             n;
    redisReply         *r, *t, *h;
    redisContext       *c;
    struct timeval      tv;
    hoop_redis_conf_t  *conf;

    conf = hmcf->redis;

    tv.tv_sec = HOOP_REDIS_POLICY_CONF_WAIT;
    tv.tv_usec = 0;

    /* the master, in the Sentinel form; AUTH done */
    c = hoop_redis_connect_sync_tv(conf, tv, cf->log,
                                   st->policy ? "enforcing the cached policy"
                                              : "no policy yet");
    if (c == NULL) {
        return;
    }

    r = NULL;

    (void) hoop_redis_key(conf, HOOP_REDIS_POLICY_CURRENT, 0, key,
                          sizeof(key));

    r = redisCommand(c, "GET %s", key);

    if (r == NULL) {
        goto failed;
    }

    if (r->type == REDIS_REPLY_NIL) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "hoop: redis %V: no policy published (no \"%s\")",
                      &conf->name, key);
        goto done;
    }

    if (r->type != REDIS_REPLY_STRING
        || (n = ngx_atoof((u_char *) r->str, r->len)) <= 0)
    {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "hoop: redis %V: \"%s\" is not a version number",
                      &conf->name, key);
        goto done;
    }

    freeReplyObject(r);
    r = NULL;


    (void) hoop_redis_key(conf, HOOP_REDIS_POLICY_VERSION, n, key,
                          sizeof(key));

    r = redisCommand(c, "HMGET %s text sha256", key);

    if (r == NULL) {
        goto failed;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || r->element[0]->type != REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "hoop: redis %V: policy version %L has no text in "
                      "\"%s\"", &conf->name, n, key);
        goto done;
    }

    t = r->element[0];
    h = r->element[1];

    (void) hoop_redis_policy_take(st, conf, n, (u_char *) t->str, t->len,
                                  (h->type == REDIS_REPLY_STRING
                                   && h->len == 64) ? (u_char *) h->str
                                                    : NULL,
                                  NGX_LOG_WARN, cf->log);

done:

    if (r) {
        freeReplyObject(r);
    }

    redisFree(c);
    return;

failed:

    ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                  "hoop: redis %V while reading the configuration: %s; %s",
                  &conf->name, c->errstr[0] ? c->errstr : "error",
                  st->policy ? "enforcing the cached policy"
                             : "no policy yet");
    redisFree(c);
}


/* ---------------------------------------------------------------------
 * Workers
 */

ngx_int_t
hoop_redis_policy_start(ngx_cycle_t *cycle, hoop_main_conf_t *hmcf)
{
    hoop_policy_state_t  *st;
    hoop_redis_watch_t   *w;

    st = hmcf->redis_policy;

    w = ngx_pcalloc(cycle->pool, sizeof(hoop_redis_watch_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->st = st;
    w->hmcf = hmcf;
    w->conf = hmcf->redis;
    w->log = cycle->log;

    w->current_len = hoop_redis_key(w->conf, HOOP_REDIS_POLICY_CURRENT, 0,
                                    w->current, sizeof(w->current));
    w->channel_len = hoop_redis_key(w->conf, HOOP_REDIS_POLICY_CHANNEL, 0,
                                    w->channel, sizeof(w->channel));

    st->watch = w;

    if (st->policy && hoop_metrics_worker()) {
        hoop_metrics_worker()->policy_version = (ngx_atomic_uint_t) st->version;
    }

    if (st->policy) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "hoop: policy version %L (sha256 %s) from %s at start",
                      st->version, hoop_policy_sha256_hex(st->policy),
                      st->origin);
    } else {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "hoop: no policy loaded: every request is denied until "
                      "a version is loaded from redis %V", &w->conf->name);
    }

    w->tick.handler = hoop_redis_policy_tick;
    w->tick.data = w;
    w->tick.log = cycle->log;
    w->tick.cancelable = 1;

    w->deadline.handler = hoop_redis_policy_timeout;
    w->deadline.data = w;
    w->deadline.log = cycle->log;
    w->deadline.cancelable = 1;

    w->cmd.conf = w->conf;
    w->cmd.log = cycle->log;
    w->cmd.role = "policy";
    w->cmd.ready = hoop_redis_policy_cmd_ready;
    w->cmd.lost = hoop_redis_policy_cmd_lost;
    w->cmd.data = w;

    w->sub.conf = w->conf;
    w->sub.log = cycle->log;
    w->sub.role = "policy notices";
    w->sub.ready = hoop_redis_policy_sub_ready;
    w->sub.data = w;

    hoop_redis_policy_save(w);

    hoop_redis_conn_start(&w->cmd);
    hoop_redis_conn_start(&w->sub);

    ngx_add_timer(&w->tick, HOOP_REDIS_POLICY_REFRESH);

    return NGX_OK;
}


void
hoop_redis_policy_stop(ngx_cycle_t *cycle, hoop_main_conf_t *hmcf)
{
    hoop_redis_watch_t  *w;

    w = hmcf->redis_policy->watch;

    if (w == NULL) {
        return;
    }

    w->stopping = 1;

    if (w->tick.timer_set) {
        ngx_del_timer(&w->tick);
    }

    if (w->deadline.timer_set) {
        ngx_del_timer(&w->deadline);
    }

    /* pending callbacks run now, with NULL replies */
    hoop_redis_conn_close(&w->cmd);
    hoop_redis_conn_close(&w->sub);

    hmcf->redis_policy->watch = NULL;
}


/*
 * Asks Redis for the current version, unless a refresh is in flight (then
 * once more after it) or the command connection is down (its ready
 * handler asks).  Never frees a context: it runs from the connect
 * callback too.
 */

static void
hoop_redis_policy_refresh(hoop_redis_watch_t *w)
{
    if (w->stopping || !hoop_redis_conn_ready(&w->cmd)) {
        return;
    }

    if (w->busy) {
        w->again = 1;
        return;
    }

    w->again = 0;

    if (redisAsyncCommand(w->cmd.ac, hoop_redis_policy_on_current, w,
                          "GET %b", w->current, w->current_len)
        != REDIS_OK)
    {
        /* the context is going away; its loss is reported */
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "hoop: redis %V: cannot send GET %s",
                      &w->conf->name, w->current);
        return;
    }

    w->busy = 1;
    ngx_add_timer(&w->deadline, HOOP_REDIS_POLICY_TIMEOUT);
}


/* the refresh is over; more: start the one asked for meanwhile */

static void
hoop_redis_policy_done(hoop_redis_watch_t *w, ngx_uint_t more)
{
    w->busy = 0;

    if (w->deadline.timer_set) {
        ngx_del_timer(&w->deadline);
    }

    if (more && w->again) {
        hoop_redis_policy_refresh(w);
    }
}


static void
hoop_redis_policy_on_current(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply          *r = reply;
    hoop_redis_watch_t  *w = data;

    u_char               key[HOOP_REDIS_KEY_LEN];
    size_t               len;
    int64_t              n;
    hoop_policy_state_t *st;

    if (r == NULL) {
        /* the connection is gone; reconnecting asks again */
        hoop_redis_policy_done(w, 0);
        return;
    }

    st = w->st;

    if (r->type == REDIS_REPLY_NIL) {
        if (!w->none_logged) {
            w->none_logged = 1;
            ngx_log_error(NGX_LOG_WARN, w->log, 0,
                          "hoop: redis %V: no policy published (no \"%s\"); "
                          "%s", &w->conf->name, w->current,
                          st->policy ? "keeping the loaded version"
                                     : "every request is denied");
        }

        hoop_redis_policy_done(w, 1);
        return;
    }

    w->none_logged = 0;

    if (r->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "hoop: redis %V: GET %s: %*s", &w->conf->name,
                      w->current, (size_t) r->len, r->str);
        hoop_redis_policy_done(w, 1);
        return;
    }

    if (r->type != REDIS_REPLY_STRING
        || (n = ngx_atoof((u_char *) r->str, r->len)) <= 0)
    {
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "hoop: redis %V: \"%s\" is not a version number",
                      &w->conf->name, w->current);
        hoop_redis_policy_done(w, 1);
        return;
    }

    /*
     * A version from the cache file is read from Redis once all the same:
     * the cache may come from another Redis or prefix, where the same
     * number is another policy.
     */
    if ((n == st->version && st->confirmed) || n == st->refused) {
        hoop_redis_policy_done(w, 1);
        return;
    }

    len = hoop_redis_key(w->conf, HOOP_REDIS_POLICY_VERSION, n, key,
                         sizeof(key));

    if (redisAsyncCommand(ac, hoop_redis_policy_on_version, w,
                          "HMGET %b text sha256", key, len)
        != REDIS_OK)
    {
        hoop_redis_policy_done(w, 0);
        return;
    }

    w->asked = n;

    /* still busy, under the same deadline */
}


static void
hoop_redis_policy_on_version(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply          *r = reply;
    hoop_redis_watch_t  *w = data;

    redisReply          *t, *h;
    hoop_policy_state_t *st;

    if (r == NULL) {
        hoop_redis_policy_done(w, 0);
        return;
    }

    st = w->st;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || r->element[0]->type != REDIS_REPLY_STRING)
    {
        /* pushed out of order, or deleted: look again on the next tick */
        if (w->missing != w->asked) {
            w->missing = w->asked;
            ngx_log_error(NGX_LOG_ERR, w->log, 0,
                          "hoop: redis %V: policy version %L is current but "
                          "has no text; %s", &w->conf->name, w->asked,
                          st->policy ? "keeping the loaded version"
                                     : "every request is denied");
        }

        hoop_redis_policy_done(w, 1);
        return;
    }

    t = r->element[0];
    h = r->element[1];

    if (hoop_redis_policy_take(st, w->conf, w->asked, (u_char *) t->str,
                               t->len,
                               (h->type == REDIS_REPLY_STRING && h->len == 64)
                               ? (u_char *) h->str : NULL,
                               NGX_LOG_ERR, w->log)
        == NGX_OK)
    {
        hoop_redis_policy_save(w);
    }

    hoop_redis_policy_done(w, 1);
}


/*
 * The cache file follows the loaded version.  One writer per nginx
 * (worker 0): all workers load the same versions.
 */

static void
hoop_redis_policy_save(hoop_redis_watch_t *w)
{
    u_char               source[NGX_SOCKADDR_STRLEN + HOOP_REDIS_KEY_LEN];
    size_t               len;
    const char          *text;
    hoop_policy_state_t *st;

    st = w->st;

    if (w->hmcf->policy_cache.len == 0 || ngx_worker != 0 || ngx_exiting
        || st->policy == NULL || st->version == st->cached
        || st->version == w->unsaved)
    {
        /* during a reload the new generation's worker 0 writes */
        return;
    }

    /* the canonical form: it compiles to the same policy and sha256 */
    text = hoop_policy_canonical(st->policy, &len);

    ngx_snprintf(source, sizeof(source) - 1, "redis %V %V%Z",
                 &w->conf->name, &w->conf->prefix);

    if (hoop_policy_cache_write(&w->hmcf->policy_cache, st->version,
                                hoop_policy_sha256_hex(st->policy),
                                (const u_char *) text, len,
                                (const char *) source, w->log)
        != NGX_OK)
    {
        w->unsaved = st->version;
        return;
    }

    st->cached = st->version;
}


static void
hoop_redis_policy_on_notice(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply          *r = reply;
    hoop_redis_watch_t  *w = data;

    redisReply          *kind;

    if (r == NULL) {
        return;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3
        || r->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    kind = r->element[0];

    if (kind->len == 9 && ngx_strncmp(kind->str, "subscribe", 9) == 0) {
        ngx_log_error(NGX_LOG_INFO, w->log, 0,
                      "hoop: redis %V: subscribed to %s", &w->conf->name,
                      w->channel);

        /* notices may have been missed while not subscribed */
        hoop_redis_policy_refresh(w);
        return;
    }

    if (kind->len == 7 && ngx_strncmp(kind->str, "message", 7) == 0) {
        ngx_log_debug2(NGX_LOG_DEBUG_STREAM, w->log, 0,
                       "hoop: policy notice: %*s",
                       (size_t) (r->element[2]->type == REDIS_REPLY_STRING
                                 ? r->element[2]->len : 0),
                       r->element[2]->str);

        hoop_redis_policy_refresh(w);
    }
}


static void
hoop_redis_policy_cmd_ready(hoop_redis_conn_t *rc)
{
    hoop_redis_policy_refresh(rc->data);
}


static void
hoop_redis_policy_cmd_lost(hoop_redis_conn_t *rc)
{
    hoop_redis_watch_t  *w = rc->data;

    if (w->st->policy) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "hoop: enforcing policy version %L while redis %V is "
                      "away", w->st->version, &w->conf->name);
    }

    hoop_redis_policy_done(w, 0);
}


static void
hoop_redis_policy_sub_ready(hoop_redis_conn_t *rc)
{
    hoop_redis_watch_t  *w = rc->data;

    if (redisAsyncCommand(rc->ac, hoop_redis_policy_on_notice, w,
                          "SUBSCRIBE %b", w->channel, w->channel_len)
        != REDIS_OK)
    {
        /* the context is going away; its loss is reported */
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "hoop: redis %V: cannot send SUBSCRIBE %s",
                      &w->conf->name, w->channel);
    }
}


static void
hoop_redis_policy_tick(ngx_event_t *ev)
{
    hoop_redis_watch_t  *w;

    w = ev->data;

    hoop_redis_policy_refresh(w);

    if (!w->stopping) {
        ngx_add_timer(&w->tick, HOOP_REDIS_POLICY_REFRESH);
    }
}


static void
hoop_redis_policy_timeout(ngx_event_t *ev)
{
    hoop_redis_watch_t  *w;

    w = ev->data;

    /* the NULL replies end the refresh */
    hoop_redis_conn_drop(&w->cmd, "no answer to a policy refresh in time");
}
