/*
 * The authorization planner (hoop_kafka_authz.h): Kafka 4.1.1's checks per
 * ApiKey, decisions through the caller, partial forwarding, merged and
 * filtered responses.
 *
 * Sources for every rule below: KafkaApis.scala, ControllerApis.scala,
 * AuthHelper.scala, ConfigHelper.scala and DescribeTopicPartitions
 * RequestHandler.java of Kafka 4.1.1, the getErrorResponse() of each
 * request class (what the broker answers when a check fails), and
 * AclEntry.supportedOperations() for the *AuthorizedOperations bit sets.
 * docs/authorization.md is the same table in prose.
 *
 * Structure: a plan holds the checks made (cached per resource and
 * operation), up to three lists of request entries (topics, groups,
 * resources, ... each with its partitions and the error it got), and the
 * response work (merge, filters).  Each ApiKey has a planner function that
 * collects its entries, asks for decisions in Kafka's order, and decides
 * ALLOW, PARTIAL or DENY; building answers and merging are generic, driven
 * by a small description of where entries go in the response
 * (authz_out_t).
 */

#include <string.h>

#include "hoop_kafka_authz.h"


#define AUTHZ_NLISTS              3

/* entry flags */
#define AUTHZ_E_NAME              0x01   /* name known */
#define AUTHZ_E_BY_ID             0x02   /* the request named it by id */
#define AUTHZ_E_SKIP              0x04   /* forwarded unchecked: the broker
                                            refuses it without acting, or
                                            ignores it */
#define AUTHZ_E_HIDE_NAME         0x08   /* answered without its name */
#define AUTHZ_E_ALL               0x10   /* OffsetFetch group: all topics */
#define AUTHZ_E_DROP              0x20   /* removed, answered by nothing */

/* authz_out_t.flags */
#define AUTHZ_OUT_EMPTY_RECORDS   0x01   /* Records empty, not null */
#define AUTHZ_OUT_UNIQUE          0x02   /* answer a name once */
#define AUTHZ_OUT_IF_OK           0x04   /* merge only if the response's
                                            top-level ErrorCode is 0 */

/* plan->filter */
#define AUTHZ_F_TOPICS_ALL        0x0001  /* drop topics not DESCRIBE */
#define AUTHZ_F_TOPIC_OPS         0x0002  /* TopicAuthorizedOperations */
#define AUTHZ_F_CLUSTER_OPS       0x0004  /* ClusterAuthorizedOperations */
#define AUTHZ_F_GROUPS            0x0008  /* ListGroups: drop groups */
#define AUTHZ_F_GROUP_OPS         0x0010  /* group AuthorizedOperations */
#define AUTHZ_F_OFFSETS_ALL       0x0020  /* OffsetFetch all partitions */
#define AUTHZ_F_NOCREATE          0x0040  /* Metadata: no auto-creation */
#define AUTHZ_F_CONFIGS           0x0080  /* CreateTopics: hide configs */
#define AUTHZ_F_TXN_TOPICS        0x0100  /* DescribeTransactions */
#define AUTHZ_F_TXN_IDS           0x0200  /* ListTransactions */
#define AUTHZ_F_CGD_TOPICS        0x0400  /* ConsumerGroupDescribe */
#define AUTHZ_F_CURSOR            0x0800  /* DescribeTopicPartitions */

#define AUTHZ_OPS_OMITTED         INT32_MIN   /* "not asked" (the schema's
                                                 default) */

#define AUTHZ_CLUSTER  (const uint8_t *) HOOP_POLICY_CLUSTER_NAME,           \
                       sizeof(HOOP_POLICY_CLUSTER_NAME) - 1

#define AUTHZ_S(s)     (const uint8_t *) (s), sizeof(s) - 1


typedef struct authz_entry_s  authz_entry_t;
typedef struct authz_list_s   authz_list_t;


typedef struct {
    const char                  *name;
    int64_t                      value;
} authz_int_t;


/*
 * Where the entries of a list go in a response (all names as in the JSON
 * specs; a field absent in the version is skipped):
 *
 *   path      the array, from the response root (or from the parent
 *             element for a sub-list)
 *   name, id  fields that get the entry's name and topic id
 *   rtype     int8 field that gets the entry's resource type
 *   parts     array of per-partition results, index its partition field
 *   error     the error code field: in each partition result if parts,
 *             else in the entry; message the message next to it
 *   ints      other fields set next to the error (Kafka's values for an
 *             error: offsets -1, ...)
 */
typedef struct {
    const char                  *path[3];
    const char                  *name;
    const char                  *id;
    const char                  *rtype;
    const char                  *parts;
    const char                  *index;
    const char                  *error;
    const char                  *message;
    const authz_int_t           *ints;
    unsigned                     flags;
} authz_out_t;


/* Where the entries of a list are in a request (name NULL: each element
 * is the string; index NULL: parts is an array of int32). */
typedef struct {
    const char                  *name;
    const char                  *id;
    const char                  *parts;
    const char                  *index;
    const char                  *rtype;
} authz_in_t;


struct authz_entry_s {
    authz_entry_t               *next;
    hoop_kafka_node_t           *elem;      /* in the request; plan time */
    const uint8_t               *name;      /* copy */
    size_t                       len;
    const uint8_t               *id;        /* copy of 16 bytes, or NULL */
    int32_t                     *parts;
    size_t                       nparts;
    authz_list_t                *sub;
    const char                  *message;   /* NULL: Kafka's default */
    int16_t                      error;
    int8_t                       rtype;
    uint8_t                      flags;
};


struct authz_list_s {
    hoop_kafka_node_t           *array;     /* in the request; plan time */
    authz_entry_t               *first;
    authz_entry_t              **tail;
    size_t                       n;
    size_t                       ndenied;
    const authz_out_t           *out;
};


typedef struct authz_api_s  authz_api_t;

struct hoop_authz_plan_s {
    hoop_kafka_alloc_t           a;
    hoop_authz_conf_t            conf;
    const hoop_authz_conf_t     *rconf;     /* decisions come from here */
    const authz_api_t           *api;
    int16_t                      api_key;
    int16_t                      version;
    hoop_kafka_node_t           *req;
    hoop_kafka_node_t           *answer;    /* DENY */
    hoop_authz_result_t          result;

    hoop_authz_check_t          *checks;
    size_t                       nchecks;
    size_t                       ccap;
    uint32_t                    *hash;      /* check index + 1; 0: free */
    size_t                       hcap;      /* power of two */
    unsigned                     check_flags;  /* or-ed into new checks */

    authz_list_t                 lists[AUTHZ_NLISTS];

    int16_t                      top_error;
    const char                  *top_message;
    unsigned                     filter;
    unsigned                     merged:1;
    unsigned                     filtered:1;
};


struct authz_api_s {
    int16_t                      key;
    int16_t                      min;
    int16_t                      max;       /* without topic ids */
    int16_t                      id_max;    /* with a resolver */
    int                        (*plan)(hoop_authz_plan_t *p);
    int                        (*deny)(hoop_authz_plan_t *p,
                                       hoop_kafka_node_t *root);
};


static const uint8_t  authz_zero_uuid[16];


/* ----------------------------------------------------------------------
 * Small helpers
 */

static void *
authz_alloc(hoop_authz_plan_t *p, size_t n)
{
    void  *m;

    m = p->a.alloc(p->a.ctx, n ? n : 1);
    if (m != NULL) {
        memset(m, 0, n ? n : 1);
    }

    return m;
}


static const uint8_t *
authz_dup(hoop_authz_plan_t *p, const uint8_t *data, size_t len)
{
    uint8_t  *m;

    m = p->a.alloc(p->a.ctx, len + 1);
    if (m == NULL) {
        return NULL;
    }

    if (len) {
        memcpy(m, data, len);
    }

    m[len] = '\0';

    return m;
}


static hoop_kafka_node_t *
authz_child(const hoop_kafka_node_t *node, const char *name)
{
    if (node == NULL || name == NULL) {
        return NULL;
    }

    return hoop_kafka_node_child(node, name);
}


/* An array child, or NULL if absent or null. */
static hoop_kafka_node_t *
authz_array(const hoop_kafka_node_t *node, const char *name)
{
    hoop_kafka_node_t  *a;

    a = authz_child(node, name);

    if (a == NULL || a->type != HOOP_KAFKA_T_ARRAY
        || hoop_kafka_node_is_null(a))
    {
        return NULL;
    }

    return a;
}


static int64_t
authz_int(const hoop_kafka_node_t *node, const char *name, int64_t dflt)
{
    hoop_kafka_node_t  *c;

    c = authz_child(node, name);

    return c ? hoop_kafka_node_int(c) : dflt;
}


/* A string child: its bytes, or NULL if absent or null. */
static const uint8_t *
authz_str(const hoop_kafka_node_t *node, const char *name, size_t *len)
{
    hoop_kafka_node_t  *c;

    *len = 0;

    c = authz_child(node, name);
    if (c == NULL || c->type != HOOP_KAFKA_T_STRING) {
        return NULL;
    }

    return hoop_kafka_node_bytes(c, len);
}


static void
authz_set_int(hoop_kafka_node_t *node, const char *name, int64_t v)
{
    hoop_kafka_node_t  *c;

    c = authz_child(node, name);
    if (c != NULL) {
        (void) hoop_kafka_node_set_int(c, v);
    }
}


/* data NULL: null if the version allows it, else "". */
static void
authz_set_str(hoop_kafka_node_t *node, const char *name,
    const uint8_t *data, size_t len)
{
    hoop_kafka_node_t  *c;

    c = authz_child(node, name);
    if (c == NULL) {
        return;
    }

    if (hoop_kafka_node_set_string(c, data, len) != 0 && data == NULL) {
        (void) hoop_kafka_node_set_string(c, (const uint8_t *) "", 0);
    }
}


static void
authz_set_uuid(hoop_kafka_node_t *node, const char *name, const uint8_t *id)
{
    hoop_kafka_node_t  *c;

    c = authz_child(node, name);
    if (c == NULL || c->type != HOOP_KAFKA_T_UUID) {
        return;
    }

    c->u.bytes.data = id;
    c->u.bytes.len = 16;
}


static int
authz_uuid_zero(const uint8_t *id)
{
    return id == NULL || memcmp(id, authz_zero_uuid, 16) == 0;
}


/* Sets a tagged int field, adding it to the struct's tagged section when
 * absent (Kafka omits tagged fields at their default). */
static int
authz_set_tagged_int(hoop_authz_plan_t *p, hoop_kafka_node_t *node,
    const char *name, int64_t v)
{
    uint16_t                    i;
    hoop_kafka_node_t          *c, **link;
    const hoop_kafka_field_t   *f;
    const hoop_kafka_struct_t  *st;

    c = authz_child(node, name);
    if (c != NULL) {
        return hoop_kafka_node_set_int(c, v) == 0 ? HOOP_AUTHZ_OK
                                                  : HOOP_AUTHZ_EINVALID;
    }

    st = hoop_kafka_node_struct(node);
    if (st == NULL || !(node->flags & HOOP_KAFKA_NODE_FLEXIBLE)) {
        return HOOP_AUTHZ_OK;
    }

    for (i = 0; i < st->nfields; i++) {
        f = &st->fields[i];

        if (strcmp(f->name, name) == 0
            && hoop_kafka_versions_has(f->versions, node->version)
            && hoop_kafka_versions_has(f->tagged, node->version))
        {
            break;
        }
    }

    if (i == st->nfields) {
        return HOOP_AUTHZ_OK;
    }

    c = authz_alloc(p, sizeof(hoop_kafka_node_t));
    if (c == NULL) {
        return HOOP_AUTHZ_ENOMEM;
    }

    c->field = f;
    c->type = f->type;
    c->flags = HOOP_KAFKA_NODE_TAGGED;
    c->version = node->version;

    if (hoop_kafka_node_set_int(c, v) != 0) {
        return HOOP_AUTHZ_EINVALID;
    }

    /* after the untagged fields, in tag order among the tagged ones */
    for (link = &node->u.list.first; *link; link = &(*link)->next) {
        if (((*link)->flags & HOOP_KAFKA_NODE_TAGGED)
            && ((*link)->type == HOOP_KAFKA_T_TAGGED_RAW
                ? (int32_t) (*link)->tag : (*link)->field->tag) > f->tag)
        {
            break;
        }
    }

    c->next = *link;
    *link = c;
    node->u.list.count++;

    return HOOP_AUTHZ_OK;
}


static void
authz_unlink(hoop_kafka_node_t *array, hoop_kafka_node_t *elem)
{
    hoop_kafka_node_t  **link;

    for (link = &array->u.list.first; *link; link = &(*link)->next) {
        if (*link == elem) {
            *link = elem->next;
            elem->next = NULL;
            array->u.list.count--;
            return;
        }
    }
}


/* Puts elem, the last element of array, in the place of old. */
static void
authz_replace(hoop_kafka_node_t *array, hoop_kafka_node_t *old,
    hoop_kafka_node_t *elem)
{
    hoop_kafka_node_t  **link;

    authz_unlink(array, elem);

    for (link = &array->u.list.first; *link; link = &(*link)->next) {
        if (*link == old) {
            elem->next = old->next;
            *link = elem;
            return;
        }
    }
}


static hoop_kafka_node_t *
authz_path(hoop_kafka_node_t *node, const char *const *path)
{
    size_t  i;

    for (i = 0; i < 3 && path[i] != NULL; i++) {
        node = authz_child(node, path[i]);
        if (node == NULL) {
            return NULL;
        }
    }

    return node;
}


static int
authz_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}


static int
authz_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int  rc;

    rc = memcmp(a, b, alen < blen ? alen : blen);
    if (rc != 0) {
        return rc;
    }

    return alen < blen ? -1 : (alen > blen);
}


