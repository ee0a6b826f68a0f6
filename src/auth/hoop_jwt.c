/*
 * hoop_jwt: OIDC JWT validation for SASL/OAUTHBEARER (nginx-free).
 * See hoop_jwt.h for the contract.  Signature verification is cjose's;
 * this file decides which key and which algorithm cjose may use, and
 * checks the claims.
 */

/* POSIX.1-2008: st_mtim, O_CLOEXEC, strnlen, strcasecmp */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE  200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <cjose/cjose.h>

#include "hoop_jwt.h"


#define HOOP_JWKS_MAX_LEN      (1024 * 1024)
#define HOOP_JWKS_MAX_KEYS     64
#define HOOP_JWT_RSA_MIN_BITS  2048
#define HOOP_JWT_RSA_MAX_BITS  8192     /* bounds the cost of a verify */
#define HOOP_JWT_PATH_MAX      256

/* a NumericDate far enough not to overflow time_t: 9999-12-31 */
#define HOOP_JWT_TIME_MAX      253402300799.0

#define HOOP_JWT_ALGS_RSA                                                    \
    (HOOP_JWT_ALG_RS256|HOOP_JWT_ALG_RS384|HOOP_JWT_ALG_RS512                \
     |HOOP_JWT_ALG_PS256|HOOP_JWT_ALG_PS384|HOOP_JWT_ALG_PS512)


typedef struct {
    cjose_jwk_t  *jwk;
    char         *kid;          /* NULL when the key has none */
    unsigned      algs;         /* HOOP_JWT_ALG_* this key may verify */
} hoop_jwk_t;


struct hoop_jwks_s {
    size_t        nkeys;
    hoop_jwk_t   *keys;
};


typedef struct {
    const char   *name;
    unsigned      bit;
    size_t        ec_sig_len;   /* R || S length for ES*, else 0 */
} hoop_jwt_alg_t;


static const hoop_jwt_alg_t  hoop_jwt_algs[] = {
    { "RS256", HOOP_JWT_ALG_RS256, 0 },
    { "RS384", HOOP_JWT_ALG_RS384, 0 },
    { "RS512", HOOP_JWT_ALG_RS512, 0 },
    { "PS256", HOOP_JWT_ALG_PS256, 0 },
    { "PS384", HOOP_JWT_ALG_PS384, 0 },
    { "PS512", HOOP_JWT_ALG_PS512, 0 },
    { "ES256", HOOP_JWT_ALG_ES256, 64 },
    { "ES384", HOOP_JWT_ALG_ES384, 96 },
    { "ES512", HOOP_JWT_ALG_ES512, 132 },
    { NULL, 0, 0 }
};


static const char  *hoop_jwt_rc_names[] = {
    "ok",
    "bad_argument",
    "no_memory",
    "too_large",
    "malformed",
    "bad_header",
    "alg_none",
    "alg_hmac",
    "alg_not_allowed",
    "kid_missing",
    "kid_unknown",
    "key_mismatch",
    "bad_signature",
    "bad_payload",
    "bad_claim_type",
    "exp_missing",
    "expired",
    "not_yet_valid",
    "iat_in_future",
    "wrong_issuer",
    "wrong_audience",
    "no_subject",
    "bad_groups",
    "bad_jwks",
    "no_keys",
    "io_error"
};


static int hoop_jwt_fail(char *err, size_t errlen, int rc, const char *fmt,
    ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void hoop_jwt_note(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static char *hoop_jwt_printable(char *dst, size_t size, const char *src);
static char *hoop_jwt_strdup(const char *s, size_t len);
static const hoop_jwt_alg_t *hoop_jwt_alg_find(const char *name);
static int hoop_jwks_add_key(hoop_jwks_t *jwks, json_t *key, size_t idx,
    char *err, size_t errlen, char *note, size_t notelen, size_t *skipped);
static int hoop_jwt_b64url_ok(const char *p, size_t len);
static int hoop_jwk_member_ok(json_t *key, const char *name);
static size_t hoop_jwt_b64url_decoded_len(size_t len);
static const hoop_jwk_t *hoop_jwt_select_key(const hoop_jwks_t *jwks,
    json_t *hdr, const hoop_jwt_alg_t *alg, int *rc, char *err,
    size_t errlen);
static int hoop_jwt_check_claims(const hoop_jwt_policy_t *pol,
    json_t *claims, time_t now, hoop_jwt_claims_t *out, char *err,
    size_t errlen);
static int hoop_jwt_numeric_date(json_t *claims, const char *name,
    double *v);
static double hoop_jwt_secs(double d);
static json_t *hoop_jwt_claim(json_t *obj, const char *path);
static int hoop_jwt_groups(json_t *v, hoop_jwt_claims_t *out, char *err,
    size_t errlen);
static int hoop_jwt_groups_add(hoop_jwt_claims_t *out, const char *s,
    size_t len);


/* error helpers */

static int
hoop_jwt_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list  ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        (void) vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }

    return rc;
}


/* append to a "; "-separated note, silently truncated */

static void
hoop_jwt_note(char *err, size_t errlen, const char *fmt, ...)
{
    size_t   used;
    va_list  ap;

    if (err == NULL || errlen == 0) {
        return;
    }

    used = strnlen(err, errlen);
    if (used + 1 >= errlen) {
        return;
    }

    if (used > 0) {
        (void) snprintf(err + used, errlen - used, "; ");
        used = strnlen(err, errlen);
        if (used + 1 >= errlen) {
            return;
        }
    }

    va_start(ap, fmt);
    (void) vsnprintf(err + used, errlen - used, fmt, ap);
    va_end(ap);
}


