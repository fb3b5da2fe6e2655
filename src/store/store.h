/* The local store: content-addressed blobs, overlay-ready layer dirs, and the SQLite database
 * of images, tags and layers. Layout (DESIGN.md):
 *   ROOT/strata.db  ROOT/blobs/sha256/<hex>  ROOT/layers/<chainhex>/diff  ROOT/l/<short>
 *   ROOT/tmp/<id>/ (one staging dir per process, locked while it lives; stale ones removed)
 * Files are written to tmp/, fsynced, renamed into place; rows change in one transaction after
 * the files exist. Mutations that add hold the store lock shared; deletions hold it exclusive. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "basic/error.h"
#include "compress/compress.h"
#include "digest/digest.h"

struct store;

/* Open (creating if needed) the store at ROOT; removes stale staging dirs of dead processes.
 * Caller frees with store_close. */
int store_open(const char *root, struct store **ret, struct st_error **err);

/* Close S; NULL-safe; returns NULL. Removes this process's staging dir. */
struct store *store_close(struct store *s);

/* The store's root path (borrowed). */
const char *store_root(const struct store *s);

/* An fd on the root directory (borrowed). */
int store_root_fd(const struct store *s);

/* Take the store lock: shared for operations that only add, exclusive for ones that delete.
 * Blocks until granted. Re-locking changes the mode. */
int store_lock(struct store *s, bool exclusive, struct st_error **err);

/* Release the store lock (no-op if not held). */
void store_unlock(struct store *s);

/* This process's staging directory (absolute path, borrowed), created on first use. */
int store_tmp_dir(struct store *s, const char **ret_path, struct st_error **err);

/* A new empty, uniquely named file or directory in the staging dir, named PREFIX-<random>.
 * *ret_path is absolute and owned by the caller; for files *ret_fd is open O_RDWR. */
int store_tmp_file(struct store *s, const char *prefix, int *ret_fd, char **ret_path,
                   struct st_error **err);
int store_tmp_mkdir(struct store *s, const char *prefix, char **ret_path, struct st_error **err);

/* Run F inside one SQLite transaction (BEGIN IMMEDIATE ... COMMIT; rollback on failure). */
typedef int (*store_txn_fn)(struct store *s, void *userdata, struct st_error **err);
int store_transaction(struct store *s, store_txn_fn f, void *userdata, struct st_error **err);

/* ----- blobs ----- */

/* Absolute path of the blob DIGEST (it may not exist); caller frees. */
char *store_blob_path(const struct store *s, const char *digest);

/* True if the blob file exists. */
bool store_blob_exists(const struct store *s, const char *digest);

/* Move the staged file TMP_PATH (fsynced by this call) into the store as DIGEST. The caller
 * has verified the digest while writing. Existing blobs are kept (TMP_PATH is removed). */
int store_blob_commit(struct store *s, const char *tmp_path, const char *digest,
                      struct st_error **err);

/* Store LEN bytes of BUF as a blob; its digest goes into ret_digest (DIGEST_STR_LEN+1). */
int store_blob_put(struct store *s, const void *buf, size_t len, char *ret_digest,
                   struct st_error **err);

/* Open the blob DIGEST read-only; ST_E_NOT_FOUND if missing. Caller closes *ret_fd. */
int store_blob_open(const struct store *s, const char *digest, int *ret_fd, struct st_error **err);

/* Read the whole blob DIGEST (at most CAP bytes), verifying its digest; caller frees *ret. */
int store_blob_read(const struct store *s, const char *digest, size_t cap, char **ret,
                    size_t *ret_len, struct st_error **err);

/* ----- layers ----- */

struct store_layer {
        char *chain_id;
        char *diff_id;
        char *parent;      /* chain ID of the parent layer, or NULL */
        uint64_t size;     /* bytes of regular files in the layer dir */
        char *tree_digest; /* archive_tree_digest of the dir when it was committed, or NULL */
};

/* The chain ID of DIFF_ID on top of PARENT (NULL for the bottom layer) into RET. */
void store_chain_id(const char *parent, const char *diff_id, char *ret);

