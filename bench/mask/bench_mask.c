/*
 * The CPU cost of masking one record: nanoseconds per hoop_mask_apply()
 * on 1 KB JSON records (an order event with a customer, a card and
 * items), for rule sets that mask 3 fields, that match nothing, that look
 * everywhere ($..email, regexes over every string), and on a 1 KB text
 * payload that is not JSON.  jansson parsing and re-serializing the same
 * records is printed for scale, and so is the cost of choosing the rule
 * set of a request from a policy's masking section
 * (hoop_mask_policy_select(), 50 rules, the set cached).
 *
 *   make -C bench mask            (builds with -O2, runs, ~10 s)
 *   bench/build/bench_mask [SECONDS_PER_ROW]
 *
 * 256 different records (ids, names, amounts, item counts vary) are
 * masked in turn through one reused hoop_mask_out_t, as a worker would.
 * Times are CPU time of this thread.
 */

#define _POSIX_C_SOURCE  200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "hoop_mask.h"
#include "hoop_mask_policy.h"


#define NREC    256

typedef struct {
    char                *p;
    size_t               len;
} rec_t;

static rec_t             json_recs[NREC];
static rec_t             text_recs[NREC];
static const uint8_t     key[32] = "bench-key-bench-key-bench-key-32";
static volatile size_t   sink;


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


/* an order event of about 1 KB (1000 to 1100 bytes) */
static void
make_json(unsigned i, rec_t *r)
{
    char    buf[4096];
    size_t  n;
    int     k;

    n = (size_t) snprintf(buf, sizeof(buf),
        "{\"order_id\":\"ORD-%06u\",\"created_at\":\"2026-03-01T10:%02u:%02u."
        "345Z\",\"customer\":{\"id\":%u,\"name\":\"Customer %u Example\","
        "\"email\":\"customer.%u@example.com\",\"phone\":\"+1-202-555-%04u\","
        "\"address\":{\"street\":\"%u Example Avenue NW\",\"city\":"
        "\"Washington\",\"zip\":\"%05u\",\"country\":\"US\"}},\"payment\":"
        "{\"method\":\"card\",\"card\":{\"number\":\"41111111%08u\","
        "\"expiry\":\"12/29\",\"holder\":\"CUSTOMER %u\"},\"amount\":%u.%02u,"
        "\"currency\":\"USD\"},\"items\":[",
        i, i % 60, (i * 7) % 60, 80000 + i, i, i, i % 10000, 100 + i,
        20000 + i, i * 7919, i, 10 + i % 500, i % 100);

    for (k = 0; n < 960; k++) {
        n += (size_t) snprintf(buf + n, sizeof(buf) - n,
                               "%s{\"sku\":\"SKU-%05u\",\"qty\":%u,"
                               "\"price\":%u.99,\"name\":\"Item %u, "
                               "size M\"}", k ? "," : "", i * 13 + k,
                               1 + k % 3, 5 + k, k);
    }

    n += (size_t) snprintf(buf + n, sizeof(buf) - n,
                           "],\"notes\":\"leave at door\",\"flags\":{\"gift\":"
                           "%s,\"express\":true}}", i % 2 ? "true" : "false");

    r->p = malloc(n);
    memcpy(r->p, buf, n);
    r->len = n;
}


/* a 1 KB log line payload that is not JSON */
static void
make_text(unsigned i, rec_t *r)
{
    char    buf[2048];
    size_t  n;

    n = 0;
    while (n < 1000) {
        n += (size_t) snprintf(buf + n, sizeof(buf) - n,
                               "2026-03-01T10:11:12Z INFO order %u paid by "
                               "customer.%u@example.com card 41111111%08u ok; ",
                               i, i, i * 7919);
    }

    r->p = malloc(n);
    memcpy(r->p, buf, n);
    r->len = n;
}


static hoop_mask_set_t *
compile_or_die(const hoop_mask_rule_t *r, size_t n)
{
    hoop_mask_set_t    *s;
    hoop_mask_error_t   err;

    s = hoop_mask_compile(r, n, NULL, &err);
    if (s == NULL) {
        fprintf(stderr, "compile: %s\n", err.message);
        exit(1);
    }

    return s;
}


