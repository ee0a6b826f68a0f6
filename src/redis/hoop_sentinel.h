/*
 * What a Redis Sentinel client reads (plain C99 + hiredis, no nginx; the
 * fuzz target fuzz/fuzz_sentinel.c runs it): the reply to SENTINEL
 * get-master-addr-by-name, the reply to ROLE, and the +switch-master
 * message (https://redis.io/docs/reference/sentinel-clients/).
 */

#ifndef _HOOP_SENTINEL_H_INCLUDED_
#define _HOOP_SENTINEL_H_INCLUDED_


#include <stddef.h>

#include <hiredis/hiredis.h>


/* fits an IPv6 address in text, with its NUL */
#define HOOP_SENTINEL_HOST_LEN  64


/*
 * r: the reply to SENTINEL get-master-addr-by-name NAME, an array of two
 * bulk strings [host, port] (nil: the sentinel does not monitor NAME).
 * host must be a numeric IPv4 or IPv6 address: workers never resolve
 * names.  Fills host (size bytes, NUL-terminated) and *port (1..65535).
 * Returns NULL, or why not (a static string).
 */
const char *hoop_sentinel_master_addr(const redisReply *r, char *host,
    size_t size, int *port);

/*
 * r: the reply to ROLE.  Returns 1 for "master", 0 for another role
 * (*role, *role_len: its name, within r), -1 for a reply that is not one.
 */
int hoop_sentinel_role(const redisReply *r, const char **role,
    size_t *role_len);

/*
 * msg: a +switch-master message, "NAME OLD-IP OLD-PORT NEW-IP NEW-PORT".
 * Returns 1 when it is about the master name (name_len bytes) and the new
 * address is sound (numeric host into host, size bytes; *port), else 0.
 */
int hoop_sentinel_switch(const char *msg, size_t len, const char *name,
    size_t name_len, char *host, size_t size, int *port);


#endif /* _HOOP_SENTINEL_H_INCLUDED_ */
