/*
 * The evaluator: hoop_policy_check() (Kafka's Authorizer.authorize() for
 * one action), hoop_policy_check_any() (authorizeByResourceType(),
 * KIP-679), hoop_policy_authorized_ops() (KIP-430 authorized operations),
 * and the read-only accessors of a compiled policy.
 *
 * A decision: mark the principal ids of the caller (user and groups) with
 * a new epoch; find the deny with the smallest id that applies (literal
 * table, then every prefix length, then literal "*", then regexes);
 * if none, the grant with the smallest id that applies.  A rule applies
 * when its operations match (with Kafka's implications for grants only),
 * one of its principals is marked (or it lists "User:*"), one of its
 * hosts matches (or it has none), and now is inside its window.  No
 * allocation, no locks.
 */

#include <string.h>

#include "hoop_policy_int.h"


#define HOOP_POLICY_NO      0
#define HOOP_POLICY_YES     1
#define HOOP_POLICY_EARLY   2      /* all but the window: not yet valid */
#define HOOP_POLICY_LATE    3      /* all but the window: expired */

#define HOOP_POLICY_NONE    UINT32_MAX


typedef struct {
    const hoop_policy_t          *p;
    const hoop_policy_request_t  *req;
    const char                   *name;
    size_t                        len;
    uint32_t                      epoch;
    uint32_t                      nmatched;
    uint32_t                      opmask;
    uint32_t                      exact;     /* the op and ALL */
    unsigned                      approval;  /* only approval grants */
    hoop_policy_kind_t            kind;
    uint32_t                      best;
    uint32_t                      near;
    int                           near_rc;
} hoop_policy_ctx_t;


static int hoop_policy_request_ok(const hoop_policy_t *p,
    const hoop_policy_request_t *req, hoop_policy_decision_t *out);
static void hoop_policy_mark(hoop_policy_ctx_t *c);
static const hoop_policy_slot_t *hoop_policy_principal_get(
    const hoop_policy_t *p, char type, const char *name, size_t len);
static int hoop_policy_try(const hoop_policy_ctx_t *c,
    const hoop_policy_irule_t *r);
static void hoop_policy_scan(hoop_policy_ctx_t *c, const uint32_t *list,
    size_t n);
static int hoop_policy_regex_match(const hoop_policy_ctx_t *c,
    const hoop_policy_entry_t *e);
static void hoop_policy_find(hoop_policy_ctx_t *c);
static void hoop_policy_scan_rx(hoop_policy_ctx_t *c,
    const hoop_policy_index_t *ix, const uint32_t *list, size_t n);
static int hoop_policy_dominated(hoop_policy_ctx_t *c,
    const hoop_policy_resource_t *res);
static int hoop_policy_run_applies(hoop_policy_ctx_t *c,
    const hoop_policy_slot_t *slot, const hoop_policy_index_t *ix);
static void hoop_policy_decide(hoop_policy_decision_t *out, int allowed,
    hoop_policy_reason_t reason, const hoop_policy_rule_t *rule,
    const hoop_policy_rule_t *window);


static const char  *hoop_policy_reason_text[] = {
    "grant",
    "deny",
    "no grant",
    "grant expired",
    "grant not yet valid",
    "unauthenticated",
    "invalid request",
    "approval needed"
};


static void
hoop_policy_decide(hoop_policy_decision_t *out, int allowed,
    hoop_policy_reason_t reason, const hoop_policy_rule_t *rule,
    const hoop_policy_rule_t *window)
{
    if (out == NULL) {
        return;
    }

    out->allowed = allowed;
    out->reason = reason;
    out->rule = rule;
    out->rule_id = rule ? rule->id : NULL;
    out->window = window;
    out->text = hoop_policy_reason_text[reason];
}


