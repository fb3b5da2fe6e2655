/* src/runtime spec generation: Docker's create-time merge, user resolution, capabilities, and
 * the OCI spec. */
#include <signal.h>

#include "basic/util.h"
#include "json/json.h"
#include "runtime/spec.h"
#include "tap.h"

static json_t *parse(const char *s)
{
        json_error_t je;
        return json_loads(s, 0, &je);
}

/* The container config of IMAGE_JSON with O; NULL (and the error in *err) on failure. */
static json_t *merge(const char *image_json, const struct runtime_options *o, char **host_env,
                     struct st_error **err)
{
        _cleanup_json_ json_t *img = image_json ? parse(image_json) : NULL;
        json_t *c = NULL;
        if (runtime_config_new(img, o, host_env, &c, err) < 0)
                return NULL;
        return c;
}

/* "Path Args..." of a container config, space-joined; caller frees. */
static char *command_line(const json_t *c)
{
        char *s = xstrdup(json_get_str(c, "Path"));
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, json_object_get(c, "Args")) {
                char *n = xasprintf("%s %s", s, json_string_value(v));
                free(s);
                s = n;
        }
        return s;
}

static char *dump(const json_t *j)
{
        return j ? json_dump_compact(j) : xstrdup("(null)");
}

TEST(entrypoint_cmd_matrix)
{
        static const struct {
                const char *image;
                const char *entrypoint; /* --entrypoint */
                const char *cmd[3];     /* after IMAGE */
                const char *want;       /* command line, or the error */
        } cases[] = {
                { "{\"Cmd\":[\"sh\"]}", NULL, { NULL }, "sh" },
                { "{\"Cmd\":[\"sh\"]}", NULL, { "echo", "hi" }, "echo hi" },
                { "{\"Entrypoint\":[\"/ep\",\"a\"],\"Cmd\":[\"c\"]}", NULL, { NULL }, "/ep a c" },
                { "{\"Entrypoint\":[\"/ep\",\"a\"],\"Cmd\":[\"c\"]}", NULL, { "x" }, "/ep a x" },
                { "{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"c\"]}", "/bin/x", { NULL }, "/bin/x" },
                { "{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"c\"]}", "/bin/x", { "y" }, "/bin/x y" },
                { "{\"Entrypoint\":[\"/ep\"]}", "", { "echo", "hi" }, "echo hi" },
                { "{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"c\"]}",
                  "",
                  { NULL },
                  "error: No command specified" },
                { "{}", NULL, { NULL }, "error: No command specified" },
                { NULL, NULL, { "true" }, "true" },
                { "{\"Entrypoint\":[\"/ep\"]}", NULL, { NULL }, "/ep" },
                { "{\"Cmd\":[]}", "/e p", { NULL }, "/e p" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_strv_ char **cmd = NULL;
                for (size_t j = 0; j < 3 && cases[i].cmd[j]; j++)
                        strv_push(&cmd, cases[i].cmd[j]);
                struct runtime_options o = { .entrypoint = cases[i].entrypoint, .cmd = cmd };
                _cleanup_error_ struct st_error *e = NULL;
                _cleanup_json_ json_t *c = merge(cases[i].image, &o, NULL, &e);
                _cleanup_free_ char *got =
                        c ? command_line(c) : xasprintf("error: %s", st_error_msg(e));
                if (!streq(got, cases[i].want))
                        TAP_FAIL("case %zu: got '%s', want '%s'", i, got, cases[i].want);
                if (!c)
                        ASSERT_EQ(st_error_code(e), ST_E_USAGE);
        }
}

TEST(entrypoint_cleared_is_null_in_config)
{
        _cleanup_strv_ char **cmd = NULL;
        strv_push(&cmd, "echo");
        struct runtime_options o = { .entrypoint = "", .cmd = cmd };
        _cleanup_json_ json_t *c =
                merge("{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"x\"]}", &o, NULL, NULL);
        ASSERT_TRUE(c);
        json_t *cfg = json_object_get(c, "Config");
        ASSERT_TRUE(json_is_null(json_object_get(cfg, "Entrypoint")));
        _cleanup_free_ char *s = dump(json_object_get(cfg, "Cmd"));
        ASSERT_STREQ(s, "[\"echo\"]");
}

TEST(env_merge)
{
        char *host[] = { "B=from-host", "HOME=/root", NULL };
        _cleanup_strv_ char **env = NULL, **cmd = NULL;
        strv_push(&cmd, "true");
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(runtime_env_file_parse("# comment\n\n  D=file\nHOME\nNOPE\nA=from-file\n", host,
                                           &env, &e),
                    e);
        strv_push(&env, "A=2");
        strv_push(&env, "B");
        strv_push(&env, "C");
        struct runtime_options o = { .cmd = cmd, .env = env };
        _cleanup_json_ json_t *c = merge("{\"Env\":[\"PATH=/x\",\"A=1\"]}", &o, host, &e);
        ASSERT_TRUE(c);
        _cleanup_free_ char *s = dump(json_object_get(json_object_get(c, "Config"), "Env"));
        ASSERT_STREQ(s, "[\"PATH=/x\",\"A=2\",\"D=file\",\"HOME=/root\",\"B=from-host\"]");
        /* no PATH in the image: Docker's default comes first */
        _cleanup_json_ json_t *c2 = merge("{\"Env\":[\"X=1\"]}", &o, NULL, &e);
        _cleanup_free_ char *s2 = dump(json_object_get(json_object_get(c2, "Config"), "Env"));
        ASSERT_STREQ(s2, "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
                         "\"X=1\",\"D=file\",\"HOME=/root\",\"A=2\"]");
}

TEST(env_file_errors)
{
        _cleanup_strv_ char **env = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_ERR(runtime_env_file_parse("=x\n", NULL, &env, &e), ST_E_PARSE);
        e = st_error_free(e);
        ASSERT_ERR(runtime_env_file_parse("A B=x\n", NULL, &env, &e), ST_E_PARSE);
        ASSERT_STREQ(st_error_msg(e), "variable 'A B' contains whitespaces");
        ASSERT_TRUE(!env);
}

TEST(options_validated)
{
        static const struct {
                const char *workdir, *network, *bind, *cap, *ulimit, *tmpfs;
                const char *want;
        } cases[] = {
                { "rel", NULL, NULL, NULL, NULL, NULL,
                  "the working directory 'rel' is invalid, it needs to be an absolute path" },
                { NULL, "bridge", NULL, NULL, NULL, NULL,
                  "network mode 'bridge' is not supported: use 'none' or 'host'" },
                { NULL, NULL, "/a:b", NULL, NULL, NULL, "invalid volume specification: '/a:b'" },
                { NULL, NULL, "/a:/b:xx", NULL, NULL, NULL,
                  "invalid mode: 'xx' in volume '/a:/b:xx'" },
                { NULL, NULL, NULL, "NOPE", NULL, NULL, "unknown capability: \"NOPE\"" },
                { NULL, NULL, NULL, NULL, "bogus=1", NULL, "invalid ulimit type: 'bogus=1'" },
                { NULL, NULL, NULL, NULL, "nofile=10:5", NULL,
                  "ulimit soft limit must be less than or equal to hard limit: 'nofile=10:5'" },
                { NULL, NULL, NULL, NULL, NULL, "run",
                  "invalid tmpfs mount 'run': the path must be absolute" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *cmd[] = { "true", NULL };
                char *bind[] = { (char *)cases[i].bind, NULL };
                char *cap[] = { (char *)cases[i].cap, NULL };
                char *ul[] = { (char *)cases[i].ulimit, NULL };
                char *tm[] = { (char *)cases[i].tmpfs, NULL };
                struct runtime_options o = {
                        .cmd = cmd,
                        .workdir = cases[i].workdir,
                        .network = cases[i].network,
                        .binds = cases[i].bind ? bind : NULL,
                        .cap_add = cases[i].cap ? cap : NULL,
                        .ulimits = cases[i].ulimit ? ul : NULL,
                        .tmpfs = cases[i].tmpfs ? tm : NULL,
                };
                _cleanup_error_ struct st_error *e = NULL;
                _cleanup_json_ json_t *c = merge("{}", &o, NULL, &e);
                ASSERT_TRUE(!c);
                ASSERT_EQ(st_error_code(e), ST_E_USAGE);
                ASSERT_STREQ(st_error_msg(e), cases[i].want);
        }
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                             "bob:x:1000:1000:Bob:/home/bob:/bin/sh\n"
                             "# comment\n"
                             "broken:x:notanumber:1::/:/bin/sh\n";
static const char group[] = "root:x:0:\n"
                            "daemon:x:1:bob\n"
                            "bob:x:1000:\n"
                            "audio:x:29:alice,bob\n"
                            "staff:x:50:\n";

TEST(user_resolution)
{
        static const struct {
                const char *spec;
                bool files;
                const char *want; /* "uid gid [sgids] home" or "error: …" */
        } cases[] = {
                { "", true, "0 0 [] /root" },
                { "root", true, "0 0 [] /root" },
                { "bob", true, "1000 1000 [1 29] /home/bob" },
                { "1000", true, "1000 1000 [1 29] /home/bob" },
                { "bob:staff", true, "1000 50 [] /home/bob" },
                { "bob:29", true, "1000 29 [] /home/bob" },
                { "bob:777", true, "1000 777 [] /home/bob" },
                { "4242", true, "4242 0 [] /" },
                { "4242:4343", true, "4242 4343 [] /" },
                { "4242:staff", true, "4242 50 [] /" },
                { "1000:1000", false, "1000 1000 [] /" },
                { "nobody", true,
                  "error: unable to find user nobody: no matching entries in"
                  " passwd file" },
                { "bob:nogroup", true,
                  "error: unable to find group nogroup: no matching entries"
                  " in group file" },
                { "bob", false,
                  "error: unable to find user bob: no matching entries in passwd"
                  " file" },
                { "-1", true, "error: unable to find user -1: no matching entries in passwd file" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct runtime_user u;
                _cleanup_error_ struct st_error *e = NULL;
                _cleanup_free_ char *got = NULL;
                if (runtime_user_resolve(cases[i].spec, cases[i].files ? passwd : NULL,
                                         cases[i].files ? group : NULL, &u, &e) < 0) {
                        got = xasprintf("error: %s", st_error_msg(e));
                } else {
                        _cleanup_free_ char *g = xstrdup("");
                        for (size_t j = 0; j < u.n_additional_gids; j++) {
                                char *n =
                                        xasprintf("%s%s%u", g, j ? " " : "", u.additional_gids[j]);
                                free(g);
                                g = n;
                        }
                        got = xasprintf("%u %u [%s] %s", u.uid, u.gid, g, u.home);
                        runtime_user_release(&u);
                }
                if (!streq(got, cases[i].want))
                        TAP_FAIL("'%s': got '%s', want '%s'", cases[i].spec, got, cases[i].want);
        }
}

static char *caps_string(char **add, char **drop, bool priv)
{
        _cleanup_strv_ char **caps = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        if (runtime_caps(add, drop, priv, &caps, &e) < 0)
                return xasprintf("error: %s", st_error_msg(e));
        char *s = xasprintf("%zu", strv_length(caps));
        STRV_FOREACH(c, caps) {
                char *n = xasprintf("%s %s", s, *c + 4);
                free(s);
                s = n;
        }
        return s;
}

TEST(capabilities)
{
        _cleanup_free_ char *dflt = caps_string(NULL, NULL, false);
        ASSERT_STREQ(dflt, "14 CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP"
                           " SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE");
        char *all[] = { "all", NULL }, *na[] = { "net_admin", NULL };
        char *two[] = { "CAP_CHOWN", "mknod", NULL }, *bad[] = { "FLY", NULL };
        _cleanup_free_ char *only = caps_string(na, all, false);
        ASSERT_STREQ(only, "1 NET_ADMIN");
        _cleanup_free_ char *dropped = caps_string(na, two, false);
        ASSERT_STREQ(dropped, "13 DAC_OVERRIDE FSETID FOWNER NET_RAW SETGID SETUID SETFCAP SETPCAP"
                              " NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE NET_ADMIN");
        _cleanup_free_ char *most = caps_string(all, two, false);
        ASSERT_TRUE(startswith(most, "39 DAC_OVERRIDE"));
        _cleanup_free_ char *priv = caps_string(NULL, two, true);
        ASSERT_TRUE(startswith(priv, "41 CHOWN"));
        _cleanup_free_ char *err = caps_string(bad, NULL, false);
        ASSERT_STREQ(err, "error: unknown capability: \"FLY\"");
}

TEST(parsers)
{
        int64_t v = 0;
        ASSERT_OK(runtime_parse_bytes("64m", &v));
        ASSERT_EQ(v, 64 << 20);
        ASSERT_OK(runtime_parse_bytes("1g", &v));
        ASSERT_EQ(v, 1 << 30);
        ASSERT_OK(runtime_parse_bytes("512KB", &v));
        ASSERT_EQ(v, 512 << 10);
        ASSERT_OK(runtime_parse_bytes("1000", &v));
        ASSERT_EQ(v, 1000);
        ASSERT_ERR(runtime_parse_bytes("12q", &v), -EINVAL);
        ASSERT_ERR(runtime_parse_bytes("-1", &v), -EINVAL);
        ASSERT_OK(runtime_parse_cpus("1.5", &v));
        ASSERT_EQ(v, 1500000000);
        ASSERT_ERR(runtime_parse_cpus("0", &v), -EINVAL);
        int sig = 0;
        ASSERT_OK(runtime_signal_parse("SIGTERM", &sig));
        ASSERT_EQ(sig, SIGTERM);
        ASSERT_OK(runtime_signal_parse("kill", &sig));
        ASSERT_EQ(sig, SIGKILL);
        ASSERT_OK(runtime_signal_parse("10", &sig));
        ASSERT_EQ(sig, 10);
        ASSERT_ERR(runtime_signal_parse("SIGNOPE", &sig), -EINVAL);
        ASSERT_ERR(runtime_signal_parse("0", &sig), -EINVAL);
}

TEST(etc_files)
{
        _cleanup_free_ char *r1 = runtime_resolv_conf(false, "search example.com\n"
                                                             "nameserver 127.0.0.53\n"
                                                             "options edns0\n");
        ASSERT_STREQ(r1, "search example.com\noptions edns0\n\nnameserver 8.8.8.8\n"
                         "nameserver 8.8.4.4\n");
        _cleanup_free_ char *r2 = runtime_resolv_conf(false, "nameserver 10.0.0.1\n");
        ASSERT_STREQ(r2, "nameserver 10.0.0.1\n");
        _cleanup_free_ char *r3 = runtime_resolv_conf(true, "nameserver 127.0.0.53\n");
        ASSERT_STREQ(r3, "nameserver 127.0.0.53\n");
        _cleanup_free_ char *h = runtime_hosts_file(false, NULL);
        ASSERT_TRUE(startswith(h, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost"));
        _cleanup_free_ char *hh = runtime_hosts_file(true, "1.2.3.4 x\n");
        ASSERT_STREQ(hh, "1.2.3.4 x\n");
}

static const char *const ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* The spec of IMAGE + O with every capability and cgroup controller available unless
 * CGROUPS/BOUNDING say otherwise. */
static json_t *spec_of(const char *image, const struct runtime_options *o, unsigned cgroups,
                       uint64_t bounding, char ***warnings)
{
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_json_ json_t *c = merge(image, o, NULL, &e);
        if (!c) {
                printf("# merge: %s\n", st_error_msg(e));
                return NULL;
        }
        uint32_t gids[] = { 10, 20 };
        struct runtime_user u = {
                .uid = 1000, .gid = 100, .additional_gids = gids, .n_additional_gids = 2
        };
        struct runtime_spec_ctx ctx = {
                .id = ID,
                .rootfs = "merged",
                .user = &u,
                .hosts = "/c/hosts",
                .hostname = "/c/hostname",
                .resolv = "/c/resolv.conf",
                .volumes_dir = "/c/volumes",
                .host_hostname = "thehost",
                .cgroups = cgroups,
                .cap_bounding = bounding,
        };
        json_t *s = NULL;
        if (runtime_spec_build(c, &ctx, &s, warnings, &e) < 0)
                printf("# spec: %s\n", st_error_msg(e));
        return s;
}

static const json_t *find_mount(const json_t *spec, const char *dest)
{
        json_t *m;
        JSON_ARRAY_FOREACH(i, m, json_object_get(spec, "mounts"))
                if (streq_ptr(json_get_str(m, "destination"), dest))
                        return m;
        return NULL;
}

#define IMAGE                                                                        \
        "{\"Env\":[\"PATH=/bin\",\"A=1\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/app\"," \
        "\"Volumes\":{\"/data\":{},\"/covered\":{}},\"Labels\":{\"l\":\"v\"}}"

TEST(spec_defaults)
{
        char *binds[] = { "/host:/covered:ro", "/h2:/mnt/x", NULL };
        char *tmpfs[] = { "/run:size=1m", NULL };
        struct runtime_options o = { .image = "img", .binds = binds, .tmpfs = tmpfs, .tty = true };
        _cleanup_strv_ char **warnings = NULL;
        _cleanup_json_ json_t *s = spec_of(IMAGE, &o, ~0u, ~UINT64_C(0), &warnings);
        ASSERT_TRUE(s);
        ASSERT_TRUE(!warnings);
        json_t *p = json_object_get(s, "process");
        _cleanup_free_ char *args = dump(json_object_get(p, "args"));
        ASSERT_STREQ(args, "[\"sh\"]");
        _cleanup_free_ char *env = dump(json_object_get(p, "env"));
        ASSERT_STREQ(env, "[\"PATH=/bin\",\"HOSTNAME=0123456789ab\",\"TERM=xterm\",\"A=1\"]");
        ASSERT_STREQ(json_get_str(p, "cwd"), "/app");
        ASSERT_STREQ(json_get_str(s, "hostname"), "0123456789ab");
        ASSERT_TRUE(json_is_true(json_object_get(p, "terminal")));
        ASSERT_TRUE(!json_object_get(p, "rlimits"));
        _cleanup_free_ char *user = dump(json_object_get(p, "user"));
        ASSERT_STREQ(user, "{\"uid\":1000,\"gid\":100,\"additionalGids\":[10,20]}");
        ASSERT_EQ(json_array_size(json_object_get(json_object_get(p, "capabilities"), "bounding")),
                  14);
        json_t *lx = json_object_get(s, "linux");
        _cleanup_free_ char *ns = dump(json_object_get(lx, "namespaces"));
        ASSERT_STREQ(ns, "[{\"type\":\"mount\"},{\"type\":\"pid\"},{\"type\":\"ipc\"},"
                         "{\"type\":\"uts\"},{\"type\":\"network\"}]");
        ASSERT_EQ(json_array_size(json_object_get(lx, "maskedPaths")), 11);
        json_t *sc = json_object_get(lx, "seccomp");
        ASSERT_STREQ(json_get_str(sc, "defaultAction"), "SCMP_ACT_ERRNO");
        ASSERT_TRUE(json_array_size(json_object_get(sc, "syscalls")) > 10);
        ASSERT_TRUE(json_is_false(json_object_get(p, "noNewPrivileges")));
        ASSERT_TRUE(!json_object_get(lx, "devices"));
        ASSERT_EQ(json_array_size(json_object_get(lx, "readonlyPaths")), 5);
        ASSERT_STREQ(json_get_str(lx, "cgroupsPath"), "strata/0123456789ab"
                                                      "cdef0123456789abcdef0123456789abcdef"
                                                      "0123456789abcdef");
        /* mounts: Docker's defaults, then binds, tmpfs, volumes and /etc files by depth */
        _cleanup_free_ char *sys = dump(find_mount(s, "/sys"));
        ASSERT_STREQ(sys, "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
                          "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}");
        _cleanup_free_ char *ro = dump(find_mount(s, "/covered"));
        ASSERT_STREQ(ro, "{\"destination\":\"/covered\",\"type\":\"bind\",\"source\":\"/host\","
                         "\"options\":[\"rbind\",\"rprivate\",\"ro\"]}");
        _cleanup_free_ char *tm = dump(find_mount(s, "/run"));
        ASSERT_STREQ(tm, "{\"destination\":\"/run\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
                         "\"options\":[\"noexec\",\"nosuid\",\"nodev\",\"size=1m\"]}");
        _cleanup_free_ char *vname = runtime_volume_name("/data");
        _cleanup_free_ char *vsrc = xasprintf("/c/volumes/%s", vname);
        ASSERT_STREQ(json_get_str(find_mount(s, "/data"), "source"), vsrc);
        ASSERT_STREQ(json_get_str(find_mount(s, "/etc/hosts"), "source"), "/c/hosts");
        ASSERT_TRUE(find_mount(s, "/dev/shm") && find_mount(s, "/dev/mqueue") &&
                    find_mount(s, "/dev/pts") && find_mount(s, "/sys/fs/cgroup"));
        /* depth order among user mounts: /mnt/x after every one-component mount */
        json_t *ms = json_object_get(s, "mounts");
        const char *last = json_get_str(json_array_get(ms, json_array_size(ms) - 1), "destination");
        ASSERT_TRUE(streq(last, "/mnt/x") || startswith(last, "/etc/"));
        _cleanup_strv_ char **vols = NULL;
        _cleanup_json_ json_t *c = merge(IMAGE, &o, NULL, NULL);
        vols = runtime_volumes(c);
        ASSERT_EQ(strv_length(vols), 1);
        ASSERT_STREQ(vols[0], "/data");
}

TEST(spec_host_options)
{
        char *add[] = { "SYS_ADMIN", "SYS_RESOURCE", NULL };
        char *ul[] = { "nofile=100:200", NULL };
        char *bind_dev[] = { "/x:/dev/shm", NULL };
        struct runtime_options o = {
                .network = "host",
                .read_only = true,
                .cap_add = add,
                .ulimits = ul,
                .memory = 1 << 20,
                .nano_cpus = 500000000,
                .pids_limit = 10,
                .binds = bind_dev,
                .user = "ignored-here",
        };
        _cleanup_strv_ char **warnings = NULL;
        uint64_t no_sys_resource = ~(UINT64_C(1) << 24);
        _cleanup_json_ json_t *s =
                spec_of(IMAGE, &o, RUNTIME_CGROUP_PIDS, no_sys_resource, &warnings);
        ASSERT_TRUE(s);
        ASSERT_STREQ(json_get_str(s, "hostname"), "thehost");
        ASSERT_TRUE(json_is_true(json_object_get(json_object_get(s, "root"), "readonly")));
        json_t *lx = json_object_get(s, "linux");
        ASSERT_EQ(json_array_size(json_object_get(lx, "namespaces")), 4);
        _cleanup_free_ char *res = dump(json_object_get(lx, "resources"));
        ASSERT_STREQ(res, "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],"
                          "\"pids\":{\"limit\":10}}");
        ASSERT_EQ(strv_length(warnings), 3);
        ASSERT_STREQ(warnings[0], "strata itself lacks CAP_SYS_RESOURCE, ignoring --cap-add"
                                  " CAP_SYS_RESOURCE");
        ASSERT_STREQ(warnings[1], "the memory cgroup controller is not available here, ignoring"
                                  " --memory");
        json_t *p = json_object_get(s, "process");
        _cleanup_free_ char *rl = dump(json_object_get(p, "rlimits"));
        ASSERT_STREQ(rl, "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":100,\"hard\":200}]");
        ASSERT_EQ(json_array_size(json_object_get(json_object_get(p, "capabilities"), "bounding")),
                  15);
        /* a bind on /dev/shm replaces the default shm tmpfs */
        ASSERT_STREQ(json_get_str(find_mount(s, "/dev/shm"), "type"), "bind");
        size_t n_shm = 0;
        json_t *m;
        JSON_ARRAY_FOREACH(i, m, json_object_get(s, "mounts"))
                n_shm += streq_ptr(json_get_str(m, "destination"), "/dev/shm");
        ASSERT_EQ(n_shm, 1);
}

TEST(spec_privileged)
{
        struct runtime_options o = { .privileged = true };
        _cleanup_json_ json_t *s = spec_of("{\"Cmd\":[\"sh\"]}", &o, ~0u, ~UINT64_C(0), NULL);
        ASSERT_TRUE(s);
        json_t *lx = json_object_get(s, "linux");
        ASSERT_TRUE(!json_object_get(lx, "maskedPaths"));
        ASSERT_TRUE(!json_object_get(lx, "readonlyPaths"));
        ASSERT_EQ(json_array_size(json_object_get(
                          json_object_get(json_object_get(s, "process"), "capabilities"),
                          "bounding")),
                  41);
        _cleanup_free_ char *dev =
                dump(json_object_get(json_object_get(lx, "resources"), "devices"));
        ASSERT_STREQ(dev, "[{\"allow\":true,\"access\":\"rwm\"}]");
        _cleanup_free_ char *sys = dump(json_object_get(find_mount(s, "/sys"), "options"));
        ASSERT_STREQ(sys, "[\"nosuid\",\"noexec\",\"nodev\"]");
        ASSERT_TRUE(!json_object_get(lx, "seccomp"));
        /* an explicit profile still applies to a privileged container, as in Docker */
        char *sec[] = { "seccomp={\"defaultAction\":\"SCMP_ACT_LOG\"}", NULL };
        struct runtime_options op = { .privileged = true, .security_opt = sec };
        _cleanup_json_ json_t *sp = spec_of("{\"Cmd\":[\"sh\"]}", &op, ~0u, ~UINT64_C(0), NULL);
        _cleanup_free_ char *f = dump(json_object_get(json_object_get(sp, "linux"), "seccomp"));
        ASSERT_STREQ(f, "{\"defaultAction\":\"SCMP_ACT_LOG\",\"architectures\":[],"
                        "\"syscalls\":[]}");
}

TEST(spec_security_opts)
{
        char *sec[] = { "no-new-privileges", "seccomp=unconfined", "systempaths=unconfined", NULL };
        struct runtime_options o = { .security_opt = sec };
        _cleanup_json_ json_t *s = spec_of("{\"Cmd\":[\"sh\"]}", &o, ~0u, ~UINT64_C(0), NULL);
        ASSERT_TRUE(s);
        json_t *lx = json_object_get(s, "linux");
        ASSERT_TRUE(!json_object_get(lx, "seccomp"));
        ASSERT_TRUE(!json_object_get(lx, "maskedPaths") && !json_object_get(lx, "readonlyPaths"));
        ASSERT_TRUE(
                json_is_true(json_object_get(json_object_get(s, "process"), "noNewPrivileges")));
        /* --cap-add SYS_ADMIN opens the syscalls Docker gates on it */
        char *add[] = { "sys_admin", NULL };
        struct runtime_options oa = { .cap_add = add };
        _cleanup_json_ json_t *sa = spec_of("{\"Cmd\":[\"sh\"]}", &oa, ~0u, ~UINT64_C(0), NULL);
        _cleanup_free_ char *txt = dump(json_object_get(json_object_get(sa, "linux"), "seccomp"));
        ASSERT_TRUE(strstr(txt, "\"mount\""));
        _cleanup_error_ struct st_error *e = NULL;
        char *bad[] = { "seccomp=/not/json", NULL };
        struct runtime_options ob = { .security_opt = bad };
        _cleanup_json_ json_t *c = merge("{\"Cmd\":[\"sh\"]}", &ob, NULL, &e);
        ASSERT_TRUE(!c);
        ASSERT_ERR(st_error_code(e), ST_E_PARSE);
}
