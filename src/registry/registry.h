/* The OCI distribution client: pull images from a registry into the store and push them back,
 * log in and out. Works with any conformant registry (distribution, Harbor, Zot, Docker Hub,
 * GHCR, ECR, Quay). docs/registry.md describes the rules (auth, TLS, what is cached).
 *
 * Nothing here prints: progress goes through registry_progress_fn, traces through
 * registry_trace_fn, errors through struct st_error. Secrets (passwords, tokens, base64 auth)
 * never appear in either. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "digest/digest.h"
#include "image/reference.h"
#include "store/store.h"

#define REGISTRY_DEFAULT_DOWNLOADS 6
#define REGISTRY_DEFAULT_UPLOADS   5
#define REGISTRY_MAX_PARALLEL      32
#define REGISTRY_TAGS_MAX          10000 /* cap on a tag list (pull -a, push --all-tags) */

/* One line of protocol trace (headers with Authorization and tokens redacted). */
typedef void (*registry_trace_fn)(const char *line, void *userdata);

struct registry_ctx_opts {
        const char *config_dir;   /* registries.conf and certs.d/ (default /etc/strata) */
        const char *docker_certs; /* Docker's certs.d (default /etc/docker/certs.d) */
        const char *auth_file;    /* Docker's config.json; NULL: no stored credentials */
        int tls_verify;           /* -1: by the rules; 0: --tls-verify=false; 1: always */
        registry_trace_fn trace;  /* or NULL */
        void *trace_userdata;
};

struct registry_ctx;

/* Loads libcurl (once per process; strata does not link it); 0, or an error saying why not. */
int registry_curl_load(struct st_error **err);

/* A context for this process's registry work: loads CONFIG_DIR/registries.conf. Tokens are
 * cached in it per registry and scope. Caller frees with registry_ctx_free. */
int registry_ctx_new(const struct registry_ctx_opts *o, struct registry_ctx **ret,
                     struct st_error **err);

/* Free CTX; NULL-safe; returns NULL. */
struct registry_ctx *registry_ctx_free(struct registry_ctx *ctx);

enum registry_event_type {
        REGISTRY_EVENT_PULLING,   /* text: "TAG: Pulling from REPO" */
        REGISTRY_EVENT_PUSHING,   /* text: "The push refers to repository [REPO]" */
        REGISTRY_EVENT_EXISTS,    /* id: layer already in the store / in the registry */
        REGISTRY_EVENT_QUEUED,    /* id: will be transferred ("Pulling fs layer", "Preparing") */
        REGISTRY_EVENT_PROGRESS,  /* id: current of total bytes moved */
        REGISTRY_EVENT_VERIFYING, /* id: download complete, waiting for the layer below */
        REGISTRY_EVENT_DONE,      /* id: "Pull complete" / "Pushed" */
        REGISTRY_EVENT_MOUNTED,   /* id: mounted from repository text */
};

struct registry_event {
        enum registry_event_type type;
        const char *id;   /* 12 hex digits of the blob (pull) or diff ID (push), or NULL */
        const char *text; /* see above, or NULL */
        uint64_t current, total;
};

/* Called from any of the transfer threads, one call at a time. */
typedef void (*registry_progress_fn)(const struct registry_event *ev, void *userdata);

struct registry_pull_opts {
        const char *platform;  /* "os/arch[/variant]"; NULL: linux/amd64 (not enforced) */
        unsigned max_parallel; /* 0: REGISTRY_DEFAULT_DOWNLOADS */
        registry_progress_fn progress;
        void *userdata;
};

struct registry_pull_result {
        char id[DIGEST_STR_LEN + 1];     /* image ID */
        char digest[DIGEST_STR_LEN + 1]; /* what the reference resolved to (index or manifest) */
        bool downloaded;                 /* false: the image was up to date */
        unsigned layers_fetched;         /* layers downloaded (0 when all were in the store) */
};

/* Pull REF into S: resolve the manifest (an index to the platform), fetch the verified config,
 * then every layer the store lacks in parallel, each streamed socket -> sha256 -> decompress ->
 * extract and committed bottom up; tag the image with REF (when it has a tag and no digest) and
 * record the repo digest. Nothing is tagged unless everything verified. */
int registry_pull(struct registry_ctx *ctx, struct store *s, const struct image_ref *ref,
                  const struct registry_pull_opts *o, struct registry_pull_result *ret,
                  struct st_error **err);

/* The tags of REF's repository, sorted as the registry returns them (at most
 * REGISTRY_TAGS_MAX). Caller frees *ret with strv_free. */
