/*
 * The audit script as the module embeds it (src/audit/hoop_audit_lua.h,
 * written by tools/embed-lua): the string is exactly the bytes of
 * src/audit/hoop_audit.lua, HOOP_AUDIT_LUA_SHA1 is their SHA1 (the name
 * Redis gives the script, so EVALSHA finds what SCRIPT LOAD loaded), and
 * the text is one Redis accepts the same way (ASCII, lines end in "\n").
 *
 * A failure here means the header is stale: run tools/embed-lua.
 *
 * Run: make -C test/unit check-audit-redis (also by make check).
 */

#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "hoop_audit_lua.h"

#ifndef HOOP_SRC_DIR
#define HOOP_SRC_DIR  "../../src"
#endif


static char *
read_all(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf;
    size_t   size, n;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    size = 1 << 16;
    buf = malloc(size);
    n = 0;

    while (buf != NULL) {
        n += fread(buf + n, 1, size - n, f);
        if (n < size) {
            break;
        }
        size *= 2;
        buf = realloc(buf, size);
    }

    fclose(f);
    *len = n;

    return buf;
}


static void
test_header_is_the_script(void **state)
{
    char    *text;
    size_t   len = 0;

    (void) state;

    text = read_all(HOOP_SRC_DIR "/audit/hoop_audit.lua", &len);
    assert_non_null(text);

    if (len != sizeof(hoop_audit_lua) - 1
        || memcmp(text, hoop_audit_lua, len) != 0)
    {
        free(text);
        fail_msg("src/audit/hoop_audit_lua.h is not src/audit/hoop_audit.lua:"
                 " run tools/embed-lua");
    }

    free(text);
}


static void
test_sha1(void **state)
{
    char           hex[41];
    unsigned int   i, n;
    unsigned char  md[EVP_MAX_MD_SIZE];

    (void) state;

    assert_int_equal(EVP_Digest(hoop_audit_lua, sizeof(hoop_audit_lua) - 1,
                                md, &n, EVP_sha1(), NULL), 1);
    assert_int_equal(n, 20);

    for (i = 0; i < n; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }

    assert_string_equal(hex, HOOP_AUDIT_LUA_SHA1);
}


static void
test_text(void **state)
{
    size_t  i, len;

    (void) state;

    len = sizeof(hoop_audit_lua) - 1;
    assert_true(len > 1000);
    assert_int_equal(hoop_audit_lua[len - 1], '\n');

    for (i = 0; i < len; i++) {
        unsigned char  c = (unsigned char) hoop_audit_lua[i];

        if (!(c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f))) {
            fail_msg("byte %zu of the script is 0x%02x", i, c);
        }
    }

    /* the call the module makes, as the script's header documents it */
    assert_non_null(strstr(hoop_audit_lua, "EVALSHA <sha1> 0 <prefix> "
                                           "<stream> <maxlen> <retention_s> "
                                           "<writer>"));
    assert_non_null(strstr(hoop_audit_lua, "return { applied, skipped }"));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_header_is_the_script),
        cmocka_unit_test(test_sha1),
        cmocka_unit_test(test_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
