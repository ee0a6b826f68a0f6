/*
 * Requests held for an approval (hoop_hold.h, docs/approvals.md).  The
 * session side: which request is held, the frames behind it, the answer
 * when it is refused, and the subjects found granted moments ago.  The
 * Redis side is src/redis/hoop_redis_approval.c.
 */

#include <jansson.h>

#include "hoop_hold.h"
#include "hoop_authorize.h"
#include "../audit/hoop_audit.h"
#include "../metrics/hoop_metrics.h"
#include "../redis/hoop_redis_conf.h"
#include "../redis/hoop_redis_approval.h"
#include "../kafka/hoop_kafka_header.h"


extern ngx_module_t  ngx_stream_hoop_module;


typedef struct {
    hoop_policy_res_t         type;
    hoop_policy_op_t          op;
    u_char                   *name;       /* ngx_alloc(); the principal
                                             (plen bytes) follows */
    size_t                    len;
    size_t                    plen;
    ngx_msec_t                until;
    char                      id[HOOP_APPROVAL_ID_LEN + 1];
} hoop_hold_grant_t;


/* hoop_session_t.approvals */
typedef struct hoop_hold_session_s {
    hoop_hold_t              *hold;       /* the request held now */
    hoop_hold_t              *next;       /* prepared while planning */

    hoop_out_t               *queue;      /* frames behind the hold */
    hoop_out_t              **queue_last;
    size_t                    queue_bytes;

    unsigned                  refusing:1; /* taking a refused one again */
    hoop_hold_t              *rhold;      /* the refused hold */
    hoop_approval_state_t     rstate;
    char                      rid[HOOP_APPROVAL_ID_LEN + 1];
    u_char                   *rreason;
    size_t                    rreason_len;

    hoop_hold_grant_t         grants[HOOP_HOLD_GRANTS];
} hoop_hold_session_t;


/*
 * The request being planned, and its session: a worker plans one request
 * at a time, synchronously.  The per-session state is allocated only
 * when a request needs an approval.
 */
static hoop_session_t  *hoop_hold_planning;
static hoop_request_t  *hoop_hold_planning_req;


static hoop_hold_session_t *hoop_hold_session(hoop_session_t *hs);
static hoop_hold_t *hoop_hold_prepare(hoop_session_t *hs,
    hoop_policy_res_t type, const u_char *name, size_t len,
    hoop_policy_op_t op, const hoop_policy_rule_t *rule);
static void hoop_hold_timeout(ngx_event_t *ev);
static ngx_int_t hoop_hold_drain(hoop_session_t *hs);
static void hoop_hold_wake(hoop_session_t *hs, ngx_int_t rc);
static void hoop_hold_grant(hoop_hold_session_t *as, hoop_hold_t *h,
    int64_t ms);


static hoop_hold_session_t *
hoop_hold_session(hoop_session_t *hs)
{
    hoop_hold_session_t  *as;

    if (hs->approvals) {
        return hs->approvals;
    }

    as = ngx_calloc(sizeof(hoop_hold_session_t),
                    hs->session->connection->log);
    if (as == NULL) {
        return NULL;
    }

    as->queue_last = &as->queue;
    hs->approvals = as;

    return as;
}


static ngx_uint_t
hoop_hold_same(hoop_policy_res_t t1, hoop_policy_op_t o1, const u_char *n1,
    size_t l1, hoop_policy_res_t t2, hoop_policy_op_t o2, const u_char *n2,
    size_t l2)
{
    return t1 == t2 && o1 == o2 && l1 == l2
           && (l1 == 0 || ngx_memcmp(n1, n2, l1) == 0);
}


