/*
 * Client SASL terminated at the gateway.  SaslHandshake (KIP-43: v0 then
 * raw tokens, v1 then SaslAuthenticate) and SaslAuthenticate (KIP-152,
 * KIP-368 session lifetime and re-authentication) are answered here, in
 * request order, and never reach the broker; until a client is
 * authenticated only ApiVersions may pass.
 */

#include "hoop_auth.h"
#include "../kafka/hoop_kafka_walker.h"
#include "../audit/hoop_audit.h"


static ngx_int_t hoop_sasl_handshake(hoop_session_t *hs, hoop_request_t *req);
static ngx_int_t hoop_sasl_authenticate(hoop_session_t *hs,
    hoop_request_t *req);
static ngx_int_t hoop_sasl_step(hoop_session_t *hs, const u_char *in,
    size_t len, ngx_str_t *out, ngx_str_t *reason);
static ngx_int_t hoop_sasl_answer(hoop_session_t *hs, hoop_request_t *req,
    hoop_kafka_node_t *root, ngx_uint_t close_after);
static void hoop_sasl_set_int(hoop_kafka_node_t *root, const char *name,
    int64_t v);
static void hoop_sasl_set_str(hoop_kafka_node_t *root, const char *name,
    u_char *data, size_t len);


ngx_int_t
hoop_auth_request(hoop_session_t *hs, hoop_request_t *req, u_char *frame,
    size_t size)
{
    ngx_connection_t  *c;

    c = hs->session->connection;

    switch (req->api_key) {

    case HOOP_KAFKA_API_API_VERSIONS:
        return NGX_DECLINED;

    case HOOP_KAFKA_API_SASL_HANDSHAKE:
        return hoop_sasl_handshake(hs, req);

    case HOOP_KAFKA_API_SASL_AUTHENTICATE:
        return hoop_sasl_authenticate(hs, req);
    }

    if (!hs->identity.authenticated) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: %s request before "
                      "authentication (hoop_auth %s)", req->api_name,
                      hs->conf->auth == HOOP_AUTH_SASL ? "sasl" : "mtls");
        return NGX_ERROR;
    }

    if (hs->sasl_state != HOOP_SASL_START) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: %s request in the middle "
                      "of SASL re-authentication (KIP-368)", req->api_name);
        return NGX_ERROR;
    }

    if (hs->identity.expires
        && (ngx_msec_int_t) (ngx_current_msec - hs->identity.expires) >= 0)
    {
        /* KIP-368: an expired session is never left authorized */
        ngx_log_error(NGX_LOG_WARN, c->log, 0,
                      "hoop: closing connection: SASL session of \"%V\" "
                      "expired without re-authentication",
                      &hs->identity.principal);
        return NGX_ERROR;
    }

    return NGX_DECLINED;
}


