/*
 * hoopctl: memory, buffers, files, times, text checks, compiling.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hoopctl.h"
#include "hoop_mask_policy_hook.h"


#define HOOPCTL_DIAGS  64      /* diagnostics kept before asking again */


void *
hoopctl_alloc(size_t size)
{
    void  *p;

    p = malloc(size ? size : 1);
    if (p == NULL) {
        fputs("hoopctl: out of memory\n", stderr);
        exit(HOOPCTL_ERROR);
    }

    return p;
}


void *
hoopctl_realloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (p == NULL) {
        fputs("hoopctl: out of memory\n", stderr);
        exit(HOOPCTL_ERROR);
    }

    return p;
}


char *
hoopctl_strndup(const char *s, size_t len)
{
    char  *p;

    p = hoopctl_alloc(len + 1);
    if (len) {
        memcpy(p, s, len);
    }
    p[len] = '\0';

    return p;
}


/* ---------------------------------------------------------------------- */


void
hoopctl_buf_add(hoopctl_buf_t *b, const char *data, size_t len)
{
    size_t  size;

    if (b->len + len + 1 > b->size) {
        size = b->size ? b->size : 128;
        while (size < b->len + len + 1) {
            size *= 2;
        }
        b->data = hoopctl_realloc(b->data, size);
        b->size = size;
    }

    if (len) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    b->data[b->len] = '\0';
}


void
hoopctl_buf_adds(hoopctl_buf_t *b, const char *s)
{
    hoopctl_buf_add(b, s, strlen(s));
}


void
hoopctl_buf_printf(hoopctl_buf_t *b, const char *fmt, ...)
{
    int      n;
    char     small[256];
    char    *big;
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);

    if (n < 0) {
        return;
    }

    if ((size_t) n < sizeof(small)) {
        hoopctl_buf_add(b, small, (size_t) n);
        return;
    }

    big = hoopctl_alloc((size_t) n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t) n + 1, fmt, ap);
    va_end(ap);
    hoopctl_buf_add(b, big, (size_t) n);
    free(big);
}


const char *
hoopctl_buf_str(hoopctl_buf_t *b)
{
    return b->data ? b->data : "";
}


void
hoopctl_buf_free(hoopctl_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;
}


void
hoopctl_error(const char *fmt, ...)
{
    va_list  ap;

    fputs("hoopctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}


/* ---------------------------------------------------------------------- */


int
hoopctl_read_file(const char *path, char **data, size_t *len)
{
    FILE    *f;
    char    *buf;
    size_t   n, got, size, max;

    if (strcmp(path, "-") == 0) {
        f = stdin;

    } else {
        f = fopen(path, "rb");
        if (f == NULL) {
            hoopctl_error("%s: %s", path, strerror(errno));
            return -1;
        }
    }

    max = HOOP_POLICY_MAX_TEXT + 1;
    size = 16384;
    buf = hoopctl_alloc(size);
    n = 0;

    for ( ;; ) {
        if (n == size) {
            if (size >= max) {
                break;
            }
            size = size * 2 > max ? max : size * 2;
            buf = hoopctl_realloc(buf, size);
        }

        got = fread(buf + n, 1, size - n, f);
        n += got;

        if (got == 0) {
            break;
        }
    }

    if (ferror(f)) {
        hoopctl_error("%s: %s", path, strerror(errno));
        free(buf);
        if (f != stdin) {
            fclose(f);
        }
        return -1;
    }

    if (f != stdin) {
        fclose(f);
    }

    *data = buf;
    *len = n;

    return 0;
}


int64_t
hoopctl_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


const char *
hoopctl_iso_time(int64_t sec, char *buf, size_t size)
{
    time_t     t;
    struct tm  tm;

    t = (time_t) sec;

    if ((int64_t) t != sec || gmtime_r(&t, &tm) == NULL
        || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        snprintf(buf, size, "@%lld", (long long) sec);
    }

    return buf;
}


int
hoopctl_parse_version(const char *s, uint64_t *v)
{
    uint64_t  n;

    if (*s == '\0' || strlen(s) > 15) {
        return -1;
    }

    for (n = 0; *s; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }
        n = n * 10 + (uint64_t) (*s - '0');
    }

    if (n == 0) {
        return -1;
    }

    *v = n;
    return 0;
}


int
hoopctl_parse_uint(const char *s, unsigned max, unsigned *v)
{
    unsigned long  n;

    if (*s == '\0' || strlen(s) > 9) {
        return -1;
    }

    for (n = 0; *s; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }
        n = n * 10 + (unsigned long) (*s - '0');
    }

    if (n > max) {
        return -1;
    }

    *v = (unsigned) n;
    return 0;
}


/* ---------------------------------------------------------------------- */


void
hoopctl_buf_add_clean(hoopctl_buf_t *b, const char *s, size_t len)
{
    size_t          i;
    unsigned char   c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c == '\\') {
            hoopctl_buf_add(b, "\\\\", 2);

        } else if (c == '\n') {
            hoopctl_buf_add(b, "\\n", 2);

        } else if (c == '\t') {
            hoopctl_buf_add(b, "\\t", 2);

        } else if (c < 0x20 || c == 0x7f) {
            hoopctl_buf_printf(b, "\\x%02x", c);

        } else {
            hoopctl_buf_add(b, (const char *) &s[i], 1);
        }
    }
}