ngx_int_t
hoop_hold_decide(hoop_session_t *hs, hoop_policy_res_t type,
    const u_char *name, size_t len, hoop_policy_op_t op,
    hoop_policy_decision_t *d, const char **id)
{
    ngx_uint_t            i;
    hoop_hold_grant_t    *g;
    hoop_hold_session_t  *as;

    *id = NULL;

    as = hoop_hold_session(hs);
    if (as == NULL) {
        d->text = "approval needed";
        return 0;
    }

    for (i = 0; i < HOOP_HOLD_GRANTS; i++) {
        g = &as->grants[i];

        /* the principal too: a session's identity may change with a
         * re-authentication (KIP-368) */
        if (g->name
            && (ngx_msec_int_t) (g->until - ngx_current_msec) > 0
            && hoop_hold_same(g->type, g->op, g->name, g->len, type, op,
                              name, len)
            && g->plen == hs->identity.principal.len
            && ngx_memcmp(g->name + g->len, hs->identity.principal.data,
                          g->plen) == 0)
        {
            d->allowed = 1;
            d->text = "approved";
            *id = g->id;
            return 1;
        }
    }

    if (as->refusing) {
        /* the refused subject, or another one the request also needs an
         * approval for (not asked: the request is not forwarded) */
        if (as->rhold
            && hoop_hold_same(as->rhold->type, as->rhold->op,
                              as->rhold->name, as->rhold->len, type, op,
                              name, len))
        {
            d->text = (as->rstate == HOOP_APPROVAL_DENIED)
                      ? "denied by approval" : "approval pending";
            *id = as->rid[0] ? as->rid : NULL;

        } else {
            d->text = "approval pending";
        }

        return 0;
    }

    d->text = "approval needed";

    if (hoop_hold_planning != hs) {
        /* a check on a response: nothing to hold */
        return 0;
    }

    if (as->next == NULL && d->rule && d->rule->approval) {
        as->next = hoop_hold_prepare(hs, type, name, len, op, d->rule);
    }

    /* tentatively: the request is held, not forwarded, unless the plan
     * denies it for another reason (then this check counts as denied) */
    return as->next ? 1 : 0;
}


void
hoop_hold_plan_begin(hoop_session_t *hs, hoop_request_t *req)
{
    hoop_hold_session_t  *as;

    hoop_hold_planning = hs;
    hoop_hold_planning_req = req;

    as = hs->approvals;

    if (as && as->next) {
        hoop_hold_release(as->next);
        as->next = NULL;
    }
}


ngx_int_t
hoop_hold_planned(hoop_session_t *hs, ngx_uint_t deny)
{
    hoop_hold_session_t  *as;

    hoop_hold_planning = NULL;
    hoop_hold_planning_req = NULL;

    as = hs->approvals;

    if (as == NULL || as->next == NULL) {
        return 0;
    }

    if (deny || as->refusing) {
        hoop_hold_release(as->next);
        as->next = NULL;
        return 0;
    }

    return 1;
}


/*
 * A hold for (type, name, op) under rule: the request call to Redis built
 * now, while the rule is the policy's, with copies of everything it
 * points to (a policy may be replaced before it is sent).
 */

