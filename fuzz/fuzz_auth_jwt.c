/*
 * libFuzzer target: JWT validation (src/auth/hoop_jwt.c) and SASL
 * OAUTHBEARER parsing (src/auth/hoop_oauthbearer.c).
 *
 * Keys are generated at start-up (cjose, EC P-256 and RSA 2048) and
 * published to the code under test as a JWK Set of their public parts.
 * Input: a mode byte, then
 *
 *   0  a token: verified against the set; property: never accepted (no
 *      input can carry a valid signature of a key made at run time)
 *   1  an option byte and a claims set: signed here with the EC key
 *      (ES256, kid "e1") then verified; property: only claim checks may
 *      refuse it, and an accepted token yields a non-empty principal and
 *      non-empty groups
 *   2  a SASL client message: parsed; property: a parsed token has the
 *      length reported; the token is then verified as in mode 0
 *   3  a JWK Set document: parsed; property: a set has at least one key
 *
 * and, whatever the mode, nothing reads or allocates out of bounds or
 * leaks (ASan, UBSan, LSan).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <cjose/cjose.h>

#include "hoop_jwt.h"
#include "hoop_oauthbearer.h"


#define FUZZ_NOW  ((time_t) 1760000000)


static cjose_jwk_t  *ec_key;
static hoop_jwks_t  *jwks;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static json_t *
public_jwk(const cjose_jwk_t *k, const char *kid)
{
    char       *s;
    json_t     *j;
    cjose_err   cerr;

    s = cjose_jwk_to_json(k, false, &cerr);
    if (s == NULL) {
        abort();
    }

    j = json_loads(s, 0, NULL);
    free(s);

    if (j == NULL) {
        abort();
    }

    json_object_set_new(j, "kid", json_string(kid));

    return j;
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char           *doc, err[512];
    json_t         *set, *keys;
    cjose_err       cerr;
    cjose_jwk_t    *rsa;
    static uint8_t  e[] = { 0x01, 0x00, 0x01 };

    (void) argc;
    (void) argv;

    ec_key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    rsa = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &cerr);
    if (ec_key == NULL || rsa == NULL) {
        abort();
    }

    keys = json_array();
    json_array_append_new(keys, public_jwk(ec_key, "e1"));
    json_array_append_new(keys, public_jwk(rsa, "r1"));
    set = json_object();
    json_object_set_new(set, "keys", keys);
    doc = json_dumps(set, JSON_COMPACT);
    json_decref(set);
    cjose_jwk_release(rsa);

    jwks = hoop_jwks_parse(doc, strlen(doc), err, sizeof(err));
    free(doc);

    if (jwks == NULL || hoop_jwks_count(jwks) != 2) {
        fprintf(stderr, "fuzz setup: %s\n", err);
        abort();
    }

    return 0;
}


static void
policy(hoop_jwt_policy_t *pol, unsigned opt)
{
    hoop_jwt_policy_init(pol);
    pol->issuer = "https://idp.test";
    pol->audience = "kafka";
    pol->algs = HOOP_JWT_ALGS_SUPPORTED;

    if (opt & 1) {
        pol->groups_claim = "realm_access.roles";
    }

    if (opt & 2) {
        pol->sub_claim = "preferred_username";
    }

    if (opt & 4) {
        pol->audience = NULL;
        pol->any_audience = 1;
    }

    if (opt & 8) {
        pol->skew = 0;
    }
}


static void
check_claims(const hoop_jwt_claims_t *c)
{
    size_t  i;

    if (c->principal == NULL || c->principal[0] == '\0' || c->iss == NULL
        || c->ngroups > HOOP_JWT_MAX_GROUPS
        || (c->ngroups > 0 && c->groups == NULL))
    {
        abort();
    }

    for (i = 0; i < c->ngroups; i++) {
        if (c->groups[i] == NULL || c->groups[i][0] == '\0') {
            abort();
        }
    }
}


static void
verify_unsigned(const char *tok, size_t len, unsigned opt)
{
    int                rc;
    char               err[256];
    hoop_jwt_claims_t  c;
    hoop_jwt_policy_t  pol;

    policy(&pol, opt);

    rc = hoop_jwt_verify(jwks, &pol, tok, len, FUZZ_NOW, &c, err,
                         sizeof(err));
    if (rc == HOOP_JWT_OK || err[0] == '\0') {
        abort();
    }

    hoop_jwt_claims_free(&c);
}


static void
verify_signed(const uint8_t *payload, size_t len, unsigned opt)
{
    int                rc;
    char               err[256];
    cjose_err          cerr;
    const char        *ser;
    cjose_jws_t       *jws;
    cjose_header_t    *hdr;
    hoop_jwt_claims_t  c;
    hoop_jwt_policy_t  pol;

    if (len == 0) {
        return;                 /* no claims set: not a JWT at all */
    }

    hdr = cjose_header_new(&cerr);
    if (hdr == NULL) {
        abort();
    }

    cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &cerr);
    cjose_header_set(hdr, CJOSE_HDR_KID, "e1", &cerr);

    jws = cjose_jws_sign(ec_key, hdr, payload, len, &cerr);
    cjose_header_release(hdr);

    if (jws == NULL) {
        return;
    }

    if (!cjose_jws_export(jws, &ser, &cerr)) {
        abort();
    }

    policy(&pol, opt);

    rc = hoop_jwt_verify(jwks, &pol, ser, strlen(ser), FUZZ_NOW, &c, err,
                         sizeof(err));

    switch (rc) {

    case HOOP_JWT_OK:
        check_claims(&c);
        break;

    case HOOP_JWT_ERR_TOO_LARGE:
    case HOOP_JWT_ERR_PAYLOAD:
    case HOOP_JWT_ERR_CLAIM_TYPE:
    case HOOP_JWT_ERR_EXP_MISSING:
    case HOOP_JWT_ERR_EXPIRED:
    case HOOP_JWT_ERR_NOT_YET_VALID:
    case HOOP_JWT_ERR_IAT_FUTURE:
    case HOOP_JWT_ERR_ISSUER:
    case HOOP_JWT_ERR_AUDIENCE:
    case HOOP_JWT_ERR_SUBJECT:
    case HOOP_JWT_ERR_GROUPS:
        if (c.principal != NULL || c.groups != NULL) {
            abort();
        }

        break;

    default:
        /* a genuine ES256 token refused for its signature or header */
        fprintf(stderr, "signed token refused: %s: %s\n",
                hoop_jwt_rc_name(rc), err);
        abort();
    }

    hoop_jwt_claims_free(&c);
    cjose_jws_release(jws);
}


