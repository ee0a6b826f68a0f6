/*
 * Unit tests of the authorization planner (src/kafka/hoop_kafka_authz.c).
 *
 *   - every supported ApiKey at every supported version (topic-id versions
 *     with a resolver), on a request built here with two entries in every
 *     array (names "a-..." and "d-..."): allow-all, deny-all and partial
 *     deny (names starting with "d" denied, and the cluster probes Kafka
 *     falls back from); each outcome checked against the table below;
 *     every DENY answer encodes, decodes and has an error in every error
 *     field; every PARTIAL request shrinks and round-trips, and its merged
 *     response has as many error fields as Kafka's full answer would;
 *   - the captured frames (test/unit/frames/): each request of a handled
 *     version under four policies; answers, shrunk requests, merged and
 *     filtered captured responses round-trip;
 *   - Kafka's rules one by one (transactional and idempotent producers,
 *     followers, fetch sessions, topic ids, Metadata auto-creation and
 *     filtering, OffsetFetch groups, FindCoordinator, CreateTopics
 *     configs, DeleteTopics by id, consumer groups, ...);
 *   - out of memory at every allocation.
 *
 * Usage: test_kafka_authz [FRAMES_DIR]   (default: frames)
 */

#define _POSIX_C_SOURCE  200809L    /* opendir() under -std=c99 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include "hoop_kafka_header.h"
#include "hoop_kafka_authz.h"
#include "test_kafka_util.h"


static const char  *frames_dir = "frames";


/* ----------------------------------------------------------------------
 * Policies
 */

typedef enum {
    POL_ALLOW = 0,
    POL_DENY,
    POL_DENY_D,          /* names starting with 'd' denied; on the cluster
                            only DESCRIBE, ALTER, *_CONFIGS allowed */
    POL_TOPICS,          /* every topic denied, the rest allowed */
    POL_GROUPS,          /* every group denied, the rest allowed */
    POL_LIST             /* explicit list below */
} pol_mode_t;


typedef struct {
    hoop_policy_res_t    type;
    const char          *name;      /* NULL: any name of the type */
    hoop_policy_op_t     op;        /* UNKNOWN: any operation */
} pol_rule_t;


typedef struct {
    pol_mode_t           mode;
    const pol_rule_t    *deny;      /* POL_LIST: denied; the rest allowed */
    size_t               ndeny;
    int                  calls;
    int                  any_calls; /* name NULL */
} pol_t;


static int
pol_decide(void *ctx, hoop_policy_res_t type, const uint8_t *name,
    size_t len, hoop_policy_op_t op)
{
    size_t   i;
    pol_t   *pol;

    pol = ctx;
    pol->calls++;

    if (name == NULL) {
        pol->any_calls++;
    }

    switch (pol->mode) {
    case POL_ALLOW:
        return 1;

    case POL_DENY:
        return 0;

    case POL_DENY_D:
        if (type == HOOP_POLICY_RES_CLUSTER) {
            return op == HOOP_POLICY_OP_DESCRIBE
                   || op == HOOP_POLICY_OP_ALTER
                   || op == HOOP_POLICY_OP_DESCRIBE_CONFIGS
                   || op == HOOP_POLICY_OP_ALTER_CONFIGS;
        }

        return name == NULL || len == 0 || name[0] != 'd';

    case POL_TOPICS:
        return type != HOOP_POLICY_RES_TOPIC;

    case POL_GROUPS:
        return type != HOOP_POLICY_RES_GROUP;

    case POL_LIST:
        for (i = 0; i < pol->ndeny; i++) {
            if (pol->deny[i].type != type) {
                continue;
            }

            if (pol->deny[i].op != HOOP_POLICY_OP_UNKNOWN
                && pol->deny[i].op != op)
            {
                continue;
            }

            if (pol->deny[i].name == NULL
                || (name != NULL && strlen(pol->deny[i].name) == len
                    && memcmp(pol->deny[i].name, name, len) == 0))
            {
                return 0;
            }
        }

        return 1;
    }

    return 0;
}


/* ----------------------------------------------------------------------
 * Topic ids: a uuid made of a short name padded with zeros names that
 * topic; ids learned from captured Metadata responses name theirs.
 */

#define MAX_IDS  256

static struct {
    uint8_t              id[16];
    char                 name[256];
} known_ids[MAX_IDS];

static size_t  nknown_ids;


static void
make_id(uint8_t *id, const char *name)
{
    memset(id, 0, 16);
    memcpy(id, name, strlen(name) < 16 ? strlen(name) : 16);
}


static int
resolve(void *ctx, const uint8_t *id, const uint8_t **name, size_t *len)
{
    size_t  i;

    (void) ctx;

    for (i = 0; i < nknown_ids; i++) {
        if (memcmp(known_ids[i].id, id, 16) == 0) {
            *name = (const uint8_t *) known_ids[i].name;
            *len = strlen(known_ids[i].name);
            return 1;
        }
    }

    /* "a-..." / "d-..." ids made by make_id(); "u-..." are unknown */
    if ((id[0] == 'a' || id[0] == 'd') && id[1] == '-') {
        *name = id;
        *len = strnlen((const char *) id, 16);
        return 1;
    }

    return 0;
}


static hoop_authz_conf_t
conf_of(pol_t *pol, int ids)
{
    hoop_authz_conf_t  c;

    memset(&c, 0, sizeof(c));
    c.decide = pol_decide;
    c.ctx = pol;

    if (ids) {
        c.resolve = resolve;
    }

    return c;
}


/* ----------------------------------------------------------------------
 * Trees
 */

static hoop_kafka_node_t *
child(hoop_kafka_node_t *n, const char *name)
{
    assert_non_null(n);
    return hoop_kafka_node_child(n, name);
}


static void
set_str(hoop_kafka_node_t *n, const char *name, const char *v)
{
    hoop_kafka_node_t  *c;

    c = child(n, name);
    assert_non_null(c);
    assert_int_equal(hoop_kafka_node_set_string(c, (const uint8_t *) v,
                                                v ? strlen(v) : 0), 0);
}


static void
set_int(hoop_kafka_node_t *n, const char *name, int64_t v)
{
    hoop_kafka_node_t  *c;

    c = child(n, name);
    assert_non_null(c);
    assert_int_equal(hoop_kafka_node_set_int(c, v), 0);
}


static int64_t
get_int(hoop_kafka_node_t *n, const char *name)
{
    hoop_kafka_node_t  *c;

    c = child(n, name);
    assert_non_null(c);

    return hoop_kafka_node_int(c);
}


static int
str_is(hoop_kafka_node_t *n, const char *name, const char *v)
{
    size_t              len;
    const uint8_t      *s;
    hoop_kafka_node_t  *c;

    c = child(n, name);
    assert_non_null(c);
    s = hoop_kafka_node_bytes(c, &len);

    if (v == NULL) {
        return s == NULL;
    }

    return s != NULL && len == strlen(v) && memcmp(s, v, len) == 0;
}


static hoop_kafka_node_t *
nth(hoop_kafka_node_t *array, size_t i)
{
    hoop_kafka_node_t  *e;

    assert_non_null(array);

    for (e = hoop_kafka_node_first(array); e && i; e = e->next, i--) {
        /* void */
    }

    assert_non_null(e);

    return e;
}


static char *
name_of(test_arena_t *ar, char prefix, const char *kind, unsigned n)
{
    char  *s;

    s = test_arena_alloc(ar, 16);
    assert_non_null(s);
    snprintf(s, 16, "%c-%s%u", prefix, kind, n % 100);

    return s;
}


static const char *
kind_of(const hoop_kafka_field_t *f)
{
    switch (f->entity_type) {
    case HOOP_KAFKA_ENTITY_TOPIC_NAME:
        return "t";
    case HOOP_KAFKA_ENTITY_GROUP_ID:
        return "g";
    case HOOP_KAFKA_ENTITY_TRANSACTIONAL_ID:
        return "x";
    default:
        return "s";
    }
}


