/*
 * Credential store: parsing, lookup, PLAIN verification, SCRAM
 * credentials and fakes for unknown users, file reload.  See
 * hoop_credentials.h for the file format.
 *
 * Plain C99 + OpenSSL (libcrypto) + jansson; no nginx.
 */

#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE  200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "hoop_credentials.h"


#define HOOP_CRED_SCRAM_256   0
#define HOOP_CRED_SCRAM_512   1


struct hoop_cred_s {
    char                        *name;
    size_t                       name_len;
    char                       **groups;
    size_t                       ngroups;
    unsigned                     has;           /* HOOP_CRED_WANT_* */
    unsigned                     line;          /* for messages */

    int                          plain_md;      /* HOOP_CRED_MD_* */
    unsigned                     plain_iterations;
    size_t                       plain_salt_len;
    uint8_t                      plain_salt[HOOP_CRED_SALT_MAX];
    size_t                       plain_hash_len;
    uint8_t                      plain_hash[HOOP_CRED_KEY_MAX];

    hoop_cred_scram_t            scram[2];      /* HOOP_CRED_SCRAM_* */
};


struct hoop_cred_set_s {
    unsigned                     refs;
    hoop_cred_t                 *users;         /* sorted by name */
    size_t                       nusers;

    /* made from the file's bytes: fake salts for unknown users */
    uint8_t                      secret[SHA256_DIGEST_LENGTH];

    /* what a fake credential looks like: copied from the first user in
     * the file that has a credential of the kind */
    int                          fake_plain_md;
    unsigned                     fake_plain_iterations;
    size_t                       fake_plain_salt_len;
    unsigned                     fake_scram_iterations[2];
    size_t                       fake_scram_salt_len[2];
};


typedef struct {
    dev_t                        dev;
    ino_t                        ino;
    off_t                        size;
    time_t                       mtime;
    long                         mtime_nsec;
} hoop_cred_sig_t;


struct hoop_cred_store_s {
    char                        *path;          /* NULL: no file */
    hoop_cred_set_t             *current;
    hoop_cred_sig_t              sig;           /* of current */
    hoop_cred_sig_t              bad_sig;       /* last bad version */
    int                          have_bad;
};


static const char  hoop_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


static void hoop_cred_err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void hoop_cred_user_free(hoop_cred_t *cred);
static int hoop_cred_user_parse(json_t *root, hoop_cred_t *cred, char *err,
    size_t errlen);
static int hoop_cred_plain_parse(json_t *obj, hoop_cred_t *cred, char *err,
    size_t errlen);
static int hoop_cred_scram_parse(json_t *obj, hoop_cred_scram_t *sc,
    size_t key_len, char *err, size_t errlen);
static int hoop_cred_b64_field(json_t *obj, const char *key, uint8_t *dst,
    size_t min, size_t max, size_t *len, char *err, size_t errlen);
static int hoop_cred_iter_field(json_t *obj, const char *key, unsigned min,
    unsigned *out, char *err, size_t errlen);
static int hoop_cred_check_keys(json_t *obj, const char *what,
    const char *const *keys, char *err, size_t errlen);
static int hoop_cred_cmp(const void *a, const void *b);
static int hoop_cred_name_cmp(const char *a, size_t alen, const char *b,
    size_t blen);
static const EVP_MD *hoop_cred_md(int md);
static int hoop_cred_read_file(const char *path, char **buf, size_t *len,
    hoop_cred_sig_t *sig, char *err, size_t errlen);
static void hoop_cred_sig_from_stat(hoop_cred_sig_t *sig,
    const struct stat *st);
static int hoop_cred_sig_eq(const hoop_cred_sig_t *a,
    const hoop_cred_sig_t *b);
static json_t *hoop_cred_b64_json(const uint8_t *src, size_t len);


/* --- mechanisms ----------------------------------------------------------- */

hoop_sasl_mech_t
hoop_sasl_mech_parse(const char *name, size_t len)
{
    static const struct {
        const char        *name;
        hoop_sasl_mech_t   mech;
    } mechs[] = {
        { "PLAIN", HOOP_SASL_MECH_PLAIN },
        { "SCRAM-SHA-256", HOOP_SASL_MECH_SCRAM_SHA_256 },
        { "SCRAM-SHA-512", HOOP_SASL_MECH_SCRAM_SHA_512 },
    };
    size_t  i;

    if (name == NULL) {
        return HOOP_SASL_MECH_NONE;
    }

    for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
        if (strlen(mechs[i].name) == len
            && memcmp(mechs[i].name, name, len) == 0)
        {
            return mechs[i].mech;
        }
    }

    return HOOP_SASL_MECH_NONE;
}


const char *
hoop_sasl_mech_name(hoop_sasl_mech_t mech)
{
    switch (mech) {
    case HOOP_SASL_MECH_PLAIN:
        return "PLAIN";
    case HOOP_SASL_MECH_SCRAM_SHA_256:
        return "SCRAM-SHA-256";
    case HOOP_SASL_MECH_SCRAM_SHA_512:
        return "SCRAM-SHA-512";
    default:
        return "NONE";
    }
}


/* --- helpers -------------------------------------------------------------- */

static void
hoop_cred_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  ap;

    if (err == NULL || errlen == 0) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}


size_t
hoop_b64_encode(char *dst, const uint8_t *src, size_t len)
{
    size_t    i, n;
    uint32_t  v;

    n = 0;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8 | src[i + 2];
        dst[n++] = hoop_b64_chars[v >> 18 & 0x3f];
        dst[n++] = hoop_b64_chars[v >> 12 & 0x3f];
        dst[n++] = hoop_b64_chars[v >> 6 & 0x3f];
        dst[n++] = hoop_b64_chars[v & 0x3f];
    }

    if (len - i == 1) {
        v = (uint32_t) src[i] << 16;
        dst[n++] = hoop_b64_chars[v >> 18 & 0x3f];
        dst[n++] = hoop_b64_chars[v >> 12 & 0x3f];
        dst[n++] = '=';
        dst[n++] = '=';

    } else if (len - i == 2) {
        v = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8;
        dst[n++] = hoop_b64_chars[v >> 18 & 0x3f];
        dst[n++] = hoop_b64_chars[v >> 12 & 0x3f];
        dst[n++] = hoop_b64_chars[v >> 6 & 0x3f];
        dst[n++] = '=';
    }

    dst[n] = '\0';

    return n;
}


