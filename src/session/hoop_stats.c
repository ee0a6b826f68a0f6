/*
 * What a connection did, for the stream access log (log_format) and the
 * metrics: each request's outcome goes to the shared counters
 * (src/metrics) and to the session's own small summary, read by the
 * variables
 *
 *   $hoop_requests    requests the client sent ("14")
 *   $hoop_decision    "auth_failed" if the last (re-)authentication
 *                     failed; else the strongest outcome: "deny" if any
 *                     request was denied or refused, else "partial", else
 *                     "allow"
 *                     if any was forwarded (with or without a policy),
 *                     else "local" (all answered by the gateway:
 *                     ApiVersions, SASL); empty before any request
 *   $hoop_decisions   counts by outcome ("allow=12 deny=1 local=3")
 *   $hoop_api_keys    counts by ApiKey ("Metadata=2 Produce=9 ..."; the
 *                     first 16 ApiKeys seen, "+N" for the others)
 *   $hoop_api_key     the ApiKey of the last request ("Fetch")
 *   $hoop_session_id  the session's id in the audit trail ("sid" of its
 *                     events), empty without hoop_audit
 *   $hoop_topics      topics the policy was asked about, comma separated
 *                     (at most 512 bytes, then "..."); empty without
 *                     hoop_policy
 *
 * Memory: one fixed block from the connection's pool, at its first
 * request.
 */

#include "hoop_session.h"
#include "hoop_stats.h"
#include "../kafka/hoop_kafka_walker.h"
#include "../audit/hoop_audit.h"


#define HOOP_STATS_APIS        16
#define HOOP_STATS_TOPICS_LEN  512


struct hoop_stats_s {
    uint32_t             decisions[HOOP_METRIC_DECISIONS];
    uint32_t             requests;
    int16_t              api[HOOP_STATS_APIS];
    uint32_t             api_n[HOOP_STATS_APIS];
    ngx_uint_t           napis;
    int16_t              last_api;
    uint32_t             api_more;
    u_char               topics[HOOP_STATS_TOPICS_LEN];
    size_t               topics_len;
    unsigned             topics_more:1;
    unsigned             auth_failed:1;
};


extern ngx_module_t  ngx_stream_hoop_module;

static const char  *hoop_stats_decision_names[HOOP_METRIC_DECISIONS] = {
    "allow", "deny", "partial", "unchecked", "local", "refused"
};


static ngx_int_t hoop_stats_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data);


static ngx_stream_variable_t  hoop_stats_variables[] = {

    { ngx_string("hoop_requests"), NULL, hoop_stats_variable,
      0, NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("hoop_decision"), NULL, hoop_stats_variable,
      1, NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("hoop_decisions"), NULL, hoop_stats_variable,
      2, NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("hoop_api_keys"), NULL, hoop_stats_variable,
      3, NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("hoop_topics"), NULL, hoop_stats_variable,
      4, NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("hoop_api_key"), NULL, hoop_stats_variable,
      5, NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("hoop_session_id"), NULL, hoop_stats_variable,
      6, NGX_STREAM_VAR_NOCACHEABLE, 0 },

      ngx_stream_null_variable
};


