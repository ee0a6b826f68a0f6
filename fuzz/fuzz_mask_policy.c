/*
 * libFuzzer target for the masking section of the policy
 * (src/mask/hoop_mask_policy.c) and its hook in the policy compiler
 * (src/policy, options.masking).
 *
 * Input: a mode byte, then text.
 *   mode even: a whole policy document (YAML or JSON) through
 *              hoop_policy_compile_ex() with hoop_mask_policy_hook
 *   mode odd:  the masking section alone, as JSON text, through
 *              hoop_mask_policy_compile()
 * Key files are not read (HOOP_MASK_POLICY_NO_KEYS).
 *
 * Checked on every input:
 *   - no crash, leak or undefined behaviour
 *   - a section with an error never compiles, and a policy whose masking
 *     section has an error is refused; every masking diagnostic's path
 *     starts with "/masking"
 *   - a compiled section answers select() for a few callers, topics and
 *     directions with 0 or HOOP_MASK_ECRYPTO (lint keys), the same set
 *     for the same request, and its sets mask a record without error
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hoop_mask_policy_hook.h"


#define MAXD  32


static void
check_selects(hoop_mask_policy_t *mp)
{
    int                     rc, rc2;
    size_t                  t, u, d;
    hoop_mask_str_t         g[2];
    hoop_mask_out_t         out;
    hoop_mask_request_t     req;
    const hoop_mask_set_t  *set, *again;
    static const char      *topics[] = { "t", "customers.x", "logs.app",
                                         "orders.v1", "" };
    static const char      *users[] = { "alice", NULL, "contractor-etl" };
    static const char       record[] =
        "{\"customer\":{\"email\":\"a@b.c\",\"phone\":\"+1 555\"},"
        "\"payment\":{\"card\":{\"number\":\"4111111111111111\","
        "\"cvv\":\"123\"}},\"cards\":[{\"number\":\"1\"}],\"x\":[1,2]}";

    hoop_mask_out_init(&out, NULL);

    g[0].data = "support";
    g[0].len = 7;
    g[1].data = "g";
    g[1].len = 1;

    for (t = 0; t < sizeof(topics) / sizeof(topics[0]); t++) {
        for (u = 0; u < sizeof(users) / sizeof(users[0]); u++) {
            for (d = 1; d <= 2; d++) {
                memset(&req, 0, sizeof(req));
                req.topic.data = topics[t];
                req.topic.len = strlen(topics[t]);
                req.principal.data = users[u];
                req.principal.len = users[u] ? strlen(users[u]) : 0;
                req.groups = g;
                req.ngroups = u;
                req.direction = (hoop_mask_direction_t) d;

                rc = hoop_mask_policy_select(mp, &req, &set);
                if (rc != 0 && rc != HOOP_MASK_ECRYPTO
                    && rc != HOOP_MASK_ENOMEM)
                {
                    abort();
                }

                if (rc != 0) {
                    if (set != NULL) {
                        abort();
                    }
                    continue;
                }

                rc2 = hoop_mask_policy_select(mp, &req, &again);
                if (rc2 != 0 || again != set) {
                    abort();
                }

                if (set == NULL) {
                    continue;
                }

                rc = hoop_mask_apply(set, HOOP_MASK_VALUE,
                                     (const uint8_t *) record,
                                     sizeof(record) - 1, &out, NULL);
                if (rc < 0 && rc != HOOP_MASK_EREGEX) {
                    abort();
                }

                rc = hoop_mask_apply(set, HOOP_MASK_KEY,
                                     (const uint8_t *) "k1", 2, &out, NULL);
                if (rc < 0 && rc != HOOP_MASK_EREGEX) {
                    abort();
                }
            }
        }
    }

    hoop_mask_out_free(&out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                      i, n, errors;
    hoop_policy_t              *p;
    hoop_mask_diag_t            md[MAXD];
    hoop_policy_diag_t          pd[MAXD];
    hoop_mask_policy_t         *mp;
    hoop_policy_options_t       po;
    hoop_mask_policy_hook_t     h;
    hoop_mask_policy_options_t  mo;

    if (size < 1 || size > 65536) {
        return 0;
    }

    if (data[0] & 1) {
        memset(&mo, 0, sizeof(mo));
        mo.flags = HOOP_MASK_POLICY_NO_KEYS;

        mp = hoop_mask_policy_compile((const char *) data + 1, size - 1, &mo,
                                      md, MAXD, &n);
        errors = 0;

        for (i = 0; i < n && i < MAXD; i++) {
            if (strncmp(md[i].path, "/masking", 8) != 0) {
                abort();
            }
            errors += md[i].severity == HOOP_MASK_SEV_ERROR;
        }

        if ((mp != NULL) == (errors > 0)) {
            abort();
        }

        if (mp) {
            check_selects(mp);
        }

        hoop_mask_policy_free(mp);
        return 0;
    }

    memset(&h, 0, sizeof(h));
    h.options.flags = HOOP_MASK_POLICY_NO_KEYS;
    memset(&po, 0, sizeof(po));
    po.now = 1796083200;
    po.masking = hoop_mask_policy_hook;
    po.masking_ctx = &h;

    p = hoop_policy_compile_ex((const char *) data + 1, size - 1, &po, pd,
                               MAXD, &n);

    for (i = 0; i < n && i < MAXD; i++) {
        if (strncmp(pd[i].path, "/masking", 8) == 0
            && pd[i].severity == HOOP_POLICY_SEV_ERROR && p != NULL)
        {
            abort();
        }
    }

    if (p && h.compiled) {
        check_selects(h.compiled);
    }

    hoop_mask_policy_free(h.compiled);
    hoop_policy_free(p);

    return 0;
}