/* Kafka's Topic.validate(): 1..249 of [a-zA-Z0-9._-], not "." or "..". */
static int
authz_topic_valid(const uint8_t *name, size_t len)
{
    size_t  i;

    if (len == 0 || len > 249) {
        return 0;
    }

    if ((len == 1 && name[0] == '.')
        || (len == 2 && name[0] == '.' && name[1] == '.'))
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((name[i] >= 'a' && name[i] <= 'z')
              || (name[i] >= 'A' && name[i] <= 'Z')
              || (name[i] >= '0' && name[i] <= '9')
              || name[i] == '.' || name[i] == '_' || name[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/* Kafka's Topic.isInternal() */
static int
authz_topic_internal(const uint8_t *name, size_t len)
{
    return authz_name_eq(name, len, AUTHZ_S("__consumer_offsets"))
           || authz_name_eq(name, len, AUTHZ_S("__transaction_state"))
           || authz_name_eq(name, len, AUTHZ_S("__share_group_state"));
}


const char *
hoop_authz_error_message(int16_t code)
{
    /* Errors.java of Kafka 4.1.1 */
    switch (code) {
    case HOOP_AUTHZ_ERR_UNKNOWN_TOPIC_OR_PARTITION:
        return "This server does not host this topic-partition.";
    case HOOP_AUTHZ_ERR_INVALID_TOPIC:
        return "The request attempted to perform an operation on an "
               "invalid topic.";
    case HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED:
        return "Topic authorization failed.";
    case HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED:
        return "Group authorization failed.";
    case HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED:
        return "Cluster authorization failed.";
    case HOOP_AUTHZ_ERR_UNSUPPORTED_VERSION:
        return "The version of API is not supported.";
    case HOOP_AUTHZ_ERR_INVALID_REQUEST:
        return "This most likely occurs because of a request being "
               "malformed by the client library or the message was sent "
               "to an incompatible broker. See the broker logs for more "
               "details.";
    case HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        return "Transactional Id authorization failed.";
    case HOOP_AUTHZ_ERR_OPERATION_NOT_ATTEMPTED:
        return "The broker did not attempt to execute this operation. "
               "This may happen for batched RPCs where some operations in "
               "the batch failed, causing the broker to respond without "
               "trying the rest.";
    case HOOP_AUTHZ_ERR_UNKNOWN_TOPIC_ID:
        return "This server does not host this topic ID.";
    default:
        return NULL;
    }
}


/* ----------------------------------------------------------------------
 * Checks: each (type, name, op) is decided once per plan, as Kafka's
 * filterByAuthorized() groups a request's references to one resource.
 */

static uint32_t
authz_hash(hoop_policy_res_t type, hoop_policy_op_t op, const uint8_t *name,
    size_t len)
{
    size_t    i;
    uint32_t  h;

    /* FNV-1a */
    h = 2166136261u;
    h = (h ^ (uint32_t) type) * 16777619u;
    h = (h ^ (uint32_t) op) * 16777619u;
    h = (h ^ (name == NULL)) * 16777619u;

    for (i = 0; i < len; i++) {
        h = (h ^ name[i]) * 16777619u;
    }

    return h;
}


static int
authz_check_is(const hoop_authz_check_t *c, hoop_policy_res_t type,
    hoop_policy_op_t op, const uint8_t *name, size_t len)
{
    if (c->type != type || c->op != op) {
        return 0;
    }

    if (name == NULL || c->name == NULL) {
        return name == NULL && c->name == NULL;
    }

    return authz_name_eq(c->name, c->len, name, len);
}


/* The index of a cached check, or -1. */
static long
authz_find_check(const hoop_authz_plan_t *p, hoop_policy_res_t type,
    const uint8_t *name, size_t len, hoop_policy_op_t op)
{
    size_t    i, mask;
    uint32_t  slot;

    if (p->hcap == 0) {
        return -1;
    }

    mask = p->hcap - 1;
    i = authz_hash(type, op, name, len) & mask;

    while ((slot = p->hash[i]) != 0) {
        if (authz_check_is(&p->checks[slot - 1], type, op, name, len)) {
            return (long) slot - 1;
        }

        i = (i + 1) & mask;
    }

    return -1;
}


static int
authz_hash_grow(hoop_authz_plan_t *p)
{
    size_t                     i, j, cap, mask;
    uint32_t                  *h;
    const hoop_authz_check_t  *c;

    cap = p->hcap ? p->hcap * 2 : 32;

    h = authz_alloc(p, cap * sizeof(uint32_t));
    if (h == NULL) {
        return HOOP_AUTHZ_ENOMEM;
    }

    mask = cap - 1;

    for (i = 0; i < p->nchecks; i++) {
        c = &p->checks[i];
        j = authz_hash(c->type, c->op, c->name, c->len) & mask;

        while (h[j] != 0) {
            j = (j + 1) & mask;
        }

        h[j] = (uint32_t) i + 1;
    }

    p->hash = h;
    p->hcap = cap;

    return HOOP_AUTHZ_OK;
}


/*
 * Asks (or recalls) whether op on (type, name[0..len)) is allowed; name
 * NULL: on some resource of the type.  Returns 1, 0, or a negative
 * HOOP_AUTHZ_E*.  IMPLICIT checks are denied without asking.
 */
static int
authz_check(hoop_authz_plan_t *p, hoop_policy_res_t type,
    const uint8_t *name, size_t len, hoop_policy_op_t op, unsigned flags,
    hoop_kafka_node_t *node)
{
    int                  allowed;
    long                 i;
    size_t               cap;
    hoop_authz_check_t  *c;

    i = authz_find_check(p, type, name, len, op);

    if (i >= 0) {
        c = &p->checks[i];
        c->count++;
        return c->allowed;
    }

    if (p->nchecks == p->ccap) {
        cap = p->ccap ? p->ccap * 2 : 16;

        c = authz_alloc(p, cap * sizeof(hoop_authz_check_t));
        if (c == NULL) {
            return HOOP_AUTHZ_ENOMEM;
        }

        if (p->nchecks) {
            memcpy(c, p->checks, p->nchecks * sizeof(hoop_authz_check_t));
        }

        p->checks = c;
        p->ccap = cap;
    }

    if ((p->nchecks + 1) * 2 > p->hcap && authz_hash_grow(p) != 0) {
        return HOOP_AUTHZ_ENOMEM;
    }

    if (flags & HOOP_AUTHZ_CHECK_IMPLICIT) {
        allowed = 0;

    } else {
        allowed = p->rconf->decide(p->rconf->ctx, type, name, len, op) == 1;
    }

    c = &p->checks[p->nchecks];
    memset(c, 0, sizeof(hoop_authz_check_t));

    c->type = type;
    c->op = op;
    c->len = len;
    c->node = node;
    c->count = 1;
    c->allowed = (uint8_t) allowed;
    c->flags = (uint8_t) (flags | p->check_flags);

    if (name != NULL) {
        c->name = authz_dup(p, name, len);
        if (c->name == NULL) {
            return HOOP_AUTHZ_ENOMEM;
        }
    }

    p->nchecks++;

    i = (long) (authz_hash(type, op, name, len) & (p->hcap - 1));

    while (p->hash[i] != 0) {
        i = (long) ((i + 1) & (long) (p->hcap - 1));
    }

    p->hash[i] = (uint32_t) p->nchecks;

    return allowed;
}


/* A decision already made: 1, 0, or -1 if not asked. */
static int
authz_cached(const hoop_authz_plan_t *p, hoop_policy_res_t type,
    const uint8_t *name, size_t len, hoop_policy_op_t op)
{
    long  i;

    i = authz_find_check(p, type, name, len, op);

    return i < 0 ? -1 : p->checks[i].allowed;
}


static int
authz_cluster(hoop_authz_plan_t *p, hoop_policy_op_t op, unsigned flags)
{
    return authz_check(p, HOOP_POLICY_RES_CLUSTER, AUTHZ_CLUSTER, op, flags,
                       p->req);
}


/*
 * KIP-430: the operations of AclEntry.supportedOperations(type) allowed on
 * name, as Kafka's bits (AuthHelper.authorizedOperations()).
 */
static int
authz_ops(hoop_authz_plan_t *p, hoop_policy_res_t type, const uint8_t *name,
    size_t len, int32_t *bits)
{
    int                      rc;
    uint32_t                 b;
    const hoop_policy_op_t  *op;

    static const hoop_policy_op_t  topic[] = {
        HOOP_POLICY_OP_READ, HOOP_POLICY_OP_WRITE, HOOP_POLICY_OP_CREATE,
        HOOP_POLICY_OP_DESCRIBE, HOOP_POLICY_OP_DELETE, HOOP_POLICY_OP_ALTER,
        HOOP_POLICY_OP_DESCRIBE_CONFIGS, HOOP_POLICY_OP_ALTER_CONFIGS,
        HOOP_POLICY_OP_UNKNOWN
    };
    static const hoop_policy_op_t  group[] = {
        HOOP_POLICY_OP_READ, HOOP_POLICY_OP_DESCRIBE, HOOP_POLICY_OP_DELETE,
        HOOP_POLICY_OP_DESCRIBE_CONFIGS, HOOP_POLICY_OP_ALTER_CONFIGS,
        HOOP_POLICY_OP_UNKNOWN
    };
    static const hoop_policy_op_t  cluster[] = {
        HOOP_POLICY_OP_CREATE, HOOP_POLICY_OP_CLUSTER_ACTION,
        HOOP_POLICY_OP_DESCRIBE_CONFIGS, HOOP_POLICY_OP_ALTER_CONFIGS,
        HOOP_POLICY_OP_IDEMPOTENT_WRITE, HOOP_POLICY_OP_ALTER,
        HOOP_POLICY_OP_DESCRIBE, HOOP_POLICY_OP_UNKNOWN
    };

    switch (type) {
    case HOOP_POLICY_RES_TOPIC:
        op = topic;
        break;
    case HOOP_POLICY_RES_GROUP:
        op = group;
        break;
    default:
        op = cluster;
        break;
    }

    b = 0;

    for ( /* void */ ; *op != HOOP_POLICY_OP_UNKNOWN; op++) {
        rc = authz_check(p, type, name, len, *op,
                         HOOP_AUTHZ_CHECK_OPS | HOOP_AUTHZ_CHECK_QUIET, NULL);
        if (rc < 0) {
            return rc;
        }

        if (rc) {
            b |= HOOP_POLICY_OP_BIT(*op);
        }
    }

    *bits = (int32_t) b;

    return HOOP_AUTHZ_OK;
}


/* ----------------------------------------------------------------------
 * Request entries
 */

static void
authz_list_init(authz_list_t *l, hoop_kafka_node_t *array,
    const authz_out_t *out)
{
    memset(l, 0, sizeof(authz_list_t));
    l->array = array;
    l->tail = &l->first;
    l->out = out;
}


static authz_entry_t *
authz_entry_add(hoop_authz_plan_t *p, authz_list_t *l,
    hoop_kafka_node_t *elem)
{
    authz_entry_t  *e;

    e = authz_alloc(p, sizeof(authz_entry_t));
    if (e == NULL) {
        return NULL;
    }

    e->elem = elem;
    *l->tail = e;
    l->tail = &e->next;
    l->n++;

    return e;
}


static int
authz_entry_name(hoop_authz_plan_t *p, authz_entry_t *e,
    const uint8_t *name, size_t len)
{
    e->name = authz_dup(p, name, len);
    if (e->name == NULL) {
        return HOOP_AUTHZ_ENOMEM;
    }

    e->len = len;
    e->flags |= AUTHZ_E_NAME;

    return HOOP_AUTHZ_OK;
}


/* Copies the entries of a request array (NULL or null: none). */
static int
authz_collect(hoop_authz_plan_t *p, authz_list_t *l,
    hoop_kafka_node_t *array, const authz_in_t *in, const authz_out_t *out)
{
    size_t              len, i;
    authz_entry_t      *e;
    const uint8_t      *s;
    hoop_kafka_node_t  *elem, *n, *parts, *pe;

    authz_list_init(l, array, out);

    if (array == NULL || array->type != HOOP_KAFKA_T_ARRAY
        || hoop_kafka_node_is_null(array))
    {
        l->array = NULL;
        return HOOP_AUTHZ_OK;
    }

    for (elem = hoop_kafka_node_first(array); elem; elem = elem->next) {
        e = authz_entry_add(p, l, elem);
        if (e == NULL) {
            return HOOP_AUTHZ_ENOMEM;
        }

        n = in->name ? authz_child(elem, in->name) : elem;

        if (n != NULL && n->type == HOOP_KAFKA_T_STRING) {
            s = hoop_kafka_node_bytes(n, &len);

            if (s != NULL && authz_entry_name(p, e, s, len) != 0) {
                return HOOP_AUTHZ_ENOMEM;
            }
        }

        n = authz_child(elem, in->id);

        if (n != NULL && n->type == HOOP_KAFKA_T_UUID) {
            s = hoop_kafka_node_bytes(n, &len);

            if (s != NULL && len == 16) {
                e->id = authz_dup(p, s, 16);
                if (e->id == NULL) {
                    return HOOP_AUTHZ_ENOMEM;
                }
            }
        }

        if (in->rtype) {
            e->rtype = (int8_t) authz_int(elem, in->rtype, 0);
        }

        parts = authz_array(elem, in->parts);
        if (parts == NULL) {
            continue;
        }

        e->parts = authz_alloc(p, parts->u.list.count * sizeof(int32_t));
        if (e->parts == NULL) {
            return HOOP_AUTHZ_ENOMEM;
        }

        i = 0;

        for (pe = hoop_kafka_node_first(parts); pe; pe = pe->next) {
            e->parts[i++] = (int32_t) (in->index
                                       ? authz_int(pe, in->index, 0)
                                       : hoop_kafka_node_int(pe));
        }

        e->nparts = i;
    }

    return HOOP_AUTHZ_OK;
}


/*
 * Topic ids to names (KIP-516): an entry without a name gets the name of
 * its id, or UNKNOWN_TOPIC_ID when the id is zero or unknown (Kafka does
 * the same with its metadata cache).
 */
static int
authz_resolve(hoop_authz_plan_t *p, authz_list_t *l)
{
    size_t          len;
    authz_entry_t  *e;
    const uint8_t  *name;

    for (e = l->first; e; e = e->next) {
        if ((e->flags & (AUTHZ_E_NAME | AUTHZ_E_SKIP)) || e->error) {
            continue;
        }

        e->flags |= AUTHZ_E_BY_ID;

        if (e->id == NULL) {
            e->id = authz_zero_uuid;
        }

        name = NULL;
        len = 0;

        if (!authz_uuid_zero(e->id) && p->conf.resolve != NULL
            && p->conf.resolve(p->conf.resolve_ctx, e->id, &name, &len) == 1
            && name != NULL)
        {
            if (authz_entry_name(p, e, name, len) != 0) {
                return HOOP_AUTHZ_ENOMEM;
            }

            continue;
        }

        e->error = HOOP_AUTHZ_ERR_UNKNOWN_TOPIC_ID;
    }

    return HOOP_AUTHZ_OK;
}


/* op on each entry not yet answered; denied ones get code. */
static int
authz_decide(hoop_authz_plan_t *p, authz_list_t *l, hoop_policy_res_t type,
    hoop_policy_op_t op, int16_t code, unsigned flags)
{
    int             rc;
    authz_entry_t  *e;

    for (e = l->first; e; e = e->next) {
        if (e->error || (e->flags & AUTHZ_E_SKIP)) {
            continue;
        }

        rc = authz_check(p, type, e->name, e->len, op, flags, e->elem);
        if (rc < 0) {
            return rc;
        }

        if (rc == 0) {
            e->error = code;
        }
    }

    return HOOP_AUTHZ_OK;
}


static size_t
authz_count_denied(authz_list_t *l)
{
    size_t          n;
    authz_entry_t  *e;

    n = 0;

    for (e = l->first; e; e = e->next) {
        if (e->error) {
            n++;
        }
    }

    l->ndenied = n;

    return n;
}


/* Every entry not yet answered gets code. */
static void
authz_fail_rest(authz_list_t *l, int16_t code)
{
    authz_entry_t  *e;

    for (e = l->first; e; e = e->next) {
        if (e->error == 0) {
            e->error = code;
        }
    }

    l->ndenied = l->n;
}


/* Takes the answered (and dropped) entries out of the request. */
static void
authz_remove(hoop_authz_plan_t *p, authz_list_t *l)
{
    authz_entry_t  *e;

    for (e = l->first; e; e = e->next) {
        if ((e->error || (e->flags & AUTHZ_E_DROP)) && l->array != NULL) {
            authz_unlink(l->array, e->elem);
            p->result.rewritten = 1;
        }
    }
}


static void
authz_deny(hoop_authz_plan_t *p, int16_t code)
{
    p->result.action = HOOP_AUTHZ_DENY;
    p->result.response = 0;

    if (p->result.error == 0) {
        p->result.error = code;
    }
}


/* Answers the whole request: the entries denied keep their error, the
 * others get OPERATION_NOT_ATTEMPTED (55), as Kafka answers
 * AddPartitionsToTxn.  For requests that must not be partly forwarded. */
static void
authz_deny_whole(hoop_authz_plan_t *p, authz_list_t *l)
{
    authz_entry_t  *e;

    for (e = l->first; e; e = e->next) {
        if (e->error) {
            authz_deny(p, e->error);
            break;
        }
    }

    authz_fail_rest(l, HOOP_AUTHZ_ERR_OPERATION_NOT_ATTEMPTED);
    p->result.denied = l->n;
}


/*
 * Ends the plan of a request with one list of entries, each decided:
 * nothing answered: ALLOW; all answered and !forward_empty: DENY (Kafka
 * answers without asking the broker anything); else PARTIAL.
 */
static void
authz_finish(hoop_authz_plan_t *p, authz_list_t *l, int forward_empty)
{
    size_t          n;
    authz_entry_t  *e;

    n = authz_count_denied(l);

    p->result.denied += n;

    if (n == 0) {
        return;
    }

    for (e = l->first; e; e = e->next) {
        if (e->error) {
            if (p->result.error == 0) {
                p->result.error = e->error;
            }

            break;
        }
    }

    if (n == l->n && !forward_empty) {
        authz_deny(p, p->result.error);
        return;
    }

    authz_remove(p, l);

    p->result.action = HOOP_AUTHZ_PARTIAL;
    p->result.rewritten = 1;
    p->result.response = 1;
}


/* ----------------------------------------------------------------------
 * Answers: entries written into response trees
 */

static void
authz_emit_error(hoop_kafka_node_t *node, const authz_out_t *out,
    const authz_entry_t *e)
{
    const char         *m;
    const authz_int_t  *i;
    hoop_kafka_node_t  *r;

    if (out->error) {
        authz_set_int(node, out->error, e->error);
    }

    if (out->message) {
        m = e->message ? e->message : hoop_authz_error_message(e->error);

        if (m != NULL) {
            authz_set_str(node, out->message, (const uint8_t *) m,
                          strlen(m));
        }
    }

    for (i = out->ints; i && i->name; i++) {
        authz_set_int(node, i->name, i->value);
    }

    if (out->flags & AUTHZ_OUT_EMPTY_RECORDS) {
        r = authz_child(node, "Records");
        if (r != NULL) {
            (void) hoop_kafka_node_set_string(r, (const uint8_t *) "", 0);
        }
    }
}


/* Appends e to array as out says. */
static int
authz_emit(hoop_authz_plan_t *p, hoop_kafka_node_t *array,
    const authz_out_t *out, const authz_entry_t *e)
{
    size_t              i;
    hoop_kafka_node_t  *elem, *parts, *pe;

    elem = hoop_kafka_array_append(&p->a, array);
    if (elem == NULL) {
        return array->type == HOOP_KAFKA_T_ARRAY ? HOOP_AUTHZ_ENOMEM
                                                 : HOOP_AUTHZ_EINVALID;
    }

    if (elem->type != HOOP_KAFKA_T_STRUCT) {
        return HOOP_AUTHZ_EINVALID;
    }

    if (out->name) {
        if ((e->flags & AUTHZ_E_NAME) && !(e->flags & AUTHZ_E_HIDE_NAME)) {
            authz_set_str(elem, out->name, e->name, e->len);

        } else {
            authz_set_str(elem, out->name, NULL, 0);
        }
    }

    if (out->id && e->id != NULL
        && ((e->flags & AUTHZ_E_BY_ID) || !(e->flags & AUTHZ_E_NAME)))
    {
        authz_set_uuid(elem, out->id, e->id);
    }

    if (out->rtype) {
        authz_set_int(elem, out->rtype, e->rtype);
    }

    parts = authz_child(elem, out->parts);

    if (parts == NULL || parts->type != HOOP_KAFKA_T_ARRAY) {
        authz_emit_error(elem, out, e);
        return HOOP_AUTHZ_OK;
    }

    for (i = 0; i < e->nparts; i++) {
        pe = hoop_kafka_array_append(&p->a, parts);
        if (pe == NULL) {
            return HOOP_AUTHZ_ENOMEM;
        }

        authz_set_int(pe, out->index, e->parts[i]);
        authz_emit_error(pe, out, e);
    }

    return HOOP_AUTHZ_OK;
}


/* Was an entry with e's name emitted before it? */
static int
authz_emitted_before(const authz_list_t *l, const authz_entry_t *e)
{
    const authz_entry_t  *x;

    for (x = l->first; x != e; x = x->next) {
        if (x->error && authz_name_eq(x->name, x->len, e->name, e->len)) {
            return 1;
        }
    }

    return 0;
}


/* Appends the answered entries of l to the array of l->out under base. */
static int
authz_emit_list(hoop_authz_plan_t *p, hoop_kafka_node_t *base,
    authz_list_t *l)
{
    int                 rc;
    authz_entry_t      *e;
    hoop_kafka_node_t  *array;

    if (l->out == NULL || l->ndenied == 0) {
        return HOOP_AUTHZ_OK;
    }

    array = authz_path(base, l->out->path);
    if (array == NULL) {
        return HOOP_AUTHZ_OK;
    }

    if (array->type != HOOP_KAFKA_T_ARRAY) {
        return HOOP_AUTHZ_EINVALID;
    }

    for (e = l->first; e; e = e->next) {
        if (e->error == 0) {
            continue;
        }

        if ((l->out->flags & AUTHZ_OUT_UNIQUE)
            && authz_emitted_before(l, e))
        {
            continue;
        }

        rc = authz_emit(p, array, l->out, e);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }
    }

    return HOOP_AUTHZ_OK;
}


/*
 * The DENY answer: the response's defaults, the top-level error where
 * the response has one, every answered entry, then the ApiKey's own
 * fields.
 */
static int
authz_build_answer(hoop_authz_plan_t *p)
{
    int                 rc;
    size_t              i;
    const char         *m;
    hoop_kafka_node_t  *root;

    if (hoop_kafka_build(&p->a, p->api_key, p->version, 1, &root)
        != HOOP_KAFKA_OK)
    {
        return HOOP_AUTHZ_ENOMEM;
    }

    if (p->top_error) {
        authz_set_int(root, "ErrorCode", p->top_error);

        m = p->top_message ? p->top_message
                           : hoop_authz_error_message(p->top_error);

        if (m != NULL) {
            authz_set_str(root, "ErrorMessage", (const uint8_t *) m,
                          strlen(m));
        }
    }

    for (i = 0; i < AUTHZ_NLISTS; i++) {
        authz_count_denied(&p->lists[i]);

        rc = authz_emit_list(p, root, &p->lists[i]);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }
    }

    if (p->api->deny != NULL) {
        rc = p->api->deny(p, root);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }
    }

    p->answer = root;

    return HOOP_AUTHZ_OK;
}


