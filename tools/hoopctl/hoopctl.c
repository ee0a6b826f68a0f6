/*
 * hoopctl: lints access-review policies, stores them in Redis as
 * immutable versions, shows, diffs and rolls them back, and prints the
 * access review (docs/hoopctl.md; the Redis layout: docs/redis-layout.md).
 *
 *   hoopctl lint FILE...
 *   hoopctl push FILE --author NAME [--comment TEXT]
 *   hoopctl show [VERSION] [--canonical]
 *   hoopctl history
 *   hoopctl diff A [B] | diff --file FILE [A]
 *   hoopctl rollback VERSION --author NAME [--comment TEXT]
 *   hoopctl review [VERSION | --file FILE] [--soon DAYS]
 *   hoopctl audit who|what|denied|export|tail ...   (hoopctl_audit.c)
 *   hoopctl sessions list|show ...    (hoopctl_sessions.c)
 *   hoopctl approvals list|show|approve|deny|revoke|watch ...
 *                                     (hoopctl_approvals.c)
 *
 *   --redis HOST:PORT   (HOOP_REDIS, default 127.0.0.1:6379)
 *   --sentinel HOST:PORT[,...] --master NAME
 *                       (HOOP_SENTINEL, HOOP_MASTER): instead of --redis,
 *                       the master that Redis Sentinel reports
 *   --prefix PREFIX     (HOOP_PREFIX, default "hoop:")
 *   --json              machine-readable output
 *
 * Exit status: 0 done (no difference), 1 refused (lint errors, a policy
 * that does not lint, an unknown version to roll back to) or a difference
 * found, 2 usage, I/O, Redis or store errors, unknown versions elsewhere.
 *
 * Plain C99 + hiredis + jansson, linked with src/policy; built by
 * tools/Makefile.
 */

#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hoopctl.h"


/* options, as bits: which commands accept which */
#define HOOPCTL_O_AUTHOR       0x0001
#define HOOPCTL_O_COMMENT      0x0002
#define HOOPCTL_O_CANONICAL    0x0004
#define HOOPCTL_O_FILE         0x0008
#define HOOPCTL_O_SOON         0x0010
#define HOOPCTL_O_REVIEW_DAYS  0x0020
#define HOOPCTL_O_UNUSED       0x0040
#define HOOPCTL_O_REDIS        0x0080
#define HOOPCTL_O_PREFIX       0x0100
#define HOOPCTL_O_JSON         0x0200
#define HOOPCTL_O_GROUPS       0x0400

#define HOOPCTL_O_STORE        (HOOPCTL_O_REDIS | HOOPCTL_O_PREFIX)


typedef struct {
    const char                  *redis;
    const char                  *prefix;
    const char                  *author;
    const char                  *comment;
    const char                  *file;
    const char                  *groups;       /* "a,b" */
    unsigned                     soon_days;
    unsigned                     review_days;
    unsigned                     unused_days;
    unsigned                     given;        /* HOOPCTL_O_* */
    int                          canonical;
    int                          json;
    char                       **args;         /* after the command */
    int                          nargs;
    char                       **argv;         /* main()'s, unpermuted */
    int                          argc;
} hoopctl_opts_t;


typedef struct {
    const char                  *name;
    int                        (*run)(hoopctl_opts_t *o);
    unsigned                     allowed;      /* HOOPCTL_O_* */
    int                          min_args;
    int                          max_args;     /* -1: any */
    const char                  *usage;
} hoopctl_command_t;


static int hoopctl_lint(hoopctl_opts_t *o);
static int hoopctl_push(hoopctl_opts_t *o);
static int hoopctl_show(hoopctl_opts_t *o);
static int hoopctl_history(hoopctl_opts_t *o);
static int hoopctl_diff_cmd(hoopctl_opts_t *o);
static int hoopctl_rollback(hoopctl_opts_t *o);
static int hoopctl_review_cmd(hoopctl_opts_t *o);
static int hoopctl_jwks_cmd(hoopctl_opts_t *o);
static int hoopctl_credentials_cmd(hoopctl_opts_t *o);
static int hoopctl_audit_cmd(hoopctl_opts_t *o);
static int hoopctl_sessions_cmd(hoopctl_opts_t *o);
static int hoopctl_approvals_cmd(hoopctl_opts_t *o);


