/*
 * hoop-rdkafka-equiv: the librdkafka equivalence driver of t/071-policy-equivalence.t.
 * Runs a script of client operations (librdkafka admin, producer and consumer APIs) and prints
 * one JSON line per operation: {"id":ID,"result":"OK"|KAFKA_ERROR_NAME,"detail":...,"ms":N}.
 * The result is the error librdkafka reports (rd_kafka_err2name: Kafka's names, local errors
 * with a leading underscore), so one script run against a broker and against the gateway can be
 * compared line by line. Script and operations: the same as the Java driver's (hoop.Equiv), see
 * t/clients/README.md, "Equivalence drivers"; operations librdkafka 2.0.2 has no API for are
 * refused with exit 2.
 *
 *   hoop-rdkafka-equiv --bootstrap HOST:PORT --ssl-ca CA.pem --script FILE
 */
#include "hoop-rdkafka-common.h"

#include <time.h>

#define TIMEOUT_MS 10000

static const char *bootstrap, *ssl_ca, *cert, *key;
static rd_kafka_t *admin_rk;       /* per principal: a producer handle used for admin calls */

/* the current operation's outcome */
static char result[128];
static char *detail;
static size_t detail_len;
static FILE *dout;                 /* writes into detail */

static void set_result(rd_kafka_resp_err_t err)
{
    snprintf(result, sizeof(result), "%s", err ? rd_kafka_err2name(err) : "OK");
}

/* keep the first error of a multi-entry answer (entries come in request order) */
static void first_error(rd_kafka_resp_err_t err)
{
    if (err && strcmp(result, "OK") == 0)
        set_result(err);
}

static void dstr(const char *s)
{
    hoop_json_str(dout, s, s ? strlen(s) : 0);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ handles */

static rd_kafka_conf_t *conf_new(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    hoop_set(conf, "bootstrap.servers", bootstrap);
    hoop_set(conf, "security.protocol", "SSL");
    hoop_set(conf, "ssl.ca.location", ssl_ca);
    hoop_set(conf, "ssl.certificate.location", cert);
    hoop_set(conf, "ssl.key.location", key);
    hoop_set(conf, "socket.timeout.ms", "5000");
    hoop_set(conf, "reconnect.backoff.max.ms", "500");
    hoop_set(conf, "log_level", hoop_debug_env() ? "7" : "3");
    if (hoop_debug_env())
        hoop_set(conf, "debug", "broker,protocol,cgrp,eos,admin");
    return conf;
}

static rd_kafka_t *new_handle(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));

    if (rk == NULL) {
        fprintf(stderr, "rd_kafka_new: %s\n", err);
        exit(HOOP_EXIT_ERROR);
    }
    return rk;
}

static rd_kafka_t *admin(void)
{
    if (admin_rk == NULL) {
        rd_kafka_conf_t *conf = conf_new();
        hoop_set(conf, "allow.auto.create.topics", "false");
        admin_rk = new_handle(RD_KAFKA_PRODUCER, conf);
    }
    return admin_rk;
}

static void as(const char *c, const char *k)
{
    if (admin_rk) {
        rd_kafka_destroy(admin_rk);
        admin_rk = NULL;
    }
    cert = c;
    key = k;
}

/* ------------------------------------------------------------------ admin calls */

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_admin_op_t op)
{
    char err[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(admin(), op);

    rd_kafka_AdminOptions_set_request_timeout(o, TIMEOUT_MS, err, sizeof(err));
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS
        || op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS || op == RD_KAFKA_ADMIN_OP_DELETERECORDS)
        rd_kafka_AdminOptions_set_operation_timeout(o, TIMEOUT_MS, err, sizeof(err));
    return o;
}