static int
named_field(const hoop_kafka_field_t *f)
{
    static const char  *names[] = {
        "Name", "ResourceName", "Key", "TopicName", "User", "GroupId",
        NULL
    };
    size_t              i;

    if (f->entity_type == HOOP_KAFKA_ENTITY_TOPIC_NAME
        || f->entity_type == HOOP_KAFKA_ENTITY_GROUP_ID
        || f->entity_type == HOOP_KAFKA_ENTITY_TRANSACTIONAL_ID)
    {
        return 1;
    }

    for (i = 0; names[i]; i++) {
        if (strcmp(f->name, names[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


static unsigned  fill_counter;


/*
 * Fills a built struct: two elements in every array (the first "a-...",
 * the second "d-..."), names in named strings, topic ids from names where
 * the struct has no name field.
 */
static void
fill(test_arena_t *ar, const hoop_kafka_alloc_t *a, hoop_kafka_node_t *s,
    char prefix, int depth)
{
    int                 k;
    char               *nm;
    uint8_t            *id;
    hoop_kafka_node_t  *c, *e;

    for (c = hoop_kafka_node_first(s); c; c = c->next) {
        if (c->field == NULL) {
            continue;
        }

        switch (c->type) {

        case HOOP_KAFKA_T_STRING:
            if (named_field(c->field)) {
                nm = name_of(ar, prefix, kind_of(c->field), fill_counter++);
                assert_int_equal(hoop_kafka_node_set_string(c,
                                 (const uint8_t *) nm, strlen(nm)), 0);
            }
            break;

        case HOOP_KAFKA_T_UUID:
            if (strcmp(c->field->name, "TopicId") == 0
                && hoop_kafka_node_child(s, "Name") == NULL
                && hoop_kafka_node_child(s, "Topic") == NULL
                && hoop_kafka_node_child(s, "TopicName") == NULL)
            {
                nm = name_of(ar, prefix, "t", fill_counter++);
                id = test_arena_alloc(ar, 16);
                assert_non_null(id);
                make_id(id, nm);
                c->u.bytes.data = id;
                c->u.bytes.len = 16;
            }
            break;

        case HOOP_KAFKA_T_STRUCT:
            if (!hoop_kafka_node_is_null(c) && depth < 4) {
                fill(ar, a, c, prefix, depth + 1);
            }
            break;

        case HOOP_KAFKA_T_ARRAY:
            if (depth >= 4) {
                break;
            }

            for (k = 0; k < 2; k++) {
                e = hoop_kafka_array_append(a, c);
                assert_non_null(e);

                switch (e->type) {
                case HOOP_KAFKA_T_STRUCT:
                    fill(ar, a, e, k ? 'd' : 'a', depth + 1);
                    break;
                case HOOP_KAFKA_T_STRING:
                    nm = name_of(ar, k ? 'd' : 'a', kind_of(c->field),
                                 fill_counter++);
                    assert_int_equal(hoop_kafka_node_set_string(e,
                                     (const uint8_t *) nm, strlen(nm)), 0);
                    break;
                case HOOP_KAFKA_T_INT8:
                case HOOP_KAFKA_T_INT16:
                case HOOP_KAFKA_T_INT32:
                case HOOP_KAFKA_T_INT64:
                    e->u.i = k;
                    break;
                default:
                    break;
                }
            }
            break;

        default:
            break;
        }
    }
}


/* Kafka fields the generic filler cannot guess. */
static void
fixup(int16_t key, int16_t v, hoop_kafka_node_t *req)
{
    hoop_kafka_node_t  *res, *e;

    switch (key) {
    case HOOP_KAFKA_API_PRODUCE:
        set_int(req, "Acks", -1);
        set_str(req, "TransactionalId", NULL);
        break;

    case HOOP_KAFKA_API_SYNC_GROUP:
        if (v >= 5) {
            set_str(req, "ProtocolType", "consumer");
            set_str(req, "ProtocolName", "range");
        }
        break;

    case HOOP_KAFKA_API_DESCRIBE_CONFIGS:
    case HOOP_KAFKA_API_ALTER_CONFIGS:
    case HOOP_KAFKA_API_INCREMENTAL_ALTER_CONFIGS:
        res = child(req, "Resources");
        for (e = hoop_kafka_node_first(res); e; e = e->next) {
            set_int(e, "ResourceType", 2);
        }
        break;

    case HOOP_KAFKA_API_FIND_COORDINATOR:
        if (v >= 1) {
            set_int(req, "KeyType", 0);
        }
        break;

    default:
        break;
    }
}


static hoop_kafka_node_t *
build_request(test_arena_t *ar, const hoop_kafka_alloc_t *a, int16_t key,
    int16_t v)
{
    hoop_kafka_node_t  *req;

    assert_int_equal(hoop_kafka_build(a, key, v, 0, &req), HOOP_KAFKA_OK);

    fill(ar, a, req, 'a', 0);
    fixup(key, v, req);

    return req;
}


/* Encodes node and decodes the bytes again as (key, v, dir). */
static hoop_kafka_node_t *
round_trip(test_arena_t *ar, const hoop_kafka_alloc_t *a,
    hoop_kafka_node_t *node, int16_t key, int16_t v, int is_response,
    size_t *size)
{
    size_t              n;
    uint8_t            *buf, *again;
    hoop_kafka_err_t    err;
    hoop_kafka_node_t  *out;

    n = hoop_kafka_encoded_size(node);
    buf = test_arena_alloc(ar, n + 1);
    assert_non_null(buf);
    assert_int_equal(hoop_kafka_encode(node, buf), n);

    if (hoop_kafka_decode(a, key, v, is_response, buf, n, &out, &err)
        != HOOP_KAFKA_OK)
    {
        fail_msg("%s v%d %s: re-decode failed at %zu: %s (%s)",
                 hoop_kafka_api_name(key), v, is_response ? "resp" : "req",
                 err.offset, err.msg, err.field ? err.field : "-");
    }

    again = test_arena_alloc(ar, n + 1);
    assert_non_null(again);
    assert_int_equal(hoop_kafka_encode(out, again), n);
    assert_memory_equal(buf, again, n);

    if (size) {
        *size = n;
    }

    return out;
}


typedef struct {
    size_t               errors;      /* *ErrorCode fields */
    size_t               zero;        /* of them 0 */
    size_t               zero_allowed;
} err_count_t;


static int
count_errors(hoop_kafka_node_t *node, const hoop_kafka_field_t *field,
    hoop_kafka_node_t *parent, void *data)
{
    size_t        len;
    err_count_t  *c;

    c = data;

    if (field == NULL || node->type != HOOP_KAFKA_T_INT16
        || (node->flags & HOOP_KAFKA_NODE_ELEMENT))
    {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    len = strlen(field->name);

    if (len < 9 || strcmp(field->name + len - 9, "ErrorCode") != 0) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    c->errors++;

    if (hoop_kafka_node_int(node) == 0) {
        c->zero++;

        /* Kafka's Fetch answers errors per partition, 0 at the top */
        if (parent != NULL && parent->field != NULL
            && parent->field == hoop_kafka_message(HOOP_KAFKA_API_FETCH,
                                                   1)->root)
        {
            c->zero_allowed++;
        }
    }

    return HOOP_KAFKA_WALK_CONTINUE;
}


static err_count_t
errors_of(hoop_kafka_node_t *root)
{
    err_count_t  c;

    memset(&c, 0, sizeof(c));
    assert_int_equal(hoop_kafka_walk(root, count_errors, &c), 0);

    return c;
}


/* Checks a DENY answer: it encodes, decodes, and every error field but
 * Fetch's top-level one says an error. */
static hoop_kafka_node_t *
check_answer(test_arena_t *ar, const hoop_kafka_alloc_t *a,
    hoop_authz_plan_t *plan, int16_t key, int16_t v)
{
    err_count_t         c;
    hoop_kafka_node_t  *resp, *again;

    assert_int_equal(hoop_authz_build_denied_response(plan, &resp),
                     HOOP_AUTHZ_OK);
    again = round_trip(ar, a, resp, key, v, 1, NULL);

    c = errors_of(again);

    if (c.zero != c.zero_allowed) {
        fail_msg("%s v%d: %zu of %zu error fields are 0 in the answer",
                 hoop_kafka_api_name(key), v, c.zero, c.errors);
    }

    if (!(key == HOOP_KAFKA_API_DESCRIBE_LOG_DIRS && v < 3)
        && c.errors == c.zero)
    {
        fail_msg("%s v%d: no error in the answer",
                 hoop_kafka_api_name(key), v);
    }

    return again;
}


/* ----------------------------------------------------------------------
 * Every ApiKey, every version
 */

/* what the planner must decide, per policy; MIX: what the partial
 * policy gives on the built request */
typedef struct {
    int16_t              key;
    hoop_authz_action_t  deny_all;
    hoop_authz_action_t  partial;
    int                  mirror;    /* merged answer == full answer */
} expect_t;

#define A   HOOP_AUTHZ_ALLOW
#define P   HOOP_AUTHZ_PARTIAL
#define D   HOOP_AUTHZ_DENY

static const expect_t  expects[] = {
    { HOOP_KAFKA_API_PRODUCE,                 D, P, 1 },
    { HOOP_KAFKA_API_FETCH,                   D, P, 1 },
    { HOOP_KAFKA_API_LIST_OFFSETS,            D, P, 1 },
    { HOOP_KAFKA_API_METADATA,                P, P, 0 },
    { HOOP_KAFKA_API_OFFSET_COMMIT,           D, P, 1 },
    { HOOP_KAFKA_API_OFFSET_FETCH,            D, P, 0 },
    { HOOP_KAFKA_API_FIND_COORDINATOR,        D, P, 1 },
    { HOOP_KAFKA_API_JOIN_GROUP,              D, A, 0 },
    { HOOP_KAFKA_API_HEARTBEAT,               D, A, 0 },
    { HOOP_KAFKA_API_LEAVE_GROUP,             D, A, 0 },
    { HOOP_KAFKA_API_SYNC_GROUP,              D, A, 0 },
    { HOOP_KAFKA_API_DESCRIBE_GROUPS,         D, P, 1 },
    { HOOP_KAFKA_API_LIST_GROUPS,             A, A, 0 },
    { HOOP_KAFKA_API_SASL_HANDSHAKE,          A, A, 0 },
    { HOOP_KAFKA_API_API_VERSIONS,            A, A, 0 },
    { HOOP_KAFKA_API_CREATE_TOPICS,           D, P, 1 },
    { HOOP_KAFKA_API_DELETE_TOPICS,           D, P, 1 },
    { HOOP_KAFKA_API_DELETE_RECORDS,          D, P, 1 },
    { HOOP_KAFKA_API_INIT_PRODUCER_ID,        D, A, 0 },
    { HOOP_KAFKA_API_OFFSET_FOR_LEADER_EPOCH, D, P, 1 },
    { HOOP_KAFKA_API_ADD_PARTITIONS_TO_TXN,   D, D, 0 },
    { HOOP_KAFKA_API_ADD_OFFSETS_TO_TXN,      D, A, 0 },
    { HOOP_KAFKA_API_END_TXN,                 D, A, 0 },
    { HOOP_KAFKA_API_TXN_OFFSET_COMMIT,       D, D, 0 },
    { HOOP_KAFKA_API_DESCRIBE_ACLS,           D, A, 0 },
    { HOOP_KAFKA_API_CREATE_ACLS,             D, A, 0 },
    { HOOP_KAFKA_API_DELETE_ACLS,             D, A, 0 },
    { HOOP_KAFKA_API_DESCRIBE_CONFIGS,        D, P, 1 },
    { HOOP_KAFKA_API_ALTER_CONFIGS,           D, P, 1 },
    { HOOP_KAFKA_API_ALTER_REPLICA_LOG_DIRS,  D, A, 0 },
    { HOOP_KAFKA_API_DESCRIBE_LOG_DIRS,       D, A, 0 },
    { HOOP_KAFKA_API_SASL_AUTHENTICATE,       A, A, 0 },
    { HOOP_KAFKA_API_CREATE_PARTITIONS,       D, P, 1 },
    { HOOP_KAFKA_API_DELETE_GROUPS,           D, P, 1 },
    { HOOP_KAFKA_API_ELECT_LEADERS,           D, A, 0 },
    { HOOP_KAFKA_API_INCREMENTAL_ALTER_CONFIGS, D, P, 1 },
    { HOOP_KAFKA_API_ALTER_PARTITION_REASSIGNMENTS, D, A, 0 },
    { HOOP_KAFKA_API_LIST_PARTITION_REASSIGNMENTS, D, A, 0 },
    { HOOP_KAFKA_API_OFFSET_DELETE,           D, P, 0 },
    { HOOP_KAFKA_API_DESCRIBE_CLIENT_QUOTAS,  D, A, 0 },
    { HOOP_KAFKA_API_ALTER_CLIENT_QUOTAS,     D, A, 0 },
    { HOOP_KAFKA_API_DESCRIBE_USER_SCRAM_CREDENTIALS, D, A, 0 },
    { HOOP_KAFKA_API_ALTER_USER_SCRAM_CREDENTIALS, D, A, 0 },
    { HOOP_KAFKA_API_UPDATE_FEATURES,         D, A, 0 },
    { HOOP_KAFKA_API_DESCRIBE_CLUSTER,        A, A, 0 },
    { HOOP_KAFKA_API_DESCRIBE_PRODUCERS,      D, P, 1 },
    { HOOP_KAFKA_API_UNREGISTER_BROKER,       D, A, 0 },
    { HOOP_KAFKA_API_DESCRIBE_TRANSACTIONS,   D, P, 1 },
    { HOOP_KAFKA_API_LIST_TRANSACTIONS,       A, A, 0 },
    { HOOP_KAFKA_API_CONSUMER_GROUP_HEARTBEAT, D, D, 0 },
    { HOOP_KAFKA_API_CONSUMER_GROUP_DESCRIBE, D, P, 1 },
    { HOOP_KAFKA_API_GET_TELEMETRY_SUBSCRIPTIONS, A, A, 0 },
    { HOOP_KAFKA_API_PUSH_TELEMETRY,          A, A, 0 },
    { HOOP_KAFKA_API_LIST_CONFIG_RESOURCES,   D, A, 0 },
    { HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, D, P, 1 },
    { HOOP_KAFKA_API_ADD_RAFT_VOTER,          D, A, 0 },
    { HOOP_KAFKA_API_REMOVE_RAFT_VOTER,       D, A, 0 }
};


static const expect_t *
expect_of(int16_t key)
{
    size_t  i;

    for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
        if (expects[i].key == key) {
            return &expects[i];
        }
    }

    return NULL;
}


static const char *
action_name(hoop_authz_action_t a)
{
    return a == A ? "ALLOW" : a == P ? "PARTIAL" : "DENY";
}


typedef struct {
    int                  plans;
    int                  answers;
    int                  partials;
    int                  merges;
    int                  versions;
} sweep_stats_t;


/* Plans key/v under mode; returns the plan (checks the action). */
static hoop_authz_plan_t *
plan_as(test_arena_t *ar, const hoop_kafka_alloc_t *a, int16_t key,
    int16_t v, hoop_kafka_node_t *req, pol_t *pol, int ids,
    hoop_authz_result_t *res, hoop_authz_action_t want)
{
    int                 err;
    hoop_authz_conf_t   conf;
    hoop_authz_plan_t  *plan;

    (void) ar;

    conf = conf_of(pol, ids);
    plan = hoop_authz_plan(a, &conf, key, v, req, res, &err);

    if (plan == NULL) {
        fail_msg("%s v%d: plan failed (%d)", hoop_kafka_api_name(key), v,
                 err);
    }

    if (res->action != want) {
        fail_msg("%s v%d policy %d: %s, expected %s",
                 hoop_kafka_api_name(key), v, pol->mode,
                 action_name(res->action), action_name(want));
    }

    return plan;
}


static void
test_every_api(void **state)
{
    int                  ids, mixed;
    int16_t              key, v, min, max;
    size_t               n0, n1;
    pol_t                pol;
    err_count_t          full, merged;
    test_arena_t         ar;
    sweep_stats_t        st;
    const expect_t      *x;
    hoop_kafka_alloc_t   a;
    hoop_authz_plan_t   *plan, *plan2, *plan3;
    hoop_authz_result_t  res, res2, res3;
    hoop_kafka_node_t   *req, *fwd, *resp, *orig;

    (void) state;

    memset(&ar, 0, sizeof(ar));
    memset(&st, 0, sizeof(st));
    a = test_arena_allocator(&ar);

    for (key = 0; key <= HOOP_KAFKA_API_KEY_MAX; key++) {
        if (hoop_authz_versions(key, HOOP_AUTHZ_TOPIC_IDS, &min, &max) != 0) {
            assert_null(expect_of(key));
            continue;
        }

        x = expect_of(key);
        assert_non_null(x);

        for (v = min; v <= max; v++) {
            ids = !hoop_authz_supported(key, v);
            assert_true(hoop_authz_supported_ex(key, v,
                                                HOOP_AUTHZ_TOPIC_IDS));
            st.versions++;

            /* allow all: forwarded as is */
            memset(&pol, 0, sizeof(pol));
            pol.mode = POL_ALLOW;
            req = build_request(&ar, &a, key, v);
            plan = plan_as(&ar, &a, key, v, req, &pol, ids, &res, A);
            assert_int_equal(res.denied, 0);
            (void) round_trip(&ar, &a, req, key, v, 0, NULL);
            st.plans++;

            /* without a resolver, topic-id versions are refused */
            if (ids) {
                int                 err;
                hoop_authz_conf_t   c = conf_of(&pol, 0);

                assert_null(hoop_authz_plan(&a, &c, key, v, req, &res,
                                            &err));
                assert_int_equal(err, HOOP_AUTHZ_EUNSUPPORTED);
            }

            /* deny all */
            pol.mode = POL_DENY;
            req = build_request(&ar, &a, key, v);
            plan = plan_as(&ar, &a, key, v, req, &pol, ids, &res,
                           x->deny_all);
            st.plans++;

            if (res.action == D) {
                (void) check_answer(&ar, &a, plan, key, v);
                st.answers++;

            } else {
                assert_int_equal(hoop_authz_build_denied_response(plan,
                                                                  &resp),
                                 HOOP_AUTHZ_EINVALID);
            }

            /* partial */
            pol.mode = POL_DENY_D;
            orig = build_request(&ar, &a, key, v);
            (void) round_trip(&ar, &a, orig, key, v, 0, &n0);
            req = round_trip(&ar, &a, orig, key, v, 0, NULL);

            mixed = x->partial;

            /* versions without the entries the table counts on */
            if (key == HOOP_KAFKA_API_FIND_COORDINATOR && v < 4) {
                mixed = A;
            }

            if (key == HOOP_KAFKA_API_ADD_PARTITIONS_TO_TXN && v >= 4) {
                mixed = D;              /* CLUSTER_ACTION */
            }

            if (key == HOOP_KAFKA_API_CONSUMER_GROUP_HEARTBEAT && v >= 1) {
                mixed = D;              /* regex field left null: names */
            }

            plan = plan_as(&ar, &a, key, v, req, &pol, ids, &res, mixed);
            st.plans++;

            if (res.action == D) {
                (void) check_answer(&ar, &a, plan, key, v);
                st.answers++;
                continue;
            }

            if (res.action != P) {
                continue;
            }

            st.partials++;
            assert_true(res.rewritten);
            assert_true(res.response);
            assert_true(res.denied > 0);

            fwd = round_trip(&ar, &a, req, key, v, 0, &n1);
            assert_true(n1 < n0);

            if (!x->mirror) {
                continue;
            }

            /* the broker's answer to the forwarded request: Kafka's
             * answer with every remaining entry failed; merged, it has
             * as many error fields as Kafka's answer to the original */
            pol.mode = POL_DENY;
            plan2 = plan_as(&ar, &a, key, v, fwd, &pol, ids, &res2, D);
            assert_int_equal(hoop_authz_build_denied_response(plan2, &resp),
                             HOOP_AUTHZ_OK);

            orig = round_trip(&ar, &a, orig, key, v, 0, NULL);
            plan3 = plan_as(&ar, &a, key, v, orig, &pol, ids, &res3, D);
            full = errors_of(check_answer(&ar, &a, plan3, key, v));

            resp = round_trip(&ar, &a, resp, key, v, 1, NULL);
            pol.mode = POL_DENY_D;
            assert_true(hoop_authz_response(plan, NULL, resp) > 0);
            resp = round_trip(&ar, &a, resp, key, v, 1, NULL);
            merged = errors_of(resp);

            if (merged.errors != full.errors) {
                fail_msg("%s v%d: merged answer has %zu error fields, "
                         "Kafka's %zu", hoop_kafka_api_name(key), v,
                         merged.errors, full.errors);
            }

            /* merging twice changes nothing */
            assert_int_equal(hoop_authz_merge_response(plan, resp), 0);
            st.merges++;
        }
    }

    print_message("   %d versions, %d plans, %d answers, %d partial, "
                  "%d merges\n", st.versions, st.plans, st.answers,
                  st.partials, st.merges);

    test_arena_reset(&ar);
}


/* ----------------------------------------------------------------------
 * Captured frames
 */

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE     *f;
    long      n;
    uint8_t  *p;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);

    p = malloc(n ? (size_t) n : 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t) n, f), (size_t) n);
    fclose(f);

    *len = (size_t) n;

    return p;
}


static int
api_key_of(const char *name, size_t len)
{
    int          api;
    const char  *s;

    for (api = 0; api <= HOOP_KAFKA_API_KEY_MAX; api++) {
        s = hoop_kafka_api_name((int16_t) api);

        if (s && strlen(s) == len && memcmp(s, name, len) == 0) {
            return api;
        }
    }

    return -1;
}


/* Decodes the body of a captured frame file. */
static hoop_kafka_node_t *
decode_frame(const hoop_kafka_alloc_t *a, const char *file, int16_t key,
    int16_t v, int is_response, uint8_t **keep)
{
    int                           hv;
    char                          path[1024];
    size_t                        len;
    uint8_t                      *p;
    hoop_kafka_node_t            *root;
    hoop_kafka_request_header_t   h;
    hoop_kafka_response_header_t  rh;

    snprintf(path, sizeof(path), "%s/%s", frames_dir, file);

    p = read_file(path, &len);
    if (p == NULL || len < 8) {
        free(p);
        return NULL;
    }

    *keep = p;

    if (!is_response) {
        assert_int_equal(hoop_kafka_request_header_parse(p + 4, len - 4, &h,
                                                         NULL),
                         HOOP_KAFKA_OK);
        assert_int_equal(hoop_kafka_decode(a, key, v, 0, p + 4 + h.len,
                                           len - 4 - h.len, &root, NULL),
                         HOOP_KAFKA_OK);
        return root;
    }

    hv = hoop_kafka_response_header_version(key, v);
    assert_int_equal(hoop_kafka_response_header_parse(p + 4, len - 4, hv,
                                                      &rh, NULL),
                     HOOP_KAFKA_OK);
    assert_int_equal(hoop_kafka_decode(a, key, v, 1, p + 4 + rh.len,
                                       len - 4 - rh.len, &root, NULL),
                     HOOP_KAFKA_OK);
    return root;
}


/* A struct with a topic name and a TopicId teaches the resolver. */
static int
learn_node(hoop_kafka_node_t *node, const hoop_kafka_field_t *field,
    hoop_kafka_node_t *parent, void *data)
{
    size_t              len, idlen, i;
    const uint8_t      *s, *id;
    hoop_kafka_node_t  *c, *idn;

    (void) field;
    (void) parent;
    (void) data;

    if (node->type != HOOP_KAFKA_T_STRUCT || nknown_ids >= MAX_IDS) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    idn = hoop_kafka_node_child(node, "TopicId");
    if (idn == NULL) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    id = hoop_kafka_node_bytes(idn, &idlen);

    for (c = hoop_kafka_node_first(node); c; c = c->next) {
        if (c->field == NULL || c->type != HOOP_KAFKA_T_STRING
            || c->field->entity_type != HOOP_KAFKA_ENTITY_TOPIC_NAME)
        {
            continue;
        }

        s = hoop_kafka_node_bytes(c, &len);

        if (s == NULL || id == NULL || idlen != 16 || len == 0
            || len >= sizeof(known_ids[0].name)
            || memcmp(id, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0)
        {
            continue;
        }

        for (i = 0; i < nknown_ids; i++) {
            if (memcmp(known_ids[i].id, id, 16) == 0) {
                break;
            }
        }

        if (i == nknown_ids) {
            memcpy(known_ids[i].name, s, len);
            known_ids[i].name[len] = '\0';
            memcpy(known_ids[i].id, id, 16);
            nknown_ids++;
        }
    }

    return HOOP_KAFKA_WALK_CONTINUE;
}


/* Learns topic ids from every captured response that pairs them with
 * names (Metadata, CreateTopics, DescribeTopicPartitions, ...), as the
 * module learns them from Metadata. */
static void
learn_ids(void)
{
    int                 key, v, i;
    DIR                *d;
    char                api[64], dir[8];
    uint8_t            *keep;
    test_arena_t        ar;
    struct dirent      *de;
    hoop_kafka_alloc_t  a;
    hoop_kafka_node_t  *root;

    memset(&ar, 0, sizeof(ar));
    a = test_arena_allocator(&ar);

    d = opendir(frames_dir);
    if (d == NULL) {
        return;
    }

    while ((de = readdir(d)) != NULL) {
        if (sscanf(de->d_name, "%63[A-Za-z]-v%d-%7[a-z]-%d.bin", api, &v, dir,
                   &i) != 4
            || strcmp(dir, "resp") != 0
            || (key = api_key_of(api, strlen(api))) < 0)
        {
            continue;
        }

        keep = NULL;
        root = decode_frame(&a, de->d_name, (int16_t) key, (int16_t) v, 1,
                            &keep);

        if (root != NULL) {
            (void) hoop_kafka_walk(root, learn_node, NULL);
        }

        free(keep);
    }

    closedir(d);
    test_arena_reset(&ar);
}


static void
test_frames(void **state)
{
    int                  key, v, i, m, rc;
    char                 api[64], dir[8], resp_name[256];
    DIR                 *d;
    pol_t                pol;
    uint8_t             *keep, *rkeep;
    test_arena_t         ar;
    sweep_stats_t        st;
    struct dirent       *de;
    hoop_kafka_alloc_t   a;
    hoop_authz_plan_t   *plan;
    hoop_authz_result_t  res;
    hoop_authz_conf_t    conf;
    hoop_kafka_node_t   *req, *resp;
    int                  err, frames, filtered;

    static const pol_mode_t  modes[] = {
        POL_ALLOW, POL_DENY, POL_TOPICS, POL_GROUPS
    };

    (void) state;

    memset(&ar, 0, sizeof(ar));
    memset(&st, 0, sizeof(st));
    a = test_arena_allocator(&ar);
    frames = filtered = 0;

    d = opendir(frames_dir);
    if (d == NULL) {
        skip();
    }

    while ((de = readdir(d)) != NULL) {
        if (sscanf(de->d_name, "%63[A-Za-z]-v%d-%7[a-z]-%d.bin", api, &v, dir,
                   &i) != 4
            || strcmp(dir, "req") != 0)
        {
            continue;
        }

        key = api_key_of(api, strlen(api));

        if (key < 0
            || !hoop_authz_supported_ex((int16_t) key, (int16_t) v,
                                        HOOP_AUTHZ_TOPIC_IDS))
        {
            continue;
        }

        frames++;
        snprintf(resp_name, sizeof(resp_name), "%s-v%d-resp-%d.bin", api, v,
                 i);

        for (m = 0; m < 4; m++) {
            memset(&pol, 0, sizeof(pol));
            pol.mode = modes[m];
            keep = rkeep = NULL;

            req = decode_frame(&a, de->d_name, (int16_t) key, (int16_t) v, 0,
                               &keep);
            assert_non_null(req);

            conf = conf_of(&pol, 1);
            plan = hoop_authz_plan(&a, &conf, (int16_t) key, (int16_t) v,
                                   req, &res, &err);
            if (plan == NULL) {
                fail_msg("%s: plan failed (%d)", de->d_name, err);
            }

            st.plans++;

            if (modes[m] == POL_ALLOW && res.action != HOOP_AUTHZ_ALLOW) {
                fail_msg("%s: %s with everything allowed", de->d_name,
                         action_name(res.action));
            }

            if (res.action == HOOP_AUTHZ_DENY) {
                if (res.no_response) {
                    assert_true(res.close);
                    assert_int_equal(hoop_authz_build_denied_response(plan,
                                                                  &resp),
                                     HOOP_AUTHZ_EINVALID);
                } else {
                    (void) check_answer(&ar, &a, plan, (int16_t) key,
                                        (int16_t) v);
                    st.answers++;
                }

                free(keep);
                continue;
            }

            if (res.action == HOOP_AUTHZ_PARTIAL) {
                (void) round_trip(&ar, &a, req, (int16_t) key, (int16_t) v,
                                  0, NULL);
                st.partials++;
            }

            if (res.response) {
                resp = decode_frame(&a, resp_name, (int16_t) key,
                                    (int16_t) v, 1, &rkeep);

                if (resp != NULL) {
                    rc = hoop_authz_response(plan, NULL, resp);
                    assert_true(rc >= 0);
                    (void) round_trip(&ar, &a, resp, (int16_t) key,
                                      (int16_t) v, 1, NULL);
                    filtered++;
                }
            }

            free(rkeep);
            free(keep);
        }
    }

    closedir(d);

    print_message("   %d request frames, %d plans, %d answers, %d partial, "
                  "%d responses merged or filtered\n", frames, st.plans,
                  st.answers, st.partials, filtered);

    assert_true(frames > 0);

    test_arena_reset(&ar);
}


/* ----------------------------------------------------------------------
 * Rule by rule
 */

typedef struct {
    test_arena_t         ar;
    hoop_kafka_alloc_t   a;
    pol_t                pol;
    hoop_authz_conf_t    conf;
    hoop_authz_result_t  res;
    hoop_authz_plan_t   *plan;
    int                  err;
} fx_t;


static fx_t *
fx_new(pol_mode_t mode)
{
    fx_t  *fx;

    fx = calloc(1, sizeof(fx_t));
    assert_non_null(fx);

    fx->a = test_arena_allocator(&fx->ar);
    fx->pol.mode = mode;
    fx->conf = conf_of(&fx->pol, 1);

    return fx;
}


static void
fx_free(fx_t *fx)
{
    test_arena_reset(&fx->ar);
    free(fx);
}


static hoop_kafka_node_t *
mk(fx_t *fx, int16_t key, int16_t v, int is_response)
{
    hoop_kafka_node_t  *n;

    assert_int_equal(hoop_kafka_build(&fx->a, key, v, is_response, &n),
                     HOOP_KAFKA_OK);
    return n;
}


static hoop_kafka_node_t *
add(fx_t *fx, hoop_kafka_node_t *parent, const char *array)
{
    hoop_kafka_node_t  *e;

    e = hoop_kafka_array_append(&fx->a, child(parent, array));
    assert_non_null(e);

    return e;
}


static void
add_str(fx_t *fx, hoop_kafka_node_t *parent, const char *array,
    const char *v)
{
    hoop_kafka_node_t  *e;

    e = add(fx, parent, array);
    assert_int_equal(hoop_kafka_node_set_string(e, (const uint8_t *) v,
                                                strlen(v)), 0);
}


static void
add_int(fx_t *fx, hoop_kafka_node_t *parent, const char *array, int64_t v)
{
    hoop_kafka_node_t  *e;

    e = add(fx, parent, array);
    assert_int_equal(hoop_kafka_node_set_int(e, v), 0);
}


static void
set_id(fx_t *fx, hoop_kafka_node_t *n, const char *field, const char *name)
{
    uint8_t            *id;
    hoop_kafka_node_t  *c;

    id = test_arena_alloc(&fx->ar, 16);
    assert_non_null(id);
    make_id(id, name);

    c = child(n, field);
    assert_non_null(c);
    c->u.bytes.data = id;
    c->u.bytes.len = 16;
}


static int
id_is(hoop_kafka_node_t *n, const char *field, const char *name)
{
    size_t          len;
    uint8_t         id[16];
    const uint8_t  *b;

    make_id(id, name);
    b = hoop_kafka_node_bytes(child(n, field), &len);

    return b != NULL && len == 16 && memcmp(b, id, 16) == 0;
}


static hoop_authz_plan_t *
fx_plan(fx_t *fx, int16_t key, int16_t v, hoop_kafka_node_t *req)
{
    fx->plan = hoop_authz_plan(&fx->a, &fx->conf, key, v, req, &fx->res,
                               &fx->err);
    if (fx->plan == NULL) {
        fail_msg("%s v%d: plan failed (%d)", hoop_kafka_api_name(key), v,
                 fx->err);
    }

    return fx->plan;
}


static hoop_kafka_node_t *
fx_answer(fx_t *fx, int16_t key, int16_t v)
{
    assert_int_equal(fx->res.action, HOOP_AUTHZ_DENY);

    return check_answer(&fx->ar, &fx->a, fx->plan, key, v);
}


/* a topic with partitions 0..n-1 */
static hoop_kafka_node_t *
add_topic(fx_t *fx, hoop_kafka_node_t *parent, const char *array,
    const char *name_field, const char *name, const char *parts,
    const char *index, int n)
{
    int                 i;
    hoop_kafka_node_t  *t, *pe;

    t = add(fx, parent, array);

    if (name_field != NULL) {
        set_str(t, name_field, name);
    }

    for (i = 0; i < n && parts; i++) {
        if (index == NULL) {
            add_int(fx, t, parts, i);
        } else {
            pe = add(fx, t, parts);
            set_int(pe, index, i);
        }
    }

    return t;
}


static const hoop_authz_check_t *
find_check(hoop_authz_plan_t *plan, hoop_policy_res_t type, const char *name,
    hoop_policy_op_t op)
{
    size_t                     i, n;
    const hoop_authz_check_t  *c;

    c = hoop_authz_checks(plan, &n);

    for (i = 0; i < n; i++) {
        if (c[i].type == type && c[i].op == op
            && ((name == NULL && c[i].name == NULL)
                || (name != NULL && c[i].name != NULL
                    && c[i].len == strlen(name)
                    && memcmp(c[i].name, name, c[i].len) == 0)))
        {
            return &c[i];
        }
    }

    return NULL;
}


/* 61-byte record batch header, magic 2, attributes attr */
static const uint8_t *
batch(fx_t *fx, int attr)
{
    uint8_t  *b;

    b = test_arena_alloc(&fx->ar, 61);
    assert_non_null(b);
    memset(b, 0, 61);
    b[11] = 49;                 /* batchLength: 61 - 12 */
    b[16] = 2;                  /* magic */
    b[22] = (uint8_t) attr;     /* attributes, low byte */

    return b;
}


static void
test_produce(void **state)
{
    fx_t                      *fx;
    hoop_kafka_node_t         *req, *resp, *t, *pe;
    const hoop_authz_check_t  *c;

    (void) state;

    /* partial: the denied topic comes back with Kafka's values */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_PRODUCE, 9, 0);
    set_int(req, "Acks", -1);
    add_topic(fx, req, "TopicData", "Name", "a-t1", "PartitionData", "Index",
              2);
    add_topic(fx, req, "TopicData", "Name", "d-t2", "PartitionData", "Index",
              1);
    add_topic(fx, req, "TopicData", "Name", "a-t1", "PartitionData", "Index",
              1);

    fx_plan(fx, HOOP_KAFKA_API_PRODUCE, 9, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_true(fx->res.rewritten && fx->res.response);
    assert_int_equal(fx->res.denied, 1);
    assert_int_equal(fx->res.error, 29);
    assert_int_equal(hoop_kafka_node_count(child(req, "TopicData")), 2);

    c = find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "a-t1",
                   HOOP_POLICY_OP_WRITE);
    assert_non_null(c);
    assert_int_equal(c->count, 2);          /* one decision, two uses */
    assert_true(c->allowed);
    assert_true(c->node == nth(child(req, "TopicData"), 0));
    assert_int_equal(fx->pol.calls, 2);

    resp = mk(fx, HOOP_KAFKA_API_PRODUCE, 9, 1);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    resp = round_trip(&fx->ar, &fx->a, resp, HOOP_KAFKA_API_PRODUCE, 9, 1,
                      NULL);
    t = nth(child(resp, "Responses"), 0);
    assert_true(str_is(t, "Name", "d-t2"));
    pe = nth(child(t, "PartitionResponses"), 0);
    assert_int_equal(get_int(pe, "ErrorCode"), 29);
    assert_int_equal(get_int(pe, "BaseOffset"), -1);
    assert_int_equal(get_int(pe, "LogAppendTimeMs"), -1);
    assert_int_equal(get_int(pe, "LogStartOffset"), -1);
    assert_true(str_is(pe, "ErrorMessage", "Topic authorization failed."));
    fx_free(fx);

    /* a transactional id: never partly forwarded */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_PRODUCE, 9, 0);
    set_int(req, "Acks", -1);
    set_str(req, "TransactionalId", "a-x");
    add_topic(fx, req, "TopicData", "Name", "a-t1", "PartitionData", "Index",
              2);
    add_topic(fx, req, "TopicData", "Name", "d-t2", "PartitionData", "Index",
              1);
    fx_plan(fx, HOOP_KAFKA_API_PRODUCE, 9, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_PRODUCE, 9);
    assert_int_equal(fx->res.error, 29);
    t = nth(child(resp, "Responses"), 0);
    assert_true(str_is(t, "Name", "a-t1"));
    assert_int_equal(hoop_kafka_node_count(child(t, "PartitionResponses")),
                     2);
    assert_int_equal(get_int(nth(child(t, "PartitionResponses"), 1),
                             "ErrorCode"), 55);
    t = nth(child(resp, "Responses"), 1);
    assert_int_equal(get_int(nth(child(t, "PartitionResponses"), 0),
                             "ErrorCode"), 29);
    /* no transactional records: the id itself is not checked (Kafka) */
    assert_null(find_check(fx->plan, HOOP_POLICY_RES_TRANSACTIONAL_ID,
                           "a-x", HOOP_POLICY_OP_WRITE));
    fx_free(fx);

    /* transactional records: WRITE on the transactional id */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_PRODUCE, 11, 0);
    set_int(req, "Acks", -1);
    set_str(req, "TransactionalId", "d-x");
    t = add_topic(fx, req, "TopicData", "Name", "a-t1", "PartitionData",
                  "Index", 1);
    pe = nth(child(t, "PartitionData"), 0);
    assert_int_equal(hoop_kafka_node_set_string(child(pe, "Records"),
                                                batch(fx, 0x10), 61), 0);
    fx_plan(fx, HOOP_KAFKA_API_PRODUCE, 11, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_PRODUCE, 11);
    assert_int_equal(fx->res.error, 53);
    pe = nth(child(nth(child(resp, "Responses"), 0), "PartitionResponses"),
             0);
    assert_int_equal(get_int(pe, "ErrorCode"), 53);
    assert_true(str_is(pe, "ErrorMessage",
                       "Transactional Id authorization failed."));
    c = find_check(fx->plan, HOOP_POLICY_RES_TRANSACTIONAL_ID, "d-x",
                   HOOP_POLICY_OP_WRITE);
    assert_non_null(c);
    assert_false(c->allowed);
    assert_null(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "a-t1",
                           HOOP_POLICY_OP_WRITE));

    /* ... and without a transactional id: refused by rule */
    set_str(req, "TransactionalId", NULL);
    fx_plan(fx, HOOP_KAFKA_API_PRODUCE, 11, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_DENY);
    c = find_check(fx->plan, HOOP_POLICY_RES_TRANSACTIONAL_ID, "",
                   HOOP_POLICY_OP_WRITE);
    assert_non_null(c);
    assert_true(c->flags & HOOP_AUTHZ_CHECK_IMPLICIT);

    /* an idempotent (not transactional) batch: topics only */
    pe = nth(child(nth(child(req, "TopicData"), 0), "PartitionData"), 0);
    assert_int_equal(hoop_kafka_node_set_string(child(pe, "Records"),
                                                batch(fx, 0x00), 61), 0);
    fx_plan(fx, HOOP_KAFKA_API_PRODUCE, 11, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    fx_free(fx);

    /* acks=0: no response; Kafka closes the connection on a denial */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_PRODUCE, 9, 0);
    set_int(req, "Acks", 0);
    add_topic(fx, req, "TopicData", "Name", "a-t1", "PartitionData", "Index",
              1);
    add_topic(fx, req, "TopicData", "Name", "d-t2", "PartitionData", "Index",
              1);
    fx_plan(fx, HOOP_KAFKA_API_PRODUCE, 9, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_true(fx->res.no_response && fx->res.close);
    assert_false(fx->res.response);

    fx->pol.mode = POL_DENY;
    fx_plan(fx, HOOP_KAFKA_API_PRODUCE, 9, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_DENY);
    assert_true(fx->res.close);
    assert_int_equal(hoop_authz_build_denied_response(fx->plan, &resp),
                     HOOP_AUTHZ_EINVALID);
    fx_free(fx);
}


