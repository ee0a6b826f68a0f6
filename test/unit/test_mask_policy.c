/*
 * Unit tests of the masking section of the policy (src/mask/
 * hoop_mask_policy.c) and of its hook in the policy compiler (src/policy,
 * options.masking), with cmocka:
 *
 *   - the example policy-examples/proposed/masking.yaml compiles without
 *     a diagnostic through hoop_policy_compile_ex() + the hook
 *   - every diagnostic code, with its JSON Pointer and, through the
 *     policy compiler, the line and column of the value concerned
 *   - key files: read exactly, too short, too long, missing, relative,
 *     a directory, readable by others (warning); lint without keys
 *   - selection: topics (literal, "*", prefix, regex), principals, groups,
 *     "everyone except group X", direction, unauthenticated callers,
 *     rule order by id, the cache of sets and its limit
 *   - end to end: the set a request gets masks a record as the rules say
 *     (HMAC checked against OpenSSL's HMAC() with the key file's bytes)
 *
 * Run: make -C test/unit check-mask (check-mask-asan under ASan, UBSan).
 */

#define _GNU_SOURCE

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hoop_mask_policy_hook.h"


#define MAXD  256

/* the second line of every test document: one grant, so no warning */
#define GRANT                                                                 \
    "grants: [ { id: g, principals: [ \"User:a\" ], resources: "            \
    "[ { type: topic, name: t } ], operations: [ read ], reviewed_by: c, "    \
    "reviewed_at: 2026-11-01, reason: r } ]\n"

static hoop_policy_diag_t   pdiags[MAXD];
static size_t               npdiags;
static hoop_mask_diag_t     mdiags[MAXD];
static size_t               nmdiags;

static char                 keydir[1024];
static char                 key32[1200];     /* 32-byte key file */
static char                 key16f[1200];    /* 16 bytes */
static char                 key15[1200];     /* too short */
static char                 key1025[1200];   /* too long */
static char                 keyworld[1200];  /* mode 644 */

static const uint8_t        k32[32] = "0123456789abcdefghijklmnopqrstuv";

static hoop_mask_out_t      out;


static void
write_key(char *path, size_t size, const char *name, const uint8_t *p,
    size_t n, mode_t mode)
{
    FILE  *f;

    snprintf(path, size, "%s/%s", keydir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}


static int
setup(void **state)
{
    uint8_t  big[1025];
    char     cwd[512];

    (void) state;

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(keydir, sizeof(keydir), "%s/build/mask-keys-XXXXXX", cwd);
    assert_int_equal(mkdir("build", 0700) == 0 || access("build", F_OK) == 0,
                     1);
    assert_non_null(mkdtemp(keydir));

    memset(big, 'k', sizeof(big));
    write_key(key32, sizeof(key32), "k32", k32, 32, 0600);
    write_key(key16f, sizeof(key16f), "k16", k32, 16, 0600);
    write_key(key15, sizeof(key15), "k15", k32, 15, 0600);
    write_key(key1025, sizeof(key1025), "k1025", big, 1025, 0600);
    write_key(keyworld, sizeof(keyworld), "kworld", k32, 32, 0644);

    hoop_mask_out_init(&out, NULL);

    return 0;
}


static int
teardown(void **state)
{
    char  path[1300];

    (void) state;

    unlink(key32);
    unlink(key16f);
    unlink(key15);
    unlink(key1025);
    unlink(keyworld);
    snprintf(path, sizeof(path), "%s/dir", keydir);
    rmdir(path);
    rmdir(keydir);
    hoop_mask_out_free(&out);

    return 0;
}


static void
print_pdiags(void)
{
    size_t  i;
    char    line[600];

    for (i = 0; i < npdiags && i < MAXD; i++) {
        hoop_policy_diag_format(&pdiags[i], "doc", line, sizeof(line));
        print_message("  %s (%s)\n", line, pdiags[i].path);
    }
}


static void
print_mdiags(void)
{
    size_t  i;

    for (i = 0; i < nmdiags && i < MAXD; i++) {
        print_message("  %s %s %s: %s\n",
                      mdiags[i].severity ? "warning" : "error",
                      mdiags[i].code, mdiags[i].path, mdiags[i].message);
    }
}


/* a whole policy document (YAML) through the policy compiler + hook */
static hoop_policy_t *
compile_doc(const char *yaml, hoop_mask_policy_hook_t *h)
{
    hoop_policy_options_t  o;

    memset(&o, 0, sizeof(o));
    o.now = 1796083200;                       /* 2026-12-01 */
    o.masking = hoop_mask_policy_hook;
    o.masking_ctx = h;

    return hoop_policy_compile_ex(yaml, strlen(yaml), &o, pdiags, MAXD,
                                  &npdiags);
}


/* the masking section alone, as JSON text */
static hoop_mask_policy_t *
compile_json(const char *json, unsigned flags)
{
    hoop_mask_policy_options_t  o;

    memset(&o, 0, sizeof(o));
    o.flags = flags;

    return hoop_mask_policy_compile(json, strlen(json), &o, mdiags, MAXD,
                                    &nmdiags);
}


static char *
read_file(const char *path, size_t *len)
{
    FILE   *f;
    char   *p;
    long    n;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc((size_t) n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t) n, f), (size_t) n);
    p[n] = '\0';
    fclose(f);
    *len = (size_t) n;

    return p;
}


