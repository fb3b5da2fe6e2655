/* `docker import --change` / `docker commit --change`: one Dockerfile instruction applied to a
 * config. Words are split on unquoted blanks, then quotes and backslashes are removed and
 * $VAR, ${VAR}, ${VAR:-word}, ${VAR:+word} are expanded from the config's Env, as Docker's
 * shell lexer does for these instructions. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "basic/util.h"
#include "image/config.h"
#include "image/manifest.h"
#include "json/json.h"

#define CHANGE_MAX (64u * 1024) /* cap on one change's JSON argument */

struct buf {
        char *s;
        size_t n, cap;
};

static void buf_putn(struct buf *b, const char *s, size_t n)
{
        if (b->n + n + 1 > b->cap) {
                b->cap = MAX(b->cap * 2, b->n + n + 16);
                b->s = xrealloc(b->s, b->cap);
        }
        memcpy(b->s + b->n, s, n);
        b->n += n;
        b->s[b->n] = 0;
}

static void buf_putc(struct buf *b, char c)
{
        buf_putn(b, &c, 1);
}

/* The value of NAME (N bytes) in ENV (an array of "K=V"), or NULL. */
static const char *env_lookup(const json_t *env, const char *name, size_t n)
{
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, json_is_array(env) ? env : NULL) {
                const char *s = json_string_value(v);
                if (s && strncmp(s, name, n) == 0 && s[n] == '=')
                        return s + n + 1;
        }
        return NULL;
}

static bool is_name_char(char c)
{
        return isascii((unsigned char)c) && (isalnum((unsigned char)c) || c == '_');
}

/* Expand the variable at *P (just after '$') into B; advances *P. */
static int expand_var(const char **p, const json_t *env, struct buf *b, struct st_error **err)
{
        const char *s = *p;
        if (*s != '{') {
                size_t n = 0;
                while (is_name_char(s[n]))
                        n++;
                const char *v = n ? env_lookup(env, s, n) : "$";
                buf_putn(b, v ? v : "", v ? strlen(v) : 0);
                *p = s + n;
                return 0;
        }
        const char *end = strchr(++s, '}');
        if (!end)
                return st_error_set(err, ST_E_PARSE, "missing '}' in variable substitution");
        size_t n = 0;
        while (s + n < end && is_name_char(s[n]))
                n++;
        const char *v = env_lookup(env, s, n), *word = s + n + 2;
        bool plain = s + n == end;
        if (n == 0 || (!plain && (s[n] != ':' || !strchr("-+", s[n + 1]) || word > end)))
                return st_error_set(err, ST_E_PARSE, "bad substitution '${%.*s}'",
                                    (int)MIN(end - s, 100), s);
        if (plain)
                buf_putn(b, v ? v : "", v ? strlen(v) : 0);
        else if ((s[n + 1] == '-') == !(v && *v))
                buf_putn(b, word, end - word);
        else if (s[n + 1] == '-')
                buf_putn(b, v, strlen(v));
        *p = end + 1;
        return 0;
}

/* Remove quotes and escapes from the N bytes at S and expand variables; caller frees *ret. */
static int expand_word(const char *s, size_t n, const json_t *env, char **ret,
                       struct st_error **err)
{
        struct buf b = { 0 };
        const char *p = s, *end = s + n;
        char quote = 0;
        int r = 0;
        buf_putn(&b, "", 0);
        while (p < end && r >= 0) {
                char c = *p++;
                if (quote != '\'' && c == '$' && p < end)
                        r = expand_var(&p, env, &b, err);
                else if (quote != '\'' && c == '\\' && p < end && (!quote || strchr("\"\\$", *p)))
                        buf_putc(&b, *p++);
                else if (!quote && (c == '\'' || c == '"'))
                        quote = c;
                else if (quote && c == quote)
                        quote = 0;
                else
                        buf_putc(&b, c);
        }
        if (r >= 0 && quote)
                r = st_error_set(err, ST_E_PARSE,
                                 "unexpected end of statement while looking for "
                                 "matching %s-quote",
                                 quote == '"' ? "double" : "single");
        if (r < 0) {
                free(b.s);
                return r;
        }
        *ret = b.s;
        return 0;
}

