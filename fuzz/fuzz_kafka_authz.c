/*
 * libFuzzer target: the authorization planner over decoded requests, with
 * random decisions, then the answer, the rewritten request and the
 * merged/filtered response.
 *
 * Input:
 *   uint8   flags: bit 0 a resolver, bit 1 KEEP_FETCH_SESSIONS, bit 2
 *           NO_AUTO_CREATE, bits 4-7 how often a decision is "deny"
 *           (0: never, 15: always)
 *   int16   api_key, int16 version
 *   uint32  seed of the decisions
 *   uint16  n, then n bytes: the request body (no header)
 *   the rest: a response body for (api_key, version); if it does not
 *           decode, the default response tree is used
 *
 * Properties: nothing reads, writes or allocates out of bounds, and every
 * tree the planner hands back (answer, rewritten request, fixed response)
 * encodes to bytes that decode again and encode to the same bytes.
 *
 * Built with -DHOOP_AUTHZ_SEEDS instead, this file is a small program
 * that turns the captured frames (test/unit/frames/<Api>-v<N>-<req|resp>-
 * <i>.bin) into seeds: fuzz_kafka_authz_seeds FRAMES_DIR OUT_DIR.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/hoop_kafka_authz.h"
#include "kafka/hoop_kafka_header.h"


#ifndef HOOP_AUTHZ_SEEDS

typedef struct chunk_s {
    struct chunk_s  *next;
    max_align_t      data[];
} chunk_t;


typedef struct {
    chunk_t         *chunks;
    uint32_t         state;
    unsigned         deny;      /* 0..15 */
    char             name[40];
} fz_t;


static void *
fz_alloc(void *ctx, size_t n)
{
    fz_t     *fz = ctx;
    chunk_t  *c;

    c = malloc(sizeof(chunk_t) + n);
    if (c == NULL) {
        return NULL;
    }

    c->next = fz->chunks;
    fz->chunks = c;

    return c->data;
}


static void
fz_free(fz_t *fz)
{
    chunk_t  *c, *next;

    for (c = fz->chunks; c; c = next) {
        next = c->next;
        free(c);
    }

    fz->chunks = NULL;
}


static int
fz_decide(void *ctx, hoop_policy_res_t type, const uint8_t *name, size_t len,
    hoop_policy_op_t op)
{
    fz_t      *fz = ctx;
    size_t     i;
    uint32_t   h;

    /* deterministic per resource, varied by the seed */
    h = fz->state ^ ((uint32_t) type * 2654435761u) ^ (uint32_t) op;

    for (i = 0; name && i < len; i++) {
        h = (h ^ name[i]) * 16777619u;
    }

    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;

    return (h & 15) >= fz->deny;
}


static int
fz_resolve(void *ctx, const uint8_t *id, const uint8_t **name, size_t *len)
{
    fz_t          *fz = ctx;
    size_t         i;
    static const char  hex[] = "0123456789abcdef";

    if (id[0] & 1) {
        return 0;                       /* unknown */
    }

    for (i = 0; i < 8; i++) {
        fz->name[2 * i] = hex[id[i] >> 4];
        fz->name[2 * i + 1] = hex[id[i] & 15];
    }

    *name = (const uint8_t *) fz->name;
    *len = 16;

    return 1;
}


