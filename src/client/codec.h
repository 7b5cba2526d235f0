/* codec: the client side of the wire format — request frames out, replies,
 * the ConnectResponse and watch notifications in (protocol reference §2–§4).
 *
 * Encoders append one whole frame (4-byte length included) to a buffer; the
 * xid of a request frame sits at byte offset 4 and is patched when the frame
 * is sent (zkc_frame_set_xid). Decoders are bounds-checked: a malformed body
 * returns ZMARSHALLINGERROR and leaves the result with whatever was decoded
 * (the caller frees it). Paths in frames are server paths (chroot included);
 * the codec knows nothing of chroots. */
#ifndef CORRAL_CLIENT_CODEC_H
#define CORRAL_CLIENT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "client/zkc.h"

#define ZKC_PASSWD_LEN 16

typedef struct zkc_connect_response {
    int32_t protocol_version;
    int32_t timeout_ms; /* <= 0: the session is invalid (expired) */
    int64_t session_id;
    uint8_t passwd[ZKC_PASSWD_LEN];
    bool read_only;
} zkc_connect_response_t;

/* ConnectRequest frame (always with the trailing readOnly byte). */
void zkc_encode_connect(buf_t *b, int64_t last_zxid, int32_t timeout_ms, int64_t session_id,
                        const uint8_t passwd[ZKC_PASSWD_LEN], bool read_only);
/* Decode a ConnectResponse payload (after the frame length). */
bool zkc_decode_connect_response(const uint8_t *p, size_t n, zkc_connect_response_t *out);

/* Start a request frame: length placeholder, RequestHeader{xid, type}.
 * Returns the frame start offset for zkc_frame_end. */
size_t zkc_frame_begin(buf_t *b, int32_t xid, int32_t type);
void zkc_frame_end(buf_t *b, size_t start);
void zkc_frame_set_xid(uint8_t *frame, int32_t xid);

/* Request bodies (append after zkc_frame_begin). */
void zkc_write_acl(buf_t *b, const zkc_acl_t *acl, int32_t n);
void zkc_write_create(buf_t *b, const char *path, const void *data, int32_t len,
                      const zkc_acl_t *acl, int32_t n_acl, int32_t flags, bool with_ttl,
                      int64_t ttl);
void zkc_write_path_int(buf_t *b, const char *path, int32_t v); /* delete, check, addWatch… */
void zkc_write_path_bool(buf_t *b, const char *path, bool v);   /* exists, getData… */
void zkc_write_set_data(buf_t *b, const char *path, const void *data, int32_t len, int32_t version);
void zkc_write_set_acl(buf_t *b, const char *path, const zkc_acl_t *acl, int32_t n,
                       int32_t version);
void zkc_write_auth(buf_t *b, const char *scheme, const void *auth, int32_t len);
void zkc_write_reconfig(buf_t *b, const char *joining, const char *leaving, const char *members,
                        int64_t from_config);
/* SetWatches (no persistent lists) or SetWatches2 (all five lists). Each
 * list is `n[i]` server paths. */
void zkc_write_set_watches(buf_t *b, bool v2, int64_t relative_zxid, char *const *lists[5],
                           const int32_t n[5]);
/* MultiOperationRecord of write ops; paths in `ops` are already server paths. */
void zkc_write_multi(buf_t *b, const zkc_op_t *ops, int32_t n);

/* ReplyHeader. */
typedef struct zkc_reply_header {
    int32_t xid;
    int64_t zxid;
    int32_t err;
} zkc_reply_header_t;
bool zkc_decode_reply_header(const uint8_t *p, size_t n, zkc_reply_header_t *out);

/* Decode the body that follows a successful reply of opcode `op` into `res`
 * (res->op, err and zxid are the caller's). Returns ZOK or ZMARSHALLINGERROR. */
int32_t zkc_decode_reply_body(int32_t op, const uint8_t *p, size_t n, zkc_result_t *res);

/* WatcherEvent {type, state, path}; *path is malloc'ed (NULL for a null path). */
bool zkc_decode_event(const uint8_t *p, size_t n, int32_t *type, int32_t *state, char **path);

void zkc_read_stat(jute_reader_t *r, zk_stat_t *st);

#endif
