#include "dockerfile/plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "dockerfile/expand.h"

/* Variables in scope while walking: name/value pairs, latest definition wins; a NULL value is
 * declared but unset. */
struct scope {
        char **names;
        char **values; /* parallel to names; entries may be NULL */
        size_t n;
        const struct dockerfile_platform *platform;
        char *tmp; /* predefined value returned by the last lookup */
};

static void scope_set(struct scope *s, const char *name, const char *value)
{
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->names[i], name)) {
                        free(s->values[i]);
                        s->values[i] = xstrdup(value);
                        return;
                }
        s->names = xrealloc(s->names, sizeof(char *) * (s->n + 1));
        s->values = xrealloc(s->values, sizeof(char *) * (s->n + 1));
        s->names[s->n] = xstrdup(name);
        s->values[s->n++] = xstrdup(value);
}

static bool scope_get(const struct scope *s, const char *name, const char **ret)
{
        for (size_t i = s->n; i-- > 0;)
                if (streq(s->names[i], name)) {
                        *ret = s->values[i];
                        return true;
                }
        return false;
}

static void scope_release(struct scope *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->names[i]);
                free(s->values[i]);
        }
        free(s->names);
        free(s->values);
        free(s->tmp);
        *s = (struct scope){ 0 };
}

static const char *scope_lookup(void *u, const char *name)
{
        struct scope *s = u;
        const char *v = NULL;
        if (scope_get(s, name, &v))
                return v;
        return NULL;
}

/* The global scope also sees the predefined platform arguments. */
static const char *global_lookup(void *u, const char *name)
{
        struct scope *s = u;
        const char *v = NULL;
        if (scope_get(s, name, &v))
                return v;
        free(s->tmp);
        s->tmp = dockerfile_plan_predefined_arg(s->platform, name);
        return s->tmp;
}

char *dockerfile_plan_predefined_arg(const struct dockerfile_platform *p, const char *name)
{
        const char *os = p->os, *arch = p->arch, *variant = p->variant ? p->variant : "";
        const char *kind = startswith(name, "TARGET") ?: startswith(name, "BUILD");
        if (!kind)
                return NULL;
        if (streq(kind, "PLATFORM"))
                return *variant ? xasprintf("%s/%s/%s", os, arch, variant)
                                : xasprintf("%s/%s", os, arch);
        if (streq(kind, "OS"))
                return xstrdup(os);
        if (streq(kind, "ARCH"))
                return xstrdup(arch);
        if (streq(kind, "VARIANT"))
                return xstrdup(variant);
        return NULL;
}

