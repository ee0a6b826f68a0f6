/*
 * The policy a server enforces and the decisions taken with it.  The file
 * is compiled when nginx reads its configuration (nginx -t prints the
 * policy's own diagnostics with their lines) and re-read by each worker
 * when it changes; a version that does not compile never replaces the last
 * good one.  With "hoop_policy redis" the versions come from Redis instead
 * (src/redis/hoop_redis_policy.c) and are installed here.
 */

#include "hoop_authorize.h"
#include "../mask/hoop_mask_policy_hook.h"
#include "../audit/hoop_audit.h"
#include "../metrics/hoop_metrics.h"
#include "hoop_stats.h"
#include "hoop_resolve.h"
#include "hoop_masking.h"
#include "hoop_hold.h"


extern ngx_module_t  ngx_stream_hoop_module;


static ngx_int_t hoop_authorize_load(hoop_policy_state_t *st,
    ngx_log_t *log, ngx_conf_t *cf);
static hoop_policy_t *hoop_authorize_compile_doc(const char *text,
    size_t len, hoop_policy_diag_t *diags, size_t max, size_t *ndiags,
    hoop_mask_policy_t **masking);


static void
hoop_authorize_cleanup(void *data)
{
    hoop_policy_state_t *st = data;

    if (st->policy) {
        hoop_policy_free(st->policy);
        st->policy = NULL;
    }

    hoop_mask_policy_free(st->masking);
    st->masking = NULL;
}


/*
 * The policy compiler with the masking section's hook (docs/masking.md,
 * "Data-path integration"): the section's problems are the policy's
 * diagnostics, and a section that does not compile refuses the policy.
 * Key files are read here, by the process that compiles: the master for
 * nginx -t, a start or a reload, a worker for a new version.
 */

static hoop_policy_t *
hoop_authorize_compile_doc(const char *text, size_t len,
    hoop_policy_diag_t *diags, size_t max, size_t *ndiags,
    hoop_mask_policy_t **masking)
{
    hoop_policy_t            *p;
    hoop_policy_options_t     o;
    hoop_mask_policy_hook_t   h;

    ngx_memzero(&h, sizeof(hoop_mask_policy_hook_t));
    ngx_memzero(&o, sizeof(hoop_policy_options_t));

    o.masking = hoop_mask_policy_hook;
    o.masking_ctx = &h;

    p = hoop_policy_compile_ex(text, len, &o, diags, max, ndiags);

    if (p == NULL) {
        /* the section may have compiled while the rest was refused */
        hoop_mask_policy_free(h.compiled);
        *masking = NULL;
        return NULL;
    }

    *masking = h.compiled;

    return p;
}


