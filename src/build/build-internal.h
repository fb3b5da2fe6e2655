/* Internals of the builder shared between its files. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "build/build.h"
#include "build/copy.h"
#include "dockerfile/dockerfile.h"
#include "dockerfile/expand.h"
#include "dockerfile/ignore.h"
#include "dockerfile/plan.h"
#include "image/config.h"
#include "store/store.h"

/* The image name recorded for RUN containers (runtime_container_reap finds a killed build's). */
#define BUILD_CONTAINER_IMAGE "strata-build"

/* What a stage has built so far. */
struct build_state {
        struct image_config *cfg;
        struct store_layer_result *layers; /* bottom first */
        size_t n_layers;
        char key[DIGEST_STR_LEN + 1]; /* the running cache key */
        char **args;                  /* "K=V" of the ARGs in scope, declaration order */
        bool done;
        /* for the step records (explain.c) */
        char *base;      /* "FROM busybox sha256:…", "FROM scratch" */
        char **trail;    /* config steps folded into KEY since the last layer step */
        char *last_step; /* the label of the last layer step, or NULL */
        bool last_ran;   /* that step ran (a cache miss) */
};

/* A use of the cache to record at the end of the build (store_build_cache_use). */
struct build_use {
        char *key, *step, *inputs;
};

struct build_shared;

/* One per thread: a stage's dependencies that do not depend on each other are built by
 * threads of their own, each with a copy of the builder (its own store handle, step fields);
 * what they share is behind SH. */
struct builder {
        struct store *s;
        const struct build_opts *o;
        struct dockerfile *df;
        struct dockerfile_plan *plan;
        struct dockerfile_ignore *ignore;
        int context_fd;
        char *context_real; /* the context's absolute path, or NULL (stdin) */
        struct build_stat_cache stat_cache;
        struct build_state *states; /* one per stage */
        struct build_shared *sh;    /* stage status, "#N" counter, locks */
        /* the step in progress */
        unsigned step_id;
        double step_start;
        const char *stage_label; /* "build", "stage-0", or NULL with a single stage */
        size_t step_no, n_steps;
        enum compress_type compression; /* of new layers, from o->compression */
        int64_t epoch;                  /* SOURCE_DATE_EPOCH, or -1 */
        char *epoch_time;               /* it as RFC 3339, or NULL */
        /* the cache */
        bool *no_cache_stages; /* --no-cache-filter, one per stage */
        size_t stage;          /* the stage being built */
        char *df_ident;        /* the Dockerfile's identity in step records */
        char *step_ident;      /* the current step's identity, or NULL */
        char *step_label;      /* the current step's "[build 2/4] RUN make" */
        json_t *pending;       /* the inputs of the step that missed, for build_commit_upper */
        char **explained;      /* the --explain lines told so far */
        struct build_use *uses;
        size_t n_uses;
};

/* A step's instruction, expanded as the builder needs it. */
struct build_step {
        const struct dockerfile_instruction *in;
        char **words; /* the expanded arguments (exec form, or words) */
};

/* Seconds on a monotonic clock. */
double build_now(void);

/* The time of a new history entry or config: SOURCE_DATE_EPOCH if set, else now; caller
 * frees. */
char *build_time_now(const struct builder *b);

/* Report EV through the callback (one call at a time across threads). */
void build_emit(struct builder *b, enum build_event_kind kind, const char *text);

/* The caller's download hook, one call at a time across threads; ST_E_UNSUPPORTED without. */
int build_download_url(struct builder *b, const char *url, int fd, struct build_download *ret,
                       struct st_error **err);

/* The value of NAME in ST's scope: ENV first, then ARGs in scope; NULL if unset. */
const char *build_state_lookup(const struct build_state *st, const char *name);

/* Expand WORD with ST's scope; caller frees *RET. */
int build_expand(const struct builder *b, const struct build_state *st, const char *word,
                 char **ret, struct st_error **err);

/* The config's Env as a strv (caller frees). */
char **build_state_env(const struct build_state *st);

/* Add a layer (from a step or the cache) to ST with its history entry. */
void build_state_add_layer(struct build_state *st, const struct store_layer_result *l,
                           const char *created, const char *created_by);

/* Mount ST's layers under a fresh overlay in the store's tmp dir: *RET_DIR holds upper/,
 * work/ and merged/ (mounted). The caller unmounts merged and removes the dir. */
int build_mount_state(struct builder *b, const struct build_state *st, char **ret_dir,
                      struct st_error **err);

