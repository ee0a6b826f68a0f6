/*
 * hoopctl audit: questions to the audit trail the gateway writes to Redis
 * (docs/audit.md: event format v1, keys, retention), and its export.
 *
 *   hoopctl audit who (--topic T | --group G | --transactional-id X |
 *                      --cluster) [--date YYYY-MM-DD]
 *   hoopctl audit what --principal P [--since TIME] [--until TIME]
 *   hoopctl audit denied --since TIME [--until TIME] [--count N]
 *   hoopctl audit export --group NAME [--consumer C] [--out FILE|-]
 *                        [--batch N] [--follow]
 *   hoopctl audit tail [--count N] [--follow]
 *
 * who and what read the indexes the gateway's script keeps with the events
 * (one HGETALL per day): no scan.  denied reads P audit:denied by time
 * (stream ids are the gateway's milliseconds).  export follows the main
 * stream with a consumer group and acknowledges entries only once they
 * are on disk.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hoopctl.h"


#define HOOPCTL_AUDIT_MAX_DAYS    1000       /* what: days in one query */
#define HOOPCTL_AUDIT_PAGE        1000       /* denied: XRANGE COUNT */
#define HOOPCTL_AUDIT_BLOCK       "1000"     /* --follow: XREAD BLOCK, ms */
#define HOOPCTL_AUDIT_MAX_NAME    256

/* options, as bits: which subcommands take which */
#define HOOPCTL_A_TOPIC       0x0001
#define HOOPCTL_A_GROUP       0x0002
#define HOOPCTL_A_TXN         0x0004
#define HOOPCTL_A_CLUSTER     0x0008
#define HOOPCTL_A_DATE        0x0010
#define HOOPCTL_A_PRINCIPAL   0x0020
#define HOOPCTL_A_SINCE       0x0040
#define HOOPCTL_A_UNTIL       0x0080
#define HOOPCTL_A_COUNT       0x0100
#define HOOPCTL_A_CONSUMER    0x0200
#define HOOPCTL_A_OUT         0x0400
#define HOOPCTL_A_BATCH       0x0800
#define HOOPCTL_A_FOLLOW      0x1000
#define HOOPCTL_A_STREAM      0x2000
#define HOOPCTL_A_JSON        0x4000
#define HOOPCTL_A_GLOBAL      0x8000     /* --redis, --prefix */

#define HOOPCTL_A_RESOURCE \
    (HOOPCTL_A_TOPIC | HOOPCTL_A_TXN | HOOPCTL_A_CLUSTER)


typedef struct hoopctl_audit_s  hoopctl_audit_t;

struct hoopctl_audit_s {
    hoopctl_store_t              s;
    const char                  *redis;
    const char                  *prefix;
    const char                  *topic;
    const char                  *group;
    const char                  *txn;
    const char                  *date;
    const char                  *principal;
    const char                  *since;
    const char                  *until;
    const char                  *consumer;
    const char                  *out;
    const char                  *stream;
    char                        *stream_key;
    unsigned                     count;
    unsigned                     batch;
    unsigned                     given;        /* HOOPCTL_A_* */
    int                          cluster;
    int                          follow;
    int                          json;
    int64_t                      now;          /* ms */
};


typedef struct {
    const char                  *name;
    int                        (*run)(hoopctl_audit_t *a);
    unsigned                     allowed;      /* HOOPCTL_A_* */
    const char                  *usage;
} hoopctl_audit_command_t;


/* a row of who or what: the index field (a JSON array) and its count */
typedef struct {
    json_t                      *field;
    long long                    requests;
    int64_t                      day;          /* what: ms of the day */
} hoopctl_audit_row_t;


static int hoopctl_audit_who(hoopctl_audit_t *a);
static int hoopctl_audit_what(hoopctl_audit_t *a);
static int hoopctl_audit_denied(hoopctl_audit_t *a);
static int hoopctl_audit_export(hoopctl_audit_t *a);
static int hoopctl_audit_tail(hoopctl_audit_t *a);


static const hoopctl_audit_command_t  hoopctl_audit_commands[] = {
    { "who", hoopctl_audit_who,
      HOOPCTL_A_RESOURCE | HOOPCTL_A_GROUP | HOOPCTL_A_DATE | HOOPCTL_A_JSON,
      "audit who --topic T | --group G | --transactional-id X | --cluster\n"
      "                       [--date YYYY-MM-DD] [--json]" },
    { "what", hoopctl_audit_what,
      HOOPCTL_A_PRINCIPAL | HOOPCTL_A_SINCE | HOOPCTL_A_UNTIL
      | HOOPCTL_A_JSON,
      "audit what --principal P [--since TIME] [--until TIME] [--json]" },
    { "denied", hoopctl_audit_denied,
      HOOPCTL_A_SINCE | HOOPCTL_A_UNTIL | HOOPCTL_A_COUNT | HOOPCTL_A_JSON,
      "audit denied --since TIME [--until TIME] [--count N] [--json]" },
    { "export", hoopctl_audit_export,
      HOOPCTL_A_GROUP | HOOPCTL_A_CONSUMER | HOOPCTL_A_OUT | HOOPCTL_A_BATCH
      | HOOPCTL_A_FOLLOW | HOOPCTL_A_STREAM,
      "audit export --group NAME [--consumer C] [--out FILE|-] [--batch N]\n"
      "                       [--follow] [--stream NAME]" },
    { "tail", hoopctl_audit_tail,
      HOOPCTL_A_COUNT | HOOPCTL_A_FOLLOW | HOOPCTL_A_STREAM | HOOPCTL_A_JSON,
      "audit tail [--count N] [--follow] [--stream NAME] [--json]" },
    { NULL, NULL, 0, NULL }
};


static const struct {
    const char                  *name;
    unsigned                     bit;
} hoopctl_audit_option_names[] = {
    { "--topic", HOOPCTL_A_TOPIC },
    { "--group", HOOPCTL_A_GROUP },
    { "--transactional-id", HOOPCTL_A_TXN },
    { "--cluster", HOOPCTL_A_CLUSTER },
    { "--date", HOOPCTL_A_DATE },
    { "--principal", HOOPCTL_A_PRINCIPAL },
    { "--since", HOOPCTL_A_SINCE },
    { "--until", HOOPCTL_A_UNTIL },
    { "--count", HOOPCTL_A_COUNT },
    { "--consumer", HOOPCTL_A_CONSUMER },
    { "--out", HOOPCTL_A_OUT },
    { "--batch", HOOPCTL_A_BATCH },
    { "--follow", HOOPCTL_A_FOLLOW },
    { "--stream", HOOPCTL_A_STREAM },
    { "--json", HOOPCTL_A_JSON },
    { NULL, 0 }
};


