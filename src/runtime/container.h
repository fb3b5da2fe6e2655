/* The container lifecycle on top of the store, the overlay mount, the spec and the OCI runtime:
 * create, start (attached in this process, or detached under a monitor process), kill, stop,
 * wait, remove, and the liveness check that keeps `ps` honest.
 *
 * Who waits for a container: the process that started it, made a child subreaper so that the
 * container's init (orphaned when `runc run --detach` exits) is its child. In the foreground that
 * is strata itself; detached, it is a monitor: strata re-executed (double fork, setsid) with a
 * hidden verb that calls runtime_container_monitor. Either one copies the output to
 * containers/<id>/log, and when the container ends: its cgroups and runc's state removed
 * (runtime_oci_forget, else `runc delete`), unmount, record the exit
 * status (the state becomes "exited" only after that cleanup), and with AutoRemove remove the
 * container. A container whose monitor is gone is recorded as exited with status 255 and an
 * error saying so, its process killed if it still runs (runtime_container_refresh). */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "runtime/spec.h"
#include "store/store.h"

typedef void (*runtime_warn_fn)(const char *msg, void *userdata);

/* What the lifecycle calls need from their caller. */
struct runtime_host {
        struct store *store;
        const char *search_path; /* PATH to find the OCI runtime in (NULL: a default) */
        runtime_warn_fn warn;    /* told about what was asked but cannot be had; may be NULL */
        void *warn_data;
        /* "K=V" added to the process's env when a container starts in the foreground, never
         * recorded in the store (build secrets given with env=); may be NULL */
        char *const *secret_env;
};

/* Create a container from the image O->image (looked up in the store) with the options O (see
 * runtime_config_new; HOST_ENV serves -e K and --env-file lookups), named NAME (NULL: random).
 * Caller frees *ret with store_container_free. */
int runtime_container_create(const struct runtime_host *h, const struct runtime_options *o,
                             const char *name, char *const *host_env, struct store_container **ret,
                             struct st_error **err);

/* Where the container's streams go besides its log when started in the foreground. */
struct runtime_attach {
        int in_fd;  /* copied to the container's stdin (-i); -1: stdin is /dev/null */
        int out_fd; /* the container's stdout (and with a tty, all of its output); -1: none */
        int err_fd; /* the container's stderr; -1: none */
};

/* Start container C and wait for it in this process: output to its log and to A, SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 forwarded to it (the third SIGINT or SIGTERM
 * kills it), with a tty the terminal in raw mode and its size followed. Its exit status into
 * *ret_status (128+N if killed by signal N). Start failures: ST_E_CMD_NOT_FOUND,
 * ST_E_CMD_CANNOT_INVOKE, ST_E_RUNTIME, …; the container is then left "created" with the error
 * recorded (or removed, with AutoRemove). */
int runtime_container_run(const struct runtime_host *h, struct store_container *c,
                          const struct runtime_attach *a, int *ret_status, struct st_error **err);

/* Start container C detached: spawn the monitor (MONITOR_ARGV with MONITOR_ENV: strata's own
 * binary and its hidden verb; the monitor finds its report pipe on fd 3) and return once the
 * container runs, with the monitor's start error otherwise. */
int runtime_container_start_detached(const struct runtime_host *h, struct store_container *c,
                                     char *const *monitor_argv, char *const *monitor_env,
                                     struct st_error **err);

/* The monitor's body: start container ID detached from any terminal, report on SYNC_FD
 * ("warning: …" lines, then "ok" or "error CODE MESSAGE") and close it, then wait for the
 * container and clean up as described above. */
int runtime_container_monitor(const struct runtime_host *h, const char *id, int sync_fd,
                              struct st_error **err);

/* Field 22 of /proc/PID/stat (the start time in clock ticks since boot), 0 if PID is gone or a
 * zombie. */
uint64_t runtime_proc_start_time(int pid);

/* True if PID is alive and is the process that started at START (not a reused PID). */
bool runtime_pid_alive(int pid, uint64_t start);

/* Remove every container of IMAGE_NAME whose owner (the process recorded as its monitor from
 * its creation on, see store_container_new) is gone: its process killed, its mount and runtime
 * state cleaned up, its row and directory deleted. The builder calls it for the RUN containers
 * of builds that were killed. Failures to remove one are ignored (the next call retries). */
