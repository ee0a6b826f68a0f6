/*
 * Identity from the client certificate nginx verified (ssl_verify_client):
 * the subject DN in RFC 2253 form (as Kafka's X500Principal.getName()) or
 * a subjectAltName, mapped to a principal by hoop_mtls_principal_rule, the
 * way Kafka's ssl.principal.mapping.rules do (KIP-371).
 */

#include "hoop_auth.h"

#if (NGX_STREAM_SSL)
#include <openssl/x509v3.h>
#endif


#if (NGX_STREAM_SSL)

static ngx_int_t hoop_mtls_subject(ngx_connection_t *c, X509 *cert,
    ngx_str_t *out);
static ngx_int_t hoop_mtls_san(ngx_connection_t *c, X509 *cert, int type,
    ngx_str_t *out);
static ngx_int_t hoop_mtls_groups(ngx_connection_t *c, X509 *cert,
    hoop_identity_t *id);

#endif


/*
 * Applies the rules in order; the first that matches gives the principal,
 * its replacement with $1..$9 taken from the match.  No rules: the name
 * itself.  Rules but no match: NGX_DECLINED (Kafka refuses such a client).
 */

ngx_int_t
hoop_mtls_map(ngx_pool_t *pool, ngx_array_t *rules, ngx_str_t *name,
    ngx_str_t *principal)
{
    int                n, caps[30];
    u_char            *p, *r, *end;
    size_t             len;
    ngx_int_t          rc;
    ngx_uint_t         i, k;
    hoop_mtls_rule_t  *rule;

    if (rules == NULL || rules->nelts == 0) {
        *principal = *name;
        return NGX_OK;
    }

    rule = rules->elts;

    for (i = 0; i < rules->nelts; i++) {
        rc = ngx_regex_exec(rule[i].regex, name, caps, 30);

        if (rc == NGX_REGEX_NO_MATCHED) {
            continue;
        }

        if (rc < 0) {
            return NGX_ERROR;
        }

        n = (rc == 0) ? 10 : rc;

        /* two passes: the length, then the bytes */
        len = 0;
        r = rule[i].replacement.data;
        end = r + rule[i].replacement.len;

        for (p = r; p < end; p++) {
            if (*p == '$' && p + 1 < end && p[1] >= '1' && p[1] <= '9') {
                k = p[1] - '0';

                if ((int) k < n && caps[2 * k] >= 0) {
                    len += caps[2 * k + 1] - caps[2 * k];
                }

                p++;
                continue;
            }

            len++;
        }

        principal->data = ngx_pnalloc(pool, len ? len : 1);
        if (principal->data == NULL) {
            return NGX_ERROR;
        }

        principal->len = len;
        len = 0;

        for (p = r; p < end; p++) {
            if (*p == '$' && p + 1 < end && p[1] >= '1' && p[1] <= '9') {
                k = p[1] - '0';

                if ((int) k < n && caps[2 * k] >= 0) {
                    ngx_memcpy(principal->data + len,
                               name->data + caps[2 * k],
                               caps[2 * k + 1] - caps[2 * k]);
                    len += caps[2 * k + 1] - caps[2 * k];
                }

                p++;
                continue;
            }

            principal->data[len++] = *p;
        }

        return principal->len ? NGX_OK : NGX_DECLINED;
    }

    return NGX_DECLINED;
}


ngx_int_t
hoop_mtls_identify(ngx_stream_session_t *s, hoop_srv_conf_t *conf,
    hoop_identity_t *id)
{
#if (NGX_STREAM_SSL)
    long               verify;
    X509              *cert;
    ngx_int_t          rc;
    ngx_str_t          name;
    ngx_connection_t  *c;

    c = s->connection;

    if (c->ssl == NULL) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: \"hoop_auth mtls\" needs "
                      "TLS from the client (listen ... ssl)");
        return NGX_ERROR;
    }

    cert = SSL_get_peer_certificate(c->ssl->connection);

    if (cert == NULL) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: client sent no "
                      "certificate (hoop_auth mtls; is ssl_verify_client "
                      "on?)");
        return NGX_ERROR;
    }

    verify = SSL_get_verify_result(c->ssl->connection);

    if (verify != X509_V_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: client certificate not "
                      "verified: %s", X509_verify_cert_error_string(verify));
        X509_free(cert);
        return NGX_ERROR;
    }

    switch (conf->mtls_principal_from) {

    case HOOP_MTLS_SAN_DNS:
        rc = hoop_mtls_san(c, cert, GEN_DNS, &name);
        break;

    case HOOP_MTLS_SAN_EMAIL:
        rc = hoop_mtls_san(c, cert, GEN_EMAIL, &name);
        break;

    case HOOP_MTLS_SAN_URI:
        rc = hoop_mtls_san(c, cert, GEN_URI, &name);
        break;

    default: /* HOOP_MTLS_SUBJECT */
        rc = hoop_mtls_subject(c, cert, &name);
    }

    if (rc == NGX_OK) {
        rc = hoop_mtls_map(c->pool, conf->mtls_rules, &name, &id->principal);

        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "hoop: closing connection: no "
                          "hoop_mtls_principal_rule matches \"%V\"", &name);
        }
    }

    if (rc == NGX_OK) {
        rc = hoop_mtls_groups(c, cert, id);
    }

    X509_free(cert);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    id->method = "mTLS";
    id->authenticated = 1;

    return NGX_OK;

