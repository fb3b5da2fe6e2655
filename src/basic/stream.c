#include "basic/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"

ssize_t st_reader_read(struct st_reader *r, void *buf, size_t n)
{
        ssize_t k = r->read(r, buf, n);
        if (k > 0)
                r->total += (uint64_t)k;
        else if (k < 0 && !r->err)
                st_error_set_errno(&r->err, (int)k, "read");
        return k;
}

int st_writer_write(struct st_writer *w, const void *buf, size_t n)
{
        if (n == 0)
                return 0;
        int r = w->write(w, buf, n);
        if (r < 0) {
                if (!w->err)
                        st_error_set_errno(&w->err, r, "write");
                return r;
        }
        w->total += n;
        return 0;
}

int st_writer_close(struct st_writer *w)
{
        if (!w->close)
                return 0;
        int r = w->close(w);
        if (r < 0 && !w->err)
                st_error_set_errno(&w->err, r, "write");
        return r;
}

int st_error_take(struct st_error **from, int code, struct st_error **err)
{
        if (err && !*err && *from) {
                *err = *from;
                *from = NULL;
                return (*err)->code;
        }
        if (err && !*err)
                return st_error_set(err, code, "i/o error %d", code);
        return code;
}

int st_copy(struct st_reader *r, struct st_writer *w, struct st_error **err)
{
        enum { BUFSZ = 256 * 1024 };

        _cleanup_free_ char *buf = xmalloc(BUFSZ);
        for (;;) {
                ssize_t n = st_reader_read(r, buf, BUFSZ);
                if (n < 0)
                        return st_error_take(&r->err, (int)n, err);
                if (n == 0)
                        return 0;
                int q = st_writer_write(w, buf, (size_t)n);
                if (q < 0)
                        return st_error_take(&w->err, q, err);
        }
}

void st_reader_free(struct st_reader *r)
{
        if (!r)
                return;
        st_error_free(r->err);
        r->err = NULL;
        if (r->free)
                r->free(r);
}

void st_writer_free(struct st_writer *w)
{
        if (!w)
                return;
        st_error_free(w->err);
        w->err = NULL;
        if (w->free)
                w->free(w);
}

struct fd_stream {
        union {
                struct st_reader r;
                struct st_writer w;
        };

        int fd;
        bool writeback;   /* start the kernel's writeback every WRITEBACK_EVERY bytes */
        uint64_t off, at; /* bytes written; where the unstarted writeback begins */
};

#define WRITEBACK_EVERY (8 * 1024 * 1024)

static ssize_t fd_read(struct st_reader *r, void *buf, size_t n)
{
        struct fd_stream *s = (struct fd_stream *)r;
        for (;;) {
                ssize_t k = read(s->fd, buf, n);
                if (k >= 0)
                        return k;
                if (errno != EINTR)
                        return -errno;
        }
}

static void fd_reader_free(struct st_reader *r)
{
        free(r);
}

struct st_reader *st_fd_reader_new(int fd)
{
        struct fd_stream *s = xcalloc(1, sizeof(*s));
        s->r.read = fd_read;
        s->r.free = fd_reader_free;
        s->fd = fd;
        return &s->r;
}

static int fd_write(struct st_writer *w, const void *buf, size_t n)
{
        struct fd_stream *s = (struct fd_stream *)w;
        int r = write_full(s->fd, buf, n);
        if (r < 0 || !s->writeback)
                return r;
        s->off += n;
        if (s->off - s->at >= WRITEBACK_EVERY) {
                st_start_writeback(s->fd, s->at, s->off - s->at);
                s->at = s->off;
        }
        return 0;
}

void st_start_writeback(int fd, uint64_t off, uint64_t len)
{
        /* asynchronous: the pages go to the disk while the writer goes on */
        (void)sync_file_range(fd, (off64_t)off, (off64_t)len, SYNC_FILE_RANGE_WRITE);
}

static void fd_writer_free(struct st_writer *w)
{
        free(w);
}

struct st_writer *st_fd_writer_new(int fd)
{
        struct fd_stream *s = xcalloc(1, sizeof(*s));
        s->w.write = fd_write;
        s->w.free = fd_writer_free;
        s->fd = fd;
        return &s->w;
}

struct st_writer *st_fd_writer_new_writeback(int fd)
{
        struct st_writer *w = st_fd_writer_new(fd);
        ((struct fd_stream *)w)->writeback = true;
        return w;
}

struct mem_reader {
        struct st_reader r;
        const char *buf;
        size_t len, pos;
};

static ssize_t mem_read(struct st_reader *r, void *buf, size_t n)
{
        struct mem_reader *m = (struct mem_reader *)r;
        size_t k = MIN(n, m->len - m->pos);
        if (k == 0)
                return 0;
        memcpy(buf, m->buf + m->pos, k);
        m->pos += k;
        return (ssize_t)k;
}

struct st_reader *st_mem_reader_new(const void *buf, size_t len)
{
        struct mem_reader *m = xcalloc(1, sizeof(*m));
        m->r.read = mem_read;
        m->r.free = fd_reader_free;
        m->buf = buf;
        m->len = len;
        return &m->r;
}

static int null_write(struct st_writer *w, const void *buf, size_t n)
{
        (void)w;
        (void)buf;
        (void)n;
        return 0;
}

struct st_writer *st_null_writer_new(void)
{
        struct st_writer *w = xcalloc(1, sizeof(*w));
        w->write = null_write;
        w->free = fd_writer_free;
        return w;
}

struct tee_reader {
        struct st_reader r;
        struct st_reader *inner;
        struct st_writer *tee;
};

static ssize_t tee_read(struct st_reader *r, void *buf, size_t n)
{
        struct tee_reader *t = (struct tee_reader *)r;
        ssize_t k = st_reader_read(t->inner, buf, n);
        if (k < 0) {
                st_error_take(&t->inner->err, (int)k, &r->err);
                return k;
        }
        int q = st_writer_write(t->tee, buf, (size_t)k);
        if (q < 0) {
                st_error_take(&t->tee->err, q, &r->err);
                return q;
        }
        return k;
}

struct st_reader *st_tee_reader_new(struct st_reader *inner, struct st_writer *tee)
{
        struct tee_reader *t = xcalloc(1, sizeof(*t));
        t->r.read = tee_read;
        t->r.free = fd_reader_free;
        t->inner = inner;
        t->tee = tee;
        return &t->r;
}