static const hoopctl_command_t  hoopctl_commands[] = {
    { "lint", hoopctl_lint, HOOPCTL_O_STORE | HOOPCTL_O_JSON | HOOPCTL_O_SOON,
      1, -1,
      "lint FILE... [--soon DAYS] [--json]" },
    { "push", hoopctl_push,
      HOOPCTL_O_STORE | HOOPCTL_O_JSON | HOOPCTL_O_AUTHOR
      | HOOPCTL_O_COMMENT, 1, 1,
      "push FILE --author NAME [--comment TEXT]" },
    { "show", hoopctl_show,
      HOOPCTL_O_STORE | HOOPCTL_O_JSON | HOOPCTL_O_CANONICAL, 0, 1,
      "show [VERSION] [--canonical | --json]" },
    { "history", hoopctl_history, HOOPCTL_O_STORE | HOOPCTL_O_JSON, 0, 0,
      "history [--json]" },
    { "diff", hoopctl_diff_cmd,
      HOOPCTL_O_STORE | HOOPCTL_O_JSON | HOOPCTL_O_FILE, 0, 2,
      "diff A [B] | diff --file FILE [A]   (B, A: current by default)" },
    { "rollback", hoopctl_rollback,
      HOOPCTL_O_STORE | HOOPCTL_O_JSON | HOOPCTL_O_AUTHOR
      | HOOPCTL_O_COMMENT, 1, 1,
      "rollback VERSION --author NAME [--comment TEXT]" },
    { "review", hoopctl_review_cmd,
      HOOPCTL_O_STORE | HOOPCTL_O_JSON | HOOPCTL_O_FILE | HOOPCTL_O_SOON
      | HOOPCTL_O_REVIEW_DAYS | HOOPCTL_O_UNUSED, 0, 1,
      "review [VERSION | --file FILE] [--soon DAYS] [--review-days DAYS]\n"
      "                 [--unused DAYS] [--json]" },
    { "jwks", hoopctl_jwks_cmd, HOOPCTL_O_STORE | HOOPCTL_O_JSON, 1, 2,
      "jwks push FILE | jwks fetch ISSUER_URL | jwks show   (OIDC JWK Set)" },
    { "credentials", hoopctl_credentials_cmd,
      HOOPCTL_O_STORE | HOOPCTL_O_JSON | HOOPCTL_O_GROUPS, 1, 2,
      "credentials set USER [--groups A,B] | credentials delete USER |\n"
      "                 credentials list   (SASL users; password on stdin)" },
    /* options of its own: see hoopctl_audit.c */
    { "audit", hoopctl_audit_cmd, HOOPCTL_O_STORE | HOOPCTL_O_JSON, 1, -1,
      "audit who|what|denied|export|tail ...   (the audit trail;\n"
      "                 hoopctl audit --help)" },
    /* options of its own: see hoopctl_sessions.c */
    { "sessions", hoopctl_sessions_cmd, HOOPCTL_O_STORE | HOOPCTL_O_JSON, 1,
      -1,
      "sessions list | sessions show SID   (recorded sessions;\n"
      "                 hoopctl sessions help)" },
    /* options of its own: see hoopctl_approvals.c */
    { "approvals", hoopctl_approvals_cmd, HOOPCTL_O_STORE | HOOPCTL_O_JSON,
      1, -1,
      "approvals list|show ID|approve|deny|revoke ID|watch ... (approvals\n"
      "                 of held requests; hoopctl approvals help)" },
    { NULL, NULL, 0, 0, 0, NULL }
};


static const struct {
    const char                  *name;
    unsigned                     bit;
} hoopctl_option_names[] = {
    { "--author", HOOPCTL_O_AUTHOR },
    { "--comment", HOOPCTL_O_COMMENT },
    { "--canonical", HOOPCTL_O_CANONICAL },
    { "--file", HOOPCTL_O_FILE },
    { "--soon", HOOPCTL_O_SOON },
    { "--review-days", HOOPCTL_O_REVIEW_DAYS },
    { "--unused", HOOPCTL_O_UNUSED },
    { "--redis", HOOPCTL_O_REDIS },
    { "--sentinel", HOOPCTL_O_REDIS },
    { "--master", HOOPCTL_O_REDIS },
    { "--prefix", HOOPCTL_O_PREFIX },
    { "--json", HOOPCTL_O_JSON },
    { "--groups", HOOPCTL_O_GROUPS },
    { NULL, 0 }
};


static void
hoopctl_usage(FILE *f)
{
    const hoopctl_command_t  *c;

    fputs("usage: hoopctl COMMAND [ARGS] [--redis HOST:PORT] "
          "[--prefix PREFIX] [--json]\n\ncommands:\n", f);

    for (c = hoopctl_commands; c->name; c++) {
        fprintf(f, "  hoopctl %s\n", c->usage);
    }

    fputs("\n  --redis HOST:PORT  Redis (HOOP_REDIS; default "
          HOOPCTL_DEFAULT_REDIS "; also [IPV6]:PORT, /PATH)\n"
          "  --prefix PREFIX    key prefix (HOOP_PREFIX; default \""
          HOOPCTL_DEFAULT_PREFIX "\")\n"
          "  --sentinel HOST:PORT[,HOST:PORT...] --master NAME\n"
          "                     instead of --redis: the master Redis "
          "Sentinel reports\n"
          "                     (HOOP_SENTINEL, HOOP_MASTER)\n"
          "  HOOP_REDIS_PASSWORD, HOOP_REDIS_USER: AUTH\n"
          "  HOOP_SENTINEL_PASSWORD, HOOP_SENTINEL_USER: AUTH with the "
          "sentinels\n"
          "exit status: 0 done, 1 refused or different, 2 usage, I/O or "
          "Redis errors\n", f);
}


/* ----------------------------------------------------------------------
 * Helpers of the commands
 */

static int
hoopctl_jwks_cmd(hoopctl_opts_t *o)
{
    return hoopctl_jwks(o->redis, o->prefix, o->args, o->nargs, o->json);
}


static int
hoopctl_credentials_cmd(hoopctl_opts_t *o)
{
    return hoopctl_credentials(o->redis, o->prefix, o->args, o->nargs,
                               o->groups, o->json);
}


static int
hoopctl_audit_cmd(hoopctl_opts_t *o)
{
    return hoopctl_audit(o->redis, o->prefix, o->json, o->argc, o->argv);
}


static int
hoopctl_sessions_cmd(hoopctl_opts_t *o)
{
    return hoopctl_sessions(o->redis, o->prefix, o->json, o->argc, o->argv);
}


static int
hoopctl_approvals_cmd(hoopctl_opts_t *o)
{
    return hoopctl_approvals(o->redis, o->prefix, o->json, o->argc, o->argv);
}


static int
hoopctl_open(hoopctl_opts_t *o, hoopctl_store_t *s)
{
    return hoopctl_store_open(s, o->redis, o->prefix);
}


