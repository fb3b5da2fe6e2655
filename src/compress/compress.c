#include "compress/compress.h"

#include <inttypes.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "basic/util.h"

#define IN_BUFSZ  (64 * 1024)
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

/* ---- decompression ---- */

struct dreader {
        struct st_reader r;
        struct st_reader *inner;
        uint64_t max_out, produced;
        enum compress_type type;
        bool detected, eof, member_done;
        size_t zstd_hint; /* last ZSTD_decompressStream result: 0 = frame complete */
        unsigned char *in;
        size_t in_pos, in_len;
        z_stream z;
        bool z_init;
        ZSTD_DCtx *zd;
};

/* Read more input into the (fully consumed) buffer; sets eof at the end. */
static int fill(struct dreader *d)
{
        ssize_t k = st_reader_read(d->inner, d->in, IN_BUFSZ);
        if (k < 0)
                return st_error_take(&d->inner->err, (int)k, &d->r.err);
        d->in_pos = 0;
        d->in_len = (size_t)k;
        if (k == 0)
                d->eof = true;
        return 0;
}

/* Buffer at least 6 bytes (or all there is) and pick the decoder from them. */
static int detect(struct dreader *d)
{
        while (!d->eof && d->in_len < 6) {
                ssize_t k = st_reader_read(d->inner, d->in + d->in_len, IN_BUFSZ - d->in_len);
                if (k < 0)
                        return st_error_take(&d->inner->err, (int)k, &d->r.err);
                if (k == 0)
                        d->eof = true;
                d->in_len += (size_t)k;
        }
        const char *other = NULL;
        d->type = compress_detect(d->in, d->in_len, &other);
        d->detected = true;
        if (d->type == _COMPRESS_INVALID)
                return st_error_set(&d->r.err, ST_E_UNSUPPORTED, "%s compression is not supported",
                                    other);
        if (d->type == COMPRESS_GZIP) {
                if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK)
                        return st_error_set(&d->r.err, -ENOMEM, "gzip: cannot initialize");
                d->z_init = true;
        } else if (d->type == COMPRESS_ZSTD) {
                d->zd = ZSTD_createDCtx();
                if (!d->zd)
                        return st_error_set(&d->r.err, -ENOMEM, "zstd: cannot initialize");
        }
        return 0;
}

static ssize_t read_none(struct dreader *d, void *buf, size_t n)
{
        if (d->in_pos < d->in_len) {
                size_t k = MIN(n, d->in_len - d->in_pos);
                memcpy(buf, d->in + d->in_pos, k);
                d->in_pos += k;
                return (ssize_t)k;
        }
        if (d->eof)
                return 0;
        ssize_t k = st_reader_read(d->inner, buf, n);
        if (k < 0)
                return st_error_take(&d->inner->err, (int)k, &d->r.err);
        return k;
}

static int gzip_error(struct dreader *d, int rc)
{
        if (rc == Z_MEM_ERROR)
                return st_error_set(&d->r.err, -ENOMEM, "gzip: out of memory");
        return st_error_set(&d->r.err, ST_E_PARSE, "gzip stream corrupt: %s",
                            d->z.msg ? d->z.msg : "invalid data");
}

/* One inflate step into BUF; returns bytes produced or a negative code. */
static ssize_t gzip_step(struct dreader *d, void *buf, size_t n)
{
        if (d->member_done) {
                /* another member follows: start over on the same stream */
                inflateReset(&d->z);
                d->member_done = false;
        }
        d->z.next_in = d->in + d->in_pos;
        d->z.avail_in = (uInt)(d->in_len - d->in_pos);
        d->z.next_out = buf;
        d->z.avail_out = (uInt)MIN(n, (size_t)UINT32_MAX);
        uInt before = d->z.avail_out;
        int rc = inflate(&d->z, Z_NO_FLUSH);
        d->in_pos = d->in_len - d->z.avail_in;
        if (rc == Z_STREAM_END)
                d->member_done = true;
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
                return gzip_error(d, rc);
        return (ssize_t)(before - d->z.avail_out);
}

static ssize_t read_gzip(struct dreader *d, void *buf, size_t n)
{
        for (;;) {
                if (d->in_pos == d->in_len && !d->eof) {
                        int r = fill(d);
                        if (r < 0)
                                return r;
                }
                bool no_input = d->in_pos == d->in_len && d->eof;
                if (d->member_done && no_input)
                        return 0;
                if (no_input)
                        return st_error_set(&d->r.err, ST_E_PARSE, "gzip stream truncated");
                ssize_t k = gzip_step(d, buf, n);
                if (k != 0)
                        return k;
        }
}

static ssize_t read_zstd(struct dreader *d, void *buf, size_t n)
{
        for (;;) {
                if (d->in_pos == d->in_len && !d->eof) {
                        int r = fill(d);
                        if (r < 0)
                                return r;
                }
                ZSTD_inBuffer in = { d->in, d->in_len, d->in_pos };
                ZSTD_outBuffer out = { buf, n, 0 };
                size_t rc = ZSTD_decompressStream(d->zd, &out, &in);
                if (ZSTD_isError(rc))
                        return st_error_set(&d->r.err, ST_E_PARSE, "zstd stream corrupt: %s",
                                            ZSTD_getErrorName(rc));
                /* a call without progress says nothing about the frame state */
                if (in.pos > d->in_pos || out.pos > 0)
                        d->zstd_hint = rc;
                d->in_pos = in.pos;
                if (out.pos > 0)
                        return (ssize_t)out.pos;
                if (d->in_pos == d->in_len && d->eof) {
                        if (d->zstd_hint != 0)
                                return st_error_set(&d->r.err, ST_E_PARSE, "zstd stream truncated");
                        return 0;
                }
        }
}

