/* Starting a container: mount its rootfs, write its bundle, create and start it through the
 * OCI runtime, wait for it (here, or in a monitor process), and clean up after it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/util.h"
#include "json/json.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "runtime/logfile.h"
#include "runtime/mount.h"
#include "runtime/runtime-internal.h"

#define ETC_FILE_MAX (4 * 1024 * 1024)

struct start {
        const struct runtime_host *h;
        struct store_container *c;
        json_t *cfg; /* the container configuration */
        char *dir;   /* ROOT/containers/<id> */
        int dir_fd;
        struct runtime_oci *rt;
        bool mounted, created, tty;
        bool exited; /* its init has been reaped: nothing of it runs any more */
        int pid;
        int out_r, err_r, in_w; /* our ends of the container's stdio (tty: out_r = master) */
        int child[3];           /* the container's ends, closed once it is created */
        int console;            /* the console socket we listen on, or -1 */
        char *console_path;
        struct runtime_log *log;
};

static void warn(const struct start *st, const char *msg)
{
        if (st->h->warn)
                st->h->warn(msg, st->h->warn_data);
}

static void start_release(struct start *st)
{
        json_decref(st->cfg);
        free(st->dir);
        safe_close(st->dir_fd);
        runtime_oci_free(st->rt);
        safe_close(st->out_r);
        safe_close(st->err_r);
        if (!st->tty)
                safe_close(st->in_w);
        for (int i = 0; i < 3; i++)
                safe_close(st->child[i]);
        safe_close(st->console);
        if (st->console_path)
                (void)unlink(st->console_path);
        free(st->console_path);
        runtime_log_close(st->log);
}

/* Every fd closed (-1): what start_release expects of a start never initialized further. */
#define START_INIT                                                                           \
        {                                                                                    \
                .dir_fd = -1, .out_r = -1, .err_r = -1, .in_w = -1, .child = { -1, -1, -1 }, \
                .console = -1                                                                \
        }

static int start_init(struct start *st, const struct runtime_host *h, struct store_container *c,
                      struct st_error **err)
{
        *st = (struct start)START_INIT;
        st->h = h;
        st->c = c;
        st->cfg = runtime_container_config(c);
        if (!st->cfg)
                return st_error_set(err, ST_E_CORRUPT, "container %.12s: bad configuration", c->id);
        json_t *cc = json_object_get(st->cfg, "Config");
        for (char *const *e = h->secret_env; e && *e; e++) { /* in memory and the bundle only */
                if (!json_is_array(json_object_get(cc, "Env")))
                        json_object_set_new(cc, "Env", json_array());
                json_array_append_new(json_object_get(cc, "Env"), json_string(*e));
        }
        st->tty = json_is_true(json_object_get(json_object_get(st->cfg, "Config"), "Tty"));
        st->dir = store_container_dir(h->store, c->id);
        st->dir_fd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (st->dir_fd < 0)
                return st_error_set_errno(err, -errno, "open '%s'", st->dir);
        return runtime_oci_for(h, c, &st->rt, err);
}

/* ----- the root filesystem ----- */

static int mount_rootfs(struct start *st, struct st_error **err)
{
        int r = runtime_rootfs_mount(st->h->store, st->c, st->dir, st->dir_fd, err);
        if (r < 0)
                return r;
        st->mounted = true;
        return 0;
}

/* The text of the regular file PATH inside the rootfs ROOTFD (resolved inside it), or NULL if
 * it is missing or not a regular file. */
static char *read_in_root(int rootfd, const char *path)
{
        _cleanup_close_ int fd = archive_open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK, true);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
                return NULL;
        char *buf = NULL;
        size_t len = 0;
        if (read_full_fd(fd, ETC_FILE_MAX, &buf, &len) < 0)
                return NULL;
        return buf;
}

