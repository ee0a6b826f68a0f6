/*
 * Unit tests of src/auth/hoop_jwt.c and src/auth/hoop_oauthbearer.c.
 *
 * Keys are generated at test time with OpenSSL (EVP_PKEY_Q_keygen), handed
 * to cjose for signing, and published to the code under test as JWK Sets
 * with the public members only.  Tokens are signed with cjose (RS*, PS*,
 * ES*), with OpenSSL directly where cjose cannot (EdDSA, and HS256 keyed
 * with the public key for the key-confusion attack), or assembled by hand
 * when they must be malformed.  Nothing is read from disk but the JWKS
 * files the reload tests write into a fresh temporary directory.
 */

#define _POSIX_C_SOURCE  200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <jansson.h>
#include <cjose/cjose.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "hoop_jwt.h"
#include "hoop_oauthbearer.h"


#define NOW        ((time_t) 1760000000)
#define ISSUER     "https://idp.test/realms/kafka"
#define AUDIENCE   "kafka-gateway"


typedef struct {
    EVP_PKEY     *pkey;
    cjose_jwk_t  *jwk;          /* private, for signing */
    json_t       *pub;          /* public JWK, without kid */
} key_t_;


static key_t_   rsa1, rsa2, rsa_small, ec1, ec2, ec384;
static EVP_PKEY *ed25519;
static char      tmpdir[256];


/* helpers: keys */

static void
die(const char *what)
{
    fprintf(stderr, "test setup failed: %s\n", what);
    abort();
}


static uint8_t *
bn_param(EVP_PKEY *pkey, const char *name, size_t pad, size_t *len)
{
    BIGNUM   *bn;
    uint8_t  *buf;
    size_t    n;

    bn = NULL;
    if (!EVP_PKEY_get_bn_param(pkey, name, &bn)) {
        die(name);
    }

    n = pad ? pad : (size_t) BN_num_bytes(bn);
    buf = malloc(n ? n : 1);
    if (buf == NULL || BN_bn2binpad(bn, buf, (int) n) < 0) {
        die("BN_bn2binpad");
    }

    BN_free(bn);
    *len = n;

    return buf;
}


static void
key_finish(key_t_ *k)
{
    char       *json;
    cjose_err   cerr;

    json = cjose_jwk_to_json(k->jwk, false, &cerr);
    if (json == NULL) {
        die("cjose_jwk_to_json");
    }

    k->pub = json_loads(json, 0, NULL);
    free(json);

    if (k->pub == NULL) {
        die("public JWK");
    }
}


static void
rsa_key(key_t_ *k, unsigned bits)
{
    cjose_err             cerr;
    cjose_jwk_rsa_keyspec  s;

    k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits);
    if (k->pkey == NULL) {
        die("RSA keygen");
    }

    memset(&s, 0, sizeof(s));
    s.n = bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, 0, &s.nlen);
    s.e = bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, 0, &s.elen);
    s.d = bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_D, 0, &s.dlen);
    s.p = bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_FACTOR1, 0, &s.plen);
    s.q = bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_FACTOR2, 0, &s.qlen);
    s.dp = bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_EXPONENT1, 0, &s.dplen);
    s.dq = bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_EXPONENT2, 0, &s.dqlen);
    s.qi = bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 0,
                    &s.qilen);

    k->jwk = cjose_jwk_create_RSA_spec(&s, &cerr);
    if (k->jwk == NULL) {
        die("cjose_jwk_create_RSA_spec");
    }

    free(s.n);
    free(s.e);
    free(s.d);
    free(s.p);
    free(s.q);
    free(s.dp);
    free(s.dq);
    free(s.qi);

    key_finish(k);
}


static void
ec_key(key_t_ *k, const char *curve, cjose_jwk_ec_curve crv, size_t size)
{
    cjose_err             cerr;
    cjose_jwk_ec_keyspec  s;

    k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    if (k->pkey == NULL) {
        die("EC keygen");
    }

    memset(&s, 0, sizeof(s));
    s.crv = crv;
    s.d = bn_param(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, size, &s.dlen);
    s.x = bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, size, &s.xlen);
    s.y = bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, size, &s.ylen);

    k->jwk = cjose_jwk_create_EC_spec(&s, &cerr);
    if (k->jwk == NULL) {
        die("cjose_jwk_create_EC_spec");
    }

    free(s.d);
    free(s.x);
    free(s.y);

    key_finish(k);
}


static void
key_free(key_t_ *k)
{
    EVP_PKEY_free(k->pkey);
    cjose_jwk_release(k->jwk);
    json_decref(k->pub);
    memset(k, 0, sizeof(key_t_));
}


/* helpers: JSON and tokens */

static char *
b64url(const void *data, size_t len)
{
    char       *out, *copy;
    size_t      olen;
    cjose_err   cerr;

    if (!cjose_base64url_encode(data, len, &out, &olen, &cerr)) {
        die("base64url");
    }

    copy = strndup(out, olen);
    free(out);

    return copy;
}


/* a public JWK of k with kid and extra members ("alg", "use", ...) */

static json_t *
jwk_entry(const key_t_ *k, const char *kid, const char *extra)
{
    json_t  *o, *x;

    o = json_deep_copy(k->pub);

    if (kid != NULL) {
        json_object_set_new(o, "kid", json_string(kid));
    }

    if (extra != NULL) {
        x = json_loads(extra, 0, NULL);
        assert_non_null(x);
        json_object_update(o, x);
        json_decref(x);
    }

    return o;
}


/* a JWK Set document from entries (steals them); NULL-terminated list */

static char *
jwks_doc(json_t *first, ...)
{
    char     *s;
    json_t   *doc, *keys, *e;
    va_list   ap;

    doc = json_object();
    keys = json_array();

    va_start(ap, first);
    for (e = first; e != NULL; e = va_arg(ap, json_t *)) {
        json_array_append_new(keys, e);
    }
    va_end(ap);

    json_object_set_new(doc, "keys", keys);
    s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);

    return s;
}


static hoop_jwks_t *
jwks_of(json_t *first, ...)
{
    char         *s, err[512];
    json_t       *doc, *keys, *e;
    va_list       ap;
    hoop_jwks_t  *jwks;

    doc = json_object();
    keys = json_array();

    va_start(ap, first);
    for (e = first; e != NULL; e = va_arg(ap, json_t *)) {
        json_array_append_new(keys, e);
    }
    va_end(ap);

    json_object_set_new(doc, "keys", keys);
    s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);

    jwks = hoop_jwks_parse(s, strlen(s), err, sizeof(err));
    if (jwks == NULL) {
        fprintf(stderr, "jwks: %s\n", err);
    }

    assert_non_null(jwks);
    free(s);

    return jwks;
}


/* the claims of a good token; tests edit them */

static json_t *
claims_ok(void)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:[s,s]}",
                     "iss", ISSUER,
                     "aud", AUDIENCE,
                     "sub", "alice",
                     "exp", (json_int_t) NOW + 300,
                     "iat", (json_int_t) NOW - 10,
                     "nbf", (json_int_t) NOW - 10,
                     "groups", "dev", "ops");
}


/* sign plaintext with cjose; kid NULL: no kid header */

static char *
sign_raw(const key_t_ *k, const char *alg, const char *kid,
    const void *payload, size_t len)
{
    char            *tok;
    cjose_err        cerr;
    cjose_jws_t     *jws;
    const char      *ser;
    cjose_header_t  *hdr;

    hdr = cjose_header_new(&cerr);
    cjose_header_set(hdr, CJOSE_HDR_ALG, alg, &cerr);
    cjose_header_set(hdr, "typ", "JWT", &cerr);

    if (kid != NULL) {
        cjose_header_set(hdr, CJOSE_HDR_KID, kid, &cerr);
    }

    jws = cjose_jws_sign(k->jwk, hdr, payload, len, &cerr);
    if (jws == NULL) {
        fprintf(stderr, "cjose_jws_sign: %s\n", cerr.message);
        die("sign");
    }

    if (!cjose_jws_export(jws, &ser, &cerr)) {
        die("export");
    }

    tok = strdup(ser);
    cjose_jws_release(jws);
    cjose_header_release(hdr);

    return tok;
}


/* sign claims (stolen) */

static char *
sign(const key_t_ *k, const char *alg, const char *kid, json_t *claims)
{
    char  *payload, *tok;

    payload = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    tok = sign_raw(k, alg, kid, payload, strlen(payload));
    free(payload);

    return tok;
}


/* header.payload.sig from raw JSON text; sig is already base64url */

