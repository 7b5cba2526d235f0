/* auth: ZooKeeper 3.8's default authentication providers (world, digest, ip),
 * the ACL fix-up, the permission check, getACL masking and whoAmI, as pure
 * functions over the types of auth.h. See auth.h for the contract and
 * shared/docs/zookeeper-protocol.md §11 for the rules. */
#include "auth/auth.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/hashmap.h"

/* ---- small string helpers --------------------------------------------------- */

static jstr_t jstr_or_empty(jstr_t s)
{
    return s.len < 0 ? (jstr_t){"", 0} : s;
}

static char *dup_bytes(jstr_t s, int32_t *len_out)
{
    s = jstr_or_empty(s);
    *len_out = s.len;
    return xstrndup(s.ptr, (size_t)s.len);
}

static bool jstr_is(jstr_t s, const char *lit)
{
    return s.len >= 0 && jstr_eq_cstr(s, lit);
}

/* ---- Java's UTF-8 round trip -------------------------------------------------- */

static bool is_cont(uint8_t b)
{
    return (b & 0xC0) == 0x80;
}

/* One step of JDK 17's replacing UTF-8 decoder at s[i]: returns how many
 * bytes it consumes and sets *ok when they decode to valid characters (and
 * so re-encode to themselves); otherwise they become one U+FFFD. The cases
 * follow the JDK's grouping of malformed input, including its habit of
 * swallowing the continuation bytes of a sequence truncated by the end. */
static size_t java_utf8_step(const uint8_t *s, size_t len, size_t i, bool *ok)
{
    uint8_t b1 = s[i];
    size_t rest = len - i - 1; /* bytes after the lead */
    *ok = false;
    if (b1 < 0x80) {
        *ok = true;
        return 1;
    }
    if ((b1 & 0xE0) == 0xC0 && (b1 & 0x1E) != 0) { /* C2..DF */
        if (rest >= 1 && is_cont(s[i + 1])) {
            *ok = true;
            return 2;
        }
        return 1;
    }
    if ((b1 & 0xF0) == 0xE0) { /* E0..EF */
        if (rest >= 2) {
            uint8_t b2 = s[i + 1], b3 = s[i + 2];
            bool overlong = b1 == 0xE0 && (b2 & 0xE0) == 0x80;
            if (overlong || !is_cont(b2) || !is_cont(b3))
                return (overlong || !is_cont(b2)) ? 1 : 2;
            if (b1 == 0xED && b2 >= 0xA0) /* a surrogate code point */
                return 3;
            *ok = true;
            return 3;
        }
        if (rest == 1 && ((b1 == 0xE0 && (s[i + 1] & 0xE0) == 0x80) || !is_cont(s[i + 1])))
            return 1;
        return 1 + rest; /* truncated: the JDK stops here */
    }
    if ((b1 & 0xF8) == 0xF0) { /* F0..F7 */
        if (rest >= 3) {
            uint8_t b2 = s[i + 1], b3 = s[i + 2], b4 = s[i + 3];
            if (is_cont(b2) && is_cont(b3) && is_cont(b4)) {
                uint32_t uc = ((uint32_t)(b1 & 0x07) << 18) | ((uint32_t)(b2 & 0x3F) << 12) |
                              ((uint32_t)(b3 & 0x3F) << 6) | (uint32_t)(b4 & 0x3F);
                if (uc >= 0x10000 && uc < 0x110000) {
                    *ok = true;
                    return 4;
                }
            }
            if (b1 > 0xF4 || (b1 == 0xF0 && (b2 < 0x90 || b2 > 0xBF)) ||
                (b1 == 0xF4 && (b2 & 0xF0) != 0x80) || !is_cont(b2))
                return 1;
            return is_cont(b3) ? 3 : 2;
        }
        if (b1 > 0xF4)
            return 1;
        if (rest >= 1) {
            uint8_t b2 = s[i + 1];
            if ((b1 == 0xF0 && (b2 < 0x90 || b2 > 0xBF)) || (b1 == 0xF4 && (b2 & 0xF0) != 0x80) ||
                !is_cont(b2))
                return 1;
            if (rest >= 2 && !is_cont(s[i + 2]))
                return 2;
        }
        return 1 + rest;
    }
    return 1; /* a stray continuation byte, C0, C1 or F8..FF */
}