static int prepare_rootfs(struct start *st, struct runtime_user *u, struct st_error **err)
{
        _cleanup_free_ char *merged = xasprintf("%s/merged", st->dir);
        _cleanup_close_ int rootfd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return st_error_set_errno(err, -errno, "open '%s'", merged);
        json_t *cfg = json_object_get(st->cfg, "Config");
        _cleanup_free_ char *passwd = read_in_root(rootfd, "etc/passwd");
        _cleanup_free_ char *group = read_in_root(rootfd, "etc/group");
        int r = runtime_user_resolve(json_get_str(cfg, "User"), passwd, group, u, err);
        if (r < 0)
                return r;
        const char *wd = json_get_str(cfg, "WorkingDir");
        while (wd && *wd == '/')
                wd++;
        _cleanup_free_ char *clean = NULL;
        if (wd && *wd) {
                r = archive_path_clean(wd, &clean);
                if (r >= 0)
                        r = archive_open_dir_create(rootfd, clean);
                if (r < 0)
                        return st_error_set_errno(err, r, "create the working directory '/%s'", wd);
                safe_close(r);
        }
        return 0;
}

/* The anonymous volumes' dirs, and -v sources that do not exist yet (Docker creates them). */
static int make_volumes(struct start *st, struct st_error **err)
{
        _cleanup_strv_ char **vols = runtime_volumes(st->cfg);
        STRV_FOREACH(v, vols) {
                _cleanup_free_ char *name = runtime_volume_name(*v);
                _cleanup_free_ char *p = xasprintf("volumes/%s", name);
                int r = mkdir_p_at(st->dir_fd, p, 0755);
                if (r < 0)
                        return st_error_set_errno(err, r, "create volume for '%s'", *v);
        }
        json_t *b;
        JSON_ARRAY_FOREACH(i, b, json_object_get(json_object_get(st->cfg, "HostConfig"), "Binds")) {
                const char *spec = json_string_value(b);
                _cleanup_free_ char *src = spec ? xstrndup(spec, strcspn(spec, ":")) : NULL;
                if (src && access(src, F_OK) < 0 && mkdir_p_at(AT_FDCWD, src, 0755) < 0)
                        return st_error_set_errno(err, -errno, "create bind source '%s'", src);
        }
        return 0;
}

static int write_etc(struct start *st, const char *name, const char *text, struct st_error **err)
{
        int r = write_file_replace_at(st->dir_fd, name, text, strlen(text), 0644);
        if (r < 0)
                return st_error_set_errno(err, r, "write '%s/%s'", st->dir, name);
        return 0;
}

static int write_etc_files(struct start *st, const char *hostname, struct st_error **err)
{
        bool host_net = streq_ptr(
                json_get_str(json_object_get(st->cfg, "HostConfig"), "NetworkMode"), "host");
        _cleanup_free_ char *host_hosts = NULL, *host_resolv = NULL;
        size_t len;
        (void)read_full_file_at(AT_FDCWD, "/etc/hosts", ETC_FILE_MAX, &host_hosts, &len);
        (void)read_full_file_at(AT_FDCWD, "/etc/resolv.conf", ETC_FILE_MAX, &host_resolv, &len);
        _cleanup_free_ char *hosts = runtime_hosts_file(host_net, host_hosts);
        _cleanup_free_ char *resolv = runtime_resolv_conf(host_net, host_resolv);
        _cleanup_free_ char *hn = xasprintf("%s\n", hostname);
        int r = write_etc(st, "hosts", hosts, err);
        if (r >= 0)
                r = write_etc(st, "hostname", hn, err);
        if (r >= 0)
                r = write_etc(st, "resolv.conf", resolv, err);
        return r;
}

/* ----- what the machine allows ----- */