char *
hoop_authorize_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    hoop_srv_conf_t *hscf = conf;

    ngx_str_t            *value;
    ngx_pool_cleanup_t   *cln;
    hoop_main_conf_t     *hmcf;
    hoop_policy_state_t  *st;

    if (hscf->policy) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 5 && ngx_strncmp(value[1].data, "redis", 5) == 0) {
        /* one state for the stream block, loaded once it is read */
        hmcf = ngx_stream_conf_get_module_main_conf(cf,
                                                    ngx_stream_hoop_module);

        if (hmcf->redis_policy == NULL) {
            cln = ngx_pool_cleanup_add(cf->pool,
                                       sizeof(hoop_policy_state_t));
            if (cln == NULL) {
                return NGX_CONF_ERROR;
            }

            st = cln->data;
            ngx_memzero(st, sizeof(hoop_policy_state_t));
            cln->handler = hoop_authorize_cleanup;

            st->redis = 1;
            hmcf->redis_policy = st;
        }

        hscf->policy = hmcf->redis_policy;

        return NGX_CONF_OK;
    }

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(hoop_policy_state_t));
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    st = cln->data;
    ngx_memzero(st, sizeof(hoop_policy_state_t));
    cln->handler = hoop_authorize_cleanup;

    st->file = value[1];

    if (ngx_conf_full_name(cf->cycle, &st->file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (hoop_authorize_load(st, cf->log, cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    hscf->policy = st;

    return NGX_CONF_OK;
}


/*
 * Reads and compiles the file if it is not the one already loaded.  With
 * cf (configuration time) errors go through ngx_conf_log_error (file and
 * line of the directive); later they go to log and the last good policy
 * stays.
 */

static ngx_int_t
hoop_authorize_load(hoop_policy_state_t *st, ngx_log_t *log, ngx_conf_t *cf)
{
    char                 line[512];
    u_char              *text;
    size_t               ndiags, i;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_uint_t           errors, level;
    hoop_policy_t       *p;
    ngx_file_info_t      fi;
    hoop_mask_policy_t  *mp;
    hoop_policy_diag_t   diags[16];

    if (ngx_file_info(st->file.data, &fi) == NGX_FILE_ERROR) {
        if (cf) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "hoop_policy \"%V\"", &st->file);
        } else {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "hoop: policy \"%V\": keeping the last good "
                          "version", &st->file);
        }

        return NGX_ERROR;
    }

    if (st->policy && fi.st_ino == st->ino && fi.st_size == st->size
        && fi.st_mtim.tv_sec == st->mtime
        && fi.st_mtim.tv_nsec == st->mtime_nsec)
    {
        return NGX_OK;
    }

    if (fi.st_size > HOOP_POLICY_MAX_TEXT) {
        ngx_log_error(NGX_LOG_ERR, cf ? cf->log : log, 0,
                      "hoop: policy \"%V\" is larger than %d bytes",
                      &st->file, HOOP_POLICY_MAX_TEXT);
        return NGX_ERROR;
    }

    text = ngx_alloc(fi.st_size + 1, log);
    if (text == NULL) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(st->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    n = (fd == NGX_INVALID_FILE) ? -1 : read(fd, text, fi.st_size);

    if (fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(fd);
    }

    if (n != fi.st_size) {
        ngx_log_error(NGX_LOG_ERR, cf ? cf->log : log, ngx_errno,
                      "hoop: cannot read policy \"%V\"", &st->file);
        ngx_free(text);
        return NGX_ERROR;
    }

    ndiags = 0;
    p = hoop_authorize_compile_doc((char *) text, n, diags, 16, &ndiags, &mp);

    ngx_free(text);

    errors = 0;

    for (i = 0; i < ndiags && i < 16; i++) {
        hoop_policy_diag_format(&diags[i], (char *) st->file.data, line,
                                sizeof(line));

        if (diags[i].severity == HOOP_POLICY_SEV_ERROR) {
            errors++;
        }

        /* a temporary: ngx_log_error() is a macro comparing its level */
        level = (diags[i].severity == HOOP_POLICY_SEV_ERROR)
                ? (cf ? NGX_LOG_EMERG : NGX_LOG_ERR) : NGX_LOG_WARN;

        if (cf) {
            ngx_conf_log_error(level, cf, 0, "hoop_policy: %s", line);

        } else {
            ngx_log_error(level, log, 0, "hoop: policy: %s", line);
        }
    }

    if (p == NULL) {
        if (cf == NULL) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "hoop: policy \"%V\" refused (%ui errors); "
                          "keeping version %s", &st->file, errors,
                          st->policy ? hoop_policy_sha256_hex(st->policy)
                                     : "none");
        }

        return NGX_ERROR;
    }

    if (st->policy) {
        hoop_policy_free(st->policy);
    }

    hoop_mask_policy_free(st->masking);

    st->policy = p;
    st->masking = mp;
    st->ino = fi.st_ino;
    st->size = fi.st_size;
    st->mtime = fi.st_mtim.tv_sec;
    st->mtime_nsec = fi.st_mtim.tv_nsec;

    ngx_log_error(NGX_LOG_NOTICE, cf ? cf->log : log, 0,
                  "hoop: policy \"%V\" version %s: %uz grants, %uz denies, "
                  "%uz masking rules",
                  &st->file, hoop_policy_sha256_hex(p),
                  hoop_policy_rule_count(p, HOOP_POLICY_GRANT),
                  hoop_policy_rule_count(p, HOOP_POLICY_DENY),
                  mp ? hoop_mask_policy_rule_count(mp) : 0);

    return NGX_OK;
}


void
hoop_authorize_refresh(hoop_policy_state_t *st, ngx_log_t *log)
{
    if (st->redis) {
        return;
    }

    if (st->checked && ngx_current_msec - st->checked < 1000) {
        return;
    }

    st->checked = ngx_current_msec;

    (void) hoop_authorize_load(st, log, NULL);
}