/*
 * Copy an untrusted string for a log message: as much as fits in size
 * (callers pass small buffers), "..." when cut, bytes outside printable
 * ASCII, quotes and backslashes replaced by '?'.
 */

static char *
hoop_jwt_printable(char *dst, size_t size, const char *src)
{
    size_t  i, n;

    if (size < 8) {
        if (size > 0) {
            dst[0] = '\0';
        }

        return dst;
    }

    n = 0;
    for (i = 0; src[i] != '\0' && n + 4 < size; i++) {
        dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f && src[i] != '"'
                    && src[i] != '\\') ? src[i] : '?';
    }

    if (src[i] != '\0') {
        memcpy(dst + n, "...", 3);
        n += 3;
    }

    dst[n] = '\0';

    return dst;
}


static char *
hoop_jwt_strdup(const char *s, size_t len)
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


static const hoop_jwt_alg_t *
hoop_jwt_alg_find(const char *name)
{
    const hoop_jwt_alg_t  *a;

    for (a = hoop_jwt_algs; a->name != NULL; a++) {
        if (strcmp(a->name, name) == 0) {
            return a;
        }
    }

    return NULL;
}


unsigned
hoop_jwt_alg_from_name(const char *name)
{
    const hoop_jwt_alg_t  *a;

    if (name == NULL) {
        return 0;
    }

    a = hoop_jwt_alg_find(name);

    return a != NULL ? a->bit : 0;
}


const char *
hoop_jwt_rc_name(int rc)
{
    if (rc < 0
        || (size_t) rc >= sizeof(hoop_jwt_rc_names) / sizeof(char *))
    {
        return "unknown";
    }

    return hoop_jwt_rc_names[rc];
}


/* key sets */

hoop_jwks_t *
hoop_jwks_parse(const char *json, size_t len, char *err, size_t errlen)
{
    return hoop_jwks_parse_rc(json, len, NULL, err, errlen);
}


hoop_jwks_t *
hoop_jwks_parse_rc(const char *json, size_t len, int *rcp, char *err,
    size_t errlen)
{
    int           rc;
    char          note[512], pr[96];
    size_t        i, n, skipped;
    json_t       *doc, *keys;
    hoop_jwks_t  *jwks;
    json_error_t  jerr;

    jwks = NULL;
    doc = NULL;
    note[0] = '\0';
    skipped = 0;

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }

    if (json == NULL) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_ARG, "no JWK Set");
        goto done;
    }

    if (len > HOOP_JWKS_MAX_LEN) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_JWKS,
                           "JWK Set is %zu bytes, more than %d", len,
                           HOOP_JWKS_MAX_LEN);
        goto done;
    }

    doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_JWKS,
                           "JWK Set is not JSON: %s at line %d column %d",
                           hoop_jwt_printable(pr, sizeof(pr), jerr.text),
                           jerr.line, jerr.column);
        goto done;
    }

    keys = json_object_get(doc, "keys");
    if (!json_is_object(doc) || !json_is_array(keys)) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_JWKS,
                           "JWK Set is not an object with a \"keys\" array");
        goto done;
    }

    jwks = calloc(1, sizeof(hoop_jwks_t));
    n = json_array_size(keys);
    if (jwks == NULL
        || (n > 0
            && (jwks->keys = calloc(n < HOOP_JWKS_MAX_KEYS
                                    ? n : HOOP_JWKS_MAX_KEYS,
                                    sizeof(hoop_jwk_t))) == NULL))
    {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_NOMEM, "out of memory");
        goto done;
    }

    for (i = 0; i < n; i++) {
        rc = hoop_jwks_add_key(jwks, json_array_get(keys, i), i, err, errlen,
                               note, sizeof(note), &skipped);
        if (rc != HOOP_JWT_OK) {
            goto done;
        }
    }

    if (jwks->nkeys == 0) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_NO_KEYS,
                           "JWK Set has no usable signing key%s%s",
                           skipped ? ": " : "", note);
        goto done;
    }

    rc = HOOP_JWT_OK;

    if (skipped) {
        (void) hoop_jwt_fail(err, errlen, HOOP_JWT_OK,
                             "skipped %zu of %zu keys: %s", skipped, n, note);
    }

done:

    if (doc != NULL) {
        json_decref(doc);
    }

    if (rc != HOOP_JWT_OK) {
        hoop_jwks_free(jwks);
        jwks = NULL;
    }

    if (rcp != NULL) {
        *rcp = rc;
    }

    return jwks;
}


/*
 * Add keys[idx] to the set, or note why it is skipped.  Returns HOOP_JWT_OK
 * (added or skipped) or an error for a key that claims to be a usable
 * signing key but cannot be loaded.
 */

