/* `exec`: one more process in a running container, through `runtime exec --detach` with a
 * process.json made from the container's own process settings. As with start, the caller
 * becomes a child subreaper so that the process (orphaned when the runtime exits) is its
 * child and its exact exit status can be had. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/util.h"
#include "json/json.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "runtime/runtime-internal.h"

#define SPEC_MAX     (4 * 1024 * 1024)
#define ETC_FILE_MAX (4 * 1024 * 1024)

struct xproc {
        char *dir;  /* the container's directory */
        char *name; /* exec-<random>: the process's files in DIR are NAME.json, .pid, .log */
        int out_r, err_r, in_w;
        int child[3];
        int console;
        char *console_path;
        int pid;
};

static void xproc_release(struct xproc *x)
{
        if (x->name)
                for (const char *const *e = (const char *const[]){ "json", "pid", "log", NULL }; *e;
                     e++) {
                        _cleanup_free_ char *p = xasprintf("%s/%s.%s", x->dir, x->name, *e);
                        (void)unlink(p);
                }
        free(x->dir);
        free(x->name);
        safe_close(x->out_r);
        safe_close(x->err_r);
        if (x->in_w != x->out_r)
                safe_close(x->in_w);
        for (int i = 0; i < 3; i++)
                safe_close(x->child[i]);
        safe_close(x->console);
        if (x->console_path)
                (void)unlink(x->console_path);
        free(x->console_path);
}

static char *read_in_root(int rootfd, const char *path)
{
        _cleanup_close_ int fd = archive_open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK, true);
        struct stat sb;
        char *buf = NULL;
        size_t len = 0;
        if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
            read_full_fd(fd, ETC_FILE_MAX, &buf, &len) < 0)
                return NULL;
        return buf;
}

/* process.user for SPEC resolved in the rootfs of the container at DIR/merged. */
static int exec_user(const char *dir, const char *spec, json_t **ret, struct st_error **err)
{
        _cleanup_free_ char *merged = xasprintf("%s/merged", dir);
        _cleanup_close_ int rootfd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return st_error_set_errno(err, -errno, "open '%s'", merged);
        _cleanup_free_ char *passwd = read_in_root(rootfd, "etc/passwd");
        _cleanup_free_ char *group = read_in_root(rootfd, "etc/group");
        struct runtime_user u = { 0 };
        int r = runtime_user_resolve(spec, passwd, group, &u, err);
        if (r < 0)
                return r;
        json_t *j = json_pack("{s:I, s:I}", "uid", (json_int_t)u.uid, "gid", (json_int_t)u.gid);
        if (u.n_additional_gids) {
                json_t *g = json_array();
                for (size_t i = 0; i < u.n_additional_gids; i++)
                        json_array_append_new(g, json_integer(u.additional_gids[i]));
                json_object_set_new(j, "additionalGids", g);
        }
        runtime_user_release(&u);
        *ret = j;
        return 0;
}

static json_t *exec_env(const json_t *env, const struct runtime_exec_options *o)
{
        _cleanup_strv_ char **l = runtime_json_to_strv(env);
        if (o->tty)
                runtime_env_set(&l, "TERM=xterm");
        STRV_FOREACH(e, o->env) {
                if (strchr(*e, '=')) {
                        runtime_env_set(&l, *e);
                        continue;
                }
                size_t n = strlen(*e);
                for (char *const *h = o->host_env; h && *h; h++)
                        if (strncmp(*h, *e, n) == 0 && (*h)[n] == '=')
                                runtime_env_set(&l, *h);
        }
        return runtime_strv_to_json(l);
}

/* The process of the bundle's config.json in X->dir, changed as O says, into *ret. */
static int exec_process(const struct xproc *x, const struct runtime_exec_options *o, json_t **ret,
                        struct st_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        _cleanup_free_ char *cfg_path = xasprintf("%s/config.json", x->dir);
        int r = read_full_file_at(AT_FDCWD, cfg_path, SPEC_MAX, &text, &len);
        if (r < 0)
                return st_error_set_errno(err, r, "read '%s'", cfg_path);
        _cleanup_json_ json_t *spec = json_loads(text, 0, NULL);
        json_t *p = json_object_get(spec, "process");
        if (!json_is_object(p))
                return st_error_set(err, ST_E_CORRUPT, "'%s' has no process", cfg_path);
        _cleanup_json_ json_t *proc = json_deep_copy(p);
        json_object_set_new(proc, "args", runtime_strv_to_json(o->cmd));
        json_object_set_new(proc, "terminal", json_boolean(o->tty));
        json_object_set_new(proc, "env", exec_env(json_object_get(proc, "env"), o));
        if (o->workdir)
                json_object_set_new(proc, "cwd", json_string(o->workdir));
        if (o->privileged) /* Docker: every capability; the container's seccomp filter stays */
                json_object_set_new(proc, "capabilities",
                                    runtime_caps_all_json(runtime_cap_bounding()));
        if (o->user) {
                json_t *u = NULL;
                r = exec_user(x->dir, o->user, &u, err);
                if (r < 0)
                        return r;
                json_object_set_new(proc, "user", u);
        }
        *ret = TAKE_PTR(proc);
        return 0;
}

