/* Layer tars: apply a tar stream into a layer directory (safely, whiteouts converted to overlay
 * form), and a deterministic digest of a directory tree (to check layer dirs later). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/cleanup.h"
#include "basic/error.h"
#include "basic/stream.h"

struct archive_apply_opts {
        uint64_t max_bytes;   /* cap on the sum of entry sizes (0 = no cap): bomb guard */
        uint64_t max_entries; /* cap on the number of entries (0 = no cap) */
        bool no_whiteouts;    /* true: keep .wh. files as plain files (rootfs import of a
                                 non-layer tar never has them anyway); false: convert */
        bool keep_root_meta;  /* true: a "./" entry leaves DIRFD's own owner, mode and times
                                 alone (ADD extracting into an existing dir, as Docker's untar) */
        bool set_owner;       /* true: every entry gets UID:GID, not the tar's (ADD --chown) */
        uid_t uid;
        gid_t gid;
        struct archive_crcs *crcs; /* set: the CRC of every file written goes there */
};

struct archive_apply_stats {
        uint64_t entries;
        uint64_t bytes; /* sum of regular file sizes written */
};

/* Apply the uncompressed tar stream TAR (PAX/GNU/ustar) into the directory DIRFD, which should
 * be empty (a staging layer dir). Every path is resolved inside DIRFD (openat2 RESOLVE_IN_ROOT,
 * with a safe fallback): '..' escapes, absolute link targets used as paths, entries through
 * symlinks leaving the root, hardlinks to outside or missing targets are refused with
 * ST_E_UNSAFE naming the entry. Names and symlink targets of 4096+ bytes are refused. Regular
 * files, dirs, symlinks, hardlinks (to a symlink: the symlink itself), char/block devices
 * (skipped where mknod is not permitted, as in a user namespace, as Docker does), fifos; the
 * last entry for a path wins; modes incl. setuid/setgid/sticky, numeric uid/gid, mtimes (dirs fixed
 * up at the end), xattrs (best effort, security.capability included). ".wh.NAME" becomes a 0/0
 * character device NAME; ".wh..wh..opq" sets trusted.overlay.opaque=y on its directory. A truncated
 * or corrupt stream fails with ST_E_PARSE. On failure DIRFD's contents are unspecified: the caller
 * removes the staging dir. ret_stats may be NULL. */
int archive_layer_apply(struct st_reader *tar, int dirfd, const struct archive_apply_opts *opts,
                        struct archive_apply_stats *ret_stats, struct st_error **err);

/* A deterministic "tree2:<sha256 hex>" over the tree at DIRFD into RET_DIGEST (DIGEST_STR_LEN + 1
 * bytes): the sha256 of one record per path (the root "." first, then each directory's entries
 * sorted bytewise, then its subdirectories in that order) with its type, mode, uid, gid, and:
 * for files size, mtime (seconds) and the CRC-32 of the content; for symlinks mtime and target;
 * for devices major/minor (whiteouts are 0/0 char devices); for dirs the overlay opaque marker.
 * Dir sizes and mtimes are left out (they churn). Symlinks are never followed. Used by `system
 * check` to prove a layer dir still matches what was applied: it guards against corruption,
 * the content itself was verified by its digest when it was applied. */
int archive_tree_digest(int dirfd, char *ret_digest, struct st_error **err);

/* archive_tree_digest in the form of the digest LIKE: a "sha256:…" (what stores before the
 * CRC form recorded: file contents by their sha256) or NULL / "tree2:…" (the current form). */
int archive_tree_digest_like(int dirfd, const char *like, char *ret_digest, struct st_error **err);

/* The CRC-32 of regular files by inode, learnt while applying or writing a layer, so that the
 * tree digest of the same dir right after need not read the files again. */
struct archive_crcs;

/* A new, empty set; the caller frees it with archive_crcs_free. */
struct archive_crcs *archive_crcs_new(void);

/* Free C (NULL is fine). */
void archive_crcs_free(struct archive_crcs *c);
DEFINE_CLEANUP_FUNC(struct archive_crcs *, archive_crcs_free)

/* Record that the file DEV:INO has SIZE bytes whose CRC-32 is CRC; with KNOWN false, only forget
 * what was recorded for that inode (a file written in a way whose CRC was not computed). */
void archive_crcs_put(struct archive_crcs *c, dev_t dev, ino_t ino, uint64_t size, uint32_t crc,
                      bool known);

/* Whether C knows the CRC of DEV:INO at SIZE bytes, into *RET_CRC. */
bool archive_crcs_get(const struct archive_crcs *c, dev_t dev, ino_t ino, uint64_t size,
                      uint32_t *ret_crc);

/* archive_tree_digest ("tree2:" form), taking the CRC of files CRCS knows from there. */
int archive_tree_digest_crcs(int dirfd, const struct archive_crcs *crcs, char *ret_digest,
                             struct st_error **err);

struct archive_write_stats {
        uint64_t entries;
        uint64_t bytes; /* sum of regular file sizes */
};

/* Write the layer dir DIRFD (an overlay upper dir or an extracted layer) as an uncompressed tar
 * stream (PAX) to OUT: entries in sorted order without a "./" prefix, owners numeric, modes,
 * mtimes, xattrs (trusted.overlay.* left out), hardlinks within the dir as links; overlay
 * whiteouts (0/0 character devices) become ".wh.NAME" entries and opaque directories
 * (trusted.overlay.opaque=y) get a ".wh..wh..opq" entry, the form every image tool reads.
 * ret_stats may be NULL. */
int archive_layer_write(int dirfd, struct st_writer *out, struct archive_write_stats *ret_stats,
                        struct st_error **err);

/* archive_layer_write with SOURCE_DATE_EPOCH: with EPOCH >= 0, every entry whose mtime is
 * after EPOCH (seconds) gets EPOCH as mtime, in the tar and on the file in DIRFD itself
 * (utimensat, links not followed), so that the dir's tree digest matches the tar; older
 * mtimes stay. EPOCH < 0 is archive_layer_write. With CRCS, the CRC of every file read goes
 * there (for archive_tree_digest_crcs). */
int archive_layer_write_clamped(int dirfd, int64_t epoch, struct archive_crcs *crcs,
                                struct st_writer *out, struct archive_write_stats *ret_stats,
                                struct st_error **err);

/* ----- paths inside a root (layer dirs, rootfs, build contexts) ----- */

/* Normalize the tar entry name NAME like Go's path.Clean: empty and "." components dropped, ".."
 * cancels the component before it. *ret (caller frees) is relative without a leading "./", ""
 * for the root itself. -EPERM if NAME is absolute, -EXDEV if a ".." would climb above the
 * root; *ret untouched then. */
int archive_path_clean(const char *name, char **ret);

/* Open PATH (cleaned, relative, "" = ROOT itself) beneath the directory fd ROOT with open FLAGS
 * (O_CLOEXEC is added). With FOLLOW, symlinks in PATH resolve as if ROOT were "/"
 * (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS); without it, any symlink in PATH fails with
 * -ELOOP (O_NOFOLLOW in FLAGS governs the last component as usual). Where openat2 is missing,
 * a component-by-component walk refuses every symlink (-ELOOP). Returns an fd the caller
 * closes, or -errno. */
int archive_open_in_root(int root, const char *path, int flags, bool follow);

/* Open the directory PATH beneath ROOT like archive_open_in_root (following symlinks inside
 * the root), creating missing components with mode 0755 first. Returns an fd (O_RDONLY,
 * caller closes) or -errno. */
int archive_open_dir_create(int root, const char *path);
