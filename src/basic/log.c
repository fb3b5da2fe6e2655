#include "basic/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

enum log_level log_max_level = LOG_LEVEL_INFO;

void log_setup(void)
{
        const char *e = secure_getenv("STRATA_DEBUG");
        if (e && *e && *e != '0')
                log_max_level = LOG_LEVEL_DEBUG;
}

int log_full(enum log_level level, int err, const char *fmt, ...)
{
        if (level > log_max_level)
                return err;
        int saved = errno;
        static const char *const prefix[] = { "", "warning: ", "", "debug: " };
        fprintf(stderr, "strata: %s", prefix[level]);
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        errno = saved;
        return err;
}
