/* Parallel, deterministic gzip: the uncompressed stream is cut into fixed GZ_BLOCK-sized blocks,
 * each compressed on its own by libdeflate on a worker pool into one gzip member, and the members
 * are written in order. The block size never depends on the thread count or on timing, so the
 * bytes are the same for any number of workers. At most 2 blocks per worker are in flight: the
 * writer waits for the oldest one before it reuses its slot (backpressure).
 * Blocks that look incompressible (random bytes, compressed files) are stored without trying:
 * deflate at level 6 spends ~3x longer on them than on text, to gain nothing. */
#include <libdeflate.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "basic/util.h"
#include "compress/compress-internal.h"

#define GZ_MAX_THREADS 64
#define GZ_SAMPLE      (64 * 1024)

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_BUSY, SLOT_DONE };

struct gz_slot {
        unsigned char *in, *out;
        size_t in_len, out_len;
        enum slot_state state;
};

struct gzwriter {
        struct st_writer w;
        struct st_writer *inner;
        int level, nthreads, started;
        bool closed, stop;
        struct gz_slot *slots;
        size_t nslots, out_cap;
        uint64_t fill, emit, take; /* block numbers: being filled, next to write, next to run */
        struct codec *own;         /* the caller's thread, for a stream of one block */
        pthread_t *threads;
        pthread_mutex_t mu;
        pthread_cond_t work, done;
};

/* One thread's compressors: at the level asked, level 1 for the trial, level 0 (stored). */
struct codec {
        struct libdeflate_compressor *main, *fast, *store;
        unsigned char *tmp;
};

static struct libdeflate_compressor *compressor_new(int level)
{
        struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
        if (!c)
                abort();
        return c;
}

static struct codec *codec_new(int level)
{
        struct codec *c = xmalloc(sizeof(*c));
        c->main = compressor_new(level);
        c->fast = compressor_new(1);
        c->store = compressor_new(0);
        c->tmp = xmalloc(GZ_SAMPLE);
        return c;
}

static void codec_free(struct codec *c)
{
        if (!c)
                return;
        libdeflate_free_compressor(c->main);
        libdeflate_free_compressor(c->fast);
        libdeflate_free_compressor(c->store);
        free(c->tmp);
        free(c);
}

/* Whether the N bytes at P are not worth compressing: their byte histogram is near uniform
 * (order-0 entropy above ~7.99 bits per byte, so Huffman coding gains < 0.2%) and level 1 on
 * two 64 KiB samples saves less than 1% (so there are no repeats to exploit either). Depends
 * on the bytes only, so the output stays deterministic. */
static bool incompressible(struct codec *c, const unsigned char *p, size_t n)
{
        if (n < 4 * GZ_SAMPLE)
                return false;
        uint32_t h[4][256] = { 0 };
        size_t i = 0;
        for (; i + 4 <= n; i += 4) {
                h[0][p[i]]++;
                h[1][p[i + 1]]++;
                h[2][p[i + 2]]++;
                h[3][p[i + 3]]++;
        }
        for (; i < n; i++)
                h[0][p[i]]++;
        /* chi-square against uniform; entropy deficit ~ chi2 / (2 n ln 2) bits per byte */
        double e = (double)n / 256, chi2 = 0;
        for (int b = 0; b < 256; b++) {
                double d = (double)(h[0][b] + h[1][b] + h[2][b] + h[3][b]) - e;
                chi2 += d * d / e;
        }
        if (chi2 > 0.0139 * (double)n)
                return false;
        size_t limit = GZ_SAMPLE - GZ_SAMPLE / 100;
        return libdeflate_deflate_compress(c->fast, p, GZ_SAMPLE, c->tmp, limit) == 0 &&
               libdeflate_deflate_compress(c->fast, p + n / 2, GZ_SAMPLE, c->tmp, limit) == 0;
}

static void compress_slot(struct codec *c, struct gz_slot *s, size_t cap)
{
        struct libdeflate_compressor *z = incompressible(c, s->in, s->in_len) ? c->store : c->main;
        s->out_len = libdeflate_gzip_compress(z, s->in, s->in_len, s->out, cap);
        if (s->out_len == 0) /* the buffer is libdeflate's own bound: cannot happen */
                abort();
}

static void *worker(void *arg)
{
        struct gzwriter *g = arg;
        struct codec *c = codec_new(g->level);
        pthread_mutex_lock(&g->mu);
        for (;;) {
                struct gz_slot *s = &g->slots[g->take % g->nslots];
                if (g->stop)
                        break;
                if (s->state != SLOT_QUEUED) {
                        pthread_cond_wait(&g->work, &g->mu);
                        continue;
                }
                s->state = SLOT_BUSY;
                g->take++;
                pthread_mutex_unlock(&g->mu);
                compress_slot(c, s, g->out_cap);
                pthread_mutex_lock(&g->mu);
                s->state = SLOT_DONE;
                pthread_cond_broadcast(&g->done);
        }
        pthread_mutex_unlock(&g->mu);
        codec_free(c);
        return NULL;
}

static void start_threads(struct gzwriter *g)
{
        g->threads = xcalloc((size_t)g->nthreads, sizeof(*g->threads));
        for (; g->started < g->nthreads; g->started++)
                if (pthread_create(&g->threads[g->started], NULL, worker, g) != 0)
                        break;
        if (g->started == 0)
                abort(); /* not even one thread: out of resources */
}