static void
sasl(const uint8_t *data, size_t size)
{
    int                     rc;
    char                    err[256], *scope;
    char                    json[512];
    hoop_oauthbearer_msg_t  m;

    rc = hoop_oauthbearer_parse(data, size, &m, err, sizeof(err));

    if (rc == HOOP_OAUTHBEARER_OK) {
        if (m.token == NULL || strlen(m.token) != m.token_len
            || m.token_len == 0)
        {
            abort();
        }

        verify_unsigned(m.token, m.token_len, 0);

    } else if (m.token != NULL || m.authzid != NULL || m.next != 0) {
        abort();
    }

    hoop_oauthbearer_msg_free(&m);

    (void) hoop_oauthbearer_is_ack(data, size);

    scope = malloc(size + 1);
    if (scope == NULL) {
        return;
    }

    memcpy(scope, data, size);
    scope[size] = '\0';
    (void) hoop_oauthbearer_error(json, sizeof(json), NULL, scope, NULL);
    free(scope);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           rc;
    char          err[512];
    hoop_jwks_t  *set;

    if (size < 1) {
        return 0;
    }

    switch (data[0] & 3) {

    case 0:
        verify_unsigned((const char *) data + 1, size - 1, 0);
        break;

    case 1:
        if (size < 2) {
            return 0;
        }

        verify_signed(data + 2, size - 2, data[1]);
        break;

    case 2:
        sasl(data + 1, size - 1);
        break;

    default:
        set = hoop_jwks_parse_rc((const char *) data + 1, size - 1, &rc, err,
                                 sizeof(err));
        if ((set == NULL) != (rc != HOOP_JWT_OK)
            || (set != NULL && hoop_jwks_count(set) == 0))
        {
            abort();
        }

        hoop_jwks_free(set);
        break;
    }

    return 0;
}