static char *
assemble(const char *hdr, const char *payload, const char *sig)
{
    char    *h, *p, *t;
    size_t   n;

    h = b64url(hdr, strlen(hdr));
    p = b64url(payload, strlen(payload));
    n = strlen(h) + strlen(p) + strlen(sig) + 3;
    t = malloc(n);
    snprintf(t, n, "%s.%s.%s", h, p, sig);
    free(h);
    free(p);

    return t;
}


static char *
claims_text(json_t *claims)
{
    char  *s;

    s = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);

    return s;
}


/* verify with the default policy */

static hoop_jwt_policy_t
policy(void)
{
    hoop_jwt_policy_t  pol;

    hoop_jwt_policy_init(&pol);
    pol.issuer = ISSUER;
    pol.audience = AUDIENCE;

    return pol;
}


static int
verify_pol(const hoop_jwks_t *jwks, const hoop_jwt_policy_t *pol,
    const char *tok, hoop_jwt_claims_t *out, char *err, size_t errlen)
{
    int  rc;

    rc = hoop_jwt_verify(jwks, pol, tok, strlen(tok), NOW, out, err, errlen);
    if (rc != HOOP_JWT_OK) {
        /* every refusal says something */
        assert_true(err[0] != '\0');
    }

    return rc;
}


/* expect rc for tok (freed) under pol; returns nothing, checks out zeroed */

static void
expect_pol(const hoop_jwks_t *jwks, const hoop_jwt_policy_t *pol, char *tok,
    int want)
{
    int                rc;
    char               err[256];
    hoop_jwt_claims_t  c;

    rc = verify_pol(jwks, pol, tok, &c, err, sizeof(err));
    if (rc != want) {
        fprintf(stderr, "want %s, got %s: %s\n", hoop_jwt_rc_name(want),
                hoop_jwt_rc_name(rc), err);
    }

    assert_int_equal(rc, want);

    if (getenv("HOOP_TEST_VERBOSE") != NULL) {
        fprintf(stderr, "  %-16s %s\n", hoop_jwt_rc_name(rc), err);
    }

    if (rc != HOOP_JWT_OK) {
        assert_null(c.principal);
        assert_int_equal(c.ngroups, 0);
    }

    hoop_jwt_claims_free(&c);
    free(tok);
}


static void
expect(const hoop_jwks_t *jwks, char *tok, int want)
{
    hoop_jwt_policy_t  pol;

    pol = policy();
    expect_pol(jwks, &pol, tok, want);
}


/* the standard set: r1, r2 (RSA), e1 (EC P-256) */

static hoop_jwks_t *
std_jwks(void)
{
    return jwks_of(jwk_entry(&rsa1, "r1", "{\"use\":\"sig\"}"),
                   jwk_entry(&rsa2, "r2", NULL),
                   jwk_entry(&ec1, "e1", "{\"alg\":\"ES256\"}"),
                   NULL);
}


/* fixtures */

static int
group_setup(void **state)
{
    (void) state;

    rsa_key(&rsa1, 2048);
    rsa_key(&rsa2, 2048);
    rsa_key(&rsa_small, 1024);
    ec_key(&ec1, "P-256", CJOSE_JWK_EC_P_256, 32);
    ec_key(&ec2, "P-256", CJOSE_JWK_EC_P_256, 32);
    ec_key(&ec384, "P-384", CJOSE_JWK_EC_P_384, 48);

    ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (ed25519 == NULL) {
        die("Ed25519 keygen");
    }

    return 0;
}


static int
group_teardown(void **state)
{
    (void) state;

    key_free(&rsa1);
    key_free(&rsa2);
    key_free(&rsa_small);
    key_free(&ec1);
    key_free(&ec2);
    key_free(&ec384);
    EVP_PKEY_free(ed25519);

    return 0;
}


/* valid tokens */

static void
test_rs256_valid(void **state)
{
    char               err[256], *tok;
    hoop_jwks_t       *jwks;
    hoop_jwt_policy_t  pol;
    hoop_jwt_claims_t  c;

    (void) state;

    jwks = std_jwks();
    pol = policy();
    tok = sign(&rsa1, "RS256", "r1", claims_ok());

    assert_int_equal(verify_pol(jwks, &pol, tok, &c, err, sizeof(err)),
                     HOOP_JWT_OK);
    assert_string_equal(c.principal, "alice");
    assert_int_equal(c.ngroups, 2);
    assert_string_equal(c.groups[0], "dev");
    assert_string_equal(c.groups[1], "ops");
    assert_int_equal(c.exp, NOW + 300);
    assert_string_equal(c.iss, ISSUER);
    assert_string_equal(c.kid, "r1");
    assert_string_equal(c.alg, "RS256");

    hoop_jwt_claims_free(&c);
    assert_null(c.principal);
    hoop_jwt_claims_free(&c);       /* twice is harmless */

    free(tok);
    hoop_jwks_free(jwks);
}


static void
test_es256_valid(void **state)
{
    char               err[256], *tok;
    hoop_jwks_t       *jwks;
    hoop_jwt_policy_t  pol;
    hoop_jwt_claims_t  c;
    int                i;

    (void) state;

    jwks = std_jwks();
    pol = policy();

    /* several signatures: R or S with leading zero bytes must pass too */

    for (i = 0; i < 16; i++) {
        tok = sign(&ec1, "ES256", "e1", claims_ok());
        assert_int_equal(verify_pol(jwks, &pol, tok, &c, err, sizeof(err)),
                         HOOP_JWT_OK);
        assert_string_equal(c.principal, "alice");
        assert_int_equal(c.ngroups, 2);
        assert_string_equal(c.kid, "e1");
        assert_string_equal(c.alg, "ES256");
        hoop_jwt_claims_free(&c);
        free(tok);
    }

    hoop_jwks_free(jwks);
}


static void
test_other_algs_when_allowed(void **state)
{
    hoop_jwks_t       *jwks;
    hoop_jwt_policy_t  pol;

    (void) state;

    jwks = jwks_of(jwk_entry(&rsa1, "r1", NULL),
                   jwk_entry(&ec384, "p384", NULL), NULL);

    /* not in the default list */
    expect(jwks, sign(&rsa1, "PS256", "r1", claims_ok()),
           HOOP_JWT_ERR_ALG_NOT_ALLOWED);
    expect(jwks, sign(&rsa1, "RS512", "r1", claims_ok()),
           HOOP_JWT_ERR_ALG_NOT_ALLOWED);
    expect(jwks, sign(&ec384, "ES384", "p384", claims_ok()),
           HOOP_JWT_ERR_ALG_NOT_ALLOWED);

    pol = policy();
    pol.algs = HOOP_JWT_ALGS_SUPPORTED;
    expect_pol(jwks, &pol, sign(&rsa1, "PS256", "r1", claims_ok()),
               HOOP_JWT_OK);
    expect_pol(jwks, &pol, sign(&rsa1, "PS512", "r1", claims_ok()),
               HOOP_JWT_OK);
    expect_pol(jwks, &pol, sign(&rsa1, "RS384", "r1", claims_ok()),
               HOOP_JWT_OK);
    expect_pol(jwks, &pol, sign(&ec384, "ES384", "p384", claims_ok()),
               HOOP_JWT_OK);

    /* only PS256: RS256 refused */
    pol.algs = HOOP_JWT_ALG_PS256;
    expect_pol(jwks, &pol, sign(&rsa1, "RS256", "r1", claims_ok()),
               HOOP_JWT_ERR_ALG_NOT_ALLOWED);

    assert_int_equal(hoop_jwt_alg_from_name("ES256"), HOOP_JWT_ALG_ES256);
    assert_int_equal(hoop_jwt_alg_from_name("EdDSA"), 0);
    assert_int_equal(hoop_jwt_alg_from_name("HS256"), 0);
    assert_int_equal(hoop_jwt_alg_from_name("none"), 0);

    hoop_jwks_free(jwks);
}


/* key selection */

static void
test_kid_selects_key(void **state)
{
    char               err[256], *tok;
    hoop_jwks_t       *jwks;
    hoop_jwt_policy_t  pol;
    hoop_jwt_claims_t  c;

    (void) state;

    jwks = std_jwks();
    pol = policy();
    assert_int_equal(hoop_jwks_count(jwks), 3);

    tok = sign(&rsa2, "RS256", "r2", claims_ok());
    assert_int_equal(verify_pol(jwks, &pol, tok, &c, err, sizeof(err)),
                     HOOP_JWT_OK);
    assert_string_equal(c.kid, "r2");
    hoop_jwt_claims_free(&c);
    free(tok);

    /* signed by r1, but says r2: the r2 key does not verify it */
    expect(jwks, sign(&rsa1, "RS256", "r2", claims_ok()),
           HOOP_JWT_ERR_SIGNATURE);

    /* signed by a key that is not in the set, with an unknown kid */
    expect(jwks, sign(&ec2, "ES256", "e2", claims_ok()),
           HOOP_JWT_ERR_KID_UNKNOWN);

    /* no kid, several keys */
    expect(jwks, sign(&rsa1, "RS256", NULL, claims_ok()),
           HOOP_JWT_ERR_KID_MISSING);

    hoop_jwks_free(jwks);
}


