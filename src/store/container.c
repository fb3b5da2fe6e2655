/* Container records: a row in `containers` (+ `container_layers`) and ROOT/containers/<id>/. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "store/store-internal.h"

static const char *const state_names[_STORE_CONTAINER_STATE_MAX] = {
        [STORE_CONTAINER_CREATED] = "created",
        [STORE_CONTAINER_RUNNING] = "running",
        [STORE_CONTAINER_EXITED] = "exited",
};

const char *store_container_state_to_string(enum store_container_state s)
{
        if (s < 0 || s >= _STORE_CONTAINER_STATE_MAX)
                return NULL;
        return state_names[s];
}

enum store_container_state store_container_state_from_string(const char *s)
{
        for (size_t i = 0; s && i < ELEMENTSOF(state_names); i++)
                if (streq(s, state_names[i]))
                        return (enum store_container_state)i;
        return _STORE_CONTAINER_STATE_INVALID;
}

/* A few of Docker's namesgenerator words. */
static const char *const adjectives[] = {
        "admiring", "agitated", "amazing",   "blissful", "bold",     "brave",    "busy",
        "charming", "clever",   "cool",      "dazzling", "eager",    "ecstatic", "elegant",
        "epic",     "festive",  "focused",   "friendly", "gallant",  "gifted",   "happy",
        "hopeful",  "jolly",    "keen",      "kind",     "laughing", "lucid",    "magical",
        "modest",   "nifty",    "nostalgic", "peaceful", "pensive",  "quirky",   "relaxed",
        "serene",   "sharp",    "stoic",     "sweet",    "tender",   "trusting", "vibrant",
        "vigilant", "wizardly", "youthful",  "zealous",
};

static const char *const surnames[] = {
        "agnesi",   "albattani", "allen",   "archimedes", "babbage",  "banach",  "bardeen",
        "bartik",   "bell",      "bohr",    "booth",      "cerf",     "curie",   "darwin",
        "dijkstra", "einstein",  "euclid",  "euler",      "fermat",   "feynman", "galileo",
        "gauss",    "goldberg",  "goodall", "hamilton",   "hawking",  "hopper",  "hypatia",
        "johnson",  "kepler",    "knuth",   "lamarr",     "lovelace", "mayer",   "meitner",
        "newton",   "noether",   "pascal",  "poincare",   "ritchie",  "shannon", "thompson",
        "torvalds", "turing",    "wing",    "wozniak",
};

static char *random_name(void)
{
        uint32_t r[2] = { 0, 0 };
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
                r[0] = (uint32_t)time(NULL), r[1] = (uint32_t)getpid();
        return xasprintf("%s_%s", adjectives[r[0] % ELEMENTSOF(adjectives)],
                         surnames[r[1] % ELEMENTSOF(surnames)]);
}

/* Docker's restrictedNamePattern: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
static bool name_is_valid(const char *n)
{
        if (!isalnum((unsigned char)n[0]) || !n[1])
                return false;
        for (const char *p = n + 1; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
                        return false;
        return true;
}

char *store_container_dir(const struct store *s, const char *id)
{
        return xasprintf("%s/containers/%s", s->root, id);
}

struct store_container *store_container_free(struct store_container *c)
{
        if (!c)
                return NULL;
        free(c->id);
        free(c->name);
        free(c->image_id);
        free(c->image_name);
        free(c->config);
        strv_free(c->chain_ids);
        free(c->error);
        free(c);
        return NULL;
}

void store_container_list_free(struct store_container **l, size_t n)
{
        for (size_t i = 0; i < n; i++)
                store_container_free(l[i]);
        free(l);
}

static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The container directory, staged in tmp/ and renamed to containers/ID (synced unless
 * EPHEMERAL). */
