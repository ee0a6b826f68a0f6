/*
 * Values of the policy language: RFC 3339 times, client hosts (addresses
 * and CIDR blocks), client addresses of requests, Kafka topic names.
 */

#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE  200809L
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "hoop_policy_int.h"


static int hoop_policy_digits(const char *s, size_t n, unsigned *v);
static int64_t hoop_policy_days_from_civil(int64_t y, unsigned m, unsigned d);
static unsigned hoop_policy_month_days(unsigned y, unsigned m);
static int hoop_policy_v4mapped(const uint8_t *a);


static int
hoop_policy_digits(const char *s, size_t n, unsigned *v)
{
    size_t  i;

    *v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        *v = *v * 10 + (unsigned) (s[i] - '0');
    }

    return 0;
}


/* days since 1970-01-01 of a proleptic Gregorian date */
/* ::ffff:a.b.c.d */
static int
hoop_policy_v4mapped(const uint8_t *a)
{
    static const uint8_t  pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                      0xff, 0xff };

    return memcmp(a, pfx, sizeof(pfx)) == 0;
}


static int64_t
hoop_policy_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t   era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (int64_t) (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


static unsigned
hoop_policy_month_days(unsigned y, unsigned m)
{
    static const unsigned  days[12] = { 31, 28, 31, 30, 31, 30,
                                        31, 31, 30, 31, 30, 31 };

    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return 29;
    }

    return days[m - 1];
}


int
hoop_policy_time_parse(const char *s, size_t len, int date_ok, int64_t *t,
    int *is_date)
{
    size_t    i;
    int64_t   off;
    unsigned  y, mo, d, h, mi, sec, oh, om;

    if (is_date) {
        *is_date = 0;
    }

    /* full-date: YYYY-MM-DD */

    if (len < 10 || s[4] != '-' || s[7] != '-'
        || hoop_policy_digits(s, 4, &y) != 0
        || hoop_policy_digits(s + 5, 2, &mo) != 0
        || hoop_policy_digits(s + 8, 2, &d) != 0)
    {
        return -1;
    }

    if (y < 1970 || mo < 1 || mo > 12 || d < 1
        || d > hoop_policy_month_days(y, mo))
    {
        return -1;
    }

    *t = hoop_policy_days_from_civil(y, mo, d) * 86400;

    if (len == 10) {
        if (!date_ok) {
            return -1;
        }

        if (is_date) {
            *is_date = 1;
        }

        return 0;
    }

    /* "T" partial-time: HH:MM:SS[.frac] then time-offset */

    if (len < 20 || (s[10] != 'T' && s[10] != 't') || s[13] != ':'
        || s[16] != ':'
        || hoop_policy_digits(s + 11, 2, &h) != 0
        || hoop_policy_digits(s + 14, 2, &mi) != 0
        || hoop_policy_digits(s + 17, 2, &sec) != 0
        || h > 23 || mi > 59 || sec > 59)
    {
        return -1;
    }

    i = 19;

    if (s[i] == '.') {
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9') {
            return -1;
        }
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }

    if (i >= len) {
        return -1;
    }

    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        off = 0;

    } else if ((s[i] == '+' || s[i] == '-') && i + 6 == len
               && s[i + 3] == ':'
               && hoop_policy_digits(s + i + 1, 2, &oh) == 0
               && hoop_policy_digits(s + i + 4, 2, &om) == 0
               && oh <= 23 && om <= 59)
    {
        off = (int64_t) oh * 3600 + om * 60;
        if (s[i] == '-') {
            off = -off;
        }

    } else {
        return -1;
    }

    *t += (int64_t) h * 3600 + mi * 60 + sec - off;

    return 0;
}


