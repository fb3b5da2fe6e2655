/* Blobs: a pull-style st_reader over a curl transfer, and uploads.
 *
 * The reader drives its own curl multi handle from read(): curl's write callback copies into a
 * fixed buffer and pauses the transfer when it is full; read() drains the buffer and resumes
 * the transfer. Memory stays at the buffer's size whatever the blob's, and no thread is needed.
 * A broken connection is resumed with "Range: bytes=N-" from the bytes already handed over, so
 * the consumer (digest, decompression, extraction) never sees the break. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "basic/util.h"
#include "registry/protocol.h"
#include "registry/registry-internal.h"

#define BLOB_BUFFER       (256 * 1024)
#define PROGRESS_EVERY_US 100000
#define CHUNK_SIZE        (16 * 1024 * 1024) /* chunked uploads */
#define UPLOAD_ATTEMPTS   3

struct blob_reader {
        struct st_reader r;
        struct registry_client *c;
        char *digest;
        uint64_t size;
        char *origin_url; /* the registry's URL of the blob */
        char *url;        /* current: the registry's or a redirect's */
        bool send_auth;
        bool refresh_auth;
        CURLM *multi;
        CURL *easy;
        struct curl_slist *headers;
        char errbuf[CURL_ERROR_SIZE];
        struct http_headers hdr;
        char *buf;
        size_t head, tail;  /* pending bytes are buf[head, tail) */
        uint64_t delivered; /* bytes accepted from the network: where a resume starts */
        uint64_t skip;      /* bytes to drop: the server ignored our Range */
        long status;        /* of the current response, once its body starts */
        bool data_mode;     /* the current response is the blob (200/206) */
        char *errbody;
        size_t errlen;
        bool running, paused, finished;
        CURLcode result;
        unsigned attempts, redirects;
        bool reauthed;
        bool oversize;  /* more bytes came than the descriptor's size */
        bool bad_range; /* a 206 for another range than asked */
        uint64_t last_progress;
        uint64_t reported; /* bytes at the last progress call */
        void (*progress)(void *userdata, uint64_t got);
        void *userdata;
};

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Is the response whose body starts now the blob? Decided once per response. */
static int classify(struct blob_reader *b)
{
        curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &b->status);
        b->data_mode = b->status == 200 || b->status == 206;
        if (b->status == 200)
                b->skip = b->delivered; /* Range ignored: drop what we already have */
        if (b->status == 206) {
                _cleanup_free_ char *want =
                        xasprintf("bytes %llu-", (unsigned long long)b->delivered);
                if (!b->hdr.content_range || !startswith(b->hdr.content_range, want))
                        return -1;
        }
        return 0;
}

static size_t keep_error_body(struct blob_reader *b, const char *data, size_t len)
{
        size_t keep = MIN(len, REGISTRY_ERROR_BODY_MAX - b->errlen);
        b->errbody = xrealloc(b->errbody, b->errlen + keep + 1);
        memcpy(b->errbody + b->errlen, data, keep);
        b->errlen += keep;
        b->errbody[b->errlen] = 0;
        return len;
}

static size_t reader_write_cb(char *data, size_t size, size_t n, void *userdata)
{
        struct blob_reader *b = userdata;
        size_t len = size * n;
        if (b->status == 0 && classify(b) < 0) {
                b->bad_range = true;
                return 0;
        }
        if (!b->data_mode)
                return keep_error_body(b, data, len);
        size_t drop = (size_t)MIN((uint64_t)len, b->skip);
        size_t take = len - drop;
        if (b->delivered + take > b->size) {
                b->oversize = true; /* more than the descriptor said: refuse */
                return 0;
        }
        if (b->tail + take > BLOB_BUFFER && b->head > 0) {
                memmove(b->buf, b->buf + b->head, b->tail - b->head);
                b->tail -= b->head;
                b->head = 0;
        }
        if (b->tail + take > BLOB_BUFFER) {
                b->paused = true;
                return CURL_WRITEFUNC_PAUSE;
        }
        b->skip -= drop;
        memcpy(b->buf + b->tail, data + drop, take);
        b->tail += take;
        b->delivered += take;
        return len;
}

