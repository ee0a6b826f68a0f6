/*
 * hoop_oauthbearer: SASL OAUTHBEARER client messages (RFC 7628) and the
 * server error challenge.  See hoop_oauthbearer.h.
 */

/* POSIX.1-2008: st_mtim, O_CLOEXEC, strnlen, strcasecmp */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE  200809L
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "hoop_oauthbearer.h"


#define HOOP_KVSEP  0x01


static const char  *hoop_oauthbearer_rc_names[] = {
    "ok",
    "bad_argument",
    "no_memory",
    "too_large",
    "bad_gs2_header",
    "channel_binding",
    "bad_authzid",
    "bad_kvpair",
    "bad_terminator",
    "duplicate_key",
    "too_many_pairs",
    "no_auth",
    "not_bearer",
    "bad_token"
};


static int hoop_ob_fail(char *err, size_t errlen, int rc, const char *fmt,
    ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static char *hoop_ob_strdup(const unsigned char *s, size_t len);
static int hoop_ob_authzid(const unsigned char *p, size_t len, char **out);
static int hoop_ob_auth(const unsigned char *v, size_t len,
    hoop_oauthbearer_msg_t *out, char *err, size_t errlen);


static int
hoop_ob_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list  ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        (void) vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }

    return rc;
}


static char *
hoop_ob_strdup(const unsigned char *s, size_t len)
{
    char  *p;

    p = malloc(len + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


const char *
hoop_oauthbearer_rc_name(int rc)
{
    if (rc < 0
        || (size_t) rc
           >= sizeof(hoop_oauthbearer_rc_names) / sizeof(char *))
    {
        return "unknown";
    }

    return hoop_oauthbearer_rc_names[rc];
}


/*
 * saslname (RFC 5801 section 4), restricted to ASCII like Kafka's broker:
 * 1*(%x01-2B / %x2D-3C / %x3E-7F / "=2C" / "=3D"), decoded into *out.
 */

static int
hoop_ob_authzid(const unsigned char *p, size_t len, char **out)
{
    char    *d;
    size_t   i, n;

    if (len == 0) {
        return HOOP_OAUTHBEARER_ERR_AUTHZID;
    }

    d = malloc(len + 1);
    if (d == NULL) {
        return HOOP_OAUTHBEARER_ERR_NOMEM;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '=') {
            if (i + 2 < len && p[i + 1] == '2' && p[i + 2] == 'C') {
                d[n++] = ',';

            } else if (i + 2 < len && p[i + 1] == '3'
                       && p[i + 2] == 'D')
            {
                d[n++] = '=';

            } else {
                free(d);
                return HOOP_OAUTHBEARER_ERR_AUTHZID;
            }

            i += 2;
            continue;
        }

        if (p[i] == 0x00 || p[i] >= 0x80 || p[i] == ',') {
            free(d);
            return HOOP_OAUTHBEARER_ERR_AUTHZID;
        }

        d[n++] = (char) p[i];
    }

    d[n] = '\0';
    *out = d;

    return HOOP_OAUTHBEARER_OK;
}


/* auth value: "Bearer" 1*SP b64token (RFC 6750 section 2.1) */

static int
hoop_ob_auth(const unsigned char *v, size_t len, hoop_oauthbearer_msg_t *out,
    char *err, size_t errlen)
{
    size_t         i, sp, eq;
    unsigned char  c;

    if (len < 6 || strncasecmp((const char *) v, "Bearer", 6) != 0) {
        return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_SCHEME,
                            "auth is not \"Bearer <token>\"");
    }

    for (sp = 6; sp < len && v[sp] == ' '; sp++) {
        /* void */
    }

    if (sp == 6) {
        return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_SCHEME,
                            "auth is not \"Bearer <token>\"");
    }

    if (sp == len) {
        return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_TOKEN,
                            "empty bearer token");
    }

    /* b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
     *            *"=" */

    eq = 0;

    for (i = sp; i < len; i++) {
        c = v[i];

        if (c == '=') {
            eq++;
            continue;
        }

        if (eq || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                    || (c >= '0' && c <= '9') || c == '-' || c == '.'
                    || c == '_' || c == '~' || c == '+' || c == '/'))
        {
            return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_TOKEN,
                                "bearer token has a byte outside b64token "
                                "at offset %zu", i - sp);
        }
    }

    if (eq == len - sp) {
        return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_TOKEN,
                            "empty bearer token");
    }

    out->token = hoop_ob_strdup(v + sp, len - sp);
    if (out->token == NULL) {
        return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_NOMEM,
                            "out of memory");
    }

    out->token_len = len - sp;

    return HOOP_OAUTHBEARER_OK;
}


