/* src/runtime seccomp profiles and --security-opt: the default profile resolved for
 * architectures, capabilities and kernels; profile checks; option parsing. */
#include <string.h>

#include "basic/util.h"
#include "json/json.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "tap.h"

static char *const default_caps[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE",
        NULL,
};

/* The default profile resolved for ARCH, CAPS and KERNEL; NULL on failure. */
static json_t *resolve_default(const char *arch, char *const *caps, const char *kernel)
{
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_json_ json_t *p = NULL;
        json_t *out = NULL;
        const char *t = runtime_seccomp_default_json;
        if (runtime_seccomp_parse(t, strlen(t), &p, &e) < 0 ||
            runtime_seccomp_resolve(p, arch, caps, kernel, &out, &e) < 0)
                printf("# %s\n", st_error_msg(e));
        return out;
}

/* How many rules of the resolved FILTER name SYSCALL with ACTION (any action if NULL). */
static size_t rules_for(const json_t *filter, const char *syscall, const char *action)
{
        size_t n = 0;
        json_t *r, *v;
        JSON_ARRAY_FOREACH(i, r, json_object_get(filter, "syscalls"))
                JSON_ARRAY_FOREACH(k, v, json_object_get(r, "names"))
                        if (streq_ptr(json_string_value(v), syscall) &&
                            (!action || streq_ptr(json_get_str(r, "action"), action)))
                                n++;
        return n;
}

TEST(default_profile_amd64)
{
        _cleanup_json_ json_t *f = resolve_default("amd64", default_caps, "6.1.0-13-amd64");
        ASSERT_TRUE(f);
        ASSERT_STREQ(json_get_str(f, "defaultAction"), "SCMP_ACT_ERRNO");
        ASSERT_EQ(json_integer_value(json_object_get(f, "defaultErrnoRet")), 1);
        _cleanup_free_ char *arches = json_dump_compact(json_object_get(f, "architectures"));
        ASSERT_STREQ(arches, "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]");
        /* on a kernel without x32, strata drops that architecture (runc compiles each) */
        runtime_seccomp_drop_arch(f, "SCMP_ARCH_X32");
        runtime_seccomp_drop_arch(f, "SCMP_ARCH_MIPS64"); /* not there: nothing changes */
        _cleanup_free_ char *dropped = json_dump_compact(json_object_get(f, "architectures"));
        ASSERT_STREQ(dropped, "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"]");
        ASSERT_EQ(rules_for(f, "read", "SCMP_ACT_ALLOW"), 1);
        ASSERT_EQ(rules_for(f, "arch_prctl", NULL), 1);
        ASSERT_EQ(rules_for(f, "set_tls", NULL), 0);
        ASSERT_EQ(rules_for(f, "ptrace", NULL), 1); /* minKernel 4.8 */
        /* what needs a capability the container lacks is not there */
        ASSERT_EQ(rules_for(f, "mount", NULL), 0);
        ASSERT_EQ(rules_for(f, "unshare", NULL), 0);
        ASSERT_EQ(rules_for(f, "reboot", NULL), 0);
        ASSERT_EQ(rules_for(f, "keyctl", NULL), 0);
        ASSERT_EQ(rules_for(f, "chroot", NULL), 1); /* CAP_SYS_CHROOT is a default */
        /* clone only without namespace flags; clone3 answers ENOSYS */
        ASSERT_EQ(rules_for(f, "clone", NULL), 1);
        json_t *r, *clone = NULL, *clone3 = NULL;
        JSON_ARRAY_FOREACH(i, r, json_object_get(f, "syscalls")) {
                const char *n0 = json_string_value(json_array_get(json_object_get(r, "names"), 0));
                if (streq_ptr(n0, "clone"))
                        clone = r;
                if (streq_ptr(n0, "clone3"))
                        clone3 = r;
                ASSERT_TRUE(!json_object_get(r, "comment") && !json_object_get(r, "includes"));
        }
        ASSERT_TRUE(clone && clone3);
        _cleanup_free_ char *args = json_dump_compact(json_object_get(clone, "args"));
        ASSERT_STREQ(
                args,
                "[{\"index\":0,\"value\":2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]");
        ASSERT_STREQ(json_get_str(clone3, "action"), "SCMP_ACT_ERRNO");
        ASSERT_EQ(json_integer_value(json_object_get(clone3, "errnoRet")), 38);
        ASSERT_EQ(rules_for(f, "personality", NULL), 5);
        ASSERT_EQ(rules_for(f, "socket", NULL), 3);
}