ngx_int_t
hoop_authorize(hoop_session_t *hs, hoop_policy_res_t type,
    const u_char *name, size_t len, hoop_policy_op_t op)
{
    int                      rc;
    ngx_uint_t               i;
    ngx_str_t               *g;
    const char              *approval;
    hoop_policy_str_t        groups[64];
    hoop_policy_addr_t       addr;
    ngx_connection_t        *c;
    hoop_policy_state_t     *st;
    hoop_policy_request_t    req;
    hoop_policy_decision_t   d;

    c = hs->session->connection;
    st = hs->conf->policy;

    ngx_memzero(&req, sizeof(hoop_policy_request_t));

    req.principal.data = (char *) hs->identity.principal.data;
    req.principal.len = hs->identity.principal.len;

    if (hs->identity.groups) {
        g = hs->identity.groups->elts;

        for (i = 0; i < hs->identity.groups->nelts && i < 64; i++) {
            groups[i].data = (char *) g[i].data;
            groups[i].len = g[i].len;
        }

        req.groups = groups;
        req.ngroups = i;
    }

    if (hoop_policy_addr_from_sockaddr(&addr, c->sockaddr) == 0) {
        req.addr = &addr;
    }

    req.resource = type;
    req.name.data = (const char *) name;
    req.name.len = len;
    req.op = op;
    req.now = ngx_time();

    if (st->policy == NULL) {
        /* hoop_policy redis before any version was loaded */
        hoop_audit_decision(hs, type, name, len, op, NULL);
        ngx_log_error(NGX_LOG_NOTICE, c->log, 0,
                      "hoop: denied \"%V\" %s %s \"%*s\": no policy loaded "
                      "(default deny)", &hs->identity.principal,
                      hoop_policy_op_name(op), hoop_policy_res_name(type),
                      len, name);
        return 0;
    }

    if (name == NULL) {
        /* "some resource of this type" (the planner's convention for
         * Kafka's authorizeByResourceType(), KIP-679) */
        (void) hoop_policy_check_any(st->policy, &req, &d);

    } else {
        /* a grant with an approval block: held until a person says yes
         * (hoop_hold.c, docs/approvals.md) */
        rc = hoop_policy_check_approval(st->policy, &req, &d);

        if (rc == HOOP_POLICY_NEEDS_APPROVAL) {
            approval = NULL;
            rc = hoop_hold_decide(hs, type, name, len, op, &d, &approval);

            hoop_audit_decision(hs, type, name, len, op, &d);
            hoop_audit_decision_approval(hs, approval);

            if (rc == 0) {
                ngx_log_error(NGX_LOG_INFO, c->log, 0,
                              "hoop: \"%V\" %s %s \"%*s\": %s%s%s "
                              "(rule %s)", &hs->identity.principal,
                              hoop_policy_op_name(op),
                              hoop_policy_res_name(type), len, name, d.text,
                              approval ? " " : "", approval ? approval : "",
                              d.rule_id ? d.rule_id : "-");
            }

            /* 1: approved moments ago, or held (tentatively allowed) */
            return rc;
        }
    }

    hoop_audit_decision(hs, type, name, len, op, &d);

    if (!d.allowed) {
        ngx_log_error(NGX_LOG_NOTICE, c->log, 0,
                      "hoop: denied \"%V\" %s %s \"%*s\": %s%s%s",
                      &hs->identity.principal, hoop_policy_op_name(op),
                      hoop_policy_res_name(type), len, name, d.text,
                      d.rule_id ? " " : "", d.rule_id ? d.rule_id : "");
    }

    return d.allowed;
}


hoop_policy_t *
hoop_authorize_compile(const u_char *text, size_t len, const char *name,
    ngx_uint_t level, ngx_log_t *log, hoop_mask_policy_t **masking)
{
    char                 line[512];
    size_t               ndiags, i;
    ngx_uint_t           lvl;
    hoop_policy_t       *p;
    hoop_policy_diag_t   diags[16];

    *masking = NULL;

    if (len > HOOP_POLICY_MAX_TEXT) {
        ngx_log_error(level, log, 0,
                      "hoop: policy %s is larger than %d bytes", name,
                      HOOP_POLICY_MAX_TEXT);
        return NULL;
    }

    ndiags = 0;
    p = hoop_authorize_compile_doc((const char *) text, len, diags, 16,
                                   &ndiags, masking);

    for (i = 0; i < ndiags && i < 16; i++) {
        hoop_policy_diag_format(&diags[i], name, line, sizeof(line));

        /* a temporary: ngx_log_error() is a macro comparing its level */
        lvl = (diags[i].severity == HOOP_POLICY_SEV_ERROR) ? level
                                                          : NGX_LOG_WARN;

        ngx_log_error(lvl, log, 0, "hoop: policy: %s", line);
    }

    if (ndiags > 16) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "hoop: policy: %s: %uz more problems not shown", name,
                      ndiags - 16);
    }

    return p;
}