int runtime_container_reap(const struct runtime_host *h, const char *image_name,
                           struct st_error **err);

/* Bring C's recorded state in line with reality: a "running" container whose monitor is gone
 * (nobody can wait for it any more) has its process killed and becomes "exited" (255,
 * State.Error says why), its runtime state and mount cleaned up. Returns 1 if C changed. */
int runtime_container_refresh(const struct runtime_host *h, struct store_container *c,
                              struct st_error **err);

/* Send SIG to the running container C. ST_E_NOT_RUNNING if it is not running. */
int runtime_container_kill(const struct runtime_host *h, struct store_container *c, int sig,
                           struct st_error **err);

/* Stop C: its stop signal (Config.StopSignal, default SIGTERM), then SIGKILL after
 * TIMEOUT_SEC seconds (< 0: 10), and wait until it is recorded as exited. A container that is
 * not running is left alone. */
int runtime_container_stop(const struct runtime_host *h, struct store_container *c, int timeout_sec,
                           struct st_error **err);

/* Wait until container ID is not running (a created one does not count as running) and put
 * its exit code into *ret_code. ST_E_NOT_FOUND if it is removed meanwhile. */
int runtime_container_wait(const struct runtime_host *h, const char *id, int *ret_code,
                           struct st_error **err);

/* Remove C: its runtime state, mount, directory (the writable layer, the log) and record.
 * A running container needs FORCE (then it is killed first); ST_E_IN_USE otherwise with
 * Docker's message. */
int runtime_container_remove(const struct runtime_host *h, struct store_container *c, bool force,
                             struct st_error **err);

/* The parsed configuration of C (a new reference), or NULL if it does not parse. */
json_t *runtime_container_config(const struct store_container *c);

/* The path of C's log file; caller frees. */
char *runtime_container_log_path(const struct runtime_host *h, const struct store_container *c);

/* A container's merged rootfs, made available by runtime_container_rootfs. */
struct runtime_rootfs {
        char *path; /* the merged dir */
        char *dir;  /* the container's directory */
        int dir_fd; /* open (and flocked) while mounted here; else -1 */
        bool mounted;
};

/* Make C's merged rootfs available at ret->path: a running container's own mount, else the
 * overlay mounted here under the container's lock (so that no start interleaves) until
 * runtime_container_rootfs_release, which unmounts it. */
int runtime_container_rootfs(const struct runtime_host *h, struct store_container *c,
                             struct runtime_rootfs *ret, struct st_error **err);

/* Unmount (if mounted here) and unlock R; frees its fields. */
void runtime_container_rootfs_release(struct runtime_rootfs *r);

/* The changes of C's writable layer as Docker's `diff` lines ("A /new", "C /changed",
 * "D /deleted"), sorted by path: whiteouts and opaque dirs that hide something are D, paths
 * found in the image's layers C (directories only if their mode or owner differ), the rest A,
 * and every ancestor of a change is C. The empty mount points the runtime adds (/dev, /proc,
 * /sys, /etc/hosts, …) are left out, as Docker's init layer hides them. *ret is NULL if
 * nothing changed; caller frees. */
int runtime_container_diff(const struct runtime_host *h, const struct store_container *c,
                           char ***ret, struct st_error **err);

/* The options of `exec`. */
struct runtime_exec_options {
        char **cmd; /* the command and its arguments */
        char **env; /* -e K=V (or K: taken from HOST_ENV) */
        char *const *host_env;
        const char *user;    /* -u, or NULL for the container's user */
        const char *workdir; /* -w, or NULL for the container's working dir */
        bool tty, interactive, detach, privileged;
};

/* Run O->cmd in the running container C (`runc exec`) with the container's process settings
 * (capabilities, env, user, cwd) changed as O says. Attached to A unless O->detach; its exit
 * status into *ret_status (0 when detached). ST_E_NOT_RUNNING ("container … is not running"),
 * ST_E_CMD_NOT_FOUND, ST_E_CMD_CANNOT_INVOKE (Docker's 127 and 126), ST_E_RUNTIME. */
int runtime_container_exec(const struct runtime_host *h, struct store_container *c,
                           const struct runtime_exec_options *o, const struct runtime_attach *a,
                           int *ret_status, struct st_error **err);