static void
test_fetch(void **state)
{
    fx_t               *fx;
    hoop_kafka_node_t  *req, *resp, *t, *pe;
    static const pol_rule_t  no_cluster_action[] = {
        { HOOP_POLICY_RES_CLUSTER, NULL, HOOP_POLICY_OP_CLUSTER_ACTION }
    };

    (void) state;

    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_FETCH, 12, 0);
    set_int(req, "SessionId", 7);
    set_int(req, "SessionEpoch", 3);
    add_topic(fx, req, "Topics", "Topic", "a-t1", "Partitions", "Partition",
              1);
    add_topic(fx, req, "Topics", "Topic", "d-t2", "Partitions", "Partition",
              2);
    fx_plan(fx, HOOP_KAFKA_API_FETCH, 12, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_int_equal(get_int(req, "SessionId"), 0);
    assert_int_equal(get_int(req, "SessionEpoch"), -1);

    resp = mk(fx, HOOP_KAFKA_API_FETCH, 12, 1);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    resp = round_trip(&fx->ar, &fx->a, resp, HOOP_KAFKA_API_FETCH, 12, 1,
                      NULL);
    t = nth(child(resp, "Responses"), 0);
    assert_true(str_is(t, "Topic", "d-t2"));
    assert_int_equal(hoop_kafka_node_count(child(t, "Partitions")), 2);
    pe = nth(child(t, "Partitions"), 1);
    assert_int_equal(get_int(pe, "PartitionIndex"), 1);
    assert_int_equal(get_int(pe, "ErrorCode"), 29);
    assert_int_equal(get_int(pe, "HighWatermark"), -1);
    assert_int_equal(get_int(pe, "LastStableOffset"), -1);
    assert_int_equal(get_int(pe, "LogStartOffset"), -1);
    assert_false(hoop_kafka_node_is_null(child(pe, "Records")));

    /* sessions kept on request */
    fx->conf.flags = HOOP_AUTHZ_KEEP_FETCH_SESSIONS;
    set_int(req, "SessionId", 7);
    set_int(req, "SessionEpoch", 3);
    fx->pol.mode = POL_ALLOW;
    fx_plan(fx, HOOP_KAFKA_API_FETCH, 12, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    assert_false(fx->res.rewritten);
    assert_int_equal(get_int(req, "SessionId"), 7);

    /* a follower: CLUSTER_ACTION, nothing per topic */
    set_int(req, "ReplicaId", 1);
    fx->pol.mode = POL_LIST;
    fx->pol.deny = no_cluster_action;
    fx->pol.ndeny = 1;
    fx_plan(fx, HOOP_KAFKA_API_FETCH, 12, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_FETCH, 12);
    assert_int_equal(get_int(nth(child(nth(child(resp, "Responses"), 0),
                                       "Partitions"), 0), "ErrorCode"), 29);
    assert_null(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "a-t1",
                           HOOP_POLICY_OP_READ));

    fx->pol.ndeny = 0;
    fx_plan(fx, HOOP_KAFKA_API_FETCH, 12, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    fx_free(fx);

    /* v13+: topic ids, resolved; unknown ids answered UNKNOWN_TOPIC_ID */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_FETCH, 16, 0);
    t = add_topic(fx, req, "Topics", NULL, NULL, "Partitions", "Partition",
                  1);
    set_id(fx, t, "TopicId", "a-t1");
    t = add_topic(fx, req, "Topics", NULL, NULL, "Partitions", "Partition",
                  1);
    set_id(fx, t, "TopicId", "u-t9");
    t = add_topic(fx, req, "Topics", NULL, NULL, "Partitions", "Partition",
                  1);
    set_id(fx, t, "TopicId", "d-t2");
    fx_plan(fx, HOOP_KAFKA_API_FETCH, 16, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_int_equal(fx->res.denied, 2);
    assert_int_equal(fx->res.error, 100);
    assert_int_equal(hoop_kafka_node_count(child(req, "Topics")), 1);
    assert_non_null(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "a-t1",
                               HOOP_POLICY_OP_READ));

    resp = mk(fx, HOOP_KAFKA_API_FETCH, 16, 1);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    resp = round_trip(&fx->ar, &fx->a, resp, HOOP_KAFKA_API_FETCH, 16, 1,
                      NULL);
    t = nth(child(resp, "Responses"), 0);
    assert_true(id_is(t, "TopicId", "u-t9"));
    assert_int_equal(get_int(nth(child(t, "Partitions"), 0), "ErrorCode"),
                     100);
    t = nth(child(resp, "Responses"), 1);
    assert_true(id_is(t, "TopicId", "d-t2"));
    assert_int_equal(get_int(nth(child(t, "Partitions"), 0), "ErrorCode"),
                     29);

    /* without a resolver the version is not handled */
    fx->conf.resolve = NULL;
    assert_null(hoop_authz_plan(&fx->a, &fx->conf, HOOP_KAFKA_API_FETCH, 16,
                                req, &fx->res, &fx->err));
    assert_int_equal(fx->err, HOOP_AUTHZ_EUNSUPPORTED);
    fx_free(fx);
}


