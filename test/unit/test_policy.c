/*
 * Unit tests of src/policy (the policy language, its compiler and its
 * evaluator), with cmocka:
 *
 *   - parser: YAML and JSON give the same policy; every diagnostic, with
 *     its code, line and column; the examples in policy-examples/ are
 *     lint-clean
 *   - evaluator: each rule of Kafka's StandardAuthorizer (implied
 *     operations, deny precedence, wildcard, prefix), our extensions
 *     (regex, groups, CIDR hosts, validity windows), check_any (Kafka's
 *     authorizeByResourceType) and authorized_ops
 *   - introspection: rules by id, canonical JSON stable across source
 *     order and format, SHA-256
 *   - a randomized differential test of the indexed evaluator against the
 *     naive linear evaluator written here from Kafka's rules
 *
 * Run: make -C test/unit check-policy (check-policy-asan under ASan and
 * UBSan).  "test_policy --lint [--now SECONDS] FILE..." prints the
 * diagnostics of files instead (policy-examples/check-schema.py uses it to
 * keep docs/policy-schema.json and the compiler in step).
 *
 * Environment: POLICY_EXAMPLES (default ../../policy-examples),
 * POLICY_SEED (seed of the differential test), POLICY_ROUNDS.
 */

#define _GNU_SOURCE

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <openssl/evp.h>

#define PCRE2_CODE_UNIT_WIDTH  8
#include <pcre2.h>

#include "hoop_policy.h"


#define NOW          1796083200     /* 2026-12-01T00:00:00Z */
#define T2026        1767225600     /* 2026-01-01T00:00:00Z */
#define END2026      1798761599     /* 2026-12-31T23:59:59Z */
#define MAXD         64

#define OP(x)        HOOP_POLICY_OP_ ## x
#define RES(x)       HOOP_POLICY_RES_ ## x
#define BIT(x)       HOOP_POLICY_OP_BIT(HOOP_POLICY_OP_ ## x)


/* a grant of the usual shape, with review metadata */
#define REVIEW                                                                \
    "    reviewed_by: carol\n"                                                \
    "    reviewed_at: 2026-11-01\n"                                           \
    "    reason: test\n"


static hoop_policy_diag_t  diags[MAXD];
static size_t              ndiags;


static hoop_policy_t *
compile_at(const char *text, int64_t now)
{
    hoop_policy_options_t  o;

    memset(&o, 0, sizeof(o));
    o.now = now;

    return hoop_policy_compile_ex(text, strlen(text), &o, diags, MAXD,
                                  &ndiags);
}


static void
print_diags(const char *what)
{
    size_t  i;
    char    line[512];

    for (i = 0; i < ndiags && i < MAXD; i++) {
        hoop_policy_diag_format(&diags[i], what, line, sizeof(line));
        print_message("  %s (%s)\n", line, diags[i].path);
    }
}


/* compiles with no error and no warning */
static hoop_policy_t *
compile_clean(const char *text)
{
    hoop_policy_t  *p;

    p = compile_at(text, NOW);
    if (p == NULL || ndiags != 0) {
        print_diags("policy");
    }

    assert_non_null(p);
    assert_int_equal(ndiags, 0);

    return p;
}


/* compiles (warnings allowed) */
static hoop_policy_t *
compile_ok(const char *text)
{
    hoop_policy_t  *p;

    p = compile_at(text, NOW);
    if (p == NULL) {
        print_diags("policy");
    }

    assert_non_null(p);

    return p;
}


static const hoop_policy_diag_t *
find_diag(const char *code)
{
    size_t  i;

    for (i = 0; i < ndiags && i < MAXD; i++) {
        if (strcmp(diags[i].code, code) == 0) {
            return &diags[i];
        }
    }

    return NULL;
}


/*
 * One check.  groups: comma-separated names or NULL; addr: text or NULL;
 * user NULL: unauthenticated.
 */
static int
ck(const hoop_policy_t *p, const char *user, const char *groups,
    const char *addr, hoop_policy_res_t type, const char *name,
    hoop_policy_op_t op, int64_t now, hoop_policy_decision_t *d)
{
    size_t                  n;
    const char             *s, *e;
    hoop_policy_str_t       g[16];
    hoop_policy_addr_t      a;
    hoop_policy_request_t   r;
    hoop_policy_decision_t  tmp;

    memset(&r, 0, sizeof(r));

    r.principal.data = user;
    r.principal.len = user ? strlen(user) : 0;

    n = 0;
    for (s = groups; s && *s && n < 16; s = *e ? e + 1 : e) {
        e = strchr(s, ',');
        if (e == NULL) {
            e = s + strlen(s);
        }
        g[n].data = s;
        g[n].len = (size_t) (e - s);
        n++;
    }

    r.groups = n ? g : NULL;
    r.ngroups = n;

    if (addr) {
        assert_int_equal(hoop_policy_addr_parse(&a, addr, strlen(addr)), 0);
        r.addr = &a;
    }

    r.resource = type;
    r.name.data = name;
    r.name.len = name ? strlen(name) : 0;
    r.op = op;
    r.now = now;

    return hoop_policy_check(p, &r, d ? d : &tmp);
}


#define ALLOW(p, u, g, t, n, o)                                               \
    assert_int_equal(ck(p, u, g, NULL, t, n, o, NOW, NULL), 1)
#define DENY(p, u, g, t, n, o)                                                \
    assert_int_equal(ck(p, u, g, NULL, t, n, o, NOW, NULL), 0)


static char *
read_file(const char *path, size_t *len)
{
    FILE   *f;
    char   *buf;
    long    n;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);

    buf = malloc((size_t) n + 1);
    if (buf && fread(buf, 1, (size_t) n, f) != (size_t) n) {
        free(buf);
        buf = NULL;
    }

    fclose(f);

    if (buf) {
        buf[n] = '\0';
        *len = (size_t) n;
    }

    return buf;
}


/* ======================================================================
 * Parser
 */

static const char  *yaml_doc =
    "# the same policy in YAML ...\n"
    "policy_version: 1\n"
    "default: deny\n"
    "description: equivalence\n"
    "grants:\n"
    "  - id: readers\n"
    "    principals: [ \"User:alice\", \"Group:payments\" ]\n"
    "    resources:\n"
    "      - { type: topic, name: \"pii.customers\", match: literal }\n"
    "      - { type: group, name: \"pii-\", match: prefix }\n"
    "    operations: [ read, describe ]\n"
    "    hosts: [ \"10.0.0.0/8\", \"::1\" ]\n"
    "    valid_from: 2026-01-01T00:00:00Z\n"
    "    valid_until: 2026-12-31T23:59:59Z\n"
    "    reviewed_by: carol\n"
    "    reviewed_at: 2026-11-01\n"
    "    reason: \"ticket SEC-123\"\n"
    "  - id: apps\n"
    "    principals: [ User:app ]\n"
    "    resources:\n"
    "      - type: topic\n"
    "        name: 'app\\.[a-z]+'\n"
    "        match: regex\n"
    "      - type: cluster\n"
    "    operations: [ write, idempotent_write ]\n"
    "    reviewed_by: dave\n"
    "    reviewed_at: 2026-10-01T12:00:00+02:00\n"
    "    reason: apps\n"
    "denies:\n"
    "  - id: no-mallory\n"
    "    principals: [ \"User:mallory\" ]\n"
    "    resources: [ { type: topic, name: \"*\" } ]\n"
    "    operations: [ all ]\n"
    "masking: { rules: [ { topic: pii, fields: [ \"$.ssn\" ] } ], b: 1.5 }\n";

static const char  *json_doc =
    "{\n"
    "  \"denies\": [ { \"operations\": [\"all\"], \"id\": \"no-mallory\",\n"
    "      \"principals\": [\"User:mallory\"],\n"
    "      \"resources\": [ {\"name\": \"*\", \"type\": \"topic\"} ] } ],\n"
    "  \"masking\": {\"b\": 1.5, \"rules\": [{\"fields\": [\"$.ssn\"],\n"
    "               \"topic\": \"pii\"}]},\n"
    "  \"grants\": [\n"
    "    { \"id\": \"apps\", \"principals\": [\"User:app\"],\n"
    "      \"resources\": [ {\"type\": \"cluster\",\n"
    "                        \"name\": \"kafka-cluster\"},\n"
    "        {\"type\": \"topic\", \"name\": \"app\\\\.[a-z]+\",\n"
    "         \"match\": \"regex\"} ],\n"
    "      \"operations\": [\"idempotent_write\", \"write\"],\n"
    "      \"reviewed_by\": \"dave\",\n"
    "      \"reviewed_at\": \"2026-10-01T10:00:00Z\",\n"
    "      \"reason\": \"apps\" },\n"
    "    { \"id\": \"readers\",\n"
    "      \"principals\": [\"Group:payments\", \"User:alice\"],\n"
    "      \"resources\": [\n"
    "        {\"type\": \"group\", \"name\": \"pii-\",\n"
    "         \"match\": \"prefix\"},\n"
    "        {\"type\": \"topic\", \"name\": \"pii.customers\"} ],\n"
    "      \"operations\": [\"describe\", \"read\"],\n"
    "      \"hosts\": [\"0:0::1\", \"10.0.0.0/8\"],\n"
    "      \"valid_from\": \"2026-01-01\",\n"
    "      \"valid_until\": \"2027-01-01T00:59:59+01:00\",\n"
    "      \"reviewed_by\": \"carol\", \"reviewed_at\": \"2026-11-01\",\n"
    "      \"reason\": \"ticket SEC-123\" }\n"
    "  ],\n"
    "  \"description\": \"equivalence\",\n"
    "  \"policy_version\": 1\n"
    "}\n";


static void
test_yaml_json_equivalence(void **state)
{
    hoop_policy_t  *y, *j, *c;
    size_t          ylen, jlen;
    const char     *yc, *jc;

    (void) state;

    y = compile_ok(yaml_doc);
    assert_int_equal(ndiags, 1);
    j = compile_ok(json_doc);

    /* the reserved section warns in both */
    assert_int_equal(ndiags, 1);
    assert_string_equal(diags[0].code, "reserved-section");

    yc = hoop_policy_canonical(y, &ylen);
    jc = hoop_policy_canonical(j, &jlen);

    if (ylen != jlen || memcmp(yc, jc, ylen) != 0) {
        print_message("YAML:\n%s\nJSON:\n%s\n", yc, jc);
    }

    assert_int_equal(ylen, jlen);
    assert_memory_equal(yc, jc, ylen);
    assert_string_equal(hoop_policy_sha256_hex(y), hoop_policy_sha256_hex(j));
    assert_memory_equal(hoop_policy_sha256(y), hoop_policy_sha256(j), 32);

    /* the canonical form compiles to itself */

    c = compile_ok(yc);
    assert_string_equal(hoop_policy_canonical(c, NULL), yc);
    assert_string_equal(hoop_policy_sha256_hex(c), hoop_policy_sha256_hex(y));

    assert_string_equal(hoop_policy_reserved(y, "masking"),
                        "{\"b\":1.5,\"rules\":[{\"fields\":[\"$.ssn\"],"
                        "\"topic\":\"pii\"}]}");
    assert_null(hoop_policy_reserved(y, "approvals"));
    assert_string_equal(hoop_policy_description(j), "equivalence");

    hoop_policy_free(c);
    hoop_policy_free(j);
    hoop_policy_free(y);
}


static void
test_yaml_positions_and_reserved_warning(void **state)
{
    hoop_policy_t  *p;

    (void) state;

    p = compile_ok(yaml_doc);
    hoop_policy_free(p);

    p = compile_at("policy_version: 1\n"
                   "grants: []\n"
                   "approvals: { holds: [] }\n", NOW);
    assert_non_null(p);
    assert_int_equal(ndiags, 2);
    assert_string_equal(diags[0].code, "no-grants");
    assert_int_equal(diags[0].line, 2);
    assert_int_equal(diags[0].column, 9);
    assert_string_equal(diags[1].code, "reserved-section");
    assert_int_equal(diags[1].line, 3);
    assert_int_equal(diags[1].column, 1);
    assert_string_equal(diags[1].path, "/approvals");
    assert_string_equal(hoop_policy_reserved(p, "approvals"),
                        "{\"holds\":[]}");
    hoop_policy_free(p);
}


