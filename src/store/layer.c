#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "store/store-internal.h"

#define SHORT_LINK_LEN 16

void store_chain_id(const char *parent, const char *diff_id, char *ret)
{
        if (!parent) {
                memcpy(ret, diff_id, DIGEST_STR_LEN + 1);
                return;
        }
        _cleanup_free_ char *s = xasprintf("%s %s", parent, diff_id);
        digest_buf(s, strlen(s), ret);
}

char *store_layer_diff_path(const struct store *s, const char *chain_id)
{
        return xasprintf("%s/layers/%s/diff", s->root, digest_hex(chain_id));
}

struct store_layer *store_layer_free(struct store_layer *l)
{
        if (!l)
                return NULL;
        free(l->chain_id);
        free(l->diff_id);
        free(l->parent);
        free(l->tree_digest);
        free(l);
        return NULL;
}

int store_layer_get(struct store *s, const char *chain_id, struct store_layer **ret,
                    struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s,
                           "SELECT diff_id, parent, size, tree_digest FROM layers"
                           " WHERE chain_id = ?",
                           &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, chain_id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return st_error_set(err, ST_E_NOT_FOUND, "layer %s not in the store", chain_id);
        if (rc != SQLITE_ROW)
                return db_error(s, rc, "look up layer", err);
        struct store_layer *l = xcalloc(1, sizeof(*l));
        l->chain_id = xstrdup(chain_id);
        l->diff_id = db_column_strdup(st, 0);
        l->parent = db_column_strdup(st, 1);
        l->size = (uint64_t)sqlite3_column_int64(st, 2);
        l->tree_digest = db_column_strdup(st, 3);
        *ret = l;
        return 0;
}

char *store_layer_link_name(const char *chain_id)
{
        return xasprintf("l/%.*s", SHORT_LINK_LEN, digest_hex(chain_id));
}

static int short_link(struct store *s, const char *chain_id, struct st_error **err)
{
        _cleanup_free_ char *link = store_layer_link_name(chain_id);
        _cleanup_free_ char *target = xasprintf("../layers/%s/diff", digest_hex(chain_id));
        if (symlinkat(target, s->root_fd, link) < 0 && errno != EEXIST)
                return st_error_set_errno(err, -errno, "link layer %s", chain_id);
        return 0;
}

static int insert_layer(struct store *s, const struct store_layer *l, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s,
                           "INSERT OR IGNORE INTO layers"
                           " (chain_id, diff_id, parent, size, tree_digest, added)"
                           " VALUES (?, ?, ?, ?, ?, ?)",
                           &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, l->chain_id);
        db_bind_text(st, 2, l->diff_id);
        db_bind_text(st, 3, l->parent);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)l->size);
        db_bind_text(st, 5, l->tree_digest);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
        return db_step_done(s, st, err);
}

int store_layer_commit(struct store *s, const char *staging, const struct store_layer *l,
                       struct st_error **err)
{
        _cleanup_free_ char *dst = xasprintf("%s/layers/%s", s->root, digest_hex(l->chain_id));
        _cleanup_free_ char *diff = xasprintf("%s/diff", staging);
        struct stat st;
        if (stat(diff, &st) < 0 || !S_ISDIR(st.st_mode))
                return st_error_set_errno(err, -ENOTDIR, "staged layer '%s' has no diff dir",
                                          staging);
        if (rename(staging, dst) < 0) {
                if (errno != EEXIST && errno != ENOTEMPTY)
                        return st_error_set_errno(err, -errno, "store layer %s", l->chain_id);
                /* another process (or an earlier run) committed it: keep that one */
                store_remove_later(s, staging);
        } else {
                int r = fsync_dir_at(s->root_fd, "layers");
                if (r < 0)
                        return st_error_set_errno(err, r, "sync layers dir");
        }
        int r = short_link(s, l->chain_id, err);
        if (r < 0)
                return r;
        return insert_layer(s, l, err);
}

int store_layer_blob_record(struct store *s, const char *digest, const char *diff_id,
                            const char *media_type, uint64_t size, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s,
                           "INSERT OR REPLACE INTO layer_blobs (digest, diff_id, media_type, size)"
                           " VALUES (?, ?, ?, ?)",
                           &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, digest);
        db_bind_text(st, 2, diff_id);
        db_bind_text(st, 3, media_type);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)size);
        return db_step_done(s, st, err);
}
