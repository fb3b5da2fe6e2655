/* The host's devices, for --privileged (Docker gives a privileged container all of them). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/util.h"
#include "runtime/runtime-internal.h"

#define DEVICES_MAX 4096
#define DEPTH_MAX   8

/* Directories of /dev that are not devices of the host (mounted per container or virtual). */
static bool skipped(const char *name)
{
        static const char *const skip[] = { "pts",  "shm",         "fd",   "mqueue",
                                            ".lxc", ".lxd-mounts", ".udev" };
        for (size_t i = 0; i < ELEMENTSOF(skip); i++)
                if (streq(name, skip[i]))
                        return true;
        return false;
}

static void walk(int dfd, const char *path, unsigned depth, json_t *out)
{
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return;
        }
        struct dirent *e;
        while ((e = readdir(d)) && json_array_size(out) < DEVICES_MAX) {
                if (streq(e->d_name, ".") || streq(e->d_name, "..") || skipped(e->d_name))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", path, e->d_name);
                if (S_ISDIR(st.st_mode) && depth < DEPTH_MAX) {
                        int sub = openat(dirfd(d), e->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                walk(sub, p, depth + 1, out);
                        continue;
                }
                if ((!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) || streq(p, "/dev/console"))
                        continue;
                json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "path",
                                                     p, "type", S_ISCHR(st.st_mode) ? "c" : "b",
                                                     "major", (json_int_t)major(st.st_rdev),
                                                     "minor", (json_int_t)minor(st.st_rdev),
                                                     "fileMode", (json_int_t)(st.st_mode & 0777),
                                                     "uid", (json_int_t)st.st_uid, "gid",
                                                     (json_int_t)st.st_gid));
        }
}

json_t *runtime_host_devices(void)
{
        json_t *out = json_array();
        int fd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
                walk(fd, "/dev", 0, out);
        return out;
}
