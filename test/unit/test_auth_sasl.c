/*
 * Unit tests of src/auth: the credential store (hoop_credentials), the
 * SASL server (hoop_sasl_server: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512
 * on OpenSSL) and client (hoop_sasl_client: Cyrus SASL), with cmocka.
 *
 * Every SCRAM server is driven by several clients: ours (Cyrus), a small
 * RFC 5802 client written here with OpenSSL that writes its client-final
 * like Java's kafka-clients (the exact nonce) or like librdkafka 2.0.2
 * (client nonce + the whole nonce) and can also send what real clients
 * never should (tampered proofs, other nonces, other c=, extensions), the
 * RFC 7677 example byte for byte, and, when libgsasl is installed
 * (HOOP_TEST_GSASL), GNU SASL's client.  Key derivation is checked
 * against the RFC 7677 example and GNU SASL's own derivation.
 *
 * The server is built with -DHOOP_SASL_SERVER_TEST, which lets a test fix
 * the server nonce (hoop_sasl_server_test_snonce).
 *
 * Run: make -C test/unit check-sasl (check-sasl-asan under ASan/UBSan).
 */

#define _GNU_SOURCE

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#ifdef HOOP_TEST_GSASL
#include <gsasl.h>
#endif
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "hoop_credentials.h"
#include "hoop_sasl_client.h"
#include "hoop_sasl_server.h"


#define PLAIN_ITER   1000               /* the minimum: quick tests */
#define SCRAM_ITER   4096

#define MSG_FAILED     "Authentication failed: Invalid username or password"
#define MSG_MALFORMED  "Authentication failed: malformed SASL message"

#define CNONCE       "fyko+d2lbbFgONRv9qkxdawL"     /* the test client's */

/* in hoop_sasl_server.c, with -DHOOP_SASL_SERVER_TEST */
extern const char  *hoop_sasl_server_test_snonce;


typedef struct {
    hoop_cred_store_t   *store;
    char                *text;          /* the file's contents */
} fixture_t;

static fixture_t  fx;


/* --- helpers -------------------------------------------------------------- */

static char *
xasprintf(const char *fmt, ...)
{
    va_list  ap;
    char    *s;
    int      n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);

    assert_true(n >= 0);
    return s;
}


static char *
entry(const char *user, const char *g1, const char *g2, const char *pw,
    unsigned mechs)
{
    const char  *groups[2];
    size_t       n;
    char        *line, err[256];

    n = 0;
    if (g1 != NULL) {
        groups[n++] = g1;
    }
    if (g2 != NULL) {
        groups[n++] = g2;
    }

    line = hoop_cred_entry_create(user, groups, n, (const uint8_t *) pw,
                                  strlen(pw), mechs, SCRAM_ITER, PLAIN_ITER,
                                  HOOP_CRED_MD_SHA256, err, sizeof(err));
    if (line == NULL) {
        fail_msg("hoop_cred_entry_create(%s): %s", user, err);
    }

    return line;
}


static char *
base_file(void)
{
    char  *a, *b, *c, *d, *e, *text;

    a = entry("alice", "dev", "ops", "alice-secret", HOOP_CRED_WANT_ALL);
    b = entry("bob", NULL, NULL, "bob-secret", HOOP_CRED_WANT_PLAIN);
    c = entry("carol", "dev", NULL, "carol-secret",
              HOOP_CRED_WANT_SCRAM_256);
    d = entry("we,ird=name", NULL, NULL, "weird-secret", HOOP_CRED_WANT_ALL);
    e = entry("\xc3\xa9mile", NULL, NULL, "p\xc3\xa4ss", HOOP_CRED_WANT_ALL);

    text = xasprintf("# test credentials\n\n%s\n%s\n  %s\r\n%s\n%s", a, b, c,
                     d, e);

    free(a);
    free(b);
    free(c);
    free(d);
    free(e);

    return text;
}


static int
group_setup(void **state)
{
    char              err[256];
    hoop_cred_set_t  *set;

    (void) state;

    if (hoop_sasl_server_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "hoop_sasl_server_init: %s\n", err);
        return -1;
    }
    if (err[0] != '\0') {
        fprintf(stderr, "hoop_sasl_server_init: %s\n", err);
    }

    if (hoop_sasl_client_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "hoop_sasl_client_init: %s\n", err);
        return -1;
    }
    if (err[0] != '\0') {
        fprintf(stderr, "hoop_sasl_client_init: %s\n", err);
    }

    fx.text = base_file();

    set = hoop_cred_set_parse(fx.text, strlen(fx.text), err, sizeof(err));
    if (set == NULL) {
        fprintf(stderr, "hoop_cred_set_parse: %s\n", err);
        return -1;
    }

    fx.store = hoop_cred_store_from_set(set);

    return fx.store != NULL ? 0 : -1;
}


static int
group_teardown(void **state)
{
    (void) state;

    hoop_cred_store_free(fx.store);
    free(fx.text);
    hoop_sasl_client_done();
    hoop_sasl_server_done();

    return 0;
}


static size_t
b64_len(size_t n)
{
    return 4 * ((n + 2) / 3) + 1;
}


/* --- a small RFC 5802 client, independent of the SASL libraries ----------- */

typedef struct {
    hoop_sasl_mech_t    mech;
    char               *first;          /* client-first-message */
    const char         *bare;           /* ... without the gs2 header */
    char               *final;          /* client-final-message */
    uint8_t             server_sig[64];
    size_t              key_len;
} tclient_t;


/* how the test client writes client-final; all zero: as Java's
 * kafka-clients and the RFC do */
typedef struct {
    const char         *prefix;         /* before the nonce of server-first
                                           (librdkafka: its c-nonce) */
    const char         *suffix;         /* after it */
    size_t              skip;           /* bytes of it left off its start */
    size_t              chop;           /* bytes of it left off its end */
    const char         *ext;            /* ",k=v..." before ",p=", signed */
} tfinal_opts_t;

static const tfinal_opts_t  java_like = { NULL, NULL, 0, 0, NULL };
static const tfinal_opts_t  librdkafka_like = { CNONCE, NULL, 0, 0, NULL };


static void
tclient_first(tclient_t *t, hoop_sasl_mech_t mech, const char *gs2,
    const char *user, const char *tail)
{
    memset(t, 0, sizeof(*t));
    t->mech = mech;
    t->first = xasprintf("%sn=%s,r=" CNONCE "%s", gs2, user,
                         tail ? tail : "");
    t->bare = t->first + strlen(gs2);
}


/*
 * client-final for server_first[0..sflen), with c= the base64 of gs2 and
 * the nonce and extensions of o (NULL: java_like), signed with pw over
 * AuthMessage as RFC 5802 section 3 defines it; NULL if server_first is
 * malformed.  Owned by t.
 */
static char *
tclient_final_opts(tclient_t *t, const char *gs2, const char *pw,
    const char *server_first, size_t sflen, const tfinal_opts_t *o)
{
    const EVP_MD  *md;
    char          *sf, *nonce, *salt_b64, *iter, *p, *auth, *without;
    char          *cbind, *proof_b64;
    uint8_t        salt[128], salted[64], ck[64], sk[64], srvk[64], cs[64];
    uint8_t        proof[64];
    long           salt_len;
    unsigned       n, i;
    size_t         k, nlen;

    if (o == NULL) {
        o = &java_like;
    }

    md = t->mech == HOOP_SASL_MECH_SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
    t->key_len = (size_t) EVP_MD_get_size(md);

    sf = strndup(server_first, sflen);
    assert_non_null(sf);

    /* r=nonce,s=salt,i=iter */
    nonce = strstr(sf, "r=");
    salt_b64 = strstr(sf, ",s=");
    iter = strstr(sf, ",i=");
    if (nonce != sf || salt_b64 == NULL || iter == NULL) {
        free(sf);
        return NULL;
    }
    *salt_b64 = '\0';
    salt_b64 += 3;
    *iter = '\0';
    iter += 3;
    nonce += 2;

    salt_len = hoop_b64_decode(salt, sizeof(salt), salt_b64,
                               strlen(salt_b64));
    assert_true(salt_len > 0);
    i = (unsigned) strtoul(iter, NULL, 10);
    assert_true(i >= 4096);

    assert_int_equal(PKCS5_PBKDF2_HMAC(pw, (int) strlen(pw), salt,
                                       (int) salt_len, (int) i, md,
                                       (int) t->key_len, salted), 1);
    HMAC(md, salted, (int) t->key_len, (const uint8_t *) "Client Key", 10,
         ck, &n);
    EVP_Digest(ck, t->key_len, sk, &n, md, NULL);
    HMAC(md, salted, (int) t->key_len, (const uint8_t *) "Server Key", 10,
         srvk, &n);

    cbind = malloc(b64_len(strlen(gs2)));
    hoop_b64_encode(cbind, (const uint8_t *) gs2, strlen(gs2));

    nlen = strlen(nonce);
    assert_true(o->skip + o->chop <= nlen);

    without = xasprintf("c=%s,r=%s%.*s%s%s", cbind,
                        o->prefix ? o->prefix : "",
                        (int) (nlen - o->skip - o->chop), nonce + o->skip,
                        o->suffix ? o->suffix : "", o->ext ? o->ext : "");
    p = strndup(server_first, sflen);
    auth = xasprintf("%s,%s,%s", t->bare, p, without);
    free(p);

    HMAC(md, sk, (int) t->key_len, (const uint8_t *) auth, strlen(auth), cs,
         &n);
    for (k = 0; k < t->key_len; k++) {
        proof[k] = ck[k] ^ cs[k];
    }
    HMAC(md, srvk, (int) t->key_len, (const uint8_t *) auth, strlen(auth),
         t->server_sig, &n);

    proof_b64 = malloc(b64_len(t->key_len));
    hoop_b64_encode(proof_b64, proof, t->key_len);

    free(t->final);
    t->final = xasprintf("%s,p=%s", without, proof_b64);

    free(proof_b64);
    free(auth);
    free(without);
    free(cbind);
    free(sf);

    return t->final;
}


/* client-final as Java writes it, c= the base64 of gs2 */
static char *
tclient_final(tclient_t *t, const char *gs2, const char *pw,
    const char *server_first, size_t sflen)
{
    return tclient_final_opts(t, gs2, pw, server_first, sflen, NULL);
}


static void
tclient_free(tclient_t *t)
{
    free(t->first);
    free(t->final);
}


/* the server-final "v=..." matches what the test client expects */
static void
tclient_check_server_final(tclient_t *t, const uint8_t *out, size_t outlen)
{
    char  *v;

    v = malloc(b64_len(t->key_len) + 2);
    v[0] = 'v';
    v[1] = '=';
    hoop_b64_encode(v + 2, t->server_sig, t->key_len);

    assert_int_equal(outlen, strlen(v));
    assert_memory_equal(out, v, outlen);
    free(v);
}


/* --- running exchanges ---------------------------------------------------- */

/* our client against our server; returns the server's final rc */
static hoop_sasl_rc_t
run_exchange(hoop_sasl_mech_t mech, const char *user, const char *pw,
    hoop_sasl_server_t **sp, hoop_sasl_rc_t *client_rc)
{
    hoop_sasl_client_t  *c;
    hoop_sasl_server_t  *s;
    hoop_sasl_rc_t       crc, src;
    const uint8_t       *cout, *sout;
    size_t               coutlen, soutlen;
    char                 err[256];
    int                  rounds;

    c = hoop_sasl_client_start(mech, user, (const uint8_t *) pw, strlen(pw),
                               err, sizeof(err));
    if (c == NULL) {
        fail_msg("hoop_sasl_client_start: %s", err);
    }

    s = hoop_sasl_server_start(mech, fx.store);
    assert_non_null(s);

    crc = hoop_sasl_client_step(c, NULL, 0, &cout, &coutlen);
    assert_int_equal(crc, HOOP_SASL_CONTINUE);

    src = HOOP_SASL_FAILED;

    for (rounds = 0; rounds < 5; rounds++) {
        src = hoop_sasl_server_step(s, cout, coutlen, &sout, &soutlen);
        if (src == HOOP_SASL_FAILED) {
            assert_null(sout);
            break;
        }

        assert_non_null(sout);
        crc = hoop_sasl_client_step(c, sout, soutlen, &cout, &coutlen);

        if (src == HOOP_SASL_OK || crc != HOOP_SASL_CONTINUE) {
            break;
        }
    }

    if (client_rc != NULL) {
        *client_rc = crc;
    }

    if (src == HOOP_SASL_OK && crc != HOOP_SASL_OK) {
        fail_msg("server OK, client %d: %s", crc,
                 hoop_sasl_client_reason(c));
    }

    hoop_sasl_client_free(c);

    if (sp != NULL) {
        *sp = s;
    } else {
        hoop_sasl_server_free(s);
    }

    return src;
}


