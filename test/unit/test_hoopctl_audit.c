/*
 * Unit tests of what hoopctl audit does without Redis
 * (tools/hoopctl/hoopctl_audit_event.c): time arguments and their
 * refusals, UTC dates over three centuries against gmtime_r(), stream
 * ids, audit events turned back into typed JSON (docs/audit.md, format
 * v1), who/what index fields, and the one-line form of tail.
 *
 * Run: make -C test/unit check-audit-redis (also by make check).
 */

#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hoopctl.h"


#define NOW   (1796083200000LL + 12345)     /* 2026-12-01T00:00:12.345Z */
#define D1206 1796515200000LL               /* 2026-12-06T00:00:00Z */
#define BAD   INT64_MIN


static void
test_parse_time(void **state)
{
    size_t   i;
    int64_t  ms;

    static const struct {
        const char  *in;
        int          end;
        int64_t      ms;
    } cases[] = {
        { "now", 0, NOW },
        { "0m", 0, NOW },
        { "90m", 0, NOW - 5400000 },
        { "24h", 0, NOW - 86400000 },
        { "7d", 0, NOW - 7 * 86400000LL },
        { "30s", 1, NOW - 30000 },
        { "2026-12-06", 0, D1206 },
        { "2026-12-06", 1, D1206 + 86399999 },
        { "2026-12-06T10:30", 0, D1206 + 37800000 },
        { "2026-12-06T10:30", 1, D1206 + 37800000 },
        { "2026-12-06T10:30Z", 0, D1206 + 37800000 },
        { "2026-12-06T10:30:15", 0, D1206 + 37815000 },
        { "2026-12-06T10:30:15Z", 0, D1206 + 37815000 },
        { "2026-12-06T10:30:15.5Z", 0, D1206 + 37815500 },
        { "2026-12-06T10:30:15.05", 0, D1206 + 37815050 },
        { "2026-12-06T10:30:15.123Z", 0, D1206 + 37815123 },
        { "2026-12-06T23:59:59.999Z", 0, D1206 + 86399999 },
        { "1970-01-01", 0, 0 },
        { "9999-12-31T23:59:59Z", 0, 253402300799000LL },
        { "2024-02-29", 0, 1709164800000LL },
        { "2000-02-29", 0, 951782400000LL },
        { "", 0, BAD },
        { "x", 0, BAD },
        { "m", 0, BAD },
        { "10", 0, BAD },
        { "-5m", 0, BAD },
        { "5w", 0, BAD },
        { "1.5h", 0, BAD },
        { "999999999d", 0, BAD },       /* before 1970 */
        { "99999999999d", 0, BAD },
        { "2026-1-01", 0, BAD },
        { "2026/12/06", 0, BAD },
        { "2026-13-01", 0, BAD },
        { "2026-00-10", 0, BAD },
        { "2026-12-00", 0, BAD },
        { "2026-12-32", 0, BAD },
        { "2026-02-29", 0, BAD },
        { "2100-02-29", 0, BAD },
        { "2026-04-31", 0, BAD },
        { "1969-12-31", 0, BAD },
        { "10000-01-01", 0, BAD },
        { "2026-12-06T", 0, BAD },
        { "2026-12-06 10:30", 0, BAD },
        { "2026-12-06T1:30", 0, BAD },
        { "2026-12-06T10:3", 0, BAD },
        { "2026-12-06T10-30", 0, BAD },
        { "2026-12-06T24:00", 0, BAD },
        { "2026-12-06T10:60", 0, BAD },
        { "2026-12-06T10:30:60", 0, BAD },
        { "2026-12-06T10:30:1", 0, BAD },
        { "2026-12-06T10:30:15.", 0, BAD },
        { "2026-12-06T10:30:15.1234", 0, BAD },
        { "2026-12-06T10:30:15.x", 0, BAD },
        { "2026-12-06T10:30ZZ", 0, BAD },
        { "2026-12-06T10:30+01:00", 0, BAD },
        { "2026-12-06Z", 0, BAD },
        { "NOW", 0, BAD },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ms = BAD;

        if (hoopctl_audit_parse_time(cases[i].in, cases[i].end, NOW, &ms)
            != 0)
        {
            ms = BAD;
        }

        if (ms != cases[i].ms) {
            fail_msg("\"%s\" (end %d): %lld, expected %lld", cases[i].in,
                     cases[i].end, (long long) ms, (long long) cases[i].ms);
        }
    }

    assert_int_equal(hoopctl_audit_parse_date("2026-12-06", &ms), 0);
    assert_true(ms == D1206);
    assert_int_equal(hoopctl_audit_parse_date("2026-12-06T00:00", &ms), -1);
    assert_int_equal(hoopctl_audit_parse_date("2026-12-6", &ms), -1);
    assert_int_equal(hoopctl_audit_parse_date("", &ms), -1);
}


