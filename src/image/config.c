/* Image configs: the JSON document is the truth; the struct mirrors the fields strata reads
 * most, and image_config_write folds them back into the document. Null is accepted wherever
 * Go's decoder (Docker, containerd) accepts it: for every optional field. */
#include "image/config.h"

#include <string.h>
#include <sys/utsname.h>

#include "basic/util.h"
#include "digest/digest.h"
#include "image/manifest.h"
#include "json/json.h"

enum field_type {
        F_STR,
        F_BOOL,
        F_INT,
        F_STRV,
        F_SET, /* object whose values are objects: ExposedPorts, Volumes */
        F_MAP, /* object of strings: Labels */
        F_HEALTH,
};

struct field {
        const char *key;
        enum field_type type;
};

/* The container config of Docker's image JSON (a superset of OCI's "config"). */
static const struct field container_fields[] = {
        { "Hostname", F_STR },         { "Domainname", F_STR },    { "User", F_STR },
        { "AttachStdin", F_BOOL },     { "AttachStdout", F_BOOL }, { "AttachStderr", F_BOOL },
        { "ExposedPorts", F_SET },     { "Tty", F_BOOL },          { "OpenStdin", F_BOOL },
        { "StdinOnce", F_BOOL },       { "Env", F_STRV },          { "Cmd", F_STRV },
        { "Healthcheck", F_HEALTH },   { "ArgsEscaped", F_BOOL },  { "Image", F_STR },
        { "Volumes", F_SET },          { "WorkingDir", F_STR },    { "Entrypoint", F_STRV },
        { "NetworkDisabled", F_BOOL }, { "MacAddress", F_STR },    { "OnBuild", F_STRV },
        { "Labels", F_MAP },           { "StopSignal", F_STR },    { "StopTimeout", F_INT },
        { "Shell", F_STRV },           { "Memory", F_INT },        { "MemorySwap", F_INT },
        { "CpuShares", F_INT },
};

static const struct field health_fields[] = {
        { "Test", F_STRV },       { "Interval", F_INT },      { "Timeout", F_INT },
        { "StartPeriod", F_INT }, { "StartInterval", F_INT }, { "Retries", F_INT },
};

static bool values_are(const json_t *o, bool (*ok)(const json_t *))
{
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)o, k, v) if (!ok(v)) return false;
        return true;
}

static bool is_object(const json_t *v)
{
        return json_is_object(v) || json_is_null(v);
}

static bool is_string(const json_t *v)
{
        return json_is_string(v);
}

static bool is_strv(const json_t *v)
{
        json_t *e;
        if (json_is_null(v))
                return true;
        if (!json_is_array(v))
                return false;
        JSON_ARRAY_FOREACH(i, e, v)
                if (!json_is_string(e))
                        return false;
        return true;
}

static int check_fields(const json_t *o, const struct field *f, size_t n, const char *where,
                        struct st_error **err);

static bool field_ok(const json_t *v, enum field_type t, const char *where, struct st_error **err)
{
        if (json_is_null(v))
                return true;
        switch (t) {
        case F_STR:
                return json_is_string(v);
        case F_BOOL:
                return json_is_boolean(v);
        case F_INT:
                return json_is_integer(v);
        case F_STRV:
                return is_strv(v);
        case F_SET:
                return json_is_object(v) && values_are(v, is_object);
        case F_MAP:
                return json_is_object(v) && values_are(v, is_string);
        case F_HEALTH:
                return json_is_object(v) &&
                       check_fields(v, health_fields, ELEMENTSOF(health_fields), where, err) >= 0;
        }
        return false;
}

static const char *const type_names[] = {
        [F_STR] = "a string",
        [F_BOOL] = "a boolean",
        [F_INT] = "an integer",
        [F_STRV] = "an array of strings",
        [F_SET] = "an object of objects",
        [F_MAP] = "an object of strings",
        [F_HEALTH] = "an object",
};

