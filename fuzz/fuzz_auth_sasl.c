/*
 * libFuzzer target: arbitrary bytes into the SASL server steps (PLAIN,
 * SCRAM-SHA-256, SCRAM-SHA-512: the gateway's own SCRAM server), into the
 * SASL client's handling of server messages, and into the credential
 * file parser (src/auth).
 *
 * Input: a mode byte, then the data.
 *   0  credential file
 *   1  PLAIN message
 *   2  SCRAM-SHA-256 client messages, '\n' between them
 *   3  SCRAM-SHA-512 client messages, '\n' between them
 *   4  server messages for our client, '\n' between them; the next byte
 *      picks the mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)
 * In the SCRAM modes, in a client message after the first:
 *   '@'        becomes the nonce the server sent ("r=@" is the RFC form,
 *              "r=CNONCE@" librdkafka's), so the fuzzer gets past the
 *              nonce check;
 *   ",p=!"     at the end becomes the proof for the password
 *              "alice-secret" over the AuthMessage of this exchange, so
 *              it gets past the proof to success; then the server-final
 *              must be v=HMAC(ServerKey, AuthMessage), computed here, and
 *              the principal "alice".
 *
 *   make -C fuzz smoke-sasl [SECONDS=60]
 */

#define _GNU_SOURCE

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hoop_credentials.h"
#include "hoop_sasl_client.h"
#include "hoop_sasl_server.h"


#define FUZZ_PASSWORD  "alice-secret"
#define FUZZ_ITER_MAX  8192             /* keeps PBKDF2 quick */


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static hoop_cred_store_t  *store;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const struct {
        const char  *user;
        const char  *pw;
        unsigned     mechs;
    } users[] = {
        { "alice", "alice-secret", HOOP_CRED_WANT_ALL },
        { "bob", "bob-secret", HOOP_CRED_WANT_PLAIN },
        { "we,ird=name", "x", HOOP_CRED_WANT_SCRAM_256 },
    };
    const char        *groups[] = { "dev", "ops" };
    char              *text, *line, err[256];
    size_t             i, len;
    hoop_cred_set_t   *set;

    (void) argc;
    (void) argv;

    if (hoop_sasl_server_init(err, sizeof(err)) != 0
        || hoop_sasl_client_init(err, sizeof(err)) != 0)
    {
        fprintf(stderr, "fuzz_auth_sasl: init: %s\n", err);
        abort();
    }

    text = NULL;
    len = 0;

    for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        line = hoop_cred_entry_create(users[i].user, groups, 2,
                                      (const uint8_t *) users[i].pw,
                                      strlen(users[i].pw), users[i].mechs,
                                      HOOP_CRED_ITER_MIN_SCRAM,
                                      HOOP_CRED_ITER_MIN_PLAIN,
                                      HOOP_CRED_MD_SHA256, err, sizeof(err));
        if (line == NULL) {
            fprintf(stderr, "fuzz_auth_sasl: entry: %s\n", err);
            abort();
        }

        text = realloc(text, len + strlen(line) + 2);
        if (text == NULL) {
            abort();
        }
        memcpy(text + len, line, strlen(line));
        len += strlen(line);
        text[len++] = '\n';
        free(line);
    }

    set = hoop_cred_set_parse(text, len, err, sizeof(err));
    free(text);
    if (set == NULL) {
        fprintf(stderr, "fuzz_auth_sasl: parse: %s\n", err);
        abort();
    }

    store = hoop_cred_store_from_set(set);
    if (store == NULL) {
        abort();
    }

    return 0;
}


/* msg[0..len) with every '@' replaced by nonce[0..nlen) (when nonce is
 * not NULL); malloc()ed, room for a proof after it */
