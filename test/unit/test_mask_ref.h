/*
 * A reference masker over jansson trees, for the differential tests of
 * src/mask (test_mask_diff.c, fuzz/fuzz_mask.c).
 *
 * It implements the semantics written in src/mask/hoop_mask.h the naive
 * way, independently of the engine's code: paths are matched by recursive
 * glob matching of the node's label list (not by the engine's NFA), the
 * tree is rebuilt node by node, HMAC comes from OpenSSL's HMAC(), regex
 * substitution and keep-N are written again here.  Only PCRE2 itself is
 * shared.
 */

#ifndef TEST_MASK_REF_H
#define TEST_MASK_REF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "hoop_mask.h"


#define REF_STEP_NAME   1
#define REF_STEP_INDEX  2
#define REF_STEP_ANY    3

#define REF_MAX_STEPS   8

typedef struct {
    int                 kind;
    int                 desc;
    const char         *name;     /* UTF-8, may hold NUL: len */
    size_t              len;
    unsigned            index;
} ref_step_t;

typedef struct {
    hoop_mask_rule_t    rule;     /* what the engine gets; rule.path is
                                     set by ref_rule_prepare() */
    int                 has_path;
    ref_step_t          steps[REF_MAX_STEPS];
    int                 nsteps;
    pcre2_code         *re;
    int                 re_group;
    char                path[512];
} ref_rule_t;


/* Renders steps into r->path (random: 0 shorthand where possible, 1
 * brackets; escapes chosen by seed), compiles r->re.  0 or -1. */
int ref_rule_prepare(ref_rule_t *r, unsigned seed);
void ref_rule_free(ref_rule_t *r);

/* The number tokens of a JSON text in document order (strings skipped):
 * *n texts, each malloc'ed NUL-terminated; ref_numbers_free(). */
char **ref_numbers(const char *text, size_t len, size_t *n);
void ref_numbers_free(char **v, size_t n);

/*
 * Masks doc (the jansson tree of a valid JSON text whose number tokens
 * are nums[0..nnums), in order) with the rules; returns a new tree, or
 * NULL when the root would be removed (never with valid rules).  counts
 * (nrules) are added to.  Returns NULL and sets *bad when nums does not
 * line up with the tree (duplicate keys).
 */
json_t *ref_mask_json(ref_rule_t *rules, size_t nrules, json_t *doc,
    char **nums, size_t nnums, uint32_t *counts, int *bad);

/*
 * The engine's answer for a payload that is not JSON: the first rule
 * without path or regex on the bytes, else the regex rules without path
 * one after the other.  *out (malloc'ed, *outlen) or NULL if nothing
 * changes.
 */
uint8_t *ref_mask_raw(ref_rule_t *rules, size_t nrules, const uint8_t *in,
    size_t len, size_t *outlen, uint32_t *counts);

/* what the reference did so far, so a test can tell that its random
 * inputs reach every case */
typedef struct {
    unsigned long       whole[6];        /* per strategy, on any value */
    unsigned long       containers[6];   /* per strategy, on a container */
    unsigned long       regex_matches;
    unsigned long       regex_clipped;   /* matches an earlier rule's
                                            matches cut into */
    unsigned long       control_in_hash; /* container hashes with a control
                                            character in a string */
} ref_stats_t;

extern ref_stats_t  ref_stats;

/* canonical JSON text as the engine hashes containers (malloc'ed) */
char *ref_canonical(json_t *v, char **nums, size_t nnums, int *bad);

#endif
