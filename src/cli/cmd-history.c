/* strata history: the config's history, newest first, with layer sizes. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic/format.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "image/config.h"
#include "json/json.h"

struct history_opts {
        bool quiet, no_trunc, human;
        const char *format;
};

/* Docker shortens CREATED BY to 45 characters ending in "…". */
static char *created_by(const char *s, bool no_trunc)
{
        size_t n = strlen(s);
        if (no_trunc || n <= 45)
                return xstrdup(s);
        return xasprintf("%.44s…", s);
}

static json_t *history_row(const struct image_history *h, const char *id, uint64_t size,
                           const struct history_opts *o)
{
        int64_t t = 0;
        if (h->created)
                (void)image_time_parse(h->created, &t);
        _cleanup_free_ char *since = NULL, *sz = NULL;
        if (o->human) {
                since = format_time_ago(t, (int64_t)time(NULL));
                sz = format_bytes_docker(size);
        } else {
                since = xstrdup(h->created ? h->created : "");
                sz = xasprintf("%llu", (unsigned long long)size);
        }
        _cleanup_free_ char *by = created_by(h->created_by ? h->created_by : "", o->no_trunc);
        _cleanup_free_ char *at = cli_time_go(t);
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "CreatedSince", since,
                         "CreatedAt", h->created ? h->created : at, "CreatedBy", by, "Size", sz,
                         "Comment", h->comment ? h->comment : "");
}

static int build_rows(struct store *s, const struct store_image *img, const struct history_opts *o,
                      json_t *rows, struct st_error **err)
{
        _cleanup_config_ struct image_config *cfg = NULL;
        int r = cli_image_config(s, img, &cfg, err);
        if (r < 0)
                return r;
        size_t layer = strv_length(img->chain_ids);
        _cleanup_free_ char *id =
                o->no_trunc ? xstrdup(img->id) : xstrndup(digest_hex(img->id), 12);
        for (size_t i = cfg->n_history; i-- > 0;) {
                const struct image_history *h = &cfg->history[i];
                uint64_t size = 0;
                if (!h->empty_layer && layer > 0) {
                        _cleanup_store_layer_ struct store_layer *l = NULL;
                        if (store_layer_get(s, img->chain_ids[--layer], &l, NULL) >= 0)
                                size = l->size;
                }
                bool top = i == cfg->n_history - 1;
                json_array_append_new(rows, history_row(h, top ? id : "<missing>", size, o));
        }
        return 0;
}

static void print_default(json_t *rows, const struct history_opts *o)
{
        _cleanup_strv_ char **lines = NULL;
        strv_push(&lines, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT");
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
                if (o->quiet) {
                        if (!streq(json_get_str(r, "ID"), "<missing>"))
                                puts(json_get_str(r, "ID"));
                        continue;
                }
                strv_consume(&lines,
                             xasprintf("%s\t%s\t%s\t%s\t%s", json_get_str(r, "ID"),
                                       json_get_str(r, "CreatedSince"),
                                       json_get_str(r, "CreatedBy"), json_get_str(r, "Size"),
                                       json_get_str(r, "Comment")));
        }
        if (!o->quiet)
                cli_print_table(lines);
}

int verb_history(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, 'n' },
                { "human", optional_argument, NULL, 'H' },
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct history_opts o = { .human = true };
        int opt;
        while ((opt = getopt_long(argc, argv, "qH::h", opts, NULL)) >= 0) {
                switch (opt) {
                case 'q':
                        o.quiet = true;
                        break;
                case 'n':
                        o.no_trunc = true;
                        break;
                case 'H': {
                        const char *v = optarg && optarg[0] == '=' ? optarg + 1 : optarg;
                        if (cli_parse_bool(v, &o.human) < 0)
                                return cli_usage_error("history", "invalid boolean '%s' for -H", v);
                        break;
                }
                case 'f':
                        o.format = optarg;
                        break;
                case 'h':
                        return cli_help_flags("history", "qH::h", opts);
                default:
                        return cli_usage_error("history", "invalid option");
                }
        }
        if (argc - optind != 1)
                return cli_usage_error("history", "\"history\" requires exactly 1 argument");
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_store_image_ struct store_image *img = NULL;
        json_t *rows = json_array();
        int r = store_image_lookup(c->store, argv[optind], &img, &err);
        if (r >= 0)
                r = build_rows(c->store, img, &o, rows, &err);
        if (r >= 0 && o.format) {
                size_t n = json_array_size(rows);
                json_t **items = xcalloc(n + 1, sizeof(json_t *));
                for (size_t i = 0; i < n; i++)
                        items[i] = json_array_get(rows, i);
                r = cli_print_formatted(o.format, items, n, cli_image_header, &err);
                free(items);
        } else if (r >= 0)
                print_default(rows, &o);
        json_decref(rows);
        return r < 0 ? cli_fail(err) : EXIT_OK;
}
