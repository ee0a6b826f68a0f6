/*
 * The single-pass JSON scanner.
 *
 * One walk over the payload validates it (RFC 8259) and follows every
 * rule's path at the same time: each rule is a small NFA whose states are
 * bits of a word (bit i: the first i steps matched; bit nsteps: the value
 * is selected), one word per rule per nesting level, advanced at every
 * member name or array index.  Subtrees where no rule is alive are only
 * validated, by a separate tight loop.
 *
 * Output is written lazily: nothing is copied until the first value that
 * changes; then the input up to it, the replacement, and so on.  A
 * payload that turns out not to be JSON (or too deep) drops what was
 * written, so the caller keeps the original bytes.
 *
 * Removing a member or element keeps the commas right without looking
 * back: after a kept sibling, the removal deletes from the end of that
 * sibling (its comma included) to the end of the removed value; with no
 * kept sibling before it, it deletes from its own start and the next
 * comma (with the blanks after it) goes too.
 */

#include <stdio.h>
#include <string.h>

#include "hoop_mask_int.h"


#define HOOP_MASK_SCAN_OK         0
#define HOOP_MASK_SCAN_NOT_JSON   1
#define HOOP_MASK_SCAN_TOO_DEEP   2

#define HOOP_MASK_T_STRING        0
#define HOOP_MASK_T_NUMBER        1
#define HOOP_MASK_T_LITERAL       2     /* true false null */


struct hoop_mask_run_s {
    const hoop_mask_set_t       *set;
    const hoop_mask_list_t      *list;
    const uint8_t               *in;
    size_t                       len;
    hoop_mask_out_t             *out;
    hoop_mask_scratch_t         *s;
    hoop_mask_buf_t              ob;       /* becomes out->data */
    size_t                       cursor;   /* in[0..cursor) is in ob */
    size_t                       nr;       /* rules in play */
    size_t                       nw;       /* words of a regex bit row */
    int                          changed;
};


/* a member name or an array index, as a path step sees it */
typedef struct {
    const uint8_t               *raw;      /* between the quotes */
    size_t                       raw_len;
    const uint8_t               *name;     /* decoded, once needed */
    size_t                       len;
    uint64_t                     index;
    int                          escaped;
    int                          is_index;
} hoop_mask_label_t;


static size_t hoop_mask_ws(const uint8_t *in, size_t len, size_t pos);
static size_t hoop_mask_skip(hoop_mask_run_t *run, size_t pos,
    size_t depth, int *why);
static int hoop_mask_transition(hoop_mask_run_t *run, const uint64_t *prow,
    uint64_t *crow, hoop_mask_label_t *lb);
static int32_t hoop_mask_decide(hoop_mask_run_t *run, const uint64_t *row,
    uint64_t *erow, int *own);
static int hoop_mask_edit_begin(hoop_mask_run_t *run, size_t s);
static void hoop_mask_edit_end(hoop_mask_run_t *run, size_t s, size_t e,
    size_t mark);
static int hoop_mask_edit(hoop_mask_run_t *run, size_t s, size_t e,
    const uint8_t *p, size_t n);
static int hoop_mask_text(hoop_mask_run_t *run, size_t pos, size_t end,
    int type, int escaped, const uint8_t **p, size_t *n);
static int hoop_mask_canonical(hoop_mask_run_t *run, size_t s, size_t e,
    hoop_mask_buf_t *b);
static int hoop_mask_whole(hoop_mask_run_t *run, int32_t k, size_t pos,
    size_t end, int type, int escaped, int *removed);
static int hoop_mask_keep_scalar(hoop_mask_run_t *run, int32_t k, size_t pos,
    size_t end, int type, int escaped);
static int hoop_mask_regex_scalar(hoop_mask_run_t *run, const uint64_t *e,
    size_t pos, size_t end, int type, int escaped);
static int hoop_mask_scan(hoop_mask_run_t *run);
static int hoop_mask_raw_whole(hoop_mask_run_t *run);
static int hoop_mask_raw_regex(hoop_mask_run_t *run);


#define hoop_mask_rule(run, k)                                               \
    (&(run)->set->rules[(run)->list->idx[k]])


