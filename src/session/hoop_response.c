/*
 * Broker responses: matched to the oldest in-flight request (Kafka answers
 * a connection's requests in order), rewritten where they carry broker
 * addresses or API versions, and queued to the client, followed by any
 * local answers that were waiting behind that request.
 */

#include "hoop_session.h"
#include "hoop_codec.h"
#include "../auth/hoop_auth.h"
#include "hoop_authorize.h"
#include "../audit/hoop_audit.h"
#include "hoop_resolve.h"
#include "hoop_masking.h"


ngx_int_t
hoop_response_frame(hoop_session_t *hs, u_char *frame, size_t size)
{
    u_char            *out;
    size_t             out_size;
    int32_t            correlation_id;
    ngx_int_t          rc;
    hoop_out_t        *o;
    hoop_slot_t       *slot;
    ngx_connection_t  *c;

    c = hs->session->connection;

    if (hs->conf->upstream_sasl && hoop_upstream_owns_response(hs)) {
        return hoop_upstream_response(hs, frame, size);
    }

    correlation_id = (int32_t) (((uint32_t) frame[4] << 24)
                                | ((uint32_t) frame[5] << 16)
                                | ((uint32_t) frame[6] << 8)
                                | (uint32_t) frame[7]);

    slot = hs->inflight;

    if (slot && slot->own) {
        /* the gateway's own request: the answer stays here */
        return hoop_resolve_response(hs, frame, size);
    }

    if (slot == NULL || slot->local) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: broker sent a response "
                      "with correlation id %D but no request is waiting "
                      "for one", correlation_id);
        ngx_free(frame);
        return NGX_ERROR;
    }

    if (slot->correlation_id != correlation_id) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: broker response has "
                      "correlation id %D, the oldest request in flight "
                      "has %D", correlation_id, slot->correlation_id);
        ngx_free(frame);
        return NGX_ERROR;
    }

    out = frame;
    out_size = size;

    if (slot->plan == NULL && hs->conf->policy
        && hoop_resolve_teaches(slot->api_key, slot->api_version))
    {
        /* topic ids for later requests of any session of the server
         * (with a plan, hoop_authorize_response() learns) */
        hoop_resolve_learn_frame(hs, slot->api_key, slot->api_version,
                                 frame, size);
    }

    if (slot->plan) {
        /* the policy filters and merges the broker's answer */
        rc = hoop_authorize_response(hs, slot, &out, &out_size);

        if (rc != NGX_OK) {
            ngx_free(frame);
            return NGX_ERROR;
        }

        if (out != frame) {
            ngx_free(frame);
            frame = out;
            size = out_size;
        }
    }

    if (slot->api_key == HOOP_KAFKA_API_FETCH && hs->conf->policy) {
        /* the records as this caller may read them (the policy now) */
        rc = hoop_masking_fetch(hs, slot, &out, &out_size);

        if (rc != NGX_OK) {
            ngx_free(frame);
            return NGX_ERROR;
        }

        if (out != frame) {
            ngx_free(frame);
            frame = out;
            size = out_size;
        }
    }

    rc = hoop_codec_response(hs, slot->api_key, slot->api_version,
                             &out, &out_size);

    if (rc != NGX_OK) {
        /* the codec left out == frame and logged why */
        ngx_free(frame);
        return NGX_ERROR;
    }

    if (out != frame) {
        ngx_free(frame);
    }

    if (hs->audit) {
        if (slot->api_key == HOOP_KAFKA_API_FETCH) {
            hoop_audit_fetch_response(hs, slot->api_version, out, out_size);
        }

        hoop_audit_record_response(hs, slot->api_key, slot->api_version,
                                   slot->correlation_id, 0, out, out_size);
    }

    hoop_slot_pop(hs);

    o = hoop_out_wrap(out, out_size);
    if (o == NULL) {
        ngx_free(out);
        return NGX_ERROR;
    }

    hoop_out_queue(hs, HOOP_DIR_RESPONSE, o);

    hoop_slot_release_local(hs);

    if (hs->conf->upstream_sasl) {
        return hoop_upstream_answered(hs);
    }

    return NGX_OK;
}
