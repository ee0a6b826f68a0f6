/*
 * Held approvals on the worker's Redis connections (hoop_redis_approval.h).
 * Modelled on the policy watcher (hoop_redis_policy.c): a command
 * connection, a subscription, a safety-net timer.  Notices are trusted
 * only for the ids this worker holds; anything odd, or a lost
 * connection, refuses the held requests as undecided: a request is never
 * forwarded on a doubt.
 */

#include "hoop_redis_approval.h"
#include "hoop_redis_conn.h"


typedef struct {
    hoop_redis_conf_t            *conf;
    hoop_redis_conn_t             cmd;       /* EVALSHA, SCRIPT LOAD */
    hoop_redis_conn_t             sub;       /* SUBSCRIBE */
    ngx_queue_t                   holds;     /* hoop_hold_t, linked */
    ngx_event_t                   tick;
    u_char                        channel[HOOP_REDIS_MAX_PREFIX + 32];
    size_t                        channel_len;
    unsigned                      stopping:1;
} hoop_redis_approvals_t;


static hoop_redis_approvals_t  *hoop_ra;


static ngx_int_t hoop_ra_send(hoop_hold_t *h);
static void hoop_ra_on_request(redisAsyncContext *ac, void *reply,
    void *data);
static void hoop_ra_on_status(redisAsyncContext *ac, void *reply,
    void *data);
static void hoop_ra_on_notice(redisAsyncContext *ac, void *reply,
    void *data);
static void hoop_ra_script_load(void);
static void hoop_ra_cmd_ready(hoop_redis_conn_t *rc);
static void hoop_ra_cmd_lost(hoop_redis_conn_t *rc);
static void hoop_ra_sub_ready(hoop_redis_conn_t *rc);
static void hoop_ra_tick(ngx_event_t *ev);
static void hoop_ra_refuse_all(void);


static hoop_redis_approvals_t *
hoop_ra_start(hoop_redis_conf_t *conf)
{
    hoop_redis_approvals_t  *ra;

    ra = ngx_calloc(sizeof(hoop_redis_approvals_t), ngx_cycle->log);
    if (ra == NULL) {
        return NULL;
    }

    ra->conf = conf;
    ngx_queue_init(&ra->holds);

    ra->channel_len = hoop_redis_key(conf, HOOP_REDIS_APPROVAL_CHANNEL, 0,
                                     ra->channel, sizeof(ra->channel));

    ra->tick.handler = hoop_ra_tick;
    ra->tick.data = ra;
    ra->tick.log = ngx_cycle->log;
    ra->tick.cancelable = 1;

    ra->cmd.conf = conf;
    ra->cmd.log = ngx_cycle->log;
    ra->cmd.role = "approvals";
    ra->cmd.ready = hoop_ra_cmd_ready;
    ra->cmd.lost = hoop_ra_cmd_lost;
    ra->cmd.data = ra;

    ra->sub.conf = conf;
    ra->sub.log = ngx_cycle->log;
    ra->sub.role = "approval notices";
    ra->sub.ready = hoop_ra_sub_ready;
    ra->sub.data = ra;

    /*
     * Not idle: during a graceful shutdown (reload) the old worker keeps
     * both, so what it holds is still released by an approval or answered
     * when its hold ends (its timer keeps the worker); exit_process closes
     * them (hoop_redis_approval_stop()).
     */

    hoop_ra = ra;

    hoop_redis_conn_start(&ra->cmd);
    hoop_redis_conn_start(&ra->sub);

    ngx_add_timer(&ra->tick, HOOP_REDIS_APPROVAL_POLL);

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "hoop: approvals: connecting to redis %V", &conf->name);

    return ra;
}


