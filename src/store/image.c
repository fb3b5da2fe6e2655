#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "basic/util.h"
#include "image/reference.h"
#include "store/store-internal.h"

struct store_image *store_image_free(struct store_image *img)
{
        if (!img)
                return NULL;
        free(img->id);
        free(img->manifest_digest);
        free(img->manifest_media_type);
        strv_free(img->chain_ids);
        strv_free(img->tags);
        strv_free(img->repo_digests);
        free(img);
        return NULL;
}

void store_image_list_free(struct store_image **l, size_t n)
{
        for (size_t i = 0; i < n; i++)
                store_image_free(l[i]);
        free(l);
}

static int exec_bind(struct store *s, const char *sql, const char *a, const char *b, int64_t n,
                     struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s, sql, &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, a);
        if (sqlite3_bind_parameter_count(st) >= 2)
                db_bind_text(st, 2, b);
        if (sqlite3_bind_parameter_count(st) >= 3)
                sqlite3_bind_int64(st, 3, n);
        return db_step_done(s, st, err);
}

static int set_tag(struct store *s, const char *ref, const char *id, struct st_error **err)
{
        /* a tag already on the image is left alone: no write, no fsync */
        return exec_bind(s,
                         "INSERT INTO tags (name, image_id, added) VALUES (?, ?, ?)"
                         " ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id,"
                         " added = excluded.added WHERE image_id != excluded.image_id",
                         ref, id, (int64_t)time(NULL), err);
}

static int add_in_txn(struct store *s, void *userdata, struct st_error **err)
{
        const struct store_image_new *img = userdata;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s,
                           "INSERT INTO images (id, manifest_digest, manifest_media_type, created,"
                           " added) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                           " manifest_digest = excluded.manifest_digest,"
                           " manifest_media_type = excluded.manifest_media_type",
                           &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, img->id);
        db_bind_text(st, 2, img->manifest_digest);
        db_bind_text(st, 3, img->manifest_media_type);
        sqlite3_bind_int64(st, 4, img->created);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
        r = db_step_done(s, st, err);
        if (r < 0)
                return r;
        r = exec_bind(s, "DELETE FROM image_layers WHERE image_id = ?", img->id, NULL, 0, err);
        for (size_t i = 0; r >= 0 && img->chain_ids && img->chain_ids[i]; i++)
                r = exec_bind(s,
                              "INSERT INTO image_layers (image_id, chain_id, idx)"
                              " VALUES (?, ?, ?)",
                              img->id, img->chain_ids[i], (int64_t)i, err);
        STRV_FOREACH(b, img->blobs)
                if (r >= 0)
                        r = exec_bind(s,
                                      "INSERT OR IGNORE INTO image_blobs (image_id, digest)"
                                      " VALUES (?, ?)",
                                      img->id, *b, 0, err);
        STRV_FOREACH(t, img->tags)
                if (r >= 0)
                        r = set_tag(s, *t, img->id, err);
        STRV_FOREACH(d, img->repo_digests)
                if (r >= 0)
                        r = exec_bind(s,
                                      "INSERT OR IGNORE INTO repo_digests (name, image_id)"
                                      " VALUES (?, ?)",
                                      *d, img->id, 0, err);
        return r;
}

int store_image_add(struct store *s, const struct store_image_new *img, struct st_error **err)
{
        int r = store_transaction(s, add_in_txn, (void *)img, err);
        if (r < 0)
                return st_error_wrap(err, "record image %s", img->id);
        return 0;
}

int store_tag_set(struct store *s, const char *ref, const char *id, struct st_error **err)
{
        return set_tag(s, ref, id, err);
}

int store_tag_remove(struct store *s, const char *ref, struct st_error **err)
{
        int r = exec_bind(s, "DELETE FROM tags WHERE name = ?", ref, NULL, 0, err);
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0)
                return st_error_set(err, ST_E_NOT_FOUND, "No such image: %s", ref);
        return 0;
}

int store_image_delete(struct store *s, const char *id, struct st_error **err)
{
        return exec_bind(s, "DELETE FROM images WHERE id = ?", id, NULL, 0, err);
}

#define IMAGE_COLUMNS                                                          \
        "SELECT i.id, i.manifest_digest, i.manifest_media_type, i.created,"    \
        " (SELECT COALESCE(SUM(l.size), 0) FROM image_layers il JOIN layers l" \
        "  ON l.chain_id = il.chain_id WHERE il.image_id = i.id) FROM images i"

