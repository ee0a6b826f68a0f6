/*
 * The gateway authenticates to the broker with its own credentials
 * (hoop_upstream_sasl): on each new upstream connection it sends
 * SaslHandshake v1 and SaslAuthenticate v2 (KIP-43, KIP-152) before any
 * client frame, holding the client's frames until the broker accepts.
 * Clients never see these credentials: the exchange's responses stay in
 * the gateway.  The secret file is re-read when it changes, so a rotated
 * password is used by new connections while live ones keep theirs.
 */

#include "hoop_auth.h"
#include "hoop_auth_conf.h"
#include "hoop_sasl_client.h"
#include "../kafka/hoop_kafka_walker.h"
#include "../kafka/hoop_kafka_header.h"


#define HOOP_UP_CLIENT_ID       "hoop-gateway"


struct hoop_upstream_sasl_s {
    ngx_str_t             file;             /* NUL-terminated */
    hoop_sasl_mech_t      mech;
    ngx_str_t             mech_name;

    /* the secret as last read, and the file identity it came from */
    char                  user[HOOP_CRED_NAME_MAX + 1];
    u_char                password[HOOP_SASL_CLIENT_PASS_MAX];
    size_t                password_len;
    ino_t                 ino;
    off_t                 size;
    time_t                mtime;
    long                  mtime_nsec;
};


static ngx_int_t hoop_upstream_read_secret(hoop_upstream_sasl_t *us,
    ngx_log_t *log, char *err, size_t errlen);
static ngx_int_t hoop_upstream_send(hoop_session_t *hs, int16_t api_key,
    int16_t version, const u_char *data, size_t len);
static ngx_int_t hoop_upstream_release(hoop_session_t *hs);
static void hoop_upstream_wake(hoop_session_t *hs);


/* hoop_upstream_sasl PLAIN|SCRAM-SHA-256|SCRAM-SHA-512 SECRET_FILE; */

char *
hoop_upstream_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    hoop_srv_conf_t *hscf = conf;

    char                   err[256];
    ngx_str_t             *value;
    hoop_upstream_sasl_t  *us;

    if (hscf->upstream_sasl) {
        return "is duplicate";
    }

    value = cf->args->elts;

    us = ngx_pcalloc(cf->pool, sizeof(hoop_upstream_sasl_t));
    if (us == NULL) {
        return NGX_CONF_ERROR;
    }

    us->mech = hoop_sasl_mech_parse((char *) value[1].data, value[1].len);

    if (us->mech == HOOP_SASL_MECH_NONE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown SASL mechanism \"%V\": PLAIN, "
                           "SCRAM-SHA-256 or SCRAM-SHA-512", &value[1]);
        return NGX_CONF_ERROR;
    }

    us->mech_name = value[1];
    us->file = value[2];

    if (ngx_conf_full_name(cf->cycle, &us->file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (hoop_upstream_read_secret(us, cf->log, err, sizeof(err)) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hoop_upstream_sasl \"%V\": %s", &us->file, err);
        return NGX_CONF_ERROR;
    }

    hscf->upstream_sasl = us;

    return NGX_CONF_OK;
}


/*
 * The secret file: "username=NAME" and "password=SECRET" lines ('#'
 * comments, blank lines ignored; the password is the rest of its line).
 * Re-read only when its inode, size or modification time changed.
 */