static void
test_single_key_without_kid(void **state)
{
    hoop_jwks_t  *jwks;

    (void) state;

    /* documented: a one-key set verifies tokens without kid */
    jwks = jwks_of(jwk_entry(&ec1, NULL, NULL), NULL);
    expect(jwks, sign(&ec1, "ES256", NULL, claims_ok()), HOOP_JWT_OK);
    expect(jwks, sign(&ec2, "ES256", NULL, claims_ok()),
           HOOP_JWT_ERR_SIGNATURE);
    /* but a kid in the token must still name a key */
    expect(jwks, sign(&ec1, "ES256", "x", claims_ok()),
           HOOP_JWT_ERR_KID_UNKNOWN);
    /* and the alg must fit the key */
    expect(jwks, sign(&rsa1, "RS256", NULL, claims_ok()),
           HOOP_JWT_ERR_KEY_MISMATCH);
    hoop_jwks_free(jwks);
}


static void
test_alg_key_mismatch(void **state)
{
    char               *tok, *payload, *sig;
    hoop_jwks_t        *jwks;
    hoop_jwt_policy_t   pol;
    unsigned char       fake[64];

    (void) state;

    jwks = jwks_of(jwk_entry(&rsa1, "r1", NULL),
                   jwk_entry(&rsa2, "r2", "{\"alg\":\"RS384\"}"),
                   jwk_entry(&ec1, "e1", NULL),
                   jwk_entry(&ec384, "p384", NULL),
                   NULL);
    pol = policy();
    pol.algs = HOOP_JWT_ALGS_SUPPORTED;

    /* ES256 header naming an RSA key */
    memset(fake, 0x11, sizeof(fake));
    sig = b64url(fake, sizeof(fake));
    payload = claims_text(claims_ok());
    tok = assemble("{\"alg\":\"ES256\",\"kid\":\"r1\"}", payload, sig);
    expect_pol(jwks, &pol, tok, HOOP_JWT_ERR_KEY_MISMATCH);

    /* RS256 header naming an EC key */
    tok = assemble("{\"alg\":\"RS256\",\"kid\":\"e1\"}", payload, sig);
    expect_pol(jwks, &pol, tok, HOOP_JWT_ERR_KEY_MISMATCH);

    /* RS256 with a key whose "alg" is RS384 */
    expect_pol(jwks, &pol, sign(&rsa2, "RS256", "r2", claims_ok()),
               HOOP_JWT_ERR_KEY_MISMATCH);
    expect_pol(jwks, &pol, sign(&rsa2, "RS384", "r2", claims_ok()),
               HOOP_JWT_OK);

    /* ES256 on a P-384 key */
    expect_pol(jwks, &pol, sign(&ec384, "ES256", "p384", claims_ok()),
               HOOP_JWT_ERR_KEY_MISMATCH);

    free(sig);
    free(payload);
    hoop_jwks_free(jwks);
}


/* refused algorithms */

static void
test_alg_none(void **state)
{
    char         *payload;
    hoop_jwks_t  *jwks;

    (void) state;

    jwks = std_jwks();
    payload = claims_text(claims_ok());

    expect(jwks, assemble("{\"alg\":\"none\",\"kid\":\"r1\"}", payload, ""),
           HOOP_JWT_ERR_ALG_NONE);
    expect(jwks, assemble("{\"alg\":\"none\"}", payload, ""),
           HOOP_JWT_ERR_ALG_NONE);
    expect(jwks, assemble("{\"alg\":\"None\",\"typ\":\"JWT\"}", payload,
                          "AAAA"),
           HOOP_JWT_ERR_ALG_NONE);

    free(payload);
    hoop_jwks_free(jwks);
}


static void
test_alg_hmac_key_confusion(void **state)
{
    BIO           *bio;
    char          *payload, *h, *p, *input, *sig, *tok, *pem;
    long           pemlen;
    size_t         n;
    unsigned int   maclen;
    hoop_jwks_t   *jwks;
    unsigned char  mac[EVP_MAX_MD_SIZE];
    const char    *hdr = "{\"alg\":\"HS256\",\"kid\":\"r1\"}";

    (void) state;

    /* the classic attack: HMAC keyed with the RSA public key's PEM */

    bio = BIO_new(BIO_s_mem());
    assert_true(PEM_write_bio_PUBKEY(bio, rsa1.pkey));
    pemlen = BIO_get_mem_data(bio, &pem);

    payload = claims_text(claims_ok());
    h = b64url(hdr, strlen(hdr));
    p = b64url(payload, strlen(payload));
    n = strlen(h) + strlen(p) + 2;
    input = malloc(n);
    snprintf(input, n, "%s.%s", h, p);

    assert_non_null(HMAC(EVP_sha256(), pem, (int) pemlen,
                         (unsigned char *) input, strlen(input), mac,
                         &maclen));
    sig = b64url(mac, maclen);
    n = strlen(input) + strlen(sig) + 2;
    tok = malloc(n);
    snprintf(tok, n, "%s.%s", input, sig);

    jwks = std_jwks();
    expect(jwks, tok, HOOP_JWT_ERR_ALG_HMAC);

    /* even when the policy asks for everything */
    {
        hoop_jwt_policy_t  pol = policy();

        pol.algs = ~0u;
        expect_pol(jwks, &pol, assemble("{\"alg\":\"HS512\"}", payload,
                                        "AAAA"),
                   HOOP_JWT_ERR_ALG_HMAC);
    }

    BIO_free(bio);
    free(payload);
    free(h);
    free(p);
    free(input);
    free(sig);
    hoop_jwks_free(jwks);
}


static void
test_eddsa_unsupported(void **state)
{
    char               *payload, *h, *p, *input, *sig, *tok, *doc, err[512];
    size_t              n, siglen, publen;
    EVP_MD_CTX         *md;
    hoop_jwks_t        *jwks;
    hoop_jwt_policy_t   pol;
    unsigned char       sigbuf[64], pub[32];
    const char         *hdr = "{\"alg\":\"EdDSA\",\"kid\":\"r1\"}";
    json_t             *okp;

    (void) state;

    /* a real Ed25519 signature (OpenSSL), refused: cjose has no EdDSA */

    payload = claims_text(claims_ok());
    h = b64url(hdr, strlen(hdr));
    p = b64url(payload, strlen(payload));
    n = strlen(h) + strlen(p) + 2;
    input = malloc(n);
    snprintf(input, n, "%s.%s", h, p);

    md = EVP_MD_CTX_new();
    siglen = sizeof(sigbuf);
    assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, ed25519), 1);
    assert_int_equal(EVP_DigestSign(md, sigbuf, &siglen,
                                    (unsigned char *) input, strlen(input)),
                     1);
    EVP_MD_CTX_free(md);

    sig = b64url(sigbuf, siglen);
    n = strlen(input) + strlen(sig) + 2;
    tok = malloc(n);
    snprintf(tok, n, "%s.%s", input, sig);

    jwks = std_jwks();
    pol = policy();
    pol.algs = ~0u;
    expect_pol(jwks, &pol, tok, HOOP_JWT_ERR_ALG_NOT_ALLOWED);
    expect(jwks, assemble("{\"alg\":\"XY999\",\"kid\":\"r1\"}", payload,
                          "AAAA"),
           HOOP_JWT_ERR_ALG_NOT_ALLOWED);
    hoop_jwks_free(jwks);

    /* and an OKP key in a JWK Set is skipped, with a note */

    publen = sizeof(pub);
    assert_int_equal(EVP_PKEY_get_raw_public_key(ed25519, pub, &publen), 1);
    free(sig);
    sig = b64url(pub, publen);
    okp = json_pack("{s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519",
                    "x", sig, "kid", "ed");
    doc = jwks_doc(okp, jwk_entry(&rsa1, "r1", NULL), NULL);

    jwks = hoop_jwks_parse(doc, strlen(doc), err, sizeof(err));
    assert_non_null(jwks);
    assert_int_equal(hoop_jwks_count(jwks), 1);
    assert_non_null(strstr(err, "OKP"));
    hoop_jwks_free(jwks);
    free(doc);

    /* only the OKP key: no usable key */
    okp = json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519",
                    "x", sig);
    doc = jwks_doc(okp, NULL);
    assert_null(hoop_jwks_parse(doc, strlen(doc), err, sizeof(err)));
    free(doc);

    free(payload);
    free(h);
    free(p);
    free(input);
    free(sig);
}


