/*
 * Compiling rule descriptions into a set: checks every field with a
 * message that names the rule and the problem, parses paths, compiles
 * (and JIT-compiles) regexes, prepares HMAC pads, and groups the rules by
 * the part of a record they look at.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hoop_mask_int.h"


static int hoop_mask_fail(hoop_mask_error_t *err, size_t i,
    const hoop_mask_rule_t *d, const char *field, long offset,
    const char *fmt, ...);
static char *hoop_mask_strdup(const char *s, size_t n);
static int hoop_mask_id_valid(const char *id);
static int hoop_mask_compile_rule(hoop_mask_set_t *set, size_t i,
    const hoop_mask_rule_t *d, hoop_mask_crule_t *r, hoop_mask_error_t *err);
static int hoop_mask_compile_strategy(hoop_mask_set_t *set, size_t i,
    const hoop_mask_rule_t *d, hoop_mask_crule_t *r, hoop_mask_error_t *err);
static int hoop_mask_list_add(hoop_mask_set_t *set, hoop_mask_list_t *l,
    uint32_t i);


static const char  *hoop_mask_strategy_names[] = {
    "redact", "keep_first", "keep_last", "hash", "remove", "null"
};


const char *
hoop_mask_strategy_name(hoop_mask_strategy_t s)
{
    if ((unsigned) s >= sizeof(hoop_mask_strategy_names) / sizeof(char *)) {
        return NULL;
    }

    return hoop_mask_strategy_names[s];
}


static int
hoop_mask_fail(hoop_mask_error_t *err, size_t i, const hoop_mask_rule_t *d,
    const char *field, long offset, const char *fmt, ...)
{
    int      n;
    va_list  ap;

    if (err == NULL) {
        return -1;
    }

    err->rule = i;
    err->field = field;
    err->offset = offset;

    if (d && d->id && d->id[0] && strlen(d->id) <= 128) {
        n = snprintf(err->message, sizeof(err->message),
                     "rule %zu (id \"%s\"), %s: ", i, d->id, field);
    } else {
        n = snprintf(err->message, sizeof(err->message), "rule %zu, %s: ",
                     i, field);
    }

    if (n < 0 || (size_t) n >= sizeof(err->message)) {
        return -1;
    }

    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof(err->message) - n, fmt, ap);
    va_end(ap);

    return -1;
}


static char *
hoop_mask_strdup(const char *s, size_t n)
{
    char  *p;

    p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }

    return p;
}


/* the id syntax of the policy language: [A-Za-z0-9][A-Za-z0-9._-]*,
 * at most 128 characters */
static int
hoop_mask_id_valid(const char *id)
{
    size_t  i;
    char    c;

    for (i = 0; id[i]; i++) {
        c = id[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || (i > 0 && (c == '.' || c == '_' || c == '-')))
        {
            continue;
        }

        return 0;
    }

    return i > 0 && i <= 128;
}


