/* The .dockerignore matcher, as `docker build` applies it: the file is read as moby's
 * ignorefile.ReadAll does, the patterns are moby/patternmatcher's, and paths are matched the way
 * BuildKit's context walker (tonistiigi/fsutil) matches them, each directory's result carried
 * down to what is below it. Pure: the builder reads the file and walks the context.
 *
 * Which file: for a Dockerfile at path NAME, the file NAME.dockerignore next to it is used if it
 * exists; otherwise .dockerignore at the root of the build context. Only one is read, never
 * both. docs/dockerfile-expansion.md has the matching rules. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"

/* The context's ignore file, relative to the context root, when NAME.dockerignore is absent. */
#define DOCKERFILE_IGNORE_DEFAULT_NAME ".dockerignore"
/* Largest ignore file accepted, in bytes (ST_E_TOO_BIG). */
#define DOCKERFILE_IGNORE_MAX_SIZE (4 * 1024 * 1024)

struct dockerfile_ignore;

/* Parse the ignore file text BUF of LEN bytes into *RET (free with dockerfile_ignore_free).
 * Errors, where Docker fails too: ST_E_PARSE for "!" alone and for a pattern filepath.Match
 * rejects ("line N: ..."), ST_E_TOO_BIG for a line of 64 KiB or more (and a file over the cap).
 * ST_E_UNSUPPORTED for a Go regexp feature strata does not implement (Unicode classes) and for
 * a NUL byte in a pattern (Docker takes it as a character; no path can contain one). */
int dockerfile_ignore_parse(const char *buf, size_t len, struct dockerfile_ignore **ret,
                            struct st_error **err);

/* Is RELPATH (relative to the context root, '/'-separated, cleaned: no "", ".", "..", leading
 * or trailing '/') excluded from the context? Last matching pattern wins; a directory's result
 * applies to everything below it unless a later '!' pattern matches there; anything below a
 * directory that dockerfile_ignore_can_skip_dir skips is excluded. *RET_EXCLUDED is the answer.
 * -EINVAL for a malformed RELPATH; ST_E_PARSE when a pattern consulted is not a valid Go regexp
 * (Docker fails the build then too). */
int dockerfile_ignore_match(const struct dockerfile_ignore *m, const char *relpath,
                            bool *ret_excluded, struct st_error **err);

/* True when the directory RELDIR is excluded and BuildKit would not descend into it, so nothing
 * below it can be included: no '!' pattern uses wildcards (outside a trailing slash-star or
 * slash-star-star) and none names a path below RELDIR. False on any error. */
bool dockerfile_ignore_can_skip_dir(const struct dockerfile_ignore *m, const char *reldir);

/* The patterns as read, '!' kept, in file order (a NULL-terminated array owned by M). Docker
 * keys its context cache on them. */
char *const *dockerfile_ignore_patterns(const struct dockerfile_ignore *m);

/* The NAME.dockerignore candidate for the Dockerfile at DOCKERFILE_PATH (caller frees): the
 * builder uses it when it exists, else DOCKERFILE_IGNORE_DEFAULT_NAME in the context. */
char *dockerfile_ignore_file_for(const char *dockerfile_path);

/* Free M; NULL-safe; returns NULL. */
struct dockerfile_ignore *dockerfile_ignore_free(struct dockerfile_ignore *m);

static inline void dockerfile_ignore_freep(struct dockerfile_ignore **m)
{
        dockerfile_ignore_free(*m);
}

#define _cleanup_dockerfile_ignore_ _cleanup_(dockerfile_ignore_freep)
