/* codec-bench: where layer time goes, measured on in-memory data (issue 8). Not a test.
 *   codec-bench compress w2|w3 MB       sha256 -> gzip -> sha256 of MB MiB generated in memory
 *   codec-bench decompress w2|w3 MB     gunzip -> sha256 of the same data, gzipped once
 *   codec-bench layer-dir ROOT TREE     store_layer_from_dir of a copy of TREE into store ROOT
 *   codec-bench layer-create ROOT BLOB  store_layer_create (the pull path) of BLOB, fresh store
 * Each runs ROUNDS (default 5) times and prints the median wall time, MB/s of uncompressed
 * bytes and the process CPU time (all threads), so a busy machine skews less. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/util.h"
#include "compress/compress.h"
#if __has_include("compress/compress-internal.h")
#        include "compress/compress-internal.h"
#endif
#include "digest/digest.h"
#include "store/store.h"

struct sample {
        double wall, cpu;
};

static double now(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_now(void)
{
        struct rusage u;
        getrusage(RUSAGE_SELF, &u);
        return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
               ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) / 1e6;
}

static int cmp_sample(const void *a, const void *b)
{
        double x = ((const struct sample *)a)->wall, y = ((const struct sample *)b)->wall;
        return x < y ? -1 : x > y;
}

static void report(const char *what, struct sample *s, int n, double bytes, const char *extra)
{
        qsort(s, (size_t)n, sizeof(*s), cmp_sample);
        struct sample m = s[n / 2];
        printf("%-14s median of %d: %.3f s wall, %.0f MB/s; cpu %.3f s (%.0f MB/s per cpu-s)%s\n",
               what, n, m.wall, bytes / 1e6 / m.wall, m.cpu, bytes / 1e6 / m.cpu, extra);
}

/* MB MiB: w3 = random then zeros; w2 = alternating 64 KiB runs of random and word text. */
static char *make_data(const char *kind, size_t len)
{
        char *p = xmalloc(len);
        uint64_t x = 88172645463325252ULL;
        static const char *const words[] = { "static ", "int ",    "const ",  "char ",
                                             "void ",   "return ", "struct ", "unsigned ",
                                             "size_t ", "buffer ", "layer ",  "digest\n" };
        for (size_t off = 0; off < len;) {
                bool random = streq(kind, "w3") ? off < len / 2 : (off >> 16) % 2 == 0;
                bool zero = streq(kind, "w3") && !random;
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                if (zero) {
                        p[off++] = 0;
                } else if (random) {
                        size_t k = MIN((size_t)8, len - off);
                        memcpy(p + off, &x, k);
                        off += k;
                } else {
                        const char *w = words[x % ELEMENTSOF(words)];
                        size_t k = MIN(strlen(w), len - off);
                        memcpy(p + off, w, k);
                        off += k;
                }
        }
        return p;
}

static int rounds(void)
{
        const char *r = getenv("ROUNDS");
        long n = r ? strtol(r, NULL, 10) : 0;
        return n > 0 && n < 64 ? (int)n : 5;
}

static int bench_compress(const char *kind, size_t len)
{
        _cleanup_free_ char *data = make_data(kind, len);
        struct sample s[64];
        int n = MIN(rounds(), 64);
        uint64_t out = 0;
        for (int i = 0; i < n; i++) {
                double t0 = now(), c0 = cpu_now();
                struct st_writer *sink = st_null_writer_new();
                struct st_writer *blob = digest_writer_new(sink);
                struct st_writer *gz = compress_writer_new(COMPRESS_GZIP, 0, blob);
                struct st_writer *tar = digest_writer_new(gz);
                for (size_t off = 0; off < len; off += 10240)
                        if (st_writer_write(tar, data + off, MIN((size_t)10240, len - off)) < 0)
                                return 1;
                if (st_writer_close(gz) < 0)
                        return 1;
                out = sink->total;
                st_writer_free(tar);
                st_writer_free(gz);
                st_writer_free(blob);
                st_writer_free(sink);
                s[i] = (struct sample){ now() - t0, cpu_now() - c0 };
        }
        char extra[64];
        snprintf(extra, sizeof(extra), "; ratio %.3f", (double)out / (double)len);
        report("compress", s, n, (double)len, extra);
        return 0;
}

