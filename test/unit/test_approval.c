/*
 * Approvals without Redis (docs/approvals.md):
 *
 *   - the "approval" block of grants: compiled values and defaults, the
 *     canonical form (YAML and JSON alike, round trip), every diagnostic
 *     with its line and column;
 *   - decisions: hoop_policy_check() never allows what an approval grant
 *     lists but allows what it implies; hoop_policy_check_approval() names
 *     the grant (smallest id), plain grants and denies win, windows, hosts
 *     and groups apply; check_any and authorized operations ignore
 *     approval grants; overlap warnings;
 *   - hoop_policy_approver_check(); durations;
 *   - src/approval: the EVALSHA argument lists, ids, replies, notices,
 *     the Kafka answer of a held request, and the embedded script (the
 *     header is the bytes of src/approval/hoop_approval.lua, its SHA1).
 *
 * The script itself runs against a real Redis in t/100-approvals-redis.t.
 *
 * Run: make -C test/unit check-approval (also by make check).
 */

#define _GNU_SOURCE

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "hoop_policy.h"
#include "hoop_approval.h"
#include "hoop_approval_lua.h"

#ifndef HOOP_SRC_DIR
#define HOOP_SRC_DIR  "../../src"
#endif


#define NOW          1796083200     /* 2026-12-01T00:00:00Z */
#define MAXD         64

#define REVIEW                                                                \
    "    reviewed_by: grace\n"                                                \
    "    reviewed_at: 2026-11-20\n"                                           \
    "    reason: \"CHG-1\"\n"


static hoop_policy_diag_t  diags[MAXD];
static size_t              ndiags;


static hoop_policy_t *
compile_at(const char *text)
{
    hoop_policy_options_t  o;

    memset(&o, 0, sizeof(o));
    o.now = NOW;

    return hoop_policy_compile_ex(text, strlen(text), &o, diags, MAXD,
                                  &ndiags);
}


static void
print_diags(void)
{
    size_t  i;
    char    buf[512];

    for (i = 0; i < ndiags && i < MAXD; i++) {
        hoop_policy_diag_format(&diags[i], "doc", buf, sizeof(buf));
        print_message("%s\n", buf);
    }
}


static hoop_policy_t *
compile_ok(const char *text)
{
    hoop_policy_t  *p;

    p = compile_at(text);
    if (p == NULL || ndiags != 0) {
        print_diags();
    }

    assert_non_null(p);
    assert_int_equal(ndiags, 0);

    return p;
}


static hoop_policy_str_t
S(const char *s)
{
    hoop_policy_str_t  v;

    v.data = s;
    v.len = s ? strlen(s) : 0;

    return v;
}


/* a request of user (groups g0, g1 when not NULL) */
static int
ask(const hoop_policy_t *p, const char *user, const char *g0,
    const char *g1, hoop_policy_res_t type, const char *name,
    hoop_policy_op_t op, hoop_policy_decision_t *d, int approval)
{
    size_t                 n;
    hoop_policy_str_t      groups[2];
    hoop_policy_request_t  req;

    n = 0;
    if (g0) {
        groups[n++] = S(g0);
    }
    if (g1) {
        groups[n++] = S(g1);
    }

    memset(&req, 0, sizeof(req));
    req.principal = S(user);
    req.groups = groups;
    req.ngroups = n;
    req.resource = type;
    req.name = S(name);
    req.op = op;
    req.now = NOW;

    return approval ? hoop_policy_check_approval(p, &req, d)
                    : hoop_policy_check(p, &req, d);
}


static const char  prod_doc[] =
    "policy_version: 1\n"
    "grants:\n"
    "  - id: prod-writes\n"
    "    principals: [ \"Group:deployers\", \"User:ci-bot\" ]\n"
    "    resources: [ { type: topic, name: \"prod.\", match: prefix } ]\n"
    "    operations: [ write ]\n"
    "    approval:\n"
    "      approvers: [ \"User:carol\", \"Group:sre\" ]\n"
    "      grant_duration: 1h\n"
    REVIEW
    "  - id: a-prod-orders\n"
    "    principals: [ \"User:ci-bot\" ]\n"
    "    resources: [ { type: topic, name: \"prod.orders\" } ]\n"
    "    operations: [ write, delete ]\n"
    "    approval:\n"
    "      approvers: [ \"Group:sre\" ]\n"
    "      grant_duration: 90m\n"
    "      hold: 10s\n"
    "      expire_after: 2d\n"
    "      allow_self_approval: true\n"
    REVIEW
    "  - id: prod-read\n"
    "    principals: [ \"Group:analysts\" ]\n"
    "    resources: [ { type: topic, name: \"prod.\", match: prefix } ]\n"
    "    operations: [ read ]\n"
    REVIEW
    "  - id: dev-all\n"
    "    principals: [ \"Group:deployers\" ]\n"
    "    resources: [ { type: topic, name: \"prod.sandbox\" } ]\n"
    "    operations: [ write ]\n"
    REVIEW
    "  - id: later\n"
    "    principals: [ \"User:dave\" ]\n"
    "    resources: [ { type: topic, name: \"prod.x\" } ]\n"
    "    operations: [ write ]\n"
    "    valid_from: 2027-01-01\n"
    "    approval: { approvers: [ \"Group:sre\" ], grant_duration: 1h }\n"
    REVIEW
    "  - id: from-vpn\n"
    "    principals: [ \"User:erin\" ]\n"
    "    resources: [ { type: topic, name: \"prod.y\" } ]\n"
    "    operations: [ write ]\n"
    "    hosts: [ \"10.0.0.0/8\" ]\n"
    "    approval: { approvers: [ \"Group:sre\" ], grant_duration: 1h }\n"
    REVIEW
    "denies:\n"
    "  - id: no-audit-writes\n"
    "    principals: [ \"User:*\" ]\n"
    "    resources: [ { type: topic, name: \"prod.audit\" } ]\n"
    "    operations: [ write ]\n";


/* ----------------------------------------------------------------------
 * The language
 */

static void
test_compile_values(void **state)
{
    hoop_policy_t                 *p;
    const hoop_policy_rule_t      *r;
    const hoop_policy_approval_t  *a;

    (void) state;

    p = compile_ok(prod_doc);

    r = hoop_policy_rule_find(p, "prod-writes", 11);
    assert_non_null(r);
    a = r->approval;
    assert_non_null(a);
    assert_int_equal(a->napprovers, 2);
    assert_string_equal(a->approvers[0], "Group:sre");
    assert_string_equal(a->approvers[1], "User:carol");
    assert_int_equal(a->grant_ms, 3600000);
    assert_int_equal(a->hold_ms, HOOP_POLICY_HOLD_DEFAULT);
    assert_int_equal(a->hold_ms, 25000);
    assert_int_equal(a->expire_ms, HOOP_POLICY_EXPIRE_DEFAULT);
    assert_int_equal(a->allow_self_approval, 0);
    assert_int_equal(a->line, 8);
    assert_int_equal(a->column, 7);

    r = hoop_policy_rule_find(p, "a-prod-orders", 13);
    a = r->approval;
    assert_int_equal(a->grant_ms, 90 * 60000);
    assert_int_equal(a->hold_ms, 10000);
    assert_int_equal(a->expire_ms, 2 * 86400000LL);
    assert_int_equal(a->allow_self_approval, 1);

    assert_null(hoop_policy_rule_find(p, "prod-read", 9)->approval);
    assert_null(hoop_policy_rule_find(p, "no-audit-writes", 15)->approval);

    hoop_policy_free(p);
}


