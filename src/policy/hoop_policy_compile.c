/*
 * The policy compiler: from the document tree to validated rules, with a
 * diagnostic (line, column, JSON Pointer) for every problem, then the
 * warnings that need the whole policy (duplicate ids, expiry, overlap),
 * then the index and the canonical form.
 *
 * The language is described in docs/policy.md and, for tools, in
 * docs/policy-schema.json; the two and this file change together.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hoop_policy_int.h"


#define HOOP_POLICY_ID_MAX        128
#define HOOP_POLICY_TEXT_MAX      4096      /* reason, description */


/* keys of a rule, in the order they are validated */
enum {
    HOOP_POLICY_K_ID = 0,
    HOOP_POLICY_K_DESCRIPTION,
    HOOP_POLICY_K_PRINCIPALS,
    HOOP_POLICY_K_RESOURCES,
    HOOP_POLICY_K_OPERATIONS,
    HOOP_POLICY_K_HOSTS,
    HOOP_POLICY_K_VALID_FROM,
    HOOP_POLICY_K_VALID_UNTIL,
    HOOP_POLICY_K_REVIEWED_BY,
    HOOP_POLICY_K_REVIEWED_AT,
    HOOP_POLICY_K_REASON,
    HOOP_POLICY_K_RECORD,
    HOOP_POLICY_K_APPROVAL,
    HOOP_POLICY_K_LIMIT
};

static const char  *hoop_policy_rule_keys[HOOP_POLICY_K_LIMIT] = {
    "id", "description", "principals", "resources", "operations", "hosts",
    "valid_from", "valid_until", "reviewed_by", "reviewed_at", "reason",
    "record", "approval"
};

#define HOOP_POLICY_RULE_KEYS                                                 \
    "id, description, principals, resources, operations, hosts, "            \
    "valid_from, valid_until, reviewed_by, reviewed_at, reason, record, "   \
    "approval"

#define HOOP_POLICY_TOP_KEYS                                                  \
    "policy_version, default, description, grants, denies; reserved: "       \
    "masking, approvals"

#define HOOP_POLICY_OP_NAMES                                                  \
    "read, write, create, delete, alter, describe, cluster_action, "         \
    "describe_configs, alter_configs, idempotent_write, create_tokens, "     \
    "describe_tokens, two_phase_commit, all"

#define HOOP_POLICY_RES_NAMES                                                 \
    "topic, group, cluster, transactional_id, delegation_token, user"


/* a resource while the rule is being read */
typedef struct {
    hoop_policy_resource_t       res;
    const hoop_policy_node_t    *node;
    size_t                       doc;        /* index in the list */
} hoop_policy_rtmp_t;


static int hoop_policy_top(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *root);
static void hoop_policy_masking(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *root);
static const hoop_policy_node_t *hoop_policy_node_at(
    const hoop_policy_node_t *root, const char *ptr);
static int hoop_policy_rules(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *seq, hoop_policy_kind_t kind,
    const char *path);
static int hoop_policy_rule(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *map, hoop_policy_kind_t kind,
    const char *path, hoop_policy_irule_t *r);
static const char *hoop_policy_string(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *n, const char *path, const char *what,
    size_t max, int controls_ok);
static int hoop_policy_list(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *n, const char *path, const char *what);
static int hoop_policy_principals(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *n, const char *path, hoop_policy_irule_t *r);
static int hoop_policy_resources(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *n, const char *path, hoop_policy_irule_t *r);
static int hoop_policy_resource(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *n, const char *path, hoop_policy_rtmp_t *t);
static int hoop_policy_regex(hoop_policy_cc_t *cc, hoop_policy_irule_t *r,
    size_t i, const hoop_policy_node_t *node, const char *path);
static int hoop_policy_operations(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *n, const char *path, hoop_policy_irule_t *r);
static int hoop_policy_hosts(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *n, const char *path, hoop_policy_irule_t *r);
static int hoop_policy_time(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *n, const char *path, int end, int64_t *t);
static int hoop_policy_approval(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *n, const char *path, hoop_policy_irule_t *r);
static int hoop_policy_approvers(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *n, const char *path,
    hoop_policy_approval_t *a);
static int hoop_policy_duration(hoop_policy_cc_t *cc,
    const hoop_policy_node_t *n, const char *path, const char *what,
    int64_t min, int64_t max, int64_t *ms);
static int hoop_policy_str_cmp(const void *a, const void *b);
static int hoop_policy_rtmp_cmp(const void *a, const void *b);
static int hoop_policy_host_cmp(const void *a, const void *b);
static int hoop_policy_rule_cmp(const void *a, const void *b);
static void hoop_policy_sort_rules(hoop_policy_cc_t *cc);


hoop_policy_t *
hoop_policy_compile(const char *text, size_t len, hoop_policy_diag_t *diags,
    size_t maxdiags, size_t *ndiags)
{
    return hoop_policy_compile_ex(text, len, NULL, diags, maxdiags, ndiags);
}


hoop_policy_t *
hoop_policy_compile_ex(const char *text, size_t len,
    const hoop_policy_options_t *opts, hoop_policy_diag_t *diags,
    size_t maxdiags, size_t *ndiags)
{
    hoop_policy_t        *p;
    hoop_policy_cc_t      cc;
    hoop_policy_arena_t   doc;
    hoop_policy_diags_t   d;
    hoop_policy_node_t   *root;

    memset(&d, 0, sizeof(d));
    d.diags = diags;
    d.max = diags ? maxdiags : 0;

    memset(&cc, 0, sizeof(cc));
    cc.d = &d;
    cc.now = opts && opts->now ? opts->now : (int64_t) time(NULL);
    cc.warn_secs = (int64_t) (opts && opts->expiry_warning_days
                              ? opts->expiry_warning_days : 14)
                   * HOOP_POLICY_DAY;
    cc.masking_fn = opts ? opts->masking : NULL;
    cc.masking_ctx = opts ? opts->masking_ctx : NULL;

    p = NULL;
    memset(&doc, 0, sizeof(doc));

    if (text == NULL) {
        text = "";
        len = 0;
    }

    if (len > HOOP_POLICY_MAX_TEXT) {
        hoop_policy_error(&d, "too-large", (hoop_policy_node_t *) NULL, "",
                          "the document is larger than %d bytes",
                          HOOP_POLICY_MAX_TEXT);
        goto done;
    }

    root = hoop_policy_doc_parse(text, len,
                                 opts ? opts->format
                                      : HOOP_POLICY_FORMAT_AUTO,
                                 &doc, &d);
    if (root == NULL) {
        goto done;
    }

    p = calloc(1, sizeof(hoop_policy_t));
    if (p == NULL) {
        hoop_policy_error(&d, "nomem", (hoop_policy_node_t *) NULL, "",
                          "out of memory");
        goto done;
    }

    cc.p = p;
    cc.a = &p->arena;

    (void) hoop_policy_top(&cc, root);

    if (cc.masking && cc.masking_fn) {
        hoop_policy_masking(&cc, root);
    }

    if (!cc.a->failed) {
        (void) hoop_policy_lint_ids(&cc);
    }

    if (d.nerrors == 0 && !cc.a->failed) {
        hoop_policy_sort_rules(&cc);
        hoop_policy_lint_times(&cc);

        if (hoop_policy_lint_overlaps(&cc) != 0
            || hoop_policy_index_build(p) != 0
            || hoop_policy_canon_build(p, cc.masking, cc.approvals) != 0)
        {
            cc.a->failed = 1;
        }
    }

    if (cc.a->failed) {
        hoop_policy_error(&d, "nomem", (hoop_policy_node_t *) NULL, "",
                          "out of memory");
    }

done:

    hoop_policy_arena_free(&doc);

    if (d.nerrors && p) {
        hoop_policy_free(p);
        p = NULL;
    }

    hoop_policy_diags_sort(&d);

    if (ndiags) {
        *ndiags = d.n;
    }

    return p;
}


