/*
 * Per-connection state of a Kafka session crossing the gateway: one frame
 * reassembler per direction, the queue of in-flight requests that keeps
 * responses in request order, and the module's own output buffers.
 */

#ifndef _HOOP_SESSION_H_INCLUDED_
#define _HOOP_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "../auth/hoop_identity.h"
#include "../audit/hoop_audit_conf.h"
#include "../kafka/hoop_frame.h"


#define HOOP_DIR_REQUEST     0      /* client -> broker (from_upstream 0) */
#define HOOP_DIR_RESPONSE    1      /* broker -> client (from_upstream 1) */

/*
 * A private bit in ngx_connection_t.buffered: 0x0f is the low level (SSL),
 * 0x10 the stream write filter.  Set while the module holds output for a
 * connection that the proxy would otherwise consider idle.
 */
#define HOOP_BUFFERED        0x20



typedef struct hoop_srv_conf_s   hoop_srv_conf_t;
typedef struct hoop_main_conf_s  hoop_main_conf_t;


/* hoop_broker_address NODE HOST:PORT */
typedef struct {
    ngx_int_t            node_id;
    ngx_str_t            host;
    ngx_int_t            port;
} hoop_broker_address_t;


typedef struct hoop_redis_conf_s  hoop_redis_conf_t;      /* src/redis */
typedef struct hoop_policy_state_s  hoop_policy_state_t;   /* authorize */


struct hoop_main_conf_s {
    hoop_redis_conf_t   *redis;              /* hoop_redis, or NULL */
    ngx_str_t            policy_cache;       /* hoop_policy_cache FILE */
    hoop_policy_state_t *redis_policy;       /* hoop_policy redis, or NULL */
    hoop_audit_conf_t    audit;              /* hoop_audit_*, hoop_node_name */
};


/* hoop_mtls_principal_from */
#define HOOP_MTLS_SUBJECT    0
#define HOOP_MTLS_SAN_DNS    1
#define HOOP_MTLS_SAN_EMAIL  2
#define HOOP_MTLS_SAN_URI    3


typedef struct hoop_auth_conf_s  hoop_auth_conf_t;   /* src/auth */
typedef struct hoop_stats_s  hoop_stats_t;           /* hoop_stats.c */
typedef struct hoop_upstream_sasl_s  hoop_upstream_sasl_t;


struct hoop_srv_conf_s {
    ngx_flag_t           enable;
    size_t               max_frame_size;
    size_t               buffer_size;
    ngx_array_t         *broker_addresses;   /* of hoop_broker_address_t */

    ngx_uint_t           auth;               /* HOOP_AUTH_* */
    ngx_array_t         *sasl_mechanisms;    /* of ngx_str_t */
    ngx_msec_t           session_lifetime;   /* 0: unlimited */
    ngx_uint_t           mtls_principal_from;
    ngx_array_t         *mtls_rules;         /* of hoop_mtls_rule_t */
    hoop_auth_conf_t    *auth_conf;          /* credentials, JWKS, ... */
    hoop_upstream_sasl_t *upstream_sasl;     /* the gateway's own login */
    hoop_policy_state_t  *policy;            /* hoop_policy, or NULL */
    ngx_flag_t            audit;             /* hoop_audit */

    /* topic id -> name, this worker's for this server (hoop_resolve.c);
     * created on first use after fork, never merged */
    struct hoop_topic_ids_s *topic_ids;
    unsigned              topic_ids_failed:1;
};


/*
 * An output frame owned by the module, memory from ngx_alloc(): Kafka
 * connections live for hours, so nothing per frame comes from c->pool.
 */
typedef struct hoop_out_s  hoop_out_t;

struct hoop_out_s {
    ngx_buf_t            buf;
    u_char              *data;               /* ngx_free() when sent */
    hoop_out_t          *next;
    unsigned             owed:1;             /* the broker will answer */
};


/* A request whose response the client is owed, in request order. */
typedef struct hoop_slot_s  hoop_slot_t;

struct hoop_slot_s {
    int32_t              correlation_id;
    int16_t              api_key;
    int16_t              api_version;
    unsigned             local:1;            /* answered by the gateway */
    unsigned             own:1;              /* the gateway's own request:
                                                its answer stays here */
    unsigned             close_after:1;      /* close once it is sent */
    hoop_out_t          *answer;             /* local answer, when ready */

