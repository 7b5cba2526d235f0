/* auth: ZooKeeper's access control as pure functions (protocol reference §11,
 * §5.6 getACL masking, §5.12 whoAmI).
 *
 * Owns: the permission bits; the owned ACL entry and list types the tree
 * interns; a connection's identity set; the `world`, `digest` and `ip`
 * schemes exactly as ZooKeeper 3.8's default providers implement them; the
 * ACL fix-up of create/setACL; the permission check; getACL's digest
 * masking; whoAmI's (scheme, user) pairs.
 *
 * No I/O and no global state: configuration (the super digest, skipACL) is
 * passed in by the caller. Errors are returned as ZooKeeper error codes
 * (enum zk_error).
 *
 * Strings. ZooKeeper decodes every wire string as UTF-8 into a Java String,
 * replacing malformed sequences with U+FFFD, and re-encodes it when it writes
 * it back. Functions here that take wire bytes normalise them the same way
 * (auth_java_utf8) before comparing, hashing or storing, so that what Corral
 * stores is what ZooKeeper would store. Owned strings carry their length
 * (Java strings may contain U+0000) and are also NUL-terminated for
 * convenience; they are never null. */
#ifndef CORRAL_AUTH_H
#define CORRAL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/jute.h"
#include "proto/records.h"
#include "proto/zk.h"

/* Permission bits (§11.1). Bits outside ALL are accepted and kept. */
enum {
    AUTH_PERM_READ = 1 << 0,
    AUTH_PERM_WRITE = 1 << 1,
    AUTH_PERM_CREATE = 1 << 2,
    AUTH_PERM_DELETE = 1 << 3,
    AUTH_PERM_ADMIN = 1 << 4,
    AUTH_PERM_ALL = 31,
};

/* Limits. A connection keeps at most AUTH_IDS_MAX identities (ZooKeeper has
 * no limit; past it an auth packet fails with AUTHFAILED). A fixed-up ACL has
 * at most AUTH_ACL_MAX entries (only reachable by `auth` expansion; past it
 * the fix-up answers INVALIDACL). */
#define AUTH_IDS_MAX 1024
#define AUTH_ACL_MAX (1 << 20)

/* ---- ACL entries and lists (owned) ---------------------------------------- */

/* One ACL entry: {perms, Id{scheme, id}}. */
typedef struct acl {
    int32_t perms;
    int32_t scheme_len;
    int32_t id_len;
    char *scheme; /* owned, NUL-terminated, never NULL */
    char *id;     /* owned, NUL-terminated, never NULL */
} acl_t;

/* An ordered ACL list, as stored on a node. Order matters for equality
 * (ZooKeeper interns lists by List.equals). The backing array grows by
 * powers of two, so no capacity field is kept. */
typedef struct acl_list {
    acl_t *v;
    int32_t n;
} acl_list_t;

void acl_list_init(acl_list_t *l);
/* Free every entry and the array; leaves an empty list. */
void acl_list_free(acl_list_t *l);
/* Append a copy of (perms, scheme, id). Bytes are copied as given (no UTF-8
 * normalisation); a null jstr is stored as "". */
void acl_list_push(acl_list_t *l, int32_t perms, jstr_t scheme, jstr_t id);
/* Deep copy: dst is overwritten (not freed first). */
void acl_list_copy(acl_list_t *dst, const acl_list_t *src);
/* Same entries in the same order. */
bool acl_list_equal(const acl_list_t *a, const acl_list_t *b);
/* Hash consistent with acl_list_equal (FNV-1a over every field). */
uint64_t acl_list_hash(const acl_list_t *l);
/* Borrowed views of an entry's strings. */
static inline jstr_t acl_scheme(const acl_t *a)
{
    return (jstr_t){a->scheme, a->scheme_len};
}
static inline jstr_t acl_id(const acl_t *a)
{
    return (jstr_t){a->id, a->id_len};
}

/* ---- Identities ------------------------------------------------------------ */

/* One authenticated identity of a connection, e.g. ("ip", "127.0.0.1"),
 * ("digest", "user:smGa…="), ("super", ""). */
typedef struct auth_id {
    char *scheme; /* owned, NUL-terminated, never NULL */
    char *id;     /* owned, NUL-terminated, never NULL */
    int32_t scheme_len;
    int32_t id_len;
} auth_id_t;

/* A connection's identity set: insertion order is kept (it is the order of
 * `auth` expansion and of whoAmI), adding a duplicate is a no-op. The caller
 * adds the initial ("ip", <address as Java prints it>) identity itself. */
typedef struct auth_ids {
    auth_id_t *v;
    int32_t n;
    int32_t cap;
} auth_ids_t;

void auth_ids_init(auth_ids_t *s);
void auth_ids_free(auth_ids_t *s);
/* Add (scheme, id), bytes copied as given; null jstrs count as "".
 * Returns 1 if added, 0 if already present, -1 if the set is full. */
int auth_ids_add(auth_ids_t *s, jstr_t scheme, jstr_t id);
bool auth_ids_contains(const auth_ids_t *s, jstr_t scheme, jstr_t id);
/* True if some identity has this scheme (e.g. for enforce.auth.schemes). */
bool auth_ids_has_scheme(const auth_ids_t *s, jstr_t scheme);

/* ---- Strings as Java sees them --------------------------------------------- */

/* True if p[0..len) is what Java's UTF-8 decode+encode round trip returns
 * unchanged (well-formed UTF-8, no surrogate code points). */
bool auth_utf8_is_java_clean(const void *p, size_t len);
/* Append to `out` the bytes of new String(p, UTF_8).getBytes(UTF_8): each
 * malformed sequence becomes EF BF BD, grouped exactly as JDK 17 does. */