static int load_image_row(struct store *s, sqlite3_stmt *st, struct store_image **ret,
                          struct st_error **err)
{
        _cleanup_store_image_ struct store_image *img = xcalloc(1, sizeof(*img));
        img->id = db_column_strdup(st, 0);
        img->manifest_digest = db_column_strdup(st, 1);
        img->manifest_media_type = db_column_strdup(st, 2);
        img->created = sqlite3_column_int64(st, 3);
        img->size = (uint64_t)sqlite3_column_int64(st, 4);
        int r = db_query_strv(s,
                              "SELECT chain_id FROM image_layers WHERE image_id = ?"
                              " ORDER BY idx",
                              img->id, &img->chain_ids, err);
        if (r >= 0)
                r = db_query_strv(s, "SELECT name FROM tags WHERE image_id = ? ORDER BY name",
                                  img->id, &img->tags, err);
        if (r >= 0)
                r = db_query_strv(s,
                                  "SELECT name FROM repo_digests WHERE image_id = ?"
                                  " ORDER BY name",
                                  img->id, &img->repo_digests, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(img);
        return 0;
}

struct image_rows {
        struct store_image **l;
        size_t n;
};

/* A db_row_fn: append the row's object to the struct image_rows USERDATA. */
static int add_image_row(struct store *s, sqlite3_stmt *st, void *userdata, struct st_error **err)
{
        struct image_rows *rows = userdata;
        struct store_image *o = NULL;
        int r = load_image_row(s, st, &o, err);
        if (r < 0)
                return r;
        rows->l = xrealloc(rows->l, sizeof(*rows->l) * (rows->n + 1));
        rows->l[rows->n++] = o;
        return 0;
}

static int query_images(struct store *s, const char *where, const char *arg,
                        struct store_image ***ret, size_t *ret_n, struct st_error **err)
{
        _cleanup_free_ char *sql = xasprintf(IMAGE_COLUMNS " %s", where);
        struct image_rows rows = { 0 };
        int r = db_query_each(s, sql, arg, add_image_row, &rows, "list images", err);
        if (r < 0) {
                store_image_list_free(rows.l, rows.n);
                return r;
        }
        *ret = rows.l;
        *ret_n = rows.n;
        return 0;
}

int store_image_list(struct store *s, struct store_image ***ret, size_t *ret_n,
                     struct st_error **err)
{
        return query_images(s, "ORDER BY i.created DESC, i.added DESC", NULL, ret, ret_n, err);
}

static int lookup_one(struct store *s, const char *where, const char *arg, const char *name,
                      struct store_image **ret, struct st_error **err)
{
        struct store_image **l = NULL;
        size_t n = 0;
        int r = query_images(s, where, arg, &l, &n, err);
        if (r < 0)
                return r;
        if (n > 1) {
                store_image_list_free(l, n);
                return st_error_set(err, ST_E_AMBIGUOUS,
                                    "short ID '%s' is ambiguous: it matches %zu images", name, n);
        }
        if (n == 0) {
                free(l);
                return 0;
        }
        *ret = l[0];
        free(l);
        return 1;
}

static bool is_hex(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

int store_image_lookup(struct store *s, const char *name, struct store_image **ret,
                       struct st_error **err)
{
        const char *hex = startswith(name, "sha256:") ?: name;
        int r;
        if (is_hex(hex) && strlen(hex) <= DIGEST_HEX_LEN) {
                /* an ID (prefix) wins over a tag only if it is a full ID or no tag matches */
                _cleanup_free_ char *pattern = xasprintf("sha256:%s%%", hex);
                if (strlen(hex) == DIGEST_HEX_LEN || hex != name) {
                        r = lookup_one(s, "WHERE i.id LIKE ?", pattern, name, ret, err);
                        if (r != 0)
                                return r < 0 ? r : 0;
                        return st_error_set(err, ST_E_NOT_FOUND, "No such image: %s", name);
                }
        }
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        _cleanup_error_ struct st_error *perr = NULL;
        if (image_ref_parse(name, &ref, &perr) >= 0) {
                _cleanup_free_ char *full = image_ref_string(ref);
                const char *where = ref->digest && !ref->tag
                                            ? "WHERE i.id IN (SELECT image_id FROM repo_digests"
                                              " WHERE name = ?)"
                                            : "WHERE i.id IN (SELECT image_id FROM tags"
                                              " WHERE name = ?)";
                r = lookup_one(s, where, full, name, ret, err);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        if (is_hex(hex) && strlen(hex) < DIGEST_HEX_LEN) {
                _cleanup_free_ char *pattern = xasprintf("sha256:%s%%", hex);
                r = lookup_one(s, "WHERE i.id LIKE ?", pattern, name, ret, err);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        return st_error_set(err, ST_E_NOT_FOUND, "No such image: %s", name);
}
