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
 *    ourselves, so it only reports losses we did not cause;
 *  - commands may be sent before the connect completes: hiredis writes
 *    them once it did (the sentinel query is pipelined that way).
 *
 * Sentinel (docs/operations.md): rc->ac is first a sentinel's context
 * (rc->asking), asked SENTINEL get-master-addr-by-name; then the
 * master's, confirmed with ROLE before the owner hears of it.  Any
 * failure of the sentinel passes over to the next one for the next try.
 */

#include "hoop_redis_conn.h"
#include "hoop_redis_limit.h"
#include "hoop_sentinel.h"
#include "../metrics/hoop_metrics.h"


/* a reply announcing too many elements: hiredis closes the connection */
static void
hoop_redis_limit_refused(long long elements)
{
    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "hoop: redis reply announces %L array elements (limit %d): "
                  "refused, closing the connection", elements,
                  HOOP_REDIS_MAX_ELEMENTS);
}


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
static void hoop_redis_conn_open(hoop_redis_conn_t *rc, const char *host,
    int port, ngx_uint_t asking);
static void hoop_redis_conn_keepalive(hoop_redis_conn_t *rc,
    redisAsyncContext *ac, int port);
static int hoop_redis_conn_ask(hoop_redis_conn_t *rc, redisAsyncContext *ac);
static void hoop_redis_conn_on_sentinel_auth(redisAsyncContext *ac,
    void *reply, void *data);
static void hoop_redis_conn_on_master_addr(redisAsyncContext *ac,
    void *reply, void *data);
static void hoop_redis_conn_confirm(hoop_redis_conn_t *rc,
    redisAsyncContext *ac);
static void hoop_redis_conn_on_role(redisAsyncContext *ac, void *reply,
    void *data);
static void hoop_redis_conn_next_sentinel(hoop_redis_conn_t *rc);
static void hoop_redis_switch_start(hoop_redis_conf_t *of, ngx_log_t *log);
static void hoop_redis_switch_ready(hoop_redis_conn_t *rc);
static void hoop_redis_switch_on_message(redisAsyncContext *ac, void *reply,
    void *data);
static void hoop_redis_switch_kick(hoop_redis_conf_t *of, const char *host,
    int port);
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


/*
 * +switch-master: one subscription per worker to a sentinel (the first
 * that answers, the next when it fails), for the worker's one hoop_redis.
 * Its conf is a copy of that hoop_redis with the sentinels' credentials;
 * it is idle (closed by nginx at graceful shutdown) and closed with the
 * last Sentinel-mode connection of the worker.
 */

typedef struct {
    hoop_redis_conn_t     conn;
    hoop_redis_conf_t     conf;
    hoop_redis_conf_t    *of;
} hoop_redis_switch_t;


static hoop_redis_switch_t  *hoop_redis_switch;
static hoop_redis_conn_t    *hoop_redis_conns;


void
hoop_redis_conn_start(hoop_redis_conn_t *rc)
{
    rc->state = HOOP_REDIS_IDLE;
    rc->delay = HOOP_REDIS_RETRY_MIN;

    rc->timer.handler = hoop_redis_conn_timer;
    rc->timer.data = rc;
    rc->timer.log = rc->log;
    rc->timer.cancelable = 1;

    if (rc->conf->sentinels && !rc->direct) {
        rc->next = hoop_redis_conns;
        hoop_redis_conns = rc;

        hoop_redis_switch_start(rc->conf, rc->log);
    }

    hoop_redis_conn_connect(rc);
}


static void
hoop_redis_switch_start(hoop_redis_conf_t *of, ngx_log_t *log)
{
    hoop_redis_switch_t  *sw;

    if (hoop_redis_switch) {
        return;
    }

    sw = ngx_pcalloc(ngx_cycle->pool, sizeof(hoop_redis_switch_t));
    if (sw == NULL) {
        /* the connections still follow a switch when they fail */
        return;
    }

    sw->of = of;
    sw->conf = *of;
    sw->conf.user = of->sentinel_user;
    sw->conf.password = of->sentinel_password;

    sw->conn.conf = &sw->conf;
    sw->conn.log = log;
    sw->conn.role = "sentinel events";
    sw->conn.ready = hoop_redis_switch_ready;
    sw->conn.data = sw;
    sw->conn.idle = 1;
    sw->conn.direct = 1;

    hoop_redis_switch = sw;

    hoop_redis_conn_start(&sw->conn);
}