/* every day from 1970 to 2299: ours, gmtime_r()'s, and back */
static void
test_days(void **state)
{
    char       ours[40], libc[40];
    time_t     t;
    int64_t    d, ms, back;
    struct tm  tm;

    (void) state;

    for (d = 0; d < 120000; d++) {
        ms = d * 86400000LL + (d * 7919) % 86400000;
        t = (time_t) (ms / 1000);

        assert_non_null(gmtime_r(&t, &tm));
        strftime(libc, sizeof(libc), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(libc + strlen(libc), sizeof(libc) - strlen(libc),
                 ".%03dZ", (int) (ms % 1000));

        hoopctl_audit_time(ms, ours, sizeof(ours));
        if (strcmp(ours, libc) != 0) {
            fail_msg("day %lld: %s, gmtime_r: %s", (long long) d, ours, libc);
        }

        hoopctl_audit_day(ms, ours, sizeof(ours));
        assert_int_equal(strlen(ours), 10);
        assert_int_equal(memcmp(ours, libc, 10), 0);

        assert_int_equal(hoopctl_audit_parse_date(ours, &back), 0);
        assert_true(back == d * 86400000LL);

        assert_int_equal(hoopctl_audit_parse_time(libc, 0, NOW, &back), 0);
        assert_true(back == ms);
    }

    assert_string_equal(hoopctl_audit_time(-1, ours, sizeof(ours)), "-");
    assert_string_equal(hoopctl_audit_day(-5, ours, sizeof(ours)), "-");
}


static void
test_id_ms(void **state)
{
    int64_t  ms;

    (void) state;

    assert_int_equal(hoopctl_audit_id_ms("1796515200123-0", 15, &ms), 0);
    assert_true(ms == 1796515200123LL);
    assert_int_equal(hoopctl_audit_id_ms("1796515200123-0", 17, &ms), 0);
    assert_int_equal(hoopctl_audit_id_ms("5", 1, &ms), 0);
    assert_true(ms == 5);
    assert_int_equal(hoopctl_audit_id_ms("-0", 2, &ms), -1);
    assert_int_equal(hoopctl_audit_id_ms("", 0, &ms), -1);
    assert_int_equal(hoopctl_audit_id_ms("abc-1", 5, &ms), -1);
    assert_int_equal(hoopctl_audit_id_ms("1234567890123456-0", 18, &ms), -1);
}


/* an entry from alternating keys and values (lengths by strlen, except
 * the ones with a NUL) as compact JSON */
static char *
entry(const char *id, const char **kv, size_t n)
{
    char     *s;
    size_t    i, klens[32], vlens[32];
    json_t   *ev;
    const char  *keys[32], *vals[32];

    for (i = 0; i < n; i++) {
        keys[i] = kv[2 * i];
        vals[i] = kv[2 * i + 1];
        klens[i] = strlen(keys[i]);
        vlens[i] = strlen(vals[i]);
    }

    ev = hoopctl_audit_event_json(id, strlen(id), n, keys, klens, vals,
                                  vlens);
    s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev);

    return s;
}