void
hoop_authorize_install(hoop_policy_state_t *st, hoop_policy_t *p,
    hoop_mask_policy_t *masking, int64_t version)
{
    if (st->policy) {
        hoop_policy_free(st->policy);
    }

    hoop_mask_policy_free(st->masking);

    st->policy = p;
    st->masking = masking;
    st->version = version;

    hoop_metric_add(policy_loads, 1);

    if (hoop_metrics_worker()) {
        hoop_metrics_worker()->policy_version = (ngx_atomic_uint_t) version;
    }
}


int64_t
hoop_authorize_version(hoop_session_t *hs)
{
    hoop_policy_state_t  *st;

    st = hs->conf->policy;

    return (st && st->policy) ? st->version : -1;
}


static int
hoop_authorize_decide(void *ctx, hoop_policy_res_t type, const uint8_t *name,
    size_t len, hoop_policy_op_t op)
{
    return hoop_authorize(ctx, type, name, len, op) ? 1 : 0;
}


/*
 * A request through the policy, as Kafka's broker would authorize it
 * (src/kafka/hoop_kafka_authz.c).  Returns NGX_OK to forward *frame (maybe
 * a rewritten copy: then the caller frees the original it passed in), with
 * *plan set when the broker's answer must be fixed too; NGX_DONE when the
 * gateway answered (denied); NGX_ERROR to close (logged).
 */

