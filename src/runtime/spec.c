/* Start time: the container configuration and the machine's facts into an OCI runtime spec. */
#include "runtime/spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "basic/util.h"
#include "digest/digest.h"
#include "json/json.h"
#include "runtime/runtime-internal.h"
#include "runtime/seccomp.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CPU_PERIOD   100000

/* Indexed by capability number (linux/capability.h). */
static const char *const all_caps[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

/* Docker's default set (oci/caps/defaults.go). */
static const char *const default_caps[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
        "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
        "CAP_KILL",    "CAP_AUDIT_WRITE",
};

static const char *const masked_paths[] = {
        "/proc/asound",
        "/proc/acpi",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
        "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static int cap_index(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(all_caps); i++)
                if (streq(all_caps[i], name))
                        return (int)i;
        return -1;
}

/* "net_admin" -> "CAP_NET_ADMIN"; "all" -> "ALL"; NULL if unknown. */
static char *cap_normalize(const char *s)
{
        _cleanup_free_ char *up = xstrdup(s);
        for (char *p = up; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        if (streq(up, "ALL"))
                return TAKE_PTR(up);
        char *full = startswith(up, "CAP_") ? TAKE_PTR(up) : xasprintf("CAP_%s", up);
        if (cap_index(full) < 0)
                return mfree_str(full);
        return full;
}

static int cap_list_normalize(char *const *in, char ***ret, struct st_error **err)
{
        _cleanup_strv_ char **out = NULL;
        STRV_FOREACH(c, (char **)in) {
                char *n = cap_normalize(*c);
                if (!n)
                        return st_error_set(err, ST_E_USAGE, "unknown capability: \"%s\"", *c);
                if (strv_contains(out, n))
                        free(n);
                else
                        strv_consume(&out, n);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

int runtime_caps(char *const *add, char *const *drop, bool privileged, char ***ret,
                 struct st_error **err)
{
        _cleanup_strv_ char **a = NULL, **d = NULL, **caps = NULL;
        int r = cap_list_normalize(add, &a, err);
        if (r >= 0)
                r = cap_list_normalize(drop, &d, err);
        if (r < 0)
                return r;
        if (privileged || strv_contains(a, "ALL")) {
                for (size_t i = 0; i < ELEMENTSOF(all_caps); i++)
                        if (privileged || !strv_contains(d, all_caps[i]))
                                strv_push(&caps, all_caps[i]);
        } else {
                if (!strv_contains(d, "ALL"))
                        for (size_t i = 0; i < ELEMENTSOF(default_caps); i++)
                                if (!strv_contains(d, default_caps[i]))
                                        strv_push(&caps, default_caps[i]);
                STRV_FOREACH(c, a)
                        if (!strv_contains(caps, *c))
                                strv_push(&caps, *c);
        }
        *ret = TAKE_PTR(caps);
        return 0;
}

/* ----- files under /etc ----- */

char *runtime_hosts_file(bool host_network, const char *host_hosts)
{
        if (host_network && host_hosts)
                return xstrdup(host_hosts);
        return xstrdup("127.0.0.1\tlocalhost\n"
                       "::1\tlocalhost ip6-localhost ip6-loopback\n"
                       "fe00::0\tip6-localnet\n"
                       "ff00::0\tip6-mcastprefix\n"
                       "ff02::1\tip6-allnodes\n"
                       "ff02::2\tip6-allrouters\n");
}

static bool is_localhost_nameserver(const char *line)
{
        const char *p = startswith(line, "nameserver");
        if (!p || !isspace((unsigned char)*p))
                return false;
        while (isspace((unsigned char)*p))
                p++;
        return startswith(p, "127.") || startswith(p, "::1") || startswith(p, "0:0:0:0:0:0:0:1");
}

char *runtime_resolv_conf(bool host_network, const char *host_resolv)
{
        if (host_network)
                return xstrdup(host_resolv ? host_resolv : "");
        _cleanup_free_ char *out = xstrdup("");
        bool any_ns = false;
        for (const char *p = host_resolv; p && *p;) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = xstrndup(p, n);
                p += n + (p[n] == '\n');
                if (is_localhost_nameserver(line))
                        continue;
                any_ns = any_ns || startswith(line, "nameserver");
                char *o = xasprintf("%s%s\n", out, line);
                free(out);
                out = o;
        }
        if (!any_ns) {
                char *o = xasprintf("%s\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n", out);
                free(out);
                out = o;
        }
        return TAKE_PTR(out);
}

/* ----- mounts ----- */

static json_t *mount_new(const char *dest, const char *type, const char *source,
                         const char *options)
{
        json_t *opts = json_array();
        for (const char *p = options; p && *p;) {
                size_t n = strcspn(p, ",");
                if (n) {
                        _cleanup_free_ char *o = xstrndup(p, n);
                        json_array_append_new(opts, json_string(o));
                }
                p += n + (p[n] == ',');
        }
        return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source",
                         source, "options", opts);
}

static size_t path_depth(const char *p)
{
        size_t n = 0;
        for (; *p; p++)
                if (*p == '/' && p[1] && p[1] != '/')
                        n++;
        return n;
}

/* Append M to the user mounts U, keeping them sorted by depth (parents first), stable. */
static void user_mount_add(json_t *u, json_t *m)
{
        size_t d = path_depth(json_get_str(m, "destination"));
        size_t i = json_array_size(u);
        while (i > 0 && path_depth(json_get_str(json_array_get(u, i - 1), "destination")) > d)
                i--;
        json_array_insert_new(u, i, m);
}

static bool has_dest(const json_t *mounts, const char *dest)
{
        json_t *m;
        JSON_ARRAY_FOREACH(i, m, (json_t *)mounts)
                if (streq_ptr(json_get_str(m, "destination"), dest))
                        return true;
        return false;
}

static json_t *bind_mount(const char *spec)
{
        _cleanup_strv_ char **parts = NULL;
        for (const char *p = spec;;) {
                size_t n = strcspn(p, ":");
                strv_consume(&parts, xstrndup(p, n));
                if (!p[n])
                        break;
                p += n + 1;
        }
        bool ro = parts[1] && parts[2] && strstr(parts[2], "ro");
        return mount_new(parts[1], "bind", parts[0], ro ? "rbind,rprivate,ro" : "rbind,rprivate");
}

static json_t *user_mounts(const json_t *container, const struct runtime_spec_ctx *ctx)
{
        json_t *host = json_object_get(container, "HostConfig");
        json_t *u = json_array();
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, json_object_get(host, "Binds"))
                if (json_is_string(v))
                        user_mount_add(u, bind_mount(json_string_value(v)));
        const char *dest;
        json_object_foreach(json_object_get(host, "Tmpfs"), dest, v)
        {
                const char *o = json_string_value(v);
                _cleanup_free_ char *opts =
                        xasprintf("noexec,nosuid,nodev%s%s", o && *o ? "," : "", o ? o : "");
                user_mount_add(u, mount_new(dest, "tmpfs", "tmpfs", opts));
        }
        _cleanup_strv_ char **vols = runtime_volumes(container);
        STRV_FOREACH(d, vols) {
                _cleanup_free_ char *name = runtime_volume_name(*d);
                _cleanup_free_ char *src = xasprintf("%s/%s", ctx->volumes_dir, name);
                user_mount_add(u, mount_new(*d, "bind", src, "rbind,rprivate"));
        }
        const char *etc[][2] = {
                { "/etc/resolv.conf", ctx->resolv },
                { "/etc/hostname", ctx->hostname },
                { "/etc/hosts", ctx->hosts },
        };
        for (size_t i = 0; i < ELEMENTSOF(etc); i++)
                if (etc[i][1] && !has_dest(u, etc[i][0]))
                        user_mount_add(u,
                                       mount_new(etc[i][0], "bind", etc[i][1], "rbind,rprivate"));
        return u;
}

static json_t *mounts(const json_t *container, const struct runtime_spec_ctx *ctx)
{
        bool priv = json_is_true(
                json_object_get(json_object_get(container, "HostConfig"), "Privileged"));
        const char *defaults[][4] = {
                { "/proc", "proc", "proc", "nosuid,noexec,nodev" },
                { "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k" },
                { "/dev/pts", "devpts", "devpts",
                  "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5" },
                { "/sys", "sysfs", "sysfs",
                  priv ? "nosuid,noexec,nodev" : "nosuid,noexec,nodev,ro" },
                { "/sys/fs/cgroup", "cgroup", "cgroup",
                  priv ? "nosuid,noexec,nodev" : "ro,nosuid,noexec,nodev" },
                { "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev" },
                { "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=67108864" },
        };
        json_t *u = user_mounts(container, ctx);
        bool user_dev = has_dest(u, "/dev");
        json_t *all = json_array();
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++) {
                if (has_dest(u, defaults[i][0]) ||
                    (user_dev && startswith(defaults[i][0], "/dev/")))
                        continue;
                json_array_append_new(all, mount_new(defaults[i][0], defaults[i][1], defaults[i][2],
                                                     defaults[i][3]));
        }
        json_array_extend(all, u);
        json_decref(u);
        return all;
}