void
hoop_policy_free(hoop_policy_t *p)
{
    size_t  i;

    if (p == NULL) {
        return;
    }

    for (i = 0; i < p->ncodes; i++) {
        pcre2_code_free(p->codes[i]);
    }

    free(p->codes);
    pcre2_match_data_free(p->md);
    pcre2_match_context_free(p->mctx);
    hoop_policy_arena_free(&p->arena);
    free(p);
}


/* ---------------------------------------------------------------------- */


static int
hoop_policy_top(hoop_policy_cc_t *cc, const hoop_policy_node_t *root)
{
    size_t                     i;
    const char                *key;
    const hoop_policy_node_t  *k, *v, *version, *grants, *denies;
    char                       path[128];

    if (root->type != HOOP_POLICY_N_MAP) {
        hoop_policy_error(cc->d, "type", root, "",
                          "a policy is a mapping (policy_version, grants, "
                          "...), not %s", hoop_policy_ntype_name(root->type));
        return -1;
    }

    version = NULL;
    grants = NULL;
    denies = NULL;

    for (i = 0; i < root->n; i++) {
        k = root->keys[i];
        v = root->items[i];
        key = k->str;
        hoop_policy_path_key(path, sizeof(path), "", k->str, k->len);

        if (strcmp(key, "policy_version") == 0) {
            version = v;

        } else if (strcmp(key, "default") == 0) {
            if (v->type != HOOP_POLICY_N_STR || strcmp(v->str, "deny") != 0) {
                hoop_policy_error(cc->d, "default-not-deny", v, path,
                                  "the only default is \"deny\": what no "
                                  "grant allows is refused");
            }

        } else if (strcmp(key, "description") == 0) {
            cc->p->description = hoop_policy_string(cc, v, path,
                                                    "description",
                                                    HOOP_POLICY_TEXT_MAX, 1);

        } else if (strcmp(key, "grants") == 0) {
            grants = v;

        } else if (strcmp(key, "denies") == 0) {
            denies = v;

        } else if (strcmp(key, "masking") == 0
                   || strcmp(key, "approvals") == 0)
        {
            if (key[0] == 'm') {
                cc->masking = v;
            } else {
                cc->approvals = v;
            }

            if (key[0] != 'm' || cc->masking_fn == NULL) {
                hoop_policy_warn(cc->d, "reserved-section", k, path,
                                 "section \"%s\" is reserved for a later "
                                 "version: kept, not enforced", key);
            }

        } else {
            hoop_policy_error(cc->d, "unknown-key", k, path,
                              "unknown key \"%.*s\" (allowed: "
                              HOOP_POLICY_TOP_KEYS ")",
                              (int) (k->len > 64 ? 64 : k->len), k->str);
        }
    }

    if (version == NULL) {
        hoop_policy_error(cc->d, "missing-key", root, "",
                          "policy_version is required (this gateway reads "
                          "policy_version: %d)",
                          HOOP_POLICY_LANGUAGE_VERSION);

    } else if (version->type != HOOP_POLICY_N_INT) {
        hoop_policy_error(cc->d, "type", version, "/policy_version",
                          "policy_version is an integer, not %s",
                          hoop_policy_ntype_name(version->type));

    } else if (version->ival != HOOP_POLICY_LANGUAGE_VERSION) {
        hoop_policy_error(cc->d, "unsupported-version", version,
                          "/policy_version",
                          "policy_version %lld is not supported (this "
                          "gateway reads %d)", (long long) version->ival,
                          HOOP_POLICY_LANGUAGE_VERSION);
    }

    if (grants == NULL) {
        hoop_policy_error(cc->d, "missing-key", root, "",
                          "grants is required (a list; every request no "
                          "grant allows is denied)");

    } else {
        hoop_policy_rules(cc, grants, HOOP_POLICY_GRANT, "/grants");
    }

    if (denies) {
        hoop_policy_rules(cc, denies, HOOP_POLICY_DENY, "/denies");
    }

    return cc->d->nerrors ? -1 : 0;
}


/*
 * The "masking" section through options.masking: its diagnostics get the
 * line and column of the value their JSON Pointer names (or of the
 * nearest enclosing value that exists).
 */
static void
hoop_policy_masking(hoop_policy_cc_t *cc, const hoop_policy_node_t *root)
{
    char                      *json;
    size_t                     len, max, n, i;
    hoop_policy_diag_t        *tmp;
    const hoop_policy_node_t  *at;

    json = hoop_policy_canon_text(cc->masking, &len);
    if (json == NULL) {
        cc->a->failed = 1;
        return;
    }

    max = 64;
    tmp = NULL;

    for ( ;; ) {
        free(tmp);
        tmp = calloc(max, sizeof(hoop_policy_diag_t));
        if (tmp == NULL) {
            cc->a->failed = 1;
            free(json);
            return;
        }

        n = cc->masking_fn(cc->masking_ctx, json, len, tmp, max);
        if (n <= max) {
            break;
        }

        max = n;
    }

    for (i = 0; i < n; i++) {
        at = hoop_policy_node_at(root, tmp[i].path);
        hoop_policy_diag(cc->d, tmp[i].severity,
                         tmp[i].code ? tmp[i].code : "masking",
                         at ? at->line : 0, at ? at->column : 0,
                         tmp[i].path, "%s", tmp[i].message);
    }

    free(tmp);
    free(json);
}


/* the node a JSON Pointer (RFC 6901) names, or its deepest existing
 * ancestor */
static const hoop_policy_node_t *
hoop_policy_node_at(const hoop_policy_node_t *root, const char *ptr)
{
    char                       seg[256];
    size_t                     i, n;
    const hoop_policy_node_t  *cur, *next;

    cur = root;

    while (*ptr == '/') {
        ptr++;
        n = 0;

        while (*ptr && *ptr != '/' && n < sizeof(seg) - 1) {
            if (ptr[0] == '~' && (ptr[1] == '0' || ptr[1] == '1')) {
                seg[n++] = ptr[1] == '0' ? '~' : '/';
                ptr += 2;
            } else {
                seg[n++] = *ptr++;
            }
        }

        seg[n] = '\0';
        next = NULL;

        if (cur->type == HOOP_POLICY_N_MAP) {
            for (i = 0; i < cur->n; i++) {
                if (cur->keys[i]->len == n
                    && memcmp(cur->keys[i]->str, seg, n) == 0)
                {
                    next = cur->items[i];
                    break;
                }
            }

        } else if (cur->type == HOOP_POLICY_N_SEQ && n > 0 && n < 10
                   && strspn(seg, "0123456789") == n)
        {
            i = (size_t) strtoul(seg, NULL, 10);
            if (i < cur->n) {
                next = cur->items[i];
            }
        }

        if (next == NULL) {
            break;
        }

        cur = next;
    }

    return cur;
}


