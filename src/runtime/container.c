/* Container lifecycle: create, liveness, kill, stop, wait, remove. Starting is in start.c. */
#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "basic/util.h"
#include "image/config.h"
#include "image/manifest.h"
#include "json/json.h"
#include "runtime/exec.h"
#include "runtime/mount.h"
#include "runtime/runtime-internal.h"

#define POLL_MS 20

int runtime_container_create(const struct runtime_host *h, const struct runtime_options *o,
                             const char *name, char *const *host_env, struct store_container **ret,
                             struct st_error **err)
{
        struct store *s = h->store;
        /* shared lock from the lookup to the record: no rmi can take the layers in between */
        int r = store_lock(s, false, err);
        if (r < 0)
                return r;
        _cleanup_store_image_ struct store_image *img = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_config_ struct image_config *cfg = NULL;
        _cleanup_json_ json_t *cj = NULL;
        size_t len = 0;
        _cleanup_(runtime_oci_freep) struct runtime_oci *rt = NULL;
        r = runtime_oci_new(o->runtime, h->search_path, "/", &rt, err); /* fail early */
        if (r >= 0)
                r = store_image_lookup(s, o->image, &img, err);
        if (r >= 0)
                r = store_blob_read(s, img->id, IMAGE_CONFIG_MAX, &buf, &len, err);
        if (r >= 0)
                r = image_config_parse(buf, len, &cfg, err);
        if (r >= 0)
                r = runtime_config_new(image_config_container(cfg), o, host_env, &cj, err);
        if (r >= 0) {
                _cleanup_free_ char *text = json_dump_compact(cj);
                struct store_container_new n = {
                        .name = name,
                        .image_id = img->id,
                        .image_name = o->image,
                        .config = text,
                        .chain_ids = img->chain_ids,
                        .ephemeral = o->auto_remove,
                };
                r = store_container_create(s, &n, ret, err);
        }
        store_unlock(s);
        return r;
}

json_t *runtime_container_config(const struct store_container *c)
{
        return c->config ? json_loads(c->config, 0, NULL) : NULL;
}

char *runtime_container_log_path(const struct runtime_host *h, const struct store_container *c)
{
        return xasprintf("%s/containers/%s/log", store_root(h->store), c->id);
}

