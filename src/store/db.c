#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "basic/util.h"
#include "store/store-internal.h"

/* Each entry migrates from user_version == index to index + 1. */
static const char *const migrations[] = {
        "CREATE TABLE layers ("
        "  chain_id TEXT PRIMARY KEY,"
        "  diff_id TEXT NOT NULL,"
        "  parent TEXT REFERENCES layers(chain_id),"
        "  size INTEGER NOT NULL,"
        "  tree_digest TEXT,"
        "  added INTEGER NOT NULL);"
        "CREATE TABLE layer_blobs ("
        "  digest TEXT PRIMARY KEY,"
        "  diff_id TEXT NOT NULL,"
        "  media_type TEXT NOT NULL,"
        "  size INTEGER NOT NULL);"
        "CREATE INDEX layer_blobs_diff ON layer_blobs(diff_id);"
        "CREATE TABLE images ("
        "  id TEXT PRIMARY KEY,"
        "  manifest_digest TEXT,"
        "  manifest_media_type TEXT,"
        "  created INTEGER NOT NULL,"
        "  added INTEGER NOT NULL);"
        "CREATE TABLE image_layers ("
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  idx INTEGER NOT NULL,"
        "  chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
        "  PRIMARY KEY (image_id, idx));"
        "CREATE INDEX image_layers_chain ON image_layers(chain_id);"
        "CREATE TABLE image_blobs ("
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  digest TEXT NOT NULL,"
        "  PRIMARY KEY (image_id, digest));"
        "CREATE INDEX image_blobs_digest ON image_blobs(digest);"
        "CREATE TABLE tags ("
        "  name TEXT PRIMARY KEY,"
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  added INTEGER NOT NULL);"
        "CREATE INDEX tags_image ON tags(image_id);"
        "CREATE TABLE repo_digests ("
        "  name TEXT NOT NULL,"
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  PRIMARY KEY (name, image_id));",
        /* 2: containers. image_id has no foreign key: `rmi -f` may remove the image while a
         * stopped container still uses its layers, which container_layers keeps. */
        "CREATE TABLE containers ("
        "  id TEXT PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  image_id TEXT NOT NULL,"
        "  image_name TEXT NOT NULL,"
        "  config TEXT NOT NULL,"
        "  created INTEGER NOT NULL,"
        "  state TEXT NOT NULL,"
        "  pid INTEGER NOT NULL DEFAULT 0,"
        "  pid_start INTEGER NOT NULL DEFAULT 0,"
        "  monitor_pid INTEGER NOT NULL DEFAULT 0,"
        "  monitor_start INTEGER NOT NULL DEFAULT 0,"
        "  exit_code INTEGER NOT NULL DEFAULT 0,"
        "  error TEXT,"
        "  started_at INTEGER NOT NULL DEFAULT 0,"
        "  finished_at INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX containers_image ON containers(image_id);"
        "CREATE TABLE container_layers ("
        "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
        "  idx INTEGER NOT NULL,"
        "  chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
        "  PRIMARY KEY (container_id, idx));"
        "CREATE INDEX container_layers_chain ON container_layers(chain_id);",
        /* 3: where blobs are known to exist remotely, for cross-repository mounts on push */
        "CREATE TABLE blob_sources ("
        "  digest TEXT NOT NULL,"
        "  registry TEXT NOT NULL,"
        "  repository TEXT NOT NULL,"
        "  added INTEGER NOT NULL,"
        "  PRIMARY KEY (digest, registry, repository));",
        /* 4: the build cache: a step's key to the layer it made, or a build's key to its image.
         * Its layers and blobs are live for gc (store_build_cache_prune drops the rows). */
        "CREATE TABLE build_cache ("
        "  key TEXT PRIMARY KEY,"
        "  chain_id TEXT,"
        "  diff_id TEXT,"
        "  digest TEXT,"
        "  media_type TEXT,"
        "  blob_size INTEGER NOT NULL DEFAULT 0,"
        "  size INTEGER NOT NULL DEFAULT 0,"
        "  created TEXT,"
        "  created_by TEXT,"
        "  image_id TEXT,"
        "  added INTEGER NOT NULL);"
        "CREATE INDEX build_cache_chain ON build_cache(chain_id);"
        "CREATE INDEX build_cache_digest ON build_cache(digest);",
        /* 5: the build's stat cache: a context file as stat sees it to its content digest */
        "CREATE TABLE stat_cache ("
        "  path TEXT PRIMARY KEY,"
        "  dev INTEGER NOT NULL,"
        "  ino INTEGER NOT NULL,"
        "  size INTEGER NOT NULL,"
        "  mtime_ns INTEGER NOT NULL,"
        "  ctime_ns INTEGER NOT NULL,"
        "  digest TEXT NOT NULL);",
        /* 6: the build cache's last use (LRU trimming), and per build step (Dockerfile, stage,
         * instruction) the key and a JSON description of the inputs it last had, which
         * `build --explain` compares a cache miss against */
        "ALTER TABLE build_cache ADD COLUMN used INTEGER NOT NULL DEFAULT 0;"
        "UPDATE build_cache SET used = added;"
        "CREATE INDEX build_cache_used ON build_cache(used);"
        "CREATE TABLE build_steps ("
        "  step TEXT PRIMARY KEY,"
        "  key TEXT NOT NULL,"
        "  inputs TEXT NOT NULL,"
        "  used INTEGER NOT NULL);",
};

