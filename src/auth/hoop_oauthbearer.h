/*
 * hoop_oauthbearer: the SASL OAUTHBEARER mechanism (RFC 7628) as Kafka
 * clients speak it (KIP-255; extensions from KIP-342), nginx-free.
 *
 * The exchange the gateway terminates, inside SaslAuthenticate requests
 * (or raw frames after SaslHandshake v0):
 *
 *   client  initial response  "n,a=alice,\x01auth=Bearer <jwt>\x01\x01"
 *   server  success           empty auth_bytes, error_code 0
 *     or    failure           the error JSON from hoop_oauthbearer_error()
 *                             as a challenge (error_code 0) ...
 *   client                    "\x01" (hoop_oauthbearer_is_ack()) ...
 *   server                    error_code 58 (SASL_AUTHENTICATION_FAILED)
 *
 * This is the broker's own behaviour (OAuthBearerSaslServer): clients
 * expect the challenge and the acknowledgement before the failure.
 *
 * Plain C: no nginx headers.  Link with -ljansson.
 *
 * Memory: hoop_oauthbearer_parse() copies what it returns into malloc()ed
 * strings owned by the caller (hoop_oauthbearer_msg_free()); it keeps no
 * pointer to the input.  Errors: a message is written to err (may be NULL)
 * with at most errlen - 1 bytes; it never contains token bytes.
 */

#ifndef _HOOP_OAUTHBEARER_H_INCLUDED_
#define _HOOP_OAUTHBEARER_H_INCLUDED_


#include <stddef.h>


#define HOOP_OAUTHBEARER_MAX_LEN   (32 * 1024)  /* bytes of client message */
#define HOOP_OAUTHBEARER_MAX_EXT   32           /* key=value pairs */


typedef enum {
    HOOP_OAUTHBEARER_OK = 0,
    HOOP_OAUTHBEARER_ERR_ARG,          /* NULL argument */
    HOOP_OAUTHBEARER_ERR_NOMEM,        /* allocation failed */
    HOOP_OAUTHBEARER_ERR_TOO_LARGE,    /* over HOOP_OAUTHBEARER_MAX_LEN */
    HOOP_OAUTHBEARER_ERR_GS2,          /* GS2 header not "n,[a=...]," */
    HOOP_OAUTHBEARER_ERR_CBIND,        /* channel binding ("p=") asked */
    HOOP_OAUTHBEARER_ERR_AUTHZID,      /* bad saslname after "a=" */
    HOOP_OAUTHBEARER_ERR_KVPAIR,       /* bad key=value pair */
    HOOP_OAUTHBEARER_ERR_TERMINATOR,   /* not ended by \x01\x01, or bytes
                                          after it */
    HOOP_OAUTHBEARER_ERR_DUPLICATE,    /* a key given twice */
    HOOP_OAUTHBEARER_ERR_TOO_MANY,     /* more than MAX_EXT pairs */
    HOOP_OAUTHBEARER_ERR_NO_AUTH,      /* no "auth" pair */
    HOOP_OAUTHBEARER_ERR_SCHEME,       /* "auth" not "Bearer <token>" */
    HOOP_OAUTHBEARER_ERR_TOKEN         /* empty token, or bytes outside
                                          RFC 6750 b64token */
} hoop_oauthbearer_rc_t;


/* one SASL extension (KIP-342), NUL-terminated copies */
typedef struct {
    char    *key;
    char    *value;
} hoop_oauthbearer_ext_t;


/*
 * A parsed client initial response.
 *
 *   authzid    the GS2 authorization identity, "=2C" and "=3D" decoded to
 *              "," and "="; NULL when the header was "n,,".  Kafka's
 *              broker refuses a non-empty authzid that differs from the
 *              token's principal; callers should do the same.
 *   token      the bearer token (a JWT for Kafka), NUL-terminated
 *   token_len  its length in bytes
 *   ext        next extensions in client order: every pair except "auth"
 *              (including RFC 7628 "host" and "port" when sent)
 */
typedef struct {
    char                    *authzid;
    char                    *token;
    size_t                   token_len;
    hoop_oauthbearer_ext_t  *ext;
    size_t                   next;
} hoop_oauthbearer_msg_t;


/*
 * hoop_oauthbearer_parse: parse a client initial response (RFC 7628
 * section 3.1):
 *
 *   client-resp = gs2-header %x01 *(key "=" value %x01) %x01
 *   gs2-header  = ("n" / "y") "," ["a=" saslname] ","     (RFC 5801)
 *   key         = 1*ALPHA
 *   value       = *(VCHAR / SP / HTAB / CR / LF)
 *   auth value  = "Bearer" 1*SP b64token                  (RFC 6750 2.1)
 *
 * "Bearer" is matched case-insensitively.  Channel binding ("p=...") and
 * the non-standard "F," prefix are refused; saslname is ASCII without NUL,
 * "," or a bare "=" (as Kafka's broker requires).  Keys must be unique.
 *
 *   buf, len   the SASL bytes (auth_bytes of SaslAuthenticate)
 *   out        zeroed, then filled on success; release with
 *              hoop_oauthbearer_msg_free() (harmless after a failure)
 *
 * Returns HOOP_OAUTHBEARER_OK or an HOOP_OAUTHBEARER_ERR_* code.
 */
int hoop_oauthbearer_parse(const unsigned char *buf, size_t len,
    hoop_oauthbearer_msg_t *out, char *err, size_t errlen);

/* hoop_oauthbearer_msg_free: release the copies in m and zero it. */
void hoop_oauthbearer_msg_free(hoop_oauthbearer_msg_t *m);

/*
 * hoop_oauthbearer_is_ack: 1 when buf is the client's answer to a server
 * error challenge (RFC 7628 section 3.2.3: a single %x01), else 0.
 */
int hoop_oauthbearer_is_ack(const unsigned char *buf, size_t len);

/*
 * hoop_oauthbearer_error: build the server's error challenge (RFC 7628
 * section 3.2.2), compact JSON such as {"status":"invalid_token"}.
 *
 *   status         RFC 6750 error code; NULL means "invalid_token"
 *   scope          optional "scope" member (NULL: omitted)
 *   openid_config  optional "openid-configuration" URL (NULL: omitted)
 *   buf, size      output; NUL-terminated when room is left
 *
 * Returns the JSON length in bytes (without the NUL), or 0 when it does
 * not fit in size - 1 bytes or a string is not valid UTF-8.
 */
size_t hoop_oauthbearer_error(char *buf, size_t size, const char *status,
    const char *scope, const char *openid_config);

/* hoop_oauthbearer_rc_name: stable short name of a code. */
const char *hoop_oauthbearer_rc_name(int rc);


#endif /* _HOOP_OAUTHBEARER_H_INCLUDED_ */