static void
assert_groups(hoop_sasl_server_t *s, const char *g1, const char *g2)
{
    size_t  n;

    n = (g1 != NULL) + (g2 != NULL);
    assert_int_equal(hoop_sasl_server_ngroups(s), n);
    if (g1 != NULL) {
        assert_string_equal(hoop_sasl_server_group(s, 0), g1);
    }
    if (g2 != NULL) {
        assert_string_equal(hoop_sasl_server_group(s, 1), g2);
    }
    assert_null(hoop_sasl_server_group(s, n));
}


static hoop_sasl_server_t *
plain(const char *msg, size_t len, hoop_sasl_rc_t expect)
{
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen;
    hoop_sasl_rc_t       rc;

    s = hoop_sasl_server_start(HOOP_SASL_MECH_PLAIN, fx.store);
    assert_non_null(s);

    rc = hoop_sasl_server_step(s, (const uint8_t *) msg, len, &out, &outlen);
    if (rc != expect) {
        fail_msg("PLAIN: rc %d, expected %d (%s)", rc, expect,
                 hoop_sasl_server_reason(s));
    }

    if (rc == HOOP_SASL_OK) {
        assert_non_null(out);
        assert_int_equal(outlen, 0);
    } else {
        assert_null(out);
        assert_int_equal(outlen, 0);
    }

    return s;
}

#define PLAIN(lit, expect)  plain(lit, sizeof(lit) - 1, expect)


/* --- credentials ---------------------------------------------------------- */

static void
test_mech_names(void **state)
{
    (void) state;

    assert_int_equal(hoop_sasl_mech_parse("PLAIN", 5), HOOP_SASL_MECH_PLAIN);
    assert_int_equal(hoop_sasl_mech_parse("SCRAM-SHA-256", 13),
                     HOOP_SASL_MECH_SCRAM_SHA_256);
    assert_int_equal(hoop_sasl_mech_parse("SCRAM-SHA-512", 13),
                     HOOP_SASL_MECH_SCRAM_SHA_512);
    assert_int_equal(hoop_sasl_mech_parse("plain", 5), HOOP_SASL_MECH_NONE);
    assert_int_equal(hoop_sasl_mech_parse("PLAINX", 5),
                     HOOP_SASL_MECH_PLAIN);
    assert_int_equal(hoop_sasl_mech_parse("GSSAPI", 6), HOOP_SASL_MECH_NONE);
    assert_int_equal(hoop_sasl_mech_parse(NULL, 0), HOOP_SASL_MECH_NONE);
    assert_string_equal(hoop_sasl_mech_name(HOOP_SASL_MECH_SCRAM_SHA_512),
                        "SCRAM-SHA-512");

    assert_true(hoop_sasl_server_mech_enabled(HOOP_SASL_MECH_PLAIN));
    assert_true(hoop_sasl_server_mech_enabled(HOOP_SASL_MECH_SCRAM_SHA_256));
    assert_true(hoop_sasl_server_mech_enabled(HOOP_SASL_MECH_SCRAM_SHA_512));
    assert_false(hoop_sasl_server_mech_enabled(HOOP_SASL_MECH_NONE));
    assert_null(hoop_sasl_server_start(HOOP_SASL_MECH_NONE, fx.store));
    assert_null(hoop_sasl_server_start(HOOP_SASL_MECH_PLAIN, NULL));

    assert_true(hoop_sasl_client_mech_enabled(HOOP_SASL_MECH_PLAIN));
    assert_true(hoop_sasl_client_mech_enabled(HOOP_SASL_MECH_SCRAM_SHA_256));
    assert_true(hoop_sasl_client_mech_enabled(HOOP_SASL_MECH_SCRAM_SHA_512));
}


static void
test_base64_utf8(void **state)
{
    uint8_t  buf[16];
    char     enc[32], esc[16];

    (void) state;

    assert_int_equal(hoop_b64_encode(enc, (const uint8_t *) "", 0), 0);
    assert_int_equal(hoop_b64_encode(enc, (const uint8_t *) "f", 1), 4);
    assert_string_equal(enc, "Zg==");
    hoop_b64_encode(enc, (const uint8_t *) "foob", 4);
    assert_string_equal(enc, "Zm9vYg==");
    hoop_b64_encode(enc, (const uint8_t *) "fooba", 5);
    assert_string_equal(enc, "Zm9vYmE=");
    hoop_b64_encode(enc, (const uint8_t *) "foobar", 6);
    assert_string_equal(enc, "Zm9vYmFy");

    assert_int_equal(hoop_b64_decode(buf, sizeof(buf), "Zm9vYmE=", 8), 5);
    assert_memory_equal(buf, "fooba", 5);
    assert_int_equal(hoop_b64_decode(buf, sizeof(buf), "", 0), 0);
    assert_int_equal(hoop_b64_decode(buf, sizeof(buf), "Zm9vYmE", 7), -1);
    assert_int_equal(hoop_b64_decode(buf, sizeof(buf), "Zm9vYmF=", 8), -1);
    assert_int_equal(hoop_b64_decode(buf, sizeof(buf), "Zh==", 4), -1);
    assert_int_equal(hoop_b64_decode(buf, sizeof(buf), "Z===", 4), -1);
    assert_int_equal(hoop_b64_decode(buf, sizeof(buf), "====", 4), -1);
    assert_int_equal(hoop_b64_decode(buf, sizeof(buf), "Zg==Zg==", 8), -1);
    assert_int_equal(hoop_b64_decode(buf, sizeof(buf), "Zm9v\nYmFy", 9), -1);
    assert_int_equal(hoop_b64_decode(buf, 2, "Zm9v", 4), -1);

    assert_true(hoop_utf8_name_valid((const uint8_t *) "alice", 5));
    assert_true(hoop_utf8_name_valid((const uint8_t *) "\xc3\xa9", 2));
    assert_true(hoop_utf8_name_valid((const uint8_t *) "\xf0\x9f\x98\x80",
                                     4));
    assert_false(hoop_utf8_name_valid((const uint8_t *) "a\tb", 3));
    assert_false(hoop_utf8_name_valid((const uint8_t *) "a\0b", 3));
    assert_false(hoop_utf8_name_valid((const uint8_t *) "\x7f", 1));
    assert_false(hoop_utf8_name_valid((const uint8_t *) "\xc3", 1));
    assert_false(hoop_utf8_name_valid((const uint8_t *) "\xc0\xaf", 2));
    assert_false(hoop_utf8_name_valid((const uint8_t *) "\xed\xa0\x80", 3));
    assert_false(hoop_utf8_name_valid((const uint8_t *) "\xc2\x85", 2));
    assert_false(hoop_utf8_name_valid((const uint8_t *) "\xff", 1));

    hoop_log_escape(esc, sizeof(esc), "a\"b\n", 4);
    assert_string_equal(esc, "a\\x22b\\x0a");
    hoop_log_escape(esc, sizeof(esc), "abcdefghijklmnopqrstuvwxyz", 26);
    assert_string_equal(esc, "abcdefghijkl...");
    assert_true(strlen(esc) < sizeof(esc));
}


/* RFC 7677 section 3: user "user", password "pencil" */
static void
test_scram_rfc7677_vector(void **state)
{
    static const char  auth[] =
        "n=user,r=rOprNGfwEbeRWgbNEkqO,"
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    uint8_t            salt[16], stored[64], server[64], sig[32], cs[32];
    uint8_t            proof[32], ck[32], h[32];
    unsigned           n;
    size_t             k;
    char               b64[64];

    (void) state;

    assert_int_equal(hoop_b64_decode(salt, sizeof(salt),
                                     "W22ZaJ0SNY7soEsUEjb6gQ==", 24), 16);
    assert_int_equal(hoop_cred_scram_derive(HOOP_SASL_MECH_SCRAM_SHA_256,
                                            (const uint8_t *) "pencil", 6,
                                            salt, 16, 4096, stored, server),
                     32);

    /* ServerSignature := HMAC(ServerKey, AuthMessage) is the RFC's v= */
    HMAC(EVP_sha256(), server, 32, (const uint8_t *) auth, strlen(auth), sig,
         &n);
    hoop_b64_encode(b64, sig, 32);
    assert_string_equal(b64, "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");

    /* H(ClientProof XOR HMAC(StoredKey, AuthMessage)) == StoredKey */
    assert_int_equal(hoop_b64_decode(proof, sizeof(proof),
                         "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", 44),
                     32);
    HMAC(EVP_sha256(), stored, 32, (const uint8_t *) auth, strlen(auth), cs,
         &n);
    for (k = 0; k < 32; k++) {
        ck[k] = proof[k] ^ cs[k];
    }
    EVP_Digest(ck, 32, h, &n, EVP_sha256(), NULL);
    assert_memory_equal(h, stored, 32);

    assert_int_equal(hoop_cred_scram_derive(HOOP_SASL_MECH_PLAIN,
                                            (const uint8_t *) "x", 1, salt,
                                            16, 4096, stored, server), -1);
}


#ifdef HOOP_TEST_GSASL

/* our SHA-256 derivation equals GNU SASL's own */
static void
test_scram_derive_vs_gsasl(void **state)
{
    uint8_t  salt[24], stored[64], server[64];
    char     salted[64], ck[64], sk[64], srv[64];

    (void) state;

    assert_int_equal(RAND_bytes(salt, sizeof(salt)), 1);

    assert_int_equal(hoop_cred_scram_derive(HOOP_SASL_MECH_SCRAM_SHA_256,
                                            (const uint8_t *) "s3cret", 6,
                                            salt, sizeof(salt), 4096, stored,
                                            server), 32);
    assert_int_equal(gsasl_scram_secrets_from_password(GSASL_HASH_SHA256,
                         "s3cret", 4096, (const char *) salt, sizeof(salt),
                         salted, ck, srv, sk), GSASL_OK);
    assert_memory_equal(stored, sk, 32);
    assert_memory_equal(server, srv, 32);
}

#endif /* HOOP_TEST_GSASL */


static void
test_cred_parse_good(void **state)
{
    hoop_cred_set_t    *set;
    const hoop_cred_t  *c;
    hoop_cred_scram_t   sc;
    char                err[256];

    (void) state;

    set = hoop_cred_set_parse(fx.text, strlen(fx.text), err, sizeof(err));
    assert_non_null(set);
    assert_int_equal(hoop_cred_set_count(set), 5);

    c = hoop_cred_set_find(set, "alice", 5);
    assert_non_null(c);
    assert_string_equal(hoop_cred_name(c), "alice");
    assert_int_equal(hoop_cred_ngroups(c), 2);
    assert_string_equal(hoop_cred_group(c, 0), "dev");
    assert_string_equal(hoop_cred_group(c, 1), "ops");
    assert_null(hoop_cred_group(c, 2));
    assert_true(hoop_cred_has(c, HOOP_SASL_MECH_PLAIN));
    assert_true(hoop_cred_has(c, HOOP_SASL_MECH_SCRAM_SHA_512));

    assert_null(hoop_cred_set_find(set, "alic", 4));
    assert_null(hoop_cred_set_find(set, "alicee", 6));
    assert_null(hoop_cred_set_find(set, "", 0));

    c = hoop_cred_set_find(set, "bob", 3);
    assert_non_null(c);
    assert_int_equal(hoop_cred_ngroups(c), 0);
    assert_false(hoop_cred_has(c, HOOP_SASL_MECH_SCRAM_SHA_256));
    assert_non_null(hoop_cred_set_find(set, "carol", 5));
    assert_non_null(hoop_cred_set_find(set, "we,ird=name", 11));

    /* PLAIN verification */
    c = hoop_cred_set_find(set, "alice", 5);
    assert_true(hoop_cred_verify_plain(set, c,
                                       (const uint8_t *) "alice-secret", 12));
    assert_false(hoop_cred_verify_plain(set, c,
                                        (const uint8_t *) "alice-secreT", 12));
    assert_false(hoop_cred_verify_plain(set, c,
                                        (const uint8_t *) "alice-secret", 11));
    assert_false(hoop_cred_verify_plain(set, NULL,
                                        (const uint8_t *) "alice-secret", 12));

    /* real and fake SCRAM credentials */
    assert_int_equal(hoop_cred_scram_get(set, c, HOOP_SASL_MECH_SCRAM_SHA_256,
                                         "alice", 5, &sc), 1);
    assert_int_equal(sc.key_len, 32);
    assert_int_equal(sc.iterations, SCRAM_ITER);
    assert_int_equal(hoop_cred_scram_get(set, NULL,
                                         HOOP_SASL_MECH_SCRAM_SHA_512,
                                         "nobody", 6, &sc), 0);
    assert_int_equal(sc.key_len, 64);
    assert_int_equal(sc.iterations, SCRAM_ITER);
    assert_int_equal(sc.salt_len, HOOP_CRED_SALT_DEFAULT);
    assert_int_equal(hoop_cred_scram_get(set, c, HOOP_SASL_MECH_PLAIN,
                                         "alice", 5, &sc), -1);

    hoop_cred_set_unref(set);
}


