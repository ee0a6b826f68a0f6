/*
 * The worker's audit writer (hoop_audit.h): a queue of events sent to
 * Redis in pipelined batches of the audit script, and the spool that
 * holds them in order while Redis is away.
 *
 * Modes:
 *   direct  Redis is ready and the spool is empty: events wait in memory
 *           until a batch is answered.
 *   spool   anything else: every event (first those sent but unanswered,
 *           then the queue, then new ones) is appended to the spool file;
 *           once Redis is ready the spools are replayed a batch at a
 *           time, the adopted ones of earlier workers first, and the
 *           writer goes back to direct when its own is empty.
 *
 * A spool file: a header line "# hoop audit spool v1 WRITER", then one
 * event per line (JSON never holds a raw newline).  The owner holds an
 * exclusive flock(); a file nobody locks belongs to a worker that is
 * gone, and the next one to see it replays it under that writer's id, so
 * the script's per-writer sequence check drops what was already written.
 */

#include <sys/file.h>
#include <dirent.h>

#include "hoop_audit.h"
#include "hoop_audit_lua.h"
#include "../redis/hoop_redis_conn.h"
#include "../metrics/hoop_metrics.h"


#define HOOP_AUDIT_SPOOL_MAGIC    "# hoop audit spool v1 "
#define HOOP_AUDIT_LINE_MAX       (1024 * 1024)
#define HOOP_AUDIT_TICK           1000       /* ms: fsync, replay, adopt */


typedef struct hoop_audit_ev_s  hoop_audit_ev_t;

struct hoop_audit_ev_s {
    hoop_audit_ev_t     *next;
    char                *json;               /* json_dumps(): free() */
    size_t               len;
};


/* one EVALSHA in flight */
typedef struct hoop_audit_batch_s  hoop_audit_batch_t;

struct hoop_audit_batch_s {
    hoop_audit_batch_t  *next;
    hoop_audit_ev_t     *events;             /* live batch; NULL: replay */
    struct hoop_audit_spool_s *replay;       /* replayed from this spool */
    off_t                replay_end;         /* read offset when answered */
    ngx_uint_t           n;                  /* events */
};


typedef struct hoop_audit_spool_s  hoop_audit_spool_t;

struct hoop_audit_spool_s {
    hoop_audit_spool_t  *next;               /* adopted ones */
    ngx_fd_t             fd;
    char                 path[NGX_MAX_PATH];
    char                 writer[256];
    off_t                size;               /* end of the last event */
    off_t                start;              /* after the header */
    off_t                read;               /* replayed up to here */
    unsigned             busy:1;             /* a replay batch in flight */
};


typedef struct {
    hoop_audit_conf_t   *conf;
    hoop_redis_conf_t   *redis;
    ngx_log_t           *log;
    hoop_redis_conn_t    rc;

    u_char               stream[512];
    size_t               stream_len;
    u_char               maxlen[NGX_INT_T_LEN];
    size_t               maxlen_len;
    u_char               retention[NGX_INT_T_LEN];
    size_t               retention_len;

    uint64_t             seq;

    hoop_audit_ev_t     *queue;
    hoop_audit_ev_t    **queue_last;
    size_t               queued;             /* bytes */

    hoop_audit_batch_t  *inflight;           /* oldest first */
    hoop_audit_batch_t **inflight_last;
    ngx_uint_t           ninflight;

    hoop_audit_spool_t   own;
    hoop_audit_spool_t  *adopted;

    ngx_event_t          flush;              /* posted */
    ngx_event_t          tick;

    uint64_t             dropped;            /* full=drop */
    uint64_t             lost;               /* could not even be spooled */

    int64_t              reloaded;           /* ms: SCRIPT LOAD on NOSCRIPT */
    int64_t              backoff;            /* ms: no replay before, but
                                                on the tick */

    unsigned             started:1;
    unsigned             spooling:1;
    unsigned             full:1;
    unsigned             dirty:1;            /* fsync due */
    unsigned             stopping:1;
} hoop_audit_writer_t;


static hoop_audit_writer_t  hoop_audit_w;

int64_t  hoop_audit_epoch;


