/* strata images: list images like `docker images`. */
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic/format.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "image/config.h"
#include "image/reference.h"
#include "json/json.h"

struct images_opts {
        bool quiet, digests, no_trunc, all;
        const char *format;
        const char *filter;    /* REPOSITORY[:TAG] pattern */
        char **references;     /* --filter reference=PATTERN (any may match) */
        int dangling;          /* --filter dangling=: -1 unset, 0 false, 1 true */
        int64_t before, since; /* --filter before=/since=IMAGE: created bounds, or -1 */
        char **labels;         /* --filter label=KEY[=VALUE] (all must match) */
};

/* One row: repository and tag in familiar form ("<none>" when untagged). */
static json_t *image_row(const struct store_image *img, const char *repo, const char *tag,
                         const char *digest, const struct images_opts *o)
{
        _cleanup_free_ char *size = format_bytes_docker(img->size);
        _cleanup_free_ char *since = format_time_ago(img->created, (int64_t)time(NULL));
        _cleanup_free_ char *at = cli_time_go(img->created);
        _cleanup_free_ char *id =
                o->no_trunc ? xstrdup(img->id) : xstrndup(digest_hex(img->id), 12);
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers",
                         "N/A", "CreatedAt", at, "CreatedSince", since, "Digest",
                         digest ? digest : "<none>", "ID", id, "Repository", repo, "SharedSize",
                         "N/A", "Size", size, "Tag", tag, "UniqueSize", "N/A", "VirtualSize", size);
}

/* The digest recorded for REPO in IMG's repo digests, if any (borrowed). */
static const char *repo_digest(const struct store_image *img, const char *full_repo)
{
        size_t n = strlen(full_repo);
        STRV_FOREACH(d, img->repo_digests)
                if (strncmp(*d, full_repo, n) == 0 && (*d)[n] == '@')
                        return *d + n + 1;
        return NULL;
}

static bool pattern_matches(const char *pattern, const struct image_ref *ref)
{
        _cleanup_free_ char *fam = image_ref_familiar_repository(ref);
        _cleanup_free_ char *full = image_ref_repository(ref);
        _cleanup_free_ char *pat = xstrdup(pattern);
        char *colon = strrchr(pat, ':');
        const char *tagpat = NULL;
        if (colon && !strchr(colon, '/')) {
                *colon = 0;
                tagpat = colon + 1;
        }
        if (fnmatch(pat, fam, 0) != 0 && fnmatch(pat, full, 0) != 0)
                return false;
        return !tagpat || (ref->tag && fnmatch(tagpat, ref->tag, 0) == 0);
}

static bool matches(const struct images_opts *o, const struct image_ref *ref)
{
        if (o->filter && !pattern_matches(o->filter, ref))
                return false;
        if (!o->references)
                return true;
        STRV_FOREACH(p, o->references)
                if (pattern_matches(*p, ref))
                        return true;
        return false;
}

static bool label_matches(json_t *labels, const char *want)
{
        _cleanup_free_ char *key = xstrdup(want);
        char *eq = strchr(key, '=');
        if (eq)
                *eq = 0;
        const char *have = json_get_str(labels, key);
        return have && (!eq || streq(have, eq + 1));
}

/* The filters that look at the image as a whole (not at one tag). */
static bool image_passes(struct store *s, const struct store_image *img,
                         const struct images_opts *o)
{
        if (o->dangling >= 0 && (o->dangling == 1) != !img->tags)
                return false;
        if (o->before >= 0 && img->created >= o->before)
                return false;
        if (o->since >= 0 && img->created <= o->since)
                return false;
        if (!o->labels)
                return true;
        _cleanup_config_ struct image_config *cfg = NULL;
        if (cli_image_config(s, img, &cfg, NULL) < 0)
                return false;
        json_t *labels = json_object_get(image_config_container(cfg), "Labels");
        STRV_FOREACH(l, o->labels)
                if (!label_matches(labels, *l))
                        return false;
        return true;
}

/* Parse one --filter KEY=VALUE into O; image references are resolved in S. */
static int add_filter(struct store *s, struct images_opts *o, const char *f, struct st_error **err)
{
        const char *v;
        if ((v = startswith(f, "reference="))) {
                strv_push(&o->references, v);
        } else if ((v = startswith(f, "label="))) {
                strv_push(&o->labels, v);
        } else if ((v = startswith(f, "dangling="))) {
                bool b;
                if (cli_parse_bool(v, &b) < 0)
                        return st_error_set(err, ST_E_USAGE, "invalid filter 'dangling=%s'", v);
                o->dangling = b;
        } else if ((v = startswith(f, "before=")) || (v = startswith(f, "since="))) {
                _cleanup_store_image_ struct store_image *img = NULL;
                int r = store_image_lookup(s, v, &img, err);
                if (r < 0)
                        return r;
                if (f[0] == 'b')
                        o->before = img->created;
                else
                        o->since = img->created;
        } else
                return st_error_set(err, ST_E_USAGE, "invalid filter '%s'", f);
        return 0;
}

