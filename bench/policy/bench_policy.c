/*
 * The cost of a policy decision: nanoseconds per hoop_policy_check() for
 * policies of 10 and 10,000 grants with literal, prefix and regex names,
 * printed as a table.  Also the compile time of each policy.
 *
 *   make -C bench policy          (builds with -O2, runs, ~10 s)
 *   bench/build/bench_policy [SECONDS_PER_ROW]
 *
 * Policies are generated: grant i goes to one of U users (U = grants/10,
 * at least 10) or to one of their groups; one grant in a hundred is a
 * deny.  Requests come from those users, with 3 groups each, half for a
 * name some grant of theirs covers, half for a name none does.
 */

#define _POSIX_C_SOURCE  200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hoop_policy.h"


#define NREQ    (1 << 16)

typedef enum {
    MIX_LITERAL = 0,      /* literal names */
    MIX_PREFIX,           /* half literal, half prefix */
    MIX_REGEX,            /* 80% literal, 10% prefix, 10% regex */
    MIX_WILDCARD          /* literal names, plus "*" grants to groups */
} mix_t;

static const char  *mix_names[] = {
    "literal", "literal+prefix (50/50)", "literal+prefix+regex (80/10/10)",
    "literal + group wildcards"
};

typedef struct {
    char                    user[32];
    char                    groups[3][32];
    hoop_policy_str_t       g[3];
    char                    name[64];
    hoop_policy_request_t   r;
} req_t;


static uint64_t  rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;

    return (uint32_t) ((rng * 0x2545f4914f6cdd1dULL) >> 33) % n;
}


