/* RUN: the command in a throw-away container on the stage's layers; its upper dir becomes
 * the layer. Output goes to the progress callback line by line. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "build/build-internal.h"
#include "json/json.h"
#include "runtime/container.h"
#include "runtime/spec.h"

struct run_step {
        char **argv;
        char **env;  /* the config's Env plus the args in scope */
        char **args; /* "K=V" of the args in scope with a value */
        const char *network;
        bool insecure; /* RUN --security=insecure: privileged, as --privileged */
        char *created_by;
        struct build_mounts mounts;
        char key[DIGEST_STR_LEN + 1];
        json_t *inputs; /* for the step record */
};

static void run_step_release(struct run_step *rs)
{
        strv_free(rs->argv);
        strv_free(rs->env);
        strv_free(rs->args);
        free(rs->created_by);
        build_mounts_release(&rs->mounts);
        json_decref(rs->inputs);
}

static bool kv_has(char *const *l, const char *k)
{
        size_t n = strlen(k);
        for (char *const *p = l; p && *p; p++)
                if (strncmp(*p, k, n) == 0 && (*p)[n] == '=')
                        return true;
        return false;
}

static char **run_argv(const struct build_state *st, const struct dockerfile_instruction *in)
{
        if (in->exec_form)
                return strv_copy(in->args);
        char **l = build_shell(st);
        if (in->n_heredocs == 1 && startswith(in->args[0] ?: "", "<<")) {
                strv_consume(&l, dockerfile_heredoc_text(&in->heredocs[0]));
                return l;
        }
        strv_push(&l, in->args[0] ?: "");
        return l;
}

static int run_prepare(struct builder *b, struct build_state *st,
                       const struct dockerfile_instruction *in, struct run_step *rs,
                       struct st_error **err)
{
        rs->network = b->o->network ?: "host";
        const struct dockerfile_flag *net = dockerfile_instruction_flag(in, "network");
        if (net)
                rs->network = streq(net->value ?: "", "default") ? "host" : net->value ?: "";
        if (!streq(rs->network, "host") && !streq(rs->network, "none"))
                return st_error_set(err, ST_E_UNSUPPORTED, "RUN --network=%s is not supported",
                                    rs->network);
        const struct dockerfile_flag *sec = dockerfile_instruction_flag(in, "security");
        rs->insecure = sec && streq(sec->value ?: "", "insecure");
        if (rs->insecure && !b->o->allow_insecure)
                return st_error_set(err, ST_E_DENIED,
                                    "RUN --security=insecure: granting entitlement "
                                    "security.insecure is not allowed (pass --allow "
                                    "security.insecure to strata build)");
        int r = build_mounts_parse(b, st, in, &rs->mounts, err);
        if (r < 0)
                return r;
        rs->argv = run_argv(st, in);
        rs->env = build_state_env(st);
        STRV_FOREACH(a, st->args) {
                if (!strchr(*a, '='))
                        continue;
                _cleanup_free_ char *k = xstrndup(*a, strcspn(*a, "="));
                if (!dockerfile_plan_is_proxy_arg(k))
                        strv_push(&rs->args, *a);
                if (!kv_has(rs->env, k)) /* ENV wins over ARG */
                        strv_push(&rs->env, *a);
        }
        rs->created_by = build_run_created_by(rs->argv, rs->args);
        const json_t *c = image_config_container(st->cfg);
        _cleanup_strv_ char **parts = NULL;
        strv_push(&parts, rs->created_by);
        STRV_FOREACH(e, rs->env)
                strv_push(&parts, *e);
        strv_consume(&parts, xasprintf("user=%s", json_get_str(c, "User") ?: ""));
        strv_consume(&parts, xasprintf("workdir=%s", json_get_str(c, "WorkingDir") ?: ""));
        strv_consume(&parts, xasprintf("network=%s", rs->network));
        if (rs->insecure) /* only then: the keys of every other RUN stay as they were */
                strv_push(&parts, "security=insecure");
        STRV_FOREACH(m, rs->mounts.key_parts)
                strv_push(&parts, *m);
        build_cache_key(st->key, parts, rs->key);
        _cleanup_free_ char *text = xstrdup("RUN");
        STRV_FOREACH(a, rs->argv) {
                char *n = xasprintf("%s %s", text, *a);
                free(text);
                text = n;
        }
        rs->inputs = build_inputs_new(b, st, text);
        json_set_str(rs->inputs, "network", rs->network);
        if (rs->insecure)
                json_set_str(rs->inputs, "security", "insecure");
        json_t *mounts = json_array();
        STRV_FOREACH(m, rs->mounts.key_parts)
                json_array_append_new(mounts, json_string(*m));
        json_object_set_new(rs->inputs, "mounts", mounts);
        return 0;
}

