/* Internals of src/store shared between its files. */
#pragma once

#include <sqlite3.h>

#include "store/store.h"

struct store {
        char *root;
        int root_fd;
        sqlite3 *db;
        int lock_fd;    /* ROOT/lock, flocked by store_lock */
        int lock_mode;  /* 0 none, LOCK_SH, LOCK_EX */
        char *tmp_path; /* this process's staging dir, or NULL */
        int tmp_lock_fd;
        struct db_stmt *stmts; /* prepared statements kept for reuse (db_prepare) */
        size_t n_stmts;
};

/* Give back a statement from db_prepare: a cached one is reset for the next db_prepare of
 * its SQL, any other finalized. */
void db_stmt_release(sqlite3_stmt *st);

DEFINE_CLEANUP_FUNC(sqlite3_stmt *, db_stmt_release)
#define _cleanup_stmt_ _cleanup_(db_stmt_releasep)

/* Open and migrate the database at ROOT/strata.db. */
int db_open(struct store *s, struct st_error **err);

/* Finalize S's cached statements and close its connection. */
void db_close(struct store *s);

/* Prepare SQL on S's connection; ST_E_CORRUPT-ish errors carry sqlite's message. The
 * statement is released with db_stmt_release (_cleanup_stmt_): statements are cached per
 * connection by their SQL text, so the next db_prepare of the same SQL costs no parsing
 * (~10 µs each, ~120 per cached rebuild). */
int db_prepare(struct store *s, const char *sql, sqlite3_stmt **ret, struct st_error **err);

/* Whether S's commits wait for the disk from now on: true is SQLite's synchronous=FULL (the
 * default), false NORMAL (in WAL mode still atomic and ordered, only not durable across a power
 * loss), for bookkeeping a crash may lose. */
void db_set_durable(struct store *s, bool durable);

/* Execute SQL with no results. */
int db_exec(struct store *s, const char *sql, struct st_error **err);

/* Step a statement that returns no rows (SQLITE_DONE expected). */
int db_step_done(struct store *s, sqlite3_stmt *st, struct st_error **err);

/* Bind a text parameter (NULL binds SQL NULL). */
void db_bind_text(sqlite3_stmt *st, int idx, const char *v);

/* A copy of column COL as text, or NULL; caller frees. */
char *db_column_strdup(sqlite3_stmt *st, int col);

/* Query a single-column list of strings: SQL with at most one text parameter ARG. */
int db_query_strv(struct store *s, const char *sql, const char *arg, char ***ret,
                  struct st_error **err);

/* Called by db_query_each for every row of a query; < 0 stops it. */
typedef int (*db_row_fn)(struct store *s, sqlite3_stmt *st, void *userdata, struct st_error **err);

/* Run SQL (at most one text parameter ARG) and call ROW for each result row; WHAT names the
 * query in errors. */
int db_query_each(struct store *s, const char *sql, const char *arg, db_row_fn row, void *userdata,
                  const char *what, struct st_error **err);

/* The error for a failed sqlite call on S. */
int db_error(struct store *s, int rc, const char *what, struct st_error **err);

/* Remove the dir or file at ABS_PATH by renaming it into the staging dir first (atomic as seen
 * from the store), then deleting it. */
int store_remove_path(struct store *s, const char *abs_path, struct st_error **err);

/* Remove the directory ABS_PATH (a staged copy the store does not need: the same layer was
 * already there) without waiting: it is moved to a staging dir of its own, tmp/<id>/, which a
 * detached child process deletes while it holds tmp/<id>.lock. If that child dies, the next
 * store open removes the rest, like any staging dir of a dead process. Deleting a big tree can
 * take minutes where every freed block is discarded at once (ext4 mounted with `discard`, as
 * here). Falls back to removing it at once. */
void store_remove_later(struct store *s, const char *abs_path);

/* gc's sweep of stale partial downloads (partial.c). */
int store_partial_gc(struct store *s, struct store_gc_stats *stats);

/* Call F for each entry name of ROOT/SUBDIR (not hidden ones); stops at F's first error. */
int store_for_each_entry(struct store *s, const char *subdir,
                         int (*f)(struct store *s, const char *name, void *u), void *u);

/* The OCI manifest (compact JSON) of a config and the layer blobs LAYERS[0..N); caller frees. */
char *store_oci_manifest(const char *config_digest, size_t config_size,
                         const struct store_layer_result *layers, size_t n);

/* Store the config CFG and manifest MAN (NULL: an OCI manifest is made from LAYERS) as blobs
 * and record the image whose committed layers are LAYERS[0..N), tagged TAGS; its ID goes into
 * RET_ID (DIGEST_STR_LEN + 1). CREATED is the config's RFC 3339 time, or NULL. */
int store_image_commit(struct store *s, const char *cfg, size_t cfg_len, const char *created,
                       const char *man, size_t man_len, const char *man_type,
                       const struct store_layer_result *layers, size_t n, char **tags, char *ret_id,
                       struct st_error **err);
