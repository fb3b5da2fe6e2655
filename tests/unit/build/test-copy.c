#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../archive/tar-builder.h"
#include "archive/archive-internal.h"
#include "basic/fileio.h"
#include "basic/util.h"
#include "build/copy-internal.h"
#include "build/copy.h"
#include "compress/compress.h"
#include "digest/digest.h"
#include "tap.h"

/* ----- fixtures ----- */

static int tmp_fd(void)
{
        int fd = open(tap_tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        return fd;
}

/* A fresh directory NAME in the test's tmpdir; caller closes. */
static int new_dir(const char *name)
{
        _cleanup_close_ int t = tmp_fd();
        if (mkdirat(t, name, 0755) < 0)
                abort();
        int fd = openat(t, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        return fd;
}

static void parents(int dfd, const char *path)
{
        _cleanup_free_ char *p = xstrdup(path);
        char *slash = strrchr(p, '/');
        if (!slash)
                return;
        *slash = 0;
        if (mkdir_p_at(dfd, p, 0755) < 0)
                abort();
}

static void put_mode(int dfd, const char *path, const char *content, mode_t mode)
{
        parents(dfd, path);
        _cleanup_close_ int fd =
                openat(dfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 || write_full(fd, content, strlen(content)) < 0 || fchmod(fd, mode) < 0)
                abort();
}

static void put(int dfd, const char *path, const char *content)
{
        put_mode(dfd, path, content, 0644);
}

static void mkdir_at(int dfd, const char *path, mode_t mode)
{
        parents(dfd, path);
        if (mkdirat(dfd, path, mode) < 0 || fchmodat(dfd, path, mode, 0) < 0)
                abort();
}

static void link_at(int dfd, const char *path, const char *target)
{
        parents(dfd, path);
        if (symlinkat(target, dfd, path) < 0)
                abort();
}

static void set_mtime(int dfd, const char *path, time_t t)
{
        struct timespec ts[2] = { { .tv_sec = t }, { .tv_sec = t } };
        if (utimensat(dfd, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
                abort();
}

static char *read_at(int dfd, const char *path)
{
        char *buf = NULL;
        size_t len;
        if (read_full_file_at(dfd, path, 1 << 20, &buf, &len) < 0)
                return xstrdup("(unreadable)");
        return buf;
}

static bool exists_at(int dfd, const char *path)
{
        struct stat st;
        return fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static struct stat stat_at(int dfd, const char *path)
{
        struct stat st = { 0 };
        if (fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                st.st_mode = 0;
        return st;
}

static char *link_target(int dfd, const char *path)
{
        char buf[4096];
        ssize_t n = readlinkat(dfd, path, buf, sizeof(buf) - 1);
        if (n < 0)
                return xstrdup("(not a link)");
        buf[n] = 0;
        return xstrdup(buf);
}

/* Entries in the directory PATH (under DFD), not counting . and .. */
static int count_entries(int dfd, const char *path)
{
        int fd = openat(dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        DIR *d = fdopendir(fd);
        int n = 0;
        for (struct dirent *de; (de = readdir(d));)
                n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
        closedir(d);
        return n;
}

#define ASSERT_CONTENT(dfd, path, want)                       \
        do {                                                  \
                _cleanup_free_ char *_c = read_at(dfd, path); \
                ASSERT_STREQ(_c, want);                       \
        } while (0)

#define ASSERT_LINK(dfd, path, want)                              \
        do {                                                      \
                _cleanup_free_ char *_t = link_target(dfd, path); \
                ASSERT_STREQ(_t, want);                           \
        } while (0)

#define ASSERT_MODE(dfd, path, want) ASSERT_EQ(stat_at(dfd, path).st_mode & 07777, want)

#define SRCS(...) ((char *[]){ __VA_ARGS__, NULL })

static struct build_copy_req req_new(char **sources, const char *dest)
{
        return (struct build_copy_req){
                .sources = sources, .dest = dest, .uid = -1, .gid = -1, .mode = -1
        };
}

/* A context "ctx" and a destination root "root" in the tmpdir. */
struct env {
        int ctx, root;
        struct build_copy_source src;
};

static struct env env_new(void)
{
        struct env e = { .ctx = new_dir("ctx"), .root = new_dir("root") };
        e.src = (struct build_copy_source){ .root_fd = e.ctx, .desc = "context" };
        return e;
}

static void env_done(struct env *e)
{
        safe_close(e->ctx);
        safe_close(e->root);
}

static int run(struct env *e, const struct build_copy_req *req, struct st_error **err)
{
        return build_copy(&e->src, e->root, req, NULL, err);
}

static void digest_of(struct env *e, const struct build_copy_req *req, char *out)
{
        _cleanup_error_ struct st_error *err = NULL;
        if (build_copy_digest(&e->src, req, out, &err) < 0) {
                printf("# digest: %s\n", st_error_msg(err));
                snprintf(out, DIGEST_STR_LEN + 1, "(failed)");
        }
}

#define ASSERT_COPY(e, req)                                 \
        do {                                                \
                _cleanup_error_ struct st_error *_e = NULL; \
                ASSERT_OK_E(run(e, req, &_e), _e);          \
        } while (0)

/* Expect the copy to fail with CODE and a message containing MSG. */
#define ASSERT_COPY_FAILS(e, req, code, msg)                                        \
        do {                                                                        \
                _cleanup_error_ struct st_error *_e = NULL;                         \
                ASSERT_ERR(run(e, req, &_e), code);                                 \
                if (!strstr(st_error_msg(_e), msg))                                 \
                        TAP_FAIL("message '%s' lacks '%s'", st_error_msg(_e), msg); \
        } while (0)

/* ----- sources and destinations ----- */

TEST(file_to_file)
{
        struct env e = env_new();
        put(e.ctx, "a.txt", "A");
        struct build_copy_req r = req_new(SRCS("a.txt"), "/x");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "x", "A");
        ASSERT_TRUE(S_ISREG(stat_at(e.root, "x").st_mode));
        /* an existing file is replaced; a leading '/' and '..' stay in the context */
        put(e.ctx, "b.txt", "B");
        r = req_new(SRCS("/../b.txt"), "x");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "x", "B");
        env_done(&e);
}

TEST(file_to_dir)
{
        struct env e = env_new();
        put(e.ctx, "sub/a.txt", "A");
        struct build_copy_req r = req_new(SRCS("sub/a.txt"), "/d/");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "d/a.txt", "A");
        struct stat st = stat_at(e.root, "d");
        ASSERT_TRUE(S_ISDIR(st.st_mode));
        ASSERT_EQ(st.st_mode & 07777, 0755);
        ASSERT_EQ(st.st_uid, 0);
        /* no trailing slash, but an existing directory: into it */
        mkdir_at(e.root, "existing", 0700);
        r = req_new(SRCS("sub/a.txt"), "/existing");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "existing/a.txt", "A");
        ASSERT_MODE(e.root, "existing", 0700);
        env_done(&e);
}

TEST(dir_contents_merge)
{
        struct env e = env_new();
        put(e.ctx, "dir/f", "F");
        put(e.ctx, "dir/sub/g", "G");
        mkdir_at(e.ctx, "dir/empty", 0750);
        put(e.root, "app/keep", "K");
        put(e.root, "app/sub/old", "O");
        struct build_copy_req r = req_new(SRCS("dir"), "/app");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "app/f", "F");
        ASSERT_CONTENT(e.root, "app/sub/g", "G");
        ASSERT_CONTENT(e.root, "app/keep", "K");
        ASSERT_CONTENT(e.root, "app/sub/old", "O");
        ASSERT_MODE(e.root, "app/empty", 0750);
        ASSERT_TRUE(!exists_at(e.root, "app/dir"));
        /* the whole context, and into a new dir */
        r = req_new(SRCS("."), "/all/");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "all/dir/sub/g", "G");
        ASSERT_MODE(e.root, "all", 0755);
        env_done(&e);
}

TEST(wildcards)
{
        struct env e = env_new();
        put(e.ctx, "a.txt", "a");
        put(e.ctx, "b.txt", "b");
        put(e.ctx, "c.md", "c");
        put(e.ctx, "dir/a.c", "ac");
        put(e.ctx, "dir/ab.c", "abc");
        put(e.ctx, "dir/b.h", "bh");
        put(e.ctx, "star*name", "s");
        struct build_copy_req r = req_new(SRCS("*.txt"), "/t/");
        ASSERT_COPY(&e, &r);
        ASSERT_EQ(count_entries(e.root, "t"), 2);
        ASSERT_CONTENT(e.root, "t/a.txt", "a");
        ASSERT_CONTENT(e.root, "t/b.txt", "b");
        r = req_new(SRCS("dir/?.c"), "/q/");
        ASSERT_COPY(&e, &r);
        ASSERT_EQ(count_entries(e.root, "q"), 1);
        ASSERT_CONTENT(e.root, "q/a.c", "ac");
        r = req_new(SRCS("[ab]*"), "/r/");
        ASSERT_COPY(&e, &r);
        ASSERT_EQ(count_entries(e.root, "r"), 2);
        r = req_new(SRCS("[^a-b]*"), "/n/"); /* c.md, dir (contents), star*name */
        ASSERT_COPY(&e, &r);
        ASSERT_TRUE(exists_at(e.root, "n/c.md"));
        ASSERT_TRUE(exists_at(e.root, "n/ab.c"));
        ASSERT_TRUE(!exists_at(e.root, "n/a.txt"));
        r = req_new(SRCS("*/*.h"), "/h/");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "h/b.h", "bh");
        /* an escaped wildcard makes the path literal, backslash included (BuildKit) */
        r = req_new(SRCS("star\\*name"), "/esc/");
        ASSERT_COPY_FAILS(&e, &r, ST_E_NOT_FOUND, "stat star\\*name");
        r = req_new(SRCS("star*name"), "/esc/");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "esc/star*name", "s");
        r = req_new(SRCS("d*/\\?.c"), "/esc2/"); /* in a pattern, '\' escapes */
        ASSERT_COPY(&e, &r);
        ASSERT_TRUE(!exists_at(e.root, "esc2"));
        /* a wildcard matching nothing copies nothing (BuildKit), a bad one fails */
        r = req_new(SRCS("*.none"), "/none/");
        ASSERT_COPY(&e, &r);
        ASSERT_TRUE(!exists_at(e.root, "none"));
        r = req_new(SRCS("a[.txt"), "/bad/");
        ASSERT_COPY_FAILS(&e, &r, ST_E_PARSE, "bad pattern");
        env_done(&e);
}

