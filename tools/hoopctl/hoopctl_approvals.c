/*
 * hoopctl approvals: the approvals of high-risk requests the gateway holds
 * (docs/approvals.md): list them, show one, approve or deny it as a named
 * person, end a just-in-time grant early, follow the notification stream.
 *
 *   hoopctl approvals list [--all] [--json]
 *   hoopctl approvals show ID [--json]
 *   hoopctl approvals approve ID --as PRINCIPAL [--groups A,B]
 *                             [--reason TEXT] [--json]
 *   hoopctl approvals deny ID --as PRINCIPAL [--groups A,B] --reason TEXT
 *                          [--json]
 *   hoopctl approvals revoke ID --as PRINCIPAL [--groups A,B]
 *                            [--reason TEXT] [--json]
 *   hoopctl approvals watch [--all] [--count N] [--json]
 *   hoopctl approvals expire [--json]
 *
 * Every change goes through the approval script (src/approval/
 * hoop_approval.lua, the one the gateway runs): it checks the approvers
 * recorded with the approval and self-approval atomically.  approve and
 * deny check the current policy in Redis too, when it still has the
 * approval's rule; revoke trusts the recorded approvers (and lets the
 * principal give its own grant up): ending access early never widens it.
 * Exit status: 0 done, 1 refused (not an approver, self-approval,
 * decided already, expired, no active grant, unknown id), 2 usage or
 * Redis.
 */

#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "hoopctl.h"
#include "../../src/approval/hoop_approval.h"


#define HOOPCTL_P_AS          0x0001
#define HOOPCTL_P_GROUPS      0x0002
#define HOOPCTL_P_REASON      0x0004
#define HOOPCTL_P_ALL         0x0008
#define HOOPCTL_P_COUNT       0x0010
#define HOOPCTL_P_RETENTION   0x0020
#define HOOPCTL_P_JSON        0x0040
#define HOOPCTL_P_GLOBAL      0x0080     /* --redis, --prefix */
#define HOOPCTL_P_STREAM      0x0100

#define HOOPCTL_P_MAX_GROUPS  64
#define HOOPCTL_P_BLOCK       "1000"     /* watch: XREAD BLOCK, ms */


typedef struct {
    hoopctl_store_t              s;
    const char                  *redis;
    const char                  *prefix;
    const char                  *as;
    const char                  *groups;
    const char                  *reason;
    const char                  *id;
    const char                  *stream;      /* --stream: "audit" */
    char                        *audit_key;   /* PREFIX stream, or NULL */
    unsigned                     count;
    unsigned                     retention_s;
    unsigned                     given;        /* HOOPCTL_P_* */
    int                          all;
    int                          json;
} hoopctl_appr_t;


typedef struct {
    const char                  *name;
    int                        (*run)(hoopctl_appr_t *a);
    int                          needs_id;
    unsigned                     allowed;      /* HOOPCTL_P_* */
    const char                  *usage;
} hoopctl_appr_command_t;


static int hoopctl_appr_list(hoopctl_appr_t *a);
static int hoopctl_appr_show(hoopctl_appr_t *a);
static int hoopctl_appr_approve(hoopctl_appr_t *a);
static int hoopctl_appr_deny(hoopctl_appr_t *a);
static int hoopctl_appr_revoke(hoopctl_appr_t *a);
static int hoopctl_appr_watch(hoopctl_appr_t *a);
static int hoopctl_appr_expire(hoopctl_appr_t *a);


static const hoopctl_appr_command_t  hoopctl_appr_commands[] = {
    { "list", hoopctl_appr_list, 0,
      HOOPCTL_P_ALL | HOOPCTL_P_RETENTION | HOOPCTL_P_JSON
      | HOOPCTL_P_STREAM,
      "approvals list [--all] [--json]" },
    { "show", hoopctl_appr_show, 1, HOOPCTL_P_JSON | HOOPCTL_P_STREAM,
      "approvals show ID [--json]" },
    { "approve", hoopctl_appr_approve, 1,
      HOOPCTL_P_AS | HOOPCTL_P_GROUPS | HOOPCTL_P_REASON
      | HOOPCTL_P_RETENTION | HOOPCTL_P_JSON | HOOPCTL_P_STREAM,
      "approvals approve ID --as PRINCIPAL [--groups A,B] [--reason TEXT]"
      "\n                          [--json]" },
    { "deny", hoopctl_appr_deny, 1,
      HOOPCTL_P_AS | HOOPCTL_P_GROUPS | HOOPCTL_P_REASON
      | HOOPCTL_P_RETENTION | HOOPCTL_P_JSON | HOOPCTL_P_STREAM,
      "approvals deny ID --as PRINCIPAL [--groups A,B] --reason TEXT "
      "[--json]" },
    { "revoke", hoopctl_appr_revoke, 1,
      HOOPCTL_P_AS | HOOPCTL_P_GROUPS | HOOPCTL_P_REASON
      | HOOPCTL_P_RETENTION | HOOPCTL_P_JSON | HOOPCTL_P_STREAM,
      "approvals revoke ID --as PRINCIPAL [--groups A,B] [--reason TEXT]"
      "\n                          [--json]" },
    { "watch", hoopctl_appr_watch, 0,
      HOOPCTL_P_ALL | HOOPCTL_P_COUNT | HOOPCTL_P_JSON,
      "approvals watch [--all] [--count N] [--json]" },
    { "expire", hoopctl_appr_expire, 0,
      HOOPCTL_P_RETENTION | HOOPCTL_P_JSON | HOOPCTL_P_STREAM,
      "approvals expire [--json]" },
    { NULL, NULL, 0, 0, NULL }
};


static const struct {
    const char                  *name;
    unsigned                     bit;
} hoopctl_appr_option_names[] = {
    { "--as", HOOPCTL_P_AS },
    { "--groups", HOOPCTL_P_GROUPS },
    { "--reason", HOOPCTL_P_REASON },
    { "--all", HOOPCTL_P_ALL },
    { "--count", HOOPCTL_P_COUNT },
    { "--retention", HOOPCTL_P_RETENTION },
    { "--json", HOOPCTL_P_JSON },
    { "--stream", HOOPCTL_P_STREAM },
    { NULL, 0 }
};


