/*
 * Requests held for a person's approval (docs/approvals.md, "The data
 * path"): a request the policy allows only through an approval grant is
 * kept by the gateway while Redis is asked (src/redis/hoop_redis_approval.c),
 * and requests behind it on the same connection wait behind it, in order,
 * as they do behind a topic id lookup (hoop_resolve.c).
 *
 * The held frame is never forwarded until the approval (or an active
 * just-in-time grant) says so: it is then taken again from the start and
 * planned with the approved subject allowed.  A denial, a hold that runs
 * out, an expired approval or a Redis failure take it again with the
 * subject refused, and the answer gets the approval's Kafka error
 * (hoop_approval_kafka_error()) and message.  Produce with acks=0 is
 * dropped then (its client reads no answer).
 */

#ifndef _HOOP_HOLD_H_INCLUDED_
#define _HOOP_HOLD_H_INCLUDED_


#include "hoop_session.h"
#include "hoop_codec.h"
#include "../policy/hoop_policy.h"
#include "../approval/hoop_approval.h"


/* subjects a session found granted are asked again after at most this */
#define HOOP_HOLD_GRANT_CACHE      2000      /* ms */
#define HOOP_HOLD_GRANTS           8

/* hoop_hold_t.outcome */
#define HOOP_HOLD_WAITING          0
#define HOOP_HOLD_RELEASED         1         /* approved or granted */
#define HOOP_HOLD_REFUSED          2         /* answer with the error */


typedef struct hoop_hold_s  hoop_hold_t;

/*
 * One held request.  Allocated apart from the connection's pool: a Redis
 * reply may come after the client is gone (hs NULL then; freed once no
 * reply is owed, refs 0).
 */
struct hoop_hold_s {
    ngx_queue_t               queue;      /* the worker's holds */
    hoop_session_t           *hs;         /* NULL: the session is gone */
    ngx_uint_t                refs;       /* Redis replies owed to it */
    ngx_event_t               timer;      /* hold_ms */

    u_char                   *frame;      /* the request, prefix included */
    size_t                    size;
    int16_t                   api_key;
    int16_t                   api_version;
    int32_t                   correlation_id;
    unsigned                  no_response:1;   /* Produce acks=0 */

    unsigned                  linked:1;   /* in the worker's list */
    unsigned                  asked:1;    /* the request call was sent */
    unsigned                  unsent:1;   /* waits for the connection */
    unsigned                  done:1;     /* decided; only refs left */
    unsigned                  cmd_set:1;
    unsigned                  polling:1;  /* a status call is out */
    unsigned                  reloaded:1; /* SCRIPT LOAD sent for it */

    /* the subject: what needs the approval */
    hoop_policy_res_t         type;
    hoop_policy_op_t          op;
    u_char                   *name;       /* ngx_alloc(); the principal
                                             (plen bytes) follows */
    size_t                    len;
    size_t                    plen;
    int64_t                   grant_ms;
    ngx_msec_t                hold_ms;

    hoop_approval_cmd_t       cmd;        /* the request call, kept until
                                             its reply (NOSCRIPT: again) */
    u_char                    audit[512]; /* P + hoop_audit_stream (hoop_audit
                                             on), the cmd's last argument */
    char                      id[HOOP_APPROVAL_ID_LEN + 1];  /* or "" */
    hoop_approval_state_t     state;      /* what ended the hold */
    u_char                    reason[256];   /* of a denial */
    size_t                    reason_len;
    ngx_msec_t                start;
};


/*
 * The decision of hoop_authorize() for a check the policy says needs an
 * approval (d->rule the approval grant).  Returns 1 when the session
 * found the subject granted moments ago (d->text "approved"), else 0; a
 * first such check of a request being planned becomes the request's hold
 * (hoop_hold_planned()).  *id is the approval to name in the audit event,
 * or NULL.
 */
ngx_int_t hoop_hold_decide(hoop_session_t *hs, hoop_policy_res_t type,
    const u_char *name, size_t len, hoop_policy_op_t op,
    hoop_policy_decision_t *d, const char **id);

/* around planning a request: hoop_hold_decide() may start a hold */
void hoop_hold_plan_begin(hoop_session_t *hs, hoop_request_t *req);

/*
 * After planning: 1 when the request is to be held (the caller then hands
 * its frame to hoop_hold_start()), 0 when not (a hold prepared while
 * planning is dropped).  deny: the plan denied the request anyway.
 */
ngx_int_t hoop_hold_planned(hoop_session_t *hs, ngx_uint_t deny);

/*
 * Holds the request whose frame (prefix included, owned from here on) was
 * planned with a hold and asks Redis.  NGX_OK, or NGX_ERROR to close.
 */
ngx_int_t hoop_hold_start(hoop_session_t *hs, hoop_request_t *req,
    u_char *frame, size_t size);

/* 1 while a request of the session is held: later frames queue behind */
ngx_uint_t hoop_hold_active(hoop_session_t *hs);

/* a client frame behind the held request (owned from here on) */
ngx_int_t hoop_hold_queue(hoop_session_t *hs, u_char *frame, size_t size);

/* bytes of frames held (backlog) */
size_t hoop_hold_bytes(hoop_session_t *hs);

/*
 * When the gateway answers the request it took again after a refusal:
 * its denied answer (root, a response tree) gets the approval's Kafka
 * error and message.  hoop_hold_refusing(): 1 while such a request is
 * planned (Produce acks=0 is then dropped, not closed), else 0.
 */
ngx_uint_t hoop_hold_refusing(hoop_session_t *hs);
void hoop_hold_fix_answer(hoop_session_t *hs, hoop_request_t *req,
    struct hoop_kafka_node_s *root);

/* Redis (src/redis/hoop_redis_approval.c) says how the hold ended */
void hoop_hold_finish(hoop_hold_t *h, hoop_approval_state_t state,
    const char *id, int64_t ms, const u_char *reason, size_t reason_len);

/* the connection is closing: held frames are dropped, nothing forwarded */
void hoop_hold_cleanup(hoop_session_t *hs);

/* frees h when nothing refers to it any more */
void hoop_hold_release(hoop_hold_t *h);


#endif /* _HOOP_HOLD_H_INCLUDED_ */
