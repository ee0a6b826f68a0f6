/*
 * Strategies on text: keep first/last N code points, keyed hash
 * (HMAC-SHA-256, RFC 2104), regex substitution, and the replacement text
 * a rule writes for a value or a match.
 */

#include <stdio.h>
#include <string.h>

#include "hoop_mask_int.h"


static size_t hoop_mask_utf8_skip(const uint8_t *p, size_t n, size_t count);


/* the byte offset after count code points of p[0..n) (invalid bytes are
 * one code point each, as in hoop_mask_utf8_count()) */
static size_t
hoop_mask_utf8_skip(const uint8_t *p, size_t n, size_t count)
{
    size_t  i, k;

    for (i = 0; i < n && count; count--) {
        k = p[i] < 0x80 ? 1 : hoop_mask_utf8_next(p + i, n - i);
        i += k ? k : 1;
    }

    return i;
}


/*
 * Appends p[0..n) to b with all but the first (KEEP_FIRST) or last
 * (KEEP_LAST) r->n code points replaced by r->mask_char, one for each; a
 * text of r->n code points or fewer is masked whole.
 */
int
hoop_mask_keep(hoop_mask_out_t *out, const hoop_mask_crule_t *r,
    hoop_mask_buf_t *b, const uint8_t *p, size_t n)
{
    size_t    count, keep, masked, off, i;
    uint8_t  *d;

    count = hoop_mask_utf8_count(p, n);
    keep = count > r->n ? r->n : 0;
    masked = count - keep;

    if (r->strategy == HOOP_MASK_KEEP_FIRST) {
        off = hoop_mask_utf8_skip(p, n, keep);
        if (hoop_mask_buf_add(out, b, p, off) != 0) {
            return -1;
        }
    } else {
        off = hoop_mask_utf8_skip(p, n, masked);
    }

    if (masked > (SIZE_MAX - b->len) / 4
        || hoop_mask_buf_reserve(out, b, masked * r->mask_char_len) != 0)
    {
        return -1;
    }

    d = b->p + b->len;

    if (r->mask_char_len == 1) {
        memset(d, r->mask_char[0], masked);
        d += masked;

    } else {
        for (i = 0; i < masked; i++) {
            memcpy(d, r->mask_char, r->mask_char_len);
            d += r->mask_char_len;
        }
    }

    b->len = d - b->p;

    if (r->strategy == HOOP_MASK_KEEP_LAST) {
        return hoop_mask_buf_add(out, b, p + off, n - off);
    }

    return 0;
}


/*
 * hex[0..r->hash_chars) = lowercase hex of HMAC-SHA-256(key, p[0..n)).
 * The states after the key's pads were made at compile time (RFC 2104
 * section 2): a hash copies them and finishes two digests, no allocation.
 */
int
hoop_mask_hash_hex(const hoop_mask_set_t *set, hoop_mask_out_t *out,
    const hoop_mask_crule_t *r, const uint8_t *p, size_t n, char *hex)
{
    static const char    digits[] = "0123456789abcdef";
    unsigned char        inner[SHA256_DIGEST_LENGTH];
    unsigned char        mac[SHA256_DIGEST_LENGTH];
    unsigned int         i;
    SHA256_CTX           c;

    (void) set;

    c = r->istate;

    if (SHA256_Update(&c, p, n) != 1 || SHA256_Final(inner, &c) != 1) {
        goto failed;
    }

    c = r->ostate;

    if (SHA256_Update(&c, inner, sizeof(inner)) != 1
        || SHA256_Final(mac, &c) != 1)
    {
        goto failed;
    }

    for (i = 0; i < r->hash_chars; i++) {
        hex[i] = digits[(mac[i / 2] >> (i & 1 ? 0 : 4)) & 0xf];
    }

    return 0;

failed:

    snprintf(out->error, sizeof(out->error),
             "rule \"%s\": HMAC-SHA-256 failed in OpenSSL", r->id);
    return -1;
}


/*
 * Appends the text rule r puts in place of p[0..n) (a whole non-JSON
 * value, a header value or a regex match): REDACT its replacement, KEEP_*
 * the masked text, HASH the hex digest, REMOVE nothing.  Returns 0,
 * HOOP_MASK_ENOMEM or HOOP_MASK_ECRYPTO.
 */
int
hoop_mask_replace_text(const hoop_mask_set_t *set, hoop_mask_out_t *out,
    const hoop_mask_crule_t *r, const uint8_t *p, size_t n,
    hoop_mask_buf_t *b)
{
    char  hex[64];

    switch (r->strategy) {

    case HOOP_MASK_REDACT:
        return hoop_mask_buf_add(out, b, r->repl, r->repl_len) == 0
               ? 0 : HOOP_MASK_ENOMEM;

    case HOOP_MASK_KEEP_FIRST:
    case HOOP_MASK_KEEP_LAST:
        return hoop_mask_keep(out, r, b, p, n) == 0 ? 0 : HOOP_MASK_ENOMEM;

    case HOOP_MASK_HASH:
        if (hoop_mask_hash_hex(set, out, r, p, n, hex) != 0) {
            return HOOP_MASK_ECRYPTO;
        }
        return hoop_mask_buf_add(out, b, (uint8_t *) hex, r->hash_chars) == 0
               ? 0 : HOOP_MASK_ENOMEM;

    default:                               /* REMOVE (NULL never here) */
        return 0;
    }
}


