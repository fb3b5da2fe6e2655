/* Seccomp profiles given with --security-opt seccomp=FILE, and the options themselves. An input
 * starting with '!' is a list of --security-opt values (one a line); anything else is a profile.
 * A profile that parses must resolve, for any capabilities, into a filter that is itself a
 * profile which parses and resolves to the same filter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "json/json.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void options(const char *s)
{
        _cleanup_strv_ char **lines = NULL;
        for (const char *p = s, *nl; *p; p = nl + (*nl != 0)) {
                nl = p + strcspn(p, "\n");
                strv_consume(&lines, xstrndup(p, nl - p));
        }
        struct runtime_security sec;
        _cleanup_error_ struct st_error *err = NULL;
        (void)runtime_security_parse(lines, &sec, &err);
}

static void resolve_twice(const json_t *profile, char *const *caps, const char *kernel)
{
        _cleanup_json_ json_t *f = NULL, *p2 = NULL, *f2 = NULL;
        if (runtime_seccomp_resolve(profile, "amd64", caps, kernel, &f, NULL) < 0)
                abort();
        if (!f)
                return;
        _cleanup_free_ char *text = json_dump_compact(f);
        if (runtime_seccomp_parse(text, strlen(text), &p2, NULL) < 0 ||
            runtime_seccomp_resolve(p2, "amd64", NULL, NULL, &f2, NULL) < 0 || !f2)
                abort();
        _cleanup_free_ char *text2 = json_dump_compact(f2);
        if (!streq(text, text2))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 65536)
                return 0;
        _cleanup_free_ char *s = xstrndup((const char *)data, size);
        if (size > 0 && data[0] == '!') {
                options(s + 1);
                return 0;
        }
        _cleanup_json_ json_t *p = NULL;
        if (runtime_seccomp_parse((const char *)data, size, &p, NULL) < 0)
                return 0;
        char *const admin[] = { "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", NULL };
        resolve_twice(p, NULL, "4.4.0");
        resolve_twice(p, admin, NULL);
        return 0;
}
