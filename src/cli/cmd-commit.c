/* strata diff, commit, export and rename: a container's filesystem and name. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "image/reference.h"
#include "json/json.h"
#include "runtime/container.h"

static int no_flags(int opt, const char *arg, void *u)
{
        (void)opt, (void)arg, (void)u;
        return -1;
}

/* Open the store and look up container NAME; prints the error and returns < 0 on failure. */
static int lookup(struct cli *c, const char *name, struct store_container **ret)
{
        _cleanup_error_ struct st_error *err = NULL;
        if (cli_store(c) < 0)
                return -1;
        if (store_container_lookup(c->store, name, ret, &err) < 0) {
                (void)cli_fail(err);
                return -1;
        }
        return 0;
}

static const struct option help_only[] = { { "help", no_argument, NULL, 'H' }, {} };

int verb_diff(struct cli *c, int argc, char **argv)
{
        int ret = EXIT_OK;
        int i = cli_parse_flags("diff", argc, argv, "", help_only, no_flags, NULL, 1, &ret);
        if (i < 0)
                return ret;
        if (argc - i != 1)
                return cli_usage_error("diff", "\"diff\" requires exactly 1 argument");
        _cleanup_store_container_ struct store_container *ct = NULL;
        if (lookup(c, argv[i], &ct) < 0)
                return EXIT_FAIL;
        struct runtime_host h;
        cli_runtime_host(c, &h);
        _cleanup_strv_ char **changes = NULL;
        _cleanup_error_ struct st_error *err = NULL;
        if (runtime_container_diff(&h, ct, &changes, &err) < 0)
                return cli_fail(err);
        STRV_FOREACH(l, changes)
                puts(*l);
        return EXIT_OK;
}

/* ----- commit ----- */

struct commit_args {
        char **changes;
        const char *message, *author;
};

static int commit_flag(int opt, const char *arg, void *u)
{
        struct commit_args *a = u;
        if (opt == 'c')
                strv_push(&a->changes, arg);
        else if (opt == 'm')
                a->message = arg;
        else if (opt == 'a')
                a->author = arg;
        else if (opt != 'p') /* --pause: the upper dir is read as it is */
                return -1;
        return 0;
}

/* The fully qualified tag for NAME into *tags; prints the error and returns < 0 if bad. */
static int commit_tag(const char *name, char ***tags)
{
        _cleanup_error_ struct st_error *err = NULL;
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        if (image_ref_parse(name, &ref, &err) >= 0 && ref->digest)
                st_error_set(&err, ST_E_PARSE, "refusing to create a tag with a digest reference");
        if (err) {
                (void)cli_fail(err);
                return -1;
        }
        strv_consume(tags, image_ref_string(ref));
        return 0;
}

/* "Path Args…" of the container, as Docker's history shows the command of a commit. */
static char *container_command(const struct store_container *ct)
{
        _cleanup_json_ json_t *cfg = runtime_container_config(ct);
        const char *path = json_get_str(cfg, "Path");
        char *cmd = xstrdup(path ? path : "");
        json_t *v;
        JSON_ARRAY_FOREACH(k, v, json_object_get(cfg, "Args")) {
                char *n = xasprintf("%s%s%s", cmd, *cmd ? " " : "", json_string_value(v) ?: "");
                free(cmd);
                cmd = n;
        }
        return cmd;
}

