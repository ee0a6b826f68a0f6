/*
 * SASL server side: PLAIN here, SCRAM-SHA-256 with GNU SASL, SCRAM-SHA-512
 * with Cyrus SASL.  See hoop_sasl_server.h.
 *
 * Plain C99 + libgsasl + libsasl2 + OpenSSL; no nginx.
 */

#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE  200809L
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsasl.h>
#include <openssl/crypto.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>

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

/* Cyrus names: our auxprop plugin, the application and service */
#define HOOP_CYRUS_AUXPROP   "hoop"
#define HOOP_CYRUS_APPNAME   "hoop"
#define HOOP_CYRUS_SERVICE   "kafka"
#define HOOP_CYRUS_FQDN      "hoop-gateway"

/* Cyrus stores callbacks as int (*)(void); going through void (*)(void)
 * tells the compiler the cast is deliberate */
#define HOOP_CYRUS_CB(f)     ((sasl_callback_ft) (void (*)(void)) (f))


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
    hoop_cred_scram_t             scram;

    Gsasl_session                *gs;
    char                         *gs_out;       /* gsasl_free() */

    sasl_conn_t                  *cy;
    sasl_callback_t               cy_cbs[2];
    char                         *cy_authpw;    /* authPassword value */

    const uint8_t                *out;
    size_t                        outlen;

    const char                   *client_msg;
    char                          reason[320];
};


typedef struct {
    unsigned                      cbflag;       /* 'n' or 'y' */
    char                          user[HOOP_CRED_NAME_MAX + 1];
    size_t                        user_len;
    char                          authzid[HOOP_CRED_NAME_MAX + 1];
    size_t                        authzid_len;
} hoop_sasl_scram_first_t;


static unsigned     hoop_sasl_server_inits;
static Gsasl       *hoop_gsasl;
static int          hoop_cyrus_ok;

