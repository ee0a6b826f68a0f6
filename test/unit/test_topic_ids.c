/*
 * Unit tests of the topic id map (src/kafka/hoop_topic_ids.c): learning,
 * resolving, a topic created again, forgetting, the memory bound and its
 * least-recently-used eviction, and learning from the captured responses
 * of test/unit/frames (Metadata, CreateTopics, DescribeTopicPartitions,
 * DeleteTopics) so that the ids of the captured Fetch v18 and Produce v13
 * requests resolve.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <dirent.h>
#include <cmocka.h>

#include "hoop_topic_ids.h"
#include "hoop_kafka_header.h"
#include "test_kafka_util.h"


static const char  *frames_dir = "frames";


static void
make_id(uint8_t *id, unsigned n)
{
    memset(id, 0, 16);
    id[0] = 0x42;
    id[12] = (uint8_t) (n >> 24);
    id[13] = (uint8_t) (n >> 16);
    id[14] = (uint8_t) (n >> 8);
    id[15] = (uint8_t) n;
}


static int
resolves_to(hoop_topic_ids_t *m, const uint8_t *id, const char *want)
{
    size_t          len;
    const uint8_t  *name;

    if (hoop_topic_ids_resolve(m, id, &name, &len) != 1) {
        return 0;
    }

    return len == strlen(want) && memcmp(name, want, len) == 0;
}


static void
test_learn_resolve(void **state)
{
    char               long_name[HOOP_TOPIC_IDS_NAME_MAX + 2];
    size_t             len;
    uint8_t            a[16], b[16], zero[16];
    const uint8_t     *name;
    hoop_topic_ids_t  *m;

    (void) state;

    m = hoop_topic_ids_create(HOOP_TOPIC_IDS_DEFAULT_MAX);
    assert_non_null(m);

    make_id(a, 1);
    make_id(b, 2);
    memset(zero, 0, 16);

    assert_int_equal(hoop_topic_ids_resolve(m, a, &name, &len), 0);
    assert_int_equal(hoop_topic_ids_learn(m, a, (const uint8_t *) "pay", 3),
                     1);
    assert_true(resolves_to(m, a, "pay"));
    assert_int_equal(hoop_topic_ids_resolve(m, b, &name, &len), 0);

    /* the same pair again changes nothing */
    assert_int_equal(hoop_topic_ids_learn(m, a, (const uint8_t *) "pay", 3),
                     0);
    assert_int_equal(hoop_topic_ids_count(m), 1);

    /* never learned: zero id, empty name, a name longer than Kafka's */
    memset(long_name, 'x', sizeof(long_name));
    assert_int_equal(hoop_topic_ids_learn(m, zero, (const uint8_t *) "z", 1),
                     -1);
    assert_int_equal(hoop_topic_ids_learn(m, b, (const uint8_t *) "", 0), -1);
    assert_int_equal(hoop_topic_ids_learn(m, b, (const uint8_t *) long_name,
                                          HOOP_TOPIC_IDS_NAME_MAX + 1),
                     -1);
    assert_int_equal(hoop_topic_ids_learn(m, b, (const uint8_t *) long_name,
                                          HOOP_TOPIC_IDS_NAME_MAX),
                     1);
    assert_int_equal(hoop_topic_ids_resolve(m, b, &name, &len), 1);
    assert_int_equal(len, HOOP_TOPIC_IDS_NAME_MAX);
    assert_int_equal(hoop_topic_ids_count(m), 2);
    assert_int_equal(hoop_topic_ids_resolve(m, zero, &name, &len), 0);

    /* a NULL map knows nothing */
    assert_int_equal(hoop_topic_ids_resolve(NULL, a, &name, &len), 0);
    assert_int_equal(hoop_topic_ids_count(NULL), 0);

    assert_int_equal(hoop_topic_ids_check(m), 0);
    hoop_topic_ids_free(m);
}


