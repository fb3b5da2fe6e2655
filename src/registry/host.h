/* Where a reference's registry lives and how to talk to it: Docker Hub's aliases, plain HTTP
 * only for loopback and insecure registries, per-registry CA directories, and a minimal reader
 * of /etc/strata/registries.conf:
 *   [[registry]]
 *   location = "host:port"
 *   insecure = true
 * Other tables and keys are ignored. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"

#define REGISTRY_CONF_MAX     (1024 * 1024)
#define REGISTRY_DOCKER_HOST  "registry-1.docker.io"
#define REGISTRY_DOCKER_INDEX "https://index.docker.io/v1/"

enum registry_tls {
        REGISTRY_TLS_VERIFY,   /* https only, certificates verified */
        REGISTRY_TLS_LOOPBACK, /* https verified; plain http if the server does not speak TLS */
        REGISTRY_TLS_INSECURE, /* https without verification, else plain http */
};

struct registry_conf;

/* Parse registries.conf text BUF of LEN bytes (PATH names it in errors: "PATH:LINE: ...").
 * Caller frees *ret with registry_conf_free. */
int registry_conf_parse(const char *buf, size_t len, const char *path, struct registry_conf **ret,
                        struct st_error **err);

/* registry_conf_parse of the file at PATH; a missing file is an empty configuration. */
int registry_conf_load(const char *path, struct registry_conf **ret, struct st_error **err);

/* True if DOMAIN ("host" or "host:port") is listed with insecure = true. */
bool registry_conf_is_insecure(const struct registry_conf *c, const char *domain);

/* Free C; NULL-safe; returns NULL. */
struct registry_conf *registry_conf_free(struct registry_conf *c);

/* True if the host part of DOMAIN ("h", "h:port", "[v6]:port") is localhost, 127/8 or ::1. */
bool registry_host_is_loopback(const char *domain);

struct registry_host {
        char *domain; /* as in references: "docker.io", "127.0.0.1:5000" */
        char *host;   /* what to connect to: "registry-1.docker.io", "127.0.0.1:5000" */
        enum registry_tls tls;
        char **cert_dirs; /* existing ROOT/HOST[:PORT] dirs of the certs.d roots given */
};

/* Resolve DOMAIN. TLS_VERIFY: -1 follows the rules (insecure if CONF lists it, loopback, else
 * verify), 0 is --tls-verify=false, 1 forces verified https. CERT_ROOTS: certs.d directories to
 * look in (NULL-terminated; /etc/strata/certs.d, /etc/docker/certs.d). Caller frees. */
int registry_host_resolve(const struct registry_conf *conf, int tls_verify, char **cert_roots,
                          const char *domain, struct registry_host **ret, struct st_error **err);

/* Free H; NULL-safe; returns NULL. */
struct registry_host *registry_host_free(struct registry_host *h);

DEFINE_CLEANUP_FUNC(struct registry_conf *, registry_conf_free)
DEFINE_CLEANUP_FUNC(struct registry_host *, registry_host_free)
