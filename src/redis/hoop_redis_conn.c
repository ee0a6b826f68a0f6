/*
 * A Redis connection that a worker keeps up (see hoop_redis_conn.h).
 *
 * hiredis 0.14 rules this follows:
 *  - a failed connect calls the connect callback with REDIS_ERR, then
 *    hiredis frees the context itself: only forget the pointer there;
 *  - the connect callback must not free the context (hiredis uses it after
 *    the callback returns), so a failure to send AUTH from it is left to
 *    the connect timeout;
 *  - redisAsyncFree() from a reply callback is deferred until the callback
 *    returns; pending callbacks then get a NULL reply;
 *  - the disconnect callback is cleared before we free a context
 *    ourselves, so it only reports losses we did not cause.
 */

#include "hoop_redis_conn.h"
#include "../metrics/hoop_metrics.h"


/* the worker's count of ready connections (hoop_worker_redis_connections) */
static void
hoop_redis_conn_metric(ngx_int_t n)
{
    hoop_metrics_worker_t  *w;

    w = hoop_metrics_worker();

    if (w) {
        (void) ngx_atomic_fetch_add(&w->redis_ready, (ngx_atomic_int_t) n);
    }
}


static void hoop_redis_conn_connect(hoop_redis_conn_t *rc);
static void hoop_redis_conn_keepalive(hoop_redis_conn_t *rc,
    redisAsyncContext *ac);
static void hoop_redis_conn_is_ready(hoop_redis_conn_t *rc);
static void hoop_redis_conn_failed(hoop_redis_conn_t *rc, const char *what,
    const char *err);
static void hoop_redis_conn_retry(hoop_redis_conn_t *rc);
static void hoop_redis_conn_timer(ngx_event_t *ev);
static void hoop_redis_conn_on_connect(const redisAsyncContext *ac,
    int status);
static void hoop_redis_conn_on_disconnect(const redisAsyncContext *ac,
    int status);
static int hoop_redis_conn_auth(hoop_redis_conn_t *rc,
    redisAsyncContext *ac);
static void hoop_redis_conn_on_auth(redisAsyncContext *ac, void *reply,
    void *data);
static void hoop_redis_conn_on_close(redisAsyncContext *ac);


/*
 * The first failure of an outage is an error, the retries that follow are
 * info: one line per outage at the default log level.  (A function: the
 * ngx_log_error() macro compares its level unparenthesised.)
 */

static ngx_inline ngx_uint_t
hoop_redis_conn_level(hoop_redis_conn_t *rc)
{
    return (rc->failures <= 1) ? NGX_LOG_ERR : NGX_LOG_INFO;
}


void
hoop_redis_conn_start(hoop_redis_conn_t *rc)
{
    rc->state = HOOP_REDIS_IDLE;
    rc->delay = HOOP_REDIS_RETRY_MIN;

    rc->timer.handler = hoop_redis_conn_timer;
    rc->timer.data = rc;
    rc->timer.log = rc->log;
    rc->timer.cancelable = 1;

    hoop_redis_conn_connect(rc);
}


static void
hoop_redis_conn_connect(hoop_redis_conn_t *rc)
{
    char               err[128];
    redisAsyncContext  *ac;

    if (rc->state != HOOP_REDIS_IDLE) {
        return;
    }

    if (rc->conf->port) {
        ac = redisAsyncConnect(rc->conf->host, rc->conf->port);

    } else {
        ac = redisAsyncConnectUnix(rc->conf->host);
    }

    if (ac == NULL) {
        hoop_redis_conn_failed(rc, "connect", "out of memory");
        return;
    }

    if (ac->err) {
        ngx_cpystrn((u_char *) err, (u_char *) ac->c.errstr, sizeof(err));
        redisAsyncFree(ac);
        hoop_redis_conn_failed(rc, "connect", err);
        return;
    }

    ac->data = rc;

    if (hoop_redis_event_attach(ac, rc->log, hoop_redis_conn_on_close)
        != NGX_OK)
    {
        redisAsyncFree(ac);
        hoop_redis_conn_failed(rc, "connect", "no free nginx connection");
        return;
    }

    hoop_redis_conn_keepalive(rc, ac);

    if (rc->idle) {
        hoop_redis_event_idle(ac);
    }

    rc->ac = ac;
    rc->state = HOOP_REDIS_CONNECTING;

    /* hooks are set: this asks for a write event at once */
    (void) redisAsyncSetConnectCallback(ac, hoop_redis_conn_on_connect);
    (void) redisAsyncSetDisconnectCallback(ac, hoop_redis_conn_on_disconnect);

    ngx_add_timer(&rc->timer, HOOP_REDIS_CONNECT_TIMEOUT);
}


/*
 * TCP keepalive, so that a Redis that vanished without a reset (a host
 * gone, a firewall) is noticed on the subscription too, where no command
 * is ever waiting for an answer.
 */