/* signatures */

static void
test_bad_signature(void **state)
{
    char         *tok, *dot, *payload, *p;
    size_t        n;
    hoop_jwks_t  *jwks;

    (void) state;

    jwks = std_jwks();

    /* a flipped signature byte */
    tok = sign(&rsa1, "RS256", "r1", claims_ok());
    n = strlen(tok);
    tok[n - 5] = tok[n - 5] == 'A' ? 'B' : 'A';
    expect(jwks, tok, HOOP_JWT_ERR_SIGNATURE);

    tok = sign(&ec1, "ES256", "e1", claims_ok());
    n = strlen(tok);
    tok[n - 5] = tok[n - 5] == 'A' ? 'B' : 'A';
    expect(jwks, tok, HOOP_JWT_ERR_SIGNATURE);

    /* a payload swapped for sub=admin under the original signature */
    tok = sign(&rsa1, "RS256", "r1", claims_ok());
    {
        json_t  *c = claims_ok();

        json_object_set_new(c, "sub", json_string("admin"));
        payload = claims_text(c);
    }
    p = b64url(payload, strlen(payload));
    dot = strchr(tok, '.');
    {
        char    *sig = strrchr(tok, '.');
        size_t   len = (size_t) (dot - tok) + strlen(p) + strlen(sig) + 2;
        char    *forged = malloc(len);

        snprintf(forged, len, "%.*s.%s%s", (int) (dot - tok), tok, p, sig);
        expect(jwks, forged, HOOP_JWT_ERR_SIGNATURE);
    }
    free(tok);
    free(p);
    free(payload);

    /* an ES256 signature of the wrong length (DER, say) */
    payload = claims_text(claims_ok());
    expect(jwks, assemble("{\"alg\":\"ES256\",\"kid\":\"e1\"}", payload,
                          "MEUCIQDx"),
           HOOP_JWT_ERR_SIGNATURE);
    /* no signature at all */
    expect(jwks, assemble("{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, ""),
           HOOP_JWT_ERR_SIGNATURE);
    free(payload);

    hoop_jwks_free(jwks);
}


/* time claims */

static void
test_exp(void **state)
{
    int                rc;
    char               err[256], *tok;
    json_t            *c;
    hoop_jwks_t       *jwks;
    hoop_jwt_policy_t  pol;
    hoop_jwt_claims_t  out;

    (void) state;

    jwks = std_jwks();
    pol = policy();

    c = claims_ok();
    json_object_del(c, "exp");
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_EXP_MISSING);

    /* 95 s ago, beyond the 60 s skew */
    c = claims_ok();
    json_object_set_new(c, "exp", json_integer(NOW - 95));
    tok = sign(&rsa1, "RS256", "r1", c);
    rc = verify_pol(jwks, &pol, tok, &out, err, sizeof(err));
    assert_int_equal(rc, HOOP_JWT_ERR_EXPIRED);
    assert_string_equal(err, "token expired 95s ago");
    free(tok);

    /* 30 s ago, within the skew */
    c = claims_ok();
    json_object_set_new(c, "exp", json_integer(NOW - 30));
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_OK);

    /* no skew */
    c = claims_ok();
    json_object_set_new(c, "exp", json_integer(NOW - 1));
    pol.skew = 0;
    expect_pol(jwks, &pol, sign(&rsa1, "RS256", "r1", c),
               HOOP_JWT_ERR_EXPIRED);

    /* a fractional NumericDate is a number */
    c = claims_ok();
    json_object_set_new(c, "exp", json_real((double) NOW + 10.5));
    tok = sign(&rsa1, "RS256", "r1", c);
    pol = policy();
    assert_int_equal(verify_pol(jwks, &pol, tok, &out, err, sizeof(err)),
                     HOOP_JWT_OK);
    assert_int_equal(out.exp, NOW + 10);
    hoop_jwt_claims_free(&out);
    free(tok);

    /* a string is not */
    c = claims_ok();
    json_object_set_new(c, "exp", json_string("1760000300"));
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_CLAIM_TYPE);

    /* absurd values neither overflow nor pass */
    c = claims_ok();
    json_object_set_new(c, "exp", json_real(-1e300));
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_EXPIRED);

    c = claims_ok();
    json_object_set_new(c, "exp", json_real(1e300));
    tok = sign(&rsa1, "RS256", "r1", c);
    assert_int_equal(verify_pol(jwks, &pol, tok, &out, err, sizeof(err)),
                     HOOP_JWT_OK);
    assert_true(out.exp > NOW);
    hoop_jwt_claims_free(&out);
    free(tok);

    hoop_jwks_free(jwks);
}


static void
test_nbf_iat(void **state)
{
    json_t       *c;
    hoop_jwks_t  *jwks;

    (void) state;

    jwks = std_jwks();

    c = claims_ok();
    json_object_set_new(c, "nbf", json_integer(NOW + 120));
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_NOT_YET_VALID);

    c = claims_ok();
    json_object_set_new(c, "nbf", json_integer(NOW + 30));
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_OK);

    c = claims_ok();
    json_object_set_new(c, "nbf", json_true());
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_CLAIM_TYPE);

    c = claims_ok();
    json_object_set_new(c, "iat", json_integer(NOW + 3600));
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_IAT_FUTURE);

    c = claims_ok();
    json_object_del(c, "iat");
    json_object_del(c, "nbf");
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_OK);

    hoop_jwks_free(jwks);
}


/* issuer and audience */

static void
test_iss_aud(void **state)
{
    json_t            *c;
    hoop_jwks_t       *jwks;
    hoop_jwt_policy_t  pol;

    (void) state;

    jwks = std_jwks();

    c = claims_ok();
    json_object_set_new(c, "iss", json_string("https://evil.test"));
    expect(jwks, sign(&ec1, "ES256", "e1", c), HOOP_JWT_ERR_ISSUER);

    c = claims_ok();
    json_object_set_new(c, "iss", json_string(ISSUER "/"));
    expect(jwks, sign(&ec1, "ES256", "e1", c), HOOP_JWT_ERR_ISSUER);

    c = claims_ok();
    json_object_del(c, "iss");
    expect(jwks, sign(&ec1, "ES256", "e1", c), HOOP_JWT_ERR_ISSUER);

    c = claims_ok();
    json_object_set_new(c, "aud", json_string("other"));
    expect(jwks, sign(&ec1, "ES256", "e1", c), HOOP_JWT_ERR_AUDIENCE);

    c = claims_ok();
    json_object_del(c, "aud");
    expect(jwks, sign(&ec1, "ES256", "e1", c), HOOP_JWT_ERR_AUDIENCE);

    c = claims_ok();
    json_object_set_new(c, "aud", json_pack("[s,s]", "account", AUDIENCE));
    expect(jwks, sign(&ec1, "ES256", "e1", c), HOOP_JWT_OK);

    c = claims_ok();
    json_object_set_new(c, "aud", json_pack("[s,s]", "account", "other"));
    expect(jwks, sign(&ec1, "ES256", "e1", c), HOOP_JWT_ERR_AUDIENCE);

    c = claims_ok();
    json_object_set_new(c, "aud", json_pack("[s,i]", AUDIENCE, 7));
    expect(jwks, sign(&ec1, "ES256", "e1", c), HOOP_JWT_ERR_AUDIENCE);

    /* explicit opt-out */
    pol = policy();
    pol.audience = NULL;
    pol.any_audience = 1;
    c = claims_ok();
    json_object_set_new(c, "aud", json_string("other"));
    expect_pol(jwks, &pol, sign(&ec1, "ES256", "e1", c), HOOP_JWT_OK);

    /* a policy without issuer or audience is refused */
    pol = policy();
    pol.issuer = NULL;
    expect_pol(jwks, &pol, sign(&ec1, "ES256", "e1", claims_ok()),
               HOOP_JWT_ERR_ARG);
    pol = policy();
    pol.audience = NULL;
    expect_pol(jwks, &pol, sign(&ec1, "ES256", "e1", claims_ok()),
               HOOP_JWT_ERR_ARG);

    hoop_jwks_free(jwks);
}


/* subject and groups */