static size_t
hoop_mask_ws(const uint8_t *in, size_t len, size_t pos)
{
    while (pos < len
           && (in[pos] == ' ' || in[pos] == '\n' || in[pos] == '\r'
               || in[pos] == '\t'))
    {
        pos++;
    }

    return pos;
}


/*
 * Validates the value at in[pos] (not blank) without looking at rules;
 * depth is the value's nesting level.  Returns the offset after it, or 0
 * with *why HOOP_MASK_SCAN_NOT_JSON or _TOO_DEEP.
 */
static size_t
hoop_mask_skip(hoop_mask_run_t *run, size_t pos, size_t depth, int *why)
{
    int             esc;
    uint8_t         c, obj[HOOP_MASK_MAX_DEPTH / 8 + 1];
    size_t          top, max, len;
    const uint8_t  *in;

    in = run->in;
    len = run->len;
    max = run->set->max_depth;
    top = 0;

    *why = HOOP_MASK_SCAN_NOT_JSON;

value:

    switch (in[pos]) {

    case '{':
    case '[':
        if (depth + top >= max) {
            *why = HOOP_MASK_SCAN_TOO_DEEP;
            return 0;
        }

        c = in[pos];
        if (c == '{') {
            obj[top / 8] |= (uint8_t) (1u << (top % 8));
        } else {
            obj[top / 8] &= (uint8_t) ~(1u << (top % 8));
        }
        top++;

        pos = hoop_mask_ws(in, len, pos + 1);
        if (pos >= len) {
            return 0;
        }

        if (in[pos] == (c == '{' ? '}' : ']')) {
            top--;
            pos++;
            goto after;
        }

        if (c == '{') {
            goto member;
        }

        goto value;

    case '"':
        pos = hoop_mask_json_string_end(in, len, pos, &esc);
        if (pos == 0) {
            return 0;
        }
        goto after;

    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        pos = hoop_mask_json_number_end(in, len, pos);
        if (pos == 0) {
            return 0;
        }
        goto after;

    case 't':
        if (len - pos < 4 || memcmp(in + pos, "true", 4) != 0) {
            return 0;
        }
        pos += 4;
        goto after;

    case 'f':
        if (len - pos < 5 || memcmp(in + pos, "false", 5) != 0) {
            return 0;
        }
        pos += 5;
        goto after;

    case 'n':
        if (len - pos < 4 || memcmp(in + pos, "null", 4) != 0) {
            return 0;
        }
        pos += 4;
        goto after;

    default:
        return 0;
    }

member:

    if (in[pos] != '"') {
        return 0;
    }

    pos = hoop_mask_json_string_end(in, len, pos, &esc);
    if (pos == 0) {
        return 0;
    }

    pos = hoop_mask_ws(in, len, pos);
    if (pos >= len || in[pos] != ':') {
        return 0;
    }

    pos = hoop_mask_ws(in, len, pos + 1);
    if (pos >= len) {
        return 0;
    }

    goto value;

after:

    if (top == 0) {
        return pos;
    }

    pos = hoop_mask_ws(in, len, pos);
    if (pos >= len) {
        return 0;
    }

    c = (obj[(top - 1) / 8] >> ((top - 1) % 8)) & 1 ? '}' : ']';

    if (in[pos] == ',') {
        pos = hoop_mask_ws(in, len, pos + 1);
        if (pos >= len) {
            return 0;
        }
        if (c == '}') {
            goto member;
        }
        goto value;
    }

    if (in[pos] == c) {
        top--;
        pos++;
        goto after;
    }

    return 0;
}


/*
 * Advances every rule's states from a container's row prow to its child
 * lb's row crow.  Returns 1 if any state is left, 0 if none, -1 out of
 * memory (decoding an escaped member name).
 */
