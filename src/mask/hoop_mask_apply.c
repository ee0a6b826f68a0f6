/*
 * The entry points on records: a value or key (hoop_mask_apply()) and a
 * header (hoop_mask_header()).
 */

#include <string.h>

#include "hoop_mask_int.h"


int
hoop_mask_apply(const hoop_mask_set_t *set, hoop_mask_part_t part,
    const uint8_t *in, size_t len, hoop_mask_out_t *out, uint32_t *counts)
{
    const hoop_mask_list_t  *list;

    switch (part) {
    case HOOP_MASK_VALUE:
        list = &set->value;
        break;
    case HOOP_MASK_KEY:
        list = &set->key;
        break;
    default:
        out->len = 0;
        out->status = HOOP_MASK_UNSCANNED;
        return HOOP_MASK_UNCHANGED;
    }

    if (in == NULL) {
        len = 0;
        in = (const uint8_t *) "";
    }

    return hoop_mask_run(set, list, in, len, out, counts);
}


int
hoop_mask_header(const hoop_mask_set_t *set, const uint8_t *name,
    size_t name_len, const uint8_t *value, size_t value_len,
    hoop_mask_out_t *out, uint32_t *counts)
{
    size_t                    h;
    const hoop_mask_list_t   *list;
    const hoop_mask_crule_t  *r;

    out->len = 0;
    out->status = HOOP_MASK_UNSCANNED;

    for (h = 0; h < set->nheaders; h++) {
        list = &set->headers[h];

        if (list->name_len == name_len
            && memcmp(list->name, name, name_len) == 0)
        {
            goto found;
        }
    }

    return HOOP_MASK_UNCHANGED;

found:

    /* a rule for the whole value comes first: drop or null the header */

    if (list->raw >= 0) {
        r = &set->rules[list->idx[list->raw]];

        if (r->strategy == HOOP_MASK_REMOVE) {
            if (counts) {
                counts[list->idx[list->raw]]++;
            }
            return HOOP_MASK_DROP_HEADER;
        }

        if (r->strategy == HOOP_MASK_NULL) {
            if (counts) {
                counts[list->idx[list->raw]]++;
            }
            return value ? HOOP_MASK_NULL_HEADER : HOOP_MASK_UNCHANGED;
        }
    }

    if (value == NULL) {
        return HOOP_MASK_UNCHANGED;
    }

    return hoop_mask_run(set, list, value, value_len, out, counts);
}
