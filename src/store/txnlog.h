/* txnlog: ZooKeeper 3.8's transaction log files, `<log_dir>/log.<zxid hex>`
 * (protocol reference §14.3), written and read byte for byte as ZooKeeper
 * does:
 *
 *   FileHeader { int magic "ZKLG", int version 2, long dbid 0 }       16 bytes
 *   entry*     { long adler32(entry), int len, entry[len], byte 'B' }
 *   zeros      (preallocation in preAllocSize steps)
 *
 * where entry = TxnHeader + txn body + optional TxnDigest{int 2, long
 * treeDigest}: 3.8 writes one after every txn whose header type is not -1
 * (error) — a failed multi is type 14 and has one — with the tree digest
 * after the txn is applied.
 *
 * The writer buffers appended entries in memory; flush() writes them,
 * sync() makes them durable (fdatasync; fsync of the directory after a new
 * file), so a group commit is append* + flush + sync. It is meant for one
 * thread (the log thread) and never logs or blocks on anything but its own
 * file descriptors.
 *
 * The reader iterates entries across files in zxid order, verifying every
 * checksum and end marker, and tells a clean end from a torn tail (only
 * acceptable at the end of the last file: report it, then truncate it) and
 * from corruption in the middle (a hard error naming file, offset, reason). */
#ifndef CORRAL_TXNLOG_H
#define CORRAL_TXNLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "store/store.h"
#include "txn/txn.h"

#define TXNLOG_MAGIC 0x5A4B4C47 /* "ZKLG" */
#define TXNLOG_VERSION 2
#define TXNLOG_DBID 0
#define TXNLOG_HEADER_BYTES 16
#define TXNLOG_END_OF_RECORD 0x42 /* 'B' */
/* checksum (8) + length (4) before the entry bytes, marker (1) after. */
#define TXNLOG_FRAME_BYTES 13
#define TXN_HEADER_BYTES 32
#define TXN_DIGEST_BYTES 12
#define TXNLOG_DEFAULT_PREALLOC_BYTES (64u * 1024u * 1024u) /* preAllocSize 65536 KiB */

typedef struct txn_digest {
    int32_t version; /* 2 (TREE_DIGEST_VERSION) */
    int64_t tree_digest;
} txn_digest_t;

/* ---- entry codec ---------------------------------------------------------------- */

/* Append one framed entry (checksum, length, header + body [+ digest], 'B')
 * to `out`. digest may be NULL (ZooKeeper omits it on error txns). */
void txnlog_encode_entry(buf_t *out, const txn_header_t *hdr, const uint8_t *body, size_t body_len,
                         const txn_digest_t *digest);

/* A decoded entry. Pointers borrow from the iterator's mapping (or scratch
 * buffer) and stay valid until the next call on the iterator. */
typedef struct txnlog_entry {
    txn_header_t hdr;
    const uint8_t *body; /* txn body in today's layout (what txn_apply takes) */
    size_t body_len;
    bool has_digest;
    txn_digest_t digest;
    bool from_v0;       /* a CreateTxnV0 re-encoded with parentCVersion -1 */
    const uint8_t *raw; /* the entry bytes exactly as logged */
    size_t raw_len;
    const char *file; /* path of the file it came from */
    uint64_t offset;  /* file offset of its checksum field */
} txnlog_entry_t;

/* Split the entry bytes (TxnHeader + body [+ TxnDigest]) the way ZooKeeper's
 * SerializeUtils.deserializeTxn reads them: decode the header, find the end
 * of the body by its type (closeSession with or without a body; create that
 * only parses as CreateTxnV0, which is re-encoded into `scratch` with
 * parentCVersion -1), then an optional TxnDigest. Unknown types (including a
 * bare check, 13) are errors. On failure returns -1 with a reason in `why`. */
int txnlog_decode_entry(const uint8_t *raw, size_t len, txnlog_entry_t *e, buf_t *scratch,
                        char *why, size_t why_cap);

/* ---- writer --------------------------------------------------------------------- */

typedef struct txnlog_writer {
    char dir[STORE_PATH_MAX];
    uint64_t prealloc_bytes; /* 0 disables preallocation */
    bool force_sync;         /* zookeeper.forceSync (true unless "no") */
    int fd;                  /* current file, -1 until the first append after open/roll */
    char path[STORE_PATH_MAX];
    int64_t file_zxid;      /* zxid in the current file's name */
    uint64_t written_bytes; /* end of data written to the current file */
    uint64_t file_bytes;    /* current file size including preallocation */
    bool dir_dirty;         /* a file was created since the last sync */
    bool failed;            /* an fsync failed: nothing more may be trusted */
    int64_t last_zxid;      /* highest zxid appended */
    uint64_t txns_in_file;
    buf_t pending; /* appended, not yet written */
} txnlog_writer_t;

/* Prepare a writer for `log_dir` (an existing version-2 directory). No file
 * is created until the first append. */
void txnlog_writer_init(txnlog_writer_t *w, const char *log_dir, uint64_t prealloc_bytes,
                        bool force_sync);

/* Append one txn. The first append after init or roll creates
 * log.<hdr->zxid> (it must not exist) and writes its FileHeader. The entry
 * itself is only buffered. A zxid not above the last one is accepted, as
 * ZooKeeper does (it only warns). */
int txnlog_append(txnlog_writer_t *w, const txn_header_t *hdr, const uint8_t *body, size_t body_len,
                  const txn_digest_t *digest, store_err_t *err);

/* Write entries already framed by txnlog_encode_entry (first_zxid ..
 * last_zxid, in order) straight to the file, after any buffered ones: the
 * group-commit path, where the event loop encodes and the log thread writes.
 * The file is created as by txnlog_append when none is open. */
