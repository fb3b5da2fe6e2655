/* Registry authentication inputs: WWW-Authenticate challenges (RFC 7235) and credentials in
 * Docker's config.json format, including docker-credential-* helpers. Nothing here logs, and no
 * error message ever holds a password, token or base64 auth string. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"

#define REGISTRY_HEADER_MAX     8192 /* cap on one header value we parse */
#define REGISTRY_CHALLENGES_MAX 16
#define REGISTRY_PARAMS_MAX     32
#define REGISTRY_AUTH_FILE_MAX  (1024 * 1024)

struct registry_challenge {
        char *scheme;  /* lower-cased: "bearer", "basic" */
        char **params; /* key, value, key, value, ... (keys lower-cased); NULL-terminated */
        char *token68; /* the token68 form ("Negotiate abc=="), or NULL */
};

/* Parse a WWW-Authenticate value into its challenges: comma-separated, each a scheme followed by
 * a token68 or by auth-params whose values are tokens or quoted-strings (with \-escapes).
 * ST_E_PARSE if malformed, ST_E_TOO_BIG over the caps above. Caller frees *ret with
 * registry_challenges_free. */
int registry_challenges_parse(const char *value, struct registry_challenge **ret, size_t *ret_n,
                              struct st_error **err);

/* Free N challenges C; NULL-safe. */
void registry_challenges_free(struct registry_challenge *c, size_t n);

/* The value of the parameter KEY (case-insensitive) of C, or NULL (borrowed). */
const char *registry_challenge_param(const struct registry_challenge *c, const char *key);

/* The challenge of scheme SCHEME ("bearer") among C[0..N), or NULL (borrowed). */
const struct registry_challenge *registry_challenge_find(const struct registry_challenge *c,
                                                         size_t n, const char *scheme);

struct registry_cred {
        char *username;
        char *password;
        char *identity_token; /* an OAuth2 refresh token (config.json "identitytoken") */
};

/* Release C's fields (wiping the secrets first). */
void registry_cred_release(struct registry_cred *c);

/* True if C holds something to authenticate with. */
bool registry_cred_is_set(const struct registry_cred *c);

/* The config.json key of the registry DOMAIN: "https://index.docker.io/v1/" for docker.io, else
 * DOMAIN itself; caller frees. */
char *registry_auth_key(const char *domain);

/* Look up DOMAIN in config.json text BUF. A credential helper to ask (credHelpers[DOMAIN], else
 * credsStore) goes into *ret_helper; otherwise auths' entry (keys compared without scheme and
 * path, so "https://host/v1/" matches "host") goes into *ret, which stays empty when there is
 * none. ST_E_PARSE if the file is malformed (the message never quotes its secrets). */
int registry_auth_parse(const char *buf, size_t len, const char *domain, struct registry_cred *ret,
                        char **ret_helper, struct st_error **err);

/* The credentials for DOMAIN from the config.json at PATH (missing file: none), asking a
 * docker-credential-NAME helper when configured and installed. *ret is empty when there are
 * none. */
int registry_cred_load(const char *path, const char *domain, struct registry_cred *ret,
                       struct st_error **err);

/* Save USERNAME and PASSWORD for DOMAIN: through the configured credential helper if there is
 * one, else base64 in PATH's auths (created with mode 0600, its directory 0700; other
 * contents kept). */
int registry_cred_save(const char *path, const char *domain, const char *username,
                       const char *password, struct st_error **err);

/* Forget DOMAIN's credentials (helper or file); returns 1 if some were removed, 0 if none. */
int registry_cred_remove(const char *path, const char *domain, struct st_error **err);
