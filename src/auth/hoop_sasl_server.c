/*
 * SASL server side: PLAIN (RFC 4616) and SCRAM-SHA-256 / SCRAM-SHA-512
 * (RFC 5802, RFC 7677, Kafka KIP-84), all here, on OpenSSL primitives.
 * See hoop_sasl_server.h.
 *
 * SCRAM data flow (RFC 5802 sections 3 and 7), per exchange:
 *
 *   client-first   gs2-header client-first-bare     kept: gs2 header, bare
 *   server-first   r=c-nonce s-nonce,s=SALT,i=ITER  kept: all of it
 *   client-final   c=B64(gs2),r=NONCE[,ext],p=PROOF
 *   server-final   v=B64(ServerSignature)
 *
 *   AuthMessage     := client-first-bare "," server-first ","
 *                      client-final-without-proof       (bytes as sent)
 *   ClientSignature := HMAC(StoredKey, AuthMessage)
 *   ClientKey       := PROOF XOR ClientSignature
 *   accept iff H(ClientKey) == StoredKey                (CRYPTO_memcmp)
 *   ServerSignature := HMAC(ServerKey, AuthMessage)
 *
 * Plain C99 + OpenSSL (libcrypto); no nginx.
 */

#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE  200809L
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "hoop_credentials.h"
#include "hoop_sasl_server.h"


#define HOOP_SASL_PLAIN_PASS_MAX   1024

#define HOOP_SASL_MSG_FAILED                                                  \
    "Authentication failed: Invalid username or password"
#define HOOP_SASL_MSG_MALFORMED                                               \
    "Authentication failed: malformed SASL message"
#define HOOP_SASL_MSG_AUTHZID                                                 \
    "Authentication failed: Client requested an authorization id that is "  \
    "different from username"
#define HOOP_SASL_MSG_EXTENSION                                               \
    "Authentication failed: unsupported SCRAM extension"
#define HOOP_SASL_MSG_TOKEN                                                   \
    "Authentication failed: delegation tokens are not supported"
#define HOOP_SASL_MSG_CBIND                                                   \
    "Authentication failed: channel binding is not supported"
#define HOOP_SASL_MSG_INTERNAL                                                \
    "Authentication failed: internal error"

/* base64 length of n bytes, without the NUL */
#define HOOP_B64_LEN(n)            (4 * (((n) + 2) / 3))

/* s-nonce: RAND_bytes, base64 without padding (printable, no ',') */
#define HOOP_SCRAM_SNONCE_RAW      18
#define HOOP_SCRAM_SNONCE_LEN      HOOP_B64_LEN(HOOP_SCRAM_SNONCE_RAW)

/* gs2 header "n," ["a=" saslname] ",": an authzid of HOOP_CRED_NAME_MAX
 * bytes takes at most 3 bytes a byte when escaped */
#define HOOP_SCRAM_GS2_MAX         (2 + 2 + 3 * HOOP_CRED_NAME_MAX + 1)

/* ",s=" salt ",i=" iterations, at most */
#define HOOP_SCRAM_SF_TAIL_MAX                                                \
    (3 + HOOP_B64_LEN(HOOP_CRED_SALT_MAX) + 3 + 10)


typedef enum {
    HOOP_SASL_S_START = 0,
    HOOP_SASL_S_FINAL,            /* SCRAM: server-first sent */
    HOOP_SASL_S_DONE,
    HOOP_SASL_S_FAILED
} hoop_sasl_server_state_t;


struct hoop_sasl_server_s {
    hoop_sasl_mech_t              mech;
    hoop_sasl_server_state_t      state;
    hoop_cred_set_t              *set;          /* referenced */
    const hoop_cred_t            *cred;         /* in set, or NULL */
    const hoop_cred_t            *principal;    /* after OK */
    int                           real;         /* scram: not a fake */

    char                          user[HOOP_CRED_NAME_MAX + 1];
    size_t                        user_len;

    /* SCRAM: what client-final is checked against */
    const EVP_MD                 *md;
    hoop_cred_scram_t             scram;        /* secret: wiped */
    char                          gs2[HOOP_SCRAM_GS2_MAX + 1];
    size_t                        gs2_len;

    /* malloc()ed: client-first-bare "," server-first "," and, once
     * client-final came, client-final-without-proof: the AuthMessage */
    uint8_t                      *auth;
    size_t                        auth_len;
    size_t                        sf_off;       /* server-first in auth */
    size_t                        sf_len;
    size_t                        nonce_off;    /* c-nonce s-nonce in auth */
    size_t                        nonce_len;

    char                          final[2 + HOOP_B64_LEN(HOOP_CRED_KEY_MAX)
                                        + 1];  /* server-final */