static ngx_int_t
hoop_sasl_handshake(hoop_session_t *hs, hoop_request_t *req)
{
    size_t              len;
    ngx_str_t           mech, *m;
    ngx_uint_t          i, ok;
    ngx_array_t        *mechs;
    ngx_connection_t   *c;
    hoop_kafka_node_t  *root, *arr, *e;
    const uint8_t      *p;

    c = hs->session->connection;

    p = hoop_kafka_node_bytes(hoop_kafka_node_child(req->root, "Mechanism"),
                              &len);
    mech.data = (u_char *) p;
    mech.len = len;

    root = hoop_codec_answer_start(req);
    if (root == NULL) {
        return NGX_ERROR;
    }

    /* the mechanisms the gateway offers, whatever the outcome */

    arr = hoop_kafka_node_child(root, "Mechanisms");
    mechs = hs->conf->sasl_mechanisms;     /* NULL unless hoop_auth sasl */
    m = mechs ? mechs->elts : NULL;

    for (i = 0; mechs && i < mechs->nelts; i++) {
        e = hoop_codec_answer_append(req, arr);
        if (e == NULL
            || hoop_kafka_node_set_string(e, m[i].data, m[i].len) != 0)
        {
            return NGX_ERROR;
        }
    }

    ok = hs->conf->auth == HOOP_AUTH_SASL
         && hoop_mech_enabled(hs->conf, &mech) == NGX_OK
         && hs->sasl_state == HOOP_SASL_START;

    if (ok) {
        if (hs->mech) {
            hoop_mech_free(hs->mech);
        }

        hs->mech = hoop_mech_start(hs, &mech);
        if (hs->mech == NULL) {
            return NGX_ERROR;
        }

        hs->sasl_state = (req->api_version == 0) ? HOOP_SASL_RAW
                                                 : HOOP_SASL_HANDSHAKEN;

        ngx_log_debug2(NGX_LOG_DEBUG_STREAM, c->log, 0,
                       "hoop: SaslHandshake v%d %V", (int) req->api_version,
                       &mech);

        return hoop_sasl_answer(hs, req, root, 0);
    }

    if (hs->conf->auth != HOOP_AUTH_SASL) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: refusing SaslHandshake: this listener "
                      "authenticates with hoop_auth mtls");
        hoop_sasl_set_int(root, "ErrorCode",
                          HOOP_KAFKA_ERR_ILLEGAL_SASL_STATE);

    } else if (hs->sasl_state != HOOP_SASL_START) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: refusing SaslHandshake in the middle of a SASL "
                      "exchange");
        hoop_sasl_set_int(root, "ErrorCode",
                          HOOP_KAFKA_ERR_ILLEGAL_SASL_STATE);

    } else {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: refusing SASL mechanism \"%V\": not in "
                      "hoop_sasl_mechanisms", &mech);
        hoop_sasl_set_int(root, "ErrorCode",
                          HOOP_KAFKA_ERR_UNSUPPORTED_SASL_MECH);
    }

    return hoop_sasl_answer(hs, req, root, 1);
}


static ngx_int_t
hoop_sasl_authenticate(hoop_session_t *hs, hoop_request_t *req)
{
    size_t              len;
    int64_t             lifetime;
    ngx_int_t           rc;
    ngx_str_t           out, reason;
    ngx_connection_t   *c;
    hoop_kafka_node_t  *root;
    const uint8_t      *p;

    c = hs->session->connection;

    root = hoop_codec_answer_start(req);
    if (root == NULL) {
        return NGX_ERROR;
    }

    if (hs->sasl_state != HOOP_SASL_HANDSHAKEN) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: refusing SaslAuthenticate without "
                      "SaslHandshake v1 first");
        hoop_sasl_set_int(root, "ErrorCode",
                          HOOP_KAFKA_ERR_ILLEGAL_SASL_STATE);
        hoop_sasl_set_str(root, "ErrorMessage",
                          (u_char *) "SaslHandshake must come first", 29);
        return hoop_sasl_answer(hs, req, root, 1);
    }

    p = hoop_kafka_node_bytes(hoop_kafka_node_child(req->root, "AuthBytes"),
                              &len);

    rc = hoop_sasl_step(hs, p, len, &out, &reason);

    switch (rc) {

    case NGX_AGAIN:
        hoop_sasl_set_str(root, "AuthBytes", out.data, out.len);
        return hoop_sasl_answer(hs, req, root, 0);

    case NGX_OK:
        hoop_sasl_set_str(root, "AuthBytes", out.data, out.len);

        lifetime = 0;

        if (hs->identity.expires) {
            lifetime = (ngx_msec_int_t) (hs->identity.expires
                                         - ngx_current_msec);
            lifetime = ngx_max(lifetime, 1);
        }

        hoop_sasl_set_int(root, "SessionLifetimeMs", lifetime);

        return hoop_sasl_answer(hs, req, root, 0);

    case NGX_DECLINED:
        hoop_sasl_set_int(root, "ErrorCode",
                          HOOP_KAFKA_ERR_SASL_AUTH_FAILED);
        hoop_sasl_set_str(root, "ErrorMessage", reason.data, reason.len);
        return hoop_sasl_answer(hs, req, root, 1);

    default:
        return NGX_ERROR;
    }
}


/*
 * After SaslHandshake v0 the client sends bare tokens, size-prefixed like
 * frames but without a header; the answers are framed the same way.
 */

