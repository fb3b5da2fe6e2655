/* Writing one entry below a job's destination dir: created by name in an fd of its parent,
 * never through a symlink; owner, then mode (chown clears setuid), then xattrs (after chown,
 * which drops security.capability), then times. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/util.h"
#include "build/copy-internal.h"

static int dest_error(const struct copier *c, const char *rel, int r, const char *what,
                      struct st_error **err)
{
        _cleanup_free_ char *path = copy_plan_image_path(c->base, rel);
        return st_error_set_errno(err, r, "%s failed: %s '%s'", c->p->verb, what, path);
}

/* The fd of the directory REL's parent below base (cached: walks go dir by dir). */
static int parent_fd(struct copier *c, const char *rel, struct st_error **err)
{
        const char *base = path_base(rel);
        _cleanup_free_ char *dir = xstrndup(rel, base > rel ? (size_t)(base - rel - 1) : 0);
        if (c->pdir && streq(c->pdir, dir))
                return c->pdir_fd;
        c->pdir_fd = safe_close(c->pdir_fd);
        c->pdir = mfree_str(c->pdir);
        int fd = archive_open_in_root(c->base_fd, dir, O_RDONLY | O_DIRECTORY, false);
        if (fd < 0)
                return dest_error(c, dir, fd, "open", err);
        c->pdir = TAKE_PTR(dir);
        c->pdir_fd = fd;
        return fd;
}

/* Best effort, as BuildKit: only a failing disk is an error. */
static int copy_xattrs(int sfd, int dfd)
{
        ssize_t n = flistxattr(sfd, NULL, 0);
        if (n <= 0)
                return 0;
        _cleanup_free_ char *names = xmalloc((size_t)n);
        n = flistxattr(sfd, names, (size_t)n);
        for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
                const char *name = names + i;
                if (startswith(name, "trusted.overlay."))
                        continue;
                ssize_t vn = fgetxattr(sfd, name, NULL, 0);
                if (vn < 0)
                        continue;
                _cleanup_free_ char *v = xmalloc((size_t)vn + 1);
                vn = fgetxattr(sfd, name, v, (size_t)vn);
                if (vn >= 0 && fsetxattr(dfd, name, v, (size_t)vn, 0) < 0 &&
                    (errno == ENOSPC || errno == EDQUOT || errno == EIO))
                        return -errno;
        }
        return 0;
}

/* Owner, mode and xattrs of E onto the open DFD (SFD: E's source, for xattrs; may be -1). */
static int set_meta(struct copier *c, const struct walk_entry *e, int sfd, int dfd,
                    struct st_error **err)
{
        uid_t uid;
        gid_t gid;
        copy_plan_owner(c->p, e->st, &uid, &gid);
        if (fchown(dfd, uid, gid) < 0)
                return dest_error(c, e->rel, -errno, "chown", err);
        if (fchmod(dfd, chmod_spec_apply(&c->p->chmod, e->st->st_mode)) < 0)
                return dest_error(c, e->rel, -errno, "chmod", err);
        int r = sfd >= 0 ? copy_xattrs(sfd, dfd) : 0;
        if (r < 0)
                return dest_error(c, e->rel, r, "set xattrs on", err);
        return 0;
}

/* What is at NAME may go for a non-directory: -EISDIR (a directory is in the way) or 0. */
static int clear_for_file(struct copier *c, const struct walk_entry *e, int pfd, const char *name,
                          struct st_error **err)
{
        struct stat st;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : dest_error(c, e->rel, -errno, "stat", err);
        if (S_ISDIR(st.st_mode)) {
                _cleanup_free_ char *path = copy_plan_image_path(c->base, e->rel);
                return st_error_set(err, -EISDIR,
                                    "%s failed: cannot replace directory '%s' with a file",
                                    c->p->verb, path);
        }
        if (unlinkat(pfd, name, 0) < 0 && errno != ENOENT)
                return dest_error(c, e->rel, -errno, "replace", err);
        return 0;
}

static int copy_data(int sfd, int dfd, uint64_t size)
{
        bool first = true;
        while (size > 0) {
                ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, MIN(size, (uint64_t)1 << 30), 0);
                if (n < 0 && first &&
                    (errno == ENOSYS || errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP ||
                     errno == EPERM || errno == EIO))
                        break;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : 0; /* shrunk meanwhile: keep what is there */
                first = false;
                size -= (uint64_t)n;
        }
        if (size == 0)
                return 0;
        char buf[64 * 1024];
        for (;;) {
                ssize_t n = read(sfd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : 0;
                int r = write_full(dfd, buf, (size_t)n);
                if (r < 0)
                        return r;
        }
}

/* A hardlink to FIRST (a path below base written earlier in this job). */
static int write_hardlink(struct copier *c, const struct walk_entry *e, int pfd, const char *name,
                          const char *first, struct st_error **err)
{
        _cleanup_close_ int t = archive_open_in_root(c->base_fd, first, O_PATH | O_NOFOLLOW, false);
        if (t < 0)
                return dest_error(c, first, t, "open", err);
        if (linkat(t, "", pfd, name, AT_EMPTY_PATH) < 0) {
                char proc[64]; /* without CAP_DAC_READ_SEARCH: through /proc */
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t);
                if (linkat(AT_FDCWD, proc, pfd, name, AT_SYMLINK_FOLLOW) < 0)
                        return dest_error(c, e->rel, -errno, "link", err);
        }
        c->stats.entries++;
        return 0;
}

