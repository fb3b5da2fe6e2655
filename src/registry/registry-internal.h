/* Internals of src/registry shared between its files: the per-repository client, HTTP requests
 * with auth, redirects and retries, blob streams and uploads. */
#pragma once

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "image/manifest.h"
#include "registry/auth.h"
#include "registry/host.h"
#include "registry/registry.h"

#define HTTP_ATTEMPTS        4 /* tries of one request on 429, 5xx and broken connections */
#define HTTP_BLOB_ATTEMPTS   6 /* tries of one blob stream (each resumes with Range) */
#define HTTP_REDIRECTS_MAX   5
#define HTTP_HEADERS_MAX     (64 * 1024) /* all header bytes of one response */
#define HTTP_TOKEN_MAX       (32 * 1024) /* one bearer token */
#define HTTP_TOKEN_BODY_MAX  (1024 * 1024)
#define HTTP_CA_FILE_MAX     (8 * 1024 * 1024)
#define HTTP_CONNECT_TIMEOUT 30L
#define HTTP_STALL_TIMEOUT   60L /* seconds without a byte before a transfer is dropped */

struct token {
        char *key; /* realm, service and scope */
        char *value;
        uint64_t expires; /* CLOCK_MONOTONIC usec */
};

struct registry_ctx {
        struct registry_conf *conf;
        char **cert_roots;
        char *auth_file;
        int tls_verify;
        registry_trace_fn trace;
        void *trace_userdata;
        pthread_mutex_t lock; /* tokens, and each client's challenges and credentials */
        pthread_mutex_t trace_lock;
        struct token *tokens;
        size_t n_tokens;
};

/* One repository of one registry, shared by the transfer threads of an operation. */
struct registry_client {
        struct registry_ctx *ctx;
        struct registry_host *host;
        char *repository; /* "library/busybox" */
        char *scope;      /* "repository:library/busybox:pull" (or pull,push) */
        char *base;       /* "https://registry-1.docker.io", decided by the ping */
        char *ca_pem;     /* system CAs + certs.d *.crt, or NULL for curl's default */
        size_t ca_len;
        char *client_cert, *client_key; /* certs.d client.cert / client.key, or NULL */
        struct registry_cred cred;      /* under ctx->lock */
        bool cred_loaded;
        struct registry_challenge *challenges; /* under ctx->lock; NULL: anonymous */
        size_t n_challenges;
        CURL *easy; /* for the thread that created the client */
        atomic_bool cancelled;
};

/* A client for REPOSITORY at DOMAIN with SCOPE's actions ("pull" or "pull,push"); pings the
 * registry to learn its scheme and auth. Caller frees with client_free. */
int client_new(struct registry_ctx *ctx, const char *domain, const char *repository,
               const char *actions, struct registry_client **ret, struct st_error **err);

/* A client for plain downloads from DOMAIN ("host[:port]"): its TLS material (system CAs plus
 * certs.d) with certificates always verified, no ping, no repository, anonymous. Caller frees
 * with client_free. */
int client_new_direct(struct registry_ctx *ctx, const char *domain, struct registry_client **ret,
                      struct st_error **err);

/* Free C; NULL-safe; returns NULL. */
struct registry_client *client_free(struct registry_client *c);

/* The Authorization header for a request to the registry in SCOPE (NULL: c->scope), or NULL
 * when anonymous; caller frees (and wipes). With REFRESH a cached token is not used. */
int client_auth_header(struct registry_client *c, CURL *h, const char *scope, bool refresh,
                       char **ret, struct st_error **err);

/* Take the challenges of a 401's WWW-Authenticate value (NULL: keep the ones we have); returns
 * 1 if there is a way to authenticate, 0 if not. */
int client_challenge_update(struct registry_client *c, const char *www_authenticate,
                            struct st_error **err);

/* Emit a trace line through the context's trace callback (no-op without one). */
void client_trace(struct registry_ctx *ctx, const char *fmt, ...) _printf_(2, 3);

/* ----- HTTP ----- */

struct http_headers {
        char *content_type;
        char *location;
        char *digest; /* Docker-Content-Digest */
        char *www_authenticate;
        char *retry_after;
        char *content_range;
        char *link;
        char *reason; /* of the status line: "Not Found", or NULL */
        size_t total; /* bytes of headers seen */
        bool too_big;
};

