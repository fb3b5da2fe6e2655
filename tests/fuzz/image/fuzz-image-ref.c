/* Image references: parsing must not crash, and a parsed reference printed and parsed again
 * must give the same string (normalization is idempotent). */
#include <stdint.h>
#include <stdlib.h>

#include "basic/util.h"
#include "image/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s)
{
        _cleanup_image_ref_ struct image_ref *ref = NULL, *again = NULL;
        _cleanup_error_ struct st_error *err = NULL;
        if (image_ref_parse(s, &ref, &err) < 0) {
                if (!err || st_error_code(err) != ST_E_PARSE || ref)
                        abort();
                return;
        }
        _cleanup_free_ char *full = image_ref_string(ref), *fam = image_ref_familiar_string(ref);
        _cleanup_free_ char *fam2 = image_ref_familiarize(full);
        if (image_ref_parse(full, &again, NULL) < 0)
                abort();
        _cleanup_free_ char *full2 = image_ref_string(again);
        if (!streq(full, full2) || !streq(fam, fam2))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 4096)
                return 0;
        _cleanup_free_ char *s = xstrndup((const char *)data, size);
        check(s);
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        (void)image_ref_parse_name(s, &ref, NULL);
        (void)image_ref_tag_is_valid(s);
        return 0;
}
