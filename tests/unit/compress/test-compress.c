#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "basic/stream.h"
#include "basic/util.h"
#include "compress/compress-internal.h"
#include "compress/compress.h"
#include "tap.h"

struct mem_writer {
        struct st_writer w;
        char *buf;
        size_t len, alloc;
};

static int mem_write(struct st_writer *w, const void *buf, size_t n)
{
        struct mem_writer *m = (struct mem_writer *)w;
        if (m->len + n > m->alloc) {
                m->alloc = (m->len + n) * 2;
                m->buf = xrealloc(m->buf, m->alloc);
        }
        memcpy(m->buf + m->len, buf, n);
        m->len += n;
        return 0;
}

static void mem_free(struct st_writer *w)
{
        free(((struct mem_writer *)w)->buf);
        free(w);
}

static struct mem_writer *mem_writer_new(void)
{
        struct mem_writer *m = xcalloc(1, sizeof(*m));
        m->w.write = mem_write;
        m->w.free = mem_free;
        return m;
}

/* Pseudo-random but compressible data of LEN bytes; caller frees. */
static char *make_data(size_t len)
{
        char *p = xmalloc(len ? len : 1);
        uint32_t x = 12345;
        for (size_t i = 0; i < len; i++) {
                x = x * 1103515245 + 12345;
                p[i] = (char)("abcdefgh"[(x >> 16) & 7]);
        }
        return p;
}

/* Compress LEN bytes of DATA with TYPE into a new mem writer (written in odd-sized chunks). */
static struct mem_writer *compress_buf(enum compress_type type, const char *data, size_t len)
{
        struct mem_writer *m = mem_writer_new();
        struct st_writer *c = compress_writer_new(type, 0, &m->w);
        for (size_t off = 0; off < len;) {
                size_t k = MIN(len - off, (size_t)7777);
                if (st_writer_write(c, data + off, k) < 0)
                        abort();
                off += k;
        }
        if (st_writer_close(c) < 0)
                abort();
        st_writer_free(c);
        return m;
}

