/*
 * The audit trail: one event per authorization decision and per
 * connection milestone, written to a Redis stream through a Lua script
 * (src/audit/hoop_audit.lua; docs/audit.md has the event format v1 and
 * the keys), asynchronously and pipelined, never making a request wait.
 *
 * Per worker: events are JSON objects (jansson) numbered by a per-writer
 * sequence; the script applies each (writer, seq) once, so a batch sent
 * again after a lost reply, or replayed from a spool, is not doubled.
 * While Redis is away or slow, events go to the worker's spool file in
 * hoop_audit_spool's directory (append-only JSON lines, fsync once a
 * second) and are replayed in order when it returns; spool files a
 * previous worker left (reload, restart, crash) are adopted and replayed
 * by the next worker that finds them unlocked.
 */

#ifndef _HOOP_AUDIT_H_INCLUDED_
#define _HOOP_AUDIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include <jansson.h>

#include "../session/hoop_session.h"
#include "../policy/hoop_policy.h"
#include "hoop_audit_conf.h"
#include "../kafka/hoop_kafka_authz.h"


#define HOOP_AUDIT_FORMAT          1          /* "v" of every event */

/*
 * hoop_audit_spool DIR [max_size=SIZE] [full=refuse|drop]; (stream main)
 */
char *hoop_audit_conf_spool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * postconfiguration: when some server has "hoop_audit on", checks that
 * hoop_redis is set and fills the defaults (the spool directory is then
 * created by nginx, owned by the worker user).
 */
ngx_int_t hoop_audit_conf_init(ngx_conf_t *cf, hoop_main_conf_t *hmcf);


/* init_process / exit_process of worker (and single) processes */
ngx_int_t hoop_audit_start(ngx_cycle_t *cycle, hoop_main_conf_t *hmcf);
void hoop_audit_stop(ngx_cycle_t *cycle);

/*
 * 0 when new requests must be refused: Redis is away and the spool is
 * full under full=refuse (an unaudited request would pass).  1 otherwise,
 * also when the audit trail is not configured.
 */
ngx_uint_t hoop_audit_accepting(void);

/*
 * The common fields of an event of this session ("v", "ts", "day",
 * "node", "sid", "event", identity, client address, client_id and
 * software): a new object for the caller to complete and hand to
 * hoop_audit_emit().  NULL when the audit trail is off for the session's
 * server, or on allocation failure (then the event is counted as lost
 * and logged once).
 */
json_t *hoop_audit_event(hoop_session_t *hs, const char *event);

/* ms since the Epoch when the worker's writer started (session ids) */
extern int64_t  hoop_audit_epoch;

/* Takes ev (a reference), numbers it and queues or spools it. */
void hoop_audit_emit(json_t *ev);

/*
 * Sets key to the bytes data[0..len) as a JSON string: valid UTF-8 as
 * is; otherwise with each invalid byte replaced by U+FFFD, plus
 * "<key>_hex" with the raw bytes in hex (docs/audit.md).  len 0 with
 * data NULL: nothing is set.
 */
void hoop_audit_set_bytes(json_t *ev, const char *key, const u_char *data,
    size_t len);


/* Session side (hoop_audit_session.c) */

/* the decision behind a check, kept until the request's events are out */
typedef struct {
    hoop_policy_res_t    type;
    hoop_policy_op_t     op;
    u_char              *name;          /* copy in the request's pool */
    size_t               len;
    uint8_t              allowed;
    const char          *reason;        /* static text */
    u_char              *rule;          /* rule id copy, or NULL */
    char                 approval[12];  /* approval id, or "" */
} hoop_audit_decision_t;

struct hoop_request_s;
struct hoop_authz_plan_s;

/* at the session's start: its "closed" event is then certain */
void hoop_audit_open(hoop_session_t *hs);

/* the session's audit id into *sid (not copied); 0 without an audit
 * trail for the session ($hoop_session_id) */
ngx_uint_t hoop_audit_session_id(hoop_session_t *hs, ngx_str_t *sid);

/* a request is about to be planned: its decisions are collected */
void hoop_audit_begin(hoop_session_t *hs, struct hoop_request_s *req);

/* records one decision of hoop_authorize() for the current request */
void hoop_audit_decision(hoop_session_t *hs, hoop_policy_res_t type,
    const u_char *name, size_t len, hoop_policy_op_t op,
    const hoop_policy_decision_t *d);

/* the approval (an id, or NULL) behind the decision just recorded: a
 * request held for it (docs/approvals.md, "Audit") */
void hoop_audit_decision_approval(hoop_session_t *hs, const char *id);

/* the request's events, once it is planned (plan NULL: refused) */
void hoop_audit_request(hoop_session_t *hs, struct hoop_request_s *req,
    struct hoop_authz_plan_s *plan);

/* authenticated / authentication_failed (reason) */
void hoop_audit_auth(hoop_session_t *hs, ngx_uint_t ok, ngx_str_t *reason);

/* the connection is closed for a protocol error (why) */
void hoop_audit_protocol_error(hoop_session_t *hs, const char *why);

/*
 * Session recording (a rule with "record"): the request's record event
 * (with payloads: completed by hoop_audit_record_frame() with the frame
 * as forwarded, or NULL when the gateway answered), and each response as
 * sent to the client (local: answered by the gateway).
 */
void hoop_audit_record_request(hoop_session_t *hs,
    struct hoop_request_s *req, const hoop_authz_check_t *ck, size_t n);
void hoop_audit_record_frame(hoop_session_t *hs, const u_char *frame,
    size_t size);
void hoop_audit_record_response(hoop_session_t *hs, int16_t api_key,
    int16_t api_version, int32_t correlation_id, ngx_uint_t local,
    const u_char *frame, size_t size);

/*
 * Masking (src/session/hoop_masking.c): fields masked in one request, per
 * topic and masking rule.  An allowed decision on a topic where fields
 * were masked is always a "request" event with "mask": [[rule id,
 * fields], ...], never summed into an aggregate (docs/audit.md).
 */
typedef struct {
    const u_char        *topic;
    size_t               topic_len;
    const char          *rule;          /* masking rule id */
    uint64_t             fields;
} hoop_audit_mask_t;

/* a Produce request's masking, before hoop_audit_request() (m[] valid
 * until it returns) */
void hoop_audit_masks(hoop_session_t *hs, const hoop_audit_mask_t *m,
    size_t n);

/*
 * The Fetch response to correlation_id, after masking (n 0: nothing
 * masked, or no masking): the request's events on topics the caller has
 * fetch masking for waited for it in hoop_audit_request(); they go out
 * now, with "mask" where fields were masked, else as they would have.
 */
void hoop_audit_fetch_masked(hoop_session_t *hs, int32_t correlation_id,
    const hoop_audit_mask_t *m, size_t n);

/* adds what a Fetch response delivered to the connection's aggregate */
void hoop_audit_fetch_response(hoop_session_t *hs, int16_t version,
    const u_char *frame, size_t size);

/* remembers client_id and software (ApiVersions v3+) of a request */
void hoop_audit_client(hoop_session_t *hs, struct hoop_request_s *req);


#endif /* _HOOP_AUDIT_H_INCLUDED_ */