    const uint8_t                *out;
    size_t                        outlen;

    const char                   *client_msg;
    char                          reason[320];
};


/* client-first-message, parsed; pointers into the message */
typedef struct {
    size_t                        gs2_len;
    const uint8_t                *bare;
    size_t                        bare_len;
    const uint8_t                *nonce;        /* c-nonce */
    size_t                        nonce_len;
    char                          user[HOOP_CRED_NAME_MAX + 1];
    size_t                        user_len;
    char                          authzid[HOOP_CRED_NAME_MAX + 1];
    size_t                        authzid_len;
} hoop_scram_first_t;


#ifdef HOOP_SASL_SERVER_TEST
/*
 * Tests only (test/unit/sasl.mk builds with -DHOOP_SASL_SERVER_TEST):
 * when not NULL, the s-nonce of the next server-first instead of a random
 * one, to replay the RFC 7677 example.  Never in the module.
 */
extern const char  *hoop_sasl_server_test_snonce;
const char         *hoop_sasl_server_test_snonce;
#endif


static unsigned     hoop_sasl_server_inits;
static int          hoop_scram256_ok;
static int          hoop_scram512_ok;

static hoop_sasl_rc_t hoop_sasl_server_fail(hoop_sasl_server_t *s,
    const char *msg, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static hoop_sasl_rc_t hoop_sasl_plain_step(hoop_sasl_server_t *s,
    const uint8_t *in, size_t inlen);
static const EVP_MD *hoop_scram_md(hoop_sasl_mech_t mech);
static int hoop_scram_selftest(const EVP_MD *md, const char *hex);
static hoop_sasl_rc_t hoop_scram_first(hoop_sasl_server_t *s,
    const uint8_t *in, size_t inlen);
static hoop_sasl_rc_t hoop_scram_final(hoop_sasl_server_t *s,
    const uint8_t *in, size_t inlen);
static int hoop_scram_first_parse(hoop_sasl_server_t *s, const uint8_t *in,
    size_t inlen, hoop_scram_first_t *cf);
static const uint8_t *hoop_scram_extensions(const uint8_t *p,
    const uint8_t *end, int *token);
static const uint8_t *hoop_scram_printable(const uint8_t *p,
    const uint8_t *end);
static int hoop_scram_saslname(const uint8_t *p, size_t len, char *dst,
    size_t *dstlen);
static hoop_sasl_rc_t hoop_scram_refuse(hoop_sasl_server_t *s,
    const char *check, const char *detail);


/* --- process set-up ------------------------------------------------------- */

static const EVP_MD *
hoop_scram_md(hoop_sasl_mech_t mech)
{
    switch (mech) {
    case HOOP_SASL_MECH_SCRAM_SHA_256:
        return EVP_sha256();
    case HOOP_SASL_MECH_SCRAM_SHA_512:
        return EVP_sha512();
    default:
        return NULL;
    }
}


/* RFC 4231 section 4.3 (test case 2): HMAC(md, "Jefe", "what do ya want
 * for nothing?") must be hex; 1 if OpenSSL computes it, else 0 */

static int
hoop_scram_selftest(const EVP_MD *md, const char *hex)
{
    static const char  data[] = "what do ya want for nothing?";
    uint8_t            mac[EVP_MAX_MD_SIZE];
    unsigned           n, i;
    char               buf[2 * EVP_MAX_MD_SIZE + 1];

    n = 0;

    if (md == NULL
        || HMAC(md, "Jefe", 4, (const uint8_t *) data, sizeof(data) - 1, mac,
                &n) == NULL
        || 2 * (size_t) n != strlen(hex))
    {
        return 0;
    }

    for (i = 0; i < n; i++) {
        snprintf(buf + 2 * i, 3, "%02x", mac[i]);
    }

    return memcmp(buf, hex, 2 * (size_t) n) == 0;
}


int
hoop_sasl_server_init(char *err, size_t errlen)
{
    char  note[160];

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }

    if (hoop_sasl_server_inits++ > 0) {
        return 0;
    }

    note[0] = '\0';

    hoop_scram256_ok = hoop_scram_selftest(EVP_sha256(),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    hoop_scram512_ok = hoop_scram_selftest(EVP_sha512(),
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");

    if (!hoop_scram256_ok || !hoop_scram512_ok) {
        snprintf(note, sizeof(note), "%s%s%s disabled: OpenSSL failed the "
                 "HMAC self-test (RFC 4231)",
                 hoop_scram256_ok ? "" : "SCRAM-SHA-256",
                 !hoop_scram256_ok && !hoop_scram512_ok ? " and " : "",
                 hoop_scram512_ok ? "" : "SCRAM-SHA-512");
    }

    if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "%s", note);
    }

    return 0;
}


