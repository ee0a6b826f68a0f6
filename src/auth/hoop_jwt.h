/*
 * hoop_jwt: OIDC JWT validation for SASL/OAUTHBEARER (nginx-free).
 *
 * Verifies a JWT in JWS compact serialization (RFC 7519, RFC 7515) against
 * a JWK Set (RFC 7517 section 5) with cjose (signature) and jansson (JSON),
 * then checks the registered claims (RFC 7519 section 4.1) against a policy
 * and copies the caller identity out of the claims.
 *
 * Plain C: no nginx headers.  Link with -lcjose -ljansson -lcrypto.
 *
 * Algorithms.  cjose 0.6.2.x (Debian 12) verifies RS256/384/512,
 * PS256/384/512 and ES256/384/512.  It has no OKP key type and no EdDSA
 * (RFC 8037): tokens with "alg":"EdDSA" are refused as not allowed and
 * "kty":"OKP" keys in a JWK Set are skipped (see hoop_jwks_parse()).
 * HMAC algorithms (HS256/384/512) are always refused: the key set holds
 * public keys and a verifier that accepted HS* could be fooled into using
 * a public key as an HMAC secret.  "alg":"none" is always refused.
 *
 * Memory.  Everything returned is allocated with malloc() (cjose and jansson
 * use their default allocators) and owned by the caller, who releases it
 * with the matching *_free() function.  No function keeps a pointer to the
 * caller's input.  Not thread-safe per object; distinct objects may be used
 * from distinct threads.
 *
 * Errors.  Functions that can fail take "char *err, size_t errlen": on
 * failure a NUL-terminated, human-readable message (at most errlen - 1
 * bytes, no secrets, no token bytes) is written there; err may be NULL.
 */

#ifndef _HOOP_JWT_H_INCLUDED_
#define _HOOP_JWT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>


/*
 * Result codes.  HOOP_JWT_OK is 0; every refusal has its own code so that
 * tests, logs and audit events can tell them apart without parsing the
 * message.  hoop_jwt_rc_name() gives a stable short name for each.
 */
typedef enum {
    HOOP_JWT_OK = 0,
    HOOP_JWT_ERR_ARG,            /* NULL argument or unusable policy */
    HOOP_JWT_ERR_NOMEM,          /* allocation failed */
    HOOP_JWT_ERR_TOO_LARGE,      /* token longer than the policy's cap */
    HOOP_JWT_ERR_MALFORMED,      /* not header.payload.signature in
                                    base64url (RFC 7515 section 7.1) */
    HOOP_JWT_ERR_HEADER,         /* JOSE header not a JSON object, no "alg",
                                    "kid" not a string, or "crit" present */
    HOOP_JWT_ERR_ALG_NONE,       /* "alg":"none" (unsecured JWS) */
    HOOP_JWT_ERR_ALG_HMAC,       /* "alg":"HS256" etc. */
    HOOP_JWT_ERR_ALG_NOT_ALLOWED,/* alg unknown, unsupported or not in the
                                    policy's list */
    HOOP_JWT_ERR_KID_MISSING,    /* no "kid" and the set has several keys */
    HOOP_JWT_ERR_KID_UNKNOWN,    /* "kid" names no key in the set */
    HOOP_JWT_ERR_KEY_MISMATCH,   /* alg does not fit the key's kty, curve
                                    or "alg" member */
    HOOP_JWT_ERR_SIGNATURE,      /* signature does not verify */
    HOOP_JWT_ERR_PAYLOAD,        /* claims set is not a JSON object */
    HOOP_JWT_ERR_CLAIM_TYPE,     /* exp, nbf or iat not a number */
    HOOP_JWT_ERR_EXP_MISSING,    /* no "exp" claim */
    HOOP_JWT_ERR_EXPIRED,        /* now > exp + skew */
    HOOP_JWT_ERR_NOT_YET_VALID,  /* now + skew < nbf */
    HOOP_JWT_ERR_IAT_FUTURE,     /* now + skew < iat */
    HOOP_JWT_ERR_ISSUER,         /* "iss" missing, not a string, or not
                                    the policy's */
    HOOP_JWT_ERR_AUDIENCE,       /* "aud" missing, not a string or an
                                    array of strings, or without the
                                    policy's */
    HOOP_JWT_ERR_SUBJECT,        /* subject claim missing, empty or not a
                                    string */
    HOOP_JWT_ERR_GROUPS,         /* groups claim neither a string nor an
                                    array of strings */
    HOOP_JWT_ERR_JWKS,           /* JWK Set not parseable */
    HOOP_JWT_ERR_NO_KEYS,        /* JWK Set without a usable signing key */
    HOOP_JWT_ERR_IO              /* JWK Set file unreadable */
} hoop_jwt_rc_t;