static int
hoop_b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}


long
hoop_b64_decode(uint8_t *dst, size_t dstlen, const char *src, size_t len)
{
    size_t    i, k, n, pad, out;
    int       c;
    uint32_t  v;

    if (len % 4 != 0) {
        return -1;
    }

    pad = 0;
    if (len > 0 && src[len - 1] == '=') {
        pad++;
        if (src[len - 2] == '=') {
            pad++;
        }
    }

    out = len / 4 * 3 - pad;
    if (out > dstlen) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i += 4) {
        v = 0;

        for (k = 0; k < 4; k++) {
            if (i + k >= len - pad) {
                c = 0;              /* padding: checked below */

            } else {
                c = hoop_b64_value((unsigned char) src[i + k]);
                if (c < 0) {
                    return -1;
                }
            }

            v = v << 6 | (uint32_t) c;
        }

        if (n < out) {
            dst[n++] = (uint8_t) (v >> 16);
        }
        if (n < out) {
            dst[n++] = (uint8_t) (v >> 8);
        }
        if (n < out) {
            dst[n++] = (uint8_t) v;
        }

        /* canonical: the bits under the padding are zero */
        if (i + 4 == len
            && ((pad == 1 && (v & 0xff) != 0)
                || (pad == 2 && (v & 0xffff) != 0)))
        {
            return -1;
        }
    }

    return (long) out;
}


int
hoop_utf8_name_valid(const uint8_t *s, size_t len)
{
    size_t    i, n, k;
    uint32_t  c, min;

    for (i = 0; i < len; i += n) {
        c = s[i];

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) {
                return 0;
            }
            n = 1;
            continue;
        }

        if ((c & 0xe0) == 0xc0) {
            n = 2;
            c &= 0x1f;
            min = 0x80;

        } else if ((c & 0xf0) == 0xe0) {
            n = 3;
            c &= 0x0f;
            min = 0x800;

        } else if ((c & 0xf8) == 0xf0) {
            n = 4;
            c &= 0x07;
            min = 0x10000;

        } else {
            return 0;
        }

        if (len - i < n) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            c = c << 6 | (s[i + k] & 0x3f);
        }

        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)
            || (c >= 0x80 && c < 0xa0))
        {
            return 0;               /* overlong, surrogate, C1 control */
        }
    }

    return 1;
}


char *
hoop_log_escape(char *dst, size_t dstlen, const char *s, size_t len)
{
    static const char  hex[] = "0123456789abcdef";
    size_t             i, n;
    unsigned char      c;

    if (dstlen == 0) {
        return dst;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            if (n + 1 + 4 > dstlen) {
                goto cut;
            }
            dst[n++] = (char) c;

        } else {
            if (n + 4 + 4 > dstlen) {
                goto cut;
            }
            dst[n++] = '\\';
            dst[n++] = 'x';
            dst[n++] = hex[c >> 4];
            dst[n++] = hex[c & 0xf];
        }
    }

    dst[n] = '\0';
    return dst;

cut:

    if (dstlen >= 4) {
        memcpy(dst + n, "...", 3);
        n += 3;
    }
    dst[n < dstlen ? n : dstlen - 1] = '\0';
    return dst;
}


static const EVP_MD *
hoop_cred_md(int md)
{
    switch (md) {
    case HOOP_CRED_MD_SHA256:
        return EVP_sha256();
    case HOOP_CRED_MD_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}


static int
hoop_cred_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int  rc;

    rc = memcmp(a, b, alen < blen ? alen : blen);
    if (rc != 0) {
        return rc;
    }

    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}


static int
hoop_cred_cmp(const void *a, const void *b)
{
    const hoop_cred_t  *x = a, *y = b;

    return hoop_cred_name_cmp(x->name, x->name_len, y->name, y->name_len);
}


/* --- parsing -------------------------------------------------------------- */

static int
hoop_cred_check_keys(json_t *obj, const char *what, const char *const *keys,
    char *err, size_t errlen)
{
    const char  *key;
    json_t      *val;
    size_t       i;
    char         esc[64];

    json_object_foreach(obj, key, val) {
        (void) val;

        for (i = 0; keys[i] != NULL; i++) {
            if (strcmp(key, keys[i]) == 0) {
                break;
            }
        }

        if (keys[i] == NULL) {
            hoop_cred_err(err, errlen, "%s: unknown key \"%s\"", what,
                          hoop_log_escape(esc, sizeof(esc), key,
                                          strlen(key)));
            return -1;
        }
    }

    return 0;
}


static int
hoop_cred_iter_field(json_t *obj, const char *key, unsigned min,
    unsigned *out, char *err, size_t errlen)
{
    json_t      *v;
    json_int_t   n;

    v = json_object_get(obj, key);
    if (v == NULL || !json_is_integer(v)) {
        hoop_cred_err(err, errlen, "\"%s\" must be an integer", key);
        return -1;
    }

    n = json_integer_value(v);
    if (n < (json_int_t) min || n > HOOP_CRED_ITER_MAX) {
        hoop_cred_err(err, errlen, "\"%s\" must be %u..%u", key, min,
                      (unsigned) HOOP_CRED_ITER_MAX);
        return -1;
    }

    *out = (unsigned) n;

    return 0;
}


