/*
 * Optional check of the SASL client side (src/auth/hoop_sasl_client)
 * against a real Kafka broker's SASL_PLAINTEXT listener: for each
 * mechanism, SaslHandshake v1 then SaslAuthenticate v2 round trips
 * (KIP-43, KIP-152), hand-encoded, then an ApiVersions request to show
 * the connection is usable; and the same with a wrong password, which
 * must fail.
 *
 *   test_sasl_broker HOST:PORT USER [MECH...]      (password in the
 *                                                  environment variable
 *                                                  KAFKA_SASL_PASSWORD)
 *   make -C test/unit check-sasl-broker KAFKA_SASL=127.0.0.1:9093 \
 *        KAFKA_SASL_USER=gw KAFKA_SASL_PASSWORD=gw-secret
 *
 * Exit status 0 when every mechanism authenticates with the right
 * password and is refused with a wrong one.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "hoop_credentials.h"
#include "hoop_sasl_client.h"


#define API_SASL_HANDSHAKE      17
#define API_API_VERSIONS        18
#define API_SASL_AUTHENTICATE   36

#define BUF_MAX                 (1024 * 1024)


typedef struct {
    uint8_t    *p;
    size_t      len;
    size_t      cap;
} buf_t;


typedef struct {
    const uint8_t  *p;
    const uint8_t  *end;
} rd_t;


static int32_t  correlation = 1;


static void
put(buf_t *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL) {
            abort();
        }
    }

    memcpy(b->p + b->len, data, len);
    b->len += len;
}


static void
put16(buf_t *b, int v)
{
    uint8_t  x[2];

    x[0] = (uint8_t) (v >> 8);
    x[1] = (uint8_t) v;
    put(b, x, 2);
}


static void
put32(buf_t *b, int32_t v)
{
    uint8_t  x[4];

    x[0] = (uint8_t) ((uint32_t) v >> 24);
    x[1] = (uint8_t) ((uint32_t) v >> 16);
    x[2] = (uint8_t) ((uint32_t) v >> 8);
    x[3] = (uint8_t) v;
    put(b, x, 4);
}


static void
put_uvarint(buf_t *b, uint32_t v)
{
    uint8_t  x;

    while (v >= 0x80) {
        x = (uint8_t) (v | 0x80);
        put(b, &x, 1);
        v >>= 7;
    }

    x = (uint8_t) v;
    put(b, &x, 1);
}


static int
get(rd_t *r, void *dst, size_t len)
{
    if ((size_t) (r->end - r->p) < len) {
        return -1;
    }
    memcpy(dst, r->p, len);
    r->p += len;
    return 0;
}


static int
get16(rd_t *r, int *v)
{
    uint8_t  x[2];

    if (get(r, x, 2) != 0) {
        return -1;
    }
    *v = (int16_t) (x[0] << 8 | x[1]);
    return 0;
}


static int
get32(rd_t *r, int32_t *v)
{
    uint8_t  x[4];

    if (get(r, x, 4) != 0) {
        return -1;
    }
    *v = (int32_t) ((uint32_t) x[0] << 24 | (uint32_t) x[1] << 16
                    | (uint32_t) x[2] << 8 | x[3]);
    return 0;
}


static int
get64(rd_t *r, int64_t *v)
{
    int32_t  hi, lo;

    if (get32(r, &hi) != 0 || get32(r, &lo) != 0) {
        return -1;
    }
    *v = (int64_t) ((uint64_t) (uint32_t) hi << 32 | (uint32_t) lo);
    return 0;
}


static int
get_uvarint(rd_t *r, uint32_t *v)
{
    uint32_t  x;
    int       shift;
    uint8_t   c;

    x = 0;

    for (shift = 0; shift < 35; shift += 7) {
        if (get(r, &c, 1) != 0) {
            return -1;
        }
        x |= (uint32_t) (c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }

    return -1;
}


static int
skip_tags(rd_t *r)
{
    uint32_t  n, tag, len;

    if (get_uvarint(r, &n) != 0) {
        return -1;
    }

    while (n-- > 0) {
        if (get_uvarint(r, &tag) != 0 || get_uvarint(r, &len) != 0
            || (size_t) (r->end - r->p) < len)
        {
            return -1;
        }
        r->p += len;
    }

    return 0;
}


/* request header v1 (flexible: v2, with an empty tagged section) */
static void
header(buf_t *b, int api_key, int version, int flexible)
{
    put16(b, api_key);
    put16(b, version);
    put32(b, correlation);
    put16(b, 12);                       /* client_id */
    put(b, "hoop-gw-test", 12);
    if (flexible) {
        put_uvarint(b, 0);
    }
}


static int
send_all(int fd, const uint8_t *p, size_t len)
{
    ssize_t  n;

    while (len > 0) {
        n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += n;
        len -= (size_t) n;
    }

    return 0;
}