/* "yaml" or "json", the way the compiler decides (HOOP_POLICY_FORMAT_AUTO) */
static const char *
hoopctl_format_of(const char *text, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'
            || text[i] == '\n')
        {
            continue;
        }

        return text[i] == '{' ? "json" : "yaml";
    }

    return "yaml";
}


static const char *
hoopctl_basename(const char *path)
{
    const char  *p;

    p = strrchr(path, '/');

    return (p && p[1]) ? p + 1 : path;
}


/* the version argument, or the current version when arg is NULL */
static int
hoopctl_resolve(hoopctl_store_t *s, const char *arg, uint64_t *v)
{
    int  rc;

    if (arg != NULL) {
        if (hoopctl_parse_version(arg, v) != 0) {
            hoopctl_error("bad version \"%s\" (a number from 1)", arg);
            return HOOPCTL_ERROR;
        }
        return HOOPCTL_OK;
    }

    rc = hoopctl_store_current(s, v);

    if (rc == HOOPCTL_NO) {
        hoopctl_error("no policy in Redis at %s under prefix \"%s\" "
                      "(hoopctl push one)", s->where, s->prefix);
        return HOOPCTL_ERROR;
    }

    return rc;
}


/*
 * Load version n and compile its canonical form.  Returns HOOPCTL_OK,
 * not_found for an unknown version, bad for one that does not compile, or
 * HOOPCTL_ERROR.  The stored sha256 is checked against the canonical
 * form's (a warning).
 */
static int
hoopctl_load(hoopctl_store_t *s, uint64_t n, int not_found, int bad,
    hoopctl_version_t *v, hoop_policy_t **p)
{
    int        rc;
    char       name[64];
    unsigned   errors;

    rc = hoopctl_store_version(s, n, v);

    if (rc == HOOPCTL_NO) {
        hoopctl_error("no version %llu in Redis at %s under prefix \"%s\"",
                      (unsigned long long) n, s->where, s->prefix);
        return not_found;
    }

    if (rc != HOOPCTL_OK) {
        return rc;
    }

    snprintf(name, sizeof(name), "version %llu (canonical)",
             (unsigned long long) n);

    *p = hoopctl_compile(name, v->canonical.data, v->canonical.len,
                         HOOP_POLICY_FORMAT_JSON, 0, NULL, NULL, &errors,
                         NULL);

    if (*p == NULL) {
        /* show why */
        hoop_policy_free(hoopctl_compile(name, v->canonical.data,
                                         v->canonical.len,
                                         HOOP_POLICY_FORMAT_JSON, 0, stderr,
                                         NULL, NULL, NULL));
        hoopctl_error("version %llu does not compile with this hoopctl",
                      (unsigned long long) n);
        hoopctl_version_free(v);
        return bad;
    }

    if (v->sha256.len != 64
        || memcmp(v->sha256.data, hoop_policy_sha256_hex(*p), 64) != 0)
    {
        hoopctl_error("warning: version %llu: the stored sha256 %.*s is not "
                      "that of its canonical form (%s)",
                      (unsigned long long) n, (int) v->sha256.len,
                      v->sha256.data, hoop_policy_sha256_hex(*p));
    }

    return HOOPCTL_OK;
}


/* compile a file for diff and review: NULL (printed) when it does not */
static hoop_policy_t *
hoopctl_load_file(const char *path, int *rc)
{
    char           *text;
    size_t          len;
    unsigned        errors;
    hoop_policy_t  *p;

    if (hoopctl_read_file(path, &text, &len) != 0) {
        *rc = HOOPCTL_ERROR;
        return NULL;
    }

    p = hoopctl_compile(path, text, len, HOOP_POLICY_FORMAT_AUTO, 0, stderr,
                        NULL, &errors, NULL);
    free(text);

    if (p == NULL) {
        hoopctl_error("%s: does not lint: %u error%s", path, errors,
                      errors == 1 ? "" : "s");
        *rc = HOOPCTL_ERROR;
    }

    return p;
}


/* ----------------------------------------------------------------------
 * lint FILE...
 */

static int
hoopctl_lint(hoopctl_opts_t *o)
{
    int             i, rc;
    char           *text;
    size_t          len;
    json_t         *out, *file, *diags;
    unsigned        errors, warnings;
    hoop_policy_t  *p;

    rc = HOOPCTL_OK;
    out = o->json ? json_array() : NULL;

    for (i = 0; i < o->nargs; i++) {
        if (hoopctl_read_file(o->args[i], &text, &len) != 0) {
            rc = HOOPCTL_ERROR;
            continue;
        }

        diags = o->json ? json_array() : NULL;

        p = hoopctl_compile(o->args[i], text, len, HOOP_POLICY_FORMAT_AUTO,
                            o->soon_days, o->json ? NULL : stdout, diags,
                            &errors, &warnings);
        free(text);

        if (o->json) {
            file = json_object();
            json_object_set_new(file, "file", hoopctl_json_str(o->args[i]));
            json_object_set_new(file, "ok", json_boolean(p != NULL));
            json_object_set_new(file, "errors", json_integer(errors));
            json_object_set_new(file, "warnings", json_integer(warnings));
            json_object_set_new(file, "sha256",
                                p ? json_string(hoop_policy_sha256_hex(p))
                                  : json_null());
            json_object_set_new(file, "diagnostics", diags);
            json_array_append_new(out, file);
        }

        if (p == NULL) {
            if (!o->json) {
                hoopctl_error("%s: %u error%s, %u warning%s", o->args[i],
                              errors, errors == 1 ? "" : "s", warnings,
                              warnings == 1 ? "" : "s");
            }
            if (rc == HOOPCTL_OK) {
                rc = HOOPCTL_NO;
            }
        }

        hoop_policy_free(p);
    }

    if (o->json) {
        hoopctl_json_print(out);
    }

    return rc;
}


