/*
 * The Redis side of approvals: argument lists of the approval script,
 * its replies and notices, and the Kafka answer of a held request
 * (hoop_approval.h; the script and the keys: docs/approvals.md).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "hoop_approval.h"
#include "hoop_approval_lua.h"


#define HOOP_APPROVAL_MAX_NAME     1024
#define HOOP_APPROVAL_MAX_TEXT     4096


static int hoop_approval_utf8(const char *s, size_t len);
static char *hoop_approval_json_list(char *p, const char *type,
    size_t tlen, const hoop_policy_str_t *items, const char * const *strs,
    size_t n);
static void hoop_approval_head(hoop_approval_cmd_t *cmd, const char *op,
    hoop_policy_str_t prefix);
static void hoop_approval_arg(hoop_approval_cmd_t *cmd, const char *s,
    size_t len);
static void hoop_approval_num(hoop_approval_cmd_t *cmd, int slot,
    unsigned long long v);


static const char  hoop_approval_b32[] = "abcdefghijklmnopqrstuvwxyz234567";


const char *
hoop_approval_script(size_t *len)
{
    if (len) {
        *len = sizeof(hoop_approval_lua) - 1;
    }

    return hoop_approval_lua;
}


const char *
hoop_approval_script_sha1(void)
{
    return HOOP_APPROVAL_LUA_SHA1;
}


int
hoop_approval_id_new(char id[HOOP_APPROVAL_ID_LEN + 1])
{
    int            i;
    unsigned char  r[HOOP_APPROVAL_ID_LEN];

    if (RAND_bytes(r, sizeof(r)) != 1) {
        return -1;
    }

    for (i = 0; i < HOOP_APPROVAL_ID_LEN; i++) {
        id[i] = hoop_approval_b32[r[i] & 31];
    }

    id[HOOP_APPROVAL_ID_LEN] = '\0';

    return 0;
}


int
hoop_approval_id_valid(const char *s, size_t len)
{
    size_t  i;

    if (s == NULL || len != HOOP_APPROVAL_ID_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7')))
        {
            return 0;
        }
    }

    return 1;
}


/* ----------------------------------------------------------------------
 * Argument lists
 */