static void
assert_parse_fails(const char *text, const char *what)
{
    hoop_cred_set_t  *set;
    char              err[256];

    err[0] = '\0';
    set = hoop_cred_set_parse(text, strlen(text), err, sizeof(err));
    if (set != NULL) {
        hoop_cred_set_unref(set);
        fail_msg("parsed: %s", text);
    }

    if (strstr(err, what) == NULL) {
        fail_msg("error \"%s\" lacks \"%s\"", err, what);
    }
}


static void
test_cred_parse_bad(void **state)
{
    char    *a, *t;
    char     err[256];

    (void) state;

    a = entry("alice", NULL, NULL, "pw", HOOP_CRED_WANT_PLAIN);

    t = xasprintf("%s\n%s\n", a, a);
    assert_parse_fails(t, "line 2: duplicate user \"alice\"");
    free(t);

    t = xasprintf("# ok\n%s\n{\"user\":\"x\"\n", a);
    assert_parse_fails(t, "line 3: bad JSON");
    free(t);

    assert_parse_fails("[1,2]", "line 1: not a JSON object");
    assert_parse_fails("{\"user\":\"x\"}", "no credential");
    assert_parse_fails("{\"user\":\"\",\"plain\":{}}", "\"user\" must be");
    assert_parse_fails("{\"user\":\"a\\u0001\",\"plain\":{}}",
                       "\"user\" must be");
    assert_parse_fails("{\"user\":\"a\\u0000\",\"plain\":{}}", "bad JSON");
    assert_parse_fails("{\"user\":\"a\",\"pass\":\"x\"}",
                       "unknown key \"pass\"");
    assert_parse_fails("{\"user\":\"a\",\"user\":\"b\"}", "bad JSON");
    assert_parse_fails("{\"user\":\"a\",\"groups\":\"g\",\"plain\":{}}",
                       "\"groups\" must be");
    assert_parse_fails("{\"user\":\"a\",\"groups\":[\"\"],\"plain\":{}}",
                       "a group must be");
    assert_parse_fails("{\"user\":\"a\",\"plain\":{\"kdf\":\"md5\"}}",
                       "\"kdf\" must be");
    assert_parse_fails("{\"user\":\"a\",\"plain\":{\"kdf\":\"pbkdf2-sha256\","
                       "\"iterations\":999,\"salt\":\"AAAAAAAAAAA=\","
                       "\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                       "AAA=\"}}", "\"iterations\" must be 1000..");
    assert_parse_fails("{\"user\":\"a\",\"plain\":{\"kdf\":\"pbkdf2-sha256\","
                       "\"iterations\":1000,\"salt\":\"AAAA\","
                       "\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                       "AAA=\"}}", "\"salt\": not base64 of 8..64");
    assert_parse_fails("{\"user\":\"a\",\"plain\":{\"kdf\":\"pbkdf2-sha256\","
                       "\"iterations\":1000,\"salt\":\"AAAAAAAAAAA=\","
                       "\"hash\":\"AAAA\"}}",
                       "\"hash\": not base64 of 32 bytes");
    assert_parse_fails("{\"user\":\"a\",\"scram-sha-256\":{\"iterations\":"
                       "4095}}", "\"iterations\" must be 4096..");
    assert_parse_fails("{\"user\":\"a\",\"scram-sha-256\":{\"iterations\":"
                       "4096,\"salt\":\"AAAAAAAAAAA=\",\"stored_key\":\"x\","
                       "\"server_key\":\"x\"}}", "\"stored_key\": not base64");
    assert_parse_fails("{\"user\":\"a\",\"scram-sha-1\":{}}",
                       "unknown key \"scram-sha-1\"");
    assert_parse_fails("{\"user\":\"a\",\"plain\":{\"x\":1}}",
                       "plain: unknown key \"x\"");
    assert_parse_fails("{\"user\":\"a\"} x", "bad JSON");

    /* a NUL byte on line 2 */
    t = xasprintf("%s\n{\"user\":\"b\"}X\n", a);
    *strrchr(t, 'X') = '\0';
    {
        hoop_cred_set_t  *set;
        size_t            len;

        len = strlen(t) + 2;
        set = hoop_cred_set_parse(t, len, err, sizeof(err));
        assert_null(set);
        assert_non_null(strstr(err, "line 2"));
    }
    free(t);

    /* an empty file is a valid, empty set */
    {
        hoop_cred_set_t  *set;

        set = hoop_cred_set_parse("# nobody\n\n", 10, err, sizeof(err));
        assert_non_null(set);
        assert_int_equal(hoop_cred_set_count(set), 0);
        assert_false(hoop_cred_verify_plain(set, NULL,
                                            (const uint8_t *) "x", 1));
        hoop_cred_set_unref(set);
    }

    /* entry arguments */
    assert_null(hoop_cred_entry_create("", NULL, 0, (const uint8_t *) "p", 1,
                                       HOOP_CRED_WANT_ALL, 4096, 1000,
                                       HOOP_CRED_MD_SHA256, err,
                                       sizeof(err)));
    assert_null(hoop_cred_entry_create("a", NULL, 0, (const uint8_t *) "p", 0,
                                       HOOP_CRED_WANT_ALL, 4096, 1000,
                                       HOOP_CRED_MD_SHA256, err,
                                       sizeof(err)));
    assert_null(hoop_cred_entry_create("a", NULL, 0, (const uint8_t *) "p", 1,
                                       HOOP_CRED_WANT_ALL, 4000, 1000,
                                       HOOP_CRED_MD_SHA256, err,
                                       sizeof(err)));
    assert_null(hoop_cred_entry_create("a", NULL, 0, (const uint8_t *) "p", 1,
                                       0, 4096, 1000, HOOP_CRED_MD_SHA256,
                                       err, sizeof(err)));

    free(a);
}


/* fake credentials copy the shape of the first real one in the file */
static void
test_cred_fake_shape(void **state)
{
    hoop_cred_set_t    *set;
    hoop_cred_scram_t   sc, sc2;
    char               *a, *b, *t, err[256];

    (void) state;

    a = hoop_cred_entry_create("zed", NULL, 0, (const uint8_t *) "pw", 2,
                               HOOP_CRED_WANT_SCRAM_512, 8192, 1000,
                               HOOP_CRED_MD_SHA256, err, sizeof(err));
    b = entry("amy", NULL, NULL, "pw", HOOP_CRED_WANT_ALL);
    t = xasprintf("%s\n%s\n", a, b);

    set = hoop_cred_set_parse(t, strlen(t), err, sizeof(err));
    assert_non_null(set);

    assert_int_equal(hoop_cred_scram_get(set, NULL,
                                         HOOP_SASL_MECH_SCRAM_SHA_512,
                                         "nobody", 6, &sc), 0);
    assert_int_equal(sc.iterations, 8192);
    assert_int_equal(hoop_cred_scram_get(set, NULL,
                                         HOOP_SASL_MECH_SCRAM_SHA_256,
                                         "nobody", 6, &sc), 0);
    assert_int_equal(sc.iterations, SCRAM_ITER);

    /* the same name, the same salt; another name, another salt */
    assert_int_equal(hoop_cred_scram_get(set, NULL,
                                         HOOP_SASL_MECH_SCRAM_SHA_256,
                                         "nobody", 6, &sc2), 0);
    assert_memory_equal(sc.salt, sc2.salt, sc.salt_len);
    assert_memory_not_equal(sc.stored_key, sc2.stored_key, sc.key_len);
    assert_int_equal(hoop_cred_scram_get(set, NULL,
                                         HOOP_SASL_MECH_SCRAM_SHA_256,
                                         "nobodx", 6, &sc2), 0);
    assert_memory_not_equal(sc.salt, sc2.salt, sc.salt_len);

    hoop_cred_set_unref(set);
    free(t);
    free(a);
    free(b);
}


static void
test_cred_sha512_plain(void **state)
{
    hoop_cred_set_t    *set;
    char               *line, err[256];

    (void) state;

    line = hoop_cred_entry_create("z", NULL, 0, (const uint8_t *) "pw", 2,
                                  HOOP_CRED_WANT_PLAIN, 4096, 1000,
                                  HOOP_CRED_MD_SHA512, err, sizeof(err));
    assert_non_null(line);
    assert_non_null(strstr(line, "\"kdf\":\"pbkdf2-sha512\""));

    set = hoop_cred_set_parse(line, strlen(line), err, sizeof(err));
    assert_non_null(set);
    assert_true(hoop_cred_verify_plain(set, hoop_cred_set_find(set, "z", 1),
                                       (const uint8_t *) "pw", 2));
    assert_false(hoop_cred_verify_plain(set, hoop_cred_set_find(set, "z", 1),
                                        (const uint8_t *) "pW", 2));
    hoop_cred_set_unref(set);
    free(line);
}


static void
write_file(const char *path, const char *text)
{
    char   tmp[512];
    FILE  *f;

    /* a new inode each time, like an editor or a deploy tool */
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}


static void
test_cred_store_reload(void **state)
{
    char                 dir[] = "/tmp/hoop-cred-XXXXXX";
    char                 path[512], err[256], *a, *b, *t;
    hoop_cred_store_t   *store;
    hoop_cred_set_t     *held;
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen;

    (void) state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/credentials", dir);

    a = entry("alice", "g", NULL, "one", HOOP_CRED_WANT_PLAIN);
    b = entry("bob", NULL, NULL, "two", HOOP_CRED_WANT_PLAIN);

    /* missing or bad file at open: no store */
    assert_null(hoop_cred_store_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, "No such file"));
    write_file(path, "{oops\n");
    assert_null(hoop_cred_store_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, "line 1: bad JSON"));

    write_file(path, a);
    store = hoop_cred_store_open(path, err, sizeof(err));
    assert_non_null(store);
    assert_int_equal(hoop_cred_store_reload(store, err, sizeof(err)),
                     HOOP_CRED_UNCHANGED);
    held = hoop_cred_set_ref(hoop_cred_store_current(store));

    /* an exchange in flight keeps its set */
    s = hoop_sasl_server_start(HOOP_SASL_MECH_PLAIN, store);
    assert_non_null(s);

    t = xasprintf("%s\n%s\n", a, b);
    write_file(path, t);
    free(t);
    assert_int_equal(hoop_cred_store_reload(store, err, sizeof(err)),
                     HOOP_CRED_RELOADED);
    assert_non_null(hoop_cred_set_find(hoop_cred_store_current(store),
                                       "bob", 3));
    assert_null(hoop_cred_set_find(held, "bob", 3));

    assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) "\0bob\0two",
                                           8, &out, &outlen),
                     HOOP_SASL_FAILED);
    hoop_sasl_server_free(s);

    /* a bad version: the last good one stays, reported once */
    write_file(path, "{\"user\":\"bob\"}\n");
    err[0] = '\0';
    assert_int_equal(hoop_cred_store_reload(store, err, sizeof(err)),
                     HOOP_CRED_FAILED);
    assert_non_null(strstr(err, "keeping the last good version"));
    assert_int_equal(hoop_cred_store_reload(store, err, sizeof(err)),
                     HOOP_CRED_UNCHANGED);
    assert_non_null(hoop_cred_set_find(hoop_cred_store_current(store),
                                       "bob", 3));

    s = hoop_sasl_server_start(HOOP_SASL_MECH_PLAIN, store);
    assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) "\0bob\0two",
                                           8, &out, &outlen),
                     HOOP_SASL_OK);
    assert_string_equal(hoop_sasl_server_principal(s), "bob");
    hoop_sasl_server_free(s);

    /* gone: an error, the last good one stays */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(hoop_cred_store_reload(store, err, sizeof(err)),
                     HOOP_CRED_FAILED);
    assert_non_null(strstr(err, "stat("));
    assert_non_null(hoop_cred_set_find(hoop_cred_store_current(store),
                                       "bob", 3));

    /* fixed: loaded */
    write_file(path, b);
    assert_int_equal(hoop_cred_store_reload(store, err, sizeof(err)),
                     HOOP_CRED_RELOADED);
    assert_null(hoop_cred_set_find(hoop_cred_store_current(store),
                                   "alice", 5));

    hoop_cred_set_unref(held);
    hoop_cred_store_free(store);
    hoop_cred_store_free(NULL);
    hoop_cred_set_unref(NULL);

    unlink(path);
    rmdir(dir);
    free(a);
    free(b);
}


/* --- PLAIN ---------------------------------------------------------------- */