int registry_list_tags(struct registry_ctx *ctx, const struct image_ref *ref, char ***ret,
                       struct st_error **err);

struct registry_push_opts {
        unsigned max_parallel; /* 0: REGISTRY_DEFAULT_UPLOADS */
        /* MEDIA_TYPE_OCI_MANIFEST or MEDIA_TYPE_DOCKER_MANIFEST: push the manifest converted to
         * that format (blobs unchanged); NULL: as the image was built, loaded or pulled */
        const char *manifest_media_type;
        registry_progress_fn progress;
        void *userdata;
};

struct registry_push_result {
        char digest[DIGEST_STR_LEN + 1]; /* of the pushed manifest */
        uint64_t size;                   /* its size */
        unsigned blobs_uploaded, blobs_mounted, blobs_existing;
};

/* Push the local image LOCAL (a name or ID in S) to DEST (a tag, or a digest that must be the
 * image's manifest digest): HEAD each blob, mount from another repository of the registry that
 * is known to hold it, upload the rest in parallel as the store holds them (no recompression),
 * then PUT the manifest with its own media type (or converted, see registry_push_opts).
 * Records where the blobs now are. */
int registry_push(struct registry_ctx *ctx, struct store *s, const char *local,
                  const struct image_ref *dest, const struct registry_push_opts *o,
                  struct registry_push_result *ret, struct st_error **err);

struct registry_remote_image {
        char digest[DIGEST_STR_LEN + 1];          /* what REF resolved to (the index, if any) */
        char manifest_digest[DIGEST_STR_LEN + 1]; /* the platform's image manifest */
        char *manifest;                           /* its bytes, NUL-terminated */
        size_t manifest_len;
        char *manifest_media_type;
        char *config; /* the image config's bytes, verified, NUL-terminated */
        size_t config_len;
        uint64_t layers_size; /* the sum of the layer blobs' sizes (compressed) */
};

/* Resolve REF as registry_pull does (an index to PLATFORM's manifest, "os/arch[/variant]";
 * NULL: linux/amd64, not enforced) and fetch its verified config, without any layer and
 * without a store. RET's fields are the caller's: registry_remote_image_release. */
int registry_image_fetch(struct registry_ctx *ctx, const struct image_ref *ref,
                         const char *platform, struct registry_remote_image *ret,
                         struct st_error **err);

/* Release IMG's fields. */
void registry_remote_image_release(struct registry_remote_image *img);

/* The manifest (or index) REF names, as the registry serves it, verified against its digest.
 * *ret (caller frees) is its bytes, NUL-terminated; ret_media_type (caller frees) may be NULL. */
int registry_manifest_fetch(struct registry_ctx *ctx, const struct image_ref *ref, char **ret,
                            size_t *ret_len, char **ret_media_type, struct st_error **err);

/* Check USERNAME/PASSWORD against DOMAIN's /v2/ (Basic or through its token service), then
 * store them in the context's auth file (or its credential helper). ST_E_UNAUTHORIZED when
 * the registry refuses them. */
int registry_login(struct registry_ctx *ctx, const char *domain, const char *username,
                   const char *password, struct st_error **err);

/* Forget DOMAIN's stored credentials; 1 if there were some, 0 if not. */
int registry_logout(struct registry_ctx *ctx, const char *domain, struct st_error **err);

/* ----- plain downloads (ADD of a URL) ----- */

#define REGISTRY_DOWNLOAD_REDIRECTS_MAX 10

struct registry_download {
        char digest[DIGEST_STR_LEN + 1]; /* sha256 of the body */
        uint64_t size;
        int64_t last_modified; /* Last-Modified in seconds since the epoch, or -1 */
};

/* GET URL (http or https; https certificates always verified, against the system's CAs plus
 * certs.d's for the host) and stream the body into FD (an empty file open for writing, which
 * is truncated again when a try starts over) through sha256: bounded memory. Redirects are
 * followed up to REGISTRY_DOWNLOAD_REDIRECTS_MAX; credentials written in the URL go only to
 * its own origin; no stored credentials are ever sent. Broken transfers and 429/5xx are
 * retried. A final status that is not 2xx is ST_E_HTTP "failed to download URL: 404 Not
 * Found". Messages name the URL without credentials or query. */
int registry_download(struct registry_ctx *ctx, const char *url, int fd,
                      struct registry_download *ret, struct st_error **err);

/* URL without its user info and query string, for messages; caller frees. */
char *registry_url_for_message(const char *url);

DEFINE_CLEANUP_FUNC(struct registry_ctx *, registry_ctx_free)
#define _cleanup_registry_ctx_ _cleanup_(registry_ctx_freep)
