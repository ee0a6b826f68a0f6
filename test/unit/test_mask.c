/*
 * Unit tests of src/mask (the masking engine), with cmocka:
 *
 *   - selectors: every path form, escaped and unicode member names,
 *     nested arrays, headers, regexes (with and without a path, the
 *     "mask" group, numbers)
 *   - strategies: redact, keep first/last (code points), hash (RFC 4231
 *     vectors, truncation, containers), remove (commas in every position),
 *     null, on every JSON type
 *   - the scanner: all of RFC 8259 that matters (escapes, surrogates, big
 *     numbers, whitespace kept byte for byte), invalid JSON and invalid
 *     UTF-8 left unchanged, the depth limit, empty input
 *   - precedence, counts, compile errors (one per message), buffer reuse
 *     without allocation
 *
 * Run: make -C test/unit check-mask (check-mask-asan under ASan, UBSan).
 * The differential test against jansson is test_mask_diff.c.
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
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hoop_mask.h"


static hoop_mask_out_t   out;
static char              result[1 << 16];

static const uint8_t     key16[] = "0123456789abcdef";


static int
setup(void **state)
{
    (void) state;
    hoop_mask_out_init(&out, NULL);
    return 0;
}


static int
teardown(void **state)
{
    (void) state;
    hoop_mask_out_free(&out);
    return 0;
}


static hoop_mask_set_t *
compile_rules(const hoop_mask_rule_t *r, size_t n)
{
    hoop_mask_set_t    *s;
    hoop_mask_error_t   err;

    s = hoop_mask_compile(r, n, NULL, &err);
    if (s == NULL) {
        fail_msg("compile: %s", err.message);
    }

    return s;
}


/* a set of one value rule */
static hoop_mask_set_t *
one(const char *path, hoop_mask_strategy_t st)
{
    hoop_mask_rule_t  r;

    memset(&r, 0, sizeof(r));
    r.id = "r1";
    r.path = path;
    r.strategy = st;

    if (st == HOOP_MASK_KEEP_FIRST || st == HOOP_MASK_KEEP_LAST) {
        r.n = 2;
    }

    if (st == HOOP_MASK_HASH) {
        r.key = key16;
        r.key_len = 16;
        r.hash_chars = 8;
    }

    return compile_rules(&r, 1);
}


/* the output is valid JSON when the input was */
static void
check_json(const char *text, size_t len)
{
    json_t       *j;
    json_error_t  e;

    j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

    /* limits of jansson, not of JSON */
    if (j == NULL && (strstr(e.text, "too big")
                      || strstr(e.text, "real number overflow")
                      || strstr(e.text, "NUL byte in object key")))
    {
        return;
    }

    if (j == NULL) {
        fail_msg("output is not JSON (%s): %.*s", e.text, (int) len, text);
    }
    json_decref(j);
}


/* masks in (a value) and returns what the consumer gets */
static const char *
apply_part(const hoop_mask_set_t *s, hoop_mask_part_t part, const char *in,
    uint32_t *counts)
{
    int  rc;

    rc = hoop_mask_apply(s, part, (const uint8_t *) in, strlen(in), &out,
                         counts);
    assert_true(rc == HOOP_MASK_UNCHANGED || rc == HOOP_MASK_CHANGED);

    if (rc == HOOP_MASK_UNCHANGED) {
        assert_int_equal(out.len, 0);
        return in;
    }

    assert_true(out.len < sizeof(result));
    memcpy(result, out.data, out.len);
    result[out.len] = '\0';

    /* CHANGED means different bytes */
    assert_false(out.len == strlen(in) && memcmp(out.data, in, out.len) == 0);

    if (out.status == HOOP_MASK_JSON) {
        check_json(result, out.len);
    }

    return result;
}


static const char *
apply(const hoop_mask_set_t *s, const char *in)
{
    return apply_part(s, HOOP_MASK_VALUE, in, NULL);
}


#define MASKS(set, in, expected)                                             \
    assert_string_equal(apply(set, in), expected)

/* one rule, one document, freed */
static void
expect1(const char *path, hoop_mask_strategy_t st, const char *in,
    const char *expected)
{
    hoop_mask_set_t  *s;

    s = one(path, st);
    MASKS(s, in, expected);
    hoop_mask_free(s);
}