/* Waits for the result of an admin call; NULL (result set) when the request failed as a whole. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, TIMEOUT_MS + 5000);

    if (ev == NULL) {
        set_result(RD_KAFKA_RESP_ERR__TIMED_OUT);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        set_result(rd_kafka_event_error(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static void partitions_detail(const rd_kafka_topic_partition_list_t *l, int offsets)
{
    fputc('{', dout);
    for (int i = 0; l && i < l->cnt; i++) {
        char name[512];
        snprintf(name, sizeof(name), "%s-%d", l->elems[i].topic, (int) l->elems[i].partition);
        if (i) fputc(',', dout);
        dstr(name);
        fputc(':', dout);
        if (l->elems[i].err)
            dstr(rd_kafka_err2name(l->elems[i].err));
        else if (offsets)
            fprintf(dout, "%lld", (long long) l->elems[i].offset);
        else
            dstr("OK");
        first_error(l->elems[i].err);
    }
    fputc('}', dout);
}

static rd_kafka_topic_partition_list_t *one_partition(const char *topic, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, 0)->offset = offset;
    return l;
}

static void topics_detail(const rd_kafka_topic_result_t **r, size_t n)
{
    fputc('{', dout);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(r[i]);
        if (i) fputc(',', dout);
        dstr(rd_kafka_topic_result_name(r[i]));
        fputc(':', dout);
        dstr(err ? rd_kafka_err2name(err) : "OK");
        first_error(err);
    }
    fputc('}', dout);
}

/* create-topics PARTITIONS T... */
static void op_create_topics(char **a, int n)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_NewTopic_t *t[16];
    char err[256];
    rd_kafka_event_t *ev;
    size_t cnt;
    int k = 0;

    for (int i = 1; i < n && k < 16; i++)
        t[k++] = rd_kafka_NewTopic_new(a[i], atoi(a[0]), 1, err, sizeof(err));
    rd_kafka_CreateTopics(admin(), t, k, admin_options(RD_KAFKA_ADMIN_OP_CREATETOPICS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_topic_result_t **r =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
        topics_detail(r, cnt);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_NewTopic_destroy_array(t, k);
    rd_kafka_queue_destroy(q);
}

/* delete-topics T... */
static void op_delete_topics(char **a, int n)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_DeleteTopic_t *t[16];
    rd_kafka_event_t *ev;
    size_t cnt;
    int k = 0;

    for (int i = 0; i < n && k < 16; i++)
        t[k++] = rd_kafka_DeleteTopic_new(a[i]);
    rd_kafka_DeleteTopics(admin(), t, k, admin_options(RD_KAFKA_ADMIN_OP_DELETETOPICS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_topic_result_t **r =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &cnt);
        topics_detail(r, cnt);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_DeleteTopic_destroy_array(t, k);
    rd_kafka_queue_destroy(q);
}

static void op_create_partitions(char **a)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    char err[256];
    rd_kafka_NewPartitions_t *p = rd_kafka_NewPartitions_new(a[0], atoi(a[1]), err, sizeof(err));
    rd_kafka_event_t *ev;
    size_t n;

    rd_kafka_CreatePartitions(admin(), &p, 1, admin_options(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_topic_result_t **r = rd_kafka_CreatePartitions_result_topics(
            rd_kafka_event_CreatePartitions_result(ev), &n);
        for (size_t i = 0; i < n; i++)
            first_error(rd_kafka_topic_result_error(r[i]));
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_NewPartitions_destroy(p);
    rd_kafka_queue_destroy(q);
}

static void op_delete_records(char **a)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_topic_partition_list_t *l = one_partition(a[0], atoll(a[1]));
    rd_kafka_DeleteRecords_t *d = rd_kafka_DeleteRecords_new(l);
    rd_kafka_event_t *ev;

    rd_kafka_DeleteRecords(admin(), &d, 1, admin_options(RD_KAFKA_ADMIN_OP_DELETERECORDS), q);
    if ((ev = admin_wait(q))) {
        partitions_detail(rd_kafka_DeleteRecords_result_offsets(
            rd_kafka_event_DeleteRecords_result(ev)), 1);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_DeleteRecords_destroy(d);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_queue_destroy(q);
}

static rd_kafka_ResourceType_t restype(const char *s)
{
    return strcmp(s, "topic") == 0 ? RD_KAFKA_RESOURCE_TOPIC
         : strcmp(s, "group") == 0 ? RD_KAFKA_RESOURCE_GROUP : RD_KAFKA_RESOURCE_BROKER;
}

/* describe-configs TYPE NAME [KEY]: the value of KEY (cleanup.policy) */
static void op_describe_configs(char **a, int n)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_ConfigResource_t *c = rd_kafka_ConfigResource_new(restype(a[0]), a[1]);
    const char *want = n > 2 ? a[2] : "cleanup.policy";
    rd_kafka_event_t *ev;
    size_t cnt, ecnt;

    rd_kafka_DescribeConfigs(admin(), &c, 1, admin_options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_ConfigResource_t **r = rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
            first_error(rd_kafka_ConfigResource_error(r[i]));
            if (rd_kafka_ConfigResource_error(r[i]))
                continue;
            const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(r[i], &ecnt);
            const char *v = NULL;
            for (size_t j = 0; j < ecnt; j++)
                if (strcmp(rd_kafka_ConfigEntry_name(e[j]), want) == 0)
                    v = rd_kafka_ConfigEntry_value(e[j]);
            fputs("{\"value\":", dout);
            dstr(v);
            fputc('}', dout);
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_ConfigResource_destroy(c);
    rd_kafka_queue_destroy(q);
}

/* describe-configs-multi TYPE:NAME...: each resource's outcome */
static void op_describe_configs_multi(char **a, int n)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_ConfigResource_t *c[16];
    rd_kafka_event_t *ev;
    size_t cnt;
    int k = 0;

    for (int i = 0; i < n && k < 16; i++) {
        char *colon = strchr(a[i], ':');
        if (colon == NULL)
            hoop_usage("describe-configs-multi TYPE:NAME...", a[i]);
        *colon = '\0';
        c[k++] = rd_kafka_ConfigResource_new(restype(a[i]), colon + 1);
    }
    rd_kafka_DescribeConfigs(admin(), c, k, admin_options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_ConfigResource_t **r = rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(ev), &cnt);
        fputc('{', dout);
        for (size_t i = 0; i < cnt; i++) {
            char name[600];
            rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(r[i]);
            snprintf(name, sizeof(name), "%s:%s",
                     rd_kafka_ResourceType_name(rd_kafka_ConfigResource_type(r[i])),
                     rd_kafka_ConfigResource_name(r[i]));
            if (i) fputc(',', dout);
            dstr(name);
            fputc(':', dout);
            dstr(err ? rd_kafka_err2name(err) : "OK");
            first_error(err);
        }
        fputc('}', dout);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_ConfigResource_destroy_array(c, k);
    rd_kafka_queue_destroy(q);
}

/* alter-configs-legacy TYPE NAME KEY VALUE: AlterConfigs (33), the non-incremental form */
static void op_alter_configs(char **a)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_ConfigResource_t *c = rd_kafka_ConfigResource_new(restype(a[0]), a[1]);
    rd_kafka_event_t *ev;
    size_t cnt;

    rd_kafka_ConfigResource_set_config(c, a[2], a[3]);
    rd_kafka_AlterConfigs(admin(), &c, 1, admin_options(RD_KAFKA_ADMIN_OP_ALTERCONFIGS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_ConfigResource_t **r = rd_kafka_AlterConfigs_result_resources(
            rd_kafka_event_AlterConfigs_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++)
            first_error(rd_kafka_ConfigResource_error(r[i]));
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_ConfigResource_destroy(c);
    rd_kafka_queue_destroy(q);
}

static void group_results(const rd_kafka_group_result_t **r, size_t n, int offsets)
{
    fputc('{', dout);
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_error_t *e = rd_kafka_group_result_error(r[i]);
        if (i) fputc(',', dout);
        dstr(rd_kafka_group_result_name(r[i]));
        fputc(':', dout);
        if (e) {
            first_error(rd_kafka_error_code(e));
            dstr(rd_kafka_error_name(e));
        } else if (offsets) {
            partitions_detail(rd_kafka_group_result_partitions(r[i]), 1);
        } else {
            dstr("OK");
        }
    }
    fputc('}', dout);
}

static void op_delete_groups(char **a, int n)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_DeleteGroup_t *g[16];
    rd_kafka_event_t *ev;
    size_t cnt;

    for (int i = 0; i < n; i++)
        g[i] = rd_kafka_DeleteGroup_new(a[i]);
    rd_kafka_DeleteGroups(admin(), g, n, admin_options(RD_KAFKA_ADMIN_OP_DELETEGROUPS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_group_result_t **r =
            rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &cnt);
        group_results(r, cnt, 0);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_DeleteGroup_destroy_array(g, n);
    rd_kafka_queue_destroy(q);
}

static void op_list_group_offsets(char **a)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_ListConsumerGroupOffsets_t *l = rd_kafka_ListConsumerGroupOffsets_new(a[0], NULL);
    rd_kafka_event_t *ev;
    size_t cnt;

    rd_kafka_ListConsumerGroupOffsets(admin(), &l, 1,
        admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_group_result_t **r = rd_kafka_ListConsumerGroupOffsets_result_groups(
            rd_kafka_event_ListConsumerGroupOffsets_result(ev), &cnt);
        group_results(r, cnt, 1);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_ListConsumerGroupOffsets_destroy(l);
    rd_kafka_queue_destroy(q);
}

/* list-group-offsets-of GROUP T...: the committed offsets of partition 0 of those topics */
static void op_list_group_offsets_of(char **a, int n)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_topic_partition_list_t *p = rd_kafka_topic_partition_list_new(n);
    rd_kafka_ListConsumerGroupOffsets_t *l;
    rd_kafka_event_t *ev;
    size_t cnt;

    for (int i = 1; i < n; i++)
        rd_kafka_topic_partition_list_add(p, a[i], 0);
    l = rd_kafka_ListConsumerGroupOffsets_new(a[0], p);
    rd_kafka_ListConsumerGroupOffsets(admin(), &l, 1,
        admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_group_result_t **r = rd_kafka_ListConsumerGroupOffsets_result_groups(
            rd_kafka_event_ListConsumerGroupOffsets_result(ev), &cnt);
        group_results(r, cnt, 1);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_ListConsumerGroupOffsets_destroy(l);
    rd_kafka_topic_partition_list_destroy(p);
    rd_kafka_queue_destroy(q);
}

/* alter-group-offsets GROUP T OFFSET [T OFFSET]...: partition 0 of each */
static void op_alter_group_offsets(char **a, int n)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_topic_partition_list_t *p = rd_kafka_topic_partition_list_new(n / 2);
    rd_kafka_AlterConsumerGroupOffsets_t *l;
    rd_kafka_event_t *ev;
    size_t cnt;

    for (int i = 1; i + 1 < n; i += 2)
        rd_kafka_topic_partition_list_add(p, a[i], 0)->offset = atoll(a[i + 1]);
    l = rd_kafka_AlterConsumerGroupOffsets_new(a[0], p);

    rd_kafka_AlterConsumerGroupOffsets(admin(), &l, 1,
        admin_options(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_group_result_t **r = rd_kafka_AlterConsumerGroupOffsets_result_groups(
            rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &cnt);
        group_results(r, cnt, 1);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AlterConsumerGroupOffsets_destroy(l);
    rd_kafka_topic_partition_list_destroy(p);
    rd_kafka_queue_destroy(q);
}

static void op_delete_group_offsets(char **a)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_topic_partition_list_t *p = one_partition(a[1], RD_KAFKA_OFFSET_INVALID);
    rd_kafka_DeleteConsumerGroupOffsets_t *d = rd_kafka_DeleteConsumerGroupOffsets_new(a[0], p);
    rd_kafka_event_t *ev;
    size_t cnt;

    rd_kafka_DeleteConsumerGroupOffsets(admin(), &d, 1,
        admin_options(RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_group_result_t **r = rd_kafka_DeleteConsumerGroupOffsets_result_groups(
            rd_kafka_event_DeleteConsumerGroupOffsets_result(ev), &cnt);
        fputc('{', dout);
        for (size_t i = 0; i < cnt; i++) {
            const rd_kafka_error_t *e = rd_kafka_group_result_error(r[i]);
            if (e) {
                first_error(rd_kafka_error_code(e));
                continue;
            }
            const rd_kafka_topic_partition_list_t *l = rd_kafka_group_result_partitions(r[i]);
            for (int j = 0; l && j < l->cnt; j++) {
                char name[512];
                snprintf(name, sizeof(name), "%s-%d", l->elems[j].topic, (int) l->elems[j].partition);
                dstr(name);
                fputc(':', dout);
                dstr(rd_kafka_err2name(l->elems[j].err));
                first_error(l->elems[j].err);
            }
        }
        fputc('}', dout);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_DeleteConsumerGroupOffsets_destroy(d);
    rd_kafka_topic_partition_list_destroy(p);
    rd_kafka_queue_destroy(q);
}

static void op_describe_groups(char **a, int n)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_event_t *ev;
    size_t cnt;

    rd_kafka_DescribeConsumerGroups(admin(), (const char **) a, n,
        admin_options(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_ConsumerGroupDescription_t **g = rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(ev), &cnt);
        fputc('{', dout);
        for (size_t i = 0; i < cnt; i++) {
            const rd_kafka_error_t *e = rd_kafka_ConsumerGroupDescription_error(g[i]);
            if (i) fputc(',', dout);
            dstr(rd_kafka_ConsumerGroupDescription_group_id(g[i]));
            fputc(':', dout);
            if (e) {
                first_error(rd_kafka_error_code(e));
                dstr(rd_kafka_error_name(e));
                continue;
            }
            fputs("{\"state\":", dout);
            dstr(rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(g[i])));
            fprintf(dout, ",\"members\":%zu}", rd_kafka_ConsumerGroupDescription_member_count(g[i]));
        }
        fputc('}', dout);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char * const *) a, *(char * const *) b);
}

