/* Parallel, deterministic gzip: the uncompressed stream is cut into fixed GZ_BLOCK-sized blocks,
 * each compressed on its own (libdeflate; ISA-L's igzip at level 1) on a worker pool into one or
 * more gzip members, and the members are written in order. The block size never depends on the
 * thread count or on timing, so the bytes are the same for any number of workers. At most 2 blocks
 * per worker are in flight: the writer waits for the oldest one before it reuses its slot
 * (backpressure). Pieces of GZ_SUB bytes that look incompressible (random bytes, compressed files)
 * are stored without trying, as members of their own: deflate at level 6 spends longer on them than
 * on text, to gain nothing. */
#include <libdeflate.h>
#include <pthread.h>
#if HAVE_ISAL
#        include <isa-l/igzip_lib.h>
#endif
#include <string.h>
#include <unistd.h>

#include "basic/util.h"
#include "compress/compress-internal.h"

#define GZ_MAX_THREADS 64

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

/* One thread's compressors (at the level asked, and level 0: stored), ISA-L's hash tables at
 * level 1 (NULL: libdeflate's level 1) and the hash table of the repeat check. */
struct codec {
        struct libdeflate_compressor *main, *store;
        unsigned char *isal;
        uint32_t *table;
};

#define TABLE_BITS 14
#define WINDOW     (32 * 1024) /* deflate's */

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
        c->store = compressor_new(0);
#if HAVE_ISAL
        c->isal = level == 1 ? xmalloc(ISAL_DEF_LVL1_DEFAULT) : NULL;
#else
        c->isal = NULL;
#endif
        c->table = xmalloc(sizeof(uint32_t) << TABLE_BITS);
        return c;
}

static void codec_free(struct codec *c)
{
        if (!c)
                return;
        libdeflate_free_compressor(c->main);
        libdeflate_free_compressor(c->store);
        free(c->isal);
        free(c->table);
        free(c);
}

/* Whether the byte histogram of the N bytes at P is near uniform: chi-square against the
 * uniform distribution at most ~2x its degrees of freedom, i.e. order-0 entropy within ~0.02
 * bits of 8, so Huffman coding gains < 0.3%. Random bytes pass; text, code, zeros and tar
 * headers do not. */
static bool uniform(const unsigned char *p, size_t n)
{
        uint32_t h[4][256] = { 0 };
        for (size_t i = 0; i + 4 <= n; i += 4) {
                h[0][p[i]]++;
                h[1][p[i + 1]]++;
                h[2][p[i + 2]]++;
                h[3][p[i + 3]]++;
        }
        double e = (double)n / 256, chi2 = 0;
        for (int b = 0; b < 256; b++) {
                double d = (double)(h[0][b] + h[1][b] + h[2][b] + h[3][b]) - e;
                chi2 += d * d / e;
        }
        return chi2 <= 512;
}

static uint64_t load64(const unsigned char *p)
{
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return v;
}

static uint32_t hash8(const unsigned char *p)
{
        return (uint32_t)((load64(p) * 0x9E3779B97F4A7C15ULL) >> (64 - TABLE_BITS));
}

/* How many sampled positions of the piece at P + OFF start an 8-byte string seen within
 * deflate's window before it. The table gets every 4th position (of this piece and of the two
 * before it, which the caller ran through with PROBE false); with PROBE, every position of the
 * first 1 KiB of each 4 KiB is looked up, so a repeat of 11 or more bytes that covers such a
 * slice is seen whatever its alignment. */
static size_t scan_piece(struct codec *c, const unsigned char *p, size_t n, size_t off, bool probe)
{
        size_t hits = 0, end = MIN(off + GZ_SUB, n - 7);
        for (size_t q = off; q < end;) {
                bool look = probe && (q - off) % 4096 < 1024;
                uint32_t h = hash8(p + q), prev = c->table[h];
                if (look && prev != UINT32_MAX && q - prev <= WINDOW &&
                    load64(p + prev) == load64(p + q))
                        hits++;
                if (q % 4 == 0)
                        c->table[h] = (uint32_t)q;
                q += look ? 1 : 4;
        }
        return hits;
}