/* Absolute path of the layer dir (…/layers/<hex>/diff); caller frees. */
char *store_layer_diff_path(const struct store *s, const char *chain_id);

/* Look up a layer; ST_E_NOT_FOUND if absent. Caller frees with store_layer_free. */
int store_layer_get(struct store *s, const char *chain_id, struct store_layer **ret,
                    struct st_error **err);

/* Move the staged layer STAGING (a dir containing diff/) into place as L->chain_id and record
 * it. If the layer already exists, STAGING is removed and the existing one kept. */
int store_layer_commit(struct store *s, const char *staging, const struct store_layer *l,
                       struct st_error **err);

/* Free L; NULL-safe; returns NULL. */
struct store_layer *store_layer_free(struct store_layer *l);

/* Record that blob DIGEST (MEDIA_TYPE, SIZE bytes) holds the tar whose sha256 is DIFF_ID. */
int store_layer_blob_record(struct store *s, const char *digest, const char *diff_id,
                            const char *media_type, uint64_t size, struct st_error **err);

/* ----- images ----- */

struct store_image {
        char *id;                  /* config digest */
        char *manifest_digest;     /* or NULL */
        char *manifest_media_type; /* or NULL */
        int64_t created;           /* seconds since the epoch, from the config */
        uint64_t size;             /* sum of the layers' sizes */
        char **chain_ids;          /* bottom first */
        char **tags;               /* fully qualified, sorted */
        char **repo_digests;       /* "repo@sha256:…" */
};

/* The blobs an image references (config, manifest, layer blobs). */
struct store_image_new {
        const char *id;
        const char *manifest_digest;
        const char *manifest_media_type;
        int64_t created;
        char **chain_ids; /* bottom first; each must be committed already */
        char **blobs;     /* every blob digest the image needs kept (config, manifest, layers) */
        char **tags;      /* fully qualified refs to point at this image (moved if elsewhere) */
        char **repo_digests;
};

/* Add (or update) an image and point its tags at it, in one transaction. */
int store_image_add(struct store *s, const struct store_image_new *img, struct st_error **err);

/* Find an image by reference (normalized: "busybox" = docker.io/library/busybox:latest), by
 * full ID ("sha256:…" or 64 hex), or by unambiguous ID prefix (>= 1 hex char, Docker-like).
 * ST_E_NOT_FOUND ("No such image: X"), ST_E_AMBIGUOUS. Caller frees with store_image_free. */
int store_image_lookup(struct store *s, const char *name, struct store_image **ret,
                       struct st_error **err);

/* All images, newest first. Caller frees with store_image_list_free. */
int store_image_list(struct store *s, struct store_image ***ret, size_t *ret_n,
                     struct st_error **err);

/* Point the fully qualified REF at image ID (moving it if it pointed elsewhere). */
int store_tag_set(struct store *s, const char *ref, const char *id, struct st_error **err);

/* Remove the tag REF; ST_E_NOT_FOUND if absent. */
int store_tag_remove(struct store *s, const char *ref, struct st_error **err);

/* Delete image ID's row, tags and layer references (files are collected by store_gc). */
int store_image_delete(struct store *s, const char *id, struct st_error **err);

/* Free IMG; NULL-safe; returns NULL. */
struct store_image *store_image_free(struct store_image *img);

/* Free a list from store_image_list. */
void store_image_list_free(struct store_image **l, size_t n);

/* ----- collection, checking, usage ----- */

struct store_gc_stats {
        uint64_t layers_removed, blobs_removed, partials_removed, bytes_freed;
};

/* Remove layers and blobs no image references, and orphaned files; takes the exclusive lock. */
int store_gc(struct store *s, struct store_gc_stats *ret, struct st_error **err);

/* Partial downloads (ROOT/partial/<hex>): the prefix of a blob an interrupted pull received,
 * kept so that the next pull resumes where it stopped. The file is locked while open; gc
 * removes one nobody holds that has not changed for STORE_PARTIAL_MAX_AGE seconds. Its bytes
 * are not trusted: whoever resumes from it verifies the whole blob's digest as usual. */
