/*
 * Unit tests of the table-driven Kafka body codec (hoop_kafka_walker.c).
 *
 * Synthetic messages: for every ApiKey, both directions and every valid
 * version, a byte generator written here (not the walker's encoder) walks
 * the generated tables and writes bodies in four shapes: minimal (empty
 * arrays, nulls, no tagged fields), one element with every known tagged
 * field plus an unknown one, two elements with tags out of order, and
 * strings and bytes whose compact lengths sit at the 1/2-byte varint
 * edge.  Each must decode and re-encode to the same bytes; every proper
 * prefix must fail cleanly; random mutations must either fail or
 * re-encode to exactly the mutated bytes.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hoop_kafka_walker.h"
#include "test_kafka_util.h"


#define NMODES  4

static const char  *dir_name[2] = { "request", "response" };


/*
 * The byte generator
 */

static void gen_struct(test_buf_t *b, const hoop_kafka_field_t *f,
    int16_t v, int mode, uint64_t *rnd);


static void
gen_random(test_buf_t *b, size_t n, uint64_t *rnd)
{
    uint8_t  c;

    while (n--) {
        c = (uint8_t) ('a' + test_rand(rnd) % 26);
        test_buf_put(b, &c, 1);
    }
}


/* A length or count prefix; n -1 is null. */
static void
gen_len(test_buf_t *b, int compact, int64_t n, size_t width)
{
    if (compact) {
        test_buf_uvarint(b, (uint64_t) (n + 1));

    } else {
        test_buf_be(b, (uint64_t) n, width);
    }
}


/* Mode 3 lengths sit at the one/two byte varint edge of length + 1. */
static size_t
gen_str_len(uint8_t type, int mode)
{
    static const size_t  lens[NMODES] = { 0, 3, 1, 126 };

    if (mode == 3 && type != HOOP_KAFKA_T_STRING) {
        return 127;
    }

    return lens[mode];
}


static void
gen_value(test_buf_t *b, const hoop_kafka_field_t *f, uint8_t type,
    int16_t v, int mode, int element, uint64_t *rnd)
{
    int       nullable, compact;
    int64_t   count, j;
    size_t    len;
    uint8_t   c;

    nullable = !element && hoop_kafka_versions_has(f->nullable, v);
    compact = hoop_kafka_versions_has(f->flexible, v);

    switch (type) {

    case HOOP_KAFKA_T_BOOL:
        /* 2: Kafka reads any non-zero byte as true; kept raw */
        c = (uint8_t) (mode == 2 ? 2 : mode & 1);
        test_buf_put(b, &c, 1);
        return;

    case HOOP_KAFKA_T_INT8:
        test_buf_be(b, test_rand(rnd), 1);
        return;

    case HOOP_KAFKA_T_INT16:
    case HOOP_KAFKA_T_UINT16:
        test_buf_be(b, test_rand(rnd), 2);
        return;

    case HOOP_KAFKA_T_INT32:
    case HOOP_KAFKA_T_UINT32:
        test_buf_be(b, test_rand(rnd), 4);
        return;

    case HOOP_KAFKA_T_INT64:
    case HOOP_KAFKA_T_FLOAT64:
        test_buf_be(b, test_rand(rnd), 8);
        return;

    case HOOP_KAFKA_T_UUID:
        test_buf_be(b, test_rand(rnd), 8);
        test_buf_be(b, test_rand(rnd), 8);
        return;

    case HOOP_KAFKA_T_STRING:
    case HOOP_KAFKA_T_BYTES:
    case HOOP_KAFKA_T_RECORDS:
        if (mode == 0 && nullable) {
            gen_len(b, compact, -1, type == HOOP_KAFKA_T_STRING ? 2 : 4);
            return;
        }

        len = gen_str_len(type, mode);
        gen_len(b, compact, (int64_t) len,
                type == HOOP_KAFKA_T_STRING ? 2 : 4);
        gen_random(b, len, rnd);
        return;

    case HOOP_KAFKA_T_ARRAY:
        if (mode == 0 && nullable) {
            gen_len(b, compact, -1, 4);
            return;
        }

        count = (mode == 0) ? 0 : (mode == 2) ? 2 : 1;
        gen_len(b, compact, count, 4);

        for (j = 0; j < count; j++) {
            if (f->elem_type == HOOP_KAFKA_T_STRUCT) {
                gen_struct(b, f, v, j == 0 ? mode : (mode + 1) % NMODES,
                           rnd);

            } else {
                gen_value(b, f, f->elem_type, v, mode, 1, rnd);
            }
        }

        return;

    case HOOP_KAFKA_T_STRUCT:
        if (nullable) {
            c = (mode == 0) ? 0xff : 0x01;
            test_buf_put(b, &c, 1);

            if (mode == 0) {
                return;
            }
        }

        gen_struct(b, f, v, mode, rnd);
        return;

    default:
        fail_msg("bad type %d", type);
    }
}


/* Known tagged fields of f's struct at v, ascending by tag. */
static size_t
gen_tagged_fields(const hoop_kafka_struct_t *st, int16_t v,
    const hoop_kafka_field_t **out, size_t max)
{
    size_t                     n, i, j;
    const hoop_kafka_field_t  *cf, *t;

    n = 0;

    for (i = 0; i < st->nfields; i++) {
        cf = &st->fields[i];

        if (hoop_kafka_versions_has(cf->versions, v)
            && hoop_kafka_versions_has(cf->tagged, v))
        {
            assert_true(n < max);
            out[n++] = cf;
        }
    }

    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && out[j - 1]->tag > out[j]->tag; j--) {
            t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    }

    return n;
}


