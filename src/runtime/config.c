/* Create time: the image config and the run options merged into the container configuration. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "basic/util.h"
#include "json/json.h"
#include "runtime/runtime-internal.h"
#include "runtime/spec.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static size_t env_key_len(const char *kv)
{
        return strcspn(kv, "=");
}

void runtime_env_set(char ***env, const char *kv)
{
        size_t k = env_key_len(kv);
        for (char **e = *env; e && *e; e++)
                if (strncmp(*e, kv, k) == 0 && ((*e)[k] == '=' || (*e)[k] == 0)) {
                        free(*e);
                        *e = xstrdup(kv);
                        return;
                }
        strv_push(env, kv);
}

/* The value of KEY in the "K=V" list ENV (borrowed), or NULL. */
static const char *env_get(char *const *env, const char *key)
{
        size_t k = strlen(key);
        for (char *const *e = env; e && *e; e++)
                if (strncmp(*e, key, k) == 0 && (*e)[k] == '=')
                        return *e + k + 1;
        return NULL;
}

/* "K=V" as is; "K" from HOST_ENV, or nothing if unset there. */
static void env_add_entry(char ***env, const char *entry, char *const *host_env)
{
        if (strchr(entry, '=')) {
                runtime_env_set(env, entry);
                return;
        }
        const char *v = env_get(host_env, entry);
        if (v) {
                _cleanup_free_ char *kv = xasprintf("%s=%s", entry, v);
                runtime_env_set(env, kv);
        }
}

int runtime_env_file_parse(const char *text, char *const *host_env, char ***env,
                           struct st_error **err)
{
        _cleanup_strv_ char **out = NULL;
        unsigned lineno = 0;
        for (const char *p = text; p && *p;) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = xstrndup(p, n);
                p += n + (p[n] == '\n');
                lineno++;
                if (n && line[n - 1] == '\r')
                        line[n - 1] = 0;
                const char *l = line;
                while (isspace((unsigned char)*l))
                        l++;
                if (!*l || *l == '#')
                        continue;
                size_t k = env_key_len(l);
                if (k == 0)
                        return st_error_set(err, ST_E_PARSE, "no variable name on line '%s'", l);
                for (size_t i = 0; i < k; i++)
                        if (isspace((unsigned char)l[i]))
                                return st_error_set(err, ST_E_PARSE,
                                                    "variable '%.*s' contains whitespaces", (int)k,
                                                    l);
                if (l[k] == '=')
                        strv_push(&out, l);
                else if (env_get(host_env, l))
                        strv_consume(&out, xasprintf("%s=%s", l, env_get(host_env, l)));
        }
        STRV_FOREACH(e, out)
                strv_push(env, *e);
        return 0;
}

json_t *runtime_strv_to_json(char *const *l)
{
        if (!l)
                return json_null();
        json_t *a = json_array();
        for (char *const *s = l; *s; s++)
                json_array_append_new(a, json_string(*s));
        return a;
}

char **runtime_json_to_strv(const json_t *a)
{
        char **l = NULL;
        json_t *v;
        JSON_ARRAY_FOREACH(i, v, (json_t *)a)
                if (json_is_string(v))
                        strv_push(&l, json_string_value(v));
        return l;
}

/* ENTRYPOINT and CMD as dockerd's merge() and mergeAndVerifyConfig() settle them. */
static int merge_command(const json_t *img, const struct runtime_options *o, json_t *cfg,
                         struct st_error **err)
{
        _cleanup_strv_ char **ep = NULL, **cmd = strv_copy(o->cmd);
        if (o->entrypoint) {
                strv_push(&ep, o->entrypoint);
        } else {
                if (!cmd)
                        cmd = runtime_json_to_strv(json_object_get(img, "Cmd"));
                ep = runtime_json_to_strv(json_object_get(img, "Entrypoint"));
        }
        if (strv_length(ep) == 1 && streq(ep[0], ""))
                ep = strv_free(ep);
        if (!ep && !cmd)
                return st_error_set(err, ST_E_USAGE, "No command specified");
        json_object_set_new(cfg, "Cmd", runtime_strv_to_json(cmd));
        json_object_set_new(cfg, "Entrypoint", runtime_strv_to_json(ep));
        return 0;
}