/* Mount the context read-only under a fresh overlay like build_mount_state (writes are
 * thrown away with it). */
int build_mount_context(struct builder *b, char **ret_dir, struct st_error **err);

/* Fill SRC's exclude (.dockerignore) and content_hash (the stat cache) for the context. */
void build_copy_source_init_context(struct builder *b, struct build_copy_source *src);

/* Unmount DIR/merged and remove DIR, except DIR/upper when KEEP_UPPER. */
void build_unmount_state(const char *dir, bool keep_upper);

/* Free ST's fields. */
void build_state_release(struct build_state *st);

/* Load the local image NAME (reference or ID) into ST: config, layers, key. */
int build_state_from_image(struct builder *b, const char *name, struct build_state *st,
                           struct st_error **err);

/* The state NAME names for --from or a mount's from=: a stage (borrowed), else a local image
 * loaded into OWNED (zeroed by the caller, released by it). */
int build_from_ref(struct builder *b, const char *name, const struct build_state **ret,
                   struct build_state *owned, struct st_error **err);

/* RUN --mount: what the throw-away container gets besides its rootfs. */
struct build_mounts {
        struct run_mount *list;
        size_t n;
        char **key_parts; /* declared parameters and bind source digests, never secrets */
        char **binds;     /* "HOST:CTR[:ro]" */
        char **tmpfs;     /* "CTR[:OPTIONS]" */
        char **env;       /* secrets with env=: "K=V", only for the container */
        char **targets;   /* absolute targets, whose stubs are removed from the upper dir */
        char **tmp_dirs;  /* removed by build_mounts_release */
        char **overlays;  /* build_mount_state dirs, unmounted by build_mounts_release */
        int *locks;       /* flock()ed cache dirs */
        size_t n_locks;
};

/* Parse IN's --mount flags into M and their key parts (no side effects). */
int build_mounts_parse(struct builder *b, struct build_state *st,
                       const struct dockerfile_instruction *in, struct build_mounts *m,
                       struct st_error **err);

/* Make the mounts' sources (cache dirs, secret files, bind overlays) into M's binds/tmpfs/env. */
int build_mounts_setup(struct builder *b, struct build_state *st, struct build_mounts *m,
                       struct st_error **err);

/* Undo build_mounts_setup and free M. */
void build_mounts_release(struct build_mounts *m);

/* ----- file-src.c: heredoc and URL sources of COPY/ADD ----- */

/* A COPY/ADD source the builder writes itself: one file alone in its own dir (store tmp). */
struct build_file_src {
        char *url;            /* ADD URL, or NULL for a heredoc */
        char *name;           /* the file's name: the URL path's base name, or the heredoc's */
        char *dir;            /* its dir once made, else NULL */
        int dir_fd;           /* ... open, or -1 */
        const char *checksum; /* --checksum "sha256:<hex>" (borrowed), or NULL */
        bool ready;           /* written (a URL: downloaded and verified) */
};

/* True if S is an http:// or https:// URL (BuildKit's isHTTPSource). */
bool build_is_url(const char *s);

/* True if S names a git repository (git://, git@, ssh://, or a URL ending in .git). */
bool build_is_git_source(const char *s);

/* The name an ADD URL lands under: the base name of its (decoded) path, else "__unnamed__"
 * (BuildKit's rule). Caller frees. */
char *build_url_file_name(const char *url);

/* URL without user info and query string, for messages; caller frees. */
char *build_url_for_message(const char *url);

/* URL with its credentials masked, for the history: "user:pass@" becomes "user:xxxxx@" (as Go's
 * URL.Redacted), a lone "token@" becomes "xxxxx@"; caller frees. */
char *build_url_redacted(const char *url);

/* Write heredoc H (expanded with ST's scope unless its word was quoted) as the file H->name,
 * mode 0644, in a new dir; *F is released by build_file_src_release even on failure. */
int build_file_src_heredoc(struct builder *b, const struct build_state *st,
                           const struct dockerfile_heredoc *h, struct build_file_src *f,
                           struct st_error **err);

/* Set *F up for URL (nothing downloaded yet); CHECKSUM borrowed, may be NULL. */
void build_file_src_url(const char *url, const char *checksum, struct build_file_src *f);

/* Download F's URL (once) through build_opts.download into its file (mode 0600, mtime from
 * Last-Modified), checking --checksum before the file is used: ST_E_DIGEST_MISMATCH. */
int build_file_src_fetch(struct builder *b, struct build_file_src *f, struct st_error **err);

