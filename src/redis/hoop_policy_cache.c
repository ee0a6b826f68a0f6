/*
 * The on-disk copy of the last good policy from Redis (hoop_policy_cache.h
 * describes the file).  Reading happens while nginx reads its
 * configuration; writing in a worker, once per version switch: a small
 * file, written and renamed, which is the only disk I/O the module does
 * outside configuration time.
 */

#include <jansson.h>

#include "hoop_policy_cache.h"
#include "../policy/hoop_policy.h"


/* the text plus JSON escaping and the other members */
#define HOOP_POLICY_CACHE_MAX  (2 * HOOP_POLICY_MAX_TEXT + 4096)


ngx_int_t
hoop_policy_cache_read(ngx_str_t *file, hoop_policy_cache_t *pc,
    ngx_uint_t level, ngx_log_t *log)
{
    u_char           *buf;
    size_t            size;
    ssize_t           n;
    json_t           *root, *j;
    ngx_fd_t          fd;
    ngx_err_t         err;
    const char       *what, *s;
    json_error_t      jerr;
    ngx_file_info_t   fi;

    ngx_memzero(pc, sizeof(hoop_policy_cache_t));

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            return NGX_DECLINED;
        }

        ngx_log_error(level, log, err, "hoop: cannot open policy cache \"%V\"",
                      file);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(level, log, ngx_errno,
                      "hoop: cannot stat policy cache \"%V\"", file);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size > HOOP_POLICY_CACHE_MAX) {
        ngx_log_error(level, log, 0, "hoop: policy cache \"%V\" is too large",
                      file);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    buf = ngx_alloc(size + 1, log);
    if (buf == NULL) {
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, size);
    err = ngx_errno;

    (void) ngx_close_file(fd);

    if (n < 0 || (size_t) n != size) {
        ngx_log_error(level, log, n < 0 ? err : 0,
                      "hoop: cannot read policy cache \"%V\"", file);
        ngx_free(buf);
        return NGX_ERROR;
    }

    root = json_loadb((const char *) buf, size, 0, &jerr);

    ngx_free(buf);

    if (root == NULL) {
        ngx_log_error(level, log, 0,
                      "hoop: policy cache \"%V\" is not JSON: line %d: %s",
                      file, jerr.line, jerr.text);
        return NGX_ERROR;
    }

    what = "format";
    j = json_object_get(root, "format");

    if (!json_is_string(j)
        || ngx_strcmp(json_string_value(j), HOOP_POLICY_CACHE_FORMAT) != 0)
    {
        goto invalid;
    }

    what = "version";
    j = json_object_get(root, "version");

    if (!json_is_integer(j) || json_integer_value(j) <= 0) {
        goto invalid;
    }

    pc->version = json_integer_value(j);

    j = json_object_get(root, "sha256");

    if (json_is_string(j) && json_string_length(j) == 64) {
        ngx_memcpy(pc->sha256, json_string_value(j), 64);
        pc->sha256[64] = '\0';
    }

    what = "text";
    j = json_object_get(root, "text");

    if (!json_is_string(j)) {
        goto invalid;
    }

    s = json_string_value(j);
    pc->len = json_string_length(j);

    pc->text = ngx_alloc(pc->len + 1, log);
    if (pc->text == NULL) {
        json_decref(root);
        return NGX_ERROR;
    }

    ngx_memcpy(pc->text, s, pc->len);
    pc->text[pc->len] = '\0';

    json_decref(root);

    return NGX_OK;

invalid:

    ngx_log_error(level, log, 0,
                  "hoop: policy cache \"%V\" is not a %s file: bad \"%s\"",
                  file, HOOP_POLICY_CACHE_FORMAT, what);
    json_decref(root);
    return NGX_ERROR;
}


void
hoop_policy_cache_free(hoop_policy_cache_t *pc)
{
    if (pc->text) {
        ngx_free(pc->text);
        pc->text = NULL;
    }
}


ngx_int_t
hoop_policy_cache_write(ngx_str_t *file, int64_t version, const char *sha256,
    const u_char *text, size_t len, const char *source, ngx_log_t *log)
{
    char       *out;
    u_char     *tmp, *p;
    size_t      size, done;
    ssize_t     n;
    json_t     *root, *jtext;
    ngx_fd_t    fd;
    ngx_err_t   err;
    ngx_int_t   rc;
    ngx_time_t *tp;

    tp = ngx_timeofday();

    jtext = json_stringn((const char *) text, len);

    if (jtext == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "hoop: policy version %L not cached in \"%V\": its "
                      "text is not UTF-8", version, file);
        return NGX_ERROR;
    }

    root = json_pack("{s:s, s:I, s:s, s:s, s:I, s:o}",
                     "format", HOOP_POLICY_CACHE_FORMAT,
                     "version", (json_int_t) version,
                     "sha256", sha256,
                     "source", source,
                     "written_ms", (json_int_t) tp->sec * 1000 + tp->msec,
                     "text", jtext);

    if (root == NULL) {
        return NGX_ERROR;
    }

    out = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);

    json_decref(root);

    if (out == NULL) {
        return NGX_ERROR;
    }

    size = ngx_strlen(out);

    /* FILE.tmp.PID, NUL-terminated */
    tmp = ngx_alloc(file->len + sizeof(".tmp.") + NGX_INT64_LEN, log);
    if (tmp == NULL) {
        free(out);
        return NGX_ERROR;
    }

    p = ngx_cpymem(tmp, file->data, file->len);
    p = ngx_sprintf(p, ".tmp.%P", ngx_pid);
    *p = '\0';

    rc = NGX_ERROR;

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "hoop: cannot write policy cache: open \"%s\"", tmp);
        goto done;
    }

    for (done = 0; done < size; done += n) {
        n = ngx_write_fd(fd, out + done, size - done);

        if (n <= 0) {
            err = ngx_errno;

            if (n < 0 && err == NGX_EINTR) {
                n = 0;
                continue;
            }

            ngx_log_error(NGX_LOG_ERR, log, err,
                          "hoop: cannot write policy cache \"%s\"", tmp);
            (void) ngx_close_file(fd);
            (void) ngx_delete_file(tmp);
            goto done;
        }
    }

    if (fsync(fd) == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "hoop: cannot write policy cache: fsync \"%s\"", tmp);
        (void) ngx_close_file(fd);
        (void) ngx_delete_file(tmp);
        goto done;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "hoop: cannot write policy cache: close \"%s\"", tmp);
        (void) ngx_delete_file(tmp);
        goto done;
    }

    if (ngx_rename_file(tmp, file->data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "hoop: cannot write policy cache: rename \"%s\" to "
                      "\"%V\"", tmp, file);
        (void) ngx_delete_file(tmp);
        goto done;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "hoop: policy version %L cached in \"%V\"", version, file);

    rc = NGX_OK;

done:

    ngx_free(tmp);
    free(out);

    return rc;
}