#define STORE_PARTIAL_MAX_AGE (24 * 60 * 60)
struct store_partial;

/* Open (creating it empty if needed) and lock DIGEST's partial download: 1 and *ret, or 0
 * and *ret = NULL when another process is writing it. */
int store_partial_open(struct store *s, const char *digest, struct store_partial **ret,
                       struct st_error **err);

/* Bytes in the file; its descriptor (for reading it from the start, with pread). */
uint64_t store_partial_size(const struct store_partial *p);
int store_partial_fd(const struct store_partial *p);

/* Empty it (its content was of no use). */
int store_partial_truncate(struct store_partial *p, struct st_error **err);

/* Append N bytes; fdatasync every few MiB, so a crash loses little. */
int store_partial_append(struct store_partial *p, const void *buf, size_t n, struct st_error **err);

/* Unlock and close; REMOVE (or an empty file) deletes it, else it is synced and kept for the
 * next pull. NULL-safe; returns NULL. */
struct store_partial *store_partial_close(struct store_partial *p, bool remove);

/* A problem found by store_check; freed with the report. */
struct store_check_report {
        char **problems; /* one line each, e.g. "blob sha256:… is corrupt (digest mismatch)" */
        char **repaired; /* what --repair did */
        uint64_t blobs_checked, layers_checked, images_checked;
};

/* Verify every blob's digest, every layer dir against its record, every image's references;
 * with REPAIR remove what is broken (corrupt blobs, broken layers and the images using them,
 * orphans). Returns 0 when run (problems are in the report). */
int store_check(struct store *s, bool repair, struct store_check_report *ret,
                struct st_error **err);

/* Release the report's fields. */
void store_check_report_release(struct store_check_report *r);

struct store_df {
        uint64_t images, images_active;          /* images, those with a tag */
        uint64_t layers_size;                    /* sum of the sizes of the images' layers */
        uint64_t reclaimable;                    /* size only dangling images use */
        uint64_t blobs_size;                     /* bytes in blobs/ */
        uint64_t containers, containers_running; /* as recorded (no liveness check) */
        uint64_t containers_size;                /* bytes in the containers' writable layers */
        uint64_t containers_reclaimable;         /* of those, the ones not running */
        uint64_t cache_entries;                  /* build cache rows */
        uint64_t cache_size;                     /* layers only the build cache keeps */
};

/* Disk usage summary for `system df`. */
int store_df(struct store *s, struct store_df *ret, struct st_error **err);

DEFINE_CLEANUP_FUNC(struct store *, store_close)
DEFINE_CLEANUP_FUNC(struct store_image *, store_image_free)
DEFINE_CLEANUP_FUNC(struct store_layer *, store_layer_free)
#define _cleanup_store_       _cleanup_(store_closep)
#define _cleanup_store_image_ _cleanup_(store_image_freep)
#define _cleanup_store_layer_ _cleanup_(store_layer_freep)

/* ----- creating layers from tar streams ----- */

struct store_layer_source {
        struct st_reader *in;         /* the layer's bytes as given (compressed or not) */
        const char *parent;           /* chain ID of the layer below, or NULL */
        const char *expected_digest;  /* if set, IN's bytes must hash to it */
        const char *expected_diff_id; /* if set, the uncompressed tar must hash to it */
        const char *media_type;       /* of IN's bytes when keep_blob; NULL: derived */
        bool keep_blob;               /* store IN's bytes as they are as a blob (load, pull) */
        const char *in_path;          /* with keep_blob: IN reads this file in the store's tmp/,
                                         which is hardlinked into blobs/ instead of copied */
        bool recompress;              /* store a gzip of the tar as the blob (import, build) */
        uint64_t max_bytes;           /* bomb guard on the uncompressed tar (0: default) */
        /* if set, called once everything verified and before anything is named; a negative
         * return (with err set) abandons the layer. Pull uses it to commit layers bottom up
         * while they download in parallel. */
        int (*before_commit)(void *userdata, struct st_error **err);
        void *userdata;
};