static int
hoop_cred_b64_field(json_t *obj, const char *key, uint8_t *dst, size_t min,
    size_t max, size_t *len, char *err, size_t errlen)
{
    json_t  *v;
    long     n;

    v = json_object_get(obj, key);
    if (v == NULL || !json_is_string(v)) {
        hoop_cred_err(err, errlen, "\"%s\" must be a base64 string", key);
        return -1;
    }

    n = hoop_b64_decode(dst, max, json_string_value(v), json_string_length(v));
    if (n < 0 || (size_t) n < min || (size_t) n > max) {
        if (min == max) {
            hoop_cred_err(err, errlen, "\"%s\": not base64 of %zu bytes",
                          key, min);
        } else {
            hoop_cred_err(err, errlen, "\"%s\": not base64 of %zu..%zu "
                          "bytes", key, min, max);
        }
        return -1;
    }

    if (len != NULL) {
        *len = (size_t) n;
    }

    return 0;
}


static int
hoop_cred_plain_parse(json_t *obj, hoop_cred_t *cred, char *err,
    size_t errlen)
{
    static const char *const  keys[] = {
        "kdf", "iterations", "salt", "hash", NULL
    };
    json_t                   *kdf;
    const char               *s;

    if (!json_is_object(obj)) {
        hoop_cred_err(err, errlen, "\"plain\" must be an object");
        return -1;
    }

    if (hoop_cred_check_keys(obj, "plain", keys, err, errlen) != 0) {
        return -1;
    }

    kdf = json_object_get(obj, "kdf");
    s = json_is_string(kdf) ? json_string_value(kdf) : "";

    if (strcmp(s, "pbkdf2-sha256") == 0) {
        cred->plain_md = HOOP_CRED_MD_SHA256;
        cred->plain_hash_len = 32;

    } else if (strcmp(s, "pbkdf2-sha512") == 0) {
        cred->plain_md = HOOP_CRED_MD_SHA512;
        cred->plain_hash_len = 64;

    } else {
        hoop_cred_err(err, errlen, "plain: \"kdf\" must be \"pbkdf2-sha256\" "
                      "or \"pbkdf2-sha512\"");
        return -1;
    }

    if (hoop_cred_iter_field(obj, "iterations", HOOP_CRED_ITER_MIN_PLAIN,
                             &cred->plain_iterations, err, errlen) != 0
        || hoop_cred_b64_field(obj, "salt", cred->plain_salt,
                               HOOP_CRED_SALT_MIN, HOOP_CRED_SALT_MAX,
                               &cred->plain_salt_len, err, errlen) != 0
        || hoop_cred_b64_field(obj, "hash", cred->plain_hash,
                               cred->plain_hash_len, cred->plain_hash_len,
                               NULL, err, errlen) != 0)
    {
        return -1;
    }

    return 0;
}


static int
hoop_cred_scram_parse(json_t *obj, hoop_cred_scram_t *sc, size_t key_len,
    char *err, size_t errlen)
{
    static const char *const  keys[] = {
        "iterations", "salt", "stored_key", "server_key", NULL
    };

    if (!json_is_object(obj)) {
        hoop_cred_err(err, errlen, "SCRAM credential must be an object");
        return -1;
    }

    if (hoop_cred_check_keys(obj, "scram", keys, err, errlen) != 0) {
        return -1;
    }

    sc->key_len = key_len;

    if (hoop_cred_iter_field(obj, "iterations", HOOP_CRED_ITER_MIN_SCRAM,
                             &sc->iterations, err, errlen) != 0
        || hoop_cred_b64_field(obj, "salt", sc->salt, HOOP_CRED_SALT_MIN,
                               HOOP_CRED_SALT_MAX, &sc->salt_len, err,
                               errlen) != 0
        || hoop_cred_b64_field(obj, "stored_key", sc->stored_key, key_len,
                               key_len, NULL, err, errlen) != 0
        || hoop_cred_b64_field(obj, "server_key", sc->server_key, key_len,
                               key_len, NULL, err, errlen) != 0)
    {
        return -1;
    }

    return 0;
}