static int
hoop_policy_request_ok(const hoop_policy_t *p,
    const hoop_policy_request_t *req, hoop_policy_decision_t *out)
{
    size_t  i;

    if (p == NULL || req == NULL
        || hoop_policy_res_name(req->resource) == NULL
        || hoop_policy_op_name(req->op) == NULL
        || req->op == HOOP_POLICY_OP_ALL
        || (req->name.data == NULL && req->name.len != 0)
        || (req->groups == NULL && req->ngroups != 0))
    {
        hoop_policy_decide(out, 0, HOOP_POLICY_DENIED_INVALID, NULL, NULL);
        return 0;
    }

    for (i = 0; i < req->ngroups; i++) {
        if (req->groups[i].data == NULL && req->groups[i].len != 0) {
            hoop_policy_decide(out, 0, HOOP_POLICY_DENIED_INVALID, NULL,
                               NULL);
            return 0;
        }
    }

    if (req->principal.data == NULL) {
        hoop_policy_decide(out, 0, HOOP_POLICY_DENIED_UNAUTHENTICATED, NULL,
                           NULL);
        return 0;
    }

    return 1;
}


static const hoop_policy_slot_t *
hoop_policy_principal_get(const hoop_policy_t *p, char type,
    const char *name, size_t len)
{
    size_t                     i;
    uint64_t                   h;
    const hoop_policy_slot_t  *s;

    if (p->principals.mask == 0) {
        return NULL;
    }

    h = hoop_policy_fnv(HOOP_POLICY_FNV_BASIS, &type, 1);
    h = hoop_policy_fnv(h, name, len);

    for (i = (size_t) h & p->principals.mask; ;
         i = (i + 1) & p->principals.mask)
    {
        s = &p->principals.slots[i];

        if (s->key == NULL) {
            return NULL;
        }

        if (s->hash == h && s->len == len + 1 && s->key[0] == type
            && memcmp(s->key + 1, name, len) == 0)
        {
            return s;
        }
    }
}


/* a new epoch; the ids of the caller's user and groups get it */
static void
hoop_policy_mark(hoop_policy_ctx_t *c)
{
    size_t                       i;
    uint32_t                     e;
    const hoop_policy_t         *p;
    const hoop_policy_slot_t    *s;
    const hoop_policy_request_t *req;

    p = c->p;
    req = c->req;

    e = ++*p->epoch;
    if (e == 0) {
        memset(p->marks, 0, (p->nprincipals + 1) * sizeof(uint32_t));
        e = *p->epoch = 1;
    }

    c->epoch = e;
    c->nmatched = 0;

    s = hoop_policy_principal_get(p, HOOP_POLICY_PKEY_USER,
                                  req->principal.data, req->principal.len);
    if (s) {
        p->marks[s->first] = e;
        p->matched[c->nmatched++] = s->first;
    }

    for (i = 0; i < req->ngroups; i++) {
        s = hoop_policy_principal_get(p, HOOP_POLICY_PKEY_GROUP,
                                      req->groups[i].data
                                      ? req->groups[i].data : "",
                                      req->groups[i].len);
        if (s && p->marks[s->first] != e) {
            p->marks[s->first] = e;
            p->matched[c->nmatched++] = s->first;
        }
    }
}


/* does rule r apply to the request, apart from its resource names? */
static int
hoop_policy_try(const hoop_policy_ctx_t *c, const hoop_policy_irule_t *r)
{
    size_t     i;
    int64_t    now;

    if ((r->pub.ops & c->opmask) == 0) {
        return HOOP_POLICY_NO;
    }

    /*
     * A grant with an approval block allows, without approval, only what
     * its operations imply (DESCRIBE, DESCRIBE_CONFIGS) and not what they
     * list; approval checks look at those grants alone.
     */

    if (r->pub.approval != NULL) {
        if (!c->approval && (r->pub.ops & c->exact)) {
            return HOOP_POLICY_NO;
        }

    } else if (c->approval) {
        return HOOP_POLICY_NO;
    }

    if (!r->any_user) {
        for (i = 0; i < r->npids; i++) {
            if (c->p->marks[r->pids[i]] == c->epoch) {
                break;
            }
        }

        if (i == r->npids) {
            return HOOP_POLICY_NO;
        }
    }

    if (r->pub.nhosts) {
        for (i = 0; i < r->pub.nhosts; i++) {
            if (hoop_policy_host_match(&r->pub.hosts[i], c->req->addr)) {
                break;
            }
        }

        if (i == r->pub.nhosts) {
            return HOOP_POLICY_NO;
        }
    }

    now = c->req->now;

    if (now < r->pub.valid_from) {
        return HOOP_POLICY_EARLY;
    }

    if (now > r->pub.valid_until) {
        return HOOP_POLICY_LATE;
    }

    return HOOP_POLICY_YES;
}


