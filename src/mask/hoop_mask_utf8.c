/*
 * UTF-8 and JSON text (RFC 3629, RFC 8259): validating a string token,
 * decoding its escapes, writing a string back escaped, number tokens.
 */

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hoop_mask_int.h"


#define HOOP_MASK_ONES   0x0101010101010101ULL
#define HOOP_MASK_HIGHS  0x8080808080808080ULL


static int hoop_mask_hex4(const uint8_t *p, uint32_t *v);
static size_t hoop_mask_put_utf8(uint8_t *d, uint32_t cp);


/*
 * The length of the well-formed UTF-8 sequence at p[0..n) (Unicode 15,
 * table 3-7: no overlongs, no surrogates, at most U+10FFFF), 0 if it is
 * not one.
 */
size_t
hoop_mask_utf8_next(const uint8_t *p, size_t n)
{
    uint8_t  c, lo, hi;
    size_t   k, i;

    if (n == 0) {
        return 0;
    }

    c = p[0];

    if (c < 0x80) {
        return 1;
    }

    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        k = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        if (c == 0xe0) {
            lo = 0xa0;
        } else if (c == 0xed) {
            hi = 0x9f;
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        if (c == 0xf0) {
            lo = 0x90;
        } else if (c == 0xf4) {
            hi = 0x8f;
        }

    } else {
        return 0;
    }

    if (n < k || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < k; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return k;
}


/* 1 if p[0..n) is all well-formed UTF-8 */
int
hoop_mask_utf8_valid(const uint8_t *p, size_t n)
{
    size_t  i, k;

    for (i = 0; i < n; i += k) {
        if (p[i] < 0x80) {
            k = 1;
            continue;
        }

        k = hoop_mask_utf8_next(p + i, n - i);
        if (k == 0) {
            return 0;
        }
    }

    return 1;
}


/* code points in p[0..n); a byte that starts no valid sequence counts as
 * one (raw payloads need not be UTF-8) */
size_t
hoop_mask_utf8_count(const uint8_t *p, size_t n)
{
    size_t  i, k, count;

    count = 0;

    for (i = 0; i < n; i += k) {
        k = p[i] < 0x80 ? 1 : hoop_mask_utf8_next(p + i, n - i);
        if (k == 0) {
            k = 1;
        }
        count++;
    }

    return count;
}


static int
hoop_mask_hex4(const uint8_t *p, uint32_t *v)
{
    uint32_t  d;
    int       i;

    *v = 0;

    for (i = 0; i < 4; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            d = p[i] - '0';
        } else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f') {
            d = (p[i] | 0x20) - 'a' + 10;
        } else {
            return -1;
        }
        *v = (*v << 4) | d;
    }

    return 0;
}


static size_t
hoop_mask_put_utf8(uint8_t *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (uint8_t) cp;
        return 1;
    }

    if (cp < 0x800) {
        d[0] = (uint8_t) (0xc0 | (cp >> 6));
        d[1] = (uint8_t) (0x80 | (cp & 0x3f));
        return 2;
    }

    if (cp < 0x10000) {
        d[0] = (uint8_t) (0xe0 | (cp >> 12));
        d[1] = (uint8_t) (0x80 | ((cp >> 6) & 0x3f));
        d[2] = (uint8_t) (0x80 | (cp & 0x3f));
        return 3;
    }

    d[0] = (uint8_t) (0xf0 | (cp >> 18));
    d[1] = (uint8_t) (0x80 | ((cp >> 12) & 0x3f));
    d[2] = (uint8_t) (0x80 | ((cp >> 6) & 0x3f));
    d[3] = (uint8_t) (0x80 | (cp & 0x3f));
    return 4;
}


/*
 * A JSON string token starting at in[pos] == '"': returns the offset just
 * after its closing quote, or 0 if it is not a valid RFC 8259 string
 * (unterminated, control character, bad escape, lone surrogate escape,
 * ill-formed UTF-8).  *escaped is set when it holds a backslash.
 *
 * Runs of plain ASCII are skipped 16 bytes at a time (SSE2) or 8 (a
 * word), finding the first '"', '\', byte below 0x20 or byte above 0x7f
 * without looking at the bytes one by one.
 */
size_t
hoop_mask_json_string_end(const uint8_t *in, size_t len, size_t pos,
    int *escaped)
{
    uint8_t   c;
    uint32_t  cp, lo;
    uint64_t  w, q, b, t;
    size_t    k;

    *escaped = 0;
    pos++;

    for ( ;; ) {

#if defined(__SSE2__)
        /* 16 bytes at a time: signed "less than 0x20" also catches every
         * byte above 0x7f */
        while (pos + 16 <= len) {
            __m128i   x;
            unsigned  m;

            x = _mm_loadu_si128((const __m128i *) (in + pos));
            m = (unsigned) _mm_movemask_epi8(
                    _mm_or_si128(
                        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                     _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                        _mm_cmplt_epi8(x, _mm_set1_epi8(0x20))));
            if (m) {
                pos += __builtin_ctz(m);
                goto special;
            }
            pos += 16;
        }
#endif

        while (pos + 8 <= len) {
            memcpy(&w, in + pos, 8);
            q = w ^ (HOOP_MASK_ONES * '"');
            b = w ^ (HOOP_MASK_ONES * '\\');
            t = (((q - HOOP_MASK_ONES) & ~q)
                 | ((b - HOOP_MASK_ONES) & ~b)
                 | ((w - HOOP_MASK_ONES * 0x20) & ~w)
                 | w) & HOOP_MASK_HIGHS;
            if (t) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                /* the lowest flagged byte is exact (borrows only flag
                 * bytes above a true hit) */
                pos += __builtin_ctzll(t) / 8;
#endif
                break;
            }
            pos += 8;
        }

#if defined(__SSE2__)
    special:
#endif

        if (pos >= len) {
            return 0;
        }

        c = in[pos];

        if (c == '"') {
            return pos + 1;
        }

        if (c == '\\') {
            *escaped = 1;

            if (pos + 1 >= len) {
                return 0;
            }

            switch (in[pos + 1]) {

            case '"': case '\\': case '/':
            case 'b': case 'f': case 'n': case 'r': case 't':
                pos += 2;
                continue;

            case 'u':
                if (pos + 6 > len || hoop_mask_hex4(in + pos + 2, &cp) != 0) {
                    return 0;
                }
                pos += 6;

                if (cp >= 0xdc00 && cp <= 0xdfff) {
                    return 0;
                }

                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (pos + 6 > len || in[pos] != '\\' || in[pos + 1] != 'u'
                        || hoop_mask_hex4(in + pos + 2, &lo) != 0
                        || lo < 0xdc00 || lo > 0xdfff)
                    {
                        return 0;
                    }
                    pos += 6;
                }
                continue;

            default:
                return 0;
            }
        }

        if (c < 0x20) {
            return 0;
        }

        if (c < 0x80) {
            pos++;
            continue;
        }

        k = hoop_mask_utf8_next(in + pos, len - pos);
        if (k == 0) {
            return 0;
        }
        pos += k;
    }
}


