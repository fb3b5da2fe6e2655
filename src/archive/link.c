/* A link-time replacement for one libarchive internal.
 *
 * strata links libarchive statically and uses only its tar reader and pax writer. The pax
 * writer calls __archive_write_entry_filetype_unsupported, which libarchive defines in the
 * same object as its format-by-name table; pulling that object would pull every writer it
 * names (xar → libxml2 → ICU → libstdc++, 7zip, zip, iso9660, ...) and their shared libraries,
 * which cost ~3 ms of loading per strata process. Defined here, the table stays out. If a
 * libarchive release moves the function, the link fails with a duplicate symbol: loudly. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>

/* libarchive's prototype (private header archive_write_private.h): sets the error of A. */
void __archive_write_entry_filetype_unsupported(struct archive *a, struct archive_entry *entry,
                                                const char *format);

void __archive_write_entry_filetype_unsupported(struct archive *a, struct archive_entry *entry,
                                                const char *format)
{
        archive_set_error(a, EINVAL, "%s: %s format cannot archive this file type",
                          archive_entry_pathname(entry), format);
}