void
hoop_sasl_server_done(void)
{
    if (hoop_sasl_server_inits == 0 || --hoop_sasl_server_inits > 0) {
        return;
    }

    hoop_scram256_ok = 0;
    hoop_scram512_ok = 0;
}


int
hoop_sasl_server_mech_enabled(hoop_sasl_mech_t mech)
{
    if (hoop_sasl_server_inits == 0) {
        return 0;
    }

    switch (mech) {
    case HOOP_SASL_MECH_PLAIN:
        return 1;
    case HOOP_SASL_MECH_SCRAM_SHA_256:
        return hoop_scram256_ok;
    case HOOP_SASL_MECH_SCRAM_SHA_512:
        return hoop_scram512_ok;
    default:
        return 0;
    }
}


/* --- exchanges ------------------------------------------------------------ */

hoop_sasl_server_t *
hoop_sasl_server_start(hoop_sasl_mech_t mech, hoop_cred_store_t *store)
{
    hoop_sasl_server_t  *s;
    hoop_cred_set_t     *set;

    if (!hoop_sasl_server_mech_enabled(mech) || store == NULL) {
        return NULL;
    }

    set = hoop_cred_store_current(store);
    if (set == NULL) {
        return NULL;
    }

    s = calloc(1, sizeof(hoop_sasl_server_t));
    if (s == NULL) {
        return NULL;
    }

    s->mech = mech;
    s->state = HOOP_SASL_S_START;
    s->set = hoop_cred_set_ref(set);
    s->md = hoop_scram_md(mech);                /* NULL for PLAIN */
    s->client_msg = "";

    return s;
}


hoop_sasl_rc_t
hoop_sasl_server_step(hoop_sasl_server_t *s, const uint8_t *in,
    size_t inlen, const uint8_t **out, size_t *outlen)
{
    hoop_sasl_rc_t  rc;

    *out = NULL;
    *outlen = 0;

    s->out = NULL;
    s->outlen = 0;

    if (in == NULL && inlen > 0) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_INTERNAL,
                                     "no input buffer");
    }

    if (in == NULL) {
        in = (const uint8_t *) "";
    }

    switch (s->state) {

    case HOOP_SASL_S_START:
        if (s->mech == HOOP_SASL_MECH_PLAIN) {
            rc = hoop_sasl_plain_step(s, in, inlen);
        } else {
            rc = hoop_scram_first(s, in, inlen);
        }
        break;

    case HOOP_SASL_S_FINAL:
        rc = hoop_scram_final(s, in, inlen);
        break;

    case HOOP_SASL_S_DONE:
        s->principal = NULL;
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_MALFORMED,
                                     "message after a completed exchange");

    default:
        return HOOP_SASL_FAILED;
    }

    if (rc != HOOP_SASL_FAILED) {
        *out = s->out != NULL ? s->out : (const uint8_t *) "";
        *outlen = s->outlen;
    }

    return rc;
}


/* records why s failed (reason "MECH: fmt...", msg for the client), wipes
 * the SCRAM secrets; every later step fails */

static hoop_sasl_rc_t
hoop_sasl_server_fail(hoop_sasl_server_t *s, const char *msg,
    const char *fmt, ...)
{
    va_list  ap;
    size_t   n;

    n = (size_t) snprintf(s->reason, sizeof(s->reason), "%s: ",
                          hoop_sasl_mech_name(s->mech));

    va_start(ap, fmt);
    vsnprintf(s->reason + n, sizeof(s->reason) - n, fmt, ap);
    va_end(ap);

    s->client_msg = msg;
    s->state = HOOP_SASL_S_FAILED;
    s->principal = NULL;
    s->out = NULL;
    s->outlen = 0;

    OPENSSL_cleanse(&s->scram, sizeof(s->scram));

    return HOOP_SASL_FAILED;
}


/* RFC 4616 section 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd */

