/*
 * The audit trail's stream-level settings (hoop_audit.h has the rest):
 * kept apart so that the main configuration (hoop_session.h) can embed
 * them and the directives use nginx's own slot setters.
 */

#ifndef _HOOP_AUDIT_CONF_H_INCLUDED_
#define _HOOP_AUDIT_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* hoop_audit_spool ... full= */
#define HOOP_AUDIT_FULL_REFUSE     0
#define HOOP_AUDIT_FULL_DROP       1

#define HOOP_AUDIT_DEFAULT_SPOOL_MAX   (256 * 1024 * 1024)
#define HOOP_AUDIT_DEFAULT_RETENTION   (90 * 86400)    /* s */
#define HOOP_AUDIT_DEFAULT_AGGREGATE   5000            /* ms */

/* a batch: events per EVALSHA, and batches in flight */
#define HOOP_AUDIT_BATCH           64
#define HOOP_AUDIT_PIPELINE        4
/* queued in memory beyond this: Redis is too slow, spool instead */
#define HOOP_AUDIT_QUEUE_MAX       (8 * 1024 * 1024)


/* stream main level: where and how events are written */
typedef struct {
    ngx_str_t            node;          /* hoop_node_name; hostname */
    ngx_str_t            stream;        /* hoop_audit_stream: "audit" */
    ngx_uint_t           maxlen;        /* hoop_audit_maxlen; 0: none */
    time_t               retention;     /* hoop_audit_retention, s; 0 */
    ngx_path_t          *spool;         /* hoop_audit_spool DIR */
    off_t                spool_max;     /* max_size= */
    ngx_uint_t           spool_full;    /* full=refuse|drop */
    ngx_msec_t           aggregate;     /* hoop_audit_aggregate; 0: off */
    ngx_flag_t           used;          /* some server has hoop_audit on */
} hoop_audit_conf_t;



#endif /* _HOOP_AUDIT_CONF_H_INCLUDED_ */