/* ----------------------------------------------------------------------
 * push FILE --author NAME [--comment TEXT]
 */

static int
hoopctl_push(hoopctl_opts_t *o)
{
    int               rc, created;
    char             *text;
    size_t            len;
    json_t           *out;
    uint64_t          version, previous;
    unsigned          errors, warnings;
    hoop_policy_t    *p;
    hoopctl_push_t    push;
    hoopctl_store_t   s;

    if (hoopctl_read_file(o->args[0], &text, &len) != 0) {
        return HOOPCTL_ERROR;
    }

    /* never store a policy that does not lint */

    p = hoopctl_compile(o->args[0], text, len, HOOP_POLICY_FORMAT_AUTO, 0,
                        stderr, NULL, &errors, &warnings);
    if (p == NULL) {
        hoopctl_error("%s: refused, nothing pushed: %u error%s", o->args[0],
                      errors, errors == 1 ? "" : "s");
        free(text);
        return HOOPCTL_NO;
    }

    if (hoopctl_open(o, &s) != HOOPCTL_OK) {
        hoop_policy_free(p);
        free(text);
        return HOOPCTL_ERROR;
    }

    push.text = text;
    push.text_len = len;
    push.format = hoopctl_format_of(text, len);
    push.canonical = hoop_policy_canonical(p, &push.canonical_len);
    push.sha256 = hoop_policy_sha256_hex(p);
    push.author = o->author;
    push.comment = o->comment ? o->comment : "";
    push.file = hoopctl_basename(o->args[0]);
    push.time_ms = hoopctl_now_ms();

    rc = hoopctl_store_push(&s, &push, &version, &previous, &created);

    if (rc == HOOPCTL_OK) {
        if (o->json) {
            out = json_object();
            json_object_set_new(out, "version", json_integer(version));
            json_object_set_new(out, "created", json_boolean(created));
            json_object_set_new(out, "previous",
                                previous ? json_integer(previous)
                                         : json_null());
            json_object_set_new(out, "sha256", json_string(push.sha256));
            json_object_set_new(out, "warnings", json_integer(warnings));
            hoopctl_json_print(out);

        } else if (created) {
            printf("pushed version %llu (sha256:%.12s)",
                   (unsigned long long) version, push.sha256);
            if (previous) {
                printf(", previously %llu", (unsigned long long) previous);
            }
            printf("%s\n", warnings ? "; with warnings (above)" : "");

        } else {
            printf("%s is identical to the current version %llu "
                   "(sha256:%.12s): nothing pushed\n", o->args[0],
                   (unsigned long long) version, push.sha256);
        }
    }

    hoopctl_store_close(&s);
    hoop_policy_free(p);
    free(text);

    return rc;
}


/* ----------------------------------------------------------------------
 * show [VERSION]
 */