static void
test_recreated_and_forgotten(void **state)
{
    uint8_t            old[16], new[16], other[16];
    size_t             bytes;
    hoop_topic_ids_t  *m;

    (void) state;

    m = hoop_topic_ids_create(HOOP_TOPIC_IDS_DEFAULT_MAX);
    assert_non_null(m);

    make_id(old, 10);
    make_id(new, 11);
    make_id(other, 12);

    assert_int_equal(hoop_topic_ids_learn(m, old, (const uint8_t *) "orders",
                                          6), 1);
    assert_int_equal(hoop_topic_ids_learn(m, other, (const uint8_t *) "pay",
                                          3), 1);
    bytes = hoop_topic_ids_bytes(m);

    /* deleted and created again: the name's new id replaces the old one */
    assert_int_equal(hoop_topic_ids_learn(m, new, (const uint8_t *) "orders",
                                          6), 1);
    assert_true(resolves_to(m, new, "orders"));
    assert_false(resolves_to(m, old, "orders"));
    assert_int_equal(hoop_topic_ids_count(m), 2);
    assert_int_equal(hoop_topic_ids_bytes(m), bytes);

    /* an id the broker now names otherwise: its latest name wins */
    assert_int_equal(hoop_topic_ids_learn(m, other, (const uint8_t *) "pay2",
                                          4), 1);
    assert_true(resolves_to(m, other, "pay2"));
    assert_int_equal(hoop_topic_ids_count(m), 2);

    assert_int_equal(hoop_topic_ids_forget(m, new), 1);
    assert_int_equal(hoop_topic_ids_forget(m, new), 0);
    assert_false(resolves_to(m, new, "orders"));
    assert_int_equal(hoop_topic_ids_count(m), 1);

    /* the name is free again: learning it under the old id works */
    assert_int_equal(hoop_topic_ids_learn(m, old, (const uint8_t *) "orders",
                                          6), 1);
    assert_true(resolves_to(m, old, "orders"));

    assert_int_equal(hoop_topic_ids_check(m), 0);
    hoop_topic_ids_free(m);
}


/* The bound holds, and what was used last stays. */
static void
test_bound_and_eviction(void **state)
{
    char               name[32];
    size_t             max, i, n, kept;
    uint8_t            id[16], hot[16];
    hoop_topic_ids_t  *m;

    (void) state;

    max = 16 * 1024;

    m = hoop_topic_ids_create(max);
    assert_non_null(m);

    make_id(hot, 0);
    assert_int_equal(hoop_topic_ids_learn(m, hot, (const uint8_t *) "hot", 3),
                     1);

    for (i = 1; i <= 2000; i++) {
        make_id(id, (unsigned) i);
        n = (size_t) snprintf(name, sizeof(name), "topic-%zu", i);
        assert_int_equal(hoop_topic_ids_learn(m, id, (const uint8_t *) name,
                                              n), 1);
        assert_true(hoop_topic_ids_bytes(m) <= max);
        assert_int_equal(hoop_topic_ids_check(m), 0);

        /* the hot topic is resolved all the time: never evicted */
        assert_true(resolves_to(m, hot, "hot"));
    }

    n = hoop_topic_ids_count(m);
    assert_true(n > 50);
    assert_true(n < 2000);

    /* the newest n - 1 topics are there, the older ones are gone */
    kept = 0;

    for (i = 1; i <= 2000; i++) {
        make_id(id, (unsigned) i);
        snprintf(name, sizeof(name), "topic-%zu", i);

        if (resolves_to(m, id, name)) {
            assert_true(i > 2000 - (n - 1));
            kept++;
        }
    }

    assert_int_equal(kept, n - 1);

    /* a bound below one entry still keeps the last one learned */
    assert_int_equal(hoop_topic_ids_check(m), 0);
    hoop_topic_ids_free(m);

    m = hoop_topic_ids_create(1);
    assert_non_null(m);
    make_id(id, 7);
    assert_int_equal(hoop_topic_ids_learn(m, id, (const uint8_t *) "a", 1), 1);
    make_id(id, 8);
    assert_int_equal(hoop_topic_ids_learn(m, id, (const uint8_t *) "b", 1), 1);
    assert_int_equal(hoop_topic_ids_count(m), 1);
    assert_true(resolves_to(m, id, "b"));

    assert_int_equal(hoop_topic_ids_check(m), 0);
    hoop_topic_ids_free(m);
}