static hoop_hold_t *
hoop_hold_prepare(hoop_session_t *hs, hoop_policy_res_t type,
    const u_char *name, size_t len, hoop_policy_op_t op,
    const hoop_policy_rule_t *rule)
{
    char                     *summary;
    u_char                   *p;
    u_char                    addr[NGX_SOCKADDR_STRLEN];
    size_t                    slen, rlen, plen, n;
    ngx_str_t                 sid, *g;
    ngx_uint_t                i;
    json_t                   *js;
    hoop_hold_t              *h;
    hoop_request_t           *req;
    ngx_connection_t         *c;
    hoop_main_conf_t         *hmcf;
    hoop_policy_str_t         groups[64], prefix, audit;
    hoop_policy_rule_t        copy;
    hoop_approval_request_t   r;

    c = hs->session->connection;
    req = hoop_hold_planning_req;
    hmcf = ngx_stream_get_module_main_conf(hs->session,
                                           ngx_stream_hoop_module);

    h = ngx_calloc(sizeof(hoop_hold_t), c->log);
    if (h == NULL) {
        return NULL;
    }

    h->type = type;
    h->op = op;
    h->len = len;
    h->plen = hs->identity.principal.len;
    h->grant_ms = rule->approval->grant_ms;
    h->hold_ms = (ngx_msec_t) rule->approval->hold_ms;

    /* the summary people see (docs/approvals.md, "In Redis") */
    summary = NULL;
    js = json_object();

    if (js && req) {
        json_object_set_new(js, "api", json_string(req->api_name));
        json_object_set_new(js, "api_key", json_integer(req->api_key));
        json_object_set_new(js, "api_version",
                            json_integer(req->api_version));
        n = ngx_sock_ntop(c->sockaddr, c->socklen, addr, sizeof(addr), 1);
        json_object_set_new(js, "client", json_stringn((char *) addr, n));

        if (req->client_id && req->client_id_len < 256) {
            json_object_set_new(js, "client_id",
                                json_stringn((char *) req->client_id,
                                             req->client_id_len));
        }

        if (hmcf && hmcf->audit.node.len) {
            json_object_set_new(js, "node",
                                json_stringn((char *) hmcf->audit.node.data,
                                             hmcf->audit.node.len));
        }

        if (hoop_audit_session_id(hs, &sid)) {
            json_object_set_new(js, "sid",
                                json_stringn((char *) sid.data, sid.len));
        }

        json_object_set_new(js, "policy_version",
                            json_integer(hoop_authorize_version(hs)));
        json_object_set_new(js, "correlation_id",
                            json_integer(req->correlation_id));

        summary = json_dumps(js, JSON_COMPACT);
    }

    if (js) {
        json_decref(js);
    }

    slen = summary ? ngx_strlen(summary) : 0;
    rlen = ngx_strlen(rule->id);
    plen = hs->identity.principal.len;

    /* name, principal, rule id, summary: one block */
    h->name = ngx_alloc(len + plen + rlen + 1 + slen + 1, c->log);
    if (h->name == NULL) {
        goto failed;
    }

    p = ngx_cpymem(h->name, name, len);
    p = ngx_cpymem(p, hs->identity.principal.data, plen);
    p = ngx_cpymem(p, rule->id, rlen);
    *p++ = '\0';

    if (summary) {
        ngx_memcpy(p, summary, slen + 1);
    }

    ngx_memzero(&r, sizeof(hoop_approval_request_t));

    r.principal.data = (char *) h->name + len;
    r.principal.len = plen;

    if (hs->identity.groups) {
        g = hs->identity.groups->elts;

        for (i = 0; i < hs->identity.groups->nelts && i < 64; i++) {
            groups[i].data = (char *) g[i].data;
            groups[i].len = g[i].len;
        }

        r.groups = groups;
        r.ngroups = i;
    }

    copy = *rule;
    copy.id = (char *) h->name + len + plen;

    r.resource = type;
    r.name.data = (char *) h->name;
    r.name.len = len;
    r.op = op;
    r.rule = &copy;

    if (summary) {
        r.summary.data = (char *) p;
        r.summary.len = slen;
    }

    if (hmcf == NULL || hmcf->redis == NULL) {
        /* no Redis to ask: refused as undecided (logged when held) */
        goto done;
    }

    prefix.data = (char *) hmcf->redis->prefix.data;
    prefix.len = hmcf->redis->prefix.len;

    if (hoop_approval_cmd_request(&h->cmd, prefix, &r,
                                  HOOP_APPROVAL_RETENTION)
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: approval for \"%V\" %s %s \"%*s\" cannot be "
                      "asked (a name too long or not UTF-8?)",
                      &hs->identity.principal, hoop_policy_op_name(op),
                      hoop_policy_res_name(type), len, name);
        goto done;
    }

    /* hoop_audit on: the steps of the approval go to the audit trail */
    if (hs->audit) {
        audit.len = hoop_redis_key(hmcf->redis,
                                   (char *) hmcf->audit.stream.data, 0,
                                   h->audit, sizeof(h->audit));
        audit.data = (char *) h->audit;

        if (audit.len == 0
            || hoop_approval_cmd_audit(&h->cmd, audit) != 0)
        {
            ngx_log_error(NGX_LOG_WARN, c->log, 0,
                          "hoop: approval steps of \"%V\" not audited: "
                          "audit stream key too long",
                          &hs->identity.principal);
        }
    }

    h->cmd_set = 1;

done:

    if (summary) {
        free(summary);
    }

    h->timer.handler = hoop_hold_timeout;
    h->timer.data = h;
    h->timer.log = ngx_cycle->log;

    return h;

failed:

    if (summary) {
        free(summary);
    }

    ngx_free(h);

    return NULL;
}