static int
hoop_cred_user_parse(json_t *root, hoop_cred_t *cred, char *err,
    size_t errlen)
{
    static const char *const  keys[] = {
        "user", "groups", "plain", "scram-sha-256", "scram-sha-512", NULL
    };
    json_t                   *v, *g;
    size_t                    i, len;
    const char               *s;

    if (!json_is_object(root)) {
        hoop_cred_err(err, errlen, "not a JSON object");
        return -1;
    }

    if (hoop_cred_check_keys(root, "user entry", keys, err, errlen) != 0) {
        return -1;
    }

    v = json_object_get(root, "user");
    if (v == NULL || !json_is_string(v)) {
        hoop_cred_err(err, errlen, "\"user\" must be a string");
        return -1;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (len == 0 || len > HOOP_CRED_NAME_MAX
        || !hoop_utf8_name_valid((const uint8_t *) s, len))
    {
        hoop_cred_err(err, errlen, "\"user\" must be 1..%d bytes of UTF-8 "
                      "without control characters", HOOP_CRED_NAME_MAX);
        return -1;
    }

    cred->name = malloc(len + 1);
    if (cred->name == NULL) {
        hoop_cred_err(err, errlen, "out of memory");
        return -1;
    }

    memcpy(cred->name, s, len + 1);
    cred->name_len = len;

    v = json_object_get(root, "groups");
    if (v != NULL) {
        if (!json_is_array(v) || json_array_size(v) > HOOP_CRED_GROUPS_MAX) {
            hoop_cred_err(err, errlen, "\"groups\" must be an array of at "
                          "most %d strings", HOOP_CRED_GROUPS_MAX);
            return -1;
        }

        if (json_array_size(v) > 0) {
            cred->groups = calloc(json_array_size(v), sizeof(char *));
            if (cred->groups == NULL) {
                hoop_cred_err(err, errlen, "out of memory");
                return -1;
            }
        }

        json_array_foreach(v, i, g) {
            if (!json_is_string(g)) {
                hoop_cred_err(err, errlen, "\"groups\" must hold strings");
                return -1;
            }

            s = json_string_value(g);
            len = json_string_length(g);

            if (len == 0 || len > HOOP_CRED_NAME_MAX
                || !hoop_utf8_name_valid((const uint8_t *) s, len))
            {
                hoop_cred_err(err, errlen, "a group must be 1..%d bytes of "
                              "UTF-8 without control characters",
                              HOOP_CRED_NAME_MAX);
                return -1;
            }

            cred->groups[i] = malloc(len + 1);
            if (cred->groups[i] == NULL) {
                hoop_cred_err(err, errlen, "out of memory");
                return -1;
            }

            memcpy(cred->groups[i], s, len + 1);
            cred->ngroups = i + 1;
        }
    }

    v = json_object_get(root, "plain");
    if (v != NULL) {
        if (hoop_cred_plain_parse(v, cred, err, errlen) != 0) {
            return -1;
        }
        cred->has |= HOOP_CRED_WANT_PLAIN;
    }

    v = json_object_get(root, "scram-sha-256");
    if (v != NULL) {
        if (hoop_cred_scram_parse(v, &cred->scram[HOOP_CRED_SCRAM_256], 32,
                                  err, errlen) != 0)
        {
            return -1;
        }
        cred->has |= HOOP_CRED_WANT_SCRAM_256;
    }

    v = json_object_get(root, "scram-sha-512");
    if (v != NULL) {
        if (hoop_cred_scram_parse(v, &cred->scram[HOOP_CRED_SCRAM_512], 64,
                                  err, errlen) != 0)
        {
            return -1;
        }
        cred->has |= HOOP_CRED_WANT_SCRAM_512;
    }

    if (cred->has == 0) {
        hoop_cred_err(err, errlen, "no credential: need \"plain\", "
                      "\"scram-sha-256\" or \"scram-sha-512\"");
        return -1;
    }

    return 0;
}


static void
hoop_cred_user_free(hoop_cred_t *cred)
{
    size_t  i;

    free(cred->name);

    for (i = 0; i < cred->ngroups; i++) {
        free(cred->groups[i]);
    }

    free(cred->groups);

    OPENSSL_cleanse(cred, sizeof(*cred));
}


hoop_cred_set_t *
hoop_cred_set_parse(const char *buf, size_t len, char *err, size_t errlen)
{
    hoop_cred_set_t  *set;
    hoop_cred_t      *users, *cred;
    json_t           *root;
    json_error_t      jerr;
    const char       *p, *end, *nl, *b, *e;
    size_t            cap, i, k;
    unsigned          line, seen;
    int               rc;
    char              msg[256], esc[64];
    EVP_MD_CTX       *md;

    set = calloc(1, sizeof(hoop_cred_set_t));
    if (set == NULL) {
        hoop_cred_err(err, errlen, "out of memory");
        return NULL;
    }

    set->refs = 1;
    set->fake_plain_md = HOOP_CRED_MD_SHA256;
    set->fake_plain_iterations = HOOP_CRED_ITER_DEFAULT;
    set->fake_plain_salt_len = HOOP_CRED_SALT_DEFAULT;
    for (i = 0; i < 2; i++) {
        set->fake_scram_iterations[i] = HOOP_CRED_ITER_DEFAULT;
        set->fake_scram_salt_len[i] = HOOP_CRED_SALT_DEFAULT;
    }

    cap = 0;
    line = 0;
    seen = 0;
    p = buf;
    end = buf + len;

    while (p < end) {
        line++;

        nl = memchr(p, '\n', (size_t) (end - p));
        e = nl ? nl : end;
        b = p;
        p = nl ? nl + 1 : end;

        while (b < e && (*b == ' ' || *b == '\t' || *b == '\r')) {
            b++;
        }
        while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) {
            e--;
        }

        if (b == e || *b == '#') {
            continue;
        }

        if (memchr(b, '\0', (size_t) (e - b)) != NULL) {
            hoop_cred_err(err, errlen, "line %u: NUL byte", line);
            goto failed;
        }

        root = json_loadb(b, (size_t) (e - b), JSON_REJECT_DUPLICATES, &jerr);
        if (root == NULL) {
            hoop_cred_err(err, errlen, "line %u: bad JSON: %s", line,
                          hoop_log_escape(esc, sizeof(esc), jerr.text,
                                          strlen(jerr.text)));
            goto failed;
        }

        if (set->nusers == cap) {
            cap = cap ? cap * 2 : 16;
            users = realloc(set->users, cap * sizeof(hoop_cred_t));
            if (users == NULL) {
                json_decref(root);
                hoop_cred_err(err, errlen, "out of memory");
                goto failed;
            }
            set->users = users;
        }

        cred = &set->users[set->nusers++];
        memset(cred, 0, sizeof(hoop_cred_t));
        cred->line = line;

        rc = hoop_cred_user_parse(root, cred, msg, sizeof(msg));
        json_decref(root);

        if (rc != 0) {
            hoop_cred_err(err, errlen, "line %u: %s", line, msg);
            goto failed;
        }
    }

    /* fake credentials look like those of the first user (in file order)
     * that has one of the kind */

    for (i = 0; i < set->nusers; i++) {
        cred = &set->users[i];

        if ((cred->has & HOOP_CRED_WANT_PLAIN) && !(seen & 1)) {
            set->fake_plain_md = cred->plain_md;
            set->fake_plain_iterations = cred->plain_iterations;
            set->fake_plain_salt_len = cred->plain_salt_len;
            seen |= 1;
        }

        for (k = 0; k < 2; k++) {
            if ((cred->has & (HOOP_CRED_WANT_SCRAM_256 << k))
                && !(seen & (2u << k)))
            {
                set->fake_scram_iterations[k] = cred->scram[k].iterations;
                set->fake_scram_salt_len[k] = cred->scram[k].salt_len;
                seen |= 2u << k;
            }
        }
    }

    if (set->nusers > 1) {
        qsort(set->users, set->nusers, sizeof(hoop_cred_t), hoop_cred_cmp);

        for (i = 1; i < set->nusers; i++) {
            if (hoop_cred_cmp(&set->users[i - 1], &set->users[i]) == 0) {
                cred = &set->users[i];
                hoop_cred_err(err, errlen, "line %u: duplicate user \"%s\"",
                              cred->line > set->users[i - 1].line
                              ? cred->line : set->users[i - 1].line,
                              hoop_log_escape(esc, sizeof(esc), cred->name,
                                              cred->name_len));
                goto failed;
            }
        }
    }

    /* the secret for fake salts: a hash of the whole file */

    md = EVP_MD_CTX_new();
    if (md == NULL
        || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(md, "hoop-cred-fake-v1", 18) != 1
        || EVP_DigestUpdate(md, buf, len) != 1
        || EVP_DigestFinal_ex(md, set->secret, NULL) != 1)
    {
        EVP_MD_CTX_free(md);
        hoop_cred_err(err, errlen, "OpenSSL: SHA-256 failed");
        goto failed;
    }

    EVP_MD_CTX_free(md);

    return set;

failed:

    hoop_cred_set_unref(set);
    return NULL;
}