static int
hoop_policy_rules(hoop_policy_cc_t *cc, const hoop_policy_node_t *seq,
    hoop_policy_kind_t kind, const char *path)
{
    size_t                i, n;
    hoop_policy_irule_t  *rules;
    char                  rpath[128];

    if (seq->type != HOOP_POLICY_N_SEQ) {
        hoop_policy_error(cc->d, "type", seq, path, "%s is a list, not %s",
                          path + 1, hoop_policy_ntype_name(seq->type));
        return -1;
    }

    if (seq->n == 0) {
        if (kind == HOOP_POLICY_GRANT) {
            hoop_policy_warn(cc->d, "no-grants", seq, path,
                             "no grants: every request is denied");
        }
        return 0;
    }

    if (seq->n + cc->p->nrules[0] + cc->p->nrules[1]
        > HOOP_POLICY_MAX_RULES)
    {
        hoop_policy_error(cc->d, "too-many", seq, path,
                          "more than %d rules", HOOP_POLICY_MAX_RULES);
        return -1;
    }

    rules = hoop_policy_calloc(cc->a, seq->n, sizeof(hoop_policy_irule_t));
    if (rules == NULL) {
        return -1;
    }

    n = 0;

    for (i = 0; i < seq->n; i++) {
        hoop_policy_path_index(rpath, sizeof(rpath), path, i);

        /* kept even with errors: its id still counts for duplicates */

        (void) hoop_policy_rule(cc, seq->items[i], kind, rpath, &rules[n]);
        rules[n].docpos = (uint32_t) i;
        n++;

        if (cc->a->failed) {
            return -1;
        }
    }

    cc->p->rules[kind] = rules;
    cc->p->nrules[kind] = n;

    return 0;
}


static int
hoop_policy_rule(hoop_policy_cc_t *cc, const hoop_policy_node_t *map,
    hoop_policy_kind_t kind, const char *path, hoop_policy_irule_t *r)
{
    size_t                     i, j, errors;
    int64_t                    t;
    int                        is_date;
    const char                *s, *what;
    hoop_policy_rule_t        *pub;
    const hoop_policy_node_t  *f[HOOP_POLICY_K_LIMIT], *k;
    char                       kpath[HOOP_POLICY_K_LIMIT][128];
    char                       buf[32];

    errors = cc->d->nerrors;
    memset(r, 0, sizeof(*r));
    pub = &r->pub;
    what = kind == HOOP_POLICY_GRANT ? "a grant" : "a deny";

    if (map->type != HOOP_POLICY_N_MAP) {
        hoop_policy_error(cc->d, "type", map, path, "%s is a mapping, not %s",
                          what, hoop_policy_ntype_name(map->type));
        return -1;
    }

    pub->kind = kind;
    pub->line = map->line;
    pub->column = map->column;
    pub->valid_from = HOOP_POLICY_TIME_MIN;
    pub->valid_until = HOOP_POLICY_TIME_MAX;

    memset(f, 0, sizeof(f));

    for (i = 0; i < map->n; i++) {
        k = map->keys[i];

        for (j = 0; j < HOOP_POLICY_K_LIMIT; j++) {
            if (strcmp(k->str, hoop_policy_rule_keys[j]) == 0) {
                break;
            }
        }

        if (j == HOOP_POLICY_K_LIMIT) {
            hoop_policy_path_key(kpath[0], sizeof(kpath[0]), path, k->str,
                                 k->len);
            hoop_policy_error(cc->d, "unknown-key", k, kpath[0],
                              "unknown key \"%.*s\" in %s (allowed: "
                              HOOP_POLICY_RULE_KEYS ")",
                              (int) (k->len > 64 ? 64 : k->len), k->str,
                              what);
            continue;
        }

        f[j] = map->items[i];
    }

    for (j = 0; j < HOOP_POLICY_K_LIMIT; j++) {
        hoop_policy_path_key(kpath[j], sizeof(kpath[j]), path,
                             hoop_policy_rule_keys[j],
                             strlen(hoop_policy_rule_keys[j]));
    }

    /* id */

    if (f[HOOP_POLICY_K_ID] == NULL) {
        hoop_policy_error(cc->d, "missing-key", map, path,
                          "%s needs an id (unique and stable: reviews and "
                          "audit events name it)", what);

    } else {
        s = hoop_policy_string(cc, f[HOOP_POLICY_K_ID],
                               kpath[HOOP_POLICY_K_ID], "id",
                               HOOP_POLICY_ID_MAX, 0);
        if (s) {
            for (i = 0; s[i]; i++) {
                if (!((s[i] >= 'a' && s[i] <= 'z')
                      || (s[i] >= 'A' && s[i] <= 'Z')
                      || (s[i] >= '0' && s[i] <= '9')
                      || (i > 0 && (s[i] == '.' || s[i] == '_'
                                    || s[i] == '-'))))
                {
                    break;
                }
            }

            if (s[i]) {
                hoop_policy_error(cc->d, "bad-id", f[HOOP_POLICY_K_ID],
                                  kpath[HOOP_POLICY_K_ID],
                                  "id \"%.64s\": letters, digits, '.', '_' "
                                  "and '-', starting with a letter or "
                                  "digit", s);
            } else {
                pub->id = s;
            }
        }
    }

    if (f[HOOP_POLICY_K_DESCRIPTION]) {
        pub->description = hoop_policy_string(cc,
                                         f[HOOP_POLICY_K_DESCRIPTION],
                                         kpath[HOOP_POLICY_K_DESCRIPTION],
                                         "description",
                                         HOOP_POLICY_TEXT_MAX, 1);
    }

    /* principals, resources, operations */

    if (f[HOOP_POLICY_K_PRINCIPALS] == NULL) {
        hoop_policy_error(cc->d, "missing-key", map, path,
                          "%s needs principals (\"User:NAME\", "
                          "\"Group:NAME\", \"User:*\")", what);
    } else {
        hoop_policy_principals(cc, f[HOOP_POLICY_K_PRINCIPALS],
                               kpath[HOOP_POLICY_K_PRINCIPALS], r);
    }

    if (f[HOOP_POLICY_K_RESOURCES] == NULL) {
        hoop_policy_error(cc->d, "missing-key", map, path,
                          "%s needs resources", what);
    } else {
        hoop_policy_resources(cc, f[HOOP_POLICY_K_RESOURCES],
                              kpath[HOOP_POLICY_K_RESOURCES], r);
    }

    if (f[HOOP_POLICY_K_OPERATIONS] == NULL) {
        hoop_policy_error(cc->d, "missing-key", map, path,
                          "%s needs operations (" HOOP_POLICY_OP_NAMES ")",
                          what);
    } else {
        hoop_policy_operations(cc, f[HOOP_POLICY_K_OPERATIONS],
                               kpath[HOOP_POLICY_K_OPERATIONS], r);
    }

    if (f[HOOP_POLICY_K_HOSTS]) {
        hoop_policy_hosts(cc, f[HOOP_POLICY_K_HOSTS],
                          kpath[HOOP_POLICY_K_HOSTS], r);
    }

    /* validity window */

    if (f[HOOP_POLICY_K_VALID_FROM]) {
        hoop_policy_time(cc, f[HOOP_POLICY_K_VALID_FROM],
                         kpath[HOOP_POLICY_K_VALID_FROM], 0,
                         &pub->valid_from);
    }

    if (f[HOOP_POLICY_K_VALID_UNTIL]) {
        if (hoop_policy_time(cc, f[HOOP_POLICY_K_VALID_UNTIL],
                             kpath[HOOP_POLICY_K_VALID_UNTIL], 1,
                             &pub->valid_until) == 0
            && f[HOOP_POLICY_K_VALID_FROM]
            && pub->valid_from != HOOP_POLICY_TIME_MIN
            && pub->valid_until < pub->valid_from)
        {
            hoop_policy_error(cc->d, "window-order",
                              f[HOOP_POLICY_K_VALID_UNTIL],
                              kpath[HOOP_POLICY_K_VALID_UNTIL],
                              "valid_until is before valid_from");
        }
    }

    /* review metadata: required on grants */

    if (f[HOOP_POLICY_K_REVIEWED_BY]) {
        pub->reviewed_by = hoop_policy_string(cc,
                                         f[HOOP_POLICY_K_REVIEWED_BY],
                                         kpath[HOOP_POLICY_K_REVIEWED_BY],
                                         "reviewed_by",
                                         HOOP_POLICY_MAX_NAME, 0);
    }

    if (f[HOOP_POLICY_K_REVIEWED_AT]) {
        k = f[HOOP_POLICY_K_REVIEWED_AT];

        if (k->type != HOOP_POLICY_N_STR
            || hoop_policy_time_parse(k->str, k->len, 1, &t, &is_date) != 0)
        {
            hoop_policy_error(cc->d, "bad-time", k,
                              kpath[HOOP_POLICY_K_REVIEWED_AT],
                              "reviewed_at is a date (2026-11-01) or an RFC "
                              "3339 date-time (2026-11-01T09:30:00Z)");
        } else {
            hoop_policy_time_format(t, is_date, buf, sizeof(buf));
            pub->reviewed_at = hoop_policy_strndup(cc->a, buf, strlen(buf));
            pub->reviewed_at_time = t;

            if (t > cc->now + HOOP_POLICY_DAY) {
                hoop_policy_warn(cc->d, "review-in-future", k,
                                 kpath[HOOP_POLICY_K_REVIEWED_AT],
                                 "reviewed_at %s is in the future", buf);
            }
        }
    }

    if (f[HOOP_POLICY_K_REASON]) {
        pub->reason = hoop_policy_string(cc, f[HOOP_POLICY_K_REASON],
                                         kpath[HOOP_POLICY_K_REASON],
                                         "reason", HOOP_POLICY_TEXT_MAX, 1);
    }

    if (f[HOOP_POLICY_K_RECORD]) {
        k = f[HOOP_POLICY_K_RECORD];

        if (k->type == HOOP_POLICY_N_STR && k->len == 7
            && memcmp(k->str, "summary", 7) == 0)
        {
            pub->record = HOOP_POLICY_RECORD_SUMMARY;

        } else if (k->type == HOOP_POLICY_N_STR && k->len == 8
                   && memcmp(k->str, "payloads", 8) == 0)
        {
            pub->record = HOOP_POLICY_RECORD_PAYLOADS;

        } else if (!(k->type == HOOP_POLICY_N_STR && k->len == 4
                     && memcmp(k->str, "none", 4) == 0))
        {
            hoop_policy_error(cc->d, "bad-record", k,
                              kpath[HOOP_POLICY_K_RECORD],
                              "record is none, summary or payloads");
        }
    }

    if (f[HOOP_POLICY_K_APPROVAL]) {
        if (kind == HOOP_POLICY_DENY) {
            hoop_policy_error(cc->d, "approval-on-deny",
                              f[HOOP_POLICY_K_APPROVAL],
                              kpath[HOOP_POLICY_K_APPROVAL],
                              "a deny cannot be approved away: approval "
                              "belongs to grants");
        } else {
            hoop_policy_approval(cc, f[HOOP_POLICY_K_APPROVAL],
                                 kpath[HOOP_POLICY_K_APPROVAL], r);
        }
    }

    if (kind == HOOP_POLICY_GRANT) {
        for (j = HOOP_POLICY_K_REVIEWED_BY; j <= HOOP_POLICY_K_REASON; j++) {
            if (f[j] == NULL) {
                hoop_policy_error(cc->d, "missing-review", map, path,
                                  "grant %s%s%s has no %s: every grant "
                                  "carries reviewed_by, reviewed_at and "
                                  "reason",
                                  pub->id ? "\"" : "",
                                  pub->id ? pub->id : "",
                                  pub->id ? "\"" : "",
                                  hoop_policy_rule_keys[j]);
            }
        }
    }

    return cc->d->nerrors > errors ? -1 : 0;
}