ngx_int_t
hoop_hold_start(hoop_session_t *hs, hoop_request_t *req, u_char *frame,
    size_t size)
{
    ngx_int_t             rc;
    hoop_hold_t          *h;
    ngx_connection_t     *c;
    hoop_main_conf_t     *hmcf;
    hoop_hold_session_t  *as;

    c = hs->session->connection;
    as = hs->approvals;
    h = as->next;
    as->next = NULL;

    h->hs = hs;
    h->frame = frame;
    h->size = size;
    h->api_key = req->api_key;
    h->api_version = req->api_version;
    h->correlation_id = req->correlation_id;
    h->no_response = !req->expects_response;
    h->start = ngx_current_msec;

    as->hold = h;
    hoop_metric_add(approvals_held, 1);

    /* not cancelable: a worker shutting down answers it first */
    ngx_add_timer(&h->timer, h->hold_ms);

    hmcf = ngx_stream_get_module_main_conf(hs->session,
                                           ngx_stream_hoop_module);

    rc = NGX_DECLINED;

    if (h->cmd_set && hmcf->redis) {
        rc = hoop_redis_approval_ask(hmcf->redis, h);
    }

    if (rc != NGX_OK) {
        /* fail closed: refused as undecided, from the next event (the
         * frames behind it are taken then, not from this call) */
        ngx_log_error(NGX_LOG_WARN, c->log, 0,
                      "hoop: %s v%d correlation id %D needs an approval "
                      "(\"%V\" %s %s \"%*s\") and Redis cannot be asked: "
                      "answered as undecided",
                      req->api_name, (int) req->api_version,
                      req->correlation_id, &hs->identity.principal,
                      hoop_policy_op_name(h->op), hoop_policy_res_name(h->type),
                      h->len, h->name);
        ngx_del_timer(&h->timer);
        ngx_add_timer(&h->timer, 1);
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "hoop: holding %s v%d correlation id %D: \"%V\" %s %s "
                  "\"%*s\" needs an approval (hold %Mms)",
                  req->api_name, (int) req->api_version, req->correlation_id,
                  &hs->identity.principal, hoop_policy_op_name(h->op),
                  hoop_policy_res_name(h->type), h->len, h->name, h->hold_ms);

    return NGX_OK;
}


ngx_uint_t
hoop_hold_active(hoop_session_t *hs)
{
    return hs->approvals && hs->approvals->hold;
}


ngx_int_t
hoop_hold_queue(hoop_session_t *hs, u_char *frame, size_t size)
{
    hoop_out_t           *o;
    hoop_hold_session_t  *as;

    as = hs->approvals;

    o = hoop_out_wrap(frame, size);
    if (o == NULL) {
        ngx_free(frame);
        return NGX_ERROR;
    }

    o->next = NULL;
    *as->queue_last = o;
    as->queue_last = &o->next;
    as->queue_bytes += size;

    return NGX_OK;
}


size_t
hoop_hold_bytes(hoop_session_t *hs)
{
    hoop_hold_session_t  *as;

    as = hs->approvals;

    if (as == NULL) {
        return 0;
    }

    return as->queue_bytes + (as->hold ? as->hold->size : 0);
}


ngx_uint_t
hoop_hold_refusing(hoop_session_t *hs)
{
    return hs->approvals && hs->approvals->refusing;
}


typedef struct {
    int16_t                   code;       /* undecided; 0: keep (denied) */
    u_char                   *msg;
    size_t                    len;
} hoop_hold_fix_t;


