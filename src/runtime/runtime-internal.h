/* Internals of src/runtime shared between its files. */
#pragma once

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* A JSON array of the strings of L (json null for NULL); a new reference. */
json_t *runtime_strv_to_json(char *const *l);

/* The string elements of the JSON array A (NULL if none); caller frees. */
char **runtime_json_to_strv(const json_t *a);

/* "nofile=1024[:2048]" into its name (caller frees), soft and hard limits. -ENOENT for an
 * unknown name, -ERANGE if soft > hard, -EINVAL if malformed. */
int runtime_ulimit_parse(const char *s, char **ret_name, int64_t *ret_soft, int64_t *ret_hard);

/* qsort comparator for char * elements. */
int runtime_strcmp_ptr(const void *a, const void *b);

struct runtime_host;
struct store;
struct runtime_oci;
struct st_error;
struct store_container;

/* CLOCK_REALTIME in ns since the epoch. */
int64_t runtime_now_ns(void);

/* The OCI runtime of container C (HostConfig.Runtime), with its state under ROOT/run/<name>. */
int runtime_oci_for(const struct runtime_host *h, const struct store_container *c,
                    struct runtime_oci **ret, struct st_error **err);

/* Replace *C with a fresh copy of its record (ST_E_NOT_FOUND if it was removed). */
int runtime_container_reload(const struct runtime_host *h, struct store_container *c,
                             struct st_error **err);

/* Mount C's overlay rootfs on DIR/merged (DIR_FD open on DIR): its layers under DIR/upper. */
int runtime_rootfs_mount(struct store *s, const struct store_container *c, const char *dir,
                         int dir_fd, struct st_error **err);

/* A console socket for the runtime to send a pty master to, in DIR (or /tmp where the path
 * would be too long): its path (caller unlinks and frees) and listening fd. */
int runtime_console_listen(const char *dir, char **ret_path, int *ret_fd, struct st_error **err);

/* Accept the runtime's connection on SOCK and receive the pty master into *ret_master. */
int runtime_console_receive(int sock, int *ret_master, struct st_error **err);

/* Remove the runtime state and the rootfs mount a container that is not running left. */
int runtime_cleanup_leftovers(const struct runtime_host *h, const struct store_container *c,
                              struct st_error **err);

/* The container's I/O until it ends: see io.c. */
struct runtime_log;

struct runtime_io {
        int pid;          /* the process waited for: the container's init or an exec'd process */
        int out_r, err_r; /* its stdout and stderr (with a tty: out_r is the pty master) */
        int in_w;         /* its stdin (with a tty: the master again), or -1 */
        int in_fd;        /* what to copy to in_w, or -1 */
        int attach_out, attach_err; /* copies of the output, or -1 */
        bool tty;
        bool forward; /* forward SIGINT, SIGTERM, … to the container */
        struct runtime_log *log;
};

/* Copy the container's streams, forward signals (SIGFD: a signalfd of the set blocked by
 * runtime_io_block_signals) and reap children until the container has exited and its output is
 * drained. Its exit status (128+N for signal N) into *ret_status. */
int runtime_io_loop(struct runtime_io *io, int sigfd, int *ret_status);

/* A pidfd (close-on-exec) that polls readable when PID exits, or -1 on an old kernel. */
int runtime_pidfd_open(pid_t pid);

/* Wait for our child PID (retrying on EINTR); its exit status, 128+N for signal N. */
int runtime_reap(pid_t pid);

/* Block the signals the loop handles (SIGCHLD, and with FORWARD the ones it forwards) and
 * return a signalfd for them; OLD receives the previous mask. On failure (-errno) the mask is
 * left as it was. */
int runtime_io_block_signals(bool forward, sigset_t *old);

/* The host's character and block devices under /dev (not pts, shm, mqueue, fd, console) as the
 * OCI spec's linux.devices; a new reference, empty if /dev cannot be read. */
json_t *runtime_host_devices(void);

/* Remove the cgroups "strata/ID" a killed runtime left in this process's cgroup of every
 * hierarchy (empty ones only: the kernel refuses the others). */
void runtime_cgroup_remove(const char *id);

/* The capabilities this process holds in its bounding set (bit N = capability N). */
uint64_t runtime_cap_bounding(void);

/* Whether the running kernel executes x32 system calls (false off x86-64; true when it cannot
 * be probed safely, under a seccomp filter). */
bool runtime_kernel_runs_x32(void);

/* process.capabilities (a new reference) with every capability of BOUNDING that strata knows,
 * in the bounding, effective and permitted sets: what --privileged gets. */
json_t *runtime_caps_all_json(uint64_t bounding);
