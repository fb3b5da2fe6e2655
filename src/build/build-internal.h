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
};

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
        unsigned next_id;           /* the next "#N" */
        /* the step in progress */
        unsigned step_id;
        double step_start;
        const char *stage_label; /* "build", "stage-0", or NULL with a single stage */
        size_t step_no, n_steps;
        enum compress_type compression; /* of new layers, from o->compression */
        int64_t epoch;                  /* SOURCE_DATE_EPOCH, or -1 */
        char *epoch_time;               /* it as RFC 3339, or NULL */
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

/* Report EV through the callback. */
void build_emit(struct builder *b, enum build_event_kind kind, const char *text);

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

/* Steps that make a layer. */
int build_step_run(struct builder *b, struct build_state *st,
                   const struct dockerfile_instruction *in, struct st_error **err);
int build_step_copy(struct builder *b, struct build_state *st,
                    const struct dockerfile_instruction *in, struct st_error **err);

/* Steps that only change the config. */
int build_step_config(struct builder *b, struct build_state *st,
                      const struct dockerfile_instruction *in, struct st_error **err);

/* Commit the upper dir DIR/upper as ST's next layer, compressed as --compression says, cached
 * under build_layer_key(KEY, compression), which becomes ST's running key. */
int build_commit_upper(struct builder *b, struct build_state *st, const char *dir, const char *key,
                       const char *created_by, struct st_error **err);

/* Look build_layer_key(KEY, compression) up in the cache (unless --no-cache); on a hit add the
 * layer to ST and report CACHED. Returns 1 on a hit. */
int build_cache_try(struct builder *b, struct build_state *st, const char *key,
                    const char *created_by, struct st_error **err);

/* Start reporting a step NAME ("RUN make"). */
void build_step_begin(struct builder *b, const char *name);

/* The arguments of IN, each word expanded with ST's scope; caller frees. */
int build_expand_args(const struct builder *b, const struct build_state *st,
                      const struct dockerfile_instruction *in, char ***ret, struct st_error **err);

/* The stage's SHELL, default ["/bin/sh", "-c"]; caller frees. */
char **build_shell(const struct build_state *st);

/* qsort comparator for char * elements. */
int build_strcmp_ptr(const void *a, const void *b);
