/*
 * hoopctl diff: a semantic diff of two compiled policies.
 *
 * Rules are matched by (kind, id): a grant or deny only in the first
 * policy is "removed", only in the second "added", in both with some
 * field different "changed".  Lists (principals, resources, operations,
 * hosts) are compared as sets, other fields as values.  Formatting,
 * comments, key and list order do not count: the compiled rules are
 * compared, the same ones the canonical form and its sha256 are made of.
 */

#include <stdlib.h>
#include <string.h>

#include "hoopctl.h"


typedef enum {
    HOOPCTL_ADDED = 0,
    HOOPCTL_REMOVED,
    HOOPCTL_CHANGED
} hoopctl_change_t;

typedef struct {
    hoopctl_change_t              change;
    hoop_policy_kind_t            kind;
    const char                   *id;
    const hoop_policy_rule_t     *a;
    const hoop_policy_rule_t     *b;
} hoopctl_entry_t;

/* the field differences of one changed rule */
typedef struct {
    hoopctl_buf_t                 text;
    json_t                       *json;
    unsigned                      n;
} hoopctl_fields_t;

/* a list of strings, owned */
typedef struct {
    char                        **s;
    size_t                        n;
} hoopctl_list_t;


static const char *hoopctl_change_names[] = { "added", "removed", "changed" };


static int
hoopctl_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char * const *) a, *(char * const *) b);
}


static int
hoopctl_cmp_entry(const void *pa, const void *pb)
{
    int                     rc;
    const hoopctl_entry_t  *a = pa, *b = pb;

    rc = strcmp(a->id, b->id);
    if (rc != 0) {
        return rc;
    }

    return (int) a->kind - (int) b->kind;
}


static void
hoopctl_list_add(hoopctl_list_t *l, hoopctl_buf_t *b)
{
    l->s = hoopctl_realloc(l->s, (l->n + 1) * sizeof(char *));
    l->s[l->n++] = hoopctl_strndup(hoopctl_buf_str(b), b->len);
    b->len = 0;
}


static void
hoopctl_list_free(hoopctl_list_t *l)
{
    size_t  i;

    for (i = 0; i < l->n; i++) {
        free(l->s[i]);
    }

    free(l->s);
    l->s = NULL;
    l->n = 0;
}


/* the principals, resources or hosts of r as text, one string each */
static void
hoopctl_rule_list(const hoop_policy_rule_t *r, const char *field,
    hoopctl_list_t *l)
{
    size_t         i;
    hoopctl_buf_t  b = { NULL, 0, 0 };

    l->s = NULL;
    l->n = 0;

    if (strcmp(field, "principals") == 0) {
        for (i = 0; i < r->nprincipals; i++) {
            hoopctl_buf_add_clean(&b, r->principals[i],
                                  strlen(r->principals[i]));
            hoopctl_list_add(l, &b);
        }

    } else if (strcmp(field, "resources") == 0) {
        for (i = 0; i < r->nresources; i++) {
            hoopctl_resource_text(&b, &r->resources[i]);
            hoopctl_list_add(l, &b);
        }

    } else if (r->nhosts == 0) {
        hoopctl_buf_adds(&b, "*");
        hoopctl_list_add(l, &b);

    } else {
        for (i = 0; i < r->nhosts; i++) {
            hoopctl_buf_adds(&b, r->hosts[i].text ? r->hosts[i].text : "*");
            hoopctl_list_add(l, &b);
        }
    }

    hoopctl_buf_free(&b);

    if (l->n > 1) {
        qsort(l->s, l->n, sizeof(char *), hoopctl_cmp_str);
    }
}


/* "    FIELD        " */
static void
hoopctl_field_label(hoopctl_buf_t *b, const char *field)
{
    hoopctl_buf_printf(b, "    %-12s", field);
}


