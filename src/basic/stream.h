/* Pull readers and push writers that chain: fd -> hash -> decompress -> tar, one pass,
 * bounded memory. Each implementation embeds the base struct first. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

struct st_reader;
struct st_writer;

typedef ssize_t (*st_read_fn)(struct st_reader *r, void *buf, size_t n);
typedef int (*st_write_fn)(struct st_writer *w, const void *buf, size_t n);
typedef int (*st_close_fn)(struct st_writer *w);
typedef void (*st_reader_free_fn)(struct st_reader *r);
typedef void (*st_writer_free_fn)(struct st_writer *w);

/* A source of bytes. read returns the count (0 at end) or a negative code with err set. */
struct st_reader {
        st_read_fn read;
        st_reader_free_fn free; /* frees the reader itself (not what it wraps); may be NULL */
        struct st_error *err;   /* set by an implementation when read fails */
        uint64_t total;         /* bytes returned so far; maintained by st_reader_read */
};

/* A sink of bytes. write consumes all N bytes or fails; close flushes (e.g. compressor tail). */
struct st_writer {
        st_write_fn write;
        st_close_fn close;      /* may be NULL */
        st_writer_free_fn free; /* may be NULL */
        struct st_error *err;
        uint64_t total; /* bytes accepted so far; maintained by st_writer_write */
};

/* Read up to N bytes from R; returns the count, 0 at end, or a negative code (R->err set). */
ssize_t st_reader_read(struct st_reader *r, void *buf, size_t n);

/* Write N bytes to W; 0 or a negative code (W->err set). */
int st_writer_write(struct st_writer *w, const void *buf, size_t n);

/* Flush W's tail (if it has one); 0 or a negative code. */
int st_writer_close(struct st_writer *w);

/* Copy everything from R to W; returns 0 or a negative code; errors are moved into *err. */
int st_copy(struct st_reader *r, struct st_writer *w, struct st_error **err);

/* Free R through its free function and R->err; NULL-safe. */
void st_reader_free(struct st_reader *r);

/* Free W through its free function and W->err; NULL-safe. */
void st_writer_free(struct st_writer *w);

/* A reader over FD (not owned: the caller closes it); caller frees the reader. */
struct st_reader *st_fd_reader_new(int fd);

/* A reader over a memory buffer (borrowed, must outlive the reader). */
struct st_reader *st_mem_reader_new(const void *buf, size_t len);

/* A writer to FD (not owned); caller frees the writer. */
struct st_writer *st_fd_writer_new(int fd);

/* st_fd_writer_new for a file that will be fsynced: every 8 MiB written, the kernel's writeback
 * of them is started (sync_file_range), so the final fsync waits for little. */
struct st_writer *st_fd_writer_new_writeback(int fd);

/* Start the writeback of LEN bytes of FD at OFF to the disk, without waiting for it. */
void st_start_writeback(int fd, uint64_t off, uint64_t len);

/* A writer that discards everything (counts bytes in total). */
struct st_writer *st_null_writer_new(void);

/* Move R's or W's error into *err (wrapping nothing); returns the code. */
int st_error_take(struct st_error **from, int code, struct st_error **err);

static inline void st_reader_freep(struct st_reader **r)
{
        st_reader_free(*r);
}

static inline void st_writer_freep(struct st_writer **w)
{
        st_writer_free(*w);
}

#define _cleanup_reader_ _cleanup_(st_reader_freep)
#define _cleanup_writer_ _cleanup_(st_writer_freep)

/* A reader that passes INNER's bytes (borrowed) through and writes each chunk to TEE (borrowed)
 * as it goes; a failing TEE fails the read. */
struct st_reader *st_tee_reader_new(struct st_reader *inner, struct st_writer *tee);

/* A reader that reads INNER (borrowed) ahead on a thread of its own, into up to 1 MiB of
 * buffers, so that INNER's chain (socket, hashes, decompression) runs while the caller works
 * on what it got. The thread starts at the first read. INNER must not be used by anyone else
 * until st_readahead_reader_stop (or free) has returned; that waits for a read in progress.
 * INNER's error comes out of this reader's read once the bytes before it are consumed. */
struct st_reader *st_readahead_reader_new(struct st_reader *inner);

/* Stop R's thread and wait for it (NULL-safe; also done by st_reader_free). */
void st_readahead_reader_stop(struct st_reader *r);
