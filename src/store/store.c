/* store: directory layout, file naming and listing, small I/O helpers and the
 * epoch files (protocol reference §14.1, §14.5). */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"

int store_errf(store_err_t *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}

void store_limits_default(store_limits_t *l)
{
    l->max_record_bytes = STORE_DEFAULT_MAX_RECORD_BYTES;
}

/* ---- small I/O helpers -------------------------------------------------------- */

int store_path_join(char *out, size_t cap, const char *dir, const char *name, store_err_t *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return store_errf(err, "%s/%s: path too long", dir, name);
    return 0;
}

int store_fsync_dir(const char *dir, store_err_t *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return store_errf(err, "%s: cannot open directory to sync it: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return store_errf(err, "%s: fsync of the directory failed: %s", dir, strerror(e));
    return 0;
}

/* Write all of buf at offset, or at the file position when offset < 0,
 * retrying short writes and EINTR. */
static int write_fully(int fd, const void *buf, size_t len, int64_t offset)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = offset < 0 ? write(fd, p, len) : pwrite(fd, p, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        if (offset >= 0)
            offset += n;
    }
    return 0;
}

int store_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset)
{
    return write_fully(fd, buf, len, (int64_t)offset);
}

int store_write_all(int fd, const void *buf, size_t len)
{
    return write_fully(fd, buf, len, -1);
}

/* ---- file names ------------------------------------------------------------- */

static const char *kind_prefix(store_kind_t kind)
{
    return kind == STORE_LOG ? "log" : "snapshot";
}

bool store_parse_name(const char *name, store_kind_t kind, int64_t *zxid, store_compression_t *comp)
{
    const char *prefix = kind_prefix(kind);
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0 || name[pl] != '.')
        return false;
    const char *hex = name + pl + 1;
    size_t hl = strcspn(hex, ".");
    if (hl == 0 || hl > 16)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < hl; i++) {
        char c = hex[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        v = v << 4 | (uint64_t)d;
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    store_compression_t c = STORE_PLAIN;
    const char *last = strrchr(name, '.');
    if (kind == STORE_SNAPSHOT && hex[hl] == '.') {
        if (strcasecmp(last + 1, "gz") == 0)
            c = STORE_GZ;
        else if (strcasecmp(last + 1, "snappy") == 0)
            c = STORE_SNAPPY;
    }
    if (zxid)
        *zxid = (int64_t)v;
    if (comp)
        *comp = c;
    return true;
}

size_t store_format_name(char *out, size_t cap, store_kind_t kind, int64_t zxid,
                         store_compression_t comp)
{
    const char *suffix = comp == STORE_GZ ? ".gz" : comp == STORE_SNAPPY ? ".snappy" : "";
    int n = snprintf(out, cap, "%s.%" PRIx64 "%s", kind_prefix(kind), (uint64_t)zxid, suffix);
    return n < 0 ? 0 : (size_t)n;
}

static int cmp_asc(const void *a, const void *b)
{
    const store_file_t *x = a, *y = b;
    if (x->zxid != y->zxid)
        return x->zxid < y->zxid ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_desc(const void *a, const void *b)
{
    return cmp_asc(b, a);
}

int store_list(const char *dir, store_kind_t kind, bool ascending, store_file_list_t *out,
               store_err_t *err)
{
    out->v = NULL;
    out->n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return store_errf(err, "%s: cannot list directory: %s", dir, strerror(errno));
    size_t cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        int64_t z;
        store_compression_t c;
        size_t nl = strlen(de->d_name);
        if (nl >= sizeof(out->v[0].name))
            continue;
        if (!store_parse_name(de->d_name, kind, &z, &c))
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->v = xrealloc(out->v, cap * sizeof(*out->v));
        }
        store_file_t *f = &out->v[out->n++];
        f->zxid = z;
        f->comp = c;
        memcpy(f->name, de->d_name, nl + 1);
    }
    int e = errno;
    closedir(d);
    if (e != 0) {
        store_file_list_free(out);
        return store_errf(err, "%s: error while listing directory: %s", dir, strerror(e));
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), ascending ? cmp_asc : cmp_desc);
    return 0;
}

void store_file_list_free(store_file_list_t *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

size_t store_logs_from(const store_file_list_t *all, int64_t zxid)
{
    int64_t start = 0;
    for (size_t i = 0; i < all->n; i++) {
        if (all->v[i].zxid > zxid)
            break;
        if (all->v[i].zxid > start)
            start = all->v[i].zxid;
    }
    for (size_t i = 0; i < all->n; i++)
        if (all->v[i].zxid >= start)
            return i;
    return all->n;
}

/* ---- directories ------------------------------------------------------------- */

static int mkdir_p(const char *path, store_err_t *err)
{
    char tmp[STORE_PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(tmp))
        return store_errf(err, "%s: invalid directory path", path);
    memcpy(tmp, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char saved = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return store_errf(err, "%s: cannot create directory: %s", tmp, strerror(errno));
        tmp[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return store_errf(err, "%s: not a directory", path);
    return 0;
}

/* Refuse a base directory holding a newer on-disk format (version-N, N > 2). */
static int check_versions(const char *base, store_err_t *err)
{
    DIR *d = opendir(base);
    if (!d)
        return store_errf(err, "%s: cannot list directory: %s", base, strerror(errno));
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "version-", 8) != 0)
            continue;
        char *end;
        errno = 0;
        long v = strtol(de->d_name + 8, &end, 10);
        if (end == de->d_name + 8 || *end != '\0' || errno != 0)
            continue;
        if (v > STORE_FORMAT_VERSION) {
            rc = store_errf(err,
                            "%s/%s: data in an unknown on-disk format version %ld; this server "
                            "reads and writes version %d only",
                            base, de->d_name, v, STORE_FORMAT_VERSION);
            break;
        }
    }
    closedir(d);
    return rc;
}

