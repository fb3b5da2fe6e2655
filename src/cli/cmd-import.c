/* strata import: a rootfs tarball becomes a one-layer image. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "basic/util.h"
#include "cli/cli.h"
#include "image/reference.h"

int verb_import(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "change", required_argument, NULL, 'c' },
                { "message", required_argument, NULL, 'm' },
                { "platform", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_strv_ char **changes = NULL;
        const char *message = NULL;
        int o;
        while ((o = getopt_long(argc, argv, "c:m:h", opts, NULL)) >= 0) {
                switch (o) {
                case 'c':
                        strv_push(&changes, optarg);
                        break;
                case 'm':
                        message = optarg;
                        break;
                case 'p':
                        if (!streq(optarg, "linux/amd64") && !streq(optarg, "linux"))
                                return cli_usage_error("import", "unsupported platform '%s'",
                                                       optarg);
                        break;
                case 'h':
                        return cli_help_flags("import", "c:m:h", opts);
                default:
                        return cli_usage_error("import", "invalid option");
                }
        }
        int n = argc - optind;
        if (n < 1 || n > 2)
                return cli_usage_error("import", "\"import\" requires 1 or 2 arguments");
        const char *file = argv[optind];
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_strv_ char **tags = NULL;
        if (n == 2) {
                _cleanup_image_ref_ struct image_ref *ref = NULL;
                if (image_ref_parse(argv[optind + 1], &ref, &err) < 0)
                        return cli_fail(err);
                if (ref->digest) {
                        st_error_set(&err, ST_E_PARSE, "refusing to create a tag with a digest");
                        return cli_fail(err);
                }
                strv_consume(&tags, image_ref_string(ref));
        }
        _cleanup_close_ int fd =
                streq(file, "-") ? dup(STDIN_FILENO) : open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                st_error_set_errno(&err, -errno, "open '%s'", file);
                return cli_fail(err);
        }
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        struct st_reader *in = st_fd_reader_new(fd);
        struct store_import_opts io = {
                .changes = changes, .message = message, .source = "-", .tags = tags
        };
        char id[DIGEST_STR_LEN + 1];
        int r = store_import(c->store, in, &io, id, &err);
        st_reader_free(in);
        if (r < 0) {
                st_error_wrap(&err, "import '%s'", file);
                return cli_fail(err);
        }
        printf("%s\n", id);
        return EXIT_OK;
}