static void
gen_tagged(test_buf_t *b, const hoop_kafka_field_t *cf, int16_t v, int mode,
    uint64_t *rnd)
{
    test_buf_t  tmp;

    memset(&tmp, 0, sizeof(test_buf_t));

    gen_value(&tmp, cf, cf->type, v, mode, 0, rnd);

    test_buf_uvarint(b, (uint64_t) cf->tag);
    test_buf_uvarint(b, tmp.len);
    test_buf_put(b, tmp.p, tmp.len);

    test_buf_free(&tmp);
}


static void
gen_struct(test_buf_t *b, const hoop_kafka_field_t *f, int16_t v, int mode,
    uint64_t *rnd)
{
    size_t                      i, n;
    const hoop_kafka_field_t   *cf, *tagged[32];
    const hoop_kafka_struct_t  *st;

    st = f->type_struct;

    for (i = 0; i < st->nfields; i++) {
        cf = &st->fields[i];

        if (hoop_kafka_versions_has(cf->versions, v)
            && !hoop_kafka_versions_has(cf->tagged, v))
        {
            gen_value(b, cf, cf->type, v, mode, 0, rnd);
        }
    }

    if (!hoop_kafka_versions_has(f->flexible, v)) {
        return;
    }

    if (mode == 0 || mode == 3) {
        test_buf_uvarint(b, 0);
        return;
    }

    n = gen_tagged_fields(st, v, tagged, 32);

    test_buf_uvarint(b, n + 1);

    if (mode == 1) {
        /* as Kafka writes them, ascending, then an unknown tag */
        for (i = 0; i < n; i++) {
            gen_tagged(b, tagged[i], v, mode, rnd);
        }

        test_buf_uvarint(b, 1000);
        test_buf_uvarint(b, 3);
        gen_random(b, 3, rnd);

    } else {
        /* an empty unknown tag first, then known ones descending */
        test_buf_uvarint(b, 200);
        test_buf_uvarint(b, 0);

        for (i = n; i > 0; i--) {
            gen_tagged(b, tagged[i - 1], v, mode, rnd);
        }
    }
}


static void
gen_message(test_buf_t *b, const hoop_kafka_message_t *m, int16_t v,
    int mode, uint64_t seed)
{
    uint64_t  rnd;

    rnd = seed | 1;
    b->len = 0;

    gen_struct(b, m->root, v, mode, &rnd);
}


/*
 * Checks
 */

/* Decodes body and checks it re-encodes to the same bytes. */
static void
check_identity(const hoop_kafka_message_t *m, int16_t v, const uint8_t *body,
    size_t len, const char *what)
{
    int                  rc;
    size_t               size, n;
    uint8_t             *out;
    test_arena_t         ar = { NULL, 0, 0 };
    hoop_kafka_err_t     err = { 0, NULL, NULL };
    hoop_kafka_node_t   *root;
    hoop_kafka_alloc_t   a;

    a = test_arena_allocator(&ar);

    rc = hoop_kafka_decode(&a, m->api_key, v, m->is_response, body, len,
                           &root, &err);
    if (rc != HOOP_KAFKA_OK) {
        fail_msg("%s v%d %s: decode %d at %zu: %s (%s)", m->name, v, what,
                 rc, err.offset, err.msg, err.field ? err.field : "-");
    }

    size = hoop_kafka_encoded_size(root);
    if (size != len) {
        fail_msg("%s v%d %s: encoded size %zu, body %zu", m->name, v, what,
                 size, len);
    }

    out = malloc(size + 1);
    assert_non_null(out);

    n = hoop_kafka_encode(root, out);
    assert_int_equal(n, size);

    if (memcmp(out, body, len) != 0) {
        fail_msg("%s v%d %s: re-encoded bytes differ", m->name, v, what);
    }

    free(out);
    test_arena_reset(&ar);
}


/* Every proper prefix must fail; each is copied to a buffer of exactly
 * its length so ASan catches any read past it. */
static void
check_truncations(const hoop_kafka_message_t *m, int16_t v,
    const uint8_t *body, size_t len)
{
    int                  rc;
    size_t               k;
    uint8_t             *copy;
    test_arena_t         ar = { NULL, 0, 0 };
    hoop_kafka_err_t     err;
    hoop_kafka_node_t   *root;
    hoop_kafka_alloc_t   a;

    a = test_arena_allocator(&ar);

    for (k = 0; k < len; k++) {
        copy = malloc(k ? k : 1);
        assert_non_null(copy);
        memcpy(copy, body, k);

        rc = hoop_kafka_decode(&a, m->api_key, v, m->is_response, copy, k,
                               &root, &err);
        if (rc >= 0) {
            fail_msg("%s v%d: prefix %zu of %zu decoded", m->name, v, k,
                     len);
        }

        assert_true(err.offset <= k);
        assert_non_null(err.msg);

        free(copy);
        test_arena_reset(&ar);
    }
}


/* Random one-byte changes, insertions and deletions: whatever decodes must
 * re-encode to exactly the mutated bytes. */