static void
hoop_redis_switch_ready(hoop_redis_conn_t *rc)
{
    if (redisAsyncCommand(rc->ac, hoop_redis_switch_on_message, rc->data,
                          "SUBSCRIBE +switch-master")
        != REDIS_OK)
    {
        hoop_redis_conn_drop(rc, "cannot send SUBSCRIBE");
    }
}


/* "+switch-master" messages: "NAME OLD-IP OLD-PORT NEW-IP NEW-PORT" */

static void
hoop_redis_switch_on_message(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply           *r = reply;
    hoop_redis_switch_t  *sw = data;

    int                   port;
    char                  host[NGX_INET6_ADDRSTRLEN + 1];
    redisReply           *kind, *msg;
    hoop_redis_addr_t    *s;

    if (r == NULL || sw->conn.ac != ac) {
        return;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3
        || r->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    kind = r->element[0];
    msg = r->element[2];
    s = &sw->conf.sentinels[sw->conn.sentinel];

    if (kind->len == 9 && ngx_strncmp(kind->str, "subscribe", 9) == 0) {
        ngx_log_error(NGX_LOG_INFO, sw->conn.log, 0,
                      "hoop: redis %V: watching sentinel %s:%d for "
                      "+switch-master", &sw->of->name, s->host, s->port);
        return;
    }

    if (kind->len != 7 || ngx_strncmp(kind->str, "message", 7) != 0
        || msg->type != REDIS_REPLY_STRING)
    {
        return;
    }

    if (!hoop_sentinel_switch(msg->str, msg->len,
                              (const char *) sw->of->master.data,
                              sw->of->master.len, host, sizeof(host), &port))
    {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, sw->conn.log, 0,
                  "hoop: redis %V: sentinel %s:%d: +switch-master %*s",
                  &sw->of->name, s->host, s->port,
                  (size_t) ngx_min(msg->len, 256), msg->str);

    hoop_redis_switch_kick(sw->of, host, port);
}


/*
 * The master moved to host:port: ready connections elsewhere are dropped
 * (their owners hear "lost" and the retry asks a sentinel), waiting ones
 * retry now.
 */

static void
hoop_redis_switch_kick(hoop_redis_conf_t *of, const char *host, int port)
{
    hoop_redis_conn_t  *rc, *next;

    for (rc = hoop_redis_conns; rc; rc = next) {
        next = rc->next;

        if (rc->conf != of) {
            continue;
        }

        switch (rc->state) {

        case HOOP_REDIS_READY:
            if (rc->master_port == port
                && ngx_strcmp(rc->master_host, host) == 0)
            {
                break;
            }

            ngx_log_error(NGX_LOG_NOTICE, rc->log, 0,
                          "hoop: redis %V (%s): master \"%V\" moved to "
                          "%s:%d; reconnecting", &of->name, rc->role,
                          &of->master, host, port);

            /* "connected again" follows, as after a failure */
            rc->failures++;
            hoop_redis_conn_drop(rc, NULL);

            /* fall through */

        case HOOP_REDIS_IDLE:
            rc->delay = HOOP_REDIS_RETRY_MIN;

            if (rc->timer.timer_set) {
                ngx_del_timer(&rc->timer);
            }

            if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
                ngx_add_timer(&rc->timer, 1);
            }

            break;

        default:
            break;
        }
    }
}


static void
hoop_redis_conn_connect(hoop_redis_conn_t *rc)
{
    hoop_redis_addr_t  *s;

    if (rc->state != HOOP_REDIS_IDLE) {
        return;
    }

    if (rc->conf->sentinels) {
        /* where the master is now: ask a sentinel, every time */
        s = &rc->conf->sentinels[rc->sentinel];
        hoop_redis_conn_open(rc, s->host, s->port, !rc->direct);
        return;
    }

    hoop_redis_conn_open(rc, rc->conf->host, rc->conf->port, 0);
}


