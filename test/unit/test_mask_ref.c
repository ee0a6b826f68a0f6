/*
 * The reference masker of test_mask_ref.h: the semantics of
 * src/mask/hoop_mask.h written the slow and obvious way over jansson
 * trees.
 */

#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE  200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "test_mask_ref.h"


typedef struct {
    char       *p;
    size_t      len;
    size_t      cap;
} ref_buf_t;

typedef struct {
    int         is_index;
    const char *name;
    size_t      len;
    size_t      index;
} ref_label_t;

typedef struct {
    ref_rule_t *rules;
    size_t      n;
    json_t    **numnodes;
    char      **nums;
    size_t      nnums;
    size_t      nfound;
    size_t      cap;
    size_t      next;
    uint32_t   *counts;
    int         bad;
} ref_ctx_t;


ref_stats_t  ref_stats;


static void
ref_add(ref_buf_t *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL) {
            abort();
        }
    }

    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}


static void
ref_adds(ref_buf_t *b, const char *s)
{
    ref_add(b, s, strlen(s));
}


/* the length of the code point at p (valid UTF-8 assumed; invalid bytes
 * count as one, as the engine does for raw payloads) */
static size_t
ref_cplen(const uint8_t *p, size_t n)
{
    size_t  k, i;

    if (p[0] < 0x80) {
        return 1;
    }

    k = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 1;

    if (k > n || p[0] > 0xf4 || (p[0] >= 0x80 && p[0] < 0xc2)) {
        return 1;
    }

    for (i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 1;
        }
    }

    /* overlong / surrogate / out of range: one byte, like the engine */
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f)
        || (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
    {
        return 1;
    }

    return k;
}


static void
ref_escape(ref_buf_t *b, const char *s, size_t n)
{
    char    u[8];
    size_t  i;
    uint8_t c;

    ref_adds(b, "\"");

    for (i = 0; i < n; i++) {
        c = (uint8_t) s[i];

        switch (c) {
        case '"': ref_adds(b, "\\\""); break;
        case '\\': ref_adds(b, "\\\\"); break;
        case '\b': ref_adds(b, "\\b"); break;
        case '\f': ref_adds(b, "\\f"); break;
        case '\n': ref_adds(b, "\\n"); break;
        case '\r': ref_adds(b, "\\r"); break;
        case '\t': ref_adds(b, "\\t"); break;
        default:
            if (c < 0x20) {
                snprintf(u, sizeof(u), "\\u%04x", c);
                ref_adds(b, u);
            } else {
                ref_add(b, &s[i], 1);
            }
        }
    }

    ref_adds(b, "\"");
}


/* ---------------------------------------------------------------------
 * rules
 */

static int
ref_shorthand(const char *s, size_t n)
{
    size_t   i;
    uint8_t  c;

    if (n == 0) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        c = (uint8_t) s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
            || c >= 0x80 || (i > 0 && ((c >= '0' && c <= '9') || c == '-')))
        {
            continue;
        }
        return 0;
    }

    return 1;
}


