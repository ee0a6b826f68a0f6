/*
 * nginx variables of a Kafka session's identity, for log_format and map:
 * $hoop_principal, $hoop_groups (comma separated), $hoop_auth_method.
 * Empty (not found) before the client is identified.
 */

#include "hoop_auth.h"


extern ngx_module_t  ngx_stream_hoop_module;


static ngx_int_t hoop_variable_identity(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data);


static ngx_stream_variable_t  hoop_variables[] = {

    { ngx_string("hoop_principal"), NULL, hoop_variable_identity,
      0, NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("hoop_groups"), NULL, hoop_variable_identity,
      1, NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("hoop_auth_method"), NULL, hoop_variable_identity,
      2, NGX_STREAM_VAR_NOCACHEABLE, 0 },

      ngx_stream_null_variable
};


ngx_int_t
hoop_auth_add_variables(ngx_conf_t *cf)
{
    ngx_stream_variable_t  *var, *v;

    for (v = hoop_variables; v->name.len; v++) {
        var = ngx_stream_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
hoop_variable_identity(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data)
{
    u_char           *p;
    size_t            len;
    ngx_str_t        *g;
    ngx_uint_t        i;
    hoop_session_t   *hs;
    hoop_identity_t  *id;

    hs = ngx_stream_get_module_ctx(s, ngx_stream_hoop_module);

    if (hs == NULL || hs->identity.method == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    id = &hs->identity;

    switch (data) {

    case 0:
        v->data = id->principal.data;
        v->len = id->principal.len;
        break;

    case 1:
        len = 0;
        g = id->groups ? id->groups->elts : NULL;

        for (i = 0; id->groups && i < id->groups->nelts; i++) {
            len += g[i].len + 1;
        }

        p = ngx_pnalloc(s->connection->pool, len ? len : 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;

        for (i = 0; id->groups && i < id->groups->nelts; i++) {
            if (i) {
                *p++ = ',';
            }

            p = ngx_cpymem(p, g[i].data, g[i].len);
        }

        v->len = p - v->data;
        break;

    default:
        v->data = (u_char *) id->method;
        v->len = ngx_strlen(id->method);
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = (v->len == 0);   /* a failed login has no principal */

    return NGX_OK;
}