static void
test_subject_groups(void **state)
{
    char               err[256], *tok;
    json_t            *c;
    hoop_jwks_t       *jwks;
    hoop_jwt_policy_t  pol;
    hoop_jwt_claims_t  out;

    (void) state;

    jwks = std_jwks();

    c = claims_ok();
    json_object_del(c, "sub");
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_SUBJECT);

    c = claims_ok();
    json_object_set_new(c, "sub", json_string(""));
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_SUBJECT);

    c = claims_ok();
    json_object_set_new(c, "sub", json_integer(42));
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_SUBJECT);

    /* Keycloak-like: principal from preferred_username, roles nested,
       space-separated scope as a group source */

    c = claims_ok();
    json_object_set_new(c, "preferred_username", json_string("bob"));
    json_object_set_new(c, "realm_access",
                        json_pack("{s:[s,s,s]}", "roles", "reader", "",
                                  "writer"));
    tok = sign(&rsa1, "RS256", "r1", c);

    pol = policy();
    pol.sub_claim = "preferred_username";
    pol.groups_claim = "realm_access.roles";
    assert_int_equal(verify_pol(jwks, &pol, tok, &out, err, sizeof(err)),
                     HOOP_JWT_OK);
    assert_string_equal(out.principal, "bob");
    assert_int_equal(out.ngroups, 2);
    assert_string_equal(out.groups[0], "reader");
    assert_string_equal(out.groups[1], "writer");
    hoop_jwt_claims_free(&out);

    /* a path that leads nowhere: no groups, not an error */
    pol.groups_claim = "realm_access.nothing.here";
    assert_int_equal(verify_pol(jwks, &pol, tok, &out, err, sizeof(err)),
                     HOOP_JWT_OK);
    assert_int_equal(out.ngroups, 0);
    assert_null(out.groups);
    hoop_jwt_claims_free(&out);
    free(tok);

    c = claims_ok();
    json_object_set_new(c, "scope", json_string("  kafka:read  kafka:write"));
    json_object_set_new(c, "https://example.com/groups",
                        json_pack("[s]", "ns"));
    tok = sign(&rsa1, "RS256", "r1", c);

    pol = policy();
    pol.groups_claim = "scope";
    assert_int_equal(verify_pol(jwks, &pol, tok, &out, err, sizeof(err)),
                     HOOP_JWT_OK);
    assert_int_equal(out.ngroups, 2);
    assert_string_equal(out.groups[0], "kafka:read");
    assert_string_equal(out.groups[1], "kafka:write");
    hoop_jwt_claims_free(&out);

    /* a namespaced claim name with dots is taken literally first */
    pol.groups_claim = "https://example.com/groups";
    assert_int_equal(verify_pol(jwks, &pol, tok, &out, err, sizeof(err)),
                     HOOP_JWT_OK);
    assert_int_equal(out.ngroups, 1);
    assert_string_equal(out.groups[0], "ns");
    hoop_jwt_claims_free(&out);
    free(tok);

    /* many groups (growth), and too many */
    {
        json_t  *g = json_array();
        size_t   i;
        char     name[16];

        for (i = 0; i < 100; i++) {
            snprintf(name, sizeof(name), "g%zu", i);
            json_array_append_new(g, json_string(name));
        }

        c = claims_ok();
        json_object_set_new(c, "groups", g);
        tok = sign(&rsa1, "RS256", "r1", c);
        pol = policy();
        assert_int_equal(verify_pol(jwks, &pol, tok, &out, err,
                                    sizeof(err)),
                         HOOP_JWT_OK);
        assert_int_equal(out.ngroups, 100);
        assert_string_equal(out.groups[99], "g99");
        hoop_jwt_claims_free(&out);
        free(tok);

        g = json_array();
        for (i = 0; i < HOOP_JWT_MAX_GROUPS + 1; i++) {
            json_array_append_new(g, json_string("x"));
        }

        c = claims_ok();
        json_object_set_new(c, "groups", g);
        expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_GROUPS);
    }

    c = claims_ok();
    json_object_set_new(c, "groups", json_integer(1));
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_GROUPS);

    c = claims_ok();
    json_object_set_new(c, "groups", json_pack("[s,{}]", "a"));
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_ERR_GROUPS);

    c = claims_ok();
    json_object_set_new(c, "groups", json_null());
    expect(jwks, sign(&rsa1, "RS256", "r1", c), HOOP_JWT_OK);

    hoop_jwks_free(jwks);
}


/* malformed input */

static void
test_malformed(void **state)
{
    int                rc;
    char               err[256], *payload, *big, *tok;
    size_t             n;
    hoop_jwks_t       *jwks;
    hoop_jwt_policy_t  pol;
    hoop_jwt_claims_t  out;

    (void) state;

    jwks = std_jwks();
    payload = claims_text(claims_ok());

    expect(jwks, strdup(""), HOOP_JWT_ERR_MALFORMED);
    expect(jwks, strdup("abc"), HOOP_JWT_ERR_MALFORMED);
    expect(jwks, strdup("a.b"), HOOP_JWT_ERR_MALFORMED);
    expect(jwks, strdup(".."), HOOP_JWT_ERR_MALFORMED);
    expect(jwks, strdup("eyJhbGciOiJSUzI1NiJ9..c2ln"),
           HOOP_JWT_ERR_MALFORMED);
    /* JWE compact serialization: five parts */
    expect(jwks, strdup("eyJh.eyJh.eyJh.eyJh.eyJh"), HOOP_JWT_ERR_MALFORMED);
    /* base64 (not url), padding, spaces, impossible length */
    expect(jwks, strdup("eyJh+bGc.eyJh.c2ln"), HOOP_JWT_ERR_MALFORMED);
    expect(jwks, strdup("eyJhbGc=.eyJh.c2ln"), HOOP_JWT_ERR_MALFORMED);
    expect(jwks, strdup("eyJh bGc.eyJh.c2ln"), HOOP_JWT_ERR_MALFORMED);
    expect(jwks, strdup("eyJhb.eyJh.c2ln"), HOOP_JWT_ERR_MALFORMED);
    /* cjose 0.6.2.1 would abort() decoding these */
    expect(jwks, strdup("A=AA.eyJh.c2ln"), HOOP_JWT_ERR_MALFORMED);
    expect(jwks, strdup("eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIn0.A=AA.c2ln"),
           HOOP_JWT_ERR_MALFORMED);
    expect(jwks, strdup("eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIn0.eyJh.A=AA"),
           HOOP_JWT_ERR_MALFORMED);

    /* header: not JSON, not an object, no alg, duplicate alg, crit */
    expect(jwks, assemble("{\"alg\":", payload, "c2ln"),
           HOOP_JWT_ERR_HEADER);
    expect(jwks, assemble("[\"RS256\"]", payload, "c2ln"),
           HOOP_JWT_ERR_HEADER);
    expect(jwks, assemble("{\"kid\":\"r1\"}", payload, "c2ln"),
           HOOP_JWT_ERR_HEADER);
    expect(jwks, assemble("{\"alg\":7,\"kid\":\"r1\"}", payload, "c2ln"),
           HOOP_JWT_ERR_HEADER);
    expect(jwks, assemble("{\"alg\":\"RS256\",\"alg\":\"none\"}", payload,
                          "c2ln"),
           HOOP_JWT_ERR_HEADER);
    expect(jwks, assemble("{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":"
                          "[\"b64\"],\"b64\":false}", payload, "c2ln"),
           HOOP_JWT_ERR_HEADER);
    expect(jwks, assemble("{\"alg\":\"RS256\",\"kid\":1}", payload, "c2ln"),
           HOOP_JWT_ERR_HEADER);

    /* a signed payload that is not a JSON object */
    expect(jwks, sign_raw(&rsa1, "RS256", "r1", "not json", 8),
           HOOP_JWT_ERR_PAYLOAD);
    expect(jwks, sign_raw(&rsa1, "RS256", "r1", "[1,2]", 5),
           HOOP_JWT_ERR_PAYLOAD);
    expect(jwks, sign_raw(&rsa1, "RS256", "r1",
                          "{\"sub\":\"a\",\"sub\":\"b\"}", 21),
           HOOP_JWT_ERR_PAYLOAD);

    /* size cap */
    n = HOOP_JWT_DEFAULT_MAX_LEN + 1;
    big = malloc(n + 1);
    memset(big, 'A', n);
    big[n] = '\0';
    expect(jwks, big, HOOP_JWT_ERR_TOO_LARGE);

    tok = sign(&rsa1, "RS256", "r1", claims_ok());
    pol = policy();
    pol.max_len = strlen(tok) - 1;
    rc = hoop_jwt_verify(jwks, &pol, tok, strlen(tok), NOW, &out, err,
                         sizeof(err));
    assert_int_equal(rc, HOOP_JWT_ERR_TOO_LARGE);
    /* length is honoured: the token need not be NUL-terminated */
    pol.max_len = 0;
    rc = hoop_jwt_verify(jwks, &pol, tok, strlen(tok) - 3, NOW, &out, err,
                         sizeof(err));
    assert_int_equal(rc, HOOP_JWT_ERR_SIGNATURE);
    free(tok);

    /* NULL arguments */
    assert_int_equal(hoop_jwt_verify(NULL, &pol, "a.b.c", 5, NOW, &out, err,
                                     sizeof(err)),
                     HOOP_JWT_ERR_ARG);
    assert_int_equal(hoop_jwt_verify(jwks, &pol, "a.b.c", 5, NOW, NULL, NULL,
                                     0),
                     HOOP_JWT_ERR_ARG);

    free(payload);
    hoop_jwks_free(jwks);
}


