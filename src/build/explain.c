/* Step records and --explain: what a layer step's key was made of, and, on a cache miss, which
 * of those inputs differ from the step's last earlier build. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/util.h"
#include "build/build-internal.h"
#include "json/json.h"

#define VALUE_MAX 60 /* characters of a value quoted in a line */

static json_t *strv_json(char *const *l)
{
        json_t *a = json_array();
        for (char *const *p = l; p && *p; p++)
                json_array_append_new(a, json_string(*p));
        return a;
}

json_t *build_inputs_new(const struct builder *b, const struct build_state *st, const char *text)
{
        const json_t *c = image_config_container(st->cfg);
        json_t *j = json_object();
        json_object_set_new(j, "v", json_integer(1));
        json_object_set_new(j, "parent", json_string(st->key));
        json_set_str(j, "base", st->base);
        json_object_set_new(j, "trail", strv_json(st->trail));
        json_object_set_new(j, "args", strv_json(st->args));
        const json_t *env = json_object_get(c, "Env");
        json_object_set_new(j, "env", json_is_array(env) ? json_deep_copy(env) : json_array());
        json_set_str(j, "user", json_get_str(c, "User") ?: "");
        json_set_str(j, "workdir", json_get_str(c, "WorkingDir") ?: "");
        json_set_str(j, "text", text);
        _cleanup_free_ char *comp = xasprintf("%s:%d", compress_type_to_string(b->compression),
                                              b->o->compression_level);
        json_set_str(j, "compression", comp);
        return j;
}

void build_inputs_add_file(void *userdata, const char *src, const char *meta, const char *digest)
{
        json_t *j = userdata;
        json_t *files = json_object_get(j, "files");
        if (!files) {
                files = json_array();
                json_object_set_new(j, "files", files);
        }
        json_int_t n = json_integer_value(json_object_get(j, "nfiles"));
        json_object_set_new(j, "nfiles", json_integer(n + 1));
        if (json_array_size(files) >= BUILD_INPUTS_FILES_MAX || strlen(src) > BUILD_INPUTS_PATH_MAX)
                return;
        /* 16 hex digits of the digest are plenty to tell a change */
        const char *hex = strchr(digest, ':');
        _cleanup_free_ char *short_digest = xstrndup(hex ? hex + 1 : digest, 16);
        json_t *e = json_array();
        json_array_append_new(e, json_string(src));
        json_array_append_new(e, json_string(meta));
        json_array_append_new(e, json_string(short_digest));
        json_array_append_new(files, e);
}

/* ----- the comparison ----- */

static void add(char ***lines, char *line)
{
        if (strv_contains(*lines, line))
                free(line);
        else
                strv_consume(lines, line);
}

static char *quote(const char *v)
{
        if (!v)
                return xstrdup("(unset)");
        if (strlen(v) <= VALUE_MAX)
                return xasprintf("'%s'", v);
        return xasprintf("'%.*s...'", VALUE_MAX, v);
}

static void add_change(char ***lines, const char *what, const char *a, const char *b)
{
        _cleanup_free_ char *qa = quote(a), *qb = quote(b);
        add(lines, xasprintf("%s changed: %s -> %s", what, qa, qb));
}

/* A "K=V" value as shown: quoted, "(no value)" for a bare "K", "(unset)" if absent. */
static char *show_kv(bool found, const char *v)
{
        return !found ? xstrdup("(unset)") : v ? quote(v) : xstrdup("(no value)");
}

static const char *get(const json_t *o, const char *k)
{
        return json_get_str(o, k);
}

/* The value of NAME in the "K=V" array A: V, "" for a bare "K", NULL if absent. */
static const char *kv_get(const json_t *a, const char *name, bool *found)
{
        size_t n = strlen(name);
        json_t *v;
        *found = false;
        JSON_ARRAY_FOREACH(i, v, a) {
                const char *s = json_string_value(v);
                if (s && strncmp(s, name, n) == 0 && (s[n] == '=' || s[n] == 0)) {
                        *found = true;
                        return s[n] == '=' ? s + n + 1 : NULL;
                }
        }
        return NULL;
}