static int write_file(struct copier *c, const struct walk_entry *e, int pfd, const char *name,
                      struct st_error **err)
{
        const char *first = inode_map_add(&c->inodes, e->st, e->rel);
        if (first)
                return write_hardlink(c, e, pfd, name, first, err);
        _cleanup_close_ int sfd = walk_open_file(c->p->source->root_fd, e);
        if (sfd < 0)
                return st_error_set_errno(err, sfd, "%s failed: open '%s'", c->p->verb, e->src);
        _cleanup_close_ int dfd =
                openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (dfd < 0)
                return dest_error(c, e->rel, -errno, "create", err);
        int r = copy_data(sfd, dfd, (uint64_t)e->st->st_size);
        if (r < 0)
                return dest_error(c, e->rel, r, "write", err);
        r = set_meta(c, e, sfd, dfd, err);
        if (r < 0)
                return r;
        struct timespec ts[2] = { e->st->st_atim, e->st->st_mtim };
        if (futimens(dfd, ts) < 0)
                return dest_error(c, e->rel, -errno, "set times on", err);
        c->stats.entries++;
        c->stats.bytes += (uint64_t)e->st->st_size;
        return 0;
}

/* Owner and times of a node that cannot be opened, by name, never followed. */
static int set_meta_at(struct copier *c, const struct walk_entry *e, int pfd, const char *name,
                       bool chmod, struct st_error **err)
{
        uid_t uid;
        gid_t gid;
        copy_plan_owner(c->p, e->st, &uid, &gid);
        if (fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return dest_error(c, e->rel, -errno, "chown", err);
        /* a node we just created under this name: chmod has nothing to follow */
        if (chmod && fchmodat(pfd, name, chmod_spec_apply(&c->p->chmod, e->st->st_mode), 0) < 0)
                return dest_error(c, e->rel, -errno, "chmod", err);
        struct timespec ts[2] = { e->st->st_atim, e->st->st_mtim };
        if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return dest_error(c, e->rel, -errno, "set times on", err);
        c->stats.entries++;
        return 0;
}

static int write_symlink(struct copier *c, const struct walk_entry *e, int pfd, const char *name,
                         struct st_error **err)
{
        _cleanup_close_ int lfd = walk_open(c->p->source->root_fd, e, O_PATH);
        char target[COPY_MAX_PATH + 1];
        ssize_t n = lfd < 0 ? lfd : readlinkat(lfd, "", target, sizeof(target));
        if (n < 0 || n > COPY_MAX_PATH)
                return st_error_set_errno(err, n < 0 ? (lfd < 0 ? lfd : -errno) : -ENAMETOOLONG,
                                          "%s failed: readlink '%s'", c->p->verb, e->src);
        target[n] = 0;
        if (symlinkat(target, pfd, name) < 0)
                return dest_error(c, e->rel, -errno, "symlink", err);
        return set_meta_at(c, e, pfd, name, false, err);
}

static int write_node(struct copier *c, const struct walk_entry *e, int pfd, const char *name,
                      struct st_error **err)
{
        mode_t type = e->st->st_mode & S_IFMT;
        if (mknodat(pfd, name, type | 0600, S_ISCHR(type) || S_ISBLK(type) ? e->st->st_rdev : 0) <
            0)
                return dest_error(c, e->rel, -errno, "mknod", err);
        return set_meta_at(c, e, pfd, name, true, err);
}

/* A directory: created, or merged into an existing one (whose owner and mode it takes). */
static int write_dir(struct copier *c, const struct walk_entry *e, int pfd, const char *name,
                     struct st_error **err)
{
        struct stat st;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
                _cleanup_free_ char *path = copy_plan_image_path(c->base, e->rel);
                return st_error_set(err, -ENOTDIR, "%s failed: cannot copy to non-directory: %s",
                                    c->p->verb, path);
        }
        if (mkdirat(pfd, name, 0700) < 0 && errno != EEXIST)
                return dest_error(c, e->rel, -errno, "mkdir", err);
        _cleanup_close_ int dfd =
                openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return dest_error(c, e->rel, -errno, "open", err);
        _cleanup_close_ int sfd = walk_open(c->p->source->root_fd, e, O_RDONLY | O_DIRECTORY);
        int r = set_meta(c, e, sfd, dfd, err);
        if (r >= 0)
                c->stats.entries++;
        return r;
}

/* After its contents: the directory's times (creating entries changed them). */
static int leave_dir(struct copier *c, const struct walk_entry *e, int pfd, const char *name,
                     struct st_error **err)
{
        struct timespec ts[2] = { e->st->st_atim, e->st->st_mtim };
        if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return dest_error(c, e->rel, -errno, "set times on", err);
        return 0;
}

int copy_write_entry(void *userdata, const struct walk_entry *e, struct st_error **err)
{
        struct copier *c = userdata;
        int pfd = parent_fd(c, e->rel, err);
        if (pfd < 0)
                return pfd;
        const char *name = path_base(e->rel);
        mode_t type = e->st->st_mode & S_IFMT;
        if (e->leave)
                return leave_dir(c, e, pfd, name, err);
        if (type == S_IFDIR)
                return write_dir(c, e, pfd, name, err);
        int r = clear_for_file(c, e, pfd, name, err);
        if (r < 0)
                return r;
        if (type == S_IFREG)
                return write_file(c, e, pfd, name, err);
        if (type == S_IFLNK)
                return write_symlink(c, e, pfd, name, err);
        return write_node(c, e, pfd, name, err);
}
