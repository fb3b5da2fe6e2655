#include <fcntl.h>
#include <sys/utsname.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "image/config.h"
#include "json/json.h"
#include "tap.h"

#define DG  "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DG2 "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static struct image_config *load_golden(void)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        struct image_config *c = NULL;
        if (read_full_file_at(AT_FDCWD, IMAGE_TEST_DATA "/docker-config.json", 1 << 20, &buf,
                              &len) < 0 ||
            image_config_parse(buf, len, &c, NULL) < 0)
                return NULL;
        return c;
}

/* The canonical JSON of KEY in C's container config ("null" if absent); caller frees. */
static char *container_key(struct image_config *c, const char *key)
{
        return json_dump_canonical(json_object_get(image_config_container(c), key));
}

TEST(parse_docker_config)
{
        _cleanup_config_ struct image_config *c = load_golden();
        ASSERT_TRUE(c);
        ASSERT_STREQ(c->architecture, "amd64");
        ASSERT_STREQ(c->os, "linux");
        ASSERT_STREQ(c->created, "2024-02-14T10:11:12.345678901Z");
        ASSERT_TRUE(c->variant == NULL && c->author == NULL);
        ASSERT_EQ(strv_length(c->diff_ids), 2);
        ASSERT_EQ(c->n_history, 4);
        ASSERT_TRUE(c->history[1].empty_layer);
        ASSERT_STREQ(c->history[2].comment, "buildkit.dockerfile.v0");
        _cleanup_free_ char *hc = container_key(c, "Healthcheck");
        ASSERT_TRUE(strstr(hc, "\"Retries\":3"));
        _cleanup_free_ char *ob = container_key(c, "OnBuild");
        ASSERT_STREQ(ob, "[\"COPY . /srv/app/src\",\"RUN make -C /srv/app/src\"]");
        _cleanup_free_ char *sh = container_key(c, "Shell");
        ASSERT_STREQ(sh, "[\"/bin/bash\",\"-o\",\"pipefail\",\"-c\"]");
}

TEST(modify_write_reparse)
{
        _cleanup_config_ struct image_config *c = load_golden();
        ASSERT_TRUE(c);
        image_config_add_history(c, DG2, "2024-03-01T00:00:00Z", "COPY x /x", NULL, NULL, false);
        image_config_add_history(c, NULL, "2024-03-01T00:00:01Z", "ENV A=1", NULL, "c", true);
        json_set_str(image_config_container(c), "User", "root");
        free(c->author);
        c->author = xstrdup("someone");
        _cleanup_free_ char *out = image_config_write(c);
        ASSERT_TRUE(!strncmp(out, "{\"architecture\":\"amd64\",\"author\":\"someone\"", 42));
        _cleanup_config_ struct image_config *c2 = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(image_config_parse(out, strlen(out), &c2, &e), e);
        ASSERT_EQ(strv_length(c2->diff_ids), 3);
        ASSERT_STREQ(c2->diff_ids[2], DG2);
        ASSERT_EQ(c2->n_history, 6);
        ASSERT_STREQ(c2->history[5].comment, "c");
        ASSERT_TRUE(c2->history[5].empty_layer);
        ASSERT_STREQ(c2->author, "someone");
        /* unknown keys survive, at the top, in config, in history entries */
        ASSERT_STREQ(json_get_str(c2->root, "moby.buildkit.buildinfo.v1"), "e30=");
        ASSERT_STREQ(json_get_str(c2->root, "docker_version"), "24.0.7");
        ASSERT_STREQ(
                json_get_str(json_array_get(json_object_get(c2->root, "history"), 3), "x-extra"),
                "kept");
        ASSERT_STREQ(json_get_str(image_config_container(c2), "User"), "root");
        /* writing again is stable */
        _cleanup_free_ char *out2 = image_config_write(c2);
        ASSERT_STREQ(out, out2);
}

TEST(new_config)
{
        _cleanup_config_ struct image_config *c = image_config_new("2024-01-01T00:00:00Z");
        struct utsname u;
        ASSERT_TRUE(uname(&u) == 0);
        if (streq(u.machine, "x86_64"))
                ASSERT_STREQ(c->architecture, "amd64");
        if (streq(u.machine, "aarch64"))
                ASSERT_STREQ(c->variant, "v8");
        ASSERT_STREQ(c->os, "linux");
        _cleanup_free_ char *out = image_config_write(c);
        ASSERT_TRUE(strstr(out, "\"rootfs\":{\"diff_ids\":[],\"type\":\"layers\"}"));
        ASSERT_TRUE(strstr(out, "\"created\":\"2024-01-01T00:00:00Z\""));
        ASSERT_TRUE(!strstr(out, "history"));
        _cleanup_config_ struct image_config *c2 = NULL;
        ASSERT_OK(image_config_parse(out, strlen(out), &c2, NULL));
        json_t *cc = image_config_container(c2);
        ASSERT_TRUE(json_is_object(cc) && json_object_size(cc) == 0);
}