ngx_int_t
hoop_redis_approval_ask(hoop_redis_conf_t *conf, hoop_hold_t *h)
{
    hoop_redis_approvals_t  *ra;

    if (ngx_exiting || ngx_quit || ngx_terminate
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_DECLINED;
    }

    ra = hoop_ra;

    if (ra == NULL) {
        ra = hoop_ra_start(conf);
        if (ra == NULL) {
            return NGX_DECLINED;
        }
    }

    if (ra->stopping) {
        return NGX_DECLINED;
    }

    if (hoop_redis_conn_ready(&ra->cmd)) {
        if (hoop_ra_send(h) != NGX_OK) {
            return NGX_DECLINED;
        }

    } else if (ra->cmd.state == HOOP_REDIS_CONNECTING && ra->cmd.failures == 0)
    {
        /* the first connection of this worker: sent once it is ready */
        h->unsent = 1;

    } else {
        return NGX_DECLINED;
    }

    ngx_queue_insert_tail(&ra->holds, &h->queue);
    h->linked = 1;

    return NGX_OK;
}


void
hoop_redis_approval_forget(hoop_hold_t *h)
{
    if (h->linked) {
        ngx_queue_remove(&h->queue);
        h->linked = 0;
    }
}


static ngx_int_t
hoop_ra_send(hoop_hold_t *h)
{
    if (!h->cmd_set
        || redisAsyncCommandArgv(hoop_ra->cmd.ac, hoop_ra_on_request, h,
                                 h->cmd.argc, h->cmd.argv, h->cmd.argvlen)
           != REDIS_OK)
    {
        return NGX_ERROR;
    }

    h->refs++;
    h->asked = 1;
    h->unsent = 0;

    return NGX_OK;
}


static void
hoop_ra_script_load(void)
{
    size_t       len;
    const char  *s;

    s = hoop_approval_script(&len);

    (void) redisAsyncCommand(hoop_ra->cmd.ac, NULL, NULL, "SCRIPT LOAD %b",
                             s, len);
}


static void
hoop_ra_on_request(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply             *r = reply;
    hoop_hold_t            *h = data;

    hoop_approval_err_t     err;
    hoop_approval_reply_t   rep;

    h->refs--;

    if (h->done || (hoop_ra && hoop_ra->stopping)) {
        hoop_hold_release(h);
        return;
    }

    if (r == NULL) {
        /* the connection is gone: fail closed */
        hoop_hold_finish(h, HOOP_APPROVAL_NONE, NULL, 0, NULL, 0);
        return;
    }

    err = hoop_approval_reply_parse(r, &rep);

    if (err == HOOP_APPROVAL_ERR_NOSCRIPT && hoop_redis_conn_ready(&hoop_ra->cmd)
        && !h->reloaded)
    {
        /* Redis restarted or was flushed: load, then ask again (in
         * order on the same connection) */
        h->reloaded = 1;

        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "hoop: redis %V: the approval script is gone "
                      "(NOSCRIPT): loading it again",
                      &hoop_ra->conf->name);

        hoop_ra_script_load();

        if (hoop_ra_send(h) == NGX_OK) {
            return;
        }
    }

    if (err != HOOP_APPROVAL_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "hoop: redis %V: approval request refused: %*s: the "
                      "held request is answered as undecided",
                      &hoop_ra->conf->name, rep.message.len,
                      rep.message.data ? rep.message.data : "");
        hoop_hold_finish(h, HOOP_APPROVAL_NONE, NULL, 0, NULL, 0);
        return;
    }

    switch (rep.state) {

    case HOOP_APPROVAL_GRANTED:
        hoop_hold_finish(h, HOOP_APPROVAL_GRANTED, rep.id, rep.ms, NULL, 0);
        return;

    case HOOP_APPROVAL_DENIED:
        hoop_hold_finish(h, HOOP_APPROVAL_DENIED, rep.id, 0,
                         (const u_char *) rep.detail.data, rep.detail.len);
        return;

    case HOOP_APPROVAL_PENDING:
        ngx_memcpy(h->id, rep.id, sizeof(h->id));

        /* the call is done with: nothing of it is sent again */
        hoop_approval_cmd_free(&h->cmd);
        h->cmd_set = 0;

        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "hoop: %s v%d correlation id %D held for approval %s "
                      "(%s), %Mms at most", hoop_kafka_api_name(h->api_key),
                      (int) h->api_version, h->correlation_id, h->id,
                      rep.flag ? "asked" : "joined", h->hold_ms);
        return;

    default:
        hoop_hold_finish(h, HOOP_APPROVAL_NONE, NULL, 0, NULL, 0);
        return;
    }
}