/* compare two sorted lists; record removed and added members */
static void
hoopctl_diff_lists(hoopctl_fields_t *f, const char *field,
    hoopctl_list_t *a, hoopctl_list_t *b)
{
    int      c;
    size_t   i, j;
    json_t  *added, *removed, *o;

    added = json_array();
    removed = json_array();

    i = 0;
    j = 0;

    while (i < a->n || j < b->n) {
        if (i == a->n) {
            c = 1;
        } else if (j == b->n) {
            c = -1;
        } else {
            c = strcmp(a->s[i], b->s[j]);
        }

        if (c == 0) {
            i++;
            j++;

        } else if (c < 0) {
            json_array_append_new(removed, hoopctl_json_str(a->s[i++]));

        } else {
            json_array_append_new(added, hoopctl_json_str(b->s[j++]));
        }
    }

    if (json_array_size(added) == 0 && json_array_size(removed) == 0) {
        json_decref(added);
        json_decref(removed);
        return;
    }

    hoopctl_field_label(&f->text, field);

    for (i = 0; i < json_array_size(removed); i++) {
        hoopctl_buf_printf(&f->text, " -%s",
                           json_string_value(json_array_get(removed, i)));
    }

    for (i = 0; i < json_array_size(added); i++) {
        hoopctl_buf_printf(&f->text, " +%s",
                           json_string_value(json_array_get(added, i)));
    }

    hoopctl_buf_add(&f->text, "\n", 1);

    o = json_object();
    json_object_set_new(o, "removed", removed);
    json_object_set_new(o, "added", added);
    json_object_set_new(f->json, field, o);
    f->n++;
}


static void
hoopctl_diff_list_field(hoopctl_fields_t *f, const char *field,
    const hoop_policy_rule_t *a, const hoop_policy_rule_t *b)
{
    hoopctl_list_t  la, lb;

    hoopctl_rule_list(a, field, &la);
    hoopctl_rule_list(b, field, &lb);
    hoopctl_diff_lists(f, field, &la, &lb);
    hoopctl_list_free(&la);
    hoopctl_list_free(&lb);
}


static void
hoopctl_diff_ops(hoopctl_fields_t *f, uint32_t a, uint32_t b)
{
    json_t  *o;

    if (a == b) {
        return;
    }

    hoopctl_field_label(&f->text, "operations");

    if (a & ~b) {
        hoopctl_buf_adds(&f->text, " -");
        hoopctl_ops_text(&f->text, a & ~b, " -");
    }

    if (b & ~a) {
        hoopctl_buf_adds(&f->text, " +");
        hoopctl_ops_text(&f->text, b & ~a, " +");
    }

    hoopctl_buf_add(&f->text, "\n", 1);

    o = json_object();
    json_object_set_new(o, "removed", hoopctl_ops_json(a & ~b));
    json_object_set_new(o, "added", hoopctl_ops_json(b & ~a));
    json_object_set_new(f->json, "operations", o);
    f->n++;
}


/* a value field (NULL: absent) */
static void
hoopctl_diff_value(hoopctl_fields_t *f, const char *field, const char *a,
    const char *b, int quote)
{
    json_t  *o;

    if ((a == NULL && b == NULL)
        || (a != NULL && b != NULL && strcmp(a, b) == 0))
    {
        return;
    }

    hoopctl_field_label(&f->text, field);
    hoopctl_buf_add(&f->text, " ", 1);

    if (a == NULL) {
        hoopctl_buf_adds(&f->text, "-");
    } else {
        hoopctl_buf_adds(&f->text, quote ? "\"" : "");
        hoopctl_buf_add_clean(&f->text, a, strlen(a));
        hoopctl_buf_adds(&f->text, quote ? "\"" : "");
    }

    hoopctl_buf_adds(&f->text, " -> ");

    if (b == NULL) {
        hoopctl_buf_adds(&f->text, "-");
    } else {
        hoopctl_buf_adds(&f->text, quote ? "\"" : "");
        hoopctl_buf_add_clean(&f->text, b, strlen(b));
        hoopctl_buf_adds(&f->text, quote ? "\"" : "");
    }

    hoopctl_buf_add(&f->text, "\n", 1);

    o = json_object();
    json_object_set_new(o, "from", hoopctl_json_str(a));
    json_object_set_new(o, "to", hoopctl_json_str(b));
    json_object_set_new(f->json, field, o);
    f->n++;
}