hoop_cred_set_t *
hoop_cred_set_ref(hoop_cred_set_t *set)
{
    set->refs++;
    return set;
}


void
hoop_cred_set_unref(hoop_cred_set_t *set)
{
    size_t  i;

    if (set == NULL || --set->refs > 0) {
        return;
    }

    for (i = 0; i < set->nusers; i++) {
        hoop_cred_user_free(&set->users[i]);
    }

    free(set->users);
    OPENSSL_cleanse(set, sizeof(*set));
    free(set);
}


size_t
hoop_cred_set_count(const hoop_cred_set_t *set)
{
    return set->nusers;
}


const hoop_cred_t *
hoop_cred_set_find(const hoop_cred_set_t *set, const char *name, size_t len)
{
    size_t              lo, hi, mid;
    int                 rc;
    const hoop_cred_t  *cred;

    lo = 0;
    hi = set->nusers;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        cred = &set->users[mid];

        rc = hoop_cred_name_cmp(name, len, cred->name, cred->name_len);
        if (rc == 0) {
            return cred;
        }

        if (rc < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


/* --- users ---------------------------------------------------------------- */

const char *
hoop_cred_name(const hoop_cred_t *cred)
{
    return cred->name;
}


size_t
hoop_cred_ngroups(const hoop_cred_t *cred)
{
    return cred->ngroups;
}


const char *
hoop_cred_group(const hoop_cred_t *cred, size_t i)
{
    return i < cred->ngroups ? cred->groups[i] : NULL;
}


int
hoop_cred_has(const hoop_cred_t *cred, hoop_sasl_mech_t mech)
{
    switch (mech) {
    case HOOP_SASL_MECH_PLAIN:
        return (cred->has & HOOP_CRED_WANT_PLAIN) != 0;
    case HOOP_SASL_MECH_SCRAM_SHA_256:
        return (cred->has & HOOP_CRED_WANT_SCRAM_256) != 0;
    case HOOP_SASL_MECH_SCRAM_SHA_512:
        return (cred->has & HOOP_CRED_WANT_SCRAM_512) != 0;
    default:
        return 0;
    }
}


int
hoop_cred_verify_plain(const hoop_cred_set_t *set, const hoop_cred_t *cred,
    const uint8_t *pw, size_t pwlen)
{
    const EVP_MD   *md;
    const uint8_t  *salt, *expect;
    uint8_t         fake_salt[HOOP_CRED_SALT_MAX];
    uint8_t         fake_hash[HOOP_CRED_KEY_MAX];
    uint8_t         derived[HOOP_CRED_KEY_MAX];
    unsigned        iterations;
    size_t          salt_len, hash_len;
    int             real, ok;

    real = cred != NULL && (cred->has & HOOP_CRED_WANT_PLAIN);

    if (real) {
        md = hoop_cred_md(cred->plain_md);
        iterations = cred->plain_iterations;
        salt = cred->plain_salt;
        salt_len = cred->plain_salt_len;
        expect = cred->plain_hash;
        hash_len = cred->plain_hash_len;

    } else {
        /* the same work against a verifier no password matches */
        md = hoop_cred_md(set->fake_plain_md);
        iterations = set->fake_plain_iterations;
        hash_len = (size_t) EVP_MD_get_size(md);
        salt_len = set->fake_plain_salt_len;
        memcpy(fake_salt, set->secret,
               salt_len < sizeof(set->secret) ? salt_len
                                              : sizeof(set->secret));
        if (salt_len > sizeof(set->secret)) {
            memset(fake_salt + sizeof(set->secret), 0x5c,
                   salt_len - sizeof(set->secret));
        }
        salt = fake_salt;
        if (RAND_bytes(fake_hash, (int) hash_len) != 1) {
            memset(fake_hash, 0, sizeof(fake_hash));
        }
        expect = fake_hash;
    }

    if (pwlen > 0x7fffffff
        || PKCS5_PBKDF2_HMAC((const char *) pw, (int) pwlen, salt,
                             (int) salt_len, (int) iterations, md,
                             (int) hash_len, derived) != 1)
    {
        OPENSSL_cleanse(derived, sizeof(derived));
        return 0;
    }

    ok = CRYPTO_memcmp(derived, expect, hash_len) == 0;

    OPENSSL_cleanse(derived, sizeof(derived));

    return real && ok;
}


int
hoop_cred_scram_get(const hoop_cred_set_t *set, const hoop_cred_t *cred,
    hoop_sasl_mech_t mech, const char *name, size_t len,
    hoop_cred_scram_t *out)
{
    int          idx;
    size_t       n;
    unsigned     maclen;
    const char  *label;
    uint8_t      msg[32 + HOOP_CRED_NAME_MAX];
    uint8_t      mac[EVP_MAX_MD_SIZE];

    switch (mech) {
    case HOOP_SASL_MECH_SCRAM_SHA_256:
        idx = HOOP_CRED_SCRAM_256;
        break;
    case HOOP_SASL_MECH_SCRAM_SHA_512:
        idx = HOOP_CRED_SCRAM_512;
        break;
    default:
        return -1;
    }

    if (cred != NULL && (cred->has & (HOOP_CRED_WANT_SCRAM_256 << idx))) {
        *out = cred->scram[idx];
        return 1;
    }

    memset(out, 0, sizeof(*out));

    out->iterations = set->fake_scram_iterations[idx];
    out->salt_len = set->fake_scram_salt_len[idx];
    out->key_len = idx == HOOP_CRED_SCRAM_256 ? 32 : 64;

    /* salt := HMAC-SHA-512(secret, mech NUL name), cut to salt_len; names
     * longer than any real one share the salt of their prefix */

    label = hoop_sasl_mech_name(mech);
    n = strlen(label) + 1;
    memcpy(msg, label, n);

    if (len > HOOP_CRED_NAME_MAX) {
        len = HOOP_CRED_NAME_MAX;
    }
    if (len > 0) {
        memcpy(msg + n, name, len);
    }
    n += len;

    maclen = 0;
    if (HMAC(EVP_sha512(), set->secret, (int) sizeof(set->secret), msg, n,
             mac, &maclen) == NULL
        || maclen < out->salt_len)
    {
        return -1;
    }

    memcpy(out->salt, mac, out->salt_len);

    /* keys no proof matches */
    if (RAND_bytes(out->stored_key, (int) out->key_len) != 1
        || RAND_bytes(out->server_key, (int) out->key_len) != 1)
    {
        return -1;
    }

    return 0;
}


int
hoop_cred_scram_derive(hoop_sasl_mech_t mech, const uint8_t *pw,
    size_t pwlen, const uint8_t *salt, size_t salt_len, unsigned iterations,
    uint8_t *stored_key, uint8_t *server_key)
{
    const EVP_MD  *md;
    int            len, rc;
    unsigned       n;
    uint8_t        salted[HOOP_CRED_KEY_MAX];
    uint8_t        client_key[HOOP_CRED_KEY_MAX];

    switch (mech) {
    case HOOP_SASL_MECH_SCRAM_SHA_256:
        md = EVP_sha256();
        break;
    case HOOP_SASL_MECH_SCRAM_SHA_512:
        md = EVP_sha512();
        break;
    default:
        return -1;
    }

    len = EVP_MD_get_size(md);
    rc = -1;

    /* SaltedPassword := Hi(password, salt, i): PBKDF2 with HMAC-H and
     * one block of H's output length (RFC 5802 section 2.2) */

    if (pwlen > 0x7fffffff || salt_len > 0x7fffffff || iterations == 0
        || iterations > 0x7fffffff
        || PKCS5_PBKDF2_HMAC((const char *) pw, (int) pwlen, salt,
                             (int) salt_len, (int) iterations, md, len,
                             salted) != 1)
    {
        goto done;
    }

    /* ClientKey := HMAC(SaltedPassword, "Client Key"),
     * StoredKey := H(ClientKey),
     * ServerKey := HMAC(SaltedPassword, "Server Key") */

    if (HMAC(md, salted, len, (const uint8_t *) "Client Key", 10,
             client_key, &n) == NULL
        || EVP_Digest(client_key, (size_t) len, stored_key, &n, md, NULL)
           != 1
        || HMAC(md, salted, len, (const uint8_t *) "Server Key", 10,
                server_key, &n) == NULL)
    {
        goto done;
    }

    rc = len;

done:

    OPENSSL_cleanse(salted, sizeof(salted));
    OPENSSL_cleanse(client_key, sizeof(client_key));

    return rc;
}


static json_t *
hoop_cred_b64_json(const uint8_t *src, size_t len)
{
    char  b64[4 * ((HOOP_CRED_KEY_MAX + 2) / 3) + 1];

    if (len > HOOP_CRED_KEY_MAX) {
        return NULL;
    }

    hoop_b64_encode(b64, src, len);

    return json_string(b64);
}


char *
hoop_cred_entry_create(const char *user, const char *const *groups,
    size_t ngroups, const uint8_t *pw, size_t pwlen, unsigned mechs,
    unsigned iterations, unsigned plain_iterations, int plain_md,
    char *err, size_t errlen)
{
    json_t            *root, *arr, *obj;
    char              *line;
    size_t             i, hash_len;
    int                k, fail;
    uint8_t            salt[HOOP_CRED_SALT_DEFAULT];
    uint8_t            stored[HOOP_CRED_KEY_MAX], server[HOOP_CRED_KEY_MAX];
    uint8_t            hash[HOOP_CRED_KEY_MAX];
    hoop_sasl_mech_t   mech;
    const char        *key;

    if (user == NULL || strlen(user) == 0 || strlen(user) > HOOP_CRED_NAME_MAX
        || !hoop_utf8_name_valid((const uint8_t *) user, strlen(user)))
    {
        hoop_cred_err(err, errlen, "the user name must be 1..%d bytes of "
                      "UTF-8 without control characters", HOOP_CRED_NAME_MAX);
        return NULL;
    }

    if (ngroups > HOOP_CRED_GROUPS_MAX) {
        hoop_cred_err(err, errlen, "at most %d groups", HOOP_CRED_GROUPS_MAX);
        return NULL;
    }

    for (i = 0; i < ngroups; i++) {
        if (strlen(groups[i]) == 0 || strlen(groups[i]) > HOOP_CRED_NAME_MAX
            || !hoop_utf8_name_valid((const uint8_t *) groups[i],
                                     strlen(groups[i])))
        {
            hoop_cred_err(err, errlen, "a group name must be 1..%d bytes of "
                          "UTF-8 without control characters",
                          HOOP_CRED_NAME_MAX);
            return NULL;
        }
    }

    if (pwlen == 0 || pwlen > HOOP_CRED_PASS_MAX) {
        hoop_cred_err(err, errlen, "the password must be 1..%d bytes",
                      HOOP_CRED_PASS_MAX);
        return NULL;
    }

    if ((mechs & HOOP_CRED_WANT_ALL) == 0
        || (mechs & ~(unsigned) HOOP_CRED_WANT_ALL) != 0)
    {
        hoop_cred_err(err, errlen, "no mechanism selected");
        return NULL;
    }

    if ((mechs & (HOOP_CRED_WANT_SCRAM_256 | HOOP_CRED_WANT_SCRAM_512))
        && (iterations < HOOP_CRED_ITER_MIN_SCRAM
            || iterations > HOOP_CRED_ITER_MAX))
    {
        hoop_cred_err(err, errlen, "SCRAM iterations must be %d..%d",
                      HOOP_CRED_ITER_MIN_SCRAM, HOOP_CRED_ITER_MAX);
        return NULL;
    }

    if ((mechs & HOOP_CRED_WANT_PLAIN)
        && (plain_iterations < HOOP_CRED_ITER_MIN_PLAIN
            || plain_iterations > HOOP_CRED_ITER_MAX
            || hoop_cred_md(plain_md) == NULL))
    {
        hoop_cred_err(err, errlen, "PLAIN iterations must be %d..%d",
                      HOOP_CRED_ITER_MIN_PLAIN, HOOP_CRED_ITER_MAX);
        return NULL;
    }

    line = NULL;
    fail = 1;

    root = json_object();
    if (root == NULL) {
        goto nomem;
    }

    if (json_object_set_new(root, "user", json_string(user)) != 0) {
        goto nomem;
    }

    arr = json_array();
    if (arr == NULL || json_object_set_new(root, "groups", arr) != 0) {
        goto nomem;
    }

    for (i = 0; i < ngroups; i++) {
        if (json_array_append_new(arr, json_string(groups[i])) != 0) {
            goto nomem;
        }
    }

    if (mechs & HOOP_CRED_WANT_PLAIN) {
        hash_len = plain_md == HOOP_CRED_MD_SHA512 ? 64 : 32;

        if (RAND_bytes(salt, sizeof(salt)) != 1
            || PKCS5_PBKDF2_HMAC((const char *) pw, (int) pwlen, salt,
                                 sizeof(salt), (int) plain_iterations,
                                 hoop_cred_md(plain_md), (int) hash_len,
                                 hash) != 1)
        {
            hoop_cred_err(err, errlen, "OpenSSL: PBKDF2 failed");
            goto done;
        }

        obj = json_object();
        if (obj == NULL || json_object_set_new(root, "plain", obj) != 0
            || json_object_set_new(obj, "kdf", json_string(
                   plain_md == HOOP_CRED_MD_SHA512 ? "pbkdf2-sha512"
                                                   : "pbkdf2-sha256")) != 0
            || json_object_set_new(obj, "iterations",
                                   json_integer(plain_iterations)) != 0
            || json_object_set_new(obj, "salt",
                                   hoop_cred_b64_json(salt, sizeof(salt))) != 0
            || json_object_set_new(obj, "hash",
                                   hoop_cred_b64_json(hash, hash_len)) != 0)
        {
            goto nomem;
        }
    }

    for (k = 0; k < 2; k++) {
        if (!(mechs & (HOOP_CRED_WANT_SCRAM_256 << k))) {
            continue;
        }

        mech = k == 0 ? HOOP_SASL_MECH_SCRAM_SHA_256
                      : HOOP_SASL_MECH_SCRAM_SHA_512;
        key = k == 0 ? "scram-sha-256" : "scram-sha-512";

        if (RAND_bytes(salt, sizeof(salt)) != 1) {
            hoop_cred_err(err, errlen, "OpenSSL: RAND_bytes failed");
            goto done;
        }

        hash_len = (size_t) hoop_cred_scram_derive(mech, pw, pwlen, salt,
                                                   sizeof(salt), iterations,
                                                   stored, server);
        if (hash_len != 32 && hash_len != 64) {
            hoop_cred_err(err, errlen, "OpenSSL: SCRAM key derivation "
                          "failed");
            goto done;
        }

        obj = json_object();
        if (obj == NULL || json_object_set_new(root, key, obj) != 0
            || json_object_set_new(obj, "iterations",
                                   json_integer(iterations)) != 0
            || json_object_set_new(obj, "salt",
                                   hoop_cred_b64_json(salt, sizeof(salt))) != 0
            || json_object_set_new(obj, "stored_key",
                                   hoop_cred_b64_json(stored, hash_len)) != 0
            || json_object_set_new(obj, "server_key",
                                   hoop_cred_b64_json(server, hash_len)) != 0)
        {
            goto nomem;
        }
    }

    line = json_dumps(root, JSON_COMPACT);
    if (line == NULL) {
        goto nomem;
    }

    fail = 0;
    goto done;

nomem:

    hoop_cred_err(err, errlen, "out of memory");

done:

    json_decref(root);
    OPENSSL_cleanse(hash, sizeof(hash));

    if (fail) {
        free(line);
        return NULL;
    }

    return line;
}


/* --- stores --------------------------------------------------------------- */

static void
hoop_cred_sig_from_stat(hoop_cred_sig_t *sig, const struct stat *st)
{
    memset(sig, 0, sizeof(*sig));
    sig->dev = st->st_dev;
    sig->ino = st->st_ino;
    sig->size = st->st_size;
    sig->mtime = st->st_mtim.tv_sec;
    sig->mtime_nsec = st->st_mtim.tv_nsec;
}


static int
hoop_cred_sig_eq(const hoop_cred_sig_t *a, const hoop_cred_sig_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size
           && a->mtime == b->mtime && a->mtime_nsec == b->mtime_nsec;
}


static int
hoop_cred_read_file(const char *path, char **buf, size_t *len,
    hoop_cred_sig_t *sig, char *err, size_t errlen)
{
    int          fd;
    struct stat  st;
    char        *p, *np;
    size_t       cap, n;
    ssize_t      r;

    *buf = NULL;
    *len = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        hoop_cred_err(err, errlen, "open(\"%s\"): %s", path, strerror(errno));
        return -1;
    }

    if (fstat(fd, &st) == -1) {
        hoop_cred_err(err, errlen, "fstat(\"%s\"): %s", path,
                      strerror(errno));
        close(fd);
        return -1;
    }

    if (!S_ISREG(st.st_mode)) {
        hoop_cred_err(err, errlen, "\"%s\" is not a regular file", path);
        close(fd);
        return -1;
    }

    if (st.st_size > HOOP_CRED_FILE_MAX) {
        hoop_cred_err(err, errlen, "\"%s\" is larger than %d bytes", path,
                      HOOP_CRED_FILE_MAX);
        close(fd);
        return -1;
    }

    hoop_cred_sig_from_stat(sig, &st);

    cap = (size_t) st.st_size + 1;
    p = malloc(cap);
    if (p == NULL) {
        hoop_cred_err(err, errlen, "out of memory");
        close(fd);
        return -1;
    }

    n = 0;

    for ( ;; ) {
        if (n == cap) {
            if (cap > HOOP_CRED_FILE_MAX) {
                hoop_cred_err(err, errlen, "\"%s\" is larger than %d bytes",
                              path, HOOP_CRED_FILE_MAX);
                goto failed;
            }

            np = realloc(p, cap * 2);
            if (np == NULL) {
                hoop_cred_err(err, errlen, "out of memory");
                goto failed;
            }
            p = np;
            cap *= 2;
        }

        r = read(fd, p + n, cap - n);

        if (r == -1) {
            if (errno == EINTR) {
                continue;
            }
            hoop_cred_err(err, errlen, "read(\"%s\"): %s", path,
                          strerror(errno));
            goto failed;
        }

        if (r == 0) {
            break;
        }

        n += (size_t) r;
    }

    close(fd);

    *buf = p;
    *len = n;

    return 0;

failed:

    close(fd);
    OPENSSL_cleanse(p, cap);
    free(p);
    return -1;
}


hoop_cred_store_t *
hoop_cred_store_open(const char *path, char *err, size_t errlen)
{
    hoop_cred_store_t  *store;

    store = calloc(1, sizeof(hoop_cred_store_t));
    if (store == NULL) {
        hoop_cred_err(err, errlen, "out of memory");
        return NULL;
    }

    store->path = strdup(path);
    if (store->path == NULL) {
        hoop_cred_err(err, errlen, "out of memory");
        free(store);
        return NULL;
    }

    if (hoop_cred_store_reload(store, err, errlen) != HOOP_CRED_RELOADED) {
        hoop_cred_store_free(store);
        return NULL;
    }

    return store;
}


hoop_cred_store_t *
hoop_cred_store_from_set(hoop_cred_set_t *set)
{
    hoop_cred_store_t  *store;

    store = calloc(1, sizeof(hoop_cred_store_t));
    if (store == NULL) {
        hoop_cred_set_unref(set);
        return NULL;
    }

    store->current = set;

    return store;
}


int
hoop_cred_store_reload(hoop_cred_store_t *store, char *err, size_t errlen)
{
    struct stat       st;
    hoop_cred_sig_t   sig;
    hoop_cred_set_t  *set;
    char             *buf, msg[256];
    size_t            len;

    if (store->path == NULL) {
        return HOOP_CRED_UNCHANGED;
    }

    if (stat(store->path, &st) == -1) {
        hoop_cred_err(err, errlen, "stat(\"%s\"): %s", store->path,
                      strerror(errno));
        return HOOP_CRED_FAILED;
    }

    hoop_cred_sig_from_stat(&sig, &st);

    if (store->current != NULL && hoop_cred_sig_eq(&sig, &store->sig)) {
        return HOOP_CRED_UNCHANGED;
    }

    if (store->have_bad && hoop_cred_sig_eq(&sig, &store->bad_sig)) {
        return HOOP_CRED_UNCHANGED;
    }

    if (hoop_cred_read_file(store->path, &buf, &len, &sig, err, errlen)
        != 0)
    {
        return HOOP_CRED_FAILED;
    }

    set = hoop_cred_set_parse(buf, len, msg, sizeof(msg));

    OPENSSL_cleanse(buf, len);
    free(buf);

    if (set == NULL) {
        hoop_cred_err(err, errlen, "%s: %s%s", store->path, msg,
                      store->current ? " (keeping the last good version)"
                                     : "");
        store->bad_sig = sig;
        store->have_bad = 1;
        return HOOP_CRED_FAILED;
    }

    hoop_cred_set_unref(store->current);
    store->current = set;
    store->sig = sig;
    store->have_bad = 0;

    return HOOP_CRED_RELOADED;
}


hoop_cred_set_t *
hoop_cred_store_current(hoop_cred_store_t *store)
{
    return store->current;
}


void
hoop_cred_store_free(hoop_cred_store_t *store)
{
    if (store == NULL) {
        return;
    }

    hoop_cred_set_unref(store->current);
    free(store->path);
    free(store);
}