/* the fields of an approval, in this order (docs/approvals.md) */
static const struct {
    const char                  *name;
    char                         kind;   /* s string, n number, j JSON,
                                            b boolean "0"/"1" */
} hoopctl_appr_fields[] = {
    { "id", 's' }, { "state", 's' }, { "principal", 's' },
    { "groups", 'j' }, { "resource_type", 's' }, { "resource", 's' },
    { "operation", 's' }, { "rule", 's' }, { "approvers", 'j' },
    { "allow_self_approval", 'b' }, { "created_ms", 'n' },
    { "expires_ms", 'n' }, { "grant_ms", 'n' }, { "requests", 'n' },
    { "decided_ms", 'n' }, { "decided_by", 's' }, { "decided_groups", 'j' },
    { "reason", 's' }, { "grant_until_ms", 'n' }, { "request", 'j' },
    { "revoked_ms", 'n' }, { "revoked_by", 's' }, { "revoked_groups", 'j' },
    { "revoke_reason", 's' }, { "v", 'n' }, { NULL, 0 }
};


static volatile sig_atomic_t  hoopctl_appr_stop;


/* --stream NAME: printable ASCII without blanks, or "" (no audit) */
static int
hoopctl_appr_stream_ok(const char *s)
{
    size_t  n;

    for (n = 0; s[n]; n++) {
        if (n >= HOOPCTL_MAX_PREFIX || s[n] <= ' ' || s[n] > '~') {
            return -1;
        }
    }

    return 0;
}


static void
hoopctl_appr_usage(FILE *f)
{
    const hoopctl_appr_command_t  *c;

    fputs("usage:\n", f);

    for (c = hoopctl_appr_commands; c->name; c++) {
        fprintf(f, "  hoopctl %s\n", c->usage);
    }

    fputs("\n  --as PRINCIPAL     who decides (\"carol\" or \"User:carol\"); "
          "recorded\n"
          "  --groups A,B       the groups of that person (approvers may "
          "be groups)\n"
          "  --retention DAYS   keep decided approvals and events that long "
          "(default 7)\n"
          "  --reason TEXT      why (deny: required, the requester sees it; "
          "revoke: optional)\n"
          "  --stream NAME      the audit stream the steps also go to, key "
          "PREFIX NAME\n"
          "                     (default \"audit\"; \"\": none); all but "
          "watch\n"
          "  also --redis HOST:PORT, --prefix PREFIX (hoopctl --help); "
          "docs/approvals.md\n"
          "exit status: 0 done, 1 refused (not an approver, self-approval, "
          "decided,\n  expired, no active grant to revoke, unknown id), 2 "
          "usage or Redis errors\n", f);
}


static void
hoopctl_appr_on_signal(int signo)
{
    (void) signo;
    hoopctl_appr_stop = 1;
}


static hoop_policy_str_t
hoopctl_appr_str(const char *s)
{
    hoop_policy_str_t  v;

    v.data = s;
    v.len = s ? strlen(s) : 0;

    return v;
}


/* ----------------------------------------------------------------------
 * Redis
 */

/* one plain command; NULL (printed) on a transport or error reply */
static redisReply *
hoopctl_appr_run(hoopctl_appr_t *a, int argc, const char **argv)
{
    redisReply  *r;

    r = redisCommandArgv(a->s.ctx, argc, argv, NULL);

    if (r == NULL) {
        hoopctl_error("Redis at %s: %s", a->s.where,
                      a->s.ctx->errstr[0] ? a->s.ctx->errstr : "no answer");
        return NULL;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        hoopctl_error("Redis at %s: %s: %.*s", a->s.where, argv[0],
                      (int) r->len, r->str);
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


/*
 * One call of the approval script: loaded (SCRIPT LOAD) when Redis does
 * not have it.  The reply, error replies included; NULL (printed) on a
 * transport error.
 */
static redisReply *
hoopctl_appr_eval(hoopctl_appr_t *a, hoop_approval_cmd_t *cmd)
{
    int           again;
    size_t        len;
    const char   *argv[3];
    size_t        lens[3];
    redisReply   *r, *l;

    for (again = 0; ; again++) {
        r = redisCommandArgv(a->s.ctx, cmd->argc, cmd->argv, cmd->argvlen);

        if (r == NULL) {
            hoopctl_error("Redis at %s: %s", a->s.where,
                          a->s.ctx->errstr[0] ? a->s.ctx->errstr
                                              : "no answer");
            return NULL;
        }

        if (again || r->type != REDIS_REPLY_ERROR
            || strncmp(r->str, "NOSCRIPT", 8) != 0)
        {
            return r;
        }

        freeReplyObject(r);

        argv[0] = "SCRIPT";
        lens[0] = 6;
        argv[1] = "LOAD";
        lens[1] = 4;
        argv[2] = hoop_approval_script(&len);
        lens[2] = len;

        l = redisCommandArgv(a->s.ctx, 3, argv, lens);
        if (l == NULL || l->type != REDIS_REPLY_STRING
            || strcmp(l->str, hoop_approval_script_sha1()) != 0)
        {
            hoopctl_error("Redis at %s: SCRIPT LOAD of the approval script "
                          "failed%s%.*s", a->s.where,
                          l && l->type == REDIS_REPLY_ERROR ? ": " : "",
                          l && l->type == REDIS_REPLY_ERROR ? (int) l->len
                                                            : 0,
                          l && l->type == REDIS_REPLY_ERROR ? l->str : "");
            if (l) {
                freeReplyObject(l);
            }
            return NULL;
        }

        freeReplyObject(l);
    }
}


/* a hash field as JSON of its kind */
static json_t *
hoopctl_appr_value(char kind, const char *s, size_t len)
{
    json_t     *j;
    char        buf[24], *end;
    long long   v;

    switch (kind) {

    case 'n':
        if (len > 0 && len < sizeof(buf)) {
            memcpy(buf, s, len);
            buf[len] = '\0';
            v = strtoll(buf, &end, 10);
            if (*end == '\0') {
                return json_integer(v);
            }
        }
        break;

    case 'b':
        if (len == 1 && (s[0] == '0' || s[0] == '1')) {
            return json_boolean(s[0] == '1');
        }
        break;

    case 'j':
        j = json_loadb(s, len, JSON_DECODE_ANY, NULL);
        if (j) {
            return j;
        }
        break;
    }

    return hoopctl_json_strn(s, len);
}


/*
 * An HGETALL reply of P approval:<id> as a JSON object, the fields in
 * their documented order (unknown ones after, as strings); NULL when the
 * hash is empty (no such approval).
 */
static json_t *
hoopctl_appr_object(const redisReply *r)
{
    size_t             i, k;
    json_t            *o;
    const redisReply  *f, *v;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        return NULL;
    }

    o = json_object();

    for (k = 0; hoopctl_appr_fields[k].name; k++) {
        for (i = 0; i + 1 < r->elements; i += 2) {
            f = r->element[i];
            v = r->element[i + 1];

            if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING
                && strcmp(f->str, hoopctl_appr_fields[k].name) == 0)
            {
                json_object_set_new(o, hoopctl_appr_fields[k].name,
                                    hoopctl_appr_value(
                                        hoopctl_appr_fields[k].kind,
                                        v->str, v->len));
                break;
            }
        }
    }

    for (i = 0; i + 1 < r->elements; i += 2) {
        f = r->element[i];
        v = r->element[i + 1];

        if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING
            && json_object_get(o, f->str) == NULL)
        {
            json_object_set_new(o, f->str, hoopctl_json_strn(v->str, v->len));
        }
    }

    if (json_object_get(o, "id") == NULL) {
        json_decref(o);
        return NULL;
    }

    return o;
}