static void
test_rc_names(void **state)
{
    int          i, j;
    const char  *a, *b;

    (void) state;

    for (i = 0; i <= HOOP_JWT_ERR_IO; i++) {
        a = hoop_jwt_rc_name(i);
        assert_string_not_equal(a, "unknown");

        for (j = 0; j < i; j++) {
            b = hoop_jwt_rc_name(j);
            assert_string_not_equal(a, b);
        }
    }

    assert_string_equal(hoop_jwt_rc_name(HOOP_JWT_ERR_IO + 1), "unknown");
    assert_string_equal(hoop_jwt_rc_name(-1), "unknown");

    for (i = 0; i <= HOOP_OAUTHBEARER_ERR_TOKEN; i++) {
        assert_string_not_equal(hoop_oauthbearer_rc_name(i), "unknown");
    }

    assert_string_equal(hoop_oauthbearer_rc_name(99), "unknown");
}


/* JWK Sets */

static void
test_jwks_parse(void **state)
{
    int           rc;
    char          err[512], *doc;
    json_t       *priv, *k;
    hoop_jwks_t  *jwks;
    cjose_err     cerr;
    char         *s;

    (void) state;

#define PARSE_FAILS(text, want)                                              \
    do {                                                                     \
        const char *t_ = (text);                                             \
        assert_null(hoop_jwks_parse_rc(t_, strlen(t_), &rc, err,             \
                                       sizeof(err)));                        \
        assert_int_equal(rc, (want));                                        \
        assert_true(err[0] != '\0');                                         \
    } while (0)

    PARSE_FAILS("", HOOP_JWT_ERR_JWKS);
    PARSE_FAILS("{", HOOP_JWT_ERR_JWKS);
    PARSE_FAILS("[]", HOOP_JWT_ERR_JWKS);
    PARSE_FAILS("{\"keys\":{}}", HOOP_JWT_ERR_JWKS);
    PARSE_FAILS("{\"keys\":[]}", HOOP_JWT_ERR_NO_KEYS);
    PARSE_FAILS("{\"keys\":[],\"keys\":[]}", HOOP_JWT_ERR_JWKS);
    PARSE_FAILS("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
                HOOP_JWT_ERR_NO_KEYS);
    PARSE_FAILS("{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}",
                HOOP_JWT_ERR_JWKS);
    PARSE_FAILS("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"}]}",
                HOOP_JWT_ERR_JWKS);
    PARSE_FAILS("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\"}]}",
                HOOP_JWT_ERR_JWKS);
    PARSE_FAILS("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"\",\"e\":\"AQAB\"}]}",
                HOOP_JWT_ERR_JWKS);
    /* cjose 0.6.2.1 would abort() on this "e" (found by the fuzzer) */
    PARSE_FAILS("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"A=AA\"}]}",
                HOOP_JWT_ERR_JWKS);
    k = jwk_entry(&ec1, "pad", NULL);
    json_object_set_new(k, "x", json_string("A=AA"));
    doc = jwks_doc(k, NULL);
    PARSE_FAILS(doc, HOOP_JWT_ERR_JWKS);
    free(doc);

    /* a point that is not on the curve */
    k = jwk_entry(&ec1, "bad", NULL);
    s = strdup(json_string_value(json_object_get(k, "y")));
    s[3] = s[3] == 'A' ? 'B' : 'A';
    json_object_set_new(k, "y", json_string(s));
    free(s);
    doc = jwks_doc(k, NULL);
    PARSE_FAILS(doc, HOOP_JWT_ERR_JWKS);
    free(doc);

    /* the usable key is kept, the others are skipped with a note */
    doc = jwks_doc(jwk_entry(&rsa1, "enc", "{\"use\":\"enc\"}"),
                   jwk_entry(&rsa_small, "short", NULL),
                   jwk_entry(&rsa2, "ops", "{\"key_ops\":[\"encrypt\"]}"),
                   json_pack("{s:s,s:s}", "kty", "oct", "k", "c2VjcmV0"),
                   json_pack("{s:s}", "kty", "XYZ"),
                   jwk_entry(&ec1, "crv", NULL),
                   jwk_entry(&rsa1, "hs", "{\"alg\":\"HS256\"}"),
                   jwk_entry(&rsa1, "es", "{\"alg\":\"ES256\"}"),
                   json_string("not a key"),
                   jwk_entry(&rsa1, "good", "{\"key_ops\":[\"verify\"]}"),
                   NULL);
    /* break the curve of "crv" */
    {
        json_t  *d = json_loads(doc, 0, NULL);

        json_object_set_new(json_array_get(json_object_get(d, "keys"), 5),
                            "crv", json_string("secp256k1"));
        free(doc);
        doc = json_dumps(d, JSON_COMPACT);
        json_decref(d);
    }
    jwks = hoop_jwks_parse_rc(doc, strlen(doc), &rc, err, sizeof(err));
    assert_non_null(jwks);
    assert_int_equal(rc, HOOP_JWT_OK);
    assert_int_equal(hoop_jwks_count(jwks), 1);
    assert_non_null(strstr(err, "skipped 9 of 10 keys"));
    assert_non_null(strstr(err, "too short"));
    assert_non_null(strstr(err, "symmetric"));
    expect(jwks, sign(&rsa1, "RS256", "good", claims_ok()), HOOP_JWT_OK);
    expect(jwks, sign(&rsa1, "RS256", "enc", claims_ok()),
           HOOP_JWT_ERR_KID_UNKNOWN);
    hoop_jwks_free(jwks);
    free(doc);

    /* a private JWK: only its public members are used */
    s = cjose_jwk_to_json(rsa1.jwk, true, &cerr);
    priv = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(json_object_get(priv, "d"));
    json_object_set_new(priv, "kid", json_string("priv"));
    doc = jwks_doc(priv, NULL);
    jwks = hoop_jwks_parse(doc, strlen(doc), err, sizeof(err));
    assert_non_null(jwks);
    assert_string_equal(err, "");
    expect(jwks, sign(&rsa1, "RS256", "priv", claims_ok()), HOOP_JWT_OK);
    hoop_jwks_free(jwks);
    free(doc);

    /* too large a document */
    {
        size_t  n = 1024 * 1024 + 1;
        char   *big = malloc(n);

        memset(big, ' ', n);
        assert_null(hoop_jwks_parse_rc(big, n, &rc, err, sizeof(err)));
        assert_int_equal(rc, HOOP_JWT_ERR_JWKS);
        free(big);
    }

    hoop_jwks_free(NULL);
    assert_int_equal(hoop_jwks_count(NULL), 0);

#undef PARSE_FAILS
}


/* JWK Set files */

static void
write_file(const char *path, const char *text)
{
    char   tmp[512];
    FILE  *f;

    /* replaced atomically, as a deployment would */
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}


