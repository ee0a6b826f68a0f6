/*
 * One Redis key followed by a worker (hoop_redis_watch.h).
 */

#include "hoop_redis_watch.h"


static void hoop_redis_watch_refresh(hoop_redis_watch_t *w);


static void
hoop_redis_watch_done(hoop_redis_watch_t *w, ngx_uint_t more)
{
    w->busy = 0;

    if (w->deadline.timer_set) {
        ngx_del_timer(&w->deadline);
    }

    if (more && w->again) {
        hoop_redis_watch_refresh(w);
    }
}


static void
hoop_redis_watch_on_read(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply          *r = reply;
    hoop_redis_watch_t  *w = data;

    if (r == NULL) {
        hoop_redis_watch_done(w, 0);
        return;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "hoop: redis %V: %s %s: %*s", &w->conf->name,
                      w->command, w->key, (size_t) r->len, r->str);

    } else {
        w->reply(w, r);
    }

    hoop_redis_watch_done(w, 1);
}


static void
hoop_redis_watch_refresh(hoop_redis_watch_t *w)
{
    if (!hoop_redis_conn_ready(&w->cmd)) {
        return;
    }

    if (w->busy) {
        w->again = 1;
        return;
    }

    w->again = 0;

    if (redisAsyncCommand(w->cmd.ac, hoop_redis_watch_on_read, w, "%s %b",
                          w->command, w->key, w->key_len)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "hoop: redis %V: cannot send %s %s",
                      &w->conf->name, w->command, w->key);
        return;
    }

    w->busy = 1;
    ngx_add_timer(&w->deadline, HOOP_REDIS_WATCH_TIMEOUT);
}


static void
hoop_redis_watch_on_notice(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply          *r = reply;
    hoop_redis_watch_t  *w = data;

    redisReply          *kind;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 3
        || r->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    kind = r->element[0];

    if ((kind->len == 9 && ngx_strncmp(kind->str, "subscribe", 9) == 0)
        || (kind->len == 7 && ngx_strncmp(kind->str, "message", 7) == 0))
    {
        hoop_redis_watch_refresh(w);
    }
}


static void
hoop_redis_watch_cmd_ready(hoop_redis_conn_t *rc)
{
    hoop_redis_watch_refresh(rc->data);
}


static void
hoop_redis_watch_cmd_lost(hoop_redis_conn_t *rc)
{
    hoop_redis_watch_done(rc->data, 0);
}


static void
hoop_redis_watch_sub_ready(hoop_redis_conn_t *rc)
{
    hoop_redis_watch_t  *w = rc->data;

    if (redisAsyncCommand(rc->ac, hoop_redis_watch_on_notice, w,
                          "SUBSCRIBE %b", w->channel, w->channel_len)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "hoop: redis %V: cannot send SUBSCRIBE %s",
                      &w->conf->name, w->channel);
    }
}


static void
hoop_redis_watch_tick(ngx_event_t *ev)
{
    hoop_redis_watch_t  *w = ev->data;

    hoop_redis_watch_refresh(w);

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(&w->tick, HOOP_REDIS_WATCH_REFRESH);
    }
}


static void
hoop_redis_watch_timeout(ngx_event_t *ev)
{
    hoop_redis_watch_t  *w = ev->data;

    hoop_redis_conn_drop(&w->cmd, "no answer to a refresh in time");
}


hoop_redis_watch_t *
hoop_redis_watch_start(hoop_redis_conf_t *conf, const char *key_suffix,
    const char *command, const char *what, hoop_redis_watch_pt reply,
    ngx_log_t *log)
{
    hoop_redis_watch_t  *w;

    if (ngx_exiting || ngx_quit || ngx_terminate
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NULL;
    }

    w = ngx_calloc(sizeof(hoop_redis_watch_t), ngx_cycle->log);
    if (w == NULL) {
        return NULL;
    }

    w->conf = conf;
    w->log = ngx_cycle->log;
    w->command = command;
    w->what = what;
    w->reply = reply;

    w->key_len = hoop_redis_key(conf, key_suffix, 0, w->key, sizeof(w->key));
    w->channel_len = hoop_redis_key(conf, HOOP_REDIS_POLICY_CHANNEL, 0,
                                    w->channel, sizeof(w->channel));

    w->tick.handler = hoop_redis_watch_tick;
    w->tick.data = w;
    w->tick.log = w->log;
    w->tick.cancelable = 1;

    w->deadline.handler = hoop_redis_watch_timeout;
    w->deadline.data = w;
    w->deadline.log = w->log;
    w->deadline.cancelable = 1;

    w->cmd.conf = conf;
    w->cmd.log = w->log;
    w->cmd.role = what;
    w->cmd.ready = hoop_redis_watch_cmd_ready;
    w->cmd.lost = hoop_redis_watch_cmd_lost;
    w->cmd.data = w;
    w->cmd.idle = 1;     /* no exit_process hook: nginx closes it */

    w->sub.conf = conf;
    w->sub.log = w->log;
    w->sub.role = "notices";
    w->sub.ready = hoop_redis_watch_sub_ready;
    w->sub.data = w;
    w->sub.idle = 1;

    hoop_redis_conn_start(&w->cmd);
    hoop_redis_conn_start(&w->sub);

    ngx_add_timer(&w->tick, HOOP_REDIS_WATCH_REFRESH);

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "hoop: watching redis %V for %s", &conf->name, what);

    return w;
}