/*
 * A string value of at most max bytes, copied into the policy; NULL (and
 * an error) when n is not a non-empty string.  Control characters are
 * refused unless controls_ok (free text may have newlines).
 */
static const char *
hoop_policy_string(hoop_policy_cc_t *cc, const hoop_policy_node_t *n,
    const char *path, const char *what, size_t max, int controls_ok)
{
    size_t  i;

    if (n->type != HOOP_POLICY_N_STR) {
        hoop_policy_error(cc->d, "type", n, path,
                          "%s is a string, not %s%s", what,
                          hoop_policy_ntype_name(n->type),
                          n->type == HOOP_POLICY_N_INT
                          || n->type == HOOP_POLICY_N_REAL
                          || n->type == HOOP_POLICY_N_BOOL
                          ? " (quote it in YAML)" : "");
        return NULL;
    }

    if (n->len == 0) {
        hoop_policy_error(cc->d, "empty", n, path, "%s is empty", what);
        return NULL;
    }

    if (n->len > max) {
        hoop_policy_error(cc->d, "too-long", n, path,
                          "%s is longer than %zu bytes", what, max);
        return NULL;
    }

    for (i = 0; i < n->len; i++) {
        if (((unsigned char) n->str[i] < 0x20 || n->str[i] == 0x7f)
            && !(controls_ok && (n->str[i] == '\n' || n->str[i] == '\t')))
        {
            hoop_policy_error(cc->d, "control-char", n, path,
                              "%s contains a control character", what);
            return NULL;
        }
    }

    return hoop_policy_strndup(cc->a, n->str, n->len);
}


static int
hoop_policy_list(hoop_policy_cc_t *cc, const hoop_policy_node_t *n,
    const char *path, const char *what)
{
    if (n->type != HOOP_POLICY_N_SEQ) {
        hoop_policy_error(cc->d, "type", n, path, "%s is a list, not %s",
                          what, hoop_policy_ntype_name(n->type));
        return -1;
    }

    if (n->n == 0) {
        hoop_policy_error(cc->d, "empty", n, path,
                          "%s is an empty list", what);
        return -1;
    }

    return 0;
}


