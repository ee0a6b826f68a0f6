/*
 * SASL client side: the gateway authenticates to a Kafka broker with its
 * own credentials, one step per SaslAuthenticate round trip (Kafka
 * KIP-43 / KIP-152, SaslHandshake v1 then SaslAuthenticate).
 *
 * Mechanisms, all through Cyrus SASL's client (libsasl2 2.1.28; plugins
 * libplain and libscram of the Debian package libsasl2-modules, loaded
 * from /usr/lib/x86_64-linux-gnu/sasl2 or $SASL_PATH):
 *
 *   PLAIN          RFC 4616; sent as NUL user NUL password (no authzid)
 *   SCRAM-SHA-256  RFC 5802, RFC 7677
 *   SCRAM-SHA-512  RFC 5802, Kafka KIP-84
 *
 * SCRAM is sent as Kafka's brokers expect it: gs2 header "n,," (no
 * channel binding, no authzid), the password as its bytes (no SASLprep,
 * like Kafka's ScramFormatter); the server's signature is checked.
 * Cyrus refuses a server iteration count above 65536 (Kafka's brokers
 * allow at most 16384).
 *
 * Usage, per upstream connection, after SaslHandshake v1 named the
 * mechanism and the broker accepted it:
 *
 *     c = hoop_sasl_client_start(mech, user, pw, pwlen, err, errlen);
 *     rc = hoop_sasl_client_step(c, NULL, 0, &out, &outlen);
 *     while (rc == HOOP_SASL_CONTINUE) {
 *         send SaslAuthenticate with auth_bytes out[0..outlen);
 *         a response with error_code != 0: failed, stop (the broker's
 *             error_message says why);
 *         rc = hoop_sasl_client_step(c, auth_bytes, len, &out, &outlen);
 *     }
 *     OK: authenticated (nothing more to send); FAILED: see
 *     hoop_sasl_client_reason(c).
 *     hoop_sasl_client_free(c);
 *
 * PLAIN takes two steps (the message, then the broker's empty answer),
 * SCRAM three (client-first, client-final, then the server-final check).
 * Not thread-safe; synchronous, no I/O.
 *
 * Plain C99 + libsasl2 + OpenSSL; no nginx.
 */

#ifndef HOOP_SASL_CLIENT_H
#define HOOP_SASL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "hoop_credentials.h"


#define HOOP_SASL_CLIENT_PASS_MAX   1024

typedef struct hoop_sasl_client_s  hoop_sasl_client_t;


/*
 * Process-wide set-up of the Cyrus SASL client library (loads its
 * plugins).  Call once per process before any start; calls are counted,
 * hoop_sasl_client_done() undoes the last one.  Returns 0 when at least
 * one mechanism works, with a note in err[0..errlen) about those that do
 * not (err[0] is '\0' when all three work); -1 with a message on failure.
 */
int hoop_sasl_client_init(char *err, size_t errlen);
void hoop_sasl_client_done(void);

/* 1 if mech can be started (after hoop_sasl_client_init), else 0. */
int hoop_sasl_client_mech_enabled(hoop_sasl_mech_t mech);

/*
 * Starts an exchange for mech as user (NUL-terminated UTF-8, 1..255
 * bytes) with the password pw[0..pwlen) (1..HOOP_SASL_CLIENT_PASS_MAX
 * bytes).  Both are copied (the copy of the password is wiped on free):
 * the caller may wipe its own at once.  Returns the context, or NULL with
 * a message in err[0..errlen) (bad arguments, mechanism not enabled,
 * library failure, out of memory).
 */
hoop_sasl_client_t *hoop_sasl_client_start(hoop_sasl_mech_t mech,
    const char *user, const uint8_t *pw, size_t pwlen, char *err,
    size_t errlen);

/*
 * One step: in[0..inlen) is the auth_bytes of the broker's last
 * SaslAuthenticate response (NULL, 0 for the first step).  CONTINUE:
 * send out[0..outlen) (owned by c, valid until the next step or free).
 * OK: the broker is authenticated too (SCRAM server signature checked);
 * *out is "" and *outlen 0.  FAILED: *out NULL, *outlen 0, reason set;
 * later steps fail too.
 */
hoop_sasl_rc_t hoop_sasl_client_step(hoop_sasl_client_t *c,
    const uint8_t *in, size_t inlen, const uint8_t **out, size_t *outlen);

/* The mechanism of c. */
hoop_sasl_mech_t hoop_sasl_client_mech(const hoop_sasl_client_t *c);

/* After FAILED: why (library detail included), for the error log; it
 * never contains the password.  Else "". */
const char *hoop_sasl_client_reason(const hoop_sasl_client_t *c);

/* Frees c and wipes its copy of the password.  NULL is ignored. */
void hoop_sasl_client_free(hoop_sasl_client_t *c);

#endif /* HOOP_SASL_CLIENT_H */
