/*
 * Credential store for SASL terminated at the gateway: PLAIN verifiers and
 * SCRAM credentials per user, loaded from a file, never a plaintext
 * password.
 *
 * File format ("hoop credentials v1", JSON Lines): one JSON object per
 * line, one line per user; empty lines and lines whose first non-blank
 * character is '#' are ignored.  tools/hoop-passwd prints such lines.
 *
 *   {"user":"alice","groups":["dev","ops"],
 *    "plain":{"kdf":"pbkdf2-sha256","iterations":4096,
 *             "salt":B64,"hash":B64},
 *    "scram-sha-256":{"iterations":4096,"salt":B64,
 *                     "stored_key":B64,"server_key":B64},
 *    "scram-sha-512":{"iterations":4096,"salt":B64,
 *                     "stored_key":B64,"server_key":B64}}
 *
 * (shown wrapped; in the file each object is on one line.)
 *
 *   user        1..255 bytes of UTF-8 without control characters; unique
 *   groups      optional array of such strings (at most 256)
 *   plain       PBKDF2 (PKCS #5 v2.1, RFC 8018) of the password's UTF-8
 *               bytes: kdf "pbkdf2-sha256" (hash 32 bytes) or
 *               "pbkdf2-sha512" (hash 64 bytes)
 *   scram-*     RFC 5802 section 3 / RFC 7677: SaltedPassword :=
 *               Hi(password, salt, iterations), StoredKey :=
 *               H(HMAC(SaltedPassword, "Client Key")), ServerKey :=
 *               HMAC(SaltedPassword, "Server Key"); keys are 32 (SHA-256)
 *               or 64 (SHA-512) bytes.  As Kafka does (ScramFormatter),
 *               the password is used as its UTF-8 bytes, without SASLprep.
 *   B64         standard base64 with padding (RFC 4648 section 4)
 *   salt        8..64 bytes
 *   iterations  PLAIN 1000..1000000, SCRAM 4096..1000000 (Kafka clients
 *               refuse fewer than 4096; Cyrus-based clients more than
 *               65536)
 *
 * At least one of plain, scram-sha-256, scram-sha-512 is required.  Any
 * error (bad JSON, unknown key, duplicate user, wrong length) rejects the
 * whole file: a store keeps serving the last good version.
 *
 * Unknown users: the store answers SCRAM lookups for a user it does not
 * have (or who has no credential for that mechanism) with a fake
 * credential, whose salt is derived from the user name and a secret made
 * from the file's contents (so every worker and restart gives the same
 * salt for the same name while the file is unchanged), and PLAIN checks
 * run the same PBKDF2 as for a known user: a client cannot tell whether
 * a user exists from the answers or their timing.
 *
 * Memory: a set (hoop_cred_set_t) is an immutable, reference-counted
 * snapshot of one file version; a user (hoop_cred_t) lives as long as its
 * set.  A store (hoop_cred_store_t) holds the current set of one file.
 * Not thread-safe (nginx workers are single-threaded).
 *
 * Plain C99 + OpenSSL (libcrypto) + jansson; no nginx.
 */

#ifndef HOOP_CREDENTIALS_H
#define HOOP_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>


/* SASL mechanisms the gateway knows, on either side. */
typedef enum {
    HOOP_SASL_MECH_NONE = 0,
    HOOP_SASL_MECH_PLAIN,              /* RFC 4616 */
    HOOP_SASL_MECH_SCRAM_SHA_256,      /* RFC 5802, RFC 7677 */
    HOOP_SASL_MECH_SCRAM_SHA_512       /* RFC 5802, Kafka KIP-84 */
} hoop_sasl_mech_t;

/* Result of one step of a SASL exchange, on either side. */
typedef enum {
    HOOP_SASL_CONTINUE = 0,            /* send the output, await more */
    HOOP_SASL_OK,                      /* authenticated */
    HOOP_SASL_FAILED                   /* refused or broken: stop */
} hoop_sasl_rc_t;

/* Mechanism for the IANA name name[0..len) as sent in a Kafka
 * SaslHandshake request ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"; exact
 * case, as Kafka compares them), or HOOP_SASL_MECH_NONE. */
hoop_sasl_mech_t hoop_sasl_mech_parse(const char *name, size_t len);

/* IANA name of mech ("PLAIN", ...), or "NONE". Static storage. */
const char *hoop_sasl_mech_name(hoop_sasl_mech_t mech);