/* runs one row for about seconds of CPU time; prints ns per record */
static void
row(const char *name, const hoop_mask_set_t *s, rec_t *recs,
    hoop_mask_out_t *out, double seconds, int expect)
{
    int       rc;
    size_t    i, n, bytes;
    double    t0, t;
    uint32_t  counts[8], warm;

    /* warm up, and check the answer is the one the row is about */
    memset(counts, 0, sizeof(counts));
    for (i = 0; i < NREC; i++) {
        rc = hoop_mask_apply(s, HOOP_MASK_VALUE, (uint8_t *) recs[i].p,
                             recs[i].len, out, counts);
        if (rc != expect) {
            fprintf(stderr, "%s: record %zu: %d, not %d\n", name, i, rc,
                    expect);
            exit(1);
        }
    }

    warm = counts[0] + counts[1] + counts[2] + counts[3];
    n = 0;
    bytes = 0;
    t0 = now();

    do {
        for (i = 0; i < NREC; i++) {
            hoop_mask_apply(s, HOOP_MASK_VALUE, (uint8_t *) recs[i].p,
                            recs[i].len, out, counts);
            bytes += recs[i].len;
            sink += out->len;
        }
        n += NREC;
        t = now() - t0;
    } while (t < seconds);

    printf("  %-52s %7.0f ns  %7.0f MB/s  (%.1f masked per record)\n", name,
           t * 1e9 / n, bytes / t / 1e6, (double) warm / NREC);
}


static void
row_jansson(rec_t *recs, double seconds)
{
    char         *d;
    size_t        i, n, bytes;
    double        t0, t;
    json_t       *j;
    json_error_t  e;

    n = 0;
    bytes = 0;
    t0 = now();

    do {
        for (i = 0; i < NREC; i++) {
            j = json_loadb(recs[i].p, recs[i].len, 0, &e);
            d = json_dumps(j, JSON_COMPACT);
            sink += strlen(d);
            free(d);
            json_decref(j);
            bytes += recs[i].len;
        }
        n += NREC;
        t = now() - t0;
    } while (t < seconds);

    printf("  %-52s %7.0f ns  %7.0f MB/s\n",
           "(for scale) jansson json_loadb + json_dumps", t * 1e9 / n,
           bytes / t / 1e6);
}


/* ns per hoop_mask_policy_select() of a cached combination, 50 rules */
static void
row_select(double seconds)
{
    int                     rc;
    char                   *json;
    size_t                  i, n, iters;
    double                  t0, t;
    hoop_mask_str_t         g;
    hoop_mask_policy_t     *mp;
    hoop_mask_request_t     req;
    const hoop_mask_set_t  *set;

    json = malloc(50 * 400);
    if (json == NULL) {
        exit(1);
    }

    n = (size_t) sprintf(json, "[");

    for (i = 0; i < 50; i++) {
        n += (size_t) sprintf(json + n,
                 "%s{\"id\":\"r%zu\",\"topics\":[{\"name\":\"t%zu.\","
                 "\"match\":\"prefix\"},{\"name\":\"x%zu\"}],"
                 "\"principals\":[\"User:*\"],\"except\":[\"Group:ops\"],"
                 "\"direction\":\"fetch\",\"fields\":[{\"path\":"
                 "\"$.customer.email\",\"strategy\":\"redact\"}],"
                 "\"reviewed_by\":\"c\",\"reviewed_at\":\"2026-01-01\","
                 "\"reason\":\"r\"}", i ? "," : "", i, i % 10, i);
    }

    sprintf(json + n, "]");

    mp = hoop_mask_policy_compile(json, strlen(json), NULL, NULL, 0, NULL);
    free(json);

    if (mp == NULL) {
        fprintf(stderr, "bench: the masking section does not compile\n");
        exit(1);
    }

    memset(&req, 0, sizeof(req));
    req.topic.data = "t7.orders";
    req.topic.len = 9;
    req.principal.data = "alice";
    req.principal.len = 5;
    g.data = "analysts";
    g.len = 8;
    req.groups = &g;
    req.ngroups = 1;
    req.direction = HOOP_MASK_FETCH;

    iters = 0;
    t0 = now();

    do {
        for (i = 0; i < 1000; i++) {
            rc = hoop_mask_policy_select(mp, &req, &set);
            if (rc != 0 || set == NULL || hoop_mask_rule_count(set) != 5) {
                fprintf(stderr, "bench: select failed\n");
                exit(1);
            }
        }
        iters += 1000;
        t = now() - t0;
    } while (t < seconds);

    printf("  %-52s %7.0f ns\n",
           "select the set of a request (50 rules, 5 apply)",
           t * 1e9 / iters);

    hoop_mask_policy_free(mp);
}