struct store_layer_result {
        char chain_id[DIGEST_STR_LEN + 1];
        char diff_id[DIGEST_STR_LEN + 1];
        char digest[DIGEST_STR_LEN + 1]; /* of the stored blob ("" if none was stored) */
        char media_type[80];             /* of the stored blob */
        uint64_t blob_size;
        uint64_t size; /* bytes of regular files in the layer */
};

/* The process-wide cap on a layer's uncompressed tar when a source sets none: BYTES (0 restores
 * the default, 64 GiB). Also caps the unpacked archive of store_load. The CLI sets it from
 * STRATA_MAX_LAYER_SIZE. */
void store_set_max_layer_bytes(uint64_t bytes);

/* The cap store_set_max_layer_bytes set, or the default. */
uint64_t store_max_layer_bytes(void);

/* Stream SRC->in in one pass: verify, decompress, hash, (re)compress into a blob, and apply the
 * tar into a staging layer dir that is then committed as a layer. Holds the store lock shared.
 * Nothing is named unless every digest matched; on failure the staging files are removed. */
int store_layer_create(struct store *s, const struct store_layer_source *src,
                       struct store_layer_result *ret, struct st_error **err);

/* ----- import ----- */

struct store_import_opts {
        char **changes;      /* Dockerfile-style changes (--change) */
        const char *message; /* history comment (-m); default "Imported from SOURCE" */
        const char *source;  /* "-" for stdin, else the file name */
        char **tags;         /* fully qualified references to tag the image with */
};

/* Import a rootfs tarball (plain, gzip or zstd) from IN as a one-layer image; the image ID
 * goes into ret_id (DIGEST_STR_LEN + 1). */
int store_import(struct store *s, struct st_reader *in, const struct store_import_opts *opts,
                 char *ret_id, struct st_error **err);

/* ----- save and load ----- */

/* Write the images NAMES (references or IDs) to OUT as one tar that is both an OCI image layout
 * (oci-layout, index.json, blobs/sha256/…) and a docker-archive (manifest.json), streaming each
 * blob from the store. */
int store_save(struct store *s, char **names, struct st_writer *out, struct st_error **err);

struct store_loaded {
        char *id;    /* image ID */
        char **tags; /* fully qualified tags it was loaded with */
};

/* Load every image of the archive IN (OCI layout or docker-archive; plain, gzip or zstd):
 * verify every blob against its digest and every layer against its diff ID, store them, tag the
 * images. Returns the images in *ret (caller frees with store_loaded_free). Nothing is tagged
 * unless everything of that image verified. */
int store_load(struct store *s, struct st_reader *in, struct store_loaded **ret, size_t *ret_n,
               struct st_error **err);

/* Free a list from store_load. */
void store_loaded_free(struct store_loaded *l, size_t n);

/* Turn the directory DIR (an overlay upper dir or any tree inside the store root's filesystem)
 * into a layer on top of PARENT without re-extracting it: the tree is written once as a tar
 * stream (overlay whiteouts → .wh. entries) → sha256 (diff ID) → TYPE at LEVEL (0: the type's
 * default, see compress_writer_new) → sha256 (blob), then DIR itself is renamed into the layer
 * store. The blob's media type follows TYPE (tar+gzip, tar+zstd, tar). DIR is gone afterwards,
 * whatever the result. */
int store_layer_from_dir(struct store *s, const char *dir, const char *parent,
                         enum compress_type type, int level, struct store_layer_result *ret,
                         struct st_error **err);

/* store_layer_from_dir with SOURCE_DATE_EPOCH: EPOCH >= 0 clamps mtimes after it to it, in
 * the tar and in DIR (archive_layer_write_clamped); EPOCH < 0 is store_layer_from_dir. */
int store_layer_from_dir_clamped(struct store *s, const char *dir, const char *parent,
                                 enum compress_type type, int level, int64_t epoch,
                                 struct store_layer_result *ret, struct st_error **err);

/* ----- containers -----
 * A container is a row (its run configuration as JSON, its state) and a directory
 * ROOT/containers/<id>/ holding upper/ and work/ (the writable layer), merged/ (the mounted
 * rootfs while it runs) and what the runtime writes there (bundle config.json, log, hosts...).
 * The container's layers (the image's chain IDs) are recorded with it, so the layers stay while
 * the container exists even if its image is removed with -f. */

