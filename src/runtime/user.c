/* -u name|uid[:group|gid] against the rootfs's /etc/passwd and /etc/group, as libcontainer's
 * user.GetExecUser resolves it. */
#include <errno.h>
#include <string.h>

#include "basic/util.h"
#include "runtime/spec.h"

#define MAX_ID 2147483647

/* Field I (0-based) of the ':'-separated LINE, copied; NULL if absent. */
static char *field(const char *line, size_t i)
{
        const char *p = line;
        for (; i > 0; i--) {
                p = strchr(p, ':');
                if (!p)
                        return NULL;
                p++;
        }
        return xstrndup(p, strcspn(p, ":"));
}

/* A decimal ID in 0..MAX_ID; -EINVAL otherwise. */
static int parse_id(const char *s, uint32_t *ret)
{
        uint64_t v;
        if (!s || parse_u64(s, &v) < 0 || v > MAX_ID)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

/* Call F on each non-empty, non-comment line of TEXT until it returns > 0. */
static int for_each_line(const char *text, int (*f)(const char *line, void *u), void *u)
{
        for (const char *p = text; p && *p;) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = xstrndup(p, n);
                p += n + (p[n] == '\n');
                if (!line[0] || line[0] == '#')
                        continue;
                int r = f(line, u);
                if (r != 0)
                        return r;
        }
        return 0;
}

struct user_match {
        const char *name; /* match by name, or */
        uint32_t uid;     /* by uid when name is NULL */
        bool found;
        char *user_name;
        uint32_t found_uid, gid;
        char *home;
};

static int match_user(const char *line, void *u)
{
        struct user_match *m = u;
        _cleanup_free_ char *name = field(line, 0), *uid_s = field(line, 2),
                            *gid_s = field(line, 3), *home = field(line, 5);
        uint32_t uid, gid;
        if (parse_id(uid_s, &uid) < 0 || parse_id(gid_s, &gid) < 0)
                return 0;
        if (m->name ? !streq(m->name, name) : uid != m->uid)
                return 0;
        m->found = true;
        m->user_name = TAKE_PTR(name);
        m->found_uid = uid;
        m->gid = gid;
        m->home = home && *home ? TAKE_PTR(home) : xstrdup("/");
        return 1;
}

struct group_match {
        const char *group; /* explicit group: by name, or */
        bool by_gid;       /* by gid */
        uint32_t gid;
        const char *member; /* implicit: the groups listing this user */
        uint32_t *gids;
        size_t n;
};

static bool lists_member(const char *members, const char *name)
{
        for (const char *p = members; p && *p;) {
                size_t n = strcspn(p, ",");
                if (n == strlen(name) && strncmp(p, name, n) == 0)
                        return true;
                p += n + (p[n] == ',');
        }
        return false;
}

static int match_group(const char *line, void *u)
{
        struct group_match *m = u;
        _cleanup_free_ char *name = field(line, 0), *gid_s = field(line, 2),
                            *members = field(line, 3);
        uint32_t gid;
        if (parse_id(gid_s, &gid) < 0)
                return 0;
        bool hit = m->group ? (m->by_gid ? gid == m->gid : streq(name, m->group))
                            : lists_member(members, m->member);
        if (!hit)
                return 0;
        m->gids = xrealloc(m->gids, sizeof(uint32_t) * (m->n + 1));
        m->gids[m->n++] = gid;
        return m->group ? 1 : 0; /* explicit: first match wins */
}

static int resolve_user(const char *user_arg, const char *passwd, struct runtime_user *u,
                        char **ret_matched, struct st_error **err)
{
        uint32_t uid = 0;
        bool numeric = parse_id(user_arg, &uid) >= 0;
        struct user_match m = { .name = numeric ? NULL : user_arg, .uid = uid };
        if (!*user_arg)
                m.name = NULL, m.uid = 0;
        (void)for_each_line(passwd, match_user, &m);
        if (m.found) {
                u->uid = m.found_uid;
                u->gid = m.gid;
                free(u->home);
                u->home = m.home;
                *ret_matched = m.user_name;
                return 0;
        }
        if (*user_arg && !numeric)
                return st_error_set(err, ST_E_NOT_FOUND,
                                    "unable to find user %s: no matching entries in passwd file",
                                    user_arg);
        u->uid = uid;
        return 0;
}

static int resolve_groups(const char *group_arg, const char *matched, const char *group,
                          struct runtime_user *u, struct st_error **err)
{
        if (!*group_arg && !matched)
                return 0;
        struct group_match m = { .group = *group_arg ? group_arg : NULL, .member = matched };
        m.by_gid = m.group && parse_id(group_arg, &m.gid) >= 0;
        (void)for_each_line(group, match_group, &m);
        if (!*group_arg) {
                u->additional_gids = m.gids;
                u->n_additional_gids = m.n;
                return 0;
        }
        if (m.n > 0)
                u->gid = m.gids[0];
        free(m.gids);
        if (m.n > 0)
                return 0;
        if (!m.by_gid)
                return st_error_set(err, ST_E_NOT_FOUND,
                                    "unable to find group %s: no matching entries in group file",
                                    group_arg);
        u->gid = m.gid;
        return 0;
}

int runtime_user_resolve(const char *spec, const char *passwd, const char *group,
                         struct runtime_user *ret, struct st_error **err)
{
        const char *colon = strchr(spec ? spec : "", ':');
        _cleanup_free_ char *user_arg =
                spec ? xstrndup(spec, colon ? (size_t)(colon - spec) : strlen(spec)) : xstrdup("");
        const char *group_arg = colon ? colon + 1 : "";
        struct runtime_user u = { .home = xstrdup("/") };
        _cleanup_free_ char *matched = NULL;
        int r = resolve_user(user_arg, passwd, &u, &matched, err);
        if (r >= 0)
                r = resolve_groups(group_arg, matched, group, &u, err);
        if (r < 0) {
                runtime_user_release(&u);
                return r;
        }
        *ret = u;
        return 0;
}

void runtime_user_release(struct runtime_user *u)
{
        free(u->additional_gids);
        free(u->home);
        *u = (struct runtime_user){ 0 };
}
