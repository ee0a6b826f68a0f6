/*
 * approval_args: what the data path sends to Redis for an approval, for
 * t/100-approvals-redis.t (which sends it to a real Redis): the policy
 * decision (hoop_policy_check_approval()) and the EVALSHA argument list
 * src/approval builds, as one JSON object on standard output.
 *
 *   approval_args request POLICY PREFIX PRINCIPAL GROUPS TYPE NAME OP
 *                 [SUMMARY]
 *       {"decision":"approval needed","rule":"prod-writes",
 *        "hold_ms":25000,"id":"...","argv":["EVALSHA",...]}
 *       (no "argv" when the decision is not "approval needed")
 *   approval_args status PREFIX ID
 *   approval_args decide PREFIX ID approve|deny APPROVER GROUPS REASON
 *   approval_args revoke PREFIX ID REVOKER GROUPS REASON
 *   approval_args expire PREFIX MAX RETENTION_S
 *       {"argv":[...]}
 *
 * A leading "--audit KEY" appends the audit stream argument
 * (hoop_approval_cmd_audit()) to request, decide, revoke and expire.
 *
 * GROUPS: comma-separated names ("" for none).  Exit 0, 1 when an
 * argument cannot be sent (the builder refused it), 2 on usage errors.
 * Built by approval.mk (build/approval_args), not part of "check".
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "hoop_policy.h"
#include "hoop_approval.h"


#define MAX_GROUPS  16


static hoop_policy_str_t
str(const char *s)
{
    hoop_policy_str_t  v;

    v.data = s;
    v.len = strlen(s);

    return v;
}


static size_t
split(char *list, hoop_policy_str_t *out)
{
    size_t  n;
    char   *g, *save;

    n = 0;

    for (g = strtok_r(list, ",", &save); g && n < MAX_GROUPS;
         g = strtok_r(NULL, ",", &save))
    {
        out[n++] = str(g);
    }

    return n;
}


static char *
slurp(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf;
    size_t   size;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    size = 16 * 1024 * 1024;
    buf = malloc(size + 1);
    if (buf) {
        *len = fread(buf, 1, size, f);
        buf[*len] = '\0';
    }

    fclose(f);

    return buf;
}


static void
print(json_t *o, const hoop_approval_cmd_t *cmd)
{
    int      i;
    char    *text;
    json_t  *a;

    if (cmd) {
        a = json_array();
        for (i = 0; i < cmd->argc; i++) {
            json_array_append_new(a, json_stringn(cmd->argv[i],
                                                  cmd->argvlen[i]));
        }
        json_object_set_new(o, "argv", a);
    }

    text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    puts(text);
    free(text);
    json_decref(o);
}


int
main(int argc, char **argv)
{
    int                       rc;
    char                     *text, *endp;
    size_t                    len, ngroups;
    json_t                   *o;
    unsigned long             max, retention;
    hoop_policy_t            *p;
    hoop_policy_str_t         groups[MAX_GROUPS];
    hoop_policy_decision_t    d;
    hoop_policy_request_t     req;
    hoop_approval_cmd_t       cmd;
    hoop_approval_request_t   r;
    const char               *audit;

    audit = "";

    if (argc >= 3 && strcmp(argv[1], "--audit") == 0) {
        audit = argv[2];
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }

    if (argc >= 9 && strcmp(argv[1], "request") == 0) {
        text = slurp(argv[2], &len);
        if (text == NULL) {
            perror(argv[2]);
            return 2;
        }

        p = hoop_policy_compile(text, len, NULL, 0, NULL);
        free(text);
        if (p == NULL) {
            fprintf(stderr, "%s: does not compile\n", argv[2]);
            return 2;
        }

        ngroups = split(argv[5], groups);

        memset(&req, 0, sizeof(req));
        req.principal = str(argv[4]);
        req.groups = groups;
        req.ngroups = ngroups;
        req.resource = hoop_policy_res_parse(argv[6], strlen(argv[6]));
        req.name = str(argv[7]);
        req.op = hoop_policy_op_parse(argv[8], strlen(argv[8]));
        req.now = (int64_t) time(NULL);

        rc = hoop_policy_check_approval(p, &req, &d);

        o = json_object();
        json_object_set_new(o, "decision", json_string(d.text));
        json_object_set_new(o, "rule", d.rule_id ? json_string(d.rule_id)
                                                 : json_null());

        if (rc != HOOP_POLICY_NEEDS_APPROVAL) {
            print(o, NULL);
            hoop_policy_free(p);
            return 0;
        }

        json_object_set_new(o, "hold_ms",
                            json_integer(d.rule->approval->hold_ms));

        memset(&r, 0, sizeof(r));
        r.principal = req.principal;
        r.groups = groups;
        r.ngroups = ngroups;
        r.resource = req.resource;
        r.name = req.name;
        r.op = req.op;
        r.rule = d.rule;
        if (argc > 9) {
            r.summary = str(argv[9]);
        }

        if (hoop_approval_cmd_request(&cmd, str(argv[3]), &r,
                                      HOOP_APPROVAL_RETENTION) != 0
            || hoop_approval_cmd_audit(&cmd, str(audit)) != 0)
        {
            json_decref(o);
            hoop_policy_free(p);
            fprintf(stderr, "the request cannot be sent\n");
            return 1;
        }

        json_object_set_new(o, "id", json_string(cmd.id));
        print(o, &cmd);
        hoop_approval_cmd_free(&cmd);
        hoop_policy_free(p);

        return 0;
    }

    if (argc == 4 && strcmp(argv[1], "status") == 0) {
        if (hoop_approval_cmd_status(&cmd, str(argv[2]), argv[3]) != 0) {
            return 1;
        }

    } else if (argc == 8 && strcmp(argv[1], "decide") == 0) {
        ngroups = split(argv[6], groups);

        if (hoop_approval_cmd_decide(&cmd, str(argv[2]), argv[3],
                                     strcmp(argv[4], "approve") == 0,
                                     str(argv[5]), groups, ngroups,
                                     str(argv[7]), HOOP_APPROVAL_RETENTION)
            != 0
            || hoop_approval_cmd_audit(&cmd, str(audit)) != 0)
        {
            return 1;
        }

    } else if (argc == 7 && strcmp(argv[1], "revoke") == 0) {
        ngroups = split(argv[5], groups);

        if (hoop_approval_cmd_revoke(&cmd, str(argv[2]), argv[3],
                                     str(argv[4]), groups, ngroups,
                                     str(argv[6]), HOOP_APPROVAL_RETENTION)
            != 0
            || hoop_approval_cmd_audit(&cmd, str(audit)) != 0)
        {
            return 1;
        }

    } else if (argc == 5 && strcmp(argv[1], "expire") == 0) {
        max = strtoul(argv[3], &endp, 10);
        retention = strtoul(argv[4], &endp, 10);

        if (hoop_approval_cmd_expire(&cmd, str(argv[2]), (unsigned) max,
                                     (unsigned) retention) != 0
            || hoop_approval_cmd_audit(&cmd, str(audit)) != 0)
        {
            return 1;
        }

    } else {
        fprintf(stderr, "usage: approval_args [--audit KEY] request POLICY "
                "PREFIX PRINCIPAL GROUPS TYPE NAME OP [SUMMARY] | status PREFIX "
                "ID | decide PREFIX ID approve|deny APPROVER GROUPS REASON "
                "| revoke PREFIX ID REVOKER GROUPS REASON | expire PREFIX "
                "MAX RETENTION_S\n");
        return 2;
    }

    print(json_object(), &cmd);
    hoop_approval_cmd_free(&cmd);

    return 0;
}
