#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "store/store-internal.h"
#include "store/store.h"
#include "tap.h"

/* A small tar in memory: dir a/, file a/f with CONTENT, symlink l -> a/f. Caller frees. */
static char *make_tar(const char *content, size_t *ret_len)
{
        size_t cap = 64 * 1024, used = 0;
        char *buf = xmalloc(cap);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        archive_write_open_memory(a, buf, cap, &used);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "a");
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        archive_write_header(a, e);
        archive_entry_clear(e);
        archive_entry_set_pathname(e, "a/f");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)strlen(content));
        archive_write_header(a, e);
        archive_write_data(a, content, strlen(content));
        archive_entry_clear(e);
        archive_entry_set_pathname(e, "l");
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, "a/f");
        archive_write_header(a, e);
        archive_entry_free(e);
        archive_write_close(a);
        archive_write_free(a);
        *ret_len = used;
        return buf;
}

static struct store *open_store(void)
{
        _cleanup_free_ char *root = xasprintf("%s/root", tap_tmpdir);
        struct store *s = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        if (store_open(root, &s, &e) < 0)
                printf("# store_open: %s\n", st_error_msg(e));
        return s;
}

static int import(struct store *s, const char *content, const char *tag, char *id)
{
        size_t len = 0;
        _cleanup_free_ char *tar = make_tar(content, &len);
        struct st_reader *r = st_mem_reader_new(tar, len);
        char *tags[] = { (char *)tag, NULL };
        struct store_import_opts o = { .source = "-", .tags = tag ? tags : NULL };
        _cleanup_error_ struct st_error *e = NULL;
        int q = store_import(s, r, &o, id, &e);
        if (q < 0)
                printf("# store_import: %s\n", st_error_msg(e));
        st_reader_free(r);
        return q;
}

TEST(import_lookup_and_layer_dir)
{
        _cleanup_store_ struct store *s = open_store();
        ASSERT_TRUE(s);
        char id[DIGEST_STR_LEN + 1];
        ASSERT_OK(import(s, "hello\n", "docker.io/library/x:latest", id));
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_store_image_ struct store_image *img = NULL;
        ASSERT_OK_E(store_image_lookup(s, "x", &img, &e), e);
        ASSERT_STREQ(img->id, id);
        ASSERT_EQ(strv_length(img->chain_ids), 1);
        ASSERT_EQ(img->size, 6);
        _cleanup_free_ char *diff = store_layer_diff_path(s, img->chain_ids[0]);
        _cleanup_free_ char *f = xasprintf("%s/a/f", diff);
        _cleanup_free_ char *buf = NULL;
        ASSERT_OK(read_full_file_at(AT_FDCWD, f, 100, &buf, NULL));
        ASSERT_STREQ(buf, "hello\n");
        /* short ID prefix, full hex, sha256: form */
        _cleanup_store_image_ struct store_image *a = NULL, *b = NULL;
        char prefix[8];
        memcpy(prefix, id + 7, 7);
        prefix[7] = 0;
        ASSERT_OK_E(store_image_lookup(s, prefix, &a, &e), e);
        ASSERT_OK_E(store_image_lookup(s, id, &b, &e), e);
        ASSERT_STREQ(a->id, id);
        ASSERT_STREQ(b->id, id);
}

TEST(missing_and_invalid_names)
{
        _cleanup_store_ struct store *s = open_store();
        _cleanup_error_ struct st_error *e = NULL, *e2 = NULL;
        _cleanup_store_image_ struct store_image *img = NULL;
        ASSERT_ERR(store_image_lookup(s, "nope", &img, &e), ST_E_NOT_FOUND);
        ASSERT_STREQ(st_error_msg(e), "No such image: nope");
        ASSERT_ERR(store_image_lookup(s, "Bad:Name:x", &img, &e2), ST_E_NOT_FOUND);
}

