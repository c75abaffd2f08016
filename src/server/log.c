/* Logging to stderr: systemd's journal adds time and unit; by hand we add the time. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "server/server.h"

int rd_log_level = RD_LOG_INFO;

void rd_log(int level, const char *fmt, ...)
{
    if (level > rd_log_level) return;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char line[1024];
    int n = 0;
    if (!getenv("JOURNAL_STREAM")) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
    }
    n += snprintf(line + n, sizeof(line) - (size_t)n, "resolverd[%s]: ",
                  names[level < 0   ? 0
                        : level > 3 ? 3
                                    : level]);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof(line)) vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* one write per line so threads do not interleave */
    fprintf(stderr, "%s\n", line);
}
