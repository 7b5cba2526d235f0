/* txn: transaction records exactly as ZooKeeper logs them (TxnHeader plus a
 * typed body), and apply(): the one deterministic function that turns a txn
 * into changes of the tree and watch events.
 *
 * apply() is pure in the sense of DESIGN.md: no clock, no I/O; time and zxid
 * come from the header. Session bookkeeping (the session table) is the
 * caller's: apply only deletes a closing session's ephemerals. */
#ifndef CORRAL_TXN_H
#define CORRAL_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/jute.h"
#include "proto/records.h"
#include "tree/tree.h"
#include "tree/watch.h"

typedef struct txn_header {
    int64_t client_id;
    int32_t cxid;
    int64_t zxid;
    int64_t time_ms;
    int32_t type;
} txn_header_t;

void txn_header_write(buf_t *b, const txn_header_t *h);
bool txn_header_read(jute_reader_t *r, txn_header_t *h);

/* Body encoders (field order as ZooKeeper's records, §4.4). */
void txn_write_acls(buf_t *b, const zk_acl_ref_t *v, int32_t n);
void txn_write_create(buf_t *b, jstr_t path, jstr_t data, const zk_acl_ref_t *acl, int32_t nacl,
                      bool ephemeral, int32_t parent_cversion);
void txn_write_create_container(buf_t *b, jstr_t path, jstr_t data, const zk_acl_ref_t *acl,
                                int32_t nacl, int32_t parent_cversion);
void txn_write_create_ttl(buf_t *b, jstr_t path, jstr_t data, const zk_acl_ref_t *acl, int32_t nacl,
                          int32_t parent_cversion, int64_t ttl);
void txn_write_delete(buf_t *b, jstr_t path);
void txn_write_set_data(buf_t *b, jstr_t path, jstr_t data, int32_t version);
void txn_write_set_acl(buf_t *b, jstr_t path, const zk_acl_ref_t *acl, int32_t nacl,
                       int32_t version);
void txn_write_check(buf_t *b, jstr_t path, int32_t version);
void txn_write_error(buf_t *b, int32_t err);
void txn_write_create_session(buf_t *b, int32_t timeout_ms);

/* Result of applying one (sub-)operation, enough to build its reply. */
typedef struct txn_op_result {
    int32_t type; /* txn type applied, or -1 for an error result */
    int32_t err;
    jstr_t path; /* borrowed from the txn body */
    zk_stat_t stat;
} txn_op_result_t;

typedef struct txn_result {
    int32_t err; /* for a non-multi txn */
    txn_op_result_t single;
    txn_op_result_t *ops; /* multi: one per sub-txn */
    int32_t nops;
    buf_t txn_body; /* optional: owner of the bytes `path` borrows from; the
                     * caller may move the txn body here, txn_result_free frees it */
} txn_result_t;

/* Apply a txn (header + serialized body) to the tree, firing watches through
 * wm (which may be NULL during recovery). Returns false only if the body is
 * malformed. `res` may be NULL; otherwise release it with txn_result_free. */
bool txn_apply(tree_t *t, watch_mgr_t *wm, const txn_header_t *h, const uint8_t *body, size_t len,
               txn_result_t *res);
void txn_result_free(txn_result_t *res);

/* Delete every ephemeral of a session that no longer exists (start-up, after
 * recovery, as ZooKeeper does for sessions missing from its session table).
 * Not a txn: the same cleanup happens again on every start. */
void txn_kill_session(tree_t *t, int64_t session_id, int64_t zxid);

#endif