static void
test_canonical(void **state)
{
    char           *c1;
    const char     *c;
    hoop_policy_t  *y, *j, *r;

    static const char  yaml[] =
        "policy_version: 1\n"
        "grants:\n"
        "  - id: g\n"
        "    principals: [ \"User:a\" ]\n"
        "    resources: [ { type: topic, name: t } ]\n"
        "    operations: [ write ]\n"
        "    approval:\n"
        "      allow_self_approval: false\n"
        "      hold: 25000ms\n"
        "      grant_duration: 120m\n"
        "      expire_after: 86400s\n"
        "      approvers: [ \"User:z\", \"Group:b\", \"User:z\" ]\n"
        REVIEW;

    static const char  json[] =
        "{\"policy_version\":1,\"grants\":[{\"id\":\"g\","
        "\"principals\":[\"User:a\"],\"resources\":[{\"type\":\"topic\","
        "\"name\":\"t\"}],\"operations\":[\"write\"],\"approval\":{"
        "\"approvers\":[\"Group:b\",\"User:z\"],\"grant_duration\":\"2h\","
        "\"expire_after\":\"1d\"},\"reviewed_by\":\"grace\","
        "\"reviewed_at\":\"2026-11-20\",\"reason\":\"CHG-1\"}]}";

    (void) state;

    y = compile_at(yaml);
    assert_non_null(y);
    assert_int_equal(ndiags, 1);
    assert_string_equal(diags[0].code, "duplicate-entry");
    assert_int_equal(diags[0].line, 12);

    j = compile_ok(json);

    c = hoop_policy_canonical(y, NULL);
    assert_string_equal(c, hoop_policy_canonical(j, NULL));
    assert_string_equal(hoop_policy_sha256_hex(y), hoop_policy_sha256_hex(j));

    assert_non_null(strstr(c,
        "      \"approval\": {\n"
        "        \"approvers\": [\n"
        "          \"Group:b\",\n"
        "          \"User:z\"\n"
        "        ],\n"
        "        \"grant_duration\": \"2h\",\n"
        "        \"hold\": \"25s\",\n"
        "        \"expire_after\": \"1d\",\n"
        "        \"allow_self_approval\": false\n"
        "      }\n"));

    /* the canonical form compiles to itself */

    c1 = strdup(c);
    r = compile_ok(c1);
    assert_string_equal(hoop_policy_canonical(r, NULL), c1);
    assert_non_null(hoop_policy_rule_find(r, "g", 1)->approval);

    free(c1);
    hoop_policy_free(r);
    hoop_policy_free(j);
    hoop_policy_free(y);
}


typedef struct {
    const char         *doc;
    const char         *code;
    hoop_policy_sev_t   sev;
    unsigned            line;
    unsigned            column;
    const char         *path;
} diag_case_t;

#define E  HOOP_POLICY_SEV_ERROR
#define W  HOOP_POLICY_SEV_WARNING

#define GRANT_HEAD                                                            \
    "policy_version: 1\n"                                                     \
    "grants:\n"                                                               \
    "  - id: g\n"                                                             \
    "    principals: [ \"User:a\" ]\n"                                        \
    "    resources: [ { type: topic, name: t } ]\n"                           \
    "    operations: [ write ]\n"                                             \
    REVIEW

static const diag_case_t  diag_cases[] = {
    { GRANT_HEAD "    approval: [ x ]\n",
      "type", E, 10, 15, "/grants/0/approval" },
    { GRANT_HEAD "    approval: { grant_duration: 1h }\n",
      "missing-key", E, 10, 15, "/grants/0/approval" },
    { GRANT_HEAD "    approval: { approvers: [ \"User:b\" ] }\n",
      "missing-key", E, 10, 15, "/grants/0/approval" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"User:b\" ]\n"
      "      grant_duration: 1h\n"
      "      holds: 5s\n",
      "unknown-key", E, 13, 7, "/grants/0/approval/holds" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"User:b\" ]\n"
      "      grant_duration: 60\n",
      "bad-duration", E, 12, 23, "/grants/0/approval/grant_duration" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"User:b\" ]\n"
      "      grant_duration: 1w\n",
      "bad-duration", E, 12, 23, "/grants/0/approval/grant_duration" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"User:b\" ]\n"
      "      grant_duration: 500ms\n",
      "approval-duration", E, 12, 23, "/grants/0/approval/grant_duration" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"User:b\" ]\n"
      "      grant_duration: 91d\n",
      "approval-duration", E, 12, 23, "/grants/0/approval/grant_duration" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"User:b\" ]\n"
      "      grant_duration: 1h\n"
      "      hold: 6m\n",
      "approval-duration", E, 13, 13, "/grants/0/approval/hold" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"User:b\" ]\n"
      "      grant_duration: 1h\n"
      "      hold: 30s\n",
      "hold-exceeds-timeout", W, 13, 13, "/grants/0/approval/hold" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"User:b\" ]\n"
      "      grant_duration: 1h\n"
      "      hold: 20s\n"
      "      expire_after: 10s\n",
      "approval-duration", E, 14, 21, "/grants/0/approval/expire_after" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"User:b\" ]\n"
      "      grant_duration: 1h\n"
      "      allow_self_approval: yes\n",
      "type", E, 13, 28, "/grants/0/approval/allow_self_approval" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"user:b\" ]\n"
      "      grant_duration: 1h\n",
      "bad-principal", E, 11, 20, "/grants/0/approval/approvers/0" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"User:b\", \"Group:*\" ]\n"
      "      grant_duration: 1h\n",
      "bad-principal", E, 11, 30, "/grants/0/approval/approvers/1" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: []\n"
      "      grant_duration: 1h\n",
      "empty", E, 11, 18, "/grants/0/approval/approvers" },
    { GRANT_HEAD "    approval:\n"
      "      approvers: [ \"User:*\" ]\n"
      "      grant_duration: 1h\n",
      "any-approver", W, 11, 20, "/grants/0/approval/approvers/0" },
    { "policy_version: 1\n"
      "grants:\n"
      "  - id: g\n"
      "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ all ]\n"
      "    approval: { approvers: [ \"User:b\" ], grant_duration: 1h }\n"
      REVIEW,
      "approval-all", W, 7, 15, "/grants/0/approval" },
    { "policy_version: 1\n"
      "grants: []\n"
      "denies:\n"
      "  - id: d\n"
      "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ write ]\n"
      "    approval: { approvers: [ \"User:b\" ], grant_duration: 1h }\n",
      "approval-on-deny", E, 8, 15, "/denies/0/approval" },
    { NULL, NULL, 0, 0, 0, NULL }
};


static void
test_diagnostics(void **state)
{
    size_t              i, k;
    hoop_policy_t      *p;
    const diag_case_t  *c;

    (void) state;

    for (c = diag_cases; c->doc; c++) {
        p = compile_at(c->doc);

        for (k = 0; k < ndiags && k < MAXD; k++) {
            if (strcmp(diags[k].code, c->code) == 0) {
                break;
            }
        }

        if (k == ndiags || k == MAXD || diags[k].severity != c->sev
            || diags[k].line != c->line || diags[k].column != c->column
            || strcmp(diags[k].path, c->path) != 0)
        {
            print_message("case %d, want %s at %u:%u %s:\n%s",
                          (int) (c - diag_cases), c->code, c->line,
                          c->column, c->path, c->doc);
            print_diags();
            fail();
        }

        if (c->sev == E) {
            assert_null(p);
        } else {
            assert_non_null(p);
            for (i = 0; i < ndiags; i++) {
                assert_int_equal(diags[i].severity, W);
            }
        }

        hoop_policy_free(p);
    }
}


/* ----------------------------------------------------------------------
 * Decisions
 */