static void
test_plain_good(void **state)
{
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen;

    (void) state;

    s = PLAIN("\0alice\0alice-secret", HOOP_SASL_OK);
    assert_string_equal(hoop_sasl_server_principal(s), "alice");
    assert_groups(s, "dev", "ops");
    assert_string_equal(hoop_sasl_server_reason(s), "");
    assert_string_equal(hoop_sasl_server_client_message(s), "");
    assert_int_equal(hoop_sasl_server_mech(s), HOOP_SASL_MECH_PLAIN);

    /* nothing after the end */
    assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) "x", 1, &out,
                                           &outlen), HOOP_SASL_FAILED);
    assert_null(hoop_sasl_server_principal(s));
    hoop_sasl_server_free(s);

    /* authzid equal to the user: fine (RFC 4616, Kafka) */
    s = PLAIN("alice\0alice\0alice-secret", HOOP_SASL_OK);
    assert_string_equal(hoop_sasl_server_principal(s), "alice");
    hoop_sasl_server_free(s);

    s = PLAIN("\0bob\0bob-secret", HOOP_SASL_OK);
    assert_string_equal(hoop_sasl_server_principal(s), "bob");
    assert_groups(s, NULL, NULL);
    hoop_sasl_server_free(s);

    s = PLAIN("\0we,ird=name\0weird-secret", HOOP_SASL_OK);
    assert_string_equal(hoop_sasl_server_principal(s), "we,ird=name");
    hoop_sasl_server_free(s);

    s = PLAIN("\0\xc3\xa9mile\0p\xc3\xa4ss", HOOP_SASL_OK);
    hoop_sasl_server_free(s);
}


static void
test_plain_bad_password_unknown_user(void **state)
{
    hoop_sasl_server_t  *s;
    char                 msg[128];

    (void) state;

    s = PLAIN("\0alice\0alice-secreT", HOOP_SASL_FAILED);
    assert_string_equal(hoop_sasl_server_client_message(s), MSG_FAILED);
    assert_string_equal(hoop_sasl_server_reason(s),
                        "PLAIN: wrong password for \"alice\"");
    assert_null(hoop_sasl_server_principal(s));
    assert_int_equal(hoop_sasl_server_ngroups(s), 0);
    snprintf(msg, sizeof(msg), "%s", hoop_sasl_server_client_message(s));
    hoop_sasl_server_free(s);

    /* the client cannot tell an unknown user from a wrong password */
    s = PLAIN("\0mallory\0alice-secret", HOOP_SASL_FAILED);
    assert_string_equal(hoop_sasl_server_client_message(s), msg);
    assert_string_equal(hoop_sasl_server_reason(s),
                        "PLAIN: unknown user \"mallory\"");
    hoop_sasl_server_free(s);

    /* a user without a PLAIN verifier, the same */
    s = PLAIN("\0carol\0carol-secret", HOOP_SASL_FAILED);
    assert_string_equal(hoop_sasl_server_client_message(s), msg);
    assert_non_null(strstr(hoop_sasl_server_reason(s), "no PLAIN verifier"));
    hoop_sasl_server_free(s);

    /* case matters */
    s = PLAIN("\0Alice\0alice-secret", HOOP_SASL_FAILED);
    assert_string_equal(hoop_sasl_server_client_message(s), msg);
    hoop_sasl_server_free(s);
}


static void
test_plain_authzid_mismatch(void **state)
{
    hoop_sasl_server_t  *s;

    (void) state;

    s = PLAIN("bob\0alice\0alice-secret", HOOP_SASL_FAILED);
    assert_non_null(strstr(hoop_sasl_server_client_message(s),
                           "authorization id"));
    assert_string_equal(hoop_sasl_server_reason(s),
                        "PLAIN: authorization id \"bob\" differs from user "
                        "\"alice\"");
    assert_null(hoop_sasl_server_principal(s));
    hoop_sasl_server_free(s);

    s = PLAIN("alicex\0alice\0alice-secret", HOOP_SASL_FAILED);
    hoop_sasl_server_free(s);
}


static void
test_plain_malformed(void **state)
{
    static const struct {
        const char  *msg;
        size_t       len;
    } bad[] = {
#define B(lit)  { lit, sizeof(lit) - 1 }
        B(""),
        B("alice"),
        B("\0alice"),
        B("alice\0alice-secret"),
        B("\0alice\0alice-secret\0"),
        B("\0alice\0alice\0secret"),
        B("\0\0alice-secret"),
        B("\0alice\0"),
        B("\0al\tice\0alice-secret"),
        B("\0al\xffice\0alice-secret"),
        B("\xc3\0alice\0alice-secret"),
#undef B
    };
    hoop_sasl_server_t  *s;
    size_t               i;
    char                 big[2048];

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = plain(bad[i].msg, bad[i].len, HOOP_SASL_FAILED);
        assert_true(strlen(hoop_sasl_server_reason(s)) > 0);
        assert_true(strlen(hoop_sasl_server_client_message(s)) > 0);
        hoop_sasl_server_free(s);
    }

    /* over-long user and password */
    memset(big, 'a', sizeof(big));
    big[0] = '\0';
    big[300] = '\0';
    s = plain(big, 310, HOOP_SASL_FAILED);
    assert_non_null(strstr(hoop_sasl_server_reason(s), "malformed authcid"));
    hoop_sasl_server_free(s);

    memset(big, 'a', sizeof(big));
    memcpy(big, "\0alice\0", 7);
    s = plain(big, sizeof(big), HOOP_SASL_FAILED);
    assert_non_null(strstr(hoop_sasl_server_reason(s), "password of"));
    hoop_sasl_server_free(s);

    /* NULL input */
    {
        const uint8_t  *out;
        size_t          outlen;

        s = hoop_sasl_server_start(HOOP_SASL_MECH_PLAIN, fx.store);
        assert_int_equal(hoop_sasl_server_step(s, NULL, 0, &out, &outlen),
                         HOOP_SASL_FAILED);
        assert_int_equal(hoop_sasl_server_step(s, NULL, 0, &out, &outlen),
                         HOOP_SASL_FAILED);
        hoop_sasl_server_free(s);
    }

    hoop_sasl_server_free(NULL);
}


/* --- SCRAM: our client against our servers -------------------------------- */

static void
scram_good(hoop_sasl_mech_t mech)
{
    hoop_sasl_server_t  *s;
    hoop_sasl_rc_t       crc;

    assert_int_equal(run_exchange(mech, "alice", "alice-secret", &s, &crc),
                     HOOP_SASL_OK);
    assert_int_equal(crc, HOOP_SASL_OK);
    assert_string_equal(hoop_sasl_server_principal(s), "alice");
    assert_groups(s, "dev", "ops");
    assert_int_equal(hoop_sasl_server_mech(s), mech);
    hoop_sasl_server_free(s);

    /* ',' and '=' travel as =2C and =3D */
    assert_int_equal(run_exchange(mech, "we,ird=name", "weird-secret", &s,
                                  NULL), HOOP_SASL_OK);
    assert_string_equal(hoop_sasl_server_principal(s), "we,ird=name");
    hoop_sasl_server_free(s);
}


static void
scram_bad(hoop_sasl_mech_t mech)
{
    hoop_sasl_server_t  *s;
    char                 msg[128];

    assert_int_equal(run_exchange(mech, "alice", "alice-secreT", &s, NULL),
                     HOOP_SASL_FAILED);
    assert_string_equal(hoop_sasl_server_client_message(s), MSG_FAILED);
    assert_non_null(strstr(hoop_sasl_server_reason(s),
                           "proof check failed"));
    assert_non_null(strstr(hoop_sasl_server_reason(s), "\"alice\""));
    assert_null(hoop_sasl_server_principal(s));
    snprintf(msg, sizeof(msg), "%s", hoop_sasl_server_client_message(s));
    hoop_sasl_server_free(s);

    assert_int_equal(run_exchange(mech, "mallory", "alice-secret", &s, NULL),
                     HOOP_SASL_FAILED);
    assert_string_equal(hoop_sasl_server_client_message(s), msg);
    assert_non_null(strstr(hoop_sasl_server_reason(s),
                           "unknown user \"mallory\""));
    hoop_sasl_server_free(s);

    /* bob has PLAIN only */
    assert_int_equal(run_exchange(mech, "bob", "bob-secret", &s, NULL),
                     HOOP_SASL_FAILED);
    assert_string_equal(hoop_sasl_server_client_message(s), msg);
    assert_non_null(strstr(hoop_sasl_server_reason(s),
                           "\"bob\" has no credential"));
    hoop_sasl_server_free(s);
}


static void
test_scram256_exchange(void **state)
{
    (void) state;
    scram_good(HOOP_SASL_MECH_SCRAM_SHA_256);

    /* carol has SCRAM-SHA-256 only */
    assert_int_equal(run_exchange(HOOP_SASL_MECH_SCRAM_SHA_256, "carol",
                                  "carol-secret", NULL, NULL), HOOP_SASL_OK);
}


static void
test_scram512_exchange(void **state)
{
    (void) state;
    scram_good(HOOP_SASL_MECH_SCRAM_SHA_512);

    assert_int_equal(run_exchange(HOOP_SASL_MECH_SCRAM_SHA_512,
                                  "\xc3\xa9mile", "p\xc3\xa4ss", NULL, NULL),
                     HOOP_SASL_OK);
    assert_int_equal(run_exchange(HOOP_SASL_MECH_SCRAM_SHA_512, "carol",
                                  "carol-secret", NULL, NULL),
                     HOOP_SASL_FAILED);
}


static void
test_scram256_wrong_password_unknown_user(void **state)
{
    (void) state;
    scram_bad(HOOP_SASL_MECH_SCRAM_SHA_256);
}


static void
test_scram512_wrong_password_unknown_user(void **state)
{
    (void) state;
    scram_bad(HOOP_SASL_MECH_SCRAM_SHA_512);
}


/* --- SCRAM: the test client, for what real clients do not send ------------ */

/* client-first to a fresh server; returns it (server-first in *sf) */
static hoop_sasl_server_t *
tfirst(hoop_sasl_mech_t mech, const char *first, hoop_sasl_rc_t expect,
    const uint8_t **sf, size_t *sflen)
{
    hoop_sasl_server_t  *s;
    hoop_sasl_rc_t       rc;

    s = hoop_sasl_server_start(mech, fx.store);
    assert_non_null(s);

    rc = hoop_sasl_server_step(s, (const uint8_t *) first, strlen(first), sf,
                               sflen);
    if (rc != expect) {
        fail_msg("%s: client-first \"%s\": rc %d, expected %d (%s)",
                 hoop_sasl_mech_name(mech), first, rc, expect,
                 hoop_sasl_server_reason(s));
    }

    return s;
}


/* a whole exchange by the test client, client-final written as o says
 * (c= from gs2 or, when not NULL, cb_gs2); returns the server's last rc
 * (the server in *sp if sp is not NULL, else freed) */
static hoop_sasl_rc_t
texchange_opts(hoop_sasl_mech_t mech, const char *gs2, const char *cb_gs2,
    const char *user, const char *tail, const char *pw,
    const tfinal_opts_t *o, hoop_sasl_server_t **sp)
{
    tclient_t            t;
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen;
    hoop_sasl_rc_t       rc;
    char                *final;

    tclient_first(&t, mech, gs2, user, tail);

    s = tfirst(mech, t.first, HOOP_SASL_CONTINUE, &out, &outlen);

    final = tclient_final_opts(&t, cb_gs2 ? cb_gs2 : gs2, pw,
                               (const char *) out, outlen, o);
    assert_non_null(final);

    rc = hoop_sasl_server_step(s, (const uint8_t *) final, strlen(final),
                               &out, &outlen);
    if (rc == HOOP_SASL_OK) {
        tclient_check_server_final(&t, out, outlen);
        assert_string_equal(hoop_sasl_server_reason(s), "");
    } else {
        assert_null(out);
        assert_int_equal(outlen, 0);
        assert_null(hoop_sasl_server_principal(s));
    }

    tclient_free(&t);

    if (sp != NULL) {
        *sp = s;
    } else {
        hoop_sasl_server_free(s);
    }

    return rc;
}


static hoop_sasl_rc_t
texchange(hoop_sasl_mech_t mech, const char *gs2, const char *user,
    const char *tail, const char *pw, hoop_sasl_server_t **sp)
{
    return texchange_opts(mech, gs2, NULL, user, tail, pw, NULL, sp);
}


