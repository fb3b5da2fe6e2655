#include "runtime/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/util.h"

static bool force_legacy;

void runtime_overlay_force_legacy(bool on)
{
        force_legacy = on;
}

/* Options that keep the upper dir a plain diff; older kernels may lack some. */
static const char *const optional_opts[][2] = {
        { "index", "off" },
        { "redirect_dir", "off" },
        { "metacopy", "off" },
};

static int fsconfig_set(int fd, const char *key, const char *value)
{
        if (syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING, key, value, 0) < 0)
                return -errno;
        return 0;
}

/* The kernel's own words about a failed fsconfig, from the context's message log. */
static char *fs_context_log(int fd)
{
        char buf[512];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return xstrdup(buf[1] == ' ' ? buf + 2 : buf); /* "e overlay: …" */
}

/* -EOPNOTSUPP when the new API or lowerdir+ is missing: the caller falls back. */
static int mount_fsconfig(const struct runtime_overlay *o, const char *target,
                          struct st_error **err)
{
        _cleanup_close_ int fd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fd < 0)
                return errno == ENOSYS ? -EOPNOTSUPP
                                       : st_error_set_errno(err, -errno, "open an overlay context");
        (void)fsconfig_set(fd, "source", "overlay");
        int r = 0;
        STRV_FOREACH(l, o->lowers)
                if ((r = fsconfig_set(fd, "lowerdir+", *l)) < 0) {
                        if (r == -EINVAL && l == o->lowers)
                                return -EOPNOTSUPP; /* no lowerdir+ before Linux 6.8 */
                        _cleanup_free_ char *why = fs_context_log(fd);
                        return st_error_set_errno(err, r, "overlay: layer '%s'%s%s", *l,
                                                  why ? ": " : "", why ? why : "");
                }
        if ((r = fsconfig_set(fd, "upperdir", o->upper)) < 0 ||
            (r = fsconfig_set(fd, "workdir", o->work)) < 0)
                return st_error_set_errno(err, r, "overlay: upper or work dir");
        for (size_t i = 0; i < ELEMENTSOF(optional_opts); i++)
                if (fsconfig_set(fd, optional_opts[i][0], optional_opts[i][1]) < 0)
                        log_debug("overlay: %s=%s not supported, ignoring", optional_opts[i][0],
                                  optional_opts[i][1]);
        if (o->volatile_upper &&
            syscall(SYS_fsconfig, fd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
                log_debug("overlay: volatile not supported, ignoring");
        if (syscall(SYS_fsconfig, fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                r = -errno;
                _cleanup_free_ char *why = fs_context_log(fd);
                return st_error_set_errno(err, r, "mount overlay on '%s'%s%s", target,
                                          why ? ": " : "", why ? why : "");
        }
        _cleanup_close_ int mfd = (int)syscall(SYS_fsmount, fd, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0)
                return st_error_set_errno(err, -errno, "mount overlay on '%s'", target);
        if (syscall(SYS_move_mount, mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return st_error_set_errno(err, -errno, "move overlay onto '%s'", target);
        return 0;
}

/* mount(2) in a child that chdirs to BASE first: relative lowerdirs keep DATA short. The child
 * only makes system calls before _exit. */
static int mount_in_dir(const char *base, const char *target, const char *data)
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (chdir(base) < 0)
                        _exit(errno);
                if (mount("overlay", target, "overlay", 0, data) < 0)
                        _exit(errno);
                _exit(0);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(st))
                return -EIO;
        return -WEXITSTATUS(st);
}

static char *join_lowers(char **l)
{
        char *s = xstrdup("");
        STRV_FOREACH(p, l) {
                char *n = xasprintf("%s%s%s", s, *s ? ":" : "", *p);
                free(s);
                s = n;
        }
        return s;
}

static int mount_legacy(const struct runtime_overlay *o, const char *target, struct st_error **err)
{
        char **lowers = o->short_lowers ? o->short_lowers : o->lowers;
        const char *base = o->short_lowers ? o->short_base : "/";
        _cleanup_free_ char *l = join_lowers(lowers);
        _cleanup_free_ char *data =
                xasprintf("lowerdir=%s,upperdir=%s,workdir=%s,index=off,"
                          "redirect_dir=off,metacopy=off%s",
                          l, o->upper, o->work, o->volatile_upper ? ",volatile" : "");
        if (strlen(data) >= (size_t)getpagesize())
                return st_error_set(err, -E2BIG,
                                    "mount overlay on '%s': %zu layers do not fit in mount(2)'s"
                                    " options on this kernel (Linux 6.8+ mounts any number)",
                                    target, strv_length(lowers));
        int r = mount_in_dir(base, target, data);
        if (r == -EINVAL) {
                /* an older kernel without one of the optional options */
                free(data);
                data = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", l, o->upper, o->work);
                r = mount_in_dir(base, target, data);
        }
        if (r < 0)
                return st_error_set_errno(err, r, "mount overlay on '%s'", target);
        return 0;
}

int runtime_overlay_mount(const struct runtime_overlay *o, const char *target,
                          struct st_error **err)
{
        if (!o->lowers || !o->lowers[0])
                return st_error_set(err, -EINVAL, "overlay on '%s': no lower layer", target);
        int r = force_legacy ? -EOPNOTSUPP : mount_fsconfig(o, target, err);
        if (r != -EOPNOTSUPP)
                return r;
        log_debug("overlay: no lowerdir+ here, mounting with mount(2)");
        return mount_legacy(o, target, err);
}

bool runtime_is_mountpoint(const char *path)
{
        struct statx sx;
        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0 &&
            (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
        _cleanup_free_ char *parent = xasprintf("%s/..", path);
        struct stat a, b;
        if (stat(path, &a) < 0 || stat(parent, &b) < 0)
                return false;
        return a.st_dev != b.st_dev;
}

int runtime_overlay_unmount(const char *target, struct st_error **err)
{
        if (!runtime_is_mountpoint(target))
                return 0;
        if (umount2(target, UMOUNT_NOFOLLOW) == 0)
                return 0;
        if (errno == EINVAL || errno == ENOENT)
                return 0;
        if (errno == EBUSY && umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                return 0;
        return st_error_set_errno(err, -errno, "unmount '%s'", target);
}