static void
test_decisions(void **state)
{
    int                      rc;
    hoop_policy_t           *p;
    hoop_policy_decision_t   d;

    (void) state;

    p = compile_ok(prod_doc);

    /* what an approval grant lists: never allowed by a plain check */

    assert_int_equal(ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.payments", HOOP_POLICY_OP_WRITE, &d, 0), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_NO_GRANT);
    assert_null(d.rule);

    rc = ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC,
             "prod.payments", HOOP_POLICY_OP_WRITE, &d, 1);
    assert_int_equal(rc, HOOP_POLICY_NEEDS_APPROVAL);
    assert_int_equal(d.allowed, 0);
    assert_int_equal(d.reason, HOOP_POLICY_APPROVAL_NEEDED);
    assert_string_equal(d.rule_id, "prod-writes");
    assert_string_equal(d.text, "approval needed");
    assert_non_null(d.rule->approval);

    /* two approval grants: the smallest id */

    rc = ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC, "prod.orders",
             HOOP_POLICY_OP_WRITE, &d, 1);
    assert_int_equal(rc, HOOP_POLICY_NEEDS_APPROVAL);
    assert_string_equal(d.rule_id, "a-prod-orders");

    rc = ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC, "prod.orders",
             HOOP_POLICY_OP_DELETE, &d, 1);
    assert_int_equal(rc, HOOP_POLICY_NEEDS_APPROVAL);
    assert_string_equal(d.rule_id, "a-prod-orders");

    /* a group caller */

    rc = ask(p, "ann", "deployers", NULL, HOOP_POLICY_RES_TOPIC,
             "prod.orders", HOOP_POLICY_OP_WRITE, &d, 1);
    assert_int_equal(rc, HOOP_POLICY_NEEDS_APPROVAL);
    assert_string_equal(d.rule_id, "prod-writes");

    /* what the listed operations imply: allowed like a grant */

    assert_int_equal(ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.payments", HOOP_POLICY_OP_DESCRIBE, &d, 0), 1);
    assert_string_equal(d.rule_id, "prod-writes");
    assert_int_equal(ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.payments", HOOP_POLICY_OP_DESCRIBE, &d, 1), 1);

    /* a plain grant wins: no approval */

    assert_int_equal(ask(p, "ann", "deployers", NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.sandbox", HOOP_POLICY_OP_WRITE, &d, 1), 1);
    assert_string_equal(d.rule_id, "dev-all");

    /* a deny wins */

    assert_int_equal(ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.audit", HOOP_POLICY_OP_WRITE, &d, 1), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_DENY);
    assert_string_equal(d.rule_id, "no-audit-writes");

    /* not a listed operation, not a caller */

    assert_int_equal(ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.payments", HOOP_POLICY_OP_READ, &d, 1), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_NO_GRANT);
    assert_int_equal(ask(p, "mallory", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.payments", HOOP_POLICY_OP_WRITE, &d, 1), 0);
    assert_int_equal(ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "dev.payments", HOOP_POLICY_OP_WRITE, &d, 1), 0);
    assert_int_equal(ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_GROUP,
                         "prod.orders", HOOP_POLICY_OP_READ, &d, 1), 0);

    /* the window: not yet valid; no approval either */

    assert_int_equal(ask(p, "dave", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.x", HOOP_POLICY_OP_WRITE, &d, 1), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_NO_GRANT);

    /* hosts: an unknown client address matches no host list */

    assert_int_equal(ask(p, "erin", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.y", HOOP_POLICY_OP_WRITE, &d, 1), 0);

    /* unauthenticated, invalid */

    assert_int_equal(ask(p, NULL, NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.y", HOOP_POLICY_OP_WRITE, &d, 1), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_UNAUTHENTICATED);
    assert_int_equal(ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.y", HOOP_POLICY_OP_ALL, &d, 1), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_INVALID);

    hoop_policy_free(p);
}


static void
test_hosts_and_any(void **state)
{
    hoop_policy_t           *p;
    hoop_policy_addr_t       addr;
    hoop_policy_str_t        g;
    hoop_policy_request_t    req;
    hoop_policy_decision_t   d;

    (void) state;

    p = compile_ok(prod_doc);

    memset(&req, 0, sizeof(req));
    req.principal = S("erin");
    req.resource = HOOP_POLICY_RES_TOPIC;
    req.name = S("prod.y");
    req.op = HOOP_POLICY_OP_WRITE;
    req.now = NOW;
    req.addr = &addr;

    assert_int_equal(hoop_policy_addr_parse(&addr, "10.1.2.3", 8), 0);
    assert_int_equal(hoop_policy_check_approval(p, &req, &d),
                     HOOP_POLICY_NEEDS_APPROVAL);
    assert_string_equal(d.rule_id, "from-vpn");

    assert_int_equal(hoop_policy_addr_parse(&addr, "192.0.2.1", 9), 0);
    assert_int_equal(hoop_policy_check_approval(p, &req, &d), 0);

    /* KIP-679 and KIP-430 see plain grants only */

    req.principal = S("ci-bot");
    req.addr = NULL;
    assert_int_equal(hoop_policy_check_any(p, &req, &d), 0);

    req.principal = S("ann");
    g = S("deployers");
    req.groups = &g;
    req.ngroups = 1;
    assert_int_equal(hoop_policy_check_any(p, &req, &d), 1);
    assert_string_equal(d.rule_id, "dev-all");

    req.principal = S("ci-bot");
    req.groups = NULL;
    req.ngroups = 0;
    req.name = S("prod.orders");
    assert_int_equal(hoop_policy_authorized_ops(p, &req),
                     HOOP_POLICY_OP_BIT(HOOP_POLICY_OP_DESCRIBE));

    hoop_policy_free(p);
}


static void
test_overlap(void **state)
{
    hoop_policy_t  *p;

    (void) state;

    /* a plain grant covering an approval grant: the approval is never
     * asked; the other way round is no overlap */

    p = compile_at("policy_version: 1\n"
                   "grants:\n"
                   "  - id: plain\n"
                   "    principals: [ \"User:a\" ]\n"
                   "    resources: [ { type: topic, name: t, "
                   "match: prefix } ]\n"
                   "    operations: [ write ]\n"
                   REVIEW
                   "  - id: asked\n"
                   "    principals: [ \"User:a\" ]\n"
                   "    resources: [ { type: topic, name: t1 } ]\n"
                   "    operations: [ write ]\n"
                   "    approval: { approvers: [ \"User:b\" ], "
                   "grant_duration: 1h }\n"
                   REVIEW
                   "  - id: wide-asked\n"
                   "    principals: [ \"User:a\" ]\n"
                   "    resources: [ { type: topic, name: \"*\" } ]\n"
                   "    operations: [ write ]\n"
                   "    approval: { approvers: [ \"User:b\" ], "
                   "grant_duration: 1h }\n"
                   REVIEW);
    assert_non_null(p);

    if (ndiags != 2) {
        print_diags();
    }

    /* "asked" is covered by "plain" and by "wide-asked" (approval grants
     * cover one another); "plain" by nothing: "wide-asked" gives write on
     * every topic only after a yes */

    assert_int_equal(ndiags, 2);
    assert_string_equal(diags[0].code, "overlap");
    assert_string_equal(diags[0].path, "/grants/1");
    assert_string_equal(diags[1].code, "overlap");
    assert_string_equal(diags[1].path, "/grants/1");
    assert_true((strstr(diags[0].message, "by \"plain\"")
                 && strstr(diags[1].message, "by \"wide-asked\""))
                || (strstr(diags[1].message, "by \"plain\"")
                    && strstr(diags[0].message, "by \"wide-asked\"")));

    hoop_policy_free(p);
}


static void
test_approver_check(void **state)
{
    hoop_policy_t             *p;
    hoop_policy_str_t          g[2];
    const hoop_policy_rule_t  *r, *self;

    (void) state;

    p = compile_ok(prod_doc);
    r = hoop_policy_rule_find(p, "prod-writes", 11);
    self = hoop_policy_rule_find(p, "a-prod-orders", 13);

    g[0] = S("dev");
    g[1] = S("sre");

    assert_int_equal(hoop_policy_approver_check(r, S("carol"), NULL, 0,
                                                S("ci-bot"), 0),
                     HOOP_POLICY_APPROVER_OK);
    assert_int_equal(hoop_policy_approver_check(r, S("bob"), g, 1,
                                                S("ci-bot"), 0),
                     HOOP_POLICY_APPROVER_NOT_LISTED);
    assert_int_equal(hoop_policy_approver_check(r, S("bob"), g, 2,
                                                S("ci-bot"), 0),
                     HOOP_POLICY_APPROVER_OK);

    /* names compare whole: "carol" is not "caro" nor "User:carol" */

    assert_int_equal(hoop_policy_approver_check(r, S("caro"), NULL, 0,
                                                S("x"), 0),
                     HOOP_POLICY_APPROVER_NOT_LISTED);
    assert_int_equal(hoop_policy_approver_check(r, S("carol2"), NULL, 0,
                                                S("x"), 0),
                     HOOP_POLICY_APPROVER_NOT_LISTED);
    assert_int_equal(hoop_policy_approver_check(r, S(""), NULL, 0, S("x"),
                                                0),
                     HOOP_POLICY_APPROVER_NOT_LISTED);

    /* self-approval: refused unless the rule allows it; a denial is
     * always the requester's to make */

    assert_int_equal(hoop_policy_approver_check(r, S("bob"), g, 2, S("bob"),
                                                0),
                     HOOP_POLICY_APPROVER_SELF);
    assert_int_equal(hoop_policy_approver_check(r, S("bob"), g, 2, S("bob"),
                                                1),
                     HOOP_POLICY_APPROVER_OK);
    assert_int_equal(hoop_policy_approver_check(self, S("bob"), g, 2,
                                                S("bob"), 0),
                     HOOP_POLICY_APPROVER_OK);

    assert_int_equal(hoop_policy_approver_check(
                         hoop_policy_rule_find(p, "prod-read", 9), S("bob"),
                         g, 2, S("x"), 0),
                     HOOP_POLICY_APPROVER_NO_APPROVAL);
    assert_int_equal(hoop_policy_approver_check(NULL, S("bob"), g, 2,
                                                S("x"), 0),
                     HOOP_POLICY_APPROVER_NO_APPROVAL);

    hoop_policy_free(p);
}


static void
test_durations(void **state)
{
    int64_t  ms;
    char     buf[32];

    (void) state;

    assert_int_equal(hoop_policy_duration_parse("25s", 3, &ms), 0);
    assert_int_equal(ms, 25000);
    assert_int_equal(hoop_policy_duration_parse("1500ms", 6, &ms), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(hoop_policy_duration_parse("90m", 3, &ms), 0);
    assert_int_equal(ms, 5400000);
    assert_int_equal(hoop_policy_duration_parse("2h", 2, &ms), 0);
    assert_int_equal(ms, 7200000);
    assert_int_equal(hoop_policy_duration_parse("7d", 2, &ms), 0);
    assert_int_equal(ms, 604800000);
    assert_int_equal(hoop_policy_duration_parse("0s", 2, &ms), 0);
    assert_int_equal(ms, 0);

    assert_int_equal(hoop_policy_duration_parse("", 0, &ms), -1);
    assert_int_equal(hoop_policy_duration_parse("s", 1, &ms), -1);
    assert_int_equal(hoop_policy_duration_parse("25", 2, &ms), -1);
    assert_int_equal(hoop_policy_duration_parse("25 s", 4, &ms), -1);
    assert_int_equal(hoop_policy_duration_parse("-5s", 3, &ms), -1);
    assert_int_equal(hoop_policy_duration_parse("1.5h", 4, &ms), -1);
    assert_int_equal(hoop_policy_duration_parse("5sec", 4, &ms), -1);
    assert_int_equal(hoop_policy_duration_parse("5S", 2, &ms), -1);
    assert_int_equal(hoop_policy_duration_parse("99999999999999999d", 18,
                                                &ms), -1);
    assert_int_equal(hoop_policy_duration_parse("200000000000d", 13, &ms),
                     -1);
    assert_int_equal(hoop_policy_duration_parse(NULL, 0, &ms), -1);

    assert_string_equal(hoop_policy_duration_format(25000, buf, sizeof(buf)),
                        "25s");
    assert_string_equal(hoop_policy_duration_format(3600000, buf,
                                                    sizeof(buf)), "1h");
    assert_string_equal(hoop_policy_duration_format(5400000, buf,
                                                    sizeof(buf)), "90m");
    assert_string_equal(hoop_policy_duration_format(172800000, buf,
                                                    sizeof(buf)), "2d");
    assert_string_equal(hoop_policy_duration_format(1500, buf, sizeof(buf)),
                        "1500ms");
    assert_string_equal(hoop_policy_duration_format(0, buf, sizeof(buf)),
                        "0ms");
}


static char *
read_file(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf;
    size_t   size, n;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    size = 1 << 16;
    buf = malloc(size + 1);
    n = 0;

    while (buf != NULL) {
        n += fread(buf + n, 1, size - n, f);
        if (n < size) {
            break;
        }
        size *= 2;
        buf = realloc(buf, size + 1);
    }

    fclose(f);

    if (buf) {
        buf[n] = '\0';
    }

    *len = n;

    return buf;
}


static void
test_example(void **state)
{
    char                    *text;
    size_t                   len;
    hoop_policy_t           *p;
    hoop_policy_decision_t   d;

    (void) state;

    text = read_file(HOOP_SRC_DIR
                     "/../policy-examples/approvals-prod-writes.yaml", &len);
    assert_non_null(text);
    p = compile_ok(text);
    free(text);

    assert_int_equal(ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.orders", HOOP_POLICY_OP_WRITE, &d, 1),
                     HOOP_POLICY_NEEDS_APPROVAL);
    assert_string_equal(d.rule_id, "prod-writes");
    assert_int_equal(d.rule->approval->hold_ms, 25000);
    assert_int_equal(d.rule->approval->expire_ms, 1800000);
    assert_int_equal(ask(p, "ci-bot", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.orders", HOOP_POLICY_OP_DESCRIBE, &d, 1), 1);

    assert_int_equal(ask(p, "sam", "sre", NULL, HOOP_POLICY_RES_TOPIC,
                         "prod.orders", HOOP_POLICY_OP_DELETE, &d, 1),
                     HOOP_POLICY_NEEDS_APPROVAL);
    assert_string_equal(d.rule_id, "prod-topic-admin");
    assert_int_equal(hoop_policy_approver_check(d.rule, S("sam"), NULL, 0,
                                                S("sam"), 0),
                     HOOP_POLICY_APPROVER_NOT_LISTED);
    {
        hoop_policy_str_t  sre = S("sre");

        assert_int_equal(hoop_policy_approver_check(d.rule, S("sam"), &sre,
                                                    1, S("sam"), 0),
                         HOOP_POLICY_APPROVER_SELF);
        assert_int_equal(hoop_policy_approver_check(d.rule, S("tom"), &sre,
                                                    1, S("sam"), 0),
                         HOOP_POLICY_APPROVER_OK);
    }

    /* the newcomer asks; the owning team reads at once */

    assert_int_equal(ask(p, "zoe", NULL, NULL, HOOP_POLICY_RES_TOPIC,
                         "pii.customers", HOOP_POLICY_OP_READ, &d, 1),
                     HOOP_POLICY_NEEDS_APPROVAL);
    assert_string_equal(d.rule_id, "pii-newcomers");
    assert_int_equal(ask(p, "pat", "payments", NULL, HOOP_POLICY_RES_TOPIC,
                         "pii.customers", HOOP_POLICY_OP_READ, &d, 1), 1);
    assert_string_equal(d.rule_id, "pii-team");

    hoop_policy_free(p);
}


/* ----------------------------------------------------------------------
 * src/approval
 */

static const char *
arg(const hoop_approval_cmd_t *cmd, int i)
{
    static char  buf[8192];

    assert_true(i < cmd->argc);
    assert_true(cmd->argvlen[i] < sizeof(buf));
    memcpy(buf, cmd->argv[i], cmd->argvlen[i]);
    buf[cmd->argvlen[i]] = '\0';

    return buf;
}


static void
test_ids(void **state)
{
    int   i, j;
    char  id[HOOP_APPROVAL_ID_LEN + 1], other[HOOP_APPROVAL_ID_LEN + 1];

    (void) state;

    assert_int_equal(hoop_approval_id_new(other), 0);

    for (i = 0; i < 200; i++) {
        assert_int_equal(hoop_approval_id_new(id), 0);
        assert_int_equal(strlen(id), HOOP_APPROVAL_ID_LEN);
        assert_true(hoop_approval_id_valid(id, strlen(id)));
        assert_string_not_equal(id, other);

        for (j = 0; j < HOOP_APPROVAL_ID_LEN; j++) {
            assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567",
                                   id[j]));
        }
    }

    assert_true(hoop_approval_id_valid("abcdefgh27", 10));
    assert_false(hoop_approval_id_valid("abcdefgh28", 10));
    assert_false(hoop_approval_id_valid("Abcdefgh27", 10));
    assert_false(hoop_approval_id_valid("abcdefgh2", 9));
    assert_false(hoop_approval_id_valid("abcdefgh277", 11));
    assert_false(hoop_approval_id_valid(NULL, 10));
}


static void
test_cmd_request(void **state)
{
    hoop_policy_t            *p;
    hoop_policy_str_t         groups[2], prefix;
    hoop_approval_cmd_t       cmd;
    hoop_approval_request_t   r;

    (void) state;

    p = compile_ok(prod_doc);

    groups[0] = S("deployers");
    groups[1] = S("q\"u\\o\te");
    prefix = S("hoop:");

    memset(&r, 0, sizeof(r));
    r.principal = S("ann");
    r.groups = groups;
    r.ngroups = 2;
    r.resource = HOOP_POLICY_RES_TOPIC;
    r.name = S("prod.orders");
    r.op = HOOP_POLICY_OP_WRITE;
    r.rule = hoop_policy_rule_find(p, "prod-writes", 11);
    r.summary = S("{\"api\":\"Produce\"}");

    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 604800), 0);
    assert_int_equal(cmd.argc, 18);
    assert_string_equal(arg(&cmd, 0), "EVALSHA");
    assert_string_equal(arg(&cmd, 1), HOOP_APPROVAL_LUA_SHA1);
    assert_string_equal(arg(&cmd, 2), "0");
    assert_string_equal(arg(&cmd, 3), "request");
    assert_string_equal(arg(&cmd, 4), "hoop:");
    assert_string_equal(arg(&cmd, 5), cmd.id);
    assert_true(hoop_approval_id_valid(cmd.id, strlen(cmd.id)));
    assert_string_equal(arg(&cmd, 6), "ann");
    assert_string_equal(arg(&cmd, 7),
                        "[\"deployers\",\"q\\\"u\\\\o\\u0009e\"]");
    assert_string_equal(arg(&cmd, 8), "topic");
    assert_string_equal(arg(&cmd, 9), "prod.orders");
    assert_string_equal(arg(&cmd, 10), "write");
    assert_string_equal(arg(&cmd, 11), "prod-writes");
    assert_string_equal(arg(&cmd, 12), "[\"Group:sre\",\"User:carol\"]");
    assert_string_equal(arg(&cmd, 13), "0");
    assert_string_equal(arg(&cmd, 14), "3600000");
    assert_string_equal(arg(&cmd, 15), "3600000");
    assert_string_equal(arg(&cmd, 16), "604800");
    assert_string_equal(arg(&cmd, 17), "{\"api\":\"Produce\"}");
    hoop_approval_cmd_free(&cmd);

    /* the cluster is always kafka-cluster; no summary, no groups */

    r.resource = HOOP_POLICY_RES_CLUSTER;
    r.name = S("whatever");
    r.ngroups = 0;
    r.groups = NULL;
    r.summary.data = NULL;
    r.summary.len = 0;
    r.rule = hoop_policy_rule_find(p, "a-prod-orders", 13);
    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 0), 0);
    assert_string_equal(arg(&cmd, 7), "[]");
    assert_string_equal(arg(&cmd, 8), "cluster");
    assert_string_equal(arg(&cmd, 9), "kafka-cluster");
    assert_string_equal(arg(&cmd, 13), "1");
    assert_string_equal(arg(&cmd, 14), "5400000");
    assert_string_equal(arg(&cmd, 15), "172800000");
    assert_string_equal(arg(&cmd, 16), "0");
    assert_string_equal(arg(&cmd, 17), "");
    hoop_approval_cmd_free(&cmd);

    /* refused: no approval block, bad text, ALL, no principal */

    r.resource = HOOP_POLICY_RES_TOPIC;
    r.name = S("prod.orders");
    r.rule = hoop_policy_rule_find(p, "prod-read", 9);
    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 0), -1);
    r.rule = hoop_policy_rule_find(p, "prod-writes", 11);

    r.principal = S("m\xffria");
    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 0), -1);
    r.principal.data = "a\0b";
    r.principal.len = 3;
    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 0), -1);
    r.principal = S("");
    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 0), -1);
    r.principal = S("m\xc3\xa1ria");
    r.op = HOOP_POLICY_OP_ALL;
    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 0), -1);
    r.op = HOOP_POLICY_OP_WRITE;
    r.summary = S("{\xc0\xaf}");
    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 0), -1);
    r.summary.data = NULL;
    r.summary.len = 0;
    r.groups = NULL;
    r.ngroups = 1;
    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 0), -1);
    r.ngroups = 0;

    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 0), 0);
    assert_string_equal(arg(&cmd, 6), "m\xc3\xa1ria");
    hoop_approval_cmd_free(&cmd);

    hoop_policy_free(p);
}


