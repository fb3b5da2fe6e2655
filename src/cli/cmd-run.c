/* strata run, strata create, and the hidden container monitor verb. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "json/json.h"
#include "runtime/container.h"
#include "runtime/seccomp.h"

#define ENV_FILE_MAX (1024 * 1024)

/* The flags of run and create as given. */
struct run_args {
        bool rm, detach, interactive, tty, read_only, privileged;
        const char *name, *workdir, *user, *entrypoint, *hostname, *network, *runtime;
        const char *memory, *cpus, *pids_limit, *pull;
        char **env, **env_files, **volumes, **tmpfs, **cap_add, **cap_drop, **ulimits;
        char **security_opt;
};

enum flag_kind { FLAG_BOOL, FLAG_STR, FLAG_STRV };

struct run_flag {
        const char *name;
        int val; /* the short option, or a value >= 0x100 */
        enum flag_kind kind;
        size_t off;
        bool run_only;
};

#define F(n, v, k, field)                                        \
        {                                                        \
                n, v, k, offsetof(struct run_args, field), false \
        }
static const struct run_flag run_flags[] = {
        F("name", 0x100, FLAG_STR, name),
        F("env", 'e', FLAG_STRV, env),
        F("env-file", 0x101, FLAG_STRV, env_files),
        F("workdir", 'w', FLAG_STR, workdir),
        F("user", 'u', FLAG_STR, user),
        F("entrypoint", 0x102, FLAG_STR, entrypoint),
        F("hostname", 'h', FLAG_STR, hostname),
        F("network", 0x103, FLAG_STR, network),
        F("net", 0x104, FLAG_STR, network),
        F("volume", 'v', FLAG_STRV, volumes),
        F("tmpfs", 0x105, FLAG_STRV, tmpfs),
        F("read-only", 0x106, FLAG_BOOL, read_only),
        F("privileged", 0x107, FLAG_BOOL, privileged),
        F("cap-add", 0x108, FLAG_STRV, cap_add),
        F("cap-drop", 0x109, FLAG_STRV, cap_drop),
        F("memory", 'm', FLAG_STR, memory),
        F("cpus", 0x10a, FLAG_STR, cpus),
        F("pids-limit", 0x10b, FLAG_STR, pids_limit),
        F("ulimit", 0x10c, FLAG_STRV, ulimits),
        F("runtime", 0x10d, FLAG_STR, runtime),
        F("pull", 0x10f, FLAG_STR, pull),
        F("security-opt", 0x110, FLAG_STRV, security_opt),
        F("rm", 0x10e, FLAG_BOOL, rm),
        F("interactive", 'i', FLAG_BOOL, interactive),
        F("tty", 't', FLAG_BOOL, tty),
        { "detach", 'd', FLAG_BOOL, offsetof(struct run_args, detach), true },
};
#undef F

static void run_args_release(struct run_args *a)
{
        strv_free(a->env);
        strv_free(a->env_files);
        strv_free(a->volumes);
        strv_free(a->tmpfs);
        strv_free(a->cap_add);
        strv_free(a->cap_drop);
        strv_free(a->ulimits);
        strv_free(a->security_opt);
}

static void flag_apply(const struct run_flag *f, struct run_args *a, const char *arg)
{
        char *field = (char *)a + f->off;
        if (f->kind == FLAG_BOOL)
                *(bool *)field = true;
        else if (f->kind == FLAG_STR)
                *(const char **)field = arg;
        else
                strv_push((char ***)field, arg);
}

/* Parse the flags of VERB ("run" or "create") up to the image into A and *ret_index. False if
 * the verb is done (--help, usage error) with *ret_exit its exit code. */
static bool parse_run_flags(const char *verb, int argc, char **argv, struct run_args *a,
                            int *ret_index, int *ret_exit)
{
        struct option opts[ELEMENTSOF(run_flags) + 2];
        char shorts[64] = "+";
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(run_flags); i++) {
                const struct run_flag *f = &run_flags[i];
                if (f->run_only && !streq(verb, "run"))
                        continue;
                int has = f->kind == FLAG_BOOL ? no_argument : required_argument;
                opts[n++] = (struct option){ f->name, has, NULL, f->val };
                if (f->val < 0x100) {
                        size_t l = strlen(shorts);
                        shorts[l] = (char)f->val;
                        shorts[l + 1] = has == required_argument ? ':' : 0;
                        shorts[l + 2] = 0;
                }
        }
        opts[n++] = (struct option){ "help", no_argument, NULL, 0x1ff };
        opts[n] = (struct option){ 0 };
        int o;
        while ((o = getopt_long(argc, argv, shorts, opts, NULL)) >= 0) {
                const struct run_flag *f = NULL;
                for (size_t i = 0; i < ELEMENTSOF(run_flags) && !f; i++)
                        if (run_flags[i].val == o)
                                f = &run_flags[i];
                if (o == 0x1ff) {
                        *ret_exit = cli_help_flags(verb, shorts, opts);
                        return false;
                }
                if (!f) {
                        *ret_exit = cli_usage_error(verb, "invalid option");
                        return false;
                }
                flag_apply(f, a, optarg);
        }
        if (optind >= argc) {
                *ret_exit = cli_usage_error(verb, "\"%s\" requires at least 1 argument", verb);
                return false;
        }
        *ret_index = optind;
        return true;
}