/* Many entries: the tables grow and every id still resolves. */
static void
test_many(void **state)
{
    char               name[32];
    size_t             i, n;
    uint8_t            id[16];
    hoop_topic_ids_t  *m;

    (void) state;

    m = hoop_topic_ids_create(HOOP_TOPIC_IDS_DEFAULT_MAX);
    assert_non_null(m);

    for (i = 0; i < 20000; i++) {
        make_id(id, (unsigned) i + 1);
        n = (size_t) snprintf(name, sizeof(name), "t.%zu", i);
        assert_int_equal(hoop_topic_ids_learn(m, id, (const uint8_t *) name,
                                              n), 1);
    }

    assert_int_equal(hoop_topic_ids_count(m), 20000);
    assert_true(hoop_topic_ids_bytes(m) <= HOOP_TOPIC_IDS_DEFAULT_MAX);

    for (i = 0; i < 20000; i++) {
        make_id(id, (unsigned) i + 1);
        snprintf(name, sizeof(name), "t.%zu", i);
        assert_true(resolves_to(m, id, name));
    }

    /* renaming all of them by re-creation keeps the count */
    for (i = 0; i < 20000; i++) {
        make_id(id, (unsigned) i + 100001);
        n = (size_t) snprintf(name, sizeof(name), "t.%zu", i);
        assert_int_equal(hoop_topic_ids_learn(m, id, (const uint8_t *) name,
                                              n), 1);
    }

    assert_int_equal(hoop_topic_ids_count(m), 20000);
    make_id(id, 1);
    assert_false(resolves_to(m, id, "t.0"));
    make_id(id, 100001);
    assert_true(resolves_to(m, id, "t.0"));

    assert_int_equal(hoop_topic_ids_check(m), 0);
    hoop_topic_ids_free(m);
}


/* --- captured frames ------------------------------------------------------ */

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE     *f;
    long      n;
    uint8_t  *p;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return NULL;
    }

    p = malloc(n ? (size_t) n : 1);

    if (p == NULL || fread(p, 1, (size_t) n, f) != (size_t) n) {
        free(p);
        fclose(f);
        return NULL;
    }

    fclose(f);
    *len = (size_t) n;

    return p;
}


/* The body of a captured frame, decoded (its bytes kept in *keep). */
static hoop_kafka_node_t *
decode_frame(const hoop_kafka_alloc_t *a, const char *file, int16_t key,
    int16_t v, int is_response, uint8_t **keep)
{
    int                            hv;
    char                           path[1024];
    size_t                         len, hl;
    uint8_t                       *p;
    hoop_kafka_node_t             *root;
    hoop_kafka_request_header_t    h;
    hoop_kafka_response_header_t   rh;

    snprintf(path, sizeof(path), "%s/%s", frames_dir, file);

    len = 0;
    p = read_file(path, &len);
    assert_non_null(p);
    assert_true(len > 8);

    *keep = p;

    if (is_response) {
        hv = hoop_kafka_response_header_version(key, v);
        assert_int_equal(hoop_kafka_response_header_parse(p + 4, len - 4, hv,
                                                          &rh, NULL),
                         HOOP_KAFKA_OK);
        hl = rh.len;

    } else {
        assert_int_equal(hoop_kafka_request_header_parse(p + 4, len - 4, &h,
                                                         NULL),
                         HOOP_KAFKA_OK);
        hl = h.len;
    }

    assert_int_equal(hoop_kafka_decode(a, key, v, is_response, p + 4 + hl,
                                       len - 4 - hl, &root, NULL),
                     HOOP_KAFKA_OK);

    return root;
}


