/* Steps that make a layer: mounting a stage's state, committing the upper dir, the cache. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/stream.h"
#include "basic/util.h"
#include "build/build-internal.h"
#include "json/json.h"
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

bool build_cache_off(const struct builder *b)
{
        return b->o->no_cache || (b->no_cache_stages && b->no_cache_stages[b->stage]);
}

int build_commit_upper(struct builder *b, struct build_state *st, const char *upper,
                       const char *step_key, const char *link_key, const char *created_by,
                       struct st_error **err)
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
        if (r >= 0 && link_key) {
                char lkey[DIGEST_STR_LEN + 1];
                build_layer_key(link_key, b->compression, b->o->compression_level, lkey);
                r = store_build_cache_put(b->s, lkey, &e, created_by, err);
        }
        if (r < 0)
                return r;
        build_state_add_layer(st, &e.layer, now, created_by);
        memcpy(st->key, key, DIGEST_STR_LEN + 1);
        if (b->pending) {
                _cleanup_free_ char *text = json_dump_compact(b->pending);
                build_use_add(b, key, text);
                json_decref(b->pending);
                b->pending = NULL;
        }
        build_state_stepped(st, b->step_label, true);
        return 0;
}

/* Whether the cached layer E sits on ST's top layer (a step above may have been rebuilt
 * with --no-cache since E was recorded, and its key stayed the same). */
static bool fits(struct builder *b, const struct build_state *st, const struct store_cache_entry *e)
{
        _cleanup_store_layer_ struct store_layer *l = NULL;
        if (store_layer_get(b->s, e->layer.chain_id, &l, NULL) < 0)
                return false;
        const char *top = st->n_layers ? st->layers[st->n_layers - 1].chain_id : NULL;
        return streq_ptr(l->parent, top);
}

struct prev {
        bool found, unfit;
        char *key, *text;
};

static void explain(struct builder *b, const char *key, const json_t *inputs, const struct prev *p,
                    const struct build_state *st)
{
        _cleanup_strv_ char **lines = NULL;
        _cleanup_json_ json_t *prev = NULL;
        if (build_cache_off(b)) {
                strv_push(&lines, b->o->no_cache ? "--no-cache" : "--no-cache-filter");
        } else if (p->unfit) {
                if (st->last_step && st->last_ran)
                        strv_consume(&lines,
                                     xasprintf("parent step %s was rebuilt", st->last_step));
                strv_push(&lines, "the cached layer was built on another parent layer");
        } else if (p->found && streq(p->key, key)) {
                strv_push(&lines, "the earlier build's layer is no longer in the cache");
        } else {
                if (p->found)
                        (void)json_parse(p->text, strlen(p->text), SIZE_MAX, "step record", &prev,
                                         NULL);
                lines = build_explain_diff(prev, inputs, st->last_step, st->last_ran);
        }
        /* a cause that reaches the steps below through their rebuilt parent is told once, at
         * the first step it touches */
        bool via_parent = false;
        STRV_FOREACH(l, lines)
                via_parent = via_parent || startswith(*l, "parent step ");
        STRV_FOREACH(l, lines) {
                bool shared = build_explain_shared(*l);
                if (shared && via_parent && strv_contains(b->explained, *l))
                        continue;
                build_emit(b, BUILD_EVENT_EXPLAIN, *l);
                if (shared)
                        strv_push(&b->explained, *l);
        }
}

/* The layer CACHED (built on another base) on top of ST's layers: the same blob and diff ID,
 * applied again under the new parent. */
static int rebase(struct builder *b, const struct build_state *st,
                  const struct store_layer_result *cached, struct store_layer_result *ret,
                  struct st_error **err)
{
        const char *parent = st->n_layers ? st->layers[st->n_layers - 1].chain_id : NULL;
        char chain[DIGEST_STR_LEN + 1];
        store_chain_id(parent, cached->diff_id, chain);
        if (streq(chain, cached->chain_id)) {
                *ret = *cached;
                return 0;
        }
        _cleanup_close_ int fd = -1;
        int r = store_blob_open(b->s, cached->digest, &fd, err);
        if (r < 0)
                return r;
        _cleanup_reader_ struct st_reader *in = st_fd_reader_new(fd);
        struct store_layer_source src = {
                .in = in,
                .parent = parent,
                .expected_digest = cached->digest,
                .expected_diff_id = cached->diff_id,
                .media_type = cached->media_type,
                .keep_blob = true,
        };
        return store_layer_create(b->s, &src, ret, err);
}

/* COPY --link: the layer cached under LINK_KEY, put on ST's top layer (re-applied from its blob
 * when it was built on another base, so it always fits) into *RET and recorded under KEY. */
static int link_lookup(struct builder *b, const struct build_state *st, const char *link_key,
                       const char *key, const char *created_by, struct store_cache_entry *ret,
                       struct st_error **err)
{
        char lkey[DIGEST_STR_LEN + 1];
        build_layer_key(link_key, b->compression, b->o->compression_level, lkey);
        struct store_cache_entry cached, e = { 0 };
        int r = store_build_cache_get(b->s, lkey, &cached, err);
        if (r <= 0)
                return r;
        r = rebase(b, st, &cached.layer, &e.layer, err);
        if (r < 0)
                return r;
        memcpy(e.created, cached.created, sizeof(e.created));
        r = store_build_cache_put(b->s, key, &e, created_by, err);
        if (r < 0)
                return r;
        if (build_use_stale(cached.used))
                build_use_add(b, lkey, NULL);
        e.used = (int64_t)time(NULL); /* just recorded */
        *ret = e;
        return 1;
}

int build_cache_try(struct builder *b, struct build_state *st, const char *step_key,
                    const char *link_key, const char *created_by, json_t *inputs,
                    struct st_error **err)
{
        char key[DIGEST_STR_LEN + 1];
        build_layer_key(step_key, b->compression, b->o->compression_level, key);
        json_decref(b->pending);
        b->pending = inputs;
        struct prev p = { 0 };
        int r = b->step_ident ? store_build_step_get(b->s, b->step_ident, &p.key, &p.text, err) : 0;
        p.found = r > 0;
        struct store_cache_entry e;
        if (r >= 0)
                r = build_cache_off(b) ? 0 : store_build_cache_get(b->s, key, &e, err);
        if (r > 0 && !fits(b, st, &e)) {
                p.unfit = true;
                r = 0;
        }
        if (r == 0 && link_key && !build_cache_off(b))
                r = link_lookup(b, st, link_key, key, created_by, &e, err);
        if (r == 0 && b->o->explain)
                explain(b, key, inputs, &p, st);
        bool same = p.found && streq(p.key, key);
        free(p.key);
        free(p.text);
        if (r <= 0)
                return r;
        build_state_add_layer(st, &e.layer, e.created[0] ? e.created : NULL, created_by);
        memcpy(st->key, key, DIGEST_STR_LEN + 1);
        _cleanup_free_ char *text = same ? NULL : json_dump_compact(b->pending);
        if (text || build_use_stale(e.used))
                build_use_add(b, key, text);
        json_decref(b->pending);
        b->pending = NULL;
        build_state_stepped(st, b->step_label, false);
        build_emit(b, BUILD_EVENT_CACHED, NULL);
        return 1;
}