    /* a response the policy must fix: the plan, its pool and the request
     * frame its names point into (hoop_authorize.c) */
    struct hoop_authz_plan_s *plan;
    ngx_pool_t          *pool;
    u_char              *request;
    hoop_slot_t         *next;
};


/* Frame reassembly state for one direction. */
typedef struct {
    hoop_frame_reader_t  reader;             /* ../kafka/hoop_frame.h */

    ngx_chain_t         *pending;            /* proxy bufs not yet consumed */

    hoop_out_t          *out;                /* ready, not given to next */
    hoop_out_t         **out_last;
    hoop_out_t          *busy;               /* given to next, not sent */
    size_t               queued;             /* bytes in out and busy */

    uint64_t             frames;
} hoop_dir_t;


typedef struct {
    ngx_stream_session_t *session;
    hoop_srv_conf_t      *conf;
    hoop_dir_t           dir[2];

    hoop_slot_t          *inflight;          /* head: oldest request */
    hoop_slot_t         **inflight_last;
    ngx_uint_t            ninflight;
    hoop_slot_t          *free_slots;

    hoop_identity_t       identity;
    ngx_uint_t            sasl_state;        /* hoop_sasl_state_e */
    struct hoop_mech_s   *mech;

    /* the gateway's SASL toward the broker (hoop_upstream.c) */
    ngx_uint_t            up_state;          /* HOOP_UP_* */
    struct hoop_sasl_client_s *up_client;
    int32_t               up_correlation;
    int64_t               up_lifetime;       /* broker's session, ms */
    ngx_msec_t            up_deadline;       /* re-authenticate after */
    ngx_uint_t            up_outstanding;    /* forwarded, unanswered */
    hoop_out_t           *held;              /* client frames waiting */
    hoop_out_t          **held_last;
    size_t                held_bytes;

    /* topic ids the gateway asks the broker about (hoop_resolve.c) */
    ngx_uint_t            ids_state;         /* HOOP_IDS_* */
    int32_t               ids_correlation;   /* of its own Metadata */
    int16_t               metadata_max;      /* the broker's; -1: unknown */
    hoop_out_t           *ids_held;          /* client frames waiting */
    hoop_out_t          **ids_held_last;
    size_t                ids_held_bytes;

    struct hoop_hold_session_s *approvals;   /* hoop_hold.c, or NULL */

    struct hoop_audit_session_s *audit;      /* hoop_audit on, else NULL */
    struct hoop_stats_s  *stats;             /* hoop_stats.c */

    unsigned              error:1;
    unsigned              closing:1;         /* answer sent, then close */
} hoop_session_t;


/* Source: Kafka protocol guide, "Common Request and Response Structure". */
ngx_int_t hoop_session_consume(hoop_session_t *hs, ngx_uint_t dir);
size_t hoop_session_backlog(hoop_session_t *hs, ngx_uint_t dir);
ngx_int_t hoop_session_emit(hoop_session_t *hs, ngx_uint_t dir,
    ngx_stream_filter_pt next);
hoop_session_t *hoop_session_create(ngx_stream_session_t *s,
    hoop_srv_conf_t *conf);

/* frame handlers: one complete frame, prefix included, owned by the callee */
ngx_int_t hoop_request_frame(hoop_session_t *hs, u_char *frame, size_t size);
ngx_int_t hoop_response_frame(hoop_session_t *hs, u_char *frame,
    size_t size);

/* output helpers */
hoop_out_t *hoop_out_wrap(u_char *data, size_t size);
void hoop_out_queue(hoop_session_t *hs, ngx_uint_t dir, hoop_out_t *out);
void hoop_out_free(hoop_out_t *out);

/* in-flight queue */
hoop_slot_t *hoop_slot_push(hoop_session_t *hs, int32_t correlation_id,
    int16_t api_key, int16_t api_version, unsigned local);
void hoop_slot_pop(hoop_session_t *hs);
void hoop_slot_release_local(hoop_session_t *hs);


#endif /* _HOOP_SESSION_H_INCLUDED_ */
