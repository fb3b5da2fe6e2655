/* Path handling shared by layer apply and the tree digest (src/archive only). */
#pragma once

#include <stdbool.h>

#include "archive/archive.h"

/* Tests: pretend openat2 is missing (true) so the fallback walk is exercised. */
void archive_force_openat2_fallback(bool on);

/* The names in the directory FD (not . and ..), sorted bytewise; *ret (may be NULL when empty)
 * is owned by the caller. */
int archive_list_sorted(int fd, char ***ret);