static hoop_sasl_rc_t
hoop_sasl_plain_step(hoop_sasl_server_t *s, const uint8_t *in, size_t inlen)
{
    const uint8_t      *nul1, *nul2, *authcid, *pw;
    size_t              zlen, clen, pwlen;
    const hoop_cred_t  *cred;
    char                esc[2][80];

    nul1 = memchr(in, '\0', inlen);
    nul2 = nul1 ? memchr(nul1 + 1, '\0', inlen - (size_t) (nul1 + 1 - in))
                : NULL;

    if (nul2 == NULL) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_MALFORMED,
                                     "malformed message (need authzid NUL "
                                     "authcid NUL passwd)");
    }

    zlen = (size_t) (nul1 - in);
    authcid = nul1 + 1;
    clen = (size_t) (nul2 - authcid);
    pw = nul2 + 1;
    pwlen = inlen - (size_t) (pw - in);

    if (memchr(pw, '\0', pwlen) != NULL) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_MALFORMED,
                                     "malformed message (NUL in password)");
    }

    if (clen == 0 || clen > HOOP_CRED_NAME_MAX
        || !hoop_utf8_name_valid(authcid, clen))
    {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_MALFORMED,
                                     "malformed authcid \"%s\"",
                                     hoop_log_escape(esc[0], sizeof(esc[0]),
                                         (const char *) authcid, clen));
    }

    if (zlen > HOOP_CRED_NAME_MAX || !hoop_utf8_name_valid(in, zlen)) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_MALFORMED,
                                     "malformed authzid \"%s\"",
                                     hoop_log_escape(esc[0], sizeof(esc[0]),
                                         (const char *) in, zlen));
    }

    if (pwlen == 0 || pwlen > HOOP_SASL_PLAIN_PASS_MAX) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_MALFORMED,
                                     "password of %zu bytes for \"%s\" "
                                     "(need 1..%d)", pwlen,
                                     hoop_log_escape(esc[0], sizeof(esc[0]),
                                         (const char *) authcid, clen),
                                     HOOP_SASL_PLAIN_PASS_MAX);
    }

    if (zlen > 0 && (zlen != clen || memcmp(in, authcid, clen) != 0)) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_AUTHZID,
                                     "authorization id \"%s\" differs from "
                                     "user \"%s\"",
                                     hoop_log_escape(esc[0], sizeof(esc[0]),
                                         (const char *) in, zlen),
                                     hoop_log_escape(esc[1], sizeof(esc[1]),
                                         (const char *) authcid, clen));
    }

    cred = hoop_cred_set_find(s->set, (const char *) authcid, clen);

    /* the same PBKDF2 work whether or not the user exists */

    if (!hoop_cred_verify_plain(s->set, cred, pw, pwlen)) {
        hoop_log_escape(esc[0], sizeof(esc[0]), (const char *) authcid, clen);

        if (cred == NULL) {
            return hoop_sasl_server_fail(s, HOOP_SASL_MSG_FAILED,
                                         "unknown user \"%s\"", esc[0]);
        }

        if (!hoop_cred_has(cred, HOOP_SASL_MECH_PLAIN)) {
            return hoop_sasl_server_fail(s, HOOP_SASL_MSG_FAILED,
                                         "user \"%s\" has no PLAIN verifier",
                                         esc[0]);
        }

        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_FAILED,
                                     "wrong password for \"%s\"", esc[0]);
    }

    s->principal = cred;
    s->state = HOOP_SASL_S_DONE;

    return HOOP_SASL_OK;
}


/*
 * SCRAM (RFC 5802 section 7), as Kafka's ScramMessages reads it (KIP-84):
 *
 *   client-first-message = gs2-header client-first-message-bare
 *   gs2-header      = "n," [ "a=" saslname ] ","
 *   client-first-message-bare = [ "m=" ... "," ] "n=" saslname
 *                               "," "r=" c-nonce *( "," ext )
 *   ext             = 1*ALPHA "=" 1*( %x01-7F except "," )
 *   saslname        = 1*( value-char / "=2C" / "=3D" )     (UTF-8 here)
 *   c-nonce         = 1*( %x21-7E except "," )
 *
 *   client-final-message = "c=" base64 "," "r=" nonce *( "," ext )
 *                          "," "p=" base64
 *
 * The gs2 flag must be "n": "p=" (the client requires channel binding)
 * and "y" (it could bind, thinks we cannot) are refused, as by Kafka.  A
 * reserved "m=" attribute fails the exchange (RFC 5802 section 5.1).  Of
 * the extensions Kafka knows only "tokenauth" (KIP-48); "tokenauth=true"
 * (any case) is refused since the gateway has no delegation tokens, other
 * extensions are ignored as Kafka ignores them (they stay in AuthMessage).
 */

/* unescapes saslname p[0..len) ("=2C" is ',', "=3D" is '=') into
 * dst[0..HOOP_CRED_NAME_MAX] (NUL-terminated); -1 on a bad escape, an
 * empty or too long name */

static int
hoop_scram_saslname(const uint8_t *p, size_t len, char *dst, size_t *dstlen)
{
    size_t   i, n;
    uint8_t  c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c == '=') {
            if (len - i >= 3 && p[i + 1] == '2' && p[i + 2] == 'C') {
                c = ',';
            } else if (len - i >= 3 && p[i + 1] == '3' && p[i + 2] == 'D') {
                c = '=';
            } else {
                return -1;
            }
            i += 2;
        }

        if (n == HOOP_CRED_NAME_MAX) {
            return -1;
        }

        dst[n++] = (char) c;
    }

    if (n == 0) {
        return -1;
    }

    dst[n] = '\0';
    *dstlen = n;

    return 0;
}