static void
test_init_producer_id(void **state)
{
    fx_t                      *fx;
    hoop_kafka_node_t         *req, *resp;
    const hoop_authz_check_t  *c;
    static const pol_rule_t    no_idempotent[] = {
        { HOOP_POLICY_RES_CLUSTER, NULL, HOOP_POLICY_OP_IDEMPOTENT_WRITE }
    };
    static const pol_rule_t    nothing[] = {
        { HOOP_POLICY_RES_CLUSTER, NULL, HOOP_POLICY_OP_UNKNOWN },
        { HOOP_POLICY_RES_TOPIC, NULL, HOOP_POLICY_OP_UNKNOWN }
    };
    static const pol_rule_t    no_2pc[] = {
        { HOOP_POLICY_RES_TRANSACTIONAL_ID, NULL,
          HOOP_POLICY_OP_TWO_PHASE_COMMIT }
    };

    (void) state;

    /* KIP-679: WRITE on some topic is enough for an idempotent producer */
    fx = fx_new(POL_LIST);
    fx->pol.deny = no_idempotent;
    fx->pol.ndeny = 1;
    req = mk(fx, HOOP_KAFKA_API_INIT_PRODUCER_ID, 5, 0);
    set_str(req, "TransactionalId", NULL);
    fx_plan(fx, HOOP_KAFKA_API_INIT_PRODUCER_ID, 5, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    assert_int_equal(fx->pol.any_calls, 1);
    c = find_check(fx->plan, HOOP_POLICY_RES_CLUSTER, "kafka-cluster",
                   HOOP_POLICY_OP_IDEMPOTENT_WRITE);
    assert_non_null(c);
    assert_true(c->flags & HOOP_AUTHZ_CHECK_QUIET);
    c = find_check(fx->plan, HOOP_POLICY_RES_TOPIC, NULL,
                   HOOP_POLICY_OP_WRITE);
    assert_non_null(c);
    assert_true(c->allowed);

    fx->pol.deny = nothing;
    fx->pol.ndeny = 2;
    fx_plan(fx, HOOP_KAFKA_API_INIT_PRODUCER_ID, 5, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_INIT_PRODUCER_ID, 5);
    assert_int_equal(get_int(resp, "ErrorCode"), 31);
    assert_int_equal(get_int(resp, "ProducerId"), -1);
    assert_int_equal(get_int(resp, "ProducerEpoch"), -1);

    /* KIP-939: TWO_PHASE_COMMIT as well when 2PC is asked */
    req = mk(fx, HOOP_KAFKA_API_INIT_PRODUCER_ID, 6, 0);
    set_str(req, "TransactionalId", "a-x");
    set_int(req, "Enable2Pc", 1);
    fx->pol.deny = no_2pc;
    fx->pol.ndeny = 1;
    fx_plan(fx, HOOP_KAFKA_API_INIT_PRODUCER_ID, 6, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_INIT_PRODUCER_ID, 6);
    assert_int_equal(get_int(resp, "ErrorCode"), 53);
    assert_non_null(find_check(fx->plan, HOOP_POLICY_RES_TRANSACTIONAL_ID,
                               "a-x", HOOP_POLICY_OP_WRITE));

    set_int(req, "Enable2Pc", 0);
    fx_plan(fx, HOOP_KAFKA_API_INIT_PRODUCER_ID, 6, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    fx_free(fx);
}


static hoop_kafka_node_t *
add_meta_topic(fx_t *fx, hoop_kafka_node_t *resp, const char *name,
    int16_t error)
{
    hoop_kafka_node_t  *t;

    t = add(fx, resp, "Topics");
    set_str(t, "Name", name);
    set_int(t, "ErrorCode", error);

    return t;
}


static void
test_metadata(void **state)
{
    fx_t               *fx;
    hoop_kafka_node_t  *req, *resp, *t;
    static const pol_rule_t  no_create[] = {
        { HOOP_POLICY_RES_CLUSTER, NULL, HOOP_POLICY_OP_CREATE },
        { HOOP_POLICY_RES_TOPIC, "a-t3", HOOP_POLICY_OP_CREATE }
    };

    (void) state;

    /* all topics: those the caller may not DESCRIBE disappear */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_METADATA, 12, 0);
    child(req, "Topics")->flags |= HOOP_KAFKA_NODE_NULL;
    fx_plan(fx, HOOP_KAFKA_API_METADATA, 12, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    assert_true(fx->res.response);

    resp = mk(fx, HOOP_KAFKA_API_METADATA, 12, 1);
    add_meta_topic(fx, resp, "a-t1", 0);
    add_meta_topic(fx, resp, "d-t2", 0);
    add_meta_topic(fx, resp, "a-t3", 0);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    assert_int_equal(hoop_kafka_node_count(child(resp, "Topics")), 2);
    assert_true(str_is(nth(child(resp, "Topics"), 1), "Name", "a-t3"));
    assert_true(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "d-t2",
                           HOOP_POLICY_OP_DESCRIBE)->flags
                & HOOP_AUTHZ_CHECK_RESPONSE);
    fx_free(fx);

    /* listed: denied topics answered TOPIC_AUTHORIZATION_FAILED */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_METADATA, 9, 0);
    set_str(add(fx, req, "Topics"), "Name", "a-t1");
    set_str(add(fx, req, "Topics"), "Name", "d-t2");
    fx_plan(fx, HOOP_KAFKA_API_METADATA, 9, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_int_equal(hoop_kafka_node_count(child(req, "Topics")), 1);
    /* cluster CREATE denied, topic CREATE allowed: auto-creation stays */
    assert_int_equal(get_int(req, "AllowAutoTopicCreation"), 1);
    assert_non_null(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "a-t1",
                               HOOP_POLICY_OP_CREATE));

    resp = mk(fx, HOOP_KAFKA_API_METADATA, 9, 1);
    add_meta_topic(fx, resp, "a-t1", 0);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    resp = round_trip(&fx->ar, &fx->a, resp, HOOP_KAFKA_API_METADATA, 9, 1,
                      NULL);
    t = nth(child(resp, "Topics"), 1);
    assert_true(str_is(t, "Name", "d-t2"));
    assert_int_equal(get_int(t, "ErrorCode"), 29);
    assert_int_equal(get_int(t, "IsInternal"), 0);
    assert_int_equal(hoop_kafka_node_count(child(t, "Partitions")), 0);

    /* all listed topics denied: forwarded with none (brokers, cluster) */
    fx->pol.mode = POL_DENY;
    req = mk(fx, HOOP_KAFKA_API_METADATA, 9, 0);
    set_str(add(fx, req, "Topics"), "Name", "d-t2");
    fx_plan(fx, HOOP_KAFKA_API_METADATA, 9, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_false(hoop_kafka_node_is_null(child(req, "Topics")));
    assert_int_equal(hoop_kafka_node_count(child(req, "Topics")), 0);
    fx_free(fx);

    /* auto-creation without CREATE: off, and a topic that does not exist
     * is TOPIC_AUTHORIZATION_FAILED */
    fx = fx_new(POL_LIST);
    fx->pol.deny = no_create;
    fx->pol.ndeny = 2;
    req = mk(fx, HOOP_KAFKA_API_METADATA, 11, 0);
    set_str(add(fx, req, "Topics"), "Name", "a-t3");
    set_str(add(fx, req, "Topics"), "Name", "a-t4");
    fx_plan(fx, HOOP_KAFKA_API_METADATA, 11, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    assert_true(fx->res.rewritten && fx->res.response);
    assert_int_equal(get_int(req, "AllowAutoTopicCreation"), 0);
    assert_true(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "a-t3",
                           HOOP_POLICY_OP_CREATE)->flags
                & HOOP_AUTHZ_CHECK_IF_ABSENT);

    resp = mk(fx, HOOP_KAFKA_API_METADATA, 11, 1);
    add_meta_topic(fx, resp, "a-t3", 3);
    add_meta_topic(fx, resp, "a-t4", 3);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    assert_int_equal(get_int(nth(child(resp, "Topics"), 0), "ErrorCode"),
                     29);
    assert_int_equal(get_int(nth(child(resp, "Topics"), 1), "ErrorCode"), 3);

    /* the broker does not auto-create: no CREATE checks */
    fx->conf.flags = HOOP_AUTHZ_NO_AUTO_CREATE;
    set_int(req, "AllowAutoTopicCreation", 1);
    fx_plan(fx, HOOP_KAFKA_API_METADATA, 11, req);
    assert_false(fx->res.rewritten);
    assert_null(find_check(fx->plan, HOOP_POLICY_RES_CLUSTER,
                           "kafka-cluster", HOOP_POLICY_OP_CREATE));
    fx_free(fx);

    /* v12: by id; names ignored, unknown ids UNKNOWN_TOPIC_ID, denied ids
     * without their name */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_METADATA, 12, 0);
    t = add(fx, req, "Topics");
    set_id(fx, t, "TopicId", "a-t1");
    t = add(fx, req, "Topics");
    set_id(fx, t, "TopicId", "u-t9");
    t = add(fx, req, "Topics");
    set_id(fx, t, "TopicId", "d-t2");
    set_str(add(fx, req, "Topics"), "Name", "d-t3");
    fx_plan(fx, HOOP_KAFKA_API_METADATA, 12, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_int_equal(fx->res.denied, 2);
    assert_int_equal(hoop_kafka_node_count(child(req, "Topics")), 2);
    assert_null(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "d-t3",
                           HOOP_POLICY_OP_DESCRIBE));

    resp = mk(fx, HOOP_KAFKA_API_METADATA, 12, 1);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    resp = round_trip(&fx->ar, &fx->a, resp, HOOP_KAFKA_API_METADATA, 12, 1,
                      NULL);
    t = nth(child(resp, "Topics"), 0);
    assert_true(str_is(t, "Name", NULL));
    assert_true(id_is(t, "TopicId", "u-t9"));
    assert_int_equal(get_int(t, "ErrorCode"), 100);
    t = nth(child(resp, "Topics"), 1);
    assert_true(str_is(t, "Name", NULL));
    assert_true(id_is(t, "TopicId", "d-t2"));
    assert_int_equal(get_int(t, "ErrorCode"), 29);

    /* ... and when no id is left, the ignored names go too */
    fx->pol.mode = POL_DENY;
    req = mk(fx, HOOP_KAFKA_API_METADATA, 12, 0);
    t = add(fx, req, "Topics");
    set_id(fx, t, "TopicId", "d-t2");
    set_str(add(fx, req, "Topics"), "Name", "a-t3");
    fx_plan(fx, HOOP_KAFKA_API_METADATA, 12, req);
    assert_int_equal(hoop_kafka_node_count(child(req, "Topics")), 0);
    fx_free(fx);

    /* KIP-430: authorized operations for the caller, not the gateway */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_METADATA, 10, 0);
    set_str(add(fx, req, "Topics"), "Name", "a-t1");
    set_int(req, "IncludeTopicAuthorizedOperations", 1);
    set_int(req, "IncludeClusterAuthorizedOperations", 1);
    set_int(req, "AllowAutoTopicCreation", 0);
    fx_plan(fx, HOOP_KAFKA_API_METADATA, 10, req);
    assert_true(fx->res.response);
    resp = mk(fx, HOOP_KAFKA_API_METADATA, 10, 1);
    t = add_meta_topic(fx, resp, "a-t1", 0);
    set_int(t, "TopicAuthorizedOperations", 0xffff);
    set_int(resp, "ClusterAuthorizedOperations", 0xffff);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    /* READ WRITE CREATE DELETE ALTER DESCRIBE DESCRIBE_CONFIGS
     * ALTER_CONFIGS: bits 3-8, 10, 11 */
    assert_int_equal(get_int(t, "TopicAuthorizedOperations"), 0xdf8);
    /* DENY_D on the cluster: ALTER DESCRIBE DESCRIBE_CONFIGS
     * ALTER_CONFIGS */
    assert_int_equal(get_int(resp, "ClusterAuthorizedOperations"), 0xd80);
    assert_true(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "a-t1",
                           HOOP_POLICY_OP_ALTER)->flags
                & HOOP_AUTHZ_CHECK_OPS);
    fx_free(fx);
}


