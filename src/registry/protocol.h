/* Pieces of the OCI distribution protocol that need no network: the registry's JSON error
 * bodies, platforms ("linux/arm64/v8") and choosing one from an index. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"
#include "image/manifest.h"

#define REGISTRY_ERROR_BODY_MAX (64 * 1024) /* what is kept of an error response */

/* Set *err from a registry's error response: STATUS and its body BUF (LEN bytes, may be NULL).
 * A JSON {"errors":[{"code":"MANIFEST_UNKNOWN","message":"…"}]} becomes "manifest unknown: …"
 * (several joined by "; "; control characters removed, lengths capped); anything else becomes
 * "unexpected HTTP status 502 (Bad Gateway)". Codes: ST_E_MANIFEST_UNKNOWN for
 * MANIFEST_UNKNOWN, ST_E_NOT_FOUND for NAME_UNKNOWN, BLOB_UNKNOWN and a bare 404,
 * ST_E_UNAUTHORIZED for UNAUTHORIZED and 401, ST_E_DENIED for DENIED and 403, else ST_E_HTTP.
 * Returns the code. */
int registry_error_from_response(long status, const char *buf, size_t len, struct st_error **err);

struct registry_platform {
        char os[32];
        char arch[32];
        char variant[32]; /* "" when not given */
};

/* Parse "os/arch[/variant]" (or "arch", meaning linux), normalizing like containerd
 * (x86_64 -> amd64, aarch64 -> arm64, armhf -> arm/v7, "8" -> "v8"). ST_E_USAGE if bad. */
int registry_platform_parse(const char *s, struct registry_platform *ret, struct st_error **err);

/* "os/arch[/variant]" of P; caller frees. */
char *registry_platform_string(const struct registry_platform *p);

/* True if descriptor platform D (may be NULL: unknown, no match) is what P asks for; a missing
 * variant counts as the architecture's default (arm64: v8, arm: v7). */
bool registry_platform_matches(const struct registry_platform *p, const struct image_platform *d);

/* The first manifest of IDX for platform P, skipping attestation manifests (BuildKit's
 * vnd.docker.reference.type=attestation-manifest and unknown/unknown platforms); NULL if none
 * (borrowed from IDX). */
const struct image_descriptor *registry_platform_select(const struct image_index *idx,
                                                        const struct registry_platform *p);
