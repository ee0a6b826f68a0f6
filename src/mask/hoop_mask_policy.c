/*
 * The "masking" section of the policy: validation with a diagnostic (JSON
 * Pointer, code, sentence) for every problem, key files, and the engine
 * set for one (topic, caller, direction), cached per combination of
 * rules.  The language is in docs/masking.md; this file and that page
 * change together.
 */

#define _POSIX_C_SOURCE  200809L

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "hoop_mask_int.h"
#include "hoop_mask_policy.h"


#define HOOP_MASK_T_LITERAL    0
#define HOOP_MASK_T_PREFIX     1
#define HOOP_MASK_T_REGEX      2

#define HOOP_MASK_ID_MAX       128

/* PCRE2 options of topic regexes: the whole name, as grant resources */
#define HOOP_MASK_TOPIC_RE     (PCRE2_ANCHORED | PCRE2_ENDANCHORED          \
                                | PCRE2_DOLLAR_ENDONLY)

#define HOOP_MASK_RULE_KEYS                                                   \
    "id, description, topics, principals, except, direction, fields, "       \
    "reviewed_by, reviewed_at, reason"

#define HOOP_MASK_FIELD_KEYS                                                  \
    "part, header, path, regex, strategy, replacement, keep, mask_char, "    \
    "key_file, hash_chars"


typedef struct {
    int                          match;
    char                        *name;
    size_t                       len;
    pcre2_code                  *re;
} hoop_mask_topic_t;

/* principals of a rule or of its except list, names without the type */
typedef struct {
    char                       **users;
    size_t                       nusers;
    char                       **groups;
    size_t                       ngroups;
    unsigned                     any_user;
} hoop_mask_who_t;

typedef struct {
    char                        *id;
    size_t                       doc;        /* index in the section */
    hoop_mask_topic_t           *topics;
    size_t                       ntopics;
    hoop_mask_who_t              who;
    hoop_mask_who_t              except;
    unsigned                     directions; /* HOOP_MASK_PRODUCE | ... */
    hoop_mask_rule_t            *fields;     /* strings and keys owned */
    size_t                       nfields;
    unsigned                     has_hash;
} hoop_mask_prule_t;

typedef struct {
    uint64_t                    *bits;
    uint64_t                     hash;
    hoop_mask_set_t             *set;
} hoop_mask_cached_t;

struct hoop_mask_policy_s {
    hoop_mask_prule_t           *rules;      /* sorted by id */
    size_t                       nrules;
    hoop_mask_options_t          engine;
    unsigned                     flags;
    unsigned                     directions;
    size_t                       nwords;
    uint64_t                    *cur;        /* select()'s rule bits */
    hoop_mask_cached_t          *cache;
    size_t                       ncache;
    uint32_t                    *slots;      /* cache index + 1; 0 empty */
    size_t                       nslots;     /* a power of two */
    hoop_mask_rule_t            *scratch;    /* a set's rules, to compile */
    pcre2_match_data            *md;
    pcre2_match_context         *mctx;
};

/* one compilation */
typedef struct {
    hoop_mask_policy_t          *mp;
    hoop_mask_diag_t            *diags;
    size_t                       max;
    size_t                       n;
    size_t                       nerrors;
    const char                  *base;
    size_t                       nfields;    /* in all rules so far */
    int                          nomem;
} hoop_mask_pc_t;


static void hoop_mask_diag(hoop_mask_pc_t *pc, hoop_mask_sev_t sev,
    const char *code, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static void hoop_mask_ptr_key(char *dst, size_t size, const char *base,
    const char *key);
static void hoop_mask_ptr_index(char *dst, size_t size, const char *base,
    size_t i);
static char *hoop_mask_dup(hoop_mask_pc_t *pc, const char *s, size_t n);
static const char *hoop_mask_jtype(const json_t *v);
static const char *hoop_mask_jstring(hoop_mask_pc_t *pc, const json_t *v,
    const char *path, const char *what, size_t max, int controls_ok,
    int empty_ok);
static int hoop_mask_jlist(hoop_mask_pc_t *pc, const json_t *v,
    const char *path, const char *what);
static int hoop_mask_id_ok(const char *s);
static int hoop_mask_time_ok(const char *s);
static int hoop_mask_topic_name_ok(const char *s, size_t len, int prefix);
static int hoop_mask_rule(hoop_mask_pc_t *pc, const json_t *v, size_t i,
    hoop_mask_prule_t *r);
static int hoop_mask_topics(hoop_mask_pc_t *pc, const json_t *v,
    const char *path, hoop_mask_prule_t *r);
static int hoop_mask_who(hoop_mask_pc_t *pc, const json_t *v,
    const char *path, const char *what, int except, hoop_mask_who_t *w);
static int hoop_mask_field(hoop_mask_pc_t *pc, const json_t *v,
    const char *path, const char *id, hoop_mask_rule_t *f,
    unsigned *has_hash);
static int hoop_mask_key_file(hoop_mask_pc_t *pc, const char *file,
    const char *path, hoop_mask_rule_t *f);
static void hoop_mask_engine_check(hoop_mask_pc_t *pc, const char *path,
    const hoop_mask_rule_t *f);
static int hoop_mask_prule_cmp(const void *a, const void *b);
static void hoop_mask_who_free(hoop_mask_who_t *w);
static void hoop_mask_prule_free(hoop_mask_prule_t *r);
static int hoop_mask_who_match(const hoop_mask_who_t *w,
    const hoop_mask_request_t *req);
static int hoop_mask_topic_match(hoop_mask_policy_t *mp,
    const hoop_mask_prule_t *r, const hoop_mask_request_t *req);
static hoop_mask_set_t *hoop_mask_build_set(hoop_mask_policy_t *mp);


static const char  *hoop_mask_strategy_keys[] = {
    "redact", "keep_first", "keep_last", "hash", "remove", "null"
};

/* what a dummy key is made of when key files are not read */
static const uint8_t  hoop_mask_dummy_key[32] =
    "hoop-lint-only-not-a-real-key!!";


/* ---------------------------------------------------------------------- */


static void
hoop_mask_diag(hoop_mask_pc_t *pc, hoop_mask_sev_t sev, const char *code,
    const char *path, const char *fmt, ...)
{
    va_list            ap;
    hoop_mask_diag_t  *g;

    if (sev == HOOP_MASK_SEV_ERROR) {
        pc->nerrors++;
    }

    if (pc->n++ >= pc->max || pc->diags == NULL) {
        return;
    }

    g = &pc->diags[pc->n - 1];
    g->severity = sev;
    g->code = code;
    snprintf(g->path, sizeof(g->path), "%s", path ? path : "");

    va_start(ap, fmt);
    vsnprintf(g->message, sizeof(g->message), fmt, ap);
    va_end(ap);
}

#define hoop_mask_error(pc, code, path, ...)                                  \
    hoop_mask_diag(pc, HOOP_MASK_SEV_ERROR, code, path, __VA_ARGS__)
#define hoop_mask_warn(pc, code, path, ...)                                   \
    hoop_mask_diag(pc, HOOP_MASK_SEV_WARNING, code, path, __VA_ARGS__)


/* dst = base + "/" + key, with '~' and '/' escaped (RFC 6901) */
static void
hoop_mask_ptr_key(char *dst, size_t size, const char *base, const char *key)
{
    size_t  n;

    n = (size_t) snprintf(dst, size, "%s/", base);

    for ( /* void */ ; n < size && *key && n + 3 < size; key++) {
        if (*key == '~' || *key == '/') {
            dst[n++] = '~';
            dst[n++] = *key == '~' ? '0' : '1';
        } else {
            dst[n++] = *key;
        }
    }

    if (n < size) {
        dst[n] = '\0';
    }
}


static void
hoop_mask_ptr_index(char *dst, size_t size, const char *base, size_t i)
{
    char  num[24];

    snprintf(num, sizeof(num), "%zu", i);
    hoop_mask_ptr_key(dst, size, base, num);
}


static char *
hoop_mask_dup(hoop_mask_pc_t *pc, const char *s, size_t n)
{
    char  *p;

    p = malloc(n + 1);
    if (p == NULL) {
        pc->nomem = 1;
        return NULL;
    }

    memcpy(p, s, n);
    p[n] = '\0';

    return p;
}


static const char *
hoop_mask_jtype(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "a mapping";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}


/*
 * The string v (NUL-terminated by jansson), or NULL and an error when it
 * is not a string of 1 (0 with empty_ok) to max bytes without NUL and,
 * unless controls_ok, without control characters.
 */
static const char *
hoop_mask_jstring(hoop_mask_pc_t *pc, const json_t *v, const char *path,
    const char *what, size_t max, int controls_ok, int empty_ok)
{
    size_t       i, n;
    const char  *s;

    if (!json_is_string(v)) {
        hoop_mask_error(pc, "type", path, "%s is a string, not %s%s", what,
                        hoop_mask_jtype(v),
                        json_is_number(v) || json_is_boolean(v)
                        ? " (quote it in YAML)" : "");
        return NULL;
    }

    s = json_string_value(v);
    n = json_string_length(v);

    if (n == 0 && !empty_ok) {
        hoop_mask_error(pc, "empty", path, "%s is empty", what);
        return NULL;
    }

    if (n > max) {
        hoop_mask_error(pc, "too-long", path, "%s is longer than %zu bytes",
                        what, max);
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (s[i] == '\0'
            || (!controls_ok
                && ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)))
        {
            hoop_mask_error(pc, "control-char", path,
                            "%s contains a control character", what);
            return NULL;
        }
    }

    return s;
}