static const hoop_mask_set_t *
select_set(hoop_mask_policy_t *mp, const char *topic, const char *user,
    const char *group, hoop_mask_direction_t d)
{
    int                     rc;
    hoop_mask_str_t         g;
    hoop_mask_request_t     req;
    const hoop_mask_set_t  *set;

    memset(&req, 0, sizeof(req));
    req.topic.data = topic;
    req.topic.len = strlen(topic);
    req.principal.data = user;
    req.principal.len = user ? strlen(user) : 0;

    if (group) {
        g.data = group;
        g.len = strlen(group);
        req.groups = &g;
        req.ngroups = 1;
    }

    req.direction = d;

    rc = hoop_mask_policy_select(mp, &req, &set);
    assert_int_equal(rc, 0);

    return set;
}


/* "id,id,..." of a set's rules, adjacent duplicates merged */
static const char *
set_ids(const hoop_mask_set_t *set)
{
    static char   buf[1024];
    size_t        i, n;
    const char   *id, *prev;

    buf[0] = '\0';

    if (set == NULL) {
        return "-";
    }

    n = 0;
    prev = NULL;

    for (i = 0; i < hoop_mask_rule_count(set); i++) {
        id = hoop_mask_rule_id(set, i);
        if (prev && strcmp(prev, id) == 0) {
            continue;
        }
        n += snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "," : "", id);
        prev = id;
    }

    return buf;
}


static const char *
mask(const hoop_mask_set_t *set, const char *value, uint32_t *counts)
{
    int          rc;
    static char  buf[4096];

    rc = hoop_mask_apply(set, HOOP_MASK_VALUE, (const uint8_t *) value,
                         strlen(value), &out, counts);
    assert_true(rc >= 0);

    if (rc == HOOP_MASK_UNCHANGED) {
        return value;
    }

    assert_true(out.len < sizeof(buf));
    memcpy(buf, out.data, out.len);
    buf[out.len] = '\0';

    return buf;
}


/* ---------------------------------------------------------------------- */


/* the shipped example lints clean, with the hook, without keys */
static void
test_example_lints(void **state)
{
    char                     *text, path[512];
    size_t                    len;
    const char               *base;
    hoop_policy_t            *p;
    hoop_mask_policy_hook_t   h;

    (void) state;

    base = getenv("POLICY_EXAMPLES");
    len = 0;
    snprintf(path, sizeof(path), "%s/proposed/masking.yaml",
             base ? base : "../../policy-examples");
    text = read_file(path, &len);
    assert_non_null(text);

    memset(&h, 0, sizeof(h));
    h.options.flags = HOOP_MASK_POLICY_NO_KEYS;

    p = compile_doc(text, &h);
    if (p == NULL || npdiags) {
        print_pdiags();
    }
    assert_non_null(p);
    assert_int_equal(npdiags, 0);
    assert_non_null(h.compiled);

    assert_int_equal(hoop_mask_policy_rule_count(h.compiled), 4);
    assert_string_equal(hoop_mask_policy_rule_id(h.compiled, 0),
                        "cards-at-rest");
    assert_string_equal(hoop_mask_policy_rule_id(h.compiled, 1),
                        "contact-details");
    assert_string_equal(hoop_mask_policy_rule_id(h.compiled, 2),
                        "contractor-no-address");
    assert_string_equal(hoop_mask_policy_rule_id(h.compiled, 3),
                        "log-scrub");
    assert_null(hoop_mask_policy_rule_id(h.compiled, 4));

    /* the section is kept in the canonical form as before */
    assert_non_null(hoop_policy_reserved(p, "masking"));

    /* without the hook: the old warning, nothing else */
    {
        hoop_policy_options_t  o;
        hoop_policy_t         *q;

        memset(&o, 0, sizeof(o));
        o.now = 1796083200;
        q = hoop_policy_compile_ex(text, len, &o, pdiags, MAXD, &npdiags);
        assert_non_null(q);
        assert_int_equal(npdiags, 1);
        assert_string_equal(pdiags[0].code, "reserved-section");
        assert_string_equal(hoop_policy_sha256_hex(q),
                            hoop_policy_sha256_hex(p));
        hoop_policy_free(q);
    }

    /* the produce side of a card topic: lint-only keys are not used */
    {
        const hoop_mask_set_t  *set;
        hoop_mask_request_t     req;

        set = select_set(h.compiled, "customers.cards", "crm-svc", NULL,
                         HOOP_MASK_PRODUCE);
        assert_string_equal(set_ids(set), "cards-at-rest");

        memset(&req, 0, sizeof(req));
        req.topic.data = "customers.x";
        req.topic.len = 11;
        req.principal.data = "bob";
        req.principal.len = 3;
        req.direction = HOOP_MASK_FETCH;
        assert_int_equal(hoop_mask_policy_select(h.compiled, &req, &set),
                         HOOP_MASK_ECRYPTO);
        assert_null(set);
    }

    hoop_mask_policy_free(h.compiled);
    hoop_policy_free(p);
    free(text);
}


