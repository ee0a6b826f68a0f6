/*
 * hoopctl jwks push FILE | fetch ISSUER_URL | show: the OIDC JWK Set that
 * gateways with "hoop_oauth_jwks redis" use (docs/redis-layout.md).
 *
 *   PREFIX oauth:jwks          the JWK Set, JSON, as validated
 *   PREFIX oauth:jwks:sha256   its SHA-256 (hex)
 *   PREFIX policy:notify       {"jwks":"SHA256"} after each store
 *
 * A set is validated with the gateway's own parser (hoop_jwks_parse)
 * before it is stored: an invalid set is refused and nothing changes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/sha.h>

#include "hoopctl.h"
#include "hoop_jwt.h"


#define HOOPCTL_JWKS_KEY      "oauth:jwks"
#define HOOPCTL_JWKS_SHA256   "oauth:jwks:sha256"
#define HOOPCTL_JWKS_MAX      (1024 * 1024)
#define HOOPCTL_HTTP_TIMEOUT  10L


static size_t
hoopctl_jwks_write(char *ptr, size_t size, size_t nmemb, void *data)
{
    hoopctl_buf_t  *b = data;

    if (b->len + size * nmemb > HOOPCTL_JWKS_MAX) {
        return 0;
    }

    hoopctl_buf_add(b, ptr, size * nmemb);
    return size * nmemb;
}


/* GET url into b; 0, or -1 (printed) */
static int
hoopctl_jwks_get(const char *url, hoopctl_buf_t *b)
{
    long       status;
    CURL      *c;
    CURLcode   rc;
    char       err[CURL_ERROR_SIZE];

    c = curl_easy_init();
    if (c == NULL) {
        hoopctl_error("cannot start libcurl");
        return -1;
    }

    err[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hoopctl_jwks_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, HOOPCTL_HTTP_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS,
                     (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS,
                     (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif

    rc = curl_easy_perform(c);

    if (rc != CURLE_OK) {
        hoopctl_error("GET %s: %s", url,
                      err[0] ? err : curl_easy_strerror(rc));
        curl_easy_cleanup(c);
        return -1;
    }

    status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);

    if (status != 200) {
        hoopctl_error("GET %s: HTTP status %ld", url, status);
        return -1;
    }

    return 0;
}


/* validates and stores text; HOOPCTL_OK, _NO (invalid set) or _ERROR */
static int
hoopctl_jwks_store(const char *redis, const char *prefix, const char *what,
    const char *text, size_t len, int json)
{
    int               i, rc;
    char              err[256], hex[65];
    char             *key, *skey, *chan, note[100];
    size_t            n;
    redisReply       *r;
    hoop_jwks_t      *set;
    unsigned char     md[SHA256_DIGEST_LENGTH];
    hoopctl_store_t   s;

    err[0] = '\0';
    set = hoop_jwks_parse(text, len, err, sizeof(err));

    if (set == NULL) {
        hoopctl_error("%s: not a usable JWK Set: %s; nothing stored", what,
                      err[0] ? err : "no usable signing key");
        return HOOPCTL_NO;
    }

    n = hoop_jwks_count(set);
    hoop_jwks_free(set);

    if (err[0]) {
        fprintf(stderr, "hoopctl: %s: %s\n", what, err);
    }

    SHA256((const unsigned char *) text, len, md);
    for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }

    if (hoopctl_store_open(&s, redis, prefix) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    key = hoopctl_store_key(&s, HOOPCTL_JWKS_KEY, 0);
    skey = hoopctl_store_key(&s, HOOPCTL_JWKS_SHA256, 0);
    chan = hoopctl_store_key(&s, HOOPCTL_CHANNEL, 0);
    snprintf(note, sizeof(note), "{\"jwks\":\"%s\"}", hex);

    rc = HOOPCTL_OK;

    /* MSET: both keys change together; then the notice */
    r = redisCommand(s.ctx, "MSET %s %b %s %s", key, text, len, skey, hex);

    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        hoopctl_error("Redis at %s: MSET %s: %s", s.where, key,
                      r ? r->str : (s.ctx->errstr[0] ? s.ctx->errstr
                                                     : "no answer"));
        rc = HOOPCTL_ERROR;

    } else {
        freeReplyObject(r);
        r = redisCommand(s.ctx, "PUBLISH %s %s", chan, note);

        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            hoopctl_error("Redis at %s: PUBLISH %s failed (gateways pick "
                          "the set up on their next timer)", s.where, chan);
        }
    }

    if (r) {
        freeReplyObject(r);
    }

    if (rc == HOOPCTL_OK) {
        if (json) {
            printf("{\"key\":\"%s\",\"keys\":%zu,\"sha256\":\"%s\"}\n", key,
                   n, hex);
        } else {
            printf("stored %s: %zu key%s, sha256 %s\n", key, n,
                   n == 1 ? "" : "s", hex);
        }
    }

    free(key);
    free(skey);
    free(chan);
    hoopctl_store_close(&s);

    return rc;
}