ngx_int_t
hoop_authorize_request(hoop_session_t *hs, hoop_request_t *req,
    u_char **frame, size_t *size, hoop_authz_plan_t **plan)
{
    int                   err;
    u_char               *answer;
    size_t                n;
    ngx_int_t             mrc;
    ngx_uint_t            masked;
    ngx_connection_t     *c;
    hoop_authz_conf_t    *conf;
    hoop_kafka_node_t    *root;
    hoop_kafka_alloc_t    a;
    size_t                      i, nchecks;
    hoop_authz_plan_t          *p;
    hoop_authz_result_t         res;
    const hoop_authz_check_t   *checks;

    c = hs->session->connection;
    *plan = NULL;

    hoop_authorize_refresh(hs->conf->policy, c->log);

    /* lives as long as the plan: the response step calls back through it */
    conf = ngx_pcalloc(req->pool, sizeof(hoop_authz_conf_t));
    if (conf == NULL) {
        return NGX_ERROR;
    }

    conf->decide = hoop_authorize_decide;
    conf->ctx = hs;

    /* KIP-516: ids are authorized by the names the worker learned (the
     * map lives as long as the cycle, so also for the response step) */
    conf->resolve = hoop_topic_ids_resolve;
    conf->resolve_ctx = hoop_resolve_map(hs);

    hoop_codec_allocator(req->pool, &a);

    hoop_audit_begin(hs, req);

    err = 0;
    hoop_hold_plan_begin(hs, req);

    p = hoop_authz_plan(&a, conf, req->api_key, req->api_version, req->root,
                        &res, &err);

    if (hoop_hold_planned(hs, p == NULL || res.action == HOOP_AUTHZ_DENY)) {
        /* needs an approval: held, neither masked nor forwarded; its
         * events are written when the hold ends and it is planned again */
        hoop_audit_request(hs, req, NULL);
        return NGX_AGAIN;
    }

    /* what is forwarded gets masked before the broker stores it, and
     * before the audit events, which say what was masked */
    mrc = NGX_OK;
    masked = 0;
    root = NULL;

    if (p && res.action != HOOP_AUTHZ_DENY && !res.close
        && req->api_key == HOOP_KAFKA_API_PRODUCE)
    {
        mrc = hoop_masking_produce(hs, req, p, &masked, &root);
    }

    hoop_audit_request(hs, req, p);

    if (p == NULL) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: %s v%d cannot be "
                      "authorized by the gateway (%d)", req->api_name,
                      (int) req->api_version, err);
        return NGX_ERROR;
    }

    hoop_stats_request(hs, req->api_key,
                       res.action == HOOP_AUTHZ_DENY ? HOOP_METRIC_DENY
                       : res.action == HOOP_AUTHZ_PARTIAL
                         ? HOOP_METRIC_PARTIAL : HOOP_METRIC_ALLOW);

    checks = hoop_authz_checks(p, &nchecks);

    for (i = 0; i < nchecks; i++) {
        if (checks[i].type == HOOP_POLICY_RES_TOPIC && checks[i].name) {
            hoop_stats_topic(hs, checks[i].name, checks[i].len);
        }
    }

    if (res.action == HOOP_AUTHZ_DENY) {
        /* session recording: the request as the client sent it */
        hoop_audit_record_frame(hs, *frame, *size);

        if (res.no_response && hoop_hold_refusing(hs)) {
            /* Produce acks=0 held and not approved: dropped, never
             * forwarded; the client reads no answer anyway */
            ngx_log_error(NGX_LOG_NOTICE, c->log, 0,
                          "hoop: %s without response dropped: not approved",
                          req->api_name);
            return NGX_DONE;
        }

        if (res.close || res.no_response) {
            /* Produce acks=0: the client reads no answer; Kafka closes */
            ngx_log_error(NGX_LOG_NOTICE, c->log, 0,
                          "hoop: closing connection: %s without response "
                          "denied", req->api_name);
            return NGX_ERROR;
        }

        if (hoop_authz_build_denied_response(p, &root) != HOOP_AUTHZ_OK) {
            return NGX_ERROR;
        }

        /* after a hold: the approval's error and message */
        hoop_hold_fix_answer(hs, req, root);

        if (hoop_codec_answer(req, root, &answer, &n) != NGX_OK) {
            return NGX_ERROR;
        }

        if (hoop_request_answer(hs, req, answer, n, 0) != NGX_OK) {
            return NGX_ERROR;
        }

        return NGX_DONE;
    }

    if (res.close) {
        /* a partly denied acks=0 Produce: Kafka writes what is allowed,
         * then closes; the gateway closes without writing any of it */
        ngx_log_error(NGX_LOG_NOTICE, c->log, 0,
                      "hoop: closing connection: %s without response "
                      "partly denied", req->api_name);
        return NGX_ERROR;
    }

    if (mrc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (mrc == NGX_DECLINED) {
        /* records that could not be masked are not written: errors for
         * the client (acks=0: none to give, Kafka closes) */
        hoop_audit_record_frame(hs, *frame, *size);

        if (root == NULL
            || hoop_codec_answer(req, root, &answer, &n) != NGX_OK
            || hoop_request_answer(hs, req, answer, n, 0) != NGX_OK)
        {
            return NGX_ERROR;
        }

        return NGX_DONE;
    }

    if (res.rewritten || masked) {
        if (hoop_codec_reencode(req->root, *frame, 4 + req->header_size,
                                frame, size)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (res.response) {
        *plan = p;
    }

    return NGX_OK;
}


/*
 * The broker's answer to a request planned with a response step: filter
 * and merge, then encode again.  Same contract as hoop_codec_response().
 */

ngx_int_t
hoop_authorize_response(hoop_session_t *hs, hoop_slot_t *slot,
    u_char **frame, size_t *size)
{
    int                            rc, hv;
    ngx_connection_t              *c;
    hoop_kafka_err_t               err;
    hoop_kafka_node_t             *root;
    hoop_kafka_alloc_t             a;
    hoop_kafka_response_header_t   h;

    c = hs->session->connection;

    hv = hoop_kafka_response_header_version(slot->api_key, slot->api_version);

    if (hoop_kafka_response_header_parse(*frame + 4, *size - 4, hv, &h, &err)
        != HOOP_KAFKA_OK)
    {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: bad response header from "
                      "broker: %s", err.msg);
        return NGX_ERROR;
    }

    hoop_codec_allocator(slot->pool, &a);

    rc = hoop_kafka_decode(&a, slot->api_key, slot->api_version, 1,
                           *frame + 4 + h.len, *size - 4 - h.len, &root,
                           &err);
    if (rc != HOOP_KAFKA_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: bad response from broker: "
                      "%s", err.msg);
        return NGX_ERROR;
    }

    if (hoop_resolve_teaches(slot->api_key, slot->api_version)) {
        /* the broker's whole answer, before the caller's view of it */
        hoop_resolve_learn(hs, slot->api_key, root);
    }

    rc = hoop_authz_response(slot->plan, NULL, root);

    if (rc < 0) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: cannot apply the policy "
                      "to a response (%d)", rc);
        return NGX_ERROR;
    }

    if (rc == 0) {
        return NGX_OK;
    }

    return hoop_codec_reencode(root, *frame, 4 + h.len, frame, size);
}