/* The response element of array whose field is name, or NULL. */
static hoop_kafka_node_t *
authz_find_elem(hoop_kafka_node_t *array, const char *field,
    const uint8_t *name, size_t len)
{
    size_t              slen;
    const uint8_t      *s;
    hoop_kafka_node_t  *elem;

    for (elem = hoop_kafka_node_first(array); elem; elem = elem->next) {
        s = authz_str(elem, field, &slen);

        if (s != NULL && authz_name_eq(s, slen, name, len)) {
            return elem;
        }
    }

    return NULL;
}


int
hoop_authz_merge_response(hoop_authz_plan_t *plan, hoop_kafka_node_t *resp)
{
    int                 rc, changed;
    size_t              i;
    authz_list_t       *l;
    authz_entry_t      *e;
    hoop_kafka_node_t  *array, *elem;

    if (plan == NULL || resp == NULL
        || plan->result.action == HOOP_AUTHZ_DENY
        || resp->type != HOOP_KAFKA_T_STRUCT
        || resp->field != hoop_kafka_message(plan->api_key, 1)->root
        || resp->version != plan->version)
    {
        return HOOP_AUTHZ_EINVALID;
    }

    if (plan->merged) {
        return 0;
    }

    plan->merged = 1;
    changed = 0;

    for (i = 0; i < AUTHZ_NLISTS; i++) {
        l = &plan->lists[i];

        if (l->out == NULL) {
            continue;
        }

        if ((l->out->flags & AUTHZ_OUT_IF_OK)
            && authz_int(resp, "ErrorCode", 0) != 0)
        {
            continue;
        }

        if (l->ndenied) {
            rc = authz_emit_list(plan, resp, l);
            if (rc != HOOP_AUTHZ_OK) {
                return rc;
            }

            changed = 1;
        }

        /* sub-lists: the topics of a forwarded group (OffsetFetch v8+),
         * merged only where the broker answered the group without error,
         * as Kafka does */

        array = authz_path(resp, l->out->path);

        for (e = l->first; e; e = e->next) {
            if (e->error || e->sub == NULL || e->sub->ndenied == 0
                || array == NULL)
            {
                continue;
            }

            elem = authz_find_elem(array, l->out->name, e->name, e->len);

            if (elem == NULL || authz_int(elem, "ErrorCode", 0) != 0) {
                continue;
            }

            rc = authz_emit_list(plan, elem, e->sub);
            if (rc != HOOP_AUTHZ_OK) {
                return rc;
            }

            changed = 1;
        }
    }

    return changed;
}


/* ----------------------------------------------------------------------
 * Response filters
 */

/*
 * The topic of a response element: its name, or the name of its id
 * (resolver); NULL if neither is known.
 */
static const uint8_t *
authz_elem_topic(hoop_authz_plan_t *p, hoop_kafka_node_t *elem,
    const char *name_field, const char *id_field, size_t *len)
{
    size_t              n;
    const uint8_t      *s, *id;
    hoop_kafka_node_t  *idn;

    s = authz_str(elem, name_field, len);
    if (s != NULL) {
        return s;
    }

    idn = authz_child(elem, id_field);

    if (idn == NULL || idn->type != HOOP_KAFKA_T_UUID
        || p->conf.resolve == NULL)
    {
        return NULL;
    }

    id = hoop_kafka_node_bytes(idn, &n);

    if (id == NULL || n != 16 || authz_uuid_zero(id)) {
        return NULL;
    }

    s = NULL;

    if (p->conf.resolve(p->conf.resolve_ctx, id, &s, len) != 1) {
        return NULL;
    }

    return s;
}


/* Removes the elements of array whose topic the caller may not DESCRIBE
 * (or that name no known topic).  Returns 1 if any, 0, or an error. */
static int
authz_drop_topics(hoop_authz_plan_t *p, hoop_kafka_node_t *array,
    const char *name_field, const char *id_field, unsigned flags)
{
    int                 rc, changed;
    size_t              len;
    const uint8_t      *name;
    hoop_kafka_node_t  *elem, *next;

    if (array == NULL) {
        return 0;
    }

    changed = 0;

    for (elem = hoop_kafka_node_first(array); elem; elem = next) {
        next = elem->next;

        name = authz_elem_topic(p, elem, name_field, id_field, &len);

        if (name != NULL) {
            rc = authz_check(p, HOOP_POLICY_RES_TOPIC, name, len,
                             HOOP_POLICY_OP_DESCRIBE, flags, NULL);
            if (rc < 0) {
                return rc;
            }

            if (rc) {
                continue;
            }
        }

        authz_unlink(array, elem);
        changed = 1;
    }

    return changed;
}


/* Metadata, DescribeTopicPartitions */
static int
authz_filter_topics(hoop_authz_plan_t *p, hoop_kafka_node_t *resp)
{
    int                 rc, changed;
    size_t              len;
    int32_t             bits;
    const uint8_t      *name;
    hoop_kafka_node_t  *topics, *elem, *next, *cursor;

    changed = 0;
    topics = authz_array(resp, "Topics");

    for (elem = topics ? hoop_kafka_node_first(topics) : NULL;
         elem;
         elem = next)
    {
        next = elem->next;
        name = authz_str(elem, "Name", &len);

        if (name == NULL) {
            continue;
        }

        if (p->filter & AUTHZ_F_TOPICS_ALL) {
            rc = authz_check(p, HOOP_POLICY_RES_TOPIC, name, len,
                             HOOP_POLICY_OP_DESCRIBE,
                             p->api_key == HOOP_KAFKA_API_METADATA
                             ? HOOP_AUTHZ_CHECK_QUIET : 0, NULL);
            if (rc < 0) {
                return rc;
            }

            if (rc == 0) {
                authz_unlink(topics, elem);
                changed = 1;
                continue;
            }
        }

        /* a topic that does not exist and that Kafka would have refused
         * to create for the caller: TOPIC_AUTHORIZATION_FAILED */
        if ((p->filter & AUTHZ_F_NOCREATE)
            && authz_cached(p, HOOP_POLICY_RES_TOPIC, name, len,
                            HOOP_POLICY_OP_CREATE) == 0)
        {
            switch (authz_int(elem, "ErrorCode", 0)) {
            case HOOP_AUTHZ_ERR_UNKNOWN_TOPIC_OR_PARTITION:
            case HOOP_AUTHZ_ERR_INVALID_TOPIC:
                authz_set_int(elem, "ErrorCode",
                              HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED);
                authz_set_int(elem, "TopicAuthorizedOperations",
                              AUTHZ_OPS_OMITTED);
                authz_set_uuid(elem, "TopicId", authz_zero_uuid);
                changed = 1;
                continue;
            default:
                break;
            }
        }

        if (p->filter & AUTHZ_F_TOPIC_OPS) {
            rc = authz_ops(p, HOOP_POLICY_RES_TOPIC, name, len, &bits);
            if (rc < 0) {
                return rc;
            }

            authz_set_int(elem, "TopicAuthorizedOperations", bits);
            changed = 1;
        }
    }

    if (p->filter & AUTHZ_F_CLUSTER_OPS) {
        rc = authz_cluster(p, HOOP_POLICY_OP_DESCRIBE, 0);
        if (rc < 0) {
            return rc;
        }

        bits = 0;

        if (rc) {
            rc = authz_ops(p, HOOP_POLICY_RES_CLUSTER, AUTHZ_CLUSTER, &bits);
            if (rc < 0) {
                return rc;
            }
        }

        authz_set_int(resp, "ClusterAuthorizedOperations", bits);
        changed = 1;
    }

    cursor = authz_child(resp, "NextCursor");

    if ((p->filter & AUTHZ_F_CURSOR) && cursor != NULL
        && !hoop_kafka_node_is_null(cursor))
    {
        name = authz_str(cursor, "TopicName", &len);

        rc = name ? authz_check(p, HOOP_POLICY_RES_TOPIC, name, len,
                                HOOP_POLICY_OP_DESCRIBE,
                                HOOP_AUTHZ_CHECK_QUIET, NULL)
                  : 0;
        if (rc < 0) {
            return rc;
        }

        if (rc == 0) {
            /* the next page would start at a topic the caller may not
             * see: end the listing here rather than name it */
            cursor->flags |= HOOP_KAFKA_NODE_NULL;
            changed = 1;
        }
    }

    return changed;
}


/* ListGroups, DescribeGroups, ConsumerGroupDescribe */
static int
authz_filter_groups(hoop_authz_plan_t *p, hoop_kafka_node_t *resp)
{
    int                 rc, changed, denied;
    size_t              len, i;
    int32_t             bits;
    const char         *msg;
    const uint8_t      *name, *topic;
    hoop_kafka_node_t  *groups, *elem, *next, *members, *member, *asg, *tp;
    hoop_kafka_node_t  *fresh;

    static const char  *assignments[] = { "Assignment", "TargetAssignment" };

    changed = 0;
    groups = authz_array(resp, "Groups");

    for (elem = groups ? hoop_kafka_node_first(groups) : NULL;
         elem;
         elem = next)
    {
        next = elem->next;
        name = authz_str(elem, "GroupId", &len);

        if (name == NULL) {
            continue;
        }

        if (p->filter & AUTHZ_F_GROUPS) {
            rc = authz_check(p, HOOP_POLICY_RES_GROUP, name, len,
                             HOOP_POLICY_OP_DESCRIBE, HOOP_AUTHZ_CHECK_QUIET,
                             NULL);
            if (rc < 0) {
                return rc;
            }

            if (rc == 0) {
                authz_unlink(groups, elem);
                changed = 1;
            }

            continue;
        }

        if (authz_int(elem, "ErrorCode", 0) != 0) {
            continue;
        }

        if (p->filter & AUTHZ_F_CGD_TOPICS) {
            /* KAFKA-18813: a group whose assignments name a topic the
             * caller may not DESCRIBE is answered with an error only */
            denied = 0;

            members = authz_array(elem, "Members");

            for (member = members ? hoop_kafka_node_first(members) : NULL;
                 member;
                 member = member->next)
            {
                for (i = 0; i < 2; i++) {
                    asg = authz_child(member, assignments[i]);
                    tp = authz_array(asg, "TopicPartitions");

                    for (tp = tp ? hoop_kafka_node_first(tp) : NULL;
                         tp;
                         tp = tp->next)
                    {
                        topic = authz_str(tp, "TopicName", &len);
                        if (topic == NULL) {
                            topic = (const uint8_t *) "";
                        }

                        rc = authz_check(p, HOOP_POLICY_RES_TOPIC, topic,
                                         len, HOOP_POLICY_OP_DESCRIBE, 0,
                                         NULL);
                        if (rc < 0) {
                            return rc;
                        }

                        if (rc == 0) {
                            denied = 1;
                        }
                    }
                }
            }

            if (denied) {
                fresh = hoop_kafka_array_append(&p->a, groups);
                if (fresh == NULL) {
                    return HOOP_AUTHZ_ENOMEM;
                }

                name = authz_str(elem, "GroupId", &len);
                authz_set_str(fresh, "GroupId", name, len);
                authz_set_int(fresh, "ErrorCode",
                              HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED);

                msg = "The group has described topic(s) that the client is "
                      "not authorized to describe.";
                authz_set_str(fresh, "ErrorMessage", (const uint8_t *) msg,
                              strlen(msg));

                authz_replace(groups, elem, fresh);
                changed = 1;
                continue;
            }
        }

        if (p->filter & AUTHZ_F_GROUP_OPS) {
            name = authz_str(elem, "GroupId", &len);

            rc = authz_ops(p, HOOP_POLICY_RES_GROUP, name, len, &bits);
            if (rc < 0) {
                return rc;
            }

            authz_set_int(elem, "AuthorizedOperations", bits);
            changed = 1;
        }
    }

    return changed;
}


/* OffsetFetch for all the partitions of a group */
static int
authz_filter_offsets(hoop_authz_plan_t *p, hoop_kafka_node_t *resp)
{
    int                 rc, changed;
    authz_entry_t      *e;
    hoop_kafka_node_t  *groups, *elem;

    if (p->version < 8) {
        if (authz_int(resp, "ErrorCode", 0) != 0) {
            return 0;
        }

        return authz_drop_topics(p, authz_array(resp, "Topics"), "Name",
                                 NULL, 0);
    }

    changed = 0;
    groups = authz_array(resp, "Groups");

    for (e = p->lists[0].first; e && groups; e = e->next) {
        if (!(e->flags & AUTHZ_E_ALL) || e->error) {
            continue;
        }

        elem = authz_find_elem(groups, "GroupId", e->name, e->len);

        if (elem == NULL || authz_int(elem, "ErrorCode", 0) != 0) {
            continue;
        }

        rc = authz_drop_topics(p, authz_array(elem, "Topics"), "Name",
                               "TopicId", 0);
        if (rc < 0) {
            return rc;
        }

        changed |= rc;
    }

    return changed;
}


