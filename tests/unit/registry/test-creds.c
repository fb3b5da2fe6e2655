/* Credentials in config.json: lookup rules, saving and removing with safe modes, and
 * docker-credential-* helpers (a fake one written into the test's PATH). */
#include <fcntl.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "registry/auth.h"
#include "tap.h"

/* base64("alice:s3cret") */
#define ALICE "YWxpY2U6czNjcmV0"

static int lookup(const char *json, const char *domain, struct registry_cred *c, char **helper,
                  struct st_error **e)
{
        return registry_auth_parse(json, strlen(json), domain, c, helper, e);
}

TEST(auth_key)
{
        _cleanup_free_ char *a = registry_auth_key("docker.io");
        _cleanup_free_ char *b = registry_auth_key("registry-1.docker.io");
        _cleanup_free_ char *c = registry_auth_key("localhost:5000");
        ASSERT_STREQ(a, "https://index.docker.io/v1/");
        ASSERT_STREQ(b, "https://index.docker.io/v1/");
        ASSERT_STREQ(c, "localhost:5000");
}

TEST(auths_lookup)
{
        static const char json[] =
                "{\"auths\":{"
                "\"https://index.docker.io/v1/\":{\"auth\":\"" ALICE "\"},"
                "\"https://reg.example:5000/v2/\":{\"auth\":\"Ym9iOnB3OmNvbG9u\"},"
                "\"plain.example\":{\"username\":\"carol\",\"password\":\"pw\"},"
                "\"tok.example\":{\"auth\":\"\",\"identitytoken\":\"refresh-me\"}}}";
        struct registry_cred c;
        char *helper = NULL;
        ASSERT_OK(lookup(json, "docker.io", &c, &helper, NULL));
        ASSERT_STREQ(c.username, "alice");
        ASSERT_STREQ(c.password, "s3cret");
        ASSERT_TRUE(helper == NULL && registry_cred_is_set(&c));
        registry_cred_release(&c);
        ASSERT_OK(lookup(json, "reg.example:5000", &c, &helper, NULL));
        ASSERT_STREQ(c.username, "bob");
        ASSERT_STREQ(c.password, "pw:colon");
        registry_cred_release(&c);
        ASSERT_OK(lookup(json, "plain.example", &c, &helper, NULL));
        ASSERT_STREQ(c.username, "carol");
        registry_cred_release(&c);
        ASSERT_OK(lookup(json, "tok.example", &c, &helper, NULL));
        ASSERT_STREQ(c.identity_token, "refresh-me");
        ASSERT_TRUE(c.username == NULL && registry_cred_is_set(&c));
        registry_cred_release(&c);
        ASSERT_OK(lookup(json, "other.example", &c, &helper, NULL));
        ASSERT_TRUE(!registry_cred_is_set(&c));
        ASSERT_OK(lookup("", "x", &c, &helper, NULL));
        ASSERT_TRUE(!registry_cred_is_set(&c));
}

TEST(helpers_lookup)
{
        static const char json[] = "{\"auths\":{\"a.example\":{\"auth\":\"" ALICE "\"}},"
                                   "\"credHelpers\":{\"b.example\":\"ecr-login\"},"
                                   "\"credsStore\":\"pass\"}";
        struct registry_cred c;
        _cleanup_free_ char *h1 = NULL, *h2 = NULL;
        ASSERT_OK(lookup(json, "b.example", &c, &h1, NULL));
        ASSERT_STREQ(h1, "ecr-login");
        ASSERT_OK(lookup(json, "a.example", &c, &h2, NULL));
        ASSERT_STREQ(h2, "pass"); /* a credsStore takes over every registry, as in docker */
}

TEST(malformed_never_quotes_secrets)
{
        static const char *const bad[] = {
                "{\"auths\":{\"a\":{\"auth\":\"c2VjcmV0LW5vLWNvbG9u\"}}}", /* "secret-no-colon" */
                "{\"auths\":{\"a\":{\"auth\":\"!!!secret!!\"}}}",
                "{\"auths\":{\"a\":\"secret\"}}",
                "[\"secret\"]",
                "{\"auths\": secret}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct registry_cred c;
                char *helper = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                ASSERT_ERR(lookup(bad[i], "a", &c, &helper, &e), ST_E_PARSE);
                printf("# %s\n", st_error_msg(e));
                ASSERT_TRUE(!strstr(st_error_msg(e), "secret"));
        }
}