static void
check_mutations(const hoop_kafka_message_t *m, int16_t v,
    const uint8_t *body, size_t len, uint64_t *rnd, int rounds)
{
    int                  i, rc;
    size_t               pos, n;
    uint8_t             *buf, *out;
    test_arena_t         ar = { NULL, 0, 0 };
    hoop_kafka_node_t   *root;
    hoop_kafka_alloc_t   a;

    a = test_arena_allocator(&ar);

    for (i = 0; i < rounds; i++) {
        buf = malloc(len + 1);
        assert_non_null(buf);
        memcpy(buf, body, len);
        n = len;
        pos = len ? test_rand(rnd) % len : 0;

        switch (test_rand(rnd) % 3) {
        case 0:
            if (n) {
                buf[pos] = (uint8_t) test_rand(rnd);
            }
            break;
        case 1:
            memmove(buf + pos + 1, buf + pos, n - pos);
            buf[pos] = (uint8_t) test_rand(rnd);
            n++;
            break;
        default:
            if (n) {
                memmove(buf + pos, buf + pos + 1, n - pos - 1);
                n--;
            }
            break;
        }

        rc = hoop_kafka_decode(&a, m->api_key, v, m->is_response, buf, n,
                               &root, NULL);
        if (rc == HOOP_KAFKA_OK) {
            assert_int_equal(hoop_kafka_encoded_size(root), n);
            out = malloc(n + 1);
            assert_non_null(out);
            assert_int_equal(hoop_kafka_encode(root, out), n);
            if (memcmp(out, buf, n) != 0) {
                fail_msg("%s v%d: mutated body re-encodes differently",
                         m->name, v);
            }
            free(out);
        }

        free(buf);
        test_arena_reset(&ar);
    }
}


static void
test_synthetic_all_messages(void **state)
{
    int                          api, dir, mode;
    int16_t                      v;
    size_t                       count;
    uint64_t                     rnd;
    test_buf_t                   b;
    const hoop_kafka_message_t  *m;
    char                         what[32];

    (void) state;

    memset(&b, 0, sizeof(test_buf_t));
    rnd = 0x9e3779b97f4a7c15ULL;
    count = 0;

    for (api = 0; api <= HOOP_KAFKA_API_KEY_MAX; api++) {
        for (dir = 0; dir < 2; dir++) {
            m = hoop_kafka_message((int16_t) api, dir);
            if (m == NULL) {
                continue;
            }

            for (v = m->valid.lo; v <= m->valid.hi; v++) {
                for (mode = 0; mode < NMODES; mode++) {
                    gen_message(&b, m, v, mode,
                                (uint64_t) (api * 1000 + v * 10 + mode));

                    snprintf(what, sizeof(what), "%s mode %d",
                             dir_name[dir], mode);
                    check_identity(m, v, b.p, b.len, what);

                    if (mode == 1 || mode == 2) {
                        check_truncations(m, v, b.p, b.len);
                        check_mutations(m, v, b.p, b.len, &rnd, 40);
                    }

                    count++;
                }
            }
        }
    }

    print_message("%zu synthetic bodies round-tripped\n", count);
    assert_true(count > 1000);

    test_buf_free(&b);
}


/* Appends one element to every empty array, so that every struct of the
 * message appears once. */
static int
fill_arrays(hoop_kafka_node_t *node, const hoop_kafka_field_t *field,
    hoop_kafka_node_t *parent, void *ctx)
{
    (void) field;
    (void) parent;

    if (node->type == HOOP_KAFKA_T_ARRAY && hoop_kafka_node_count(node) == 0) {
        if (hoop_kafka_array_append(ctx, node) == NULL) {
            return -1;
        }
    }

    return HOOP_KAFKA_WALK_CONTINUE;
}


/* hoop_kafka_build() trees encode to bodies that decode and re-encode. */
static void
test_build_all_messages(void **state)
{
    int                          api, dir, rc, fill;
    int16_t                      v;
    size_t                       n;
    uint8_t                     *out;
    test_arena_t                 ar = { NULL, 0, 0 };
    hoop_kafka_node_t           *root;
    hoop_kafka_alloc_t           a;
    const hoop_kafka_message_t  *m;

    (void) state;

    a = test_arena_allocator(&ar);

    for (api = 0; api <= HOOP_KAFKA_API_KEY_MAX; api++) {
        for (dir = 0; dir < 2; dir++) {
            m = hoop_kafka_message((int16_t) api, dir);
            if (m == NULL) {
                continue;
            }

            for (v = m->valid.lo; v <= m->valid.hi; v++) {
                for (fill = 0; fill < 2; fill++) {
                    rc = hoop_kafka_build(&a, (int16_t) api, v, dir, &root);
                    assert_int_equal(rc, HOOP_KAFKA_OK);

                    if (fill) {
                        assert_int_equal(hoop_kafka_walk(root, fill_arrays,
                                                         &a), 0);
                    }

                    n = hoop_kafka_encoded_size(root);
                    out = malloc(n + 1);
                    assert_non_null(out);
                    assert_int_equal(hoop_kafka_encode(root, out), n);

                    check_identity(m, v, out, n,
                                   fill ? "built, filled" : "built");
                    free(out);
                    test_arena_reset(&ar);
                }
            }
        }
    }
}


/*
 * Tables
 */