/* CreateTopics v5+: configs of a created topic only with DESCRIBE_CONFIGS
 * (ReplicationControlManager.createTopic()) */
static int
authz_filter_configs(hoop_authz_plan_t *p, hoop_kafka_node_t *resp)
{
    int                 rc, changed;
    size_t              len;
    const uint8_t      *name;
    hoop_kafka_node_t  *topics, *elem, *configs;

    changed = 0;
    topics = authz_array(resp, "Topics");

    for (elem = topics ? hoop_kafka_node_first(topics) : NULL;
         elem;
         elem = elem->next)
    {
        name = authz_str(elem, "Name", &len);

        if (name == NULL || authz_int(elem, "ErrorCode", 0) != 0
            || authz_cached(p, HOOP_POLICY_RES_TOPIC, name, len,
                            HOOP_POLICY_OP_DESCRIBE_CONFIGS) != 0)
        {
            continue;
        }

        configs = authz_child(elem, "Configs");
        if (configs != NULL) {
            configs->u.list.first = NULL;
            configs->u.list.count = 0;
            configs->flags &= ~HOOP_KAFKA_NODE_NULL;
        }

        authz_set_int(elem, "NumPartitions", -1);
        authz_set_int(elem, "ReplicationFactor", -1);

        rc = authz_set_tagged_int(p, elem, "TopicConfigErrorCode",
                                  HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }

        changed = 1;
    }

    return changed;
}


/* DescribeTransactions (topics), ListTransactions (transactional ids) */
static int
authz_filter_txns(hoop_authz_plan_t *p, hoop_kafka_node_t *resp)
{
    int                 rc, changed;
    size_t              len;
    const uint8_t      *name;
    hoop_kafka_node_t  *states, *elem, *next;

    changed = 0;
    states = authz_array(resp, "TransactionStates");

    for (elem = states ? hoop_kafka_node_first(states) : NULL;
         elem;
         elem = next)
    {
        next = elem->next;

        if (p->filter & AUTHZ_F_TXN_IDS) {
            name = authz_str(elem, "TransactionalId", &len);

            rc = name ? authz_check(p, HOOP_POLICY_RES_TRANSACTIONAL_ID,
                                    name, len, HOOP_POLICY_OP_DESCRIBE, 0,
                                    NULL)
                      : 0;
            if (rc < 0) {
                return rc;
            }

            if (rc == 0) {
                authz_unlink(states, elem);
                changed = 1;
            }

            continue;
        }

        rc = authz_drop_topics(p, authz_array(elem, "Topics"), "Topic",
                               NULL, 0);
        if (rc < 0) {
            return rc;
        }

        changed |= rc;
    }

    return changed;
}


int
hoop_authz_filter_response(hoop_authz_plan_t *plan,
    const hoop_authz_conf_t *conf, hoop_kafka_node_t *resp)
{
    int  rc, changed;

    if (plan == NULL || resp == NULL
        || plan->result.action == HOOP_AUTHZ_DENY
        || resp->type != HOOP_KAFKA_T_STRUCT
        || resp->field != hoop_kafka_message(plan->api_key, 1)->root
        || resp->version != plan->version
        || (conf != NULL && conf->decide == NULL))
    {
        return HOOP_AUTHZ_EINVALID;
    }

    if (plan->filtered || plan->filter == 0) {
        return 0;
    }

    plan->filtered = 1;
    plan->rconf = conf ? conf : &plan->conf;
    plan->check_flags = HOOP_AUTHZ_CHECK_RESPONSE;

    changed = 0;
    rc = 0;

    if (plan->filter & (AUTHZ_F_TOPICS_ALL | AUTHZ_F_TOPIC_OPS
                        | AUTHZ_F_CLUSTER_OPS | AUTHZ_F_NOCREATE
                        | AUTHZ_F_CURSOR))
    {
        rc = authz_filter_topics(plan, resp);
        changed |= rc > 0;
    }

    if (rc >= 0 && (plan->filter & (AUTHZ_F_GROUPS | AUTHZ_F_GROUP_OPS
                                    | AUTHZ_F_CGD_TOPICS)))
    {
        rc = authz_filter_groups(plan, resp);
        changed |= rc > 0;
    }

    if (rc >= 0 && (plan->filter & AUTHZ_F_OFFSETS_ALL)) {
        rc = authz_filter_offsets(plan, resp);
        changed |= rc > 0;
    }

    if (rc >= 0 && (plan->filter & AUTHZ_F_CONFIGS)) {
        rc = authz_filter_configs(plan, resp);
        changed |= rc > 0;
    }

    if (rc >= 0 && (plan->filter & (AUTHZ_F_TXN_TOPICS | AUTHZ_F_TXN_IDS))) {
        rc = authz_filter_txns(plan, resp);
        changed |= rc > 0;
    }

    plan->check_flags = 0;
    plan->rconf = &plan->conf;

    return rc < 0 ? rc : changed;
}


int
hoop_authz_response(hoop_authz_plan_t *plan, const hoop_authz_conf_t *conf,
    hoop_kafka_node_t *resp)
{
    int  rc, changed;

    rc = hoop_authz_filter_response(plan, conf, resp);
    if (rc < 0) {
        return rc;
    }

    changed = rc;

    rc = hoop_authz_merge_response(plan, resp);
    if (rc < 0) {
        return rc;
    }

    return changed | rc;
}


/* ----------------------------------------------------------------------
 * Where answered entries go, per response
 */

static const authz_int_t  authz_produce_ints[] = {
    { "BaseOffset", -1 }, { "LogAppendTimeMs", -1 },
    { "LogStartOffset", -1 }, { NULL, 0 }
};

static const authz_out_t  authz_produce_out = {
    { "Responses" }, "Name", "TopicId", NULL, "PartitionResponses", "Index",
    "ErrorCode", "ErrorMessage", authz_produce_ints, 0
};

/* FetchResponse.partitionResponse() */
static const authz_int_t  authz_fetch_ints[] = {
    { "HighWatermark", -1 }, { "LastStableOffset", -1 },
    { "LogStartOffset", -1 }, { NULL, 0 }
};

static const authz_out_t  authz_fetch_out = {
    { "Responses" }, "Topic", "TopicId", NULL, "Partitions", "PartitionIndex",
    "ErrorCode", NULL, authz_fetch_ints, AUTHZ_OUT_EMPTY_RECORDS
};

static const authz_int_t  authz_list_offsets_ints[] = {
    { "Timestamp", -1 }, { "Offset", -1 }, { NULL, 0 }
};

static const authz_out_t  authz_list_offsets_out = {
    { "Topics" }, "Name", NULL, NULL, "Partitions", "PartitionIndex",
    "ErrorCode", NULL, authz_list_offsets_ints, 0
};

static const authz_out_t  authz_metadata_out = {
    { "Topics" }, "Name", "TopicId", NULL, NULL, NULL,
    "ErrorCode", NULL, NULL, 0
};

static const authz_out_t  authz_offset_commit_out = {
    { "Topics" }, "Name", "TopicId", NULL, "Partitions", "PartitionIndex",
    "ErrorCode", NULL, NULL, 0
};

static const authz_int_t  authz_offset_fetch_ints[] = {
    { "CommittedOffset", -1 }, { "CommittedLeaderEpoch", -1 }, { NULL, 0 }
};

static const authz_out_t  authz_offset_fetch_out = {
    { "Topics" }, "Name", "TopicId", NULL, "Partitions", "PartitionIndex",
    "ErrorCode", NULL, authz_offset_fetch_ints, AUTHZ_OUT_IF_OK
};

static const authz_out_t  authz_offset_fetch_groups_out = {
    { "Groups" }, "GroupId", NULL, NULL, NULL, NULL,
    "ErrorCode", NULL, NULL, 0
};

static const authz_int_t  authz_coordinator_ints[] = {
    { "NodeId", -1 }, { "Port", -1 }, { NULL, 0 }
};

static const authz_out_t  authz_coordinator_out = {
    { "Coordinators" }, "Key", NULL, NULL, NULL, NULL,
    "ErrorCode", "ErrorMessage", authz_coordinator_ints, 0
};