static void diff_kv_one_way(char ***lines, const char *what, const json_t *from, const json_t *to,
                            bool forward)
{
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, to) {
                const char *s = json_string_value(v);
                if (!s)
                        continue;
                _cleanup_free_ char *k = xstrndup(s, strcspn(s, "="));
                bool found_to, found_from;
                const char *vt = kv_get(to, k, &found_to);
                const char *vf = kv_get(from, k, &found_from);
                if (found_from && streq_ptr(vt, vf))
                        continue;
                if (!forward && found_from)
                        continue; /* reported going forward */
                _cleanup_free_ char *sf = show_kv(found_from, vf), *st = show_kv(true, vt);
                if (forward)
                        add(lines, xasprintf("%s %s changed: %s -> %s", what, k, sf, st));
                else
                        add(lines, xasprintf("%s %s changed: %s -> (unset)", what, k, st));
        }
}

static void diff_kv(char ***lines, const char *what, const json_t *prev, const json_t *cur)
{
        diff_kv_one_way(lines, what, prev, cur, true);
        diff_kv_one_way(lines, what, cur, prev, false);
}

static bool in_array(const json_t *a, const char *s)
{
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, a)
                if (streq_ptr(json_string_value(v), s))
                        return true;
        return false;
}

static bool skip_trail(const char *s)
{
        /* their effect is in args, env, user and workdir */
        return startswith(s, "ARG ") || startswith(s, "ENV ") || startswith(s, "USER ") ||
               startswith(s, "WORKDIR ");
}

/* Items of list PREV and CUR (strings) that differ, as NOUN lines. */
static void diff_list(char ***lines, const char *noun, const json_t *prev, const json_t *cur,
                      bool trail)
{
        _cleanup_strv_ char **gone = NULL, **added = NULL;
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, prev) {
                const char *s = json_string_value(v);
                if (s && !(trail && skip_trail(s)) && !in_array(cur, s))
                        strv_push(&gone, s);
        }
        JSON_ARRAY_FOREACH(i, v, cur) {
                const char *s = json_string_value(v);
                if (s && !(trail && skip_trail(s)) && !in_array(prev, s))
                        strv_push(&added, s);
        }
        size_t ng = strv_length(gone), na = strv_length(added);
        for (size_t i = 0; ng == na && i < ng; i++)
                add_change(lines, noun, gone[i], added[i]);
        for (size_t i = 0; ng != na && i < ng; i++) {
                _cleanup_free_ char *q = quote(gone[i]);
                add(lines, xasprintf("%s %s removed", noun, q));
        }
        for (size_t i = 0; ng != na && i < na; i++) {
                _cleanup_free_ char *q = quote(added[i]);
                add(lines, xasprintf("%s %s added", noun, q));
        }
}

/* ----- files ----- */

static int cmp_file(const void *a, const void *b)
{
        const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        return strcmp(json_string_value(json_array_get(x, 0)) ?: "",
                      json_string_value(json_array_get(y, 0)) ?: "");
}

static json_t **sorted_files(const json_t *files, size_t *ret_n)
{
        size_t n = json_array_size(files);
        json_t **l = xcalloc(n + 1, sizeof(*l));
        size_t k = 0;
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, files)
                if (json_is_string(json_array_get(v, 0)))
                        l[k++] = v;
        qsort(l, k, sizeof(*l), cmp_file);
        *ret_n = k;
        return l;
}

static const char *field(const json_t *f, size_t i)
{
        return json_string_value(json_array_get(f, i)) ?: "";
}

/* "content", "mode 644 -> 755", "owner 0:0 -> 1:1", "type" of a file present in both. */
static char *file_change(const json_t *a, const json_t *b)
{
        unsigned ta = 0, ma = 0, tb = 0, mb = 0;
        char oa[64] = "", ob[64] = "";
        (void)sscanf(field(a, 1), "%o %o %63s", &ta, &ma, oa);
        (void)sscanf(field(b, 1), "%o %o %63s", &tb, &mb, ob);
        char *out = NULL;
        if (ta != tb)
                out = xstrdup("type");
        if (ta == tb && ma != mb)
                out = xasprintf("mode %o -> %o", ma, mb);
        if (!streq(oa, ob)) {
                char *n = xasprintf("%s%sowner %s -> %s", out ?: "", out ? ", " : "", oa, ob);
                free(out);
                out = n;
        }
        if (ta == tb && !streq(field(a, 2), field(b, 2))) {
                const char *what = ta == 0120000 ? "link target" : "content";
                char *n = xasprintf("%s%s%s", out ?: "", out ? ", " : "", what);
                free(out);
                out = n;
        }
        return out;
}

struct file_report {
        char ***lines;
        size_t n; /* changes found */
};

static void file_line(struct file_report *fr, char *line)
{
        if (++fr->n <= BUILD_EXPLAIN_FILES_MAX)
                add(fr->lines, line);
        else
                free(line);
}