/*
 * Every diagnostic: the document, the code expected, its severity, line
 * and column (0 0: not checked), and the JSON Pointer.
 */
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

#define G1 "policy_version: 1\ngrants:\n  - id: g\n"

static const diag_case_t  diag_cases[] = {

    /* syntax and document shape */

    { "policy_version: 1\ngrants: [ { id: x }\n", "syntax", E, 3, 1, "" },
    { "policy_version: 1\n  grants: 2\n", "syntax", E, 2, 9, "" },
    { "{ \"policy_version\": 1,\n  \"grants\": [], }\n", "syntax", E, 2, 17,
      "" },
    { "{ \"policy_version\": 1,\n  \"grants\": [],\n  \"grants\": [] }\n",
      "duplicate-key", E, 3, 10, "" },
    { "policy_version: 1\ngrants: []\ngrants: []\n", "duplicate-key", E, 3, 1,
      "" },
    { "policy_version: 1\ngrants:\n  - &a { id: x }\n  - *a\n",
      "yaml-alias", E, 4, 5, "" },
    { "policy_version: !!int 1\ngrants: []\n", "yaml-tag", E, 1, 17, "" },
    { "policy_version: 1\ngrants: []\n---\npolicy_version: 1\n", "syntax", E,
      3, 1, "" },
    { "", "syntax", E, 0, 0, "" },
    { "# only a comment\n", "syntax", E, 0, 0, "" },
    { "policy_version: 1\ngrants: []\nmasking: [[[[[[[[[[[[[[[[[[[[[[[[[[["
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"
      "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
      "too-deep", E, 3, 73, "" },
    { "- policy_version: 1\n", "type", E, 1, 1, "" },
    { "{ \"policy_version\": 1, \"grants\": [],\n  \"allow\": true }\n",
      "unknown-key", E, 2, 3, "/allow" },

    /* top level */

    { "grants: []\n", "missing-key", E, 1, 1, "" },
    { "policy_version: 2\ngrants: []\n", "unsupported-version", E, 1, 17,
      "/policy_version" },
    { "policy_version: \"1\"\ngrants: []\n", "type", E, 1, 17,
      "/policy_version" },
    { "policy_version: 1\ndefault: allow\ngrants: []\n", "default-not-deny",
      E, 2, 10, "/default" },
    { "policy_version: 1\n", "missing-key", E, 1, 1, "" },
    { "policy_version: 1\ngrants: { id: x }\n", "type", E, 2, 9, "/grants" },
    { "policy_version: 1\ngrants: []\ndenies: 3\n", "type", E, 3, 9,
      "/denies" },
    { "policy_version: 1\ngrants: [ x ]\n", "type", E, 2, 11, "/grants/0" },

    /* rule keys */

    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW
      "    expires: 2027-01-01\n", "unknown-key", E, 10, 5,
      "/grants/0/expires" },
    { "policy_version: 1\ngrants:\n  - principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW, "missing-key", E, 3, 5,
      "/grants/0" },
    { "policy_version: 1\ngrants:\n  - id: -x\n"
      "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW, "bad-id", E, 3, 9,
      "/grants/0/id" },
    { "policy_version: 1\ngrants:\n  - id: 42\n"
      "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW, "type", E, 3, 9, "/grants/0/id" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW
      "denies:\n  - id: g\n    principals: [ \"User:b\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n", "duplicate-id", E, 11, 5, "/denies/0" },

    /* principals */

    { G1 "    principals: [ \"Usr:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW, "bad-principal", E, 4, 19,
      "/grants/0/principals/0" },
    { G1 "    principals: [ \"User:a\", \"Group:*\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW, "bad-principal", E, 4, 29,
      "/grants/0/principals/1" },
    { G1 "    principals: [ \"User:\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW, "bad-principal", E, 4, 19,
      "/grants/0/principals/0" },
    { G1 "    principals: []\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW, "empty", E, 4, 17,
      "/grants/0/principals" },
    { G1 "    principals: User:a\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW, "type", E, 4, 17,
      "/grants/0/principals" },

    /* resources */

    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: queue, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW, "bad-resource-type", E, 5, 26,
      "/grants/0/resources/0/type" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t, match: glob } ]\n"
      "    operations: [ read ]\n" REVIEW, "bad-match", E, 5, 49,
      "/grants/0/resources/0/match" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic } ]\n"
      "    operations: [ read ]\n" REVIEW, "missing-key", E, 5, 18,
      "/grants/0/resources/0" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, nam: t } ]\n"
      "    operations: [ read ]\n" REVIEW, "unknown-key", E, 5, 33,
      "/grants/0/resources/0/nam" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: cluster, name: prod } ]\n"
      "    operations: [ alter ]\n" REVIEW, "cluster-name", E, 5, 41,
      "/grants/0/resources/0/name" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: \"a(b\", match: regex } ]\n"
      "    operations: [ read ]\n" REVIEW, "bad-regex", E, 5, 39,
      "/grants/0/resources/0/name" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: \"\" } ]\n"
      "    operations: [ read ]\n" REVIEW, "empty", E, 5, 39,
      "/grants/0/resources/0/name" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: \"a\\tb\" } ]\n"
      "    operations: [ read ]\n" REVIEW, "control-char", E, 5, 39,
      "/grants/0/resources/0/name" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: 12 } ]\n"
      "    operations: [ read ]\n" REVIEW, "type", E, 5, 39,
      "/grants/0/resources/0/name" },

    /* operations */

    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read, READ ]\n" REVIEW, "bad-operation", E, 6, 25,
      "/grants/0/operations/1" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: group, name: g } ]\n"
      "    operations: [ read, write ]\n" REVIEW,
      "operation-not-applicable", E, 6, 25, "/grants/0/operations/1" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ idempotent_write ]\n" REVIEW,
      "operation-not-applicable", E, 6, 19, "/grants/0/operations/0" },

    /* hosts */

    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    hosts: [ \"*\", \"db.example.com\" ]\n" REVIEW, "bad-host", E,
      7, 19, "/grants/0/hosts/1" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    hosts: [ \"10.1.2.3/8\" ]\n" REVIEW, "host-bits", E, 7, 14,
      "/grants/0/hosts/0" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    hosts: [ \"2001:db8::/129\" ]\n" REVIEW, "bad-host", E, 7, 14,
      "/grants/0/hosts/0" },

    /* validity and review */

    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    valid_from: tomorrow\n" REVIEW, "bad-time", E, 7, 17,
      "/grants/0/valid_from" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    valid_until: 2026-02-30\n" REVIEW, "bad-time", E, 7, 18,
      "/grants/0/valid_until" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    valid_from: 2026-06-01\n"
      "    valid_until: 2026-05-31T23:59:59Z\n" REVIEW, "window-order", E,
      8, 18, "/grants/0/valid_until" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    reviewed_by: carol\n"
      "    reviewed_at: 2026-11-01\n", "missing-review", E, 3, 5,
      "/grants/0" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    reviewed_by: carol\n"
      "    reviewed_at: last week\n"
      "    reason: x\n", "bad-time", E, 8, 18, "/grants/0/reviewed_at" },

    /* session recording */

    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    record: everything\n" REVIEW, "bad-record", E, 7, 13,
      "/grants/0/record" },

    /* warnings */

    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    valid_until: 2026-12-10\n" REVIEW, "expiring", W, 3, 5,
      "/grants/0" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    valid_until: 2026-11-30T23:59:59Z\n" REVIEW, "expired", W, 3, 5,
      "/grants/0" },
    { "policy_version: 1\ngrants: []\n"
      "denies:\n  - id: d\n    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    valid_until: 2026-12-02\n", "expiring", W, 4, 5, "/denies/0" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: \"orders.eu\" } ]\n"
      "    operations: [ read ]\n" REVIEW
      "  - id: h\n    principals: [ \"Group:x\", \"User:a\" ]\n"
      "    resources: [ { type: topic, name: orders., match: prefix } ]\n"
      "    operations: [ read, write ]\n" REVIEW, "overlap", W, 5, 18,
      "/grants/0" },
    { G1 "    principals: [ \"User:*\" ]\n"
      "    resources: [ { type: topic, name: \"*\" } ]\n"
      "    operations: [ describe ]\n" REVIEW, "broad-grant", W, 5, 18,
      "/grants/0" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: \"orders/eu\" } ]\n"
      "    operations: [ read ]\n" REVIEW, "invalid-topic-name", W, 5, 39,
      "/grants/0/resources/0/name" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: group, name: \"*\", match: prefix } ]\n"
      "    operations: [ read ]\n" REVIEW, "prefix-star", W, 5, 39,
      "/grants/0/resources/0/name" },
    { G1 "    principals: [ \"User:a\", \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n" REVIEW, "duplicate-entry", W, 4, 17,
      "/grants/0/principals" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read, all ]\n" REVIEW, "all-covers", W, 6, 17,
      "/grants/0/operations" },
    { G1 "    principals: [ \"User:a\" ]\n"
      "    resources: [ { type: topic, name: t } ]\n"
      "    operations: [ read ]\n"
      "    reviewed_by: carol\n"
      "    reviewed_at: 2027-01-01\n"
      "    reason: x\n", "review-in-future", W, 8, 18,
      "/grants/0/reviewed_at" },
    { "policy_version: 1\ngrants: []\n", "no-grants", W, 2, 9, "/grants" },
    { "policy_version: 1\ngrants: []\nmasking: {}\n", "reserved-section",
      W, 3, 1, "/masking" },
};


static void
test_diagnostics(void **state)
{
    size_t                     i, bad;
    hoop_policy_t             *p;
    const hoop_policy_diag_t  *d;
    const diag_case_t         *c;

    (void) state;

    bad = 0;

    for (i = 0; i < sizeof(diag_cases) / sizeof(diag_cases[0]); i++) {
        c = &diag_cases[i];
        p = compile_at(c->doc, NOW);
        d = find_diag(c->code);

        if (d == NULL || d->severity != c->sev
            || (c->line && (d->line != c->line || d->column != c->column))
            || strcmp(d->path, c->path) != 0
            || (c->sev == E) != (p == NULL)
            || d->message[0] == '\0')
        {
            print_message("case %zu: want %s at %u:%u %s\n", i, c->code,
                          c->line, c->column, c->path);
            print_diags("case");
            bad++;
        }

        hoop_policy_free(p);
    }

    assert_int_equal(bad, 0);
}