static void
test_offset_fetch(void **state)
{
    fx_t               *fx;
    hoop_kafka_node_t  *req, *resp, *g, *t, *pe;

    (void) state;

    /* v8: per group, then per topic inside the allowed group */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_OFFSET_FETCH, 8, 0);
    g = add(fx, req, "Groups");
    set_str(g, "GroupId", "a-g1");
    add_topic(fx, g, "Topics", "Name", "a-t1", "PartitionIndexes", NULL, 1);
    add_topic(fx, g, "Topics", "Name", "d-t2", "PartitionIndexes", NULL, 2);
    g = add(fx, req, "Groups");
    set_str(g, "GroupId", "d-g2");
    fx_plan(fx, HOOP_KAFKA_API_OFFSET_FETCH, 8, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_int_equal(fx->res.denied, 2);
    assert_int_equal(hoop_kafka_node_count(child(req, "Groups")), 1);
    assert_int_equal(hoop_kafka_node_count(
                         child(nth(child(req, "Groups"), 0), "Topics")), 1);

    resp = mk(fx, HOOP_KAFKA_API_OFFSET_FETCH, 8, 1);
    g = add(fx, resp, "Groups");
    set_str(g, "GroupId", "a-g1");
    set_str(add(fx, g, "Topics"), "Name", "a-t1");
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    resp = round_trip(&fx->ar, &fx->a, resp, HOOP_KAFKA_API_OFFSET_FETCH, 8,
                      1, NULL);
    g = nth(child(resp, "Groups"), 0);
    t = nth(child(g, "Topics"), 1);
    assert_true(str_is(t, "Name", "d-t2"));
    pe = nth(child(t, "Partitions"), 1);
    assert_int_equal(get_int(pe, "PartitionIndex"), 1);
    assert_int_equal(get_int(pe, "ErrorCode"), 29);
    assert_int_equal(get_int(pe, "CommittedOffset"), -1);
    g = nth(child(resp, "Groups"), 1);
    assert_true(str_is(g, "GroupId", "d-g2"));
    assert_int_equal(get_int(g, "ErrorCode"), 30);
    fx_free(fx);

    /* a group the broker answered with an error gets nothing merged */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_OFFSET_FETCH, 9, 0);
    g = add(fx, req, "Groups");
    set_str(g, "GroupId", "a-g1");
    add_topic(fx, g, "Topics", "Name", "d-t2", "PartitionIndexes", NULL, 1);
    fx_plan(fx, HOOP_KAFKA_API_OFFSET_FETCH, 9, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    resp = mk(fx, HOOP_KAFKA_API_OFFSET_FETCH, 9, 1);
    g = add(fx, resp, "Groups");
    set_str(g, "GroupId", "a-g1");
    set_int(g, "ErrorCode", 16);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 0);
    assert_int_equal(hoop_kafka_node_count(child(g, "Topics")), 0);
    fx_free(fx);

    /* v7, all partitions: filtered */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_OFFSET_FETCH, 7, 0);
    set_str(req, "GroupId", "a-g1");
    child(req, "Topics")->flags |= HOOP_KAFKA_NODE_NULL;
    fx_plan(fx, HOOP_KAFKA_API_OFFSET_FETCH, 7, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    assert_true(fx->res.response);
    resp = mk(fx, HOOP_KAFKA_API_OFFSET_FETCH, 7, 1);
    set_str(add(fx, resp, "Topics"), "Name", "d-t2");
    set_str(add(fx, resp, "Topics"), "Name", "a-t1");
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    assert_int_equal(hoop_kafka_node_count(child(resp, "Topics")), 1);
    assert_true(str_is(nth(child(resp, "Topics"), 0), "Name", "a-t1"));

    /* v7 group denied: the error at the top, no topics */
    set_str(req, "GroupId", "d-g1");
    fx_plan(fx, HOOP_KAFKA_API_OFFSET_FETCH, 7, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_OFFSET_FETCH, 7);
    assert_int_equal(get_int(resp, "ErrorCode"), 30);
    assert_int_equal(hoop_kafka_node_count(child(resp, "Topics")), 0);
    fx_free(fx);

    /* v1 has no top-level error: in every partition */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_OFFSET_FETCH, 1, 0);
    set_str(req, "GroupId", "d-g1");
    add_topic(fx, req, "Topics", "Name", "a-t1", "PartitionIndexes", NULL, 2);
    fx_plan(fx, HOOP_KAFKA_API_OFFSET_FETCH, 1, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_OFFSET_FETCH, 1);
    t = nth(child(resp, "Topics"), 0);
    pe = nth(child(t, "Partitions"), 1);
    assert_int_equal(get_int(pe, "ErrorCode"), 30);
    assert_int_equal(get_int(pe, "CommittedOffset"), -1);
    /* the group decides first: no topic asked */
    assert_null(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "a-t1",
                           HOOP_POLICY_OP_DESCRIBE));
    fx_free(fx);
}