static const authz_out_t  authz_describe_groups_out = {
    { "Groups" }, "GroupId", NULL, NULL, NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_create_topics_out = {
    { "Topics" }, "Name", NULL, NULL, NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_delete_topics_out = {
    { "Responses" }, "Name", "TopicId", NULL, NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_int_t  authz_delete_records_ints[] = {
    { "LowWatermark", -1 }, { NULL, 0 }
};

static const authz_out_t  authz_delete_records_out = {
    { "Topics" }, "Name", NULL, NULL, "Partitions", "PartitionIndex",
    "ErrorCode", NULL, authz_delete_records_ints, 0
};

static const authz_out_t  authz_leader_epoch_out = {
    { "Topics" }, "Topic", NULL, NULL, "Partitions", "Partition",
    "ErrorCode", NULL, NULL, 0
};

static const authz_out_t  authz_add_partitions_out = {
    { "ResultsByTopicV3AndBelow" }, "Name", NULL, NULL, "ResultsByPartition",
    "PartitionIndex", "PartitionErrorCode", NULL, NULL, 0
};

static const authz_out_t  authz_txn_offset_commit_out = {
    { "Topics" }, "Name", NULL, NULL, "Partitions", "PartitionIndex",
    "ErrorCode", NULL, NULL, 0
};

static const authz_out_t  authz_create_acls_out = {
    { "Results" }, NULL, NULL, NULL, NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_delete_acls_out = {
    { "FilterResults" }, NULL, NULL, NULL, NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_describe_configs_out = {
    { "Results" }, "ResourceName", NULL, "ResourceType", NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_alter_configs_out = {
    { "Responses" }, "ResourceName", NULL, "ResourceType", NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_replica_log_dirs_out = {
    { "Results" }, "TopicName", NULL, NULL, "Partitions", "PartitionIndex",
    "ErrorCode", NULL, NULL, 0
};

static const authz_out_t  authz_create_partitions_out = {
    { "Results" }, "Name", NULL, NULL, NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_delete_groups_out = {
    { "Results" }, "GroupId", NULL, NULL, NULL, NULL,
    "ErrorCode", NULL, NULL, AUTHZ_OUT_UNIQUE
};

static const authz_out_t  authz_elect_leaders_out = {
    { "ReplicaElectionResults" }, "Topic", NULL, NULL, "PartitionResult",
    "PartitionId", "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_reassign_out = {
    { "Responses" }, "Name", NULL, NULL, "Partitions", "PartitionIndex",
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_list_reassign_out = {
    { "Topics" }, "Name", NULL, NULL, "Partitions", "PartitionIndex",
    NULL, NULL, NULL, 0
};

static const authz_out_t  authz_offset_delete_out = {
    { "Topics" }, "Name", NULL, NULL, "Partitions", "PartitionIndex",
    "ErrorCode", NULL, NULL, 0
};

static const authz_out_t  authz_quotas_out = {
    { "Entries" }, NULL, NULL, NULL, NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_scram_out = {
    { "Results" }, NULL, NULL, NULL, NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_scram_users_out = {
    { "Results" }, "User", NULL, NULL, NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_producers_out = {
    { "Topics" }, "Name", NULL, NULL, "Partitions", "PartitionIndex",
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_txns_out = {
    { "TransactionStates" }, "TransactionalId", NULL, NULL, NULL, NULL,
    "ErrorCode", NULL, NULL, 0
};

static const authz_out_t  authz_cg_describe_out = {
    { "Groups" }, "GroupId", NULL, NULL, NULL, NULL,
    "ErrorCode", "ErrorMessage", NULL, 0
};

static const authz_out_t  authz_dtp_out = {
    { "Topics" }, "Name", NULL, NULL, NULL, NULL,
    "ErrorCode", NULL, NULL, 0
};


/* request side */
static const authz_in_t  authz_in_strings = { NULL, NULL, NULL, NULL, NULL };
static const authz_in_t  authz_in_name = { "Name", NULL, NULL, NULL, NULL };


/* ----------------------------------------------------------------------
 * Planner helpers
 */

/*
 * One resource decides the whole request (a group of JoinGroup, the
 * transactional id of EndTxn, ...): 1 allowed, 0 denied (the plan is then
 * a DENY with code at the top), or an error.
 */
static int
authz_gate(hoop_authz_plan_t *p, hoop_policy_res_t type, const uint8_t *name,
    size_t len, hoop_policy_op_t op, int16_t code)
{
    int  rc;

    if (name == NULL) {
        name = (const uint8_t *) "";
        len = 0;
    }

    rc = authz_check(p, type, name, len, op, 0, p->req);

    if (rc == 0) {
        p->top_error = code;
        authz_deny(p, code);
    }

    return rc;
}


static int
authz_gate_field(hoop_authz_plan_t *p, hoop_policy_res_t type,
    const char *field, hoop_policy_op_t op, int16_t code)
{
    size_t          len;
    const uint8_t  *name;

    name = authz_str(p->req, field, &len);

    return authz_gate(p, type, name, len, op, code);
}


/* Entries whose key (resource type and name, or topic id) another entry
 * of the list repeats: Kafka answers them INVALID_REQUEST without acting
 * (CreateTopics, DeleteTopics, CreatePartitions, AlterConfigs, ...), so
 * they are forwarded unchecked. */
static void
authz_skip_duplicates(authz_list_t *l)
{
    authz_entry_t  *e, *x;

    for (e = l->first; e; e = e->next) {
        if (e->error || (e->flags & AUTHZ_E_SKIP)) {
            continue;
        }

        for (x = e->next; x; x = x->next) {
            if (x->error || x->rtype != e->rtype) {
                continue;
            }

            if (((e->flags & AUTHZ_E_NAME) && (x->flags & AUTHZ_E_NAME)
                 && !(e->flags & AUTHZ_E_BY_ID)
                 && !(x->flags & AUTHZ_E_BY_ID)
                 && authz_name_eq(e->name, e->len, x->name, x->len))
                || ((e->flags & AUTHZ_E_BY_ID) && (x->flags & AUTHZ_E_BY_ID)
                    && memcmp(e->id, x->id, 16) == 0))
            {
                e->flags |= AUTHZ_E_SKIP;
                x->flags |= AUTHZ_E_SKIP;
            }
        }
    }
}


/* "Unknown resource type 3." in the arena */
static const char *
authz_msg_type(hoop_authz_plan_t *p, const char *prefix, int v,
    const char *suffix)
{
    char    *m, digits[8];
    size_t   plen, slen, n;
    unsigned u;

    u = (unsigned) (v < 0 ? -v : v);
    n = 0;

    do {
        digits[n++] = (char) ('0' + u % 10);
        u /= 10;
    } while (u && n < sizeof(digits) - 1);

    if (v < 0) {
        digits[n++] = '-';
    }

    plen = strlen(prefix);
    slen = strlen(suffix);

    m = authz_alloc(p, plen + n + slen + 1);
    if (m == NULL) {
        return NULL;
    }

    memcpy(m, prefix, plen);

    for (u = 0; u < n; u++) {
        m[plen + u] = digits[n - 1 - u];
    }

    memcpy(m + plen + n, suffix, slen + 1);

    return m;
}


/* ConfigResource.Type to the resource Kafka checks and its error; 0 for a
 * type Kafka does not know. */
static int
authz_config_resource(int8_t rtype, hoop_policy_res_t *type, int16_t *code)
{
    switch (rtype) {
    case 2:                                     /* TOPIC */
        *type = HOOP_POLICY_RES_TOPIC;
        *code = HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED;
        return 1;
    case 4:                                     /* BROKER */
    case 8:                                     /* BROKER_LOGGER */
    case 16:                                    /* CLIENT_METRICS */
        *type = HOOP_POLICY_RES_CLUSTER;
        *code = HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED;
        return 1;
    case 32:                                    /* GROUP */
        *type = HOOP_POLICY_RES_GROUP;
        *code = HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED;
        return 1;
    default:
        return 0;
    }
}


/* op on each entry of a list of config resources */
static int
authz_decide_configs(hoop_authz_plan_t *p, authz_list_t *l,
    hoop_policy_op_t op)
{
    int                 rc;
    int16_t             code;
    authz_entry_t      *e;
    hoop_policy_res_t   type;

    for (e = l->first; e; e = e->next) {
        if (e->error || (e->flags & AUTHZ_E_SKIP)
            || !authz_config_resource(e->rtype, &type, &code))
        {
            continue;
        }

        if (type == HOOP_POLICY_RES_CLUSTER) {
            rc = authz_check(p, type, AUTHZ_CLUSTER, op, 0, e->elem);

        } else {
            rc = authz_check(p, type, e->name, e->len, op, 0, e->elem);
        }

        if (rc < 0) {
            return rc;
        }

        if (rc == 0) {
            e->error = code;
        }
    }

    return HOOP_AUTHZ_OK;
}


/* Produce: do the records carry a transactional batch?  Kafka looks at
 * the first batch of each partition (RequestUtils.hasTransactional
 * Records(); v3+ allows one batch per partition).  A batch too short to
 * read is counted as transactional: the transactional id is then checked
 * (the broker refuses such a batch anyway). */
static int
authz_produce_transactional(hoop_kafka_node_t *topics)
{
    size_t              len;
    uint32_t            size;
    const uint8_t      *r;
    hoop_kafka_node_t  *topic, *parts, *part, *rn;

    for (topic = topics ? hoop_kafka_node_first(topics) : NULL;
         topic;
         topic = topic->next)
    {
        parts = authz_array(topic, "PartitionData");

        for (part = parts ? hoop_kafka_node_first(parts) : NULL;
             part;
             part = part->next)
        {
            rn = authz_child(part, "Records");
            if (rn == NULL) {
                continue;
            }

            r = hoop_kafka_node_bytes(rn, &len);

            /* baseOffset 8, batchLength 4, leaderEpoch 4, magic 1, crc 4,
             * attributes 2 (bit 4: transactional) */
            if (r == NULL || len < 17) {
                continue;
            }

            size = ((uint32_t) r[8] << 24) | ((uint32_t) r[9] << 16)
                   | ((uint32_t) r[10] << 8) | r[11];

            if ((size_t) size > len - 12 || r[16] < 2) {
                continue;
            }

            if (len < 61 || size < 49 || (r[22] & 0x10)) {
                return 1;
            }
        }
    }

    return 0;
}


/* ----------------------------------------------------------------------
 * Planners, one per ApiKey (KafkaApis.handle*, in Kafka's order)
 */

static int
authz_plan_none(hoop_authz_plan_t *p)
{
    (void) p;

    return HOOP_AUTHZ_OK;
}


/* Produce: WRITE on the transactional id for transactional records, WRITE
 * per topic.  A request with a transactional id is all or nothing. */
static int
authz_plan_produce(hoop_authz_plan_t *p)
{
    int                 rc;
    size_t              tlen;
    int64_t             acks;
    authz_list_t       *l;
    const uint8_t      *txn;
    hoop_kafka_node_t  *topics;

    static const authz_in_t  in = {
        "Name", "TopicId", "PartitionData", "Index", NULL
    };

    l = &p->lists[0];
    topics = authz_array(p->req, "TopicData");
    txn = authz_str(p->req, "TransactionalId", &tlen);
    acks = authz_int(p->req, "Acks", -1);

    p->result.no_response = (acks == 0);

    rc = authz_collect(p, l, topics, &in, &authz_produce_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    if (authz_produce_transactional(topics)) {
        if (txn == NULL) {
            rc = authz_check(p, HOOP_POLICY_RES_TRANSACTIONAL_ID,
                             (const uint8_t *) "", 0, HOOP_POLICY_OP_WRITE,
                             HOOP_AUTHZ_CHECK_IMPLICIT, p->req);
        } else {
            rc = authz_check(p, HOOP_POLICY_RES_TRANSACTIONAL_ID, txn, tlen,
                             HOOP_POLICY_OP_WRITE, 0, p->req);
        }

        if (rc < 0) {
            return rc;
        }

        if (rc == 0) {
            authz_fail_rest(l,
                HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
            p->result.denied = l->n;
            authz_deny(p, HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
            goto done;
        }
    }

    if (p->version >= 13) {
        rc = authz_resolve(p, l);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }
    }

    rc = authz_decide(p, l, HOOP_POLICY_RES_TOPIC, HOOP_POLICY_OP_WRITE,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    if (txn != NULL && authz_count_denied(l) > 0) {
        /* never partly forwarded: the rest is not attempted */
        authz_deny_whole(p, l);

    } else {
        authz_finish(p, l, 0);
    }

done:

    if (acks == 0 && p->result.action != HOOP_AUTHZ_ALLOW) {
        /* Kafka closes an acks=0 connection on any error */
        p->result.close = 1;
        p->result.response = 0;
    }

    return HOOP_AUTHZ_OK;
}


/* Fetch: followers CLUSTER_ACTION for everything; consumers READ per
 * topic.  Consumer fetches are made sessionless (hoop_authz_conf_t). */
static int
authz_plan_fetch(hoop_authz_plan_t *p)
{
    int                 rc;
    int64_t             replica;
    authz_list_t       *l;
    hoop_kafka_node_t  *n;

    static const authz_in_t  in = {
        "Topic", "TopicId", "Partitions", "Partition", NULL
    };

    l = &p->lists[0];

    rc = authz_collect(p, l, authz_array(p->req, "Topics"), &in,
                       &authz_fetch_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    if (p->version <= 14) {
        replica = authz_int(p->req, "ReplicaId", -1);

    } else {
        n = authz_child(p->req, "ReplicaState");
        replica = n ? authz_int(n, "ReplicaId", -1) : -1;
    }

    if (replica >= 0) {
        rc = authz_cluster(p, HOOP_POLICY_OP_CLUSTER_ACTION, 0);
        if (rc <= 0) {
            if (rc == 0) {
                authz_fail_rest(l, HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED);
                p->result.denied = l->n;
                authz_deny(p, HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED);
            }

            return rc;
        }

        return HOOP_AUTHZ_OK;
    }

    if (p->version >= 13) {
        rc = authz_resolve(p, l);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }
    }

    rc = authz_decide(p, l, HOOP_POLICY_RES_TOPIC, HOOP_POLICY_OP_READ,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    if (p->version >= 7 && !(p->conf.flags & HOOP_AUTHZ_KEEP_FETCH_SESSIONS)
        && (authz_int(p->req, "SessionId", 0) != 0
            || authz_int(p->req, "SessionEpoch", -1) != -1))
    {
        authz_set_int(p->req, "SessionId", 0);
        authz_set_int(p->req, "SessionEpoch", -1);
        p->result.rewritten = 1;
    }

    authz_finish(p, l, 0);

    return HOOP_AUTHZ_OK;
}


static int
authz_plan_list_offsets(hoop_authz_plan_t *p)
{
    int  rc;

    static const authz_in_t  in = {
        "Name", NULL, "Partitions", "PartitionIndex", NULL
    };

    rc = authz_collect(p, &p->lists[0], authz_array(p->req, "Topics"), &in,
                       &authz_list_offsets_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_decide(p, &p->lists[0], HOOP_POLICY_RES_TOPIC,
                      HOOP_POLICY_OP_DESCRIBE,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_finish(p, &p->lists[0], 0);

    return HOOP_AUTHZ_OK;
}


/*
 * Metadata v4+: DESCRIBE per listed topic (by name, or by id in v12+,
 * where a request naming any id is answered by ids only); "all topics"
 * filtered in the response.  Auto-creation needs CREATE on the cluster or
 * the topic; without it the request goes with AllowAutoTopicCreation off
 * and a topic that does not exist is answered TOPIC_AUTHORIZATION_FAILED,
 * as Kafka does.
 */
static int
authz_plan_metadata(hoop_authz_plan_t *p)
{
    int                 rc, by_id, nocreate, left;
    authz_list_t       *l;
    authz_entry_t      *e;
    hoop_kafka_node_t  *topics;

    static const authz_in_t  in = { "Name", "TopicId", NULL, NULL, NULL };

    l = &p->lists[0];

    if (p->version >= 8) {
        if (authz_int(p->req, "IncludeTopicAuthorizedOperations", 0)) {
            p->filter |= AUTHZ_F_TOPIC_OPS;
        }

        if (p->version <= 10
            && authz_int(p->req, "IncludeClusterAuthorizedOperations", 0))
        {
            p->filter |= AUTHZ_F_CLUSTER_OPS;
        }
    }

    topics = authz_child(p->req, "Topics");

    if (topics == NULL || hoop_kafka_node_is_null(topics)) {
        p->filter |= AUTHZ_F_TOPICS_ALL;
        return HOOP_AUTHZ_OK;
    }

    rc = authz_collect(p, l, topics, &in, &authz_metadata_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    by_id = 0;

    for (e = l->first; p->version >= 12 && e; e = e->next) {
        if (!authz_uuid_zero(e->id)) {
            by_id = 1;
        }
    }

    for (e = l->first; e; e = e->next) {
        if (by_id) {
            if (authz_uuid_zero(e->id)) {
                e->flags |= AUTHZ_E_SKIP;       /* ignored by Kafka */
                continue;
            }

            e->flags = (uint8_t) ((e->flags & ~AUTHZ_E_NAME)
                                  | AUTHZ_E_HIDE_NAME);

        } else if (!(e->flags & AUTHZ_E_NAME) || !authz_uuid_zero(e->id)) {
            e->flags |= AUTHZ_E_SKIP;           /* the broker refuses */
        }
    }

    if (by_id) {
        rc = authz_resolve(p, l);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }
    }

    rc = authz_decide(p, l, HOOP_POLICY_RES_TOPIC, HOOP_POLICY_OP_DESCRIBE,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    left = 0;

    for (e = l->first; e; e = e->next) {
        if (e->error == 0 && !(e->flags & AUTHZ_E_SKIP)) {
            left = 1;
        }
    }

    if (!by_id && left && !(p->conf.flags & HOOP_AUTHZ_NO_AUTO_CREATE)
        && authz_int(p->req, "AllowAutoTopicCreation", 1))
    {
        rc = authz_cluster(p, HOOP_POLICY_OP_CREATE, HOOP_AUTHZ_CHECK_QUIET);
        if (rc < 0) {
            return rc;
        }

        nocreate = 0;

        for (e = l->first; rc == 0 && e; e = e->next) {
            if (e->error || (e->flags & AUTHZ_E_SKIP)) {
                continue;
            }

            rc = authz_check(p, HOOP_POLICY_RES_TOPIC, e->name, e->len,
                             HOOP_POLICY_OP_CREATE,
                             HOOP_AUTHZ_CHECK_IF_ABSENT, e->elem);
            if (rc < 0) {
                return rc;
            }

            if (rc == 0) {
                nocreate = 1;
            }

            rc = 0;
        }

        if (nocreate) {
            authz_set_int(p->req, "AllowAutoTopicCreation", 0);
            p->result.rewritten = 1;
            p->filter |= AUTHZ_F_NOCREATE;
        }
    }

    if (by_id && !left && authz_count_denied(l)) {
        /* no id left: the named topics Kafka ignored would be read as a
         * request by names */
        for (e = l->first; e; e = e->next) {
            if (e->flags & AUTHZ_E_SKIP) {
                e->flags |= AUTHZ_E_DROP;
            }
        }
    }

    authz_finish(p, l, 1);

    return HOOP_AUTHZ_OK;
}


/* OffsetCommit: READ on the group, then READ per topic. */
static int
authz_plan_offset_commit(hoop_authz_plan_t *p)
{
    int           rc;
    authz_list_t *l;

    static const authz_in_t  in = {
        "Name", "TopicId", "Partitions", "PartitionIndex", NULL
    };

    l = &p->lists[0];

    rc = authz_collect(p, l, authz_array(p->req, "Topics"), &in,
                       &authz_offset_commit_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_gate_field(p, HOOP_POLICY_RES_GROUP, "GroupId",
                          HOOP_POLICY_OP_READ,
                          HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED);
    if (rc <= 0) {
        if (rc == 0) {
            authz_fail_rest(l, HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED);
            p->result.denied = l->n;
        }

        return rc;
    }

    if (p->version >= 10) {
        rc = authz_resolve(p, l);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }
    }

    rc = authz_decide(p, l, HOOP_POLICY_RES_TOPIC, HOOP_POLICY_OP_READ,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_finish(p, l, 0);

    return HOOP_AUTHZ_OK;
}


/* The topics of one OffsetFetch group: DESCRIBE each; those denied leave
 * the request and come back in the group's response. */
static int
authz_offset_fetch_topics(hoop_authz_plan_t *p, authz_list_t *l,
    hoop_kafka_node_t *topics, const authz_out_t *out, int decide)
{
    int  rc;

    static const authz_in_t  in = {
        "Name", "TopicId", "PartitionIndexes", NULL, NULL
    };

    rc = authz_collect(p, l, topics, &in, out);
    if (rc != HOOP_AUTHZ_OK || !decide) {
        return rc;
    }

    if (p->version >= 10) {
        rc = authz_resolve(p, l);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }
    }

    return authz_decide(p, l, HOOP_POLICY_RES_TOPIC, HOOP_POLICY_OP_DESCRIBE,
                        HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
}


/* OffsetFetch: DESCRIBE on each group, DESCRIBE per topic listed, all
 * partitions filtered in the response. */
static int
authz_plan_offset_fetch(hoop_authz_plan_t *p)
{
    int                 rc;
    size_t              n;
    authz_list_t       *l, *sub;
    authz_entry_t      *e;
    const uint8_t      *group;
    hoop_kafka_node_t  *topics;

    static const authz_in_t  in_groups = {
        "GroupId", NULL, NULL, NULL, NULL
    };

    l = &p->lists[0];

    if (p->version < 8) {
        topics = authz_child(p->req, "Topics");

        group = authz_str(p->req, "GroupId", &n);

        rc = authz_check(p, HOOP_POLICY_RES_GROUP,
                         group ? group : (const uint8_t *) "", n,
                         HOOP_POLICY_OP_DESCRIBE, 0, p->req);
        if (rc < 0) {
            return rc;
        }

        if (rc == 0) {
            /* OffsetFetchResponse.groupError(): the group error at the top
             * from v2, in every partition before */
            if (p->version >= 2) {
                p->top_error = HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED;

            } else {
                rc = authz_offset_fetch_topics(p, l, topics,
                                               &authz_offset_fetch_out, 0);
                if (rc != HOOP_AUTHZ_OK) {
                    return rc;
                }

                authz_fail_rest(l, HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED);
            }

            authz_deny(p, HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED);
            p->result.denied = 1;
            return HOOP_AUTHZ_OK;
        }

        if (topics == NULL || hoop_kafka_node_is_null(topics)) {
            p->filter |= AUTHZ_F_OFFSETS_ALL;
            return HOOP_AUTHZ_OK;
        }

        rc = authz_offset_fetch_topics(p, l, topics, &authz_offset_fetch_out,
                                       1);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }

        authz_finish(p, l, 1);

        return HOOP_AUTHZ_OK;
    }

    rc = authz_collect(p, l, authz_array(p->req, "Groups"),
                       &in_groups,
                       &authz_offset_fetch_groups_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    for (e = l->first; e; e = e->next) {
        rc = authz_check(p, HOOP_POLICY_RES_GROUP, e->name, e->len,
                         HOOP_POLICY_OP_DESCRIBE, 0, e->elem);
        if (rc < 0) {
            return rc;
        }

        if (rc == 0) {
            e->error = HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED;
            continue;
        }

        topics = authz_child(e->elem, "Topics");

        if (topics == NULL || hoop_kafka_node_is_null(topics)) {
            e->flags |= AUTHZ_E_ALL;
            p->filter |= AUTHZ_F_OFFSETS_ALL;
            continue;
        }

        sub = authz_alloc(p, sizeof(authz_list_t));
        if (sub == NULL) {
            return HOOP_AUTHZ_ENOMEM;
        }

        rc = authz_offset_fetch_topics(p, sub, topics,
                                       &authz_offset_fetch_out, 1);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }

        n = authz_count_denied(sub);

        if (n > 0) {
            authz_remove(p, sub);
            p->result.denied += n;
            p->result.response = 1;

            if (p->result.error == 0) {
                p->result.error = HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED;
            }
        }

        e->sub = sub;
    }

    authz_finish(p, l, 0);

    if (p->result.action == HOOP_AUTHZ_ALLOW && p->result.rewritten) {
        p->result.action = HOOP_AUTHZ_PARTIAL;
    }

    return HOOP_AUTHZ_OK;
}


/* FindCoordinator: DESCRIBE on the group or transactional id of each key;
 * share coordinators (v6) need CLUSTER_ACTION for the whole request. */
static int
authz_plan_find_coordinator(hoop_authz_plan_t *p)
{
    int           rc;
    int64_t       type;
    authz_list_t *l;

    l = &p->lists[0];
    type = authz_int(p->req, "KeyType", 0);

    if (p->version < 4) {
        switch (type) {
        case 0:
            rc = authz_gate_field(p, HOOP_POLICY_RES_GROUP, "Key",
                                  HOOP_POLICY_OP_DESCRIBE,
                                  HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED);
            break;
        case 1:
            rc = authz_gate_field(p, HOOP_POLICY_RES_TRANSACTIONAL_ID, "Key",
                                  HOOP_POLICY_OP_DESCRIBE,
                       HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
            break;
        case 2:
            rc = 1;                 /* INVALID_REQUEST before v6 */
            break;
        default:
            /* CoordinatorType.forId() throws: INVALID_REQUEST */
            p->top_error = HOOP_AUTHZ_ERR_INVALID_REQUEST;
            authz_deny(p, HOOP_AUTHZ_ERR_INVALID_REQUEST);
            rc = 0;
            break;
        }

        if (rc == 0) {
            p->result.denied = 1;
        }

        return rc < 0 ? rc : HOOP_AUTHZ_OK;
    }

    rc = authz_collect(p, l, authz_array(p->req, "CoordinatorKeys"),
                       &authz_in_strings, &authz_coordinator_out);
    if (rc != HOOP_AUTHZ_OK || l->n == 0) {
        return rc;
    }

    switch (type) {
    case 0:
        rc = authz_decide(p, l, HOOP_POLICY_RES_GROUP,
                          HOOP_POLICY_OP_DESCRIBE,
                          HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED, 0);
        break;

    case 1:
        rc = authz_decide(p, l, HOOP_POLICY_RES_TRANSACTIONAL_ID,
                          HOOP_POLICY_OP_DESCRIBE,
                          HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                          0);
        break;

    case 2:
        if (p->version < 6) {
            return HOOP_AUTHZ_OK;   /* INVALID_REQUEST per key */
        }

        rc = authz_cluster(p, HOOP_POLICY_OP_CLUSTER_ACTION, 0);
        if (rc < 0) {
            return rc;
        }

        if (rc == 0) {
            /* authorizeClusterOperation() throws: every key */
            authz_fail_rest(l, HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED);
        }

        rc = HOOP_AUTHZ_OK;
        break;

    default:
        authz_fail_rest(l, HOOP_AUTHZ_ERR_INVALID_REQUEST);
        rc = HOOP_AUTHZ_OK;
        break;
    }

    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_finish(p, l, 0);

    return HOOP_AUTHZ_OK;
}


/* JoinGroup, Heartbeat, LeaveGroup, SyncGroup: READ on the group. */
static int
authz_plan_group_read(hoop_authz_plan_t *p)
{
    int     rc;
    size_t  len;

    if (p->api_key == HOOP_KAFKA_API_SYNC_GROUP && p->version >= 5
        && (authz_str(p->req, "ProtocolType", &len) == NULL
            || authz_str(p->req, "ProtocolName", &len) == NULL))
    {
        /* INCONSISTENT_GROUP_PROTOCOL before any check */
        return HOOP_AUTHZ_OK;
    }

    rc = authz_gate_field(p, HOOP_POLICY_RES_GROUP, "GroupId",
                          HOOP_POLICY_OP_READ,
                          HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED);
    if (rc == 0) {
        p->result.denied = 1;
    }

    return rc < 0 ? rc : HOOP_AUTHZ_OK;
}


/* DescribeGroups: DESCRIBE per group. */
static int
authz_plan_describe_groups(hoop_authz_plan_t *p)
{
    int  rc;

    rc = authz_collect(p, &p->lists[0], authz_array(p->req, "Groups"),
                       &authz_in_strings, &authz_describe_groups_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_decide(p, &p->lists[0], HOOP_POLICY_RES_GROUP,
                      HOOP_POLICY_OP_DESCRIBE,
                      HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    if (p->version >= 3
        && authz_int(p->req, "IncludeAuthorizedOperations", 0))
    {
        p->filter |= AUTHZ_F_GROUP_OPS;
    }

    authz_finish(p, &p->lists[0], 0);

    return HOOP_AUTHZ_OK;
}


/* ListGroups: all with DESCRIBE on the cluster, else those the caller may
 * DESCRIBE. */
static int
authz_plan_list_groups(hoop_authz_plan_t *p)
{
    int  rc;

    rc = authz_cluster(p, HOOP_POLICY_OP_DESCRIBE, HOOP_AUTHZ_CHECK_QUIET);
    if (rc == 0) {
        p->filter |= AUTHZ_F_GROUPS;
    }

    return rc < 0 ? rc : HOOP_AUTHZ_OK;
}


/* CreateTopics (ControllerApis.createTopics()): CREATE on the cluster or
 * the topic; DESCRIBE_CONFIGS for the configs in the answer. */
static int
authz_plan_create_topics(hoop_authz_plan_t *p)
{
    int             rc, hide;
    authz_list_t   *l;
    authz_entry_t  *e;

    l = &p->lists[0];

    rc = authz_collect(p, l, authz_array(p->req, "Topics"), &authz_in_name,
                       &authz_create_topics_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_skip_duplicates(l);

    for (e = l->first; e; e = e->next) {
        if (authz_name_eq(e->name, e->len, AUTHZ_S("__cluster_metadata"))) {
            e->flags |= AUTHZ_E_SKIP;       /* INVALID_REQUEST */
        }
    }

    rc = authz_cluster(p, HOOP_POLICY_OP_CREATE, HOOP_AUTHZ_CHECK_QUIET);
    if (rc < 0) {
        return rc;
    }

    if (rc == 0) {
        rc = authz_decide(p, l, HOOP_POLICY_RES_TOPIC, HOOP_POLICY_OP_CREATE,
                          HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }
    }

    hide = 0;

    for (e = l->first; e; e = e->next) {
        if (e->error) {
            e->message = "Authorization failed.";
        }

        if (e->flags & AUTHZ_E_SKIP) {
            continue;
        }

        rc = authz_check(p, HOOP_POLICY_RES_TOPIC, e->name, e->len,
                         HOOP_POLICY_OP_DESCRIBE_CONFIGS,
                         HOOP_AUTHZ_CHECK_QUIET, e->elem);
        if (rc < 0) {
            return rc;
        }

        if (rc == 0 && e->error == 0) {
            hide = 1;
        }
    }

    if (hide && p->version >= 5) {
        p->filter |= AUTHZ_F_CONFIGS;
    }

    authz_finish(p, l, 0);

    return HOOP_AUTHZ_OK;
}


/* DeleteTopics (ControllerApis.deleteTopics()): DELETE on the cluster, or
 * DESCRIBE and DELETE on the topic; by name or (v6) by id. */
static int
authz_plan_delete_topics(hoop_authz_plan_t *p)
{
    int             rc, describe;
    authz_list_t   *l;
    authz_entry_t  *e;

    static const authz_in_t  in = { "Name", "TopicId", NULL, NULL, NULL };

    l = &p->lists[0];

    if (p->version <= 5) {
        rc = authz_collect(p, l, authz_array(p->req, "TopicNames"),
                           &authz_in_strings, &authz_delete_topics_out);
    } else {
        rc = authz_collect(p, l, authz_array(p->req, "Topics"), &in,
                           &authz_delete_topics_out);
    }

    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    for (e = l->first; e; e = e->next) {
        if ((e->flags & AUTHZ_E_NAME) ? !authz_uuid_zero(e->id)
                                      : authz_uuid_zero(e->id))
        {
            /* both a name and an id, or neither: INVALID_REQUEST */
            e->flags |= AUTHZ_E_SKIP;

        } else if (!(e->flags & AUTHZ_E_NAME)) {
            e->flags |= AUTHZ_E_BY_ID;
        }
    }

    authz_skip_duplicates(l);

    rc = authz_resolve(p, l);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_cluster(p, HOOP_POLICY_OP_DELETE, HOOP_AUTHZ_CHECK_QUIET);
    if (rc < 0) {
        return rc;
    }

    for (e = l->first; rc == 0 && e; e = e->next) {
        if (e->error || (e->flags & AUTHZ_E_SKIP)) {
            continue;
        }

        describe = authz_check(p, HOOP_POLICY_RES_TOPIC, e->name, e->len,
                               HOOP_POLICY_OP_DESCRIBE, 0, e->elem);
        if (describe < 0) {
            return describe;
        }

        rc = authz_check(p, HOOP_POLICY_RES_TOPIC, e->name, e->len,
                         HOOP_POLICY_OP_DELETE, 0, e->elem);
        if (rc < 0) {
            return rc;
        }

        if (rc == 0 || describe == 0) {
            e->error = HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED;

            /* by id, a topic the caller may not see keeps its name */
            if ((e->flags & AUTHZ_E_BY_ID) && describe == 0) {
                e->flags |= AUTHZ_E_HIDE_NAME;
            }
        }

        rc = 0;
    }

    authz_finish(p, l, 0);

    return HOOP_AUTHZ_OK;
}


/* DeleteRecords: DELETE per topic. */
static int
authz_plan_delete_records(hoop_authz_plan_t *p)
{
    int  rc;

    static const authz_in_t  in = {
        "Name", NULL, "Partitions", "PartitionIndex", NULL
    };

    rc = authz_collect(p, &p->lists[0], authz_array(p->req, "Topics"), &in,
                       &authz_delete_records_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_decide(p, &p->lists[0], HOOP_POLICY_RES_TOPIC,
                      HOOP_POLICY_OP_DELETE,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_finish(p, &p->lists[0], 0);

    return HOOP_AUTHZ_OK;
}


/*
 * InitProducerId: WRITE (and TWO_PHASE_COMMIT for KIP-939 2PC) on the
 * transactional id; without one, IDEMPOTENT_WRITE on the cluster or WRITE
 * on some topic (KIP-679: Authorizer.authorizeByResourceType()).
 */
static int
authz_plan_init_producer_id(hoop_authz_plan_t *p)
{
    int             rc;
    size_t          len;
    const uint8_t  *txn;

    txn = authz_str(p->req, "TransactionalId", &len);

    if (txn != NULL) {
        rc = authz_gate(p, HOOP_POLICY_RES_TRANSACTIONAL_ID, txn, len,
                        HOOP_POLICY_OP_WRITE,
                        HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);

        if (rc == 1 && authz_int(p->req, "Enable2Pc", 0)) {
            rc = authz_gate(p, HOOP_POLICY_RES_TRANSACTIONAL_ID, txn, len,
                            HOOP_POLICY_OP_TWO_PHASE_COMMIT,
                        HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        }

    } else {
        rc = authz_cluster(p, HOOP_POLICY_OP_IDEMPOTENT_WRITE,
                           HOOP_AUTHZ_CHECK_QUIET);

        if (rc == 0) {
            rc = authz_check(p, HOOP_POLICY_RES_TOPIC, NULL, 0,
                             HOOP_POLICY_OP_WRITE, 0, p->req);
        }

        if (rc == 0) {
            p->top_error = HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED;
            authz_deny(p, HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED);
        }
    }

    if (rc == 0) {
        p->result.denied = 1;
    }

    return rc < 0 ? rc : HOOP_AUTHZ_OK;
}


/* OffsetForLeaderEpoch: CLUSTER_ACTION (followers), else DESCRIBE per
 * topic (KIP-320 consumers). */
static int
authz_plan_leader_epoch(hoop_authz_plan_t *p)
{
    int  rc;

    static const authz_in_t  in = {
        "Topic", NULL, "Partitions", "Partition", NULL
    };

    rc = authz_cluster(p, HOOP_POLICY_OP_CLUSTER_ACTION,
                       HOOP_AUTHZ_CHECK_QUIET);
    if (rc != 0) {
        return rc < 0 ? rc : HOOP_AUTHZ_OK;
    }

    rc = authz_collect(p, &p->lists[0], authz_array(p->req, "Topics"), &in,
                       &authz_leader_epoch_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_decide(p, &p->lists[0], HOOP_POLICY_RES_TOPIC,
                      HOOP_POLICY_OP_DESCRIBE,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_finish(p, &p->lists[0], 0);

    return HOOP_AUTHZ_OK;
}


/*
 * AddPartitionsToTxn v0-3 (clients): WRITE on the transactional id, WRITE
 * per topic, internal topics never; any failure fails the whole request
 * (the rest OPERATION_NOT_ATTEMPTED).  v4+ come from brokers:
 * CLUSTER_ACTION.
 */
static int
authz_plan_add_partitions(hoop_authz_plan_t *p)
{
    int             rc;
    authz_list_t   *l;
    authz_entry_t  *e;

    static const authz_in_t  in = {
        "Name", NULL, "Partitions", NULL, NULL
    };

    l = &p->lists[0];

    if (p->version >= 4) {
        rc = authz_cluster(p, HOOP_POLICY_OP_CLUSTER_ACTION, 0);
        if (rc == 0) {
            p->top_error = HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED;
            authz_deny(p, HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED);
            p->result.denied = 1;
        }

        return rc < 0 ? rc : HOOP_AUTHZ_OK;
    }

    rc = authz_collect(p, l, authz_array(p->req, "V3AndBelowTopics"), &in,
                       &authz_add_partitions_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_gate_field(p, HOOP_POLICY_RES_TRANSACTIONAL_ID,
                          "V3AndBelowTransactionalId", HOOP_POLICY_OP_WRITE,
                          HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (rc <= 0) {
        if (rc == 0) {
            p->top_error = 0;
            authz_fail_rest(l,
                HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
            p->result.denied = l->n;
        }

        return rc;
    }

    for (e = l->first; e; e = e->next) {
        if (authz_topic_internal(e->name, e->len)) {
            rc = authz_check(p, HOOP_POLICY_RES_TOPIC, e->name, e->len,
                             HOOP_POLICY_OP_WRITE, HOOP_AUTHZ_CHECK_IMPLICIT,
                             e->elem);
            if (rc < 0) {
                return rc;
            }

            e->error = HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED;
        }
    }

    rc = authz_decide(p, l, HOOP_POLICY_RES_TOPIC, HOOP_POLICY_OP_WRITE,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    if (authz_count_denied(l) > 0) {
        authz_deny_whole(p, l);
    }

    return HOOP_AUTHZ_OK;
}


/* AddOffsetsToTxn: WRITE on the transactional id, READ on the group. */
static int
authz_plan_add_offsets(hoop_authz_plan_t *p)
{
    int  rc;

    rc = authz_gate_field(p, HOOP_POLICY_RES_TRANSACTIONAL_ID,
                          "TransactionalId", HOOP_POLICY_OP_WRITE,
                          HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (rc == 1) {
        rc = authz_gate_field(p, HOOP_POLICY_RES_GROUP, "GroupId",
                              HOOP_POLICY_OP_READ,
                              HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED);
    }

    if (rc == 0) {
        p->result.denied = 1;
    }

    return rc < 0 ? rc : HOOP_AUTHZ_OK;
}


/* EndTxn: WRITE on the transactional id. */
static int
authz_plan_end_txn(hoop_authz_plan_t *p)
{
    int  rc;

    rc = authz_gate_field(p, HOOP_POLICY_RES_TRANSACTIONAL_ID,
                          "TransactionalId", HOOP_POLICY_OP_WRITE,
                          HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (rc == 0) {
        p->result.denied = 1;
    }

    return rc < 0 ? rc : HOOP_AUTHZ_OK;
}


/* TxnOffsetCommit: WRITE on the transactional id, READ on the group, READ
 * per topic; all or nothing (a transactional request). */
static int
authz_plan_txn_offset_commit(hoop_authz_plan_t *p)
{
    int           rc;
    authz_list_t *l;

    static const authz_in_t  in = {
        "Name", NULL, "Partitions", "PartitionIndex", NULL
    };

    l = &p->lists[0];

    rc = authz_collect(p, l, authz_array(p->req, "Topics"), &in,
                       &authz_txn_offset_commit_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_gate_field(p, HOOP_POLICY_RES_TRANSACTIONAL_ID,
                          "TransactionalId", HOOP_POLICY_OP_WRITE,
                          HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (rc == 1) {
        rc = authz_gate_field(p, HOOP_POLICY_RES_GROUP, "GroupId",
                              HOOP_POLICY_OP_READ,
                              HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED);
    }

    if (rc <= 0) {
        if (rc == 0) {
            authz_fail_rest(l, p->top_error);
            p->result.denied = l->n;
        }

        return rc;
    }

    rc = authz_decide(p, l, HOOP_POLICY_RES_TOPIC, HOOP_POLICY_OP_READ,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    if (authz_count_denied(l) > 0) {
        authz_deny_whole(p, l);
    }

    return HOOP_AUTHZ_OK;
}


/* DescribeConfigs (ConfigHelper): DESCRIBE_CONFIGS per resource. */
static int
authz_plan_describe_configs(hoop_authz_plan_t *p)
{
    int                 rc;
    int16_t             code;
    authz_list_t       *l;
    authz_entry_t      *e;
    hoop_policy_res_t   type;

    static const authz_in_t  in = {
        "ResourceName", NULL, NULL, NULL, "ResourceType"
    };

    l = &p->lists[0];

    rc = authz_collect(p, l, authz_array(p->req, "Resources"), &in,
                       &authz_describe_configs_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    for (e = l->first; e; e = e->next) {
        if (!authz_config_resource(e->rtype, &type, &code)) {
            /* Kafka throws InvalidRequestException for the request */
            authz_fail_rest(l, HOOP_AUTHZ_ERR_INVALID_REQUEST);
            p->result.denied = l->n;
            authz_deny(p, HOOP_AUTHZ_ERR_INVALID_REQUEST);
            return HOOP_AUTHZ_OK;
        }
    }

    rc = authz_decide_configs(p, l, HOOP_POLICY_OP_DESCRIBE_CONFIGS);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_finish(p, l, 0);

    return HOOP_AUTHZ_OK;
}


/*
 * AlterConfigs and IncrementalAlterConfigs (ControllerApis
 * .authorizeAlterResource(), ConfigAdminManager.preprocess()):
 * ALTER_CONFIGS per resource; an unknown resource type is answered
 * UNSUPPORTED_VERSION, duplicates go unchecked (INVALID_REQUEST).
 */
static int
authz_plan_alter_configs(hoop_authz_plan_t *p)
{
    int                 rc;
    int16_t             code;
    authz_list_t       *l;
    authz_entry_t      *e;
    hoop_policy_res_t   type;

    static const authz_in_t  in = {
        "ResourceName", NULL, NULL, NULL, "ResourceType"
    };

    l = &p->lists[0];

    rc = authz_collect(p, l, authz_array(p->req, "Resources"), &in,
                       &authz_alter_configs_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    for (e = l->first; e; e = e->next) {
        if (!authz_config_resource(e->rtype, &type, &code)) {
            e->error = HOOP_AUTHZ_ERR_UNSUPPORTED_VERSION;
            e->message = authz_msg_type(p, "Unknown resource type ",
                                        e->rtype, ".");
            if (e->message == NULL) {
                return HOOP_AUTHZ_ENOMEM;
            }

        } else if (e->rtype == 8) {
            if (p->api_key == HOOP_KAFKA_API_ALTER_CONFIGS) {
                /* legacy AlterConfigs refuses BROKER_LOGGER */
                e->flags |= AUTHZ_E_SKIP;
            } else {
                e->rtype = -8;              /* no duplicate rule */
            }
        }
    }

    authz_skip_duplicates(l);

    for (e = l->first; e; e = e->next) {
        if (e->rtype == -8) {
            e->rtype = 8;
        }
    }

    rc = authz_decide_configs(p, l, HOOP_POLICY_OP_ALTER_CONFIGS);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_finish(p, l, 0);

    return HOOP_AUTHZ_OK;
}


/* CreatePartitions (ControllerApis.createPartitions()): ALTER per topic. */
static int
authz_plan_create_partitions(hoop_authz_plan_t *p)
{
    int  rc;

    rc = authz_collect(p, &p->lists[0], authz_array(p->req, "Topics"),
                       &authz_in_name, &authz_create_partitions_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_skip_duplicates(&p->lists[0]);

    rc = authz_decide(p, &p->lists[0], HOOP_POLICY_RES_TOPIC,
                      HOOP_POLICY_OP_ALTER,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_finish(p, &p->lists[0], 0);

    return HOOP_AUTHZ_OK;
}


/* DeleteGroups: DELETE per group. */
static int
authz_plan_delete_groups(hoop_authz_plan_t *p)
{
    int  rc;

    rc = authz_collect(p, &p->lists[0], authz_array(p->req, "GroupsNames"),
                       &authz_in_strings, &authz_delete_groups_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_decide(p, &p->lists[0], HOOP_POLICY_RES_GROUP,
                      HOOP_POLICY_OP_DELETE,
                      HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_finish(p, &p->lists[0], 0);

    return HOOP_AUTHZ_OK;
}


/* OffsetDelete: DELETE on the group, READ per topic (the group is asked
 * even when no topic is left). */
static int
authz_plan_offset_delete(hoop_authz_plan_t *p)
{
    int  rc;

    static const authz_in_t  in = {
        "Name", NULL, "Partitions", "PartitionIndex", NULL
    };

    rc = authz_gate_field(p, HOOP_POLICY_RES_GROUP, "GroupId",
                          HOOP_POLICY_OP_DELETE,
                          HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED);
    if (rc <= 0) {
        if (rc == 0) {
            p->result.denied = 1;
        }

        return rc;
    }

    rc = authz_collect(p, &p->lists[0], authz_array(p->req, "Topics"), &in,
                       &authz_offset_delete_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_decide(p, &p->lists[0], HOOP_POLICY_RES_TOPIC,
                      HOOP_POLICY_OP_READ,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_finish(p, &p->lists[0], 1);

    return HOOP_AUTHZ_OK;
}


/* DescribeProducers: READ per topic (invalid names are refused first). */
static int
authz_plan_describe_producers(hoop_authz_plan_t *p)
{
    int             rc;
    authz_entry_t  *e;

    static const authz_in_t  in = {
        "Name", NULL, "PartitionIndexes", NULL, NULL
    };

    rc = authz_collect(p, &p->lists[0], authz_array(p->req, "Topics"), &in,
                       &authz_producers_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    for (e = p->lists[0].first; e; e = e->next) {
        if (!authz_topic_valid(e->name, e->len)) {
            e->flags |= AUTHZ_E_SKIP;
        }
    }

    rc = authz_decide(p, &p->lists[0], HOOP_POLICY_RES_TOPIC,
                      HOOP_POLICY_OP_READ,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    authz_finish(p, &p->lists[0], 0);

    return HOOP_AUTHZ_OK;
}


/* DescribeTransactions: DESCRIBE per transactional id; the topics of each
 * transaction filtered by DESCRIBE. */
static int
authz_plan_describe_txns(hoop_authz_plan_t *p)
{
    int  rc;

    rc = authz_collect(p, &p->lists[0],
                       authz_array(p->req, "TransactionalIds"),
                       &authz_in_strings, &authz_txns_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_decide(p, &p->lists[0], HOOP_POLICY_RES_TRANSACTIONAL_ID,
                      HOOP_POLICY_OP_DESCRIBE,
                      HOOP_AUTHZ_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    p->filter |= AUTHZ_F_TXN_TOPICS;

    authz_finish(p, &p->lists[0], 0);

    return HOOP_AUTHZ_OK;
}


static int
authz_plan_list_txns(hoop_authz_plan_t *p)
{
    p->filter |= AUTHZ_F_TXN_IDS;

    return HOOP_AUTHZ_OK;
}


/*
 * ConsumerGroupHeartbeat (KIP-848): READ on the group; DESCRIBE on every
 * subscribed topic name (KAFKA-18813), any denial fails the request.  A
 * regular expression subscription is resolved by the group coordinator
 * with the principal's DESCRIBE rights, and the broker's principal here
 * is the gateway's: refused.
 */
static int
authz_plan_cg_heartbeat(hoop_authz_plan_t *p)
{
    int             rc;
    size_t          len;
    authz_list_t   *l;

    l = &p->lists[0];

    rc = authz_gate_field(p, HOOP_POLICY_RES_GROUP, "GroupId",
                          HOOP_POLICY_OP_READ,
                          HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED);
    if (rc <= 0) {
        if (rc == 0) {
            p->result.denied = 1;
        }

        return rc;
    }

    if (authz_str(p->req, "SubscribedTopicRegex", &len) != NULL) {
        p->top_error = HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED;
        p->top_message = "Topic regular expression subscriptions are not "
                         "authorized by the gateway; subscribe to topic "
                         "names.";
        authz_deny(p, HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED);
        p->result.denied = 1;
        return HOOP_AUTHZ_OK;
    }

    rc = authz_collect(p, l, authz_array(p->req, "SubscribedTopicNames"),
                       &authz_in_strings, NULL);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_decide(p, l, HOOP_POLICY_RES_TOPIC, HOOP_POLICY_OP_DESCRIBE,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    if (authz_count_denied(l) > 0) {
        p->top_error = HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED;
        authz_deny(p, HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED);
        p->result.denied = l->ndenied;
    }

    return HOOP_AUTHZ_OK;
}


/* ConsumerGroupDescribe: DESCRIBE per group; groups whose assignments name
 * a topic the caller may not DESCRIBE are answered with an error. */
static int
authz_plan_cg_describe(hoop_authz_plan_t *p)
{
    int  rc;

    rc = authz_collect(p, &p->lists[0], authz_array(p->req, "GroupIds"),
                       &authz_in_strings, &authz_cg_describe_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    rc = authz_decide(p, &p->lists[0], HOOP_POLICY_RES_GROUP,
                      HOOP_POLICY_OP_DESCRIBE,
                      HOOP_AUTHZ_ERR_GROUP_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    p->filter |= AUTHZ_F_CGD_TOPICS;

    if (authz_int(p->req, "IncludeAuthorizedOperations", 0)) {
        p->filter |= AUTHZ_F_GROUP_OPS;
    }

    authz_finish(p, &p->lists[0], 0);

    return HOOP_AUTHZ_OK;
}


static int
authz_plan_describe_cluster(hoop_authz_plan_t *p)
{
    if (authz_int(p->req, "IncludeClusterAuthorizedOperations", 0)) {
        p->filter |= AUTHZ_F_CLUSTER_OPS;
    }

    return HOOP_AUTHZ_OK;
}


/*
 * DescribeTopicPartitions (DescribeTopicPartitionsRequestHandler): DESCRIBE
 * per listed topic from the cursor on; all topics filtered; authorized
 * operations always recomputed.  When the cursor's topic is denied, the
 * cursor moves to the next topic allowed (Kafka starts from the first
 * authorized topic not before the cursor).
 */
static int
authz_plan_describe_topic_partitions(hoop_authz_plan_t *p)
{
    int                 rc, found;
    size_t              clen;
    authz_list_t       *l;
    authz_entry_t      *e, *next;
    const uint8_t      *cname;
    hoop_kafka_node_t  *cursor;

    l = &p->lists[0];
    p->filter |= AUTHZ_F_TOPIC_OPS;

    rc = authz_collect(p, l, authz_array(p->req, "Topics"), &authz_in_name,
                       &authz_dtp_out);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    if (l->n == 0) {
        p->filter |= AUTHZ_F_TOPICS_ALL | AUTHZ_F_CURSOR;
        return HOOP_AUTHZ_OK;
    }

    cursor = authz_child(p->req, "Cursor");
    cname = NULL;
    clen = 0;

    if (cursor != NULL && !hoop_kafka_node_is_null(cursor)) {
        cname = authz_str(cursor, "TopicName", &clen);
        found = 0;

        for (e = l->first; cname && e; e = e->next) {
            if (authz_name_eq(e->name, e->len, cname, clen)) {
                found = 1;
            }
        }

        if (cname == NULL || !found
            || authz_int(cursor, "PartitionIndex", 0) < 0)
        {
            /* InvalidRequestException before any check */
            return HOOP_AUTHZ_OK;
        }

        for (e = l->first; e; e = e->next) {
            if (authz_name_cmp(e->name, e->len, cname, clen) < 0) {
                e->flags |= AUTHZ_E_SKIP;   /* before the cursor: unread */
            }
        }
    }

    rc = authz_decide(p, l, HOOP_POLICY_RES_TOPIC, HOOP_POLICY_OP_DESCRIBE,
                      HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    if (cname != NULL
        && authz_cached(p, HOOP_POLICY_RES_TOPIC, cname, clen,
                        HOOP_POLICY_OP_DESCRIBE) == 0)
    {
        next = NULL;

        for (e = l->first; e; e = e->next) {
            if (e->error == 0 && !(e->flags & AUTHZ_E_SKIP)
                && (next == NULL
                    || authz_name_cmp(e->name, e->len, next->name,
                                      next->len) < 0))
            {
                next = e;
            }
        }

        if (next == NULL) {
            /* nothing left to read: answered here, without the topics
             * before the cursor (Kafka skips them too) */
            authz_count_denied(l);
            p->result.denied = l->ndenied;
            authz_deny(p, HOOP_AUTHZ_ERR_TOPIC_AUTHORIZATION_FAILED);
            return HOOP_AUTHZ_OK;
        }

        authz_set_str(cursor, "TopicName", next->name, next->len);
        authz_set_int(cursor, "PartitionIndex", 0);
        p->result.rewritten = 1;
    }

    authz_finish(p, l, 0);

    return HOOP_AUTHZ_OK;
}


/*
 * ApiKeys that one operation on the cluster decides (Kafka's
 * authorizeClusterOperation() and alike).  When denied, the entries the
 * request's getErrorResponse() lists are collected for the answer.
 */
static int
authz_plan_cluster(hoop_authz_plan_t *p)
{
    int                 rc;
    size_t              i;
    authz_list_t       *l;
    hoop_policy_op_t    op;
    hoop_kafka_node_t  *dirs, *dir;

    static const authz_in_t  in_parts = {
        "Name", NULL, "Partitions", NULL, NULL
    };
    static const authz_in_t  in_partitions = {
        "Name", NULL, "Partitions", "PartitionIndex", NULL
    };
    static const authz_in_t  in_indexes = {
        "Name", NULL, "PartitionIndexes", NULL, NULL
    };
    static const authz_in_t  in_elect = {
        "Topic", NULL, "Partitions", NULL, NULL
    };

    switch (p->api_key) {
    case HOOP_KAFKA_API_DESCRIBE_ACLS:
    case HOOP_KAFKA_API_DESCRIBE_LOG_DIRS:
    case HOOP_KAFKA_API_LIST_PARTITION_REASSIGNMENTS:
    case HOOP_KAFKA_API_DESCRIBE_USER_SCRAM_CREDENTIALS:
        op = HOOP_POLICY_OP_DESCRIBE;
        break;
    case HOOP_KAFKA_API_DESCRIBE_CLIENT_QUOTAS:
    case HOOP_KAFKA_API_LIST_CONFIG_RESOURCES:
        op = HOOP_POLICY_OP_DESCRIBE_CONFIGS;
        break;
    case HOOP_KAFKA_API_ALTER_CLIENT_QUOTAS:
        op = HOOP_POLICY_OP_ALTER_CONFIGS;
        break;
    default:
        op = HOOP_POLICY_OP_ALTER;
        break;
    }

    rc = authz_cluster(p, op, 0);
    if (rc != 0) {
        return rc < 0 ? rc : HOOP_AUTHZ_OK;
    }

    p->top_error = HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED;
    authz_deny(p, HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED);
    p->result.denied = 1;

    l = &p->lists[0];
    rc = HOOP_AUTHZ_OK;

    switch (p->api_key) {
    case HOOP_KAFKA_API_CREATE_ACLS:
        rc = authz_collect(p, l, authz_array(p->req, "Creations"),
                           &authz_in_name, &authz_create_acls_out);
        break;

    case HOOP_KAFKA_API_DELETE_ACLS:
        rc = authz_collect(p, l, authz_array(p->req, "Filters"),
                           &authz_in_name, &authz_delete_acls_out);
        break;

    case HOOP_KAFKA_API_ALTER_REPLICA_LOG_DIRS:
        dirs = authz_array(p->req, "Dirs");
        i = 0;

        for (dir = dirs ? hoop_kafka_node_first(dirs) : NULL;
             dir && i < AUTHZ_NLISTS;
             dir = dir->next)
        {
            /* one list per log dir (usually one) */
            rc = authz_collect(p, &p->lists[i++], authz_array(dir, "Topics"),
                               &in_parts, &authz_replica_log_dirs_out);
            if (rc != HOOP_AUTHZ_OK) {
                return rc;
            }
        }

        break;

    case HOOP_KAFKA_API_ELECT_LEADERS:
        rc = authz_collect(p, l, authz_array(p->req, "TopicPartitions"),
                           &in_elect, &authz_elect_leaders_out);
        break;

    case HOOP_KAFKA_API_ALTER_PARTITION_REASSIGNMENTS:
        rc = authz_collect(p, l, authz_array(p->req, "Topics"),
                           &in_partitions, &authz_reassign_out);
        break;

    case HOOP_KAFKA_API_LIST_PARTITION_REASSIGNMENTS:
        rc = authz_collect(p, l, authz_array(p->req, "Topics"), &in_indexes,
                           &authz_list_reassign_out);
        break;

    case HOOP_KAFKA_API_ALTER_CLIENT_QUOTAS:
        rc = authz_collect(p, l, authz_array(p->req, "Entries"),
                           &authz_in_name, &authz_quotas_out);
        break;

    case HOOP_KAFKA_API_DESCRIBE_USER_SCRAM_CREDENTIALS:
        rc = authz_collect(p, l, authz_array(p->req, "Users"),
                           &authz_in_name, &authz_scram_out);
        break;

    default:
        break;
    }

    if (rc != HOOP_AUTHZ_OK) {
        return rc;
    }

    for (i = 0; i < AUTHZ_NLISTS; i++) {
        authz_fail_rest(&p->lists[i],
                        HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED);
    }

    return HOOP_AUTHZ_OK;
}


/* ----------------------------------------------------------------------
 * ApiKey-specific fields of DENY answers (the getErrorResponse() of each
 * request class)
 */

static int
authz_deny_join_group(hoop_authz_plan_t *p, hoop_kafka_node_t *root)
{
    if (p->version >= 7) {
        authz_set_str(root, "ProtocolName", NULL, 0);
    }

    authz_set_int(root, "GenerationId", -1);

    return HOOP_AUTHZ_OK;
}


static int
authz_deny_init_producer_id(hoop_authz_plan_t *p, hoop_kafka_node_t *root)
{
    (void) p;

    authz_set_int(root, "ProducerId", -1);
    authz_set_int(root, "ProducerEpoch", -1);

    return HOOP_AUTHZ_OK;
}


static int
authz_deny_find_coordinator(hoop_authz_plan_t *p, hoop_kafka_node_t *root)
{
    (void) p;

    /* Node.noNode() */
    authz_set_int(root, "NodeId", -1);
    authz_set_int(root, "Port", -1);

    return HOOP_AUTHZ_OK;
}


static int
authz_deny_describe_quotas(hoop_authz_plan_t *p, hoop_kafka_node_t *root)
{
    hoop_kafka_node_t  *entries;

    (void) p;

    entries = authz_child(root, "Entries");
    if (entries != NULL && (entries->flags & HOOP_KAFKA_NODE_NULLABLE)) {
        entries->flags |= HOOP_KAFKA_NODE_NULL;
    }

    return HOOP_AUTHZ_OK;
}


/* AlterClientQuotas: each answer names the entity of its request entry. */
static int
authz_deny_alter_quotas(hoop_authz_plan_t *p, hoop_kafka_node_t *root)
{
    size_t              len;
    const uint8_t      *s;
    hoop_kafka_node_t  *req, *resp, *rents, *ent, *re;

    req = authz_array(p->req, "Entries");
    resp = authz_array(root, "Entries");

    for (req = req ? hoop_kafka_node_first(req) : NULL,
         resp = resp ? hoop_kafka_node_first(resp) : NULL;
         req && resp;
         req = req->next, resp = resp->next)
    {
        rents = authz_array(resp, "Entity");
        ent = authz_array(req, "Entity");

        for (ent = ent ? hoop_kafka_node_first(ent) : NULL;
             ent && rents;
             ent = ent->next)
        {
            re = hoop_kafka_array_append(&p->a, rents);
            if (re == NULL) {
                return HOOP_AUTHZ_ENOMEM;
            }

            s = authz_str(ent, "EntityType", &len);
            s = s ? authz_dup(p, s, len) : NULL;
            authz_set_str(re, "EntityType", s, len);

            s = authz_str(ent, "EntityName", &len);
            if (s != NULL) {
                s = authz_dup(p, s, len);
                if (s == NULL) {
                    return HOOP_AUTHZ_ENOMEM;
                }
            }

            authz_set_str(re, "EntityName", s, len);
        }
    }

    return HOOP_AUTHZ_OK;
}


/* AlterUserScramCredentials: one result per user named, sorted. */
static int
authz_deny_alter_scram(hoop_authz_plan_t *p, hoop_kafka_node_t *root)
{
    int             rc;
    size_t          i;
    authz_list_t        users, l;
    authz_entry_t      *e, *x, *min;
    hoop_kafka_node_t  *results;

    static const char  *arrays[] = { "Deletions", "Upsertions" };

    results = authz_array(root, "Results");
    if (results == NULL) {
        return HOOP_AUTHZ_OK;
    }

    authz_list_init(&users, NULL, &authz_scram_users_out);

    for (i = 0; i < 2; i++) {
        rc = authz_collect(p, &l, authz_array(p->req, arrays[i]),
                           &authz_in_name, &authz_scram_out);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }

        for (e = l.first; e; e = x) {
            x = e->next;

            for (min = users.first; min; min = min->next) {
                if (authz_name_eq(min->name, min->len, e->name, e->len)) {
                    break;
                }
            }

            if (min == NULL) {
                e->next = NULL;
                *users.tail = e;
                users.tail = &e->next;
                users.n++;
            }
        }
    }

    /* selection sort into the answer (a handful of users) */
    for (i = 0; i < users.n; i++) {
        min = NULL;

        for (e = users.first; e; e = e->next) {
            if (e->error == 0
                && (min == NULL
                    || authz_name_cmp(e->name, e->len, min->name,
                                      min->len) < 0))
            {
                min = e;
            }
        }

        min->error = HOOP_AUTHZ_ERR_CLUSTER_AUTHORIZATION_FAILED;

        rc = authz_emit(p, results, &authz_scram_users_out, min);
        if (rc != HOOP_AUTHZ_OK) {
            return rc;
        }
    }

    return HOOP_AUTHZ_OK;
}


/* ----------------------------------------------------------------------
 * The ApiKeys handled (docs/authorization.md has the reasons for the
 * ranges: what is below min or above max is not handled)
 */

#define AUTHZ_API(key, min, max, id_max, plan, deny)                         \
    { HOOP_KAFKA_API_##key, min, max, id_max, plan, deny }

static const authz_api_t  authz_apis[] = {
    AUTHZ_API(PRODUCE, 3, 12, 13, authz_plan_produce, NULL),
    AUTHZ_API(FETCH, 4, 12, 18, authz_plan_fetch, NULL),
    AUTHZ_API(LIST_OFFSETS, 1, 10, 10, authz_plan_list_offsets, NULL),
    AUTHZ_API(METADATA, 4, 13, 13, authz_plan_metadata, NULL),
    AUTHZ_API(OFFSET_COMMIT, 2, 9, 10, authz_plan_offset_commit, NULL),
    AUTHZ_API(OFFSET_FETCH, 1, 9, 10, authz_plan_offset_fetch, NULL),
    AUTHZ_API(FIND_COORDINATOR, 0, 6, 6, authz_plan_find_coordinator,
              authz_deny_find_coordinator),
    AUTHZ_API(JOIN_GROUP, 0, 9, 9, authz_plan_group_read,
              authz_deny_join_group),
    AUTHZ_API(HEARTBEAT, 0, 4, 4, authz_plan_group_read, NULL),
    AUTHZ_API(LEAVE_GROUP, 0, 5, 5, authz_plan_group_read, NULL),
    AUTHZ_API(SYNC_GROUP, 0, 5, 5, authz_plan_group_read, NULL),
    AUTHZ_API(DESCRIBE_GROUPS, 0, 6, 6, authz_plan_describe_groups, NULL),
    AUTHZ_API(LIST_GROUPS, 0, 5, 5, authz_plan_list_groups, NULL),
    AUTHZ_API(SASL_HANDSHAKE, 0, 1, 1, authz_plan_none, NULL),
    AUTHZ_API(API_VERSIONS, 0, 4, 4, authz_plan_none, NULL),
    AUTHZ_API(CREATE_TOPICS, 2, 7, 7, authz_plan_create_topics, NULL),
    AUTHZ_API(DELETE_TOPICS, 1, 6, 6, authz_plan_delete_topics, NULL),
    AUTHZ_API(DELETE_RECORDS, 0, 2, 2, authz_plan_delete_records, NULL),
    AUTHZ_API(INIT_PRODUCER_ID, 0, 6, 6, authz_plan_init_producer_id,
              authz_deny_init_producer_id),
    AUTHZ_API(OFFSET_FOR_LEADER_EPOCH, 2, 4, 4, authz_plan_leader_epoch,
              NULL),
    AUTHZ_API(ADD_PARTITIONS_TO_TXN, 0, 5, 5, authz_plan_add_partitions,
              NULL),
    AUTHZ_API(ADD_OFFSETS_TO_TXN, 0, 4, 4, authz_plan_add_offsets, NULL),
    AUTHZ_API(END_TXN, 0, 5, 5, authz_plan_end_txn, NULL),
    AUTHZ_API(TXN_OFFSET_COMMIT, 0, 5, 5, authz_plan_txn_offset_commit,
              NULL),
    AUTHZ_API(DESCRIBE_ACLS, 1, 3, 3, authz_plan_cluster, NULL),
    AUTHZ_API(CREATE_ACLS, 1, 3, 3, authz_plan_cluster, NULL),
    AUTHZ_API(DELETE_ACLS, 1, 3, 3, authz_plan_cluster, NULL),
    AUTHZ_API(DESCRIBE_CONFIGS, 1, 4, 4, authz_plan_describe_configs, NULL),
    AUTHZ_API(ALTER_CONFIGS, 0, 2, 2, authz_plan_alter_configs, NULL),
    AUTHZ_API(ALTER_REPLICA_LOG_DIRS, 1, 2, 2, authz_plan_cluster, NULL),
    AUTHZ_API(DESCRIBE_LOG_DIRS, 1, 4, 4, authz_plan_cluster, NULL),
    AUTHZ_API(SASL_AUTHENTICATE, 0, 2, 2, authz_plan_none, NULL),
    AUTHZ_API(CREATE_PARTITIONS, 0, 3, 3, authz_plan_create_partitions,
              NULL),
    AUTHZ_API(DELETE_GROUPS, 0, 2, 2, authz_plan_delete_groups, NULL),
    AUTHZ_API(ELECT_LEADERS, 0, 2, 2, authz_plan_cluster, NULL),
    AUTHZ_API(INCREMENTAL_ALTER_CONFIGS, 0, 1, 1, authz_plan_alter_configs,
              NULL),
    AUTHZ_API(ALTER_PARTITION_REASSIGNMENTS, 0, 1, 1, authz_plan_cluster,
              NULL),
    AUTHZ_API(LIST_PARTITION_REASSIGNMENTS, 0, 0, 0, authz_plan_cluster,
              NULL),
    AUTHZ_API(OFFSET_DELETE, 0, 0, 0, authz_plan_offset_delete, NULL),
    AUTHZ_API(DESCRIBE_CLIENT_QUOTAS, 0, 1, 1, authz_plan_cluster,
              authz_deny_describe_quotas),
    AUTHZ_API(ALTER_CLIENT_QUOTAS, 0, 1, 1, authz_plan_cluster,
              authz_deny_alter_quotas),
    AUTHZ_API(DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0, 0, authz_plan_cluster,
              NULL),
    AUTHZ_API(ALTER_USER_SCRAM_CREDENTIALS, 0, 0, 0, authz_plan_cluster,
              authz_deny_alter_scram),
    AUTHZ_API(UPDATE_FEATURES, 0, 2, 2, authz_plan_cluster, NULL),
    AUTHZ_API(DESCRIBE_CLUSTER, 0, 2, 2, authz_plan_describe_cluster, NULL),
    AUTHZ_API(DESCRIBE_PRODUCERS, 0, 0, 0, authz_plan_describe_producers,
              NULL),
    AUTHZ_API(UNREGISTER_BROKER, 0, 0, 0, authz_plan_cluster, NULL),
    AUTHZ_API(DESCRIBE_TRANSACTIONS, 0, 0, 0, authz_plan_describe_txns,
              NULL),
    AUTHZ_API(LIST_TRANSACTIONS, 0, 2, 2, authz_plan_list_txns, NULL),
    AUTHZ_API(CONSUMER_GROUP_HEARTBEAT, 0, 1, 1, authz_plan_cg_heartbeat,
              NULL),
    AUTHZ_API(CONSUMER_GROUP_DESCRIBE, 0, 1, 1, authz_plan_cg_describe,
              NULL),
    AUTHZ_API(GET_TELEMETRY_SUBSCRIPTIONS, 0, 0, 0, authz_plan_none, NULL),
    AUTHZ_API(PUSH_TELEMETRY, 0, 0, 0, authz_plan_none, NULL),
    AUTHZ_API(LIST_CONFIG_RESOURCES, 0, 1, 1, authz_plan_cluster, NULL),
    AUTHZ_API(DESCRIBE_TOPIC_PARTITIONS, 0, 0, 0,
              authz_plan_describe_topic_partitions, NULL),
    AUTHZ_API(ADD_RAFT_VOTER, 0, 0, 0, authz_plan_cluster, NULL),
    AUTHZ_API(REMOVE_RAFT_VOTER, 0, 0, 0, authz_plan_cluster, NULL)
};


static const authz_api_t *
authz_api(int16_t api_key)
{
    size_t  i;

    for (i = 0; i < sizeof(authz_apis) / sizeof(authz_apis[0]); i++) {
        if (authz_apis[i].key == api_key) {
            return &authz_apis[i];
        }
    }

    return NULL;
}


int
hoop_authz_versions(int16_t api_key, unsigned flags, int16_t *min,
    int16_t *max)
{
    int16_t             lo, hi;
    const authz_api_t  *api;

    api = authz_api(api_key);

    if (api == NULL || hoop_kafka_api_versions(api_key, &lo, &hi) != 0) {
        return -1;
    }

    *min = api->min > lo ? api->min : lo;
    *max = (flags & HOOP_AUTHZ_TOPIC_IDS) ? api->id_max : api->max;

    if (*max > hi) {
        *max = hi;
    }

    return *min <= *max ? 0 : -1;
}


int
hoop_authz_supported_ex(int16_t api_key, int16_t version, unsigned flags)
{
    int16_t  min, max;

    if (hoop_authz_versions(api_key, flags, &min, &max) != 0) {
        return 0;
    }

    return version >= min && version <= max;
}


int
hoop_authz_supported(int16_t api_key, int16_t version)
{
    return hoop_authz_supported_ex(api_key, version, 0);
}


/* ----------------------------------------------------------------------
 * The plan
 */

hoop_authz_plan_t *
hoop_authz_plan(const hoop_kafka_alloc_t *a, const hoop_authz_conf_t *conf,
    int16_t api_key, int16_t version, hoop_kafka_node_t *req,
    hoop_authz_result_t *result, int *err)
{
    int                          rc, dummy;
    size_t                       i;
    hoop_authz_plan_t           *p;
    const authz_api_t           *api;
    const hoop_kafka_message_t  *m;

    if (err == NULL) {
        err = &dummy;
    }

    if (a == NULL || a->alloc == NULL || conf == NULL
        || conf->decide == NULL || req == NULL || result == NULL)
    {
        *err = HOOP_AUTHZ_EINVALID;
        return NULL;
    }

    memset(result, 0, sizeof(hoop_authz_result_t));

    api = authz_api(api_key);

    if (api == NULL
        || !hoop_authz_supported_ex(api_key, version,
                                    conf->resolve ? HOOP_AUTHZ_TOPIC_IDS : 0))
    {
        *err = HOOP_AUTHZ_EUNSUPPORTED;
        return NULL;
    }

    m = hoop_kafka_message(api_key, 0);

    if (m == NULL || req->field != m->root || req->version != version
        || req->type != HOOP_KAFKA_T_STRUCT)
    {
        *err = HOOP_AUTHZ_EINVALID;
        return NULL;
    }

    p = a->alloc(a->ctx, sizeof(hoop_authz_plan_t));
    if (p == NULL) {
        *err = HOOP_AUTHZ_ENOMEM;
        return NULL;
    }

    memset(p, 0, sizeof(hoop_authz_plan_t));

    p->a = *a;
    p->conf = *conf;
    p->rconf = &p->conf;
    p->api = api;
    p->api_key = api_key;
    p->version = version;
    p->req = req;

    for (i = 0; i < AUTHZ_NLISTS; i++) {
        authz_list_init(&p->lists[i], NULL, NULL);
    }

    rc = api->plan(p);

    if (rc == HOOP_AUTHZ_OK && p->result.action == HOOP_AUTHZ_DENY
        && !p->result.no_response)
    {
        rc = authz_build_answer(p);
    }

    if (rc != HOOP_AUTHZ_OK) {
        *err = rc;
        return NULL;
    }

    if (p->result.action == HOOP_AUTHZ_DENY) {
        p->result.response = 0;
        p->result.rewritten = 0;

        if (p->result.no_response) {
            p->result.close = 1;
        }

    } else {
        if (p->filter) {
            p->result.response = 1;
        }

        if (p->result.no_response) {
            p->result.response = 0;
        }
    }

    *result = p->result;
    *err = HOOP_AUTHZ_OK;

    return p;
}


int
hoop_authz_build_denied_response(hoop_authz_plan_t *plan,
    hoop_kafka_node_t **root)
{
    if (plan == NULL || root == NULL
        || plan->result.action != HOOP_AUTHZ_DENY || plan->answer == NULL)
    {
        return HOOP_AUTHZ_EINVALID;
    }

    *root = plan->answer;

    return HOOP_AUTHZ_OK;
}


const hoop_authz_check_t *
hoop_authz_checks(const hoop_authz_plan_t *plan, size_t *n)
{
    *n = plan ? plan->nchecks : 0;

    return plan ? plan->checks : NULL;
}
