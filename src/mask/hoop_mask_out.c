/*
 * The output buffer and the per-thread scratch space of hoop_mask calls:
 * grown on demand through the caller's allocator, kept between calls.
 */

#include <stdlib.h>
#include <string.h>

#include "hoop_mask_int.h"


static void *hoop_mask_realloc(hoop_mask_out_t *out, void *p, size_t n);
static void hoop_mask_dealloc(hoop_mask_out_t *out, void *p);
static int hoop_mask_grow(hoop_mask_out_t *out, void **p, size_t *cap,
    size_t need, size_t size);


static void *
hoop_mask_realloc(hoop_mask_out_t *out, void *p, size_t n)
{
    if (out->alloc.realloc) {
        return out->alloc.realloc(out->alloc.ctx, p, n);
    }

    return realloc(p, n);
}


static void
hoop_mask_dealloc(hoop_mask_out_t *out, void *p)
{
    if (p == NULL) {
        return;
    }

    if (out->alloc.free) {
        out->alloc.free(out->alloc.ctx, p);
        return;
    }

    free(p);
}


/* grows the array *p of *cap elements of size bytes to at least need
 * elements (doubling, 256 bytes at least) */
static int
hoop_mask_grow(hoop_mask_out_t *out, void **p, size_t *cap, size_t need,
    size_t size)
{
    size_t   ncap;
    void    *np;

    if (need <= *cap) {
        return 0;
    }

    ncap = *cap ? *cap : 256 / size + 1;

    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / size) {
            ncap = need;
            break;
        }
        ncap *= 2;
    }

    if (ncap > SIZE_MAX / size) {
        return -1;
    }

    np = hoop_mask_realloc(out, *p, ncap * size);
    if (np == NULL) {
        return -1;
    }

    *p = np;
    *cap = ncap;

    return 0;
}


int
hoop_mask_buf_reserve(hoop_mask_out_t *out, hoop_mask_buf_t *b, size_t more)
{
    hoop_mask_scratch_t  *s;

    if (more > SIZE_MAX - b->len - 1) {
        return -1;
    }

    /* the set's max_output bounds every text a call builds */
    s = out->scratch;

    if (s && s->limit && b->len + more > s->limit) {
        s->too_big = 1;
        return -1;
    }

    /* one byte at least: b->p is never NULL after a reserve */
    return hoop_mask_grow(out, (void **) &b->p, &b->cap,
                          b->len + (more ? more : 1), 1);
}


int
hoop_mask_buf_add(hoop_mask_out_t *out, hoop_mask_buf_t *b, const uint8_t *p,
    size_t n)
{
    if (n == 0) {
        return 0;
    }

    if (hoop_mask_buf_reserve(out, b, n) != 0) {
        return -1;
    }

    memcpy(b->p + b->len, p, n);
    b->len += n;

    return 0;
}


void
hoop_mask_out_init(hoop_mask_out_t *out, const hoop_mask_alloc_t *alloc)
{
    memset(out, 0, sizeof(*out));

    if (alloc) {
        out->alloc = *alloc;
    }
}


void
hoop_mask_out_free(hoop_mask_out_t *out)
{
    hoop_mask_scratch_t  *s;

    s = out->scratch;

    if (s) {
        hoop_mask_dealloc(out, s->states);
        hoop_mask_dealloc(out, s->inherit);
        hoop_mask_dealloc(out, s->frames);
        hoop_mask_dealloc(out, s->counts);
        hoop_mask_dealloc(out, s->spans[0]);
        hoop_mask_dealloc(out, s->spans[1]);
        hoop_mask_dealloc(out, s->key.p);
        hoop_mask_dealloc(out, s->text.p);
        hoop_mask_dealloc(out, s->work[0].p);
        hoop_mask_dealloc(out, s->work[1].p);
        pcre2_match_data_free(s->md);
        pcre2_match_context_free(s->mctx);
        hoop_mask_dealloc(out, s);
    }

    hoop_mask_dealloc(out, out->data);

    out->scratch = NULL;
    out->data = NULL;
    out->len = 0;
    out->cap = 0;
}


int
hoop_mask_spans_grow(hoop_mask_out_t *out, int which, size_t need)
{
    hoop_mask_scratch_t  *s;

    s = out->scratch;

    return hoop_mask_grow(out, (void **) &s->spans[which],
                          &s->spans_cap[which], need,
                          sizeof(hoop_mask_span_t));
}


/*
 * Makes out's scratch ready for a call on set with nrules rules in play:
 * state rows and frames for max_depth levels, PCRE2 match data and
 * context, a digest context.  Allocates only the first time and when a
 * set needs more than any before.
 */
int
hoop_mask_scratch_prepare(const hoop_mask_set_t *set, hoop_mask_out_t *out,
    size_t nrules)
{
    size_t                rows, words;
    hoop_mask_scratch_t  *s;

    s = out->scratch;

    if (s == NULL) {
        s = hoop_mask_realloc(out, NULL, sizeof(hoop_mask_scratch_t));
        if (s == NULL) {
            return -1;
        }
        memset(s, 0, sizeof(*s));
        out->scratch = s;
    }

    /* rows 0..max_depth for nodes, one more for the children of the
     * deepest container */
    rows = (size_t) set->max_depth + 2;
    words = (nrules + 63) / 64;

    if (hoop_mask_grow(out, (void **) &s->states, &s->states_cap,
                       rows * (nrules ? nrules : 1), sizeof(uint64_t)) != 0
        || hoop_mask_grow(out, (void **) &s->inherit, &s->inherit_cap,
                          rows * (words ? words : 1), sizeof(uint64_t)) != 0
        || hoop_mask_grow(out, (void **) &s->frames, &s->frames_cap, rows,
                          sizeof(hoop_mask_frame_t)) != 0
        || hoop_mask_grow(out, (void **) &s->counts, &s->counts_cap,
                          nrules ? nrules : 1, sizeof(uint32_t)) != 0)
    {
        return -1;
    }

    s->nspans = 0;
    s->cur = 0;
    s->too_big = 0;
    s->limit = set->max_output;

    if (set->max_pairs > s->md_pairs) {
        pcre2_match_data_free(s->md);
        s->md = pcre2_match_data_create(set->max_pairs, NULL);
        if (s->md == NULL) {
            s->md_pairs = 0;
            return -1;
        }
        s->md_pairs = set->max_pairs;
    }

    if (s->mctx == NULL) {
        s->mctx = pcre2_match_context_create(NULL);
        if (s->mctx == NULL) {
            return -1;
        }
        s->mctx_limit = 0;
    }

    if (s->mctx_limit != set->match_limit) {
        pcre2_set_match_limit(s->mctx, set->match_limit);
        pcre2_set_depth_limit(s->mctx, set->match_limit);
        s->mctx_limit = set->match_limit;
    }

    return 0;
}