/* Which whole GZ_SUB pieces of the N bytes at P to store rather than compress (STORE[i]): those
 * with a near-uniform histogram whose 8-byte strings repeat within deflate's window at fewer
 * than 1 in 64 of the positions sampled. Depends on the bytes only, so the output stays
 * deterministic. */
static void classify(struct codec *c, const unsigned char *p, size_t n, bool *store)
{
        size_t pieces = n / GZ_SUB;
        bool any = false;
        for (size_t i = 0; i < pieces; i++)
                any |= store[i] = uniform(p + i * GZ_SUB, GZ_SUB);
        if (!any)
                return;
        memset(c->table, 0xff, sizeof(uint32_t) << TABLE_BITS);
        for (size_t i = 0; i < pieces; i++) {
                bool before_one =
                        (i + 1 < pieces && store[i + 1]) || (i + 2 < pieces && store[i + 2]);
                if (!store[i] && !before_one)
                        continue;
                size_t hits = scan_piece(c, p, n, i * GZ_SUB, store[i]);
                if (hits >= GZ_SUB / 4 / 64)
                        store[i] = false;
        }
}

/* One gzip member of the N bytes at P into OUT (CAP bytes), stored or at the codec's level;
 * returns its size. Level 1 is ISA-L's igzip where strata has it: ~4x libdeflate's level 1
 * (~6x its level 6), for blobs 3-6% larger than the former's. */
static size_t member(struct codec *c, bool stored, const unsigned char *p, size_t n,
                     unsigned char *out, size_t cap)
{
#if HAVE_ISAL
        if (!stored && c->isal) {
                struct isal_zstream z;
                isal_deflate_stateless_init(&z);
                z.level = 1;
                z.level_buf = c->isal;
                z.level_buf_size = ISAL_DEF_LVL1_DEFAULT; /* the hash size shapes the bytes */
                z.gzip_flag = IGZIP_GZIP;
                z.end_of_stream = 1;
                z.flush = NO_FLUSH;
                z.next_in = (uint8_t *)p;
                z.avail_in = (uint32_t)n;
                z.next_out = out;
                z.avail_out = (uint32_t)MIN(cap, UINT32_MAX);
                if (isal_deflate_stateless(&z) == COMP_OK)
                        return z.total_out;
                /* out of room (it does not fall back to stored blocks itself): libdeflate's
                 * level 1 always fits, and depends on the bytes only, like the rest */
        }
#endif
        size_t k = libdeflate_gzip_compress(stored ? c->store : c->main, p, n, out, cap);
        if (k == 0) /* out_cap covers libdeflate's bound for every member: cannot happen */
                abort();
        return k;
}

/* Compress the slot's block: runs of GZ_SUB-sized pieces that look incompressible become
 * stored members, the runs between them members at the level asked. */
static void compress_slot(struct codec *c, struct gz_slot *s, size_t cap)
{
        bool store[GZ_BLOCK / GZ_SUB] = { false };
        size_t n = s->in_len, run = 0, out = 0;
        bool run_stored = false;
        classify(c, s->in, n, store);
        for (size_t off = 0; off < n; off += GZ_SUB) {
                /* a tail shorter than GZ_SUB is always compressed */
                bool stored = store[off / GZ_SUB];
                if (off > run && stored != run_stored) {
                        out += member(c, run_stored, s->in + run, off - run, s->out + out,
                                      cap - out);
                        run = off;
                }
                run_stored = stored;
        }
        /* the last run, or the one empty member of an empty stream */
        out += member(c, run_stored, s->in + run, n - run, s->out + out, cap - out);
        s->out_len = out;
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
        pthread_mutex_lock(&g->mu); /* a worker may be looking at this slot's state */
        s->in_len = 0;
        s->state = SLOT_FREE;
        pthread_mutex_unlock(&g->mu);
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
        /* room for a member per GZ_SUB piece: libdeflate's bound is the same at every level
         * and grows at least as fast as its input */
        struct libdeflate_compressor *c = compressor_new(0);
        g->out_cap = (GZ_BLOCK / GZ_SUB) * libdeflate_gzip_compress_bound(c, GZ_SUB);
        libdeflate_free_compressor(c);
        pthread_mutex_init(&g->mu, NULL);
        pthread_cond_init(&g->work, NULL);
        pthread_cond_init(&g->done, NULL);
        return &g->w;
}