/* PREFIX "approval:" id, allocated */
static char *
hoopctl_appr_key(hoopctl_appr_t *a, const char *id, size_t len)
{
    hoopctl_buf_t  b = { NULL, 0, 0 };

    hoopctl_buf_adds(&b, a->prefix);
    hoopctl_buf_adds(&b, "approval:");
    hoopctl_buf_add(&b, id, len);

    return b.data;
}


/* P approval:<id> as JSON; NULL with *rc HOOPCTL_NO (none) or _ERROR */
static json_t *
hoopctl_appr_load(hoopctl_appr_t *a, const char *id, int *rc)
{
    char        *key;
    json_t      *o;
    const char  *argv[2];
    redisReply  *r;

    key = hoopctl_appr_key(a, id, strlen(id));

    argv[0] = "HGETALL";
    argv[1] = key;

    r = hoopctl_appr_run(a, 2, argv);
    free(key);

    if (r == NULL) {
        *rc = HOOPCTL_ERROR;
        return NULL;
    }

    o = hoopctl_appr_object(r);
    freeReplyObject(r);

    *rc = o ? HOOPCTL_OK : HOOPCTL_NO;

    return o;
}


/* milliseconds left on the approval's grant (P jit:...), 0 when none */
static long long
hoopctl_appr_grant_left(hoopctl_appr_t *a, json_t *o)
{
    long long             left;
    hoop_approval_cmd_t   cmd;
    redisReply           *r;
    hoop_approval_reply_t  rep;

    if (!json_is_string(json_object_get(o, "state"))
        || strcmp(json_string_value(json_object_get(o, "state")),
                  "approved") != 0)
    {
        return 0;
    }

    if (hoop_approval_cmd_status(&cmd, hoopctl_appr_str(a->prefix),
                                 json_string_value(json_object_get(o, "id")))
        != 0)
    {
        return 0;
    }

    r = hoopctl_appr_eval(a, &cmd);
    hoop_approval_cmd_free(&cmd);

    left = 0;

    if (r && hoop_approval_reply_parse(r, &rep) == HOOP_APPROVAL_OK
        && rep.state == HOOP_APPROVAL_APPROVED)
    {
        left = rep.ms;
    }

    if (r) {
        freeReplyObject(r);
    }

    return left;
}


/* ----------------------------------------------------------------------
 * Text
 */

/* "9m58s", "1h", "2d3h", "450ms" */
static void
hoopctl_appr_duration(hoopctl_buf_t *b, long long ms)
{
    long long  s;

    if (ms < 1000) {
        hoopctl_buf_printf(b, "%lldms", ms < 0 ? 0 : ms);
        return;
    }

    s = ms / 1000;

    if (s >= 86400) {
        hoopctl_buf_printf(b, "%lldd", s / 86400);
        s %= 86400;
        if (s >= 3600) {
            hoopctl_buf_printf(b, "%lldh", s / 3600);
        }
        return;
    }

    if (s >= 3600) {
        hoopctl_buf_printf(b, "%lldh", s / 3600);
        s %= 3600;
        if (s >= 60) {
            hoopctl_buf_printf(b, "%lldm", s / 60);
        }
        return;
    }

    if (s >= 60) {
        hoopctl_buf_printf(b, "%lldm", s / 60);
        s %= 60;
    }

    if (s || ms < 60000) {
        hoopctl_buf_printf(b, "%llds", s);
    }
}


static const char *
hoopctl_appr_get(json_t *o, const char *key)
{
    json_t  *v;

    v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}


static long long
hoopctl_appr_getn(json_t *o, const char *key)
{
    json_t  *v;

    v = json_object_get(o, key);

    return json_is_integer(v) ? (long long) json_integer_value(v) : 0;
}


static void
hoopctl_appr_add(hoopctl_buf_t *b, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        hoopctl_buf_adds(b, "-");
        return;
    }

    hoopctl_buf_add_clean(b, s, strlen(s));
}


static void
hoopctl_appr_table(hoopctl_buf_t *cells, size_t rows, size_t cols)
{
    size_t  i, k, *w;

    w = hoopctl_alloc(cols * sizeof(size_t));

    for (k = 0; k < cols; k++) {
        w[k] = 0;
        for (i = 0; i < rows; i++) {
            if (cells[i * cols + k].len > w[k]) {
                w[k] = cells[i * cols + k].len;
            }
        }
    }

    for (i = 0; i < rows; i++) {
        for (k = 0; k < cols; k++) {
            if (k == cols - 1) {
                printf("%s\n", hoopctl_buf_str(&cells[i * cols + k]));
            } else {
                printf("%-*s  ", (int) w[k],
                       hoopctl_buf_str(&cells[i * cols + k]));
            }
            hoopctl_buf_free(&cells[i * cols + k]);
        }
    }

    free(w);
}


/* "topic:prod.orders" */
static void
hoopctl_appr_resource(hoopctl_buf_t *b, json_t *o)
{
    hoopctl_appr_add(b, hoopctl_appr_get(o, "resource_type"));
    hoopctl_buf_adds(b, ":");
    hoopctl_appr_add(b, hoopctl_appr_get(o, "resource"));
}


/* ----------------------------------------------------------------------
 * list, show
 */

