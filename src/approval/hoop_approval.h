/*
 * hoop_approval: the Redis side of approvals for high-risk requests, for
 * the data path and hoopctl (nginx-free; docs/approvals.md).
 *
 * The state lives in Redis and changes only through one Lua script,
 * src/approval/hoop_approval.lua (embedded: hoop_approval_script()), so
 * every gateway node and every tool sees the same approvals and the same
 * just-in-time grants.  This file builds the script's EVALSHA argument
 * lists (to send with hiredis' redisAsyncCommandArgv() or
 * redisCommandArgv()), reads its replies, reads the notices it publishes,
 * and says which Kafka error a held request gets.
 *
 * Plain C99 + hiredis (reply types only) + jansson + OpenSSL libcrypto
 * (RAND_bytes, for ids); links with src/policy.
 */

#ifndef _HOOP_APPROVAL_H_INCLUDED_
#define _HOOP_APPROVAL_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "../policy/hoop_policy.h"


/* ids: 10 characters of RFC 4648 base32, lower case (a-z, 2-7): 50 bits */
#define HOOP_APPROVAL_ID_LEN          10

/* decided approvals stay readable this long (seconds) by default */
#define HOOP_APPROVAL_RETENTION       604800

/* overdue approvals one "expire" call closes by default */
#define HOOP_APPROVAL_EXPIRE_BATCH    100

#define HOOP_APPROVAL_MAX_ARGS        20


typedef enum {
    HOOP_APPROVAL_NONE = 0,
    HOOP_APPROVAL_PENDING,            /* waiting for an approver */
    HOOP_APPROVAL_GRANTED,            /* request: a just-in-time grant is
                                         active (id: the approval that
                                         opened it) */
    HOOP_APPROVAL_APPROVED,
    HOOP_APPROVAL_DENIED,
    HOOP_APPROVAL_EXPIRED,            /* nobody decided in time */
    HOOP_APPROVAL_REVOKED             /* its grant was ended early */
} hoop_approval_state_t;

/* what an error reply of the script means (its first word) */
typedef enum {
    HOOP_APPROVAL_OK = 0,
    HOOP_APPROVAL_ERR_NOSCRIPT,       /* Redis lost the script: SCRIPT
                                         LOAD it, send the call again */
    HOOP_APPROVAL_ERR_NOAPPROVAL,     /* no such id (or past retention) */
    HOOP_APPROVAL_ERR_DECIDED,        /* decided (or expired) already */
    HOOP_APPROVAL_ERR_NOTAPPROVER,    /* not among the rule's approvers */
    HOOP_APPROVAL_ERR_SELF,           /* self-approval, not allowed */
    HOOP_APPROVAL_ERR_IDCOLLISION,    /* the new id exists: build the
                                         request again (new id) */
    HOOP_APPROVAL_ERR_NOTACTIVE,      /* revoke: the approval has no
                                         active grant */
    HOOP_APPROVAL_ERR_BADARG,         /* the script refused an argument */
    HOOP_APPROVAL_ERR_REPLY           /* another error, or not a reply of
                                         this script */
} hoop_approval_err_t;


/*
 * One EVALSHA call: argv[0..argc) with lengths, for redisCommandArgv() /
 * redisAsyncCommandArgv() (hiredis copies them when the command is
 * formatted, so free the cmd right after).  Some argv point into the cmd
 * itself: do not copy or move it between building and sending.
 */
typedef struct {
    int                          argc;
    const char                  *argv[HOOP_APPROVAL_MAX_ARGS];
    size_t                       argvlen[HOOP_APPROVAL_MAX_ARGS];
    char                         id[HOOP_APPROVAL_ID_LEN + 1];
    char                         num[4][24];
    char                        *mem;         /* owned: JSON texts */
    int                          audit_at;    /* argc after which the audit
                                                 stream may go; 0: none */
} hoop_approval_cmd_t;

