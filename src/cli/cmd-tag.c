/* strata tag and strata rmi. */
#include <getopt.h>
#include <stdio.h>

#include "basic/util.h"
#include "cli/cli.h"
#include "image/reference.h"

int verb_tag(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, {} };
        int o;
        while ((o = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                if (o == 'h')
                        return cli_help("tag");
                return cli_usage_error("tag", "invalid option");
        }
        if (argc - optind != 2)
                return cli_usage_error("tag", "\"tag\" requires exactly 2 arguments");
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_image_ref_ struct image_ref *dst = NULL;
        if (image_ref_parse(argv[optind + 1], &dst, &err) < 0)
                return cli_fail(err);
        if (dst->digest) {
                st_error_set(&err, ST_E_PARSE, "refusing to create a tag with a digest reference");
                return cli_fail(err);
        }
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        _cleanup_store_image_ struct store_image *img = NULL;
        if (store_lock(c->store, false, &err) < 0 ||
            store_image_lookup(c->store, argv[optind], &img, &err) < 0)
                return cli_fail(err);
        _cleanup_free_ char *full = image_ref_string(dst);
        if (store_tag_set(c->store, full, img->id, &err) < 0)
                return cli_fail(err);
        return EXIT_OK;
}

/* Remove one image argument as Docker does; prints Untagged:/Deleted: lines. */
static int rmi_one(struct cli *c, const char *name, bool force, struct st_error **err)
{
        _cleanup_store_image_ struct store_image *img = NULL;
        int r = store_image_lookup(c->store, name, &img, err);
        if (r < 0)
                return r;
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        _cleanup_free_ char *full = NULL;
        _cleanup_error_ struct st_error *perr = NULL;
        if (image_ref_parse(name, &ref, &perr) >= 0 && !ref->digest)
                full = image_ref_string(ref);
        bool by_tag = full && strv_contains(img->tags, full);
        size_t ntags = strv_length(img->tags);
        _cleanup_strv_ char **users = NULL;
        size_t running = 0;
        r = store_image_containers(c->store, img->id, &users, &running, err);
        if (r < 0)
                return r;
        if (by_tag && ntags == 1 && users && !force)
                return st_error_set(err, ST_E_IN_USE,
                                    "conflict: unable to remove repository reference \"%s\" (must"
                                    " force) - container %.12s is using its referenced image"
                                    " %.12s",
                                    name, users[0], digest_hex(img->id));
        if (by_tag && (ntags > 1 || (running && force))) {
                r = store_tag_remove(c->store, full, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *f = image_ref_familiarize(full);
                printf("Untagged: %s\n", f);
                return 0;
        }
        if (!by_tag && ntags > 1 && !force)
                return st_error_set(err, ST_E_IN_USE,
                                    "conflict: unable to delete %.12s (must be forced) - image is"
                                    " referenced in multiple repositories",
                                    digest_hex(img->id));
        if (running)
                return st_error_set(err, ST_E_IN_USE,
                                    "conflict: unable to delete %.12s (cannot be forced) - image is"
                                    " being used by running container %.12s",
                                    digest_hex(img->id), users[0]);
        if (users && !force)
                return st_error_set(err, ST_E_IN_USE,
                                    "conflict: unable to delete %.12s (must be forced) - image is"
                                    " being used by stopped container %.12s",
                                    digest_hex(img->id), users[0]);
        STRV_FOREACH(t, img->tags) {
                _cleanup_free_ char *f = image_ref_familiarize(*t);
                printf("Untagged: %s\n", f);
        }
        STRV_FOREACH(d, img->repo_digests) {
                _cleanup_free_ char *f = image_ref_familiarize(*d);
                printf("Untagged: %s\n", f);
        }
        r = store_image_delete(c->store, img->id, err);
        if (r < 0)
                return r;
        printf("Deleted: %s\n", img->id);
        return 0;
}

int verb_rmi(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool force = false;
        int o;
        while ((o = getopt_long(argc, argv, "fh", opts, NULL)) >= 0) {
                switch (o) {
                case 'f':
                        force = true;
                        break;
                case 'h':
                        return cli_help_flags("rmi", "fh", opts);
                default:
                        return cli_usage_error("rmi", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_usage_error("rmi", "\"rmi\" requires at least 1 argument");
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        _cleanup_error_ struct st_error *lerr = NULL;
        if (store_lock(c->store, true, &lerr) < 0)
                return cli_fail(lerr);
        int ret = EXIT_OK;
        for (int i = optind; i < argc; i++) {
                _cleanup_error_ struct st_error *err = NULL;
                if (rmi_one(c, argv[i], force, &err) < 0)
                        ret = cli_fail(err);
        }
        struct store_gc_stats gc;
        _cleanup_error_ struct st_error *gerr = NULL;
        if (store_gc(c->store, &gc, &gerr) < 0)
                ret = cli_fail(gerr);
        return ret;
}
