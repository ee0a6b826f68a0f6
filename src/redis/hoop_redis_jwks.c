/*
 * The OIDC JWK Set from Redis to every worker (hoop_redis_jwks.h).
 *
 *   PREFIX oauth:jwks          string: the JWK Set (JSON)
 *   PREFIX oauth:jwks:sha256   string: its SHA-256, for people (hoopctl)
 *   PREFIX policy:notify       channel: "jwks" after each push
 *
 * Like the policy watcher, a worker never trusts a notice: any notice,
 * every reconnect and the timer make it GET the set again; a text equal
 * to the last one seen (loaded or refused) costs a memcmp.
 */

#include "hoop_redis_jwks.h"
#include "hoop_redis_watch.h"


static hoop_jwks_file_t          hoop_redis_jwks;      /* .jwks in use */
static u_char                   *hoop_redis_jwks_seen;  /* last text seen */
static size_t                    hoop_redis_jwks_seen_len;
static hoop_redis_watch_t       *hoop_redis_jwks_w;
static unsigned                  hoop_redis_jwks_none_logged;
static void                     *hoop_redis_jwks_loaded_for;  /* cycle */


hoop_jwks_file_t *
hoop_redis_jwks_state(void)
{
    return &hoop_redis_jwks;
}


/*
 * A set's text as found in Redis: parsed and installed when it differs
 * from the last one seen.  Returns NGX_OK (installed), NGX_DECLINED
 * (unchanged) or NGX_ERROR (refused, the last good set kept).
 */

static ngx_int_t
hoop_redis_jwks_take(const u_char *text, size_t len, ngx_uint_t level,
    ngx_log_t *log)
{
    int           rc;
    char          err[256];
    u_char       *copy;
    hoop_jwks_t  *set;

    if (hoop_redis_jwks_seen && len == hoop_redis_jwks_seen_len
        && ngx_memcmp(text, hoop_redis_jwks_seen, len) == 0)
    {
        return NGX_DECLINED;
    }

    copy = ngx_alloc(len + 1, log);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(copy, text, len);
    copy[len] = '\0';

    ngx_free(hoop_redis_jwks_seen);
    hoop_redis_jwks_seen = copy;
    hoop_redis_jwks_seen_len = len;

    err[0] = '\0';
    rc = 0;
    set = hoop_jwks_parse_rc((const char *) copy, len, &rc, err, sizeof(err));

    if (set == NULL) {
        hoop_redis_jwks.failed = 1;
        hoop_redis_jwks.last_rc = rc;

        ngx_log_error(level, log, 0,
                      "hoop: JWKS from redis refused: %s; %s",
                      err[0] ? err : "no usable signing key",
                      hoop_redis_jwks.jwks ? "keeping the last good set"
                                           : "OAUTHBEARER is refused");
        return NGX_ERROR;
    }

    hoop_jwks_free(hoop_redis_jwks.jwks);
    hoop_redis_jwks.jwks = set;
    hoop_redis_jwks.generation++;
    hoop_redis_jwks.failed = 0;
    hoop_redis_jwks.last_rc = rc;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "hoop: JWKS loaded from redis (%uz keys)%s%s",
                  hoop_jwks_count(set), err[0] ? ": " : "", err);

    return NGX_OK;
}


/* ---------------------------------------------------------------------
 * Configuration time
 */

void
hoop_redis_jwks_load(ngx_conf_t *cf, hoop_redis_conf_t *conf)
{
    u_char          key[HOOP_REDIS_WATCH_KEY_LEN];
    redisReply     *r;
    redisContext   *c;

    if (hoop_redis_jwks_loaded_for == cf->cycle
        || ngx_process == NGX_PROCESS_SIGNALLER)
    {
        return;
    }

    hoop_redis_jwks_loaded_for = cf->cycle;

    c = hoop_redis_connect_sync(conf, cf->log, "JWKS");
    if (c == NULL) {
        return;
    }

    (void) hoop_redis_key(conf, HOOP_REDIS_JWKS_KEY, 0, key, sizeof(key));

    r = redisCommand(c, "GET %s", key);

    if (r == NULL) {
        goto failed;
    }

    if (r->type == REDIS_REPLY_STRING) {
        (void) hoop_redis_jwks_take((u_char *) r->str, r->len, NGX_LOG_WARN,
                                    cf->log);

    } else {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "hoop: redis %V: no JWKS published (no \"%s\"): "
                      "OAUTHBEARER is refused until one is", &conf->name,
                      key);
    }

    freeReplyObject(r);
    redisFree(c);
    return;

failed:

    ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                  "hoop: redis %V while reading the JWKS: %s", &conf->name,
                  c->errstr[0] ? c->errstr : "error");
    redisFree(c);
}


/* ---------------------------------------------------------------------
 * Workers
 */

static void
hoop_redis_jwks_reply(hoop_redis_watch_t *w, redisReply *r)
{
    if (r->type == REDIS_REPLY_STRING) {
        hoop_redis_jwks_none_logged = 0;
        (void) hoop_redis_jwks_take((u_char *) r->str, r->len, NGX_LOG_ERR,
                                    w->log);

    } else if (r->type == REDIS_REPLY_NIL && !hoop_redis_jwks_none_logged) {
        hoop_redis_jwks_none_logged = 1;
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "hoop: redis %V: no JWKS published (no \"%s\"); %s",
                      &w->conf->name, w->key,
                      hoop_redis_jwks.jwks ? "keeping the loaded set"
                                           : "OAUTHBEARER is refused");
    }
}


void
hoop_redis_jwks_watch(hoop_redis_conf_t *conf, ngx_log_t *log)
{
    if (hoop_redis_jwks_w == NULL) {
        hoop_redis_jwks_w = hoop_redis_watch_start(conf, HOOP_REDIS_JWKS_KEY,
                                                   "GET", "the JWKS",
                                                   hoop_redis_jwks_reply,
                                                   log);
    }
}