/* Check the JSON types of the known fields F of object O; unknown keys are left alone. */
static int check_fields(const json_t *o, const struct field *f, size_t n, const char *where,
                        struct st_error **err)
{
        for (size_t i = 0; i < n; i++) {
                json_t *v = json_object_get(o, f[i].key);
                _cleanup_free_ char *w = xasprintf("%s.%s", where, f[i].key);
                if (v && !field_ok(v, f[i].type, w, err))
                        return st_error_set(err, ST_E_PARSE, "'%s' must be %s", w,
                                            type_names[f[i].type]);
        }
        return 0;
}

/* KEY of O: absent or null gives NULL; otherwise it must be a string. */
static int opt_str(const json_t *o, const char *key, char **ret, struct st_error **err)
{
        json_t *v = json_object_get(o, key);
        if (v && !json_is_null(v) && !json_is_string(v))
                return st_error_set(err, ST_E_PARSE, "'%s' must be a string", key);
        *ret = json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
        return 0;
}

static int check_time(const char *s, const char *where, struct st_error **err)
{
        int64_t t;
        if (s && image_time_parse(s, &t) < 0)
                return st_error_set(err, ST_E_PARSE, "'%s': invalid time '%.100s'", where, s);
        return 0;
}

static int parse_rootfs(const json_t *root, struct image_config *c, struct st_error **err)
{
        json_t *fs = json_object_get(root, "rootfs"), *ids, *v;
        if (!json_is_object(fs))
                return st_error_set(err, ST_E_PARSE, "'rootfs' %s",
                                    fs ? "must be an object" : "is missing");
        if (!streq_ptr(json_get_str(fs, "type"), "layers"))
                return st_error_set(err, ST_E_PARSE, "'rootfs.type' must be \"layers\"");
        ids = json_object_get(fs, "diff_ids");
        if (ids && !json_is_null(ids) && !json_is_array(ids))
                return st_error_set(err, ST_E_PARSE, "'rootfs.diff_ids' must be an array");
        c->diff_ids = xcalloc(1, sizeof(char *));
        JSON_ARRAY_FOREACH(i, v, json_is_array(ids) ? ids : NULL) {
                if (!digest_is_valid(json_string_value(v)))
                        return st_error_set(err, ST_E_PARSE,
                                            "'rootfs.diff_ids[%zu]' is not a digest", i);
                strv_push(&c->diff_ids, json_string_value(v));
        }
        return 0;
}

static int parse_history_entry(const json_t *e, size_t i, struct image_history *h,
                               struct st_error **err)
{
        json_t *el = json_object_get(e, "empty_layer");
        int r;
        if (!json_is_object(e))
                return st_error_set(err, ST_E_PARSE, "'history[%zu]' must be an object", i);
        if ((r = opt_str(e, "created", &h->created, err)) < 0 ||
            (r = opt_str(e, "created_by", &h->created_by, err)) < 0 ||
            (r = opt_str(e, "author", &h->author, err)) < 0 ||
            (r = opt_str(e, "comment", &h->comment, err)) < 0 ||
            (r = check_time(h->created, "history.created", err)) < 0)
                return r;
        if (el && !json_is_null(el) && !json_is_boolean(el))
                return st_error_set(err, ST_E_PARSE, "'history[%zu].empty_layer' must be a boolean",
                                    i);
        h->empty_layer = json_is_true(el);
        return 0;
}

static int parse_history(const json_t *root, struct image_config *c, struct st_error **err)
{
        json_t *a = json_object_get(root, "history"), *e;
        size_t n_layers = 0;
        if (!a || json_is_null(a))
                return 0;
        if (!json_is_array(a))
                return st_error_set(err, ST_E_PARSE, "'history' must be an array");
        c->history = xcalloc(json_array_size(a) + 1, sizeof(*c->history));
        JSON_ARRAY_FOREACH(i, e, a) {
                int r = parse_history_entry(e, i, &c->history[i], err);
                c->n_history++;
                if (r < 0)
                        return r;
                n_layers += !c->history[i].empty_layer;
        }
        if (c->n_history > 0 && n_layers != strv_length(c->diff_ids))
                return st_error_set(err, ST_E_PARSE,
                                    "history has %zu non-empty entries but rootfs has %zu layers",
                                    n_layers, strv_length(c->diff_ids));
        return 0;
}

