/*
 * A bound on the arrays a Redis reply may announce.
 *
 * hiredis allocates an array reply's element pointers as soon as it reads
 * the "*<count>" header, before any element arrives; hiredis 0.14 (Debian
 * 12) has no limit, so "*2147483647\r\n" from a hostile or broken server
 * reserves 16 GiB in the worker, and nested arrays multiply it.  Newer
 * hiredis has redisReader.maxelements (default 2^32 - 1).  This wraps the
 * reader's createArray so that a count above HOOP_REDIS_MAX_ELEMENTS (or a
 * negative one) fails the reply: hiredis then closes the connection as on
 * any reader error ("Out of memory" in 0.14), and the owner reconnects.
 *
 * The largest legitimate arrays are HGETALL of the credentials hash (two
 * elements per user) and subscription messages; 4 Mi elements is 2 Mi
 * users, and at most 32 MiB of pointers per nesting level.
 *
 * Plain C with hiredis, no nginx.  Not thread-safe (one table per process).
 */

#ifndef HOOP_REDIS_LIMIT_H
#define HOOP_REDIS_LIMIT_H

#include <stddef.h>

#include <hiredis/hiredis.h>


#define HOOP_REDIS_MAX_ELEMENTS  (4 * 1024 * 1024)


/* called with the refused count, before hiredis reports the error */
typedef void (*hoop_redis_refused_pt)(long long elements);


/*
 * hoop_redis_reader_limit: make reader r refuse arrays of more than
 * HOOP_REDIS_MAX_ELEMENTS elements; refused, if not NULL, is told each
 * refusal (the process keeps the last one given).  Call it on a context's
 * reader (redisContext.reader, redisAsyncContext.c.reader) before the
 * first reply is read.
 */
void hoop_redis_reader_limit(redisReader *r, hoop_redis_refused_pt refused);


#endif /* HOOP_REDIS_LIMIT_H */