#define HOOP_CRED_NAME_MAX          255
#define HOOP_CRED_GROUPS_MAX        256
#define HOOP_CRED_SALT_MIN          8
#define HOOP_CRED_SALT_MAX          64
#define HOOP_CRED_KEY_MAX           64     /* SHA-512 output */
#define HOOP_CRED_ITER_MIN_PLAIN    1000
#define HOOP_CRED_ITER_MIN_SCRAM    4096
#define HOOP_CRED_ITER_MAX          1000000
#define HOOP_CRED_ITER_DEFAULT      4096
#define HOOP_CRED_SALT_DEFAULT      24
#define HOOP_CRED_FILE_MAX          (64 * 1024 * 1024)
#define HOOP_CRED_PASS_MAX          1024   /* hoop_cred_entry_create() */

/* hash functions */
#define HOOP_CRED_MD_SHA256         1
#define HOOP_CRED_MD_SHA512         2

/* bits of hoop_cred_entry_create()'s mechs */
#define HOOP_CRED_WANT_PLAIN        0x01
#define HOOP_CRED_WANT_SCRAM_256    0x02
#define HOOP_CRED_WANT_SCRAM_512    0x04
#define HOOP_CRED_WANT_ALL          0x07


/* SCRAM credential of one user and mechanism (RFC 5802 section 3). */
typedef struct {
    unsigned                     iterations;
    size_t                       salt_len;
    uint8_t                      salt[HOOP_CRED_SALT_MAX];
    size_t                       key_len;       /* 32 or 64 */
    uint8_t                      stored_key[HOOP_CRED_KEY_MAX];
    uint8_t                      server_key[HOOP_CRED_KEY_MAX];
} hoop_cred_scram_t;

typedef struct hoop_cred_s        hoop_cred_t;
typedef struct hoop_cred_set_s    hoop_cred_set_t;
typedef struct hoop_cred_store_s  hoop_cred_store_t;


/* --- sets ----------------------------------------------------------------- */

/*
 * Parses a whole credential file buf[0..len) (the format above).  Returns
 * a new set with one reference, or NULL with a message in err[0..errlen)
 * ("line 3: ...") on a bad file or when out of memory.  buf need not be
 * NUL-terminated.
 */
hoop_cred_set_t *hoop_cred_set_parse(const char *buf, size_t len,
    char *err, size_t errlen);

/* Adds a reference to set and returns it. */
hoop_cred_set_t *hoop_cred_set_ref(hoop_cred_set_t *set);

/* Drops a reference; frees the set and its users with the last one.
 * NULL is ignored. */
void hoop_cred_set_unref(hoop_cred_set_t *set);

/* Number of users in set. */
size_t hoop_cred_set_count(const hoop_cred_set_t *set);

/* The user named name[0..len) (bytes, exact match), or NULL. O(log n). */
const hoop_cred_t *hoop_cred_set_find(const hoop_cred_set_t *set,
    const char *name, size_t len);


/* --- users ---------------------------------------------------------------- */

/* NUL-terminated principal name; lives as long as the set. */
const char *hoop_cred_name(const hoop_cred_t *cred);

/* Groups: count, and the i-th (0 <= i < count) NUL-terminated name. */
size_t hoop_cred_ngroups(const hoop_cred_t *cred);
const char *hoop_cred_group(const hoop_cred_t *cred, size_t i);

/* 1 if cred has a verifier for mech, else 0. */
int hoop_cred_has(const hoop_cred_t *cred, hoop_sasl_mech_t mech);

/*
 * PLAIN check (RFC 4616 section 3 leaves verification to the server):
 * PBKDF2 of pw[0..pwlen) with cred's salt and iterations, compared in
 * constant time (CRYPTO_memcmp) with the stored hash.  cred may be NULL
 * or lack a PLAIN verifier (unknown user): the same work is done against
 * a fake verifier of the set, and the answer is 0.  Returns 1 on a match,
 * 0 otherwise (also on an OpenSSL failure).
 */
int hoop_cred_verify_plain(const hoop_cred_set_t *set,
    const hoop_cred_t *cred, const uint8_t *pw, size_t pwlen);

/*
 * SCRAM credential of cred for mech (SCRAM-SHA-256 or -512) copied into
 * *out; returns 1.  When cred is NULL or has no such credential, *out is
 * a fake one for the name name[0..len): its salt and iteration count look
 * like real ones and are stable for the name, its keys are random, so
 * the exchange goes on and fails at the proof; returns 0.  Returns -1 if
 * mech is not a SCRAM mechanism or OpenSSL fails.
 */
int hoop_cred_scram_get(const hoop_cred_set_t *set, const hoop_cred_t *cred,
    hoop_sasl_mech_t mech, const char *name, size_t len,
    hoop_cred_scram_t *out);


