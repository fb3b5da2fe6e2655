/* The instructions that only change the image config (and the running cache key). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "basic/util.h"
#include "build/build-internal.h"
#include "json/json.h"

static void history(struct builder *b, struct build_state *st, const char *created_by)
{
        _cleanup_free_ char *now = build_time_now(b);
        image_config_add_history(st->cfg, NULL, now, created_by, NULL, "buildkit.dockerfile.v0",
                                 true);
}

static void advance(struct build_state *st, const char *text)
{
        char *parts[] = { (char *)text, NULL };
        char next[DIGEST_STR_LEN + 1];
        build_cache_key(st->key, parts, next);
        memcpy(st->key, next, sizeof(next));
        strv_push(&st->trail, text);
}

/* Record a config step: its history entry and its effect on the key. */
static void record(struct builder *b, struct build_state *st, const char *created_by)
{
        history(b, st, created_by);
        advance(st, created_by);
}

static json_t *config(struct build_state *st)
{
        return image_config_container(st->cfg);
}

static json_t *config_object(struct build_state *st, const char *key)
{
        json_t *o = json_object_get(config(st), key);
        if (!json_is_object(o)) {
                o = json_object();
                json_object_set_new(config(st), key, o);
        }
        return o;
}

static int expand_pairs(const struct builder *b, struct build_state *st,
                        const struct dockerfile_instruction *in, char ***ret, struct st_error **err)
{
        _cleanup_strv_ char **kv = NULL;
        for (size_t i = 0; i < in->n_pairs; i++) {
                _cleanup_free_ char *k = NULL, *v = NULL;
                int r = build_expand(b, st, in->pairs[i].key, &k, err);
                if (r >= 0)
                        r = build_expand(b, st, in->pairs[i].value ?: "", &v, err);
                if (r < 0)
                        return r;
                strv_consume(&kv, xasprintf("%s=%s", k, v));
        }
        *ret = TAKE_PTR(kv);
        return 0;
}

static char *join_words(char *const *l)
{
        char *out = xstrdup("");
        for (char *const *p = l; p && *p; p++) {
                char *n = xasprintf("%s%s%s", out, p == l ? "" : " ", *p);
                free(out);
                out = n;
        }
        return out;
}

static void env_set(struct build_state *st, const char *kv)
{
        json_t *env = json_object_get(config(st), "Env");
        if (!json_is_array(env)) {
                env = json_array();
                json_object_set_new(config(st), "Env", env);
        }
        size_t n = strcspn(kv, "=");
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, env) {
                const char *e = json_string_value(v);
                if (e && strncmp(e, kv, n) == 0 && e[n] == '=') {
                        json_array_set_new(env, i, json_string(kv));
                        return;
                }
        }
        json_array_append_new(env, json_string(kv));
}

