/*
 * JSONPath selectors (a subset of RFC 9535) compiled into steps:
 *
 *   path     = "$" *segment
 *   segment  = ".." ( name / "*" / bracket )     descendants
 *            / "." ( name / "*" )  /  bracket    children
 *   bracket  = "[" S ( quoted / "*" / index ) S "]"
 *   quoted   = "'" ... "'" / DQUOTE ... DQUOTE   JSON escapes, \' too
 *   index    = "0" / %x31-39 *DIGIT              from the start
 *   name     = ( ALPHA / "_" / non-ASCII ) *( ALPHA / DIGIT / "_" / "-"
 *              / non-ASCII )
 *
 * '-' inside shorthand names is our extension (Kafka payloads are full of
 * "user-id").  Negative indexes, slices, filters and unions are refused:
 * a single pass cannot know an array's length before its end, and one
 * rule per path keeps audit counts readable.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hoop_mask_int.h"


typedef struct {
    const char          *path;
    size_t               pos;
    size_t               len;
    long                *offset;
    char                *msg;
    size_t               msg_size;
} hoop_mask_pp_t;


static int hoop_mask_path_fail(hoop_mask_pp_t *pp, size_t at,
    const char *what);
static int hoop_mask_path_name(hoop_mask_pp_t *pp, hoop_mask_step_t *st,
    uint8_t **names);
static int hoop_mask_path_bracket(hoop_mask_pp_t *pp, hoop_mask_step_t *st,
    uint8_t **names);
static int hoop_mask_path_quoted(hoop_mask_pp_t *pp, hoop_mask_step_t *st,
    uint8_t **names);


static int
hoop_mask_path_fail(hoop_mask_pp_t *pp, size_t at, const char *what)
{
    *pp->offset = (long) at;
    snprintf(pp->msg, pp->msg_size, "%s at offset %zu", what, at);
    return -1;
}


static int
hoop_mask_path_name(hoop_mask_pp_t *pp, hoop_mask_step_t *st,
    uint8_t **names)
{
    const uint8_t  *p;
    size_t          start, k;
    uint8_t         c;

    p = (const uint8_t *) pp->path;
    start = pp->pos;

    if (start < pp->len && p[start] >= '0' && p[start] <= '9') {
        return hoop_mask_path_fail(pp, start,
                   "a member name cannot start with a digit: write [N] "
                   "for an array element or ['N'] for a member named N");
    }

    while (pp->pos < pp->len) {
        c = p[pp->pos];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_'
            || (c == '-' && pp->pos > start))
        {
            pp->pos++;
            continue;
        }

        if (c < 0x80) {
            break;
        }

        k = hoop_mask_utf8_next(p + pp->pos, pp->len - pp->pos);
        if (k == 0) {
            return hoop_mask_path_fail(pp, pp->pos, "invalid UTF-8");
        }
        pp->pos += k;
    }

    if (pp->pos == start) {
        return hoop_mask_path_fail(pp, start,
                   "expected a member name or '*'");
    }

    st->kind = HOOP_MASK_STEP_NAME;
    st->name = *names;
    st->len = pp->pos - start;
    memcpy(*names, p + start, st->len);
    *names += st->len;

    return 0;
}


/* 'name' or "name" with JSON escapes (and \'), decoded into *names */
static int
hoop_mask_path_quoted(hoop_mask_pp_t *pp, hoop_mask_step_t *st,
    uint8_t **names)
{
    uint8_t        *d, q, c;
    uint32_t        cp, lo;
    size_t          k, i;
    const uint8_t  *p;

    p = (const uint8_t *) pp->path;
    q = p[pp->pos++];
    d = *names;
    st->name = d;

    for ( ;; ) {
        if (pp->pos >= pp->len) {
            return hoop_mask_path_fail(pp, pp->pos,
                                       "unterminated quoted name");
        }

        c = p[pp->pos];

        if (c == q) {
            pp->pos++;
            break;
        }

        if (c < 0x20) {
            return hoop_mask_path_fail(pp, pp->pos,
                                       "control character in a quoted name");
        }

        if (c >= 0x80) {
            k = hoop_mask_utf8_next(p + pp->pos, pp->len - pp->pos);
            if (k == 0) {
                return hoop_mask_path_fail(pp, pp->pos, "invalid UTF-8");
            }
            memcpy(d, p + pp->pos, k);
            d += k;
            pp->pos += k;
            continue;
        }

        if (c != '\\') {
            *d++ = c;
            pp->pos++;
            continue;
        }

        if (pp->pos + 1 >= pp->len) {
            return hoop_mask_path_fail(pp, pp->pos, "invalid escape");
        }

        c = p[pp->pos + 1];

        switch (c) {
        case '\'': case '"': case '\\': case '/':
            *d++ = c; pp->pos += 2; continue;
        case 'b': *d++ = '\b'; pp->pos += 2; continue;
        case 'f': *d++ = '\f'; pp->pos += 2; continue;
        case 'n': *d++ = '\n'; pp->pos += 2; continue;
        case 'r': *d++ = '\r'; pp->pos += 2; continue;
        case 't': *d++ = '\t'; pp->pos += 2; continue;
        case 'u':
            break;
        default:
            return hoop_mask_path_fail(pp, pp->pos, "invalid escape");
        }

        /* \uXXXX, a surrogate pair as two */
        cp = 0;
        for (i = 0; i < 4; i++) {
            k = pp->pos + 2 + i;
            c = k < pp->len ? p[k] : 0;
            if (c >= '0' && c <= '9') {
                cp = cp * 16 + (c - '0');
            } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
                cp = cp * 16 + ((c | 0x20) - 'a' + 10);
            } else {
                return hoop_mask_path_fail(pp, pp->pos,
                                           "invalid \\u escape");
            }
        }

        if (cp >= 0xdc00 && cp <= 0xdfff) {
            return hoop_mask_path_fail(pp, pp->pos, "lone low surrogate");
        }

        if (cp >= 0xd800 && cp <= 0xdbff) {
            lo = 0;
            k = pp->pos + 6;
            if (k + 6 > pp->len || p[k] != '\\' || p[k + 1] != 'u') {
                return hoop_mask_path_fail(pp, pp->pos,
                                           "lone high surrogate");
            }
            for (i = 0; i < 4; i++) {
                c = p[k + 2 + i];
                if (c >= '0' && c <= '9') {
                    lo = lo * 16 + (c - '0');
                } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
                    lo = lo * 16 + ((c | 0x20) - 'a' + 10);
                } else {
                    return hoop_mask_path_fail(pp, k, "invalid \\u escape");
                }
            }
            if (lo < 0xdc00 || lo > 0xdfff) {
                return hoop_mask_path_fail(pp, pp->pos,
                                           "lone high surrogate");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            pp->pos += 6;
        }

        pp->pos += 6;

        if (cp < 0x80) {
            *d++ = (uint8_t) cp;
        } else if (cp < 0x800) {
            *d++ = (uint8_t) (0xc0 | (cp >> 6));
            *d++ = (uint8_t) (0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            *d++ = (uint8_t) (0xe0 | (cp >> 12));
            *d++ = (uint8_t) (0x80 | ((cp >> 6) & 0x3f));
            *d++ = (uint8_t) (0x80 | (cp & 0x3f));
        } else {
            *d++ = (uint8_t) (0xf0 | (cp >> 18));
            *d++ = (uint8_t) (0x80 | ((cp >> 12) & 0x3f));
            *d++ = (uint8_t) (0x80 | ((cp >> 6) & 0x3f));
            *d++ = (uint8_t) (0x80 | (cp & 0x3f));
        }
    }

    st->kind = HOOP_MASK_STEP_NAME;
    st->len = d - *names;
    *names = d;

    return 0;
}