static int
hoop_mask_transition(hoop_mask_run_t *run, const uint64_t *prow,
    uint64_t *crow, hoop_mask_label_t *lb)
{
    int                       i, hit;
    size_t                    k;
    uint64_t                  p, c, bits, any;
    const hoop_mask_step_t   *st;
    const hoop_mask_crule_t  *r;

    any = 0;

    for (k = 0; k < run->nr; k++) {
        p = prow[k];
        c = 0;

        if (p) {
            r = hoop_mask_rule(run, k);
            bits = p & ((1ULL << r->nsteps) - 1);

            while (bits) {
                i = __builtin_ctzll(bits);
                bits &= bits - 1;
                st = &r->steps[i];

                if (st->desc) {
                    c |= 1ULL << i;
                }

                switch (st->kind) {

                case HOOP_MASK_STEP_ANY:
                    hit = 1;
                    break;

                case HOOP_MASK_STEP_INDEX:
                    hit = lb->is_index && lb->index == st->index;
                    break;

                default:
                    if (lb->is_index) {
                        hit = 0;
                        break;
                    }

                    if (!lb->escaped) {
                        hit = lb->raw_len == st->len
                              && memcmp(lb->raw, st->name, st->len) == 0;
                        break;
                    }

                    if (lb->name == NULL) {
                        run->s->key.len = 0;
                        if (hoop_mask_json_unescape(run->out, &run->s->key,
                                                    lb->raw, lb->raw_len)
                            != 0)
                        {
                            return -1;
                        }
                        lb->name = run->s->key.p;
                        lb->len = run->s->key.len;
                    }

                    hit = lb->len == st->len
                          && memcmp(lb->name, st->name, st->len) == 0;
                    break;
                }

                if (hit) {
                    c |= 1ULL << (i + 1);
                }
            }
        }

        crow[k] = c;
        any |= c;
    }

    return any != 0;
}


/*
 * Which rules select the value whose states are row: returns the first
 * whole-value rule (set order), or -1; regex rules met before it are
 * or-ed into erow, *own set if any.
 */
static int32_t
hoop_mask_decide(hoop_mask_run_t *run, const uint64_t *row, uint64_t *erow,
    int *own)
{
    size_t                    k;
    const hoop_mask_crule_t  *r;

    *own = 0;

    for (k = 0; k < run->nr; k++) {
        if (row[k] == 0) {
            continue;
        }

        r = hoop_mask_rule(run, k);

        if (((row[k] >> r->nsteps) & 1) == 0) {
            continue;
        }

        if (r->re == NULL) {
            return (int32_t) k;
        }

        erow[k / 64] |= 1ULL << (k % 64);
        *own = 1;
    }

    return -1;
}


/* copies the input up to s into the output: an edit starts there */
static int
hoop_mask_edit_begin(hoop_mask_run_t *run, size_t s)
{
    if (hoop_mask_buf_add(run->out, &run->ob, run->in + run->cursor,
                          s - run->cursor)
        != 0)
    {
        return HOOP_MASK_ENOMEM;
    }

    run->cursor = s;

    return 0;
}


/* the output from mark on replaces in[s..e) */
static void
hoop_mask_edit_end(hoop_mask_run_t *run, size_t s, size_t e, size_t mark)
{
    if (!run->changed
        && (run->ob.len - mark != e - s
            || memcmp(run->ob.p + mark, run->in + s, e - s) != 0))
    {
        run->changed = 1;
    }

    run->cursor = e;
}


static int
hoop_mask_edit(hoop_mask_run_t *run, size_t s, size_t e, const uint8_t *p,
    size_t n)
{
    size_t  mark;

    if (hoop_mask_edit_begin(run, s) != 0) {
        return HOOP_MASK_ENOMEM;
    }

    mark = run->ob.len;

    if (hoop_mask_buf_add(run->out, &run->ob, p, n) != 0) {
        return HOOP_MASK_ENOMEM;
    }

    hoop_mask_edit_end(run, s, e, mark);

    return 0;
}


/* the text of a scalar: a string decoded, a number or literal as written */
static int
hoop_mask_text(hoop_mask_run_t *run, size_t pos, size_t end, int type,
    int escaped, const uint8_t **p, size_t *n)
{
    hoop_mask_buf_t  *t;

    if (type != HOOP_MASK_T_STRING) {
        *p = run->in + pos;
        *n = end - pos;
        return 0;
    }

    if (!escaped) {
        *p = run->in + pos + 1;
        *n = end - pos - 2;
        return 0;
    }

    t = &run->s->text;
    t->len = 0;

    if (hoop_mask_json_unescape(run->out, t, run->in + pos + 1,
                                end - pos - 2)
        != 0)
    {
        return HOOP_MASK_ENOMEM;
    }

    *p = t->p;
    *n = t->len;

    return 0;
}


