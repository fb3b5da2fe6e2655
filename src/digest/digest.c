/* OpenSSL's SHA256_* functions, not EVP: EVP's first use loads the providers and openssl.cnf,
 * ~1.3 ms of every strata command; these run the same assembly (SHA-NI) at the same speed.
 * They are deprecated in OpenSSL 3 but kept; the 1.1 API level keeps them warning-free. */
#define OPENSSL_API_COMPAT 0x10100000L

#include "digest/digest.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/util.h"

bool digest_is_valid(const char *s)
{
        const char *h = s ? startswith(s, "sha256:") : NULL;
        if (!h || strlen(h) != DIGEST_HEX_LEN)
                return false;
        for (; *h; h++)
                if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
                        return false;
        return true;
}

int digest_check(const char *s, struct st_error **err)
{
        if (digest_is_valid(s))
                return 0;
        return st_error_set(err, ST_E_PARSE, "invalid digest '%.100s'", s ? s : "");
}

const char *digest_hex(const char *s)
{
        return s + 7;
}

struct digest_ctx {
        SHA256_CTX sha;
};

struct digest_ctx *digest_ctx_new(void)
{
        struct digest_ctx *c = xmalloc(sizeof(*c));
        if (SHA256_Init(&c->sha) != 1)
                abort();
        return c;
}

void digest_ctx_update(struct digest_ctx *c, const void *buf, size_t len)
{
        if (len && SHA256_Update(&c->sha, buf, len) != 1)
                abort();
}

void digest_ctx_final(struct digest_ctx *c, char *out)
{
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256_CTX copy = c->sha; /* the context stays usable */
        if (SHA256_Final(md, &copy) != 1)
                abort();
        memcpy(out, "sha256:", 7);
        hex_encode(md, sizeof(md), out + 7);
}

void digest_ctx_free(struct digest_ctx *c)
{
        free(c);
}

void digest_buf(const void *buf, size_t len, char *out)
{
        struct digest_ctx *c = digest_ctx_new();
        digest_ctx_update(c, buf, len);
        digest_ctx_final(c, out);
        digest_ctx_free(c);
}

struct digest_reader {
        struct st_reader r;
        struct st_reader *inner;
        struct digest_ctx *ctx;
};

static ssize_t dr_read(struct st_reader *r, void *buf, size_t n)
{
        struct digest_reader *d = (struct digest_reader *)r;
        ssize_t k = st_reader_read(d->inner, buf, n);
        if (k < 0) {
                st_error_take(&d->inner->err, (int)k, &r->err);
                return k;
        }
        digest_ctx_update(d->ctx, buf, (size_t)k);
        return k;
}

static void dr_free(struct st_reader *r)
{
        struct digest_reader *d = (struct digest_reader *)r;
        digest_ctx_free(d->ctx);
        free(d);
}

struct st_reader *digest_reader_new(struct st_reader *inner)
{
        struct digest_reader *d = xcalloc(1, sizeof(*d));
        d->r.read = dr_read;
        d->r.free = dr_free;
        d->inner = inner;
        d->ctx = digest_ctx_new();
        return &d->r;
}

void digest_reader_final(struct st_reader *r, char *out)
{
        digest_ctx_final(((struct digest_reader *)r)->ctx, out);
}

struct digest_writer {
        struct st_writer w;
        struct st_writer *inner;
        struct digest_ctx *ctx;
};

static int dw_write(struct st_writer *w, const void *buf, size_t n)
{
        struct digest_writer *d = (struct digest_writer *)w;
        digest_ctx_update(d->ctx, buf, n);
        if (!d->inner)
                return 0;
        int r = st_writer_write(d->inner, buf, n);
        if (r < 0)
                st_error_take(&d->inner->err, r, &w->err);
        return r;
}

static int dw_close(struct st_writer *w)
{
        struct digest_writer *d = (struct digest_writer *)w;
        if (!d->inner)
                return 0;
        int r = st_writer_close(d->inner);
        if (r < 0)
                st_error_take(&d->inner->err, r, &w->err);
        return r;
}

static void dw_free(struct st_writer *w)
{
        struct digest_writer *d = (struct digest_writer *)w;
        digest_ctx_free(d->ctx);
        free(d);
}

struct st_writer *digest_writer_new(struct st_writer *inner)
{
        struct digest_writer *d = xcalloc(1, sizeof(*d));
        d->w.write = dw_write;
        d->w.close = dw_close;
        d->w.free = dw_free;
        d->inner = inner;
        d->ctx = digest_ctx_new();
        return &d->w;
}

void digest_writer_final(struct st_writer *w, char *out)
{
        digest_ctx_final(((struct digest_writer *)w)->ctx, out);
}

int digest_fd(int fd, char *out, uint64_t *ret_size, struct st_error **err)
{
        enum { BUFSZ = 256 * 1024 };

        _cleanup_free_ char *buf = xmalloc(BUFSZ);
        struct digest_ctx *c = digest_ctx_new();
        uint64_t size = 0;
        for (;;) {
                ssize_t n = read(fd, buf, BUFSZ);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        digest_ctx_free(c);
                        return st_error_set_errno(err, -errno, "read");
                }
                if (n == 0)
                        break;
                digest_ctx_update(c, buf, (size_t)n);
                size += (uint64_t)n;
        }
        digest_ctx_final(c, out);
        digest_ctx_free(c);
        if (ret_size)
                *ret_size = size;
        return 0;
}
