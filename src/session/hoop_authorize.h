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
#include "../mask/hoop_mask_policy.h"


/*
 * One policy as a worker enforces it.  hoop_policy FILE gives each server
 * its own; hoop_policy redis makes every such server share the one of the
 * stream block (hoop_main_conf_t.redis_policy), kept current by
 * src/redis/hoop_redis_policy.c.  policy is NULL while no version is
 * loaded: then every request is denied.
 */
struct hoop_policy_state_s {
    ngx_str_t             file;           /* NUL-terminated; empty: redis */
    hoop_policy_t        *policy;         /* the last good version */
    hoop_mask_policy_t   *masking;        /* its masking section, compiled
                                             with it (key files read) and
                                             freed with it; NULL: none */
    ino_t                 ino;
    off_t                 size;
    time_t                mtime;
    long                  mtime_nsec;
    ngx_msec_t            checked;        /* last look at the file */

    /* hoop_policy redis */
    unsigned              redis:1;
    int64_t               version;        /* of policy; 0: none or file */
    int64_t               cached;         /* in the cache file; 0: none */
    int64_t               refused;        /* did not compile; 0: none */
    const char           *origin;         /* "redis", "cache" */
    unsigned              confirmed:1;    /* version read from Redis */
    void                 *watch;          /* this worker's watcher */
};


/*
 * hoop_policy FILE | redis; a file is compiled now, so nginx -t shows its
 * diagnostics; "redis" is loaded at the end of the stream block
 * (hoop_redis_policy_init_conf()).
 */
char *hoop_authorize_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* At most once a second: re-read the file if it changed; a policy that
 * does not compile is logged and the last good one stays.  Nothing to do
 * for hoop_policy redis (Redis tells the workers). */
void hoop_authorize_refresh(hoop_policy_state_t *st, ngx_log_t *log);

/*
 * A policy document from Redis or the cache: compiled with its masking
 * section (src/mask: key files are read now, by the calling process), its
 * diagnostics logged as "hoop: policy: NAME:LINE:COL: ..." (errors at
 * level, warnings at warn).  Returns the policy and sets *masking to its
 * compiled masking section (NULL when it has none), or returns NULL when
 * the document does not compile, masking errors included (*masking is
 * then NULL too).
 */
hoop_policy_t *hoop_authorize_compile(const u_char *text, size_t len,
    const char *name, ngx_uint_t level, ngx_log_t *log,
    hoop_mask_policy_t **masking);

/*
 * Makes p (version) and its masking section the policy st enforces and
 * frees the ones before.  Decisions and masking are synchronous and
 * nothing keeps pointers into a policy between two events, so swapping
 * between events is safe.
 */
void hoop_authorize_install(hoop_policy_state_t *st, hoop_policy_t *p,
    hoop_mask_policy_t *masking, int64_t version);

/*
 * The decision for the session's identity and client address, now.
 * Returns 1 (allowed) or 0; every denial is logged with the principal,
 * the resource, the operation and the deciding rule.
 */
ngx_int_t hoop_authorize(hoop_session_t *hs, hoop_policy_res_t type,
    const u_char *name, size_t len, hoop_policy_op_t op);

/* the policy version deciding this session's requests, -1 if none */
int64_t hoop_authorize_version(hoop_session_t *hs);

ngx_int_t hoop_authorize_request(hoop_session_t *hs, hoop_request_t *req,
    u_char **frame, size_t *size, hoop_authz_plan_t **plan);
ngx_int_t hoop_authorize_response(hoop_session_t *hs, hoop_slot_t *slot,
    u_char **frame, size_t *size);


#endif /* _HOOP_AUTHORIZE_H_INCLUDED_ */
