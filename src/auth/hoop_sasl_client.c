/*
 * SASL client side with Cyrus SASL: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.
 * See hoop_sasl_client.h.
 *
 * Plain C99 + libsasl2 + OpenSSL; no nginx.
 */

#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE  200809L
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sasl/sasl.h>

#include "hoop_credentials.h"
#include "hoop_sasl_client.h"


#define HOOP_CYRUS_SERVICE   "kafka"
#define HOOP_CYRUS_PEER      "kafka-broker"

/* Cyrus stores callbacks as int (*)(void); going through void (*)(void)
 * tells the compiler the cast is deliberate */
#define HOOP_CYRUS_CB(f)     ((int (*)(void)) (void (*)(void)) (f))


typedef enum {
    HOOP_SASL_C_START = 0,
    HOOP_SASL_C_STEPPING,         /* the library expects server data */
    HOOP_SASL_C_LAST,             /* library done: await the broker's ok */
    HOOP_SASL_C_DONE,
    HOOP_SASL_C_FAILED
} hoop_sasl_client_state_t;


struct hoop_sasl_client_s {
    hoop_sasl_mech_t              mech;
    hoop_sasl_client_state_t      state;
    sasl_conn_t                  *conn;
    sasl_callback_t               cbs[4];
    char                         *user;
    sasl_secret_t                *secret;
    size_t                        secret_size;
    char                          reason[320];
};


static unsigned  hoop_sasl_client_inits;
static unsigned  hoop_sasl_client_mechs;      /* 1 << mech */

static hoop_sasl_rc_t hoop_sasl_client_fail(hoop_sasl_client_t *c,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int hoop_sasl_client_log(void *context, int level,
    const char *message);
static int hoop_sasl_client_simple(void *context, int id,
    const char **result, unsigned *len);
static int hoop_sasl_client_secret(sasl_conn_t *conn, void *context, int id,
    sasl_secret_t **psecret);


static sasl_callback_t  hoop_sasl_client_global_cbs[] = {
    { SASL_CB_LOG, HOOP_CYRUS_CB(hoop_sasl_client_log), NULL },
    { SASL_CB_LIST_END, NULL, NULL }
};

/* what a real exchange provides, for listing mechanisms (never called) */
static sasl_callback_t  hoop_sasl_client_probe_cbs[] = {
    { SASL_CB_AUTHNAME, HOOP_CYRUS_CB(hoop_sasl_client_simple), NULL },
    { SASL_CB_USER, HOOP_CYRUS_CB(hoop_sasl_client_simple), NULL },
    { SASL_CB_PASS, HOOP_CYRUS_CB(hoop_sasl_client_secret), NULL },
    { SASL_CB_LIST_END, NULL, NULL }
};


/* --- process set-up ------------------------------------------------------- */

int
hoop_sasl_client_init(char *err, size_t errlen)
{
    static const hoop_sasl_mech_t   all[] = {
        HOOP_SASL_MECH_PLAIN,
        HOOP_SASL_MECH_SCRAM_SHA_256,
        HOOP_SASL_MECH_SCRAM_SHA_512
    };
    int                             rc;
    size_t                          i, n;
    sasl_conn_t                    *conn;
    sasl_security_properties_t      sp;
    const char                     *list, *p, *name;
    char                            note[256];

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }

    if (hoop_sasl_client_inits > 0) {
        hoop_sasl_client_inits++;
        return 0;
    }

    rc = sasl_client_init(hoop_sasl_client_global_cbs);
    if (rc != SASL_OK) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "sasl_client_init: %s",
                     sasl_errstring(rc, NULL, NULL));
        }
        return -1;
    }

    /* which of ours the loaded plugins offer to a client that has a
     * user name and a password */

    hoop_sasl_client_mechs = 0;
    conn = NULL;
    memset(&sp, 0, sizeof(sp));

    if (sasl_client_new(HOOP_CYRUS_SERVICE, HOOP_CYRUS_PEER, NULL, NULL,
                        hoop_sasl_client_probe_cbs, 0, &conn) == SASL_OK
        && sasl_setprop(conn, SASL_SEC_PROPS, &sp) == SASL_OK
        && sasl_listmech(conn, NULL, "", " ", "", &list, NULL, NULL)
           == SASL_OK)
    {
        for (p = list; *p != '\0'; p += n) {
            p += strspn(p, " ");
            n = strcspn(p, " ");

            for (i = 0; i < 3; i++) {
                if (hoop_sasl_mech_parse(p, n) == all[i]) {
                    hoop_sasl_client_mechs |= 1u << all[i];
                }
            }
        }
    }

    if (conn != NULL) {
        sasl_dispose(&conn);
    }

    note[0] = '\0';

    for (i = 0; i < 3; i++) {
        if (hoop_sasl_client_mechs & (1u << all[i])) {
            continue;
        }

        name = hoop_sasl_mech_name(all[i]);
        n = strlen(note);
        snprintf(note + n, sizeof(note) - n, "%s%s", n ? ", " : "", name);
    }

    if (hoop_sasl_client_mechs == 0) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "Cyrus SASL offers none of PLAIN, "
                     "SCRAM-SHA-256, SCRAM-SHA-512 (install "
                     "libsasl2-modules, or set SASL_PATH)");
        }
        sasl_client_done();
        return -1;
    }

    if (note[0] != '\0' && err != NULL && errlen > 0) {
        snprintf(err, errlen, "Cyrus SASL client lacks %s (plugins of "
                 "libsasl2-modules)", note);
    }

    hoop_sasl_client_inits = 1;

    return 0;
}


