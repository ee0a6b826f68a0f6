/*
 * hoopctl: grants and denies as text and as JSON, from the compiled
 * policy's read-only rule views (hoop_policy_rule_t).
 *
 * Resources are written TYPE:NAME for literal names, TYPE:prefix:NAME and
 * TYPE:regex:PATTERN otherwise; control characters are escaped.
 */

#include <string.h>

#include "hoopctl.h"


const char *
hoopctl_kind_name(hoop_policy_kind_t kind)
{
    return kind == HOOP_POLICY_DENY ? "deny" : "grant";
}


void
hoopctl_resource_text(hoopctl_buf_t *b, const hoop_policy_resource_t *r)
{
    const char  *type;

    type = hoop_policy_res_name(r->type);
    hoopctl_buf_adds(b, type ? type : "unknown");
    hoopctl_buf_add(b, ":", 1);

    if (r->match != HOOP_POLICY_MATCH_LITERAL) {
        hoopctl_buf_adds(b, hoop_policy_match_name(r->match));
        hoopctl_buf_add(b, ":", 1);
    }

    hoopctl_buf_add_clean(b, r->name, r->name_len);
}


void
hoopctl_ops_text(hoopctl_buf_t *b, uint32_t ops, const char *sep)
{
    int          first;
    unsigned     op;
    const char  *name;

    first = 1;

    for (op = 0; op < HOOP_POLICY_OP_LIMIT; op++) {
        if (!(ops & HOOP_POLICY_OP_BIT(op))) {
            continue;
        }

        name = hoop_policy_op_name((hoop_policy_op_t) op);
        if (name == NULL) {
            continue;
        }

        if (!first) {
            hoopctl_buf_adds(b, sep);
        }
        hoopctl_buf_adds(b, name);
        first = 0;
    }
}


void
hoopctl_principals_text(hoopctl_buf_t *b, const hoop_policy_rule_t *r,
    const char *sep)
{
    size_t  i;

    for (i = 0; i < r->nprincipals; i++) {
        if (i) {
            hoopctl_buf_adds(b, sep);
        }
        hoopctl_buf_add_clean(b, r->principals[i], strlen(r->principals[i]));
    }
}


void
hoopctl_resources_text(hoopctl_buf_t *b, const hoop_policy_rule_t *r,
    const char *sep)
{
    size_t  i;

    for (i = 0; i < r->nresources; i++) {
        if (i) {
            hoopctl_buf_adds(b, sep);
        }
        hoopctl_resource_text(b, &r->resources[i]);
    }
}


void
hoopctl_hosts_text(hoopctl_buf_t *b, const hoop_policy_rule_t *r,
    const char *sep)
{
    size_t  i;

    if (r->nhosts == 0) {
        hoopctl_buf_adds(b, "*");
        return;
    }

    for (i = 0; i < r->nhosts; i++) {
        if (i) {
            hoopctl_buf_adds(b, sep);
        }
        hoopctl_buf_adds(b, r->hosts[i].text ? r->hosts[i].text : "*");
    }
}


const char *
hoopctl_bound_text(int64_t t, char *buf, size_t size)
{
    if (t == HOOP_POLICY_TIME_MIN || t == HOOP_POLICY_TIME_MAX) {
        snprintf(buf, size, "-");
        return buf;
    }

    return hoopctl_iso_time(t, buf, size);
}


json_t *
hoopctl_ops_json(uint32_t ops)
{
    json_t      *a;
    unsigned     op;
    const char  *name;

    a = json_array();

    for (op = 0; op < HOOP_POLICY_OP_LIMIT; op++) {
        if (ops & HOOP_POLICY_OP_BIT(op)) {
            name = hoop_policy_op_name((hoop_policy_op_t) op);
            if (name != NULL) {
                json_array_append_new(a, json_string(name));
            }
        }
    }

    return a;
}