static void
test_cmd_others(void **state)
{
    hoop_policy_str_t    g[1], prefix;
    hoop_approval_cmd_t  cmd;

    (void) state;

    prefix = S("{hoop}:");
    g[0] = S("sre");

    assert_int_equal(hoop_approval_cmd_decide(&cmd, prefix, "abcdefgh27", 1,
                                              S("carol"), g, 1,
                                              S("ok \xe2\x9c\x93"), 86400),
                     0);
    assert_int_equal(cmd.argc, 11);
    assert_string_equal(arg(&cmd, 3), "decide");
    assert_string_equal(arg(&cmd, 4), "{hoop}:");
    assert_string_equal(arg(&cmd, 5), "abcdefgh27");
    assert_string_equal(arg(&cmd, 6), "approve");
    assert_string_equal(arg(&cmd, 7), "carol");
    assert_string_equal(arg(&cmd, 8), "[\"sre\"]");
    assert_string_equal(arg(&cmd, 9), "ok \xe2\x9c\x93");
    assert_string_equal(arg(&cmd, 10), "86400");
    hoop_approval_cmd_free(&cmd);

    /* approving needs no reason; denying does */

    assert_int_equal(hoop_approval_cmd_decide(&cmd, prefix, "abcdefgh27", 1,
                                              S("carol"), NULL, 0, S(NULL),
                                              0), 0);
    assert_string_equal(arg(&cmd, 8), "[]");
    assert_string_equal(arg(&cmd, 9), "");
    hoop_approval_cmd_free(&cmd);

    assert_int_equal(hoop_approval_cmd_decide(&cmd, prefix, "abcdefgh27", 0,
                                              S("carol"), NULL, 0, S(""),
                                              0), -1);
    assert_int_equal(hoop_approval_cmd_decide(&cmd, prefix, "abcdefgh27", 0,
                                              S("carol"), NULL, 0, S("no"),
                                              0), 0);
    assert_string_equal(arg(&cmd, 6), "deny");
    hoop_approval_cmd_free(&cmd);

    assert_int_equal(hoop_approval_cmd_decide(&cmd, prefix, "ABCDEFGH27", 1,
                                              S("carol"), NULL, 0, S(NULL),
                                              0), -1);
    assert_int_equal(hoop_approval_cmd_decide(&cmd, prefix, "abcdefgh27", 1,
                                              S(""), NULL, 0, S(NULL), 0),
                     -1);

    /* revoke: no approve|deny word, the reason may be empty */

    assert_int_equal(hoop_approval_cmd_revoke(&cmd, prefix, "abcdefgh27",
                                              S("carol"), g, 1, S(NULL),
                                              3600), 0);
    assert_int_equal(cmd.argc, 10);
    assert_string_equal(arg(&cmd, 3), "revoke");
    assert_string_equal(arg(&cmd, 4), "{hoop}:");
    assert_string_equal(arg(&cmd, 5), "abcdefgh27");
    assert_string_equal(arg(&cmd, 6), "carol");
    assert_string_equal(arg(&cmd, 7), "[\"sre\"]");
    assert_string_equal(arg(&cmd, 8), "");
    assert_string_equal(arg(&cmd, 9), "3600");
    hoop_approval_cmd_free(&cmd);

    assert_int_equal(hoop_approval_cmd_revoke(&cmd, prefix, "abcdefgh27",
                                              S("carol"), NULL, 0,
                                              S("incident 42"), 0), 0);
    assert_string_equal(arg(&cmd, 7), "[]");
    assert_string_equal(arg(&cmd, 8), "incident 42");
    hoop_approval_cmd_free(&cmd);

    assert_int_equal(hoop_approval_cmd_revoke(&cmd, prefix, "abcdefgh2",
                                              S("carol"), NULL, 0, S(NULL),
                                              0), -1);
    assert_int_equal(hoop_approval_cmd_revoke(&cmd, prefix, "abcdefgh27",
                                              S(""), NULL, 0, S(NULL), 0),
                     -1);
    assert_int_equal(hoop_approval_cmd_revoke(&cmd, prefix, "abcdefgh27",
                                              S("carol"), NULL, 0,
                                              S("bad \xff"), 0), -1);

    assert_int_equal(hoop_approval_cmd_status(&cmd, prefix, "abcdefgh27"),
                     0);
    assert_int_equal(cmd.argc, 6);
    assert_string_equal(arg(&cmd, 3), "status");
    assert_string_equal(arg(&cmd, 5), "abcdefgh27");
    hoop_approval_cmd_free(&cmd);
    assert_int_equal(hoop_approval_cmd_status(&cmd, prefix, "x"), -1);

    assert_int_equal(hoop_approval_cmd_expire(&cmd, prefix, 16, 604800), 0);
    assert_int_equal(cmd.argc, 7);
    assert_string_equal(arg(&cmd, 3), "expire");
    assert_string_equal(arg(&cmd, 5), "16");
    assert_string_equal(arg(&cmd, 6), "604800");
    hoop_approval_cmd_free(&cmd);
    assert_int_equal(hoop_approval_cmd_expire(&cmd, prefix, 0, 0), -1);
}