uint64_t runtime_proc_start_time(int pid)
{
        if (pid <= 0)
                return 0;
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        const char *p = strrchr(buf, ')');
        /* after "(comm)": state is field 3 (a zombie is gone), starttime field 22 */
        if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
                return 0;
        for (int field = 2; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        return p ? strtoull(p + 1, NULL, 10) : 0;
}

bool runtime_pid_alive(int pid, uint64_t start)
{
        return pid > 0 && start != 0 && runtime_proc_start_time(pid) == start;
}

int64_t runtime_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int runtime_oci_for(const struct runtime_host *h, const struct store_container *c,
                    struct runtime_oci **ret, struct st_error **err)
{
        _cleanup_json_ json_t *cfg = runtime_container_config(c);
        const char *name = json_get_str(json_object_get(cfg, "HostConfig"), "Runtime");
        if (!name || !*name)
                name = "runc";
        const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
        _cleanup_free_ char *state = xasprintf("%s/run/%s", store_root(h->store), base);
        return runtime_oci_new(name, h->search_path, state, ret, err);
}

/* Remove what a container that is not running may have left: the runtime's state, its
 * cgroups, the mount. */
int runtime_cleanup_leftovers(const struct runtime_host *h, const struct store_container *c,
                              struct st_error **err)
{
        _cleanup_(runtime_oci_freep) struct runtime_oci *rt = NULL;
        if (runtime_oci_for(h, c, &rt, NULL) >= 0) {
                _cleanup_free_ char *state = xasprintf("%s/%s", rt->state_root, c->id);
                if (access(state, F_OK) == 0)
                        (void)runtime_oci_delete(rt, c->id, true, NULL);
        }
        runtime_cgroup_remove(c->id);
        _cleanup_free_ char *merged =
                xasprintf("%s/containers/%s/merged", store_root(h->store), c->id);
        return runtime_overlay_unmount(merged, err);
}

int runtime_container_reload(const struct runtime_host *h, struct store_container *c,
                             struct st_error **err)
{
        _cleanup_store_container_ struct store_container *n = NULL;
        int r = store_container_lookup(h->store, c->id, &n, err);
        if (r < 0)
                return r;
        struct store_container tmp = *c;
        *c = *n;
        *n = tmp;
        return 0;
}

/* A "created" container that nobody is starting (its lock is free) but whose rootfs is mounted
 * is what a start killed before it recorded "running" leaves: the mount and the runtime's state,
 * with the container's init waiting to be started. Remove them. */
static void clean_killed_start(const struct runtime_host *h, const struct store_container *c)
{
        _cleanup_free_ char *dir = store_container_dir(h->store, c->id);
        _cleanup_free_ char *merged = xasprintf("%s/merged", dir);
        if (!runtime_is_mountpoint(merged))
                return;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                return;
        (void)runtime_cleanup_leftovers(h, c, NULL);
}

int runtime_container_refresh(const struct runtime_host *h, struct store_container *c,
                              struct st_error **err)
{
        if (c->state == STORE_CONTAINER_CREATED)
                clean_killed_start(h, c);
        if (c->state != STORE_CONTAINER_RUNNING ||
            runtime_pid_alive(c->monitor_pid, c->monitor_start))
                return 0;
        /* the monitor is gone; unless it recorded the end just now, nobody will */
        int r = runtime_container_reload(h, c, err);
        if (r < 0 || c->state != STORE_CONTAINER_RUNNING)
                return r < 0 ? r : 1;
        if (runtime_pid_alive(c->monitor_pid, c->monitor_start))
                return 0;
        /* a process nobody waits for (its monitor or build was killed) would run on, holding
         * its mount: kill it; runc's forced delete below waits for it */
        if (runtime_pid_alive(c->pid, c->pid_start))
                (void)kill(c->pid, SIGKILL);
        (void)runtime_cleanup_leftovers(h, c, NULL);
        c->state = STORE_CONTAINER_EXITED;
        c->exit_code = 255;
        c->pid = 0;
        c->monitor_pid = 0;
        c->finished_at = runtime_now_ns();
        free(c->error);
        c->error = xstrdup("the process waiting for the container is gone: exit status unknown");
        r = store_container_update(h->store, c, err);
        return r < 0 ? r : 1;
}

int runtime_container_kill(const struct runtime_host *h, struct store_container *c, int sig,
                           struct st_error **err)
{
        int r = runtime_container_refresh(h, c, err);
        if (r < 0)
                return r;
        if (c->state != STORE_CONTAINER_RUNNING)
                return st_error_set(err, ST_E_NOT_RUNNING, "container %s is not running", c->id);
        _cleanup_(runtime_oci_freep) struct runtime_oci *rt = NULL;
        r = runtime_oci_for(h, c, &rt, err);
        if (r >= 0)
                r = runtime_oci_kill(rt, c->id, sig, err);
        if (r == ST_E_NOT_RUNNING && err && *err) {
                *err = st_error_free(*err);
                return st_error_set(err, r, "container %s is not running", c->id);
        }
        return r;
}

static void sleep_ms(int ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Wait until C is recorded as not running, up to TIMEOUT_MS (< 0: forever). 1 if it stopped,
 * 0 on timeout; ST_E_NOT_FOUND if it was removed. */
static int wait_not_running(const struct runtime_host *h, struct store_container *c, int timeout_ms,
                            struct st_error **err)
{
        for (int waited = 0;; waited += POLL_MS) {
                int r = runtime_container_reload(h, c, err);
                if (r >= 0)
                        r = runtime_container_refresh(h, c, err);
                if (r < 0)
                        return r;
                if (c->state != STORE_CONTAINER_RUNNING)
                        return 1;
                if (timeout_ms >= 0 && waited >= timeout_ms)
                        return 0;
                sleep_ms(POLL_MS);
        }
}

int runtime_container_stop(const struct runtime_host *h, struct store_container *c, int timeout_sec,
                           struct st_error **err)
{
        int r = runtime_container_refresh(h, c, err);
        if (r < 0 || c->state != STORE_CONTAINER_RUNNING)
                return r < 0 ? r : 0;
        _cleanup_json_ json_t *cfg = runtime_container_config(c);
        const char *ss = json_get_str(json_object_get(cfg, "Config"), "StopSignal");
        int sig = SIGTERM;
        if (ss && runtime_signal_parse(ss, &sig) < 0)
                sig = SIGTERM;
        if (timeout_sec < 0)
                timeout_sec = 10;
        _cleanup_error_ struct st_error *kerr = NULL;
        r = runtime_container_kill(h, c, sig, &kerr);
        if (r < 0 && r != ST_E_NOT_RUNNING)
                return st_error_set(err, r, "%s", st_error_msg(kerr));
        /* the process first (the monitor records the end a moment later) */
        for (int waited = 0; waited < timeout_sec * 1000; waited += POLL_MS) {
                if (!runtime_pid_alive(c->pid, c->pid_start))
                        break;
                sleep_ms(POLL_MS);
        }
        if (runtime_pid_alive(c->pid, c->pid_start)) {
                kerr = st_error_free(kerr);
                r = runtime_container_kill(h, c, SIGKILL, &kerr);
                if (r < 0 && r != ST_E_NOT_RUNNING)
                        return st_error_set(err, r, "%s", st_error_msg(kerr));
        }
        r = wait_not_running(h, c, 30000, err);
        if (r == 0)
                return st_error_set(err, ST_E_RUNTIME,
                                    "container %.12s did not stop: its monitor did not record the"
                                    " end",
                                    c->id);
        return r < 0 ? r : 0;
}

int runtime_container_wait(const struct runtime_host *h, const char *id, int *ret_code,
                           struct st_error **err)
{
        _cleanup_store_container_ struct store_container *c = NULL;
        int r = store_container_lookup(h->store, id, &c, err);
        if (r >= 0)
                r = wait_not_running(h, c, -1, err);
        if (r < 0)
                return r;
        *ret_code = c->exit_code;
        return 0;
}

int runtime_container_remove(const struct runtime_host *h, struct store_container *c, bool force,
                             struct st_error **err)
{
        /* the container's lock: not while a start is under way (see start.c) */
        _cleanup_free_ char *dir = store_container_dir(h->store, c->id);
        _cleanup_close_ int lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        while (lock >= 0 && flock(lock, LOCK_EX) < 0 && errno == EINTR)
                ;
        _cleanup_error_ struct st_error *gone = NULL;
        int r = runtime_container_reload(h, c, &gone);
        if (r == ST_E_NOT_FOUND)
                return 0; /* removed meanwhile (its monitor, for --rm) */
        if (r >= 0)
                r = runtime_container_refresh(h, c, err);
        else
                st_error_set(err, r, "%s", st_error_msg(gone));
        if (r < 0)
                return r;
        if (c->state == STORE_CONTAINER_RUNNING) {
                if (!force)
                        return st_error_set(err, ST_E_IN_USE,
                                            "You cannot remove a running container %s. Stop the"
                                            " container before attempting removal or force remove",
                                            c->id);
                _cleanup_error_ struct st_error *kerr = NULL;
                (void)runtime_container_kill(h, c, SIGKILL, &kerr);
                _cleanup_error_ struct st_error *werr = NULL;
                r = wait_not_running(h, c, 30000, &werr);
                if (r == ST_E_NOT_FOUND)
                        return 0; /* its monitor removed it (--rm) */
                if (r < 0)
                        return st_error_set(err, r, "%s", st_error_msg(werr));
                if (r == 0)
                        return st_error_set(err, ST_E_RUNTIME, "container %.12s did not stop",
                                            c->id);
        }
        r = runtime_cleanup_leftovers(h, c, err);
        if (r < 0)
                return r;
        return store_container_delete(h->store, c->id, err);
}

int runtime_container_reap(const struct runtime_host *h, const char *image_name,
                           struct st_error **err)
{
        struct store_container **l = NULL;
        size_t n = 0;
        int r = store_container_list(h->store, &l, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                struct store_container *c = l[i];
                if (!streq(c->image_name, image_name) ||
                    runtime_pid_alive(c->monitor_pid, c->monitor_start))
                        continue;
                (void)runtime_container_remove(h, c, true, NULL);
        }
        store_container_list_free(l, n);
        return 0;
}
