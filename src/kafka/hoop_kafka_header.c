/*
 * Kafka request and response headers; see hoop_kafka_header.h.
 */

#include <string.h>

#include "hoop_kafka_header.h"


static int
hoop_kafka_header_fail(hoop_kafka_err_t *err, size_t offset, int rc,
    const char *msg, const char *field)
{
    if (err) {
        err->offset = offset;
        err->msg = msg;
        err->field = field;
    }

    return rc;
}


static uint32_t
hoop_kafka_header_be(const uint8_t *p, size_t n)
{
    uint32_t  v;

    v = 0;

    while (n--) {
        v = (v << 8) | *p++;
    }

    return v;
}


/*
 * Walks the tagged section at buf[off..len): a count, then per field a tag,
 * a size and size bytes.  Header tagged fields carry nothing Kafka 4.1
 * defines, so they are only measured.  Returns the section's length or a
 * negative HOOP_KAFKA_E*.
 */
static int
hoop_kafka_header_tagged(const uint8_t *buf, size_t len, size_t off,
    size_t *tlen, hoop_kafka_err_t *err)
{
    int       n;
    size_t    p;
    uint32_t  count, i, v;

    p = off;

    n = hoop_kafka_uvarint_decode(buf + p, len - p, &count);
    if (n <= 0) {
        goto bad;
    }

    p += n;

    /* every field takes two bytes at least, so the loop is bounded */
    for (i = 0; i < count; i++) {
        n = hoop_kafka_uvarint_decode(buf + p, len - p, &v);     /* tag */
        if (n <= 0) {
            goto bad;
        }

        p += n;

        n = hoop_kafka_uvarint_decode(buf + p, len - p, &v);     /* size */
        if (n <= 0) {
            goto bad;
        }

        p += n;

        if (v > len - p) {
            return hoop_kafka_header_fail(err, p, HOOP_KAFKA_ETRUNCATED,
                                          "tagged field size exceeds frame",
                                          NULL);
        }

        p += v;
    }

    *tlen = p - off;

    return HOOP_KAFKA_OK;

bad:

    return hoop_kafka_header_fail(err, p,
                                  n == 0 ? HOOP_KAFKA_ETRUNCATED
                                         : HOOP_KAFKA_EINVALID,
                                  n == 0 ? "truncated varint"
                                         : "varint too long or not minimal",
                                  NULL);
}


int
hoop_kafka_request_header_version(int16_t api_key, int16_t api_version)
{
    const hoop_kafka_message_t  *m;

    /* ControlledShutdown v0 predates client_id (removed in Kafka 4.0,
     * whose spec no longer lists its versions) */
    if (api_key == HOOP_KAFKA_API_CONTROLLED_SHUTDOWN && api_version == 0) {
        return 0;
    }

    m = hoop_kafka_message(api_key, 0);

    if (m == NULL || m->valid.lo > m->valid.hi || api_version < 0) {
        return -1;
    }

    return hoop_kafka_versions_has(m->flexible, api_version) ? 2 : 1;
}


int
hoop_kafka_response_header_version(int16_t api_key, int16_t api_version)
{
    const hoop_kafka_message_t  *m;

    if (api_key == HOOP_KAFKA_API_CONTROLLED_SHUTDOWN && api_version == 0) {
        return 0;
    }

    m = hoop_kafka_message(api_key, 1);

    if (m == NULL || m->valid.lo > m->valid.hi || api_version < 0) {
        return -1;
    }

    /* KIP-511: readable by a client that does not know the version yet */
    if (api_key == HOOP_KAFKA_API_API_VERSIONS) {
        return 0;
    }

    return hoop_kafka_versions_has(m->flexible, api_version) ? 1 : 0;
}