static int
hoop_mask_path_bracket(hoop_mask_pp_t *pp, hoop_mask_step_t *st,
    uint8_t **names)
{
    const uint8_t  *p;
    uint64_t        v;
    size_t          start;

    p = (const uint8_t *) pp->path;
    pp->pos++;                                   /* '[' */

    while (pp->pos < pp->len && p[pp->pos] == ' ') {
        pp->pos++;
    }

    if (pp->pos >= pp->len) {
        return hoop_mask_path_fail(pp, pp->pos, "unterminated '['");
    }

    start = pp->pos;

    if (p[pp->pos] == '\'' || p[pp->pos] == '"') {
        if (hoop_mask_path_quoted(pp, st, names) != 0) {
            return -1;
        }

    } else if (p[pp->pos] == '*') {
        st->kind = HOOP_MASK_STEP_ANY;
        pp->pos++;

    } else if (p[pp->pos] >= '0' && p[pp->pos] <= '9') {
        v = 0;
        while (pp->pos < pp->len && p[pp->pos] >= '0' && p[pp->pos] <= '9') {
            if (v > (UINT32_MAX - 9) / 10) {
                return hoop_mask_path_fail(pp, start, "index too large");
            }
            v = v * 10 + (p[pp->pos] - '0');
            pp->pos++;
        }
        if (pp->pos - start > 1 && p[start] == '0') {
            return hoop_mask_path_fail(pp, start,
                                       "an index has no leading zeros");
        }
        st->kind = HOOP_MASK_STEP_INDEX;
        st->index = v;

    } else if (p[pp->pos] == '-') {
        return hoop_mask_path_fail(pp, start,
                   "negative indexes are not supported (the array's length "
                   "is not known before its end)");

    } else if (p[pp->pos] == '?' || p[pp->pos] == ':') {
        return hoop_mask_path_fail(pp, start,
                                   "filters and slices are not supported");

    } else {
        return hoop_mask_path_fail(pp, start,
                   "expected a quoted name, an index or '*' after '['");
    }

    while (pp->pos < pp->len && p[pp->pos] == ' ') {
        pp->pos++;
    }

    if (pp->pos < pp->len && (p[pp->pos] == ',' || p[pp->pos] == ':')) {
        return hoop_mask_path_fail(pp, pp->pos,
                   "unions and slices are not supported: write one rule "
                   "per path");
    }

    if (pp->pos >= pp->len || p[pp->pos] != ']') {
        return hoop_mask_path_fail(pp, pp->pos, "expected ']'");
    }

    pp->pos++;

    return 0;
}


