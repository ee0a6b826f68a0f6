/*
 * The authorization planner: for one decoded Kafka request, the checks
 * Apache Kafka's own broker makes (KafkaApis, ControllerApis and AuthHelper
 * of Kafka 4.1.1; KIP-11 ACLs, KIP-679 idempotent producers, KIP-430
 * authorized operations, KIP-848 consumer groups), the caller's decision
 * on each, and what the gateway does about it:
 *
 *   ALLOW     forward the request (re-encoded when result.rewritten);
 *   PARTIAL   forward the request with the denied entries removed, then
 *             put them back into the broker's response with their error
 *             codes (hoop_authz_response()), so the client sees the one
 *             response Kafka would have sent;
 *   DENY      forward nothing; answer with the response Kafka would have
 *             sent (hoop_authz_build_denied_response()).
 *
 * Lists the broker would filter by DESCRIBE (Metadata for all topics,
 * ListGroups without DESCRIBE on the cluster, OffsetFetch for all
 * partitions, ListTransactions, DescribeTransactions topics,
 * ConsumerGroupDescribe assignments, DescribeTopicPartitions) and the
 * *AuthorizedOperations fields the broker computes for its own principal
 * (the gateway's) are fixed in the broker's response by the same
 * hoop_authz_response() call.
 *
 * The ApiKeys and versions handled are those hoop_authz_supported() says;
 * the module refuses every other request and removes the rest from
 * ApiVersions (fail closed).  docs/authorization.md has the table of
 * checks per ApiKey and the reasons for what is left out.
 *
 * The decisions themselves come from the caller (hoop_authz_decide_pt):
 * this file knows Kafka's rules, not the policy.
 *
 * Memory: everything comes from the caller's arena (hoop_kafka_alloc_t),
 * nothing is freed one by one.  After hoop_authz_plan() returns, the plan
 * keeps its own copies of the names it needs, so the request body may be
 * released once the (rewritten) request has been encoded; the plan and
 * the trees built for answers live as long as the arena.
 *
 * Plain C99, no nginx; resource and operation codes from hoop_policy.h.
 */

#ifndef HOOP_KAFKA_AUTHZ_H
#define HOOP_KAFKA_AUTHZ_H

#include <stddef.h>
#include <stdint.h>

#include "hoop_kafka_walker.h"
#include "../policy/hoop_policy.h"


/* Kafka error codes the planner writes (org.apache.kafka.common.protocol
 * .Errors). */
#define HOOP_AUTHZ_ERR_UNKNOWN_TOPIC_OR_PARTITION      3
#define HOOP_AUTHZ_ERR_INVALID_TOPIC                  17
#define HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED     29
#define HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED     30
#define HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED   31
#define HOOP_AUTHZ_ERR_UNSUPPORTED_VERSION            35
#define HOOP_AUTHZ_ERR_INVALID_REQUEST                42
#define HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED  53
#define HOOP_AUTHZ_ERR_OPERATION_NOT_ATTEMPTED        55
#define HOOP_AUTHZ_ERR_UNKNOWN_TOPIC_ID              100


/* Return codes of the functions below (negative on error). */
#define HOOP_AUTHZ_OK              0
#define HOOP_AUTHZ_EUNSUPPORTED   -1   /* ApiKey/version not handled, or
                                          topic ids without a resolver */
#define HOOP_AUTHZ_ENOMEM         -2   /* the arena returned NULL */
#define HOOP_AUTHZ_EINVALID       -3   /* tree of another ApiKey/version, or
                                          the call does not fit the plan */


/*
 * The caller's decision: may the connection's principal do op on the
 * resource (type, name[0..len))?  Returns 1 (allowed) or 0 (denied).
 *
 *   name NULL      "some resource of this type": Kafka's
 *                  Authorizer.authorizeByResourceType() (KIP-679), asked
 *                  only as (TOPIC, WRITE) for an idempotent producer
 *                  without IDEMPOTENT_WRITE on the cluster;
 *   CLUSTER        name is "kafka-cluster" (HOOP_POLICY_CLUSTER_NAME).
 *
 * Names are bytes from the request or response (not NUL-terminated, not
 * validated: any bytes a client sent).  The callback must not keep them.
 */
typedef int (*hoop_authz_decide_pt)(void *ctx, hoop_policy_res_t type,
    const uint8_t *name, size_t len, hoop_policy_op_t op);