int
ref_rule_prepare(ref_rule_t *r, unsigned seed)
{
    int          i, ec;
    char         u[16];
    size_t       k;
    uint8_t      c;
    ref_buf_t    b;
    PCRE2_SIZE   eo;
    const char  *q;

    memset(&b, 0, sizeof(b));

    if (r->has_path) {
        ref_adds(&b, "$");

        for (i = 0; i < r->nsteps; i++) {
            const ref_step_t *s = &r->steps[i];
            int brackets = (seed >> (i % 16)) & 1;

            ref_adds(&b, s->desc ? ".." : "");

            if (s->kind == REF_STEP_ANY) {
                ref_adds(&b, brackets ? "[*]" : (s->desc ? "*" : ".*"));

            } else if (s->kind == REF_STEP_INDEX) {
                snprintf(u, sizeof(u), "[%u]", s->index);
                ref_adds(&b, u);

            } else if (!brackets && ref_shorthand(s->name, s->len)) {
                ref_adds(&b, s->desc ? "" : ".");
                ref_add(&b, s->name, s->len);

            } else {
                q = (seed >> 20) & 1 ? "'" : "\"";
                ref_adds(&b, "[");
                ref_adds(&b, q);
                for (k = 0; k < s->len; k++) {
                    c = (uint8_t) s->name[k];
                    if (c == q[0] || c == '\\') {
                        ref_adds(&b, "\\");
                        ref_add(&b, &s->name[k], 1);
                    } else if (c < 0x20 || ((seed >> (k % 16)) & 4 && c < 0x80
                                           && c != '\'' && c != '"'))
                    {
                        snprintf(u, sizeof(u), "\\u%04X", c);
                        ref_adds(&b, u);
                    } else {
                        ref_add(&b, &s->name[k], 1);
                    }
                }
                ref_adds(&b, q);
                ref_adds(&b, "]");
            }
        }

        if (b.len >= sizeof(r->path)) {
            free(b.p);
            return -1;
        }

        memcpy(r->path, b.p, b.len + 1);
        r->rule.path = r->path;

    } else {
        r->rule.path = NULL;
    }

    free(b.p);

    r->re = NULL;
    r->re_group = 0;

    if (r->rule.regex) {
        r->re = pcre2_compile((PCRE2_SPTR) r->rule.regex, PCRE2_ZERO_TERMINATED,
                              PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eo,
                              NULL);
        if (r->re == NULL) {
            return -1;
        }
        ec = pcre2_substring_number_from_name(r->re, (PCRE2_SPTR) "mask");
        r->re_group = ec > 0 ? ec : 0;
    }

    return 0;
}


void
ref_rule_free(ref_rule_t *r)
{
    pcre2_code_free(r->re);
    r->re = NULL;
}


/* ---------------------------------------------------------------------
 * numbers as written
 */

char **
ref_numbers(const char *text, size_t len, size_t *n)
{
    char    **v;
    size_t    i, j, cap;

    v = NULL;
    cap = 0;
    *n = 0;
    i = 0;

    while (i < len) {
        if (text[i] == '"') {
            for (i++; i < len && text[i] != '"'; i++) {
                if (text[i] == '\\') {
                    i++;
                }
            }
            i++;
            continue;
        }

        if (text[i] == '-' || (text[i] >= '0' && text[i] <= '9')) {
            j = i;
            while (j < len && strchr("+-.eE0123456789", text[j])
                   && text[j] != '\0')
            {
                j++;
            }
            if (*n == cap) {
                cap = cap * 2 + 8;
                v = realloc(v, cap * sizeof(char *));
            }
            v[*n] = strndup(text + i, j - i);
            (*n)++;
            i = j;
            continue;
        }

        i++;
    }

    return v;
}


void
ref_numbers_free(char **v, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(v[i]);
    }

    free(v);
}


static void
ref_collect_numbers(ref_ctx_t *c, json_t *v)
{
    size_t       i;
    json_t      *x;
    const char  *k;

    if (json_is_number(v)) {
        if (c->nfound == c->cap) {
            c->cap = c->cap * 2 + 8;
            c->numnodes = realloc(c->numnodes, c->cap * sizeof(json_t *));
        }
        c->numnodes[c->nfound++] = v;
        return;
    }

    if (json_is_array(v)) {
        json_array_foreach(v, i, x) {
            ref_collect_numbers(c, x);
        }
        return;
    }

    if (json_is_object(v)) {
        json_object_foreach(v, k, x) {
            ref_collect_numbers(c, x);
        }
    }
}


static const char *
ref_number_text(ref_ctx_t *c, json_t *v)
{
    size_t  i, k;

    /* numbers are mostly asked for in document order */
    for (k = 0; k < c->nfound; k++) {
        i = (c->next + k) % c->nfound;
        if (c->numnodes[i] == v) {
            c->next = i + 1;
            return c->nums[i];
        }
    }

    c->bad = 1;
    return "0";
}