static int hoop_sasl_server_fail(hoop_sasl_server_t *s, const char *msg,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static hoop_sasl_rc_t hoop_sasl_plain_step(hoop_sasl_server_t *s,
    const uint8_t *in, size_t inlen);
static hoop_sasl_rc_t hoop_sasl_scram_first(hoop_sasl_server_t *s,
    const uint8_t *in, size_t inlen);
static hoop_sasl_rc_t hoop_sasl_scram_final(hoop_sasl_server_t *s,
    const uint8_t *in, size_t inlen);
static int hoop_sasl_scram_first_parse(hoop_sasl_server_t *s,
    const uint8_t *in, size_t inlen, hoop_sasl_scram_first_t *cf);
static int hoop_sasl_saslname(const uint8_t *p, size_t len, char *dst,
    size_t *dstlen);
static int hoop_gsasl_callback(Gsasl *ctx, Gsasl_session *sctx,
    Gsasl_property prop);
static int hoop_cyrus_has_mech(const char *name);
static int hoop_cyrus_getopt(void *context, const char *plugin_name,
    const char *option, const char **result, unsigned *len);
static int hoop_cyrus_log(void *context, int level, const char *message);
static int hoop_cyrus_authorize(sasl_conn_t *conn, void *context,
    const char *requested_user, unsigned rlen, const char *auth_identity,
    unsigned alen, const char *def_realm, unsigned urlen,
    struct propctx *propctx);
static int hoop_cyrus_auxprop_init(const sasl_utils_t *utils,
    int max_version, int *out_version, sasl_auxprop_plug_t **plug,
    const char *plugname);
static int hoop_cyrus_auxprop_lookup(void *glob_context,
    sasl_server_params_t *sparams, unsigned flags, const char *user,
    unsigned ulen);


static sasl_callback_t  hoop_cyrus_global_cbs[] = {
    { SASL_CB_GETOPT, HOOP_CYRUS_CB(hoop_cyrus_getopt), NULL },
    { SASL_CB_LOG, HOOP_CYRUS_CB(hoop_cyrus_log), NULL },
    { SASL_CB_LIST_END, NULL, NULL }
};

static sasl_auxprop_plug_t  hoop_cyrus_auxprop = {
    0,                                  /* features */
    0,                                  /* spare_int1 */
    NULL,                               /* glob_context */
    NULL,                               /* auxprop_free */
    hoop_cyrus_auxprop_lookup,
    HOOP_CYRUS_AUXPROP,                 /* name */
    NULL                                /* auxprop_store */
};


/* --- process set-up ------------------------------------------------------- */

/* does Cyrus offer name to servers (its plugins, our mech_list)? */

static int
hoop_cyrus_has_mech(const char *name)
{
    sasl_conn_t                 *conn;
    sasl_security_properties_t   sp;
    const char                  *list, *p;
    size_t                       len;
    int                          found;

    if (sasl_server_new(HOOP_CYRUS_SERVICE, HOOP_CYRUS_FQDN, NULL, NULL, NULL,
                        NULL, 0, &conn) != SASL_OK)
    {
        return 0;
    }

    memset(&sp, 0, sizeof(sp));
    found = 0;
    len = strlen(name);

    if (sasl_setprop(conn, SASL_SEC_PROPS, &sp) == SASL_OK
        && sasl_listmech(conn, NULL, "", " ", "", &list, NULL, NULL)
           == SASL_OK)
    {
        for (p = list; (p = strstr(p, name)) != NULL; p += len) {
            if ((p == list || p[-1] == ' ')
                && (p[len] == '\0' || p[len] == ' '))
            {
                found = 1;
                break;
            }
        }
    }

    sasl_dispose(&conn);

    return found;
}


int
hoop_sasl_server_init(char *err, size_t errlen)
{
    int     rc;
    size_t  n;
    char    note[256];

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }

    if (hoop_sasl_server_inits++ > 0) {
        return 0;
    }

    note[0] = '\0';

    /* GNU SASL for SCRAM-SHA-256: 2.0 reads StoredKey/ServerKey */

    if (gsasl_check_version("2.0.0") == NULL) {
        snprintf(note, sizeof(note), "SCRAM-SHA-256 disabled: libgsasl %s "
                 "is older than 2.0.0; ", gsasl_check_version(NULL));

    } else {
        rc = gsasl_init(&hoop_gsasl);
        if (rc != GSASL_OK) {
            snprintf(note, sizeof(note), "SCRAM-SHA-256 disabled: "
                     "gsasl_init: %s; ", gsasl_strerror(rc));
            hoop_gsasl = NULL;

        } else if (!gsasl_server_support_p(hoop_gsasl, "SCRAM-SHA-256")) {
            snprintf(note, sizeof(note), "SCRAM-SHA-256 disabled: libgsasl "
                     "was built without it; ");
            gsasl_done(hoop_gsasl);
            hoop_gsasl = NULL;

        } else {
            gsasl_callback_set(hoop_gsasl, hoop_gsasl_callback);
        }
    }

    /* Cyrus SASL for SCRAM-SHA-512, with our auxprop plugin as the only
     * source of secrets (the getopt callback names it) */

    rc = sasl_server_init(hoop_cyrus_global_cbs, HOOP_CYRUS_APPNAME);
    if (rc != SASL_OK) {
        snprintf(note + strlen(note), sizeof(note) - strlen(note),
                 "SCRAM-SHA-512 disabled: sasl_server_init: %s",
                 sasl_errstring(rc, NULL, NULL));

    } else {
        rc = sasl_auxprop_add_plugin(HOOP_CYRUS_AUXPROP,
                                     hoop_cyrus_auxprop_init);

        if (rc != SASL_OK) {
            snprintf(note + strlen(note), sizeof(note) - strlen(note),
                     "SCRAM-SHA-512 disabled: sasl_auxprop_add_plugin: %s",
                     sasl_errstring(rc, NULL, NULL));
            sasl_server_done();

        } else if (!hoop_cyrus_has_mech("SCRAM-SHA-512")) {
            snprintf(note + strlen(note), sizeof(note) - strlen(note),
                     "SCRAM-SHA-512 disabled: Cyrus SASL has no scram "
                     "plugin (install libsasl2-modules)");
            sasl_server_done();

        } else {
            hoop_cyrus_ok = 1;
        }
    }

    n = strlen(note);
    if (n >= 2 && note[n - 2] == ';') {
        note[n - 2] = '\0';
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

    if (hoop_gsasl != NULL) {
        gsasl_done(hoop_gsasl);
        hoop_gsasl = NULL;
    }

    if (hoop_cyrus_ok) {
        sasl_server_done();
        hoop_cyrus_ok = 0;
    }
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
        return hoop_gsasl != NULL;
    case HOOP_SASL_MECH_SCRAM_SHA_512:
        return hoop_cyrus_ok;
    default:
        return 0;
    }
}


