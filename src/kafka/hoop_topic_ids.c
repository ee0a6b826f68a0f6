/*
 * The topic id map (hoop_topic_ids.h): two chained hash tables over the
 * same entries, one by id and one by name, and a doubly linked list in
 * order of use for eviction.
 */

#include <stdlib.h>
#include <string.h>

#include "hoop_topic_ids.h"


#define HOOP_TOPIC_IDS_BUCKETS   64        /* first size of each table */


typedef struct hoop_topic_id_s  hoop_topic_id_t;

struct hoop_topic_id_s {
    hoop_topic_id_t             *id_next;    /* chain of by_id */
    hoop_topic_id_t             *name_next;  /* chain of by_name */
    hoop_topic_id_t             *prev;       /* toward the most recent */
    hoop_topic_id_t             *next;       /* toward the least recent */
    uint32_t                     id_hash;
    uint32_t                     name_hash;
    size_t                       len;
    uint8_t                      id[16];
    uint8_t                      name[];     /* len bytes, then NUL */
};


struct hoop_topic_ids_s {
    hoop_topic_id_t            **by_id;
    hoop_topic_id_t            **by_name;
    size_t                       nbuckets;   /* power of two */
    size_t                       count;
    size_t                       bytes;      /* entries and tables */
    size_t                       max;
    hoop_topic_id_t             *head;       /* most recently used */
    hoop_topic_id_t             *tail;       /* evicted first */
};


static const uint8_t  hoop_topic_ids_zero[16];


/* FNV-1a, 32 bits. */
static uint32_t
hoop_topic_ids_hash(const uint8_t *p, size_t len)
{
    size_t    i;
    uint32_t  h;

    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }

    return h;
}


static size_t
hoop_topic_ids_entry_size(size_t len)
{
    return sizeof(hoop_topic_id_t) + len + 1;
}


hoop_topic_ids_t *
hoop_topic_ids_create(size_t max_bytes)
{
    hoop_topic_ids_t  *m;

    m = calloc(1, sizeof(hoop_topic_ids_t));
    if (m == NULL) {
        return NULL;
    }

    m->nbuckets = HOOP_TOPIC_IDS_BUCKETS;
    m->by_id = calloc(m->nbuckets, sizeof(hoop_topic_id_t *));
    m->by_name = calloc(m->nbuckets, sizeof(hoop_topic_id_t *));

    if (m->by_id == NULL || m->by_name == NULL) {
        free(m->by_id);
        free(m->by_name);
        free(m);
        return NULL;
    }

    m->bytes = sizeof(hoop_topic_ids_t)
               + 2 * m->nbuckets * sizeof(hoop_topic_id_t *);
    m->max = max_bytes;

    return m;
}


void
hoop_topic_ids_free(hoop_topic_ids_t *m)
{
    hoop_topic_id_t  *e, *next;

    if (m == NULL) {
        return;
    }

    for (e = m->head; e; e = next) {
        next = e->next;
        free(e);
    }

    free(m->by_id);
    free(m->by_name);
    free(m);
}


static hoop_topic_id_t *
hoop_topic_ids_find_id(const hoop_topic_ids_t *m, const uint8_t *id,
    uint32_t h)
{
    hoop_topic_id_t  *e;

    for (e = m->by_id[h & (m->nbuckets - 1)]; e; e = e->id_next) {
        if (e->id_hash == h && memcmp(e->id, id, 16) == 0) {
            return e;
        }
    }

    return NULL;
}


static hoop_topic_id_t *
hoop_topic_ids_find_name(const hoop_topic_ids_t *m, const uint8_t *name,
    size_t len, uint32_t h)
{
    hoop_topic_id_t  *e;

    for (e = m->by_name[h & (m->nbuckets - 1)]; e; e = e->name_next) {
        if (e->name_hash == h && e->len == len
            && memcmp(e->name, name, len) == 0)
        {
            return e;
        }
    }

    return NULL;
}


/* Moves e to the head of the list of use (it may be unlinked). */
static void
hoop_topic_ids_use(hoop_topic_ids_t *m, hoop_topic_id_t *e, int linked)
{
    if (linked) {
        if (m->head == e) {
            return;
        }

        e->prev->next = e->next;

        if (e->next) {
            e->next->prev = e->prev;

        } else {
            m->tail = e->prev;
        }
    }

    e->prev = NULL;
    e->next = m->head;

    if (m->head) {
        m->head->prev = e;

    } else {
        m->tail = e;
    }

    m->head = e;
}


