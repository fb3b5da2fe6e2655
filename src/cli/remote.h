/* What the registry verbs (pull, push, login, logout, manifest) share: the registry context
 * from the environment and flags, and Docker-style progress output. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"
#include "registry/registry.h"

/* A registry context: STRATA_CONFIG_DIR (default /etc/strata), credentials from
 * REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json or ~/.docker/config.json, traces on stderr
 * when STRATA_TRACE names "registry". TLS_VERIFY: -1, 0 or 1 (see registry_ctx_opts). */
int cli_registry_ctx(int tls_verify, struct registry_ctx **ret, struct st_error **err);

/* Parse --tls-verify[=BOOL] into *ret (1 or 0); prints a usage error and returns < 0 if bad. */
int cli_parse_tls_verify(const char *verb, const char *arg, int *ret);

/* Parse a positive count for a --max-concurrent-* flag; usage error and < 0 if bad. */
int cli_parse_parallel(const char *verb, const char *arg, unsigned *ret);

struct cli_progress;

/* A progress printer for F: Docker's moving bars on a terminal, plain lines otherwise; QUIET
 * prints nothing. PUSH picks push's wording. Caller frees with cli_progress_free. */
struct cli_progress *cli_progress_new(FILE *f, bool push, bool quiet);

/* Free P; NULL-safe. */
void cli_progress_free(struct cli_progress *p);

/* A registry_progress_fn; USERDATA is a struct cli_progress. */
void cli_progress_event(const struct registry_event *ev, void *userdata);

/* Make sure the image NAME is in C's store as the pull POLICY wants it: "missing" (default,
 * NULL) pulls only when NAME is a reference the store lacks, "always" pulls every time, "never"
 * never does. Progress goes to stderr, after Docker's "Unable to find image … locally". A name
 * that is not a reference (an ID) is left for the caller's lookup to report. C's store must be
 * open. */
int cli_image_ensure(struct cli *c, const char *name, const char *policy, struct st_error **err);

/* The `inspect` object of the registry image NAME (for PLATFORM, NULL: linux/amd64) from its
 * manifest and config, no layer fetched: Id is the config's digest, RepoDigests what NAME
 * resolved to, Size the sum of the compressed layers, no GraphDriver. A new reference. */
int cli_inspect_remote(struct registry_ctx *ctx, const char *name, const char *platform,
                       json_t **ret, struct st_error **err);