bool auth_utf8_is_java_clean(const void *p, size_t len)
{
    const uint8_t *s = p;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        bool ok;
        i += java_utf8_step(s, len, i, &ok);
        if (!ok)
            return false;
    }
    return true;
}

void auth_java_utf8(const void *p, size_t len, buf_t *out)
{
    static const uint8_t repl[3] = {0xEF, 0xBF, 0xBD};
    const uint8_t *s = p;
    size_t i = 0;
    buf_reserve(out, len);
    while (i < len) {
        bool ok;
        size_t n = java_utf8_step(s, len, i, &ok);
        if (ok)
            buf_append(out, s + i, n);
        else
            buf_append(out, repl, sizeof repl);
        i += n;
    }
}

/* A Java-normalised, owned, NUL-terminated copy of s (null → ""). */
static char *dup_java(jstr_t s, int32_t *len_out)
{
    s = jstr_or_empty(s);
    if (auth_utf8_is_java_clean(s.ptr, (size_t)s.len))
        return dup_bytes(s, len_out);
    buf_t b;
    buf_init(&b);
    auth_java_utf8(s.ptr, (size_t)s.len, &b);
    assert(b.len <= INT32_MAX);
    char *r = xstrndup((const char *)b.data, b.len);
    *len_out = (int32_t)b.len;
    buf_free(&b);
    return r;
}

/* ---- ACL lists ------------------------------------------------------------------ */

void acl_list_init(acl_list_t *l)
{
    l->v = NULL;
    l->n = 0;
}

void acl_list_free(acl_list_t *l)
{
    for (int32_t i = 0; i < l->n; i++) {
        free(l->v[i].scheme);
        free(l->v[i].id);
    }
    free(l->v);
    acl_list_init(l);
}

static bool is_pow2(int32_t n)
{
    return n > 0 && (n & (n - 1)) == 0;
}

static acl_t *acl_list_grow(acl_list_t *l)
{
    /* Capacity is implicitly the next power of two >= n. */
    if (l->n == 0 || is_pow2(l->n))
        l->v = xrealloc(l->v, sizeof(acl_t) * (size_t)(l->n ? l->n * 2 : 1));
    return &l->v[l->n++];
}

void acl_list_push(acl_list_t *l, int32_t perms, jstr_t scheme, jstr_t id)
{
    acl_t *a = acl_list_grow(l);
    a->perms = perms;
    a->scheme = dup_bytes(scheme, &a->scheme_len);
    a->id = dup_bytes(id, &a->id_len);
}

void acl_list_copy(acl_list_t *dst, const acl_list_t *src)
{
    acl_list_init(dst);
    for (int32_t i = 0; i < src->n; i++)
        acl_list_push(dst, src->v[i].perms, acl_scheme(&src->v[i]), acl_id(&src->v[i]));
}

static bool acl_equal(const acl_t *a, const acl_t *b)
{
    return a->perms == b->perms && jstr_eq(acl_scheme(a), acl_scheme(b)) &&
           jstr_eq(acl_id(a), acl_id(b));
}

