/*
 * Session plumbing between nginx's stream proxy and the Kafka frame
 * handlers: consumes the proxy's buffers into whole frames (any TCP split),
 * queues the module's own output and hands it to the next filter, and keeps
 * the queue of in-flight requests that orders responses.
 *
 * Rules from nginx's proxy (see docs/architecture.md): once a proxy buffer
 * is consumed its memory may be reused, so bytes are copied out before
 * pos is advanced; input is left unconsumed only as backpressure when the
 * module's own queue is above hoop_buffer_size.
 */

#include "hoop_session.h"
#include "../kafka/hoop_kafka_diag.h"
#include "../auth/hoop_auth.h"
#include "../audit/hoop_audit.h"
#include "../metrics/hoop_metrics.h"
#include "hoop_resolve.h"
#include "hoop_hold.h"


static void hoop_session_cleanup(void *data);
static void hoop_slot_release_plan(hoop_slot_t *slot);
static ngx_int_t hoop_frame_refused(hoop_session_t *hs, ngx_uint_t dir,
    hoop_frame_rc_e rc);


hoop_session_t *
hoop_session_create(ngx_stream_session_t *s, hoop_srv_conf_t *conf)
{
    ngx_uint_t           i;
    hoop_session_t      *hs;
    ngx_pool_cleanup_t  *cln;

    hs = ngx_pcalloc(s->connection->pool, sizeof(hoop_session_t));
    if (hs == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(s->connection->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = hoop_session_cleanup;
    cln->data = hs;

    hs->session = s;
    hs->conf = conf;

    hoop_metric_add(connections_total, 1);
    hoop_metric_add(connections_active, 1);
    hs->inflight_last = &hs->inflight;
    hs->held_last = &hs->held;
    hs->ids_held_last = &hs->ids_held;
    hs->metadata_max = -1;

    for (i = 0; i < 2; i++) {
        hs->dir[i].out_last = &hs->dir[i].out;
    }

    /* a request header has at least api_key, api_version, correlation_id
     * and the client_id length; a response header its correlation_id */
    hoop_frame_reader_init(&hs->dir[HOOP_DIR_REQUEST].reader, 10,
                           conf->max_frame_size);
    hoop_frame_reader_init(&hs->dir[HOOP_DIR_RESPONSE].reader, 4,
                           conf->max_frame_size);

    return hs;
}


static void
hoop_out_list_free(hoop_out_t *o)
{
    hoop_out_t  *next;

    while (o) {
        next = o->next;
        hoop_out_free(o);
        o = next;
    }
}


static void
hoop_session_cleanup(void *data)
{
    hoop_session_t *hs = data;

    hoop_metric_add(connections_active, -1);
    hoop_metric_add(client_bytes_in, hs->session->received);
    hoop_metric_add(client_bytes_out, hs->session->connection->sent);

    ngx_uint_t    i;
    hoop_dir_t   *d;
    hoop_slot_t  *slot, *next;

    for (i = 0; i < 2; i++) {
        d = &hs->dir[i];

        hoop_frame_reader_free(&d->reader);

        hoop_out_list_free(d->out);
        hoop_out_list_free(d->busy);
        d->out = NULL;
        d->busy = NULL;
    }

    if (hs->mech) {
        hoop_mech_free(hs->mech);
        hs->mech = NULL;
    }

    hoop_upstream_cleanup(hs);
    hoop_resolve_cleanup(hs);
    hoop_hold_cleanup(hs);

    for (slot = hs->inflight; slot; slot = next) {
        next = slot->next;
        hoop_out_list_free(slot->answer);
        hoop_slot_release_plan(slot);
        ngx_free(slot);
    }

    for (slot = hs->free_slots; slot; slot = next) {
        next = slot->next;
        ngx_free(slot);
    }

    hs->inflight = NULL;
    hs->free_slots = NULL;
}


/*
 * Takes bytes from the proxy buffers remembered in d->pending and cuts them
 * into frames.  Returns NGX_OK when all input was consumed, NGX_AGAIN when
 * it stopped above the high-water mark, NGX_ERROR on a protocol error (the
 * reason is logged; the caller closes the connection).
 */

ngx_int_t
hoop_session_consume(hoop_session_t *hs, ngx_uint_t dir)
{
    size_t            n, size;
    u_char           *frame;
    ngx_buf_t        *b;
    ngx_int_t         rc;
    hoop_dir_t       *d;
    ngx_chain_t      *cl;
    hoop_frame_rc_e   frc;

    d = &hs->dir[dir];

    while (d->pending) {
        cl = d->pending;
        b = cl->buf;

        while (b->pos < b->last) {

            if (hoop_session_backlog(hs, dir) >= hs->conf->buffer_size) {
                /* leave the rest in the proxy's buffer: backpressure */
                return NGX_AGAIN;
            }

            frc = hoop_frame_feed(&d->reader, b->pos, b->last - b->pos, &n);
            b->pos += n;

            if (frc == HOOP_FRAME_MORE) {
                continue;
            }

            if (frc != HOOP_FRAME_READY) {
                return hoop_frame_refused(hs, dir, frc);
            }

            /* a whole frame: the handler owns the memory */

            frame = hoop_frame_take(&d->reader, &size);
            d->frames++;

            rc = (dir == HOOP_DIR_REQUEST)
                 ? hoop_request_frame(hs, frame, size)
                 : hoop_response_frame(hs, frame, size);

            if (rc != NGX_OK) {
                return NGX_ERROR;
            }
        }

        d->pending = cl->next;
        ngx_free_chain(hs->session->connection->pool, cl);
    }

    return NGX_OK;
}


/* A size prefix out of bounds, or no memory for a frame: log, audit, close. */

static ngx_int_t
hoop_frame_refused(hoop_session_t *hs, ngx_uint_t dir, hoop_frame_rc_e rc)
{
    hoop_frame_reader_t  *r;

    r = &hs->dir[dir].reader;

    if (rc == HOOP_FRAME_NOMEM) {
        ngx_log_error(NGX_LOG_ERR, hs->session->connection->log, ngx_errno,
                      "hoop: no memory for a %uz byte Kafka frame from %s",
                      r->body_size,
                      dir == HOOP_DIR_REQUEST ? "client" : "broker");
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_ERR, hs->session->connection->log, 0,
                  "hoop: invalid Kafka frame size %D from %s "
                  "(hoop_max_frame_size %uz)%s",
                  hoop_frame_prefix(r),
                  dir == HOOP_DIR_REQUEST ? "client" : "broker",
                  hs->conf->max_frame_size,
                  hoop_kafka_diag_prefix(r->size_buf, 4));

    if (dir == HOOP_DIR_REQUEST) {
        hoop_audit_protocol_error(hs, "invalid Kafka frame size");
    }

    return NGX_ERROR;
}


/*
 * Bytes the module holds that taking more input of dir would add to.
 * Requests also count what waits for the client (local answers, broker
 * responses): a client that does not read gets no more requests taken.
 */

size_t
hoop_session_backlog(hoop_session_t *hs, ngx_uint_t dir)
{
    if (dir == HOOP_DIR_RESPONSE) {
        return hs->dir[HOOP_DIR_RESPONSE].queued;
    }

    return hs->dir[HOOP_DIR_REQUEST].queued + hs->held_bytes
           + hs->ids_held_bytes + hoop_hold_bytes(hs)
           + hs->dir[HOOP_DIR_RESPONSE].queued;
}


/*
 * Gives queued output of one direction to the next filter and frees what
 * was sent.  Calls the next filter only when there is something to send or
 * the write filter holds unsent data (an empty call is an alert in nginx).
 */

ngx_int_t
hoop_session_emit(hoop_session_t *hs, ngx_uint_t dir,
    ngx_stream_filter_pt next)
{
    ngx_int_t              rc;
    hoop_out_t            *o;
    hoop_dir_t            *d;
    ngx_chain_t           *out, **ll, *cl;
    ngx_connection_t      *c, *dst;
    ngx_stream_session_t  *s;

    s = hs->session;
    c = s->connection;
    d = &hs->dir[dir];
    dst = (dir == HOOP_DIR_RESPONSE) ? c : s->upstream->peer.connection;

    out = NULL;
    ll = &out;

    while (d->out) {
        o = d->out;
        d->out = o->next;

        cl = ngx_alloc_chain_link(c->pool);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        cl->buf = &o->buf;
        cl->next = NULL;
        *ll = cl;
        ll = &cl->next;

        /* append to busy, keeping send order */
        o->next = NULL;

        if (d->busy == NULL) {
            d->busy = o;

        } else {
            hoop_out_t  *t;

            for (t = d->busy; t->next; t = t->next) { /* void */ }
            t->next = o;
        }
    }

    d->out_last = &d->out;

    if (out == NULL
        && !(dst->buffered & (NGX_STREAM_WRITE_BUFFERED
                              | NGX_LOWLEVEL_BUFFERED)))
    {
        rc = NGX_OK;

    } else {
        rc = next(s, out, dir);
    }

    while (out) {
        cl = out->next;
        ngx_free_chain(c->pool, out);
        out = cl;
    }

    while (d->busy && d->busy->buf.pos == d->busy->buf.last) {
        o = d->busy;
        d->busy = o->next;
        d->queued -= o->buf.last - o->buf.start;
        hoop_out_free(o);
    }

    dst->buffered &= ~HOOP_BUFFERED;

    if (dir == HOOP_DIR_RESPONSE && hs->dir[HOOP_DIR_REQUEST].pending
        && hoop_session_backlog(hs, HOOP_DIR_REQUEST) < hs->conf->buffer_size)
    {
        /* requests stopped behind this output: let them go on */
        s->upstream->peer.connection->buffered |= HOOP_BUFFERED;
        ngx_post_event(s->upstream->peer.connection->write,
                       &ngx_posted_events);
    }

    if (dir == HOOP_DIR_RESPONSE) {
        if (hs->closing && rc == NGX_OK && d->out == NULL && d->busy == NULL)
        {
            /* the refusal reached the client: now close, as Kafka does */
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "hoop: closing connection after refusing "
                          "authentication");
            return NGX_ERROR;
        }
    }

    return rc;
}


hoop_out_t *
hoop_out_wrap(u_char *data, size_t size)
{
    hoop_out_t  *o;

    o = ngx_alloc(sizeof(hoop_out_t), ngx_cycle->log);
    if (o == NULL) {
        return NULL;
    }

    ngx_memzero(o, sizeof(hoop_out_t));

    o->data = data;
    o->buf.start = data;
    o->buf.pos = data;
    o->buf.last = data + size;
    o->buf.end = data + size;
    o->buf.memory = 1;
    o->buf.flush = 1;
    o->buf.tag = (ngx_buf_tag_t) &hoop_out_wrap;

    return o;
}


void
hoop_out_free(hoop_out_t *o)
{
    if (o->data) {
        ngx_free(o->data);
    }

    ngx_free(o);
}


void
hoop_out_queue(hoop_session_t *hs, ngx_uint_t dir, hoop_out_t *o)
{
    hoop_dir_t  *d;

    d = &hs->dir[dir];

    o->next = NULL;
    *d->out_last = o;
    d->out_last = &o->next;
    d->queued += o->buf.last - o->buf.start;
}


hoop_slot_t *
hoop_slot_push(hoop_session_t *hs, int32_t correlation_id, int16_t api_key,
    int16_t api_version, unsigned local)
{
    hoop_slot_t  *slot;

    slot = hs->free_slots;

    if (slot) {
        hs->free_slots = slot->next;

    } else {
        slot = ngx_alloc(sizeof(hoop_slot_t), hs->session->connection->log);
        if (slot == NULL) {
            return NULL;
        }
    }

    ngx_memzero(slot, sizeof(hoop_slot_t));

    slot->correlation_id = correlation_id;
    slot->api_key = api_key;
    slot->api_version = api_version;
    slot->local = local;

    *hs->inflight_last = slot;
    hs->inflight_last = &slot->next;
    hs->ninflight++;

    return slot;
}


/* What a slot kept for the policy's response step. */

static void
hoop_slot_release_plan(hoop_slot_t *slot)
{
    if (slot->pool) {
        ngx_destroy_pool(slot->pool);
        slot->pool = NULL;
    }

    if (slot->request) {
        ngx_free(slot->request);
        slot->request = NULL;
    }

    slot->plan = NULL;
}


/* Pops the head of the in-flight queue into the free list. */

void
hoop_slot_pop(hoop_session_t *hs)
{
    hoop_slot_t  *slot;

    slot = hs->inflight;
    hs->inflight = slot->next;

    if (hs->inflight == NULL) {
        hs->inflight_last = &hs->inflight;
    }

    hs->ninflight--;

    hoop_slot_release_plan(slot);

    slot->next = hs->free_slots;
    hs->free_slots = slot;
}


/*
 * Local answers at the head of the queue go out now; one behind a request
 * the broker still owes waits for that response.  When called outside the
 * response direction, the proxy is woken to write to the client.
 */

void
hoop_slot_release_local(hoop_session_t *hs)
{
    ngx_uint_t         queued;
    hoop_slot_t       *slot;
    ngx_connection_t  *c;

    queued = 0;

    while (hs->inflight && hs->inflight->local && hs->inflight->answer) {
        slot = hs->inflight;

        if (slot->close_after) {
            hs->closing = 1;
        }

        hoop_out_queue(hs, HOOP_DIR_RESPONSE, slot->answer);
        slot->answer = NULL;
        hoop_slot_pop(hs);
        queued = 1;
    }

    if (queued) {
        c = hs->session->connection;
        c->buffered |= HOOP_BUFFERED;
        ngx_post_event(c->write, &ngx_posted_events);
    }
}