int verb_commit(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "change", required_argument, NULL, 'c' },
                { "message", required_argument, NULL, 'm' },
                { "author", required_argument, NULL, 'a' },
                { "pause", optional_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        struct commit_args a = { 0 };
        int ret = EXIT_OK;
        int i = cli_parse_flags("commit", argc, argv, "c:m:a:p", opts, commit_flag, &a, 1, &ret);
        _cleanup_strv_ char **changes = a.changes, **tags = NULL;
        if (i < 0)
                return ret;
        if (argc - i > 2)
                return cli_usage_error("commit", "\"commit\" requires at most 2 arguments");
        if (argc - i == 2 && commit_tag(argv[i + 1], &tags) < 0)
                return EXIT_FAIL;
        _cleanup_store_container_ struct store_container *ct = NULL;
        if (lookup(c, argv[i], &ct) < 0)
                return EXIT_FAIL;
        _cleanup_json_ json_t *cfg = runtime_container_config(ct);
        _cleanup_free_ char *run_config =
                cfg ? json_dumps(json_object_get(cfg, "Config"), 0) : NULL;
        _cleanup_free_ char *dir = store_container_dir(c->store, ct->id);
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        _cleanup_free_ char *created_by = container_command(ct);
        struct store_commit_opts o = {
                .dir = upper,
                .image_id = ct->image_id,
                .config = run_config,
                .changes = changes,
                .comment = a.message,
                .author = a.author,
                .created_by = created_by,
                .tags = tags,
        };
        char id[DIGEST_STR_LEN + 1];
        _cleanup_error_ struct st_error *err = NULL;
        if (store_commit(c->store, &o, id, &err) < 0) {
                st_error_wrap(&err, "commit %.12s", ct->id);
                return cli_fail(err);
        }
        puts(id);
        return EXIT_OK;
}

/* ----- export ----- */

static int output_flag(int opt, const char *arg, void *u)
{
        if (opt != 'o')
                return -1;
        *(const char **)u = arg;
        return 0;
}

static int export_to(const char *rootfs, const char *output, struct st_error **err)
{
        _cleanup_close_ int root = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return st_error_set_errno(err, -errno, "open '%s'", rootfs);
        _cleanup_free_ char *tmp = output ? xasprintf("%s.strata-tmp", output) : NULL;
        _cleanup_close_ int fd = output ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                                        : dup(STDOUT_FILENO);
        if (fd < 0)
                return st_error_set_errno(err, -errno, "create '%s'", output ? tmp : "stdout");
        _cleanup_writer_ struct st_writer *w = st_fd_writer_new(fd);
        int r = archive_layer_write(root, w, NULL, err);
        if (r >= 0 && (r = st_writer_close(w)) < 0)
                r = st_error_set_errno(err, r, "write '%s'", output ? output : "stdout");
        if (r >= 0 && output && rename(tmp, output) < 0)
                r = st_error_set_errno(err, -errno, "rename to '%s'", output);
        if (r < 0 && output)
                (void)unlink(tmp);
        return r;
}

int verb_export(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        const char *output = NULL;
        int ret = EXIT_OK;
        int i = cli_parse_flags("export", argc, argv, "o:", opts, output_flag, &output, 1, &ret);
        if (i < 0)
                return ret;
        if (argc - i != 1)
                return cli_usage_error("export", "\"export\" requires exactly 1 argument");
        if (!output && isatty(STDOUT_FILENO))
                return cli_usage_error("export", "cowardly refusing to save to a terminal. Use"
                                                 " the -o flag or redirect");
        _cleanup_store_container_ struct store_container *ct = NULL;
        if (lookup(c, argv[i], &ct) < 0)
                return EXIT_FAIL;
        struct runtime_host h;
        cli_runtime_host(c, &h);
        struct runtime_rootfs fs;
        _cleanup_error_ struct st_error *err = NULL;
        if (runtime_container_rootfs(&h, ct, &fs, &err) < 0)
                return cli_fail(err);
        int r = export_to(fs.path, output, &err);
        runtime_container_rootfs_release(&fs);
        return r < 0 ? cli_fail(err) : EXIT_OK;
}

/* ----- rename ----- */

int verb_rename(struct cli *c, int argc, char **argv)
{
        int ret = EXIT_OK;
        int i = cli_parse_flags("rename", argc, argv, "", help_only, no_flags, NULL, 2, &ret);
        if (i < 0)
                return ret;
        if (argc - i != 2)
                return cli_usage_error("rename", "\"rename\" requires exactly 2 arguments");
        _cleanup_store_container_ struct store_container *ct = NULL;
        if (lookup(c, argv[i], &ct) < 0)
                return EXIT_FAIL;
        _cleanup_error_ struct st_error *err = NULL;
        if (store_container_rename(c->store, ct->id, argv[i + 1], &err) < 0)
                return cli_fail(err);
        return EXIT_OK;
}