/* the end of a run of printable characters except ',' from p on (a
 * nonce); p itself when there is none */

static const uint8_t *
hoop_scram_printable(const uint8_t *p, const uint8_t *end)
{
    while (p < end && *p >= 0x21 && *p <= 0x7e && *p != ',') {
        p++;
    }

    return p;
}


/*
 * Extensions *( "," ext ) from p, up to end.  Returns end when all are
 * well-formed, else NULL.  *token is set to 1 when one of them is
 * "tokenauth" with the value "true" in any case (Java's
 * Boolean.parseBoolean(), as Kafka's ScramExtensions reads it).
 */

static const uint8_t *
hoop_scram_extensions(const uint8_t *p, const uint8_t *end, int *token)
{
    const uint8_t  *key, *val;
    size_t          klen, vlen;

    while (p < end) {
        if (*p++ != ',') {
            return NULL;
        }

        key = p;
        while (p < end
               && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        {
            p++;
        }
        klen = (size_t) (p - key);

        if (klen == 0 || p == end || *p++ != '=') {
            return NULL;
        }

        val = p;
        while (p < end && *p != ',') {
            if (*p == 0 || *p > 0x7f) {
                return NULL;
            }
            p++;
        }
        vlen = (size_t) (p - val);

        if (vlen == 0) {
            return NULL;
        }

        if (klen == 9 && memcmp(key, "tokenauth", 9) == 0 && vlen == 4
            && (val[0] | 0x20) == 't' && (val[1] | 0x20) == 'r'
            && (val[2] | 0x20) == 'u' && (val[3] | 0x20) == 'e')
        {
            *token = 1;
        }
    }

    return p;
}


/* parses client-first in[0..inlen) into *cf; -1 after failing s */

static int
hoop_scram_first_parse(hoop_sasl_server_t *s, const uint8_t *in,
    size_t inlen, hoop_scram_first_t *cf)
{
    const uint8_t  *p, *q, *end;
    int             token;
    char            esc[2][80];

    if (inlen == 0 || inlen > HOOP_SASL_SCRAM_MSG_MAX
        || memchr(in, '\0', inlen) != NULL)
    {
        goto malformed;
    }

    p = in;
    end = in + inlen;

    /* gs2-header */

    switch (*p) {
    case 'n':
        p++;
        break;
    case 'p':
        hoop_sasl_server_fail(s, HOOP_SASL_MSG_CBIND, "client requires "
                              "channel binding (gs2 flag 'p')");
        return -1;
    case 'y':
        hoop_sasl_server_fail(s, HOOP_SASL_MSG_CBIND, "client offers "
                              "channel binding (gs2 flag 'y'); Kafka SCRAM "
                              "has none");
        return -1;
    default:
        goto malformed;
    }

    if (p == end || *p++ != ',') {
        goto malformed;
    }

    cf->authzid_len = 0;
    cf->authzid[0] = '\0';

    if (end - p >= 2 && p[0] == 'a' && p[1] == '=') {
        p += 2;
        q = memchr(p, ',', (size_t) (end - p));
        if (q == NULL
            || hoop_scram_saslname(p, (size_t) (q - p), cf->authzid,
                                   &cf->authzid_len) != 0
            || !hoop_utf8_name_valid((const uint8_t *) cf->authzid,
                                     cf->authzid_len))
        {
            goto malformed;
        }
        p = q;
    }

    if (p == end || *p++ != ',') {
        goto malformed;
    }

    cf->gs2_len = (size_t) (p - in);
    if (cf->gs2_len > HOOP_SCRAM_GS2_MAX) {
        goto malformed;
    }

    cf->bare = p;
    cf->bare_len = (size_t) (end - p);

    /* client-first-message-bare */

    if (end - p >= 2 && p[0] == 'm' && p[1] == '=') {
        hoop_sasl_server_fail(s, HOOP_SASL_MSG_EXTENSION,
                              "mandatory extension (m=) not supported");
        return -1;
    }

    if (end - p < 2 || p[0] != 'n' || p[1] != '=') {
        goto malformed;
    }
    p += 2;

    q = memchr(p, ',', (size_t) (end - p));
    if (q == NULL
        || hoop_scram_saslname(p, (size_t) (q - p), cf->user, &cf->user_len)
           != 0
        || !hoop_utf8_name_valid((const uint8_t *) cf->user, cf->user_len))
    {
        goto malformed;
    }
    p = q + 1;

    if (end - p < 2 || p[0] != 'r' || p[1] != '=') {
        goto malformed;
    }
    p += 2;

    q = hoop_scram_printable(p, end);
    if (q == p || (q < end && *q != ',')) {
        goto malformed;
    }

    cf->nonce = p;
    cf->nonce_len = (size_t) (q - p);

    token = 0;
    if (hoop_scram_extensions(q, end, &token) == NULL) {
        goto malformed;
    }

    if (token) {
        hoop_sasl_server_fail(s, HOOP_SASL_MSG_TOKEN,
                              "delegation token (tokenauth=true) for \"%s\" "
                              "refused: no token store",
                              hoop_log_escape(esc[0], sizeof(esc[0]),
                                              cf->user, cf->user_len));
        return -1;
    }

    /* as Kafka: an authzid must name the user itself */

    if (cf->authzid_len > 0
        && (cf->authzid_len != cf->user_len
            || memcmp(cf->authzid, cf->user, cf->user_len) != 0))
    {
        hoop_sasl_server_fail(s, HOOP_SASL_MSG_AUTHZID,
                              "authorization id \"%s\" differs from user "
                              "\"%s\"",
                              hoop_log_escape(esc[0], sizeof(esc[0]),
                                              cf->authzid, cf->authzid_len),
                              hoop_log_escape(esc[1], sizeof(esc[1]),
                                              cf->user, cf->user_len));
        return -1;
    }

    return 0;

malformed:

    hoop_sasl_server_fail(s, HOOP_SASL_MSG_MALFORMED,
                          "malformed client-first message");
    return -1;
}


/*
 * client-first -> server-first.  The credential of the user, or the
 * store's fake one for an unknown user (a plausible salt and iteration
 * count, random keys): the answer looks the same either way, and the
 * exchange fails at the proof.
 */

static hoop_sasl_rc_t
hoop_scram_first(hoop_sasl_server_t *s, const uint8_t *in, size_t inlen)
{
    hoop_scram_first_t   cf;
    int                  rc;
    size_t               cap, n;
    uint8_t             *a, raw[HOOP_SCRAM_SNONCE_RAW];
    char                 snonce[HOOP_SCRAM_SNONCE_LEN + 1];
    char                 tail[HOOP_SCRAM_SF_TAIL_MAX + 1];
    char                 salt[HOOP_B64_LEN(HOOP_CRED_SALT_MAX) + 1];
    const char          *sn;

    if (hoop_scram_first_parse(s, in, inlen, &cf) != 0) {
        return HOOP_SASL_FAILED;
    }

    memcpy(s->user, cf.user, cf.user_len + 1);
    s->user_len = cf.user_len;
    memcpy(s->gs2, in, cf.gs2_len);
    s->gs2[cf.gs2_len] = '\0';
    s->gs2_len = cf.gs2_len;

    s->cred = hoop_cred_set_find(s->set, s->user, s->user_len);

    rc = hoop_cred_scram_get(s->set, s->cred, s->mech, s->user, s->user_len,
                             &s->scram);
    if (rc < 0 || s->scram.key_len != (size_t) EVP_MD_get_size(s->md)
        || s->scram.salt_len > HOOP_CRED_SALT_MAX)
    {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_INTERNAL,
                                     "credential lookup failed (OpenSSL)");
    }

    s->real = rc;

    /* s-nonce */

    sn = snonce;

#ifdef HOOP_SASL_SERVER_TEST
    if (hoop_sasl_server_test_snonce != NULL) {
        sn = hoop_sasl_server_test_snonce;
    } else
#endif
    {
        if (RAND_bytes(raw, sizeof(raw)) != 1) {
            return hoop_sasl_server_fail(s, HOOP_SASL_MSG_INTERNAL,
                                         "RAND_bytes failed");
        }

        hoop_b64_encode(snonce, raw, sizeof(raw));
    }

    hoop_b64_encode(salt, s->scram.salt, s->scram.salt_len);
    snprintf(tail, sizeof(tail), ",s=%s,i=%u", salt, s->scram.iterations);

    /* auth := client-first-bare "," server-first ","; server-first :=
     * "r=" c-nonce s-nonce tail */

    cap = cf.bare_len + 1 + 2 + cf.nonce_len + strlen(sn) + strlen(tail) + 1;

    a = malloc(cap);
    if (a == NULL) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_INTERNAL,
                                     "out of memory");
    }

    n = 0;
    memcpy(a, cf.bare, cf.bare_len);
    n += cf.bare_len;
    a[n++] = ',';

    s->sf_off = n;
    a[n++] = 'r';
    a[n++] = '=';

    s->nonce_off = n;
    memcpy(a + n, cf.nonce, cf.nonce_len);
    n += cf.nonce_len;
    memcpy(a + n, sn, strlen(sn));
    n += strlen(sn);
    s->nonce_len = n - s->nonce_off;

    memcpy(a + n, tail, strlen(tail));
    n += strlen(tail);
    s->sf_len = n - s->sf_off;

    a[n++] = ',';

    s->auth = a;
    s->auth_len = n;

    s->out = a + s->sf_off;
    s->outlen = s->sf_len;
    s->state = HOOP_SASL_S_FINAL;

    OPENSSL_cleanse(raw, sizeof(raw));

    return HOOP_SASL_CONTINUE;
}