static void
scram_test_client(hoop_sasl_mech_t mech)
{
    hoop_sasl_server_t  *s;

    /* plain "n,," as Kafka sends it, Java's exact nonce */
    assert_int_equal(texchange(mech, "n,,", "alice", NULL, "alice-secret",
                               &s), HOOP_SASL_OK);
    assert_string_equal(hoop_sasl_server_principal(s), "alice");
    assert_groups(s, "dev", "ops");
    hoop_sasl_server_free(s);

    /* authzid equal to the user */
    assert_int_equal(texchange(mech, "n,a=alice,", "alice", NULL,
                               "alice-secret", NULL), HOOP_SASL_OK);
    assert_int_equal(texchange(mech, "n,a=we=2Cird=3Dname,", "we=2Cird=3Dname",
                               NULL, "weird-secret", NULL), HOOP_SASL_OK);

    /* Kafka's tokenauth=false extension is carried in AuthMessage; other
     * extensions are ignored (as Kafka does), and carried too */
    assert_int_equal(texchange(mech, "n,,", "alice", ",tokenauth=false",
                               "alice-secret", NULL), HOOP_SASL_OK);
    assert_int_equal(texchange(mech, "n,,", "alice",
                               ",foo=bar,Baz=a=b;c,tokenauth=0",
                               "alice-secret", NULL), HOOP_SASL_OK);

    assert_int_equal(texchange(mech, "n,,", "we=2Cird=3Dname", NULL,
                               "weird-secret", &s), HOOP_SASL_OK);
    assert_string_equal(hoop_sasl_server_principal(s), "we,ird=name");
    hoop_sasl_server_free(s);

    assert_int_equal(texchange(mech, "n,,", "alice", NULL, "wrong", NULL),
                     HOOP_SASL_FAILED);
}


static void
test_scram256_test_client(void **state)
{
    (void) state;
    scram_test_client(HOOP_SASL_MECH_SCRAM_SHA_256);
}


static void
test_scram512_test_client(void **state)
{
    (void) state;
    scram_test_client(HOOP_SASL_MECH_SCRAM_SHA_512);
}


static void
scram_refused_first(hoop_sasl_mech_t mech)
{
    static const struct {
        const char  *first;
        const char  *reason;
    } cases[] = {
        { "p=tls-unique,,n=alice,r=abcdef", "channel binding" },
        { "p=tls-server-end-point,a=alice,n=alice,r=abcdef",
          "channel binding" },
        { "y,,n=alice,r=abcdef", "channel binding" },
        { "y,a=alice,n=alice,r=abcdef", "channel binding" },
        { "n,,n=alice,r=abcdef,tokenauth=true", "delegation token" },
        { "n,,n=alice,r=abcdef,tokenauth=TRUE", "delegation token" },
        { "n,,n=alice,r=abcdef,foo=x,tokenauth=True,bar=y",
          "delegation token" },
        { "n,,n=mallory,r=abcdef,tokenauth=true", "delegation token" },
        { "n,,m=x,n=alice,r=abcdef", "mandatory extension" },
        { "n,a=,n=alice,r=abcdef", "malformed" },
        { "n,a=alice,n=alice,r=abc,foo=", "malformed" },
        { "n,,n=alice,r=abc,foo=\xc3\xa9", "malformed" },
        { "n,,n=alice,r=abc,f0o=1", "malformed" },
        { "n,,n=alice,r=abc,,foo=1", "malformed" },
        { "n,,n=alice,r=ab\xc3\xa9", "malformed" },
        { "n,,n=\xc3(,r=abcdef", "malformed" },
        { "N,,n=alice,r=abcdef", "malformed" },
        { "n,,N=alice,r=abcdef", "malformed" },
        { "n,, n=alice,r=abcdef", "malformed" },
        { "n,,n=alice,R=abcdef", "malformed" },
        { "n,a=bob,n=alice,r=abcdef", "authorization id \"bob\" differs" },
        { "n,,n=alice,r=abc,def", "malformed" },
        { "n,,n=alice,r=", "malformed" },
        { "n,,n=alice,r=ab\x7f" "cd", "malformed" },
        { "n,,n=al=2Xice,r=abcdef", "malformed" },
        { "n,,n=,r=abcdefgh", "malformed" },
        { "n,,n=alice", "malformed" },
        { "n,,r=abcdef,n=alice", "malformed" },
        { "x,,n=alice,r=abcdef", "malformed" },
        { "n,n=alice,r=abcdef", "malformed" },
        { "n,,n=al\tice,r=abcdef", "malformed" },
        { "n,,n=alice,r=abcdef,", "malformed" },
        { "n,,n=alice,r=abcdef,=x", "malformed" },
        { "short", "malformed" },
        { "n", "malformed" },
        { "n,", "malformed" },
        { "n,,", "malformed" },
        { ",,n=alice,r=abcdef", "malformed" },
    };
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen, i;
    char                 big[HOOP_SASL_SCRAM_MSG_MAX + 32];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s = tfirst(mech, cases[i].first, HOOP_SASL_FAILED, &out, &outlen);
        assert_null(out);
        if (strstr(hoop_sasl_server_reason(s), cases[i].reason) == NULL) {
            fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", cases[i].first,
                     hoop_sasl_server_reason(s), cases[i].reason);
        }
        assert_true(strlen(hoop_sasl_server_client_message(s)) > 0);
        hoop_sasl_server_free(s);
    }

    /* NUL inside, too long */
    s = hoop_sasl_server_start(mech, fx.store);
    assert_int_equal(hoop_sasl_server_step(s,
                         (const uint8_t *) "n,,n=al\0ce,r=abcdef", 19, &out,
                         &outlen), HOOP_SASL_FAILED);
    hoop_sasl_server_free(s);

    memset(big, 'x', sizeof(big));
    memcpy(big, "n,,n=alice,r=", 13);
    s = hoop_sasl_server_start(mech, fx.store);
    assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) big,
                                           sizeof(big), &out, &outlen),
                     HOOP_SASL_FAILED);
    assert_string_equal(hoop_sasl_server_client_message(s), MSG_MALFORMED);
    hoop_sasl_server_free(s);

    /* the limit itself is fine, one more byte is not */
    s = hoop_sasl_server_start(mech, fx.store);
    assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) big,
                                           HOOP_SASL_SCRAM_MSG_MAX, &out,
                                           &outlen), HOOP_SASL_CONTINUE);
    assert_memory_equal(out, big + 11, HOOP_SASL_SCRAM_MSG_MAX - 11);
    hoop_sasl_server_free(s);

    s = hoop_sasl_server_start(mech, fx.store);
    assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) big,
                                           HOOP_SASL_SCRAM_MSG_MAX + 1, &out,
                                           &outlen), HOOP_SASL_FAILED);
    hoop_sasl_server_free(s);

    /* no input at all */
    s = hoop_sasl_server_start(mech, fx.store);
    assert_int_equal(hoop_sasl_server_step(s, NULL, 0, &out, &outlen),
                     HOOP_SASL_FAILED);
    assert_null(out);
    hoop_sasl_server_free(s);
}


static void
test_scram256_refused_first(void **state)
{
    (void) state;
    scram_refused_first(HOOP_SASL_MECH_SCRAM_SHA_256);
}


static void
test_scram512_refused_first(void **state)
{
    (void) state;
    scram_refused_first(HOOP_SASL_MECH_SCRAM_SHA_512);
}


/* an unknown user gets a salt and an iteration count like a real one,
 * the same for the same name */
static void
scram_unknown_user_looks_real(hoop_sasl_mech_t mech)
{
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen;
    char                *a, *b, *c, *r;

    s = tfirst(mech, "n,,n=mallory,r=abcdefgh", HOOP_SASL_CONTINUE, &out,
               &outlen);
    a = strndup((const char *) out, outlen);
    hoop_sasl_server_free(s);

    s = tfirst(mech, "n,,n=mallory,r=abcdefgh", HOOP_SASL_CONTINUE, &out,
               &outlen);
    b = strndup((const char *) out, outlen);
    hoop_sasl_server_free(s);

    s = tfirst(mech, "n,,n=alice,r=abcdefgh", HOOP_SASL_CONTINUE, &out,
               &outlen);
    c = strndup((const char *) out, outlen);
    hoop_sasl_server_free(s);

    /* r=<nonce>,s=<salt>,i=4096: compare from ",s=" on */
    assert_non_null(strstr(a, ",i=4096"));
    assert_non_null(strstr(c, ",i=4096"));
    assert_string_equal(strstr(a, ",s="), strstr(b, ",s="));
    assert_int_equal(strlen(strstr(a, ",s=")), strlen(strstr(c, ",s=")));
    assert_string_not_equal(strstr(a, ",s="), strstr(c, ",s="));

    /* the server nonce is fresh each time */
    r = strstr(a, ",s=");
    *r = '\0';
    r = strstr(b, ",s=");
    *r = '\0';
    assert_string_not_equal(a, b);
    assert_memory_equal(a, "r=abcdefgh", 10);

    free(a);
    free(b);
    free(c);
}


static void
test_scram_unknown_user_looks_real(void **state)
{
    (void) state;
    scram_unknown_user_looks_real(HOOP_SASL_MECH_SCRAM_SHA_256);
    scram_unknown_user_looks_real(HOOP_SASL_MECH_SCRAM_SHA_512);
}


/* tampered proof, nonce, channel-binding data; replays; garbage */
static void
scram_tampered(hoop_sasl_mech_t mech)
{
    tclient_t            t;
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen, len;
    char                *final, *bad, *p, *replay;
    int                  which;

    for (which = 0; which < 9; which++) {
        tclient_first(&t, mech, "n,,", "alice", NULL);
        s = tfirst(mech, t.first, HOOP_SASL_CONTINUE, &out, &outlen);
        final = tclient_final(&t, "n,,", "alice-secret", (const char *) out,
                              outlen);
        bad = strdup(final);
        len = strlen(bad);

        switch (which) {
        case 0:                         /* a bit of the proof */
            p = strstr(bad, ",p=") + 3;
            p[1] = p[1] == 'A' ? 'B' : 'A';
            break;
        case 1:                         /* the proof cut short */
            bad[len - 4] = '\0';
            break;
        case 2:                         /* a character of the nonce */
            p = strstr(bad, ",r=") + 5;
            *p = *p == 'x' ? 'y' : 'x';
            break;
        case 3:                         /* channel binding "y,," */
            memcpy(bad, "c=eSws", 6);
            break;
        case 4:                         /* no proof */
            *strstr(bad, ",p=") = '\0';
            break;
        case 5:                         /* garbage */
            memset(bad, '#', len);
            break;
        case 6:                         /* the proof is not base64 */
            p = strstr(bad, ",p=") + 3;
            p[0] = '*';
            break;
        case 7:                         /* an extra extension, same proof:
                                           AuthMessage differs */
            p = strstr(bad, ",p=");
            {
                char  *x = xasprintf("%.*s,x=1%s", (int) (p - bad), bad, p);
                free(bad);
                bad = x;
            }
            break;
        case 8:                         /* client-first again */
            free(bad);
            bad = strdup(t.first);
            break;
        }

        assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) bad,
                                               strlen(bad), &out, &outlen),
                         HOOP_SASL_FAILED);
        assert_null(out);
        assert_null(hoop_sasl_server_principal(s));
        assert_true(strlen(hoop_sasl_server_client_message(s)) > 0);

        /* the untampered message cannot be sent afterwards */
        assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) final,
                                               strlen(final), &out, &outlen),
                         HOOP_SASL_FAILED);
        hoop_sasl_server_free(s);
        free(bad);
        tclient_free(&t);
    }

    /* replay: a good client-final against a new server nonce */
    tclient_first(&t, mech, "n,,", "alice", NULL);
    s = tfirst(mech, t.first, HOOP_SASL_CONTINUE, &out, &outlen);
    final = tclient_final(&t, "n,,", "alice-secret", (const char *) out,
                          outlen);
    replay = strdup(final);
    assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) final,
                                           strlen(final), &out, &outlen),
                     HOOP_SASL_OK);

    /* ... a step after OK */
    assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) final,
                                           strlen(final), &out, &outlen),
                     HOOP_SASL_FAILED);
    assert_null(hoop_sasl_server_principal(s));
    hoop_sasl_server_free(s);

    s = tfirst(mech, t.first, HOOP_SASL_CONTINUE, &out, &outlen);
    assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) replay,
                                           strlen(replay), &out, &outlen),
                     HOOP_SASL_FAILED);
    assert_non_null(strstr(hoop_sasl_server_reason(s), "alice"));
    hoop_sasl_server_free(s);

    /* NUL in client-final, empty client-final */
    s = tfirst(mech, t.first, HOOP_SASL_CONTINUE, &out, &outlen);
    replay[3] = '\0';
    assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) replay,
                                           strlen(replay + 4) + 4, &out,
                                           &outlen), HOOP_SASL_FAILED);
    hoop_sasl_server_free(s);

    s = tfirst(mech, t.first, HOOP_SASL_CONTINUE, &out, &outlen);
    assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) "", 0, &out,
                                           &outlen), HOOP_SASL_FAILED);
    hoop_sasl_server_free(s);

    free(replay);
    tclient_free(&t);
}


