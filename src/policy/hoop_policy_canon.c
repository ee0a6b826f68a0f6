/*
 * The canonical JSON form of a compiled policy and its SHA-256: what
 * hoopctl diffs, what the on-disk last-good cache holds, what a policy
 * version is named by.
 *
 * Shape (keys in this order, absent optional values omitted):
 *
 *   { "policy_version": 1, "default": "deny", "description": ...,
 *     "grants": [ RULE ... ], "denies": [ RULE ... ],
 *     "approvals": ..., "masking": ... }
 *
 *   RULE = { "id", "description", "principals": [...],
 *            "resources": [ { "type", "name", "match" } ... ],
 *            "operations": [...], "hosts": [...], "valid_from",
 *            "valid_until", "reviewed_by", "reviewed_at", "reason",
 *            "record", "approval": { "approvers", "grant_duration",
 *            "hold", "expire_after", "allow_self_approval" } }
 *
 * Rules sorted by id; principals sorted; resources sorted by (type, match,
 * name); operations in Kafka's code order; hosts sorted, "*" written out;
 * times in UTC with "Z"; reserved sections with object keys sorted.
 * jansson prints it with two-space indentation; a newline ends it.
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "hoop_policy_int.h"


static json_t *hoop_policy_canon_rule(const hoop_policy_rule_t *r);
static json_t *hoop_policy_canon_node(const hoop_policy_node_t *n);
static int hoop_policy_canon_set(json_t *obj, const char *key, json_t *v);
static int hoop_policy_canon_str(json_t *obj, const char *key,
    const char *s);
static int hoop_policy_key_order(const void *a, const void *b);
static char *hoop_policy_canon_dump(hoop_policy_t *p, json_t *v,
    size_t flags, size_t *len);


/* json_object_set_new() that also accepts a NULL value (as a failure) */
static int
hoop_policy_canon_set(json_t *obj, const char *key, json_t *v)
{
    if (v == NULL) {
        return -1;
    }

    return json_object_set_new(obj, key, v);
}


static int
hoop_policy_canon_str(json_t *obj, const char *key, const char *s)
{
    if (s == NULL) {
        return 0;
    }

    return hoop_policy_canon_set(obj, key, json_string(s));
}


int
hoop_policy_canon_build(hoop_policy_t *p, const hoop_policy_node_t *masking,
    const hoop_policy_node_t *approvals)
{
    int            rc;
    size_t         k, i, len;
    json_t        *root, *list, *rule, *v;
    unsigned int   mdlen;
    static const char  hex[] = "0123456789abcdef";

    rc = -1;
    root = json_object();
    if (root == NULL) {
        return -1;
    }

    if (hoop_policy_canon_set(root, "policy_version",
                              json_integer(HOOP_POLICY_LANGUAGE_VERSION)) != 0
        || hoop_policy_canon_str(root, "default", "deny") != 0
        || hoop_policy_canon_str(root, "description", p->description) != 0)
    {
        goto done;
    }

    for (k = 0; k < 2; k++) {
        list = json_array();
        if (hoop_policy_canon_set(root, k == 0 ? "grants" : "denies", list)
            != 0)
        {
            goto done;
        }

        for (i = 0; i < p->nrules[k]; i++) {
            rule = hoop_policy_canon_rule(&p->rules[k][i].pub);
            if (rule == NULL || json_array_append_new(list, rule) != 0) {
                goto done;
            }
        }
    }

    if (approvals) {
        v = hoop_policy_canon_node(approvals);
        if (hoop_policy_canon_set(root, "approvals", v) != 0) {
            goto done;
        }

        p->reserved_approvals = hoop_policy_canon_dump(p, v, JSON_COMPACT
                                                       | JSON_ENCODE_ANY,
                                                       &len);
        if (p->reserved_approvals == NULL) {
            goto done;
        }
    }

    if (masking) {
        v = hoop_policy_canon_node(masking);
        if (hoop_policy_canon_set(root, "masking", v) != 0) {
            goto done;
        }

        p->reserved_masking = hoop_policy_canon_dump(p, v, JSON_COMPACT
                                                     | JSON_ENCODE_ANY,
                                                     &len);
        if (p->reserved_masking == NULL) {
            goto done;
        }
    }

    p->canonical = hoop_policy_canon_dump(p, root, JSON_INDENT(2),
                                          &p->canonical_len);
    if (p->canonical == NULL) {
        goto done;
    }

    mdlen = sizeof(p->sha256);
    if (EVP_Digest(p->canonical, p->canonical_len, p->sha256, &mdlen,
                   EVP_sha256(), NULL) != 1)
    {
        goto done;
    }

    for (i = 0; i < 32; i++) {
        p->sha256_hex[2 * i] = hex[p->sha256[i] >> 4];
        p->sha256_hex[2 * i + 1] = hex[p->sha256[i] & 0xf];
    }
    p->sha256_hex[64] = '\0';

    rc = 0;

done:

    json_decref(root);

    return rc;
}