static int
hoop_jwks_add_key(hoop_jwks_t *jwks, json_t *key, size_t idx, char *err,
    size_t errlen, char *note, size_t notelen, size_t *skipped)
{
    int                    found;
    char                   pr[64], kidbuf[64];
    size_t                 i, bits;
    json_t                *kty, *use, *ops, *op, *alg, *kid, *crv, *pub;
    unsigned               algs;
    cjose_err              cerr;
    const char            *kty_s, *crv_s;
    cjose_jwk_t           *jwk;
    const hoop_jwt_alg_t  *a;

    pub = NULL;
    jwk = NULL;

    if (!json_is_object(key)) {
        hoop_jwt_note(note, notelen, "#%zu is not an object", idx);
        (*skipped)++;
        return HOOP_JWT_OK;
    }

    kid = json_object_get(key, "kid");
    if (kid != NULL && !json_is_string(kid)) {
        hoop_jwt_note(note, notelen, "#%zu kid is not a string", idx);
        (*skipped)++;
        return HOOP_JWT_OK;
    }

    (void) snprintf(kidbuf, sizeof(kidbuf), "%s",
                    kid != NULL ? hoop_jwt_printable(pr, sizeof(pr),
                                                     json_string_value(kid))
                                : "");

    kty = json_object_get(key, "kty");
    if (!json_is_string(kty)) {
        hoop_jwt_note(note, notelen, "#%zu (kid \"%s\") has no kty", idx,
                      kidbuf);
        (*skipped)++;
        return HOOP_JWT_OK;
    }

    kty_s = json_string_value(kty);

    use = json_object_get(key, "use");
    if (use != NULL
        && (!json_is_string(use) || strcmp(json_string_value(use), "sig")))
    {
        hoop_jwt_note(note, notelen, "#%zu (kid \"%s\") is not for \"sig\"",
                      idx, kidbuf);
        (*skipped)++;
        return HOOP_JWT_OK;
    }

    ops = json_object_get(key, "key_ops");
    if (ops != NULL) {
        found = 0;

        if (json_is_array(ops)) {
            for (i = 0; i < json_array_size(ops); i++) {
                op = json_array_get(ops, i);
                if (json_is_string(op)
                    && strcmp(json_string_value(op), "verify") == 0)
                {
                    found = 1;
                }
            }
        }

        if (!found) {
            hoop_jwt_note(note, notelen,
                          "#%zu (kid \"%s\") key_ops lacks \"verify\"", idx,
                          kidbuf);
            (*skipped)++;
            return HOOP_JWT_OK;
        }
    }

    if (strcmp(kty_s, "RSA") == 0) {
        algs = HOOP_JWT_ALGS_RSA;

    } else if (strcmp(kty_s, "EC") == 0) {
        crv = json_object_get(key, "crv");
        crv_s = json_is_string(crv) ? json_string_value(crv) : "";

        if (strcmp(crv_s, "P-256") == 0) {
            algs = HOOP_JWT_ALG_ES256;

        } else if (strcmp(crv_s, "P-384") == 0) {
            algs = HOOP_JWT_ALG_ES384;

        } else if (strcmp(crv_s, "P-521") == 0) {
            algs = HOOP_JWT_ALG_ES512;

        } else {
            hoop_jwt_note(note, notelen,
                          "#%zu (kid \"%s\") EC curve \"%s\" unsupported",
                          idx, kidbuf,
                          hoop_jwt_printable(pr, sizeof(pr), crv_s));
            (*skipped)++;
            return HOOP_JWT_OK;
        }

    } else if (strcmp(kty_s, "OKP") == 0) {
        hoop_jwt_note(note, notelen,
                      "#%zu (kid \"%s\") kty OKP: cjose has no EdDSA", idx,
                      kidbuf);
        (*skipped)++;
        return HOOP_JWT_OK;

    } else if (strcmp(kty_s, "oct") == 0) {
        hoop_jwt_note(note, notelen,
                      "#%zu (kid \"%s\") symmetric key refused", idx,
                      kidbuf);
        (*skipped)++;
        return HOOP_JWT_OK;

    } else {
        hoop_jwt_note(note, notelen, "#%zu (kid \"%s\") kty \"%s\" unknown",
                      idx, kidbuf,
                      hoop_jwt_printable(pr, sizeof(pr), kty_s));
        (*skipped)++;
        return HOOP_JWT_OK;
    }

    alg = json_object_get(key, "alg");
    if (alg != NULL) {
        a = json_is_string(alg) ? hoop_jwt_alg_find(json_string_value(alg))
                                : NULL;

        if (a == NULL || (a->bit & algs) == 0) {
            hoop_jwt_note(note, notelen,
                          "#%zu (kid \"%s\") alg \"%s\" unsupported or not "
                          "for this key", idx, kidbuf,
                          json_is_string(alg)
                          ? hoop_jwt_printable(pr, sizeof(pr),
                                               json_string_value(alg))
                          : "");
            (*skipped)++;
            return HOOP_JWT_OK;
        }

        algs = a->bit;
    }

    if (jwks->nkeys >= HOOP_JWKS_MAX_KEYS) {
        hoop_jwt_note(note, notelen, "#%zu beyond %d keys", idx,
                      HOOP_JWKS_MAX_KEYS);
        (*skipped)++;
        return HOOP_JWT_OK;
    }

    /*
     * A copy with the public members only: cjose never sees "d" etc.
     * Each is checked to be unpadded base64url first: cjose 0.6.2.1
     * assert()s, killing the process, on some misplaced '=' (base64.c).
     */

    pub = json_object();
    if (pub == NULL || json_object_set(pub, "kty", kty) != 0) {
        goto nomem;
    }

    if (algs & HOOP_JWT_ALGS_RSA) {
        if (!hoop_jwk_member_ok(key, "n") || !hoop_jwk_member_ok(key, "e"))
        {
            json_decref(pub);
            return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_JWKS,
                                 "key #%zu (kid \"%s\"): RSA key without "
                                 "base64url \"n\" and \"e\"", idx,
                                 kidbuf);
        }

        if (json_object_set(pub, "n", json_object_get(key, "n")) != 0
            || json_object_set(pub, "e", json_object_get(key, "e")) != 0)
        {
            goto nomem;
        }

    } else {
        if (!hoop_jwk_member_ok(key, "x") || !hoop_jwk_member_ok(key, "y"))
        {
            json_decref(pub);
            return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_JWKS,
                                 "key #%zu (kid \"%s\"): EC key without "
                                 "base64url \"x\" and \"y\"", idx,
                                 kidbuf);
        }

        if (json_object_set(pub, "crv", json_object_get(key, "crv")) != 0
            || json_object_set(pub, "x", json_object_get(key, "x")) != 0
            || json_object_set(pub, "y", json_object_get(key, "y")) != 0)
        {
            goto nomem;
        }
    }

    memset(&cerr, 0, sizeof(cerr));

    jwk = cjose_jwk_import_json((cjose_header_t *) pub, &cerr);
    json_decref(pub);
    pub = NULL;

    if (jwk == NULL) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_JWKS,
                             "key #%zu (kid \"%s\") does not load: %s", idx,
                             kidbuf,
                             cerr.message ? cerr.message : "invalid key");
    }

    if (algs & HOOP_JWT_ALGS_RSA) {
        bits = cjose_jwk_get_keysize(jwk, &cerr);

        if (bits < HOOP_JWT_RSA_MIN_BITS || bits > HOOP_JWT_RSA_MAX_BITS) {
            cjose_jwk_release(jwk);
            hoop_jwt_note(note, notelen,
                          "#%zu (kid \"%s\") RSA key of %zu bits is too "
                          "%s", idx, kidbuf, bits,
                          bits < HOOP_JWT_RSA_MIN_BITS ? "short" : "long");
            (*skipped)++;
            return HOOP_JWT_OK;
        }
    }

    jwks->keys[jwks->nkeys].jwk = jwk;
    jwks->keys[jwks->nkeys].algs = algs;

    if (kid != NULL) {
        jwks->keys[jwks->nkeys].kid =
            hoop_jwt_strdup(json_string_value(kid),
                            json_string_length(kid));

        if (jwks->keys[jwks->nkeys].kid == NULL) {
            cjose_jwk_release(jwk);
            jwks->keys[jwks->nkeys].jwk = NULL;
            goto nomem;
        }
    }

    jwks->nkeys++;

    return HOOP_JWT_OK;

