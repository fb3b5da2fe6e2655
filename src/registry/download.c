/* Plain HTTP(S) downloads for ADD of a URL: one GET per hop with the registry code's TLS setup
 * (system CAs plus certs.d, always verified), redirects followed by hand so that credentials
 * written in the URL never reach another origin, the body streamed to a file through sha256. */
#include <errno.h>
#include <unistd.h>

#include "basic/util.h"
#include "registry/registry-internal.h"

struct sink {
        CURL *h;
        int fd;
        struct digest_ctx *d;
        uint64_t size;
        int write_errno;
};

static bool status_ok(long status)
{
        return status >= 200 && status < 300;
}

static bool status_redirect(long status)
{
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The body of a 2xx response goes to the file and the hash; other bodies are dropped. */
static size_t sink_write(char *data, size_t size, size_t n, void *userdata)
{
        struct sink *s = userdata;
        size_t len = size * n;
        long status = 0;
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
        if (!status_ok(status))
                return len;
        for (size_t done = 0; done < len;) {
                ssize_t k = write(s->fd, data + done, len - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        s->write_errno = k < 0 ? errno : EIO;
                        return 0;
                }
                done += (size_t)k;
        }
        digest_ctx_update(s->d, data, len);
        s->size += len;
        return len;
}

char *registry_url_for_message(const char *url)
{
        CURLU *u = curl_url();
        char *r = NULL, *p = NULL;
        if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_URL, &p, 0) == CURLUE_OK)
                r = xstrdup(p);
        curl_free(p);
        curl_url_cleanup(u);
        return r ?: xstrndup(url, strcspn(url, "?#@"));
}

/* "host[:port]" of URL (no user info), for the TLS material; caller frees. NULL if unusable. */
static char *url_domain(const char *url)
{
        CURLU *u = curl_url();
        char *host = NULL, *port = NULL, *r = NULL;
        if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
                if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
                        r = xasprintf("%s:%s", host, port);
                else
                        r = xstrdup(host);
        }
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
        return r;
}

/* URL without user info; caller frees. */
static char *strip_userinfo(const char *url)
{
        CURLU *u = curl_url();
        char *p = NULL, *r = NULL;
        if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_URL, &p, 0) == CURLUE_OK)
                r = xstrdup(p);
        curl_free(p);
        curl_url_cleanup(u);
        return r;
}

struct hop {
        long status;
        CURLcode code;
        char errbuf[CURL_ERROR_SIZE];
        struct http_headers hdr;
        int64_t filetime;
};

/* One GET of URL into S (the file emptied and the hash restarted first). */
static int get_once(struct registry_ctx *ctx, const char *url, struct sink *s, struct hop *hop,
                    struct st_error **err)
{
        _cleanup_free_ char *domain = url_domain(url);
        if (!domain)
                return st_error_set(err, ST_E_PARSE, "invalid URL '%s'", url);
        _cleanup_client_ struct registry_client *c = NULL;
        int r = client_new_direct(ctx, domain, &c, err);
        if (r < 0)
                return r;
        if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0)
                return st_error_set_errno(err, -errno, "truncate the download file");
        digest_ctx_free(s->d);
        s->d = digest_ctx_new();
        s->size = 0;
        s->h = c->easy;
        http_headers_release(&hop->hdr);
        http_setup(c, c->easy, url, hop->errbuf);
        curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c->easy, CURLOPT_FILETIME, 1L);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, sink_write);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, http_header_cb);
        curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, &hop->hdr);
        hop->code = curl_easy_perform(c->easy);
        hop->status = 0;
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &hop->status);
        curl_off_t ft = -1;
        if (curl_easy_getinfo(c->easy, CURLINFO_FILETIME_T, &ft) != CURLE_OK)
                ft = -1;
        hop->filetime = (int64_t)ft;
        return 0;
}

static int hop_error(const char *url, const struct sink *s, const struct hop *hop,
                     struct st_error **err)
{
        _cleanup_free_ char *u = registry_url_for_message(url);
        if (s->write_errno)
                return st_error_set_errno(err, -s->write_errno, "failed to download %s: write", u);
        if (hop->hdr.too_big)
                return st_error_set(err, ST_E_TOO_BIG,
                                    "failed to download %s: response headers larger than %d bytes",
                                    u, HTTP_HEADERS_MAX);
        const char *detail = hop->errbuf[0] ? hop->errbuf : curl_easy_strerror(hop->code);
        return st_error_set(err, ST_E_HTTP, "failed to download %s: %s", u, detail);
}

