/* store: ZooKeeper 3.8's on-disk layout (protocol reference §14): the
 * version-2 directories, file naming (log.<zxid>, snapshot.<zxid>[.gz]),
 * listing, limits, the acceptedEpoch/currentEpoch files and purge
 * (zkCleanup.sh semantics). The log and snapshot formats live in txnlog.h
 * and snapshot.h, recovery in recover.h.
 *
 * Everything here is plain file I/O: no threads, no event loop, no global
 * state, nothing printed. Every failure is returned as a store_err_t whose
 * message names the file, the offset when there is one, and the reason. */
#ifndef CORRAL_STORE_H
#define CORRAL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_VERSION_DIR "version-2"
#define STORE_FORMAT_VERSION 2
#define STORE_PATH_MAX 4096
#define STORE_ERR_MAX 768

/* Default cap on one log entry and on one snapshot buffer/string: Java's
 * jute.maxbuffer (0xFFFFF) plus its default extrasize (the same again). */
#define STORE_DEFAULT_MAX_RECORD_BYTES (2u * 0xFFFFFu)

typedef struct store_err {
    char msg[STORE_ERR_MAX];
} store_err_t;

/* Set err->msg printf-style (if err is not NULL). Always returns -1, so
 * `return store_errf(err, ...)` reads naturally. */
int store_errf(store_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Limits on what is read from disk. */
typedef struct store_limits {
    uint32_t max_record_bytes; /* a log entry, a snapshot buffer or string */
} store_limits_t;

void store_limits_default(store_limits_t *l);

/* ---- directories ------------------------------------------------------------ */

/* The version-2 directories of a server: snapshots (and epoch files) in
 * <dataDir>/version-2, logs in <dataLogDir>/version-2 (the same directory
 * when dataLogDir is not set or equals dataDir). */
typedef struct store_dirs {
    char snap_dir[STORE_PATH_MAX];
    char log_dir[STORE_PATH_MAX];
    bool separate; /* log_dir != snap_dir */
} store_dirs_t;

/* Resolve and check the directories as ZooKeeper's FileTxnSnapLog does.
 * data_log_dir may be NULL or "" (same as data_dir). With `create`, missing
 * directories (including version-2) are created (mode 0755); otherwise they
 * must exist. Refuses: a directory holding a newer format (version-N with
 * N > 2); log files in the snapshot directory or snapshots in the log
 * directory when the two are separate; directories that are not writable. */
int store_dirs_open(store_dirs_t *d, const char *data_dir, const char *data_log_dir, bool create,
                    store_err_t *err);

/* ---- file names ----------------------------------------------------------- */

typedef enum store_kind { STORE_LOG = 0, STORE_SNAPSHOT = 1 } store_kind_t;

typedef enum store_compression {
    STORE_PLAIN = 0,  /* no suffix */
    STORE_GZ = 1,     /* ".gz" */
    STORE_SNAPPY = 2, /* ".snappy": recognised, not readable by Corral */
} store_compression_t;

/* Parse a file name the way ZooKeeper's Util.getZxidFromName does: split on
 * '.', the first part must be the prefix ("log"/"snapshot"), the second is
 * the zxid in hex (0 .. INT64_MAX). For snapshots a last part "gz" or
 * "snappy" names the compression. Returns false if the name does not parse. */
bool store_parse_name(const char *name, store_kind_t kind, int64_t *zxid,
                      store_compression_t *comp);

/* "log.<hex>" / "snapshot.<hex>[.gz]": Java's Long.toHexString (lower case,
 * no padding). Returns the length written (cap must be >= 32). */
size_t store_format_name(char *out, size_t cap, store_kind_t kind, int64_t zxid,
                         store_compression_t comp);

typedef struct store_file {
    int64_t zxid;
    store_compression_t comp;
    char name[64];
} store_file_t;

typedef struct store_file_list {
    store_file_t *v;
    size_t n;
} store_file_list_t;

/* The files of one kind in `dir` whose names parse, sorted by zxid
 * (ascending or descending; ties by name). */
int store_list(const char *dir, store_kind_t kind, bool ascending, store_file_list_t *out,
               store_err_t *err);
void store_file_list_free(store_file_list_t *l);

/* The log files needed to replay everything after `zxid` are the newest log
 * whose name-zxid is <= zxid and every later one (FileTxnLog.getLogFiles).
 * Given `all` sorted ascending, returns the index of the first of them
 * (all->n if there is none). */
size_t store_logs_from(const store_file_list_t *all, int64_t zxid);

/* ---- small I/O helpers ----------------------------------------------------- */

/* join dir + "/" + name into out; fails if it does not fit. */
int store_path_join(char *out, size_t cap, const char *dir, const char *name, store_err_t *err);
/* fsync a directory (after creating, renaming or removing entries in it). */
int store_fsync_dir(const char *dir, store_err_t *err);
/* Finish a file written under a temporary name: fsync it (if do_fsync),
 * close fd, rename tmp to path and fsync dir (if do_fsync). On any failure
 * the temporary file is removed and err names it. Always closes fd. */
int store_commit_tmp(int fd, const char *tmp, const char *path, const char *dir, bool do_fsync,
                     store_err_t *err);
/* Write all of buf at offset (pwrite loop, EINTR-safe). 0 or -1 with errno. */
int store_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset);
/* Write all of buf at the current position (write loop). 0 or -1 with errno. */
int store_write_all(int fd, const void *buf, size_t len);

/* ---- epoch files (§14.5) ------------------------------------------------------- */

#define STORE_ACCEPTED_EPOCH "acceptedEpoch"
#define STORE_CURRENT_EPOCH "currentEpoch"

/* Read <snap_dir>/<name>: decimal ASCII, optionally followed by a newline.
 * A missing file sets *missing and returns 0 (value untouched). Anything that
 * does not parse as a Java long is an error naming the file and content. */
int store_epoch_read(const char *snap_dir, const char *name, int64_t *value, bool *missing,
                     store_err_t *err);
/* Write the value as ZooKeeper does (decimal, no newline) to <name>.tmp,
 * fsync it, rename it over <name>, fsync the directory. */
int store_epoch_write(const char *snap_dir, const char *name, int64_t value, store_err_t *err);

/* ---- purge (§14.6) ------------------------------------------------------------ */

#define STORE_PURGE_MIN_RETAIN 3

typedef struct store_removed {
    char **paths; /* full paths of removed files, in removal order */
    size_t n;
} store_removed_t;

/* PurgeTxnLog.purge: keep the `retain` newest snapshots that pass the cheap
 * validity check (snapshot_looks_valid), the log files needed to replay from
 * the oldest of them, and delete every older snapshot and log. retain must
 * be >= 3. With no valid snapshot nothing is removed. Files whose names do
 * not parse are never touched (ZooKeeper would delete an unparseable
 * "log.*"). The removed files are listed in *removed (free with
 * store_removed_free) even when a later removal fails. */
int store_purge(const char *snap_dir, const char *log_dir, int retain, store_removed_t *removed,
                store_err_t *err);
void store_removed_free(store_removed_t *r);

#endif