static void
test_scram256_tampered(void **state)
{
    (void) state;
    scram_tampered(HOOP_SASL_MECH_SCRAM_SHA_256);
}


static void
test_scram512_tampered(void **state)
{
    (void) state;
    scram_tampered(HOOP_SASL_MECH_SCRAM_SHA_512);
}


#ifdef HOOP_TEST_GSASL

/* GNU SASL's client (exact RFC 5802) against our SCRAM-SHA-256 server */
static void
test_scram256_gsasl_client(void **state)
{
    Gsasl               *g;
    Gsasl_session       *gs;
    hoop_sasl_server_t  *s;
    hoop_sasl_rc_t       src;
    const uint8_t       *sout;
    size_t               soutlen, coutlen;
    char                *cout;
    int                  rc, round;
    const char          *pw[2] = { "alice-secret", "nope" };
    int                  k;

    (void) state;

    assert_int_equal(gsasl_init(&g), GSASL_OK);

    for (k = 0; k < 2; k++) {
        assert_int_equal(gsasl_client_start(g, "SCRAM-SHA-256", &gs),
                         GSASL_OK);
        gsasl_property_set(gs, GSASL_AUTHID, "alice");
        gsasl_property_set(gs, GSASL_PASSWORD, pw[k]);

        s = hoop_sasl_server_start(HOOP_SASL_MECH_SCRAM_SHA_256, fx.store);

        rc = gsasl_step(gs, NULL, 0, &cout, &coutlen);
        assert_int_equal(rc, GSASL_NEEDS_MORE);
        src = HOOP_SASL_FAILED;

        for (round = 0; round < 3; round++) {
            src = hoop_sasl_server_step(s, (const uint8_t *) cout, coutlen,
                                        &sout, &soutlen);
            gsasl_free(cout);
            cout = NULL;
            if (src == HOOP_SASL_FAILED) {
                break;
            }

            rc = gsasl_step(gs, (const char *) sout, soutlen, &cout,
                            &coutlen);
            if (src == HOOP_SASL_OK) {
                /* GNU SASL checked our server signature */
                assert_int_equal(rc, GSASL_OK);
                break;
            }
            assert_int_equal(rc, GSASL_NEEDS_MORE);
        }

        gsasl_free(cout);

        if (k == 0) {
            assert_int_equal(src, HOOP_SASL_OK);
            assert_string_equal(hoop_sasl_server_principal(s), "alice");
        } else {
            assert_int_equal(src, HOOP_SASL_FAILED);
        }

        hoop_sasl_server_free(s);
        gsasl_finish(gs);
    }

    gsasl_done(g);
}

#endif /* HOOP_TEST_GSASL */


/* --- SCRAM: the server's own implementation, clients as Kafka's are ------ */

static int
reset_snonce(void **state)
{
    (void) state;
    hoop_sasl_server_test_snonce = NULL;
    return 0;
}


/* RFC 7677 section 3, byte for byte through the server: user "user",
 * password "pencil", the RFC's salt, iterations and server nonce */
static void
test_scram_rfc7677_exchange(void **state)
{
    static const char   first[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static const char   sfirst[] =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static const char   final[] =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static const char   sfinal[] =
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    hoop_cred_set_t     *set;
    hoop_cred_store_t   *store;
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen;
    uint8_t              salt[16], stored[64], server[64];
    char                 sk[64], sv[64], err[256], *line, *bad;
    int                  k;

    (void) state;

    assert_int_equal(hoop_b64_decode(salt, sizeof(salt),
                                     "W22ZaJ0SNY7soEsUEjb6gQ==", 24), 16);
    assert_int_equal(hoop_cred_scram_derive(HOOP_SASL_MECH_SCRAM_SHA_256,
                                            (const uint8_t *) "pencil", 6,
                                            salt, 16, 4096, stored, server),
                     32);
    hoop_b64_encode(sk, stored, 32);
    hoop_b64_encode(sv, server, 32);

    line = xasprintf("{\"user\":\"user\",\"groups\":[\"rfc\"],"
                     "\"scram-sha-256\":{\"iterations\":4096,"
                     "\"salt\":\"W22ZaJ0SNY7soEsUEjb6gQ==\","
                     "\"stored_key\":\"%s\",\"server_key\":\"%s\"}}\n", sk,
                     sv);
    set = hoop_cred_set_parse(line, strlen(line), err, sizeof(err));
    if (set == NULL) {
        fail_msg("hoop_cred_set_parse: %s", err);
    }
    store = hoop_cred_store_from_set(set);
    assert_non_null(store);

    hoop_sasl_server_test_snonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

    for (k = 0; k < 2; k++) {
        s = hoop_sasl_server_start(HOOP_SASL_MECH_SCRAM_SHA_256, store);
        assert_non_null(s);

        assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) first,
                                               sizeof(first) - 1, &out,
                                               &outlen), HOOP_SASL_CONTINUE);
        assert_int_equal(outlen, sizeof(sfirst) - 1);
        assert_memory_equal(out, sfirst, outlen);

        if (k == 0) {
            assert_int_equal(hoop_sasl_server_step(s,
                                 (const uint8_t *) final, sizeof(final) - 1,
                                 &out, &outlen), HOOP_SASL_OK);
            assert_int_equal(outlen, sizeof(sfinal) - 1);
            assert_memory_equal(out, sfinal, outlen);
            assert_string_equal(hoop_sasl_server_principal(s), "user");
            assert_groups(s, "rfc", NULL);

        } else {
            /* one bit of the proof ('d' to 'e') */
            bad = strdup(final);
            strstr(bad, ",p=")[3] ^= 1;
            assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) bad,
                                                   strlen(bad), &out,
                                                   &outlen),
                             HOOP_SASL_FAILED);
            assert_string_equal(hoop_sasl_server_client_message(s),
                                MSG_FAILED);
            free(bad);
        }

        hoop_sasl_server_free(s);
    }

    hoop_sasl_server_test_snonce = NULL;
    hoop_cred_store_free(store);
    free(line);
}


/* the client-finals of Java's kafka-clients and of librdkafka 2.0.2 */
static void
scram_java_librdkafka(hoop_sasl_mech_t mech)
{
    tclient_t            t;
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen;
    char                *final, *want;
    int                  k;

    for (k = 0; k < 2; k++) {
        tclient_first(&t, mech, "n,,", "alice", NULL);
        s = tfirst(mech, t.first, HOOP_SASL_CONTINUE, &out, &outlen);

        /* server-first: r=CNONCE SNONCE,s=...,i=4096 */
        assert_true(outlen > 2 + strlen(CNONCE) + 24);
        assert_memory_equal(out, "r=" CNONCE, 2 + strlen(CNONCE));
        assert_int_equal(out[2 + strlen(CNONCE) + 24], ',');

        final = tclient_final_opts(&t, "n,,", "alice-secret",
                                   (const char *) out, outlen,
                                   k == 0 ? &java_like : &librdkafka_like);

        /* what each sends: "r=" + nonce, or "r=" + CNONCE + nonce */
        want = xasprintf("c=biws,r=%s%.*s,p=", k == 0 ? "" : CNONCE,
                         (int) (strlen(CNONCE) + 24), (const char *) out + 2);
        assert_memory_equal(final, want, strlen(want));
        free(want);

        assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) final,
                                               strlen(final), &out, &outlen),
                         HOOP_SASL_OK);
        tclient_check_server_final(&t, out, outlen);
        assert_string_equal(hoop_sasl_server_principal(s), "alice");
        assert_groups(s, "dev", "ops");

        hoop_sasl_server_free(s);
        tclient_free(&t);
    }

    /* the same with a wrong password, both ways */
    assert_int_equal(texchange_opts(mech, "n,,", NULL, "alice", NULL, "nope",
                                    &librdkafka_like, NULL),
                     HOOP_SASL_FAILED);
    assert_int_equal(texchange_opts(mech, "n,,", NULL, "alice", NULL, "nope",
                                    &java_like, NULL), HOOP_SASL_FAILED);

    /* librdkafka with ',' and '=' in the name, and with tokenauth=false */
    assert_int_equal(texchange_opts(mech, "n,,", NULL, "we=2Cird=3Dname",
                                    NULL, "weird-secret", &librdkafka_like,
                                    NULL), HOOP_SASL_OK);
    assert_int_equal(texchange_opts(mech, "n,,", NULL, "alice",
                                    ",tokenauth=false", "alice-secret",
                                    &librdkafka_like, NULL), HOOP_SASL_OK);
}


static void
test_scram256_java_librdkafka(void **state)
{
    (void) state;
    scram_java_librdkafka(HOOP_SASL_MECH_SCRAM_SHA_256);
}


static void
test_scram512_java_librdkafka(void **state)
{
    (void) state;
    scram_java_librdkafka(HOOP_SASL_MECH_SCRAM_SHA_512);
}


/* Kafka's rule: the client-final nonce ends with the server-first nonce;
 * each client-final here is properly signed, so only the nonce decides */
static void
scram_nonce_rules(hoop_sasl_mech_t mech)
{
    static const struct {
        tfinal_opts_t    o;
        hoop_sasl_rc_t   rc;
    } cases[] = {
        { { NULL, NULL, 0, 0, NULL }, HOOP_SASL_OK },
        { { CNONCE, NULL, 0, 0, NULL }, HOOP_SASL_OK },
        { { "!x~", NULL, 0, 0, NULL }, HOOP_SASL_OK },
        { { CNONCE CNONCE, NULL, 0, 0, NULL }, HOOP_SASL_OK },
        { { NULL, NULL, 0, 0, ",x=1" }, HOOP_SASL_OK },
        { { CNONCE, NULL, 0, 0, ",x=1,tokenauth=false" }, HOOP_SASL_OK },
        { { NULL, NULL, 0, 1, NULL }, HOOP_SASL_FAILED },
        { { NULL, "x", 0, 0, NULL }, HOOP_SASL_FAILED },
        { { CNONCE, "x", 0, 0, NULL }, HOOP_SASL_FAILED },
        { { CNONCE, NULL, 0, 1, NULL }, HOOP_SASL_FAILED },
        { { NULL, NULL, 0, 24, NULL }, HOOP_SASL_FAILED },  /* c-nonce */
        { { NULL, NULL, 24, 0, NULL }, HOOP_SASL_FAILED },  /* s-nonce */
        { { NULL, NULL, 1, 0, NULL }, HOOP_SASL_FAILED },
        { { "x", NULL, 1, 0, NULL }, HOOP_SASL_FAILED },
    };
    hoop_sasl_server_t  *s;
    size_t               i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(texchange_opts(mech, "n,,", NULL, "alice", NULL,
                                        "alice-secret", &cases[i].o, &s),
                         cases[i].rc);
        if (cases[i].rc == HOOP_SASL_FAILED) {
            if (strstr(hoop_sasl_server_reason(s), "nonce check failed for "
                       "\"alice\"") == NULL)
            {
                fail_msg("case %zu: reason \"%s\"", i,
                         hoop_sasl_server_reason(s));
            }
            assert_string_equal(hoop_sasl_server_client_message(s),
                                MSG_FAILED);
        }
        hoop_sasl_server_free(s);
    }
}


static void
test_scram256_nonce_rules(void **state)
{
    (void) state;
    scram_nonce_rules(HOOP_SASL_MECH_SCRAM_SHA_256);
}


static void
test_scram512_nonce_rules(void **state)
{
    (void) state;
    scram_nonce_rules(HOOP_SASL_MECH_SCRAM_SHA_512);
}


/* c= must be the base64 of the gs2 header of client-first, even when the
 * proof is computed over the other value */
static void
scram_channel_binding_final(hoop_sasl_mech_t mech)
{
    static const struct {
        const char  *gs2;
        const char  *cb;
    } cases[] = {
        { "n,,", "y,," },
        { "n,,", "n,a=alice," },
        { "n,,", "p=tls-unique,," },
        { "n,,", "" },
        { "n,,", "n,," "n,," },
        { "n,a=alice,", "n,," },
        { "n,a=alice,", "n,a=alicf," },
    };
    hoop_sasl_server_t  *s;
    size_t               i;
    int                  k;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (k = 0; k < 2; k++) {
            assert_int_equal(texchange_opts(mech, cases[i].gs2, cases[i].cb,
                                            "alice", NULL, "alice-secret",
                                            k ? &librdkafka_like : NULL, &s),
                             HOOP_SASL_FAILED);
            assert_non_null(strstr(hoop_sasl_server_reason(s),
                                   "channel binding check failed"));
            assert_string_equal(hoop_sasl_server_client_message(s),
                                MSG_FAILED);
            hoop_sasl_server_free(s);
        }
    }

    /* and the right one, with an authzid */
    assert_int_equal(texchange_opts(mech, "n,a=alice,", NULL, "alice", NULL,
                                    "alice-secret", &librdkafka_like, NULL),
                     HOOP_SASL_OK);
}


