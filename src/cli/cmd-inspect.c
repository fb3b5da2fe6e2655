/* strata inspect: images and containers as `docker inspect` shows them. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "basic/format.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "cli/remote.h"
#include "image/reference.h"
#include "json/json.h"
#include "json/template.h"
#include "runtime/container.h"

static json_t *strv_to_json(char **l, bool familiar)
{
        json_t *a = json_array();
        STRV_FOREACH(s, l) {
                _cleanup_free_ char *f = familiar ? image_ref_familiarize(*s) : xstrdup(*s);
                json_array_append_new(a, json_string(f));
        }
        return a;
}

static json_t *graph_driver(struct store *s, const struct store_image *img)
{
        size_t n = strv_length(img->chain_ids);
        json_t *data = json_object();
        if (n > 0) {
                _cleanup_free_ char *upper = store_layer_diff_path(s, img->chain_ids[n - 1]);
                json_object_set_new(data, "UpperDir", json_string(upper));
        }
        if (n > 1) {
                _cleanup_free_ char *lower = NULL;
                for (size_t i = n - 1; i-- > 0;) {
                        _cleanup_free_ char *p = store_layer_diff_path(s, img->chain_ids[i]);
                        char *nl = lower ? xasprintf("%s:%s", lower, p) : xstrdup(p);
                        free(lower);
                        lower = nl;
                }
                json_object_set_new(data, "LowerDir", json_string(lower));
        }
        return json_pack("{s:o, s:s}", "Data", data, "Name", "overlay");
}

json_t *cli_image_inspect_json(const struct image_config *cfg, const char *id, char **tags,
                               char **repo_digests, int64_t size, json_t *graph_driver)
{
        const char *comment = cfg->n_history ? cfg->history[cfg->n_history - 1].comment : NULL;
        json_t *config = json_object_get(cfg->root, "config");
        json_t *diff_ids = json_array();
        STRV_FOREACH(d, cfg->diff_ids)
                json_array_append_new(diff_ids, json_string(*d));
        json_t *o = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:I}", "Id",
                              id, "RepoTags", strv_to_json(tags, true), "RepoDigests",
                              strv_to_json(repo_digests, true), "Parent", "", "Comment",
                              comment ? comment : "", "Created", cfg->created ? cfg->created : "",
                              "DockerVersion", "", "Author", cfg->author ? cfg->author : "",
                              "Config", config ? config : json_null(), "Architecture",
                              cfg->architecture ? cfg->architecture : "", "Os",
                              cfg->os ? cfg->os : "", "Size", (json_int_t)size);
        if (cfg->variant)
                json_object_set_new(o, "Variant", json_string(cfg->variant));
        if (graph_driver)
                json_object_set_new(o, "GraphDriver", graph_driver);
        json_object_set_new(o, "RootFS",
                            json_pack("{s:s, s:o}", "Type", "layers", "Layers", diff_ids));
        json_object_set_new(o, "Metadata", json_pack("{s:s}", "LastTagTime", ""));
        return o;
}

/* The inspect object of IMG; a new reference. */
static int image_json(struct store *s, const struct store_image *img, json_t **ret,
                      struct st_error **err)
{
        _cleanup_config_ struct image_config *cfg = NULL;
        int r = cli_image_config(s, img, &cfg, err);
        if (r < 0)
                return r;
        *ret = cli_image_inspect_json(cfg, img->id, img->tags, img->repo_digests, img->size,
                                      graph_driver(s, img));
        return 0;
}

static char *time_or_zero(int64_t ns)
{
        if (ns == 0)
                return xstrdup("0001-01-01T00:00:00Z");
        return format_time_rfc3339(ns / 1000000000, (long)(ns % 1000000000));
}

static json_t *container_state(const struct store_container *ct)
{
        _cleanup_free_ char *started = time_or_zero(ct->started_at);
        _cleanup_free_ char *finished = time_or_zero(ct->finished_at);
        bool running = ct->state == STORE_CONTAINER_RUNNING;
        return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}", "Status",
                         store_container_state_to_string(ct->state), "Running", running, "Paused",
                         false, "Restarting", false, "OOMKilled", false, "Dead", false, "Pid",
                         running ? ct->pid : 0, "ExitCode", ct->exit_code, "Error",
                         ct->error ? ct->error : "", "StartedAt", started, "FinishedAt", finished);
}