enum store_container_state {
        STORE_CONTAINER_CREATED,
        STORE_CONTAINER_RUNNING,
        STORE_CONTAINER_EXITED,
        _STORE_CONTAINER_STATE_MAX,
        _STORE_CONTAINER_STATE_INVALID = -EINVAL,
};

/* "created", "running", "exited" (Docker's State.Status names). */
const char *store_container_state_to_string(enum store_container_state s);
enum store_container_state store_container_state_from_string(const char *s);

struct store_container {
        char *id;         /* 64 lower-case hex */
        char *name;       /* without Docker's leading '/' */
        char *image_id;   /* "sha256:…" */
        char *image_name; /* the image as the user named it ("busybox") */
        char *config;     /* JSON text: the run configuration (owned by the runtime layer) */
        char **chain_ids; /* the rootfs layers, bottom first */
        int64_t created;  /* ns since the epoch */
        enum store_container_state state;
        int pid;            /* the container's init process (host PID) while running, or 0 */
        uint64_t pid_start; /* its start time (/proc/PID/stat field 22), against PID reuse */
        int monitor_pid;    /* the process that waits for it and records its exit, or 0 */
        uint64_t monitor_start;
        int exit_code;
        char *error;         /* why it failed to start, or why its status is unknown; or NULL */
        int64_t started_at;  /* ns since the epoch, 0 if never */
        int64_t finished_at; /* ns since the epoch, 0 if never */
};

struct store_container_new {
        const char *name; /* NULL: a random Docker-style "adjective_surname" */
        const char *image_id;
        const char *image_name;
        const char *config;
        char **chain_ids;
        int monitor_pid; /* the process that owns it from its creation (a build), or 0 */
        uint64_t monitor_start;
        bool ephemeral; /* removed when it ends (run --rm, a build's RUN): its creation is
                           atomic but not waited for on disk, it means nothing after a crash */
};

/* Create a container: its directory (upper/, work/, merged/) staged in tmp/ and renamed into
 * containers/<id>/, then its row and layer references in one transaction. Takes the store lock
 * shared and leaves it held (the caller unlocks once it no longer needs the image). A taken name is
 * ST_E_IN_USE with Docker's "Conflict. The container name …" message; an invalid one ST_E_USAGE.
 * Caller frees *ret with store_container_free. */
int store_container_create(struct store *s, const struct store_container_new *n,
                           struct store_container **ret, struct st_error **err);

/* Find a container by full ID, by name (with or without a leading '/'), or by unambiguous ID
 * prefix, in that order. ST_E_NOT_FOUND ("No such container: X"), ST_E_AMBIGUOUS. Caller
 * frees *ret with store_container_free. */
int store_container_lookup(struct store *s, const char *name, struct store_container **ret,
                           struct st_error **err);

/* All containers, newest first. Caller frees with store_container_list_free. */
int store_container_list(struct store *s, struct store_container ***ret, size_t *ret_n,
                         struct st_error **err);

/* Write C's state fields (state, pids and their start times, exit code, error, started and
 * finished times) to its row. ST_E_NOT_FOUND if the container is gone. */
int store_container_update(struct store *s, const struct store_container *c, struct st_error **err);

/* Delete container ID: its row (and layer references) in one transaction, then its directory.
 * Refuses with ST_E_IN_USE while merged/ is still a mount point. A missing container is not
 * an error (two removers may race). */
int store_container_delete(struct store *s, const char *id, struct st_error **err);

/* store_container_delete for an ephemeral container (run --rm, a build's RUN) as it ends: the
 * transaction is atomic but not waited for on disk. */
int store_container_delete_ephemeral(struct store *s, const char *id, struct st_error **err);

/* Absolute path of container ID's directory (it may not exist); caller frees. */
char *store_container_dir(const struct store *s, const char *id);

/* IDs of the containers created from image ID, and how many of them are running (by their
 * recorded state). Caller frees *ret_ids. */
