/*
 * The last good policy from Redis, on disk (hoop_policy_cache FILE), so
 * that nginx starts and enforces it while Redis is unreachable.
 *
 * The file is one JSON object (jansson):
 *
 *   { "format": "hoop-policy-cache/1", "version": N, "sha256": "HEX",
 *     "source": "redis 127.0.0.1:6379 hoop:", "written_ms": MS,
 *     "text": "the policy document as stored in Redis" }
 *
 * A worker writes it after each version it loads from Redis: into
 * FILE.tmp.PID, fsync(), rename() over FILE, so a reader sees the old or
 * the new version, never a mix.
 */

#ifndef _HOOP_POLICY_CACHE_H_INCLUDED_
#define _HOOP_POLICY_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define HOOP_POLICY_CACHE_FORMAT  "hoop-policy-cache/1"


typedef struct {
    int64_t               version;
    u_char                sha256[65];     /* NUL-terminated; "" if absent */
    u_char               *text;           /* ngx_alloc(), NUL-terminated */
    size_t                len;
} hoop_policy_cache_t;


/*
 * Reads file into pc.  Returns NGX_OK, NGX_DECLINED when the file does not
 * exist, NGX_ERROR when it cannot be read or is not a cache file (logged
 * at level).  Release pc with hoop_policy_cache_free().
 */
ngx_int_t hoop_policy_cache_read(ngx_str_t *file, hoop_policy_cache_t *pc,
    ngx_uint_t level, ngx_log_t *log);

void hoop_policy_cache_free(hoop_policy_cache_t *pc);

/*
 * Replaces file atomically with version (sha256 hex, the document text,
 * source: where it came from).  Returns NGX_OK or NGX_ERROR (logged).
 * The directory must be writable by the worker processes' user.
 */
ngx_int_t hoop_policy_cache_write(ngx_str_t *file, int64_t version,
    const char *sha256, const u_char *text, size_t len, const char *source,
    ngx_log_t *log);


#endif /* _HOOP_POLICY_CACHE_H_INCLUDED_ */
