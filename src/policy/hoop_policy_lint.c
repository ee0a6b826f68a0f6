/*
 * The checks that need the whole policy: ids unique across grants and
 * denies, rules expired or about to expire, wildcard grants to everybody,
 * and grants whose access another grant already gives (overlap).  Their
 * diagnostics carry the rule's JSON Pointer ("/grants/3").
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hoop_policy_int.h"


/* one (principal, resource pattern) of a grant, for overlap warnings */
typedef struct {
    const char                  *key;
    size_t                       len;
    uint32_t                     rule;
    const hoop_policy_resource_t *res;
    const char                  *principal;
} hoop_policy_tuple_t;


static int hoop_policy_rule_pcmp(const void *a, const void *b);
static void hoop_policy_rule_pos_path(const hoop_policy_irule_t *r,
    char *buf, size_t size);
static int hoop_policy_tuple_cmp(const void *a, const void *b);
static int hoop_policy_covers(const hoop_policy_irule_t *h,
    const hoop_policy_irule_t *g);
static void hoop_policy_overlap_key(hoop_policy_cc_t *cc,
    const hoop_policy_table_t *table, const hoop_policy_tuple_t *t,
    const hoop_policy_tuple_t *ti, uint32_t *seen, uint32_t e,
    const char *key, size_t len);


/* by id, then position in the document: a total order */
static int
hoop_policy_rule_pcmp(const void *a, const void *b)
{
    const hoop_policy_irule_t  *x, *y;
    int                         c;

    x = *(const hoop_policy_irule_t * const *) a;
    y = *(const hoop_policy_irule_t * const *) b;

    c = strcmp(x->pub.id, y->pub.id);
    if (c) {
        return c;
    }

    if (x->pub.line != y->pub.line) {
        return x->pub.line < y->pub.line ? -1 : 1;
    }

    return x->pub.column < y->pub.column ? -1 : x->pub.column > y->pub.column;
}


static void
hoop_policy_rule_pos_path(const hoop_policy_irule_t *r, char *buf,
    size_t size)
{
    snprintf(buf, size, "/%s/%u",
             r->pub.kind == HOOP_POLICY_GRANT ? "grants" : "denies",
             r->docpos);
}


/* ids are unique across grants and denies */
int
hoop_policy_lint_ids(hoop_policy_cc_t *cc)
{
    size_t                 i, k, n;
    hoop_policy_irule_t  **all;
    char                   path[128];

    n = cc->p->nrules[0] + cc->p->nrules[1];
    if (n == 0) {
        return 0;
    }

    all = malloc(n * sizeof(*all));
    if (all == NULL) {
        cc->a->failed = 1;
        return -1;
    }

    n = 0;
    for (k = 0; k < 2; k++) {
        for (i = 0; i < cc->p->nrules[k]; i++) {
            if (cc->p->rules[k][i].pub.id) {
                all[n++] = &cc->p->rules[k][i];
            }
        }
    }

    qsort(all, n, sizeof(*all), hoop_policy_rule_pcmp);

    for (i = 1; i < n; i++) {
        if (strcmp(all[i]->pub.id, all[i - 1]->pub.id) == 0) {
            hoop_policy_rule_pos_path(all[i], path, sizeof(path));
            hoop_policy_diag(cc->d, HOOP_POLICY_SEV_ERROR, "duplicate-id",
                             all[i]->pub.line, all[i]->pub.column, path,
                             "id \"%s\" is already used by the %s at line "
                             "%u", all[i]->pub.id,
                             all[i - 1]->pub.kind == HOOP_POLICY_GRANT
                             ? "grant" : "deny", all[i - 1]->pub.line);
        }
    }

    free(all);

    return 0;
}


