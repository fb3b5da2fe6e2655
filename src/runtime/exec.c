#include "runtime/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "json/json.h"

#define DEFAULT_SEARCH_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define OUTPUT_CAP          (1024 * 1024)

static bool is_executable(const char *p)
{
        struct stat st;
        return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static char *search(const char *name, const char *path)
{
        for (const char *p = path; p && *p;) {
                size_t n = strcspn(p, ":");
                _cleanup_free_ char *c = xasprintf("%.*s/%s", (int)n, p, name);
                if (n && is_executable(c))
                        return TAKE_PTR(c);
                p += n + (p[n] == ':');
        }
        return NULL;
}

int runtime_oci_new(const char *name, const char *search_path, const char *state_root,
                    struct runtime_oci **ret, struct st_error **err)
{
        const char *sp = search_path && *search_path ? search_path : DEFAULT_SEARCH_PATH;
        if (!name || !*name)
                name = "runc";
        char *path =
                strchr(name, '/') ? (is_executable(name) ? xstrdup(name) : NULL) : search(name, sp);
        if (!path)
                return st_error_set(err, ST_E_NOT_FOUND,
                                    strchr(name, '/')
                                            ? "OCI runtime '%s' not found or not executable"
                                            : "OCI runtime '%s' not found in PATH: install runc"
                                              " or pass --runtime with a path",
                                    name);
        struct runtime_oci *rt = xcalloc(1, sizeof(*rt));
        rt->path = path;
        rt->state_root = xstrdup(state_root);
        strv_consume(&rt->env, xasprintf("PATH=%s", sp));
        *ret = rt;
        return 0;
}

struct runtime_oci *runtime_oci_free(struct runtime_oci *rt)
{
        if (!rt)
                return NULL;
        free(rt->path);
        free(rt->state_root);
        strv_free(rt->env);
        free(rt);
        return NULL;
}

/* Spawn ARGV with STDIO (-1: /dev/null), default signal handling, an empty mask, in a new
 * process group. */
static int spawn(const struct runtime_oci *rt, char **argv, const int stdio[3], pid_t *ret_pid)
{
        _cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        sigdelset(&all, SIGKILL);
        sigdelset(&all, SIGSTOP);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        for (int i = 0; i < 3; i++)
                posix_spawn_file_actions_adddup2(&fa, stdio[i] >= 0 ? stdio[i] : devnull, i);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        /* its own process group: a Ctrl-C on the terminal reaches strata (which forwards it),
         * not the runtime nor the container it creates */
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                POSIX_SPAWN_SETPGROUP);
        int r = posix_spawn(ret_pid, argv[0], &fa, &attr, argv, rt->env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return -r;
}

/* Wait for PID; its exit status (128+N for signal N) into *ret_status. */
static int wait_status(pid_t pid, int *ret_status)
{
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return 0;
}

static int spawn_wait(const struct runtime_oci *rt, char **argv, const int stdio[3],
                      int *ret_status)
{
        pid_t pid;
        int r = spawn(rt, argv, stdio, &pid);
        if (r < 0)
                return r;
        return wait_status(pid, ret_status);
}

/* The argv of `RT --root … --log-format json [--log LOG] VERB`, followed by the caller's. */
static char **base_argv(const struct runtime_oci *rt, const char *log, const char *verb)
{
        char **a = NULL;
        strv_push(&a, rt->path);
        strv_push(&a, "--root");
        strv_push(&a, rt->state_root);
        strv_push(&a, "--log-format");
        strv_push(&a, "json");
        if (log) {
                strv_push(&a, "--log");
                strv_push(&a, log);
        }
        strv_push(&a, verb);
        return a;
}

/* The "msg" of the last error-level JSON line in TEXT, else its last non-empty line; caller
 * frees, NULL if none. */
static char *last_error(const char *text)
{
        _cleanup_free_ char *msg = NULL, *plain = NULL;
        for (const char *p = text; p && *p;) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = xstrndup(p, n);
                p += n + (p[n] == '\n');
                json_t *j = json_loads(line, 0, NULL);
                const char *lvl = json_get_str(j, "level"), *m = json_get_str(j, "msg");
                if (m && (streq_ptr(lvl, "error") || streq_ptr(lvl, "fatal"))) {
                        free(msg);
                        msg = xstrdup(m);
                } else if (!j && *line) {
                        free(plain);
                        plain = TAKE_PTR(line);
                }
                json_decref(j);
        }
        return msg ? TAKE_PTR(msg) : TAKE_PTR(plain);
}