static int
hoop_mask_compile_strategy(hoop_mask_set_t *set, size_t i,
    const hoop_mask_rule_t *d, hoop_mask_crule_t *r, hoop_mask_error_t *err)
{
    size_t          n, k;
    uint8_t         key[64], ipad[64], opad[64];
    unsigned int    klen;
    const char     *text;
    hoop_mask_out_t tmp;
    hoop_mask_buf_t b;

    if (hoop_mask_strategy_name(d->strategy) == NULL) {
        return hoop_mask_fail(err, i, d, "strategy", -1,
                              "unknown strategy %d", (int) d->strategy);
    }

    r->strategy = d->strategy;

    /* parameters that belong to another strategy are mistakes */

    if (d->replacement && d->strategy != HOOP_MASK_REDACT) {
        return hoop_mask_fail(err, i, d, "replacement", -1,
                              "a replacement is for redact only, not %s",
                              hoop_mask_strategy_name(d->strategy));
    }

    if ((d->n || d->mask_char) && d->strategy != HOOP_MASK_KEEP_FIRST
        && d->strategy != HOOP_MASK_KEEP_LAST)
    {
        return hoop_mask_fail(err, i, d, d->n ? "n" : "mask_char", -1,
                              "%s is for keep_first and keep_last only, "
                              "not %s", d->n ? "n" : "mask_char",
                              hoop_mask_strategy_name(d->strategy));
    }

    if ((d->key || d->key_len || d->hash_chars)
        && d->strategy != HOOP_MASK_HASH)
    {
        return hoop_mask_fail(err, i, d, d->hash_chars ? "hash_chars" : "key",
                              -1, "%s is for hash only, not %s",
                              d->hash_chars ? "hash_chars" : "a key",
                              hoop_mask_strategy_name(d->strategy));
    }

    switch (d->strategy) {

    case HOOP_MASK_REDACT:
        text = d->replacement ? d->replacement : "***";
        n = strlen(text);

        if (n > HOOP_MASK_MAX_TEXT) {
            return hoop_mask_fail(err, i, d, "replacement", -1,
                                  "longer than %d bytes", HOOP_MASK_MAX_TEXT);
        }

        if (!hoop_mask_utf8_valid((const uint8_t *) text, n)) {
            return hoop_mask_fail(err, i, d, "replacement", -1,
                                  "not valid UTF-8");
        }

        r->repl = (uint8_t *) hoop_mask_strdup(text, n);
        if (r->repl == NULL) {
            return hoop_mask_fail(err, i, d, "replacement", -1,
                                  "out of memory");
        }
        r->repl_len = n;

        hoop_mask_out_init(&tmp, NULL);
        b.p = NULL;
        b.len = 0;
        b.cap = 0;

        if (hoop_mask_json_escape(&tmp, &b, r->repl, n) != 0) {
            free(b.p);
            return hoop_mask_fail(err, i, d, "replacement", -1,
                                  "out of memory");
        }

        r->repl_json = b.p;
        r->repl_json_len = b.len;
        break;

    case HOOP_MASK_KEEP_FIRST:
    case HOOP_MASK_KEEP_LAST:
        if (d->n > HOOP_MASK_MAX_KEEP) {
            return hoop_mask_fail(err, i, d, "n", -1,
                                  "%u is more than %d", d->n,
                                  HOOP_MASK_MAX_KEEP);
        }
        r->n = d->n;

        text = d->mask_char ? d->mask_char : "*";
        n = strlen(text);
        k = hoop_mask_utf8_next((const uint8_t *) text, n);

        if (n == 0 || k != n) {
            return hoop_mask_fail(err, i, d, "mask_char", -1,
                                  "must be exactly one character (UTF-8)");
        }

        if ((uint8_t) text[0] < 0x20 || text[0] == 0x7f) {
            return hoop_mask_fail(err, i, d, "mask_char", -1,
                                  "a control character cannot mask");
        }

        memcpy(r->mask_char, text, n);
        r->mask_char_len = n;
        break;

    case HOOP_MASK_HASH:
        if (d->key == NULL || d->key_len < HOOP_MASK_MIN_KEY
            || d->key_len > HOOP_MASK_MAX_KEY)
        {
            return hoop_mask_fail(err, i, d, "key", -1,
                                  "hash needs a key of %d to %d bytes "
                                  "(got %zu)", HOOP_MASK_MIN_KEY,
                                  HOOP_MASK_MAX_KEY,
                                  d->key ? d->key_len : (size_t) 0);
        }

        if (d->hash_chars != 0
            && (d->hash_chars < 8 || d->hash_chars > 64))
        {
            return hoop_mask_fail(err, i, d, "hash_chars", -1,
                                  "%u hex digits: keep 8 to 64",
                                  d->hash_chars);
        }

        r->hash_chars = d->hash_chars ? d->hash_chars : 64;

        /* RFC 2104: a key longer than the block is hashed first */
        memset(key, 0, sizeof(key));

        if (d->key_len > sizeof(key)) {
            if (EVP_Digest(d->key, d->key_len, key, &klen, set->sha256, NULL)
                != 1)
            {
                return hoop_mask_fail(err, i, d, "key", -1,
                                      "SHA-256 failed in OpenSSL");
            }

        } else {
            memcpy(key, d->key, d->key_len);
        }

        for (k = 0; k < sizeof(key); k++) {
            ipad[k] = key[k] ^ 0x36;
            opad[k] = key[k] ^ 0x5c;
        }

        if (SHA256_Init(&r->istate) != 1
            || SHA256_Update(&r->istate, ipad, sizeof(ipad)) != 1
            || SHA256_Init(&r->ostate) != 1
            || SHA256_Update(&r->ostate, opad, sizeof(opad)) != 1)
        {
            OPENSSL_cleanse(key, sizeof(key));
            OPENSSL_cleanse(ipad, sizeof(ipad));
            OPENSSL_cleanse(opad, sizeof(opad));
            return hoop_mask_fail(err, i, d, "key", -1,
                                  "SHA-256 failed in OpenSSL");
        }

        OPENSSL_cleanse(key, sizeof(key));
        OPENSSL_cleanse(ipad, sizeof(ipad));
        OPENSSL_cleanse(opad, sizeof(opad));
        break;

    case HOOP_MASK_REMOVE:
        if (r->re) {
            break;                           /* deletes the matched text */
        }

        if (d->part != HOOP_MASK_HEADER && d->path == NULL) {
            return hoop_mask_fail(err, i, d, "path", -1,
                       "remove needs the path of a member or element: "
                       "a record without a value or key is a tombstone "
                       "(a delete in compacted topics)");
        }

        if (d->path && r->nsteps == 0) {
            return hoop_mask_fail(err, i, d, "path", 0,
                       "remove needs the path of a member or element, "
                       "not '$'%s", d->part == HOOP_MASK_HEADER
                                    ? " (no path removes the header)" : "");
        }
        break;

    case HOOP_MASK_NULL:
        if (r->re) {
            return hoop_mask_fail(err, i, d, "strategy", -1,
                       "null replaces whole values: with a regex use "
                       "redact or remove");
        }

        if (d->part != HOOP_MASK_HEADER && d->path == NULL) {
            return hoop_mask_fail(err, i, d, "path", -1,
                       "null needs a path: a record with a null value or "
                       "key is a tombstone (a delete in compacted topics); "
                       "path '$' writes the JSON literal null");
        }
        break;
    }

    return 0;
}