/* a reply of the script, built by hand */
static redisReply *
reply_array(const char *state, const char *id, long long flag,
    long long ms, const char *detail)
{
    redisReply  *r, *e;
    int          i;

    r = calloc(1, sizeof(redisReply));
    r->type = REDIS_REPLY_ARRAY;
    r->elements = 5;
    r->element = calloc(5, sizeof(redisReply *));

    for (i = 0; i < 5; i++) {
        e = calloc(1, sizeof(redisReply));
        r->element[i] = e;

        if (i == 2 || i == 3) {
            e->type = REDIS_REPLY_INTEGER;
            e->integer = i == 2 ? flag : ms;
        } else {
            e->type = REDIS_REPLY_STRING;
            e->str = strdup(i == 0 ? state : i == 1 ? id : detail);
            e->len = strlen(e->str);
        }
    }

    return r;
}


static void
reply_free(redisReply *r)
{
    size_t  i;

    for (i = 0; i < r->elements; i++) {
        free(r->element[i]->str);
        free(r->element[i]);
    }

    free(r->element);
    free(r->str);
    free(r);
}


/* the audit stream: appended last to the calls that write steps */
static void
test_cmd_audit(void **state)
{
    hoop_policy_t            *p;
    hoop_policy_str_t         prefix, g[1];
    hoop_approval_cmd_t       cmd;
    hoop_approval_request_t   r;
    char                      big[1026];

    (void) state;

    prefix = S("hoop:");
    g[0] = S("sre");
    p = compile_ok(prod_doc);

    memset(&r, 0, sizeof(r));
    r.principal = S("ann");
    r.resource = HOOP_POLICY_RES_TOPIC;
    r.name = S("prod.orders");
    r.op = HOOP_POLICY_OP_WRITE;
    r.rule = hoop_policy_rule_find(p, "prod-writes", 11);
    assert_non_null(r.rule);

    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 0), 0);
    assert_int_equal(cmd.argc, 18);
    assert_int_equal(hoop_approval_cmd_audit(&cmd, S("hoop:audit")), 0);
    assert_int_equal(cmd.argc, 19);
    assert_string_equal(arg(&cmd, 17), "");
    assert_string_equal(arg(&cmd, 18), "hoop:audit");
    /* once only */
    assert_int_equal(hoop_approval_cmd_audit(&cmd, S("hoop:audit")), -1);
    assert_int_equal(cmd.argc, 19);
    hoop_approval_cmd_free(&cmd);

    /* empty: the call as before */
    assert_int_equal(hoop_approval_cmd_request(&cmd, prefix, &r, 0), 0);
    assert_int_equal(hoop_approval_cmd_audit(&cmd, S("")), 0);
    assert_int_equal(hoop_approval_cmd_audit(&cmd, S(NULL)), 0);
    assert_int_equal(cmd.argc, 18);

    /* too long, NUL inside */
    memset(big, 'a', sizeof(big));
    big[1025] = '\0';
    assert_int_equal(hoop_approval_cmd_audit(&cmd, S(big)), -1);
    big[1024] = '\0';
    assert_int_equal(hoop_approval_cmd_audit(&cmd, S(big)), 0);
    assert_int_equal(cmd.argc, 19);
    assert_int_equal((int) cmd.argvlen[18], 1024);
    hoop_approval_cmd_free(&cmd);
    {
        hoop_policy_str_t  nul = { "a\0b", 3 };

        assert_int_equal(hoop_approval_cmd_expire(&cmd, prefix, 16, 0), 0);
        assert_int_equal(hoop_approval_cmd_audit(&cmd, nul), -1);
        assert_int_equal(cmd.argc, 7);
        hoop_approval_cmd_free(&cmd);
    }

    assert_int_equal(hoop_approval_cmd_decide(&cmd, prefix, "abcdefgh27", 0,
                                              S("carol"), g, 1, S("no"),
                                              0), 0);
    assert_int_equal(hoop_approval_cmd_audit(&cmd, S("{h}:audit")), 0);
    assert_int_equal(cmd.argc, 12);
    assert_string_equal(arg(&cmd, 10), "0");
    assert_string_equal(arg(&cmd, 11), "{h}:audit");
    hoop_approval_cmd_free(&cmd);

    assert_int_equal(hoop_approval_cmd_revoke(&cmd, prefix, "abcdefgh27",
                                              S("carol"), g, 1, S(NULL),
                                              0), 0);
    assert_int_equal(hoop_approval_cmd_audit(&cmd, S("hoop:audit")), 0);
    assert_int_equal(cmd.argc, 11);
    assert_string_equal(arg(&cmd, 10), "hoop:audit");
    hoop_approval_cmd_free(&cmd);

    assert_int_equal(hoop_approval_cmd_expire(&cmd, prefix, 16, 0), 0);
    assert_int_equal(hoop_approval_cmd_audit(&cmd, S("hoop:audit")), 0);
    assert_int_equal(cmd.argc, 8);
    assert_string_equal(arg(&cmd, 7), "hoop:audit");
    hoop_approval_cmd_free(&cmd);

    /* status writes no step */
    assert_int_equal(hoop_approval_cmd_status(&cmd, prefix, "abcdefgh27"),
                     0);
    assert_int_equal(hoop_approval_cmd_audit(&cmd, S("hoop:audit")), -1);
    assert_int_equal(cmd.argc, 6);
    hoop_approval_cmd_free(&cmd);

    assert_int_equal(hoop_approval_cmd_audit(NULL, S("hoop:audit")), -1);

    hoop_policy_free(p);
}


