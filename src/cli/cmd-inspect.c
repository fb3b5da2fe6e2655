/* strata inspect: images as `docker image inspect` shows them. */
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "basic/format.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "image/reference.h"
#include "json/json.h"
#include "json/template.h"

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

/* The inspect object of IMG; a new reference. */
static int image_json(struct store *s, const struct store_image *img, json_t **ret,
                      struct st_error **err)
{
        _cleanup_config_ struct image_config *cfg = NULL;
        int r = cli_image_config(s, img, &cfg, err);
        if (r < 0)
                return r;
        const char *comment = cfg->n_history ? cfg->history[cfg->n_history - 1].comment : NULL;
        json_t *config = json_object_get(cfg->root, "config");
        json_t *diff_ids = json_array();
        STRV_FOREACH(d, cfg->diff_ids)
                json_array_append_new(diff_ids, json_string(*d));
        json_t *o = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:I}", "Id",
                              img->id, "RepoTags", strv_to_json(img->tags, true), "RepoDigests",
                              strv_to_json(img->repo_digests, true), "Parent", "", "Comment",
                              comment ? comment : "", "Created", cfg->created ? cfg->created : "",
                              "DockerVersion", "", "Author", cfg->author ? cfg->author : "",
                              "Config", config ? config : json_null(), "Architecture",
                              cfg->architecture ? cfg->architecture : "", "Os",
                              cfg->os ? cfg->os : "", "Size", (json_int_t)img->size);
        if (cfg->variant)
                json_object_set_new(o, "Variant", json_string(cfg->variant));
        json_object_set_new(o, "GraphDriver", graph_driver(s, img));
        json_object_set_new(o, "RootFS",
                            json_pack("{s:s, s:o}", "Type", "layers", "Layers", diff_ids));
        json_object_set_new(o, "Metadata", json_pack("{s:s}", "LastTagTime", ""));
        *ret = o;
        return 0;
}

int verb_inspect(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "type", required_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *format = NULL;
        int o;
        while ((o = getopt_long(argc, argv, "f:h", opts, NULL)) >= 0) {
                if (o == 'f')
                        format = optarg;
                else if (o == 't') {
                        if (!streq(optarg, "image"))
                                return cli_usage_error("inspect", "unsupported --type '%s'",
                                                       optarg);
                } else if (o == 'h')
                        return cli_help("inspect");
                else
                        return cli_usage_error("inspect", "invalid option");
        }
        if (optind >= argc)
                return cli_usage_error("inspect", "\"inspect\" requires at least 1 argument");
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        int ret = EXIT_OK;
        json_t *all = json_array();
        for (int i = optind; i < argc; i++) {
                _cleanup_error_ struct st_error *err = NULL;
                _cleanup_store_image_ struct store_image *img = NULL;
                json_t *j = NULL;
                if (store_image_lookup(c->store, argv[i], &img, &err) < 0 ||
                    image_json(c->store, img, &j, &err) < 0) {
                        if (st_error_code(err) == ST_E_NOT_FOUND) {
                                st_error_free(err);
                                err = NULL;
                                st_error_set(&err, ST_E_NOT_FOUND, "No such image: %s", argv[i]);
                        }
                        ret = cli_fail(err);
                        continue;
                }
                json_array_append_new(all, j);
        }
        _cleanup_error_ struct st_error *err = NULL;
        if (format) {
                size_t n = json_array_size(all);
                json_t **items = xcalloc(n + 1, sizeof(json_t *));
                for (size_t i = 0; i < n; i++)
                        items[i] = json_array_get(all, i);
                if (cli_print_formatted(format, items, n, NULL, &err) < 0)
                        ret = cli_fail(err);
                free(items);
        } else {
                _cleanup_free_ char *s = json_dump_pretty(all);
                puts(s);
        }
        json_decref(all);
        return ret;
}