char *
hoop_policy_canon_text(const hoop_policy_node_t *n, size_t *len)
{
    char    *s;
    json_t  *v;

    v = hoop_policy_canon_node(n);
    if (v == NULL) {
        return NULL;
    }

    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);

    if (s && len) {
        *len = strlen(s);
    }

    return s;
}


/* jansson's text, plus a newline when indented, copied into the arena */
static char *
hoop_policy_canon_dump(hoop_policy_t *p, json_t *v, size_t flags,
    size_t *len)
{
    char    *s, *copy;
    size_t   n, nl;

    s = json_dumps(v, flags);
    if (s == NULL) {
        return NULL;
    }

    n = strlen(s);
    nl = (flags & JSON_COMPACT) ? 0 : 1;

    copy = hoop_policy_alloc(&p->arena, n + nl + 1);
    if (copy) {
        memcpy(copy, s, n);
        if (nl) {
            copy[n] = '\n';
        }
        copy[n + nl] = '\0';
        *len = n + nl;
    }

    free(s);

    return copy;
}


static json_t *
hoop_policy_canon_rule(const hoop_policy_rule_t *r)
{
    size_t   i;
    json_t  *o, *a, *res, *ap;
    char     buf[32];

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    if (hoop_policy_canon_str(o, "id", r->id) != 0
        || hoop_policy_canon_str(o, "description", r->description) != 0)
    {
        goto failed;
    }

    a = json_array();
    if (hoop_policy_canon_set(o, "principals", a) != 0) {
        goto failed;
    }

    for (i = 0; i < r->nprincipals; i++) {
        if (json_array_append_new(a, json_string(r->principals[i])) != 0) {
            goto failed;
        }
    }

    a = json_array();
    if (hoop_policy_canon_set(o, "resources", a) != 0) {
        goto failed;
    }

    for (i = 0; i < r->nresources; i++) {
        res = json_object();
        if (res == NULL || json_array_append_new(a, res) != 0
            || hoop_policy_canon_str(res, "type",
                              hoop_policy_res_name(r->resources[i].type))
               != 0
            || hoop_policy_canon_set(res, "name",
                              json_stringn(r->resources[i].name,
                                           r->resources[i].name_len)) != 0
            || hoop_policy_canon_str(res, "match",
                              hoop_policy_match_name(r->resources[i].match))
               != 0)
        {
            goto failed;
        }
    }

    a = json_array();
    if (hoop_policy_canon_set(o, "operations", a) != 0) {
        goto failed;
    }

    for (i = 0; i < HOOP_POLICY_OP_LIMIT; i++) {
        if ((r->ops & HOOP_POLICY_OP_BIT(i))
            && json_array_append_new(a,
                   json_string(hoop_policy_op_name((hoop_policy_op_t) i)))
               != 0)
        {
            goto failed;
        }
    }

    a = json_array();
    if (hoop_policy_canon_set(o, "hosts", a) != 0) {
        goto failed;
    }

    if (r->nhosts == 0) {
        if (json_array_append_new(a, json_string("*")) != 0) {
            goto failed;
        }
    }

    for (i = 0; i < r->nhosts; i++) {
        if (json_array_append_new(a, json_string(r->hosts[i].text)) != 0) {
            goto failed;
        }
    }

    if (r->valid_from != HOOP_POLICY_TIME_MIN) {
        hoop_policy_time_format(r->valid_from, 0, buf, sizeof(buf));
        if (hoop_policy_canon_str(o, "valid_from", buf) != 0) {
            goto failed;
        }
    }

    if (r->valid_until != HOOP_POLICY_TIME_MAX) {
        hoop_policy_time_format(r->valid_until, 0, buf, sizeof(buf));
        if (hoop_policy_canon_str(o, "valid_until", buf) != 0) {
            goto failed;
        }
    }

    if (hoop_policy_canon_str(o, "reviewed_by", r->reviewed_by) != 0
        || hoop_policy_canon_str(o, "reviewed_at", r->reviewed_at) != 0
        || hoop_policy_canon_str(o, "reason", r->reason) != 0)
    {
        goto failed;
    }

    if (r->record != HOOP_POLICY_RECORD_NONE
        && hoop_policy_canon_str(o, "record",
                                 r->record == HOOP_POLICY_RECORD_SUMMARY
                                 ? "summary" : "payloads") != 0)
    {
        goto failed;
    }

    if (r->approval != NULL) {
        ap = json_object();
        if (hoop_policy_canon_set(o, "approval", ap) != 0) {
            goto failed;
        }

        a = json_array();
        if (hoop_policy_canon_set(ap, "approvers", a) != 0) {
            goto failed;
        }

        for (i = 0; i < r->approval->napprovers; i++) {
            if (json_array_append_new(a,
                                  json_string(r->approval->approvers[i]))
                != 0)
            {
                goto failed;
            }
        }

        if (hoop_policy_canon_str(ap, "grant_duration",
                                  hoop_policy_duration_format(
                                      r->approval->grant_ms, buf,
                                      sizeof(buf))) != 0
            || hoop_policy_canon_str(ap, "hold",
                                     hoop_policy_duration_format(
                                         r->approval->hold_ms, buf,
                                         sizeof(buf))) != 0
            || hoop_policy_canon_str(ap, "expire_after",
                                     hoop_policy_duration_format(
                                         r->approval->expire_ms, buf,
                                         sizeof(buf))) != 0
            || hoop_policy_canon_set(ap, "allow_self_approval",
                                     json_boolean(
                                     r->approval->allow_self_approval)) != 0)
        {
            goto failed;
        }
    }

    return o;

failed:

    json_decref(o);

    return NULL;
}