nomem:

    if (pub != NULL) {
        json_decref(pub);
    }

    return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_NOMEM, "out of memory");
}


void
hoop_jwks_free(hoop_jwks_t *jwks)
{
    size_t  i;

    if (jwks == NULL) {
        return;
    }

    for (i = 0; i < jwks->nkeys; i++) {
        cjose_jwk_release(jwks->keys[i].jwk);
        free(jwks->keys[i].kid);
    }

    free(jwks->keys);
    free(jwks);
}


size_t
hoop_jwks_count(const hoop_jwks_t *jwks)
{
    return jwks != NULL ? jwks->nkeys : 0;
}


/* key set files */

int
hoop_jwks_file_refresh(hoop_jwks_file_t *st, const char *path, char *err,
    size_t errlen)
{
    int           fd, rc, e;
    char         *buf;
    size_t        len;
    ssize_t       n;
    struct stat   sb;
    hoop_jwks_t  *jwks;

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }

    if (st == NULL || path == NULL) {
        return hoop_jwt_fail(err, errlen, HOOP_JWKS_FAILED, "no JWKS file");
    }

    if (stat(path, &sb) == -1) {
        e = errno;
        goto failed_errno;
    }

    if (st->seen && st->seen_errno == 0
        && st->dev == (uint64_t) sb.st_dev
        && st->ino == (uint64_t) sb.st_ino
        && st->size == (int64_t) sb.st_size
        && st->mtime == (int64_t) sb.st_mtim.tv_sec
        && st->mtime_nsec == (long) sb.st_mtim.tv_nsec)
    {
        return HOOP_JWKS_UNCHANGED;
    }

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        e = errno;
        goto failed_errno;
    }

    /* the identity recorded is that of the bytes read */

    if (fstat(fd, &sb) == -1) {
        e = errno;
        (void) close(fd);
        goto failed_errno;
    }

    st->seen = 1;
    st->seen_errno = 0;
    st->dev = (uint64_t) sb.st_dev;
    st->ino = (uint64_t) sb.st_ino;
    st->size = (int64_t) sb.st_size;
    st->mtime = (int64_t) sb.st_mtim.tv_sec;
    st->mtime_nsec = (long) sb.st_mtim.tv_nsec;

    if (!S_ISREG(sb.st_mode)) {
        (void) close(fd);
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_IO,
                           "JWKS file \"%s\" is not a regular file", path);
        goto failed;
    }

    if (sb.st_size > HOOP_JWKS_MAX_LEN) {
        (void) close(fd);
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_JWKS,
                           "JWKS file \"%s\" is larger than %d bytes", path,
                           HOOP_JWKS_MAX_LEN);
        goto failed;
    }

    buf = malloc(HOOP_JWKS_MAX_LEN + 1);
    if (buf == NULL) {
        (void) close(fd);
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_NOMEM, "out of memory");
        goto failed;
    }

    len = 0;
    n = 0;

    for ( ;; ) {
        n = read(fd, buf + len, HOOP_JWKS_MAX_LEN + 1 - len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        len += (size_t) n;

        if (len > HOOP_JWKS_MAX_LEN) {
            break;
        }
    }

    e = errno;
    (void) close(fd);

    if (n == -1) {
        free(buf);
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_IO,
                           "cannot read JWKS file \"%s\": %s", path,
                           strerror(e));
        goto failed;
    }

    if (len > HOOP_JWKS_MAX_LEN) {
        free(buf);
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_JWKS,
                           "JWKS file \"%s\" is larger than %d bytes", path,
                           HOOP_JWKS_MAX_LEN);
        goto failed;
    }

    jwks = hoop_jwks_parse_rc(buf, len, &rc, err, errlen);
    free(buf);

    if (jwks == NULL) {
        goto failed;
    }

    hoop_jwks_free(st->jwks);
    st->jwks = jwks;
    st->generation++;
    st->failed = 0;
    st->last_rc = HOOP_JWT_OK;

    return HOOP_JWKS_RELOADED;