int store_image_containers(struct store *s, const char *image_id, char ***ret_ids,
                           size_t *ret_running, struct st_error **err);

/* The short link of layer CHAIN_ID, relative to the store root ("l/<16 hex>"); overlay mounts
 * use it where the kernel needs the whole option string short. Caller frees. */
char *store_layer_link_name(const char *chain_id);

/* Rename container ID to NAME (Docker's name rules; a leading '/' is dropped). ST_E_IN_USE if
 * another container has the name, ST_E_USAGE if it is invalid or already the container's. */
int store_container_rename(struct store *s, const char *id, const char *name,
                           struct st_error **err);

/* What `commit` records: the layer's content and what the new image's config takes. */
struct store_commit_opts {
        const char *dir;        /* the new layer's content (an overlay upper dir), left as is */
        const char *image_id;   /* the image the layer goes on top of */
        const char *config;     /* JSON object whose Cmd, Env, … replace the image's, or NULL */
        char **changes;         /* Dockerfile-style changes (-c), applied after CONFIG */
        const char *comment;    /* the history entry's comment (-m), or NULL */
        const char *author;     /* -a, or NULL */
        const char *created_by; /* the history entry's created_by */
        char **tags;            /* fully qualified references to tag the image with */
};

/* Make image O->image_id plus a copy of O->dir as its top layer (written as a tar with
 * whiteouts, stored as a gzip blob and applied into a new layer dir), with the config changed
 * as O says; its ID into RET_ID (DIGEST_STR_LEN + 1). */
int store_commit(struct store *s, const struct store_commit_opts *o, char *ret_id,
                 struct st_error **err);

/* Free C; NULL-safe; returns NULL. */
struct store_container *store_container_free(struct store_container *c);

/* Free a list from store_container_list. */
void store_container_list_free(struct store_container **l, size_t n);

DEFINE_CLEANUP_FUNC(struct store_container *, store_container_free)
#define _cleanup_store_container_ _cleanup_(store_container_freep)

/* ----- what pull and push learn about registries (remote.c) ----- */

/* Remember that blob DIGEST exists in REPOSITORY ("library/busybox") of REGISTRY (a reference
 * domain, "docker.io"), so a later push to another repository there can mount it. */
int store_blob_source_add(struct store *s, const char *digest, const char *registry,
                          const char *repository, struct st_error **err);

/* The repositories of REGISTRY known to hold DIGEST, most recently seen first (at most 8);
 * *ret is NULL when none. Caller frees with strv_free. */
int store_blob_sources(struct store *s, const char *digest, const char *registry, char ***ret,
                       struct st_error **err);

/* Add the repo digest NAME ("docker.io/library/busybox@sha256:…") to image ID. */
int store_repo_digest_add(struct store *s, const char *name, const char *id, struct st_error **err);

/* An image fetched from a registry: the config and manifest as they were served (verified by
 * the caller) and its layers, committed already (LAYERS[i].digest names each layer's blob). */
struct store_pulled_image {
        const char *config;
        size_t config_len;
        const char *created; /* the config's RFC 3339 time, or NULL */
        const char *manifest;
        size_t manifest_len;
        const char *manifest_media_type;
        const struct store_layer_result *layers;
        size_t n_layers;
        char **tags;         /* fully qualified tags to point at the image */
        char **repo_digests; /* "repo@sha256:…" of what the reference resolved to */
};

/* Store IMG's config and manifest as blobs and record the image, its tags and repo digests in
 * one transaction; its ID goes into RET_ID (DIGEST_STR_LEN + 1). */
int store_image_commit_pulled(struct store *s, const struct store_pulled_image *img, char *ret_id,
                              struct st_error **err);

/* ----- the build cache (cache.c) ----- */

/* A build cache entry: the layer a step made (LAYER.chain_id empty for an image entry) or the
 * image a whole build made (IMAGE_ID), with the history time and text of the step. */
struct store_cache_entry {
        struct store_layer_result layer;
        char created[64];                  /* RFC 3339, or "" */
        char image_id[DIGEST_STR_LEN + 1]; /* or "" */
        int64_t used;                      /* last use (Unix seconds), as read */
};