static void
test_replies(void **state)
{
    redisReply             *r;
    hoop_approval_reply_t   rep;

    static const struct {
        const char           *text;
        hoop_approval_err_t   err;
    } errors[] = {
        { "NOSCRIPT No matching script. Please use EVAL.",
          HOOP_APPROVAL_ERR_NOSCRIPT },
        { "NOAPPROVAL approval abcdefgh27 does not exist",
          HOOP_APPROVAL_ERR_NOAPPROVAL },
        { "DECIDED approval x is denied already (by bob)",
          HOOP_APPROVAL_ERR_DECIDED },
        { "NOTAPPROVER bob may not decide", HOOP_APPROVAL_ERR_NOTAPPROVER },
        { "SELFAPPROVAL bob asked", HOOP_APPROVAL_ERR_SELF },
        { "IDCOLLISION approval x exists", HOOP_APPROVAL_ERR_IDCOLLISION },
        { "NOTACTIVE approval x is pending: it has no grant",
          HOOP_APPROVAL_ERR_NOTACTIVE },
        { "BADARG request: ...", HOOP_APPROVAL_ERR_BADARG },
        { "BADARGS x", HOOP_APPROVAL_ERR_REPLY },
        { "ERR Error running script", HOOP_APPROVAL_ERR_REPLY },
        { "", HOOP_APPROVAL_ERR_REPLY },
        { NULL, HOOP_APPROVAL_OK }
    };
    int  i;

    (void) state;

    r = reply_array("pending", "abcdefgh27", 1, 1800000, "");
    assert_int_equal(hoop_approval_reply_parse(r, &rep), HOOP_APPROVAL_OK);
    assert_int_equal(rep.state, HOOP_APPROVAL_PENDING);
    assert_string_equal(rep.id, "abcdefgh27");
    assert_int_equal(rep.flag, 1);
    assert_int_equal(rep.ms, 1800000);
    assert_int_equal(rep.detail.len, 0);
    reply_free(r);

    r = reply_array("denied", "abcdefgh27", 0, 42000, "not today");
    assert_int_equal(hoop_approval_reply_parse(r, &rep), HOOP_APPROVAL_OK);
    assert_int_equal(rep.state, HOOP_APPROVAL_DENIED);
    assert_int_equal(rep.detail.len, 9);
    assert_memory_equal(rep.detail.data, "not today", 9);
    assert_string_equal(hoop_approval_state_name(rep.state), "denied");
    reply_free(r);

    r = reply_array("granted", "abcdefgh27", 0, 5, "");
    assert_int_equal(hoop_approval_reply_parse(r, &rep), HOOP_APPROVAL_OK);
    assert_int_equal(rep.state, HOOP_APPROVAL_GRANTED);
    reply_free(r);

    r = reply_array("revoked", "abcdefgh27", 0, 0, "carol");
    assert_int_equal(hoop_approval_reply_parse(r, &rep), HOOP_APPROVAL_OK);
    assert_int_equal(rep.state, HOOP_APPROVAL_REVOKED);
    assert_int_equal(rep.detail.len, 5);
    assert_string_equal(hoop_approval_state_name(rep.state), "revoked");
    reply_free(r);

    /* not the script's shape */

    r = reply_array("maybe", "abcdefgh27", 0, 5, "");
    assert_int_equal(hoop_approval_reply_parse(r, &rep),
                     HOOP_APPROVAL_ERR_REPLY);
    assert_int_equal(rep.state, HOOP_APPROVAL_NONE);
    reply_free(r);

    r = reply_array("pending", "abcdefgh2", 0, 5, "");
    assert_int_equal(hoop_approval_reply_parse(r, &rep),
                     HOOP_APPROVAL_ERR_REPLY);
    reply_free(r);

    r = reply_array("pending", "abcdefgh27", 0, -5, "");
    assert_int_equal(hoop_approval_reply_parse(r, &rep),
                     HOOP_APPROVAL_ERR_REPLY);
    reply_free(r);

    r = reply_array("pending", "abcdefgh27", 0, 5, "");
    r->elements = 4;
    assert_int_equal(hoop_approval_reply_parse(r, &rep),
                     HOOP_APPROVAL_ERR_REPLY);
    r->elements = 5;
    r->element[3]->type = REDIS_REPLY_STRING;
    r->element[3]->str = strdup("5");
    r->element[3]->len = 1;
    assert_int_equal(hoop_approval_reply_parse(r, &rep),
                     HOOP_APPROVAL_ERR_REPLY);
    reply_free(r);

    assert_int_equal(hoop_approval_reply_parse(NULL, &rep),
                     HOOP_APPROVAL_ERR_REPLY);

    for (i = 0; errors[i].text; i++) {
        r = calloc(1, sizeof(redisReply));
        r->type = REDIS_REPLY_ERROR;
        r->str = strdup(errors[i].text);
        r->len = strlen(r->str);

        assert_int_equal(hoop_approval_reply_parse(r, &rep), errors[i].err);
        assert_int_equal(rep.message.len, strlen(errors[i].text));
        assert_int_equal(rep.state, HOOP_APPROVAL_NONE);

        reply_free(r);
    }
}


