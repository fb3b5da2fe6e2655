#include <stdlib.h>
#include <string.h>

#include "basic/stream.h"
#include "basic/util.h"
#include "tap.h"

/* A reader over a buffer that fails with -EIO once FAIL_AT bytes are out (if non-zero). */
struct src {
        struct st_reader r;
        const char *buf;
        size_t len, pos, fail_at;
};

static ssize_t src_read(struct st_reader *r, void *buf, size_t n)
{
        struct src *s = (struct src *)r;
        if (s->fail_at && s->pos == s->fail_at)
                return st_error_set(&r->err, -EIO, "disk on fire");
        size_t end = s->fail_at ? s->fail_at : s->len;
        size_t k = MIN(MIN(n, end - s->pos), (size_t)70001);
        memcpy(buf, s->buf + s->pos, k);
        s->pos += k;
        return (ssize_t)k;
}

static char *pattern(size_t len)
{
        char *p = xmalloc(len);
        for (size_t i = 0; i < len; i++)
                p[i] = (char)(i * 7 + i / 251);
        return p;
}

/* Read R to the end in odd-sized pieces into OUT; returns the count or the error. */
static ssize_t read_all(struct st_reader *r, char *out, size_t cap)
{
        size_t n = 0;
        for (size_t i = 1;; i++) {
                ssize_t k = st_reader_read(r, out + n, MIN(cap - n, i * 997 % 300000 + 1));
                if (k <= 0)
                        return k < 0 ? k : (ssize_t)n;
                n += (size_t)k;
        }
}

TEST(readahead_passes_bytes_through)
{
        size_t len = 5 * 1024 * 1024 + 3;
        _cleanup_free_ char *data = pattern(len), *out = xmalloc(len + 1);
        struct src s = { .r.read = src_read, .buf = data, .len = len };
        struct st_reader *ra = st_readahead_reader_new(&s.r);
        ASSERT_EQ(read_all(ra, out, len + 1), (ssize_t)len);
        ASSERT_TRUE(memcmp(out, data, len) == 0);
        ASSERT_EQ(st_reader_read(ra, out, 10), 0);
        ASSERT_EQ(ra->total, len);
        st_reader_free(ra);
}

TEST(readahead_error_after_the_bytes_before_it)
{
        size_t len = 3 * 1024 * 1024, fail = 2 * 1024 * 1024 + 5;
        _cleanup_free_ char *data = pattern(len), *out = xmalloc(len);
        struct src s = { .r.read = src_read, .buf = data, .len = len, .fail_at = fail };
        struct st_reader *ra = st_readahead_reader_new(&s.r);
        size_t n = 0;
        ssize_t k;
        while ((k = st_reader_read(ra, out + n, len - n)) > 0)
                n += (size_t)k;
        ASSERT_EQ(k, -EIO);
        ASSERT_EQ(n, fail);
        ASSERT_TRUE(memcmp(out, data, fail) == 0);
        ASSERT_STREQ(st_error_msg(ra->err), "disk on fire");
        st_reader_free(ra);
}

TEST(readahead_stops_midway)
{
        size_t len = 8 * 1024 * 1024;
        _cleanup_free_ char *data = pattern(len);
        char buf[4096];
        struct src s = { .r.read = src_read, .buf = data, .len = len };
        struct st_reader *ra = st_readahead_reader_new(&s.r);
        ASSERT_EQ(st_reader_read(ra, buf, sizeof(buf)), (ssize_t)sizeof(buf));
        st_readahead_reader_stop(ra);
        /* the inner reader is ours again: it went at most a few buffers ahead */
        ASSERT_TRUE(s.pos < 2 * 1024 * 1024);
        ASSERT_EQ(src_read(&s.r, buf, sizeof(buf)), (ssize_t)sizeof(buf));
        st_reader_free(ra);
        /* never read: nothing started, nothing to stop */
        st_reader_free(st_readahead_reader_new(&s.r));
}