static void
test_tables(void **state)
{
    int16_t                      lo, hi;
    int                          api, nreq, nresp;
    const hoop_kafka_message_t  *rq, *rs;

    (void) state;

    assert_string_equal(HOOP_KAFKA_SPEC_VERSION, "4.1.1");
    assert_string_equal(hoop_kafka_api_name(3), "Metadata");
    assert_string_equal(hoop_kafka_api_name(HOOP_KAFKA_API_API_VERSIONS),
                        "ApiVersions");
    assert_null(hoop_kafka_api_name(-1));
    assert_null(hoop_kafka_api_name(HOOP_KAFKA_API_KEY_MAX + 1));

    assert_int_equal(hoop_kafka_api_versions(0, &lo, &hi), 0);
    assert_int_equal(lo, 3);
    assert_int_equal(hi, 13);
    assert_int_equal(hoop_kafka_api_versions(HOOP_KAFKA_API_FETCH, &lo, &hi),
                     0);
    assert_int_equal(lo, 4);
    assert_int_equal(hi, 18);

    /* removed in Kafka 4.0: "validVersions": "none" */
    assert_int_equal(hoop_kafka_api_versions(HOOP_KAFKA_API_LEADER_AND_ISR,
                                             &lo, &hi), -1);
    assert_false(hoop_kafka_message_supported(4, 0, 0));
    assert_int_equal(hoop_kafka_api_versions(1000, &lo, &hi), -1);

    assert_true(hoop_kafka_message_supported(3, 0, 0));
    assert_true(hoop_kafka_message_supported(3, 13, 1));
    assert_false(hoop_kafka_message_supported(3, 14, 1));
    assert_false(hoop_kafka_message_supported(3, -1, 0));

    assert_int_equal(hoop_kafka_version_is_flexible(18, 2, 0), 0);
    assert_int_equal(hoop_kafka_version_is_flexible(18, 3, 0), 1);
    assert_int_equal(hoop_kafka_version_is_flexible(18, 9, 0), 1);
    assert_int_equal(hoop_kafka_version_is_flexible(17, 1, 0), 0);
    assert_int_equal(hoop_kafka_version_is_flexible(300, 1, 0), -1);

    nreq = nresp = 0;

    for (api = 0; api <= HOOP_KAFKA_API_KEY_MAX; api++) {
        rq = hoop_kafka_message((int16_t) api, 0);
        rs = hoop_kafka_message((int16_t) api, 1);

        if (rq == NULL) {
            assert_null(rs);
            continue;
        }

        assert_non_null(rs);
        nreq++;
        nresp++;
        assert_int_equal(rq->api_key, api);
        assert_int_equal(rs->api_key, api);
        assert_false(rq->is_response);
        assert_true(rs->is_response);
        assert_int_equal(rq->valid.lo, rs->valid.lo);
        assert_int_equal(rq->valid.hi, rs->valid.hi);
        assert_string_equal(rq->api_name, rs->api_name);
        assert_int_equal(rq->root->type, HOOP_KAFKA_T_STRUCT);
        assert_false(rq->flags & HOOP_KAFKA_MESSAGE_BROKER_ENDPOINTS);
    }

    assert_int_equal(nreq, 93);

    /* every response that hands out broker addresses */
    for (api = 0; api <= HOOP_KAFKA_API_KEY_MAX; api++) {
        rs = hoop_kafka_message((int16_t) api, 1);

        switch (api) {
        case HOOP_KAFKA_API_PRODUCE:
        case HOOP_KAFKA_API_FETCH:
        case HOOP_KAFKA_API_METADATA:
        case HOOP_KAFKA_API_FIND_COORDINATOR:
        case HOOP_KAFKA_API_DESCRIBE_CLUSTER:
        case HOOP_KAFKA_API_SHARE_FETCH:
        case HOOP_KAFKA_API_SHARE_ACKNOWLEDGE:
        case HOOP_KAFKA_API_UPDATE_RAFT_VOTER:
            assert_true(rs->flags & HOOP_KAFKA_MESSAGE_BROKER_ENDPOINTS);
            break;
        default:
            if (rs && (rs->flags & HOOP_KAFKA_MESSAGE_BROKER_ENDPOINTS)) {
                fail_msg("%s unexpectedly has broker endpoints", rs->name);
            }
        }
    }
}


/*
 * Hand-made bodies: refused cleanly, with the right error
 */

static int
decode_bytes(int16_t api, int16_t v, int is_response, const uint8_t *body,
    size_t len, hoop_kafka_err_t *err)
{
    int                  rc;
    uint8_t             *copy;
    test_arena_t         ar = { NULL, 0, 0 };
    hoop_kafka_node_t   *root;
    hoop_kafka_alloc_t   a;

    a = test_arena_allocator(&ar);

    /* exact-size copy: ASan sees any overread */
    copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, body, len);

    memset(err, 0, sizeof(hoop_kafka_err_t));
    rc = hoop_kafka_decode(&a, api, v, is_response, copy, len, &root, err);

    free(copy);
    test_arena_reset(&ar);

    return rc;
}