/* Remove F's dir and free its fields. */
void build_file_src_release(struct build_file_src *f);

/* Steps that make a layer. */
int build_step_run(struct builder *b, struct build_state *st,
                   const struct dockerfile_instruction *in, struct st_error **err);
int build_step_copy(struct builder *b, struct build_state *st,
                    const struct dockerfile_instruction *in, struct st_error **err);

/* Steps that only change the config. */
int build_step_config(struct builder *b, struct build_state *st,
                      const struct dockerfile_instruction *in, struct st_error **err);

/* Commit the upper dir DIR/upper as ST's next layer, compressed as --compression says, cached
 * under build_layer_key(KEY, compression), which becomes ST's running key, and also under
 * build_layer_key(LINK_KEY, compression) when LINK_KEY is not NULL (COPY --link). */
int build_commit_upper(struct builder *b, struct build_state *st, const char *dir, const char *key,
                       const char *link_key, const char *created_by, struct st_error **err);

/* Look build_layer_key(KEY, compression) up in the cache (unless --no-cache or the stage is
 * in --no-cache-filter); a hit counts only if its layer sits on ST's top layer. On a miss with
 * LINK_KEY (COPY --link, else NULL), look the base-independent build_layer_key(LINK_KEY,
 * compression) up: a hit puts that layer's blob on ST's top layer (re-applied under the new
 * parent when the base differs) and records it under KEY. On a hit add the layer to ST and
 * report CACHED; on a miss explain it (--explain). INPUTS (stolen) describe the step for its
 * record (build_inputs_new). Returns 1 on a hit. */
int build_cache_try(struct builder *b, struct build_state *st, const char *key,
                    const char *link_key, const char *created_by, json_t *inputs,
                    struct st_error **err);

/* Whether the cache is off for the stage being built (--no-cache, --no-cache-filter). */
bool build_cache_off(const struct builder *b);

/* ----- step records and --explain (explain.c) ----- */

/* The inputs of ST's next layer step as a JSON object (caller owns): the parent key, base,
 * config steps since the last layer step, args, env, user, workdir, compression and TEXT
 * (the instruction); the step adds its own fields ("network", "mounts", "files"). */
json_t *build_inputs_new(const struct builder *b, const struct build_state *st, const char *text);

/* Add the entry SRC/META/DIGEST (build_copy_entry_fn) to INPUTS' "files" (USERDATA), at most
 * BUILD_INPUTS_FILES_MAX of them and none with a path over BUILD_INPUTS_PATH_MAX bytes (the
 * record stays small); "nfiles" counts them all. */
void build_inputs_add_file(void *userdata, const char *src, const char *meta, const char *digest);

#define BUILD_INPUTS_FILES_MAX 4096
#define BUILD_INPUTS_PATH_MAX  512

/* Why a step with inputs CUR missed, compared with the inputs PREV of its last earlier build
 * (NULL: none): one line each, at most BUILD_EXPLAIN_FILES_MAX about files. LAST_STEP and
 * LAST_RAN describe the layer step above it in this build. Caller frees. */
char **build_explain_diff(const json_t *prev, const json_t *cur, const char *last_step,
                          bool last_ran);

#define BUILD_EXPLAIN_FILES_MAX 10

/* Whether an explain LINE is about a cause that reaches every later step (a build arg, env,
 * the base): a step whose parent was rebuilt does not repeat it. */
bool build_explain_shared(const char *line);

/* Whether a cache entry last used at USED (Unix seconds) should have its last use updated
 * on a hit: not when it was used this second or the one before, so that quick rebuilds
 * write nothing (a write costs a few syncs of the database). */
bool build_use_stale(int64_t used);

/* Queue the record of a cache use (KEY, the current step, INPUTS or NULL). */
void build_use_add(struct builder *b, const char *key, const char *inputs);

/* Reset ST's trail after a layer step labelled LABEL (RAN: it was a cache miss). */
void build_state_stepped(struct build_state *st, const char *label, bool ran);

/* Start reporting a step NAME ("RUN make"). */
void build_step_begin(struct builder *b, const char *name);

/* The arguments of IN, each word expanded with ST's scope; caller frees. */
int build_expand_args(const struct builder *b, const struct build_state *st,
                      const struct dockerfile_instruction *in, char ***ret, struct st_error **err);

/* The stage's SHELL, default ["/bin/sh", "-c"]; caller frees. */
char **build_shell(const struct build_state *st);

/* qsort comparator for char * elements. */
int build_strcmp_ptr(const void *a, const void *b);