static void
hoop_redis_conn_keepalive(hoop_redis_conn_t *rc, redisAsyncContext *ac)
{
    int  on;

    if (rc->conf->port == 0) {
        return;
    }

    on = 1;

    if (setsockopt(ac->c.fd, SOL_SOCKET, SO_KEEPALIVE, (const void *) &on,
                   sizeof(int))
        == -1)
    {
        ngx_log_error(NGX_LOG_WARN, rc->log, ngx_socket_errno,
                      "hoop: redis: setsockopt(SO_KEEPALIVE) failed");
        return;
    }

#if (NGX_HAVE_KEEPALIVE_TUNABLE)
    {
    int  idle = 30, intvl = 10, cnt = 3;

    (void) setsockopt(ac->c.fd, IPPROTO_TCP, TCP_KEEPIDLE,
                      (const void *) &idle, sizeof(int));
    (void) setsockopt(ac->c.fd, IPPROTO_TCP, TCP_KEEPINTVL,
                      (const void *) &intvl, sizeof(int));
    (void) setsockopt(ac->c.fd, IPPROTO_TCP, TCP_KEEPCNT,
                      (const void *) &cnt, sizeof(int));
    }
#endif
}


static void
hoop_redis_conn_on_connect(const redisAsyncContext *cac, int status)
{
    hoop_redis_conn_t  *rc;
    redisAsyncContext  *ac;

    ac = (redisAsyncContext *) cac;
    rc = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context when this returns */
        rc->ac = NULL;
        rc->state = HOOP_REDIS_IDLE;

        if (rc->timer.timer_set) {
            ngx_del_timer(&rc->timer);
        }

        hoop_redis_conn_failed(rc, "connect", ac->c.errstr);
        return;
    }

    if (rc->conf->password.len == 0) {
        hoop_redis_conn_is_ready(rc);
        return;
    }

    if (hoop_redis_conn_auth(rc, ac) != REDIS_OK) {
        /* not freed from here: the connect timeout drops it */
        ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                      "hoop: redis %V (%s): cannot send AUTH",
                      &rc->conf->name, rc->role);
    }
}


/* AUTH [user] password (the user form needs Redis 6) */

static int
hoop_redis_conn_auth(hoop_redis_conn_t *rc, redisAsyncContext *ac)
{
    hoop_redis_conf_t  *conf;

    conf = rc->conf;

    if (conf->user.len) {
        return redisAsyncCommand(ac, hoop_redis_conn_on_auth, rc,
                                 "AUTH %b %b", conf->user.data,
                                 (size_t) conf->user.len,
                                 conf->password.data,
                                 (size_t) conf->password.len);
    }

    return redisAsyncCommand(ac, hoop_redis_conn_on_auth, rc, "AUTH %b",
                             conf->password.data,
                             (size_t) conf->password.len);
}


static void
hoop_redis_conn_on_auth(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply         *r = reply;
    hoop_redis_conn_t  *rc = data;

    if (r == NULL || rc->ac != ac) {
        /* the context is being freed; whoever freed it takes care */
        return;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        /* a configuration problem: an error once, until AUTH works */
        rc->failures++;

        if (!rc->auth_refused) {
            rc->auth_refused = 1;
            ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                          "hoop: redis %V (%s): AUTH refused: %*s",
                          &rc->conf->name, rc->role, (size_t) r->len, r->str);
        }

        hoop_redis_conn_drop(rc, NULL);
        return;
    }

    rc->auth_refused = 0;

    hoop_redis_conn_is_ready(rc);
}


static void
hoop_redis_conn_is_ready(hoop_redis_conn_t *rc)
{
    if (rc->timer.timer_set) {
        ngx_del_timer(&rc->timer);
    }

    rc->state = HOOP_REDIS_READY;
    rc->delay = HOOP_REDIS_RETRY_MIN;
    hoop_redis_conn_metric(1);

    if (rc->failures) {
        ngx_log_error(NGX_LOG_NOTICE, rc->log, 0,
                      "hoop: redis %V (%s): connected again",
                      &rc->conf->name, rc->role);
        rc->failures = 0;

    } else {
        ngx_log_error(NGX_LOG_INFO, rc->log, 0,
                      "hoop: redis %V (%s): connected",
                      &rc->conf->name, rc->role);
    }

    if (rc->ready) {
        rc->ready(rc);
    }
}


/* Redis went away (or the connection broke) by itself */

static void
hoop_redis_conn_on_disconnect(const redisAsyncContext *cac, int status)
{
    hoop_redis_conn_t  *rc;
    redisAsyncContext  *ac;
    ngx_uint_t          was_ready;

    ac = (redisAsyncContext *) cac;
    rc = ac->data;

    if (rc->ac != ac) {
        return;
    }

    was_ready = (rc->state == HOOP_REDIS_READY);

    if (was_ready) {
        hoop_redis_conn_metric(-1);
    }

    rc->ac = NULL;
    rc->state = HOOP_REDIS_IDLE;

    if (rc->timer.timer_set) {
        ngx_del_timer(&rc->timer);
    }

    hoop_redis_conn_failed(rc, "connection lost",
                           ac->c.errstr[0] ? ac->c.errstr : "closed");

    if (was_ready && rc->lost) {
        rc->lost(rc);
    }
}


