/*
 * hoopctl sessions: the sessions the gateway recorded for a policy rule
 * with "record: summary" or "record: payloads" (docs/audit.md, "Session
 * recording"; the keys are written by src/audit/hoop_audit.lua).
 *
 *   hoopctl sessions list [--since TIME] [--until TIME] [--principal P]
 *   hoopctl sessions show SID [--payloads]
 *
 * list reads the index P audit:sessions by start time (ZRANGEBYSCORE) and
 * each session's hash P audit:sessions:<sid> (HGETALL, pipelined); show
 * reads the session's stream P audit:session:<sid> (XRANGE) and prints a
 * timeline: one line per request and response, the session's end last.
 */

#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "hoopctl.h"


#define HOOPCTL_SESSIONS_PAGE     1000       /* ZRANGEBYSCORE, XRANGE COUNT */
#define HOOPCTL_SESSIONS_PAGE_S   "1000"
#define HOOPCTL_SESSIONS_MAX_SID  512        /* as the script takes them */

/* options, as bits: which subcommands take which */
#define HOOPCTL_S_SINCE       0x0001
#define HOOPCTL_S_UNTIL       0x0002
#define HOOPCTL_S_PRINCIPAL   0x0004
#define HOOPCTL_S_PAYLOADS    0x0008
#define HOOPCTL_S_JSON        0x0010
#define HOOPCTL_S_GLOBAL      0x0020     /* --redis, --prefix */


typedef struct {
    hoopctl_store_t              s;
    const char                  *redis;
    const char                  *prefix;
    const char                  *since;
    const char                  *until;
    const char                  *principal;
    const char                  *sid;
    unsigned                     given;        /* HOOPCTL_S_* */
    int                          payloads;
    int                          json;
    int64_t                      now;          /* ms */
} hoopctl_sessions_t;


typedef struct {
    const char                  *name;
    int                        (*run)(hoopctl_sessions_t *a);
    unsigned                     allowed;      /* HOOPCTL_S_* */
    int                          nargs;        /* after the subcommand */
    const char                  *usage;
} hoopctl_sessions_command_t;


static int hoopctl_sessions_list(hoopctl_sessions_t *a);
static int hoopctl_sessions_show(hoopctl_sessions_t *a);


static const hoopctl_sessions_command_t  hoopctl_sessions_commands[] = {
    { "list", hoopctl_sessions_list,
      HOOPCTL_S_SINCE | HOOPCTL_S_UNTIL | HOOPCTL_S_PRINCIPAL | HOOPCTL_S_JSON,
      0,
      "sessions list [--since TIME] [--until TIME] [--principal P] [--json]" },
    { "show", hoopctl_sessions_show, HOOPCTL_S_PAYLOADS | HOOPCTL_S_JSON, 1,
      "sessions show SID [--payloads] [--json]" },
    { NULL, NULL, 0, 0, NULL }
};


static const struct {
    const char                  *name;
    unsigned                     bit;
} hoopctl_sessions_option_names[] = {
    { "--since", HOOPCTL_S_SINCE },
    { "--until", HOOPCTL_S_UNTIL },
    { "--principal", HOOPCTL_S_PRINCIPAL },
    { "--payloads", HOOPCTL_S_PAYLOADS },
    { "--json", HOOPCTL_S_JSON },
    { NULL, 0 }
};


static void
hoopctl_sessions_usage(FILE *f)
{
    const hoopctl_sessions_command_t  *c;

    fputs("usage:\n", f);

    for (c = hoopctl_sessions_commands; c->name; c++) {
        fprintf(f, "  hoopctl %s\n", c->usage);
    }

    fputs("\n  list: the recorded sessions that started from --since to "
          "--until (default:\n  all of them), oldest first; show: the "
          "timeline of one (--payloads: the frames\n  as hex dumps)\n"
          "  TIME: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] (UTC), now, or an "
          "age: 90m, 24h, 7d\n"
          "  also --redis HOST:PORT, --prefix PREFIX (hoopctl --help); "
          "docs/audit.md\n", f);
}


/* ----------------------------------------------------------------------
 * Redis
 */

