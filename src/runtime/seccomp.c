/* Seccomp profiles: Docker's format checked, then resolved for one container. */
#include "runtime/seccomp.h"

#include <stdio.h>
#include <string.h>

#include "basic/util.h"
#include "json/json.h"

static const char *const actions[] = {
        "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
        "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

static const char *const operators[] = {
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
        "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

static const char *const flags[] = {
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

#define SYSCALL_NAME_MAX 64
#define ARGS_MAX         6

static bool in_list(const char *const *l, size_t n, const char *s)
{
        for (size_t i = 0; s && i < n; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

/* An array of strings (or absent: ok). */
static int check_strings(const json_t *a, const char *where, const char *what,
                         struct st_error **err)
{
        json_t *v;
        if (a && !json_is_array(a) && !json_is_null(a))
                return st_error_set(err, ST_E_PARSE, "seccomp profile: %s%s: not an array", where,
                                    what);
        JSON_ARRAY_FOREACH(i, v, a)
                if (!json_is_string(v) || !json_string_length(v) ||
                    json_string_length(v) > SYSCALL_NAME_MAX)
                        return st_error_set(err, ST_E_PARSE,
                                            "seccomp profile: %s%s[%zu]: not a name", where, what,
                                            i);
        return 0;
}

static bool kernel_version_ok(const char *s)
{
        unsigned a, b;
        char c;
        return s && sscanf(s, "%u.%u%c", &a, &b, &c) == 2;
}

static int check_filter(const json_t *f, const char *where, const char *what, struct st_error **err)
{
        if (!f || json_is_null(f))
                return 0;
        if (!json_is_object(f))
                return st_error_set(err, ST_E_PARSE, "seccomp profile: %s.%s: not an object", where,
                                    what);
        _cleanup_free_ char *w = xasprintf("%s.%s.", where, what);
        int r = check_strings(json_object_get(f, "caps"), w, "caps", err);
        if (r >= 0)
                r = check_strings(json_object_get(f, "arches"), w, "arches", err);
        if (r < 0)
                return r;
        json_t *k = json_object_get(f, "minKernel");
        if (k && !json_is_null(k) && !kernel_version_ok(json_string_value(k)))
                return st_error_set(err, ST_E_PARSE,
                                    "seccomp profile: %sminKernel: not a version like \"4.8\"", w);
        return 0;
}

static int check_arg(const json_t *a, const char *where, size_t i, struct st_error **err)
{
        json_t *idx = json_object_get(a, "index"), *v = json_object_get(a, "value");
        json_t *v2 = json_object_get(a, "valueTwo");
        if (!json_is_object(a) || !json_is_integer(idx) || json_integer_value(idx) < 0 ||
            json_integer_value(idx) >= ARGS_MAX)
                return st_error_set(err, ST_E_PARSE,
                                    "seccomp profile: %s.args[%zu]: index must be 0 to 5", where,
                                    i);
        if ((v && (!json_is_integer(v) || json_integer_value(v) < 0)) ||
            (v2 && (!json_is_integer(v2) || json_integer_value(v2) < 0)))
                return st_error_set(err, ST_E_PARSE,
                                    "seccomp profile: %s.args[%zu]: values must be unsigned"
                                    " integers",
                                    where, i);
        if (!in_list(operators, ELEMENTSOF(operators), json_get_str(a, "op")))
                return st_error_set(err, ST_E_PARSE,
                                    "seccomp profile: %s.args[%zu]: unknown operator '%s'", where,
                                    i, json_get_str(a, "op") ?: "");
        return 0;
}

static int check_action(const json_t *obj, const char *where, const char *key,
                        struct st_error **err)
{
        const char *a = json_get_str(obj, key);
        if (!in_list(actions, ELEMENTSOF(actions), a))
                return st_error_set(err, ST_E_PARSE, "seccomp profile: %s%s: unknown action '%s'",
                                    where, key, a ?: "");
        json_t *e = json_object_get(obj, streq(key, "action") ? "errnoRet" : "defaultErrnoRet");
        if (e && !json_is_null(e) &&
            (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 4095))
                return st_error_set(err, ST_E_PARSE,
                                    "seccomp profile: %s%s: the errno must be 0 to 4095", where,
                                    key);
        return 0;
}

static int check_rule(const json_t *s, size_t i, struct st_error **err)
{
        _cleanup_free_ char *where = xasprintf("syscalls[%zu]", i);
        if (!json_is_object(s))
                return st_error_set(err, ST_E_PARSE, "seccomp profile: %s: not an object", where);
        json_t *names = json_object_get(s, "names"), *name = json_object_get(s, "name");
        if (json_array_size(names) && name)
                return st_error_set(err, ST_E_PARSE,
                                    "seccomp profile: %s: both 'name' and 'names' are given",
                                    where);
        if (!json_array_size(names) && !json_string_length(name))
                return st_error_set(err, ST_E_PARSE, "seccomp profile: %s: no syscall names",
                                    where);
        if (name && json_string_length(name) > SYSCALL_NAME_MAX)
                return st_error_set(err, ST_E_PARSE, "seccomp profile: %s.name: not a name", where);
        _cleanup_free_ char *w = xasprintf("%s.", where);
        int r = check_strings(names, w, "names", err);
        if (r >= 0)
                r = check_action(s, w, "action", err);
        if (r >= 0)
                r = check_filter(json_object_get(s, "includes"), where, "includes", err);
        if (r >= 0)
                r = check_filter(json_object_get(s, "excludes"), where, "excludes", err);
        if (r < 0)
                return r;
        json_t *args = json_object_get(s, "args"), *a;
        if (args && !json_is_array(args) && !json_is_null(args))
                return st_error_set(err, ST_E_PARSE, "seccomp profile: %s.args: not an array",
                                    where);
        JSON_ARRAY_FOREACH(k, a, args) {
                r = check_arg(a, where, k, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_arch_map(const json_t *p, struct st_error **err)
{
        json_t *am = json_object_get(p, "archMap"), *e;
        if (json_array_size(am) && json_array_size(json_object_get(p, "architectures")))
                return st_error_set(err, ST_E_PARSE,
                                    "seccomp profile: both 'architectures' and 'archMap' are"
                                    " given");
        int r = check_strings(json_object_get(p, "architectures"), "", "architectures", err);
        if (r < 0)
                return r;
        if (am && !json_is_array(am) && !json_is_null(am))
                return st_error_set(err, ST_E_PARSE, "seccomp profile: archMap: not an array");
        JSON_ARRAY_FOREACH(i, e, am) {
                _cleanup_free_ char *w = xasprintf("archMap[%zu].", i);
                if (!json_is_object(e) || !json_get_str(e, "architecture"))
                        return st_error_set(err, ST_E_PARSE,
                                            "seccomp profile: %sarchitecture: missing", w);
                r = check_strings(json_object_get(e, "subArchitectures"), w, "subArchitectures",
                                  err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_profile(const json_t *p, struct st_error **err)
{
        if (!json_is_object(p))
                return st_error_set(err, ST_E_PARSE, "seccomp profile: not a JSON object");
        json_t *calls = json_object_get(p, "syscalls"), *s, *f;
        bool empty = !json_object_get(p, "defaultAction") && !json_array_size(calls);
        int r = empty ? 0 : check_action(p, "", "defaultAction", err);
        if (r >= 0)
                r = check_arch_map(p, err);
        if (r >= 0)
                r = check_strings(json_object_get(p, "flags"), "", "flags", err);
        if (r < 0)
                return r;
        JSON_ARRAY_FOREACH(i, f, json_object_get(p, "flags"))
                if (!in_list(flags, ELEMENTSOF(flags), json_string_value(f)))
                        return st_error_set(err, ST_E_PARSE,
                                            "seccomp profile: flags[%zu]: unknown flag '%s'", i,
                                            json_string_value(f));
        if (calls && !json_is_array(calls) && !json_is_null(calls))
                return st_error_set(err, ST_E_PARSE, "seccomp profile: syscalls: not an array");
        JSON_ARRAY_FOREACH(i, s, calls) {
                r = check_rule(s, i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int runtime_seccomp_parse(const char *text, size_t len, json_t **ret, struct st_error **err)
{
        _cleanup_json_ json_t *p = NULL;
        int r = json_parse(text, len, RUNTIME_SECCOMP_PROFILE_MAX, "seccomp profile", &p, err);
        if (r >= 0)
                r = check_profile(p, err);
        if (r < 0)
                return r;
        if (ret)
                *ret = TAKE_PTR(p);
        return 0;
}

/* ----- resolving ----- */

/* "6.18.44-x" >= "4.8"? An unknown KERNEL counts as new. */
static bool kernel_at_least(const char *kernel, const char *min)
{
        unsigned ka, kb, ma = 0, mb = 0;
        if (!kernel || sscanf(kernel, "%u.%u", &ka, &kb) != 2)
                return true;
        (void)sscanf(min, "%u.%u", &ma, &mb);
        return ka > ma || (ka == ma && kb >= mb);
}

static bool json_strings_contain(const json_t *a, const char *s)
{
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, a)
                if (streq_ptr(json_string_value(v), s))
                        return true;
        return false;
}

/* Whether rule S applies to a container on ARCH with CAPS on KERNEL. */
static bool rule_applies(const json_t *s, const char *arch, char *const *caps, const char *kernel)
{
        json_t *inc = json_object_get(s, "includes"), *exc = json_object_get(s, "excludes"), *v;
        if (json_strings_contain(json_object_get(exc, "arches"), arch))
                return false;
        JSON_ARRAY_FOREACH(i, v, json_object_get(exc, "caps"))
                if (strv_contains(caps, json_string_value(v)))
                        return false;
        const char *k = json_get_str(exc, "minKernel");
        if (k && kernel_at_least(kernel, k))
                return false;
        json_t *arches = json_object_get(inc, "arches");
        if (json_array_size(arches) && !json_strings_contain(arches, arch))
                return false;
        JSON_ARRAY_FOREACH(i, v, json_object_get(inc, "caps"))
                if (!strv_contains(caps, json_string_value(v)))
                        return false;
        k = json_get_str(inc, "minKernel");
        return !k || kernel_at_least(kernel, k);
}

/* The rule S as the OCI spec has it: names, action, errnoRet, args. */
static json_t *oci_rule(const json_t *s)
{
        json_t *names = json_object_get(s, "names");
        json_t *n = json_array_size(names) ? json_deep_copy(names)
                                           : json_pack("[O]", json_object_get(s, "name"));
        json_t *o = json_pack("{s:o, s:s}", "names", n, "action", json_get_str(s, "action"));
        json_t *e = json_object_get(s, "errnoRet"), *args = json_object_get(s, "args");
        if (json_is_integer(e))
                json_object_set(o, "errnoRet", e);
        if (json_array_size(args))
                json_object_set(o, "args", args);
        return o;
}

static const char *seccomp_arch(const char *arch)
{
        static const char *const map[][2] = {
                { "amd64", "SCMP_ARCH_X86_64" },    { "x86", "SCMP_ARCH_X86" },
                { "arm64", "SCMP_ARCH_AARCH64" },   { "arm", "SCMP_ARCH_ARM" },
                { "ppc64le", "SCMP_ARCH_PPC64LE" }, { "s390x", "SCMP_ARCH_S390X" },
                { "riscv64", "SCMP_ARCH_RISCV64" }, { "loong64", "SCMP_ARCH_LOONGARCH64" },
                { "mips64", "SCMP_ARCH_MIPS64" },   { "mipsel64", "SCMP_ARCH_MIPSEL64" },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(map[i][0], arch))
                        return map[i][1];
        return NULL;
}

static json_t *architectures(const json_t *p, const char *arch)
{
        json_t *given = json_object_get(p, "architectures");
        if (json_array_size(given))
                return json_deep_copy(given);
        const char *want = seccomp_arch(arch);
        json_t *out = json_array(), *e;
        JSON_ARRAY_FOREACH(i, e, json_object_get(p, "archMap"))
                if (want && streq_ptr(json_get_str(e, "architecture"), want)) {
                        json_array_append_new(out, json_string(want));
                        json_array_extend(out, json_object_get(e, "subArchitectures"));
                        break;
                }
        return out;
}

int runtime_seccomp_resolve(const json_t *profile, const char *arch, char *const *caps,
                            const char *kernel, json_t **ret, struct st_error **err)
{
        (void)err;
        json_t *calls = json_object_get(profile, "syscalls"), *s;
        if (!json_get_str(profile, "defaultAction") && !json_array_size(calls)) {
                *ret = NULL;
                return 0;
        }
        json_t *out = json_pack("{s:s, s:o}", "defaultAction",
                                json_get_str(profile, "defaultAction") ?: "SCMP_ACT_ALLOW",
                                "architectures", architectures(profile, arch));
        json_t *e = json_object_get(profile, "defaultErrnoRet");
        if (json_is_integer(e))
                json_object_set(out, "defaultErrnoRet", e);
        if (json_array_size(json_object_get(profile, "flags")))
                json_object_set(out, "flags", json_object_get(profile, "flags"));
        json_t *rules = json_array();
        JSON_ARRAY_FOREACH(i, s, calls)
                if (rule_applies(s, arch, caps, kernel))
                        json_array_append_new(rules, oci_rule(s));
        json_object_set_new(out, "syscalls", rules);
        *ret = out;
        return 0;
}

void runtime_seccomp_drop_arch(json_t *filter, const char *arch)
{
        json_t *a = json_object_get(filter, "architectures");
        for (size_t i = json_array_size(a); i-- > 0;)
                if (streq_ptr(json_string_value(json_array_get(a, i)), arch))
                        json_array_remove(a, i);
}

const char *runtime_seccomp_native_arch(void)
{
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__i386__)
        return "x86";
#elif defined(__arm__)
        return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return "ppc64le";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
        return "riscv64";
#elif defined(__loongarch64)
        return "loong64";
#else
        return "";
#endif
}