static ngx_int_t
hoop_upstream_read_secret(hoop_upstream_sasl_t *us, ngx_log_t *log,
    char *err, size_t errlen)
{
    u_char           *p, *last, *eol, buf[4096];
    size_t            n;
    ssize_t           r;
    ngx_fd_t          fd;
    ngx_uint_t        have_user, have_pw;
    ngx_file_info_t   fi;

    if (ngx_file_info(us->file.data, &fi) == NGX_FILE_ERROR) {
        ngx_snprintf((u_char *) err, errlen, "cannot stat: %s%Z",
                     strerror(ngx_errno));
        return NGX_ERROR;
    }

    if (us->password_len
        && fi.st_ino == us->ino && fi.st_size == us->size
        && fi.st_mtim.tv_sec == us->mtime
        && fi.st_mtim.tv_nsec == us->mtime_nsec)
    {
        return NGX_OK;
    }

    fd = ngx_open_file(us->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_snprintf((u_char *) err, errlen, "cannot open: %s%Z",
                     strerror(ngx_errno));
        return NGX_ERROR;
    }

    r = read(fd, buf, sizeof(buf));
    (void) ngx_close_file(fd);

    if (r < 0 || (size_t) r == sizeof(buf)) {
        ngx_snprintf((u_char *) err, errlen, "%s%Z",
                     r < 0 ? "cannot read" : "larger than 4k");
        ngx_explicit_memzero(buf, sizeof(buf));
        return NGX_ERROR;
    }

    have_user = 0;
    have_pw = 0;
    last = buf + r;

    for (p = buf; p < last; p = eol + 1) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        n = eol - p;

        if (n && p[n - 1] == '\r') {
            n--;
        }

        if (n == 0 || p[0] == '#') {
            continue;
        }

        if (n > 9 && ngx_strncmp(p, "username=", 9) == 0
            && n - 9 <= HOOP_CRED_NAME_MAX)
        {
            ngx_memcpy(us->user, p + 9, n - 9);
            us->user[n - 9] = '\0';
            have_user = 1;

        } else if (n > 9 && ngx_strncmp(p, "password=", 9) == 0
                   && n - 9 <= HOOP_SASL_CLIENT_PASS_MAX)
        {
            ngx_memcpy(us->password, p + 9, n - 9);
            us->password_len = n - 9;
            have_pw = 1;

        } else {
            ngx_snprintf((u_char *) err, errlen, "expected \"username=\" "
                         "and \"password=\" lines%Z");
            ngx_explicit_memzero(buf, sizeof(buf));
            return NGX_ERROR;
        }
    }

    ngx_explicit_memzero(buf, sizeof(buf));

    if (!have_user || !have_pw) {
        ngx_snprintf((u_char *) err, errlen, "needs both username= and "
                     "password=%Z");
        return NGX_ERROR;
    }

    us->ino = fi.st_ino;
    us->size = fi.st_size;
    us->mtime = fi.st_mtim.tv_sec;
    us->mtime_nsec = fi.st_mtim.tv_nsec;

    return NGX_OK;
}


/*
 * At the first client bytes toward a new upstream connection: queue the
 * handshake ahead of everything and hold client frames.
 */

ngx_int_t
hoop_upstream_start(hoop_session_t *hs)
{
    char                   err[256];
    ngx_connection_t      *c;
    hoop_upstream_sasl_t  *us;

    c = hs->session->connection;
    us = hs->conf->upstream_sasl;

    if (hoop_upstream_read_secret(us, c->log, err, sizeof(err)) != NGX_OK) {
        /* a rotation half done: keep the last secret that worked */
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: hoop_upstream_sasl \"%V\": %s; using the "
                      "previous secret", &us->file, err);
    }

    if (hs->up_state == HOOP_UP_REAUTH) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "hoop: gateway re-authenticating to the broker before "
                      "its session ends (KIP-368)");
    }

    hs->up_client = hoop_sasl_client_start(us->mech, us->user, us->password,
                                           us->password_len, err,
                                           sizeof(err));
    if (hs->up_client == NULL) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: upstream SASL %V: %s", &us->mech_name, err);
        return NGX_ERROR;
    }

    hs->up_state = HOOP_UP_HANDSHAKE;

    return hoop_upstream_send(hs, HOOP_KAFKA_API_SASL_HANDSHAKE, 1,
                              us->mech_name.data, us->mech_name.len);
}


/* A broker response while the gateway's own exchange is running. */