static void names_detail(const char **names, size_t n)
{
    qsort(names, n, sizeof(*names), cmp_str);
    fputc('[', dout);
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', dout);
        dstr(names[i]);
    }
    fputc(']', dout);
}

static void op_list_groups(void)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    rd_kafka_event_t *ev;
    size_t cnt, ecnt;

    rd_kafka_ListConsumerGroups(admin(), admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_ListConsumerGroups_result_t *r = rd_kafka_event_ListConsumerGroups_result(ev);
        const rd_kafka_ConsumerGroupListing_t **g = rd_kafka_ListConsumerGroups_result_valid(r, &cnt);
        const rd_kafka_error_t **e = rd_kafka_ListConsumerGroups_result_errors(r, &ecnt);
        const char **names = calloc(cnt + 1, sizeof(*names));
        for (size_t i = 0; i < cnt; i++)
            names[i] = rd_kafka_ConsumerGroupListing_group_id(g[i]);
        for (size_t i = 0; i < ecnt; i++)
            first_error(rd_kafka_error_code(e[i]));
        names_detail(names, cnt);
        free(names);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
}

static void op_describe_acls(void)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    char err[256];
    rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(RD_KAFKA_RESOURCE_ANY, NULL,
        RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, NULL, RD_KAFKA_ACL_OPERATION_ANY,
        RD_KAFKA_ACL_PERMISSION_TYPE_ANY, err, sizeof(err));
    rd_kafka_event_t *ev;

    rd_kafka_DescribeAcls(admin(), f, admin_options(RD_KAFKA_ADMIN_OP_DESCRIBEACLS), q);
    if ((ev = admin_wait(q)))
        rd_kafka_event_destroy(ev);
    rd_kafka_AclBinding_destroy(f);
    rd_kafka_queue_destroy(q);
}