bool acl_list_equal(const acl_list_t *a, const acl_list_t *b)
{
    if (a->n != b->n)
        return false;
    for (int32_t i = 0; i < a->n; i++)
        if (!acl_equal(&a->v[i], &b->v[i]))
            return false;
    return true;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t fnv1a_i32(uint64_t h, int32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return fnv1a(h, b, sizeof b);
}

uint64_t acl_list_hash(const acl_list_t *l)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv1a_i32(h, l->n);
    for (int32_t i = 0; i < l->n; i++) {
        const acl_t *a = &l->v[i];
        h = fnv1a_i32(h, a->perms);
        h = fnv1a_i32(h, a->scheme_len);
        h = fnv1a(h, a->scheme, (size_t)a->scheme_len);
        h = fnv1a_i32(h, a->id_len);
        h = fnv1a(h, a->id, (size_t)a->id_len);
    }
    return h;
}

/* ---- identity sets --------------------------------------------------------------- */

static jstr_t ident_scheme(const auth_id_t *a)
{
    return (jstr_t){a->scheme, a->scheme_len};
}

static jstr_t ident_id(const auth_id_t *a)
{
    return (jstr_t){a->id, a->id_len};
}

void auth_ids_init(auth_ids_t *s)
{
    s->v = NULL;
    s->n = 0;
    s->cap = 0;
}

void auth_ids_free(auth_ids_t *s)
{
    for (int32_t i = 0; i < s->n; i++) {
        free(s->v[i].scheme);
        free(s->v[i].id);
    }
    free(s->v);
    auth_ids_init(s);
}

bool auth_ids_contains(const auth_ids_t *s, jstr_t scheme, jstr_t id)
{
    scheme = jstr_or_empty(scheme);
    id = jstr_or_empty(id);
    for (int32_t i = 0; i < s->n; i++)
        if (jstr_eq(ident_scheme(&s->v[i]), scheme) && jstr_eq(ident_id(&s->v[i]), id))
            return true;
    return false;
}

bool auth_ids_has_scheme(const auth_ids_t *s, jstr_t scheme)
{
    scheme = jstr_or_empty(scheme);
    for (int32_t i = 0; i < s->n; i++)
        if (jstr_eq(ident_scheme(&s->v[i]), scheme))
            return true;
    return false;
}

int auth_ids_add(auth_ids_t *s, jstr_t scheme, jstr_t id)
{
    if (auth_ids_contains(s, scheme, id))
        return 0;
    if (s->n >= AUTH_IDS_MAX)
        return -1;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->v = xrealloc(s->v, sizeof(auth_id_t) * (size_t)s->cap);
    }
    auth_id_t *a = &s->v[s->n++];
    a->scheme = dup_bytes(scheme, &a->scheme_len);
    a->id = dup_bytes(id, &a->id_len);
    return 1;
}

/* ---- digest ---------------------------------------------------------------------- */

char *auth_digest_identity(jstr_t auth_data, int32_t *len_out)
{
    if (auth_data.len < 0)
        return NULL;
    int32_t n;
    char *norm = dup_java(auth_data, &n);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(norm, (size_t)n, md, &md_len, EVP_sha1(), NULL) != 1 || md_len != 20) {
        free(norm);
        return NULL;
    }
    const char *colon = memchr(norm, ':', (size_t)n);
    size_t user_len = colon ? (size_t)(colon - norm) : (size_t)n;
    /* base64 of 20 bytes is 28 characters; EVP_EncodeBlock adds a NUL. */
    char *r = xmalloc(user_len + 1 + 28 + 1);
    memcpy(r, norm, user_len);
    r[user_len] = ':';
    int b64 = EVP_EncodeBlock((unsigned char *)r + user_len + 1, md, (int)md_len);
    assert(b64 == 28);
    *len_out = (int32_t)(user_len + 1 + (size_t)b64);
    free(norm);
    return r;
}

bool auth_is_super_digest(jstr_t digest_id, const char *super_digest)
{
    return super_digest && digest_id.len >= 0 && jstr_eq_cstr(digest_id, super_digest);
}

/* Java's String.split(":") part count: split on every ':', then drop the
 * trailing empty parts; an input without ':' is one part even when empty. */
