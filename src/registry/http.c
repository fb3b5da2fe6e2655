/* HTTP requests to a registry through libcurl: TLS settings per registry, capped responses,
 * redacted traces, and http_do's loop of auth, redirects and retries. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "basic/util.h"
#include "registry/protocol.h"
#include "registry/registry-internal.h"

#define BACKOFF_BASE_MS   250
#define BACKOFF_MAX_MS    4000
#define RETRY_AFTER_MAX_S 10

CURL *http_easy_new(void)
{
        CURL *h = curl_easy_init();
        if (!h)
                abort(); /* only fails on OOM */
        return h;
}

void http_headers_release(struct http_headers *h)
{
        free(h->content_type);
        free(h->location);
        free(h->digest);
        free(h->www_authenticate);
        free(h->retry_after);
        free(h->content_range);
        free(h->link);
        free(h->reason);
        *h = (struct http_headers){ 0 };
}

void http_resp_release(struct http_resp *resp)
{
        free(resp->body);
        http_headers_release(&resp->hdr);
        free(resp->url);
        *resp = (struct http_resp){ 0 };
}

static void keep_header(char **dst, const char *v, size_t n, bool append)
{
        _cleanup_free_ char *value = xstrndup(v, n);
        if (append && *dst) {
                char *joined = xasprintf("%s, %s", *dst, value);
                free(*dst);
                *dst = joined;
                return;
        }
        free(*dst);
        *dst = TAKE_PTR(value);
}

static void store_header(struct http_headers *h, const char *name, size_t name_len, const char *v,
                         size_t n)
{
        static const struct {
                const char *name;
                size_t offset;
                bool append;
        } keep[] = {
                { "content-type", offsetof(struct http_headers, content_type), false },
                { "location", offsetof(struct http_headers, location), false },
                { "docker-content-digest", offsetof(struct http_headers, digest), false },
                { "www-authenticate", offsetof(struct http_headers, www_authenticate), true },
                { "retry-after", offsetof(struct http_headers, retry_after), false },
                { "content-range", offsetof(struct http_headers, content_range), false },
                { "link", offsetof(struct http_headers, link), true },
        };

        for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                if (strlen(keep[i].name) == name_len && !strncasecmp(name, keep[i].name, name_len))
                        keep_header((char **)((char *)h + keep[i].offset), v, n, keep[i].append);
}

/* The reason phrase of a status line "HTTP/1.1 404 Not Found" ("" for HTTP/2, which has none). */
static void keep_reason(struct http_headers *h, const char *line, size_t len)
{
        const char *end = line + len;
        const char *p = memchr(line, ' ', len);
        p = p ? memchr(p + 1, ' ', (size_t)(end - p - 1)) : NULL;
        if (!p)
                return;
        p++;
        while (end > p && strchr(" \t\r\n", end[-1]))
                end--;
        h->reason = xstrndup(p, (size_t)(end - p));
}

size_t http_header_cb(char *data, size_t size, size_t n, void *userdata)
{
        struct http_headers *h = userdata;
        size_t len = size * n;
        h->total += len;
        if (h->total > HTTP_HEADERS_MAX) {
                h->too_big = true;
                return 0;
        }
        if (len >= 5 && !strncmp(data, "HTTP/", 5)) { /* a new response: 100, redirect */
                size_t total = h->total;
                http_headers_release(h);
                h->total = total;
                keep_reason(h, data, len);
                return len;
        }
        const char *colon = memchr(data, ':', len);
        if (!colon)
                return len;
        const char *v = colon + 1, *end = data + len;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && strchr(" \t\r\n", end[-1]))
                end--;
        store_header(h, data, (size_t)(colon - data), v, (size_t)(end - v));
        return len;
}

/* ----- URLs ----- */

char *http_url(const struct registry_client *c, const char *path_or_url)
{
        if (startswith(path_or_url, "https://") || startswith(path_or_url, "http://"))
                return xstrdup(path_or_url);
        return xasprintf("%s%s", c->base, path_or_url);
}