void
hoop_policy_lint_times(hoop_policy_cc_t *cc)
{
    size_t                     k, i, j;
    int64_t                    left;
    const char                *what;
    hoop_policy_irule_t       *r;
    const hoop_policy_rule_t  *pub;
    char                       path[128], buf[32];

    for (k = 0; k < 2; k++) {
        what = k == HOOP_POLICY_GRANT ? "grant" : "deny";

        for (i = 0; i < cc->p->nrules[k]; i++) {
            r = &cc->p->rules[k][i];
            pub = &r->pub;
            hoop_policy_rule_pos_path(r, path, sizeof(path));

            if (pub->valid_until != HOOP_POLICY_TIME_MAX) {
                hoop_policy_time_format(pub->valid_until, 0, buf,
                                        sizeof(buf));
                left = pub->valid_until - cc->now;

                if (left < 0) {
                    hoop_policy_diag(cc->d, HOOP_POLICY_SEV_WARNING,
                                     "expired", pub->line, pub->column, path,
                                     "%s \"%s\" expired at %s: it matches "
                                     "nothing; remove it or renew it", what,
                                     pub->id, buf);

                } else if (left <= cc->warn_secs) {
                    hoop_policy_diag(cc->d, HOOP_POLICY_SEV_WARNING,
                                     "expiring", pub->line, pub->column,
                                     path,
                                     "%s \"%s\" expires at %s, in %lld "
                                     "day(s)%s", what, pub->id, buf,
                                     (long long) (left / HOOP_POLICY_DAY),
                                     k == HOOP_POLICY_DENY
                                     ? ": what it blocks opens then" : "");
                }
            }

            if (k == HOOP_POLICY_DENY || !r->any_user) {
                continue;
            }

            for (j = 0; j < pub->nresources; j++) {
                if (pub->resources[j].match == HOOP_POLICY_MATCH_LITERAL
                    && strcmp(pub->resources[j].name, "*") == 0
                    && pub->resources[j].type != HOOP_POLICY_RES_CLUSTER)
                {
                    hoop_policy_diag(cc->d, HOOP_POLICY_SEV_WARNING,
                                     "broad-grant", pub->resources[j].line,
                                     pub->resources[j].column, path,
                                     "grant \"%s\" gives every "
                                     "authenticated caller (User:*) every "
                                     "%s", pub->id,
                                     hoop_policy_res_name(
                                         pub->resources[j].type));
                }
            }
        }
    }
}


/* ---------------------------------------------------------------------- */


/*
 * Overlap: a grant g whose access to some (principal, resource pattern)
 * another grant h already gives: h names the same principal or "User:*",
 * its pattern covers g's (literal "*" covers all, a prefix covers the
 * names and prefixes that start with it, equal patterns cover each
 * other), its operations include g's (or are all), its hosts include
 * g's, and its window contains g's.  One warning per (g, h), at most
 * HOOP_POLICY_OVERLAP_WARNINGS per g; when g and h cover each other
 * exactly, only the later one in the document warns.
 *
 * Tuples are keyed "principal NUL type match name"; the covering keys of
 * a tuple are looked up with a running hash, so the cost is linear in the
 * total length of the names.
 */