static void
ref_canon(ref_ctx_t *c, ref_buf_t *b, json_t *v)
{
    size_t       i, kl;
    json_t      *x;
    const char  *k;

    switch (json_typeof(v)) {

    case JSON_OBJECT:
        ref_adds(b, "{");
        i = 0;
        json_object_keylen_foreach(v, k, kl, x) {
            if (i++) {
                ref_adds(b, ",");
            }
            ref_escape(b, k, kl);
            ref_adds(b, ":");
            ref_canon(c, b, x);
        }
        ref_adds(b, "}");
        break;

    case JSON_ARRAY:
        ref_adds(b, "[");
        json_array_foreach(v, i, x) {
            if (i) {
                ref_adds(b, ",");
            }
            ref_canon(c, b, x);
        }
        ref_adds(b, "]");
        break;

    case JSON_STRING:
        ref_escape(b, json_string_value(v), json_string_length(v));
        break;

    case JSON_INTEGER:
    case JSON_REAL:
        ref_adds(b, ref_number_text(c, v));
        break;

    case JSON_TRUE:
        ref_adds(b, "true");
        break;

    case JSON_FALSE:
        ref_adds(b, "false");
        break;

    case JSON_NULL:
        ref_adds(b, "null");
        break;
    }
}


char *
ref_canonical(json_t *v, char **nums, size_t nnums, int *bad)
{
    ref_ctx_t  c;
    ref_buf_t  b;

    memset(&c, 0, sizeof(c));
    memset(&b, 0, sizeof(b));
    c.nums = nums;
    c.nnums = nnums;
    ref_collect_numbers(&c, v);
    ref_canon(&c, &b, v);
    *bad = c.bad || c.nfound != nnums;
    free(c.numnodes);

    return b.p;
}


/* ---------------------------------------------------------------------
 * strategies on text
 */

static void
ref_keep(const ref_rule_t *r, ref_buf_t *b, const uint8_t *p, size_t n)
{
    size_t       i, count, keep, idx;
    const char  *mc;

    mc = r->rule.mask_char ? r->rule.mask_char : "*";

    count = 0;
    for (i = 0; i < n; i += ref_cplen(p + i, n - i)) {
        count++;
    }

    keep = count > r->rule.n ? r->rule.n : 0;
    idx = 0;

    for (i = 0; i < n; idx++) {
        size_t k = ref_cplen(p + i, n - i);
        int kept = r->rule.strategy == HOOP_MASK_KEEP_FIRST
                   ? idx < keep : idx >= count - keep;

        if (kept) {
            ref_add(b, p + i, k);
        } else {
            ref_adds(b, mc);
        }
        i += k;
    }
}


static void
ref_hash(const ref_rule_t *r, ref_buf_t *b, const uint8_t *p, size_t n)
{
    unsigned char  mac[EVP_MAX_MD_SIZE];
    unsigned int   ml, i, want;
    char           hex[3];

    HMAC(EVP_sha256(), r->rule.key, (int) r->rule.key_len, p, n, mac, &ml);
    want = r->rule.hash_chars ? r->rule.hash_chars : 64;

    for (i = 0; i < want; i++) {
        snprintf(hex, sizeof(hex), "%02x", mac[i / 2]);
        ref_add(b, hex + (i % 2), 1);
    }
}


static void
ref_replacement(const ref_rule_t *r, ref_buf_t *b, const uint8_t *p,
    size_t n)
{
    switch (r->rule.strategy) {
    case HOOP_MASK_REDACT:
        ref_adds(b, r->rule.replacement ? r->rule.replacement : "***");
        break;
    case HOOP_MASK_KEEP_FIRST:
    case HOOP_MASK_KEEP_LAST:
        ref_keep(r, b, p, n);
        break;
    case HOOP_MASK_HASH:
        ref_hash(r, b, p, n);
        break;
    default:
        break;
    }
}


typedef struct {
    size_t      s;
    size_t      e;
    size_t      rule;
    int         first;        /* first piece of its match: counted */
} ref_span_t;

typedef struct {
    ref_span_t *v;
    size_t      n;
    size_t      cap;
    uint8_t    *covered;      /* one flag per byte of the text */
} ref_spans_t;