void
hoop_policy_time_format(int64_t t, int date_only, char *buf, size_t size)
{
    time_t     tt;
    struct tm  tm;

    tt = (time_t) t;

    if (gmtime_r(&tt, &tm) == NULL) {
        snprintf(buf, size, "invalid");
        return;
    }

    if (date_only) {
        snprintf(buf, size, "%04d-%02d-%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday);
        return;
    }

    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}


/* ---------------------------------------------------------------------- */


int
hoop_policy_host_parse(const char *s, size_t len, hoop_policy_host_t *h,
    int *host_bits, const char **err)
{
    size_t    alen, i, nbytes;
    unsigned  max, prefix, bits;
    char      buf[INET6_ADDRSTRLEN + 1];
    const char  *slash;

    memset(h, 0, sizeof(*h));
    *host_bits = 0;

    if (len == 1 && s[0] == '*') {
        return 0;
    }

    slash = memchr(s, '/', len);
    alen = slash ? (size_t) (slash - s) : len;

    if (alen == 0 || alen >= sizeof(buf)) {
        *err = "not an IP address";
        return -1;
    }

    memcpy(buf, s, alen);
    buf[alen] = '\0';

    if (memchr(buf, ':', alen)) {
        if (inet_pton(AF_INET6, buf, h->addr) != 1) {
            *err = "not an IPv6 address";
            return -1;
        }
        h->family = 6;
        max = 128;

    } else {
        if (inet_pton(AF_INET, buf, h->addr) != 1) {
            *err = "not an IPv4 address (host names are not allowed)";
            return -1;
        }
        h->family = 4;
        max = 32;
    }

    prefix = max;

    if (slash) {
        i = alen + 1;
        if (len - i == 0 || len - i > 3
            || hoop_policy_digits(s + i, len - i, &prefix) != 0
            || (len - i > 1 && s[i] == '0'))
        {
            *err = "the prefix length after '/' must be a decimal number";
            return -1;
        }

        if (prefix > max) {
            *err = h->family == 4 ? "the prefix length must be 0..32"
                                  : "the prefix length must be 0..128";
            return -1;
        }
    }

    /* an IPv4-mapped IPv6 block is an IPv4 block (clients are mapped) */

    if (h->family == 6 && prefix >= 96
        && hoop_policy_v4mapped(h->addr))
    {
        memmove(h->addr, h->addr + 12, 4);
        memset(h->addr + 4, 0, 12);
        h->family = 4;
        prefix -= 96;
        max = 32;
    }

    h->prefix = prefix;

    /* bits beyond the prefix must be zero: "10.1.2.3/8" is ambiguous */

    nbytes = max / 8;
    for (i = 0; i < nbytes; i++) {
        bits = (unsigned) i * 8;
        if (bits >= prefix) {
            if (h->addr[i]) {
                *host_bits = 1;
            }

        } else if (prefix - bits < 8) {
            if (h->addr[i] & (0xffu >> (prefix - bits))) {
                *host_bits = 1;
            }
        }
    }

    return 0;
}


void
hoop_policy_host_format(const hoop_policy_host_t *h, char *buf, size_t size)
{
    char  addr[INET6_ADDRSTRLEN];

    if (h->family == 0) {
        snprintf(buf, size, "*");
        return;
    }

    if (inet_ntop(h->family == 4 ? AF_INET : AF_INET6, h->addr, addr,
                  sizeof(addr)) == NULL)
    {
        snprintf(buf, size, "?");
        return;
    }

    if (h->prefix == (h->family == 4 ? 32u : 128u)) {
        snprintf(buf, size, "%s", addr);

    } else {
        snprintf(buf, size, "%s/%u", addr, h->prefix);
    }
}


int
hoop_policy_host_match(const hoop_policy_host_t *h,
    const hoop_policy_addr_t *a)
{
    unsigned  full, rest;

    if (h->family == 0) {
        return 1;
    }

    if (a == NULL || a->family != h->family) {
        return 0;
    }

    full = h->prefix / 8;
    rest = h->prefix % 8;

    if (full && memcmp(h->addr, a->addr, full) != 0) {
        return 0;
    }

    if (rest) {
        return ((h->addr[full] ^ a->addr[full]) & (0xffu << (8 - rest))
                & 0xffu) == 0;
    }

    return 1;
}


int
hoop_policy_addr_from_sockaddr(hoop_policy_addr_t *a,
    const struct sockaddr *sa)
{
    const struct sockaddr_in   *sin;
    const struct sockaddr_in6  *sin6;

    memset(a, 0, sizeof(*a));

    if (sa == NULL) {
        return -1;
    }

    if (sa->sa_family == AF_INET) {
        sin = (const struct sockaddr_in *) (const void *) sa;
        memcpy(a->addr, &sin->sin_addr, 4);
        a->family = 4;
        return 0;
    }

    if (sa->sa_family == AF_INET6) {
        sin6 = (const struct sockaddr_in6 *) (const void *) sa;

        if (hoop_policy_v4mapped(sin6->sin6_addr.s6_addr)) {
            memcpy(a->addr, sin6->sin6_addr.s6_addr + 12, 4);
            a->family = 4;

        } else {
            memcpy(a->addr, &sin6->sin6_addr, 16);
            a->family = 6;
        }

        return 0;
    }

    return -1;
}


int
hoop_policy_addr_parse(hoop_policy_addr_t *a, const char *text, size_t len)
{
    char  buf[INET6_ADDRSTRLEN + 1];

    memset(a, 0, sizeof(*a));

    if (text == NULL || len == 0 || len >= sizeof(buf)) {
        return -1;
    }

    memcpy(buf, text, len);
    buf[len] = '\0';

    if (inet_pton(AF_INET, buf, a->addr) == 1) {
        a->family = 4;
        return 0;
    }

    if (inet_pton(AF_INET6, buf, a->addr) == 1) {
        if (hoop_policy_v4mapped(a->addr)) {
            memmove(a->addr, a->addr + 12, 4);
            memset(a->addr + 4, 0, 12);
            a->family = 4;

        } else {
            a->family = 6;
        }

        return 0;
    }

    memset(a, 0, sizeof(*a));

    return -1;
}


int
hoop_policy_topic_name_valid(const char *s, size_t len)
{
    size_t  i;
    char    c;

    if (len == 0 || len > 249) {
        return 0;
    }

    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.'
                                      && s[1] == '.'))
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/* ----------------------------------------------------------------------
 * Durations of approvals: "1500ms", "25s", "90m", "1h", "7d"
 */