static void
test_bad_lengths(void **state)
{
    hoop_kafka_err_t  err;

    /* Metadata v0 request: Topics int32 count 2^31-1, 4 bytes left */
    static const uint8_t  huge_array[] = {
        0x7f, 0xff, 0xff, 0xff, 0, 1, 'a', 0 };

    /* Metadata v0: Topics -1, not nullable before v1 */
    static const uint8_t  null_array[] = { 0xff, 0xff, 0xff, 0xff };

    /* ApiVersions v3 request: ClientSoftwareName compact, length
     * 0xfffffffe; then 0x7000 - 1; then null (not nullable) */
    static const uint8_t  huge_cstring[] = {
        0xff, 0xff, 0xff, 0xff, 0x0f, 'a', 0, 0 };
    static const uint8_t  long_cstring[] = { 0x80, 0xe0, 0x01, 'a', 0, 0 };
    static const uint8_t  null_cstring[] = { 0x00, 0x00, 0x00 };

    /* padded varint (1 as 0x81 0x00) and a 6-byte varint */
    static const uint8_t  padded_varint[] = { 0x81, 0x00, 0x01, 0x00 };
    static const uint8_t  long_varint[] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01, 0x00 };

    /* SaslHandshake v0: Mechanism length -2 */
    static const uint8_t  neg_string[] = { 0xff, 0xfe };

    /* SaslAuthenticate v0: AuthBytes int32 length 2^31-1 */
    static const uint8_t  huge_bytes[] = { 0x7f, 0xff, 0xff, 0xff, 1, 2, 3 };

    /* ListGroups v0 has no fields: one byte too many */
    static const uint8_t  trailing[] = { 0x00 };

    (void) state;

    assert_int_equal(decode_bytes(3, 0, 0, huge_array, sizeof(huge_array),
                                  &err), HOOP_KAFKA_ETRUNCATED);
    assert_string_equal(err.msg, "array length exceeds frame");
    assert_string_equal(err.field, "Topics");
    assert_int_equal(err.offset, 4);

    assert_int_equal(decode_bytes(3, 0, 0, null_array, sizeof(null_array),
                                  &err), HOOP_KAFKA_EINVALID);
    assert_string_equal(err.msg, "null in a non-nullable field");

    assert_int_equal(decode_bytes(18, 3, 0, huge_cstring,
                                  sizeof(huge_cstring), &err),
                     HOOP_KAFKA_EINVALID);
    assert_string_equal(err.msg, "string longer than 32767 bytes");
    assert_string_equal(err.field, "ClientSoftwareName");

    assert_int_equal(decode_bytes(18, 3, 0, long_cstring,
                                  sizeof(long_cstring), &err),
                     HOOP_KAFKA_ETRUNCATED);
    assert_string_equal(err.msg, "string length exceeds frame");

    assert_int_equal(decode_bytes(18, 3, 0, null_cstring,
                                  sizeof(null_cstring), &err),
                     HOOP_KAFKA_EINVALID);

    assert_int_equal(decode_bytes(18, 3, 0, padded_varint,
                                  sizeof(padded_varint), &err),
                     HOOP_KAFKA_EINVALID);
    assert_int_equal(decode_bytes(18, 3, 0, long_varint,
                                  sizeof(long_varint), &err),
                     HOOP_KAFKA_EINVALID);

    assert_int_equal(decode_bytes(17, 0, 0, neg_string, sizeof(neg_string),
                                  &err), HOOP_KAFKA_EINVALID);
    assert_string_equal(err.msg, "negative length");

    assert_int_equal(decode_bytes(36, 0, 0, huge_bytes, sizeof(huge_bytes),
                                  &err), HOOP_KAFKA_ETRUNCATED);
    assert_string_equal(err.msg, "bytes length exceeds frame");

    assert_int_equal(decode_bytes(16, 0, 0, trailing, 0, &err),
                     HOOP_KAFKA_OK);
    assert_int_equal(decode_bytes(16, 0, 0, trailing, sizeof(trailing),
                                  &err), HOOP_KAFKA_EINVALID);
    assert_string_equal(err.msg, "trailing bytes after message");

    assert_int_equal(decode_bytes(4, 0, 0, trailing, 0, &err),
                     HOOP_KAFKA_EUNSUPPORTED);
    assert_int_equal(decode_bytes(3, 14, 0, trailing, 0, &err),
                     HOOP_KAFKA_EUNSUPPORTED);
    assert_int_equal(decode_bytes(500, 0, 0, trailing, 0, &err),
                     HOOP_KAFKA_EUNSUPPORTED);
}


/*
 * Requests with bytes after the message, as librdkafka 2.0.2 sends them
 * (bodies captured from its ListGroups v4 and OffsetFetch v7 requests):
 * Kafka's broker reads the fields and ignores the rest, so the gateway
 * decodes the prefix (hoop_kafka_decode_prefix) and says how much it took;
 * the strict decoder still refuses them.
 */
static void
test_trailing_request_bytes(void **state)
{
    size_t               used;
    uint8_t             *copy;
    hoop_kafka_err_t     err;
    hoop_kafka_node_t   *root, *n;
    hoop_kafka_alloc_t   a;
    test_arena_t         ar = { NULL, 0, 0 };

    /* StatesFilter [] , tags, then one zero byte */
    static const uint8_t  list_groups_v4[] = { 0x01, 0x00, 0x00 };

    /* GroupId "g1", Topics null, RequireStable false, tags, then 3 zeros */
    static const uint8_t  offset_fetch_v7[] = {
        0x03, 'g', '1', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };

    (void) state;

    a = test_arena_allocator(&ar);

    assert_int_equal(decode_bytes(16, 4, 0, list_groups_v4,
                                  sizeof(list_groups_v4), &err),
                     HOOP_KAFKA_EINVALID);
    assert_string_equal(err.msg, "trailing bytes after message");
    assert_int_equal(err.offset, 2);

    copy = malloc(sizeof(offset_fetch_v7));
    assert_non_null(copy);
    memcpy(copy, list_groups_v4, sizeof(list_groups_v4));
    assert_int_equal(hoop_kafka_decode_prefix(&a, 16, 4, 0, copy,
                                              sizeof(list_groups_v4), &root,
                                              &used, &err), HOOP_KAFKA_OK);
    assert_int_equal(used, 2);
    n = hoop_kafka_node_child(root, "StatesFilter");
    assert_non_null(n);
    assert_int_equal(n->u.list.count, 0);

    memcpy(copy, offset_fetch_v7, sizeof(offset_fetch_v7));
    assert_int_equal(hoop_kafka_decode_prefix(&a, 9, 7, 0, copy,
                                              sizeof(offset_fetch_v7), &root,
                                              &used, &err), HOOP_KAFKA_OK);
    assert_int_equal(used, 6);
    n = hoop_kafka_node_child(root, "GroupId");
    assert_non_null(n);
    assert_int_equal(n->u.bytes.len, 2);
    assert_memory_equal(n->u.bytes.data, "g1", 2);
    assert_true(hoop_kafka_node_child(root, "Topics")->flags
                & HOOP_KAFKA_NODE_NULL);

    /* a message cut short is still an error */
    assert_int_equal(hoop_kafka_decode_prefix(&a, 9, 7, 0, copy, 4, &root,
                                              &used, &err),
                     HOOP_KAFKA_ETRUNCATED);

    free(copy);
    test_arena_reset(&ar);
}