static void diff_files(char ***lines, const json_t *prev, const json_t *cur)
{
        size_t np = 0, nc = 0;
        _cleanup_free_ json_t **p = sorted_files(json_object_get(prev, "files"), &np);
        _cleanup_free_ json_t **c = sorted_files(json_object_get(cur, "files"), &nc);
        struct file_report fr = { .lines = lines };
        size_t i = 0, k = 0;
        while (i < np || k < nc) {
                int d = i == np ? 1 : k == nc ? -1 : cmp_file(&p[i], &c[k]);
                if (d < 0) {
                        file_line(&fr, xasprintf("file '%s' removed", field(p[i++], 0)));
                } else if (d > 0) {
                        file_line(&fr, xasprintf("file '%s' added", field(c[k++], 0)));
                } else {
                        _cleanup_free_ char *what = file_change(p[i], c[k]);
                        if (what)
                                file_line(&fr,
                                          xasprintf("file '%s' changed: %s", field(c[k], 0), what));
                        i++, k++;
                }
        }
        if (fr.n > BUILD_EXPLAIN_FILES_MAX)
                add(lines, xasprintf("and %zu more files changed", fr.n - BUILD_EXPLAIN_FILES_MAX));
        json_int_t tp = json_integer_value(json_object_get(prev, "nfiles"));
        json_int_t tc = json_integer_value(json_object_get(cur, "nfiles"));
        if (fr.n == 0 && ((size_t)tp > np || (size_t)tc > nc))
                add(lines, xasprintf("a file not listed in the record changed (over %d files,"
                                     " or a path over %d bytes)",
                                     BUILD_INPUTS_FILES_MAX, BUILD_INPUTS_PATH_MAX));
}

static void diff_str(char ***lines, const char *what, const json_t *prev, const json_t *cur,
                     const char *key)
{
        if (!streq_ptr(get(prev, key), get(cur, key)))
                add_change(lines, what, get(prev, key), get(cur, key));
}

char **build_explain_diff(const json_t *prev, const json_t *cur, const char *last_step,
                          bool last_ran)
{
        char **lines = NULL;
        if (!prev) {
                strv_push(&lines, "no earlier build of this step");
                return lines;
        }
        bool parent_changed = !streq_ptr(get(prev, "parent"), get(cur, "parent"));
        diff_str(&lines, "base image", prev, cur, "base");
        if (parent_changed && last_step && last_ran)
                add(&lines, xasprintf("parent step %s was rebuilt", last_step));
        diff_kv(&lines, "build arg", json_object_get(prev, "args"), json_object_get(cur, "args"));
        diff_kv(&lines, "env", json_object_get(prev, "env"), json_object_get(cur, "env"));
        diff_str(&lines, "user", prev, cur, "user");
        diff_str(&lines, "workdir", prev, cur, "workdir");
        diff_list(&lines, "earlier instruction", json_object_get(prev, "trail"),
                  json_object_get(cur, "trail"), true);
        diff_str(&lines, "instruction", prev, cur, "text");
        diff_str(&lines, "network", prev, cur, "network");
        diff_list(&lines, "mount", json_object_get(prev, "mounts"), json_object_get(cur, "mounts"),
                  false);
        diff_files(&lines, prev, cur);
        diff_str(&lines, "compression", prev, cur, "compression");
        if (!lines && parent_changed)
                add(&lines,
                    last_step ? xasprintf("parent step %s used another cache entry", last_step)
                              : xstrdup("the parent changed"));
        if (!lines)
                strv_push(&lines, "its inputs changed");
        return lines;
}

bool build_explain_shared(const char *line)
{
        static const char *const prefixes[] = {
                "base image ", "build arg ", "env ", "user ", "workdir ", "earlier instruction "
        };
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (startswith(line, prefixes[i]))
                        return true;
        return false;
}

/* ----- bookkeeping ----- */

void build_use_add(struct builder *b, const char *key, const char *inputs)
{
        b->uses = xrealloc(b->uses, (b->n_uses + 1) * sizeof(*b->uses));
        b->uses[b->n_uses++] = (struct build_use){
                .key = xstrdup(key),
                .step = b->step_ident ? xstrdup(b->step_ident) : NULL,
                .inputs = inputs ? xstrdup(inputs) : NULL,
        };
}

bool build_use_stale(int64_t used)
{
        return used < (int64_t)time(NULL) - 1;
}

void build_state_stepped(struct build_state *st, const char *label, bool ran)
{
        st->trail = strv_free(st->trail);
        free(st->last_step);
        st->last_step = label ? xstrdup(label) : NULL;
        st->last_ran = ran;
}