TEST(shared_layer_and_gc)
{
        _cleanup_store_ struct store *s = open_store();
        char a[DIGEST_STR_LEN + 1], b[DIGEST_STR_LEN + 1], c[DIGEST_STR_LEN + 1];
        ASSERT_OK(import(s, "same\n", "docker.io/library/a:latest", a));
        ASSERT_OK(import(s, "same\n", "docker.io/library/b:latest", b));
        ASSERT_OK(import(s, "other\n", NULL, c));
        _cleanup_error_ struct st_error *e = NULL;
        struct store_image **l = NULL;
        size_t n = 0;
        ASSERT_OK_E(store_image_list(s, &l, &n, &e), e);
        store_image_list_free(l, n);
        ASSERT_EQ(n, 3);
        ASSERT_OK_E(store_image_delete(s, a, &e), e);
        struct store_gc_stats st;
        ASSERT_OK_E(store_gc(s, &st, &e), e);
        ASSERT_EQ(st.layers_removed, 0); /* b still uses it */
        ASSERT_OK_E(store_image_delete(s, b, &e), e);
        ASSERT_OK_E(store_image_delete(s, c, &e), e);
        ASSERT_OK_E(store_gc(s, &st, &e), e);
        ASSERT_EQ(st.layers_removed, 2);
        struct store_check_report rep;
        ASSERT_OK_E(store_check(s, false, &rep, &e), e);
        ASSERT_TRUE(!rep.problems);
        ASSERT_EQ(rep.blobs_checked, 0);
        store_check_report_release(&rep);
}

TEST(check_finds_corruption)
{
        _cleanup_store_ struct store *s = open_store();
        char id[DIGEST_STR_LEN + 1];
        ASSERT_OK(import(s, "data\n", "docker.io/library/x:latest", id));
        _cleanup_free_ char *p = store_blob_path(s, id);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(write_full(fd, "x", 1));
        _cleanup_error_ struct st_error *e = NULL;
        struct store_check_report rep;
        ASSERT_OK_E(store_check(s, false, &rep, &e), e);
        ASSERT_EQ(strv_length(rep.problems), 1);
        store_check_report_release(&rep);
        ASSERT_OK_E(store_check(s, true, &rep, &e), e);
        store_check_report_release(&rep);
        ASSERT_OK_E(store_check(s, false, &rep, &e), e);
        ASSERT_TRUE(!rep.problems);
        ASSERT_EQ(rep.images_checked, 0);
        store_check_report_release(&rep);
}

TEST(schema_version)
{
        _cleanup_store_ struct store *s = open_store();
        ASSERT_TRUE(s);
        s = store_close(s);
        /* reopening runs no migration twice */
        s = open_store();
        ASSERT_TRUE(s);
}