static int
hoopctl_appr_sweep(hoopctl_appr_t *a, redisReply **out)
{
    hoop_approval_cmd_t  cmd;
    redisReply          *r;
    hoop_approval_reply_t  rep;

    if (out) {
        *out = NULL;
    }

    if (hoop_approval_cmd_expire(&cmd, hoopctl_appr_str(a->prefix),
                                 HOOP_APPROVAL_EXPIRE_BATCH, a->retention_s)
        != 0
        || hoop_approval_cmd_audit(&cmd, hoopctl_appr_str(a->audit_key)) != 0)
    {
        hoopctl_error("bad --prefix for the approval script");
        return HOOPCTL_ERROR;
    }

    r = hoopctl_appr_eval(a, &cmd);
    hoop_approval_cmd_free(&cmd);

    if (r == NULL) {
        return HOOPCTL_ERROR;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        (void) hoop_approval_reply_parse(r, &rep);
        hoopctl_error("Redis at %s: the approval script: %.*s", a->s.where,
                      (int) rep.message.len, rep.message.data
                      ? rep.message.data : "unexpected reply");
        freeReplyObject(r);
        return HOOPCTL_ERROR;
    }

    if (out) {
        *out = r;
    } else {
        freeReplyObject(r);
    }

    return HOOPCTL_OK;
}


static int
hoopctl_appr_list(hoopctl_appr_t *a)
{
    int              rc;
    size_t           i, n, rows;
    char            *index, *key;
    json_t          *out, *o;
    int64_t          now;
    const char      *argv[4], *state;
    redisReply      *ids, *r;
    hoopctl_buf_t   *cells;

    static const char  *heads[] = {
        "ID", "STATE", "PRINCIPAL", "OPERATION", "RESOURCE", "RULE",
        "REQUESTED", "LEFT", "REQUESTS", "BY"
    };

#define HOOPCTL_P_COLS  (sizeof(heads) / sizeof(heads[0]))

    if (hoopctl_appr_sweep(a, NULL) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    index = hoopctl_store_key(&a->s, a->all ? "approvals:all"
                                            : "approvals:pending", 0);
    argv[0] = "ZRANGE";
    argv[1] = index;
    argv[2] = "0";
    argv[3] = "-1";

    ids = hoopctl_appr_run(a, 4, argv);
    free(index);

    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
        if (ids) {
            freeReplyObject(ids);
        }
        return HOOPCTL_ERROR;
    }

    /* every hash in one round trip */

    for (i = 0; i < ids->elements; i++) {
        key = hoopctl_appr_key(a, ids->element[i]->str,
                               ids->element[i]->len);
        redisAppendCommand(a->s.ctx, "HGETALL %s", key);
        free(key);
    }

    out = json_array();
    rc = HOOPCTL_OK;

    for (i = 0; i < ids->elements; i++) {
        if (redisGetReply(a->s.ctx, (void **) &r) != REDIS_OK || r == NULL) {
            hoopctl_error("Redis at %s: %s", a->s.where,
                          a->s.ctx->errstr[0] ? a->s.ctx->errstr
                                              : "no answer");
            json_decref(out);
            freeReplyObject(ids);
            return HOOPCTL_ERROR;
        }

        o = hoopctl_appr_object(r);
        freeReplyObject(r);

        if (o) {
            json_array_append_new(out, o);
        }
    }

    freeReplyObject(ids);

    n = json_array_size(out);

    if (a->json) {
        for (i = 0; i < n; i++) {
            o = json_array_get(out, i);
            if (a->all) {
                json_object_set_new(o, "grant_left_ms",
                                    json_integer(hoopctl_appr_grant_left(a,
                                                                         o)));
            }
        }

        hoopctl_json_print(out);
        return rc;
    }

    if (n == 0) {
        printf(a->all ? "no approvals (within the retention)\n"
                      : "no pending approvals\n");
        json_decref(out);
        return rc;
    }

    printf("%zu %sapproval%s\n", n, a->all ? "" : "pending ",
           n == 1 ? "" : "s");

    rows = n + 1;
    cells = hoopctl_alloc(rows * HOOPCTL_P_COLS * sizeof(hoopctl_buf_t));
    memset(cells, 0, rows * HOOPCTL_P_COLS * sizeof(hoopctl_buf_t));

    for (i = 0; i < HOOPCTL_P_COLS; i++) {
        hoopctl_buf_adds(&cells[i], heads[i]);
    }

    now = hoopctl_now_ms();

    for (i = 0; i < n; i++) {
        hoopctl_buf_t  *c = &cells[(i + 1) * HOOPCTL_P_COLS];
        char            t[40];

        o = json_array_get(out, i);
        state = hoopctl_appr_get(o, "state");

        hoopctl_appr_add(&c[0], hoopctl_appr_get(o, "id"));
        hoopctl_appr_add(&c[1], state);
        hoopctl_appr_add(&c[2], hoopctl_appr_get(o, "principal"));
        hoopctl_appr_add(&c[3], hoopctl_appr_get(o, "operation"));
        hoopctl_appr_resource(&c[4], o);
        hoopctl_appr_add(&c[5], hoopctl_appr_get(o, "rule"));
        hoopctl_buf_adds(&c[6], hoopctl_audit_time(
                             hoopctl_appr_getn(o, "created_ms"), t,
                             sizeof(t)));

        if (state && strcmp(state, "pending") == 0) {
            hoopctl_appr_duration(&c[7],
                                  hoopctl_appr_getn(o, "expires_ms") - now);
        } else if (state && strcmp(state, "approved") == 0
                   && hoopctl_appr_grant_left(a, o) > 0)
        {
            hoopctl_buf_adds(&c[7], "grant ");
            hoopctl_appr_duration(&c[7], hoopctl_appr_grant_left(a, o));
        } else {
            hoopctl_buf_adds(&c[7], "-");
        }

        hoopctl_buf_printf(&c[8], "%lld", hoopctl_appr_getn(o, "requests"));
        hoopctl_appr_add(&c[9], hoopctl_appr_get(o, "decided_by"));
    }

    hoopctl_appr_table(cells, rows, HOOPCTL_P_COLS);
    free(cells);
    json_decref(out);

    return rc;
}