static void
test_bad_tagged_and_struct(void **state)
{
    hoop_kafka_err_t  err;

    /* ApiVersions v3 response: ErrorCode, ApiKeys (empty), ThrottleTimeMs,
     * then tag 1 (FinalizedFeaturesEpoch, int64) declared 9 bytes long */
    static const uint8_t  long_tag[] = {
        0, 0, 0x01, 0, 0, 0, 0,
        0x01, 0x01, 0x09, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa };

    /* ... declared 7 bytes: the int64 runs past its size */
    static const uint8_t  short_tag[] = {
        0, 0, 0x01, 0, 0, 0, 0,
        0x01, 0x01, 0x07, 0, 0, 0, 0, 0, 0, 0, 1 };

    /* ... the same tag, correctly sized, and an unknown tag 9 */
    static const uint8_t  good_tag[] = {
        0, 0, 0x01, 0, 0, 0, 0,
        0x02, 0x09, 0x01, 0x55, 0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 7 };

    /* ConsumerGroupHeartbeat v0 response, Assignment presence byte 2 */
    static const uint8_t  presence[] = {
        0, 0, 0, 0,  0, 0,  0x00,  0x00,  0, 0, 0, 1,  0, 0, 0, 2,
        0x02, 0x00 };

    (void) state;

    assert_int_equal(decode_bytes(18, 3, 1, long_tag, sizeof(long_tag),
                                  &err), HOOP_KAFKA_EINVALID);
    assert_string_equal(err.msg, "tagged field shorter than its size");
    assert_string_equal(err.field, "FinalizedFeaturesEpoch");

    assert_int_equal(decode_bytes(18, 3, 1, short_tag, sizeof(short_tag),
                                  &err), HOOP_KAFKA_ETRUNCATED);

    assert_int_equal(decode_bytes(18, 3, 1, good_tag, sizeof(good_tag),
                                  &err), HOOP_KAFKA_OK);
    check_identity(hoop_kafka_message(18, 1), 3, good_tag, sizeof(good_tag),
                   "hand-made");

    assert_int_equal(decode_bytes(68, 0, 1, presence, sizeof(presence),
                                  &err), HOOP_KAFKA_EINVALID);
    assert_string_equal(err.msg, "bad struct presence byte");
}


/* Any allocation failure surfaces as ENOMEM, never a crash. */
static void
test_out_of_memory(void **state)
{
    int                          rc;
    size_t                       limit;
    test_buf_t                   b;
    test_arena_t                 ar = { NULL, 0, 0 };
    hoop_kafka_node_t           *root;
    hoop_kafka_alloc_t           a;
    const hoop_kafka_message_t  *m;

    (void) state;

    memset(&b, 0, sizeof(test_buf_t));
    m = hoop_kafka_message(HOOP_KAFKA_API_METADATA, 1);
    gen_message(&b, m, 12, 2, 7);

    a = test_arena_allocator(&ar);

    for (limit = 1; ; limit++) {
        ar.limit = limit;
        rc = hoop_kafka_decode(&a, m->api_key, 12, 1, b.p, b.len, &root,
                               NULL);
        test_arena_reset(&ar);

        if (rc == HOOP_KAFKA_OK) {
            break;
        }

        assert_int_equal(rc, HOOP_KAFKA_ENOMEM);
    }

    assert_true(limit > 10);
    test_buf_free(&b);
}


/*
 * Rewriting broker addresses, finding entities
 */

typedef struct {
    const uint8_t   *host;
    size_t           host_len;
    int32_t          port;
    int              rewritten;
} rewrite_ctx_t;


static int
rewrite_endpoints(hoop_kafka_node_t *node, const hoop_kafka_field_t *field,
    hoop_kafka_node_t *parent, void *data)
{
    rewrite_ctx_t              *ctx;
    hoop_kafka_node_t          *host, *port;
    const hoop_kafka_struct_t  *st;

    (void) field;
    (void) parent;

    ctx = data;
    st = hoop_kafka_node_struct(node);

    if (st == NULL || !(st->flags & HOOP_KAFKA_STRUCT_BROKER_ENDPOINT)) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    host = hoop_kafka_node_child(node, "Host");
    port = hoop_kafka_node_child(node, "Port");

    /* FindCoordinator v4+ keeps Host/Port in its root only up to v3 */
    if (host == NULL || port == NULL) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    assert_int_equal(hoop_kafka_node_set_string(host, ctx->host,
                                                ctx->host_len), 0);
    assert_int_equal(hoop_kafka_node_set_int(port, ctx->port), 0);
    ctx->rewritten++;

    return HOOP_KAFKA_WALK_CONTINUE;
}