static void add_rows(const struct store_image *img, const struct images_opts *o, json_t *rows)
{
        bool any = false;
        STRV_FOREACH(t, img->tags) {
                _cleanup_image_ref_ struct image_ref *ref = NULL;
                if (image_ref_parse(*t, &ref, NULL) < 0 || !matches(o, ref))
                        continue;
                _cleanup_free_ char *repo = image_ref_familiar_repository(ref);
                _cleanup_free_ char *full = image_ref_repository(ref);
                json_array_append_new(rows,
                                      image_row(img, repo, ref->tag, repo_digest(img, full), o));
                any = true;
        }
        if (!any && !img->tags && !o->filter && !o->references)
                json_array_append_new(rows, image_row(img, "<none>", "<none>", NULL, o));
}

static int print_rows(json_t *rows, const struct images_opts *o, struct st_error **err)
{
        size_t n = json_array_size(rows);
        if (o->quiet) {
                _cleanup_strv_ char **seen = NULL;
                for (size_t i = 0; i < n; i++) {
                        const char *id = json_get_str(json_array_get(rows, i), "ID");
                        if (!strv_contains(seen, id)) {
                                puts(id);
                                strv_push(&seen, id);
                        }
                }
                return 0;
        }
        if (o->format) {
                json_t **items = xcalloc(n + 1, sizeof(json_t *));
                for (size_t i = 0; i < n; i++)
                        items[i] = json_array_get(rows, i);
                int r = cli_print_formatted(o->format, items, n, cli_image_header, err);
                free(items);
                return r;
        }
        _cleanup_strv_ char **lines = NULL;
        strv_push(&lines, o->digests ? "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE"
                                     : "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE");
        for (size_t i = 0; i < n; i++) {
                json_t *r = json_array_get(rows, i);
                const char *d = json_get_str(r, "Digest");
                strv_consume(&lines,
                             xasprintf("%s\t%s\t%s%s%s\t%s\t%s", json_get_str(r, "Repository"),
                                       json_get_str(r, "Tag"), o->digests ? d : "",
                                       o->digests ? "\t" : "", json_get_str(r, "ID"),
                                       json_get_str(r, "CreatedSince"), json_get_str(r, "Size")));
        }
        cli_print_table(lines);
        return 0;
}

int verb_images(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "all", no_argument, NULL, 'a' },
                { "digests", no_argument, NULL, 'd' },
                { "no-trunc", no_argument, NULL, 'n' },
                { "format", required_argument, NULL, 'F' },
                { "filter", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct images_opts o = { .dangling = -1, .before = -1, .since = -1 };
        _cleanup_strv_ char **filters = NULL;
        int opt;
        while ((opt = getopt_long(argc, argv, "qaf:h", opts, NULL)) >= 0) {
                switch (opt) {
                case 'q':
                        o.quiet = true;
                        break;
                case 'a':
                        o.all = true;
                        break;
                case 'd':
                        o.digests = true;
                        break;
                case 'n':
                        o.no_trunc = true;
                        break;
                case 'F':
                        o.format = optarg;
                        break;
                case 'f':
                        strv_push(&filters, optarg);
                        break;
                case 'h':
                        return cli_help_flags("images", "qaf:h", opts);
                default:
                        return cli_usage_error("images", "invalid option");
                }
        }
        if (argc - optind > 1)
                return cli_usage_error("images", "\"images\" requires at most 1 argument");
        o.filter = optind < argc ? argv[optind] : NULL;
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        _cleanup_error_ struct st_error *err = NULL;
        STRV_FOREACH(f, filters)
                if (add_filter(c->store, &o, *f, &err) < 0) {
                        strv_free(o.references);
                        strv_free(o.labels);
                        return cli_fail(err);
                }
        struct store_image **l = NULL;
        size_t n = 0;
        int r = store_image_list(c->store, &l, &n, &err);
        json_t *rows = json_array();
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (image_passes(c->store, l[i], &o))
                        add_rows(l[i], &o, rows);
        store_image_list_free(l, n);
        strv_free(o.references);
        strv_free(o.labels);
        if (r >= 0)
                r = print_rows(rows, &o, &err);
        json_decref(rows);
        return r < 0 ? cli_fail(err) : EXIT_OK;
}
