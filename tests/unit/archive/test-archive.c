#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive/archive-internal.h"
#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/stream.h"
#include "basic/util.h"
#include "digest/digest.h"
#include "tap.h"
#include "tar-builder.h"

/* A fresh layer root "root" inside the test's tmpdir; caller closes. */
static int new_root(const char *name)
{
        int t = open(tap_tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t < 0 || mkdirat(t, name, 0755) < 0)
                abort();
        int fd = openat(t, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(t);
        return fd;
}

static int apply_mem(int root, const void *buf, size_t len, const struct archive_apply_opts *o,
                     struct archive_apply_stats *st, struct st_error **err)
{
        _cleanup_reader_ struct st_reader *r = st_mem_reader_new(buf, len);
        return archive_layer_apply(r, root, o, st, err);
}

/* Apply the finished builder T into ROOT; frees T's buffer. */
static int apply_tb(int root, struct tb *t, const struct archive_apply_opts *o,
                    struct st_error **err)
{
        tb_finish(t);
        int r = apply_mem(root, t->buf, t->used, o, NULL, err);
        free(t->buf);
        return r;
}

static bool exists_at(int dfd, const char *path)
{
        struct stat st;
        return fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool exists_outside(const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", tap_tmpdir, rel);
        struct stat st;
        return lstat(p, &st) == 0;
}

static mode_t mode_at(int dfd, const char *path)
{
        struct stat st;
        if (fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        return st.st_mode;
}

static char *read_at(int dfd, const char *path)
{
        char *buf = NULL;
        size_t len;
        if (read_full_file_at(dfd, path, 1 << 20, &buf, &len) < 0)
                return xstrdup("(unreadable)");
        return buf;
}

#define ASSERT_CONTENT(dfd, path, want)                       \
        do {                                                  \
                _cleanup_free_ char *_c = read_at(dfd, path); \
                ASSERT_STREQ(_c, want);                       \
        } while (0)

/* Expect applying T into ROOT to fail with CODE and a message containing MSG. */
#define ASSERT_APPLY_FAILS(root, t, code, msg)                                      \
        do {                                                                        \
                _cleanup_error_ struct st_error *_e = NULL;                         \
                ASSERT_ERR(apply_tb(root, t, NULL, &_e), code);                     \
                if (!strstr(st_error_msg(_e), msg))                                 \
                        TAP_FAIL("message '%s' lacks '%s'", st_error_msg(_e), msg); \
        } while (0)

TEST(path_clean)
{
        const char *cases[][2] = {
                { "a/b", "a/b" }, { "./a//b/", "a/b" }, { "a/../b", "b" },      { ".", "" },
                { "./", "" },     { "a/./b/..", "a" },  { "a/b/../../c", "c" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *p = NULL;
                ASSERT_OK(archive_path_clean(cases[i][0], &p));
                ASSERT_STREQ(p, cases[i][1]);
        }
        char *p = NULL;
        ASSERT_ERR(archive_path_clean("../x", &p), -EXDEV);
        ASSERT_ERR(archive_path_clean("a/../../x", &p), -EXDEV);
        ASSERT_ERR(archive_path_clean("..", &p), -EXDEV);
        ASSERT_ERR(archive_path_clean("/abs", &p), -EPERM);
        ASSERT_TRUE(p == NULL);
}

TEST(entry_types)
{
        _cleanup_close_ int root = new_root("root");
        struct tb t;
        tb_init(&t);
        tb_dir(&t, "./", 0755);
        tb_dir(&t, "./etc/", 0755);
        tb_file(&t, "./etc/hosts", 0644, "127.0.0.1 localhost\n");
        tb_file(&t, "bin/deep/tool", 0755, "#!/bin/sh\n"); /* parents missing */
        tb_symlink(&t, "etc/link", "/etc/hosts");
        tb_hardlink(&t, "etc/hosts2", "./etc/hosts");
        tb_node(&t, "dev/null", AE_IFCHR, 1, 3);
        tb_node(&t, "dev/loop0", AE_IFBLK, 7, 0);
        tb_node(&t, "fifo", AE_IFIFO, 0, 0);
        tb_finish(&t);
        _cleanup_error_ struct st_error *e = NULL;
        struct archive_apply_stats st = { 0 };
        int r = apply_mem(root, t.buf, t.used, NULL, &st, &e);
        free(t.buf);
        ASSERT_OK_E(r, e);
        ASSERT_EQ(st.entries, 9);
        ASSERT_EQ(st.bytes, 20 + 10);
        ASSERT_CONTENT(root, "etc/hosts", "127.0.0.1 localhost\n");
        ASSERT_CONTENT(root, "bin/deep/tool", "#!/bin/sh\n");
        ASSERT_EQ(mode_at(root, "bin/deep"), S_IFDIR | 0755);
        char target[64] = { 0 };
        ASSERT_EQ(readlinkat(root, "etc/link", target, sizeof(target)), 10);
        ASSERT_STREQ(target, "/etc/hosts");
        struct stat a, b;
        ASSERT_OK(fstatat(root, "etc/hosts", &a, 0));
        ASSERT_OK(fstatat(root, "etc/hosts2", &b, 0));
        ASSERT_EQ(a.st_ino, b.st_ino);
        ASSERT_EQ(a.st_nlink, 2);
        ASSERT_OK(fstatat(root, "dev/null", &a, AT_SYMLINK_NOFOLLOW));
        ASSERT_TRUE(S_ISCHR(a.st_mode) && a.st_rdev == makedev(1, 3));
        ASSERT_EQ(a.st_mode & 07777, 0640);
        ASSERT_OK(fstatat(root, "dev/loop0", &a, AT_SYMLINK_NOFOLLOW));
        ASSERT_TRUE(S_ISBLK(a.st_mode) && a.st_rdev == makedev(7, 0));
        ASSERT_TRUE(S_ISFIFO(mode_at(root, "fifo")));
}

TEST(modes_owners_times)
{
        _cleanup_close_ int root = new_root("root");
        struct tb t;
        tb_init(&t);
        struct archive_entry *e = tb_entry("d", AE_IFDIR, 01777);
        archive_entry_set_mtime(e, 1234567890, 500);
        tb_write(&t, e, NULL, 0);
        e = tb_entry("d/suid", AE_IFREG, 04755);
        archive_entry_set_uid(e, 1234);
        archive_entry_set_gid(e, 5678);
        archive_entry_set_mtime(e, 1111111111, 123456789);
        archive_entry_set_size(e, 3);
        tb_write(&t, e, "abc", 3);
        e = tb_entry("d/sgid", AE_IFDIR, 02750);
        archive_entry_set_uid(e, 7);
        tb_write(&t, e, NULL, 0);
        e = tb_entry("d/l", AE_IFLNK, 0777);
        archive_entry_set_symlink(e, "suid");
        archive_entry_set_uid(e, 42);
        archive_entry_set_mtime(e, 999, 0);
        tb_write(&t, e, NULL, 0);
        tb_file(&t, "d/sgid/child", 0600, "x"); /* changes d/sgid's mtime after the fact */
        _cleanup_error_ struct st_error *err = NULL;
        ASSERT_OK_E(apply_tb(root, &t, NULL, &err), err);
        struct stat st;
        ASSERT_OK(fstatat(root, "d/suid", &st, 0));
        ASSERT_EQ(st.st_mode & 07777, 04755);
        ASSERT_EQ(st.st_uid, 1234);
        ASSERT_EQ(st.st_gid, 5678);
        ASSERT_EQ(st.st_mtim.tv_sec, 1111111111);
        ASSERT_EQ(st.st_mtim.tv_nsec, 123456789);
        ASSERT_OK(fstatat(root, "d", &st, 0));
        ASSERT_EQ(st.st_mode & 07777, 01777);
        ASSERT_EQ(st.st_mtim.tv_sec, 1234567890);
        ASSERT_EQ(st.st_mtim.tv_nsec, 500);
        ASSERT_OK(fstatat(root, "d/sgid", &st, 0));
        ASSERT_EQ(st.st_mode & 07777, 02750);
        ASSERT_EQ(st.st_uid, 7);
        ASSERT_EQ(st.st_mtim.tv_sec, 1000000000);
        ASSERT_OK(fstatat(root, "d/l", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_EQ(st.st_uid, 42);
        ASSERT_EQ(st.st_mtim.tv_sec, 999);
}

TEST(keep_root_meta_and_set_owner)
{
        _cleanup_close_ int root = new_root("root");
        ASSERT_OK(fchmod(root, 0751));
        struct tb t;
        tb_init(&t);
        struct archive_entry *e = tb_entry("./", AE_IFDIR, 0700);
        archive_entry_set_uid(e, 1000);
        tb_write(&t, e, NULL, 0);
        e = tb_entry("f", AE_IFREG, 0640);
        archive_entry_set_uid(e, 1000);
        archive_entry_set_gid(e, 1001);
        tb_write(&t, e, NULL, 0);
        tb_symlink(&t, "l", "f");
        struct archive_apply_opts o = {
                .keep_root_meta = true, .set_owner = true, .uid = 7, .gid = 8
        };
        _cleanup_error_ struct st_error *err = NULL;
        tb_finish(&t);
        int r = apply_mem(root, t.buf, t.used, &o, NULL, &err);
        free(t.buf);
        ASSERT_OK_E(r, err);
        struct stat st;
        ASSERT_OK(fstat(root, &st));
        ASSERT_EQ(st.st_mode & 07777, 0751);
        ASSERT_EQ(st.st_uid, 0);
        ASSERT_OK(fstatat(root, "f", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_EQ(st.st_uid, 7);
        ASSERT_EQ(st.st_gid, 8);
        ASSERT_EQ(st.st_mode & 07777, 0640);
        ASSERT_OK(fstatat(root, "l", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_EQ(st.st_uid, 7);
}

TEST(xattrs)
{
        _cleanup_close_ int root = new_root("root");
        /* vfs_cap_data v2 with CAP_NET_BIND_SERVICE permitted+effective */
        const unsigned char cap[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x04 };
        struct tb t;
        tb_init(&t);
        struct archive_entry *e = tb_entry("ping", AE_IFREG, 04755);
        archive_entry_set_size(e, 2);
        archive_entry_xattr_add_entry(e, "user.comment", "hello", 5);
        archive_entry_xattr_add_entry(e, "security.capability", cap, sizeof(cap));
        archive_entry_xattr_add_entry(e, "trusted.overlay.redirect", "/etc", 4);
        archive_entry_xattr_add_entry(e, "bogus", "x", 1); /* invalid namespace: ignored */
        tb_write(&t, e, "hi", 2);
        e = tb_entry("dir", AE_IFDIR, 0755);
        archive_entry_xattr_add_entry(e, "trusted.test", "d", 1);
        tb_write(&t, e, NULL, 0);
        e = tb_entry("lnk", AE_IFLNK, 0777);
        archive_entry_set_symlink(e, "ping");
        archive_entry_xattr_add_entry(e, "trusted.test", "l", 1);
        tb_write(&t, e, NULL, 0);
        _cleanup_error_ struct st_error *err = NULL;
        ASSERT_OK_E(apply_tb(root, &t, NULL, &err), err);
        _cleanup_free_ char *p = xasprintf("%s/root/ping", tap_tmpdir);
        char v[64];
        ASSERT_EQ(getxattr(p, "user.comment", v, sizeof(v)), 5);
        ASSERT_TRUE(memcmp(v, "hello", 5) == 0);
        ASSERT_EQ(getxattr(p, "security.capability", v, sizeof(v)), 20);
        ASSERT_TRUE(memcmp(v, cap, 20) == 0);
        ASSERT_EQ(getxattr(p, "trusted.overlay.redirect", v, sizeof(v)), -1);
        ASSERT_EQ(mode_at(root, "ping") & 07777, 04755);
        _cleanup_free_ char *d = xasprintf("%s/root/dir", tap_tmpdir);
        ASSERT_EQ(getxattr(d, "trusted.test", v, sizeof(v)), 1);
        _cleanup_free_ char *l = xasprintf("%s/root/lnk", tap_tmpdir);
        ASSERT_EQ(lgetxattr(l, "trusted.test", v, sizeof(v)), 1);
        ASSERT_EQ(v[0], 'l');
}

TEST(whiteouts)
{
        _cleanup_close_ int root = new_root("root");
        ASSERT_OK(mkdir_p_at(root, "etc/old", 0755));
        ASSERT_OK(write_file_atomic_at(root, "etc/gone", "x", 1, 0644));
        struct tb t;
        tb_init(&t);
        tb_file(&t, "etc/.wh.gone", 0644, "");
        tb_file(&t, "etc/.wh.old", 0644, "");
        tb_file(&t, "var/.wh.never", 0644, ""); /* parent created */
        tb_file(&t, "etc/.wh..wh..opq", 0644, "");
        tb_file(&t, "new/sub/.wh..wh..opq", 0644, "");
        tb_file(&t, ".wh..wh.plnk/12345", 0644, "aufs"); /* aufs metadata: skipped */
        _cleanup_error_ struct st_error *err = NULL;
        ASSERT_OK_E(apply_tb(root, &t, NULL, &err), err);
        struct stat st;
        ASSERT_OK(fstatat(root, "etc/gone", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
        ASSERT_TRUE(S_ISCHR(mode_at(root, "etc/old")));
        ASSERT_TRUE(S_ISCHR(mode_at(root, "var/never")));
        ASSERT_TRUE(!exists_at(root, "etc/.wh.gone"));
        ASSERT_TRUE(!exists_at(root, ".wh..wh.plnk"));
        char v[4];
        _cleanup_free_ char *p = xasprintf("%s/root/etc", tap_tmpdir);
        ASSERT_EQ(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
        ASSERT_EQ(v[0], 'y');
        _cleanup_free_ char *q = xasprintf("%s/root/new/sub", tap_tmpdir);
        ASSERT_EQ(getxattr(q, "trusted.overlay.opaque", v, sizeof(v)), 1);
        ASSERT_TRUE(!exists_at(root, "new/sub/.wh..wh..opq"));
}

TEST(no_whiteouts_option)
{
        _cleanup_close_ int root = new_root("root");
        struct tb t;
        tb_init(&t);
        tb_file(&t, ".wh.keep", 0644, "k");
        struct archive_apply_opts o = { .no_whiteouts = true };
        tb_finish(&t);
        _cleanup_error_ struct st_error *err = NULL;
        int r = apply_mem(root, t.buf, t.used, &o, NULL, &err);
        free(t.buf);
        ASSERT_OK_E(r, err);
        ASSERT_CONTENT(root, ".wh.keep", "k");
}

TEST(replacements)
{
        _cleanup_close_ int root = new_root("root");
        struct tb t;
        tb_init(&t);
        tb_file(&t, "f", 0644, "one");
        tb_file(&t, "f", 0600, "two"); /* duplicate: later wins */
        tb_dir(&t, "d", 0700);
        tb_file(&t, "d/keep", 0644, "k");
        tb_dir(&t, "d", 0755); /* dir over dir: merge */
        tb_file(&t, "x", 0644, "file");
        tb_dir(&t, "x", 0755); /* file replaced by dir */
        tb_dir(&t, "y", 0755);
        tb_file(&t, "y/inner", 0644, "i");
        tb_file(&t, "y", 0644, "now a file"); /* dir replaced by file */
        tb_symlink(&t, "s", "/etc/passwd");
        tb_file(&t, "s", 0644, "not through"); /* replaces the link, never writes through */
        _cleanup_error_ struct st_error *err = NULL;
        ASSERT_OK_E(apply_tb(root, &t, NULL, &err), err);
        ASSERT_CONTENT(root, "f", "two");
        ASSERT_EQ(mode_at(root, "f") & 0777, 0600);
        ASSERT_CONTENT(root, "d/keep", "k");
        ASSERT_EQ(mode_at(root, "d"), S_IFDIR | 0755);
        ASSERT_EQ(mode_at(root, "x"), S_IFDIR | 0755);
        ASSERT_CONTENT(root, "y", "now a file");
        ASSERT_CONTENT(root, "s", "not through");
}

TEST(hostile_names)
{
        const char *names[] = { "../x", "/abs", "a/../../x", "./../x", "..", "a/../.." };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *rn = xasprintf("root%zu", i);
                _cleanup_close_ int root = new_root(rn);
                struct tb t;
                tb_init(&t);
                tb_file(&t, names[i], 0644, "evil");
                _cleanup_error_ struct st_error *e = NULL;
                ASSERT_ERR(apply_tb(root, &t, NULL, &e), ST_E_UNSAFE);
                _cleanup_free_ char *want = xasprintf("layer entry '%s'", names[i]);
                if (!strstr(st_error_msg(e), want))
                        TAP_FAIL("message '%s' lacks '%s'", st_error_msg(e), want);
        }
        ASSERT_TRUE(!exists_outside("x"));
        _cleanup_close_ int root = new_root("ok");
        struct tb t;
        tb_init(&t);
        tb_file(&t, "a/../b", 0644, "fine");
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(apply_tb(root, &t, NULL, &e), e);
        ASSERT_CONTENT(root, "b", "fine");
}

TEST(escape_message)
{
        _cleanup_close_ int root = new_root("root");
        struct tb t;
        tb_init(&t);
        tb_file(&t, "../x", 0644, "evil");
        ASSERT_APPLY_FAILS(root, &t, ST_E_UNSAFE, "layer entry '../x' escapes the layer root");
}

/* Entries through symlinks resolve inside the root, never outside. */
TEST(symlink_escapes_stay_inside)
{
        _cleanup_close_ int root = new_root("root");
        _cleanup_free_ char *via_root = xasprintf("l%s/pwned1", tap_tmpdir);
        _cleanup_free_ char *abs_dir = xasprintf("%s", tap_tmpdir);
        struct tb t;
        tb_init(&t);
        tb_symlink(&t, "l", "/");
        tb_file(&t, via_root, 0644, "x");
        tb_symlink(&t, "up", "..");
        tb_file(&t, "up/pwned2", 0644, "x");
        tb_symlink(&t, "a/b/up3", "../../../..");
        tb_file(&t, "a/b/up3/pwned3", 0644, "x");
        tb_symlink(&t, "abs", abs_dir);
        tb_file(&t, "abs/pwned4", 0644, "x");
        tb_dir(&t, "d", 0755);
        tb_file(&t, "d/f", 0644, "x");
        tb_symlink(&t, "d", abs_dir); /* dir replaced by a symlink between two entries */
        tb_file(&t, "d/pwned5", 0644, "x");
        _cleanup_error_ struct st_error *err = NULL;
        ASSERT_OK_E(apply_tb(root, &t, NULL, &err), err);
        for (int i = 1; i <= 5; i++) {
                _cleanup_free_ char *n = xasprintf("pwned%d", i);
                ASSERT_TRUE(!exists_outside(n));
        }
        ASSERT_TRUE(exists_at(root, via_root + 2)); /* landed under root/<tmpdir>/ */
        ASSERT_TRUE(exists_at(root, "pwned2"));
        ASSERT_TRUE(exists_at(root, "pwned3"));
        ASSERT_TRUE(S_ISLNK(mode_at(root, "d")));
}

TEST(hardlink_hostile)
{
        _cleanup_close_ int t0 = open(tap_tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_OK(write_file_atomic_at(t0, "outside", "secret", 6, 0600));
        _cleanup_free_ char *outside = xasprintf("%s/outside", tap_tmpdir);

        struct {
                const char *target;
                const char *msg;
        } cases[] = {
                { "../../etc/passwd", "is outside the layer root" },
                { "/etc/passwd", "is outside the layer root" },
                { "missing", "is not in the layer" },
                { "l/outside", "is not in the layer" }, /* l -> tmpdir: resolved in root */
                { "dir", "is a directory" },
                { ".", "is outside the layer root" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *rn = xasprintf("root%zu", i);
                _cleanup_close_ int root = new_root(rn);
                struct tb t;
                tb_init(&t);
                tb_dir(&t, "dir", 0755);
                tb_symlink(&t, "l", tap_tmpdir);
                tb_hardlink(&t, "h", cases[i].target);
                ASSERT_APPLY_FAILS(root, &t, ST_E_UNSAFE, cases[i].msg);
        }
        /* a hardlink to a symlink pointing outside links the symlink itself */
        _cleanup_close_ int root = new_root("sym");
        struct tb t;
        tb_init(&t);
        tb_symlink(&t, "s", outside);
        tb_hardlink(&t, "h", "s");
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(apply_tb(root, &t, NULL, &e), e);
        ASSERT_TRUE(S_ISLNK(mode_at(root, "h")));
        struct stat st;
        ASSERT_OK(stat(outside, &st));
        ASSERT_EQ(st.st_nlink, 1);
}

TEST(long_names)
{
        _cleanup_close_ int root = new_root("root");
        char name[5001];
        memset(name, 'a', 5000);
        for (int i = 200; i < 5000; i += 201)
                name[i] = '/';
        name[5000] = 0;
        struct tb t;
        tb_init(&t);
        tb_file(&t, name, 0644, "x");
        ASSERT_APPLY_FAILS(root, &t, ST_E_UNSAFE, "has a name of 5000 bytes");
        /* a component over NAME_MAX fails cleanly too */
        memset(name, 'b', 300);
        name[300] = 0;
        tb_init(&t);
        tb_file(&t, name, 0644, "x");
        ASSERT_APPLY_FAILS(root, &t, -ENAMETOOLONG, "File name too long");
}

TEST(truncated_and_garbage)
{
        struct tb t;
        tb_init(&t);
        char big[10000];
        memset(big, 'z', sizeof(big));
        big[sizeof(big) - 1] = 0;
        tb_file(&t, "a", 0644, "aaaa");
        tb_file(&t, "big", 0644, big);
        tb_finish(&t);
        size_t cuts[] = { 700, 2000, 1024 + 100 };
        for (size_t i = 0; i < ELEMENTSOF(cuts); i++) {
                _cleanup_free_ char *rn = xasprintf("cut%zu", i);
                _cleanup_close_ int root = new_root(rn);
                _cleanup_error_ struct st_error *e = NULL;
                ASSERT_ERR(apply_mem(root, t.buf, cuts[i], NULL, NULL, &e), ST_E_PARSE);
                ASSERT_TRUE(startswith(st_error_msg(e), "tar: ") ||
                            strstr(st_error_msg(e), ": tar: "));
        }
        /* garbage after the end-of-archive marker is read and ignored */
        char *buf = xmalloc(t.used + 100);
        memcpy(buf, t.buf, t.used);
        memset(buf + t.used, 'G', 100);
        _cleanup_close_ int root = new_root("trail");
        _cleanup_reader_ struct st_reader *r = st_mem_reader_new(buf, t.used + 100);
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(archive_layer_apply(r, root, NULL, NULL, &e), e);
        ASSERT_EQ(r->total, t.used + 100);
        /* garbage where a header should be */
        memset(buf + 1024, 'G', 512);
        _cleanup_close_ int root2 = new_root("garbage");
        ASSERT_ERR(apply_mem(root2, buf, t.used, NULL, NULL, &e), ST_E_PARSE);
        _cleanup_close_ int root3 = new_root("pure-garbage");
        _cleanup_error_ struct st_error *e3 = NULL;
        ASSERT_ERR(apply_mem(root3, buf + t.used, 100, NULL, NULL, &e3), ST_E_PARSE);
        free(buf);
        free(t.buf);
}

TEST(empty_stream)
{
        _cleanup_close_ int root = new_root("root");
        struct archive_apply_stats st = { 7, 7 };
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(apply_mem(root, "", 0, NULL, &st, &e), e);
        ASSERT_EQ(st.entries, 0);
        char zeros[1024] = { 0 };
        ASSERT_OK_E(apply_mem(root, zeros, sizeof(zeros), NULL, &st, &e), e);
}

TEST(caps)
{
        struct tb t;
        tb_init(&t);
        for (int i = 0; i < 10; i++) {
                char n[16];
                snprintf(n, sizeof(n), "f%d", i);
                tb_file(&t, n, 0644, "0123456789");
        }
        tb_finish(&t);
        struct archive_apply_opts o = { .max_entries = 5 };
        _cleanup_close_ int r1 = new_root("r1");
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_ERR(apply_mem(r1, t.buf, t.used, &o, NULL, &e), ST_E_TOO_BIG);
        ASSERT_TRUE(strstr(st_error_msg(e), "more than 5 entries") != NULL);
        o = (struct archive_apply_opts){ .max_bytes = 55 };
        _cleanup_close_ int r2 = new_root("r2");
        _cleanup_error_ struct st_error *e2 = NULL;
        ASSERT_ERR(apply_mem(r2, t.buf, t.used, &o, NULL, &e2), ST_E_TOO_BIG);
        ASSERT_TRUE(!exists_at(r2, "f5"));
        o = (struct archive_apply_opts){ .max_bytes = 100, .max_entries = 10 };
        _cleanup_close_ int r3 = new_root("r3");
        ASSERT_OK(apply_mem(r3, t.buf, t.used, &o, NULL, &e2));
        free(t.buf);
}

TEST(sparse)
{
        _cleanup_close_ int root = new_root("root");
        size_t size = 3 << 20;
        _cleanup_free_ char *data = xcalloc(1, size);
        memset(data + 1000, 'A', 5000);
        memset(data + (2 << 20), 'B', 100);
        struct tb t;
        tb_init(&t);
        struct archive_entry *e = tb_entry("sparse", AE_IFREG, 0644);
        archive_entry_set_size(e, (la_int64_t)size);
        archive_entry_sparse_add_entry(e, 0, 8192);
        archive_entry_sparse_add_entry(e, 2 << 20, 4096);
        tb_write(&t, e, data, size);
        tb_finish(&t);
        ASSERT_TRUE(t.used < 100000); /* holes were not stored */
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_(archive_crcs_freep) struct archive_crcs *crcs = archive_crcs_new();
        struct archive_apply_opts o = { .crcs = crcs };
        int r = apply_mem(root, t.buf, t.used, &o, NULL, &err);
        free(t.buf);
        ASSERT_OK_E(r, err);
        _cleanup_close_ int fd = openat(root, "sparse", O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *back = xmalloc(size + 1);
        ASSERT_EQ(read_full(fd, back, size + 1), size);
        ASSERT_TRUE(memcmp(back, data, size) == 0);
        /* the holes' zeros are in the content's CRC: the tree digest reads this one itself */
        char plain[DIGEST_STR_LEN + 1], fast[DIGEST_STR_LEN + 1];
        ASSERT_OK_E(archive_tree_digest(root, plain, &err), err);
        ASSERT_OK_E(archive_tree_digest_crcs(root, crcs, fast, &err), err);
        ASSERT_STREQ(plain, fast);
}

TEST(fallback_without_openat2)
{
        archive_force_openat2_fallback(true);
        _cleanup_close_ int root = new_root("root");
        struct tb t;
        tb_init(&t);
        tb_file(&t, "a/b/c", 0644, "deep");
        tb_hardlink(&t, "a/h", "a/b/c");
        tb_file(&t, "a/.wh.x", 0644, "");
        _cleanup_error_ struct st_error *e = NULL;
        int r = apply_tb(root, &t, NULL, &e);
        _cleanup_close_ int root2 = new_root("root2");
        tb_init(&t);
        tb_symlink(&t, "l", "/");
        _cleanup_free_ char *via = xasprintf("l%s/pwned", tap_tmpdir);
        tb_file(&t, via, 0644, "x");
        _cleanup_error_ struct st_error *e2 = NULL;
        int r2 = apply_tb(root2, &t, NULL, &e2);
        archive_force_openat2_fallback(false);
        ASSERT_OK_E(r, e);
        ASSERT_CONTENT(root, "a/h", "deep");
        ASSERT_TRUE(S_ISCHR(mode_at(root, "a/x")));
        ASSERT_ERR(r2, ST_E_UNSAFE);
        ASSERT_TRUE(!exists_outside("pwned"));
}

struct failing_reader {
        struct st_reader r;
        struct st_reader *inner;
        uint64_t limit;
};

/* Passes the inner bytes through until LIMIT, then fails like a dropped connection. */
static ssize_t fail_after(struct st_reader *r, void *buf, size_t n)
{
        struct failing_reader *f = (struct failing_reader *)r;
        if (r->total >= f->limit)
                return st_error_set(&r->err, -ECONNRESET, "registry connection reset");
        return st_reader_read(f->inner, buf, MIN(n, f->limit - r->total));
}

TEST(reader_error_propagates)
{
        _cleanup_close_ int root = new_root("root");
        struct tb t;
        tb_init(&t);
        _cleanup_free_ char *big = xcalloc(1, 100000);
        memset(big, 'q', 99999);
        tb_file(&t, "big", 0644, big);
        tb_finish(&t);
        struct failing_reader f = { .r.read = fail_after, .limit = 5000 };
        f.inner = st_mem_reader_new(t.buf, t.used);
        _cleanup_error_ struct st_error *e = NULL;
        int q = archive_layer_apply(&f.r, root, NULL, NULL, &e);
        st_reader_free(f.inner);
        st_error_free(f.r.err);
        free(t.buf);
        ASSERT_ERR(q, -ECONNRESET);
        ASSERT_TRUE(strstr(st_error_msg(e), "registry connection reset") != NULL);
}

/* The CRCs learnt while applying (or writing) a layer give the tree digest it computes by
 * reading every file, whatever the entries did to the inodes on the way. */
TEST(tree_digest_crcs)
{
        struct tb t;
        tb_init(&t);
        tb_file(&t, "a", 0644, "first");
        tb_file(&t, "b/file", 0600, "content");
        tb_hardlink(&t, "b/link", "b/file");
        tb_file(&t, "empty", 0644, "");
        tb_file(&t, "a", 0644, "replaced, longer"); /* a later entry for the same path */
        tb_file(&t, "c", 0644, "gone");
        tb_file(&t, ".wh.c", 0644, "");
        tb_file(&t, "d", 0644, "made after c went: may get its inode");
        _cleanup_close_ int root = new_root("crcs");
        _cleanup_(archive_crcs_freep) struct archive_crcs *crcs = archive_crcs_new();
        struct archive_apply_opts o = { .crcs = crcs };
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(apply_tb(root, &t, &o, &e), e);
        char plain[DIGEST_STR_LEN + 1], fast[DIGEST_STR_LEN + 1];
        ASSERT_OK_E(archive_tree_digest(root, plain, &e), e);
        ASSERT_OK_E(archive_tree_digest_crcs(root, crcs, fast, &e), e);
        ASSERT_STREQ(plain, fast);

        /* the tar writer learns the same */
        _cleanup_(archive_crcs_freep) struct archive_crcs *w_crcs = archive_crcs_new();
        struct st_writer *sink = st_null_writer_new();
        ASSERT_OK_E(archive_layer_write_clamped(root, -1, w_crcs, sink, NULL, &e), e);
        st_writer_free(sink);
        ASSERT_OK_E(archive_tree_digest_crcs(root, w_crcs, fast, &e), e);
        ASSERT_STREQ(plain, fast);

        /* what the set says is what is used: a wrong CRC shows, a forgotten one is read again */
        struct stat st;
        ASSERT_OK(fstatat(root, "d", &st, 0));
        archive_crcs_put(crcs, st.st_dev, st.st_ino, (uint64_t)st.st_size, 12345, true);
        ASSERT_OK_E(archive_tree_digest_crcs(root, crcs, fast, &e), e);
        ASSERT_TRUE(!streq(plain, fast));
        archive_crcs_put(crcs, st.st_dev, st.st_ino, (uint64_t)st.st_size, 12345, false);
        ASSERT_OK_E(archive_tree_digest_crcs(root, crcs, fast, &e), e);
        ASSERT_STREQ(plain, fast);
}

TEST(tree_digest)
{
        char d1[DIGEST_STR_LEN + 1], d2[DIGEST_STR_LEN + 1], d3[DIGEST_STR_LEN + 1];
        int roots[2];
        for (int i = 0; i < 2; i++) {
                struct tb t;
                tb_init(&t);
                tb_file(&t, "b/file", 0644, "content");
                tb_file(&t, "a", 0600, "x");
                tb_symlink(&t, "b/l", "../a");
                tb_node(&t, "c", AE_IFCHR, 0, 0);
                tb_file(&t, "b/.wh..wh..opq", 0644, "");
                _cleanup_free_ char *rn = xasprintf("t%d", i);
                roots[i] = new_root(rn);
                _cleanup_error_ struct st_error *e = NULL;
                ASSERT_OK_E(apply_tb(roots[i], &t, NULL, &e), e);
        }
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(archive_tree_digest(roots[0], d1, &e), e);
        ASSERT_OK_E(archive_tree_digest(roots[1], d2, &e), e);
        ASSERT_TRUE(startswith(d1, "tree2:") && strlen(d1) == 6 + DIGEST_HEX_LEN);
        ASSERT_STREQ(d1, d2);
        /* the form older stores recorded (contents by sha256) is still computed on request */
        ASSERT_OK_E(archive_tree_digest_like(roots[0], "sha256:0", d2, &e), e);
        ASSERT_OK_E(archive_tree_digest_like(roots[1], "sha256:0", d3, &e), e);
        ASSERT_TRUE(digest_is_valid(d2));
        ASSERT_STREQ(d2, d3);
        ASSERT_OK_E(archive_tree_digest_like(roots[1], d1, d3, &e), e);
        ASSERT_STREQ(d1, d3);
        ASSERT_OK(write_file_atomic_at(roots[1], "b/file", "Content", 7, 0644));
        struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
        ASSERT_OK(utimensat(roots[1], "b/file", ts, 0));
        ASSERT_OK_E(archive_tree_digest(roots[1], d3, &e), e);
        ASSERT_TRUE(!streq(d1, d3));
        ASSERT_OK(write_file_atomic_at(roots[1], "b/file", "content", 7, 0644));
        ASSERT_OK(utimensat(roots[1], "b/file", ts, 0));
        ASSERT_OK_E(archive_tree_digest(roots[1], d3, &e), e);
        ASSERT_STREQ(d1, d3);
        ASSERT_OK(fchmodat(roots[1], "a", 0644, 0));
        ASSERT_OK_E(archive_tree_digest(roots[1], d3, &e), e);
        ASSERT_TRUE(!streq(d1, d3));
        close(roots[0]);
        close(roots[1]);
}