static char *url_part(CURLU *u, CURLUPart part, unsigned flags)
{
        char *p = NULL;
        if (curl_url_get(u, part, &p, flags) != CURLUE_OK)
                return NULL;
        char *r = xstrdup(p);
        curl_free(p);
        return r;
}

char *http_resolve(const char *base_url, const char *location)
{
        if (!location || !*location)
                return NULL;
        CURLU *u = curl_url();
        char *r = NULL;
        if (curl_url_set(u, CURLUPART_URL, base_url, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK)
                r = url_part(u, CURLUPART_URL, 0);
        curl_url_cleanup(u);
        if (r && !startswith(r, "https://") && !startswith(r, "http://"))
                r = mfree_str(r);
        return r;
}

/* "scheme://host:port" of URL with the default port filled in; caller frees. */
static char *origin(const char *url)
{
        CURLU *u = curl_url();
        char *r = NULL;
        if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
                _cleanup_free_ char *scheme = url_part(u, CURLUPART_SCHEME, 0);
                _cleanup_free_ char *host = url_part(u, CURLUPART_HOST, 0);
                _cleanup_free_ char *port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
                if (scheme && host && port)
                        r = xasprintf("%s://%s:%s", scheme, host, port);
        }
        curl_url_cleanup(u);
        return r;
}

bool http_same_origin(const char *a, const char *b)
{
        _cleanup_free_ char *oa = origin(a), *ob = origin(b);
        return oa && ob && streq(oa, ob);
}

/* "host[:port]" as URL spells it; caller frees. */
static char *authority(const char *url)
{
        const char *p = startswith(url, "https://") ?: startswith(url, "http://") ?: url;
        return xstrndup(p, strcspn(p, "/?#"));
}

/* URL without its query string, for messages; caller frees. */
static char *url_for_message(const char *url)
{
        return xstrndup(url, strcspn(url, "?#"));
}

/* ----- tracing, with secrets redacted ----- */

static bool secret_word(const char *s, size_t n)
{
        static const char *const words[] = {
                "sig", "token", "key", "secret", "cred", "auth", "pass"
        };
        _cleanup_free_ char *k = xstrndup(s, n);
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasestr(k, words[i]))
                        return true;
        return false;
}

/* LINE with the values of secret-looking query parameters replaced; caller frees. */
static char *redact_query(const char *line)
{
        const char *q = strchr(line, '?');
        if (!q)
                return xstrdup(line);
        _cleanup_free_ char *out = xstrndup(line, (size_t)(q - line) + 1);
        for (const char *p = q + 1; *p;) {
                size_t n = strcspn(p, "& \t");
                const char *eq = memchr(p, '=', n);
                char *next;
                if (eq && secret_word(p, (size_t)(eq - p)))
                        next = xasprintf("%s%.*s=REDACTED", out, (int)(eq - p), p);
                else
                        next = xasprintf("%s%.*s", out, (int)n, p);
                free(out);
                out = next;
                p += n;
                size_t sep = strspn(p, "&");
                next = xasprintf("%s%.*s", out, (int)sep, p);
                free(out);
                out = next;
                p += sep;
                if (*p == ' ' || *p == '\t') {
                        next = xasprintf("%s%s", out, p);
                        free(out);
                        return next;
                }
        }
        return TAKE_PTR(out);
}

static void trace_line(struct registry_ctx *ctx, char prefix, const char *s, size_t n)
{
        static const char *const secret_headers[] = { "authorization:", "proxy-authorization:",
                                                      "cookie:", "set-cookie:" };
        while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
                n--;
        if (n == 0)
                return;
        _cleanup_free_ char *line = xstrndup(s, n);
        for (size_t i = 0; i < ELEMENTSOF(secret_headers); i++)
                if (!strncasecmp(line, secret_headers[i], strlen(secret_headers[i]))) {
                        client_trace(ctx, "%c %.*s <redacted>", prefix,
                                     (int)strlen(secret_headers[i]), line);
                        return;
                }
        _cleanup_free_ char *clean = redact_query(line);
        client_trace(ctx, "%c %s", prefix, clean);
}