int
hoop_oauthbearer_parse(const unsigned char *buf, size_t len,
    hoop_oauthbearer_msg_t *out, char *err, size_t errlen)
{
    int                      rc;
    size_t                   pos, start, klen, vstart, i;
    unsigned char            c;
    const unsigned char     *comma;
    hoop_oauthbearer_ext_t  *e;

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }

    if (out != NULL) {
        memset(out, 0, sizeof(hoop_oauthbearer_msg_t));
    }

    if (buf == NULL || out == NULL) {
        return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_ARG,
                            "no message");
    }

    if (len > HOOP_OAUTHBEARER_MAX_LEN) {
        return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_TOO_LARGE,
                            "message is %zu bytes, more than %d", len,
                            HOOP_OAUTHBEARER_MAX_LEN);
    }

    /* gs2-header: gs2-cb-flag "," [gs2-authzid] "," */

    if (len < 2) {
        return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_GS2,
                            "message too short for a GS2 header");
    }

    if (buf[0] == 'p' && buf[1] == '=') {
        return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_CBIND,
                            "channel binding is not supported");
    }

    if ((buf[0] != 'n' && buf[0] != 'y') || buf[1] != ',') {
        return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_GS2,
                            "GS2 header does not start with \"n,\"");
    }

    pos = 2;

    if (pos < len && buf[pos] == 'a') {
        if (pos + 1 >= len || buf[pos + 1] != '=') {
            return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_GS2,
                                "GS2 authzid is not \"a=...\"");
        }

        pos += 2;

        comma = memchr(buf + pos, ',', len - pos);
        if (comma == NULL) {
            return hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_GS2,
                                "GS2 header is not terminated by \",\"");
        }

        rc = hoop_ob_authzid(buf + pos, (size_t) (comma - (buf + pos)),
                             &out->authzid);
        if (rc != HOOP_OAUTHBEARER_OK) {
            return hoop_ob_fail(err, errlen, rc,
                                rc == HOOP_OAUTHBEARER_ERR_NOMEM
                                ? "out of memory"
                                : "GS2 authzid is not a valid saslname");
        }

        pos = (size_t) (comma - buf);
    }

    if (pos >= len || buf[pos] != ',') {
        rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_GS2,
                          "GS2 header is not terminated by \",\"");
        goto failed;
    }

    pos++;

    if (pos >= len || buf[pos] != HOOP_KVSEP) {
        rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_KVPAIR,
                          "no \\x01 after the GS2 header");
        goto failed;
    }

    pos++;

    /* *kvpair kvsep */

    for ( ;; ) {
        if (pos >= len) {
            rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_TERMINATOR,
                              "message not terminated by \\x01\\x01");
            goto failed;
        }

        if (buf[pos] == HOOP_KVSEP) {
            pos++;
            break;
        }

        /* key = 1*ALPHA */

        start = pos;

        while (pos < len
               && ((buf[pos] >= 'A' && buf[pos] <= 'Z')
                   || (buf[pos] >= 'a' && buf[pos] <= 'z')))
        {
            pos++;
        }

        klen = pos - start;

        if (klen == 0 || pos >= len || buf[pos] != '=') {
            rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_KVPAIR,
                              "bad key at offset %zu", start);
            goto failed;
        }

        pos++;
        vstart = pos;

        /* value = *(VCHAR / SP / HTAB / CR / LF) */

        while (pos < len) {
            c = buf[pos];

            if (c == HOOP_KVSEP) {
                break;
            }

            if (!((c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t'
                  || c == '\r' || c == '\n'))
            {
                rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_KVPAIR,
                                  "bad byte 0x%02x in a value at offset %zu",
                                  c, pos);
                goto failed;
            }

            pos++;
        }

        if (pos >= len) {
            rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_TERMINATOR,
                              "message not terminated by \\x01\\x01");
            goto failed;
        }

        /* buf[pos] is the pair's kvsep */

        if (klen == 4 && memcmp(buf + start, "auth", 4) == 0) {
            if (out->token != NULL) {
                rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_DUPLICATE,
                                  "\"auth\" given twice");
                goto failed;
            }

            rc = hoop_ob_auth(buf + vstart, pos - vstart, out, err, errlen);
            if (rc != HOOP_OAUTHBEARER_OK) {
                goto failed;
            }

            pos++;
            continue;
        }

        for (i = 0; i < out->next; i++) {
            if (strlen(out->ext[i].key) == klen
                && memcmp(out->ext[i].key, buf + start, klen) == 0)
            {
                rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_DUPLICATE,
                                  "extension key given twice");
                goto failed;
            }
        }

        if (out->next >= HOOP_OAUTHBEARER_MAX_EXT) {
            rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_TOO_MANY,
                              "more than %d extensions",
                              HOOP_OAUTHBEARER_MAX_EXT);
            goto failed;
        }

        if (out->ext == NULL) {
            out->ext = calloc(HOOP_OAUTHBEARER_MAX_EXT,
                              sizeof(hoop_oauthbearer_ext_t));
            if (out->ext == NULL) {
                goto nomem;
            }
        }

        e = &out->ext[out->next];
        e->key = hoop_ob_strdup(buf + start, klen);
        e->value = hoop_ob_strdup(buf + vstart, pos - vstart);
        out->next++;

        if (e->key == NULL || e->value == NULL) {
            goto nomem;
        }

        pos++;
    }

    if (pos != len) {
        rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_TERMINATOR,
                          "%zu bytes after the final \\x01", len - pos);
        goto failed;
    }

    if (out->token == NULL) {
        rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_NO_AUTH,
                          "no \"auth\" key");
        goto failed;
    }

    return HOOP_OAUTHBEARER_OK;

