/* decompress_reader: gzip (ISA-L's igzip when built with it, else zlib), zstd or plain bytes,
 * picked from the first bytes. Concatenated gzip members and zstd frames read as one stream. */
#include <inttypes.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#if HAVE_ISAL
#        include <isa-l/igzip_lib.h>
#endif

#include "basic/util.h"
#include "compress/compress-internal.h"
#include "compress/compress.h"

#define IN_BUFSZ (128 * 1024)

static bool use_isal = HAVE_ISAL;

bool decompress_gzip_isal(void)
{
        return use_isal;
}

bool decompress_gzip_set_isal(bool on)
{
        bool old = use_isal;
        use_isal = on && HAVE_ISAL;
        return old;
}

struct dreader {
        struct st_reader r;
        struct st_reader *inner;
        uint64_t max_out, produced;
        enum compress_type type;
        bool detected, eof, member_done, member_start;
        size_t zstd_hint; /* last ZSTD_decompressStream result: 0 = frame complete */
        unsigned char *in;
        size_t in_pos, in_len;
        z_stream z;
        bool z_init;
#if HAVE_ISAL
        struct inflate_state *isal; /* NULL: zlib inflates */
#endif
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
        if (d->type == COMPRESS_GZIP && use_isal) {
#if HAVE_ISAL
                d->isal = xmalloc(sizeof(*d->isal));
                isal_inflate_init(d->isal);
                d->isal->crc_flag = ISAL_GZIP;
                d->member_start = true;
#endif
        } else if (d->type == COMPRESS_GZIP) {
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

#if HAVE_ISAL
static const char *isal_strerror(int rc)
{
        switch (rc) {
        case ISAL_INVALID_BLOCK:
                return "invalid block type";
        case ISAL_INVALID_SYMBOL:
                return "invalid code";
        case ISAL_INVALID_LOOKBACK:
                return "invalid distance too far back";
        case ISAL_INVALID_WRAPPER:
                return "incorrect header check";
        case ISAL_UNSUPPORTED_METHOD:
                return "unknown compression method";
        case ISAL_INCORRECT_CHECKSUM:
                return "incorrect data check";
        default:
                return "invalid data";
        }
}

/* Before igzip sees a member's first bytes, check what zlib checks there and igzip does not
 * (the magic, the method, no reserved flag bits), so that both refuse the same streams. */
static int isal_check_header(struct dreader *d)
{
        while (d->in_len - d->in_pos < 4 && !d->eof) {
                memmove(d->in, d->in + d->in_pos, d->in_len - d->in_pos);
                d->in_len -= d->in_pos;
                d->in_pos = 0;
                ssize_t k = st_reader_read(d->inner, d->in + d->in_len, IN_BUFSZ - d->in_len);
                if (k < 0)
                        return st_error_take(&d->inner->err, (int)k, &d->r.err);
                if (k == 0)
                        d->eof = true;
                d->in_len += (size_t)k;
        }
        const unsigned char *p = d->in + d->in_pos;
        size_t have = d->in_len - d->in_pos;
        const char *bad = NULL;
        if ((have > 0 && p[0] != 0x1f) || (have > 1 && p[1] != 0x8b))
                bad = "incorrect header check";
        else if (have > 2 && p[2] != 8)
                bad = "unknown compression method";
        else if (have > 3 && (p[3] & 0xe0))
                bad = "unknown header flags set";
        if (bad)
                return st_error_set(&d->r.err, ST_E_PARSE, "gzip stream corrupt: %s", bad);
        return 0;
}

/* One igzip step into BUF; returns bytes produced or a negative code. */
static ssize_t isal_step(struct dreader *d, void *buf, size_t n)
{
        struct inflate_state *s = d->isal;
        if (d->member_done) {
                /* another member follows: start over on the same stream */
                isal_inflate_reset(s);
                s->crc_flag = ISAL_GZIP;
                d->member_done = false;
                d->member_start = true;
        }
        if (d->member_start) {
                int r = isal_check_header(d);
                if (r < 0)
                        return r;
                d->member_start = false;
        }
        s->next_in = d->in + d->in_pos;
        s->avail_in = (uint32_t)(d->in_len - d->in_pos);
        s->next_out = buf;
        s->avail_out = (uint32_t)MIN(n, (size_t)UINT32_MAX);
        uint32_t before = s->avail_out;
        int rc = isal_inflate(s);
        d->in_pos = d->in_len - s->avail_in;
        if (rc < 0)
                return st_error_set(&d->r.err, ST_E_PARSE, "gzip stream corrupt: %s",
                                    isal_strerror(rc));
        if (s->block_state == ISAL_BLOCK_FINISH)
                d->member_done = true;
        return (ssize_t)(before - s->avail_out);
}
#endif

/* One inflate step into BUF; returns bytes produced or a negative code. */
static ssize_t gzip_step(struct dreader *d, void *buf, size_t n)
{
#if HAVE_ISAL
        if (d->isal)
                return isal_step(d, buf, n);
#endif
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

/* fill() once the buffer is consumed and the input has not ended; 0 or -errno/ST_E_*. */
static int refill(struct dreader *d)
{
        return d->in_pos == d->in_len && !d->eof ? fill(d) : 0;
}

static ssize_t read_gzip(struct dreader *d, void *buf, size_t n)
{
        for (;;) {
                int r = refill(d);
                if (r < 0)
                        return r;
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
                int r = refill(d);
                if (r < 0)
                        return r;
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
#if HAVE_ISAL
        free(d->isal);
#endif
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
