/*
 * libFuzzer target for what the gateway and hoopctl read of approvals
 * (src/approval/hoop_approval.c; docs/approvals.md): anyone who can write
 * to Redis can publish on P approvals:notify, so notices are untrusted.
 *
 *   mode 0  a message of channel P approvals:notify:
 *           hoop_approval_notice_parse(); an accepted one has a valid id
 *           and a NUL-terminated reason
 *   mode 1  a reply of the approval script, built from the input: five
 *           elements (NUL-separated: state, id, flag, ms, detail; numbers
 *           as integers when they are), or an error reply;
 *           hoop_approval_reply_parse()
 *   mode 2  the Kafka answer's message with the input as the reason
 *   mode 3  a duration of the policy language: an accepted one formats
 *           back to a text that parses to the same milliseconds
 *
 *   make -C fuzz smoke-approval [SECONDS=60]   (see approval.mk)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hoop_approval.h"


static void
fuzz_notice(const uint8_t *data, size_t size)
{
    hoop_approval_notice_t  n;

    if (hoop_approval_notice_parse((const char *) data, size, &n) == 0) {
        if (!hoop_approval_id_valid(n.id, strlen(n.id))
            || n.event == HOOP_APPROVAL_NONE
            || memchr(n.reason, '\0', sizeof(n.reason)) == NULL)
        {
            abort();
        }
    }
}


static void
fuzz_reply(const uint8_t *data, size_t size)
{
    size_t                  i, k, start;
    char                   *copy, *end;
    redisReply              r, e[5], *el[5];
    hoop_approval_reply_t   rep;
    hoop_approval_err_t     err;

    copy = malloc(size + 1);
    if (copy == NULL) {
        return;
    }

    memcpy(copy, data, size);
    copy[size] = '\0';

    memset(&r, 0, sizeof(r));
    memset(e, 0, sizeof(e));

    if (size > 0 && copy[0] == '-') {
        r.type = REDIS_REPLY_ERROR;
        r.str = copy + 1;
        r.len = size - 1;

    } else {
        r.type = REDIS_REPLY_ARRAY;
        r.element = el;
        start = 0;
        k = 0;

        for (i = 0; i <= size && k < 5; i++) {
            if (i < size && copy[i] != '\0') {
                continue;
            }

            el[k] = &e[k];
            e[k].str = copy + start;
            e[k].len = i - start;
            e[k].type = REDIS_REPLY_STRING;

            if (e[k].len > 0 && e[k].len < 20) {
                e[k].integer = strtoll(e[k].str, &end, 10);
                if (*end == '\0') {
                    e[k].type = REDIS_REPLY_INTEGER;
                }
            }

            k++;
            start = i + 1;
        }

        r.elements = k;
    }

    err = hoop_approval_reply_parse(&r, &rep);

    if (err == HOOP_APPROVAL_OK
        && (!hoop_approval_id_valid(rep.id, strlen(rep.id))
            || rep.state == HOOP_APPROVAL_NONE || rep.ms < 0))
    {
        abort();
    }

    if (err != HOOP_APPROVAL_OK && rep.state != HOOP_APPROVAL_NONE) {
        abort();
    }

    free(copy);
}


static void
fuzz_message(const uint8_t *data, size_t size)
{
    char               buf[128];
    size_t             n;
    hoop_policy_str_t  reason;

    reason.data = (const char *) data;
    reason.len = size;

    n = hoop_approval_kafka_message(buf, sizeof(buf), HOOP_APPROVAL_DENIED,
                                    "abcdefgh27", reason);
    if (n >= sizeof(buf) || strlen(buf) != n) {
        abort();
    }
}


static void
fuzz_duration(const uint8_t *data, size_t size)
{
    int64_t  ms, again;
    char     buf[40];

    if (hoop_policy_duration_parse((const char *) data, size, &ms) != 0) {
        return;
    }

    hoop_policy_duration_format(ms, buf, sizeof(buf));

    if (hoop_policy_duration_parse(buf, strlen(buf), &again) != 0
        || again != ms)
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }

    switch (data[0] & 3) {
    case 0:
        fuzz_notice(data + 1, size - 1);
        break;
    case 1:
        fuzz_reply(data + 1, size - 1);
        break;
    case 2:
        fuzz_message(data + 1, size - 1);
        break;
    default:
        fuzz_duration(data + 1, size - 1);
        break;
    }

    return 0;
}