/*
 * Algorithms, as a bit mask for hoop_jwt_policy_t.algs.  Values are those
 * of the "alg" header parameter (RFC 7518 section 3.1).
 */
#define HOOP_JWT_ALG_RS256   0x0001
#define HOOP_JWT_ALG_RS384   0x0002
#define HOOP_JWT_ALG_RS512   0x0004
#define HOOP_JWT_ALG_PS256   0x0008
#define HOOP_JWT_ALG_PS384   0x0010
#define HOOP_JWT_ALG_PS512   0x0020
#define HOOP_JWT_ALG_ES256   0x0040
#define HOOP_JWT_ALG_ES384   0x0080
#define HOOP_JWT_ALG_ES512   0x0100

/* what cjose can verify here; EdDSA is absent (cjose 0.6.2.x) */
#define HOOP_JWT_ALGS_SUPPORTED  0x01ff
/* the default list: RS256 and ES256 */
#define HOOP_JWT_ALGS_DEFAULT    (HOOP_JWT_ALG_RS256|HOOP_JWT_ALG_ES256)

#define HOOP_JWT_DEFAULT_SKEW     60            /* seconds */
#define HOOP_JWT_DEFAULT_MAX_LEN  (16 * 1024)   /* bytes of compact JWS */
#define HOOP_JWT_MAX_GROUPS       1024


/*
 * Validation policy.  Initialize with hoop_jwt_policy_init(), then set
 * the issuer and the audience.  The strings are borrowed: they must
 * outlive every hoop_jwt_verify() call that uses the policy.
 *
 *   algs           allowed "alg" values, HOOP_JWT_ALG_* bits; 0 means
 *                  HOOP_JWT_ALGS_DEFAULT.  Bits outside
 *                  HOOP_JWT_ALGS_SUPPORTED are ignored.
 *   issuer         required; "iss" must equal it byte for byte.
 *                  NULL makes hoop_jwt_verify() fail with HOOP_JWT_ERR_ARG.
 *   audience       "aud" (a string, or an array of strings) must contain
 *                  it.  NULL makes hoop_jwt_verify() fail with
 *                  HOOP_JWT_ERR_ARG unless any_audience is set.
 *   any_audience   1: do not check "aud" (an explicit, logged opt-out for
 *                  issuers that mint no audience; not recommended).
 *   skew           clock skew tolerated on exp, nbf and iat, in seconds.
 *   sub_claim      claim holding the principal; NULL means "sub".
 *   groups_claim   claim holding the groups; NULL means "groups".  Either
 *                  a top-level name (tried first, literally, so namespaced
 *                  names such as "https://example.com/groups" work) or a
 *                  dot-separated path into nested objects, such as
 *                  "realm_access.roles".  Absent claim: no groups.
 *   max_len        largest token accepted, in bytes; 0 means
 *                  HOOP_JWT_DEFAULT_MAX_LEN.
 */
typedef struct {
    unsigned     algs;
    const char  *issuer;
    const char  *audience;
    int          any_audience;
    unsigned     skew;
    const char  *sub_claim;
    const char  *groups_claim;
    size_t       max_len;
} hoop_jwt_policy_t;