/* Encodes node, decodes it again, and checks the second encoding. */
static void
fz_round_trip(fz_t *fz, const hoop_kafka_alloc_t *a, hoop_kafka_node_t *node,
    int16_t key, int16_t v, int is_response)
{
    size_t              n;
    uint8_t            *buf, *again;
    hoop_kafka_node_t  *out;

    (void) fz;

    n = hoop_kafka_encoded_size(node);
    buf = malloc(n + 1);
    again = malloc(n + 1);

    if (buf == NULL || again == NULL) {
        free(buf);
        free(again);
        return;
    }

    if (hoop_kafka_encode(node, buf) != n) {
        abort();
    }

    if (hoop_kafka_decode(a, key, v, is_response, buf, n, &out, NULL)
        != HOOP_KAFKA_OK)
    {
        abort();
    }

    if (hoop_kafka_encode(out, again) != n || memcmp(buf, again, n) != 0) {
        abort();
    }

    free(again);
    free(buf);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   err, rc;
    fz_t                  fz;
    size_t                n, i, nchecks;
    uint8_t               flags;
    int16_t               key, v;
    hoop_kafka_alloc_t    a;
    hoop_authz_conf_t     conf;
    hoop_authz_plan_t    *plan;
    hoop_authz_result_t   res;
    hoop_kafka_node_t    *req, *resp, *answer;
    const hoop_authz_check_t  *checks;

    if (size < 11) {
        return 0;
    }

    flags = data[0];
    key = (int16_t) ((data[1] << 8) | data[2]);
    v = (int16_t) ((data[3] << 8) | data[4]);

    memset(&fz, 0, sizeof(fz));
    fz.state = ((uint32_t) data[5] << 24) | ((uint32_t) data[6] << 16)
               | ((uint32_t) data[7] << 8) | data[8];
    fz.deny = flags >> 4;

    n = ((size_t) data[9] << 8) | data[10];
    data += 11;
    size -= 11;

    if (n > size) {
        return 0;
    }

    a.alloc = fz_alloc;
    a.ctx = &fz;

    if (hoop_kafka_decode(&a, key, v, 0, data, n, &req, NULL)
        != HOOP_KAFKA_OK)
    {
        fz_free(&fz);
        return 0;
    }

    memset(&conf, 0, sizeof(conf));
    conf.decide = fz_decide;
    conf.ctx = &fz;

    if (flags & 1) {
        conf.resolve = fz_resolve;
        conf.resolve_ctx = &fz;
    }

    conf.flags = (flags & 2 ? HOOP_AUTHZ_KEEP_FETCH_SESSIONS : 0)
                 | (flags & 4 ? HOOP_AUTHZ_NO_AUTO_CREATE : 0);

    plan = hoop_authz_plan(&a, &conf, key, v, req, &res, &err);

    if (plan == NULL) {
        if (err != HOOP_AUTHZ_EUNSUPPORTED) {
            abort();
        }

        fz_free(&fz);
        return 0;
    }

    checks = hoop_authz_checks(plan, &nchecks);

    for (i = 0; i < nchecks; i++) {
        if (checks[i].count == 0 || checks[i].allowed > 1) {
            abort();
        }
    }

    switch (res.action) {

    case HOOP_AUTHZ_DENY:
        rc = hoop_authz_build_denied_response(plan, &answer);

        if (res.no_response) {
            if (rc != HOOP_AUTHZ_EINVALID || !res.close) {
                abort();
            }

            break;
        }

        if (rc != HOOP_AUTHZ_OK) {
            abort();
        }

        fz_round_trip(&fz, &a, answer, key, v, 1);
        break;

    case HOOP_AUTHZ_PARTIAL:
        if (!res.rewritten || res.denied == 0) {
            abort();
        }

        /* fall through */

    default:
        fz_round_trip(&fz, &a, req, key, v, 0);

        if (!res.response) {
            break;
        }

        if (hoop_kafka_decode(&a, key, v, 1, data + n, size - n, &resp,
                              NULL) != HOOP_KAFKA_OK
            && hoop_kafka_build(&a, key, v, 1, &resp) != HOOP_KAFKA_OK)
        {
            abort();
        }

        rc = hoop_authz_response(plan, NULL, resp);
        if (rc < 0) {
            abort();
        }

        fz_round_trip(&fz, &a, resp, key, v, 1);

        /* a second call changes nothing */
        if (hoop_authz_response(plan, NULL, resp) != 0) {
            abort();
        }

        break;
    }

    fz_free(&fz);

    return 0;
}


#else /* HOOP_AUTHZ_SEEDS */

#include <dirent.h>
#include <stdio.h>