/* one problem per case: code, JSON Pointer, line and column */
static void
test_diagnostics(void **state)
{
    size_t                    i, bad;
    char                      doc[4096];
    hoop_policy_t            *p;
    hoop_mask_policy_hook_t   h;
    static const char        *head =
        "policy_version: 1\n"
        GRANT
        "masking:\n";
    static const struct {
        const char  *masking;        /* lines 4.. of the document */
        const char  *code;
        const char  *path;
        unsigned     line;
        unsigned     column;
        int          warning;
    } cases[] = {
        { "  - { id: a, topics: [ { name: t } ], principals: [ \"User:*\" ],\n"
          "      direction: fetch, fields: [ { path: \"$.x\", "
          "strategy: redact } ], colour: red }\n",
          "unknown-key", "/masking/0/colour", 5, 80, 0 },
        { "  - { topics: [ { name: t } ], principals: [ \"User:*\" ],\n"
          "      direction: fetch, fields: [ { strategy: redact } ] }\n",
          "missing-key", "/masking/0", 4, 5, 0 },
        { "  - { id: \"-a\", topics: [ { name: t } ], principals: "
          "[ \"User:*\" ],\n"
          "      direction: fetch, fields: [ { strategy: redact } ] }\n",
          "bad-id", "/masking/0/id", 4, 11, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: both\n"
          "    fields:\n"
          "      - { path: \"$.a[-1]\", strategy: redact }\n",
          "bad-path", "/masking/0/fields/0/path", 9, 17, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: both\n"
          "    fields:\n"
          "      - { regex: \"(\", strategy: redact }\n",
          "bad-regex", "/masking/0/fields/0/regex", 9, 18, 0 },
        { "  - id: a\n"
          "    topics: [ { name: \"t(\", match: regex } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: both\n"
          "    fields: [ { strategy: redact } ]\n",
          "bad-regex", "/masking/0/topics/0/name", 5, 23, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t, match: glob } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: both\n"
          "    fields: [ { strategy: redact } ]\n",
          "bad-match", "/masking/0/topics/0/match", 5, 33, 0 },
        { "  - id: a\n"
          "    topics: [ { name: \"a b\" } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: both\n"
          "    fields: [ { strategy: redact } ]\n",
          "topic-name", "/masking/0/topics/0/name", 5, 23, 1 },
        { "  - id: a\n"
          "    topics: [ { type: group, name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: both\n"
          "    fields: [ { strategy: redact } ]\n",
          "bad-type", "/masking/0/topics/0/type", 5, 23, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"Group:*\" ]\n"
          "    direction: both\n"
          "    fields: [ { strategy: redact } ]\n",
          "bad-principal", "/masking/0/principals/0", 6, 19, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    except: [ \"User:*\" ]\n"
          "    direction: both\n"
          "    fields: [ { strategy: redact } ]\n"
          "    reviewed_by: c\n    reviewed_at: 2026-11-01\n"
          "    reason: r\n",
          "bad-principal", "/masking/0/except/0", 7, 15, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    except: [ \"Group:support\" ]\n"
          "    direction: both\n"
          "    fields: [ { strategy: redact } ]\n"
          "    reviewed_by: c\n    reason: r\n",
          "missing-review", "/masking/0", 4, 5, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:alice\", \"Group:ops\" ]\n"
          "    except: [ \"Group:ops\", \"User:alice\" ]\n"
          "    direction: both\n"
          "    fields: [ { strategy: redact } ]\n"
          "    reviewed_by: c\n    reviewed_at: 2026-11-01\n"
          "    reason: r\n",
          "never-applies", "/masking/0/except", 7, 13, 1 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    except: [ \"Group:s\" ]\n"
          "    direction: both\n"
          "    fields: [ { strategy: redact } ]\n"
          "    reviewed_by: c\n    reviewed_at: 2026-02-30\n"
          "    reason: r\n",
          "bad-time", "/masking/0/reviewed_at", 11, 18, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: read\n"
          "    fields: [ { strategy: redact } ]\n",
          "bad-direction", "/masking/0/direction", 7, 16, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    fields: [ { strategy: redact } ]\n",
          "missing-key", "/masking/0", 4, 5, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$.a\", strategy: null } ]\n",
          "bad-strategy", "/masking/0/fields/0/strategy", 8, 40, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$.a\", strategy: redact, keep: 2 } ]\n",
          "strategy-param", "/masking/0/fields/0/keep", 8, 54, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$.a\", strategy: keep_last } ]\n",
          "missing-key", "/masking/0/fields/0", 8, 15, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$.a\", strategy: keep_last, keep: -1 } ]\n",
          "bad-parameter", "/masking/0/fields/0/keep", 8, 57, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$.a\", strategy: keep_first, keep: 2,\n"
          "                mask_char: \"ab\" } ]\n",
          "bad-parameter", "/masking/0/fields/0/mask_char", 9, 28, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { part: key, strategy: remove } ]\n",
          "tombstone", "/masking/0/fields/0/strategy", 8, 38, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { strategy: \"null\" } ]\n",
          "tombstone", "/masking/0/fields/0/strategy", 8, 27, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$\", strategy: remove } ]\n",
          "bad-path", "/masking/0/fields/0/path", 8, 23, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { part: header, strategy: remove } ]\n",
          "missing-key", "/masking/0/fields/0", 8, 15, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { header: x, strategy: remove, path: \"$.a\" } ]\n",
          "bad-header", "/masking/0/fields/0/header", 8, 25, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$.a\", strategy: hash } ]\n",
          "missing-key", "/masking/0/fields/0", 8, 15, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$.a\", strategy: hash, key_file: k } ]\n",
          "key-file", "/masking/0/fields/0/key_file", 8, 56, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$.a\", strategy: hash, key_file: /k,\n"
          "                hash_chars: 4 } ]\n",
          "bad-parameter", "/masking/0/fields/0/hash_chars", 9, 29, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$.a\", strategy: redact,"
          " replacement: 5 } ]\n",
          "type", "/masking/0/fields/0/replacement", 8, 61, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: []\n",
          "empty", "/masking/0/fields", 8, 13, 0 },
        { "  - id: a\n"
          "    topics: [ { name: t } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$.a\", strategy: redact } ]\n"
          "  - id: a\n"
          "    topics: [ { name: u } ]\n"
          "    principals: [ \"User:*\" ]\n"
          "    direction: fetch\n"
          "    fields: [ { path: \"$.a\", strategy: redact } ]\n",
          "duplicate-id", "/masking/1/id", 9, 9, 0 },
        { "  x: 1\n",
          "type", "/masking", 4, 3, 0 },
        { "  - 7\n",
          "type", "/masking/0", 4, 5, 0 },
    };

    (void) state;

    bad = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(doc, sizeof(doc), "%s%s", head, cases[i].masking);
        memset(&h, 0, sizeof(h));
        h.options.flags = HOOP_MASK_POLICY_NO_KEYS;

        p = compile_doc(doc, &h);

        if (npdiags != 1 || strcmp(pdiags[0].code, cases[i].code) != 0
            || strcmp(pdiags[0].path, cases[i].path) != 0
            || pdiags[0].line != cases[i].line
            || pdiags[0].column != cases[i].column
            || (pdiags[0].severity == HOOP_POLICY_SEV_WARNING)
               != cases[i].warning)
        {
            print_message("case %zu:\n%s", i, doc);
            print_pdiags();
            print_message("case %zu: expected %s at %s %u:%u\n", i,
                          cases[i].code, cases[i].path, cases[i].line,
                          cases[i].column);
            bad++;
            hoop_mask_policy_free(h.compiled);
            hoop_policy_free(p);
            continue;
        }

        /* a warning compiles, an error does not */
        if (cases[i].warning) {
            assert_non_null(p);
            assert_non_null(h.compiled);
        } else {
            assert_null(p);
            assert_null(h.compiled);
        }

        hoop_mask_policy_free(h.compiled);
        hoop_policy_free(p);
    }

    assert_int_equal(bad, 0);
}


/* errors everywhere: all are reported (more than the hook's first 64) */
static void
test_many_diagnostics(void **state)
{
    size_t                    i, n;
    char                     *doc;
    hoop_policy_t            *p;
    hoop_mask_policy_hook_t   h;

    (void) state;

    doc = malloc(64 * 1024);
    assert_non_null(doc);

    n = (size_t) sprintf(doc, "policy_version: 1\n%smasking:\n",
                         GRANT);

    for (i = 0; i < 100; i++) {
        n += (size_t) sprintf(doc + n,
                              "  - { id: r%zu, topics: [ { name: t } ], "
                              "principals: [ \"User:*\" ], direction: up, "
                              "fields: [ { path: \"$.\", strategy: redact } "
                              "] }\n", i);
    }

    memset(&h, 0, sizeof(h));
    p = compile_doc(doc, &h);
    assert_null(p);
    assert_null(h.compiled);
    assert_int_equal(npdiags, 200);

    for (i = 0; i < 200; i++) {
        assert_int_equal(pdiags[i].line, 4 + i / 2);
    }

    assert_string_equal(pdiags[199].path, "/masking/99/fields/0/path");
    assert_string_equal(pdiags[198].path, "/masking/99/direction");

    free(doc);
}


/* the section alone, as JSON, and its own problems */
static void
test_section_json(void **state)
{
    hoop_mask_policy_t  *mp;

    (void) state;

    /* nothing, null and an empty list are "no rules" */
    mp = hoop_mask_policy_compile(NULL, 0, NULL, mdiags, MAXD, &nmdiags);
    assert_non_null(mp);
    assert_int_equal(nmdiags, 0);
    assert_int_equal(hoop_mask_policy_rule_count(mp), 0);
    assert_int_equal(hoop_mask_policy_has_direction(mp, HOOP_MASK_FETCH), 0);
    assert_null(select_set(mp, "t", "u", NULL, HOOP_MASK_FETCH));
    hoop_mask_policy_free(mp);

    mp = compile_json("[]", 0);
    assert_non_null(mp);
    hoop_mask_policy_free(mp);

    mp = compile_json("null", 0);
    assert_non_null(mp);
    hoop_mask_policy_free(mp);

    /* not JSON */
    mp = compile_json("[{", 0);
    assert_null(mp);
    assert_int_equal(nmdiags, 1);
    assert_string_equal(mdiags[0].code, "syntax");
    assert_string_equal(mdiags[0].path, "/masking");

    /* a base other than /masking, escaped keys in pointers */
    {
        hoop_mask_policy_options_t  o;

        memset(&o, 0, sizeof(o));
        o.base = "/x";
        mp = hoop_mask_policy_compile("[{\"a/b~\":1}]", 12, &o, mdiags, MAXD,
                                      &nmdiags);
        assert_null(mp);
        assert_string_equal(mdiags[0].code, "unknown-key");
        assert_string_equal(mdiags[0].path, "/x/0/a~1b~0");
    }

    /* diagnostics beyond the room given are counted */
    mp = hoop_mask_policy_compile("[1,2,3]", 7, NULL, mdiags, 2, &nmdiags);
    assert_null(mp);
    assert_int_equal(nmdiags, 3);
    assert_string_equal(mdiags[1].path, "/masking/1");
}


/* key files: exact bytes, size limits, errors, modes, lint without keys */
static void
test_key_files(void **state)
{
    size_t               i;
    char                 json[4096], dir[1300];
    hoop_mask_policy_t  *mp;
    static const char   *tmpl =
        "[{\"id\":\"k\",\"topics\":[{\"name\":\"t\"}],"
        "\"principals\":[\"User:*\"],\"direction\":\"fetch\","
        "\"fields\":[{\"path\":\"$.a\",\"strategy\":\"hash\","
        "\"key_file\":\"%s\"}]}]";
    struct {
        const char  *file;
        const char  *code;          /* NULL: compiles */
        const char  *text;          /* in the message */
    } cases[] = {
        { key32, NULL, NULL },
        { key16f, NULL, NULL },
        { key15, "key-file", "holds 15 bytes" },
        { key1025, "key-file", "more than 1024 bytes" },
        { "/nonexistent/hoop.key", "key-file", "No such file" },
        { "relative.key", "key-file", "not an absolute path" },
        { dir, "key-file", "not a regular file" },
        { keyworld, "key-file-mode", "chmod 600" },
    };

    (void) state;

    snprintf(dir, sizeof(dir), "%s/dir", keydir);
    assert_int_equal(mkdir(dir, 0700), 0);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(json, sizeof(json), tmpl, cases[i].file);
        mp = compile_json(json, 0);

        if (cases[i].code == NULL) {
            if (mp == NULL || nmdiags) {
                print_mdiags();
            }
            assert_non_null(mp);
            assert_int_equal(nmdiags, 0);

        } else {
            if (nmdiags != 1 || strcmp(mdiags[0].code, cases[i].code) != 0
                || strstr(mdiags[0].message, cases[i].text) == NULL)
            {
                print_mdiags();
                fail_msg("key case %zu", i);
            }

            assert_string_equal(mdiags[0].path,
                                "/masking/0/fields/0/key_file");

            /* the mode is a warning, the rest errors */
            if (strcmp(cases[i].code, "key-file-mode") == 0) {
                assert_non_null(mp);
            } else {
                assert_null(mp);
            }
        }

        hoop_mask_policy_free(mp);
    }

    /* lint without keys: only the path is checked */
    snprintf(json, sizeof(json), tmpl, "/nonexistent/hoop.key");
    mp = compile_json(json, HOOP_MASK_POLICY_NO_KEYS);
    assert_non_null(mp);
    assert_int_equal(nmdiags, 0);
    hoop_mask_policy_free(mp);

    snprintf(json, sizeof(json), tmpl, "relative.key");
    mp = compile_json(json, HOOP_MASK_POLICY_NO_KEYS);
    assert_null(mp);
    assert_string_equal(mdiags[0].code, "key-file");
}


