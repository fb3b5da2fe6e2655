/* strata system df|prune|check, strata image|container prune, and the `image`, `container`
 * and `system` verb groups. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "basic/format.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "image/reference.h"
#include "runtime/container.h"

struct sub_verb {
        const char *name;
        cli_verb_fn fn;
};

static int dispatch(struct cli *c, const char *group, const struct sub_verb *subs, size_t n,
                    int argc, char **argv)
{
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                printf("\nUsage:  strata %s COMMAND\n\nCommands:\n", group);
                for (size_t i = 0; i < n; i++)
                        printf("  %s\n", subs[i].name);
                return argc < 2 ? EXIT_USAGE : EXIT_OK;
        }
        for (size_t i = 0; i < n; i++)
                if (streq(subs[i].name, argv[1]))
                        return subs[i].fn(c, argc - 1, argv + 1);
        return cli_usage_error(group, "unknown command \"%s\" for \"strata %s\"", argv[1], group);
}

int verb_image(struct cli *c, int argc, char **argv)
{
        static const struct sub_verb subs[] = {
                { "ls", verb_images },  { "list", verb_images },       { "rm", verb_rmi },
                { "remove", verb_rmi }, { "inspect", verb_inspect },   { "history", verb_history },
                { "tag", verb_tag },    { "import", verb_import },     { "save", verb_save },
                { "load", verb_load },  { "prune", verb_image_prune },
        };
        return dispatch(c, "image", subs, ELEMENTSOF(subs), argc, argv);
}

int verb_container(struct cli *c, int argc, char **argv)
{
        static const struct sub_verb subs[] = {
                { "ls", verb_ps },
                { "list", verb_ps },
                { "ps", verb_ps },
                { "run", verb_run },
                { "create", verb_create },
                { "start", verb_start },
                { "stop", verb_stop },
                { "kill", verb_kill },
                { "restart", verb_restart },
                { "wait", verb_wait },
                { "rm", verb_rm },
                { "remove", verb_rm },
                { "logs", verb_logs },
                { "inspect", verb_inspect },
                { "exec", verb_exec },
                { "diff", verb_diff },
                { "commit", verb_commit },
                { "export", verb_export },
                { "cp", verb_cp },
                { "rename", verb_rename },
                { "prune", verb_container_prune },
        };
        return dispatch(c, "container", subs, ELEMENTSOF(subs), argc, argv);
}

int verb_system(struct cli *c, int argc, char **argv)
{
        static const struct sub_verb subs[] = {
                { "df", verb_system_df },
                { "prune", verb_system_prune },
                { "check", verb_system_check },
        };
        return dispatch(c, "system", subs, ELEMENTSOF(subs), argc, argv);
}

int verb_system_df(struct cli *c, int argc, char **argv)
{
        (void)argv;
        if (argc > 1)
                return cli_usage_error("system", "\"system df\" accepts no arguments");
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        struct store_df df;
        _cleanup_error_ struct st_error *err = NULL;
        if (store_df(c->store, &df, &err) < 0)
                return cli_fail(err);
        _cleanup_free_ char *size = format_bytes_docker(df.layers_size);
        _cleanup_free_ char *recl = format_bytes_docker(df.reclaimable);
        unsigned pct = df.layers_size ? (unsigned)(df.reclaimable * 100 / df.layers_size) : 0;
        _cleanup_free_ char *recl_pct = xasprintf("%s (%u%%)", recl, pct);
        _cleanup_free_ char *total = xasprintf("%llu", (unsigned long long)df.images);
        _cleanup_free_ char *active = xasprintf("%llu", (unsigned long long)df.images_active);
        _cleanup_table_ struct table *t = table_new();
        table_add_row(t, (const char *[]){ "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE" }, 5);
        table_add_row(t, (const char *[]){ "Images", total, active, size, recl_pct }, 5);
        _cleanup_free_ char *ct = xasprintf("%llu", (unsigned long long)df.containers);
        _cleanup_free_ char *ca = xasprintf("%llu", (unsigned long long)df.containers_running);
        _cleanup_free_ char *cs = format_bytes_docker(df.containers_size);
        _cleanup_free_ char *cr = format_bytes_docker(df.containers_reclaimable);
        /* docker: the percentage only when there is a size */
        _cleanup_free_ char *cr_pct = df.containers_size
                                              ? xasprintf("%s (%u%%)", cr,
                                                          (unsigned)(df.containers_reclaimable *
                                                                     100 / df.containers_size))
                                              : xstrdup(cr);
        table_add_row(t, (const char *[]){ "Containers", ct, ca, cs, cr_pct }, 5);
        table_add_row(t, (const char *[]){ "Local Volumes", "0", "0", "0B", "0B" }, 5);
        /* docker: build cache entries are never "active"; all of it can be pruned */
        _cleanup_free_ char *bt = xasprintf("%llu", (unsigned long long)df.cache_entries);
        _cleanup_free_ char *bs = format_bytes_docker(df.cache_size);
        table_add_row(t, (const char *[]){ "Build Cache", bt, "0", bs, bs }, 5);
        _cleanup_free_ char *out = table_render(t);
        fputs(out, stdout);
        return EXIT_OK;
}