ngx_int_t
hoop_auth_raw_token(hoop_session_t *hs, u_char *frame, size_t size)
{
    u_char     *answer;
    ngx_int_t   rc;
    ngx_str_t   out, reason;

    rc = hoop_sasl_step(hs, frame + 4, size - 4, &out, &reason);

    ngx_free(frame);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        /* KIP-43 v0: no error to send, the broker just closes */
        return NGX_ERROR;
    }

    answer = ngx_alloc(4 + out.len, hs->session->connection->log);
    if (answer == NULL) {
        return NGX_ERROR;
    }

    answer[0] = (u_char) (out.len >> 24);
    answer[1] = (u_char) (out.len >> 16);
    answer[2] = (u_char) (out.len >> 8);
    answer[3] = (u_char) out.len;
    ngx_memcpy(answer + 4, out.data, out.len);

    return hoop_request_answer(hs, NULL, answer, 4 + out.len, 0);
}


/*
 * One mechanism step.  NGX_AGAIN: out is a challenge; NGX_OK: the client
 * is authenticated (hs->identity set), out is the server's last message;
 * NGX_DECLINED: refused, reason is for the client (generic) while the log
 * line says why; NGX_ERROR: internal failure.
 */

static ngx_int_t
hoop_sasl_step(hoop_session_t *hs, const u_char *in, size_t len,
    ngx_str_t *out, ngx_str_t *reason)
{
    ngx_int_t          rc;
    ngx_str_t          previous;
    ngx_connection_t  *c;

    c = hs->session->connection;
    out->len = 0;
    out->data = (u_char *) "";

    ngx_str_set(reason, "Authentication failed: invalid credentials");

    previous = hs->identity.authenticated ? hs->identity.principal
                                          : (ngx_str_t) ngx_null_string;

    rc = hoop_mech_step(hs, hs->mech, in, len, out, reason);

    if (rc == NGX_AGAIN || rc == NGX_ERROR) {
        return rc;
    }

    hs->sasl_state = HOOP_SASL_START;

    if (rc == NGX_OK && previous.len
        && (previous.len != hs->identity.principal.len
            || ngx_memcmp(previous.data, hs->identity.principal.data,
                          previous.len) != 0))
    {
        /* KIP-368: re-authentication may not change who this is */
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: SASL re-authentication as \"%V\" on a "
                      "connection of \"%V\" refused",
                      &hs->identity.principal, &previous);
        hs->identity.authenticated = 0;
        ngx_str_set(reason, "Re-authentication must keep the principal");
        hoop_audit_auth(hs, 0, reason);
        return NGX_DECLINED;
    }

    if (rc == NGX_OK) {
        hs->identity.authenticated = 1;

        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "hoop: client authenticated as \"%V\" with %s%s",
                      &hs->identity.principal, hs->identity.method,
                      previous.len ? " (re-authentication)" : "");
        hoop_audit_auth(hs, 1, NULL);
        return NGX_OK;
    }

    hs->identity.authenticated = 0;

    if (hs->identity.method == NULL && hs->mech) {
        /* the mechanism tried: for the audit event and the metrics */
        hs->identity.method = hoop_mech_name(hs->mech);
    }

    hoop_audit_auth(hs, 0, reason);

    return NGX_DECLINED;
}


static ngx_int_t
hoop_sasl_answer(hoop_session_t *hs, hoop_request_t *req,
    hoop_kafka_node_t *root, ngx_uint_t close_after)
{
    u_char  *frame;
    size_t   size;

    if (hoop_codec_answer(req, root, &frame, &size) != NGX_OK) {
        return NGX_ERROR;
    }

    if (hoop_request_answer(hs, req, frame, size, close_after) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
hoop_sasl_set_int(hoop_kafka_node_t *root, const char *name, int64_t v)
{
    hoop_kafka_node_t  *n;

    n = hoop_kafka_node_child(root, name);

    if (n) {
        (void) hoop_kafka_node_set_int(n, v);
    }
}


static void
hoop_sasl_set_str(hoop_kafka_node_t *root, const char *name, u_char *data,
    size_t len)
{
    hoop_kafka_node_t  *n;

    n = hoop_kafka_node_child(root, name);

    if (n) {
        (void) hoop_kafka_node_set_string(n, data, len);
    }
}