static void
test_event_json(void **state)
{
    char  *s;

    static const char  *kv[] = {
        "v", "1",
        "seq", "42",
        "ts", "1764998400123",
        "event", "request",
        "principal", "alice",
        "groups", "[\"analysts\",\"ops\"]",
        "api_version", "-3",
        "partitions", "[0,1]",
        "records", "",
        "bytes", "1.5",
        "offsets", "[[0,100,219],[1,5,5]]",
        "count", "x",
        "policy_version", "99999999999999999999",
        "mask", "[[\"pii-email\",4]]",
        "correlation_id", "[1]",
        "until", "0012",
        "principal_hex", "616c",
        "client_id", "[1,2]",
        "groups_x", "[1]",
        "id", "mine",
        "k\xff", "v\xfe",
        "local", "true",
        "size", "512",
        "checks", "[[\"topic\",\"t\",\"read\",\"allow\"]]",
        "requests", "4",
        "duration_ms", "1500",
        "partitions_more", "3",
    };

    (void) state;

    s = entry("1764998400123-0", kv, sizeof(kv) / sizeof(kv[0]) / 2);
    assert_non_null(s);
    assert_string_equal(s,
        "{\"id\":\"1764998400123-0\",\"v\":1,\"seq\":42,"
        "\"ts\":1764998400123,\"event\":\"request\",\"principal\":\"alice\","
        "\"groups\":[\"analysts\",\"ops\"],\"api_version\":-3,"
        "\"partitions\":[0,1],\"records\":\"\",\"bytes\":1.5,"
        "\"offsets\":[[0,100,219],[1,5,5]],\"count\":\"x\","
        "\"policy_version\":\"99999999999999999999\","
        "\"mask\":[[\"pii-email\",4]],\"correlation_id\":\"[1]\","
        "\"until\":12,\"principal_hex\":\"616c\",\"client_id\":\"[1,2]\","
        "\"groups_x\":\"[1]\",\"_id\":\"mine\",\"k?\":\"v?\","
        "\"local\":true,\"size\":512,"
        "\"checks\":[[\"topic\",\"t\",\"read\",\"allow\"]],"
        "\"requests\":4,\"duration_ms\":1500,\"partitions_more\":3}");
    free(s);

    /* arrays that do not parse stay text */
    {
        static const char  *bad[] = {
            "groups", "[\"a\"", "offsets", "{}x", "partitions", "7",
            "local", "yes",
        };

        s = entry("1-1", bad, 4);
        assert_string_equal(s, "{\"id\":\"1-1\",\"groups\":\"[\\\"a\\\"\","
                               "\"offsets\":\"{}x\",\"partitions\":\"7\","
                               "\"local\":\"yes\"}");
        free(s);
    }
}


static void
test_event_ms(void **state)
{
    json_t  *ev;

    (void) state;

    ev = json_pack("{s:s, s:I}", "id", "5-0", "ts", (json_int_t) 77);
    assert_true(hoopctl_audit_event_ms(ev) == 77);
    json_object_del(ev, "ts");
    assert_true(hoopctl_audit_event_ms(ev) == 5);
    json_object_set_new(ev, "ts", json_string("x"));
    assert_true(hoopctl_audit_event_ms(ev) == 5);
    json_object_set_new(ev, "id", json_string("x-0"));
    assert_true(hoopctl_audit_event_ms(ev) == -1);
    json_decref(ev);
}


static void
test_index_field(void **state)
{
    json_t  *j;

    (void) state;

    j = hoopctl_audit_index_field("[\"alice\",\"read\",\"allow\"]", 24, 3);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_array_get(j, 1)), "read");
    json_decref(j);

    j = hoopctl_audit_index_field("[null,\"read\",\"allow\"]", 21, 3);
    assert_non_null(j);
    assert_true(json_is_null(json_array_get(j, 0)));
    json_decref(j);

    assert_null(hoopctl_audit_index_field("[\"a\",\"b\",\"c\"]", 13, 4));
    assert_null(hoopctl_audit_index_field("[\"a\",1,\"c\"]", 11, 3));
    assert_null(hoopctl_audit_index_field("[\"a\",\"b\",\"c\"] x", 15, 3));
    assert_null(hoopctl_audit_index_field("{}", 2, 3));
    assert_null(hoopctl_audit_index_field("", 0, 3));
    assert_null(hoopctl_audit_index_field("[\"a\\u0000\",\"b\",[]]", 18, 3));
}