static void
hoop_topic_ids_remove(hoop_topic_ids_t *m, hoop_topic_id_t *e)
{
    hoop_topic_id_t  **pp;

    for (pp = &m->by_id[e->id_hash & (m->nbuckets - 1)]; *pp;
         pp = &(*pp)->id_next)
    {
        if (*pp == e) {
            *pp = e->id_next;
            break;
        }
    }

    for (pp = &m->by_name[e->name_hash & (m->nbuckets - 1)]; *pp;
         pp = &(*pp)->name_next)
    {
        if (*pp == e) {
            *pp = e->name_next;
            break;
        }
    }

    if (e->prev) {
        e->prev->next = e->next;

    } else {
        m->head = e->next;
    }

    if (e->next) {
        e->next->prev = e->prev;

    } else {
        m->tail = e->prev;
    }

    m->count--;
    m->bytes -= hoop_topic_ids_entry_size(e->len);

    free(e);
}


/*
 * Doubles both tables when there are more entries than buckets and the
 * bound allows it; a failed allocation keeps the tables as they are
 * (longer chains, nothing lost).
 */
static void
hoop_topic_ids_grow(hoop_topic_ids_t *m)
{
    size_t             n, i, add;
    hoop_topic_id_t   *e, **by_id, **by_name;

    if (m->count < m->nbuckets) {
        return;
    }

    n = m->nbuckets * 2;
    add = 2 * m->nbuckets * sizeof(hoop_topic_id_t *);

    if (2 * n * sizeof(hoop_topic_id_t *) > m->max / 2) {
        /* tables stay under half the bound: the rest is for entries */
        return;
    }

    by_id = calloc(n, sizeof(hoop_topic_id_t *));
    by_name = calloc(n, sizeof(hoop_topic_id_t *));

    if (by_id == NULL || by_name == NULL) {
        free(by_id);
        free(by_name);
        return;
    }

    for (e = m->head; e; e = e->next) {
        i = e->id_hash & (n - 1);
        e->id_next = by_id[i];
        by_id[i] = e;

        i = e->name_hash & (n - 1);
        e->name_next = by_name[i];
        by_name[i] = e;
    }

    free(m->by_id);
    free(m->by_name);

    m->by_id = by_id;
    m->by_name = by_name;
    m->nbuckets = n;
    m->bytes += add;

    while (m->bytes > m->max && m->count > 1) {
        hoop_topic_ids_remove(m, m->tail);
    }
}


int
hoop_topic_ids_learn(hoop_topic_ids_t *m, const uint8_t *id,
    const uint8_t *name, size_t len)
{
    size_t            size, i;
    uint32_t          ih, nh;
    hoop_topic_id_t  *e, *old;

    if (m == NULL || id == NULL || name == NULL || len == 0
        || len > HOOP_TOPIC_IDS_NAME_MAX
        || memcmp(id, hoop_topic_ids_zero, 16) == 0)
    {
        return -1;
    }

    ih = hoop_topic_ids_hash(id, 16);
    nh = hoop_topic_ids_hash(name, len);

    old = hoop_topic_ids_find_id(m, id, ih);

    if (old && old->len == len && memcmp(old->name, name, len) == 0) {
        hoop_topic_ids_use(m, old, 1);
        return 0;
    }

    size = hoop_topic_ids_entry_size(len);

    e = malloc(size);
    if (e == NULL) {
        return -1;
    }

    memcpy(e->id, id, 16);
    memcpy(e->name, name, len);
    e->name[len] = '\0';
    e->len = len;
    e->id_hash = ih;
    e->name_hash = nh;

    if (old) {
        /* ids are never reused in Kafka; trust the broker's latest word */
        hoop_topic_ids_remove(m, old);
    }

    old = hoop_topic_ids_find_name(m, name, len, nh);

    if (old) {
        /* the topic was deleted and created again: its old id is gone */
        hoop_topic_ids_remove(m, old);
    }

    while (m->tail && m->bytes + size > m->max) {
        hoop_topic_ids_remove(m, m->tail);
    }

    i = ih & (m->nbuckets - 1);
    e->id_next = m->by_id[i];
    m->by_id[i] = e;

    i = nh & (m->nbuckets - 1);
    e->name_next = m->by_name[i];
    m->by_name[i] = e;

    hoop_topic_ids_use(m, e, 0);

    m->count++;
    m->bytes += size;

    hoop_topic_ids_grow(m);

    return 1;
}


