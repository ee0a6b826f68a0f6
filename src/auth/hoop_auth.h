/*
 * Authentication on the gateway: client SASL terminated here (KIP-43
 * SaslHandshake, KIP-152 SaslAuthenticate, KIP-368 re-authentication),
 * mTLS identity, and the gate that keeps every request but ApiVersions and
 * the SASL exchange away from brokers until the caller is identified.
 */

#ifndef _HOOP_AUTH_H_INCLUDED_
#define _HOOP_AUTH_H_INCLUDED_


#include "../session/hoop_session.h"
#include "../session/hoop_codec.h"
#include "hoop_identity.h"


/* Kafka error codes the gateway answers with */
#define HOOP_KAFKA_ERR_NONE                      0
#define HOOP_KAFKA_ERR_UNSUPPORTED_SASL_MECH    33
#define HOOP_KAFKA_ERR_ILLEGAL_SASL_STATE       34
#define HOOP_KAFKA_ERR_SASL_AUTH_FAILED         58


/* The SASL mechanism of a connection, whichever library implements it. */
typedef struct hoop_mech_s  hoop_mech_t;


/*
 * Client SASL state of a connection.
 */
typedef enum {
    HOOP_SASL_START = 0,          /* nothing yet, or authenticated */
    HOOP_SASL_HANDSHAKEN,         /* SaslHandshake v1 done */
    HOOP_SASL_RAW,                /* SaslHandshake v0: raw tokens follow */
} hoop_sasl_state_e;


/*
 * hoop_auth_request(): a client request while hoop_auth is sasl or mtls.
 * Returns NGX_OK when the request was answered by the gateway (SASL),
 * NGX_DECLINED when it may go on to the broker, NGX_ERROR to close
 * (logged).
 */
ngx_int_t hoop_auth_request(hoop_session_t *hs, hoop_request_t *req,
    u_char *frame, size_t size);

/* A whole frame after SaslHandshake v0: a raw SASL token (KIP-43). */
ngx_int_t hoop_auth_raw_token(hoop_session_t *hs, u_char *frame,
    size_t size);

/* mTLS: principal from the verified client certificate; logs refusals. */
ngx_int_t hoop_mtls_identify(ngx_stream_session_t *s, hoop_srv_conf_t *conf,
    hoop_identity_t *id);
ngx_int_t hoop_mtls_map(ngx_pool_t *pool, ngx_array_t *rules,
    ngx_str_t *name, ngx_str_t *principal);

/* Mechanisms: see hoop_mech.c */
ngx_int_t hoop_mech_enabled(hoop_srv_conf_t *conf, ngx_str_t *name);
hoop_mech_t *hoop_mech_start(hoop_session_t *hs, ngx_str_t *name);
ngx_int_t hoop_mech_step(hoop_session_t *hs, hoop_mech_t *m,
    const u_char *in, size_t len, ngx_str_t *out, ngx_str_t *reason);
void hoop_mech_free(hoop_mech_t *m);
/* "PLAIN", "SCRAM-SHA-256", ..., "OAUTHBEARER" */
const char *hoop_mech_name(hoop_mech_t *m);

/* The gateway's own SASL toward the broker: hoop_upstream.c */
#define HOOP_UP_NONE        0
#define HOOP_UP_HANDSHAKE   1
#define HOOP_UP_AUTH        2
#define HOOP_UP_DONE        3
#define HOOP_UP_REAUTH      4      /* due: waiting for in-flight answers */

char *hoop_upstream_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t hoop_upstream_start(hoop_session_t *hs);
ngx_int_t hoop_upstream_response(hoop_session_t *hs, u_char *frame,
    size_t size);
ngx_int_t hoop_upstream_forward(hoop_session_t *hs, hoop_out_t *o,
    ngx_uint_t expects_response);
ngx_int_t hoop_upstream_answered(hoop_session_t *hs);
void hoop_upstream_cleanup(hoop_session_t *hs);

/* the broker's answers belong to the gateway's own exchange */
#define hoop_upstream_owns_response(hs)                                      \
    ((hs)->up_state == HOOP_UP_HANDSHAKE || (hs)->up_state == HOOP_UP_AUTH)

/* nginx variables $hoop_principal, $hoop_groups, $hoop_auth_method */
ngx_int_t hoop_auth_add_variables(ngx_conf_t *cf);


#endif /* _HOOP_AUTH_H_INCLUDED_ */
