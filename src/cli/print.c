/* print: the texts zkCli prints — StatPrinter blocks, java.util.Date
 * strings, WatchedEvent lines, CliWrapperException messages, and Java's
 * view of byte strings (UTF-8 decoding with U+FFFD, CSV record escaping). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "base/buf.h"
#include "cli/shell.h"

/* Long.toHexString: lowercase, two's complement. */
static void hex(FILE *out, const char *label, int64_t v)
{
    fprintf(out, "%s = 0x%llx\n", label, (unsigned long long)(uint64_t)v);
}

void sh_format_date(int64_t ms, char *buf, size_t len)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t secs = ms / 1000;
    if (ms % 1000 < 0)
        secs--; /* floor */
    time_t t = (time_t)secs;
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        snprintf(buf, len, "?");
        return;
    }
    const char *zone = tm.tm_zone ? tm.tm_zone : "GMT";
    snprintf(buf, len, "%s %s %02d %02d:%02d:%02d %s %d", days[tm.tm_wday % 7],
             months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, zone,
             tm.tm_year + 1900);
}

void sh_print_stat(FILE *out, const zk_stat_t *st)
{
    char date[64];
    hex(out, "cZxid", st->czxid);
    sh_format_date(st->ctime, date, sizeof date);
    fprintf(out, "ctime = %s\n", date);
    hex(out, "mZxid", st->mzxid);
    sh_format_date(st->mtime, date, sizeof date);
    fprintf(out, "mtime = %s\n", date);
    hex(out, "pZxid", st->pzxid);
    fprintf(out, "cversion = %d\n", st->cversion);
    fprintf(out, "dataVersion = %d\n", st->version);
    fprintf(out, "aclVersion = %d\n", st->aversion);
    hex(out, "ephemeralOwner", st->ephemeral_owner);
    fprintf(out, "dataLength = %d\n", st->data_length);
    fprintf(out, "numChildren = %d\n", st->num_children);
}

void sh_print_java_string(FILE *out, const void *p, int32_t len)
{
    if (len <= 0)
        return;
    if (auth_utf8_is_java_clean(p, (size_t)len)) {
        fwrite(p, 1, (size_t)len, out);
        return;
    }
    buf_t b;
    buf_init(&b);
    auth_java_utf8(p, (size_t)len, &b);
    fwrite(b.data, 1, b.len, out);
    buf_free(&b);
}

void sh_print_csv_string(FILE *out, const char *s)
{
    /* CsvOutputArchive.toCSVString */
    fputc('\'', out);
    for (; *s; s++) {
        switch (*s) {
        case '\0':
            fputs("%00", out);
            break;
        case '\n':
            fputs("%0A", out);
            break;
        case '\r':
            fputs("%0D", out);
            break;
        case ',':
            fputs("%2C", out);
            break;
        case '}':
            fputs("%7D", out);
            break;
        case '%':
            fputs("%25", out);
            break;
        default:
            fputc(*s, out);
            break;
        }
    }
}

void sh_print_event(shell_t *sh, const zkc_event_t *ev)
{
    if (!sh->print_watches)
        return;
    bool hooked = sh->idle && sh->hooks.before;
    if (hooked)
        sh->hooks.before(sh);
    fflush(stderr);
    printf("\nWATCHER::\n");
    printf("\nWatchedEvent state:%s type:%s path:%s\n", zkc_keeper_state_name(ev->state),
           zkc_event_type_name(ev->type), ev->path ? ev->path : "null");
    fflush(stdout);
    if (hooked)
        sh->hooks.after(sh);
}

const char *sh_error_text(int32_t err, const char *path, char *buf, size_t len)
{
    const char *p = path ? path : "null";
    switch (err) {
    case ZNONODE:
        snprintf(buf, len, "Node does not exist: %s", p);
        break;
    case ZNOCHILDRENFOREPHEMERALS:
        snprintf(buf, len, "Ephemerals cannot have children: %s", p);
        break;
    case ZNODEEXISTS:
        snprintf(buf, len, "Node already exists: %s", p);
        break;
    case ZNOTEMPTY:
        snprintf(buf, len, "Node not empty: %s", p);
        break;
    case ZNOTREADONLY:
        snprintf(buf, len, "Not a read-only call: %s", p);
        break;
    case ZINVALIDACL:
        snprintf(buf, len, "Acl is not valid : %s", p);
        break;
    case ZNOAUTH:
        snprintf(buf, len, "Insufficient permission : %s", p);
        break;
    case ZBADARGUMENTS:
        snprintf(buf, len, "Arguments are not valid : %s", p);
        break;
    case ZBADVERSION:
        snprintf(buf, len, "version No is not valid : %s", p);
        break;
    case ZQUOTAEXCEEDED:
        snprintf(buf, len, "Quota has exceeded : %s", p);
        break;
    case ZRECONFIGINPROGRESS:
        snprintf(buf, len,
                 "Another reconfiguration is in progress -- concurrent reconfigs not supported "
                 "(yet)");
        break;
    case ZNEWCONFIGNOQUORUM:
        snprintf(buf, len,
                 "No quorum of new config is connected and up-to-date with the leader of last "
                 "committed config - try invoking reconfiguration after new servers are "
                 "connected and synced");
        break;
    case ZOPERATIONTIMEOUT:
        /* Not a KeeperException path in zkCli (it would wait forever). */
        snprintf(buf, len, "KeeperErrorCode = OperationTimeout%s%s", path ? " for " : "",
                 path ? path : "");
        break;
    default:
        zkc_error_message(err, path, buf, len);
        break;
    }
    return buf;
}

static void note_v(const char *fmt, va_list ap)
{
    fflush(stdout);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
}

void sh_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note_v(fmt, ap);
    va_end(ap);
}

int sh_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note_v(fmt, ap);
    va_end(ap);
    return 1;
}

int sh_fail_zk(int32_t err, const char *path)
{
    char buf[512];
    return sh_fail("%s", sh_error_text(err, path, buf, sizeof buf));
}

int sh_zk_status(int32_t err, const char *path)
{
    return err == ZOK ? 0 : sh_fail_zk(err, path);
}

void sh_print_stat_opt(const opt_spec_t *spec, const opt_result_t *r, const zk_stat_t *st)
{
    if (opts_has(spec, r, "s"))
        sh_print_stat(stdout, st);
}

void sh_print_data(FILE *out, const void *p, int32_t len)
{
    if (len < 0)
        fputs("null", out);
    else
        sh_print_java_string(out, p, len);
    fputc('\n', out);
}
