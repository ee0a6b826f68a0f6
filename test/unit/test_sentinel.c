/*
 * The Redis Sentinel readers (src/redis/hoop_sentinel.c) on replies parsed
 * by hiredis from the bytes Redis 7.0 and its sentinels send.
 */

#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hoop_sentinel.h"


/* one reply from len RESP bytes; freeReplyObject() it */
static redisReply *
resp_n(const char *bytes, size_t len)
{
    void         *reply;
    redisReader  *rd;

    rd = redisReaderCreate();
    assert_non_null(rd);
    assert_int_equal(redisReaderFeed(rd, bytes, len), REDIS_OK);

    reply = NULL;
    assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
    assert_non_null(reply);

    redisReaderFree(rd);

    return reply;
}

#define resp(lit)  resp_n(lit, sizeof(lit) - 1)


static void
test_master_addr(void **state)
{
    int          port;
    char         host[HOOP_SENTINEL_HOST_LEN];
    redisReply  *r;

    (void) state;

    r = resp("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n");
    assert_null(hoop_sentinel_master_addr(r, host, sizeof(host), &port));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 6380);
    freeReplyObject(r);

    r = resp("*2\r\n$11\r\nfe80::1:2:3\r\n$5\r\n65535\r\n");
    assert_null(hoop_sentinel_master_addr(r, host, sizeof(host), &port));
    assert_string_equal(host, "fe80::1:2:3");
    assert_int_equal(port, 65535);
    freeReplyObject(r);
}


static void
test_master_addr_refused(void **state)
{
    int          port;
    char         host[HOOP_SENTINEL_HOST_LEN];
    size_t       i;
    redisReply  *r;

#define B(lit)  lit, sizeof(lit) - 1

    static const struct {
        const char  *resp;
        size_t       len;
        const char  *why;
    } bad[] = {
        { B("$-1\r\n"), "not monitored by this sentinel" },
        { B("-ERR unknown command\r\n"), "error" },
        { B("*1\r\n$9\r\n127.0.0.1\r\n"), "unexpected reply" },
        { B("*2\r\n$9\r\n127.0.0.1\r\n:6379\r\n"), "unexpected reply" },
        { B("*2\r\n$9\r\n127.0.0.1\r\n$5\r\n65536\r\n"),
          "bad port in the reply" },
        { B("*2\r\n$9\r\n127.0.0.1\r\n$1\r\n0\r\n"), "bad port in the reply" },
        { B("*2\r\n$9\r\n127.0.0.1\r\n$5\r\n63 79\r\n"),
          "bad port in the reply" },
        { B("*2\r\n$0\r\n\r\n$4\r\n6379\r\n"), NULL },
        { B("*2\r\n$11\r\nredis.local\r\n$4\r\n6379\r\n"), NULL },
        { B("*2\r\n$10\r\n127.0.0.1\0\r\n$4\r\n6379\r\n"), NULL },
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = resp_n(bad[i].resp, bad[i].len);
        port = -7;

        if (bad[i].why) {
            assert_string_equal(hoop_sentinel_master_addr(r, host,
                                                          sizeof(host),
                                                          &port),
                                bad[i].why);
        } else {
            /* host names and broken hosts: refused, no resolving */
            assert_non_null(strstr(hoop_sentinel_master_addr(r, host,
                                                             sizeof(host),
                                                             &port),
                                   "not an IP address"));
        }

        assert_int_equal(port, -7);
        freeReplyObject(r);
    }
}


static void
test_master_addr_small_buffer(void **state)
{
    int          port;
    char         host[9];
    redisReply  *r;

    (void) state;

    /* "127.0.0.1" needs 10 bytes with its NUL */
    r = resp("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n");
    assert_non_null(hoop_sentinel_master_addr(r, host, sizeof(host), &port));
    freeReplyObject(r);
}


static void
test_role(void **state)
{
    size_t       len;
    const char  *role;
    redisReply  *r;

    (void) state;

    r = resp("*3\r\n$6\r\nmaster\r\n:3014\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n"
             "$4\r\n6380\r\n$4\r\n3014\r\n");
    assert_int_equal(hoop_sentinel_role(r, &role, &len), 1);
    freeReplyObject(r);

    r = resp("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n"
             "$9\r\nconnected\r\n:3014\r\n");
    assert_int_equal(hoop_sentinel_role(r, &role, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(role, "slave", 5);
    freeReplyObject(r);

    r = resp("*2\r\n$8\r\nsentinel\r\n*1\r\n$8\r\nmymaster\r\n");
    assert_int_equal(hoop_sentinel_role(r, &role, &len), 0);
    freeReplyObject(r);

    r = resp("-NOPERM this user has no permissions to run the 'role' "
             "command\r\n");
    assert_int_equal(hoop_sentinel_role(r, &role, &len), -1);
    freeReplyObject(r);

    r = resp("*0\r\n");
    assert_int_equal(hoop_sentinel_role(r, &role, &len), -1);
    freeReplyObject(r);

    r = resp("*1\r\n:1\r\n");
    assert_int_equal(hoop_sentinel_role(r, &role, &len), -1);
    freeReplyObject(r);
}


static void
test_switch(void **state)
{
    int          port;
    char         host[HOOP_SENTINEL_HOST_LEN];
    size_t       i;
    const char  *m;

    static const char  *other[] = {
        "",
        "mymaster",
        "mymaster 127.0.0.1 6379 127.0.0.1",
        "mymaster 127.0.0.1 6379 127.0.0.1 ",
        "mymaster 127.0.0.1 6379 127.0.0.1 6380 extra",
        "mymaster 127.0.0.1 6379 127.0.0.1 0",
        "mymaster 127.0.0.1 6379 host.name 6380",
        "mymaster2 127.0.0.1 6379 127.0.0.1 6380",
        "mymaste 127.0.0.1 6379 127.0.0.1 6380",
        "mymaster  127.0.0.1 6379 127.0.0.1 6380",
    };

    (void) state;

    m = "mymaster 127.0.0.1 6379 127.0.0.1 6380";
    assert_int_equal(hoop_sentinel_switch(m, strlen(m), "mymaster", 8, host,
                                          sizeof(host), &port), 1);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 6380);

    m = "mymaster ::1 6379 ::2 26380";
    assert_int_equal(hoop_sentinel_switch(m, strlen(m), "mymaster", 8, host,
                                          sizeof(host), &port), 1);
    assert_string_equal(host, "::2");
    assert_int_equal(port, 26380);

    for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        port = -7;
        assert_int_equal(hoop_sentinel_switch(other[i], strlen(other[i]),
                                              "mymaster", 8, host,
                                              sizeof(host), &port), 0);
        assert_int_equal(port, -7);
    }

    /* not NUL-terminated: only len bytes are read */
    m = "mymaster 127.0.0.1 6379 127.0.0.1 63809";
    assert_int_equal(hoop_sentinel_switch(m, strlen(m) - 1, "mymaster", 8,
                                          host, sizeof(host), &port), 1);
    assert_int_equal(port, 6380);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_master_addr),
        cmocka_unit_test(test_master_addr_refused),
        cmocka_unit_test(test_master_addr_small_buffer),
        cmocka_unit_test(test_role),
        cmocka_unit_test(test_switch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