static int
recv_all(int fd, uint8_t *p, size_t len)
{
    ssize_t  n;

    while (len > 0) {
        n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t) n;
    }

    return 0;
}


/* sends the request b (header and body), returns the response body after
 * the correlation id in *resp (malloc()ed) */
static int
roundtrip(int fd, buf_t *b, uint8_t **resp, size_t *resplen)
{
    uint8_t   size[4];
    uint32_t  n;
    int32_t   corr;
    rd_t      r;

    size[0] = (uint8_t) (b->len >> 24);
    size[1] = (uint8_t) (b->len >> 16);
    size[2] = (uint8_t) (b->len >> 8);
    size[3] = (uint8_t) b->len;

    if (send_all(fd, size, 4) != 0 || send_all(fd, b->p, b->len) != 0
        || recv_all(fd, size, 4) != 0)
    {
        return -1;
    }

    n = (uint32_t) size[0] << 24 | (uint32_t) size[1] << 16
        | (uint32_t) size[2] << 8 | size[3];
    if (n < 4 || n > BUF_MAX) {
        return -1;
    }

    *resp = malloc(n);
    if (*resp == NULL || recv_all(fd, *resp, n) != 0) {
        free(*resp);
        return -1;
    }

    r.p = *resp;
    r.end = *resp + n;
    if (get32(&r, &corr) != 0 || corr != correlation) {
        free(*resp);
        return -1;
    }

    correlation++;
    *resplen = n;

    return 0;
}


static int
connect_to(const char *hostport)
{
    struct addrinfo   hints, *res, *ai;
    struct timeval    tv;
    char             *host, *port;
    int               fd;

    host = strdup(hostport);
    port = strrchr(host, ':');
    if (port == NULL) {
        free(host);
        return -1;
    }
    *port++ = '\0';

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;

    if (getaddrinfo(host, port, &hints, &res) != 0) {
        free(host);
        return -1;
    }

    fd = -1;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        close(fd);
        fd = -1;
    }

    freeaddrinfo(res);
    free(host);

    if (fd >= 0) {
        tv.tv_sec = 15;
        tv.tv_usec = 0;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }

    return fd;
}


