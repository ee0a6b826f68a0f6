/*
 * Authorization on the data path: the access-review policy a server
 * enforces (hoop_policy), kept current in every worker, and the decision
 * for one (resource, name, operation) by a session's identity, as Kafka's
 * StandardAuthorizer would take it (src/policy/hoop_policy.h).
 */

#ifndef _HOOP_AUTHORIZE_H_INCLUDED_
#define _HOOP_AUTHORIZE_H_INCLUDED_


#include "hoop_session.h"
#include "hoop_codec.h"
#include "../policy/hoop_policy.h"
#include "../kafka/hoop_kafka_authz.h"
#include "../kafka/hoop_kafka_header.h"


struct hoop_policy_state_s {
    ngx_str_t             file;           /* NUL-terminated */
    hoop_policy_t        *policy;         /* the last good version */
    ino_t                 ino;
    off_t                 size;
    time_t                mtime;
    long                  mtime_nsec;
    ngx_msec_t            checked;        /* last look at the file */
};


/* hoop_policy FILE; compiled now, so nginx -t shows its diagnostics */
char *hoop_authorize_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* At most once a second: re-read the file if it changed; a policy that
 * does not compile is logged and the last good one stays. */
void hoop_authorize_refresh(hoop_policy_state_t *st, ngx_log_t *log);

/*
 * The decision for the session's identity and client address, now.
 * Returns 1 (allowed) or 0; every denial is logged with the principal,
 * the resource, the operation and the deciding rule.
 */
ngx_int_t hoop_authorize(hoop_session_t *hs, hoop_policy_res_t type,
    const u_char *name, size_t len, hoop_policy_op_t op);

ngx_int_t hoop_authorize_request(hoop_session_t *hs, hoop_request_t *req,
    u_char **frame, size_t *size, hoop_authz_plan_t **plan);
ngx_int_t hoop_authorize_response(hoop_session_t *hs, hoop_slot_t *slot,
    u_char **frame, size_t *size);


#endif /* _HOOP_AUTHORIZE_H_INCLUDED_ */