static void merge_env(const json_t *img, const struct runtime_options *o, char *const *host_env,
                      json_t *cfg)
{
        _cleanup_strv_ char **env = runtime_json_to_strv(json_object_get(img, "Env"));
        STRV_FOREACH(e, o->env)
                env_add_entry(&env, *e, host_env);
        if (!env_get(env, "PATH")) {
                _cleanup_strv_ char **with_path = NULL;
                strv_push(&with_path, DEFAULT_PATH);
                STRV_FOREACH(e, env)
                        strv_push(&with_path, *e);
                strv_free(env);
                env = TAKE_PTR(with_path);
        }
        json_object_set_new(cfg, "Env", runtime_strv_to_json(env));
}

static const char *img_str(const json_t *img, const char *key)
{
        const char *v = json_get_str(img, key);
        return v ? v : "";
}

static json_t *object_or(const json_t *img, const char *key, json_t *dflt)
{
        json_t *v = json_object_get(img, key);
        if (json_is_object(v) && json_object_size(v) > 0) {
                json_decref(dflt);
                return json_deep_copy(v);
        }
        return dflt;
}

static int make_config(const json_t *img, const struct runtime_options *o, char *const *host_env,
                       json_t **ret, struct st_error **err)
{
        _cleanup_json_ json_t *cfg = json_object();
        json_object_set_new(cfg, "Hostname", json_string(o->hostname ? o->hostname : ""));
        json_object_set_new(cfg, "Domainname", json_string(""));
        json_object_set_new(cfg, "User", json_string(o->user ? o->user : img_str(img, "User")));
        json_object_set_new(cfg, "AttachStdin", json_boolean(o->interactive));
        json_object_set_new(cfg, "AttachStdout", json_true());
        json_object_set_new(cfg, "AttachStderr", json_true());
        json_object_set_new(cfg, "Tty", json_boolean(o->tty));
        json_object_set_new(cfg, "OpenStdin", json_boolean(o->interactive));
        json_object_set_new(cfg, "StdinOnce", json_false());
        merge_env(img, o, host_env, cfg);
        int r = merge_command(img, o, cfg, err);
        if (r < 0)
                return r;
        json_object_set_new(cfg, "Image", json_string(o->image ? o->image : ""));
        json_t *vols = object_or(img, "Volumes", json_null());
        STRV_FOREACH(b, o->binds)
                if ((*b)[0] == '/' && !strchr(*b, ':')) { /* -v /path: an anonymous volume */
                        if (json_is_null(vols)) {
                                json_decref(vols);
                                vols = json_object();
                        }
                        json_object_set_new(vols, *b, json_object());
                }
        json_object_set_new(cfg, "Volumes", vols);
        json_object_set_new(cfg, "WorkingDir",
                            json_string(o->workdir ? o->workdir : img_str(img, "WorkingDir")));
        json_object_set_new(cfg, "OnBuild", json_null());
        json_object_set_new(cfg, "Labels", object_or(img, "Labels", json_object()));
        if (json_get_str(img, "StopSignal"))
                json_object_set_new(cfg, "StopSignal", json_string(img_str(img, "StopSignal")));
        *ret = TAKE_PTR(cfg);
        return 0;
}

/* ----- host options ----- */

static const char *const ulimit_names[] = {
        "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
        "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",
};

int runtime_ulimit_parse(const char *s, char **ret_name, int64_t *ret_soft, int64_t *ret_hard)
{
        const char *eq = strchr(s, '=');
        if (!eq)
                return -EINVAL;
        _cleanup_free_ char *name = xstrndup(s, (size_t)(eq - s));
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(ulimit_names); i++)
                known = known || streq(name, ulimit_names[i]);
        if (!known)
                return -ENOENT;
        char *end = NULL;
        errno = 0;
        long long soft = strtoll(eq + 1, &end, 10), hard = soft;
        if (errno || end == eq + 1 || (*end && *end != ':'))
                return -EINVAL;
        if (*end == ':') {
                const char *h = end + 1;
                hard = strtoll(h, &end, 10);
                if (errno || end == h || *end)
                        return -EINVAL;
        }
        if (soft > hard)
                return -ERANGE;
        *ret_name = TAKE_PTR(name);
        *ret_soft = soft;
        *ret_hard = hard;
        return 0;
}