bool dockerfile_plan_is_proxy_arg(const char *name)
{
        static const char *const proxies[] = { "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY",
                                               "ALL_PROXY" };
        for (size_t i = 0; i < ELEMENTSOF(proxies); i++)
                if (strcasecmp(name, proxies[i]) == 0 &&
                    (streq(name, proxies[i]) || !strpbrk(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
                        return true;
        return false;
}

static bool is_predefined(const char *name)
{
        static const char *const names[] = {
                "TARGETPLATFORM", "TARGETOS",  "TARGETARCH",   "TARGETVARIANT",    "BUILDPLATFORM",
                "BUILDOS",        "BUILDARCH", "BUILDVARIANT", "SOURCE_DATE_EPOCH"
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(name, names[i]))
                        return true;
        return dockerfile_plan_is_proxy_arg(name);
}

struct dockerfile_plan *dockerfile_plan_free(struct dockerfile_plan *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_stages; i++) {
                struct dockerfile_plan_stage *st = &p->stages[i];
                free(st->name);
                free(st->base);
                free(st->platform);
                free(st->deps);
                strv_free(st->images);
        }
        free(p->stages);
        strv_free(p->global_args);
        strv_free(p->build_args);
        strv_free(p->unused_build_args);
        free(p);
        return NULL;
}

int dockerfile_plan_stage_lookup(const struct dockerfile_plan *p, const char *name)
{
        for (size_t i = 0; i < p->n_stages; i++)
                if (p->stages[i].name && strcasecmp(p->stages[i].name, name) == 0)
                        return (int)i;
        uint64_t n;
        if (parse_u64(name, &n) >= 0 && n < p->n_stages)
                return (int)n;
        return -1;
}

/* The value given for NAME with --build-arg (borrowed from the plan), or NULL. */
static const char *build_arg(const struct dockerfile_plan *p, const char *name)
{
        size_t n = strlen(name);
        STRV_FOREACH(a, p->build_args)
                if (strncmp(*a, name, n) == 0 && (*a)[n] == '=')
                        return *a + n + 1;
        return NULL;
}

static int fail_at(struct st_error **err, const struct dockerfile *df,
                   const struct dockerfile_instruction *in, const char *fmt, ...) _printf_(4, 5);

static int fail_at(struct st_error **err, const struct dockerfile *df,
                   const struct dockerfile_instruction *in, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *m = xvasprintf(fmt, ap);
        va_end(ap);
        return st_error_set(err, ST_E_PARSE, "%s:%u: %s",
                            df->filename ? df->filename : "Dockerfile", in->line, m);
}

static int expand(const struct dockerfile *df, const struct dockerfile_instruction *in,
                  const char *word, dockerfile_lookup_fn lookup, struct scope *sc, char **ret,
                  struct st_error **err)
{
        _cleanup_error_ struct st_error *e = NULL;
        int r = dockerfile_expand_word(word, df->escape, lookup, sc, ret, NULL, &e);
        if (r < 0)
                return fail_at(err, df, in, "%s", st_error_msg(e));
        return 0;
}

/* ARG inside a stage or before the first FROM: the build arg wins, then (in a stage) the
 * global value of a redeclared global ARG, then the default. */
static int declare_args(struct dockerfile_plan *p, const struct dockerfile *df,
                        const struct dockerfile_instruction *in, struct scope *sc,
                        const struct scope *global, dockerfile_lookup_fn lookup,
                        struct st_error **err)
{
        for (size_t i = 0; i < in->n_pairs; i++) {
                const struct dockerfile_pair *a = &in->pairs[i];
                const char *v = build_arg(p, a->key), *g = NULL;
                _cleanup_free_ char *def = NULL;
                if (!v && global && scope_get(global, a->key, &g))
                        v = g;
                if (!v && a->value) {
                        int r = expand(df, in, a->value, lookup, sc, &def, err);
                        if (r < 0)
                                return r;
                        v = def;
                }
                _cleanup_free_ char *pre =
                        v ? NULL : dockerfile_plan_predefined_arg(sc->platform, a->key);
                scope_set(sc, a->key, v ?: pre);
        }
        return 0;
}

static int set_env(const struct dockerfile *df, const struct dockerfile_instruction *in,
                   struct scope *sc, struct st_error **err)
{
        for (size_t i = 0; i < in->n_pairs; i++) {
                _cleanup_free_ char *v = NULL;
                int r = expand(df, in, in->pairs[i].value ?: "", scope_lookup, sc, &v, err);
                if (r < 0)
                        return r;
                scope_set(sc, in->pairs[i].key, v);
        }
        return 0;
}

static bool valid_stage_name(const char *n)
{
        if (!islower((unsigned char)n[0]))
                return false;
        for (const char *c = n; *c; c++)
                if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) &&
                    !strchr("-_.", *c))
                        return false;
        return true;
}