static void hoop_audit_flush_handler(ngx_event_t *ev);
static void hoop_audit_tick_handler(ngx_event_t *ev);
static void hoop_audit_ready(hoop_redis_conn_t *rc);
static void hoop_audit_lost(hoop_redis_conn_t *rc);
static void hoop_audit_send(hoop_audit_writer_t *w);
static void hoop_audit_batch_error(hoop_audit_writer_t *w, redisReply *r);
static void hoop_audit_replay(hoop_audit_writer_t *w);
static void hoop_audit_to_spool(hoop_audit_writer_t *w);
static ngx_int_t hoop_audit_spool_append(hoop_audit_writer_t *w,
    const char *json, size_t len);
static ngx_int_t hoop_audit_spool_open(hoop_audit_writer_t *w);
static void hoop_audit_adopt(hoop_audit_writer_t *w);
static void hoop_audit_spool_sync(hoop_audit_writer_t *w);


static int64_t
hoop_audit_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


/* hoop_worker_audit_spool_bytes: what this worker still has to replay */
static void
hoop_audit_spool_gauge(hoop_audit_writer_t *w)
{
    off_t                   n;
    hoop_audit_spool_t     *sp;
    hoop_metrics_worker_t  *mw;

    mw = hoop_metrics_worker();

    if (mw == NULL) {
        return;
    }

    n = w->own.size - w->own.read;

    for (sp = w->adopted; sp; sp = sp->next) {
        n += sp->size - sp->read;
    }

    mw->audit_spool_bytes = (ngx_atomic_uint_t) n;
}


static void
hoop_audit_ev_free(hoop_audit_ev_t *e)
{
    hoop_audit_ev_t  *next;

    while (e) {
        next = e->next;
        free(e->json);
        ngx_free(e);
        e = next;
    }
}


ngx_int_t
hoop_audit_start(ngx_cycle_t *cycle, hoop_main_conf_t *hmcf)
{
    hoop_audit_conf_t    *conf;
    hoop_audit_writer_t  *w;

    w = &hoop_audit_w;
    conf = &hmcf->audit;

    if (!conf->used) {
        return NGX_OK;
    }

    ngx_memzero(w, sizeof(hoop_audit_writer_t));

    w->conf = conf;
    w->redis = hmcf->redis;
    w->log = cycle->log;
    w->queue_last = &w->queue;
    w->inflight_last = &w->inflight;
    w->own.fd = NGX_INVALID_FILE;

    w->stream_len = hoop_redis_key(w->redis, (char *) conf->stream.data, 0,
                                   w->stream, sizeof(w->stream));
    w->maxlen_len = ngx_sprintf(w->maxlen, "%ui", conf->maxlen) - w->maxlen;
    w->retention_len = ngx_sprintf(w->retention, "%T", conf->retention)
                       - w->retention;

    hoop_audit_epoch = hoop_audit_ms();

    ngx_sprintf((u_char *) w->own.writer, "%V:%P:%L%Z", &conf->node,
                ngx_pid, hoop_audit_epoch);

    if (hoop_audit_spool_open(w) != NGX_OK) {
        /* logged: the writer goes on without a spool, which then counts
         * as full whenever Redis is away */
        if (w->own.fd != NGX_INVALID_FILE) {
            (void) ngx_close_file(w->own.fd);
            w->own.fd = NGX_INVALID_FILE;
        }
    }

    w->flush.handler = hoop_audit_flush_handler;
    w->flush.data = w;
    w->flush.log = cycle->log;

    w->tick.handler = hoop_audit_tick_handler;
    w->tick.data = w;
    w->tick.log = cycle->log;
    w->tick.cancelable = 1;

    w->started = 1;

    /* what earlier workers left is replayed before anything new */
    hoop_audit_adopt(w);

    if (w->adopted) {
        w->spooling = 1;
    }

    w->rc.conf = w->redis;
    w->rc.log = cycle->log;
    w->rc.role = "audit";
    w->rc.ready = hoop_audit_ready;
    w->rc.lost = hoop_audit_lost;
    w->rc.data = w;

    hoop_redis_conn_start(&w->rc);

    ngx_add_timer(&w->tick, HOOP_AUDIT_TICK);

    return NGX_OK;
}