static int make_ulimits(char *const *ulimits, json_t **ret, struct st_error **err)
{
        if (!ulimits) {
                *ret = json_null();
                return 0;
        }
        _cleanup_json_ json_t *a = json_array();
        for (char *const *u = ulimits; *u; u++) {
                _cleanup_free_ char *name = NULL;
                int64_t soft, hard;
                int r = runtime_ulimit_parse(*u, &name, &soft, &hard);
                if (r == -ENOENT)
                        return st_error_set(err, ST_E_USAGE, "invalid ulimit type: '%s'", *u);
                if (r == -ERANGE)
                        return st_error_set(err, ST_E_USAGE,
                                            "ulimit soft limit must be less than or equal to hard"
                                            " limit: '%s'",
                                            *u);
                if (r < 0)
                        return st_error_set(err, ST_E_USAGE, "invalid ulimit argument: '%s'", *u);
                json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "Name", name, "Soft",
                                                   (json_int_t)soft, "Hard", (json_int_t)hard));
        }
        *ret = TAKE_PTR(a);
        return 0;
}

static int check_bind(const char *b, struct st_error **err)
{
        if (b[0] == '/' && !strchr(b, ':'))
                return 0; /* an anonymous volume */
        _cleanup_strv_ char **parts = NULL;
        for (const char *p = b;;) {
                size_t n = strcspn(p, ":");
                strv_consume(&parts, xstrndup(p, n));
                if (!p[n])
                        break;
                p += n + 1;
        }
        size_t n = strv_length(parts);
        if (n < 2 || n > 3 || parts[0][0] != '/' || parts[1][0] != '/')
                return st_error_set(err, ST_E_USAGE,
                                    parts[0][0] && parts[0][0] != '/' && n >= 2
                                            ? "invalid volume specification: '%s' (named volumes"
                                              " are not supported; use an absolute host path)"
                                            : "invalid volume specification: '%s'",
                                    b);
        if (n == 3)
                for (const char *m = parts[2]; *m;) {
                        size_t k = strcspn(m, ",");
                        if (!((k == 2 && (!strncmp(m, "ro", 2) || !strncmp(m, "rw", 2))) ||
                              (k == 1 && (*m == 'z' || *m == 'Z'))))
                                return st_error_set(err, ST_E_USAGE,
                                                    "invalid mode: '%.*s' in volume '%s'", (int)k,
                                                    m, b);
                        m += k + (m[k] == ',');
                }
        return 0;
}