static int do_env(struct builder *b, struct build_state *st,
                  const struct dockerfile_instruction *in, struct st_error **err)
{
        /* each pair sees the ones before it */
        _cleanup_strv_ char **done = NULL;
        for (size_t i = 0; i < in->n_pairs; i++) {
                _cleanup_free_ char *k = NULL, *v = NULL;
                int r = build_expand(b, st, in->pairs[i].key, &k, err);
                if (r >= 0)
                        r = build_expand(b, st, in->pairs[i].value ?: "", &v, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *kv = xasprintf("%s=%s", k, v);
                env_set(st, kv);
                strv_push(&done, kv);
        }
        _cleanup_free_ char *text = join_words(done);
        _cleanup_free_ char *cb = xasprintf("ENV %s", text);
        record(b, st, cb);
        return 0;
}

static char *arg_value(struct builder *b, const char *name)
{
        const char *v = NULL;
        STRV_FOREACH(a, b->plan->build_args) {
                size_t n = strcspn(*a, "=");
                if (strlen(name) == n && strncmp(*a, name, n) == 0 && (*a)[n] == '=')
                        v = *a + n + 1;
        }
        return v ? xstrdup(v) : NULL;
}

static char *global_value(struct builder *b, const char *name)
{
        size_t n = strlen(name);
        STRV_FOREACH(a, b->plan->global_args)
                if (strncmp(*a, name, n) == 0 && (*a)[n] == '=')
                        return xstrdup(*a + n + 1);
        return NULL;
}

static void arg_set(struct build_state *st, const char *name, const char *value)
{
        size_t n = strlen(name);
        STRV_FOREACH(a, st->args)
                if (strncmp(*a, name, n) == 0 && ((*a)[n] == '=' || !(*a)[n])) {
                        free(*a);
                        *a = value ? xasprintf("%s=%s", name, value) : xstrdup(name);
                        return;
                }
        strv_consume(&st->args, value ? xasprintf("%s=%s", name, value) : xstrdup(name));
}

static int do_arg(struct builder *b, struct build_state *st,
                  const struct dockerfile_instruction *in, struct st_error **err)
{
        struct dockerfile_platform platform = { "linux", "amd64", "" };
        for (size_t i = 0; i < in->n_pairs; i++) {
                const char *name = in->pairs[i].key;
                _cleanup_free_ char *v = arg_value(b, name);
                if (!v && in->pairs[i].value) {
                        int r = build_expand(b, st, in->pairs[i].value, &v, err);
                        if (r < 0)
                                return r;
                }
                if (!v)
                        v = global_value(b, name);
                if (!v)
                        v = dockerfile_plan_predefined_arg(&platform, name);
                arg_set(st, name, v);
                _cleanup_free_ char *t = xasprintf("ARG %s=%s", name, v ?: "");
                advance(st, t);
        }
        return 0;
}

static int do_label(struct builder *b, struct build_state *st,
                    const struct dockerfile_instruction *in, struct st_error **err)
{
        _cleanup_strv_ char **kv = NULL;
        int r = expand_pairs(b, st, in, &kv, err);
        if (r < 0)
                return r;
        json_t *labels = config_object(st, "Labels");
        STRV_FOREACH(p, kv) {
                _cleanup_free_ char *k = xstrndup(*p, strcspn(*p, "="));
                json_object_set_new(labels, k, json_string(*p + strlen(k) + 1));
        }
        _cleanup_free_ char *text = join_words(kv);
        _cleanup_free_ char *cb = xasprintf("LABEL %s", text);
        record(b, st, cb);
        return 0;
}

/* The arguments of IN, each word expanded (the parser split the shell form already). */
int build_expand_args(const struct builder *b, const struct build_state *st,
                      const struct dockerfile_instruction *in, char ***ret, struct st_error **err)
{
        _cleanup_strv_ char **out = NULL;
        for (size_t i = 0; i < in->n_args; i++) {
                _cleanup_free_ char *one = NULL;
                int r = build_expand(b, st, in->args[i], &one, err);
                if (r < 0)
                        return r;
                strv_push(&out, one);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static int do_expose(struct builder *b, struct build_state *st,
                     const struct dockerfile_instruction *in, struct st_error **err)
{
        _cleanup_strv_ char **w = NULL;
        int r = build_expand_args(b, st, in, &w, err);
        if (r < 0)
                return r;
        json_t *ports = config_object(st, "ExposedPorts");
        _cleanup_json_ json_t *mine = json_object();
        STRV_FOREACH(p, w) {
                _cleanup_free_ char *port = strchr(*p, '/') ? xstrdup(*p) : xasprintf("%s/tcp", *p);
                json_object_set_new(ports, port, json_object());
                json_object_set_new(mine, port, json_object());
        }
        _cleanup_strv_ char **keys = NULL;
        const char *k;
        json_t *v;
        json_object_foreach(mine, k, v) strv_consume(&keys, xasprintf("%s:{}", k));
        qsort(keys, strv_length(keys), sizeof(char *), build_strcmp_ptr);
        _cleanup_free_ char *text = join_words(keys);
        _cleanup_free_ char *cb = xasprintf("EXPOSE map[%s]", text);
        record(b, st, cb);
        return 0;
}

static int do_simple(struct builder *b, struct build_state *st,
                     const struct dockerfile_instruction *in, const char *field,
                     struct st_error **err)
{
        _cleanup_free_ char *v = NULL;
        int r = build_expand(b, st, in->args[0] ?: "", &v, err);
        if (r < 0)
                return r;
        json_set_str(config(st), field, v);
        _cleanup_free_ char *cb = xasprintf("%s %s", dockerfile_kind_to_string(in->kind), v);
        record(b, st, cb);
        return 0;
}

static int do_workdir(struct builder *b, struct build_state *st,
                      const struct dockerfile_instruction *in, struct st_error **err)
{
        _cleanup_free_ char *v = NULL, *clean = NULL;
        int r = build_expand(b, st, in->args[0] ?: "", &v, err);
        if (r < 0)
                return r;
        const char *cur = json_get_str(config(st), "WorkingDir");
        _cleanup_free_ char *joined = v[0] == '/' ? xstrdup(v) : xasprintf("%s/%s", cur ?: "", v);
        r = archive_path_clean(joined + strspn(joined, "/"), &clean);
        if (r < 0)
                return st_error_set_errno(err, r, "WORKDIR '%s'", v);
        _cleanup_free_ char *abs = xasprintf("/%s", clean);
        _cleanup_free_ char *cb = xasprintf("WORKDIR %s", abs);
        build_step_begin(b, cb);
        json_set_str(config(st), "WorkingDir", abs);
        record(b, st, cb);
        build_emit(b, BUILD_EVENT_DONE, NULL);
        return 0;
}

static int do_volume(struct builder *b, struct build_state *st,
                     const struct dockerfile_instruction *in, struct st_error **err)
{
        _cleanup_strv_ char **w = NULL;
        int r = build_expand_args(b, st, in, &w, err);
        if (r < 0)
                return r;
        json_t *vols = config_object(st, "Volumes");
        STRV_FOREACH(p, w)
                json_object_set_new(vols, *p, json_object());
        _cleanup_free_ char *text = build_go_strv(w);
        _cleanup_free_ char *cb = xasprintf("VOLUME %s", text);
        record(b, st, cb);
        return 0;
}

char **build_shell(const struct build_state *st)
{
        json_t *sh = json_object_get(image_config_container(st->cfg), "Shell");
        char **l = NULL;
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, sh)
                strv_push(&l, json_string_value(v) ?: "");
        if (!l) {
                strv_push(&l, "/bin/sh");
                strv_push(&l, "-c");
        }
        return l;
}

/* CMD, ENTRYPOINT and HEALTHCHECK's command: exec form as is, shell form through SHELL. */
static char **command(const struct build_state *st, const struct dockerfile_instruction *in,
                      size_t skip)
{
        if (in->exec_form)
                return strv_copy(in->args + skip);
        char **l = build_shell(st);
        if (in->args[skip])
                strv_push(&l, in->args[skip]);
        return l;
}

static json_t *strv_json(char *const *l)
{
        json_t *a = json_array();
        for (char *const *p = l; p && *p; p++)
                json_array_append_new(a, json_string(*p));
        return a;
}

static int do_cmd(struct builder *b, struct build_state *st,
                  const struct dockerfile_instruction *in, struct st_error **err)
{
        (void)b, (void)err;
        _cleanup_strv_ char **l = command(st, in, 0);
        bool entry = in->kind == DOCKERFILE_ENTRYPOINT;
        json_object_set_new(config(st), entry ? "Entrypoint" : "Cmd", strv_json(l));
        if (entry && !st->cfg->cmd_set)
                json_object_set_new(config(st), "Cmd", json_null());
        if (!entry)
                st->cfg->cmd_set = true;
        _cleanup_free_ char *q = build_go_quote_strv(l);
        _cleanup_free_ char *cb = xasprintf("%s %s", entry ? "ENTRYPOINT" : "CMD", q);
        record(b, st, cb);
        return 0;
}

static int do_shell(struct builder *b, struct build_state *st,
                    const struct dockerfile_instruction *in, struct st_error **err)
{
        (void)b;
        if (!in->exec_form)
                return st_error_set(err, ST_E_PARSE,
                                    "%s:%u: SHELL requires the arguments to be "
                                    "in JSON form",
                                    b->df->filename, in->line);
        json_object_set_new(config(st), "Shell", strv_json(in->args));
        _cleanup_free_ char *text = build_go_strv(in->args);
        _cleanup_free_ char *cb = xasprintf("SHELL %s", text);
        record(b, st, cb);
        return 0;
}

static int health_duration(const struct dockerfile_instruction *in, const char *flag, json_t *hc,
                           const char *key, struct st_error **err)
{
        const struct dockerfile_flag *f = dockerfile_instruction_flag(in, flag);
        int64_t ns = 0;
        if (!f)
                return 0;
        if (dockerfile_parse_duration(f->value ?: "", &ns) < 0)
                return st_error_set(err, ST_E_PARSE, "HEALTHCHECK: invalid --%s '%s'", flag,
                                    f->value ?: "");
        json_object_set_new(hc, key, json_integer(ns));
        return 0;
}

static int do_healthcheck(struct builder *b, struct build_state *st,
                          const struct dockerfile_instruction *in, struct st_error **err)
{
        (void)b;
        json_t *hc = json_object();
        json_object_set_new(config(st), "Healthcheck", hc);
        if (in->args[0] && strcasecmp(in->args[0], "NONE") == 0) {
                json_object_set_new(hc, "Test", strv_json((char *[]){ (char *)"NONE", NULL }));
        } else {
                _cleanup_strv_ char **test = NULL;
                strv_push(&test, in->exec_form ? "CMD" : "CMD-SHELL");
                for (size_t i = 1; i < in->n_args; i++)
                        strv_push(&test, in->args[i]);
                json_object_set_new(hc, "Test", strv_json(test));
                const struct dockerfile_flag *rf = dockerfile_instruction_flag(in, "retries");
                int r = health_duration(in, "interval", hc, "Interval", err);
                if (r >= 0)
                        r = health_duration(in, "timeout", hc, "Timeout", err);
                if (r >= 0)
                        r = health_duration(in, "start-period", hc, "StartPeriod", err);
                if (r >= 0)
                        r = health_duration(in, "start-interval", hc, "StartInterval", err);
                if (r < 0)
                        return r;
                if (rf && rf->value)
                        json_object_set_new(hc, "Retries",
                                            json_integer(strtol(rf->value, NULL, 10)));
        }
        _cleanup_free_ char *text = json_dump_compact(hc);
        _cleanup_free_ char *cb = xasprintf("HEALTHCHECK %s", text);
        record(b, st, cb);
        return 0;
}

static int do_onbuild(struct builder *b, struct build_state *st,
                      const struct dockerfile_instruction *in, struct st_error **err)
{
        (void)b, (void)err;
        const char *t = in->trigger->original;
        json_t *ob = json_object_get(config(st), "OnBuild");
        if (!json_is_array(ob)) {
                ob = json_array();
                json_object_set_new(config(st), "OnBuild", ob);
        }
        json_array_append_new(ob, json_string(t));
        _cleanup_free_ char *cb = xasprintf("ONBUILD %s", t);
        record(b, st, cb);
        return 0;
}

static int do_maintainer(struct builder *b, struct build_state *st,
                         const struct dockerfile_instruction *in, struct st_error **err)
{
        (void)b, (void)err;
        json_set_str(st->cfg->root, "author", in->args[0] ?: "");
        free(st->cfg->author);
        st->cfg->author = xstrdup(in->args[0] ?: "");
        _cleanup_free_ char *cb = xasprintf("MAINTAINER %s", in->args[0] ?: "");
        record(b, st, cb);
        return 0;
}

int build_step_config(struct builder *b, struct build_state *st,
                      const struct dockerfile_instruction *in, struct st_error **err)
{
        switch (in->kind) {
        case DOCKERFILE_RUN:
                return build_step_run(b, st, in, err);
        case DOCKERFILE_COPY:
        case DOCKERFILE_ADD:
                return build_step_copy(b, st, in, err);
        case DOCKERFILE_ENV:
                return do_env(b, st, in, err);
        case DOCKERFILE_ARG:
                return do_arg(b, st, in, err);
        case DOCKERFILE_LABEL:
                return do_label(b, st, in, err);
        case DOCKERFILE_EXPOSE:
                return do_expose(b, st, in, err);
        case DOCKERFILE_WORKDIR:
                return do_workdir(b, st, in, err);
        case DOCKERFILE_USER:
                return do_simple(b, st, in, "User", err);
        case DOCKERFILE_STOPSIGNAL:
                return do_simple(b, st, in, "StopSignal", err);
        case DOCKERFILE_VOLUME:
                return do_volume(b, st, in, err);
        case DOCKERFILE_CMD:
        case DOCKERFILE_ENTRYPOINT:
                return do_cmd(b, st, in, err);
        case DOCKERFILE_SHELL:
                return do_shell(b, st, in, err);
        case DOCKERFILE_HEALTHCHECK:
                return do_healthcheck(b, st, in, err);
        case DOCKERFILE_ONBUILD:
                return do_onbuild(b, st, in, err);
        case DOCKERFILE_MAINTAINER:
                return do_maintainer(b, st, in, err);
        default:
                return st_error_set(err, ST_E_UNSUPPORTED, "%s is not supported", in->keyword);
        }
}
