/* Build small tar archives in memory with libarchive's writer (pax), for the archive tests. */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TB_CAP (16u << 20)

struct tb {
        struct archive *a;
        char *buf;
        size_t used;
};

static inline void tb_init(struct tb *t)
{
        t->buf = malloc(TB_CAP);
        t->used = 0;
        t->a = archive_write_new();
        archive_write_set_format_pax(t->a);
        archive_write_set_bytes_per_block(t->a, 512);
        if (!t->buf || archive_write_open_memory(t->a, t->buf, TB_CAP, &t->used) != ARCHIVE_OK)
                abort();
}

/* Finish the archive; t->buf/t->used hold it (caller frees t->buf). */
static inline void tb_finish(struct tb *t)
{
        if (archive_write_close(t->a) != ARCHIVE_OK)
                abort();
        archive_write_free(t->a);
        t->a = NULL;
}

static inline struct archive_entry *tb_entry(const char *name, mode_t type, mode_t perm)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, perm);
        archive_entry_set_mtime(e, 1000000000, 0);
        return e;
}

/* Write E (freed here) with LEN bytes of DATA. */
static inline void tb_write(struct tb *t, struct archive_entry *e, const void *data, size_t len)
{
        if (archive_write_header(t->a, e) < ARCHIVE_WARN)
                abort();
        if (len && archive_write_data(t->a, data, len) != (la_ssize_t)len)
                abort();
        archive_entry_free(e);
}

static inline void tb_file(struct tb *t, const char *name, mode_t perm, const char *content)
{
        struct archive_entry *e = tb_entry(name, AE_IFREG, perm);
        archive_entry_set_size(e, (la_int64_t)strlen(content));
        tb_write(t, e, content, strlen(content));
}

static inline void tb_dir(struct tb *t, const char *name, mode_t perm)
{
        tb_write(t, tb_entry(name, AE_IFDIR, perm), NULL, 0);
}

static inline void tb_symlink(struct tb *t, const char *name, const char *target)
{
        struct archive_entry *e = tb_entry(name, AE_IFLNK, 0777);
        archive_entry_set_symlink(e, target);
        tb_write(t, e, NULL, 0);
}

static inline void tb_hardlink(struct tb *t, const char *name, const char *target)
{
        struct archive_entry *e = tb_entry(name, AE_IFREG, 0644);
        archive_entry_set_hardlink(e, target);
        archive_entry_set_size(e, 0);
        tb_write(t, e, NULL, 0);
}

static inline void tb_node(struct tb *t, const char *name, mode_t type, unsigned maj, unsigned min)
{
        struct archive_entry *e = tb_entry(name, type, 0640);
        archive_entry_set_rdevmajor(e, maj);
        archive_entry_set_rdevminor(e, min);
        tb_write(t, e, NULL, 0);
}