static int start(struct blob_reader *b, struct st_error **err)
{
        _cleanup_free_ char *auth = NULL;
        if (b->send_auth) {
                int r = client_auth_header(b->c, NULL, NULL, b->refresh_auth, &auth, err);
                if (r < 0)
                        return r;
                b->refresh_auth = false;
        }
        http_setup(b->c, b->easy, b->url, b->errbuf);
        curl_slist_free_all(b->headers);
        b->headers = NULL;
        if (auth) {
                b->headers = curl_slist_append(b->headers, auth);
                explicit_bzero(auth, strlen(auth));
        }
        if (b->delivered > 0) {
                _cleanup_free_ char *range =
                        xasprintf("Range: bytes=%llu-", (unsigned long long)b->delivered);
                b->headers = curl_slist_append(b->headers, range);
        }
        curl_easy_setopt(b->easy, CURLOPT_HTTPHEADER, b->headers);
        curl_easy_setopt(b->easy, CURLOPT_WRITEFUNCTION, reader_write_cb);
        curl_easy_setopt(b->easy, CURLOPT_WRITEDATA, b);
        curl_easy_setopt(b->easy, CURLOPT_HEADERFUNCTION, http_header_cb);
        curl_easy_setopt(b->easy, CURLOPT_HEADERDATA, &b->hdr);
        http_headers_release(&b->hdr);
        b->status = 0;
        b->data_mode = false;
        b->errlen = 0;
        b->paused = false;
        b->running = true;
        curl_multi_add_handle(b->multi, b->easy);
        return 0;
}

static void wipe_headers(struct blob_reader *b)
{
        for (struct curl_slist *p = b->headers; p; p = p->next)
                explicit_bzero(p->data, strlen(p->data));
}

/* Start over from the registry's URL (a redirect target may have expired), resuming. */
static int retry(struct blob_reader *b, const char *retry_after, struct st_error **err)
{
        b->attempts++;
        client_trace(b->c->ctx, "* retrying %s from byte %llu", b->digest,
                     (unsigned long long)b->delivered);
        http_backoff(b->attempts, retry_after);
        free(b->url);
        b->url = xstrdup(b->origin_url);
        b->send_auth = true;
        return start(b, err);
}

static int fail(struct blob_reader *b, struct st_error **err)
{
        if (b->result != CURLE_OK)
                return http_transport_error(b->c, b->result, b->errbuf, "GET", b->url, err);
        if (b->data_mode)
                return st_error_set(err, ST_E_HTTP,
                                    "blob %s: the transfer ended after %llu of %llu"
                                    " bytes",
                                    b->digest, (unsigned long long)b->delivered,
                                    (unsigned long long)b->size);
        return registry_error_from_response(b->status, b->errbody, b->errlen, err);
}