TEST(multiple_sources)
{
        struct env e = env_new();
        put(e.ctx, "a", "A");
        put(e.ctx, "b", "B");
        put(e.ctx, "d/c", "C");
        struct build_copy_req r = req_new(SRCS("a", "b", "d"), "/m/");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "m/a", "A");
        ASSERT_CONTENT(e.root, "m/b", "B");
        ASSERT_CONTENT(e.root, "m/c", "C");
        r = req_new(SRCS("a", "b"), "/single");
        ASSERT_COPY_FAILS(&e, &r, -EINVAL,
                          "When using COPY with more than one source file, the destination must "
                          "be a directory and end with a /");
        ASSERT_TRUE(!exists_at(e.root, "single"));
        r = req_new(SRCS("*"), "/m");
        ASSERT_COPY_FAILS(&e, &r, -EINVAL, "end with a /");
        /* one match is fine without the slash */
        r = req_new(SRCS("a*", "nomatch*"), "/one");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "one", "A");
        r = req_new(SRCS("a", "b"), "/add");
        r.add = true;
        ASSERT_COPY_FAILS(&e, &r, -EINVAL, "When using ADD with more than one source");
        env_done(&e);
}

TEST(workdir_relative_dest)
{
        struct env e = env_new();
        put(e.ctx, "a", "A");
        struct build_copy_req r = req_new(SRCS("a"), "sub/");
        r.workdir = "/work";
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "work/sub/a", "A");
        r = req_new(SRCS("a"), ".");
        r.workdir = "/work";
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "work/a", "A");
        r = req_new(SRCS("a"), "../up");
        r.workdir = "/work/deep";
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "work/up", "A");
        r = req_new(SRCS("a"), "../../../../top");
        r.workdir = "/w";
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "top", "A");
        env_done(&e);
}

TEST(missing_source)
{
        struct env e = env_new();
        put(e.ctx, "a", "A");
        struct build_copy_req r = req_new(SRCS("a", "nope.txt"), "/x/");
        ASSERT_COPY_FAILS(&e, &r, ST_E_NOT_FOUND,
                          "COPY failed: file not found in build context or excluded by "
                          ".dockerignore: stat nope.txt: file does not exist");
        ASSERT_TRUE(!exists_at(e.root, "x")); /* nothing copied before the check */
        r = req_new(SRCS("dir/*.c"), "/x/");
        ASSERT_COPY_FAILS(&e, &r, ST_E_NOT_FOUND, "stat dir/*.c: file does not exist");
        put(e.ctx, "file", "F");
        r = req_new(SRCS("file/x"), "/x/");
        ASSERT_COPY_FAILS(&e, &r, ST_E_NOT_FOUND, "stat file/x: file does not exist");
        e.src.desc = "stage 'builder'";
        r = req_new(SRCS("/bin/sh"), "/x/");
        ASSERT_COPY_FAILS(&e, &r, ST_E_NOT_FOUND,
                          "COPY failed: file not found in stage 'builder': stat bin/sh");
        env_done(&e);
}

TEST(parent_dirs_created)
{
        struct env e = env_new();
        put(e.ctx, "a", "A");
        struct build_copy_req r = req_new(SRCS("a"), "/p/q/r/");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "p/q/r/a", "A");
        ASSERT_MODE(e.root, "p", 0755);
        ASSERT_MODE(e.root, "p/q/r", 0755);
        ASSERT_EQ(stat_at(e.root, "p/q").st_uid, 0);
        r = req_new(SRCS("a"), "/c1/c2/file");
        r.uid = 1000;
        r.gid = 1001;
        r.mode = 0700;
        ASSERT_COPY(&e, &r);
        struct stat st = stat_at(e.root, "c1/c2");
        ASSERT_EQ(st.st_uid, 1000);
        ASSERT_EQ(st.st_gid, 1001);
        ASSERT_EQ(st.st_mode & 07777, 0700); /* BuildKit: created parents take the octal mode */
        ASSERT_CONTENT(e.root, "c1/c2/file", "A");
        env_done(&e);
}

