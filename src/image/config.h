/* The image config (OCI image config / Docker image JSON): strict parsing, accessors, changes.
 * The document is kept as JSON so unknown fields (and Docker's Healthcheck, OnBuild, Shell,
 * StopSignal, which OCI lacks) survive a read-modify-write. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

struct image_history {
        char *created; /* RFC 3339, or NULL */
        char *created_by;
        char *author;
        char *comment;
        bool empty_layer;
};

struct image_config {
        json_t *root; /* the whole document (owned reference) */
        char *architecture;
        char *os;
        char *variant;   /* or NULL */
        char *created;   /* or NULL */
        char *author;    /* or NULL */
        char **diff_ids; /* strv of validated digests, rootfs.type must be "layers" */
        struct image_history *history;
        size_t n_history;
        bool cmd_set; /* a CMD change was applied: a later ENTRYPOINT change keeps Cmd */
};

/* Parse a config of LEN bytes (cap IMAGE_CONFIG_MAX). Validates: rootfs.type == "layers",
 * diff_ids are digests, config.* fields have the right JSON types (Env/Cmd/Entrypoint string
 * arrays, ExposedPorts/Volumes/Labels objects, ...), history entries' types, and that the
 * number of non-empty history entries matches diff_ids when history is present.
 * Caller frees *ret with image_config_free. */
int image_config_parse(const char *buf, size_t len, struct image_config **ret,
                       struct st_error **err);

/* A fresh config: architecture/os of this machine (amd64/linux), created = CREATED (RFC 3339),
 * empty rootfs. Caller frees. */
struct image_config *image_config_new(const char *created);

/* Free C; NULL-safe; returns NULL. */
struct image_config *image_config_free(struct image_config *c);

/* The "config" object (Env, Cmd, ...), created if absent (borrowed from C). */
json_t *image_config_container(struct image_config *c);

/* Append a layer (diff_id) and its history entry; EMPTY_LAYER entries add history only. */
void image_config_add_history(struct image_config *c, const char *diff_id, const char *created,
                              const char *created_by, const char *author, const char *comment,
                              bool empty_layer);

/* Serialize C (fields synced into root) as canonical compact JSON; caller frees. The digest
 * of these bytes is the image ID. */
char *image_config_write(struct image_config *c);

/* Apply one Dockerfile-style change as `docker import --change` does: CMD, ENTRYPOINT, ENV,
 * EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR (JSON or shell form where the
 * instruction has both). ST_E_PARSE for anything else or malformed arguments. */
int image_config_apply_change(struct image_config *c, const char *change, struct st_error **err);

/* Current time as RFC 3339 in UTC with up to nine fraction digits, trailing zeros trimmed like
 * Go's RFC3339Nano ("2026-11-27T21:08:58.1234567Z"); caller frees. */
char *image_time_now(void);

/* SEC (seconds since the epoch) as RFC 3339 in UTC without a fraction
 * ("2023-01-01T00:00:00Z"), as BuildKit writes SOURCE_DATE_EPOCH; caller frees. */
char *image_time_format(int64_t sec);

/* Parse an RFC 3339 time ("T" and "Z" in either case, any fraction, "Z" or "+hh:mm") into
 * seconds since the epoch; -EINVAL if malformed or out of range (Feb 30, 24:00). */
int image_time_parse(const char *s, int64_t *ret_sec);

DEFINE_CLEANUP_FUNC(struct image_config *, image_config_free)
#define _cleanup_config_ _cleanup_(image_config_freep)