failed_errno:

    if (st->seen && st->seen_errno == e) {
        return HOOP_JWKS_UNCHANGED;
    }

    st->seen = 1;
    st->seen_errno = e;
    rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_IO,
                       "cannot open JWKS file \"%s\": %s", path,
                       strerror(e));

failed:

    st->failed = 1;
    st->last_rc = rc;

    return HOOP_JWKS_FAILED;
}


void
hoop_jwks_file_free(hoop_jwks_file_t *st)
{
    if (st == NULL) {
        return;
    }

    hoop_jwks_free(st->jwks);
    memset(st, 0, sizeof(hoop_jwks_file_t));
}


/* verification */

void
hoop_jwt_policy_init(hoop_jwt_policy_t *pol)
{
    memset(pol, 0, sizeof(hoop_jwt_policy_t));

    pol->algs = HOOP_JWT_ALGS_DEFAULT;
    pol->skew = HOOP_JWT_DEFAULT_SKEW;
    pol->sub_claim = "sub";
    pol->groups_claim = "groups";
    pol->max_len = HOOP_JWT_DEFAULT_MAX_LEN;
}


void
hoop_jwt_claims_free(hoop_jwt_claims_t *c)
{
    size_t  i;

    if (c == NULL) {
        return;
    }

    free(c->principal);
    free(c->iss);
    free(c->kid);

    for (i = 0; i < c->ngroups; i++) {
        free(c->groups[i]);
    }

    free(c->groups);
    memset(c, 0, sizeof(hoop_jwt_claims_t));
}


/* only the base64url alphabet (RFC 4648 section 5), unpadded */

static int
hoop_jwt_b64url_ok(const char *p, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (len % 4 == 1) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) p[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return 0;
        }
    }

    return 1;
}


/* a JWK member that cjose will base64url-decode: non-empty, unpadded */

static int
hoop_jwk_member_ok(json_t *key, const char *name)
{
    json_t  *v;

    v = json_object_get(key, name);

    return json_is_string(v) && json_string_length(v) > 0
           && hoop_jwt_b64url_ok(json_string_value(v),
                                 json_string_length(v));
}


static size_t
hoop_jwt_b64url_decoded_len(size_t len)
{
    return len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
}