/* 1: authenticated (and ApiVersions answered), 0: refused, -1: error */
static int
authenticate(const char *hostport, hoop_sasl_mech_t mech, const char *user,
    const char *pw, char *why, size_t whylen)
{
    hoop_sasl_client_t  *c;
    hoop_sasl_rc_t       rc;
    buf_t                b;
    rd_t                 r;
    uint8_t             *resp;
    const uint8_t       *out;
    size_t               outlen, resplen;
    int                  fd, err, result, rounds;
    int32_t              count;
    uint32_t             n;
    int64_t              lifetime;
    const char          *name;
    char                 msg[512], mechs[256];

    name = hoop_sasl_mech_name(mech);
    memset(&b, 0, sizeof(b));
    resp = NULL;
    result = -1;
    snprintf(why, whylen, "?");

    c = hoop_sasl_client_start(mech, user, (const uint8_t *) pw, strlen(pw),
                               msg, sizeof(msg));
    if (c == NULL) {
        snprintf(why, whylen, "client start: %s", msg);
        return -1;
    }

    fd = connect_to(hostport);
    if (fd < 0) {
        snprintf(why, whylen, "cannot connect to %s", hostport);
        hoop_sasl_client_free(c);
        return -1;
    }

    /* SaslHandshake v1: string mechanism */

    header(&b, API_SASL_HANDSHAKE, 1, 0);
    put16(&b, (int) strlen(name));
    put(&b, name, strlen(name));

    if (roundtrip(fd, &b, &resp, &resplen) != 0) {
        snprintf(why, whylen, "SaslHandshake: no answer");
        goto done;
    }

    r.p = resp + 4;
    r.end = resp + resplen;
    mechs[0] = '\0';
    if (get16(&r, &err) != 0 || get32(&r, &count) != 0) {
        snprintf(why, whylen, "SaslHandshake: bad answer");
        goto done;
    }
    while (count-- > 0) {
        int   len;
        char  m[64];

        if (get16(&r, &len) != 0 || len < 0 || len >= (int) sizeof(m)
            || get(&r, m, (size_t) len) != 0)
        {
            break;
        }
        m[len] = '\0';
        snprintf(mechs + strlen(mechs), sizeof(mechs) - strlen(mechs), "%s%s",
                 mechs[0] ? " " : "", m);
    }
    free(resp);
    resp = NULL;

    if (err != 0) {
        snprintf(why, whylen, "SaslHandshake error %d (broker offers: %s)",
                 err, mechs);
        goto done;
    }

    /* SaslAuthenticate v2 until the client is done */

    rc = hoop_sasl_client_step(c, NULL, 0, &out, &outlen);

    for (rounds = 0; rc == HOOP_SASL_CONTINUE && rounds < 5; rounds++) {
        b.len = 0;
        header(&b, API_SASL_AUTHENTICATE, 2, 1);
        put_uvarint(&b, (uint32_t) outlen + 1);
        put(&b, out, outlen);
        put_uvarint(&b, 0);

        if (roundtrip(fd, &b, &resp, &resplen) != 0) {
            snprintf(why, whylen, "SaslAuthenticate: no answer");
            goto done;
        }

        /* response header v1: tags; body: error_code, error_message,
         * auth_bytes, session_lifetime_ms, tags */
        r.p = resp + 4;
        r.end = resp + resplen;
        if (skip_tags(&r) != 0 || get16(&r, &err) != 0
            || get_uvarint(&r, &n) != 0)
        {
            snprintf(why, whylen, "SaslAuthenticate: bad answer");
            goto done;
        }

        msg[0] = '\0';
        if (n > 1) {
            if (n - 1 >= sizeof(msg) || get(&r, msg, n - 1) != 0) {
                snprintf(why, whylen, "SaslAuthenticate: bad message");
                goto done;
            }
            msg[n - 1] = '\0';
        }

        if (err != 0) {
            snprintf(why, whylen, "refused by the broker: error %d \"%s\"",
                     err, msg);
            result = 0;
            goto done;
        }

        if (get_uvarint(&r, &n) != 0 || n == 0
            || (size_t) (r.end - r.p) < n - 1)
        {
            snprintf(why, whylen, "SaslAuthenticate: bad auth_bytes");
            goto done;
        }

        {
            const uint8_t  *auth = r.p;

            r.p += n - 1;
            if (get64(&r, &lifetime) != 0 || skip_tags(&r) != 0) {
                snprintf(why, whylen, "SaslAuthenticate: bad answer end");
                goto done;
            }

            rc = hoop_sasl_client_step(c, auth, n - 1, &out, &outlen);
        }

        free(resp);
        resp = NULL;
    }

    if (rc != HOOP_SASL_OK) {
        snprintf(why, whylen, "our client: %s", hoop_sasl_client_reason(c));
        goto done;
    }

    /* the connection is usable: ApiVersions v0 */

    b.len = 0;
    header(&b, API_API_VERSIONS, 0, 0);
    if (roundtrip(fd, &b, &resp, &resplen) != 0) {
        snprintf(why, whylen, "ApiVersions after authentication: no answer");
        goto done;
    }

    r.p = resp + 4;
    r.end = resp + resplen;
    if (get16(&r, &err) != 0 || err != 0) {
        snprintf(why, whylen, "ApiVersions after authentication: error");
        goto done;
    }

    snprintf(why, whylen, "authenticated in %d round trips, session "
             "lifetime %lld ms, ApiVersions ok", rounds,
             (long long) lifetime);
    result = 1;

done:

    free(resp);
    free(b.p);
    close(fd);
    hoop_sasl_client_free(c);

    return result;
}


int
main(int argc, char **argv)
{
    const char        *hostport, *user, *pw;
    char               err[256], why[600], *wrong;
    hoop_sasl_mech_t   mech;
    int                i, failures, rc;

    if (argc < 3) {
        fprintf(stderr, "usage: test_sasl_broker HOST:PORT USER [MECH...] "
                "(password in KAFKA_SASL_PASSWORD)\n");
        return 2;
    }

    hostport = argv[1];
    user = argv[2];
    pw = getenv("KAFKA_SASL_PASSWORD");
    if (pw == NULL || pw[0] == '\0') {
        fprintf(stderr, "test_sasl_broker: set KAFKA_SASL_PASSWORD\n");
        return 2;
    }

    if (hoop_sasl_client_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "hoop_sasl_client_init: %s\n", err);
        return 1;
    }

    wrong = malloc(strlen(pw) + 2);
    sprintf(wrong, "%sx", pw);

    failures = 0;

    for (i = argc > 3 ? 3 : 0; i < argc; i++) {
        const char  *name;

        name = argc > 3 ? argv[i] : "SCRAM-SHA-512";
        mech = hoop_sasl_mech_parse(name, strlen(name));
        if (mech == HOOP_SASL_MECH_NONE) {
            fprintf(stderr, "unknown mechanism %s\n", name);
            failures++;
            continue;
        }

        rc = authenticate(hostport, mech, user, pw, why, sizeof(why));
        printf("%-14s %-8s %s\n", name, rc == 1 ? "ok" : "FAILED", why);
        failures += rc != 1;

        rc = authenticate(hostport, mech, user, wrong, why, sizeof(why));
        printf("%-14s %-8s wrong password: %s\n", name,
               rc == 0 ? "ok" : "FAILED", why);
        failures += rc != 0;

        if (argc <= 3) {
            break;
        }
    }

    free(wrong);
    hoop_sasl_client_done();

    printf("%s\n", failures ? "FAILED" : "all ok");

    return failures ? 1 : 0;
}