int
hoop_topic_ids_forget(hoop_topic_ids_t *m, const uint8_t *id)
{
    hoop_topic_id_t  *e;

    if (m == NULL || id == NULL) {
        return 0;
    }

    e = hoop_topic_ids_find_id(m, id, hoop_topic_ids_hash(id, 16));

    if (e == NULL) {
        return 0;
    }

    hoop_topic_ids_remove(m, e);

    return 1;
}


int
hoop_topic_ids_resolve(void *ctx, const uint8_t *id, const uint8_t **name,
    size_t *len)
{
    hoop_topic_ids_t  *m = ctx;

    hoop_topic_id_t  *e;

    if (m == NULL || id == NULL) {
        return 0;
    }

    e = hoop_topic_ids_find_id(m, id, hoop_topic_ids_hash(id, 16));

    if (e == NULL) {
        return 0;
    }

    hoop_topic_ids_use(m, e, 1);

    *name = e->name;
    *len = e->len;

    return 1;
}


size_t
hoop_topic_ids_count(const hoop_topic_ids_t *m)
{
    return m ? m->count : 0;
}


size_t
hoop_topic_ids_bytes(const hoop_topic_ids_t *m)
{
    return m ? m->bytes : 0;
}


int
hoop_topic_ids_check(const hoop_topic_ids_t *m)
{
    size_t            n, i, ids, names, bytes;
    hoop_topic_id_t  *e, *prev;

    n = 0;
    bytes = sizeof(hoop_topic_ids_t)
            + 2 * m->nbuckets * sizeof(hoop_topic_id_t *);
    prev = NULL;

    for (e = m->head; e; e = e->next) {
        if (e->prev != prev
            || hoop_topic_ids_find_id(m, e->id, e->id_hash) != e
            || hoop_topic_ids_find_name(m, e->name, e->len, e->name_hash)
               != e
            || e->id_hash != hoop_topic_ids_hash(e->id, 16)
            || e->name_hash != hoop_topic_ids_hash(e->name, e->len)
            || e->len == 0 || e->len > HOOP_TOPIC_IDS_NAME_MAX)
        {
            return -1;
        }

        bytes += hoop_topic_ids_entry_size(e->len);
        prev = e;
        n++;
    }

    ids = 0;
    names = 0;

    for (i = 0; i < m->nbuckets; i++) {
        for (e = m->by_id[i]; e; e = e->id_next) {
            ids++;
        }

        for (e = m->by_name[i]; e; e = e->name_next) {
            names++;
        }
    }

    if (m->tail != prev || n != m->count || ids != n || names != n
        || bytes != m->bytes || (m->bytes > m->max && n > 1))
    {
        return -1;
    }

    return 0;
}


int
hoop_topic_ids_teaches(int16_t api_key)
{
    switch (api_key) {

    case HOOP_KAFKA_API_METADATA:
    case HOOP_KAFKA_API_CREATE_TOPICS:
    case HOOP_KAFKA_API_DELETE_TOPICS:
    case HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS:
        return 1;
    }

    return 0;
}


typedef struct {
    hoop_topic_ids_t            *map;
    int16_t                      api_key;
    int                          n;
} hoop_topic_ids_walk_t;


/*
 * A struct with a TopicId and a topic name (entityType topicName) is one
 * topic of the response: Metadata's, CreateTopics' and
 * DescribeTopicPartitions' Topics, DeleteTopics' Responses.  Its
 * partitions and configs are not visited.
 */