static void
test_find_coordinator(void **state)
{
    fx_t               *fx;
    hoop_kafka_node_t  *req, *resp, *c;
    static const pol_rule_t  no_cluster_action[] = {
        { HOOP_POLICY_RES_CLUSTER, NULL, HOOP_POLICY_OP_CLUSTER_ACTION }
    };

    (void) state;

    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_FIND_COORDINATOR, 4, 0);
    add_str(fx, req, "CoordinatorKeys", "a-g1");
    add_str(fx, req, "CoordinatorKeys", "d-g2");
    fx_plan(fx, HOOP_KAFKA_API_FIND_COORDINATOR, 4, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    resp = mk(fx, HOOP_KAFKA_API_FIND_COORDINATOR, 4, 1);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    c = nth(child(resp, "Coordinators"), 0);
    assert_true(str_is(c, "Key", "d-g2"));
    assert_int_equal(get_int(c, "ErrorCode"), 30);
    assert_int_equal(get_int(c, "NodeId"), -1);
    assert_int_equal(get_int(c, "Port"), -1);
    assert_true(str_is(c, "ErrorMessage", "Group authorization failed."));

    /* transaction coordinator, v3: one key */
    req = mk(fx, HOOP_KAFKA_API_FIND_COORDINATOR, 3, 0);
    set_str(req, "Key", "d-x");
    set_int(req, "KeyType", 1);
    fx_plan(fx, HOOP_KAFKA_API_FIND_COORDINATOR, 3, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_FIND_COORDINATOR, 3);
    assert_int_equal(get_int(resp, "ErrorCode"), 53);
    assert_int_equal(get_int(resp, "NodeId"), -1);
    assert_true(str_is(resp, "ErrorMessage",
                       "Transactional Id authorization failed."));
    assert_non_null(find_check(fx->plan, HOOP_POLICY_RES_TRANSACTIONAL_ID,
                               "d-x", HOOP_POLICY_OP_DESCRIBE));

    /* share coordinator, v6: CLUSTER_ACTION for the whole request */
    fx->pol.mode = POL_LIST;
    fx->pol.deny = no_cluster_action;
    fx->pol.ndeny = 1;
    req = mk(fx, HOOP_KAFKA_API_FIND_COORDINATOR, 6, 0);
    set_int(req, "KeyType", 2);
    add_str(fx, req, "CoordinatorKeys", "a-g1:x:0");
    add_str(fx, req, "CoordinatorKeys", "a-g2:x:1");
    fx_plan(fx, HOOP_KAFKA_API_FIND_COORDINATOR, 6, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_FIND_COORDINATOR, 6);
    assert_int_equal(hoop_kafka_node_count(child(resp, "Coordinators")), 2);
    assert_int_equal(get_int(nth(child(resp, "Coordinators"), 1),
                             "ErrorCode"), 31);

    /* an unknown key type: INVALID_REQUEST, as Kafka */
    set_int(req, "KeyType", 7);
    fx_plan(fx, HOOP_KAFKA_API_FIND_COORDINATOR, 6, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_FIND_COORDINATOR, 6);
    assert_int_equal(get_int(nth(child(resp, "Coordinators"), 0),
                             "ErrorCode"), 42);
    fx_free(fx);
}


static void
test_topics_admin(void **state)
{
    fx_t                *fx;
    hoop_kafka_node_t   *req, *resp, *t, *cfg;
    static const pol_rule_t  create[] = {
        { HOOP_POLICY_RES_CLUSTER, NULL, HOOP_POLICY_OP_CREATE },
        { HOOP_POLICY_RES_TOPIC, "d-t2", HOOP_POLICY_OP_CREATE },
        { HOOP_POLICY_RES_TOPIC, "a-t1", HOOP_POLICY_OP_DESCRIBE_CONFIGS }
    };
    static const pol_rule_t  del[] = {
        { HOOP_POLICY_RES_CLUSTER, NULL, HOOP_POLICY_OP_DELETE },
        { HOOP_POLICY_RES_TOPIC, "d-t2", HOOP_POLICY_OP_DELETE },
        { HOOP_POLICY_RES_TOPIC, "d-t3", HOOP_POLICY_OP_UNKNOWN }
    };

    (void) state;

    /* CreateTopics: CREATE, and configs only with DESCRIBE_CONFIGS */
    fx = fx_new(POL_LIST);
    fx->pol.deny = create;
    fx->pol.ndeny = 3;
    req = mk(fx, HOOP_KAFKA_API_CREATE_TOPICS, 7, 0);
    set_str(add(fx, req, "Topics"), "Name", "a-t1");
    set_str(add(fx, req, "Topics"), "Name", "d-t2");
    set_str(add(fx, req, "Topics"), "Name", "d-t5");
    set_str(add(fx, req, "Topics"), "Name", "d-t5");
    set_str(add(fx, req, "Topics"), "Name", "__cluster_metadata");
    fx_plan(fx, HOOP_KAFKA_API_CREATE_TOPICS, 7, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_int_equal(fx->res.denied, 1);
    assert_int_equal(hoop_kafka_node_count(child(req, "Topics")), 4);
    /* duplicates and the metadata topic go unchecked: Kafka refuses them
     * without creating anything */
    assert_null(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "d-t5",
                           HOOP_POLICY_OP_CREATE));
    assert_null(find_check(fx->plan, HOOP_POLICY_RES_TOPIC,
                           "__cluster_metadata", HOOP_POLICY_OP_CREATE));

    resp = mk(fx, HOOP_KAFKA_API_CREATE_TOPICS, 7, 1);
    t = add(fx, resp, "Topics");
    set_str(t, "Name", "a-t1");
    set_int(t, "NumPartitions", 3);
    set_int(t, "ReplicationFactor", 1);
    cfg = add(fx, t, "Configs");
    set_str(cfg, "Name", "retention.ms");
    set_str(cfg, "Value", "1");
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    resp = round_trip(&fx->ar, &fx->a, resp, HOOP_KAFKA_API_CREATE_TOPICS, 7,
                      1, NULL);
    t = nth(child(resp, "Topics"), 0);
    assert_int_equal(hoop_kafka_node_count(child(t, "Configs")), 0);
    assert_int_equal(get_int(t, "NumPartitions"), -1);
    assert_int_equal(get_int(t, "ReplicationFactor"), -1);
    assert_int_equal(get_int(t, "TopicConfigErrorCode"), 29);
    t = nth(child(resp, "Topics"), 1);
    assert_true(str_is(t, "Name", "d-t2"));
    assert_int_equal(get_int(t, "ErrorCode"), 29);
    assert_true(str_is(t, "ErrorMessage", "Authorization failed."));
    fx_free(fx);

    /* DeleteTopics v6: by name and by id */
    fx = fx_new(POL_LIST);
    fx->pol.deny = del;
    fx->pol.ndeny = 3;
    req = mk(fx, HOOP_KAFKA_API_DELETE_TOPICS, 6, 0);
    set_str(add(fx, req, "Topics"), "Name", "a-t1");
    set_id(fx, add(fx, req, "Topics"), "TopicId", "d-t2");
    set_id(fx, add(fx, req, "Topics"), "TopicId", "d-t3");
    set_id(fx, add(fx, req, "Topics"), "TopicId", "u-t4");
    t = add(fx, req, "Topics");
    set_str(t, "Name", "d-t3");
    set_id(fx, t, "TopicId", "d-t3");       /* both: INVALID_REQUEST */
    fx_plan(fx, HOOP_KAFKA_API_DELETE_TOPICS, 6, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_int_equal(fx->res.denied, 3);
    assert_int_equal(hoop_kafka_node_count(child(req, "Topics")), 2);

    resp = mk(fx, HOOP_KAFKA_API_DELETE_TOPICS, 6, 1);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    resp = round_trip(&fx->ar, &fx->a, resp, HOOP_KAFKA_API_DELETE_TOPICS, 6,
                      1, NULL);
    t = nth(child(resp, "Responses"), 0);       /* may DESCRIBE: named */
    assert_true(str_is(t, "Name", "d-t2"));
    assert_true(id_is(t, "TopicId", "d-t2"));
    assert_int_equal(get_int(t, "ErrorCode"), 29);
    t = nth(child(resp, "Responses"), 1);       /* may not: no name */
    assert_true(str_is(t, "Name", NULL));
    assert_true(id_is(t, "TopicId", "d-t3"));
    t = nth(child(resp, "Responses"), 2);
    assert_int_equal(get_int(t, "ErrorCode"), 100);
    fx_free(fx);

    /* DeleteRecords, CreatePartitions */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_DELETE_RECORDS, 2, 0);
    add_topic(fx, req, "Topics", "Name", "d-t1", "Partitions",
              "PartitionIndex", 1);
    fx_plan(fx, HOOP_KAFKA_API_DELETE_RECORDS, 2, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_DELETE_RECORDS, 2);
    t = nth(child(nth(child(resp, "Topics"), 0), "Partitions"), 0);
    assert_int_equal(get_int(t, "ErrorCode"), 29);
    assert_int_equal(get_int(t, "LowWatermark"), -1);
    assert_non_null(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "d-t1",
                               HOOP_POLICY_OP_DELETE));

    req = mk(fx, HOOP_KAFKA_API_CREATE_PARTITIONS, 3, 0);
    set_str(add(fx, req, "Topics"), "Name", "d-t1");
    fx_plan(fx, HOOP_KAFKA_API_CREATE_PARTITIONS, 3, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_CREATE_PARTITIONS, 3);
    assert_non_null(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "d-t1",
                               HOOP_POLICY_OP_ALTER));
    fx_free(fx);
}