/* Split S into raw words at unquoted blanks (quotes and escapes kept for expand_word). */
static char **split_words(const char *s)
{
        char **l = xcalloc(1, sizeof(char *));
        while (*(s += strspn(s, " \t\r\n"))) {
                const char *p = s;
                char quote = 0;
                for (; *p && (quote || !strchr(" \t\r\n", *p)); p++) {
                        if (*p == '\\' && quote != '\'' && p[1])
                                p++;
                        else if (!quote && (*p == '\'' || *p == '"'))
                                quote = *p;
                        else if (quote == *p)
                                quote = 0;
                }
                strv_consume(&l, xstrndup(s, p - s));
                s = p;
        }
        return l;
}

static json_t *container_get(struct image_config *c, const char *key)
{
        return json_object_get(image_config_container(c), key);
}

/* The object at KEY of the container config, created if absent or null (borrowed). */
static json_t *container_object(struct image_config *c, const char *key)
{
        json_t *o = container_get(c, key);
        if (json_is_object(o))
                return o;
        o = json_object();
        json_object_set_new(image_config_container(c), key, o);
        return o;
}

static json_t *container_array(struct image_config *c, const char *key)
{
        json_t *a = container_get(c, key);
        if (json_is_array(a))
                return a;
        a = json_array();
        json_object_set_new(image_config_container(c), key, a);
        return a;
}

/* ARGS as a JSON array of strings, or NULL if it is not one (a new reference). */
static json_t *json_form(const char *args)
{
        json_t *j = NULL, *v;
        if (args[0] != '[' || json_parse(args, strlen(args), CHANGE_MAX, "change", &j, NULL) < 0)
                return NULL;
        bool ok = json_is_array(j);
        JSON_ARRAY_FOREACH(i, v, ok ? j : NULL)
                ok = ok && json_is_string(v);
        if (!ok)
                json_decref(j);
        return ok ? j : NULL;
}

/* The exec form of ARGS: its JSON array, or the config's Shell (or /bin/sh -c) plus ARGS. */
static json_t *exec_form(struct image_config *c, const char *args)
{
        json_t *j = json_form(args), *shell = container_get(c, "Shell"), *v;
        if (j)
                return j;
        j = json_array();
        JSON_ARRAY_FOREACH(i, v, json_is_array(shell) ? shell : NULL)
                json_array_append(j, v);
        if (json_array_size(j) == 0) {
                json_array_append_new(j, json_string("/bin/sh"));
                json_array_append_new(j, json_string("-c"));
        }
        json_array_append_new(j, json_string(args));
        return j;
}

static int do_cmd(struct image_config *c, const char *args, struct st_error **err)
{
        (void)err;
        json_object_set_new(image_config_container(c), "Cmd", exec_form(c, args));
        c->cmd_set = true;
        return 0;
}

static int do_entrypoint(struct image_config *c, const char *args, struct st_error **err)
{
        (void)err;
        json_object_set_new(image_config_container(c), "Entrypoint", exec_form(c, args));
        if (!c->cmd_set)
                json_object_set_new(image_config_container(c), "Cmd", json_null());
        return 0;
}

static void env_set(struct image_config *c, const char *key, const char *value)
{
        json_t *env = container_array(c, "Env"), *v;
        char *kv = xasprintf("%s=%s", key, value);
        size_t n = strlen(key);
        JSON_ARRAY_FOREACH(i, v, env) {
                const char *s = json_string_value(v);
                if (s && strncmp(s, key, n) == 0 && s[n] == '=') {
                        json_array_set_new(env, i, json_string(kv));
                        free(kv);
                        return;
                }
        }
        json_array_append_new(env, json_string(kv));
        free(kv);
}

static void label_set(struct image_config *c, const char *key, const char *value)
{
        json_object_set_new(container_object(c, "Labels"), key, json_string(value));
}