static int
hoopctl_show(hoopctl_opts_t *o)
{
    int                 rc;
    char                t[40];
    json_t             *out;
    uint64_t            n, cur;
    hoopctl_store_t     s;
    hoopctl_version_t   v;

    if (hoopctl_open(o, &s) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    rc = hoopctl_resolve(&s, o->nargs ? o->args[0] : NULL, &n);
    if (rc != HOOPCTL_OK) {
        goto done;
    }

    rc = hoopctl_store_version(&s, n, &v);

    if (rc == HOOPCTL_NO) {
        hoopctl_error("no version %llu in Redis at %s under prefix \"%s\"",
                      (unsigned long long) n, s.where, s.prefix);
        rc = HOOPCTL_ERROR;
        goto done;
    }

    if (rc != HOOPCTL_OK) {
        goto done;
    }

    if (o->json) {
        if (hoopctl_store_current(&s, &cur) != HOOPCTL_OK) {
            cur = 0;
        }

        out = json_object();
        json_object_set_new(out, "version", json_integer(n));
        json_object_set_new(out, "current", json_boolean(cur == n));
        json_object_set_new(out, "sha256",
                            hoopctl_json_strn(v.sha256.data, v.sha256.len));
        json_object_set_new(out, "author",
                            hoopctl_json_strn(v.author.data, v.author.len));
        json_object_set_new(out, "comment",
                            hoopctl_json_strn(v.comment.data,
                                              v.comment.len));
        json_object_set_new(out, "time_ms", json_integer(v.time_ms));
        json_object_set_new(out, "time",
            json_string(hoopctl_iso_time(v.time_ms / 1000, t, sizeof(t))));
        json_object_set_new(out, "file",
                            hoopctl_json_strn(v.file.data, v.file.len));
        json_object_set_new(out, "format",
                            hoopctl_json_strn(v.format.data, v.format.len));
        json_object_set_new(out, "text",
                            hoopctl_json_strn(v.text.data, v.text.len));
        json_object_set_new(out, "canonical",
                            hoopctl_json_strn(v.canonical.data,
                                              v.canonical.len));
        hoopctl_json_print(out);

    } else if (o->canonical) {
        fwrite(v.canonical.data, 1, v.canonical.len, stdout);

    } else {
        fwrite(v.text.data, 1, v.text.len, stdout);
    }

    hoopctl_version_free(&v);

done:

    hoopctl_store_close(&s);
    return rc;
}


/* ----------------------------------------------------------------------
 * history
 */

static const char *
hoopctl_json_field(json_t *e, const char *key)
{
    const char  *s;

    s = json_string_value(json_object_get(e, key));

    return s ? s : "";
}


static int
hoopctl_history(hoopctl_opts_t *o)
{
    char              t[40];
    size_t            i, w;
    json_t           *out, *e, **events;
    json_int_t        ms;
    redisReply       *r, *item;
    hoopctl_buf_t     line = { NULL, 0, 0 };
    hoopctl_store_t   s;

    if (hoopctl_open(o, &s) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    r = hoopctl_store_history(&s);
    if (r == NULL) {
        hoopctl_store_close(&s);
        return HOOPCTL_ERROR;
    }

    /* parse every event first: the author column is as wide as needed */

    events = hoopctl_alloc((r->elements + 1) * sizeof(json_t *));
    w = strlen("AUTHOR");

    for (i = 0; i < r->elements; i++) {
        item = r->element[i];
        e = NULL;

        if (item->type == REDIS_REPLY_STRING) {
            e = json_loadb(item->str, item->len, 0, NULL);
        }

        if (!json_is_object(e)) {
            json_decref(e);
            e = json_object();
            json_object_set_new(e, "event", json_string("unreadable"));
            json_object_set_new(e, "raw",
                item->type == REDIS_REPLY_STRING
                ? hoopctl_json_strn(item->str, item->len) : json_null());
        }

        ms = json_integer_value(json_object_get(e, "time_ms"));
        json_object_set_new(e, "time",
            json_string(hoopctl_iso_time(ms / 1000, t, sizeof(t))));

        if (strlen(hoopctl_json_field(e, "author")) > w) {
            w = strlen(hoopctl_json_field(e, "author"));
        }

        events[i] = e;
    }

    if (o->json) {
        out = json_array();
        for (i = 0; i < r->elements; i++) {
            json_array_append_new(out, events[i]);
        }
        hoopctl_json_print(out);

    } else {
        if (r->elements == 0) {
            hoopctl_error("no history in Redis at %s under prefix \"%s\"",
                          s.where, s.prefix);

        } else {
            printf("%-7s  %-8s  %-20s  %-*s  %-12s  %s\n", "VERSION",
                   "EVENT", "TIME (UTC)", (int) w, "AUTHOR", "SHA256",
                   "COMMENT");
        }

        for (i = 0; i < r->elements; i++) {
            e = events[i];
            line.len = 0;

            hoopctl_buf_printf(&line, "%-7lld  %-8s  %-20s  ",
                (long long) json_integer_value(json_object_get(e,
                                                               "version")),
                hoopctl_json_field(e, "event"),
                hoopctl_json_field(e, "time"));
            hoopctl_buf_add_clean(&line, hoopctl_json_field(e, "author"),
                                  strlen(hoopctl_json_field(e, "author")));
            hoopctl_buf_printf(&line, "%*s  %-12.12s  ",
                (int) (w - strlen(hoopctl_json_field(e, "author"))), "",
                hoopctl_json_field(e, "sha256"));
            hoopctl_buf_add_clean(&line, hoopctl_json_field(e, "comment"),
                                  strlen(hoopctl_json_field(e, "comment")));

            if (strcmp(hoopctl_json_field(e, "event"), "unreadable") == 0) {
                hoopctl_buf_add_clean(&line, hoopctl_json_field(e, "raw"),
                                      strlen(hoopctl_json_field(e, "raw")));
            }

            /* no trailing blanks when there is no comment */
            while (line.len && line.data[line.len - 1] == ' ') {
                line.data[--line.len] = '\0';
            }

            printf("%s\n", hoopctl_buf_str(&line));
            json_decref(e);
        }
    }

    hoopctl_buf_free(&line);
    free(events);
    freeReplyObject(r);
    hoopctl_store_close(&s);

    return HOOPCTL_OK;
}


/* ----------------------------------------------------------------------
 * diff A [B] | diff --file FILE [A]
 */

static int
hoopctl_diff_cmd(hoopctl_opts_t *o)
{
    int                 rc;
    char                la[64], lb[64];
    uint64_t            na, nb;
    hoop_policy_t      *pa, *pb;
    hoopctl_store_t     s;
    hoopctl_version_t   va, vb;

    if (o->file == NULL && o->nargs == 0) {
        hoopctl_error("diff: which versions? (diff A [B], diff --file "
                      "FILE [A])");
        return HOOPCTL_ERROR;
    }

    if (o->file != NULL && o->nargs > 1) {
        hoopctl_error("diff --file FILE takes at most one version");
        return HOOPCTL_ERROR;
    }

    pa = NULL;
    pb = NULL;
    memset(&va, 0, sizeof(va));
    memset(&vb, 0, sizeof(vb));

    if (o->file != NULL) {
        pb = hoopctl_load_file(o->file, &rc);
        if (pb == NULL) {
            return rc;
        }
    }

    if (hoopctl_open(o, &s) != HOOPCTL_OK) {
        hoop_policy_free(pb);
        return HOOPCTL_ERROR;
    }

    /* A: the first argument (current when --file without one) */

    rc = hoopctl_resolve(&s, o->nargs ? o->args[0] : NULL, &na);
    if (rc != HOOPCTL_OK) {
        goto done;
    }

    rc = hoopctl_load(&s, na, HOOPCTL_ERROR, HOOPCTL_ERROR, &va, &pa);
    if (rc != HOOPCTL_OK) {
        goto done;
    }

    snprintf(la, sizeof(la), "version %llu", (unsigned long long) na);

    if (o->file == NULL) {
        rc = hoopctl_resolve(&s, o->nargs > 1 ? o->args[1] : NULL, &nb);
        if (rc != HOOPCTL_OK) {
            goto done;
        }

        rc = hoopctl_load(&s, nb, HOOPCTL_ERROR, HOOPCTL_ERROR, &vb, &pb);
        if (rc != HOOPCTL_OK) {
            goto done;
        }

        snprintf(lb, sizeof(lb), "version %llu", (unsigned long long) nb);
    }

    rc = hoopctl_diff(pa, la, pb, o->file ? o->file : lb, o->json);

done:

    hoop_policy_free(pa);
    hoop_policy_free(pb);
    hoopctl_version_free(&va);
    hoopctl_version_free(&vb);
    hoopctl_store_close(&s);

    return rc;
}


/* ----------------------------------------------------------------------
 * rollback VERSION --author NAME [--comment TEXT]
 */

static int
hoopctl_rollback(hoopctl_opts_t *o)
{
    int                 rc, changed;
    json_t             *out;
    uint64_t            n, previous;
    hoop_policy_t      *p;
    hoopctl_store_t     s;
    hoopctl_version_t   v;

    if (hoopctl_parse_version(o->args[0], &n) != 0) {
        hoopctl_error("bad version \"%s\" (a number from 1)", o->args[0]);
        return HOOPCTL_ERROR;
    }

    if (hoopctl_open(o, &s) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    /* an unknown version, or one this compiler refuses, is refused */

    p = NULL;
    rc = hoopctl_load(&s, n, HOOPCTL_NO, HOOPCTL_NO, &v, &p);

    if (rc != HOOPCTL_OK) {
        hoopctl_error("rollback to version %llu refused",
                      (unsigned long long) n);
        goto done;
    }

    rc = hoopctl_store_rollback(&s, n, o->author,
                                o->comment ? o->comment : "",
                                hoopctl_now_ms(), &previous, &changed);

    if (rc == HOOPCTL_NO) {
        /* deleted between the two steps */
        hoopctl_error("no version %llu: rollback refused",
                      (unsigned long long) n);

    } else if (rc == HOOPCTL_OK) {
        if (o->json) {
            out = json_object();
            json_object_set_new(out, "version", json_integer(n));
            json_object_set_new(out, "changed", json_boolean(changed));
            json_object_set_new(out, "previous",
                                previous ? json_integer(previous)
                                         : json_null());
            json_object_set_new(out, "sha256",
                                json_string(hoop_policy_sha256_hex(p)));
            hoopctl_json_print(out);

        } else if (changed) {
            printf("version %llu (sha256:%.12s) is current again",
                   (unsigned long long) n, hoop_policy_sha256_hex(p));
            if (previous) {
                printf(", was %llu", (unsigned long long) previous);
            }
            printf("\n");

        } else {
            printf("version %llu is current already: nothing to do\n",
                   (unsigned long long) n);
        }
    }

done:

    hoop_policy_free(p);
    hoopctl_version_free(&v);
    hoopctl_store_close(&s);

    return rc;
}


/* ----------------------------------------------------------------------
 * review [VERSION | --file FILE]
 */

static int
hoopctl_review_cmd(hoopctl_opts_t *o)
{
    int                 rc, present;
    char                label[64];
    size_t              i, n;
    int64_t            *used;
    uint64_t            ver;
    const char        **ids;
    hoop_policy_t      *p;
    hoopctl_store_t     s;
    hoopctl_review_t    rv;
    hoopctl_version_t   v;

    memset(&rv, 0, sizeof(rv));
    rv.now = (int64_t) time(NULL);
    rv.soon_days = o->soon_days;
    rv.review_days = o->review_days;
    rv.unused_days = o->unused_days;
    rv.json = o->json;

    if (o->file != NULL) {
        if (o->nargs) {
            hoopctl_error("review: a version or --file, not both");
            return HOOPCTL_ERROR;
        }

        p = hoopctl_load_file(o->file, &rc);
        if (p == NULL) {
            return rc;
        }

        rv.label = o->file;
        rv.sha256 = hoop_policy_sha256_hex(p);

        /* a policy file on the gateways (hoop_policy FILE): last use
         * still comes from the audit trail, when Redis answers */
        n = hoop_policy_rule_count(p, HOOP_POLICY_GRANT);
        ids = hoopctl_alloc((n + 1) * sizeof(const char *));
        used = hoopctl_alloc((n + 1) * sizeof(int64_t));

        for (i = 0; i < n; i++) {
            ids[i] = hoop_policy_rule_at(p, HOOP_POLICY_GRANT, i)->id;
        }

        if (hoopctl_open(o, &s) == HOOPCTL_OK) {
            if (hoopctl_store_last_used(&s, ids, n, used, &present)
                == HOOPCTL_OK)
            {
                rv.last_used = used;
                rv.last_used_present = present;
            }

            hoopctl_store_close(&s);

        } else {
            fprintf(stderr, "hoopctl: review: no last use (Redis did not "
                    "answer)\n");
        }

        rc = hoopctl_review(p, &rv);
        hoop_policy_free(p);
        free(ids);
        free(used);

        return rc;
    }

    if (hoopctl_open(o, &s) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    p = NULL;
    used = NULL;
    ids = NULL;
    memset(&v, 0, sizeof(v));

    rc = hoopctl_resolve(&s, o->nargs ? o->args[0] : NULL, &ver);
    if (rc != HOOPCTL_OK) {
        goto done;
    }

    rc = hoopctl_load(&s, ver, HOOPCTL_ERROR, HOOPCTL_ERROR, &v, &p);
    if (rc != HOOPCTL_OK) {
        goto done;
    }

    /* last use, from the audit trail's hash */

    n = hoop_policy_rule_count(p, HOOP_POLICY_GRANT);
    ids = hoopctl_alloc((n + 1) * sizeof(const char *));
    used = hoopctl_alloc((n + 1) * sizeof(int64_t));

    for (i = 0; i < n; i++) {
        ids[i] = hoop_policy_rule_at(p, HOOP_POLICY_GRANT, i)->id;
    }

    rc = hoopctl_store_last_used(&s, ids, n, used, &present);
    if (rc != HOOPCTL_OK) {
        goto done;
    }

    snprintf(label, sizeof(label), "version %llu", (unsigned long long) ver);
    rv.label = label;
    rv.sha256 = hoop_policy_sha256_hex(p);
    rv.last_used = used;
    rv.last_used_present = present;

    rc = hoopctl_review(p, &rv);

done:

    free(ids);
    free(used);
    hoop_policy_free(p);
    hoopctl_version_free(&v);
    hoopctl_store_close(&s);

    return rc;
}


/* ----------------------------------------------------------------------
 * main
 */

static int
hoopctl_check_prefix(const char *s)
{
    size_t  len;

    len = strlen(s);
    if (len > HOOPCTL_MAX_PREFIX) {
        return -1;
    }

    for ( ; *s; s++) {
        if ((unsigned char) *s <= 0x20 || (unsigned char) *s >= 0x7f) {
            return -1;
        }
    }

    return 0;
}


/*
 * --sentinel and --master are taken (into the environment) here; the
 * commands that parse the original argv again never see them.
 */
static int
hoopctl_strip_sentinel(char **argv)
{
    size_t  i, j, n;

    for (i = 0, j = 0; argv[i] != NULL; i++) {

        if (strcmp(argv[i], "--") == 0) {
            while (argv[i] != NULL) {
                argv[j++] = argv[i++];
            }
            break;
        }

        n = strncmp(argv[i], "--sentinel", 10) == 0 ? 10
            : strncmp(argv[i], "--master", 8) == 0 ? 8 : 0;

        if (n && argv[i][n] == '\0') {
            if (argv[i + 1] != NULL) {
                i++;
            }
            continue;
        }

        if (n && argv[i][n] == '=') {
            continue;
        }

        argv[j++] = argv[i];
    }

    argv[j] = NULL;

    return (int) j;
}


int
main(int argc, char **argv)
{
    int                        c, i, rc, norig;
    char                     **orig;
    unsigned                   bad;
    const char                *env, *unknown;
    hoopctl_opts_t             o;
    const hoopctl_command_t   *cmd;

    static const struct option  longopts[] = {
        { "redis", required_argument, NULL, 'r' },
        { "sentinel", required_argument, NULL, 'S' },
        { "master", required_argument, NULL, 'M' },
        { "prefix", required_argument, NULL, 'p' },
        { "json", no_argument, NULL, 'j' },
        { "author", required_argument, NULL, 'a' },
        { "comment", required_argument, NULL, 'm' },
        { "canonical", no_argument, NULL, 'c' },
        { "file", required_argument, NULL, 'f' },
        { "soon", required_argument, NULL, 's' },
        { "review-days", required_argument, NULL, 'R' },
        { "unused", required_argument, NULL, 'u' },
        { "groups", required_argument, NULL, 'g' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&o, 0, sizeof(o));

    env = getenv("HOOP_REDIS");
    o.redis = (env && env[0]) ? env : HOOPCTL_DEFAULT_REDIS;
    env = getenv("HOOP_PREFIX");
    o.prefix = env ? env : HOOPCTL_DEFAULT_PREFIX;
    o.soon_days = 14;
    o.review_days = 365;
    o.unused_days = 90;

    /*
     * getopt_long() permutes argv; "audit" and "sessions" parse their
     * options from the original order (hoopctl_audit.c,
     * hoopctl_sessions.c), so an unknown option is an error only once the
     * command is known.
     */
    orig = hoopctl_alloc(((size_t) argc + 1) * sizeof(char *));
    memcpy(orig, argv, ((size_t) argc + 1) * sizeof(char *));
    unknown = NULL;

    opterr = 0;

    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {

        case 'r':
            o.redis = optarg;
            o.given |= HOOPCTL_O_REDIS;
            break;

        /* read by hoopctl_store_open(), whichever command runs */
        case 'S':
        case 'M':
            if (setenv(c == 'S' ? "HOOP_SENTINEL" : "HOOP_MASTER", optarg, 1)
                != 0)
            {
                hoopctl_error("out of memory");
                return HOOPCTL_ERROR;
            }
            o.given |= HOOPCTL_O_REDIS;
            break;

        case 'p':
            o.prefix = optarg;
            o.given |= HOOPCTL_O_PREFIX;
            break;

        case 'j':
            o.json = 1;
            o.given |= HOOPCTL_O_JSON;
            break;

        case 'a':
            o.author = optarg;
            o.given |= HOOPCTL_O_AUTHOR;
            break;

        case 'm':
            o.comment = optarg;
            o.given |= HOOPCTL_O_COMMENT;
            break;

        case 'c':
            o.canonical = 1;
            o.given |= HOOPCTL_O_CANONICAL;
            break;

        case 'f':
            o.file = optarg;
            o.given |= HOOPCTL_O_FILE;
            break;

        case 's':
            if (hoopctl_parse_uint(optarg, 36500, &o.soon_days) != 0) {
                hoopctl_error("bad --soon \"%s\" (days, 0..36500)", optarg);
                return HOOPCTL_ERROR;
            }
            o.given |= HOOPCTL_O_SOON;
            break;

        case 'R':
            if (hoopctl_parse_uint(optarg, 36500, &o.review_days) != 0) {
                hoopctl_error("bad --review-days \"%s\" (days, 0..36500)",
                              optarg);
                return HOOPCTL_ERROR;
            }
            o.given |= HOOPCTL_O_REVIEW_DAYS;
            break;

        case 'u':
            if (hoopctl_parse_uint(optarg, 36500, &o.unused_days) != 0) {
                hoopctl_error("bad --unused \"%s\" (days, 0..36500)",
                              optarg);
                return HOOPCTL_ERROR;
            }
            o.given |= HOOPCTL_O_UNUSED;
            break;

        case 'g':
            o.groups = optarg;
            o.given |= HOOPCTL_O_GROUPS;
            break;

        case 'h':
            hoopctl_usage(stdout);
            return HOOPCTL_OK;

        case ':':
            hoopctl_error("%s needs a value", argv[optind - 1]);
            return HOOPCTL_ERROR;

        default:
            if (unknown == NULL) {
                unknown = argv[optind - 1];
            }
            break;
        }
    }

    norig = hoopctl_strip_sentinel(orig);

    /* "approvals" parses its options from the original order too */

    if (optind < argc && strcmp(argv[optind], "approvals") == 0) {
        if (hoopctl_check_prefix(o.prefix) != 0) {
            hoopctl_error("bad --prefix \"%s\": at most %d printable ASCII "
                          "characters, no blanks", o.prefix,
                          HOOPCTL_MAX_PREFIX);
            free(orig);
            return HOOPCTL_ERROR;
        }

        o.argc = norig;
        o.argv = orig;
        rc = hoopctl_approvals_cmd(&o);
        free(orig);

        if (fflush(stdout) != 0 || ferror(stdout)) {
            hoopctl_error("cannot write the output");
            return HOOPCTL_ERROR;
        }

        return rc;
    }

    if (optind < argc && (strcmp(argv[optind], "audit") == 0
                          || strcmp(argv[optind], "sessions") == 0))
    {
        if (hoopctl_check_prefix(o.prefix) != 0) {
            hoopctl_error("bad --prefix \"%s\": at most %d printable ASCII "
                          "characters, no blanks", o.prefix,
                          HOOPCTL_MAX_PREFIX);
            return HOOPCTL_ERROR;
        }

        o.argc = norig;
        o.argv = orig;
        rc = strcmp(argv[optind], "audit") == 0 ? hoopctl_audit_cmd(&o)
                                                : hoopctl_sessions_cmd(&o);
        free(orig);

        if (fflush(stdout) != 0 || ferror(stdout)) {
            hoopctl_error("cannot write the output");
            return HOOPCTL_ERROR;
        }

        return rc;
    }

    free(orig);

    if (unknown != NULL) {
        hoopctl_error("unknown option \"%s\" (hoopctl --help)", unknown);
        return HOOPCTL_ERROR;
    }

    if (optind >= argc) {
        hoopctl_usage(stderr);
        return HOOPCTL_ERROR;
    }

    if (strcmp(argv[optind], "help") == 0) {
        hoopctl_usage(stdout);
        return HOOPCTL_OK;
    }

    for (cmd = hoopctl_commands; cmd->name; cmd++) {
        if (strcmp(cmd->name, argv[optind]) == 0) {
            break;
        }
    }

    if (cmd->name == NULL) {
        hoopctl_error("unknown command \"%s\" (hoopctl --help)",
                      argv[optind]);
        return HOOPCTL_ERROR;
    }

    o.args = &argv[optind + 1];
    o.nargs = argc - optind - 1;

    if (o.nargs < cmd->min_args
        || (cmd->max_args >= 0 && o.nargs > cmd->max_args))
    {
        hoopctl_error("usage: hoopctl %s", cmd->usage);
        return HOOPCTL_ERROR;
    }

    bad = o.given & ~cmd->allowed;
    if (bad) {
        for (i = 0; hoopctl_option_names[i].name; i++) {
            if (bad & hoopctl_option_names[i].bit) {
                hoopctl_error("%s: %s does not apply (usage: hoopctl %s)",
                              cmd->name, hoopctl_option_names[i].name,
                              cmd->usage);
                return HOOPCTL_ERROR;
            }
        }
    }

    if (o.canonical && o.json) {
        hoopctl_error("show: --canonical or --json, not both");
        return HOOPCTL_ERROR;
    }

    if (cmd->allowed & HOOPCTL_O_AUTHOR) {
        if (o.author == NULL) {
            hoopctl_error("%s: --author NAME is required (who does it, for "
                          "the history)", cmd->name);
            return HOOPCTL_ERROR;
        }

        if (hoopctl_check_text(o.author, HOOPCTL_MAX_AUTHOR) != 0) {
            hoopctl_error("bad --author: 1 to %d bytes of UTF-8 without "
                          "control characters", HOOPCTL_MAX_AUTHOR);
            return HOOPCTL_ERROR;
        }

        if (o.comment != NULL && o.comment[0] != '\0'
            && hoopctl_check_text(o.comment, HOOPCTL_MAX_COMMENT) != 0)
        {
            hoopctl_error("bad --comment: at most %d bytes of UTF-8 without "
                          "control characters", HOOPCTL_MAX_COMMENT);
            return HOOPCTL_ERROR;
        }
    }

    if (hoopctl_check_prefix(o.prefix) != 0) {
        hoopctl_error("bad --prefix \"%s\": at most %d printable ASCII "
                      "characters, no blanks", o.prefix, HOOPCTL_MAX_PREFIX);
        return HOOPCTL_ERROR;
    }

    rc = cmd->run(&o);

    if (fflush(stdout) != 0 || ferror(stdout)) {
        hoopctl_error("cannot write the output");
        return HOOPCTL_ERROR;
    }

    return rc;
}