static int bench_decompress(const char *kind, size_t len)
{
        _cleanup_free_ char *data = make_data(kind, len);
        char path[] = "/dev/shm/codec-bench-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0)
                return 1;
        (void)unlink(path);
        struct st_writer *file = st_fd_writer_new(fd);
        struct st_writer *gz = compress_writer_new(COMPRESS_GZIP, 0, file);
        if (st_writer_write(gz, data, len) < 0 || st_writer_close(gz) < 0)
                return 1;
        st_writer_free(gz);
        st_writer_free(file);
        struct sample s[64];
        int n = MIN(rounds(), 64);
        _cleanup_free_ char *buf = xmalloc(128 * 1024);
        for (int i = 0; i < n; i++) {
                double t0 = now(), c0 = cpu_now();
                (void)lseek(fd, 0, SEEK_SET);
                struct st_reader *in = st_fd_reader_new(fd);
                struct st_reader *d = NULL;
                struct st_error *e = NULL;
                if (decompress_reader_new(in, 0, &d, &e) < 0)
                        return 1;
                struct st_reader *h = digest_reader_new(d);
                ssize_t k;
                while ((k = st_reader_read(h, buf, 128 * 1024)) > 0)
                        ;
                if (k < 0 || h->total != len)
                        return 1;
                st_reader_free(h);
                st_reader_free(d);
                st_reader_free(in);
                s[i] = (struct sample){ now() - t0, cpu_now() - c0 };
        }
        close(fd);
        report("decompress", s, n, (double)len, "");
        return 0;
}

/* cp -a FROM TO; 0 or -1. */
static int copy_tree(const char *from, const char *to)
{
        pid_t pid = fork();
        if (pid == 0) {
                execlp("cp", "cp", "-a", from, to, (char *)NULL);
                _exit(127);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int bench_layer_dir(const char *root, const char *tree)
{
        struct sample s[64];
        int n = MIN(rounds(), 64);
        uint64_t size = 0;
        char digest[DIGEST_STR_LEN + 1] = "";
        for (int i = 0; i < n; i++) {
                struct store *st = NULL;
                struct st_error *e = NULL;
                if (store_open(root, &st, &e) < 0)
                        return fprintf(stderr, "%s\n", st_error_msg(e)), 1;
                _cleanup_free_ char *copy = xasprintf("%s/bench-tree-%d", root, i);
                if (copy_tree(tree, copy) < 0)
                        return 1;
                struct store_layer_result res;
                double t0 = now(), c0 = cpu_now();
                if (store_layer_from_dir(st, copy, NULL, COMPRESS_GZIP, 0, &res, &e) < 0)
                        return fprintf(stderr, "%s\n", st_error_msg(e)), 1;
                s[i] = (struct sample){ now() - t0, cpu_now() - c0 };
                if (digest[0] && !streq(digest, res.digest))
                        return fprintf(stderr, "digest changed: %s %s\n", digest, res.digest), 1;
                memcpy(digest, res.digest, sizeof(digest));
                size = res.size;
                store_close(st);
        }
        char extra[128];
        snprintf(extra, sizeof(extra), "\n  blob %s", digest);
        report("layer-dir", s, n, (double)size, extra);
        return 0;
}

static int bench_layer_create(const char *root, const char *blob)
{
        struct sample s[64];
        int n = MIN(rounds(), 64);
        uint64_t size = 0;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *sroot = xasprintf("%s/store-%d", root, i);
                struct store *st = NULL;
                struct st_error *e = NULL;
                if (store_open(sroot, &st, &e) < 0)
                        return fprintf(stderr, "%s\n", st_error_msg(e)), 1;
                FILE *f = fopen(blob, "re");
                if (!f)
                        return 1;
                struct st_reader *in = st_fd_reader_new(fileno(f));
                struct store_layer_source src = { .in = in, .keep_blob = true };
                struct store_layer_result res;
                double t0 = now(), c0 = cpu_now();
                if (store_layer_create(st, &src, &res, &e) < 0)
                        return fprintf(stderr, "%s\n", st_error_msg(e)), 1;
                s[i] = (struct sample){ now() - t0, cpu_now() - c0 };
                size = res.size;
                st_reader_free(in);
                fclose(f);
                store_close(st);
        }
        report("layer-create", s, n, (double)size, "");
        return 0;
}

int main(int argc, char **argv)
{
#if __has_include("compress/compress-internal.h")
        if (getenv("CODEC_BENCH_ZLIB")) /* inflate with zlib even if ISA-L is built in */
                (void)decompress_gzip_set_isal(false);
#endif
        if (argc == 4 && streq(argv[1], "compress"))
                return bench_compress(argv[2], (size_t)strtoul(argv[3], NULL, 10) << 20);
        if (argc == 4 && streq(argv[1], "decompress"))
                return bench_decompress(argv[2], (size_t)strtoul(argv[3], NULL, 10) << 20);
        if (argc == 4 && streq(argv[1], "layer-dir"))
                return bench_layer_dir(argv[2], argv[3]);
        if (argc == 4 && streq(argv[1], "layer-create"))
                return bench_layer_create(argv[2], argv[3]);
        fprintf(stderr, "usage: codec-bench compress|decompress w2|w3 MB\n"
                        "       codec-bench layer-dir ROOT TREE | layer-create ROOT BLOB\n");
        return 2;
}
