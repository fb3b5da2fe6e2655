/* store_load on a scratch store: the input describes the files of an archive ("=== NAME" on a
 * line of its own, then the file's bytes up to the next such line), which this target writes as
 * a tar and loads. Nothing may crash or leak, a failed load must set an error and return
 * nothing, and whatever the outcome the store must check clean (no half-recorded image). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/stream.h"
#include "basic/util.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LOAD_FUZZ_MAX (1 << 20)

struct tar {
        char *buf;
        size_t len, cap;
};

static void tar_put(struct tar *t, const void *p, size_t n)
{
        if (t->len + n > t->cap) {
                t->cap = (t->len + n) * 2;
                t->buf = xrealloc(t->buf, t->cap);
        }
        memcpy(t->buf + t->len, p, n);
        t->len += n;
}

/* One ustar entry: a regular file, or a directory when DATA is NULL. */
static void tar_entry(struct tar *t, const char *name, size_t name_len, const char *data, size_t n)
{
        char h[512] = { 0 };
        memcpy(h, name, MIN(name_len, (size_t)99));
        snprintf(h + 100, 8, "%07o", data ? 0644 : 0755);
        snprintf(h + 108, 8, "%07o", 0);
        snprintf(h + 116, 8, "%07o", 0);
        snprintf(h + 124, 12, "%011llo", (unsigned long long)n);
        snprintf(h + 136, 12, "%011o", 0);
        h[156] = data ? '0' : '5';
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (size_t i = 0; i < sizeof(h); i++)
                sum += (unsigned char)h[i];
        snprintf(h + 148, 8, "%06o", sum);
        tar_put(t, h, sizeof(h));
        if (!data)
                return;
        tar_put(t, data, n);
        static const char zero[512];
        if (n % 512)
                tar_put(t, zero, 512 - n % 512);
}

/* The tar of the files INPUT describes, with the OCI layout's blob dirs. */
static void make_tar(const char *in, size_t size, struct tar *t)
{
        tar_entry(t, "blobs", 5, NULL, 0);
        tar_entry(t, "blobs/sha256", 12, NULL, 0);
        const char *p = in, *end = in + size;
        while (p < end) {
                if (end - p < 4 || memcmp(p, "=== ", 4) != 0)
                        break;
                const char *name = p + 4;
                const char *nl = memchr(name, '\n', (size_t)(end - name));
                if (!nl)
                        break;
                const char *body = nl + 1;
                const char *stop = memmem(body, (size_t)(end - body), "\n=== ", 5) ?: end;
                tar_entry(t, name, (size_t)(nl - name), body, (size_t)(stop - body));
                p = stop < end ? stop + 1 : end;
        }
        static const char zero[1024];
        tar_put(t, zero, sizeof(zero));
}

static void check_clean(struct store *s)
{
        struct store_check_report rep = { 0 };
        _cleanup_error_ struct st_error *err = NULL;
        if (store_check(s, false, &rep, &err) < 0 || rep.problems)
                abort();
        store_check_report_release(&rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > LOAD_FUZZ_MAX)
                return 0;
        /* a tmpfs if there is one: the store fsyncs, and on a disk that is most of the time */
        char dir[] = "/dev/shm/fuzz-load-XXXXXX", fallback[] = "/tmp/fuzz-load-XXXXXX";
        const char *d = mkdtemp(dir) ?: mkdtemp(fallback);
        if (!d)
                abort();
        struct tar t = { 0 };
        make_tar((const char *)data, size, &t);
        struct store *s = NULL;
        _cleanup_error_ struct st_error *err = NULL;
        if (store_open(d, &s, &err) < 0)
                abort();
        struct st_reader *in = st_mem_reader_new(t.buf, t.len);
        struct store_loaded *l = NULL;
        size_t n = 0;
        int r = store_load(s, in, &l, &n, &err);
        st_reader_free(in);
        if (r < 0 && (!err || l))
                abort();
        if (r >= 0 && (n == 0 || err))
                abort();
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (!startswith(l[i].id, "sha256:"))
                        abort();
        store_loaded_free(l, n);
        check_clean(s);
        store_close(s);
        free(t.buf);
        if (rm_rf_at(AT_FDCWD, d) < 0)
                abort();
        return 0;
}
