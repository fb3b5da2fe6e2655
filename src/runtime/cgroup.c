/* A container's cgroups after its runtime is gone: runc makes "strata/ID" in every hierarchy
 * (relative to its own cgroup there) and removes them on delete, but a runc killed at the wrong
 * moment leaves them behind, empty. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "runtime/runtime-internal.h"

/* Whether every controller of the comma-separated LIST is one of the comma-separated OPTS. */
static bool controllers_in(const char *list, const char *opts)
{
        _cleanup_strv_ char **want = strv_split(list, ",");
        _cleanup_strv_ char **have = strv_split(opts, ",");
        STRV_FOREACH(w, want)
                if (!strv_contains(have, *w))
                        return false;
        return true;
}

/* This process's cgroup path in the hierarchy of a mount of TYPE ("cgroup2", or "cgroup" with
 * super options OPTS), from the lines of /proc/self/cgroup; NULL if it is in none. */
static const char *own_path(char **self, const char *type, const char *opts)
{
        STRV_FOREACH(l, self) {
                char *ctl = strchr(*l, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;
                if (!path)
                        continue;
                _cleanup_free_ char *list = xstrndup(ctl + 1, (size_t)(path - ctl - 1));
                bool v2 = !*list;
                if (v2 ? streq(type, "cgroup2")
                       : streq(type, "cgroup") && controllers_in(list, opts))
                        return path + 1;
        }
        return NULL;
}

void runtime_cgroup_remove(const char *id)
{
        _cleanup_free_ char *cg = NULL, *mi = NULL;
        size_t len;
        if (read_full_file_at(AT_FDCWD, "/proc/self/cgroup", 64 * 1024, &cg, &len) < 0 ||
            read_full_file_at(AT_FDCWD, "/proc/self/mountinfo", 1024 * 1024, &mi, &len) < 0)
                return;
        _cleanup_strv_ char **self = strv_split(cg, "\n");
        _cleanup_strv_ char **mounts = strv_split(mi, "\n");
        STRV_FOREACH(m, mounts) {
                /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS…] - TYPE SOURCE SUPEROPTS */
                _cleanup_strv_ char **f = strv_split(*m, " ");
                size_t n = strv_length(f), dash = 6;
                while (dash < n && !streq(f[dash], "-"))
                        dash++;
                if (dash + 3 >= n ||
                    !(streq(f[dash + 1], "cgroup") || streq(f[dash + 1], "cgroup2")))
                        continue;
                const char *opts = f[dash + 3];
                const char *own = own_path(self, f[dash + 1], opts);
                if (!own)
                        continue;
                /* our path is relative to the hierarchy's root; the mount shows ROOT of it */
                const char *root = f[3];
                if (!streq(root, "/")) {
                        if (!startswith(own, root))
                                continue;
                        own += strlen(root);
                }
                _cleanup_free_ char *dir =
                        xasprintf("%s%s/strata/%s", f[4], streq(own, "/") ? "" : own, id);
                (void)rmdir(dir); /* gone already, or busy: nothing to do */
        }
}