static void op_create_acls(char **a)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(admin());
    char err[256], principal[512];
    rd_kafka_AclBinding_t *b;
    rd_kafka_event_t *ev;
    size_t cnt;

    snprintf(principal, sizeof(principal), "User:%s", a[1]);
    b = rd_kafka_AclBinding_new(RD_KAFKA_RESOURCE_TOPIC, a[0], RD_KAFKA_RESOURCE_PATTERN_LITERAL,
        principal, "*", RD_KAFKA_ACL_OPERATION_READ, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
        err, sizeof(err));
    rd_kafka_CreateAcls(admin(), &b, 1, admin_options(RD_KAFKA_ADMIN_OP_CREATEACLS), q);
    if ((ev = admin_wait(q))) {
        const rd_kafka_acl_result_t **r =
            rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++)
            if (rd_kafka_acl_result_error(r[i]))
                first_error(rd_kafka_error_code(rd_kafka_acl_result_error(r[i])));
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AclBinding_destroy(b);
    rd_kafka_queue_destroy(q);
}

/* ------------------------------------------------------------------ metadata, offsets */

static void op_list_topics(void)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(admin(), 1, NULL, &md, TIMEOUT_MS);

    set_result(err);
    if (err)
        return;
    const char **names = calloc(md->topic_cnt + 1, sizeof(*names));
    size_t n = 0;
    for (int i = 0; i < md->topic_cnt; i++)
        if (md->topics[i].err == 0)
            names[n++] = md->topics[i].topic;
    names_detail(names, n);
    free(names);
    rd_kafka_metadata_destroy(md);
}