/*
 * Appends the text of a validated string token's contents p[0..n) (the
 * bytes between the quotes) to b, escapes decoded.
 */
int
hoop_mask_json_unescape(hoop_mask_out_t *out, hoop_mask_buf_t *b,
    const uint8_t *p, size_t n)
{
    uint8_t  *d;
    uint32_t  cp, lo;
    size_t    i, run;

    /* decoding never makes text longer */
    if (hoop_mask_buf_reserve(out, b, n) != 0) {
        return -1;
    }

    d = b->p + b->len;
    i = 0;

    while (i < n) {
        run = i;
        while (i < n && p[i] != '\\') {
            i++;
        }
        memcpy(d, p + run, i - run);
        d += i - run;

        if (i == n) {
            break;
        }

        switch (p[i + 1]) {
        case 'b': *d++ = '\b'; i += 2; break;
        case 'f': *d++ = '\f'; i += 2; break;
        case 'n': *d++ = '\n'; i += 2; break;
        case 'r': *d++ = '\r'; i += 2; break;
        case 't': *d++ = '\t'; i += 2; break;

        case 'u':
            (void) hoop_mask_hex4(p + i + 2, &cp);
            i += 6;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                (void) hoop_mask_hex4(p + i + 2, &lo);
                i += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            d += hoop_mask_put_utf8(d, cp);
            break;

        default:                       /* " \ / */
            *d++ = p[i + 1];
            i += 2;
            break;
        }
    }

    b->len = d - b->p;

    return 0;
}


/*
 * Appends p[0..n) (UTF-8; other bytes are copied as they are) to b as a
 * JSON string: quotes, '"' and '\' escaped, \b \f \n \r \t, other control
 * characters as \u00xx.  The one escaping this engine writes, so canonical
 * texts (HASH of a container) do not depend on the producer's escapes.
 */
int
hoop_mask_json_escape(hoop_mask_out_t *out, hoop_mask_buf_t *b,
    const uint8_t *p, size_t n)
{
    static const char  hex[] = "0123456789abcdef";
    uint8_t           *d, c;
    size_t             i;

    /* at worst 6 bytes per input byte, and the quotes */
    if (n > (SIZE_MAX - 2) / 6
        || hoop_mask_buf_reserve(out, b, 6 * n + 2) != 0)
    {
        return -1;
    }

    d = b->p + b->len;
    *d++ = '"';

    for (i = 0; i < n; i++) {
        c = p[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            *d++ = c;
            continue;
        }

        *d++ = '\\';

        switch (c) {
        case '"':  *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '\b': *d++ = 'b'; break;
        case '\f': *d++ = 'f'; break;
        case '\n': *d++ = 'n'; break;
        case '\r': *d++ = 'r'; break;
        case '\t': *d++ = 't'; break;
        default:
            *d++ = 'u';
            *d++ = '0';
            *d++ = '0';
            *d++ = hex[c >> 4];
            *d++ = hex[c & 0xf];
            break;
        }
    }

    *d++ = '"';
    b->len = d - b->p;

    return 0;
}


/*
 * A JSON number token at in[pos] ('-' or a digit): the offset after it,
 * or 0 if the grammar of RFC 8259 section 6 is not followed.  Any
 * magnitude is accepted: numbers are text here, never converted.
 */
size_t
hoop_mask_json_number_end(const uint8_t *in, size_t len, size_t pos)
{
    if (in[pos] == '-') {
        pos++;
    }

    if (pos >= len) {
        return 0;
    }

    if (in[pos] == '0') {
        pos++;

    } else if (in[pos] >= '1' && in[pos] <= '9') {
        do {
            pos++;
        } while (pos < len && in[pos] >= '0' && in[pos] <= '9');

    } else {
        return 0;
    }

    if (pos < len && in[pos] == '.') {
        pos++;
        if (pos >= len || in[pos] < '0' || in[pos] > '9') {
            return 0;
        }
        do {
            pos++;
        } while (pos < len && in[pos] >= '0' && in[pos] <= '9');
    }

    if (pos < len && (in[pos] == 'e' || in[pos] == 'E')) {
        pos++;
        if (pos < len && (in[pos] == '+' || in[pos] == '-')) {
            pos++;
        }
        if (pos >= len || in[pos] < '0' || in[pos] > '9') {
            return 0;
        }
        do {
            pos++;
        } while (pos < len && in[pos] >= '0' && in[pos] <= '9');
    }

    return pos;
}