#define NOTICE(text, n)  hoop_approval_notice_parse(text, strlen(text), n)


static void
test_notices(void **state)
{
    hoop_approval_notice_t  n;
    char                    big[1200];
    size_t                  i;

    (void) state;

    static const char  requested[] =
        "{\"v\":1,\"event\":\"requested\",\"id\":\"abcdefgh27\","
        "\"state\":\"pending\",\"principal\":\"ann\",\"groups\":[],"
        "\"resource_type\":\"topic\",\"resource\":\"prod.orders\","
        "\"operation\":\"write\",\"rule\":\"prod-writes\","
        "\"approvers\":[\"Group:sre\"],\"allow_self_approval\":false,"
        "\"created_ms\":1796585391778,\"expires_ms\":1796585991778,"
        "\"grant_ms\":3600000,\"requests\":1}";

    assert_int_equal(hoop_approval_notice_parse(requested,
                                                strlen(requested), &n), 0);
    assert_int_equal(n.event, HOOP_APPROVAL_PENDING);
    assert_string_equal(n.id, "abcdefgh27");
    assert_int_equal(n.grant_until_ms, 0);

    assert_int_equal(NOTICE(
        "{\"v\":1,\"event\":\"approved\",\"id\":\"abcdefgh27\","
        "\"grant_until_ms\":1796588991803,\"reason\":\"ok\"}", &n), 0);
    assert_int_equal(n.event, HOOP_APPROVAL_APPROVED);
    assert_int_equal(n.grant_until_ms, 1796588991803LL);
    assert_string_equal(n.reason, "");

    assert_int_equal(NOTICE(
        "{\"v\":1,\"event\":\"denied\",\"id\":\"abcdefgh27\","
        "\"reason\":\"not in a freeze\"}", &n), 0);
    assert_int_equal(n.event, HOOP_APPROVAL_DENIED);
    assert_string_equal(n.reason, "not in a freeze");

    assert_int_equal(NOTICE(
        "{\"v\":1,\"event\":\"expired\",\"id\":\"abcdefgh27\"}", &n), 0);
    assert_int_equal(n.event, HOOP_APPROVAL_EXPIRED);

    /* a long reason is cut, not inside a UTF-8 sequence */

    strcpy(big, "{\"v\":1,\"event\":\"denied\",\"id\":\"abcdefgh27\","
                "\"reason\":\"a");
    for (i = strlen(big); i < 1100; i += 2) {
        big[i] = '\xc3';
        big[i + 1] = '\xa9';
    }
    strcpy(big + i, "\"}");
    assert_int_equal(hoop_approval_notice_parse(big, strlen(big), &n), 0);
    assert_int_equal(strlen(n.reason), 255);
    assert_int_equal((unsigned char) n.reason[254], 0xa9);

    /* not notices */

    assert_int_equal(hoop_approval_notice_parse("", 0, &n), -1);
    assert_int_equal(hoop_approval_notice_parse(NULL, 5, &n), -1);
    assert_int_equal(hoop_approval_notice_parse("{", 1, &n), -1);
    assert_int_equal(hoop_approval_notice_parse("[]", 2, &n), -1);
    assert_int_equal(NOTICE(
        "{\"version\":3,\"sha256\":\"x\"}", &n), -1);
    assert_int_equal(NOTICE(
        "{\"v\":2,\"event\":\"expired\",\"id\":\"abcdefgh27\"}", &n), -1);
    assert_int_equal(NOTICE(
        "{\"v\":1,\"event\":\"joined\",\"id\":\"abcdefgh27\"}", &n), -1);
    assert_int_equal(NOTICE(
        "{\"v\":1,\"event\":\"expired\",\"id\":\"abcdefgh28\"}", &n), -1);
    assert_int_equal(NOTICE(
        "{\"v\":1,\"event\":\"expired\",\"id\":\"a\",\"id\":\"b\"}", &n),
        -1);
    assert_int_equal(n.event, HOOP_APPROVAL_NONE);
    assert_string_equal(n.id, "");
}


