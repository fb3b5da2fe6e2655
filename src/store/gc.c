#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/util.h"
#include "store/store-internal.h"

struct gc_ctx {
        char **dead_layers;
        struct store_gc_stats *stats;
};

static int gc_rows(struct store *s, void *userdata, struct st_error **err)
{
        struct gc_ctx *c = userdata;
        /* a layer is live while an image, a container (whose image may be gone) or a build
         * cache entry uses it, and so are the layers below a live one */
        int r = db_exec(s,
                        "CREATE TEMP TABLE IF NOT EXISTS gc_live (chain_id TEXT PRIMARY KEY);"
                        "DELETE FROM gc_live;"
                        "INSERT INTO gc_live WITH RECURSIVE live(c) AS ("
                        " SELECT chain_id FROM image_layers UNION"
                        " SELECT chain_id FROM container_layers UNION"
                        " SELECT chain_id FROM build_cache WHERE chain_id IS NOT NULL UNION"
                        " SELECT l.parent FROM layers l JOIN live ON l.chain_id = live.c"
                        " WHERE l.parent IS NOT NULL) SELECT c FROM live;",
                        err);
        if (r >= 0)
                r = db_query_strv(s,
                                  "SELECT chain_id FROM layers WHERE chain_id NOT IN"
                                  " (SELECT chain_id FROM gc_live)",
                                  NULL, &c->dead_layers, err);
        if (r < 0)
                return r;
        return db_exec(s,
                       "DELETE FROM layers WHERE chain_id NOT IN (SELECT chain_id FROM gc_live);"
                       "DELETE FROM layer_blobs WHERE digest NOT IN (SELECT digest FROM image_blobs"
                       " UNION SELECT digest FROM build_cache WHERE digest IS NOT NULL);",
                       err);
}

static bool row_exists(struct store *s, const char *sql, const char *arg)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (db_prepare(s, sql, &st, NULL) < 0)
                return true; /* when unsure, keep */
        db_bind_text(st, 1, arg);
        return sqlite3_step(st) != SQLITE_DONE;
}