/* fails s after a failed check of client-final; the client sees the same
 * message for an unknown user and a wrong password, the log tells them
 * apart */

static hoop_sasl_rc_t
hoop_scram_refuse(hoop_sasl_server_t *s, const char *check,
    const char *detail)
{
    char  esc[80];

    hoop_log_escape(esc, sizeof(esc), s->user, s->user_len);

    if (!s->real) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_FAILED,
                                     s->cred == NULL
                                     ? "unknown user \"%s\" (%s: %s)"
                                     : "user \"%s\" has no credential for "
                                       "this mechanism (%s: %s)",
                                     esc, check, detail);
    }

    return hoop_sasl_server_fail(s, HOOP_SASL_MSG_FAILED,
                                 "%s for \"%s\": %s", check, esc, detail);
}


/*
 * client-final -> server-final.  The nonce must end with the nonce of
 * server-first (Kafka's rule, String.endsWith()): the RFC form repeats it
 * exactly; librdkafka (2.0.2, as in Debian 12) sends c-nonce followed by
 * the whole nonce.  The leniency does not weaken the proof: AuthMessage
 * holds the whole server-first, with our fresh s-nonce, and the
 * client-final as sent, so no proof verifies for another exchange.
 */

static hoop_sasl_rc_t
hoop_scram_final(hoop_sasl_server_t *s, const uint8_t *in, size_t inlen)
{
    const uint8_t  *p, *q, *end, *nonce, *proof_b64, *comma;
    size_t          nonce_len, wo_len, k, key_len;
    long            proof_len;
    int             token, ok;
    unsigned        n;
    uint8_t        *a;
    uint8_t         proof[HOOP_CRED_KEY_MAX];
    uint8_t         sig[EVP_MAX_MD_SIZE];
    uint8_t         key[EVP_MAX_MD_SIZE];
    uint8_t         h[EVP_MAX_MD_SIZE];
    char            cbind[HOOP_B64_LEN(HOOP_SCRAM_GS2_MAX) + 1];
    char            esc[80];

    hoop_log_escape(esc, sizeof(esc), s->user, s->user_len);

    if (inlen == 0 || inlen > HOOP_SASL_SCRAM_MSG_MAX
        || memchr(in, '\0', inlen) != NULL)
    {
        goto malformed;
    }

    end = in + inlen;
    key_len = s->scram.key_len;

    /* the proof is the last attribute: base64 has no ',' */

    for (comma = end; comma > in && comma[-1] != ','; comma--) {
        /* void */
    }

    if (comma == in || end - comma < 2 || comma[0] != 'p' || comma[1] != '=')
    {
        goto malformed;
    }

    proof_b64 = comma + 2;
    wo_len = (size_t) (comma - 1 - in);     /* without ",p=..." */

    /* "c=" base64 "," "r=" nonce *( "," ext ) */

    p = in;

    if (wo_len < 2 || p[0] != 'c' || p[1] != '=') {
        goto malformed;
    }
    p += 2;

    q = memchr(p, ',', (size_t) (in + wo_len - p));
    if (q == NULL) {
        goto malformed;
    }

    hoop_b64_encode(cbind, (const uint8_t *) s->gs2, s->gs2_len);

    if ((size_t) (q - p) != strlen(cbind)
        || memcmp(p, cbind, (size_t) (q - p)) != 0)
    {
        return hoop_scram_refuse(s, "channel binding check failed",
                                 "c= is not the base64 of the gs2 header "
                                 "of client-first");
    }

    p = q + 1;

    if (in + wo_len - p < 2 || p[0] != 'r' || p[1] != '=') {
        goto malformed;
    }
    p += 2;

    nonce = p;
    p = hoop_scram_printable(p, in + wo_len);
    nonce_len = (size_t) (p - nonce);

    token = 0;
    if (nonce_len == 0
        || hoop_scram_extensions(p, in + wo_len, &token) == NULL)
    {
        goto malformed;
    }

    proof_len = hoop_b64_decode(proof, sizeof(proof),
                                (const char *) proof_b64,
                                (size_t) (end - proof_b64));
    if (proof_len < 0 || (size_t) proof_len != key_len) {
        goto malformed;
    }

    /* Kafka's rule: the nonce ends with the nonce of server-first */

    if (nonce_len < s->nonce_len
        || memcmp(nonce + nonce_len - s->nonce_len, s->auth + s->nonce_off,
                  s->nonce_len) != 0)
    {
        OPENSSL_cleanse(proof, sizeof(proof));
        return hoop_scram_refuse(s, "nonce check failed",
                                 "the nonce of client-final does not end "
                                 "with the nonce of server-first");
    }

    /* AuthMessage := client-first-bare "," server-first ","
     *                client-final-without-proof */

    a = realloc(s->auth, s->auth_len + wo_len);
    if (a == NULL) {
        OPENSSL_cleanse(proof, sizeof(proof));
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_INTERNAL,
                                     "out of memory");
    }

    s->auth = a;
    memcpy(a + s->auth_len, in, wo_len);
    s->auth_len += wo_len;

    /* ClientKey := ClientProof XOR HMAC(StoredKey, AuthMessage); the same
     * work for fake credentials */

    ok = 0;
    n = 0;

    if (HMAC(s->md, s->scram.stored_key, (int) key_len, a, s->auth_len, sig,
             &n) != NULL
        && n == key_len)
    {
        for (k = 0; k < key_len; k++) {
            key[k] = proof[k] ^ sig[k];
        }

        n = 0;
        if (EVP_Digest(key, key_len, h, &n, s->md, NULL) == 1
            && n == key_len)
        {
            ok = CRYPTO_memcmp(h, s->scram.stored_key, key_len) == 0;
        } else {
            ok = -1;
        }

    } else {
        ok = -1;
    }

    OPENSSL_cleanse(proof, sizeof(proof));
    OPENSSL_cleanse(sig, sizeof(sig));
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(h, sizeof(h));

    if (ok < 0) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_INTERNAL,
                                     "HMAC failed (OpenSSL) for \"%s\"",
                                     esc);
    }

    if (!ok || !s->real || s->cred == NULL) {
        return hoop_scram_refuse(s, "proof check failed",
                                 "wrong password, or a tampered message");
    }

    /* server-final: v=ServerSignature, HMAC(ServerKey, AuthMessage) */

    n = 0;
    if (HMAC(s->md, s->scram.server_key, (int) key_len, a, s->auth_len, sig,
             &n) == NULL
        || n != key_len)
    {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_INTERNAL,
                                     "HMAC failed (OpenSSL) for \"%s\"",
                                     esc);
    }

    s->final[0] = 'v';
    s->final[1] = '=';
    hoop_b64_encode(s->final + 2, sig, key_len);
    OPENSSL_cleanse(sig, sizeof(sig));
    OPENSSL_cleanse(&s->scram, sizeof(s->scram));

    s->out = (const uint8_t *) s->final;
    s->outlen = strlen(s->final);
    s->principal = s->cred;
    s->state = HOOP_SASL_S_DONE;

    return HOOP_SASL_OK;