static void
test_kafka_answer(void **state)
{
    char    buf[64];
    size_t  n;

    (void) state;

    /* undecided: retriable */

    assert_int_equal(hoop_approval_kafka_error(0, 11, HOOP_POLICY_RES_TOPIC,
                                               0), 7);
    assert_int_equal(hoop_approval_kafka_error(1, 17, HOOP_POLICY_RES_TOPIC,
                                               0), 6);
    assert_int_equal(hoop_approval_kafka_error(21, 2, HOOP_POLICY_RES_TOPIC,
                                               0), 7);
    assert_int_equal(hoop_approval_kafka_error(19, 7, HOOP_POLICY_RES_TOPIC,
                                               0), 89);
    assert_int_equal(hoop_approval_kafka_error(19, 5, HOOP_POLICY_RES_TOPIC,
                                               0), 7);
    assert_int_equal(hoop_approval_kafka_error(20, 5, HOOP_POLICY_RES_TOPIC,
                                               0), 89);
    assert_int_equal(hoop_approval_kafka_error(20, 4, HOOP_POLICY_RES_TOPIC,
                                               0), 7);
    assert_int_equal(hoop_approval_kafka_error(37, 3, HOOP_POLICY_RES_TOPIC,
                                               0), 89);
    assert_int_equal(hoop_approval_kafka_error(42, 2, HOOP_POLICY_RES_GROUP,
                                               0), 14);
    assert_int_equal(hoop_approval_kafka_error(26, 4,
                                     HOOP_POLICY_RES_TRANSACTIONAL_ID, 0), 14);
    assert_int_equal(hoop_approval_kafka_error(44, 1, HOOP_POLICY_RES_TOPIC,
                                               0), 7);

    /* denied: the authorization error of the type */

    assert_int_equal(hoop_approval_kafka_error(0, 11, HOOP_POLICY_RES_TOPIC,
                                               1), 29);
    assert_int_equal(hoop_approval_kafka_error(42, 2, HOOP_POLICY_RES_GROUP,
                                               1), 30);
    assert_int_equal(hoop_approval_kafka_error(44, 1,
                                               HOOP_POLICY_RES_CLUSTER, 1),
                     31);
    assert_int_equal(hoop_approval_kafka_error(26, 4,
                                     HOOP_POLICY_RES_TRANSACTIONAL_ID, 1), 53);
    assert_int_equal(hoop_approval_kafka_error(38, 3, HOOP_POLICY_RES_USER,
                                               1), 65);

    n = hoop_approval_kafka_message(buf, sizeof(buf), HOOP_APPROVAL_DENIED,
                                    "abcdefgh27", S("freeze"));
    assert_string_equal(buf, "denied by approval abcdefgh27: freeze");
    assert_int_equal(n, strlen(buf));

    n = hoop_approval_kafka_message(buf, sizeof(buf), HOOP_APPROVAL_PENDING,
                                    "abcdefgh27", S(NULL));
    assert_int_equal(n, sizeof(buf) - 1);
    assert_int_equal(strncmp(buf, "approval abcdefgh27 pending: ", 29), 0);

    /* cut short before a UTF-8 sequence */

    n = hoop_approval_kafka_message(buf, 34, HOOP_APPROVAL_DENIED,
                                    "abcdefgh27", S("ab\xc3\xa9"));
    assert_string_equal(buf, "denied by approval abcdefgh27: ab");
    assert_int_equal(n, 33);
}


/* ----------------------------------------------------------------------
 * The embedded script
 */

static void
test_script_header(void **state)
{
    char           *text, hex[41];
    size_t          len, i, slen;
    unsigned int    n;
    const char     *s;
    unsigned char   md[EVP_MAX_MD_SIZE];

    (void) state;

    text = read_file(HOOP_SRC_DIR "/approval/hoop_approval.lua", &len);
    assert_non_null(text);

    s = hoop_approval_script(&slen);
    assert_int_equal(slen, sizeof(hoop_approval_lua) - 1);
    assert_memory_equal(s, hoop_approval_lua, slen);

    if (len != slen || memcmp(text, s, len) != 0) {
        free(text);
        fail_msg("src/approval/hoop_approval_lua.h is not "
                 "src/approval/hoop_approval.lua: run tools/embed-lua");
    }

    free(text);

    assert_int_equal(EVP_Digest(s, slen, md, &n, EVP_sha1(), NULL), 1);
    assert_int_equal(n, 20);

    for (i = 0; i < n; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }

    assert_string_equal(hex, HOOP_APPROVAL_LUA_SHA1);
    assert_string_equal(hoop_approval_script_sha1(), hex);

    /* what Redis hashes is what the file holds: ASCII, "\n" lines */

    assert_true(slen > 1000);
    assert_int_equal(s[slen - 1], '\n');

    for (i = 0; i < slen; i++) {
        assert_true(s[i] == '\n' || s[i] == '\t'
                    || (s[i] >= 0x20 && s[i] < 0x7f));
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_compile_values),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_diagnostics),
        cmocka_unit_test(test_decisions),
        cmocka_unit_test(test_hosts_and_any),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_approver_check),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_cmd_request),
        cmocka_unit_test(test_cmd_others),
        cmocka_unit_test(test_cmd_audit),
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_notices),
        cmocka_unit_test(test_kafka_answer),
        cmocka_unit_test(test_script_header),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