#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DG "\"]}"
#define HEAD   "\"architecture\":\"arm64\",\"os\":\"linux\""

TEST(rejections)
{
        static const struct {
                const char *doc, *msg;
        } table[] = {
                { "{" HEAD "," ROOTFS "}", NULL },
                { "{" HEAD "," ROOTFS ",\"config\":{\"Cmd\":null,\"Labels\":null,\"Volumes\":null,"
                  "\"ExposedPorts\":{\"80/tcp\":null}},\"history\":null,\"created\":null}",
                  NULL },
                { "[]", "document must be a JSON object" },
                { "{" HEAD "}", "'rootfs' is missing" },
                { "{\"os\":\"linux\"," ROOTFS "}", "'architecture' and 'os' must be strings" },
                { "{" HEAD ",\"rootfs\":{\"type\":\"x\"}}", "'rootfs.type' must be \"layers\"" },
                { "{" HEAD ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:x\"]}}",
                  "'rootfs.diff_ids[0]' is not a digest" },
                { "{" HEAD "," ROOTFS ",\"variant\":8}", "'variant' must be a string" },
                { "{" HEAD "," ROOTFS ",\"created\":\"yesterday\"}",
                  "'created': invalid time 'yesterday'" },
                { "{" HEAD "," ROOTFS ",\"config\":[]}", "'config' must be an object" },
                { "{" HEAD "," ROOTFS ",\"config\":{\"Env\":\"A=1\"}}",
                  "'config.Env' must be an array of strings" },
                { "{" HEAD "," ROOTFS ",\"config\":{\"Cmd\":[1]}}",
                  "'config.Cmd' must be an array of strings" },
                { "{" HEAD "," ROOTFS ",\"config\":{\"ExposedPorts\":{\"80/tcp\":1}}}",
                  "'config.ExposedPorts' must be an object of objects" },
                { "{" HEAD "," ROOTFS ",\"config\":{\"Labels\":{\"a\":true}}}",
                  "'config.Labels' must be an object of strings" },
                { "{" HEAD "," ROOTFS ",\"config\":{\"Healthcheck\":{\"Retries\":\"3\"}}}",
                  "'config.Healthcheck.Retries' must be an integer" },
                { "{" HEAD "," ROOTFS ",\"config\":{\"Tty\":1}}",
                  "'config.Tty' must be a boolean" },
                { "{" HEAD "," ROOTFS ",\"container_config\":{\"User\":0}}",
                  "'container_config.User' must be a string" },
                { "{" HEAD "," ROOTFS ",\"history\":{}}", "'history' must be an array" },
                { "{" HEAD "," ROOTFS ",\"history\":[{},{}]}",
                  "history has 2 non-empty entries but rootfs has 1 layers" },
                { "{" HEAD "," ROOTFS ",\"history\":[{\"empty_layer\":\"no\"}]}",
                  "'history[0].empty_layer' must be a boolean" },
                { "{" HEAD "," ROOTFS ",\"history\":[{\"created\":\"2024-02-30T00:00:00Z\"}]}",
                  "'history.created': invalid time '2024-02-30T00:00:00Z'" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_config_ struct image_config *c = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                printf("# %zu\n", i);
                int r = image_config_parse(table[i].doc, strlen(table[i].doc), &c, &e);
                if (!table[i].msg) {
                        ASSERT_OK_E(r, e);
                        continue;
                }
                ASSERT_ERR(r, ST_E_PARSE);
                ASSERT_TRUE(c == NULL);
                _cleanup_free_ char *want = xasprintf("invalid image config: %s", table[i].msg);
                ASSERT_STREQ(st_error_msg(e), want);
        }
        _cleanup_config_ struct image_config *c = NULL;
        ASSERT_ERR(image_config_parse("{", 1, &c, NULL), ST_E_PARSE);
}

static const struct {
        const char *changes[3]; /* applied in order to the golden config */
        const char *key, *want; /* canonical JSON of config[key] afterwards */
} change_table[] = {
        { { "CMD [\"a\", \"b\"]" }, "Cmd", "[\"a\",\"b\"]" },
        { { "cmd echo \"hi\"  " },
          "Cmd",
          "[\"/bin/bash\",\"-o\",\"pipefail\",\"-c\",\"echo \\\"hi\\\"\"]" },
        { { "CMD [not json" }, "Cmd", "[\"/bin/bash\",\"-o\",\"pipefail\",\"-c\",\"[not json\"]" },
        { { "ENTRYPOINT [\"/e\"]" }, "Cmd", "null" },
        { { "ENTRYPOINT [\"/e\"]" }, "Entrypoint", "[\"/e\"]" },
        { { "CMD [\"c\"]", "ENTRYPOINT /e" }, "Cmd", "[\"c\"]" },
        { { "ENV PATH=/x:$PATH" },
          "Env",
          "[\"PATH=/x:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
          "\"APP_HOME=/srv/app\"]" },
        { { "ENV PATH=/bin", "env A=1 B=\"two words\" C=${APP_HOME}/x D='$A' E=${NOPE:-d}" },
          "Env",
          "[\"PATH=/bin\",\"APP_HOME=/srv/app\",\"A=1\",\"B=two words\",\"C=/srv/app/x\","
          "\"D=$A\",\"E=d\"]" },
        { { "ENV PATH=/bin", "ENV LEGACY some  value", "ENV X=a\\ b" },
          "Env",
          "[\"PATH=/bin\",\"APP_HOME=/srv/app\",\"LEGACY=some  value\",\"X=a b\"]" },
        { { "EXPOSE 80 53/UDP 8000-8002/tcp" },
          "ExposedPorts",
          "{\"53/udp\":{},\"80/tcp\":{},\"8000/tcp\":{},\"8001/tcp\":{},\"8002/tcp\":{},"
          "\"8080/tcp\":{}}" },
        { { "LABEL a=b \"c d\"=e", "LABEL maintainer"
                                   "=x" },
          "Labels",
          "{\"a\":\"b\",\"c d\":\"e\",\"maintainer\":\"x\","
          "\"org.opencontainers.image.source\":\"https://example.com/app\"}" },
        { { "ONBUILD RUN echo $HOME" },
          "OnBuild",
          "[\"COPY . /srv/app/src\",\"RUN make -C /srv/app/src\",\"RUN echo $HOME\"]" },
        { { "STOPSIGNAL SIGKILL" }, "StopSignal", "\"SIGKILL\"" },
        { { "stopsignal 9" }, "StopSignal", "\"9\"" },
        { { "USER nobody:nogroup" }, "User", "\"nobody:nogroup\"" },
        { { "VOLUME [\"/a\", \"/b c\"]", "VOLUME /c /d" },
          "Volumes",
          "{\"/a\":{},\"/b c\":{},\"/c\":{},\"/d\":{},\"/data\":{}}" },
        { { "WORKDIR /srv", "WORKDIR app/../x//y/." }, "WorkingDir", "\"/srv/x/y\"" },
        { { "WORKDIR $APP_HOME/sub" }, "WorkingDir", "\"/srv/app/sub\"" },
        { { "WORKDIR /../.." }, "WorkingDir", "\"/\"" },
};

TEST(changes)
{
        for (size_t i = 0; i < ELEMENTSOF(change_table); i++) {
                _cleanup_config_ struct image_config *c = load_golden();
                ASSERT_TRUE(c);
                for (size_t j = 0; j < 3 && change_table[i].changes[j]; j++) {
                        _cleanup_error_ struct st_error *e = NULL;
                        printf("# %s\n", change_table[i].changes[j]);
                        ASSERT_OK_E(image_config_apply_change(c, change_table[i].changes[j], &e),
                                    e);
                }
                _cleanup_free_ char *got = container_key(c, change_table[i].key);
                ASSERT_STREQ(got, change_table[i].want);
        }
}

TEST(change_default_shell)
{
        _cleanup_config_ struct image_config *c = image_config_new(NULL);
        ASSERT_OK(image_config_apply_change(c, "CMD echo hi", NULL));
        _cleanup_free_ char *got = container_key(c, "Cmd");
        ASSERT_STREQ(got, "[\"/bin/sh\",\"-c\",\"echo hi\"]");
        ASSERT_OK(image_config_apply_change(c, "WORKDIR rel", NULL));
        _cleanup_free_ char *wd = container_key(c, "WorkingDir");
        ASSERT_STREQ(wd, "\"/rel\"");
}

static const struct {
        const char *change, *msg;
} bad_changes[] = {
        { "RUN make", "invalid change 'RUN make': unknown instruction" },
        { "", "invalid change '': unknown instruction" },
        { "ENV", "invalid change 'ENV': ENV requires at least one argument" },
        { "ENV A", "invalid change 'ENV A': ENV must have two arguments" },
        { "ENV A=1 B", "invalid change 'ENV A=1 B': can't find = in \"B\", must be of the form: "
                       "name=value" },
        { "ENV =x", "invalid change 'ENV =x': ENV names can not be blank" },
        { "ENV A=\"x", "invalid change 'ENV A=\"x': unexpected end of statement while looking "
                       "for matching double-quote" },
        { "ENV A=${B", "invalid change 'ENV A=${B': missing '}' in variable substitution" },
        { "ENV A=${B?x}", "invalid change 'ENV A=${B?x}': bad substitution '${B?x}'" },
        { "EXPOSE 80/foo", "invalid change 'EXPOSE 80/foo': invalid proto 'foo'" },
        { "EXPOSE abc", "invalid change 'EXPOSE abc': invalid containerPort: abc" },
        { "EXPOSE 70000", "invalid change 'EXPOSE 70000': invalid containerPort: 70000" },
        { "EXPOSE 90-80", "invalid change 'EXPOSE 90-80': invalid range specified for port: "
                          "90-80" },
        { "STOPSIGNAL NOPE", "invalid change 'STOPSIGNAL NOPE': invalid signal: NOPE" },
        { "USER a b", "invalid change 'USER a b': USER requires exactly one argument" },
        { "ONBUILD ONBUILD RUN x", "invalid change 'ONBUILD ONBUILD RUN x': chaining ONBUILD "
                                   "via 'ONBUILD ONBUILD' isn't allowed" },
        { "ONBUILD from x", "invalid change 'ONBUILD from x': from isn't allowed as an ONBUILD "
                            "trigger" },
        { "VOLUME [\"\"]", "invalid change 'VOLUME [\"\"]': VOLUME specified can not be an empty "
                           "string" },
};

TEST(bad_changes)
{
        for (size_t i = 0; i < ELEMENTSOF(bad_changes); i++) {
                _cleanup_config_ struct image_config *c = load_golden();
                _cleanup_error_ struct st_error *e = NULL;
                _cleanup_free_ char *before = image_config_write(c);
                ASSERT_ERR(image_config_apply_change(c, bad_changes[i].change, &e), ST_E_PARSE);
                ASSERT_STREQ(st_error_msg(e), bad_changes[i].msg);
                _cleanup_free_ char *after = image_config_write(c);
                ASSERT_STREQ(before, after);
        }
}

TEST(times)
{
        static const struct {
                const char *s;
                int64_t sec;
        } good[] = {
                { "1970-01-01T00:00:00Z", 0 },
                { "2024-02-29T12:00:00.5Z", 1709208000 },
                { "2024-02-29T13:00:00+01:00", 1709208000 },
                { "2024-02-29t11:30:00.123456789-00:30", 1709208000 },
                { "0001-01-01T00:00:00Z", -62135596800LL },
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                int64_t t = 0;
                ASSERT_OK(image_time_parse(good[i].s, &t));
                ASSERT_EQ(t, good[i].sec);
        }
        static const char *const bad[] = {
                "",
                "2024-02-29",
                "2024-02-29T12:00:00",
                "2024-13-01T00:00:00Z",
                "2023-02-29T00:00:00Z",
                "2024-01-01T24:00:00Z",
                "2024-01-01T00:00:00.Z",
                "2024-01-01T00:00:00Zx",
                "2024-01-01T00:00:00+0100",
                "2024-01-01 00:00:00Z",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int64_t t = 0;
                ASSERT_ERR(image_time_parse(bad[i], &t), -EINVAL);
        }
        _cleanup_free_ char *now = image_time_now();
        int64_t t = 0;
        ASSERT_OK(image_time_parse(now, &t));
        ASSERT_TRUE(t > 1700000000);
        ASSERT_TRUE(endswith(now, "Z"));
        ASSERT_TRUE(!strchr(now, '.') || !endswith(now, "0Z")); /* Go trims zeros */
}

TEST(time_format_is_rfc3339_without_fraction)
{
        _cleanup_free_ char *a = image_time_format(0);
        ASSERT_STREQ(a, "1970-01-01T00:00:00Z");
        _cleanup_free_ char *b = image_time_format(1700000000);
        ASSERT_STREQ(b, "2023-11-14T22:13:20Z");
        int64_t t = 0;
        ASSERT_OK(image_time_parse(b, &t));
        ASSERT_EQ(t, 1700000000);
}
