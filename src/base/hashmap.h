/* hashmap: open-addressing hash tables keyed by byte strings (strmap) or by
 * 64-bit integers (u64map). Keys are borrowed: the caller keeps a string key's
 * bytes alive while the entry exists (the tree keys nodes by their own path).
 * Values are opaque pointers; NULL is not a valid value. */
#ifndef CORRAL_HASHMAP_H
#define CORRAL_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint64_t hash_bytes(const void *p, size_t n);

typedef struct strmap_slot {
    const char *key; /* NULL: empty; TOMBSTONE: deleted */
    uint32_t klen;
    uint32_t hash32;
    void *value;
} strmap_slot_t;

typedef struct strmap {
    strmap_slot_t *slots;
    size_t cap;  /* power of two */
    size_t used; /* live entries */
    size_t dead; /* tombstones */
} strmap_t;

void strmap_init(strmap_t *m);
void strmap_free(strmap_t *m);
void *strmap_get(const strmap_t *m, const char *key, size_t klen);
/* Insert or replace; returns the previous value or NULL. On replace the
 * stored key pointer becomes `key` too (it must live as long as the entry). */
void *strmap_put(strmap_t *m, const char *key, size_t klen, void *value);
/* Insert unless the key is present (one probe); returns the present value,
 * or NULL when `value` was inserted. */
void *strmap_put_new(strmap_t *m, const char *key, size_t klen, void *value);
/* Make room for n entries without resizing. */
void strmap_reserve(strmap_t *m, size_t n);
/* Remove; returns the removed value or NULL. */
void *strmap_del(strmap_t *m, const char *key, size_t klen);
/* Iterate: start with *pos = 0; returns false at the end. */
bool strmap_next(const strmap_t *m, size_t *pos, const char **key, size_t *klen, void **value);

typedef struct u64map_slot {
    uint64_t key;
    void *value; /* NULL: empty; TOMBSTONE: deleted */
} u64map_slot_t;

typedef struct u64map {
    u64map_slot_t *slots;
    size_t cap;
    size_t used;
    size_t dead;
} u64map_t;

void u64map_init(u64map_t *m);
void u64map_free(u64map_t *m);
void *u64map_get(const u64map_t *m, uint64_t key);
void *u64map_put(u64map_t *m, uint64_t key, void *value);
void *u64map_del(u64map_t *m, uint64_t key);
bool u64map_next(const u64map_t *m, size_t *pos, uint64_t *key, void **value);

#endif