/* Go's http.StatusText for the statuses a server may send without a reason (HTTP/2). */
static const char *status_text(long status)
{
        static const struct {
                long code;
                const char *text;
        } t[] = {
                { 400, "Bad Request" },
                { 401, "Unauthorized" },
                { 403, "Forbidden" },
                { 404, "Not Found" },
                { 405, "Method Not Allowed" },
                { 408, "Request Timeout" },
                { 410, "Gone" },
                { 429, "Too Many Requests" },
                { 500, "Internal Server Error" },
                { 502, "Bad Gateway" },
                { 503, "Service Unavailable" },
                { 504, "Gateway Timeout" },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (t[i].code == status)
                        return t[i].text;
        return "";
}

/* The next URL after a redirect from *URL: user info kept only within one origin. */
static int next_hop(const char *orig, char **url, const struct hop *hop, unsigned *redirects,
                    struct st_error **err)
{
        _cleanup_free_ char *u = registry_url_for_message(orig);
        if (++*redirects > REGISTRY_DOWNLOAD_REDIRECTS_MAX)
                return st_error_set(err, ST_E_HTTP,
                                    "failed to download %s: stopped after %d redirects", u,
                                    REGISTRY_DOWNLOAD_REDIRECTS_MAX);
        char *next = http_resolve(*url, hop->hdr.location);
        if (!next)
                return st_error_set(err, ST_E_HTTP,
                                    "failed to download %s: redirect without a usable Location", u);
        if (!http_same_origin(*url, next)) {
                char *clean = strip_userinfo(next);
                free(next);
                next = clean;
                if (!next)
                        return st_error_set(err, ST_E_HTTP,
                                            "failed to download %s: bad redirect Location", u);
        }
        free(*url);
        *url = next;
        return 0;
}

static int download(struct registry_ctx *ctx, const char *orig, struct sink *s, struct hop *hop,
                    struct st_error **err)
{
        _cleanup_free_ char *url = xstrdup(orig);
        unsigned attempt = 1, redirects = 0;
        for (;;) {
                s->write_errno = 0;
                int r = get_once(ctx, url, s, hop, err);
                if (r < 0)
                        return r;
                bool failed = hop->code != CURLE_OK;
                if (failed && !s->write_errno && !hop->hdr.too_big &&
                    http_code_is_transient(hop->code) && attempt < HTTP_ATTEMPTS) {
                        http_backoff(attempt++, NULL);
                        continue;
                }
                if (failed)
                        return hop_error(orig, s, hop, err);
                if (status_redirect(hop->status)) {
                        r = next_hop(orig, &url, hop, &redirects, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (http_status_is_transient(hop->status) && attempt < HTTP_ATTEMPTS) {
                        http_backoff(attempt++, hop->hdr.retry_after);
                        continue;
                }
                if (status_ok(hop->status))
                        return 0;
                _cleanup_free_ char *u = registry_url_for_message(orig);
                const char *reason = hop->hdr.reason && hop->hdr.reason[0]
                                             ? hop->hdr.reason
                                             : status_text(hop->status);
                return st_error_set(err, ST_E_HTTP, "failed to download %s: %ld%s%s", u,
                                    hop->status, reason[0] ? " " : "", reason);
        }
}

int registry_download(struct registry_ctx *ctx, const char *url, int fd,
                      struct registry_download *ret, struct st_error **err)
{
        if (!startswith(url, "http://") && !startswith(url, "https://"))
                return st_error_set(err, ST_E_PARSE, "'%s' is not an http or https URL", url);
        struct sink s = { .fd = fd };
        struct hop hop = { 0 };
        int r = download(ctx, url, &s, &hop, err);
        if (r >= 0) {
                digest_ctx_final(s.d, ret->digest);
                ret->size = s.size;
                ret->last_modified = hop.filetime;
        }
        digest_ctx_free(s.d);
        http_headers_release(&hop.hdr);
        return r;
}
