/* log: formats one line per call: "YYYY-MM-DD HH:MM:SS,mmm [LEVEL] message". */
#include "log.h"

#include <stdarg.h>
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
