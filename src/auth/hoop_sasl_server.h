/*
 * SASL server side: the gateway authenticates Kafka clients against a
 * credential store (hoop_credentials.h), one step per SaslAuthenticate
 * request (Kafka KIP-43 / KIP-152: the auth_bytes of each request are one
 * client message, those of each response one server message).
 *
 * Mechanisms, all implemented here on OpenSSL (libcrypto) primitives:
 *
 *   PLAIN          RFC 4616, against PBKDF2 verifiers
 *   SCRAM-SHA-256  RFC 5802 / RFC 7677, server side, against the store's
 *   SCRAM-SHA-512  StoredKey/ServerKey/salt/iterations (RFC 5802 section
 *                  3; SHA-512 as Kafka's KIP-84 defines it)
 *
 * No password is ever needed for SCRAM: the proof is checked as
 * H(ClientProof XOR HMAC(StoredKey, AuthMessage)) == StoredKey (constant
 * time), and the server-final is v=HMAC(ServerKey, AuthMessage).
 *
 * SCRAM follows Kafka's broker (ScramSaslServer, ScramMessages):
 *   - client-first "n,,n=USER,r=CNONCE[,ext...]" or "n,a=USER,..."; an
 *     authzid must be empty or equal the user name; "=2C" and "=3D" in
 *     names are ',' and '='; names are UTF-8 (Kafka: ASCII);
 *   - channel binding is refused (gs2 flag "p=..." or "y"), so is a
 *     reserved "m=" attribute (RFC 5802 section 5.1);
 *   - extensions: "tokenauth=true" (delegation tokens, KIP-48) is refused,
 *     the gateway has no token store; other extensions are ignored, as
 *     Kafka ignores them (they stay in AuthMessage);
 *   - server-first "r=CNONCE SNONCE,s=SALT,i=ITER", SNONCE 24 base64
 *     characters from RAND_bytes();
 *   - client-final "c=B64(gs2 header),r=NONCE[,ext...],p=PROOF": c= must
 *     be the base64 of the gs2 header of client-first; NONCE must END
 *     WITH the server-first nonce (Kafka's endsWith rule; the RFC's exact
 *     nonce qualifies, and so does librdkafka's "CNONCE" + "CNONCE
 *     SNONCE"); AuthMessage is client-first-bare "," server-first ","
 *     client-final-without-proof, the bytes as received.
 * Every message is at most HOOP_SASL_SCRAM_MSG_MAX bytes, without NUL.
 *
 * An unknown user fails exactly like a known user with a wrong password:
 * the same client message, the same steps (SCRAM answers with the store's
 * fake salt and iteration count, does the same HMACs and fails at the
 * proof), the same PBKDF2 work for PLAIN.  Only the log reason tells them
 * apart.
 *
 * Usage, per connection:
 *
 *     s = hoop_sasl_server_start(HOOP_SASL_MECH_SCRAM_SHA_256, store);
 *     for each SaslAuthenticate request (auth_bytes in[0..inlen)):
 *         rc = hoop_sasl_server_step(s, in, inlen, &out, &outlen);
 *         CONTINUE: answer auth_bytes out[0..outlen), error 0
 *         OK:       answer out[0..outlen) (SCRAM: server-final; PLAIN:
 *                   empty), error 0; principal and groups are set
 *         FAILED:   answer SASL_AUTHENTICATION_FAILED (58) with
 *                   hoop_sasl_server_client_message(s); log
 *                   hoop_sasl_server_reason(s); close the connection
 *     hoop_sasl_server_free(s);
 *
 * Not thread-safe; every call is synchronous and does no I/O.  CPU cost
 * per step: PLAIN one PBKDF2 (the store's iteration count); SCRAM two
 * HMACs and a hash (the client does the PBKDF2).
 *
 * Plain C99 + OpenSSL (libcrypto); no nginx.
 */

#ifndef HOOP_SASL_SERVER_H
#define HOOP_SASL_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "hoop_credentials.h"


#define HOOP_SASL_SCRAM_MSG_MAX   4096     /* bytes per client message */

typedef struct hoop_sasl_server_s  hoop_sasl_server_t;


/*
 * Process-wide set-up: checks OpenSSL's HMAC-SHA-256 and HMAC-SHA-512
 * against RFC 4231's test vector.  Call once per process before any start
 * (in nginx: init_process of each worker, or init_module before fork);
 * calls are counted, hoop_sasl_server_done() undoes the last one.
 * Returns 0 when at least PLAIN works; a SCRAM mechanism whose HMAC fails
 * the check is left disabled, with a note in err[0..errlen) (err[0] is
 * '\0' when all three work).  Returns -1 with a message on failure.
 */
int hoop_sasl_server_init(char *err, size_t errlen);
void hoop_sasl_server_done(void);

/* 1 if mech can be started (after hoop_sasl_server_init), else 0: what a
 * SaslHandshake response lists. */
int hoop_sasl_server_mech_enabled(hoop_sasl_mech_t mech);

/*
 * Starts an exchange for mech against the current set of store (the set
 * is referenced: a reload during the exchange does not affect it).
 * Returns the context, or NULL when mech is not enabled, the server is
 * not initialised, store has no set, or out of memory.
 */
hoop_sasl_server_t *hoop_sasl_server_start(hoop_sasl_mech_t mech,
    hoop_cred_store_t *store);

/*
 * Feeds one client message in[0..inlen) (binary; not NUL-terminated).
 * On CONTINUE and OK, *out and *outlen are the message for the client, owned
 * by s, valid until the next step or free (never NULL; outlen may be 0).
 * On FAILED, *out is NULL and *outlen 0, and every later step fails too.
 * A step after OK fails ("exchange already complete").
 */
hoop_sasl_rc_t hoop_sasl_server_step(hoop_sasl_server_t *s,
    const uint8_t *in, size_t inlen, const uint8_t **out, size_t *outlen);

/* After OK: the authenticated principal (the store's user name) and its
 * groups, NUL-terminated, valid until hoop_sasl_server_free(s).  Before
 * OK: NULL and 0. */
const char *hoop_sasl_server_principal(const hoop_sasl_server_t *s);
size_t hoop_sasl_server_ngroups(const hoop_sasl_server_t *s);
const char *hoop_sasl_server_group(const hoop_sasl_server_t *s, size_t i);

/* The mechanism of s. */
hoop_sasl_mech_t hoop_sasl_server_mech(const hoop_sasl_server_t *s);

/* After FAILED: why, for the error log (names escaped to printable
 * ASCII, may say "unknown user"): never send it to the client.  Else
 * "". */
const char *hoop_sasl_server_reason(const hoop_sasl_server_t *s);

/* After FAILED: the text for the client (SaslAuthenticate
 * error_message), e.g. "Authentication failed: Invalid username or
 * password"; the same for unknown users and wrong passwords.  Else "". */
const char *hoop_sasl_server_client_message(const hoop_sasl_server_t *s);

/* Frees s (wipes its secrets) and drops its reference to the set.  NULL
 * is ignored. */
void hoop_sasl_server_free(hoop_sasl_server_t *s);

#endif /* HOOP_SASL_SERVER_H */