static void
test_scram256_channel_binding_final(void **state)
{
    (void) state;
    scram_channel_binding_final(HOOP_SASL_MECH_SCRAM_SHA_256);
}


static void
test_scram512_channel_binding_final(void **state)
{
    (void) state;
    scram_channel_binding_final(HOOP_SASL_MECH_SCRAM_SHA_512);
}


/*
 * An unknown user (or one without a credential for the mechanism) goes
 * through the same steps as a wrong password: a server-first of the same
 * shape and length, a refused client-final with the same message.
 */
static void
scram_unknown_like_wrong(hoop_sasl_mech_t mech)
{
    static const struct {
        const char  *user;
        const char  *pw;
        const char  *reason;
    } cases[] = {
        { "alice", "wrong-secret", "proof check failed" },
        { "mallo", "alice-secret", "unknown user \"mallo\"" },
        { "bob", "bob-secret", "\"bob\" has no credential" },
        { "alice", "alice-secreT", "proof check failed" },
        { "alicf", "alice-secret", "unknown user \"alicf\"" },
    };
    tclient_t            t;
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen, sflen, i;
    char                *final, *sf;
    int                  k;

    for (k = 0; k < 2; k++) {
        sflen = 0;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            tclient_first(&t, mech, "n,,", cases[i].user, NULL);
            s = tfirst(mech, t.first, HOOP_SASL_CONTINUE, &out, &outlen);

            /* users of 3 or 5 letters: the same length when the salt and
             * iteration count look alike */
            sf = strndup((const char *) out, outlen);
            assert_non_null(strstr(sf, ",i=4096"));
            if (strlen(cases[i].user) == 5) {
                if (sflen == 0) {
                    sflen = outlen;
                }
                assert_int_equal(outlen, sflen);
            }
            free(sf);

            final = tclient_final_opts(&t, "n,,", cases[i].pw,
                                       (const char *) out, outlen,
                                       k ? &librdkafka_like : &java_like);
            assert_int_equal(hoop_sasl_server_step(s,
                                 (const uint8_t *) final, strlen(final),
                                 &out, &outlen), HOOP_SASL_FAILED);
            assert_null(out);
            assert_string_equal(hoop_sasl_server_client_message(s),
                                MSG_FAILED);
            if (strstr(hoop_sasl_server_reason(s), cases[i].reason) == NULL)
            {
                fail_msg("%s: reason \"%s\" lacks \"%s\"", cases[i].user,
                         hoop_sasl_server_reason(s), cases[i].reason);
            }

            hoop_sasl_server_free(s);
            tclient_free(&t);
        }
    }
}


static void
test_scram256_unknown_like_wrong(void **state)
{
    (void) state;
    scram_unknown_like_wrong(HOOP_SASL_MECH_SCRAM_SHA_256);
}


static void
test_scram512_unknown_like_wrong(void **state)
{
    (void) state;
    scram_unknown_like_wrong(HOOP_SASL_MECH_SCRAM_SHA_512);
}


/* one client-final that the server accepts (a fixed server nonce), then
 * every change of one byte, every deletion of one byte and every cut of
 * it: all refused */
static hoop_sasl_rc_t
final_to_fresh_server(hoop_sasl_mech_t mech, const char *first,
    const char *final, size_t len)
{
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen;
    hoop_sasl_rc_t       rc;

    s = tfirst(mech, first, HOOP_SASL_CONTINUE, &out, &outlen);
    rc = hoop_sasl_server_step(s, (const uint8_t *) final, len, &out,
                               &outlen);
    if (rc == HOOP_SASL_FAILED) {
        assert_null(out);
        assert_null(hoop_sasl_server_principal(s));
        assert_true(strlen(hoop_sasl_server_client_message(s)) > 0);
        assert_true(strlen(hoop_sasl_server_reason(s)) > 0);
    }
    hoop_sasl_server_free(s);

    return rc;
}


static void
scram_single_byte_changes(hoop_sasl_mech_t mech)
{
    static const uint8_t  flips[] = { 0x01, 0x20, 0x80 };
    tclient_t             t;
    hoop_sasl_server_t   *s;
    const uint8_t        *out;
    size_t                outlen, len, i, f;
    char                 *good, *bad;
    int                   k;

    hoop_sasl_server_test_snonce = "0123456789abcdefghijklmn";

    for (k = 0; k < 2; k++) {
        tclient_first(&t, mech, "n,,", "alice", ",tokenauth=false");
        s = tfirst(mech, t.first, HOOP_SASL_CONTINUE, &out, &outlen);
        good = strdup(tclient_final_opts(&t, "n,,", "alice-secret",
                                         (const char *) out, outlen,
                                         k ? &librdkafka_like : &java_like));
        hoop_sasl_server_free(s);

        len = strlen(good);
        assert_int_equal(final_to_fresh_server(mech, t.first, good, len),
                         HOOP_SASL_OK);

        bad = malloc(len + 1);

        for (i = 0; i < len; i++) {
            for (f = 0; f < sizeof(flips); f++) {
                memcpy(bad, good, len + 1);
                bad[i] = (char) (bad[i] ^ flips[f]);
                if (final_to_fresh_server(mech, t.first, bad, len)
                    != HOOP_SASL_FAILED)
                {
                    fail_msg("byte %zu ^ 0x%02x of \"%s\" accepted", i,
                             flips[f], good);
                }
            }

            /* without byte i */
            memcpy(bad, good, i);
            memcpy(bad + i, good + i + 1, len - i);
            assert_int_equal(final_to_fresh_server(mech, t.first, bad,
                                                   len - 1),
                             HOOP_SASL_FAILED);

            /* the first i bytes */
            assert_int_equal(final_to_fresh_server(mech, t.first, good, i),
                             HOOP_SASL_FAILED);
        }

        free(bad);
        free(good);
        tclient_free(&t);
    }

    hoop_sasl_server_test_snonce = NULL;
}


static void
test_scram256_single_byte_changes(void **state)
{
    (void) state;
    scram_single_byte_changes(HOOP_SASL_MECH_SCRAM_SHA_256);
}


static void
test_scram512_single_byte_changes(void **state)
{
    (void) state;
    scram_single_byte_changes(HOOP_SASL_MECH_SCRAM_SHA_512);
}


/* client-finals that are not one: "@" is the nonce of server-first, "P"
 * a proof of the right length */
static void
scram_garbled_final(hoop_sasl_mech_t mech)
{
    static const struct {
        const char  *final;
        const char  *msg;
    } cases[] = {
        { "c=biws", MSG_MALFORMED },
        { "c=biws,r=@", MSG_MALFORMED },
        { "c=biws,r=@,p=", MSG_MALFORMED },
        { "c=biws,r=@,p=AAAA", MSG_MALFORMED },
        { "c=biws,r=@,p=PAAAA", MSG_MALFORMED },
        { "c=biws,r=@,p=P,x=1", MSG_MALFORMED },
        { "c=biws,r=@,p=P,", MSG_MALFORMED },
        { "c=biws,r=@,p=P=", MSG_MALFORMED },
        { "c=biws,r=@,p=P\n", MSG_MALFORMED },
        { "c=biws,r=@,p= P", MSG_MALFORMED },
        { "r=@,c=biws,p=P", MSG_MALFORMED },
        { "c=biws,p=P", MSG_MALFORMED },
        { "c=biws,r=,p=P", MSG_MALFORMED },
        { "c=biws,r=@,,p=P", MSG_MALFORMED },
        { "c=biws,r=@,1=x,p=P", MSG_MALFORMED },
        { "c=biws,r=@,x=,p=P", MSG_MALFORMED },
        { "c=biws,r=@,x=\xc3\xa9,p=P", MSG_MALFORMED },
        { "c=biws,r=@ ,p=P", MSG_MALFORMED },
        { "c=biws,r=@\x7f,p=P", MSG_MALFORMED },
        { "C=biws,r=@,p=P", MSG_MALFORMED },
        { "c=biws,R=@,p=P", MSG_MALFORMED },
        { "c=biws,r=@,P=P", MSG_MALFORMED },
        { ",p=P", MSG_MALFORMED },
        { "p=P", MSG_MALFORMED },
        { "c=,p=P", MSG_MALFORMED },
        { "c=biws,r=@,p=P", MSG_FAILED },          /* a wrong proof */
        { "c=biws,r=x@,p=P", MSG_FAILED },
        { "c=biws,r=@,x=1,p=P", MSG_FAILED },
        { "c=biws,r=@x,p=P", MSG_FAILED },         /* the nonce */
        { "c=eSws,r=@,p=P", MSG_FAILED },          /* c= of "y,," */
    };
    hoop_sasl_server_t  *s;
    const uint8_t       *out;
    size_t               outlen, i, k, n, plen;
    char                 nonce[256], proof[128], *msg, *big;
    const char          *c, *sf;

    plen = mech == HOOP_SASL_MECH_SCRAM_SHA_512 ? 88 : 44;
    memset(proof, 'A', plen);
    memset(proof + plen - (plen == 88 ? 2 : 1), '=', plen == 88 ? 2 : 1);
    proof[plen] = '\0';

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]) + 3; i++) {
        s = tfirst(mech, "n,,n=alice,r=" CNONCE, HOOP_SASL_CONTINUE, &out,
                   &outlen);
        sf = (const char *) out;
        n = (size_t) ((const char *) memchr(sf, ',', outlen) - sf) - 2;
        assert_true(n < sizeof(nonce));
        memcpy(nonce, sf + 2, n);
        nonce[n] = '\0';

        if (i < sizeof(cases) / sizeof(cases[0])) {
            msg = malloc(strlen(cases[i].final) * 100 + 1);
            k = 0;
            for (c = cases[i].final; *c; c++) {
                if (*c == '@') {
                    k += (size_t) sprintf(msg + k, "%s", nonce);
                } else if (*c == 'P' && c > cases[i].final && c[-1] == '=') {
                    k += (size_t) sprintf(msg + k, "%s", proof);
                } else {
                    msg[k++] = *c;
                }
            }
            msg[k] = '\0';

            if (hoop_sasl_server_step(s, (const uint8_t *) msg, k, &out,
                                      &outlen) != HOOP_SASL_FAILED)
            {
                fail_msg("\"%s\" accepted", msg);
            }
            if (strcmp(hoop_sasl_server_client_message(s), cases[i].msg)
                != 0)
            {
                fail_msg("\"%s\": \"%s\" (%s)", msg,
                         hoop_sasl_server_client_message(s),
                         hoop_sasl_server_reason(s));
            }
            free(msg);

        } else if (i == sizeof(cases) / sizeof(cases[0])) {
            /* longer than HOOP_SASL_SCRAM_MSG_MAX */
            big = malloc(HOOP_SASL_SCRAM_MSG_MAX + 256);
            k = (size_t) sprintf(big, "c=biws,r=%s,x=", nonce);
            memset(big + k, 'a', HOOP_SASL_SCRAM_MSG_MAX);
            k += HOOP_SASL_SCRAM_MSG_MAX;
            k += (size_t) sprintf(big + k, ",p=%s", proof);
            assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) big,
                                                   k, &out, &outlen),
                             HOOP_SASL_FAILED);
            assert_string_equal(hoop_sasl_server_client_message(s),
                                MSG_MALFORMED);
            free(big);

        } else if (i == sizeof(cases) / sizeof(cases[0]) + 1) {
            /* a NUL inside */
            msg = xasprintf("c=biws,r=%s,p=%s", nonce, proof);
            msg[7] = '\0';
            assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) msg,
                                                   strlen(msg + 8) + 8, &out,
                                                   &outlen),
                             HOOP_SASL_FAILED);
            assert_string_equal(hoop_sasl_server_client_message(s),
                                MSG_MALFORMED);
            free(msg);

        } else {
            /* NULL input */
            assert_int_equal(hoop_sasl_server_step(s, NULL, 0, &out,
                                                   &outlen),
                             HOOP_SASL_FAILED);
        }

        assert_null(out);
        assert_int_equal(outlen, 0);

        /* failed for good */
        assert_int_equal(hoop_sasl_server_step(s, (const uint8_t *) "x", 1,
                                               &out, &outlen),
                         HOOP_SASL_FAILED);
        hoop_sasl_server_free(s);
    }
}


static void
test_scram256_garbled_final(void **state)
{
    (void) state;
    scram_garbled_final(HOOP_SASL_MECH_SCRAM_SHA_256);
}