void
hoop_redis_conn_drop(hoop_redis_conn_t *rc, const char *why)
{
    ngx_uint_t          was_ready;
    redisAsyncContext  *ac;

    ac = rc->ac;

    if (ac == NULL) {
        return;
    }

    was_ready = (rc->state == HOOP_REDIS_READY);

    if (was_ready) {
        hoop_redis_conn_metric(-1);
    }

    rc->ac = NULL;
    rc->state = HOOP_REDIS_IDLE;
    ac->onDisconnect = NULL;

    if (rc->timer.timer_set) {
        ngx_del_timer(&rc->timer);
    }

    if (why) {
        rc->failures++;
        ngx_log_error(hoop_redis_conn_level(rc),
                      rc->log, 0, "hoop: redis %V (%s): %s; reconnecting",
                      &rc->conf->name, rc->role, why);
    }

    /* deferred by hiredis when called from one of its callbacks */
    redisAsyncFree(ac);

    hoop_redis_conn_retry(rc);

    if (was_ready && rc->lost) {
        rc->lost(rc);
    }
}


void
hoop_redis_conn_close(hoop_redis_conn_t *rc)
{
    redisAsyncContext  *ac;

    if (rc->state == HOOP_REDIS_READY) {
        hoop_redis_conn_metric(-1);
    }

    rc->state = HOOP_REDIS_CLOSED;

    if (rc->timer.timer_set) {
        ngx_del_timer(&rc->timer);
    }

    ac = rc->ac;

    if (ac == NULL) {
        return;
    }

    rc->ac = NULL;
    ac->onDisconnect = NULL;

    redisAsyncFree(ac);
}


/* nginx closes the connection (worker_shutdown_timeout) */

static void
hoop_redis_conn_on_close(redisAsyncContext *ac)
{
    hoop_redis_conn_t  *rc;

    rc = ac->data;

    ngx_log_error(NGX_LOG_INFO, rc->log, 0,
                  "hoop: redis %V (%s): closed at shutdown",
                  &rc->conf->name, rc->role);

    hoop_redis_conn_close(rc);
}


static void
hoop_redis_conn_failed(hoop_redis_conn_t *rc, const char *what,
    const char *err)
{
    rc->failures++;

    ngx_log_error(hoop_redis_conn_level(rc), rc->log, 0,
                  "hoop: redis %V (%s): %s: %s; retrying in %Mms",
                  &rc->conf->name, rc->role, what, err, rc->delay);

    hoop_redis_conn_retry(rc);
}


static void
hoop_redis_conn_retry(hoop_redis_conn_t *rc)
{
    ngx_msec_t  delay;

    if (rc->state == HOOP_REDIS_CLOSED || ngx_exiting || ngx_terminate
        || ngx_quit)
    {
        return;
    }

    /* up to a quarter more, so that workers do not retry in step */
    delay = rc->delay + (ngx_msec_t) ngx_random() % (rc->delay / 4 + 1);

    ngx_add_timer(&rc->timer, delay);

    rc->delay *= 2;

    if (rc->delay > HOOP_REDIS_RETRY_MAX) {
        rc->delay = HOOP_REDIS_RETRY_MAX;
    }
}


static void
hoop_redis_conn_timer(ngx_event_t *ev)
{
    hoop_redis_conn_t  *rc;

    rc = ev->data;

    switch (rc->state) {

    case HOOP_REDIS_CONNECTING:
        hoop_redis_conn_drop(rc, "connect timed out");
        break;

    case HOOP_REDIS_IDLE:
        hoop_redis_conn_connect(rc);
        break;

    default:
        break;
    }
}


redisContext *
hoop_redis_connect_sync(hoop_redis_conf_t *conf, ngx_log_t *log,
    const char *what)
{
    redisReply      *r;
    redisContext    *c;
    struct timeval   tv;

    tv.tv_sec = 1;
    tv.tv_usec = 0;

    c = conf->port ? redisConnectWithTimeout(conf->host, conf->port, tv)
                   : redisConnectUnixWithTimeout(conf->host, tv);

    if (c == NULL || c->err) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "hoop: redis %V unreachable while reading the "
                      "configuration (%s); %s: none yet", &conf->name,
                      c ? c->errstr : "out of memory", what);
        redisFree(c);
        return NULL;
    }

    if (redisSetTimeout(c, tv) != REDIS_OK) {
        goto failed;
    }

    if (conf->password.len) {
        r = conf->user.len
            ? redisCommand(c, "AUTH %b %b", conf->user.data,
                           (size_t) conf->user.len, conf->password.data,
                           (size_t) conf->password.len)
            : redisCommand(c, "AUTH %b", conf->password.data,
                           (size_t) conf->password.len);

        if (r == NULL) {
            goto failed;
        }

        if (r->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "hoop: redis %V: AUTH refused: %*s", &conf->name,
                          (size_t) r->len, r->str);
            freeReplyObject(r);
            redisFree(c);
            return NULL;
        }

        freeReplyObject(r);
    }

    return c;

failed:

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "hoop: redis %V while reading the %s: %s", &conf->name,
                  what, c->errstr[0] ? c->errstr : "error");
    redisFree(c);
    return NULL;
}
