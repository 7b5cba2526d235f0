/* records: typed client requests and the encoders for replies and Stat.
 *
 * Requests are decoded in place: every string points into the frame it came
 * from, so a decoded request lives only as long as that frame. Only the
 * variable-length parts (ACL vectors, multi ops, setWatches lists) are
 * allocated; proto_request_free releases them. */
#ifndef CORRAL_RECORDS_H
#define CORRAL_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/jute.h"
#include "proto/zk.h"

/* Stat as it goes on the wire (68 bytes). */
typedef struct zk_stat {
    int64_t czxid;
    int64_t mzxid;
    int64_t ctime;
    int64_t mtime;
    int32_t version;
    int32_t cversion;
    int32_t aversion;
    int64_t ephemeral_owner;
    int32_t data_length;
    int32_t num_children;
    int64_t pzxid;
} zk_stat_t;

/* An ACL entry as decoded from a frame (borrowed strings). */
typedef struct zk_acl_ref {
    int32_t perms;
    jstr_t scheme;
    jstr_t id;
} zk_acl_ref_t;

typedef struct zk_acl_refs {
    zk_acl_ref_t *v;
    int32_t n; /* -1: null vector */
} zk_acl_refs_t;

typedef struct zk_strvec {
    jstr_t *v;
    int32_t n; /* -1: null vector */
} zk_strvec_t;

/* One operation: a standalone request body or one sub-op of a multi. */
typedef struct zk_op {
    int32_t type;
    jstr_t path;
    jstr_t data;
    zk_acl_refs_t acl;
    int32_t flags;
    int64_t ttl; /* -1 unless the record carried one */
    int32_t version;
    bool watch;
    int32_t mode; /* addWatch mode, or watcher type for check/removeWatches */
} zk_op_t;

enum { ZW_DATA = 0, ZW_EXIST, ZW_CHILD, ZW_PERSISTENT, ZW_RECURSIVE, ZW_NLISTS };

typedef struct zk_request {
    int32_t xid;
    int32_t type;
    zk_op_t op;   /* single-op requests */
    zk_op_t *ops; /* multi / multiRead */
    int32_t nops;
    /* setWatches / setWatches2 */
    int64_t relative_zxid;
    zk_strvec_t watches[ZW_NLISTS];
    /* auth */
    int32_t auth_type;
    jstr_t scheme;
    jstr_t auth;
    /* reconfig */
    jstr_t joining, leaving, members;
    int64_t cur_config_id;
    /* sasl */
    jstr_t token;
} zk_request_t;

typedef struct zk_connect_request {
    int32_t protocol_version;
    int64_t last_zxid_seen;
    int32_t timeout_ms;
    int64_t session_id;
    jstr_t passwd;
    bool read_only;
    bool has_read_only; /* trailing byte present: a 3.4+ client */
} zk_connect_request_t;

/* Decode a ConnectRequest payload; false if it is malformed. */
bool proto_decode_connect(const uint8_t *p, size_t n, zk_connect_request_t *out);

/* Decode the request body that follows the RequestHeader, according to
 * req->type (already set along with xid). Returns ZOK, ZMARSHALLINGERROR for
 * an undecodable body, or ZUNIMPLEMENTED for an opcode clients may not send. */
int32_t proto_decode_body(zk_request_t *req, const uint8_t *p, size_t n);
void proto_request_free(zk_request_t *req);

/* Decode one sub-op record of the given type (shared with txn decoding of
 * multi requests). */
bool proto_decode_op(jute_reader_t *r, int32_t type, zk_op_t *op);

void proto_write_stat(buf_t *b, const zk_stat_t *st);
void proto_write_reply_header(buf_t *b, int32_t xid, int64_t zxid, int32_t err);
/* Start a frame: reserves the 4-byte length; finish with proto_frame_end. */
size_t proto_frame_begin(buf_t *b);
void proto_frame_end(buf_t *b, size_t start);

#endif