/*
 * The canonical text of the valid JSON in[s..e) into b: no blanks outside
 * strings, strings as hoop_mask_json_escape() writes them, the rest as
 * written.  What HASH digests for an object or array.
 */
static int
hoop_mask_canonical(hoop_mask_run_t *run, size_t s, size_t e,
    hoop_mask_buf_t *b)
{
    int              esc;
    size_t           i, j;
    const uint8_t   *in;
    hoop_mask_buf_t *t;

    in = run->in;
    t = &run->s->text;
    i = s;

    while (i < e) {
        if (in[i] == ' ' || in[i] == '\n' || in[i] == '\r' || in[i] == '\t')
        {
            i++;
            continue;
        }

        if (in[i] == '"') {
            j = hoop_mask_json_string_end(in, e, i, &esc);

            if (!esc) {
                if (hoop_mask_buf_add(run->out, b, in + i, j - i) != 0) {
                    return HOOP_MASK_ENOMEM;
                }

            } else {
                t->len = 0;
                if (hoop_mask_json_unescape(run->out, t, in + i + 1,
                                            j - i - 2) != 0
                    || hoop_mask_json_escape(run->out, b, t->p, t->len) != 0)
                {
                    return HOOP_MASK_ENOMEM;
                }
            }

            i = j;
            continue;
        }

        j = i;
        while (j < e && in[j] != '"' && in[j] != ' ' && in[j] != '\n'
               && in[j] != '\r' && in[j] != '\t')
        {
            j++;
        }

        if (hoop_mask_buf_add(run->out, b, in + i, j - i) != 0) {
            return HOOP_MASK_ENOMEM;
        }

        i = j;
    }

    return 0;
}


/*
 * Applies whole-value rule k to the value in[pos..end) (a scalar of type,
 * or a container: type -1).  REMOVE only sets *removed: the caller deletes
 * the member with its comma.
 */
static int
hoop_mask_whole(hoop_mask_run_t *run, int32_t k, size_t pos, size_t end,
    int type, int escaped, int *removed)
{
    int                       rc;
    char                      hex[66];
    size_t                    n;
    const uint8_t            *p;
    hoop_mask_buf_t          *w;
    const hoop_mask_crule_t  *r;

    r = hoop_mask_rule(run, k);
    run->s->counts[k]++;

    switch (r->strategy) {

    case HOOP_MASK_REMOVE:
        *removed = 1;
        return 0;

    case HOOP_MASK_NULL:
        return hoop_mask_edit(run, pos, end, (const uint8_t *) "null", 4);

    case HOOP_MASK_REDACT:
        return hoop_mask_edit(run, pos, end, r->repl_json, r->repl_json_len);

    case HOOP_MASK_HASH:
        if (type < 0) {
            w = &run->s->work[1];
            w->len = 0;
            rc = hoop_mask_canonical(run, pos, end, w);
            p = w->p;
            n = w->len;

        } else {
            rc = hoop_mask_text(run, pos, end, type, escaped, &p, &n);
        }

        if (rc != 0) {
            return rc;
        }

        if (hoop_mask_hash_hex(run->set, run->out, r, p, n, hex + 1) != 0) {
            return HOOP_MASK_ECRYPTO;
        }

        hex[0] = '"';
        hex[r->hash_chars + 1] = '"';

        return hoop_mask_edit(run, pos, end, (uint8_t *) hex,
                              r->hash_chars + 2);

    default:                                      /* KEEP_* on a scalar */
        return hoop_mask_keep_scalar(run, k, pos, end, type, escaped);
    }
}


