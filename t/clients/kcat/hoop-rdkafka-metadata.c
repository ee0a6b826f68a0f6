/*
 * hoop-rdkafka-metadata: `run metadata` of the kcat (librdkafka) driver when kcat itself cannot
 * do it (OAUTHBEARER with a token from a file). A Metadata request (all topics, or --topic T);
 * prints the brokers it names, sorted by id: [{"id":1,"host":"127.0.0.1","port":9092},...].
 *
 *   hoop-rdkafka-metadata --bootstrap B [--topic T] [--timeout-ms MS] [--client-id ID]
 *                         [--prop K=V]... [--token-file F] [--debug]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "hoop-rdkafka-common.h"

static rd_kafka_resp_err_t fatal_err;
static char fatal_str[600];

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void) rk;
    (void) opaque;
    fprintf(stderr, "rdkafka error: %s: %s\n", rd_kafka_err2name(err), reason);
    if ((err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__FATAL)
        && fatal_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        fatal_err = err;
        snprintf(fatal_str, sizeof(fatal_str), "%s", reason);
    }
}

static int by_id(const void *a, const void *b)
{
    const rd_kafka_metadata_broker_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bootstrap", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {"client-id", required_argument, NULL, 'C'},
        {"prop", required_argument, NULL, 'X'},
        {"token-file", required_argument, NULL, 'K'},
        {"debug", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *bootstrap = NULL, *topic = NULL, *client_id = NULL, *token_file = NULL;
    long long timeout_ms = 30000;
    int debug = 0, c;
    char **props = calloc((size_t) argc, sizeof(char *));
    int nprops = 0;
    char errstr[512];

    if (props == NULL)
        return HOOP_EXIT_ERROR;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bootstrap = optarg; break;
        case 't': topic = optarg; break;
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
    if (bootstrap == NULL)
        hoop_usage("--bootstrap is required", NULL);
    if (hoop_debug_env())
        debug = 1;

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    hoop_set(conf, "bootstrap.servers", bootstrap);
    if (client_id)
        hoop_set(conf, "client.id", client_id);
    if (debug)
        hoop_set(conf, "debug", "broker,security");
    if (token_file)
        hoop_conf_token_file(conf, token_file, debug);
    for (int i = 0; i < nprops; i++)
        hoop_set_prop(conf, props[i]);
    rd_kafka_conf_set_error_cb(conf, error_cb);

    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "error: rd_kafka_new: %s\n", errstr);
        return HOOP_EXIT_ERROR;
    }
    hoop_token_background(rk);
    rd_kafka_topic_t *rkt = topic ? rd_kafka_topic_new(rk, topic, NULL) : NULL;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, rkt == NULL, rkt, &md, (int) timeout_ms);
    int rc = 0;
    if (err) {
        fprintf(stderr, "metadata failed: %s%s%s\n", rd_kafka_err2str(err),
                fatal_err ? ": " : "", fatal_err ? fatal_str : "");
        rc = HOOP_EXIT_ERROR;
    } else {
        rd_kafka_metadata_broker_t *b = calloc((size_t) md->broker_cnt + 1, sizeof(*b));
        memcpy(b, md->brokers, sizeof(*b) * (size_t) md->broker_cnt);
        qsort(b, (size_t) md->broker_cnt, sizeof(*b), by_id);
        putchar('[');
        for (int i = 0; i < md->broker_cnt; i++) {
            printf("%s{\"id\":%d,\"host\":", i ? "," : "", (int) b[i].id);
            hoop_json_str(stdout, b[i].host, strlen(b[i].host));
            printf(",\"port\":%d}", b[i].port);
        }
        puts("]");
        free(b);
        rd_kafka_metadata_destroy(md);
    }
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(props);
    return rc;
}