/* a run of rule indices, ascending: the first that applies is the best */
static void
hoop_policy_scan(hoop_policy_ctx_t *c, const uint32_t *list, size_t n)
{
    size_t                      i;
    int                         rc;
    uint32_t                    idx;
    const hoop_policy_irule_t  *rules;

    rules = c->p->rules[c->kind];

    for (i = 0; i < n; i++) {
        idx = list[i];
        if (idx >= c->best) {
            return;
        }

        rc = hoop_policy_try(c, &rules[idx]);

        if (rc == HOOP_POLICY_YES) {
            c->best = idx;
            return;
        }

        if (rc != HOOP_POLICY_NO && idx < c->near) {
            c->near = idx;
            c->near_rc = rc;
        }
    }
}


/*
 * A regex that fails to finish (backtracking limit) matches for a deny
 * and does not for a grant: fail closed both ways.
 */
static int
hoop_policy_regex_match(const hoop_policy_ctx_t *c,
    const hoop_policy_entry_t *e)
{
    int          rc;
    PCRE2_SPTR   s;

    s = (PCRE2_SPTR) (c->len ? c->name : "");

    if (e->jit) {
        rc = pcre2_jit_match(e->re, s, c->len, 0, 0, c->p->md, c->p->mctx);

    } else {
        rc = pcre2_match(e->re, s, c->len, 0, 0, c->p->md, c->p->mctx);
    }

    if (rc >= 0) {
        return 1;
    }

    if (rc == PCRE2_ERROR_NOMATCH) {
        return 0;
    }

    return c->kind == HOOP_POLICY_DENY;
}


static void
hoop_policy_find(hoop_policy_ctx_t *c)
{
    size_t                       i, pos, plen;
    uint32_t                     k, id;
    uint64_t                     h;
    const hoop_policy_index_t   *ix;
    const hoop_policy_slot_t    *s;
    const hoop_policy_bucket_t  *b;

    c->best = HOOP_POLICY_NONE;
    c->near = HOOP_POLICY_NONE;

    ix = &c->p->index[c->kind][c->req->resource];
    if (ix->nall == 0) {
        return;
    }

    s = hoop_policy_table_get(&ix->literal,
                              hoop_policy_fnv(HOOP_POLICY_FNV_BASIS, c->name,
                                              c->len),
                              c->name, c->len);
    if (s) {
        hoop_policy_scan(c, ix->lists + s->first, s->count);
    }

    h = HOOP_POLICY_FNV_BASIS;
    pos = 0;

    for (i = 0; i < ix->nplens; i++) {
        plen = ix->plens[i];
        if (plen > c->len) {
            break;
        }

        h = hoop_policy_fnv(h, c->name + pos, plen - pos);
        pos = plen;

        s = hoop_policy_table_get(&ix->prefix, h, c->name, plen);
        if (s) {
            hoop_policy_scan(c, ix->lists + s->first, s->count);
        }
    }

    /* literal "*" and regexes: the "User:*" run, then the caller's */

    b = &ix->wild_by;

    if (ix->nwild) {
        hoop_policy_scan(c, b->items + b->any_first, b->any_count);

        for (k = 0; k < c->nmatched; k++) {
            id = c->p->matched[k];
            hoop_policy_scan(c, b->items + b->first[id],
                             b->first[id + 1] - b->first[id]);
        }
    }

    b = &ix->rx_by;

    if (ix->nrx) {
        hoop_policy_scan_rx(c, ix, b->items + b->any_first, b->any_count);

        for (k = 0; k < c->nmatched; k++) {
            id = c->p->matched[k];
            hoop_policy_scan_rx(c, ix, b->items + b->first[id],
                                b->first[id + 1] - b->first[id]);
        }
    }
}