static int java_split_colon_count(jstr_t s)
{
    const char *p = s.ptr;
    size_t len = (size_t)s.len;
    if (len == 0 || !memchr(p, ':', len))
        return 1;
    int parts = 0, nonempty_upto = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || p[i] == ':') {
            parts++;
            if (i > start)
                nonempty_upto = parts;
            start = i + 1;
        }
    }
    return nonempty_upto;
}

bool auth_digest_valid(jstr_t id)
{
    return id.len >= 0 && java_split_colon_count(id) == 2;
}

/* ---- ip ---------------------------------------------------------------------------- */

/* The zeros of every run of Unicode decimal digits (Nd) in the BMP, i.e. the
 * characters for which Java's Character.digit(ch, 10) is not -1. */
static const uint16_t nd_zeros[] = {
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6,
    0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0,
    0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
};

static int java_digit(uint32_t c)
{
    for (size_t i = 0; i < sizeof nd_zeros / sizeof nd_zeros[0]; i++)
        if (c >= nd_zeros[i] && c < (uint32_t)nd_zeros[i] + 10)
            return (int)(c - nd_zeros[i]);
    return -1;
}

/* Decode one well-formed BMP code point (1-3 bytes) at p[*i]; anything else
 * (malformed, or a supplementary character, which Java sees as two
 * surrogates) yields 0xFFFFFFFF, which is no digit. */
static uint32_t next_char(const uint8_t *p, size_t len, size_t *i)
{
    bool ok;
    size_t n = java_utf8_step(p, len, *i, &ok);
    const uint8_t *s = p + *i;
    *i += n;
    if (!ok || n == 4)
        return 0xFFFFFFFFu;
    if (n == 1)
        return s[0];
    if (n == 2)
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
}

/* Java's Integer.parseInt(s, 10) on p[0..len): an optional sign, then one or
 * more decimal digits, the value within int32. */
static bool java_parse_int(const char *p, size_t len, int32_t *out)
{
    const uint8_t *s = (const uint8_t *)p;
    if (len == 0)
        return false;
    size_t i = 0;
    bool neg = false;
    uint64_t limit = INT32_MAX;
    if (s[0] < '0') {
        if (s[0] == '-') {
            neg = true;
            limit = (uint64_t)INT32_MAX + 1;
        } else if (s[0] != '+') {
            return false;
        }
        if (len == 1)
            return false;
        i = 1;
    }
    uint64_t mag = 0;
    while (i < len) {
        int d = java_digit(next_char(s, len, &i));
        if (d < 0)
            return false;
        mag = mag * 10 + (uint64_t)d;
        if (mag > limit)
            return false;
    }
    *out = neg ? (int32_t)(-(int64_t)mag) : (int32_t)mag;
    return true;
}

bool auth_ip_parse(jstr_t s, uint8_t out[4])
{
    if (s.len <= 0)
        return false;
    const char *p = s.ptr, *end = s.ptr + s.len;
    for (int part = 0; part < 4; part++) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        if ((part < 3) != (dot != NULL))
            return false; /* not exactly four parts */
        const char *pe = dot ? dot : end;
        int32_t v;
        if (!java_parse_int(p, (size_t)(pe - p), &v) || v < 0 || v > 255)
            return false;
        out[part] = (uint8_t)v;
        p = pe + 1;
    }
    return true;
}

bool auth_ip_parse_cidr(jstr_t s, uint8_t addr[4], int *bits)
{
    if (s.len <= 0)
        return false;
    const char *slash = memchr(s.ptr, '/', (size_t)s.len);
    jstr_t a = {s.ptr, slash ? (int32_t)(slash - s.ptr) : s.len};
    if (!auth_ip_parse(a, addr))
        return false;
    *bits = 32;
    if (slash) {
        int32_t v;
        if (!java_parse_int(slash + 1, (size_t)(s.ptr + s.len - slash - 1), &v) || v < 0 || v > 32)
            return false;
        *bits = v;
    }
    return true;
}