int db_error(struct store *s, int rc, const char *what, struct st_error **err)
{
        int primary = rc & 0xff;
        int code = primary == SQLITE_FULL   ? -ENOSPC
                   : primary == SQLITE_BUSY ? -EBUSY
                                            : ST_E_CORRUPT;
        if (code == -ENOSPC) /* the words every other full-disk error uses */
                return st_error_set(err, code, "database: %s: No space left on device", what);
        return st_error_set(err, code, "database: %s: %s", what,
                            s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

void db_set_durable(struct store *s, bool durable)
{
        (void)sqlite3_exec(s->db, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                           NULL, NULL, NULL);
}

int db_exec(struct store *s, const char *sql, struct st_error **err)
{
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return db_error(s, rc, "exec", err);
        return 0;
}

#define STMT_CACHE 64

struct db_stmt {
        char *sql;
        sqlite3_stmt *st;
        bool in_use;
};

/* The open stores, to find a statement's cache from the statement alone (its connection). */
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store **stores;
static size_t n_stores;

static void stores_add(struct store *s)
{
        pthread_mutex_lock(&stores_lock);
        stores = xrealloc(stores, (n_stores + 1) * sizeof(*stores));
        stores[n_stores++] = s;
        pthread_mutex_unlock(&stores_lock);
}

static void stores_remove(struct store *s)
{
        pthread_mutex_lock(&stores_lock);
        for (size_t i = 0; i < n_stores; i++)
                if (stores[i] == s) {
                        stores[i] = stores[--n_stores];
                        break;
                }
        if (n_stores == 0) {
                free(stores);
                stores = NULL;
        }
        pthread_mutex_unlock(&stores_lock);
}

static struct store *store_of(sqlite3 *db)
{
        struct store *s = NULL;
        pthread_mutex_lock(&stores_lock);
        for (size_t i = 0; i < n_stores && !s; i++)
                if (stores[i]->db == db)
                        s = stores[i];
        pthread_mutex_unlock(&stores_lock);
        return s;
}

int db_prepare(struct store *s, const char *sql, sqlite3_stmt **ret, struct st_error **err)
{
        for (size_t i = 0; i < s->n_stmts; i++) {
                struct db_stmt *c = &s->stmts[i];
                if (!c->in_use && streq(c->sql, sql)) {
                        c->in_use = true;
                        *ret = c->st;
                        return 0;
                }
        }
        int rc = sqlite3_prepare_v3(
                s->db, sql, -1, s->n_stmts < STMT_CACHE ? SQLITE_PREPARE_PERSISTENT : 0, ret, NULL);
        if (rc != SQLITE_OK)
                return db_error(s, rc, "prepare", err);
        if (s->n_stmts < STMT_CACHE) {
                if (!s->stmts)
                        s->stmts = xcalloc(STMT_CACHE, sizeof(*s->stmts));
                s->stmts[s->n_stmts++] = (struct db_stmt){ xstrdup(sql), *ret, true };
        }
        return 0;
}

void db_stmt_release(sqlite3_stmt *st)
{
        struct store *s = store_of(sqlite3_db_handle(st));
        for (size_t i = 0; s && i < s->n_stmts; i++) {
                struct db_stmt *c = &s->stmts[i];
                if (c->st == st) {
                        (void)sqlite3_reset(st);
                        (void)sqlite3_clear_bindings(st);
                        c->in_use = false;
                        return;
                }
        }
        sqlite3_finalize(st);
}

void db_close(struct store *s)
{
        if (!s->db)
                return;
        stores_remove(s);
        for (size_t i = 0; i < s->n_stmts; i++) {
                if (!s->stmts[i].in_use) /* one still held is finalized when released */
                        sqlite3_finalize(s->stmts[i].st);
                free(s->stmts[i].sql);
        }
        free(s->stmts);
        s->stmts = NULL;
        s->n_stmts = 0;
        sqlite3_close_v2(s->db);
        s->db = NULL;
}

int db_step_done(struct store *s, sqlite3_stmt *st, struct st_error **err)
{
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return db_error(s, rc, "step", err);
        return 0;
}

void db_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
        if (v)
                sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, idx);
}

