/*
 * hoopctl audit: what needs no Redis (docs/audit.md): time arguments,
 * audit events as the stream holds them turned back into typed JSON,
 * the fields of the who/what indexes, and the one-line form of an event.
 * Kept apart from hoopctl_audit.c for the unit tests and the fuzz target.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hoopctl.h"


#define HOOPCTL_MS_DAY   86400000LL
#define HOOPCTL_MIN_YEAR 1970
#define HOOPCTL_MAX_YEAR 9999


/* the fields of format v1 that are numbers, arrays and booleans
 * (docs/audit.md); every other field is a string */
static const char  *hoopctl_audit_numbers[] = {
    "v", "seq", "ts", "api_key", "api_version", "correlation_id", "records",
    "bytes", "policy_version", "count", "until", "bytes_in", "bytes_out",
    "requests", "duration_ms", "partitions_more", "size", NULL
};

static const char  *hoopctl_audit_arrays[] = {
    "groups", "partitions", "offsets", "mask", "checks", NULL
};

static const char  *hoopctl_audit_booleans[] = {
    "local", NULL
};

/* not repeated as key=value in the one-line form */
static const char  *hoopctl_audit_line_skip[] = {
    "id", "v", "seq", "ts", "day", "sid", "event", "principal", "client",
    "api", "api_key", "api_version", "correlation_id", "resource_type",
    "resource", "operation", "decision", "offsets", "payload", NULL
};


static int
hoopctl_audit_in(const char **list, const char *s, size_t len)
{
    for ( ; *list; list++) {
        if (strlen(*list) == len && memcmp(*list, s, len) == 0) {
            return 1;
        }
    }

    return 0;
}


/* ----------------------------------------------------------------------
 * Dates and times (UTC, proleptic Gregorian calendar)
 */

static int
hoopctl_audit_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}


static int
hoopctl_audit_mdays(int64_t y, int m)
{
    static const int  days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    return m == 2 && hoopctl_audit_leap(y) ? 29 : days[m - 1];
}


/* days since 1970-01-01 of y-m-d (March-based years, 400-year eras) */
static int64_t
hoopctl_audit_days(int64_t y, int m, int d)
{
    int64_t  era, yoe, doy, doe;

    y -= m <= 2;
    era = y / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


/* y-m-d of days since 1970-01-01 (days >= 0) */
static void
hoopctl_audit_civil(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t  z, era, doe, yoe, doy, mp;

    z = days + 719468;
    era = z / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;

    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}


/* n decimal digits at s; -1 when one is not a digit */
static int64_t
hoopctl_audit_digits(const char *s, size_t n)
{
    size_t   i;
    int64_t  v;

    v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }

    return v;
}


/* the date in s[0..10), YYYY-MM-DD: its first ms */
static int
hoopctl_audit_ymd(const char *s, int64_t *ms)
{
    int      m, d;
    int64_t  y;

    if (strnlen(s, 10) < 10 || s[4] != '-' || s[7] != '-') {
        return -1;
    }

    y = hoopctl_audit_digits(s, 4);
    m = (int) hoopctl_audit_digits(s + 5, 2);
    d = (int) hoopctl_audit_digits(s + 8, 2);

    if (y < HOOPCTL_MIN_YEAR || y > HOOPCTL_MAX_YEAR || m < 1 || m > 12
        || d < 1 || d > hoopctl_audit_mdays(y, m))
    {
        return -1;
    }

    *ms = hoopctl_audit_days(y, m, d) * HOOPCTL_MS_DAY;

    return 0;
}


int
hoopctl_audit_parse_date(const char *s, int64_t *ms)
{
    if (strlen(s) != 10) {
        return -1;
    }

    return hoopctl_audit_ymd(s, ms);
}


int
hoopctl_audit_parse_time(const char *s, int end, int64_t now_ms,
    int64_t *ms)
{
    size_t       len, n;
    int64_t      day, h, min, sec, frac, v, unit;
    const char  *p;

    len = strlen(s);

    if (strcmp(s, "now") == 0) {
        *ms = now_ms;
        return 0;
    }

    /* an age: 90m, 24h, 7d, 30s */

    if (len >= 2 && len <= 10 && strchr("smhd", s[len - 1]) != NULL) {
        v = hoopctl_audit_digits(s, len - 1);
        if (v < 0) {
            return -1;
        }

        switch (s[len - 1]) {
        case 's': unit = 1000; break;
        case 'm': unit = 60000; break;
        case 'h': unit = 3600000; break;
        default:  unit = HOOPCTL_MS_DAY; break;
        }

        if (v > now_ms / unit) {
            return -1;
        }

        *ms = now_ms - v * unit;
        return 0;
    }

    if (hoopctl_audit_ymd(s, &day) != 0 || (len > 10 && s[10] != 'T')) {
        return -1;
    }

    if (len == 10) {
        *ms = end ? day + HOOPCTL_MS_DAY - 1 : day;
        return 0;
    }

    /* THH:MM[:SS[.fff]][Z] */

    p = s + 11;
    n = len - 11;

    if (n > 0 && p[n - 1] == 'Z') {
        n--;
    }

    if (n < 5 || p[2] != ':') {
        return -1;
    }

    h = hoopctl_audit_digits(p, 2);
    min = hoopctl_audit_digits(p + 3, 2);
    sec = 0;
    frac = 0;

    if (n > 5) {
        if (n < 8 || p[5] != ':') {
            return -1;
        }

        sec = hoopctl_audit_digits(p + 6, 2);

        if (n > 8) {
            if (p[8] != '.' || n < 10 || n > 12) {
                return -1;
            }

            frac = hoopctl_audit_digits(p + 9, n - 9);
            if (frac < 0) {
                return -1;
            }

            for (v = (int64_t) (n - 9); v < 3; v++) {
                frac *= 10;
            }
        }
    }

    if (h < 0 || h > 23 || min < 0 || min > 59 || sec < 0 || sec > 59) {
        return -1;
    }

    *ms = day + ((h * 60 + min) * 60 + sec) * 1000 + frac;

    return 0;
}


