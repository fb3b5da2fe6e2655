/* strata dockerfile parse: a Dockerfile's parsed tree, as the s-expressions of Docker's parser
 * tests or as JSON; parse errors as "FILE:LINE:COL: message", warnings on stderr. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "dockerfile/dockerfile.h"
#include "json/json.h"

static int read_dockerfile(const char *path, char **ret_buf, size_t *ret_len, struct st_error **err)
{
        int r = streq(path, "-")
                        ? read_full_fd(STDIN_FILENO, DOCKERFILE_SIZE_MAX, ret_buf, ret_len)
                        : read_full_file_at(AT_FDCWD, path, DOCKERFILE_SIZE_MAX, ret_buf, ret_len);
        if (r == -EFBIG)
                return st_error_set(err, ST_E_TOO_BIG, "%s: Dockerfile is larger than %u bytes",
                                    path, DOCKERFILE_SIZE_MAX);
        if (r < 0)
                return st_error_set_errno(err, r, "read '%s'", path);
        return 0;
}

static void print_warnings(const struct dockerfile *df)
{
        for (size_t k = 0; k < df->n_warnings; k++)
                log_warning("%s:%u: %s", df->filename, df->warnings[k].line,
                            df->warnings[k].message);
}

static int print_tree(const struct dockerfile *df, bool as_json)
{
        _cleanup_free_ char *out = NULL;
        if (as_json) {
                json_t *j = dockerfile_to_json(df);
                out = json_dump_pretty(j);
                json_decref(j);
                puts(out);
        } else {
                out = dockerfile_dump(df);
                fputs(out, stdout);
        }
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int verb_dockerfile_parse(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool as_json = false;
        int o;
        (void)c;
        while ((o = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                if (o == 'j')
                        as_json = true;
                else if (o == 'h')
                        return cli_help_flags("dockerfile", "h", opts);
                else
                        return cli_usage_error("dockerfile", "invalid option");
        }
        if (argc - optind != 1)
                return cli_usage_error("dockerfile",
                                       "\"dockerfile parse\" requires exactly 1 argument");
        const char *path = argv[optind];
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_dockerfile_ struct dockerfile *df = NULL;
        size_t len = 0;
        if (read_dockerfile(path, &buf, &len, &err) < 0 ||
            dockerfile_parse(streq(path, "-") ? "<stdin>" : path, buf, len, &df, &err) < 0)
                return cli_fail(err);
        print_warnings(df);
        return print_tree(df, as_json);
}

int verb_dockerfile(struct cli *c, int argc, char **argv)
{
        if (argc >= 2 && streq(argv[1], "parse"))
                return verb_dockerfile_parse(c, argc - 1, argv + 1);
        if (argc >= 2 && !streq(argv[1], "--help") && !streq(argv[1], "-h"))
                return cli_usage_error("dockerfile",
                                       "unknown command \"%s\" for \"strata dockerfile\"", argv[1]);
        cli_help("dockerfile");
        puts("Commands:\n  parse      Print the parsed tree of a Dockerfile (--json for JSON)");
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
}