/* --- exchanges ------------------------------------------------------------ */

hoop_sasl_server_t *
hoop_sasl_server_start(hoop_sasl_mech_t mech, hoop_cred_store_t *store)
{
    hoop_sasl_server_t           *s;
    hoop_cred_set_t              *set;
    sasl_security_properties_t    sp;
    int                           rc;

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
    s->client_msg = "";

    switch (mech) {

    case HOOP_SASL_MECH_SCRAM_SHA_256:
        if (gsasl_server_start(hoop_gsasl, "SCRAM-SHA-256", &s->gs)
            != GSASL_OK)
        {
            s->gs = NULL;
            goto failed;
        }

        gsasl_session_hook_set(s->gs, s);
        break;

    case HOOP_SASL_MECH_SCRAM_SHA_512:
        /* the proxy-policy callback's context is how our auxprop plugin
         * finds this exchange */
        s->cy_cbs[0].id = SASL_CB_PROXY_POLICY;
        s->cy_cbs[0].proc = HOOP_CYRUS_CB(hoop_cyrus_authorize);
        s->cy_cbs[0].context = s;
        s->cy_cbs[1].id = SASL_CB_LIST_END;

        rc = sasl_server_new(HOOP_CYRUS_SERVICE, HOOP_CYRUS_FQDN, NULL, NULL,
                             NULL, s->cy_cbs, SASL_SUCCESS_DATA, &s->cy);
        if (rc != SASL_OK) {
            s->cy = NULL;
            goto failed;
        }

        memset(&sp, 0, sizeof(sp));     /* no security layer */
        if (sasl_setprop(s->cy, SASL_SEC_PROPS, &sp) != SASL_OK) {
            goto failed;
        }
        break;

    default:
        break;
    }

    return s;

failed:

    hoop_sasl_server_free(s);
    return NULL;
}


hoop_sasl_rc_t
hoop_sasl_server_step(hoop_sasl_server_t *s, const uint8_t *in,
    size_t inlen, const uint8_t **out, size_t *outlen)
{
    hoop_sasl_rc_t  rc;

    *out = NULL;
    *outlen = 0;

    if (s->gs_out != NULL) {
        gsasl_free(s->gs_out);
        s->gs_out = NULL;
    }

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
            rc = hoop_sasl_scram_first(s, in, inlen);
        }
        break;

    case HOOP_SASL_S_FINAL:
        rc = hoop_sasl_scram_final(s, in, inlen);
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


static int
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
 * RFC 5802 section 7:
 *   client-first-message = gs2-header client-first-message-bare
 *   gs2-header      = gs2-cbind-flag "," [ authzid ] ","
 *   gs2-cbind-flag  = ("p=" cb-name) / "n" / "y"
 *   authzid         = "a=" saslname
 *   client-first-message-bare = [reserved-mext ","] username "," nonce
 *                               ["," extensions]
 *   username        = "n=" saslname     ("=2C" is ',', "=3D" is '=')
 *   nonce           = "r=" c-nonce      (printable except ',')
 * Kafka (KIP-84, KIP-48) writes extensions as ",key=value", key letters.
 */

static int
hoop_sasl_saslname(const uint8_t *p, size_t len, char *dst, size_t *dstlen)
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

    dst[n] = '\0';
    *dstlen = n;

    return 0;
}


