#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/util.h"
#include "store/store-internal.h"

static const char *const store_dirs[] = { "blobs", "blobs/sha256", "layers",
                                          "l",     "tmp",          "containers" };

/* The mount point of a /proc/self/mountinfo line (field 5, octal escapes undone); caller frees.
 * NULL if the line is malformed. */
static char *mountinfo_target(const char *line)
{
        const char *p = line;
        for (int field = 1; field < 5 && p; field++)
                p = strchr(p + 1, ' ');
        if (!p)
                return NULL;
        p++;
        size_t n = strcspn(p, " ");
        char *out = xmalloc(n + 1), *o = out;
        for (size_t i = 0; i < n; i++) {
                if (p[i] == '\\' && i + 3 < n && p[i + 1] >= '0' && p[i + 1] <= '3') {
                        *o++ = (char)(((p[i + 1] - '0') << 6) | ((p[i + 2] - '0') << 3) |
                                      (p[i + 3] - '0'));
                        i += 3;
                } else
                        *o++ = p[i];
        }
        *o = 0;
        return out;
}

/* Detach every mount at or below DIR, deepest (latest) first: what a killed build left mounted
 * in its staging dir must not be walked into by the removal. */
static void unmount_below(const char *dir)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_strv_ char **targets = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0, n = strlen(dir);
        while (f && getline(&line, &cap, f) > 0) {
                _cleanup_free_ char *t = mountinfo_target(line);
                if (t && strncmp(t, dir, n) == 0 && (t[n] == '/' || t[n] == 0))
                        strv_push(&targets, t);
        }
        for (size_t i = strv_length(targets); i-- > 0;)
                if (umount2(targets[i], MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                        log_debug("unmount '%s': %m", targets[i]);
}

/* Remove staging dirs whose owner is gone: each tmp/<id>/ has tmp/<id>.lock held by its
 * process. */
static void clean_stale_tmp(struct store *s)
{
        _cleanup_close_ int tfd = openat(s->root_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tfd < 0)
                return;
        int dfd = fcntl(tfd, F_DUPFD_CLOEXEC, 3);
        _cleanup_closedir_ DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
                safe_close(dfd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || endswith(de->d_name, ".lock"))
                        continue;
                _cleanup_free_ char *lock = xasprintf("%s.lock", de->d_name);
                _cleanup_close_ int lfd = openat(tfd, lock, O_RDWR | O_CLOEXEC);
                if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0)
                        continue; /* alive */
                log_debug("removing stale staging dir tmp/%s", de->d_name);
                _cleanup_free_ char *path = xasprintf("%s/tmp/%s", s->root, de->d_name);
                unmount_below(path);
                (void)rm_rf_at(tfd, de->d_name);
                (void)unlinkat(tfd, lock, 0);
        }
}

int store_open(const char *root, struct store **ret, struct st_error **err)
{
        int r = mkdir_p_at(AT_FDCWD, root, 0711);
        if (r < 0)
                return st_error_set_errno(err, r, "create store root '%s'", root);
        struct store *s = xcalloc(1, sizeof(*s));
        s->lock_fd = s->tmp_lock_fd = -1;
        s->root = realpath(root, NULL);
        if (!s->root) {
                r = st_error_set_errno(err, -errno, "resolve store root '%s'", root);
                store_close(s);
                return r;
        }
        s->root_fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0) {
                r = st_error_set_errno(err, -errno, "open store root '%s'", root);
                store_close(s);
                return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(store_dirs); i++)
                if (mkdirat(s->root_fd, store_dirs[i], 0700) < 0 && errno != EEXIST) {
                        r = st_error_set_errno(err, -errno, "create '%s/%s'", s->root,
                                               store_dirs[i]);
                        store_close(s);
                        return r;
                }
        s->lock_fd = openat(s->root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (s->lock_fd < 0) {
                r = st_error_set_errno(err, -errno, "open store lock");
                store_close(s);
                return r;
        }
        r = db_open(s, err);
        if (r < 0) {
                store_close(s);
                return r;
        }
        clean_stale_tmp(s);
        *ret = s;
        return 0;
}

struct store *store_close(struct store *s)
{
        if (!s)
                return NULL;
        if (s->tmp_path) {
                (void)rm_rf_at(AT_FDCWD, s->tmp_path);
                _cleanup_free_ char *lock = xasprintf("%s.lock", s->tmp_path);
                (void)unlink(lock);
        }
        safe_close(s->tmp_lock_fd);
        db_close(s);
        safe_close(s->lock_fd);
        safe_close(s->root_fd);
        free(s->tmp_path);
        free(s->root);
        free(s);
        return NULL;
}

const char *store_root(const struct store *s)
{
        return s->root;
}

int store_root_fd(const struct store *s)
{
        return s->root_fd;
}

int store_lock(struct store *s, bool exclusive, struct st_error **err)
{
        int mode = exclusive ? LOCK_EX : LOCK_SH;
        if (s->lock_mode == mode)
                return 0;
        while (flock(s->lock_fd, mode) < 0)
                if (errno != EINTR)
                        return st_error_set_errno(err, -errno, "lock store");
        s->lock_mode = mode;
        return 0;
}