/* valid UTF-8 (RFC 3629) without NUL: 1, else 0 */
static int
hoop_approval_utf8(const char *s, size_t len)
{
    size_t          i, n, k;
    uint32_t        cp, min;
    unsigned char   c;

    for (i = 0; i < len; i += n) {
        c = (unsigned char) s[i];

        if (c == 0) {
            return 0;
        }

        if (c < 0x80) {
            n = 1;
            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 2; cp = c & 0x1f; min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3; cp = c & 0x0f; min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4; cp = c & 0x07; min = 0x10000;
        } else {
            return 0;
        }

        if (len - i < n) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            c = (unsigned char) s[i + k];
            if ((c & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (c & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


static int
hoop_approval_text_ok(hoop_policy_str_t s, size_t max, int empty_ok)
{
    if (s.data == NULL) {
        return empty_ok && s.len == 0;
    }

    return (s.len > 0 || empty_ok) && s.len <= max
           && hoop_approval_utf8(s.data, s.len);
}


/*
 * A JSON array of strings at p: type + items[i] (or strs[i]); the
 * strings are valid UTF-8 (checked by the callers).  Returns the end.
 */
static char *
hoop_approval_json_list(char *p, const char *type, size_t tlen,
    const hoop_policy_str_t *items, const char * const *strs, size_t n)
{
    size_t          i, j, len;
    const char     *s;
    unsigned char   c;

    *p++ = '[';

    for (i = 0; i < n; i++) {
        if (i > 0) {
            *p++ = ',';
        }

        *p++ = '"';
        memcpy(p, type, tlen);
        p += tlen;

        s = items ? items[i].data : strs[i];
        len = items ? items[i].len : strlen(strs[i]);

        for (j = 0; j < len; j++) {
            c = (unsigned char) s[j];

            if (c == '"' || c == '\\') {
                *p++ = '\\';
                *p++ = (char) c;

            } else if (c < 0x20 || c == 0x7f) {
                p += sprintf(p, "\\u%04x", c);

            } else {
                *p++ = (char) c;
            }
        }

        *p++ = '"';
    }

    *p++ = ']';
    *p = '\0';

    return p;
}


static void
hoop_approval_head(hoop_approval_cmd_t *cmd, const char *op,
    hoop_policy_str_t prefix)
{
    cmd->argc = 0;
    cmd->mem = NULL;
    cmd->audit_at = 0;
    hoop_approval_arg(cmd, "EVALSHA", 7);
    hoop_approval_arg(cmd, HOOP_APPROVAL_LUA_SHA1,
                      sizeof(HOOP_APPROVAL_LUA_SHA1) - 1);
    hoop_approval_arg(cmd, "0", 1);
    hoop_approval_arg(cmd, op, strlen(op));
    hoop_approval_arg(cmd, prefix.data ? prefix.data : "", prefix.len);
}


static void
hoop_approval_arg(hoop_approval_cmd_t *cmd, const char *s, size_t len)
{
    cmd->argv[cmd->argc] = s;
    cmd->argvlen[cmd->argc] = len;
    cmd->argc++;
}


static void
hoop_approval_num(hoop_approval_cmd_t *cmd, int slot, unsigned long long v)
{
    snprintf(cmd->num[slot], sizeof(cmd->num[slot]), "%llu", v);
    hoop_approval_arg(cmd, cmd->num[slot], strlen(cmd->num[slot]));
}


static int
hoop_approval_prefix_ok(hoop_policy_str_t prefix)
{
    return prefix.len <= 256 && (prefix.len == 0 || prefix.data != NULL);
}


int
hoop_approval_cmd_request(hoop_approval_cmd_t *cmd, hoop_policy_str_t prefix,
    const hoop_approval_request_t *r, unsigned retention_s)
{
    size_t                         i, size;
    char                          *p, *groups, *approvers;
    const char                    *type, *opname;
    hoop_policy_str_t              name;
    const hoop_policy_approval_t  *a;

    if (cmd == NULL || r == NULL || r->rule == NULL
        || r->rule->approval == NULL || !hoop_approval_prefix_ok(prefix))
    {
        return -1;
    }

    a = r->rule->approval;
    type = hoop_policy_res_name(r->resource);
    opname = hoop_policy_op_name(r->op);

    name = r->name;
    if (r->resource == HOOP_POLICY_RES_CLUSTER) {
        name.data = HOOP_POLICY_CLUSTER_NAME;
        name.len = sizeof(HOOP_POLICY_CLUSTER_NAME) - 1;
    }

    if (type == NULL || opname == NULL || r->op == HOOP_POLICY_OP_ALL
        || !hoop_approval_text_ok(r->principal, HOOP_APPROVAL_MAX_NAME, 0)
        || !hoop_approval_text_ok(name, HOOP_APPROVAL_MAX_NAME, 0)
        || (r->groups == NULL && r->ngroups != 0)
        || (r->summary.data != NULL
            && !hoop_approval_text_ok(r->summary, HOOP_APPROVAL_MAX_TEXT, 0))
        || a->napprovers == 0)
    {
        return -1;
    }

    /* the JSON arrays: escaped, each byte takes at most 6 */

    size = 8;

    for (i = 0; i < r->ngroups; i++) {
        if (!hoop_approval_text_ok(r->groups[i], HOOP_APPROVAL_MAX_NAME, 0))
        {
            return -1;
        }
        size += 6 * r->groups[i].len + 3;
    }

    for (i = 0; i < a->napprovers; i++) {
        size += 6 * strlen(a->approvers[i]) + 3;
    }

    if (hoop_approval_id_new(cmd->id) != 0) {
        return -1;
    }

    hoop_approval_head(cmd, "request", prefix);

    cmd->mem = malloc(size * 2);
    if (cmd->mem == NULL) {
        return -1;
    }

    groups = cmd->mem;
    p = hoop_approval_json_list(groups, "", 0, r->groups, NULL, r->ngroups);
    approvers = p + 1;
    (void) hoop_approval_json_list(approvers, "", 0, NULL, a->approvers,
                                   a->napprovers);

    hoop_approval_arg(cmd, cmd->id, HOOP_APPROVAL_ID_LEN);
    hoop_approval_arg(cmd, r->principal.data, r->principal.len);
    hoop_approval_arg(cmd, groups, strlen(groups));
    hoop_approval_arg(cmd, type, strlen(type));
    hoop_approval_arg(cmd, name.data, name.len);
    hoop_approval_arg(cmd, opname, strlen(opname));
    hoop_approval_arg(cmd, r->rule->id, strlen(r->rule->id));
    hoop_approval_arg(cmd, approvers, strlen(approvers));
    hoop_approval_arg(cmd, a->allow_self_approval ? "1" : "0", 1);
    hoop_approval_num(cmd, 0, (unsigned long long) a->grant_ms);
    hoop_approval_num(cmd, 1, (unsigned long long) a->expire_ms);
    hoop_approval_num(cmd, 2, retention_s);
    hoop_approval_arg(cmd, r->summary.data ? r->summary.data : "",
                      r->summary.data ? r->summary.len : 0);
    cmd->audit_at = cmd->argc;

    return 0;
}


int
hoop_approval_cmd_status(hoop_approval_cmd_t *cmd, hoop_policy_str_t prefix,
    const char *id)
{
    if (cmd == NULL || id == NULL || !hoop_approval_prefix_ok(prefix)
        || !hoop_approval_id_valid(id, strlen(id)))
    {
        return -1;
    }

    memcpy(cmd->id, id, HOOP_APPROVAL_ID_LEN + 1);
    hoop_approval_head(cmd, "status", prefix);
    hoop_approval_arg(cmd, cmd->id, HOOP_APPROVAL_ID_LEN);

    return 0;
}


/*
 * decide and revoke: <id> [approve|deny] <person> <groups-json> <reason>
 * <retention_s>; word NULL for revoke, whose reason may be empty
 */
static int
hoop_approval_cmd_person(hoop_approval_cmd_t *cmd, const char *op,
    hoop_policy_str_t prefix, const char *id, const char *word,
    hoop_policy_str_t person, const hoop_policy_str_t *groups,
    size_t ngroups, hoop_policy_str_t reason, int reason_empty_ok,
    unsigned retention_s)
{
    size_t  i, size;

    if (cmd == NULL || id == NULL || !hoop_approval_prefix_ok(prefix)
        || !hoop_approval_id_valid(id, strlen(id))
        || !hoop_approval_text_ok(person, HOOP_APPROVAL_MAX_NAME, 0)
        || !hoop_approval_text_ok(reason, HOOP_APPROVAL_MAX_TEXT,
                                  reason_empty_ok)
        || (groups == NULL && ngroups != 0))
    {
        return -1;
    }

    size = 4;

    for (i = 0; i < ngroups; i++) {
        if (!hoop_approval_text_ok(groups[i], HOOP_APPROVAL_MAX_NAME, 0)) {
            return -1;
        }
        size += 6 * groups[i].len + 3;
    }

    memcpy(cmd->id, id, HOOP_APPROVAL_ID_LEN + 1);
    hoop_approval_head(cmd, op, prefix);

    cmd->mem = malloc(size);
    if (cmd->mem == NULL) {
        return -1;
    }

    (void) hoop_approval_json_list(cmd->mem, "", 0, groups, NULL, ngroups);

    hoop_approval_arg(cmd, cmd->id, HOOP_APPROVAL_ID_LEN);
    if (word) {
        hoop_approval_arg(cmd, word, strlen(word));
    }
    hoop_approval_arg(cmd, person.data, person.len);
    hoop_approval_arg(cmd, cmd->mem, strlen(cmd->mem));
    hoop_approval_arg(cmd, reason.data ? reason.data : "",
                      reason.data ? reason.len : 0);
    hoop_approval_num(cmd, 0, retention_s);
    cmd->audit_at = cmd->argc;

    return 0;
}


int
hoop_approval_cmd_decide(hoop_approval_cmd_t *cmd, hoop_policy_str_t prefix,
    const char *id, int approve, hoop_policy_str_t approver,
    const hoop_policy_str_t *groups, size_t ngroups,
    hoop_policy_str_t reason, unsigned retention_s)
{
    return hoop_approval_cmd_person(cmd, "decide", prefix, id,
                                    approve ? "approve" : "deny", approver,
                                    groups, ngroups, reason, approve,
                                    retention_s);
}


int
hoop_approval_cmd_revoke(hoop_approval_cmd_t *cmd, hoop_policy_str_t prefix,
    const char *id, hoop_policy_str_t revoker,
    const hoop_policy_str_t *groups, size_t ngroups,
    hoop_policy_str_t reason, unsigned retention_s)
{
    return hoop_approval_cmd_person(cmd, "revoke", prefix, id, NULL,
                                    revoker, groups, ngroups, reason, 1,
                                    retention_s);
}


int
hoop_approval_cmd_expire(hoop_approval_cmd_t *cmd, hoop_policy_str_t prefix,
    unsigned max, unsigned retention_s)
{
    if (cmd == NULL || max == 0 || max > 999999
        || !hoop_approval_prefix_ok(prefix))
    {
        return -1;
    }

    hoop_approval_head(cmd, "expire", prefix);
    hoop_approval_num(cmd, 0, max);
    hoop_approval_num(cmd, 1, retention_s);
    cmd->audit_at = cmd->argc;

    return 0;
}


int
hoop_approval_cmd_audit(hoop_approval_cmd_t *cmd, hoop_policy_str_t stream)
{
    if (cmd == NULL || cmd->argc < 5) {
        return -1;
    }

    if (stream.len == 0) {
        return 0;
    }

    if (stream.data == NULL || stream.len > 1024
        || memchr(stream.data, '\0', stream.len) != NULL)
    {
        return -1;
    }

    /* only right after request, decide, revoke or expire was built */
    if (cmd->audit_at == 0 || cmd->argc != cmd->audit_at) {
        return -1;
    }

    hoop_approval_arg(cmd, stream.data, stream.len);

    return 0;
}


void
hoop_approval_cmd_free(hoop_approval_cmd_t *cmd)
{
    if (cmd) {
        free(cmd->mem);
        cmd->mem = NULL;
        cmd->argc = 0;
    }
}


/* ----------------------------------------------------------------------
 * Replies and notices
 */

static const struct {
    const char              *name;
    hoop_approval_state_t    state;
} hoop_approval_states[] = {
    { "pending", HOOP_APPROVAL_PENDING },
    { "granted", HOOP_APPROVAL_GRANTED },
    { "approved", HOOP_APPROVAL_APPROVED },
    { "denied", HOOP_APPROVAL_DENIED },
    { "expired", HOOP_APPROVAL_EXPIRED },
    { "revoked", HOOP_APPROVAL_REVOKED },
    { NULL, HOOP_APPROVAL_NONE }
};


static hoop_approval_state_t
hoop_approval_state_parse(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; hoop_approval_states[i].name; i++) {
        if (strlen(hoop_approval_states[i].name) == len
            && memcmp(hoop_approval_states[i].name, s, len) == 0)
        {
            return hoop_approval_states[i].state;
        }
    }

    return HOOP_APPROVAL_NONE;
}


const char *
hoop_approval_state_name(hoop_approval_state_t s)
{
    size_t  i;

    for (i = 0; hoop_approval_states[i].name; i++) {
        if (hoop_approval_states[i].state == s) {
            return hoop_approval_states[i].name;
        }
    }

    return "none";
}


static const struct {
    const char              *word;
    hoop_approval_err_t      err;
} hoop_approval_errors[] = {
    { "NOSCRIPT", HOOP_APPROVAL_ERR_NOSCRIPT },
    { "NOAPPROVAL", HOOP_APPROVAL_ERR_NOAPPROVAL },
    { "DECIDED", HOOP_APPROVAL_ERR_DECIDED },
    { "NOTAPPROVER", HOOP_APPROVAL_ERR_NOTAPPROVER },
    { "SELFAPPROVAL", HOOP_APPROVAL_ERR_SELF },
    { "IDCOLLISION", HOOP_APPROVAL_ERR_IDCOLLISION },
    { "NOTACTIVE", HOOP_APPROVAL_ERR_NOTACTIVE },
    { "BADARG", HOOP_APPROVAL_ERR_BADARG },
    { NULL, HOOP_APPROVAL_ERR_REPLY }
};


hoop_approval_err_t
hoop_approval_reply_parse(const redisReply *r, hoop_approval_reply_t *out)
{
    size_t                i, n;
    long long             v;
    const redisReply     *e;

    memset(out, 0, sizeof(*out));
    out->error = HOOP_APPROVAL_ERR_REPLY;

    if (r == NULL) {
        return out->error;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        out->message.data = r->str ? r->str : "";
        out->message.len = r->str ? r->len : 0;

        for (i = 0; hoop_approval_errors[i].word; i++) {
            n = strlen(hoop_approval_errors[i].word);

            if (out->message.len >= n
                && memcmp(out->message.data, hoop_approval_errors[i].word, n)
                   == 0
                && (out->message.len == n || out->message.data[n] == ' '))
            {
                out->error = hoop_approval_errors[i].err;
                break;
            }
        }

        return out->error;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
        return out->error;
    }

    e = r->element[0];
    if (e == NULL || (e->type != REDIS_REPLY_STRING
                      && e->type != REDIS_REPLY_STATUS))
    {
        return out->error;
    }

    out->state = hoop_approval_state_parse(e->str, e->len);

    e = r->element[1];
    if (out->state == HOOP_APPROVAL_NONE || e == NULL
        || e->type != REDIS_REPLY_STRING
        || !hoop_approval_id_valid(e->str, e->len))
    {
        out->state = HOOP_APPROVAL_NONE;
        return out->error;
    }

    memcpy(out->id, e->str, HOOP_APPROVAL_ID_LEN);
    out->id[HOOP_APPROVAL_ID_LEN] = '\0';

    for (i = 2; i < 4; i++) {
        e = r->element[i];
        if (e == NULL || e->type != REDIS_REPLY_INTEGER || e->integer < 0) {
            out->state = HOOP_APPROVAL_NONE;
            return out->error;
        }

        v = e->integer;

        if (i == 2) {
            out->flag = v != 0;
        } else {
            out->ms = (int64_t) v;
        }
    }

    e = r->element[4];
    if (e == NULL || e->type != REDIS_REPLY_STRING) {
        out->state = HOOP_APPROVAL_NONE;
        return out->error;
    }

    out->detail.data = e->str;
    out->detail.len = e->len;
    out->error = HOOP_APPROVAL_OK;

    return out->error;
}


int
hoop_approval_notice_parse(const char *msg, size_t len,
    hoop_approval_notice_t *n)
{
    int          rc;
    json_t      *root, *v, *ev, *id, *reason, *until;
    const char  *s;
    size_t       l;

    memset(n, 0, sizeof(*n));

    if (msg == NULL || len == 0 || len > 65536) {
        return -1;
    }

    root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, NULL);
    if (root == NULL) {
        return -1;
    }

    rc = -1;

    v = json_object_get(root, "v");
    ev = json_object_get(root, "event");
    id = json_object_get(root, "id");

    if (!json_is_object(root) || !json_is_integer(v)
        || json_integer_value(v) != 1 || !json_is_string(ev)
        || !json_is_string(id)
        || !hoop_approval_id_valid(json_string_value(id),
                                   json_string_length(id)))
    {
        goto done;
    }

    s = json_string_value(ev);
    l = json_string_length(ev);

    if (l == 9 && memcmp(s, "requested", 9) == 0) {
        n->event = HOOP_APPROVAL_PENDING;

    } else {
        n->event = hoop_approval_state_parse(s, l);
        if (n->event != HOOP_APPROVAL_APPROVED
            && n->event != HOOP_APPROVAL_DENIED
            && n->event != HOOP_APPROVAL_EXPIRED)
        {
            n->event = HOOP_APPROVAL_NONE;
            goto done;
        }
    }

    memcpy(n->id, json_string_value(id), HOOP_APPROVAL_ID_LEN);

    until = json_object_get(root, "grant_until_ms");
    if (n->event == HOOP_APPROVAL_APPROVED && json_is_integer(until)
        && json_integer_value(until) > 0)
    {
        n->grant_until_ms = (int64_t) json_integer_value(until);
    }

    reason = json_object_get(root, "reason");
    if (n->event == HOOP_APPROVAL_DENIED && json_is_string(reason)) {
        l = json_string_length(reason);
        if (l >= sizeof(n->reason)) {
            l = sizeof(n->reason) - 1;

            /* do not cut a UTF-8 sequence */
            while (l > 0
                   && (json_string_value(reason)[l] & 0xc0) == 0x80)
            {
                l--;
            }
        }

        memcpy(n->reason, json_string_value(reason), l);
        n->reason[l] = '\0';
    }

    rc = 0;

done:

    if (rc != 0) {
        memset(n, 0, sizeof(*n));
    }

    json_decref(root);

    return rc;
}


/* ----------------------------------------------------------------------
 * The Kafka answer
 */

#define HOOP_KAFKA_NOT_LEADER_OR_FOLLOWER          6
#define HOOP_KAFKA_REQUEST_TIMED_OUT               7
#define HOOP_KAFKA_COORDINATOR_LOAD_IN_PROGRESS    14
#define HOOP_KAFKA_TOPIC_AUTHORIZATION_FAILED      29
#define HOOP_KAFKA_GROUP_AUTHORIZATION_FAILED      30
#define HOOP_KAFKA_CLUSTER_AUTHORIZATION_FAILED    31
#define HOOP_KAFKA_TRANSACTIONAL_ID_AUTHORIZATION_FAILED  53
#define HOOP_KAFKA_DELEGATION_TOKEN_AUTHORIZATION_FAILED  65
#define HOOP_KAFKA_THROTTLING_QUOTA_EXCEEDED       89


int16_t
hoop_approval_kafka_error(int16_t api_key, int16_t api_version,
    hoop_policy_res_t type, int denied)
{
    if (denied) {
        switch (type) {
        case HOOP_POLICY_RES_TOPIC:
            return HOOP_KAFKA_TOPIC_AUTHORIZATION_FAILED;
        case HOOP_POLICY_RES_GROUP:
            return HOOP_KAFKA_GROUP_AUTHORIZATION_FAILED;
        case HOOP_POLICY_RES_TRANSACTIONAL_ID:
            return HOOP_KAFKA_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        case HOOP_POLICY_RES_DELEGATION_TOKEN:
        case HOOP_POLICY_RES_USER:
            return HOOP_KAFKA_DELEGATION_TOKEN_AUTHORIZATION_FAILED;
        default:
            return HOOP_KAFKA_CLUSTER_AUTHORIZATION_FAILED;
        }
    }

    switch (api_key) {

    case 1:                                     /* Fetch */
        return HOOP_KAFKA_NOT_LEADER_OR_FOLLOWER;

    case 19:                                    /* CreateTopics */
        return api_version >= 6 ? HOOP_KAFKA_THROTTLING_QUOTA_EXCEEDED
                                : HOOP_KAFKA_REQUEST_TIMED_OUT;

    case 20:                                    /* DeleteTopics */
        return api_version >= 5 ? HOOP_KAFKA_THROTTLING_QUOTA_EXCEEDED
                                : HOOP_KAFKA_REQUEST_TIMED_OUT;

    case 37:                                    /* CreatePartitions */
        return api_version >= 3 ? HOOP_KAFKA_THROTTLING_QUOTA_EXCEEDED
                                : HOOP_KAFKA_REQUEST_TIMED_OUT;

    case 8:                                     /* OffsetCommit */
    case 9:                                     /* OffsetFetch */
    case 11: case 12: case 13: case 14:         /* Join, Heartbeat, Leave,
                                                   SyncGroup */
    case 22:                                    /* InitProducerId */
    case 24: case 25: case 26:                  /* AddPartitionsToTxn,
                                                   AddOffsetsToTxn, EndTxn */
    case 28:                                    /* TxnOffsetCommit */
    case 42:                                    /* DeleteGroups */
    case 47:                                    /* OffsetDelete */
    case 68: case 76: case 88:                  /* KIP-848, share, streams
                                                   group heartbeats */
    case 91: case 92:                           /* Alter/DeleteShareGroup-
                                                   Offsets */
        return HOOP_KAFKA_COORDINATOR_LOAD_IN_PROGRESS;

    default:                                    /* Produce, DeleteRecords,
                                                   configs, ACLs, ... */
        return HOOP_KAFKA_REQUEST_TIMED_OUT;
    }
}


size_t
hoop_approval_kafka_message(char *buf, size_t size,
    hoop_approval_state_t state, const char *id, hoop_policy_str_t reason)
{
    int  n;

    if (buf == NULL || size == 0) {
        return 0;
    }

    if (id == NULL) {
        id = "-";
    }

    if (state == HOOP_APPROVAL_DENIED) {
        n = snprintf(buf, size, "denied by approval %s%s%.*s", id,
                     reason.len ? ": " : "",
                     (int) (reason.len > 1024 ? 1024 : reason.len),
                     reason.data ? reason.data : "");

    } else if (state == HOOP_APPROVAL_EXPIRED) {
        n = snprintf(buf, size, "approval %s expired undecided: a retry "
                     "asks again", id);

    } else {
        n = snprintf(buf, size, "approval %s pending: held until an "
                     "approver decides (hoopctl approvals approve %s); "
                     "retry", id, id);
    }

    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }

    if ((size_t) n < size) {
        return (size_t) n;
    }

    /* cut short: not inside a UTF-8 sequence */

    n = (int) size - 1;
    while (n > 0 && ((unsigned char) buf[n] & 0xc0) == 0x80) {
        n--;
    }
    buf[n] = '\0';

    return (size_t) n;
}
