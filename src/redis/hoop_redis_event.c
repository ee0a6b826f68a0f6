/*
 * hiredis' five event hooks on an nginx connection.
 *
 * hiredis asks for read and write interest (addRead, delRead, addWrite,
 * delWrite; each may be called again while already in that state) and
 * says when it frees the context (cleanup).  The nginx connection shares
 * the socket with hiredis: nginx only waits on it; hiredis reads, writes
 * and finally closes it.  Events are level-triggered, so a reply larger
 * than what hiredis reads in one call is read on the next loop turn.
 *
 * A hiredis callback may free the context from inside
 * redisAsyncHandleRead() or redisAsyncHandleWrite(); the cleanup hook then
 * releases the connection before they return.  So the handlers below touch
 * nothing after calling into hiredis.
 */

#include "hoop_redis_event.h"


typedef struct {
    ngx_connection_t     *connection;
    redisAsyncContext    *ac;
    hoop_redis_close_pt   close;
} hoop_redis_event_t;


static void hoop_redis_event_read(ngx_event_t *rev);
static void hoop_redis_event_write(ngx_event_t *wev);
static void hoop_redis_event_add_read(void *data);
static void hoop_redis_event_del_read(void *data);
static void hoop_redis_event_add_write(void *data);
static void hoop_redis_event_del_write(void *data);
static void hoop_redis_event_cleanup(void *data);


ngx_int_t
hoop_redis_event_attach(redisAsyncContext *ac, ngx_log_t *log,
    hoop_redis_close_pt close)
{
    ngx_connection_t    *c;
    hoop_redis_event_t  *re;

    if (ac->ev.data != NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "hoop: redis context already has event hooks");
        return NGX_ERROR;
    }

    re = ngx_alloc(sizeof(hoop_redis_event_t), log);
    if (re == NULL) {
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, log);
    if (c == NULL) {
        ngx_free(re);
        return NGX_ERROR;
    }

    c->data = re;
    c->log = log;
    c->read->log = log;
    c->write->log = log;
    c->read->handler = hoop_redis_event_read;
    c->write->handler = hoop_redis_event_write;
    c->number = ngx_atomic_fetch_add(ngx_connection_counter, 1);

    re->connection = c;
    re->ac = ac;
    re->close = close;

    ac->ev.data = re;
    ac->ev.addRead = hoop_redis_event_add_read;
    ac->ev.delRead = hoop_redis_event_del_read;
    ac->ev.addWrite = hoop_redis_event_add_write;
    ac->ev.delWrite = hoop_redis_event_del_write;
    ac->ev.cleanup = hoop_redis_event_cleanup;

    return NGX_OK;
}


void
hoop_redis_event_idle(redisAsyncContext *ac)
{
    hoop_redis_event_t  *re;

    re = ac->ev.data;

    if (re) {
        re->connection->idle = 1;
    }
}


static void
hoop_redis_event_read(ngx_event_t *rev)
{
    ngx_connection_t    *c;
    hoop_redis_event_t  *re;

    c = rev->data;
    re = c->data;

    if (c->close) {
        /* worker_shutdown_timeout: the owner frees the context */
        ngx_log_debug0(NGX_LOG_DEBUG_EVENT, c->log, 0,
                       "hoop redis: connection closed by nginx");
        re->close(re->ac);
        return;
    }

    redisAsyncHandleRead(re->ac);
}


static void
hoop_redis_event_write(ngx_event_t *wev)
{
    ngx_connection_t    *c;
    hoop_redis_event_t  *re;

    c = wev->data;
    re = c->data;

    redisAsyncHandleWrite(re->ac);
}


static void
hoop_redis_event_add_read(void *data)
{
    hoop_redis_event_t *re = data;

    ngx_event_t  *rev;

    rev = re->connection->read;

    if (!rev->active) {
        if (ngx_add_event(rev, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            /* logged by the event module; the command timeout notices */
            return;
        }
    }
}


static void
hoop_redis_event_del_read(void *data)
{
    hoop_redis_event_t *re = data;

    ngx_event_t  *rev;

    rev = re->connection->read;

    if (rev->active) {
        (void) ngx_del_event(rev, NGX_READ_EVENT, 0);
    }
}


static void
hoop_redis_event_add_write(void *data)
{
    hoop_redis_event_t *re = data;

    ngx_event_t  *wev;

    wev = re->connection->write;

    if (!wev->active) {
        if (ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            return;
        }
    }
}


static void
hoop_redis_event_del_write(void *data)
{
    hoop_redis_event_t *re = data;

    ngx_event_t  *wev;

    wev = re->connection->write;

    if (wev->active) {
        (void) ngx_del_event(wev, NGX_WRITE_EVENT, 0);
    }
}


/*
 * hiredis is freeing the context and closes the socket right after this
 * returns: forget the events (NGX_CLOSE_EVENT, as ngx_close_connection()
 * does: closing the socket removes it from epoll), drop anything posted,
 * and give the connection back without closing the socket ourselves.
 */

static void
hoop_redis_event_cleanup(void *data)
{
    hoop_redis_event_t *re = data;

    ngx_connection_t  *c;

    c = re->connection;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;

    re->ac->ev.data = NULL;
    ngx_free(re);
}