static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *userdata)
{
        struct registry_client *c = userdata;
        char prefix = type == CURLINFO_TEXT         ? '*'
                      : type == CURLINFO_HEADER_IN  ? '<'
                      : type == CURLINFO_HEADER_OUT ? '>'
                                                    : 0;
        (void)h;
        if (!prefix)
                return 0; /* bodies are never traced: they may hold tokens */
        for (size_t i = 0; i < size;) {
                size_t n = 0;
                while (i + n < size && data[i + n] != '\n')
                        n++;
                trace_line(c->ctx, prefix, data + i, n);
                i += n + 1;
        }
        return 0;
}

/* ----- one transfer ----- */

void http_setup(struct registry_client *c, CURL *h, const char *url, char *errbuf)
{
        curl_easy_reset(h);
        errbuf[0] = 0;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_USERAGENT, "strata/" STRATA_VERSION);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, HTTP_STALL_TIMEOUT);
        _cleanup_free_ char *auth = authority(url);
        bool own = streq(auth, c->host->host);
        if (c->ca_pem) {
                struct curl_blob blob = { .data = c->ca_pem,
                                          .len = c->ca_len,
                                          .flags = CURL_BLOB_NOCOPY };
                curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
        }
        if (own && c->host->tls == REGISTRY_TLS_INSECURE) {
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (own && c->client_cert) {
                curl_easy_setopt(h, CURLOPT_SSLCERT, c->client_cert);
                curl_easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
        }
        if (c->ctx->trace) {
                curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
                curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
                curl_easy_setopt(h, CURLOPT_DEBUGDATA, c);
        }
}

struct xfer {
        CURL *h;
        const struct http_req *req;
        struct http_resp *resp;
        size_t body_cap; /* allocated */
        uint64_t sent;
        bool overflow;
        bool read_failed;
};

static size_t write_cb(char *data, size_t size, size_t n, void *userdata)
{
        struct xfer *x = userdata;
        size_t len = size * n;
        long status = 0;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
        bool ok = status >= 200 && status < 300;
        size_t cap = ok ? x->req->cap : REGISTRY_ERROR_BODY_MAX;
        size_t keep = len;
        if (x->resp->len + len > cap) {
                if (ok) {
                        x->overflow = true;
                        return 0;
                }
                keep = cap - MIN(cap, x->resp->len);
        }
        if (x->resp->len + keep + 1 > x->body_cap) {
                x->body_cap = MAX(x->body_cap * 2, x->resp->len + keep + 1);
                x->resp->body = xrealloc(x->resp->body, x->body_cap);
        }
        memcpy(x->resp->body + x->resp->len, data, keep);
        x->resp->len += keep;
        x->resp->body[x->resp->len] = 0;
        return len;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *userdata)
{
        struct xfer *x = userdata;
        const struct http_req *req = x->req;
        size_t k = MIN(size * n, req->body_len - (size_t)x->sent);
        if (k == 0)
                return 0;
        if (req->body_fd >= 0) {
                ssize_t got;
                do
                        got = pread(req->body_fd, buf, k, (off_t)(req->body_off + x->sent));
                while (got < 0 && errno == EINTR);
                if (got <= 0) {
                        x->read_failed = true;
                        return CURL_READFUNC_ABORT;
                }
                k = (size_t)got;
        } else
                memcpy(buf, (const char *)req->body + x->sent, k);
        x->sent += k;
        if (req->progress)
                req->progress(req->userdata, x->sent);
        return k;
}