/*
 * What the data path asks about (all borrowed for the call):
 *
 *   principal   the caller's user name (without "User:")
 *   groups      its ngroups group names (without "Group:")
 *   resource    type and name (CLUSTER: the name is "kafka-cluster")
 *   op          the operation (not ALL)
 *   rule        the grant hoop_policy_check_approval() named; its
 *               approval block gives approvers, allow_self_approval,
 *               grant_ms and expire_ms
 *   summary     what the request was, a JSON object (at most 4096
 *               bytes; docs/approvals.md lists the keys people see), or
 *               data NULL for none
 */
typedef struct {
    hoop_policy_str_t            principal;
    const hoop_policy_str_t     *groups;
    size_t                       ngroups;
    hoop_policy_res_t            resource;
    hoop_policy_str_t            name;
    hoop_policy_op_t             op;
    const hoop_policy_rule_t    *rule;
    hoop_policy_str_t            summary;
} hoop_approval_request_t;


/* the script text (SCRIPT LOAD) and its SHA1 (40 lowercase hex digits) */
const char *hoop_approval_script(size_t *len);
const char *hoop_approval_script_sha1(void);

/* a new random id (RAND_bytes); 0, or -1 when the RNG fails */
int hoop_approval_id_new(char id[HOOP_APPROVAL_ID_LEN + 1]);
/* 1 when s[0..len) has the shape of an id, else 0 */
int hoop_approval_id_valid(const char *s, size_t len);

/*
 * The calls (docs/approvals.md, "The script").  prefix is the key prefix
 * P ("hoop:"); retention_s how long decided approvals and events stay
 * (0: kept until deleted; HOOP_APPROVAL_RETENTION is the default).
 * Each returns 0, or -1 when an argument cannot be sent (not UTF-8, too
 * long, a rule without approval block, out of memory); then nothing is
 * to be freed.
 *
 * request: create the pending approval of (principal, resource, op), or
 *   join the open one, or answer from an active grant or a fresh denial;
 *   a new id is drawn into cmd->id (the script uses it only when it
 *   creates an approval).  Reply: GRANTED / PENDING (flag 1: created) /
 *   DENIED, ms as the script says.
 * status: where approval id stands (does not write).
 * decide: approve (or deny) id as approver with its groups and a reason
 *   (required for a denial); the script checks the approvers recorded
 *   with the approval and refuses self-approval unless the rule allowed
 *   it.  Approving opens the grant P jit:<subject> for grant_ms.
 * revoke: end the active just-in-time grant approval id opened, as
 *   revoker (one of the approvers recorded with it, or its principal)
 *   with its groups and an optional reason.  Reply: REVOKED, ms what the
 *   grant had left (flag 1: revoked so already by the same revoker).
 * expire: close up to max overdue pending approvals (every call closes up
 *   to 16 too); the reply is the array of ids closed.
 */
int hoop_approval_cmd_request(hoop_approval_cmd_t *cmd,
    hoop_policy_str_t prefix, const hoop_approval_request_t *r,
    unsigned retention_s);
int hoop_approval_cmd_status(hoop_approval_cmd_t *cmd,
    hoop_policy_str_t prefix, const char *id);
int hoop_approval_cmd_decide(hoop_approval_cmd_t *cmd,
    hoop_policy_str_t prefix, const char *id, int approve,
    hoop_policy_str_t approver, const hoop_policy_str_t *groups,
    size_t ngroups, hoop_policy_str_t reason, unsigned retention_s);
int hoop_approval_cmd_revoke(hoop_approval_cmd_t *cmd,
    hoop_policy_str_t prefix, const char *id, hoop_policy_str_t revoker,
    const hoop_policy_str_t *groups, size_t ngroups,
    hoop_policy_str_t reason, unsigned retention_s);
int hoop_approval_cmd_expire(hoop_approval_cmd_t *cmd,
    hoop_policy_str_t prefix, unsigned max, unsigned retention_s);
void hoop_approval_cmd_free(hoop_approval_cmd_t *cmd);