ngx_int_t
hoop_upstream_response(hoop_session_t *hs, u_char *frame, size_t size)
{
    int                            rc;
    size_t                         olen, len;
    int64_t                        error;
    const uint8_t                 *out, *bytes;
    ngx_pool_t                    *pool;
    ngx_connection_t              *c;
    hoop_kafka_err_t               err;
    hoop_kafka_node_t             *root, *msg;
    hoop_kafka_alloc_t             alloc;
    hoop_kafka_response_header_t   h;

    c = hs->session->connection;
    pool = NULL;

    rc = hoop_kafka_response_header_parse(frame + 4, size - 4,
                                          hs->up_state == HOOP_UP_HANDSHAKE
                                          ? 0 : 1, &h, &err);

    if (rc != HOOP_KAFKA_OK || h.correlation_id != hs->up_correlation) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: unexpected broker answer "
                      "during the gateway's SASL exchange");
        goto failed;
    }

    pool = ngx_create_pool(1024, c->log);
    if (pool == NULL) {
        goto failed;
    }

    hoop_codec_allocator(pool, &alloc);

    rc = hoop_kafka_decode(&alloc,
                           hs->up_state == HOOP_UP_HANDSHAKE
                           ? HOOP_KAFKA_API_SASL_HANDSHAKE
                           : HOOP_KAFKA_API_SASL_AUTHENTICATE,
                           hs->up_state == HOOP_UP_HANDSHAKE ? 1 : 2, 1,
                           frame + 4 + h.len, size - 4 - h.len, &root, &err);
    if (rc != HOOP_KAFKA_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: bad SASL answer from "
                      "broker: %s", err.msg);
        goto failed;
    }

    error = hoop_kafka_node_int(hoop_kafka_node_child(root, "ErrorCode"));

    if (error != 0) {
        msg = hoop_kafka_node_child(root, "ErrorMessage");
        bytes = msg ? hoop_kafka_node_bytes(msg, &len) : NULL;

        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: broker refused the "
                      "gateway's SASL %V credentials (hoop_upstream_sasl): "
                      "error %L%s%*s", &hs->conf->upstream_sasl->mech_name,
                      error, bytes ? ": " : "", bytes ? len : 0,
                      bytes ? bytes : (const uint8_t *) "");
        goto failed;
    }

    if (hs->up_state == HOOP_UP_HANDSHAKE) {
        bytes = NULL;
        len = 0;

    } else {
        bytes = hoop_kafka_node_bytes(hoop_kafka_node_child(root,
                                                            "AuthBytes"),
                                      &len);
        hs->up_lifetime = hoop_kafka_node_int(
                              hoop_kafka_node_child(root,
                                                    "SessionLifetimeMs"));
    }

    /* the first step has no input: the handshake only opened the way */
    rc = hoop_sasl_client_step(hs->up_client,
                               hs->up_state == HOOP_UP_HANDSHAKE
                               ? NULL : bytes, len, &out, &olen);

    ngx_destroy_pool(pool);
    pool = NULL;
    ngx_free(frame);
    frame = NULL;

    if (rc == HOOP_SASL_FAILED) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "hoop: closing connection: gateway SASL to broker "
                      "failed: %s", hoop_sasl_client_reason(hs->up_client));
        return NGX_ERROR;
    }

    if (rc == HOOP_SASL_CONTINUE) {
        hs->up_state = HOOP_UP_AUTH;
        return hoop_upstream_send(hs, HOOP_KAFKA_API_SASL_AUTHENTICATE, 2,
                                  out, olen);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_STREAM, c->log, 0,
                   "hoop: gateway authenticated to broker as \"%s\"",
                   hs->conf->upstream_sasl->user);

    hoop_sasl_client_free(hs->up_client);
    hs->up_client = NULL;
    hs->up_state = HOOP_UP_DONE;

    /*
     * KIP-368: the broker ends the session after SessionLifetimeMs;
     * re-authenticate at 85% of it, before the next request after that.
     */
    hs->up_deadline = 0;

    if (hs->up_lifetime > 0) {
        hs->up_deadline = ngx_current_msec
                          + (ngx_msec_t) (hs->up_lifetime * 85 / 100);
        hs->up_deadline += (hs->up_deadline == 0);
    }

    return hoop_upstream_release(hs);

failed:

    if (pool) {
        ngx_destroy_pool(pool);
    }

    ngx_free(frame);

    return NGX_ERROR;
}


/* A request of the gateway's own: ahead of every held client frame. */

