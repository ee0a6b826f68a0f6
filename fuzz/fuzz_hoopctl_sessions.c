/*
 * libFuzzer target for what hoopctl sessions decodes
 * (tools/hoopctl/hoopctl_session_view.c); the stream and the hashes are
 * written by the audit script, but anyone with access to the keys can
 * write them too:
 *
 *   mode 0  a payload: hoopctl_session_payload() accepts strict base64
 *           only; what it accepts encodes back to text of the same length
 *           that decodes to the same bytes, and dumps to one line per 16
 *           bytes
 *   mode 1  a session stream entry (id, then keys and values, separated
 *           by NUL bytes): its timeline cells are built (6, never empty)
 *   mode 2  a session hash (sid, then fields and values): its JSON dumps,
 *           its list row is built (8 cells, never empty)
 *
 *   make -C fuzz smoke-hoopctl-sessions [SECONDS=60]
 *   (see hoopctl_sessions.mk)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hoopctl.h"


#define FUZZ_MAX   64


static void
fuzz_payload(const uint8_t *data, size_t size)
{
    int             n;
    size_t          len, lines, i;
    unsigned char  *out, *enc, *back;
    hoopctl_buf_t   b = { NULL, 0, 0 };

    if (hoopctl_session_payload((const char *) data, size, &out, &len) != 0) {
        return;
    }

    if (len > size / 4 * 3) {
        abort();
    }

    enc = malloc(size + 1);
    back = malloc(size / 4 * 3 + 1);
    if (enc == NULL || back == NULL) {
        abort();
    }

    n = EVP_EncodeBlock(enc, out, (int) len);
    if (n < 0 || (size_t) n != size) {
        abort();
    }

    n = EVP_DecodeBlock(back, enc, n);
    if (n < 0 || (size_t) n < len || memcmp(back, out, len) != 0) {
        abort();
    }

    hoopctl_session_dump(&b, out, len, "  ");

    lines = 0;
    for (i = 0; i < b.len; i++) {
        lines += b.data[i] == '\n';
    }

    if (lines != (len + 15) / 16) {
        abort();
    }

    hoopctl_buf_free(&b);
    free(enc);
    free(back);
    free(out);
}


/* split at NUL bytes: the first part, then keys and values */
static size_t
fuzz_split(const uint8_t *data, size_t size, const char **first,
    size_t *flen, const char **keys, size_t *klens, const char **vals,
    size_t *vlens)
{
    size_t       n, i, start, lens[2 * FUZZ_MAX + 1];
    const char  *parts[2 * FUZZ_MAX + 1];

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

    *first = parts[0];
    *flen = lens[0];

    return i;
}


static void
fuzz_entry(const uint8_t *data, size_t size, int64_t start)
{
    size_t          n, i, flen, klens[FUZZ_MAX], vlens[FUZZ_MAX];
    json_t         *ev;
    const char     *first, *keys[FUZZ_MAX], *vals[FUZZ_MAX];
    hoopctl_buf_t   c[6];

    n = fuzz_split(data, size, &first, &flen, keys, klens, vals, vlens);

    ev = hoopctl_audit_event_json(first, flen, n, keys, klens, vals, vlens);
    if (!json_is_object(ev)) {
        abort();
    }

    memset(c, 0, sizeof(c));
    hoopctl_session_cells(c, ev, start);

    for (i = 0; i < 6; i++) {
        if (c[i].len == 0) {
            abort();
        }
        hoopctl_buf_free(&c[i]);
    }

    json_decref(ev);
}


static void
fuzz_hash(const uint8_t *data, size_t size)
{
    char           *s;
    size_t          n, i, flen, klens[FUZZ_MAX], vlens[FUZZ_MAX];
    json_t         *info;
    const char     *first, *keys[FUZZ_MAX], *vals[FUZZ_MAX];
    hoopctl_buf_t   c[8];

    n = fuzz_split(data, size, &first, &flen, keys, klens, vals, vlens);

    info = hoopctl_session_info_json(first, flen, n, keys, klens, vals,
                                     vlens);
    if (!json_is_object(info)) {
        abort();
    }

    s = json_dumps(info, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s == NULL) {
        abort();
    }
    free(s);

    memset(c, 0, sizeof(c));
    hoopctl_session_row(c, info);

    for (i = 0; i < 8; i++) {
        if (c[i].len == 0) {
            abort();
        }
        hoopctl_buf_free(&c[i]);
    }

    (void) hoopctl_session_ms(info, "closed");
    json_decref(info);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }

    switch (data[0] % 3) {

    case 0:
        fuzz_payload(data + 1, size - 1);
        break;

    case 1:
        /* a start before, at or after the entry's time, or none */
        fuzz_entry(data + 1, size - 1,
                   (data[0] & 0x80) ? -1 : (int64_t) (data[0] >> 2) * 1000);
        break;

    default:
        fuzz_hash(data + 1, size - 1);
        break;
    }

    return 0;
}