TEST(non_directory_in_the_way)
{
        struct env e = env_new();
        put(e.ctx, "a", "A");
        put(e.ctx, "tree/lib/x", "X");
        put(e.root, "file", "F");
        struct build_copy_req r = req_new(SRCS("a"), "/file/");
        ASSERT_COPY_FAILS(&e, &r, -ENOTDIR, "cannot copy to non-directory: /file");
        r = req_new(SRCS("a"), "/file/sub/x");
        ASSERT_COPY_FAILS(&e, &r, -ENOTDIR, "cannot copy to non-directory");
        /* a directory where the file goes */
        mkdir_at(e.root, "d/a", 0755);
        r = req_new(SRCS("a"), "/d/");
        ASSERT_COPY_FAILS(&e, &r, -EISDIR, "cannot replace directory '/d/a'");
        /* a directory of the source over a file of the image */
        put(e.root, "t/lib", "file");
        r = req_new(SRCS("tree"), "/t");
        ASSERT_COPY_FAILS(&e, &r, -ENOTDIR, "cannot copy to non-directory: /t/lib");
        ASSERT_CONTENT(e.root, "file", "F");
        env_done(&e);
}

/* ----- metadata ----- */

TEST(chown)
{
        struct env e = env_new();
        put(e.ctx, "d/f", "F");
        link_at(e.ctx, "d/l", "f");
        struct build_copy_req r = req_new(SRCS("d"), "/o/");
        r.uid = 1234;
        r.gid = 5678;
        ASSERT_COPY(&e, &r);
        ASSERT_EQ(stat_at(e.root, "o").st_uid, 1234);
        ASSERT_EQ(stat_at(e.root, "o/f").st_uid, 1234);
        ASSERT_EQ(stat_at(e.root, "o/f").st_gid, 5678);
        ASSERT_EQ(stat_at(e.root, "o/l").st_uid, 1234);
        /* only a uid: the gid follows it */
        r = req_new(SRCS("d/f"), "/u");
        r.uid = 42;
        ASSERT_COPY(&e, &r);
        ASSERT_EQ(stat_at(e.root, "u").st_uid, 42);
        ASSERT_EQ(stat_at(e.root, "u").st_gid, 42);
        env_done(&e);
}

TEST(context_owner_and_keep_owner)
{
        struct env e = env_new();
        put(e.ctx, "d/f", "F");
        ASSERT_OK(fchownat(e.ctx, "d/f", 1234, 5678, 0));
        ASSERT_OK(fchownat(e.ctx, "d", 99, 98, 0));
        struct build_copy_req r = req_new(SRCS("d", "d/f"), "/ctx/");
        ASSERT_COPY(&e, &r);
        ASSERT_EQ(stat_at(e.root, "ctx/f").st_uid, 0);
        ASSERT_EQ(stat_at(e.root, "ctx/f").st_gid, 0);
        e.src.keep_owner = true; /* --from */
        mkdir_at(e.ctx, "d/sub", 0755);
        ASSERT_OK(fchownat(e.ctx, "d/sub", 7, 8, 0));
        r = req_new(SRCS("d"), "/from/");
        ASSERT_COPY(&e, &r);
        ASSERT_EQ(stat_at(e.root, "from/f").st_uid, 1234);
        ASSERT_EQ(stat_at(e.root, "from/f").st_gid, 5678);
        ASSERT_EQ(stat_at(e.root, "from/sub").st_uid, 7);
        ASSERT_EQ(stat_at(e.root, "from").st_uid, 0); /* made for dest, not copied */
        r.uid = 1;
        r.gid = 2;
        ASSERT_COPY(&e, &r);
        ASSERT_EQ(stat_at(e.root, "from/f").st_uid, 1);
        env_done(&e);
}

TEST(chmod_octal_and_symbolic)
{
        struct env e = env_new();
        put_mode(e.ctx, "d/f", "F", 0644);
        put_mode(e.ctx, "d/x", "X", 0750);
        mkdir_at(e.ctx, "d/sub", 0700);
        struct build_copy_req r = req_new(SRCS("d"), "/o/");
        r.mode = 0640;
        ASSERT_COPY(&e, &r);
        ASSERT_MODE(e.root, "o/f", 0640);
        ASSERT_MODE(e.root, "o/x", 0640);
        ASSERT_MODE(e.root, "o/sub", 0640); /* BuildKit: directories too */
        r = req_new(SRCS("d"), "/s/");
        r.mode_str = "u+x,go-w,o+X";
        ASSERT_COPY(&e, &r);
        ASSERT_MODE(e.root, "s/f", 0744);
        ASSERT_MODE(e.root, "s/x", 0751);
        ASSERT_MODE(e.root, "s/sub", 0701);
        ASSERT_MODE(e.root, "s", 0755);
        r.mode = 0755;
        ASSERT_COPY_FAILS(&e, &r, ST_E_PARSE, "both");
        r = req_new(SRCS("d"), "/bad/");
        r.mode = 010000;
        ASSERT_COPY_FAILS(&e, &r, ST_E_PARSE, "invalid chmod parameter");
        env_done(&e);
}