static int
learn_file(hoop_topic_ids_t *m, const char *file, int16_t key, int16_t v)
{
    int                 n;
    uint8_t            *keep;
    test_arena_t        ar;
    hoop_kafka_alloc_t  a;
    hoop_kafka_node_t  *root;

    memset(&ar, 0, sizeof(ar));
    a = test_arena_allocator(&ar);

    root = decode_frame(&a, file, key, v, 1, &keep);
    n = hoop_topic_ids_learn_response(m, key, root);

    test_arena_reset(&ar);
    free(keep);

    return n;
}


static size_t
unknown_in(hoop_topic_ids_t *m, const char *file, int16_t key, int16_t v)
{
    size_t              n;
    uint8_t            *keep;
    test_arena_t        ar;
    hoop_kafka_alloc_t  a;
    hoop_kafka_node_t  *root;

    memset(&ar, 0, sizeof(ar));
    a = test_arena_allocator(&ar);

    root = decode_frame(&a, file, key, v, 0, &keep);
    n = hoop_topic_ids_unknown(m, root);

    test_arena_reset(&ar);
    free(keep);

    return n;
}


static int
have_frames(void)
{
    DIR  *d;

    d = opendir(frames_dir);
    if (d == NULL) {
        return 0;
    }

    closedir(d);

    return 1;
}


static void
test_captured(void **state)
{
    int                 learned, i;
    char                file[64];
    size_t              before, ids;
    hoop_topic_ids_t   *m;

    (void) state;

    if (!have_frames()) {
        skip();
    }

    m = hoop_topic_ids_create(HOOP_TOPIC_IDS_DEFAULT_MAX);
    assert_non_null(m);

    /* before anything is learned, every id of these requests is unknown */
    ids = 0;

    for (i = 1; i <= 4; i++) {
        snprintf(file, sizeof(file), "Fetch-v18-req-%d.bin", i);
        ids += unknown_in(m, file, HOOP_KAFKA_API_FETCH, 18);
    }

    assert_true(ids > 0);
    assert_int_equal(unknown_in(NULL, "Fetch-v18-req-1.bin",
                                HOOP_KAFKA_API_FETCH, 18),
                     unknown_in(m, "Fetch-v18-req-1.bin",
                                HOOP_KAFKA_API_FETCH, 18));

    /* a response of another ApiKey teaches nothing */
    assert_int_equal(learn_file(m, "Fetch-v18-resp-1.bin",
                                HOOP_KAFKA_API_FETCH, 18), 0);
    assert_int_equal(hoop_topic_ids_count(m), 0);

    learned = 0;

    for (i = 1; i <= 2; i++) {
        snprintf(file, sizeof(file), "Metadata-v13-resp-%d.bin", i);
        learned += learn_file(m, file, HOOP_KAFKA_API_METADATA, 13);
        snprintf(file, sizeof(file), "CreateTopics-v7-resp-%d.bin", i);
        learned += learn_file(m, file, HOOP_KAFKA_API_CREATE_TOPICS, 7);
        snprintf(file, sizeof(file), "DescribeTopicPartitions-v0-resp-%d.bin",
                 i);
        learned += learn_file(m, file,
                              HOOP_KAFKA_API_DESCRIBE_TOPIC_PARTITIONS, 0);
    }

    /* the captures name three topics with their ids */
    assert_int_equal(learned, 3);
    assert_int_equal(hoop_topic_ids_count(m), 3);

    /* Metadata v4 has no ids */
    assert_int_equal(learn_file(m, "Metadata-v4-resp-1.bin",
                                HOOP_KAFKA_API_METADATA, 4), 0);

    /* the ids of the captured Fetch and Produce requests resolve now */
    for (i = 1; i <= 4; i++) {
        snprintf(file, sizeof(file), "Fetch-v18-req-%d.bin", i);
        assert_int_equal(unknown_in(m, file, HOOP_KAFKA_API_FETCH, 18), 0);
    }

    for (i = 1; i <= 3; i++) {
        snprintf(file, sizeof(file), "Produce-v13-req-%d.bin", i);
        assert_int_equal(unknown_in(m, file, HOOP_KAFKA_API_PRODUCE, 13), 0);
    }

    /* learning the same answers again changes nothing */
    assert_int_equal(learn_file(m, "Metadata-v13-resp-1.bin",
                                HOOP_KAFKA_API_METADATA, 13), 0);

    /* a topic deleted without error is forgotten */
    before = hoop_topic_ids_count(m);
    learned = learn_file(m, "DeleteTopics-v6-resp-1.bin",
                         HOOP_KAFKA_API_DELETE_TOPICS, 6);
    assert_int_equal(learned, 1);
    assert_int_equal(hoop_topic_ids_count(m), before - (size_t) learned);

    assert_int_equal(hoop_topic_ids_check(m), 0);
    hoop_topic_ids_free(m);
}


