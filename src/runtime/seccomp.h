/* Seccomp profiles in Docker's format (a default action, an architecture map, syscall rules
 * that may apply only on some architectures, with some capabilities or from some kernel on),
 * checked and resolved into the OCI spec's linux.seccomp. Pure: no file, no host state. */
#pragma once

#include <jansson.h>

#include "basic/error.h"

#define RUNTIME_SECCOMP_PROFILE_MAX (1024 * 1024)

/* strata's default profile (data/seccomp-default.json, embedded at build time): the JSON text,
 * NUL-terminated, static. */
extern const char runtime_seccomp_default_json[];

/* Parse TEXT (LEN bytes) as a seccomp profile and check every field strata and runc read:
 * actions, architectures, syscall names, argument indexes and operators, includes/excludes.
 * The parsed profile into *ret (a new reference; may be NULL: only checking). ST_E_PARSE with
 * the first problem ("seccomp profile: syscalls[3].action: unknown action 'X'"). */
int runtime_seccomp_parse(const char *text, size_t len, json_t **ret, struct st_error **err);

/* The OCI linux.seccomp (a new reference) of PROFILE (as runtime_seccomp_parse accepted it) for
 * a container on architecture ARCH (Go name: "amd64", "arm64"…) whose bounding set is CAPS
 * ("CAP_*" names) on kernel release KERNEL ("6.1.0-…"; NULL: assume the newest): the archMap
 * entry of ARCH, and the rules whose includes all hold and whose excludes none do, without
 * comments. NULL in *ret if the profile is empty (no default action, no syscalls): no filter,
 * as Docker does. */
int runtime_seccomp_resolve(const json_t *profile, const char *arch, char *const *caps,
                            const char *kernel, json_t **ret, struct st_error **err);

/* Remove ARCH ("SCMP_ARCH_X32") from the architectures of FILTER, a resolved linux.seccomp. */
void runtime_seccomp_drop_arch(json_t *filter, const char *arch);

/* The Go name of the architecture strata was built for ("amd64", "arm64", …; "" if unknown). */
const char *runtime_seccomp_native_arch(void);