TEST(chmod_parse)
{
        _cleanup_error_ struct st_error *err = NULL;
        int64_t m = 5;
        ASSERT_EQ(build_chmod_parse("755", &m, &err), 0);
        ASSERT_EQ(m, 0755);
        ASSERT_EQ(build_chmod_parse("04755", &m, &err), 0);
        ASSERT_EQ(m, 04755);
        ASSERT_EQ(build_chmod_parse("go=u-w", &m, &err), 1);
        ASSERT_EQ(m, -1);
        ASSERT_EQ(build_chmod_parse("a+rX,u+s", &m, &err), 1);
        const char *bad[] = { "", "8", "17777", "0x755", "u+z", "u", "q+x", "u+x,", "+x y" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct st_error *e = NULL;
                ASSERT_ERR(build_chmod_parse(bad[i], &m, &e), ST_E_PARSE);
                ASSERT_TRUE(strstr(st_error_msg(e), "invalid chmod parameter"));
                st_error_free(e);
        }

        /* applying: BSD setmode(3) with a zero umask, like BuildKit */
        struct {
                const char *s;
                mode_t in, out;
        } cases[] = {
                { "u+x", S_IFREG | 0644, 0744 },      { "go-w", S_IFREG | 0666, 0644 },
                { "+X", S_IFREG | 0644, 0644 },       { "+X", S_IFDIR | 0644, 0755 },
                { "+X", S_IFREG | 0744, 0755 },       { "a=rX", S_IFREG | 0700, 0444 },
                { "u=rwx,go=u-w", S_IFREG, 0755 },    { "go=", S_IFREG | 0777, 0700 },
                { "u+s,g+s", S_IFREG | 0755, 06755 }, { "o+s", S_IFREG | 0755, 0755 },
                { "+t", S_IFDIR | 0777, 01777 },      { "=r,u+w", S_IFREG | 04777, 0644 },
                { "g=u", S_IFREG | 0604, 0664 },      { "o-r+x", S_IFREG | 0644, 0641 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct chmod_spec c;
                ASSERT_OK(chmod_spec_init(&c, -1, cases[i].s, &err));
                mode_t got = chmod_spec_apply(&c, cases[i].in);
                chmod_spec_release(&c);
                if (got != cases[i].out)
                        TAP_FAIL("'%s' on %o: %o, want %o", cases[i].s, (unsigned)cases[i].in,
                                 (unsigned)got, (unsigned)cases[i].out);
        }
}

TEST(modes_mtimes_kept)
{
        struct env e = env_new();
        put_mode(e.ctx, "d/suid", "S", 04755);
        put_mode(e.ctx, "d/sgid", "G", 02711);
        mkdir_at(e.ctx, "d/sticky", 01777);
        put(e.ctx, "d/sticky/f", "F");
        set_mtime(e.ctx, "d/sticky/f", 1000000000);
        set_mtime(e.ctx, "d/sticky", 1100000000);
        set_mtime(e.ctx, "d/suid", 1200000000);
        set_mtime(e.ctx, "d", 1300000000);
        struct build_copy_req r = req_new(SRCS("d"), "/o");
        ASSERT_COPY(&e, &r);
        ASSERT_MODE(e.root, "o/suid", 04755);
        ASSERT_MODE(e.root, "o/sgid", 02711);
        ASSERT_MODE(e.root, "o/sticky", 01777);
        ASSERT_EQ(stat_at(e.root, "o/sticky/f").st_mtim.tv_sec, 1000000000);
        ASSERT_EQ(stat_at(e.root, "o/sticky").st_mtim.tv_sec, 1100000000);
        ASSERT_EQ(stat_at(e.root, "o/suid").st_mtim.tv_sec, 1200000000);
        ASSERT_EQ(stat_at(e.root, "o").st_mtim.tv_sec, 1300000000); /* BuildKit does this too */
        /* --chown keeps setuid (the mode is set after the owner) */
        r = req_new(SRCS("d/suid"), "/c");
        r.uid = 5;
        ASSERT_COPY(&e, &r);
        ASSERT_MODE(e.root, "c", 04755);
        env_done(&e);
}

TEST(special_files_hardlinks_xattrs)
{
        struct env e = env_new();
        put(e.ctx, "d/f", "F");
        ASSERT_OK(linkat(e.ctx, "d/f", e.ctx, "d/hard", 0));
        ASSERT_OK(mkfifoat(e.ctx, "d/fifo", 0640));
        ASSERT_OK(mknodat(e.ctx, "d/null", S_IFCHR | 0666, makedev(1, 3)));
        _cleanup_close_ int f = openat(e.ctx, "d/f", O_RDONLY | O_CLOEXEC);
        bool xattrs = fsetxattr(f, "user.test", "value", 5, 0) == 0;
        struct build_copy_req r = req_new(SRCS("d"), "/o");
        ASSERT_COPY(&e, &r);
        struct stat a = stat_at(e.root, "o/f"), b = stat_at(e.root, "o/hard");
        ASSERT_EQ(a.st_ino, b.st_ino);
        ASSERT_EQ(a.st_nlink, 2);
        ASSERT_TRUE(S_ISFIFO(stat_at(e.root, "o/fifo").st_mode));
        ASSERT_MODE(e.root, "o/fifo", 0640);
        struct stat n = stat_at(e.root, "o/null");
        ASSERT_TRUE(S_ISCHR(n.st_mode));
        ASSERT_EQ(n.st_rdev, makedev(1, 3));
        if (xattrs) {
                char v[16] = { 0 };
                _cleanup_close_ int g = openat(e.root, "o/f", O_RDONLY | O_CLOEXEC);
                ASSERT_EQ(fgetxattr(g, "user.test", v, sizeof(v)), 5);
                ASSERT_STREQ(v, "value");
        } else {
                printf("# no user xattrs on %s: xattr copy not checked\n", tap_tmpdir);
        }
        env_done(&e);
}

/* ----- symlinks and roots ----- */

TEST(symlinks_inside_copied_as_links)
{
        struct env e = env_new();
        put(e.ctx, "d/f", "F");
        link_at(e.ctx, "d/rel", "f");
        link_at(e.ctx, "d/abs", "/etc/passwd");
        link_at(e.ctx, "d/up", "../../outside");
        link_at(e.ctx, "d/dangling", "nowhere");
        link_at(e.ctx, "d/dirlink", "/");
        struct build_copy_req r = req_new(SRCS("d"), "/o");
        ASSERT_COPY(&e, &r);
        ASSERT_LINK(e.root, "o/rel", "f");
        ASSERT_LINK(e.root, "o/abs", "/etc/passwd");
        ASSERT_LINK(e.root, "o/up", "../../outside");
        ASSERT_LINK(e.root, "o/dangling", "nowhere");
        ASSERT_LINK(e.root, "o/dirlink", "/");
        ASSERT_EQ(count_entries(e.root, "o"), 6);
        env_done(&e);
}

TEST(explicit_symlink_followed_inside_context_only)
{
        struct env e = env_new();
        _cleanup_close_ int outside = new_dir("outside");
        put(outside, "secret", "S");
        put(e.ctx, "real/f", "F");
        put(e.ctx, "file", "data");
        link_at(e.ctx, "tofile", "file");
        link_at(e.ctx, "todir", "real");
        link_at(e.ctx, "passwd", "/etc/passwd");
        _cleanup_free_ char *abs = xasprintf("%s/outside/secret", tap_tmpdir);
        link_at(e.ctx, "abs", abs);
        link_at(e.ctx, "up", "../outside/secret");
        link_at(e.ctx, "via/dir", "../../outside");
        struct build_copy_req r = req_new(SRCS("tofile", "todir"), "/o/");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "o/tofile", "data"); /* named after the link */
        ASSERT_TRUE(S_ISREG(stat_at(e.root, "o/tofile").st_mode));
        ASSERT_CONTENT(e.root, "o/f", "F");
        const char *escapes[] = { "passwd", "abs", "up", "via/dir/secret" };
        for (size_t i = 0; i < ELEMENTSOF(escapes); i++) {
                r = req_new((char *[]){ (char *)escapes[i], NULL }, "/x/");
                ASSERT_COPY_FAILS(&e, &r, ST_E_NOT_FOUND, "file not found in build context");
        }
        ASSERT_TRUE(!exists_at(e.root, "x"));
        /* resolved as if the context were '/': the same name inside is what is copied */
        put(e.ctx, "etc/passwd", "ctx-passwd");
        r = req_new(SRCS("passwd"), "/p");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "p", "ctx-passwd");
        env_done(&e);
}