static bool has_word(const char *text, const char *word)
{
        size_t n = strlen(word);
        for (const char *p = text; p && (p = strstr(p, word)); p += n)
                if ((p == text || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
                        return true;
        return false;
}

/* The cgroup controllers runc can use here: cgroup v2's enabled ones, or v1's writable
 * hierarchies. */
static unsigned cgroups_available(void)
{
        static const struct {
                const char *name;
                unsigned bit;
        } ctl[] = {
                { "memory", RUNTIME_CGROUP_MEMORY },
                { "cpu", RUNTIME_CGROUP_CPU },
                { "pids", RUNTIME_CGROUP_PIDS },
        };
        struct statfs sf;
        unsigned mask = 0;
        if (statfs("/sys/fs/cgroup", &sf) < 0)
                return 0;
        _cleanup_free_ char *v2 = NULL;
        size_t len;
        if (sf.f_type == CGROUP2_SUPER_MAGIC &&
            read_full_file_at(AT_FDCWD, "/sys/fs/cgroup/cgroup.controllers", 4096, &v2, &len) < 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(ctl); i++) {
                _cleanup_free_ char *p = xasprintf("/sys/fs/cgroup/%s", ctl[i].name);
                if (v2 ? has_word(v2, ctl[i].name) : access(p, W_OK) == 0)
                        mask |= ctl[i].bit;
        }
        return mask;
}

/* The number after KEY ("CapBnd:") in /proc/self/status, in BASE; DEF if it cannot be read. */
static uint64_t self_status_number(const char *key, int base, uint64_t def)
{
        _cleanup_free_ char *status = NULL;
        size_t len;
        if (read_full_file_at(AT_FDCWD, "/proc/self/status", 64 * 1024, &status, &len) < 0)
                return def;
        _cleanup_free_ char *line = xasprintf("\n%s", key);
        const char *p = strstr(status, line);
        return p ? strtoull(p + strlen(line), NULL, base) : def;
}

uint64_t runtime_cap_bounding(void)
{
        return self_status_number("CapBnd:", 16, ~UINT64_C(0));
}

bool runtime_kernel_runs_x32(void)
{
#if defined(__x86_64__)
        static _Atomic int runs = -1; /* the kernel's answer does not change */
        if (runs < 0)
                /* probed only outside any seccomp filter: one that does not list x32 may kill
                 * us for it */
                runs = self_status_number("Seccomp:", 10, 1) != 0 ||
                       syscall(0x40000000L /* __X32_SYSCALL_BIT */ | SYS_getpid) >= 0 ||
                       errno != ENOSYS;
        return runs;
#else
        return false;
#endif
}

static int write_spec(struct start *st, const struct runtime_user *u, struct st_error **err)
{
        char host_name[256] = "";
        (void)gethostname(host_name, sizeof(host_name) - 1);
        _cleanup_free_ char *hosts = xasprintf("%s/hosts", st->dir);
        _cleanup_free_ char *hn = xasprintf("%s/hostname", st->dir);
        _cleanup_free_ char *resolv = xasprintf("%s/resolv.conf", st->dir);
        _cleanup_free_ char *vols = xasprintf("%s/volumes", st->dir);
        struct utsname un;
        bool priv =
                json_is_true(json_object_get(json_object_get(st->cfg, "HostConfig"), "Privileged"));
        _cleanup_json_ json_t *devices = priv ? runtime_host_devices() : NULL;
        struct runtime_spec_ctx ctx = {
                .id = st->c->id,
                .rootfs = "merged",
                .user = u,
                .hosts = hosts,
                .hostname = hn,
                .resolv = resolv,
                .volumes_dir = vols,
                .host_hostname = host_name,
                .cgroups = cgroups_available(),
                .cap_bounding = runtime_cap_bounding(),
                .kernel = uname(&un) == 0 ? un.release : NULL,
                .no_x32 = !runtime_kernel_runs_x32(),
                .host_devices = devices,
        };
        _cleanup_json_ json_t *spec = NULL;
        _cleanup_strv_ char **warnings = NULL;
        int r = runtime_spec_build(st->cfg, &ctx, &spec, &warnings, err);
        if (r < 0)
                return r;
        STRV_FOREACH(w, warnings)
                warn(st, *w);
        _cleanup_free_ char *text = json_dump_pretty(spec);
        r = write_file_replace_at(st->dir_fd, "config.json", text, strlen(text), 0600);
        if (r < 0)
                return st_error_set_errno(err, r, "write '%s/config.json'", st->dir);
        return 0;
}

static int prepare(struct start *st, struct st_error **err)
{
        char host_name[256] = "";
        (void)gethostname(host_name, sizeof(host_name) - 1);
        _cleanup_free_ char *hostname = runtime_hostname(st->cfg, st->c->id, host_name);
        struct runtime_user u = { 0 };
        _cleanup_free_ char *state = xasprintf("%s/%s", st->rt->state_root, st->c->id);
        if (access(state, F_OK) == 0) /* left by a crash */
                (void)runtime_oci_delete(st->rt, st->c->id, true, NULL);
        int r = mount_rootfs(st, err);
        if (r >= 0)
                r = prepare_rootfs(st, &u, err);
        if (r >= 0)
                r = make_volumes(st, err);
        if (r >= 0)
                r = write_etc_files(st, hostname, err);
        if (r >= 0)
                r = write_spec(st, &u, err);
        runtime_user_release(&u);
        return r;
}

/* ----- creating and starting ----- */

int runtime_console_listen(const char *dir, char **ret_path, int *ret_fd, struct st_error **err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char rnd[17];
        _cleanup_free_ char *path = xasprintf("%s/console.sock", dir);
        if (strlen(path) >= sizeof(sa.sun_path) && random_hex(rnd, 8) >= 0) {
                free(path);
                path = xasprintf("/tmp/strata-console-%s.sock", rnd);
        }
        if (strlen(path) >= sizeof(sa.sun_path))
                return st_error_set(err, -ENAMETOOLONG, "console socket path too long");
        memcpy(sa.sun_path, path, strlen(path) + 1);
        (void)unlink(path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
                return st_error_set_errno(err, -errno, "console socket '%s'", path);
        *ret_fd = TAKE_FD(fd);
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* Listen on a console socket for the runtime to send the pty master to. */
static int console_listen(struct start *st, struct st_error **err)
{
        st->console_path = mfree_str(st->console_path);
        return runtime_console_listen(st->dir, &st->console_path, &st->console, err);
}

int runtime_console_receive(int sock, int *ret_master, struct st_error **err)
{
        (void)fcntl(sock, F_SETFL, O_NONBLOCK); /* the runtime has connected by now */
        _cleanup_close_ int conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return st_error_set_errno(err, -errno, "the OCI runtime sent no terminal");
        char data[4096];

        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } ctl;
        struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
        struct msghdr msg = { .msg_iov = &iov,
                              .msg_iovlen = 1,
                              .msg_control = ctl.buf,
                              .msg_controllen = sizeof(ctl.buf) };
        if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0)
                return st_error_set_errno(err, -errno, "receive the terminal");
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
                return st_error_set(err, ST_E_RUNTIME, "the OCI runtime sent no terminal");
        memcpy(ret_master, CMSG_DATA(c), sizeof(int));
        return 0;
}

/* Receive the pty master the runtime sent (SCM_RIGHTS) on the console socket. */
static int console_receive(struct start *st, struct st_error **err)
{
        int r = runtime_console_receive(st->console, &st->out_r, err);
        if (r >= 0)
                st->in_w = st->out_r;
        return r;
}

/* The container's stdio: pipes (stdin only with INTERACTIVE), or a console socket. */
static int make_stdio(struct start *st, bool interactive, struct st_error **err)
{
        if (st->tty)
                return console_listen(st, err);
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return st_error_set_errno(err, -errno, "pipe");
        st->out_r = p[0], st->child[1] = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                return st_error_set_errno(err, -errno, "pipe");
        st->err_r = p[0], st->child[2] = p[1];
        if (interactive) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        return st_error_set_errno(err, -errno, "pipe");
                st->child[0] = p[0], st->in_w = p[1];
        }
        return 0;
}

static int read_pid(struct start *st, struct st_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_full_file_at(st->dir_fd, "pid", 64, &text, &len);
        if (r < 0 || parse_int(text, &st->pid) < 0 || st->pid <= 0)
                return st_error_set(err, ST_E_RUNTIME, "the OCI runtime wrote no PID");
        return 0;
}

static int create_and_start(struct start *st, bool interactive, struct st_error **err)
{
        _cleanup_free_ char *log = xasprintf("%s/runtime.log", st->dir);
        _cleanup_free_ char *pid = xasprintf("%s/pid", st->dir);
        _cleanup_free_ char *logfile = runtime_container_log_path(st->h, st->c);
        int r = runtime_log_open(logfile, &st->log, err);
        if (r >= 0)
                r = make_stdio(st, interactive, err);
        if (r < 0)
                return r;
        (void)unlinkat(st->dir_fd, "pid", 0);
        /* the container's init is orphaned when `runc create` exits: make it our child */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return st_error_set_errno(err, -errno, "become a subreaper");
        struct runtime_oci_create cr = {
                .id = st->c->id,
                .bundle = st->dir,
                .pid_file = pid,
                .console_socket = st->tty ? st->console_path : NULL,
                .log = log,
                .stdio = { st->child[0], st->child[1], st->child[2] },
                .start = true, /* one runtime process (~10 ms) instead of create + start */
        };
        st->created = true; /* even a failed create may leave state behind */
        r = runtime_oci_create(st->rt, &cr, err);
        for (int i = 0; i < 3; i++)
                st->child[i] = safe_close(st->child[i]);
        if (r >= 0 && st->tty)
                r = console_receive(st, err);
        if (r >= 0)
                r = read_pid(st, err);
        return r;
}

static int record_running(struct start *st, struct st_error **err)
{
        struct store_container *c = st->c;
        c->state = STORE_CONTAINER_RUNNING;
        c->pid = st->pid;
        c->pid_start = runtime_proc_start_time(st->pid);
        c->monitor_pid = (int)getpid();
        c->monitor_start = runtime_proc_start_time(c->monitor_pid);
        c->exit_code = 0;
        c->error = mfree_str(c->error);
        c->started_at = runtime_now_ns();
        return store_container_update(st->h->store, c, err);
}

/* Undo what START did: the runtime's state (killing the container), the mount. */
static void teardown(struct start *st)
{
        if (st->created && (!st->exited || runtime_oci_forget(st->rt, st->c->id) < 0) &&
            runtime_oci_has_state(st->rt, st->c->id))
                (void)runtime_oci_delete(st->rt, st->c->id, true, NULL);
        st->created = false;
        if (st->mounted) {
                _cleanup_free_ char *merged = xasprintf("%s/merged", st->dir);
                (void)runtime_overlay_unmount(merged, NULL);
        }
        st->mounted = false;
}

static bool auto_remove(const struct start *st)
{
        return json_is_true(json_object_get(json_object_get(st->cfg, "HostConfig"), "AutoRemove"));
}

/* A start that failed with R: clean up, record why (Docker's exit codes 127/126/128), remove
 * the container if it was to be removed. Returns R. */
static int start_failed(struct start *st, int r, struct st_error **err)
{
        teardown(st);
        struct store_container *c = st->c;
        c->exit_code = r == ST_E_CMD_NOT_FOUND ? 127 : r == ST_E_CMD_CANNOT_INVOKE ? 126 : 128;
        free(c->error);
        c->error = xstrdup(err && *err ? (*err)->msg : "start failed");
        if (c->state == STORE_CONTAINER_RUNNING)
                c->state = STORE_CONTAINER_EXITED;
        c->pid = 0;
        if (auto_remove(st))
                (void)store_container_delete(st->h->store, c->id, NULL);
        else
                (void)store_container_update(st->h->store, c, NULL);
        return r;
}

/* The container ended with STATUS: clean up, then record it, then remove it if asked. */
static int finish(struct start *st, int status, struct st_error **err)
{
        st->log = runtime_log_close(st->log);
        st->exited = true;
        teardown(st);
        struct store_container *c = st->c;
        c->state = STORE_CONTAINER_EXITED;
        c->exit_code = status;
        c->pid = 0; /* the monitor stays recorded: it owns the container until it is done */
        c->finished_at = runtime_now_ns();
        if (auto_remove(st))
                return store_container_delete_ephemeral(st->h->store, c->id, err);
        _cleanup_error_ struct st_error *e = NULL;
        int r = store_container_update(st->h->store, c, &e);
        if (r == ST_E_NOT_FOUND)
                return 0; /* `rm -f` removed it meanwhile */
        return r < 0 ? st_error_set(err, r, "%s", st_error_msg(e)) : 0;
}

static int start_locked(struct start *st, bool interactive, struct st_error **err)
{
        int r = runtime_container_reload(st->h, st->c, err);
        if (r >= 0)
                r = runtime_container_refresh(st->h, st->c, err);
        if (r < 0)
                return r;
        if (st->c->state == STORE_CONTAINER_RUNNING)
                return st_error_set(err, ST_E_IN_USE, "container %.12s is already running",
                                    st->c->id);
        r = prepare(st, err);
        if (r >= 0)
                r = create_and_start(st, interactive, err);
        if (r >= 0)
                r = record_running(st, err);
        if (r < 0)
                return start_failed(st, r, err);
        return 0;
}

/* Start under the container's lock (a flock on its directory) so that two starts, or a start
 * and an rm, never interleave; the state is read again once the lock is held. */
static int start_common(struct start *st, bool interactive, struct st_error **err)
{
        while (flock(st->dir_fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return st_error_set_errno(err, -errno, "lock container %.12s", st->c->id);
        int r = start_locked(st, interactive, err);
        (void)flock(st->dir_fd, LOCK_UN);
        return r;
}

/* ----- in the foreground ----- */

struct raw_tty {
        int fd;
        struct termios saved;
};

static void tty_raw(struct raw_tty *t, int fd)
{
        t->fd = -1;
        if (fd < 0 || !isatty(fd) || tcgetattr(fd, &t->saved) < 0)
                return;
        struct termios raw = t->saved;
        cfmakeraw(&raw);
        raw.c_oflag = t->saved.c_oflag; /* keep output processing: the pty does its own */
        if (tcsetattr(fd, TCSADRAIN, &raw) == 0)
                t->fd = fd;
}

static void tty_restore(struct raw_tty *t)
{
        if (t->fd >= 0)
                (void)tcsetattr(t->fd, TCSADRAIN, &t->saved);
}

/* Ignore SIGPIPE (a reader of our output or report that went away must not kill the process
 * that waits for the container); the previous disposition into OLD. */
static void ignore_sigpipe(struct sigaction *old)
{
        struct sigaction sa = { .sa_handler = SIG_IGN };
        (void)sigaction(SIGPIPE, &sa, old);
}

static int run_attached(const struct runtime_host *h, struct store_container *c,
                        const struct runtime_attach *a, int sigfd, int *ret_status,
                        struct st_error **err)
{
        struct start st = START_INIT;
        int r = start_init(&st, h, c, err);
        r = r < 0 ? start_failed(&st, r, err) : start_common(&st, a->in_fd >= 0, err);
        if (r < 0) {
                start_release(&st);
                return r;
        }
        struct raw_tty raw;
        tty_raw(&raw, st.tty ? a->in_fd : -1);
        struct runtime_io io = {
                .pid = st.pid,
                .out_r = st.out_r,
                .err_r = st.err_r,
                .in_w = st.in_w,
                .in_fd = a->in_fd,
                .attach_out = a->out_fd,
                .attach_err = st.tty ? -1 : a->err_fd,
                .tty = st.tty,
                .forward = true,
                .log = st.log,
        };
        int status = 0;
        (void)runtime_io_loop(&io, sigfd, &status);
        tty_restore(&raw);
        st.out_r = io.out_r, st.err_r = io.err_r, st.in_w = io.in_w;
        r = finish(&st, status, err);
        start_release(&st);
        if (r >= 0)
                *ret_status = status;
        return r;
}

int runtime_container_run(const struct runtime_host *h, struct store_container *c,
                          const struct runtime_attach *a, int *ret_status, struct st_error **err)
{
        struct sigaction old_pipe;
        sigset_t old;
        ignore_sigpipe(&old_pipe);
        int sigfd = runtime_io_block_signals(true, &old);
        int r = sigfd < 0 ? st_error_set_errno(err, sigfd, "signalfd")
                          : run_attached(h, c, a, sigfd, ret_status, err);
        if (sigfd >= 0) {
                safe_close(sigfd);
                (void)sigprocmask(SIG_SETMASK, &old, NULL);
        }
        (void)sigaction(SIGPIPE, &old_pipe, NULL);
        return r;
}

/* ----- detached: the monitor ----- */

static void sync_write(int fd, const char *fmt, ...) _printf_(2, 3);

static void sync_write(int fd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *line = xvasprintf(fmt, ap);
        va_end(ap);
        for (char *p = line; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        _cleanup_free_ char *out = xasprintf("%s\n", line);
        (void)write_full(fd, out, strlen(out));
}

static void warn_to_sync(const char *msg, void *userdata)
{
        sync_write(*(int *)userdata, "warning %s", msg);
}

int runtime_container_monitor(const struct runtime_host *h, const char *id, int sync_fd,
                              struct st_error **err)
{
        struct runtime_host mh = *h;
        mh.warn = warn_to_sync;
        mh.warn_data = &sync_fd;
        _cleanup_store_container_ struct store_container *c = NULL;
        ignore_sigpipe(NULL);
        sigset_t old;
        _cleanup_close_ int sigfd = runtime_io_block_signals(false, &old);
        if (sigfd < 0)
                return st_error_set_errno(err, sigfd, "signalfd");
        struct start st = START_INIT;
        int r = store_container_lookup(h->store, id, &c, err);
        if (r >= 0) {
                r = start_init(&st, &mh, c, err);
                r = r < 0 ? start_failed(&st, r, err) : start_common(&st, false, err);
        }
        if (r < 0) {
                sync_write(sync_fd, "error %d %s", r, err && *err ? (*err)->msg : "failed");
                safe_close(sync_fd);
                start_release(&st);
                return r;
        }
        sync_write(sync_fd, "ok");
        safe_close(sync_fd);
        mh.warn = NULL; /* nobody listens any more */
        struct runtime_io io = { .pid = st.pid,
                                 .out_r = st.out_r,
                                 .err_r = st.err_r,
                                 .in_w = -1,
                                 .in_fd = -1,
                                 .attach_out = -1,
                                 .attach_err = -1,
                                 .tty = st.tty,
                                 .log = st.log };
        int status = 0;
        (void)runtime_io_loop(&io, sigfd, &status);
        st.out_r = io.out_r, st.err_r = io.err_r, st.in_w = io.tty ? -1 : io.in_w;
        r = finish(&st, status, err);
        start_release(&st);
        return r;
}

/* fd F moved to a number >= 10 (so that dup2 onto 0..3 in the child cannot clobber it). */
static int high_fd(int f)
{
        if (f < 0)
                return f;
        int n = fcntl(f, F_DUPFD_CLOEXEC, 10);
        safe_close(f);
        return n;
}

/* Fork, setsid, fork again and exec the monitor with the report pipe on fd 3; only system calls
 * between fork and exec. */
static int spawn_monitor(char *const *argv, char *const *env, int sync_w, int log_fd)
{
        _cleanup_close_ int devnull = high_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (setsid() < 0)
                        _exit(1);
                pid_t p2 = fork();
                if (p2 != 0)
                        _exit(p2 < 0);
                if (dup2(sync_w, 3) < 0 || dup2(devnull, 0) < 0 ||
                    dup2(log_fd >= 0 ? log_fd : devnull, 1) < 0 ||
                    dup2(log_fd >= 0 ? log_fd : devnull, 2) < 0 || chdir("/") < 0)
                        _exit(127);
                execve(argv[0], argv, env);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}

/* Read the monitor's report from FD until "ok" or "error CODE MSG". */
static int read_report(const struct runtime_host *h, int fd, struct st_error **err)
{
        _cleanup_fclose_ FILE *f = fdopen(fd, "r");
        if (!f) {
                safe_close(fd);
                return st_error_set_errno(err, -errno, "fdopen");
        }
        char *line = NULL;
        size_t cap = 0;
        int code = 1; /* 1: no verdict yet */
        _cleanup_free_ char *msg = NULL;
        while (code == 1 && getline(&line, &cap, f) > 0) {
                line[strcspn(line, "\n")] = 0;
                const char *rest;
                int off = 0;
                if ((rest = startswith(line, "warning ")) && h->warn)
                        h->warn(rest, h->warn_data);
                else if (streq(line, "ok"))
                        code = 0;
                else if ((rest = startswith(line, "error ")) &&
                         sscanf(rest, "%d %n", &code, &off) == 1) {
                        code = code < 0 ? code : ST_E_RUNTIME;
                        msg = xstrdup(rest + off);
                }
        }
        free(line);
        if (code == 1)
                return st_error_set(err, ST_E_RUNTIME, "the container monitor exited unexpectedly");
        if (code < 0)
                return st_error_set(err, code, "%s", msg);
        return 0;
}

int runtime_container_start_detached(const struct runtime_host *h, struct store_container *c,
                                     char *const *monitor_argv, char *const *monitor_env,
                                     struct st_error **err)
{
        int r = runtime_container_refresh(h, c, err);
        if (r < 0)
                return r;
        if (c->state == STORE_CONTAINER_RUNNING)
                return st_error_set(err, ST_E_IN_USE, "container %.12s is already running", c->id);
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return st_error_set_errno(err, -errno, "pipe");
        int rd = high_fd(p[0]), wr = high_fd(p[1]);
        _cleanup_free_ char *logp =
                xasprintf("%s/containers/%s/monitor.log", store_root(h->store), c->id);
        int log_fd = high_fd(open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        r = spawn_monitor(monitor_argv, monitor_env, wr, log_fd);
        safe_close(wr);
        safe_close(log_fd);
        if (r < 0) {
                safe_close(rd);
                return st_error_set_errno(err, r, "start the container monitor");
        }
        return read_report(h, rd, err);
}