/* Remove every container that is not running (Docker's "stopped": created or exited), printing
 * each ID under a header. */
static int prune_containers(struct cli *c, struct st_error **err)
{
        struct store_container **l = NULL;
        size_t n = 0;
        int r = store_container_list(c->store, &l, &n, err);
        if (r < 0)
                return r;
        struct runtime_host h;
        cli_runtime_host(c, &h);
        bool header = false;
        for (size_t i = 0; i < n; i++) {
                _cleanup_error_ struct st_error *e = NULL;
                if (runtime_container_refresh(&h, l[i], NULL) < 0 ||
                    l[i]->state == STORE_CONTAINER_RUNNING)
                        continue;
                if (runtime_container_remove(&h, l[i], false, &e) < 0)
                        continue; /* started (or removed) meanwhile */
                if (!header)
                        printf("Deleted Containers:\n");
                header = true;
                printf("%s\n", l[i]->id);
        }
        if (header)
                printf("\n");
        store_container_list_free(l, n);
        return 0;
}

/* Delete images without tags (or, with ALL, every image), then collect their layers. */
static int prune_images(struct cli *c, bool all, struct st_error **err)
{
        struct store_image **l = NULL;
        size_t n = 0;
        int r = store_lock(c->store, true, err);
        if (r >= 0)
                r = store_image_list(c->store, &l, &n, err);
        if (r < 0)
                return r;
        bool header = false;
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_strv_ char **users = NULL;
                if (!all && l[i]->tags)
                        continue;
                r = store_image_containers(c->store, l[i]->id, &users, NULL, err);
                if (r < 0)
                        break;
                if (users)
                        continue; /* images used by containers are never pruned */
                if (!header)
                        printf("Deleted Images:\n");
                header = true;
                STRV_FOREACH(t, l[i]->tags) {
                        _cleanup_free_ char *f = image_ref_familiarize(*t);
                        printf("untagged: %s\n", f);
                }
                r = store_image_delete(c->store, l[i]->id, err);
                if (r >= 0)
                        printf("deleted: %s\n", l[i]->id);
        }
        store_image_list_free(l, n);
        if (r < 0)
                return r;
        struct store_gc_stats gc;
        r = store_gc(c->store, &gc, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *freed = format_bytes_docker(gc.bytes_freed);
        printf("%sTotal reclaimed space: %s\n", header ? "\n" : "", freed);
        return 0;
}

enum prune_what { PRUNE_IMAGES = 1, PRUNE_CONTAINERS = 2, PRUNE_BUILD_CACHE = 4 };