int store_for_each_entry(struct store *s, const char *subdir,
                         int (*f)(struct store *s, const char *name, void *u), void *u)
{
        _cleanup_close_ int fd = openat(s->root_fd, subdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.') {
                        int r = f(s, de->d_name, u);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int gc_blob(struct store *s, const char *hex, void *u)
{
        struct store_gc_stats *stats = u;
        _cleanup_free_ char *d = xasprintf("sha256:%s", hex);
        if (digest_is_valid(d) && (row_exists(s, "SELECT 1 FROM image_blobs WHERE digest = ?", d) ||
                                   row_exists(s, "SELECT 1 FROM build_cache WHERE digest = ?", d)))
                return 0;
        _cleanup_free_ char *p = xasprintf("blobs/sha256/%s", hex);
        struct stat st;
        if (fstatat(s->root_fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0)
                stats->bytes_freed += (uint64_t)st.st_size;
        if (unlinkat(s->root_fd, p, 0) == 0)
                stats->blobs_removed++;
        return 0;
}

static int gc_layer_dir(struct store *s, const char *hex, void *u)
{
        struct store_gc_stats *stats = u;
        _cleanup_free_ char *chain = xasprintf("sha256:%s", hex);
        if (digest_is_valid(chain) &&
            row_exists(s, "SELECT 1 FROM layers WHERE chain_id = ?", chain))
                return 0;
        _cleanup_free_ char *p = xasprintf("%s/layers/%s", s->root, hex);
        uint64_t bytes = 0;
        if (disk_usage_at(AT_FDCWD, p, &bytes) == 0)
                stats->bytes_freed += bytes;
        if (store_remove_path(s, p, NULL) == 0)
                stats->layers_removed++;
        return 0;
}

/* A container dir without a row: left by a crash between its rename and its transaction. One
 * whose rootfs is still mounted is left alone. */
static int gc_container_dir(struct store *s, const char *id, void *u)
{
        struct store_gc_stats *stats = u;
        if (row_exists(s, "SELECT 1 FROM containers WHERE id = ?", id))
                return 0;
        _cleanup_free_ char *p = store_container_dir(s, id);
        _cleanup_free_ char *merged = xasprintf("%s/merged", p);
        struct stat a, b;
        if (stat(p, &a) == 0 && stat(merged, &b) == 0 && a.st_dev != b.st_dev)
                return 0;
        uint64_t bytes = 0;
        if (disk_usage_at(AT_FDCWD, p, &bytes) == 0)
                stats->bytes_freed += bytes;
        (void)store_remove_path(s, p, NULL);
        return 0;
}

static int gc_link(struct store *s, const char *name, void *u)
{
        (void)u;
        _cleanup_free_ char *p = xasprintf("l/%s", name);
        struct stat st;
        if (fstatat(s->root_fd, p, &st, 0) < 0 && errno == ENOENT)
                (void)unlinkat(s->root_fd, p, 0);
        return 0;
}

int store_gc(struct store *s, struct store_gc_stats *ret, struct st_error **err)
{
        struct store_gc_stats stats = { 0 };
        struct gc_ctx c = { .stats = &stats };
        int r = store_lock(s, true, err);
        if (r < 0)
                return r;
        r = store_transaction(s, gc_rows, &c, err);
        strv_free(c.dead_layers); /* their dirs go with the orphan sweep below */
        if (r < 0)
                return st_error_wrap(err, "collect garbage");
        r = store_for_each_entry(s, "layers", gc_layer_dir, &stats);
        if (r >= 0)
                r = store_for_each_entry(s, "containers", gc_container_dir, &stats);
        if (r >= 0)
                r = store_for_each_entry(s, "l", gc_link, &stats);
        if (r >= 0)
                r = store_for_each_entry(s, "blobs/sha256", gc_blob, &stats);
        if (r >= 0)
                r = store_partial_gc(s, &stats);
        if (r < 0)
                return st_error_set_errno(err, r, "collect garbage");
        if (ret)
                *ret = stats;
        return 0;
}

static int df_containers(struct store *s, struct store_df *df, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s, "SELECT id, state FROM containers", &st, err);
        if (r < 0)
                return r;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                bool running = streq_ptr((const char *)sqlite3_column_text(st, 1), "running");
                _cleanup_free_ char *upper = xasprintf("containers/%s/upper", id);
                uint64_t bytes = 0;
                (void)disk_usage_at(s->root_fd, upper, &bytes);
                df->containers++;
                df->containers_running += running;
                df->containers_size += bytes;
                if (!running)
                        df->containers_reclaimable += bytes;
        }
        if (rc != SQLITE_DONE)
                return db_error(s, rc, "disk usage of containers", err);
        return 0;
}

int store_df(struct store *s, struct store_df *ret, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s,
                           "SELECT (SELECT COUNT(*) FROM images),"
                           " (SELECT COUNT(DISTINCT image_id) FROM tags),"
                           " (SELECT COALESCE(SUM(size), 0) FROM layers WHERE chain_id IN"
                           "   (SELECT chain_id FROM image_layers)),"
                           " (SELECT COALESCE(SUM(size), 0) FROM layers WHERE chain_id IN"
                           "   (SELECT chain_id FROM image_layers) AND chain_id NOT IN"
                           "   (SELECT il.chain_id FROM image_layers il JOIN tags t"
                           "    ON t.image_id = il.image_id)),"
                           " (SELECT COUNT(*) FROM build_cache)",
                           &st, err);
        if (r < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW)
                return db_error(s, SQLITE_ERROR, "disk usage", err);
        struct store_df df = {
                .images = (uint64_t)sqlite3_column_int64(st, 0),
                .images_active = (uint64_t)sqlite3_column_int64(st, 1),
                .layers_size = (uint64_t)sqlite3_column_int64(st, 2),
                .reclaimable = (uint64_t)sqlite3_column_int64(st, 3),
                .cache_entries = (uint64_t)sqlite3_column_int64(st, 4),
        };
        r = store_build_cache_size(s, &df.cache_size, err);
        if (r < 0)
                return r;
        uint64_t blobs = 0;
        if (disk_usage_at(s->root_fd, "blobs", &blobs) == 0)
                df.blobs_size = blobs;
        r = df_containers(s, &df, err);
        if (r < 0)
                return r;
        *ret = df;
        return 0;
}