static int
hoopctl_jwks_push(const char *redis, const char *prefix, const char *file,
    int json)
{
    int      rc;
    char    *text;
    size_t   len;

    if (hoopctl_read_file(file, &text, &len) != 0) {
        return HOOPCTL_ERROR;
    }

    rc = hoopctl_jwks_store(redis, prefix, file, text, len, json);
    free(text);

    return rc;
}


static int
hoopctl_jwks_fetch(const char *redis, const char *prefix, const char *issuer,
    int json)
{
    int             rc;
    size_t          ilen;
    json_t         *doc, *uri, *iss;
    json_error_t    jerr;
    hoopctl_buf_t   url = { NULL, 0, 0 };
    hoopctl_buf_t   conf = { NULL, 0, 0 };
    hoopctl_buf_t   set = { NULL, 0, 0 };

    if (strncmp(issuer, "http://", 7) != 0
        && strncmp(issuer, "https://", 8) != 0)
    {
        hoopctl_error("fetch: \"%s\" is not an http(s) URL", issuer);
        return HOOPCTL_ERROR;
    }

    ilen = strlen(issuer);
    while (ilen > 0 && issuer[ilen - 1] == '/') {
        ilen--;
    }

    hoopctl_buf_add(&url, issuer, ilen);
    hoopctl_buf_adds(&url, "/.well-known/openid-configuration");

    rc = HOOPCTL_ERROR;
    doc = NULL;

    if (hoopctl_jwks_get(hoopctl_buf_str(&url), &conf) != 0) {
        goto done;
    }

    doc = json_loadb(conf.data ? conf.data : "", conf.len, 0, &jerr);

    if (doc == NULL || !json_is_object(doc)) {
        hoopctl_error("%s: not a JSON object%s%s", hoopctl_buf_str(&url),
                      doc ? "" : ": ", doc ? "" : jerr.text);
        goto done;
    }

    iss = json_object_get(doc, "issuer");

    if (json_is_string(iss)
        && (strlen(json_string_value(iss)) != ilen
            || strncmp(json_string_value(iss), issuer, ilen) != 0)
        && strcmp(json_string_value(iss), issuer) != 0)
    {
        fprintf(stderr, "hoopctl: warning: the discovery document names "
                "issuer \"%s\"\n", json_string_value(iss));
    }

    uri = json_object_get(doc, "jwks_uri");

    if (!json_is_string(uri)
        || (strncmp(json_string_value(uri), "http://", 7) != 0
            && strncmp(json_string_value(uri), "https://", 8) != 0))
    {
        hoopctl_error("%s: no http(s) \"jwks_uri\"", hoopctl_buf_str(&url));
        goto done;
    }

    if (hoopctl_jwks_get(json_string_value(uri), &set) != 0) {
        goto done;
    }

    rc = hoopctl_jwks_store(redis, prefix, json_string_value(uri),
                            set.data ? set.data : "", set.len, json);

done:

    if (doc) {
        json_decref(doc);
    }

    hoopctl_buf_free(&url);
    hoopctl_buf_free(&conf);
    hoopctl_buf_free(&set);

    return rc;
}


static int
hoopctl_jwks_show(const char *redis, const char *prefix, int json)
{
    int               rc;
    char             *key;
    redisReply       *r;
    hoopctl_store_t   s;

    if (hoopctl_store_open(&s, redis, prefix) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    key = hoopctl_store_key(&s, HOOPCTL_JWKS_KEY, 0);
    r = redisCommand(s.ctx, "GET %s", key);
    rc = HOOPCTL_OK;

    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        hoopctl_error("Redis at %s: GET %s: %s", s.where, key,
                      r ? r->str : (s.ctx->errstr[0] ? s.ctx->errstr
                                                     : "no answer"));
        rc = HOOPCTL_ERROR;

    } else if (r->type != REDIS_REPLY_STRING) {
        hoopctl_error("no JWK Set in %s (hoopctl jwks push FILE)", key);
        rc = HOOPCTL_NO;

    } else {
        (void) json;
        fwrite(r->str, 1, r->len, stdout);
        if (r->len == 0 || r->str[r->len - 1] != '\n') {
            fputc('\n', stdout);
        }
    }

    if (r) {
        freeReplyObject(r);
    }

    free(key);
    hoopctl_store_close(&s);

    return rc;
}


int
hoopctl_jwks(const char *redis, const char *prefix, char **args, int nargs,
    int json)
{
    int  rc;

    if (nargs == 2 && strcmp(args[0], "push") == 0) {
        return hoopctl_jwks_push(redis, prefix, args[1], json);
    }

    if (nargs == 2 && strcmp(args[0], "fetch") == 0) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            hoopctl_error("cannot start libcurl");
            return HOOPCTL_ERROR;
        }

        rc = hoopctl_jwks_fetch(redis, prefix, args[1], json);
        curl_global_cleanup();
        return rc;
    }

    if (nargs == 1 && strcmp(args[0], "show") == 0) {
        return hoopctl_jwks_show(redis, prefix, json);
    }

    hoopctl_error("usage: hoopctl jwks push FILE | jwks fetch ISSUER_URL | "
                  "jwks show");
    return HOOPCTL_ERROR;
}