/* who gets which rules */
static void
test_select(void **state)
{
    char                    doc[8192];
    hoop_policy_t          *p;
    hoop_mask_str_t         groups[2];
    hoop_mask_request_t     req;
    const hoop_mask_set_t  *set, *again;
    hoop_mask_policy_hook_t h;

    (void) state;

    snprintf(doc, sizeof(doc),
        "policy_version: 1\n"
        GRANT
        "masking:\n"
        "  - id: z-prefix\n"
        "    topics: [ { name: \"orders.\", match: prefix } ]\n"
        "    principals: [ \"User:*\" ]\n"
        "    except: [ \"Group:support\", \"User:root\" ]\n"
        "    direction: fetch\n"
        "    fields: [ { path: \"$.email\", strategy: hash,"
        " key_file: \"%s\", hash_chars: 8 } ]\n"
        "    reviewed_by: carol\n"
        "    reviewed_at: 2026-11-01T09:30:00+02:00\n"
        "    reason: \"SEC-1\"\n"
        "  - id: a-literal\n"
        "    topics: [ { name: orders.eu }, { name: pay, match: literal } ]\n"
        "    principals: [ \"User:alice\", \"Group:contractors\" ]\n"
        "    direction: both\n"
        "    fields:\n"
        "      - { path: \"$.email\", strategy: redact }\n"
        "      - { path: \"$.card\", strategy: keep_last, keep: 4 }\n"
        "  - id: m-regex\n"
        "    topics: [ { name: \"logs\\\\.[a-z]+\", match: regex } ]\n"
        "    principals: [ \"User:*\" ]\n"
        "    direction: produce\n"
        "    fields: [ { regex: \"[0-9]{3}\", strategy: redact } ]\n"
        "  - id: b-all\n"
        "    topics: [ { name: \"*\" } ]\n"
        "    principals: [ \"Group:interns\" ]\n"
        "    direction: fetch\n"
        "    fields: [ { part: header, header: auth, strategy: remove } ]\n",
        key32);

    memset(&h, 0, sizeof(h));
    p = compile_doc(doc, &h);
    if (p == NULL || npdiags) {
        print_pdiags();
    }
    assert_non_null(p);
    assert_int_equal(npdiags, 0);
    assert_non_null(h.compiled);

    assert_int_equal(hoop_mask_policy_has_direction(h.compiled,
                                                    HOOP_MASK_FETCH), 1);
    assert_int_equal(hoop_mask_policy_has_direction(h.compiled,
                                                    HOOP_MASK_PRODUCE), 1);

    /* prefix, everyone except support and root */
    assert_string_equal(set_ids(select_set(h.compiled, "orders.us", "bob",
                                           NULL, HOOP_MASK_FETCH)),
                        "z-prefix");
    assert_string_equal(set_ids(select_set(h.compiled, "orders.us", "bob",
                                           "support", HOOP_MASK_FETCH)),
                        "-");
    assert_string_equal(set_ids(select_set(h.compiled, "orders.us", "root",
                                           NULL, HOOP_MASK_FETCH)),
                        "-");
    assert_string_equal(set_ids(select_set(h.compiled, "orders.us", "bob",
                                           NULL, HOOP_MASK_PRODUCE)),
                        "-");
    assert_string_equal(set_ids(select_set(h.compiled, "orders", "bob",
                                           NULL, HOOP_MASK_FETCH)),
                        "-");

    /* literal + prefix, ordered by id; group membership */
    assert_string_equal(set_ids(select_set(h.compiled, "orders.eu", "alice",
                                           NULL, HOOP_MASK_FETCH)),
                        "a-literal,z-prefix");
    assert_string_equal(set_ids(select_set(h.compiled, "orders.eu", "carl",
                                           "contractors", HOOP_MASK_PRODUCE)),
                        "a-literal");
    assert_string_equal(set_ids(select_set(h.compiled, "orders.eu", "carl",
                                           NULL, HOOP_MASK_PRODUCE)),
                        "-");
    assert_string_equal(set_ids(select_set(h.compiled, "pay", "alice",
                                           NULL, HOOP_MASK_PRODUCE)),
                        "a-literal");
    assert_string_equal(set_ids(select_set(h.compiled, "pay2", "alice",
                                           NULL, HOOP_MASK_PRODUCE)),
                        "-");

    /* regex of the whole name */
    assert_string_equal(set_ids(select_set(h.compiled, "logs.app", "x",
                                           NULL, HOOP_MASK_PRODUCE)),
                        "m-regex");
    assert_string_equal(set_ids(select_set(h.compiled, "logs.app1", "x",
                                           NULL, HOOP_MASK_PRODUCE)),
                        "-");
    assert_string_equal(set_ids(select_set(h.compiled, "xlogs.app", "x",
                                           NULL, HOOP_MASK_PRODUCE)),
                        "-");

    /* "*" and several groups */
    memset(&req, 0, sizeof(req));
    req.topic.data = "orders.eu";
    req.topic.len = 9;
    req.principal.data = "ivan";
    req.principal.len = 4;
    groups[0].data = "contractors";
    groups[0].len = 11;
    groups[1].data = "interns";
    groups[1].len = 7;
    req.groups = groups;
    req.ngroups = 2;
    req.direction = HOOP_MASK_FETCH;
    assert_int_equal(hoop_mask_policy_select(h.compiled, &req, &set), 0);
    assert_string_equal(set_ids(set), "a-literal,b-all,z-prefix");
    assert_int_equal(hoop_mask_rule_count(set), 4);

    /* the cache: the same combination is the same set */
    assert_int_equal(hoop_mask_policy_select(h.compiled, &req, &again), 0);
    assert_ptr_equal(set, again);
    assert_ptr_equal(select_set(h.compiled, "orders.eu", "alice", NULL,
                                HOOP_MASK_FETCH),
                     select_set(h.compiled, "orders.eu", "bob",
                                "contractors", HOOP_MASK_FETCH));

    /* no identity: every rule of the topic and direction, no exception */
    assert_string_equal(set_ids(select_set(h.compiled, "orders.eu", NULL,
                                           NULL, HOOP_MASK_FETCH)),
                        "a-literal,b-all,z-prefix");
    assert_string_equal(set_ids(select_set(h.compiled, "orders.us", NULL,
                                           "support", HOOP_MASK_FETCH)),
                        "b-all,z-prefix");

    /* end to end: a-literal wins on $.email (first by id) */
    {
        uint32_t      counts[8];
        const char   *r;

        set = select_set(h.compiled, "orders.eu", "alice", NULL,
                         HOOP_MASK_FETCH);
        memset(counts, 0, sizeof(counts));
        r = mask(set, "{\"email\":\"a@b.c\",\"card\":\"4111111111111111\","
                      "\"n\":1}", counts);
        assert_string_equal(r, "{\"email\":\"***\",\"card\":"
                               "\"************1111\",\"n\":1}");
        assert_int_equal(counts[0], 1);          /* a-literal, email */
        assert_int_equal(counts[1], 1);          /* a-literal, card */
        assert_int_equal(counts[2], 0);          /* z-prefix, email */

        /* nothing selected: unchanged, byte for byte */
        r = "{ \"x\" : 1 }";
        assert_ptr_equal(mask(set, r, counts), r);
    }

    /* the hash is HMAC-SHA-256 with the key file's bytes */
    {
        char           expect[80];
        unsigned int   mlen;
        unsigned char  mac[32];
        const char    *r;

        set = select_set(h.compiled, "orders.us", "bob", NULL,
                         HOOP_MASK_FETCH);
        r = mask(set, "{\"email\":\"a@b.c\"}", NULL);

        assert_non_null(HMAC(EVP_sha256(), k32, 32,
                             (const unsigned char *) "a@b.c", 5, mac,
                             &mlen));
        snprintf(expect, sizeof(expect),
                 "{\"email\":\"%02x%02x%02x%02x\"}", mac[0], mac[1], mac[2],
                 mac[3]);
        assert_string_equal(r, expect);
    }

    /* the header rule */
    {
        int  rc;

        set = select_set(h.compiled, "anything", "x", "interns",
                         HOOP_MASK_FETCH);
        assert_string_equal(set_ids(set), "b-all");
        rc = hoop_mask_header(set, (const uint8_t *) "auth", 4,
                              (const uint8_t *) "Bearer x", 8, &out, NULL);
        assert_int_equal(rc, HOOP_MASK_DROP_HEADER);
        rc = hoop_mask_header(set, (const uint8_t *) "Auth", 4,
                              (const uint8_t *) "Bearer x", 8, &out, NULL);
        assert_int_equal(rc, HOOP_MASK_UNCHANGED);
    }

    hoop_mask_policy_free(h.compiled);
    hoop_policy_free(p);
}