static int make_tmpfs(char *const *tmpfs, json_t **ret, struct st_error **err)
{
        if (!tmpfs) {
                *ret = NULL;
                return 0;
        }
        _cleanup_json_ json_t *o = json_object();
        for (char *const *t = tmpfs; *t; t++) {
                size_t n = strcspn(*t, ":");
                _cleanup_free_ char *path = xstrndup(*t, n);
                if (path[0] != '/')
                        return st_error_set(err, ST_E_USAGE,
                                            "invalid tmpfs mount '%s': the path must be absolute",
                                            *t);
                json_object_set_new(o, path, json_string((*t)[n] ? *t + n + 1 : ""));
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static int make_host_config(const struct runtime_options *o, json_t **ret, struct st_error **err)
{
        const char *net = o->network && *o->network ? o->network : "none";
        if (!streq(net, "none") && !streq(net, "host"))
                return st_error_set(err, ST_E_USAGE,
                                    "network mode '%s' is not supported: use 'none' or 'host'",
                                    net);
        STRV_FOREACH(b, o->binds) {
                int r = check_bind(*b, err);
                if (r < 0)
                        return r;
        }
        _cleanup_strv_ char **caps = NULL;
        struct runtime_security sec;
        int r = runtime_caps(o->cap_add, o->cap_drop, false, &caps, err);
        if (r >= 0)
                r = runtime_security_parse(o->security_opt, &sec, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *ulimits = NULL, *tmpfs = NULL;
        r = make_ulimits(o->ulimits, &ulimits, err);
        if (r >= 0)
                r = make_tmpfs(o->tmpfs, &tmpfs, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **binds = NULL;
        STRV_FOREACH(b, o->binds)
                if (strchr(*b, ':'))
                        strv_push(&binds, *b);
        json_t *h = json_object();
        json_object_set_new(h, "Binds", runtime_strv_to_json(binds));
        json_object_set_new(h, "NetworkMode", json_string(net));
        json_object_set_new(h, "AutoRemove", json_boolean(o->auto_remove));
        json_object_set_new(h, "Privileged", json_boolean(o->privileged));
        json_object_set_new(h, "ReadonlyRootfs", json_boolean(o->read_only));
        json_object_set_new(h, "CapAdd", runtime_strv_to_json(o->cap_add));
        json_object_set_new(h, "CapDrop", runtime_strv_to_json(o->cap_drop));
        json_object_set_new(h, "SecurityOpt", runtime_strv_to_json(o->security_opt));
        if (tmpfs)
                json_object_set(h, "Tmpfs", tmpfs);
        json_object_set_new(h, "Memory", json_integer(o->memory));
        json_object_set_new(h, "NanoCpus", json_integer(o->nano_cpus));
        json_object_set_new(h, "PidsLimit",
                            o->pids_limit ? json_integer(o->pids_limit) : json_null());
        json_object_set(h, "Ulimits", ulimits);
        json_object_set_new(h, "Runtime", json_string(o->runtime ? o->runtime : "runc"));
        *ret = h;
        return 0;
}

int runtime_config_new(const json_t *image_config, const struct runtime_options *o,
                       char *const *host_env, json_t **ret, struct st_error **err)
{
        if (o->workdir && *o->workdir && o->workdir[0] != '/')
                return st_error_set(err, ST_E_USAGE,
                                    "the working directory '%s' is invalid, it needs to be an"
                                    " absolute path",
                                    o->workdir);
        _cleanup_json_ json_t *cfg = NULL, *host = NULL;
        int r = make_host_config(o, &host, err);
        if (r >= 0)
                r = make_config(image_config, o, host_env, &cfg, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **ep = runtime_json_to_strv(json_object_get(cfg, "Entrypoint"));
        _cleanup_strv_ char **cmd = runtime_json_to_strv(json_object_get(cfg, "Cmd"));
        _cleanup_strv_ char **argv = NULL;
        STRV_FOREACH(a, ep)
                strv_push(&argv, *a);
        STRV_FOREACH(a, cmd)
                strv_push(&argv, *a);
        json_t *c = json_object();
        json_object_set_new(c, "Path", json_string(argv[0]));
        json_object_set_new(c, "Args", runtime_strv_to_json(argv + 1));
        json_object_set(c, "Config", cfg);
        json_object_set(c, "HostConfig", host);
        *ret = c;
        return 0;
}

/* ----- small parsers ----- */

int runtime_signal_parse(const char *s, int *ret)
{
        int n;
        if (parse_int(s, &n) >= 0) {
                if (n <= 0 || n >= NSIG)
                        return -EINVAL;
                *ret = n;
                return 0;
        }
        const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (int i = 1; i < NSIG; i++) {
                const char *abbrev = sigabbrev_np(i);
                if (abbrev && strcasecmp(abbrev, name) == 0) {
                        *ret = i;
                        return 0;
                }
        }
        return -EINVAL;
}

int runtime_parse_bytes(const char *s, int64_t *ret)
{
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || v < 0 || !isfinite(v))
                return -EINVAL;
        static const char units[] = "bkmgtp";
        double mul = 1;
        if (*end) {
                const char *u = strchr(units, tolower((unsigned char)*end));
                if (!u)
                        return -EINVAL;
                for (const char *p = units; p < u; p++)
                        mul *= 1024;
                end++;
                if (*end && u != units && tolower((unsigned char)*end) == 'b')
                        end++;
                if (*end)
                        return -EINVAL;
        }
        v *= mul;
        if (v >= 9.2e18)
                return -ERANGE;
        *ret = (int64_t)v;
        return 0;
}

int runtime_parse_cpus(const char *s, int64_t *ret)
{
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 1e6)
                return -EINVAL;
        *ret = (int64_t)(v * 1e9 + 0.5);
        return 0;
}

int runtime_strcmp_ptr(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}