static void prune_warning(const char *verb, enum prune_what what, bool all)
{
        if (streq(verb, "container")) {
                fprintf(stderr, "WARNING! This will remove all stopped containers.\n");
                return;
        }
        if (streq(verb, "image")) {
                fprintf(stderr, "WARNING! This will remove %s.\n",
                        all ? "all images without at least one container associated to them"
                            : "all dangling images");
                return;
        }
        fprintf(stderr, "WARNING! This will remove:\n");
        if (what & PRUNE_CONTAINERS)
                fprintf(stderr, "  - all stopped containers\n");
        fprintf(stderr, "  - %s\n",
                all ? "all images without at least one container associated to them"
                    : "all dangling images");
        if (all)
                fprintf(stderr, "  - all build cache\n");
        fprintf(stderr, "  - unreferenced store files\n\n");
}

static int prune_verb(struct cli *c, const char *verb, enum prune_what what, int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool all = false, force = false;
        int o;
        while ((o = getopt_long(argc, argv, "afh", opts, NULL)) >= 0) {
                if (o == 'a')
                        all = true;
                else if (o == 'f')
                        force = true;
                else if (o == 'h')
                        return cli_help_flags(verb, "afh", opts);
                else
                        return cli_usage_error(verb, "invalid option");
        }
        if (optind < argc)
                return cli_usage_error(verb, "\"%s prune\" accepts no arguments", verb);
        if (!force) {
                prune_warning(verb, what, all);
                if (!cli_confirm("Are you sure you want to continue?"))
                        return EXIT_OK;
        }
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        _cleanup_error_ struct st_error *err = NULL;
        if ((what & PRUNE_CONTAINERS) && prune_containers(c, &err) < 0)
                return cli_fail(err);
        uint64_t n = 0;
        if ((what & PRUNE_BUILD_CACHE) && all) {
                if (store_build_cache_prune(c->store, &n, &err) < 0)
                        return cli_fail(err);
                if (n > 0)
                        printf("Deleted build cache objects: %llu\n\n", (unsigned long long)n);
        }
        if (what & PRUNE_IMAGES) {
                if (prune_images(c, all, &err) < 0)
                        return cli_fail(err);
                return EXIT_OK;
        }
        struct store_gc_stats gc;
        if (store_gc(c->store, &gc, &err) < 0)
                return cli_fail(err);
        _cleanup_free_ char *freed = format_bytes_docker(gc.bytes_freed);
        printf("Total reclaimed space: %s\n", freed);
        return EXIT_OK;
}

int verb_image_prune(struct cli *c, int argc, char **argv)
{
        return prune_verb(c, "image", PRUNE_IMAGES, argc, argv);
}

int verb_container_prune(struct cli *c, int argc, char **argv)
{
        return prune_verb(c, "container", PRUNE_CONTAINERS, argc, argv);
}

int verb_system_prune(struct cli *c, int argc, char **argv)
{
        return prune_verb(c, "system", PRUNE_CONTAINERS | PRUNE_IMAGES | PRUNE_BUILD_CACHE, argc,
                          argv);
}

int verb_system_check(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "repair", no_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool repair = false;
        int o;
        while ((o = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                if (o == 'r')
                        repair = true;
                else if (o == 'h')
                        return cli_help_flags("system", "h", opts);
                else
                        return cli_usage_error("system", "invalid option");
        }
        if (cli_store(c) < 0)
                return EXIT_FAIL;
        struct store_check_report rep;
        _cleanup_error_ struct st_error *err = NULL;
        if (store_check(c->store, repair, &rep, &err) < 0)
                return cli_fail(err);
        STRV_FOREACH(p, rep.problems)
                printf("problem: %s\n", *p);
        STRV_FOREACH(p, rep.repaired)
                printf("repaired: %s\n", *p);
        printf("checked %llu blobs, %llu layers, %llu images: %s\n",
               (unsigned long long)rep.blobs_checked, (unsigned long long)rep.layers_checked,
               (unsigned long long)rep.images_checked,
               !rep.problems ? "the store is clean"
               : repair      ? "problems repaired"
                             : "problems found (run 'strata system check --repair')");
        int ret = rep.problems && !repair ? EXIT_FAIL : EXIT_OK;
        store_check_report_release(&rep);
        return ret;
}
