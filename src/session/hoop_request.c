/*
 * Client requests: one complete frame at a time, in arrival order.  Each
 * request is checked against the codec (known ApiKey, a version the gateway
 * can decode), passes the authentication gate, gets a slot in the
 * in-flight queue unless it expects no response (Produce with acks=0), and
 * is forwarded or answered locally.
 */

#include "hoop_session.h"
#include "hoop_codec.h"
#include "../auth/hoop_auth.h"
#include "hoop_authorize.h"
#include "../audit/hoop_audit.h"
#include "../metrics/hoop_metrics.h"
#include "hoop_stats.h"
#include "hoop_resolve.h"
#include "hoop_hold.h"


static ngx_int_t hoop_request_fallback(hoop_session_t *hs,
    hoop_request_t *req);


ngx_int_t
hoop_request_frame(hoop_session_t *hs, u_char *frame, size_t size)
{
    u_char             *orig, *copy;
    ngx_int_t           rc;
    hoop_out_t         *o;
    hoop_slot_t        *slot;
    ngx_connection_t   *c;
    hoop_request_t      req;
    hoop_authz_plan_t  *plan;

    c = hs->session->connection;
    plan = NULL;
    orig = frame;

    if (hs->closing) {
        /* an authentication refusal is on its way out: nothing more */
        ngx_free(frame);
        return NGX_OK;
    }

    if (hs->ids_state == HOOP_IDS_ASKING) {
        /* behind a request waiting for the broker's topic ids: in order */
        return hoop_resolve_hold(hs, frame, size);
    }

    if (hoop_hold_active(hs)) {
        /* behind a request held for an approval: in order */
        return hoop_hold_queue(hs, frame, size);
    }

    if (hs->sasl_state == HOOP_SASL_RAW) {
        return hoop_auth_raw_token(hs, frame, size);
    }

    rc = hoop_codec_request(frame + 4, size - 4, &req);

    if (rc == HOOP_REQUEST_VERSIONS_FALLBACK) {
        ngx_free(frame);
        rc = hoop_request_fallback(hs, &req);
        hoop_codec_request_free(&req);
        return rc;
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: bad Kafka request from "
                      "client: %s (ApiKey %d, ApiVersion %d, %uz bytes)",
                      req.error, req.api_key, req.api_version, size - 4);
        hoop_audit_protocol_error(hs, req.error);
        goto failed;
    }

    if (hs->audit) {
        hoop_audit_client(hs, &req);

        if (!hoop_audit_accepting()) {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "hoop: closing connection: the audit spool is "
                          "full and Redis is away (hoop_audit_spool "
                          "full=refuse)");
            goto failed;
        }
    }

    ngx_log_debug4(NGX_LOG_DEBUG_STREAM, c->log, 0,
                   "hoop request %s v%d correlation id %D, %uz bytes",
                   req.api_name, (int) req.api_version, req.correlation_id,
                   size);

    if (hs->conf->auth != HOOP_AUTH_NONE) {
        rc = hoop_auth_request(hs, &req, frame, size);

        if (rc == NGX_OK) {
            /* answered by the gateway */
            hoop_stats_request(hs, req.api_key, HOOP_METRIC_LOCAL);
            hoop_codec_request_free(&req);
            ngx_free(frame);
            return NGX_OK;
        }

        if (rc == NGX_ERROR) {
            goto failed;
        }
    }

    if (hs->conf->policy) {
        /* topic ids the worker does not know: the gateway asks first */
        rc = hoop_resolve_request(hs, &req, frame, size);

        if (rc == NGX_DONE) {
            /* held; taken again from the start once the broker answered */
            hoop_codec_request_free(&req);
            return NGX_OK;
        }

        if (rc != NGX_OK) {
            goto failed;
        }

        rc = hoop_authorize_request(hs, &req, &frame, &size, &plan);

        if (rc == NGX_DONE) {
            /* denied: the gateway answered */
            hoop_codec_request_free(&req);
            ngx_free(orig);
            return NGX_OK;
        }

        if (rc == NGX_AGAIN) {
            /* held for an approval; taken again from the start once it
             * is decided (the frame is the client's, unchanged) */
            rc = hoop_hold_start(hs, &req, orig, size);
            hoop_codec_request_free(&req);
            return rc;
        }

        if (rc != NGX_OK) {
            goto failed;
        }
    }

    if (hs->conf->policy == NULL) {
        hoop_stats_request(hs, req.api_key, HOOP_METRIC_UNCHECKED);
    }

    if (req.expects_response) {
        slot = hoop_slot_push(hs, req.correlation_id, req.api_key,
                              req.api_version, 0);
        if (slot == NULL) {
            goto failed;
        }

        if (plan) {
            /* the broker's answer gets fixed: keep the plan, its pool and
             * the request bytes its names point into */
            if (frame == orig) {
                copy = ngx_alloc(size, c->log);
                if (copy == NULL) {
                    goto failed;
                }

                ngx_memcpy(copy, frame, size);
                frame = copy;
            }

            slot->plan = plan;
            slot->pool = req.pool;
            slot->request = orig;
            req.pool = NULL;
            orig = NULL;
        }
    }

    hoop_codec_request_free(&req);

    if (orig && orig != frame) {
        ngx_free(orig);    /* forwarded as rewritten */
    }

    if (hs->audit) {
        /* session recording: the request as forwarded */
        hoop_audit_record_frame(hs, frame, size);
    }

    o = hoop_out_wrap(frame, size);
    if (o == NULL) {
        ngx_free(frame);
        return NGX_ERROR;
    }

    if (hs->conf->upstream_sasl) {
        /* the gateway's own SASL login to the broker may come first */
        return hoop_upstream_forward(hs, o, req.expects_response);
    }

    hoop_out_queue(hs, HOOP_DIR_REQUEST, o);

    return NGX_OK;