/* The process's stdio: pipes (stdin with -i), or a console socket with -t; none detached. */
static int exec_stdio(struct xproc *x, const struct runtime_exec_options *o, struct st_error **err)
{
        if (o->tty)
                return runtime_console_listen(x->dir, &x->console_path, &x->console, err);
        if (o->detach)
                return 0;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return st_error_set_errno(err, -errno, "pipe");
        x->out_r = p[0], x->child[1] = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                return st_error_set_errno(err, -errno, "pipe");
        x->err_r = p[0], x->child[2] = p[1];
        if (o->interactive) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        return st_error_set_errno(err, -errno, "pipe");
                x->child[0] = p[0], x->in_w = p[1];
        }
        return 0;
}

static int write_process(struct xproc *x, const struct runtime_exec_options *o,
                         struct st_error **err)
{
        _cleanup_json_ json_t *proc = NULL;
        int r = exec_process(x, o, &proc, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = json_dump_pretty(proc);
        _cleanup_free_ char *path = xasprintf("%s/%s.json", x->dir, x->name);
        r = write_file_replace_at(AT_FDCWD, path, text, strlen(text), 0600);
        if (r < 0)
                return st_error_set_errno(err, r, "write '%s'", path);
        return 0;
}

/* Start the process: runtime exec --detach, then its PID and (with -t) its pty master. */
static int exec_start(const struct runtime_host *h, struct store_container *c, struct xproc *x,
                      const struct runtime_exec_options *o, struct st_error **err)
{
        _cleanup_(runtime_oci_freep) struct runtime_oci *rt = NULL;
        int r = runtime_oci_for(h, c, &rt, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *proc = xasprintf("%s/%s.json", x->dir, x->name);
        _cleanup_free_ char *pid = xasprintf("%s/%s.pid", x->dir, x->name);
        _cleanup_free_ char *log = xasprintf("%s/%s.log", x->dir, x->name);
        if (!o->detach && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return st_error_set_errno(err, -errno, "become a subreaper");
        struct runtime_oci_exec e = {
                .id = c->id,
                .process = proc,
                .pid_file = pid,
                .console_socket = x->console_path,
                .log = log,
                .stdio = { x->child[0], x->child[1], x->child[2] },
        };
        r = runtime_oci_exec(rt, &e, err);
        for (int i = 0; i < 3; i++)
                x->child[i] = safe_close(x->child[i]);
        if (r >= 0 && o->tty)
                r = runtime_console_receive(x->console, &x->out_r, err);
        if (r < 0 || o->detach)
                return r;
        if (o->tty)
                x->in_w = x->out_r;
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (read_full_file_at(AT_FDCWD, pid, 64, &text, &len) < 0 || parse_int(text, &x->pid) < 0 ||
            x->pid <= 0)
                return st_error_set(err, ST_E_RUNTIME, "the OCI runtime wrote no PID");
        return 0;
}

/* Copy the process's streams to A until it ends; its status into *ret_status. */
static int exec_wait(struct xproc *x, const struct runtime_exec_options *o,
                     const struct runtime_attach *a, int *ret_status, struct st_error **err)
{
        sigset_t old;
        int sigfd = runtime_io_block_signals(true, &old);
        if (sigfd < 0)
                return st_error_set_errno(err, sigfd, "signalfd");
        struct runtime_io io = {
                .pid = x->pid,
                .out_r = x->out_r,
                .err_r = x->err_r,
                .in_w = x->in_w,
                .in_fd = o->interactive ? a->in_fd : -1,
                .attach_out = a->out_fd,
                .attach_err = o->tty ? -1 : a->err_fd,
                .tty = o->tty,
                .forward = true,
        };
        int r = runtime_io_loop(&io, sigfd, ret_status);
        x->out_r = io.out_r, x->err_r = io.err_r, x->in_w = io.in_w;
        safe_close(sigfd);
        (void)sigprocmask(SIG_SETMASK, &old, NULL);
        return r < 0 ? st_error_set_errno(err, r, "wait for the process") : 0;
}

int runtime_container_exec(const struct runtime_host *h, struct store_container *c,
                           const struct runtime_exec_options *o, const struct runtime_attach *a,
                           int *ret_status, struct st_error **err)
{
        int r = runtime_container_refresh(h, c, err);
        if (r < 0)
                return r;
        if (c->state != STORE_CONTAINER_RUNNING)
                return st_error_set(err, ST_E_NOT_RUNNING, "container %s is not running", c->id);
        char rnd[17];
        if ((r = random_hex(rnd, 8)) < 0)
                return st_error_set_errno(err, r, "random");
        struct xproc x = { .dir = store_container_dir(h->store, c->id),
                           .name = xasprintf("exec-%s", rnd),
                           .out_r = -1,
                           .err_r = -1,
                           .in_w = -1,
                           .child = { -1, -1, -1 },
                           .console = -1 };
        int status = 0;
        r = exec_stdio(&x, o, err);
        if (r >= 0)
                r = write_process(&x, o, err);
        if (r >= 0)
                r = exec_start(h, c, &x, o, err);
        if (r >= 0 && !o->detach)
                r = exec_wait(&x, o, a, &status, err);
        xproc_release(&x);
        if (r >= 0)
                *ret_status = status;
        return r;
}