static void
hmac_hex(const uint8_t *key, size_t klen, const char *msg, size_t mlen,
    unsigned chars, char *hex)
{
    unsigned char  mac[32];
    unsigned int   ml, i;

    HMAC(EVP_sha256(), key, (int) klen, (const uint8_t *) msg, mlen, mac,
         &ml);

    for (i = 0; i < chars; i++) {
        hex[i] = "0123456789abcdef"[(mac[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    }
    hex[chars] = '\0';
}


/* ---------------------------------------------------------------------
 * selectors
 */

static void
test_path_member(void **state)
{
    (void) state;

    expect1("$.a", HOOP_MASK_REDACT, "{\"a\":1,\"b\":2}",
            "{\"a\":\"***\",\"b\":2}");
    expect1("$.a.b", HOOP_MASK_REDACT,
            "{\"b\":1,\"a\":{\"a\":1,\"b\":\"x\"},\"c\":{\"b\":2}}",
            "{\"b\":1,\"a\":{\"a\":1,\"b\":\"***\"},\"c\":{\"b\":2}}");
    /* a member name never matches an array element, nor the reverse */
    expect1("$.a.b", HOOP_MASK_REDACT, "{\"a\":[{\"b\":1}]}",
            "{\"a\":[{\"b\":1}]}");
    expect1("$.a[0]", HOOP_MASK_REDACT, "{\"a\":{\"0\":1}}",
            "{\"a\":{\"0\":1}}");
    /* not there at all */
    expect1("$.x.y", HOOP_MASK_REDACT, "{\"x\":1,\"y\":{\"x\":{\"y\":2}}}",
            "{\"x\":1,\"y\":{\"x\":{\"y\":2}}}");
    /* '-' and digits inside shorthand names */
    expect1("$.user-id2", HOOP_MASK_REDACT, "{\"user-id2\":7}",
            "{\"user-id2\":\"***\"}");
}


static void
test_path_index_and_wildcards(void **state)
{
    (void) state;

    expect1("$.a[1]", HOOP_MASK_REDACT, "{\"a\":[1,2,3]}",
            "{\"a\":[1,\"***\",3]}");
    expect1("$[0]", HOOP_MASK_REDACT, "[[1],2]", "[\"***\",2]");
    expect1("$.cards[*].number", HOOP_MASK_KEEP_LAST,
            "{\"cards\":[{\"number\":\"4111111111111111\",\"cvv\":\"1\"},"
            "{\"number\":\"5500\"},{\"x\":1},7]}",
            "{\"cards\":[{\"number\":\"**************11\",\"cvv\":\"1\"},"
            "{\"number\":\"**00\"},{\"x\":1},7]}");
    expect1("$.*.ssn", HOOP_MASK_REDACT,
            "{\"p\":{\"ssn\":\"1\"},\"q\":[{\"ssn\":2}],\"ssn\":3,"
            "\"r\":{\"s\":{\"ssn\":4}}}",
            "{\"p\":{\"ssn\":\"***\"},\"q\":[{\"ssn\":2}],\"ssn\":3,"
            "\"r\":{\"s\":{\"ssn\":4}}}");
    /* [*] and .* are the same: members and elements */
    expect1("$[*].a", HOOP_MASK_REDACT, "{\"x\":{\"a\":1},\"y\":[{\"a\":2}]}",
            "{\"x\":{\"a\":\"***\"},\"y\":[{\"a\":2}]}");
    expect1("$.*[0]", HOOP_MASK_REDACT, "{\"x\":[1,2],\"y\":[3]}",
            "{\"x\":[\"***\",2],\"y\":[\"***\"]}");
    /* nested arrays */
    expect1("$.m[1][0]", HOOP_MASK_REDACT, "{\"m\":[[1,2],[3,4],[5]]}",
            "{\"m\":[[1,2],[\"***\",4],[5]]}");
    expect1("$[*][*][*]", HOOP_MASK_REDACT, "[[[1,2]],[[3],4],5]",
            "[[[\"***\",\"***\"]],[[\"***\"],4],5]");
    expect1("$", HOOP_MASK_REDACT, "  {\"a\":1} ", "  \"***\" ");
}


static void
test_path_descendants(void **state)
{
    (void) state;

    expect1("$..email", HOOP_MASK_REDACT,
            "{\"email\":\"a\",\"x\":[{\"email\":\"b\"},{\"y\":{\"email\":"
            "[\"c\"]}}],\"emails\":1}",
            "{\"email\":\"***\",\"x\":[{\"email\":\"***\"},{\"y\":{\"email\":"
            "\"***\"}}],\"emails\":1}");
    /* outermost wins: an email inside an email is not looked at */
    expect1("$..e", HOOP_MASK_KEEP_FIRST, "{\"e\":{\"e\":\"abcdef\"}}",
            "{\"e\":{\"e\":\"ab****\"}}");
    expect1("$.a..b", HOOP_MASK_REDACT, "{\"b\":1,\"a\":{\"b\":2,\"c\":[{\"b\":3}]}}",
            "{\"b\":1,\"a\":{\"b\":\"***\",\"c\":[{\"b\":\"***\"}]}}");
    expect1("$..[1]", HOOP_MASK_REDACT, "[0,[0,1],{\"a\":[0,1]}]",
            "[0,\"***\",{\"a\":[0,\"***\"]}]");
    expect1("$..*", HOOP_MASK_NULL, "{\"a\":{\"b\":1},\"c\":[2]}",
            "{\"a\":null,\"c\":null}");
    expect1("$..a.b", HOOP_MASK_REDACT, "{\"a\":{\"a\":{\"b\":1}}}",
            "{\"a\":{\"a\":{\"b\":\"***\"}}}");
    expect1("$..a..b", HOOP_MASK_REDACT, "{\"x\":{\"a\":[{\"y\":{\"b\":1}}]}}",
            "{\"x\":{\"a\":[{\"y\":{\"b\":\"***\"}}]}}");
}


static void
test_path_escaped_names(void **state)
{
    (void) state;

    /* the document's escapes are decoded before comparing */
    expect1("$.name", HOOP_MASK_REDACT, "{\"n\\u0061m\\u0065\":1}",
            "{\"n\\u0061m\\u0065\":\"***\"}");
    expect1("$['caf\\u00e9']", HOOP_MASK_REDACT,
            "{\"caf\\u00E9\":1,\"café\":2,\"cafe\":3}",
            "{\"caf\\u00E9\":\"***\",\"café\":\"***\",\"cafe\":3}");
    expect1("$.café", HOOP_MASK_REDACT, "{\"café\":1}", "{\"café\":\"***\"}");
    /* a surrogate pair in a key against the character in the path */
    expect1("$['😀']", HOOP_MASK_REDACT, "{\"\\ud83d\\ude00\":true}",
            "{\"\\ud83d\\ude00\":\"***\"}");
    expect1("$['\\ud83d\\ude00']", HOOP_MASK_REDACT, "{\"😀\":true}",
            "{\"😀\":\"***\"}");
    expect1("$[\"a\\\"b\"]", HOOP_MASK_REDACT, "{\"a\\\"b\":1}",
            "{\"a\\\"b\":\"***\"}");
    expect1("$['it\\'s']", HOOP_MASK_REDACT, "{\"it's\":1}",
            "{\"it's\":\"***\"}");
    expect1("$['a b'].c", HOOP_MASK_REDACT, "{\"a b\":{\"c\":1}}",
            "{\"a b\":{\"c\":\"***\"}}");
    expect1("$['']", HOOP_MASK_REDACT, "{\"\":1,\"a\":2}",
            "{\"\":\"***\",\"a\":2}");
    expect1("$['a\\/b\\n']", HOOP_MASK_REDACT, "{\"a/b\\n\":1}",
            "{\"a/b\\n\":\"***\"}");
    /* a NUL in a key */
    expect1("$['a\\u0000b']", HOOP_MASK_REDACT, "{\"a\\u0000b\":1,\"a\":2}",
            "{\"a\\u0000b\":\"***\",\"a\":2}");
}


static void
test_path_errors(void **state)
{
    size_t               i;
    hoop_mask_rule_t     r;
    hoop_mask_error_t    err;
    hoop_mask_set_t     *s;
    char                 many[400];

    static const struct {
        const char  *path;
        long         offset;
        const char  *message;
    } cases[] = {
        { "a.b", 0, "a path starts with '$'" },
        { "", 0, "a path starts with '$'" },
        { "$.", 2, "expected a member name or '*' at offset 2" },
        { "$a", 1, "expected '.', '..' or '[' at offset 1" },
        { "$.0a", 2, "a member name cannot start with a digit" },
        { "$[-1]", 2, "negative indexes are not supported" },
        { "$[0:2]", 3, "unions and slices are not supported" },
        { "$['a','b']", 5, "unions and slices are not supported" },
        { "$[?(@.a)]", 2, "filters and slices are not supported" },
        { "$['abc", 6, "unterminated quoted name" },
        { "$[01]", 2, "an index has no leading zeros" },
        { "$[1", 3, "expected ']'" },
        { "$[", 2, "unterminated '['" },
        { "$[x]", 2, "expected a quoted name, an index or '*' after '['" },
        { "$['\\x']", 3, "invalid escape" },
        { "$['\\ud800']", 3, "lone high surrogate" },
        { "$['\\udc00']", 3, "lone low surrogate" },
        { "$['\\u12']", 3, "invalid \\u escape" },
        { "$.a\xff", 3, "invalid UTF-8" },
        { "$.a b", 3, "expected '.', '..' or '[' at offset 3" },
        { "$...a", 3, "expected a member name or '*'" },
        { "$[99999999999]", 2, "index too large" },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&r, 0, sizeof(r));
        r.id = "p";
        r.path = cases[i].path;
        s = hoop_mask_compile(&r, 1, NULL, &err);
        if (s != NULL) {
            fail_msg("path %s compiled", cases[i].path);
        }
        if (strstr(err.message, cases[i].message) == NULL
            || strncmp(err.message, "rule 0 (id \"p\"), path: ", 23) != 0)
        {
            fail_msg("path %s: %s", cases[i].path, err.message);
        }
        assert_string_equal(err.field, "path");
        assert_int_equal(err.offset, cases[i].offset);
        assert_int_equal(err.rule, 0);
    }

    /* 62 steps compile, 63 do not */
    strcpy(many, "$");
    for (i = 0; i < 62; i++) {
        strcat(many, ".a");
    }
    memset(&r, 0, sizeof(r));
    r.id = "p";
    r.path = many;
    s = hoop_mask_compile(&r, 1, NULL, &err);
    assert_non_null(s);
    hoop_mask_free(s);

    strcat(many, ".a");
    assert_null(hoop_mask_compile(&r, 1, NULL, &err));
    assert_non_null(strstr(err.message, "more than 62 steps"));
}


/* a 62-step path matches at depth 62 only */
static void
test_path_long(void **state)
{
    int               i;
    char              path[200], doc[800], exp[800];
    hoop_mask_set_t  *s;

    (void) state;

    strcpy(path, "$");
    doc[0] = exp[0] = '\0';

    for (i = 0; i < 62; i++) {
        strcat(path, "[0]");
        strcat(doc, "[");
        strcat(exp, "[");
    }
    strcat(doc, "1");
    strcat(exp, "\"***\"");
    for (i = 0; i < 62; i++) {
        strcat(doc, "]");
        strcat(exp, "]");
    }

    s = one(path, HOOP_MASK_REDACT);
    MASKS(s, doc, exp);
    hoop_mask_free(s);
}


/* ---------------------------------------------------------------------
 * strategies
 */

static void
test_redact(void **state)
{
    hoop_mask_rule_t  r;
    hoop_mask_set_t  *s;

    (void) state;

    /* every type becomes the string */
    expect1("$.a", HOOP_MASK_REDACT, "{\"a\":\"secret\"}", "{\"a\":\"***\"}");
    expect1("$.a", HOOP_MASK_REDACT, "{\"a\":-1.5e300}", "{\"a\":\"***\"}");
    expect1("$.a", HOOP_MASK_REDACT, "{\"a\":true}", "{\"a\":\"***\"}");
    expect1("$.a", HOOP_MASK_REDACT, "{\"a\":null}", "{\"a\":\"***\"}");
    expect1("$.a", HOOP_MASK_REDACT, "{\"a\":{\"b\":[1,{}]}}",
            "{\"a\":\"***\"}");
    expect1("$.a", HOOP_MASK_REDACT, "{\"a\":[]}", "{\"a\":\"***\"}");

    /* a replacement that needs escapes is written escaped */
    memset(&r, 0, sizeof(r));
    r.id = "r";
    r.path = "$.a";
    r.replacement = "<\"re\\dacted\"\n\x01é>";
    s = compile_rules(&r, 1);
    MASKS(s, "{\"a\":1}", "{\"a\":\"<\\\"re\\\\dacted\\\"\\n\\u0001é>\"}");
    hoop_mask_free(s);

    /* an empty replacement */
    r.replacement = "";
    s = compile_rules(&r, 1);
    MASKS(s, "{\"a\":1}", "{\"a\":\"\"}");
    hoop_mask_free(s);
}


static void
test_keep(void **state)
{
    hoop_mask_rule_t  r;
    hoop_mask_set_t  *s;

    (void) state;

    memset(&r, 0, sizeof(r));
    r.id = "k";
    r.path = "$.a";
    r.strategy = HOOP_MASK_KEEP_LAST;
    r.n = 4;
    s = compile_rules(&r, 1);

    MASKS(s, "{\"a\":\"4111111111111111\"}", "{\"a\":\"************1111\"}");
    /* code points, not bytes: é is 2 bytes, 😀 4, 中 3 */
    MASKS(s, "{\"a\":\"éé😀中x中é\"}", "{\"a\":\"***中x中é\"}");
    MASKS(s, "{\"a\":\"\\u00e9\\u00e9\\ud83d\\ude00\\u4e2dx\\u4e2d\\u00e9\"}",
          "{\"a\":\"***中x中é\"}");
    /* n code points or fewer: all masked */
    MASKS(s, "{\"a\":\"1234\"}", "{\"a\":\"****\"}");
    MASKS(s, "{\"a\":\"é\"}", "{\"a\":\"*\"}");
    MASKS(s, "{\"a\":\"\"}", "{\"a\":\"\"}");
    /* the kept part is re-escaped as needed */
    MASKS(s, "{\"a\":\"abcd\\n\\\"\\\\\\/\"}", "{\"a\":\"****\\n\\\"\\\\/\"}");
    /* numbers and literals: their text, as a string */
    MASKS(s, "{\"a\":-12345.678e+9}", "{\"a\":\"*********8e+9\"}");
    MASKS(s, "{\"a\":123456789012345678901234567890}",
          "{\"a\":\"**************************7890\"}");
    MASKS(s, "{\"a\":false}", "{\"a\":\"*alse\"}");
    MASKS(s, "{\"a\":null}", "{\"a\":\"****\"}");
    /* a container: every scalar inside, names kept; counted once */
    MASKS(s, "{\"a\":{\"n\":\"123456\",\"l\":[12345,true,null,{\"x\":\"ab\"}]}}",
          "{\"a\":{\"n\":\"**3456\",\"l\":[\"*2345\",\"****\",\"****\","
          "{\"x\":\"**\"}]}}");
    hoop_mask_free(s);

    r.strategy = HOOP_MASK_KEEP_FIRST;
    r.n = 2;
    r.mask_char = "é";
    s = compile_rules(&r, 1);
    MASKS(s, "{\"a\":\"😀中xyz\"}", "{\"a\":\"😀中ééé\"}");
    MASKS(s, "{\"a\":\"ab\"}", "{\"a\":\"éé\"}");
    hoop_mask_free(s);

    r.n = 0;
    r.mask_char = "#";
    s = compile_rules(&r, 1);
    MASKS(s, "{\"a\":\"secret\"}", "{\"a\":\"######\"}");
    hoop_mask_free(s);
}


static void
test_hash(void **state)
{
    char              hex[65], exp[256];
    uint8_t           k20[20], k131[131];
    const char       *canon;
    hoop_mask_rule_t  r;
    hoop_mask_set_t  *s;

    (void) state;

    /* RFC 4231 test case 2... with a 20-byte key (case 1) */
    memset(k20, 0x0b, sizeof(k20));
    memset(&r, 0, sizeof(r));
    r.id = "h";
    r.strategy = HOOP_MASK_HASH;
    r.key = k20;
    r.key_len = sizeof(k20);
    s = compile_rules(&r, 1);
    MASKS(s, "Hi There",
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hoop_mask_free(s);

    /* case 6: a key longer than the block is hashed first */
    memset(k131, 0xaa, sizeof(k131));
    r.key = k131;
    r.key_len = sizeof(k131);
    s = compile_rules(&r, 1);
    MASKS(s, "Test Using Larger Than Block-Size Key - Hash Key First",
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    hoop_mask_free(s);

    /* inside JSON: a string's decoded text, truncated */
    r.key = key16;
    r.key_len = 16;
    r.hash_chars = 12;
    r.path = "$.u";
    s = compile_rules(&r, 1);
    hmac_hex(key16, 16, "alice@example.com", 17, 12, hex);
    snprintf(exp, sizeof(exp), "{\"u\":\"%s\"}", hex);
    MASKS(s, "{\"u\":\"alice@example.com\"}", exp);
    MASKS(s, "{\"u\":\"alice\\u0040example.com\"}", exp);

    /* a number's text as written: 1.50 and 1.5 differ */
    hmac_hex(key16, 16, "1.50", 4, 12, hex);
    snprintf(exp, sizeof(exp), "{\"u\":\"%s\"}", hex);
    MASKS(s, "{\"u\":1.50}", exp);
    hmac_hex(key16, 16, "true", 4, 12, hex);
    snprintf(exp, sizeof(exp), "{\"u\":\"%s\"}", hex);
    MASKS(s, "{\"u\":true}", exp);

    /* a container's canonical text: no blanks, strings re-escaped */
    canon = "{\"b\":\"xA\\n/\",\"a\":[1,2.0,{}]}";
    hmac_hex(key16, 16, canon, strlen(canon), 12, hex);
    snprintf(exp, sizeof(exp), "{\"u\": \"%s\"}", hex);
    MASKS(s, "{\"u\": { \"b\" : \"x\\u0041\\u000a\\/\",\n \"a\":[1, 2.0, { }]}}",
          exp);
    snprintf(exp, sizeof(exp), "{\"u\":\"%s\"}", hex);
    MASKS(s, "{\"u\":{\"b\":\"xA\\n/\",\"a\":[1,2.0,{}]}}", exp);
    hoop_mask_free(s);
}


static void
test_remove(void **state)
{
    uint32_t          counts[1];
    hoop_mask_set_t  *s;

    (void) state;

    s = one("$..x", HOOP_MASK_REMOVE);

    /* first, middle, last, only */
    MASKS(s, "{\"x\":1,\"a\":2,\"b\":3}", "{\"a\":2,\"b\":3}");
    MASKS(s, "{\"a\":2,\"x\":1,\"b\":3}", "{\"a\":2,\"b\":3}");
    MASKS(s, "{\"a\":2,\"b\":3,\"x\":1}", "{\"a\":2,\"b\":3}");
    MASKS(s, "{\"x\":1}", "{}");
    /* several in a row, everywhere */
    MASKS(s, "{\"x\":1,\"x\":2,\"a\":3,\"x\":4,\"x\":5,\"b\":6,\"x\":7}",
          "{\"a\":3,\"b\":6}");
    MASKS(s, "{\"x\":1,\"x\":{\"x\":2}}", "{}");
    /* whitespace around: what is left is valid and keeps its layout */
    MASKS(s, "{ \"x\" : 1 , \"a\" : 2 }", "{ \"a\" : 2 }");
    MASKS(s, "{ \"a\" : 2 , \"x\" : 1 }", "{ \"a\" : 2 }");
    MASKS(s, "{\n  \"a\": 2,\n  \"x\": [1, 2],\n  \"b\": 3\n}",
          "{\n  \"a\": 2,\n  \"b\": 3\n}");
    MASKS(s, "{ \"x\" : 1 }", "{  }");
    /* nested objects with removals at several levels */
    MASKS(s, "{\"a\":{\"x\":1,\"b\":{\"x\":2}},\"x\":3}",
          "{\"a\":{\"b\":{}}}");
    hoop_mask_free(s);

    s = one("$.a[*].x", HOOP_MASK_REMOVE);
    MASKS(s, "{\"a\":[{\"x\":1,\"y\":1},{\"y\":2,\"x\":2},{\"x\":3}]}",
          "{\"a\":[{\"y\":1},{\"y\":2},{}]}");
    hoop_mask_free(s);

    /* array elements */
    s = one("$[1]", HOOP_MASK_REMOVE);
    MASKS(s, "[0,1,2]", "[0,2]");
    MASKS(s, "[0, 1]", "[0]");
    MASKS(s, "[0]", "[0]");
    hoop_mask_free(s);

    s = one("$[0]", HOOP_MASK_REMOVE);
    MASKS(s, "[ 0 , 1 ]", "[ 1 ]");
    MASKS(s, "[[1,2]]", "[]");
    hoop_mask_free(s);

    s = one("$[*]", HOOP_MASK_REMOVE);
    MASKS(s, "[1,2,3]", "[]");
    MASKS(s, "[ 1 , 2 ,\t3 ]", "[  ]");
    MASKS(s, "[]", "[]");
    counts[0] = 0;
    assert_string_equal(apply_part(s, HOOP_MASK_VALUE, "[1,[2],{}]", counts),
                        "[]");
    assert_int_equal(counts[0], 3);
    hoop_mask_free(s);

    /* an index counts elements of the input, removed ones too */
    {
        hoop_mask_rule_t  r[2];

        memset(r, 0, sizeof(r));
        r[0].id = "a";
        r[0].path = "$[0]";
        r[0].strategy = HOOP_MASK_REMOVE;
        r[1].id = "b";
        r[1].path = "$[1]";
        r[1].strategy = HOOP_MASK_REDACT;
        s = compile_rules(r, 2);
        MASKS(s, "[1,2,3]", "[\"***\",3]");
        hoop_mask_free(s);
    }
}


/*
 * Duplicate member names (RFC 8259 says names SHOULD be unique; parsers
 * differ on which one they keep, jansson the last): every occurrence is
 * selected, spelled raw or escaped, so no parser sees a clear value.
 */
static void
test_duplicate_keys(void **state)
{
    uint32_t          counts[1];
    hoop_mask_set_t  *s;

    (void) state;

    expect1("$.a", HOOP_MASK_REDACT, "{\"a\":\"x\",\"b\":1,\"a\":\"y\"}",
            "{\"a\":\"***\",\"b\":1,\"a\":\"***\"}");
    expect1("$.a", HOOP_MASK_REDACT, "{\"a\":1,\"\\u0061\":{\"b\":2}}",
            "{\"a\":\"***\",\"\\u0061\":\"***\"}");
    expect1("$.a.b", HOOP_MASK_KEEP_LAST,
            "{\"a\":{\"b\":\"1234\"},\"a\":{\"b\":\"56789\",\"b\":\"x\"}}",
            "{\"a\":{\"b\":\"**34\"},\"a\":{\"b\":\"***89\",\"b\":\"*\"}}");
    expect1("$.a", HOOP_MASK_NULL, "{\"a\":[1],\"a\":null}",
            "{\"a\":null,\"a\":null}");

    s = one("$.a", HOOP_MASK_REMOVE);
    counts[0] = 0;
    assert_string_equal(apply_part(s, HOOP_MASK_VALUE,
                                   "{\"a\":1,\"b\":2,\"a\":3,\"a\":4}", counts),
                        "{\"b\":2}");
    assert_int_equal(counts[0], 3);
    hoop_mask_free(s);

    /* the same digest for both: joins see one value */
    {
        char  hex[9], expect[64];

        hmac_hex(key16, 16, "v", 1, 8, hex);
        snprintf(expect, sizeof(expect), "{\"a\":\"%s\",\"a\":\"%s\"}",
                 hex, hex);
        expect1("$.a", HOOP_MASK_HASH, "{\"a\":\"v\",\"a\":\"\\u0076\"}",
                expect);
    }
}


static void
test_null(void **state)
{
    (void) state;

    expect1("$.a", HOOP_MASK_NULL, "{\"a\":\"x\",\"b\":{\"c\":1}}",
            "{\"a\":null,\"b\":{\"c\":1}}");
    expect1("$.b", HOOP_MASK_NULL, "{\"a\":\"x\",\"b\":{\"c\":1}}",
            "{\"a\":\"x\",\"b\":null}");
    expect1("$.a", HOOP_MASK_NULL, "{\"a\":null}", "{\"a\":null}");
    expect1("$", HOOP_MASK_NULL, "[1]", "null");
}


/* ---------------------------------------------------------------------
 * regexes
 */

static void
test_regex(void **state)
{
    uint32_t          counts[3];
    hoop_mask_rule_t  r[3];
    hoop_mask_set_t  *s;

    (void) state;

    memset(r, 0, sizeof(r));
    r[0].id = "mail";
    r[0].path = "$..*";
    r[0].regex = "[a-z0-9.]+@[a-z0-9.]+";
    r[0].strategy = HOOP_MASK_REDACT;
    r[0].replacement = "<email>";
    r[1].id = "card";
    r[1].path = "$..*";
    r[1].regex = "\\b(?<mask>[0-9]{12})[0-9]{4}\\b";
    r[1].strategy = HOOP_MASK_KEEP_LAST;
    r[1].n = 2;
    s = compile_rules(r, 2);

    memset(counts, 0, sizeof(counts));
    assert_string_equal(
        apply_part(s, HOOP_MASK_VALUE,
                   "{\"note\":\"write a@b.com or c.d@e.org, card "
                   "4111111111111111.\",\"n\":4111111111111111,\"x\":[\"a@b\"],"
                   "\"t\":true,\"k\":\"none\"}", counts),
        "{\"note\":\"write <email> or <email>, card **********111111.\","
        "\"n\":\"**********111111\",\"x\":[\"<email>\"],\"t\":true,"
        "\"k\":\"none\"}");
    assert_int_equal(counts[0], 3);
    assert_int_equal(counts[1], 2);

    /* both rules on the same value */
    MASKS(s, "{\"a\":\"x@y.z 1234567890123456\"}",
          "{\"a\":\"<email> **********123456\"}");
    hoop_mask_free(s);

    /* every rule looks at the original text; where matches overlap, a
     * character goes to the first rule that matched it, and what is left
     * of a later match is still masked */
    memset(r, 0, sizeof(r));
    r[0].id = "four";
    r[0].path = "$.a";
    r[0].regex = "[0-9]{4}";
    r[0].replacement = "<4>";
    r[1].id = "digits";
    r[1].path = "$.a";
    r[1].regex = "[0-9]+";
    r[1].replacement = "#";
    r[2].id = "all";
    r[2].path = "$.a";
    r[2].regex = "b[0-9]+c";
    r[2].replacement = "!";
    s = compile_rules(r, 3);
    memset(counts, 0, sizeof(counts));
    assert_string_equal(apply_part(s, HOOP_MASK_VALUE,
                                   "{\"a\":\"ab123456cd 12345678 7\"}",
                                   counts),
                        "{\"a\":\"a!<4>#!d <4><4> #\"}");
    assert_int_equal(counts[0], 3);
    assert_int_equal(counts[1], 2);
    assert_int_equal(counts[2], 1);
    hoop_mask_free(s);

    /* so a later rule never matches inside an earlier one's output */
    {
        char  hex[65], exp[200];

        memset(r, 0, sizeof(r));
        r[0].id = "h";
        r[0].path = "$.a";
        r[0].regex = "[0-9]+";
        r[0].strategy = HOOP_MASK_HASH;
        r[0].key = key16;
        r[0].key_len = 16;
        r[1].id = "hexletters";
        r[1].path = "$.a";
        r[1].regex = "[a-f]";
        r[1].strategy = HOOP_MASK_REMOVE;
        s = compile_rules(r, 2);
        hmac_hex(key16, 16, "42", 2, 64, hex);
        snprintf(exp, sizeof(exp), "{\"a\":\"x %s y\"}", hex);
        MASKS(s, "{\"a\":\"x 42 y\"}", exp);
        hoop_mask_free(s);
    }

    /* a container selected by a regex rule: every string inside it */
    memset(r, 0, sizeof(r));
    r[0].id = "d";
    r[0].path = "$.notes";
    r[0].regex = "[0-9]";
    r[0].strategy = HOOP_MASK_REMOVE;
    s = compile_rules(r, 1);
    MASKS(s, "{\"notes\":{\"a\":\"r2d2\",\"b\":[\"c3po\",7,\"x\"]},\"z\":\"a1\"}",
          "{\"notes\":{\"a\":\"rd\",\"b\":[\"cpo\",\"\",\"x\"]},\"z\":\"a1\"}");
    hoop_mask_free(s);

    /* empty matches replace nothing; escapes in the value are decoded */
    r[0].regex = "x*";
    r[0].strategy = HOOP_MASK_REDACT;
    s = compile_rules(r, 1);
    MASKS(s, "{\"notes\":\"axxb\\u0078c\"}", "{\"notes\":\"a***b***c\"}");
    MASKS(s, "{\"notes\":\"abc\"}", "{\"notes\":\"abc\"}");
    hoop_mask_free(s);

    /* UTF mode: . is a character */
    r[0].regex = "é.";
    r[0].strategy = HOOP_MASK_KEEP_FIRST;
    r[0].n = 1;
    s = compile_rules(r, 1);
    MASKS(s, "{\"notes\":\"xé😀y\"}", "{\"notes\":\"xé*y\"}");
    hoop_mask_free(s);

    /* hash of a match */
    {
        char  hex[65], exp[200];

        memset(r, 0, sizeof(r));
        r[0].id = "h";
        r[0].path = "$.m";
        r[0].regex = "id=(?<mask>[0-9]+)";
        r[0].strategy = HOOP_MASK_HASH;
        r[0].key = key16;
        r[0].key_len = 16;
        r[0].hash_chars = 8;
        s = compile_rules(r, 1);
        hmac_hex(key16, 16, "42", 2, 8, hex);
        snprintf(exp, sizeof(exp), "{\"m\":\"user id=%s!\"}", hex);
        MASKS(s, "{\"m\":\"user id=42!\"}", exp);
        hoop_mask_free(s);
    }
}


static void
test_regex_limit(void **state)
{
    char                 doc[200];
    hoop_mask_rule_t     r;
    hoop_mask_set_t     *s;
    hoop_mask_options_t  o;
    hoop_mask_error_t    err;

    (void) state;

    memset(&r, 0, sizeof(r));
    r.id = "slow";
    r.path = "$.a";
    r.regex = "^(a|aa)+$";
    memset(&o, 0, sizeof(o));
    o.match_limit = 1000;

    s = hoop_mask_compile(&r, 1, &o, &err);
    assert_non_null(s);

    snprintf(doc, sizeof(doc), "{\"a\":\"%s\"}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
    assert_int_equal(hoop_mask_apply(s, HOOP_MASK_VALUE, (uint8_t *) doc,
                                     strlen(doc), &out, NULL),
                     HOOP_MASK_EREGEX);
    assert_non_null(strstr(out.error, "rule \"slow\""));
    assert_int_equal(out.len, 0);
    hoop_mask_free(s);
}


/* ---------------------------------------------------------------------
 * the scanner
 */

static void
test_unchanged(void **state)
{
    uint32_t          counts[1];
    hoop_mask_set_t  *s;
    size_t            i;

    static const char  *docs[] = {
        "{\"b\":{\"a\":1}}",
        "[{\"a\":1}]",
        "\"a\"",
        "0",
        "null",
        " {\"x\" : [ 1 , 2.5e-3 , \"\\u0061\" ] } \n",
        "{\"A\":1}",
    };

    (void) state;

    s = one("$.a", HOOP_MASK_REDACT);

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        counts[0] = 0;
        assert_int_equal(hoop_mask_apply(s, HOOP_MASK_VALUE,
                                         (const uint8_t *) docs[i],
                                         strlen(docs[i]), &out, counts),
                         HOOP_MASK_UNCHANGED);
        assert_int_equal(out.status, HOOP_MASK_JSON);
        assert_int_equal(out.len, 0);
        assert_int_equal(counts[0], 0);
    }

    /* a value already masked the same way: counted, bytes unchanged */
    counts[0] = 0;
    assert_int_equal(hoop_mask_apply(s, HOOP_MASK_VALUE,
                                     (const uint8_t *) "{\"a\":\"***\"}", 11,
                                     &out, counts),
                     HOOP_MASK_UNCHANGED);
    assert_int_equal(counts[0], 1);

    /* but the same text written with escapes is rewritten */
    MASKS(s, "{\"a\":\"\\u002a**\"}", "{\"a\":\"***\"}");

    hoop_mask_free(s);
}


static void
test_whitespace_kept(void **state)
{
    hoop_mask_rule_t  r[2];
    hoop_mask_set_t  *s;

    (void) state;

    memset(r, 0, sizeof(r));
    r[0].id = "a";
    r[0].path = "$.user.email";
    r[1].id = "b";
    r[1].path = "$.items[*].card";
    r[1].strategy = HOOP_MASK_KEEP_LAST;
    r[1].n = 4;
    s = compile_rules(r, 2);

    MASKS(s,
          "{\n"
          "    \"user\" : {\t\"email\"\r\n:  \"a@b.c\" ,\"n\": 1.0E+2 },\n"
          "    \"items\": [ { \"card\" :\"4111111111111111\" } ,\n"
          "                 {\"card\": 1234567812345678}, {\"x\":\"\\u00e9\"} ]\n"
          "}\n",
          "{\n"
          "    \"user\" : {\t\"email\"\r\n:  \"***\" ,\"n\": 1.0E+2 },\n"
          "    \"items\": [ { \"card\" :\"************1111\" } ,\n"
          "                 {\"card\": \"************5678\"}, {\"x\":\"\\u00e9\"} ]\n"
          "}\n");
    hoop_mask_free(s);
}


static void
test_scalars_and_empty(void **state)
{
    hoop_mask_set_t  *s;

    (void) state;

    s = one("$", HOOP_MASK_KEEP_FIRST);
    MASKS(s, "\"abcdef\"", "\"ab****\"");
    MASKS(s, " 12345 ", " \"12***\" ");
    MASKS(s, "true", "\"tr**\"");

    assert_int_equal(hoop_mask_apply(s, HOOP_MASK_VALUE, (const uint8_t *) "",
                                     0, &out, NULL), HOOP_MASK_UNCHANGED);
    assert_int_equal(out.status, HOOP_MASK_NOT_JSON);
    assert_int_equal(hoop_mask_apply(s, HOOP_MASK_VALUE, NULL, 0, &out, NULL),
                     HOOP_MASK_UNCHANGED);
    assert_int_equal(hoop_mask_apply(s, HOOP_MASK_VALUE,
                                     (const uint8_t *) " \n\t\r", 4, &out,
                                     NULL), HOOP_MASK_UNCHANGED);
    assert_int_equal(out.status, HOOP_MASK_NOT_JSON);
    hoop_mask_free(s);
}


static void
test_not_json(void **state)
{
    int               ctx;
    char              wrapped[200];
    size_t            i, n;
    hoop_mask_set_t  *s, *sets[2];
    uint32_t          counts[1];
    const char       *doc;

    static const struct {
        const char  *doc;
        size_t       len;
    } docs[] = {
#define D(x)  { x, sizeof(x) - 1 }
        D("{\"a\":1,}"),
        D("[1,]"),
        D("{\"a\" 1}"),
        D("{'a':1}"),
        D("{\"a\":NaN}"),
        D("{\"a\":01}"),
        D("{\"a\":1.}"),
        D("{\"a\":.5}"),
        D("{\"a\":-}"),
        D("{\"a\":1e}"),
        D("{\"a\":+1}"),
        D("{\"a\":\"x}"),
        D("{\"a\":\"x\\\"}"),
        D("\xef\xbb\xbf{\"a\":1}"),
        D("{\"a\":1} x"),
        D("{\"a\":1}}"),
        D("[1]]"),
        D("{\"a\":\"tab\there\"}"),
        D("{\"a\":\"us\x1f\"}"),
        D("{\"\x1f\":1}"),
        D("{\"a\":\"nul\0\"}"),
        D("{\"a\":1 /* c */}"),
        D("{\"a\":tru}"),
        D("{\"a\":nul}"),
        D("{\"a\":True}"),
        D("{\"a\":\"\\x41\"}"),
        D("{\"a\":\"\\u12G4\"}"),
        D("{\"a\":\"\\ud800\"}"),
        D("{\"a\":\"\\udc00\\ud800\"}"),
        D("{\"a\":\"\\ud800\\u0041\"}"),
        D("{\"a\":\"\xc0\xaf\"}"),          /* overlong */
        D("{\"a\":\"\xed\xa0\x80\"}"),      /* UTF-8 surrogate */
        D("{\"a\":\"\xf4\x90\x80\x80\"}"),  /* above U+10FFFF */
        D("{\"a\":\"\xe2\x82\"}"),          /* truncated sequence */
        D("{\"a\":\"\xff\"}"),
        D("{\"\xff\":1}"),
        D("{\"a\":1"),
        D("{\"a\""),
        D("{\"a\":"),
        D("{"),
        D("["),
        D("]"),
        D("{1:2}"),
        D("{\"a\":1 \"b\":2}"),
        D("[1 2]"),
        D("plain text"),
        D("\x00\x01\x02binary"),
        D("1 2"),
#undef D
    };

    (void) state;

    /* each case as it is, and inside a subtree no rule looks into (the
     * fast skip loop), under a rule that looks everywhere too */
    sets[0] = one("$.a", HOOP_MASK_REDACT);
    sets[1] = one("$..a", HOOP_MASK_REDACT);

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        for (ctx = 0; ctx < 4; ctx++) {
            s = sets[ctx % 2];
            doc = docs[i].doc;
            n = docs[i].len;

            if (ctx >= 2) {
                memcpy(wrapped, "{\"a\":1,\"z\":[", 12);
                memcpy(wrapped + 12, doc, n);
                memcpy(wrapped + 12 + n, "]}", 2);
                doc = wrapped;
                n += 14;
            }

            counts[0] = 0;
            if (hoop_mask_apply(s, HOOP_MASK_VALUE, (const uint8_t *) doc, n,
                                &out, counts) != HOOP_MASK_UNCHANGED
                || out.status != HOOP_MASK_NOT_JSON || counts[0] != 0)
            {
                fail_msg("case %zu, context %d: %.*s", i, ctx, (int) n, doc);
            }
        }
    }

    hoop_mask_free(sets[0]);
    hoop_mask_free(sets[1]);
}


/* every position of a special byte in strings of 0 to 40 bytes, so the
 * 16- and 8-byte skipping of the string scanner meets each at every
 * offset and at both ends of its blocks */
static void
test_string_scan(void **state)
{
    int               k;
    char              doc[128];
    size_t            len, at, n;
    hoop_mask_set_t  *s;

    static const struct {
        const char  *ins;
        int          json;
    } cases[] = {
        { "\x01", 0 }, { "\x1f", 0 }, { "\xff", 0 }, { "\xc3", 0 },
        { "\xc3\xa9", 1 }, { "\xf0\x9f\x98\x80", 1 }, { "\\n", 1 },
        { "\\u00e9", 1 }, { "\\q", 0 }, { "\"", 0 }, { "\x7f", 1 },
        { " ", 1 },
    };

    (void) state;

    s = one("$.b", HOOP_MASK_REDACT);

    for (k = 0; k < (int) (sizeof(cases) / sizeof(cases[0])); k++) {
        for (len = 0; len <= 40; len++) {
            for (at = 0; at <= len; at++) {
                n = (size_t) sprintf(doc, "{\"a\":\"%.*s%s%.*s\",\"b\":1}",
                                     (int) at, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                                     cases[k].ins, (int) (len - at),
                                     "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
                hoop_mask_apply(s, HOOP_MASK_VALUE, (uint8_t *) doc, n, &out,
                                NULL);
                if (out.status != (cases[k].json ? HOOP_MASK_JSON
                                                  : HOOP_MASK_NOT_JSON))
                {
                    fail_msg("case %d at %zu of %zu: status %d: %s", k, at,
                             len, out.status, doc);
                }
            }
        }
    }

    hoop_mask_free(s);
}


static void
test_big_numbers_and_escapes(void **state)
{
    hoop_mask_set_t  *s;

    (void) state;

    s = one("$.a", HOOP_MASK_REDACT);
    MASKS(s, "{\"n\":123456789012345678901234567890123456789,"
             "\"f\":-0.000000000000000000000000001e-99999,\"a\":1E400}",
          "{\"n\":123456789012345678901234567890123456789,"
          "\"f\":-0.000000000000000000000000001e-99999,\"a\":\"***\"}");
    MASKS(s, "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\uFFFF\\uD834\\uDD1E\","
             "\"a\":0}",
          "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\uFFFF\\uD834\\uDD1E\","
          "\"a\":\"***\"}");
    /* U+2028, DEL and non-characters are fine in JSON strings */
    MASKS(s, "{\"s\":\"\xe2\x80\xa8\x7f\xef\xbf\xbf\",\"a\":-0}",
          "{\"s\":\"\xe2\x80\xa8\x7f\xef\xbf\xbf\",\"a\":\"***\"}");
    hoop_mask_free(s);

    /* decoded text keeps NULs and surrogate pairs */
    s = one("$.a", HOOP_MASK_KEEP_LAST);
    MASKS(s, "{\"a\":\"x\\u0000y\\ud83d\\ude00\"}",
          "{\"a\":\"**y😀\"}");
    MASKS(s, "{\"a\":\"\\u0000\\u0001\\u001fz\"}",
          "{\"a\":\"**\\u001fz\"}");
    hoop_mask_free(s);
}


static void
test_depth(void **state)
{
    int                  i;
    char                 doc[1200];
    size_t               n;
    hoop_mask_rule_t     r[2];
    hoop_mask_set_t     *s, *s2;
    hoop_mask_options_t  o;

    (void) state;

    memset(r, 0, sizeof(r));
    r[0].id = "d";
    r[0].path = "$..a";
    s = compile_rules(r, 1);

    /* 127 arrays, then an object: 128 levels, the default limit */
    n = 0;
    for (i = 0; i < 127; i++) {
        doc[n++] = '[';
    }
    n += sprintf(doc + n, "{\"a\":1}");
    for (i = 0; i < 127; i++) {
        doc[n++] = ']';
    }
    doc[n] = '\0';

    assert_int_equal(hoop_mask_apply(s, HOOP_MASK_VALUE, (uint8_t *) doc, n,
                                     &out, NULL), HOOP_MASK_CHANGED);
    assert_int_equal(out.status, HOOP_MASK_JSON);
    assert_non_null(memmem(out.data, out.len, "{\"a\":\"***\"}", 11));

    /* one more level: too deep, unchanged */
    memmove(doc + 1, doc, n + 1);
    doc[0] = '[';
    doc[n + 1] = ']';
    doc[n + 2] = '\0';
    n += 2;
    assert_int_equal(hoop_mask_apply(s, HOOP_MASK_VALUE, (uint8_t *) doc, n,
                                     &out, NULL), HOOP_MASK_UNCHANGED);
    assert_int_equal(out.status, HOOP_MASK_TOO_DEEP);

    /* the same where no rule is alive (the fast skip) */
    r[1].id = "x";
    r[1].path = "$.nothing";
    s2 = compile_rules(&r[1], 1);
    assert_int_equal(hoop_mask_apply(s2, HOOP_MASK_VALUE, (uint8_t *) doc, n,
                                     &out, NULL), HOOP_MASK_UNCHANGED);
    assert_int_equal(out.status, HOOP_MASK_TOO_DEEP);
    hoop_mask_free(s2);

    /* a regex rule without a path still scrubs a document too deep */
    r[1].path = NULL;
    r[1].regex = "\"a\":1";
    r[1].replacement = "\"a\":0";
    s2 = compile_rules(&r[1], 1);
    assert_int_equal(hoop_mask_apply(s2, HOOP_MASK_VALUE, (uint8_t *) doc, n,
                                     &out, NULL), HOOP_MASK_CHANGED);
    assert_int_equal(out.status, HOOP_MASK_TOO_DEEP);
    assert_non_null(memmem(out.data, out.len, "{\"a\":0}", 7));
    hoop_mask_free(s2);
    hoop_mask_free(s);

    /* a lower limit */
    memset(&o, 0, sizeof(o));
    o.max_depth = 2;
    s = hoop_mask_compile(r, 1, &o, NULL);
    assert_non_null(s);
    MASKS(s, "[{\"a\":1}]", "[{\"a\":\"***\"}]");
    MASKS(s, "[[{\"a\":1}]]", "[[{\"a\":1}]]");
    assert_int_equal(out.status, HOOP_MASK_TOO_DEEP);
    MASKS(s, "[[1]]", "[[1]]");
    assert_int_equal(out.status, HOOP_MASK_JSON);
    hoop_mask_free(s);
}


/* ---------------------------------------------------------------------
 * rules, sets, parts
 */

static void
test_precedence(void **state)
{
    uint32_t          counts[3];
    hoop_mask_rule_t  r[3];
    hoop_mask_set_t  *s;

    (void) state;

    memset(r, 0, sizeof(r));
    r[0].id = "inner";
    r[0].path = "$.a.b";
    r[0].strategy = HOOP_MASK_NULL;
    r[1].id = "outer";
    r[1].path = "$.a";
    r[1].strategy = HOOP_MASK_REDACT;
    r[2].id = "dup";
    r[2].path = "$['a']";
    r[2].strategy = HOOP_MASK_NULL;
    s = compile_rules(r, 3);

    memset(counts, 0, sizeof(counts));
    assert_string_equal(apply_part(s, HOOP_MASK_VALUE,
                                   "{\"a\":{\"b\":1},\"c\":{\"b\":2}}", counts),
                        "{\"a\":\"***\",\"c\":{\"b\":2}}");
    assert_int_equal(counts[0], 0);      /* inside the outer selection */
    assert_int_equal(counts[1], 1);      /* first of the two on $.a */
    assert_int_equal(counts[2], 0);
    hoop_mask_free(s);

    /* a whole-value rule wins over a regex rule on the same value */
    memset(r, 0, sizeof(r));
    r[0].id = "re";
    r[0].path = "$..*";
    r[0].regex = "[0-9]";
    r[1].id = "whole";
    r[1].path = "$.a";
    r[1].strategy = HOOP_MASK_NULL;
    s = compile_rules(r, 2);
    memset(counts, 0, sizeof(counts));
    assert_string_equal(apply_part(s, HOOP_MASK_VALUE,
                                   "{\"a\":\"1\",\"b\":\"2x3\"}", counts),
                        "{\"a\":null,\"b\":\"***x***\"}");
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 1);
    hoop_mask_free(s);
}


static void
test_raw_payloads(void **state)
{
    char              hex[65];
    uint32_t          counts[2];
    hoop_mask_rule_t  r[2];
    hoop_mask_set_t  *s;

    (void) state;

    /* no path, no regex: the payload's bytes, JSON or not */
    memset(r, 0, sizeof(r));
    r[0].id = "k";
    r[0].part = HOOP_MASK_KEY;
    r[0].strategy = HOOP_MASK_HASH;
    r[0].key = key16;
    r[0].key_len = 16;
    s = compile_rules(r, 1);
    hmac_hex(key16, 16, "alice", 5, 64, hex);
    assert_string_equal(apply_part(s, HOOP_MASK_KEY, "alice", NULL), hex);
    assert_int_equal(out.status, HOOP_MASK_UNSCANNED);
    hmac_hex(key16, 16, "{\"id\": 1}", 9, 64, hex);
    assert_string_equal(apply_part(s, HOOP_MASK_KEY, "{\"id\": 1}", NULL), hex);
    /* the value part has no rule */
    assert_string_equal(apply_part(s, HOOP_MASK_VALUE, "alice", NULL),
                        "alice");
    assert_int_equal(hoop_mask_has_part(s, HOOP_MASK_KEY), 1);
    assert_int_equal(hoop_mask_has_part(s, HOOP_MASK_VALUE), 0);
    assert_int_equal(hoop_mask_has_part(s, HOOP_MASK_HEADER), 0);
    hoop_mask_free(s);

    memset(r, 0, sizeof(r));
    r[0].id = "k";
    r[0].strategy = HOOP_MASK_KEEP_LAST;
    r[0].n = 3;
    s = compile_rules(r, 1);
    MASKS(s, "plain text", "*******ext");
    /* invalid UTF-8 counts a byte as a character */
    MASKS(s, "\xff\xfe\xfdxyz", "***xyz");
    hoop_mask_free(s);

    /* regex without a path: the bytes when not JSON, strings when JSON */
    memset(r, 0, sizeof(r));
    r[0].id = "ssn";
    r[0].regex = "[0-9]{3}-[0-9]{2}-[0-9]{4}";
    r[0].strategy = HOOP_MASK_REDACT;
    r[1].id = "pw";
    r[1].regex = "password=(?<mask>\\S+)";
    r[1].strategy = HOOP_MASK_REDACT;
    s = compile_rules(r, 2);
    memset(counts, 0, sizeof(counts));
    assert_string_equal(
        apply_part(s, HOOP_MASK_VALUE,
                   "user 123-45-6789 login password=hunter2 ok 987-65-4321",
                   counts),
        "user *** login password=*** ok ***");
    assert_int_equal(out.status, HOOP_MASK_NOT_JSON);
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 1);
    MASKS(s, "{\"ssn\":\"123-45-6789\",\"k\":\"password=x\",\"123-45-6789\":1}",
          "{\"ssn\":\"***\",\"k\":\"password=***\",\"123-45-6789\":1}");
    assert_int_equal(out.status, HOOP_MASK_JSON);
    /* invalid UTF-8 in a non-JSON payload is no obstacle */
    MASKS(s, "\xff 123-45-6789 \xfe", "\xff *** \xfe");
    hoop_mask_free(s);
}


static int
header(const hoop_mask_set_t *s, const char *name, const char *value,
    uint32_t *counts)
{
    return hoop_mask_header(s, (const uint8_t *) name, strlen(name),
                            (const uint8_t *) value,
                            value ? strlen(value) : 0, &out, counts);
}


static void
test_headers(void **state)
{
    int               rc;
    char              hex[65];
    uint32_t          counts[5];
    hoop_mask_rule_t  r[5];
    hoop_mask_set_t  *s;

    (void) state;

    memset(r, 0, sizeof(r));
    r[0].id = "auth";
    r[0].part = HOOP_MASK_HEADER;
    r[0].header = "Authorization";
    r[0].strategy = HOOP_MASK_REMOVE;
    r[1].id = "user";
    r[1].part = HOOP_MASK_HEADER;
    r[1].header = "user";
    r[1].strategy = HOOP_MASK_HASH;
    r[1].key = key16;
    r[1].key_len = 16;
    r[1].hash_chars = 16;
    r[2].id = "trace";
    r[2].part = HOOP_MASK_HEADER;
    r[2].header = "trace";
    r[2].strategy = HOOP_MASK_NULL;
    r[3].id = "ctx";
    r[3].part = HOOP_MASK_HEADER;
    r[3].header = "ctx";
    r[3].path = "$.token";
    r[4].id = "ctx-ip";
    r[4].part = HOOP_MASK_HEADER;
    r[4].header = "ctx";
    r[4].regex = "[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+";
    r[4].strategy = HOOP_MASK_KEEP_FIRST;
    r[4].n = 3;
    s = compile_rules(r, 5);
    memset(counts, 0, sizeof(counts));

    assert_int_equal(hoop_mask_has_part(s, HOOP_MASK_HEADER), 1);

#define H(name, value)                                                       \
    header(s, name, value, counts)

    assert_int_equal(H("Authorization", "Bearer x"), HOOP_MASK_DROP_HEADER);
    assert_int_equal(H("Authorization", NULL), HOOP_MASK_DROP_HEADER);
    /* names are exact */
    assert_int_equal(H("authorization", "Bearer x"), HOOP_MASK_UNCHANGED);
    assert_int_equal(H("Authorizatio", "Bearer x"), HOOP_MASK_UNCHANGED);
    assert_int_equal(H("other", "x"), HOOP_MASK_UNCHANGED);

    assert_int_equal(H("user", "alice"), HOOP_MASK_CHANGED);
    hmac_hex(key16, 16, "alice", 5, 16, hex);
    assert_int_equal(out.len, 16);
    assert_memory_equal(out.data, hex, 16);
    assert_int_equal(H("user", NULL), HOOP_MASK_UNCHANGED);
    assert_int_equal(H("user", ""), HOOP_MASK_UNCHANGED);

    assert_int_equal(H("trace", "abc"), HOOP_MASK_NULL_HEADER);
    assert_int_equal(H("trace", NULL), HOOP_MASK_UNCHANGED);

    rc = H("ctx", "{\"token\":\"t\",\"ip\":\"10.1.2.3\",\"n\":1}");
    assert_int_equal(rc, HOOP_MASK_CHANGED);
    assert_int_equal(out.status, HOOP_MASK_JSON);
    assert_memory_equal(out.data,
                        "{\"token\":\"***\",\"ip\":\"10.*****\",\"n\":1}",
                        out.len);
    rc = H("ctx", "from 10.1.2.3");
    assert_int_equal(rc, HOOP_MASK_CHANGED);
    assert_int_equal(out.status, HOOP_MASK_NOT_JSON);
    assert_memory_equal(out.data, "from 10.*****", out.len);
#undef H

    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 2);
    assert_int_equal(counts[3], 1);
    assert_int_equal(counts[4], 2);

    /* value and key rules do not touch headers */
    assert_int_equal(hoop_mask_apply(s, HOOP_MASK_VALUE,
                                     (const uint8_t *) "{\"token\":1}", 11,
                                     &out, NULL), HOOP_MASK_UNCHANGED);
    hoop_mask_free(s);
}


static void
test_counts_accumulate(void **state)
{
    int               i;
    uint32_t          counts[2];
    hoop_mask_rule_t  r[2];
    hoop_mask_set_t  *s;

    (void) state;

    memset(r, 0, sizeof(r));
    r[0].id = "a";
    r[0].path = "$.a";
    r[1].id = "b";
    r[1].path = "$[*]";
    r[1].strategy = HOOP_MASK_NULL;
    s = compile_rules(r, 2);
    memset(counts, 0, sizeof(counts));

    for (i = 0; i < 10; i++) {
        apply_part(s, HOOP_MASK_VALUE, "{\"a\":1,\"b\":2}", counts);
        apply_part(s, HOOP_MASK_VALUE, "[1,2,3]", counts);
        /* matches before the error are not counted */
        apply_part(s, HOOP_MASK_VALUE, "{\"a\":1,\"b\":2", counts);
    }

    assert_int_equal(counts[0], 10);
    assert_int_equal(counts[1], 10 + 30);
    assert_int_equal(hoop_mask_rule_count(s), 2);
    assert_string_equal(hoop_mask_rule_id(s, 1), "b");
    assert_null(hoop_mask_rule_id(s, 2));
    hoop_mask_free(s);
}


static void
test_compile_errors(void **state)
{
    size_t               i;
    hoop_mask_set_t     *s;
    hoop_mask_error_t    err;
    hoop_mask_options_t  o;

    static const uint8_t  shortkey[] = "short";

    static const struct {
        hoop_mask_rule_t  r;
        const char       *field;
        const char       *message;
    } cases[] = {
        { { .id = NULL }, "id", "rule 0, id: a rule needs an id" },
        { { .id = "-x" }, "id", "\"-x\" is not an id" },
        { { .id = "a b" }, "id", "is not an id" },
        { { .id = "h", .part = HOOP_MASK_HEADER }, "header",
          "rule 0 (id \"h\"), header: a header rule needs a header name" },
        { { .id = "h", .header = "x" }, "header",
          "a header name is for header rules only" },
        { { .id = "p", .part = 7 }, "part", "unknown part 7" },
        { { .id = "s", .path = "$.a", .strategy = 9 }, "strategy",
          "unknown strategy 9" },
        { { .id = "r", .path = "$.a", .regex = "(" }, "regex",
          "missing closing parenthesis at offset 1" },
        { { .id = "r", .path = "$.a", .regex = "" }, "regex",
          "empty pattern" },
        { { .id = "x", .path = "$.a", .strategy = HOOP_MASK_HASH,
            .replacement = "y" }, "replacement",
          "a replacement is for redact only, not hash" },
        { { .id = "x", .path = "$.a", .n = 3 }, "n",
          "n is for keep_first and keep_last only, not redact" },
        { { .id = "x", .path = "$.a", .mask_char = "#" }, "mask_char",
          "mask_char is for keep_first and keep_last only" },
        { { .id = "x", .path = "$.a", .hash_chars = 8 }, "hash_chars",
          "hash_chars is for hash only, not redact" },
        { { .id = "x", .path = "$.a", .key = shortkey, .key_len = 5 }, "key",
          "a key is for hash only" },
        { { .id = "x", .path = "$.a", .strategy = HOOP_MASK_HASH }, "key",
          "hash needs a key of 16 to 1024 bytes (got 0)" },
        { { .id = "x", .path = "$.a", .strategy = HOOP_MASK_HASH,
            .key = shortkey, .key_len = 5 }, "key", "(got 5)" },
        { { .id = "x", .path = "$.a", .strategy = HOOP_MASK_HASH,
            .key = key16, .key_len = 16, .hash_chars = 4 }, "hash_chars",
          "4 hex digits: keep 8 to 64" },
        { { .id = "x", .path = "$.a", .strategy = HOOP_MASK_HASH,
            .key = key16, .key_len = 16, .hash_chars = 65 }, "hash_chars",
          "65 hex digits" },
        { { .id = "x", .path = "$.a", .strategy = HOOP_MASK_KEEP_LAST,
            .mask_char = "ab" }, "mask_char", "exactly one character" },
        { { .id = "x", .path = "$.a", .strategy = HOOP_MASK_KEEP_LAST,
            .mask_char = "" }, "mask_char", "exactly one character" },
        { { .id = "x", .path = "$.a", .strategy = HOOP_MASK_KEEP_LAST,
            .mask_char = "\t" }, "mask_char", "a control character" },
        { { .id = "x", .path = "$.a", .strategy = HOOP_MASK_KEEP_LAST,
            .n = 70000 }, "n", "70000 is more than 65535" },
        { { .id = "x", .path = "$.a", .replacement = "\xff" }, "replacement",
          "not valid UTF-8" },
        { { .id = "x", .strategy = HOOP_MASK_REMOVE }, "path",
          "remove needs the path of a member or element: a record without" },
        { { .id = "x", .path = "$", .strategy = HOOP_MASK_REMOVE }, "path",
          "not '$'" },
        { { .id = "x", .part = HOOP_MASK_HEADER, .header = "h", .path = "$",
            .strategy = HOOP_MASK_REMOVE }, "path",
          "not '$' (no path removes the header)" },
        { { .id = "x", .strategy = HOOP_MASK_NULL }, "path",
          "null needs a path" },
        { { .id = "x", .path = "$.a", .regex = "a",
            .strategy = HOOP_MASK_NULL }, "strategy",
          "null replaces whole values: with a regex use redact or remove" },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&err, 0, sizeof(err));
        s = hoop_mask_compile(&cases[i].r, 1, NULL, &err);
        if (s != NULL) {
            fail_msg("case %zu compiled", i);
        }
        if (strstr(err.message, cases[i].message) == NULL
            || strcmp(err.field, cases[i].field) != 0)
        {
            fail_msg("case %zu: %s: %s", i, err.field, err.message);
        }
    }

    /* the rule index in a set */
    {
        hoop_mask_rule_t  r[3];

        memset(r, 0, sizeof(r));
        r[0].id = "a";
        r[0].path = "$.a";
        r[1].id = "b";
        r[1].path = "$.b";
        r[2].id = "c";
        r[2].path = "$.c[";
        assert_null(hoop_mask_compile(r, 3, NULL, &err));
        assert_int_equal(err.rule, 2);
        assert_string_equal(err.message,
                            "rule 2 (id \"c\"), path: unterminated '[' at "
                            "offset 4");
        /* and a NULL err is fine */
        assert_null(hoop_mask_compile(r, 3, NULL, NULL));
    }

    memset(&o, 0, sizeof(o));
    o.max_depth = HOOP_MASK_MAX_DEPTH + 1;
    assert_null(hoop_mask_compile(NULL, 0, &o, &err));
    assert_string_equal(err.field, "options");

    /* an empty set masks nothing */
    s = hoop_mask_compile(NULL, 0, NULL, &err);
    assert_non_null(s);
    MASKS(s, "{\"a\":1}", "{\"a\":1}");
    assert_int_equal(out.status, HOOP_MASK_UNSCANNED);
    hoop_mask_free(s);

    assert_string_equal(hoop_mask_strategy_name(HOOP_MASK_KEEP_LAST),
                        "keep_last");
    assert_null(hoop_mask_strategy_name(42));
}