/* host is numeric (or a socket's path with port 0): hiredis never resolves */

static void
hoop_redis_conn_open(hoop_redis_conn_t *rc, const char *host, int port,
    ngx_uint_t asking)
{
    char               err[128];
    redisAsyncContext  *ac;

    rc->asking = asking;

    if (port) {
        ac = redisAsyncConnect(host, port);

    } else {
        ac = redisAsyncConnectUnix(host);
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
    hoop_redis_reader_limit(ac->c.reader, hoop_redis_limit_refused);

    if (hoop_redis_event_attach(ac, rc->log, hoop_redis_conn_on_close)
        != NGX_OK)
    {
        redisAsyncFree(ac);
        hoop_redis_conn_failed(rc, "connect", "no free nginx connection");
        return;
    }

    hoop_redis_conn_keepalive(rc, ac, port);

    if (rc->idle) {
        hoop_redis_event_idle(ac);
    }

    rc->ac = ac;
    rc->state = HOOP_REDIS_CONNECTING;

    /* hooks are set: this asks for a write event at once */
    (void) redisAsyncSetConnectCallback(ac, hoop_redis_conn_on_connect);
    (void) redisAsyncSetDisconnectCallback(ac, hoop_redis_conn_on_disconnect);

    if (asking && hoop_redis_conn_ask(rc, ac) != REDIS_OK) {
        /* not freed from here: the connect timeout drops it */
        ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                      "hoop: redis %V (%s): cannot ask sentinel %s:%d",
                      &rc->conf->name, rc->role, host, port);
    }

    ngx_add_timer(&rc->timer, HOOP_REDIS_CONNECT_TIMEOUT);
}


/* [AUTH [user] password] SENTINEL get-master-addr-by-name NAME, pipelined */

static int
hoop_redis_conn_ask(hoop_redis_conn_t *rc, redisAsyncContext *ac)
{
    int                 rv;
    hoop_redis_conf_t  *conf;

    conf = rc->conf;

    if (conf->sentinel_password.len) {
        rv = conf->sentinel_user.len
             ? redisAsyncCommand(ac, hoop_redis_conn_on_sentinel_auth, rc,
                                 "AUTH %b %b", conf->sentinel_user.data,
                                 (size_t) conf->sentinel_user.len,
                                 conf->sentinel_password.data,
                                 (size_t) conf->sentinel_password.len)
             : redisAsyncCommand(ac, hoop_redis_conn_on_sentinel_auth, rc,
                                 "AUTH %b", conf->sentinel_password.data,
                                 (size_t) conf->sentinel_password.len);

        if (rv != REDIS_OK) {
            return rv;
        }
    }

    return redisAsyncCommand(ac, hoop_redis_conn_on_master_addr, rc,
                             "SENTINEL get-master-addr-by-name %b",
                             conf->master.data, (size_t) conf->master.len);
}


/* a refused AUTH is logged; the query after it fails and drops the link */

static void
hoop_redis_conn_on_sentinel_auth(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply         *r = reply;
    hoop_redis_conn_t  *rc = data;
    hoop_redis_addr_t  *s;

    if (r == NULL || rc->ac != ac || r->type != REDIS_REPLY_ERROR) {
        return;
    }

    s = &rc->conf->sentinels[rc->sentinel];

    ngx_log_error(hoop_redis_conn_level(rc), rc->log, 0,
                  "hoop: redis %V (%s): sentinel %s:%d refused AUTH: %*s",
                  &rc->conf->name, rc->role, s->host, s->port,
                  (size_t) r->len, r->str);
}