int txnlog_write_encoded(txnlog_writer_t *w, const uint8_t *p, size_t len, int64_t first_zxid,
                         int64_t last_zxid, uint64_t count, store_err_t *err);

/* Write every buffered entry to the file, extending it by preAllocSize first
 * when within 4 KiB of its end, as ZooKeeper's FilePadding does. On a write
 * error (e.g. ENOSPC) the entries stay buffered and a later flush rewrites
 * them at the same offset; a crash in between leaves a torn tail. */
int txnlog_flush(txnlog_writer_t *w, store_err_t *err);

/* flush, then fdatasync the file (unless force_sync is off) and fsync the
 * directory if a file was created since the last sync. After a failed fsync
 * the writer refuses everything: the page cache may have dropped the data,
 * so the only safe way on is a restart and recovery from disk. */
int txnlog_sync(txnlog_writer_t *w, store_err_t *err);

/* Finish the current file (flush + sync + close); the next append starts
 * log.<its zxid>. ZooKeeper rolls when a snapshot is triggered (see
 * store_roll_policy_t) and, optionally, past zookeeper.txnLogSizeLimitInKb. */
int txnlog_roll(txnlog_writer_t *w, store_err_t *err);

/* Bytes appended but not yet written. */
static inline size_t txnlog_pending_bytes(const txnlog_writer_t *w)
{
    return w->pending.len;
}

/* Close without flushing (call sync first to keep buffered entries). */
void txnlog_writer_close(txnlog_writer_t *w);

/* When to roll the log and take a snapshot, as SyncRequestProcessor decides:
 * after more than snapCount/2 + r txns (r random in [0, snapCount/2)) or,
 * if snapSizeLimitInKb > 0, more than size/2 + r' bytes since the last roll. */
typedef struct store_roll_policy {
    int64_t snap_count;      /* zookeeper.snapCount, default 100000, min 2 */
    int64_t snap_size_bytes; /* zookeeper.snapSizeLimitInKb * 1024, <= 0 disables */
    int64_t rand_txns;
    int64_t rand_bytes;
} store_roll_policy_t;

/* `random` seeds the jitter (the caller's RNG; nothing global here). */
void store_roll_policy_init(store_roll_policy_t *p, int64_t snap_count, int64_t snap_size_bytes,
                            uint64_t random);
bool store_roll_due(const store_roll_policy_t *p, int64_t txns_since_roll,
                    int64_t bytes_since_roll);
/* Draw new jitter after a roll. */
void store_roll_policy_reset(store_roll_policy_t *p, uint64_t random);

/* ---- reader ---------------------------------------------------------------------- */

/* Where valid data stops in a file that does not end cleanly. */
typedef struct txnlog_tail {
    bool torn;
    char file[STORE_PATH_MAX];
    uint64_t offset;     /* first byte after the last valid entry */
    uint64_t file_bytes; /* size of the file */
    int64_t last_zxid;   /* zxid of the last valid entry before it (or -1) */
    char reason[256];
} txnlog_tail_t;

typedef struct txnlog_iter {
    char dir[STORE_PATH_MAX];
    store_limits_t limits;
    int64_t after_zxid;
    store_file_list_t files; /* the files to read, ascending */
    size_t next_file;        /* index of the next file to open */
    /* the open file */
    char path[STORE_PATH_MAX];
    int fd;
    const uint8_t *map;
    size_t size;
    uint64_t pos;
    bool last_file;
    int64_t cur_zxid;  /* name zxid of the open file */
    int64_t last_zxid; /* last valid zxid read, in any file */
    buf_t scratch;
    /* results */
    txnlog_tail_t tail;     /* set when the last file ends in a torn tail */
    txnlog_tail_t skipped;  /* the last torn end accepted in a non-last file */
    uint32_t skipped_tails; /* how many non-last files ended that way */
    uint64_t entries;       /* entries returned */
    uint64_t out_of_order;  /* entries whose zxid was not above the previous */
} txnlog_iter_t;

/* Open an iterator over the logs of `log_dir` returning every entry with
 * zxid > after_zxid (the older entries of the files needed are still
 * verified). A missing or empty directory gives an iterator that ends at
 * once. */
int txnlog_iter_open(txnlog_iter_t *it, const char *log_dir, int64_t after_zxid,
                     const store_limits_t *limits, store_err_t *err);

/* 1: *e holds the next entry. 0: the end; it->tail.torn says whether the
 * last file ended in a torn or zero-filled-over entry (its file and offset
 * are in it->tail). -1: a hard error in *err (naming file, offset, reason):
 * a checksum mismatch, bad length or bad end marker followed by more valid
 * entries; a torn end in a non-last file when the next file does not
 * continue from it; a bad magic or unknown version; an undecodable entry. */
int txnlog_iter_next(txnlog_iter_t *it, txnlog_entry_t *e, store_err_t *err);
void txnlog_iter_close(txnlog_iter_t *it);

/* Cut a torn tail off: truncate the file at tail->offset and fsync it (or
 * delete it when not even one entry is valid, so that a new log of the same
 * name can be created), then fsync its directory. */
int txnlog_truncate_tail(const txnlog_tail_t *tail, store_err_t *err);

/* Truncate the log after `zxid` (TRUNC sync, §17.5): the file holding it
 * (or the first entry above it) is cut just after that entry and every later
 * log file is deleted. Nothing happens if no entry >= zxid exists. */
int txnlog_truncate_after(const char *log_dir, int64_t zxid, const store_limits_t *limits,
                          store_err_t *err);

#endif