/* ---------------------------------------------------------------------
 * memory
 */

static size_t  allocs;

static void *
counting_realloc(void *ctx, void *p, size_t n)
{
    (void) ctx;
    allocs++;
    return realloc(p, n);
}


static void
counting_free(void *ctx, void *p)
{
    (void) ctx;
    free(p);
}


static size_t  fail_after;

static void *
failing_realloc(void *ctx, void *p, size_t n)
{
    (void) ctx;
    if (fail_after == 0) {
        return NULL;
    }
    fail_after--;
    return realloc(p, n);
}


static void
test_buffer_reuse(void **state)
{
    int                i, rc;
    char              *doc;
    size_t             n, before, k;
    hoop_mask_out_t    o;
    hoop_mask_alloc_t  a;
    hoop_mask_rule_t   r[3];
    hoop_mask_set_t   *s;

    (void) state;

    memset(r, 0, sizeof(r));
    r[0].id = "a";
    r[0].path = "$[*].email";
    r[1].id = "b";
    r[1].path = "$[*].card";
    r[1].strategy = HOOP_MASK_KEEP_LAST;
    r[1].n = 4;
    r[2].id = "c";
    r[2].path = "$[*].note";
    r[2].regex = "[0-9]+";
    s = compile_rules(r, 3);

    doc = malloc(200 * 100 + 10);
    n = 0;
    doc[n++] = '[';
    for (i = 0; i < 200; i++) {
        n += sprintf(doc + n, "%s{\"email\":\"u%d@x\",\"card\":\"41111111%08d\","
                     "\"note\":\"call \\u0031%d\"}", i ? "," : "", i, i, i);
    }
    doc[n++] = ']';

    a.realloc = counting_realloc;
    a.free = counting_free;
    a.ctx = NULL;
    hoop_mask_out_init(&o, &a);

    allocs = 0;
    rc = hoop_mask_apply(s, HOOP_MASK_VALUE, (uint8_t *) doc, n, &o, NULL);
    assert_int_equal(rc, HOOP_MASK_CHANGED);
    check_json((char *) o.data, o.len);
    assert_true(allocs > 0);

    /* warmed up: no allocation at all */
    before = allocs;
    for (i = 0; i < 50; i++) {
        rc = hoop_mask_apply(s, HOOP_MASK_VALUE, (uint8_t *) doc, n, &o, NULL);
        assert_int_equal(rc, HOOP_MASK_CHANGED);
    }
    assert_int_equal(allocs, before);
    hoop_mask_out_free(&o);

    /* out of memory at every allocation in turn: a clean error */
    for (k = 0; k < 40; k++) {
        a.realloc = failing_realloc;
        hoop_mask_out_init(&o, &a);
        fail_after = k;
        rc = hoop_mask_apply(s, HOOP_MASK_VALUE, (uint8_t *) doc, n, &o, NULL);
        assert_true(rc == HOOP_MASK_ENOMEM || rc == HOOP_MASK_CHANGED);
        if (rc == HOOP_MASK_ENOMEM) {
            assert_int_equal(o.len, 0);
        }
        hoop_mask_out_free(&o);
    }

    free(doc);
    hoop_mask_free(s);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_path_member),
        cmocka_unit_test(test_path_index_and_wildcards),
        cmocka_unit_test(test_path_descendants),
        cmocka_unit_test(test_path_escaped_names),
        cmocka_unit_test(test_path_errors),
        cmocka_unit_test(test_path_long),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_keep),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_null),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_regex_limit),
        cmocka_unit_test(test_unchanged),
        cmocka_unit_test(test_whitespace_kept),
        cmocka_unit_test(test_scalars_and_empty),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_string_scan),
        cmocka_unit_test(test_big_numbers_and_escapes),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_raw_payloads),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_counts_accumulate),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_buffer_reuse),
    };

    return cmocka_run_group_tests_name("mask", tests, setup, teardown);
}