int
hoop_jwt_verify(const hoop_jwks_t *jwks, const hoop_jwt_policy_t *pol,
    const char *token, size_t len, time_t now, hoop_jwt_claims_t *out,
    char *err, size_t errlen)
{
    int                    rc;
    char                   pr[96];
    size_t                 i, max, dots[2], ndots, hlen, plen, slen;
    size_t                 hdr_len, body_len;
    json_t                *hdr, *claims, *v;
    uint8_t               *hdr_raw, *body;
    unsigned               allowed;
    cjose_err              cerr;
    cjose_jws_t           *jws;
    json_error_t           jerr;
    const char            *alg_s;
    const hoop_jwk_t      *key;
    const hoop_jwt_alg_t  *alg;

    rc = HOOP_JWT_ERR_ARG;      /* fail closed */
    hdr = NULL;
    claims = NULL;
    jws = NULL;

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }

    if (out != NULL) {
        memset(out, 0, sizeof(hoop_jwt_claims_t));
    }

    if (jwks == NULL || pol == NULL || token == NULL || out == NULL) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_ARG,
                             "no token, key set, policy or output");
    }

    if (pol->issuer == NULL) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_ARG,
                             "policy has no issuer");
    }

    if (pol->audience == NULL && !pol->any_audience) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_ARG,
                             "policy has no audience");
    }

    max = pol->max_len ? pol->max_len : HOOP_JWT_DEFAULT_MAX_LEN;

    if (len > max) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_TOO_LARGE,
                             "token is %zu bytes, more than %zu", len, max);
    }

    /*
     * RFC 7515 section 7.1: three base64url parts separated by dots.
     * Checked strictly (alphabet, no padding, possible length) before
     * cjose decodes anything: cjose 0.6.2.1 assert()s on some malformed
     * base64url instead of returning an error.
     */

    ndots = 0;

    for (i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (ndots < 2) {
                dots[ndots] = i;
            }

            ndots++;
        }
    }

    if (ndots != 2) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_MALFORMED,
                             "token has %zu parts, a signed JWT has 3",
                             len ? ndots + 1 : 0);
    }

    hlen = dots[0];
    plen = dots[1] - dots[0] - 1;
    slen = len - dots[1] - 1;

    if (hlen == 0 || plen == 0
        || !hoop_jwt_b64url_ok(token, hlen)
        || !hoop_jwt_b64url_ok(token + dots[0] + 1, plen)
        || !hoop_jwt_b64url_ok(token + dots[1] + 1, slen))
    {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_MALFORMED,
                             "token is not three base64url parts");
    }

    /* JOSE header (RFC 7515 section 4) */

    memset(&cerr, 0, sizeof(cerr));
    hdr_raw = NULL;

    if (!cjose_base64url_decode(token, hlen, &hdr_raw, &hdr_len, &cerr)) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_MALFORMED,
                             "JOSE header is not base64url");
    }

    hdr = json_loadb((const char *) hdr_raw, hdr_len, JSON_REJECT_DUPLICATES,
                     &jerr);
    free(hdr_raw);

    if (hdr == NULL) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_HEADER,
                           "JOSE header is not JSON: %s",
                           hoop_jwt_printable(pr, sizeof(pr), jerr.text));
        goto done;
    }

    if (!json_is_object(hdr)) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_HEADER,
                           "JOSE header is not a JSON object");
        goto done;
    }

    v = json_object_get(hdr, "alg");
    if (!json_is_string(v)) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_HEADER,
                           "JOSE header has no \"alg\"");
        goto done;
    }

    alg_s = json_string_value(v);

    if (strcasecmp(alg_s, "none") == 0) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_ALG_NONE,
                           "unsigned token (alg \"%s\") refused",
                           hoop_jwt_printable(pr, sizeof(pr), alg_s));
        goto done;
    }

    if (strncasecmp(alg_s, "HS", 2) == 0) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_ALG_HMAC,
                           "HMAC token (alg \"%s\") refused: keys are public",
                           hoop_jwt_printable(pr, sizeof(pr), alg_s));
        goto done;
    }

    allowed = (pol->algs ? pol->algs : HOOP_JWT_ALGS_DEFAULT)
              & HOOP_JWT_ALGS_SUPPORTED;
    alg = hoop_jwt_alg_find(alg_s);

    if (alg == NULL || (alg->bit & allowed) == 0) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_ALG_NOT_ALLOWED,
                           "alg \"%s\" is not allowed",
                           hoop_jwt_printable(pr, sizeof(pr), alg_s));
        goto done;
    }

    /* RFC 7515 section 4.1.11: we understand no extension */

    if (json_object_get(hdr, "crit") != NULL) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_HEADER,
                           "JOSE header has \"crit\" extensions");
        goto done;
    }

    key = hoop_jwt_select_key(jwks, hdr, alg, &rc, err, errlen);
    if (key == NULL) {
        goto done;
    }

    if (slen == 0) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_SIGNATURE,
                           "token has an empty signature");
        goto done;
    }

    /* RFC 7518 section 3.4: ECDSA signatures are R || S, fixed length */

    if (alg->ec_sig_len
        && hoop_jwt_b64url_decoded_len(slen) != alg->ec_sig_len)
    {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_SIGNATURE,
                           "%s signature is %zu bytes, not %zu", alg->name,
                           hoop_jwt_b64url_decoded_len(slen),
                           alg->ec_sig_len);
        goto done;
    }

    jws = cjose_jws_import(token, len, &cerr);
    if (jws == NULL) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_MALFORMED,
                           "token does not parse: %s",
                           cerr.message ? cerr.message : "invalid JWS");
        goto done;
    }

    if (!cjose_jws_verify(jws, key->jwk, &cerr)) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_SIGNATURE,
                           "bad %s signature (key %s%s%s)", alg->name,
                           key->kid ? "\"" : "",
                           key->kid ? hoop_jwt_printable(pr, sizeof(pr),
                                                         key->kid)
                                    : "without kid",
                           key->kid ? "\"" : "");
        goto done;
    }

    /* claims set (RFC 7519 section 7.2 step 10), trusted from here on */

    if (!cjose_jws_get_plaintext(jws, &body, &body_len, &cerr)) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_PAYLOAD,
                           "token has no payload");
        goto done;
    }

    claims = json_loadb((const char *) body, body_len,
                        JSON_REJECT_DUPLICATES, &jerr);

    if (claims == NULL) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_PAYLOAD,
                           "claims set is not JSON: %s",
                           hoop_jwt_printable(pr, sizeof(pr), jerr.text));
        goto done;
    }

    if (!json_is_object(claims)) {
        rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_PAYLOAD,
                           "claims set is not a JSON object");
        goto done;
    }

    rc = hoop_jwt_check_claims(pol, claims, now, out, err, errlen);
    if (rc != HOOP_JWT_OK) {
        goto done;
    }

    memcpy(out->alg, alg->name, strlen(alg->name) + 1);

    if (key->kid != NULL) {
        out->kid = hoop_jwt_strdup(key->kid, strlen(key->kid));
        if (out->kid == NULL) {
            rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_NOMEM,
                               "out of memory");
            goto done;
        }
    }

    rc = HOOP_JWT_OK;

done:

    if (rc != HOOP_JWT_OK) {
        hoop_jwt_claims_free(out);
    }

    if (jws != NULL) {
        cjose_jws_release(jws);
    }

    if (claims != NULL) {
        json_decref(claims);
    }

    if (hdr != NULL) {
        json_decref(hdr);
    }

    return rc;
}