static uint8_t *
seed_read(const char *dir, const char *name, size_t *len)
{
    FILE     *f;
    long      n;
    char      path[1024];
    uint8_t  *p;

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 8) {
        fclose(f);
        return NULL;
    }

    rewind(f);
    p = malloc((size_t) n);

    if (p == NULL || fread(p, 1, (size_t) n, f) != (size_t) n) {
        free(p);
        fclose(f);
        return NULL;
    }

    fclose(f);
    *len = (size_t) n;

    return p;
}


int
main(int argc, char **argv)
{
    int                           key, v, i, k, count;
    int16_t                       api;
    DIR                          *d;
    FILE                         *out;
    char                          name[64], dir[8], path[1024], resp[300];
    size_t                        qlen, rlen, qbody, rbody;
    uint8_t                      *q, *r, head[11];
    struct dirent                *de;
    hoop_kafka_request_header_t   h;
    hoop_kafka_response_header_t  rh;

    static const uint8_t  flags[] = { 0x01, 0x51, 0xf1, 0x85 };

    if (argc != 3) {
        fprintf(stderr, "usage: %s FRAMES_DIR OUT_DIR\n", argv[0]);
        return 2;
    }

    d = opendir(argv[1]);
    if (d == NULL) {
        perror(argv[1]);
        return 1;
    }

    count = 0;

    while ((de = readdir(d)) != NULL) {
        if (sscanf(de->d_name, "%63[A-Za-z]-v%d-%7[a-z]-%d.bin", name, &v,
                   dir, &i) != 4
            || strcmp(dir, "req") != 0)
        {
            continue;
        }

        for (key = 0, api = -1; key <= HOOP_KAFKA_API_KEY_MAX; key++) {
            if (hoop_kafka_api_name((int16_t) key)
                && strcmp(hoop_kafka_api_name((int16_t) key), name) == 0)
            {
                api = (int16_t) key;
            }
        }

        q = seed_read(argv[1], de->d_name, &qlen);

        if (api < 0 || q == NULL
            || hoop_kafka_request_header_parse(q + 4, qlen - 4, &h, NULL)
               != HOOP_KAFKA_OK
            || qlen - 4 - h.len > 0xffff)
        {
            free(q);
            continue;
        }

        qbody = qlen - 4 - h.len;

        snprintf(resp, sizeof(resp), "%s-v%d-resp-%d.bin", name, v, i);
        r = seed_read(argv[1], resp, &rlen);
        rbody = 0;

        if (r != NULL
            && hoop_kafka_response_header_parse(r + 4, rlen - 4,
                   hoop_kafka_response_header_version(api, (int16_t) v),
                   &rh, NULL) == HOOP_KAFKA_OK)
        {
            rbody = rlen - 4 - rh.len;
        }

        for (k = 0; k < 4; k++) {
            head[0] = flags[k];
            head[1] = (uint8_t) (api >> 8);
            head[2] = (uint8_t) api;
            head[3] = (uint8_t) (v >> 8);
            head[4] = (uint8_t) v;
            head[5] = 0;
            head[6] = 0;
            head[7] = (uint8_t) k;
            head[8] = (uint8_t) i;
            head[9] = (uint8_t) (qbody >> 8);
            head[10] = (uint8_t) qbody;

            snprintf(path, sizeof(path), "%s/%s.%d", argv[2], de->d_name, k);

            out = fopen(path, "wb");
            if (out == NULL) {
                perror(path);
                return 1;
            }

            fwrite(head, 1, sizeof(head), out);
            fwrite(q + 4 + h.len, 1, qbody, out);

            if (rbody) {
                fwrite(r + 4 + rh.len, 1, rbody, out);
            }

            fclose(out);
            count++;
        }

        free(q);
        free(r);
    }

    closedir(d);
    fprintf(stderr, "%d seeds in %s\n", count, argv[2]);

    return 0;
}

#endif /* HOOP_AUTHZ_SEEDS */