char **runtime_volumes(const json_t *container)
{
        json_t *host = json_object_get(container, "HostConfig");
        json_t *binds = json_object_get(host, "Binds"), *tmpfs = json_object_get(host, "Tmpfs");
        _cleanup_strv_ char **covered = NULL;
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, binds) {
                const char *b = json_string_value(v);
                const char *c = b ? strchr(b, ':') : NULL;
                if (c)
                        strv_consume(&covered, xstrndup(c + 1, strcspn(c + 1, ":")));
        }
        char **out = NULL;
        const char *dest;
        json_object_foreach(json_object_get(json_object_get(container, "Config"), "Volumes"), dest,
                            v) if (!strv_contains(covered, dest) && !json_object_get(tmpfs, dest))
                strv_push(&out, dest);
        size_t n = strv_length(out);
        if (n > 1)
                qsort(out, n, sizeof(char *), runtime_strcmp_ptr);
        return out;
}

char *runtime_volume_name(const char *dest)
{
        char d[DIGEST_STR_LEN + 1];
        digest_buf(dest, strlen(dest), d);
        return xstrndup(digest_hex(d), 24);
}

/* ----- process ----- */

static json_t *process_env(const json_t *cfg, const char *hostname)
{
        _cleanup_strv_ char **env = NULL;
        strv_consume(&env, xasprintf("PATH=%s", DEFAULT_PATH));
        strv_consume(&env, xasprintf("HOSTNAME=%s", hostname));
        if (json_is_true(json_object_get(cfg, "Tty")))
                strv_push(&env, "TERM=xterm");
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, json_object_get(cfg, "Env"))
                if (json_is_string(v))
                        runtime_env_set(&env, json_string_value(v));
        return runtime_strv_to_json(env);
}