static int
hoop_hold_fix_node(hoop_kafka_node_t *node, const hoop_kafka_field_t *field,
    hoop_kafka_node_t *parent, void *ctx)
{
    int64_t             v;
    hoop_hold_fix_t    *fx = ctx;
    hoop_kafka_node_t  *m;

    if (parent == NULL
        || ngx_strcmp(hoop_kafka_node_name(node), "ErrorCode") != 0)
    {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    v = hoop_kafka_node_int(node);

    /* the authorization errors the planner answers: topic, group,
     * cluster, transactional id, delegation token */
    if (v != 29 && v != 30 && v != 31 && v != 53 && v != 65) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    if (fx->code) {
        (void) hoop_kafka_node_set_int(node, fx->code);
    }

    m = hoop_kafka_node_child(parent, "ErrorMessage");

    if (m) {
        (void) hoop_kafka_node_set_string(m, fx->msg, fx->len);
    }

    return HOOP_KAFKA_WALK_CONTINUE;
}


void
hoop_hold_fix_answer(hoop_session_t *hs, hoop_request_t *req,
    hoop_kafka_node_t *root)
{
    char                  buf[512];
    size_t                n;
    hoop_hold_fix_t       fx;
    hoop_policy_str_t     reason;
    hoop_hold_session_t  *as;

    as = hs->approvals;

    if (as == NULL || !as->refusing || root == NULL) {
        return;
    }

    reason.data = (char *) as->rreason;
    reason.len = as->rreason_len;

    if (as->rid[0] == '\0') {
        n = ngx_snprintf((u_char *) buf, sizeof(buf),
                         "approval needed: the gateway cannot reach its "
                         "approval store; retry")
            - (u_char *) buf;

    } else {
        n = hoop_approval_kafka_message(buf, sizeof(buf), as->rstate,
                                        as->rid, reason);
    }

    fx.msg = ngx_pnalloc(req->pool, n ? n : 1);
    if (fx.msg == NULL) {
        return;
    }

    ngx_memcpy(fx.msg, buf, n);
    fx.len = n;

    fx.code = (as->rstate == HOOP_APPROVAL_DENIED)
              ? 0
              : hoop_approval_kafka_error(req->api_key, req->api_version,
                                          HOOP_POLICY_RES_TOPIC, 0);

    (void) hoop_kafka_walk(root, hoop_hold_fix_node, &fx);
}


/* hold_ms ran out (or Redis could not be asked): undecided */

static void
hoop_hold_timeout(ngx_event_t *ev)
{
    hoop_hold_t  *h = ev->data;

    hoop_hold_finish(h, h->asked ? HOOP_APPROVAL_PENDING : HOOP_APPROVAL_NONE,
                     NULL, 0, NULL, 0);
}


static void
hoop_hold_grant(hoop_hold_session_t *as, hoop_hold_t *h, int64_t ms)
{
    ngx_uint_t          i, k;
    hoop_hold_grant_t  *g;

    if (ms <= 0 || ms > HOOP_HOLD_GRANT_CACHE) {
        ms = HOOP_HOLD_GRANT_CACHE;
    }

    /* a free or expired entry, else the one ending first */
    k = 0;

    for (i = 0; i < HOOP_HOLD_GRANTS; i++) {
        g = &as->grants[i];

        if (g->name == NULL
            || (ngx_msec_int_t) (g->until - ngx_current_msec) <= 0)
        {
            k = i;
            break;
        }

        if ((ngx_msec_int_t) (g->until - as->grants[k].until) < 0) {
            k = i;
        }
    }

    g = &as->grants[k];

    if (g->name) {
        ngx_free(g->name);
    }

    g->name = ngx_alloc(h->len + h->plen + 1, ngx_cycle->log);
    if (g->name == NULL) {
        return;
    }

    ngx_memcpy(g->name, h->name, h->len + h->plen);
    g->len = h->len;
    g->plen = h->plen;
    g->type = h->type;
    g->op = h->op;
    g->until = ngx_current_msec + (ngx_msec_t) ms;
    ngx_memcpy(g->id, h->id, sizeof(g->id));
}


void
hoop_hold_finish(hoop_hold_t *h, hoop_approval_state_t state,
    const char *id, int64_t ms, const u_char *reason, size_t reason_len)
{
    u_char               *frame;
    size_t                size;
    ngx_int_t             rc;
    hoop_session_t       *hs;
    ngx_connection_t     *c;
    hoop_hold_session_t  *as;

    if (h->done) {
        return;
    }

    h->done = 1;
    h->state = state;

    if (id && id[0] && h->id[0] == '\0') {
        ngx_cpystrn((u_char *) h->id, (u_char *) id, sizeof(h->id));
    }

    if (h->timer.timer_set) {
        ngx_del_timer(&h->timer);
    }

    hoop_redis_approval_forget(h);
    hoop_metric_add(approvals_held, -1);

    hs = h->hs;
    h->hs = NULL;

    if (hs == NULL) {
        hoop_hold_release(h);
        return;
    }

    c = hs->session->connection;
    as = hs->approvals;
    as->hold = NULL;

    frame = h->frame;
    size = h->size;
    h->frame = NULL;

    if (state == HOOP_APPROVAL_GRANTED || state == HOOP_APPROVAL_APPROVED) {
        hoop_hold_grant(as, h, ms > 0 ? ms : h->grant_ms);

        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "hoop: approval %s: %s v%d correlation id %D goes "
                      "on after %Mms (\"%V\" %s %s \"%*s\")", h->id,
                      hoop_kafka_api_name(h->api_key), (int) h->api_version,
                      h->correlation_id, ngx_current_msec - h->start,
                      &hs->identity.principal, hoop_policy_op_name(h->op),
                      hoop_policy_res_name(h->type), h->len, h->name);

        rc = hoop_request_frame(hs, frame, size);

    } else {
        as->refusing = 1;
        as->rhold = h;
        as->rstate = state;
        ngx_memcpy(as->rid, h->id, sizeof(as->rid));
        as->rreason = (u_char *) reason;
        as->rreason_len = reason ? reason_len : 0;

        ngx_log_error(NGX_LOG_NOTICE, c->log, 0,
                      "hoop: approval %s %s: %s v%d correlation id %D not "
                      "forwarded (\"%V\" %s %s \"%*s\")%s",
                      h->id[0] ? h->id : "-",
                      state == HOOP_APPROVAL_DENIED ? "denied"
                      : state == HOOP_APPROVAL_EXPIRED ? "expired"
                      : state == HOOP_APPROVAL_PENDING ? "still pending"
                      : "unavailable",
                      hoop_kafka_api_name(h->api_key), (int) h->api_version,
                      h->correlation_id, &hs->identity.principal,
                      hoop_policy_op_name(h->op),
                      hoop_policy_res_name(h->type), h->len, h->name,
                      h->no_response ? " (acks=0: dropped)" : "");

        rc = hoop_request_frame(hs, frame, size);

        as->refusing = 0;
        as->rhold = NULL;
        as->rreason = NULL;
        as->rreason_len = 0;
        as->rid[0] = '\0';
    }

    hoop_hold_release(h);

    if (rc == NGX_OK) {
        rc = hoop_hold_drain(hs);
    }

    hoop_hold_wake(hs, rc);
}