TEST(destination_symlinks_stay_inside)
{
        struct env e = env_new();
        _cleanup_close_ int outside = new_dir("outside");
        put(e.ctx, "a", "A");
        put(e.ctx, "tree/lib/x", "X");
        _cleanup_free_ char *abs = xasprintf("%s/outside", tap_tmpdir);
        link_at(e.root, "etc", abs);
        link_at(e.root, "x", "../../..");
        link_at(e.root, "usr/lib64", "/outside-too");
        link_at(e.root, "lib", "../outside");
        link_at(e.root, "conf", "/etc/target.conf");
        struct build_copy_req r = req_new(SRCS("a"), "/etc/");
        ASSERT_COPY(&e, &r);
        _cleanup_free_ char *inside = xasprintf("%s/outside/a", tap_tmpdir + 1);
        ASSERT_CONTENT(e.root, inside, "A");
        r = req_new(SRCS("a"), "/x/y");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "y", "A");
        r = req_new(SRCS("a"), "/usr/lib64/");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "outside-too/a", "A");
        r = req_new(SRCS("a"), "/lib/deep/");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "outside/deep/a", "A");
        /* a symlink as dest is written through, inside the root (BuildKit) */
        r = req_new(SRCS("a"), "/conf");
        ASSERT_COPY(&e, &r);
        ASSERT_LINK(e.root, "conf", "/etc/target.conf");
        _cleanup_free_ char *target = xasprintf("%s/outside/target.conf", tap_tmpdir + 1);
        ASSERT_CONTENT(e.root, target, "A");
        /* below dest, an image symlink where the source has a dir is refused, not followed */
        r = req_new(SRCS("tree"), "/");
        ASSERT_COPY_FAILS(&e, &r, -ENOTDIR, "cannot copy to non-directory: /lib");
        ASSERT_EQ(count_entries(outside, "."), 0);
        ASSERT_TRUE(!exists_at(AT_FDCWD, "/outside-too"));
        _cleanup_close_ int t = tmp_fd();
        ASSERT_EQ(count_entries(t, "."), 3); /* ctx, root, outside */
        env_done(&e);
}

TEST(without_openat2)
{
        archive_force_openat2_fallback(true);
        struct env e = env_new();
        _cleanup_close_ int outside = new_dir("outside");
        put(e.ctx, "d/f", "F");
        link_at(e.ctx, "d/l", "../../outside");
        link_at(e.ctx, "tod", "d");
        _cleanup_free_ char *abs = xasprintf("%s/outside", tap_tmpdir);
        link_at(e.root, "etc", abs);
        struct build_copy_req r = req_new(SRCS("tod"), "/etc/x/");
        _cleanup_error_ struct st_error *err = NULL;
        int k = run(&e, &r, &err);
        archive_force_openat2_fallback(false);
        ASSERT_OK_E(k, err);
        _cleanup_free_ char *inside = xasprintf("%s/outside/x/f", tap_tmpdir + 1);
        ASSERT_CONTENT(e.root, inside, "F");
        ASSERT_EQ(count_entries(outside, "."), 0);
        env_done(&e);
}

/* ----- exclusion ----- */

struct excl {
        const char *const *files;    /* excluded paths */
        const char *const *skipdirs; /* excluded dirs, skipped whole */
        const char *const *dirs;     /* excluded dirs with exceptions inside */
        int calls;
};

static bool in(const char *const *l, const char *s)
{
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

static bool exclude_cb(void *userdata, const char *relpath, bool is_dir, bool *ret_skip_dir)
{
        struct excl *x = userdata;
        x->calls++;
        if (relpath[0] == '/' || !relpath[0] || strstr(relpath, "//"))
                abort(); /* the contract: cleaned, relative, never the root */
        if (in(x->skipdirs, relpath) && is_dir) {
                *ret_skip_dir = true;
                return true;
        }
        if (in(x->dirs, relpath) && is_dir)
                return true;
        return in(x->files, relpath);
}

TEST(dockerignore_callback)
{
        struct env e = env_new();
        put(e.ctx, "keep", "K");
        put(e.ctx, "secret", "S");
        put(e.ctx, "node_modules/x/y", "Y");
        put(e.ctx, "build/out.o", "O");
        put(e.ctx, "build/keep.txt", "KT");
        put(e.ctx, "logs/a.log", "L");
        link_at(e.ctx, "tosecret", "secret");
        struct excl x = {
                .files = (const char *const[]){ "secret", "build/out.o", "logs/a.log", NULL },
                .skipdirs = (const char *const[]){ "node_modules", NULL },
                .dirs = (const char *const[]){ "build", "logs", NULL },
        };
        e.src.exclude = exclude_cb;
        e.src.exclude_data = &x;
        struct build_copy_req r = req_new(SRCS("."), "/o/");
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "o/keep", "K");
        ASSERT_TRUE(!exists_at(e.root, "o/secret"));
        ASSERT_TRUE(!exists_at(e.root, "o/node_modules"));
        ASSERT_CONTENT(e.root, "o/build/keep.txt", "KT");
        ASSERT_TRUE(!exists_at(e.root, "o/build/out.o"));
        ASSERT_TRUE(!exists_at(e.root, "o/logs")); /* nothing kept inside: not created */
        ASSERT_LINK(e.root, "o/tosecret", "secret");
        /* excluded sources do not exist, even through a link */
        const char *gone[] = { "secret", "tosecret", "node_modules/x/y", "build/out.o" };
        for (size_t i = 0; i < ELEMENTSOF(gone); i++) {
                r = req_new((char *[]){ (char *)gone[i], NULL }, "/x/");
                ASSERT_COPY_FAILS(&e, &r, ST_E_NOT_FOUND, "excluded by .dockerignore");
        }
        r = req_new(SRCS("s*", "b*/*"), "/w/");
        ASSERT_COPY(&e, &r);
        ASSERT_EQ(count_entries(e.root, "w"), 1);
        ASSERT_TRUE(exists_at(e.root, "w/keep.txt"));
        env_done(&e);
}

TEST(exclude_flag)
{
        struct env e = env_new();
        put(e.ctx, "a.txt", "A");
        put(e.ctx, "b.md", "B");
        put(e.ctx, "sub/c.txt", "C");
        put(e.ctx, "sub/deep/d.txt", "D");
        put(e.ctx, "sub/deep/keep.txt", "K");
        put(e.ctx, "home.txt", "H");
        put(e.ctx, "homer", "R");
        struct build_copy_req r = req_new(SRCS("."), "/1/");
        r.exclude_patterns = SRCS("*.txt"); /* the top level only, like .dockerignore */
        ASSERT_COPY(&e, &r);
        ASSERT_TRUE(!exists_at(e.root, "1/a.txt"));
        ASSERT_TRUE(exists_at(e.root, "1/b.md"));
        ASSERT_TRUE(exists_at(e.root, "1/sub/c.txt"));
        r = req_new(SRCS("."), "/2/");
        r.exclude_patterns = SRCS("**/*.txt", "!sub/deep/keep.txt");
        ASSERT_COPY(&e, &r);
        ASSERT_TRUE(!exists_at(e.root, "2/sub/c.txt"));
        ASSERT_TRUE(!exists_at(e.root, "2/sub/deep/d.txt"));
        ASSERT_CONTENT(e.root, "2/sub/deep/keep.txt", "K");
        ASSERT_TRUE(exists_at(e.root, "2/b.md"));
        r = req_new(SRCS("sub"), "/3/");
        r.exclude_patterns = SRCS("deep");
        ASSERT_COPY(&e, &r);
        ASSERT_TRUE(exists_at(e.root, "3/c.txt"));
        ASSERT_TRUE(!exists_at(e.root, "3/deep"));
        /* the reference's example: files matched by a wildcard are filtered by name too */
        r = req_new(SRCS("hom*"), "/4/");
        r.exclude_patterns = SRCS("*.txt");
        ASSERT_COPY(&e, &r);
        ASSERT_EQ(count_entries(e.root, "4"), 1);
        ASSERT_CONTENT(e.root, "4/homer", "R");
        r.exclude_patterns = SRCS("a[");
        ASSERT_COPY_FAILS(&e, &r, ST_E_PARSE, "invalid pattern 'a['");
        env_done(&e);
}

