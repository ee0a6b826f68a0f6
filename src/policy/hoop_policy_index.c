/*
 * The lookup structures of a compiled policy: the principal table (ids
 * for "User:NAME" and "Group:NAME"), and per (grant or deny, resource
 * type) a hash table of literal names, a hash table of prefixes with the
 * list of distinct prefix lengths, the literal "*" rules and the regex
 * rules.  Every list of rules is in ascending rule index (= id order), so
 * the first rule of a list that applies is the one a decision reports.
 */

#include <stdlib.h>
#include <string.h>

#include "hoop_policy_int.h"


static int hoop_policy_index_principals(hoop_policy_t *p);
static int hoop_policy_index_one(hoop_policy_t *p, hoop_policy_kind_t kind,
    hoop_policy_res_t type);
static int hoop_policy_index_table(hoop_policy_t *p, hoop_policy_table_t *t,
    hoop_policy_entry_t *e, size_t n, uint32_t *lists, size_t *used);
static int hoop_policy_index_bucket(hoop_policy_t *p,
    hoop_policy_kind_t kind, hoop_policy_bucket_t *b, const uint32_t *rules,
    size_t n, int by_index);
static int hoop_policy_entry_cmp(const void *a, const void *b);
static int hoop_policy_u32_cmp(const void *a, const void *b);


int
hoop_policy_index_build(hoop_policy_t *p)
{
    unsigned  k, type;

    if (hoop_policy_index_principals(p) != 0) {
        return -1;
    }

    p->md = pcre2_match_data_create(1, NULL);
    p->mctx = pcre2_match_context_create(NULL);
    if (p->md == NULL || p->mctx == NULL) {
        return -1;
    }

    pcre2_set_match_limit(p->mctx, HOOP_POLICY_MATCH_LIMIT);
    pcre2_set_depth_limit(p->mctx, HOOP_POLICY_MATCH_LIMIT);

    for (k = 0; k < 2; k++) {
        for (type = 0; type < HOOP_POLICY_RES_LIMIT; type++) {
            if (hoop_policy_res_name((hoop_policy_res_t) type) == NULL) {
                continue;
            }

            if (hoop_policy_index_one(p, (hoop_policy_kind_t) k,
                                      (hoop_policy_res_t) type) != 0)
            {
                return -1;
            }
        }
    }

    return 0;
}


static int
hoop_policy_index_principals(hoop_policy_t *p)
{
    size_t                k, i, j, n, len;
    const char           *s;
    char                 *key;
    uint64_t              h;
    hoop_policy_irule_t  *r;
    hoop_policy_slot_t   *slot;

    n = 0;
    for (k = 0; k < 2; k++) {
        for (i = 0; i < p->nrules[k]; i++) {
            n += p->rules[k][i].pub.nprincipals;
        }
    }

    if (hoop_policy_table_init(&p->principals, n, &p->arena) != 0) {
        return -1;
    }

    for (k = 0; k < 2; k++) {
        for (i = 0; i < p->nrules[k]; i++) {
            r = &p->rules[k][i];

            r->pids = hoop_policy_calloc(&p->arena,
                                         r->pub.nprincipals + 1,
                                         sizeof(uint32_t));
            if (r->pids == NULL) {
                return -1;
            }

            for (j = 0; j < r->pub.nprincipals; j++) {
                s = r->pub.principals[j];

                if (strcmp(s, "User:*") == 0) {
                    continue;
                }

                /* "User:alice" -> "Ualice", "Group:ops" -> "Gops" */

                if (s[0] == 'U') {
                    s += 5;
                    len = strlen(s) + 1;
                    key = hoop_policy_alloc(&p->arena, len);
                    if (key == NULL) {
                        return -1;
                    }
                    key[0] = HOOP_POLICY_PKEY_USER;

                } else {
                    s += 6;
                    len = strlen(s) + 1;
                    key = hoop_policy_alloc(&p->arena, len);
                    if (key == NULL) {
                        return -1;
                    }
                    key[0] = HOOP_POLICY_PKEY_GROUP;
                }

                memcpy(key + 1, s, len - 1);

                h = hoop_policy_fnv(HOOP_POLICY_FNV_BASIS, key, len);
                slot = hoop_policy_table_put(&p->principals, h, key, len);
                if (slot == NULL) {
                    return -1;
                }

                if (slot->key == NULL) {
                    slot->key = key;
                    slot->first = (uint32_t) p->nprincipals++;
                }

                r->pids[r->npids++] = slot->first;
            }
        }
    }

    p->marks = hoop_policy_calloc(&p->arena, p->nprincipals + 1,
                                  sizeof(uint32_t));
    p->matched = hoop_policy_calloc(&p->arena, p->nprincipals + 1,
                                    sizeof(uint32_t));
    p->epoch = hoop_policy_calloc(&p->arena, 1, sizeof(uint32_t));

    return p->marks && p->matched && p->epoch ? 0 : -1;
}