static void stop_threads(struct gzwriter *g)
{
        pthread_mutex_lock(&g->mu);
        g->stop = true;
        pthread_cond_broadcast(&g->work);
        pthread_mutex_unlock(&g->mu);
        for (int i = 0; i < g->started; i++)
                pthread_join(g->threads[i], NULL);
        g->started = 0;
}

static int write_out(struct gzwriter *g, const struct gz_slot *s)
{
        int r = st_writer_write(g->inner, s->out, s->out_len);
        return r < 0 ? st_error_take(&g->inner->err, r, &g->w.err) : 0;
}

/* Write the oldest block downstream; with WAIT, wait until a worker has finished it, else
 * return 1 when it is not done yet. */
static int emit_one(struct gzwriter *g, bool wait)
{
        struct gz_slot *s = &g->slots[g->emit % g->nslots];
        pthread_mutex_lock(&g->mu);
        while (wait && s->state != SLOT_DONE)
                pthread_cond_wait(&g->done, &g->mu);
        bool ready = s->state == SLOT_DONE;
        pthread_mutex_unlock(&g->mu);
        if (!ready)
                return 1;
        int r = write_out(g, s);
        s->in_len = 0;
        s->state = SLOT_FREE; /* only this thread touches a DONE slot */
        g->emit++;
        return r;
}

/* Hand the block being filled to the workers and write whatever is finished. */
static int submit(struct gzwriter *g)
{
        if (!g->threads)
                start_threads(g);
        pthread_mutex_lock(&g->mu);
        g->slots[g->fill % g->nslots].state = SLOT_QUEUED;
        g->fill++;
        pthread_cond_signal(&g->work);
        pthread_mutex_unlock(&g->mu);
        while (g->emit < g->fill) {
                int r = emit_one(g, false);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        return 0;
}

/* The slot for the block being filled: allocated on first use, and free once the block that
 * used it nslots ago is written (waiting for it if needed). */
static int fill_slot(struct gzwriter *g, struct gz_slot **ret)
{
        struct gz_slot *s = &g->slots[g->fill % g->nslots];
        while (g->emit + g->nslots <= g->fill) {
                int r = emit_one(g, true);
                if (r < 0)
                        return r;
        }
        if (!s->in) {
                s->in = xmalloc(GZ_BLOCK);
                s->out = xmalloc(g->out_cap);
        }
        *ret = s;
        return 0;
}

static int gz_write(struct st_writer *w, const void *buf, size_t n)
{
        struct gzwriter *g = (struct gzwriter *)w;
        if (g->closed)
                return st_error_set(&w->err, -EINVAL, "write after close");
        const unsigned char *p = buf;
        while (n > 0) {
                struct gz_slot *s = NULL;
                int r = fill_slot(g, &s);
                if (r < 0)
                        return r;
                size_t k = MIN(n, GZ_BLOCK - s->in_len);
                memcpy(s->in + s->in_len, p, k);
                s->in_len += k;
                p += k;
                n -= k;
                if (s->in_len == GZ_BLOCK) {
                        r = submit(g);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* The last, partial block; when it is the only one, compress it here without threads. */
static int gz_close(struct st_writer *w)
{
        struct gzwriter *g = (struct gzwriter *)w;
        if (g->closed)
                return 0;
        g->closed = true;
        struct gz_slot *s = NULL;
        int r = fill_slot(g, &s);
        if (r < 0)
                return r;
        if (g->fill == 0) {
                g->own = codec_new(g->level);
                compress_slot(g->own, s, g->out_cap);
                r = write_out(g, s);
                s->in_len = 0;
                return r;
        }
        if (s->in_len > 0) {
                r = submit(g);
                if (r < 0)
                        return r;
        }
        while (r >= 0 && g->emit < g->fill)
                r = emit_one(g, true);
        stop_threads(g);
        return r;
}

static void gz_free(struct st_writer *w)
{
        struct gzwriter *g = (struct gzwriter *)w;
        stop_threads(g);
        for (size_t i = 0; i < g->nslots; i++) {
                free(g->slots[i].in);
                free(g->slots[i].out);
        }
        free(g->slots);
        free(g->threads);
        codec_free(g->own);
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->work);
        pthread_cond_destroy(&g->done);
        free(g);
}

int gzip_online_threads(void)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        return n < 1 ? 1 : n > GZ_MAX_THREADS ? GZ_MAX_THREADS : (int)n;
}

struct st_writer *gzip_writer_new(int level, int threads, struct st_writer *inner)
{
        struct gzwriter *g = xcalloc(1, sizeof(*g));
        g->w.write = gz_write;
        g->w.close = gz_close;
        g->w.free = gz_free;
        g->inner = inner;
        g->level = level >= 1 && level <= 12 ? level : 6;
        g->nthreads = threads >= 1 ? MIN(threads, GZ_MAX_THREADS) : gzip_online_threads();
        g->nslots = 2 * (size_t)g->nthreads;
        g->slots = xcalloc(g->nslots, sizeof(*g->slots));
        /* the bound for level 0 is the largest (libdeflate: stored blocks) */
        struct libdeflate_compressor *c = compressor_new(0);
        g->out_cap = libdeflate_gzip_compress_bound(c, GZ_BLOCK);
        libdeflate_free_compressor(c);
        pthread_mutex_init(&g->mu, NULL);
        pthread_cond_init(&g->work, NULL);
        pthread_cond_init(&g->done, NULL);
        return &g->w;
}
