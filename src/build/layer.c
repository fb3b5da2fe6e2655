/* Steps that make a layer: mounting a stage's state, committing the upper dir, the cache. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "build/build-internal.h"
#include "runtime/mount.h"

static int mount_overlay(struct builder *b, const struct build_state *st, const char *lower,
                         char **ret_dir, struct st_error **err)
{
        _cleanup_free_ char *dir = NULL;
        int r = store_tmp_mkdir(b->s, "build", &dir, err);
        if (r < 0)
                return r;
        static const char *const sub[] = { "upper", "work", "merged", "empty" };
        for (size_t i = 0; i < ELEMENTSOF(sub); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, sub[i]);
                if (mkdir(p, 0755) < 0)
                        return st_error_set_errno(err, -errno, "create '%s'", p);
        }
        _cleanup_strv_ char **lowers = NULL, **shorts = NULL;
        for (size_t i = st->n_layers; i-- > 0;) {
                strv_consume(&lowers, store_layer_diff_path(b->s, st->layers[i].chain_id));
                strv_consume(&shorts, store_layer_link_name(st->layers[i].chain_id));
        }
        if (!lowers) {
                strv_consume(&lowers, lower ? xstrdup(lower) : xasprintf("%s/empty", dir));
                shorts = strv_free(shorts);
        }
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        _cleanup_free_ char *work = xasprintf("%s/work", dir);
        _cleanup_free_ char *merged = xasprintf("%s/merged", dir);
        struct runtime_overlay o = { .lowers = lowers,
                                     .short_lowers = shorts,
                                     .short_base = store_root(b->s),
                                     .upper = upper,
                                     .work = work };
        r = runtime_overlay_mount(&o, merged, err);
        if (r < 0) {
                (void)rm_rf_at(AT_FDCWD, dir);
                return r;
        }
        *ret_dir = TAKE_PTR(dir);
        return 0;
}

int build_mount_state(struct builder *b, const struct build_state *st, char **ret_dir,
                      struct st_error **err)
{
        return mount_overlay(b, st, NULL, ret_dir, err);
}

int build_mount_context(struct builder *b, char **ret_dir, struct st_error **err)
{
        struct build_state none = { 0 };
        return mount_overlay(b, &none, b->o->context, ret_dir, err);
}

void build_unmount_state(const char *dir, bool keep_upper)
{
        _cleanup_free_ char *merged = xasprintf("%s/merged", dir);
        (void)runtime_overlay_unmount(merged, NULL);
        if (!keep_upper) {
                (void)rm_rf_at(AT_FDCWD, dir);
                return;
        }
        static const char *const sub[] = { "work", "merged", "empty" };
        for (size_t i = 0; i < ELEMENTSOF(sub); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, sub[i]);
                (void)rm_rf_at(AT_FDCWD, p);
        }
}

int build_commit_upper(struct builder *b, struct build_state *st, const char *upper,
                       const char *step_key, const char *created_by, struct st_error **err)
{
        struct store_cache_entry e = { 0 };
        const char *parent = st->n_layers ? st->layers[st->n_layers - 1].chain_id : NULL;
        char key[DIGEST_STR_LEN + 1];
        build_layer_key(step_key, b->compression, b->o->compression_level, key);
        int r = store_layer_from_dir_clamped(b->s, upper, parent, b->compression,
                                             b->o->compression_level, b->epoch, &e.layer, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *now = build_time_now(b);
        snprintf(e.created, sizeof(e.created), "%s", now);
        r = store_build_cache_put(b->s, key, &e, created_by, err);
        if (r < 0)
                return r;
        build_state_add_layer(st, &e.layer, now, created_by);
        memcpy(st->key, key, DIGEST_STR_LEN + 1);
        return 0;
}

int build_cache_try(struct builder *b, struct build_state *st, const char *step_key,
                    const char *created_by, struct st_error **err)
{
        if (b->o->no_cache)
                return 0;
        char key[DIGEST_STR_LEN + 1];
        build_layer_key(step_key, b->compression, b->o->compression_level, key);
        struct store_cache_entry e;
        int r = store_build_cache_get(b->s, key, &e, err);
        if (r <= 0)
                return r;
        build_state_add_layer(st, &e.layer, e.created[0] ? e.created : NULL, created_by);
        memcpy(st->key, key, DIGEST_STR_LEN + 1);
        build_emit(b, BUILD_EVENT_CACHED, NULL);
        return 1;
}