static int
hoop_sasl_scram_first_parse(hoop_sasl_server_t *s, const uint8_t *in,
    size_t inlen, hoop_sasl_scram_first_t *cf)
{
    const uint8_t  *p, *q, *end, *key, *val;
    size_t          klen, vlen;
    char            esc[2][80];

    if (inlen < 10 || inlen > HOOP_SASL_SCRAM_MSG_MAX
        || memchr(in, '\0', inlen) != NULL)
    {
        goto malformed;
    }

    p = in;
    end = in + inlen;

    switch (*p) {
    case 'n':
    case 'y':
        cf->cbflag = *p++;
        break;
    case 'p':
        hoop_sasl_server_fail(s, HOOP_SASL_MSG_CBIND, "client requires "
                              "channel binding (gs2 flag 'p')");
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
            || hoop_sasl_saslname(p, (size_t) (q - p), cf->authzid,
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
        || hoop_sasl_saslname(p, (size_t) (q - p), cf->user, &cf->user_len)
           != 0
        || cf->user_len == 0
        || !hoop_utf8_name_valid((const uint8_t *) cf->user, cf->user_len))
    {
        goto malformed;
    }
    p = q + 1;

    if (end - p < 2 || p[0] != 'r' || p[1] != '=') {
        goto malformed;
    }
    p += 2;

    q = p;
    while (q < end && *q != ',') {
        if (*q < 0x21 || *q > 0x7e) {
            goto malformed;
        }
        q++;
    }

    if (q == p) {
        goto malformed;
    }
    p = q;

    /* extensions: ",key=value" */

    while (p < end) {
        p++;                            /* ',' */
        key = p;

        while (p < end && ((*p >= 'a' && *p <= 'z')
                           || (*p >= 'A' && *p <= 'Z')))
        {
            p++;
        }

        klen = (size_t) (p - key);
        if (klen == 0 || p == end || *p != '=') {
            goto malformed;
        }
        p++;

        val = p;
        while (p < end && *p != ',') {
            p++;
        }
        vlen = (size_t) (p - val);

        if (klen == 9 && memcmp(key, "tokenauth", 9) == 0) {
            if (vlen == 4 && (val[0] | 0x20) == 't' && (val[1] | 0x20) == 'r'
                && (val[2] | 0x20) == 'u' && (val[3] | 0x20) == 'e')
            {
                hoop_sasl_server_fail(s, HOOP_SASL_MSG_TOKEN,
                                      "delegation token (tokenauth=true) "
                                      "for \"%s\" refused: no token store",
                                      hoop_log_escape(esc[0], sizeof(esc[0]),
                                          cf->user, cf->user_len));
                return -1;
            }
            continue;
        }

        hoop_sasl_server_fail(s, HOOP_SASL_MSG_EXTENSION,
                              "unsupported extension \"%s\"",
                              hoop_log_escape(esc[0], sizeof(esc[0]),
                                              (const char *) key, klen));
        return -1;
    }

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


static hoop_sasl_rc_t
hoop_sasl_scram_first(hoop_sasl_server_t *s, const uint8_t *in,
    size_t inlen)
{
    hoop_sasl_scram_first_t   cf;
    int                       rc;
    size_t                    n;
    const char               *o;
    unsigned                  olen;
    char                      salt[4 * ((HOOP_CRED_SALT_MAX + 2) / 3) + 1];
    char                      stored[4 * ((HOOP_CRED_KEY_MAX + 2) / 3) + 1];
    char                      server[4 * ((HOOP_CRED_KEY_MAX + 2) / 3) + 1];

    if (hoop_sasl_scram_first_parse(s, in, inlen, &cf) != 0) {
        return HOOP_SASL_FAILED;
    }

    memcpy(s->user, cf.user, cf.user_len + 1);
    s->user_len = cf.user_len;

    /* the user's credential, or a fake one for unknown users */

    s->cred = hoop_cred_set_find(s->set, s->user, s->user_len);

    rc = hoop_cred_scram_get(s->set, s->cred, s->mech, s->user, s->user_len,
                             &s->scram);
    if (rc < 0) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_INTERNAL,
                                     "credential lookup failed (OpenSSL)");
    }

    s->real = rc;

    if (s->mech == HOOP_SASL_MECH_SCRAM_SHA_256) {
        n = 0;
        rc = gsasl_step(s->gs, (const char *) in, inlen, &s->gs_out, &n);
        if (rc != GSASL_NEEDS_MORE) {
            return hoop_sasl_server_fail(s, rc == GSASL_MECHANISM_PARSE_ERROR
                                         || rc == GSASL_AUTHENTICATION_ERROR
                                         ? HOOP_SASL_MSG_MALFORMED
                                         : HOOP_SASL_MSG_INTERNAL,
                                         "client-first refused by GNU SASL: "
                                         "%s", gsasl_strerror(rc));
        }

        s->out = (const uint8_t *) s->gs_out;
        s->outlen = n;
        s->state = HOOP_SASL_S_FINAL;

        return HOOP_SASL_CONTINUE;
    }

    /* SCRAM-SHA-512: the RFC 5803 value our auxprop plugin hands Cyrus */

    hoop_b64_encode(salt, s->scram.salt, s->scram.salt_len);
    hoop_b64_encode(stored, s->scram.stored_key, s->scram.key_len);
    hoop_b64_encode(server, s->scram.server_key, s->scram.key_len);

    n = sizeof("SCRAM-SHA-512$4294967295:$:") + strlen(salt) + strlen(stored)
        + strlen(server);

    s->cy_authpw = malloc(n);
    if (s->cy_authpw == NULL) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_INTERNAL,
                                     "out of memory");
    }

    snprintf(s->cy_authpw, n, "SCRAM-SHA-512$%u:%s$%s:%s",
             s->scram.iterations, salt, stored, server);

    OPENSSL_cleanse(stored, sizeof(stored));
    OPENSSL_cleanse(server, sizeof(server));

    o = NULL;
    olen = 0;
    rc = sasl_server_start(s->cy, "SCRAM-SHA-512", (const char *) in,
                           (unsigned) inlen, &o, &olen);
    if (rc != SASL_CONTINUE) {
        return hoop_sasl_server_fail(s, rc == SASL_BADPROT
                                     ? HOOP_SASL_MSG_MALFORMED
                                     : HOOP_SASL_MSG_INTERNAL,
                                     "client-first refused by Cyrus SASL: "
                                     "%s", sasl_errdetail(s->cy));
    }

    s->out = (const uint8_t *) o;
    s->outlen = olen;
    s->state = HOOP_SASL_S_FINAL;

    return HOOP_SASL_CONTINUE;
}


