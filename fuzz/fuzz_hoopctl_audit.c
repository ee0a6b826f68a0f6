/*
 * libFuzzer target for what hoopctl audit decodes
 * (tools/hoopctl/hoopctl_audit_event.c):
 *
 *   mode 0  a time argument: hoopctl_audit_parse_time() and _parse_date();
 *           an accepted time formats back to an ISO text that parses to
 *           the same millisecond
 *   mode 1  a stream entry (what Redis returns; the script writes it, but
 *           anyone with access to the key can too): the id, then keys and
 *           values, separated by NUL bytes; the JSON object must dump,
 *           and the one-line form must be built
 *   mode 2  a who (3) or what (4) index field
 *
 *   make -C fuzz smoke-hoopctl-audit [SECONDS=60]   (see hoopctl_audit.mk)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hoopctl.h"


#define FUZZ_NOW   (1796083200000LL + 12345)
#define FUZZ_MAX   64


static void
fuzz_time(const uint8_t *data, size_t size, int end)
{
    char     *s, iso[40];
    int64_t   ms, back, day;

    s = malloc(size + 1);
    if (s == NULL) {
        return;
    }

    memcpy(s, data, size);
    s[size] = '\0';

    if (hoopctl_audit_parse_time(s, end, FUZZ_NOW, &ms) == 0) {
        if (ms < 0) {
            abort();
        }

        hoopctl_audit_time(ms, iso, sizeof(iso));

        if (ms <= 253402300799999LL
            && (hoopctl_audit_parse_time(iso, 0, FUZZ_NOW, &back) != 0
                || back != ms))
        {
            abort();
        }

        hoopctl_audit_day(ms, iso, sizeof(iso));

        if (ms <= 253402300799999LL
            && (hoopctl_audit_parse_date(iso, &day) != 0 || day > ms
                || ms - day >= 86400000))
        {
            abort();
        }
    }

    if (hoopctl_audit_parse_date(s, &day) == 0 && day % 86400000 != 0) {
        abort();
    }

    free(s);
}


static void
fuzz_entry(const uint8_t *data, size_t size)
{
    char           *s;
    size_t          n, i, start, klens[FUZZ_MAX], vlens[FUZZ_MAX];
    json_t         *ev;
    const char     *keys[FUZZ_MAX], *vals[FUZZ_MAX], *parts[2 * FUZZ_MAX + 1];
    size_t          lens[2 * FUZZ_MAX + 1];
    hoopctl_buf_t   b = { NULL, 0, 0 };

    /* split at NUL bytes: id, key, value, key, value ... */

    n = 0;
    start = 0;

    for (i = 0; i <= size && n < 2 * FUZZ_MAX + 1; i++) {
        if (i == size || data[i] == '\0') {
            parts[n] = (const char *) data + start;
            lens[n] = i - start;
            n++;
            start = i + 1;
        }
    }

    for (i = 0; 2 * i + 2 < n; i++) {
        keys[i] = parts[2 * i + 1];
        klens[i] = lens[2 * i + 1];
        vals[i] = parts[2 * i + 2];
        vlens[i] = lens[2 * i + 2];
    }

    ev = hoopctl_audit_event_json(parts[0], lens[0], i, keys, klens, vals,
                                  vlens);
    if (!json_is_object(ev)) {
        abort();
    }

    s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s == NULL) {
        abort();
    }
    free(s);

    hoopctl_audit_event_line(&b, ev);
    hoopctl_buf_free(&b);

    (void) hoopctl_audit_event_ms(ev);
    json_decref(ev);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t  *j;

    if (size < 1) {
        return 0;
    }

    switch (data[0] % 4) {

    case 0:
        fuzz_time(data + 1, size - 1, data[0] & 4);
        break;

    case 1:
        fuzz_entry(data + 1, size - 1);
        break;

    default:
        j = hoopctl_audit_index_field((const char *) data + 1, size - 1,
                                      (data[0] % 4) + 1);
        json_decref(j);
        break;
    }

    return 0;
}