/* the frames that waited behind the hold, in order, until one is held */

static ngx_int_t
hoop_hold_drain(hoop_session_t *hs)
{
    u_char               *data;
    size_t                len;
    ngx_int_t             rc;
    hoop_out_t           *o;
    hoop_hold_session_t  *as;

    as = hs->approvals;
    rc = NGX_OK;

    while (as->hold == NULL && as->queue) {
        o = as->queue;
        as->queue = o->next;

        if (as->queue == NULL) {
            as->queue_last = &as->queue;
        }

        data = o->data;
        len = o->buf.last - o->buf.start;
        as->queue_bytes -= len;
        o->data = NULL;
        hoop_out_free(o);

        if (hs->error || rc != NGX_OK) {
            ngx_free(data);
            continue;
        }

        rc = hoop_request_frame(hs, data, len);
    }

    return rc;
}


/* Outside the connection's own events: output on both sides goes on, or
 * the connection closes (its filter sees hs->error). */

static void
hoop_hold_wake(hoop_session_t *hs, ngx_int_t rc)
{
    ngx_connection_t  *c, *pc;

    c = hs->session->connection;
    pc = hs->session->upstream ? hs->session->upstream->peer.connection
                               : NULL;

    if (rc != NGX_OK) {
        hs->error = 1;
        c->buffered |= HOOP_BUFFERED;
        ngx_post_event(c->write, &ngx_posted_events);
        return;
    }

    if (pc) {
        pc->buffered |= HOOP_BUFFERED;
        ngx_post_event(pc->write, &ngx_posted_events);
    }

    c->buffered |= HOOP_BUFFERED;
    ngx_post_event(c->write, &ngx_posted_events);
}


void
hoop_hold_cleanup(hoop_session_t *hs)
{
    ngx_uint_t            i;
    hoop_out_t           *o;
    hoop_hold_t          *h;
    hoop_hold_session_t  *as;

    as = hs->approvals;

    if (as == NULL) {
        return;
    }

    h = as->hold;

    if (h) {
        /* dropped: nothing was forwarded; the approval stays in Redis
         * and the client's reconnect finds it */
        ngx_log_error(NGX_LOG_INFO, hs->session->connection->log, 0,
                      "hoop: connection closed while %s correlation id %D "
                      "was held (approval %s): dropped",
                      hoop_kafka_api_name(h->api_key), h->correlation_id,
                      h->id[0] ? h->id : "not yet known");

        h->done = 1;
        h->hs = NULL;

        if (h->timer.timer_set) {
            ngx_del_timer(&h->timer);
        }

        hoop_redis_approval_forget(h);
        hoop_metric_add(approvals_held, -1);
        hoop_hold_release(h);
        as->hold = NULL;
    }

    if (as->next) {
        hoop_hold_release(as->next);
        as->next = NULL;
    }

    while (as->queue) {
        o = as->queue;
        as->queue = o->next;
        hoop_out_free(o);
    }

    for (i = 0; i < HOOP_HOLD_GRANTS; i++) {
        if (as->grants[i].name) {
            ngx_free(as->grants[i].name);
        }
    }

    ngx_free(as);
    hs->approvals = NULL;
}


void
hoop_hold_release(hoop_hold_t *h)
{
    if (h->refs || h->linked || h->hs) {
        return;
    }

    if (h->timer.timer_set) {
        ngx_del_timer(&h->timer);
    }

    if (h->cmd_set) {
        hoop_approval_cmd_free(&h->cmd);
        h->cmd_set = 0;
    }

    if (h->frame) {
        ngx_free(h->frame);
    }

    if (h->name) {
        ngx_free(h->name);
    }

    ngx_free(h);
}
