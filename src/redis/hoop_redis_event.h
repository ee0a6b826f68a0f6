/*
 * hiredis on nginx's event loop: an asynchronous hiredis context driven by
 * an nginx connection on its socket.  Only the event plumbing lives here;
 * connecting, authenticating and reconnecting are hoop_redis_conn.c's.
 */

#ifndef _HOOP_REDIS_EVENT_H_INCLUDED_
#define _HOOP_REDIS_EVENT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


/*
 * Called instead of reading when nginx asks the connection to close
 * (c->close: worker_shutdown_timeout).  It must free the context, which
 * detaches it; ac->data is the caller's.
 */
typedef void (*hoop_redis_close_pt)(redisAsyncContext *ac);


/*
 * hoop_redis_event_attach: give ac's socket an nginx connection and
 * install hiredis' event hooks (level-triggered: hiredis reads at most
 * 16 KB per call).  Call it right after redisAsyncConnect() succeeded and
 * before redisAsyncSetConnectCallback(), which asks for a write event at
 * once.  The hooks' cleanup, called by hiredis when it frees the context,
 * releases the connection; hiredis closes the socket itself.
 *
 * Returns NGX_OK, or NGX_ERROR (logged; nothing attached: free ac).
 */
ngx_int_t hoop_redis_event_attach(redisAsyncContext *ac, ngx_log_t *log,
    hoop_redis_close_pt close);


/*
 * hoop_redis_event_idle: mark ac's connection idle, so that nginx closes
 * it (through the close callback) as soon as a graceful shutdown starts,
 * for owners that have no exit_process hook to close it themselves.
 */
void hoop_redis_event_idle(redisAsyncContext *ac);


#endif /* _HOOP_REDIS_EVENT_H_INCLUDED_ */