static void ip_mask(uint8_t b[4], int bits)
{
    for (int k = 0; k < 4; k++) {
        int keep = bits - 8 * k; /* bits of this byte to keep */
        if (keep <= 0)
            b[k] = 0;
        else if (keep < 8)
            b[k] &= (uint8_t)(0xFF << (8 - keep));
    }
}

bool auth_ip_match(jstr_t identity, jstr_t acl_id)
{
    uint8_t acl[4], remote[4];
    int bits;
    if (!auth_ip_parse_cidr(acl_id, acl, &bits) || !auth_ip_parse(identity, remote))
        return false;
    ip_mask(acl, bits);
    ip_mask(remote, bits);
    return memcmp(acl, remote, 4) == 0;
}

bool auth_acl_id_valid(jstr_t scheme, jstr_t id)
{
    uint8_t addr[4];
    int bits;
    if (jstr_is(scheme, "auth"))
        return true;
    if (id.len < 0)
        return false;
    if (jstr_is(scheme, "world"))
        return jstr_is(id, "anyone");
    if (jstr_is(scheme, "digest"))
        return auth_digest_valid(id);
    if (jstr_is(scheme, "ip"))
        return auth_ip_parse_cidr(id, addr, &bits);
    return false;
}

/* ---- auth packets ----------------------------------------------------------------- */

int auth_handle_packet(auth_ids_t *ids, jstr_t scheme, jstr_t data, const char *peer_addr,
                       const char *super_digest)
{
    if (jstr_is(scheme, "ip")) {
        return auth_ids_add(ids, JSTR_LIT("ip"), jstr_from_cstr(peer_addr)) < 0 ? ZAUTHFAILED : ZOK;
    }
    if (!jstr_is(scheme, "digest"))
        return ZAUTHFAILED;
    int32_t len;
    char *id = auth_digest_identity(data, &len);
    if (!id)
        return ZAUTHFAILED;
    int rc = ZOK;
    jstr_t ident = {id, len};
    if (auth_is_super_digest(ident, super_digest) &&
        auth_ids_add(ids, JSTR_LIT("super"), JSTR_LIT("")) < 0)
        rc = ZAUTHFAILED;
    if (rc == ZOK && auth_ids_add(ids, JSTR_LIT("digest"), ident) < 0)
        rc = ZAUTHFAILED;
    free(id);
    return rc;
}

/* ---- fix-up -------------------------------------------------------------------------- */

/* Lists up to this size are de-duplicated by direct comparison, as Java
 * does; longer ones through a hash set, so a hostile list cannot make the
 * event loop do quadratic work. */
#define FIXUP_LINEAR_MAX 32

enum { DUP_NEW, DUP_SEEN, DUP_NPE };

/* ArrayList.contains(x) over the entries kept so far, as Java evaluates
 * ACL.equals: perms, then scheme.equals, then id.equals, each throwing if
 * x's string is null. */
static int dup_linear(const zk_acl_ref_t *v, const int32_t *kept, int32_t nkept,
                      const zk_acl_ref_t *x)
{
    for (int32_t k = 0; k < nkept; k++) {
        const zk_acl_ref_t *e = &v[kept[k]];
        if (e->perms != x->perms)
            continue;
        if (x->scheme.len < 0)
            return DUP_NPE;
        if (e->scheme.len < 0 || !jstr_eq(x->scheme, e->scheme))
            continue;
        if (x->id.len < 0)
            return DUP_NPE;
        if (e->id.len >= 0 && jstr_eq(x->id, e->id))
            return DUP_SEEN;
    }
    return DUP_NEW;
}

/* The same predicate through three key sets over earlier entries: a null
 * scheme throws if any earlier entry has the same perms; a null id throws if
 * any has the same perms and scheme; a full entry is a duplicate if an equal
 * one exists. Keys: tag byte, perms, then scheme (and length + id). */
typedef struct dedup_set {
    strmap_t map;
    char *arena;
    size_t used;
} dedup_set_t;