/*
 * Topic id to name (KIP-516), for requests that name topics by id
 * (Produce v13, Fetch v13+, OffsetCommit/OffsetFetch v10, and ids in
 * DeleteTopics v6 and Metadata v12+).  Returns 1 and sets *name, *len
 * (valid until the call returns; the plan copies it) when id[0..16) is
 * known, 0 when not: the entry then gets UNKNOWN_TOPIC_ID (100), which
 * makes clients refresh their metadata.
 */
typedef int (*hoop_authz_resolve_pt)(void *ctx, const uint8_t *id,
    const uint8_t **name, size_t *len);


/* hoop_authz_conf_t.flags */
#define HOOP_AUTHZ_KEEP_FETCH_SESSIONS  0x01   /* see below */
#define HOOP_AUTHZ_NO_AUTO_CREATE       0x02   /* the broker has
                                                  auto.create.topics.enable
                                                  =false */

/*
 * decide, ctx      required; called again by hoop_authz_response() when
 *                  the response has to be filtered, so ctx must still be
 *                  valid then (or pass another conf to it)
 * resolve, ...     optional (NULL: topic ids are unknown)
 * flags:
 *   KEEP_FETCH_SESSIONS  forward consumer Fetch requests with their
 *                  incremental fetch session (KIP-227).  By default the
 *                  planner makes every consumer Fetch a sessionless full
 *                  fetch (SessionId 0, SessionEpoch -1), because an
 *                  incremental request does not name the partitions of
 *                  the session: only with full requests does every Fetch
 *                  get READ checked on every partition, so that a revoked
 *                  grant stops a live consumer at its next fetch.
 *   NO_AUTO_CREATE   Metadata does not check CREATE for topic
 *                  auto-creation (the broker would not create them).
 */
typedef struct {
    hoop_authz_decide_pt         decide;
    void                        *ctx;
    hoop_authz_resolve_pt        resolve;
    void                        *resolve_ctx;
    unsigned                     flags;
} hoop_authz_conf_t;


/* hoop_authz_supported_ex() flags */
#define HOOP_AUTHZ_TOPIC_IDS     0x01   /* a resolver will be given */

/*
 * 1 if the planner fully handles api_key at version, else 0.  Without
 * HOOP_AUTHZ_TOPIC_IDS, the versions that name topics only by id are not
 * handled (Produce v13, Fetch v13+, OffsetCommit v10, OffsetFetch v10):
 * the module caps those ApiKeys below them in ApiVersions.
 */
int hoop_authz_supported(int16_t api_key, int16_t version);
int hoop_authz_supported_ex(int16_t api_key, int16_t version,
    unsigned flags);

/* The handled range of api_key (contiguous): 0 with *min, *max set, or
 * -1 if none. */
int hoop_authz_versions(int16_t api_key, unsigned flags, int16_t *min,
    int16_t *max);


/*
 * One authorization check, as Kafka's authorizer would see it.  name is a
 * copy in the arena (NULL for a by-type check, "kafka-cluster" for the
 * cluster); node is the first request element it covers (a topic of
 * Produce.TopicData, the request root for a group of JoinGroup, ...), NULL
 * for checks made on a response; count is how many request elements it
 * covers (Kafka's Action.resourceReferenceCount).  Decisions are cached
 * per (type, name, op): each appears once.
 */

/* hoop_authz_check_t.flags */
#define HOOP_AUTHZ_CHECK_QUIET     0x01  /* Kafka does not log a denial
                                            (logIfDenied = false): a probe
                                            with a fallback, or a filter */
#define HOOP_AUTHZ_CHECK_RESPONSE  0x02  /* made while fixing a response */
#define HOOP_AUTHZ_CHECK_OPS       0x04  /* computing *AuthorizedOperations
                                            (KIP-430): never logged */
#define HOOP_AUTHZ_CHECK_IMPLICIT  0x08  /* denied without asking: Kafka
                                            refuses it by rule (internal
                                            topic in AddPartitionsToTxn,
                                            transactional records without
                                            a transactional id) */
#define HOOP_AUTHZ_CHECK_IF_ABSENT 0x10  /* matters only if the topic does
                                            not exist (Metadata CREATE for
                                            auto-creation) */

typedef struct {
    hoop_policy_res_t            type;
    hoop_policy_op_t             op;
    const uint8_t               *name;
    size_t                       len;
    hoop_kafka_node_t           *node;
    uint32_t                     count;
    uint8_t                      allowed;
    uint8_t                      flags;
} hoop_authz_check_t;


typedef enum {
    HOOP_AUTHZ_ALLOW = 0,
    HOOP_AUTHZ_PARTIAL,
    HOOP_AUTHZ_DENY
} hoop_authz_action_t;