static volatile sig_atomic_t  hoopctl_audit_stop;


static void
hoopctl_audit_usage(FILE *f)
{
    const hoopctl_audit_command_t  *c;

    fputs("usage:\n", f);

    for (c = hoopctl_audit_commands; c->name; c++) {
        fprintf(f, "  hoopctl %s\n", c->usage);
    }

    fputs("\n  TIME: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] (UTC), now, or an "
          "age: 90m, 24h, 7d\n"
          "  --stream NAME: the main stream, key PREFIX NAME (default "
          "\"audit\")\n"
          "  also --redis HOST:PORT, --prefix PREFIX (hoopctl --help); "
          "docs/audit.md\n", f);
}


static void
hoopctl_audit_on_signal(int signo)
{
    (void) signo;
    hoopctl_audit_stop = 1;
}


/* ----------------------------------------------------------------------
 * Redis
 */

/* one command; NULL (printed) on a transport error or an error reply */
static redisReply *
hoopctl_audit_run(hoopctl_audit_t *a, int argc, const char **argv,
    const size_t *lens)
{
    redisReply  *r;

    r = redisCommandArgv(a->s.ctx, argc, argv, lens);

    if (r == NULL) {
        hoopctl_error("Redis at %s: %s", a->s.where,
                      a->s.ctx->errstr[0] ? a->s.ctx->errstr : "no answer");
        return NULL;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        hoopctl_error("Redis at %s: %s: %.*s", a->s.where, argv[0],
                      (int) r->len, r->str);
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


/* PREFIX and the parts up to a NULL, joined: a key, allocated */
static char *
hoopctl_audit_key(hoopctl_audit_t *a, ...)
{
    va_list         ap;
    const char     *part;
    hoopctl_buf_t   b = { NULL, 0, 0 };

    hoopctl_buf_adds(&b, a->prefix);

    va_start(ap, a);
    while ((part = va_arg(ap, const char *)) != NULL) {
        hoopctl_buf_adds(&b, part);
    }
    va_end(ap);

    return b.data;
}


/*
 * A stream entry reply, [id, [field, value, ...]], as an event; NULL with
 * *deleted = 1 for an entry trimmed while pending ([id, nil]), NULL with
 * *deleted = 0 (printed) for an answer that is not an entry.
 */
static json_t *
hoopctl_audit_entry(hoopctl_audit_t *a, const redisReply *e, int *deleted)
{
    size_t             i, n;
    json_t            *ev;
    const char       **keys, **vals;
    size_t            *klens, *vlens;
    const redisReply  *id, *f;

    *deleted = 0;

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
        || e->element[0]->type != REDIS_REPLY_STRING)
    {
        hoopctl_error("Redis at %s: unexpected stream entry", a->s.where);
        return NULL;
    }

    id = e->element[0];
    f = e->element[1];

    if (f->type == REDIS_REPLY_NIL) {
        *deleted = 1;
        return NULL;
    }

    if (f->type != REDIS_REPLY_ARRAY || f->elements % 2) {
        hoopctl_error("Redis at %s: unexpected fields of stream entry %.*s",
                      a->s.where, (int) id->len, id->str);
        return NULL;
    }

    n = f->elements / 2;
    keys = hoopctl_alloc((n + 1) * sizeof(const char *));
    vals = hoopctl_alloc((n + 1) * sizeof(const char *));
    klens = hoopctl_alloc((n + 1) * sizeof(size_t));
    vlens = hoopctl_alloc((n + 1) * sizeof(size_t));

    for (i = 0; i < n; i++) {
        if (f->element[2 * i]->type != REDIS_REPLY_STRING
            || f->element[2 * i + 1]->type != REDIS_REPLY_STRING)
        {
            hoopctl_error("Redis at %s: unexpected fields of stream entry "
                          "%.*s", a->s.where, (int) id->len, id->str);
            ev = NULL;
            goto done;
        }

        keys[i] = f->element[2 * i]->str;
        klens[i] = f->element[2 * i]->len;
        vals[i] = f->element[2 * i + 1]->str;
        vlens[i] = f->element[2 * i + 1]->len;
    }

    ev = hoopctl_audit_event_json(id->str, id->len, n, keys, klens, vals,
                                  vlens);

done:

    free(keys);
    free(vals);
    free(klens);
    free(vlens);

    return ev;
}


/*
 * The entries of an XREAD/XREADGROUP answer for one stream: NULL when
 * there are none (nil, or an empty list), *bad = 1 (printed) when the
 * answer has another shape.
 */
static const redisReply *
hoopctl_audit_read_entries(hoopctl_audit_t *a, const redisReply *r, int *bad)
{
    const redisReply  *s;

    *bad = 0;

    if (r->type == REDIS_REPLY_NIL) {
        return NULL;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1
        || r->element[0]->type != REDIS_REPLY_ARRAY
        || r->element[0]->elements != 2
        || r->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
    {
        hoopctl_error("Redis at %s: unexpected answer to a stream read",
                      a->s.where);
        *bad = 1;
        return NULL;
    }

    s = r->element[0]->element[1];

    return s->elements ? s : NULL;
}


/* ----------------------------------------------------------------------
 * Output
 */

/* rows x cols cells (row 0: the heads), columns two blanks apart */
static void
hoopctl_audit_table(hoopctl_buf_t *cells, size_t rows, size_t cols)
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
    }

    free(w);
}


static hoopctl_buf_t *
hoopctl_audit_cells(size_t rows, size_t cols, const char **heads)
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


/* null first, then strings by bytes */
static int
hoopctl_audit_cmp_value(json_t *x, json_t *y)
{
    if (!json_is_string(x) || !json_is_string(y)) {
        return json_is_string(x) - json_is_string(y);
    }

    return strcmp(json_string_value(x), json_string_value(y));
}


static int
hoopctl_audit_cmp_rows(const void *p, const void *q)
{
    int                         c;
    size_t                      i;
    const hoopctl_audit_row_t  *x, *y;

    x = p;
    y = q;

    if (x->day != y->day) {
        return x->day < y->day ? -1 : 1;
    }

    for (i = 0; i < json_array_size(x->field); i++) {
        c = hoopctl_audit_cmp_value(json_array_get(x->field, i),
                                    json_array_get(y->field, i));
        if (c != 0) {
            return c;
        }
    }

    return 0;
}


/* a strict decimal count, > 0 */
static int
hoopctl_audit_count_value(const redisReply *v, long long *n)
{
    char       buf[24], *end;
    long long  x;

    if (v->type != REDIS_REPLY_STRING || v->len == 0
        || v->len >= sizeof(buf))
    {
        return -1;
    }

    memcpy(buf, v->str, v->len);
    buf[v->len] = '\0';

    if (buf[0] < '0' || buf[0] > '9') {
        return -1;
    }

    errno = 0;
    x = strtoll(buf, &end, 10);
    if (*end != '\0' || errno != 0) {
        return -1;
    }

    *n = x;
    return 0;
}


