/*
 * hoop-rdkafka-produce: the produce half of the kcat (librdkafka) client-matrix driver.
 *
 * kcat itself cannot give each record its own headers or timestamp (its -H headers are the same
 * for every record and it has no timestamp option), so `t/clients/kcat/run produce` uses this
 * small program, linked against the same system librdkafka that kcat uses, to produce exactly
 * the records of the contract in t/clients/README.md:
 *   key-<i>, value-<i>-<payload>, headers h1=a-<i> h2=b, timestamp 1700000000000+i.
 * The options are those of `run produce` (validated again here); prints {"produced":N}.
 * --token-file FILE: OAUTHBEARER with the token in FILE (see hoop-rdkafka-common.h); the other
 * authentication and TLS settings arrive as --prop KEY=VALUE (librdkafka names).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "hoop-rdkafka-common.h"

#define TS_BASE 1700000000000LL
#define PAYLOAD_UNIT "hoop-payload-"

enum { EXIT_ERROR = HOOP_EXIT_ERROR, EXIT_USAGE = HOOP_EXIT_USAGE };

static long long delivered;
static rd_kafka_resp_err_t first_err;
static char first_errstr[600];

#define usage hoop_usage
#define num hoop_num
#define set hoop_set

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void) rk;
    (void) opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        delivered++;
    } else if (first_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        first_err = m->err;
        snprintf(first_errstr, sizeof(first_errstr), "%s", rd_kafka_err2str(m->err));
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void) opaque;
    fprintf(stderr, "rdkafka error: %s: %s\n", rd_kafka_err2name(err), reason);
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION && first_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* SASL/TLS authentication failed: will not get better by waiting (as the Java client) */
        first_err = err;
        snprintf(first_errstr, sizeof(first_errstr), "%s", reason);
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
        if (first_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            first_err = orig;
            snprintf(first_errstr, sizeof(first_errstr), "fatal: %s", buf);
        }
    }
}

