/*
 * A connection's request summary for the access log variables, kept
 * beside the shared metrics (hoop_stats.c).
 */

#ifndef _HOOP_STATS_H_INCLUDED_
#define _HOOP_STATS_H_INCLUDED_


#include "hoop_session.h"
#include "../metrics/hoop_metrics.h"


/* one request's outcome: the shared counters and the session's summary */
void hoop_stats_request(hoop_session_t *hs, int16_t api_key,
    hoop_metric_decision_e d);

/* an authentication (or re-authentication) succeeded or failed */
void hoop_stats_auth(hoop_session_t *hs, ngx_uint_t ok);

/* a topic the policy was asked about, for $hoop_topics */
void hoop_stats_topic(hoop_session_t *hs, const u_char *name, size_t len);

/* preconfiguration: $hoop_requests, $hoop_decision, $hoop_decisions,
 * $hoop_api_keys, $hoop_api_key, $hoop_topics, $hoop_session_id */
ngx_int_t hoop_stats_add_variables(ngx_conf_t *cf);


#endif /* _HOOP_STATS_H_INCLUDED_ */