static void
hoop_redis_conn_on_master_addr(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply         *r = reply;
    hoop_redis_conn_t  *rc = data;

    int                 port;
    char                host[NGX_INET6_ADDRSTRLEN + 1];
    u_char              why[256], *p;
    const char         *err;
    ngx_uint_t          first, level;
    hoop_redis_addr_t  *s;

    if (r == NULL || rc->ac != ac) {
        return;
    }

    s = &rc->conf->sentinels[rc->sentinel];

    err = hoop_sentinel_master_addr(r, host, sizeof(host), &port);

    if (err) {
        if (r->type == REDIS_REPLY_ERROR) {
            p = ngx_snprintf(why, sizeof(why) - 1,
                             "sentinel %s:%d: %*s", s->host, s->port,
                             (size_t) ngx_min(r->len, 128), r->str);

        } else {
            p = ngx_snprintf(why, sizeof(why) - 1,
                             "sentinel %s:%d: master \"%V\": %s", s->host,
                             s->port, &rc->conf->master, err);
        }

        *p = '\0';
        hoop_redis_conn_drop(rc, (char *) why);
        return;
    }

    first = (rc->master_port == 0);

    if (port != rc->master_port || ngx_strcmp(host, rc->master_host) != 0) {
        level = first ? NGX_LOG_INFO : NGX_LOG_NOTICE;

        ngx_log_error(level, rc->log, 0,
                      "hoop: redis %V (%s): sentinel %s:%d reports master "
                      "\"%V\" at %s:%d", &rc->conf->name, rc->role,
                      s->host, s->port, &rc->conf->master, host, port);

        ngx_cpystrn((u_char *) rc->master_host, (u_char *) host,
                    sizeof(rc->master_host));
        rc->master_port = port;
    }

    /* done with the sentinel; freed once this callback returns */
    rc->ac = NULL;
    rc->asking = 0;
    rc->state = HOOP_REDIS_IDLE;
    ac->onDisconnect = NULL;

    if (rc->timer.timer_set) {
        ngx_del_timer(&rc->timer);
    }

    redisAsyncFree(ac);

    hoop_redis_conn_open(rc, rc->master_host, rc->master_port, 0);
}


/* Sentinel: a sentinel's view may be old; only a master is used */

static void
hoop_redis_conn_confirm(hoop_redis_conn_t *rc, redisAsyncContext *ac)
{
    if (rc->conf->sentinels == NULL || rc->direct) {
        hoop_redis_conn_is_ready(rc);
        return;
    }

    if (redisAsyncCommand(ac, hoop_redis_conn_on_role, rc, "ROLE")
        != REDIS_OK)
    {
        /* not freed from here (maybe the connect callback): it times out */
        ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                      "hoop: redis %V (%s): cannot send ROLE",
                      &rc->conf->name, rc->role);
    }
}


static void
hoop_redis_conn_on_role(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply         *r = reply;
    hoop_redis_conn_t  *rc = data;

    u_char             *p, why[256];
    size_t              len;
    ngx_int_t           master;
    const char         *role;

    if (r == NULL || rc->ac != ac) {
        return;
    }

    master = hoop_sentinel_role(r, &role, &len);

    if (master < 0) {
        p = ngx_snprintf(why, sizeof(why) - 1, "%s:%d: ROLE failed: %*s",
                         rc->master_host, rc->master_port,
                         (size_t) (r->type == REDIS_REPLY_ERROR
                                   ? ngx_min(r->len, 128) : 0),
                         r->type == REDIS_REPLY_ERROR ? r->str : "");
        *p = '\0';
        hoop_redis_conn_drop(rc, (char *) why);
        return;
    }

    if (master == 0) {
        /* failover in progress, or this sentinel is behind: ask another */
        hoop_redis_conn_next_sentinel(rc);

        p = ngx_snprintf(why, sizeof(why) - 1,
                         "%s:%d is a %*s, not the master \"%V\"",
                         rc->master_host, rc->master_port,
                         ngx_min(len, 32), role,
                         &rc->conf->master);
        *p = '\0';
        hoop_redis_conn_drop(rc, (char *) why);
        return;
    }

    hoop_redis_conn_is_ready(rc);
}


static void
hoop_redis_conn_next_sentinel(hoop_redis_conn_t *rc)
{
    if (rc->conf->nsentinels) {
        rc->sentinel = (rc->sentinel + 1) % rc->conf->nsentinels;
    }
}


/*
 * TCP keepalive, so that a Redis that vanished without a reset (a host
 * gone, a firewall) is noticed on the subscription too, where no command
 * is ever waiting for an answer.
 */