static void
hoop_ra_on_status(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply             *r = reply;
    hoop_hold_t            *h = data;

    hoop_approval_err_t     err;
    hoop_approval_reply_t   rep;

    h->refs--;
    h->polling = 0;

    if (h->done || r == NULL || (hoop_ra && hoop_ra->stopping)) {
        /* a lost connection refuses what it held (hoop_ra_cmd_lost) */
        hoop_hold_release(h);
        return;
    }

    err = hoop_approval_reply_parse(r, &rep);

    if (err == HOOP_APPROVAL_ERR_NOSCRIPT) {
        hoop_ra_script_load();
        return;
    }

    if (err != HOOP_APPROVAL_OK) {
        /* NOAPPROVAL (gone from Redis) and the like: ask again later */
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "hoop: redis %V: approval %s: %*s",
                      &hoop_ra->conf->name, h->id, rep.message.len,
                      rep.message.data ? rep.message.data : "");
        hoop_hold_finish(h, HOOP_APPROVAL_EXPIRED, NULL, 0, NULL, 0);
        return;
    }

    switch (rep.state) {

    case HOOP_APPROVAL_APPROVED:
        hoop_hold_finish(h, HOOP_APPROVAL_APPROVED, rep.id, rep.ms, NULL, 0);
        return;

    case HOOP_APPROVAL_DENIED:
        hoop_hold_finish(h, HOOP_APPROVAL_DENIED, rep.id, 0,
                         (const u_char *) rep.detail.data, rep.detail.len);
        return;

    case HOOP_APPROVAL_EXPIRED:
    case HOOP_APPROVAL_REVOKED:
        /* revoked: approved and its grant ended before this poll saw it;
         * like expired, the retry asks again */
        hoop_hold_finish(h, HOOP_APPROVAL_EXPIRED, rep.id, 0, NULL, 0);
        return;

    default:
        return;       /* still pending */
    }
}


/* a message on PREFIX approvals:notify: ends the holds of its id */

static void
hoop_ra_on_notice(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply              *r = reply;

    ngx_queue_t             *q;
    redisReply              *kind, *msg;
    hoop_hold_t             *h;
    hoop_approval_notice_t   n;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 3
        || r->element[0]->type != REDIS_REPLY_STRING || hoop_ra == NULL
        || hoop_ra->stopping)
    {
        return;
    }

    kind = r->element[0];
    msg = r->element[2];

    if (kind->len != 7 || ngx_strncmp(kind->str, "message", 7) != 0
        || msg->type != REDIS_REPLY_STRING)
    {
        return;
    }

    if (hoop_approval_notice_parse(msg->str, msg->len, &n) != 0
        || n.event == HOOP_APPROVAL_PENDING)
    {
        return;
    }

again:

    for (q = ngx_queue_head(&hoop_ra->holds);
         q != ngx_queue_sentinel(&hoop_ra->holds);
         q = ngx_queue_next(q))
    {
        h = ngx_queue_data(q, hoop_hold_t, queue);

        if (h->done || ngx_strcmp(h->id, n.id) != 0) {
            continue;
        }

        /* finishing takes h out of the list (and may add holds) */
        hoop_hold_finish(h, n.event, n.id, 0, (u_char *) n.reason,
                         ngx_strlen(n.reason));
        goto again;
    }
}