/* a run of regex entries (indices into ix->rx), ascending */
static void
hoop_policy_scan_rx(hoop_policy_ctx_t *c, const hoop_policy_index_t *ix,
    const uint32_t *list, size_t n)
{
    size_t                      i;
    int                         rc;
    const hoop_policy_entry_t  *e;

    for (i = 0; i < n; i++) {
        e = &ix->rx[list[i]];
        if (e->rule >= c->best) {
            return;
        }

        rc = hoop_policy_try(c, &c->p->rules[c->kind][e->rule]);
        if (rc == HOOP_POLICY_NO
            || (rc != HOOP_POLICY_YES && e->rule >= c->near))
        {
            continue;
        }

        if (!hoop_policy_regex_match(c, e)) {
            continue;
        }

        if (rc == HOOP_POLICY_YES) {
            c->best = e->rule;
            return;
        }

        c->near = e->rule;
        c->near_rc = rc;
    }
}


int
hoop_policy_check(const hoop_policy_t *p, const hoop_policy_request_t *req,
    hoop_policy_decision_t *out)
{
    hoop_policy_ctx_t           c;
    const hoop_policy_irule_t  *r;

    if (!hoop_policy_request_ok(p, req, out)) {
        return 0;
    }

    c.p = p;
    c.req = req;

    if (req->resource == HOOP_POLICY_RES_CLUSTER) {
        c.name = HOOP_POLICY_CLUSTER_NAME;
        c.len = sizeof(HOOP_POLICY_CLUSTER_NAME) - 1;

    } else {
        c.name = req->name.len ? req->name.data : "";
        c.len = req->name.len;
    }

    hoop_policy_mark(&c);

    /* deny wins: a deny matches its own operation and ALL only */

    c.kind = HOOP_POLICY_DENY;
    c.approval = 0;
    c.exact = HOOP_POLICY_OP_BIT(req->op)
              | HOOP_POLICY_OP_BIT(HOOP_POLICY_OP_ALL);
    c.opmask = c.exact;

    hoop_policy_find(&c);

    if (c.best != HOOP_POLICY_NONE) {
        r = &p->rules[HOOP_POLICY_DENY][c.best];
        hoop_policy_decide(out, 0, HOOP_POLICY_DENIED_DENY, &r->pub, NULL);
        return 0;
    }

    c.kind = HOOP_POLICY_GRANT;
    c.opmask = hoop_policy_allow_mask(req->op);

    hoop_policy_find(&c);

    if (c.best != HOOP_POLICY_NONE) {
        r = &p->rules[HOOP_POLICY_GRANT][c.best];
        hoop_policy_decide(out, 1, HOOP_POLICY_ALLOWED_GRANT, &r->pub, NULL);
        return 1;
    }

    if (c.near != HOOP_POLICY_NONE) {
        r = &p->rules[HOOP_POLICY_GRANT][c.near];
        hoop_policy_decide(out, 0,
                           c.near_rc == HOOP_POLICY_LATE
                           ? HOOP_POLICY_DENIED_EXPIRED
                           : HOOP_POLICY_DENIED_NOT_YET_VALID,
                           NULL, &r->pub);
        return 0;
    }

    hoop_policy_decide(out, 0, HOOP_POLICY_DENIED_NO_GRANT, NULL, NULL);

    return 0;
}


