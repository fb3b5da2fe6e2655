/* The build plan: which stages a Dockerfile has, what each is built on, which stages the target
 * needs (and so which can be skipped), and the global build arguments, all as `docker build`
 * resolves them. Pure: the builder executes the plan. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"
#include "dockerfile/dockerfile.h"

/* The platform the build runs on and targets (only one: strata builds for its own). */
struct dockerfile_platform {
        const char *os;      /* "linux" */
        const char *arch;    /* "amd64" */
        const char *variant; /* "" or "v8" */
};

struct dockerfile_plan_stage {
        size_t index;
        char *name;        /* lower case, or NULL for an unnamed stage */
        char *base;        /* the expanded image reference, "scratch", or the base stage's name */
        int base_stage;    /* index of the stage this one is built on, or -1 */
        char *platform;    /* the expanded FROM --platform, or NULL */
        size_t from;       /* index of its FROM in the Dockerfile's instructions */
        size_t first, end; /* its instructions after FROM: [first, end) */
        size_t *deps;      /* stages it needs (base, COPY --from, RUN --mount from=) */
        size_t n_deps;
        char **images; /* images it needs that are not stages (COPY --from=IMAGE, ...) */
        bool needed;   /* the target needs it */
};

struct dockerfile_plan {
        struct dockerfile_plan_stage *stages;
        size_t n_stages;
        size_t target;            /* the stage to build (--target, else the last) */
        char **global_args;       /* "NAME=VALUE" of the ARGs before the first FROM, resolved */
        char **build_args;        /* the --build-arg values as given ("NAME=VALUE", or resolved
                                     from the environment for "NAME"), in a strv */
        char **unused_build_args; /* --build-args no ARG of a needed stage consumed */
};

/* Resolve DF's stages for TARGET (NULL: the last stage) with BUILD_ARGS ("K=V", or "K" to take
 * K from ENVP when it is set there). Errors (ST_E_PARSE, with file:line): no FROM, a stage name
 * that is invalid or used twice, an unknown --target, a reference to a stage by an index out of
 * range, a cycle. *ret is owned by the caller (dockerfile_plan_free). */
int dockerfile_plan_new(const struct dockerfile *df, char **build_args, char **envp,
                        const char *target, const struct dockerfile_platform *platform,
                        struct dockerfile_plan **ret, struct st_error **err);

/* Free P; NULL-safe; returns NULL. */
struct dockerfile_plan *dockerfile_plan_free(struct dockerfile_plan *p);

/* The stage named or numbered NAME ("builder", "0"), or -1. */
int dockerfile_plan_stage_lookup(const struct dockerfile_plan *p, const char *name);

/* The value of the predefined argument NAME (TARGETPLATFORM, TARGETOS, TARGETARCH,
 * TARGETVARIANT, BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT) for PLATFORM, or NULL;
 * caller frees. */
char *dockerfile_plan_predefined_arg(const struct dockerfile_platform *platform, const char *name);

/* True for the proxy arguments Docker passes to RUN without an ARG (HTTP_PROXY, https_proxy,
 * NO_PROXY, ALL_PROXY, FTP_PROXY and their lower-case forms) and keeps out of the history. */
bool dockerfile_plan_is_proxy_arg(const char *name);

DEFINE_CLEANUP_FUNC(struct dockerfile_plan *, dockerfile_plan_free)
#define _cleanup_dockerfile_plan_ _cleanup_(dockerfile_plan_freep)