/* DeleteTopics v6: only an entry deleted without error is forgotten. */
static void
test_delete_response(void **state)
{
    uint8_t             a[16], b[16];
    test_arena_t        ar;
    hoop_topic_ids_t   *m;
    hoop_kafka_node_t  *root, *arr, *e, *n;
    hoop_kafka_alloc_t  al;

    (void) state;

    m = hoop_topic_ids_create(HOOP_TOPIC_IDS_DEFAULT_MAX);
    assert_non_null(m);

    make_id(a, 21);
    make_id(b, 22);
    assert_int_equal(hoop_topic_ids_learn(m, a, (const uint8_t *) "gone", 4),
                     1);
    assert_int_equal(hoop_topic_ids_learn(m, b, (const uint8_t *) "kept", 4),
                     1);

    memset(&ar, 0, sizeof(ar));
    al = test_arena_allocator(&ar);

    assert_int_equal(hoop_kafka_build(&al, HOOP_KAFKA_API_DELETE_TOPICS, 6, 1,
                                      &root),
                     HOOP_KAFKA_OK);
    arr = hoop_kafka_node_child(root, "Responses");
    assert_non_null(arr);

    /* "gone" deleted; "kept" refused (TOPIC_AUTHORIZATION_FAILED) */
    e = hoop_kafka_array_append(&al, arr);
    assert_non_null(e);
    assert_int_equal(hoop_kafka_node_set_string(
                         hoop_kafka_node_child(e, "Name"),
                         (const uint8_t *) "gone", 4), 0);
    n = hoop_kafka_node_child(e, "TopicId");
    assert_non_null(n);
    n->u.bytes.data = a;

    e = hoop_kafka_array_append(&al, arr);
    assert_non_null(e);
    assert_int_equal(hoop_kafka_node_set_string(
                         hoop_kafka_node_child(e, "Name"),
                         (const uint8_t *) "kept", 4), 0);
    n = hoop_kafka_node_child(e, "TopicId");
    n->u.bytes.data = b;
    assert_int_equal(hoop_kafka_node_set_int(
                         hoop_kafka_node_child(e, "ErrorCode"), 29), 0);

    assert_int_equal(hoop_topic_ids_learn_response(m,
                         HOOP_KAFKA_API_DELETE_TOPICS, root), 1);
    assert_false(resolves_to(m, a, "gone"));
    assert_true(resolves_to(m, b, "kept"));

    /* the same tree under another ApiKey teaches nothing: only the
     * answers that pair ids with names are read */
    assert_int_equal(hoop_topic_ids_learn_response(m, HOOP_KAFKA_API_FETCH,
                                                   root), 0);
    assert_int_equal(hoop_topic_ids_count(m), 1);

    test_arena_reset(&ar);
    assert_int_equal(hoop_topic_ids_check(m), 0);
    hoop_topic_ids_free(m);
}


int
main(int argc, char **argv)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_learn_resolve),
        cmocka_unit_test(test_recreated_and_forgotten),
        cmocka_unit_test(test_bound_and_eviction),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_captured),
        cmocka_unit_test(test_delete_response),
    };

    if (argc > 1) {
        frames_dir = argv[1];
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
