#include "basic/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "basic/util.h"

/* M with control characters written as \n, \t or \xNN (C1 controls too, as UTF-8
 * C2 80..9F): messages quote names from tars, archives and registries, which must neither
 * break the one-line error nor drive the terminal. Frees M; the result is the caller's. */
static char *escape_controls(char *m)
{
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *)m; *p; p++)
                n += *p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
        if (n == 0)
                return m;
        char *out = xmalloc(strlen(m) + n * 8 + 1), *o = out;
        for (const unsigned char *p = (const unsigned char *)m; *p; p++) {
                if (*p == '\n' || *p == '\t') {
                        *o++ = '\\';
                        *o++ = *p == '\n' ? 'n' : 't';
                } else if (*p < 0x20 || *p == 0x7f) {
                        o += snprintf(o, 5, "\\x%02x", *p);
                } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
                        o += snprintf(o, 9, "\\xc2\\x%02x", p[1]);
                        p++;
                } else
                        *o++ = (char)*p;
        }
        *o = 0;
        free(m);
        return out;
}

_printf_(4, 0) static int set_va(struct st_error **err, int code, bool with_errno, const char *fmt,
                                 va_list ap)
{
        if (!err || *err)
                return code;
        _cleanup_free_ char *m = escape_controls(xvasprintf(fmt, ap));
        struct st_error *e = xmalloc(sizeof(*e));
        e->code = code;
        if (with_errno && code < 0 && code > ST_E_BASE)
                e->msg = xasprintf("%s: %s", m, strerror(-code));
        else
                e->msg = TAKE_PTR(m);
        *err = e;
        return code;
}

int st_error_set(struct st_error **err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        set_va(err, code, false, fmt, ap);
        va_end(ap);
        return code;
}

int st_error_set_errno(struct st_error **err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        set_va(err, code, true, fmt, ap);
        va_end(ap);
        return code;
}

int st_error_wrap(struct st_error **err, const char *fmt, ...)
{
        if (!err || !*err)
                return -EINVAL;
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *ctx = escape_controls(xvasprintf(fmt, ap));
        va_end(ap);
        char *m = xasprintf("%s: %s", ctx, (*err)->msg);
        free((*err)->msg);
        (*err)->msg = m;
        return (*err)->code;
}

int st_error_code(const struct st_error *err)
{
        return err ? err->code : 0;
}

const char *st_error_msg(const struct st_error *err)
{
        return err && err->msg ? err->msg : "";
}

struct st_error *st_error_free(struct st_error *err)
{
        if (!err)
                return NULL;
        free(err->msg);
        free(err);
        return NULL;
}