static ssize_t dreader_read(struct st_reader *r, void *buf, size_t n)
{
        struct dreader *d = (struct dreader *)r;
        if (!d->detected) {
                int q = detect(d);
                if (q < 0)
                        return q;
        }
        if (n == 0)
                return 0;
        ssize_t k;
        if (d->type == COMPRESS_GZIP)
                k = read_gzip(d, buf, n);
        else if (d->type == COMPRESS_ZSTD)
                k = read_zstd(d, buf, n);
        else
                k = read_none(d, buf, n);
        if (k <= 0)
                return k;
        d->produced += (uint64_t)k;
        if (d->max_out && d->produced > d->max_out)
                return st_error_set(&d->r.err, ST_E_TOO_BIG,
                                    "decompressed data exceeds the limit of %" PRIu64 " bytes",
                                    d->max_out);
        return k;
}

static void dreader_free(struct st_reader *r)
{
        struct dreader *d = (struct dreader *)r;
        if (d->z_init)
                inflateEnd(&d->z);
        ZSTD_freeDCtx(d->zd);
        free(d->in);
        free(d);
}

int decompress_reader_new(struct st_reader *inner, uint64_t max_out, struct st_reader **ret,
                          struct st_error **err)
{
        (void)err;
        struct dreader *d = xcalloc(1, sizeof(*d));
        d->r.read = dreader_read;
        d->r.free = dreader_free;
        d->inner = inner;
        d->max_out = max_out;
        d->type = COMPRESS_NONE;
        d->in = xmalloc(IN_BUFSZ);
        *ret = &d->r;
        return 0;
}

enum compress_type decompress_reader_type(struct st_reader *r)
{
        struct dreader *d = (struct dreader *)r;
        return d->type;
}

/* ---- compression ---- */

struct cwriter {
        struct st_writer w;
        struct st_writer *inner;
        enum compress_type type;
        bool closed;
        unsigned char *out;
        z_stream z;
        bool z_init;
        ZSTD_CCtx *zc;
};

static int push_out(struct cwriter *c, size_t len)
{
        int r = st_writer_write(c->inner, c->out, len);
        if (r < 0)
                return st_error_take(&c->inner->err, r, &c->w.err);
        return 0;
}

/* Run deflate with FLUSH over the pending input until it is consumed (or the tail is out). */
static int gzip_run(struct cwriter *c, int flush)
{
        for (;;) {
                c->z.next_out = c->out;
                c->z.avail_out = OUT_BUFSZ;
                int rc = deflate(&c->z, flush);
                if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
                        return st_error_set(&c->w.err, -EIO, "gzip: deflate failed (%d)", rc);
                size_t have = OUT_BUFSZ - c->z.avail_out;
                if (have > 0) {
                        int r = push_out(c, have);
                        if (r < 0)
                                return r;
                }
                if (flush == Z_FINISH ? rc == Z_STREAM_END : c->z.avail_in == 0 && have == 0)
                        return 0;
        }
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
        if (c->type == COMPRESS_ZSTD) {
                ZSTD_inBuffer in = { buf, n, 0 };
                return zstd_run(c, &in, ZSTD_e_continue);
        }
        const unsigned char *p = buf;
        while (n > 0) {
                size_t k = MIN(n, (size_t)UINT32_MAX);
                c->z.next_in = (unsigned char *)p;
                c->z.avail_in = (uInt)k;
                int r = gzip_run(c, Z_NO_FLUSH);
                if (r < 0)
                        return r;
                p += k;
                n -= k;
        }
        return 0;
}

static int cwriter_close(struct st_writer *w)
{
        struct cwriter *c = (struct cwriter *)w;
        if (c->closed)
                return 0;
        c->closed = true;
        if (c->type == COMPRESS_GZIP) {
                c->z.next_in = NULL;
                c->z.avail_in = 0;
                return gzip_run(c, Z_FINISH);
        }
        if (c->type == COMPRESS_ZSTD) {
                ZSTD_inBuffer in = { NULL, 0, 0 };
                return zstd_run(c, &in, ZSTD_e_end);
        }
        return 0;
}

static void cwriter_free(struct st_writer *w)
{
        struct cwriter *c = (struct cwriter *)w;
        if (c->z_init)
                deflateEnd(&c->z);
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

static void setup_gzip(struct cwriter *c, int level)
{
        int rc = deflateInit2(&c->z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                              16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        if (rc == Z_STREAM_ERROR)
                rc = deflateInit2(&c->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                                  Z_DEFAULT_STRATEGY);
        if (rc != Z_OK)
                abort();
        c->z_init = true;
}

struct st_writer *compress_writer_new(enum compress_type type, int level, struct st_writer *inner)
{
        struct cwriter *c = xcalloc(1, sizeof(*c));
        c->w.write = cwriter_write;
        c->w.close = cwriter_close;
        c->w.free = cwriter_free;
        c->inner = inner;
        c->type = type == COMPRESS_GZIP || type == COMPRESS_ZSTD ? type : COMPRESS_NONE;
        c->out = xmalloc(OUT_BUFSZ);
        if (c->type == COMPRESS_GZIP)
                setup_gzip(c, level);
        else if (c->type == COMPRESS_ZSTD)
                setup_zstd(c, level);
        return &c->w;
}
