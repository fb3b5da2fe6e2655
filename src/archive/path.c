#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "archive/archive-internal.h"
#include "archive/archive.h"
#include "basic/util.h"

static bool force_fallback;
static bool openat2_missing;

void archive_force_openat2_fallback(bool on)
{
        force_fallback = on;
}

int archive_path_clean(const char *name, char **ret)
{
        if (name[0] == '/')
                return -EPERM;
        size_t len = strlen(name);
        _cleanup_free_ char *out = xmalloc(len + 1);
        size_t o = 0;
        for (const char *p = name; *p;) {
                size_t n = strcspn(p, "/");
                if ((n == 1 && p[0] == '.') || n == 0) {
                        /* nothing */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (o == 0)
                                return -EXDEV;
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--; /* the separator before the dropped component */
                } else {
                        if (o > 0)
                                out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p += n;
                if (*p == '/')
                        p++;
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int openat2_in_root(int root, const char *path, int flags, bool follow)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
                           (follow ? 0 : RESOLVE_NO_SYMLINKS),
        };
        for (int tries = 0;; tries++) {
                long fd = syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                /* EAGAIN: a concurrent rename raced the lookup; retry a few times */
                if (errno != EAGAIN || tries >= 16)
                        return -errno;
        }
}

/* The fallback: walk component by component, refusing every symlink. */
static int walk_in_root(int root, const char *path, int flags)
{
        _cleanup_close_ int cur = openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return -errno;
        _cleanup_free_ char *p = xstrdup(path);
        char *s = p;
        for (char *slash; (slash = strchr(s, '/')); s = slash + 1) {
                *slash = 0;
                int fd = openat(cur, s, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                struct stat st;
                int r = fstat(fd, &st) < 0 ? -errno : 0;
                if (r == 0 && !S_ISDIR(st.st_mode))
                        r = S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
                if (r < 0) {
                        safe_close(fd);
                        return r;
                }
                safe_close(cur);
                cur = fd;
        }
        int fd = openat(cur, *s ? s : ".", flags | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ELOOP && (flags & O_NOFOLLOW) == 0)
                return -ELOOP;
        return fd < 0 ? -errno : fd;
}

int archive_open_in_root(int root, const char *path, int flags, bool follow)
{
        if (!force_fallback && !openat2_missing) {
                int fd = openat2_in_root(root, path, flags, follow);
                if (fd != -ENOSYS)
                        return fd;
                openat2_missing = true;
        }
        return walk_in_root(root, path, flags);
}

int archive_open_dir_create(int root, const char *path)
{
        const int flags = O_RDONLY | O_DIRECTORY;
        int fd = archive_open_in_root(root, path, flags, true);
        if (fd != -ENOENT)
                return fd;
        /* slow path: resolve each prefix, creating what is missing */
        _cleanup_close_ int cur = openat(root, ".", flags | O_CLOEXEC);
        if (cur < 0)
                return -errno;
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p;;) {
                char *slash = strchr(s, '/');
                if (slash)
                        *slash = 0;
                fd = archive_open_in_root(root, p, flags, true);
                if (fd == -ENOENT) {
                        if (mkdirat(cur, s, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        fd = archive_open_in_root(root, p, flags, true);
                }
                if (fd < 0)
                        return fd;
                safe_close(cur);
                cur = fd;
                if (!slash)
                        return TAKE_FD(cur);
                *slash = '/';
                s = slash + 1;
        }
}