/*
 * Append the rows of one index hash (an HGETALL answer) whose fields are
 * arrays of n values; returns the number of fields that are not (skipped),
 * or -1 for an answer that is not a hash.
 */
static long
hoopctl_audit_index_rows(hoopctl_audit_t *a, const redisReply *r, size_t n,
    int64_t day, const char *key, hoopctl_audit_row_t **rows, size_t *nrows)
{
    long                  bad;
    size_t                i;
    json_t               *f;
    long long             count;
    const redisReply     *k, *v;

    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2) {
        hoopctl_error("Redis at %s: %s is not an index hash", a->s.where,
                      key);
        return -1;
    }

    *rows = hoopctl_realloc(*rows, (*nrows + r->elements / 2 + 1)
                                   * sizeof(hoopctl_audit_row_t));
    bad = 0;

    for (i = 0; i < r->elements; i += 2) {
        k = r->element[i];
        v = r->element[i + 1];

        f = k->type == REDIS_REPLY_STRING
            ? hoopctl_audit_index_field(k->str, k->len, n) : NULL;

        if (f == NULL || hoopctl_audit_count_value(v, &count) != 0) {
            json_decref(f);
            bad++;
            continue;
        }

        (*rows)[*nrows].field = f;
        (*rows)[*nrows].requests = count;
        (*rows)[*nrows].day = day;
        (*nrows)++;
    }

    if (bad) {
        hoopctl_error("warning: %s: %ld field%s that are not index entries "
                      "(skipped)", key, bad, bad == 1 ? "" : "s");
    }

    return bad;
}


static void
hoopctl_audit_free_rows(hoopctl_audit_row_t *rows, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        json_decref(rows[i].field);
    }

    free(rows);
}


/* ----------------------------------------------------------------------
 * who: one day of one resource (the who index)
 */

