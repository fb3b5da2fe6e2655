/* strata: the command table and global options. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "runtime/spec.h"
#include "store/store.h"

static const struct cli_verb verbs[] = {
        { "build", verb_build, "strata build [OPTIONS] PATH|-",
          "Build an image from a Dockerfile" },
        { "builder", verb_builder,
          "strata builder prune [-a] [-f] [--keep-storage SIZE] [--filter until=DURATION]",
          "Remove the build cache" },
        { "images", verb_images, "strata images [OPTIONS] [REPOSITORY[:TAG]]", "List images" },
        { "import", verb_import, "strata import [OPTIONS] FILE|- [REPOSITORY[:TAG]]",
          "Import a rootfs tarball as a one-layer image" },
        { "tag", verb_tag, "strata tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
          "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
        { "rmi", verb_rmi, "strata rmi [OPTIONS] IMAGE [IMAGE...]", "Remove one or more images" },
        { "inspect", verb_inspect, "strata inspect [OPTIONS] IMAGE [IMAGE...]",
          "Show low-level information on images as JSON" },
        { "history", verb_history, "strata history [OPTIONS] IMAGE",
          "Show the history of an image" },
        { "save", verb_save, "strata save [OPTIONS] IMAGE [IMAGE...]",
          "Save images to a tar archive (OCI layout and docker-archive at once)" },
        { "load", verb_load, "strata load [OPTIONS]",
          "Load images from a tar archive (OCI layout or docker-archive) or STDIN" },
        { "image", verb_image, "strata image COMMAND",
          "Manage images (ls, rm, inspect, history, tag, import, save, load, prune)" },
        { "system", verb_system, "strata system COMMAND", "Manage the store (df, prune, check)" },
        { "dockerfile", verb_dockerfile, "strata dockerfile parse [--json] FILE|-",
          "Parse a Dockerfile and print its instructions" },
        { "run", verb_run, "strata run [OPTIONS] IMAGE [COMMAND] [ARG...]",
          "Create and run a new container from an image" },
        { "create", verb_create, "strata create [OPTIONS] IMAGE [COMMAND] [ARG...]",
          "Create a new container" },
        { "start", verb_start, "strata start [OPTIONS] CONTAINER [CONTAINER...]",
          "Start one or more stopped containers" },
        { "stop", verb_stop, "strata stop [OPTIONS] CONTAINER [CONTAINER...]",
          "Stop one or more running containers" },
        { "restart", verb_restart, "strata restart [OPTIONS] CONTAINER [CONTAINER...]",
          "Restart one or more containers" },
        { "kill", verb_kill, "strata kill [OPTIONS] CONTAINER [CONTAINER...]",
          "Kill one or more running containers" },
        { "wait", verb_wait, "strata wait CONTAINER [CONTAINER...]",
          "Block until one or more containers stop, then print their exit codes" },
        { "rm", verb_rm, "strata rm [OPTIONS] CONTAINER [CONTAINER...]",
          "Remove one or more containers" },
        { "ps", verb_ps, "strata ps [OPTIONS]", "List containers" },
        { "logs", verb_logs, "strata logs [OPTIONS] CONTAINER", "Fetch the logs of a container" },
        { "exec", verb_exec, "strata exec [OPTIONS] CONTAINER COMMAND [ARG...]",
          "Execute a command in a running container" },
        { "diff", verb_diff, "strata diff CONTAINER",
          "Inspect changes to files or directories on a container's filesystem" },
        { "commit", verb_commit, "strata commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
          "Create a new image from a container's changes" },
        { "export", verb_export, "strata export [OPTIONS] CONTAINER",
          "Export a container's filesystem as a tar archive" },
        { "cp", verb_cp,
          "strata cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
          "       strata cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
          "Copy files/folders between a container and the local filesystem" },
        { "rename", verb_rename, "strata rename CONTAINER NEW_NAME", "Rename a container" },
        { "container", verb_container, "strata container COMMAND",
          "Manage containers (ls, run, create, start, stop, kill, restart, wait, rm, logs,"
          " inspect, exec, diff, commit, export, cp, rename, prune)" },
        { "pull", verb_pull, "strata pull [OPTIONS] NAME[:TAG|@DIGEST]",
          "Download an image from a registry" },
        { "push", verb_push, "strata push [OPTIONS] NAME[:TAG]", "Upload an image to a registry" },
        { "login", verb_login, "strata login [OPTIONS] [SERVER]", "Log in to a registry" },
        { "logout", verb_logout, "strata logout [SERVER]", "Log out from a registry" },
        { "manifest", verb_manifest, "strata manifest inspect [OPTIONS] NAME[:TAG|@DIGEST]",
          "Show a manifest or index from a registry" },
        { "version", verb_version, "strata version", "Show the strata version" },
        { "container-monitor", verb_container_monitor, "strata container-monitor ID",
          "Wait for a detached container (internal)", true },
};

static const struct cli_verb *find_verb(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

int cli_help(const char *verb)
{
        const struct cli_verb *v = find_verb(verb);
        if (v)
                printf("\nUsage:  %s\n\n%s\n", v->usage, v->summary);
        return EXIT_OK;
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("strata: ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        const struct cli_verb *v = find_verb(verb);
        fprintf(stderr, "\nSee 'strata %s --help'.\n", verb);
        if (v)
                fprintf(stderr, "\nUsage:  %s\n", v->usage);
        return EXIT_USAGE;
}

int cli_fail(struct st_error *err)
{
        log_error("%s", err && err->msg ? err->msg : "unknown error");
        return st_error_code(err) == ST_E_USAGE ? EXIT_USAGE : EXIT_FAIL;
}

int cli_store(struct cli *c)
{
        if (c->store)
                return 0;
        _cleanup_error_ struct st_error *err = NULL;
        int r = store_open(c->root, &c->store, &err);
        if (r < 0) {
                log_error("%s", st_error_msg(err));
                return r;
        }
        return 0;
}

int cli_parse_flags(const char *verb, int argc, char **argv, const char *shorts,
                    const struct option *opts, cli_flag_fn f, void *u, int min_args, int *ret_exit)
{
        int o;
        while ((o = getopt_long(argc, argv, shorts, opts, NULL)) >= 0) {
                if (o == 'H') {
                        *ret_exit = cli_help_flags(verb, shorts, opts);
                        return -1;
                }
                if (o == '?' || f(o, optarg, u) < 0) {
                        *ret_exit = cli_usage_error(verb, "invalid option");
                        return -1;
                }
        }
        if (argc - optind < min_args) {
                *ret_exit = cli_usage_error(verb, "\"%s\" requires at least %d argument%s", verb,
                                            min_args, min_args == 1 ? "" : "s");
                return -1;
        }
        return optind;
}

int cli_parse_bool(const char *s, bool *ret)
{
        if (!s || streq(s, "") || streq(s, "true") || streq(s, "1") || streq(s, "t") ||
            streq(s, "TRUE") || streq(s, "True"))
                *ret = true;
        else if (streq(s, "false") || streq(s, "0") || streq(s, "f") || streq(s, "FALSE") ||
                 streq(s, "False"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

bool cli_confirm(const char *msg)
{
        fprintf(stderr, "%s [y/N] ", msg);
        char line[64];
        if (!fgets(line, sizeof(line), stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

int verb_version(struct cli *c, int argc, char **argv)
{
        (void)c;
        (void)argc;
        (void)argv;
        printf("strata %s\n", STRATA_VERSION);
        return EXIT_OK;
}

static void main_usage(FILE *f)
{
        fputs("\nUsage:  strata [OPTIONS] COMMAND\n\n"
              "A daemonless, Docker-compatible container image engine\n\n"
              "Options:\n"
              "      --root DIR   store root (default $STRATA_ROOT or " STRATA_DEFAULT_ROOT ")\n"
              "  -D, --debug      print debug messages\n"
              "  -v, --version    print version information and quit\n\n"
              "Commands:\n",
              f);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (!verbs[i].hidden)
                        fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
        fputs("\nRun 'strata COMMAND --help' for more information on a command.\n", f);
}

/* STRATA_MAX_LAYER_SIZE ("16m", "1g", bytes): the bomb guard on a layer's uncompressed tar. */
static int env_limits(void)
{
        const char *v = secure_getenv("STRATA_MAX_LAYER_SIZE");
        int64_t n = 0;
        if (!v || !*v)
                return 0;
        if (runtime_parse_bytes(v, &n) < 0 || n <= 0) {
                log_error("invalid STRATA_MAX_LAYER_SIZE '%s'", v);
                return -EINVAL;
        }
        store_set_max_layer_bytes((uint64_t)n);
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },
                { "debug", no_argument, NULL, 'D' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct cli c = { .root = secure_getenv("STRATA_ROOT") };
        log_setup();
        int o;
        while ((o = getopt_long(argc, argv, "+Dvh", opts, NULL)) >= 0) {
                switch (o) {
                case 'r':
                        c.root = optarg;
                        break;
                case 'D':
                        log_max_level = LOG_LEVEL_DEBUG;
                        break;
                case 'v':
                        return verb_version(&c, 0, NULL);
                case 'h':
                        main_usage(stdout);
                        return EXIT_OK;
                default:
                        main_usage(stderr);
                        return EXIT_USAGE;
                }
        }
        if (!c.root || !*c.root)
                c.root = STRATA_DEFAULT_ROOT;
        if (env_limits() < 0)
                return EXIT_USAGE;
        if (optind >= argc) {
                main_usage(stderr);
                return EXIT_USAGE;
        }
        const struct cli_verb *v = find_verb(argv[optind]);
        if (!v) {
                log_error("'%s' is not a strata command.\nSee 'strata --help'", argv[optind]);
                return EXIT_USAGE;
        }
        argv += optind;
        argc -= optind;
        optind = 0;
        int r = v->fn(&c, argc, argv);
        store_close(c.store);
        return r;
}
