/* From an image and `run` options to an OCI runtime config.json, following Docker's rules. Pure:
 * JSON and text in, JSON and text out; reading the rootfs and the host is the caller's job, so
 * all of it is unit-testable.
 *
 * Two steps, as in Docker:
 *  1. at create time, runtime_config_new merges the image config with the options into the
 *     container's configuration, Docker-shaped: {"Path", "Args", "Config": {…}, "HostConfig":
 *     {…}} (what `inspect` shows; kept in the store);
 *  2. at each start, runtime_spec_build turns that plus facts about the rootfs and the machine
 *     (the resolved user, the files to bind mount, which cgroup controllers work) into the OCI
 *     spec. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

/* The options of `strata run`/`create`, as given. */
struct runtime_options {
        const char *image;      /* as the user named it */
        char **cmd;             /* the command after IMAGE, or NULL for the image's CMD */
        const char *entrypoint; /* --entrypoint: NULL unset, "" clears the image's */
        char **env;             /* --env-file lines (already read) then -e: K=V, or K */
        const char *workdir;    /* -w, absolute */
        const char *user;       /* -u name|uid[:group|gid] */
        const char *hostname;   /* -h */
        bool tty, interactive;
        const char *network; /* "none" (default) or "host" */
        char **binds;        /* -v HOST:CTR[:ro|rw] */
        char **tmpfs;        /* --tmpfs PATH[:OPTIONS] */
        bool read_only, privileged, auto_remove;
        char **cap_add, **cap_drop;
        char **security_opt; /* --security-opt, a seccomp profile as its JSON text */
        int64_t memory;      /* bytes, 0 = unset */
        int64_t nano_cpus;   /* 1e9 per CPU, 0 = unset */
        int64_t pids_limit;  /* 0 = unset */
        char **ulimits;      /* NAME=SOFT[:HARD] */
        const char *runtime; /* NULL: runc */
};

/* Docker's create-time merge of IMAGE_CONFIG (the image config's "config" object, may be NULL)
 * and O into a new container configuration *ret (a new reference): ENTRYPOINT and CMD
 * (--entrypoint replaces the image's and drops its CMD; a command replaces CMD; --entrypoint ""
 * clears), Env (image's, then O->env replacing by key; "K" alone takes K from HOST_ENV, a
 * NULL-terminated "K=V" list, and is dropped if unset there; PATH added if missing), WorkingDir,
 * User, Volumes, Labels, StopSignal. Validates the options: ST_E_USAGE with Docker's message
 * for "No command specified", a relative -w, malformed -v/--tmpfs/--ulimit, unknown
 * capabilities or --network modes. */
int runtime_config_new(const json_t *image_config, const struct runtime_options *o,
                       char *const *host_env, json_t **ret, struct st_error **err);

/* The lines of an --env-file TEXT as env entries appended to *ENV (Docker's rules: blank lines
 * and '#' comments skipped, "K=V" kept as is, "K" looked up in HOST_ENV and skipped if unset).
 * ST_E_PARSE for a line with no name or a name with whitespace. */
int runtime_env_file_parse(const char *text, char *const *host_env, char ***env,
                           struct st_error **err);

/* Set "K=V" in the env list *ENV: replace an entry with the same key, else append. */
void runtime_env_set(char ***env, const char *kv);

/* ----- the user ----- */

struct runtime_user {
        uint32_t uid, gid;
        uint32_t *additional_gids; /* supplementary groups */
        size_t n_additional_gids;
        char *home;
};

/* Resolve SPEC ("", "name", "uid", "name:group", "uid:gid", …) against the texts of the rootfs's
 * /etc/passwd and /etc/group (either may be NULL: missing) as runc's libcontainer does: names
 * must exist; numeric IDs work without entries; with no explicit group, the primary group comes
 * from passwd and the supplementary groups are those listing the user. ST_E_NOT_FOUND ("unable
 * to find user bob: no matching entries in passwd file"). Caller releases *ret. */
int runtime_user_resolve(const char *spec, const char *passwd, const char *group,
                         struct runtime_user *ret, struct st_error **err);

/* Free U's fields. */
void runtime_user_release(struct runtime_user *u);

/* ----- the OCI spec ----- */

enum {
        RUNTIME_CGROUP_MEMORY = 1 << 0,
        RUNTIME_CGROUP_CPU = 1 << 1,
        RUNTIME_CGROUP_PIDS = 1 << 2,
};