/* CPU time of this thread: steadier than wall time on a shared machine */
static double
now_sec(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


/* the kind of name grant i covers, and a name it covers */
static int
grant_kind(mix_t mix, unsigned i)
{
    switch (mix) {
    case MIX_PREFIX:
        return i % 2;
    case MIX_REGEX:
        return i % 10 == 0 ? 2 : i % 10 == 1 ? 1 : 0;
    default:
        return 0;
    }
}


static void
covered_name(mix_t mix, unsigned i, char *buf, size_t size)
{
    switch (grant_kind(mix, i)) {
    case 0:
        snprintf(buf, size, "topic-%u", i);
        break;
    case 1:
        snprintf(buf, size, "team-%u.events", i);
        break;
    default:
        snprintf(buf, size, "app.t%u.orders", i);
        break;
    }
}


static char *
make_policy(unsigned n, mix_t mix, unsigned users, size_t *len)
{
    size_t    size, l;
    unsigned  i;
    char     *doc, principal[48], res[128];
    int       deny;

    size = (size_t) n * 512 + 4096;
    doc = malloc(size);
    if (doc == NULL) {
        exit(1);
    }

    l = (size_t) snprintf(doc, size, "{\"policy_version\": 1,\n"
                          " \"grants\": [\n");

    for (deny = 0; deny < 2; deny++) {
        int  first = 1;

        if (deny) {
            l += (size_t) snprintf(doc + l, size - l, "],\n \"denies\": [\n");
        }

        for (i = 0; i < n; i++) {
            if ((i % 100 == 99) != deny) {
                continue;
            }

            if (i % 5 == 4) {
                snprintf(principal, sizeof(principal), "Group:g%u",
                         i % users);
            } else {
                snprintf(principal, sizeof(principal), "User:u%u",
                         i % users);
            }

            switch (grant_kind(mix, i)) {
            case 0:
                snprintf(res, sizeof(res),
                         "{\"type\": \"topic\", \"name\": \"topic-%u\"}", i);
                break;
            case 1:
                snprintf(res, sizeof(res),
                         "{\"type\": \"topic\", \"name\": \"team-%u.\","
                         " \"match\": \"prefix\"}", i);
                break;
            default:
                snprintf(res, sizeof(res),
                         "{\"type\": \"topic\", \"name\": "
                         "\"app\\\\.t%u\\\\.[a-z]+\", \"match\": \"regex\"}",
                         i);
                break;
            }

            if (mix == MIX_WILDCARD && i % 50 == 7) {
                snprintf(principal, sizeof(principal), "Group:g%u",
                         i % users);
                snprintf(res, sizeof(res),
                         "{\"type\": \"group\", \"name\": \"*\"}");
            }

            l += (size_t) snprintf(doc + l, size - l,
                       "%s  {\"id\": \"r%u\", \"principals\": [\"%s\"],"
                       " \"resources\": [%s],"
                       " \"operations\": [\"read\", \"describe\"]%s}",
                       first ? "" : ",\n", i, principal, res,
                       deny ? "" : ", \"reviewed_by\": \"bench\","
                       " \"reviewed_at\": \"2026-11-01\","
                       " \"reason\": \"bench\"");
            first = 0;
        }
    }

    l += (size_t) snprintf(doc + l, size - l, "]}\n");
    *len = l;

    return doc;
}


static void
make_requests(req_t *q, unsigned n, mix_t mix, unsigned users)
{
    unsigned  i, k, g, u;

    for (k = 0; k < NREQ; k++) {
        u = rnd(users);

        snprintf(q[k].user, sizeof(q[k].user), "u%u", u);
        for (g = 0; g < 3; g++) {
            snprintf(q[k].groups[g], sizeof(q[k].groups[g]), "g%u",
                     g == 0 ? u : rnd(users));
            q[k].g[g].data = q[k].groups[g];
            q[k].g[g].len = strlen(q[k].groups[g]);
        }

        if (rnd(2)) {
            /* a name one of this user's grants covers */
            i = u + users * rnd(n / users ? n / users : 1);
            if (i >= n) {
                i = u;
            }
            covered_name(mix, i, q[k].name, sizeof(q[k].name));

        } else {
            snprintf(q[k].name, sizeof(q[k].name), "%s-%u",
                     rnd(2) ? "topic" : "team", n + rnd(100000));
        }

        memset(&q[k].r, 0, sizeof(q[k].r));
        q[k].r.principal.data = q[k].user;
        q[k].r.principal.len = strlen(q[k].user);
        q[k].r.groups = q[k].g;
        q[k].r.ngroups = 3;
        q[k].r.resource = mix == MIX_WILDCARD && rnd(4) == 0
                          ? HOOP_POLICY_RES_GROUP : HOOP_POLICY_RES_TOPIC;
        q[k].r.name.data = q[k].name;
        q[k].r.name.len = strlen(q[k].name);
        q[k].r.op = rnd(2) ? HOOP_POLICY_OP_READ : HOOP_POLICY_OP_DESCRIBE;
        q[k].r.now = 1796083200;
    }
}


int
main(int argc, char **argv)
{
    static const unsigned  sizes[] = { 10, 10000 };
    unsigned               si, mix, users, k;
    unsigned long          n, allowed;
    volatile unsigned long sink;
    size_t                 len, nd;
    double                 t0, t1, budget, compile_ms;
    char                  *doc;
    req_t                 *q;
    hoop_policy_t         *p;
    hoop_policy_options_t  o;
    hoop_policy_diag_t     d[4];

    budget = argc > 1 ? atof(argv[1]) : 0.5;
    sink = 0;

    q = calloc(NREQ, sizeof(req_t));
    if (q == NULL) {
        return 1;
    }

    memset(&o, 0, sizeof(o));
    o.now = 1796083200;

    printf("hoop_policy_check(): ns of CPU time per decision, one thread, "
           "%d requests cycled, %.1f s per row\n\n", NREQ, budget);
    printf("%7s  %-33s %10s %10s %9s\n", "grants", "names", "compile ms",
           "ns/check", "allowed");

    for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        for (mix = 0; mix <= MIX_WILDCARD; mix++) {
            users = sizes[si] / 10 < 10 ? 10 : sizes[si] / 10;

            doc = make_policy(sizes[si], (mix_t) mix, users, &len);

            t0 = now_sec();
            p = hoop_policy_compile_ex(doc, len, &o, d, 4, &nd);
            compile_ms = (now_sec() - t0) * 1e3;

            if (p == NULL) {
                fprintf(stderr, "bench policy refused: %s (line %u)\n",
                        d[0].message, d[0].line);
                return 1;
            }

            make_requests(q, sizes[si], (mix_t) mix, users);

            /* warm up, then run for the budget */

            allowed = 0;
            for (k = 0; k < NREQ; k++) {
                allowed += (unsigned long) hoop_policy_check(p, &q[k].r,
                                                             NULL);
            }

            n = 0;
            t0 = now_sec();

            do {
                for (k = 0; k < NREQ; k++) {
                    sink += (unsigned long) hoop_policy_check(p, &q[k].r,
                                                              NULL);
                }
                n += NREQ;
                t1 = now_sec();
            } while (t1 - t0 < budget);

            printf("%7u  %-33s %10.1f %10.1f %8.0f%%\n", sizes[si],
                   mix_names[mix], compile_ms,
                   (t1 - t0) * 1e9 / (double) n,
                   100.0 * (double) allowed / NREQ);

            hoop_policy_free(p);
            free(doc);
        }
    }

    free(q);

    return sink == 0xffffffff;
}