struct http_req {
        const char *method;       /* "GET", "HEAD", "PUT", "POST", "PATCH" */
        const char *url;          /* absolute, or a path ("/v2/…") under the registry */
        const char *scope;        /* auth scope; NULL: the client's */
        const char *accept;       /* or NULL */
        const char *content_type; /* of the body, or NULL */
        const char *range;        /* "bytes=N-" or NULL */
        const char *content_range;
        const void *body; /* in-memory body, or NULL */
        size_t body_len;
        int body_fd; /* >= 0: the body is BODY_LEN bytes of this fd from BODY_OFF */
        uint64_t body_off;
        size_t cap;     /* response body kept: a larger 2xx body fails with ST_E_TOO_BIG */
        bool no_retry;  /* not safe to repeat (an upload's PATCH/PUT) */
        bool follow;    /* follow redirects; otherwise a 3xx is returned */
        bool anonymous; /* never send Authorization (the token service) */
        const char *authorization; /* with ANONYMOUS: this header instead, or NULL */
        /* upload progress, called with bytes sent so far */
        void (*progress)(void *userdata, uint64_t sent);
        void *userdata;
};

struct http_resp {
        long status;
        char *body; /* NUL-terminated; error bodies are kept up to REGISTRY_ERROR_BODY_MAX */
        size_t len;
        struct http_headers hdr;
        char *url;          /* where the final response came from */
        CURLcode curl_code; /* when no response came: why */
};

/* A new easy handle (caller frees with curl_easy_cleanup). */
CURL *http_easy_new(void);

/* Make REQ with C's TLS settings on handle H: authenticates (Basic, or Bearer through the token
 * service, once more after a 401), follows redirects when asked (Authorization only to the same
 * origin), retries 429, 5xx and broken connections with backoff. Returns 0 with any final HTTP
 * status in *resp (caller releases it), < 0 when no response came. */
int http_do(struct registry_client *c, CURL *h, const struct http_req *req, struct http_resp *resp,
            struct st_error **err);

/* Release RESP's fields. */
void http_resp_release(struct http_resp *resp);

/* Set *err from a non-2xx RESP (registry error JSON, or the status). */
int http_error(const struct http_resp *resp, struct st_error **err);

/* The absolute URL of a registry path or an absolute URL; caller frees. */
char *http_url(const struct registry_client *c, const char *path_or_url);

/* Resolve a Location value against BASE_URL; NULL if it is not http(s); caller frees. */
char *http_resolve(const char *base_url, const char *location);

/* True if A and B have the same scheme, host and port. */
bool http_same_origin(const char *a, const char *b);

/* Set H up for URL with C's TLS settings, timeouts, tracing; callbacks are the caller's. */
void http_setup(struct registry_client *c, CURL *h, const char *url, char *errbuf);

/* Header callback collecting struct http_headers (userdata). */
size_t http_header_cb(char *data, size_t size, size_t n, void *userdata);

/* Release the fields of H. */
void http_headers_release(struct http_headers *h);

/* An error for a failed transfer of METHOD URL (query string left out). */
int http_transport_error(struct registry_client *c, CURLcode code, const char *errbuf,
                         const char *method, const char *url, struct st_error **err);

/* True for transfer failures worth another try (connection lost, timeout). */
bool http_code_is_transient(CURLcode code);

/* True for statuses worth another try (429, 500, 502, 503, 504). */
bool http_status_is_transient(long status);

/* Sleep before try ATTEMPT (1-based) as RETRY_AFTER (seconds, capped) or exponential backoff. */
void http_backoff(unsigned attempt, const char *retry_after);

/* ----- blobs ----- */

/* A reader of blob DIGEST (SIZE bytes as its descriptor says: more is refused) that streams it
 * from the registry in bounded memory, resuming with Range after a broken connection. The
 * consumer verifies the digest. PROGRESS (may be NULL) is called with bytes received.
 * OFFSET > 0: the caller has the first OFFSET bytes already; the reader returns only the rest
 * (asked for with Range; skipped if the registry sends the whole blob anyway). */