static bool is_redirect(long status)
{
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static int redirect(struct blob_reader *b, struct st_error **err)
{
        char *next = http_resolve(b->url, b->hdr.location);
        bool downgrade = next && startswith(b->url, "https://") && startswith(next, "http://") &&
                         b->c->host->tls != REGISTRY_TLS_INSECURE;
        if (!next)
                return st_error_set(err, ST_E_HTTP, "blob %s: redirect without a usable Location",
                                    b->digest);
        if (downgrade || ++b->redirects > HTTP_REDIRECTS_MAX) {
                free(next);
                if (downgrade)
                        return st_error_set(err, ST_E_HTTP,
                                            "blob %s: refusing a redirect from https to http",
                                            b->digest);
                return st_error_set(err, ST_E_HTTP, "blob %s: more than %d redirects", b->digest,
                                    HTTP_REDIRECTS_MAX);
        }
        b->send_auth = b->send_auth && http_same_origin(b->url, next);
        free(b->url);
        b->url = next;
        return start(b, err);
}

static int reauth(struct blob_reader *b, struct st_error **err)
{
        int r = client_challenge_update(b->c, b->hdr.www_authenticate, err);
        if (r <= 0)
                return r < 0 ? r : fail(b, err);
        b->reauthed = b->refresh_auth = true;
        return start(b, err);
}

/* The transfer ended: done, or redirect, re-authenticate, resume, or fail. */
static int on_done(struct blob_reader *b, struct st_error **err)
{
        curl_multi_remove_handle(b->multi, b->easy);
        wipe_headers(b);
        b->running = false;
        if (b->oversize)
                return st_error_set(err, ST_E_DIGEST_MISMATCH,
                                    "blob %s is larger than its descriptor's %llu bytes", b->digest,
                                    (unsigned long long)b->size);
        if (b->bad_range)
                return st_error_set(err, ST_E_HTTP,
                                    "blob %s: the registry answered Range with another range",
                                    b->digest);
        bool ok = b->result == CURLE_OK;
        /* a response without a body (an empty redirect or 401) never reached the write
         * callback: take its status now */
        if (ok && b->status == 0 && classify(b) < 0)
                return st_error_set(err, ST_E_HTTP,
                                    "blob %s: the registry answered Range with another range",
                                    b->digest);
        if (ok && b->data_mode && b->delivered == b->size) {
                b->finished = true;
                return 0;
        }
        if (ok && is_redirect(b->status))
                return redirect(b, err);
        if (ok && b->status == 401 && b->send_auth && !b->reauthed)
                return reauth(b, err);
        bool transient = ok ? b->data_mode || http_status_is_transient(b->status)
                            : http_code_is_transient(b->result);
        if (transient && !atomic_load(&b->c->cancelled) && b->attempts + 1 < HTTP_BLOB_ATTEMPTS)
                return retry(b, b->hdr.retry_after, err);
        return fail(b, err);
}

/* Run the transfer until bytes are pending or it ends. */
static int pump(struct blob_reader *b, struct st_error **err)
{
        if (atomic_load(&b->c->cancelled))
                return st_error_set(err, -ECANCELED, "cancelled");
        if (b->paused) {
                b->paused = false;
                curl_easy_pause(b->easy, CURLPAUSE_CONT);
        }
        int running = 0;
        curl_multi_perform(b->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(b->multi, &left)))
                if (m->msg == CURLMSG_DONE) {
                        b->result = m->data.result;
                        return on_done(b, err);
                }
        if (b->tail == b->head && !b->paused)
                curl_multi_poll(b->multi, NULL, 0, 1000, NULL);
        return 0;
}

static ssize_t reader_read(struct st_reader *r, void *buf, size_t n)
{
        struct blob_reader *b = (struct blob_reader *)r;
        for (;;) {
                if (b->tail > b->head) {
                        size_t k = MIN(n, b->tail - b->head);
                        memcpy(buf, b->buf + b->head, k);
                        b->head += k;
                        if (b->head == b->tail)
                                b->head = b->tail = 0;
                        uint64_t now = now_usec();
                        bool due = now - b->last_progress > PROGRESS_EVERY_US ||
                                   b->delivered == b->size;
                        if (b->progress && due && b->delivered != b->reported) {
                                b->last_progress = now;
                                b->reported = b->delivered;
                                b->progress(b->userdata, b->delivered);
                        }
                        return (ssize_t)k;
                }
                if (b->finished)
                        return 0;
                if (!b->running)
                        return st_error_set(&r->err, ST_E_HTTP, "blob %s: transfer stopped",
                                            b->digest);
                int q = pump(b, &r->err);
                if (q < 0)
                        return q;
        }
}

static void reader_free(struct st_reader *r)
{
        struct blob_reader *b = (struct blob_reader *)r;
        if (b->running)
                curl_multi_remove_handle(b->multi, b->easy);
        wipe_headers(b);
        curl_slist_free_all(b->headers);
        curl_easy_cleanup(b->easy);
        curl_multi_cleanup(b->multi);
        http_headers_release(&b->hdr);
        free(b->errbody);
        free(b->buf);
        free(b->digest);
        free(b->origin_url);
        free(b->url);
        free(b);
}

int blob_reader_new(struct registry_client *c, const char *digest, uint64_t size, uint64_t offset,
                    void (*progress)(void *userdata, uint64_t got), void *userdata,
                    struct st_reader **ret, struct st_error **err)
{
        assert(offset <= size);
        struct blob_reader *b = xcalloc(1, sizeof(*b));
        b->r.read = reader_read;
        b->r.free = reader_free;
        b->c = c;
        b->digest = xstrdup(digest);
        b->size = size;
        b->delivered = b->reported = offset; /* start() asks for the rest with Range */
        b->finished = offset == size;
        _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/%s", c->repository, digest);
        b->origin_url = http_url(c, path);
        b->url = xstrdup(b->origin_url);
        b->send_auth = true;
        b->multi = curl_multi_init();
        b->easy = http_easy_new();
        b->buf = xmalloc(BLOB_BUFFER);
        b->progress = progress;
        b->userdata = userdata;
        if (b->finished) {
                *ret = &b->r;
                return 0;
        }
        int r = start(b, err);
        if (r < 0) {
                st_reader_free(&b->r);
                return r;
        }
        *ret = &b->r;
        return 0;
}