void
hoop_audit_stop(ngx_cycle_t *cycle)
{
    hoop_audit_writer_t  *w;
    hoop_audit_spool_t   *sp;

    w = &hoop_audit_w;

    if (!w->started) {
        return;
    }

    w->stopping = 1;

    /* nothing unanswered is lost: the next worker replays it */
    hoop_audit_to_spool(w);

    if (w->tick.timer_set) {
        ngx_del_timer(&w->tick);
    }

    if (w->flush.posted) {
        ngx_delete_posted_event(&w->flush);
    }

    hoop_redis_conn_close(&w->rc);

    /* the callbacks of batches in flight ran with NULL replies */
    hoop_audit_spool_sync(w);

    if (w->own.fd != NGX_INVALID_FILE) {
        if (w->own.read >= w->own.size) {
            (void) ngx_delete_file(w->own.path);
        }

        (void) ngx_close_file(w->own.fd);
        w->own.fd = NGX_INVALID_FILE;
    }

    for (sp = w->adopted; sp; sp = sp->next) {
        (void) ngx_close_file(sp->fd);
    }

    w->started = 0;
}


ngx_uint_t
hoop_audit_accepting(void)
{
    hoop_audit_writer_t  *w;

    w = &hoop_audit_w;

    /* a full spool matters only while events go to it */
    return !(w->started && w->full && w->spooling
             && w->conf->spool_full == HOOP_AUDIT_FULL_REFUSE);
}


void
hoop_audit_emit(json_t *ev)
{
    char                 *s;
    hoop_audit_ev_t      *e;
    hoop_audit_writer_t  *w;

    w = &hoop_audit_w;

    if (!w->started) {
        json_decref(ev);
        return;
    }

    if (w->full && w->spooling
        && w->conf->spool_full == HOOP_AUDIT_FULL_DROP)
    {
        w->dropped++;
        hoop_metric_add(audit[HOOP_METRIC_AUDIT_DROPPED], 1);
        json_decref(ev);
        return;
    }

    json_object_set_new(ev, "seq", json_integer((json_int_t) ++w->seq));

    s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev);

    if (s == NULL) {
        w->lost++;
        hoop_metric_add(audit[HOOP_METRIC_AUDIT_LOST], 1);
        return;
    }

    if (w->spooling || !hoop_redis_conn_ready(&w->rc)) {
        if (!w->spooling) {
            hoop_audit_to_spool(w);
        }

        (void) hoop_audit_spool_append(w, s, ngx_strlen(s));
        free(s);
        return;
    }

    e = ngx_alloc(sizeof(hoop_audit_ev_t), w->log);
    if (e == NULL) {
        free(s);
        w->lost++;
        hoop_metric_add(audit[HOOP_METRIC_AUDIT_LOST], 1);
        return;
    }

    e->next = NULL;
    e->json = s;
    e->len = ngx_strlen(s);

    *w->queue_last = e;
    w->queue_last = &e->next;
    w->queued += e->len;

    if (w->queued > HOOP_AUDIT_QUEUE_MAX) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "hoop: audit: redis %V is too slow, spooling events",
                      &w->redis->name);
        hoop_audit_to_spool(w);
        return;
    }

    if (!w->flush.posted) {
        ngx_post_event(&w->flush, &ngx_posted_events);
    }
}


static void
hoop_audit_flush_handler(ngx_event_t *ev)
{
    hoop_audit_send(ev->data);
}


/*
 * Everything not yet answered goes to the spool, in order: batches in
 * flight (their replies, if any come, are then ignored), then the queue.
 * From here on new events are spooled too, until a replay empties it.
 */

static void
hoop_audit_to_spool(hoop_audit_writer_t *w)
{
    hoop_audit_ev_t     *e;
    hoop_audit_batch_t  *b;

    w->spooling = 1;

    for (b = w->inflight; b; b = b->next) {
        for (e = b->events; e; e = e->next) {
            (void) hoop_audit_spool_append(w, e->json, e->len);
        }

        hoop_audit_ev_free(b->events);
        b->events = NULL;

        if (b->replay) {
            b->replay->busy = 0;
            b->replay = NULL;
        }
    }

    for (e = w->queue; e; e = e->next) {
        (void) hoop_audit_spool_append(w, e->json, e->len);
    }

    hoop_audit_ev_free(w->queue);
    w->queue = NULL;
    w->queue_last = &w->queue;
    w->queued = 0;
}


/* one EVALSHA with n events; argv[6..] filled by the caller */

#define HOOP_AUDIT_ARGS  7
/* argv of one EVALSHA: the fixed arguments, the writer, a batch's events
 * (hoop_audit_evalsha() inserts the writer before the events) */