static void
test_diagnostic_counts(void **state)
{
    size_t          i, n, l;
    hoop_policy_t  *p;
    char           *big;

    (void) state;

    /* all three review keys reported, each once */

    p = compile_at(G1 "    principals: [ \"User:a\" ]\n"
                   "    resources: [ { type: topic, name: t } ]\n"
                   "    operations: [ read ]\n", NOW);
    assert_null(p);
    for (n = 0, i = 0; i < ndiags; i++) {
        n += strcmp(diags[i].code, "missing-review") == 0;
    }
    assert_int_equal(n, 3);

    /* ndiags counts beyond the room given */

    p = hoop_policy_compile("policy_version: 3\ndefault: x\nfoo: 1\n",
                            36, diags, 1, &ndiags);
    assert_null(p);
    assert_int_equal(ndiags, 4);

    p = hoop_policy_compile("policy_version: 3\n", 18, NULL, 0, &ndiags);
    assert_null(p);
    assert_int_equal(ndiags, 2);

    /* too large */

    n = HOOP_POLICY_MAX_TEXT + 1;
    big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    p = hoop_policy_compile(big, n, diags, MAXD, &ndiags);
    assert_null(p);
    assert_string_equal(diags[0].code, "too-large");
    free(big);

    /* too many rules: refused before they are read */

    n = 64 + (size_t) (HOOP_POLICY_MAX_RULES + 1) * 3;
    big = malloc(n);
    assert_non_null(big);
    l = (size_t) sprintf(big, "{\"policy_version\": 1, \"grants\": [");
    for (i = 0; i <= HOOP_POLICY_MAX_RULES; i++) {
        memcpy(big + l, i ? ",{}" : "{}", i ? 3 : 2);
        l += i ? 3 : 2;
    }
    memcpy(big + l, "]}", 2);
    l += 2;
    p = hoop_policy_compile(big, l, diags, MAXD, &ndiags);
    assert_null(p);
    assert_int_equal(ndiags, 1);
    assert_string_equal(diags[0].code, "too-many");
    assert_string_equal(diags[0].path, "/grants");
    free(big);

    /* a name longer than HOOP_POLICY_MAX_NAME */

    big = malloc(HOOP_POLICY_MAX_NAME + 512);
    assert_non_null(big);
    l = (size_t) sprintf(big, "policy_version: 1\ngrants:\n  - id: g\n"
                         "    principals: [ \"User:a\" ]\n"
                         "    resources: [ { type: group, name: ");
    memset(big + l, 'x', HOOP_POLICY_MAX_NAME + 1);
    l += HOOP_POLICY_MAX_NAME + 1;
    sprintf(big + l, " } ]\n    operations: [ read ]\n" REVIEW);
    p = compile_at(big, NOW);
    assert_null(p);
    assert_non_null(find_diag("too-long"));
    assert_int_equal(find_diag("too-long")->line, 5);
    assert_int_equal(find_diag("too-long")->column, 39);
    free(big);

    /* errors of several rules, sorted by position */

    p = compile_at("policy_version: 1\ngrants:\n"
                   "  - { id: a, principals: [x], resources: [],"
                   " operations: [ read ] }\n"
                   "  - { id: b }\n", NOW);
    assert_null(p);
    for (i = 1; i < ndiags && i < MAXD; i++) {
        assert_true(diags[i - 1].line < diags[i].line
                    || (diags[i - 1].line == diags[i].line
                        && diags[i - 1].column <= diags[i].column));
    }
}


