/*
 * The bridge between the policy compiler (src/policy) and the masking
 * section compiler (hoop_mask_policy.h): a hoop_policy_section_pt that
 * checks, and compiles, "masking" while the policy compiles, so its
 * problems are policy diagnostics with line and column.
 *
 *   hoop_mask_policy_hook_t  h = { .options = { .flags = 0 } };
 *   hoop_policy_options_t    o = { .masking = hoop_mask_policy_hook,
 *                                  .masking_ctx = &h };
 *   p = hoop_policy_compile_ex(text, len, &o, diags, max, &n);
 *   ... p != NULL: h.compiled is the masking section (NULL when the
 *   document has none).  Whatever p, h.compiled is the caller's to free
 *   with hoop_mask_policy_free() (the masking section may compile while
 *   another part of the document is refused).
 *
 * Build with -I src/policy -I src/mask and both libraries.
 */

#ifndef _HOOP_MASK_POLICY_HOOK_H_INCLUDED_
#define _HOOP_MASK_POLICY_HOOK_H_INCLUDED_


#include "hoop_policy.h"
#include "hoop_mask_policy.h"


typedef struct {
    hoop_mask_policy_options_t   options;     /* flags: NO_KEYS for lint */
    hoop_mask_policy_t          *compiled;    /* out: the last successful
                                                 compilation (a previous
                                                 one is freed first) */
} hoop_mask_policy_hook_t;


/*
 * hoop_policy_section_pt for "masking".  ctx: a hoop_mask_policy_hook_t,
 * or NULL to check only (key files not read, nothing kept).
 */
size_t hoop_mask_policy_hook(void *ctx, const char *json, size_t len,
    hoop_policy_diag_t *diags, size_t max);


#endif /* _HOOP_MASK_POLICY_HOOK_H_INCLUDED_ */