/* Decompress BUF fully (with cap MAX) into *ret (caller frees); returns 0 or the error code. */
static int decompress_all(const void *buf, size_t len, uint64_t max, char **ret, size_t *ret_len,
                          enum compress_type *ret_type, struct st_error **err)
{
        /* st_mem_reader_new does pointer arithmetic on BUF: never hand it NULL */
        _cleanup_reader_ struct st_reader *in = st_mem_reader_new(buf ? buf : "", len);
        _cleanup_reader_ struct st_reader *d = NULL;
        int r = decompress_reader_new(in, max, &d, err);
        if (r < 0)
                return r;
        size_t alloc = 4096, n = 0;
        _cleanup_free_ char *out = xmalloc(alloc);
        for (;;) {
                if (n == alloc)
                        out = xrealloc(out, alloc *= 2);
                ssize_t k = st_reader_read(d, out + n, MIN(alloc - n, (size_t)3001));
                if (k < 0)
                        return st_error_take(&d->err, (int)k, err);
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        if (ret_type)
                *ret_type = decompress_reader_type(d);
        *ret = TAKE_PTR(out);
        *ret_len = n;
        return 0;
}

static void roundtrip(enum compress_type type, size_t len)
{
        _cleanup_free_ char *data = make_data(len);
        struct mem_writer *m = compress_buf(type, data, len);
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        enum compress_type t = _COMPRESS_INVALID;
        int r = decompress_all(m->buf, m->len, 0, &out, &n, &t, &e);
        st_writer_free(&m->w);
        ASSERT_OK_E(r, e);
        ASSERT_EQ(t, len == 0 && type == COMPRESS_NONE ? COMPRESS_NONE : type);
        ASSERT_EQ(n, len);
        ASSERT_TRUE(memcmp(out, data, len) == 0);
}

TEST(type_strings)
{
        ASSERT_STREQ(compress_type_to_string(COMPRESS_ZSTD), "zstd");
        ASSERT_EQ(compress_type_from_string("gzip"), COMPRESS_GZIP);
        ASSERT_EQ(compress_type_from_string("lz4"), _COMPRESS_INVALID);
        ASSERT_TRUE(compress_type_to_string(_COMPRESS_MAX) == NULL);
}

TEST(detect)
{
        const char *o = "x";
        ASSERT_EQ(compress_detect("\x1f\x8b\x08", 3, &o), COMPRESS_GZIP);
        ASSERT_TRUE(o == NULL);
        ASSERT_EQ(compress_detect("\x28\xb5\x2f\xfd", 4, NULL), COMPRESS_ZSTD);
        ASSERT_EQ(compress_detect("\x28\xb5\x2f", 3, NULL), COMPRESS_NONE);
        ASSERT_EQ(compress_detect("BZh9", 4, &o), _COMPRESS_INVALID);
        ASSERT_STREQ(o, "bzip2");
        ASSERT_EQ(compress_detect("\xfd"
                                  "7zXZ\0",
                                  6, &o),
                  _COMPRESS_INVALID);
        ASSERT_STREQ(o, "xz");
        ASSERT_EQ(compress_detect("", 0, &o), COMPRESS_NONE);
}

/* Run BODY once per gzip inflater built in: zlib, then ISA-L (when there, and left on). */
#define FOREACH_INFLATER(body)                             \
        for (int isal_ = 0; isal_ <= HAVE_ISAL; isal_++) { \
                decompress_gzip_set_isal(isal_);           \
                body;                                      \
        }

TEST(roundtrip_gzip)
{
        FOREACH_INFLATER({
                roundtrip(COMPRESS_GZIP, 0);
                roundtrip(COMPRESS_GZIP, 1);
                roundtrip(COMPRESS_GZIP, 1000000);
                roundtrip(COMPRESS_GZIP, GZ_BLOCK);
                roundtrip(COMPRESS_GZIP, 2 * GZ_BLOCK + 1);
        });
}

TEST(roundtrip_zstd)
{
        roundtrip(COMPRESS_ZSTD, 0);
        roundtrip(COMPRESS_ZSTD, 1);
        roundtrip(COMPRESS_ZSTD, 3000000);
}

TEST(roundtrip_none)
{
        roundtrip(COMPRESS_NONE, 0);
        roundtrip(COMPRESS_NONE, 5);
        roundtrip(COMPRESS_NONE, 300000);
}

static void gzip_concatenated_members_body(void)
{
        struct mem_writer *a = compress_buf(COMPRESS_GZIP, "hello ", 6);
        struct mem_writer *b = compress_buf(COMPRESS_GZIP, "", 0);
        struct mem_writer *c = compress_buf(COMPRESS_GZIP, "world", 5);
        mem_write(&a->w, b->buf, b->len);
        mem_write(&a->w, c->buf, c->len);
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        int r = decompress_all(a->buf, a->len, 0, &out, &n, NULL, &e);
        st_writer_free(&a->w);
        st_writer_free(&b->w);
        st_writer_free(&c->w);
        ASSERT_OK_E(r, e);
        ASSERT_EQ(n, 11);
        ASSERT_TRUE(memcmp(out, "hello world", 11) == 0);
}

TEST(gzip_concatenated_members)
{
        FOREACH_INFLATER(gzip_concatenated_members_body());
}

static void expect_fail(const void *buf, size_t len, uint64_t max, int code, const char *msg)
{
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        ASSERT_ERR(decompress_all(buf, len, max, &out, &n, NULL, &e), code);
        ASSERT_EQ(st_error_code(e), code);
        if (msg && !strstr(st_error_msg(e), msg))
                TAP_FAIL("message '%s' lacks '%s'", st_error_msg(e), msg);
}

static void truncated_and_corrupt_body(void)
{
        _cleanup_free_ char *data = make_data(200000);
        struct mem_writer *g = compress_buf(COMPRESS_GZIP, data, 200000);
        struct mem_writer *z = compress_buf(COMPRESS_ZSTD, data, 200000);
        expect_fail(g->buf, g->len / 2, 0, ST_E_PARSE, "gzip stream truncated");
        expect_fail(g->buf, g->len - 4, 0, ST_E_PARSE, "gzip stream truncated");
        expect_fail(g->buf, 2, 0, ST_E_PARSE, "gzip stream truncated");
        expect_fail(z->buf, z->len / 2, 0, ST_E_PARSE, "zstd stream truncated");
        expect_fail(z->buf, z->len - 1, 0, ST_E_PARSE, "zstd stream truncated");
        g->buf[g->len / 2] ^= 0x55;
        g->buf[g->len / 2 + 1] ^= 0x55;
        expect_fail(g->buf, g->len, 0, ST_E_PARSE, "gzip stream corrupt");
        z->buf[z->len - 2] ^= 0x55; /* inside the checksum */
        expect_fail(z->buf, z->len, 0, ST_E_PARSE, "zstd stream corrupt");
        st_writer_free(&g->w);
        st_writer_free(&z->w);
}

TEST(truncated_and_corrupt)
{
        FOREACH_INFLATER(truncated_and_corrupt_body());
}

static void gzip_trailing_garbage_body(void)
{
        struct mem_writer *g = compress_buf(COMPRESS_GZIP, "abc", 3);
        mem_write(&g->w, "garbage!", 8);
        expect_fail(g->buf, g->len, 0, ST_E_PARSE, "gzip stream corrupt");
        st_writer_free(&g->w);
        /* a second member with a reserved flag bit set, or another method: both inflaters
         * refuse it with zlib's words */
        struct mem_writer *a = compress_buf(COMPRESS_GZIP, "abc", 3);
        size_t first = a->len;
        mem_write(&a->w, a->buf, first);
        a->buf[first + 3] |= 0x40;
        expect_fail(a->buf, a->len, 0, ST_E_PARSE, "unknown header flags set");
        a->buf[first + 3] &= ~0x40;
        a->buf[first + 2] = 7;
        expect_fail(a->buf, a->len, 0, ST_E_PARSE, "unknown compression method");
        st_writer_free(&a->w);
}

TEST(gzip_trailing_garbage)
{
        FOREACH_INFLATER(gzip_trailing_garbage_body());
}

TEST(unsupported)
{
        expect_fail("BZh91AY&SY", 10, 0, ST_E_UNSUPPORTED, "bzip2 compression is not supported");
}

static void bomb_guard_body(void)
{
        size_t len = 4 << 20;
        _cleanup_free_ char *zeros = xcalloc(1, len);
        struct mem_writer *g = compress_buf(COMPRESS_GZIP, zeros, len);
        struct mem_writer *z = compress_buf(COMPRESS_ZSTD, zeros, len);
        ASSERT_TRUE(g->len < 10000);
        expect_fail(g->buf, g->len, 1 << 20, ST_E_TOO_BIG, "exceeds the limit");
        expect_fail(z->buf, z->len, 1 << 20, ST_E_TOO_BIG, "exceeds the limit");
        expect_fail(zeros, len, 1 << 20, ST_E_TOO_BIG, "exceeds the limit");
        /* exactly at the cap is fine */
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        ASSERT_OK_E(decompress_all(g->buf, g->len, len, &out, &n, NULL, &e), e);
        ASSERT_EQ(n, len);
        st_writer_free(&g->w);
        st_writer_free(&z->w);
}

TEST(bomb_guard)
{
        FOREACH_INFLATER(bomb_guard_body());
}

static ssize_t failing_read(struct st_reader *r, void *buf, size_t n)
{
        (void)buf;
        (void)n;
        return st_error_set(&r->err, -ECONNRESET, "connection reset by peer");
}

TEST(inner_error_propagates)
{
        struct st_reader *in = xcalloc(1, sizeof(*in));
        in->read = failing_read;
        in->free = (st_reader_free_fn)free;
        _cleanup_reader_ struct st_reader *d = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK(decompress_reader_new(in, 0, &d, &e));
        char buf[16];
        ASSERT_ERR(st_reader_read(d, buf, sizeof(buf)), -ECONNRESET);
        ASSERT_STREQ(st_error_msg(d->err), "connection reset by peer");
        st_reader_free(in);
}

/* LEN bytes mixing text, pseudo-random bytes and zeros, in runs of varying length; caller
 * frees. */
static char *make_mixed(size_t len)
{
        char *p = make_data(len);
        uint32_t x = 777;
        for (size_t off = 0; off < len;) {
                x = x * 1103515245 + 12345;
                size_t run = MIN(len - off, (size_t)(x >> 12) % 300000);
                int kind = (int)(x >> 8) % 3;
                for (size_t i = 0; i < run && kind == 1; i++) {
                        x = x * 1103515245 + 12345;
                        p[off + i] = (char)(x >> 16);
                }
                if (kind == 2)
                        memset(p + off, 0, run);
                off += run;
        }
        return p;
}

/* Gzip LEN bytes of DATA on THREADS workers, written CHUNK bytes at a time. */
static struct mem_writer *gzip_level(const char *data, size_t len, int level, int threads,
                                     size_t chunk)
{
        struct mem_writer *m = mem_writer_new();
        struct st_writer *c = gzip_writer_new(level, threads, &m->w);
        for (size_t off = 0; off < len; off += MIN(chunk, len - off))
                if (st_writer_write(c, data + off, MIN(chunk, len - off)) < 0)
                        abort();
        if (st_writer_close(c) < 0)
                abort();
        st_writer_free(c);
        return m;
}

static struct mem_writer *gzip_threads(const char *data, size_t len, int threads, size_t chunk)
{
        return gzip_level(data, len, 0, threads, chunk);
}

/* The number of gzip members in BUF, each checked by zlib; -1 if one does not decode. */
static int count_members(const char *buf, size_t len)
{
        z_stream z = { 0 };
        char out[65536];
        int members = 0;
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
                return -1;
        z.next_in = (unsigned char *)buf;
        z.avail_in = (uInt)len;
        while (z.avail_in > 0) {
                z.next_out = (unsigned char *)out;
                z.avail_out = sizeof(out);
                int rc = inflate(&z, Z_NO_FLUSH);
                if (rc == Z_STREAM_END) {
                        members++;
                        inflateReset(&z);
                } else if (rc != Z_OK) {
                        members = -1;
                        break;
                }
        }
        inflateEnd(&z);
        return members;
}

/* LEVEL's output of mixed data: the same bytes whatever the threads and write sizes, members
 * that zlib reads, and the data back through every inflater; its size into *RET_LEN. */
static void same_bytes_any_thread_count(int level, size_t *ret_len)
{
        size_t len = 5 * GZ_BLOCK + 12345;
        _cleanup_free_ char *data = make_mixed(len);
        struct mem_writer *ref = gzip_level(data, len, level, 1, len);
        ASSERT_TRUE(count_members(ref->buf, ref->len) >= 6);
        ASSERT_TRUE(ref->len < len / 2);

        const struct {
                int threads;
                size_t chunk;
        } runs[] = { { 1, 7777 },     { 2, len },  { 2, 65539 }, { 2, 1000 },
                     { 3, GZ_BLOCK }, { 8, 7777 }, { 0, 4096 } };

        for (size_t i = 0; i < ELEMENTSOF(runs); i++) {
                struct mem_writer *m = gzip_level(data, len, level, runs[i].threads, runs[i].chunk);
                bool same = m->len == ref->len && memcmp(m->buf, ref->buf, m->len) == 0;
                st_writer_free(&m->w);
                if (!same)
                        TAP_FAIL("level %d threads %d chunk %zu: bytes differ", level,
                                 runs[i].threads, runs[i].chunk);
        }
        FOREACH_INFLATER({
                _cleanup_error_ struct st_error *e = NULL;
                _cleanup_free_ char *out = NULL;
                size_t n = 0;
                ASSERT_OK_E(decompress_all(ref->buf, ref->len, 0, &out, &n, NULL, &e), e);
                ASSERT_EQ(n, len);
                ASSERT_TRUE(memcmp(out, data, len) == 0);
        });
        *ret_len = ref->len;
        st_writer_free(&ref->w);
}

TEST(gzip_same_bytes_any_thread_count)
{
        size_t def, fast;
        same_bytes_any_thread_count(0, &def);
        /* level 1 is ISA-L's igzip when strata has it: its own bytes, as deterministic */
        same_bytes_any_thread_count(1, &fast);
        ASSERT_TRUE(def != fast);
}

TEST(gzip_block_multiples)
{
        /* an exact number of blocks gets no empty member at the end; no input gets one */
        _cleanup_free_ char *data = make_data(2 * GZ_BLOCK);
        struct mem_writer *two = gzip_threads(data, 2 * GZ_BLOCK, 2, 9999);
        struct mem_writer *none = gzip_threads(data, 0, 2, 1);
        ASSERT_EQ(count_members(two->buf, two->len), 2);
        ASSERT_EQ(count_members(none->buf, none->len), 1);
        st_writer_free(&two->w);
        st_writer_free(&none->w);
}

/* A reader handing out its buffer 1 to 7 bytes at a time. */
struct dribble {
        struct st_reader r;
        const char *buf;
        size_t len, pos;
};

static ssize_t dribble_read(struct st_reader *r, void *buf, size_t n)
{
        struct dribble *d = (struct dribble *)r;
        size_t k = MIN(MIN(n, d->len - d->pos), 1 + d->pos % 7);
        memcpy(buf, d->buf + d->pos, k);
        d->pos += k;
        return (ssize_t)k;
}

static void members_split_across_reads_body(void)
{
        size_t len = 2 * GZ_BLOCK + 100;
        _cleanup_free_ char *data = make_mixed(len);
        struct mem_writer *g = gzip_threads(data, len, 2, len);
        struct dribble in = { .r.read = dribble_read, .buf = g->buf, .len = g->len };
        _cleanup_reader_ struct st_reader *d = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_free_ char *out = xmalloc(len + 1);
        ASSERT_OK(decompress_reader_new(&in.r, 0, &d, &e));
        size_t n = 0;
        for (ssize_t k = 1; k > 0; n += (size_t)MAX(k, 0))
                k = st_reader_read(d, out + n, len + 1 - n);
        st_writer_free(&g->w);
        ASSERT_TRUE(d->err == NULL);
        ASSERT_EQ(n, len);
        ASSERT_TRUE(memcmp(out, data, len) == 0);
        st_error_free(in.r.err);
}

TEST(gzip_members_split_across_reads)
{
        FOREACH_INFLATER(members_split_across_reads_body());
}

static int failing_write(struct st_writer *w, const void *buf, size_t n)
{
        (void)buf;
        (void)n;
        return st_error_set(&w->err, -ENOSPC, "no space left on device");
}

TEST(gzip_writer_error_propagates)
{
        size_t len = 6 * GZ_BLOCK;
        _cleanup_free_ char *data = make_mixed(len);
        struct st_writer sink = { .write = failing_write };
        struct st_writer *c = gzip_writer_new(0, 2, &sink);
        int r = 0;
        for (size_t off = 0; off < len && r >= 0; off += 100000)
                r = st_writer_write(c, data + off, MIN((size_t)100000, len - off));
        if (r >= 0)
                r = st_writer_close(c);
        ASSERT_ERR(r, -ENOSPC);
        ASSERT_STREQ(st_error_msg(c->err), "no space left on device");
        st_writer_free(c);
        st_error_free(sink.err);
        /* freed with blocks in flight and never closed: the workers stop */
        struct mem_writer *m = mem_writer_new();
        c = gzip_writer_new(0, 2, &m->w);
        ASSERT_OK(st_writer_write(c, data, len));
        st_writer_free(c);
        st_writer_free(&m->w);
}

/* LEN xorshift bytes; caller frees. */
static char *make_random(size_t len)
{
        char *p = xmalloc(len);
        uint64_t x = 88172645463325252ULL;
        for (size_t i = 0; i < len; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                p[i] = (char)(x >> 32);
        }
        return p;
}

TEST(gzip_incompressible_and_repeated_random)
{
        /* random bytes are stored: a little over their size, and they read back */
        size_t len = 3 * GZ_BLOCK;
        _cleanup_free_ char *rnd = make_random(len);
        struct mem_writer *g = gzip_threads(rnd, len, 2, len);
        ASSERT_TRUE(g->len > len && g->len < len + len / 500);
        FOREACH_INFLATER({
                _cleanup_error_ struct st_error *e = NULL;
                _cleanup_free_ char *out = NULL;
                size_t n = 0;
                ASSERT_OK_E(decompress_all(g->buf, g->len, 0, &out, &n, NULL, &e), e);
                ASSERT_EQ(n, len);
                ASSERT_TRUE(memcmp(out, rnd, len) == 0);
        });
        st_writer_free(&g->w);
        /* uniform bytes that repeat within the window still get compressed */
        _cleanup_free_ char *rep = xmalloc(GZ_BLOCK);
        for (size_t off = 0; off < GZ_BLOCK; off += 20000)
                memcpy(rep + off, rnd, MIN((size_t)20000, GZ_BLOCK - off));
        g = gzip_threads(rep, GZ_BLOCK, 1, GZ_BLOCK);
        ASSERT_TRUE(g->len < GZ_BLOCK / 10);
        /* only the first piece, which has nothing before it to repeat, is stored */
        ASSERT_EQ(count_members(g->buf, g->len), 2);
        st_writer_free(&g->w);
        /* text, random, text: the pieces wholly inside the random run are a stored member */
        size_t a = 100 * 1024, b = 64 * 1024;
        _cleanup_free_ char *mix = make_data(2 * a + b);
        memcpy(mix + a, rnd, b);
        g = gzip_threads(mix, 2 * a + b, 2, 5000);
        ASSERT_EQ(count_members(g->buf, g->len), 3);
        ASSERT_TRUE(g->len > 3 * GZ_SUB && g->len < b + a);
        st_writer_free(&g->w);
}
