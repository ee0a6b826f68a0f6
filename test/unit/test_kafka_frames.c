/*
 * Round trip of frames captured between real Kafka 4.1.1 clients and a real
 * 4.1.1 broker (test/unit/frames/, written by
 * tools/kafka-codegen/capture.py).  Each file is one whole frame, size
 * prefix included, named <ApiName>-v<version>-<req|resp>-<n>.bin.
 *
 * For each: the size prefix matches, the header parses (requests must name
 * the same ApiKey and version as the file), and the body decodes and
 * re-encodes to the identical bytes.  Small frames are also truncated at
 * every length.  Broker addresses in responses are found through the
 * walker and rewritten to a longer name, as the module does, and the
 * re-encoded body must decode again.
 *
 * Usage: test_kafka_frames [DIR]   (default: frames)
 */

#define _POSIX_C_SOURCE  200809L    /* opendir() under -std=c99 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include "hoop_kafka_header.h"
#include "test_kafka_util.h"


#define TRUNCATE_MAX  4096


static const char  *frames_dir = "frames";


typedef struct {
    int              frames;
    int              requests;
    int              responses;
    int              endpoints;
    int              records;
    int              tagged;
    unsigned char    apis[HOOP_KAFKA_API_KEY_MAX + 1];
} frames_stats_t;


static int
api_key_of(const char *name, size_t len)
{
    int          api;
    const char  *s;

    for (api = 0; api <= HOOP_KAFKA_API_KEY_MAX; api++) {
        s = hoop_kafka_api_name((int16_t) api);

        if (s && strlen(s) == len && memcmp(s, name, len) == 0) {
            return api;
        }
    }

    return -1;
}


static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE     *f;
    long      n;
    uint8_t  *p;

    f = fopen(path, "rb");
    assert_non_null(f);

    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);

    /* exact size: ASan sees any read past the frame */
    p = malloc(n ? (size_t) n : 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t) n, f), (size_t) n);
    fclose(f);

    *len = (size_t) n;

    return p;
}


static int
count_nodes(hoop_kafka_node_t *node, const hoop_kafka_field_t *field,
    hoop_kafka_node_t *parent, void *data)
{
    frames_stats_t             *st;
    const hoop_kafka_struct_t  *s;

    (void) field;
    (void) parent;

    st = data;
    s = hoop_kafka_node_struct(node);

    if (s && (s->flags & HOOP_KAFKA_STRUCT_BROKER_ENDPOINT)
        && hoop_kafka_node_child(node, "Host"))
    {
        st->endpoints++;
    }

    if (node->flags & HOOP_KAFKA_NODE_TAGGED) {
        st->tagged++;
    }

    if (node->type == HOOP_KAFKA_T_RECORDS && !hoop_kafka_node_is_null(node)
        && node->u.bytes.len > 0)
    {
        st->records++;
    }

    return HOOP_KAFKA_WALK_CONTINUE;
}


/* Rewrites every broker Host/Port as the module does; *data accumulates
 * the change in length. */
static int
rewrite_hosts(hoop_kafka_node_t *node, const hoop_kafka_field_t *field,
    hoop_kafka_node_t *parent, void *data)
{
    size_t                     *grown, len;
    hoop_kafka_node_t          *host, *port;
    const hoop_kafka_struct_t  *s;
    static const char           gw[] = "gateway-1.hoop.example.com";

    (void) field;
    (void) parent;

    grown = data;
    s = hoop_kafka_node_struct(node);

    if (s == NULL || !(s->flags & HOOP_KAFKA_STRUCT_BROKER_ENDPOINT)) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    host = hoop_kafka_node_child(node, "Host");
    port = hoop_kafka_node_child(node, "Port");

    if (host == NULL || port == NULL) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    (void) hoop_kafka_node_bytes(host, &len);
    assert_true(len < sizeof(gw) - 1);
    *grown += sizeof(gw) - 1 - len;

    assert_int_equal(hoop_kafka_node_set_string(host, (const uint8_t *) gw,
                                                sizeof(gw) - 1), 0);
    assert_int_equal(hoop_kafka_node_set_int(port, 19092), 0);

    return HOOP_KAFKA_WALK_CONTINUE;
}


/* Real responses with broker addresses re-encode, longer, after the
 * rewrite, and decode again. */
static void
check_rewrite(const char *file, int api, int16_t version, const uint8_t *body,
    size_t len)
{
    int                  rc;
    size_t               grown, n;
    uint8_t             *out;
    test_arena_t         ar = { NULL, 0, 0 };
    hoop_kafka_node_t   *root;
    hoop_kafka_alloc_t   a;

    a = test_arena_allocator(&ar);

    rc = hoop_kafka_decode(&a, (int16_t) api, version, 1, body, len, &root,
                           NULL);
    assert_int_equal(rc, HOOP_KAFKA_OK);

    grown = 0;
    assert_int_equal(hoop_kafka_walk(root, rewrite_hosts, &grown), 0);

    if (grown == 0) {
        test_arena_reset(&ar);
        return;
    }

    n = hoop_kafka_encoded_size(root);
    if (n < len + grown) {
        fail_msg("%s: rewritten size %zu, expected at least %zu", file, n,
                 len + grown);
    }

    out = malloc(n);
    assert_non_null(out);
    assert_int_equal(hoop_kafka_encode(root, out), n);

    rc = hoop_kafka_decode(&a, (int16_t) api, version, 1, out, n, &root,
                           NULL);
    if (rc != HOOP_KAFKA_OK) {
        fail_msg("%s: rewritten body does not decode", file);
    }

    free(out);
    test_arena_reset(&ar);
}


