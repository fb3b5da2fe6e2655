#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "store/store-internal.h"

char *store_blob_path(const struct store *s, const char *digest)
{
        return xasprintf("%s/blobs/sha256/%s", s->root, digest_hex(digest));
}

bool store_blob_exists(const struct store *s, const char *digest)
{
        if (!digest_is_valid(digest))
                return false;
        _cleanup_free_ char *p = store_blob_path(s, digest);
        return access(p, F_OK) == 0;
}

int store_blob_commit(struct store *s, const char *tmp_path, const char *digest,
                      struct st_error **err)
{
        int r = digest_check(digest, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *dst = store_blob_path(s, digest);
        if (access(dst, F_OK) == 0) {
                (void)unlink(tmp_path);
                return 0;
        }
        {
                _cleanup_close_ int fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || fsync(fd) < 0)
                        return st_error_set_errno(err, -errno, "sync '%s'", tmp_path);
                (void)fchmod(fd, 0644);
        }
        if (rename(tmp_path, dst) < 0)
                return st_error_set_errno(err, -errno, "store blob %s", digest);
        r = fsync_dir_at(s->root_fd, "blobs/sha256");
        if (r < 0)
                return st_error_set_errno(err, r, "sync blobs dir");
        return 0;
}

int store_blob_put(struct store *s, const void *buf, size_t len, char *ret_digest,
                   struct st_error **err)
{
        char d[DIGEST_STR_LEN + 1];
        digest_buf(buf, len, d);
        if (!store_blob_exists(s, d)) {
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *tmp = NULL;
                int r = store_tmp_file(s, "blob", &fd, &tmp, err);
                if (r < 0)
                        return r;
                r = write_full(fd, buf, len);
                if (r < 0) {
                        (void)unlink(tmp);
                        return st_error_set_errno(err, r, "write blob %s", d);
                }
                r = store_blob_commit(s, tmp, d, err);
                if (r < 0)
                        return r;
        }
        if (ret_digest)
                memcpy(ret_digest, d, sizeof(d));
        return 0;
}

int store_blob_open(const struct store *s, const char *digest, int *ret_fd, struct st_error **err)
{
        int r = digest_check(digest, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *p = store_blob_path(s, digest);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return st_error_set(err, ST_E_NOT_FOUND, "blob %s not in the store",
                                            digest);
                return st_error_set_errno(err, -errno, "open blob %s", digest);
        }
        *ret_fd = fd;
        return 0;
}

int store_blob_read(const struct store *s, const char *digest, size_t cap, char **ret,
                    size_t *ret_len, struct st_error **err)
{
        _cleanup_close_ int fd = -1;
        int r = store_blob_open(s, digest, &fd, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        r = read_full_fd(fd, cap, &buf, &len);
        if (r == -EFBIG)
                return st_error_set(err, ST_E_TOO_BIG, "blob %s is larger than %zu bytes", digest,
                                    cap);
        if (r < 0)
                return st_error_set_errno(err, r, "read blob %s", digest);
        char d[DIGEST_STR_LEN + 1];
        digest_buf(buf, len, d);
        if (!streq(d, digest))
                return st_error_set(err, ST_E_DIGEST_MISMATCH,
                                    "blob %s is corrupt: its content hashes to %s", digest, d);
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}