TEST(containers_create_lookup_update_delete)
{
        _cleanup_store_ struct store *s = open_store();
        char id[DIGEST_STR_LEN + 1];
        ASSERT_OK(import(s, "c\n", "docker.io/library/x:latest", id));
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_store_image_ struct store_image *img = NULL;
        ASSERT_OK_E(store_image_lookup(s, "x", &img, &e), e);
        struct store_container_new n = { .name = "web",
                                         .image_id = img->id,
                                         .image_name = "x",
                                         .config = "{}",
                                         .chain_ids = img->chain_ids };
        _cleanup_store_container_ struct store_container *c = NULL, *c2 = NULL, *c3 = NULL;
        ASSERT_OK_E(store_container_create(s, &n, &c, &e), e);
        ASSERT_EQ(strlen(c->id), 64);
        ASSERT_EQ(c->state, STORE_CONTAINER_CREATED);
        /* the name is taken; a random one is not */
        ASSERT_ERR(store_container_create(s, &n, &c2, &e), ST_E_IN_USE);
        ASSERT_TRUE(strstr(st_error_msg(e), "is already in use"));
        e = st_error_free(e);
        n.name = "-bad";
        ASSERT_ERR(store_container_create(s, &n, &c2, &e), ST_E_USAGE);
        e = st_error_free(e);
        n.name = NULL;
        ASSERT_OK_E(store_container_create(s, &n, &c2, &e), e);
        ASSERT_TRUE(strchr(c2->name, '_'));
        /* lookup by name, '/name', full ID, prefix */
        const char *names[] = { "web", "/web", c->id };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_store_container_ struct store_container *f = NULL;
                ASSERT_OK_E(store_container_lookup(s, names[i], &f, &e), e);
                ASSERT_STREQ(f->id, c->id);
                ASSERT_EQ(strv_length(f->chain_ids), 1);
        }
        ASSERT_ERR(store_container_lookup(s, "nope", &c3, &e), ST_E_NOT_FOUND);
        ASSERT_STREQ(st_error_msg(e), "No such container: nope");
        e = st_error_free(e);
        /* state round trip */
        c->state = STORE_CONTAINER_EXITED;
        c->exit_code = 3;
        c->finished_at = 42;
        ASSERT_OK_E(store_container_update(s, c, &e), e);
        ASSERT_OK_E(store_container_lookup(s, c->id, &c3, &e), e);
        ASSERT_EQ(c3->state, STORE_CONTAINER_EXITED);
        ASSERT_EQ(c3->exit_code, 3);
        ASSERT_EQ(c3->finished_at, 42);
        /* the image is in use: its layer survives the image's deletion and gc */
        _cleanup_strv_ char **users = NULL;
        size_t running = 9;
        ASSERT_OK_E(store_image_containers(s, img->id, &users, &running, &e), e);
        ASSERT_EQ(strv_length(users), 2);
        ASSERT_EQ(running, 0);
        ASSERT_OK_E(store_image_delete(s, img->id, &e), e);
        struct store_gc_stats gc;
        ASSERT_OK_E(store_gc(s, &gc, &e), e);
        ASSERT_EQ(gc.layers_removed, 0);
        _cleanup_free_ char *dir = store_container_dir(s, c->id);
        ASSERT_TRUE(access(dir, F_OK) == 0);
        /* deleting both containers frees the layer */
        ASSERT_OK_E(store_container_delete(s, c->id, &e), e);
        ASSERT_OK_E(store_container_delete(s, c2->id, &e), e);
        ASSERT_OK_E(store_container_delete(s, c2->id, &e), e); /* twice is fine */
        ASSERT_TRUE(access(dir, F_OK) < 0);
        ASSERT_OK_E(store_gc(s, &gc, &e), e);
        ASSERT_EQ(gc.layers_removed, 1);
}

TEST(gc_removes_orphan_container_dirs)
{
        _cleanup_store_ struct store *s = open_store();
        _cleanup_free_ char *orphan = xasprintf("%s/root/containers/abc", tap_tmpdir);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, orphan, 0700));
        _cleanup_error_ struct st_error *e = NULL;
        struct store_gc_stats gc;
        ASSERT_OK_E(store_gc(s, &gc, &e), e);
        ASSERT_TRUE(access(orphan, F_OK) < 0);
}

TEST(statement_cache)
{
        _cleanup_free_ char *root = xasprintf("%s/stmts", tap_tmpdir);
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_store_ struct store *s = NULL;
        ASSERT_OK_E(store_open(root, &s, &e), e);
        const char *sql = "SELECT ?1 + 1";
        sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;
        ASSERT_OK_E(db_prepare(s, sql, &a, &e), e);
        ASSERT_OK_E(db_prepare(s, sql, &b, &e), e); /* a is in use: another statement */
        ASSERT_TRUE(a != b);
        sqlite3_bind_int(a, 1, 41);
        ASSERT_EQ(sqlite3_step(a), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_int(a, 0), 42);
        db_stmt_release(a); /* reset, bindings cleared, kept */
        ASSERT_OK_E(db_prepare(s, sql, &c, &e), e);
        ASSERT_TRUE(c == a);
        ASSERT_EQ(sqlite3_step(c), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_type(c, 0), SQLITE_NULL); /* NULL + 1: the old binding is gone */
        db_stmt_release(c);
        db_stmt_release(b);
        /* a statement still held when the store closes is finalized when released */
        ASSERT_OK_E(db_prepare(s, sql, &a, &e), e);
        s = store_close(s);
        db_stmt_release(a);
}
