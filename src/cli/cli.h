/* Shared pieces of the command-line front end: the verb table, option helpers, exit codes,
 * error printing. Only cli/ prints errors; libraries return them. */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "basic/error.h"
#include "store/store.h"

/* Exit codes, as Docker's CLI uses them. */
enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,            /* the operation failed (no such image, conflict, bad input) */
        EXIT_USAGE = 125,         /* bad flags or arguments; strata itself could not run */
        EXIT_CANNOT_INVOKE = 126, /* the container's command cannot be invoked */
        EXIT_NOT_FOUND = 127,     /* the container's command was not found */
};

struct cli {
        const char *root; /* --root / STRATA_ROOT / default */
        struct store *store;
};

typedef int (*cli_verb_fn)(struct cli *c, int argc, char **argv);

struct cli_verb {
        const char *name;
        cli_verb_fn fn;
        const char *usage;   /* "strata images [OPTIONS] [REPOSITORY[:TAG]]" */
        const char *summary; /* one line */
        bool hidden;         /* internal: not listed in the help */
};

/* Open c->store if not open yet; prints the error and returns < 0 on failure. */
int cli_store(struct cli *c);

/* Print "strata: MSG" for ERR (or a generic message) and return EXIT_FAIL, or EXIT_USAGE for
 * ST_E_USAGE. */
int cli_fail(struct st_error *err);

/* Print "strata: <formatted>" and "See 'strata VERB --help'." and return EXIT_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) _printf_(2, 3);

/* Print the usage text of VERB to stdout (for --help); returns EXIT_OK. */
int cli_help(const char *verb);

/* cli_help, then the Options table of VERB's flags OPTS (SHORTS: getopt's short options), each
 * with its value type and what it does (src/cli/flag-help.c): what `strata VERB --help` prints
 * on stdout; EXIT_OK. */
int cli_help_flags(const char *verb, const char *shorts, const struct option *opts);

/* Called for each option OPT (with ARG) by cli_parse_flags; < 0 rejects it. */
typedef int (*cli_flag_fn)(int opt, const char *arg, void *userdata);

/* Parse the options of VERB (OPTS/SHORTS; 'H' must be --help), calling F for each, and check
 * that MIN_ARGS arguments follow. Returns optind, or -1 when the verb is done (help printed,
 * usage error) with its exit code in *ret_exit. */
int cli_parse_flags(const char *verb, int argc, char **argv, const char *shorts,
                    const struct option *opts, cli_flag_fn f, void *userdata, int min_args,
                    int *ret_exit);

/* Parse a Go-style boolean flag value ("true", "false", "1", "0", "" = true). -EINVAL if bad. */
int cli_parse_bool(const char *s, bool *ret);

/* Ask "MSG [y/N] " on stderr and read an answer from stdin; true for y/yes. */
bool cli_confirm(const char *msg);

/* The verbs (cmd-*.c). */
int verb_build(struct cli *c, int argc, char **argv);
int verb_builder(struct cli *c, int argc, char **argv);
int verb_import(struct cli *c, int argc, char **argv);
int verb_images(struct cli *c, int argc, char **argv);
int verb_tag(struct cli *c, int argc, char **argv);
int verb_rmi(struct cli *c, int argc, char **argv);
int verb_inspect(struct cli *c, int argc, char **argv);
int verb_history(struct cli *c, int argc, char **argv);
int verb_save(struct cli *c, int argc, char **argv);
int verb_load(struct cli *c, int argc, char **argv);
int verb_image(struct cli *c, int argc, char **argv);
int verb_system(struct cli *c, int argc, char **argv);
int verb_dockerfile(struct cli *c, int argc, char **argv);
int verb_image_prune(struct cli *c, int argc, char **argv);
int verb_system_df(struct cli *c, int argc, char **argv);
int verb_system_prune(struct cli *c, int argc, char **argv);
int verb_container_prune(struct cli *c, int argc, char **argv);
int verb_system_check(struct cli *c, int argc, char **argv);
int verb_version(struct cli *c, int argc, char **argv);
int verb_pull(struct cli *c, int argc, char **argv);
int verb_push(struct cli *c, int argc, char **argv);
int verb_login(struct cli *c, int argc, char **argv);
int verb_logout(struct cli *c, int argc, char **argv);
int verb_manifest(struct cli *c, int argc, char **argv);
int verb_run(struct cli *c, int argc, char **argv);
int verb_create(struct cli *c, int argc, char **argv);
int verb_start(struct cli *c, int argc, char **argv);
int verb_stop(struct cli *c, int argc, char **argv);
int verb_kill(struct cli *c, int argc, char **argv);
int verb_restart(struct cli *c, int argc, char **argv);
int verb_wait(struct cli *c, int argc, char **argv);
int verb_rm(struct cli *c, int argc, char **argv);
int verb_ps(struct cli *c, int argc, char **argv);
int verb_logs(struct cli *c, int argc, char **argv);
int verb_container(struct cli *c, int argc, char **argv);
int verb_container_monitor(struct cli *c, int argc, char **argv);
int verb_exec(struct cli *c, int argc, char **argv);
int verb_diff(struct cli *c, int argc, char **argv);
int verb_commit(struct cli *c, int argc, char **argv);
int verb_export(struct cli *c, int argc, char **argv);
int verb_rename(struct cli *c, int argc, char **argv);
int verb_cp(struct cli *c, int argc, char **argv);

/* ----- containers (cmd-run.c) ----- */
struct runtime_host;
struct store_container;

/* The runtime host of C (its store, this process's PATH, warnings printed). */
void cli_runtime_host(struct cli *c, struct runtime_host *ret);

/* Print ERR and return the exit code of a failed run/start: 127, 126, else 125. */
int cli_run_exit_code(struct st_error *err);

/* Start CT detached under a monitor (strata re-executed with its hidden verb). */
int cli_start_detached(struct cli *c, struct store_container *ct, struct st_error **err);

/* Start CT attached to this terminal (stdin only with INTERACTIVE) and wait for it; returns
 * the exit code for strata (the container's status, or 125/126/127). */
int cli_run_attached(struct cli *c, struct store_container *ct, bool interactive);

/* The "warning" callback of a runtime host: prints "strata: warning: MSG". */
void cli_runtime_warn(const char *msg, void *userdata);