static int has_files_of(const char *dir, store_kind_t kind, bool *found, store_err_t *err)
{
    store_file_list_t l;
    if (store_list(dir, kind, true, &l, err) != 0)
        return -1;
    *found = l.n > 0;
    store_file_list_free(&l);
    return 0;
}

static int open_one(const char *base, char *out, size_t cap, bool create, store_err_t *err)
{
    if (create && mkdir_p(base, err) != 0)
        return -1;
    struct stat st;
    if (stat(base, &st) != 0)
        return store_errf(err, "%s: data directory does not exist: %s", base, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return store_errf(err, "%s: not a directory", base);
    if (check_versions(base, err) != 0)
        return -1;
    if (store_path_join(out, cap, base, STORE_VERSION_DIR, err) != 0)
        return -1;
    if (create && mkdir(out, 0755) != 0 && errno != EEXIST)
        return store_errf(err, "%s: cannot create directory: %s", out, strerror(errno));
    if (stat(out, &st) != 0)
        return store_errf(err, "%s: does not exist: %s", out, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return store_errf(err, "%s: not a directory", out);
    if (access(out, W_OK | X_OK) != 0)
        return store_errf(err, "%s: not writable: %s", out, strerror(errno));
    return 0;
}

int store_dirs_open(store_dirs_t *d, const char *data_dir, const char *data_log_dir, bool create,
                    store_err_t *err)
{
    memset(d, 0, sizeof(*d));
    if (!data_dir || !*data_dir)
        return store_errf(err, "dataDir is not set");
    if (!data_log_dir || !*data_log_dir)
        data_log_dir = data_dir;
    if (open_one(data_dir, d->snap_dir, sizeof(d->snap_dir), create, err) != 0)
        return -1;
    if (open_one(data_log_dir, d->log_dir, sizeof(d->log_dir), create, err) != 0)
        return -1;
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(d->snap_dir, a) || !realpath(d->log_dir, b))
        return store_errf(err, "%s: cannot resolve path: %s", d->snap_dir, strerror(errno));
    d->separate = strcmp(a, b) != 0;
    if (d->separate) {
        bool found;
        if (has_files_of(d->snap_dir, STORE_LOG, &found, err) != 0)
            return -1;
        if (found)
            return store_errf(err,
                              "%s: snapshot directory holds log files while dataLogDir is "
                              "separate; check dataDir and dataLogDir",
                              d->snap_dir);
        if (has_files_of(d->log_dir, STORE_SNAPSHOT, &found, err) != 0)
            return -1;
        if (found)
            return store_errf(err,
                              "%s: log directory holds snapshot files; check dataDir and "
                              "dataLogDir",
                              d->log_dir);
    }
    return 0;
}

/* ---- epoch files -------------------------------------------------------------- */

#define EPOCH_FILE_MAX_BYTES 64

int store_epoch_read(const char *snap_dir, const char *name, int64_t *value, bool *missing,
                     store_err_t *err)
{
    char path[STORE_PATH_MAX];
    *missing = false;
    if (store_path_join(path, sizeof(path), snap_dir, name, err) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            *missing = true;
            return 0;
        }
        return store_errf(err, "%s: cannot open: %s", path, strerror(errno));
    }
    char text[EPOCH_FILE_MAX_BYTES + 1];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, text + len, sizeof(text) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return store_errf(err, "%s: read failed: %s", path, strerror(e));
        }
        if (n == 0 || (len += (size_t)n) == sizeof(text) - 1)
            break;
    }
    close(fd);
    text[len] = '\0';
    /* Java's BufferedReader.readLine then Long.parseLong: the first line only. */
    size_t line = strcspn(text, "\r\n");
    if (line == len && len == EPOCH_FILE_MAX_BYTES)
        return store_errf(err, "%s: epoch file longer than %d bytes", path, EPOCH_FILE_MAX_BYTES);
    text[line] = '\0';
    const char *s = text;
    if (*s == '+' || *s == '-')
        s++;
    if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
        return store_errf(err, "%s: found \"%s\" where an epoch number was expected", path, text);
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    if (errno == ERANGE)
        return store_errf(err, "%s: epoch \"%s\" out of range", path, text);
    *value = (int64_t)v;
    return 0;
}

int store_epoch_write(const char *snap_dir, const char *name, int64_t value, store_err_t *err)
{
    char path[STORE_PATH_MAX], tmp[STORE_PATH_MAX + 8];
    if (store_path_join(path, sizeof(path), snap_dir, name, err) != 0)
        return -1;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return store_errf(err, "%s: cannot create: %s", tmp, strerror(errno));
    char text[32];
    int n = snprintf(text, sizeof(text), "%" PRId64, value);
    if (store_write_all(fd, text, (size_t)n) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return store_errf(err, "%s: write failed: %s", tmp, strerror(e));
    }
    return store_commit_tmp(fd, tmp, path, snap_dir, true, err);
}

int store_commit_tmp(int fd, const char *tmp, const char *path, const char *dir, bool do_fsync,
                     store_err_t *err)
{
    if (do_fsync && fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return store_errf(err, "%s: fsync failed: %s", tmp, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return store_errf(err, "%s: close failed: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return store_errf(err, "%s: rename to %s failed: %s", tmp, path, strerror(e));
    }
    return do_fsync ? store_fsync_dir(dir, err) : 0;
}