int blob_reader_new(struct registry_client *c, const char *digest, uint64_t size, uint64_t offset,
                    void (*progress)(void *userdata, uint64_t got), void *userdata,
                    struct st_reader **ret, struct st_error **err);

/* Like blob_reader_new, across processes: the bytes in PARTIAL (a partial download an earlier
 * pull left, may be NULL) come first, read back from the file, then the rest from the
 * registry, each appended to PARTIAL as it arrives. PARTIAL stays the caller's, who closes it
 * after the reader is freed: removed on success or when its content proved wrong, else kept. */
int blob_resume_reader_new(struct registry_client *c, struct store_partial *partial,
                           const char *digest, uint64_t size,
                           void (*progress)(void *userdata, uint64_t got), void *userdata,
                           struct st_reader **ret, struct st_error **err);

/* Whether reading R (from blob_resume_reader_new) failed in the reader itself, i.e. on the
 * network or in the partial file, rather than in what consumed the bytes. */
bool blob_resume_reader_failed(const struct st_reader *r);

/* How many bytes R took from its partial download file. */
uint64_t blob_resume_reader_replayed(const struct st_reader *r);

/* Fetch a small blob (config) whole, verified against DIGEST and SIZE; caller frees *ret. */
int blob_fetch(struct registry_client *c, const char *digest, int64_t size, size_t cap, char **ret,
               size_t *ret_len, struct st_error **err);

/* HEAD the blob: 1 if the registry has it, 0 if not. */
int blob_exists(struct registry_client *c, CURL *h, const char *digest, struct st_error **err);

/* Try to mount DIGEST from repository FROM of the same registry: 1 if mounted, 0 if not. */
int blob_mount(struct registry_client *c, CURL *h, const char *digest, const char *from,
               struct st_error **err);

/* Upload SIZE bytes of FD as blob DIGEST: POST then PUT (monolithic), falling back to chunked
 * PATCHes when the registry refuses a monolithic upload. */
int blob_upload(struct registry_client *c, CURL *h, const char *digest, int fd, uint64_t size,
                void (*progress)(void *userdata, uint64_t sent), void *userdata,
                struct st_error **err);

/* ----- manifests ----- */

#define MANIFEST_ACCEPT                                                               \
        MEDIA_TYPE_OCI_INDEX ", " MEDIA_TYPE_OCI_MANIFEST ", " MEDIA_TYPE_DOCKER_LIST \
                             ", " MEDIA_TYPE_DOCKER_MANIFEST

struct fetched_manifest {
        char *buf; /* NUL-terminated */
        size_t len;
        char *media_type; /* from the document, else the Content-Type */
        char digest[DIGEST_STR_LEN + 1];
};

/* GET the manifest REFERENCE (tag or digest): size-capped, its media type checked against the
 * Content-Type, its digest computed and checked against REFERENCE when that is a digest and
 * against Docker-Content-Digest when the registry sends one. */
int manifest_get(struct registry_client *c, const char *reference, struct fetched_manifest *ret,
                 struct st_error **err);

/* Release M's fields. */
void fetched_manifest_release(struct fetched_manifest *m);

/* PUT BUF as the manifest REFERENCE with MEDIA_TYPE; checks the digest the registry reports. */
int manifest_put(struct registry_client *c, const char *reference, const char *buf, size_t len,
                 const char *media_type, struct st_error **err);

/* ----- resolving a reference ----- */

struct registry_platform;
struct image_config;

struct registry_resolved {
        struct fetched_manifest top;      /* what the reference names */
        struct fetched_manifest manifest; /* the image manifest (== top unless an index) */
        struct image_manifest *m;
        char *config;
        size_t config_len;
        struct image_config *cfg;
};

/* Resolve REF on C: its manifest (an index to P's manifest; STRICT: a single-platform image
 * whose config says otherwise is refused), then the config, verified (S's copy when S, which
 * may be NULL, has it). RES is the caller's to release, also on failure. */
int registry_resolve(struct registry_client *c, struct store *s, const struct image_ref *ref,
                     const struct registry_platform *p, bool strict, struct registry_resolved *res,
                     struct st_error **err);

/* Release RES's fields. */
void registry_resolved_release(struct registry_resolved *res);

DEFINE_CLEANUP_FUNC(struct registry_client *, client_free)
#define _cleanup_client_ _cleanup_(client_freep)
