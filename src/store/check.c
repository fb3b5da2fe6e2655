#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/util.h"
#include "store/store-internal.h"

void store_check_report_release(struct store_check_report *r)
{
        r->problems = strv_free(r->problems);
        r->repaired = strv_free(r->repaired);
}

static void problem(struct store_check_report *rep, const char *fmt, ...) _printf_(2, 3);

static void problem(struct store_check_report *rep, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        strv_consume(&rep->problems, xvasprintf(fmt, ap));
        va_end(ap);
}

/* Images that must go when REPAIRing: collected while checking, deleted at the end. */
struct check_ctx {
        struct store_check_report *rep;
        char **bad_images;
        char **bad_blobs;
        char **bad_layers;
};

static int check_blob_file(struct check_ctx *c, struct store *s, const char *hex)
{
        _cleanup_free_ char *d = xasprintf("sha256:%s", hex);
        _cleanup_free_ char *p = xasprintf("blobs/sha256/%s", hex);
        c->rep->blobs_checked++;
        if (!digest_is_valid(d)) {
                problem(c->rep, "blobs/sha256/%s is not named by a digest", hex);
                strv_push(&c->bad_blobs, p);
                return 0;
        }
        _cleanup_close_ int fd = openat(s->root_fd, p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        char got[DIGEST_STR_LEN + 1];
        _cleanup_error_ struct st_error *e = NULL;
        if (fd < 0 || digest_fd(fd, got, NULL, &e) < 0) {
                problem(c->rep, "blob %s cannot be read", d);
                strv_push(&c->bad_blobs, p);
                return 0;
        }
        if (!streq(got, d)) {
                problem(c->rep, "blob %s is corrupt: its content hashes to %s", d, got);
                strv_push(&c->bad_blobs, p);
                _cleanup_strv_ char **imgs = NULL;
                if (db_query_strv(s, "SELECT image_id FROM image_blobs WHERE digest = ?", d, &imgs,
                                  NULL) >= 0)
                        STRV_FOREACH(i, imgs)
                                if (!strv_contains(c->bad_images, *i))
                                        strv_push(&c->bad_images, *i);
        }
        return 0;
}

static int check_blob_entry(struct store *s, const char *hex, void *u)
{
        return check_blob_file(u, s, hex);
}

static int check_blobs(struct check_ctx *c, struct store *s)
{
        return store_for_each_entry(s, "blobs/sha256", check_blob_entry, c);
}

static void mark_layer_images(struct check_ctx *c, struct store *s, const char *chain)
{
        _cleanup_strv_ char **imgs = NULL;
        if (db_query_strv(s, "SELECT DISTINCT image_id FROM image_layers WHERE chain_id = ?", chain,
                          &imgs, NULL) < 0)
                return;
        STRV_FOREACH(i, imgs)
                if (!strv_contains(c->bad_images, *i))
                        strv_push(&c->bad_images, *i);
}

static void check_layer(struct check_ctx *c, struct store *s, const char *chain)
{
        _cleanup_store_layer_ struct store_layer *l = NULL;
        c->rep->layers_checked++;
        if (store_layer_get(s, chain, &l, NULL) < 0)
                return;
        _cleanup_free_ char *p = store_layer_diff_path(s, chain);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        const char *why = NULL;
        char got[DIGEST_STR_LEN + 1];
        _cleanup_error_ struct st_error *e = NULL;
        if (fd < 0)
                why = "its directory is missing";
        else if (l->tree_digest && archive_tree_digest_like(fd, l->tree_digest, got, &e) < 0)
                why = "its directory cannot be read";
        else if (l->tree_digest && !streq(got, l->tree_digest))
                why = "its content changed since it was stored";
        if (!why)
                return;
        problem(c->rep, "layer %s is broken: %s", chain, why);
        strv_push(&c->bad_layers, chain);
        mark_layer_images(c, s, chain);
}

static void check_image(struct check_ctx *c, struct store *s, const char *id)
{
        c->rep->images_checked++;
        _cleanup_strv_ char **blobs = NULL, **layers = NULL;
        (void)db_query_strv(s, "SELECT digest FROM image_blobs WHERE image_id = ?", id, &blobs,
                            NULL);
        (void)db_query_strv(s,
                            "SELECT il.chain_id FROM image_layers il LEFT JOIN layers l"
                            " ON l.chain_id = il.chain_id WHERE il.image_id = ?"
                            " AND l.chain_id IS NULL",
                            id, &layers, NULL);
        bool bad = false;
        if (!store_blob_exists(s, id)) {
                problem(c->rep, "image %s: its config blob is missing", id);
                bad = true;
        }
        STRV_FOREACH(b, blobs)
                if (!store_blob_exists(s, *b)) {
                        problem(c->rep, "image %s: blob %s is missing", id, *b);
                        bad = true;
                }
        STRV_FOREACH(l, layers) {
                problem(c->rep, "image %s: layer %s is missing", id, *l);
                bad = true;
        }
        if (bad && !strv_contains(c->bad_images, id))
                strv_push(&c->bad_images, id);
}

static int repair(struct check_ctx *c, struct store *s, struct st_error **err)
{
        STRV_FOREACH(i, c->bad_images) {
                int r = store_image_delete(s, *i, err);
                if (r < 0)
                        return r;
                strv_consume(&c->rep->repaired, xasprintf("removed broken image %s", *i));
        }
        STRV_FOREACH(b, c->bad_blobs) {
                (void)unlinkat(s->root_fd, *b, 0);
                strv_consume(&c->rep->repaired, xasprintf("removed bad blob file %s", *b));
        }
        STRV_FOREACH(l, c->bad_layers) {
                _cleanup_free_ char *p = xasprintf("%s/layers/%s", s->root, digest_hex(*l));
                (void)store_remove_path(s, p, NULL);
                strv_consume(&c->rep->repaired, xasprintf("removed broken layer %s", *l));
        }
        /* rows of removed layers, then anything else unreferenced */
        struct store_gc_stats gc;
        return store_gc(s, &gc, err);
}

int store_check(struct store *s, bool do_repair, struct store_check_report *ret,
                struct st_error **err)
{
        struct store_check_report rep = { 0 };
        struct check_ctx c = { .rep = &rep };
        int r = store_lock(s, do_repair, err);
        if (r < 0)
                return r;
        r = check_blobs(&c, s);
        _cleanup_strv_ char **layers = NULL, **images = NULL;
        if (r >= 0)
                r = db_query_strv(s, "SELECT chain_id FROM layers", NULL, &layers, err);
        if (r >= 0)
                r = db_query_strv(s, "SELECT id FROM images", NULL, &images, err);
        STRV_FOREACH(l, layers)
                check_layer(&c, s, *l);
        STRV_FOREACH(i, images)
                check_image(&c, s, *i);
        if (r >= 0 && do_repair)
                r = repair(&c, s, err);
        strv_free(c.bad_images);
        strv_free(c.bad_blobs);
        strv_free(c.bad_layers);
        if (r < 0) {
                store_check_report_release(&rep);
                if (err && *err)
                        return r;
                return st_error_set_errno(err, r, "check store");
        }
        *ret = rep;
        return 0;
}