int
hoop_kafka_request_header_parse(const uint8_t *buf, size_t len,
    hoop_kafka_request_header_t *h, hoop_kafka_err_t *err)
{
    int      rc;
    size_t   p;
    int32_t  n;

    memset(h, 0, sizeof(hoop_kafka_request_header_t));

    if (len < 8) {
        return hoop_kafka_header_fail(err, len, HOOP_KAFKA_ETRUNCATED,
                                      "truncated request header", NULL);
    }

    h->api_key = (int16_t) hoop_kafka_header_be(buf, 2);
    h->api_version = (int16_t) hoop_kafka_header_be(buf + 2, 2);
    h->correlation_id = (int32_t) hoop_kafka_header_be(buf + 4, 4);
    h->len = 8;

    h->version = hoop_kafka_request_header_version(h->api_key,
                                                   h->api_version);
    if (h->version < 0) {
        return hoop_kafka_header_fail(err, 0, HOOP_KAFKA_EUNSUPPORTED,
                                      "unknown ApiKey or version",
                                      "RequestApiKey");
    }

    if (h->version == 0) {
        return HOOP_KAFKA_OK;
    }

    p = 8;

    if (len - p < 2) {
        return hoop_kafka_header_fail(err, p, HOOP_KAFKA_ETRUNCATED,
                                      "truncated request header",
                                      "ClientId");
    }

    n = (int16_t) hoop_kafka_header_be(buf + p, 2);
    p += 2;

    if (n < -1) {
        return hoop_kafka_header_fail(err, p - 2, HOOP_KAFKA_EINVALID,
                                      "negative length", "ClientId");
    }

    if (n >= 0) {
        if ((size_t) n > len - p) {
            return hoop_kafka_header_fail(err, p, HOOP_KAFKA_ETRUNCATED,
                                          "string length exceeds frame",
                                          "ClientId");
        }

        h->client_id = buf + p;
        h->client_id_len = (size_t) n;
        p += n;
    }

    if (h->version == 2) {
        rc = hoop_kafka_header_tagged(buf, len, p, &h->tagged_len, err);
        if (rc != HOOP_KAFKA_OK) {
            return rc;
        }

        h->tagged = buf + p;
        p += h->tagged_len;
    }

    h->len = p;

    return HOOP_KAFKA_OK;
}


int
hoop_kafka_response_header_parse(const uint8_t *buf, size_t len,
    int header_version, hoop_kafka_response_header_t *h,
    hoop_kafka_err_t *err)
{
    int  rc;

    memset(h, 0, sizeof(hoop_kafka_response_header_t));

    if (header_version != 0 && header_version != 1) {
        return hoop_kafka_header_fail(err, 0, HOOP_KAFKA_EUNSUPPORTED,
                                      "unknown response header version",
                                      NULL);
    }

    if (len < 4) {
        return hoop_kafka_header_fail(err, len, HOOP_KAFKA_ETRUNCATED,
                                      "truncated response header", NULL);
    }

    h->correlation_id = (int32_t) hoop_kafka_header_be(buf, 4);
    h->version = header_version;
    h->len = 4;

    if (header_version == 1) {
        rc = hoop_kafka_header_tagged(buf, len, 4, &h->tagged_len, err);
        if (rc != HOOP_KAFKA_OK) {
            return rc;
        }

        h->tagged = buf + 4;
        h->len += h->tagged_len;
    }

    return HOOP_KAFKA_OK;
}


size_t
hoop_kafka_response_header_size(int header_version)
{
    return header_version == 1 ? 5 : 4;
}


static uint8_t *
hoop_kafka_header_put_be(uint8_t *p, uint32_t v, size_t n)
{
    size_t  i;

    for (i = n; i > 0; i--) {
        p[i - 1] = (uint8_t) v;
        v >>= 8;
    }

    return p + n;
}


size_t
hoop_kafka_response_header_encode(uint8_t *out, int header_version,
    int32_t correlation_id)
{
    uint8_t  *p;

    p = hoop_kafka_header_put_be(out, (uint32_t) correlation_id, 4);

    if (header_version == 1) {
        *p++ = 0;       /* no tagged fields */
    }

    return (size_t) (p - out);
}


size_t
hoop_kafka_request_header_size(int16_t api_key, int16_t api_version,
    size_t client_id_len)
{
    switch (hoop_kafka_request_header_version(api_key, api_version)) {
    case 0:
        return 8;
    case 1:
        return 10 + client_id_len;
    case 2:
        return 11 + client_id_len;
    default:
        return 0;
    }
}


size_t
hoop_kafka_request_header_encode(uint8_t *out, int16_t api_key,
    int16_t api_version, int32_t correlation_id, const uint8_t *client_id,
    size_t client_id_len)
{
    int       hv;
    uint8_t  *p;

    hv = hoop_kafka_request_header_version(api_key, api_version);

    if (hv < 0 || client_id_len > 0x7fff) {
        return 0;
    }

    p = hoop_kafka_header_put_be(out, (uint16_t) api_key, 2);
    p = hoop_kafka_header_put_be(p, (uint16_t) api_version, 2);
    p = hoop_kafka_header_put_be(p, (uint32_t) correlation_id, 4);

    if (hv == 0) {
        return (size_t) (p - out);
    }

    if (client_id == NULL) {
        p = hoop_kafka_header_put_be(p, 0xffff, 2);

    } else {
        p = hoop_kafka_header_put_be(p, (uint32_t) client_id_len, 2);
        if (client_id_len) {
            memcpy(p, client_id, client_id_len);
        }
        p += client_id_len;
    }

    if (hv == 2) {
        *p++ = 0;       /* no tagged fields */
    }

    return (size_t) (p - out);
}