void
hoopctl_put_clean(FILE *f, const char *s, size_t len)
{
    hoopctl_buf_t  b = { NULL, 0, 0 };

    hoopctl_buf_add_clean(&b, s, len);
    fputs(hoopctl_buf_str(&b), f);
    hoopctl_buf_free(&b);
}


/* the length of the UTF-8 sequence at s (at most n bytes), or 0 */
static size_t
hoopctl_utf8_len(const unsigned char *s, size_t n)
{
    size_t    len, i;
    uint32_t  cp;

    if (s[0] < 0x80) {
        return 1;
    }

    if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = s[0] & 0x1f;

    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = s[0] & 0x0f;

    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = s[0] & 0x07;

    } else {
        return 0;
    }

    if (len > n) {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }

    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800)
        || (len == 4 && cp < 0x10000) || cp > 0x10ffff
        || (cp >= 0xd800 && cp <= 0xdfff))
    {
        return 0;
    }

    return len;
}


int
hoopctl_check_text(const char *s, size_t max)
{
    size_t                len, i, n;
    const unsigned char  *p;

    len = strlen(s);
    if (len == 0 || len > max) {
        return -1;
    }

    p = (const unsigned char *) s;

    for (i = 0; i < len; i += n) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            return -1;
        }

        n = hoopctl_utf8_len(p + i, len - i);
        if (n == 0) {
            return -1;
        }
    }

    return 0;
}


json_t *
hoopctl_json_strn(const char *s, size_t len)
{
    json_t               *j;
    char                 *copy;
    size_t                i, n;
    const unsigned char  *p;

    if (s == NULL) {
        return json_null();
    }

    j = json_stringn(s, len);
    if (j != NULL) {
        return j;
    }

    /* invalid UTF-8 (or a NUL): replace the offending bytes with '?' */
    copy = hoopctl_strndup(s, len);
    p = (const unsigned char *) copy;

    for (i = 0; i < len; i += n) {
        n = p[i] ? hoopctl_utf8_len(p + i, len - i) : 0;
        if (n == 0) {
            copy[i] = '?';
            n = 1;
        }
    }

    j = json_stringn(copy, len);
    free(copy);

    return j ? j : json_null();
}


json_t *
hoopctl_json_str(const char *s)
{
    return s ? hoopctl_json_strn(s, strlen(s)) : json_null();
}


void
hoopctl_json_print(json_t *j)
{
    char  *s;

    s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s == NULL) {
        fputs("hoopctl: out of memory\n", stderr);
        exit(HOOPCTL_ERROR);
    }

    fputs(s, stdout);
    fputc('\n', stdout);
    free(s);
    json_decref(j);
}


/* ---------------------------------------------------------------------- */


hoop_policy_t *
hoopctl_compile(const char *name, const char *text, size_t len,
    hoop_policy_format_t format, unsigned soon_days, FILE *out,
    json_t *jdiags, unsigned *nerrors, unsigned *nwarnings)
{
    char                   line[1024];
    size_t                 i, max, n;
    unsigned               errors, warnings;
    json_t                *jd;
    hoop_policy_t         *p;
    hoop_policy_diag_t    *diags;
    hoop_policy_options_t  opts;

    memset(&opts, 0, sizeof(opts));
    opts.format = format;
    opts.expiry_warning_days = soon_days;
    /* the masking section is checked too; its key files live on the
     * gateways, not here: check only (ctx NULL), keys not read */
    opts.masking = hoop_mask_policy_hook;
    opts.masking_ctx = NULL;

    max = HOOPCTL_DIAGS;
    diags = hoopctl_alloc(max * sizeof(hoop_policy_diag_t));

    p = hoop_policy_compile_ex(text, len, &opts, diags, max, &n);

    if (n > max) {
        /* more than we had room for: compile again with room for all */
        hoop_policy_free(p);
        max = n;
        diags = hoopctl_realloc(diags, max * sizeof(hoop_policy_diag_t));
        p = hoop_policy_compile_ex(text, len, &opts, diags, max, &n);
        if (n > max) {
            n = max;
        }
    }

    errors = 0;
    warnings = 0;

    for (i = 0; i < n; i++) {
        if (diags[i].severity == HOOP_POLICY_SEV_ERROR) {
            errors++;
        } else {
            warnings++;
        }

        if (out != NULL) {
            hoop_policy_diag_format(&diags[i], name, line, sizeof(line));
            fprintf(out, "%s\n", line);
        }

        if (jdiags != NULL) {
            jd = json_object();
            json_object_set_new(jd, "file", hoopctl_json_str(name));
            json_object_set_new(jd, "line", json_integer(diags[i].line));
            json_object_set_new(jd, "column",
                                json_integer(diags[i].column));
            json_object_set_new(jd, "severity",
                json_string(diags[i].severity == HOOP_POLICY_SEV_ERROR
                            ? "error" : "warning"));
            json_object_set_new(jd, "code", hoopctl_json_str(diags[i].code));
            json_object_set_new(jd, "path", hoopctl_json_str(diags[i].path));
            json_object_set_new(jd, "message",
                                hoopctl_json_str(diags[i].message));
            json_array_append_new(jdiags, jd);
        }
    }

    free(diags);

    if (p == NULL && errors == 0) {
        /* cannot happen by the API; count it so callers refuse */
        errors = 1;
        if (out != NULL) {
            fprintf(out, "%s:0:0: error: the policy was not compiled\n",
                    name);
        }
    }

    if (nerrors != NULL) {
        *nerrors = errors;
    }

    if (nwarnings != NULL) {
        *nwarnings = warnings;
    }

    return p;
}