static const char *dedup_key(dedup_set_t *d, char tag, const zk_acl_ref_t *x, size_t *klen)
{
    char *k = d->arena + d->used;
    size_t n = 0;
    k[n++] = tag;
    memcpy(k + n, &x->perms, 4);
    n += 4;
    if (tag >= 2) {
        if (tag == 3) {
            memcpy(k + n, &x->scheme.len, 4);
            n += 4;
        }
        if (x->scheme.len > 0)
            memcpy(k + n, x->scheme.ptr, (size_t)x->scheme.len);
        n += (size_t)x->scheme.len;
    }
    if (tag == 3 && x->id.len > 0) {
        memcpy(k + n, x->id.ptr, (size_t)x->id.len);
        n += (size_t)x->id.len;
    }
    *klen = n;
    return k;
}

/* Look the key up; if absent and `add`, keep it (the arena slot is used). */
static bool dedup_probe(dedup_set_t *d, char tag, const zk_acl_ref_t *x, bool add)
{
    size_t klen;
    const char *k = dedup_key(d, tag, x, &klen);
    if (strmap_get(&d->map, k, klen))
        return true;
    if (add) {
        strmap_put(&d->map, k, klen, (void *)1);
        d->used += klen;
    }
    return false;
}

static int dedup_hashed(dedup_set_t *d, const zk_acl_ref_t *x)
{
    if (x->scheme.len < 0) {
        if (dedup_probe(d, 1, x, true))
            return DUP_NPE;
        return DUP_NEW;
    }
    if (x->id.len < 0) {
        if (dedup_probe(d, 2, x, false))
            return DUP_NPE;
        dedup_probe(d, 1, x, true);
        dedup_probe(d, 2, x, true);
        return DUP_NEW;
    }
    if (dedup_probe(d, 3, x, false))
        return DUP_SEEN;
    dedup_probe(d, 1, x, true);
    dedup_probe(d, 2, x, true);
    dedup_probe(d, 3, x, true);
    return DUP_NEW;
}

/* removeDuplicates: fills kept[] with the indexes of first occurrences.
 * Returns the count, or -1 where Java throws a NullPointerException. */
static int32_t remove_duplicates(const zk_acl_ref_t *v, int32_t n, int32_t *kept)
{
    int32_t nkept = 0;
    if (n <= FIXUP_LINEAR_MAX) {
        for (int32_t i = 0; i < n; i++) {
            int r = dup_linear(v, kept, nkept, &v[i]);
            if (r == DUP_NPE)
                return -1;
            if (r == DUP_NEW)
                kept[nkept++] = i;
        }
        return nkept;
    }
    dedup_set_t d;
    size_t arena = 0;
    for (int32_t i = 0; i < n; i++) {
        size_t s = v[i].scheme.len > 0 ? (size_t)v[i].scheme.len : 0;
        size_t id = v[i].id.len > 0 ? (size_t)v[i].id.len : 0;
        arena += 5 + (5 + s) + (9 + s + id);
    }
    strmap_init(&d.map);
    d.arena = xmalloc(arena);
    d.used = 0;
    for (int32_t i = 0; i < n && nkept >= 0; i++) {
        int r = dedup_hashed(&d, &v[i]);
        if (r == DUP_NPE)
            nkept = -1;
        else if (r == DUP_NEW)
            kept[nkept++] = i;
    }
    strmap_free(&d.map);
    free(d.arena);
    return nkept;
}

/* Normalise every string as Java's decoder would. Returns `in` itself when
 * nothing changes; otherwise a new array whose strings live in *arena. */