static int txn_check(rd_kafka_error_t *e, const char *what)
{
    if (e == NULL)
        return 0;
    fprintf(stderr, "produce failed: %s: %s\n", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return -1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bootstrap", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"count", required_argument, NULL, 'c'},
        {"first", required_argument, NULL, 'f'},
        {"payload-bytes", required_argument, NULL, 'p'},
        {"compression", required_argument, NULL, 'z'},
        {"acks", required_argument, NULL, 'a'},
        {"idempotent", no_argument, NULL, 'i'},
        {"transactional-id", required_argument, NULL, 'x'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {"client-id", required_argument, NULL, 'C'},
        {"prop", required_argument, NULL, 'X'},
        {"debug", no_argument, NULL, 'd'},
        {"token-file", required_argument, NULL, 'K'},
        {NULL, 0, NULL, 0},
    };
    const char *bootstrap = NULL, *topic = NULL, *compression = "none", *acks = "all";
    const char *txn_id = NULL, *client_id = NULL, *token_file = NULL;
    long long count = -1, first = 0, payload_bytes = 100, timeout_ms = 30000;
    int idempotent = 0, debug = 0, c, rc = 0;
    char **props = calloc((size_t) argc, sizeof(char *));
    int nprops = 0;
    char errstr[512], buf[64];

    if (props == NULL)
        return EXIT_ERROR;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bootstrap = optarg; break;
        case 't': topic = optarg; break;
        case 'c': count = num("--count", optarg); break;
        case 'f': first = num("--first", optarg); break;
        case 'p': payload_bytes = num("--payload-bytes", optarg); break;
        case 'z': compression = optarg; break;
        case 'a': acks = optarg; break;
        case 'i': idempotent = 1; break;
        case 'x': txn_id = optarg; break;
        case 'T': timeout_ms = num("--timeout-ms", optarg); break;
        case 'C': client_id = optarg; break;
        case 'X': props[nprops++] = optarg; break;
        case 'd': debug = 1; break;
        case 'K': token_file = optarg; break;
        default: usage("unknown option", NULL);
        }
    }
    if (optind < argc)
        usage("unexpected argument", argv[optind]);
    if (bootstrap == NULL || topic == NULL || count < 0)
        usage("--bootstrap, --topic and --count are required", NULL);
    if (strcmp(compression, "none") && strcmp(compression, "gzip") && strcmp(compression, "snappy")
        && strcmp(compression, "lz4") && strcmp(compression, "zstd"))
        usage("--compression must be none|gzip|snappy|lz4|zstd", NULL);
    if (strcmp(acks, "all") && strcmp(acks, "-1") && strcmp(acks, "1") && strcmp(acks, "0"))
        usage("--acks must be all|1|0", NULL);
    if (hoop_debug_env())
        debug = 1;

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "compression.codec", compression);
    set(conf, "acks", acks);
    set(conf, "enable.idempotence", idempotent || txn_id ? "true" : "false");
    if (txn_id)
        set(conf, "transactional.id", txn_id);
    if (client_id)
        set(conf, "client.id", client_id);
    /* Same key -> partition mapping as the Java client and kafka-python. */
    set(conf, "partitioner", "murmur2_random");
    set(conf, "linger.ms", "5");
    snprintf(buf, sizeof(buf), "%lld", timeout_ms);
    set(conf, "message.timeout.ms", buf);
    snprintf(buf, sizeof(buf), "%lld", timeout_ms < 10 ? 10 : timeout_ms);
    set(conf, "socket.timeout.ms", buf);
    if (debug)
        set(conf, "debug", "broker");
    if (token_file)
        hoop_conf_token_file(conf, token_file, debug);
    for (int i = 0; i < nprops; i++)
        hoop_set_prop(conf, props[i]);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);

    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "error: rd_kafka_new: %s\n", errstr);
        return EXIT_ERROR;
    }
    hoop_token_background(rk);

    if (txn_id) {
        if (txn_check(rd_kafka_init_transactions(rk, (int) timeout_ms), "init_transactions")
            || txn_check(rd_kafka_begin_transaction(rk), "begin_transaction")) {
            rd_kafka_destroy(rk);
            return EXIT_ERROR;
        }
    }

    size_t vcap = (size_t) payload_bytes + 64;
    char *value = malloc(vcap);
    char *pl = malloc((size_t) payload_bytes + 1);
    if (value == NULL || pl == NULL)
        return EXIT_ERROR;
    for (long long i = 0; i < payload_bytes; i++)
        pl[i] = PAYLOAD_UNIT[i % (long long) (sizeof(PAYLOAD_UNIT) - 1)];
    pl[payload_bytes] = '\0';

    for (long long i = first; i < first + count && first_err == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
        char key[32], h1[32];
        int klen = snprintf(key, sizeof(key), "key-%lld", i);
        int h1len = snprintf(h1, sizeof(h1), "a-%lld", i);
        int vlen = snprintf(value, vcap, "value-%lld-%s", i, pl);
        rd_kafka_resp_err_t err;

        for (;;) {
            err = rd_kafka_producev(rk,
                                    RD_KAFKA_V_TOPIC(topic),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_KEY(key, (size_t) klen),
                                    RD_KAFKA_V_VALUE(value, (size_t) vlen),
                                    RD_KAFKA_V_TIMESTAMP(TS_BASE + i),
                                    RD_KAFKA_V_HEADER("h1", h1, (ssize_t) h1len),
                                    RD_KAFKA_V_HEADER("h2", "b", (ssize_t) 1),
                                    RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            rd_kafka_poll(rk, 50);
        }
        if (err) {
            fprintf(stderr, "produce failed: key-%lld: %s\n", i, rd_kafka_err2str(err));
            rc = EXIT_ERROR;
            break;
        }
        rd_kafka_poll(rk, 0);
    }

    /* flush in slices, so an authentication failure ends the wait */
    rd_kafka_resp_err_t ferr;
    long long waited = 0;
    do {
        ferr = rd_kafka_flush(rk, 200);
        waited += 200;
    } while (ferr == RD_KAFKA_RESP_ERR__TIMED_OUT && waited < timeout_ms
             && first_err == RD_KAFKA_RESP_ERR_NO_ERROR);
    if (ferr) {
        fprintf(stderr, "produce failed: flush: %s (%d messages still queued)\n", rd_kafka_err2str(ferr),
                rd_kafka_outq_len(rk));
        rc = EXIT_ERROR;
    }
    if (txn_id) {
        if (rc == 0 && first_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (txn_check(rd_kafka_commit_transaction(rk, (int) timeout_ms), "commit_transaction"))
                rc = EXIT_ERROR;
        } else {
            txn_check(rd_kafka_abort_transaction(rk, (int) timeout_ms), "abort_transaction");
        }
    }
    if (first_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "produce failed: %s: %s\n", rd_kafka_err2name(first_err), first_errstr);
        rc = EXIT_ERROR;
    }
    if (rc == 0 && delivered != count) {
        fprintf(stderr, "produce: only %lld of %lld records acknowledged\n", delivered, count);
        rc = EXIT_ERROR;
    }
    rd_kafka_destroy(rk);
    free(value);
    free(pl);
    free(props);
    if (rc == 0)
        printf("{\"produced\":%lld}\n", delivered);
    return rc;
}
