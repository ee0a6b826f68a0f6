/*
 * Unit tests of Kafka request/response header handling
 * (hoop_kafka_header.c): header versions per ApiKey and version, parsing
 * of every header version, truncation at every length, encoders.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hoop_kafka_header.h"


static void
test_header_versions(void **state)
{
    (void) state;

    /* Produce: flexible from v9 */
    assert_int_equal(hoop_kafka_request_header_version(0, 8), 1);
    assert_int_equal(hoop_kafka_request_header_version(0, 9), 2);
    assert_int_equal(hoop_kafka_response_header_version(0, 8), 0);
    assert_int_equal(hoop_kafka_response_header_version(0, 9), 1);

    /* Metadata: flexible from v9; v0 still valid */
    assert_int_equal(hoop_kafka_request_header_version(3, 0), 1);
    assert_int_equal(hoop_kafka_request_header_version(3, 12), 2);
    assert_int_equal(hoop_kafka_response_header_version(3, 12), 1);

    /* ApiVersions: requests follow "3+", responses are always v0, also
     * for versions newer than this Kafka knows (KIP-511) */
    assert_int_equal(hoop_kafka_request_header_version(18, 2), 1);
    assert_int_equal(hoop_kafka_request_header_version(18, 3), 2);
    assert_int_equal(hoop_kafka_request_header_version(18, 7), 2);
    assert_int_equal(hoop_kafka_response_header_version(18, 3), 0);
    assert_int_equal(hoop_kafka_response_header_version(18, 7), 0);

    /* SaslHandshake never became flexible */
    assert_int_equal(hoop_kafka_request_header_version(17, 1), 1);
    assert_int_equal(hoop_kafka_response_header_version(17, 1), 0);

    /* flexible from v0 */
    assert_int_equal(hoop_kafka_request_header_version(60, 0), 2);
    assert_int_equal(hoop_kafka_response_header_version(60, 0), 1);

    /* ControlledShutdown v0 had header v0; removed keys are unknown */
    assert_int_equal(hoop_kafka_request_header_version(7, 0), 0);
    assert_int_equal(hoop_kafka_response_header_version(7, 0), 0);
    assert_int_equal(hoop_kafka_request_header_version(7, 1), -1);
    assert_int_equal(hoop_kafka_request_header_version(4, 5), -1);
    assert_int_equal(hoop_kafka_request_header_version(93, 0), -1);
    assert_int_equal(hoop_kafka_request_header_version(-1, 0), -1);
    assert_int_equal(hoop_kafka_request_header_version(3, -1), -1);
}


static void
test_parse_request_v1(void **state)
{
    hoop_kafka_err_t             err;
    hoop_kafka_request_header_t  h;

    /* Metadata v1, correlation 7, client id "kcat", then a body byte */
    static const uint8_t  buf[] = {
        0, 3, 0, 1, 0, 0, 0, 7, 0, 4, 'k', 'c', 'a', 't', 0xee };

    /* Null client id */
    static const uint8_t  nul[] = { 0, 3, 0, 1, 0, 0, 0, 8, 0xff, 0xff };

    /* Client id length -2 */
    static const uint8_t  neg[] = { 0, 3, 0, 1, 0, 0, 0, 8, 0xff, 0xfe };

    (void) state;

    assert_int_equal(hoop_kafka_request_header_parse(buf, sizeof(buf), &h,
                                                     &err), HOOP_KAFKA_OK);
    assert_int_equal(h.api_key, 3);
    assert_int_equal(h.api_version, 1);
    assert_int_equal(h.correlation_id, 7);
    assert_int_equal(h.version, 1);
    assert_int_equal(h.client_id_len, 4);
    assert_memory_equal(h.client_id, "kcat", 4);
    assert_null(h.tagged);
    assert_int_equal(h.len, 14);

    assert_int_equal(hoop_kafka_request_header_parse(nul, sizeof(nul), &h,
                                                     &err), HOOP_KAFKA_OK);
    assert_null(h.client_id);
    assert_int_equal(h.len, 10);

    assert_int_equal(hoop_kafka_request_header_parse(neg, sizeof(neg), &h,
                                                     &err),
                     HOOP_KAFKA_EINVALID);
    assert_string_equal(err.field, "ClientId");
}


static void
test_parse_request_v2(void **state)
{
    size_t                       k;
    uint8_t                     *copy;
    hoop_kafka_err_t             err;
    hoop_kafka_request_header_t  h;

    /* ApiVersions v3, correlation 0x01020304, client id "rdkafka"
     * (int16 length even in v2), tagged: one field, tag 5, 2 bytes */
    static const uint8_t  buf[] = {
        0, 18, 0, 3, 1, 2, 3, 4, 0, 7, 'r', 'd', 'k', 'a', 'f', 'k', 'a',
        0x01, 0x05, 0x02, 0xaa, 0xbb };

    (void) state;

    assert_int_equal(hoop_kafka_request_header_parse(buf, sizeof(buf), &h,
                                                     &err), HOOP_KAFKA_OK);
    assert_int_equal(h.version, 2);
    assert_int_equal(h.correlation_id, 0x01020304);
    assert_int_equal(h.client_id_len, 7);
    assert_int_equal(h.tagged_len, 5);
    assert_ptr_equal(h.tagged, buf + 17);
    assert_int_equal(h.len, sizeof(buf));

    /* every prefix fails, without reading past it */
    for (k = 0; k < sizeof(buf); k++) {
        copy = malloc(k ? k : 1);
        assert_non_null(copy);
        memcpy(copy, buf, k);
        assert_true(hoop_kafka_request_header_parse(copy, k, &h, &err) < 0);
        free(copy);
    }
}


