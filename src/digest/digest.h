/* sha256 digests as "sha256:<64 hex>": parsing, hashing buffers, and hashing streams. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"
#include "basic/stream.h"

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex, without NUL */

/* True if S is "sha256:" followed by exactly 64 lower-case hex digits. */
bool digest_is_valid(const char *s);

/* Validate S as a digest; ST_E_PARSE with a message naming S otherwise. */
int digest_check(const char *s, struct st_error **err);

/* The 64-hex part of a valid digest S (borrowed from S). */
const char *digest_hex(const char *s);

/* "sha256:<hex>" of LEN bytes of BUF into OUT (DIGEST_STR_LEN + 1 bytes). */
void digest_buf(const void *buf, size_t len, char *out);

struct digest_ctx;

/* A new incremental sha256; caller frees with digest_ctx_free. */
struct digest_ctx *digest_ctx_new(void);
/* Feed LEN bytes. */
void digest_ctx_update(struct digest_ctx *c, const void *buf, size_t len);
/* Write "sha256:<hex>" of everything fed so far into OUT (DIGEST_STR_LEN + 1 bytes); the context
 * stays usable for further finals of the same data. */
void digest_ctx_final(struct digest_ctx *c, char *out);
/* Free C; NULL-safe. */
void digest_ctx_free(struct digest_ctx *c);

/* A reader that hashes everything read through it from INNER (borrowed). */
struct st_reader *digest_reader_new(struct st_reader *inner);
/* The digest of what R (a digest reader) has returned so far, into OUT. */
void digest_reader_final(struct st_reader *r, char *out);

/* A writer that hashes everything written and passes it to INNER (borrowed; may be NULL). */
struct st_writer *digest_writer_new(struct st_writer *inner);
/* The digest of what W (a digest writer) has accepted so far, into OUT. */
void digest_writer_final(struct st_writer *w, char *out);

/* Hash the whole file at FD (from its current offset) into OUT; ret_size gets its length. */
int digest_fd(int fd, char *out, uint64_t *ret_size, struct st_error **err);
