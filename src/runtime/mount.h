/* The container's root filesystem: an overlay of the image's layer dirs under its writable
 * layer, mounted on containers/<id>/merged. */
#pragma once

#include <stdbool.h>

#include "basic/error.h"

struct runtime_overlay {
        char **lowers;          /* absolute layer dirs, top first; at least one */
        char **short_lowers;    /* the same layers relative to SHORT_BASE (the store's l/ links),
                                   for mount(2) where the options must fit one page; or NULL */
        const char *short_base; /* absolute */
        const char *upper, *work;
        bool volatile_upper; /* never sync the upper dir (a writable layer nobody keeps): skips
                                the sync of the whole upper filesystem at unmount */
};

/* Mount the overlay O on TARGET (absolute) with index=off, redirect_dir=off and metacopy=off
 * where the kernel takes them, so that the upper dir stays a plain diff. Uses the new mount
 * API with one "lowerdir+" per layer (Linux 6.8+: any number of layers); where that is missing,
 * mount(2) in a child that chdirs to SHORT_BASE so the relative short names keep the option
 * string short (about 200 layers). */
int runtime_overlay_mount(const struct runtime_overlay *o, const char *target,
                          struct st_error **err);

/* Unmount TARGET (lazily if busy); not mounted is not an error. */
int runtime_overlay_unmount(const char *target, struct st_error **err);

/* True if PATH is a mount point (its device differs from its parent's). */
bool runtime_is_mountpoint(const char *path);

/* Tests: pretend the kernel lacks lowerdir+ (true) so the mount(2) fallback is exercised. */
void runtime_overlay_force_legacy(bool on);
