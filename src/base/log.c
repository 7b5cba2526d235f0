/* log: formats one line per call: "YYYY-MM-DD HH:MM:SS,mmm [LEVEL] message". */
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static const char *level_name(log_level_t l)
{
    switch (l) {
    case LOG_DEBUG:
        return "DEBUG";
    case LOG_INFO:
        return "INFO ";
    case LOG_WARN:
        return "WARN ";
    default:
        return "ERROR";
    }
}

void log_write(const logger_t *lg, log_level_t level, const char *fmt, ...)
{
    if (lg && level < lg->level)
        return;
    FILE *out = (lg && lg->out) ? lg->out : stderr;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(out, "%s,%03d [%s] ", ts, (int)(tv.tv_usec / 1000), level_name(level));
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    if (!lg || !lg->buffered || level >= LOG_WARN)
        fflush(out);
}

void log_flush(const logger_t *lg)
{
    fflush(lg && lg->out ? lg->out : stderr);
}

int log_open_file(logger_t *lg, const char *path)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return -1;
    if (lg->out)
        fclose(lg->out);
    lg->out = f;
    snprintf(lg->path, sizeof(lg->path), "%s", path);
    return 0;
}

int log_reopen(logger_t *lg)
{
    if (!lg->path[0])
        return 0;
    FILE *f = fopen(lg->path, "a");
    if (!f)
        return -1; /* keep writing to the old file rather than lose lines */
    fclose(lg->out);
    lg->out = f;
    return 0;
}

void log_close(logger_t *lg)
{
    if (lg->out)
        fclose(lg->out);
    lg->out = NULL;
    lg->path[0] = '\0';
}

bool log_parse_level(const char *s, log_level_t *out)
{
    static const struct {
        const char *name;
        log_level_t level;
    } names[] = {{"TRACE", LOG_DEBUG}, {"DEBUG", LOG_DEBUG}, {"INFO", LOG_INFO},
                 {"WARN", LOG_WARN},   {"ERROR", LOG_ERROR}, {"FATAL", LOG_ERROR}};
    size_t n = strcspn(s, ", ");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i].name) == n && strncasecmp(s, names[i].name, n) == 0) {
            *out = names[i].level;
            return true;
        }
    return false;
}
