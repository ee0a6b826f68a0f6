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