static int
hoop_mask_jlist(hoop_mask_pc_t *pc, const json_t *v, const char *path,
    const char *what)
{
    if (!json_is_array(v)) {
        hoop_mask_error(pc, "type", path, "%s is a list, not %s", what,
                        hoop_mask_jtype(v));
        return -1;
    }

    if (json_array_size(v) == 0) {
        hoop_mask_error(pc, "empty", path, "%s is an empty list", what);
        return -1;
    }

    return 0;
}


/* the policy's id syntax: [A-Za-z0-9][A-Za-z0-9._-]*, at most 128 */
static int
hoop_mask_id_ok(const char *s)
{
    size_t  i;
    char    c;

    for (i = 0; s[i]; i++) {
        c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || (i > 0 && (c == '.' || c == '_' || c == '-'))))
        {
            return 0;
        }
    }

    return i > 0 && i <= HOOP_MASK_ID_MAX;
}


static int
hoop_mask_digits(const char *s, size_t n, int min, int max)
{
    int     v;
    size_t  i;

    v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }

    return v >= min && v <= max ? v : -1;
}


/* a full-date "2026-11-02" or an RFC 3339 date-time, as reviewed_at of
 * grants */
static int
hoop_mask_time_ok(const char *s)
{
    int          y, m, d, dim;
    size_t       n;
    const char  *t;
    static const int  days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
                                 30, 31 };

    n = strlen(s);

    if (n < 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }

    y = hoop_mask_digits(s, 4, 1970, 9999);
    m = hoop_mask_digits(s + 5, 2, 1, 12);
    d = hoop_mask_digits(s + 8, 2, 1, 31);

    if (y < 0 || m < 0 || d < 0) {
        return 0;
    }

    dim = days[m - 1];
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
        dim = 29;
    }

    if (d > dim) {
        return 0;
    }

    if (n == 10) {
        return 1;
    }

    t = s + 10;

    if ((*t != 'T' && *t != 't') || strlen(t) < 9 || t[3] != ':'
        || t[6] != ':' || hoop_mask_digits(t + 1, 2, 0, 23) < 0
        || hoop_mask_digits(t + 4, 2, 0, 59) < 0
        || hoop_mask_digits(t + 7, 2, 0, 60) < 0)
    {
        return 0;
    }

    t += 9;

    if (*t == '.') {
        t++;
        if (*t < '0' || *t > '9') {
            return 0;
        }
        while (*t >= '0' && *t <= '9') {
            t++;
        }
    }

    if ((*t == 'Z' || *t == 'z') && t[1] == '\0') {
        return 1;
    }

    return (*t == '+' || *t == '-') && strlen(t) == 6 && t[3] == ':'
           && hoop_mask_digits(t + 1, 2, 0, 23) >= 0
           && hoop_mask_digits(t + 4, 2, 0, 59) >= 0;
}


/* Kafka's topic name characters [a-zA-Z0-9._-], 1..249 ("." and ".."
 * refused); a prefix may be a proper prefix of such a name */
static int
hoop_mask_topic_name_ok(const char *s, size_t len, int prefix)
{
    size_t  i;
    char    c;

    if (len == 0 || len > 249) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
        {
            return 0;
        }
    }

    if (!prefix && (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)) {
        return 0;
    }

    return 1;
}


/* ----------------------------------------------------------------------
 * Compiling
 */


hoop_mask_policy_t *
hoop_mask_policy_compile(const char *json, size_t len,
    const hoop_mask_policy_options_t *opts, hoop_mask_diag_t *diags,
    size_t maxdiags, size_t *ndiags)
{
    json_t              *v;
    json_error_t         e;
    hoop_mask_pc_t       pc;
    hoop_mask_policy_t  *mp;

    if (json == NULL || len == 0) {
        return hoop_mask_policy_compile_json(NULL, opts, diags, maxdiags,
                                             ndiags);
    }

    v = json_loadb(json, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES
                              | JSON_ALLOW_NUL, &e);
    if (v == NULL) {
        memset(&pc, 0, sizeof(pc));
        pc.diags = diags;
        pc.max = diags ? maxdiags : 0;
        hoop_mask_error(&pc, "syntax",
                        opts && opts->base ? opts->base : "/masking",
                        "the masking section is not JSON: %s (line %d, "
                        "column %d)", e.text, e.line, e.column);
        if (ndiags) {
            *ndiags = pc.n;
        }
        return NULL;
    }

    mp = hoop_mask_policy_compile_json(v, opts, diags, maxdiags, ndiags);
    json_decref(v);

    return mp;
}


