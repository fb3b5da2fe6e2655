/* Shared pieces of the command-line front end: the verb table, option helpers, exit codes,
 * error printing. Only cli/ prints errors; libraries return them. */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "store/store.h"

/* Exit codes, as Docker's CLI uses them. */
enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,   /* the operation failed (no such image, conflict, bad input) */
        EXIT_USAGE = 125 /* bad flags or arguments; strata itself could not run */
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

/* Parse a Go-style boolean flag value ("true", "false", "1", "0", "" = true). -EINVAL if bad. */
int cli_parse_bool(const char *s, bool *ret);

/* Ask "MSG [y/N] " on stderr and read an answer from stdin; true for y/yes. */
bool cli_confirm(const char *msg);

/* The verbs (cmd-*.c). */
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
int verb_image_prune(struct cli *c, int argc, char **argv);
int verb_system_df(struct cli *c, int argc, char **argv);
int verb_system_prune(struct cli *c, int argc, char **argv);
int verb_system_check(struct cli *c, int argc, char **argv);
int verb_version(struct cli *c, int argc, char **argv);
int verb_pull(struct cli *c, int argc, char **argv);
int verb_push(struct cli *c, int argc, char **argv);
int verb_login(struct cli *c, int argc, char **argv);
int verb_logout(struct cli *c, int argc, char **argv);
int verb_manifest(struct cli *c, int argc, char **argv);