/* describe-topics T...: one Metadata request naming them all (a fresh handle whose only known
 * topics are these); each topic's error or partition count */
static void op_describe_topics(char **a, int n)
{
    rd_kafka_conf_t *conf = conf_new();
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt[16];
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err;
    int k = 0;

    hoop_set(conf, "allow.auto.create.topics", "false");
    rk = new_handle(RD_KAFKA_PRODUCER, conf);
    for (int i = 0; i < n && k < 16; i++)
        rkt[k++] = rd_kafka_topic_new(rk, a[i], NULL);
    err = rd_kafka_metadata(rk, 0, NULL, &md, TIMEOUT_MS);
    set_result(err);
    if (!err) {
        fputc('{', dout);
        for (int i = 0; i < k; i++) {
            rd_kafka_resp_err_t terr = RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
            int parts = 0;
            for (int j = 0; j < md->topic_cnt; j++)
                if (strcmp(md->topics[j].topic, a[i]) == 0) {
                    terr = md->topics[j].err;
                    parts = md->topics[j].partition_cnt;
                }
            if (i) fputc(',', dout);
            dstr(a[i]);
            fputc(':', dout);
            if (terr)
                dstr(rd_kafka_err2name(terr));
            else
                fprintf(dout, "{\"partitions\":%d}", parts);
            first_error(terr);
        }
        fputc('}', dout);
        rd_kafka_metadata_destroy(md);
    }
    for (int i = 0; i < k; i++)
        rd_kafka_topic_destroy(rkt[i]);
    rd_kafka_destroy(rk);
}

/* metadata-autocreate TOPIC: a producer's Metadata request, which may create the topic
 * (allow.auto.create.topics); asked again while the topic is being created */
static void op_metadata_autocreate(char **a)
{
    rd_kafka_conf_t *conf = conf_new();
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    rd_kafka_resp_err_t err;
    long long end = now_ms() + TIMEOUT_MS;
    int parts = 0;

    hoop_set(conf, "allow.auto.create.topics", "true");
    rk = new_handle(RD_KAFKA_PRODUCER, conf);
    rkt = rd_kafka_topic_new(rk, a[0], NULL);
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        err = rd_kafka_metadata(rk, 0, rkt, &md, TIMEOUT_MS);
        if (!err && md->topic_cnt == 1) {
            err = md->topics[0].err;
            parts = md->topics[0].partition_cnt;
        }
        if (md)
            rd_kafka_metadata_destroy(md);
        if ((err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE
             && err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
             && !(err == 0 && parts == 0))
            || now_ms() > end)
            break;
        rd_kafka_poll(rk, 100);   /* wait a little: the topic is being created */
    }
    set_result(err);
    if (!err)
        fprintf(dout, "{\"partitions\":%d}", parts);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}