int
main(int argc, char **argv)
{
    double             seconds, avg;
    unsigned           i;
    hoop_mask_out_t    out;
    hoop_mask_set_t   *s;
    hoop_mask_rule_t   r[3];

    seconds = argc > 1 ? atof(argv[1]) : 1.0;
    if (seconds <= 0) {
        seconds = 1.0;
    }

    avg = 0;
    for (i = 0; i < NREC; i++) {
        make_json(i, &json_recs[i]);
        make_text(i, &text_recs[i]);
        avg += json_recs[i].len;
    }

    hoop_mask_out_init(&out, NULL);

    printf("hoop_mask_apply(): CPU time per record, one thread, %u "
           "different records of %.0f bytes on average\n", NREC,
           avg / NREC);

    /* 3 masked fields: redact, keep last 4, HMAC-SHA-256 */
    memset(r, 0, sizeof(r));
    r[0].id = "email";
    r[0].path = "$.customer.email";
    r[1].id = "card";
    r[1].path = "$.payment.card.number";
    r[1].strategy = HOOP_MASK_KEEP_LAST;
    r[1].n = 4;
    r[2].id = "phone";
    r[2].path = "$.customer.phone";
    r[2].strategy = HOOP_MASK_HASH;
    r[2].key = key;
    r[2].key_len = sizeof(key);
    s = compile_or_die(r, 3);
    row("3 fields (redact, keep_last 4, hash)", s, json_recs, &out, seconds,
        HOOP_MASK_CHANGED);
    hoop_mask_free(s);

    /* the same without the HMAC */
    r[2].strategy = HOOP_MASK_REDACT;
    r[2].key = NULL;
    r[2].key_len = 0;
    s = compile_or_die(r, 3);
    row("3 fields (redact, keep_last 4, redact)", s, json_recs, &out,
        seconds, HOOP_MASK_CHANGED);
    hoop_mask_free(s);

    /* 3 rules whose paths the records do not have */
    memset(r, 0, sizeof(r));
    r[0].id = "ssn";
    r[0].path = "$.customer.ssn";
    r[1].id = "iban";
    r[1].path = "$.payment.iban";
    r[2].id = "user";
    r[2].path = "$.user.email";
    s = compile_or_die(r, 3);
    row("3 rules, nothing matches (unchanged)", s, json_recs, &out, seconds,
        HOOP_MASK_UNCHANGED);
    hoop_mask_free(s);

    /* every level looked at */
    memset(r, 0, sizeof(r));
    r[0].id = "email";
    r[0].path = "$..email";
    s = compile_or_die(r, 1);
    row("$..email (descendants, 1 match)", s, json_recs, &out, seconds,
        HOOP_MASK_CHANGED);
    hoop_mask_free(s);

    r[0].path = "$..ssn";
    s = compile_or_die(r, 1);
    row("$..ssn (descendants, no match)", s, json_recs, &out, seconds,
        HOOP_MASK_UNCHANGED);
    hoop_mask_free(s);

    /* regexes over every string and number */
    memset(r, 0, sizeof(r));
    r[0].id = "email";
    r[0].path = "$..*";
    r[0].regex = "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+";
    r[1].id = "card";
    r[1].path = "$..*";
    r[1].regex = "\\b(?<mask>[0-9]{12})[0-9]{4}\\b";
    r[1].strategy = HOOP_MASK_KEEP_LAST;
    r[1].n = 0;
    s = compile_or_die(r, 2);
    row("2 regexes on every string and number ($..*)", s, json_recs, &out,
        seconds, HOOP_MASK_CHANGED);
    hoop_mask_free(s);

    /* not JSON */
    r[0].path = NULL;
    r[1].path = NULL;
    s = compile_or_die(r, 2);
    row("not JSON, 1 KB text, the same 2 regexes", s, text_recs, &out,
        seconds, HOOP_MASK_CHANGED);
    hoop_mask_free(s);

    memset(r, 0, sizeof(r));
    r[0].id = "email";
    r[0].path = "$.customer.email";
    s = compile_or_die(r, 1);
    row("not JSON, 1 KB text, a path rule (unchanged)", s, text_recs, &out,
        seconds, HOOP_MASK_UNCHANGED);
    hoop_mask_free(s);

    row_jansson(json_recs, seconds);
    row_select(seconds);

    hoop_mask_out_free(&out);

    for (i = 0; i < NREC; i++) {
        free(json_recs[i].p);
        free(text_recs[i].p);
    }

    return 0;
}