/* ----- small blobs, existence, uploads ----- */

int blob_fetch(struct registry_client *c, const char *digest, int64_t size, size_t cap, char **ret,
               size_t *ret_len, struct st_error **err)
{
        if (size < 0 || (uint64_t)size > cap)
                return st_error_set(err, ST_E_TOO_BIG, "blob %s is larger than %zu bytes", digest,
                                    cap);
        _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/%s", c->repository, digest);
        struct http_req req = {
                .method = "GET", .url = path, .follow = true, .cap = (size_t)size, .body_fd = -1
        };
        struct http_resp resp = { 0 };
        int r = http_do(c, c->easy, &req, &resp, err);
        if (r >= 0 && resp.status != 200)
                r = http_error(&resp, err);
        char got[DIGEST_STR_LEN + 1];
        if (r >= 0) {
                digest_buf(resp.body ?: "", resp.len, got);
                if (!streq(got, digest) || resp.len != (size_t)size)
                        r = st_error_set(err, ST_E_DIGEST_MISMATCH,
                                         "blob %s from the registry hashes to %s (%zu bytes)",
                                         digest, got, resp.len);
        }
        if (r >= 0) {
                *ret = resp.body ?: xstrdup("");
                *ret_len = resp.len;
                resp.body = NULL;
        }
        http_resp_release(&resp);
        return r < 0 ? st_error_wrap(err, "fetch blob %s", digest) : 0;
}

int blob_exists(struct registry_client *c, CURL *h, const char *digest, struct st_error **err)
{
        _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/%s", c->repository, digest);
        struct http_req req = { .method = "HEAD", .url = path, .follow = true, .body_fd = -1 };
        struct http_resp resp = { 0 };
        int r = http_do(c, h, &req, &resp, err);
        if (r >= 0)
                r = resp.status == 200 ? 1 : resp.status == 404 ? 0 : http_error(&resp, err);
        http_resp_release(&resp);
        return r;
}

/* POST an upload (or a mount); *ret_location gets where to send the data, NULL if mounted. */
static int upload_start(struct registry_client *c, CURL *h, const char *query, const char *scope,
                        char **ret_location, struct st_error **err)
{
        _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/uploads/%s", c->repository, query);
        struct http_req req = { .method = "POST", .url = path, .scope = scope, .body_fd = -1 };
        struct http_resp resp = { 0 };
        int r = http_do(c, h, &req, &resp, err);
        *ret_location = NULL;
        if (r >= 0 && resp.status == 202) {
                *ret_location = http_resolve(resp.url, resp.hdr.location);
                if (!*ret_location)
                        r = st_error_set(err, ST_E_HTTP, "upload started without a Location");
        } else if (r >= 0 && resp.status != 201)
                r = http_error(&resp, err);
        http_resp_release(&resp);
        return r;
}

int blob_mount(struct registry_client *c, CURL *h, const char *digest, const char *from,
               struct st_error **err)
{
        char *e = curl_easy_escape(h, from, 0);
        _cleanup_free_ char *query = xasprintf("?mount=%s&from=%s", digest, e);
        _cleanup_free_ char *scope = xasprintf("%s repository:%s:pull", c->scope, from);
        curl_free(e);
        _cleanup_free_ char *location = NULL;
        _cleanup_error_ struct st_error *merr = NULL;
        int r = upload_start(c, h, query, scope, &location, &merr);
        if (r < 0 && st_error_code(merr) != ST_E_UNAUTHORIZED && st_error_code(merr) != ST_E_DENIED)
                return st_error_take(&merr, r, err);
        if (r < 0 || location) { /* not mounted: the upload session is left to expire */
                if (location)
                        client_trace(c->ctx, "* mount of %s from %s refused", digest, from);
                return 0;
        }
        return 1;
}