int
hoop_policy_lint_overlaps(hoop_policy_cc_t *cc)
{
    int                         rc;
    size_t                      i, j, k, n, x, len, hlen, np, pi;
    uint32_t                    e, *seen, *ord, *start;
    uint64_t                    hh;
    const char                 *pr[2];
    hoop_policy_arena_t         tmp;
    hoop_policy_table_t         table;
    hoop_policy_slot_t         *slot;
    hoop_policy_tuple_t        *t;
    hoop_policy_irule_t        *rules;
    const hoop_policy_resource_t  *res;
    char                       *key;
    char                        buf[HOOP_POLICY_MAX_NAME * 2 + 16];

    rules = cc->p->rules[HOOP_POLICY_GRANT];
    n = 0;

    for (i = 0; i < cc->p->nrules[HOOP_POLICY_GRANT]; i++) {
        for (j = 0; j < rules[i].pub.nresources; j++) {
            if (rules[i].pub.resources[j].match != HOOP_POLICY_MATCH_REGEX) {
                n += rules[i].pub.nprincipals;
            }
        }
    }

    if (n < 2) {
        return 0;
    }

    memset(&tmp, 0, sizeof(tmp));
    rc = -1;

    t = hoop_policy_calloc(&tmp, n, sizeof(hoop_policy_tuple_t));
    seen = hoop_policy_calloc(&tmp, cc->p->nrules[HOOP_POLICY_GRANT],
                              sizeof(uint32_t));
    if (t == NULL || seen == NULL
        || hoop_policy_table_init(&table, n, &tmp) != 0)
    {
        goto done;
    }

    n = 0;

    for (i = 0; i < cc->p->nrules[HOOP_POLICY_GRANT]; i++) {
        for (j = 0; j < rules[i].pub.nresources; j++) {
            res = &rules[i].pub.resources[j];
            if (res->match == HOOP_POLICY_MATCH_REGEX) {
                continue;
            }

            for (k = 0; k < rules[i].pub.nprincipals; k++) {
                hlen = strlen(rules[i].pub.principals[k]);
                len = hlen + 3 + res->name_len;

                key = hoop_policy_alloc(&tmp, len);
                if (key == NULL) {
                    goto done;
                }

                memcpy(key, rules[i].pub.principals[k], hlen);
                key[hlen] = '\0';
                key[hlen + 1] = (char) ('0' + res->type);
                key[hlen + 2] = (char) ('0' + res->match);
                memcpy(key + hlen + 3, res->name, res->name_len);

                t[n].key = key;
                t[n].len = len;
                t[n].rule = (uint32_t) i;
                t[n].res = res;
                t[n].principal = rules[i].pub.principals[k];
                n++;
            }
        }
    }

    qsort(t, n, sizeof(hoop_policy_tuple_t), hoop_policy_tuple_cmp);

    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n; j++) {
            if (t[j].len != t[i].len
                || memcmp(t[j].key, t[i].key, t[i].len) != 0)
            {
                break;
            }
        }

        slot = hoop_policy_table_put(&table,
                                     hoop_policy_fnv(HOOP_POLICY_FNV_BASIS,
                                                     t[i].key, t[i].len),
                                     t[i].key, t[i].len);
        if (slot == NULL) {
            goto done;
        }

        slot->key = t[i].key;
        slot->first = (uint32_t) i;
        slot->count = (uint32_t) (j - i);
    }

    /*
     * For every tuple, grant by grant (a counting sort of the tuples by
     * rule into ord; "seen" marks the grants already named for the
     * current one through the epoch e), every key that could cover it.
     */

    ord = hoop_policy_calloc(&tmp, n, sizeof(uint32_t));
    start = hoop_policy_calloc(&tmp, cc->p->nrules[HOOP_POLICY_GRANT] + 1,
                               sizeof(uint32_t));
    if (ord == NULL || start == NULL) {
        goto done;
    }

    for (i = 0; i < n; i++) {
        start[t[i].rule + 1]++;
    }

    for (i = 0; i < cc->p->nrules[HOOP_POLICY_GRANT]; i++) {
        start[i + 1] += start[i];
    }

    for (i = 0; i < n; i++) {
        ord[start[t[i].rule]++] = (uint32_t) i;
    }

    e = 0;
    cc->budget = HOOP_POLICY_OVERLAP_BUDGET;

    for (x = 0; x < n && cc->budget; x++) {
        i = ord[x];
        res = t[i].res;

        if (x == 0 || t[i].rule != t[ord[x - 1]].rule) {
            e++;
            cc->per_grant = HOOP_POLICY_OVERLAP_WARNINGS;
        }

        if (cc->per_grant == 0) {
            continue;
        }

        pr[0] = t[i].principal;
        pr[1] = "User:*";
        np = strcmp(pr[0], "User:*") == 0 ? 1 : 2;

        for (pi = 0; pi < np; pi++) {
            hlen = strlen(pr[pi]);
            memcpy(buf, pr[pi], hlen);
            buf[hlen] = '\0';
            buf[hlen + 1] = (char) ('0' + res->type);

            /* literal "*" */

            buf[hlen + 2] = (char) ('0' + HOOP_POLICY_MATCH_LITERAL);
            buf[hlen + 3] = '*';
            hoop_policy_overlap_key(cc, &table, t, &t[i], seen, e, buf,
                                    hlen + 4);

            /* the same pattern */

            buf[hlen + 2] = (char) ('0' + res->match);
            memcpy(buf + hlen + 3, res->name, res->name_len);
            len = hlen + 3 + res->name_len;

            if (!(res->match == HOOP_POLICY_MATCH_LITERAL
                  && strcmp(res->name, "*") == 0))
            {
                hoop_policy_overlap_key(cc, &table, t, &t[i], seen, e, buf,
                                        len);
            }

            /* prefixes strictly shorter than a prefix, or of a name */

            if (res->match == HOOP_POLICY_MATCH_LITERAL
                && strcmp(res->name, "*") == 0)
            {
                continue;
            }

            buf[hlen + 2] = (char) ('0' + HOOP_POLICY_MATCH_PREFIX);
            hh = hoop_policy_fnv(HOOP_POLICY_FNV_BASIS, buf, hlen + 3);

            for (k = 0; k < res->name_len; k++) {
                if (res->match == HOOP_POLICY_MATCH_PREFIX
                    && k + 1 == res->name_len)
                {
                    break;
                }

                hh = hoop_policy_fnv(hh, res->name + k, 1);

                if (hoop_policy_table_get(&table, hh, buf, hlen + 4 + k)) {
                    hoop_policy_overlap_key(cc, &table, t, &t[i], seen, e,
                                            buf, hlen + 4 + k);
                }
            }
        }
    }

    if (cc->budget == 0) {
        hoop_policy_diag(cc->d, HOOP_POLICY_SEV_WARNING, "overlap-skipped",
                         0, 0, "/grants",
                         "overlap analysis stopped after %d comparisons: "
                         "many grants share one principal and pattern",
                         HOOP_POLICY_OVERLAP_BUDGET);
    }

    rc = 0;

