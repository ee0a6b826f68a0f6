/*
 * The hoop_redis directive.  Everything that could block is done here,
 * while nginx reads its configuration: host names (of Redis, or of the
 * sentinels) are resolved (workers connect to addresses) and the password
 * files are read (workers may not be allowed to read them once they
 * dropped privileges).
 */

#include "hoop_redis_conf.h"


#define HOOP_REDIS_MAX_PASSWORD  4096


/* printable ASCII without blanks or quotes: what a master name may be */
static ngx_int_t
hoop_redis_conf_name_ok(ngx_str_t *name)
{
    size_t  i;

    for (i = 0; i < name->len; i++) {
        if (name->data[i] <= 0x20 || name->data[i] >= 0x7f
            || name->data[i] == '"' || name->data[i] == '\'')
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static char *hoop_redis_conf_addr(ngx_conf_t *cf, ngx_str_t *url,
    ngx_uint_t unix_ok, char **host, int *port);
static char *hoop_redis_conf_sentinels(ngx_conf_t *cf, hoop_redis_conf_t *rc,
    ngx_str_t *list);
static char *hoop_redis_conf_password(ngx_conf_t *cf, ngx_str_t *file,
    ngx_str_t *password);


char *
hoop_redis_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    hoop_main_conf_t *hmcf = conf;

    ngx_str_t          *value, s;
    ngx_uint_t          i;
    hoop_redis_conf_t  *rc;

    if (hmcf->redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rc = ngx_pcalloc(cf->pool, sizeof(hoop_redis_conf_t));
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    rc->name = value[1];
    ngx_str_set(&rc->prefix, HOOP_REDIS_DEFAULT_PREFIX);

    if (ngx_strncmp(value[1].data, "sentinel=", 9) == 0) {
        s.data = value[1].data + 9;
        s.len = value[1].len - 9;

        if (hoop_redis_conf_sentinels(cf, rc, &s) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

    } else if (hoop_redis_conf_addr(cf, &value[1], 1, &rc->host, &rc->port)
               != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            if (s.len > HOOP_REDIS_MAX_PREFIX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "hoop_redis: prefix longer than %d bytes",
                                   HOOP_REDIS_MAX_PREFIX);
                return NGX_CONF_ERROR;
            }

            rc->prefix = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "user=", 5) == 0) {
            rc->user.data = value[i].data + 5;
            rc->user.len = value[i].len - 5;

            if (rc->user.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            if (s.len == 0) {
                goto invalid;
            }

            if (hoop_redis_conf_password(cf, &s, &rc->password)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (rc->sentinels == NULL) {
            goto invalid;
        }

        /* the Sentinel form's own parameters */

        if (ngx_strncmp(value[i].data, "master=", 7) == 0) {
            rc->master.data = value[i].data + 7;
            rc->master.len = value[i].len - 7;

            /* a name Sentinel accepts: no blanks, no quotes */
            if (rc->master.len == 0
                || hoop_redis_conf_name_ok(&rc->master) != NGX_OK)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sentinel_user=", 14) == 0) {
            rc->sentinel_user.data = value[i].data + 14;
            rc->sentinel_user.len = value[i].len - 14;

            if (rc->sentinel_user.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sentinel_password=", 18) == 0) {
            s.data = value[i].data + 18;
            s.len = value[i].len - 18;

            if (s.len == 0) {
                goto invalid;
            }

            if (hoop_redis_conf_password(cf, &s, &rc->sentinel_password)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        goto invalid;
    }

    if (rc->user.len && rc->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hoop_redis: \"user=\" needs \"password=\"");
        return NGX_CONF_ERROR;
    }

    if (rc->sentinels && rc->master.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hoop_redis: \"sentinel=\" needs \"master=NAME\"");
        return NGX_CONF_ERROR;
    }

    if (rc->sentinel_user.len && rc->sentinel_password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hoop_redis: \"sentinel_user=\" needs "
                           "\"sentinel_password=\"");
        return NGX_CONF_ERROR;
    }

    hmcf->redis = rc;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "hoop_redis: invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * HOST:PORT, [IPV6]:PORT or (when unix_ok) unix:PATH, resolved now into a
 * numeric host (or the socket's path, with port 0) that hiredis takes.
 */

static char *
hoop_redis_conf_addr(ngx_conf_t *cf, ngx_str_t *url, ngx_uint_t unix_ok,
    char **host, int *port)
{
    u_char              *p, text[NGX_SOCKADDR_STRLEN];
    size_t               len;
    ngx_url_t            u;
    struct sockaddr_un  *saun;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *url;
    u.default_port = HOOP_REDIS_DEFAULT_PORT;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "hoop_redis \"%V\": %s",
                           url, u.err ? u.err : "invalid address");
        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hoop_redis \"%V\": no address", url);
        return NGX_CONF_ERROR;
    }

    if (u.naddrs > 1) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "hoop_redis \"%V\" has %ui addresses, "
                           "using the first", url, u.naddrs);
    }

    if (u.addrs[0].sockaddr->sa_family == AF_UNIX) {
        if (!unix_ok) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "hoop_redis \"%V\": a sentinel is reached "
                               "over TCP", url);
            return NGX_CONF_ERROR;
        }

        saun = (struct sockaddr_un *) u.addrs[0].sockaddr;
        len = ngx_strlen(saun->sun_path);

        *host = ngx_pnalloc(cf->pool, len + 1);
        if (*host == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(*host, saun->sun_path, len + 1);
        *port = 0;

        return NGX_CONF_OK;
    }

    /* the address without the port: a numeric host for hiredis */
    len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, text,
                        NGX_SOCKADDR_STRLEN, 0);

    *host = ngx_pnalloc(cf->pool, len + 1);
    if (*host == NULL) {
        return NGX_CONF_ERROR;
    }

    p = text;

    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        p++;
        len -= 2;
    }

    ngx_memcpy(*host, p, len);
    (*host)[len] = '\0';
    *port = ngx_inet_get_port(u.addrs[0].sockaddr);

    return NGX_CONF_OK;
}