/* Look up the cache entry KEY into *RET: 1 if found (and its layer and blob, or its image,
 * still exist), 0 if not (*RET untouched). */
int store_build_cache_get(struct store *s, const char *key, struct store_cache_entry *ret,
                          struct st_error **err);

/* Record E under KEY (replacing an older entry), with CREATED_BY for the history. */
int store_build_cache_put(struct store *s, const char *key, const struct store_cache_entry *e,
                          const char *created_by, struct st_error **err);

/* The record of the build step STEP (an opaque identity: Dockerfile, stage, instruction):
 * the cache key it last had into *RET_KEY and the description of its inputs then into
 * *RET_INPUTS (both caller-owned): 1 if found, 0 if not. */
int store_build_step_get(struct store *s, const char *step, char **ret_key, char **ret_inputs,
                         struct st_error **err);

/* A build's use of the cache: the entry KEY was hit or made (its last use becomes now); with
 * STEP and INPUTS, the step's record becomes KEY and INPUTS. */
struct store_build_use {
        const char *key;
        const char *step;   /* or NULL */
        const char *inputs; /* or NULL */
};

/* Record the uses U[0..N) in one transaction (one sync for a whole build). */
int store_build_cache_use(struct store *s, const struct store_build_use *u, size_t n,
                          struct st_error **err);

/* The build's stat cache. Into RET_DIGEST (DIGEST_STR_LEN + 1) the content digest recorded
 * for the file PATH (absolute) if ST (its lstat) has the recorded device, inode, size, mtime
 * and ctime: 1 on a hit, 0 on a miss. */
int store_stat_cache_get(struct store *s, const char *path, const struct stat *st, char *ret_digest,
                         struct st_error **err);

/* One stat cache record: DIGEST is the content of PATH (absolute) as its lstat ST described it. */
struct store_stat_entry {
        char *path;
        struct stat st;
        char digest[DIGEST_STR_LEN + 1];
};

/* Record the entries E[0..N) (replacing what was there for their paths) in one transaction that
 * is atomic but not waited for on disk: a cache, a crash only costs reads. */
int store_stat_cache_put(struct store *s, const struct store_stat_entry *e, size_t n,
                         struct st_error **err);

/* Where RUN --mount=type=cache dirs live (ROOT/cache/mounts, one dir per id); caller frees. */
char *store_cache_mounts_dir(struct store *s);

/* Drop every build cache entry, step record, the stat cache and the cache mount dirs; the
 * entries' count into *RET_N (may be NULL). store_gc then frees the layers and blobs nothing
 * else uses. */
int store_build_cache_prune(struct store *s, uint64_t *ret_n, struct st_error **err);

/* The build cache's exclusive storage: the bytes (unpacked, as system df counts them) of the
 * layers only build cache entries keep alive (with the layers below them), not an image or a
 * container. */
int store_build_cache_size(struct store *s, uint64_t *ret_bytes, struct st_error **err);

/* Which entries store_build_cache_trim drops: those last used before UNTIL (Unix seconds; 0:
 * any), and of those only the least recently used ones until the exclusive storage is at most
 * KEEP_BYTES (-1: no size goal, drop them all). */
struct store_cache_trim {
        int64_t until;
        int64_t keep_bytes;
};

/* Drop the entries T selects (taking the exclusive lock); their count into *RET_N (may be
 * NULL). Step records stay (explain can still say the entry was evicted). store_gc then frees
 * the layers. */
int store_build_cache_trim(struct store *s, const struct store_cache_trim *t, uint64_t *ret_n,
                           struct st_error **err);

/* Record the image made of config CFG (CFG_LEN bytes, CREATED its RFC 3339 time) and the
 * committed layers LAYERS[0..N) with an OCI manifest, tagged TAGS; its ID into RET_ID
 * (DIGEST_STR_LEN + 1). */
int store_image_create(struct store *s, const char *cfg, size_t cfg_len, const char *created,
                       const struct store_layer_result *layers, size_t n, char **tags, char *ret_id,
                       struct st_error **err);