done:

    hoop_policy_arena_free(&tmp);

    if (rc != 0) {
        cc->a->failed = 1;
    }

    return rc;
}


/* the grants of one covering key against tuple ti */
static void
hoop_policy_overlap_key(hoop_policy_cc_t *cc,
    const hoop_policy_table_t *table, const hoop_policy_tuple_t *t,
    const hoop_policy_tuple_t *ti, uint32_t *seen, uint32_t e,
    const char *key, size_t len)
{
    size_t                     j;
    const hoop_policy_slot_t  *found;
    const hoop_policy_tuple_t *u;
    hoop_policy_irule_t       *rules, *g, *o;
    const hoop_policy_resource_t  *res;
    char                       path[128];

    found = hoop_policy_table_get(table,
                                  hoop_policy_fnv(HOOP_POLICY_FNV_BASIS, key,
                                                  len),
                                  key, len);
    if (found == NULL) {
        return;
    }

    rules = cc->p->rules[HOOP_POLICY_GRANT];
    g = &rules[ti->rule];
    res = ti->res;

    for (j = found->first; j < found->first + found->count; j++) {
        if (cc->budget == 0 || cc->per_grant == 0) {
            return;
        }

        cc->budget--;

        u = &t[j];
        o = &rules[u->rule];

        if (u->rule == ti->rule || seen[u->rule] == e
            || !hoop_policy_covers(o, g))
        {
            continue;
        }

        /* exactly the same access both ways: only the later one warns */

        if (u->len == ti->len && memcmp(u->key, ti->key, u->len) == 0
            && hoop_policy_covers(g, o)
            && (g->pub.line < o->pub.line
                || (g->pub.line == o->pub.line
                    && g->pub.column < o->pub.column)))
        {
            continue;
        }

        seen[u->rule] = e;
        cc->per_grant--;

        hoop_policy_rule_pos_path(g, path, sizeof(path));
        hoop_policy_diag(cc->d, HOOP_POLICY_SEV_WARNING, "overlap",
                         res->line, res->column, path,
                         "grant \"%s\": %s on %s \"%.64s\" is already "
                         "granted by \"%s\" (line %u)", g->pub.id,
                         ti->principal, hoop_policy_res_name(res->type),
                         res->name, o->pub.id, o->pub.line);
    }
}


static int
hoop_policy_tuple_cmp(const void *a, const void *b)
{
    const hoop_policy_tuple_t  *x, *y;
    int                         c;

    x = a;
    y = b;

    c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    if (c) {
        return c;
    }

    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }

    return x->rule < y->rule ? -1 : x->rule > y->rule;
}


/* does grant h give at least what g gives (operations, hosts, window)? */
static int
hoop_policy_covers(const hoop_policy_irule_t *h, const hoop_policy_irule_t *g)
{
    size_t  i, j;

    /* a grant that waits for an approval gives nothing a plain one gives */

    if (h->pub.approval != NULL && g->pub.approval == NULL) {
        return 0;
    }

    if (!(h->pub.ops & HOOP_POLICY_OP_BIT(HOOP_POLICY_OP_ALL))
        && (g->pub.ops & ~h->pub.ops) != 0)
    {
        return 0;
    }

    if (h->pub.valid_from > g->pub.valid_from
        || h->pub.valid_until < g->pub.valid_until)
    {
        return 0;
    }

    if (h->pub.nhosts == 0) {
        return 1;
    }

    if (g->pub.nhosts == 0) {
        return 0;
    }

    for (i = 0; i < g->pub.nhosts; i++) {
        for (j = 0; j < h->pub.nhosts; j++) {
            if (strcmp(g->pub.hosts[i].text, h->pub.hosts[j].text) == 0) {
                break;
            }
        }

        if (j == h->pub.nhosts) {
            return 0;
        }
    }

    return 1;
}
