/*
 * The worker's Redis side of approvals (docs/approvals.md, "The data
 * path"): a command connection for the approval script's calls and a
 * subscription to PREFIX approvals:notify, both opened on first use, and
 * a 1 s timer that asks the status of every held approval (pub/sub is at
 * most once).  It tells src/session/hoop_hold.c how each hold ends.
 */

#ifndef _HOOP_REDIS_APPROVAL_H_INCLUDED_
#define _HOOP_REDIS_APPROVAL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "hoop_redis_conf.h"
#include "../session/hoop_hold.h"


#define HOOP_REDIS_APPROVAL_CHANNEL  "approvals:notify"   /* pub/sub */
#define HOOP_REDIS_APPROVAL_POLL     1000                 /* ms */


/*
 * Sends h->cmd (the script's request call) for hold h, or keeps it until
 * the connection opened for it is ready.  NGX_OK: the answer comes
 * through hoop_hold_finish() (or h->id is set while it is pending);
 * NGX_DECLINED: Redis cannot be asked now (down, reconnecting, not a
 * worker): the caller refuses the request as undecided (fail closed).
 */
ngx_int_t hoop_redis_approval_ask(hoop_redis_conf_t *conf, hoop_hold_t *h);

/* h is decided or gone: no more notices or status calls for it */
void hoop_redis_approval_forget(hoop_hold_t *h);

/* exit_process: closes the connections; replies owed are dropped */
void hoop_redis_approval_stop(void);


#endif /* _HOOP_REDIS_APPROVAL_H_INCLUDED_ */