malformed:

    return hoop_sasl_server_fail(s, HOOP_SASL_MSG_MALFORMED,
                                 "malformed client-final message for \"%s\"",
                                 esc);
}


/* --- results -------------------------------------------------------------- */

const char *
hoop_sasl_server_principal(const hoop_sasl_server_t *s)
{
    return s->principal != NULL ? hoop_cred_name(s->principal) : NULL;
}


size_t
hoop_sasl_server_ngroups(const hoop_sasl_server_t *s)
{
    return s->principal != NULL ? hoop_cred_ngroups(s->principal) : 0;
}


const char *
hoop_sasl_server_group(const hoop_sasl_server_t *s, size_t i)
{
    return s->principal != NULL ? hoop_cred_group(s->principal, i) : NULL;
}


hoop_sasl_mech_t
hoop_sasl_server_mech(const hoop_sasl_server_t *s)
{
    return s->mech;
}


const char *
hoop_sasl_server_reason(const hoop_sasl_server_t *s)
{
    return s->state == HOOP_SASL_S_FAILED ? s->reason : "";
}


const char *
hoop_sasl_server_client_message(const hoop_sasl_server_t *s)
{
    return s->state == HOOP_SASL_S_FAILED ? s->client_msg : "";
}


void
hoop_sasl_server_free(hoop_sasl_server_t *s)
{
    if (s == NULL) {
        return;
    }

    if (s->auth != NULL) {
        OPENSSL_cleanse(s->auth, s->auth_len);
        free(s->auth);
    }

    hoop_cred_set_unref(s->set);

    OPENSSL_cleanse(s, sizeof(*s));
    free(s);
}