failed:

    hoop_stats_request(hs, req.api_key, HOOP_METRIC_REFUSED);
    hoop_codec_request_free(&req);

    if (frame != orig) {
        ngx_free(frame);
    }

    if (orig) {
        ngx_free(orig);
    }

    return NGX_ERROR;
}


/*
 * KIP-511: a client newer than the gateway asks ApiVersions with a version
 * we cannot decode: answer v0-framed UNSUPPORTED_VERSION with our range,
 * so it retries with one we know.
 */

static ngx_int_t
hoop_request_fallback(hoop_session_t *hs, hoop_request_t *req)
{
    u_char  *answer;
    size_t   answer_size;

    ngx_log_error(NGX_LOG_INFO, hs->session->connection->log, 0,
                  "hoop: ApiVersions v%d is newer than the gateway "
                  "supports, answered UNSUPPORTED_VERSION",
                  req->api_version);

    if (hoop_codec_versions_fallback(req->correlation_id, &answer,
                                     &answer_size)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return hoop_request_answer(hs, req, answer, answer_size, 0);
}


ngx_int_t
hoop_request_answer(hoop_session_t *hs, hoop_request_t *req, u_char *answer,
    size_t size, ngx_uint_t close_after)
{
    hoop_out_t   *o;
    hoop_slot_t  *slot;

    slot = hoop_slot_push(hs, req ? req->correlation_id : 0,
                          req ? req->api_key : -1,
                          req ? req->api_version : -1, 1);
    o = hoop_out_wrap(answer, size);

    if (slot == NULL || o == NULL) {
        ngx_free(answer);
        return NGX_ERROR;
    }

    slot->answer = o;
    slot->close_after = close_after;

    if (hs->audit && req) {
        hoop_audit_record_response(hs, req->api_key, req->api_version,
                                   req->correlation_id, 1, answer, size);
    }

    if (close_after) {
        /* nothing after a refusal reaches the broker */
        hs->closing = 1;
    }

    hoop_slot_release_local(hs);

    return NGX_OK;
}