hoop_mask_policy_t *
hoop_mask_policy_compile_json(const json_t *section,
    const hoop_mask_policy_options_t *opts, hoop_mask_diag_t *diags,
    size_t maxdiags, size_t *ndiags)
{
    size_t               i, n, slots;
    char                 path[128], kpath[128];
    hoop_mask_pc_t       pc;
    hoop_mask_policy_t  *mp;
    hoop_mask_prule_t   *r;

    memset(&pc, 0, sizeof(pc));
    pc.diags = diags;
    pc.max = diags ? maxdiags : 0;
    pc.base = opts && opts->base ? opts->base : "/masking";

    mp = calloc(1, sizeof(hoop_mask_policy_t));
    if (mp == NULL) {
        pc.nomem = 1;
        goto done;
    }

    pc.mp = mp;

    if (opts) {
        mp->engine = opts->engine;
        mp->flags = opts->flags;
    }

    if (section == NULL || json_is_null(section)) {
        goto done;
    }

    if (json_is_array(section) && json_array_size(section) == 0) {
        goto done;                                 /* no masking rules */
    }

    if (hoop_mask_jlist(&pc, section, pc.base, "masking") != 0) {
        goto done;
    }

    n = json_array_size(section);

    if (n > HOOP_MASK_POLICY_MAX_RULES) {
        hoop_mask_error(&pc, "too-many", pc.base,
                        "more than %d masking rules",
                        HOOP_MASK_POLICY_MAX_RULES);
        goto done;
    }

    mp->rules = calloc(n, sizeof(hoop_mask_prule_t));
    if (mp->rules == NULL) {
        pc.nomem = 1;
        goto done;
    }

    for (i = 0; i < n && !pc.nomem; i++) {
        r = &mp->rules[mp->nrules];
        r->doc = i;

        if (hoop_mask_rule(&pc, json_array_get(section, i), i, r) == 0
            && r->id != NULL)
        {
            mp->nrules++;
        } else {
            hoop_mask_prule_free(r);
            memset(r, 0, sizeof(*r));
        }
    }

    /* ids are unique: audit events name rules by id */

    qsort(mp->rules, mp->nrules, sizeof(hoop_mask_prule_t),
          hoop_mask_prule_cmp);

    for (i = 1; i < mp->nrules; i++) {
        if (strcmp(mp->rules[i].id, mp->rules[i - 1].id) == 0) {
            r = mp->rules[i].doc > mp->rules[i - 1].doc ? &mp->rules[i]
                                                        : &mp->rules[i - 1];
            hoop_mask_ptr_index(kpath, sizeof(kpath), pc.base, r->doc);
            hoop_mask_ptr_key(path, sizeof(path), kpath, "id");
            hoop_mask_error(&pc, "duplicate-id", path,
                            "masking rule id \"%s\" is used twice", r->id);
        }
    }

    if (pc.nerrors || pc.nomem) {
        goto done;
    }

    for (i = 0; i < mp->nrules; i++) {
        mp->directions |= mp->rules[i].directions;
    }

    mp->nwords = (mp->nrules + 63) / 64;
    slots = 2 * HOOP_MASK_POLICY_MAX_SETS;
    mp->cur = calloc(mp->nwords ? mp->nwords : 1, sizeof(uint64_t));
    mp->slots = calloc(slots, sizeof(uint32_t));
    mp->nslots = slots;
    mp->md = pcre2_match_data_create(1, NULL);
    mp->mctx = pcre2_match_context_create(NULL);
    mp->scratch = malloc((pc.nfields ? pc.nfields : 1)
                         * sizeof(hoop_mask_rule_t));

    if (mp->cur == NULL || mp->slots == NULL || mp->md == NULL
        || mp->mctx == NULL || mp->scratch == NULL)
    {
        pc.nomem = 1;
        goto done;
    }

    pcre2_set_match_limit(mp->mctx, mp->engine.match_limit
                                    ? mp->engine.match_limit
                                    : HOOP_MASK_DEFAULT_MATCH_LIMIT);

done:

    if (pc.nomem) {
        hoop_mask_error(&pc, "nomem", pc.base, "out of memory");
    }

    if (ndiags) {
        *ndiags = pc.n;
    }

    if (pc.nerrors) {
        hoop_mask_policy_free(mp);
        return NULL;
    }

    return mp;
}


static int
hoop_mask_prule_cmp(const void *a, const void *b)
{
    const hoop_mask_prule_t  *x = a, *y = b;
    int                       c;

    c = strcmp(x->id, y->id);

    if (c != 0) {
        return c;
    }

    return x->doc < y->doc ? -1 : x->doc > y->doc;
}


/*
 * One masking rule, v, at index i of the section.  Returns 0 when it is
 * valid (r filled in), -1 otherwise (errors reported; r may hold parts).
 */
