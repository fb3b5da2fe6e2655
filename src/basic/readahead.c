/* st_readahead_reader_new: a thread that reads INNER ahead into a few buffers, so that what sits
 * below (socket, hashes, decompression) runs while the consumer (tar extraction) works. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "basic/stream.h"
#include "basic/util.h"

#define RA_BUFS  4
#define RA_BUFSZ (256 * 1024)

struct ra_buf {
        char *data;
        size_t len, pos;
};

struct readahead {
        struct st_reader r;
        struct st_reader *inner;
        struct ra_buf bufs[RA_BUFS];
        size_t head, count;  /* the oldest filled buffer, and how many are filled */
        bool done, stop;     /* the producer has hit the end or an error; the consumer quits */
        int code;            /* with done: 0 at the end, else the error (inner's err kept) */
        bool started, ended; /* thread started; joined */
        pthread_t thread;
        pthread_mutex_t mu;
        pthread_cond_t filled, freed;
};

static void *producer(void *arg)
{
        struct readahead *ra = arg;
        pthread_mutex_lock(&ra->mu);
        for (;;) {
                while (!ra->stop && ra->count == RA_BUFS)
                        pthread_cond_wait(&ra->freed, &ra->mu);
                if (ra->stop)
                        break;
                struct ra_buf *b = &ra->bufs[(ra->head + ra->count) % RA_BUFS];
                pthread_mutex_unlock(&ra->mu);
                ssize_t k = st_reader_read(ra->inner, b->data, RA_BUFSZ);
                pthread_mutex_lock(&ra->mu);
                if (k <= 0) {
                        ra->done = true;
                        ra->code = (int)k;
                        pthread_cond_broadcast(&ra->filled);
                        break;
                }
                b->len = (size_t)k;
                b->pos = 0;
                ra->count++;
                pthread_cond_broadcast(&ra->filled);
        }
        pthread_mutex_unlock(&ra->mu);
        return NULL;
}

static ssize_t ra_read(struct st_reader *r, void *buf, size_t n)
{
        struct readahead *ra = (struct readahead *)r;
        if (!ra->started) {
                if (pthread_create(&ra->thread, NULL, producer, ra) != 0)
                        return st_error_set(&r->err, -EAGAIN, "cannot start a reader thread");
                ra->started = true;
        }
        pthread_mutex_lock(&ra->mu);
        while (ra->count == 0 && !ra->done)
                pthread_cond_wait(&ra->filled, &ra->mu);
        if (ra->count == 0) {
                int code = ra->code;
                pthread_mutex_unlock(&ra->mu);
                /* the producer has stopped for good: its error is ours to take */
                return code < 0 ? st_error_take(&ra->inner->err, code, &r->err) : 0;
        }
        struct ra_buf *b = &ra->bufs[ra->head];
        pthread_mutex_unlock(&ra->mu);
        size_t k = MIN(n, b->len - b->pos);
        memcpy(buf, b->data + b->pos, k);
        b->pos += k;
        if (b->pos == b->len) {
                pthread_mutex_lock(&ra->mu);
                ra->head = (ra->head + 1) % RA_BUFS;
                ra->count--;
                pthread_cond_signal(&ra->freed);
                pthread_mutex_unlock(&ra->mu);
        }
        return (ssize_t)k;
}

void st_readahead_reader_stop(struct st_reader *r)
{
        struct readahead *ra = (struct readahead *)r;
        if (!ra || !ra->started || ra->ended)
                return;
        pthread_mutex_lock(&ra->mu);
        ra->stop = true;
        pthread_cond_broadcast(&ra->freed);
        pthread_mutex_unlock(&ra->mu);
        pthread_join(ra->thread, NULL);
        ra->ended = true;
}

static void ra_free(struct st_reader *r)
{
        struct readahead *ra = (struct readahead *)r;
        st_readahead_reader_stop(r);
        for (size_t i = 0; i < RA_BUFS; i++)
                free(ra->bufs[i].data);
        pthread_mutex_destroy(&ra->mu);
        pthread_cond_destroy(&ra->filled);
        pthread_cond_destroy(&ra->freed);
        free(ra);
}

struct st_reader *st_readahead_reader_new(struct st_reader *inner)
{
        struct readahead *ra = xcalloc(1, sizeof(*ra));
        ra->r.read = ra_read;
        ra->r.free = ra_free;
        ra->inner = inner;
        for (size_t i = 0; i < RA_BUFS; i++)
                ra->bufs[i].data = xmalloc(RA_BUFSZ);
        pthread_mutex_init(&ra->mu, NULL);
        pthread_cond_init(&ra->filled, NULL);
        pthread_cond_init(&ra->freed, NULL);
        return &ra->r;
}