static int
hoop_policy_principals(hoop_policy_cc_t *cc, const hoop_policy_node_t *n,
    const char *path, hoop_policy_irule_t *r)
{
    size_t                     i, j, plen;
    const char                *s, **list;
    const hoop_policy_node_t  *item;
    char                       ipath[128];

    if (hoop_policy_list(cc, n, path, "principals") != 0) {
        return -1;
    }

    list = hoop_policy_calloc(cc->a, n->n, sizeof(char *));
    if (list == NULL) {
        return -1;
    }

    j = 0;

    for (i = 0; i < n->n; i++) {
        item = n->items[i];
        hoop_policy_path_index(ipath, sizeof(ipath), path, i);

        s = hoop_policy_string(cc, item, ipath, "a principal",
                               HOOP_POLICY_MAX_NAME + 6, 0);
        if (s == NULL) {
            continue;
        }

        if (strncmp(s, "User:", 5) == 0) {
            plen = 5;

        } else if (strncmp(s, "Group:", 6) == 0) {
            plen = 6;

        } else {
            hoop_policy_error(cc->d, "bad-principal", item, ipath,
                              "principal \"%.64s\" is not \"User:NAME\" or "
                              "\"Group:NAME\" (the type is case-sensitive, "
                              "as in Kafka)", s);
            continue;
        }

        if (s[plen] == '\0') {
            hoop_policy_error(cc->d, "bad-principal", item, ipath,
                              "principal \"%s\" has no name", s);
            continue;
        }

        if (plen == 6 && strcmp(s + 6, "*") == 0) {
            hoop_policy_error(cc->d, "bad-principal", item, ipath,
                              "\"Group:*\" is not a wildcard; \"User:*\" "
                              "is every authenticated caller");
            continue;
        }

        if (plen == 5 && strcmp(s + 5, "*") == 0) {
            r->any_user = 1;
        }

        list[j++] = s;
    }

    qsort(list, j, sizeof(char *), hoop_policy_str_cmp);

    r->pub.nprincipals = 0;

    for (i = 0; i < j; i++) {
        if (i > 0 && strcmp(list[i], list[i - 1]) == 0) {
            hoop_policy_warn(cc->d, "duplicate-entry", n, path,
                             "principal \"%.64s\" is listed twice", list[i]);
            continue;
        }

        list[r->pub.nprincipals++] = list[i];
    }

    r->pub.principals = list;

    return 0;
}


static int
hoop_policy_resources(hoop_policy_cc_t *cc, const hoop_policy_node_t *n,
    const char *path, hoop_policy_irule_t *r)
{
    size_t                   i, j, count;
    hoop_policy_rtmp_t      *t;
    hoop_policy_resource_t  *res;
    char                     ipath[128];

    if (hoop_policy_list(cc, n, path, "resources") != 0) {
        return -1;
    }

    t = calloc(n->n, sizeof(hoop_policy_rtmp_t));
    if (t == NULL) {
        cc->a->failed = 1;
        return -1;
    }

    count = 0;

    for (i = 0; i < n->n; i++) {
        hoop_policy_path_index(ipath, sizeof(ipath), path, i);

        if (hoop_policy_resource(cc, n->items[i], ipath, &t[count]) == 0) {
            t[count].doc = i;
            count++;
        }
    }

    qsort(t, count, sizeof(hoop_policy_rtmp_t), hoop_policy_rtmp_cmp);

    res = hoop_policy_calloc(cc->a, count ? count : 1,
                             sizeof(hoop_policy_resource_t));
    r->regex = hoop_policy_calloc(cc->a, count ? count : 1,
                                  sizeof(pcre2_code *));
    r->jit = hoop_policy_calloc(cc->a, count ? count : 1, sizeof(unsigned));

    if (res == NULL || r->regex == NULL || r->jit == NULL) {
        free(t);
        return -1;
    }

    j = 0;

    for (i = 0; i < count; i++) {
        if (i > 0 && hoop_policy_rtmp_cmp(&t[i], &t[i - 1]) == 0) {
            hoop_policy_warn(cc->d, "duplicate-entry", t[i].node, path,
                             "resource %s \"%.64s\" (%s) is listed twice",
                             hoop_policy_res_name(t[i].res.type),
                             t[i].res.name,
                             hoop_policy_match_name(t[i].res.match));
            continue;
        }

        res[j] = t[i].res;

        if (res[j].match == HOOP_POLICY_MATCH_REGEX) {
            hoop_policy_path_index(ipath, sizeof(ipath), path, t[i].doc);
            r->pub.resources = res;
            hoop_policy_regex(cc, r, j, t[i].node, ipath);
        }

        j++;
    }

    free(t);

    r->pub.resources = res;
    r->pub.nresources = j;

    return 0;
}


static int
hoop_policy_resource(hoop_policy_cc_t *cc, const hoop_policy_node_t *n,
    const char *path, hoop_policy_rtmp_t *t)
{
    size_t                     i;
    size_t                     errors;
    const char                *s;
    const hoop_policy_node_t  *type, *name, *match, *v;
    char                       kpath[128];

    errors = cc->d->nerrors;

    if (n->type != HOOP_POLICY_N_MAP) {
        hoop_policy_error(cc->d, "type", n, path,
                          "a resource is a mapping {type, name, match}, "
                          "not %s", hoop_policy_ntype_name(n->type));
        return -1;
    }

    type = NULL;
    name = NULL;
    match = NULL;

    for (i = 0; i < n->n; i++) {
        s = n->keys[i]->str;
        v = n->items[i];

        if (strcmp(s, "type") == 0) {
            type = v;
        } else if (strcmp(s, "name") == 0) {
            name = v;
        } else if (strcmp(s, "match") == 0) {
            match = v;
        } else {
            hoop_policy_path_key(kpath, sizeof(kpath), path, s,
                                 n->keys[i]->len);
            hoop_policy_error(cc->d, "unknown-key", n->keys[i], kpath,
                              "unknown key \"%.64s\" in a resource "
                              "(allowed: type, name, match)", s);
        }
    }

    t->node = n;
    t->res.line = n->line;
    t->res.column = n->column;
    t->res.match = HOOP_POLICY_MATCH_LITERAL;

    hoop_policy_path_key(kpath, sizeof(kpath), path, "type", 4);

    if (type == NULL) {
        hoop_policy_error(cc->d, "missing-key", n, path,
                          "a resource needs a type (" HOOP_POLICY_RES_NAMES
                          ")");
        return -1;
    }

    if (type->type != HOOP_POLICY_N_STR
        || (t->res.type = hoop_policy_res_parse(type->str, type->len))
           == HOOP_POLICY_RES_UNKNOWN)
    {
        hoop_policy_error(cc->d, "bad-resource-type", type, kpath,
                          "unknown resource type \"%.64s\" (allowed: "
                          HOOP_POLICY_RES_NAMES ")",
                          type->type == HOOP_POLICY_N_STR ? type->str : "");
        return -1;
    }

    if (match) {
        hoop_policy_path_key(kpath, sizeof(kpath), path, "match", 5);

        if (match->type == HOOP_POLICY_N_STR
            && strcmp(match->str, "literal") == 0)
        {
            t->res.match = HOOP_POLICY_MATCH_LITERAL;

        } else if (match->type == HOOP_POLICY_N_STR
                   && strcmp(match->str, "prefix") == 0)
        {
            t->res.match = HOOP_POLICY_MATCH_PREFIX;

        } else if (match->type == HOOP_POLICY_N_STR
                   && strcmp(match->str, "regex") == 0)
        {
            t->res.match = HOOP_POLICY_MATCH_REGEX;

        } else {
            hoop_policy_error(cc->d, "bad-match", match, kpath,
                              "match is literal, prefix or regex");
            return -1;
        }
    }

    hoop_policy_path_key(kpath, sizeof(kpath), path, "name", 4);

    if (t->res.type == HOOP_POLICY_RES_CLUSTER) {
        if (t->res.match != HOOP_POLICY_MATCH_LITERAL) {
            hoop_policy_error(cc->d, "cluster-name", match, path,
                              "the cluster resource is matched literally "
                              "(its name is \"" HOOP_POLICY_CLUSTER_NAME
                              "\")");
            return -1;
        }

        if (name && (name->type != HOOP_POLICY_N_STR
                     || strcmp(name->str, HOOP_POLICY_CLUSTER_NAME) != 0))
        {
            hoop_policy_error(cc->d, "cluster-name", name, kpath,
                              "the cluster resource is named \""
                              HOOP_POLICY_CLUSTER_NAME "\" (or has no "
                              "name)");
            return -1;
        }

        t->res.name = HOOP_POLICY_CLUSTER_NAME;
        t->res.name_len = sizeof(HOOP_POLICY_CLUSTER_NAME) - 1;

        return 0;
    }

    if (name == NULL) {
        hoop_policy_error(cc->d, "missing-key", n, path,
                          "a %s resource needs a name (\"*\" for every "
                          "one)", hoop_policy_res_name(t->res.type));
        return -1;
    }

    s = hoop_policy_string(cc, name, kpath, "a resource name",
                           HOOP_POLICY_MAX_NAME,
                           t->res.match == HOOP_POLICY_MATCH_REGEX);
    if (s == NULL) {
        return -1;
    }

    t->res.name = s;
    t->res.name_len = name->len;

    if (t->res.match == HOOP_POLICY_MATCH_PREFIX && strcmp(s, "*") == 0) {
        hoop_policy_warn(cc->d, "prefix-star", name, kpath,
                         "prefix \"*\" matches only names that start with "
                         "'*'; every name is literal \"*\"");
    }

    if (t->res.type == HOOP_POLICY_RES_TOPIC
        && t->res.match != HOOP_POLICY_MATCH_REGEX
        && strcmp(s, "*") != 0
        && !hoop_policy_topic_name_valid(s, name->len))
    {
        hoop_policy_warn(cc->d, "invalid-topic-name", name, kpath,
                         "\"%.64s\" %s a Kafka topic name ([a-zA-Z0-9._-], "
                         "at most 249): it matches no topic", s,
                         t->res.match == HOOP_POLICY_MATCH_PREFIX
                         ? "cannot start" : "is not");
    }

    return cc->d->nerrors > errors ? -1 : 0;
}


