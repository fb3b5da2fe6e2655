#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/util.h"
#include "digest/digest.h"
#include "image/manifest.h"
#include "store/store.h"
#include "tap.h"

/* A diff dir as overlay leaves it: files, a hardlink, a symlink, a whiteout, an opaque dir. */
static int make_upper(const char *path)
{
        if (mkdir(path, 0755) < 0)
                return -1;
        _cleanup_close_ int d = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0 || mkdir_p_at(d, "etc/sub", 0755) < 0 || mkdirat(d, "opq", 0700) < 0)
                return -1;
        if (write_file_atomic_at(d, "etc/hosts", "127.0.0.1 x\n", 12, 0644) < 0 ||
            write_file_atomic_at(d, "opq/keep", "k", 1, 0600) < 0)
                return -1;
        if (linkat(d, "etc/hosts", d, "etc/hosts.link", 0) < 0 ||
            symlinkat("../etc/hosts", d, "etc/sub/rel") < 0 ||
            mknodat(d, "gone", S_IFCHR | 0000, makedev(0, 0)) < 0 ||
            fchownat(d, "opq/keep", 1000, 1000, 0) < 0)
                return -1;
        _cleanup_close_ int o = openat(d, "opq", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (o < 0 || fsetxattr(o, "trusted.overlay.opaque", "y", 1, 0) < 0)
                return -1;
        return fchmodat(d, "etc/hosts", 04755, 0);
}

