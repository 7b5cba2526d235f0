/* test_password: session passwords (src/session/password.c) against values
 * produced by java.util.Random as Apache ZooKeeper 3.8 uses it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "session/password.h"

static void hex16(const uint8_t b[16], char out[33])
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void assert_password(uint64_t sid, const char *want)
{
    uint8_t pw[SESSION_PASSWORD_LEN];
    char hex[33];
    session_password(sid, pw);
    hex16(pw, hex);
    assert_string_equal(hex, want);
}

static void test_vectors(void **state)
{
    (void)state;
    /* protocol reference §2.6 and Appendix A */
    assert_password(0x01000008e08a0000ULL, "e42d026ba193ed57624d374152470c5c");
    assert_password(0x0100000ec7480003ULL, "b76a1be8efe6b1bec389ac121d3a894a");
    /* from java.util.Random directly */
    assert_password(0, "f22acd4a97e69d6d20a49bb638eadb38");
    assert_password(1, "054cc74a37327db215e702e20c73f005");
    /* Random keeps only 48 bits of the seed */
    assert_password(UINT64_MAX, "20f62cb5648dc2d771471c8a2486a9ee");
    assert_password(0x7fffffffffffffffULL, "20f62cb5648dc2d771471c8a2486a9ee");
}

static void test_equal(void **state)
{
    (void)state;
    const uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 4}, c[4] = {1, 2, 3, 5};
    assert_true(session_password_equal(a, 4, b, 4));
    assert_false(session_password_equal(a, 4, c, 4));
    assert_false(session_password_equal(a, 4, b, 3));
    assert_true(session_password_equal(a, 0, c, 0));
    assert_true(session_password_equal(NULL, 0, NULL, 0));
}

static void test_check(void **state)
{
    (void)state;
    uint64_t sid = 0x01000008e08a0000ULL;
    uint8_t pw[SESSION_PASSWORD_LEN];
    session_password(sid, pw);
    assert_true(session_password_check(sid, pw, SESSION_PASSWORD_LEN));
    /* wrong session, flipped bit, wrong length, null buffer */
    assert_false(session_password_check(sid + 1, pw, SESSION_PASSWORD_LEN));
    pw[15] ^= 1;
    assert_false(session_password_check(sid, pw, SESSION_PASSWORD_LEN));
    pw[15] ^= 1;
    assert_false(session_password_check(sid, pw, SESSION_PASSWORD_LEN - 1));
    assert_false(session_password_check(sid, NULL, -1));
    /* session id 0 never checks, even with its own password */
    session_password(0, pw);
    assert_false(session_password_check(0, pw, SESSION_PASSWORD_LEN));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
