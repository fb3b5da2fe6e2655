/* --security-opt, as Docker reads it. */
#include <errno.h>
#include <string.h>

#include "basic/util.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

/* Go's strconv.ParseBool. */
static int parse_go_bool(const char *s, bool *ret)
{
        static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
        static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (streq(s, yes[i]) || streq(s, no[i])) {
                        *ret = streq(s, yes[i]);
                        return 0;
                }
        return -EINVAL;
}

static int invalid(const char *opt, struct st_error **err)
{
        return st_error_set(err, ST_E_USAGE, "invalid --security-opt: \"%s\"", opt);
}

/* One option KEY=VALUE (or KEY:VALUE) into S. */
static int parse_one(const char *opt, struct runtime_security *s, struct st_error **err)
{
        if (streq(opt, "no-new-privileges")) {
                s->no_new_privileges = true;
                return 0;
        }
        size_t n = strcspn(opt, "=");
        if (!opt[n])
                n = strcspn(opt, ":");
        if (!opt[n])
                return invalid(opt, err);
        const char *v = opt + n + 1;
        _cleanup_free_ char *key = xstrndup(opt, n);
        if (streq(key, "no-new-privileges"))
                return parse_go_bool(v, &s->no_new_privileges) < 0 ? invalid(opt, err) : 0;
        if (streq(key, "seccomp")) {
                s->seccomp_unconfined = streq(v, "unconfined");
                s->seccomp_profile = streq(v, "unconfined") || streq(v, "builtin") ? NULL : v;
                return s->seccomp_profile && runtime_seccomp_parse(v, strlen(v), NULL, err) < 0
                               ? st_error_wrap(err, "--security-opt seccomp")
                               : 0;
        }
        if (streq(key, "systempaths")) {
                if (!streq(v, "unconfined"))
                        return invalid(opt, err);
                s->systempaths_unconfined = true;
                return 0;
        }
        if (streq(key, "apparmor") || streq(key, "label"))
                return 0; /* no AppArmor or SELinux here: accepted, as Docker does without them */
        return invalid(opt, err);
}

int runtime_security_parse(char *const *opts, struct runtime_security *ret, struct st_error **err)
{
        struct runtime_security s = { 0 };
        STRV_FOREACH(o, (char **)opts) {
                int r = parse_one(*o, &s, err);
                if (r < 0)
                        return r;
        }
        *ret = s;
        return 0;
}