static const zk_acl_ref_t *normalise(const zk_acl_ref_t *in, int32_t n, zk_acl_ref_t **owned,
                                     buf_t *arena)
{
    bool clean = true;
    for (int32_t i = 0; i < n && clean; i++) {
        const zk_acl_ref_t *a = &in[i];
        clean =
            (a->scheme.len < 0 || auth_utf8_is_java_clean(a->scheme.ptr, (size_t)a->scheme.len)) &&
            (a->id.len < 0 || auth_utf8_is_java_clean(a->id.ptr, (size_t)a->id.len));
    }
    *owned = NULL;
    if (clean)
        return in;
    /* Offsets first (the arena moves as it grows), pointers after. */
    zk_acl_ref_t *v = xmalloc(sizeof(zk_acl_ref_t) * (size_t)n);
    size_t *off = xmalloc(sizeof(size_t) * 2 * (size_t)n);
    for (int32_t i = 0; i < n; i++) {
        v[i] = in[i];
        jstr_t *f[2] = {&v[i].scheme, &v[i].id};
        for (int j = 0; j < 2; j++) {
            off[2 * i + j] = arena->len;
            if (f[j]->len < 0)
                continue;
            auth_java_utf8(f[j]->ptr, (size_t)f[j]->len, arena);
            assert(arena->len - off[2 * i + j] <= INT32_MAX);
            f[j]->len = (int32_t)(arena->len - off[2 * i + j]);
        }
    }
    for (int32_t i = 0; i < n; i++) {
        if (v[i].scheme.len >= 0)
            v[i].scheme.ptr = (const char *)arena->data + off[2 * i];
        if (v[i].id.len >= 0)
            v[i].id.ptr = (const char *)arena->data + off[2 * i + 1];
    }
    free(off);
    *owned = v;
    return v;
}

/* The per-entry step of fixupACL for one de-duplicated entry. */
static int fixup_one(const zk_acl_ref_t *a, const auth_ids_t *ids, acl_list_t *out)
{
    if (a->scheme.len < 0)
        return ZINVALIDACL;
    if (jstr_is(a->scheme, "world")) {
        if (a->id.len < 0)
            return ZMARSHALLINGERROR;
        if (!jstr_is(a->id, "anyone"))
            return ZINVALIDACL; /* no provider for "world" */
    } else if (jstr_is(a->scheme, "auth")) {
        bool any = false;
        for (int32_t i = 0; ids && i < ids->n; i++) {
            const auth_id_t *c = &ids->v[i];
            if (!jstr_is(ident_scheme(c), "digest"))
                continue; /* ip: not authenticated; super etc.: no provider */
            if (out->n >= AUTH_ACL_MAX)
                return ZINVALIDACL;
            acl_list_push(out, a->perms, ident_scheme(c), ident_id(c));
            any = true;
        }
        return any ? ZOK : ZINVALIDACL;
    } else if (jstr_is(a->scheme, "digest") || jstr_is(a->scheme, "ip")) {
        if (a->id.len < 0)
            return ZMARSHALLINGERROR; /* isValid(null) throws */
        if (!auth_acl_id_valid(a->scheme, a->id))
            return ZINVALIDACL;
    } else {
        return ZINVALIDACL;
    }
    if (out->n >= AUTH_ACL_MAX)
        return ZINVALIDACL;
    acl_list_push(out, a->perms, a->scheme, a->id);
    return ZOK;
}

int auth_fixup_acl(const zk_acl_ref_t *in, int32_t n, const auth_ids_t *ids, acl_list_t *out)
{
    acl_list_init(out);
    if (n <= 0 || !in)
        return ZINVALIDACL;
    buf_t arena;
    buf_init(&arena);
    zk_acl_ref_t *owned;
    const zk_acl_ref_t *v = normalise(in, n, &owned, &arena);
    int32_t *kept = xmalloc(sizeof(int32_t) * (size_t)n);
    int32_t nkept = remove_duplicates(v, n, kept);
    int rc = ZOK;
    if (nkept < 0)
        rc = ZMARSHALLINGERROR;
    for (int32_t k = 0; rc == ZOK && k < nkept; k++)
        rc = fixup_one(&v[kept[k]], ids, out);
    if (rc != ZOK)
        acl_list_free(out);
    free(kept);
    free(owned);
    buf_free(&arena);
    return rc;
}