static json_t *caps_json(char **caps)
{
        return json_pack("{s:o, s:o, s:o}", "bounding", runtime_strv_to_json(caps), "effective",
                         runtime_strv_to_json(caps), "permitted", runtime_strv_to_json(caps));
}

json_t *runtime_caps_all_json(uint64_t bounding)
{
        _cleanup_strv_ char **caps = NULL;
        for (size_t i = 0; i < ELEMENTSOF(all_caps) && i < 64; i++)
                if (bounding & (UINT64_C(1) << i))
                        strv_push(&caps, all_caps[i]);
        return caps_json(caps);
}

/* The capability set, without what strata itself lacks (warning about the ones asked for). */
static int capabilities(const json_t *host, const struct runtime_spec_ctx *ctx, json_t **ret,
                        char ***warnings, struct st_error **err)
{
        _cleanup_strv_ char **add = runtime_json_to_strv(json_object_get(host, "CapAdd"));
        _cleanup_strv_ char **drop = runtime_json_to_strv(json_object_get(host, "CapDrop"));
        _cleanup_strv_ char **caps = NULL, **kept = NULL;
        bool priv = json_is_true(json_object_get(host, "Privileged"));
        int r = runtime_caps(add, drop, priv, &caps, err);
        if (r < 0)
                return r;
        STRV_FOREACH(c, caps) {
                int i = cap_index(*c);
                if (i >= 0 && i < 64 && (ctx->cap_bounding & (UINT64_C(1) << i))) {
                        strv_push(&kept, *c);
                        continue;
                }
                bool asked = false;
                STRV_FOREACH(a, add) {
                        _cleanup_free_ char *n = cap_normalize(*a);
                        asked = asked || streq_ptr(n, *c);
                }
                if (asked)
                        strv_consume(warnings, xasprintf("strata itself lacks %s, ignoring"
                                                         " --cap-add %s",
                                                         *c, *c));
        }
        *ret = caps_json(kept);
        return 0;
}

static json_t *rlimits(const json_t *host)
{
        json_t *ul = json_object_get(host, "Ulimits");
        if (!json_array_size(ul))
                return NULL;
        json_t *out = json_array();
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, ul) {
                _cleanup_free_ char *type = xasprintf("RLIMIT_%s", json_get_str(v, "Name"));
                for (char *p = type; *p; p++)
                        *p = (char)toupper((unsigned char)*p);
                json_array_append_new(
                        out, json_pack("{s:s, s:I, s:I}", "type", type, "soft",
                                       json_integer_value(json_object_get(v, "Soft")), "hard",
                                       json_integer_value(json_object_get(v, "Hard"))));
        }
        return out;
}