TEST(parents_flag)
{
        struct env e = env_new();
        put(e.ctx, "x/a.js", "XA");
        put(e.ctx, "y/a.js", "YA");
        put(e.ctx, "y/b.txt", "YB");
        put(e.ctx, "src/pkg/deep/c.go", "C");
        mkdir_at(e.ctx, "m/n", 0711);
        put(e.ctx, "m/n/o", "O");
        set_mtime(e.ctx, "m/n", 1500000000);
        struct build_copy_req r = req_new(SRCS("./x/a.js", "y/a.js"), "/p/");
        r.parents = true;
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "p/x/a.js", "XA");
        ASSERT_CONTENT(e.root, "p/y/a.js", "YA");
        ASSERT_TRUE(!exists_at(e.root, "p/y/b.txt"));
        r = req_new(SRCS("src/./pkg/deep/c.go"), "/q");
        r.parents = true; /* dest is a directory with --parents */
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "q/pkg/deep/c.go", "C");
        ASSERT_TRUE(!exists_at(e.root, "q/src"));
        r = req_new(SRCS("*/a.js", "m/n"), "/w/");
        r.parents = true;
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "w/x/a.js", "XA");
        ASSERT_CONTENT(e.root, "w/y/a.js", "YA");
        ASSERT_CONTENT(e.root, "w/m/n/o", "O");
        ASSERT_MODE(e.root, "w/m/n", 0711); /* the parents carry their own metadata */
        ASSERT_EQ(stat_at(e.root, "w/m/n").st_mtim.tv_sec, 1500000000);
        ASSERT_TRUE(!exists_at(e.root, "w/src"));
        r = req_new(SRCS("**/*.go"), "/g/");
        r.parents = true;
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "g/src/pkg/deep/c.go", "C");
        ASSERT_EQ(count_entries(e.root, "g"), 1);
        r = req_new(SRCS("x/missing.js"), "/z/");
        r.parents = true;
        ASSERT_COPY_FAILS(&e, &r, ST_E_NOT_FOUND, "stat x/missing.js");
        env_done(&e);
}

/* ----- ADD ----- */

/* Write the finished tar T into the context file NAME, compressed with TYPE. */
static void put_tar(int ctx, const char *name, struct tb *t, enum compress_type type)
{
        tb_finish(t);
        _cleanup_close_ int fd = openat(ctx, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        _cleanup_writer_ struct st_writer *raw = st_fd_writer_new(fd);
        _cleanup_writer_ struct st_writer *w = compress_writer_new(type, 0, raw);
        if (fd < 0 || st_writer_write(w, t->buf, t->used) < 0 || st_writer_close(w) < 0)
                abort();
        free(t->buf);
}

static void sample_tar(struct tb *t)
{
        tb_init(t);
        struct archive_entry *en = tb_entry("./", AE_IFDIR, 0700);
        archive_entry_set_uid(en, 1000);
        tb_write(t, en, NULL, 0);
        tb_dir(t, "pkg/", 0750);
        en = tb_entry("pkg/bin", AE_IFREG, 0755);
        archive_entry_set_uid(en, 33);
        archive_entry_set_size(en, 3);
        tb_write(t, en, "bin", 3);
        tb_symlink(t, "pkg/link", "/etc/passwd");
        tb_hardlink(t, "pkg/hard", "pkg/bin");
        tb_file(t, ".wh.plain", 0644, "not a whiteout here");
}

TEST(add_archives)
{
        struct env e = env_new();

        const enum compress_type types[] = { COMPRESS_NONE, COMPRESS_GZIP, COMPRESS_ZSTD };

        const char *names[] = { "t.tar", "t.tar.gz", "t.tzst" };
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                struct tb t;
                sample_tar(&t);
                put_tar(e.ctx, names[i], &t, types[i]);
        }
        put(e.ctx, "plain.txt", "just text");
        mkdir_at(e.root, "opt", 0751);
        struct build_copy_req r = req_new(SRCS("t.tar"), "/opt");
        r.add = true;
        _cleanup_error_ struct st_error *err = NULL;
        struct build_copy_stats st;
        ASSERT_OK_E(build_copy(&e.src, e.root, &r, &st, &err), err);
        ASSERT_EQ(st.archives, 1);
        ASSERT_CONTENT(e.root, "opt/pkg/bin", "bin");
        ASSERT_EQ(stat_at(e.root, "opt/pkg/bin").st_uid, 33);
        ASSERT_MODE(e.root, "opt/pkg", 0750);
        ASSERT_LINK(e.root, "opt/pkg/link", "/etc/passwd");
        ASSERT_EQ(stat_at(e.root, "opt/pkg/hard").st_ino, stat_at(e.root, "opt/pkg/bin").st_ino);
        ASSERT_CONTENT(e.root, "opt/.wh.plain", "not a whiteout here");
        struct stat opt = stat_at(e.root, "opt");
        ASSERT_EQ(opt.st_mode & 07777, 0751); /* the tar's "./" leaves dest alone */
        ASSERT_EQ(opt.st_uid, 0);
        r = req_new(SRCS("t.tar.gz", "t.tzst", "plain.txt"), "/multi/");
        r.add = true;
        r.uid = 7;
        r.gid = 8;
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "multi/pkg/bin", "bin");
        ASSERT_EQ(stat_at(e.root, "multi/pkg/bin").st_uid, 7);
        ASSERT_EQ(stat_at(e.root, "multi/pkg/link").st_gid, 8);
        ASSERT_CONTENT(e.root, "multi/plain.txt", "just text");
        ASSERT_TRUE(!exists_at(e.root, "multi/t.tar.gz"));
        /* an octal --chmod does not reach into archives, nor the dirs made for them */
        r = req_new(SRCS("t.tar"), "/new/dir");
        r.add = true;
        r.mode = 0600;
        ASSERT_COPY(&e, &r);
        ASSERT_MODE(e.root, "new/dir", 0755);
        ASSERT_MODE(e.root, "new/dir/pkg/bin", 0755);
        /* COPY never extracts */
        r = req_new(SRCS("t.tar.gz"), "/copy/");
        ASSERT_COPY(&e, &r);
        ASSERT_TRUE(S_ISREG(stat_at(e.root, "copy/t.tar.gz").st_mode));
        env_done(&e);
}