static void
hoopctl_diff_time(hoopctl_fields_t *f, const char *field, int64_t a,
    int64_t b)
{
    char  ba[40], bb[40];

    if (a == b) {
        return;
    }

    hoopctl_diff_value(f, field,
        (a == HOOP_POLICY_TIME_MIN || a == HOOP_POLICY_TIME_MAX)
            ? NULL : hoopctl_iso_time(a, ba, sizeof(ba)),
        (b == HOOP_POLICY_TIME_MIN || b == HOOP_POLICY_TIME_MAX)
            ? NULL : hoopctl_iso_time(b, bb, sizeof(bb)), 0);
}


/* the approval blocks of two grants, as their one-line texts */
static void
hoopctl_diff_approval(hoopctl_fields_t *f, const hoop_policy_approval_t *a,
    const hoop_policy_approval_t *b)
{
    hoopctl_buf_t  ta = { NULL, 0, 0 }, tb = { NULL, 0, 0 };

    if (a == NULL && b == NULL) {
        return;
    }

    if (a) {
        hoopctl_approval_text(&ta, a);
    }

    if (b) {
        hoopctl_approval_text(&tb, b);
    }

    hoopctl_diff_value(f, "approval", a ? hoopctl_buf_str(&ta) : NULL,
                       b ? hoopctl_buf_str(&tb) : NULL, 0);

    hoopctl_buf_free(&ta);
    hoopctl_buf_free(&tb);
}


/* every field of two rules with the same kind and id */
static void
hoopctl_diff_rule(hoopctl_fields_t *f, const hoop_policy_rule_t *a,
    const hoop_policy_rule_t *b)
{
    hoopctl_diff_list_field(f, "principals", a, b);
    hoopctl_diff_list_field(f, "resources", a, b);
    hoopctl_diff_ops(f, a->ops, b->ops);
    hoopctl_diff_list_field(f, "hosts", a, b);
    hoopctl_diff_time(f, "valid_from", a->valid_from, b->valid_from);
    hoopctl_diff_time(f, "valid_until", a->valid_until, b->valid_until);
    hoopctl_diff_value(f, "reviewed_by", a->reviewed_by, b->reviewed_by, 0);
    hoopctl_diff_value(f, "reviewed_at", a->reviewed_at, b->reviewed_at, 0);
    hoopctl_diff_value(f, "reason", a->reason, b->reason, 1);
    hoopctl_diff_value(f, "description", a->description, b->description, 1);
    hoopctl_diff_approval(f, a->approval, b->approval);
}


/* the lines under "added grant X" / "removed deny Y" */
static void
hoopctl_rule_summary(const hoop_policy_rule_t *r)
{
    char           t1[40], t2[40];
    hoopctl_buf_t  b = { NULL, 0, 0 };

    hoopctl_field_label(&b, "principals");
    hoopctl_buf_adds(&b, " ");
    hoopctl_principals_text(&b, r, ", ");
    hoopctl_buf_adds(&b, "\n");

    hoopctl_field_label(&b, "resources");
    hoopctl_buf_adds(&b, " ");
    hoopctl_resources_text(&b, r, ", ");
    hoopctl_buf_adds(&b, "\n");

    hoopctl_field_label(&b, "operations");
    hoopctl_buf_adds(&b, " ");
    hoopctl_ops_text(&b, r->ops, ", ");
    hoopctl_buf_adds(&b, "\n");

    if (r->nhosts) {
        hoopctl_field_label(&b, "hosts");
        hoopctl_buf_adds(&b, " ");
        hoopctl_hosts_text(&b, r, ", ");
        hoopctl_buf_adds(&b, "\n");
    }

    if (r->valid_from != HOOP_POLICY_TIME_MIN
        || r->valid_until != HOOP_POLICY_TIME_MAX)
    {
        hoopctl_field_label(&b, "valid");
        hoopctl_buf_printf(&b, " %s .. %s\n",
                           hoopctl_bound_text(r->valid_from, t1, sizeof(t1)),
                           hoopctl_bound_text(r->valid_until, t2,
                                              sizeof(t2)));
    }

    if (r->reviewed_by != NULL) {
        hoopctl_field_label(&b, "reviewed");
        hoopctl_buf_adds(&b, " ");
        hoopctl_buf_add_clean(&b, r->reviewed_by, strlen(r->reviewed_by));
        hoopctl_buf_printf(&b, ", %s\n",
                           r->reviewed_at ? r->reviewed_at : "-");
    }

    if (r->reason != NULL) {
        hoopctl_field_label(&b, "reason");
        hoopctl_buf_adds(&b, " ");
        hoopctl_buf_add_clean(&b, r->reason, strlen(r->reason));
        hoopctl_buf_adds(&b, "\n");
    }

    if (r->approval != NULL) {
        hoopctl_field_label(&b, "approval");
        hoopctl_buf_adds(&b, " ");
        hoopctl_approval_text(&b, r->approval);
        hoopctl_buf_adds(&b, "\n");
    }

    fputs(hoopctl_buf_str(&b), stdout);
    hoopctl_buf_free(&b);
}