static char *lowercase(const char *s)
{
        char *l = xstrdup(s);
        for (char *c = l; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        return l;
}

/* A new stage from the FROM at index I, its image and --platform expanded in GLOBAL. */
static int add_stage(struct dockerfile_plan *p, const struct dockerfile *df, size_t i,
                     struct scope *global, struct st_error **err)
{
        const struct dockerfile_instruction *in = &df->instructions[i];
        if (in->n_args != 1 && !(in->n_args == 3 && strcasecmp(in->args[1], "as") == 0))
                return fail_at(err, df, in, "FROM requires either one or three arguments");
        p->stages = xrealloc(p->stages, sizeof(*p->stages) * (p->n_stages + 1));
        struct dockerfile_plan_stage *st = &p->stages[p->n_stages];
        *st = (struct dockerfile_plan_stage){
                .index = p->n_stages, .base_stage = -1, .from = i, .first = i + 1, .end = i + 1
        };
        p->n_stages++;
        if (in->n_args == 3) {
                st->name = lowercase(in->args[2]);
                if (!valid_stage_name(st->name))
                        return fail_at(err, df, in,
                                       "invalid name for build stage: \"%s\", name "
                                       "can't start with a number or contain symbols",
                                       in->args[2]);
                for (size_t k = 0; k + 1 < p->n_stages; k++)
                        if (streq_ptr(p->stages[k].name, st->name))
                                return fail_at(err, df, in, "duplicate stage name \"%s\"",
                                               st->name);
        }
        int r = expand(df, in, in->args[0], global_lookup, global, &st->base, err);
        if (r < 0)
                return r;
        if (!*st->base)
                return fail_at(err, df, in, "base name (%s) should not be blank", in->args[0]);
        const struct dockerfile_flag *pf = dockerfile_instruction_flag(in, "platform");
        if (pf && pf->value)
                r = expand(df, in, pf->value, global_lookup, global, &st->platform, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *lower = lowercase(st->base);
        for (size_t k = 0; k + 1 < p->n_stages; k++)
                if (streq_ptr(p->stages[k].name, lower))
                        st->base_stage = (int)k;
        return 0;
}

static void add_dep(struct dockerfile_plan_stage *st, size_t dep)
{
        for (size_t i = 0; i < st->n_deps; i++)
                if (st->deps[i] == dep)
                        return;
        st->deps = xrealloc(st->deps, sizeof(size_t) * (st->n_deps + 1));
        st->deps[st->n_deps++] = dep;
}

/* A --from value (of COPY, or from= of RUN --mount): a stage by name or index, else an image. */
static int add_reference(struct dockerfile_plan *p, struct dockerfile_plan_stage *st,
                         const struct dockerfile *df, const struct dockerfile_instruction *in,
                         const char *raw, struct scope *sc, struct st_error **err)
{
        _cleanup_free_ char *v = NULL;
        int r = expand(df, in, raw, scope_lookup, sc, &v, err);
        if (r < 0)
                return r;
        uint64_t idx;
        if (parse_u64(v, &idx) >= 0) {
                if (idx >= st->index)
                        return fail_at(err, df, in,
                                       "invalid stage index %s: it must refer to a "
                                       "previous stage",
                                       v);
                add_dep(st, (size_t)idx);
                return 0;
        }
        _cleanup_free_ char *lower = lowercase(v);
        for (size_t k = 0; k < p->n_stages; k++)
                if (streq_ptr(p->stages[k].name, lower)) {
                        if (k == st->index)
                                return fail_at(err, df, in,
                                               "circular dependency detected on "
                                               "stage: %s",
                                               lower);
                        add_dep(st, k);
                        return 0;
                }
        if (!strv_contains(st->images, v))
                strv_push(&st->images, v);
        return 0;
}

/* The from= value inside a RUN --mount flag ("type=bind,from=builder,target=/x"), or NULL;
 * caller frees. */
static char *mount_from(const char *spec)
{
        _cleanup_free_ char *copy = xstrdup(spec);
        for (char *save = NULL, *f = strtok_r(copy, ",", &save); f;
             f = strtok_r(NULL, ",", &save)) {
                const char *v = startswith(f, "from=");
                if (v)
                        return xstrdup(v);
        }
        return NULL;
}

static int stage_references(struct dockerfile_plan *p, struct dockerfile_plan_stage *st,
                            const struct dockerfile *df, const struct dockerfile_instruction *in,
                            struct scope *sc, struct st_error **err)
{
        int r = 0;
        for (size_t f = 0; r >= 0 && f < in->n_flags; f++) {
                const struct dockerfile_flag *fl = &in->flags[f];
                if (!fl->value)
                        continue;
                if (streq(fl->name, "from") &&
                    (in->kind == DOCKERFILE_COPY || in->kind == DOCKERFILE_ADD))
                        r = add_reference(p, st, df, in, fl->value, sc, err);
                else if (streq(fl->name, "mount") && in->kind == DOCKERFILE_RUN) {
                        _cleanup_free_ char *from = mount_from(fl->value);
                        if (from)
                                r = add_reference(p, st, df, in, from, sc, err);
                }
        }
        return r;
}

/* The stages' own instructions: ARG and ENV scope (for --from values), references, consumed
 * build args. */
static int walk_stage(struct dockerfile_plan *p, const struct dockerfile *df, size_t s,
                      const struct scope *global, char ***consumed, struct st_error **err)
{
        struct dockerfile_plan_stage *st = &p->stages[s];
        struct scope sc = { .platform = global->platform };
        int r = 0;
        for (size_t i = st->first; r >= 0 && i < st->end; i++) {
                const struct dockerfile_instruction *in = &df->instructions[i];
                if (in->kind == DOCKERFILE_ARG) {
                        for (size_t k = 0; k < in->n_pairs; k++)
                                if (!strv_contains(*consumed, in->pairs[k].key) &&
                                    build_arg(p, in->pairs[k].key))
                                        strv_push(consumed, in->pairs[k].key);
                        r = declare_args(p, df, in, &sc, global, scope_lookup, err);
                } else if (in->kind == DOCKERFILE_ENV)
                        r = set_env(df, in, &sc, err);
                else
                        r = stage_references(p, st, df, in, &sc, err);
        }
        scope_release(&sc);
        if (r >= 0 && st->base_stage >= 0)
                add_dep(st, (size_t)st->base_stage);
        return r;
}

/* Mark S and what it needs, depth first; a stage met again on the current path is a cycle. */
static int mark_needed(struct dockerfile_plan *p, const struct dockerfile *df, size_t s,
                       bool *on_path, struct st_error **err)
{
        struct dockerfile_plan_stage *st = &p->stages[s];
        if (on_path[s])
                return fail_at(err, df, &df->instructions[st->from],
                               "circular dependency detected on stage: %s",
                               st->name ? st->name : "(unnamed)");
        if (st->needed)
                return 0;
        on_path[s] = true;
        for (size_t i = 0; i < st->n_deps; i++) {
                int r = mark_needed(p, df, st->deps[i], on_path, err);
                if (r < 0)
                        return r;
        }
        on_path[s] = false;
        st->needed = true;
        return 0;
}

static void resolve_build_args(struct dockerfile_plan *p, char **build_args, char **envp)
{
        STRV_FOREACH(a, build_args) {
                if (strchr(*a, '=')) {
                        strv_push(&p->build_args, *a);
                        continue;
                }
                size_t n = strlen(*a);
                STRV_FOREACH(e, envp)
                        if (strncmp(*e, *a, n) == 0 && (*e)[n] == '=')
                                strv_push(&p->build_args, *e);
        }
}

/* Everything up to the first FROM (global ARGs), then the stages' boundaries. */
static int split_stages(struct dockerfile_plan *p, const struct dockerfile *df,
                        struct scope *global, char ***consumed, struct st_error **err)
{
        for (size_t i = 0; i < df->n_instructions; i++) {
                const struct dockerfile_instruction *in = &df->instructions[i];
                int r = 0;
                if (in->kind == DOCKERFILE_FROM)
                        r = add_stage(p, df, i, global, err);
                else if (p->n_stages > 0)
                        p->stages[p->n_stages - 1].end = i + 1;
                else if (in->kind == DOCKERFILE_ARG) {
                        for (size_t k = 0; k < in->n_pairs; k++)
                                if (build_arg(p, in->pairs[k].key) &&
                                    !strv_contains(*consumed, in->pairs[k].key))
                                        strv_push(consumed, in->pairs[k].key);
                        r = declare_args(p, df, in, global, NULL, global_lookup, err);
                } else
                        r = fail_at(err, df, in, "no build stage in current context");
                if (r < 0)
                        return r;
        }
        if (p->n_stages == 0)
                return st_error_set(err, ST_E_PARSE, "%s: no build stage in current context",
                                    df->filename ? df->filename : "Dockerfile");
        return 0;
}

int dockerfile_plan_new(const struct dockerfile *df, char **build_args, char **envp,
                        const char *target, const struct dockerfile_platform *platform,
                        struct dockerfile_plan **ret, struct st_error **err)
{
        _cleanup_dockerfile_plan_ struct dockerfile_plan *p = xcalloc(1, sizeof(*p));
        struct scope global = { .platform = platform };
        _cleanup_strv_ char **consumed = NULL;
        resolve_build_args(p, build_args, envp);
        int r = split_stages(p, df, &global, &consumed, err);
        _cleanup_free_ char ***stage_consumed = xcalloc(p->n_stages + 1, sizeof(char **));
        for (size_t s = 0; r >= 0 && s < p->n_stages; s++)
                r = walk_stage(p, df, s, &global, &stage_consumed[s], err);
        for (size_t i = 0; r >= 0 && i < global.n; i++)
                strv_consume(&p->global_args,
                             xasprintf("%s=%s", global.names[i], global.values[i] ?: ""));
        scope_release(&global);
        if (r < 0) {
                for (size_t s = 0; s < p->n_stages; s++)
                        strv_free(stage_consumed[s]);
                return r;
        }
        int t = target ? dockerfile_plan_stage_lookup(p, target) : (int)p->n_stages - 1;
        if (t >= 0 && target && (!p->stages[t].name || strcasecmp(p->stages[t].name, target)))
                t = -1;
        if (t < 0)
                r = st_error_set(err, ST_E_PARSE, "target stage \"%s\" could not be found", target);
        _cleanup_free_ bool *on_path = xcalloc(p->n_stages, sizeof(bool));
        if (r >= 0) {
                p->target = (size_t)t;
                r = mark_needed(p, df, p->target, on_path, err);
        }
        for (size_t s = 0; s < p->n_stages; s++) {
                if (r >= 0 && p->stages[s].needed)
                        STRV_FOREACH(a, stage_consumed[s])
                                if (!strv_contains(consumed, *a))
                                        strv_push(&consumed, *a);
                strv_free(stage_consumed[s]);
        }
        if (r < 0)
                return r;
        STRV_FOREACH(a, p->build_args) {
                _cleanup_free_ char *name = xstrndup(*a, strcspn(*a, "="));
                if (!strv_contains(consumed, name) && !is_predefined(name))
                        strv_push(&p->unused_build_args, name);
        }
        *ret = TAKE_PTR(p);
        return 0;
}
