#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "build/build.h"
#include "build/copy.h"
#include "store/store.h"
#include "tap.h"

/* Write NAME in DIR with TEXT and put its mtime an hour back. */
static int make_old_file(int dir, const char *name, const char *text)
{
        struct timespec t[2] = { { .tv_sec = time(NULL) - 3600 }, { .tv_sec = time(NULL) - 3600 } };
        if (write_file_atomic_at(dir, name, text, strlen(text), 0644) < 0)
                return -1;
        return utimensat(dir, name, t, 0);
}

static int hash(struct build_stat_cache *c, int dir, const char *name, char *ret)
{
        struct stat st;
        _cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return -1;
        return build_stat_cache_hash(c, name, &st, fd, ret, NULL);
}

TEST(unchanged_file_is_not_read_again)
{
        _cleanup_free_ char *root = xasprintf("%s/root", tap_tmpdir);
        _cleanup_free_ char *ctx = xasprintf("%s/ctx", tap_tmpdir);
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_store_ struct store *s = NULL;
        ASSERT_OK_E(store_open(root, &s, &e), e);
        ASSERT_OK(mkdir(ctx, 0755));
        _cleanup_close_ int d = open(ctx, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_OK(make_old_file(d, "a", "hello\n"));
        usleep(100000); /* past BUILD_STAT_CACHE_RACY_NS: the ctime cannot be set back */
        struct build_stat_cache c = { .s = s, .root = ctx };
        char first[DIGEST_STR_LEN + 1], again[DIGEST_STR_LEN + 1];
        ASSERT_OK(hash(&c, d, "a", first));
        ASSERT_EQ(c.reads, 1u);
        ASSERT_EQ(c.hits, 0u);
        ASSERT_EQ(c.n_pending, 1u); /* kept for one transaction at the end of the step */
        struct stat sa;
        ASSERT_OK(fstatat(d, "a", &sa, AT_SYMLINK_NOFOLLOW));
        _cleanup_free_ char *abs = xasprintf("%s/a", ctx);
        char got[DIGEST_STR_LEN + 1];
        ASSERT_EQ(store_stat_cache_get(s, abs, &sa, got, NULL), 0); /* not written yet */
        build_stat_cache_flush(&c);
        ASSERT_EQ(c.n_pending, 0u);
        ASSERT_EQ(store_stat_cache_get(s, abs, &sa, got, NULL), 1);
        ASSERT_STREQ(got, first);
        ASSERT_OK(hash(&c, d, "a", again));
        ASSERT_EQ(c.reads, 1u); /* stat matched: not read */
        ASSERT_EQ(c.hits, 1u);
        ASSERT_STREQ(first, again);
        char want[DIGEST_STR_LEN + 1];
        digest_buf("hello\n", 6, want);
        ASSERT_STREQ(first, want);
        /* a changed file (new content, same size, old mtime) is read: its ctime moved */
        ASSERT_OK(make_old_file(d, "a", "HELLO\n"));
        ASSERT_OK(hash(&c, d, "a", again));
        ASSERT_EQ(c.reads, 2u);
        digest_buf("HELLO\n", 6, want);
        ASSERT_STREQ(again, want);
        build_stat_cache_flush(&c);
        ASSERT_OK(hash(&c, d, "a", again));
        ASSERT_EQ(c.reads, 3u); /* changed within BUILD_STAT_CACHE_RACY_NS: not recorded */
        ASSERT_EQ(c.n_pending, 0u);
}

TEST(copy_digest_goes_through_the_hook)
{
        _cleanup_free_ char *root = xasprintf("%s/root", tap_tmpdir);
        _cleanup_free_ char *ctx = xasprintf("%s/ctx", tap_tmpdir);
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_store_ struct store *s = NULL;
        ASSERT_OK_E(store_open(root, &s, &e), e);
        ASSERT_OK(mkdir(ctx, 0755));
        _cleanup_close_ int d = open(ctx, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_OK(mkdirat(d, "sub", 0755));
        ASSERT_OK(make_old_file(d, "sub/x", "x"));
        ASSERT_OK(make_old_file(d, "y", "y"));
        usleep(100000);
        struct build_stat_cache c = { .s = s, .root = ctx };
        struct build_copy_source src = { .root_fd = d,
                                         .content_hash = build_stat_cache_hash,
                                         .content_hash_data = &c };
        char *sources[] = { (char *)".", NULL };
        struct build_copy_req req = {
                .sources = sources, .dest = "/d/", .uid = -1, .gid = -1, .mode = -1
        };
        char one[DIGEST_STR_LEN + 1], two[DIGEST_STR_LEN + 1], plain[DIGEST_STR_LEN + 1];
        ASSERT_OK_E(build_copy_digest(&src, &req, one, &e), e);
        ASSERT_EQ(c.reads, 2u);
        build_stat_cache_flush(&c);
        ASSERT_OK_E(build_copy_digest(&src, &req, two, &e), e);
        ASSERT_EQ(c.reads, 2u);
        ASSERT_EQ(c.hits, 2u);
        ASSERT_STREQ(one, two);
        src.content_hash = NULL; /* the same key as reading every file */
        ASSERT_OK_E(build_copy_digest(&src, &req, plain, &e), e);
        ASSERT_STREQ(one, plain);
}