/* KEEP_FIRST / KEEP_LAST rule k on the scalar in[pos..end) */
static int
hoop_mask_keep_scalar(hoop_mask_run_t *run, int32_t k, size_t pos,
    size_t end, int type, int escaped)
{
    int               rc;
    size_t            n, mark;
    const uint8_t    *p;
    hoop_mask_buf_t  *w;

    rc = hoop_mask_text(run, pos, end, type, escaped, &p, &n);
    if (rc != 0) {
        return rc;
    }

    w = &run->s->work[0];
    w->len = 0;

    if (hoop_mask_keep(run->out, hoop_mask_rule(run, k), w, p, n) != 0
        || hoop_mask_edit_begin(run, pos) != 0)
    {
        return HOOP_MASK_ENOMEM;
    }

    mark = run->ob.len;

    if (hoop_mask_json_escape(run->out, &run->ob, w->p, w->len) != 0) {
        return HOOP_MASK_ENOMEM;
    }

    hoop_mask_edit_end(run, pos, end, mark);

    return 0;
}


/*
 * The regex rules of bit row e on the string or number in[pos..end): all
 * look at the same text, an earlier rule's match wins where two overlap
 * (hoop_mask_regex_collect()); a changed text is written as a string.
 */
static int
hoop_mask_regex_scalar(hoop_mask_run_t *run, const uint64_t *e, size_t pos,
    size_t end, int type, int escaped)
{
    int               rc;
    size_t            n, w, k, mark;
    uint64_t          bits;
    const uint8_t    *p;
    hoop_mask_buf_t  *res;

    if (type == HOOP_MASK_T_LITERAL) {
        return 0;
    }

    rc = hoop_mask_text(run, pos, end, type, escaped, &p, &n);
    if (rc != 0) {
        return rc;
    }

    for (w = 0; w < run->nw; w++) {
        bits = e[w];

        while (bits) {
            k = w * 64 + __builtin_ctzll(bits);
            bits &= bits - 1;

            rc = hoop_mask_regex_collect(run->out, hoop_mask_rule(run, k),
                                         (uint32_t) k, p, n);
            if (rc != 0) {
                return rc;
            }
        }
    }

    if (run->s->nspans == 0) {
        return 0;
    }

    res = &run->s->work[0];
    res->len = 0;

    rc = hoop_mask_regex_write(run->set, run->out, p, n, res, run->s->counts);
    if (rc != 0) {
        return rc;
    }

    if (hoop_mask_edit_begin(run, pos) != 0) {
        return HOOP_MASK_ENOMEM;
    }

    mark = run->ob.len;

    if (hoop_mask_json_escape(run->out, &run->ob, res->p, res->len) != 0) {
        return HOOP_MASK_ENOMEM;
    }

    hoop_mask_edit_end(run, pos, end, mark);

    return 0;
}


/*
 * The walk.  Returns HOOP_MASK_SCAN_OK, _NOT_JSON, _TOO_DEEP or a negative
 * HOOP_MASK_E*.  depth is the nesting level of the value being looked at;
 * frames[depth - 1] is its container; state row d (nr words) belongs to
 * the value at level d, and so does regex row d (nw words) once the value
 * is a container that regex rules apply inside.
 */
