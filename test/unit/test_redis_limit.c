/*
 * The bound on Redis array replies (src/redis/hoop_redis_limit.c) on
 * hiredis' own reader: huge, negative and nested counts are refused before
 * anything is allocated for them; ordinary replies and the limit itself
 * pass; a reader with other functions is left alone.
 */

#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hoop_redis_limit.h"


static long long  refused_count, refused_elements;

static void
refused(long long elements)
{
    refused_count++;
    refused_elements = elements;
}


/* feeds bytes to a limited reader: REDIS_OK/REDIS_ERR, *reply if any */
static int
feed(const char *bytes, size_t len, redisReply **reply)
{
    int           rc;
    void         *rep;
    redisReader  *r;

    r = redisReaderCreate();
    assert_non_null(r);
    hoop_redis_reader_limit(r, refused);

    assert_int_equal(redisReaderFeed(r, bytes, len), REDIS_OK);

    rep = NULL;
    rc = redisReaderGetReply(r, &rep);

    if (reply) {
        *reply = rep;

    } else if (rep) {
        freeReplyObject(rep);
    }

    redisReaderFree(r);

    return rc;
}

#define FEED(lit, reply)  feed(lit, sizeof(lit) - 1, reply)


static void
test_huge_counts_refused(void **state)
{
    (void) state;

    refused_count = 0;

    assert_int_equal(FEED("*2147483647\r\n", NULL), REDIS_ERR);
    assert_int_equal(refused_count, 1);
    assert_int_equal(refused_elements, 2147483647);

    /* nested: the outer array passes, the inner one is refused */
    assert_int_equal(FEED("*2\r\n:1\r\n*1500000000\r\n", NULL), REDIS_ERR);
    assert_int_equal(refused_count, 2);
    assert_int_equal(refused_elements, 1500000000);

    /* one past the limit */
    assert_int_equal(FEED("*4194305\r\n", NULL), REDIS_ERR);
    assert_int_equal(refused_count, 3);
    assert_int_equal(refused_elements, HOOP_REDIS_MAX_ELEMENTS + 1);

    /* negative, other than -1 (a nil array): hiredis 0.14.1 refuses it
     * itself ("Multi-bulk length out of range"), the wrapper otherwise */
    assert_int_equal(FEED("*-5\r\n", NULL), REDIS_ERR);
}


static void
test_ordinary_replies_pass(void **state)
{
    redisReply  *rep;

    (void) state;

    refused_count = 0;

    /* what HGETALL of the credentials hash looks like */
    assert_int_equal(FEED("*4\r\n$5\r\nalice\r\n$3\r\nabc\r\n"
                          "$3\r\nbob\r\n$3\r\ndef\r\n", &rep), REDIS_OK);
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
    assert_int_equal(rep->elements, 4);
    assert_string_equal(rep->element[2]->str, "bob");
    freeReplyObject(rep);

    /* a subscription message, an empty array, a nil array */
    assert_int_equal(FEED("*3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$2\r\n{}\r\n",
                          &rep), REDIS_OK);
    assert_int_equal(rep->elements, 3);
    freeReplyObject(rep);

    assert_int_equal(FEED("*0\r\n", &rep), REDIS_OK);
    assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
    assert_int_equal(rep->elements, 0);
    freeReplyObject(rep);

    assert_int_equal(FEED("*-1\r\n", &rep), REDIS_OK);
    assert_int_equal(rep->type, REDIS_REPLY_NIL);
    freeReplyObject(rep);

    /* the limit itself: accepted, waiting for its elements */
    assert_int_equal(FEED("*4194304\r\n:1\r\n", &rep), REDIS_OK);
    assert_null(rep);

    assert_int_equal(refused_count, 0);
}


static void
test_applied_once_and_only_to_defaults(void **state)
{
    void                              *rep;
    redisReader                       *r;
    redisReplyObjectFunctions          other;
    const redisReplyObjectFunctions   *fn;

    (void) state;

    r = redisReaderCreate();
    assert_non_null(r);

    hoop_redis_reader_limit(r, refused);
    fn = r->fn;
    hoop_redis_reader_limit(r, refused);
    assert_ptr_equal(r->fn, fn);              /* not wrapped twice */
    redisReaderFree(r);

    /* a reader with its own functions keeps them */
    r = redisReaderCreate();
    assert_non_null(r);
    other = *r->fn;
    r->fn = &other;
    hoop_redis_reader_limit(r, refused);
    assert_ptr_equal(r->fn, &other);

    refused_count = 0;
    assert_int_equal(redisReaderFeed(r, "*3\r\n:1\r\n:2\r\n:3\r\n", 16),
                     REDIS_OK);
    rep = NULL;
    assert_int_equal(redisReaderGetReply(r, &rep), REDIS_OK);
    assert_non_null(rep);
    freeReplyObject(rep);
    redisReaderFree(r);

    /* NULL is ignored */
    hoop_redis_reader_limit(NULL, refused);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_huge_counts_refused),
        cmocka_unit_test(test_ordinary_replies_pass),
        cmocka_unit_test(test_applied_once_and_only_to_defaults),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