/* the matches of rule i that touch no byte an earlier rule took */
static void
ref_regex_spans(const ref_rule_t *r, size_t i, ref_spans_t *sp,
    const uint8_t *p, size_t n)
{
    int                rc;
    int                first;
    size_t             start, s, e, j, run;
    PCRE2_SIZE        *ov;
    pcre2_match_data  *md;

    md = pcre2_match_data_create_from_pattern(r->re, NULL);
    ov = pcre2_get_ovector_pointer(md);
    start = 0;

    while (start <= n) {
        rc = pcre2_match(r->re, p, n, start, 0, md, NULL);
        if (rc < 0) {
            break;
        }

        s = ov[0];
        e = ov[1];

        if (r->re_group) {
            if (rc > r->re_group && ov[2 * r->re_group] != PCRE2_UNSET) {
                s = ov[2 * r->re_group];
                e = ov[2 * r->re_group + 1];
            } else {
                s = e;
            }
        }

        /* the runs of this match no earlier rule took, one piece each */
        first = 1;
        for (j = s; j < e; ) {
            if (sp->covered[j]) {
                j++;
                continue;
            }
            run = j;
            while (j < e && !sp->covered[j]) {
                j++;
            }
            if (sp->n == sp->cap) {
                sp->cap = sp->cap * 2 + 8;
                sp->v = realloc(sp->v, sp->cap * sizeof(ref_span_t));
            }
            sp->v[sp->n].s = run;
            sp->v[sp->n].e = j;
            sp->v[sp->n].rule = i;
            sp->v[sp->n].first = first;
            sp->n++;
            if (first) {
                ref_stats.regex_matches++;
            }
            first = 0;
        }

        for (j = s; j < e; j++) {
            if (sp->covered[j] && j == s) {
                ref_stats.regex_clipped++;
            } else if (sp->covered[j] && !sp->covered[j - 1]) {
                ref_stats.regex_clipped++;
            }
            sp->covered[j] = 1;
        }

        if (ov[1] > start) {
            start = ov[1];
        } else if (start < n) {
            start += ref_cplen(p + start, n - start);
        } else {
            break;
        }
    }

    pcre2_match_data_free(md);
}


static int
ref_span_cmp(const void *a, const void *b)
{
    const ref_span_t  *x = a, *y = b;

    return x->s < y->s ? -1 : x->s > y->s;
}


/*
 * The regex rules i with use[i] set, all on the same text b: the bytes of
 * a match that an earlier rule's match took are left out of it.  Replaces
 * b's content and returns 1 when something matched.
 */
static uint32_t
ref_regex_all(ref_rule_t *rules, size_t nrules, const uint8_t *use,
    ref_buf_t *b, uint32_t *counts)
{
    size_t       i, last, total;
    ref_buf_t    t;
    ref_spans_t  sp;

    memset(&sp, 0, sizeof(sp));
    sp.covered = calloc(b->len + 1, 1);

    for (i = 0; i < nrules; i++) {
        if (use[i]) {
            ref_regex_spans(&rules[i], i, &sp, (uint8_t *) b->p, b->len);
        }
    }

    total = sp.n;

    if (sp.n) {
        qsort(sp.v, sp.n, sizeof(ref_span_t), ref_span_cmp);
        memset(&t, 0, sizeof(t));
        ref_add(&t, "", 0);
        last = 0;

        for (i = 0; i < sp.n; i++) {
            ref_add(&t, b->p + last, sp.v[i].s - last);
            ref_replacement(&rules[sp.v[i].rule], &t,
                            (uint8_t *) b->p + sp.v[i].s,
                            sp.v[i].e - sp.v[i].s);
            counts[sp.v[i].rule] += sp.v[i].first;
            last = sp.v[i].e;
        }

        ref_add(&t, b->p + last, b->len - last);
        free(b->p);
        *b = t;
    }

    free(sp.v);
    free(sp.covered);

    return total != 0;
}


/* ---------------------------------------------------------------------
 * paths
 */

static int
ref_step_match(const ref_step_t *s, const ref_label_t *l)
{
    switch (s->kind) {
    case REF_STEP_ANY:
        return 1;
    case REF_STEP_INDEX:
        return l->is_index && l->index == s->index;
    default:
        return !l->is_index && l->len == s->len
               && memcmp(l->name, s->name, s->len) == 0;
    }
}