static int
hoopctl_appr_show(hoopctl_appr_t *a)
{
    int              rc;
    json_t          *o, *v;
    long long        left;
    const char      *key;
    char            *text, t[40];
    hoopctl_buf_t    b = { NULL, 0, 0 };

    (void) hoopctl_appr_sweep(a, NULL);

    o = hoopctl_appr_load(a, a->id, &rc);
    if (o == NULL) {
        if (rc == HOOPCTL_NO) {
            hoopctl_error("no approval %s (unknown, or past its retention)",
                          a->id);
        }
        return rc;
    }

    left = hoopctl_appr_grant_left(a, o);

    if (a->json) {
        json_object_set_new(o, "grant_left_ms", json_integer(left));
        hoopctl_json_print(o);
        return HOOPCTL_OK;
    }

    json_object_foreach(o, key, v) {
        if (strcmp(key, "v") == 0) {
            continue;
        }

        hoopctl_buf_printf(&b, "%-20s ", key);

        if (json_is_string(v)) {
            hoopctl_appr_add(&b, json_string_value(v));

        } else if (json_is_integer(v) && strlen(key) > 3
                   && strcmp(key + strlen(key) - 3, "_ms") == 0
                   && strcmp(key, "grant_ms") != 0)
        {
            hoopctl_buf_adds(&b, hoopctl_audit_time(json_integer_value(v),
                                                    t, sizeof(t)));

        } else if (strcmp(key, "grant_ms") == 0 && json_is_integer(v)) {
            hoopctl_appr_duration(&b, json_integer_value(v));

        } else {
            text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            hoopctl_appr_add(&b, text);
            free(text);
        }

        hoopctl_buf_adds(&b, "\n");
    }

    if (left > 0) {
        hoopctl_buf_printf(&b, "%-20s active, ", "grant");
        hoopctl_appr_duration(&b, left);
        hoopctl_buf_adds(&b, " left\n");
    }

    fputs(hoopctl_buf_str(&b), stdout);

    hoopctl_buf_free(&b);
    json_decref(o);

    return HOOPCTL_OK;
}


/* ----------------------------------------------------------------------
 * approve, deny
 */

/*
 * The current policy's rule of the approval, when there is one: the
 * approver must be listed there too (a rule changed since the request was
 * made counts as it is now).  HOOPCTL_OK to go on, HOOPCTL_NO refused
 * (printed), HOOPCTL_ERROR.
 */
