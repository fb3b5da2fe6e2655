/* Internals of src/compress, shared by its files and its unit tests. */
#pragma once

#include <stdbool.h>

#include "basic/stream.h"

/* The uncompressed size of the blocks gzip_writer_new compresses independently. Fixed: the output
 * bytes depend on it, so changing it changes every layer digest strata produces. */
#define GZ_BLOCK (1024 * 1024)

/* Within a block, each GZ_SUB-sized piece that looks incompressible (a near-uniform byte
 * histogram and no repeats within deflate's window) is stored, not compressed; runs of such
 * pieces, and the runs between them, are members of their own. Fixed, like GZ_BLOCK. */
#define GZ_SUB (16 * 1024)

/* A gzip writer at LEVEL (1-12, libdeflate's scale, which matches zlib's for 1-9; anything else
 * is 6) that compresses GZ_BLOCK-sized blocks on THREADS workers (0 = one per online CPU) into
 * INNER (borrowed), in order: one gzip member per block, or one per run of stored pieces and
 * per run of compressed pieces in it. The same input gives the same bytes
 * for any THREADS. st_writer_close writes the rest but does not close INNER. Caller frees. */
struct st_writer *gzip_writer_new(int level, int threads, struct st_writer *inner);

/* The number of online CPUs, at least 1 and at most 64. */
int gzip_online_threads(void);

/* Whether gzip input is inflated by ISA-L (true when strata was built with it) or zlib. */
bool decompress_gzip_isal(void);

/* Pick zlib even when ISA-L is built in (tests run both); returns the previous choice. */
bool decompress_gzip_set_isal(bool on);