/* sentinel=HOST:PORT[,HOST:PORT...]: asked in this order */

static char *
hoop_redis_conf_sentinels(ngx_conf_t *cf, hoop_redis_conf_t *rc,
    ngx_str_t *list)
{
    u_char             *p, *last, *comma;
    ngx_str_t           one;
    ngx_uint_t          n;
    hoop_redis_addr_t  *a;

    if (list->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hoop_redis: \"sentinel=\" needs HOST:PORT");
        return NGX_CONF_ERROR;
    }

    n = 1;
    last = list->data + list->len;

    for (p = list->data; p < last; p++) {
        if (*p == ',') {
            n++;
        }
    }

    if (n > HOOP_REDIS_MAX_SENTINELS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hoop_redis: more than %d sentinels",
                           HOOP_REDIS_MAX_SENTINELS);
        return NGX_CONF_ERROR;
    }

    rc->sentinels = ngx_pcalloc(cf->pool, n * sizeof(hoop_redis_addr_t));
    if (rc->sentinels == NULL) {
        return NGX_CONF_ERROR;
    }

    a = rc->sentinels;

    for (p = list->data; p <= last; p = comma + 1) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        one.data = p;
        one.len = comma - p;

        if (one.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "hoop_redis: empty address in \"sentinel=\"");
            return NGX_CONF_ERROR;
        }

        if (hoop_redis_conf_addr(cf, &one, 0, &a->host, &a->port)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        a++;
    }

    rc->nsentinels = n;

    return NGX_CONF_OK;
}


/*
 * password=FILE (and sentinel_password=FILE): the first line of FILE
 * (without its line end) is sent with AUTH.  Read now, as the master
 * process.
 */

static char *
hoop_redis_conf_password(ngx_conf_t *cf, ngx_str_t *file,
    ngx_str_t *password)
{
    u_char           *buf, *eol;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         name;
    ngx_file_info_t   fi;

    name = *file;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "hoop_redis: cannot open password file \"%V\"",
                           &name);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > HOOP_REDIS_MAX_PASSWORD)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hoop_redis: password file \"%V\" is unreadable "
                           "or larger than %d bytes", &name,
                           HOOP_REDIS_MAX_PASSWORD);
        (void) ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->pool, HOOP_REDIS_MAX_PASSWORD + 1);
    if (buf == NULL) {
        (void) ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, buf, HOOP_REDIS_MAX_PASSWORD);

    (void) ngx_close_file(fd);

    if (n < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "hoop_redis: cannot read password file \"%V\"",
                           &name);
        return NGX_CONF_ERROR;
    }

    eol = ngx_strlchr(buf, buf + n, '\n');
    if (eol) {
        n = eol - buf;
    }

    if (n > 0 && buf[n - 1] == '\r') {
        n--;
    }

    if (n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hoop_redis: password file \"%V\" is empty",
                           &name);
        return NGX_CONF_ERROR;
    }

    buf[n] = '\0';

    password->data = buf;
    password->len = n;

    return NGX_CONF_OK;
}


size_t
hoop_redis_key(hoop_redis_conf_t *rc, const char *name, int64_t n,
    u_char *buf, size_t size)
{
    u_char  *p;

    /* prefix, name, 20 digits, NUL */
    if (rc->prefix.len + ngx_strlen(name) + NGX_INT64_LEN + 1 > size) {
        return 0;
    }

    p = ngx_cpymem(buf, rc->prefix.data, rc->prefix.len);
    p = ngx_cpymem(p, name, ngx_strlen(name));

    if (n > 0) {
        p = ngx_sprintf(p, "%L", n);
    }

    *p = '\0';

    return p - buf;
}