void
hoop_sasl_client_done(void)
{
    if (hoop_sasl_client_inits == 0 || --hoop_sasl_client_inits > 0) {
        return;
    }

    hoop_sasl_client_mechs = 0;
    sasl_client_done();
}


int
hoop_sasl_client_mech_enabled(hoop_sasl_mech_t mech)
{
    if (hoop_sasl_client_inits == 0 || mech == HOOP_SASL_MECH_NONE) {
        return 0;
    }

    return (hoop_sasl_client_mechs & (1u << mech)) != 0;
}


/* --- exchanges ------------------------------------------------------------ */

hoop_sasl_client_t *
hoop_sasl_client_start(hoop_sasl_mech_t mech, const char *user,
    const uint8_t *pw, size_t pwlen, char *err, size_t errlen)
{
    hoop_sasl_client_t           *c;
    sasl_security_properties_t    sp;
    size_t                        ulen;
    int                           rc;

    if (!hoop_sasl_client_mech_enabled(mech)) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "%s is not enabled on the client side",
                     hoop_sasl_mech_name(mech));
        }
        return NULL;
    }

    ulen = user != NULL ? strlen(user) : 0;

    if (ulen == 0 || ulen > HOOP_CRED_NAME_MAX
        || !hoop_utf8_name_valid((const uint8_t *) user, ulen))
    {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "the user name must be 1..%d bytes of "
                     "UTF-8 without control characters", HOOP_CRED_NAME_MAX);
        }
        return NULL;
    }

    if (pw == NULL || pwlen == 0 || pwlen > HOOP_SASL_CLIENT_PASS_MAX
        || memchr(pw, '\0', pwlen) != NULL)
    {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "the password must be 1..%d bytes "
                     "without NUL", HOOP_SASL_CLIENT_PASS_MAX);
        }
        return NULL;
    }

    c = calloc(1, sizeof(hoop_sasl_client_t));
    if (c == NULL) {
        goto nomem;
    }

    c->mech = mech;

    c->user = malloc(ulen + 1);
    if (c->user == NULL) {
        goto nomem;
    }
    memcpy(c->user, user, ulen + 1);

    c->secret_size = sizeof(sasl_secret_t) + pwlen;
    c->secret = malloc(c->secret_size);
    if (c->secret == NULL) {
        goto nomem;
    }
    c->secret->len = pwlen;
    memcpy(c->secret->data, pw, pwlen);

    c->cbs[0].id = SASL_CB_AUTHNAME;
    c->cbs[0].proc = HOOP_CYRUS_CB(hoop_sasl_client_simple);
    c->cbs[0].context = c;
    c->cbs[1].id = SASL_CB_USER;        /* authzid: empty */
    c->cbs[1].proc = HOOP_CYRUS_CB(hoop_sasl_client_simple);
    c->cbs[1].context = c;
    c->cbs[2].id = SASL_CB_PASS;
    c->cbs[2].proc = HOOP_CYRUS_CB(hoop_sasl_client_secret);
    c->cbs[2].context = c;
    c->cbs[3].id = SASL_CB_LIST_END;

    rc = sasl_client_new(HOOP_CYRUS_SERVICE, HOOP_CYRUS_PEER, NULL, NULL,
                         c->cbs, SASL_SUCCESS_DATA, &c->conn);
    if (rc != SASL_OK) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "sasl_client_new: %s",
                     sasl_errstring(rc, NULL, NULL));
        }
        c->conn = NULL;
        hoop_sasl_client_free(c);
        return NULL;
    }

    memset(&sp, 0, sizeof(sp));         /* no security layer; PLAIN ok */
    rc = sasl_setprop(c->conn, SASL_SEC_PROPS, &sp);
    if (rc != SASL_OK) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "sasl_setprop: %s",
                     sasl_errdetail(c->conn));
        }
        hoop_sasl_client_free(c);
        return NULL;
    }

    return c;

nomem:

    if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "out of memory");
    }
    hoop_sasl_client_free(c);
    return NULL;
}