ngx_int_t
hoop_stats_add_variables(ngx_conf_t *cf)
{
    ngx_stream_variable_t  *var, *v;

    for (v = hoop_stats_variables; v->name.len; v++) {
        var = ngx_stream_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static hoop_stats_t *
hoop_stats_get(hoop_session_t *hs)
{
    if (hs->stats == NULL) {
        hs->stats = ngx_pcalloc(hs->session->connection->pool,
                                sizeof(hoop_stats_t));
    }

    return hs->stats;
}


void
hoop_stats_request(hoop_session_t *hs, int16_t api_key,
    hoop_metric_decision_e d)
{
    ngx_uint_t     i;
    hoop_stats_t  *st;

    hoop_metrics_request(api_key, d);

    st = hoop_stats_get(hs);
    if (st == NULL) {
        return;
    }

    st->requests++;
    st->decisions[d]++;
    st->last_api = api_key;

    for (i = 0; i < st->napis; i++) {
        if (st->api[i] == api_key) {
            st->api_n[i]++;
            return;
        }
    }

    if (st->napis == HOOP_STATS_APIS) {
        st->api_more++;
        return;
    }

    st->api[st->napis] = api_key;
    st->api_n[st->napis] = 1;
    st->napis++;
}


void
hoop_stats_auth(hoop_session_t *hs, ngx_uint_t ok)
{
    hoop_stats_t  *st;

    st = hoop_stats_get(hs);
    if (st != NULL) {
        st->auth_failed = !ok;
    }
}


void
hoop_stats_topic(hoop_session_t *hs, const u_char *name, size_t len)
{
    u_char        *p, *last, *comma;
    hoop_stats_t  *st;

    st = hoop_stats_get(hs);
    if (st == NULL || len == 0) {
        return;
    }

    p = st->topics;
    last = st->topics + st->topics_len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if ((size_t) (comma - p) == len && ngx_memcmp(p, name, len) == 0) {
            return;
        }

        p = comma + 1;
    }

    if (st->topics_len + (st->topics_len ? 1 : 0) + len
        > HOOP_STATS_TOPICS_LEN)
    {
        st->topics_more = 1;
        return;
    }

    p = st->topics + st->topics_len;

    if (st->topics_len) {
        *p++ = ',';
    }

    /* topic names are [a-zA-Z0-9._-]; anything else is shown as '?' */
    for (last = (u_char *) name + len; name < last; name++) {
        *p++ = ((*name >= 'a' && *name <= 'z')
                || (*name >= 'A' && *name <= 'Z')
                || (*name >= '0' && *name <= '9')
                || *name == '.' || *name == '_' || *name == '-')
               ? *name : '?';
    }

    st->topics_len = p - st->topics;
}


static ngx_int_t
hoop_stats_variable(ngx_stream_session_t *s, ngx_stream_variable_value_t *v,
    uintptr_t data)
{
    u_char          *buf, *p, *last;
    size_t           size;
    ngx_uint_t       i;
    ngx_str_t        sid;
    const char      *name;
    hoop_stats_t    *st;
    hoop_session_t  *hs;

    hs = ngx_stream_get_module_ctx(s, ngx_stream_hoop_module);

    if (data == 6) {
        if (hs == NULL || !hoop_audit_session_id(hs, &sid)) {
            v->not_found = 1;
            return NGX_OK;
        }

        v->data = sid.data;
        v->len = sid.len;
        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;
        return NGX_OK;
    }

    if (hs == NULL || hs->stats == NULL || hs->stats->requests == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    st = hs->stats;
    size = (data == 4) ? HOOP_STATS_TOPICS_LEN + 4 : 1024;

    buf = ngx_pnalloc(s->connection->pool, size);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    p = buf;
    last = buf + size;

    switch (data) {

    case 0:
        p = ngx_slprintf(p, last, "%uD", st->requests);
        break;

    case 1:
        if (st->auth_failed) {
            p = ngx_cpymem(p, "auth_failed", 11);

        } else if (st->decisions[HOOP_METRIC_DENY]
            || st->decisions[HOOP_METRIC_REFUSED])
        {
            p = ngx_cpymem(p, "deny", 4);

        } else if (st->decisions[HOOP_METRIC_PARTIAL]) {
            p = ngx_cpymem(p, "partial", 7);

        } else if (st->decisions[HOOP_METRIC_ALLOW]
                   || st->decisions[HOOP_METRIC_UNCHECKED])
        {
            p = ngx_cpymem(p, "allow", 5);

        } else {
            p = ngx_cpymem(p, "local", 5);
        }

        break;

    case 2:
        for (i = 0; i < HOOP_METRIC_DECISIONS; i++) {
            if (st->decisions[i]) {
                p = ngx_slprintf(p, last, "%s%s=%uD", p == buf ? "" : " ",
                                 hoop_stats_decision_names[i],
                                 st->decisions[i]);
            }
        }

        break;

    case 3:
        for (i = 0; i < st->napis; i++) {
            name = hoop_kafka_api_name(st->api[i]);
            p = ngx_slprintf(p, last, "%s%s=%uD", p == buf ? "" : " ",
                             name ? name : "unknown", st->api_n[i]);
        }

        if (st->api_more) {
            p = ngx_slprintf(p, last, " +%uD", st->api_more);
        }

        break;

    case 5:
        name = hoop_kafka_api_name(st->last_api);
        p = ngx_slprintf(p, last, "%s", name ? name : "unknown");
        break;

    default: /* 4 */
        p = ngx_cpymem(p, st->topics, st->topics_len);

        if (st->topics_more) {
            p = ngx_cpymem(p, "...", 3);
        }
    }

    v->data = buf;
    v->len = p - buf;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = (v->len == 0);

    return NGX_OK;
}