/* What runtime_spec_build needs beyond the container configuration. */
struct runtime_spec_ctx {
        const char *id;     /* the container ID (hostname default, cgroup path) */
        const char *rootfs; /* root.path, relative to the bundle or absolute */
        const struct runtime_user *user;
        const char *hosts, *hostname, *resolv; /* files bind-mounted on /etc/…, or NULL */
        const char *volumes_dir;    /* anonymous volumes are VOLUMES_DIR/<runtime_volume_name> */
        const char *host_hostname;  /* the host's name, for --network host */
        unsigned cgroups;           /* RUNTIME_CGROUP_* controllers that can be used */
        uint64_t cap_bounding;      /* capabilities strata holds (bit N = cap N) */
        const char *kernel;         /* the kernel release (uname -r), for seccomp; may be NULL */
        bool no_x32;                /* the kernel runs no x32 calls: no SCMP_ARCH_X32 filter */
        const json_t *host_devices; /* with --privileged: the host's devices (linux.devices) */
};

/* The OCI runtime spec (a new reference) of the container configuration CONTAINER: process
 * (args, env with PATH/HOSTNAME/TERM defaults, cwd, user, Docker's default capabilities tweaked
 * by CapAdd/CapDrop/Privileged, noNewPrivileges from SecurityOpt, no rlimits unless Ulimits),
 * root, hostname, mounts (/proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, cgroup, the /etc
 * files, binds, tmpfs, volumes), namespaces (mount, pid, ipc, uts, network unless host), masked
 * and read-only paths, the seccomp filter (the default profile or SecurityOpt's, resolved for the
 * capabilities; none if privileged or unconfined), the host's devices if privileged, cgroup
 * resources that CTX allows. What was asked but cannot be had goes into *ret_warnings (one
 * line each, caller frees; may be NULL). */
int runtime_spec_build(const json_t *container, const struct runtime_spec_ctx *ctx, json_t **ret,
                       char ***ret_warnings, struct st_error **err);

/* The container's hostname: Config.Hostname, else the host's for --network host, else the
 * short ID; caller frees. */
char *runtime_hostname(const json_t *container, const char *id, const char *host_hostname);

/* Destinations of the container's anonymous volumes (the image's VOLUMEs not covered by a bind
 * or tmpfs), sorted; caller frees. */
char **runtime_volumes(const json_t *container);

/* The directory name under volumes_dir of the anonymous volume at DEST; caller frees. */
char *runtime_volume_name(const char *dest);

/* /etc/hosts for the container: Docker's localhost lines, or HOST_HOSTS for --network host;
 * caller frees. */
char *runtime_hosts_file(bool host_network, const char *host_hosts);

/* /etc/resolv.conf from the host's HOST_RESOLV (NULL if missing), as Docker writes it: as is for
 * --network host; otherwise without localhost nameservers, and Google's public ones if none is
 * left. Caller frees. */
char *runtime_resolv_conf(bool host_network, const char *host_resolv);

/* The capability set (CAP_* names, caller frees) Docker computes from its defaults, ADD and DROP
 * ("ALL" allowed, names with or without CAP_, any case) and PRIVILEGED. ST_E_USAGE for an unknown
 * name. */
int runtime_caps(char *const *add, char *const *drop, bool privileged, char ***ret,
                 struct st_error **err);

/* What --security-opt asks for. */
struct runtime_security {
        bool no_new_privileges;
        bool seccomp_unconfined;     /* seccomp=unconfined */
        bool systempaths_unconfined; /* systempaths=unconfined: no masked or read-only paths */
        const char *seccomp_profile; /* seccomp=<JSON text>, pointing into the options; or NULL */
};

/* Docker's --security-opt values OPTS (KEY=VALUE or KEY:VALUE; "no-new-privileges[=BOOL]",
 * "seccomp=unconfined|builtin|<profile JSON>", "systempaths=unconfined", "apparmor=…" and
 * "label=…" accepted without effect) into *ret. A profile is checked (runtime_seccomp_parse).
 * ST_E_USAGE ("invalid --security-opt: …") or ST_E_PARSE. */
int runtime_security_parse(char *const *opts, struct runtime_security *ret, struct st_error **err);

/* A signal from "SIGTERM", "TERM", "term" or "15" into *ret; -EINVAL if unknown. */
int runtime_signal_parse(const char *s, int *ret);

/* Docker's RAMInBytes: "64m", "1g", "512k", "1024" (b, k, m, g, t, p; optional "b"; 1024-based)
 * into *ret; -EINVAL if malformed. */
int runtime_parse_bytes(const char *s, int64_t *ret);

/* "1.5" CPUs into nano CPUs; -EINVAL if malformed or not positive. */
int runtime_parse_cpus(const char *s, int64_t *ret);