/* the examples shipped in policy-examples/ are lint-clean */
static void
test_examples(void **state)
{
    DIR            *dir;
    struct dirent  *de;
    const char     *base;
    char            path[1024];
    char           *text;
    size_t          len, n, l;
    hoop_policy_t  *p;
    hoop_policy_options_t  o;

    (void) state;

    base = getenv("POLICY_EXAMPLES");
    if (base == NULL) {
        base = "../../policy-examples";
    }

    dir = opendir(base);
    assert_non_null(dir);

    memset(&o, 0, sizeof(o));
    o.now = NOW;
    n = 0;

    while ((de = readdir(dir)) != NULL) {
        l = strlen(de->d_name);
        if (!(l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0)
            && !(l > 5 && strcmp(de->d_name + l - 5, ".json") == 0))
        {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
        text = read_file(path, &len);
        assert_non_null(text);

        p = hoop_policy_compile_ex(text, len, &o, diags, MAXD, &ndiags);
        if (p == NULL || ndiags) {
            print_diags(path);
        }
        assert_non_null(p);
        assert_int_equal(ndiags, 0);

        /* canonical round trip */
        {
            hoop_policy_t  *c;

            c = hoop_policy_compile_ex(hoop_policy_canonical(p, NULL),
                                       strlen(hoop_policy_canonical(p, NULL)),
                                       &o, diags, MAXD, &ndiags);
            assert_non_null(c);
            assert_string_equal(hoop_policy_sha256_hex(c),
                                hoop_policy_sha256_hex(p));
            hoop_policy_free(c);
        }

        hoop_policy_free(p);
        free(text);
        n++;
    }

    closedir(dir);

    assert_true(n >= 6);
}


static hoop_policy_t *
compile_file(const char *name)
{
    const char     *base;
    char            path[1024];
    char           *text;
    size_t          len;
    hoop_policy_t  *p;
    hoop_policy_options_t  o;

    base = getenv("POLICY_EXAMPLES");
    if (base == NULL) {
        base = "../../policy-examples";
    }

    snprintf(path, sizeof(path), "%s/%s", base, name);
    text = read_file(path, &len);
    assert_non_null(text);

    memset(&o, 0, sizeof(o));
    o.now = NOW;

    p = hoop_policy_compile_ex(text, len, &o, diags, MAXD, &ndiags);
    free(text);
    assert_non_null(p);

    return p;
}


static void
test_examples_semantics(void **state)
{
    hoop_policy_t           *p, *j;
    hoop_policy_decision_t   d;

    (void) state;

    p = compile_file("pii-topic-group.yaml");
    ALLOW(p, "ann", "pii-analysts", RES(TOPIC), "pii.customers", OP(READ));
    ALLOW(p, "ann", "pii-analysts", RES(TOPIC), "pii.customers",
          OP(DESCRIBE));
    ALLOW(p, "ann", "pii-analysts", RES(GROUP), "pii-analytics-daily",
          OP(READ));
    DENY(p, "ann", "pii-analysts", RES(TOPIC), "pii.customers", OP(WRITE));
    DENY(p, "ann", "pii-analysts", RES(TOPIC), "pii.orders", OP(READ));
    DENY(p, "bob", NULL, RES(TOPIC), "pii.customers", OP(READ));
    assert_int_equal(ck(p, "ann", "pii-analysts,contractors", NULL,
                        RES(TOPIC), "pii.customers", OP(READ), NOW, &d), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_DENY);
    assert_string_equal(d.rule_id, "pii-no-contractors");
    hoop_policy_free(p);

    p = compile_file("service-account-prefix.yaml");
    assert_int_equal(ck(p, "svc-orders", NULL, "10.20.3.4", RES(TOPIC),
                        "orders.eu", OP(WRITE), NOW, NULL), 1);
    assert_int_equal(ck(p, "svc-orders", NULL, "2001:db8:20::7", RES(TOPIC),
                        "orders.eu", OP(DESCRIBE), NOW, NULL), 1);
    assert_int_equal(ck(p, "svc-orders", NULL, "10.21.0.1", RES(TOPIC),
                        "orders.eu", OP(WRITE), NOW, NULL), 0);
    assert_int_equal(ck(p, "svc-orders", NULL, NULL, RES(TOPIC),
                        "orders.eu", OP(WRITE), NOW, NULL), 0);
    assert_int_equal(ck(p, "svc-orders", NULL, "10.20.3.4", RES(CLUSTER),
                        "kafka-cluster", OP(IDEMPOTENT_WRITE), NOW, NULL), 1);
    assert_int_equal(ck(p, "svc-orders", NULL, "10.20.3.4", RES(TOPIC),
                        "orders.eu", OP(READ), NOW, NULL), 0);
    hoop_policy_free(p);

    p = compile_file("contractor-timeboxed.yaml");
    ALLOW(p, "dana@acme-analytics.example", NULL, RES(TOPIC), "analytics.x",
          OP(READ));
    /* valid_from 2026-11-16T09:00:00+01:00 = 08:00:00Z */
    assert_int_equal(ck(p, "dana@acme-analytics.example", NULL, NULL,
                        RES(TOPIC), "analytics.x", OP(READ),
                        1794816000 - 1, &d), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_NOT_YET_VALID);
    assert_int_equal(ck(p, "dana@acme-analytics.example", NULL, NULL,
                        RES(TOPIC), "analytics.x", OP(READ), 1794816000,
                        NULL), 1);
    /* valid_until 2027-06-30 = through 2027-06-30T23:59:59Z */
    assert_int_equal(ck(p, "dana@acme-analytics.example", NULL, NULL,
                        RES(TOPIC), "analytics.x", OP(READ), 1814399999,
                        NULL), 1);
    assert_int_equal(ck(p, "dana@acme-analytics.example", NULL, NULL,
                        RES(TOPIC), "analytics.x", OP(READ), 1814400000,
                        &d), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_EXPIRED);
    assert_string_equal(d.window->id, "contractor-dana-analytics");
    assert_null(d.rule_id);
    hoop_policy_free(p);

    p = compile_file("consumer-app.yaml");
    j = compile_file("consumer-app.json");
    assert_string_equal(hoop_policy_sha256_hex(p), hoop_policy_sha256_hex(j));
    ALLOW(p, "billing-consumer", NULL, RES(TOPIC), "invoices", OP(READ));
    ALLOW(p, "billing-consumer", NULL, RES(GROUP), "billing-consumer",
          OP(READ));
    ALLOW(p, "billing-consumer", NULL, RES(GROUP), "billing-consumer",
          OP(DESCRIBE));
    ALLOW(p, "zoe", "billing-oncall", RES(TOPIC), "invoices", OP(READ));
    DENY(p, "billing-consumer", NULL, RES(TOPIC), "invoices2", OP(READ));
    hoop_policy_free(j);
    hoop_policy_free(p);

    p = compile_file("admin-team.yaml");
    assert_int_equal(ck(p, "ops1", "kafka-admins", "192.0.2.10", RES(TOPIC),
                        "anything", OP(ALTER_CONFIGS), NOW, NULL), 1);
    assert_int_equal(ck(p, "ops1", "kafka-admins", "192.0.2.10", RES(TOPIC),
                        "anything", OP(READ), NOW, NULL), 0);
    assert_int_equal(ck(p, "ops1", "kafka-admins", "192.0.2.12", RES(TOPIC),
                        "anything", OP(DESCRIBE), NOW, NULL), 0);
    assert_int_equal(ck(p, "ops1", "kafka-admins", "::ffff:192.0.2.11",
                        RES(CLUSTER), "kafka-cluster", OP(ALTER), NOW, NULL),
                     1);
    hoop_policy_free(p);

    p = compile_file("transactional-producer.yaml");
    ALLOW(p, "payments-tx", NULL, RES(TRANSACTIONAL_ID), "payments-tx-0",
          OP(WRITE));
    ALLOW(p, "payments-tx", NULL, RES(TRANSACTIONAL_ID), "payments-tx-0",
          OP(DESCRIBE));
    ALLOW(p, "payments-tx", NULL, RES(TOPIC), "payments.ledger", OP(WRITE));
    DENY(p, "payments-tx", NULL, RES(TRANSACTIONAL_ID), "other-tx",
         OP(WRITE));
    hoop_policy_free(p);
}


/* ======================================================================
 * Evaluator semantics
 */

/* the type on which an operation is checked, for the matrix tests */
static hoop_policy_res_t
op_type(hoop_policy_op_t op)
{
    switch (op) {
    case OP(CLUSTER_ACTION):
    case OP(IDEMPOTENT_WRITE):
        return RES(CLUSTER);
    case OP(CREATE_TOKENS):
    case OP(DESCRIBE_TOKENS):
        return RES(USER);
    case OP(TWO_PHASE_COMMIT):
        return RES(TRANSACTIONAL_ID);
    default:
        return RES(TOPIC);
    }
}


/* Kafka: what a grant of g allows (StandardAuthorizerData.findResult) */
static int
kafka_allows(hoop_policy_op_t g, hoop_policy_op_t q)
{
    if (g == OP(ALL) || g == q) {
        return 1;
    }

    if (q == OP(DESCRIBE)) {
        return g == OP(READ) || g == OP(WRITE) || g == OP(DELETE)
               || g == OP(ALTER);
    }

    if (q == OP(DESCRIBE_CONFIGS)) {
        return g == OP(ALTER_CONFIGS);
    }

    return 0;
}


static void
test_implication_matrix(void **state)
{
    unsigned                 g, q;
    hoop_policy_res_t        t;
    hoop_policy_t           *p;
    hoop_policy_decision_t   d;
    char                     doc[1024];

    (void) state;

    for (g = OP(ALL); g < HOOP_POLICY_OP_LIMIT; g++) {
        t = op_type((hoop_policy_op_t) g);

        snprintf(doc, sizeof(doc),
                 "policy_version: 1\ngrants:\n  - id: g\n"
                 "    principals: [ \"User:a\" ]\n"
                 "    resources: [ { type: %s, name: %s } ]\n"
                 "    operations: [ %s ]\n" REVIEW,
                 hoop_policy_res_name(t),
                 t == RES(CLUSTER) ? "kafka-cluster" : "\"n\"",
                 hoop_policy_op_name((hoop_policy_op_t) g));

        p = compile_clean(doc);

        for (q = OP(READ); q < HOOP_POLICY_OP_LIMIT; q++) {
            if (!(hoop_policy_res_ops(t) & HOOP_POLICY_OP_BIT(q))) {
                continue;
            }

            if (ck(p, "a", NULL, NULL, t, "n", (hoop_policy_op_t) q, NOW, &d)
                != kafka_allows((hoop_policy_op_t) g, (hoop_policy_op_t) q))
            {
                print_message("grant %s, ask %s\n",
                              hoop_policy_op_name((hoop_policy_op_t) g),
                              hoop_policy_op_name((hoop_policy_op_t) q));
                fail();
            }

            if (d.allowed) {
                assert_string_equal(d.rule_id, "g");
                assert_int_equal(d.reason, HOOP_POLICY_ALLOWED_GRANT);
            }
        }

        hoop_policy_free(p);
    }
}


static void
test_deny_matrix(void **state)
{
    unsigned                 dop, q;
    hoop_policy_res_t        t;
    hoop_policy_t           *p;
    hoop_policy_decision_t   d;
    char                     doc[1024];

    (void) state;

    /* grant all, deny one operation: only it (or everything) is denied */

    for (dop = OP(ALL); dop < HOOP_POLICY_OP_LIMIT; dop++) {
        t = op_type((hoop_policy_op_t) dop);

        snprintf(doc, sizeof(doc),
                 "policy_version: 1\ngrants:\n  - id: g\n"
                 "    principals: [ \"User:a\" ]\n"
                 "    resources: [ { type: %s, name: %s } ]\n"
                 "    operations: [ all ]\n" REVIEW
                 "denies:\n  - id: d\n"
                 "    principals: [ \"User:a\" ]\n"
                 "    resources: [ { type: %s, name: %s } ]\n"
                 "    operations: [ %s ]\n",
                 hoop_policy_res_name(t),
                 t == RES(CLUSTER) ? "kafka-cluster" : "\"n\"",
                 hoop_policy_res_name(t),
                 t == RES(CLUSTER) ? "kafka-cluster" : "\"n\"",
                 hoop_policy_op_name((hoop_policy_op_t) dop));

        p = compile_ok(doc);

        for (q = OP(READ); q < HOOP_POLICY_OP_LIMIT; q++) {
            if (!(hoop_policy_res_ops(t) & HOOP_POLICY_OP_BIT(q))) {
                continue;
            }

            ck(p, "a", NULL, NULL, t, "n", (hoop_policy_op_t) q, NOW, &d);

            if (dop == OP(ALL) || dop == q) {
                assert_int_equal(d.allowed, 0);
                assert_int_equal(d.reason, HOOP_POLICY_DENIED_DENY);
                assert_string_equal(d.rule_id, "d");

            } else {
                /* a deny of READ does not deny DESCRIBE, and so on */
                assert_int_equal(d.allowed, 1);
                assert_string_equal(d.rule_id, "g");
            }
        }

        hoop_policy_free(p);
    }
}


static const char  *sem_doc =
    "policy_version: 1\n"
    "grants:\n"
    "  - id: lit\n"
    "    principals: [ \"User:alice\" ]\n"
    "    resources: [ { type: topic, name: orders } ]\n"
    "    operations: [ read ]\n" REVIEW
    "  - id: pre\n"
    "    principals: [ \"User:bob\" ]\n"
    "    resources: [ { type: topic, name: \"pii-\", match: prefix } ]\n"
    "    operations: [ read ]\n" REVIEW
    "  - id: rx\n"
    "    principals: [ \"User:carl\" ]\n"
    "    resources: [ { type: topic, name: 'app\\.[0-9]+', match: regex } ]\n"
    "    operations: [ write ]\n" REVIEW
    "  - id: wild\n"
    "    principals: [ \"User:dora\" ]\n"
    "    resources: [ { type: group, name: \"*\" } ]\n"
    "    operations: [ read ]\n" REVIEW
    "  - id: grp\n"
    "    principals: [ \"Group:payments\" ]\n"
    "    resources: [ { type: topic, name: payments } ]\n"
    "    operations: [ read ]\n" REVIEW
    "  - id: everyone\n"
    "    principals: [ \"User:*\" ]\n"
    "    resources: [ { type: topic, name: public } ]\n"
    "    operations: [ read ]\n" REVIEW
    "  - id: net\n"
    "    principals: [ \"User:erin\" ]\n"
    "    resources: [ { type: topic, name: net } ]\n"
    "    operations: [ read ]\n"
    "    hosts: [ \"10.1.0.0/16\", \"192.168.1.7\", \"2001:db8::/32\","
    " \"::ffff:172.16.0.0/108\" ]\n" REVIEW
    "  - id: window\n"
    "    principals: [ \"User:finn\" ]\n"
    "    resources: [ { type: topic, name: w } ]\n"
    "    operations: [ read ]\n"
    "    valid_from: 2026-01-01T00:00:00Z\n"
    "    valid_until: 2026-12-31T23:59:59Z\n" REVIEW
    "  - id: a-first\n"
    "    principals: [ \"User:gus\" ]\n"
    "    resources: [ { type: topic, name: \"t\", match: prefix } ]\n"
    "    operations: [ read ]\n" REVIEW
    "  - id: b-second\n"
    "    principals: [ \"User:gus\" ]\n"
    "    resources: [ { type: topic, name: \"tt\" } ]\n"
    "    operations: [ read ]\n" REVIEW
    "denies:\n"
    "  - id: no-pii-secret\n"
    "    principals: [ \"User:bob\" ]\n"
    "    resources: [ { type: topic, name: \"pii-secret\" } ]\n"
    "    operations: [ read ]\n"
    "  - id: grp-deny\n"
    "    principals: [ \"Group:blocked\" ]\n"
    "    resources: [ { type: topic, name: \"*\" } ]\n"
    "    operations: [ all ]\n"
    "  - id: old-deny\n"
    "    principals: [ \"User:alice\" ]\n"
    "    resources: [ { type: topic, name: orders } ]\n"
    "    operations: [ read ]\n"
    "    valid_until: 2026-01-01\n";


static void
test_semantics(void **state)
{
    hoop_policy_t           *p;
    hoop_policy_decision_t   d;

    (void) state;

    p = compile_ok(sem_doc);

    /* literal: exact, case-sensitive */
    ALLOW(p, "alice", NULL, RES(TOPIC), "orders", OP(READ));
    DENY(p, "alice", NULL, RES(TOPIC), "Orders", OP(READ));
    DENY(p, "alice", NULL, RES(TOPIC), "orders2", OP(READ));
    DENY(p, "alice", NULL, RES(TOPIC), "order", OP(READ));
    DENY(p, "alice", NULL, RES(GROUP), "orders", OP(READ));
    DENY(p, "alicia", NULL, RES(TOPIC), "orders", OP(READ));
    /* the expired deny (2026-01-01) no longer denies */
    assert_int_equal(ck(p, "alice", NULL, NULL, RES(TOPIC), "orders",
                        OP(READ), NOW, &d), 1);
    assert_string_equal(d.rule_id, "lit");
    assert_int_equal(ck(p, "alice", NULL, NULL, RES(TOPIC), "orders",
                        OP(READ), T2026 - 1, &d), 0);
    assert_string_equal(d.rule_id, "old-deny");

    /* prefix: the prefix itself and longer names */
    ALLOW(p, "bob", NULL, RES(TOPIC), "pii-", OP(READ));
    ALLOW(p, "bob", NULL, RES(TOPIC), "pii-customers", OP(READ));
    DENY(p, "bob", NULL, RES(TOPIC), "pii", OP(READ));
    DENY(p, "bob", NULL, RES(TOPIC), "xpii-a", OP(READ));
    /* deny wins over the prefix grant */
    assert_int_equal(ck(p, "bob", NULL, NULL, RES(TOPIC), "pii-secret",
                        OP(READ), NOW, &d), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_DENY);
    assert_string_equal(d.rule_id, "no-pii-secret");
    assert_string_equal(d.rule->id, "no-pii-secret");
    assert_int_equal(d.rule->kind, HOOP_POLICY_DENY);
    /* ... only for what it denies: DESCRIBE is still implied by READ */
    ALLOW(p, "bob", NULL, RES(TOPIC), "pii-secret", OP(DESCRIBE));

    /* regex: whole name */
    ALLOW(p, "carl", NULL, RES(TOPIC), "app.42", OP(WRITE));
    ALLOW(p, "carl", NULL, RES(TOPIC), "app.42", OP(DESCRIBE));
    DENY(p, "carl", NULL, RES(TOPIC), "app.42x", OP(WRITE));
    DENY(p, "carl", NULL, RES(TOPIC), "xapp.42", OP(WRITE));
    DENY(p, "carl", NULL, RES(TOPIC), "app.", OP(WRITE));
    DENY(p, "carl", NULL, RES(TOPIC), "app.42\n", OP(WRITE));

    /* literal "*": every name of the type, "*" itself too */
    ALLOW(p, "dora", NULL, RES(GROUP), "any-group", OP(READ));
    ALLOW(p, "dora", NULL, RES(GROUP), "*", OP(READ));
    ALLOW(p, "dora", NULL, RES(GROUP), "", OP(READ));
    DENY(p, "dora", NULL, RES(TOPIC), "any", OP(READ));

    /* groups */
    ALLOW(p, "zed", "x,payments", RES(TOPIC), "payments", OP(READ));
    DENY(p, "zed", "x,payment", RES(TOPIC), "payments", OP(READ));
    DENY(p, "payments", NULL, RES(TOPIC), "payments", OP(READ));
    /* a group deny beats a user grant */
    assert_int_equal(ck(p, "alice", "blocked", NULL, RES(TOPIC), "orders",
                        OP(READ), NOW, &d), 0);
    assert_string_equal(d.rule_id, "grp-deny");

    /* User:* is every authenticated caller, nobody else */
    ALLOW(p, "anyone", NULL, RES(TOPIC), "public", OP(READ));
    ALLOW(p, "", NULL, RES(TOPIC), "public", OP(READ));
    assert_int_equal(ck(p, NULL, NULL, NULL, RES(TOPIC), "public", OP(READ),
                        NOW, &d), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_UNAUTHENTICATED);
    assert_int_equal(ck(p, NULL, "payments", NULL, RES(TOPIC), "payments",
                        OP(READ), NOW, &d), 0);

    /* hosts */
    assert_int_equal(ck(p, "erin", NULL, "10.1.255.3", RES(TOPIC), "net",
                        OP(READ), NOW, NULL), 1);
    assert_int_equal(ck(p, "erin", NULL, "10.2.0.1", RES(TOPIC), "net",
                        OP(READ), NOW, NULL), 0);
    assert_int_equal(ck(p, "erin", NULL, "192.168.1.7", RES(TOPIC), "net",
                        OP(READ), NOW, NULL), 1);
    assert_int_equal(ck(p, "erin", NULL, "192.168.1.8", RES(TOPIC), "net",
                        OP(READ), NOW, NULL), 0);
    assert_int_equal(ck(p, "erin", NULL, "2001:db8:ff::1", RES(TOPIC), "net",
                        OP(READ), NOW, NULL), 1);
    assert_int_equal(ck(p, "erin", NULL, "2001:db9::1", RES(TOPIC), "net",
                        OP(READ), NOW, NULL), 0);
    /* ::ffff:172.16.0.0/108 is 172.16.0.0/12; mapped clients are IPv4 */
    assert_int_equal(ck(p, "erin", NULL, "172.31.0.1", RES(TOPIC), "net",
                        OP(READ), NOW, NULL), 1);
    assert_int_equal(ck(p, "erin", NULL, "::ffff:10.1.0.9", RES(TOPIC),
                        "net", OP(READ), NOW, NULL), 1);
    assert_int_equal(ck(p, "erin", NULL, "172.32.0.1", RES(TOPIC), "net",
                        OP(READ), NOW, NULL), 0);
    assert_int_equal(ck(p, "erin", NULL, NULL, RES(TOPIC), "net", OP(READ),
                        NOW, NULL), 0);
    /* "*" hosts match an unknown address */
    assert_int_equal(ck(p, "alice", NULL, NULL, RES(TOPIC), "orders",
                        OP(READ), NOW, NULL), 1);

    /* validity window: inclusive at both ends */
    assert_int_equal(ck(p, "finn", NULL, NULL, RES(TOPIC), "w", OP(READ),
                        T2026 - 1, &d), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_NOT_YET_VALID);
    assert_string_equal(d.window->id, "window");
    assert_string_equal(d.text, "grant not yet valid");
    assert_int_equal(ck(p, "finn", NULL, NULL, RES(TOPIC), "w", OP(READ),
                        T2026, NULL), 1);
    assert_int_equal(ck(p, "finn", NULL, NULL, RES(TOPIC), "w", OP(READ),
                        END2026, NULL), 1);
    assert_int_equal(ck(p, "finn", NULL, NULL, RES(TOPIC), "w", OP(READ),
                        END2026 + 1, &d), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_EXPIRED);
    assert_null(d.rule);
    assert_null(d.rule_id);

    /* several grants apply: the smallest id is reported */
    assert_int_equal(ck(p, "gus", NULL, NULL, RES(TOPIC), "tt", OP(READ),
                        NOW, &d), 1);
    assert_string_equal(d.rule_id, "a-first");

    /* default deny */
    assert_int_equal(ck(p, "nobody", NULL, NULL, RES(TOPIC), "orders",
                        OP(READ), NOW, &d), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_NO_GRANT);
    assert_null(d.rule_id);
    assert_null(d.window);
    assert_string_equal(d.text, "no grant");

    /* invalid requests */
    assert_int_equal(ck(p, "alice", NULL, NULL, RES(TOPIC), "orders",
                        OP(ALL), NOW, &d), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_INVALID);
    assert_int_equal(ck(p, "alice", NULL, NULL, (hoop_policy_res_t) 1,
                        "orders", OP(READ), NOW, &d), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_INVALID);
    assert_int_equal(ck(p, "alice", NULL, NULL, (hoop_policy_res_t) 99,
                        "orders", OP(READ), NOW, &d), 0);
    assert_int_equal(ck(p, "alice", NULL, NULL, RES(TOPIC), "orders",
                        (hoop_policy_op_t) 77, NOW, &d), 0);
    assert_int_equal(hoop_policy_check(NULL, NULL, &d), 0);
    assert_int_equal(d.reason, HOOP_POLICY_DENIED_INVALID);

    hoop_policy_free(p);
}


static void
test_cluster_and_addresses(void **state)
{
    hoop_policy_t           *p;
    hoop_policy_addr_t       a;
    struct sockaddr_in       sin;
    struct sockaddr_in6      sin6;
    hoop_policy_request_t    r;

    (void) state;

    p = compile_ok("policy_version: 1\ngrants:\n  - id: c\n"
                   "    principals: [ \"User:a\" ]\n"
                   "    resources: [ { type: cluster } ]\n"
                   "    operations: [ describe ]\n"
                   "    hosts: [ \"10.0.0.0/8\" ]\n" REVIEW);

    /* the cluster is "kafka-cluster" whatever name is passed */
    assert_int_equal(ck(p, "a", NULL, "10.9.9.9", RES(CLUSTER), "other",
                        OP(DESCRIBE), NOW, NULL), 1);
    assert_int_equal(ck(p, "a", NULL, "10.9.9.9", RES(CLUSTER), NULL,
                        OP(DESCRIBE), NOW, NULL), 1);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, "10.2.3.4", &sin.sin_addr);
    assert_int_equal(hoop_policy_addr_from_sockaddr(&a,
                         (struct sockaddr *) &sin), 0);
    assert_int_equal(a.family, 4);

    memset(&r, 0, sizeof(r));
    r.principal.data = "a";
    r.principal.len = 1;
    r.addr = &a;
    r.resource = RES(CLUSTER);
    r.op = OP(DESCRIBE);
    r.now = NOW;
    assert_int_equal(hoop_policy_check(p, &r, NULL), 1);

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:10.2.3.4", &sin6.sin6_addr);
    assert_int_equal(hoop_policy_addr_from_sockaddr(&a,
                         (struct sockaddr *) &sin6), 0);
    assert_int_equal(a.family, 4);
    assert_int_equal(hoop_policy_check(p, &r, NULL), 1);

    inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr);
    assert_int_equal(hoop_policy_addr_from_sockaddr(&a,
                         (struct sockaddr *) &sin6), 0);
    assert_int_equal(a.family, 6);
    assert_int_equal(hoop_policy_check(p, &r, NULL), 0);

    /* DeleteTopics asks for DELETE on the cluster, a valid grant */
    hoop_policy_free(p);
    p = compile_clean("policy_version: 1\ngrants:\n  - id: c\n"
                      "    principals: [ \"User:a\" ]\n"
                      "    resources: [ { type: cluster } ]\n"
                      "    operations: [ delete ]\n" REVIEW);
    assert_int_equal(ck(p, "a", NULL, NULL, RES(CLUSTER), "kafka-cluster",
                        OP(DELETE), NOW, NULL), 1);
    /*
     * ... not among Kafka's authorized operations of the cluster, but it
     * implies DESCRIBE there (a grant of DELETE implies DESCRIBE)
     */
    r.addr = NULL;
    assert_int_equal(hoop_policy_authorized_ops(p, &r), BIT(DESCRIBE));

    assert_int_equal(hoop_policy_addr_parse(&a, "10.1.2", 6), -1);
    assert_int_equal(a.family, 0);
    assert_int_equal(hoop_policy_addr_parse(&a, "host.example", 12), -1);

    hoop_policy_free(p);
}