static char *with_digest(CURL *h, const char *location, const char *digest)
{
        char *e = curl_easy_escape(h, digest, 0);
        char *u = xasprintf("%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?', e);
        curl_free(e);
        return u;
}

/* PUT the end of an upload (LEN bytes of FD from OFF, or none) with its digest. An HTTP
 * refusal sets *err and *ret_status. */
static int put_final(struct registry_client *c, CURL *h, const char *location, const char *digest,
                     int fd, uint64_t off, uint64_t len, const struct http_req *tmpl,
                     long *ret_status, struct st_error **err)
{
        _cleanup_free_ char *url = with_digest(h, location, digest);
        struct http_req req = *tmpl;
        req.method = "PUT";
        req.url = url;
        req.content_type = "application/octet-stream";
        req.body_fd = len ? fd : -1;
        req.body_off = off;
        req.body_len = (size_t)len;
        req.no_retry = true;
        struct http_resp resp = { 0 };
        int r = http_do(c, h, &req, &resp, err);
        *ret_status = resp.status;
        if (r >= 0 && resp.status != 201 && resp.status != 204)
                r = http_error(&resp, err);
        http_resp_release(&resp);
        return r;
}

static int patch_chunks(struct registry_client *c, CURL *h, char **location, int fd, uint64_t size,
                        const struct http_req *tmpl, struct st_error **err)
{
        for (uint64_t off = 0; off < size;) {
                uint64_t n = MIN(size - off, (uint64_t)CHUNK_SIZE);
                _cleanup_free_ char *range = xasprintf("%llu-%llu", (unsigned long long)off,
                                                       (unsigned long long)(off + n - 1));
                struct http_req req = *tmpl;
                req.method = "PATCH";
                req.url = *location;
                req.content_type = "application/octet-stream";
                req.content_range = range;
                req.body_fd = fd;
                req.body_off = off;
                req.body_len = (size_t)n;
                req.no_retry = true;
                struct http_resp resp = { 0 };
                int r = http_do(c, h, &req, &resp, err);
                char *next = r >= 0 && resp.status == 202
                                     ? http_resolve(resp.url, resp.hdr.location)
                                     : NULL;
                if (r >= 0 && !next)
                        r = http_error(&resp, err);
                http_resp_release(&resp);
                if (r < 0)
                        return r;
                free(*location);
                *location = next;
                off += n;
        }
        return 0;
}

static int upload_chunked(struct registry_client *c, CURL *h, const char *digest, int fd,
                          uint64_t size, const struct http_req *tmpl, struct st_error **err)
{
        _cleanup_free_ char *location = NULL;
        long status = 0;
        int r = upload_start(c, h, "", NULL, &location, err);
        if (r >= 0 && !location)
                return 0;
        if (r >= 0)
                r = patch_chunks(c, h, &location, fd, size, tmpl, err);
        if (r >= 0)
                r = put_final(c, h, location, digest, fd, 0, 0, tmpl, &status, err);
        return r;
}

/* A 4xx other than auth on a monolithic PUT: the registry wants chunks. */
static bool wants_chunks(long status)
{
        return status >= 400 && status < 500 && status != 401 && status != 403 && status != 404 &&
               status != 429;
}

int blob_upload(struct registry_client *c, CURL *h, const char *digest, int fd, uint64_t size,
                void (*progress)(void *userdata, uint64_t sent), void *userdata,
                struct st_error **err)
{
        struct http_req tmpl = { .progress = progress, .userdata = userdata, .body_fd = -1 };
        for (unsigned attempt = 1;; attempt++) {
                _cleanup_free_ char *location = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                long status = 0;
                int r = upload_start(c, h, "", NULL, &location, &e);
                if (r >= 0 && !location)
                        return 0; /* the registry took it at once */
                if (r >= 0)
                        r = put_final(c, h, location, digest, fd, 0, size, &tmpl, &status, &e);
                if (r >= 0)
                        return 0;
                if (wants_chunks(status)) {
                        client_trace(c->ctx,
                                     "* monolithic upload of %s refused (HTTP %ld),"
                                     " uploading in chunks",
                                     digest, status);
                        return upload_chunked(c, h, digest, fd, size, &tmpl, err);
                }
                bool again = status == 0 || http_status_is_transient(status);
                if (!again || attempt >= UPLOAD_ATTEMPTS || atomic_load(&c->cancelled))
                        return st_error_take(&e, r, err);
                http_backoff(attempt, NULL);
        }
}