static int
hoop_policy_index_one(hoop_policy_t *p, hoop_policy_kind_t kind,
    hoop_policy_res_t type)
{
    int                    rc;
    size_t                 i, j, n, nlit, npre, nwild, nrx, used;
    uint32_t              *rxr;
    hoop_policy_index_t   *ix;
    hoop_policy_irule_t   *r;
    hoop_policy_entry_t   *all, *lit, *pre, e;
    const hoop_policy_resource_t  *res;

    ix = &p->index[kind][type];

    n = 0;
    for (i = 0; i < p->nrules[kind]; i++) {
        r = &p->rules[kind][i];
        for (j = 0; j < r->pub.nresources; j++) {
            n += r->pub.resources[j].type == type;
        }
    }

    if (n == 0) {
        return 0;
    }

    all = hoop_policy_calloc(&p->arena, n, sizeof(hoop_policy_entry_t));
    lit = hoop_policy_calloc(&p->arena, n, sizeof(hoop_policy_entry_t));
    pre = hoop_policy_calloc(&p->arena, n, sizeof(hoop_policy_entry_t));
    ix->wild = hoop_policy_calloc(&p->arena, n, sizeof(uint32_t));
    ix->rx = hoop_policy_calloc(&p->arena, n, sizeof(hoop_policy_entry_t));
    ix->lists = hoop_policy_calloc(&p->arena, n, sizeof(uint32_t));
    ix->plens = hoop_policy_calloc(&p->arena, n, sizeof(uint32_t));

    if (all == NULL || lit == NULL || pre == NULL || ix->wild == NULL
        || ix->rx == NULL || ix->lists == NULL || ix->plens == NULL)
    {
        return -1;
    }

    nlit = 0;
    npre = 0;
    nwild = 0;
    nrx = 0;
    n = 0;

    for (i = 0; i < p->nrules[kind]; i++) {
        r = &p->rules[kind][i];

        for (j = 0; j < r->pub.nresources; j++) {
            res = &r->pub.resources[j];
            if (res->type != type) {
                continue;
            }

            e.rule = r->index;
            e.res = res;
            e.re = r->regex[j];
            e.jit = r->jit[j];

            all[n++] = e;

            switch (res->match) {

            case HOOP_POLICY_MATCH_LITERAL:
                if (res->name_len == 1 && res->name[0] == '*') {
                    if (nwild == 0 || ix->wild[nwild - 1] != e.rule) {
                        ix->wild[nwild++] = e.rule;
                    }
                } else {
                    lit[nlit++] = e;
                }
                break;

            case HOOP_POLICY_MATCH_PREFIX:
                pre[npre++] = e;
                break;

            case HOOP_POLICY_MATCH_REGEX:
                ix->rx[nrx++] = e;
                break;
            }
        }
    }

    ix->all = all;
    ix->nall = n;
    ix->nwild = nwild;
    ix->nrx = nrx;

    used = 0;

    if (hoop_policy_index_table(p, &ix->literal, lit, nlit, ix->lists,
                                &used) != 0
        || hoop_policy_index_table(p, &ix->prefix, pre, npre, ix->lists,
                                   &used) != 0)
    {
        return -1;
    }

    /* the distinct prefix lengths, ascending */

    for (i = 0; i < npre; i++) {
        ix->plens[i] = (uint32_t) pre[i].res->name_len;
    }

    qsort(ix->plens, npre, sizeof(uint32_t), hoop_policy_u32_cmp);

    j = 0;
    for (i = 0; i < npre; i++) {
        if (j == 0 || ix->plens[j - 1] != ix->plens[i]) {
            ix->plens[j++] = ix->plens[i];
        }
    }

    ix->nplens = j;

    /* wildcards and regexes by principal */

    if (hoop_policy_index_bucket(p, kind, &ix->wild_by, ix->wild, nwild, 0)
        != 0)
    {
        return -1;
    }

    if (nrx == 0) {
        return 0;
    }

    rxr = malloc(nrx * sizeof(uint32_t));
    if (rxr == NULL) {
        return -1;
    }

    for (i = 0; i < nrx; i++) {
        rxr[i] = ix->rx[i].rule;
    }

    rc = hoop_policy_index_bucket(p, kind, &ix->rx_by, rxr, nrx, 1);

    free(rxr);

    return rc;
}