static void
test_check_any(void **state)
{
    size_t                   i;
    hoop_policy_t           *p;
    hoop_policy_request_t    r;
    hoop_policy_decision_t   d;
    char                     doc[2048];

    /*
     * Kafka's authorizeByResourceType (Authorizer.java), on TOPIC WRITE:
     * { allows, denies, expected } with "L:name" literal, "P:name"
     * prefixed, "R:regex".
     */
    static const struct {
        const char  *allow;
        const char  *deny;
        int          want;
    } cases[] = {
        { NULL, NULL, 0 },
        { "L:foo", NULL, 1 },
        { "P:foo", NULL, 1 },
        { "L:*", NULL, 1 },
        { "L:foo", "L:foo", 0 },
        { "L:foo", "P:fo", 0 },
        { "L:foo", "P:foo", 0 },
        { "L:foo", "P:foob", 1 },
        { "P:foo", "L:foo", 1 },      /* a literal deny never dominates a
                                         prefixed allow */
        { "P:foo", "P:f", 0 },
        { "P:foo", "P:foo", 0 },
        { "P:foo", "P:food", 1 },
        { "L:*", "P:a", 1 },          /* the wildcard allow wins */
        { "L:foo", "L:*", 0 },        /* the wildcard deny wins */
        { "L:*", "L:*", 0 },
        { "P:hard", "L:foo", 1 },     /* the "hardcode" probe */
        { "P:hard", "L:hardcode", 1 },
        { "L:hardcode", "L:hardcode", 0 },
        { "R:a.*", NULL, 1 },         /* ours: a regex grant allows */
        { "R:a.*", "P:a", 1 },        /* ... nothing dominates it */
        { "R:a.*", "L:*", 0 },
    };

    (void) state;

    memset(&r, 0, sizeof(r));
    r.principal.data = "a";
    r.principal.len = 1;
    r.resource = RES(TOPIC);
    r.op = OP(WRITE);
    r.now = NOW;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int  n;

        n = snprintf(doc, sizeof(doc), "policy_version: 1\ngrants:\n");

        if (cases[i].allow) {
            n += snprintf(doc + n, sizeof(doc) - n,
                          "  - id: g\n    principals: [ \"User:a\" ]\n"
                          "    resources: [ { type: topic, name: \"%s\","
                          " match: %s } ]\n"
                          "    operations: [ write ]\n" REVIEW,
                          cases[i].allow + 2,
                          cases[i].allow[0] == 'L' ? "literal"
                          : cases[i].allow[0] == 'P' ? "prefix" : "regex");
        } else {
            n += snprintf(doc + n, sizeof(doc) - n, "  []\n");
        }

        /* a grant to somebody else must not count */
        if (cases[i].allow == NULL) {
            n = snprintf(doc, sizeof(doc), "policy_version: 1\ngrants:\n"
                         "  - id: other\n    principals: [ \"User:b\" ]\n"
                         "    resources: [ { type: topic, name: \"*\" } ]\n"
                         "    operations: [ write ]\n" REVIEW);
        }

        if (cases[i].deny) {
            snprintf(doc + n, sizeof(doc) - n,
                     "denies:\n  - id: d\n    principals: [ \"User:a\" ]\n"
                     "    resources: [ { type: topic, name: \"%s\","
                     " match: %s } ]\n"
                     "    operations: [ write ]\n",
                     cases[i].deny + 2,
                     cases[i].deny[0] == 'L' ? "literal" : "prefix");
        }

        p = compile_ok(doc);

        if (hoop_policy_check_any(p, &r, &d) != cases[i].want) {
            print_message("case %zu (allow %s, deny %s)\n", i,
                          cases[i].allow, cases[i].deny);
            fail();
        }

        assert_int_equal(d.allowed, cases[i].want);

        hoop_policy_free(p);
    }

    /* no implication: a READ grant does not count for DESCRIBE here */

    p = compile_ok("policy_version: 1\ngrants:\n  - id: g\n"
                   "    principals: [ \"User:a\" ]\n"
                   "    resources: [ { type: topic, name: x } ]\n"
                   "    operations: [ read ]\n" REVIEW);
    r.op = OP(DESCRIBE);
    assert_int_equal(hoop_policy_check_any(p, &r, NULL), 0);
    r.op = OP(READ);
    assert_int_equal(hoop_policy_check_any(p, &r, &d), 1);
    assert_string_equal(d.rule_id, "g");
    hoop_policy_free(p);
}


static void
test_authorized_ops(void **state)
{
    hoop_policy_t          *p;
    hoop_policy_request_t   r;

    (void) state;

    p = compile_ok("policy_version: 1\ngrants:\n  - id: g\n"
                   "    principals: [ \"User:a\" ]\n"
                   "    resources: [ { type: topic, name: t } ]\n"
                   "    operations: [ read, alter_configs ]\n" REVIEW
                   "  - id: c\n"
                   "    principals: [ \"User:a\" ]\n"
                   "    resources: [ { type: cluster } ]\n"
                   "    operations: [ all ]\n" REVIEW
                   "denies:\n  - id: d\n"
                   "    principals: [ \"User:a\" ]\n"
                   "    resources: [ { type: cluster } ]\n"
                   "    operations: [ alter ]\n");

    memset(&r, 0, sizeof(r));
    r.principal.data = "a";
    r.principal.len = 1;
    r.resource = RES(TOPIC);
    r.name.data = "t";
    r.name.len = 1;
    r.now = NOW;

    assert_int_equal(hoop_policy_authorized_ops(p, &r),
                     BIT(READ) | BIT(DESCRIBE) | BIT(ALTER_CONFIGS)
                     | BIT(DESCRIBE_CONFIGS));

    r.resource = RES(CLUSTER);
    assert_int_equal(hoop_policy_authorized_ops(p, &r),
                     BIT(CREATE) | BIT(CLUSTER_ACTION) | BIT(DESCRIBE_CONFIGS)
                     | BIT(ALTER_CONFIGS) | BIT(IDEMPOTENT_WRITE)
                     | BIT(DESCRIBE));

    assert_int_equal(hoop_policy_res_ops(RES(TRANSACTIONAL_ID)),
                     BIT(DESCRIBE) | BIT(WRITE) | BIT(TWO_PHASE_COMMIT));

    hoop_policy_free(p);
}