#define HOOP_AUDIT_ARGV  (HOOP_AUDIT_ARGS + 1 + HOOP_AUDIT_BATCH)

static ngx_int_t
hoop_audit_evalsha(hoop_audit_writer_t *w, hoop_audit_batch_t *b,
    const char *writer, const char **argv, size_t *argvlen, ngx_uint_t n);
static void hoop_audit_on_batch(redisAsyncContext *ac, void *reply,
    void *data);


static void
hoop_audit_send(hoop_audit_writer_t *w)
{
    ngx_uint_t           n;
    hoop_audit_ev_t     *e, *last;
    hoop_audit_batch_t  *b;
    const char          *argv[HOOP_AUDIT_ARGV];
    size_t               argvlen[HOOP_AUDIT_ARGV];

    while (w->queue && !w->spooling && hoop_redis_conn_ready(&w->rc)
           && w->ninflight < HOOP_AUDIT_PIPELINE)
    {
        b = ngx_calloc(sizeof(hoop_audit_batch_t), w->log);
        if (b == NULL) {
            return;
        }

        n = 0;
        last = NULL;

        for (e = w->queue; e && n < HOOP_AUDIT_BATCH; e = e->next) {
            argv[HOOP_AUDIT_ARGS + n] = e->json;
            argvlen[HOOP_AUDIT_ARGS + n] = e->len;
            w->queued -= e->len;
            last = e;
            n++;
        }

        b->events = w->queue;
        w->queue = last->next;
        last->next = NULL;

        if (w->queue == NULL) {
            w->queue_last = &w->queue;
        }

        if (hoop_audit_evalsha(w, b, w->own.writer, argv, argvlen, n)
            != NGX_OK)
        {
            return;
        }
    }
}