typedef void (*set_fn)(struct image_config *c, const char *key, const char *value);

/* Expand the key (KLEN bytes of KEY) and VALUE onto *KV. */
static int push_pair(const char *key, size_t klen, const char *value, const json_t *env,
                     const char *what, char ***kv, struct st_error **err)
{
        char *k, *v;
        int r = expand_word(key, klen, env, &k, err);
        if (r < 0)
                return r;
        strv_consume(kv, k);
        if (!*k)
                return st_error_set(err, ST_E_PARSE, "%s names can not be blank", what);
        if ((r = expand_word(value, strlen(value), env, &v, err)) < 0)
                return r;
        strv_consume(kv, v);
        return 0;
}

/* ENV and LABEL: "k=v k2=v2" pairs, or the legacy "k v" form; all expanded before any is set. */
static int name_values(struct image_config *c, const char *args, const char *what, set_fn set,
                       struct st_error **err)
{
        _cleanup_strv_ char **words = split_words(args), **kv = NULL;
        json_t *env = container_get(c, "Env");
        bool legacy = words[0] && !strchr(words[0], '=');
        int r = 0;
        if (legacy) {
                if (!words[1])
                        return st_error_set(err, ST_E_PARSE, "%s must have two arguments", what);
                const char *value = args + strlen(words[0]);
                value += strspn(value, " \t\r\n");
                r = push_pair(words[0], strlen(words[0]), value, env, what, &kv, err);
        }
        for (size_t i = 0; r >= 0 && !legacy && words[i]; i++) {
                const char *eq = strchr(words[i], '=');
                if (!eq)
                        return st_error_set(err, ST_E_PARSE,
                                            "can't find = in \"%.100s\", must be of the form: "
                                            "name=value",
                                            words[i]);
                r = push_pair(words[i], eq - words[i], eq + 1, env, what, &kv, err);
        }
        if (r < 0)
                return r;
        for (size_t i = 0; kv && kv[i]; i += 2)
                set(c, kv[i], kv[i + 1]);
        return 0;
}

static int do_env(struct image_config *c, const char *args, struct st_error **err)
{
        return name_values(c, args, "ENV", env_set, err);
}

static int do_label(struct image_config *c, const char *args, struct st_error **err)
{
        return name_values(c, args, "LABEL", label_set, err);
}

