/* Path handling shared by layer apply and the tree digest (src/archive only). */
#pragma once

#include <stdbool.h>

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

/* Tests: pretend openat2 is missing (true) so the fallback walk is exercised. */
void archive_force_openat2_fallback(bool on);

/* The names in the directory FD (not . and ..), sorted bytewise; *ret (may be NULL when empty)
 * is owned by the caller. */
int archive_list_sorted(int fd, char ***ret);
