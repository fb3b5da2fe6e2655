/* The build plan: any Dockerfile that parses either plans or fails with a message; a plan's
 * stages are consistent (ranges inside the file, dependencies on existing stages, the target
 * needed). */
#include <stdint.h>
#include <stdlib.h>

#include "basic/util.h"
#include "dockerfile/dockerfile.h"
#include "dockerfile/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_plan(const struct dockerfile *df, const struct dockerfile_plan *p)
{
        if (p->n_stages == 0 || p->target >= p->n_stages || !p->stages[p->target].needed)
                abort();
        for (size_t i = 0; i < p->n_stages; i++) {
                const struct dockerfile_plan_stage *st = &p->stages[i];
                if (st->first > st->end || st->end > df->n_instructions || !st->base)
                        abort();
                for (size_t d = 0; d < st->n_deps; d++)
                        if (st->deps[d] >= p->n_stages ||
                            (st->needed && !p->stages[st->deps[d]].needed))
                                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const struct dockerfile_platform platform = { "linux", "amd64", "" };
        char *args[] = { "A=1", "BASE=busybox", "X", NULL };
        char *envp[] = { "X=from-env", NULL };
        struct dockerfile *df = NULL;
        struct st_error *err = NULL;
        if (dockerfile_parse("Dockerfile", (const char *)data, size, &df, &err) < 0) {
                st_error_free(err);
                return 0;
        }
        struct dockerfile_plan *p = NULL;
        if (dockerfile_plan_new(df, args, envp, NULL, &platform, &p, &err) >= 0)
                check_plan(df, p);
        else if (!err || !err->msg || !*err->msg)
                abort();
        st_error_free(err);
        dockerfile_plan_free(p);
        dockerfile_free(df);
        return 0;
}