int
hoop_policy_check_approval(const hoop_policy_t *p,
    const hoop_policy_request_t *req, hoop_policy_decision_t *out)
{
    uint32_t                    exact;
    hoop_policy_ctx_t           c;
    hoop_policy_decision_t      d;
    const hoop_policy_irule_t  *r;

    if (hoop_policy_check(p, req, &d)) {
        if (out) {
            *out = d;
        }
        return 1;
    }

    if (out) {
        *out = d;
    }

    if (d.reason != HOOP_POLICY_DENIED_NO_GRANT
        && d.reason != HOOP_POLICY_DENIED_EXPIRED
        && d.reason != HOOP_POLICY_DENIED_NOT_YET_VALID)
    {
        return 0;
    }

    exact = HOOP_POLICY_OP_BIT(req->op)
            | HOOP_POLICY_OP_BIT(HOOP_POLICY_OP_ALL);

    if ((p->approval_ops[req->resource] & exact) == 0) {
        return 0;
    }

    c.p = p;
    c.req = req;

    if (req->resource == HOOP_POLICY_RES_CLUSTER) {
        c.name = HOOP_POLICY_CLUSTER_NAME;
        c.len = sizeof(HOOP_POLICY_CLUSTER_NAME) - 1;

    } else {
        c.name = req->name.len ? req->name.data : "";
        c.len = req->name.len;
    }

    hoop_policy_mark(&c);

    c.kind = HOOP_POLICY_GRANT;
    c.approval = 1;
    c.exact = exact;
    c.opmask = exact;

    hoop_policy_find(&c);

    if (c.best == HOOP_POLICY_NONE) {
        return 0;
    }

    r = &p->rules[HOOP_POLICY_GRANT][c.best];
    hoop_policy_decide(out, 0, HOOP_POLICY_APPROVAL_NEEDED, &r->pub, NULL);

    return HOOP_POLICY_NEEDS_APPROVAL;
}