static void
hoop_ra_cmd_ready(hoop_redis_conn_t *rc)
{
    ngx_queue_t  *q;
    hoop_hold_t  *h;

    hoop_ra_script_load();

again:

    for (q = ngx_queue_head(&hoop_ra->holds);
         q != ngx_queue_sentinel(&hoop_ra->holds);
         q = ngx_queue_next(q))
    {
        h = ngx_queue_data(q, hoop_hold_t, queue);

        if (!h->unsent) {
            continue;
        }

        if (hoop_ra_send(h) != NGX_OK) {
            h->unsent = 0;
            hoop_hold_finish(h, HOOP_APPROVAL_NONE, NULL, 0, NULL, 0);
            goto again;
        }
    }
}


static void
hoop_ra_cmd_lost(hoop_redis_conn_t *rc)
{
    if (!hoop_ra->stopping) {
        hoop_ra_refuse_all();
    }
}


/* fail closed: every hold of the worker is answered as undecided */

static void
hoop_ra_refuse_all(void)
{
    ngx_queue_t  *q;
    hoop_hold_t  *h;

    while (!ngx_queue_empty(&hoop_ra->holds)) {
        q = ngx_queue_head(&hoop_ra->holds);
        h = ngx_queue_data(q, hoop_hold_t, queue);

        hoop_redis_approval_forget(h);
        h->unsent = 0;
        hoop_hold_finish(h, HOOP_APPROVAL_NONE, NULL, 0, NULL, 0);
    }
}


static void
hoop_ra_sub_ready(hoop_redis_conn_t *rc)
{
    if (redisAsyncCommand(rc->ac, hoop_ra_on_notice, NULL, "SUBSCRIBE %b",
                          hoop_ra->channel, hoop_ra->channel_len)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "hoop: redis %V: cannot send SUBSCRIBE %s",
                      &hoop_ra->conf->name, hoop_ra->channel);
    }
}


/* the safety net: the status of every approval held here */

static void
hoop_ra_tick(ngx_event_t *ev)
{
    ngx_queue_t           *q;
    hoop_hold_t           *h;
    hoop_policy_str_t      prefix;
    hoop_approval_cmd_t    cmd;

    if (hoop_ra->stopping) {
        return;
    }

    if (hoop_redis_conn_ready(&hoop_ra->cmd)) {
        prefix.data = (char *) hoop_ra->conf->prefix.data;
        prefix.len = hoop_ra->conf->prefix.len;

        for (q = ngx_queue_head(&hoop_ra->holds);
             q != ngx_queue_sentinel(&hoop_ra->holds);
             q = ngx_queue_next(q))
        {
            h = ngx_queue_data(q, hoop_hold_t, queue);

            if (h->done || h->polling || h->id[0] == '\0') {
                continue;
            }

            if (hoop_approval_cmd_status(&cmd, prefix, h->id) != 0) {
                continue;
            }

            if (redisAsyncCommandArgv(hoop_ra->cmd.ac, hoop_ra_on_status, h,
                                      cmd.argc, cmd.argv, cmd.argvlen)
                == REDIS_OK)
            {
                h->refs++;
                h->polling = 1;
            }

            hoop_approval_cmd_free(&cmd);
        }
    }

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(&hoop_ra->tick, HOOP_REDIS_APPROVAL_POLL);
    }
}


void
hoop_redis_approval_stop(void)
{
    ngx_queue_t  *q;
    hoop_hold_t  *h;

    if (hoop_ra == NULL) {
        return;
    }

    hoop_ra->stopping = 1;

    if (hoop_ra->tick.timer_set) {
        ngx_del_timer(&hoop_ra->tick);
    }

    /* the holds stay their sessions'; replies owed arrive now, NULL */
    while (!ngx_queue_empty(&hoop_ra->holds)) {
        q = ngx_queue_head(&hoop_ra->holds);
        h = ngx_queue_data(q, hoop_hold_t, queue);
        hoop_redis_approval_forget(h);
    }

    hoop_redis_conn_close(&hoop_ra->cmd);
    hoop_redis_conn_close(&hoop_ra->sub);

    ngx_free(hoop_ra);
    hoop_ra = NULL;
}