/*
 * Adds the non-empty matches of rule r (index k in the list) in p[0..n) to
 * the scratch's spans, clipped to what no earlier rule's span covers: a
 * character any rule matches is masked once, by the first rule that
 * matched it.  Every rule looks at the same original text, so no rule
 * matches inside another's replacement and the output grows linearly.
 * The spans stay sorted and disjoint: a merge of two sorted lists into the
 * other span array.  Returns 0, HOOP_MASK_ENOMEM or HOOP_MASK_EREGEX
 * (match limit or another PCRE2 error: out->error).
 */
int
hoop_mask_regex_collect(hoop_mask_out_t *out, const hoop_mask_crule_t *r,
    uint32_t k, const uint8_t *p, size_t n)
{
    int                   rc;
    size_t                start, ms, me, i, na, nb, len, cur, pe;
    uint8_t               first;
    PCRE2_SIZE           *ov;
    hoop_mask_span_t     *a, *b;
    hoop_mask_scratch_t  *s;

    s = out->scratch;
    ov = pcre2_get_ovector_pointer(s->md);
    na = s->nspans;
    nb = 0;
    i = 0;
    start = 0;

    while (start <= n) {
        rc = pcre2_match(r->re, p, n, start, 0, s->md, s->mctx);

        if (rc == PCRE2_ERROR_NOMATCH) {
            break;
        }

        if (rc < 0) {
            pcre2_get_error_message(rc, (PCRE2_UCHAR *) out->error,
                                    sizeof(out->error));
            len = strlen(out->error);
            snprintf(out->error + len, sizeof(out->error) - len,
                     " (rule \"%s\", regex)", r->id);
            return HOOP_MASK_EREGEX;
        }

        ms = ov[0];
        me = ov[1];

        if (r->re_group) {
            if ((uint32_t) rc > r->re_group
                && ov[2 * r->re_group] != PCRE2_UNSET)
            {
                ms = ov[2 * r->re_group];
                me = ov[2 * r->re_group + 1];

            } else {
                ms = me;                           /* the group is not set */
            }
        }

        if (me > ms) {
            /* at worst every old span is copied, and the match is cut
             * into one piece more than the old spans inside it */
            if (nb + 2 * (na - i) + 1 > s->spans_cap[s->cur ^ 1]
                && hoop_mask_spans_grow(out, s->cur ^ 1, nb + 2 * (na - i) + 1)
                   != 0)
            {
                return HOOP_MASK_ENOMEM;
            }

            a = s->spans[s->cur];
            b = s->spans[s->cur ^ 1];

            while (i < na && a[i].end <= ms) {
                b[nb++] = a[i++];
            }

            cur = ms;
            if (nb && b[nb - 1].end > cur) {
                cur = b[nb - 1].end;
            }

            first = 1;

            while (cur < me) {
                if (i < na && a[i].start <= cur) {
                    cur = a[i].end;
                    b[nb++] = a[i++];
                    continue;
                }

                pe = (i < na && a[i].start < me) ? a[i].start : me;

                b[nb].start = cur;
                b[nb].end = pe;
                b[nb].rule = r;
                b[nb].k = k;
                b[nb].first = first;
                nb++;

                first = 0;
                cur = pe;
            }
        }

        if (ov[1] > start) {
            start = ov[1];
            continue;
        }

        /* an empty match: retry one character further */
        if (start >= n) {
            break;
        }
        len = p[start] < 0x80 ? 1 : hoop_mask_utf8_next(p + start, n - start);
        start += len ? len : 1;
    }

    if (nb == i) {
        return 0;                  /* nothing new: spans[cur] is still right */
    }

    if (nb + na - i > s->spans_cap[s->cur ^ 1]
        && hoop_mask_spans_grow(out, s->cur ^ 1, nb + na - i) != 0)
    {
        return HOOP_MASK_ENOMEM;
    }

    a = s->spans[s->cur];
    b = s->spans[s->cur ^ 1];

    while (i < na) {
        b[nb++] = a[i++];
    }

    s->cur ^= 1;
    s->nspans = nb;

    return 0;
}


/*
 * Appends p[0..n) to res with every collected span replaced by its rule's
 * text (hoop_mask_replace_text()); counts[k] gets one per match (a match
 * cut by earlier rules' spans counts once).  Empties the span list.
 */
int
hoop_mask_regex_write(const hoop_mask_set_t *set, hoop_mask_out_t *out,
    const uint8_t *p, size_t n, hoop_mask_buf_t *res, uint32_t *counts)
{
    int                   rc;
    size_t                i, copied;
    hoop_mask_span_t     *sp;
    hoop_mask_scratch_t  *s;

    s = out->scratch;
    sp = s->spans[s->cur];
    copied = 0;

    for (i = 0; i < s->nspans; i++) {
        if (hoop_mask_buf_add(out, res, p + copied, sp[i].start - copied)
            != 0)
        {
            return HOOP_MASK_ENOMEM;
        }

        rc = hoop_mask_replace_text(set, out, sp[i].rule, p + sp[i].start,
                                    sp[i].end - sp[i].start, res);
        if (rc != 0) {
            return rc;
        }

        counts[sp[i].k] += sp[i].first;
        copied = sp[i].end;
    }

    s->nspans = 0;

    return hoop_mask_buf_add(out, res, p + copied, n - copied) == 0
           ? 0 : HOOP_MASK_ENOMEM;
}
