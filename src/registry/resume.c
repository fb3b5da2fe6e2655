/* Resuming a blob download across processes.
 *
 * The reader first hands out the bytes an earlier pull left in the store's partial download
 * file (pread, so memory stays bounded), then opens a blob_reader at that offset ("Range:
 * bytes=N-"), appending each chunk it passes on to the file. The consumer (digest,
 * decompression, extraction) sees one stream and verifies it whole, so a wrong partial costs a
 * digest mismatch, never a wrong layer. */
#include <errno.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/util.h"
#include "registry/registry-internal.h"

#define REPLAY_PROGRESS_EVERY (4 * 1024 * 1024)

struct resume_reader {
        struct st_reader r;
        struct registry_client *c;
        struct store_partial *partial; /* borrowed; NULL once appending to it failed */
        char *digest;
        uint64_t size;
        uint64_t have;     /* bytes in the partial file when we started */
        uint64_t replayed; /* of those, handed out */
        struct st_reader *net;
        bool failed;
        void (*progress)(void *userdata, uint64_t got);
        void *userdata;
};

static ssize_t replay(struct resume_reader *rr, void *buf, size_t n)
{
        size_t want = (size_t)MIN((uint64_t)n, rr->have - rr->replayed);
        ssize_t k = pread(store_partial_fd(rr->partial), buf, want, (off_t)rr->replayed);
        if (k <= 0) /* not a network failure: the partial file goes */
                return st_error_set_errno(&rr->r.err, k < 0 ? -errno : -EIO,
                                          "blob %s: read partial download", rr->digest);
        uint64_t before = rr->replayed;
        rr->replayed += (uint64_t)k;
        if (rr->progress &&
            (rr->replayed / REPLAY_PROGRESS_EVERY != before / REPLAY_PROGRESS_EVERY ||
             rr->replayed == rr->have))
                rr->progress(rr->userdata, rr->replayed);
        return k;
}

static ssize_t resume_read(struct st_reader *r, void *buf, size_t n)
{
        struct resume_reader *rr = (struct resume_reader *)r;
        if (rr->replayed < rr->have)
                return replay(rr, buf, n);
        if (!rr->net) {
                int q = blob_reader_new(rr->c, rr->digest, rr->size, rr->have, rr->progress,
                                        rr->userdata, &rr->net, &r->err);
                if (q < 0) {
                        rr->failed = true;
                        return q;
                }
        }
        ssize_t k = st_reader_read(rr->net, buf, n);
        if (k < 0) {
                rr->failed = true;
                r->err = TAKE_PTR(rr->net->err);
                return k;
        }
        if (k > 0 && rr->partial) {
                _cleanup_error_ struct st_error *e = NULL;
                if (store_partial_append(rr->partial, buf, (size_t)k, &e) < 0) {
                        log_debug("%s, not keeping the rest", st_error_msg(e));
                        rr->partial = NULL; /* what is there is still a prefix */
                }
        }
        return k;
}

static void resume_free(struct st_reader *r)
{
        struct resume_reader *rr = (struct resume_reader *)r;
        st_reader_free(rr->net);
        free(rr->digest);
        free(rr);
}

int blob_resume_reader_new(struct registry_client *c, struct store_partial *partial,
                           const char *digest, uint64_t size,
                           void (*progress)(void *userdata, uint64_t got), void *userdata,
                           struct st_reader **ret, struct st_error **err)
{
        uint64_t have = partial ? store_partial_size(partial) : 0;
        if (have > size) {
                /* longer than the blob: not this blob's prefix */
                int q = store_partial_truncate(partial, err);
                if (q < 0)
                        return q;
                have = 0;
        }
        if (have > 0)
                client_trace(c->ctx, "* resuming %s from a partial download of %llu bytes", digest,
                             (unsigned long long)have);
        struct resume_reader *rr = xcalloc(1, sizeof(*rr));
        rr->r.read = resume_read;
        rr->r.free = resume_free;
        rr->c = c;
        rr->partial = partial;
        rr->digest = xstrdup(digest);
        rr->size = size;
        rr->have = have;
        rr->progress = progress;
        rr->userdata = userdata;
        *ret = &rr->r;
        return 0;
}

bool blob_resume_reader_failed(const struct st_reader *r)
{
        return ((const struct resume_reader *)r)->failed;
}

uint64_t blob_resume_reader_replayed(const struct st_reader *r)
{
        return ((const struct resume_reader *)r)->have;
}
