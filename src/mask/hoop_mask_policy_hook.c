/*
 * hoop_mask_policy_hook(): the masking section checked and compiled from
 * inside hoop_policy_compile_ex() (see hoop_mask_policy_hook.h).
 */

#include <stdlib.h>
#include <string.h>

#include "hoop_mask_policy_hook.h"


size_t
hoop_mask_policy_hook(void *ctx, const char *json, size_t len,
    hoop_policy_diag_t *diags, size_t max)
{
    size_t                       i, n;
    hoop_mask_diag_t            *md;
    hoop_mask_policy_t          *mp;
    hoop_mask_policy_hook_t     *h;
    hoop_mask_policy_options_t   lint;

    h = ctx;

    if (h == NULL) {
        memset(&lint, 0, sizeof(lint));
        lint.flags = HOOP_MASK_POLICY_NO_KEYS;
    }

    md = max ? calloc(max, sizeof(hoop_mask_diag_t)) : NULL;
    if (max && md == NULL) {
        diags[0].severity = HOOP_POLICY_SEV_ERROR;
        diags[0].code = "nomem";
        strcpy(diags[0].path, "/masking");
        strcpy(diags[0].message, "out of memory");
        return 1;
    }

    n = 0;
    mp = hoop_mask_policy_compile(json, len, h ? &h->options : &lint, md,
                                  max, &n);

    for (i = 0; i < n && i < max; i++) {
        diags[i].severity = md[i].severity == HOOP_MASK_SEV_ERROR
                            ? HOOP_POLICY_SEV_ERROR
                            : HOOP_POLICY_SEV_WARNING;
        diags[i].line = 0;
        diags[i].column = 0;
        diags[i].code = md[i].code;
        memcpy(diags[i].path, md[i].path, sizeof(diags[i].path));
        memcpy(diags[i].message, md[i].message, sizeof(diags[i].message));
    }

    free(md);

    if (h && mp) {
        hoop_mask_policy_free(h->compiled);
        h->compiled = mp;

    } else {
        hoop_mask_policy_free(mp);
    }

    return n;
}