TEST(add_non_archives)
{
        struct env e = env_new();
        put(e.ctx, "text", "hello");
        put(e.ctx, "bzlike", "BZh is how this text starts");
        put(e.ctx, "empty", "");
        char zeros[1024] = { 0 };
        _cleanup_close_ int z = openat(e.ctx, "zeros.tar", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_OK(write_full(z, zeros, sizeof(zeros)));
        /* gzip of something that is not a tar stays a .gz */
        _cleanup_close_ int g = openat(e.ctx, "notes.gz", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        _cleanup_writer_ struct st_writer *raw = st_fd_writer_new(g);
        _cleanup_writer_ struct st_writer *w = compress_writer_new(COMPRESS_GZIP, 0, raw);
        ASSERT_OK(st_writer_write(w, "notes", 5));
        ASSERT_OK(st_writer_close(w));
        struct build_copy_req r =
                req_new(SRCS("text", "bzlike", "empty", "zeros.tar", "notes.gz"), "/o/");
        r.add = true;
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "o/text", "hello");
        ASSERT_CONTENT(e.root, "o/bzlike", "BZh is how this text starts");
        ASSERT_EQ(stat_at(e.root, "o/empty").st_size, 0);
        ASSERT_EQ(stat_at(e.root, "o/zeros.tar").st_size, 1024);
        ASSERT_TRUE(stat_at(e.root, "o/notes.gz").st_size > 5);
        put(e.ctx, "t.tar.bz2", "BZh91AY&SY and then compressed bytes");
        r = req_new(SRCS("t.tar.bz2"), "/b/");
        r.add = true;
        ASSERT_COPY_FAILS(&e, &r, ST_E_UNSUPPORTED, "'t.tar.bz2' is bzip2-compressed");
        env_done(&e);
}

TEST(add_archive_stays_in_dest)
{
        struct env e = env_new();
        _cleanup_close_ int outside = new_dir("outside");
        struct tb t;
        tb_init(&t);
        tb_symlink(&t, "up", "../../../../outside");
        tb_file(&t, "up/evil", 0644, "E");
        tb_symlink(&t, "abs", "/");
        tb_file(&t, "abs/evil2", 0644, "E");
        put_tar(e.ctx, "evil.tar", &t, COMPRESS_NONE);
        struct build_copy_req r = req_new(SRCS("evil.tar"), "/x/");
        r.add = true;
        _cleanup_error_ struct st_error *err = NULL;
        (void)run(&e, &r, &err); /* refused or kept inside; never outside */
        ASSERT_EQ(count_entries(outside, "."), 0);
        env_done(&e);
}

/* ----- the cache key ----- */

TEST(digest)
{
        struct env e = env_new();
        put(e.ctx, "d/a", "A");
        put(e.ctx, "d/sub/b", "B");
        put(e.ctx, "d/ignored", "I");
        link_at(e.ctx, "d/l", "a");
        struct excl x = { .files = (const char *const[]){ "d/ignored", "renamed/ignored", NULL } };
        e.src.exclude = exclude_cb;
        e.src.exclude_data = &x;
        struct build_copy_req r = req_new(SRCS("d"), "/o/");
        char d0[DIGEST_STR_LEN + 1], d1[DIGEST_STR_LEN + 1];
        digest_of(&e, &r, d0);
        ASSERT_TRUE(digest_is_valid(d0));
        digest_of(&e, &r, d1);
        ASSERT_STREQ(d0, d1);
#define ASSERT_DIGEST_CHANGES(what)                                      \
        do {                                                             \
                char _d[DIGEST_STR_LEN + 1];                             \
                digest_of(&e, &r, _d);                                   \
                if (streq(_d, d0))                                       \
                        TAP_FAIL("digest did not change with %s", what); \
                memcpy(d0, _d, sizeof(_d));                              \
        } while (0)
#define ASSERT_DIGEST_SAME(what)                                  \
        do {                                                      \
                char _d[DIGEST_STR_LEN + 1];                      \
                digest_of(&e, &r, _d);                            \
                if (!streq(_d, d0))                               \
                        TAP_FAIL("digest changed with %s", what); \
        } while (0)
        /* not what does not land in the image */
        put(e.ctx, "d/ignored", "changed");
        ASSERT_DIGEST_SAME("an excluded file");
        set_mtime(e.ctx, "d/a", 1234);
        ASSERT_DIGEST_SAME("an mtime");
        ASSERT_OK(fchownat(e.ctx, "d/a", 4321, 4321, 0));
        ASSERT_DIGEST_SAME("a context file's host owner");
        put(e.ctx, "elsewhere", "E");
        ASSERT_DIGEST_SAME("a file not copied");
        /* what does */
        put(e.ctx, "d/sub/b", "B2");
        ASSERT_DIGEST_CHANGES("content");
        ASSERT_OK(fchmodat(e.ctx, "d/sub/b", 0600, 0));
        ASSERT_DIGEST_CHANGES("mode");
        ASSERT_OK(unlinkat(e.ctx, "d/l", 0));
        link_at(e.ctx, "d/l", "sub/b");
        ASSERT_DIGEST_CHANGES("a link target");
        ASSERT_OK(renameat(e.ctx, "d/a", e.ctx, "d/a2"));
        ASSERT_DIGEST_CHANGES("a name");
        ASSERT_OK(renameat(e.ctx, "d", e.ctx, "renamed"));
        r.sources = SRCS("renamed");
        ASSERT_DIGEST_SAME("the name of a source directory");
        ASSERT_OK(renameat(e.ctx, "renamed", e.ctx, "d"));
        r.sources = SRCS("d");
        e.src.keep_owner = true;
        ASSERT_DIGEST_CHANGES("keep_owner");
        ASSERT_OK(fchownat(e.ctx, "d/a2", 1, 1, 0));
        ASSERT_DIGEST_CHANGES("a kept owner");
        r.uid = 5;
        ASSERT_DIGEST_CHANGES("--chown");
        ASSERT_OK(fchownat(e.ctx, "d/a2", 2, 2, 0));
        ASSERT_DIGEST_SAME("a source owner under --chown");
        r.mode = 0700;
        ASSERT_DIGEST_CHANGES("--chmod");
        ASSERT_OK(fchmodat(e.ctx, "d/sub/b", 0644, 0));
        ASSERT_DIGEST_SAME("a source mode under an octal --chmod");
        r.dest = "/other/";
        ASSERT_DIGEST_CHANGES("dest");
        r.dest = "rel/";
        r.workdir = "/w";
        ASSERT_DIGEST_CHANGES("workdir");
        r.add = true;
        ASSERT_DIGEST_CHANGES("ADD");
        r.exclude_patterns = SRCS("a2");
        ASSERT_DIGEST_CHANGES("--exclude");
        ASSERT_OK(linkat(e.ctx, "d/sub/b", e.ctx, "d/sub/c", 0));
        ASSERT_DIGEST_CHANGES("a hardlink");
        /* the digest is not disturbed by what build_copy does to the destination */
        _cleanup_error_ struct st_error *err = NULL;
        ASSERT_OK_E(run(&e, &r, &err), err);
        ASSERT_DIGEST_SAME("a copy");
        ASSERT_TRUE(x.calls > 0);
        env_done(&e);
}

struct fake_cache {
        int calls;
        const char *answer; /* NULL: hash the file */
};

static int fake_hash(void *userdata, const char *relpath, const struct stat *st, int fd,
                     char *ret_digest, struct st_error **err)
{
        struct fake_cache *fc = userdata;
        fc->calls++;
        if (!S_ISREG(st->st_mode) || !startswith(relpath, "d/"))
                abort();
        if (!fc->answer)
                return digest_fd(fd, ret_digest, NULL, err);
        snprintf(ret_digest, DIGEST_STR_LEN + 1, "%s", fc->answer);
        return 0;
}

TEST(digest_content_hash_hook)
{
        struct env e = env_new();
        put(e.ctx, "d/a", "A");
        put(e.ctx, "d/b", "B");
        struct build_copy_req r = req_new(SRCS("d"), "/o/");
        char plain[DIGEST_STR_LEN + 1], hooked[DIGEST_STR_LEN + 1];
        digest_of(&e, &r, plain);
        struct fake_cache fc = { 0 };
        e.src.content_hash = fake_hash;
        e.src.content_hash_data = &fc;
        digest_of(&e, &r, hooked);
        ASSERT_STREQ(hooked, plain);
        ASSERT_EQ(fc.calls, 2);
        /* a (stale) cache answer is trusted: the file is not read */
        fc.answer = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        digest_of(&e, &r, hooked);
        ASSERT_TRUE(!streq(hooked, plain));
        fc.answer = "not a digest";
        _cleanup_error_ struct st_error *err = NULL;
        ASSERT_ERR(build_copy_digest(&e.src, &r, hooked, &err), -EINVAL);
        env_done(&e);
}

TEST(digest_errors_like_copy)
{
        struct env e = env_new();
        struct build_copy_req r = req_new(SRCS("missing"), "/o/");
        _cleanup_error_ struct st_error *err = NULL;
        char d[DIGEST_STR_LEN + 1] = "untouched";
        ASSERT_ERR(build_copy_digest(&e.src, &r, d, &err), ST_E_NOT_FOUND);
        ASSERT_STREQ(d, "untouched");
        env_done(&e);
}

/* ----- scale and limits ----- */

TEST(stress_2000_files)
{
        struct env e = env_new();
        for (int i = 0; i < 2000; i++) {
                char path[64], content[32];
                snprintf(path, sizeof(path), "big/d%02d/s%d/f%04d", i % 40, i % 3, i);
                snprintf(content, sizeof(content), "file %d", i);
                put(e.ctx, path, content);
        }
        struct build_copy_req r = req_new(SRCS("big"), "/big");
        _cleanup_error_ struct st_error *err = NULL;
        struct build_copy_stats st;
        ASSERT_OK_E(build_copy(&e.src, e.root, &r, &st, &err), err);
        ASSERT_EQ(st.sources, 1);
        ASSERT_EQ(st.entries, 2000 + 40 + 40 * 3 + 1); /* files, dirs, subdirs, /big */
        ASSERT_CONTENT(e.root, "big/d07/s1/f1927", "file 1927");
        ASSERT_CONTENT(e.root, "big/d39/s2/f0479", "file 479");
        ASSERT_EQ(count_entries(e.root, "big"), 40);
        char d0[DIGEST_STR_LEN + 1], d1[DIGEST_STR_LEN + 1];
        digest_of(&e, &r, d0);
        put(e.ctx, "big/d00/s0/f0000", "changed");
        digest_of(&e, &r, d1);
        ASSERT_TRUE(!streq(d0, d1));
        env_done(&e);
}

TEST(limits)
{
        struct env e = env_new();
        for (int i = 0; i < 20; i++) {
                char path[32];
                snprintf(path, sizeof(path), "many/f%d", i);
                put(e.ctx, path, "x");
        }
        put(e.ctx, "deep/1/2/3/4/5/6/f", "x");
        build_copy_set_limits(10, 0);
        struct build_copy_req r = req_new(SRCS("many"), "/o/");
        ASSERT_COPY_FAILS(&e, &r, ST_E_TOO_BIG, "more than 10 entries");
        r = req_new(SRCS("many/*"), "/o/");
        ASSERT_COPY_FAILS(&e, &r, ST_E_TOO_BIG, "more than 10 entries");
        build_copy_set_limits(0, 4);
        r = req_new(SRCS("deep"), "/o/");
        ASSERT_COPY_FAILS(&e, &r, ST_E_TOO_BIG, "nested more than 4 directories deep");
        build_copy_set_limits(0, 0);
        ASSERT_COPY(&e, &r);
        ASSERT_CONTENT(e.root, "o/1/2/3/4/5/6/f", "x");
        /* a symlink loop as a source */
        link_at(e.ctx, "loop1", "loop2");
        link_at(e.ctx, "loop2", "loop1");
        r = req_new(SRCS("loop1"), "/o/");
        ASSERT_COPY_FAILS(&e, &r, -ELOOP, "loop1");
        env_done(&e);
}

/* ----- the matchers ----- */

TEST(match_go_filepath)
{
        struct {
                const char *pat, *name;
                bool want;
        } cases[] = {
                { "*.txt", "a.txt", true },   { "*.txt", ".txt", true },
                { "*", ".hidden", true },     { "a?c", "abc", true },
                { "a?c", "ac", false },       { "a?c", "aéc", true },
                { "[a-c]x", "bx", true },     { "[a-c]x", "dx", false },
                { "[^a-c]x", "dx", true },    { "[^a-c]x", "ax", false },
                { "\\*", "*", true },         { "\\*", "a", false },
                { "[\\]]", "]", true },       { "a*b*c", "axxbyyc", true },
                { "a*b*c", "axxbyy", false }, { "**", "abc", true },
                { "[é]", "é", true },         { "x", "X", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ASSERT_OK(match_check(cases[i].pat));
                if (match_name(cases[i].pat, cases[i].name) != cases[i].want)
                        TAP_FAIL("'%s' vs '%s': want %d", cases[i].pat, cases[i].name,
                                 cases[i].want);
        }
        const char *bad[] = { "[", "[]", "a[b", "x\\", "[a-]", "[-a]", "[^]" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (match_check(bad[i]) == 0)
                        TAP_FAIL("'%s' should be a bad pattern", bad[i]);
        ASSERT_TRUE(match_has_wildcards("a*"));
        ASSERT_TRUE(!match_has_wildcards("a\\*"));
        ASSERT_TRUE(match_has_wildcards("[x]"));
}

TEST(match_patternmatcher)
{
        _cleanup_error_ struct st_error *err = NULL;
        struct patterns *p = NULL;
        ASSERT_OK(patterns_new(SRCS("*.md", "docs", "**/*.log", "!keep.log", "/abs/x", " ", "a/**"),
                               &p, &err));

        struct {
                const char *path;
                bool want;
        } cases[] = {
                { "README.md", true }, { "sub/README.md", false },
                { "docs", true },      { "docs/x/y", true },
                { "x.log", true },     { "a/b/c.log", true },
                { "keep.log", false }, { "abs/x", true },
                { "abs/x/in", true },  { "a/anything", true },
                { "a", false },        { "other", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (patterns_match(p, cases[i].path) != cases[i].want)
                        TAP_FAIL("'%s': want %d", cases[i].path, cases[i].want);
        ASSERT_TRUE(patterns_has_exceptions(p));
        p = patterns_free(p);
        ASSERT_OK(patterns_new(SRCS("src/*/main.go"), &p, &err));
        ASSERT_TRUE(patterns_may_match_below(p, "src", false));
        ASSERT_TRUE(patterns_may_match_below(p, "src/cmd", false));
        ASSERT_TRUE(!patterns_may_match_below(p, "src/cmd/main.go", false));
        ASSERT_TRUE(!patterns_may_match_below(p, "lib", false));
        ASSERT_TRUE(!patterns_may_match_below(p, "src", true));
        p = patterns_free(p);
        ASSERT_OK(patterns_new(NULL, &p, &err));
        ASSERT_TRUE(p == NULL);
        ASSERT_TRUE(!patterns_match(p, "x"));
        ASSERT_ERR(patterns_new(SRCS("!"), &p, &err), ST_E_PARSE);
}
