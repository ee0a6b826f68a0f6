/*
 * libFuzzer target: arbitrary bytes into the SASL server steps (PLAIN,
 * SCRAM-SHA-256 with GNU SASL, SCRAM-SHA-512 with Cyrus SASL), into the
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
 * In the SCRAM modes, "r=@" in a later client message becomes the nonce
 * the server sent, so the fuzzer gets past the nonce check to the proof.
 *
 *   make -C fuzz smoke-sasl [SECONDS=60]
 */

#define _GNU_SOURCE

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hoop_credentials.h"
#include "hoop_sasl_client.h"
#include "hoop_sasl_server.h"


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


/* msg[0..len) with "r=@" replaced by "r=" nonce; malloc()ed */
static uint8_t *
with_nonce(const uint8_t *msg, size_t len, const char *nonce, size_t nlen,
    size_t *outlen)
{
    uint8_t  *out;
    size_t    i, n, count;

    count = 0;
    for (i = 0; nonce != NULL && i + 2 < len; i++) {
        if (msg[i] == 'r' && msg[i + 1] == '=' && msg[i + 2] == '@') {
            count++;
        }
    }

    out = malloc(len + count * nlen + 1);
    if (out == NULL) {
        abort();
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (nonce != NULL && i + 2 < len && msg[i] == 'r' && msg[i + 1] == '='
            && msg[i + 2] == '@')
        {
            memcpy(out + n, "r=", 2);
            memcpy(out + n + 2, nonce, nlen);
            n += 2 + nlen;
            i += 2;
            continue;
        }

        out[n++] = msg[i];
    }

    *outlen = n;
    return out;
}


static void
fuzz_server(hoop_sasl_mech_t mech, const uint8_t *data, size_t size)
{
    hoop_sasl_server_t  *s;
    hoop_sasl_rc_t       rc;
    const uint8_t       *p, *end, *nl, *out;
    uint8_t             *msg;
    size_t               outlen, len, nlen;
    char                 nonce[512];
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

    for (steps = 0; steps < 4; steps++) {
        nl = mech == HOOP_SASL_MECH_PLAIN ? NULL
                                          : memchr(p, '\n', (size_t) (end - p));
        len = (size_t) ((nl ? nl : end) - p);

        msg = with_nonce(p, len, have_nonce ? nonce : NULL, nlen, &len);
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
            break;
        }

        /* server-first: r=<nonce>,s=... */
        if (outlen > 2 && out[0] == 'r' && out[1] == '=') {
            q = memchr(out, ',', outlen);
            nlen = q ? (size_t) (q - (const char *) out) - 2 : 0;
            if (nlen < sizeof(nonce)) {
                memcpy(nonce, out + 2, nlen);
                have_nonce = 1;
            }
        }

        if (nl == NULL) {
            break;
        }
        p = nl + 1;
    }

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
