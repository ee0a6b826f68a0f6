/*
 * Redis Sentinel replies and messages (see hoop_sentinel.h).  Every length
 * comes from hiredis or the caller; nothing is assumed NUL-terminated.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "hoop_sentinel.h"


/* decimal 1..65535, the whole of s; else -1 */
static int
hoop_sentinel_port(const char *s, size_t len)
{
    int     n;
    size_t  i;

    if (len == 0 || len > 5) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        n = n * 10 + (s[i] - '0');
    }

    return (n >= 1 && n <= 65535) ? n : -1;
}


/* a numeric address into host; 0 or -1 */
static int
hoop_sentinel_host(const char *s, size_t len, char *host, size_t size)
{
    unsigned char  buf[sizeof(struct in6_addr)];

    if (len == 0 || len >= size || memchr(s, '\0', len) != NULL) {
        return -1;
    }

    memcpy(host, s, len);
    host[len] = '\0';

    if (inet_pton(AF_INET, host, buf) != 1
        && inet_pton(AF_INET6, host, buf) != 1)
    {
        host[0] = '\0';
        return -1;
    }

    return 0;
}


const char *
hoop_sentinel_master_addr(const redisReply *r, char *host, size_t size,
    int *port)
{
    int                n;
    const redisReply  *h, *p;

    if (r->type == REDIS_REPLY_ERROR) {
        return "error";
    }

    if (r->type == REDIS_REPLY_NIL) {
        return "not monitored by this sentinel";
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || r->element[0]->type != REDIS_REPLY_STRING
        || r->element[1]->type != REDIS_REPLY_STRING)
    {
        return "unexpected reply";
    }

    h = r->element[0];
    p = r->element[1];

    n = hoop_sentinel_port(p->str, p->len);

    if (n < 0) {
        return "bad port in the reply";
    }

    if (hoop_sentinel_host(h->str, h->len, host, size) != 0) {
        return "not an IP address (workers do not resolve names: set "
               "resolve-hostnames no, or announce IP addresses)";
    }

    *port = n;

    return NULL;
}


int
hoop_sentinel_role(const redisReply *r, const char **role, size_t *role_len)
{
    const redisReply  *e;

    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0
        || r->element[0]->type != REDIS_REPLY_STRING)
    {
        return -1;
    }

    e = r->element[0];

    *role = e->str;
    *role_len = e->len;

    return (e->len == 6 && memcmp(e->str, "master", 6) == 0) ? 1 : 0;
}


int
hoop_sentinel_switch(const char *msg, size_t len, const char *name,
    size_t name_len, char *host, size_t size, int *port)
{
    int          n;
    size_t       i, flen[5];
    const char  *p, *last, *sp, *f[5];

    p = msg;
    last = msg + len;

    /* five fields separated by single spaces, nothing after the last */
    for (i = 0; i < 5; i++) {
        sp = memchr(p, ' ', (size_t) (last - p));

        if (i < 4 && sp == NULL) {
            return 0;
        }

        if (i == 4) {
            if (sp != NULL) {
                return 0;
            }

            sp = last;
        }

        f[i] = p;
        flen[i] = (size_t) (sp - p);
        p = sp + 1;
    }

    if (flen[0] != name_len || memcmp(f[0], name, name_len) != 0) {
        return 0;
    }

    n = hoop_sentinel_port(f[4], flen[4]);

    if (n < 0 || hoop_sentinel_host(f[3], flen[3], host, size) != 0) {
        return 0;
    }

    *port = n;

    return 1;
}
