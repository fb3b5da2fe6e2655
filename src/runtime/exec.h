/* Driving the OCI runtime (runc, or crun: the same command line): create, start, kill, delete,
 * state. Each call spawns the runtime with posix_spawn, an explicit environment, default signal
 * dispositions and an empty signal mask, and waits for it. Errors carry the runtime's own
 * message (from its JSON log). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"

struct runtime_oci {
        char *path;       /* the runtime binary */
        char *state_root; /* its --root: where it keeps container state */
        char **env;       /* its environment */
};

/* Find the runtime NAME (a name searched in SEARCH_PATH, NULL: a default PATH; or a path with a
 * '/') whose state lives in STATE_ROOT. ST_E_NOT_FOUND with a hint if it is missing.
 * Caller frees *ret with runtime_oci_free. */
int runtime_oci_new(const char *name, const char *search_path, const char *state_root,
                    struct runtime_oci **ret, struct st_error **err);

/* Free RT; NULL-safe; returns NULL. */
struct runtime_oci *runtime_oci_free(struct runtime_oci *rt);

struct runtime_oci_create {
        const char *id;
        const char *bundle;         /* holds config.json */
        const char *pid_file;       /* the runtime writes the container's host PID here */
        const char *console_socket; /* with process.terminal: where the pty master is sent */
        const char *log;            /* the runtime's JSON log for this container */
        int stdio[3];               /* the container's stdin, stdout, stderr (-1: /dev/null) */
        bool start;                 /* `run --detach`: create and start in one runtime process */
};

/* `runtime create` (the container exists, its process waits for start) or, with START,
 * `runtime run --detach` (its process runs when this returns). An exec failure of the
 * command is ST_E_CMD_NOT_FOUND or ST_E_CMD_CANNOT_INVOKE (Docker's 127 and 126), any other
 * failure ST_E_RUNTIME. */
int runtime_oci_create(const struct runtime_oci *rt, const struct runtime_oci_create *c,
                       struct st_error **err);

/* Whether the runtime still keeps state for container ID. */
bool runtime_oci_has_state(const struct runtime_oci *rt, const char *id);

struct runtime_oci_exec {
        const char *id;
        const char *process;        /* the process.json to run */
        const char *pid_file;       /* the runtime writes the process's host PID here */
        const char *console_socket; /* with process.terminal: where the pty master is sent */
        const char *log;            /* the runtime's JSON log for this call */
        int stdio[3];               /* the process's stdin, stdout, stderr (-1: /dev/null) */
};

/* `runtime exec --detach`: a new process in the running container; it is started when this
 * returns (a subreaper caller becomes its parent). Exec failures of the command are
 * ST_E_CMD_NOT_FOUND or ST_E_CMD_CANNOT_INVOKE, any other failure ST_E_RUNTIME. */
int runtime_oci_exec(const struct runtime_oci *rt, const struct runtime_oci_exec *e,
                     struct st_error **err);

/* `runtime kill ID SIG`. ST_E_NOT_RUNNING if the container is not running. */
int runtime_oci_kill(const struct runtime_oci *rt, const char *id, int sig, struct st_error **err);

/* What `runtime delete ID` does for a container whose processes have all exited, without
 * spawning the runtime, when it is runc: its cgroups (the "cgroup_paths" of its state.json)
 * and its state dir removed. 0 when done; <0 when it cannot tell (another runtime's state, a
 * cgroup still busy), for the caller to run runtime_oci_delete. */
int runtime_oci_forget(const struct runtime_oci *rt, const char *id);

/* `runtime delete [--force] ID`: forget it and remove its cgroup; a missing one is fine. */
int runtime_oci_delete(const struct runtime_oci *rt, const char *id, bool force,
                       struct st_error **err);

/* `runtime state ID`: its status ("created", "running", "stopped", …; caller frees) and PID.
 * ST_E_NOT_FOUND if the runtime does not know the container. */
int runtime_oci_state(const struct runtime_oci *rt, const char *id, char **ret_status, int *ret_pid,
                      struct st_error **err);

/* The error code for the runtime's message MSG about a failed create: ST_E_CMD_NOT_FOUND for
 * "executable file not found" / "no such file or directory", ST_E_CMD_CANNOT_INVOKE for
 * "permission denied" / "is a directory" / "exec format error", else ST_E_RUNTIME. */
int runtime_oci_error_code(const char *msg);

DEFINE_CLEANUP_FUNC(struct runtime_oci *, runtime_oci_free)
