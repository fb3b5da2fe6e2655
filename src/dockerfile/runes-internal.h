/* Unicode helpers shared by expand.c and ignore.c (this folder only). Docker's expansion and
 * .dockerignore code is Go: it reads text as runes, turning each invalid UTF-8 byte into U+FFFD,
 * and classifies them with Go's unicode package. These helpers do the same on byte strings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUNE_EOF   (-1)
#define RUNE_ERROR 0xFFFD
#define RUNE_BOM   0xFEFF

struct rune_range {
        uint32_t lo, hi;
};

/* Decode the rune at S (LEN > 0 bytes available) as Go's utf8.DecodeRune: an invalid or
 * truncated sequence yields RUNE_ERROR with width 1. Stores the width in *RET_WIDTH. */
int32_t rune_decode(const char *s, size_t len, size_t *ret_width);

/* Encode R as UTF-8 into OUT (room for 4 bytes), as Go's utf8.AppendRune (invalid runes become
 * U+FFFD); returns the number of bytes written. */
size_t rune_encode(int32_t r, char *out);

/* Go's unicode.IsSpace, IsLetter and IsDigit. */
bool rune_is_space(int32_t r);
bool rune_is_letter(int32_t r);
bool rune_is_digit(int32_t r);

/* Decode LEN bytes of S into a newly allocated rune array (caller frees), stored in *RET with
 * its length in *RET_N. With SKIP_BOM, a leading U+FEFF is dropped as Go's text/scanner does.
 * If RET_OFFSETS is non-NULL it receives the byte offset of every rune plus one final entry
 * equal to LEN (caller frees). */
void runes_decode(const char *s, size_t len, bool skip_bom, int32_t **ret, size_t *ret_n,
                  size_t **ret_offsets);
