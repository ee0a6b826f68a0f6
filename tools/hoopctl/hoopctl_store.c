/*
 * hoopctl: the policy store in Redis (docs/redis-layout.md), with hiredis'
 * synchronous API.
 *
 * Every change (push, rollback) is one Lua script: Redis runs it
 * atomically, so a version is never half written, "current" never points
 * at a version that is not complete, and the history, the pointer and the
 * notice always agree.  A script is not rolled back when a command in it
 * fails, so each script checks everything that could fail (key types, the
 * counter) before its first write.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "hoopctl.h"


#define HOOPCTL_CONNECT_TIMEOUT   2     /* seconds */
#define HOOPCTL_COMMAND_TIMEOUT   10    /* seconds */


/*
 * push
 *   KEYS[1] seq, KEYS[2] current, KEYS[3] history
 *   ARGV[1] prefix, ARGV[2] sha256, ARGV[3] event tail (a JSON object:
 *   time_ms, author, comment, file), ARGV[4] channel, ARGV[5..] the
 *   version's fields and values
 * returns { created (0 or 1), version, previous (0: none) }
 */
static const char  hoopctl_push_lua[] =
    "local prefix, sha = ARGV[1], ARGV[2]\n"
    "local cur = redis.call('GET', KEYS[2])\n"
    "if cur and not string.match(cur, '^[1-9]%d*$') then\n"
    "  return redis.error_reply(KEYS[2] .. ' is not a version number')\n"
    "end\n"
    "if cur and redis.call('HGET', prefix .. 'policy:v:' .. cur,"
    " 'sha256') == sha then\n"
    "  return { 0, tonumber(cur), tonumber(cur) }\n"
    "end\n"
    "local seq = redis.call('GET', KEYS[1]) or '0'\n"
    "if not string.match(seq, '^%d+$') then\n"
    "  return redis.error_reply(KEYS[1] .. ' is not a number')\n"
    "end\n"
    "local n = tonumber(seq) + 1\n"
    "local vkey = prefix .. 'policy:v:' .. n\n"
    "if redis.call('EXISTS', vkey) == 1 then\n"
    "  return redis.error_reply(vkey .. ' exists already: ' .. KEYS[1]"
    " .. ' is behind the stored versions')\n"
    "end\n"
    "local t = redis.call('TYPE', KEYS[3]).ok\n"
    "if t ~= 'none' and t ~= 'list' then\n"
    "  return redis.error_reply(KEYS[3] .. ' is not a list')\n"
    "end\n"
    "redis.call('INCR', KEYS[1])\n"
    "local f = { 'version', tostring(n) }\n"
    "for i = 5, #ARGV do f[#f + 1] = ARGV[i] end\n"
    "redis.call('HSET', vkey, unpack(f))\n"
    "redis.call('SET', KEYS[2], n)\n"
    "redis.call('RPUSH', KEYS[3], '{\"event\":\"push\",\"version\":' .. n"
    " .. ',\"previous\":' .. (cur or 'null') .. ',\"sha256\":\"' .. sha"
    " .. '\",' .. string.sub(ARGV[3], 2))\n"
    "redis.call('PUBLISH', ARGV[4], '{\"version\":' .. n"
    " .. ',\"sha256\":\"' .. sha .. '\"}')\n"
    "return { 1, n, tonumber(cur or '0') }\n";


/*
 * rollback
 *   KEYS[1] current, KEYS[2] history
 *   ARGV[1] prefix, ARGV[2] version, ARGV[3] event tail, ARGV[4] channel
 * returns { changed (-1: no such version, 0: current already, 1), version,
 * previous }
 */
