/* The container's filesystem from outside: its merged rootfs (mounted for the occasion when the
 * container is not running) for export and cp, and its changes (`diff`) read from the upper dir
 * against the image's layer dirs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/util.h"
#include "json/json.h"
#include "runtime/container.h"
#include "runtime/mount.h"
#include "runtime/runtime-internal.h"

#define DIFF_MAX_DEPTH 256

int runtime_rootfs_mount(struct store *s, const struct store_container *c, const char *dir,
                         int dir_fd, struct st_error **err)
{
        _cleanup_strv_ char **lowers = NULL, **shorts = NULL;
        for (size_t i = strv_length(c->chain_ids); i-- > 0;) {
                strv_consume(&lowers, store_layer_diff_path(s, c->chain_ids[i]));
                strv_consume(&shorts, store_layer_link_name(c->chain_ids[i]));
        }
        if (!lowers) { /* FROM scratch: overlay needs a lower dir */
                if (mkdirat(dir_fd, "empty", 0755) < 0 && errno != EEXIST)
                        return st_error_set_errno(err, -errno, "create '%s/empty'", dir);
                strv_consume(&lowers, xasprintf("%s/empty", dir));
                shorts = strv_free(shorts);
        }
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        _cleanup_free_ char *work = xasprintf("%s/work", dir);
        _cleanup_free_ char *merged = xasprintf("%s/merged", dir);
        /* `run --rm`: the writable layer goes with the container, so its unmount need not
         * wait for the upper filesystem to be synced (~40 ms here) */
        _cleanup_json_ json_t *cfg = runtime_container_config(c);
        struct runtime_overlay o = {
                .lowers = lowers,
                .short_lowers = shorts,
                .short_base = store_root(s),
                .upper = upper,
                .work = work,
                .volatile_upper = json_is_true(
                        json_object_get(json_object_get(cfg, "HostConfig"), "AutoRemove")),
        };
        int r = runtime_overlay_unmount(merged, err); /* a stale one */
        if (r >= 0)
                r = runtime_overlay_mount(&o, merged, err);
        return r;
}

static int lock_dir(int fd, const char *id, struct st_error **err)
{
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return st_error_set_errno(err, -errno, "lock container %.12s", id);
        return 0;
}

/* Under the container's lock: C is not running (the lock keeps a start out), so mount it. */
static int mount_stopped(const struct runtime_host *h, struct store_container *c,
                         struct runtime_rootfs *r, struct st_error **err)
{
        int k = runtime_container_reload(h, c, err);
        if (k >= 0 && c->state == STORE_CONTAINER_RUNNING)
                return 1; /* started meanwhile: use its mount */
        if (k >= 0)
                k = runtime_rootfs_mount(h->store, c, r->dir, r->dir_fd, err);
        if (k < 0)
                return k;
        r->mounted = true;
        return 0;
}