static struct curl_slist *build_headers(const struct http_req *req, const char *auth)
{
        struct curl_slist *l = NULL;
        _cleanup_free_ char *a = req->accept ? xasprintf("Accept: %s", req->accept) : NULL;
        _cleanup_free_ char *ct =
                req->content_type ? xasprintf("Content-Type: %s", req->content_type) : NULL;
        _cleanup_free_ char *range = req->range ? xasprintf("Range: %s", req->range) : NULL;
        _cleanup_free_ char *cr =
                req->content_range ? xasprintf("Content-Range: %s", req->content_range) : NULL;
        const char *all[] = { a, ct, range, cr, auth };
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if (all[i])
                        l = curl_slist_append(l, all[i]);
        return l;
}

/* Free L, wiping its strings (one of them may be an Authorization header). */
static void headers_free(struct curl_slist *l)
{
        for (struct curl_slist *p = l; p; p = p->next)
                explicit_bzero(p->data, strlen(p->data));
        curl_slist_free_all(l);
}

static void set_method(CURL *h, const struct http_req *req)
{
        if (streq(req->method, "HEAD"))
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        else if (streq(req->method, "POST")) {
                curl_easy_setopt(h, CURLOPT_POST, 1L);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        } else if (streq(req->method, "PUT") || streq(req->method, "PATCH")) {
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
                if (streq(req->method, "PATCH"))
                        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
        }
}

/* One request to URL; a transfer failure is returned (< 0) with its curl code in *ret_code. */
static int perform(struct registry_client *c, CURL *h, const struct http_req *req, const char *url,
                   const char *auth, struct http_resp *resp, CURLcode *ret_code,
                   struct st_error **err)
{
        char errbuf[CURL_ERROR_SIZE];
        struct xfer x = { .h = h, .req = req, .resp = resp };
        http_setup(c, h, url, errbuf);
        struct curl_slist *hl = build_headers(req, auth);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
        set_method(h, req);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, &x);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_header_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp->hdr);
        CURLcode rc = curl_easy_perform(h);
        headers_free(hl);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        resp->url = xstrdup(url);
        *ret_code = rc;
        if (rc == CURLE_OK)
                return 0;
        _cleanup_free_ char *u = url_for_message(url);
        if (x.overflow)
                return st_error_set(err, ST_E_TOO_BIG, "%s %s: response larger than %zu bytes",
                                    req->method, u, req->cap);
        if (resp->hdr.too_big)
                return st_error_set(err, ST_E_TOO_BIG,
                                    "%s %s: response headers larger than %d"
                                    " bytes",
                                    req->method, u, HTTP_HEADERS_MAX);
        if (x.read_failed)
                return st_error_set(err, -EIO, "%s %s: reading the request body failed",
                                    req->method, u);
        return http_transport_error(c, rc, errbuf, req->method, url, err);
}

/* ----- errors and retries ----- */

int http_transport_error(struct registry_client *c, CURLcode code, const char *errbuf,
                         const char *method, const char *url, struct st_error **err)
{
        _cleanup_free_ char *u = url_for_message(url);
        const char *detail = errbuf && errbuf[0] ? errbuf : curl_easy_strerror(code);
        if (code == CURLE_PEER_FAILED_VERIFICATION)
                return st_error_set(err, ST_E_HTTP,
                                    "%s %s: the TLS certificate of '%s' is not trusted (%s); put"
                                    " its CA certificate in %s/%s/ca.crt, or use"
                                    " --tls-verify=false if you trust the network",
                                    method, u, c->host->host, detail,
                                    c->ctx->cert_roots ? c->ctx->cert_roots[0] : "certs.d",
                                    c->host->host);
        if (code == CURLE_SSL_CONNECT_ERROR && strstr(detail, "wrong version number"))
                return st_error_set(err, ST_E_HTTP,
                                    "%s %s: '%s' does not speak TLS (a plain http registry?);"
                                    " plain http is used only for loopback addresses and"
                                    " registries marked insecure (--tls-verify=false)",
                                    method, u, c->host->host);
        return st_error_set(err, ST_E_HTTP, "%s %s: %s", method, u, detail);
}

