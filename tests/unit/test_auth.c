/* test_auth: ACLs and authentication (src/auth/auth.c). Expected values come
 * from Apache ZooKeeper 3.8 (the providers, PrepRequestProcessor.fixupACL and
 * ZooKeeperServer.checkACL run on the JVM) and the protocol reference §11. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

#define ACL(p, s, i) ((zk_acl_ref_t){(p), JSTR_LIT(s), JSTR_LIT(i)})
#define ACL_NULL_ID(p, s) ((zk_acl_ref_t){(p), JSTR_LIT(s), JSTR_NULL})
#define ACL_NULL_SCHEME(p, i) ((zk_acl_ref_t){(p), JSTR_NULL, JSTR_LIT(i)})
#define NACL(a) ((int32_t)(sizeof(a) / sizeof((a)[0])))

static const char USER_PASS_ID[] = "user:smGaoVKd/cQkjm7b88GyorAUz20=";

typedef struct want {
    int32_t perms;
    const char *scheme;
    const char *id;
} want_t;

static void assert_list(const acl_list_t *l, const want_t *w, int n)
{
    assert_int_equal(l->n, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(l->v[i].perms, w[i].perms);
        assert_true(jstr_eq(acl_scheme(&l->v[i]), jstr_from_cstr(w[i].scheme)));
        assert_true(jstr_eq(acl_id(&l->v[i]), jstr_from_cstr(w[i].id)));
    }
}

static void add_id(auth_ids_t *ids, const char *scheme, const char *id)
{
    assert_int_equal(auth_ids_add(ids, jstr_from_cstr(scheme), jstr_from_cstr(id)), 1);
}

/* Fix up and return the result code, freeing the list. */
static int fixup_rc(const zk_acl_ref_t *v, int32_t n, const auth_ids_t *ids)
{
    acl_list_t out;
    int rc = auth_fixup_acl(v, n, ids, &out);
    if (rc != ZOK)
        assert_int_equal(out.n, 0);
    acl_list_free(&out);
    return rc;
}

/* ---- permission bits, lists, identity sets ---------------------------------------- */

static void test_perm_bits(void **state)
{
    (void)state;
    assert_int_equal(AUTH_PERM_READ, 1);
    assert_int_equal(AUTH_PERM_WRITE, 2);
    assert_int_equal(AUTH_PERM_CREATE, 4);
    assert_int_equal(AUTH_PERM_DELETE, 8);
    assert_int_equal(AUTH_PERM_ADMIN, 16);
    assert_int_equal(AUTH_PERM_ALL, 31);
    assert_int_equal(AUTH_PERM_READ | AUTH_PERM_WRITE | AUTH_PERM_CREATE | AUTH_PERM_DELETE |
                         AUTH_PERM_ADMIN,
                     AUTH_PERM_ALL);
}

static void test_acl_list(void **state)
{
    (void)state;
    acl_list_t a, b, c;
    acl_list_init(&a);
    for (int i = 0; i < 9; i++) /* crosses several power-of-two growths */
        acl_list_push(&a, i, JSTR_LIT("digest"), JSTR_LIT("u:h"));
    acl_list_push(&a, 31, JSTR_NULL, JSTR_NULL); /* stored as "" */
    acl_list_push(&a, 1, JSTR_LIT("digest"), (jstr_t){"a\0b:c", 5});
    assert_int_equal(a.n, 11);
    assert_int_equal(a.v[9].scheme_len, 0);
    assert_string_equal(a.v[9].scheme, "");
    assert_int_equal(a.v[10].id_len, 5);
    assert_int_equal(memcmp(a.v[10].id, "a\0b:c", 6), 0); /* NUL-terminated too */

    acl_list_copy(&b, &a);
    assert_true(acl_list_equal(&a, &b));
    assert_int_equal(acl_list_hash(&a), acl_list_hash(&b));
    assert_ptr_not_equal(a.v[0].id, b.v[0].id);

    /* order matters; so does every field, including bytes after a NUL */
    acl_list_init(&c);
    acl_list_push(&c, 1, JSTR_LIT("world"), JSTR_LIT("anyone"));
    acl_list_push(&c, 1, JSTR_LIT("ip"), JSTR_LIT("1.2.3.4"));
    acl_list_t d;
    acl_list_init(&d);
    acl_list_push(&d, 1, JSTR_LIT("ip"), JSTR_LIT("1.2.3.4"));
    acl_list_push(&d, 1, JSTR_LIT("world"), JSTR_LIT("anyone"));
    assert_false(acl_list_equal(&c, &d));
    assert_int_not_equal(acl_list_hash(&c), acl_list_hash(&d));
    b.v[10].id[4] = 'x';
    assert_false(acl_list_equal(&a, &b));
    b.v[10].id[4] = 'c';
    b.v[3].perms = 99;
    assert_false(acl_list_equal(&a, &b));
    assert_false(acl_list_equal(&a, &c));

    acl_list_free(&a);
    acl_list_free(&b);
    acl_list_free(&c);
    acl_list_free(&d);
    assert_int_equal(a.n, 0);
    assert_null(a.v);
    acl_list_free(&a); /* freeing an empty list is fine */
}

