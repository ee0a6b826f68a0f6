/*
 * Who a Kafka connection belongs to: the principal and groups established
 * by SASL terminated at the gateway or by the verified client certificate,
 * how, and until when (KIP-368 session lifetime).
 */

#ifndef _HOOP_IDENTITY_H_INCLUDED_
#define _HOOP_IDENTITY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>


/* hoop_auth */
#define HOOP_AUTH_NONE      0
#define HOOP_AUTH_SASL      1
#define HOOP_AUTH_MTLS      2


typedef struct {
    ngx_str_t            principal;      /* "alice"; "ANONYMOUS" with none */
    ngx_array_t         *groups;         /* of ngx_str_t, may be NULL */
    const char          *method;         /* "PLAIN", "SCRAM-SHA-256",
                                            "OAUTHBEARER", "mTLS", "none" */
    ngx_msec_t           expires;        /* ngx_current_msec deadline, 0:
                                            none */
    unsigned             authenticated:1;
} hoop_identity_t;


/* hoop_mtls_principal_rule REGEX REPLACEMENT */
typedef struct {
    ngx_regex_t         *regex;
    ngx_str_t            pattern;
    ngx_str_t            replacement;    /* $1..$9 from the match */
} hoop_mtls_rule_t;


#endif /* _HOOP_IDENTITY_H_INCLUDED_ */