/* glob matching: a ".." step may skip any number of labels first */
static int
ref_path_match(const ref_step_t *s, int ns, const ref_label_t *l, int nl)
{
    int  skip;

    if (ns == 0) {
        return nl == 0;
    }

    if (!s->desc) {
        return nl > 0 && ref_step_match(s, l)
               && ref_path_match(s + 1, ns - 1, l + 1, nl - 1);
    }

    for (skip = 0; skip < nl; skip++) {
        if (ref_step_match(s, l + skip)
            && ref_path_match(s + 1, ns - 1, l + skip + 1, nl - skip - 1))
        {
            return 1;
        }
    }

    return 0;
}


static int
ref_selects(const ref_rule_t *r, const ref_label_t *l, int nl)
{
    if (!r->has_path) {
        return nl == 0;
    }

    return ref_path_match(r->steps, r->nsteps, l, nl);
}


/* ---------------------------------------------------------------------
 * the tree
 */

#define REF_REMOVED  ((json_t *) 1)

static json_t *ref_node(ref_ctx_t *c, json_t *v, ref_label_t *labels,
    int depth, const uint8_t *inh, int keep);


static json_t *
ref_text_string(ref_ctx_t *c, ref_buf_t *b)
{
    json_t  *s;

    s = json_stringn(b->p ? b->p : "", b->len);
    if (s == NULL) {
        c->bad = 2;                 /* not UTF-8: a bug in the strategies */
        s = json_null();
    }

    return s;
}