/*
 * What to do with the request:
 *
 *   action       ALLOW, PARTIAL or DENY (above)
 *   rewritten    the request tree was changed (entries removed, Fetch
 *                made sessionless, Metadata auto-creation turned off,
 *                DescribeTopicPartitions cursor moved): encode it again
 *                before forwarding.  Always set with PARTIAL.
 *   response     the broker's response to the forwarded request must go
 *                through hoop_authz_response() (merge and/or filter)
 *   close        Produce with acks=0 and a denial: Kafka closes the
 *                connection (after writing what was authorized), as the
 *                client reads no response; PARTIAL: forward, then close;
 *                DENY: just close
 *   no_response  the client expects no response (Produce acks=0)
 *   error        the main error code of a DENY or PARTIAL (for logs)
 *   denied       entries answered by the gateway (0 for ALLOW)
 */
typedef struct {
    hoop_authz_action_t          action;
    unsigned                     rewritten:1;
    unsigned                     response:1;
    unsigned                     close:1;
    unsigned                     no_response:1;
    int16_t                      error;
    size_t                       denied;
} hoop_authz_result_t;


typedef struct hoop_authz_plan_s  hoop_authz_plan_t;


/*
 * Plans the authorization of request req (the decoded body of api_key at
 * version; may be changed in place, see result->rewritten).  Makes every
 * check Kafka's broker would make for this request (through conf->decide)
 * and fills *result.  Returns the plan, or NULL with *err set to
 * HOOP_AUTHZ_EUNSUPPORTED (not hoop_authz_supported_ex() with the conf's
 * resolver), HOOP_AUTHZ_ENOMEM or HOOP_AUTHZ_EINVALID (err may be NULL).
 * On NULL the request tree may have been changed: refuse the request.
 */
hoop_authz_plan_t *hoop_authz_plan(const hoop_kafka_alloc_t *a,
    const hoop_authz_conf_t *conf, int16_t api_key, int16_t version,
    hoop_kafka_node_t *req, hoop_authz_result_t *result, int *err);

/*
 * For a DENY: the response Kafka would have sent, as a tree of (api_key,
 * version) built in the plan's arena, with the error code of every denied
 * entry (29, 30, 31, 53, 55 for entries of a transactional request not
 * attempted, 100 for unknown topic ids, ...) at the place Kafka puts it,
 * the error message where the version has one, and Kafka's values for the
 * other fields (offsets -1, no records, ...).  The caller encodes it with
 * its correlation id and response header.  Returns HOOP_AUTHZ_OK,
 * HOOP_AUTHZ_ENOMEM or HOOP_AUTHZ_EINVALID (not a DENY plan).
 */
int hoop_authz_build_denied_response(hoop_authz_plan_t *plan,
    hoop_kafka_node_t **root);

/*
 * For result->response: fixes the broker's response to the forwarded
 * request in place, then the caller encodes it again.  Both steps below,
 * in this order.  conf NULL: the planning conf (its ctx must still be
 * valid).  A decision the plan already made is not asked again (a group
 * decided for the request keeps that decision for its authorized
 * operations).  Each step runs once per plan; calling again returns 0.
 * Returns 1 if the tree changed, 0 if not, or a negative HOOP_AUTHZ_E*
 * (the tree may then be half fixed: do not forward it).
 */
int hoop_authz_response(hoop_authz_plan_t *plan,
    const hoop_authz_conf_t *conf, hoop_kafka_node_t *resp);

/*
 * The two steps: the filter removes what the caller may not DESCRIBE
 * and recomputes the *AuthorizedOperations fields (checks made now are
 * appended to the plan's checks, flagged RESPONSE); the merge inserts the
 * denied entries of a PARTIAL plan where Kafka puts them (after the
 * broker's own, inside the right group for OffsetFetch v8+).  Same
 * returns as hoop_authz_response().
 */
int hoop_authz_filter_response(hoop_authz_plan_t *plan,
    const hoop_authz_conf_t *conf, hoop_kafka_node_t *resp);
int hoop_authz_merge_response(hoop_authz_plan_t *plan,
    hoop_kafka_node_t *resp);

/* The checks made so far (for audit), in the order made. */
const hoop_authz_check_t *hoop_authz_checks(const hoop_authz_plan_t *plan,
    size_t *n);

/* Kafka's default message for an error code ("Topic authorization
 * failed."), or NULL for codes the planner does not write. */
const char *hoop_authz_error_message(int16_t code);


#endif /* HOOP_KAFKA_AUTHZ_H */