static hoop_sasl_rc_t
hoop_sasl_scram_final(hoop_sasl_server_t *s, const uint8_t *in,
    size_t inlen)
{
    int          rc, ok, bad_proof, malformed;
    size_t       n;
    const char  *o, *authid, *detail;
    unsigned     olen;
    char         esc[80];

    hoop_log_escape(esc, sizeof(esc), s->user, s->user_len);

    if (inlen == 0 || inlen > HOOP_SASL_SCRAM_MSG_MAX
        || memchr(in, '\0', inlen) != NULL)
    {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_MALFORMED,
                                     "malformed client-final message for "
                                     "\"%s\"", esc);
    }

    ok = 0;
    bad_proof = 0;
    malformed = 0;
    detail = "";

    if (s->mech == HOOP_SASL_MECH_SCRAM_SHA_256) {
        n = 0;
        rc = gsasl_step(s->gs, (const char *) in, inlen, &s->gs_out, &n);

        if (rc == GSASL_OK) {
            authid = gsasl_property_fast(s->gs, GSASL_AUTHID);
            ok = authid != NULL && strcmp(authid, s->user) == 0;
            s->out = (const uint8_t *) s->gs_out;
            s->outlen = n;

        } else if (rc == GSASL_AUTHENTICATION_ERROR
                   || rc == GSASL_NO_PASSWORD)
        {
            bad_proof = 1;

        } else if (rc == GSASL_MECHANISM_PARSE_ERROR
                   || rc == GSASL_BASE64_ERROR)
        {
            malformed = 1;
        }

        if (!ok) {
            detail = gsasl_strerror(rc);
        }

    } else {
        o = NULL;
        olen = 0;
        rc = sasl_server_step(s->cy, (const char *) in, (unsigned) inlen, &o,
                              &olen);

        if (rc == SASL_OK) {
            authid = NULL;
            if (sasl_getprop(s->cy, SASL_AUTHUSER, (const void **) &authid)
                != SASL_OK)
            {
                authid = NULL;
            }
            ok = authid != NULL && strcmp(authid, s->user) == 0;
            s->out = (const uint8_t *) o;
            s->outlen = olen;

        } else if (rc == SASL_BADAUTH || rc == SASL_NOUSER) {
            bad_proof = 1;

        } else if (rc == SASL_BADPROT) {
            malformed = 1;
        }

        if (!ok) {
            detail = sasl_errdetail(s->cy);
        }
    }

    if (ok && s->real && s->cred != NULL) {
        s->principal = s->cred;
        s->state = HOOP_SASL_S_DONE;
        return HOOP_SASL_OK;
    }

    if (malformed) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_MALFORMED,
                                     "malformed client-final message for "
                                     "\"%s\": %s", esc, detail);
    }

    if (!s->real) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_FAILED,
                                     s->cred == NULL
                                     ? "unknown user \"%s\""
                                     : "user \"%s\" has no credential for "
                                       "this mechanism", esc);
    }

    if (bad_proof) {
        return hoop_sasl_server_fail(s, HOOP_SASL_MSG_FAILED,
                                     "proof or nonce check failed for \"%s\" "
                                     "(wrong password, or a tampered or "
                                     "replayed message): %s", esc, detail);
    }

    return hoop_sasl_server_fail(s, HOOP_SASL_MSG_INTERNAL,
                                 "exchange for \"%s\" failed: %s", esc,
                                 ok ? "library reports another user"
                                    : detail);
}


