/*
 * libFuzzer target for the masking engine (src/mask), with a differential
 * check against the reference masker over jansson trees
 * (test/unit/test_mask_ref.c).
 *
 * Input: byte 0 = number of rules - 1 (mod 4); then 3 bytes per rule
 * (path from a palette, strategy and parameters, regex from a palette);
 * the rest is the record value.  The palette's names ("a", "b", "c", "é",
 * "k\"q", ...) are the ones the seeds and the dictionary (mask.dict) use,
 * so mutations reach matches.
 *
 * Checked on every input:
 *   - no crash, leak or undefined behaviour; UNCHANGED means out.len 0
 *   - the engine calls JSON what jansson accepts (beyond jansson's own
 *     limits: numbers it cannot hold, NUL in keys, more than 128 levels)
 *   - JSON: jansson parses the output, and it equals the reference's
 *     masking of jansson's tree, counts included (no duplicate keys)
 *   - not JSON: the output and counts equal the reference's raw masking
 *   - the same rules as header rules give the same answer on the value
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_mask_ref.h"


static const uint8_t  key16[] = "0123456789abcdef";

typedef struct {
    int          has_path;
    int          nsteps;
    ref_step_t   steps[4];
} palette_path_t;

#define N(s)      REF_STEP_NAME, 0, s, sizeof(s) - 1, 0
#define DN(s)     REF_STEP_NAME, 1, s, sizeof(s) - 1, 0
#define I(i)      REF_STEP_INDEX, 0, NULL, 0, i
#define DI(i)     REF_STEP_INDEX, 1, NULL, 0, i
#define ANY       REF_STEP_ANY, 0, NULL, 0, 0
#define DANY      REF_STEP_ANY, 1, NULL, 0, 0

static const palette_path_t  paths[] = {
    { 1, 1, { { N("a") } } },
    { 1, 2, { { N("b") }, { N("c") } } },
    { 1, 1, { { I(0) } } },
    { 1, 2, { { N("a") }, { ANY } } },
    { 1, 1, { { DN("a") } } },
    { 1, 2, { { ANY }, { N("b") } } },
    { 1, 1, { { DANY } } },
    { 1, 0, { { 0 } } },
    { 1, 1, { { N("é") } } },
    { 1, 1, { { DI(1) } } },
    { 1, 3, { { N("a") }, { N("b") }, { N("c") } } },
    { 0, 0, { { 0 } } },
    { 1, 2, { { ANY }, { ANY } } },
    { 1, 2, { { DN("c") }, { DN("a") } } },
    { 1, 1, { { N("k\"q") } } },
    { 1, 2, { { N("😀") }, { I(2) } } },
};

static const char  *regexes[] = {
    "[0-9]+", "a", "@[a-z.]+", "(?<mask>[0-9]{2})[0-9]*", "é", "\\s", "x*",
    ".", "[^a-z]", "(?<mask>b+)c"
};

static const char  *replacements[] = { NULL, "", "<x>", "é\"\\\n" };
static const char  *mask_chars[] = { NULL, "#", "é", "😀" };


static int
jansson_limit(const json_error_t *e)
{
    return strstr(e->text, "too big") != NULL
           || strstr(e->text, "real number overflow") != NULL
           || strstr(e->text, "NUL byte in object key") != NULL
           || strstr(e->text, "maximum parsing depth") != NULL;
}


static void
build_rules(const uint8_t *p, size_t nrules, ref_rule_t *rules)
{
    size_t                 i;
    uint8_t                b;
    ref_rule_t            *r;
    const palette_path_t  *pp;
    static char            ids[4][4];

    for (i = 0; i < nrules; i++) {
        r = &rules[i];
        memset(r, 0, sizeof(*r));
        snprintf(ids[i], sizeof(ids[i]), "r%zu", i);
        r->rule.id = ids[i];

        pp = &paths[p[3 * i] % (sizeof(paths) / sizeof(paths[0]))];
        r->has_path = pp->has_path;
        r->nsteps = pp->nsteps;
        memcpy(r->steps, pp->steps, sizeof(pp->steps));

        b = p[3 * i + 2];
        if (b & 1) {
            r->rule.regex = regexes[(b >> 1)
                                    % (sizeof(regexes) / sizeof(char *))];
        }

        b = p[3 * i + 1];
        r->rule.strategy = b % 6;

        if (r->rule.strategy == HOOP_MASK_NULL
            && (r->rule.regex || !r->has_path))
        {
            r->rule.strategy = HOOP_MASK_REDACT;
        }

        if (r->rule.strategy == HOOP_MASK_REMOVE && !r->rule.regex
            && (!r->has_path || r->nsteps == 0))
        {
            r->rule.strategy = HOOP_MASK_REDACT;
        }

        switch (r->rule.strategy) {
        case HOOP_MASK_REDACT:
            r->rule.replacement = replacements[(b >> 3) % 4];
            break;
        case HOOP_MASK_KEEP_FIRST:
        case HOOP_MASK_KEEP_LAST:
            r->rule.n = (b >> 3) % 5;
            r->rule.mask_char = mask_chars[(b >> 6) % 4];
            break;
        case HOOP_MASK_HASH:
            r->rule.key = key16;
            r->rule.key_len = 16;
            r->rule.hash_chars = (b >> 3) % 2 ? 10 : 0;
            break;
        default:
            break;
        }

        if (ref_rule_prepare(r, b) != 0) {
            abort();
        }
    }
}


static void
check_json(ref_rule_t *rules, size_t nrules, const uint8_t *data,
    size_t size, hoop_mask_out_t *out, int rc, uint32_t *ce)
{
    int           bad;
    char        **nums;
    size_t        nnums;
    json_t       *in, *got, *want;
    uint32_t      cr[4];
    json_error_t  je;

    in = json_loadb((const char *) data, size, JSON_DECODE_ANY
                    | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
    if (in == NULL) {
        if (strstr(je.text, "duplicate object key") || jansson_limit(&je)) {
            return;
        }
        fprintf(stderr, "engine: JSON, jansson: %s\n", je.text);
        abort();
    }

    if (rc == HOOP_MASK_CHANGED) {
        got = json_loadb((const char *) out->data, out->len,
                         JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (got == NULL) {
            if (jansson_limit(&je)) {
                json_decref(in);
                return;
            }
            fprintf(stderr, "output is not JSON (%s): %.*s\n", je.text,
                    (int) out->len, out->data);
            abort();
        }
    } else {
        got = json_incref(in);
    }

    memset(cr, 0, sizeof(cr));
    nums = ref_numbers((const char *) data, size, &nnums);
    want = ref_mask_json(rules, nrules, in, nums, nnums, cr, &bad);

    if (bad == 2) {
        fprintf(stderr, "reference produced invalid UTF-8\n");
        abort();
    }

    if (!bad) {
        if (want == NULL || !json_equal(got, want)) {
            char *d = want ? json_dumps(want, JSON_ENCODE_ANY) : NULL;
            fprintf(stderr, "trees differ\nengine: %.*s\nreference: %s\n",
                    rc == HOOP_MASK_CHANGED ? (int) out->len : (int) size,
                    rc == HOOP_MASK_CHANGED ? (char *) out->data
                                            : (char *) data, d ? d : "-");
            abort();
        }

        if (memcmp(ce, cr, sizeof(cr)) != 0) {
            fprintf(stderr, "counts differ: %u %u %u %u / %u %u %u %u\n",
                    ce[0], ce[1], ce[2], ce[3], cr[0], cr[1], cr[2], cr[3]);
            abort();
        }
    }

    json_decref(want);
    json_decref(got);
    json_decref(in);
    ref_numbers_free(nums, nnums);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                rc, hrc, raw;
    size_t             nrules, i, rlen;
    uint8_t           *rout, *copy;
    uint32_t           ce[4], cr[4], ch[4];
    json_t            *j;
    json_error_t       je;
    ref_rule_t         rules[4];
    hoop_mask_rule_t   desc[4], hdesc[4];
    hoop_mask_set_t   *set, *hset;
    hoop_mask_out_t    out;
    hoop_mask_error_t  err;

    if (size < 1) {
        return 0;
    }

    nrules = (data[0] & 3) + 1;

    if (size < 1 + 3 * nrules) {
        return 0;
    }

    build_rules(data + 1, nrules, rules);
    data += 1 + 3 * nrules;
    size -= 1 + 3 * nrules;

    raw = 0;

    for (i = 0; i < nrules; i++) {
        desc[i] = rules[i].rule;
        hdesc[i] = rules[i].rule;
        hdesc[i].part = HOOP_MASK_HEADER;
        hdesc[i].header = "h";
        if (!rules[i].has_path && rules[i].re == NULL) {
            raw = 1;
        }
    }

    set = hoop_mask_compile(desc, nrules, NULL, &err);
    hset = hoop_mask_compile(hdesc, nrules, NULL, &err);
    if (set == NULL || hset == NULL) {
        fprintf(stderr, "compile: %s\n", err.message);
        abort();
    }

    /* a copy of exactly size bytes, so ASan sees any over-read */
    copy = malloc(size ? size : 1);
    memcpy(copy, data, size);

    hoop_mask_out_init(&out, NULL);
    memset(ce, 0, sizeof(ce));

    rc = hoop_mask_apply(set, HOOP_MASK_VALUE, copy, size, &out, ce);

    if (rc == HOOP_MASK_EREGEX) {
        goto done;
    }

    if (rc != HOOP_MASK_CHANGED && rc != HOOP_MASK_UNCHANGED) {
        abort();
    }

    if (rc == HOOP_MASK_UNCHANGED && out.len != 0) {
        abort();
    }

    if (raw) {
        memset(cr, 0, sizeof(cr));
        rout = ref_mask_raw(rules, nrules, copy, size, &rlen, cr);
        if ((rout == NULL) != (rc == HOOP_MASK_UNCHANGED)
            || (rout && (rlen != out.len
                         || (rlen && memcmp(rout, out.data, rlen) != 0)))
            || memcmp(ce, cr, sizeof(cr)) != 0)
        {
            fprintf(stderr, "raw masking differs\n");
            abort();
        }
        free(rout);

    } else if (out.status == HOOP_MASK_JSON) {
        check_json(rules, nrules, copy, size, &out, rc, ce);

    } else {
        /* jansson reads a raw NUL as the end of the text: no oracle */
        if (out.status == HOOP_MASK_NOT_JSON && size > 0
            && memchr(copy, 0, size) == NULL)
        {
            j = json_loadb((const char *) copy, size,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
            if (j != NULL) {
                fprintf(stderr, "engine: not JSON, jansson: JSON\n");
                abort();
            }
        }

        memset(cr, 0, sizeof(cr));
        rout = ref_mask_raw(rules, nrules, copy, size, &rlen, cr);
        if ((rout == NULL) != (rc == HOOP_MASK_UNCHANGED)
            || (rout && (rlen != out.len
                         || (rlen && memcmp(rout, out.data, rlen) != 0)))
            || memcmp(ce, cr, sizeof(cr)) != 0)
        {
            fprintf(stderr, "raw regex masking differs\n");
            abort();
        }
        free(rout);
    }

    /* the header entry point gives the same answer (no rule here drops
     * or nulls a header: value rules cannot) */
    if (rc == HOOP_MASK_CHANGED) {
        if (out.data == NULL) {
            abort();
        }
        rout = malloc(out.len ? out.len : 1);
        memcpy(rout, out.data, out.len);
        rlen = out.len;
    } else {
        rout = NULL;
        rlen = 0;
    }

    memset(ch, 0, sizeof(ch));
    hrc = hoop_mask_header(hset, (const uint8_t *) "h", 1, copy, size, &out,
                           ch);
    if (hrc != rc || memcmp(ce, ch, sizeof(ch)) != 0
        || (rc == HOOP_MASK_CHANGED
            && (out.len != rlen
                || (rlen && memcmp(out.data, rout, rlen) != 0))))
    {
        fprintf(stderr, "header answer differs\n");
        abort();
    }
    free(rout);

    if (hoop_mask_header(hset, (const uint8_t *) "H", 1, copy, size, &out,
                         ch) != HOOP_MASK_UNCHANGED)
    {
        abort();
    }

done:

    for (i = 0; i < nrules; i++) {
        ref_rule_free(&rules[i]);
    }

    free(copy);
    hoop_mask_out_free(&out);
    hoop_mask_free(set);
    hoop_mask_free(hset);

    return 0;
}