static json_t *user_json(const struct runtime_user *u)
{
        json_t *j = json_pack("{s:I, s:I}", "uid", (json_int_t)u->uid, "gid", (json_int_t)u->gid);
        if (u->n_additional_gids) {
                json_t *g = json_array();
                for (size_t i = 0; i < u->n_additional_gids; i++)
                        json_array_append_new(g, json_integer(u->additional_gids[i]));
                json_object_set_new(j, "additionalGids", g);
        }
        return j;
}

static int process(const json_t *container, const struct runtime_spec_ctx *ctx,
                   const struct runtime_security *sec, const char *hostname, json_t **ret,
                   char ***warnings, struct st_error **err)
{
        json_t *cfg = json_object_get(container, "Config");
        json_t *host = json_object_get(container, "HostConfig");
        json_t *args = json_array();
        json_array_append_new(args, json_string(json_get_str(container, "Path")));
        json_array_extend(args, json_object_get(container, "Args"));
        const char *wd = json_get_str(cfg, "WorkingDir");
        _cleanup_json_ json_t *caps = NULL;
        int r = capabilities(host, ctx, &caps, warnings, err);
        if (r < 0) {
                json_decref(args);
                return r;
        }
        static const struct runtime_user root = { 0 };
        json_t *p = json_pack("{s:b, s:o, s:o, s:o, s:s, s:O, s:b}", "terminal",
                              json_is_true(json_object_get(cfg, "Tty")), "user",
                              user_json(ctx->user ? ctx->user : &root), "args", args, "env",
                              process_env(cfg, hostname), "cwd", wd && *wd ? wd : "/",
                              "capabilities", caps, "noNewPrivileges", sec->no_new_privileges);
        json_t *rl = rlimits(host);
        if (rl)
                json_object_set_new(p, "rlimits", rl);
        *ret = p;
        return 0;
}

/* ----- linux ----- */

static void resource(json_t *res, const char *what, unsigned needed, const char *flag,
                     json_t *value, const struct runtime_spec_ctx *ctx, char ***warnings)
{
        if (ctx->cgroups & needed) {
                json_object_set_new(res, what, value);
                return;
        }
        json_decref(value);
        strv_consume(warnings, xasprintf("the %s cgroup controller is not available here,"
                                         " ignoring %s",
                                         what, flag));
}

static json_t *resources(const json_t *host, const struct runtime_spec_ctx *ctx, char ***warnings)
{
        bool priv = json_is_true(json_object_get(host, "Privileged"));
        json_t *res = json_pack("{s:[{s:b, s:s}]}", "devices", "allow", priv, "access", "rwm");
        json_int_t mem = json_integer_value(json_object_get(host, "Memory"));
        json_int_t cpus = json_integer_value(json_object_get(host, "NanoCpus"));
        json_int_t pids = json_integer_value(json_object_get(host, "PidsLimit"));
        if (mem > 0)
                resource(res, "memory", RUNTIME_CGROUP_MEMORY, "--memory",
                         json_pack("{s:I}", "limit", mem), ctx, warnings);
        if (cpus > 0)
                resource(res, "cpu", RUNTIME_CGROUP_CPU, "--cpus",
                         json_pack("{s:I, s:I}", "quota", cpus * CPU_PERIOD / 1000000000, "period",
                                   (json_int_t)CPU_PERIOD),
                         ctx, warnings);
        if (pids != 0)
                resource(res, "pids", RUNTIME_CGROUP_PIDS, "--pids-limit",
                         json_pack("{s:I}", "limit", pids), ctx, warnings);
        return res;
}

static json_t *strings_json(const char *const *l, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, json_string(l[i]));
        return a;
}

/* linux.seccomp: SEC's profile, else the default one unless privileged or unconfined; resolved
 * for the bounding set of PROC. */
