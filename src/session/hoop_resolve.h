/*
 * Topic ids on the data path (KIP-516): the worker's map of ids to names
 * (src/kafka/hoop_topic_ids.h), learned from the broker's answers that
 * pass through any session of the server, and the gateway's own Metadata
 * request when a client names an id the map does not know.
 *
 * Asking: the request is held, the gateway sends Metadata for all topics
 * upstream on that connection (its own correlation id, after the client's
 * requests already forwarded), every client request behind the held one
 * waits too, in order.  The broker's answer stays in the gateway: it is
 * learned, then the held requests are taken again in order and planned
 * with what is known now; an id still unknown is answered
 * UNKNOWN_TOPIC_ID (100) by the planner, as Kafka answers an id it does
 * not know.  Nothing naming an id goes to the broker before its name was
 * authorized.
 */

#ifndef _HOOP_RESOLVE_H_INCLUDED_
#define _HOOP_RESOLVE_H_INCLUDED_


#include "hoop_session.h"
#include "hoop_codec.h"
#include "../kafka/hoop_topic_ids.h"


/* hoop_session_t.ids_state */
#define HOOP_IDS_NONE        0
#define HOOP_IDS_ASKING      1      /* own Metadata in flight: hold frames */
#define HOOP_IDS_DRAINING    2      /* replaying held frames: no new ask */


/* The map of this worker for the session's server, created on first use;
 * NULL if out of memory (every id is then unknown). */
hoop_topic_ids_t *hoop_resolve_map(hoop_session_t *hs);

/*
 * Before a request is authorized: NGX_OK to go on (no id, all known, or
 * nothing to ask), NGX_DONE when the frame (prefix included, owned from
 * here on) is held while the gateway asks the broker, NGX_ERROR to close
 * (the caller still owns the frame).
 */
ngx_int_t hoop_resolve_request(hoop_session_t *hs, hoop_request_t *req,
    u_char *frame, size_t size);

/* A client frame taken while the gateway asks: kept, in order (owned
 * from here on, freed on NGX_ERROR). */
ngx_int_t hoop_resolve_hold(hoop_session_t *hs, u_char *frame, size_t size);

/* The broker's answer to the gateway's own Metadata request (the oldest
 * in-flight slot is own): learned and freed, then the held frames go on.
 * NGX_ERROR closes (logged). */
ngx_int_t hoop_resolve_response(hoop_session_t *hs, u_char *frame,
    size_t size);

/* 1 if a response of (api_key, version) may carry topic ids to learn. */
ngx_uint_t hoop_resolve_teaches(int16_t api_key, int16_t version);

/* Learns from a broker response to a client: its decoded body, or the
 * whole frame (decoded here; a frame that does not decode is left to the
 * code that forwards it). */
void hoop_resolve_learn(hoop_session_t *hs, int16_t api_key,
    hoop_kafka_node_t *root);
void hoop_resolve_learn_frame(hoop_session_t *hs, int16_t api_key,
    int16_t version, u_char *frame, size_t size);

void hoop_resolve_cleanup(hoop_session_t *hs);


#endif /* _HOOP_RESOLVE_H_INCLUDED_ */