static int
hoop_mask_compile_rule(hoop_mask_set_t *set, size_t i,
    const hoop_mask_rule_t *d, hoop_mask_crule_t *r, hoop_mask_error_t *err)
{
    int          ec;
    long         off;
    char         msg[200];
    size_t       n;
    uint32_t     groups;
    PCRE2_SIZE   eoff;

    if (d->id == NULL || d->id[0] == '\0') {
        return hoop_mask_fail(err, i, d, "id", -1, "a rule needs an id");
    }

    if (!hoop_mask_id_valid(d->id)) {
        return hoop_mask_fail(err, i, NULL, "id", -1,
                              "\"%.64s\" is not an id: [A-Za-z0-9] then "
                              "[A-Za-z0-9._-], at most 128", d->id);
    }

    r->id = hoop_mask_strdup(d->id, strlen(d->id));
    if (r->id == NULL) {
        return hoop_mask_fail(err, i, d, "id", -1, "out of memory");
    }

    if (d->part != HOOP_MASK_VALUE && d->part != HOOP_MASK_KEY
        && d->part != HOOP_MASK_HEADER)
    {
        return hoop_mask_fail(err, i, d, "part", -1, "unknown part %d",
                              (int) d->part);
    }

    r->part = d->part;

    if (d->part == HOOP_MASK_HEADER) {
        n = d->header ? strlen(d->header) : 0;

        if (n == 0) {
            return hoop_mask_fail(err, i, d, "header", -1,
                                  "a header rule needs a header name");
        }

        if (n > HOOP_MASK_MAX_TEXT) {
            return hoop_mask_fail(err, i, d, "header", -1,
                                  "longer than %d bytes", HOOP_MASK_MAX_TEXT);
        }

        r->header = (uint8_t *) hoop_mask_strdup(d->header, n);
        if (r->header == NULL) {
            return hoop_mask_fail(err, i, d, "header", -1, "out of memory");
        }
        r->header_len = n;

    } else if (d->header) {
        return hoop_mask_fail(err, i, d, "header", -1,
                              "a header name is for header rules only");
    }

    if (d->path) {
        if (hoop_mask_path_parse(d->path, &r->steps, &r->nsteps, &off, msg,
                                 sizeof(msg)) != 0)
        {
            return hoop_mask_fail(err, i, d, "path", off, "%s", msg);
        }

    } else {
        r->whole = 1;
        r->nsteps = 0;
    }

    if (d->regex) {
        n = strlen(d->regex);

        if (n == 0) {
            return hoop_mask_fail(err, i, d, "regex", -1, "empty pattern");
        }

        if (n > HOOP_MASK_MAX_REGEX) {
            return hoop_mask_fail(err, i, d, "regex", -1,
                                  "longer than %d bytes", HOOP_MASK_MAX_REGEX);
        }

        r->re = pcre2_compile((PCRE2_SPTR) d->regex, n,
                              PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eoff,
                              NULL);
        if (r->re == NULL) {
            pcre2_get_error_message(ec, (PCRE2_UCHAR *) msg, sizeof(msg));
            return hoop_mask_fail(err, i, d, "regex", (long) eoff,
                                  "%s at offset %zu", msg, (size_t) eoff);
        }

        /* JIT when the platform has it; the interpreter otherwise */
        (void) pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);

        ec = pcre2_substring_number_from_name(r->re,
                                              (PCRE2_SPTR) "mask");
        r->re_group = ec > 0 ? (uint32_t) ec : 0;

        if (pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &groups) == 0
            && groups + 1 > set->max_pairs)
        {
            set->max_pairs = groups + 1;
        }
    }

    return hoop_mask_compile_strategy(set, i, d, r, err);
}


