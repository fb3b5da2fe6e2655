/* The build cache table: step keys to layers, build keys to images. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "store/store-internal.h"

static void copy_col(sqlite3_stmt *st, int col, char *dst, size_t size)
{
        const unsigned char *t = sqlite3_column_text(st, col);
        dst[0] = 0;
        if (t && strlen((const char *)t) < size)
                memcpy(dst, t, strlen((const char *)t) + 1);
}

static bool entry_alive(struct store *s, const struct store_cache_entry *e)
{
        if (e->image_id[0]) {
                _cleanup_store_image_ struct store_image *img = NULL;
                return store_image_lookup(s, e->image_id, &img, NULL) >= 0;
        }
        _cleanup_store_layer_ struct store_layer *l = NULL;
        return e->layer.chain_id[0] && store_layer_get(s, e->layer.chain_id, &l, NULL) >= 0 &&
               store_blob_exists(s, e->layer.digest);
}

int store_build_cache_get(struct store *s, const char *key, struct store_cache_entry *ret,
                          struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s,
                           "SELECT chain_id, diff_id, digest, media_type, blob_size, size,"
                           " created, image_id, used FROM build_cache WHERE key = ?",
                           &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, key);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return db_error(s, rc, "build cache lookup", err);
        struct store_cache_entry e = { 0 };
        copy_col(st, 0, e.layer.chain_id, sizeof(e.layer.chain_id));
        copy_col(st, 1, e.layer.diff_id, sizeof(e.layer.diff_id));
        copy_col(st, 2, e.layer.digest, sizeof(e.layer.digest));
        copy_col(st, 3, e.layer.media_type, sizeof(e.layer.media_type));
        e.layer.blob_size = (uint64_t)sqlite3_column_int64(st, 4);
        e.layer.size = (uint64_t)sqlite3_column_int64(st, 5);
        copy_col(st, 6, e.created, sizeof(e.created));
        copy_col(st, 7, e.image_id, sizeof(e.image_id));
        e.used = sqlite3_column_int64(st, 8);
        if (!entry_alive(s, &e))
                return 0;
        *ret = e;
        return 1;
}

static const char *nonempty(const char *s)
{
        return s && *s ? s : NULL;
}

int store_build_cache_put(struct store *s, const char *key, const struct store_cache_entry *e,
                          const char *created_by, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s,
                           "INSERT OR REPLACE INTO build_cache (key, chain_id, diff_id, digest,"
                           " media_type, blob_size, size, created, created_by, image_id, added,"
                           " used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, key);
        db_bind_text(st, 2, nonempty(e->layer.chain_id));
        db_bind_text(st, 3, nonempty(e->layer.diff_id));
        db_bind_text(st, 4, nonempty(e->layer.digest));
        db_bind_text(st, 5, nonempty(e->layer.media_type));
        sqlite3_bind_int64(st, 6, (sqlite3_int64)e->layer.blob_size);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)e->layer.size);
        db_bind_text(st, 8, nonempty(e->created));
        db_bind_text(st, 9, created_by);
        db_bind_text(st, 10, nonempty(e->image_id));
        sqlite3_bind_int64(st, 11, (sqlite3_int64)time(NULL));
        sqlite3_bind_int64(st, 12, (sqlite3_int64)time(NULL));
        return db_step_done(s, st, err);
}

int store_build_step_get(struct store *s, const char *step, char **ret_key, char **ret_inputs,
                         struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s, "SELECT key, inputs FROM build_steps WHERE step = ?", &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, step);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return db_error(s, rc, "build step lookup", err);
        *ret_key = db_column_strdup(st, 0);
        *ret_inputs = db_column_strdup(st, 1);
        return 1;
}

struct uses {
        const struct store_build_use *u;
        size_t n;
};

static int use_one(struct store *s, const struct store_build_use *u, sqlite3_int64 now,
                   struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s, "UPDATE build_cache SET used = ? WHERE key = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, now);
        db_bind_text(st, 2, u->key);
        r = db_step_done(s, st, err);
        if (r < 0 || !u->step || !u->inputs)
                return r;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        r = db_prepare(s,
                       "INSERT OR REPLACE INTO build_steps (step, key, inputs, used)"
                       " VALUES (?, ?, ?, ?)",
                       &q, err);
        if (r < 0)
                return r;
        db_bind_text(q, 1, u->step);
        db_bind_text(q, 2, u->key);
        db_bind_text(q, 3, u->inputs);
        sqlite3_bind_int64(q, 4, now);
        return db_step_done(s, q, err);
}

static int use_all(struct store *s, void *userdata, struct st_error **err)
{
        struct uses *l = userdata;
        sqlite3_int64 now = (sqlite3_int64)time(NULL);
        for (size_t i = 0; i < l->n; i++) {
                int r = use_one(s, &l->u[i], now, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_build_cache_use(struct store *s, const struct store_build_use *u, size_t n,
                          struct st_error **err)
{
        struct uses l = { u, n };
        if (n == 0)
                return 0;
        /* bookkeeping that may be lost on a crash: no sync of its own (WAL keeps it atomic) */
        db_set_durable(s, false);
        int r = store_transaction(s, use_all, &l, err);
        db_set_durable(s, true);
        return r;
}