static int read_env_files(char **files, char ***env, struct st_error **err)
{
        extern char **environ;
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                int r = read_full_file_at(AT_FDCWD, *f, ENV_FILE_MAX, &text, &len);
                if (r < 0)
                        return st_error_set_errno(err, r, "open %s", *f);
                r = runtime_env_file_parse(text, environ, env, err);
                if (r < 0)
                        return st_error_wrap(err, "%s", *f);
        }
        return 0;
}

/* --security-opt as Docker's CLI passes them on: "seccomp=PATH" becomes "seccomp=<the file's
 * JSON, compact>" (checked when the container is created). */
static int read_security_opts(char **opts, char ***ret, struct st_error **err)
{
        STRV_FOREACH(o, opts) {
                const char *path = startswith(*o, "seccomp=") ?: startswith(*o, "seccomp:");
                if (!path || streq(path, "unconfined") || streq(path, "builtin")) {
                        strv_push(ret, *o);
                        continue;
                }
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                int r = read_full_file_at(AT_FDCWD, path, RUNTIME_SECCOMP_PROFILE_MAX, &text, &len);
                if (r < 0)
                        return st_error_set_errno(err, r, "open seccomp profile '%s'", path);
                _cleanup_json_ json_t *j = NULL;
                r = runtime_seccomp_parse(text, len, &j, err);
                if (r < 0)
                        return st_error_wrap(err, "%s", path);
                _cleanup_free_ char *compact = json_dump_compact(j);
                strv_consume(ret, xasprintf("seccomp=%s", compact));
        }
        return 0;
}

/* The runtime options of A, with IMAGE and CMD. *env_out and *sec_out hold the strings O->env
 * and O->security_opt point to. */
static int make_options(const struct run_args *a, char *image, char **cmd,
                        struct runtime_options *o, char ***env_out, char ***sec_out,
                        struct st_error **err)
{
        int r = read_env_files(a->env_files, env_out, err);
        if (r >= 0)
                r = read_security_opts(a->security_opt, sec_out, err);
        if (r < 0)
                return r;
        STRV_FOREACH(e, a->env)
                strv_push(env_out, *e);
        *o = (struct runtime_options){
                .image = image,
                .cmd = cmd && cmd[0] ? cmd : NULL,
                .entrypoint = a->entrypoint,
                .env = *env_out,
                .workdir = a->workdir,
                .user = a->user,
                .hostname = a->hostname,
                .tty = a->tty,
                .interactive = a->interactive,
                .network = a->network,
                .binds = a->volumes,
                .tmpfs = a->tmpfs,
                .read_only = a->read_only,
                .privileged = a->privileged,
                .auto_remove = a->rm,
                .cap_add = a->cap_add,
                .cap_drop = a->cap_drop,
                .security_opt = *sec_out,
                .ulimits = a->ulimits,
                .runtime = a->runtime,
        };
        if (a->memory && runtime_parse_bytes(a->memory, &o->memory) < 0)
                return st_error_set(err, ST_E_USAGE, "invalid argument \"%s\" for \"-m, --memory\"",
                                    a->memory);
        if (a->cpus && runtime_parse_cpus(a->cpus, &o->nano_cpus) < 0)
                return st_error_set(err, ST_E_USAGE, "invalid argument \"%s\" for \"--cpus\"",
                                    a->cpus);
        uint64_t pids;
        if (a->pids_limit) {
                if (parse_u64(a->pids_limit, &pids) < 0 || pids > INT64_MAX)
                        return st_error_set(err, ST_E_USAGE,
                                            "invalid argument \"%s\" for \"--pids-limit\"",
                                            a->pids_limit);
                o->pids_limit = (int64_t)pids;
        }
        return 0;
}

void cli_runtime_warn(const char *msg, void *userdata)
{
        (void)userdata;
        log_warning("%s", msg);
}