static int seccomp(const struct runtime_security *sec, bool priv, const json_t *proc,
                   const struct runtime_spec_ctx *ctx, json_t **ret, struct st_error **err)
{
        *ret = NULL;
        if (sec->seccomp_unconfined || (priv && !sec->seccomp_profile))
                return 0;
        const char *text = sec->seccomp_profile ?: runtime_seccomp_default_json;
        _cleanup_json_ json_t *profile = NULL;
        int r = runtime_seccomp_parse(text, strlen(text), &profile, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **caps = runtime_json_to_strv(
                json_object_get(json_object_get(proc, "capabilities"), "bounding"));
        r = runtime_seccomp_resolve(profile, runtime_seccomp_native_arch(), caps, ctx->kernel, ret,
                                    err);
        /* A kernel without x32 fails those calls anyway (ENOSYS); each architecture in the
         * filter costs runc ~8 ms to compile at every start. */
        if (r >= 0 && *ret && ctx->no_x32)
                runtime_seccomp_drop_arch(*ret, "SCMP_ARCH_X32");
        return r;
}

static int linux_section(const json_t *container, const struct runtime_spec_ctx *ctx,
                         const struct runtime_security *sec, const json_t *proc, json_t **ret,
                         char ***warnings, struct st_error **err)
{
        json_t *host = json_object_get(container, "HostConfig");
        bool priv = json_is_true(json_object_get(host, "Privileged"));
        bool host_net = streq_ptr(json_get_str(host, "NetworkMode"), "host");
        _cleanup_json_ json_t *filter = NULL;
        int r = seccomp(sec, priv, proc, ctx, &filter, err);
        if (r < 0)
                return r;
        json_t *ns = json_pack("[{s:s}, {s:s}, {s:s}, {s:s}]", "type", "mount", "type", "pid",
                               "type", "ipc", "type", "uts");
        if (!host_net)
                json_array_append_new(ns, json_pack("{s:s}", "type", "network"));
        _cleanup_free_ char *cg = xasprintf("strata/%s", ctx->id);
        json_t *l = json_pack("{s:o, s:o, s:s}", "namespaces", ns, "resources",
                              resources(host, ctx, warnings), "cgroupsPath", cg);
        if (!priv && !sec->systempaths_unconfined) {
                json_object_set_new(l, "maskedPaths",
                                    strings_json(masked_paths, ELEMENTSOF(masked_paths)));
                json_object_set_new(l, "readonlyPaths",
                                    strings_json(readonly_paths, ELEMENTSOF(readonly_paths)));
        }
        if (filter)
                json_object_set(l, "seccomp", filter);
        if (priv && json_array_size(ctx->host_devices))
                json_object_set_new(l, "devices", json_deep_copy(ctx->host_devices));
        *ret = l;
        return 0;
}

char *runtime_hostname(const json_t *container, const char *id, const char *host_hostname)
{
        const char *h = json_get_str(json_object_get(container, "Config"), "Hostname");
        if (h && *h)
                return xstrdup(h);
        const char *net = json_get_str(json_object_get(container, "HostConfig"), "NetworkMode");
        if (streq_ptr(net, "host") && host_hostname)
                return xstrdup(host_hostname);
        return xstrndup(id, 12);
}

int runtime_spec_build(const json_t *container, const struct runtime_spec_ctx *ctx, json_t **ret,
                       char ***ret_warnings, struct st_error **err)
{
        json_t *cfg = json_object_get(container, "Config");
        json_t *host = json_object_get(container, "HostConfig");
        if (!json_is_object(cfg) || !json_is_object(host) || !json_get_str(container, "Path"))
                return st_error_set(err, ST_E_CORRUPT, "container configuration is incomplete");
        _cleanup_free_ char *hostname = runtime_hostname(container, ctx->id, ctx->host_hostname);
        _cleanup_strv_ char **warnings = NULL, **opts = NULL;
        _cleanup_json_ json_t *proc = NULL, *lx = NULL;
        struct runtime_security sec;
        opts = runtime_json_to_strv(json_object_get(host, "SecurityOpt"));
        int r = runtime_security_parse(opts, &sec, err);
        if (r >= 0)
                r = process(container, ctx, &sec, hostname, &proc, &warnings, err);
        if (r >= 0)
                r = linux_section(container, ctx, &sec, proc, &lx, &warnings, err);
        if (r < 0)
                return r;
        json_t *spec = json_pack("{s:s, s:O, s:{s:s, s:b}, s:s, s:o, s:O}", "ociVersion", "1.0.2",
                                 "process", proc, "root", "path", ctx->rootfs, "readonly",
                                 json_is_true(json_object_get(host, "ReadonlyRootfs")), "hostname",
                                 hostname, "mounts", mounts(container, ctx), "linux", lx);
        *ret = spec;
        if (ret_warnings)
                *ret_warnings = TAKE_PTR(warnings);
        return 0;
}