static void
test_scram512_garbled_final(void **state)
{
    (void) state;
    scram_garbled_final(HOOP_SASL_MECH_SCRAM_SHA_512);
}


/* init and done are counted; every mechanism is on after init */
static void
test_scram_init_counts(void **state)
{
    char  err[256];

    (void) state;

    assert_true(hoop_sasl_server_mech_enabled(HOOP_SASL_MECH_PLAIN));
    assert_true(hoop_sasl_server_mech_enabled(HOOP_SASL_MECH_SCRAM_SHA_256));
    assert_true(hoop_sasl_server_mech_enabled(HOOP_SASL_MECH_SCRAM_SHA_512));
    assert_false(hoop_sasl_server_mech_enabled(HOOP_SASL_MECH_NONE));
    assert_null(hoop_sasl_server_start(HOOP_SASL_MECH_NONE, fx.store));
    assert_null(hoop_sasl_server_start(HOOP_SASL_MECH_PLAIN, NULL));

    strcpy(err, "x");
    assert_int_equal(hoop_sasl_server_init(err, sizeof(err)), 0);
    assert_string_equal(err, "");
    hoop_sasl_server_done();

    /* still initialised by group_setup */
    assert_true(hoop_sasl_server_mech_enabled(HOOP_SASL_MECH_SCRAM_SHA_512));
}



/* --- the client side ------------------------------------------------------ */

static void
test_client_plain(void **state)
{
    hoop_sasl_client_t  *c;
    const uint8_t       *out;
    size_t               outlen;
    char                 err[256];

    (void) state;

    c = hoop_sasl_client_start(HOOP_SASL_MECH_PLAIN, "gw",
                               (const uint8_t *) "s3cret", 6, err,
                               sizeof(err));
    assert_non_null(c);
    assert_int_equal(hoop_sasl_client_mech(c), HOOP_SASL_MECH_PLAIN);

    assert_int_equal(hoop_sasl_client_step(c, NULL, 0, &out, &outlen),
                     HOOP_SASL_CONTINUE);
    assert_int_equal(outlen, 10);
    assert_memory_equal(out, "\0gw\0s3cret", 10);

    assert_int_equal(hoop_sasl_client_step(c, (const uint8_t *) "", 0, &out,
                                           &outlen), HOOP_SASL_OK);
    assert_int_equal(outlen, 0);
    assert_int_equal(hoop_sasl_client_step(c, (const uint8_t *) "", 0, &out,
                                           &outlen), HOOP_SASL_FAILED);
    assert_null(out);
    hoop_sasl_client_free(c);

    /* a broker answering PLAIN with data is not a broker we know */
    c = hoop_sasl_client_start(HOOP_SASL_MECH_PLAIN, "gw",
                               (const uint8_t *) "s3cret", 6, err,
                               sizeof(err));
    assert_int_equal(hoop_sasl_client_step(c, NULL, 0, &out, &outlen),
                     HOOP_SASL_CONTINUE);
    assert_int_equal(hoop_sasl_client_step(c, (const uint8_t *) "x", 1, &out,
                                           &outlen), HOOP_SASL_FAILED);
    assert_non_null(strstr(hoop_sasl_client_reason(c), "unexpected"));
    assert_null(strstr(hoop_sasl_client_reason(c), "s3cret"));
    hoop_sasl_client_free(c);

    /* against our server */
    assert_int_equal(run_exchange(HOOP_SASL_MECH_PLAIN, "alice",
                                  "alice-secret", NULL, NULL), HOOP_SASL_OK);
    assert_int_equal(run_exchange(HOOP_SASL_MECH_PLAIN, "alice", "x", NULL,
                                  NULL), HOOP_SASL_FAILED);

    /* arguments */
    assert_null(hoop_sasl_client_start(HOOP_SASL_MECH_PLAIN, "",
                                       (const uint8_t *) "x", 1, err,
                                       sizeof(err)));
    assert_null(hoop_sasl_client_start(HOOP_SASL_MECH_PLAIN, NULL,
                                       (const uint8_t *) "x", 1, err,
                                       sizeof(err)));
    assert_null(hoop_sasl_client_start(HOOP_SASL_MECH_PLAIN, "gw",
                                       (const uint8_t *) "x", 0, err,
                                       sizeof(err)));
    assert_null(hoop_sasl_client_start(HOOP_SASL_MECH_PLAIN, "gw",
                                       (const uint8_t *) "a\0b", 3, err,
                                       sizeof(err)));
    assert_null(hoop_sasl_client_start(HOOP_SASL_MECH_NONE, "gw",
                                       (const uint8_t *) "x", 1, err,
                                       sizeof(err)));
    hoop_sasl_client_free(NULL);
}


/* the client checks the server's signature and the nonce */
static void
client_checks_server(hoop_sasl_mech_t mech)
{
    hoop_sasl_client_t  *c;
    hoop_sasl_server_t  *s;
    const uint8_t       *cout, *sout;
    size_t               coutlen, soutlen;
    char                 err[256], *bad, *first;
    int                  which;

    for (which = 0; which < 4; which++) {
        c = hoop_sasl_client_start(mech, "alice",
                                   (const uint8_t *) "alice-secret", 12, err,
                                   sizeof(err));
        assert_non_null(c);
        s = hoop_sasl_server_start(mech, fx.store);

        assert_int_equal(hoop_sasl_client_step(c, NULL, 0, &cout, &coutlen),
                         HOOP_SASL_CONTINUE);

        /* Kafka's form: no channel binding, no authzid */
        assert_memory_equal(cout, "n,,n=alice,r=", 13);
        first = strndup((const char *) cout, coutlen);

        assert_int_equal(hoop_sasl_server_step(s, cout, coutlen, &sout,
                                               &soutlen), HOOP_SASL_CONTINUE);

        if (which == 2) {
            /* a server nonce that does not extend ours */
            bad = strndup((const char *) sout, soutlen);
            bad[3] ^= 1;
            assert_int_equal(hoop_sasl_client_step(c, (const uint8_t *) bad,
                                                   strlen(bad), &cout,
                                                   &coutlen),
                             HOOP_SASL_FAILED);
            free(bad);
            goto next;
        }

        if (which == 3) {
            /* an iteration count Cyrus refuses */
            bad = strndup((const char *) sout, soutlen);
            *strstr(bad, ",i=") = '\0';
            {
                char *x = xasprintf("%s,i=100000", bad);
                assert_int_equal(hoop_sasl_client_step(c,
                                     (const uint8_t *) x, strlen(x), &cout,
                                     &coutlen), HOOP_SASL_FAILED);
                free(x);
            }
            free(bad);
            goto next;
        }

        assert_int_equal(hoop_sasl_client_step(c, sout, soutlen, &cout,
                                               &coutlen), HOOP_SASL_CONTINUE);
        assert_int_equal(hoop_sasl_server_step(s, cout, coutlen, &sout,
                                               &soutlen), HOOP_SASL_OK);

        bad = strndup((const char *) sout, soutlen);
        if (which == 0) {
            bad[4] = bad[4] == 'A' ? 'B' : 'A';     /* a bad signature */
        } else {
            bad[0] = 'e';                           /* "e=..." */
        }

        assert_int_equal(hoop_sasl_client_step(c, (const uint8_t *) bad,
                                               strlen(bad), &cout, &coutlen),
                         HOOP_SASL_FAILED);
        assert_true(strlen(hoop_sasl_client_reason(c)) > 0);
        free(bad);

    next:

        free(first);
        hoop_sasl_client_free(c);
        hoop_sasl_server_free(s);
    }
}


static void
test_client_scram256_checks_server(void **state)
{
    (void) state;
    client_checks_server(HOOP_SASL_MECH_SCRAM_SHA_256);
}


static void
test_client_scram512_checks_server(void **state)
{
    (void) state;
    client_checks_server(HOOP_SASL_MECH_SCRAM_SHA_512);
}


/* many exchanges interleaved: no shared state between them */
static void
test_interleaved(void **state)
{
    enum { N = 6 };
    hoop_sasl_client_t  *c[N];
    hoop_sasl_server_t  *s[N];
    const uint8_t       *cout[N], *sout;
    size_t               coutlen[N], soutlen;
    hoop_sasl_mech_t     mech;
    char                 err[256];
    int                  i, round;

    (void) state;

    for (i = 0; i < N; i++) {
        mech = i % 2 ? HOOP_SASL_MECH_SCRAM_SHA_512
                     : HOOP_SASL_MECH_SCRAM_SHA_256;
        c[i] = hoop_sasl_client_start(mech, i < 4 ? "alice" : "mallory",
                                      (const uint8_t *) "alice-secret", 12,
                                      err, sizeof(err));
        s[i] = hoop_sasl_server_start(mech, fx.store);
        assert_int_equal(hoop_sasl_client_step(c[i], NULL, 0, &cout[i],
                                               &coutlen[i]),
                         HOOP_SASL_CONTINUE);
    }

    for (round = 0; round < 2; round++) {
        for (i = N - 1; i >= 0; i--) {
            hoop_sasl_rc_t  rc;

            rc = hoop_sasl_server_step(s[i], cout[i], coutlen[i], &sout,
                                       &soutlen);
            if (round == 0) {
                assert_int_equal(rc, HOOP_SASL_CONTINUE);
            } else {
                assert_int_equal(rc, i < 4 ? HOOP_SASL_OK : HOOP_SASL_FAILED);
                if (rc == HOOP_SASL_FAILED) {
                    continue;
                }
            }

            rc = hoop_sasl_client_step(c[i], sout, soutlen, &cout[i],
                                       &coutlen[i]);
            assert_int_equal(rc, round == 0 ? HOOP_SASL_CONTINUE
                                            : HOOP_SASL_OK);
        }
    }

    for (i = 0; i < N; i++) {
        hoop_sasl_client_free(c[i]);
        hoop_sasl_server_free(s[i]);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_mech_names),
        cmocka_unit_test(test_base64_utf8),
        cmocka_unit_test(test_scram_rfc7677_vector),
#ifdef HOOP_TEST_GSASL
        cmocka_unit_test(test_scram_derive_vs_gsasl),
#endif
        cmocka_unit_test(test_cred_parse_good),
        cmocka_unit_test(test_cred_parse_bad),
        cmocka_unit_test(test_cred_fake_shape),
        cmocka_unit_test(test_cred_sha512_plain),
        cmocka_unit_test(test_cred_store_reload),
        cmocka_unit_test(test_plain_good),
        cmocka_unit_test(test_plain_bad_password_unknown_user),
        cmocka_unit_test(test_plain_authzid_mismatch),
        cmocka_unit_test(test_plain_malformed),
        cmocka_unit_test(test_scram256_exchange),
        cmocka_unit_test(test_scram512_exchange),
        cmocka_unit_test(test_scram256_wrong_password_unknown_user),
        cmocka_unit_test(test_scram512_wrong_password_unknown_user),
        cmocka_unit_test(test_scram256_test_client),
        cmocka_unit_test(test_scram512_test_client),
        cmocka_unit_test(test_scram256_refused_first),
        cmocka_unit_test(test_scram512_refused_first),
        cmocka_unit_test(test_scram_unknown_user_looks_real),
        cmocka_unit_test(test_scram256_tampered),
        cmocka_unit_test(test_scram512_tampered),
#ifdef HOOP_TEST_GSASL
        cmocka_unit_test(test_scram256_gsasl_client),
#endif
        cmocka_unit_test_teardown(test_scram_rfc7677_exchange, reset_snonce),
        cmocka_unit_test(test_scram256_java_librdkafka),
        cmocka_unit_test(test_scram512_java_librdkafka),
        cmocka_unit_test(test_scram256_nonce_rules),
        cmocka_unit_test(test_scram512_nonce_rules),
        cmocka_unit_test(test_scram256_channel_binding_final),
        cmocka_unit_test(test_scram512_channel_binding_final),
        cmocka_unit_test(test_scram256_unknown_like_wrong),
        cmocka_unit_test(test_scram512_unknown_like_wrong),
        cmocka_unit_test_teardown(test_scram256_single_byte_changes,
                                  reset_snonce),
        cmocka_unit_test_teardown(test_scram512_single_byte_changes,
                                  reset_snonce),
        cmocka_unit_test(test_scram256_garbled_final),
        cmocka_unit_test(test_scram512_garbled_final),
        cmocka_unit_test(test_scram_init_counts),
        cmocka_unit_test(test_client_plain),
        cmocka_unit_test(test_client_scram256_checks_server),
        cmocka_unit_test(test_client_scram512_checks_server),
        cmocka_unit_test(test_interleaved),
    };

    return cmocka_run_group_tests_name("auth_sasl", tests, group_setup,
                                       group_teardown);
}