static void
test_groups(void **state)
{
    fx_t               *fx;
    hoop_kafka_node_t  *req, *resp, *g, *m, *tp;
    static const pol_rule_t  no_cluster_describe[] = {
        { HOOP_POLICY_RES_CLUSTER, NULL, HOOP_POLICY_OP_DESCRIBE }
    };

    (void) state;

    /* ListGroups without DESCRIBE on the cluster: per group */
    fx = fx_new(POL_LIST);
    fx->pol.deny = no_cluster_describe;
    fx->pol.ndeny = 1;
    req = mk(fx, HOOP_KAFKA_API_LIST_GROUPS, 5, 0);
    fx_plan(fx, HOOP_KAFKA_API_LIST_GROUPS, 5, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    assert_true(fx->res.response);

    fx->pol.mode = POL_DENY_D;
    resp = mk(fx, HOOP_KAFKA_API_LIST_GROUPS, 5, 1);
    set_str(add(fx, resp, "Groups"), "GroupId", "a-g1");
    set_str(add(fx, resp, "Groups"), "GroupId", "d-g2");
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    assert_int_equal(hoop_kafka_node_count(child(resp, "Groups")), 1);

    fx->pol.mode = POL_ALLOW;
    fx_plan(fx, HOOP_KAFKA_API_LIST_GROUPS, 5, req);
    assert_false(fx->res.response);
    fx_free(fx);

    /* DescribeGroups: AuthorizedOperations for the caller */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_DESCRIBE_GROUPS, 5, 0);
    add_str(fx, req, "Groups", "a-g1");
    add_str(fx, req, "Groups", "d-g2");
    set_int(req, "IncludeAuthorizedOperations", 1);
    fx_plan(fx, HOOP_KAFKA_API_DESCRIBE_GROUPS, 5, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    resp = mk(fx, HOOP_KAFKA_API_DESCRIBE_GROUPS, 5, 1);
    g = add(fx, resp, "Groups");
    set_str(g, "GroupId", "a-g1");
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    /* READ DELETE DESCRIBE DESCRIBE_CONFIGS ALTER_CONFIGS */
    assert_int_equal(get_int(g, "AuthorizedOperations"), 0xd48);
    g = nth(child(resp, "Groups"), 1);
    assert_true(str_is(g, "GroupId", "d-g2"));
    assert_int_equal(get_int(g, "ErrorCode"), 30);
    assert_int_equal(get_int(g, "AuthorizedOperations"), INT32_MIN);

    /* JoinGroup v7+: ProtocolName null in the error answer */
    req = mk(fx, HOOP_KAFKA_API_JOIN_GROUP, 7, 0);
    set_str(req, "GroupId", "d-g1");
    fx_plan(fx, HOOP_KAFKA_API_JOIN_GROUP, 7, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_JOIN_GROUP, 7);
    assert_int_equal(get_int(resp, "ErrorCode"), 30);
    assert_int_equal(get_int(resp, "GenerationId"), -1);
    assert_true(str_is(resp, "ProtocolName", NULL));

    /* SyncGroup v5 without protocol: refused by Kafka before any check */
    req = mk(fx, HOOP_KAFKA_API_SYNC_GROUP, 5, 0);
    set_str(req, "GroupId", "d-g1");
    fx_plan(fx, HOOP_KAFKA_API_SYNC_GROUP, 5, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    assert_null(find_check(fx->plan, HOOP_POLICY_RES_GROUP, "d-g1",
                           HOOP_POLICY_OP_READ));

    /* DeleteGroups: a name given twice is answered once */
    req = mk(fx, HOOP_KAFKA_API_DELETE_GROUPS, 2, 0);
    add_str(fx, req, "GroupsNames", "d-g1");
    add_str(fx, req, "GroupsNames", "d-g1");
    fx_plan(fx, HOOP_KAFKA_API_DELETE_GROUPS, 2, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_DELETE_GROUPS, 2);
    assert_int_equal(hoop_kafka_node_count(child(resp, "Results")), 1);

    /* OffsetDelete: DELETE on the group; no topic left still goes */
    req = mk(fx, HOOP_KAFKA_API_OFFSET_DELETE, 0, 0);
    set_str(req, "GroupId", "a-g1");
    add_topic(fx, req, "Topics", "Name", "d-t1", "Partitions",
              "PartitionIndex", 1);
    fx_plan(fx, HOOP_KAFKA_API_OFFSET_DELETE, 0, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_int_equal(hoop_kafka_node_count(child(req, "Topics")), 0);
    assert_non_null(find_check(fx->plan, HOOP_POLICY_RES_GROUP, "a-g1",
                               HOOP_POLICY_OP_DELETE));
    fx_free(fx);

    /* KIP-848 */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_CONSUMER_GROUP_HEARTBEAT, 1, 0);
    set_str(req, "GroupId", "a-g1");
    set_str(req, "SubscribedTopicRegex", "a-.*");
    fx_plan(fx, HOOP_KAFKA_API_CONSUMER_GROUP_HEARTBEAT, 1, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_CONSUMER_GROUP_HEARTBEAT, 1);
    assert_int_equal(get_int(resp, "ErrorCode"), 29);
    assert_false(str_is(resp, "ErrorMessage", NULL));

    set_str(req, "SubscribedTopicRegex", NULL);
    child(req, "SubscribedTopicNames")->flags &= ~HOOP_KAFKA_NODE_NULL;
    add_str(fx, req, "SubscribedTopicNames", "a-t1");
    fx_plan(fx, HOOP_KAFKA_API_CONSUMER_GROUP_HEARTBEAT, 1, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);

    add_str(fx, req, "SubscribedTopicNames", "d-t2");
    fx_plan(fx, HOOP_KAFKA_API_CONSUMER_GROUP_HEARTBEAT, 1, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_CONSUMER_GROUP_HEARTBEAT, 1);
    assert_int_equal(get_int(resp, "ErrorCode"), 29);

    /* ConsumerGroupDescribe: a group naming a hidden topic is an error */
    req = mk(fx, HOOP_KAFKA_API_CONSUMER_GROUP_DESCRIBE, 1, 0);
    add_str(fx, req, "GroupIds", "a-g1");
    add_str(fx, req, "GroupIds", "a-g2");
    set_int(req, "IncludeAuthorizedOperations", 1);
    fx_plan(fx, HOOP_KAFKA_API_CONSUMER_GROUP_DESCRIBE, 1, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    assert_true(fx->res.response);

    resp = mk(fx, HOOP_KAFKA_API_CONSUMER_GROUP_DESCRIBE, 1, 1);
    g = add(fx, resp, "Groups");
    set_str(g, "GroupId", "a-g1");
    set_str(g, "GroupState", "Stable");
    m = add(fx, g, "Members");
    tp = add(fx, child(m, "TargetAssignment"), "TopicPartitions");
    set_str(tp, "TopicName", "d-t2");
    g = add(fx, resp, "Groups");
    set_str(g, "GroupId", "a-g2");
    m = add(fx, g, "Members");
    tp = add(fx, child(m, "Assignment"), "TopicPartitions");
    set_str(tp, "TopicName", "a-t1");
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    resp = round_trip(&fx->ar, &fx->a, resp,
                      HOOP_KAFKA_API_CONSUMER_GROUP_DESCRIBE, 1, 1, NULL);
    g = nth(child(resp, "Groups"), 0);
    assert_true(str_is(g, "GroupId", "a-g1"));
    assert_int_equal(get_int(g, "ErrorCode"), 29);
    assert_true(str_is(g, "ErrorMessage", "The group has described topic(s) "
                       "that the client is not authorized to describe."));
    assert_int_equal(hoop_kafka_node_count(child(g, "Members")), 0);
    assert_true(str_is(g, "GroupState", ""));
    g = nth(child(resp, "Groups"), 1);
    assert_int_equal(get_int(g, "ErrorCode"), 0);
    assert_int_equal(hoop_kafka_node_count(child(g, "Members")), 1);
    assert_int_equal(get_int(g, "AuthorizedOperations"), 0xd48);
    fx_free(fx);
}


static void
test_transactions(void **state)
{
    fx_t                      *fx;
    hoop_kafka_node_t         *req, *resp, *t, *st;
    const hoop_authz_check_t  *c;

    (void) state;

    /* AddPartitionsToTxn v3: internal topics never; all or nothing */
    fx = fx_new(POL_ALLOW);
    req = mk(fx, HOOP_KAFKA_API_ADD_PARTITIONS_TO_TXN, 3, 0);
    set_str(req, "V3AndBelowTransactionalId", "a-x");
    add_topic(fx, req, "V3AndBelowTopics", "Name", "a-t1", "Partitions",
              NULL, 2);
    add_topic(fx, req, "V3AndBelowTopics", "Name", "__consumer_offsets",
              "Partitions", NULL, 1);
    fx_plan(fx, HOOP_KAFKA_API_ADD_PARTITIONS_TO_TXN, 3, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_ADD_PARTITIONS_TO_TXN, 3);
    t = nth(child(resp, "ResultsByTopicV3AndBelow"), 0);
    assert_int_equal(get_int(nth(child(t, "ResultsByPartition"), 1),
                             "PartitionErrorCode"), 55);
    t = nth(child(resp, "ResultsByTopicV3AndBelow"), 1);
    assert_int_equal(get_int(nth(child(t, "ResultsByPartition"), 0),
                             "PartitionErrorCode"), 29);
    c = find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "__consumer_offsets",
                   HOOP_POLICY_OP_WRITE);
    assert_non_null(c);
    assert_true(c->flags & HOOP_AUTHZ_CHECK_IMPLICIT);
    assert_int_equal(fx->pol.calls, 2);         /* a-x and a-t1 only */

    /* v4+ are broker requests: CLUSTER_ACTION */
    fx->pol.mode = POL_DENY;
    req = mk(fx, HOOP_KAFKA_API_ADD_PARTITIONS_TO_TXN, 5, 0);
    fx_plan(fx, HOOP_KAFKA_API_ADD_PARTITIONS_TO_TXN, 5, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_ADD_PARTITIONS_TO_TXN, 5);
    assert_int_equal(get_int(resp, "ErrorCode"), 31);
    fx_free(fx);

    /* TxnOffsetCommit: a denied topic fails the whole commit */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_TXN_OFFSET_COMMIT, 3, 0);
    set_str(req, "TransactionalId", "a-x");
    set_str(req, "GroupId", "a-g1");
    add_topic(fx, req, "Topics", "Name", "a-t1", "Partitions",
              "PartitionIndex", 1);
    add_topic(fx, req, "Topics", "Name", "d-t2", "Partitions",
              "PartitionIndex", 1);
    fx_plan(fx, HOOP_KAFKA_API_TXN_OFFSET_COMMIT, 3, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_TXN_OFFSET_COMMIT, 3);
    assert_int_equal(get_int(nth(child(nth(child(resp, "Topics"), 0),
                                       "Partitions"), 0), "ErrorCode"), 55);
    assert_int_equal(get_int(nth(child(nth(child(resp, "Topics"), 1),
                                       "Partitions"), 0), "ErrorCode"), 29);

    set_str(req, "GroupId", "d-g1");
    fx_plan(fx, HOOP_KAFKA_API_TXN_OFFSET_COMMIT, 3, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_TXN_OFFSET_COMMIT, 3);
    assert_int_equal(get_int(nth(child(nth(child(resp, "Topics"), 0),
                                       "Partitions"), 0), "ErrorCode"), 30);

    /* AddOffsetsToTxn: transactional id first, then the group */
    req = mk(fx, HOOP_KAFKA_API_ADD_OFFSETS_TO_TXN, 4, 0);
    set_str(req, "TransactionalId", "d-x");
    set_str(req, "GroupId", "d-g1");
    fx_plan(fx, HOOP_KAFKA_API_ADD_OFFSETS_TO_TXN, 4, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_ADD_OFFSETS_TO_TXN, 4);
    assert_int_equal(get_int(resp, "ErrorCode"), 53);
    assert_null(find_check(fx->plan, HOOP_POLICY_RES_GROUP, "d-g1",
                           HOOP_POLICY_OP_READ));

    /* DescribeTransactions: topics filtered; ListTransactions: ids */
    req = mk(fx, HOOP_KAFKA_API_DESCRIBE_TRANSACTIONS, 0, 0);
    add_str(fx, req, "TransactionalIds", "a-x");
    fx_plan(fx, HOOP_KAFKA_API_DESCRIBE_TRANSACTIONS, 0, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    resp = mk(fx, HOOP_KAFKA_API_DESCRIBE_TRANSACTIONS, 0, 1);
    st = add(fx, resp, "TransactionStates");
    set_str(st, "TransactionalId", "a-x");
    set_str(add(fx, st, "Topics"), "Topic", "d-t1");
    set_str(add(fx, st, "Topics"), "Topic", "a-t2");
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    assert_int_equal(hoop_kafka_node_count(child(st, "Topics")), 1);

    req = mk(fx, HOOP_KAFKA_API_LIST_TRANSACTIONS, 2, 0);
    fx_plan(fx, HOOP_KAFKA_API_LIST_TRANSACTIONS, 2, req);
    resp = mk(fx, HOOP_KAFKA_API_LIST_TRANSACTIONS, 2, 1);
    set_str(add(fx, resp, "TransactionStates"), "TransactionalId", "d-x");
    set_str(add(fx, resp, "TransactionStates"), "TransactionalId", "a-x");
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    assert_int_equal(hoop_kafka_node_count(child(resp, "TransactionStates")),
                     1);
    fx_free(fx);
}


static hoop_kafka_node_t *
add_resource(fx_t *fx, hoop_kafka_node_t *req, int type, const char *name)
{
    hoop_kafka_node_t  *r;

    r = add(fx, req, "Resources");
    set_int(r, "ResourceType", type);
    set_str(r, "ResourceName", name);

    return r;
}


static void
test_configs(void **state)
{
    fx_t               *fx;
    hoop_kafka_node_t  *req, *resp, *r;

    (void) state;

    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_DESCRIBE_CONFIGS, 4, 0);
    add_resource(fx, req, 2, "a-t1");
    add_resource(fx, req, 2, "d-t2");
    add_resource(fx, req, 4, "1");
    add_resource(fx, req, 32, "d-g1");
    fx_plan(fx, HOOP_KAFKA_API_DESCRIBE_CONFIGS, 4, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_int_equal(fx->res.denied, 2);
    assert_non_null(find_check(fx->plan, HOOP_POLICY_RES_CLUSTER,
                               "kafka-cluster",
                               HOOP_POLICY_OP_DESCRIBE_CONFIGS));
    resp = mk(fx, HOOP_KAFKA_API_DESCRIBE_CONFIGS, 4, 1);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    r = nth(child(resp, "Results"), 0);
    assert_true(str_is(r, "ResourceName", "d-t2"));
    assert_int_equal(get_int(r, "ResourceType"), 2);
    assert_int_equal(get_int(r, "ErrorCode"), 29);
    r = nth(child(resp, "Results"), 1);
    assert_int_equal(get_int(r, "ResourceType"), 32);
    assert_int_equal(get_int(r, "ErrorCode"), 30);

    /* an unknown type fails the request (InvalidRequestException) */
    add_resource(fx, req, 3, "x");
    fx_plan(fx, HOOP_KAFKA_API_DESCRIBE_CONFIGS, 4, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_DESCRIBE_CONFIGS, 4);
    assert_int_equal(get_int(nth(child(resp, "Results"), 0), "ErrorCode"),
                     42);

    /* AlterConfigs: unknown types UNSUPPORTED_VERSION, BROKER_LOGGER and
     * duplicates left to the broker */
    req = mk(fx, HOOP_KAFKA_API_ALTER_CONFIGS, 2, 0);
    add_resource(fx, req, 3, "x");
    add_resource(fx, req, 8, "1");
    add_resource(fx, req, 2, "d-t2");
    add_resource(fx, req, 2, "d-t2");
    add_resource(fx, req, 2, "d-t3");
    fx_plan(fx, HOOP_KAFKA_API_ALTER_CONFIGS, 2, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_int_equal(fx->res.denied, 2);
    assert_int_equal(hoop_kafka_node_count(child(req, "Resources")), 3);
    resp = mk(fx, HOOP_KAFKA_API_ALTER_CONFIGS, 2, 1);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    r = nth(child(resp, "Responses"), 0);
    assert_int_equal(get_int(r, "ErrorCode"), 35);
    assert_true(str_is(r, "ErrorMessage", "Unknown resource type 3."));
    r = nth(child(resp, "Responses"), 1);
    assert_true(str_is(r, "ResourceName", "d-t3"));
    assert_int_equal(get_int(r, "ErrorCode"), 29);

    /* IncrementalAlterConfigs: BROKER_LOGGER is ALTER_CONFIGS on the
     * cluster */
    fx->pol.mode = POL_DENY;
    req = mk(fx, HOOP_KAFKA_API_INCREMENTAL_ALTER_CONFIGS, 1, 0);
    add_resource(fx, req, 8, "1");
    fx_plan(fx, HOOP_KAFKA_API_INCREMENTAL_ALTER_CONFIGS, 1, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_INCREMENTAL_ALTER_CONFIGS, 1);
    assert_int_equal(get_int(nth(child(resp, "Responses"), 0), "ErrorCode"),
                     31);
    fx_free(fx);
}


static void
test_cluster_answers(void **state)
{
    fx_t               *fx;
    hoop_kafka_node_t  *req, *resp, *e, *ent;

    (void) state;

    fx = fx_new(POL_DENY);

    /* AlterUserScramCredentials: one result per user, sorted */
    req = mk(fx, HOOP_KAFKA_API_ALTER_USER_SCRAM_CREDENTIALS, 0, 0);
    set_str(add(fx, req, "Deletions"), "Name", "carol");
    set_str(add(fx, req, "Upsertions"), "Name", "alice");
    set_str(add(fx, req, "Upsertions"), "Name", "carol");
    fx_plan(fx, HOOP_KAFKA_API_ALTER_USER_SCRAM_CREDENTIALS, 0, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_ALTER_USER_SCRAM_CREDENTIALS, 0);
    assert_int_equal(hoop_kafka_node_count(child(resp, "Results")), 2);
    assert_true(str_is(nth(child(resp, "Results"), 0), "User", "alice"));
    assert_true(str_is(nth(child(resp, "Results"), 1), "User", "carol"));
    assert_int_equal(get_int(nth(child(resp, "Results"), 1), "ErrorCode"),
                     31);

    /* AlterClientQuotas: each answer names its entity */
    req = mk(fx, HOOP_KAFKA_API_ALTER_CLIENT_QUOTAS, 1, 0);
    e = add(fx, req, "Entries");
    ent = add(fx, e, "Entity");
    set_str(ent, "EntityType", "user");
    set_str(ent, "EntityName", "alice");
    fx_plan(fx, HOOP_KAFKA_API_ALTER_CLIENT_QUOTAS, 1, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_ALTER_CLIENT_QUOTAS, 1);
    e = nth(child(resp, "Entries"), 0);
    assert_int_equal(get_int(e, "ErrorCode"), 31);
    assert_true(str_is(nth(child(e, "Entity"), 0), "EntityName", "alice"));

    /* DescribeClientQuotas: no entries */
    req = mk(fx, HOOP_KAFKA_API_DESCRIBE_CLIENT_QUOTAS, 1, 0);
    fx_plan(fx, HOOP_KAFKA_API_DESCRIBE_CLIENT_QUOTAS, 1, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_DESCRIBE_CLIENT_QUOTAS, 1);
    assert_true(hoop_kafka_node_is_null(child(resp, "Entries")));
    assert_true(str_is(resp, "ErrorMessage", "Cluster authorization failed."));

    /* ElectLeaders: the top error and every partition */
    req = mk(fx, HOOP_KAFKA_API_ELECT_LEADERS, 2, 0);
    child(req, "TopicPartitions")->flags &= ~HOOP_KAFKA_NODE_NULL;
    add_topic(fx, req, "TopicPartitions", "Topic", "a-t1", "Partitions",
              NULL, 2);
    fx_plan(fx, HOOP_KAFKA_API_ELECT_LEADERS, 2, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_ELECT_LEADERS, 2);
    assert_int_equal(get_int(resp, "ErrorCode"), 31);
    e = nth(child(nth(child(resp, "ReplicaElectionResults"), 0),
                  "PartitionResult"), 1);
    assert_int_equal(get_int(e, "PartitionId"), 1);
    assert_int_equal(get_int(e, "ErrorCode"), 31);
    fx_free(fx);
}


/* A DescribeTopicPartitions v0 request, byte by byte (the Cursor is a
 * null struct in built trees). */
static hoop_kafka_node_t *
dtp_request(fx_t *fx, const char *const *names, size_t n, const char *cursor,
    int32_t part)
{
    size_t              i;
    uint8_t            *body;
    test_buf_t          b;
    hoop_kafka_node_t  *root;

    memset(&b, 0, sizeof(b));
    test_buf_uvarint(&b, n + 1);

    for (i = 0; i < n; i++) {
        test_buf_uvarint(&b, strlen(names[i]) + 1);
        test_buf_put(&b, names[i], strlen(names[i]));
        test_buf_uvarint(&b, 0);
    }

    test_buf_be(&b, 2000, 4);                   /* ResponsePartitionLimit */

    if (cursor == NULL) {
        test_buf_be(&b, 0xff, 1);
    } else {
        test_buf_be(&b, 1, 1);
        test_buf_uvarint(&b, strlen(cursor) + 1);
        test_buf_put(&b, cursor, strlen(cursor));
        test_buf_be(&b, (uint32_t) part, 4);
        test_buf_uvarint(&b, 0);
    }

    test_buf_uvarint(&b, 0);

    body = test_arena_alloc(&fx->ar, b.len);
    assert_non_null(body);
    memcpy(body, b.p, b.len);

    assert_int_equal(hoop_kafka_decode(&fx->a,
                                       HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS,
                                       0, 0, body, b.len, &root, NULL),
                     HOOP_KAFKA_OK);
    test_buf_free(&b);

    return root;
}


/* A DescribeTopicPartitions v0 response, written byte by byte: topics
 * "a-t1" and "d-t2", and a next cursor at topic next. */
static hoop_kafka_node_t *
dtp_response(fx_t *fx, const char *next)
{
    size_t              i;
    uint8_t            *body;
    test_buf_t          b;
    hoop_kafka_node_t  *root;
    static const char  *names[] = { "a-t1", "d-t2" };

    memset(&b, 0, sizeof(b));
    test_buf_be(&b, 0, 4);                      /* ThrottleTimeMs */
    test_buf_uvarint(&b, 3);                    /* 2 topics */

    for (i = 0; i < 2; i++) {
        test_buf_be(&b, 0, 2);                  /* ErrorCode */
        test_buf_uvarint(&b, strlen(names[i]) + 1);
        test_buf_put(&b, names[i], strlen(names[i]));
        test_buf_put(&b, "0123456789abcdef", 16);   /* TopicId */
        test_buf_be(&b, 0, 1);                  /* IsInternal */
        test_buf_uvarint(&b, 1);                /* no partitions */
        test_buf_be(&b, 0x80000000u, 4);        /* operations */
        test_buf_uvarint(&b, 0);                /* tagged fields */
    }

    test_buf_be(&b, 1, 1);                      /* NextCursor present */
    test_buf_uvarint(&b, strlen(next) + 1);
    test_buf_put(&b, next, strlen(next));
    test_buf_be(&b, 3, 4);                      /* PartitionIndex */
    test_buf_uvarint(&b, 0);
    test_buf_uvarint(&b, 0);

    body = test_arena_alloc(&fx->ar, b.len);
    assert_non_null(body);
    memcpy(body, b.p, b.len);

    assert_int_equal(hoop_kafka_decode(&fx->a,
                                       HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS,
                                       0, 1, body, b.len, &root, NULL),
                     HOOP_KAFKA_OK);
    test_buf_free(&b);

    return root;
}


static void
test_describe_topic_partitions(void **state)
{
    fx_t               *fx;
    hoop_kafka_node_t  *req, *resp, *cur, *t;
    static const char  *three[] = { "a-t1", "d-t2", "e-t3" };

    (void) state;

    /* the cursor's topic denied: the cursor moves to the next allowed */
    fx = fx_new(POL_DENY_D);
    req = dtp_request(fx, three, 3, "d-t2", 5);
    cur = child(req, "Cursor");
    fx_plan(fx, HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, 0, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_PARTIAL);
    assert_true(str_is(cur, "TopicName", "e-t3"));
    assert_int_equal(get_int(cur, "PartitionIndex"), 0);
    /* before the cursor: not read, not checked */
    assert_null(find_check(fx->plan, HOOP_POLICY_RES_TOPIC, "a-t1",
                           HOOP_POLICY_OP_DESCRIBE));
    (void) round_trip(&fx->ar, &fx->a, req,
                      HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, 0, 0, NULL);

    resp = mk(fx, HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, 0, 1);
    t = add(fx, resp, "Topics");
    set_str(t, "Name", "e-t3");
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    assert_int_equal(get_int(t, "TopicAuthorizedOperations"), 0xdf8);
    t = nth(child(resp, "Topics"), 1);
    assert_true(str_is(t, "Name", "d-t2"));
    assert_int_equal(get_int(t, "ErrorCode"), 29);
    fx_free(fx);

    /* nothing allowed from the cursor on: answered here */
    fx = fx_new(POL_DENY_D);
    req = dtp_request(fx, three, 2, "d-t2", 0);
    fx_plan(fx, HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, 0, req);
    resp = fx_answer(fx, HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, 0);
    assert_int_equal(hoop_kafka_node_count(child(resp, "Topics")), 1);
    assert_true(hoop_kafka_node_is_null(child(resp, "NextCursor")));
    fx_free(fx);

    /* all topics: filtered, and a next page starting at a hidden topic
     * ends the listing */
    fx = fx_new(POL_DENY_D);
    req = mk(fx, HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, 0, 0);
    fx_plan(fx, HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, 0, req);
    assert_int_equal(fx->res.action, HOOP_AUTHZ_ALLOW);
    assert_true(fx->res.response);

    resp = dtp_response(fx, "d-t3");
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    resp = round_trip(&fx->ar, &fx->a, resp,
                      HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, 0, 1, NULL);
    assert_int_equal(hoop_kafka_node_count(child(resp, "Topics")), 1);
    assert_true(str_is(nth(child(resp, "Topics"), 0), "Name", "a-t1"));
    assert_true(hoop_kafka_node_is_null(child(resp, "NextCursor")));

    fx_plan(fx, HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, 0, req);
    resp = dtp_response(fx, "a-t3");
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp), 1);
    assert_false(hoop_kafka_node_is_null(child(resp, "NextCursor")));
    fx_free(fx);
}


static void
test_supported(void **state)
{
    int16_t  min, max;

    (void) state;

    assert_true(hoop_authz_supported(HOOP_KAFKA_API_PRODUCE, 12));
    assert_false(hoop_authz_supported(HOOP_KAFKA_API_PRODUCE, 13));
    assert_true(hoop_authz_supported_ex(HOOP_KAFKA_API_PRODUCE, 13,
                                        HOOP_AUTHZ_TOPIC_IDS));
    assert_false(hoop_authz_supported(HOOP_KAFKA_API_PRODUCE, 2));

    assert_int_equal(hoop_authz_versions(HOOP_KAFKA_API_FETCH, 0, &min, &max),
                     0);
    assert_int_equal(min, 4);
    assert_int_equal(max, 12);
    assert_int_equal(hoop_authz_versions(HOOP_KAFKA_API_FETCH,
                                         HOOP_AUTHZ_TOPIC_IDS, &min, &max),
                     0);
    assert_int_equal(max, 18);

    assert_false(hoop_authz_supported(HOOP_KAFKA_API_METADATA, 3));
    assert_true(hoop_authz_supported(HOOP_KAFKA_API_METADATA, 13));
    assert_false(hoop_authz_supported(HOOP_KAFKA_API_OFFSET_COMMIT, 10));
    assert_false(hoop_authz_supported(HOOP_KAFKA_API_OFFSET_FETCH, 10));

    /* not handled at all */
    assert_int_equal(hoop_authz_versions(HOOP_KAFKA_API_SHARE_FETCH,
                                         HOOP_AUTHZ_TOPIC_IDS, &min, &max),
                     -1);
    assert_false(hoop_authz_supported(HOOP_KAFKA_API_WRITE_TXN_MARKERS, 1));
    assert_false(hoop_authz_supported(HOOP_KAFKA_API_DESCRIBE_QUORUM, 0));
    assert_false(hoop_authz_supported(HOOP_KAFKA_API_CREATE_DELEGATION_TOKEN,
                                      3));
    assert_false(hoop_authz_supported(HOOP_KAFKA_API_STREAMS_GROUP_HEARTBEAT,
                                      0));
    assert_false(hoop_authz_supported(HOOP_KAFKA_API_LEADER_AND_ISR, 0));
    assert_false(hoop_authz_supported(-1, 0));
    assert_false(hoop_authz_supported(1000, 0));

    assert_string_equal(hoop_authz_error_message(29),
                        "Topic authorization failed.");
    assert_null(hoop_authz_error_message(0));
}


static void
test_bad_calls(void **state)
{
    int                  err;
    fx_t                *fx;
    hoop_kafka_node_t   *req, *resp;
    hoop_authz_conf_t    conf;

    (void) state;

    fx = fx_new(POL_ALLOW);
    req = mk(fx, HOOP_KAFKA_API_PRODUCE, 9, 0);

    /* a tree of another version or ApiKey */
    assert_null(hoop_authz_plan(&fx->a, &fx->conf, HOOP_KAFKA_API_PRODUCE, 8,
                                req, &fx->res, &err));
    assert_int_equal(err, HOOP_AUTHZ_EINVALID);
    assert_null(hoop_authz_plan(&fx->a, &fx->conf, HOOP_KAFKA_API_FETCH, 9,
                                req, &fx->res, &err));
    assert_int_equal(err, HOOP_AUTHZ_EINVALID);

    conf = fx->conf;
    conf.decide = NULL;
    assert_null(hoop_authz_plan(&fx->a, &conf, HOOP_KAFKA_API_PRODUCE, 9,
                                req, &fx->res, NULL));

    /* responses of another ApiKey, or to an answered request */
    fx_plan(fx, HOOP_KAFKA_API_PRODUCE, 9, req);
    resp = mk(fx, HOOP_KAFKA_API_FETCH, 9, 1);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp),
                     HOOP_AUTHZ_EINVALID);
    resp = mk(fx, HOOP_KAFKA_API_PRODUCE, 9, 0);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp),
                     HOOP_AUTHZ_EINVALID);

    fx->pol.mode = POL_DENY;
    add_topic(fx, req, "TopicData", "Name", "a-t1", "PartitionData", "Index",
              1);
    set_int(req, "Acks", 1);
    fx_plan(fx, HOOP_KAFKA_API_PRODUCE, 9, req);
    resp = mk(fx, HOOP_KAFKA_API_PRODUCE, 9, 1);
    assert_int_equal(hoop_authz_response(fx->plan, NULL, resp),
                     HOOP_AUTHZ_EINVALID);
    fx_free(fx);
}