/* ----- the output ----- */

struct reader {
        struct builder *b;
        int fd;
};

static void *read_output(void *userdata)
{
        struct reader *rd = userdata;
        FILE *f = fdopen(rd->fd, "r");
        if (!f) {
                safe_close(rd->fd);
                return NULL;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) >= 0) {
                if (n > 0 && line[n - 1] == '\n')
                        line[n - 1] = 0;
                build_emit(rd->b, BUILD_EVENT_OUTPUT, line);
        }
        free(line);
        fclose(f);
        return NULL;
}

/* ----- the container ----- */

static int make_container(struct builder *b, struct build_state *st, struct run_step *rs,
                          struct store_container **ret, struct st_error **err)
{
        _cleanup_json_ json_t *ic = json_deep_copy(image_config_container(st->cfg));
        json_object_del(ic, "Volumes");
        json_object_del(ic, "Healthcheck");
        json_object_del(ic, "OnBuild");
        json_object_set_new(ic, "Env", json_array());
        STRV_FOREACH(e, rs->env)
                json_array_append_new(json_object_get(ic, "Env"), json_string(*e));
        struct runtime_options o = {
                .image = BUILD_CONTAINER_IMAGE,
                .cmd = rs->argv,
                .entrypoint = "",
                .network = rs->network,
                .binds = rs->mounts.binds,
                .tmpfs = rs->mounts.tmpfs,
                .privileged = rs->insecure,
        };
        _cleanup_json_ json_t *cj = NULL;
        int r = runtime_config_new(ic, &o, b->o->envp, &cj, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = json_dump_compact(cj);
        _cleanup_strv_ char **chain = NULL;
        for (size_t i = 0; i < st->n_layers; i++)
                strv_push(&chain, st->layers[i].chain_id);
        struct store_container_new n = {
                .image_id = st->key,
                .image_name = BUILD_CONTAINER_IMAGE,
                .config = text,
                .chain_ids = chain,
                .monitor_pid = (int)getpid(),
                .monitor_start = runtime_proc_start_time((int)getpid()),
                .ephemeral = true,
        };
        return store_container_create(b->s, &n, ret, err);
}

static int run_container(struct builder *b, struct store_container *c, char *const *secret_env,
                         int *ret_status, struct st_error **err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return st_error_set_errno(err, -errno, "pipe");
        struct reader rd = { .b = b, .fd = p[0] };
        pthread_t t;
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old); /* the reader must not take SIGCHLD */
        int e = pthread_create(&t, NULL, read_output, &rd);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (e != 0) {
                safe_close(p[0]);
                safe_close(p[1]);
                return st_error_set_errno(err, -e, "thread");
        }
        struct runtime_host h = { .store = b->s,
                                  .search_path = b->o->search_path,
                                  .secret_env = secret_env }; /* never in the store */
        struct runtime_attach a = { .in_fd = -1, .out_fd = p[1], .err_fd = p[1] };
        int r = runtime_container_run(&h, c, &a, ret_status, err);
        safe_close(p[1]);
        pthread_join(t, NULL);
        return r;
}

static size_t depth(const char *p)
{
        size_t n = 0;
        for (; *p; p++)
                n += *p == '/';
        return n;
}

static int cmp_depth(const void *a, const void *b)
{
        const char *x = *(char *const *)a, *y = *(char *const *)b;
        size_t dx = depth(x), dy = depth(y);
        return dx != dy ? (dx < dy ? 1 : -1) : strcmp(x, y);
}

/* The stubs the runtime may create: its own mount points, the mount TARGETS and their
 * parents, deepest first. */
static char **stub_list(char *const *targets)
{
        static const char *const fixed[] = { "etc/hosts", "etc/hostname", "etc/resolv.conf",
                                             "etc",       "proc",         "sys",
                                             "dev" };
        char **l = NULL;
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                strv_push(&l, (char *)fixed[i]);
        for (char *const *t = targets; t && *t; t++) {
                _cleanup_free_ char *p = xstrdup(*t + strspn(*t, "/"));
                while (*p) {
                        strv_push(&l, p);
                        char *s = strrchr(p, '/');
                        if (!s)
                                break;
                        *s = 0;
                }
        }
        qsort(l, strv_length(l), sizeof(*l), cmp_depth);
        return l;
}

