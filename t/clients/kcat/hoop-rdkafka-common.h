/*
 * hoop-rdkafka-common.h: shared parts of the librdkafka helper programs of the kcat driver
 * (hoop-rdkafka-produce, hoop-rdkafka-consume, hoop-rdkafka-metadata): configuration helpers,
 * JSON string output, and OAUTHBEARER with a token read from a file.
 *
 * OAUTHBEARER: librdkafka calls the token refresh callback when a token is first needed and again
 * at 80% of the lifetime given with the last token; the callback reads the file again each time
 * and hands its content to rd_kafka_oauthbearer_set_token() unchanged. The token is not checked:
 * expired or unsigned tokens are sent as they are, so tests can see a server refuse them. Only
 * the lifetime and principal librdkafka asks for are taken from the claims (exp, sub); as
 * librdkafka refuses a lifetime in the past, a missing or past exp is given to it as now + 60 s
 * (the JWT itself still says what it says). librdkafka 2.0.2 has no KIP-368 re-authentication:
 * when a server ends the session, the connection is closed and the next one uses the current
 * token.
 */
#ifndef HOOP_RDKAFKA_COMMON_H
#define HOOP_RDKAFKA_COMMON_H

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <librdkafka/rdkafka.h>

/* each program uses a part of these */
#define HOOP_FN static __attribute__((unused))

enum { HOOP_EXIT_ERROR = 1, HOOP_EXIT_USAGE = 2, HOOP_EXIT_SHORT = 3 };

HOOP_FN void hoop_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "usage error: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
    exit(HOOP_EXIT_USAGE);
}

HOOP_FN long long hoop_num(const char *opt, const char *v)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || *v == '\0' || *end != '\0' || n < 0)
        hoop_usage(opt, "needs a non-negative number");
    return n;
}

HOOP_FN void hoop_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];

    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "usage error: %s=%s: %s\n", k, v, err);
        exit(HOOP_EXIT_USAGE);
    }
}

/* --prop KEY=VALUE (modifies the string) */
HOOP_FN void hoop_set_prop(rd_kafka_conf_t *conf, char *kv)
{
    char *eq = strchr(kv, '=');

    if (eq == NULL || eq == kv)
        hoop_usage("--prop needs KEY=VALUE, got", kv);
    *eq = '\0';
    hoop_set(conf, kv, eq + 1);
    *eq = '=';
}

HOOP_FN int hoop_debug_env(void)
{
    const char *env = getenv("HOOP_CLIENT_DEBUG");
    return env != NULL && *env != '\0' && strcmp(env, "0") != 0;
}

/* A JSON string (UTF-8 passed through, control characters escaped), or null. */
HOOP_FN void hoop_json_str(FILE *out, const char *s, size_t len)
{
    if (s == NULL) {
        fputs("null", out);
        return;
    }
    putc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (c < 0x20)
                fprintf(out, "\\u%04x", c);
            else
                putc(c, out);
        }
    }
    putc('"', out);
}

/* ------------------------------------------------------------------ OAUTHBEARER from a file */

static const char *hoop_token_file;
static int hoop_token_debug;   /* HOOP_CLIENT_TOKEN_DEBUG=1 or --debug: a stderr line per token read */

static char *hoop_read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *n = realloc(buf, cap);
            if (n == NULL) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "out of memory");
                return NULL;
            }
            buf = n;
        }
        size_t r = fread(buf + len, 1, 4096, f);
        len += r;
        if (r < 4096)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* base64url (no padding needed) -> bytes, NUL-terminated; NULL when invalid */