static const char  hoopctl_rollback_lua[] =
    "local v = ARGV[2]\n"
    "local sha = redis.call('HGET', ARGV[1] .. 'policy:v:' .. v, 'sha256')\n"
    "if not sha then return { -1, 0, 0 } end\n"
    "if not string.match(sha, '^%x+$') then\n"
    "  return redis.error_reply('version ' .. v .. ' has a bad sha256')\n"
    "end\n"
    "local cur = redis.call('GET', KEYS[1])\n"
    "if cur and not string.match(cur, '^[1-9]%d*$') then\n"
    "  return redis.error_reply(KEYS[1] .. ' is not a version number')\n"
    "end\n"
    "if cur == v then return { 0, tonumber(v), tonumber(v) } end\n"
    "local t = redis.call('TYPE', KEYS[2]).ok\n"
    "if t ~= 'none' and t ~= 'list' then\n"
    "  return redis.error_reply(KEYS[2] .. ' is not a list')\n"
    "end\n"
    "redis.call('SET', KEYS[1], v)\n"
    "redis.call('RPUSH', KEYS[2], '{\"event\":\"rollback\",\"version\":'"
    " .. v .. ',\"previous\":' .. (cur or 'null') .. ',\"sha256\":\"'"
    " .. sha .. '\",' .. string.sub(ARGV[3], 2))\n"
    "redis.call('PUBLISH', ARGV[4], '{\"version\":' .. v"
    " .. ',\"sha256\":\"' .. sha .. '\"}')\n"
    "return { 1, tonumber(v), tonumber(cur or '0') }\n";


/* HMGET order of a version's fields */
static const char  *hoopctl_version_fields[] = {
    "text", "format", "canonical", "sha256", "author", "comment", "file",
    "time_ms"
};

#define HOOPCTL_NFIELDS \
    (sizeof(hoopctl_version_fields) / sizeof(hoopctl_version_fields[0]))


static redisReply *hoopctl_store_run(hoopctl_store_t *s, int argc,
    const char **argv, const size_t *lens);
static int hoopctl_store_auth(hoopctl_store_t *s);
static int hoopctl_store_connect(hoopctl_store_t *s, const char *addr);
static int hoopctl_store_connect_plain(hoopctl_store_t *s, const char *addr);
static int hoopctl_store_sentinel(hoopctl_store_t *s, const char *list,
    const char *master);
static int hoopctl_store_ask(const char *addr, const char *master,
    char *host, size_t size, long *port);
static char *hoopctl_event_tail(int64_t time_ms, const char *author,
    const char *comment, const char *file);


/*
 * HOOP_SENTINEL (--sentinel HOST:PORT,...) and HOOP_MASTER (--master
 * NAME), when set, replace addr: the master the sentinels report.
 */
int
hoopctl_store_open(hoopctl_store_t *s, const char *addr, const char *prefix)
{
    const char  *list, *master;

    memset(s, 0, sizeof(*s));
    s->prefix = prefix;

    list = getenv("HOOP_SENTINEL");

    if (list != NULL && list[0] != '\0') {
        master = getenv("HOOP_MASTER");

        if (master == NULL || master[0] == '\0') {
            hoopctl_error("--sentinel needs --master NAME (HOOP_MASTER)");
            return HOOPCTL_ERROR;
        }

        return hoopctl_store_sentinel(s, list, master);
    }

    snprintf(s->where, sizeof(s->where), "%s", addr);

    return hoopctl_store_connect(s, addr);
}


/*
 * Redis's Sentinel client steps: ask each sentinel in turn for the
 * master's address (SENTINEL get-master-addr-by-name), connect there and
 * check with ROLE that it is the master; a sentinel that fails or points
 * to a non-master is passed over.  HOOP_SENTINEL_PASSWORD (and
 * HOOP_SENTINEL_USER) authenticate with the sentinels.
 */
static int
hoopctl_store_sentinel(hoopctl_store_t *s, const char *list,
    const char *master)
{
    int          ok;
    char        *copy, *one, *next, host[64], addr[80];
    long         port;
    redisReply  *r;

    copy = hoopctl_strndup(list, strlen(list));
    ok = 0;

    for (one = copy; one != NULL; one = next) {
        next = strchr(one, ',');
        if (next != NULL) {
            *next++ = '\0';
        }

        if (hoopctl_store_ask(one, master, host, sizeof(host), &port)
            != HOOPCTL_OK)
        {
            continue;
        }

        snprintf(addr, sizeof(addr), strchr(host, ':') ? "[%s]:%ld"
                                                        : "%s:%ld",
                 host, port);
        snprintf(s->where, sizeof(s->where), "%s (master \"%s\" by "
                 "sentinel %s)", addr, master, one);

        if (hoopctl_store_connect(s, addr) != HOOPCTL_OK) {
            continue;
        }

        r = redisCommand(s->ctx, "ROLE");

        if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0
            && r->element[0]->type == REDIS_REPLY_STRING
            && strcmp(r->element[0]->str, "master") == 0)
        {
            freeReplyObject(r);
            ok = 1;
            break;
        }

        hoopctl_error("Redis at %s is not the master (ROLE)", s->where);

        if (r != NULL) {
            freeReplyObject(r);
        }

        hoopctl_store_close(s);
    }

    free(copy);

    if (!ok) {
        hoopctl_error("no sentinel of %s led to master \"%s\"", list,
                      master);
        return HOOPCTL_ERROR;
    }

    return HOOPCTL_OK;
}