/* one command; NULL (printed) on a transport error or an error reply */
static redisReply *
hoopctl_sessions_run(hoopctl_sessions_t *a, int argc, const char **argv)
{
    redisReply  *r;

    r = redisCommandArgv(a->s.ctx, argc, argv, NULL);

    if (r == NULL) {
        hoopctl_error("Redis at %s: %s", a->s.where,
                      a->s.ctx->errstr[0] ? a->s.ctx->errstr : "no answer");
        return NULL;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        hoopctl_error("Redis at %s: %s %s: %.*s", a->s.where, argv[0],
                      argc > 1 ? argv[1] : "", (int) r->len, r->str);
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


/* PREFIX NAME [SID]: a key, allocated */
static char *
hoopctl_sessions_key(hoopctl_sessions_t *a, const char *name, const char *sid)
{
    hoopctl_buf_t  b = { NULL, 0, 0 };

    hoopctl_buf_adds(&b, a->prefix);
    hoopctl_buf_adds(&b, name);

    if (sid != NULL) {
        hoopctl_buf_adds(&b, sid);
    }

    return b.data;
}


/*
 * A flat reply [k1, v1, k2, v2, ...] (a hash, or a stream entry's fields)
 * as arrays for hoopctl_audit_event_json() and friends; -1 when it is not
 * one.  The arrays point into the reply.
 */
static int
hoopctl_sessions_pairs(const redisReply *f, size_t *n, const char ***keys,
    size_t **klens, const char ***vals, size_t **vlens)
{
    size_t  i, m;

    if (f->type != REDIS_REPLY_ARRAY || f->elements % 2) {
        return -1;
    }

    m = f->elements / 2;

    for (i = 0; i < f->elements; i++) {
        if (f->element[i]->type != REDIS_REPLY_STRING) {
            return -1;
        }
    }

    *keys = hoopctl_alloc((m + 1) * sizeof(const char *));
    *vals = hoopctl_alloc((m + 1) * sizeof(const char *));
    *klens = hoopctl_alloc((m + 1) * sizeof(size_t));
    *vlens = hoopctl_alloc((m + 1) * sizeof(size_t));

    for (i = 0; i < m; i++) {
        (*keys)[i] = f->element[2 * i]->str;
        (*klens)[i] = f->element[2 * i]->len;
        (*vals)[i] = f->element[2 * i + 1]->str;
        (*vlens)[i] = f->element[2 * i + 1]->len;
    }

    *n = m;

    return 0;
}


static void
hoopctl_sessions_free_pairs(const char **keys, size_t *klens,
    const char **vals, size_t *vlens)
{
    free(keys);
    free(klens);
    free(vals);
    free(vlens);
}


/* a session's hash (an HGETALL answer) as JSON into *info (NULL when
 * there is none); HOOPCTL_ERROR (printed) when it is not a hash */
static int
hoopctl_sessions_info(hoopctl_sessions_t *a, const char *sid, size_t sidlen,
    const redisReply *r, json_t **info)
{
    size_t        n, *klens, *vlens;
    const char  **keys, **vals;

    *info = NULL;

    if (hoopctl_sessions_pairs(r, &n, &keys, &klens, &vals, &vlens) != 0) {
        hoopctl_error("Redis at %s: %saudit:sessions:%.*s is not a session "
                      "hash", a->s.where, a->prefix, (int) sidlen, sid);
        return HOOPCTL_ERROR;
    }

    if (n) {
        *info = hoopctl_session_info_json(sid, sidlen, n, keys, klens, vals,
                                          vlens);
    }

    hoopctl_sessions_free_pairs(keys, klens, vals, vlens);

    return HOOPCTL_OK;
}


/* ----------------------------------------------------------------------
 * Output
 */

/*
 * rows x cols cells (row 0: the heads), columns two blanks apart; after
 * row i, after[i] when not empty (a payload dump)
 */
static void
hoopctl_sessions_table(hoopctl_buf_t *cells, size_t rows, size_t cols,
    hoopctl_buf_t *after)
{
    size_t  i, k, *w;

    w = hoopctl_alloc(cols * sizeof(size_t));

    for (k = 0; k < cols; k++) {
        w[k] = 0;
        for (i = 0; i < rows; i++) {
            if (cells[i * cols + k].len > w[k]) {
                w[k] = cells[i * cols + k].len;
            }
        }
    }

    for (i = 0; i < rows; i++) {
        for (k = 0; k < cols; k++) {
            if (k == cols - 1) {
                printf("%s\n", hoopctl_buf_str(&cells[i * cols + k]));
            } else {
                printf("%-*s  ", (int) w[k],
                       hoopctl_buf_str(&cells[i * cols + k]));
            }
            hoopctl_buf_free(&cells[i * cols + k]);
        }

        if (after != NULL && after[i].len) {
            fputs(hoopctl_buf_str(&after[i]), stdout);
        }
    }

    free(w);
}


static hoopctl_buf_t *
hoopctl_sessions_cells(size_t rows, size_t cols, const char **heads)
{
    size_t          k;
    hoopctl_buf_t  *cells;

    cells = hoopctl_alloc(rows * cols * sizeof(hoopctl_buf_t));
    memset(cells, 0, rows * cols * sizeof(hoopctl_buf_t));

    for (k = 0; k < cols; k++) {
        hoopctl_buf_adds(&cells[k], heads[k]);
    }

    return cells;
}


/* ----------------------------------------------------------------------
 * list: the index by start time, then each session's hash
 */

/* --since, --until: *given 0 when neither was (everything) */
static int
hoopctl_sessions_range(hoopctl_sessions_t *a, int64_t *since, int64_t *until)
{
    *since = 0;
    *until = a->now;

    if (a->until != NULL
        && hoopctl_audit_parse_time(a->until, 1, a->now, until) != 0)
    {
        hoopctl_error("bad --until \"%s\": a UTC date (2026-12-06), time "
                      "(2026-12-06T10:30[:00][Z]), now, or an age (90m, "
                      "24h, 7d)", a->until);
        return HOOPCTL_ERROR;
    }

    if (a->since != NULL
        && hoopctl_audit_parse_time(a->since, 0, a->now, since) != 0)
    {
        hoopctl_error("bad --since \"%s\": a UTC date (2026-12-06), time "
                      "(2026-12-06T10:30[:00][Z]), now, or an age (90m, "
                      "24h, 7d)", a->since);
        return HOOPCTL_ERROR;
    }

    if (*since > *until) {
        hoopctl_error("--since %s is after --until %s", a->since,
                      a->until ? a->until : "now");
        return HOOPCTL_ERROR;
    }

    return HOOPCTL_OK;
}


/* the hashes of the sids of one page, pipelined; appended to out */
static int
hoopctl_sessions_page(hoopctl_sessions_t *a, const redisReply *sids,
    json_t *out)
{
    int           rc;
    char         *key;
    void         *reply;
    size_t        i;
    json_t       *info;
    const char   *argv[2], *p;
    redisReply   *r;

    for (i = 0; i < sids->elements; i += 2) {
        key = hoopctl_sessions_key(a, "audit:sessions:",
                                   sids->element[i]->str);
        argv[0] = "HGETALL";
        argv[1] = key;

        if (redisAppendCommandArgv(a->s.ctx, 2, argv, NULL) != REDIS_OK) {
            hoopctl_error("out of memory");
            exit(HOOPCTL_ERROR);
        }

        free(key);
    }

    rc = HOOPCTL_OK;

    for (i = 0; i < sids->elements; i += 2) {
        if (redisGetReply(a->s.ctx, &reply) != REDIS_OK || reply == NULL) {
            hoopctl_error("Redis at %s: %s", a->s.where,
                          a->s.ctx->errstr[0] ? a->s.ctx->errstr
                                              : "no answer");
            return HOOPCTL_ERROR;
        }

        r = reply;

        if (r->type == REDIS_REPLY_ERROR) {
            hoopctl_error("Redis at %s: HGETALL %saudit:sessions:%s: %.*s",
                          a->s.where, a->prefix, sids->element[i]->str,
                          (int) r->len, r->str);
            rc = HOOPCTL_ERROR;
            freeReplyObject(r);
            continue;
        }

        info = NULL;

        if (rc == HOOPCTL_OK) {
            rc = hoopctl_sessions_info(a, sids->element[i]->str,
                                       sids->element[i]->len, r, &info);
        }

        freeReplyObject(r);

        /* no hash: expired since the index was read */
        if (info == NULL) {
            continue;
        }

        p = json_string_value(json_object_get(info, "principal"));

        if (a->principal != NULL
            && (p == NULL || strcmp(p, a->principal) != 0))
        {
            json_decref(info);
            continue;
        }

        if (hoopctl_session_ms(info, "first") < 0) {
            /* the index's score, should the hash have lost it */
            json_object_set_new(info, "first",
                                json_integer(strtoll(
                                    sids->element[i + 1]->str, NULL, 10)));
        }

        json_array_append_new(out, info);
    }

    return rc;
}


static int
hoopctl_sessions_list(hoopctl_sessions_t *a)
{
    int                rc, more;
    char               start[40], end[24], offset[24], t1[40], t2[40];
    char              *key;
    size_t             i, n, done;
    json_t            *out;
    int64_t            since, until;
    redisReply        *r;
    const char        *argv[9];
    hoopctl_buf_t     *cells;

    static const char  *heads[] = {
        "SESSION", "START", "END", "PRINCIPAL", "CLIENT", "REQUESTS",
        "BYTES", "RECORD"
    };

    if (hoopctl_sessions_range(a, &since, &until) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    if (hoopctl_store_open(&a->s, a->redis, a->prefix) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    key = hoopctl_sessions_key(a, "audit:sessions", NULL);
    out = json_array();
    rc = HOOPCTL_OK;

    snprintf(start, sizeof(start), "%lld", (long long) since);
    snprintf(end, sizeof(end), "%lld", (long long) until);

    /* pages of the index, by score (start time), then by sid */

    for (more = 1, done = 0; more; done += HOOPCTL_SESSIONS_PAGE) {
        snprintf(offset, sizeof(offset), "%zu", done);

        argv[0] = "ZRANGEBYSCORE";
        argv[1] = key;
        argv[2] = start;
        argv[3] = end;
        argv[4] = "WITHSCORES";
        argv[5] = "LIMIT";
        argv[6] = offset;
        argv[7] = HOOPCTL_SESSIONS_PAGE_S;

        r = hoopctl_sessions_run(a, 8, argv);
        if (r == NULL) {
            rc = HOOPCTL_ERROR;
            break;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements % 2) {
            hoopctl_error("Redis at %s: %s is not a sorted set of sessions",
                          a->s.where, key);
            freeReplyObject(r);
            rc = HOOPCTL_ERROR;
            break;
        }

        for (i = 0; i < r->elements; i++) {
            if (r->element[i]->type != REDIS_REPLY_STRING) {
                hoopctl_error("Redis at %s: unexpected answer to "
                              "ZRANGEBYSCORE %s", a->s.where, key);
                rc = HOOPCTL_ERROR;
                break;
            }
        }

        if (rc == HOOPCTL_OK) {
            rc = hoopctl_sessions_page(a, r, out);
        }

        more = rc == HOOPCTL_OK
               && r->elements == 2 * HOOPCTL_SESSIONS_PAGE;
        freeReplyObject(r);
    }

    free(key);

    if (rc != HOOPCTL_OK) {
        json_decref(out);
        return rc;
    }

    if (a->json) {
        hoopctl_json_print(out);
        return HOOPCTL_OK;
    }

    n = json_array_size(out);

    printf("%zu recorded session%s", n, n == 1 ? "" : "s");

    if (a->principal != NULL) {
        printf(" of ");
        hoopctl_put_clean(stdout, a->principal, strlen(a->principal));
    }

    if (a->since != NULL || a->until != NULL) {
        printf(" started from %s to %s",
               hoopctl_audit_time(since, t1, sizeof(t1)),
               hoopctl_audit_time(until, t2, sizeof(t2)));
    }

    printf("\n");

    if (n > 0) {
        cells = hoopctl_sessions_cells(n + 1, 8, heads);

        for (i = 0; i < n; i++) {
            hoopctl_session_row(&cells[(i + 1) * 8], json_array_get(out, i));
        }

        hoopctl_sessions_table(cells, n + 1, 8, NULL);
        free(cells);
    }

    json_decref(out);

    return HOOPCTL_OK;
}


/* ----------------------------------------------------------------------
 * show: the session's stream as a timeline
 */

/* the entries of the session's stream (an array of events), or NULL */
static json_t *
hoopctl_sessions_entries(hoopctl_sessions_t *a, const char *key)
{
    int                more;
    char               start[80];
    size_t             i, n, *klens, *vlens;
    json_t            *events, *ev;
    redisReply        *r;
    const char        *argv[6], **keys, **vals;
    const redisReply  *e;

    events = json_array();
    snprintf(start, sizeof(start), "-");

    for (more = 1; more; /* void */) {
        argv[0] = "XRANGE";
        argv[1] = key;
        argv[2] = start;
        argv[3] = "+";
        argv[4] = "COUNT";
        argv[5] = HOOPCTL_SESSIONS_PAGE_S;

        r = hoopctl_sessions_run(a, 6, argv);
        if (r == NULL) {
            json_decref(events);
            return NULL;
        }

        if (r->type != REDIS_REPLY_ARRAY) {
            hoopctl_error("Redis at %s: %s is not a stream", a->s.where, key);
            freeReplyObject(r);
            json_decref(events);
            return NULL;
        }

        for (i = 0; i < r->elements; i++) {
            e = r->element[i];

            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
                || e->element[0]->type != REDIS_REPLY_STRING
                || e->element[0]->len >= sizeof(start) - 1
                || hoopctl_sessions_pairs(e->element[1], &n, &keys, &klens,
                                          &vals, &vlens) != 0)
            {
                hoopctl_error("Redis at %s: unexpected entry in %s",
                              a->s.where, key);
                freeReplyObject(r);
                json_decref(events);
                return NULL;
            }

            ev = hoopctl_audit_event_json(e->element[0]->str,
                                          e->element[0]->len, n, keys, klens,
                                          vals, vlens);
            hoopctl_sessions_free_pairs(keys, klens, vals, vlens);
            json_array_append_new(events, ev);

            snprintf(start, sizeof(start), "(%.*s",
                     (int) e->element[0]->len, e->element[0]->str);
        }

        more = r->elements == HOOPCTL_SESSIONS_PAGE;
        freeReplyObject(r);
    }

    return events;
}


/* the payload of ev as a hex dump into b (or why not) */
static void
hoopctl_sessions_dump(hoopctl_buf_t *b, json_t *ev)
{
    size_t          len;
    json_t         *v;
    unsigned char  *p;

    v = json_object_get(ev, "payload");
    if (v == NULL) {
        return;
    }

    if (!json_is_string(v)
        || hoopctl_session_payload(json_string_value(v),
                                   json_string_length(v), &p, &len) != 0)
    {
        hoopctl_buf_adds(b, "    payload (not base64): ");
        hoopctl_audit_add_value(b, v, 0);
        hoopctl_buf_adds(b, "\n");
        return;
    }

    hoopctl_buf_printf(b, "    payload, %zu bytes:\n", len);
    hoopctl_session_dump(b, p, len, "    ");
    free(p);
}


static int
hoopctl_sessions_show(hoopctl_sessions_t *a)
{
    int                rc, closed;
    char               t1[40], t2[40], *key, *ikey;
    size_t             i, n;
    json_t            *events, *info, *ev, *v;
    int64_t            start, last;
    redisReply        *r;
    const char        *argv[2];
    hoopctl_buf_t     *cells, *after, b = { NULL, 0, 0 };

    static const char  *heads[] = {
        "+MS", "DIR", "API", "CORRELATION", "SIZE", "CHECKS"
    };

    if (hoopctl_store_open(&a->s, a->redis, a->prefix) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    key = hoopctl_sessions_key(a, "audit:session:", a->sid);
    ikey = hoopctl_sessions_key(a, "audit:sessions:", a->sid);

    events = hoopctl_sessions_entries(a, key);
    info = NULL;
    rc = HOOPCTL_OK;

    if (events == NULL) {
        rc = HOOPCTL_ERROR;
        goto done;
    }

    n = json_array_size(events);

    if (n == 0) {
        hoopctl_error("no recorded session \"%s\" (it was not recorded, or "
                      "it is past the retention; hoopctl sessions list)",
                      a->sid);
        rc = HOOPCTL_NO;
        goto done;
    }

    argv[0] = "HGETALL";
    argv[1] = ikey;

    r = hoopctl_sessions_run(a, 2, argv);
    if (r == NULL) {
        rc = HOOPCTL_ERROR;
        goto done;
    }

    rc = hoopctl_sessions_info(a, a->sid, strlen(a->sid), r, &info);
    freeReplyObject(r);

    if (rc != HOOPCTL_OK) {
        goto done;
    }

    start = hoopctl_audit_event_ms(json_array_get(events, 0));
    last = hoopctl_audit_event_ms(json_array_get(events, n - 1));

    if (a->json) {
        for (i = 0; i < n; i++) {
            ev = json_array_get(events, i);
            v = json_object_get(ev, "ts");

            if (json_is_integer(v) && start >= 0) {
                json_object_set_new(ev, "offset_ms",
                                    json_integer(json_integer_value(v)
                                                 - start));
            }

            if (!a->payloads) {
                json_object_del(ev, "payload");
            }
        }

        hoopctl_json_print(events);
        events = NULL;
        goto done;
    }

    /* session SID: who, from where; then when and how much */

    printf("session ");
    hoopctl_put_clean(stdout, a->sid, strlen(a->sid));
    ev = info ? info : json_array_get(events, 0);

    printf(": principal ");
    hoopctl_audit_add_value(&b, json_object_get(ev, "principal"), 1);
    if ((v = json_object_get(ev, "auth")) != NULL) {
        hoopctl_buf_adds(&b, " (");
        hoopctl_audit_add_value(&b, v, 0);
        hoopctl_buf_adds(&b, ")");
    }
    hoopctl_buf_adds(&b, ", client ");
    hoopctl_audit_add_value(&b, json_object_get(ev, "client"), 0);
    if ((v = json_object_get(ev, "client_id")) != NULL) {
        hoopctl_buf_adds(&b, ", client_id ");
        hoopctl_audit_add_value(&b, v, 1);
    }
    if ((v = json_object_get(ev, "software")) != NULL) {
        hoopctl_buf_adds(&b, ", software ");
        hoopctl_audit_add_value(&b, v, 1);
    }
    printf("%s\n", hoopctl_buf_str(&b));
    hoopctl_buf_free(&b);

    printf("recorded");
    if (info && (v = json_object_get(info, "record")) != NULL
        && json_is_string(v))
    {
        printf(" (");
        hoopctl_put_clean(stdout, json_string_value(v),
                          json_string_length(v));
        printf(")");
    }

    /* the timeline ends with the session's "closed" event, once closed */
    v = json_object_get(json_array_get(events, n - 1), "event");
    closed = json_is_string(v) && strcmp(json_string_value(v), "closed") == 0;

    printf(" from %s to %s, %s; %zu entr%s\n",
           hoopctl_audit_time(start, t1, sizeof(t1)),
           hoopctl_audit_time(last, t2, sizeof(t2)),
           closed ? "closed" : "not closed (yet)", n, n == 1 ? "y" : "ies");

    cells = hoopctl_sessions_cells(n + 1, 6, heads);
    after = hoopctl_alloc((n + 1) * sizeof(hoopctl_buf_t));
    memset(after, 0, (n + 1) * sizeof(hoopctl_buf_t));

    for (i = 0; i < n; i++) {
        ev = json_array_get(events, i);
        hoopctl_session_cells(&cells[(i + 1) * 6], ev, start);

        if (a->payloads) {
            hoopctl_sessions_dump(&after[i + 1], ev);
        }
    }

    hoopctl_sessions_table(cells, n + 1, 6, after);

    for (i = 0; i <= n; i++) {
        hoopctl_buf_free(&after[i]);
    }

    free(after);
    free(cells);

done:

    json_decref(events);
    json_decref(info);
    free(key);
    free(ikey);

    return rc;
}


/* ----------------------------------------------------------------------
 * Options
 */

int
hoopctl_sessions(const char *redis, const char *prefix, int json, int argc,
    char **argv)
{
    int                                 c, i, rc;
    unsigned                            bad;
    hoopctl_sessions_t                  a;
    const hoopctl_sessions_command_t   *cmd;

    enum {
        O_SINCE = 256, O_UNTIL, O_PRINCIPAL, O_PAYLOADS, O_REDIS, O_PREFIX,
        O_JSON
    };

    static const struct option  longopts[] = {
        { "since", required_argument, NULL, O_SINCE },
        { "until", required_argument, NULL, O_UNTIL },
        { "principal", required_argument, NULL, O_PRINCIPAL },
        { "payloads", no_argument, NULL, O_PAYLOADS },
        /* main() took their values already */
        { "redis", required_argument, NULL, O_REDIS },
        { "prefix", required_argument, NULL, O_PREFIX },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&a, 0, sizeof(a));
    a.redis = redis;
    a.prefix = prefix;
    a.json = json;
    a.now = hoopctl_now_ms();

    optind = 0;          /* glibc: start over (main() parsed argv first) */
    opterr = 0;

    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {

        case O_SINCE:
            a.since = optarg;
            a.given |= HOOPCTL_S_SINCE;
            break;

        case O_UNTIL:
            a.until = optarg;
            a.given |= HOOPCTL_S_UNTIL;
            break;

        case O_PRINCIPAL:
            a.principal = optarg;
            a.given |= HOOPCTL_S_PRINCIPAL;
            break;

        case O_PAYLOADS:
            a.payloads = 1;
            a.given |= HOOPCTL_S_PAYLOADS;
            break;

        case O_JSON:
            a.given |= HOOPCTL_S_JSON;
            break;

        case O_REDIS:
        case O_PREFIX:
            a.given |= HOOPCTL_S_GLOBAL;
            break;

        case 'h':
            hoopctl_sessions_usage(stdout);
            return HOOPCTL_OK;

        case ':':
            hoopctl_error("%s needs a value", argv[optind - 1]);
            return HOOPCTL_ERROR;

        default:
            hoopctl_error("sessions: unknown option \"%s\" (hoopctl sessions "
                          "help)", argv[optind - 1]);
            return HOOPCTL_ERROR;
        }
    }

    /* what is left: "sessions", the subcommand, its arguments */

    if (optind + 1 >= argc || strcmp(argv[optind], "sessions") != 0) {
        hoopctl_sessions_usage(stderr);
        return HOOPCTL_ERROR;
    }

    if (strcmp(argv[optind + 1], "help") == 0) {
        hoopctl_sessions_usage(stdout);
        return HOOPCTL_OK;
    }

    for (cmd = hoopctl_sessions_commands; cmd->name; cmd++) {
        if (strcmp(cmd->name, argv[optind + 1]) == 0) {
            break;
        }
    }

    if (cmd->name == NULL) {
        hoopctl_error("unknown sessions command \"%s\" (list, show)",
                      argv[optind + 1]);
        return HOOPCTL_ERROR;
    }

    if (argc - optind - 2 != cmd->nargs) {
        hoopctl_error("usage: hoopctl %s", cmd->usage);
        return HOOPCTL_ERROR;
    }

    bad = a.given & ~(cmd->allowed | HOOPCTL_S_GLOBAL);

    for (i = 0; bad && hoopctl_sessions_option_names[i].name; i++) {
        if (bad & hoopctl_sessions_option_names[i].bit) {
            hoopctl_error("sessions %s: %s does not apply (usage: hoopctl "
                          "%s)", cmd->name,
                          hoopctl_sessions_option_names[i].name, cmd->usage);
            return HOOPCTL_ERROR;
        }
    }

    if (cmd->nargs) {
        a.sid = argv[optind + 2];

        if (a.sid[0] == '\0' || strlen(a.sid) > HOOPCTL_SESSIONS_MAX_SID) {
            hoopctl_error("bad session id \"%s\": 1 to %d bytes (hoopctl "
                          "sessions list shows them)", a.sid,
                          HOOPCTL_SESSIONS_MAX_SID);
            return HOOPCTL_ERROR;
        }
    }

    if (a.principal != NULL && a.principal[0] == '\0') {
        hoopctl_error("bad --principal \"\": a principal name");
        return HOOPCTL_ERROR;
    }

    rc = cmd->run(&a);

    hoopctl_store_close(&a.s);

    return rc;
}