static int
hoop_mask_list_add(hoop_mask_set_t *set, hoop_mask_list_t *l, uint32_t i)
{
    uint32_t                 *idx;
    const hoop_mask_crule_t  *r;

    idx = realloc(l->idx, (l->n + 1) * sizeof(uint32_t));
    if (idx == NULL) {
        return -1;
    }

    l->idx = idx;
    l->idx[l->n] = i;

    r = &set->rules[i];

    if (r->whole && r->re == NULL && l->raw < 0) {
        l->raw = (int32_t) l->n;
    }

    if (r->whole && r->re) {
        l->nraw_regex++;
    }

    l->n++;

    return 0;
}


hoop_mask_set_t *
hoop_mask_compile(const hoop_mask_rule_t *rules, size_t nrules,
    const hoop_mask_options_t *options, hoop_mask_error_t *err)
{
    size_t              i, h;
    hoop_mask_list_t   *l, *nh;
    hoop_mask_set_t    *set;
    hoop_mask_crule_t  *r;

    if (nrules > HOOP_MASK_MAX_RULES) {
        hoop_mask_fail(err, HOOP_MASK_MAX_RULES, NULL, "set", -1,
                       "more than %d rules", HOOP_MASK_MAX_RULES);
        return NULL;
    }

    if (options && options->max_depth > HOOP_MASK_MAX_DEPTH) {
        hoop_mask_fail(err, 0, NULL, "options", -1,
                       "max_depth %u is more than %d", options->max_depth,
                       HOOP_MASK_MAX_DEPTH);
        return NULL;
    }

    set = calloc(1, sizeof(hoop_mask_set_t));
    if (set == NULL) {
        goto nomem;
    }

    set->value.raw = -1;
    set->key.raw = -1;
    set->max_depth = (options && options->max_depth) ? options->max_depth
                                                     : HOOP_MASK_DEFAULT_DEPTH;
    set->match_limit = (options && options->match_limit)
                       ? options->match_limit : HOOP_MASK_DEFAULT_MATCH_LIMIT;
    set->max_output = (options && options->max_output)
                      ? options->max_output : HOOP_MASK_DEFAULT_MAX_OUTPUT;
    set->max_pairs = 1;

    set->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (set->sha256 == NULL) {
        hoop_mask_fail(err, 0, NULL, "set", -1,
                       "OpenSSL has no SHA-256 (EVP_MD_fetch failed)");
        hoop_mask_free(set);
        return NULL;
    }

    if (nrules) {
        set->rules = calloc(nrules, sizeof(hoop_mask_crule_t));
        if (set->rules == NULL) {
            goto nomem;
        }
    }

    set->nrules = nrules;

    for (i = 0; i < nrules; i++) {
        if (hoop_mask_compile_rule(set, i, &rules[i], &set->rules[i], err)
            != 0)
        {
            hoop_mask_free(set);
            return NULL;
        }
    }

    for (i = 0; i < nrules; i++) {
        r = &set->rules[i];

        if (r->part == HOOP_MASK_VALUE) {
            l = &set->value;

        } else if (r->part == HOOP_MASK_KEY) {
            l = &set->key;

        } else {
            for (h = 0; h < set->nheaders; h++) {
                if (set->headers[h].name_len == r->header_len
                    && memcmp(set->headers[h].name, r->header,
                              r->header_len) == 0)
                {
                    break;
                }
            }

            if (h == set->nheaders) {
                nh = realloc(set->headers,
                             (set->nheaders + 1) * sizeof(hoop_mask_list_t));
                if (nh == NULL) {
                    goto nomem;
                }
                set->headers = nh;
                memset(&nh[h], 0, sizeof(hoop_mask_list_t));
                nh[h].name = r->header;
                nh[h].name_len = r->header_len;
                nh[h].raw = -1;
                set->nheaders++;
            }

            l = &set->headers[h];
        }

        if (hoop_mask_list_add(set, l, (uint32_t) i) != 0) {
            goto nomem;
        }
    }

    return set;

nomem:

    hoop_mask_fail(err, 0, NULL, "set", -1, "out of memory");
    hoop_mask_free(set);
    return NULL;
}