static ngx_int_t
hoop_upstream_send(hoop_session_t *hs, int16_t api_key, int16_t version,
    const u_char *data, size_t len)
{
    u_char      *frame, *p;
    size_t       hlen, blen, size;
    hoop_out_t  *o;

    hs->up_correlation++;

    hlen = hoop_kafka_request_header_size(api_key, version,
                                          sizeof(HOOP_UP_CLIENT_ID) - 1);

    if (api_key == HOOP_KAFKA_API_SASL_HANDSHAKE) {
        blen = 2 + len;                                 /* string */

    } else {
        blen = hoop_kafka_uvarint_size(len + 1) + len + 1;  /* compact
                                                           bytes, tags */
    }

    size = 4 + hlen + blen;

    frame = ngx_alloc(size, hs->session->connection->log);
    if (frame == NULL) {
        return NGX_ERROR;
    }

    p = frame;
    *p++ = (u_char) ((size - 4) >> 24);
    *p++ = (u_char) ((size - 4) >> 16);
    *p++ = (u_char) ((size - 4) >> 8);
    *p++ = (u_char) (size - 4);

    p += hoop_kafka_request_header_encode(p, api_key, version,
                                          hs->up_correlation,
                                          (const uint8_t *) HOOP_UP_CLIENT_ID,
                                          sizeof(HOOP_UP_CLIENT_ID) - 1);

    if (api_key == HOOP_KAFKA_API_SASL_HANDSHAKE) {
        *p++ = (u_char) (len >> 8);
        *p++ = (u_char) len;
        p = ngx_cpymem(p, data, len);

    } else {
        p = hoop_kafka_uvarint_encode(p, len + 1);
        p = ngx_cpymem(p, data, len);
        *p++ = 0;                                       /* no tags */
    }

    o = hoop_out_wrap(frame, size);
    if (o == NULL) {
        ngx_free(frame);
        return NGX_ERROR;
    }

    hoop_out_queue(hs, HOOP_DIR_REQUEST, o);

    /* sent from a broker response too: wake the proxy's upstream side */
    hoop_upstream_wake(hs);

    return NGX_OK;
}


static void
hoop_upstream_wake(hoop_session_t *hs)
{
    ngx_connection_t  *pc;

    pc = hs->session->upstream->peer.connection;
    pc->buffered |= HOOP_BUFFERED;
    ngx_post_event(pc->write, &ngx_posted_events);
}


/*
 * The broker accepted the gateway: the client frames held meanwhile go
 * out in order, and the proxy is woken to write toward the broker.
 */

static ngx_int_t
hoop_upstream_release(hoop_session_t *hs)
{
    hoop_out_t  *o;

    while (hs->held) {
        o = hs->held;
        hs->held = o->next;
        hs->up_outstanding += o->owed;
        hoop_out_queue(hs, HOOP_DIR_REQUEST, o);
    }

    hs->held_last = &hs->held;
    hs->held_bytes = 0;

    hoop_upstream_wake(hs);

    return NGX_OK;
}


/*
 * Every client frame toward the broker passes here when the gateway logs
 * in upstream: it waits while the gateway's exchange runs, and a due
 * re-authentication holds it until the broker has answered what is in
 * flight (KIP-368: no other request may interleave).
 */

ngx_int_t
hoop_upstream_forward(hoop_session_t *hs, hoop_out_t *o,
    ngx_uint_t expects_response)
{
    o->owed = expects_response;

    if (hs->up_state == HOOP_UP_DONE && hs->up_deadline
        && (ngx_msec_int_t) (ngx_current_msec - hs->up_deadline) >= 0)
    {
        hs->up_state = HOOP_UP_REAUTH;
    }

    if (hs->up_state == HOOP_UP_DONE) {
        hs->up_outstanding += o->owed;
        hoop_out_queue(hs, HOOP_DIR_REQUEST, o);
        return NGX_OK;
    }

    o->next = NULL;
    *hs->held_last = o;
    hs->held_last = &o->next;
    hs->held_bytes += o->buf.last - o->buf.start;

    if (hs->up_state == HOOP_UP_REAUTH && hs->up_outstanding == 0) {
        return hoop_upstream_start(hs);
    }

    return NGX_OK;
}


/* A broker answer to a client request went to the client. */

ngx_int_t
hoop_upstream_answered(hoop_session_t *hs)
{
    if (hs->up_outstanding) {
        hs->up_outstanding--;
    }

    if (hs->up_state == HOOP_UP_REAUTH && hs->up_outstanding == 0) {
        return hoop_upstream_start(hs);
    }

    return NGX_OK;
}


void
hoop_upstream_cleanup(hoop_session_t *hs)
{
    hoop_out_t  *o;

    while (hs->held) {
        o = hs->held;
        hs->held = o->next;
        hoop_out_free(o);
    }

    if (hs->up_client) {
        hoop_sasl_client_free(hs->up_client);
        hs->up_client = NULL;
    }
}
