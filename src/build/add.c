/* ADD's local archives: a source file whose (decompressed) start is a tar header is extracted
 * into dest, as Docker decides it (go-archive's DecompressStream + tar.Reader.Next). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/util.h"
#include "build/copy-internal.h"
#include "compress/compress.h"

#define TAR_BLOCK 512

/* bzip2 ("BZh1".."BZh9" then a block or end-of-stream magic) or xz, strictly: a text file
 * that happens to start with "BZh" is not refused. */
static const char *unsupported_compression(const unsigned char *b, size_t n)
{
        if (n >= 10 && memcmp(b, "BZh", 3) == 0 && b[3] >= '1' && b[3] <= '9' &&
            (memcmp(b + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0 ||
             memcmp(b + 4, "\x17\x72\x45\x38\x50\x90", 6) == 0))
                return "bzip2";
        if (n >= 6 && memcmp(b,
                             "\xfd"
                             "7zXZ\x00",
                             6) == 0)
                return "xz";
        return NULL;
}

static bool parse_octal(const unsigned char *f, size_t n, uint64_t *ret)
{
        size_t i = 0;
        while (i < n && (f[i] == ' ' || f[i] == 0))
                i++;
        size_t end = n;
        while (end > i && (f[end - 1] == ' ' || f[end - 1] == 0))
                end--;
        if (i == end)
                return false;
        uint64_t v = 0;
        for (; i < end; i++) {
                if (f[i] < '0' || f[i] > '7')
                        return false;
                v = v * 8 + (uint64_t)(f[i] - '0');
        }
        *ret = v;
        return true;
}

/* A tar header block: not all zeros, and its checksum (unsigned or signed sum, as Go's
 * archive/tar accepts) right. */
static bool tar_header_ok(const unsigned char *b)
{
        uint64_t want;
        if (!parse_octal(b + 148, 8, &want))
                return false;
        uint64_t u = 0;
        int64_t s = 0;
        for (size_t i = 0; i < TAR_BLOCK; i++) {
                unsigned char c = i >= 148 && i < 156 ? ' ' : b[i];
                u += c;
                s += (signed char)c;
        }
        return want == u || (int64_t)want == s;
}

int add_is_archive(int fd, const char *name, struct st_error **err)
{
        unsigned char head[16];
        ssize_t n = pread(fd, head, sizeof(head), 0);
        if (n < 0)
                return st_error_set_errno(err, -errno, "ADD failed: read '%s'", name);
        const char *other = unsupported_compression(head, (size_t)n);
        if (other)
                return st_error_set(err, ST_E_UNSUPPORTED,
                                    "ADD failed: '%s' is %s-compressed: extracting bzip2 and xz "
                                    "archives is not supported",
                                    name, other);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return st_error_set_errno(err, -errno, "ADD failed: seek '%s'", name);
        _cleanup_reader_ struct st_reader *raw = st_fd_reader_new(fd);
        _cleanup_reader_ struct st_reader *dr = NULL;
        _cleanup_error_ struct st_error *ignored = NULL;
        if (decompress_reader_new(raw, 0, &dr, &ignored) < 0)
                return 0;
        unsigned char block[TAR_BLOCK];
        size_t got = 0;
        while (got < sizeof(block)) {
                ssize_t k = st_reader_read(dr, block + got, sizeof(block) - got);
                if (k <= 0)
                        return 0; /* short or undecodable: not an archive, copied as is */
                got += (size_t)k;
        }
        return tar_header_ok(block) ? 1 : 0;
}

int add_extract(const struct copy_plan *p, int fd, int dirfd, const char *name,
                uint64_t *ret_entries, struct st_error **err)
{
        if (lseek(fd, 0, SEEK_SET) < 0)
                return st_error_set_errno(err, -errno, "ADD failed: seek '%s'", name);
        _cleanup_reader_ struct st_reader *raw = st_fd_reader_new(fd);
        _cleanup_reader_ struct st_reader *dr = NULL;
        int r = decompress_reader_new(raw, 0, &dr, err);
        if (r < 0)
                return st_error_wrap(err, "ADD failed: '%s'", name);
        struct archive_apply_opts opts = {
                .max_entries = copy_max_entries(),
                .no_whiteouts = true,
                .keep_root_meta = true,
                .set_owner = p->chown,
                .uid = p->uid,
                .gid = p->gid,
        };
        struct archive_apply_stats st;
        r = archive_layer_apply(dr, dirfd, &opts, &st, err);
        if (r < 0)
                return st_error_wrap(err, "ADD failed: extract '%s'", name);
        *ret_entries = st.entries;
        return 0;
}