static int
hoop_mask_scan(hoop_mask_run_t *run)
{
    int                  rc, esc, live, own, eany, removed, type;
    int32_t              whole, keep;
    uint8_t              c;
    size_t               pos, end, depth, member_start, ke, nr, nw, k;
    uint64_t            *states, *inherit, *erow;
    const uint64_t      *e, *pe;
    const uint8_t       *in;
    hoop_mask_frame_t   *f, *pf, *frames;
    hoop_mask_label_t    lb;

    in = run->in;
    nr = run->nr;
    nw = run->nw;
    states = run->s->states;
    inherit = run->s->inherit;
    frames = run->s->frames;

    pos = hoop_mask_ws(in, run->len, 0);
    if (pos >= run->len) {
        return HOOP_MASK_SCAN_NOT_JSON;
    }

    for (k = 0; k < nr; k++) {
        states[k] = 1;
    }

    depth = 0;
    live = nr > 0;
    removed = 0;
    member_start = pos;
    end = pos;

value:

    /* the value at level depth starts at in[pos] */

    pf = depth ? &frames[depth - 1] : NULL;
    keep = pf ? pf->keep_rule : -1;
    whole = -1;
    e = NULL;

    if (keep < 0) {
        pe = (pf && pf->inh_any) ? inherit + (depth - 1) * nw : NULL;
        e = pe;

        if (live) {
            erow = inherit + depth * nw;

            if (pe) {
                memcpy(erow, pe, nw * sizeof(uint64_t));
            } else {
                memset(erow, 0, nw * sizeof(uint64_t));
            }

            whole = hoop_mask_decide(run, states + depth * nr, erow, &own);

            if (own || pe) {
                e = erow;
            }
        }
    }

    eany = e != NULL;
    c = in[pos];

    switch (c) {

    case '{':
    case '[':
        if (whole >= 0) {
            if (hoop_mask_rule(run, whole)->strategy == HOOP_MASK_KEEP_FIRST
                || hoop_mask_rule(run, whole)->strategy
                   == HOOP_MASK_KEEP_LAST)
            {
                run->s->counts[whole]++;
                keep = whole;
                goto open;
            }

            end = hoop_mask_skip(run, pos, depth, &rc);
            if (end == 0) {
                return rc;
            }

            rc = hoop_mask_whole(run, whole, pos, end, -1, 0, &removed);
            if (rc != 0) {
                return rc;
            }

            pos = end;
            goto after;
        }

        if (keep < 0 && !live && !eany) {
            end = hoop_mask_skip(run, pos, depth, &rc);
            if (end == 0) {
                return rc;
            }
            pos = end;
            goto after;
        }

    open:

        if (depth >= run->set->max_depth) {
            return HOOP_MASK_SCAN_TOO_DEEP;
        }

        f = &frames[depth];
        f->type = c;
        f->kept = 0;
        f->drop_comma = 0;
        f->index = 0;
        f->kept_end = 0;
        f->keep_rule = keep;
        f->live = keep < 0 && live;
        f->inh_any = keep < 0 && eany;

        if (f->inh_any && e != inherit + depth * nw) {
            memcpy(inherit + depth * nw, e, nw * sizeof(uint64_t));
        }

        pos = hoop_mask_ws(in, run->len, pos + 1);
        if (pos >= run->len) {
            return HOOP_MASK_SCAN_NOT_JSON;
        }

        if (in[pos] == (c == '{' ? '}' : ']')) {
            pos++;
            end = pos;
            goto after;
        }

        depth++;

        if (c == '{') {
            goto member;
        }

        goto element;

    case '"':
        end = hoop_mask_json_string_end(in, run->len, pos, &esc);
        if (end == 0) {
            return HOOP_MASK_SCAN_NOT_JSON;
        }
        type = HOOP_MASK_T_STRING;
        goto scalar;

    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        end = hoop_mask_json_number_end(in, run->len, pos);
        if (end == 0) {
            return HOOP_MASK_SCAN_NOT_JSON;
        }
        esc = 0;
        type = HOOP_MASK_T_NUMBER;
        goto scalar;

    case 't':
    case 'n':
        if (run->len - pos < 4
            || memcmp(in + pos, c == 't' ? "true" : "null", 4) != 0)
        {
            return HOOP_MASK_SCAN_NOT_JSON;
        }
        end = pos + 4;
        esc = 0;
        type = HOOP_MASK_T_LITERAL;
        goto scalar;

    case 'f':
        if (run->len - pos < 5 || memcmp(in + pos, "false", 5) != 0) {
            return HOOP_MASK_SCAN_NOT_JSON;
        }
        end = pos + 5;
        esc = 0;
        type = HOOP_MASK_T_LITERAL;
        goto scalar;

    default:
        return HOOP_MASK_SCAN_NOT_JSON;
    }

scalar:

    rc = 0;

    if (whole >= 0) {
        rc = hoop_mask_whole(run, whole, pos, end, type, esc, &removed);

    } else if (keep >= 0) {
        rc = hoop_mask_keep_scalar(run, keep, pos, end, type, esc);

    } else if (eany) {
        rc = hoop_mask_regex_scalar(run, e, pos, end, type, esc);
    }

    if (rc != 0) {
        return rc;
    }

    pos = end;

after:

    /* the value at level depth ended at end (== pos) */

    if (depth == 0) {
        pos = hoop_mask_ws(in, run->len, pos);
        return pos == run->len ? HOOP_MASK_SCAN_OK : HOOP_MASK_SCAN_NOT_JSON;
    }

    f = &frames[depth - 1];

    if (removed) {
        removed = 0;

        if (f->kept) {
            rc = hoop_mask_edit(run, f->kept_end, end, NULL, 0);
            f->kept_end = end;

        } else {
            rc = hoop_mask_edit(run, member_start, end, NULL, 0);
            f->drop_comma = 1;
        }

        if (rc != 0) {
            return rc;
        }

    } else {
        f->kept = 1;
        f->kept_end = end;
    }

    pos = hoop_mask_ws(in, run->len, pos);
    if (pos >= run->len) {
        return HOOP_MASK_SCAN_NOT_JSON;
    }

    if (in[pos] == ',') {
        pos = hoop_mask_ws(in, run->len, pos + 1);
        if (pos >= run->len) {
            return HOOP_MASK_SCAN_NOT_JSON;
        }

        if (f->drop_comma) {
            f->drop_comma = 0;
            if (hoop_mask_edit(run, end, pos, NULL, 0) != 0) {
                return HOOP_MASK_ENOMEM;
            }
        }

        if (f->type == '{') {
            goto member;
        }

        goto element;
    }

    if (in[pos] == (f->type == '{' ? '}' : ']')) {
        depth--;
        pos++;
        end = pos;
        goto after;
    }

    return HOOP_MASK_SCAN_NOT_JSON;

member:

    /* a member of frames[depth - 1] starts at in[pos] (not blank) */

    f = &frames[depth - 1];

    if (in[pos] != '"') {
        return HOOP_MASK_SCAN_NOT_JSON;
    }

    ke = hoop_mask_json_string_end(in, run->len, pos, &esc);
    if (ke == 0) {
        return HOOP_MASK_SCAN_NOT_JSON;
    }

    member_start = pos;
    live = 0;

    if (f->live) {
        lb.raw = in + pos + 1;
        lb.raw_len = ke - pos - 2;
        lb.escaped = esc;
        lb.name = NULL;
        lb.is_index = 0;

        live = hoop_mask_transition(run, states + (depth - 1) * nr,
                                    states + depth * nr, &lb);
        if (live < 0) {
            return HOOP_MASK_ENOMEM;
        }
    }

    pos = hoop_mask_ws(in, run->len, ke);
    if (pos >= run->len || in[pos] != ':') {
        return HOOP_MASK_SCAN_NOT_JSON;
    }

    pos = hoop_mask_ws(in, run->len, pos + 1);
    if (pos >= run->len) {
        return HOOP_MASK_SCAN_NOT_JSON;
    }

    goto value;

element:

    /* an element of frames[depth - 1] starts at in[pos] (not blank) */

    f = &frames[depth - 1];
    member_start = pos;
    live = 0;

    if (f->live) {
        lb.is_index = 1;
        lb.index = f->index;

        live = hoop_mask_transition(run, states + (depth - 1) * nr,
                                    states + depth * nr, &lb);
        if (live < 0) {
            return HOOP_MASK_ENOMEM;
        }
    }

    f->index++;

    goto value;
}