void store_unlock(struct store *s)
{
        if (s->lock_mode)
                (void)flock(s->lock_fd, LOCK_UN);
        s->lock_mode = 0;
}

int store_tmp_dir(struct store *s, const char **ret_path, struct st_error **err)
{
        if (s->tmp_path) {
                *ret_path = s->tmp_path;
                return 0;
        }
        char id[17];
        int r = random_hex(id, 8);
        if (r < 0)
                return st_error_set_errno(err, r, "random");
        _cleanup_free_ char *lock = xasprintf("%s/tmp/%s.lock", s->root, id);
        _cleanup_close_ int lfd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (lfd < 0 || flock(lfd, LOCK_EX) < 0)
                return st_error_set_errno(err, -errno, "create staging lock '%s'", lock);
        _cleanup_free_ char *path = xasprintf("%s/tmp/%s", s->root, id);
        if (mkdir(path, 0700) < 0)
                return st_error_set_errno(err, -errno, "create staging dir '%s'", path);
        s->tmp_lock_fd = TAKE_FD(lfd);
        s->tmp_path = TAKE_PTR(path);
        *ret_path = s->tmp_path;
        return 0;
}

static int tmp_name(struct store *s, const char *prefix, char **ret, struct st_error **err)
{
        const char *dir = NULL;
        char rnd[17];
        int r = store_tmp_dir(s, &dir, err);
        if (r < 0)
                return r;
        r = random_hex(rnd, 8);
        if (r < 0)
                return st_error_set_errno(err, r, "random");
        *ret = xasprintf("%s/%s-%s", dir, prefix, rnd);
        return 0;
}

int store_tmp_file(struct store *s, const char *prefix, int *ret_fd, char **ret_path,
                   struct st_error **err)
{
        _cleanup_free_ char *p = NULL;
        int r = tmp_name(s, prefix, &p, err);
        if (r < 0)
                return r;
        int fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return st_error_set_errno(err, -errno, "create '%s'", p);
        *ret_fd = fd;
        *ret_path = TAKE_PTR(p);
        return 0;
}

int store_tmp_mkdir(struct store *s, const char *prefix, char **ret_path, struct st_error **err)
{
        _cleanup_free_ char *p = NULL;
        int r = tmp_name(s, prefix, &p, err);
        if (r < 0)
                return r;
        if (mkdir(p, 0700) < 0)
                return st_error_set_errno(err, -errno, "create '%s'", p);
        *ret_path = TAKE_PTR(p);
        return 0;
}

/* In the grandchild: nothing but the removal, at the lowest CPU and I/O priority. */
_noreturn_ static void remove_in_child(int lock_fd, const char *dir, const char *lock)
{
        /* stdio to /dev/null: a reader of our caller's output must not wait for us */
        int null = open("/dev/null", O_RDWR);
        int lock_copy = fcntl(lock_fd, F_DUPFD, 10); /* above 0-3 whatever null got */
        if (null < 0 || lock_copy < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
            dup2(null, 2) < 0 || dup2(lock_copy, 3) < 0)
                _exit(1);
        (void)close_range(4, ~0U, 0); /* the store lock and the database are not ours */
        (void)prctl(PR_SET_NAME, "strata-rm");
        (void)setpriority(PRIO_PROCESS, 0, 19);
        (void)syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, 3 << 13 /* IDLE class */);
        (void)rm_rf_at(AT_FDCWD, dir);
        (void)unlink(lock);
        _exit(0);
}

void store_remove_later(struct store *s, const char *abs_path)
{
        char id[17];
        if (random_hex(id, 8) < 0) {
                (void)rm_rf_at(AT_FDCWD, abs_path);
                return;
        }
        _cleanup_free_ char *lock = xasprintf("%s/tmp/%s.lock", s->root, id);
        _cleanup_free_ char *dir = xasprintf("%s/tmp/%s", s->root, id);
        _cleanup_free_ char *dst = xasprintf("%s/x", dir);
        _cleanup_close_ int lfd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (lfd < 0 || flock(lfd, LOCK_EX) < 0 || mkdir(dir, 0700) < 0 ||
            rename(abs_path, dst) < 0) {
                (void)rmdir(dir);
                (void)unlink(lock);
                (void)rm_rf_at(AT_FDCWD, abs_path);
                return;
        }
        /* fork, setsid, fork: the grandchild is nobody's child to wait for, and not killed with
         * our terminal's process group */
        pid_t pid = fork();
        if (pid == 0) {
                if (setsid() < 0 || fork() != 0)
                        _exit(0);
                remove_in_child(lfd, dir, lock);
        }
        if (pid < 0) {
                (void)rm_rf_at(AT_FDCWD, dir);
                (void)unlink(lock);
                return;
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
}

int store_remove_path(struct store *s, const char *abs_path, struct st_error **err)
{
        _cleanup_free_ char *p = NULL;
        int r = tmp_name(s, "del", &p, err);
        if (r < 0)
                return r;
        if (rename(abs_path, p) < 0) {
                if (errno == ENOENT)
                        return 0;
                return st_error_set_errno(err, -errno, "remove '%s'", abs_path);
        }
        r = rm_rf_at(AT_FDCWD, p);
        if (r < 0)
                return st_error_set_errno(err, r, "remove '%s'", p);
        return 0;
}