static void
test_values_and_lines(void **state)
{
    json_t         *ev;
    const char     *kv[40];
    size_t          n;
    hoopctl_buf_t   b = { NULL, 0, 0 };

    (void) state;

    ev = json_pack("[s, s, s, s, n, I]", "plain", "two words", "",
                   "say \"hi\"\n", (json_int_t) 3);
    hoopctl_audit_add_value(&b, json_array_get(ev, 0), 1);
    hoopctl_buf_adds(&b, "|");
    hoopctl_audit_add_value(&b, json_array_get(ev, 1), 1);
    hoopctl_buf_adds(&b, "|");
    hoopctl_audit_add_value(&b, json_array_get(ev, 2), 1);
    hoopctl_buf_adds(&b, "|");
    hoopctl_audit_add_value(&b, json_array_get(ev, 3), 1);
    hoopctl_buf_adds(&b, "|");
    hoopctl_audit_add_value(&b, json_array_get(ev, 4), 1);
    hoopctl_buf_adds(&b, "|");
    hoopctl_audit_add_value(&b, json_array_get(ev, 5), 1);
    hoopctl_buf_adds(&b, "|");
    hoopctl_audit_add_value(&b, NULL, 1);
    hoopctl_buf_adds(&b, "|");
    hoopctl_audit_add_value(&b, json_array_get(ev, 1), 0);
    assert_string_equal(hoopctl_buf_str(&b),
        "plain|\"two words\"|\"\"|\"say \\\"hi\\\"\\n\"|-|3|-|two words");
    json_decref(ev);
    hoopctl_buf_free(&b);

    n = 0;
    kv[n++] = "v"; kv[n++] = "1";
    kv[n++] = "seq"; kv[n++] = "9";
    kv[n++] = "ts"; kv[n++] = "1796515200123";
    kv[n++] = "node"; kv[n++] = "gw1";
    kv[n++] = "sid"; kv[n++] = "gw1-1";
    kv[n++] = "event"; kv[n++] = "request";
    kv[n++] = "principal"; kv[n++] = "bob";
    kv[n++] = "client"; kv[n++] = "[::1]:5000";
    kv[n++] = "api"; kv[n++] = "Produce";
    kv[n++] = "api_version"; kv[n++] = "11";
    kv[n++] = "resource_type"; kv[n++] = "topic";
    kv[n++] = "resource"; kv[n++] = "orders";
    kv[n++] = "operation"; kv[n++] = "write";
    kv[n++] = "decision"; kv[n++] = "deny";
    kv[n++] = "reason"; kv[n++] = "no grant";
    kv[n++] = "partitions"; kv[n++] = "[2]";
    kv[n++] = "payload"; kv[n++] = "AAAA";

    {
        size_t       i, klens[20], vlens[20];
        const char  *keys[20], *vals[20];

        for (i = 0; i < n / 2; i++) {
            keys[i] = kv[2 * i];
            vals[i] = kv[2 * i + 1];
            klens[i] = strlen(keys[i]);
            vlens[i] = strlen(vals[i]);
        }

        ev = hoopctl_audit_event_json("1796515200123-0", 15, n / 2, keys,
                                      klens, vals, vlens);
    }

    hoopctl_audit_event_line(&b, ev);
    assert_string_equal(hoopctl_buf_str(&b),
        "2026-12-06T00:00:00.123Z  request  bob  [::1]:5000  Produce v11  "
        "topic:orders  write deny  node=gw1  reason=\"no grant\"  "
        "partitions=[2]");
    hoopctl_buf_free(&b);
    json_decref(ev);

    /* next to nothing: the id gives the time */
    ev = json_pack("{s:s}", "id", "1796515200000-3");
    hoopctl_audit_event_line(&b, ev);
    assert_string_equal(hoopctl_buf_str(&b),
                        "2026-12-06T00:00:00.000Z  -  -  -");
    hoopctl_buf_free(&b);
    json_decref(ev);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_id_ms),
        cmocka_unit_test(test_event_json),
        cmocka_unit_test(test_event_ms),
        cmocka_unit_test(test_index_field),
        cmocka_unit_test(test_values_and_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
