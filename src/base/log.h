/* log: timestamped log lines in ZooKeeper's layout, to stderr or a file.
 * A logger is a value owned by the server context; lower layers never log,
 * they return errors and let the server say what happened. */
#ifndef CORRAL_LOG_H
#define CORRAL_LOG_H

#include <stdbool.h>
#include <stdio.h>

typedef enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

typedef struct logger {
    log_level_t level;
    FILE *out;       /* NULL means stderr */
    bool buffered;   /* leave flushing to log_flush (once per event-loop turn) */
    char path[4096]; /* the log file, "" for stderr */
} logger_t;

/* Send the log to a file (appending); -1 with errno if it cannot be opened. */
int log_open_file(logger_t *lg, const char *path);
/* Reopen the file by name (after logrotate moved it); no-op for stderr. */
int log_reopen(logger_t *lg);
void log_close(logger_t *lg);
/* "DEBUG", "INFO", "WARN", "ERROR" (case-insensitive prefix of a log4j level
 * list such as "INFO,CONSOLE"); false if unknown. */
bool log_parse_level(const char *s, log_level_t *out);

/* Write out buffered lines (the server calls it once per loop turn). */
void log_flush(const logger_t *lg);

void log_write(const logger_t *lg, log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(lg, ...) log_write((lg), LOG_DEBUG, __VA_ARGS__)
#define log_info(lg, ...) log_write((lg), LOG_INFO, __VA_ARGS__)
#define log_warn(lg, ...) log_write((lg), LOG_WARN, __VA_ARGS__)
#define log_error(lg, ...) log_write((lg), LOG_ERROR, __VA_ARGS__)

#endif