#define HOOP_POLICY_DURATION_MAX   9007199254740992LL     /* 2^53 ms */

int
hoop_policy_duration_parse(const char *s, size_t len, int64_t *ms)
{
    size_t   i, digits;
    int64_t  v, unit;

    if (s == NULL) {
        return -1;
    }

    v = 0;

    for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > HOOP_POLICY_DURATION_MAX / 10) {
            return -1;
        }

        v = v * 10 + (s[i] - '0');
    }

    digits = i;
    if (digits == 0 || digits > 16) {
        return -1;
    }

    if (len - i == 2 && s[i] == 'm' && s[i + 1] == 's') {
        unit = 1;

    } else if (len - i == 1) {
        switch (s[i]) {
        case 's':
            unit = 1000;
            break;
        case 'm':
            unit = 60000;
            break;
        case 'h':
            unit = 3600000;
            break;
        case 'd':
            unit = 86400000;
            break;
        default:
            return -1;
        }

    } else {
        return -1;
    }

    if (v > HOOP_POLICY_DURATION_MAX / unit) {
        return -1;
    }

    *ms = v * unit;

    return 0;
}


const char *
hoop_policy_duration_format(int64_t ms, char *buf, size_t size)
{
    if (size == 0) {
        return buf;
    }

    if (ms > 0 && ms % 86400000 == 0) {
        snprintf(buf, size, "%lldd", (long long) (ms / 86400000));

    } else if (ms > 0 && ms % 3600000 == 0) {
        snprintf(buf, size, "%lldh", (long long) (ms / 3600000));

    } else if (ms > 0 && ms % 60000 == 0) {
        snprintf(buf, size, "%lldm", (long long) (ms / 60000));

    } else if (ms > 0 && ms % 1000 == 0) {
        snprintf(buf, size, "%llds", (long long) (ms / 1000));

    } else {
        snprintf(buf, size, "%lldms", (long long) ms);
    }

    return buf;
}