const char *
hoopctl_audit_day(int64_t ms, char *buf, size_t size)
{
    int      m, d;
    int64_t  y;

    if (ms < 0) {
        snprintf(buf, size, "-");
        return buf;
    }

    hoopctl_audit_civil(ms / HOOPCTL_MS_DAY, &y, &m, &d);
    snprintf(buf, size, "%04lld-%02d-%02d", (long long) y, m, d);

    return buf;
}


const char *
hoopctl_audit_time(int64_t ms, char *buf, size_t size)
{
    int      m, d;
    int64_t  y, t;

    if (ms < 0) {
        snprintf(buf, size, "-");
        return buf;
    }

    hoopctl_audit_civil(ms / HOOPCTL_MS_DAY, &y, &m, &d);
    t = ms % HOOPCTL_MS_DAY;

    snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
             (long long) y, m, d, (int) (t / 3600000),
             (int) (t / 60000 % 60), (int) (t / 1000 % 60),
             (int) (t % 1000));

    return buf;
}


int
hoopctl_audit_id_ms(const char *id, size_t len, int64_t *ms)
{
    size_t   n;
    int64_t  v;

    for (n = 0; n < len && id[n] != '-'; n++) { /* void */ }

    if (n == 0 || n > 15) {
        return -1;
    }

    v = hoopctl_audit_digits(id, n);
    if (v < 0) {
        return -1;
    }

    *ms = v;
    return 0;
}


/* ----------------------------------------------------------------------
 * Events
 */

