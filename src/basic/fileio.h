/* File and directory helpers: full reads with caps, atomic writes, recursive mkdir and removal.
 * All return 0 (or a count) on success and a negative errno on failure. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write all LEN bytes of BUF to FD, retrying on EINTR and short writes. */
int write_full(int fd, const void *buf, size_t len);

/* Read up to LEN bytes, retrying on EINTR and short reads; returns bytes read (< LEN at EOF). */
ssize_t read_full(int fd, void *buf, size_t len);

/* Read all of FD into a NUL-terminated buffer of at most CAP bytes; -EFBIG if larger.
 * *ret_buf is owned by the caller. */
int read_full_fd(int fd, size_t cap, char **ret_buf, size_t *ret_len);

/* read_full_fd on PATH relative to DIRFD (AT_FDCWD for cwd). */
int read_full_file_at(int dirfd, const char *path, size_t cap, char **ret_buf, size_t *ret_len);

/* Create PATH relative to DIRFD and its missing parents with MODE; existing dirs are fine. */
int mkdir_p_at(int dirfd, const char *path, mode_t mode);

/* Remove NAME under DIRFD recursively (files, dirs, links; never follows symlinks).
 * Missing NAME is not an error. */
int rm_rf_at(int dirfd, const char *name);

/* Remove everything inside the directory FD (not the directory itself). */
int rm_rf_children(int fd);

/* fsync the directory at PATH relative to DIRFD. */
int fsync_dir_at(int dirfd, const char *path);

/* Write BUF to NAME under DIRFD atomically: temp file, fsync, rename, fsync dir. */
int write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode);

/* Replace NAME under DIRFD with BUF (temp file, rename) without waiting for the disk: readers
 * see the old or the new content, never a mix; for files rebuilt on every use (a bundle's
 * config.json), which need not survive a crash. */
int write_file_replace_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode);

/* Total bytes used by regular files under NAME relative to DIRFD (du-like, st_size based);
 * hardlinked inodes counted once per walk. */
int disk_usage_at(int dirfd, const char *name, uint64_t *ret_bytes);

/* A random lower-case hex string of 2*NBYTES characters into OUT (2*NBYTES+1 bytes). */
int random_hex(char *out, size_t nbytes);