static json_t *container_graph_driver(struct store *s, const struct store_container *ct,
                                      const char *dir)
{
        _cleanup_free_ char *lower = NULL;
        for (size_t i = strv_length(ct->chain_ids); i-- > 0;) {
                _cleanup_free_ char *p = store_layer_diff_path(s, ct->chain_ids[i]);
                char *nl = lower ? xasprintf("%s:%s", lower, p) : xstrdup(p);
                free(lower);
                lower = nl;
        }
        _cleanup_free_ char *merged = xasprintf("%s/merged", dir);
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        _cleanup_free_ char *work = xasprintf("%s/work", dir);
        json_t *data = json_pack("{s:s, s:s, s:s}", "MergedDir", merged, "UpperDir", upper,
                                 "WorkDir", work);
        if (lower)
                json_object_set_new(data, "LowerDir", json_string(lower));
        return json_pack("{s:o, s:s}", "Data", data, "Name", "overlay");
}

/* The inspect object of container CT, Docker-shaped; a new reference. */
static json_t *container_json(struct store *s, const struct store_container *ct)
{
        _cleanup_json_ json_t *cfg = runtime_container_config(ct);
        _cleanup_free_ char *dir = store_container_dir(s, ct->id);
        _cleanup_free_ char *created = time_or_zero(ct->created);
        _cleanup_free_ char *name = xasprintf("/%s", ct->name);
        json_t *config = json_deep_copy(json_object_get(cfg, "Config"));
        const char *hn = json_get_str(config, "Hostname");
        if (config && (!hn || !*hn)) {
                _cleanup_free_ char *h = runtime_hostname(cfg, ct->id, NULL);
                json_object_set_new(config, "Hostname", json_string(h));
        }
        json_t *o = json_pack("{s:s, s:s, s:O, s:O, s:o, s:s}", "Id", ct->id, "Created", created,
                              "Path", json_object_get(cfg, "Path") ?: json_string(""), "Args",
                              json_object_get(cfg, "Args") ?: json_array(), "State",
                              container_state(ct), "Image", ct->image_id);
        const char *files[][2] = { { "ResolvConfPath", "resolv.conf" },
                                   { "HostnamePath", "hostname" },
                                   { "HostsPath", "hosts" },
                                   { "LogPath", "log" } };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, files[i][1]);
                json_object_set_new(o, files[i][0], json_string(p));
        }
        json_object_set_new(o, "Name", json_string(name));
        json_object_set_new(o, "RestartCount", json_integer(0));
        json_object_set_new(o, "Driver", json_string("overlay"));
        json_object_set_new(o, "Platform", json_string("linux"));
        json_object_set(o, "HostConfig", json_object_get(cfg, "HostConfig") ?: json_object());
        json_object_set_new(o, "GraphDriver", container_graph_driver(s, ct, dir));
        json_object_set_new(o, "Config", config ? config : json_object());
        return o;
}

/* The inspect object of NAME: an image (unless TYPE is "container"), else a container. */
static int inspect_one(struct store *s, const char *name, const char *type, json_t **ret,
                       struct st_error **err)
{
        _cleanup_store_image_ struct store_image *img = NULL;
        _cleanup_store_container_ struct store_container *ct = NULL;
        int r = ST_E_NOT_FOUND;
        if (!streq_ptr(type, "container")) {
                r = store_image_lookup(s, name, &img, err);
                if (r >= 0)
                        return image_json(s, img, ret, err);
                if (r != ST_E_NOT_FOUND || type)
                        return r;
                *err = st_error_free(*err);
        }
        r = store_container_lookup(s, name, &ct, err);
        if (r == ST_E_NOT_FOUND && !type) {
                *err = st_error_free(*err);
                return st_error_set(err, ST_E_NOT_FOUND, "No such image: %s", name);
        }
        if (r < 0)
                return r;
        struct runtime_host h = { .store = s, .search_path = getenv("PATH") };
        (void)runtime_container_refresh(&h, ct, NULL);
        *ret = container_json(s, ct);
        return 0;
}

