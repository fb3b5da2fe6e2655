/* strata pull. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "basic/util.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "image/reference.h"

struct pull_args {
        bool all_tags, quiet;
        const char *platform;
        unsigned parallel;
        int tls_verify;
};

enum { OPT_PLATFORM = 0x100, OPT_PARALLEL, OPT_TLS_VERIFY };

static bool stop(int *ret_exit, int code)
{
        *ret_exit = code;
        return false;
}

/* True to go on; false to exit with *ret_exit (help or a usage error printed). */
static bool parse_args(int argc, char **argv, struct pull_args *a, int *ret_exit)
{
        static const struct option opts[] = {
                { "all-tags", no_argument, NULL, 'a' },
                { "quiet", no_argument, NULL, 'q' },
                { "platform", required_argument, NULL, OPT_PLATFORM },
                { "max-concurrent-downloads", required_argument, NULL, OPT_PARALLEL },
                { "tls-verify", optional_argument, NULL, OPT_TLS_VERIFY },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int o;
        while ((o = getopt_long(argc, argv, "aqh", opts, NULL)) >= 0) {
                if (o == 'a')
                        a->all_tags = true;
                else if (o == 'q')
                        a->quiet = true;
                else if (o == OPT_PLATFORM)
                        a->platform = optarg;
                else if (o == OPT_PARALLEL && cli_parse_parallel("pull", optarg, &a->parallel) < 0)
                        return stop(ret_exit, EXIT_USAGE);
                else if (o == OPT_TLS_VERIFY &&
                         cli_parse_tls_verify("pull", optarg, &a->tls_verify) < 0)
                        return stop(ret_exit, EXIT_USAGE);
                else if (o == 'h')
                        return stop(ret_exit, cli_help_flags("pull", "aqh", opts));
                else if (o == '?')
                        return stop(ret_exit, cli_usage_error("pull", "invalid option"));
        }
        if (argc - optind != 1)
                return stop(ret_exit,
                            cli_usage_error("pull", "\"pull\" requires exactly 1 argument"));
        return true;
}

static int pull_one(struct cli *c, struct registry_ctx *ctx, const struct image_ref *ref,
                    const struct pull_args *a, struct cli_progress *p, struct st_error **err)
{
        struct registry_pull_opts o = { .platform = a->platform,
                                        .max_parallel = a->parallel,
                                        .progress = cli_progress_event,
                                        .userdata = p };
        struct registry_pull_result res;
        int r = registry_pull(ctx, c->store, ref, &o, &res, err);
        if (r < 0 || a->quiet)
                return r;
        _cleanup_free_ char *fam = image_ref_familiar_string(ref);
        printf("Digest: %s\n", res.digest);
        printf("Status: %s for %s\n",
               res.downloaded ? "Downloaded newer image" : "Image is up to date", fam);
        return 0;
}

static int pull_all(struct cli *c, struct registry_ctx *ctx, struct image_ref *ref,
                    const struct pull_args *a, struct cli_progress *p, struct st_error **err)
{
        _cleanup_strv_ char **tags = NULL;
        int r = registry_list_tags(ctx, ref, &tags, err);
        if (r >= 0 && !tags)
                r = st_error_set(err, ST_E_NOT_FOUND, "the repository has no tags");
        STRV_FOREACH(t, tags) {
                if (r < 0)
                        break;
                free(ref->tag);
                ref->tag = xstrdup(*t);
                r = pull_one(c, ctx, ref, a, p, err);
        }
        return r;
}

int verb_pull(struct cli *c, int argc, char **argv)
{
        struct pull_args a = { .tls_verify = -1 };
        int ex = EXIT_OK;
        if (!parse_args(argc, argv, &a, &ex))
                return ex;
        const char *name = argv[optind];
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        int r = a.all_tags ? image_ref_parse_name(name, &ref, &err)
                           : image_ref_parse(name, &ref, &err);
        if (r >= 0 && a.all_tags && (ref->tag || ref->digest))
                return cli_usage_error("pull", "tag can't be used with --all-tags/-a");
        _cleanup_registry_ctx_ struct registry_ctx *ctx = NULL;
        if (r >= 0)
                r = cli_registry_ctx(a.tls_verify, &ctx, &err);
        if (r < 0)
                return cli_fail(err);
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        signal(SIGPIPE, SIG_IGN);
        struct cli_progress *p = cli_progress_new(stdout, false, a.quiet);
        r = a.all_tags ? pull_all(c, ctx, ref, &a, p, &err) : pull_one(c, ctx, ref, &a, p, &err);
        cli_progress_free(p);
        if (r < 0) {
                st_error_wrap(&err, "pull '%s'", name);
                return cli_fail(err);
        }
        _cleanup_free_ char *full = a.all_tags ? image_ref_repository(ref) : image_ref_string(ref);
        printf("%s\n", full);
        return EXIT_OK;
}