static int
check_endpoints(hoop_kafka_node_t *node, const hoop_kafka_field_t *field,
    hoop_kafka_node_t *parent, void *data)
{
    size_t                      len;
    const uint8_t              *p;
    rewrite_ctx_t              *ctx;
    hoop_kafka_node_t          *host, *port;
    const hoop_kafka_struct_t  *st;

    (void) field;
    (void) parent;

    ctx = data;
    st = hoop_kafka_node_struct(node);

    if (st == NULL || !(st->flags & HOOP_KAFKA_STRUCT_BROKER_ENDPOINT)) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    host = hoop_kafka_node_child(node, "Host");
    port = hoop_kafka_node_child(node, "Port");

    if (host == NULL || port == NULL) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    p = hoop_kafka_node_bytes(host, &len);
    assert_int_equal(len, ctx->host_len);
    assert_memory_equal(p, ctx->host, len);
    assert_int_equal(hoop_kafka_node_int(port), ctx->port);
    ctx->rewritten--;

    return HOOP_KAFKA_WALK_CONTINUE;
}


/* Decode a synthetic response carrying broker addresses, rewrite every
 * Host/Port to a longer name, re-encode, decode again and find them. */
static void
test_rewrite_endpoints(void **state)
{
    int                          api, rc, found;
    int16_t                      v;
    size_t                       n;
    uint8_t                     *out;
    test_buf_t                   b;
    rewrite_ctx_t                ctx;
    test_arena_t                 ar = { NULL, 0, 0 };
    hoop_kafka_node_t           *root;
    hoop_kafka_alloc_t           a;
    const hoop_kafka_message_t  *m;
    static const char            gw[] = "gateway-broker-1.hoop.example.com";

    (void) state;

    memset(&b, 0, sizeof(test_buf_t));
    a = test_arena_allocator(&ar);
    found = 0;

    for (api = 0; api <= HOOP_KAFKA_API_KEY_MAX; api++) {
        m = hoop_kafka_message((int16_t) api, 1);
        if (m == NULL || !(m->flags & HOOP_KAFKA_MESSAGE_BROKER_ENDPOINTS)) {
            continue;
        }

        for (v = m->valid.lo; v <= m->valid.hi; v++) {
            gen_message(&b, m, v, 1, (uint64_t) v);

            rc = hoop_kafka_decode(&a, m->api_key, v, 1, b.p, b.len, &root,
                                   NULL);
            assert_int_equal(rc, HOOP_KAFKA_OK);

            ctx.host = (const uint8_t *) gw;
            ctx.host_len = sizeof(gw) - 1;
            ctx.port = 19092;
            ctx.rewritten = 0;
            assert_int_equal(hoop_kafka_walk(root, rewrite_endpoints, &ctx),
                             0);

            n = hoop_kafka_encoded_size(root);
            out = malloc(n);
            assert_non_null(out);
            assert_int_equal(hoop_kafka_encode(root, out), n);

            /* the generator writes 3-byte hosts */
            assert_int_equal(n, b.len + ctx.rewritten * (sizeof(gw) - 4));

            rc = hoop_kafka_decode(&a, m->api_key, v, 1, out, n, &root,
                                   NULL);
            assert_int_equal(rc, HOOP_KAFKA_OK);

            found += ctx.rewritten;
            assert_int_equal(hoop_kafka_walk(root, check_endpoints, &ctx),
                             0);
            assert_int_equal(ctx.rewritten, 0);

            free(out);
            test_arena_reset(&ar);
        }
    }

    assert_true(found > 30);
    test_buf_free(&b);
}


typedef struct {
    int              topics;
    int              groups;
    int              txns;
} entity_ctx_t;


static int
count_entities(hoop_kafka_node_t *node, const hoop_kafka_field_t *field,
    hoop_kafka_node_t *parent, void *data)
{
    entity_ctx_t  *ctx;

    (void) parent;

    ctx = data;

    /* the array of a "[]string" carries the entityType too: count
     * only the strings */
    if (field == NULL || node->type != HOOP_KAFKA_T_STRING) {
        return HOOP_KAFKA_WALK_CONTINUE;
    }

    switch (field->entity_type) {
    case HOOP_KAFKA_ENTITY_TOPIC_NAME:
        ctx->topics++;
        break;
    case HOOP_KAFKA_ENTITY_GROUP_ID:
        ctx->groups++;
        break;
    case HOOP_KAFKA_ENTITY_TRANSACTIONAL_ID:
        ctx->txns++;
        break;
    }

    return HOOP_KAFKA_WALK_CONTINUE;
}


