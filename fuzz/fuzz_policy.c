/*
 * libFuzzer target for src/policy: hoop_policy_compile() on any bytes,
 * then, when a policy compiles, the properties every policy must have:
 *
 *   - its canonical form compiles, to the same canonical text and hash
 *   - hoop_policy_check(), _check_any(), _check_approval() and
 *     _authorized_ops() answer
 *     (requests built from the input) without crashing, and a decision is
 *     consistent: allowed iff reason is "grant", rule set accordingly
 *   - the introspection API walks every rule
 *
 * Input: one mode byte, then the document.  Mode bits 0-1: format (auto,
 * YAML, JSON); bit 2: only 1 diagnostic slot (truncation path).
 *
 *   make -C fuzz smoke-policy [SECONDS=60]     (see policy.mk)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hoop_policy.h"


#define FUZZ_NOW   1796083200        /* 2026-12-01T00:00:00Z */


static void
fuzz_checks(const hoop_policy_t *p, const uint8_t *data, size_t size)
{
    size_t                   i, n;
    uint32_t                 ops;
    hoop_policy_str_t        groups[2];
    hoop_policy_addr_t       addr;
    hoop_policy_request_t    r;
    hoop_policy_decision_t   d;
    const hoop_policy_rule_t *rule;
    static const char       *names[] = {
        "a", "orders.eu", "pii.customers", "*", "", "hardcode",
        "kafka-cluster", "payments-tx-1"
    };

    memset(&r, 0, sizeof(r));

    groups[0].data = "g";
    groups[0].len = 1;
    groups[1].data = "payments";
    groups[1].len = 8;

    hoop_policy_addr_parse(&addr, "10.1.2.3", 8);

    /* requests named by the rules themselves, then by the input */

    for (i = 0; i < hoop_policy_rule_count(p, HOOP_POLICY_GRANT)
                    + hoop_policy_rule_count(p, HOOP_POLICY_DENY); i++)
    {
        rule = i < hoop_policy_rule_count(p, HOOP_POLICY_GRANT)
               ? hoop_policy_rule_at(p, HOOP_POLICY_GRANT, i)
               : hoop_policy_rule_at(p, HOOP_POLICY_DENY,
                       i - hoop_policy_rule_count(p, HOOP_POLICY_GRANT));
        if (rule == NULL || rule->nresources == 0 || rule->nprincipals == 0) {
            abort();
        }

        if (hoop_policy_rule_find(p, rule->id, strlen(rule->id)) != rule) {
            abort();
        }

        n = i % rule->nprincipals;
        r.principal.data = strchr(rule->principals[n], ':') + 1;
        r.principal.len = strlen(r.principal.data);
        r.groups = groups;
        r.ngroups = 2;
        r.addr = i & 1 ? &addr : NULL;
        r.resource = rule->resources[i % rule->nresources].type;
        r.name.data = rule->resources[i % rule->nresources].name;
        r.name.len = rule->resources[i % rule->nresources].name_len;
        r.now = (i & 2) ? rule->valid_from : FUZZ_NOW;

        for (n = 0; n < HOOP_POLICY_OP_LIMIT; n++) {
            r.op = (hoop_policy_op_t) n;

            if (hoop_policy_check(p, &r, &d) != d.allowed
                || d.allowed != (d.reason == HOOP_POLICY_ALLOWED_GRANT)
                || (d.rule != NULL) != (d.reason == HOOP_POLICY_ALLOWED_GRANT
                                        || d.reason
                                           == HOOP_POLICY_DENIED_DENY))
            {
                abort();
            }

            if (d.rule && (d.allowed ? d.rule->kind != HOOP_POLICY_GRANT
                                     : d.rule->kind != HOOP_POLICY_DENY))
            {
                abort();
            }

            (void) hoop_policy_check_any(p, &r, &d);

            /* approvals: a plain allow agrees with hoop_policy_check(),
             * a needed approval names a grant with an approval block */

            if (hoop_policy_check_approval(p, &r, &d)
                == HOOP_POLICY_NEEDS_APPROVAL
                && (d.allowed || d.rule == NULL || d.rule->approval == NULL
                    || d.reason != HOOP_POLICY_APPROVAL_NEEDED))
            {
                abort();
            }
        }

        ops = hoop_policy_authorized_ops(p, &r);
        if (ops & ~hoop_policy_res_ops(r.resource)) {
            abort();
        }

        if (i > 64) {
            break;
        }
    }

    for (i = 0; i + 3 < size && i < 64; i += 3) {
        r.principal.data = (const char *) data + i;
        r.principal.len = data[i] % 4;
        r.resource = (hoop_policy_res_t) (data[i + 1] % 9);
        r.op = (hoop_policy_op_t) (data[i + 2] % 17);
        r.name.data = names[data[i + 3] % 8];
        r.name.len = strlen(r.name.data);
        r.now = FUZZ_NOW + (int64_t) data[i] * 86400 * 30;

        (void) hoop_policy_check(p, &r, &d);
        (void) hoop_policy_check_any(p, &r, NULL);
        (void) hoop_policy_check_approval(p, &r, &d);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                  ndiags, len, clen, i, max;
    const char             *canon;
    hoop_policy_t          *p, *c;
    hoop_policy_options_t   o;
    hoop_policy_diag_t      diags[16];

    if (size < 1) {
        return 0;
    }

    memset(&o, 0, sizeof(o));
    o.now = FUZZ_NOW;
    o.format = (hoop_policy_format_t) (data[0] & 3) % 3;
    max = (data[0] & 4) ? 1 : 16;

    p = hoop_policy_compile_ex((const char *) data + 1, size - 1, &o, diags,
                               max, &ndiags);

    for (i = 0; i < ndiags && i < max; i++) {
        if (memchr(diags[i].message, '\0', sizeof(diags[i].message)) == NULL
            || diags[i].code == NULL)
        {
            abort();
        }
    }

    if (p == NULL) {
        return 0;
    }

    /* the canonical form is a fixed point */

    canon = hoop_policy_canonical(p, &len);
    o.format = HOOP_POLICY_FORMAT_AUTO;

    c = hoop_policy_compile_ex(canon, len, &o, diags, 16, &ndiags);
    if (c == NULL) {
        abort();
    }

    if (strcmp(hoop_policy_canonical(c, &clen), canon) != 0 || clen != len
        || memcmp(hoop_policy_sha256(c), hoop_policy_sha256(p), 32) != 0)
    {
        abort();
    }

    hoop_policy_free(c);

    fuzz_checks(p, data + 1, size - 1);

    hoop_policy_free(p);

    return 0;
}