/*
 * Items i < n of rule rules[i] (ascending) bucketed by the principals of
 * the rule: "User:*" rules in the any run, the others in the run of each
 * of their principal ids.  An item is rules[i], or i when by_index.
 */
static int
hoop_policy_index_bucket(hoop_policy_t *p, hoop_policy_kind_t kind,
    hoop_policy_bucket_t *b, const uint32_t *rules, size_t n, int by_index)
{
    size_t                      i, j, total;
    uint32_t                   *next, item;
    const hoop_policy_irule_t  *r;

    if (n == 0) {
        return 0;
    }

    b->first = hoop_policy_calloc(&p->arena, p->nprincipals + 1,
                                  sizeof(uint32_t));
    next = calloc(p->nprincipals + 1, sizeof(uint32_t));
    if (b->first == NULL || next == NULL) {
        free(next);
        return -1;
    }

    /* counts, then starts (the any run first) */

    b->any_count = 0;
    total = 0;

    for (i = 0; i < n; i++) {
        r = &p->rules[kind][rules[i]];

        if (r->any_user) {
            b->any_count++;
            continue;
        }

        for (j = 0; j < r->npids; j++) {
            next[r->pids[j]]++;
        }

        total += r->npids;
    }

    b->any_first = 0;
    total += b->any_count;

    j = b->any_count;
    for (i = 0; i < p->nprincipals; i++) {
        b->first[i] = (uint32_t) j;
        j += next[i];
        next[i] = b->first[i];
    }
    b->first[p->nprincipals] = (uint32_t) j;

    b->items = hoop_policy_calloc(&p->arena, total ? total : 1,
                                  sizeof(uint32_t));
    if (b->items == NULL) {
        free(next);
        return -1;
    }

    j = 0;

    for (i = 0; i < n; i++) {
        r = &p->rules[kind][rules[i]];
        item = by_index ? (uint32_t) i : rules[i];

        if (r->any_user) {
            b->items[j++] = item;
            continue;
        }

        for (total = 0; total < r->npids; total++) {
            b->items[next[r->pids[total]]++] = item;
        }
    }

    free(next);

    return 0;
}


/* names -> runs of rule indices (ascending) in lists[*used ...] */
static int
hoop_policy_index_table(hoop_policy_t *p, hoop_policy_table_t *t,
    hoop_policy_entry_t *e, size_t n, uint32_t *lists, size_t *used)
{
    size_t               i, j, distinct;
    hoop_policy_slot_t  *slot;

    if (n == 0) {
        return 0;
    }

    qsort(e, n, sizeof(hoop_policy_entry_t), hoop_policy_entry_cmp);

    distinct = 0;
    for (i = 0; i < n; i++) {
        if (i == 0 || strcmp(e[i].res->name, e[i - 1].res->name) != 0) {
            distinct++;
        }
    }

    if (hoop_policy_table_init(t, distinct, &p->arena) != 0) {
        return -1;
    }

    for (i = 0; i < n; i = j) {
        slot = hoop_policy_table_put(t,
                                     hoop_policy_fnv(HOOP_POLICY_FNV_BASIS,
                                                     e[i].res->name,
                                                     e[i].res->name_len),
                                     e[i].res->name, e[i].res->name_len);
        if (slot == NULL) {
            return -1;
        }

        slot->key = e[i].res->name;
        slot->first = (uint32_t) *used;
        slot->count = 0;

        for (j = i; j < n && strcmp(e[j].res->name, e[i].res->name) == 0;
             j++)
        {
            if (slot->count == 0
                || lists[*used - 1] != e[j].rule)
            {
                lists[(*used)++] = e[j].rule;
                slot->count++;
            }
        }
    }

    return 0;
}


static int
hoop_policy_entry_cmp(const void *a, const void *b)
{
    const hoop_policy_entry_t  *x, *y;
    int                         c;

    x = a;
    y = b;

    c = strcmp(x->res->name, y->res->name);
    if (c) {
        return c;
    }

    return x->rule < y->rule ? -1 : x->rule > y->rule;
}


static int
hoop_policy_u32_cmp(const void *a, const void *b)
{
    uint32_t  x, y;

    x = *(const uint32_t *) a;
    y = *(const uint32_t *) b;

    return x < y ? -1 : x > y;
}