static ngx_int_t
hoop_audit_evalsha(hoop_audit_writer_t *w, hoop_audit_batch_t *b,
    const char *writer, const char **argv, size_t *argvlen, ngx_uint_t n)
{
    argv[0] = "EVALSHA";
    argv[1] = HOOP_AUDIT_LUA_SHA1;
    argv[2] = "0";
    argv[3] = (char *) w->redis->prefix.data;
    argv[4] = (char *) w->stream;
    argv[5] = (char *) w->maxlen;
    argv[6] = (char *) w->retention;
    argvlen[0] = 7;
    argvlen[1] = sizeof(HOOP_AUDIT_LUA_SHA1) - 1;
    argvlen[2] = 1;
    argvlen[3] = w->redis->prefix.len;
    argvlen[4] = w->stream_len;
    argvlen[5] = w->maxlen_len;
    argvlen[6] = w->retention_len;

    /* the writer goes before the events: shift them by one */
    ngx_memmove(&argv[HOOP_AUDIT_ARGS + 1], &argv[HOOP_AUDIT_ARGS],
                n * sizeof(char *));
    ngx_memmove(&argvlen[HOOP_AUDIT_ARGS + 1], &argvlen[HOOP_AUDIT_ARGS],
                n * sizeof(size_t));
    argv[HOOP_AUDIT_ARGS] = writer;
    argvlen[HOOP_AUDIT_ARGS] = ngx_strlen(writer);

    b->n = n;
    *w->inflight_last = b;
    w->inflight_last = &b->next;
    w->ninflight++;

    if (redisAsyncCommandArgv(w->rc.ac, hoop_audit_on_batch, w,
                              (int) (HOOP_AUDIT_ARGS + 1 + n), argv,
                              argvlen)
        != REDIS_OK)
    {
        /* the batch is in the list: it goes to the spool with the rest */
        hoop_audit_to_spool(w);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Replies come in the order sent.  An error or a lost connection (NULL)
 * sends everything still unanswered to the spool; the batches after it
 * then find their events gone.
 */

static void
hoop_audit_on_batch(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply           *r = reply;
    hoop_audit_writer_t  *w = data;

    hoop_audit_batch_t  *b;
    hoop_audit_spool_t  *sp;

    b = w->inflight;

    if (b == NULL) {
        return;
    }

    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        /* only the first refused batch counts: those pipelined behind it
         * had their events spooled with it and fail the same way */
        if (r && !w->stopping && (b->events || b->replay)) {
            hoop_audit_batch_error(w, r);
        }

        if (b->events || b->replay) {
            hoop_audit_to_spool(w);
        }

    } else if (b->replay) {
        sp = b->replay;
        sp->read = b->replay_end;
        sp->busy = 0;
        hoop_metric_add(audit[HOOP_METRIC_AUDIT_REPLAYED], b->n);
        hoop_audit_spool_gauge(w);

    } else {
        hoop_metric_add(audit[HOOP_METRIC_AUDIT_WRITTEN], b->n);
    }

    w->inflight = b->next;
    if (w->inflight == NULL) {
        w->inflight_last = &w->inflight;
    }
    w->ninflight--;

    hoop_audit_ev_free(b->events);
    ngx_free(b);

    if (w->stopping) {
        return;
    }

    if (w->spooling) {
        if (hoop_audit_ms() >= w->backoff) {
            hoop_audit_replay(w);
        }

    } else if (w->queue) {
        hoop_audit_send(w);
    }
}


/*
 * A batch refused by Redis; its events go to the spool (the caller).
 * NOSCRIPT: Redis lost the script on a live connection (SCRIPT FLUSH, a
 * script cache reset): it is loaded again, pipelined before the replay
 * that resends the batch, so the replay finds it.  Anything else, or
 * NOSCRIPT again within a tick of a load, waits for the tick before the
 * replay: never a retry loop, and at most about one log line a tick.
 */

static void
hoop_audit_batch_error(hoop_audit_writer_t *w, redisReply *r)
{
    int64_t  now;

    now = hoop_audit_ms();

    if (r->len >= 8 && ngx_strncmp(r->str, "NOSCRIPT", 8) == 0
        && now - w->reloaded >= HOOP_AUDIT_TICK
        && hoop_redis_conn_ready(&w->rc))
    {
        w->reloaded = now;

        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "hoop: audit: redis %V: the audit script is gone "
                      "(NOSCRIPT): loading it again", &w->redis->name);

        if (redisAsyncCommand(w->rc.ac, NULL, NULL, "SCRIPT LOAD %b",
                              hoop_audit_lua, sizeof(hoop_audit_lua) - 1)
            == REDIS_OK)
        {
            return;
        }
    }

    w->backoff = now + HOOP_AUDIT_TICK;

    ngx_log_error(NGX_LOG_ERR, w->log, 0,
                  "hoop: audit: redis %V: %*s; spooling events, retrying "
                  "in %d ms", &w->redis->name, (size_t) r->len, r->str,
                  HOOP_AUDIT_TICK);
}


static void
hoop_audit_ready(hoop_redis_conn_t *rc)
{
    hoop_audit_writer_t  *w = rc->data;

    /* pipelined before any batch: the batches then find the script */
    if (redisAsyncCommand(rc->ac, NULL, NULL, "SCRIPT LOAD %b",
                          hoop_audit_lua, sizeof(hoop_audit_lua) - 1)
        != REDIS_OK)
    {
        hoop_redis_conn_drop(rc, "cannot send SCRIPT LOAD");
        return;
    }

    if (w->spooling) {
        hoop_audit_replay(w);

    } else {
        hoop_audit_send(w);
    }
}


static void
hoop_audit_lost(hoop_redis_conn_t *rc)
{
    hoop_audit_writer_t  *w = rc->data;

    /* in order: batches in flight, then the queue; the callbacks that
     * follow with NULL replies find their events gone */
    if (!w->stopping && (w->queue || w->inflight)) {
        hoop_audit_to_spool(w);
    }
}


/* ---------------------------------------------------------------------
 * The spool
 */