static int
hoop_mask_rule(hoop_mask_pc_t *pc, const json_t *v, size_t i,
    hoop_mask_prule_t *r)
{
    size_t        errors, j;
    char          path[128], kpath[128];
    const char   *key, *s, *id;
    json_t       *item;
    const json_t *topics, *principals, *except, *direction, *fields,
                 *review[3];
    static const char  *review_keys[3] = { "reviewed_by", "reviewed_at",
                                           "reason" };

    errors = pc->nerrors;
    hoop_mask_ptr_index(path, sizeof(path), pc->base, i);

    if (!json_is_object(v)) {
        hoop_mask_error(pc, "type", path,
                        "a masking rule is a mapping (id, topics, "
                        "principals, direction, fields, ...), not %s",
                        hoop_mask_jtype(v));
        return -1;
    }

    topics = NULL;
    principals = NULL;
    except = NULL;
    direction = NULL;
    fields = NULL;
    review[0] = review[1] = review[2] = NULL;
    id = NULL;

    json_object_foreach((json_t *) v, key, item) {
        hoop_mask_ptr_key(kpath, sizeof(kpath), path, key);

        if (strcmp(key, "id") == 0) {
            s = hoop_mask_jstring(pc, item, kpath, "id", HOOP_MASK_ID_MAX
                                  + 1, 0, 0);
            if (s == NULL) {
                continue;
            }

            if (!hoop_mask_id_ok(s)) {
                hoop_mask_error(pc, "bad-id", kpath,
                                "id \"%.64s\" is not [A-Za-z0-9] then "
                                "[A-Za-z0-9._-], at most %d characters", s,
                                HOOP_MASK_ID_MAX);
                continue;
            }

            id = s;

        } else if (strcmp(key, "description") == 0) {
            (void) hoop_mask_jstring(pc, item, kpath, "description",
                                     HOOP_MASK_POLICY_MAX_TEXT, 1, 0);

        } else if (strcmp(key, "topics") == 0) {
            topics = item;

        } else if (strcmp(key, "principals") == 0) {
            principals = item;

        } else if (strcmp(key, "except") == 0) {
            except = item;

        } else if (strcmp(key, "direction") == 0) {
            direction = item;

        } else if (strcmp(key, "fields") == 0) {
            fields = item;

        } else if (strcmp(key, "reviewed_by") == 0) {
            review[0] = item;
            (void) hoop_mask_jstring(pc, item, kpath, "reviewed_by",
                                     HOOP_MASK_POLICY_MAX_NAME, 0, 0);

        } else if (strcmp(key, "reviewed_at") == 0) {
            review[1] = item;

            if (!json_is_string(item)
                || !hoop_mask_time_ok(json_string_value(item)))
            {
                hoop_mask_error(pc, "bad-time", kpath,
                                "reviewed_at is a date (2026-11-01) or an "
                                "RFC 3339 date-time (2026-11-01T09:30:00Z)");
            }

        } else if (strcmp(key, "reason") == 0) {
            review[2] = item;
            (void) hoop_mask_jstring(pc, item, kpath, "reason",
                                     HOOP_MASK_POLICY_MAX_TEXT, 1, 0);

        } else {
            hoop_mask_error(pc, "unknown-key", kpath,
                            "unknown key \"%.64s\" in a masking rule "
                            "(allowed: " HOOP_MASK_RULE_KEYS ")", key);
        }
    }

    if (id == NULL && json_object_get(v, "id") == NULL) {
        hoop_mask_error(pc, "missing-key", path, "a masking rule needs an id");
    }

    if (id) {
        r->id = hoop_mask_dup(pc, id, strlen(id));
    }

    /* topics, callers, direction */

    hoop_mask_ptr_key(kpath, sizeof(kpath), path, "topics");
    if (topics == NULL) {
        hoop_mask_error(pc, "missing-key", path,
                        "masking rule %s needs topics ({ name, match })",
                        id ? id : "");
    } else {
        (void) hoop_mask_topics(pc, topics, kpath, r);
    }

    hoop_mask_ptr_key(kpath, sizeof(kpath), path, "principals");
    if (principals == NULL) {
        hoop_mask_error(pc, "missing-key", path,
                        "masking rule %s needs principals (\"User:NAME\", "
                        "\"Group:NAME\" or \"User:*\"): the callers it "
                        "masks for", id ? id : "");
    } else {
        (void) hoop_mask_who(pc, principals, kpath, "principals", 0,
                             &r->who);
    }

    if (except) {
        hoop_mask_ptr_key(kpath, sizeof(kpath), path, "except");

        if (hoop_mask_who(pc, except, kpath, "except", 1, &r->except) == 0
            && principals && !r->who.any_user && r->who.nusers + r->who.ngroups)
        {
            /* every principal excepted: the rule never applies */
            for (j = 0; j < r->who.nusers; j++) {
                if (!hoop_mask_who_match(&r->except,
                        &(hoop_mask_request_t) {
                            .principal = { r->who.users[j],
                                           strlen(r->who.users[j]) } }))
                {
                    break;
                }
            }

            if (j == r->who.nusers) {
                for (j = 0; j < r->who.ngroups; j++) {
                    hoop_mask_str_t  g;

                    g.data = r->who.groups[j];
                    g.len = strlen(g.data);

                    if (!hoop_mask_who_match(&r->except,
                            &(hoop_mask_request_t) {
                                .principal = { "", 0 },
                                .groups = &g, .ngroups = 1 }))
                    {
                        break;
                    }
                }

                if (j == r->who.ngroups) {
                    hoop_mask_warn(pc, "never-applies", kpath,
                                   "except names every principal of the "
                                   "rule: it masks for nobody");
                }
            }
        }

        for (j = 0; j < 3; j++) {
            if (review[j] == NULL) {
                hoop_mask_error(pc, "missing-review", path,
                                "masking rule %s has except but no %s: an "
                                "exception lets someone see clear data and "
                                "carries reviewed_by, reviewed_at and "
                                "reason, like a grant", id ? id : "",
                                review_keys[j]);
            }
        }
    }

    hoop_mask_ptr_key(kpath, sizeof(kpath), path, "direction");
    if (direction == NULL) {
        hoop_mask_error(pc, "missing-key", path,
                        "masking rule %s needs a direction (produce, fetch "
                        "or both): masking on produce changes what the "
                        "broker stores, so it is never a default",
                        id ? id : "");

    } else if (json_is_string(direction)
               && strcmp(json_string_value(direction), "produce") == 0)
    {
        r->directions = HOOP_MASK_PRODUCE;

    } else if (json_is_string(direction)
               && strcmp(json_string_value(direction), "fetch") == 0)
    {
        r->directions = HOOP_MASK_FETCH;

    } else if (json_is_string(direction)
               && strcmp(json_string_value(direction), "both") == 0)
    {
        r->directions = HOOP_MASK_PRODUCE | HOOP_MASK_FETCH;

    } else {
        hoop_mask_error(pc, "bad-direction", kpath,
                        "direction is produce, fetch or both");
    }

    /* fields */

    hoop_mask_ptr_key(kpath, sizeof(kpath), path, "fields");

    if (fields == NULL) {
        hoop_mask_error(pc, "missing-key", path,
                        "masking rule %s needs fields (what to mask and "
                        "how)", id ? id : "");

    } else if (hoop_mask_jlist(pc, fields, kpath, "fields") == 0) {
        if (pc->nfields + json_array_size(fields)
            > HOOP_MASK_POLICY_MAX_FIELDS)
        {
            hoop_mask_error(pc, "too-many", kpath,
                            "more than %d fields in all masking rules",
                            HOOP_MASK_POLICY_MAX_FIELDS);
            return -1;
        }

        r->fields = calloc(json_array_size(fields), sizeof(hoop_mask_rule_t));
        if (r->fields == NULL) {
            pc->nomem = 1;
            return -1;
        }

        for (j = 0; j < json_array_size(fields); j++) {
            char  fpath[128];

            hoop_mask_ptr_index(fpath, sizeof(fpath), kpath, j);

            if (hoop_mask_field(pc, json_array_get(fields, j), fpath,
                                id ? id : "x", &r->fields[r->nfields],
                                &r->has_hash) == 0)
            {
                r->nfields++;
            }
        }

        pc->nfields += r->nfields;
    }

    return pc->nerrors > errors || pc->nomem ? -1 : 0;
}