/* --- stores (a file and its last good set) -------------------------------- */

#define HOOP_CRED_UNCHANGED   0
#define HOOP_CRED_RELOADED    1
#define HOOP_CRED_FAILED     -1

/*
 * Opens the credential file at path (copied) and loads it.  Returns a
 * store, or NULL with a message in err when the file cannot be read or
 * parsed (there is no last good version yet) or out of memory.
 */
hoop_cred_store_t *hoop_cred_store_open(const char *path, char *err,
    size_t errlen);

/* A store without a file, serving set (takes over the caller's
 * reference; on NULL return the reference is dropped).  For tests and
 * for sets that come from elsewhere. */
hoop_cred_store_t *hoop_cred_store_from_set(hoop_cred_set_t *set);

/*
 * Reloads the file if it changed (device, inode, size or mtime with
 * nanoseconds differ from the loaded version).  Returns
 * HOOP_CRED_RELOADED after a successful swap; HOOP_CRED_UNCHANGED when
 * the file did not change, or is the same bad version already reported;
 * HOOP_CRED_FAILED with a message in err when the file is missing,
 * unreadable or bad: the last good set stays current.  Sets held by
 * running exchanges stay valid (reference counts).  Cost: one stat(2)
 * when unchanged.
 */
int hoop_cred_store_reload(hoop_cred_store_t *store, char *err,
    size_t errlen);

/* The current set, borrowed: hoop_cred_set_ref() it to keep it across a
 * reload. */
hoop_cred_set_t *hoop_cred_store_current(hoop_cred_store_t *store);

/* Frees the store and drops its reference to the current set.  NULL is
 * ignored. */
void hoop_cred_store_free(hoop_cred_store_t *store);


/* --- making entries (tools/hoop-passwd, tests) --------------------------- */

/*
 * One credential line (without newline) for user with groups[0..ngroups)
 * and the password pw[0..pwlen): fresh random salts (RAND_bytes) of
 * HOOP_CRED_SALT_DEFAULT bytes, iterations for the SCRAM credentials,
 * plain_iterations and plain_md (HOOP_CRED_MD_SHA256 or _SHA512) for the
 * PLAIN verifier, for the mechanisms in mechs (HOOP_CRED_WANT_*).
 * Returns a malloc()ed NUL-terminated string (free() it), or NULL with a
 * message in err on bad arguments (limits as in the file format) or an
 * OpenSSL or memory failure.
 */
char *hoop_cred_entry_create(const char *user, const char *const *groups,
    size_t ngroups, const uint8_t *pw, size_t pwlen, unsigned mechs,
    unsigned iterations, unsigned plain_iterations, int plain_md,
    char *err, size_t errlen);

/*
 * RFC 5802 section 3 key derivation for mech (SCRAM-SHA-256 or -512):
 * fills stored_key and server_key (hash length bytes: 32 or 64) from
 * pw[0..pwlen), salt[0..salt_len) and iterations.  Returns the key
 * length, or -1 on a bad mech or an OpenSSL failure.
 */
int hoop_cred_scram_derive(hoop_sasl_mech_t mech, const uint8_t *pw,
    size_t pwlen, const uint8_t *salt, size_t salt_len, unsigned iterations,
    uint8_t *stored_key, uint8_t *server_key);


/* --- helpers -------------------------------------------------------------- */

/* Standard base64 with padding (RFC 4648 section 4) of src[0..len) into
 * dst, which must hold 4 * ((len + 2) / 3) + 1 bytes; NUL-terminates and
 * returns the length without the NUL. */
size_t hoop_b64_encode(char *dst, const uint8_t *src, size_t len);

/* Strict decoding of src[0..len) (length a multiple of 4, canonical
 * padding, no whitespace) into dst[0..dstlen).  Returns the decoded
 * length, or -1 on bad input or when dst is too small. */
long hoop_b64_decode(uint8_t *dst, size_t dstlen, const char *src,
    size_t len);

/* Printable-ASCII copy of s[0..len) for log lines: bytes outside
 * 0x20..0x7e, '"' and '\\' become \xNN; cut with "..." to fit
 * dst[0..dstlen) (dstlen >= 4).  Always NUL-terminates; returns dst. */
char *hoop_log_escape(char *dst, size_t dstlen, const char *s, size_t len);

/* 1 if s[0..len) is well-formed UTF-8 (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF) without control characters (C0, DEL),
 * else 0. */
int hoop_utf8_name_valid(const uint8_t *s, size_t len);

#endif /* HOOP_CREDENTIALS_H */