/* the list's first rule without path or regex, on the payload's bytes */
static int
hoop_mask_raw_whole(hoop_mask_run_t *run)
{
    int                       rc;
    const hoop_mask_crule_t  *r;

    r = hoop_mask_rule(run, run->list->raw);

    if (run->len == 0
        || r->strategy == HOOP_MASK_REMOVE || r->strategy == HOOP_MASK_NULL)
    {
        /* empty payloads stay; REMOVE and NULL are the caller's (headers) */
        return 0;
    }

    run->s->counts[run->list->raw]++;
    run->ob.len = 0;

    rc = hoop_mask_replace_text(run->set, run->out, r, run->in, run->len,
                                &run->ob);
    if (rc != 0) {
        return rc;
    }

    run->changed = run->ob.len != run->len
                   || memcmp(run->ob.p, run->in, run->len) != 0;

    return 0;
}


/* the regex rules without a path on a payload that is not JSON */
static int
hoop_mask_raw_regex(hoop_mask_run_t *run)
{
    int                       rc;
    size_t                    k;
    const hoop_mask_crule_t  *r;

    for (k = 0; k < run->nr; k++) {
        r = hoop_mask_rule(run, k);

        if (!r->whole || r->re == NULL) {
            continue;
        }

        rc = hoop_mask_regex_collect(run->out, r, (uint32_t) k, run->in,
                                     run->len);
        if (rc != 0) {
            return rc;
        }
    }

    if (run->s->nspans == 0) {
        return 0;
    }

    run->ob.len = 0;

    rc = hoop_mask_regex_write(run->set, run->out, run->in, run->len,
                               &run->ob, run->s->counts);
    if (rc != 0) {
        return rc;
    }

    run->changed = run->ob.len != run->len
                   || memcmp(run->ob.p, run->in, run->len) != 0;

    return 0;
}