static ngx_int_t
hoop_audit_spool_open(hoop_audit_writer_t *w)
{
    u_char               *p;
    size_t                n;
    char                  tmp[NGX_MAX_PATH];
    hoop_audit_spool_t   *sp;

    sp = &w->own;

    p = ngx_snprintf((u_char *) sp->path, sizeof(sp->path) - 1,
                     "%V/audit.%P.%L.spool", &w->conf->spool->name, ngx_pid,
                     hoop_audit_epoch);
    *p = '\0';

    /*
     * Created under a name other workers' adoption scan ignores, locked and
     * given its header, then renamed: a worker starting at the same moment
     * never opens (and locks) a spool that has no header yet.
     */
    p = ngx_snprintf((u_char *) tmp, sizeof(tmp) - 1, "%s.new", sp->path);
    *p = '\0';

    sp->fd = ngx_open_file(tmp, NGX_FILE_RDWR, NGX_FILE_TRUNCATE,
                           NGX_FILE_DEFAULT_ACCESS);

    if (sp->fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ALERT, w->log, ngx_errno,
                      "hoop: audit: cannot create spool file \"%s\" "
                      "(hoop_audit_spool)", tmp);
        return NGX_ERROR;
    }

    if (flock(sp->fd, LOCK_EX | LOCK_NB) != 0) {
        ngx_log_error(NGX_LOG_ALERT, w->log, ngx_errno,
                      "hoop: audit: cannot lock spool file \"%s\"", tmp);
        (void) unlink(tmp);
        return NGX_ERROR;
    }

    n = ngx_strlen(HOOP_AUDIT_SPOOL_MAGIC);

    if (write(sp->fd, HOOP_AUDIT_SPOOL_MAGIC, n) != (ssize_t) n
        || write(sp->fd, sp->writer, ngx_strlen(sp->writer))
           != (ssize_t) ngx_strlen(sp->writer)
        || write(sp->fd, "\n", 1) != 1)
    {
        ngx_log_error(NGX_LOG_ALERT, w->log, ngx_errno,
                      "hoop: audit: cannot write spool file \"%s\"", tmp);
        (void) unlink(tmp);
        return NGX_ERROR;
    }

    if (rename(tmp, sp->path) != 0) {
        ngx_log_error(NGX_LOG_ALERT, w->log, ngx_errno,
                      "hoop: audit: cannot rename \"%s\" to \"%s\"", tmp,
                      sp->path);
        (void) unlink(tmp);
        return NGX_ERROR;
    }

    sp->start = n + ngx_strlen(sp->writer) + 1;
    sp->size = sp->start;
    sp->read = sp->start;

    return NGX_OK;
}


static ngx_int_t
hoop_audit_spool_append(hoop_audit_writer_t *w, const char *json, size_t len)
{
    ssize_t              n;
    struct iovec         iov[2];
    hoop_audit_spool_t  *sp;

    sp = &w->own;

    if (sp->fd == NGX_INVALID_FILE
        || sp->size + (off_t) len + 1 > w->conf->spool_max)
    {
        if (!w->full) {
            ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                          "hoop: audit: spool \"%s\" is %s (max_size=%O); "
                          "%s", sp->path,
                          sp->fd == NGX_INVALID_FILE ? "unusable" : "full",
                          w->conf->spool_max,
                          w->conf->spool_full == HOOP_AUDIT_FULL_REFUSE
                          ? "refusing new requests"
                          : "dropping new events");
            w->full = 1;
        }

        w->dropped++;
        hoop_metric_add(audit[HOOP_METRIC_AUDIT_DROPPED], 1);
        return NGX_ERROR;
    }

    iov[0].iov_base = (void *) json;
    iov[0].iov_len = len;
    iov[1].iov_base = "\n";
    iov[1].iov_len = 1;

    n = pwritev(sp->fd, iov, 2, sp->size);

    if (n != (ssize_t) len + 1) {
        ngx_log_error(NGX_LOG_ALERT, w->log, n < 0 ? ngx_errno : 0,
                      "hoop: audit: cannot write spool \"%s\"", sp->path);
        /* a partial line is overwritten by the next one */
        w->lost++;
        hoop_metric_add(audit[HOOP_METRIC_AUDIT_LOST], 1);
        return NGX_ERROR;
    }

    sp->size += n;
    w->dirty = 1;

    hoop_metric_add(audit[HOOP_METRIC_AUDIT_SPOOLED], 1);
    hoop_audit_spool_gauge(w);

    return NGX_OK;
}


static void
hoop_audit_spool_sync(hoop_audit_writer_t *w)
{
    if (w->dirty && w->own.fd != NGX_INVALID_FILE) {
        if (fdatasync(w->own.fd) != 0) {
            ngx_log_error(NGX_LOG_ALERT, w->log, ngx_errno,
                          "hoop: audit: fdatasync \"%s\" failed",
                          w->own.path);
        }

        w->dirty = 0;
    }
}


/*
 * Sends the next batch of the oldest spool with events left: reads whole
 * lines from its read offset.  One replay batch at a time, so that the
 * order holds.  When the writer's own spool is empty it is truncated and
 * the writer goes direct.
 */