static char *log_error_msg(const char *log)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (read_full_file_at(AT_FDCWD, log, OUTPUT_CAP, &text, &len) < 0)
                return NULL;
        return last_error(text);
}

int runtime_oci_error_code(const char *msg)
{
        if (!msg)
                return ST_E_RUNTIME;
        if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory"))
                return ST_E_CMD_NOT_FOUND;
        if (strstr(msg, "permission denied") || strstr(msg, "is a directory") ||
            strstr(msg, "exec format error"))
                return ST_E_CMD_CANNOT_INVOKE;
        return ST_E_RUNTIME;
}

static int failed(const char *verb, const char *log, int status, struct st_error **err)
{
        _cleanup_free_ char *msg = log_error_msg(log);
        int code = streq(verb, "create") || streq(verb, "run") || streq(verb, "exec")
                           ? runtime_oci_error_code(msg)
                           : ST_E_RUNTIME;
        if (msg)
                return st_error_set(err, code, "OCI runtime %s failed: %s", verb, msg);
        return st_error_set(err, code, "OCI runtime %s failed (exit status %d)", verb, status);
}

/* The argv of `runtime VERB [--detach] --bundle … --pid-file … [--console-socket …] ID` for C,
 * its log truncated first; caller frees. */
static char **create_argv(const struct runtime_oci *rt, const struct runtime_oci_create *c,
                          const char *verb, bool detach)
{
        (void)truncate(c->log, 0);
        char **argv = base_argv(rt, c->log, verb);
        if (detach)
                strv_push(&argv, "--detach");
        strv_push(&argv, "--bundle");
        strv_push(&argv, c->bundle);
        strv_push(&argv, "--pid-file");
        strv_push(&argv, c->pid_file);
        if (c->console_socket) {
                strv_push(&argv, "--console-socket");
                strv_push(&argv, c->console_socket);
        }
        strv_push(&argv, c->id);
        return argv;
}

int runtime_oci_create(const struct runtime_oci *rt, const struct runtime_oci_create *c,
                       struct st_error **err)
{
        const char *verb = c->start ? "run" : "create";
        _cleanup_strv_ char **argv = create_argv(rt, c, verb, c->start);
        int status = 0;
        int r = spawn_wait(rt, argv, c->stdio, &status);
        if (r < 0)
                return st_error_set_errno(err, r, "run '%s'", rt->path);
        if (status != 0)
                return failed(verb, c->log, status, err);
        return 0;
}

bool runtime_oci_has_state(const struct runtime_oci *rt, const char *id)
{
        _cleanup_free_ char *state = xasprintf("%s/%s", rt->state_root, id);
        return access(state, F_OK) == 0;
}

int runtime_oci_exec(const struct runtime_oci *rt, const struct runtime_oci_exec *e,
                     struct st_error **err)
{
        (void)truncate(e->log, 0);
        _cleanup_strv_ char **argv = base_argv(rt, e->log, "exec");
        strv_push(&argv, "--detach");
        strv_push(&argv, "--process");
        strv_push(&argv, e->process);
        strv_push(&argv, "--pid-file");
        strv_push(&argv, e->pid_file);
        if (e->console_socket) {
                strv_push(&argv, "--console-socket");
                strv_push(&argv, e->console_socket);
        }
        strv_push(&argv, e->id);
        int status = 0;
        int r = spawn_wait(rt, argv, e->stdio, &status);
        if (r < 0)
                return st_error_set_errno(err, r, "run '%s'", rt->path);
        if (status != 0)
                return failed("exec", e->log, status, err);
        return 0;
}

/* Read FD to EOF (keeping at most OUTPUT_CAP bytes); caller frees. */
static char *read_all(int fd)
{
        size_t cap = 8192, len = 0;
        char *buf = xmalloc(cap);
        for (;;) {
                if (len + 4096 + 1 > cap && cap < OUTPUT_CAP * 2)
                        buf = xrealloc(buf, cap *= 2);
                ssize_t n = read(fd, buf + len, MIN(cap - len - 1, (size_t)4096));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (len + (size_t)n < OUTPUT_CAP)
                        len += (size_t)n;
        }
        buf[len] = 0;
        return buf;
}

