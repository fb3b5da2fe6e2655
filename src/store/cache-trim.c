/* The build cache's size and its least-recently-used trimming. */
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "store/store-internal.h"

/* The layers only build cache rows keep alive: live through a row (or as the parent of such a
 * layer) and not through an image or a container. */
#define EXCLUSIVE_LAYERS                                                                            \
        "WITH RECURSIVE"                                                                            \
        " cl(c) AS (SELECT chain_id FROM build_cache WHERE chain_id IS NOT NULL UNION"              \
        "  SELECT l.parent FROM layers l JOIN cl ON l.chain_id = cl.c WHERE l.parent IS NOT NULL)," \
        " ol(c) AS (SELECT chain_id FROM image_layers UNION SELECT chain_id FROM container_layers"  \
        "  UNION SELECT l.parent FROM layers l JOIN ol ON l.chain_id = ol.c"                        \
        "  WHERE l.parent IS NOT NULL)"                                                             \
        " SELECT chain_id, parent, size FROM layers WHERE chain_id IN (SELECT c FROM cl)"           \
        " AND chain_id NOT IN (SELECT c FROM ol)"

struct xlayer {
        char *chain_id, *parent;
        uint64_t size;
        size_t refs;
};

struct xset {
        struct xlayer *l;
        size_t n;
        uint64_t total;
};

static void xset_release(struct xset *x)
{
        for (size_t i = 0; i < x->n; i++) {
                free(x->l[i].chain_id);
                free(x->l[i].parent);
        }
        free(x->l);
}

static int add_layer(struct store *s, sqlite3_stmt *st, void *userdata, struct st_error **err)
{
        (void)s;
        (void)err;
        struct xset *x = userdata;
        x->l = xrealloc(x->l, (x->n + 1) * sizeof(*x->l));
        x->l[x->n++] = (struct xlayer){
                .chain_id = db_column_strdup(st, 0) ?: xstrdup(""),
                .parent = db_column_strdup(st, 1),
                .size = (uint64_t)sqlite3_column_int64(st, 2),
        };
        x->total += (uint64_t)sqlite3_column_int64(st, 2);
        return 0;
}

static int cmp_layer(const void *a, const void *b)
{
        return strcmp(((const struct xlayer *)a)->chain_id, ((const struct xlayer *)b)->chain_id);
}

static int xset_load(struct store *s, struct xset *x, struct st_error **err)
{
        int r = db_query_each(s, EXCLUSIVE_LAYERS, NULL, add_layer, x, "build cache size", err);
        if (r >= 0 && x->n > 1)
                qsort(x->l, x->n, sizeof(*x->l), cmp_layer);
        return r;
}

static struct xlayer *xset_find(const struct xset *x, const char *chain_id)
{
        if (!chain_id || x->n == 0)
                return NULL;
        struct xlayer k = { .chain_id = (char *)chain_id };
        return bsearch(&k, x->l, x->n, sizeof(*x->l), cmp_layer);
}

int store_build_cache_size(struct store *s, uint64_t *ret_bytes, struct st_error **err)
{
        struct xset x = { 0 };
        int r = xset_load(s, &x, err);
        if (r >= 0)
                *ret_bytes = x.total;
        xset_release(&x);
        return r;
}

struct row {
        char *key, *chain_id;
        int64_t used;
};

struct trim {
        const struct store_cache_trim *t;
        struct xset x;
        struct row *rows;
        size_t n_rows;
        uint64_t deleted;
};

static int add_row(struct store *s, sqlite3_stmt *st, void *userdata, struct st_error **err)
{
        (void)s;
        (void)err;
        struct trim *t = userdata;
        t->rows = xrealloc(t->rows, (t->n_rows + 1) * sizeof(*t->rows));
        t->rows[t->n_rows++] = (struct row){
                .key = db_column_strdup(st, 0) ?: xstrdup(""),
                .chain_id = db_column_strdup(st, 1),
                .used = sqlite3_column_int64(st, 2),
        };
        return 0;
}

/* Walk from CHAIN_ID down through the exclusive layers, adding DELTA to each one's count of
 * rows; with DELTA < 0 the bytes of layers no row keeps any more leave the total. */
static void walk_chain(struct xset *x, const char *chain_id, int delta)
{
        size_t steps = 0; /* a corrupt parent cycle must not loop forever */
        for (struct xlayer *l = xset_find(x, chain_id); l && steps++ < x->n;
             l = xset_find(x, l->parent)) {
                if (delta > 0) {
                        l->refs++;
                } else if (l->refs > 0 && --l->refs == 0) {
                        x->total -= l->size;
                }
        }
}

static int delete_row(struct store *s, const char *key, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s, "DELETE FROM build_cache WHERE key = ?", &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, key);
        return db_step_done(s, st, err);
}

static int trim_rows(struct store *s, void *userdata, struct st_error **err)
{
        struct trim *t = userdata;
        int r = xset_load(s, &t->x, err);
        if (r >= 0)
                r = db_query_each(s,
                                  "SELECT key, chain_id, used FROM build_cache ORDER BY used, key",
                                  NULL, add_row, t, "build cache rows", err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t->n_rows; i++)
                walk_chain(&t->x, t->rows[i].chain_id, 1);
        bool by_size = t->t->keep_bytes >= 0;
        for (size_t i = 0; i < t->n_rows; i++) {
                const struct row *w = &t->rows[i];
                if (by_size && t->x.total <= (uint64_t)t->t->keep_bytes)
                        break;
                if (t->t->until && w->used >= t->t->until)
                        continue;
                if (by_size && !xset_find(&t->x, w->chain_id))
                        continue; /* frees nothing */
                r = delete_row(s, w->key, err);
                if (r < 0)
                        return r;
                walk_chain(&t->x, w->chain_id, -1);
                t->deleted++;
        }
        return 0;
}

int store_build_cache_trim(struct store *s, const struct store_cache_trim *tr, uint64_t *ret_n,
                           struct st_error **err)
{
        struct trim t = { .t = tr };
        int r = store_lock(s, true, err);
        if (r >= 0)
                r = store_transaction(s, trim_rows, &t, err);
        for (size_t i = 0; i < t.n_rows; i++) {
                free(t.rows[i].key);
                free(t.rows[i].chain_id);
        }
        free(t.rows);
        xset_release(&t.x);
        if (r < 0)
                return r;
        if (ret_n)
                *ret_n = t.deleted;
        return 0;
}