nomem:

    rc = hoop_ob_fail(err, errlen, HOOP_OAUTHBEARER_ERR_NOMEM,
                      "out of memory");

failed:

    hoop_oauthbearer_msg_free(out);

    return rc;
}


void
hoop_oauthbearer_msg_free(hoop_oauthbearer_msg_t *m)
{
    size_t  i;

    if (m == NULL) {
        return;
    }

    free(m->authzid);
    free(m->token);

    for (i = 0; i < m->next; i++) {
        free(m->ext[i].key);
        free(m->ext[i].value);
    }

    free(m->ext);
    memset(m, 0, sizeof(hoop_oauthbearer_msg_t));
}


int
hoop_oauthbearer_is_ack(const unsigned char *buf, size_t len)
{
    return buf != NULL && len == 1 && buf[0] == HOOP_KVSEP;
}


size_t
hoop_oauthbearer_error(char *buf, size_t size, const char *status,
    const char *scope, const char *openid_config)
{
    size_t   n;
    json_t  *o;

    if (buf == NULL || size == 0) {
        return 0;
    }

    buf[0] = '\0';

    o = json_object();
    if (o == NULL) {
        return 0;
    }

    n = 0;

    /* json_string() returns NULL for invalid UTF-8: then n stays 0 */

    if (json_object_set_new(o, "status",
                            json_string(status ? status : "invalid_token"))
        != 0
        || (scope != NULL
            && json_object_set_new(o, "scope", json_string(scope)) != 0)
        || (openid_config != NULL
            && json_object_set_new(o, "openid-configuration",
                                   json_string(openid_config)) != 0))
    {
        goto done;
    }

    n = json_dumpb(o, buf, size, JSON_COMPACT | JSON_PRESERVE_ORDER);

    if (n == 0 || n >= size) {
        n = 0;
        buf[0] = '\0';
        goto done;
    }

    buf[n] = '\0';

done:

    json_decref(o);

    return n;
}