static void test_ids_set(void **state)
{
    (void)state;
    auth_ids_t ids;
    auth_ids_init(&ids);
    assert_int_equal(auth_ids_add(&ids, JSTR_LIT("ip"), JSTR_LIT("127.0.0.1")), 1);
    assert_int_equal(auth_ids_add(&ids, JSTR_LIT("digest"), JSTR_LIT("u:h")), 1);
    assert_int_equal(auth_ids_add(&ids, JSTR_LIT("ip"), JSTR_LIT("127.0.0.1")), 0);
    assert_int_equal(auth_ids_add(&ids, JSTR_LIT("digest"), JSTR_LIT("v:h")), 1);
    assert_int_equal(auth_ids_add(&ids, JSTR_LIT("digest"), JSTR_LIT("u:h")), 0);
    assert_int_equal(ids.n, 3);
    assert_string_equal(ids.v[0].scheme, "ip");
    assert_string_equal(ids.v[1].id, "u:h");
    assert_string_equal(ids.v[2].id, "v:h");
    assert_true(auth_ids_contains(&ids, JSTR_LIT("digest"), JSTR_LIT("v:h")));
    assert_false(auth_ids_contains(&ids, JSTR_LIT("ip"), JSTR_LIT("u:h")));
    assert_true(auth_ids_has_scheme(&ids, JSTR_LIT("digest")));
    assert_false(auth_ids_has_scheme(&ids, JSTR_LIT("sasl")));
    auth_ids_free(&ids);
    assert_int_equal(ids.n, 0);

    /* the set is bounded */
    char id[16];
    for (int i = 0; i < AUTH_IDS_MAX; i++) {
        int n = snprintf(id, sizeof id, "u%d:h", i);
        assert_int_equal(auth_ids_add(&ids, JSTR_LIT("digest"), (jstr_t){id, n}), 1);
    }
    assert_int_equal(auth_ids_add(&ids, JSTR_LIT("digest"), JSTR_LIT("one:more")), -1);
    assert_int_equal(auth_ids_add(&ids, JSTR_LIT("digest"), JSTR_LIT("u0:h")), 0);
    auth_ids_free(&ids);
}

/* ---- strings as Java decodes them -------------------------------------------------- */

static void assert_java_utf8(const char *in, size_t len, const char *want, size_t want_len)
{
    buf_t b;
    buf_init(&b);
    auth_java_utf8(in, len, &b);
    assert_int_equal(b.len, want_len);
    assert_memory_equal(b.data ? (const char *)b.data : "", want, want_len);
    assert_int_equal(auth_utf8_is_java_clean(in, len),
                     len == want_len && memcmp(in, want, len) == 0);
    buf_free(&b);
}
#define JU(in, want) assert_java_utf8(in, sizeof(in) - 1, want, sizeof(want) - 1)