hoop_sasl_rc_t
hoop_sasl_client_step(hoop_sasl_client_t *c, const uint8_t *in,
    size_t inlen, const uint8_t **out, size_t *outlen)
{
    int          rc;
    const char  *o, *chosen;
    unsigned     olen;

    *out = NULL;
    *outlen = 0;

    if (in == NULL && inlen > 0) {
        return hoop_sasl_client_fail(c, "no input buffer");
    }

    o = NULL;
    olen = 0;

    switch (c->state) {

    case HOOP_SASL_C_START:
        if (inlen > 0) {
            return hoop_sasl_client_fail(c, "server data before the first "
                                         "client message");
        }

        chosen = NULL;
        rc = sasl_client_start(c->conn, hoop_sasl_mech_name(c->mech), NULL,
                               &o, &olen, &chosen);
        if (rc != SASL_OK && rc != SASL_CONTINUE) {
            return hoop_sasl_client_fail(c, "sasl_client_start: %s",
                                         sasl_errdetail(c->conn));
        }

        if (chosen == NULL
            || strcmp(chosen, hoop_sasl_mech_name(c->mech)) != 0)
        {
            return hoop_sasl_client_fail(c, "Cyrus SASL chose %s",
                                         chosen ? chosen : "nothing");
        }

        if (o == NULL || olen == 0) {
            return hoop_sasl_client_fail(c, "no initial response");
        }

        c->state = rc == SASL_OK ? HOOP_SASL_C_LAST : HOOP_SASL_C_STEPPING;
        break;

    case HOOP_SASL_C_STEPPING:
        if (inlen > 0xffffffffu) {
            return hoop_sasl_client_fail(c, "server message too long");
        }

        rc = sasl_client_step(c->conn, (const char *) in, (unsigned) inlen,
                              NULL, &o, &olen);

        if (rc == SASL_CONTINUE) {
            break;
        }

        if (rc != SASL_OK) {
            return hoop_sasl_client_fail(c, "%s: %s",
                                         hoop_sasl_mech_name(c->mech),
                                         sasl_errdetail(c->conn));
        }

        if (olen > 0) {
            /* data to send after the library is done: the broker's
             * answer to it ends the exchange */
            c->state = HOOP_SASL_C_LAST;
            break;
        }

        c->state = HOOP_SASL_C_DONE;
        *out = (const uint8_t *) "";
        return HOOP_SASL_OK;

    case HOOP_SASL_C_LAST:
        if (inlen > 0) {
            return hoop_sasl_client_fail(c, "%s: %zu unexpected bytes from "
                                         "the server after the last message",
                                         hoop_sasl_mech_name(c->mech), inlen);
        }

        c->state = HOOP_SASL_C_DONE;
        *out = (const uint8_t *) "";
        return HOOP_SASL_OK;

    case HOOP_SASL_C_DONE:
        return hoop_sasl_client_fail(c, "step after a completed exchange");

    default:
        return HOOP_SASL_FAILED;
    }

    *out = o != NULL ? (const uint8_t *) o : (const uint8_t *) "";
    *outlen = olen;

    return HOOP_SASL_CONTINUE;
}


static hoop_sasl_rc_t
hoop_sasl_client_fail(hoop_sasl_client_t *c, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);

    c->state = HOOP_SASL_C_FAILED;

    return HOOP_SASL_FAILED;
}


/* --- library callbacks ---------------------------------------------------- */

static int
hoop_sasl_client_log(void *context, int level, const char *message)
{
    /* quiet: reasons come from sasl_errdetail() */
    (void) context;
    (void) level;
    (void) message;

    return SASL_OK;
}


static int
hoop_sasl_client_simple(void *context, int id, const char **result,
    unsigned *len)
{
    hoop_sasl_client_t  *c = context;

    switch (id) {

    case SASL_CB_AUTHNAME:
        *result = c->user;
        break;

    case SASL_CB_USER:
        *result = "";                   /* no authzid */
        break;

    default:
        return SASL_BADPARAM;
    }

    if (len != NULL) {
        *len = (unsigned) strlen(*result);
    }

    return SASL_OK;
}


static int
hoop_sasl_client_secret(sasl_conn_t *conn, void *context, int id,
    sasl_secret_t **psecret)
{
    hoop_sasl_client_t  *c = context;

    (void) conn;

    if (id != SASL_CB_PASS || psecret == NULL) {
        return SASL_BADPARAM;
    }

    *psecret = c->secret;

    return SASL_OK;
}


/* --- results -------------------------------------------------------------- */

hoop_sasl_mech_t
hoop_sasl_client_mech(const hoop_sasl_client_t *c)
{
    return c->mech;
}


const char *
hoop_sasl_client_reason(const hoop_sasl_client_t *c)
{
    return c->state == HOOP_SASL_C_FAILED ? c->reason : "";
}


void
hoop_sasl_client_free(hoop_sasl_client_t *c)
{
    if (c == NULL) {
        return;
    }

    if (c->conn != NULL) {
        sasl_dispose(&c->conn);
    }

    if (c->secret != NULL) {
        OPENSSL_cleanse(c->secret, c->secret_size);
        free(c->secret);
    }

    free(c->user);

    OPENSSL_cleanse(c, sizeof(*c));
    free(c);
}
