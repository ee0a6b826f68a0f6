/*
 * A bound on the arrays a Redis reply may announce (see hoop_redis_limit.h).
 */

#include "hoop_redis_limit.h"


#if defined(HIREDIS_MAJOR) && HIREDIS_MAJOR >= 1
typedef size_t  hoop_redis_count_t;     /* hiredis 1.x: size_t elements */
#else
typedef int     hoop_redis_count_t;     /* hiredis 0.14: int elements */
#endif


static void *hoop_redis_create_array(const redisReadTask *task,
    hoop_redis_count_t elements);


/* hiredis' own functions, and the table with createArray wrapped */
static const redisReplyObjectFunctions  *hoop_redis_default_fn;
static redisReplyObjectFunctions         hoop_redis_limited_fn;
static hoop_redis_refused_pt             hoop_redis_refused;


void
hoop_redis_reader_limit(redisReader *r, hoop_redis_refused_pt refused)
{
    hoop_redis_refused = refused;

    if (r == NULL || r->fn == NULL || r->fn == &hoop_redis_limited_fn) {
        return;
    }

    if (hoop_redis_default_fn == NULL) {
        /* every reader starts with hiredis' static defaultFunctions */
        hoop_redis_default_fn = r->fn;
        hoop_redis_limited_fn = *r->fn;
        hoop_redis_limited_fn.createArray = hoop_redis_create_array;
    }

    if (r->fn != hoop_redis_default_fn) {
        return;                          /* someone else's functions */
    }

    r->fn = &hoop_redis_limited_fn;

#if defined(HIREDIS_MAJOR) && HIREDIS_MAJOR >= 1
    /* hiredis' own check, with a clearer error than a failed allocation */
    r->maxelements = HOOP_REDIS_MAX_ELEMENTS;
#endif
}


static void *
hoop_redis_create_array(const redisReadTask *task, hoop_redis_count_t elements)
{
    long long  n;

    n = (long long) elements;

    if (n < 0 || n > HOOP_REDIS_MAX_ELEMENTS) {
        if (hoop_redis_refused) {
            hoop_redis_refused(n);
        }

        return NULL;                     /* hiredis: a reader error */
    }

    return hoop_redis_default_fn->createArray(task, elements);
}