int http_error(const struct http_resp *resp, struct st_error **err)
{
        return registry_error_from_response(resp->status, resp->body, resp->len, err);
}

bool http_code_is_transient(CURLcode code)
{
        switch (code) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return true;
        default:
                return false;
        }
}

bool http_status_is_transient(long status)
{
        return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

void http_backoff(unsigned attempt, const char *retry_after)
{
        uint64_t ms = (uint64_t)BACKOFF_BASE_MS << MIN(attempt - 1, 8u);
        ms = MIN(ms, (uint64_t)BACKOFF_MAX_MS);
        uint64_t secs = 0;
        if (retry_after && parse_u64(retry_after, &secs) >= 0)
                ms = MIN(secs, (uint64_t)RETRY_AFTER_MAX_S) * 1000;
        struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
                               .tv_nsec = (long)(ms % 1000) * 1000000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static bool is_redirect(long status)
{
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The next URL of a redirect from URL; Authorization survives only within one origin, and
 * https never falls back to http. */
static int follow(struct registry_client *c, const struct http_resp *resp, char **url,
                  bool *send_auth, unsigned *redirects, struct st_error **err)
{
        _cleanup_free_ char *u = url_for_message(*url);
        if (++*redirects > HTTP_REDIRECTS_MAX)
                return st_error_set(err, ST_E_HTTP, "%s: more than %d redirects", u,
                                    HTTP_REDIRECTS_MAX);
        char *next = http_resolve(*url, resp->hdr.location);
        if (!next)
                return st_error_set(err, ST_E_HTTP, "%s: redirect without a usable Location", u);
        if (startswith(*url, "https://") && startswith(next, "http://") &&
            c->host->tls != REGISTRY_TLS_INSECURE) {
                free(next);
                return st_error_set(err, ST_E_HTTP, "%s: refusing a redirect from https to http",
                                    u);
        }
        *send_auth = *send_auth && http_same_origin(*url, next);
        free(*url);
        *url = next;
        return 0;
}

int http_do(struct registry_client *c, CURL *h, const struct http_req *req, struct http_resp *resp,
            struct st_error **err)
{
        _cleanup_free_ char *url = http_url(c, req->url);
        bool send_auth = !req->anonymous, reauthed = false;
        unsigned attempt = 1, redirects = 0;
        for (;;) {
                char *auth = NULL;
                int r = 0;
                if (send_auth)
                        r = client_auth_header(c, h, req->scope, reauthed, &auth, err);
                else if (req->authorization)
                        auth = xstrdup(req->authorization);
                if (r < 0)
                        return r;
                http_resp_release(resp);
                CURLcode code = CURLE_OK;
                _cleanup_error_ struct st_error *perr = NULL;
                r = perform(c, h, req, url, auth, resp, &code, &perr);
                if (auth)
                        explicit_bzero(auth, strlen(auth));
                free(auth);
                if (r < 0 && !req->no_retry && http_code_is_transient(code) &&
                    attempt < HTTP_ATTEMPTS) {
                        http_backoff(attempt++, NULL);
                        continue;
                }
                if (r < 0) {
                        resp->curl_code = code;
                        return st_error_take(&perr, r, err);
                }
                if (resp->status == 401 && send_auth && !reauthed) {
                        r = client_challenge_update(c, resp->hdr.www_authenticate, err);
                        if (r <= 0)
                                return r; /* no way to authenticate: the 401 is the answer */
                        reauthed = true;
                        continue;
                }
                if (is_redirect(resp->status) && req->follow) {
                        r = follow(c, resp, &url, &send_auth, &redirects, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (http_status_is_transient(resp->status) && !req->no_retry &&
                    attempt < HTTP_ATTEMPTS) {
                        http_backoff(attempt++, resp->hdr.retry_after);
                        continue;
                }
                return 0;
        }
}