static void
test_jwks_file_reload(void **state)
{
    char               path[512], err[512], *doc, *t1, *t2;
    hoop_jwks_t       *before;
    hoop_jwks_file_t   st = HOOP_JWKS_FILE_INIT;
    hoop_jwt_policy_t  pol;

    (void) state;

    snprintf(path, sizeof(path), "%s/jwks.json", tmpdir);
    pol = policy();
    t1 = sign(&rsa1, "RS256", "r1", claims_ok());
    t2 = sign(&rsa2, "RS256", "r2-rotated", claims_ok());

    /* no file yet: failed once, then quiet */
    assert_int_equal(hoop_jwks_file_refresh(&st, path, err, sizeof(err)),
                     HOOP_JWKS_FAILED);
    assert_non_null(strstr(err, "No such file"));
    assert_null(st.jwks);
    assert_int_equal(st.last_rc, HOOP_JWT_ERR_IO);
    assert_int_equal(hoop_jwks_file_refresh(&st, path, err, sizeof(err)),
                     HOOP_JWKS_UNCHANGED);
    assert_int_equal(st.failed, 1);

    doc = jwks_doc(jwk_entry(&rsa1, "r1", NULL), NULL);
    write_file(path, doc);
    free(doc);

    assert_int_equal(hoop_jwks_file_refresh(&st, path, err, sizeof(err)),
                     HOOP_JWKS_RELOADED);
    assert_int_equal(st.generation, 1);
    assert_int_equal(st.failed, 0);
    assert_int_equal(hoop_jwks_file_refresh(&st, path, err, sizeof(err)),
                     HOOP_JWKS_UNCHANGED);
    expect_pol(st.jwks, &pol, strdup(t1), HOOP_JWT_OK);
    before = st.jwks;

    /* the file turns bad: the last good set stays */
    write_file(path, "{\"keys\": [ {\"kty\": \"RSA\"");
    assert_int_equal(hoop_jwks_file_refresh(&st, path, err, sizeof(err)),
                     HOOP_JWKS_FAILED);
    assert_non_null(strstr(err, "not JSON"));
    assert_int_equal(st.last_rc, HOOP_JWT_ERR_JWKS);
    assert_int_equal(st.failed, 1);
    assert_ptr_equal(st.jwks, before);
    assert_int_equal(st.generation, 1);
    expect_pol(st.jwks, &pol, strdup(t1), HOOP_JWT_OK);
    /* reported once */
    assert_int_equal(hoop_jwks_file_refresh(&st, path, err, sizeof(err)),
                     HOOP_JWKS_UNCHANGED);
    assert_int_equal(st.failed, 1);

    /* valid JSON, no usable key: still the last good set */
    write_file(path, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}");
    assert_int_equal(hoop_jwks_file_refresh(&st, path, err, sizeof(err)),
                     HOOP_JWKS_FAILED);
    assert_int_equal(st.last_rc, HOOP_JWT_ERR_NO_KEYS);
    assert_ptr_equal(st.jwks, before);

    /* a rotated key: picked up, the old one gone */
    doc = jwks_doc(jwk_entry(&rsa2, "r2-rotated", NULL), NULL);
    write_file(path, doc);
    free(doc);
    assert_int_equal(hoop_jwks_file_refresh(&st, path, err, sizeof(err)),
                     HOOP_JWKS_RELOADED);
    assert_int_equal(st.generation, 2);
    assert_int_equal(st.failed, 0);
    expect_pol(st.jwks, &pol, strdup(t2), HOOP_JWT_OK);
    expect_pol(st.jwks, &pol, strdup(t1), HOOP_JWT_ERR_KID_UNKNOWN);

    /* an in-place rewrite (same inode) is seen too */
    doc = jwks_doc(jwk_entry(&rsa1, "r1", NULL),
                   jwk_entry(&rsa2, "r2-rotated", NULL), NULL);
    {
        FILE  *f = fopen(path, "w");

        assert_non_null(f);
        fputs(doc, f);
        fclose(f);
    }
    free(doc);
    assert_int_equal(hoop_jwks_file_refresh(&st, path, err, sizeof(err)),
                     HOOP_JWKS_RELOADED);
    expect_pol(st.jwks, &pol, strdup(t1), HOOP_JWT_OK);
    expect_pol(st.jwks, &pol, strdup(t2), HOOP_JWT_OK);

    /* the file disappears: kept, reported once */
    before = st.jwks;
    assert_int_equal(unlink(path), 0);
    assert_int_equal(hoop_jwks_file_refresh(&st, path, err, sizeof(err)),
                     HOOP_JWKS_FAILED);
    assert_int_equal(hoop_jwks_file_refresh(&st, path, err, sizeof(err)),
                     HOOP_JWKS_UNCHANGED);
    assert_ptr_equal(st.jwks, before);

    /* a directory is not a JWK Set */
    assert_int_equal(hoop_jwks_file_refresh(&st, tmpdir, err, sizeof(err)),
                     HOOP_JWKS_FAILED);
    assert_int_equal(st.last_rc, HOOP_JWT_ERR_IO);
    assert_ptr_equal(st.jwks, before);

    hoop_jwks_file_free(&st);
    assert_null(st.jwks);
    hoop_jwks_file_free(NULL);

    free(t1);
    free(t2);
}


/* OAUTHBEARER */

#define MSG(s)  (const unsigned char *) (s), sizeof(s) - 1

static void
ob_fails(const unsigned char *buf, size_t len, int want)
{
    int                     rc;
    char                    err[256];
    hoop_oauthbearer_msg_t  m;

    rc = hoop_oauthbearer_parse(buf, len, &m, err, sizeof(err));
    if (rc != want) {
        fprintf(stderr, "want %s, got %s: %s\n",
                hoop_oauthbearer_rc_name(want), hoop_oauthbearer_rc_name(rc),
                err);
    }

    assert_int_equal(rc, want);

    if (getenv("HOOP_TEST_VERBOSE") != NULL) {
        fprintf(stderr, "  %-16s %s\n", hoop_oauthbearer_rc_name(rc), err);
    }

    assert_true(err[0] != '\0');
    assert_null(m.token);
    assert_null(m.authzid);
    assert_int_equal(m.next, 0);
    hoop_oauthbearer_msg_free(&m);
}


static void
test_oauthbearer_parse_ok(void **state)
{
    char                    err[256];
    hoop_oauthbearer_msg_t  m;

    (void) state;

    assert_int_equal(hoop_oauthbearer_parse(
                         MSG("n,,\x01" "auth=Bearer abc.def.ghi\x01\x01"),
                         &m, err, sizeof(err)),
                     HOOP_OAUTHBEARER_OK);
    assert_string_equal(m.token, "abc.def.ghi");
    assert_int_equal(m.token_len, 11);
    assert_null(m.authzid);
    assert_int_equal(m.next, 0);
    hoop_oauthbearer_msg_free(&m);
    assert_null(m.token);

    /* as Kafka's client writes it: auth first, then the extensions */
    assert_int_equal(hoop_oauthbearer_parse(
                         MSG("n,a=alice,\x01" "auth=Bearer t-1_2.x~+/==\x01"
                             "traceId=abc 123\x01"
                             "logicalCluster=lkc-1\x01\x01"),
                         &m, err, sizeof(err)),
                     HOOP_OAUTHBEARER_OK);
    assert_string_equal(m.authzid, "alice");
    assert_string_equal(m.token, "t-1_2.x~+/==");
    assert_int_equal(m.next, 2);
    assert_string_equal(m.ext[0].key, "traceId");
    assert_string_equal(m.ext[0].value, "abc 123");
    assert_string_equal(m.ext[1].key, "logicalCluster");
    assert_string_equal(m.ext[1].value, "lkc-1");
    hoop_oauthbearer_msg_free(&m);

    /* RFC 7628 example shape: host/port before auth, "y" flag,
       encoded authzid, lowercase scheme, several spaces, empty value */
    assert_int_equal(hoop_oauthbearer_parse(
                         MSG("y,a=u=2Cv=3Dw,\x01" "host=server.example.com"
                             "\x01" "port=143\x01" "empty=\x01"
                             "auth=bearer   vF9dft4qmT\x01\x01"),
                         &m, err, sizeof(err)),
                     HOOP_OAUTHBEARER_OK);
    assert_string_equal(m.authzid, "u,v=w");
    assert_string_equal(m.token, "vF9dft4qmT");
    assert_int_equal(m.next, 3);
    assert_string_equal(m.ext[0].key, "host");
    assert_string_equal(m.ext[1].value, "143");
    assert_string_equal(m.ext[2].value, "");
    hoop_oauthbearer_msg_free(&m);

    hoop_oauthbearer_msg_free(NULL);
}