static int
hoopctl_appr_policy_check(hoopctl_appr_t *a, json_t *o, int approve,
    const hoop_policy_str_t *groups, size_t ngroups)
{
    int                        rc;
    uint64_t                   n;
    unsigned                   errors;
    const char                *rule;
    hoop_policy_t             *p;
    hoopctl_version_t          v;
    hoop_policy_approver_t     ok;
    const hoop_policy_rule_t  *r;

    rc = hoopctl_store_current(&a->s, &n);
    if (rc == HOOPCTL_NO) {
        return HOOPCTL_OK;
    }

    if (rc != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    rc = hoopctl_store_version(&a->s, n, &v);
    if (rc != HOOPCTL_OK) {
        return rc == HOOPCTL_NO ? HOOPCTL_OK : HOOPCTL_ERROR;
    }

    p = hoopctl_compile("current policy", v.canonical.data, v.canonical.len,
                        HOOP_POLICY_FORMAT_JSON, 0, NULL, NULL, &errors,
                        NULL);
    hoopctl_version_free(&v);

    if (p == NULL) {
        hoopctl_error("warning: policy version %llu does not compile with "
                      "this hoopctl: the approvers recorded with the "
                      "approval decide", (unsigned long long) n);
        return HOOPCTL_OK;
    }

    rule = hoopctl_appr_get(o, "rule");
    r = rule ? hoop_policy_rule_find(p, rule, strlen(rule)) : NULL;

    if (r == NULL || r->approval == NULL) {
        hoopctl_error("warning: rule \"%s\" has no approval in policy "
                      "version %llu: the approvers recorded with the "
                      "approval decide", rule ? rule : "-",
                      (unsigned long long) n);
        hoop_policy_free(p);
        return HOOPCTL_OK;
    }

    ok = hoop_policy_approver_check(r, hoopctl_appr_str(a->as), groups,
                                    ngroups,
                                    hoopctl_appr_str(hoopctl_appr_get(o,
                                                     "principal")),
                                    !approve);
    hoop_policy_free(p);

    if (ok == HOOP_POLICY_APPROVER_NOT_LISTED) {
        hoopctl_error("%s is not an approver of rule \"%s\" in policy "
                      "version %llu", a->as, rule, (unsigned long long) n);
        return HOOPCTL_NO;
    }

    if (ok == HOOP_POLICY_APPROVER_SELF) {
        hoopctl_error("%s asked for approval %s: rule \"%s\" does not "
                      "allow self-approval", a->as, a->id, rule);
        return HOOPCTL_NO;
    }

    return HOOPCTL_OK;
}


/* approve (approve 1), deny (0) or revoke (HOOPCTL_P_REVOKE) */

#define HOOPCTL_P_REVOKE  2

static int
hoopctl_appr_decide(hoopctl_appr_t *a, int approve)
{
    int                    rc;
    size_t                 ngroups;
    char                  *copy, *g, *save;
    json_t                *o;
    char                   t[40];
    redisReply            *r;
    hoop_policy_str_t      groups[HOOPCTL_P_MAX_GROUPS];
    hoop_approval_cmd_t    cmd;
    hoop_approval_reply_t  rep;
    int                    revoke;

    revoke = (approve == HOOPCTL_P_REVOKE);

    if (a->as == NULL) {
        hoopctl_error("%s: --as PRINCIPAL is required (who decides; it is "
                      "recorded)", revoke ? "revoke"
                                          : approve ? "approve" : "deny");
        return HOOPCTL_ERROR;
    }

    if (strncmp(a->as, "User:", 5) == 0) {
        a->as += 5;
    }

    if (hoopctl_check_text(a->as, 1024) != 0) {
        hoopctl_error("bad --as: 1 to 1024 bytes of UTF-8 without control "
                      "characters");
        return HOOPCTL_ERROR;
    }

    if (!approve && (a->reason == NULL || a->reason[0] == '\0')) {
        hoopctl_error("deny: --reason TEXT is required (the requester sees "
                      "it)");
        return HOOPCTL_ERROR;
    }

    if (a->reason && a->reason[0]
        && hoopctl_check_text(a->reason, 4096) != 0)
    {
        hoopctl_error("bad --reason: at most 4096 bytes of UTF-8 without "
                      "control characters");
        return HOOPCTL_ERROR;
    }

    /* --groups a,b */

    ngroups = 0;
    copy = hoopctl_strndup(a->groups ? a->groups : "",
                           a->groups ? strlen(a->groups) : 0);

    for (g = strtok_r(copy, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
        if (ngroups == HOOPCTL_P_MAX_GROUPS
            || hoopctl_check_text(g, 1024) != 0)
        {
            hoopctl_error("bad --groups: at most %d names, comma-separated",
                          HOOPCTL_P_MAX_GROUPS);
            free(copy);
            return HOOPCTL_ERROR;
        }

        if (strncmp(g, "Group:", 6) == 0) {
            g += 6;
        }

        groups[ngroups++] = hoopctl_appr_str(g);
    }

    o = hoopctl_appr_load(a, a->id, &rc);
    if (o == NULL) {
        if (rc == HOOPCTL_NO) {
            hoopctl_error("no approval %s (unknown, or past its retention)",
                          a->id);
        }
        free(copy);
        return rc;
    }

    rc = revoke ? HOOPCTL_OK
                : hoopctl_appr_policy_check(a, o, approve, groups, ngroups);
    json_decref(o);

    if (rc != HOOPCTL_OK) {
        free(copy);
        return rc;
    }

    if ((revoke
         ? hoop_approval_cmd_revoke(&cmd, hoopctl_appr_str(a->prefix), a->id,
                                    hoopctl_appr_str(a->as), groups, ngroups,
                                    hoopctl_appr_str(a->reason),
                                    a->retention_s)
         : hoop_approval_cmd_decide(&cmd, hoopctl_appr_str(a->prefix), a->id,
                                    approve, hoopctl_appr_str(a->as), groups,
                                    ngroups, hoopctl_appr_str(a->reason),
                                    a->retention_s))
        != 0
        || hoop_approval_cmd_audit(&cmd, hoopctl_appr_str(a->audit_key)) != 0)
    {
        hoopctl_error("bad arguments for the approval script");
        free(copy);
        return HOOPCTL_ERROR;
    }

    r = hoopctl_appr_eval(a, &cmd);
    hoop_approval_cmd_free(&cmd);
    free(copy);

    if (r == NULL) {
        return HOOPCTL_ERROR;
    }

    switch (hoop_approval_reply_parse(r, &rep)) {

    case HOOP_APPROVAL_OK:
        break;

    case HOOP_APPROVAL_ERR_NOAPPROVAL:
    case HOOP_APPROVAL_ERR_DECIDED:
    case HOOP_APPROVAL_ERR_NOTAPPROVER:
    case HOOP_APPROVAL_ERR_SELF:
    case HOOP_APPROVAL_ERR_NOTACTIVE:
        hoopctl_error("refused: %.*s", (int) rep.message.len,
                      rep.message.data);
        freeReplyObject(r);
        return HOOPCTL_NO;

    default:
        hoopctl_error("Redis at %s: the approval script: %.*s", a->s.where,
                      (int) rep.message.len,
                      rep.message.data ? rep.message.data
                                       : "unexpected reply");
        freeReplyObject(r);
        return HOOPCTL_ERROR;
    }

    freeReplyObject(r);

    o = hoopctl_appr_load(a, a->id, &rc);

    if (a->json) {
        if (o == NULL) {
            o = json_object();
        }
        json_object_set_new(o, "repeated", json_boolean(rep.flag));
        hoopctl_json_print(o);
        return HOOPCTL_OK;
    }

    printf("%s %s%s", rep.state == HOOP_APPROVAL_APPROVED ? "approved"
                      : rep.state == HOOP_APPROVAL_REVOKED ? "revoked"
                                                           : "denied",
           a->id, rep.flag ? " (already, by you)" : "");

    if (o) {
        printf(": ");
        hoopctl_put_clean(stdout, hoopctl_appr_get(o, "principal"),
                          strlen(hoopctl_appr_get(o, "principal")));
        printf(" %s ", hoopctl_appr_get(o, "operation"));
        hoopctl_put_clean(stdout, hoopctl_appr_get(o, "resource_type"),
                          strlen(hoopctl_appr_get(o, "resource_type")));
        printf(":");
        hoopctl_put_clean(stdout, hoopctl_appr_get(o, "resource"),
                          strlen(hoopctl_appr_get(o, "resource")));

        if (rep.state == HOOP_APPROVAL_APPROVED) {
            printf(", granted until %s",
                   hoopctl_audit_time(hoopctl_appr_getn(o, "grant_until_ms"),
                                      t, sizeof(t)));

        } else if (rep.state == HOOP_APPROVAL_REVOKED) {
            printf(", grant ended at %s",
                   hoopctl_audit_time(hoopctl_appr_getn(o, "revoked_ms"),
                                      t, sizeof(t)));
        }

        json_decref(o);
    }

    printf("\n");

    return HOOPCTL_OK;
}


static int
hoopctl_appr_approve(hoopctl_appr_t *a)
{
    return hoopctl_appr_decide(a, 1);
}


static int
hoopctl_appr_deny(hoopctl_appr_t *a)
{
    return hoopctl_appr_decide(a, 0);
}


static int
hoopctl_appr_revoke(hoopctl_appr_t *a)
{
    return hoopctl_appr_decide(a, HOOPCTL_P_REVOKE);
}


static int
hoopctl_appr_expire(hoopctl_appr_t *a)
{
    size_t       i;
    json_t      *out;
    redisReply  *r;

    if (hoopctl_appr_sweep(a, &r) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    if (a->json) {
        out = json_array();
        for (i = 0; i < r->elements; i++) {
            json_array_append_new(out,
                                  hoopctl_json_strn(r->element[i]->str,
                                                    r->element[i]->len));
        }
        hoopctl_json_print(out);

    } else if (r->elements == 0) {
        printf("no overdue approvals\n");

    } else {
        printf("expired:");
        for (i = 0; i < r->elements; i++) {
            printf(" %.*s", (int) r->element[i]->len, r->element[i]->str);
        }
        printf("\n");
    }

    freeReplyObject(r);

    return HOOPCTL_OK;
}


/* ----------------------------------------------------------------------
 * watch: the stream P approvals:events
 */

static json_t *
hoopctl_appr_event(const redisReply *fields)
{
    size_t             i, k;
    json_t            *o;
    char               kind;
    const redisReply  *f, *v;

    o = json_object();

    for (i = 0; i + 1 < fields->elements; i += 2) {
        f = fields->element[i];
        v = fields->element[i + 1];

        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        kind = 's';
        for (k = 0; hoopctl_appr_fields[k].name; k++) {
            if (strcmp(hoopctl_appr_fields[k].name, f->str) == 0) {
                kind = hoopctl_appr_fields[k].kind;
            }
        }

        if (kind == 'b') {
            json_object_set_new(o, f->str,
                                json_boolean(v->len == 4
                                             && memcmp(v->str, "true", 4)
                                                == 0));
        } else {
            json_object_set_new(o, f->str,
                                hoopctl_appr_value(kind, v->str, v->len));
        }
    }

    return o;
}


static void
hoopctl_appr_event_line(hoopctl_buf_t *b, json_t *ev)
{
    char         t[40];
    const char  *s, *event;

    event = hoopctl_appr_get(ev, "event");
    event = event ? event : "";

    hoopctl_buf_adds(b, hoopctl_audit_time(
                         hoopctl_appr_getn(ev,
                             strcmp(event, "requested") == 0 ? "created_ms"
                             : strcmp(event, "revoked") == 0 ? "revoked_ms"
                                                             : "decided_ms"),
                         t, sizeof(t)));
    hoopctl_buf_adds(b, "  ");
    hoopctl_appr_add(b, event);
    hoopctl_buf_adds(b, "  ");
    hoopctl_appr_add(b, hoopctl_appr_get(ev, "id"));
    hoopctl_buf_adds(b, "  ");
    hoopctl_appr_add(b, hoopctl_appr_get(ev, "principal"));
    hoopctl_buf_adds(b, " ");
    hoopctl_appr_add(b, hoopctl_appr_get(ev, "operation"));
    hoopctl_buf_adds(b, " ");
    hoopctl_appr_resource(b, ev);
    hoopctl_buf_adds(b, "  rule=");
    hoopctl_appr_add(b, hoopctl_appr_get(ev, "rule"));

    s = hoopctl_appr_get(ev, "decided_by");
    if (s) {
        hoopctl_buf_adds(b, " by=");
        hoopctl_appr_add(b, s);
    }

    s = hoopctl_appr_get(ev, "reason");
    if (s && s[0]) {
        hoopctl_buf_adds(b, " reason=\"");
        hoopctl_appr_add(b, s);
        hoopctl_buf_adds(b, "\"");
    }

    s = hoopctl_appr_get(ev, "revoked_by");
    if (s) {
        hoopctl_buf_adds(b, " revoked_by=");
        hoopctl_appr_add(b, s);
    }

    s = hoopctl_appr_get(ev, "revoke_reason");
    if (s && s[0]) {
        hoopctl_buf_adds(b, " revoke_reason=\"");
        hoopctl_appr_add(b, s);
        hoopctl_buf_adds(b, "\"");
    }

    hoopctl_buf_adds(b, "\n");
}


static int
hoopctl_appr_watch(hoopctl_appr_t *a)
{
    int                 rc;
    size_t              i, seen;
    char               *stream, *last, *text;
    json_t             *ev;
    redisReply         *r, *entries, *e;
    struct sigaction    sa;
    hoopctl_buf_t       b;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = hoopctl_appr_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    stream = hoopctl_store_key(&a->s, "approvals:events", 0);
    last = hoopctl_strndup("0-0", 3);
    seen = 0;
    rc = HOOPCTL_OK;

    /* new events only: from the last entry now (not "$", which would
     * skip what arrives between two XREADs) */

    if (!a->all) {
        r = redisCommand(a->s.ctx, "XREVRANGE %s + - COUNT 1", stream);

        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            hoopctl_error("Redis at %s: XREVRANGE: %s", a->s.where,
                          r ? r->str : a->s.ctx->errstr);
            if (r) {
                freeReplyObject(r);
            }
            free(last);
            free(stream);
            return HOOPCTL_ERROR;
        }

        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1
            && r->element[0]->type == REDIS_REPLY_ARRAY
            && r->element[0]->elements == 2
            && r->element[0]->element[0]->type == REDIS_REPLY_STRING)
        {
            free(last);
            last = hoopctl_strndup(r->element[0]->element[0]->str,
                                   r->element[0]->element[0]->len);
        }

        freeReplyObject(r);
    }

    while (!hoopctl_appr_stop && (a->count == 0 || seen < a->count)) {
        r = redisCommand(a->s.ctx, "XREAD COUNT 100 BLOCK %s STREAMS %s %s",
                         HOOPCTL_P_BLOCK, stream, last);

        if (r == NULL) {
            if (hoopctl_appr_stop) {
                break;
            }
            hoopctl_error("Redis at %s: %s", a->s.where,
                          a->s.ctx->errstr[0] ? a->s.ctx->errstr
                                              : "no answer");
            rc = HOOPCTL_ERROR;
            break;
        }

        if (r->type == REDIS_REPLY_ERROR) {
            hoopctl_error("Redis at %s: XREAD: %.*s", a->s.where,
                          (int) r->len, r->str);
            freeReplyObject(r);
            rc = HOOPCTL_ERROR;
            break;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements != 1
            || r->element[0]->type != REDIS_REPLY_ARRAY
            || r->element[0]->elements != 2)
        {
            /* nil: nothing new within the block time */
            freeReplyObject(r);
            continue;
        }

        entries = r->element[0]->element[1];

        for (i = 0; i < entries->elements
                    && (a->count == 0 || seen < a->count); i++)
        {
            e = entries->element[i];

            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
                || e->element[0]->type != REDIS_REPLY_STRING
                || e->element[1]->type != REDIS_REPLY_ARRAY)
            {
                continue;
            }

            free(last);
            last = hoopctl_strndup(e->element[0]->str, e->element[0]->len);

            ev = hoopctl_appr_event(e->element[1]);
            json_object_set_new(ev, "stream_id",
                                hoopctl_json_strn(e->element[0]->str,
                                                  e->element[0]->len));

            if (a->json) {
                text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (text) {
                    printf("%s\n", text);
                    free(text);
                }

            } else {
                memset(&b, 0, sizeof(b));
                hoopctl_appr_event_line(&b, ev);
                fputs(hoopctl_buf_str(&b), stdout);
                hoopctl_buf_free(&b);
            }

            json_decref(ev);
            seen++;
        }

        fflush(stdout);
        freeReplyObject(r);
    }

    free(last);
    free(stream);

    return rc;
}


