/*
 * Memory and bookkeeping for the policy compiler: the arena every policy
 * lives in, the diagnostics collector, JSON Pointer paths, and the small
 * open-addressing hash table used by the index and the principal table.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hoop_policy_int.h"


#define HOOP_POLICY_BLK_MIN   (64 * 1024)
#define HOOP_POLICY_ALIGN     16


struct hoop_policy_blk_s {
    hoop_policy_blk_t           *next;
    size_t                       size;
    /* data follows, aligned */
};

#define HOOP_POLICY_BLK_HDR                                                   \
    ((sizeof(hoop_policy_blk_t) + HOOP_POLICY_ALIGN - 1)                      \
     & ~(size_t) (HOOP_POLICY_ALIGN - 1))


void *
hoop_policy_alloc(hoop_policy_arena_t *a, size_t n)
{
    size_t              size;
    hoop_policy_blk_t  *b;
    void               *p;

    if (a->failed) {
        return NULL;
    }

    n = (n + HOOP_POLICY_ALIGN - 1) & ~(size_t) (HOOP_POLICY_ALIGN - 1);
    if (n == 0) {
        n = HOOP_POLICY_ALIGN;
    }

    if (a->head == NULL || a->size - a->used < n) {
        size = n > HOOP_POLICY_BLK_MIN ? n : HOOP_POLICY_BLK_MIN;
        b = malloc(HOOP_POLICY_BLK_HDR + size);
        if (b == NULL) {
            a->failed = 1;
            return NULL;
        }
        b->size = size;
        b->next = a->head;
        a->head = b;
        a->used = 0;
        a->size = size;
    }

    p = (char *) a->head + HOOP_POLICY_BLK_HDR + a->used;
    a->used += n;

    return p;
}


void *
hoop_policy_calloc(hoop_policy_arena_t *a, size_t n, size_t size)
{
    void  *p;

    if (size != 0 && n > (size_t) -1 / size) {
        a->failed = 1;
        return NULL;
    }

    p = hoop_policy_alloc(a, n * size);
    if (p != NULL) {
        memset(p, 0, n * size);
    }

    return p;
}


char *
hoop_policy_strndup(hoop_policy_arena_t *a, const char *s, size_t n)
{
    char  *p;

    p = hoop_policy_alloc(a, n + 1);
    if (p == NULL) {
        return NULL;
    }

    if (n) {
        memcpy(p, s, n);
    }
    p[n] = '\0';

    return p;
}


void
hoop_policy_arena_free(hoop_policy_arena_t *a)
{
    hoop_policy_blk_t  *b, *next;

    for (b = a->head; b; b = next) {
        next = b->next;
        free(b);
    }

    a->head = NULL;
    a->used = 0;
    a->size = 0;
}


/* ---------------------------------------------------------------------- */


void
hoop_policy_diag(hoop_policy_diags_t *d, hoop_policy_sev_t sev,
    const char *code, unsigned line, unsigned column, const char *path,
    const char *fmt, ...)
{
    va_list              ap;
    hoop_policy_diag_t  *g;

    if (sev == HOOP_POLICY_SEV_ERROR) {
        d->nerrors++;
    }

    if (d->n++ >= d->max || d->diags == NULL) {
        return;
    }

    g = &d->diags[d->n - 1];
    g->severity = sev;
    g->line = line;
    g->column = column;
    g->code = code;
    snprintf(g->path, sizeof(g->path), "%s", path ? path : "");

    va_start(ap, fmt);
    vsnprintf(g->message, sizeof(g->message), fmt, ap);
    va_end(ap);
}


void
hoop_policy_diags_sort(hoop_policy_diags_t *d)
{
    size_t              i, j, n;
    hoop_policy_diag_t  tmp;

    /* insertion sort: stable, and the list is nearly sorted already */

    n = d->n < d->max ? d->n : d->max;
    if (d->diags == NULL) {
        return;
    }

    for (i = 1; i < n; i++) {
        tmp = d->diags[i];
        j = i;

        while (j > 0
               && (d->diags[j - 1].line > tmp.line
                   || (d->diags[j - 1].line == tmp.line
                       && d->diags[j - 1].column > tmp.column)))
        {
            d->diags[j] = d->diags[j - 1];
            j--;
        }

        d->diags[j] = tmp;
    }
}


void
hoop_policy_path_key(char *dst, size_t size, const char *base,
    const char *seg, size_t seglen)
{
    size_t  n, i;

    n = (size_t) snprintf(dst, size, "%s/", base);
    if (n >= size) {
        return;
    }

    for (i = 0; i < seglen && n + 3 < size; i++) {
        if (seg[i] == '~') {
            dst[n++] = '~';
            dst[n++] = '0';

        } else if (seg[i] == '/') {
            dst[n++] = '~';
            dst[n++] = '1';

        } else {
            dst[n++] = seg[i];
        }
    }

    dst[n] = '\0';
}


void
hoop_policy_path_index(char *dst, size_t size, const char *base, size_t i)
{
    snprintf(dst, size, "%s/%zu", base, i);
}


int
hoop_policy_diag_format(const hoop_policy_diag_t *d, const char *file,
    char *buf, size_t buflen)
{
    const char  *sev;

    sev = d->severity == HOOP_POLICY_SEV_ERROR ? "error" : "warning";

    if (file == NULL) {
        file = "policy";
    }

    return snprintf(buf, buflen, "%s:%u:%u: %s: %s [%s]", file, d->line,
                    d->column, sev, d->message, d->code ? d->code : "");
}


/* ---------------------------------------------------------------------- */


int
hoop_policy_table_init(hoop_policy_table_t *t, size_t n,
    hoop_policy_arena_t *a)
{
    size_t  size;

    size = 8;
    while (size < 2 * n) {
        size *= 2;
    }

    t->slots = hoop_policy_calloc(a, size, sizeof(hoop_policy_slot_t));
    if (t->slots == NULL) {
        t->mask = 0;
        return -1;
    }

    t->mask = size - 1;
    t->n = 0;

    return 0;
}


const hoop_policy_slot_t *
hoop_policy_table_get(const hoop_policy_table_t *t, uint64_t h,
    const char *key, size_t len)
{
    size_t                     i;
    const hoop_policy_slot_t  *s;

    if (t->mask == 0) {
        return NULL;
    }

    for (i = (size_t) h & t->mask; ; i = (i + 1) & t->mask) {
        s = &t->slots[i];

        if (s->key == NULL) {
            return NULL;
        }

        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) {
            return s;
        }
    }
}


hoop_policy_slot_t *
hoop_policy_table_put(hoop_policy_table_t *t, uint64_t h, const char *key,
    size_t len)
{
    size_t               i;
    hoop_policy_slot_t  *s;

    if (t->mask == 0) {
        return NULL;
    }

    for (i = (size_t) h & t->mask; ; i = (i + 1) & t->mask) {
        s = &t->slots[i];

        if (s->key == NULL) {
            if (t->n + 1 > (t->mask + 1) / 2) {
                return NULL;
            }

            t->n++;
            s->hash = h;
            s->len = (uint32_t) len;
            return s;
        }

        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) {
            return s;
        }
    }
}