/*
 * The key for a token: by "kid" when the token has one; otherwise the only
 * key of a one-key set.  The key must be able to verify the token's alg
 * (RFC 8725 section 3.1): its kty and curve fit, and its "alg" member, if
 * any, is that alg.
 */

static const hoop_jwk_t *
hoop_jwt_select_key(const hoop_jwks_t *jwks, json_t *hdr,
    const hoop_jwt_alg_t *alg, int *rc, char *err, size_t errlen)
{
    int          named;
    char         pr[64];
    size_t       i, klen;
    json_t      *kid;
    const char  *kid_s;

    kid = json_object_get(hdr, "kid");

    if (kid == NULL) {
        if (jwks->nkeys != 1) {
            *rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_KID_MISSING,
                                "token has no \"kid\" and %zu keys are "
                                "configured", jwks->nkeys);
            return NULL;
        }

        if ((jwks->keys[0].algs & alg->bit) == 0) {
            *rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_KEY_MISMATCH,
                                "the key cannot verify %s", alg->name);
            return NULL;
        }

        return &jwks->keys[0];
    }

    if (!json_is_string(kid)) {
        *rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_HEADER,
                            "JOSE header \"kid\" is not a string");
        return NULL;
    }

    kid_s = json_string_value(kid);
    klen = json_string_length(kid);
    named = 0;

    for (i = 0; i < jwks->nkeys; i++) {
        if (jwks->keys[i].kid == NULL
            || strlen(jwks->keys[i].kid) != klen
            || memcmp(jwks->keys[i].kid, kid_s, klen) != 0)
        {
            continue;
        }

        named = 1;

        if (jwks->keys[i].algs & alg->bit) {
            return &jwks->keys[i];
        }
    }

    if (named) {
        *rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_KEY_MISMATCH,
                            "key \"%s\" cannot verify %s",
                            hoop_jwt_printable(pr, sizeof(pr), kid_s),
                            alg->name);
    } else {
        *rc = hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_KID_UNKNOWN,
                            "no key with kid \"%s\"",
                            hoop_jwt_printable(pr, sizeof(pr), kid_s));
    }

    return NULL;
}


/* 1: present and a number, 0: absent, -1: present but not a number */

static int
hoop_jwt_numeric_date(json_t *claims, const char *name, double *v)
{
    json_t  *j;

    j = json_object_get(claims, name);
    if (j == NULL) {
        return 0;
    }

    if (!json_is_number(j)) {
        return -1;
    }

    *v = json_number_value(j);

    return 1;
}


/* a duration for a message: absurd NumericDates print as 1e12 at most */

static double
hoop_jwt_secs(double d)
{
    return d > 1e12 ? 1e12 : d;
}


static int
hoop_jwt_check_claims(const hoop_jwt_policy_t *pol, json_t *claims,
    time_t now, hoop_jwt_claims_t *out, char *err, size_t errlen)
{
    int          n, found;
    char         pr[64];
    double       exp, nbf, iat, t, skew;
    size_t       i, ilen;
    json_t      *v, *e;
    const char  *name;

    t = (double) now;
    skew = (double) pol->skew;

    /* RFC 7519 section 4.1.4 */

    n = hoop_jwt_numeric_date(claims, "exp", &exp);
    if (n == 0) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_EXP_MISSING,
                             "token has no \"exp\"");
    }

    if (n < 0) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_CLAIM_TYPE,
                             "\"exp\" is not a number");
    }

    if (t > exp + skew) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_EXPIRED,
                             "token expired %.0fs ago",
                             hoop_jwt_secs(t - exp));
    }

    /* RFC 7519 section 4.1.5 */

    n = hoop_jwt_numeric_date(claims, "nbf", &nbf);
    if (n < 0) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_CLAIM_TYPE,
                             "\"nbf\" is not a number");
    }

    if (n > 0 && nbf > t + skew) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_NOT_YET_VALID,
                             "token not valid for another %.0fs",
                             hoop_jwt_secs(nbf - t));
    }

    /* RFC 7519 section 4.1.6: a token from the future is refused too */

    n = hoop_jwt_numeric_date(claims, "iat", &iat);
    if (n < 0) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_CLAIM_TYPE,
                             "\"iat\" is not a number");
    }

    if (n > 0 && iat > t + skew) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_IAT_FUTURE,
                             "token issued %.0fs in the future",
                             hoop_jwt_secs(iat - t));
    }

    /* RFC 7519 section 4.1.1: exact, case-sensitive comparison */

    v = json_object_get(claims, "iss");
    if (!json_is_string(v)) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_ISSUER,
                             "token has no \"iss\" string");
    }

    ilen = strlen(pol->issuer);

    if (json_string_length(v) != ilen
        || memcmp(json_string_value(v), pol->issuer, ilen) != 0)
    {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_ISSUER,
                             "issuer \"%s\" is not the configured one",
                             hoop_jwt_printable(pr, sizeof(pr),
                                                json_string_value(v)));
    }

    /* RFC 7519 section 4.1.3: a string, or an array of strings */

    if (!pol->any_audience) {
        v = json_object_get(claims, "aud");
        ilen = strlen(pol->audience);
        found = 0;

        if (json_is_string(v)) {
            found = json_string_length(v) == ilen
                    && memcmp(json_string_value(v), pol->audience, ilen) == 0;

        } else if (json_is_array(v)) {
            for (i = 0; i < json_array_size(v); i++) {
                e = json_array_get(v, i);

                if (!json_is_string(e)) {
                    return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_AUDIENCE,
                                         "\"aud\" has a non-string member");
                }

                if (json_string_length(e) == ilen
                    && memcmp(json_string_value(e), pol->audience, ilen)
                       == 0)
                {
                    found = 1;
                }
            }

        } else {
            return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_AUDIENCE,
                                 "token has no \"aud\"");
        }

        if (!found) {
            return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_AUDIENCE,
                                 "token is not for audience \"%s\"",
                                 hoop_jwt_printable(pr, sizeof(pr),
                                                    pol->audience));
        }
    }

    /* identity */

    name = pol->sub_claim ? pol->sub_claim : "sub";
    v = hoop_jwt_claim(claims, name);

    if (!json_is_string(v) || json_string_length(v) == 0) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_SUBJECT,
                             "claim \"%s\" is not a non-empty string",
                             hoop_jwt_printable(pr, sizeof(pr), name));
    }

    out->principal = hoop_jwt_strdup(json_string_value(v),
                                     json_string_length(v));

    v = json_object_get(claims, "iss");
    out->iss = hoop_jwt_strdup(json_string_value(v), json_string_length(v));

    if (out->principal == NULL || out->iss == NULL) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_NOMEM,
                             "out of memory");
    }

    out->exp = exp < 0 ? 0
               : exp > HOOP_JWT_TIME_MAX ? (time_t) HOOP_JWT_TIME_MAX
               : (time_t) exp;

    name = pol->groups_claim ? pol->groups_claim : "groups";
    v = hoop_jwt_claim(claims, name);

    if (v == NULL || json_is_null(v)) {
        return HOOP_JWT_OK;
    }

    return hoop_jwt_groups(v, out, err, errlen);
}