static uint8_t *
with_nonce(const uint8_t *msg, size_t len, const char *nonce, size_t nlen,
    size_t *outlen)
{
    uint8_t  *out;
    size_t    i, n, count;

    count = 0;
    for (i = 0; nonce != NULL && i < len; i++) {
        if (msg[i] == '@') {
            count++;
        }
    }

    out = malloc(len + count * nlen + 2 * EVP_MAX_MD_SIZE + 1);
    if (out == NULL) {
        abort();
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (nonce != NULL && msg[i] == '@') {
            memcpy(out + n, nonce, nlen);
            n += nlen;
            continue;
        }

        out[n++] = msg[i];
    }

    *outlen = n;
    return out;
}


/* the SCRAM keys of FUZZ_PASSWORD for a salt and iteration count: the
 * last one per mechanism is kept, PBKDF2 being the slow part */
typedef struct {
    char      salt_b64[128];
    unsigned  iter;
    uint8_t   client_key[EVP_MAX_MD_SIZE];
    uint8_t   stored_key[EVP_MAX_MD_SIZE];
    uint8_t   server_key[EVP_MAX_MD_SIZE];
} fuzz_keys_t;

static fuzz_keys_t  keys_cache[2];


static const fuzz_keys_t *
fuzz_keys(const EVP_MD *md, int idx, const char *sf, size_t sflen)
{
    fuzz_keys_t    *k;
    const char     *s, *i, *end;
    uint8_t         salt[128], salted[EVP_MAX_MD_SIZE];
    long            salt_len;
    unsigned long   iter;
    size_t          slen;
    unsigned        n;
    int             klen;

    end = sf + sflen;
    s = memmem(sf, sflen, ",s=", 3);
    i = memmem(sf, sflen, ",i=", 3);
    if (s == NULL || i == NULL || i < s) {
        return NULL;
    }

    s += 3;
    slen = (size_t) (i - s);
    if (slen >= sizeof(keys_cache[0].salt_b64)) {
        return NULL;
    }

    iter = 0;
    for (i += 3; i < end && *i >= '0' && *i <= '9'; i++) {
        iter = iter * 10 + (unsigned long) (*i - '0');
        if (iter > FUZZ_ITER_MAX) {
            return NULL;
        }
    }

    k = &keys_cache[idx];

    if (k->iter == iter && strlen(k->salt_b64) == slen
        && memcmp(k->salt_b64, s, slen) == 0)
    {
        return k;
    }

    salt_len = hoop_b64_decode(salt, sizeof(salt), s, slen);
    klen = EVP_MD_get_size(md);

    if (salt_len <= 0 || iter == 0
        || PKCS5_PBKDF2_HMAC(FUZZ_PASSWORD, sizeof(FUZZ_PASSWORD) - 1, salt,
                             (int) salt_len, (int) iter, md, klen, salted)
           != 1
        || HMAC(md, salted, klen, (const uint8_t *) "Client Key", 10,
                k->client_key, &n) == NULL
        || EVP_Digest(k->client_key, (size_t) klen, k->stored_key, &n, md,
                      NULL) != 1
        || HMAC(md, salted, klen, (const uint8_t *) "Server Key", 10,
                k->server_key, &n) == NULL)
    {
        k->iter = 0;
        return NULL;
    }

    memcpy(k->salt_b64, s, slen);
    k->salt_b64[slen] = '\0';
    k->iter = (unsigned) iter;

    return k;
}


/*
 * When msg[0..*len) ends with ",p=!", replaces the '!' with the proof of
 * FUZZ_PASSWORD over bare "," sf "," msg-without-",p=!" and puts the
 * expected server-final in v[0..*vlen).  msg has room for the proof.
 */
