/*
 * Where the gateway's Redis is: the hoop_redis directive (address,
 * key prefix, password file), and the names of the keys and channels the
 * module reads there (docs/redis-layout.md, shared with tools/hoopctl).
 */

#ifndef _HOOP_REDIS_CONF_H_INCLUDED_
#define _HOOP_REDIS_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "../session/hoop_session.h"


#define HOOP_REDIS_DEFAULT_PORT     6379
#define HOOP_REDIS_DEFAULT_PREFIX   "hoop:"
#define HOOP_REDIS_MAX_PREFIX       128
#define HOOP_REDIS_MAX_SENTINELS    16

/* names after the prefix (docs/redis-layout.md) */
#define HOOP_REDIS_POLICY_CURRENT   "policy:current"   /* string: N */
#define HOOP_REDIS_POLICY_VERSION   "policy:v:"        /* hash, + N */
#define HOOP_REDIS_POLICY_CHANNEL   "policy:notify"    /* pub/sub */
#define HOOP_REDIS_JWKS_KEY         "oauth:jwks"       /* string: JSON */
#define HOOP_REDIS_JWKS_SHA256      "oauth:jwks:sha256" /* string: hex */
#define HOOP_REDIS_CREDS_KEY        "credentials"      /* hash: user, line */
#define HOOP_REDIS_CREDS_SHA256     "credentials:sha256" /* string: hex */


/* a sentinel's address, resolved like host and port below */
typedef struct {
    char                 *host;
    int                   port;
} hoop_redis_addr_t;


struct hoop_redis_conf_s {
    ngx_str_t             name;       /* as written, for logs */

    /*
     * The address, resolved when the configuration is read: workers never
     * resolve names (hiredis would, synchronously).  host is a numeric
     * address or, with port 0, the path of a Unix socket; NUL-terminated.
     */
    char                 *host;
    int                   port;

    ngx_str_t             prefix;     /* "hoop:" */
    ngx_str_t             user;       /* user=NAME (Redis 6 ACL); or empty */
    ngx_str_t             password;   /* from password=FILE; empty: none */

    /*
     * The Sentinel form (master.len != 0): host and port are unset; the
     * address of the master is asked of the sentinels on every connect.
     */
    ngx_str_t             master;     /* master=NAME */
    hoop_redis_addr_t    *sentinels;
    ngx_uint_t            nsentinels;
    ngx_str_t             sentinel_user;      /* sentinel_user=NAME */
    ngx_str_t             sentinel_password;  /* sentinel_password=FILE */
};


/*
 * hoop_redis HOST:PORT | unix:PATH [prefix=P] [user=NAME] [password=FILE];
 * hoop_redis sentinel=HOST:PORT[,HOST:PORT...] master=NAME [prefix=P]
 *     [user=NAME] [password=FILE] [sentinel_user=NAME]
 *     [sentinel_password=FILE];
 * (stream main level)
 */
char *hoop_redis_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * PREFIX NAME, with the decimal number n appended when n > 0, into buf
 * (size bytes, NUL-terminated).  Returns the length, or 0 when it does
 * not fit.
 */
size_t hoop_redis_key(hoop_redis_conf_t *rc, const char *name, int64_t n,
    u_char *buf, size_t size);


#endif /* _HOOP_REDIS_CONF_H_INCLUDED_ */