TEST(upper_dir_round_trips_through_a_layer)
{
        _cleanup_free_ char *root = xasprintf("%s/root", tap_tmpdir);
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_store_ struct store *s = NULL;
        ASSERT_OK_E(store_open(root, &s, &e), e);
        _cleanup_free_ char *upper = xasprintf("%s/upper", root);
        ASSERT_OK(make_upper(upper));
        char before[DIGEST_STR_LEN + 1], after[DIGEST_STR_LEN + 1];
        {
                _cleanup_close_ int d = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ASSERT_OK_E(archive_tree_digest(d, before, &e), e);
        }
        struct store_layer_result res;
        ASSERT_OK_E(store_layer_from_dir(s, upper, NULL, COMPRESS_GZIP, 0, &res, &e), e);
        ASSERT_TRUE(access(upper, F_OK) < 0); /* moved, not copied */
        ASSERT_EQ(res.size, 12 + 1);
        /* the layer dir is the very tree */
        _cleanup_free_ char *diff = store_layer_diff_path(s, res.chain_id);
        {
                _cleanup_close_ int d = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ASSERT_OK_E(archive_tree_digest(d, after, &e), e);
                ASSERT_STREQ(after, before);
        }
        /* and the blob, applied somewhere else, gives the same tree back */
        _cleanup_close_ int bfd = -1;
        ASSERT_OK_E(store_blob_open(s, res.digest, &bfd, &e), e);
        struct st_reader *in = st_fd_reader_new(bfd);
        struct store_layer_source src = {
                .in = in,
                .expected_digest = res.digest,
                .expected_diff_id = res.diff_id,
        };
        _cleanup_free_ char *root2 = xasprintf("%s/root2", tap_tmpdir);
        _cleanup_store_ struct store *s2 = NULL;
        ASSERT_OK_E(store_open(root2, &s2, &e), e);
        struct store_layer_result again;
        ASSERT_OK_E(store_layer_create(s2, &src, &again, &e), e);
        st_reader_free(in);
        ASSERT_STREQ(again.chain_id, res.chain_id);
        _cleanup_free_ char *diff2 = store_layer_diff_path(s2, again.chain_id);
        _cleanup_close_ int d2 = open(diff2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_OK_E(archive_tree_digest(d2, after, &e), e);
        ASSERT_STREQ(after, before);
        struct stat st1, st2;
        _cleanup_free_ char *h1 = xasprintf("%s/etc/hosts", diff2);
        _cleanup_free_ char *h2 = xasprintf("%s/etc/hosts.link", diff2);
        ASSERT_TRUE(stat(h1, &st1) == 0 && stat(h2, &st2) == 0);
        ASSERT_TRUE(st1.st_ino == st2.st_ino); /* still a hardlink */
}

TEST(layer_write_emits_whiteout_entries)
{
        _cleanup_free_ char *upper = xasprintf("%s/upper", tap_tmpdir);
        ASSERT_OK(make_upper(upper));
        _cleanup_close_ int d = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *out = xasprintf("%s/layer.tar", tap_tmpdir);
        _cleanup_close_ int fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        struct st_writer *w = st_fd_writer_new(fd);
        _cleanup_error_ struct st_error *e = NULL;
        struct archive_write_stats stats;
        ASSERT_OK_E(archive_layer_write(d, w, &stats, &e), e);
        st_writer_free(w);
        _cleanup_free_ char *cmd = xasprintf("tar -tvf %s > %s/list", out, tap_tmpdir);
        FILE *p = popen(cmd, "r");
        ASSERT_TRUE(p && pclose(p) == 0);
        _cleanup_free_ char *list = NULL;
        _cleanup_close_ int dd = open(tap_tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_OK(read_full_file_at(dd, "list", 1 << 20, &list, NULL));
        ASSERT_TRUE(strstr(list, " .wh.gone") != NULL);
        ASSERT_TRUE(strstr(list, " opq/.wh..wh..opq") != NULL);
        ASSERT_TRUE(strstr(list, "etc/hosts.link link to etc/hosts") != NULL);
        ASSERT_TRUE(strstr(list, "etc/sub/rel -> ../etc/hosts") != NULL);
        ASSERT_TRUE(strstr(list, "-rwsr-xr-x") != NULL);
        ASSERT_TRUE(strstr(list, " ./") == NULL);
}

static int fix_time(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        const struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
        return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* make_upper with every mtime fixed, so that two calls give the same tar. */
static int make_upper_fixed(const char *path)
{
        if (make_upper(path) < 0)
                return -1;
        return nftw(path, fix_time, 16, FTW_DEPTH | FTW_PHYS);
}

TEST(layer_from_dir_compresses_as_asked)
{
        static const struct {
                enum compress_type type;
                int level;
                const char *media_type;
                const char *magic;
                size_t magic_len;
        } cases[] = {
                { COMPRESS_GZIP, 1, MEDIA_TYPE_OCI_LAYER_GZIP, "\x1f\x8b", 2 },
                { COMPRESS_ZSTD, 0, MEDIA_TYPE_OCI_LAYER_ZSTD, "\x28\xb5\x2f\xfd", 4 },
                { COMPRESS_ZSTD, 19, MEDIA_TYPE_OCI_LAYER_ZSTD, "\x28\xb5\x2f\xfd", 4 },
                { COMPRESS_NONE, 0, MEDIA_TYPE_OCI_LAYER, "etc/", 4 },
        };

        _cleanup_free_ char *root = xasprintf("%s/root-compress", tap_tmpdir);
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_store_ struct store *s = NULL;
        ASSERT_OK_E(store_open(root, &s, &e), e);
        char diff_id[DIGEST_STR_LEN + 1] = "";
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *upper = xasprintf("%s/upper%zu", root, i);
                ASSERT_OK(make_upper_fixed(upper));
                struct store_layer_result res;
                ASSERT_OK_E(store_layer_from_dir(s, upper, NULL, cases[i].type, cases[i].level,
                                                 &res, &e),
                            e);
                ASSERT_STREQ(res.media_type, cases[i].media_type);
                if (i > 0)
                        ASSERT_STREQ(res.diff_id, diff_id); /* the same tar every time */
                memcpy(diff_id, res.diff_id, sizeof(diff_id));
                _cleanup_close_ int bfd = -1;
                ASSERT_OK_E(store_blob_open(s, res.digest, &bfd, &e), e);
                char head[4];
                ASSERT_EQ(pread(bfd, head, sizeof(head), 0), (ssize_t)sizeof(head));
                ASSERT_TRUE(memcmp(head, cases[i].magic, cases[i].magic_len) == 0);
        }
}

TEST(layer_write_clamps_mtimes_after_the_epoch)
{
        _cleanup_free_ char *upper = xasprintf("%s/upper-clamp", tap_tmpdir);
        ASSERT_OK(make_upper_fixed(upper)); /* every mtime 1000000000 */
        _cleanup_free_ char *newer = xasprintf("%s/etc/hosts", upper);
        const struct timespec late[2] = { { 2000000000, 5 }, { 2000000000, 5 } };
        ASSERT_OK(utimensat(AT_FDCWD, newer, late, AT_SYMLINK_NOFOLLOW));
        _cleanup_close_ int d = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *out = xasprintf("%s/clamp.tar", tap_tmpdir);
        _cleanup_close_ int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        struct st_writer *w = st_fd_writer_new(fd);
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(archive_layer_write_clamped(d, 1500000000, NULL, w, NULL, &e), e);
        st_writer_free(w);
        struct stat st;
        ASSERT_OK(stat(newer, &st)); /* the dir is clamped too */
        ASSERT_EQ(st.st_mtim.tv_sec, 1500000000);
        ASSERT_EQ(st.st_mtim.tv_nsec, 0);
        _cleanup_free_ char *older = xasprintf("%s/etc", upper);
        ASSERT_OK(stat(older, &st)); /* older than the epoch: kept */
        ASSERT_EQ(st.st_mtim.tv_sec, 1000000000);
        _cleanup_free_ char *cmd =
                xasprintf("TZ=UTC tar --full-time -tvf %s > %s/clamp.list", out, tap_tmpdir);
        FILE *p = popen(cmd, "r");
        ASSERT_TRUE(p && pclose(p) == 0);
        _cleanup_free_ char *list = NULL;
        _cleanup_close_ int dd = open(tap_tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_OK(read_full_file_at(dd, "clamp.list", 1 << 20, &list, NULL));
        ASSERT_TRUE(strstr(list, "2017-07-14 02:40:00 etc/hosts\n") != NULL);
        ASSERT_TRUE(strstr(list, "2001-09-09 01:46:40 etc/\n") != NULL);
}

/* The sha256 of DIR written as a tar. */
static void tar_digest(const char *dir, char *ret)
{
        _cleanup_close_ int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *out = xasprintf("%s/atime.tar", tap_tmpdir);
        _cleanup_close_ int fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        struct st_writer *w = st_fd_writer_new(fd);
        _cleanup_error_ struct st_error *e = NULL;
        if (archive_layer_write(d, w, NULL, &e) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
            digest_fd(fd, ret, NULL, &e) < 0)
                ret[0] = 0;
        st_writer_free(w);
}

TEST(layer_write_leaves_atime_and_ctime_out_of_pax_headers)
{
        _cleanup_free_ char *upper = xasprintf("%s/upper-atime", tap_tmpdir);
        ASSERT_OK(make_upper_fixed(upper));
        /* a long name and an xattr make libarchive write a PAX header for the entry */
        char name[160];
        memset(name, 'n', sizeof(name) - 1);
        name[sizeof(name) - 1] = 0;
        _cleanup_free_ char *f = xasprintf("%s/%s", upper, name);
        _cleanup_close_ int fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        (void)fsetxattr(fd, "user.k", "v", 1, 0); /* tmpfs may refuse user xattrs */
        const struct timespec t[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
        ASSERT_OK(futimens(fd, t));
        char a[DIGEST_STR_LEN + 1], b[DIGEST_STR_LEN + 1];
        tar_digest(upper, a);
        const struct timespec later[2] = { { 1500000000, 7 }, { UTIME_OMIT, UTIME_OMIT } };
        ASSERT_OK(futimens(fd, later)); /* a new atime, and so a new ctime */
        tar_digest(upper, b);
        ASSERT_TRUE(a[0] != 0);
        ASSERT_STREQ(a, b);
}