/* ----------------------------------------------------------------------
 * hoopctl approvals ...
 */

int
hoopctl_approvals(const char *redis, const char *prefix, int json, int argc,
    char **argv)
{
    int                             c, i, rc;
    unsigned                        bad, days;
    hoopctl_buf_t                   b;
    hoopctl_appr_t                  a;
    const hoopctl_appr_command_t   *cmd;

    enum {
        O_AS = 256, O_GROUPS, O_REASON, O_ALL, O_COUNT, O_RETENTION,
        O_REDIS, O_PREFIX, O_JSON, O_STREAM
    };

    static const struct option  longopts[] = {
        { "as", required_argument, NULL, O_AS },
        { "groups", required_argument, NULL, O_GROUPS },
        { "reason", required_argument, NULL, O_REASON },
        { "all", no_argument, NULL, O_ALL },
        { "count", required_argument, NULL, O_COUNT },
        { "retention", required_argument, NULL, O_RETENTION },
        { "stream", required_argument, NULL, O_STREAM },
        /* main() took their values already */
        { "redis", required_argument, NULL, O_REDIS },
        { "prefix", required_argument, NULL, O_PREFIX },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&a, 0, sizeof(a));
    a.redis = redis;
    a.prefix = prefix;
    a.json = json;
    a.retention_s = HOOP_APPROVAL_RETENTION;
    a.stream = "audit";

    optind = 0;          /* glibc: start over (main() parsed argv first) */
    opterr = 0;

    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {

        case O_AS:
            a.as = optarg;
            a.given |= HOOPCTL_P_AS;
            break;

        case O_GROUPS:
            a.groups = optarg;
            a.given |= HOOPCTL_P_GROUPS;
            break;

        case O_REASON:
            a.reason = optarg;
            a.given |= HOOPCTL_P_REASON;
            break;

        case O_ALL:
            a.all = 1;
            a.given |= HOOPCTL_P_ALL;
            break;

        case O_COUNT:
            if (hoopctl_parse_uint(optarg, 1000000, &a.count) != 0
                || a.count == 0)
            {
                hoopctl_error("bad --count \"%s\" (a number, 1..1000000)",
                              optarg);
                return HOOPCTL_ERROR;
            }
            a.given |= HOOPCTL_P_COUNT;
            break;

        case O_RETENTION:
            if (hoopctl_parse_uint(optarg, 3650, &days) != 0) {
                hoopctl_error("bad --retention \"%s\" (days, 0..3650; 0: "
                              "keep)", optarg);
                return HOOPCTL_ERROR;
            }
            a.retention_s = days * HOOPCTL_DAY;
            a.given |= HOOPCTL_P_RETENTION;
            break;

        case O_JSON:
            a.given |= HOOPCTL_P_JSON;
            break;

        case O_STREAM:
            if (hoopctl_appr_stream_ok(optarg) != 0) {
                hoopctl_error("bad --stream \"%s\": at most %d printable "
                              "ASCII characters, no blanks (\"\": no "
                              "audit)", optarg, HOOPCTL_MAX_PREFIX);
                return HOOPCTL_ERROR;
            }
            a.stream = optarg;
            a.given |= HOOPCTL_P_STREAM;
            break;

        case O_REDIS:
        case O_PREFIX:
            a.given |= HOOPCTL_P_GLOBAL;
            break;

        case 'h':
            hoopctl_appr_usage(stdout);
            return HOOPCTL_OK;

        case ':':
            hoopctl_error("%s needs a value", argv[optind - 1]);
            return HOOPCTL_ERROR;

        default:
            hoopctl_error("approvals: unknown option \"%s\" (hoopctl "
                          "approvals help)", argv[optind - 1]);
            return HOOPCTL_ERROR;
        }
    }

    /* what is left: "approvals", the subcommand, its ID */

    if (optind + 1 >= argc || strcmp(argv[optind], "approvals") != 0) {
        hoopctl_appr_usage(stderr);
        return HOOPCTL_ERROR;
    }

    if (strcmp(argv[optind + 1], "help") == 0) {
        hoopctl_appr_usage(stdout);
        return HOOPCTL_OK;
    }

    for (cmd = hoopctl_appr_commands; cmd->name; cmd++) {
        if (strcmp(cmd->name, argv[optind + 1]) == 0) {
            break;
        }
    }

    if (cmd->name == NULL) {
        /* the names from the table, so that the list cannot go stale */
        char                           names[128];
        size_t                         n;
        const hoopctl_appr_command_t  *c;

        names[0] = '\0';
        n = 0;

        for (c = hoopctl_appr_commands; c->name; c++) {
            n += snprintf(names + n, sizeof(names) - n, "%s%s",
                          n ? ", " : "", c->name);
            if (n >= sizeof(names)) {
                break;
            }
        }

        hoopctl_error("unknown approvals command \"%s\" (%s)",
                      argv[optind + 1], names);
        return HOOPCTL_ERROR;
    }

    if (argc - optind - 2 != cmd->needs_id) {
        hoopctl_error("usage: hoopctl %s", cmd->usage);
        return HOOPCTL_ERROR;
    }

    if (cmd->needs_id) {
        a.id = argv[optind + 2];

        if (!hoop_approval_id_valid(a.id, strlen(a.id))) {
            hoopctl_error("bad approval id \"%.64s\": %d characters a-z, "
                          "2-7", a.id, HOOP_APPROVAL_ID_LEN);
            return HOOPCTL_ERROR;
        }
    }

    bad = a.given & ~(cmd->allowed | HOOPCTL_P_GLOBAL);

    for (i = 0; bad && hoopctl_appr_option_names[i].name; i++) {
        if (bad & hoopctl_appr_option_names[i].bit) {
            hoopctl_error("approvals %s: %s does not apply (usage: hoopctl "
                          "%s)", cmd->name, hoopctl_appr_option_names[i].name,
                          cmd->usage);
            return HOOPCTL_ERROR;
        }
    }

    /* the audit stream of the steps: PREFIX NAME */
    if (a.stream[0] != '\0') {
        memset(&b, 0, sizeof(b));
        hoopctl_buf_adds(&b, a.prefix);
        hoopctl_buf_adds(&b, a.stream);
        a.audit_key = b.data;
    }

    if (hoopctl_store_open(&a.s, a.redis, a.prefix) != HOOPCTL_OK) {
        free(a.audit_key);
        return HOOPCTL_ERROR;
    }

    rc = cmd->run(&a);

    hoopctl_store_close(&a.s);
    free(a.audit_key);

    return rc;
}
