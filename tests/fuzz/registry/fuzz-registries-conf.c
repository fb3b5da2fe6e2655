/* registries.conf: parsing any text must not crash or leak; a failed parse sets an error and
 * returns nothing; a parse is deterministic, and the insecure lookups it answers are the same
 * for a second parse of the same text. */
#include <stdint.h>
#include <stdlib.h>

#include "basic/util.h"
#include "registry/host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const domains[] = { "docker.io",      "index.docker.io",
                                       "localhost",      "localhost:5000",
                                       "127.0.0.1:5000", "example.com",
                                       "[::1]:5000",     "" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 2 * REGISTRY_CONF_MAX)
                return 0;
        struct registry_conf *c = NULL, *again = NULL;
        _cleanup_error_ struct st_error *err = NULL;
        int r = registry_conf_parse((const char *)data, size, "fuzz.conf", &c, &err);
        if (r < 0) {
                if (!err || c)
                        abort();
                return 0;
        }
        if (!c || err)
                abort();
        if (registry_conf_parse((const char *)data, size, "fuzz.conf", &again, NULL) < 0)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(domains); i++)
                if (registry_conf_is_insecure(c, domains[i]) !=
                    registry_conf_is_insecure(again, domains[i]))
                        abort();
        registry_conf_free(again);
        registry_conf_free(c);
        return 0;
}