/* Run ARGV with stdout and stderr captured together into *ret_out (caller frees). */
static int run_capture(const struct runtime_oci *rt, char **argv, int *ret_status, char **ret_out,
                       struct st_error **err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return st_error_set_errno(err, -errno, "pipe");
        _cleanup_close_ int rd = p[0], wr = p[1];
        pid_t pid;
        int r = spawn(rt, argv, (int[]){ -1, wr, wr }, &pid);
        if (r < 0)
                return st_error_set_errno(err, r, "run '%s'", rt->path);
        wr = safe_close(wr);
        _cleanup_free_ char *out = read_all(rd);
        r = wait_status(pid, ret_status);
        if (r < 0)
                return st_error_set_errno(err, r, "wait for '%s'", rt->path);
        *ret_out = TAKE_PTR(out);
        return 0;
}

int runtime_oci_kill(const struct runtime_oci *rt, const char *id, int sig, struct st_error **err)
{
        _cleanup_strv_ char **argv = base_argv(rt, NULL, "kill");
        strv_push(&argv, id);
        strv_consume(&argv, xasprintf("%d", sig));
        _cleanup_free_ char *out = NULL;
        int status = 0;
        int r = run_capture(rt, argv, &status, &out, err);
        if (r < 0 || status == 0)
                return r;
        _cleanup_free_ char *msg = last_error(out);
        if (msg && (strstr(msg, "not running") || strstr(msg, "does not exist") ||
                    strstr(msg, "process already finished")))
                return st_error_set(err, ST_E_NOT_RUNNING, "container %.12s is not running", id);
        return st_error_set(err, ST_E_RUNTIME, "OCI runtime kill failed: %s",
                            msg ? msg : "unknown error");
}

/* runc's delete of a stopped container removes the cgroups, then the state dir, then runs the
 * poststop hooks (strata sets none): a Go process costing ~8 ms per `run --rm` here. */
int runtime_oci_forget(const struct runtime_oci *rt, const char *id)
{
        _cleanup_free_ char *dir = xasprintf("%s/%s", rt->state_root, id);
        _cleanup_free_ char *text = NULL;
        size_t len;
        _cleanup_free_ char *state = xasprintf("%s/state.json", dir);
        int r = read_full_file_at(AT_FDCWD, state, 4 * 1024 * 1024, &text, &len);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *j = json_loadb(text, len, 0, NULL);
        json_t *paths = json_object_get(j, "cgroup_paths");
        if (!json_is_object(paths))
                return -EPROTO;
        const char *key;
        json_t *v;
        json_object_foreach(paths, key, v)
        {
                const char *p = json_string_value(v);
                if (!p || !startswith(p, "/sys/fs/cgroup/") || strstr(p, "/../"))
                        return -EPROTO;
                if (rmdir(p) < 0 && errno != ENOENT)
                        return -errno; /* a process not yet gone: the runtime waits for it */
        }
        return rm_rf_at(AT_FDCWD, dir);
}

int runtime_oci_delete(const struct runtime_oci *rt, const char *id, bool force,
                       struct st_error **err)
{
        _cleanup_strv_ char **argv = base_argv(rt, NULL, "delete");
        if (force)
                strv_push(&argv, "--force");
        strv_push(&argv, id);
        _cleanup_free_ char *out = NULL;
        int status = 0;
        int r = run_capture(rt, argv, &status, &out, err);
        if (r < 0 || status == 0)
                return r;
        _cleanup_free_ char *msg = last_error(out);
        if (msg && strstr(msg, "does not exist"))
                return 0;
        return st_error_set(err, ST_E_RUNTIME, "OCI runtime delete failed: %s",
                            msg ? msg : "unknown error");
}

int runtime_oci_state(const struct runtime_oci *rt, const char *id, char **ret_status, int *ret_pid,
                      struct st_error **err)
{
        _cleanup_strv_ char **argv = base_argv(rt, NULL, "state");
        strv_push(&argv, id);
        _cleanup_free_ char *out = NULL;
        int status = 0;
        int r = run_capture(rt, argv, &status, &out, err);
        if (r < 0)
                return r;
        if (status != 0) {
                _cleanup_free_ char *msg = last_error(out);
                if (msg && strstr(msg, "does not exist"))
                        return st_error_set(err, ST_E_NOT_FOUND, "container %.12s does not exist",
                                            id);
                return st_error_set(err, ST_E_RUNTIME, "OCI runtime state failed: %s",
                                    msg ? msg : "unknown error");
        }
        _cleanup_json_ json_t *j = json_loads(out, 0, NULL);
        const char *st = json_get_str(j, "status");
        if (!st)
                return st_error_set(err, ST_E_RUNTIME, "OCI runtime state: unexpected output");
        *ret_status = xstrdup(st);
        *ret_pid = (int)json_integer_value(json_object_get(j, "pid"));
        return 0;
}