static void
test_regex_limits(void **state)
{
    hoop_policy_t           *p;
    hoop_policy_decision_t   d;
    char                     name[4096];

    (void) state;

    /* catastrophic backtracking: a grant fails closed (no match) ... */

    p = compile_ok("policy_version: 1\ngrants:\n  - id: g\n"
                   "    principals: [ \"User:a\" ]\n"
                   "    resources: [ { type: group, name: '(a+)+b',"
                   " match: regex } ]\n"
                   "    operations: [ read ]\n" REVIEW
                   "  - id: h\n"
                   "    principals: [ \"User:b\" ]\n"
                   "    resources: [ { type: group, name: '*' } ]\n"
                   "    operations: [ read ]\n" REVIEW
                   "denies:\n  - id: d\n"
                   "    principals: [ \"User:b\" ]\n"
                   "    resources: [ { type: group, name: '(a|aa)+c',"
                   " match: regex } ]\n"
                   "    operations: [ read ]\n");

    /* the required last character is there, then the end fails */
    memset(name, 'a', 64);
    memcpy(name + 64, "bx", 3);

    DENY(p, "a", NULL, RES(GROUP), name, OP(READ));
    ALLOW(p, "a", NULL, RES(GROUP), "aab", OP(READ));

    memcpy(name + 64, "cx", 3);

    /* ... and a deny fails closed (matches) */
    assert_int_equal(ck(p, "b", NULL, NULL, RES(GROUP), name, OP(READ), NOW,
                        &d), 0);
    assert_string_equal(d.rule_id, "d");
    ALLOW(p, "b", NULL, RES(GROUP), "x", OP(READ));

    hoop_policy_free(p);
}


/* ======================================================================
 * Introspection and the canonical form
 */

/* record: the rule's session recording level, kept in the canonical form */
static void
test_record(void **state)
{
    size_t                     len;
    const char                *c;
    hoop_policy_t             *p;
    const hoop_policy_rule_t  *r;

    (void) state;

    p = compile_ok("policy_version: 1\n"
                   "grants:\n"
                   "  - id: rec\n"
                   "    principals: [ \"User:a\" ]\n"
                   "    resources: [ { type: topic, name: t } ]\n"
                   "    operations: [ read ]\n"
                   "    record: payloads\n"
                   "    reviewed_by: carol\n"
                   "    reviewed_at: 2026-11-01\n"
                   "    reason: x\n"
                   "  - id: plain\n"
                   "    principals: [ \"User:b\" ]\n"
                   "    resources: [ { type: topic, name: t } ]\n"
                   "    operations: [ read ]\n"
                   "    record: none\n"
                   "    reviewed_by: carol\n"
                   "    reviewed_at: 2026-11-01\n"
                   "    reason: x\n");

    r = hoop_policy_rule_find(p, "rec", 3);
    assert_non_null(r);
    assert_int_equal(r->record, HOOP_POLICY_RECORD_PAYLOADS);
    r = hoop_policy_rule_find(p, "plain", 5);
    assert_non_null(r);
    assert_int_equal(r->record, HOOP_POLICY_RECORD_NONE);

    c = hoop_policy_canonical(p, &len);
    assert_non_null(strstr(c, "\"record\": \"payloads\""));
    assert_int_equal(strstr(c, "\"record\": \"none\""), NULL);

    hoop_policy_free(p);
}


static void
test_introspection(void **state)
{
    hoop_policy_t             *p;
    const hoop_policy_rule_t  *r;
    unsigned char              md[32];
    unsigned int               mdlen;
    size_t                     len;
    const char                *c;

    (void) state;

    p = compile_ok(sem_doc);

    assert_int_equal(hoop_policy_rule_count(p, HOOP_POLICY_GRANT), 10);
    assert_int_equal(hoop_policy_rule_count(p, HOOP_POLICY_DENY), 3);
    assert_int_equal(hoop_policy_rule_count(p, (hoop_policy_kind_t) 5), 0);

    /* by id */
    r = hoop_policy_rule_at(p, HOOP_POLICY_GRANT, 0);
    assert_string_equal(r->id, "a-first");
    r = hoop_policy_rule_at(p, HOOP_POLICY_GRANT, 9);
    assert_string_equal(r->id, "window");
    assert_null(hoop_policy_rule_at(p, HOOP_POLICY_GRANT, 10));

    assert_int_equal(r->kind, HOOP_POLICY_GRANT);
    assert_int_equal(r->valid_from, T2026);
    assert_int_equal(r->valid_until, END2026);
    assert_string_equal(r->reviewed_by, "carol");
    assert_string_equal(r->reviewed_at, "2026-11-01");
    assert_int_equal(r->reviewed_at_time, 1793491200);
    assert_string_equal(r->reason, "test");
    assert_int_equal(r->nprincipals, 1);
    assert_string_equal(r->principals[0], "User:finn");
    assert_int_equal(r->nresources, 1);
    assert_int_equal(r->resources[0].type, RES(TOPIC));
    assert_string_equal(r->resources[0].name, "w");
    assert_int_equal(r->ops, BIT(READ));
    assert_int_equal(hoop_policy_rule_window(r, T2026 - 1), -1);
    assert_int_equal(hoop_policy_rule_window(r, NOW), 0);
    assert_int_equal(hoop_policy_rule_window(r, END2026 + 1), 1);

    r = hoop_policy_rule_find(p, "net", 3);
    assert_non_null(r);
    assert_int_equal(r->nhosts, 4);
    assert_string_equal(r->hosts[0].text, "10.1.0.0/16");
    assert_string_equal(r->hosts[1].text, "172.16.0.0/12");
    assert_string_equal(r->hosts[2].text, "192.168.1.7");
    assert_string_equal(r->hosts[3].text, "2001:db8::/32");

    r = hoop_policy_rule_find(p, "grp-deny", 8);
    assert_non_null(r);
    assert_int_equal(r->kind, HOOP_POLICY_DENY);
    assert_null(r->reviewed_by);
    assert_int_equal(r->valid_until, HOOP_POLICY_TIME_MAX);
    assert_null(hoop_policy_rule_find(p, "grp-", 4));
    assert_non_null(hoop_policy_rule_find(p, "grp", 3));
    assert_null(hoop_policy_rule_find(p, "zzz", 3));

    /* the hash is SHA-256 of the canonical text */
    c = hoop_policy_canonical(p, &len);
    assert_int_equal(len, strlen(c));
    assert_int_equal(c[len - 1], '\n');
    mdlen = sizeof(md);
    assert_int_equal(EVP_Digest(c, len, md, &mdlen, EVP_sha256(), NULL), 1);
    assert_memory_equal(md, hoop_policy_sha256(p), 32);
    assert_int_equal(strlen(hoop_policy_sha256_hex(p)), 64);

    /* names */
    assert_int_equal(hoop_policy_op_parse("describe_configs", 16),
                     OP(DESCRIBE_CONFIGS));
    assert_int_equal(hoop_policy_op_parse("Describe", 8), OP(UNKNOWN));
    assert_int_equal(hoop_policy_res_parse("transactional_id", 16),
                     RES(TRANSACTIONAL_ID));
    assert_null(hoop_policy_op_name((hoop_policy_op_t) 1));
    assert_string_equal(hoop_policy_match_name(HOOP_POLICY_MATCH_REGEX),
                        "regex");

    hoop_policy_free(p);
}


/* the canonical form ignores order, layout, format and duplicates */
static void
test_canonical_stable(void **state)
{
    hoop_policy_t  *a, *b;

    (void) state;

    a = compile_ok("policy_version: 1\ngrants:\n"
                   "  - id: b\n    principals: [ User:y, User:x ]\n"
                   "    resources: [ { type: group, name: g },"
                   " { type: topic, name: t } ]\n"
                   "    operations: [ read, describe ]\n"
                   "    hosts: [ \"10.0.0.1\", \"10.0.0.0/24\" ]\n" REVIEW
                   "  - id: a\n    principals: [ User:x ]\n"
                   "    resources: [ { type: topic, name: u } ]\n"
                   "    operations: [ all ]\n" REVIEW);
    b = compile_ok("{\"grants\": [\n"
                   " {\"id\": \"a\", \"principals\": [\"User:x\"],"
                   " \"operations\": [\"all\", \"read\"],"
                   " \"resources\": [{\"type\": \"topic\", \"name\": \"u\","
                   " \"match\": \"literal\"}], \"hosts\": [\"*\"],"
                   " \"reason\": \"test\", \"reviewed_by\": \"carol\","
                   " \"reviewed_at\": \"2026-11-01\"},\n"
                   " {\"id\": \"b\", \"principals\": [\"User:x\", \"User:y\","
                   " \"User:x\"], \"operations\": [\"describe\", \"read\"],"
                   " \"resources\": [{\"type\": \"topic\", \"name\": \"t\"},"
                   " {\"type\": \"group\", \"name\": \"g\"}],"
                   " \"hosts\": [\"10.0.0.0/24\", \"::ffff:10.0.0.1\"],"
                   " \"reason\": \"test\", \"reviewed_by\": \"carol\","
                   " \"reviewed_at\": \"2026-11-01T00:00:00Z\"}],\n"
                   " \"policy_version\": 1, \"default\": \"deny\"}");

    /* reviewed_at as a date-time is kept as a date-time: not equal yet */
    assert_string_not_equal(hoop_policy_sha256_hex(a),
                            hoop_policy_sha256_hex(b));
    hoop_policy_free(b);

    b = compile_ok("{\"grants\": [\n"
                   " {\"id\": \"a\", \"principals\": [\"User:x\"],"
                   " \"operations\": [\"all\", \"read\"],"
                   " \"resources\": [{\"type\": \"topic\", \"name\": \"u\","
                   " \"match\": \"literal\"}], \"hosts\": [\"*\"],"
                   " \"reason\": \"test\", \"reviewed_by\": \"carol\","
                   " \"reviewed_at\": \"2026-11-01\"},\n"
                   " {\"id\": \"b\", \"principals\": [\"User:x\", \"User:y\","
                   " \"User:x\"], \"operations\": [\"describe\", \"read\"],"
                   " \"resources\": [{\"type\": \"topic\", \"name\": \"t\"},"
                   " {\"type\": \"group\", \"name\": \"g\"}],"
                   " \"hosts\": [\"10.0.0.0/24\", \"::ffff:10.0.0.1\"],"
                   " \"reason\": \"test\", \"reviewed_by\": \"carol\","
                   " \"reviewed_at\": \"2026-11-01\"}],\n"
                   " \"policy_version\": 1, \"default\": \"deny\"}");

    assert_string_equal(hoop_policy_canonical(a, NULL),
                        hoop_policy_canonical(b, NULL));
    assert_string_equal(hoop_policy_sha256_hex(a), hoop_policy_sha256_hex(b));

    /* the canonical text itself, once, as documented */
    assert_string_equal(hoop_policy_canonical(a, NULL),
        "{\n"
        "  \"policy_version\": 1,\n"
        "  \"default\": \"deny\",\n"
        "  \"grants\": [\n"
        "    {\n"
        "      \"id\": \"a\",\n"
        "      \"principals\": [\n"
        "        \"User:x\"\n"
        "      ],\n"
        "      \"resources\": [\n"
        "        {\n"
        "          \"type\": \"topic\",\n"
        "          \"name\": \"u\",\n"
        "          \"match\": \"literal\"\n"
        "        }\n"
        "      ],\n"
        "      \"operations\": [\n"
        "        \"all\"\n"
        "      ],\n"
        "      \"hosts\": [\n"
        "        \"*\"\n"
        "      ],\n"
        "      \"reviewed_by\": \"carol\",\n"
        "      \"reviewed_at\": \"2026-11-01\",\n"
        "      \"reason\": \"test\"\n"
        "    },\n"
        "    {\n"
        "      \"id\": \"b\",\n"
        "      \"principals\": [\n"
        "        \"User:x\",\n"
        "        \"User:y\"\n"
        "      ],\n"
        "      \"resources\": [\n"
        "        {\n"
        "          \"type\": \"topic\",\n"
        "          \"name\": \"t\",\n"
        "          \"match\": \"literal\"\n"
        "        },\n"
        "        {\n"
        "          \"type\": \"group\",\n"
        "          \"name\": \"g\",\n"
        "          \"match\": \"literal\"\n"
        "        }\n"
        "      ],\n"
        "      \"operations\": [\n"
        "        \"read\",\n"
        "        \"describe\"\n"
        "      ],\n"
        "      \"hosts\": [\n"
        "        \"10.0.0.0/24\",\n"
        "        \"10.0.0.1\"\n"
        "      ],\n"
        "      \"reviewed_by\": \"carol\",\n"
        "      \"reviewed_at\": \"2026-11-01\",\n"
        "      \"reason\": \"test\"\n"
        "    }\n"
        "  ],\n"
        "  \"denies\": []\n"
        "}\n");

    hoop_policy_free(b);
    hoop_policy_free(a);
}