static void test_java_utf8(void **state)
{
    (void)state;
    JU("", "");
    JU("plain ascii\0nul", "plain ascii\0nul");
    JU("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* Latin-1 bytes: each becomes U+FFFD */
    JU("p\xe4ss", "p\xef\xbf\xbdss");
    /* truncated sequences at the end; the JDK swallows the continuation bytes */
    JU("h\x00U\xef", "h\x00U\xef\xbf\xbd");
    JU("\xe1\x80", "\xef\xbf\xbd");
    JU("\xf0\x90\x80", "\xef\xbf\xbd");
    /* a truncated 4-byte sequence before a non-continuation byte */
    JU("\xf0\x90\x41", "\xef\xbf\xbd\x41");
    /* surrogates, overlongs, C0/C1, F5+, stray continuation bytes */
    JU("\xed\xa0\x80", "\xef\xbf\xbd");
    JU("\xe0\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    JU("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
    JU("\xf5\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    JU("\xbf\xff"
       "C\xf8",
       "\xef\xbf\xbd\xef\xbf\xbd"
       "C\xef\xbf\xbd");
    /* from the differential run against the JVM */
    JU("\x27\xf0\xef\x00\xf0\xef\xe0\xa0\xa0\x8a",
       "\x27\xef\xbf\xbd\xef\xbf\xbd\x00\xef\xbf\xbd\xef\xbf\xbd\xe0\xa0\xa0\xef\xbf\xbd");
    JU("\xbf\xff\x43\xf8\xf5\x90\xf5\xed\xe1",
       "\xef\xbf\xbd\xef\xbf\xbd\x43\xef\xbf\xbd\xef\xbf\xbd"
       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

/* ---- digest --------------------------------------------------------------------------- */

static void assert_digest(jstr_t in, const char *want, size_t want_len)
{
    int32_t len = -1;
    char *id = auth_digest_identity(in, &len);
    assert_non_null(id);
    assert_int_equal(len, (int32_t)want_len);
    assert_memory_equal(id, want, want_len);
    assert_int_equal(id[len], '\0');
    free(id);
}
#define DG(in, want) assert_digest((jstr_t){in, sizeof(in) - 1}, want, sizeof(want) - 1)

static void test_digest_identity(void **state)
{
    (void)state;
    DG("user:pass", USER_PASS_ID);
    /* no colon: the whole input is the user */
    DG("abc", "abc:qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    DG(":pw", ":krPDEYdCl854cFNT6IXnoMv+VVA=");
    DG("a:b:c", "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0=");
    DG("", ":2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
    /* embedded NUL: lengths, not C strings */
    DG("us\0er:pw", "us\0er:UDNn9DkLFdLS5NFTIomcSIyL7bE=");
    /* not UTF-8: hashed as Java decodes it (U+FFFD) */
    DG("u:p\xe4ss", "u:hMx719w9d+Gjy5QrGLZxqJoym7k=");
    /* input is not NUL-terminated: only len bytes count */
    assert_digest((jstr_t){"user:passXXXX", 9}, USER_PASS_ID, sizeof USER_PASS_ID - 1);
    int32_t len;
    assert_null(auth_digest_identity(JSTR_NULL, &len));
}

static void test_super_digest(void **state)
{
    (void)state;
    const char *super = "super:lK75jTNcA+U9vtVEw5vB51mj/w4="; /* super:secret */
    int32_t len;
    char *id = auth_digest_identity(JSTR_LIT("super:secret"), &len);
    assert_true(auth_is_super_digest((jstr_t){id, len}, super));
    assert_false(auth_is_super_digest((jstr_t){id, len}, NULL));
    assert_false(auth_is_super_digest(JSTR_LIT(USER_PASS_ID), super));
    assert_false(auth_is_super_digest(JSTR_NULL, super));
    free(id);
}

static void test_digest_valid(void **state)
{
    (void)state;
    /* Java "id".split(":") must give exactly two parts */
    assert_true(auth_digest_valid(JSTR_LIT("a:b")));
    assert_true(auth_digest_valid(JSTR_LIT(USER_PASS_ID)));
    assert_true(auth_digest_valid(JSTR_LIT(":b")));   /* ["", "b"] */
    assert_true(auth_digest_valid(JSTR_LIT("a:b:"))); /* trailing empty dropped */
    assert_true(auth_digest_valid(JSTR_LIT("a:b::")));
    assert_false(auth_digest_valid(JSTR_LIT("abc")));
    assert_false(auth_digest_valid(JSTR_LIT("a:"))); /* ["a"] */
    assert_false(auth_digest_valid(JSTR_LIT("a::")));
    assert_false(auth_digest_valid(JSTR_LIT("a:b:c")));
    assert_false(auth_digest_valid(JSTR_LIT(":")));
    assert_false(auth_digest_valid(JSTR_LIT("")));
    assert_false(auth_digest_valid(JSTR_NULL));
}

/* ---- ip ---------------------------------------------------------------------------------- */

static void test_ip_parse(void **state)
{
    (void)state;
    uint8_t a[4];
    int bits;
    assert_true(auth_ip_parse(JSTR_LIT("10.20.30.40"), a));
    assert_int_equal(a[0], 10);
    assert_int_equal(a[3], 40);
    assert_true(auth_ip_parse(JSTR_LIT("255.255.255.255"), a));
    assert_true(auth_ip_parse(JSTR_LIT("0.0.0.0"), a));
    /* Integer.parseInt quirks that IPAuthenticationProvider inherits */
    assert_true(auth_ip_parse(JSTR_LIT("01.002.0003.00004"), a));
    assert_int_equal(a[3], 4);
    assert_true(auth_ip_parse(JSTR_LIT("+1.2.3.4"), a));
    assert_true(auth_ip_parse(JSTR_LIT("-0.0.0.0"), a));
    assert_true(auth_ip_parse(JSTR_LIT("\xd9\xa1.2.3.4"), a));     /* ARABIC-INDIC ONE */
    assert_true(auth_ip_parse(JSTR_LIT("\xef\xbc\x91.2.3.4"), a)); /* FULLWIDTH ONE */
    assert_int_equal(a[0], 1);
    assert_false(auth_ip_parse(JSTR_LIT("\xf0\x9d\x9f\x8e.2.3.4"), a)); /* outside the BMP */
    assert_false(auth_ip_parse(JSTR_LIT("1.2.3"), a));
    assert_false(auth_ip_parse(JSTR_LIT("1.2.3.4."), a));
    assert_false(auth_ip_parse(JSTR_LIT("1.2.3.4.5"), a));
    assert_false(auth_ip_parse(JSTR_LIT("1..3.4"), a));
    assert_false(auth_ip_parse(JSTR_LIT(".1.2.3"), a));
    assert_false(auth_ip_parse(JSTR_LIT(" 1.2.3.4"), a));
    assert_false(auth_ip_parse(JSTR_LIT("1.2.3.4 "), a));
    assert_false(auth_ip_parse(JSTR_LIT("256.1.1.1"), a));
    assert_false(auth_ip_parse(JSTR_LIT("-1.1.1.1"), a));
    assert_false(auth_ip_parse(JSTR_LIT("+.1.1.1"), a));
    assert_false(auth_ip_parse(JSTR_LIT("99999999999.1.1.1"), a));
    assert_false(auth_ip_parse(JSTR_LIT("0x1.2.3.4"), a));
    assert_false(auth_ip_parse(JSTR_LIT("::1"), a));
    assert_false(auth_ip_parse(JSTR_LIT("0:0:0:0:0:0:0:1"), a));
    assert_false(auth_ip_parse(JSTR_LIT(""), a));
    assert_false(auth_ip_parse(JSTR_NULL, a));

    assert_true(auth_ip_parse_cidr(JSTR_LIT("10.0.0.0/8"), a, &bits));
    assert_int_equal(bits, 8);
    assert_true(auth_ip_parse_cidr(JSTR_LIT("10.0.0.1"), a, &bits));
    assert_int_equal(bits, 32);
    assert_true(auth_ip_parse_cidr(JSTR_LIT("1.2.3.4/0"), a, &bits));
    assert_true(auth_ip_parse_cidr(JSTR_LIT("1.2.3.4/-0"), a, &bits));
    assert_true(auth_ip_parse_cidr(JSTR_LIT("1.2.3.4/+8"), a, &bits));
    assert_true(auth_ip_parse_cidr(JSTR_LIT("1.2.3.4/00000000032"), a, &bits));
    assert_int_equal(bits, 32);
    assert_false(auth_ip_parse_cidr(JSTR_LIT("10.0.0.0/33"), a, &bits));
    assert_false(auth_ip_parse_cidr(JSTR_LIT("1.2.3.4/-1"), a, &bits));
    assert_false(auth_ip_parse_cidr(JSTR_LIT("1.2.3.4/"), a, &bits));
    assert_false(auth_ip_parse_cidr(JSTR_LIT("1.2.3.4/8/9"), a, &bits));
    assert_false(auth_ip_parse_cidr(JSTR_LIT("1.2.3.4/2147483648"), a, &bits));
    assert_false(auth_ip_parse_cidr(JSTR_LIT("/8"), a, &bits));
}

static void test_ip_match(void **state)
{
    (void)state;
    /* /32 (explicit or implied) */
    assert_true(auth_ip_match(JSTR_LIT("127.0.0.1"), JSTR_LIT("127.0.0.1")));
    assert_true(auth_ip_match(JSTR_LIT("127.0.0.1"), JSTR_LIT("127.0.0.1/32")));
    assert_false(auth_ip_match(JSTR_LIT("127.0.0.2"), JSTR_LIT("127.0.0.1")));
    assert_false(auth_ip_match(JSTR_LIT("127.0.0.2"), JSTR_LIT("127.0.0.1/32")));
    /* /8 */
    assert_true(auth_ip_match(JSTR_LIT("10.1.2.3"), JSTR_LIT("10.0.0.0/8")));
    assert_true(auth_ip_match(JSTR_LIT("10.255.255.255"), JSTR_LIT("10.9.9.9/8")));
    assert_false(auth_ip_match(JSTR_LIT("11.1.2.3"), JSTR_LIT("10.0.0.0/8")));
    /* /31: the ACL side is masked too */
    assert_true(auth_ip_match(JSTR_LIT("1.2.3.4"), JSTR_LIT("1.2.3.5/31")));
    assert_true(auth_ip_match(JSTR_LIT("1.2.3.5"), JSTR_LIT("1.2.3.4/31")));
    assert_false(auth_ip_match(JSTR_LIT("1.2.3.6"), JSTR_LIT("1.2.3.4/31")));
    /* a mask inside a byte */
    assert_true(auth_ip_match(JSTR_LIT("192.168.1.77"), JSTR_LIT("192.168.1.64/26")));
    assert_false(auth_ip_match(JSTR_LIT("192.168.1.128"), JSTR_LIT("192.168.1.64/26")));
    /* /0 matches every IPv4 address, but never a non-IPv4 identity */
    assert_true(auth_ip_match(JSTR_LIT("8.8.8.8"), JSTR_LIT("0.0.0.0/0")));
    assert_true(auth_ip_match(JSTR_LIT("8.8.8.8"), JSTR_LIT("1.2.3.4/0")));
    assert_false(auth_ip_match(JSTR_LIT("0:0:0:0:0:0:0:1"), JSTR_LIT("0.0.0.0/0")));
    assert_false(auth_ip_match(JSTR_LIT("localhost"), JSTR_LIT("0.0.0.0/0")));
    /* an invalid ACL id matches nothing */
    assert_false(auth_ip_match(JSTR_LIT("10.0.0.1"), JSTR_LIT("10.0.0.0/33")));
    assert_false(auth_ip_match(JSTR_LIT("10.0.0.1"), JSTR_LIT("10.0.0")));
}

static void test_acl_id_valid(void **state)
{
    (void)state;
    assert_true(auth_acl_id_valid(JSTR_LIT("world"), JSTR_LIT("anyone")));
    assert_false(auth_acl_id_valid(JSTR_LIT("world"), JSTR_LIT("foo")));
    assert_false(auth_acl_id_valid(JSTR_LIT("world"), JSTR_LIT("")));
    assert_true(auth_acl_id_valid(JSTR_LIT("auth"), JSTR_LIT("")));
    assert_true(auth_acl_id_valid(JSTR_LIT("auth"), JSTR_NULL));
    assert_true(auth_acl_id_valid(JSTR_LIT("digest"), JSTR_LIT(USER_PASS_ID)));
    assert_false(auth_acl_id_valid(JSTR_LIT("digest"), JSTR_LIT("abc")));
    assert_true(auth_acl_id_valid(JSTR_LIT("ip"), JSTR_LIT("10.0.0.0/8")));
    assert_false(auth_acl_id_valid(JSTR_LIT("ip"), JSTR_LIT("10.0.0.0/33")));
    assert_false(auth_acl_id_valid(JSTR_LIT("ip"), JSTR_NULL));
    /* no provider registered by default */
    assert_false(auth_acl_id_valid(JSTR_LIT("sasl"), JSTR_LIT("user@EXAMPLE.COM")));
    assert_false(auth_acl_id_valid(JSTR_LIT("x509"), JSTR_LIT("CN=user")));
    assert_false(auth_acl_id_valid(JSTR_LIT("super"), JSTR_LIT("")));
    assert_false(auth_acl_id_valid(JSTR_LIT("foo"), JSTR_LIT("bar")));
    assert_false(auth_acl_id_valid(JSTR_LIT("Digest"), JSTR_LIT("a:b")));
    assert_false(auth_acl_id_valid(JSTR_NULL, JSTR_LIT("anyone")));
}

/* ---- auth packets ---------------------------------------------------------------------- */

static void test_handle_packet(void **state)
{
    (void)state;
    const char *super = "super:lK75jTNcA+U9vtVEw5vB51mj/w4=";
    auth_ids_t ids;
    auth_ids_init(&ids);
    add_id(&ids, "ip", "127.0.0.1");

    assert_int_equal(
        auth_handle_packet(&ids, JSTR_LIT("digest"), JSTR_LIT("user:pass"), "127.0.0.1", super),
        ZOK);
    assert_int_equal(ids.n, 2);
    assert_string_equal(ids.v[1].scheme, "digest");
    assert_string_equal(ids.v[1].id, USER_PASS_ID);
    /* again: a set */
    assert_int_equal(
        auth_handle_packet(&ids, JSTR_LIT("digest"), JSTR_LIT("user:pass"), "127.0.0.1", super),
        ZOK);
    assert_int_equal(ids.n, 2);
    /* ip: the data is ignored, the address re-added (already there) */
    assert_int_equal(auth_handle_packet(&ids, JSTR_LIT("ip"), JSTR_LIT("junk"), "127.0.0.1", NULL),
                     ZOK);
    assert_int_equal(ids.n, 2);
    /* the super digest adds super first, then the digest identity */
    assert_int_equal(
        auth_handle_packet(&ids, JSTR_LIT("digest"), JSTR_LIT("super:secret"), "127.0.0.1", super),
        ZOK);
    assert_int_equal(ids.n, 4);
    assert_string_equal(ids.v[2].scheme, "super");
    assert_string_equal(ids.v[2].id, "");
    assert_string_equal(ids.v[3].scheme, "digest");
    assert_string_equal(ids.v[3].id, super);
    /* failures: no provider, null scheme, null digest data */
    assert_int_equal(auth_handle_packet(&ids, JSTR_LIT("sasl"), JSTR_LIT("x"), "127.0.0.1", super),
                     ZAUTHFAILED);
    assert_int_equal(
        auth_handle_packet(&ids, JSTR_LIT("world"), JSTR_LIT("anyone"), "127.0.0.1", super),
        ZAUTHFAILED);
    assert_int_equal(auth_handle_packet(&ids, JSTR_LIT("super"), JSTR_LIT(""), "127.0.0.1", super),
                     ZAUTHFAILED);
    assert_int_equal(auth_handle_packet(&ids, JSTR_NULL, JSTR_LIT("x"), "127.0.0.1", super),
                     ZAUTHFAILED);
    assert_int_equal(auth_handle_packet(&ids, JSTR_LIT("digest"), JSTR_NULL, "127.0.0.1", super),
                     ZAUTHFAILED);
    assert_int_equal(ids.n, 4);
    auth_ids_free(&ids);
}

/* ---- fix-up ------------------------------------------------------------------------------- */

static void test_fixup_invalid(void **state)
{
    (void)state;
    auth_ids_t ip_only, with_digest;
    auth_ids_init(&ip_only);
    add_id(&ip_only, "ip", "127.0.0.1");
    auth_ids_init(&with_digest);
    add_id(&with_digest, "ip", "127.0.0.1");
    add_id(&with_digest, "digest", USER_PASS_ID);

    /* every InvalidACL case of §11.3 */
    zk_acl_ref_t world_foo[] = {ACL(31, "world", "foo")};
    zk_acl_ref_t digest_abc[] = {ACL(31, "digest", "abc")};
    zk_acl_ref_t digest_abc3[] = {ACL(31, "digest", "a:b:c")};
    zk_acl_ref_t digest_a[] = {ACL(31, "digest", "a:")};
    zk_acl_ref_t ip_33[] = {ACL(31, "ip", "10.0.0.0/33")};
    zk_acl_ref_t foo_bar[] = {ACL(31, "foo", "bar")};
    zk_acl_ref_t auth[] = {ACL(31, "auth", "")};
    zk_acl_ref_t sasl[] = {ACL(31, "sasl", "user")};
    zk_acl_ref_t x509[] = {ACL(31, "x509", "CN=user")};
    zk_acl_ref_t super[] = {ACL(31, "super", "")};
    zk_acl_ref_t null_scheme[] = {ACL_NULL_SCHEME(31, "anyone")};
    assert_int_equal(fixup_rc(world_foo, 1, &with_digest), ZINVALIDACL);
    assert_int_equal(fixup_rc(digest_abc, 1, &with_digest), ZINVALIDACL);
    assert_int_equal(fixup_rc(digest_abc3, 1, &with_digest), ZINVALIDACL);
    assert_int_equal(fixup_rc(digest_a, 1, &with_digest), ZINVALIDACL);
    assert_int_equal(fixup_rc(ip_33, 1, &with_digest), ZINVALIDACL);
    assert_int_equal(fixup_rc(foo_bar, 1, &with_digest), ZINVALIDACL);
    assert_int_equal(fixup_rc(sasl, 1, &with_digest), ZINVALIDACL);
    assert_int_equal(fixup_rc(x509, 1, &with_digest), ZINVALIDACL);
    assert_int_equal(fixup_rc(super, 1, &with_digest), ZINVALIDACL);
    assert_int_equal(fixup_rc(null_scheme, 1, &with_digest), ZINVALIDACL);
    /* empty and null lists */
    assert_int_equal(fixup_rc(NULL, 0, &with_digest), ZINVALIDACL);
    assert_int_equal(fixup_rc(NULL, -1, &with_digest), ZINVALIDACL);
    /* auth with only an ip identity, with super only, with none */
    assert_int_equal(fixup_rc(auth, 1, &ip_only), ZINVALIDACL);
    add_id(&ip_only, "super", "");
    assert_int_equal(fixup_rc(auth, 1, &ip_only), ZINVALIDACL);
    assert_int_equal(fixup_rc(auth, 1, NULL), ZINVALIDACL);
    /* one bad entry spoils a good list, wherever it is */
    zk_acl_ref_t mixed[] = {ACL(31, "world", "anyone"), ACL(1, "ip", "10.0.0.0/8"),
                            ACL(1, "digest", "abc")};
    assert_int_equal(fixup_rc(mixed, NACL(mixed), &with_digest), ZINVALIDACL);

    auth_ids_free(&ip_only);
    auth_ids_free(&with_digest);
}

static void test_fixup_ok(void **state)
{
    (void)state;
    auth_ids_t ids;
    auth_ids_init(&ids);
    add_id(&ids, "ip", "127.0.0.1");
    acl_list_t out;

    /* kept as is; perms are not validated (0 and undefined bits pass) */
    zk_acl_ref_t simple[] = {ACL(31, "world", "anyone"), ACL(0, "ip", "10.0.0.0/8"),
                             ACL(0x7fffffff, "digest", USER_PASS_ID), ACL(1, "ip", "1.2.3.4")};
    assert_int_equal(auth_fixup_acl(simple, NACL(simple), &ids, &out), ZOK);
    want_t w1[] = {{31, "world", "anyone"},
                   {0, "ip", "10.0.0.0/8"},
                   {0x7fffffff, "digest", USER_PASS_ID},
                   {1, "ip", "1.2.3.4"}};
    assert_list(&out, w1, 4);
    acl_list_free(&out);

    /* duplicates removed, first occurrences kept in order; differing perms are distinct */
    zk_acl_ref_t dups[] = {ACL(1, "ip", "1.2.3.4"),    ACL(31, "world", "anyone"),
                           ACL(1, "ip", "1.2.3.4"),    ACL(3, "world", "anyone"),
                           ACL(31, "world", "anyone"), ACL(1, "digest", "a:b"),
                           ACL(1, "ip", "1.2.3.4")};
    assert_int_equal(auth_fixup_acl(dups, NACL(dups), &ids, &out), ZOK);
    want_t w2[] = {{1, "ip", "1.2.3.4"},
                   {31, "world", "anyone"},
                   {3, "world", "anyone"},
                   {1, "digest", "a:b"}};
    assert_list(&out, w2, 4);
    acl_list_free(&out);

    /* auth → one entry per digest identity, in set order; ip and super skipped;
     * expansions are not de-duplicated against each other or the rest
     * (ZooKeeper: [digest:v:h, auth:"", auth:x, digest:v:h, world:anyone/1]
     *  with identities [ip, super, digest:u:h, digest:v:h]) */
    add_id(&ids, "super", "");
    add_id(&ids, "digest", "u:h");
    add_id(&ids, "digest", "v:h");
    zk_acl_ref_t auth[] = {ACL(31, "digest", "v:h"), ACL(31, "auth", ""), ACL(31, "auth", "x"),
                           ACL(31, "digest", "v:h"), ACL(1, "world", "anyone")};
    assert_int_equal(auth_fixup_acl(auth, NACL(auth), &ids, &out), ZOK);
    want_t w3[] = {{31, "digest", "v:h"}, {31, "digest", "u:h"}, {31, "digest", "v:h"},
                   {31, "digest", "u:h"}, {31, "digest", "v:h"}, {1, "world", "anyone"}};
    assert_list(&out, w3, 6);
    acl_list_free(&out);

    /* auth's id is ignored, even a null one */
    zk_acl_ref_t auth_null[] = {ACL_NULL_ID(5, "auth")};
    assert_int_equal(auth_fixup_acl(auth_null, 1, &ids, &out), ZOK);
    want_t w4[] = {{5, "digest", "u:h"}, {5, "digest", "v:h"}};
    assert_list(&out, w4, 2);
    acl_list_free(&out);

    /* strings are stored as Java decodes them */
    zk_acl_ref_t latin1[] = {ACL(1, "digest", "us\xe9r:h"), ACL(1, "digest", "us\xffr:h")};
    assert_int_equal(auth_fixup_acl(latin1, NACL(latin1), &ids, &out), ZOK);
    want_t w5[] = {{1, "digest", "us\xef\xbf\xbdr:h"}}; /* both became the same id */
    assert_list(&out, w5, 1);
    acl_list_free(&out);

    auth_ids_free(&ids);
}

static void test_fixup_null_strings(void **state)
{
    (void)state;
    auth_ids_t ids;
    auth_ids_init(&ids);
    add_id(&ids, "digest", "u:h");
    /* ZooKeeper throws NullPointerException → MARSHALLINGERROR */
    zk_acl_ref_t world_null[] = {ACL_NULL_ID(1, "world")};
    zk_acl_ref_t digest_null[] = {ACL_NULL_ID(1, "digest")};
    zk_acl_ref_t ip_null[] = {ACL_NULL_ID(1, "ip")};
    assert_int_equal(fixup_rc(world_null, 1, &ids), ZMARSHALLINGERROR);
    assert_int_equal(fixup_rc(digest_null, 1, &ids), ZMARSHALLINGERROR);
    assert_int_equal(fixup_rc(ip_null, 1, &ids), ZMARSHALLINGERROR);
    /* an unknown scheme with a null id is simply invalid */
    zk_acl_ref_t foo_null[] = {ACL_NULL_ID(1, "foo")};
    assert_int_equal(fixup_rc(foo_null, 1, &ids), ZINVALIDACL);
    /* while removing duplicates: a null scheme compared with an entry of the
     * same perms, a null id with one of the same perms and scheme */
    zk_acl_ref_t dup_scheme[] = {ACL(1, "world", "anyone"), ACL_NULL_SCHEME(1, "anyone")};
    zk_acl_ref_t dup_id[] = {ACL(1, "world", "anyone"), ACL_NULL_ID(1, "world")};
    assert_int_equal(fixup_rc(dup_scheme, 2, &ids), ZMARSHALLINGERROR);
    assert_int_equal(fixup_rc(dup_id, 2, &ids), ZMARSHALLINGERROR);
    /* ...but not with different perms: then the entry itself is judged */
    zk_acl_ref_t other_perms[] = {ACL(1, "world", "anyone"), ACL_NULL_SCHEME(2, "anyone")};
    assert_int_equal(fixup_rc(other_perms, 2, &ids), ZINVALIDACL);
    /* duplicate removal runs first: its NPE wins over an earlier invalid entry */
    zk_acl_ref_t order[] = {ACL(1, "foo", "bar"), ACL(2, "ip", "1.2.3.4"), ACL_NULL_ID(2, "ip")};
    assert_int_equal(fixup_rc(order, 3, &ids), ZMARSHALLINGERROR);
    /* and within the per-entry pass the first failure wins */
    zk_acl_ref_t first[] = {ACL(1, "foo", "bar"), ACL_NULL_ID(2, "ip")};
    assert_int_equal(fixup_rc(first, 2, &ids), ZINVALIDACL);
    auth_ids_free(&ids);
}

/* Long lists take the hashed duplicate removal; it must agree with the
 * linear one on order, duplicates and the null-string cases. */
static void test_fixup_long_lists(void **state)
{
    (void)state;
    static const zk_acl_ref_t pool[] = {
        {1, {"ip", 2}, {"1.2.3.4", 7}},   {2, {"digest", 6}, {"a:b", 3}},
        {1, {"world", 5}, {"anyone", 6}}, {1, {"digest", 6}, {"a:b", 3}},
        {4, {"ip", 2}, {"1.2.3.4", 7}},
    };
    auth_ids_t ids;
    auth_ids_init(&ids);
    for (int32_t n = 20; n <= 200; n += 13) {
        zk_acl_ref_t *v = calloc((size_t)n, sizeof *v);
        for (int32_t i = 0; i < n; i++)
            v[i] = pool[(i * 3) % 5]; /* first five visit every pool entry once */
        acl_list_t out;
        assert_int_equal(auth_fixup_acl(v, n, &ids, &out), ZOK);
        assert_int_equal(out.n, 5);
        for (int i = 0; i < 5; i++) {
            const zk_acl_ref_t *p = &pool[(i * 3) % 5];
            assert_int_equal(out.v[i].perms, p->perms);
            assert_true(jstr_eq(acl_scheme(&out.v[i]), p->scheme));
            assert_true(jstr_eq(acl_id(&out.v[i]), p->id));
        }
        acl_list_free(&out);

        /* a null id late in the list, same perms and scheme as an earlier entry */
        v[n - 1] = ACL_NULL_ID(2, "digest");
        assert_int_equal(fixup_rc(v, n, &ids), ZMARSHALLINGERROR);
        /* a null scheme with perms nobody else has: kept, then invalid */
        v[n - 1] = ACL_NULL_SCHEME(16, "anyone");
        assert_int_equal(fixup_rc(v, n, &ids), ZINVALIDACL);
        /* a null scheme with perms seen before */
        v[n - 1] = ACL_NULL_SCHEME(4, "anyone");
        assert_int_equal(fixup_rc(v, n, &ids), ZMARSHALLINGERROR);
        /* a null id under a scheme not seen before: kept, then the NPE of isValid */
        v[n - 1] = ACL_NULL_ID(2, "ip");
        assert_int_equal(fixup_rc(v, n, &ids), ZMARSHALLINGERROR);
        /* two null-id entries of the same perms and scheme */
        v[n - 2] = ACL_NULL_ID(8, "foo");
        v[n - 1] = ACL_NULL_ID(8, "foo");
        assert_int_equal(fixup_rc(v, n, &ids), ZMARSHALLINGERROR);
        /* an invalid entry */
        v[n - 2] = pool[0];
        v[n - 1] = ACL(1, "digest", "abc");
        assert_int_equal(fixup_rc(v, n, &ids), ZINVALIDACL);
        free(v);
    }
    auth_ids_free(&ids);
}

/* ---- check --------------------------------------------------------------------------------- */

static void test_check(void **state)
{
    (void)state;
    auth_ids_t anon, user, other, super;
    auth_ids_init(&anon);
    add_id(&anon, "ip", "10.1.2.3");
    auth_ids_init(&user);
    add_id(&user, "ip", "192.168.0.1");
    add_id(&user, "digest", USER_PASS_ID);
    auth_ids_init(&other);
    add_id(&other, "ip", "0:0:0:0:0:0:0:1");
    add_id(&other, "digest", "user:x");
    add_id(&other, "sasl", "user");
    auth_ids_init(&super);
    add_id(&super, "ip", "192.168.0.1");
    add_id(&super, "super", "");

    acl_list_t acl;
    acl_list_init(&acl);
    /* empty list: allowed; skipACL: allowed */
    assert_true(auth_check(&acl, AUTH_PERM_ADMIN, &anon, false));
    assert_true(auth_check(NULL, AUTH_PERM_ADMIN, &anon, false));
    acl_list_push(&acl, AUTH_PERM_READ, JSTR_LIT("world"), JSTR_LIT("anyone"));
    acl_list_push(&acl, AUTH_PERM_ALL, JSTR_LIT("digest"), JSTR_LIT(USER_PASS_ID));
    acl_list_push(&acl, AUTH_PERM_WRITE, JSTR_LIT("ip"), JSTR_LIT("10.0.0.0/8"));
    acl_list_push(&acl, AUTH_PERM_ALL, JSTR_LIT("sasl"), JSTR_LIT("user"));
    acl_list_push(&acl, AUTH_PERM_ALL, JSTR_LIT("world"), JSTR_LIT("foo"));
    assert_true(auth_check(&acl, AUTH_PERM_ADMIN, &anon, true));

    /* world:anyone grants only its bits */
    assert_true(auth_check(&acl, AUTH_PERM_READ, &anon, false));
    assert_true(auth_check(&acl, AUTH_PERM_READ, &other, false));
    /* ip CIDR */
    assert_true(auth_check(&acl, AUTH_PERM_WRITE, &anon, false));
    assert_false(auth_check(&acl, AUTH_PERM_WRITE, &other, false));
    assert_false(auth_check(&acl, AUTH_PERM_DELETE, &anon, false));
    /* digest equality */
    assert_true(auth_check(&acl, AUTH_PERM_ADMIN, &user, false));
    assert_true(auth_check(&acl, AUTH_PERM_DELETE, &user, false));
    assert_false(auth_check(&acl, AUTH_PERM_ADMIN, &other, false)); /* user:x ≠ the hash */
    /* any of several bits (getACL asks READ|ADMIN) */
    assert_true(auth_check(&acl, AUTH_PERM_READ | AUTH_PERM_ADMIN, &other, false));
    assert_false(auth_check(&acl, AUTH_PERM_CREATE | AUTH_PERM_ADMIN, &anon, false));
    /* no sasl provider, world:foo is not world:anyone */
    assert_false(auth_check(&acl, AUTH_PERM_CREATE, &other, false));
    /* super bypasses everything */
    assert_true(auth_check(&acl, AUTH_PERM_ADMIN, &super, false));
    /* no identities at all */
    assert_false(auth_check(&acl, AUTH_PERM_ADMIN, NULL, false));
    assert_true(auth_check(&acl, AUTH_PERM_READ, NULL, false));

    /* a list whose entries grant nothing */
    acl_list_t none;
    acl_list_init(&none);
    acl_list_push(&none, 0, JSTR_LIT("world"), JSTR_LIT("anyone"));
    assert_false(auth_check(&none, AUTH_PERM_ALL, &user, false));
    assert_true(auth_check(&none, AUTH_PERM_ALL, &super, false));

    acl_list_free(&acl);
    acl_list_free(&none);
    auth_ids_free(&anon);
    auth_ids_free(&user);
    auth_ids_free(&other);
    auth_ids_free(&super);
}

/* ---- getACL masking -------------------------------------------------------------------- */

static void assert_mask(jstr_t in, const char *want, size_t want_len)
{
    int32_t len;
    char *m = auth_digest_mask(in, &len);
    assert_int_equal(len, (int32_t)want_len);
    assert_memory_equal(m, want, want_len);
    assert_int_equal(m[len], '\0');
    free(m);
}
#define MASK(in, want) assert_mask((jstr_t){in, sizeof(in) - 1}, want, sizeof(want) - 1)

static void test_mask(void **state)
{
    (void)state;
    MASK("user:smGaoVKd/cQkjm7b88GyorAUz20=", "user:x");
    MASK("a:b:c", "a:x");
    MASK(":hash", ":x");
    MASK("nocolon", "nocolon");
    MASK("", "");
    /* Java's '.' stops at line terminators, and replaceAll goes on */
    MASK("a:b\nc:d", "a:x\nc:x");
    MASK("a:b\r\nc:d", "a:x\r\nc:x");
    MASK("a:b\xe2\x80\xa8x", "a:x\xe2\x80\xa8x");
    MASK("a:b\xc2\x85x", "a:x\xc2\x85x");
    MASK("\r\r:a\xe2\x80\xa8\n\xc3\xa9\xe2\x80\xa8", "\r\r:x\xe2\x80\xa8\n\xc3\xa9\xe2\x80\xa8");

    acl_list_t in, out;
    acl_list_init(&in);
    acl_list_push(&in, 31, JSTR_LIT("digest"), JSTR_LIT(USER_PASS_ID));
    acl_list_push(&in, 1, JSTR_LIT("world"), JSTR_LIT("anyone"));
    acl_list_push(&in, 3, JSTR_LIT("ip"), JSTR_LIT("10.0.0.0/8"));
    acl_list_push(&in, 5, JSTR_LIT("sasl"), JSTR_LIT("a:b"));
    auth_acl_mask(&in, &out);
    want_t w[] = {{31, "digest", "user:x"},
                  {1, "world", "anyone"},
                  {3, "ip", "10.0.0.0/8"},
                  {5, "sasl", "a:b"}};
    assert_list(&out, w, 4);
    assert_string_equal(in.v[0].id, USER_PASS_ID); /* the input is untouched */
    acl_list_free(&in);
    acl_list_free(&out);
}

/* ---- whoAmI -------------------------------------------------------------------------------- */

static void test_whoami(void **state)
{
    (void)state;
    auth_ids_t ids;
    auth_ids_init(&ids);
    add_id(&ids, "ip", "127.0.0.1");
    add_id(&ids, "digest", USER_PASS_ID);
    add_id(&ids, "super", "");
    add_id(&ids, "digest", ":krPDEYdCl854cFNT6IXnoMv+VVA=");
    add_id(&ids, "sasl", "someone");
    jstr_t scheme, user;
    auth_whoami(&ids.v[0], &scheme, &user);
    assert_true(jstr_eq_cstr(scheme, "ip"));
    assert_true(jstr_eq_cstr(user, "127.0.0.1"));
    auth_whoami(&ids.v[1], &scheme, &user);
    assert_true(jstr_eq_cstr(scheme, "digest"));
    assert_true(jstr_eq_cstr(user, "user"));
    auth_whoami(&ids.v[2], &scheme, &user);
    assert_true(jstr_eq_cstr(scheme, "super"));
    assert_true(jstr_eq_cstr(user, ""));
    assert_int_equal(user.len, 0); /* empty, not null */
    auth_whoami(&ids.v[3], &scheme, &user);
    assert_true(jstr_eq_cstr(user, ""));
    auth_whoami(&ids.v[4], &scheme, &user);
    assert_true(jstr_eq_cstr(scheme, "sasl"));
    assert_true(jstr_eq_cstr(user, "")); /* no sasl provider by default */
    auth_ids_free(&ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perm_bits),
        cmocka_unit_test(test_acl_list),
        cmocka_unit_test(test_ids_set),
        cmocka_unit_test(test_java_utf8),
        cmocka_unit_test(test_digest_identity),
        cmocka_unit_test(test_super_digest),
        cmocka_unit_test(test_digest_valid),
        cmocka_unit_test(test_ip_parse),
        cmocka_unit_test(test_ip_match),
        cmocka_unit_test(test_acl_id_valid),
        cmocka_unit_test(test_handle_packet),
        cmocka_unit_test(test_fixup_invalid),
        cmocka_unit_test(test_fixup_ok),
        cmocka_unit_test(test_fixup_null_strings),
        cmocka_unit_test(test_fixup_long_lists),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_whoami),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