/*
 * Out of memory at every allocation of the plan and of the response
 * work: NULL or an error, never a crash or a leak.
 */
typedef struct {
    int16_t              key;
    int16_t              v;
    pol_mode_t           mode;
} oom_case_t;

static void
test_out_of_memory(void **state)
{
    int                  err, rc, ids;
    size_t               i, k, done;
    pol_t                pol;
    test_arena_t         ar, big;
    hoop_kafka_alloc_t   a, ba;
    hoop_authz_conf_t    conf;
    hoop_authz_plan_t   *plan;
    hoop_authz_result_t  res;
    hoop_kafka_node_t   *req, *resp;
    static const oom_case_t  cases[] = {
        { HOOP_KAFKA_API_PRODUCE, 9, POL_DENY_D },
        { HOOP_KAFKA_API_PRODUCE, 13, POL_DENY },
        { HOOP_KAFKA_API_FETCH, 16, POL_DENY_D },
        { HOOP_KAFKA_API_METADATA, 12, POL_DENY_D },
        { HOOP_KAFKA_API_OFFSET_FETCH, 9, POL_DENY_D },
        { HOOP_KAFKA_API_CREATE_TOPICS, 7, POL_DENY_D },
        { HOOP_KAFKA_API_DELETE_TOPICS, 6, POL_DENY_D },
        { HOOP_KAFKA_API_ALTER_USER_SCRAM_CREDENTIALS, 0, POL_DENY },
        { HOOP_KAFKA_API_ALTER_CLIENT_QUOTAS, 1, POL_DENY },
        { HOOP_KAFKA_API_ALTER_CONFIGS, 2, POL_DENY_D },
        { HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, 0, POL_DENY_D },
        { HOOP_KAFKA_API_CONSUMER_GROUP_DESCRIBE, 1, POL_DENY }
    };

    (void) state;

    memset(&big, 0, sizeof(big));
    ba = test_arena_allocator(&big);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ids = !hoop_authz_supported(cases[i].key, cases[i].v);
        done = 0;

        for (k = 0; !done && k < 100000; k++) {
            memset(&ar, 0, sizeof(ar));
            ar.limit = k;
            a = test_arena_allocator(&ar);

            memset(&pol, 0, sizeof(pol));
            pol.mode = cases[i].mode;
            conf = conf_of(&pol, ids);

            req = build_request(&big, &ba, cases[i].key, cases[i].v);
            plan = hoop_authz_plan(&a, &conf, cases[i].key, cases[i].v, req,
                                   &res, &err);

            if (plan == NULL) {
                assert_int_equal(err, HOOP_AUTHZ_ENOMEM);
                test_arena_reset(&ar);
                continue;
            }

            /* then the response work, at every allocation */
            if (res.response) {
                resp = build_request(&big, &ba, cases[i].key, cases[i].v);
                assert_int_equal(hoop_kafka_build(&ba, cases[i].key,
                                                  cases[i].v, 1, &resp),
                                 HOOP_KAFKA_OK);
                fill(&big, &ba, resp, 'a', 0);
                rc = hoop_authz_response(plan, NULL, resp);
                assert_true(rc >= 0 || rc == HOOP_AUTHZ_ENOMEM);
                done = rc >= 0 && k > 0;
            } else {
                done = 1;
            }

            test_arena_reset(&ar);
        }

        assert_true(done);
    }

    test_arena_reset(&big);
}


int
main(int argc, char **argv)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_supported),
        cmocka_unit_test(test_every_api),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_produce),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_init_producer_id),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_offset_fetch),
        cmocka_unit_test(test_find_coordinator),
        cmocka_unit_test(test_topics_admin),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_configs),
        cmocka_unit_test(test_cluster_answers),
        cmocka_unit_test(test_describe_topic_partitions),
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_out_of_memory),
    };

    if (argc > 1) {
        frames_dir = argv[1];
    }

    learn_ids();

    return cmocka_run_group_tests(tests, NULL, NULL);
}