static void
test_parse_request_bad(void **state)
{
    hoop_kafka_err_t             err;
    hoop_kafka_request_header_t  h;

    /* unknown ApiKey 300: the fixed fields are still returned */
    static const uint8_t  unknown[] = { 1, 44, 0, 0, 0, 0, 0, 9, 0, 0 };

    /* tagged field claiming 100 bytes */
    static const uint8_t  big_tag[] = {
        0, 18, 0, 3, 0, 0, 0, 1, 0, 0, 0x01, 0x00, 0x64, 0 };

    /* padded varint as tagged count */
    static const uint8_t  padded[] = {
        0, 18, 0, 3, 0, 0, 0, 1, 0, 0, 0x80, 0x00 };

    /* ControlledShutdown v0: no client id at all */
    static const uint8_t  cs0[] = { 0, 7, 0, 0, 0, 0, 0, 5, 0xee };

    (void) state;

    assert_int_equal(hoop_kafka_request_header_parse(unknown,
                                                     sizeof(unknown), &h,
                                                     &err),
                     HOOP_KAFKA_EUNSUPPORTED);
    assert_int_equal(h.api_key, 300);
    assert_int_equal(h.correlation_id, 9);
    assert_int_equal(h.len, 8);

    assert_int_equal(hoop_kafka_request_header_parse(big_tag,
                                                     sizeof(big_tag), &h,
                                                     &err),
                     HOOP_KAFKA_ETRUNCATED);
    assert_string_equal(err.msg, "tagged field size exceeds frame");

    assert_int_equal(hoop_kafka_request_header_parse(padded, sizeof(padded),
                                                     &h, &err),
                     HOOP_KAFKA_EINVALID);

    assert_int_equal(hoop_kafka_request_header_parse(cs0, sizeof(cs0), &h,
                                                     &err), HOOP_KAFKA_OK);
    assert_int_equal(h.version, 0);
    assert_int_equal(h.len, 8);
}


static void
test_parse_response(void **state)
{
    size_t                        k;
    hoop_kafka_err_t              err;
    hoop_kafka_response_header_t  h;

    static const uint8_t  v0[] = { 0, 0, 1, 0, 0xee };
    static const uint8_t  v1[] = { 0xff, 0xff, 0xff, 0xfe, 0x01, 0x03, 0x01,
                                   0x7f, 0xee };

    (void) state;

    assert_int_equal(hoop_kafka_response_header_parse(v0, sizeof(v0), 0, &h,
                                                      &err), HOOP_KAFKA_OK);
    assert_int_equal(h.correlation_id, 256);
    assert_int_equal(h.len, 4);

    assert_int_equal(hoop_kafka_response_header_parse(v1, sizeof(v1), 1, &h,
                                                      &err), HOOP_KAFKA_OK);
    assert_int_equal(h.correlation_id, -2);
    assert_int_equal(h.tagged_len, 4);
    assert_int_equal(h.len, 8);

    for (k = 0; k < 8; k++) {
        assert_true(hoop_kafka_response_header_parse(v1, k, 1, &h, &err)
                    < 0);
    }

    assert_int_equal(hoop_kafka_response_header_parse(v1, sizeof(v1), 2, &h,
                                                      &err),
                     HOOP_KAFKA_EUNSUPPORTED);
}


static void
test_encode(void **state)
{
    size_t                        n;
    uint8_t                       buf[64];
    hoop_kafka_request_header_t   rq;
    hoop_kafka_response_header_t  rs;

    (void) state;

    /* response headers: v0 4 bytes, v1 5 (empty tagged section) */
    n = hoop_kafka_response_header_encode(buf, 1, 0x11223344);
    assert_int_equal(n, hoop_kafka_response_header_size(1));
    assert_int_equal(n, 5);
    assert_int_equal(hoop_kafka_response_header_parse(buf, n, 1, &rs, NULL),
                     HOOP_KAFKA_OK);
    assert_int_equal(rs.correlation_id, 0x11223344);
    assert_int_equal(rs.len, 5);

    n = hoop_kafka_response_header_encode(buf, 0, -7);
    assert_int_equal(n, 4);
    assert_int_equal(hoop_kafka_response_header_size(0), 4);

    /* request headers: SaslHandshake v1 (header v1), SaslAuthenticate v2
     * (header v2), with and without client id */
    n = hoop_kafka_request_header_encode(buf, 17, 1, 42,
                                         (const uint8_t *) "hoop", 4);
    assert_int_equal(n, hoop_kafka_request_header_size(17, 1, 4));
    assert_int_equal(hoop_kafka_request_header_parse(buf, n, &rq, NULL),
                     HOOP_KAFKA_OK);
    assert_int_equal(rq.version, 1);
    assert_int_equal(rq.api_key, 17);
    assert_int_equal(rq.correlation_id, 42);
    assert_memory_equal(rq.client_id, "hoop", 4);
    assert_int_equal(rq.len, n);

    n = hoop_kafka_request_header_encode(buf, 36, 2, 43, NULL, 0);
    assert_int_equal(n, hoop_kafka_request_header_size(36, 2, 0));
    assert_int_equal(n, 11);
    assert_int_equal(hoop_kafka_request_header_parse(buf, n, &rq, NULL),
                     HOOP_KAFKA_OK);
    assert_int_equal(rq.version, 2);
    assert_null(rq.client_id);
    assert_int_equal(rq.tagged_len, 1);

    assert_int_equal(hoop_kafka_request_header_encode(buf, 4, 0, 1, NULL, 0),
                     0);
    assert_int_equal(hoop_kafka_request_header_size(4, 0, 0), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_header_versions),
        cmocka_unit_test(test_parse_request_v1),
        cmocka_unit_test(test_parse_request_v2),
        cmocka_unit_test(test_parse_request_bad),
        cmocka_unit_test(test_parse_response),
        cmocka_unit_test(test_encode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