/* a number field's value: an integer, another JSON number, or NULL */
static json_t *
hoopctl_audit_number(const char *s, size_t len)
{
    char          buf[64], *end;
    json_t       *j;
    long long     v;

    if (len == 0 || len >= sizeof(buf)) {
        return NULL;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    if ((buf[0] >= '0' && buf[0] <= '9') || buf[0] == '-') {
        errno = 0;
        v = strtoll(buf, &end, 10);
        if (*end == '\0' && errno == 0) {
            return json_integer((json_int_t) v);
        }
    }

    j = json_loadb(s, len, JSON_DECODE_ANY, NULL);
    if (j != NULL && !json_is_number(j)) {
        json_decref(j);
        j = NULL;
    }

    return j;
}


json_t *
hoopctl_audit_field_value(const char *key, size_t klen, const char *val,
    size_t vlen)
{
    json_t  *j;

    j = NULL;

    if (hoopctl_audit_in(hoopctl_audit_numbers, key, klen)) {
        j = hoopctl_audit_number(val, vlen);

    } else if (hoopctl_audit_in(hoopctl_audit_arrays, key, klen)
               && vlen > 0 && (val[0] == '[' || val[0] == '{'))
    {
        j = json_loadb(val, vlen, 0, NULL);

    } else if (hoopctl_audit_in(hoopctl_audit_booleans, key, klen)) {
        if (vlen == 4 && memcmp(val, "true", 4) == 0) {
            j = json_true();
        } else if (vlen == 5 && memcmp(val, "false", 5) == 0) {
            j = json_false();
        }
    }

    return j ? j : hoopctl_json_strn(val, vlen);
}


json_t *
hoopctl_audit_event_json(const char *id, size_t idlen, size_t nfields,
    const char **keys, const size_t *klens, const char **vals,
    const size_t *vlens)
{
    size_t   i;
    json_t  *ev, *k;

    ev = json_object();
    json_object_set_new(ev, "id", hoopctl_json_strn(id, idlen));

    for (i = 0; i < nfields; i++) {
        /* valid UTF-8 for jansson; "id" is the stream id's */
        k = hoopctl_json_strn(keys[i], klens[i]);

        if (json_string_length(k) == 2
            && memcmp(json_string_value(k), "id", 2) == 0)
        {
            json_string_set(k, "_id");
        }

        json_object_setn_new(ev, json_string_value(k), json_string_length(k),
                             hoopctl_audit_field_value(keys[i], klens[i],
                                                       vals[i], vlens[i]));
        json_decref(k);
    }

    return ev;
}


int64_t
hoopctl_audit_event_ms(json_t *ev)
{
    int64_t       ms;
    json_t       *j;
    const char   *id;

    j = json_object_get(ev, "ts");
    if (json_is_integer(j) && json_integer_value(j) >= 0) {
        return (int64_t) json_integer_value(j);
    }

    id = json_string_value(json_object_get(ev, "id"));
    if (id != NULL && hoopctl_audit_id_ms(id, strlen(id), &ms) == 0) {
        return ms;
    }

    return -1;
}


json_t *
hoopctl_audit_index_field(const char *s, size_t len, size_t n)
{
    size_t   i;
    json_t  *j, *e;

    j = json_loadb(s, len, 0, NULL);

    if (!json_is_array(j) || json_array_size(j) != n) {
        json_decref(j);
        return NULL;
    }

    for (i = 0; i < n; i++) {
        e = json_array_get(j, i);
        if (!json_is_string(e) && !json_is_null(e)) {
            json_decref(j);
            return NULL;
        }
    }

    return j;
}


/* a value as a cell or a key=value: strings cleaned, others as JSON */
void
hoopctl_audit_add_value(hoopctl_buf_t *b, json_t *v, int quote)
{
    char        *s;
    size_t       len;
    const char  *str, *q;

    if (v == NULL || json_is_null(v)) {
        hoopctl_buf_adds(b, "-");
        return;
    }

    if (json_is_string(v)) {
        str = json_string_value(v);
        len = json_string_length(v);

        if (quote && (len == 0 || strpbrk(str, " \"") != NULL)) {
            /* "..." with \" inside */
            hoopctl_buf_adds(b, "\"");

            while ((q = memchr(str, '"', len)) != NULL) {
                hoopctl_buf_add_clean(b, str, (size_t) (q - str));
                hoopctl_buf_adds(b, "\\\"");
                len -= (size_t) (q - str) + 1;
                str = q + 1;
            }

            hoopctl_buf_add_clean(b, str, len);
            hoopctl_buf_adds(b, "\"");

        } else {
            hoopctl_buf_add_clean(b, str, len);
        }

        return;
    }

    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (s != NULL) {
        hoopctl_buf_add_clean(b, s, strlen(s));
        free(s);
    }
}


void
hoopctl_audit_event_line(hoopctl_buf_t *b, json_t *ev)
{
    int           approval;
    char          t[40];
    json_t       *v, *type, *decision;
    const char   *key;

    /* an approval step (docs/audit.md) shows its step where a request
     * shows its decision: "write requested", "write approved" */
    v = json_object_get(ev, "event");
    approval = json_is_string(v)
               && strcmp(json_string_value(v), "approval") == 0;
    decision = json_object_get(ev, approval ? "step" : "decision");

    hoopctl_buf_adds(b, hoopctl_audit_time(hoopctl_audit_event_ms(ev), t,
                                           sizeof(t)));
    hoopctl_buf_adds(b, "  ");
    hoopctl_audit_add_value(b, json_object_get(ev, "event"), 0);
    hoopctl_buf_adds(b, "  ");
    hoopctl_audit_add_value(b, json_object_get(ev, "principal"), 1);
    hoopctl_buf_adds(b, "  ");
    hoopctl_audit_add_value(b, json_object_get(ev, "client"), 0);

    v = json_object_get(ev, "api");
    if (v != NULL) {
        hoopctl_buf_adds(b, "  ");
        hoopctl_audit_add_value(b, v, 1);

        v = json_object_get(ev, "api_version");
        if (json_is_integer(v)) {
            hoopctl_buf_printf(b, " v%lld", (long long) json_integer_value(v));
        }
    }

    type = json_object_get(ev, "resource_type");
    if (type != NULL) {
        hoopctl_buf_adds(b, "  ");
        hoopctl_audit_add_value(b, type, 1);
        hoopctl_buf_adds(b, ":");
        hoopctl_audit_add_value(b, json_object_get(ev, "resource"), 1);
    }

    if (json_object_get(ev, "operation") || decision) {
        hoopctl_buf_adds(b, "  ");
        hoopctl_audit_add_value(b, json_object_get(ev, "operation"), 1);
        hoopctl_buf_adds(b, " ");
        hoopctl_audit_add_value(b, decision, 1);
    }

    json_object_foreach(ev, key, v) {
        if (hoopctl_audit_in(hoopctl_audit_line_skip, key, strlen(key))
            || (approval && strcmp(key, "step") == 0))
        {
            continue;
        }

        hoopctl_buf_adds(b, "  ");
        hoopctl_buf_add_clean(b, key, strlen(key));
        hoopctl_buf_adds(b, "=");
        hoopctl_audit_add_value(b, v, 1);
    }
}