static void
test_oauthbearer_parse_bad(void **state)
{
    size_t          i, n;
    unsigned char  *big;

    (void) state;

    ob_fails(MSG(""), HOOP_OAUTHBEARER_ERR_GS2);
    ob_fails(MSG("\x01"), HOOP_OAUTHBEARER_ERR_GS2);
    ob_fails(MSG("n,,"), HOOP_OAUTHBEARER_ERR_KVPAIR);
    ob_fails(MSG("x,,\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_GS2);
    ob_fails(MSG("F,n,,\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_GS2);
    ob_fails(MSG("p=tls-unique,,\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_CBIND);
    ob_fails(MSG("n,a=,\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_AUTHZID);
    ob_fails(MSG("n,a=b=2X,\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_AUTHZID);
    ob_fails(MSG("n,a=b=2,\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_AUTHZID);
    ob_fails(MSG("n,a=\xc3\xa9,\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_AUTHZID);
    ob_fails(MSG("n,a=bob"), HOOP_OAUTHBEARER_ERR_GS2);
    ob_fails(MSG("n,ab,\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_GS2);
    ob_fails(MSG("n,x\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_GS2);
    ob_fails(MSG("n,,\x01" "auth=Bearer t\x01"),
             HOOP_OAUTHBEARER_ERR_TERMINATOR);
    ob_fails(MSG("n,,\x01" "auth=Bearer t"),
             HOOP_OAUTHBEARER_ERR_TERMINATOR);
    ob_fails(MSG("n,,\x01" "auth=Bearer t\x01\x01x"),
             HOOP_OAUTHBEARER_ERR_TERMINATOR);
    ob_fails(MSG("n,,\x01\x01"), HOOP_OAUTHBEARER_ERR_NO_AUTH);
    ob_fails(MSG("n,,\x01" "host=h\x01\x01"), HOOP_OAUTHBEARER_ERR_NO_AUTH);
    ob_fails(MSG("n,,\x01" "auth=Basic dXNlcjpwYXNz\x01\x01"),
             HOOP_OAUTHBEARER_ERR_SCHEME);
    ob_fails(MSG("n,,\x01" "auth=Bearer\x01\x01"),
             HOOP_OAUTHBEARER_ERR_SCHEME);
    ob_fails(MSG("n,,\x01" "auth=Bearertok\x01\x01"),
             HOOP_OAUTHBEARER_ERR_SCHEME);
    ob_fails(MSG("n,,\x01" "auth=Bearer \x01\x01"),
             HOOP_OAUTHBEARER_ERR_TOKEN);
    ob_fails(MSG("n,,\x01" "auth=Bearer ==\x01\x01"),
             HOOP_OAUTHBEARER_ERR_TOKEN);
    ob_fails(MSG("n,,\x01" "auth=Bearer a b\x01\x01"),
             HOOP_OAUTHBEARER_ERR_TOKEN);
    ob_fails(MSG("n,,\x01" "auth=Bearer a=b\x01\x01"),
             HOOP_OAUTHBEARER_ERR_TOKEN);
    ob_fails(MSG("n,,\x01" "auth=Bearer t\x01" "auth=Bearer u\x01\x01"),
             HOOP_OAUTHBEARER_ERR_DUPLICATE);
    ob_fails(MSG("n,,\x01" "a=1\x01" "a=2\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_DUPLICATE);
    ob_fails(MSG("n,,\x01" "k1=v\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_KVPAIR);
    ob_fails(MSG("n,,\x01" "=v\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_KVPAIR);
    ob_fails(MSG("n,,\x01" "k\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_KVPAIR);
    ob_fails(MSG("n,,\x01" "k=a\x7f\x01" "auth=Bearer t\x01\x01"),
             HOOP_OAUTHBEARER_ERR_KVPAIR);
    ob_fails((const unsigned char *) "n,,\x01k=a\0b\x01\x01", 11,
             HOOP_OAUTHBEARER_ERR_KVPAIR);

    /* too many extensions */
    n = 0;
    big = malloc(HOOP_OAUTHBEARER_MAX_LEN + 1);
    n += (size_t) sprintf((char *) big, "n,,\x01" "auth=Bearer t\x01");
    for (i = 0; i <= HOOP_OAUTHBEARER_MAX_EXT; i++) {
        n += (size_t) sprintf((char *) big + n, "k%c%c=v\x01",
                              (int) ('a' + i / 26), (int) ('a' + i % 26));
    }
    big[n++] = 0x01;
    ob_fails(big, n, HOOP_OAUTHBEARER_ERR_TOO_MANY);

    /* too large */
    memset(big, 'a', HOOP_OAUTHBEARER_MAX_LEN + 1);
    ob_fails(big, HOOP_OAUTHBEARER_MAX_LEN + 1,
             HOOP_OAUTHBEARER_ERR_TOO_LARGE);
    free(big);

    assert_int_equal(hoop_oauthbearer_parse(NULL, 0, NULL, NULL, 0),
                     HOOP_OAUTHBEARER_ERR_ARG);
}


static void
test_oauthbearer_ack_and_error(void **state)
{
    char    buf[256];
    size_t  n;

    (void) state;

    assert_true(hoop_oauthbearer_is_ack(MSG("\x01")));
    assert_false(hoop_oauthbearer_is_ack(MSG("\x01\x01")));
    assert_false(hoop_oauthbearer_is_ack(MSG("")));
    assert_false(hoop_oauthbearer_is_ack(NULL, 1));

    n = hoop_oauthbearer_error(buf, sizeof(buf), NULL, NULL, NULL);
    assert_string_equal(buf, "{\"status\":\"invalid_token\"}");
    assert_int_equal(n, strlen(buf));

    n = hoop_oauthbearer_error(buf, sizeof(buf), "insufficient_scope",
                               "kafka \"x\"",
                               "https://idp.test/.well-known/"
                               "openid-configuration");
    assert_string_equal(buf,
                        "{\"status\":\"insufficient_scope\","
                        "\"scope\":\"kafka \\\"x\\\"\","
                        "\"openid-configuration\":\"https://idp.test/"
                        ".well-known/openid-configuration\"}");
    assert_int_equal(n, strlen(buf));

    /* exactly fits (with NUL), one byte short */
    assert_int_equal(hoop_oauthbearer_error(buf, 27, NULL, NULL, NULL), 26);
    assert_int_equal(hoop_oauthbearer_error(buf, 26, NULL, NULL, NULL), 0);
    assert_string_equal(buf, "");
    assert_int_equal(hoop_oauthbearer_error(buf, sizeof(buf), "\xff",
                                            NULL, NULL),
                     0);
}


/* the gateway's path: SASL bytes in, identity out */

static void
test_end_to_end(void **state)
{
    char                    err[256], *tok, *msg;
    size_t                  n;
    hoop_jwks_t            *jwks;
    hoop_jwt_claims_t       c;
    hoop_jwt_policy_t       pol;
    hoop_oauthbearer_msg_t  m;

    (void) state;

    jwks = std_jwks();
    pol = policy();
    tok = sign(&ec1, "ES256", "e1", claims_ok());

    n = strlen(tok) + 64;
    msg = malloc(n);
    n = (size_t) snprintf(msg, n, "n,a=alice,\x01" "auth=Bearer %s\x01\x01",
                          tok);

    assert_int_equal(hoop_oauthbearer_parse((unsigned char *) msg, n, &m,
                                            err, sizeof(err)),
                     HOOP_OAUTHBEARER_OK);
    assert_int_equal(hoop_jwt_verify(jwks, &pol, m.token, m.token_len, NOW,
                                     &c, err, sizeof(err)),
                     HOOP_JWT_OK);
    assert_string_equal(c.principal, m.authzid);

    hoop_jwt_claims_free(&c);
    hoop_oauthbearer_msg_free(&m);
    free(msg);
    free(tok);
    hoop_jwks_free(jwks);
}


int
main(void)
{
    int   rc;
    char  cmd[300];

    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_rs256_valid),
        cmocka_unit_test(test_es256_valid),
        cmocka_unit_test(test_other_algs_when_allowed),
        cmocka_unit_test(test_kid_selects_key),
        cmocka_unit_test(test_single_key_without_kid),
        cmocka_unit_test(test_alg_key_mismatch),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_alg_hmac_key_confusion),
        cmocka_unit_test(test_eddsa_unsupported),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_exp),
        cmocka_unit_test(test_nbf_iat),
        cmocka_unit_test(test_iss_aud),
        cmocka_unit_test(test_subject_groups),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_rc_names),
        cmocka_unit_test(test_jwks_parse),
        cmocka_unit_test(test_jwks_file_reload),
        cmocka_unit_test(test_oauthbearer_parse_ok),
        cmocka_unit_test(test_oauthbearer_parse_bad),
        cmocka_unit_test(test_oauthbearer_ack_and_error),
        cmocka_unit_test(test_end_to_end),
    };

    snprintf(tmpdir, sizeof(tmpdir), "%s/hoop-jwt-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    rc = cmocka_run_group_tests_name("auth_jwt", tests, group_setup,
                                     group_teardown);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", tmpdir);
    }

    return rc;
}