char *db_column_strdup(sqlite3_stmt *st, int col)
{
        const unsigned char *t = sqlite3_column_text(st, col);
        return t ? xstrdup((const char *)t) : NULL;
}

/* A db_row_fn: append the first column to the strv USERDATA points to. */
static int add_string_row(struct store *s, sqlite3_stmt *st, void *userdata, struct st_error **err)
{
        (void)s;
        (void)err;
        strv_consume(userdata, db_column_strdup(st, 0) ?: xstrdup(""));
        return 0;
}

int db_query_strv(struct store *s, const char *sql, const char *arg, char ***ret,
                  struct st_error **err)
{
        _cleanup_strv_ char **l = NULL;
        int r = db_query_each(s, sql, arg, add_string_row, &l, "query", err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

int db_query_each(struct store *s, const char *sql, const char *arg, db_row_fn row, void *userdata,
                  const char *what, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s, sql, &st, err);
        if (r < 0)
                return r;
        if (arg)
                db_bind_text(st, 1, arg);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = row(s, st, userdata, err);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return db_error(s, rc, what, err);
        return 0;
}

static int migrate(struct store *s, struct st_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(s, "PRAGMA user_version", &st, err);
        if (r < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW)
                return db_error(s, SQLITE_ERROR, "read schema version", err);
        int v = sqlite3_column_int(st, 0);
        if (v > (int)ELEMENTSOF(migrations))
                return st_error_set(err, ST_E_UNSUPPORTED,
                                    "database schema version %d is newer than this strata (%zu)", v,
                                    ELEMENTSOF(migrations));
        for (; v < (int)ELEMENTSOF(migrations); v++) {
                _cleanup_free_ char *sql = xasprintf("BEGIN IMMEDIATE; %s PRAGMA user_version=%d;"
                                                     " COMMIT;",
                                                     migrations[v], v + 1);
                r = db_exec(s, sql, err);
                if (r < 0) {
                        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
                        return st_error_wrap(err, "migrate to schema %d", v + 1);
                }
        }
        return 0;
}

#define WAL_PAGES 64

int db_open(struct store *s, struct st_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/strata.db", s->root);
        int rc = sqlite3_open_v2(path, &s->db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 NULL);
        if (rc != SQLITE_OK)
                return db_error(s, rc, "open", err);
        stores_add(s);
        sqlite3_busy_timeout(s->db, 60000);
        /* Keep the WAL between processes: the last close neither checkpoints (two fsyncs and
         * a rewrite of the pages per command) nor deletes it. But the first connection of a
         * process rebuilds the WAL's index by reading every frame of it (SQLite trusts no
         * index that nobody held open), so writers checkpoint every WAL_PAGES pages instead
         * of SQLite's 1000: a cached rebuild reads at most ~256 KiB of WAL, not 4 MiB. */
        int one = 1;
        (void)sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
        (void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        int r = db_exec(
                s,
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                " PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=" STRINGIFY(WAL_PAGES) ";",
                err);
        if (r < 0)
                return r;
        return migrate(s, err);
}

int store_transaction(struct store *s, store_txn_fn f, void *userdata, struct st_error **err)
{
        int r = db_exec(s, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return r;
        r = f(s, userdata, err);
        if (r >= 0)
                r = db_exec(s, "COMMIT", err);
        if (r < 0)
                (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}
