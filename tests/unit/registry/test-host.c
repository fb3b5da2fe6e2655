/* Registry hosts: Docker Hub aliases, the TLS policy, certs.d lookup, registries.conf. */
#include <sys/stat.h>

#include "basic/util.h"
#include "registry/host.h"
#include "tap.h"

static struct registry_conf *conf(const char *text)
{
        struct registry_conf *c = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        if (registry_conf_parse(text, strlen(text), "registries.conf", &c, &e) < 0)
                printf("# %s\n", st_error_msg(e));
        return c;
}

TEST(loopback)
{
        ASSERT_TRUE(registry_host_is_loopback("localhost"));
        ASSERT_TRUE(registry_host_is_loopback("localhost:5000"));
        ASSERT_TRUE(registry_host_is_loopback("127.0.0.1:5000"));
        ASSERT_TRUE(registry_host_is_loopback("127.3.2.1"));
        ASSERT_TRUE(registry_host_is_loopback("[::1]:5000"));
        ASSERT_TRUE(!registry_host_is_loopback("128.0.0.1"));
        ASSERT_TRUE(!registry_host_is_loopback("localhost.example.com"));
        ASSERT_TRUE(!registry_host_is_loopback("[::2]:5000"));
        ASSERT_TRUE(!registry_host_is_loopback("docker.io"));
}

TEST(conf_parse)
{
        struct registry_conf *c = conf("# comment\n"
                                       "unqualified-search-registries = [\"docker.io\"]\n"
                                       "[[registry]]\n"
                                       "location = \"reg.example.com:5000\"\n"
                                       "insecure = true # trailing\n"
                                       "\n"
                                       "[[registry]]\n"
                                       "location = 'secure.example.com'\n"
                                       "insecure = false\n"
                                       "prefix = \"x\"\n"
                                       "[registry.mirror]\n"
                                       "insecure = true\n"
                                       "mirrors = [\n"
                                       "  \"a\",\n"
                                       "]\n"
                                       "[[registry]]\n"
                                       "location = \"docker.io\"\n"
                                       "insecure = true\n");
        ASSERT_TRUE(c != NULL);
        ASSERT_TRUE(registry_conf_is_insecure(c, "reg.example.com:5000"));
        ASSERT_TRUE(!registry_conf_is_insecure(c, "reg.example.com"));
        ASSERT_TRUE(!registry_conf_is_insecure(c, "secure.example.com"));
        ASSERT_TRUE(registry_conf_is_insecure(c, "registry-1.docker.io"));
        registry_conf_free(c);
}

TEST(conf_errors)
{
        static const char *const bad[] = {
                "[[registry]]\nlocation = \"unterminated\n",
                "[[registry]]\ninsecure = yes\n",
                "[[registry]]\nlocation = 5\n",
                "[[registry]]\nlocation = \"a\" junk\n",
                "just words\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct registry_conf *c = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                ASSERT_ERR(registry_conf_parse(bad[i], strlen(bad[i]), "f", &c, &e), ST_E_PARSE);
                printf("# %s\n", st_error_msg(e));
                ASSERT_TRUE(startswith(st_error_msg(e), "f:") != NULL);
        }
        struct registry_conf *c = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_free_ char *path = xasprintf("%s/missing.conf", tap_tmpdir);
        ASSERT_OK(registry_conf_load(path, &c, &e));
        ASSERT_TRUE(!registry_conf_is_insecure(c, "x"));
        registry_conf_free(c);
}

static struct registry_host *resolve(struct registry_conf *c, int tls, char **roots,
                                     const char *domain)
{
        struct registry_host *h = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        if (registry_host_resolve(c, tls, roots, domain, &h, &e) < 0)
                printf("# %s\n", st_error_msg(e));
        return h;
}

TEST(resolve_policy)
{
        struct registry_conf *c = conf("[[registry]]\nlocation=\"insecure.example:5000\"\n"
                                       "insecure=true\n");
        struct registry_host *h = resolve(c, -1, NULL, "docker.io");
        ASSERT_STREQ(h->host, "registry-1.docker.io");
        ASSERT_STREQ(h->domain, "docker.io");
        ASSERT_EQ(h->tls, REGISTRY_TLS_VERIFY);
        registry_host_free(h);
        h = resolve(c, -1, NULL, "index.docker.io");
        ASSERT_STREQ(h->host, "registry-1.docker.io");
        registry_host_free(h);
        h = resolve(c, -1, NULL, "127.0.0.1:5000");
        ASSERT_STREQ(h->host, "127.0.0.1:5000");
        ASSERT_EQ(h->tls, REGISTRY_TLS_LOOPBACK);
        registry_host_free(h);
        h = resolve(c, 1, NULL, "localhost:5000");
        ASSERT_EQ(h->tls, REGISTRY_TLS_VERIFY);
        registry_host_free(h);
        h = resolve(c, -1, NULL, "insecure.example:5000");
        ASSERT_EQ(h->tls, REGISTRY_TLS_INSECURE);
        registry_host_free(h);
        h = resolve(c, 0, NULL, "quay.io");
        ASSERT_EQ(h->tls, REGISTRY_TLS_INSECURE);
        registry_host_free(h);
        h = resolve(c, -1, NULL, "quay.io");
        ASSERT_EQ(h->tls, REGISTRY_TLS_VERIFY);
        registry_host_free(h);
        struct registry_host *bad = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_ERR(registry_host_resolve(c, -1, NULL, "a/b", &bad, &e), ST_E_PARSE);
        registry_conf_free(c);
}

TEST(resolve_cert_dirs)
{
        _cleanup_free_ char *a = xasprintf("%s/strata", tap_tmpdir);
        _cleanup_free_ char *b = xasprintf("%s/docker", tap_tmpdir);
        _cleanup_free_ char *d1 = xasprintf("%s/reg.example:5000", a);
        _cleanup_free_ char *d2 = xasprintf("%s/reg.example:5000", b);
        ASSERT_TRUE(mkdir(a, 0755) == 0 && mkdir(b, 0755) == 0);
        ASSERT_TRUE(mkdir(d1, 0755) == 0 && mkdir(d2, 0755) == 0);
        char *roots[] = { a, b, NULL };
        struct registry_host *h = resolve(NULL, -1, roots, "reg.example:5000");
        ASSERT_EQ(strv_length(h->cert_dirs), 2);
        ASSERT_STREQ(h->cert_dirs[0], d1);
        ASSERT_STREQ(h->cert_dirs[1], d2);
        registry_host_free(h);
        h = resolve(NULL, -1, roots, "reg.example");
        ASSERT_TRUE(h->cert_dirs == NULL);
        registry_host_free(h);
}