/*
 * Append the audit stream to a request, decide, revoke or expire call
 * built above: its full key (P + hoop_audit_stream, "hoop:audit"),
 * borrowed until the call is sent.  Each step the call takes (requested,
 * approved, denied, expired, revoked; the expiries its sweep closes too)
 * is then also an "approval" event there (docs/audit.md).  An empty
 * stream appends nothing (no audit, the call as before).  Returns 0, or
 * -1 for a stream over 1024 bytes, NUL bytes in it, or a call of another
 * kind (status) or one with the stream already.
 */
int hoop_approval_cmd_audit(hoop_approval_cmd_t *cmd,
    hoop_policy_str_t stream);


/*
 * A reply of request, status or decide: { state, id, flag, ms, detail }.
 *
 *   state    PENDING, GRANTED, APPROVED, DENIED, EXPIRED, REVOKED
 *   flag     request: 1 when this call created the approval; decide: 1
 *            when it was decided so already by the same approver (a
 *            repeated call), else 0
 *   ms       PENDING: until it expires; GRANTED, APPROVED: left on the
 *            grant (decide: the grant's length); DENIED (request): how
 *            long the denial keeps answering this subject
 *   detail   DENIED: the reason; APPROVED (status): the approver;
 *            REVOKED (status): the revoker; points
 *            into the reply
 *   error, message   for an error reply: what it means, and its text
 *            (into the reply)
 *
 * hoop_approval_reply_parse() returns out->error: HOOP_APPROVAL_OK when a
 * state reply was read.
 */
typedef struct {
    hoop_approval_state_t        state;
    char                         id[HOOP_APPROVAL_ID_LEN + 1];
    int                          flag;
    int64_t                      ms;
    hoop_policy_str_t            detail;
    hoop_approval_err_t          error;
    hoop_policy_str_t            message;
} hoop_approval_reply_t;

hoop_approval_err_t hoop_approval_reply_parse(const redisReply *r,
    hoop_approval_reply_t *out);

/* "pending", "granted", "approved", "denied", "expired", "revoked",
 * "none" */
const char *hoop_approval_state_name(hoop_approval_state_t s);


/*
 * A message of channel P approvals:notify (a JSON object, format v1,
 * docs/approvals.md).  event: PENDING for "requested", APPROVED, DENIED,
 * EXPIRED; reason (denied) cut to fit, NUL-terminated.  Returns 0, or -1
 * for anything that is not such a message (unknown events of later
 * versions included: ignore them).
 */
typedef struct {
    hoop_approval_state_t        event;
    char                         id[HOOP_APPROVAL_ID_LEN + 1];
    int64_t                      grant_until_ms;   /* approved; else 0 */
    char                         reason[256];
} hoop_approval_notice_t;

int hoop_approval_notice_parse(const char *msg, size_t len,
    hoop_approval_notice_t *n);


/*
 * The answer to a request held for an approval (docs/approvals.md,
 * "What the client sees"), per ApiKey and version:
 *
 *   undecided (held for the hold time, or expired): an error standard
 *     clients retry by themselves: Produce and DeleteRecords
 *     REQUEST_TIMED_OUT (7); Fetch NOT_LEADER_OR_FOLLOWER (6);
 *     CreateTopics v6+, DeleteTopics v5+, CreatePartitions v3+
 *     THROTTLING_QUOTA_EXCEEDED (89; older versions 7); group and
 *     transaction coordinator requests COORDINATOR_LOAD_IN_PROGRESS (14);
 *     everything else 7.
 *   denied: the authorization error of the resource type: topic 29,
 *     group 30, cluster 31, transactional_id 53, delegation_token and
 *     user 65.
 *
 * hoop_approval_kafka_message() writes the ErrorMessage for versions that
 * carry one: "approval ID pending: ..." or "denied by approval ID:
 * REASON" (cut to size); returns the length written.
 */
int16_t hoop_approval_kafka_error(int16_t api_key, int16_t api_version,
    hoop_policy_res_t type, int denied);
size_t hoop_approval_kafka_message(char *buf, size_t size,
    hoop_approval_state_t state, const char *id, hoop_policy_str_t reason);


#endif /* _HOOP_APPROVAL_H_INCLUDED_ */
