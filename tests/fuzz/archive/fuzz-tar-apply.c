/* Fuzz layer apply: any bytes as a tar stream, applied into a fresh temporary directory that is
 * removed afterwards. Caps keep each run small. The tree digest from the CRCs the apply learnt
 * must equal the one that reads every file. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "basic/fileio.h"
#include "basic/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char dir[] = "/tmp/fuzz-tar-apply-XXXXXX";
        if (!mkdtemp(dir))
                abort();
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        struct st_reader *r = st_mem_reader_new(data, size);
        struct archive_crcs *crcs = archive_crcs_new();
        struct archive_apply_opts opts = { .max_bytes = 4 << 20,
                                           .max_entries = 2000,
                                           .crcs = crcs };
        struct st_error *err = NULL;
        int applied = archive_layer_apply(r, fd, &opts, NULL, &err);
        st_error_free(err);
        st_reader_free(r);
        /* the CRCs learnt while applying must give the digest that reads every file */
        char digest[80], fast[80];
        err = NULL;
        int r1 = archive_tree_digest(fd, digest, &err);
        st_error_free(err);
        err = NULL;
        int r2 = archive_tree_digest_crcs(fd, crcs, fast, &err);
        st_error_free(err);
        if (applied >= 0 && r1 >= 0 && (r2 < 0 || strcmp(digest, fast) != 0))
                abort();
        archive_crcs_free(crcs);
        close(fd);
        /* modes like 0000 on dirs do not stop root; rm_rf_at never follows links */
        if (rm_rf_at(AT_FDCWD, dir) < 0)
                abort();
        return 0;
}