/* --- library callbacks ---------------------------------------------------- */

/* GNU SASL asks for the SCRAM parameters of the user it parsed; we answer
 * from the credential looked up in hoop_sasl_scram_first(). */

static int
hoop_gsasl_callback(Gsasl *ctx, Gsasl_session *sctx, Gsasl_property prop)
{
    hoop_sasl_server_t  *s;
    const char          *authid;
    const uint8_t       *key;
    char                 buf[4 * ((HOOP_CRED_KEY_MAX + 2) / 3) + 1];
    int                  rc;

    (void) ctx;

    s = gsasl_session_hook_get(sctx);
    if (s == NULL) {
        return GSASL_NO_CALLBACK;
    }

    authid = gsasl_property_fast(sctx, GSASL_AUTHID);
    if (authid == NULL || strcmp(authid, s->user) != 0) {
        return GSASL_NO_CALLBACK;
    }

    switch (prop) {

    case GSASL_SCRAM_ITER:
        snprintf(buf, sizeof(buf), "%u", s->scram.iterations);
        break;

    case GSASL_SCRAM_SALT:
        hoop_b64_encode(buf, s->scram.salt, s->scram.salt_len);
        break;

    /* gsasl.h says "hex-encoded"; GNU SASL 2.x decodes base64 here */
    case GSASL_SCRAM_STOREDKEY:
    case GSASL_SCRAM_SERVERKEY:
        key = prop == GSASL_SCRAM_STOREDKEY ? s->scram.stored_key
                                            : s->scram.server_key;
        hoop_b64_encode(buf, key, s->scram.key_len);
        break;

    default:
        return GSASL_NO_CALLBACK;       /* never a password */
    }

    rc = gsasl_property_set(sctx, prop, buf);

    OPENSSL_cleanse(buf, sizeof(buf));

    return rc;
}