/* ======================================================================
 * Randomized differential test: the index against a linear scan
 */

static uint64_t  rng_state;

static uint32_t
rnd(uint32_t n)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;

    return (uint32_t) ((rng_state * 0x2545f4914f6cdd1dULL) >> 33) % n;
}


static const char  *dt_principals[] = {
    "User:u1", "User:u2", "User:*", "Group:g1", "Group:g2"
};
static const char  *dt_literals[] = {
    "a", "ab", "abc", "b", "ba", "x.y", "*", "hardcode"
};
static const char  *dt_prefixes[] = { "a", "ab", "b", "x.", "hard" };
static const char  *dt_regexes[] = {
    "a.*", "ab?c?", "(a|b)+", "x\\\\..*", ".*c", "[^a].*"
};
static const char  *dt_hosts[] = {
    "\"*\"", "\"10.0.0.0/8\"", "\"10.1.0.0/16\", \"::1\"", "\"192.168.1.1\"",
    "\"2001:db8::/32\""
};
static const char  *dt_names[] = {
    "a", "ab", "abc", "abd", "b", "ba", "x.y", "x.z", "c", "*", "hardcode",
    "ha", ""
};
static const char  *dt_addrs[] = {
    "10.1.2.3", "10.2.0.1", "::1", "192.168.1.1", "2001:db8::5", NULL
};
static const int64_t  dt_times[] = { NOW - 100, NOW, NOW + 100 };
static const int64_t  dt_nows[] = {
    NOW - 101, NOW - 100, NOW - 1, NOW, NOW + 1, NOW + 100, NOW + 101
};