static int make_dir(struct store *s, const char *id, bool ephemeral, struct st_error **err)
{
        _cleanup_free_ char *stage = NULL;
        int r = store_tmp_mkdir(s, "ctr", &stage, err);
        if (r < 0)
                return r;
        static const char *const subdirs[] = { "upper", "work", "merged" };
        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", stage, subdirs[i]);
                if (mkdir(p, 0755) < 0) {
                        r = st_error_set_errno(err, -errno, "create '%s'", p);
                        (void)rm_rf_at(AT_FDCWD, stage);
                        return r;
                }
        }
        (void)chmod(stage, 0711);
        _cleanup_free_ char *dst = store_container_dir(s, id);
        if (rename(stage, dst) < 0) {
                r = st_error_set_errno(err, -errno, "create '%s'", dst);
                (void)rm_rf_at(AT_FDCWD, stage);
                return r;
        }
        r = ephemeral ? 0 : fsync_dir_at(s->root_fd, "containers");
        if (r < 0)
                return st_error_set_errno(err, r, "sync containers dir");
        return 0;
}

struct insert_ctx {
        const struct store_container_new *n;
        struct store_container *c;
        bool random_name;
};

/* The ID of the container named NAME into *ret_id (NULL if none). */
static int name_owner(struct store *s, const char *name, char **ret_id, struct st_error **err)
{
        _cleanup_strv_ char **ids = NULL;
        int r = db_query_strv(s, "SELECT id FROM containers WHERE name = ?", name, &ids, err);
        if (r < 0)
                return r;
        *ret_id = ids ? xstrdup(ids[0]) : NULL;
        return 0;
}

/* Pick c->name: the given one if free, else a random one that is free. */
static int claim_name(struct store *s, struct insert_ctx *x, struct st_error **err)
{
        for (int tries = 0;; tries++) {
                _cleanup_free_ char *owner = NULL;
                int r = name_owner(s, x->c->name, &owner, err);
                if (r < 0)
                        return r;
                if (!owner)
                        return 0;
                if (!x->random_name)
                        return st_error_set(err, ST_E_IN_USE,
                                            "Conflict. The container name \"/%s\" is already in use"
                                            " by container \"%s\". You have to remove (or rename)"
                                            " that container to be able to reuse that name.",
                                            x->c->name, owner);
                free(x->c->name);
                x->c->name = random_name();
                if (tries >= 8) {
                        char *n = xasprintf("%s%d", x->c->name, tries);
                        free(x->c->name);
                        x->c->name = n;
                }
        }
}