static int
hoop_policy_regex(hoop_policy_cc_t *cc, hoop_policy_irule_t *r, size_t i,
    const hoop_policy_node_t *node, const char *path)
{
    int                        errcode;
    size_t                     erroff, k;
    pcre2_code                *re, **codes;
    hoop_policy_t             *p;
    const hoop_policy_node_t  *name;
    const hoop_policy_resource_t  *res;
    char                       npath[128];
    PCRE2_UCHAR                msg[128];

    p = cc->p;
    res = &r->pub.resources[i];

    /* the position of the name, for the message */

    name = node;
    for (k = 0; k < node->n; k++) {
        if (strcmp(node->keys[k]->str, "name") == 0) {
            name = node->items[k];
        }
    }

    hoop_policy_path_key(npath, sizeof(npath), path, "name", 4);

    re = pcre2_compile((PCRE2_SPTR) res->name, res->name_len,
                       HOOP_POLICY_PCRE2_OPTIONS, &errcode, &erroff, NULL);
    if (re == NULL) {
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        hoop_policy_error(cc->d, "bad-regex", name, npath,
                          "regex \"%.64s\": %s at offset %zu", res->name,
                          (const char *) msg, erroff);
        return -1;
    }

    codes = realloc(p->codes, (p->ncodes + 1) * sizeof(pcre2_code *));
    if (codes == NULL) {
        pcre2_code_free(re);
        cc->a->failed = 1;
        return -1;
    }

    p->codes = codes;
    p->codes[p->ncodes++] = re;

    r->regex[i] = re;
    r->jit[i] = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;

    return 0;
}


static int
hoop_policy_operations(hoop_policy_cc_t *cc, const hoop_policy_node_t *n,
    const char *path, hoop_policy_irule_t *r)
{
    size_t                     i, j;
    uint32_t                   bit, types;
    hoop_policy_op_t           op;
    const hoop_policy_node_t  *item;
    char                       ipath[128], names[96];

    if (hoop_policy_list(cc, n, path, "operations") != 0) {
        return -1;
    }

    /* the resource types of the rule, and their names for messages */

    types = 0;
    names[0] = '\0';

    for (j = 0; j < r->pub.nresources; j++) {
        if (!(types & (1u << r->pub.resources[j].type))) {
            types |= 1u << r->pub.resources[j].type;
            snprintf(names + strlen(names), sizeof(names) - strlen(names),
                     "%s%s", names[0] ? ", " : "",
                     hoop_policy_res_name(r->pub.resources[j].type));
        }
    }

    for (i = 0; i < n->n; i++) {
        item = n->items[i];
        hoop_policy_path_index(ipath, sizeof(ipath), path, i);

        if (item->type != HOOP_POLICY_N_STR
            || (op = hoop_policy_op_parse(item->str, item->len))
               == HOOP_POLICY_OP_UNKNOWN)
        {
            hoop_policy_error(cc->d, "bad-operation", item, ipath,
                              "unknown operation \"%.64s\" (allowed: "
                              HOOP_POLICY_OP_NAMES ")",
                              item->type == HOOP_POLICY_N_STR ? item->str
                                                              : "");
            continue;
        }

        bit = HOOP_POLICY_OP_BIT(op);

        if (r->pub.ops & bit) {
            hoop_policy_warn(cc->d, "duplicate-entry", item, ipath,
                             "operation %s is listed twice", item->str);
        }

        r->pub.ops |= bit;

        /*
         * An operation Kafka checks on none of the rule's resource types
         * (hoop_policy_res_checked_ops()): a mistake.  One that applies
         * to some of them applies there only (write on a topic and a
         * cluster: the cluster is never asked for write).
         */

        if (op == HOOP_POLICY_OP_ALL || types == 0) {
            continue;
        }

        for (j = 0; j < HOOP_POLICY_RES_LIMIT; j++) {
            if ((types & (1u << j))
                && (hoop_policy_res_checked_ops((hoop_policy_res_t) j)
                    & bit))
            {
                break;
            }
        }

        if (j == HOOP_POLICY_RES_LIMIT) {
            hoop_policy_error(cc->d, "operation-not-applicable", item, ipath,
                              "operation %s does not apply to %s resources "
                              "(Kafka never checks it there)", item->str,
                              names);
        }
    }

    if ((r->pub.ops & HOOP_POLICY_OP_BIT(HOOP_POLICY_OP_ALL))
        && r->pub.ops != HOOP_POLICY_OP_BIT(HOOP_POLICY_OP_ALL))
    {
        hoop_policy_warn(cc->d, "all-covers", n, path,
                         "operation all already covers the other "
                         "operations listed");
        r->pub.ops = HOOP_POLICY_OP_BIT(HOOP_POLICY_OP_ALL);
    }

    return 0;
}