static int
hoop_mask_topics(hoop_mask_pc_t *pc, const json_t *v, const char *path,
    hoop_mask_prule_t *r)
{
    int                 ec;
    char                ipath[128], kpath[128], msg[120];
    size_t              i, n;
    const char         *key, *name, *s;
    json_t             *t, *item;
    PCRE2_SIZE          eoff;
    hoop_mask_topic_t  *tp;

    if (hoop_mask_jlist(pc, v, path, "topics") != 0) {
        return -1;
    }

    n = json_array_size(v);
    r->topics = calloc(n, sizeof(hoop_mask_topic_t));
    if (r->topics == NULL) {
        pc->nomem = 1;
        return -1;
    }

    for (i = 0; i < n; i++) {
        t = json_array_get(v, i);
        hoop_mask_ptr_index(ipath, sizeof(ipath), path, i);

        if (!json_is_object(t)) {
            hoop_mask_error(pc, "type", ipath,
                            "a topic is a mapping { name, match }, not %s",
                            hoop_mask_jtype(t));
            continue;
        }

        tp = &r->topics[r->ntopics];
        tp->match = HOOP_MASK_T_LITERAL;
        name = NULL;

        json_object_foreach(t, key, item) {
            hoop_mask_ptr_key(kpath, sizeof(kpath), ipath, key);

            if (strcmp(key, "name") == 0) {
                name = hoop_mask_jstring(pc, item, kpath, "a topic name",
                                         HOOP_MASK_POLICY_MAX_NAME, 0, 0);
                if (name == NULL) {
                    goto next;
                }

            } else if (strcmp(key, "match") == 0) {
                s = json_is_string(item) ? json_string_value(item) : "";

                if (strcmp(s, "literal") == 0) {
                    tp->match = HOOP_MASK_T_LITERAL;
                } else if (strcmp(s, "prefix") == 0) {
                    tp->match = HOOP_MASK_T_PREFIX;
                } else if (strcmp(s, "regex") == 0) {
                    tp->match = HOOP_MASK_T_REGEX;
                } else {
                    hoop_mask_error(pc, "bad-match", kpath,
                                    "match is literal, prefix or regex");
                    goto next;
                }

            } else if (strcmp(key, "type") == 0) {
                /* a grant's resource pasted as is: topics only */
                if (!json_is_string(item)
                    || strcmp(json_string_value(item), "topic") != 0)
                {
                    hoop_mask_error(pc, "bad-type", kpath,
                                    "masking rules select topics: type is "
                                    "topic or absent");
                    goto next;
                }

            } else {
                hoop_mask_error(pc, "unknown-key", kpath,
                                "unknown key \"%.64s\" in a topic "
                                "(allowed: name, match)", key);
                goto next;
            }
        }

        hoop_mask_ptr_key(kpath, sizeof(kpath), ipath, "name");

        if (name == NULL) {
            hoop_mask_error(pc, "missing-key", ipath, "a topic needs a name");
            continue;
        }

        tp->len = strlen(name);
        tp->name = hoop_mask_dup(pc, name, tp->len);
        if (tp->name == NULL) {
            return -1;
        }

        if (tp->match == HOOP_MASK_T_REGEX) {
            tp->re = pcre2_compile((PCRE2_SPTR) name, tp->len,
                                   HOOP_MASK_TOPIC_RE | PCRE2_UTF, &ec,
                                   &eoff, NULL);
            if (tp->re == NULL) {
                pcre2_get_error_message(ec, (PCRE2_UCHAR *) msg,
                                        sizeof(msg));
                hoop_mask_error(pc, "bad-regex", kpath,
                                "topic regex: %s at offset %zu", msg,
                                (size_t) eoff);
                free(tp->name);
                tp->name = NULL;
                continue;
            }

            (void) pcre2_jit_compile(tp->re, PCRE2_JIT_COMPLETE);

        } else if (!(tp->match == HOOP_MASK_T_LITERAL
                     && strcmp(name, "*") == 0)
                   && !hoop_mask_topic_name_ok(name, tp->len,
                                               tp->match
                                               == HOOP_MASK_T_PREFIX))
        {
            hoop_mask_warn(pc, "topic-name", kpath,
                           "\"%.64s\" cannot be (the start of) a Kafka "
                           "topic name: [a-zA-Z0-9._-], at most 249", name);
        }

        r->ntopics++;

    next:

        continue;
    }

    return 0;
}


/*
 * principals or except: "User:NAME", "Group:NAME", "User:*" ("User:*"
 * refused in except: a rule that masks for nobody is a deleted rule).
 */
static int
hoop_mask_who(hoop_mask_pc_t *pc, const json_t *v, const char *path,
    const char *what, int except, hoop_mask_who_t *w)
{
    char         ipath[128];
    size_t       i, n, plen, k;
    const char  *s;
    char       **list, ***dst;
    size_t      *ndst;

    if (hoop_mask_jlist(pc, v, path, what) != 0) {
        return -1;
    }

    n = json_array_size(v);
    w->users = calloc(n, sizeof(char *));
    w->groups = calloc(n, sizeof(char *));
    if (w->users == NULL || w->groups == NULL) {
        pc->nomem = 1;
        return -1;
    }

    for (i = 0; i < n; i++) {
        hoop_mask_ptr_index(ipath, sizeof(ipath), path, i);

        s = hoop_mask_jstring(pc, json_array_get(v, i), ipath, "a principal",
                              HOOP_MASK_POLICY_MAX_NAME + 6, 0, 0);
        if (s == NULL) {
            continue;
        }

        if (strncmp(s, "User:", 5) == 0) {
            plen = 5;
            dst = &w->users;
            ndst = &w->nusers;

        } else if (strncmp(s, "Group:", 6) == 0) {
            plen = 6;
            dst = &w->groups;
            ndst = &w->ngroups;

        } else {
            hoop_mask_error(pc, "bad-principal", ipath,
                            "principal \"%.64s\" is not \"User:NAME\" or "
                            "\"Group:NAME\" (the type is case-sensitive, as "
                            "in Kafka)", s);
            continue;
        }

        if (s[plen] == '\0') {
            hoop_mask_error(pc, "bad-principal", ipath,
                            "principal \"%s\" has no name", s);
            continue;
        }

        if (plen == 6 && strcmp(s + 6, "*") == 0) {
            hoop_mask_error(pc, "bad-principal", ipath,
                            "\"Group:*\" is not a wildcard; \"User:*\" is "
                            "every authenticated caller");
            continue;
        }

        if (plen == 5 && strcmp(s + 5, "*") == 0) {
            if (except) {
                hoop_mask_error(pc, "bad-principal", ipath,
                                "except \"User:*\" would mask for nobody: "
                                "remove the rule instead");
                continue;
            }

            if (w->any_user) {
                hoop_mask_warn(pc, "duplicate-entry", ipath,
                               "principal \"User:*\" is listed twice");
            }

            w->any_user = 1;
            continue;
        }

        list = *dst;

        for (k = 0; k < *ndst; k++) {
            if (strcmp(list[k], s + plen) == 0) {
                break;
            }
        }

        if (k < *ndst) {
            hoop_mask_warn(pc, "duplicate-entry", ipath,
                           "principal \"%.64s\" is listed twice", s);
            continue;
        }

        list[*ndst] = hoop_mask_dup(pc, s + plen, strlen(s + plen));
        if (list[*ndst] == NULL) {
            return -1;
        }
        (*ndst)++;
    }

    return 0;
}


/*
 * One field of a rule: read into f (strings point into the JSON value
 * until the engine check, then are copied), checked by the engine alone.
 * Returns 0 when valid, -1 otherwise.
 */