/*
 * A claim by name: the literal top-level member first (names such as
 * "https://example.com/groups" contain dots), then a dot-separated path
 * through nested objects ("realm_access.roles").
 */

static json_t *
hoop_jwt_claim(json_t *obj, const char *path)
{
    char        seg[HOOP_JWT_PATH_MAX];
    size_t      n;
    json_t     *v;
    const char *dot;

    v = json_object_get(obj, path);
    if (v != NULL) {
        return v;
    }

    while (json_is_object(obj)) {
        dot = strchr(path, '.');
        if (dot == NULL) {
            return json_object_get(obj, path);
        }

        n = (size_t) (dot - path);
        if (n == 0 || n >= sizeof(seg)) {
            return NULL;
        }

        memcpy(seg, path, n);
        seg[n] = '\0';

        obj = json_object_get(obj, seg);
        path = dot + 1;
    }

    return NULL;
}


static int
hoop_jwt_groups(json_t *v, hoop_jwt_claims_t *out, char *err, size_t errlen)
{
    int          rc;
    size_t       i, n;
    json_t      *e;
    const char  *s;

    if (json_is_string(v)) {
        /* space-separated, as OAuth "scope" (RFC 6749 section 3.3) */

        s = json_string_value(v);

        for ( ;; ) {
            while (*s == ' ') {
                s++;
            }

            if (*s == '\0') {
                break;
            }

            n = strcspn(s, " ");

            rc = hoop_jwt_groups_add(out, s, n);
            if (rc != HOOP_JWT_OK) {
                goto failed;
            }

            s += n;
        }

        return HOOP_JWT_OK;
    }

    if (!json_is_array(v)) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_GROUPS,
                             "groups claim is neither a string nor an array");
    }

    for (i = 0; i < json_array_size(v); i++) {
        e = json_array_get(v, i);

        if (!json_is_string(e)) {
            return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_GROUPS,
                                 "groups claim has a non-string member");
        }

        if (json_string_length(e) == 0) {
            continue;
        }

        rc = hoop_jwt_groups_add(out, json_string_value(e),
                                 json_string_length(e));
        if (rc != HOOP_JWT_OK) {
            goto failed;
        }
    }

    return HOOP_JWT_OK;

failed:

    if (rc == HOOP_JWT_ERR_GROUPS) {
        return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_GROUPS,
                             "more than %d groups", HOOP_JWT_MAX_GROUPS);
    }

    return hoop_jwt_fail(err, errlen, HOOP_JWT_ERR_NOMEM, "out of memory");
}


static int
hoop_jwt_groups_add(hoop_jwt_claims_t *out, const char *s, size_t len)
{
    char   **g, *copy;
    size_t   cap;

    if (out->ngroups >= HOOP_JWT_MAX_GROUPS) {
        return HOOP_JWT_ERR_GROUPS;
    }

    /* capacity: 4, then doubled each time a power of two is full */

    if (out->ngroups == 0
        || (out->ngroups >= 4 && (out->ngroups & (out->ngroups - 1)) == 0))
    {
        cap = out->ngroups ? out->ngroups * 2 : 4;

        g = realloc(out->groups, cap * sizeof(char *));
        if (g == NULL) {
            return HOOP_JWT_ERR_NOMEM;
        }

        out->groups = g;
    }

    copy = hoop_jwt_strdup(s, len);
    if (copy == NULL) {
        return HOOP_JWT_ERR_NOMEM;
    }

    out->groups[out->ngroups++] = copy;

    return HOOP_JWT_OK;
}