static int
hoop_policy_hosts(hoop_policy_cc_t *cc, const hoop_policy_node_t *n,
    const char *path, hoop_policy_irule_t *r)
{
    int                        any, bits;
    size_t                     i, j, count;
    const char                *err;
    hoop_policy_host_t        *hosts;
    const hoop_policy_node_t  *item;
    char                       ipath[128], buf[64];

    if (hoop_policy_list(cc, n, path, "hosts") != 0) {
        return -1;
    }

    hosts = hoop_policy_calloc(cc->a, n->n, sizeof(hoop_policy_host_t));
    if (hosts == NULL) {
        return -1;
    }

    any = 0;
    count = 0;

    for (i = 0; i < n->n; i++) {
        item = n->items[i];
        hoop_policy_path_index(ipath, sizeof(ipath), path, i);

        if (item->type != HOOP_POLICY_N_STR) {
            hoop_policy_error(cc->d, "type", item, ipath,
                              "a host is a string (\"*\", an address or a "
                              "CIDR block), not %s",
                              hoop_policy_ntype_name(item->type));
            continue;
        }

        err = "invalid";

        if (hoop_policy_host_parse(item->str, item->len, &hosts[count],
                                   &bits, &err) != 0)
        {
            hoop_policy_error(cc->d, "bad-host", item, ipath,
                              "host \"%.64s\": %s", item->str, err);
            continue;
        }

        if (bits) {
            /* the network address, for the message */
            for (j = 0; j < 16; j++) {
                if (j * 8 >= hosts[count].prefix) {
                    hosts[count].addr[j] = 0;

                } else if (hosts[count].prefix - j * 8 < 8) {
                    hosts[count].addr[j] &= (uint8_t) (0xff00u
                                   >> (hosts[count].prefix - j * 8));
                }
            }

            hoop_policy_host_format(&hosts[count], buf, sizeof(buf));
            hoop_policy_error(cc->d, "host-bits", item, ipath,
                              "host \"%.64s\" has bits set beyond its "
                              "prefix: write %s", item->str, buf);
            continue;
        }

        if (hosts[count].family == 0) {
            any = 1;
            continue;
        }

        count++;
    }

    if (any) {
        if (count) {
            hoop_policy_warn(cc->d, "all-covers", n, path,
                             "host \"*\" already covers the other hosts "
                             "listed");
        }

        r->pub.hosts = NULL;
        r->pub.nhosts = 0;
        return 0;
    }

    qsort(hosts, count, sizeof(hoop_policy_host_t), hoop_policy_host_cmp);

    j = 0;

    for (i = 0; i < count; i++) {
        if (i > 0 && hoop_policy_host_cmp(&hosts[i], &hosts[j - 1]) == 0) {
            hoop_policy_warn(cc->d, "duplicate-entry", n, path,
                             "a host is listed twice");
            continue;
        }

        hosts[j] = hosts[i];
        hoop_policy_host_format(&hosts[j], buf, sizeof(buf));
        hosts[j].text = hoop_policy_strndup(cc->a, buf, strlen(buf));
        j++;
    }

    r->pub.hosts = hosts;
    r->pub.nhosts = j;

    return 0;
}


/*
 * valid_from / valid_until: an RFC 3339 date-time, or a date meaning the
 * start of that day (UTC) for valid_from and its last second for
 * valid_until.
 */
static int
hoop_policy_time(hoop_policy_cc_t *cc, const hoop_policy_node_t *n,
    const char *path, int end, int64_t *t)
{
    int  is_date;

    if (n->type != HOOP_POLICY_N_STR
        || hoop_policy_time_parse(n->str, n->len, 1, t, &is_date) != 0)
    {
        hoop_policy_error(cc->d, "bad-time", n, path,
                          "%s is an RFC 3339 date-time "
                          "(2026-12-31T23:59:59Z) or a date (2026-12-31)",
                          end ? "valid_until" : "valid_from");
        return -1;
    }

    if (is_date && end) {
        *t += HOOP_POLICY_DAY - 1;
    }

    return 0;
}


/*
 * The "approval" block of a grant (docs/approvals.md): approvers
 * (required), grant_duration (required), hold, expire_after,
 * allow_self_approval.  The grant's own principals, resources and
 * operations say who may ask for what.
 */
static int
hoop_policy_approval(hoop_policy_cc_t *cc, const hoop_policy_node_t *n,
    const char *path, hoop_policy_irule_t *r)
{
    size_t                     i, j, errors;
    const char                *key;
    hoop_policy_approval_t    *a;
    const hoop_policy_node_t  *f[5], *k;
    char                       kpath[128], buf[32], buf2[32];

    static const char  *keys[5] = {
        "approvers", "grant_duration", "hold", "expire_after",
        "allow_self_approval"
    };

    errors = cc->d->nerrors;

    if (n->type != HOOP_POLICY_N_MAP) {
        hoop_policy_error(cc->d, "type", n, path,
                          "approval is a mapping (approvers, "
                          "grant_duration, hold, expire_after, "
                          "allow_self_approval), not %s",
                          hoop_policy_ntype_name(n->type));
        return -1;
    }

    a = hoop_policy_calloc(cc->a, 1, sizeof(hoop_policy_approval_t));
    if (a == NULL) {
        return -1;
    }

    a->line = n->line;
    a->column = n->column;
    a->hold_ms = HOOP_POLICY_HOLD_DEFAULT;
    a->expire_ms = HOOP_POLICY_EXPIRE_DEFAULT;

    memset(f, 0, sizeof(f));

    for (i = 0; i < n->n; i++) {
        k = n->keys[i];
        key = k->str;

        for (j = 0; j < 5; j++) {
            if (strcmp(key, keys[j]) == 0) {
                break;
            }
        }

        if (j == 5) {
            hoop_policy_path_key(kpath, sizeof(kpath), path, k->str, k->len);
            hoop_policy_error(cc->d, "unknown-key", k, kpath,
                              "unknown key \"%.*s\" in an approval "
                              "(allowed: approvers, grant_duration, hold, "
                              "expire_after, allow_self_approval)",
                              (int) (k->len > 64 ? 64 : k->len), k->str);
            continue;
        }

        f[j] = n->items[i];
    }

    if (f[0] == NULL) {
        hoop_policy_error(cc->d, "missing-key", n, path,
                          "an approval needs approvers (\"User:NAME\", "
                          "\"Group:NAME\"): who may say yes");
    } else {
        hoop_policy_path_key(kpath, sizeof(kpath), path, keys[0],
                             strlen(keys[0]));
        hoop_policy_approvers(cc, f[0], kpath, a);
    }

    if (f[1] == NULL) {
        hoop_policy_error(cc->d, "missing-key", n, path,
                          "an approval needs grant_duration: how long the "
                          "access an approval opens lasts (\"1h\")");
    } else {
        hoop_policy_path_key(kpath, sizeof(kpath), path, keys[1],
                             strlen(keys[1]));
        hoop_policy_duration(cc, f[1], kpath, keys[1], 1000,
                             HOOP_POLICY_GRANT_MAX, &a->grant_ms);
    }

    if (f[2]) {
        hoop_policy_path_key(kpath, sizeof(kpath), path, keys[2],
                             strlen(keys[2]));

        if (hoop_policy_duration(cc, f[2], kpath, keys[2], 1000,
                                 HOOP_POLICY_HOLD_MAX, &a->hold_ms) == 0
            && a->hold_ms >= HOOP_POLICY_HOLD_CLIENT)
        {
            hoop_policy_warn(cc->d, "hold-exceeds-timeout", f[2], kpath,
                             "hold %s is not below Kafka's default "
                             "request.timeout.ms (30s): such clients give "
                             "up and retry while the request is held",
                             hoop_policy_duration_format(a->hold_ms, buf,
                                                         sizeof(buf)));
        }
    }

    if (f[3]) {
        hoop_policy_path_key(kpath, sizeof(kpath), path, keys[3],
                             strlen(keys[3]));

        if (hoop_policy_duration(cc, f[3], kpath, keys[3], 1000,
                                 HOOP_POLICY_EXPIRE_MAX, &a->expire_ms) == 0
            && a->expire_ms < a->hold_ms)
        {
            hoop_policy_error(cc->d, "approval-duration", f[3], kpath,
                              "expire_after %s is shorter than hold %s: an "
                              "approval must stay open while a request "
                              "waits for it",
                              hoop_policy_duration_format(a->expire_ms, buf,
                                                          sizeof(buf)),
                              hoop_policy_duration_format(a->hold_ms, buf2,
                                                          sizeof(buf2)));
        }
    }

    if (f[4]) {
        hoop_policy_path_key(kpath, sizeof(kpath), path, keys[4],
                             strlen(keys[4]));

        if (f[4]->type != HOOP_POLICY_N_BOOL) {
            hoop_policy_error(cc->d, "type", f[4], kpath,
                              "allow_self_approval is true or false, not "
                              "%s", hoop_policy_ntype_name(f[4]->type));
        } else {
            a->allow_self_approval = f[4]->bval;
        }
    }

    if (r->pub.ops & HOOP_POLICY_OP_BIT(HOOP_POLICY_OP_ALL)) {
        hoop_policy_warn(cc->d, "approval-all", n, path,
                         "operation all with an approval: every request of "
                         "these callers on these resources waits for a "
                         "person, Metadata and other describe requests "
                         "included");
    }

    if (cc->d->nerrors > errors) {
        return -1;
    }

    r->pub.approval = a;

    for (i = 0; i < r->pub.nresources; i++) {
        cc->p->approval_ops[r->pub.resources[i].type] |= r->pub.ops;
    }

    return 0;
}


