/* The container log, in Docker's json-file format: one JSON object per line,
 * {"log":"hello\n","stream":"stdout","time":"2026-11-27T21:08:58.123456789Z"}. A line of output
 * is one entry; output without a newline is flushed as a partial entry at 16 KiB or when the
 * stream ends. Invalid UTF-8 becomes U+FFFD, as Docker writes it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

enum runtime_stream {
        RUNTIME_STDOUT = 1,
        RUNTIME_STDERR = 2,
};

struct runtime_log;

/* Open (appending, creating) the log at PATH; caller frees with runtime_log_close. */
int runtime_log_open(const char *path, struct runtime_log **ret, struct st_error **err);

/* Add N bytes of output of STREAM; complete lines are written at once. */
void runtime_log_write(struct runtime_log *l, enum runtime_stream stream, const char *buf,
                       size_t n);

/* Write the partial lines still buffered. */
void runtime_log_flush(struct runtime_log *l);

/* Flush and close L; NULL-safe; returns NULL. */
struct runtime_log *runtime_log_close(struct runtime_log *l);

/* One JSON log line (with its "\n") for N bytes of BUF on STREAM at SEC.NSEC; caller frees. */
char *runtime_log_entry(enum runtime_stream stream, const char *buf, size_t n, int64_t sec,
                        long nsec);

struct runtime_log_record {
        enum runtime_stream stream;
        char *text; /* the output, NUL-terminated (NULs inside are kept; see len) */
        size_t len;
        char *time; /* RFC 3339 */
};

/* Parse one log LINE into *ret (fields owned by the caller: runtime_log_record_release);
 * ST_E_PARSE if it is not a log entry. */
int runtime_log_parse(const char *line, struct runtime_log_record *ret, struct st_error **err);

/* Free R's fields. */
void runtime_log_record_release(struct runtime_log_record *r);