char *store_cache_mounts_dir(struct store *s)
{
        return xasprintf("%s/cache/mounts", store_root(s));
}

int store_build_cache_prune(struct store *s, uint64_t *ret_n, struct st_error **err)
{
        int r = store_lock(s, true, err);
        if (r >= 0)
                r = db_exec(s, "DELETE FROM build_cache", err);
        if (r < 0)
                return r;
        uint64_t n = (uint64_t)sqlite3_changes(s->db);
        r = db_exec(s, "DELETE FROM stat_cache; DELETE FROM build_steps;", err);
        if (r < 0)
                return r;
        _cleanup_free_ char *mounts = store_cache_mounts_dir(s);
        r = rm_rf_at(AT_FDCWD, mounts);
        if (r < 0 && r != -ENOENT)
                return st_error_set_errno(err, r, "remove '%s'", mounts);
        if (ret_n)
                *ret_n = n;
        return 0;
}

int store_image_create(struct store *s, const char *cfg, size_t cfg_len, const char *created,
                       const struct store_layer_result *layers, size_t n, char **tags, char *ret_id,
                       struct st_error **err)
{
        return store_image_commit(s, cfg, cfg_len, created, NULL, 0, NULL, layers, n, tags, ret_id,
                                  err);
}

static int64_t ns(const struct timespec *t)
{
        return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* Bind PATH and ST's identity (device, inode, size, mtime, ctime) to Q's parameters 1-6. */
static void bind_stat(sqlite3_stmt *q, const char *path, const struct stat *st)
{
        db_bind_text(q, 1, path);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)st->st_dev);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)st->st_ino);
        sqlite3_bind_int64(q, 4, (sqlite3_int64)st->st_size);
        sqlite3_bind_int64(q, 5, ns(&st->st_mtim));
        sqlite3_bind_int64(q, 6, ns(&st->st_ctim));
}

int store_stat_cache_get(struct store *s, const char *path, const struct stat *st, char *ret_digest,
                         struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r = db_prepare(s,
                           "SELECT digest FROM stat_cache WHERE path = ? AND dev = ? AND ino = ?"
                           " AND size = ? AND mtime_ns = ? AND ctime_ns = ?",
                           &q, err);
        if (r < 0)
                return r;
        bind_stat(q, path, st);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return db_error(s, rc, "stat cache lookup", err);
        char d[DIGEST_STR_LEN + 1];
        copy_col(q, 0, d, sizeof(d));
        if (!digest_is_valid(d))
                return 0;
        memcpy(ret_digest, d, sizeof(d));
        return 1;
}

struct stat_put {
        const struct store_stat_entry *e;
        size_t n;
};

static int stat_put_txn(struct store *s, void *userdata, struct st_error **err)
{
        const struct stat_put *p = userdata;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r = db_prepare(s,
                           "INSERT OR REPLACE INTO stat_cache (path, dev, ino, size, mtime_ns,"
                           " ctime_ns, digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           &q, err);
        for (size_t i = 0; r >= 0 && i < p->n; i++) {
                sqlite3_reset(q);
                bind_stat(q, p->e[i].path, &p->e[i].st);
                db_bind_text(q, 7, p->e[i].digest);
                r = db_step_done(s, q, err);
        }
        return r;
}

int store_stat_cache_put(struct store *s, const struct store_stat_entry *e, size_t n,
                         struct st_error **err)
{
        if (n == 0)
                return 0;
        /* one commit per build step, not per file: 20,000 context files were 20,000 fsyncs */
        db_set_durable(s, false);
        struct stat_put p = { e, n };
        int r = store_transaction(s, stat_put_txn, &p, err);
        db_set_durable(s, true);
        return r;
}