/*
 * Parses path into *steps (one allocation, names inside it; free() it)
 * and *nsteps.  Returns 0, or -1 with *offset and msg set.
 */
int
hoop_mask_path_parse(const char *path, hoop_mask_step_t **steps,
    unsigned *nsteps, long *offset, char *msg, size_t msg_size)
{
    size_t             n, i, names_len;
    uint8_t           *names, *cur, *block;
    hoop_mask_pp_t     pp;
    hoop_mask_step_t   st[HOOP_MASK_MAX_STEPS + 1], *out;

    pp.path = path;
    pp.pos = 0;
    pp.len = strlen(path);
    pp.offset = offset;
    pp.msg = msg;
    pp.msg_size = msg_size;

    *steps = NULL;
    *nsteps = 0;

    if (pp.len > HOOP_MASK_MAX_PATH) {
        return hoop_mask_path_fail(&pp, HOOP_MASK_MAX_PATH,
                                   "path longer than 1024 bytes");
    }

    if (pp.len == 0 || path[0] != '$') {
        return hoop_mask_path_fail(&pp, 0, "a path starts with '$'");
    }

    /* decoded names are never longer than the path */
    names = malloc(pp.len + 1);
    if (names == NULL) {
        snprintf(msg, msg_size, "out of memory");
        *offset = -1;
        return -1;
    }

    cur = names;
    n = 0;
    pp.pos = 1;

    while (pp.pos < pp.len) {
        if (n == HOOP_MASK_MAX_STEPS) {
            free(names);
            return hoop_mask_path_fail(&pp, pp.pos,
                                       "more than 62 steps");
        }

        memset(&st[n], 0, sizeof(st[n]));

        if (path[pp.pos] == '.') {
            pp.pos++;

            if (pp.pos < pp.len && path[pp.pos] == '.') {
                st[n].desc = 1;
                pp.pos++;

                if (pp.pos < pp.len && path[pp.pos] == '[') {
                    if (hoop_mask_path_bracket(&pp, &st[n], &cur) != 0) {
                        goto failed;
                    }
                    n++;
                    continue;
                }
            }

            if (pp.pos < pp.len && path[pp.pos] == '*') {
                st[n].kind = HOOP_MASK_STEP_ANY;
                pp.pos++;

            } else if (hoop_mask_path_name(&pp, &st[n], &cur) != 0) {
                goto failed;
            }

            n++;
            continue;
        }

        if (path[pp.pos] == '[') {
            if (hoop_mask_path_bracket(&pp, &st[n], &cur) != 0) {
                goto failed;
            }
            n++;
            continue;
        }

        hoop_mask_path_fail(&pp, pp.pos, "expected '.', '..' or '['");
        goto failed;
    }

    names_len = cur - names;

    block = malloc(n * sizeof(hoop_mask_step_t) + names_len + 1);
    if (block == NULL) {
        free(names);
        snprintf(msg, msg_size, "out of memory");
        *offset = -1;
        return -1;
    }

    out = (hoop_mask_step_t *) block;
    cur = block + n * sizeof(hoop_mask_step_t);
    memcpy(cur, names, names_len);

    for (i = 0; i < n; i++) {
        out[i] = st[i];
        if (st[i].kind == HOOP_MASK_STEP_NAME) {
            out[i].name = cur + (st[i].name - names);
        }
    }

    free(names);

    *steps = out;
    *nsteps = (unsigned) n;

    return 0;

failed:

    free(names);
    return -1;
}