static int parse_container(const json_t *root, const char *key, struct st_error **err)
{
        json_t *o = json_object_get(root, key);
        if (!o || json_is_null(o))
                return 0;
        if (!json_is_object(o))
                return st_error_set(err, ST_E_PARSE, "'%s' must be an object", key);
        return check_fields(o, container_fields, ELEMENTSOF(container_fields), key, err);
}

static int parse_top(const json_t *root, struct image_config *c, struct st_error **err)
{
        json_t *arch = json_object_get(root, "architecture"), *os = json_object_get(root, "os");
        int r;
        if (!json_is_string(arch) || !json_is_string(os))
                return st_error_set(err, ST_E_PARSE, "'architecture' and 'os' must be strings");
        c->architecture = xstrdup(json_string_value(arch));
        c->os = xstrdup(json_string_value(os));
        if ((r = opt_str(root, "variant", &c->variant, err)) < 0 ||
            (r = opt_str(root, "created", &c->created, err)) < 0 ||
            (r = opt_str(root, "author", &c->author, err)) < 0 ||
            (r = check_time(c->created, "created", err)) < 0)
                return r;
        json_t *osv = json_object_get(root, "os.version");
        if (osv && !json_is_string(osv) && !json_is_null(osv))
                return st_error_set(err, ST_E_PARSE, "'os.version' must be a string");
        if (!is_strv(json_object_get(root, "os.features") ?: json_null()))
                return st_error_set(err, ST_E_PARSE, "'os.features' must be an array of strings");
        return 0;
}

int image_config_parse(const char *buf, size_t len, struct image_config **ret,
                       struct st_error **err)
{
        _cleanup_json_ json_t *j = NULL;
        int r = json_parse(buf, len, IMAGE_CONFIG_MAX, "image config", &j, err);
        if (r < 0)
                return r;
        _cleanup_config_ struct image_config *c = xcalloc(1, sizeof(*c));
        if (!json_is_object(j))
                r = st_error_set(err, ST_E_PARSE, "document must be a JSON object");
        if (r < 0 || (r = parse_top(j, c, err)) < 0 || (r = parse_rootfs(j, c, err)) < 0 ||
            (r = parse_history(j, c, err)) < 0 || (r = parse_container(j, "config", err)) < 0 ||
            (r = parse_container(j, "container_config", err)) < 0) {
                st_error_wrap(err, "invalid image config");
                return r;
        }
        c->root = TAKE_PTR(j);
        *ret = TAKE_PTR(c);
        return 0;
}

/* Docker's GOARCH and variant for a uname machine. */
static void native_platform(const char **ret_arch, const char **ret_variant)
{
        static const struct {
                const char *machine, *arch, *variant;
        } map[] = {
                { "x86_64", "amd64", NULL },    { "aarch64", "arm64", "v8" },
                { "armv7l", "arm", "v7" },      { "armv6l", "arm", "v6" },
                { "armv5tel", "arm", "v5" },    { "i386", "386", NULL },
                { "i686", "386", NULL },        { "ppc64le", "ppc64le", NULL },
                { "s390x", "s390x", NULL },     { "riscv64", "riscv64", NULL },
                { "mips64", "mips64le", NULL }, { "loongarch64", "loong64", NULL },
        };
        static struct utsname u;
        *ret_arch = "amd64";
        *ret_variant = NULL;
        if (uname(&u) < 0)
                return;
        *ret_arch = u.machine;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(u.machine, map[i].machine)) {
                        *ret_arch = map[i].arch;
                        *ret_variant = map[i].variant;
                }
}

struct image_config *image_config_new(const char *created)
{
        struct image_config *c = xcalloc(1, sizeof(*c));
        const char *arch, *variant;
        native_platform(&arch, &variant);
        c->architecture = xstrdup(arch);
        c->variant = xstrdup(variant);
        c->os = xstrdup("linux");
        c->created = xstrdup(created);
        c->diff_ids = xcalloc(1, sizeof(char *));
        c->root = json_object();
        json_t *fs = json_object();
        json_set_str(fs, "type", "layers");
        json_object_set_new(fs, "diff_ids", json_array());
        json_object_set_new(c->root, "rootfs", fs);
        return c;
}

