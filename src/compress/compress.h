/* gzip / zstd / none: detection from the first bytes, streaming decompression and compression.
 * Every byte flows through in bounded memory. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/stream.h"

enum compress_type {
        COMPRESS_NONE,
        COMPRESS_GZIP,
        COMPRESS_ZSTD,
        _COMPRESS_MAX,
        _COMPRESS_INVALID = -EINVAL,
};

/* "none", "gzip", "zstd". */
const char *compress_type_to_string(enum compress_type t);
/* Inverse of compress_type_to_string; _COMPRESS_INVALID for unknown names. */
enum compress_type compress_type_from_string(const char *s);

/* The compression of a stream whose first LEN bytes are BUF (gzip 1f 8b, zstd 28 b5 2f fd;
 * anything else is NONE). Also recognizes bzip2/xz, reported as _COMPRESS_INVALID through
 * ret_other_name if non-NULL ("bzip2", "xz") so callers can say what is unsupported. */
enum compress_type compress_detect(const void *buf, size_t len, const char **ret_other_name);

/* A reader yielding the decompressed bytes of INNER (borrowed), the compression detected from
 * INNER's first bytes (NONE passes bytes through); gzip is inflated by ISA-L when strata is
 * built with it, else zlib. Concatenated gzip members (and zstd frames) are read as one
 * stream. If MAX_OUT is non-zero, producing more than MAX_OUT bytes fails with ST_E_TOO_BIG
 * (bomb guard). Truncated or corrupt input fails with ST_E_PARSE, bzip2/xz with
 * ST_E_UNSUPPORTED (both on the first read, when the type is detected); bytes after the last
 * gzip member that are not another member are corrupt input. Caller frees the reader. */
int decompress_reader_new(struct st_reader *inner, uint64_t max_out, struct st_reader **ret,
                          struct st_error **err);

/* The type a decompress reader detected (valid after its first read). */
enum compress_type decompress_reader_type(struct st_reader *r);

/* A writer that compresses with TYPE at LEVEL (0 = the type's default: 6 for gzip, 3 for zstd)
 * into INNER (borrowed). gzip is libdeflate on one worker thread per online CPU, written as a
 * series of gzip members (1 MiB blocks, incompressible 16 KiB pieces stored), the same bytes
 * for any thread count (docs/compression.md); zstd gets a frame checksum and 2 worker threads
 * when libzstd has them. st_writer_close writes the tail but does not close INNER. Caller frees
 * the writer. */
struct st_writer *compress_writer_new(enum compress_type type, int level, struct st_writer *inner);
