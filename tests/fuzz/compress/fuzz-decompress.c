/* Fuzz the decompress reader: any bytes, read to the end with a small output cap (by ISA-L and by
 * zlib when strata has both: they must agree), then the output recompressed and decompressed
 * again to check the round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/stream.h"
#include "basic/util.h"
#include "compress/compress-internal.h"
#include "compress/compress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decompress BUF into a new buffer (caller frees); returns the length or -1. */
static ssize_t decompress_all(const void *buf, size_t len, uint64_t cap, char **ret)
{
        struct st_reader *in = st_mem_reader_new(buf, len), *d = NULL;
        struct st_error *err = NULL;
        if (decompress_reader_new(in, cap, &d, &err) < 0)
                abort();
        char *out = xmalloc(cap + 1);
        size_t n = 0;
        ssize_t k;
        while ((k = st_reader_read(d, out + n, MIN((size_t)4093, cap + 1 - n))) > 0)
                n += (size_t)k;
        st_reader_free(d);
        st_reader_free(in);
        if (k < 0) {
                free(out);
                return -1;
        }
        *ret = out;
        return (ssize_t)n;
}

struct mem_writer {
        struct st_writer w;
        char *buf;
        size_t len;
};

static int mem_write(struct st_writer *w, const void *buf, size_t n)
{
        struct mem_writer *m = (struct mem_writer *)w;
        m->buf = xrealloc(m->buf, m->len + n);
        memcpy(m->buf + m->len, buf, n);
        m->len += n;
        return 0;
}

/* With both gzip inflaters built in, zlib must give what ISA-L gave (N bytes OUT, or -1). */
static void check_zlib_agrees(const uint8_t *data, size_t size, ssize_t n, const char *out)
{
        if (!decompress_gzip_isal())
                return;
        char *z = NULL;
        (void)decompress_gzip_set_isal(false);
        ssize_t zn = decompress_all(data, size, 1 << 20, &z);
        (void)decompress_gzip_set_isal(true);
        if (zn != n || (n > 0 && memcmp(z, out, (size_t)n) != 0))
                abort();
        free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *out = NULL;
        ssize_t n = decompress_all(data, size, 1 << 20, &out);
        check_zlib_agrees(data, size, n, out);
        if (n < 0)
                return 0;
        enum compress_type t = size && (data[0] & 1) ? COMPRESS_ZSTD : COMPRESS_GZIP;
        struct mem_writer m = { .w.write = mem_write };
        struct st_writer *c = compress_writer_new(t, 1, &m.w);
        if (st_writer_write(c, out, (size_t)n) < 0 || st_writer_close(c) < 0)
                abort();
        st_writer_free(c);
        char *back = NULL;
        ssize_t n2 = decompress_all(m.buf, m.len, 1 << 20, &back);
        if (n2 != n || memcmp(out, back, (size_t)n) != 0)
                abort();
        free(back);
        free(out);
        free(m.buf);
        return 0;
}