/* is "Type:" + name (name not NUL-terminated) in the sorted list? */
static int
hoop_policy_listed(const char * const *list, size_t n, const char *type,
    size_t tlen, const char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (strlen(list[i]) == tlen + len
            && memcmp(list[i], type, tlen) == 0
            && memcmp(list[i] + tlen, name, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


hoop_policy_approver_t
hoop_policy_approver_check(const hoop_policy_rule_t *rule,
    hoop_policy_str_t approver, const hoop_policy_str_t *groups,
    size_t ngroups, hoop_policy_str_t requester, int self_ok_for_deny)
{
    size_t                         i;
    int                            listed;
    const hoop_policy_approval_t  *a;

    if (rule == NULL || rule->approval == NULL) {
        return HOOP_POLICY_APPROVER_NO_APPROVAL;
    }

    a = rule->approval;

    if (approver.data == NULL || approver.len == 0) {
        return HOOP_POLICY_APPROVER_NOT_LISTED;
    }

    listed = hoop_policy_listed(a->approvers, a->napprovers, "User:", 5,
                                approver.data, approver.len)
             || hoop_policy_listed(a->approvers, a->napprovers, "User:", 5,
                                   "*", 1);

    for (i = 0; !listed && groups && i < ngroups; i++) {
        if (groups[i].data != NULL && groups[i].len > 0) {
            listed = hoop_policy_listed(a->approvers, a->napprovers,
                                        "Group:", 6, groups[i].data,
                                        groups[i].len);
        }
    }

    if (!listed) {
        return HOOP_POLICY_APPROVER_NOT_LISTED;
    }

    if (!a->allow_self_approval && !self_ok_for_deny
        && requester.data != NULL && requester.len == approver.len
        && memcmp(requester.data, approver.data, approver.len) == 0)
    {
        return HOOP_POLICY_APPROVER_SELF;
    }

    return HOOP_POLICY_APPROVER_OK;
}


/* ---------------------------------------------------------------------- */


/* does some rule of a run (deny index) apply? */
static int
hoop_policy_run_applies(hoop_policy_ctx_t *c, const hoop_policy_slot_t *slot,
    const hoop_policy_index_t *ix)
{
    size_t  i;

    for (i = 0; i < slot->count; i++) {
        if (hoop_policy_try(c, &c->p->rules[HOOP_POLICY_DENY]
                                           [ix->lists[slot->first + i]])
            == HOOP_POLICY_YES)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Kafka's "dominated" test of authorizeByResourceType(): a literal allow
 * is dominated by a literal deny of the same name, and a literal or
 * prefixed allow by a prefixed deny that is a prefix of its name (or the
 * name itself).  Only denies that apply to the caller count.
 */
static int
hoop_policy_dominated(hoop_policy_ctx_t *c, const hoop_policy_resource_t *res)
{
    size_t                      i, pos, plen;
    uint64_t                    h;
    const hoop_policy_index_t  *ix;
    const hoop_policy_slot_t   *s;

    ix = &c->p->index[HOOP_POLICY_DENY][c->req->resource];

    if (res->match == HOOP_POLICY_MATCH_LITERAL) {
        s = hoop_policy_table_get(&ix->literal,
                                  hoop_policy_fnv(HOOP_POLICY_FNV_BASIS,
                                                  res->name, res->name_len),
                                  res->name, res->name_len);
        if (s && hoop_policy_run_applies(c, s, ix)) {
            return 1;
        }
    }

    h = HOOP_POLICY_FNV_BASIS;
    pos = 0;

    for (i = 0; i < ix->nplens; i++) {
        plen = ix->plens[i];
        if (plen > res->name_len) {
            break;
        }

        h = hoop_policy_fnv(h, res->name + pos, plen - pos);
        pos = plen;

        s = hoop_policy_table_get(&ix->prefix, h, res->name, plen);
        if (s && hoop_policy_run_applies(c, s, ix)) {
            return 1;
        }
    }

    return 0;
}


int
hoop_policy_check_any(const hoop_policy_t *p,
    const hoop_policy_request_t *req, hoop_policy_decision_t *out)
{
    size_t                       i;
    hoop_policy_ctx_t            c;
    hoop_policy_request_t        probe;
    const hoop_policy_index_t   *ix;
    const hoop_policy_entry_t   *e;
    const hoop_policy_irule_t   *r;

    if (!hoop_policy_request_ok(p, req, out)) {
        return 0;
    }

    /* the probe with a hard-coded name (superusers pass it in Kafka) */

    probe = *req;
    probe.name.data = "hardcode";
    probe.name.len = sizeof("hardcode") - 1;

    if (hoop_policy_check(p, &probe, out)) {
        return 1;
    }

    c.p = p;
    c.req = req;
    c.name = "";
    c.len = 0;
    c.approval = 0;
    c.opmask = HOOP_POLICY_OP_BIT(req->op)
               | HOOP_POLICY_OP_BIT(HOOP_POLICY_OP_ALL);
    c.exact = c.opmask;

    hoop_policy_mark(&c);

    /* a literal "*" deny that applies denies at once */

    c.kind = HOOP_POLICY_DENY;
    ix = &p->index[HOOP_POLICY_DENY][req->resource];

    for (i = 0; i < ix->nwild; i++) {
        r = &p->rules[HOOP_POLICY_DENY][ix->wild[i]];

        if (hoop_policy_try(&c, r) == HOOP_POLICY_YES) {
            hoop_policy_decide(out, 0, HOOP_POLICY_DENIED_DENY, &r->pub,
                               NULL);
            return 0;
        }
    }

    /* any applying grant that no applying deny dominates */

    c.kind = HOOP_POLICY_GRANT;
    ix = &p->index[HOOP_POLICY_GRANT][req->resource];

    for (i = 0; i < ix->nall; i++) {
        e = &ix->all[i];
        r = &p->rules[HOOP_POLICY_GRANT][e->rule];

        if (hoop_policy_try(&c, r) != HOOP_POLICY_YES) {
            continue;
        }

        c.kind = HOOP_POLICY_DENY;

        if (e->res->match == HOOP_POLICY_MATCH_REGEX
            || (e->res->match == HOOP_POLICY_MATCH_LITERAL
                && e->res->name_len == 1 && e->res->name[0] == '*')
            || !hoop_policy_dominated(&c, e->res))
        {
            hoop_policy_decide(out, 1, HOOP_POLICY_ALLOWED_GRANT, &r->pub,
                               NULL);
            return 1;
        }

        c.kind = HOOP_POLICY_GRANT;
    }

    hoop_policy_decide(out, 0, HOOP_POLICY_DENIED_NO_GRANT, NULL, NULL);

    return 0;
}


uint32_t
hoop_policy_authorized_ops(const hoop_policy_t *p,
    const hoop_policy_request_t *req)
{
    unsigned               op;
    uint32_t               ops, allowed;
    hoop_policy_request_t  r;

    if (p == NULL || req == NULL) {
        return 0;
    }

    ops = hoop_policy_res_ops(req->resource);
    allowed = 0;
    r = *req;

    for (op = 0; op < HOOP_POLICY_OP_LIMIT; op++) {
        if (ops & HOOP_POLICY_OP_BIT(op)) {
            r.op = (hoop_policy_op_t) op;
            if (hoop_policy_check(p, &r, NULL)) {
                allowed |= HOOP_POLICY_OP_BIT(op);
            }
        }
    }

    return allowed;
}


/* ---------------------------------------------------------------------- */


size_t
hoop_policy_rule_count(const hoop_policy_t *p, hoop_policy_kind_t kind)
{
    if (p == NULL || (kind != HOOP_POLICY_GRANT && kind != HOOP_POLICY_DENY))
    {
        return 0;
    }

    return p->nrules[kind];
}


const hoop_policy_rule_t *
hoop_policy_rule_at(const hoop_policy_t *p, hoop_policy_kind_t kind,
    size_t i)
{
    if (i >= hoop_policy_rule_count(p, kind)) {
        return NULL;
    }

    return &p->rules[kind][i].pub;
}


const hoop_policy_rule_t *
hoop_policy_rule_find(const hoop_policy_t *p, const char *id, size_t len)
{
    int                         c;
    size_t                      k, lo, hi, mid, n;
    const hoop_policy_irule_t  *r;

    if (p == NULL || id == NULL) {
        return NULL;
    }

    for (k = 0; k < 2; k++) {
        lo = 0;
        hi = p->nrules[k];

        while (lo < hi) {
            mid = lo + (hi - lo) / 2;
            r = &p->rules[k][mid];

            n = strlen(r->pub.id);
            c = memcmp(r->pub.id, id, n < len ? n : len);
            if (c == 0) {
                c = n < len ? -1 : n > len;
            }

            if (c == 0) {
                return &r->pub;
            }

            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
    }

    return NULL;
}


int
hoop_policy_rule_window(const hoop_policy_rule_t *r, int64_t now)
{
    if (now < r->valid_from) {
        return -1;
    }

    return now > r->valid_until;
}


const char *
hoop_policy_description(const hoop_policy_t *p)
{
    return p ? p->description : NULL;
}


const char *
hoop_policy_canonical(const hoop_policy_t *p, size_t *len)
{
    if (len) {
        *len = p ? p->canonical_len : 0;
    }

    return p ? p->canonical : NULL;
}


const unsigned char *
hoop_policy_sha256(const hoop_policy_t *p)
{
    return p ? p->sha256 : NULL;
}


const char *
hoop_policy_sha256_hex(const hoop_policy_t *p)
{
    return p ? p->sha256_hex : NULL;
}


const char *
hoop_policy_reserved(const hoop_policy_t *p, const char *name)
{
    if (p == NULL || name == NULL) {
        return NULL;
    }

    if (strcmp(name, "masking") == 0) {
        return p->reserved_masking;
    }

    if (strcmp(name, "approvals") == 0) {
        return p->reserved_approvals;
    }

    return NULL;
}