static char *hoop_b64url_decode(const char *s, size_t n)
{
    char *out = malloc(n * 3 / 4 + 4);
    unsigned int acc = 0;
    int bits = 0;
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int v;
        char c = s[i];
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '-' || c == '+') v = 62;
        else if (c == '_' || c == '/') v = 63;
        else if (c == '=') break;
        else { free(out); return NULL; }
        acc = (acc << 6) | (unsigned int) v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char) ((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return out;
}

/* "name": <number> or "name": "<string>" in flat JSON (what t/bin/mint-jwt writes) */
static const char *hoop_claim(const char *json, const char *name)
{
    char pat[64];
    const char *p = json;

    snprintf(pat, sizeof(pat), "\"%s\"", name);
    while ((p = strstr(p, pat)) != NULL) {
        const char *q = p + strlen(pat);
        while (isspace((unsigned char) *q)) q++;
        if (*q == ':') {
            q++;
            while (isspace((unsigned char) *q)) q++;
            return q;
        }
        p = q;
    }
    return NULL;
}

HOOP_FN void hoop_oauth_refresh_cb(rd_kafka_t *rk, const char *oauthbearer_config, void *opaque)
{
    char err[512], principal[256] = "unknown";
    char *tok, *claims = NULL;
    struct timeval tv;
    long long now_ms, life_ms;
    const char *v;

    (void) oauthbearer_config;
    (void) opaque;
    tok = hoop_read_file(hoop_token_file, err, sizeof(err));
    if (tok == NULL) {
        fprintf(stderr, "rdkafka oauthbearer: cannot read token: %s\n", err);
        rd_kafka_oauthbearer_set_token_failure(rk, err);
        return;
    }
    /* trim */
    size_t n = strlen(tok);
    while (n > 0 && isspace((unsigned char) tok[n - 1])) tok[--n] = '\0';
    char *start = tok;
    while (isspace((unsigned char) *start)) start++;

    gettimeofday(&tv, NULL);
    now_ms = (long long) tv.tv_sec * 1000 + tv.tv_usec / 1000;
    life_ms = now_ms + 3600 * 1000LL;
    const char *d1 = strchr(start, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (d1 && d2)
        claims = hoop_b64url_decode(d1 + 1, (size_t) (d2 - d1 - 1));
    if (claims) {
        if ((v = hoop_claim(claims, "exp")) != NULL && (isdigit((unsigned char) *v) || *v == '-'))
            life_ms = (long long) (strtod(v, NULL) * 1000);
        if ((v = hoop_claim(claims, "sub")) != NULL && *v == '"') {
            size_t i = 0;
            for (v++; *v && *v != '"' && i + 1 < sizeof(principal); v++)
                principal[i++] = *v;
            principal[i] = '\0';
        }
    }
    if (life_ms <= now_ms + 1000)
        life_ms = now_ms + 60 * 1000LL;   /* librdkafka refuses past lifetimes: send it anyway */
    if (rd_kafka_oauthbearer_set_token(rk, start, life_ms, principal, NULL, 0, err, sizeof(err))
        != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "rdkafka oauthbearer: set_token: %s\n", err);
        rd_kafka_oauthbearer_set_token_failure(rk, err);
    } else if (hoop_token_debug) {
        fprintf(stderr, "hoop-token: read %s: sub=%s lifetime=%lld ms (%zu chars)\n",
                hoop_token_file, principal, life_ms - now_ms, strlen(start));
    }
    free(claims);
    free(tok);
}

/* --token-file: OAUTHBEARER with the token in FILE (re-read at each refresh) */
HOOP_FN void hoop_conf_token_file(rd_kafka_conf_t *conf, const char *file, int debug)
{
    char err[512];
    char *t;

    const char *e = getenv("HOOP_CLIENT_TOKEN_DEBUG");

    hoop_token_file = file;
    hoop_token_debug = debug || hoop_debug_env() || (e != NULL && *e != '\0' && strcmp(e, "0") != 0);
    t = hoop_read_file(file, err, sizeof(err));
    if (t == NULL)
        hoop_usage("--token-file", err);
    free(t);
    rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, hoop_oauth_refresh_cb);
    /* a SASL queue of its own, served by a background thread (hoop_token_background) */
    rd_kafka_conf_enable_sasl_queue(conf, 1);
}

/* after rd_kafka_new(): serve the refresh callback from a background thread, so a token is
 * there before the application polls */
HOOP_FN void hoop_token_background(rd_kafka_t *rk)
{
    if (hoop_token_file != NULL) {
        rd_kafka_error_t *e = rd_kafka_sasl_background_callbacks_enable(rk);
        if (e != NULL) {
            fprintf(stderr, "rdkafka oauthbearer: %s\n", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    }
}

#endif
