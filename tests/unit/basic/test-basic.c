#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/stream.h"
#include "basic/util.h"
#include "tap.h"

TEST(strv)
{
        _cleanup_strv_ char **l = NULL;
        strv_push(&l, "a");
        strv_push(&l, "b");
        ASSERT_EQ(strv_length(l), 2);
        ASSERT_TRUE(strv_contains(l, "b"));
        ASSERT_TRUE(!strv_contains(l, "c"));
        _cleanup_strv_ char **c = strv_copy(l);
        ASSERT_STREQ(c[1], "b");
        /* split: runs of separators make no empty pieces */
        _cleanup_strv_ char **s = strv_split(",rw,,cpu,cpuacct,", ",");
        ASSERT_EQ(strv_length(s), 3);
        ASSERT_STREQ(s[0], "rw");
        ASSERT_STREQ(s[2], "cpuacct");
        _cleanup_strv_ char **e = strv_split("", " \n");
        ASSERT_EQ(strv_length(e), 0);
}

TEST(parse_numbers)
{
        uint64_t u = 0;
        ASSERT_OK(parse_u64("18446744073709551615", &u));
        ASSERT_TRUE(u == UINT64_MAX);
        ASSERT_ERR(parse_u64("18446744073709551616", &u), -ERANGE);
        ASSERT_ERR(parse_u64("-1", &u), -EINVAL);
        ASSERT_ERR(parse_u64("12x", &u), -EINVAL);
        int i = 0;
        ASSERT_OK(parse_int("-42", &i));
        ASSERT_EQ(i, -42);
        ASSERT_ERR(parse_int("", &i), -EINVAL);
}

TEST(error_wrap)
{
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_EQ(st_error_set(&e, ST_E_PARSE, "bad %s", "thing"), ST_E_PARSE);
        /* a second set keeps the first error */
        st_error_set(&e, -ENOENT, "other");
        st_error_wrap(&e, "load '%s'", "x");
        ASSERT_STREQ(st_error_msg(e), "load 'x': bad thing");
        ASSERT_EQ(st_error_code(e), ST_E_PARSE);
        _cleanup_error_ struct st_error *e2 = NULL;
        st_error_set_errno(&e2, -ENOENT, "open 'f'");
        ASSERT_STREQ(st_error_msg(e2), "open 'f': No such file or directory");
}

TEST(atomic_write_and_read_cap)
{
        _cleanup_close_ int d = open(tap_tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(d >= 0);
        ASSERT_OK(write_file_atomic_at(d, "f", "hello", 5, 0644));
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        ASSERT_OK(read_full_file_at(d, "f", 100, &buf, &len));
        ASSERT_EQ(len, 5);
        ASSERT_STREQ(buf, "hello");
        _cleanup_free_ char *b2 = NULL;
        ASSERT_ERR(read_full_file_at(d, "f", 3, &b2, &len), -EFBIG);
}

TEST(mkdir_rm_rf)
{
        _cleanup_close_ int d = open(tap_tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_OK(mkdir_p_at(d, "a/b/c", 0755));
        ASSERT_OK(write_file_atomic_at(d, "a/b/c/f", "x", 1, 0644));
        ASSERT_TRUE(symlinkat("/", d, "a/b/link") == 0);
        uint64_t du = 0;
        ASSERT_OK(disk_usage_at(d, "a", &du));
        ASSERT_EQ(du, 2); /* 1 byte file + symlink target "/" */
        ASSERT_OK(rm_rf_at(d, "a"));
        struct stat st;
        ASSERT_TRUE(fstatat(d, "a", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        ASSERT_OK(rm_rf_at(d, "missing"));
}

TEST(stream_copy_tee)
{
        const char msg[] = "some bytes flowing";
        struct st_reader *src = st_mem_reader_new(msg, sizeof(msg) - 1);
        struct st_writer *side = st_null_writer_new();
        struct st_reader *tee = st_tee_reader_new(src, side);
        struct st_writer *sink = st_null_writer_new();
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(st_copy(tee, sink, &e), e);
        ASSERT_EQ(sink->total, sizeof(msg) - 1);
        ASSERT_EQ(side->total, sizeof(msg) - 1);
        st_reader_free(tee);
        st_reader_free(src);
        st_writer_free(side);
        st_writer_free(sink);
}