static mode_t mode_of(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

TEST(save_and_remove)
{
        _cleanup_free_ char *dir = xasprintf("%s/home/.docker", tap_tmpdir);
        _cleanup_free_ char *path = xasprintf("%s/config.json", dir);
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(registry_cred_save(path, "localhost:5000", "alice", "s3cret", &e), e);
        ASSERT_EQ(mode_of(path), 0600);
        ASSERT_EQ(mode_of(dir), 0700);
        struct registry_cred c;
        ASSERT_OK(registry_cred_load(path, "localhost:5000", &c, NULL));
        ASSERT_STREQ(c.password, "s3cret");
        registry_cred_release(&c);
        /* other contents survive */
        static const char keep[] =
                "{\"psFormat\":\"x\",\"auths\":{\"o\":{\"auth\":\"" ALICE "\"}}}";
        ASSERT_OK(write_file_atomic_at(AT_FDCWD, path, keep, strlen(keep), 0600));
        ASSERT_OK(registry_cred_save(path, "docker.io", "bob", "pw", NULL));
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        ASSERT_OK(read_full_file_at(AT_FDCWD, path, 1 << 20, &text, &len));
        ASSERT_TRUE(strstr(text, "psFormat") && strstr(text, "https://index.docker.io/v1/"));
        ASSERT_EQ(registry_cred_remove(path, "docker.io", NULL), 1);
        ASSERT_EQ(registry_cred_remove(path, "docker.io", NULL), 0);
        ASSERT_OK(registry_cred_load(path, "o", &c, NULL));
        ASSERT_STREQ(c.username, "alice");
        registry_cred_release(&c);
}

/* A docker-credential-fake that answers get for one server, records store and erase. */
static void fake_helper(void)
{
        _cleanup_free_ char *bin = xasprintf("%s/bin", tap_tmpdir);
        _cleanup_free_ char *exe = xasprintf("%s/docker-credential-fake", bin);
        _cleanup_free_ char *script = xasprintf(
                "#!/bin/sh\n"
                "in=$(cat)\n"
                "case $1 in\n"
                "get) if [ \"$in\" = reg.example ]; then\n"
                "       echo '{\"ServerURL\":\"reg.example\",\"Username\":\"helper-user\","
                "\"Secret\":\"helper-pw\"}'\n"
                "     else echo 'credentials not found in native keychain'; exit 1; fi ;;\n"
                "store) printf '%%s' \"$in\" > %s/stored ;;\n"
                "erase) printf '%%s' \"$in\" > %s/erased ;;\n"
                "esac\n",
                tap_tmpdir, tap_tmpdir);
        mkdir(bin, 0755);
        (void)write_file_atomic_at(AT_FDCWD, exe, script, strlen(script), 0755);
        _cleanup_free_ char *path = xasprintf("%s:%s", bin, getenv("PATH") ?: "/usr/bin:/bin");
        setenv("PATH", path, 1);
}

TEST(credential_helper)
{
        fake_helper();
        _cleanup_free_ char *path = xasprintf("%s/config.json", tap_tmpdir);
        static const char cfg[] = "{\"credsStore\":\"fake\"}";
        ASSERT_OK(write_file_atomic_at(AT_FDCWD, path, cfg, strlen(cfg), 0600));
        struct registry_cred c;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(registry_cred_load(path, "reg.example", &c, &e), e);
        ASSERT_STREQ(c.username, "helper-user");
        ASSERT_STREQ(c.password, "helper-pw");
        registry_cred_release(&c);
        ASSERT_OK(registry_cred_load(path, "other.example", &c, NULL));
        ASSERT_TRUE(!registry_cred_is_set(&c));
        ASSERT_OK(registry_cred_save(path, "reg.example", "u", "p", NULL));
        _cleanup_free_ char *stored = NULL, *erased = NULL, *text = NULL;
        size_t len = 0;
        _cleanup_free_ char *sp = xasprintf("%s/stored", tap_tmpdir);
        ASSERT_OK(read_full_file_at(AT_FDCWD, sp, 4096, &stored, &len));
        ASSERT_STREQ(stored, "{\"ServerURL\":\"reg.example\",\"Username\":\"u\",\"Secret\":\"p\"}");
        ASSERT_OK(read_full_file_at(AT_FDCWD, path, 4096, &text, &len));
        ASSERT_TRUE(!strstr(text, "\"p\"") && strstr(text, "reg.example"));
        ASSERT_EQ(registry_cred_remove(path, "reg.example", NULL), 1);
        _cleanup_free_ char *ep = xasprintf("%s/erased", tap_tmpdir);
        ASSERT_OK(read_full_file_at(AT_FDCWD, ep, 4096, &erased, &len));
        ASSERT_STREQ(erased, "reg.example");
}

TEST(helper_missing_is_anonymous)
{
        _cleanup_free_ char *path = xasprintf("%s/config.json", tap_tmpdir);
        static const char cfg[] = "{\"credHelpers\":{\"reg.example\":\"not-installed-anywhere\"}}";
        ASSERT_OK(write_file_atomic_at(AT_FDCWD, path, cfg, strlen(cfg), 0600));
        struct registry_cred c;
        ASSERT_OK(registry_cred_load(path, "reg.example", &c, NULL));
        ASSERT_TRUE(!registry_cred_is_set(&c));
}