static void
fuzz_sign(hoop_sasl_mech_t mech, uint8_t *msg, size_t *len,
    const uint8_t *bare, size_t bare_len, const char *sf, size_t sflen,
    char *v, size_t *vlen)
{
    const EVP_MD       *md;
    const fuzz_keys_t  *k;
    uint8_t            *auth, sig[EVP_MAX_MD_SIZE], proof[EVP_MAX_MD_SIZE];
    size_t              wo, alen, i, klen;
    unsigned            n;

    *vlen = 0;

    if (*len < 4 || memcmp(msg + *len - 4, ",p=!", 4) != 0 || bare == NULL) {
        return;
    }

    md = mech == HOOP_SASL_MECH_SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
    k = fuzz_keys(md, mech == HOOP_SASL_MECH_SCRAM_SHA_512, sf, sflen);
    if (k == NULL) {
        return;
    }

    klen = (size_t) EVP_MD_get_size(md);
    wo = *len - 4;
    alen = bare_len + 1 + sflen + 1 + wo;

    auth = malloc(alen);
    if (auth == NULL) {
        abort();
    }

    memcpy(auth, bare, bare_len);
    auth[bare_len] = ',';
    memcpy(auth + bare_len + 1, sf, sflen);
    auth[bare_len + 1 + sflen] = ',';
    memcpy(auth + bare_len + 2 + sflen, msg, wo);

    if (HMAC(md, k->stored_key, (int) klen, auth, alen, sig, &n) == NULL) {
        abort();
    }
    for (i = 0; i < klen; i++) {
        proof[i] = k->client_key[i] ^ sig[i];
    }
    *len = wo + 3 + hoop_b64_encode((char *) msg + wo + 3, proof, klen);

    if (HMAC(md, k->server_key, (int) klen, auth, alen, sig, &n) == NULL) {
        abort();
    }
    v[0] = 'v';
    v[1] = '=';
    *vlen = 2 + hoop_b64_encode(v + 2, sig, klen);

    free(auth);
}


static void
fuzz_server(hoop_sasl_mech_t mech, const uint8_t *data, size_t size)
{
    hoop_sasl_server_t  *s;
    hoop_sasl_rc_t       rc;
    const uint8_t       *p, *end, *nl, *out, *bare, *c;
    uint8_t             *msg, *first;
    size_t               outlen, len, nlen, sflen, bare_len, vlen;
    char                 nonce[512], sf[8192], v[2 + 4 * 22 + 1];
    const char          *q;
    int                  steps, have_nonce;

    s = hoop_sasl_server_start(mech, store);
    if (s == NULL) {
        abort();
    }

    p = data;
    end = data + size;
    have_nonce = 0;
    nlen = 0;
    sflen = 0;
    first = NULL;
    bare = NULL;
    bare_len = 0;

    for (steps = 0; steps < 4; steps++) {
        nl = mech == HOOP_SASL_MECH_PLAIN ? NULL
                                          : memchr(p, '\n', (size_t) (end - p));
        len = (size_t) ((nl ? nl : end) - p);

        msg = with_nonce(p, len, have_nonce ? nonce : NULL, nlen, &len);
        vlen = 0;

        if (steps == 0 && mech != HOOP_SASL_MECH_PLAIN) {
            /* client-first-bare: after the gs2 header's second ',' */
            first = malloc(len + 1);
            if (first == NULL) {
                abort();
            }
            memcpy(first, msg, len);
            c = memchr(first, ',', len);
            c = c ? memchr(c + 1, ',', len - (size_t) (c + 1 - first)) : NULL;
            if (c != NULL) {
                bare = c + 1;
                bare_len = len - (size_t) (bare - first);
            }

        } else if (have_nonce) {
            fuzz_sign(mech, msg, &len, bare, bare_len, sf, sflen, v, &vlen);
        }

        rc = hoop_sasl_server_step(s, msg, len, &out, &outlen);
        free(msg);

        if (rc == HOOP_SASL_FAILED) {
            if (out != NULL || outlen != 0
                || hoop_sasl_server_principal(s) != NULL
                || hoop_sasl_server_reason(s)[0] == '\0'
                || hoop_sasl_server_client_message(s)[0] == '\0')
            {
                abort();
            }
            break;
        }

        if (out == NULL) {
            abort();
        }

        if (rc == HOOP_SASL_OK) {
            if (hoop_sasl_server_principal(s) == NULL) {
                abort();
            }

            /* SCRAM: only alice's password can have signed it, and the
             * server signature is the one computed here */
            if (mech != HOOP_SASL_MECH_PLAIN
                && (strcmp(hoop_sasl_server_principal(s), "alice") != 0
                    || vlen == 0 || outlen != vlen
                    || memcmp(out, v, vlen) != 0))
            {
                abort();
            }
            break;
        }

        /* server-first: r=<nonce>,s=... */
        if (outlen > 2 && out[0] == 'r' && out[1] == '=') {
            q = memchr(out, ',', outlen);
            nlen = q ? (size_t) (q - (const char *) out) - 2 : 0;
            if (nlen < sizeof(nonce) && outlen <= sizeof(sf)) {
                memcpy(nonce, out + 2, nlen);
                memcpy(sf, out, outlen);
                sflen = outlen;
                have_nonce = 1;
            }
        }

        if (nl == NULL) {
            break;
        }
        p = nl + 1;
    }

    free(first);
    hoop_sasl_server_free(s);
}