static void
check_frame(const char *file, frames_stats_t *st)
{
    int                           api, is_response, hv, rc;
    int16_t                       version;
    char                          kind[8], path[1024];
    size_t                        len, hlen, blen, n, k;
    uint8_t                      *frame, *out, *copy;
    uint32_t                      size;
    const char                   *dash;
    test_arena_t                  ar = { NULL, 0, 0 };
    hoop_kafka_err_t              err;
    hoop_kafka_node_t            *root;
    hoop_kafka_alloc_t            a;
    hoop_kafka_request_header_t   rq;
    hoop_kafka_response_header_t  rs;
    int                           ver, num;

    dash = strstr(file, "-v");
    assert_non_null(dash);

    api = api_key_of(file, (size_t) (dash - file));
    if (api < 0) {
        fail_msg("%s: unknown api name", file);
    }

    if (sscanf(dash, "-v%d-%7[a-z]-%d.bin", &ver, kind, &num) != 3) {
        fail_msg("%s: name is not <Api>-v<ver>-<req|resp>-<n>.bin", file);
    }

    version = (int16_t) ver;
    is_response = strcmp(kind, "resp") == 0;
    assert_true(is_response || strcmp(kind, "req") == 0);

    snprintf(path, sizeof(path), "%s/%s", frames_dir, file);
    frame = read_file(path, &len);

    assert_true(len >= 4);
    size = (uint32_t) frame[0] << 24 | (uint32_t) frame[1] << 16
           | (uint32_t) frame[2] << 8 | frame[3];
    if (size != len - 4) {
        fail_msg("%s: size prefix %u, file %zu", file, size, len);
    }

    if (is_response) {
        hv = hoop_kafka_response_header_version((int16_t) api, version);
        rc = hoop_kafka_response_header_parse(frame + 4, len - 4, hv, &rs,
                                              &err);
        assert_int_equal(rc, HOOP_KAFKA_OK);
        hlen = rs.len;
        st->responses++;

    } else {
        rc = hoop_kafka_request_header_parse(frame + 4, len - 4, &rq, &err);
        assert_int_equal(rc, HOOP_KAFKA_OK);
        assert_int_equal(rq.api_key, api);
        assert_int_equal(rq.api_version, version);
        hlen = rq.len;
        st->requests++;
    }

    a = test_arena_allocator(&ar);
    blen = len - 4 - hlen;

    rc = hoop_kafka_decode(&a, (int16_t) api, version, is_response,
                           frame + 4 + hlen, blen, &root, &err);
    if (rc != HOOP_KAFKA_OK) {
        fail_msg("%s: decode %d at %zu: %s (%s)", file, rc, err.offset,
                 err.msg, err.field ? err.field : "-");
    }

    n = hoop_kafka_encoded_size(root);
    if (n != blen) {
        fail_msg("%s: encoded size %zu, body %zu", file, n, blen);
    }

    out = malloc(n + 1);
    assert_non_null(out);
    assert_int_equal(hoop_kafka_encode(root, out), n);
    if (memcmp(out, frame + 4 + hlen, n) != 0) {
        fail_msg("%s: re-encoded body differs", file);
    }

    assert_int_equal(hoop_kafka_walk(root, count_nodes, st), 0);

    free(out);
    test_arena_reset(&ar);

    if (is_response) {
        check_rewrite(file, api, version, frame + 4 + hlen, blen);
    }

    if (blen <= TRUNCATE_MAX) {
        for (k = 0; k < blen; k++) {
            copy = malloc(k ? k : 1);
            assert_non_null(copy);
            memcpy(copy, frame + 4 + hlen, k);

            rc = hoop_kafka_decode(&a, (int16_t) api, version, is_response,
                                   copy, k, &root, &err);
            if (rc >= 0) {
                fail_msg("%s: prefix %zu of %zu decoded", file, k, blen);
            }

            free(copy);
            test_arena_reset(&ar);
        }
    }

    st->apis[api] |= is_response ? 2 : 1;
    st->frames++;

    free(frame);
}


static void
test_captured_frames(void **state)
{
    int              api, napis;
    DIR             *d;
    size_t           len;
    struct dirent   *e;
    frames_stats_t   st;

    (void) state;

    memset(&st, 0, sizeof(frames_stats_t));

    d = opendir(frames_dir);
    if (d == NULL) {
        fail_msg("cannot open %s", frames_dir);
    }

    while ((e = readdir(d)) != NULL) {
        len = strlen(e->d_name);

        if (len < 5 || strcmp(e->d_name + len - 4, ".bin") != 0) {
            continue;
        }

        check_frame(e->d_name, &st);
    }

    closedir(d);

    napis = 0;

    for (api = 0; api <= HOOP_KAFKA_API_KEY_MAX; api++) {
        if (st.apis[api]) {
            napis++;
        }
    }

    print_message("%d frames (%d requests, %d responses), %d ApiKeys, "
                  "%d broker endpoints, %d record sets, %d tagged fields\n",
                  st.frames, st.requests, st.responses, napis, st.endpoints,
                  st.records, st.tagged);

    /* the set captured from a real broker must not silently vanish */
    assert_true(st.frames >= 50);
    assert_true(napis >= 20);
    assert_true(st.endpoints > 0);
    assert_true(st.records > 0);
    assert_true(st.tagged > 0);
}


int
main(int argc, char **argv)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_captured_frames),
    };

    if (argc > 1) {
        frames_dir = argv[1];
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
