/* Image references in Docker's grammar, normalized: "busybox" is
 * docker.io/library/busybox:latest; "localhost:5000/a/b:1.0"; "[::1]:5000/x"; "name@sha256:…";
 * "name:tag@sha256:…". */
#pragma once

#include <stdbool.h>

#include "basic/error.h"

struct image_ref {
        char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
        char *path;   /* "library/busybox", "a/b" */
        char *tag;    /* "latest" (default when neither tag nor digest given), or NULL */
        char *digest; /* "sha256:…" or NULL */
};

/* Parse and normalize S (as Docker's ParseNormalizedNamed; "index.docker.io" becomes
 * "docker.io"). A reference with no tag and no digest gets tag "latest". Errors are ST_E_PARSE
 * with Docker's messages ("invalid reference format", "invalid reference format: repository
 * name (library/Busybox) must be lowercase", "invalid checksum digest length", ...); a bad tag
 * gives "invalid reference format: invalid tag 'x'". Only sha256 digests are accepted.
 * Caller frees *ret with image_ref_free. */
int image_ref_parse(const char *s, struct image_ref **ret, struct st_error **err);

/* Like image_ref_parse but with no default tag: a bare name keeps tag == NULL. */
int image_ref_parse_name(const char *s, struct image_ref **ret, struct st_error **err);

/* Free REF; NULL-safe; returns NULL. */
struct image_ref *image_ref_free(struct image_ref *ref);

/* "docker.io/library/busybox:latest", "host/x@sha256:…", "host/x:tag@sha256:…"; caller frees. */
char *image_ref_string(const struct image_ref *ref);

/* The repository, fully qualified: "docker.io/library/busybox"; caller frees. */
char *image_ref_repository(const struct image_ref *ref);

/* The repository in Docker's familiar (short) form: "busybox", "user/x", "localhost:5000/x";
 * caller frees. */
char *image_ref_familiar_repository(const struct image_ref *ref);

/* The familiar form of a whole reference: "busybox:latest"; caller frees. */
char *image_ref_familiar_string(const struct image_ref *ref);

/* The familiar form of a fully qualified reference string S (e.g. a stored tag); caller frees.
 * Returns a copy of S if it does not parse. */
char *image_ref_familiarize(const char *s);

/* True if TAG is a valid tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool image_ref_tag_is_valid(const char *tag);

DEFINE_CLEANUP_FUNC(struct image_ref *, image_ref_free)
#define _cleanup_image_ref_ _cleanup_(image_ref_freep)
