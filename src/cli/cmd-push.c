/* strata push. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "basic/util.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "image/manifest.h"
#include "image/reference.h"

struct push_args {
        bool all_tags, quiet;
        const char *media_type; /* --format: the manifest's, or NULL */
        unsigned parallel;
        int tls_verify;
};

enum { OPT_PARALLEL = 0x100, OPT_TLS_VERIFY, OPT_FORMAT };

static bool stop(int *ret_exit, int code)
{
        *ret_exit = code;
        return false;
}

/* --format oci|docker (podman's v2s2 too) as a manifest media type. */
static int parse_format(const char *arg, const char **ret)
{
        if (streq(arg, "oci"))
                *ret = MEDIA_TYPE_OCI_MANIFEST;
        else if (streq(arg, "docker") || streq(arg, "v2s2"))
                *ret = MEDIA_TYPE_DOCKER_MANIFEST;
        else {
                cli_usage_error("push", "unknown --format '%s' (oci or docker)", arg);
                return -EINVAL;
        }
        return 0;
}

/* True to go on; false to exit with *ret_exit (help or a usage error printed). */
static bool parse_args(int argc, char **argv, struct push_args *a, int *ret_exit)
{
        static const struct option opts[] = {
                { "all-tags", no_argument, NULL, 'a' },
                { "quiet", no_argument, NULL, 'q' },
                { "max-concurrent-uploads", required_argument, NULL, OPT_PARALLEL },
                { "tls-verify", optional_argument, NULL, OPT_TLS_VERIFY },
                { "format", required_argument, NULL, OPT_FORMAT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int o;
        while ((o = getopt_long(argc, argv, "aqh", opts, NULL)) >= 0) {
                if (o == 'a')
                        a->all_tags = true;
                else if (o == 'q')
                        a->quiet = true;
                else if (o == OPT_PARALLEL && cli_parse_parallel("push", optarg, &a->parallel) < 0)
                        return stop(ret_exit, EXIT_USAGE);
                else if (o == OPT_TLS_VERIFY &&
                         cli_parse_tls_verify("push", optarg, &a->tls_verify) < 0)
                        return stop(ret_exit, EXIT_USAGE);
                else if (o == OPT_FORMAT && parse_format(optarg, &a->media_type) < 0)
                        return stop(ret_exit, EXIT_USAGE);
                else if (o == 'h')
                        return stop(ret_exit, cli_help_flags("push", "aqh", opts));
                else if (o == '?')
                        return stop(ret_exit, cli_usage_error("push", "invalid option"));
        }
        if (argc - optind != 1)
                return stop(ret_exit,
                            cli_usage_error("push", "\"push\" requires exactly 1 argument"));
        return true;
}

static int push_one(struct cli *c, struct registry_ctx *ctx, const char *local,
                    const struct image_ref *dest, const struct push_args *a, struct cli_progress *p,
                    struct st_error **err)
{
        struct registry_push_opts o = { .max_parallel = a->parallel,
                                        .manifest_media_type = a->media_type,
                                        .progress = cli_progress_event,
                                        .userdata = p };
        struct registry_push_result res;
        int r = registry_push(ctx, c->store, local, dest, &o, &res, err);
        if (r < 0)
                return r;
        if (a->quiet) {
                _cleanup_free_ char *full = image_ref_string(dest);
                printf("%s\n", full);
        } else
                printf("%s: digest: %s size: %llu\n", dest->digest ? dest->digest : dest->tag,
                       res.digest, (unsigned long long)res.size);
        return 0;
}

/* The local tags of REF's repository, sorted. */
static int local_tags(struct cli *c, const struct image_ref *ref, char ***ret,
                      struct st_error **err)
{
        struct store_image **l = NULL;
        size_t n = 0;
        int r = store_image_list(c->store, &l, &n, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *repo = image_ref_repository(ref);
        _cleanup_free_ char *prefix = xasprintf("%s:", repo);
        _cleanup_strv_ char **tags = NULL;
        for (size_t i = 0; i < n; i++)
                STRV_FOREACH(t, l[i]->tags)
                        if (startswith(*t, prefix) && !strv_contains(tags, *t))
                                strv_push(&tags, *t);
        store_image_list_free(l, n);
        if (!tags)
                return st_error_set(err, ST_E_NOT_FOUND,
                                    "An image does not exist locally with the tag: %s", repo);
        *ret = TAKE_PTR(tags);
        return 0;
}

static int push_all(struct cli *c, struct registry_ctx *ctx, const struct image_ref *ref,
                    const struct push_args *a, struct cli_progress *p, struct st_error **err)
{
        _cleanup_strv_ char **tags = NULL;
        int r = local_tags(c, ref, &tags, err);
        STRV_FOREACH(t, tags) {
                _cleanup_image_ref_ struct image_ref *dest = NULL;
                if (r >= 0)
                        r = image_ref_parse(*t, &dest, err);
                if (r >= 0)
                        r = push_one(c, ctx, *t, dest, a, p, err);
        }
        return r;
}

int verb_push(struct cli *c, int argc, char **argv)
{
        struct push_args a = { .tls_verify = -1 };
        int ex = EXIT_OK;
        if (!parse_args(argc, argv, &a, &ex))
                return ex;
        const char *name = argv[optind];
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        int r = a.all_tags ? image_ref_parse_name(name, &ref, &err)
                           : image_ref_parse(name, &ref, &err);
        if (r >= 0 && a.all_tags && (ref->tag || ref->digest))
                return cli_usage_error("push", "tag can't be used with --all-tags/-a");
        _cleanup_registry_ctx_ struct registry_ctx *ctx = NULL;
        if (r >= 0)
                r = cli_registry_ctx(a.tls_verify, &ctx, &err);
        if (r < 0)
                return cli_fail(err);
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        signal(SIGPIPE, SIG_IGN);
        struct cli_progress *p = cli_progress_new(stdout, true, a.quiet);
        r = a.all_tags ? push_all(c, ctx, ref, &a, p, &err)
                       : push_one(c, ctx, name, ref, &a, p, &err);
        cli_progress_free(p);
        if (r < 0) {
                st_error_wrap(&err, "push '%s'", name);
                return cli_fail(err);
        }
        return EXIT_OK;
}