static void op_list_offsets(char **a)
{
    int64_t lo, hi;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(admin(), a[0], 0, &lo, &hi, TIMEOUT_MS);

    set_result(err);
    if (!err)
        fprintf(dout, "{\"earliest\":%lld,\"latest\":%lld}", (long long) lo, (long long) hi);
}

/* ------------------------------------------------------------------ producers */

static rd_kafka_resp_err_t delivery_err;
static int delivered;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void) rk; (void) opaque;
    delivery_err = m->err;
    delivered = 1;
}

static rd_kafka_t *producer(const char *acks, int idem, const char *txid)
{
    rd_kafka_conf_t *conf = conf_new();

    hoop_set(conf, "acks", acks);
    hoop_set(conf, "enable.idempotence", idem ? "true" : "false");
    hoop_set(conf, "message.timeout.ms", "10000");
    hoop_set(conf, "linger.ms", "0");
    if (!idem)
        hoop_set(conf, "retries", "0");
    if (txid) {
        hoop_set(conf, "transactional.id", txid);
        hoop_set(conf, "transaction.timeout.ms", "30000");
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    return new_handle(RD_KAFKA_PRODUCER, conf);
}

/* produces one record to partition 0 and waits for its delivery report */
static rd_kafka_resp_err_t produce_one(rd_kafka_t *rk, const char *topic, const char *k)
{
    long long end = now_ms() + TIMEOUT_MS + 5000;
    rd_kafka_resp_err_t err;

    delivered = 0;
    delivery_err = 0;
    err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                            RD_KAFKA_V_KEY(k, strlen(k)), RD_KAFKA_V_VALUE((void *) k, strlen(k)),
                            RD_KAFKA_V_END);
    if (err)
        return err;
    while (!delivered && now_ms() < end) {
        rd_kafka_poll(rk, 100);
        /* an idempotent producer without permission fails fatally, not per record */
        char why[256];
        rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk, why, sizeof(why));
        if (fatal)
            return fatal;
    }
    return delivered ? delivery_err : RD_KAFKA_RESP_ERR__TIMED_OUT;
}

/* produce-multi ACKS T...: a record to each topic (one Produce request when they share a
 * broker: linger), each delivery's outcome */
static rd_kafka_resp_err_t multi_err[16];
static int multi_done;

static void multi_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void) rk; (void) opaque;
    multi_err[(intptr_t) m->_private] = m->err;
    multi_done++;
}

static void op_produce_multi(char **a, int n)
{
    rd_kafka_conf_t *conf = conf_new();
    rd_kafka_t *rk;
    long long end = now_ms() + TIMEOUT_MS + 5000;
    int k = 0;

    hoop_set(conf, "acks", a[0]);
    hoop_set(conf, "enable.idempotence", "false");
    hoop_set(conf, "message.timeout.ms", "10000");
    hoop_set(conf, "linger.ms", "200");
    hoop_set(conf, "retries", "0");
    rd_kafka_conf_set_dr_msg_cb(conf, multi_dr_cb);
    rk = new_handle(RD_KAFKA_PRODUCER, conf);
    multi_done = 0;
    for (int i = 0; i < 16; i++)
        multi_err[i] = RD_KAFKA_RESP_ERR__TIMED_OUT;   /* until its delivery report */
    for (int i = 1; i < n && k < 16; i++, k++) {
        rd_kafka_resp_err_t err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(a[i]),
            RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE("multi", 5),
            RD_KAFKA_V_OPAQUE((void *) (intptr_t) k), RD_KAFKA_V_END);
        if (err) {
            multi_err[k] = err;
            multi_done++;
        }
    }
    while (multi_done < k && now_ms() < end)
        rd_kafka_poll(rk, 100);
    fputc('{', dout);
    for (int i = 0; i < k; i++) {
        rd_kafka_resp_err_t err = multi_err[i];
        if (i) fputc(',', dout);
        dstr(a[i + 1]);
        fputc(':', dout);
        dstr(err ? rd_kafka_err2name(err) : "OK");
    }
    fputc('}', dout);
    for (int i = 0; i < k; i++)         /* the result: the first error, in topic order */
        first_error(multi_err[i]);
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(rk);
}

static void op_produce(char **a, int idem)
{
    rd_kafka_t *rk = producer(idem ? "all" : a[1], idem, NULL);

    set_result(produce_one(rk, a[0], "k"));
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(rk);
}

/* produce-txn TXID TOPICS GROUP OFFSET_TOPICS: a record to each topic and offset 1 of partition 0
 * of each offset topic (comma-separated lists) in one committed transaction */