/* more combinations than the cache holds: fail closed, no crash */
static void
test_cache_limit(void **state)
{
    int                     rc;
    size_t                  i, k, n, ng;
    char                    json[16384], names[13][8];
    hoop_mask_str_t         groups[13];
    hoop_mask_policy_t     *mp;
    hoop_mask_request_t     req;
    const hoop_mask_set_t  *set;

    (void) state;

    n = (size_t) sprintf(json, "[");

    for (i = 0; i < 13; i++) {
        n += (size_t) sprintf(json + n,
                              "%s{\"id\":\"r%02zu\",\"topics\":[{\"name\":"
                              "\"t\"}],\"principals\":[\"Group:g%zu\"],"
                              "\"direction\":\"both\",\"fields\":[{\"path\":"
                              "\"$.a%zu\",\"strategy\":\"redact\"}]}",
                              i ? "," : "", i, i, i);
        snprintf(names[i], sizeof(names[i]), "g%zu", i);
    }

    sprintf(json + n, "]");

    mp = compile_json(json, 0);
    assert_non_null(mp);

    memset(&req, 0, sizeof(req));
    req.topic.data = "t";
    req.topic.len = 1;
    req.principal.data = "u";
    req.principal.len = 1;
    req.groups = groups;
    req.direction = HOOP_MASK_PRODUCE;

    for (k = 1; k <= HOOP_MASK_POLICY_MAX_SETS + 1; k++) {
        ng = 0;
        for (i = 0; i < 13; i++) {
            if (k & (1u << i)) {
                groups[ng].data = names[i];
                groups[ng].len = strlen(names[i]);
                ng++;
            }
        }
        req.ngroups = ng;

        rc = hoop_mask_policy_select(mp, &req, &set);

        if (k <= HOOP_MASK_POLICY_MAX_SETS) {
            assert_int_equal(rc, 0);
            assert_non_null(set);
        } else {
            assert_int_equal(rc, HOOP_MASK_ETOOBIG);
            assert_null(set);
        }
    }

    /* combinations seen before still answer */
    req.ngroups = 1;
    groups[0].data = names[0];
    groups[0].len = 2;
    assert_int_equal(hoop_mask_policy_select(mp, &req, &set), 0);
    assert_string_equal(set_ids(set), "r00");

    hoop_mask_policy_free(mp);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_example_lints),
        cmocka_unit_test(test_diagnostics),
        cmocka_unit_test(test_many_diagnostics),
        cmocka_unit_test(test_section_json),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_cache_limit),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