static void
hoop_redis_conn_keepalive(hoop_redis_conn_t *rc, redisAsyncContext *ac,
    int port)
{
    int  on;

    if (port == 0) {
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

    if (rc->asking) {
        /* the query is on its way already */
        return;
    }

    if (rc->conf->password.len == 0) {
        hoop_redis_conn_confirm(rc, ac);
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

    hoop_redis_conn_confirm(rc, ac);
}


static void
hoop_redis_conn_is_ready(hoop_redis_conn_t *rc)
{
    ngx_uint_t  level;

    if (rc->timer.timer_set) {
        ngx_del_timer(&rc->timer);
    }

    rc->state = HOOP_REDIS_READY;
    rc->delay = HOOP_REDIS_RETRY_MIN;
    hoop_redis_conn_metric(1);

    if (rc->conf->sentinels && !rc->direct) {
        level = rc->failures ? NGX_LOG_NOTICE : NGX_LOG_INFO;

        ngx_log_error(level, rc->log, 0,
                      "hoop: redis %V (%s): connected%s to master \"%V\" "
                      "at %s:%d", &rc->conf->name, rc->role,
                      rc->failures ? " again" : "", &rc->conf->master,
                      rc->master_host, rc->master_port);
        rc->failures = 0;

    } else if (rc->failures) {
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

    if (rc->asking || rc->direct) {
        rc->asking = 0;
        hoop_redis_conn_next_sentinel(rc);
    }

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
    redisAsyncContext   *ac;
    hoop_redis_conn_t  **pp;

    if (rc->conf->sentinels && !rc->direct) {
        for (pp = &hoop_redis_conns; *pp; pp = &(*pp)->next) {
            if (*pp == rc) {
                *pp = rc->next;
                break;
            }
        }

        if (hoop_redis_conns == NULL && hoop_redis_switch) {
            hoop_redis_conn_close(&hoop_redis_switch->conn);
        }
    }

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
    hoop_redis_addr_t  *s;

    rc->failures++;

    if (rc->asking || rc->direct) {
        s = &rc->conf->sentinels[rc->sentinel];

        ngx_log_error(hoop_redis_conn_level(rc), rc->log, 0,
                      "hoop: redis %V (%s): sentinel %s:%d: %s: %s; "
                      "asking the next in %Mms", &rc->conf->name, rc->role,
                      s->host, s->port, what, err, rc->delay);

        rc->asking = 0;
        hoop_redis_conn_next_sentinel(rc);
        hoop_redis_conn_retry(rc);
        return;
    }

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
        hoop_redis_conn_drop(rc, rc->asking ? "sentinel did not answer "
                                              "in time"
                                            : "connect timed out");
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
    u_char          tail[128], *p;
    struct timeval  tv;

    tv.tv_sec = 1;
    tv.tv_usec = 0;

    p = ngx_snprintf(tail, sizeof(tail) - 1, "%s: none yet", what);
    *p = '\0';

    return hoop_redis_connect_sync_tv(conf, tv, log, (char *) tail);
}


static redisContext *hoop_redis_sync_open(hoop_redis_conf_t *conf,
    const char *host, int port, struct timeval tv, ngx_log_t *log,
    const char *tail);
static const char *hoop_redis_sync_ask(hoop_redis_conf_t *conf,
    hoop_redis_addr_t *s, struct timeval tv, char *host, int *port);


redisContext *
hoop_redis_connect_sync_tv(hoop_redis_conf_t *conf, struct timeval tv,
    ngx_log_t *log, const char *tail)
{
    int                 port;
    char                host[NGX_INET6_ADDRSTRLEN + 1];
    const char         *err;
    ngx_uint_t          i;
    redisContext       *c;
    hoop_redis_addr_t  *s;

    if (conf->sentinels == NULL) {
        return hoop_redis_sync_open(conf, conf->host, conf->port, tv, log,
                                    tail);
    }

    for (i = 0; i < conf->nsentinels; i++) {
        s = &conf->sentinels[i];

        err = hoop_redis_sync_ask(conf, s, tv, host, &port);

        if (err) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "hoop: redis %V: sentinel %s:%d while reading the "
                          "configuration: %s", &conf->name, s->host, s->port,
                          err);
            continue;
        }

        c = hoop_redis_sync_open(conf, host, port, tv, log, tail);

        if (c) {
            return c;
        }
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "hoop: redis %V: no sentinel led to master \"%V\" while "
                  "reading the configuration; %s", &conf->name, &conf->master,
                  tail);

    return NULL;
}


/* one sentinel's answer: NULL and host, port; or why not */

static const char *
hoop_redis_sync_ask(hoop_redis_conf_t *conf, hoop_redis_addr_t *s,
    struct timeval tv, char *host, int *port)
{
    const char     *err;
    redisReply     *r;
    redisContext   *c;

    /* the master process's, read before the next call */
    static u_char   buf[160];

    c = redisConnectWithTimeout(s->host, s->port, tv);

    if (c == NULL) {
        return "out of memory";
    }

    if (c->err) {
        (void) ngx_cpystrn(buf, (u_char *) c->errstr, sizeof(buf));
        redisFree(c);
        return (const char *) buf;
    }

    hoop_redis_reader_limit(c->reader, hoop_redis_limit_refused);

    if (redisSetTimeout(c, tv) != REDIS_OK) {
        redisFree(c);
        return "cannot set a timeout";
    }

    if (conf->sentinel_password.len) {
        r = conf->sentinel_user.len
            ? redisCommand(c, "AUTH %b %b", conf->sentinel_user.data,
                           (size_t) conf->sentinel_user.len,
                           conf->sentinel_password.data,
                           (size_t) conf->sentinel_password.len)
            : redisCommand(c, "AUTH %b", conf->sentinel_password.data,
                           (size_t) conf->sentinel_password.len);

        if (r) {
            freeReplyObject(r);
        }
    }

    r = redisCommand(c, "SENTINEL get-master-addr-by-name %b",
                     conf->master.data, (size_t) conf->master.len);

    if (r == NULL) {
        (void) ngx_cpystrn(buf, (u_char *) (c->errstr[0] ? c->errstr
                                                         : "no reply"),
                           sizeof(buf));
        redisFree(c);
        return (const char *) buf;
    }

    err = hoop_sentinel_master_addr(r, host, NGX_INET6_ADDRSTRLEN + 1, port);

    if (err && r->type == REDIS_REPLY_ERROR) {
        (void) ngx_cpystrn(buf, (u_char *) r->str,
                           ngx_min(sizeof(buf), (size_t) r->len + 1));
        err = (const char *) buf;
    }

    freeReplyObject(r);
    redisFree(c);

    return err;
}


/* conf's Redis at host:port, authenticated; in the Sentinel form a master */

static redisContext *
hoop_redis_sync_open(hoop_redis_conf_t *conf, const char *host, int port,
    struct timeval tv, ngx_log_t *log, const char *tail)
{
    size_t         len;
    const char    *role;
    redisReply    *r;
    redisContext  *c;

    c = port ? redisConnectWithTimeout(host, port, tv)
             : redisConnectUnixWithTimeout(host, tv);

    if (c == NULL || c->err) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "hoop: redis %V unreachable while reading the "
                      "configuration (%s); %s", &conf->name,
                      c ? c->errstr : "out of memory", tail);
        redisFree(c);
        return NULL;
    }

    hoop_redis_reader_limit(c->reader, hoop_redis_limit_refused);

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
                          "hoop: redis %V: AUTH refused: %*s; %s",
                          &conf->name, (size_t) r->len, r->str, tail);
            freeReplyObject(r);
            redisFree(c);
            return NULL;
        }

        freeReplyObject(r);
    }

    if (conf->sentinels) {
        r = redisCommand(c, "ROLE");

        if (r == NULL) {
            goto failed;
        }

        if (hoop_sentinel_role(r, &role, &len) != 1) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "hoop: redis %V: %s:%d is not the master \"%V\" "
                          "(ROLE)", &conf->name, host, port, &conf->master);
            freeReplyObject(r);
            redisFree(c);
            return NULL;
        }

        freeReplyObject(r);
    }

    return c;

failed:

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "hoop: redis %V while reading the configuration: %s; %s",
                  &conf->name, c->errstr[0] ? c->errstr : "error", tail);
    redisFree(c);
    return NULL;
}