static void
hoop_audit_replay(hoop_audit_writer_t *w)
{
    u_char               *buf, *p, *last, *nl;
    ssize_t               n;
    ngx_uint_t            k;
    hoop_audit_batch_t   *b;
    hoop_audit_spool_t   *sp, **spp;
    const char           *argv[HOOP_AUDIT_ARGV];
    size_t                argvlen[HOOP_AUDIT_ARGV];
    static u_char        *rbuf;

    if (w->stopping || !hoop_redis_conn_ready(&w->rc)) {
        return;
    }

    /* drop adopted spools that are done */
    for (spp = &w->adopted; *spp; /* void */) {
        sp = *spp;

        if (!sp->busy && sp->read >= sp->size) {
            ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                          "hoop: audit: replayed spool \"%s\" of writer %s",
                          sp->path, sp->writer);
            (void) ngx_delete_file(sp->path);
            (void) ngx_close_file(sp->fd);
            *spp = sp->next;
            ngx_free(sp);
            continue;
        }

        spp = &sp->next;
    }

    sp = w->adopted ? w->adopted : &w->own;

    if (sp->busy) {
        return;
    }

    if (sp == &w->own && sp->read >= sp->size) {
        if (w->ninflight) {
            return;    /* batches of the old direct mode still answering */
        }

        if (sp->fd != NGX_INVALID_FILE && ftruncate(sp->fd, sp->start) != 0)
        {
            ngx_log_error(NGX_LOG_ALERT, w->log, ngx_errno,
                          "hoop: audit: cannot truncate \"%s\"", sp->path);
            return;
        }

        sp->size = sp->start;
        sp->read = sp->start;
        w->spooling = 0;
        hoop_audit_spool_gauge(w);

        if (w->full) {
            w->full = 0;
            ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                          "hoop: audit: spool \"%s\" emptied; %uL events "
                          "were dropped", sp->path, w->dropped);

            if (w->dropped) {
                json_t *ev = json_object();

                if (ev) {
                    json_object_set_new(ev, "v",
                                        json_integer(HOOP_AUDIT_FORMAT));
                    json_object_set_new(ev, "ts", json_integer(
                                   hoop_audit_ms()));
                    json_object_set_new(ev, "node", json_stringn(
                                   (char *) w->conf->node.data,
                                   w->conf->node.len));
                    json_object_set_new(ev, "event",
                                        json_string("audit_dropped"));
                    json_object_set_new(ev, "count", json_integer(
                                   (json_int_t) w->dropped));
                    w->dropped = 0;
                    hoop_audit_emit(ev);
                }
            }
        }

        ngx_log_error(NGX_LOG_INFO, w->log, 0,
                      "hoop: audit: spool replayed, writing to redis %V",
                      &w->redis->name);
        hoop_audit_send(w);
        return;
    }

    if (rbuf == NULL) {
        rbuf = ngx_alloc(HOOP_AUDIT_LINE_MAX, w->log);
        if (rbuf == NULL) {
            return;
        }
    }

    buf = rbuf;

    n = pread(sp->fd, buf, HOOP_AUDIT_LINE_MAX, sp->read);

    if (n <= 0) {
        ngx_log_error(NGX_LOG_ALERT, w->log, n < 0 ? ngx_errno : 0,
                      "hoop: audit: cannot read spool \"%s\"", sp->path);
        sp->read = sp->size;    /* give up on the rest of this file */
        return;
    }

    p = buf;
    last = buf + n;
    k = 0;

    while (k < HOOP_AUDIT_BATCH
           && (nl = ngx_strlchr(p, last, '\n')) != NULL)
    {
        if (nl > p) {
            argv[HOOP_AUDIT_ARGS + k] = (char *) p;
            argvlen[HOOP_AUDIT_ARGS + k] = nl - p;
            k++;
        }

        p = nl + 1;
    }

    if (p == buf) {
        /* no whole line in a full buffer, or a torn tail of a dead
         * worker's file: skip it */
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "hoop: audit: spool \"%s\": unreadable line at %O "
                      "skipped", sp->path, sp->read);
        sp->read = sp->size;
        return;
    }

    b = ngx_calloc(sizeof(hoop_audit_batch_t), w->log);
    if (b == NULL) {
        return;
    }

    b->replay = sp;
    b->replay_end = sp->read + (p - buf);
    sp->busy = 1;

    if (k == 0) {
        /* only empty lines: nothing to send */
        sp->read = b->replay_end;
        sp->busy = 0;
        ngx_free(b);
        hoop_audit_replay(w);
        return;
    }

    (void) hoop_audit_evalsha(w, b, sp->writer, argv, argvlen, k);
}


