/*
 * "hoop_metrics;": a stream server that speaks just enough HTTP/1.x for a
 * Prometheus scrape.  It reads the request head (up to 4 KiB, 5 s), answers
 * 200 with the exposition text for GET (405 for other methods, 400 for
 * anything else) and closes: one request per connection.
 */

#include "hoop_metrics.h"


#define HOOP_METRICS_HEAD_MAX   4096
#define HOOP_METRICS_TIMEOUT    5000


typedef struct {
    ngx_buf_t           *in;
    ngx_buf_t           *out;
} hoop_metrics_ctx_t;


extern ngx_module_t  ngx_stream_hoop_module;


static void hoop_metrics_read(ngx_event_t *rev);
static void hoop_metrics_write(ngx_event_t *wev);
static void hoop_metrics_handler(ngx_stream_session_t *s);


char *
hoop_metrics_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_stream_core_srv_conf_t  *cscf;

    cscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_core_module);

    if (cscf->handler) {
        return "is duplicate, or the server has another content handler "
               "(proxy_pass, return)";
    }

    cscf->handler = hoop_metrics_handler;

    return NGX_CONF_OK;
}


static void
hoop_metrics_handler(ngx_stream_session_t *s)
{
    ngx_connection_t    *c;
    hoop_metrics_ctx_t  *ctx;

    c = s->connection;

    ctx = ngx_pcalloc(c->pool, sizeof(hoop_metrics_ctx_t));
    if (ctx == NULL) {
        ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->in = ngx_create_temp_buf(c->pool, HOOP_METRICS_HEAD_MAX);
    if (ctx->in == NULL) {
        ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_stream_set_ctx(s, ctx, ngx_stream_hoop_module);

    c->read->handler = hoop_metrics_read;
    c->write->handler = hoop_metrics_write;

    hoop_metrics_read(c->read);
}


static void
hoop_metrics_respond(ngx_stream_session_t *s, const char *status,
    ngx_buf_t *body)
{
    size_t               len;
    ngx_buf_t           *b;
    ngx_connection_t    *c;
    hoop_metrics_ctx_t  *ctx;

    c = s->connection;
    ctx = ngx_stream_get_module_ctx(s, ngx_stream_hoop_module);

    len = body ? (size_t) (body->last - body->pos) : 0;

    b = ngx_create_temp_buf(c->pool, 256 + len);
    if (b == NULL) {
        ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    b->last = ngx_sprintf(b->last,
                          "HTTP/1.1 %s\r\n"
                          "Content-Type: text/plain; version=0.0.4; "
                          "charset=utf-8\r\n"
                          "Content-Length: %uz\r\n"
                          "Connection: close\r\n\r\n", status, len);

    if (body) {
        b->last = ngx_cpymem(b->last, body->pos, len);
    }

    ctx->out = b;

    hoop_metrics_write(c->write);
}


static void
hoop_metrics_read(ngx_event_t *rev)
{
    ssize_t                n;
    u_char                *p;
    ngx_buf_t             *b, *body;
    ngx_connection_t      *c;
    hoop_metrics_ctx_t    *ctx;
    ngx_stream_session_t  *s;

    c = rev->data;
    s = c->data;
    ctx = ngx_stream_get_module_ctx(s, ngx_stream_hoop_module);

    if (rev->timedout) {
        ngx_stream_finalize_session(s, NGX_STREAM_OK);
        return;
    }

    if (ctx->out) {
        return;    /* answering; what else comes is not read */
    }

    b = ctx->in;

    for ( ;; ) {
        if (b->last == b->end) {
            hoop_metrics_respond(s, "400 Bad Request", NULL);
            return;
        }

        n = c->recv(c, b->last, b->end - b->last);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_stream_finalize_session(s, NGX_STREAM_OK);
            return;
        }

        b->last += n;

        p = ngx_strlcasestrn(b->pos, b->last, (u_char *) "\r\n\r\n", 4 - 1);

        if (p == NULL) {
            p = ngx_strlcasestrn(b->pos, b->last, (u_char *) "\n\n", 2 - 1);
        }

        if (p == NULL) {
            continue;
        }

        if (b->last - b->pos < 4 || ngx_strncmp(b->pos, "GET ", 4) != 0) {
            hoop_metrics_respond(s, "405 Method Not Allowed", NULL);
            return;
        }

        body = hoop_metrics_render(c->pool);
        if (body == NULL) {
            ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
            return;
        }

        hoop_metrics_respond(s, "200 OK", body);
        return;
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    if (!rev->timer_set) {
        ngx_add_timer(rev, HOOP_METRICS_TIMEOUT);
    }
}


static void
hoop_metrics_write(ngx_event_t *wev)
{
    ssize_t                n;
    ngx_buf_t             *b;
    ngx_connection_t      *c;
    hoop_metrics_ctx_t    *ctx;
    ngx_stream_session_t  *s;

    c = wev->data;
    s = c->data;
    ctx = ngx_stream_get_module_ctx(s, ngx_stream_hoop_module);

    if (ctx == NULL || ctx->out == NULL) {
        return;
    }

    if (wev->timedout) {
        ngx_stream_finalize_session(s, NGX_STREAM_OK);
        return;
    }

    b = ctx->out;

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                ngx_stream_finalize_session(s,
                                            NGX_STREAM_INTERNAL_SERVER_ERROR);
                return;
            }

            ngx_add_timer(wev, HOOP_METRICS_TIMEOUT);
            return;
        }

        if (n == NGX_ERROR) {
            ngx_stream_finalize_session(s, NGX_STREAM_OK);
            return;
        }

        b->pos += n;
    }

    ngx_stream_finalize_session(s, NGX_STREAM_OK);
}