/* one sentinel's answer: the master's host (as reported) and port */
static int
hoopctl_store_ask(const char *addr, const char *master, char *host,
    size_t size, long *port)
{
    int              rc;
    char            *end;
    const char      *pass, *user;
    redisReply      *r;
    hoopctl_store_t  t;

    memset(&t, 0, sizeof(t));
    snprintf(t.where, sizeof(t.where), "sentinel %s", addr);

    /* the sentinel's own credentials, not the master's */
    if (hoopctl_store_connect_plain(&t, addr) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    pass = getenv("HOOP_SENTINEL_PASSWORD");
    user = getenv("HOOP_SENTINEL_USER");

    if (pass != NULL && pass[0] != '\0') {
        r = (user != NULL && user[0] != '\0')
            ? redisCommand(t.ctx, "AUTH %s %s", user, pass)
            : redisCommand(t.ctx, "AUTH %s", pass);

        if (r != NULL) {
            freeReplyObject(r);
        }
    }

    rc = HOOPCTL_ERROR;

    r = redisCommand(t.ctx, "SENTINEL get-master-addr-by-name %s", master);

    if (r == NULL) {
        hoopctl_error("%s: %s", t.where,
                      t.ctx->errstr[0] ? t.ctx->errstr : "no answer");

    } else if (r->type == REDIS_REPLY_ERROR) {
        hoopctl_error("%s: %.*s", t.where, (int) r->len, r->str);

    } else if (r->type == REDIS_REPLY_NIL) {
        hoopctl_error("%s does not monitor a master \"%s\"", t.where,
                      master);

    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
               || r->element[0]->type != REDIS_REPLY_STRING
               || r->element[1]->type != REDIS_REPLY_STRING
               || r->element[0]->len == 0 || r->element[0]->len >= size
               || (*port = strtol(r->element[1]->str, &end, 10)) < 1
               || *port > 65535 || *end != '\0')
    {
        hoopctl_error("%s: unexpected reply to SENTINEL "
                      "get-master-addr-by-name", t.where);

    } else {
        memcpy(host, r->element[0]->str, r->element[0]->len + 1);
        rc = HOOPCTL_OK;
    }

    if (r != NULL) {
        freeReplyObject(r);
    }

    hoopctl_store_close(&t);

    return rc;
}


/* addr as --redis takes it, authenticated with HOOP_REDIS_PASSWORD */
static int
hoopctl_store_connect(hoopctl_store_t *s, const char *addr)
{
    if (hoopctl_store_connect_plain(s, addr) != HOOPCTL_OK) {
        return HOOPCTL_ERROR;
    }

    if (hoopctl_store_auth(s) != HOOPCTL_OK) {
        hoopctl_store_close(s);
        return HOOPCTL_ERROR;
    }

    return HOOPCTL_OK;
}


/* HOST:PORT, [IPV6]:PORT, /PATH or unix:PATH; s->where is set */
static int
hoopctl_store_connect_plain(hoopctl_store_t *s, const char *addr)
{
    char            *copy, *name, *portstr, *p, *end;
    long             port;
    struct timeval   tv;

    tv.tv_sec = HOOPCTL_CONNECT_TIMEOUT;
    tv.tv_usec = 0;

    if (strncmp(addr, "unix:", 5) == 0 || addr[0] == '/') {
        s->ctx = redisConnectUnixWithTimeout(addr[0] == '/' ? addr : addr + 5,
                                             tv);

    } else {
        copy = hoopctl_strndup(addr, strlen(addr));
        name = copy;
        portstr = NULL;

        if (name[0] == '[') {
            /* [IPV6]:PORT or [IPV6] */
            p = strchr(name, ']');
            if (p == NULL || (p[1] != '\0' && p[1] != ':')) {
                goto bad;
            }
            *p = '\0';
            portstr = p[1] == ':' ? p + 2 : NULL;
            name++;

        } else {
            /* HOST:PORT or HOST; a bare IPv6 address has several colons */
            p = strchr(name, ':');
            if (p != NULL && strchr(p + 1, ':') == NULL) {
                *p = '\0';
                portstr = p + 1;
            }
        }

        port = 6379;

        if (portstr != NULL) {
            port = strtol(portstr, &end, 10);
            if (portstr[0] < '0' || portstr[0] > '9' || *end != '\0'
                || port < 1 || port > 65535)
            {
                goto bad;
            }
        }

        if (name[0] == '\0') {
            goto bad;
        }

        s->ctx = redisConnectWithTimeout(name, (int) port, tv);
        free(copy);
    }

    if (s->ctx == NULL || s->ctx->err) {
        hoopctl_error("cannot connect to Redis at %s: %s", s->where,
                      s->ctx ? s->ctx->errstr : "out of memory");
        hoopctl_store_close(s);
        return HOOPCTL_ERROR;
    }

    tv.tv_sec = HOOPCTL_COMMAND_TIMEOUT;
    if (redisSetTimeout(s->ctx, tv) != REDIS_OK) {
        hoopctl_error("Redis at %s: cannot set a timeout", s->where);
        hoopctl_store_close(s);
        return HOOPCTL_ERROR;
    }

    return HOOPCTL_OK;

bad:

    free(copy);
    hoopctl_error("bad Redis address \"%s\" (HOST:PORT, [IPV6]:PORT, "
                  "/PATH or unix:PATH of a socket)", addr);
    return HOOPCTL_ERROR;
}


/* AUTH [USER] PASSWORD from HOOP_REDIS_USER, HOOP_REDIS_PASSWORD */
static int
hoopctl_store_auth(hoopctl_store_t *s)
{
    int          argc;
    const char  *argv[3], *user, *pass;
    redisReply  *r;

    pass = getenv("HOOP_REDIS_PASSWORD");
    if (pass == NULL || pass[0] == '\0') {
        return HOOPCTL_OK;
    }

    user = getenv("HOOP_REDIS_USER");

    argc = 0;
    argv[argc++] = "AUTH";
    if (user != NULL && user[0] != '\0') {
        argv[argc++] = user;
    }
    argv[argc++] = pass;

    r = hoopctl_store_run(s, argc, argv, NULL);
    if (r == NULL) {
        return HOOPCTL_ERROR;
    }

    freeReplyObject(r);
    return HOOPCTL_OK;
}


void
hoopctl_store_close(hoopctl_store_t *s)
{
    if (s->ctx != NULL) {
        redisFree(s->ctx);
        s->ctx = NULL;
    }
}


char *
hoopctl_store_key(const hoopctl_store_t *s, const char *name, uint64_t n)
{
    hoopctl_buf_t  b = { NULL, 0, 0 };

    hoopctl_buf_adds(&b, s->prefix);
    hoopctl_buf_adds(&b, name);
    if (n) {
        hoopctl_buf_printf(&b, "%llu", (unsigned long long) n);
    }

    return b.data;
}


/* one command; NULL (printed) on a transport error or an error reply */
static redisReply *
hoopctl_store_run(hoopctl_store_t *s, int argc, const char **argv,
    const size_t *lens)
{
    redisReply  *r;

    r = redisCommandArgv(s->ctx, argc, argv, lens);

    if (r == NULL) {
        hoopctl_error("Redis at %s: %s", s->where,
                      s->ctx->errstr[0] ? s->ctx->errstr : "no answer");
        return NULL;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        hoopctl_error("Redis at %s: %s: %.*s", s->where, argv[0],
                      (int) r->len, r->str);
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


static int
hoopctl_reply_uint(const redisReply *r, uint64_t *v)
{
    char  buf[24];

    if (r->type == REDIS_REPLY_INTEGER) {
        if (r->integer < 0) {
            return -1;
        }
        *v = (uint64_t) r->integer;
        return 0;
    }

    if (r->type != REDIS_REPLY_STRING || r->len == 0
        || r->len >= sizeof(buf))
    {
        return -1;
    }

    memcpy(buf, r->str, r->len);
    buf[r->len] = '\0';

    return hoopctl_parse_version(buf, v);
}


int
hoopctl_store_current(hoopctl_store_t *s, uint64_t *v)
{
    int          rc;
    char        *key;
    const char  *argv[2];
    redisReply  *r;

    key = hoopctl_store_key(s, HOOPCTL_KEY_CURRENT, 0);
    argv[0] = "GET";
    argv[1] = key;

    r = hoopctl_store_run(s, 2, argv, NULL);
    if (r == NULL) {
        free(key);
        return HOOPCTL_ERROR;
    }

    if (r->type == REDIS_REPLY_NIL) {
        rc = HOOPCTL_NO;

    } else if (hoopctl_reply_uint(r, v) == 0) {
        rc = HOOPCTL_OK;

    } else {
        hoopctl_error("Redis at %s: %s is not a version number", s->where,
                      key);
        rc = HOOPCTL_ERROR;
    }

    freeReplyObject(r);
    free(key);

    return rc;
}


int
hoopctl_store_version(hoopctl_store_t *s, uint64_t n, hoopctl_version_t *out)
{
    char                *key, buf[24];
    size_t               i, found;
    const char          *argv[2 + HOOPCTL_NFIELDS];
    redisReply          *r, *e;
    hoop_policy_str_t   *dst[HOOPCTL_NFIELDS - 1];
    hoop_policy_str_t    time_ms;

    memset(out, 0, sizeof(*out));
    time_ms.data = NULL;
    time_ms.len = 0;

    key = hoopctl_store_key(s, HOOPCTL_KEY_VERSION, n);
    argv[0] = "HMGET";
    argv[1] = key;
    for (i = 0; i < HOOPCTL_NFIELDS; i++) {
        argv[2 + i] = hoopctl_version_fields[i];
    }

    r = hoopctl_store_run(s, 2 + HOOPCTL_NFIELDS, argv, NULL);
    if (r == NULL) {
        free(key);
        return HOOPCTL_ERROR;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != HOOPCTL_NFIELDS) {
        hoopctl_error("Redis at %s: unexpected answer to HMGET %s", s->where,
                      key);
        goto failed;
    }

    dst[0] = &out->text;
    dst[1] = &out->format;
    dst[2] = &out->canonical;
    dst[3] = &out->sha256;
    dst[4] = &out->author;
    dst[5] = &out->comment;
    dst[6] = &out->file;

    found = 0;

    for (i = 0; i < HOOPCTL_NFIELDS; i++) {
        e = r->element[i];

        if (e->type == REDIS_REPLY_NIL) {
            continue;
        }

        if (e->type != REDIS_REPLY_STRING) {
            hoopctl_error("Redis at %s: %s field %s is not a string",
                          s->where, key, hoopctl_version_fields[i]);
            goto failed;
        }

        found++;

        if (i < HOOPCTL_NFIELDS - 1) {
            dst[i]->data = e->str;
            dst[i]->len = e->len;

        } else {
            time_ms.data = e->str;
            time_ms.len = e->len;
        }
    }

    if (found == 0) {
        freeReplyObject(r);
        free(key);
        return HOOPCTL_NO;
    }

    if (out->canonical.data == NULL || out->sha256.data == NULL
        || out->text.data == NULL)
    {
        hoopctl_error("Redis at %s: %s is incomplete (no text, canonical or "
                      "sha256)", s->where, key);
        goto failed;
    }

    out->time_ms = 0;
    if (time_ms.len > 0 && time_ms.len < sizeof(buf))
    {
        memcpy(buf, time_ms.data, time_ms.len);
        buf[time_ms.len] = '\0';
        out->time_ms = strtoll(buf, NULL, 10);
    }

    out->version = n;
    out->reply = r;
    free(key);

    return HOOPCTL_OK;

failed:

    freeReplyObject(r);
    free(key);
    memset(out, 0, sizeof(*out));
    return HOOPCTL_ERROR;
}


void
hoopctl_version_free(hoopctl_version_t *v)
{
    if (v->reply != NULL) {
        freeReplyObject(v->reply);
    }

    memset(v, 0, sizeof(*v));
}


/* {"time_ms":..,"author":..,"comment":..[,"file":..]} compact, in order */
static char *
hoopctl_event_tail(int64_t time_ms, const char *author, const char *comment,
    const char *file)
{
    char    *s;
    json_t  *j;

    j = json_object();
    json_object_set_new(j, "time_ms", json_integer(time_ms));
    json_object_set_new(j, "author", hoopctl_json_str(author));
    json_object_set_new(j, "comment", hoopctl_json_str(comment));
    if (file != NULL) {
        json_object_set_new(j, "file", hoopctl_json_str(file));
    }

    s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);

    if (s == NULL || s[0] != '{') {
        fputs("hoopctl: out of memory\n", stderr);
        exit(HOOPCTL_ERROR);
    }

    return s;
}


/* the three integers a script returns */
static int
hoopctl_script_result(hoopctl_store_t *s, redisReply *r, long long out[3])
{
    size_t  i;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        hoopctl_error("Redis at %s: unexpected answer from the script",
                      s->where);
        return -1;
    }

    for (i = 0; i < 3; i++) {
        if (r->element[i]->type != REDIS_REPLY_INTEGER) {
            hoopctl_error("Redis at %s: unexpected answer from the script",
                          s->where);
            return -1;
        }
        out[i] = r->element[i]->integer;
    }

    return 0;
}


int
hoopctl_store_push(hoopctl_store_t *s, const hoopctl_push_t *p,
    uint64_t *version, uint64_t *previous, int *created)
{
    int           rc, argc;
    char         *seq, *cur, *hist, *chan, *tail, ms[24];
    size_t        lens[32];
    long long     res[3];
    const char   *argv[32];
    redisReply   *r;

    seq = hoopctl_store_key(s, HOOPCTL_KEY_SEQ, 0);
    cur = hoopctl_store_key(s, HOOPCTL_KEY_CURRENT, 0);
    hist = hoopctl_store_key(s, HOOPCTL_KEY_HISTORY, 0);
    chan = hoopctl_store_key(s, HOOPCTL_CHANNEL, 0);
    tail = hoopctl_event_tail(p->time_ms, p->author, p->comment, p->file);
    snprintf(ms, sizeof(ms), "%lld", (long long) p->time_ms);

    argc = 0;

#define HOOPCTL_ARG(s, n)  argv[argc] = (s); lens[argc++] = (n)
#define HOOPCTL_ARGS(s)    HOOPCTL_ARG(s, strlen(s))

    HOOPCTL_ARGS("EVAL");
    HOOPCTL_ARG(hoopctl_push_lua, sizeof(hoopctl_push_lua) - 1);
    HOOPCTL_ARGS("3");
    HOOPCTL_ARGS(seq);
    HOOPCTL_ARGS(cur);
    HOOPCTL_ARGS(hist);
    HOOPCTL_ARGS(s->prefix);
    HOOPCTL_ARGS(p->sha256);
    HOOPCTL_ARGS(tail);
    HOOPCTL_ARGS(chan);
    HOOPCTL_ARGS("text");
    HOOPCTL_ARG(p->text, p->text_len);
    HOOPCTL_ARGS("format");
    HOOPCTL_ARGS(p->format);
    HOOPCTL_ARGS("canonical");
    HOOPCTL_ARG(p->canonical, p->canonical_len);
    HOOPCTL_ARGS("sha256");
    HOOPCTL_ARGS(p->sha256);
    HOOPCTL_ARGS("author");
    HOOPCTL_ARGS(p->author);
    HOOPCTL_ARGS("comment");
    HOOPCTL_ARGS(p->comment);
    HOOPCTL_ARGS("file");
    HOOPCTL_ARGS(p->file);
    HOOPCTL_ARGS("time_ms");
    HOOPCTL_ARGS(ms);

    r = hoopctl_store_run(s, argc, argv, lens);

    rc = HOOPCTL_ERROR;

    if (r != NULL) {
        if (hoopctl_script_result(s, r, res) == 0 && res[1] > 0) {
            *created = res[0] == 1;
            *version = (uint64_t) res[1];
            *previous = (uint64_t) res[2];
            rc = HOOPCTL_OK;
        }
        freeReplyObject(r);
    }

    free(seq);
    free(cur);
    free(hist);
    free(chan);
    free(tail);

    return rc;
}


int
hoopctl_store_rollback(hoopctl_store_t *s, uint64_t n, const char *author,
    const char *comment, int64_t time_ms, uint64_t *previous, int *changed)
{
    int           rc, argc;
    char         *cur, *hist, *chan, *tail, num[24];
    size_t        lens[16];
    long long     res[3];
    const char   *argv[16];
    redisReply   *r;

    cur = hoopctl_store_key(s, HOOPCTL_KEY_CURRENT, 0);
    hist = hoopctl_store_key(s, HOOPCTL_KEY_HISTORY, 0);
    chan = hoopctl_store_key(s, HOOPCTL_CHANNEL, 0);
    tail = hoopctl_event_tail(time_ms, author, comment, NULL);
    snprintf(num, sizeof(num), "%llu", (unsigned long long) n);

    argc = 0;

    HOOPCTL_ARGS("EVAL");
    HOOPCTL_ARG(hoopctl_rollback_lua, sizeof(hoopctl_rollback_lua) - 1);
    HOOPCTL_ARGS("2");
    HOOPCTL_ARGS(cur);
    HOOPCTL_ARGS(hist);
    HOOPCTL_ARGS(s->prefix);
    HOOPCTL_ARGS(num);
    HOOPCTL_ARGS(tail);
    HOOPCTL_ARGS(chan);

#undef HOOPCTL_ARG
#undef HOOPCTL_ARGS

    r = hoopctl_store_run(s, argc, argv, lens);

    rc = HOOPCTL_ERROR;

    if (r != NULL) {
        if (hoopctl_script_result(s, r, res) == 0) {
            if (res[0] < 0) {
                rc = HOOPCTL_NO;

            } else {
                *changed = res[0] == 1;
                *previous = (uint64_t) res[2];
                rc = HOOPCTL_OK;
            }
        }
        freeReplyObject(r);
    }

    free(cur);
    free(hist);
    free(chan);
    free(tail);

    return rc;
}


redisReply *
hoopctl_store_history(hoopctl_store_t *s)
{
    char        *key;
    const char  *argv[4];
    redisReply  *r;

    key = hoopctl_store_key(s, HOOPCTL_KEY_HISTORY, 0);
    argv[0] = "LRANGE";
    argv[1] = key;
    argv[2] = "0";
    argv[3] = "-1";

    r = hoopctl_store_run(s, 4, argv, NULL);

    if (r != NULL && r->type != REDIS_REPLY_ARRAY) {
        hoopctl_error("Redis at %s: unexpected answer to LRANGE %s",
                      s->where, key);
        freeReplyObject(r);
        r = NULL;
    }

    free(key);

    return r;
}


int
hoopctl_store_last_used(hoopctl_store_t *s, const char **ids, size_t n,
    int64_t *ms, int *present)
{
    int           rc;
    char         *key, buf[24], *end;
    size_t        i;
    long long     v;
    const char   *argv[2], **hargv;
    redisReply   *r, *e;

    for (i = 0; i < n; i++) {
        ms[i] = 0;
    }

    key = hoopctl_store_key(s, HOOPCTL_KEY_LAST_USED, 0);
    argv[0] = "EXISTS";
    argv[1] = key;

    r = hoopctl_store_run(s, 2, argv, NULL);
    if (r == NULL) {
        free(key);
        return HOOPCTL_ERROR;
    }

    *present = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
    freeReplyObject(r);

    if (!*present || n == 0) {
        free(key);
        return HOOPCTL_OK;
    }

    hargv = hoopctl_alloc((n + 2) * sizeof(const char *));
    hargv[0] = "HMGET";
    hargv[1] = key;
    for (i = 0; i < n; i++) {
        hargv[2 + i] = ids[i];
    }

    rc = HOOPCTL_ERROR;
    r = hoopctl_store_run(s, (int) (n + 2), hargv, NULL);

    if (r != NULL) {
        if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
            hoopctl_error("Redis at %s: unexpected answer to HMGET %s",
                          s->where, key);

        } else {
            for (i = 0; i < n; i++) {
                e = r->element[i];
                if (e->type != REDIS_REPLY_STRING) {
                    continue;
                }

                ms[i] = -1;
                if (e->len > 0 && e->len < sizeof(buf)) {
                    memcpy(buf, e->str, e->len);
                    buf[e->len] = '\0';
                    v = strtoll(buf, &end, 10);
                    if (*end == '\0' && v > 0) {
                        ms[i] = v;
                    }
                }
            }
            rc = HOOPCTL_OK;
        }

        freeReplyObject(r);
    }

    free(hargv);
    free(key);

    return rc;
}
