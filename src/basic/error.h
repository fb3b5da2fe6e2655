/* Error objects for every layer above basic/: a code (-errno or ST_E_*) and a message. */
#pragma once

#include "basic/cleanup.h"
#include "basic/macro.h"

/* strata's own error codes, in a band below any -errno (libuv style). */
enum {
        ST_E_BASE = -4096,
        ST_E_PARSE = ST_E_BASE - 1,           /* malformed input (JSON, tar, reference, ...) */
        ST_E_DIGEST_MISMATCH = ST_E_BASE - 2, /* content does not hash to its name */
        ST_E_NOT_FOUND = ST_E_BASE - 3,       /* no such image, layer, blob, tag */
        ST_E_IN_USE = ST_E_BASE - 4,          /* object referenced by something else */
        ST_E_UNSAFE = ST_E_BASE - 5,          /* input tried to leave its root */
        ST_E_TOO_BIG = ST_E_BASE - 6,         /* input exceeds a hard cap */
        ST_E_UNSUPPORTED = ST_E_BASE - 7,     /* valid but not handled (media type, format) */
        ST_E_CORRUPT = ST_E_BASE - 8,         /* store content inconsistent with its records */
        ST_E_AMBIGUOUS = ST_E_BASE - 9,       /* short ID matches several objects */
        ST_E_USAGE = ST_E_BASE - 10,          /* bad command-line usage */
        ST_E_MANIFEST_UNKNOWN = ST_E_BASE - 11,
        ST_E_UNAUTHORIZED = ST_E_BASE - 12,
        ST_E_DENIED = ST_E_BASE - 13,
        ST_E_HTTP = ST_E_BASE - 14,
        ST_E_CMD_NOT_FOUND = ST_E_BASE - 15,     /* the container's command does not exist (127) */
        ST_E_CMD_CANNOT_INVOKE = ST_E_BASE - 16, /* it exists but cannot be executed (126) */
        ST_E_RUNTIME = ST_E_BASE - 17,           /* the OCI runtime (runc) failed */
        ST_E_NOT_RUNNING = ST_E_BASE - 18,       /* the container is not running */
};

struct st_error {
        int code;
        char *msg;
};

/* Set *err (if err and *err is unset) to CODE with a formatted message; returns CODE. */
int st_error_set(struct st_error **err, int code, const char *fmt, ...) _printf_(3, 4);

/* Like st_error_set, with ": strerror(-code)" appended; for -errno codes. */
int st_error_set_errno(struct st_error **err, int code, const char *fmt, ...) _printf_(3, 4);

/* Prepend "CONTEXT: " to *err's message; returns its code (or -EINVAL if unset). */
int st_error_wrap(struct st_error **err, const char *fmt, ...) _printf_(2, 3);

/* The code of ERR, or 0 for NULL. */
int st_error_code(const struct st_error *err);

/* The message of ERR (owned by ERR), or "" for NULL. */
const char *st_error_msg(const struct st_error *err);

/* Free ERR; NULL-safe; returns NULL. */
struct st_error *st_error_free(struct st_error *err);

static inline void st_error_freep(struct st_error **e)
{
        st_error_free(*e);
}

#define _cleanup_error_ _cleanup_(st_error_freep)
