/* req: encoders for the requests corral-bench sends, written straight into
 * a connection's output buffer (no intermediate records), and key paths
 * built in place (root + "/k" + 8 digits) without printf. */
#ifndef CORRAL_BENCH_REQ_H
#define CORRAL_BENCH_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "bench/engine.h"

/* A path prefix with room for a fixed-width decimal suffix. */
typedef struct keypath {
    char buf[ENG_PATH_MAX];
    size_t prefix_len;
} keypath_t;

#define KEY_DIGITS 8

void keypath_init(keypath_t *kp, const char *root, const char *leaf_prefix);
/* Write key i's digits after the prefix; returns the path length. */
size_t keypath_key(keypath_t *kp, uint32_t i);
/* Upper bound on one encoded request given the root length, data bytes and
 * ops per multi. */
size_t req_max_bytes(size_t root_len, size_t value_bytes, int multi_ops);

void req_get_data(eng_conn_t *c, const char *path, size_t plen, int watch, uint8_t kind,
                  uint32_t aux);
void req_exists(eng_conn_t *c, const char *path, size_t plen, uint8_t kind, uint32_t aux);
void req_get_children(eng_conn_t *c, const char *path, size_t plen, uint8_t kind, uint32_t aux);
void req_set_data(eng_conn_t *c, const char *path, size_t plen, const void *data, size_t dlen,
                  uint8_t kind, uint32_t aux);
/* create with the open ACL (world:anyone, all permissions). */
void req_create(eng_conn_t *c, const char *path, size_t plen, const void *data, size_t dlen,
                int32_t flags, uint8_t kind, uint32_t aux);
void req_delete(eng_conn_t *c, const char *path, size_t plen, uint8_t kind, uint32_t aux);
void req_close_session(eng_conn_t *c, uint8_t kind);

/* multi: begin, add sub-ops, end. */
size_t req_multi_begin(eng_conn_t *c, uint8_t kind, uint32_t aux);
void req_multi_set_data(eng_conn_t *c, const char *path, size_t plen, const void *data,
                        size_t dlen);
void req_multi_end(eng_conn_t *c, size_t start);

/* The first error in a MultiResponse (0 if every sub-op succeeded). */
int32_t req_multi_result(jute_reader_t *body);

#endif
