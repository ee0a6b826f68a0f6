/*
 * libFuzzer target for what a Sentinel client reads (src/redis/
 * hoop_sentinel.c): the input is RESP bytes, parsed by hiredis' reader as a
 * sentinel's or Redis's answer would be, each reply given to the
 * get-master-addr-by-name and ROLE readers; the input as a whole is also
 * read as a +switch-master message for the master "mymaster".
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "redis/hoop_sentinel.h"


/*
 * hiredis 0.14 allocates an array reply's element pointers when it reads
 * the header ("*N"), before the elements: inputs declaring more than 1024
 * elements are left out (their cost is hiredis', not the readers').
 */
static int
fuzz_sentinel_too_many(const uint8_t *data, size_t size)
{
    size_t  i, j, n;

    for (i = 0; i < size; i++) {
        if (data[i] != '*') {
            continue;
        }

        for (n = 0, j = i + 1; j < size && data[j] >= '0' && data[j] <= '9';
             j++)
        {
            n = n * 10 + (data[j] - '0');

            if (n > 1024) {
                return 1;
            }
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           port, n;
    char          host[HOOP_SENTINEL_HOST_LEN];
    void         *reply;
    size_t        len;
    const char   *role;
    redisReader  *rd;

    if (hoop_sentinel_switch((const char *) data, size, "mymaster", 8, host,
                             sizeof(host), &port))
    {
        if (port < 1 || port > 65535 || strlen(host) == 0) {
            __builtin_trap();
        }
    }

    if (fuzz_sentinel_too_many(data, size)) {
        return 0;
    }

    rd = redisReaderCreate();
    if (rd == NULL) {
        return 0;
    }

    if (redisReaderFeed(rd, (const char *) data, size) != REDIS_OK) {
        redisReaderFree(rd);
        return 0;
    }

    for (n = 0; n < 64; n++) {
        reply = NULL;

        if (redisReaderGetReply(rd, &reply) != REDIS_OK || reply == NULL) {
            break;
        }

        if (hoop_sentinel_master_addr(reply, host, sizeof(host), &port)
            == NULL
            && (port < 1 || port > 65535 || strlen(host) == 0))
        {
            __builtin_trap();
        }

        (void) hoop_sentinel_role(reply, &role, &len);

        freeReplyObject(reply);
    }

    redisReaderFree(rd);

    return 0;
}