static int
hoop_mask_field(hoop_mask_pc_t *pc, const json_t *v, const char *path,
    const char *id, hoop_mask_rule_t *f, unsigned *has_hash)
{
    int           strategy;
    char          kpath[128];
    size_t        errors, k;
    json_int_t    iv;
    const char   *key, *s, *key_file;
    json_t       *item;
    const json_t *param[4];
    static const char  *param_keys[4] = { "replacement", "keep",
                                          "mask_char", "key_file" };
    const json_t *hash_chars, *strategy_v;

    errors = pc->nerrors;
    memset(f, 0, sizeof(*f));

    if (!json_is_object(v)) {
        hoop_mask_error(pc, "type", path,
                        "a field is a mapping (path, regex, strategy, ...), "
                        "not %s", hoop_mask_jtype(v));
        return -1;
    }

    f->id = id;
    f->part = HOOP_MASK_VALUE;
    strategy = -1;
    key_file = NULL;
    memset(param, 0, sizeof(param));
    hash_chars = NULL;
    strategy_v = NULL;

    json_object_foreach((json_t *) v, key, item) {
        hoop_mask_ptr_key(kpath, sizeof(kpath), path, key);

        if (strcmp(key, "part") == 0) {
            s = json_is_string(item) ? json_string_value(item) : "";

            if (strcmp(s, "value") == 0) {
                f->part = HOOP_MASK_VALUE;
            } else if (strcmp(s, "key") == 0) {
                f->part = HOOP_MASK_KEY;
            } else if (strcmp(s, "header") == 0) {
                f->part = HOOP_MASK_HEADER;
            } else {
                hoop_mask_error(pc, "bad-part", kpath,
                                "part is value, key or header");
            }

        } else if (strcmp(key, "header") == 0) {
            f->header = hoop_mask_jstring(pc, item, kpath, "header",
                                          HOOP_MASK_MAX_TEXT, 0, 0);

        } else if (strcmp(key, "path") == 0) {
            f->path = hoop_mask_jstring(pc, item, kpath, "path",
                                        HOOP_MASK_MAX_PATH, 0, 0);

        } else if (strcmp(key, "regex") == 0) {
            f->regex = hoop_mask_jstring(pc, item, kpath, "regex",
                                         HOOP_MASK_MAX_REGEX, 1, 0);

        } else if (strcmp(key, "strategy") == 0) {
            strategy_v = item;

            if (json_is_null(item)) {
                hoop_mask_error(pc, "bad-strategy", kpath,
                                "strategy is null (no value): write "
                                "\"null\" in quotes to null the field");
                continue;
            }

            s = json_is_string(item) ? json_string_value(item) : "";

            for (k = 0; k < 6; k++) {
                if (strcmp(s, hoop_mask_strategy_keys[k]) == 0) {
                    strategy = (int) k;
                    break;
                }
            }

            if (strategy < 0) {
                hoop_mask_error(pc, "bad-strategy", kpath,
                                "strategy is redact, keep_first, keep_last, "
                                "hash, remove or \"null\"");
            }

        } else if (strcmp(key, "replacement") == 0) {
            param[0] = item;
            f->replacement = hoop_mask_jstring(pc, item, kpath,
                                               "replacement",
                                               HOOP_MASK_MAX_TEXT, 1, 1);

        } else if (strcmp(key, "keep") == 0) {
            param[1] = item;

            if (!json_is_integer(item)
                || (iv = json_integer_value(item)) < 0
                || iv > HOOP_MASK_MAX_KEEP)
            {
                hoop_mask_error(pc, "bad-parameter", kpath,
                                "keep is an integer from 0 to %d (code "
                                "points kept)", HOOP_MASK_MAX_KEEP);
            } else {
                f->n = (unsigned) iv;
            }

        } else if (strcmp(key, "mask_char") == 0) {
            param[2] = item;
            f->mask_char = hoop_mask_jstring(pc, item, kpath, "mask_char",
                                             8, 0, 0);

        } else if (strcmp(key, "key_file") == 0) {
            param[3] = item;
            key_file = hoop_mask_jstring(pc, item, kpath, "key_file",
                                         4096, 0, 0);

        } else if (strcmp(key, "hash_chars") == 0) {
            hash_chars = item;

            if (!json_is_integer(item)
                || (iv = json_integer_value(item)) < 8 || iv > 64)
            {
                hoop_mask_error(pc, "bad-parameter", kpath,
                                "hash_chars is an integer from 8 to 64 (hex "
                                "digits kept)");
            } else {
                f->hash_chars = (unsigned) iv;
            }

        } else {
            hoop_mask_error(pc, "unknown-key", kpath,
                            "unknown key \"%.64s\" in a field (allowed: "
                            HOOP_MASK_FIELD_KEYS ")", key);
        }
    }

    if (strategy_v == NULL) {
        hoop_mask_error(pc, "missing-key", path,
                        "a field needs a strategy (redact, keep_first, "
                        "keep_last, hash, remove or \"null\")");
    }

    if (pc->nerrors > errors || strategy < 0) {
        return -1;
    }

    f->strategy = (hoop_mask_strategy_t) strategy;

    /* parameters of another strategy are mistakes */

    for (k = 0; k < 4; k++) {
        int  ok;

        if (param[k] == NULL) {
            continue;
        }

        ok = (k == 0 && f->strategy == HOOP_MASK_REDACT)
             || ((k == 1 || k == 2)
                 && (f->strategy == HOOP_MASK_KEEP_FIRST
                     || f->strategy == HOOP_MASK_KEEP_LAST))
             || (k == 3 && f->strategy == HOOP_MASK_HASH);

        if (!ok) {
            hoop_mask_ptr_key(kpath, sizeof(kpath), path, param_keys[k]);
            hoop_mask_error(pc, "strategy-param", kpath,
                            "%s is not a parameter of %s", param_keys[k],
                            hoop_mask_strategy_keys[strategy]);
        }
    }

    if (hash_chars && f->strategy != HOOP_MASK_HASH) {
        hoop_mask_ptr_key(kpath, sizeof(kpath), path, "hash_chars");
        hoop_mask_error(pc, "strategy-param", kpath,
                        "hash_chars is not a parameter of %s",
                        hoop_mask_strategy_keys[strategy]);
    }

    if ((f->strategy == HOOP_MASK_KEEP_FIRST
         || f->strategy == HOOP_MASK_KEEP_LAST) && param[1] == NULL)
    {
        hoop_mask_error(pc, "missing-key", path,
                        "%s needs keep (the number of code points shown)",
                        hoop_mask_strategy_keys[strategy]);
    }

    if (f->header && f->part != HOOP_MASK_HEADER) {
        hoop_mask_ptr_key(kpath, sizeof(kpath), path, "header");
        hoop_mask_error(pc, "bad-header", kpath,
                        "header names a record header: write part: header");
    }

    if (f->part == HOOP_MASK_HEADER && f->header == NULL) {
        hoop_mask_error(pc, "missing-key", path,
                        "a field of part header needs the header name");
    }

    if ((f->strategy == HOOP_MASK_REMOVE || f->strategy == HOOP_MASK_NULL)
        && f->part != HOOP_MASK_HEADER && f->path == NULL && f->regex == NULL)
    {
        hoop_mask_ptr_key(kpath, sizeof(kpath), path, "strategy");
        hoop_mask_error(pc, "tombstone", kpath,
                        "%s of a whole record %s would make it a tombstone "
                        "(a delete in compacted topics): give a path",
                        hoop_mask_strategy_keys[strategy],
                        f->part == HOOP_MASK_KEY ? "key" : "value");
    }

    if (f->strategy == HOOP_MASK_HASH) {
        if (key_file == NULL) {
            hoop_mask_error(pc, "missing-key", path,
                            "hash needs key_file (a file of 16 to %d "
                            "secret bytes)", HOOP_MASK_MAX_KEY);

        } else {
            hoop_mask_ptr_key(kpath, sizeof(kpath), path, "key_file");
            (void) hoop_mask_key_file(pc, key_file, kpath, f);
        }

        *has_hash = 1;
    }

    if (pc->nerrors > errors) {
        free((void *) f->key);
        f->key = NULL;
        return -1;
    }

    hoop_mask_engine_check(pc, path, f);

    if (pc->nerrors > errors) {
        free((void *) f->key);
        f->key = NULL;
        return -1;
    }

    /* own the strings: the JSON value goes away */

    {
        const char  *src[6];
        char        *dst[6];

        src[0] = f->id;
        src[1] = f->header;
        src[2] = f->path;
        src[3] = f->regex;
        src[4] = f->replacement;
        src[5] = f->mask_char;

        for (k = 0; k < 6; k++) {
            dst[k] = src[k] ? hoop_mask_dup(pc, src[k], strlen(src[k]))
                            : NULL;
        }

        if (pc->nomem) {
            for (k = 0; k < 6; k++) {
                free(dst[k]);
            }
            free((void *) f->key);
            f->key = NULL;
            return -1;
        }

        f->id = dst[0];
        f->header = dst[1];
        f->path = dst[2];
        f->regex = dst[3];
        f->replacement = dst[4];
        f->mask_char = dst[5];
    }

    return 0;
}


