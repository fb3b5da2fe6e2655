#include "basic/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/util.h"

int write_full(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
        char *p = buf;
        size_t done = 0;
        while (done < len) {
                ssize_t n = read(fd, p + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t)n;
        }
        return (ssize_t)done;
}

int read_full_fd(int fd, size_t cap, char **ret_buf, size_t *ret_len)
{
        size_t alloc = 4096, len = 0;
        _cleanup_free_ char *buf = xmalloc(alloc);
        for (;;) {
                if (len + 1 >= alloc) {
                        if (alloc > cap + 1)
                                return -EFBIG;
                        alloc *= 2;
                        buf = xrealloc(buf, alloc);
                }
                ssize_t n = read(fd, buf + len, alloc - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > cap)
                        return -EFBIG;
        }
        buf[len] = 0;
        *ret_buf = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int read_full_file_at(int dirfd, const char *path, size_t cap, char **ret_buf, size_t *ret_len)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, cap, ret_buf, ret_len);
}

int mkdir_p_at(int dirfd, const char *path, mode_t mode)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdirat(dirfd, p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdirat(dirfd, p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int rm_rf_children(int fd)
{
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        rewinddir(d);
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int q = rm_rf_at(fd, de->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        return r;
}

int rm_rf_at(int dirfd, const char *name)
{
        if (unlinkat(dirfd, name, 0) == 0)
                return 0;
        if (errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;
        _cleanup_close_ int fd =
                openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        int r = rm_rf_children(fd);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return r < 0 ? r : -errno;
        return r;
}

int fsync_dir_at(int dirfd, const char *path)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int random_hex(char *out, size_t nbytes)
{
        unsigned char b[64];
        if (nbytes > sizeof(b))
                return -EINVAL;
        if (getrandom(b, nbytes, 0) != (ssize_t)nbytes)
                return -EIO;
        hex_encode(b, nbytes, out);
        return 0;
}

static int write_replace(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                         bool sync)
{
        char rnd[17];
        int r = random_hex(rnd, 8);
        if (r < 0)
                return r;
        _cleanup_free_ char *tmp = xasprintf("%s.tmp-%s", name, rnd);
        _cleanup_close_ int fd =
                openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        r = write_full(fd, buf, len);
        if (r == 0 && sync && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlinkat(dirfd, tmp, 0);
                return r;
        }
        if (!sync)
                return 0;
        _cleanup_free_ char *dir = xstrdup(name);
        char *slash = strrchr(dir, '/');
        if (slash)
                *slash = 0;
        return fsync_dir_at(dirfd, slash ? dir : ".");
}

int write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode)
{
        return write_replace(dirfd, name, buf, len, mode, true);
}

int write_file_replace_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode)
{
        return write_replace(dirfd, name, buf, len, mode, false);
}

struct ino_set {
        ino_t *v;
        size_t n, alloc;
};

static bool ino_seen(struct ino_set *s, ino_t ino)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i] == ino)
                        return true;
        if (s->n == s->alloc) {
                s->alloc = s->alloc ? s->alloc * 2 : 64;
                s->v = xrealloc(s->v, s->alloc * sizeof(ino_t));
        }
        s->v[s->n++] = ino;
        return false;
}

static int du_walk(int fd, struct ino_set *seen, uint64_t *total)
{
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(
                                fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                return -errno;
                        int r = du_walk(sub, seen, total);
                        if (r < 0)
                                return r;
                } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
                        if (st.st_nlink > 1 && ino_seen(seen, st.st_ino))
                                continue;
                        *total += (uint64_t)st.st_size;
                }
        }
        return 0;
}

int disk_usage_at(int dirfd, const char *name, uint64_t *ret_bytes)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct ino_set seen = { 0 };
        uint64_t total = 0;
        int r = du_walk(fd, &seen, &total);
        free(seen.v);
        if (r < 0)
                return r;
        *ret_bytes = total;
        return 0;
}