static int
hoopctl_audit_who(hoopctl_audit_t *a)
{
    int                   rc, given;
    char                  day[16], *key;
    size_t                i, nrows, nprincipals;
    json_t               *out, *o;
    int64_t               ms;
    long long             total;
    redisReply           *r;
    const char           *type, *name, *argv[2];
    hoopctl_buf_t        *cells;
    hoopctl_audit_row_t  *rows;

    static const char  *heads[] = {
        "PRINCIPAL", "OPERATION", "DECISION", "REQUESTS"
    };

    given = (a->topic != NULL) + (a->group != NULL) + (a->txn != NULL)
            + a->cluster;

    if (given != 1) {
        hoopctl_error("audit who: one resource: --topic T, --group G, "
                      "--transactional-id X or --cluster");
        return HOOPCTL_ERROR;
    }

    if (a->topic != NULL) {
        type = "topic";
        name = a->topic;
    } else if (a->group != NULL) {
        type = "group";
        name = a->group;
    } else if (a->txn != NULL) {
        type = "transactional_id";
        name = a->txn;
    } else {
        type = "cluster";
        name = HOOP_POLICY_CLUSTER_NAME;
    }

    if (a->date != NULL) {
        if (hoopctl_audit_parse_date(a->date, &ms) != 0) {
            hoopctl_error("bad --date \"%s\" (a UTC date, YYYY-MM-DD)",
                          a->date);
            return HOOPCTL_ERROR;
        }
    } else {
        ms = a->now;
    }

    hoopctl_audit_day(ms, day, sizeof(day));

    if (hoopctl_store_open(&a->s, a->redis, a->prefix) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    key = hoopctl_audit_key(a, "audit:who:", type, ":", day, ":", name,
                            (char *) NULL);

    argv[0] = "HGETALL";
    argv[1] = key;

    r = hoopctl_audit_run(a, 2, argv, NULL);
    if (r == NULL) {
        free(key);
        return HOOPCTL_ERROR;
    }

    rows = NULL;
    nrows = 0;
    rc = HOOPCTL_OK;

    if (hoopctl_audit_index_rows(a, r, 3, 0, key, &rows, &nrows) < 0) {
        rc = HOOPCTL_ERROR;
        goto done;
    }

    qsort(rows, nrows, sizeof(hoopctl_audit_row_t), hoopctl_audit_cmp_rows);

    if (a->json) {
        out = json_array();

        for (i = 0; i < nrows; i++) {
            o = json_object();
            json_object_set(o, "principal", json_array_get(rows[i].field, 0));
            json_object_set(o, "operation", json_array_get(rows[i].field, 1));
            json_object_set(o, "decision", json_array_get(rows[i].field, 2));
            json_object_set_new(o, "requests",
                                json_integer(rows[i].requests));
            json_array_append_new(out, o);
        }

        hoopctl_json_print(out);
        goto done;
    }

    total = 0;
    nprincipals = 0;

    for (i = 0; i < nrows; i++) {
        total += rows[i].requests;
        if (i == 0 || hoopctl_audit_cmp_value(json_array_get(rows[i].field, 0),
                          json_array_get(rows[i - 1].field, 0)) != 0)
        {
            nprincipals++;
        }
    }

    printf("%s ", type);
    hoopctl_put_clean(stdout, name, strlen(name));

    if (nrows == 0) {
        printf(" on %s (UTC): no requests recorded\n", day);
        goto done;
    }

    printf(" on %s (UTC): %zu principal%s, %lld request%s\n", day,
           nprincipals, nprincipals == 1 ? "" : "s", total,
           total == 1 ? "" : "s");

    cells = hoopctl_audit_cells(nrows + 1, 4, heads);

    for (i = 0; i < nrows; i++) {
        hoopctl_audit_add_value(&cells[(i + 1) * 4],
                                json_array_get(rows[i].field, 0), 0);
        hoopctl_audit_add_value(&cells[(i + 1) * 4 + 1],
                                json_array_get(rows[i].field, 1), 0);
        hoopctl_audit_add_value(&cells[(i + 1) * 4 + 2],
                                json_array_get(rows[i].field, 2), 0);
        hoopctl_buf_printf(&cells[(i + 1) * 4 + 3], "%lld",
                           rows[i].requests);
    }

    hoopctl_audit_table(cells, nrows + 1, 4);
    free(cells);

done:

    hoopctl_audit_free_rows(rows, nrows);
    freeReplyObject(r);
    free(key);

    return rc;
}


/* ----------------------------------------------------------------------
 * what: the days of a range of one principal (the what index)
 */

/* --since and --until (defaults: until now, since a day before it) */
static int
hoopctl_audit_range(hoopctl_audit_t *a, int64_t *since, int64_t *until)
{
    *until = a->now;

    if (a->until != NULL
        && hoopctl_audit_parse_time(a->until, 1, a->now, until) != 0)
    {
        hoopctl_error("bad --until \"%s\": a UTC date (2026-12-06), time "
                      "(2026-12-06T10:30[:00][Z]), now, or an age (90m, "
                      "24h, 7d)", a->until);
        return HOOPCTL_ERROR;
    }

    *since = *until - HOOPCTL_DAY * 1000LL;

    if (a->since != NULL
        && hoopctl_audit_parse_time(a->since, 0, a->now, since) != 0)
    {
        hoopctl_error("bad --since \"%s\": a UTC date (2026-12-06), time "
                      "(2026-12-06T10:30[:00][Z]), now, or an age (90m, "
                      "24h, 7d)", a->since);
        return HOOPCTL_ERROR;
    }

    if (*since < 0) {
        *since = 0;
    }

    if (*since > *until) {
        hoopctl_error("--since %s is after --until %s", a->since,
                      a->until ? a->until : "now");
        return HOOPCTL_ERROR;
    }

    return HOOPCTL_OK;
}


static int
hoopctl_audit_what(hoopctl_audit_t *a)
{
    int                   rc;
    char                  d[16], t1[40], t2[40], **keys;
    size_t                i, k, ndays, nrows, nres;
    json_t               *out, *o;
    int64_t               since, until, first;
    long long             total;
    redisReply           *r;
    const char           *argv[2];
    hoopctl_buf_t        *cells;
    hoopctl_audit_row_t  *rows;

    static const char  *heads[] = {
        "DATE", "TYPE", "RESOURCE", "OPERATION", "DECISION", "REQUESTS"
    };

    if (a->principal == NULL) {
        hoopctl_error("audit what: --principal P is required");
        return HOOPCTL_ERROR;
    }

    if (hoopctl_audit_range(a, &since, &until) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    first = since / (HOOPCTL_DAY * 1000LL);
    ndays = (size_t) (until / (HOOPCTL_DAY * 1000LL) - first + 1);

    if (ndays > HOOPCTL_AUDIT_MAX_DAYS) {
        hoopctl_error("audit what: %zu days from --since to --until: at most "
                      "%d in one query", ndays, HOOPCTL_AUDIT_MAX_DAYS);
        return HOOPCTL_ERROR;
    }

    if (hoopctl_store_open(&a->s, a->redis, a->prefix) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    /* one HGETALL per day, pipelined */

    keys = hoopctl_alloc(ndays * sizeof(char *));

    for (i = 0; i < ndays; i++) {
        hoopctl_audit_day((first + (int64_t) i) * HOOPCTL_DAY * 1000LL, d,
                          sizeof(d));
        keys[i] = hoopctl_audit_key(a, "audit:what:", d, ":", a->principal,
                                    (char *) NULL);

        argv[0] = "HGETALL";
        argv[1] = keys[i];

        if (redisAppendCommandArgv(a->s.ctx, 2, argv, NULL) != REDIS_OK) {
            hoopctl_error("out of memory");
            exit(HOOPCTL_ERROR);
        }
    }

    rows = NULL;
    nrows = 0;
    rc = HOOPCTL_OK;

    for (i = 0; i < ndays; i++) {
        void  *reply;

        if (redisGetReply(a->s.ctx, &reply) != REDIS_OK || reply == NULL) {
            hoopctl_error("Redis at %s: %s", a->s.where,
                          a->s.ctx->errstr[0] ? a->s.ctx->errstr
                                              : "no answer");
            rc = HOOPCTL_ERROR;
            break;
        }

        r = reply;

        if (r->type == REDIS_REPLY_ERROR) {
            hoopctl_error("Redis at %s: HGETALL %s: %.*s", a->s.where,
                          keys[i], (int) r->len, r->str);
            rc = HOOPCTL_ERROR;

        } else if (rc == HOOPCTL_OK
                   && hoopctl_audit_index_rows(a, r, 4,
                          (first + (int64_t) i) * HOOPCTL_DAY * 1000LL,
                          keys[i], &rows, &nrows) < 0)
        {
            rc = HOOPCTL_ERROR;
        }

        freeReplyObject(r);
    }

    if (rc != HOOPCTL_OK) {
        goto done;
    }

    qsort(rows, nrows, sizeof(hoopctl_audit_row_t), hoopctl_audit_cmp_rows);

    if (a->json) {
        out = json_array();

        for (i = 0; i < nrows; i++) {
            o = json_object();
            json_object_set_new(o, "date",
                json_string(hoopctl_audit_day(rows[i].day, d, sizeof(d))));
            json_object_set(o, "resource_type",
                            json_array_get(rows[i].field, 0));
            json_object_set(o, "resource", json_array_get(rows[i].field, 1));
            json_object_set(o, "operation", json_array_get(rows[i].field, 2));
            json_object_set(o, "decision", json_array_get(rows[i].field, 3));
            json_object_set_new(o, "requests",
                                json_integer(rows[i].requests));
            json_array_append_new(out, o);
        }

        hoopctl_json_print(out);
        goto done;
    }

    /* distinct resources (type and name) over the whole range */

    total = 0;
    nres = 0;

    for (i = 0; i < nrows; i++) {
        total += rows[i].requests;

        for (k = 0; k < i; k++) {
            if (hoopctl_audit_cmp_value(json_array_get(rows[i].field, 0),
                                        json_array_get(rows[k].field, 0))
                == 0
                && hoopctl_audit_cmp_value(json_array_get(rows[i].field, 1),
                                           json_array_get(rows[k].field, 1))
                   == 0)
            {
                break;
            }
        }

        nres += k == i;
    }

    hoopctl_put_clean(stdout, a->principal, strlen(a->principal));
    printf(" from %s to %s", hoopctl_audit_time(since, t1, sizeof(t1)),
           hoopctl_audit_time(until, t2, sizeof(t2)));

    if (nrows == 0) {
        printf(" (whole UTC days): no requests recorded\n");
        goto done;
    }

    printf(" (whole UTC days): %zu resource%s, %lld request%s\n", nres,
           nres == 1 ? "" : "s", total, total == 1 ? "" : "s");

    cells = hoopctl_audit_cells(nrows + 1, 6, heads);

    for (i = 0; i < nrows; i++) {
        hoopctl_buf_adds(&cells[(i + 1) * 6],
                         hoopctl_audit_day(rows[i].day, d, sizeof(d)));
        for (k = 0; k < 4; k++) {
            hoopctl_audit_add_value(&cells[(i + 1) * 6 + 1 + k],
                                    json_array_get(rows[i].field, k), 0);
        }
        hoopctl_buf_printf(&cells[(i + 1) * 6 + 5], "%lld",
                           rows[i].requests);
    }

    hoopctl_audit_table(cells, nrows + 1, 6);
    free(cells);

done:

    hoopctl_audit_free_rows(rows, nrows);

    for (i = 0; i < ndays; i++) {
        free(keys[i]);
    }
    free(keys);

    return rc;
}


/* ----------------------------------------------------------------------
 * denied: P audit:denied by time
 */

static void
hoopctl_audit_denied_row(hoopctl_buf_t *c, json_t *ev)
{
    char     t[40];
    json_t  *v;

    hoopctl_buf_adds(&c[0], hoopctl_audit_time(hoopctl_audit_event_ms(ev), t,
                                               sizeof(t)));
    hoopctl_audit_add_value(&c[1], json_object_get(ev, "principal"), 0);
    hoopctl_audit_add_value(&c[2], json_object_get(ev, "client"), 0);

    /* the API, or what kind of event it is when there is none */
    v = json_object_get(ev, "api");
    hoopctl_audit_add_value(&c[3], v ? v : json_object_get(ev, "event"), 0);

    v = json_object_get(ev, "resource_type");
    if (v != NULL) {
        hoopctl_audit_add_value(&c[4], v, 0);
        hoopctl_buf_adds(&c[4], ":");
        hoopctl_audit_add_value(&c[4], json_object_get(ev, "resource"), 0);
    } else {
        hoopctl_buf_adds(&c[4], "-");
    }

    hoopctl_audit_add_value(&c[5], json_object_get(ev, "operation"), 0);

    if ((v = json_object_get(ev, "reason")) != NULL
        || (v = json_object_get(ev, "error")) != NULL)
    {
        hoopctl_audit_add_value(&c[6], v, 0);

    } else if ((v = json_object_get(ev, "count")) != NULL) {
        hoopctl_buf_adds(&c[6], "dropped: ");
        hoopctl_audit_add_value(&c[6], v, 0);

    } else {
        hoopctl_buf_adds(&c[6], "-");
    }
}


static int
hoopctl_audit_denied(hoopctl_audit_t *a)
{
    int                rc, deleted, more;
    char               start[40], end[24], page[24], t1[40], t2[40], *key;
    size_t             i, n;
    json_t            *events, *ev;
    int64_t            since, until;
    redisReply        *r;
    const char        *argv[6];
    hoopctl_buf_t     *cells;
    const redisReply  *e;

    static const char  *heads[] = {
        "TIME", "PRINCIPAL", "CLIENT", "API", "RESOURCE", "OPERATION",
        "REASON"
    };

    if (a->since == NULL) {
        hoopctl_error("audit denied: --since TIME is required (e.g. "
                      "--since 24h)");
        return HOOPCTL_ERROR;
    }

    if (hoopctl_audit_range(a, &since, &until) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    if (hoopctl_store_open(&a->s, a->redis, a->prefix) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    key = hoopctl_audit_key(a, "audit:denied", (char *) NULL);
    events = json_array();
    rc = HOOPCTL_OK;

    snprintf(start, sizeof(start), "%lld", (long long) since);
    snprintf(end, sizeof(end), "%lld", (long long) until);

    /* pages of XRANGE, each from just after the last id */

    for (more = 1; more; /* void */) {
        n = HOOPCTL_AUDIT_PAGE;
        if (a->count && a->count - json_array_size(events) < n) {
            n = a->count - json_array_size(events);
        }

        if (n == 0) {
            break;
        }

        snprintf(page, sizeof(page), "%zu", n);
        argv[0] = "XRANGE";
        argv[1] = key;
        argv[2] = start;
        argv[3] = end;
        argv[4] = "COUNT";
        argv[5] = page;

        r = hoopctl_audit_run(a, 6, argv, NULL);
        if (r == NULL) {
            rc = HOOPCTL_ERROR;
            break;
        }

        if (r->type != REDIS_REPLY_ARRAY) {
            hoopctl_error("Redis at %s: unexpected answer to XRANGE %s",
                          a->s.where, key);
            freeReplyObject(r);
            rc = HOOPCTL_ERROR;
            break;
        }

        for (i = 0; i < r->elements; i++) {
            e = r->element[i];
            ev = hoopctl_audit_entry(a, e, &deleted);
            if (ev == NULL) {
                rc = HOOPCTL_ERROR;
                break;
            }

            json_array_append_new(events, ev);
            snprintf(start, sizeof(start), "(%.*s",
                     (int) e->element[0]->len, e->element[0]->str);
        }

        more = rc == HOOPCTL_OK && r->elements == n;
        freeReplyObject(r);
    }

    if (rc != HOOPCTL_OK) {
        json_decref(events);
        free(key);
        return rc;
    }

    if (a->json) {
        hoopctl_json_print(events);
        free(key);
        return HOOPCTL_OK;
    }

    n = json_array_size(events);

    printf("denied from %s to %s: %zu event%s%s\n",
           hoopctl_audit_time(since, t1, sizeof(t1)),
           hoopctl_audit_time(until, t2, sizeof(t2)), n, n == 1 ? "" : "s",
           a->count && n == a->count ? " (--count reached)" : "");

    if (n > 0) {
        cells = hoopctl_audit_cells(n + 1, 7, heads);

        for (i = 0; i < n; i++) {
            hoopctl_audit_denied_row(&cells[(i + 1) * 7],
                                     json_array_get(events, i));
        }

        hoopctl_audit_table(cells, n + 1, 7);
        free(cells);
    }

    json_decref(events);
    free(key);

    return HOOPCTL_OK;
}


/* ----------------------------------------------------------------------
 * export: JSON lines through a consumer group
 */

static int
hoopctl_audit_write_all(int fd, const char *p, size_t len)
{
    ssize_t  n;

    while (len > 0) {
        n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }

        p += n;
        len -= (size_t) n;
    }

    return 0;
}


/*
 * A line cut short by an interrupted export (a crash in a write) ends the
 * file without a newline: cut it off, its entry is still pending and is
 * written again whole.
 */
static int
hoopctl_audit_repair(int fd, const char *path)
{
    char         buf[4096];
    off_t        pos, keep;
    ssize_t      n, i;
    struct stat  st;

    if (fstat(fd, &st) != 0) {
        hoopctl_error("%s: %s", path, strerror(errno));
        return -1;
    }

    if (!S_ISREG(st.st_mode) || st.st_size == 0) {
        return 0;
    }

    pos = st.st_size;
    keep = 0;

    while (pos > 0) {
        n = pos > (off_t) sizeof(buf) ? (ssize_t) sizeof(buf)
                                      : (ssize_t) pos;
        pos -= n;

        if (pread(fd, buf, (size_t) n, pos) != n) {
            hoopctl_error("%s: cannot read: %s", path, strerror(errno));
            return -1;
        }

        for (i = n - 1; i >= 0; i--) {
            if (buf[i] == '\n') {
                keep = pos + i + 1;
                goto found;
            }
        }
    }

found:

    if (keep == st.st_size) {
        return 0;
    }

    if (ftruncate(fd, keep) != 0 || fsync(fd) != 0) {
        hoopctl_error("%s: cannot cut the partial last line: %s", path,
                      strerror(errno));
        return -1;
    }

    hoopctl_error("warning: %s: cut a partial last line (%lld bytes) left by "
                  "an interrupted export; its entry is written again",
                  path, (long long) (st.st_size - keep));

    return 0;
}


static int
hoopctl_audit_open_out(const char *path, int *fd)
{
    struct flock  fl;

    if (strcmp(path, "-") == 0) {
        *fd = STDOUT_FILENO;
        return 0;
    }

    *fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0644);
    if (*fd < 0) {
        hoopctl_error("%s: %s", path, strerror(errno));
        return -1;
    }

    /* one export per file: two would interleave and cut each other */
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;

    if (fcntl(*fd, F_SETLK, &fl) != 0) {
        hoopctl_error("%s: %s", path,
                      errno == EACCES || errno == EAGAIN
                      ? "another export is writing it" : strerror(errno));
        close(*fd);
        return -1;
    }

    if (hoopctl_audit_repair(*fd, path) != 0) {
        close(*fd);
        return -1;
    }

    return 0;
}


typedef struct {
    hoopctl_audit_t             *a;
    const char                  *key;
    const char                  *out;
    int                          fd;
    unsigned long long           exported;
    unsigned long long           again;        /* from the pending list */
    unsigned long long           lost;         /* trimmed while pending */
} hoopctl_export_t;


/*
 * Write the entries of one read, make them durable, then acknowledge
 * them.  *last: the id of the last entry (for the pending pass).
 */
static int
hoopctl_audit_export_batch(hoopctl_export_t *x, const redisReply *entries,
    int pending, char *last, size_t last_size)
{
    int                rc, deleted;
    char              *line;
    size_t             i, n;
    json_t            *ev;
    redisReply        *r;
    const char       **argv;
    hoopctl_buf_t      b = { NULL, 0, 0 };
    const redisReply  *e;

    n = entries->elements;
    argv = hoopctl_alloc((n + 3) * sizeof(const char *));
    argv[0] = "XACK";
    argv[1] = x->key;
    argv[2] = x->a->group;
    rc = HOOPCTL_ERROR;

    for (i = 0; i < n; i++) {
        e = entries->element[i];
        ev = hoopctl_audit_entry(x->a, e, &deleted);

        if (ev == NULL && !deleted) {
            goto done;
        }

        argv[3 + i] = e->element[0]->str;
        snprintf(last, last_size, "%.*s", (int) e->element[0]->len,
                 e->element[0]->str);

        if (deleted) {
            x->lost++;
            hoopctl_error("warning: pending entry %.*s was trimmed from the "
                          "stream before it was exported (retention)",
                          (int) e->element[0]->len, e->element[0]->str);
            continue;
        }

        line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(ev);

        if (line == NULL) {
            hoopctl_error("out of memory");
            exit(HOOPCTL_ERROR);
        }

        hoopctl_buf_adds(&b, line);
        hoopctl_buf_add(&b, "\n", 1);
        free(line);

        x->exported++;
        x->again += pending;
    }

    if (hoopctl_audit_write_all(x->fd, hoopctl_buf_str(&b), b.len) != 0) {
        hoopctl_error("%s: cannot write: %s", x->out, strerror(errno));
        goto done;
    }

    /* on disk before Redis forgets: a pipe or a terminal cannot fsync */
    if (fsync(x->fd) != 0 && errno != EINVAL && errno != ENOTSUP) {
        hoopctl_error("%s: fsync: %s", x->out, strerror(errno));
        goto done;
    }

    r = hoopctl_audit_run(x->a, (int) (n + 3), argv, NULL);
    if (r == NULL) {
        goto done;
    }

    freeReplyObject(r);
    rc = HOOPCTL_OK;

done:

    hoopctl_buf_free(&b);
    free(argv);

    return rc;
}


static int
hoopctl_audit_export(hoopctl_audit_t *a)
{
    int                 rc, bad, pending;
    char                count[16], last[64];
    const char         *argv[12];
    redisReply         *r;
    hoopctl_export_t    x;
    struct sigaction    sa;
    const redisReply   *entries;

    if (a->group == NULL) {
        hoopctl_error("audit export: --group NAME is required (the consumer "
                      "group that remembers what was exported)");
        return HOOPCTL_ERROR;
    }

    if (hoopctl_check_text(a->group, HOOPCTL_AUDIT_MAX_NAME) != 0
        || hoopctl_check_text(a->consumer, HOOPCTL_AUDIT_MAX_NAME) != 0)
    {
        hoopctl_error("bad --group or --consumer: 1 to %d bytes of UTF-8 "
                      "without control characters", HOOPCTL_AUDIT_MAX_NAME);
        return HOOPCTL_ERROR;
    }

    memset(&x, 0, sizeof(x));
    x.a = a;
    x.key = a->stream_key;
    x.out = strcmp(a->out, "-") == 0 ? "standard output" : a->out;

    if (hoopctl_store_open(&a->s, a->redis, a->prefix) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    /* the group, from the first entry, unless it exists */

    argv[0] = "XGROUP";
    argv[1] = "CREATE";
    argv[2] = x.key;
    argv[3] = a->group;
    argv[4] = "0";
    argv[5] = "MKSTREAM";

    r = redisCommandArgv(a->s.ctx, 6, argv, NULL);
    if (r == NULL) {
        hoopctl_error("Redis at %s: %s", a->s.where,
                      a->s.ctx->errstr[0] ? a->s.ctx->errstr : "no answer");
        return HOOPCTL_ERROR;
    }

    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0)
    {
        hoopctl_error("Redis at %s: XGROUP CREATE %s %s: %.*s", a->s.where,
                      x.key, a->group, (int) r->len, r->str);
        freeReplyObject(r);
        return HOOPCTL_ERROR;
    }

    freeReplyObject(r);

    if (hoopctl_audit_open_out(a->out, &x.fd) != 0) {
        return HOOPCTL_ERROR;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = hoopctl_audit_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    snprintf(count, sizeof(count), "%u", a->batch);

    /*
     * First what this consumer read before and did not acknowledge (an
     * export that stopped between reading and XACK), from id 0 on; then
     * new entries (">").
     */

    pending = 1;
    snprintf(last, sizeof(last), "0");
    rc = HOOPCTL_OK;

    while (!hoopctl_audit_stop) {
        int  argc = 0;

        argv[argc++] = "XREADGROUP";
        argv[argc++] = "GROUP";
        argv[argc++] = a->group;
        argv[argc++] = a->consumer;
        argv[argc++] = "COUNT";
        argv[argc++] = count;
        if (!pending && a->follow) {
            argv[argc++] = "BLOCK";
            argv[argc++] = HOOPCTL_AUDIT_BLOCK;
        }
        argv[argc++] = "STREAMS";
        argv[argc++] = x.key;
        argv[argc++] = pending ? last : ">";

        r = hoopctl_audit_run(a, argc, argv, NULL);
        if (r == NULL) {
            rc = HOOPCTL_ERROR;
            break;
        }

        entries = hoopctl_audit_read_entries(a, r, &bad);

        if (bad) {
            freeReplyObject(r);
            rc = HOOPCTL_ERROR;
            break;
        }

        if (entries == NULL) {
            freeReplyObject(r);

            if (pending) {
                pending = 0;
                continue;
            }

            if (!a->follow) {
                break;
            }

            continue;
        }

        rc = hoopctl_audit_export_batch(&x, entries, pending, last,
                                        sizeof(last));
        freeReplyObject(r);

        if (rc != HOOPCTL_OK) {
            break;
        }
    }

    if (x.fd != STDOUT_FILENO && close(x.fd) != 0 && rc == HOOPCTL_OK) {
        hoopctl_error("%s: %s", x.out, strerror(errno));
        rc = HOOPCTL_ERROR;
    }

    fprintf(x.fd == STDOUT_FILENO ? stderr : stdout,
            "exported %llu event%s to %s (group %s, consumer %s)",
            x.exported, x.exported == 1 ? "" : "s", x.out, a->group,
            a->consumer);

    if (x.again) {
        fprintf(x.fd == STDOUT_FILENO ? stderr : stdout,
                ", %llu of them again after an interrupted export",
                x.again);
    }

    if (x.lost) {
        fprintf(x.fd == STDOUT_FILENO ? stderr : stdout,
                "; %llu pending entr%s trimmed before export", x.lost,
                x.lost == 1 ? "y was" : "ies were");
    }

    fprintf(x.fd == STDOUT_FILENO ? stderr : stdout, "%s\n",
            rc == HOOPCTL_OK ? "" : " before an error");

    return rc;
}


/* ----------------------------------------------------------------------
 * tail: the newest events
 */

static int
hoopctl_audit_print_event(hoopctl_audit_t *a, const redisReply *e)
{
    int             deleted;
    char           *s;
    json_t         *ev;
    hoopctl_buf_t   b = { NULL, 0, 0 };

    ev = hoopctl_audit_entry(a, e, &deleted);
    if (ev == NULL) {
        return deleted ? HOOPCTL_OK : HOOPCTL_ERROR;
    }

    if (a->json) {
        s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s == NULL) {
            hoopctl_error("out of memory");
            exit(HOOPCTL_ERROR);
        }
        printf("%s\n", s);
        free(s);

    } else {
        hoopctl_audit_event_line(&b, ev);
        printf("%s\n", hoopctl_buf_str(&b));
        hoopctl_buf_free(&b);
    }

    json_decref(ev);

    return HOOPCTL_OK;
}


static int
hoopctl_audit_tail(hoopctl_audit_t *a)
{
    int                rc, bad;
    char               count[16], last[64];
    size_t             i;
    const char        *argv[10];
    redisReply        *r;
    struct sigaction   sa;
    const redisReply  *entries;

    if (hoopctl_store_open(&a->s, a->redis, a->prefix) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    snprintf(count, sizeof(count), "%u", a->count ? a->count : 10);

    argv[0] = "XREVRANGE";
    argv[1] = a->stream_key;
    argv[2] = "+";
    argv[3] = "-";
    argv[4] = "COUNT";
    argv[5] = count;

    r = hoopctl_audit_run(a, 6, argv, NULL);
    if (r == NULL) {
        return HOOPCTL_ERROR;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        hoopctl_error("Redis at %s: unexpected answer to XREVRANGE %s",
                      a->s.where, a->stream_key);
        freeReplyObject(r);
        return HOOPCTL_ERROR;
    }

    /* oldest first */

    snprintf(last, sizeof(last), "0-0");

    for (i = r->elements; i > 0; i--) {
        if (hoopctl_audit_print_event(a, r->element[i - 1]) != HOOPCTL_OK) {
            freeReplyObject(r);
            return HOOPCTL_ERROR;
        }
    }

    if (r->elements > 0) {
        snprintf(last, sizeof(last), "%.*s",
                 (int) r->element[0]->element[0]->len,
                 r->element[0]->element[0]->str);
    }

    freeReplyObject(r);

    if (!a->follow) {
        return HOOPCTL_OK;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = hoopctl_audit_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    rc = HOOPCTL_OK;
    fflush(stdout);

    while (!hoopctl_audit_stop) {
        argv[0] = "XREAD";
        argv[1] = "COUNT";
        argv[2] = "100";
        argv[3] = "BLOCK";
        argv[4] = HOOPCTL_AUDIT_BLOCK;
        argv[5] = "STREAMS";
        argv[6] = a->stream_key;
        argv[7] = last;

        r = hoopctl_audit_run(a, 8, argv, NULL);
        if (r == NULL) {
            rc = HOOPCTL_ERROR;
            break;
        }

        entries = hoopctl_audit_read_entries(a, r, &bad);

        if (bad) {
            freeReplyObject(r);
            rc = HOOPCTL_ERROR;
            break;
        }

        for (i = 0; entries != NULL && i < entries->elements; i++) {
            if (hoopctl_audit_print_event(a, entries->element[i])
                != HOOPCTL_OK)
            {
                rc = HOOPCTL_ERROR;
                break;
            }

            snprintf(last, sizeof(last), "%.*s",
                     (int) entries->element[i]->element[0]->len,
                     entries->element[i]->element[0]->str);
        }

        freeReplyObject(r);

        if (rc != HOOPCTL_OK || fflush(stdout) != 0) {
            rc = HOOPCTL_ERROR;
            break;
        }
    }

    return rc;
}


/* ----------------------------------------------------------------------
 * Options
 */

static int
hoopctl_audit_check_name(const char *s)
{
    if (*s == '\0' || strlen(s) > HOOPCTL_MAX_PREFIX) {
        return -1;
    }

    for ( ; *s; s++) {
        if ((unsigned char) *s <= 0x20 || (unsigned char) *s >= 0x7f) {
            return -1;
        }
    }

    return 0;
}


int
hoopctl_audit(const char *redis, const char *prefix, int json, int argc,
    char **argv)
{
    int                              c, i, rc;
    unsigned                         bad, max;
    hoopctl_audit_t                  a;
    const hoopctl_audit_command_t   *cmd;

    enum {
        O_TOPIC = 256, O_GROUP, O_TXN, O_CLUSTER, O_DATE, O_PRINCIPAL,
        O_SINCE, O_UNTIL, O_COUNT, O_CONSUMER, O_OUT, O_BATCH, O_FOLLOW,
        O_STREAM, O_REDIS, O_PREFIX, O_JSON
    };

    static const struct option  longopts[] = {
        { "topic", required_argument, NULL, O_TOPIC },
        { "group", required_argument, NULL, O_GROUP },
        { "transactional-id", required_argument, NULL, O_TXN },
        { "cluster", no_argument, NULL, O_CLUSTER },
        { "date", required_argument, NULL, O_DATE },
        { "principal", required_argument, NULL, O_PRINCIPAL },
        { "since", required_argument, NULL, O_SINCE },
        { "until", required_argument, NULL, O_UNTIL },
        { "count", required_argument, NULL, O_COUNT },
        { "consumer", required_argument, NULL, O_CONSUMER },
        { "out", required_argument, NULL, O_OUT },
        { "batch", required_argument, NULL, O_BATCH },
        { "follow", no_argument, NULL, O_FOLLOW },
        { "stream", required_argument, NULL, O_STREAM },
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
    a.consumer = "export";
    a.out = "-";
    a.stream = "audit";
    a.batch = 500;
    a.now = hoopctl_now_ms();

    optind = 0;          /* glibc: start over (main() parsed argv first) */
    opterr = 0;

    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {

        case O_TOPIC:
            a.topic = optarg;
            a.given |= HOOPCTL_A_TOPIC;
            break;

        case O_GROUP:
            a.group = optarg;
            a.given |= HOOPCTL_A_GROUP;
            break;

        case O_TXN:
            a.txn = optarg;
            a.given |= HOOPCTL_A_TXN;
            break;

        case O_CLUSTER:
            a.cluster = 1;
            a.given |= HOOPCTL_A_CLUSTER;
            break;

        case O_DATE:
            a.date = optarg;
            a.given |= HOOPCTL_A_DATE;
            break;

        case O_PRINCIPAL:
            a.principal = optarg;
            a.given |= HOOPCTL_A_PRINCIPAL;
            break;

        case O_SINCE:
            a.since = optarg;
            a.given |= HOOPCTL_A_SINCE;
            break;

        case O_UNTIL:
            a.until = optarg;
            a.given |= HOOPCTL_A_UNTIL;
            break;

        case O_COUNT:
        case O_BATCH:
            max = c == O_COUNT ? 1000000 : 10000;
            if (hoopctl_parse_uint(optarg, max,
                                   c == O_COUNT ? &a.count : &a.batch) != 0
                || (c == O_COUNT ? a.count : a.batch) == 0)
            {
                hoopctl_error("bad %s \"%s\" (a number, 1..%u)",
                              c == O_COUNT ? "--count" : "--batch", optarg,
                              max);
                return HOOPCTL_ERROR;
            }
            a.given |= c == O_COUNT ? HOOPCTL_A_COUNT : HOOPCTL_A_BATCH;
            break;

        case O_CONSUMER:
            a.consumer = optarg;
            a.given |= HOOPCTL_A_CONSUMER;
            break;

        case O_OUT:
            if (optarg[0] == '\0') {
                hoopctl_error("bad --out \"\" (a file, or - for standard "
                              "output)");
                return HOOPCTL_ERROR;
            }
            a.out = optarg;
            a.given |= HOOPCTL_A_OUT;
            break;

        case O_FOLLOW:
            a.follow = 1;
            a.given |= HOOPCTL_A_FOLLOW;
            break;

        case O_STREAM:
            if (hoopctl_audit_check_name(optarg) != 0) {
                hoopctl_error("bad --stream \"%s\": at most %d printable "
                              "ASCII characters, no blanks", optarg,
                              HOOPCTL_MAX_PREFIX);
                return HOOPCTL_ERROR;
            }
            a.stream = optarg;
            a.given |= HOOPCTL_A_STREAM;
            break;

        case O_JSON:
            a.given |= HOOPCTL_A_JSON;
            break;

        case O_REDIS:
        case O_PREFIX:
            a.given |= HOOPCTL_A_GLOBAL;
            break;

        case 'h':
            hoopctl_audit_usage(stdout);
            return HOOPCTL_OK;

        case ':':
            hoopctl_error("%s needs a value", argv[optind - 1]);
            return HOOPCTL_ERROR;

        default:
            hoopctl_error("audit: unknown option \"%s\" (hoopctl audit "
                          "--help)", argv[optind - 1]);
            return HOOPCTL_ERROR;
        }
    }

    /* what is left: "audit", the subcommand */

    if (optind + 1 >= argc || strcmp(argv[optind], "audit") != 0) {
        hoopctl_audit_usage(stderr);
        return HOOPCTL_ERROR;
    }

    if (strcmp(argv[optind + 1], "help") == 0) {
        hoopctl_audit_usage(stdout);
        return HOOPCTL_OK;
    }

    for (cmd = hoopctl_audit_commands; cmd->name; cmd++) {
        if (strcmp(cmd->name, argv[optind + 1]) == 0) {
            break;
        }
    }

    if (cmd->name == NULL) {
        hoopctl_error("unknown audit command \"%s\" (who, what, denied, "
                      "export, tail)", argv[optind + 1]);
        return HOOPCTL_ERROR;
    }

    if (optind + 2 < argc) {
        hoopctl_error("audit %s: unexpected argument \"%s\" (usage: hoopctl "
                      "%s)", cmd->name, argv[optind + 2], cmd->usage);
        return HOOPCTL_ERROR;
    }

    bad = a.given & ~(cmd->allowed | HOOPCTL_A_GLOBAL);

    for (i = 0; bad && hoopctl_audit_option_names[i].name; i++) {
        if (bad & hoopctl_audit_option_names[i].bit) {
            hoopctl_error("audit %s: %s does not apply (usage: hoopctl %s)",
                          cmd->name, hoopctl_audit_option_names[i].name,
                          cmd->usage);
            return HOOPCTL_ERROR;
        }
    }

    a.stream_key = hoopctl_audit_key(&a, a.stream, (char *) NULL);

    rc = cmd->run(&a);

    hoopctl_store_close(&a.s);
    free(a.stream_key);

    return rc;
}