/*
 * Reads the HMAC key of a hash field: an absolute path to a regular file
 * whose bytes, exactly, are the key (16 to HOOP_MASK_MAX_KEY; generate
 * one with "openssl rand -out FILE 32").  A key others may read is
 * worth a warning.  With HOOP_MASK_POLICY_NO_KEYS only the path is
 * checked and a dummy key stands in.
 */
static int
hoop_mask_key_file(hoop_mask_pc_t *pc, const char *file, const char *path,
    hoop_mask_rule_t *f)
{
    int          fd, err;
    ssize_t      n;
    size_t       got;
    uint8_t     *key;
    struct stat  st;

    if (file[0] != '/') {
        hoop_mask_error(pc, "key-file", path,
                        "key_file \"%.64s\" is not an absolute path", file);
        return -1;
    }

    if (pc->mp->flags & HOOP_MASK_POLICY_NO_KEYS) {
        key = malloc(sizeof(hoop_mask_dummy_key));
        if (key == NULL) {
            pc->nomem = 1;
            return -1;
        }
        memcpy(key, hoop_mask_dummy_key, sizeof(hoop_mask_dummy_key));
        f->key = key;
        f->key_len = sizeof(hoop_mask_dummy_key);
        return 0;
    }

    fd = open(file, O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        hoop_mask_error(pc, "key-file", path, "key_file \"%.64s\": %s", file,
                        strerror(errno));
        return -1;
    }

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err = S_ISREG(st.st_mode) ? errno : 0;
        close(fd);
        hoop_mask_error(pc, "key-file", path,
                        "key_file \"%.64s\": %s", file,
                        err ? strerror(err) : "not a regular file");
        return -1;
    }

    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        hoop_mask_warn(pc, "key-file-mode", path,
                       "key_file \"%.64s\" can be read or written by every "
                       "user of the machine (chmod 600)", file);
    }

    key = malloc(HOOP_MASK_MAX_KEY + 1);
    if (key == NULL) {
        close(fd);
        pc->nomem = 1;
        return -1;
    }

    got = 0;

    while (got < HOOP_MASK_MAX_KEY + 1) {
        n = read(fd, key + got, HOOP_MASK_MAX_KEY + 1 - got);

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n < 0) {
            err = errno;
            close(fd);
            free(key);
            hoop_mask_error(pc, "key-file", path, "key_file \"%.64s\": %s",
                            file, strerror(err));
            return -1;
        }

        if (n == 0) {
            break;
        }

        got += (size_t) n;
    }

    close(fd);

    if (got < HOOP_MASK_MIN_KEY || got > HOOP_MASK_MAX_KEY) {
        free(key);
        hoop_mask_error(pc, "key-file", path,
                        "key_file \"%.64s\" holds %s%zu bytes: a key is %d "
                        "to %d bytes", file,
                        got > HOOP_MASK_MAX_KEY ? "more than " : "",
                        got > HOOP_MASK_MAX_KEY ? (size_t) HOOP_MASK_MAX_KEY
                                                : got,
                        HOOP_MASK_MIN_KEY, HOOP_MASK_MAX_KEY);
        return -1;
    }

    f->key = key;
    f->key_len = got;

    return 0;
}


/*
 * Compiles f alone with the engine (path, regex, parameters): its message
 * becomes a diagnostic on the member concerned.
 */
static void
hoop_mask_engine_check(hoop_mask_pc_t *pc, const char *path,
    const hoop_mask_rule_t *f)
{
    size_t              k;
    char                kpath[128], needle[32];
    const char         *member, *code, *msg;
    hoop_mask_set_t    *set;
    hoop_mask_error_t   err;
    static const struct {
        const char     *field;
        const char     *member;
        const char     *code;
    } map[] = {
        { "path", "path", "bad-path" },
        { "regex", "regex", "bad-regex" },
        { "strategy", "strategy", "bad-strategy" },
        { "replacement", "replacement", "bad-parameter" },
        { "n", "keep", "bad-parameter" },
        { "mask_char", "mask_char", "bad-parameter" },
        { "key", "key_file", "key-file" },
        { "hash_chars", "hash_chars", "bad-parameter" },
        { "header", "header", "bad-header" }
    };

    memset(&err, 0, sizeof(err));

    set = hoop_mask_compile(f, 1, &pc->mp->engine, &err);
    if (set) {
        hoop_mask_free(set);
        return;
    }

    member = NULL;
    code = "bad-field";

    for (k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
        if (err.field && strcmp(err.field, map[k].field) == 0) {
            member = map[k].member;
            code = map[k].code;
            break;
        }
    }

    if (err.field && strcmp(err.field, "set") == 0
        && strstr(err.message, "out of memory"))
    {
        pc->nomem = 1;
        return;
    }

    /* the engine's message without its "rule N (id ...), field: " */
    msg = err.message;

    if (err.field) {
        snprintf(needle, sizeof(needle), "%s: ", err.field);
        if (strstr(msg, needle)) {
            msg = strstr(msg, needle) + strlen(needle);
        }
    }

    if (member) {
        hoop_mask_ptr_key(kpath, sizeof(kpath), path, member);
    } else {
        snprintf(kpath, sizeof(kpath), "%s", path);
    }

    hoop_mask_error(pc, code, kpath, "%s%s", member ? "" : "field: ", msg);
}


static void
hoop_mask_who_free(hoop_mask_who_t *w)
{
    size_t  i;

    for (i = 0; w->users && i < w->nusers; i++) {
        free(w->users[i]);
    }

    for (i = 0; w->groups && i < w->ngroups; i++) {
        free(w->groups[i]);
    }

    free(w->users);
    free(w->groups);
}


static void
hoop_mask_prule_free(hoop_mask_prule_t *r)
{
    size_t             i;
    hoop_mask_rule_t  *f;

    free(r->id);

    for (i = 0; r->topics && i < r->ntopics; i++) {
        free(r->topics[i].name);
        pcre2_code_free(r->topics[i].re);
    }

    free(r->topics);
    hoop_mask_who_free(&r->who);
    hoop_mask_who_free(&r->except);

    for (i = 0; r->fields && i < r->nfields; i++) {
        f = &r->fields[i];
        free((void *) f->id);
        free((void *) f->header);
        free((void *) f->path);
        free((void *) f->regex);
        free((void *) f->replacement);
        free((void *) f->mask_char);

        if (f->key) {
            memset((void *) f->key, 0, f->key_len);   /* a secret */
            free((void *) f->key);
        }
    }

    free(r->fields);
}