TEST(default_profile_conditions)
{
        char *const admin[] = { "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", NULL };
        _cleanup_json_ json_t *f = resolve_default("amd64", admin, NULL);
        ASSERT_TRUE(f);
        ASSERT_EQ(rules_for(f, "mount", "SCMP_ACT_ALLOW"), 1);
        ASSERT_EQ(rules_for(f, "unshare", "SCMP_ACT_ALLOW"), 1);
        ASSERT_EQ(rules_for(f, "clone3", "SCMP_ACT_ERRNO"), 0);
        ASSERT_EQ(rules_for(f, "kcmp", NULL), 1);
        ASSERT_EQ(rules_for(f, "chroot", NULL), 0);
        /* an old kernel: no ptrace without CAP_SYS_PTRACE */
        _cleanup_json_ json_t *old = resolve_default("amd64", default_caps, "4.4.0");
        ASSERT_EQ(rules_for(old, "ptrace", NULL), 0);
        /* arm64: its own syscalls and architectures, not x86's */
        _cleanup_json_ json_t *arm = resolve_default("arm64", default_caps, NULL);
        ASSERT_EQ(rules_for(arm, "set_tls", NULL), 1);
        ASSERT_EQ(rules_for(arm, "arch_prctl", NULL), 0);
        _cleanup_free_ char *arches = json_dump_compact(json_object_get(arm, "architectures"));
        ASSERT_STREQ(arches, "[\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\"]");
#ifdef __x86_64__
        ASSERT_STREQ(runtime_seccomp_native_arch(), "amd64");
#endif
}

static int parse_text(const char *t, json_t **ret, struct st_error **e)
{
        return runtime_seccomp_parse(t, strlen(t), ret, e);
}

TEST(user_profiles)
{
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_json_ json_t *p = NULL, *f = NULL, *empty = NULL, *ef = NULL;
        ASSERT_OK(parse_text("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
                             "[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{\"name\":\"mkdir\","
                             "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}",
                             &p, &e));
        ASSERT_OK(runtime_seccomp_resolve(p, "amd64", NULL, NULL, &f, &e));
        _cleanup_free_ char *s = json_dump_compact(f);
        ASSERT_STREQ(s, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
                        "[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{\"names\":[\"mkdir\"],"
                        "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}");
        ASSERT_OK(parse_text("{}", &empty, &e));
        ASSERT_OK(runtime_seccomp_resolve(empty, "amd64", NULL, NULL, &ef, &e));
        ASSERT_TRUE(!ef);

        static const struct {
                const char *text, *msg;
        } bad[] = {
                { "[]", "seccomp profile: not a JSON object" },
                { "{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
                  "seccomp profile: defaultAction: unknown action 'SCMP_ACT_NOPE'" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5000}",
                  "seccomp profile: defaultAction: the errno must be 0 to 4095" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"A\"],"
                  "\"archMap\":[{\"architecture\":\"A\"}]}",
                  "seccomp profile: both 'architectures' and 'archMap' are given" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"flags\":[\"X\"]}",
                  "seccomp profile: flags[0]: unknown flag 'X'" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"action\":"
                  "\"SCMP_ACT_ALLOW\"}]}",
                  "seccomp profile: syscalls[0]: no syscall names" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"name\":\"a\","
                  "\"names\":[\"b\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
                  "seccomp profile: syscalls[0]: both 'name' and 'names' are given" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
                  "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,\"value\":1,"
                  "\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "seccomp profile: syscalls[0].args[0]: index must be 0 to 5" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
                  "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,"
                  "\"op\":\"EQ\"}]}]}",
                  "seccomp profile: syscalls[0].args[0]: unknown operator 'EQ'" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[1],"
                  "\"action\":\"SCMP_ACT_ALLOW\"}]}",
                  "seccomp profile: syscalls[0].names[0]: not a name" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
                  "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"new\"}}]}",
                  "seccomp profile: syscalls[0].includes.minKernel: not a version like \"4.8\"" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_error_ struct st_error *be = NULL;
                ASSERT_ERR(parse_text(bad[i].text, NULL, &be), ST_E_PARSE);
                ASSERT_STREQ(st_error_msg(be), bad[i].msg);
        }
}

TEST(security_opts)
{
        struct runtime_security s;
        _cleanup_error_ struct st_error *e = NULL;
        char *nnp[] = { "no-new-privileges", "seccomp=unconfined", "apparmor=unconfined",
                        "label:disable", NULL };
        ASSERT_OK(runtime_security_parse(nnp, &s, &e));
        ASSERT_TRUE(s.no_new_privileges && s.seccomp_unconfined && !s.seccomp_profile);
        char *off[] = { "no-new-privileges=false", "systempaths=unconfined", "seccomp=builtin",
                        NULL };
        ASSERT_OK(runtime_security_parse(off, &s, &e));
        ASSERT_TRUE(!s.no_new_privileges && !s.seccomp_unconfined && s.systempaths_unconfined);
        char *prof[] = { "no-new-privileges:true", "seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}",
                         NULL };
        ASSERT_OK(runtime_security_parse(prof, &s, &e));
        ASSERT_TRUE(s.no_new_privileges);
        ASSERT_STREQ(s.seccomp_profile, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
        static const char *const bad[] = { "bogus", "no-new-privileges=maybe",
                                           "systempaths=confined", "unknown=1",
                                           "seccomp={\"defaultAction\":1}" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_error_ struct st_error *be = NULL;
                char *one[] = { (char *)bad[i], NULL };
                ASSERT_TRUE(runtime_security_parse(one, &s, &be) < 0);
        }
        _cleanup_error_ struct st_error *be = NULL;
        char *one[] = { "bogus", NULL };
        ASSERT_ERR(runtime_security_parse(one, &s, &be), ST_E_USAGE);
        ASSERT_STREQ(st_error_msg(be), "invalid --security-opt: \"bogus\"");
}