/* ---- check ----------------------------------------------------------------------------- */

bool auth_check(const acl_list_t *acl, int32_t perm, const auth_ids_t *ids, bool skip_acl)
{
    if (skip_acl || !acl || acl->n == 0)
        return true;
    int32_t nids = ids ? ids->n : 0;
    for (int32_t i = 0; i < nids; i++)
        if (jstr_is(ident_scheme(&ids->v[i]), "super"))
            return true;
    for (int32_t k = 0; k < acl->n; k++) {
        const acl_t *a = &acl->v[k];
        if ((a->perms & perm) == 0)
            continue;
        jstr_t scheme = acl_scheme(a);
        if (jstr_is(scheme, "world") && jstr_is(acl_id(a), "anyone"))
            return true;
        bool digest = jstr_is(scheme, "digest"), ip = jstr_is(scheme, "ip");
        if (!digest && !ip)
            continue; /* no provider: nothing matches */
        for (int32_t i = 0; i < nids; i++) {
            const auth_id_t *c = &ids->v[i];
            if (!jstr_eq(ident_scheme(c), scheme))
                continue;
            if (digest ? jstr_eq(ident_id(c), acl_id(a)) : auth_ip_match(ident_id(c), acl_id(a)))
                return true;
        }
    }
    return false;
}

/* ---- getACL masking --------------------------------------------------------------------- */

/* Length of the Java line terminator at s[i], or 0. */
static size_t line_terminator(const uint8_t *s, size_t len, size_t i)
{
    if (s[i] == '\n' || s[i] == '\r')
        return 1;
    if (s[i] == 0xC2 && i + 1 < len && s[i + 1] == 0x85)
        return 2;
    if (s[i] == 0xE2 && i + 2 < len && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
        return 3;
    return 0;
}

char *auth_digest_mask(jstr_t id, int32_t *len_out)
{
    id = jstr_or_empty(id);
    const uint8_t *s = (const uint8_t *)id.ptr;
    size_t len = (size_t)id.len;
    buf_t b;
    buf_init(&b);
    buf_reserve(&b, len + 2);
    size_t i = 0;
    while (i < len) {
        if (s[i] != ':') {
            buf_append(&b, s + i, 1);
            i++;
            continue;
        }
        buf_append(&b, ":x", 2);
        i++;
        while (i < len && line_terminator(s, len, i) == 0)
            i++;
    }
    char *r = xstrndup(b.data ? (const char *)b.data : "", b.len);
    *len_out = (int32_t)b.len;
    buf_free(&b);
    return r;
}

void auth_acl_mask(const acl_list_t *in, acl_list_t *out)
{
    acl_list_init(out);
    for (int32_t i = 0; i < in->n; i++) {
        const acl_t *a = &in->v[i];
        if (!jstr_is(acl_scheme(a), "digest")) {
            acl_list_push(out, a->perms, acl_scheme(a), acl_id(a));
            continue;
        }
        int32_t len;
        char *m = auth_digest_mask(acl_id(a), &len);
        acl_list_push(out, a->perms, acl_scheme(a), (jstr_t){m, len});
        free(m);
    }
}

/* ---- whoAmI ------------------------------------------------------------------------------ */

void auth_whoami(const auth_id_t *id, jstr_t *scheme, jstr_t *user)
{
    *scheme = ident_scheme(id);
    jstr_t v = ident_id(id);
    if (jstr_is(*scheme, "ip")) {
        *user = v;
    } else if (jstr_is(*scheme, "digest")) {
        const char *colon = memchr(v.ptr, ':', (size_t)v.len);
        *user = (jstr_t){v.ptr, colon ? (int32_t)(colon - v.ptr) : v.len};
    } else {
        *user = (jstr_t){"", 0};
    }
}