void
hoop_mask_policy_free(hoop_mask_policy_t *mp)
{
    size_t  i;

    if (mp == NULL) {
        return;
    }

    for (i = 0; mp->rules && i < mp->nrules; i++) {
        hoop_mask_prule_free(&mp->rules[i]);
    }

    for (i = 0; i < mp->ncache; i++) {
        free(mp->cache[i].bits);
        hoop_mask_free(mp->cache[i].set);
    }

    free(mp->rules);
    free(mp->cache);
    free(mp->slots);
    free(mp->cur);
    free(mp->scratch);
    pcre2_match_data_free(mp->md);
    pcre2_match_context_free(mp->mctx);
    free(mp);
}


size_t
hoop_mask_policy_rule_count(const hoop_mask_policy_t *mp)
{
    return mp->nrules;
}


const char *
hoop_mask_policy_rule_id(const hoop_mask_policy_t *mp, size_t i)
{
    return i < mp->nrules ? mp->rules[i].id : NULL;
}


int
hoop_mask_policy_has_direction(const hoop_mask_policy_t *mp,
    hoop_mask_direction_t d)
{
    return (mp->directions & (unsigned) d) != 0;
}


const char *
hoop_mask_direction_name(hoop_mask_direction_t d)
{
    switch (d) {
    case HOOP_MASK_PRODUCE:
        return "produce";
    case HOOP_MASK_FETCH:
        return "fetch";
    }

    return NULL;
}


/* ----------------------------------------------------------------------
 * Selecting
 */


static int
hoop_mask_who_match(const hoop_mask_who_t *w, const hoop_mask_request_t *req)
{
    size_t  i, j;

    if (w->any_user) {
        return 1;
    }

    for (i = 0; i < w->nusers; i++) {
        if (strlen(w->users[i]) == req->principal.len
            && memcmp(w->users[i], req->principal.data, req->principal.len)
               == 0)
        {
            return 1;
        }
    }

    for (j = 0; j < req->ngroups; j++) {
        for (i = 0; i < w->ngroups; i++) {
            if (strlen(w->groups[i]) == req->groups[j].len
                && memcmp(w->groups[i], req->groups[j].data,
                          req->groups[j].len) == 0)
            {
                return 1;
            }
        }
    }

    return 0;
}


static int
hoop_mask_topic_match(hoop_mask_policy_t *mp, const hoop_mask_prule_t *r,
    const hoop_mask_request_t *req)
{
    int                       rc;
    size_t                    i;
    const hoop_mask_topic_t  *t;

    for (i = 0; i < r->ntopics; i++) {
        t = &r->topics[i];

        switch (t->match) {

        case HOOP_MASK_T_LITERAL:
            if ((t->len == 1 && t->name[0] == '*')
                || (t->len == req->topic.len
                    && memcmp(t->name, req->topic.data, t->len) == 0))
            {
                return 1;
            }
            break;

        case HOOP_MASK_T_PREFIX:
            if (t->len <= req->topic.len
                && memcmp(t->name, req->topic.data, t->len) == 0)
            {
                return 1;
            }
            break;

        default:
            rc = pcre2_match(t->re, (PCRE2_SPTR) (req->topic.data
                                                  ? req->topic.data : ""),
                             req->topic.len, 0, 0, mp->md, mp->mctx);

            /* a match, or a regex that could not decide: mask */
            if (rc != PCRE2_ERROR_NOMATCH) {
                return 1;
            }
            break;
        }
    }

    return 0;
}


static uint64_t
hoop_mask_bits_hash(const uint64_t *bits, size_t n)
{
    size_t    i;
    uint64_t  h;

    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < n; i++) {
        h ^= bits[i];
        h *= 0x100000001b3ULL;
        h ^= h >> 29;
    }

    return h;
}


/* an engine set of the fields of the rules in mp->cur, in rule order */
static hoop_mask_set_t *
hoop_mask_build_set(hoop_mask_policy_t *mp)
{
    size_t              i, n;
    hoop_mask_prule_t  *r;

    n = 0;

    for (i = 0; i < mp->nrules; i++) {
        if (mp->cur[i / 64] & (1ULL << (i % 64))) {
            r = &mp->rules[i];
            memcpy(&mp->scratch[n], r->fields,
                   r->nfields * sizeof(hoop_mask_rule_t));
            n += r->nfields;
        }
    }

    return hoop_mask_compile(mp->scratch, n, &mp->engine, NULL);
}


int
hoop_mask_policy_select(hoop_mask_policy_t *mp,
    const hoop_mask_request_t *req, const hoop_mask_set_t **set)
{
    int                  any, hash_needed;
    size_t               i, slot;
    uint32_t             e;
    uint64_t             h;
    hoop_mask_cached_t  *c, *nc;
    hoop_mask_prule_t   *r;

    *set = NULL;

    if ((mp->directions & (unsigned) req->direction) == 0) {
        return 0;
    }

    memset(mp->cur, 0, mp->nwords * sizeof(uint64_t));
    any = 0;
    hash_needed = 0;

    for (i = 0; i < mp->nrules; i++) {
        r = &mp->rules[i];

        if ((r->directions & (unsigned) req->direction) == 0
            || !hoop_mask_topic_match(mp, r, req))
        {
            continue;
        }

        /* no identity: every rule, no exception (fail closed) */
        if (req->principal.data != NULL
            && (!hoop_mask_who_match(&r->who, req)
                || hoop_mask_who_match(&r->except, req)))
        {
            continue;
        }

        mp->cur[i / 64] |= 1ULL << (i % 64);
        any = 1;
        hash_needed |= r->has_hash;
    }

    if (!any) {
        return 0;
    }

    h = hoop_mask_bits_hash(mp->cur, mp->nwords);
    slot = (size_t) h & (mp->nslots - 1);

    while ((e = mp->slots[slot]) != 0) {
        c = &mp->cache[e - 1];

        if (c->hash == h
            && memcmp(c->bits, mp->cur, mp->nwords * sizeof(uint64_t)) == 0)
        {
            *set = c->set;
            return 0;
        }

        slot = (slot + 1) & (mp->nslots - 1);
    }

    if (hash_needed && (mp->flags & HOOP_MASK_POLICY_NO_KEYS)) {
        return HOOP_MASK_ECRYPTO;           /* lint-only keys never mask */
    }

    if (mp->ncache >= HOOP_MASK_POLICY_MAX_SETS) {
        return HOOP_MASK_ETOOBIG;
    }

    nc = realloc(mp->cache, (mp->ncache + 1) * sizeof(hoop_mask_cached_t));
    if (nc == NULL) {
        return HOOP_MASK_ENOMEM;
    }

    mp->cache = nc;
    c = &nc[mp->ncache];
    c->hash = h;
    c->bits = malloc(mp->nwords * sizeof(uint64_t));
    c->set = c->bits ? hoop_mask_build_set(mp) : NULL;

    if (c->set == NULL) {
        free(c->bits);
        return HOOP_MASK_ENOMEM;
    }

    memcpy(c->bits, mp->cur, mp->nwords * sizeof(uint64_t));
    mp->ncache++;
    mp->slots[slot] = (uint32_t) mp->ncache;

    *set = c->set;

    return 0;
}