static int
hoop_topic_ids_learn_node(hoop_kafka_node_t *node,
    const hoop_kafka_field_t *field, hoop_kafka_node_t *parent, void *data)
{
    hoop_topic_ids_walk_t *w = data;

    int                 rc;
    size_t              len, idlen;
    const uint8_t      *name, *id;
    hoop_kafka_node_t  *c, *idn, *err;

    (void) field;
    (void) parent;

    if (node->type != HOOP_KAFKA_T_STRUCT) {
        return node->type == HOOP_KAFKA_T_ARRAY ? HOOP_KAFKA_WALK_CONTINUE
                                                : HOOP_KAFKA_WALK_SKIP;
    }

    idn = hoop_kafka_node_child(node, "TopicId");

    if (idn == NULL || idn->type != HOOP_KAFKA_T_UUID) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    id = hoop_kafka_node_bytes(idn, &idlen);
    name = NULL;
    len = 0;

    for (c = hoop_kafka_node_first(node); c; c = hoop_kafka_node_next(c)) {
        if (c->field != NULL && c->type == HOOP_KAFKA_T_STRING
            && c->field->entity_type == HOOP_KAFKA_ENTITY_TOPIC_NAME)
        {
            name = hoop_kafka_node_bytes(c, &len);
            break;
        }
    }

    if (id == NULL || idlen != 16
        || memcmp(id, hoop_topic_ids_zero, 16) == 0)
    {
        return HOOP_KAFKA_WALK_SKIP;
    }

    if (w->api_key == HOOP_KAFKA_API_DELETE_TOPICS) {
        err = hoop_kafka_node_child(node, "ErrorCode");

        if (err != NULL && hoop_kafka_node_int(err) == 0) {
            w->n += hoop_topic_ids_forget(w->map, id);
        }

        return HOOP_KAFKA_WALK_SKIP;
    }

    if (name == NULL || len == 0 || len > HOOP_TOPIC_IDS_NAME_MAX) {
        /* an error entry (null name) or not a legal topic name */
        return HOOP_KAFKA_WALK_SKIP;
    }

    rc = hoop_topic_ids_learn(w->map, id, name, len);

    if (rc < 0) {
        return -1;    /* valid, so out of memory */
    }

    w->n += rc;

    return HOOP_KAFKA_WALK_SKIP;
}


int
hoop_topic_ids_learn_response(hoop_topic_ids_t *m, int16_t api_key,
    hoop_kafka_node_t *root)
{
    hoop_topic_ids_walk_t  w;

    if (m == NULL || root == NULL || !hoop_topic_ids_teaches(api_key)) {
        return 0;
    }

    w.map = m;
    w.api_key = api_key;
    w.n = 0;

    if (hoop_kafka_walk(root, hoop_topic_ids_learn_node, &w) != 0) {
        return -1;
    }

    return w.n;
}


typedef struct {
    hoop_topic_ids_t            *map;
    size_t                       n;
} hoop_topic_ids_scan_t;


static int
hoop_topic_ids_scan_node(hoop_kafka_node_t *node,
    const hoop_kafka_field_t *field, hoop_kafka_node_t *parent, void *data)
{
    hoop_topic_ids_scan_t *s = data;

    size_t          len;
    const char     *fname;
    const uint8_t  *id;

    (void) parent;

    if (field == NULL) {
        return HOOP_KAFKA_WALK_SKIP;
    }

    fname = field->name;

    switch (node->type) {

    case HOOP_KAFKA_T_STRUCT:
        return HOOP_KAFKA_WALK_CONTINUE;

    case HOOP_KAFKA_T_ARRAY:
        if (fname != NULL && strcmp(fname, "ForgottenTopicsData") == 0) {
            return HOOP_KAFKA_WALK_SKIP;
        }

        return HOOP_KAFKA_WALK_CONTINUE;

    case HOOP_KAFKA_T_UUID:
        if (fname == NULL || strcmp(fname, "TopicId") != 0) {
            return HOOP_KAFKA_WALK_SKIP;
        }

        id = hoop_kafka_node_bytes(node, &len);

        if (id != NULL && len == 16
            && memcmp(id, hoop_topic_ids_zero, 16) != 0
            && (s->map == NULL
                || hoop_topic_ids_find_id(s->map, id,
                                          hoop_topic_ids_hash(id, 16))
                   == NULL))
        {
            s->n++;
        }

        return HOOP_KAFKA_WALK_SKIP;
    }

    return HOOP_KAFKA_WALK_SKIP;
}


size_t
hoop_topic_ids_unknown(hoop_topic_ids_t *m, hoop_kafka_node_t *req)
{
    hoop_topic_ids_scan_t  s;

    if (req == NULL) {
        return 0;
    }

    s.map = m;
    s.n = 0;

    (void) hoop_kafka_walk(req, hoop_topic_ids_scan_node, &s);

    return s.n;
}