/* Every word of ARGS expanded; caller frees *ret. */
static int expanded_words(struct image_config *c, const char *args, char ***ret,
                          struct st_error **err)
{
        _cleanup_strv_ char **words = split_words(args), **out = xcalloc(1, sizeof(char *));
        STRV_FOREACH(w, words) {
                char *e;
                int r = expand_word(*w, strlen(*w), container_get(c, "Env"), &e, err);
                if (r < 0)
                        return r;
                strv_consume(&out, e);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* One expanded word, the instruction's only argument; caller frees *ret. */
static int single_word(struct image_config *c, const char *args, const char *what, char **ret,
                       struct st_error **err)
{
        _cleanup_strv_ char **w = NULL;
        int r = expanded_words(c, args, &w, err);
        if (r < 0)
                return r;
        if (strv_length(w) != 1)
                return st_error_set(err, ST_E_PARSE, "%s requires exactly one argument", what);
        *ret = xstrdup(w[0]);
        return 0;
}

static int parse_port(const char *s, size_t n, unsigned *ret)
{
        _cleanup_free_ char *t = xstrndup(s, n);
        uint64_t v;
        if (parse_u64(t, &v) < 0 || v > 65535)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* "80", "80/udp", "8000-8010/tcp" into ExposedPorts. */
static int expose_one(json_t *ports, const char *spec, struct st_error **err)
{
        const char *slash = strchr(spec, '/'), *proto = slash ? slash + 1 : "tcp";
        size_t n = slash ? (size_t)(slash - spec) : strlen(spec);
        const char *dash = memchr(spec, '-', n);
        unsigned lo, hi;
        if (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp") && strcasecmp(proto, "sctp"))
                return st_error_set(err, ST_E_PARSE, "invalid proto '%.20s'", proto);
        if (parse_port(spec, dash ? (size_t)(dash - spec) : n, &lo) < 0 ||
            (dash && parse_port(dash + 1, n - (dash + 1 - spec), &hi) < 0))
                return st_error_set(err, ST_E_PARSE, "invalid containerPort: %.100s", spec);
        if (!dash)
                hi = lo;
        if (hi < lo)
                return st_error_set(err, ST_E_PARSE, "invalid range specified for port: %.100s",
                                    spec);
        for (unsigned p = lo; p <= hi; p++) {
                char key[32];
                snprintf(key, sizeof(key), "%u/%s", p, proto);
                for (char *k = key; *k; k++)
                        *k = tolower((unsigned char)*k);
                json_object_set_new(ports, key, json_object());
        }
        return 0;
}

static int do_expose(struct image_config *c, const char *args, struct st_error **err)
{
        _cleanup_strv_ char **w = NULL;
        int r = expanded_words(c, args, &w, err);
        if (r < 0)
                return r;
        STRV_FOREACH(p, w)
                if ((r = expose_one(container_object(c, "ExposedPorts"), *p, err)) < 0)
                        return r;
        return 0;
}

static int do_volume(struct image_config *c, const char *args, struct st_error **err)
{
        _cleanup_json_ json_t *j = json_form(args);
        _cleanup_strv_ char **w = NULL;
        json_t *v;
        int r = 0;
        JSON_ARRAY_FOREACH(i, v, j)
                strv_push(&w, json_string_value(v));
        if (!j && (r = expanded_words(c, args, &w, err)) < 0)
                return r;
        STRV_FOREACH(p, w)
                if (!*(*p + strspn(*p, " \t")))
                        return st_error_set(err, ST_E_PARSE,
                                            "VOLUME specified can not be an empty string");
        STRV_FOREACH(p, w)
                json_object_set_new(container_object(c, "Volumes"), *p, json_object());
        return 0;
}

static int do_user(struct image_config *c, const char *args, struct st_error **err)
{
        _cleanup_free_ char *u = NULL;
        int r = single_word(c, args, "USER", &u, err);
        if (r < 0)
                return r;
        json_set_str(image_config_container(c), "User", u);
        return 0;
}

/* Lexically clean absolute path P (Go's path.Clean) in place. */
static void path_clean(char *p)
{
        _cleanup_strv_ char **parts = NULL;
        for (char *s = p, *e; *s; s = e) {
                s += strspn(s, "/");
                e = s + strcspn(s, "/");
                size_t n = e - s;
                if (n == 0 || (n == 1 && s[0] == '.'))
                        continue;
                if (n == 2 && s[0] == '.' && s[1] == '.') {
                        size_t l = strv_length(parts);
                        if (l > 0) {
                                free(parts[l - 1]);
                                parts[l - 1] = NULL;
                        }
                        continue;
                }
                strv_consume(&parts, xstrndup(s, n));
        }
        char *out = p;
        *out = 0;
        STRV_FOREACH(s, parts)
                out += snprintf(out, strlen(*s) + 2, "/%s", *s);
        if (out == p)
                snprintf(p, 2, "/");
}

static int do_workdir(struct image_config *c, const char *args, struct st_error **err)
{
        _cleanup_free_ char *w = NULL, *full = NULL;
        int r = expand_word(args, strlen(args), container_get(c, "Env"), &w, err);
        if (r < 0)
                return r;
        const char *cur = json_get_str(image_config_container(c), "WorkingDir");
        full = w[0] == '/' ? xstrdup(w) : xasprintf("/%s/%s", cur ? cur : "", w);
        path_clean(full);
        json_set_str(image_config_container(c), "WorkingDir", full);
        return 0;
}

static const char *const signals[] = {
        "ABRT", "ALRM",   "BUS",  "CHLD",   "CLD",   "CONT", "FPE",  "HUP",    "ILL",
        "INT",  "IO",     "IOT",  "KILL",   "PIPE",  "POLL", "PROF", "PWR",    "QUIT",
        "SEGV", "STKFLT", "STOP", "SYS",    "TERM",  "TRAP", "TSTP", "TTIN",   "TTOU",
        "URG",  "USR1",   "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "UNUSED",
};

/* A signal as Docker's signal.ParseSignal takes it: number, or name with optional SIG. */
static bool signal_is_valid(const char *s)
{
        uint64_t n;
        if (parse_u64(s, &n) == 0)
                return n >= 1 && n <= 64;
        const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (strcasecmp(name, signals[i]) == 0)
                        return true;
        for (int i = 0; i <= 30; i++) {
                char a[16], b[16];
                snprintf(a, sizeof(a), i ? "RTMIN+%d" : "RTMIN", i);
                snprintf(b, sizeof(b), i ? "RTMAX-%d" : "RTMAX", i);
                if (strcasecmp(name, a) == 0 || strcasecmp(name, b) == 0)
                        return true;
        }
        return false;
}

static int do_stopsignal(struct image_config *c, const char *args, struct st_error **err)
{
        _cleanup_free_ char *s = NULL;
        int r = single_word(c, args, "STOPSIGNAL", &s, err);
        if (r < 0)
                return r;
        if (!signal_is_valid(s))
                return st_error_set(err, ST_E_PARSE, "invalid signal: %.50s", s);
        json_set_str(image_config_container(c), "StopSignal", s);
        return 0;
}

static int do_onbuild(struct image_config *c, const char *args, struct st_error **err)
{
        size_t n = strcspn(args, " \t");
        if (n == 7 && strncasecmp(args, "ONBUILD", n) == 0)
                return st_error_set(err, ST_E_PARSE,
                                    "chaining ONBUILD via 'ONBUILD ONBUILD' isn't allowed");
        if ((n == 4 && strncasecmp(args, "FROM", n) == 0) ||
            (n == 10 && strncasecmp(args, "MAINTAINER", n) == 0))
                return st_error_set(err, ST_E_PARSE, "%.*s isn't allowed as an ONBUILD trigger",
                                    (int)n, args);
        json_array_append_new(container_array(c, "OnBuild"), json_string(args));
        return 0;
}

typedef int (*change_fn)(struct image_config *c, const char *args, struct st_error **err);

static const struct {
        const char *name;
        change_fn fn;
} changes[] = {
        { "CMD", do_cmd },
        { "ENTRYPOINT", do_entrypoint },
        { "ENV", do_env },
        { "EXPOSE", do_expose },
        { "LABEL", do_label },
        { "ONBUILD", do_onbuild },
        { "STOPSIGNAL", do_stopsignal },
        { "USER", do_user },
        { "VOLUME", do_volume },
        { "WORKDIR", do_workdir },
};

int image_config_apply_change(struct image_config *c, const char *change, struct st_error **err)
{
        const char *s = change + strspn(change, " \t\r\n");
        size_t n = strcspn(s, " \t\r\n");
        const char *a = s + n + strspn(s + n, " \t\r\n");
        _cleanup_free_ char *args = xstrdup(a);
        for (size_t l = strlen(args); l > 0 && strchr(" \t\r\n", args[l - 1]); l--)
                args[l - 1] = 0;
        for (size_t i = 0; i < ELEMENTSOF(changes); i++) {
                if (strlen(changes[i].name) != n || strncasecmp(s, changes[i].name, n) != 0)
                        continue;
                int r = !*args ? st_error_set(err, ST_E_PARSE, "%s requires at least one argument",
                                              changes[i].name)
                               : changes[i].fn(c, args, err);
                if (r < 0)
                        st_error_wrap(err, "invalid change '%.200s'", change);
                return r;
        }
        return st_error_set(err, ST_E_PARSE, "invalid change '%.200s': unknown instruction",
                            change);
}
