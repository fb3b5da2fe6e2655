#include "basic/util.h"
#include "dockerfile/dockerfile.h"
#include "dockerfile/plan.h"
#include "tap.h"

static const struct dockerfile_platform amd64 = { "linux", "amd64", "" };

static struct dockerfile_plan *plan(const char *text, char **args, const char *target,
                                    struct st_error **err)
{
        _cleanup_dockerfile_ struct dockerfile *df = NULL;
        if (dockerfile_parse("Dockerfile", text, strlen(text), &df, err) < 0)
                return NULL;
        char *envp[] = { "FROMENV=fromenv", NULL };
        struct dockerfile_plan *p = NULL;
        if (dockerfile_plan_new(df, args, envp, target, &amd64, &p, err) < 0)
                return NULL;
        return p;
}

TEST(single_stage)
{
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_dockerfile_plan_ struct dockerfile_plan *p =
                plan("FROM busybox\nRUN true\n", NULL, NULL, &e);
        ASSERT_TRUE(p);
        ASSERT_EQ(p->n_stages, 1);
        ASSERT_STREQ(p->stages[0].base, "busybox");
        ASSERT_EQ(p->stages[0].base_stage, -1);
        ASSERT_EQ(p->stages[0].first, 1);
        ASSERT_EQ(p->stages[0].end, 2);
        ASSERT_TRUE(p->stages[0].needed);
}

TEST(global_args_in_from)
{
        _cleanup_error_ struct st_error *e = NULL;
        char *args[] = { "TAG=1.36", NULL };
        _cleanup_dockerfile_plan_ struct dockerfile_plan *p =
                plan("ARG BASE=busybox\nARG TAG=latest\nFROM ${BASE}:${TAG} AS b\n"
                     "FROM --platform=$BUILDPLATFORM $BASE\n",
                     args, NULL, &e);
        ASSERT_TRUE(p);
        ASSERT_STREQ(p->stages[0].base, "busybox:1.36");
        ASSERT_STREQ(p->stages[0].name, "b");
        ASSERT_STREQ(p->stages[1].platform, "linux/amd64");
        ASSERT_TRUE(strv_contains(p->global_args, "BASE=busybox"));
        ASSERT_TRUE(strv_contains(p->global_args, "TAG=1.36"));
        ASSERT_TRUE(!p->stages[0].needed);
        ASSERT_TRUE(p->stages[1].needed);
}

TEST(stages_target_and_needed)
{
        const char *df = "FROM busybox AS base\n"
                         "FROM base AS build\nRUN make\n"
                         "FROM busybox AS unused\nRUN sleep 100\n"
                         "FROM scratch AS final\nCOPY --from=build /out /\n"
                         "COPY --from=0 /etc/passwd /etc/\n"
                         "RUN --mount=type=bind,from=tools,target=/t true\n";
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_dockerfile_plan_ struct dockerfile_plan *p = plan(df, NULL, NULL, &e);
        ASSERT_TRUE(p);
        ASSERT_EQ(p->n_stages, 4);
        ASSERT_EQ(p->target, 3);
        ASSERT_EQ(p->stages[1].base_stage, 0);
        ASSERT_TRUE(p->stages[0].needed && p->stages[1].needed && p->stages[3].needed);
        ASSERT_TRUE(!p->stages[2].needed);
        ASSERT_TRUE(strv_contains(p->stages[3].images, "tools"));
        _cleanup_error_ struct st_error *e2 = NULL;
        _cleanup_dockerfile_plan_ struct dockerfile_plan *q = plan(df, NULL, "Build", &e2);
        ASSERT_TRUE(q);
        ASSERT_EQ(q->target, 1);
        ASSERT_TRUE(!q->stages[3].needed && !q->stages[2].needed && q->stages[0].needed);
}

TEST(stage_args_and_env_in_from_flags)
{
        const char *df = "ARG SRC=build\nFROM busybox AS build\nFROM busybox AS other\n"
                         "FROM busybox\nARG SRC\nENV X=$SRC\nCOPY --from=${X} /a /b\n";
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_dockerfile_plan_ struct dockerfile_plan *p = plan(df, NULL, NULL, &e);
        ASSERT_TRUE(p);
        ASSERT_EQ(p->stages[2].n_deps, 1);
        ASSERT_EQ(p->stages[2].deps[0], 0);
        ASSERT_TRUE(!p->stages[1].needed);
}

TEST(unused_build_args)
{
        char *args[] = { "USED=1", "UNUSED=2", "HTTP_PROXY=x", "FROMENV", "NOTSET", NULL };
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_dockerfile_plan_ struct dockerfile_plan *p =
                plan("FROM busybox AS a\nARG UNUSED\nFROM busybox\nARG USED\nARG FROMENV\n", args,
                     NULL, &e);
        ASSERT_TRUE(p);
        ASSERT_EQ(strv_length(p->unused_build_args), 1);
        ASSERT_STREQ(p->unused_build_args[0], "UNUSED");
        ASSERT_TRUE(strv_contains(p->build_args, "FROMENV=fromenv"));
        ASSERT_EQ(strv_length(p->build_args), 4);
}

TEST(errors)
{
        static const struct {
                const char *df, *target, *msg;
        } cases[] = {
                { "FROM a AS x\nFROM b AS x\n", NULL, "Dockerfile:2: duplicate stage name \"x\"" },
                { "FROM a AS 1x\n", NULL, "invalid name for build stage" },
                { "FROM a\n", "nope", "target stage \"nope\" could not be found" },
                { "FROM a\nCOPY --from=1 /a /b\n", NULL, "Dockerfile:2: invalid stage index 1" },
                { "FROM a AS x\nCOPY --from=x /a /b\n", NULL, "circular dependency" },
                { "FROM a AS x\nCOPY --from=y /a /b\nFROM b AS y\nCOPY --from=x /a /b\n", "y",
                  "circular dependency" },
                { "FROM $NOPE\n", NULL, "base name ($NOPE) should not be blank" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_error_ struct st_error *e = NULL;
                _cleanup_dockerfile_plan_ struct dockerfile_plan *p =
                        plan(cases[i].df, NULL, cases[i].target, &e);
                ASSERT_TRUE(!p);
                if (!strstr(st_error_msg(e), cases[i].msg))
                        TAP_FAIL("case %zu: '%s' lacks '%s'", i, st_error_msg(e), cases[i].msg);
        }
}

TEST(predefined_args)
{
        static const struct dockerfile_platform arm = { "linux", "arm64", "v8" };
        _cleanup_free_ char *a = dockerfile_plan_predefined_arg(&arm, "TARGETPLATFORM");
        _cleanup_free_ char *b = dockerfile_plan_predefined_arg(&arm, "BUILDVARIANT");
        _cleanup_free_ char *c = dockerfile_plan_predefined_arg(&arm, "OTHER");
        ASSERT_STREQ(a, "linux/arm64/v8");
        ASSERT_STREQ(b, "v8");
        ASSERT_TRUE(!c);
        ASSERT_TRUE(dockerfile_plan_is_proxy_arg("https_proxy"));
        ASSERT_TRUE(dockerfile_plan_is_proxy_arg("NO_PROXY"));
        ASSERT_TRUE(!dockerfile_plan_is_proxy_arg("Http_Proxy"));
}