static void
fuzz_client(const uint8_t *data, size_t size)
{
    static const hoop_sasl_mech_t  mechs[] = {
        HOOP_SASL_MECH_PLAIN,
        HOOP_SASL_MECH_SCRAM_SHA_256,
        HOOP_SASL_MECH_SCRAM_SHA_512
    };
    hoop_sasl_client_t  *c;
    hoop_sasl_rc_t       rc;
    const uint8_t       *p, *end, *nl, *out, *i;
    size_t               outlen, len;
    unsigned long        iter;
    char                 err[256];
    int                  steps;

    if (size < 1) {
        return;
    }

    c = hoop_sasl_client_start(mechs[data[0] % 3], "alice",
                               (const uint8_t *) "alice-secret", 12, err,
                               sizeof(err));
    if (c == NULL) {
        abort();
    }

    rc = hoop_sasl_client_step(c, NULL, 0, &out, &outlen);
    if (rc != HOOP_SASL_CONTINUE) {
        abort();
    }

    p = data + 1;
    end = data + size;

    for (steps = 0; steps < 4; steps++) {
        nl = memchr(p, '\n', (size_t) (end - p));
        len = (size_t) ((nl ? nl : end) - p);

        /* keep executions fast: a large iteration count costs the
         * client that many HMACs */
        i = memmem(p, len, ",i=", 3);
        if (i != NULL) {
            iter = 0;
            for (i += 3; i < p + len && *i >= '0' && *i <= '9'; i++) {
                iter = iter * 10 + (unsigned long) (*i - '0');
                if (iter > 8192) {
                    break;
                }
            }
            if (iter > 8192) {
                break;
            }
        }

        rc = hoop_sasl_client_step(c, p, len, &out, &outlen);
        if (rc != HOOP_SASL_CONTINUE) {
            break;
        }

        if (nl == NULL) {
            break;
        }
        p = nl + 1;
    }

    hoop_sasl_client_free(c);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hoop_cred_set_t  *set;
    char              err[256];

    if (size < 1) {
        return 0;
    }

    err[0] = '\0';

    switch (data[0]) {

    case 0:
        set = hoop_cred_set_parse((const char *) data + 1, size - 1, err,
                                  sizeof(err));
        if (set == NULL && strlen(err) == 0) {
            abort();
        }
        hoop_cred_set_unref(set);
        break;

    case 1:
        fuzz_server(HOOP_SASL_MECH_PLAIN, data + 1, size - 1);
        break;

    case 2:
        fuzz_server(HOOP_SASL_MECH_SCRAM_SHA_256, data + 1, size - 1);
        break;

    case 3:
        fuzz_server(HOOP_SASL_MECH_SCRAM_SHA_512, data + 1, size - 1);
        break;

    case 4:
        fuzz_client(data + 1, size - 1);
        break;

    default:
        break;
    }

    return 0;
}