static void history_release(struct image_history *h)
{
        free(h->created);
        free(h->created_by);
        free(h->author);
        free(h->comment);
}

struct image_config *image_config_free(struct image_config *c)
{
        if (!c)
                return NULL;
        json_decref(c->root);
        free(c->architecture);
        free(c->os);
        free(c->variant);
        free(c->created);
        free(c->author);
        strv_free(c->diff_ids);
        for (size_t i = 0; i < c->n_history; i++)
                history_release(&c->history[i]);
        free(c->history);
        free(c);
        return NULL;
}

json_t *image_config_container(struct image_config *c)
{
        json_t *o = json_object_get(c->root, "config");
        if (json_is_object(o))
                return o;
        o = json_object();
        json_object_set_new(c->root, "config", o);
        return o;
}

static void set_opt_str(json_t *o, const char *key, const char *v)
{
        if (v)
                json_set_str(o, key, v);
        else
                json_object_del(o, key);
}

/* History entry H over OLD (kept for unknown keys) as a new JSON object. */
static json_t *history_to_json(const struct image_history *h, const json_t *old)
{
        json_t *o = json_is_object(old) ? json_deep_copy(old) : json_object();
        set_opt_str(o, "created", h->created);
        set_opt_str(o, "created_by", h->created_by);
        set_opt_str(o, "author", h->author);
        set_opt_str(o, "comment", h->comment);
        if (h->empty_layer)
                json_object_set_new(o, "empty_layer", json_true());
        else
                json_object_del(o, "empty_layer");
        return o;
}

static void sync_layers(struct image_config *c)
{
        json_t *fs = json_object_get(c->root, "rootfs");
        if (!json_is_object(fs)) {
                fs = json_object();
                json_object_set_new(c->root, "rootfs", fs);
        }
        json_set_str(fs, "type", "layers");
        json_t *ids = json_array();
        STRV_FOREACH(d, c->diff_ids)
                json_array_append_new(ids, json_string(*d));
        json_object_set_new(fs, "diff_ids", ids);
        json_t *old = json_object_get(c->root, "history");
        if (c->n_history == 0 && !json_is_array(old))
                return;
        json_t *a = json_array();
        for (size_t i = 0; i < c->n_history; i++)
                json_array_append_new(a, history_to_json(&c->history[i], json_array_get(old, i)));
        json_object_set_new(c->root, "history", a);
}

static void sync_root(struct image_config *c)
{
        json_set_str(c->root, "architecture", c->architecture);
        json_set_str(c->root, "os", c->os);
        set_opt_str(c->root, "variant", c->variant);
        set_opt_str(c->root, "created", c->created);
        set_opt_str(c->root, "author", c->author);
        sync_layers(c);
}

void image_config_add_history(struct image_config *c, const char *diff_id, const char *created,
                              const char *created_by, const char *author, const char *comment,
                              bool empty_layer)
{
        if (!empty_layer)
                strv_push(&c->diff_ids, diff_id);
        c->history = xrealloc(c->history, (c->n_history + 1) * sizeof(*c->history));
        c->history[c->n_history++] = (struct image_history){
                .created = xstrdup(created),
                .created_by = xstrdup(created_by),
                .author = xstrdup(author),
                .comment = xstrdup(comment),
                .empty_layer = empty_layer,
        };
        /* append to the JSON in step: rebuilding it each time made a build of N config
         * steps O(N^2) (10,000 ENV lines took minutes) */
        json_t *fs = json_object_get(c->root, "rootfs");
        json_t *ids = json_object_get(fs, "diff_ids");
        json_t *hist = json_object_get(c->root, "history");
        if (!json_is_array(ids) ||
            json_array_size(ids) + !empty_layer != strv_length(c->diff_ids) ||
            !json_is_array(hist) || json_array_size(hist) + 1 != c->n_history) {
                sync_layers(c);
                return;
        }
        if (!empty_layer)
                json_array_append_new(ids, json_string(diff_id));
        json_array_append_new(hist, history_to_json(&c->history[c->n_history - 1], NULL));
}

char *image_config_write(struct image_config *c)
{
        sync_root(c);
        return json_dump_canonical(c->root);
}