/*
 * Masks in[0..len) with the rules of list (see hoop_mask_apply()).
 */
int
hoop_mask_run(const hoop_mask_set_t *set, const hoop_mask_list_t *list,
    const uint8_t *in, size_t len, hoop_mask_out_t *out, uint32_t *counts)
{
    int              rc;
    size_t           k;
    hoop_mask_run_t  run;

    out->len = 0;
    out->error[0] = '\0';
    out->status = HOOP_MASK_UNSCANNED;

    if (list->n == 0) {
        return HOOP_MASK_UNCHANGED;
    }

    if (hoop_mask_scratch_prepare(set, out, list->n) != 0) {
        return HOOP_MASK_ENOMEM;
    }

    run.set = set;
    run.list = list;
    run.in = in;
    run.len = len;
    run.out = out;
    run.s = out->scratch;
    run.ob.p = out->data;
    run.ob.len = 0;
    run.ob.cap = out->cap;
    run.cursor = 0;
    run.nr = list->n;
    run.nw = (list->n + 63) / 64;
    run.changed = 0;

    memset(run.s->counts, 0, list->n * sizeof(uint32_t));

    if (list->raw >= 0) {
        rc = hoop_mask_raw_whole(&run);
        goto done;
    }

    if (len == 0) {
        out->status = HOOP_MASK_NOT_JSON;
        rc = 0;
        goto done;
    }

    rc = hoop_mask_scan(&run);

    if (rc == HOOP_MASK_SCAN_OK) {
        out->status = HOOP_MASK_JSON;

        if (run.changed
            && hoop_mask_buf_add(out, &run.ob, in + run.cursor,
                                 len - run.cursor) != 0)
        {
            rc = HOOP_MASK_ENOMEM;
        }

        goto done;
    }

    if (rc < 0) {
        goto done;
    }

    /* not JSON: forget what the walk did */

    out->status = rc == HOOP_MASK_SCAN_TOO_DEEP ? HOOP_MASK_TOO_DEEP
                                                : HOOP_MASK_NOT_JSON;
    run.changed = 0;
    run.ob.len = 0;
    memset(run.s->counts, 0, list->n * sizeof(uint32_t));
    rc = 0;

    if (list->nraw_regex) {
        rc = hoop_mask_raw_regex(&run);
    }

done:

    /* an output emptied by a regex still has a buffer to point at */
    if (rc >= 0 && run.changed && run.ob.p == NULL
        && hoop_mask_buf_reserve(out, &run.ob, 1) != 0)
    {
        rc = HOOP_MASK_ENOMEM;
    }

    out->data = run.ob.p;
    out->cap = run.ob.cap;
    out->len = run.changed ? run.ob.len : 0;

    if (rc < 0) {
        out->len = 0;

        if (rc == HOOP_MASK_ENOMEM && run.s->too_big) {
            snprintf(out->error, sizeof(out->error),
                     "the masked payload would exceed %zu bytes (max_output)",
                     set->max_output);
            return HOOP_MASK_ETOOBIG;
        }

        return rc;
    }

    if (counts) {
        for (k = 0; k < list->n; k++) {
            counts[list->idx[k]] += run.s->counts[k];
        }
    }

    return run.changed ? HOOP_MASK_CHANGED : HOOP_MASK_UNCHANGED;
}
