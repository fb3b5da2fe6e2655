#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive/archive-internal.h"
#include "archive/archive.h"
#include "basic/util.h"
#include "digest/digest.h"

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int archive_list_sorted(int fd, char ***ret)
{
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        _cleanup_strv_ char **l = NULL;
        struct dirent *de;
        while ((errno = 0, de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        strv_push(&l, de->d_name);
        if (errno)
                return -errno;
        if (l)
                qsort(l, strv_length(l), sizeof(char *), cmp_str);
        *ret = TAKE_PTR(l);
        return 0;
}

static char type_char(mode_t m)
{
        return S_ISREG(m)    ? 'f'
               : S_ISDIR(m)  ? 'd'
               : S_ISLNK(m)  ? 'l'
               : S_ISCHR(m)  ? 'c'
               : S_ISBLK(m)  ? 'b'
               : S_ISFIFO(m) ? 'p'
                             : 's';
}

#define TREE2_PREFIX "tree2:"
#define CRC_BUF      (256 * 1024)

struct tree_ctx {
        struct digest_ctx *d;
        int version; /* 1: file contents by sha256 ("sha256:…"); 2: by CRC-32 ("tree2:…") */
        char *buf;   /* CRC_BUF bytes for version 2 */
        const struct archive_crcs *crcs; /* CRCs known already (version 2), or NULL */
};

/* "crc32:XXXXXXXX" of what is left to read of F into OUT (15 bytes). */
static int crc_fd(struct tree_ctx *t, int f, char *out, struct st_error **err)
{
        uint32_t crc = 0;
        for (;;) {
                ssize_t n = read(f, t->buf, CRC_BUF);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return st_error_set_errno(err, -errno, "read");
                if (n == 0)
                        break;
                crc = libdeflate_crc32(crc, t->buf, (size_t)n);
        }
        snprintf(out, 15, "crc32:%08x", (unsigned)crc);
        return 0;
}

/* The type-specific tail of NAME's record (in the directory FD); caller frees. */
static int record_tail(struct tree_ctx *t, int fd, const char *name, const struct stat *st,
                       char **ret, struct st_error **err)
{
        char buf[DIGEST_STR_LEN + 1];
        if (S_ISREG(st->st_mode)) {
                uint32_t crc;
                if (t->version == 2 && archive_crcs_get(t->crcs, st->st_dev, st->st_ino,
                                                        (uint64_t)st->st_size, &crc)) {
                        snprintf(buf, 15, "crc32:%08x", (unsigned)crc);
                } else {
                        _cleanup_close_ int f = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (f < 0)
                                return st_error_set_errno(err, -errno, "open '%s'", name);
                        int r = t->version == 1 ? digest_fd(f, buf, NULL, err)
                                                : crc_fd(t, f, buf, err);
                        if (r < 0)
                                return r;
                }
                *ret = xasprintf(" %lld %lld %s", (long long)st->st_size,
                                 (long long)st->st_mtim.tv_sec, buf);
        } else if (S_ISLNK(st->st_mode)) {
                char target[4097];
                ssize_t n = readlinkat(fd, name, target, sizeof(target) - 1);
                if (n < 0)
                        return st_error_set_errno(err, -errno, "readlink '%s'", name);
                target[n] = 0;
                *ret = xasprintf(" %lld %zd:%s", (long long)st->st_mtim.tv_sec, n, target);
        } else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
                *ret = xasprintf(" %u,%u", major(st->st_rdev), minor(st->st_rdev));
        } else if (S_ISDIR(st->st_mode)) {
                _cleanup_close_ int d =
                        openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                ssize_t n = d < 0 ? -1 : fgetxattr(d, "trusted.overlay.opaque", buf, 2);
                *ret = xstrdup(n == 1 && buf[0] == 'y' ? " opaque" : "");
        } else {
                *ret = xstrdup("");
        }
        return 0;
}

/* Hash one record: "PATH\0T MODE UID GID<tail>\n". */
static int emit(struct tree_ctx *t, int fd, const char *name, const char *path,
                const struct stat *st, struct st_error **err)
{
        _cleanup_free_ char *tail = NULL;
        int r = record_tail(t, fd, name, st, &tail, err);
        if (r < 0)
                return st_error_wrap(err, "tree digest '%s'", path);
        _cleanup_free_ char *rec =
                xasprintf("%c %04o %u %u%s\n", type_char(st->st_mode),
                          (unsigned)(st->st_mode & 07777), st->st_uid, st->st_gid, tail);
        digest_ctx_update(t->d, path, strlen(path) + 1);
        digest_ctx_update(t->d, rec, strlen(rec));
        return 0;
}

/* Hash the entries of PATH (sorted), then recurse into its subdirectories, holding one fd. */
static int walk(int root, struct tree_ctx *t, const char *path, struct st_error **err)
{
        _cleanup_strv_ char **names = NULL, **subdirs = NULL;
        {
                _cleanup_close_ int fd = archive_open_in_root(
                        root, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, false);
                if (fd < 0)
                        return st_error_set_errno(err, fd, "tree digest: open '%s'", path);
                int r = archive_list_sorted(fd, &names);
                if (r < 0)
                        return st_error_set_errno(err, r, "tree digest: list '%s'", path);
                STRV_FOREACH(n, names) {
                        _cleanup_free_ char *child =
                                *path ? xasprintf("%s/%s", path, *n) : xstrdup(*n);
                        struct stat st;
                        if (fstatat(fd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                return st_error_set_errno(err, -errno, "tree digest: stat '%s'",
                                                          child);
                        r = emit(t, fd, *n, child, &st, err);
                        if (r < 0)
                                return r;
                        if (S_ISDIR(st.st_mode))
                                strv_consume(&subdirs, TAKE_PTR(child));
                }
        }
        STRV_FOREACH(s, subdirs) {
                int r = walk(root, t, *s, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int tree_digest(int dirfd, struct tree_ctx *t, char *ret_digest, struct st_error **err)
{
        struct stat st;
        if (fstat(dirfd, &st) < 0)
                return st_error_set_errno(err, -errno, "tree digest: stat");
        int r = emit(t, dirfd, ".", ".", &st, err);
        if (r < 0)
                return r;
        r = walk(dirfd, t, "", err);
        if (r < 0)
                return r;
        char d[DIGEST_STR_LEN + 1];
        digest_ctx_final(t->d, d);
        if (t->version == 1)
                memcpy(ret_digest, d, sizeof(d));
        else /* "tree2:" and the hex: one byte shorter than "sha256:…" */
                snprintf(ret_digest, DIGEST_STR_LEN + 1, TREE2_PREFIX "%s", d + 7);
        return 0;
}

/* The digest of DIRFD in form VERSION, with the CRCs CRCS knows (version 2). */
static int digest_with(int dirfd, int version, const struct archive_crcs *crcs, char *ret_digest,
                       struct st_error **err)
{
        struct tree_ctx t = { .d = digest_ctx_new(), .version = version, .crcs = crcs };
        if (version == 2)
                t.buf = xmalloc(CRC_BUF);
        int r = tree_digest(dirfd, &t, ret_digest, err);
        digest_ctx_free(t.d);
        free(t.buf);
        return r;
}

int archive_tree_digest_like(int dirfd, const char *like, char *ret_digest, struct st_error **err)
{
        int version = like && !startswith(like, TREE2_PREFIX) ? 1 : 2;
        return digest_with(dirfd, version, NULL, ret_digest, err);
}

int archive_tree_digest(int dirfd, char *ret_digest, struct st_error **err)
{
        return digest_with(dirfd, 2, NULL, ret_digest, err);
}

int archive_tree_digest_crcs(int dirfd, const struct archive_crcs *crcs, char *ret_digest,
                             struct st_error **err)
{
        return digest_with(dirfd, 2, crcs, ret_digest, err);
}
