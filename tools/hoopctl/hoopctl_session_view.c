/*
 * hoopctl sessions: what needs no Redis (docs/audit.md, "Session
 * recording"): a recorded session's listing hash as typed JSON and as a
 * row of `sessions list`, one recorded event as a line of the timeline of
 * `sessions show`, and payloads (base64 in the stream) as hex dumps.
 * Kept apart from hoopctl_sessions.c for the unit tests.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hoopctl.h"


/* the fields of P audit:sessions:<sid>, in output order; the rest follow
 * as strings */
static const struct {
    const char                  *name;
    int                          number;
} hoopctl_session_fields[] = {
    { "node", 0 }, { "principal", 0 }, { "auth", 0 }, { "client", 0 },
    { "client_id", 0 }, { "software", 0 }, { "record", 0 },
    { "first", 1 }, { "last", 1 }, { "closed", 1 }, { "requests", 1 },
    { "responses", 1 }, { "bytes", 1 }, { "entries", 1 },
    { "bytes_in", 1 }, { "bytes_out", 1 }, { "duration_ms", 1 },
    { NULL, 0 }
};


static long
hoopctl_session_field(const char *key, size_t len)
{
    long  i;

    for (i = 0; hoopctl_session_fields[i].name; i++) {
        if (strlen(hoopctl_session_fields[i].name) == len
            && memcmp(hoopctl_session_fields[i].name, key, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


/* a decimal integer as a JSON integer, anything else as a string */
static json_t *
hoopctl_session_number(const char *s, size_t len)
{
    char       buf[24], *end;
    long long  v;

    if (len == 0 || len >= sizeof(buf)) {
        return hoopctl_json_strn(s, len);
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    errno = 0;
    v = strtoll(buf, &end, 10);

    if (*end != '\0' || errno != 0 || !((buf[0] >= '0' && buf[0] <= '9')
                                        || buf[0] == '-'))
    {
        return hoopctl_json_strn(s, len);
    }

    return json_integer((json_int_t) v);
}


json_t *
hoopctl_session_info_json(const char *sid, size_t sidlen, size_t nfields,
    const char **keys, const size_t *klens, const char **vals,
    const size_t *vlens)
{
    long         f;
    size_t       i, k;
    json_t      *info, *v;
    const char  *name;

    info = json_object();
    json_object_set_new(info, "sid", hoopctl_json_strn(sid, sidlen));

    /* the known fields in their order, numbers typed */

    for (k = 0; hoopctl_session_fields[k].name; k++) {
        for (i = nfields; i > 0; i--) {
            if (hoopctl_session_field(keys[i - 1], klens[i - 1]) == (long) k)
            {
                break;
            }
        }

        if (i == 0) {
            continue;
        }

        i--;
        name = hoopctl_session_fields[k].name;
        v = hoopctl_session_fields[k].number
            ? hoopctl_session_number(vals[i], vlens[i])
            : hoopctl_json_strn(vals[i], vlens[i]);

        json_object_set_new(info, name, v);
    }

    for (i = 0; i < nfields; i++) {
        f = hoopctl_session_field(keys[i], klens[i]);

        if (f >= 0 || (klens[i] == 3 && memcmp(keys[i], "sid", 3) == 0)) {
            continue;
        }

        v = hoopctl_json_strn(keys[i], klens[i]);
        json_object_set_new(info, json_string_value(v),
                            hoopctl_json_strn(vals[i], vlens[i]));
        json_decref(v);
    }

    return info;
}


int64_t
hoopctl_session_ms(json_t *info, const char *key)
{
    json_t  *v;

    v = json_object_get(info, key);

    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        return (int64_t) json_integer_value(v);
    }

    return -1;
}


/* SESSION START END PRINCIPAL CLIENT REQUESTS BYTES RECORD; strings
 * quoted when empty or with a blank, so that every cell is one word */
void
hoopctl_session_row(hoopctl_buf_t *c, json_t *info)
{
    char  t[40];

    hoopctl_audit_add_value(&c[0], json_object_get(info, "sid"), 1);
    hoopctl_buf_adds(&c[1], hoopctl_audit_time(
                                hoopctl_session_ms(info, "first"), t,
                                sizeof(t)));

    if (hoopctl_session_ms(info, "closed") >= 0) {
        hoopctl_buf_adds(&c[2], hoopctl_audit_time(
                                    hoopctl_session_ms(info, "closed"), t,
                                    sizeof(t)));
    } else {
        /* no "closed" event (yet): still open, or the gateway died */
        hoopctl_buf_adds(&c[2], "open");
    }

    hoopctl_audit_add_value(&c[3], json_object_get(info, "principal"), 1);
    hoopctl_audit_add_value(&c[4], json_object_get(info, "client"), 1);
    hoopctl_audit_add_value(&c[5], json_object_get(info, "requests"), 1);
    hoopctl_audit_add_value(&c[6], json_object_get(info, "bytes"), 1);
    hoopctl_audit_add_value(&c[7], json_object_get(info, "record"), 1);
}


/* "topic:orders write allow, group:g read allow" */
static void
hoopctl_session_checks(hoopctl_buf_t *b, json_t *checks)
{
    size_t   i, k;
    json_t  *c;

    for (i = 0; i < json_array_size(checks); i++) {
        c = json_array_get(checks, i);

        if (i > 0) {
            hoopctl_buf_adds(b, ", ");
        }

        if (!json_is_array(c) || json_array_size(c) != 4) {
            hoopctl_audit_add_value(b, c, 0);
            continue;
        }

        hoopctl_audit_add_value(b, json_array_get(c, 0), 1);
        hoopctl_buf_adds(b, ":");
        hoopctl_audit_add_value(b, json_array_get(c, 1), 1);

        for (k = 2; k < 4; k++) {
            hoopctl_buf_adds(b, " ");
            hoopctl_audit_add_value(b, json_array_get(c, k), 1);
        }
    }
}


/* +MS DIR API CORRELATION SIZE DETAILS */
void
hoopctl_session_cells(hoopctl_buf_t *c, json_t *ev, int64_t start)
{
    size_t       n;
    json_t      *v, *checks;
    int64_t      ms;
    const char  *event;

    ms = hoopctl_audit_event_ms(ev);

    if (ms >= 0 && start >= 0) {
        hoopctl_buf_printf(&c[0], "%+lld", (long long) (ms - start));
    } else {
        hoopctl_buf_adds(&c[0], "-");
    }

    event = json_string_value(json_object_get(ev, "event"));

    if (event != NULL && strcmp(event, "record") == 0) {
        hoopctl_audit_add_value(&c[1], json_object_get(ev, "dir"), 1);
    } else {
        hoopctl_audit_add_value(&c[1], json_object_get(ev, "event"), 1);
    }

    v = json_object_get(ev, "api");
    hoopctl_audit_add_value(&c[2], v, 1);

    v = json_object_get(ev, "api_version");
    if (json_is_integer(v)) {
        hoopctl_buf_printf(&c[2], " v%lld",
                           (long long) json_integer_value(v));
    }

    hoopctl_audit_add_value(&c[3], json_object_get(ev, "correlation_id"), 1);
    hoopctl_audit_add_value(&c[4], json_object_get(ev, "size"), 1);

    /* what was decided, what was masked, who answered */

    n = c[5].len;
    checks = json_object_get(ev, "checks");

    if (json_is_array(checks)) {
        hoopctl_session_checks(&c[5], checks);
    }

    if ((v = json_object_get(ev, "mask")) != NULL) {
        hoopctl_buf_adds(&c[5], c[5].len > n ? "  mask=" : "mask=");
        hoopctl_audit_add_value(&c[5], v, 1);
    }

    if (json_is_true(json_object_get(ev, "local"))) {
        hoopctl_buf_adds(&c[5], c[5].len > n ? "  (answered by the gateway)"
                                             : "(answered by the gateway)");
    }

    if (event != NULL && strcmp(event, "record") != 0) {
        /* closed: the connection's totals */
        static const char  *totals[] = {
            "bytes_in", "bytes_out", "requests", "duration_ms", "error", NULL
        };
        const char         **t;

        for (t = totals; *t; t++) {
            if ((v = json_object_get(ev, *t)) != NULL) {
                if (c[5].len > n) {
                    hoopctl_buf_adds(&c[5], "  ");
                }
                hoopctl_buf_printf(&c[5], "%s=", *t);
                hoopctl_audit_add_value(&c[5], v, 1);
            }
        }
    }

    if (c[5].len == n) {
        hoopctl_buf_adds(&c[5], "-");
    }
}


int
hoopctl_session_payload(const char *b64, size_t len, unsigned char **out,
    size_t *outlen)
{
    int             n;
    size_t          i, pad;
    unsigned char  *p;

    /* strict RFC 4648 base64 (what the gateway writes): EVP_DecodeBlock
     * skips blanks and keeps padding bytes, so check the form first */

    if (len % 4 != 0 || len > (size_t) 0x7ffffff0) {
        return -1;
    }

    pad = 0;

    for (i = 0; i < len; i++) {
        if (b64[i] == '=') {
            if (i + 2 < len) {
                return -1;
            }
            pad++;

        } else if (pad || !((b64[i] >= 'A' && b64[i] <= 'Z')
                            || (b64[i] >= 'a' && b64[i] <= 'z')
                            || (b64[i] >= '0' && b64[i] <= '9')
                            || b64[i] == '+' || b64[i] == '/'))
        {
            return -1;
        }
    }

    p = hoopctl_alloc(len / 4 * 3 + 1);

    n = len ? EVP_DecodeBlock(p, (const unsigned char *) b64, (int) len) : 0;

    if (n < 0 || (size_t) n < pad) {
        free(p);
        return -1;
    }

    *out = p;
    *outlen = (size_t) n - pad;

    return 0;
}


void
hoopctl_session_dump(hoopctl_buf_t *b, const unsigned char *p, size_t len,
    const char *indent)
{
    size_t  off, i;

    for (off = 0; off < len; off += 16) {
        hoopctl_buf_printf(b, "%s%06zx ", indent, off);

        for (i = 0; i < 16; i++) {
            if (i == 8) {
                hoopctl_buf_adds(b, " ");
            }

            if (off + i < len) {
                hoopctl_buf_printf(b, " %02x", p[off + i]);
            } else {
                hoopctl_buf_adds(b, "   ");
            }
        }

        hoopctl_buf_adds(b, "  |");

        for (i = 0; i < 16 && off + i < len; i++) {
            hoopctl_buf_printf(b, "%c", p[off + i] >= 0x20 && p[off + i] < 0x7f
                                        ? p[off + i] : '.');
        }

        hoopctl_buf_adds(b, "|\n");
    }
}