static void
hoop_audit_tick_handler(ngx_event_t *ev)
{
    hoop_audit_writer_t  *w = ev->data;

    hoop_audit_spool_sync(w);

    /* workers that exited since (a reload) leave their files unlocked */
    hoop_audit_adopt(w);

    if (w->spooling) {
        hoop_audit_replay(w);
    }

    if (!w->stopping) {
        ngx_add_timer(&w->tick, HOOP_AUDIT_TICK);
    }
}


/*
 * Spool files of writers that are gone (unlocked): adopted in the order
 * of their names, which start with the pid and the writer's start time.
 */

static void
hoop_audit_adopt(hoop_audit_writer_t *w)
{
    u_char              *p;
    size_t               n;
    ssize_t              r;
    DIR                 *dir;
    ngx_fd_t             fd;
    struct dirent       *de;
    hoop_audit_spool_t  *sp, **spp;
    char                 path[NGX_MAX_PATH];
    char                 head[512];

    dir = opendir((char *) w->conf->spool->name.data);
    if (dir == NULL) {
        return;
    }

    while ((de = readdir(dir)) != NULL) {
        n = ngx_strlen(de->d_name);

        if (n < 12 || ngx_strncmp(de->d_name, "audit.", 6) != 0
            || ngx_strcmp(de->d_name + n - 6, ".spool") != 0)
        {
            continue;
        }

        p = ngx_snprintf((u_char *) path, sizeof(path) - 1, "%V/%s",
                         &w->conf->spool->name, de->d_name);
        *p = '\0';

        if (ngx_strcmp(path, w->own.path) == 0) {
            continue;
        }

        for (sp = w->adopted; sp; sp = sp->next) {
            if (ngx_strcmp(sp->path, path) == 0) {
                break;
            }
        }

        if (sp) {
            continue;
        }

        fd = ngx_open_file(path, NGX_FILE_RDWR, NGX_FILE_OPEN, 0);
        if (fd == NGX_INVALID_FILE) {
            continue;
        }

        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            (void) ngx_close_file(fd);    /* its writer is alive */
            continue;
        }

        r = pread(fd, head, sizeof(head) - 1, 0);
        head[r > 0 ? r : 0] = '\0';

        n = ngx_strlen(HOOP_AUDIT_SPOOL_MAGIC);
        p = (u_char *) ngx_strchr(head, '\n');

        if (r <= 0 || p == NULL
            || ngx_strncmp(head, HOOP_AUDIT_SPOOL_MAGIC, n) != 0)
        {
            ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                          "hoop: audit: \"%s\" is not a spool file, left "
                          "alone", path);
            (void) ngx_close_file(fd);
            continue;
        }

        sp = ngx_calloc(sizeof(hoop_audit_spool_t), w->log);
        if (sp == NULL) {
            (void) ngx_close_file(fd);
            break;
        }

        sp->fd = fd;
        ngx_cpystrn((u_char *) sp->path, (u_char *) path, sizeof(sp->path));
        *p = '\0';
        ngx_cpystrn((u_char *) sp->writer, (u_char *) head + n,
                    sizeof(sp->writer));
        sp->start = (p - (u_char *) head) + 1;
        sp->read = sp->start;
        sp->size = lseek(fd, 0, SEEK_END);

        if (sp->size <= sp->start) {
            /* nothing in it */
            (void) ngx_delete_file(sp->path);
            (void) ngx_close_file(fd);
            ngx_free(sp);
            continue;
        }

        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "hoop: audit: adopting spool \"%s\" of writer %s "
                      "(%O bytes)", sp->path, sp->writer, sp->size);

        for (spp = &w->adopted;
             *spp && ngx_strcmp((*spp)->path, sp->path) < 0;
             spp = &(*spp)->next)
        { /* void */ }

        sp->next = *spp;
        *spp = sp;
        w->spooling = 1;
    }

    closedir(dir);
}