static int
hoop_cyrus_getopt(void *context, const char *plugin_name, const char *option,
    const char **result, unsigned *len)
{
    (void) context;
    (void) plugin_name;

    if (strcmp(option, "auxprop_plugin") == 0) {
        *result = HOOP_CYRUS_AUXPROP;

    } else if (strcmp(option, "mech_list") == 0) {
        *result = "SCRAM-SHA-512";

    } else {
        return SASL_FAIL;
    }

    if (len != NULL) {
        *len = (unsigned) strlen(*result);
    }

    return SASL_OK;
}


static int
hoop_cyrus_log(void *context, int level, const char *message)
{
    /* quiet: reasons come from sasl_errdetail() */
    (void) context;
    (void) level;
    (void) message;

    return SASL_OK;
}


/* authzid policy: the client-first check already refused a different
 * one; this is the library's own gate */

static int
hoop_cyrus_authorize(sasl_conn_t *conn, void *context,
    const char *requested_user, unsigned rlen, const char *auth_identity,
    unsigned alen, const char *def_realm, unsigned urlen,
    struct propctx *propctx)
{
    (void) conn;
    (void) context;
    (void) def_realm;
    (void) urlen;
    (void) propctx;

    if (rlen == 0
        || (rlen == alen && memcmp(requested_user, auth_identity, rlen) == 0))
    {
        return SASL_OK;
    }

    return SASL_NOAUTHZ;
}


static int
hoop_cyrus_auxprop_init(const sasl_utils_t *utils, int max_version,
    int *out_version, sasl_auxprop_plug_t **plug, const char *plugname)
{
    (void) utils;
    (void) plugname;

    if (max_version < SASL_AUXPROP_PLUG_VERSION) {
        return SASL_BADVERS;
    }

    *out_version = SASL_AUXPROP_PLUG_VERSION;
    *plug = &hoop_cyrus_auxprop;

    return SASL_OK;
}


/*
 * Cyrus's scram plugin asks for "*authPassword" (and "*userPassword",
 * which we never give) of the canonical user; we answer with the RFC 5803
 * value "SCRAM-SHA-512$iter:salt$StoredKey:ServerKey" of the exchange
 * whose proxy-policy callback context is on the connection.
 */

static int
hoop_cyrus_auxprop_lookup(void *glob_context, sasl_server_params_t *sparams,
    unsigned flags, const char *user, unsigned ulen)
{
    hoop_sasl_server_t     *s;
    sasl_callback_ft        proc;
    void                   *context;
    const struct propval   *pv;

    (void) glob_context;

    if (flags & SASL_AUXPROP_AUTHZID) {
        return SASL_OK;
    }

    proc = NULL;
    context = NULL;

    if (sparams->utils->getcallback(sparams->utils->conn,
                                    SASL_CB_PROXY_POLICY, &proc, &context)
        != SASL_OK
        || proc != HOOP_CYRUS_CB(hoop_cyrus_authorize)
        || context == NULL)
    {
        return SASL_NOUSER;
    }

    s = context;

    if (s->cy_authpw == NULL || ulen != s->user_len
        || memcmp(user, s->user, ulen) != 0)
    {
        return SASL_NOUSER;
    }

    for (pv = sparams->utils->prop_get(sparams->propctx);
         pv != NULL && pv->name != NULL;
         pv++)
    {
        if (strcmp(pv->name, "*authPassword") != 0) {
            continue;
        }

        if (pv->values != NULL) {
            sparams->utils->prop_erase(sparams->propctx, pv->name);
        }

        sparams->utils->prop_set(sparams->propctx, pv->name, s->cy_authpw,
                                 (int) strlen(s->cy_authpw));
    }

    return SASL_OK;
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

    if (s->gs_out != NULL) {
        gsasl_free(s->gs_out);
    }

    if (s->gs != NULL) {
        gsasl_finish(s->gs);
    }

    if (s->cy != NULL) {
        sasl_dispose(&s->cy);
    }

    if (s->cy_authpw != NULL) {
        OPENSSL_cleanse(s->cy_authpw, strlen(s->cy_authpw));
        free(s->cy_authpw);
    }

    hoop_cred_set_unref(s->set);

    OPENSSL_cleanse(s, sizeof(*s));
    free(s);
}