static void op_produce_txn(char **a)
{
    rd_kafka_t *rk = producer("all", 1, a[0]);
    rd_kafka_error_t *e;
    rd_kafka_resp_err_t err;
    const char *stage = "init";

    if ((e = rd_kafka_init_transactions(rk, TIMEOUT_MS)))
        goto failed;
    stage = "begin";
    if ((e = rd_kafka_begin_transaction(rk)))
        goto failed;
    stage = "send";
    {
        char *save = NULL, *topics = strdup(a[1]);
        for (char *t = strtok_r(topics, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if ((err = produce_one(rk, t, "txn")))
                break;
        free(topics);
        if (err) {
            set_result(err);
            goto done;
        }
    }
    stage = "offsets";
    {
        char *save = NULL, *topics = strdup(a[3]);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
        for (char *t = strtok_r(topics, ",", &save); t; t = strtok_r(NULL, ",", &save))
            rd_kafka_topic_partition_list_add(l, t, 0)->offset = 1;
        free(topics);
        rd_kafka_consumer_group_metadata_t *g = rd_kafka_consumer_group_metadata_new(a[2]);
        e = rd_kafka_send_offsets_to_transaction(rk, l, g, TIMEOUT_MS);
        rd_kafka_consumer_group_metadata_destroy(g);
        rd_kafka_topic_partition_list_destroy(l);
        if (e)
            goto failed;
    }
    stage = "commit";
    if ((e = rd_kafka_commit_transaction(rk, TIMEOUT_MS)))
        goto failed;
    stage = "done";
    set_result(0);
    goto done;

failed:
    set_result(rd_kafka_error_code(e));
    rd_kafka_error_destroy(e);
done:
    fprintf(dout, "{\"stage\":\"%s\"}", stage);
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(rk);
}

/* ------------------------------------------------------------------ consumers */

static rd_kafka_t *consumer(const char *group)
{
    rd_kafka_conf_t *conf = conf_new();

    if (group)          /* without one no group coordinator is involved (assign mode) */
        hoop_set(conf, "group.id", group);
    hoop_set(conf, "auto.offset.reset", "earliest");
    hoop_set(conf, "enable.auto.commit", "false");
    hoop_set(conf, "enable.auto.offset.store", "true");
    hoop_set(conf, "heartbeat.interval.ms", "200");
    hoop_set(conf, "allow.auto.create.topics", "false");
    return new_handle(RD_KAFKA_CONSUMER, conf);
}

/* polls until n records arrive or an error is reported; returns the error */
static rd_kafka_resp_err_t poll_records(rd_kafka_t *rk, int n, int *got)
{
    long long end = now_ms() + TIMEOUT_MS + 5000;

    while (*got < n && now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (m == NULL)
            continue;
        rd_kafka_resp_err_t err = m->err;
        if (err == 0)
            (*got)++;
        rd_kafka_message_destroy(m);
        if (err && err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            return err;
    }
    return 0;
}

/* consume-group TOPIC GROUP N PROTOCOL (classic only in librdkafka 2.0.2) */
static void op_consume_group(char **a)
{
    rd_kafka_t *rk = consumer(a[1]);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t err;
    const char *stage = "poll";
    int got = 0;

    rd_kafka_topic_partition_list_add(sub, a[0], RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if ((err = poll_records(rk, atoi(a[2]), &got)))
        goto done;
    stage = "commit";
    err = rd_kafka_commit(rk, NULL, 0);
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        err = 0;        /* nothing consumed: nothing to commit (Java: a no-op) */
    if (err)
        goto done;
    stage = "committed";
    {
        rd_kafka_topic_partition_list_t *l = one_partition(a[0], RD_KAFKA_OFFSET_INVALID);
        err = rd_kafka_committed(rk, l, TIMEOUT_MS);
        if (!err)
            err = l->elems[0].err;
        if (!err)
            fprintf(dout, "{\"records\":%d,\"committed\":%lld}", got, (long long) l->elems[0].offset);
        rd_kafka_topic_partition_list_destroy(l);
    }
done:
    set_result(err);
    if (err)
        fprintf(dout, "{\"stage\":\"%s\",\"records\":%d}", stage, got);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* consume-assign TOPIC N: partition 0 from the beginning, no group.  librdkafka's simple
 * consumer (rd_kafka_assign() and rd_kafka_consumer_poll() need a group.id, whose
 * coordinator lookup would race with the topic's errors); it does not report a topic it may
 * not describe, so the topic's metadata is asked first, as the Java consumer does. */
static void op_consume_assign(char **a)
{
    rd_kafka_t *rk = consumer(NULL);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, a[0], NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err;
    long long end = now_ms() + TIMEOUT_MS + 5000;
    int got = 0, n = atoi(a[1]);

    err = rd_kafka_metadata(rk, 0, rkt, &md, TIMEOUT_MS);
    if (!err && md->topic_cnt == 1)
        err = md->topics[0].err;
    if (md)
        rd_kafka_metadata_destroy(md);
    if (!err && rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_BEGINNING) == -1)
        err = rd_kafka_last_error();
    while (!err && got < n && now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consume(rkt, 0, 200);
        if (m == NULL)
            continue;
        if (m->err == 0)
            got++;
        else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            err = m->err;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consume_stop(rkt, 0);     /* harmless when not started */
    set_result(err);
    fprintf(dout, "{\"records\":%d}", got);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}


/* ------------------------------------------------------------------ main */

static int run(const char *op, char **a, int n)
{
#define OP(name, min) (strcmp(op, name) == 0 && (n >= (min) || (hoop_usage(op, "needs more arguments"), 0)))
    if (OP("list-topics", 0)) op_list_topics();
    else if (OP("describe-topics", 1)) op_describe_topics(a, n);
    else if (OP("metadata-autocreate", 1)) op_metadata_autocreate(a);
    else if (OP("produce", 2)) op_produce(a, 0);
    else if (OP("produce-idempotent", 1)) op_produce(a, 1);
    else if (OP("produce-txn", 4)) op_produce_txn(a);
    else if (OP("consume-group", 4)) op_consume_group(a);
    else if (OP("consume-assign", 2)) op_consume_assign(a);
    else if (OP("list-offsets", 1)) op_list_offsets(a);
    else if (OP("list-group-offsets", 1)) op_list_group_offsets(a);
    else if (OP("alter-group-offsets", 3)) op_alter_group_offsets(a, n);
    else if (OP("delete-group-offsets", 2)) op_delete_group_offsets(a);
    else if (OP("describe-groups", 1)) op_describe_groups(a, n > 16 ? 16 : n);
    else if (OP("list-groups", 0)) op_list_groups();
    else if (OP("delete-groups", 1)) op_delete_groups(a, n > 16 ? 16 : n);
    else if (OP("create-topics", 2)) op_create_topics(a, n);
    else if (OP("delete-topics", 1)) op_delete_topics(a, n);
    else if (OP("describe-configs-multi", 1)) op_describe_configs_multi(a, n);
    else if (OP("produce-multi", 2)) op_produce_multi(a, n);
    else if (OP("list-group-offsets-of", 2)) op_list_group_offsets_of(a, n);
    else if (OP("create-partitions", 2)) op_create_partitions(a);
    else if (OP("delete-records", 2)) op_delete_records(a);
    else if (OP("describe-configs", 2)) op_describe_configs(a, n);
    else if (OP("alter-configs-legacy", 4)) op_alter_configs(a);
    else if (OP("describe-acls", 0)) op_describe_acls();
    else if (OP("create-acls", 2)) op_create_acls(a);
    else return -1;
    return 0;
#undef OP
}

int main(int argc, char **argv)
{
    char line[4096], *tok[64];
    const char *script = NULL;
    FILE *f;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--bootstrap") == 0) bootstrap = argv[i + 1];
        else if (strcmp(argv[i], "--ssl-ca") == 0) ssl_ca = argv[i + 1];
        else if (strcmp(argv[i], "--script") == 0) script = argv[i + 1];
        else hoop_usage("unknown option", argv[i]);
    }
    if (!bootstrap || !ssl_ca || !script)
        hoop_usage("hoop-rdkafka-equiv --bootstrap HOST:PORT --ssl-ca CA --script FILE", NULL);
    if ((f = fopen(script, "r")) == NULL) {
        perror(script);
        return HOOP_EXIT_USAGE;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    while (fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#'), *s;
        int n = 0;

        if (hash) *hash = '\0';
        for (s = strtok(line, " \t\r\n"); s && n < 64; s = strtok(NULL, " \t\r\n"))
            tok[n++] = s;
        if (n == 0)
            continue;
        if (strcmp(tok[0], "as") == 0) {
            if (n < 4) hoop_usage("as NAME CERT KEY", NULL);
            as(strdup(tok[2]), strdup(tok[3]));
            continue;
        }
        if (n < 2) hoop_usage("ID OP ARG...", tok[0]);

        long long t0 = now_ms();
        snprintf(result, sizeof(result), "OK");
        dout = open_memstream(&detail, &detail_len);
        if (run(tok[1], tok + 2, n - 2) < 0)
            hoop_usage("unknown operation", tok[1]);
        fclose(dout);
        printf("{\"id\":");
        hoop_json_str(stdout, tok[0], strlen(tok[0]));
        printf(",\"result\":\"%s\",\"detail\":%s,\"ms\":%lld}\n", result,
               detail_len ? detail : "null", now_ms() - t0);
        free(detail);
        detail = NULL;
    }
    fclose(f);
    if (admin_rk)
        rd_kafka_destroy(admin_rk);
    return 0;
}
