/* strata save and strata load. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "basic/util.h"
#include "cli/cli.h"
#include "image/reference.h"

/* Write to FILE through a staging name, renamed into place only when complete. */
static int save_to_file(struct cli *c, char **names, const char *file, struct st_error **err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.strata-tmp", file);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return st_error_set_errno(err, -errno, "create '%s'", tmp);
        struct st_writer *w = st_fd_writer_new_writeback(fd);
        int r = store_save(c->store, names, w, err);
        st_writer_free(w);
        if (r >= 0 && fsync(fd) < 0)
                r = st_error_set_errno(err, -errno, "write '%s'", file);
        if (r >= 0 && rename(tmp, file) < 0)
                r = st_error_set_errno(err, -errno, "rename to '%s'", file);
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

int verb_save(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *output = NULL;
        int o;
        while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) >= 0) {
                if (o == 'o')
                        output = optarg;
                else if (o == 'h')
                        return cli_help_flags("save", "o:h", opts);
                else
                        return cli_usage_error("save", "invalid option");
        }
        if (optind >= argc)
                return cli_usage_error("save", "\"save\" requires at least 1 argument");
        if (!output && isatty(STDOUT_FILENO))
                return cli_usage_error("save", "cowardly refusing to save to a terminal. Use the"
                                               " -o flag or redirect");
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        _cleanup_strv_ char **names = strv_copy(argv + optind);
        _cleanup_error_ struct st_error *err = NULL;
        int r;
        if (output) {
                r = save_to_file(c, names, output, &err);
        } else {
                struct st_writer *w = st_fd_writer_new(STDOUT_FILENO);
                r = store_save(c->store, names, w, &err);
                st_writer_free(w);
        }
        return r < 0 ? cli_fail(err) : EXIT_OK;
}

int verb_load(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "input", required_argument, NULL, 'i' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *input = NULL;
        bool quiet = false;
        int o;
        while ((o = getopt_long(argc, argv, "i:qh", opts, NULL)) >= 0) {
                if (o == 'i')
                        input = optarg;
                else if (o == 'q')
                        quiet = true;
                else if (o == 'h')
                        return cli_help_flags("load", "i:qh", opts);
                else
                        return cli_usage_error("load", "invalid option");
        }
        if (optind < argc)
                return cli_usage_error("load", "\"load\" accepts no arguments");
        if (!input && isatty(STDIN_FILENO))
                return cli_usage_error("load", "requested load from stdin, but stdin is empty");
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_close_ int fd =
                input ? open(input, O_RDONLY | O_CLOEXEC | O_NOCTTY) : dup(STDIN_FILENO);
        if (fd < 0) {
                st_error_set_errno(&err, -errno, "open '%s'", input ? input : "-");
                return cli_fail(err);
        }
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        struct st_reader *in = st_fd_reader_new(fd);
        struct store_loaded *l = NULL;
        size_t n = 0;
        int r = store_load(c->store, in, &l, &n, &err);
        st_reader_free(in);
        if (r < 0)
                return cli_fail(err);
        for (size_t i = 0; i < n && !quiet; i++) {
                if (!l[i].tags)
                        printf("Loaded image ID: %s\n", l[i].id);
                STRV_FOREACH(t, l[i].tags) {
                        _cleanup_free_ char *f = image_ref_familiarize(*t);
                        printf("Loaded image: %s\n", f);
                }
        }
        store_loaded_free(l, n);
        return EXIT_OK;
}