#else

    ngx_log_error(NGX_LOG_ERR, s->connection->log, 0,
                  "hoop: \"hoop_auth mtls\" needs nginx built with "
                  "the stream SSL module");
    return NGX_ERROR;

#endif
}


#if (NGX_STREAM_SSL)

static ngx_int_t
hoop_mtls_subject(ngx_connection_t *c, X509 *cert, ngx_str_t *out)
{
    BIO   *bio;
    char  *data;
    long   len;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return NGX_ERROR;
    }

    if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)
        < 0)
    {
        BIO_free(bio);
        return NGX_ERROR;
    }

    len = BIO_get_mem_data(bio, &data);

    out->data = ngx_pnalloc(c->pool, len ? len : 1);
    if (out->data == NULL) {
        BIO_free(bio);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, data, len);
    out->len = len;

    BIO_free(bio);

    return NGX_OK;
}


static ngx_int_t
hoop_mtls_san(ngx_connection_t *c, X509 *cert, int type, ngx_str_t *out)
{
    int                      i, n;
    ngx_int_t                rc;
    GENERAL_NAME            *gn;
    GENERAL_NAMES           *names;
    const unsigned char     *data;

    names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);

    if (names == NULL) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: client certificate has no "
                      "subjectAltName (hoop_mtls_principal_from)");
        return NGX_ERROR;
    }

    rc = NGX_DECLINED;
    n = sk_GENERAL_NAME_num(names);

    for (i = 0; i < n; i++) {
        gn = sk_GENERAL_NAME_value(names, i);

        if (gn->type != type) {
            continue;
        }

        data = ASN1_STRING_get0_data(gn->d.ia5);

        out->len = ASN1_STRING_length(gn->d.ia5);
        out->data = ngx_pnalloc(c->pool, out->len ? out->len : 1);

        if (out->data == NULL) {
            rc = NGX_ERROR;
            break;
        }

        ngx_memcpy(out->data, data, out->len);
        rc = NGX_OK;
        break;
    }

    GENERAL_NAMES_free(names);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: client certificate has no "
                      "subjectAltName of the configured type");
        return NGX_ERROR;
    }

    return rc;
}


/* Groups of a certificate identity: its subject's OU values. */

static ngx_int_t
hoop_mtls_groups(ngx_connection_t *c, X509 *cert, hoop_identity_t *id)
{
    int               i;
    X509_NAME        *name;
    ngx_str_t        *g;
    ASN1_STRING      *as;
    unsigned char    *utf8;
    int               len;

    name = X509_get_subject_name(cert);
    i = -1;

    for ( ;; ) {
        i = X509_NAME_get_index_by_NID(name, NID_organizationalUnitName, i);
        if (i < 0) {
            break;
        }

        as = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));

        len = ASN1_STRING_to_UTF8(&utf8, as);
        if (len < 0) {
            continue;
        }

        if (id->groups == NULL) {
            id->groups = ngx_array_create(c->pool, 2, sizeof(ngx_str_t));
            if (id->groups == NULL) {
                OPENSSL_free(utf8);
                return NGX_ERROR;
            }
        }

        g = ngx_array_push(id->groups);
        if (g == NULL) {
            OPENSSL_free(utf8);
            return NGX_ERROR;
        }

        g->len = len;
        g->data = ngx_pnalloc(c->pool, len ? len : 1);

        if (g->data == NULL) {
            OPENSSL_free(utf8);
            return NGX_ERROR;
        }

        ngx_memcpy(g->data, utf8, len);
        OPENSSL_free(utf8);
    }

    return NGX_OK;
}

#endif