static void
test_entities(void **state)
{
    const uint8_t       *p;
    size_t               len;
    test_arena_t         ar = { NULL, 0, 0 };
    entity_ctx_t         ctx;
    hoop_kafka_node_t   *root, *topics, *t, *e;
    hoop_kafka_alloc_t   a;

    (void) state;

    a = test_arena_allocator(&ar);

    /* DeleteTopics v3: TopicNames is a "[]string" of topicName */
    assert_int_equal(hoop_kafka_build(&a, HOOP_KAFKA_API_DELETE_TOPICS, 3, 0,
                                      &root), HOOP_KAFKA_OK);
    topics = hoop_kafka_node_child(root, "TopicNames");
    assert_non_null(topics);
    assert_int_equal(topics->type, HOOP_KAFKA_T_ARRAY);
    e = hoop_kafka_array_append(&a, topics);
    assert_int_equal(hoop_kafka_node_set_string(e, (const uint8_t *) "orders",
                                                6), 0);
    e = hoop_kafka_array_append(&a, topics);
    assert_int_equal(hoop_kafka_node_set_string(e, (const uint8_t *) "pay",
                                                3), 0);
    assert_int_equal(hoop_kafka_node_count(topics), 2);

    memset(&ctx, 0, sizeof(entity_ctx_t));
    assert_int_equal(hoop_kafka_walk(root, count_entities, &ctx), 0);
    assert_int_equal(ctx.topics, 2);

    t = hoop_kafka_node_first(topics);
    p = hoop_kafka_node_bytes(hoop_kafka_node_next(t), &len);
    assert_int_equal(len, 3);
    assert_memory_equal(p, "pay", 3);

    /* strings are not nullable here, and 32768 bytes is too long */
    assert_int_equal(hoop_kafka_node_set_string(t, NULL, 0), -1);
    assert_int_equal(hoop_kafka_node_set_string(t, p, 32768), -1);

    /* TxnOffsetCommit v3: transactional id, group id, topic names */
    assert_int_equal(hoop_kafka_build(&a, HOOP_KAFKA_API_TXN_OFFSET_COMMIT,
                                      3, 0, &root), HOOP_KAFKA_OK);
    topics = hoop_kafka_node_child(root, "Topics");
    assert_non_null(hoop_kafka_array_append(&a, topics));
    assert_non_null(hoop_kafka_array_append(&a, topics));

    memset(&ctx, 0, sizeof(entity_ctx_t));
    assert_int_equal(hoop_kafka_walk(root, count_entities, &ctx), 0);
    assert_int_equal(ctx.topics, 2);
    assert_int_equal(ctx.groups, 1);
    assert_int_equal(ctx.txns, 1);

    /* set_int range checks: int16 ErrorCode style and a uint16 */
    e = hoop_kafka_node_child(root, "ProducerEpoch");
    assert_non_null(e);
    assert_int_equal(hoop_kafka_node_set_int(e, 40000), -1);
    assert_int_equal(hoop_kafka_node_set_int(e, -5), 0);
    assert_int_equal(hoop_kafka_node_int(e), -5);
    assert_int_equal(hoop_kafka_node_set_string(e, p, 1), -1);

    test_arena_reset(&ar);
}


/* Defaults of a built tree match the specs' "default" values. */
static void
test_build_defaults(void **state)
{
    test_arena_t         ar = { NULL, 0, 0 };
    hoop_kafka_node_t   *root, *n;
    hoop_kafka_alloc_t   a;

    (void) state;

    a = test_arena_allocator(&ar);

    /* ProduceRequest v3+: TransactionalId default null */
    assert_int_equal(hoop_kafka_build(&a, 0, 9, 0, &root), HOOP_KAFKA_OK);
    n = hoop_kafka_node_child(root, "TransactionalId");
    assert_non_null(n);
    assert_true(hoop_kafka_node_is_null(n));
    assert_int_equal(hoop_kafka_node_set_string(n, (const uint8_t *) "tx",
                                                2), 0);
    assert_false(hoop_kafka_node_is_null(n));
    assert_int_equal(hoop_kafka_node_set_string(n, NULL, 0), 0);
    assert_true(hoop_kafka_node_is_null(n));

    /* FetchRequest v14: ReplicaId default -1, MaxBytes default
     * 0x7fffffff; ClusterId is tagged, so not sent by default */
    assert_int_equal(hoop_kafka_build(&a, 1, 14, 0, &root), HOOP_KAFKA_OK);
    n = hoop_kafka_node_child(root, "MaxBytes");
    assert_non_null(n);
    assert_int_equal(hoop_kafka_node_int(n), 0x7fffffff);
    n = hoop_kafka_node_child(root, "ReplicaId");
    assert_non_null(n);
    assert_int_equal(hoop_kafka_node_int(n), -1);
    assert_null(hoop_kafka_node_child(root, "ClusterId"));

    /* v15 moved ReplicaId into the tagged ReplicaState */
    assert_int_equal(hoop_kafka_build(&a, 1, 15, 0, &root), HOOP_KAFKA_OK);
    assert_null(hoop_kafka_node_child(root, "ReplicaId"));
    assert_null(hoop_kafka_node_child(root, "ReplicaState"));

    /* a v0 FetchRequest is not supported any more */
    assert_int_equal(hoop_kafka_build(&a, 1, 3, 0, &root),
                     HOOP_KAFKA_EUNSUPPORTED);

    test_arena_reset(&ar);
}


static void
test_uvarint(void **state)
{
    uint8_t   buf[8];
    uint32_t  v;
    size_t    n;

    static const uint32_t  values[] = {
        0, 1, 127, 128, 16383, 16384, 0x1fffff, 0x200000, 0xfffffff,
        0x10000000, 0xffffffff };

    (void) state;

    for (n = 0; n < sizeof(values) / sizeof(values[0]); n++) {
        uint8_t  *end;

        end = hoop_kafka_uvarint_encode(buf, values[n]);
        assert_int_equal((size_t) (end - buf),
                         hoop_kafka_uvarint_size(values[n]));
        assert_int_equal(hoop_kafka_uvarint_decode(buf, (size_t) (end - buf),
                                                   &v), end - buf);
        assert_int_equal(v, values[n]);

        /* one byte short */
        assert_int_equal(hoop_kafka_uvarint_decode(buf,
                                                   (size_t) (end - buf - 1),
                                                   &v), 0);
    }

    buf[0] = 0x80;
    buf[1] = 0x00;
    assert_int_equal(hoop_kafka_uvarint_decode(buf, 2, &v), -1);

    memcpy(buf, "\xff\xff\xff\xff\x1f", 5);
    assert_int_equal(hoop_kafka_uvarint_decode(buf, 5, &v), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_uvarint),
        cmocka_unit_test(test_synthetic_all_messages),
        cmocka_unit_test(test_build_all_messages),
        cmocka_unit_test(test_build_defaults),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_trailing_request_bytes),
        cmocka_unit_test(test_bad_tagged_and_struct),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_rewrite_endpoints),
        cmocka_unit_test(test_entities),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
