/* hashmap: linear-probing tables with tombstones, resized at 70% load. */
#include "hashmap.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static char tombstone_marker;
#define TOMBSTONE ((void *)&tombstone_marker)

/* FNV-1a, 64-bit: short keys (paths), good enough spread, no dependencies. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* FNV-1a over the bytes, then a 64-bit finalizer: paths share long prefixes
 * and differ in their last bytes, which FNV alone spreads poorly into the
 * low bits the table indexes by. */
uint64_t hash_bytes(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return mix64(h);
}

void strmap_init(strmap_t *m)
{
    memset(m, 0, sizeof(*m));
}

void strmap_free(strmap_t *m)
{
    free(m->slots);
    strmap_init(m);
}

static strmap_slot_t *str_find(const strmap_t *m, const char *key, size_t klen, uint32_t h)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        strmap_slot_t *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != TOMBSTONE && s->hash32 == h && s->klen == klen &&
            memcmp(s->key, key, klen) == 0)
            return s;
    }
}

static void str_resize(strmap_t *m, size_t cap)
{
    strmap_slot_t *old = m->slots;
    size_t oldcap = m->cap;
    m->slots = xcalloc(cap, sizeof(*m->slots));
    m->cap = cap;
    m->used = 0;
    m->dead = 0;
    for (size_t i = 0; i < oldcap; i++) {
        strmap_slot_t *s = &old[i];
        if (!s->key || s->key == TOMBSTONE)
            continue;
        size_t mask = cap - 1;
        size_t j = s->hash32 & mask;
        while (m->slots[j].key)
            j = (j + 1) & mask;
        m->slots[j] = *s;
        m->used++;
    }
    free(old);
}

void *strmap_get(const strmap_t *m, const char *key, size_t klen)
{
    strmap_slot_t *s = str_find(m, key, klen, (uint32_t)hash_bytes(key, klen));
    return s ? s->value : NULL;
}

void *strmap_put(strmap_t *m, const char *key, size_t klen, void *value)
{
    uint32_t h = (uint32_t)hash_bytes(key, klen);
    strmap_slot_t *s = str_find(m, key, klen, h);
    if (s) {
        void *prev = s->value;
        s->value = value;
        s->key = key; /* the new value's key: the old one may be freed with it */
        return prev;
    }
    if ((m->used + m->dead + 1) * 10 >= m->cap * 7)
        str_resize(m, m->cap ? (m->used * 2 >= m->cap ? m->cap * 2 : m->cap) : 16);
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    while (m->slots[i].key && m->slots[i].key != TOMBSTONE)
        i = (i + 1) & mask;
    if (m->slots[i].key == TOMBSTONE)
        m->dead--;
    m->slots[i] = (strmap_slot_t){key, (uint32_t)klen, h, value};
    m->used++;
    return NULL;
}

void *strmap_put_new(strmap_t *m, const char *key, size_t klen, void *value)
{
    uint32_t h = (uint32_t)hash_bytes(key, klen);
    if ((m->used + m->dead + 1) * 10 >= m->cap * 7)
        str_resize(m, m->cap ? (m->used * 2 >= m->cap ? m->cap * 2 : m->cap) : 16);
    size_t mask = m->cap - 1;
    strmap_slot_t *free_slot = NULL;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        strmap_slot_t *s = &m->slots[i];
        if (!s->key) {
            if (!free_slot)
                free_slot = s;
            break;
        }
        if (s->key == TOMBSTONE) {
            if (!free_slot)
                free_slot = s;
            continue;
        }
        if (s->hash32 == h && s->klen == klen && memcmp(s->key, key, klen) == 0)
            return s->value;
    }
    if (free_slot->key == TOMBSTONE)
        m->dead--;
    *free_slot = (strmap_slot_t){key, (uint32_t)klen, h, value};
    m->used++;
    return NULL;
}

void strmap_reserve(strmap_t *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 16;
    while (n * 10 >= cap * 7)
        cap *= 2;
    if (cap != m->cap)
        str_resize(m, cap);
}

void *strmap_del(strmap_t *m, const char *key, size_t klen)
{
    strmap_slot_t *s = str_find(m, key, klen, (uint32_t)hash_bytes(key, klen));
    if (!s)
        return NULL;
    void *v = s->value;
    s->key = TOMBSTONE;
    s->value = NULL;
    m->used--;
    m->dead++;
    return v;
}

bool strmap_next(const strmap_t *m, size_t *pos, const char **key, size_t *klen, void **value)
{
    for (; *pos < m->cap; (*pos)++) {
        strmap_slot_t *s = &m->slots[*pos];
        if (s->key && s->key != TOMBSTONE) {
            *key = s->key;
            *klen = s->klen;
            *value = s->value;
            (*pos)++;
            return true;
        }
    }
    return false;
}

void u64map_init(u64map_t *m)
{
    memset(m, 0, sizeof(*m));
}

void u64map_free(u64map_t *m)
{
    free(m->slots);
    u64map_init(m);
}

static u64map_slot_t *u64_find(const u64map_t *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        u64map_slot_t *s = &m->slots[i];
        if (!s->value)
            return NULL;
        if (s->value != TOMBSTONE && s->key == key)
            return s;
    }
}

static void u64_resize(u64map_t *m, size_t cap)
{
    u64map_slot_t *old = m->slots;
    size_t oldcap = m->cap;
    m->slots = xcalloc(cap, sizeof(*m->slots));
    m->cap = cap;
    m->used = 0;
    m->dead = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].value || old[i].value == TOMBSTONE)
            continue;
        size_t j = mix64(old[i].key) & (cap - 1);
        while (m->slots[j].value)
            j = (j + 1) & (cap - 1);
        m->slots[j] = old[i];
        m->used++;
    }
    free(old);
}

void *u64map_get(const u64map_t *m, uint64_t key)
{
    u64map_slot_t *s = u64_find(m, key);
    return s ? s->value : NULL;
}

void *u64map_put(u64map_t *m, uint64_t key, void *value)
{
    u64map_slot_t *s = u64_find(m, key);
    if (s) {
        void *prev = s->value;
        s->value = value;
        return prev;
    }
    if ((m->used + m->dead + 1) * 10 >= m->cap * 7)
        u64_resize(m, m->cap ? (m->used * 2 >= m->cap ? m->cap * 2 : m->cap) : 16);
    size_t mask = m->cap - 1;
    size_t i = mix64(key) & mask;
    while (m->slots[i].value && m->slots[i].value != TOMBSTONE)
        i = (i + 1) & mask;
    if (m->slots[i].value == TOMBSTONE)
        m->dead--;
    m->slots[i] = (u64map_slot_t){key, value};
    m->used++;
    return NULL;
}

void *u64map_del(u64map_t *m, uint64_t key)
{
    u64map_slot_t *s = u64_find(m, key);
    if (!s)
        return NULL;
    void *v = s->value;
    s->value = TOMBSTONE;
    m->used--;
    m->dead++;
    return v;
}

bool u64map_next(const u64map_t *m, size_t *pos, uint64_t *key, void **value)
{
    for (; *pos < m->cap; (*pos)++) {
        u64map_slot_t *s = &m->slots[*pos];
        if (s->value && s->value != TOMBSTONE) {
            *key = s->key;
            *value = s->value;
            (*pos)++;
            return true;
        }
    }
    return false;
}