void
hoop_mask_free(hoop_mask_set_t *set)
{
    size_t              i;
    hoop_mask_crule_t  *r;

    if (set == NULL) {
        return;
    }

    for (i = 0; set->rules && i < set->nrules; i++) {
        r = &set->rules[i];
        free(r->id);
        free(r->header);
        free(r->steps);
        pcre2_code_free(r->re);
        free(r->repl);
        free(r->repl_json);
    }

    for (i = 0; i < set->nheaders; i++) {
        free(set->headers[i].idx);
    }

    free(set->headers);
    free(set->value.idx);
    free(set->key.idx);
    free(set->rules);
    EVP_MD_free(set->sha256);
    free(set);
}


size_t
hoop_mask_rule_count(const hoop_mask_set_t *set)
{
    return set->nrules;
}


const char *
hoop_mask_rule_id(const hoop_mask_set_t *set, size_t i)
{
    return i < set->nrules ? set->rules[i].id : NULL;
}


int
hoop_mask_has_part(const hoop_mask_set_t *set, hoop_mask_part_t part)
{
    switch (part) {
    case HOOP_MASK_VALUE:
        return set->value.n > 0;
    case HOOP_MASK_KEY:
        return set->key.n > 0;
    case HOOP_MASK_HEADER:
        return set->nheaders > 0;
    }

    return 0;
}