/*
 * What a valid token says, copied out of it.  All strings are
 * NUL-terminated and malloc()ed; release with hoop_jwt_claims_free().
 *
 *   principal   value of the subject claim (never NULL or empty on success)
 *   groups      ngroups strings, from the groups claim (array elements, or
 *               the space-separated words of a string), in token order;
 *               NULL when ngroups is 0
 *   exp         "exp" in seconds since the Epoch (fractions truncated,
 *               clamped to 0 .. year 9999).  May be up to skew seconds
 *               before now: a session lifetime computed from it (KIP-368
 *               session_lifetime_ms) must be at least 1 ms, since 0 there
 *               means "no limit".
 *   iss         "iss"
 *   kid         "kid" of the key that verified the token, or NULL when the
 *               token and the key had none
 *   alg         the token's "alg", e.g. "RS256"
 */
typedef struct {
    char        *principal;
    char       **groups;
    size_t       ngroups;
    time_t       exp;
    char        *iss;
    char        *kid;
    char         alg[8];
} hoop_jwt_claims_t;


typedef struct hoop_jwks_s  hoop_jwks_t;


/*
 * hoop_jwks_parse: build a key set from a JWK Set document (RFC 7517
 * section 5), e.g. the body of an OIDC issuer's jwks_uri.
 *
 *   json, len   the document (need not be NUL-terminated); at most 1 MiB
 *   err         on failure the reason; on success either "" or a note
 *               naming the keys that were skipped (for a log line)
 *
 * Keys kept: "kty":"RSA" (n, e; modulus of 2048 to 8192 bits) and
 * "kty":"EC" (crv P-256, P-384 or P-521; x, y; the point must be on the
 * curve), with "use" absent or "sig", "key_ops" absent or containing
 * "verify", and "alg" absent or an algorithm of HOOP_JWT_ALGS_SUPPORTED
 * that fits the key.  Only the public members are used: private members
 * ("d", "p", ...) are ignored, never loaded.
 * Keys skipped (not an error): "use":"enc", other key_ops, "kty":"oct"
 * (symmetric keys are never accepted), "kty":"OKP" (no EdDSA in cjose),
 * unknown kty, crv or alg, RSA keys shorter than 2048 or longer than 8192
 * bits, keys after the 64th.
 *
 * Returns a new set (release with hoop_jwks_free()), or NULL when the
 * document is not a JSON object with a "keys" array, when a key that looks
 * usable is malformed (members missing, not unpadded base64url, point not
 * on the curve), or when no usable key is left.  hoop_jwks_parse_rc()
 * also stores HOOP_JWT_OK, HOOP_JWT_ERR_JWKS, HOOP_JWT_ERR_NO_KEYS or
 * HOOP_JWT_ERR_NOMEM in *rc (when rc is not NULL).
 */
hoop_jwks_t *hoop_jwks_parse(const char *json, size_t len, char *err,
    size_t errlen);

hoop_jwks_t *hoop_jwks_parse_rc(const char *json, size_t len, int *rc,
    char *err, size_t errlen);

/* hoop_jwks_free: release a set; NULL is allowed. */
void hoop_jwks_free(hoop_jwks_t *jwks);

/* hoop_jwks_count: number of usable keys in the set (0 for NULL). */
size_t hoop_jwks_count(const hoop_jwks_t *jwks);


/*
 * A JWK Set kept in sync with a file.  Zero-initialize (or use
 * HOOP_JWKS_FILE_INIT), call hoop_jwks_file_refresh() whenever convenient
 * (on each authentication, on a timer), read .jwks, and release with
 * hoop_jwks_file_free().
 *
 *   jwks        the last set that loaded successfully (NULL until one has)
 *   generation  incremented on each successful (re)load
 *   failed      1 while the file as last seen could not be used (the set
 *               in jwks is then older than the file)
 *   last_rc     HOOP_JWT_* code of the last load attempt
 *
 * The other members are private: the identity of the file as last seen.
 */
typedef struct {
    hoop_jwks_t  *jwks;
    unsigned      generation;
    int           failed;
    int           last_rc;

    /* private; fixed-width so that the layout does not depend on
       _FILE_OFFSET_BITS (nginx defines it in its headers, this file's
       implementation does not see them) */
    int           seen;
    int           seen_errno;
    uint64_t      dev;
    uint64_t      ino;
    int64_t       size;
    int64_t       mtime;
    long          mtime_nsec;
} hoop_jwks_file_t;