/* Whether the topmost lower layer that has PATH has it; its stat into *RET then. A stat
 * error other than ENOENT counts as present (the stub is kept). */
static bool lower_stat(struct builder *b, const struct build_state *st, const char *path,
                       struct stat *ret)
{
        for (size_t k = st->n_layers; k-- > 0;) {
                _cleanup_free_ char *d = store_layer_diff_path(b->s, st->layers[k].chain_id);
                _cleanup_free_ char *p = xasprintf("%s/%s", d, path);
                if (lstat(p, ret) == 0)
                        return true;
                if (errno != ENOENT) {
                        *ret = (struct stat){ 0 };
                        return true;
                }
        }
        return false;
}

static bool is_opaque_dir(int dirfd, const char *name)
{
        _cleanup_close_ int fd =
                openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        char v[2] = { 0 };
        return fd < 0 ||
               (fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y');
}

/* Remove what only the runtime's mount points put into UPPER, as BuildKit does: files and
 * dirs that no lower layer has and that are empty, and dirs a lower layer has that overlay
 * only copied up to hold such a stub (empty, not opaque, same mode and owner as below). */
static void clean_stubs(struct builder *b, const struct build_state *st, const char *upper,
                        char *const *targets)
{
        _cleanup_strv_ char **stubs = stub_list(targets);
        _cleanup_close_ int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (size_t i = 0; ufd >= 0 && stubs[i]; i++) {
                struct stat sb, lb;
                if (fstatat(ufd, stubs[i], &sb, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (lower_stat(b, st, stubs[i], &lb)) {
                        if (S_ISDIR(sb.st_mode) && S_ISDIR(lb.st_mode) &&
                            sb.st_mode == lb.st_mode && sb.st_uid == lb.st_uid &&
                            sb.st_gid == lb.st_gid && !is_opaque_dir(ufd, stubs[i]))
                                (void)unlinkat(ufd, stubs[i], AT_REMOVEDIR); /* only if empty */
                        continue;
                }
                if (S_ISREG(sb.st_mode) && sb.st_size == 0)
                        (void)unlinkat(ufd, stubs[i], 0);
                else if (S_ISDIR(sb.st_mode))
                        (void)unlinkat(ufd, stubs[i], AT_REMOVEDIR); /* fails unless empty */
        }
}

static int run_and_commit(struct builder *b, struct build_state *st, struct run_step *rs,
                          struct st_error **err)
{
        _cleanup_store_container_ struct store_container *c = NULL;
        int status = 0;
        int r = build_mounts_setup(b, st, &rs->mounts, err);
        if (r < 0)
                return r;
        r = make_container(b, st, rs, &c, err);
        if (r < 0)
                return r;
        r = run_container(b, c, rs->mounts.env, &status, err);
        if (r >= 0 && status != 0) {
                _cleanup_free_ char *cmd = NULL;
                STRV_FOREACH(a, rs->argv) {
                        char *n = cmd ? xasprintf("%s %s", cmd, *a) : xstrdup(*a);
                        free(cmd);
                        cmd = n;
                }
                r = st_error_set(err, ST_E_RUNTIME,
                                 "process \"%s\" did not complete successfully: exit code: %d",
                                 cmd ?: "", status);
        }
        _cleanup_free_ char *dir = store_container_dir(b->s, c->id);
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        if (r >= 0) {
                clean_stubs(b, st, upper, rs->mounts.targets);
                r = build_commit_upper(b, st, upper, rs->key, NULL, rs->created_by, err);
        } else {
                /* the step failed, its changes are garbage: free their space before the
                 * database is written (a RUN that filled the disk leaves SQLite no room) */
                (void)rm_rf_at(AT_FDCWD, upper);
        }
        (void)store_container_delete_ephemeral(b->s, c->id, NULL);
        return r;
}

int build_step_run(struct builder *b, struct build_state *st,
                   const struct dockerfile_instruction *in, struct st_error **err)
{
        struct run_step rs = { 0 };
        build_step_begin(b, in->original);
        int r = run_prepare(b, st, in, &rs, err);
        if (r >= 0)
                r = build_cache_try(b, st, rs.key, NULL, rs.created_by, TAKE_PTR(rs.inputs), err);
        if (r == 0)
                r = run_and_commit(b, st, &rs, err);
        run_step_release(&rs);
        if (r != 1)
                build_emit(b, r < 0 ? BUILD_EVENT_ERROR : BUILD_EVENT_DONE, NULL);
        return r;
}
