/* strata manifest inspect: a remote manifest or index, as the registry serves it. */
#include <getopt.h>
#include <stdio.h>

#include "basic/util.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "image/manifest.h"
#include "json/json.h"

enum { OPT_TLS_VERIFY = 0x100 };

static int manifest_inspect(int argc, char **argv)
{
        static const struct option opts[] = {
                { "tls-verify", optional_argument, NULL, OPT_TLS_VERIFY },
                { "insecure", no_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int o, tls = -1;
        while ((o = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                if (o == OPT_TLS_VERIFY && cli_parse_tls_verify("manifest", optarg, &tls) < 0)
                        return EXIT_USAGE;
                if (o == 'k')
                        tls = 0;
                if (o == 'h')
                        return cli_help_flags("manifest", "h", opts);
                if (o == '?')
                        return cli_usage_error("manifest", "invalid option");
        }
        if (argc - optind != 1)
                return cli_usage_error("manifest", "\"manifest inspect\" requires exactly 1"
                                                   " argument");
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        _cleanup_registry_ctx_ struct registry_ctx *ctx = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_json_ json_t *j = NULL;
        size_t len = 0;
        int r = image_ref_parse(argv[optind], &ref, &err);
        if (r >= 0)
                r = cli_registry_ctx(tls, &ctx, &err);
        if (r >= 0)
                r = registry_manifest_fetch(ctx, ref, &buf, &len, NULL, &err);
        if (r >= 0)
                r = json_parse(buf, len, IMAGE_MANIFEST_MAX, "manifest", &j, &err);
        if (r < 0) {
                st_error_wrap(&err, "manifest inspect '%s'", argv[optind]);
                return cli_fail(err);
        }
        _cleanup_free_ char *out = json_dump_pretty(j);
        puts(out);
        return EXIT_OK;
}

int verb_manifest(struct cli *c, int argc, char **argv)
{
        (void)c;
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h"))
                return argc < 2 ? cli_usage_error("manifest", "\"manifest\" requires a command")
                                : cli_help("manifest");
        if (!streq(argv[1], "inspect"))
                return cli_usage_error("manifest", "unknown command \"%s\"", argv[1]);
        return manifest_inspect(argc - 1, argv + 1);
}