typedef struct {
    const hoop_policy_node_t    *key;
    const hoop_policy_node_t    *value;
} hoop_policy_kv_t;


static int
hoop_policy_key_order(const void *a, const void *b)
{
    const hoop_policy_node_t  *x, *y;
    int                        c;

    x = ((const hoop_policy_kv_t *) a)->key;
    y = ((const hoop_policy_kv_t *) b)->key;

    c = memcmp(x->str, y->str, x->len < y->len ? x->len : y->len);
    if (c == 0) {
        c = x->len < y->len ? -1 : x->len > y->len;
    }

    return c;
}


/* a document subtree as JSON, object keys sorted */
static json_t *
hoop_policy_canon_node(const hoop_policy_node_t *n)
{
    size_t              i;
    json_t             *v, *item;
    hoop_policy_kv_t   *kv;

    switch (n->type) {

    case HOOP_POLICY_N_NULL:
        return json_null();

    case HOOP_POLICY_N_BOOL:
        return json_boolean(n->bval);

    case HOOP_POLICY_N_INT:
        return json_integer((json_int_t) n->ival);

    case HOOP_POLICY_N_REAL:
        return json_real(n->rval);

    case HOOP_POLICY_N_STR:
        return json_stringn(n->str, n->len);

    case HOOP_POLICY_N_SEQ:
        v = json_array();
        if (v == NULL) {
            return NULL;
        }

        for (i = 0; i < n->n; i++) {
            item = hoop_policy_canon_node(n->items[i]);
            if (item == NULL || json_array_append_new(v, item) != 0) {
                json_decref(v);
                return NULL;
            }
        }

        return v;

    case HOOP_POLICY_N_MAP:
        v = json_object();
        kv = malloc((n->n ? n->n : 1) * sizeof(hoop_policy_kv_t));
        if (v == NULL || kv == NULL) {
            json_decref(v);
            free(kv);
            return NULL;
        }

        for (i = 0; i < n->n; i++) {
            kv[i].key = n->keys[i];
            kv[i].value = n->items[i];
        }

        qsort(kv, n->n, sizeof(hoop_policy_kv_t), hoop_policy_key_order);

        for (i = 0; i < n->n; i++) {
            item = hoop_policy_canon_node(kv[i].value);
            if (item == NULL
                || json_object_setn_new(v, kv[i].key->str, kv[i].key->len,
                                        item) != 0)
            {
                json_decref(v);
                free(kv);
                return NULL;
            }
        }

        free(kv);
        return v;
    }

    return NULL;
}