/* a reserved section ("masking", "approvals") as JSON for the output */
static json_t *
hoopctl_reserved_json(const char *text)
{
    json_t  *j;

    if (text == NULL) {
        return json_null();
    }

    j = json_loads(text, JSON_DECODE_ANY, NULL);

    return j ? j : hoopctl_json_str(text);
}


/* the document-level fields: description, reserved sections */
static void
hoopctl_diff_document(hoopctl_fields_t *f, const hoop_policy_t *a,
    const hoop_policy_t *b)
{
    size_t       i;
    json_t      *o;
    const char  *ra, *rb;

    static const char  *reserved[] = { "approvals", "masking" };

    hoopctl_diff_value(f, "description", hoop_policy_description(a),
                       hoop_policy_description(b), 1);

    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        ra = hoop_policy_reserved(a, reserved[i]);
        rb = hoop_policy_reserved(b, reserved[i]);

        if ((ra == NULL && rb == NULL)
            || (ra != NULL && rb != NULL && strcmp(ra, rb) == 0))
        {
            continue;
        }

        hoopctl_field_label(&f->text, reserved[i]);
        hoopctl_buf_adds(&f->text, ra == NULL ? " added\n"
                                   : rb == NULL ? " removed\n"
                                   : " changed\n");

        o = json_object();
        json_object_set_new(o, "from", hoopctl_reserved_json(ra));
        json_object_set_new(o, "to", hoopctl_reserved_json(rb));
        json_object_set_new(f->json, reserved[i], o);
        f->n++;
    }
}


/* every (kind, id) of a missing from b (change) or in both (changed) */
static void
hoopctl_collect(const hoop_policy_t *a, const hoop_policy_t *b,
    hoopctl_change_t missing, hoopctl_entry_t **entries, size_t *n)
{
    size_t                     i, count;
    unsigned                   k;
    hoopctl_entry_t           *e;
    const hoop_policy_rule_t  *ra, *rb;

    for (k = HOOP_POLICY_GRANT; k <= HOOP_POLICY_DENY; k++) {
        count = hoop_policy_rule_count(a, (hoop_policy_kind_t) k);

        for (i = 0; i < count; i++) {
            ra = hoop_policy_rule_at(a, (hoop_policy_kind_t) k, i);
            rb = hoop_policy_rule_find(b, ra->id, strlen(ra->id));

            if (rb != NULL && rb->kind == ra->kind) {
                if (missing == HOOPCTL_ADDED) {
                    continue;             /* seen from the other side */
                }

            } else {
                rb = NULL;
            }

            *entries = hoopctl_realloc(*entries,
                                       (*n + 1) * sizeof(hoopctl_entry_t));
            e = &(*entries)[(*n)++];
            e->kind = ra->kind;
            e->id = ra->id;

            if (rb == NULL) {
                e->change = missing;
                e->a = missing == HOOPCTL_REMOVED ? ra : NULL;
                e->b = missing == HOOPCTL_ADDED ? ra : NULL;

            } else {
                e->change = HOOPCTL_CHANGED;
                e->a = ra;
                e->b = rb;
            }
        }
    }
}