static int insert_in_txn(struct store *s, void *userdata, struct st_error **err)
{
        struct insert_ctx *x = userdata;
        struct store_container *c = x->c;
        int r = claim_name(s, x, err);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = db_prepare(s,
                       "INSERT INTO containers (id, name, image_id, image_name, config, created,"
                       " state, monitor_pid, monitor_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, c->id);
        db_bind_text(st, 2, c->name);
        db_bind_text(st, 3, c->image_id);
        db_bind_text(st, 4, c->image_name);
        db_bind_text(st, 5, c->config);
        sqlite3_bind_int64(st, 6, c->created);
        db_bind_text(st, 7, store_container_state_to_string(c->state));
        sqlite3_bind_int(st, 8, c->monitor_pid);
        sqlite3_bind_int64(st, 9, (sqlite3_int64)c->monitor_start);
        r = db_step_done(s, st, err);
        for (size_t i = 0; r >= 0 && c->chain_ids && c->chain_ids[i]; i++) {
                _cleanup_stmt_ sqlite3_stmt *li = NULL;
                r = db_prepare(s,
                               "INSERT INTO container_layers (container_id, idx, chain_id)"
                               " VALUES (?, ?, ?)",
                               &li, err);
                if (r < 0)
                        return r;
                db_bind_text(li, 1, c->id);
                sqlite3_bind_int64(li, 2, (sqlite3_int64)i);
                db_bind_text(li, 3, c->chain_ids[i]);
                r = db_step_done(s, li, err);
        }
        return r;
}

int store_container_create(struct store *s, const struct store_container_new *n,
                           struct store_container **ret, struct st_error **err)
{
        const char *name = n->name && n->name[0] == '/' ? n->name + 1 : n->name;
        if (name && !name_is_valid(name))
                return st_error_set(err, ST_E_USAGE,
                                    "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-]"
                                    " are allowed",
                                    name);
        int r = store_lock(s, false, err);
        if (r < 0)
                return r;
        _cleanup_store_container_ struct store_container *c = xcalloc(1, sizeof(*c));
        char id[65];
        r = random_hex(id, 32);
        if (r < 0)
                return st_error_set_errno(err, r, "random");
        c->id = xstrdup(id);
        c->name = name ? xstrdup(name) : random_name();
        c->image_id = xstrdup(n->image_id);
        c->image_name = xstrdup(n->image_name);
        c->config = xstrdup(n->config);
        c->chain_ids = strv_copy(n->chain_ids);
        c->created = now_ns();
        c->state = STORE_CONTAINER_CREATED;
        c->monitor_pid = n->monitor_pid;
        c->monitor_start = n->monitor_start;
        r = make_dir(s, id, n->ephemeral, err);
        if (r < 0)
                return r;
        struct insert_ctx x = { .n = n, .c = c, .random_name = !name };
        /* an ephemeral container is not worth the WAL's fsync (and SQLite's fsync of the store
         * dir that comes with a process's first one): ~6 ms of every `run --rm` and RUN step.
         * After a power loss its row may be gone and its dir an orphan that gc removes. */
        db_set_durable(s, !n->ephemeral);
        r = store_transaction(s, insert_in_txn, &x, err);
        db_set_durable(s, true);
        if (r < 0) {
                _cleanup_free_ char *dir = store_container_dir(s, id);
                (void)store_remove_path(s, dir, NULL);
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

#define CONTAINER_COLUMNS                                                                \
        "SELECT id, name, image_id, image_name, config, created, state, pid, pid_start," \
        " monitor_pid, monitor_start, exit_code, error, started_at, finished_at FROM"    \
        " containers"

static int load_row(struct store *s, sqlite3_stmt *st, struct store_container **ret,
                    struct st_error **err)
{
        _cleanup_store_container_ struct store_container *c = xcalloc(1, sizeof(*c));
        c->id = db_column_strdup(st, 0);
        c->name = db_column_strdup(st, 1);
        c->image_id = db_column_strdup(st, 2);
        c->image_name = db_column_strdup(st, 3);
        c->config = db_column_strdup(st, 4);
        c->created = sqlite3_column_int64(st, 5);
        c->state = store_container_state_from_string((const char *)sqlite3_column_text(st, 6));
        if (c->state < 0)
                c->state = STORE_CONTAINER_EXITED;
        c->pid = sqlite3_column_int(st, 7);
        c->pid_start = (uint64_t)sqlite3_column_int64(st, 8);
        c->monitor_pid = sqlite3_column_int(st, 9);
        c->monitor_start = (uint64_t)sqlite3_column_int64(st, 10);
        c->exit_code = sqlite3_column_int(st, 11);
        c->error = db_column_strdup(st, 12);
        c->started_at = sqlite3_column_int64(st, 13);
        c->finished_at = sqlite3_column_int64(st, 14);
        int r = db_query_strv(s,
                              "SELECT chain_id FROM container_layers WHERE container_id = ?"
                              " ORDER BY idx",
                              c->id, &c->chain_ids, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

struct container_rows {
        struct store_container **l;
        size_t n;
};

/* A db_row_fn: append the row's object to the struct container_rows USERDATA. */
static int add_container_row(struct store *s, sqlite3_stmt *st, void *userdata,
                             struct st_error **err)
{
        struct container_rows *rows = userdata;
        struct store_container *o = NULL;
        int r = load_row(s, st, &o, err);
        if (r < 0)
                return r;
        rows->l = xrealloc(rows->l, sizeof(*rows->l) * (rows->n + 1));
        rows->l[rows->n++] = o;
        return 0;
}

static int query_containers(struct store *s, const char *where, const char *arg,
                            struct store_container ***ret, size_t *ret_n, struct st_error **err)
{
        _cleanup_free_ char *sql = xasprintf(CONTAINER_COLUMNS " %s", where);
        struct container_rows rows = { 0 };
        int r = db_query_each(s, sql, arg, add_container_row, &rows, "list containers", err);
        if (r < 0) {
                store_container_list_free(rows.l, rows.n);
                return r;
        }
        *ret = rows.l;
        *ret_n = rows.n;
        return 0;
}

int store_container_list(struct store *s, struct store_container ***ret, size_t *ret_n,
                         struct st_error **err)
{
        return query_containers(s, "ORDER BY created DESC", NULL, ret, ret_n, err);
}

/* 1 and *ret set if exactly one container matches, 0 if none. */
static int lookup_one(struct store *s, const char *where, const char *arg, const char *name,
                      struct store_container **ret, struct st_error **err)
{
        struct store_container **l = NULL;
        size_t n = 0;
        int r = query_containers(s, where, arg, &l, &n, err);
        if (r < 0)
                return r;
        if (n > 1) {
                store_container_list_free(l, n);
                return st_error_set(err, ST_E_AMBIGUOUS,
                                    "multiple IDs found with provided prefix: %s", name);
        }
        if (n == 1)
                *ret = l[0];
        free(l);
        return (int)n;
}

static bool is_hex(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

int store_container_lookup(struct store *s, const char *name, struct store_container **ret,
                           struct st_error **err)
{
        int r = 0;
        if (is_hex(name) && strlen(name) == 64)
                r = lookup_one(s, "WHERE id = ?", name, name, ret, err);
        if (r == 0 && *name)
                r = lookup_one(s, "WHERE name = ?", name[0] == '/' ? name + 1 : name, name, ret,
                               err);
        if (r == 0 && is_hex(name)) {
                _cleanup_free_ char *pattern = xasprintf("%s%%", name);
                r = lookup_one(s, "WHERE id LIKE ?", pattern, name, ret, err);
        }
        if (r < 0)
                return r;
        if (r == 0)
                return st_error_set(err, ST_E_NOT_FOUND, "No such container: %s", name);
        return 0;
}

int store_container_update(struct store *s, const struct store_container *c, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s,
                           "UPDATE containers SET state = ?, pid = ?, pid_start = ?,"
                           " monitor_pid = ?, monitor_start = ?, exit_code = ?, error = ?,"
                           " started_at = ?, finished_at = ? WHERE id = ?",
                           &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, store_container_state_to_string(c->state));
        sqlite3_bind_int(st, 2, c->pid);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)c->pid_start);
        sqlite3_bind_int(st, 4, c->monitor_pid);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)c->monitor_start);
        sqlite3_bind_int(st, 6, c->exit_code);
        db_bind_text(st, 7, c->error);
        sqlite3_bind_int64(st, 8, c->started_at);
        sqlite3_bind_int64(st, 9, c->finished_at);
        db_bind_text(st, 10, c->id);
        /* A container's run state means nothing after a power loss (every process is gone and
         * `ps` refreshes it), so its change is not waited for on disk: in WAL mode, synchronous
         * NORMAL still commits atomically and in order, it only skips the fsync. */
        bool lazy = sqlite3_get_autocommit(s->db); /* not inside a caller's transaction */
        if (lazy)
                db_set_durable(s, false);
        r = db_step_done(s, st, err);
        if (lazy)
                db_set_durable(s, true);
        if (r < 0)
                return st_error_wrap(err, "record the state of container %.12s", c->id);
        if (sqlite3_changes(s->db) == 0)
                return st_error_set(err, ST_E_NOT_FOUND, "No such container: %s", c->id);
        return 0;
}

/* True if DIR/merged is a mount point (its device differs from DIR's). */
static bool rootfs_mounted(const char *dir)
{
        _cleanup_free_ char *merged = xasprintf("%s/merged", dir);
        struct stat a, b;
        if (stat(dir, &a) < 0 || stat(merged, &b) < 0)
                return false;
        return a.st_dev != b.st_dev;
}

static int delete_rows(struct store *s, void *userdata, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s, "DELETE FROM containers WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, userdata);
        return db_step_done(s, st, err);
}

int store_container_delete_ephemeral(struct store *s, const char *id, struct st_error **err)
{
        db_set_durable(s, false);
        int r = store_container_delete(s, id, err);
        db_set_durable(s, true);
        return r;
}

int store_container_delete(struct store *s, const char *id, struct st_error **err)
{
        _cleanup_free_ char *dir = store_container_dir(s, id);
        if (rootfs_mounted(dir))
                return st_error_set(err, ST_E_IN_USE,
                                    "container %.12s: its root filesystem is still mounted", id);
        _cleanup_error_ struct st_error *first = NULL;
        int r = store_transaction(s, delete_rows, (void *)id, &first);
        if (r == -ENOSPC) {
                /* a full disk (a RUN that filled it) leaves SQLite no room for the deletion:
                 * the writable layer goes first (it is being removed anyway); its space comes
                 * back once the runtime's last reference to the lazily unmounted rootfs is
                 * gone, so try again for up to 2 s */
                _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
                (void)rm_rf_at(AT_FDCWD, upper);
                for (int i = 0; r == -ENOSPC && i < 20; i++) {
                        struct timespec ts = { .tv_nsec = 100 * 1000 * 1000 };
                        (void)nanosleep(&ts, NULL);
                        first = st_error_free(first);
                        r = store_transaction(s, delete_rows, (void *)id, &first);
                }
        }
        if (r < 0) {
                st_error_take(&first, r, err);
                (void)st_error_wrap(err, "remove container %.12s", id);
                return r;
        }
        return store_remove_path(s, dir, err);
}

int store_image_containers(struct store *s, const char *image_id, char ***ret_ids,
                           size_t *ret_running, struct st_error **err)
{
        _cleanup_strv_ char **ids = NULL, **running = NULL;
        int r = db_query_strv(s, "SELECT id FROM containers WHERE image_id = ? ORDER BY created",
                              image_id, &ids, err);
        if (r >= 0)
                r = db_query_strv(s,
                                  "SELECT id FROM containers WHERE image_id = ?"
                                  " AND state = 'running'",
                                  image_id, &running, err);
        if (r < 0)
                return r;
        *ret_ids = TAKE_PTR(ids);
        if (ret_running)
                *ret_running = strv_length(running);
        return 0;
}

struct rename_ctx {
        const char *id, *name;
};

static int rename_in_txn(struct store *s, void *userdata, struct st_error **err)
{
        struct rename_ctx *x = userdata;
        _cleanup_free_ char *owner = NULL;
        int r = name_owner(s, x->name, &owner, err);
        if (r < 0)
                return r;
        if (owner && streq(owner, x->id))
                return st_error_set(err, ST_E_USAGE,
                                    "Renaming a container with the same name as its current name");
        if (owner)
                return st_error_set(err, ST_E_IN_USE,
                                    "Conflict. The container name \"/%s\" is already in use by"
                                    " container \"%s\". You have to remove (or rename) that"
                                    " container to be able to reuse that name.",
                                    x->name, owner);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = db_prepare(s, "UPDATE containers SET name = ? WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        db_bind_text(st, 1, x->name);
        db_bind_text(st, 2, x->id);
        r = db_step_done(s, st, err);
        if (r >= 0 && sqlite3_changes(s->db) == 0)
                return st_error_set(err, ST_E_NOT_FOUND, "No such container: %s", x->id);
        return r;
}

int store_container_rename(struct store *s, const char *id, const char *name, struct st_error **err)
{
        if (name[0] == '/')
                name++;
        if (!name_is_valid(name))
                return st_error_set(err, ST_E_USAGE,
                                    "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-]"
                                    " are allowed",
                                    name);
        struct rename_ctx x = { .id = id, .name = name };
        return store_transaction(s, rename_in_txn, &x, err);
}