struct inspect_args {
        const char *format, *type, *platform;
        bool remote;
        int tls_verify;
};

enum { OPT_REMOTE = 0x100, OPT_PLATFORM, OPT_TLS_VERIFY };

/* One flag into A; prints a usage error and returns < 0 if it is bad. */
static int inspect_flag(int opt, const char *arg, struct inspect_args *a)
{
        if (opt == 'f')
                a->format = arg;
        else if (opt == 't' && !streq(arg, "image") && !streq(arg, "container")) {
                cli_usage_error("inspect", "unsupported --type '%s'", arg);
                return -EINVAL;
        } else if (opt == 't')
                a->type = arg;
        else if (opt == OPT_REMOTE)
                a->remote = true;
        else if (opt == OPT_PLATFORM)
                a->platform = arg;
        else if (opt == OPT_TLS_VERIFY)
                return cli_parse_tls_verify("inspect", arg, &a->tls_verify);
        return 0;
}

/* The flags into A: the index of the first name, or -1 with *ret_exit (help, usage error). */
static int parse_args(int argc, char **argv, struct inspect_args *a, int *ret_exit)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "type", required_argument, NULL, 't' },
                { "remote", no_argument, NULL, OPT_REMOTE },
                { "platform", required_argument, NULL, OPT_PLATFORM },
                { "tls-verify", optional_argument, NULL, OPT_TLS_VERIFY },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int o;
        *ret_exit = EXIT_USAGE;
        while ((o = getopt_long(argc, argv, "f:h", opts, NULL)) >= 0) {
                if (o == 'h') {
                        *ret_exit = cli_help_flags("inspect", "f:h", opts);
                        return -1;
                }
                if (o == '?') {
                        cli_usage_error("inspect", "invalid option");
                        return -1;
                }
                if (inspect_flag(o, optarg, a) < 0)
                        return -1;
        }
        const char *bad = NULL;
        if (optind >= argc)
                bad = "\"inspect\" requires at least 1 argument";
        else if (a->remote && a->type)
                bad = "--remote inspects images, not --type";
        else if (!a->remote && a->platform)
                bad = "--platform needs --remote";
        if (bad) {
                cli_usage_error("inspect", "%s", bad);
                return -1;
        }
        return optind;
}

/* Print ALL (inspect objects) as a JSON array, or each through the template FORMAT. */
static int print_all(json_t *all, const char *format)
{
        if (!format) {
                _cleanup_free_ char *s = json_dump_pretty(all);
                puts(s);
                return EXIT_OK;
        }
        _cleanup_error_ struct st_error *err = NULL;
        size_t n = json_array_size(all);
        json_t **items = xcalloc(n + 1, sizeof(json_t *));
        for (size_t i = 0; i < n; i++)
                items[i] = json_array_get(all, i);
        int r = cli_print_formatted(format, items, n, NULL, &err);
        free(items);
        return r < 0 ? cli_fail(err) : EXIT_OK;
}

int verb_inspect(struct cli *c, int argc, char **argv)
{
        struct inspect_args a = { .tls_verify = -1 };
        int ex;
        int first = parse_args(argc, argv, &a, &ex);
        if (first < 0)
                return ex;
        _cleanup_registry_ctx_ struct registry_ctx *ctx = NULL;
        _cleanup_error_ struct st_error *cerr = NULL;
        if (a.remote && cli_registry_ctx(a.tls_verify, &ctx, &cerr) < 0)
                return cli_fail(cerr);
        if (!a.remote && cli_store(c) < 0)
                return EXIT_FAIL;
        int ret = EXIT_OK;
        json_t *all = json_array();
        for (int i = first; i < argc; i++) {
                _cleanup_error_ struct st_error *err = NULL;
                json_t *j = NULL;
                int r = a.remote ? cli_inspect_remote(ctx, argv[i], a.platform, &j, &err)
                                 : inspect_one(c->store, argv[i], a.type, &j, &err);
                if (r < 0) {
                        ret = cli_fail(err);
                        continue;
                }
                json_array_append_new(all, j);
        }
        int pr = print_all(all, a.format);
        json_decref(all);
        return ret != EXIT_OK ? ret : pr;
}
