/* strata build: execute a Dockerfile's plan against a context into an image, one layer per
 * RUN, COPY and ADD, with a layer cache keyed on each step's inputs. The library does not
 * print: progress and step output go through a callback. docs/build.md has the rules. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "basic/error.h"
#include "compress/compress.h"
#include "digest/digest.h"

struct store;

enum build_event_kind {
        BUILD_EVENT_STEP,    /* a step starts: ID, NAME */
        BUILD_EVENT_CACHED,  /* the step was found in the cache: ID */
        BUILD_EVENT_OUTPUT,  /* one line of the step's output: ID, ELAPSED, TEXT */
        BUILD_EVENT_DONE,    /* the step finished: ID, ELAPSED */
        BUILD_EVENT_ERROR,   /* the step failed: ID, ELAPSED */
        BUILD_EVENT_WARNING, /* TEXT */
        BUILD_EVENT_EXPLAIN, /* --explain: one reason (TEXT) why the step ID missed the cache */
};

struct build_event {
        enum build_event_kind kind;
        unsigned id;      /* BuildKit's "#N" */
        const char *name; /* "[build 2/4] RUN make" */
        const char *text;
        double elapsed; /* seconds since the step started */
};

typedef void (*build_progress_fn)(void *userdata, const struct build_event *ev);

/* What build_opts.download reports about a downloaded URL. */
struct build_download {
        char digest[DIGEST_STR_LEN + 1]; /* sha256 of the bytes written */
        uint64_t size;
        int64_t last_modified; /* seconds since the epoch (Last-Modified), or -1 */
};

/* ADD of a URL: GET URL (following redirects) and write the body into FD (an empty regular
 * file in the store's tmp dir), hashing it. A status that is not 2xx fails with a one-line
 * message ("failed to download URL: 404 Not Found"). */
typedef int (*build_download_fn)(void *userdata, const char *url, int fd,
                                 struct build_download *ret, struct st_error **err);

struct build_opts {
        const char *context;         /* the context directory, or NULL: empty */
        const char *dockerfile_name; /* for messages: "Dockerfile" */
        const char *dockerfile_path; /* its path (for NAME.dockerignore), or NULL (stdin) */
        const char *dockerfile;      /* its text */
        size_t dockerfile_len;
        char **build_args;  /* "K=V" or "K" (from ENVP) */
        char **envp;        /* the caller's environment */
        const char *target; /* --target, or NULL */
        bool no_cache;
        char **no_cache_filter; /* stages (names or indexes) built without the cache */
        bool explain;           /* report why each cache miss missed (BUILD_EVENT_EXPLAIN) */
        char **labels;          /* "K=V" */
        char **secrets;         /* --secret: "id=ID[,src=PATH|,env=VAR]" */
        const char *network;    /* "host" (default) or "none" */
        bool allow_insecure;    /* --allow security.insecure: RUN --security=insecure may run */
        const char
                *compression;  /* of the new layers: "gzip" (default, also NULL), "zstd", "none" */
        int compression_level; /* 0: the type's default; gzip 1-9, zstd 1-19 */
        char **tags;           /* fully qualified */
        const char *search_path; /* PATH for the OCI runtime */
        build_progress_fn progress;
        void *progress_data;
        /* Called before a base image (FROM, COPY --from, RUN --mount from=) is looked up, so
         * the caller can pull it (strata build pulls missing images; --pull always); may be
         * NULL. */
        int (*ensure_image)(void *userdata, const char *name, struct st_error **err);
        void *ensure_data;
        build_download_fn download; /* NULL: ADD of a URL fails as unsupported */
        void *download_data;
};

/* Build the image O describes into S; its ID into RET_ID (DIGEST_STR_LEN + 1), tagged with
 * O->tags. A failing RUN is ST_E_RUNTIME with Docker's "process ... did not complete
 * successfully: exit code: N"; a bad Dockerfile ST_E_PARSE with "FILE:LINE:COL: ...". */
int build_image(struct store *s, const struct build_opts *o, char *ret_id, struct st_error **err);

/* ----- pure parts, exposed for tests ----- */

/* Check --compression NAME (NULL: gzip) and --compression-level LEVEL (0: the default; gzip
 * 1-9, zstd 1-19, none takes none); the type into *RET. ST_E_USAGE if bad. */
int build_compression_parse(const char *name, int level, enum compress_type *ret,
                            struct st_error **err);

/* SOURCE_DATE_EPOCH as BuildKit takes it: the last "SOURCE_DATE_EPOCH=N" of BUILD_ARGS (a bare
 * "SOURCE_DATE_EPOCH" takes ENVP's value), else ENVP's (buildx passes the client's variable
 * on). Seconds into *RET; returns 1 when set, 0 when unset or empty, ST_E_USAGE when the value
 * is not a decimal number of seconds. */
int build_source_date_epoch(char *const *build_args, char *const *envp, int64_t *ret,
                            struct st_error **err);

/* The next running cache key: sha256 over PARENT, a separator and each of PARTS (a strv). */
void build_cache_key(const char *parent, char *const *parts, char *ret);

/* The cache key of a layer step whose inputs give KEY, its layer compressed with TYPE at LEVEL
 * (0: default): KEY itself for gzip at its default level, else KEY mixed with the compression,
 * so that a layer compressed one way is never reused for a build asking for another. */
void build_layer_key(const char *key, enum compress_type type, int level, char *ret);

/* BuildKit's history text of RUN: "RUN |2 A=1 B=2 /bin/sh -c make # buildkit" when ARGS (the
 * "K=V" build args in scope) is not empty, else "RUN /bin/sh -c make # buildkit". ARGV is the
 * command after SHELL is applied. Caller frees. */
char *build_run_created_by(char *const *argv, char *const *args);

/* Go's %q of a string slice: ["a" "b c"]; caller frees. */
char *build_go_quote_strv(char *const *l);

/* Go's %v of a string slice: [a b c]; caller frees. */
char *build_go_strv(char *const *l);

/* The stat cache behind build_copy_source.content_hash for the context: files below ROOT
 * (absolute) whose device, inode, size, mtime and ctime match the store's record are not read
 * again. A file changed less than BUILD_STAT_CACHE_RACY_NS before it was hashed is not
 * recorded (it could change again within the clock's granularity). */
struct build_stat_cache {
        struct store *s;
        const char *root;
        uint64_t hits, reads;             /* files answered from the cache, files read */
        struct store_stat_entry *pending; /* records not written yet */
        size_t n_pending;
};

#define BUILD_STAT_CACHE_RACY_NS 50000000LL

/* Write C's pending records to the store in one transaction (a failure only loses them). */
void build_stat_cache_flush(struct build_stat_cache *c);

/* A build_hash_fn (copy.h); USERDATA is a struct build_stat_cache. Its records are written
 * when build_stat_cache_flush is called, or every few hundred files. */
int build_stat_cache_hash(void *userdata, const char *relpath, const struct stat *st, int fd,
                          char *ret_digest, struct st_error **err);