void auth_java_utf8(const void *p, size_t len, buf_t *out);

/* ---- Schemes ----------------------------------------------------------------- */

/* The digest identity for `user:password` auth bytes:
 * user + ":" + base64(SHA1(whole input)), standard base64 with padding. The
 * input is first normalised as Java decodes it; without a ':' the whole input
 * is the user. Returns a malloc'ed NUL-terminated string and its length in
 * *len_out, or NULL if SHA-1 is unavailable (ZooKeeper: AUTHFAILED). A null
 * jstr yields NULL (ZooKeeper fails the auth packet). */
char *auth_digest_identity(jstr_t auth_data, int32_t *len_out);
/* True if the digest identity equals the configured superDigest
 * (zookeeper.DigestAuthenticationProvider.superDigest); NULL means unset. */
bool auth_is_super_digest(jstr_t digest_id, const char *super_digest);

/* Parse an IPv4 address `a.b.c.d` as IPAuthenticationProvider does: exactly
 * four '.'-separated parts, each a Java Integer.parseInt value in 0..255
 * (an optional leading '+' or '-', leading zeros, and any Unicode decimal
 * digits of the BMP are accepted; empty parts, spaces and overflow are not).
 * IPv6 is not supported, as in 3.8. */
bool auth_ip_parse(jstr_t s, uint8_t out[4]);
/* Parse an ip ACL id `a.b.c.d` or `a.b.c.d/bits` (bits 0..32, parsed like
 * the octets; everything after the first '/' is the bits). */
bool auth_ip_parse_cidr(jstr_t s, uint8_t addr[4], int *bits);
/* True if the identity address lies in the ACL's network: both sides are
 * masked to `bits`. A non-IPv4 identity or an invalid ACL id never matches. */
bool auth_ip_match(jstr_t identity, jstr_t acl_id);

/* isValid of each scheme's provider (§11.3), on already-normalised ids:
 *   world: only "anyone"; digest: Java id.split(":") gives exactly 2 parts
 *   (trailing empty parts dropped: "a:" is 1 part, ":b" is 2, "a:b:" is 2);
 *   ip: auth_ip_parse_cidr; auth: always (the fix-up expands it);
 *   anything else, including sasl and x509 (not registered by default): no.
 * A null id is never valid. */
bool auth_digest_valid(jstr_t id);
bool auth_acl_id_valid(jstr_t scheme, jstr_t id);

/* Handle an auth packet (opcode 100) for a connection whose address is
 * `peer_addr` (as in its ip identity). `digest` adds ("super", "") first if
 * the identity is the super digest, then ("digest", identity); `ip` re-adds
 * ("ip", peer_addr) and ignores the data. Returns ZOK, or ZAUTHFAILED for an
 * unknown or null scheme, null digest data, missing SHA-1 or a full set; on
 * ZAUTHFAILED the caller replies and closes the connection. */
int auth_handle_packet(auth_ids_t *ids, jstr_t scheme, jstr_t data, const char *peer_addr,
                       const char *super_digest);

/* ---- Fix-up, check, masking, whoAmI --------------------------------------- */

/* The ACL fix-up of create and setACL (PrepRequestProcessor.fixupACL, §11.3).
 * Strings are normalised as Java decodes them; then exact duplicates are
 * removed keeping first occurrences; then each entry in order: world:anyone
 * is kept, `auth` is replaced by one entry per `digest` identity of `ids`
 * (in set order, same perms; ip and super do not count), valid digest and ip
 * entries are kept, anything else is INVALIDACL. Entries produced by `auth`
 * are not de-duplicated again (ZooKeeper keeps such duplicates).
 * Returns ZOK with `out` filled (overwritten, not freed first), or
 *   ZINVALIDACL for an empty or null list or any invalid entry;
 *   ZMARSHALLINGERROR where ZooKeeper dies of a NullPointerException on a
 *   null string (world or digest or ip with a null id; a null scheme or id
 *   compared while removing duplicates) and answers MARSHALLINGERROR.
 * On error `out` is left empty. n == -1 is a null vector. */
int auth_fixup_acl(const zk_acl_ref_t *in, int32_t n, const auth_ids_t *ids, acl_list_t *out);

/* The permission check (ZooKeeperServer.checkACL, §11.2): true if any bit of
 * `perm` is granted. skip_acl (zookeeper.skipACL=yes), an empty or NULL list,
 * or a `super` identity allow everything; otherwise an entry with a common
 * bit must be world:anyone, or digest equal to a digest identity, or ip
 * matching an ip identity. */
bool auth_check(const acl_list_t *acl, int32_t perm, const auth_ids_t *ids, bool skip_acl);

/* getACL without ADMIN: a digest id loses everything from each ':' to the end
 * of its line, replaced by ":x" (Java id.replaceAll(":.*", ":x"); '.' stops at
 * \n, \r, U+0085, U+2028, U+2029). Returns a malloc'ed NUL-terminated string
 * and its length in *len_out. */
char *auth_digest_mask(jstr_t id, int32_t *len_out);
/* Deep copy of `in` into `out` (overwritten) with every digest id masked. */
void auth_acl_mask(const acl_list_t *in, acl_list_t *out);

/* whoAmI's ClientInfo for one identity, as views into it: the scheme, and the
 * user: ip → the address; digest → the part before the first ':'; any scheme
 * without a registered provider (super, sasl, x509 by default) → "". */
void auth_whoami(const auth_id_t *id, jstr_t *scheme, jstr_t *user);

#endif
