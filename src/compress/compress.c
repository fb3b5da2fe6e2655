#include "compress/compress.h"

#include <string.h>
#include <zstd.h>

#include "basic/util.h"
#include "compress/compress-internal.h"

#define OUT_BUFSZ (128 * 1024)

static const char *const type_names[_COMPRESS_MAX] = {
        [COMPRESS_NONE] = "none",
        [COMPRESS_GZIP] = "gzip",
        [COMPRESS_ZSTD] = "zstd",
};

const char *compress_type_to_string(enum compress_type t)
{
        if (t < 0 || t >= _COMPRESS_MAX)
                return NULL;
        return type_names[t];
}

enum compress_type compress_type_from_string(const char *s)
{
        for (int i = 0; s && i < _COMPRESS_MAX; i++)
                if (streq(s, type_names[i]))
                        return (enum compress_type)i;
        return _COMPRESS_INVALID;
}

static bool has_magic(const void *buf, size_t len, const char *magic, size_t mlen)
{
        return len >= mlen && memcmp(buf, magic, mlen) == 0;
}

enum compress_type compress_detect(const void *buf, size_t len, const char **ret_other_name)
{
        const char *other = NULL;
        enum compress_type t = COMPRESS_NONE;
        if (has_magic(buf, len, "\x1f\x8b", 2))
                t = COMPRESS_GZIP;
        else if (has_magic(buf, len, "\x28\xb5\x2f\xfd", 4))
                t = COMPRESS_ZSTD;
        else if (has_magic(buf, len, "BZh", 3))
                other = "bzip2";
        else if (has_magic(buf, len,
                           "\xfd"
                           "7zXZ\x00",
                           6))
                other = "xz";
        if (other)
                t = _COMPRESS_INVALID;
        if (ret_other_name)
                *ret_other_name = other;
        return t;
}

/* ---- compression: zstd and none here, gzip in gzip-writer.c ---- */

struct cwriter {
        struct st_writer w;
        struct st_writer *inner;
        enum compress_type type;
        bool closed;
        unsigned char *out;
        ZSTD_CCtx *zc;
};

static int push_out(struct cwriter *c, size_t len)
{
        int r = st_writer_write(c->inner, c->out, len);
        if (r < 0)
                return st_error_take(&c->inner->err, r, &c->w.err);
        return 0;
}

/* Run ZSTD_compressStream2 with MODE over IN until consumed (e_continue) or done (e_end). */
static int zstd_run(struct cwriter *c, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
        for (;;) {
                ZSTD_outBuffer out = { c->out, OUT_BUFSZ, 0 };
                size_t rc = ZSTD_compressStream2(c->zc, &out, in, mode);
                if (ZSTD_isError(rc))
                        return st_error_set(&c->w.err, -EIO, "zstd: %s", ZSTD_getErrorName(rc));
                if (out.pos > 0) {
                        int r = push_out(c, out.pos);
                        if (r < 0)
                                return r;
                }
                if (mode == ZSTD_e_end ? rc == 0 : in->pos == in->size)
                        return 0;
        }
}

static int cwriter_write(struct st_writer *w, const void *buf, size_t n)
{
        struct cwriter *c = (struct cwriter *)w;
        if (c->closed)
                return st_error_set(&w->err, -EINVAL, "write after close");
        if (c->type == COMPRESS_NONE) {
                int r = st_writer_write(c->inner, buf, n);
                return r < 0 ? st_error_take(&c->inner->err, r, &w->err) : 0;
        }
        ZSTD_inBuffer in = { buf, n, 0 };
        return zstd_run(c, &in, ZSTD_e_continue);
}

static int cwriter_close(struct st_writer *w)
{
        struct cwriter *c = (struct cwriter *)w;
        if (c->closed)
                return 0;
        c->closed = true;
        if (c->type == COMPRESS_ZSTD) {
                ZSTD_inBuffer in = { NULL, 0, 0 };
                return zstd_run(c, &in, ZSTD_e_end);
        }
        return 0;
}

static void cwriter_free(struct st_writer *w)
{
        struct cwriter *c = (struct cwriter *)w;
        ZSTD_freeCCtx(c->zc);
        free(c->out);
        free(c);
}

static void setup_zstd(struct cwriter *c, int level)
{
        c->zc = ZSTD_createCCtx();
        if (!c->zc)
                abort();
        (void)ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, level ? level : 3);
        (void)ZSTD_CCtx_setParameter(c->zc, ZSTD_c_checksumFlag, 1);
        /* fails harmlessly when libzstd is built without threads */
        (void)ZSTD_CCtx_setParameter(c->zc, ZSTD_c_nbWorkers, 2);
}

struct st_writer *compress_writer_new(enum compress_type type, int level, struct st_writer *inner)
{
        if (type == COMPRESS_GZIP)
                return gzip_writer_new(level, 0, inner);
        struct cwriter *c = xcalloc(1, sizeof(*c));
        c->w.write = cwriter_write;
        c->w.close = cwriter_close;
        c->w.free = cwriter_free;
        c->inner = inner;
        c->type = type == COMPRESS_ZSTD ? type : COMPRESS_NONE;
        c->out = xmalloc(OUT_BUFSZ);
        if (c->type == COMPRESS_ZSTD)
                setup_zstd(c, level);
        return &c->w;
}