static int
hoop_policy_approvers(hoop_policy_cc_t *cc, const hoop_policy_node_t *n,
    const char *path, hoop_policy_approval_t *a)
{
    size_t                     i, j, plen;
    const char                *s, **list;
    const hoop_policy_node_t  *item;
    char                       ipath[128];

    if (hoop_policy_list(cc, n, path, "approvers") != 0) {
        return -1;
    }

    list = hoop_policy_calloc(cc->a, n->n, sizeof(char *));
    if (list == NULL) {
        return -1;
    }

    j = 0;

    for (i = 0; i < n->n; i++) {
        item = n->items[i];
        hoop_policy_path_index(ipath, sizeof(ipath), path, i);

        s = hoop_policy_string(cc, item, ipath, "an approver",
                               HOOP_POLICY_MAX_NAME + 6, 0);
        if (s == NULL) {
            continue;
        }

        plen = strncmp(s, "User:", 5) == 0 ? 5
               : strncmp(s, "Group:", 6) == 0 ? 6 : 0;

        if (plen == 0 || s[plen] == '\0') {
            hoop_policy_error(cc->d, "bad-principal", item, ipath,
                              "approver \"%.64s\" is not \"User:NAME\" or "
                              "\"Group:NAME\"", s);
            continue;
        }

        if (plen == 6 && strcmp(s + 6, "*") == 0) {
            hoop_policy_error(cc->d, "bad-principal", item, ipath,
                              "\"Group:*\" is not a wildcard; \"User:*\" "
                              "is every authenticated person");
            continue;
        }

        if (plen == 5 && strcmp(s + 5, "*") == 0) {
            hoop_policy_warn(cc->d, "any-approver", item, ipath,
                             "approver \"User:*\": anyone who can run "
                             "hoopctl approvals may approve");
        }

        list[j++] = s;
    }

    qsort(list, j, sizeof(char *), hoop_policy_str_cmp);

    a->napprovers = 0;

    for (i = 0; i < j; i++) {
        if (i > 0 && strcmp(list[i], list[i - 1]) == 0) {
            hoop_policy_warn(cc->d, "duplicate-entry", n, path,
                             "approver \"%.64s\" is listed twice", list[i]);
            continue;
        }

        list[a->napprovers++] = list[i];
    }

    a->approvers = list;

    return a->napprovers ? 0 : -1;
}


/* a duration ("25s", "1h") between min and max milliseconds */
static int
hoop_policy_duration(hoop_policy_cc_t *cc, const hoop_policy_node_t *n,
    const char *path, const char *what, int64_t min, int64_t max,
    int64_t *ms)
{
    char  lo[32], hi[32];

    if (n->type != HOOP_POLICY_N_STR
        || hoop_policy_duration_parse(n->str, n->len, ms) != 0)
    {
        hoop_policy_error(cc->d, "bad-duration", n, path,
                          "%s is a duration: a number and a unit, ms, s, "
                          "m, h or d (\"25s\", \"1h\")", what);
        return -1;
    }

    if (*ms < min || *ms > max) {
        hoop_policy_error(cc->d, "approval-duration", n, path,
                          "%s is from %s to %s", what,
                          hoop_policy_duration_format(min, lo, sizeof(lo)),
                          hoop_policy_duration_format(max, hi, sizeof(hi)));
        return -1;
    }

    return 0;
}


/* ---------------------------------------------------------------------- */


static int
hoop_policy_str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char * const *) a, *(const char * const *) b);
}


static int
hoop_policy_rtmp_cmp(const void *a, const void *b)
{
    const hoop_policy_rtmp_t  *x, *y;
    int                        c;

    x = a;
    y = b;

    if (x->res.type != y->res.type) {
        return x->res.type < y->res.type ? -1 : 1;
    }

    if (x->res.match != y->res.match) {
        return x->res.match < y->res.match ? -1 : 1;
    }

    c = strcmp(x->res.name, y->res.name);

    return c;
}


static int
hoop_policy_host_cmp(const void *a, const void *b)
{
    const hoop_policy_host_t  *x, *y;
    int                        c;

    x = a;
    y = b;

    if (x->family != y->family) {
        return x->family < y->family ? -1 : 1;
    }

    c = memcmp(x->addr, y->addr, sizeof(x->addr));
    if (c) {
        return c;
    }

    return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}


static int
hoop_policy_rule_cmp(const void *a, const void *b)
{
    const hoop_policy_irule_t  *x, *y;

    x = a;
    y = b;

    return strcmp(x->pub.id, y->pub.id);
}


/* rules by id: the index of a rule is its rank, the tie-break of checks */
static void
hoop_policy_sort_rules(hoop_policy_cc_t *cc)
{
    size_t  k, i;

    for (k = 0; k < 2; k++) {
        if (cc->p->nrules[k] == 0) {
            continue;
        }

        qsort(cc->p->rules[k], cc->p->nrules[k], sizeof(hoop_policy_irule_t),
              hoop_policy_rule_cmp);

        for (i = 0; i < cc->p->nrules[k]; i++) {
            cc->p->rules[k][i].index = (uint32_t) i;
        }
    }
}


