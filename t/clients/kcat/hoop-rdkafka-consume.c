/*
 * hoop-rdkafka-consume: the consume half of the kcat (librdkafka) driver when kcat itself cannot
 * do it: OAUTHBEARER with a token from a file (kcat has no way to set a token), or on request
 * (`run consume --rdkafka-helper`). Same librdkafka as kcat, same contract as `run consume`
 * (t/clients/README.md): joins group G (classic protocol, balanced subscription), starts at the
 * earliest offset, prints one JSON line per record, stops after N records or --timeout-ms, then
 * commits the offsets of exactly the printed records (synchronously) and leaves the group.
 *
 *   hoop-rdkafka-consume --bootstrap B --topic T --group G --count N [--timeout-ms MS]
 *                        [--client-id ID] [--prop K=V]... [--token-file F] [--debug]
 *
 * Exit: 0 ok; 1 authentication/authorization failure or other fatal error; 2 usage; 3 fewer than
 * N records in time.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "hoop-rdkafka-common.h"

static rd_kafka_resp_err_t fatal_err;
static char fatal_str[600];

static void fatal(rd_kafka_resp_err_t err, const char *reason)
{
    if (fatal_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        fatal_err = err;
        snprintf(fatal_str, sizeof(fatal_str), "%s: %s", rd_kafka_err2name(err), reason);
    }
}

/* errors that will not go away by waiting: stop and exit 1 (as the Java client throws) */
static int is_fatal(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
        return 1;
    default:
        return 0;
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void) rk;
    (void) opaque;
    fprintf(stderr, "rdkafka error: %s: %s\n", rd_kafka_err2name(err), reason);
    if (is_fatal(err))
        fatal(err, reason);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_record(const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *hdrs = NULL;
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);

    printf("{\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"key\":", m->partition, m->offset);
    hoop_json_str(stdout, m->key, m->key_len);
    fputs(",\"value\":", stdout);
    hoop_json_str(stdout, m->payload, m->len);
    fputs(",\"headers\":{", stdout);
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *val;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
            if (i)
                putchar(',');
            hoop_json_str(stdout, name, strlen(name));
            putchar(':');
            hoop_json_str(stdout, val, size);
        }
    }
    printf("},\"timestamp\":");
    if (tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
        fputs("null", stdout);
    else
        printf("%" PRId64, ts);
    fputs("}\n", stdout);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bootstrap", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"group", required_argument, NULL, 'g'},
        {"count", required_argument, NULL, 'c'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {"client-id", required_argument, NULL, 'C'},
        {"prop", required_argument, NULL, 'X'},
        {"token-file", required_argument, NULL, 'K'},
        {"debug", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *bootstrap = NULL, *topic = NULL, *group = NULL, *client_id = NULL, *token_file = NULL;
    long long count = -1, timeout_ms = 30000, got = 0;
    int debug = 0, c, rc = 0;
    char **props = calloc((size_t) argc, sizeof(char *));
    int nprops = 0;
    char errstr[512];

    if (props == NULL)
        return HOOP_EXIT_ERROR;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bootstrap = optarg; break;
        case 't': topic = optarg; break;
        case 'g': group = optarg; break;
        case 'c': count = hoop_num("--count", optarg); break;
        case 'T': timeout_ms = hoop_num("--timeout-ms", optarg); break;
        case 'C': client_id = optarg; break;
        case 'X': props[nprops++] = optarg; break;
        case 'K': token_file = optarg; break;
        case 'd': debug = 1; break;
        default: hoop_usage("unknown option", NULL);
        }
    }
    if (optind < argc)
        hoop_usage("unexpected argument", argv[optind]);
    if (bootstrap == NULL || topic == NULL || group == NULL || count < 0)
        hoop_usage("--bootstrap, --topic, --group and --count are required", NULL);
    if (hoop_debug_env())
        debug = 1;

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    hoop_set(conf, "bootstrap.servers", bootstrap);
    hoop_set(conf, "group.id", group);
    hoop_set(conf, "auto.offset.reset", "earliest");
    hoop_set(conf, "enable.auto.commit", "false");
    hoop_set(conf, "enable.auto.offset.store", "false");
    if (client_id)
        hoop_set(conf, "client.id", client_id);
    if (debug)
        hoop_set(conf, "debug", "broker,security");
    if (token_file)
        hoop_conf_token_file(conf, token_file, debug);
    for (int i = 0; i < nprops; i++)
        hoop_set_prop(conf, props[i]);
    rd_kafka_conf_set_error_cb(conf, error_cb);

    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "error: rd_kafka_new: %s\n", errstr);
        return HOOP_EXIT_ERROR;
    }
    hoop_token_background(rk);
    rd_kafka_poll_set_consumer(rk);

    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err) {
        fprintf(stderr, "error: subscribe: %s\n", rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return HOOP_EXIT_ERROR;
    }

    /* next offset to commit per partition */
    rd_kafka_topic_partition_list_t *commit = rd_kafka_topic_partition_list_new(8);
    long long deadline = now_ms() + timeout_ms;
    while (got < count && fatal_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, (int) (left < 500 ? left : 500));
        if (m == NULL)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                fprintf(stderr, "consume: %s: %s\n", rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
                if (is_fatal(m->err))
                    fatal(m->err, rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        print_record(m);
        fflush(stdout);
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(commit, rd_kafka_topic_name(m->rkt),
                                                                            m->partition);
        if (tp == NULL)
            tp = rd_kafka_topic_partition_list_add(commit, rd_kafka_topic_name(m->rkt), m->partition);
        tp->offset = m->offset + 1;
        got++;
        rd_kafka_message_destroy(m);
    }
    if (commit->cnt > 0) {
        err = rd_kafka_commit(rk, commit, 0);
        if (err) {
            fprintf(stderr, "consume: commit failed: %s\n", rd_kafka_err2str(err));
            rc = HOOP_EXIT_ERROR;
        }
    }
    rd_kafka_topic_partition_list_destroy(commit);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(props);
    fflush(stdout);
    if (fatal_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "consume failed: %s\n", fatal_str);
        return HOOP_EXIT_ERROR;
    }
    if (got < count) {
        fprintf(stderr, "consume: got %lld of %lld records within %lld ms\n", got, count, timeout_ms);
        return HOOP_EXIT_SHORT;
    }
    return rc;
}
