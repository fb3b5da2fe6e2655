/* Logging to stderr: "strata: " messages at error/warning/info, debug when enabled. */
#pragma once

#include "basic/macro.h"

enum log_level {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
};

/* Current maximum level printed; default info, debug with STRATA_DEBUG=1. */
extern enum log_level log_max_level;

/* Print a message at LEVEL; returns ERR (so callers can 'return log_error_errno(r, ...)'). */
int log_full(enum log_level level, int err, const char *fmt, ...) _printf_(3, 4);

/* Set the level from the environment (STRATA_DEBUG). */
void log_setup(void);

#define log_error(...)          log_full(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warning(...)        log_full(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_info(...)           log_full(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...)          log_full(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(r, ...) log_full(LOG_LEVEL_ERROR, (r), __VA_ARGS__)
#define log_debug_errno(r, ...) log_full(LOG_LEVEL_DEBUG, (r), __VA_ARGS__)