int
hoopctl_diff(const hoop_policy_t *a, const char *la, const hoop_policy_t *b,
    const char *lb, int json)
{
    size_t             i, n, counts[3];
    json_t            *out, *side, *lists[3], *o;
    const char        *sa, *sb;
    hoopctl_entry_t   *entries, *e;
    hoopctl_fields_t   f, doc;

    sa = hoop_policy_sha256_hex(a);
    sb = hoop_policy_sha256_hex(b);

    entries = NULL;
    n = 0;
    hoopctl_collect(a, b, HOOPCTL_REMOVED, &entries, &n);
    hoopctl_collect(b, a, HOOPCTL_ADDED, &entries, &n);

    if (n > 1) {
        qsort(entries, n, sizeof(hoopctl_entry_t), hoopctl_cmp_entry);
    }

    memset(&doc, 0, sizeof(doc));
    doc.json = json_object();
    hoopctl_diff_document(&doc, a, b);

    out = NULL;
    lists[0] = NULL;
    lists[1] = NULL;
    lists[2] = NULL;

    if (json) {
        out = json_object();

        side = json_object();
        json_object_set_new(side, "label", hoopctl_json_str(la));
        json_object_set_new(side, "sha256", json_string(sa));
        json_object_set_new(out, "from", side);

        side = json_object();
        json_object_set_new(side, "label", hoopctl_json_str(lb));
        json_object_set_new(side, "sha256", json_string(sb));
        json_object_set_new(out, "to", side);

        for (i = 0; i < 3; i++) {
            lists[i] = json_array();
        }

    } else {
        printf("--- %s  sha256:%.12s\n+++ %s  sha256:%.12s\n", la, sa, lb,
               sb);

        if (doc.n) {
            printf("document\n%s", hoopctl_buf_str(&doc.text));
        }
    }

    counts[0] = 0;
    counts[1] = 0;
    counts[2] = 0;

    for (i = 0; i < n; i++) {
        e = &entries[i];

        memset(&f, 0, sizeof(f));
        f.json = json_object();

        if (e->change == HOOPCTL_CHANGED) {
            hoopctl_diff_rule(&f, e->a, e->b);

            if (f.n == 0) {
                /* the same rule */
                json_decref(f.json);
                hoopctl_buf_free(&f.text);
                continue;
            }
        }

        counts[e->change]++;

        if (json) {
            if (e->change == HOOPCTL_CHANGED) {
                o = json_object();
                json_object_set_new(o, "id", hoopctl_json_str(e->id));
                json_object_set_new(o, "kind",
                                    json_string(hoopctl_kind_name(e->kind)));
                json_object_set_new(o, "changes", f.json);
                f.json = NULL;

            } else {
                o = hoopctl_rule_json(e->a ? e->a : e->b);
            }

            json_array_append_new(lists[e->change], o);

        } else {
            printf("%s %s ", hoopctl_change_names[e->change],
                   hoopctl_kind_name(e->kind));
            hoopctl_put_clean(stdout, e->id, strlen(e->id));
            fputc('\n', stdout);

            if (e->change == HOOPCTL_CHANGED) {
                fputs(hoopctl_buf_str(&f.text), stdout);

            } else {
                hoopctl_rule_summary(e->a ? e->a : e->b);
            }
        }

        json_decref(f.json);
        hoopctl_buf_free(&f.text);
    }

    free(entries);

    n = counts[0] + counts[1] + counts[2] + doc.n;

    if (json) {
        json_object_set_new(out, "identical",
                            json_boolean(strcmp(sa, sb) == 0));
        json_object_set_new(out, "document", doc.json);
        doc.json = NULL;
        for (i = 0; i < 3; i++) {
            json_object_set_new(out, hoopctl_change_names[i], lists[i]);
        }

    } else if (n == 0 && strcmp(sa, sb) != 0) {
        /* a difference none of the fields above shows: say so */
        printf("the canonical forms differ (sha256 %s and %s), though no "
               "grant, deny or document field does\n", sa, sb);

    } else if (n == 0) {
        printf("no difference\n");

    } else {
        printf("%zu added, %zu removed, %zu changed%s\n", counts[0],
               counts[1], counts[2], doc.n ? ", document changed" : "");
    }

    json_decref(doc.json);
    hoopctl_buf_free(&doc.text);

    if (json) {
        hoopctl_json_print(out);
    }

    return (n == 0 && strcmp(sa, sb) == 0) ? HOOPCTL_OK : HOOPCTL_NO;
}