int runtime_container_rootfs(const struct runtime_host *h, struct store_container *c,
                             struct runtime_rootfs *ret, struct st_error **err)
{
        struct runtime_rootfs r = { .dir = store_container_dir(h->store, c->id), .dir_fd = -1 };
        r.path = xasprintf("%s/merged", r.dir);
        int k = runtime_container_refresh(h, c, err);
        if (k >= 0 && c->state != STORE_CONTAINER_RUNNING) {
                r.dir_fd = open(r.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                k = r.dir_fd < 0 ? st_error_set_errno(err, -errno, "open '%s'", r.dir)
                                 : lock_dir(r.dir_fd, c->id, err);
                if (k >= 0)
                        k = mount_stopped(h, c, &r, err);
                if (k != 0) /* failed, or running after all */
                        r.dir_fd = safe_close(r.dir_fd);
        }
        if (k < 0) {
                runtime_container_rootfs_release(&r);
                return k;
        }
        *ret = r;
        return 0;
}

void runtime_container_rootfs_release(struct runtime_rootfs *r)
{
        if (r->mounted)
                (void)runtime_overlay_unmount(r->path, NULL);
        r->mounted = false;
        r->dir_fd = safe_close(r->dir_fd); /* drops the lock */
        r->path = mfree_str(r->path);
        r->dir = mfree_str(r->dir);
}

/* ----- diff ----- */

struct diff {
        int *lowers; /* the image's layer dirs, top first */
        size_t n_lowers;
        char **changes; /* "A /path" … */
        char **listed;  /* paths already recorded (for the parent rule) */
};

static char **list_dir(int fd)
{
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dup < 0 ? NULL : fdopendir(dup);
        if (!d) {
                safe_close(dup);
                return NULL;
        }
        char **l = NULL;
        struct dirent *e;
        while ((e = readdir(d)))
                if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
                        strv_push(&l, e->d_name);
        closedir(d);
        if (l)
                qsort(l, strv_length(l), sizeof(char *), runtime_strcmp_ptr);
        return l;
}

static bool is_whiteout(const struct stat *st)
{
        return S_ISCHR(st->st_mode) && major(st->st_rdev) == 0 && minor(st->st_rdev) == 0;
}

static bool is_opaque(int dirfd, const char *name)
{
        _cleanup_close_ int fd =
                openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        char v[2];
        return fd >= 0 && fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

static bool dir_is_empty(int dirfd, const char *name)
{
        _cleanup_close_ int fd =
                openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_strv_ char **l = fd < 0 ? NULL : list_dir(fd);
        return fd >= 0 && !l;
}

/* The lstat of PATH (relative) in the topmost lower layer that has it; false if none does. */
static bool in_lowers(const struct diff *d, const char *path, struct stat *ret)
{
        for (size_t i = 0; i < d->n_lowers; i++) {
                _cleanup_close_ int fd =
                        archive_open_in_root(d->lowers[i], path, O_PATH | O_NOFOLLOW, true);
                if (fd >= 0 && fstat(fd, ret) == 0)
                        return true;
        }
        return false;
}

/* Record the change KIND at PATH, after its ancestors as C unless they are listed already. */
static void record(struct diff *d, char kind, const char *path)
{
        const char *slash = strrchr(path, '/');
        if (slash) {
                _cleanup_free_ char *parent = xstrndup(path, (size_t)(slash - path));
                if (!strv_contains(d->listed, parent))
                        record(d, 'C', parent);
        }
        strv_consume(&d->changes, xasprintf("%c /%s", kind, path));
        strv_push(&d->listed, path);
}

/* The mount points the runtime creates in the upper dir when the image lacks them (Docker
 * keeps them in its hidden init layer): left out while they are empty. */
static bool is_placeholder(const char *path, const struct stat *st)
{
        static const char *const paths[] = { "dev",       "proc",         "sys",
                                             "etc/hosts", "etc/hostname", "etc/resolv.conf" };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                if (streq(path, paths[i]))
                        return S_ISDIR(st->st_mode) || (S_ISREG(st->st_mode) && st->st_size == 0);
        return false;
}

static int diff_dir(struct diff *d, int dirfd, const char *prefix, int depth,
                    struct st_error **err);

/* One entry NAME of the upper dir DIRFD, at PATH: Docker's rules (archive/changes.go). */
static int diff_entry(struct diff *d, int dirfd, const char *name, const char *path, int depth,
                      struct st_error **err)
{
        struct stat st, low;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return st_error_set_errno(err, -errno, "stat '/%s'", path);
        bool dir = S_ISDIR(st.st_mode);
        bool below = in_lowers(d, path, &low);
        if (is_whiteout(&st) || (dir && below && is_opaque(dirfd, name)))
                record(d, 'D', path);
        else if (!below && is_placeholder(path, &st) && (!dir || dir_is_empty(dirfd, name)))
                return 0;
        else if (!below)
                record(d, 'A', path);
        else if (!dir || !S_ISDIR(low.st_mode) || st.st_mode != low.st_mode ||
                 st.st_uid != low.st_uid || st.st_gid != low.st_gid)
                record(d, 'C', path); /* a directory is listed for what changed below it */
        if (!dir)
                return 0;
        _cleanup_close_ int sub =
                openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
                return st_error_set_errno(err, -errno, "open '/%s'", path);
        _cleanup_free_ char *p = xasprintf("%s/", path);
        return diff_dir(d, sub, p, depth + 1, err);
}

static int diff_dir(struct diff *d, int dirfd, const char *prefix, int depth, struct st_error **err)
{
        if (depth > DIFF_MAX_DEPTH)
                return st_error_set(err, ST_E_TOO_BIG, "upper dir nested deeper than %d",
                                    DIFF_MAX_DEPTH);
        _cleanup_strv_ char **names = list_dir(dirfd);
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *path = xasprintf("%s%s", prefix, *n);
                int r = diff_entry(d, dirfd, *n, path, depth, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int path_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a + 2, *(char *const *)b + 2);
}

int runtime_container_diff(const struct runtime_host *h, const struct store_container *c,
                           char ***ret, struct st_error **err)
{
        struct diff d = { 0 };
        size_t n = strv_length(c->chain_ids);
        d.lowers = xcalloc(n + 1, sizeof(int));
        int r = 0;
        for (size_t i = n; r >= 0 && i-- > 0;) {
                _cleanup_free_ char *p = store_layer_diff_path(h->store, c->chain_ids[i]);
                int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        r = st_error_set_errno(err, -errno, "open layer '%s'", p);
                else
                        d.lowers[d.n_lowers++] = fd;
        }
        _cleanup_free_ char *dir = store_container_dir(h->store, c->id);
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        _cleanup_close_ int ufd = r < 0 ? -1 : open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r >= 0 && ufd < 0)
                r = st_error_set_errno(err, -errno, "open '%s'", upper);
        if (r >= 0)
                r = diff_dir(&d, ufd, "", 0, err);
        for (size_t i = 0; i < d.n_lowers; i++)
                safe_close(d.lowers[i]);
        free(d.lowers);
        strv_free(d.listed);
        if (r < 0) {
                strv_free(d.changes);
                return r;
        }
        if (d.changes)
                qsort(d.changes, strv_length(d.changes), sizeof(char *), path_cmp);
        *ret = d.changes;
        return 0;
}