json_t *
hoopctl_rule_json(const hoop_policy_rule_t *r)
{
    char          buf[40];
    size_t        i;
    json_t       *j, *a, *res;
    const char   *type;

    j = json_object();
    json_object_set_new(j, "id", hoopctl_json_str(r->id));
    json_object_set_new(j, "kind", json_string(hoopctl_kind_name(r->kind)));

    if (r->description != NULL) {
        json_object_set_new(j, "description",
                            hoopctl_json_str(r->description));
    }

    a = json_array();
    for (i = 0; i < r->nprincipals; i++) {
        json_array_append_new(a, hoopctl_json_str(r->principals[i]));
    }
    json_object_set_new(j, "principals", a);

    a = json_array();
    for (i = 0; i < r->nresources; i++) {
        res = json_object();
        type = hoop_policy_res_name(r->resources[i].type);
        json_object_set_new(res, "type", json_string(type ? type : "unknown"));
        json_object_set_new(res, "name",
                            hoopctl_json_strn(r->resources[i].name,
                                              r->resources[i].name_len));
        json_object_set_new(res, "match",
                  json_string(hoop_policy_match_name(r->resources[i].match)));
        json_array_append_new(a, res);
    }
    json_object_set_new(j, "resources", a);

    json_object_set_new(j, "operations", hoopctl_ops_json(r->ops));

    a = json_array();
    if (r->nhosts == 0) {
        json_array_append_new(a, json_string("*"));
    }
    for (i = 0; i < r->nhosts; i++) {
        json_array_append_new(a, hoopctl_json_str(r->hosts[i].text));
    }
    json_object_set_new(j, "hosts", a);

    if (r->valid_from != HOOP_POLICY_TIME_MIN) {
        json_object_set_new(j, "valid_from",
            json_string(hoopctl_iso_time(r->valid_from, buf, sizeof(buf))));
    }

    if (r->valid_until != HOOP_POLICY_TIME_MAX) {
        json_object_set_new(j, "valid_until",
            json_string(hoopctl_iso_time(r->valid_until, buf, sizeof(buf))));
    }

    if (r->reviewed_by != NULL) {
        json_object_set_new(j, "reviewed_by",
                            hoopctl_json_str(r->reviewed_by));
    }

    if (r->reviewed_at != NULL) {
        json_object_set_new(j, "reviewed_at",
                            hoopctl_json_str(r->reviewed_at));
    }

    if (r->reason != NULL) {
        json_object_set_new(j, "reason", hoopctl_json_str(r->reason));
    }

    if (r->approval != NULL) {
        json_object_set_new(j, "approval", hoopctl_approval_json(r->approval));
    }

    return j;
}


json_t *
hoopctl_approval_json(const hoop_policy_approval_t *ap)
{
    size_t   i;
    json_t  *j, *a;
    char     buf[32];

    j = json_object();
    a = json_array();

    for (i = 0; i < ap->napprovers; i++) {
        json_array_append_new(a, hoopctl_json_str(ap->approvers[i]));
    }

    json_object_set_new(j, "approvers", a);
    json_object_set_new(j, "grant_duration", json_string(
        hoop_policy_duration_format(ap->grant_ms, buf, sizeof(buf))));
    json_object_set_new(j, "hold", json_string(
        hoop_policy_duration_format(ap->hold_ms, buf, sizeof(buf))));
    json_object_set_new(j, "expire_after", json_string(
        hoop_policy_duration_format(ap->expire_ms, buf, sizeof(buf))));
    json_object_set_new(j, "allow_self_approval",
                        json_boolean(ap->allow_self_approval));

    return j;
}


void
hoopctl_approval_text(hoopctl_buf_t *b, const hoop_policy_approval_t *ap)
{
    size_t  i;
    char    buf[32];

    if (ap == NULL) {
        hoopctl_buf_adds(b, "-");
        return;
    }

    hoopctl_buf_adds(b, "by ");

    for (i = 0; i < ap->napprovers; i++) {
        if (i > 0) {
            hoopctl_buf_adds(b, ", ");
        }
        hoopctl_buf_add_clean(b, ap->approvers[i], strlen(ap->approvers[i]));
    }

    hoopctl_buf_printf(b, "; grant %s",
                       hoop_policy_duration_format(ap->grant_ms, buf,
                                                   sizeof(buf)));
    hoopctl_buf_printf(b, ", hold %s",
                       hoop_policy_duration_format(ap->hold_ms, buf,
                                                   sizeof(buf)));
    hoopctl_buf_printf(b, ", expire after %s",
                       hoop_policy_duration_format(ap->expire_ms, buf,
                                                   sizeof(buf)));
    hoopctl_buf_adds(b, ap->allow_self_approval ? ", self-approval allowed"
                                                : "");
}