static void
ref_scalar_text(ref_ctx_t *c, json_t *v, ref_buf_t *b)
{
    b->len = 0;

    switch (json_typeof(v)) {
    case JSON_STRING:
        ref_add(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        ref_adds(b, ref_number_text(c, v));
        break;
    case JSON_TRUE:
        ref_adds(b, "true");
        break;
    case JSON_FALSE:
        ref_adds(b, "false");
        break;
    default:
        ref_adds(b, "null");
        break;
    }
}


static json_t *
ref_children(ref_ctx_t *c, json_t *v, ref_label_t *labels, int depth,
    const uint8_t *inh, int keep)
{
    size_t       i, kl;
    json_t      *x, *m, *res;
    const char  *k;

    if (json_is_array(v)) {
        res = json_array();
        json_array_foreach(v, i, x) {
            labels[depth].is_index = 1;
            labels[depth].index = i;
            m = ref_node(c, x, labels, depth + 1, inh, keep);
            if (m != REF_REMOVED) {
                json_array_append_new(res, m);
            }
        }
        return res;
    }

    res = json_object();
    json_object_keylen_foreach(v, k, kl, x) {
        labels[depth].is_index = 0;
        labels[depth].name = k;
        labels[depth].len = kl;
        m = ref_node(c, x, labels, depth + 1, inh, keep);
        if (m != REF_REMOVED) {
            json_object_setn_new(res, k, kl, m);
        }
    }
    return res;
}


static json_t *
ref_node(ref_ctx_t *c, json_t *v, ref_label_t *labels, int depth,
    const uint8_t *inh, int keep)
{
    int          whole, any;
    size_t       i;
    uint8_t      eff[64];
    ref_buf_t    t, res;
    ref_rule_t  *r;
    json_t      *out;

    memset(&t, 0, sizeof(t));
    memset(&res, 0, sizeof(res));

    /* inside a container kept by KEEP_*: every scalar */
    if (keep >= 0) {
        if (json_is_array(v) || json_is_object(v)) {
            return ref_children(c, v, labels, depth, inh, keep);
        }
        ref_scalar_text(c, v, &t);
        ref_keep(&c->rules[keep], &res, (uint8_t *) t.p, t.len);
        out = ref_text_string(c, &res);
        free(t.p);
        free(res.p);
        return out;
    }

    whole = -1;
    memcpy(eff, inh, sizeof(eff));

    for (i = 0; i < c->n; i++) {
        r = &c->rules[i];
        if (!ref_selects(r, labels, depth)) {
            continue;
        }
        if (r->re == NULL) {
            whole = (int) i;
            break;
        }
        eff[i] = 1;
    }

    if (whole >= 0) {
        r = &c->rules[whole];
        c->counts[whole]++;
        ref_stats.whole[r->rule.strategy]++;
        if (json_is_array(v) || json_is_object(v)) {
            ref_stats.containers[r->rule.strategy]++;
        }

        switch (r->rule.strategy) {
        case HOOP_MASK_REMOVE:
            return REF_REMOVED;
        case HOOP_MASK_NULL:
            return json_null();
        case HOOP_MASK_REDACT:
            return json_string(r->rule.replacement ? r->rule.replacement
                                                   : "***");
        case HOOP_MASK_HASH:
            if (json_is_array(v) || json_is_object(v)) {
                /* numbers of the subtree from the document's map */
                ref_buf_t  cb;

                memset(&cb, 0, sizeof(cb));
                ref_canon(c, &cb, v);
                if (cb.p && strstr(cb.p, "\\u00")) {
                    ref_stats.control_in_hash++;
                }
                ref_hash(r, &res, (uint8_t *) cb.p, cb.len);
                free(cb.p);
            } else {
                ref_scalar_text(c, v, &t);
                ref_hash(r, &res, (uint8_t *) t.p, t.len);
            }
            out = ref_text_string(c, &res);
            free(t.p);
            free(res.p);
            return out;
        default:
            if (json_is_array(v) || json_is_object(v)) {
                return ref_children(c, v, labels, depth, inh, whole);
            }
            ref_scalar_text(c, v, &t);
            ref_keep(r, &res, (uint8_t *) t.p, t.len);
            out = ref_text_string(c, &res);
            free(t.p);
            free(res.p);
            return out;
        }
    }

    if (json_is_array(v) || json_is_object(v)) {
        return ref_children(c, v, labels, depth, eff, -1);
    }

    if (!json_is_string(v) && !json_is_number(v)) {
        return json_incref(v);
    }

    ref_scalar_text(c, v, &t);
    any = ref_regex_all(c->rules, c->n, eff, &t, c->counts) != 0;

    out = any ? ref_text_string(c, &t) : json_incref(v);
    free(t.p);

    return out;
}


json_t *
ref_mask_json(ref_rule_t *rules, size_t nrules, json_t *doc, char **nums,
    size_t nnums, uint32_t *counts, int *bad)
{
    uint8_t      inh[64];
    json_t      *out;
    ref_ctx_t    c;
    ref_label_t  labels[HOOP_MASK_MAX_DEPTH + 2];

    memset(&c, 0, sizeof(c));
    c.rules = rules;
    c.n = nrules;
    c.nums = nums;
    c.nnums = nnums;
    c.counts = counts;

    ref_collect_numbers(&c, doc);

    if (c.nfound != nnums || nrules > sizeof(inh)) {
        free(c.numnodes);
        *bad = 1;
        return NULL;
    }

    memset(inh, 0, sizeof(inh));
    out = ref_node(&c, doc, labels, 0, inh, -1);
    free(c.numnodes);

    *bad = c.bad;

    if (out == REF_REMOVED) {
        return NULL;
    }

    return out;
}


uint8_t *
ref_mask_raw(ref_rule_t *rules, size_t nrules, const uint8_t *in, size_t len,
    size_t *outlen, uint32_t *counts)
{
    int        any;
    size_t     i;
    uint8_t    use[64];
    ref_buf_t  t;

    memset(&t, 0, sizeof(t));
    *outlen = 0;

    for (i = 0; i < nrules; i++) {
        if (!rules[i].has_path && rules[i].re == NULL) {
            if (len == 0 || rules[i].rule.strategy == HOOP_MASK_REMOVE
                || rules[i].rule.strategy == HOOP_MASK_NULL)
            {
                return NULL;
            }
            counts[i]++;
            ref_add(&t, "", 0);
            ref_replacement(&rules[i], &t, in, len);
            if (t.len == len && memcmp(t.p, in, len) == 0) {
                free(t.p);
                return NULL;
            }
            *outlen = t.len;
            return (uint8_t *) t.p;
        }
    }

    ref_add(&t, in, len);

    for (i = 0; i < nrules && i < sizeof(use); i++) {
        use[i] = !rules[i].has_path && rules[i].re != NULL;
    }

    any = ref_regex_all(rules, nrules, use, &t, counts) != 0;

    if (!any || (t.len == len && memcmp(t.p, in, len) == 0)) {
        free(t.p);
        return NULL;
    }

    *outlen = t.len;
    return (uint8_t *) t.p;
}
