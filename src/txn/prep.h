/* prep: turns a write request into a transaction (§5, §13). Every check of
 * ZooKeeper's PrepRequestProcessor runs here, in ZooKeeper's order, against
 * the tree plus the changes of txns prepared but not yet applied (the
 * "outstanding changes"), so pipelined writes see each other's effects.
 *
 * A failed check still yields a txn: an error txn (type -1) that consumes a
 * zxid, as in ZooKeeper. ACL decisions are delegated to the caller through
 * prep_acl_ops_t, which knows the connection's identities. */
#ifndef CORRAL_PREP_H
#define CORRAL_PREP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/hashmap.h"
#include "proto/records.h"
#include "tree/tree.h"
#include "txn/txn.h"

typedef struct prep_acl_ops {
    /* Does the caller hold `perm` on a node with this ACL? */
    bool (*allowed)(void *ctx, const tree_acl_t *acl, int32_t perm);
    /* ACL fix-up (§11.3): ZOK with `out` filled (the caller frees it with
     * acl_list_free), or the error to report. */
    int32_t (*fixup)(void *ctx, const zk_acl_refs_t *in, acl_list_t *out);
    void *ctx;
} prep_acl_ops_t;

typedef struct prep_change prep_change_t;

typedef struct prep {
    tree_t *tree;
    strmap_t latest; /* path -> newest outstanding change */
    prep_change_t *head, *tail;
    bool extended_types;
    bool reconfig_enabled;
    bool enforce_quota; /* zookeeper.enforceQuota: hard limits give QUOTAEXCEEDED */
    uint64_t changes_queued, changes_removed; /* outstanding-change records, all time */
} prep_t;

typedef struct prep_req {
    int64_t session_id;
    int32_t cxid;
    int64_t zxid;
    int64_t time_ms;
    int32_t type;            /* opcode */
    const zk_request_t *req; /* NULL when the body did not decode */
    const prep_acl_ops_t *acl;
    int32_t session_timeout_ms; /* createSession */
    jstr_t container_path;      /* deleteContainer */
} prep_req_t;

void prep_init(prep_t *p, tree_t *t, bool extended_types, bool reconfig_enabled);
void prep_free(prep_t *p);

/* Build the txn for one write request into hdr/body (body is appended to).
 * Returns the error the client is told in the reply header: ZOK, or the
 * failed check's code (the txn is then an error txn). A multi returns ZOK
 * unless its body did not decode; its per-op errors are in the txn. */
int32_t prep_write(prep_t *p, const prep_req_t *in, txn_header_t *hdr, buf_t *body);

/* The txn with this zxid (and all before it) has been applied: forget its
 * outstanding changes. */
void prep_committed(prep_t *p, int64_t zxid);

/* Outstanding changes (for mntr-style figures and tests). */
size_t prep_outstanding(const prep_t *p);

#endif