void cli_runtime_host(struct cli *c, struct runtime_host *ret)
{
        *ret = (struct runtime_host){
                .store = c->store,
                .search_path = getenv("PATH"),
                .warn = cli_runtime_warn,
        };
}

int cli_run_exit_code(struct st_error *err)
{
        int code = st_error_code(err);
        log_error("%s", st_error_msg(err));
        return code == ST_E_CMD_NOT_FOUND       ? EXIT_NOT_FOUND
               : code == ST_E_CMD_CANNOT_INVOKE ? EXIT_CANNOT_INVOKE
                                                : EXIT_USAGE;
}

int cli_start_detached(struct cli *c, struct store_container *ct, struct st_error **err)
{
        static const char *const passed[] = { "STRATA_DEBUG", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                                              "LSAN_OPTIONS" };
        _cleanup_free_ char *exe = realpath("/proc/self/exe", NULL);
        if (!exe)
                return st_error_set_errno(err, -errno, "find strata's own binary");
        _cleanup_strv_ char **argv = NULL, **env = NULL;
        strv_push(&argv, exe);
        strv_push(&argv, "--root");
        strv_push(&argv, store_root(c->store));
        strv_push(&argv, "container-monitor");
        strv_push(&argv, ct->id);
        const char *path = getenv("PATH");
        strv_consume(&env, xasprintf("PATH=%s", path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"));
        for (size_t i = 0; i < ELEMENTSOF(passed); i++)
                if (getenv(passed[i]))
                        strv_consume(&env, xasprintf("%s=%s", passed[i], getenv(passed[i])));
        struct runtime_host h;
        cli_runtime_host(c, &h);
        return runtime_container_start_detached(&h, ct, argv, env, err);
}

int cli_run_attached(struct cli *c, struct store_container *ct, bool interactive)
{
        struct runtime_host h;
        cli_runtime_host(c, &h);
        struct runtime_attach a = { .in_fd = interactive ? STDIN_FILENO : -1,
                                    .out_fd = STDOUT_FILENO,
                                    .err_fd = STDERR_FILENO };
        _cleanup_error_ struct st_error *err = NULL;
        int status = 0;
        fflush(stdout);
        if (runtime_container_run(&h, ct, &a, &status, &err) < 0)
                return cli_run_exit_code(err);
        return status;
}

static int run_or_create(struct cli *c, const char *verb, int argc, char **argv)
{
        struct run_args a = { 0 };
        int r = 0, ret = EXIT_OK;
        if (!parse_run_flags(verb, argc, argv, &a, &r, &ret)) {
                run_args_release(&a);
                return ret;
        }
        _cleanup_strv_ char **env = NULL, **sec = NULL;
        _cleanup_error_ struct st_error *err = NULL;
        struct runtime_options o;
        extern char **environ;
        _cleanup_store_container_ struct store_container *ct = NULL;
        struct runtime_host h;
        const char *image = argv[r];
        r = make_options(&a, argv[r], argv + r + 1, &o, &env, &sec, &err);
        if (r >= 0 && cli_store(c) < 0) {
                run_args_release(&a);
                return EXIT_USAGE;
        }
        if (r >= 0)
                r = cli_image_ensure(c, image, a.pull, &err);
        if (r >= 0) {
                cli_runtime_host(c, &h);
                r = runtime_container_create(&h, &o, a.name, environ, &ct, &err);
        }
        bool detach = a.detach, interactive = a.interactive;
        run_args_release(&a);
        if (r < 0)
                return cli_run_exit_code(err);
        if (streq(verb, "create")) {
                puts(ct->id);
                return EXIT_OK;
        }
        if (!detach)
                return cli_run_attached(c, ct, interactive);
        if (cli_start_detached(c, ct, &err) < 0)
                return cli_run_exit_code(err);
        puts(ct->id);
        return EXIT_OK;
}

int verb_run(struct cli *c, int argc, char **argv)
{
        return run_or_create(c, "run", argc, argv);
}

int verb_create(struct cli *c, int argc, char **argv)
{
        return run_or_create(c, "create", argc, argv);
}

int verb_container_monitor(struct cli *c, int argc, char **argv)
{
        if (argc != 2)
                return EXIT_USAGE;
        if (cli_store(c) < 0)
                return EXIT_USAGE;
        struct runtime_host h;
        cli_runtime_host(c, &h);
        _cleanup_error_ struct st_error *err = NULL;
        if (runtime_container_monitor(&h, argv[1], 3, &err) < 0) {
                log_error("%s", st_error_msg(err));
                return EXIT_FAIL;
        }
        return EXIT_OK;
}
