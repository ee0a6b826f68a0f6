/*
 * Names of operations, resource types and match kinds, and the facts of
 * Kafka's authorizer about them: which operations each resource type
 * supports (AclEntry.supportedOperations) and which operations a grant
 * implies (StandardAuthorizerData IMPLIES_DESCRIBE and
 * IMPLIES_DESCRIBE_CONFIGS).  Source: Apache Kafka 4.1.1.
 */

#include <string.h>

#include "hoop_policy_int.h"


#define B(op)  HOOP_POLICY_OP_BIT(HOOP_POLICY_OP_ ## op)


static const char  *hoop_policy_op_names[HOOP_POLICY_OP_LIMIT] = {
    NULL,                      /* UNKNOWN */
    NULL,                      /* ANY: filters only */
    "all",
    "read",
    "write",
    "create",
    "delete",
    "alter",
    "describe",
    "cluster_action",
    "describe_configs",
    "alter_configs",
    "idempotent_write",
    "create_tokens",
    "describe_tokens",
    "two_phase_commit"
};


static const char  *hoop_policy_res_names[HOOP_POLICY_RES_LIMIT] = {
    NULL,                      /* UNKNOWN */
    NULL,                      /* ANY: filters only */
    "topic",
    "group",
    "cluster",
    "transactional_id",
    "delegation_token",
    "user"
};


const char *
hoop_policy_op_name(hoop_policy_op_t op)
{
    if ((unsigned) op >= HOOP_POLICY_OP_LIMIT) {
        return NULL;
    }

    return hoop_policy_op_names[op];
}


hoop_policy_op_t
hoop_policy_op_parse(const char *s, size_t len)
{
    unsigned     i;
    const char  *n;

    for (i = 0; i < HOOP_POLICY_OP_LIMIT; i++) {
        n = hoop_policy_op_names[i];

        if (n && strlen(n) == len && memcmp(n, s, len) == 0) {
            return (hoop_policy_op_t) i;
        }
    }

    return HOOP_POLICY_OP_UNKNOWN;
}


const char *
hoop_policy_res_name(hoop_policy_res_t type)
{
    if ((unsigned) type >= HOOP_POLICY_RES_LIMIT) {
        return NULL;
    }

    return hoop_policy_res_names[type];
}


hoop_policy_res_t
hoop_policy_res_parse(const char *s, size_t len)
{
    unsigned     i;
    const char  *n;

    for (i = 0; i < HOOP_POLICY_RES_LIMIT; i++) {
        n = hoop_policy_res_names[i];

        if (n && strlen(n) == len && memcmp(n, s, len) == 0) {
            return (hoop_policy_res_t) i;
        }
    }

    return HOOP_POLICY_RES_UNKNOWN;
}


const char *
hoop_policy_match_name(hoop_policy_match_t match)
{
    switch (match) {
    case HOOP_POLICY_MATCH_LITERAL:
        return "literal";
    case HOOP_POLICY_MATCH_PREFIX:
        return "prefix";
    case HOOP_POLICY_MATCH_REGEX:
        return "regex";
    }

    return NULL;
}


uint32_t
hoop_policy_res_ops(hoop_policy_res_t type)
{
    switch (type) {

    case HOOP_POLICY_RES_TOPIC:
        return B(READ) | B(WRITE) | B(CREATE) | B(DESCRIBE) | B(DELETE)
               | B(ALTER) | B(DESCRIBE_CONFIGS) | B(ALTER_CONFIGS);

    case HOOP_POLICY_RES_GROUP:
        return B(READ) | B(DESCRIBE) | B(DELETE) | B(DESCRIBE_CONFIGS)
               | B(ALTER_CONFIGS);

    case HOOP_POLICY_RES_CLUSTER:
        return B(CREATE) | B(CLUSTER_ACTION) | B(DESCRIBE_CONFIGS)
               | B(ALTER_CONFIGS) | B(IDEMPOTENT_WRITE) | B(ALTER)
               | B(DESCRIBE);

    case HOOP_POLICY_RES_TRANSACTIONAL_ID:
        return B(DESCRIBE) | B(WRITE) | B(TWO_PHASE_COMMIT);

    case HOOP_POLICY_RES_DELEGATION_TOKEN:
        return B(DESCRIBE);

    case HOOP_POLICY_RES_USER:
        return B(CREATE_TOKENS) | B(DESCRIBE_TOKENS);

    default:
        return 0;
    }
}


/*
 * The operations Kafka's request handlers actually ask for on a type: the
 * supported ones, and DELETE on the cluster, which DeleteTopics asks for
 * (ControllerApis: DELETE on CLUSTER allows deleting every topic) though
 * AclEntry.supportedOperations(CLUSTER) does not list it.
 */
uint32_t
hoop_policy_res_checked_ops(hoop_policy_res_t type)
{
    uint32_t  ops;

    ops = hoop_policy_res_ops(type);

    if (type == HOOP_POLICY_RES_CLUSTER) {
        ops |= B(DELETE);
    }

    return ops;
}


/*
 * The rule operations that allow op when granted: op itself and ALL, and
 * for DESCRIBE also READ, WRITE, DELETE, ALTER; for DESCRIBE_CONFIGS also
 * ALTER_CONFIGS.  A deny only ever matches op itself and ALL.
 */
uint32_t
hoop_policy_allow_mask(hoop_policy_op_t op)
{
    uint32_t  m;

    m = HOOP_POLICY_OP_BIT(op) | B(ALL);

    if (op == HOOP_POLICY_OP_DESCRIBE) {
        m |= B(READ) | B(WRITE) | B(DELETE) | B(ALTER);

    } else if (op == HOOP_POLICY_OP_DESCRIBE_CONFIGS) {
        m |= B(ALTER_CONFIGS);
    }

    return m;
}