static void
dt_time(char *buf, size_t size, int64_t t)
{
    time_t     tt;
    struct tm  tm;

    tt = (time_t) t;
    gmtime_r(&tt, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}


/* a random policy in JSON; returns its length */
static size_t
dt_policy(char *doc, size_t size)
{
    unsigned  k, i, j, n, nres, nops;
    size_t    len;
    int       type, from, until;
    uint32_t  ops;
    char      t[32];

    len = (size_t) snprintf(doc, size,
                            "{ \"policy_version\": 1, \"grants\": [");

    for (k = 0; k < 2; k++) {
        n = k == 0 ? 1 + rnd(12) : rnd(5);

        if (k == 1) {
            len += (size_t) snprintf(doc + len, size - len,
                                     "], \"denies\": [");
        }

        for (i = 0; i < n; i++) {
            type = rnd(2) ? RES(TOPIC) : RES(GROUP);

            /* ids unique, their order unrelated to the document's */
            len += (size_t) snprintf(doc + len, size - len,
                                     "%s{ \"id\": \"%c%02u-%02u\", "
                                     "\"principals\": [",
                                     i ? ", " : "",
                                     k == 0 ? 'g' : 'd', rnd(100), i);

            nres = 1 + rnd(2);
            for (j = 0; j < nres; j++) {
                len += (size_t) snprintf(doc + len, size - len, "%s\"%s\"",
                                         j ? ", " : "",
                                         dt_principals[rnd(5)]);
            }

            len += (size_t) snprintf(doc + len, size - len,
                                     "], \"resources\": [");

            nres = 1 + rnd(3);
            for (j = 0; j < nres; j++) {
                switch (rnd(3)) {
                case 0:
                    len += (size_t) snprintf(doc + len, size - len,
                               "%s{\"type\": \"%s\", \"name\": \"%s\"}",
                               j ? ", " : "",
                               hoop_policy_res_name(type),
                               dt_literals[rnd(8)]);
                    break;
                case 1:
                    len += (size_t) snprintf(doc + len, size - len,
                               "%s{\"type\": \"%s\", \"name\": \"%s\","
                               " \"match\": \"prefix\"}",
                               j ? ", " : "",
                               hoop_policy_res_name(type),
                               dt_prefixes[rnd(5)]);
                    break;
                default:
                    len += (size_t) snprintf(doc + len, size - len,
                               "%s{\"type\": \"%s\", \"name\": \"%s\","
                               " \"match\": \"regex\"}",
                               j ? ", " : "",
                               hoop_policy_res_name(type),
                               dt_regexes[rnd(6)]);
                    break;
                }
            }

            len += (size_t) snprintf(doc + len, size - len,
                                     "], \"operations\": [");

            ops = hoop_policy_res_ops((hoop_policy_res_t) type);
            nops = 1 + rnd(3);
            for (j = 0; j < nops; j++) {
                unsigned  op;

                do {
                    op = rnd(5) == 0 ? OP(ALL)
                                     : OP(READ) + rnd(HOOP_POLICY_OP_LIMIT
                                                      - OP(READ));
                } while (op != OP(ALL) && !(ops & HOOP_POLICY_OP_BIT(op)));

                len += (size_t) snprintf(doc + len, size - len, "%s\"%s\"",
                                         j ? ", " : "",
                                         hoop_policy_op_name(
                                             (hoop_policy_op_t) op));
            }

            len += (size_t) snprintf(doc + len, size - len,
                                     "], \"hosts\": [%s]",
                                     rnd(2) ? "\"*\"" : dt_hosts[rnd(5)]);

            from = rnd(3) == 0 ? (int) rnd(3) : -1;
            until = rnd(3) == 0 ? (int) rnd(3) : -1;
            if (from >= 0 && until >= 0 && until < from) {
                until = from;
            }

            if (from >= 0) {
                dt_time(t, sizeof(t), dt_times[from]);
                len += (size_t) snprintf(doc + len, size - len,
                                         ", \"valid_from\": \"%s\"", t);
            }

            if (until >= 0) {
                dt_time(t, sizeof(t), dt_times[until] + 100);
                len += (size_t) snprintf(doc + len, size - len,
                                         ", \"valid_until\": \"%s\"", t);
            }

            len += (size_t) snprintf(doc + len, size - len,
                                     ", \"reviewed_by\": \"r\", "
                                     "\"reviewed_at\": \"2026-01-01\", "
                                     "\"reason\": \"x\" }");
        }
    }

    len += (size_t) snprintf(doc + len, size - len, "] }");

    return len;
}


/* ---- the naive evaluator, written from Kafka's rules ---- */

typedef struct {
    const char         *user;
    const char         *groups[3];
    size_t              ngroups;
    hoop_policy_addr_t  addr;
    int                 has_addr;
    hoop_policy_res_t   type;
    const char         *name;
    hoop_policy_op_t    op;
    int64_t             now;
} dt_req_t;


static int
naive_principal(const hoop_policy_rule_t *r, const dt_req_t *q)
{
    size_t  i, j;

    for (i = 0; i < r->nprincipals; i++) {
        if (strcmp(r->principals[i], "User:*") == 0) {
            return 1;
        }

        if (strncmp(r->principals[i], "User:", 5) == 0
            && strcmp(r->principals[i] + 5, q->user) == 0)
        {
            return 1;
        }

        for (j = 0; j < q->ngroups; j++) {
            if (strncmp(r->principals[i], "Group:", 6) == 0
                && strcmp(r->principals[i] + 6, q->groups[j]) == 0)
            {
                return 1;
            }
        }
    }

    return 0;
}


static int
naive_host(const hoop_policy_rule_t *r, const dt_req_t *q)
{
    size_t    i;
    unsigned  bit;
    const hoop_policy_host_t  *h;

    if (r->nhosts == 0) {
        return 1;
    }

    if (!q->has_addr) {
        return 0;
    }

    for (i = 0; i < r->nhosts; i++) {
        h = &r->hosts[i];
        if (h->family != q->addr.family) {
            continue;
        }

        for (bit = 0; bit < h->prefix; bit++) {
            if (((h->addr[bit / 8] >> (7 - bit % 8)) & 1)
                != ((q->addr.addr[bit / 8] >> (7 - bit % 8)) & 1))
            {
                break;
            }
        }

        if (bit == h->prefix) {
            return 1;
        }
    }

    return 0;
}


static int
naive_name(const hoop_policy_resource_t *res, const char *name)
{
    int                rc, errcode;
    PCRE2_SIZE         erroff;
    pcre2_code        *re;
    pcre2_match_data  *md;

    switch (res->match) {

    case HOOP_POLICY_MATCH_LITERAL:
        return strcmp(res->name, "*") == 0 || strcmp(res->name, name) == 0;

    case HOOP_POLICY_MATCH_PREFIX:
        return strncmp(res->name, name, res->name_len) == 0;

    default:
        re = pcre2_compile((PCRE2_SPTR) res->name, PCRE2_ZERO_TERMINATED,
                           PCRE2_ANCHORED | PCRE2_ENDANCHORED
                           | PCRE2_DOLLAR_ENDONLY, &errcode, &erroff, NULL);
        assert_non_null(re);
        md = pcre2_match_data_create_from_pattern(re, NULL);
        rc = pcre2_match(re, (PCRE2_SPTR) name, strlen(name), 0, 0, md,
                         NULL);
        pcre2_match_data_free(md);
        pcre2_code_free(re);
        return rc >= 0;
    }
}


/* 1 applies, 2 applies but outside its window, 0 not */
static int
naive_rule(const hoop_policy_rule_t *r, const dt_req_t *q, int grant,
    int exact)
{
    size_t  i;
    int     op_ok;

    op_ok = (r->ops & BIT(ALL)) || (r->ops & HOOP_POLICY_OP_BIT(q->op));

    if (grant && !exact) {
        for (i = 0; i < HOOP_POLICY_OP_LIMIT; i++) {
            if ((r->ops & HOOP_POLICY_OP_BIT(i))
                && kafka_allows((hoop_policy_op_t) i, q->op))
            {
                op_ok = 1;
            }
        }
    }

    if (!op_ok || !naive_principal(r, q) || !naive_host(r, q)) {
        return 0;
    }

    for (i = 0; i < r->nresources; i++) {
        if (r->resources[i].type == q->type
            && naive_name(&r->resources[i],
                          q->type == RES(CLUSTER) ? "kafka-cluster"
                                                  : q->name))
        {
            break;
        }
    }

    if (i == r->nresources) {
        return 0;
    }

    return q->now >= r->valid_from && q->now <= r->valid_until ? 1 : 2;
}


static void
naive_check(const hoop_policy_t *p, const dt_req_t *q,
    hoop_policy_decision_t *d)
{
    size_t                     i;
    int                        rc;
    const hoop_policy_rule_t  *r;

    memset(d, 0, sizeof(*d));

    for (i = 0; i < hoop_policy_rule_count(p, HOOP_POLICY_DENY); i++) {
        r = hoop_policy_rule_at(p, HOOP_POLICY_DENY, i);
        if (naive_rule(r, q, 0, 1) == 1) {
            d->reason = HOOP_POLICY_DENIED_DENY;
            d->rule = r;
            return;
        }
    }

    for (i = 0; i < hoop_policy_rule_count(p, HOOP_POLICY_GRANT); i++) {
        r = hoop_policy_rule_at(p, HOOP_POLICY_GRANT, i);
        if (naive_rule(r, q, 1, 0) == 1) {
            d->allowed = 1;
            d->reason = HOOP_POLICY_ALLOWED_GRANT;
            d->rule = r;
            return;
        }
    }

    for (i = 0; i < hoop_policy_rule_count(p, HOOP_POLICY_GRANT); i++) {
        r = hoop_policy_rule_at(p, HOOP_POLICY_GRANT, i);
        rc = naive_rule(r, q, 1, 0);
        if (rc == 2) {
            d->reason = q->now < r->valid_from
                        ? HOOP_POLICY_DENIED_NOT_YET_VALID
                        : HOOP_POLICY_DENIED_EXPIRED;
            d->window = r;
            return;
        }
    }

    d->reason = HOOP_POLICY_DENIED_NO_GRANT;
}


/* operations exact (or ALL), principal, host, window: not the names */
static int
naive_applies_exact(const hoop_policy_rule_t *r, const dt_req_t *q)
{
    return ((r->ops & BIT(ALL)) || (r->ops & HOOP_POLICY_OP_BIT(q->op)))
           && naive_principal(r, q) && naive_host(r, q)
           && q->now >= r->valid_from && q->now <= r->valid_until;
}


/* Kafka's Authorizer.authorizeByResourceType, from its source */
static int
naive_check_any(const hoop_policy_t *p, const dt_req_t *q)
{
    size_t                         i, j, k, l;
    int                            dominated, wildcard_allow;
    dt_req_t                       probe;
    hoop_policy_decision_t         d;
    const hoop_policy_rule_t      *r, *dr;
    const hoop_policy_resource_t  *res, *dres;

    /* the probe with the name "hardcode" */

    probe = *q;
    probe.name = "hardcode";
    naive_check(p, &probe, &d);
    if (d.allowed) {
        return 1;
    }

    /* a literal "*" deny */

    for (i = 0; i < hoop_policy_rule_count(p, HOOP_POLICY_DENY); i++) {
        r = hoop_policy_rule_at(p, HOOP_POLICY_DENY, i);
        if (!naive_applies_exact(r, q)) {
            continue;
        }

        for (j = 0; j < r->nresources; j++) {
            res = &r->resources[j];
            if (res->type == q->type
                && res->match == HOOP_POLICY_MATCH_LITERAL
                && strcmp(res->name, "*") == 0)
            {
                return 0;
            }
        }
    }

    /* an allow no deny dominates */

    wildcard_allow = 0;

    for (i = 0; i < hoop_policy_rule_count(p, HOOP_POLICY_GRANT); i++) {
        r = hoop_policy_rule_at(p, HOOP_POLICY_GRANT, i);
        if (!naive_applies_exact(r, q)) {
            continue;
        }

        for (j = 0; j < r->nresources; j++) {
            res = &r->resources[j];
            if (res->type != q->type) {
                continue;
            }

            if (res->match == HOOP_POLICY_MATCH_REGEX) {
                return 1;
            }

            if (res->match == HOOP_POLICY_MATCH_LITERAL
                && strcmp(res->name, "*") == 0)
            {
                wildcard_allow = 1;
                continue;
            }

            dominated = 0;

            for (k = 0; k < hoop_policy_rule_count(p, HOOP_POLICY_DENY); k++)
            {
                dr = hoop_policy_rule_at(p, HOOP_POLICY_DENY, k);
                if (!naive_applies_exact(dr, q)) {
                    continue;
                }

                for (l = 0; l < dr->nresources; l++) {
                    dres = &dr->resources[l];
                    if (dres->type != q->type) {
                        continue;
                    }

                    if (res->match == HOOP_POLICY_MATCH_LITERAL
                        && dres->match == HOOP_POLICY_MATCH_LITERAL
                        && strcmp(dres->name, res->name) == 0)
                    {
                        dominated = 1;
                    }

                    if (dres->match == HOOP_POLICY_MATCH_PREFIX
                        && dres->name_len <= res->name_len
                        && strncmp(res->name, dres->name, dres->name_len)
                           == 0)
                    {
                        dominated = 1;
                    }
                }
            }

            if (!dominated) {
                return 1;
            }
        }
    }

    return wildcard_allow;
}


static void
test_differential(void **state)
{
    unsigned                 round, rounds, i, k;
    size_t                   len;
    const char              *env, *groups[3] = { "g1", "g2", "g3" };
    char                    *doc;
    hoop_policy_t           *p;
    hoop_policy_decision_t   got, want;
    hoop_policy_request_t    r;
    hoop_policy_str_t        g[3];
    dt_req_t                 q;
    uint64_t                 seed;
    unsigned long            checks, any, reasons[8];

    (void) state;

    env = getenv("POLICY_SEED");
    seed = env ? strtoull(env, NULL, 0) : 0x5eed2026ULL;
    rng_state = seed ? seed : 1;

    env = getenv("POLICY_ROUNDS");
    rounds = env ? (unsigned) atoi(env) : 400;

    doc = malloc(65536);
    assert_non_null(doc);
    checks = 0;
    any = 0;
    memset(reasons, 0, sizeof(reasons));

    for (round = 0; round < rounds; round++) {
        len = dt_policy(doc, 65536);
        p = hoop_policy_compile(doc, len, diags, MAXD, &ndiags);
        if (p == NULL) {
            print_message("%s\n", doc);
            print_diags("random");
        }
        assert_non_null(p);

        for (i = 0; i < 300; i++) {
            memset(&q, 0, sizeof(q));
            q.user = rnd(4) == 0 ? "u3" : rnd(2) ? "u1" : "u2";
            q.ngroups = 0;
            for (k = 0; k < 3; k++) {
                if (rnd(3) == 0) {
                    q.groups[q.ngroups++] = groups[k];
                }
            }

            env = dt_addrs[rnd(6)];
            q.has_addr = env != NULL;
            if (env) {
                assert_int_equal(hoop_policy_addr_parse(&q.addr, env,
                                                        strlen(env)), 0);
            }

            q.type = rnd(2) ? RES(TOPIC) : RES(GROUP);
            q.name = dt_names[rnd(13)];
            do {
                q.op = (hoop_policy_op_t) (OP(READ)
                           + rnd(HOOP_POLICY_OP_LIMIT - OP(READ)));
            } while (!(hoop_policy_res_ops(q.type)
                       & HOOP_POLICY_OP_BIT(q.op)) && rnd(4));
            q.now = dt_nows[rnd(7)];

            memset(&r, 0, sizeof(r));
            r.principal.data = q.user;
            r.principal.len = strlen(q.user);
            for (k = 0; k < q.ngroups; k++) {
                g[k].data = q.groups[k];
                g[k].len = strlen(q.groups[k]);
            }
            r.groups = g;
            r.ngroups = q.ngroups;
            r.addr = q.has_addr ? &q.addr : NULL;
            r.resource = q.type;
            r.name.data = q.name;
            r.name.len = strlen(q.name);
            r.op = q.op;
            r.now = q.now;

            hoop_policy_check(p, &r, &got);
            naive_check(p, &q, &want);
            checks++;
            reasons[got.reason]++;

            if (got.allowed != want.allowed || got.reason != want.reason
                || got.rule != want.rule || got.window != want.window)
            {
                print_message("seed 0x%llx round %u: %s %s %s %s at %lld: "
                              "got %d %s %s, want %d %s %s\n%s\n",
                              (unsigned long long) seed, round, q.user,
                              hoop_policy_op_name(q.op),
                              hoop_policy_res_name(q.type), q.name,
                              (long long) q.now, got.allowed, got.text,
                              got.rule ? got.rule->id
                              : got.window ? got.window->id : "-",
                              want.allowed,
                              want.rule ? "rule" : "-",
                              want.rule ? want.rule->id
                              : want.window ? want.window->id : "-", doc);
                fail();
            }

            k = (unsigned) hoop_policy_check_any(p, &r, NULL);
            any += k;

            if ((int) k != naive_check_any(p, &q)) {
                print_message("seed 0x%llx round %u: check_any %s %s %s "
                              "differs\n%s\n", (unsigned long long) seed,
                              round, q.user, hoop_policy_op_name(q.op),
                              hoop_policy_res_name(q.type), doc);
                fail();
            }
        }

        hoop_policy_free(p);
    }

    free(doc);

    print_message("differential: %u policies, %lu checks (seed 0x%llx): "
                  "%lu allowed, %lu denied by a deny, %lu by no grant, "
                  "%lu expired, %lu not yet valid; check_any allowed %lu\n",
                  rounds, checks, (unsigned long long) seed,
                  reasons[HOOP_POLICY_ALLOWED_GRANT],
                  reasons[HOOP_POLICY_DENIED_DENY],
                  reasons[HOOP_POLICY_DENIED_NO_GRANT],
                  reasons[HOOP_POLICY_DENIED_EXPIRED],
                  reasons[HOOP_POLICY_DENIED_NOT_YET_VALID], any);

    /* every outcome was met */
    for (k = 0; k <= HOOP_POLICY_DENIED_NOT_YET_VALID; k++) {
        assert_true(reasons[k] > rounds);
    }
}


/* ======================================================================
 * --lint mode, for policy-examples/check-schema.py
 */

static int
lint_main(int argc, char **argv)
{
    int                     i, rc;
    size_t                  len, k;
    char                   *text, line[512];
    hoop_policy_t          *p;
    hoop_policy_options_t   o;

    memset(&o, 0, sizeof(o));
    rc = 0;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
            o.now = strtoll(argv[++i], NULL, 10);
            continue;
        }

        text = read_file(argv[i], &len);
        if (text == NULL) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            rc = 2;
            continue;
        }

        p = hoop_policy_compile_ex(text, len, &o, diags, MAXD, &ndiags);

        for (k = 0; k < ndiags && k < MAXD; k++) {
            hoop_policy_diag_format(&diags[k], argv[i], line, sizeof(line));
            printf("%s\n", line);
        }

        printf("%s: %s\n", argv[i], p ? "ok" : "refused");

        if (p == NULL && rc == 0) {
            rc = 1;
        }

        hoop_policy_free(p);
        free(text);
    }

    return rc;
}


int
main(int argc, char **argv)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_yaml_json_equivalence),
        cmocka_unit_test(test_yaml_positions_and_reserved_warning),
        cmocka_unit_test(test_diagnostics),
        cmocka_unit_test(test_diagnostic_counts),
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_examples_semantics),
        cmocka_unit_test(test_implication_matrix),
        cmocka_unit_test(test_deny_matrix),
        cmocka_unit_test(test_semantics),
        cmocka_unit_test(test_cluster_and_addresses),
        cmocka_unit_test(test_check_any),
        cmocka_unit_test(test_authorized_ops),
        cmocka_unit_test(test_regex_limits),
        cmocka_unit_test(test_introspection),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_canonical_stable),
        cmocka_unit_test(test_differential),
    };

    if (argc > 1 && strcmp(argv[1], "--lint") == 0) {
        return lint_main(argc, argv);
    }

    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
