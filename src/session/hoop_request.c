/*
 * Client requests: one complete frame at a time, in arrival order.  Each
 * request is checked against the codec (known ApiKey, a version the gateway
 * can decode), gets a slot in the in-flight queue unless it expects no
 * response (Produce with acks=0), and is forwarded or answered locally.
 */

#include "hoop_session.h"
#include "hoop_codec.h"


ngx_int_t
hoop_request_frame(hoop_session_t *hs, u_char *frame, size_t size)
{
    u_char            *answer;
    size_t             answer_size;
    ngx_int_t          rc;
    hoop_out_t        *o;
    hoop_slot_t       *slot;
    ngx_connection_t  *c;
    hoop_request_t     req;

    c = hs->session->connection;

    rc = hoop_codec_request(frame + 4, size - 4, &req);

    if (rc == HOOP_REQUEST_VERSIONS_FALLBACK) {
        /*
         * KIP-511: a client newer than the gateway asks ApiVersions with a
         * version we cannot decode: answer v0-framed UNSUPPORTED_VERSION
         * with our range, so it retries with one we know.
         */
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "hoop: ApiVersions v%d is newer than the gateway "
                      "supports, answered UNSUPPORTED_VERSION",
                      req.api_version);

        ngx_free(frame);

        if (hoop_codec_versions_fallback(req.correlation_id, &answer,
                                         &answer_size)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        slot = hoop_slot_push(hs, req.correlation_id, req.api_key,
                              req.api_version, 1);
        o = hoop_out_wrap(answer, answer_size);

        if (slot == NULL || o == NULL) {
            ngx_free(answer);
            return NGX_ERROR;
        }

        slot->answer = o;
        hoop_slot_release_local(hs);

        return NGX_OK;
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: bad Kafka request from "
                      "client: %s (ApiKey %d, ApiVersion %d, %uz bytes)",
                      req.error, req.api_key, req.api_version, size - 4);
        ngx_free(frame);
        return NGX_ERROR;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_STREAM, c->log, 0,
                   "hoop request %s v%d correlation id %D, %uz bytes",
                   req.api_name, (int) req.api_version, req.correlation_id,
                   size);

    if (req.expects_response) {
        slot = hoop_slot_push(hs, req.correlation_id, req.api_key,
                              req.api_version, 0);
        if (slot == NULL) {
            ngx_free(frame);
            return NGX_ERROR;
        }
    }

    o = hoop_out_wrap(frame, size);
    if (o == NULL) {
        ngx_free(frame);
        return NGX_ERROR;
    }

    hoop_out_queue(hs, HOOP_DIR_REQUEST, o);

    return NGX_OK;
}