#define HOOP_JWKS_FILE_INIT  { NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

#define HOOP_JWKS_UNCHANGED   0
#define HOOP_JWKS_RELOADED    1
#define HOOP_JWKS_FAILED     -1

/*
 * hoop_jwks_file_refresh: re-read path when its device, inode, size or
 * modification time (with nanoseconds) differ from the last look.
 * The common case costs one stat(2).  Replace the file atomically (write
 * a temporary file, rename(2) it over the old one): a rewrite in place
 * that keeps the size within one tick of the filesystem's clock (a few
 * milliseconds on ext4) goes unnoticed until the next change.  Each
 * process keeps its own state: nginx workers reload independently.
 *
 * Returns
 *   HOOP_JWKS_UNCHANGED  nothing to do: the file is as last seen (this is
 *                        also returned for a file that failed to load and
 *                        has not changed since: the failure was reported
 *                        once; st->failed stays 1)
 *   HOOP_JWKS_RELOADED   st->jwks is a new set from the file; the previous
 *                        set was freed (callers must not keep pointers to
 *                        it across calls); err may hold a note about
 *                        skipped keys
 *   HOOP_JWKS_FAILED     the file is missing, unreadable, larger than
 *                        1 MiB or not a usable JWK Set: st->jwks is kept
 *                        as it was (the last good set, or NULL), err says
 *                        why, st->last_rc has the code
 */
int hoop_jwks_file_refresh(hoop_jwks_file_t *st, const char *path,
    char *err, size_t errlen);

/* hoop_jwks_file_free: release st->jwks and reset st; NULL is allowed. */
void hoop_jwks_file_free(hoop_jwks_file_t *st);


/*
 * hoop_jwt_policy_init: defaults (HOOP_JWT_ALGS_DEFAULT, skew 60 s, "sub",
 * "groups", 16 KiB), no issuer, no audience.
 */
void hoop_jwt_policy_init(hoop_jwt_policy_t *pol);

/*
 * hoop_jwt_verify: verify a JWT and extract its identity.
 *
 *   jwks        the trusted keys
 *   pol         the policy (see hoop_jwt_policy_t)
 *   token, len  the compact JWS, without "Bearer " (need not be
 *               NUL-terminated)
 *   now         current time, seconds since the Epoch
 *   out         zeroed and, on success only, filled; release with
 *               hoop_jwt_claims_free() (harmless after a failure)
 *   err         on failure the reason, e.g. "token expired 35s ago"
 *
 * Order of checks: size, structure, header ("alg" none/HMAC/allowed,
 * "crit"), key selection by "kid" (a token without "kid" is accepted only
 * when the set holds exactly one key), alg/key consistency, signature
 * (cjose), then the claims: exp (required), nbf and iat (if present),
 * iss, aud, subject, groups.  No claim is looked at before the signature
 * has been verified.  Header parameters that point at keys ("jku", "jwk",
 * "x5u", "x5c") are ignored: keys come only from jwks.
 *
 * Returns HOOP_JWT_OK or one of the HOOP_JWT_ERR_* codes above.
 */
int hoop_jwt_verify(const hoop_jwks_t *jwks, const hoop_jwt_policy_t *pol,
    const char *token, size_t len, time_t now, hoop_jwt_claims_t *out,
    char *err, size_t errlen);

/* hoop_jwt_claims_free: release the strings in c and zero it. */
void hoop_jwt_claims_free(hoop_jwt_claims_t *c);

/*
 * hoop_jwt_alg_from_name: HOOP_JWT_ALG_* bit for an "alg" name such as
 * "RS256" (for configuration parsing), or 0 if cjose cannot verify it
 * here (e.g. "EdDSA", "HS256", "none").
 */
unsigned hoop_jwt_alg_from_name(const char *name);

/* hoop_jwt_rc_name: stable short name of a code, e.g. "expired". */
const char *hoop_jwt_rc_name(int rc);


#endif /* _HOOP_JWT_H_INCLUDED_ */
