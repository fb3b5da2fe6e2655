/* src/runtime beyond the spec: the overlay mount (both ways), the json-file log, the mapping of
 * runtime errors to exit codes. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/util.h"
#include "runtime/exec.h"
#include "runtime/logfile.h"
#include "runtime/mount.h"
#include "tap.h"

static char *tmp_path(const char *name)
{
        return xasprintf("%s/%s", tap_tmpdir, name);
}

static void write_text(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
                (void)write_full(fd, text, strlen(text));
                close(fd);
        }
}

static char *read_text(const char *path)
{
        char *buf = NULL;
        size_t len = 0;
        if (read_full_file_at(AT_FDCWD, path, 1 << 20, &buf, &len) < 0)
                return NULL;
        return buf;
}

/* Two lower dirs (l1 below l2, l2 hides l1's 'b'), mounted, written to, unmounted. */
static void overlay_round_trip(bool legacy)
{
        if (geteuid() != 0) {
                printf("# skipped: overlay mounts need root\n");
                return;
        }
        const char *dirs[] = { "l1", "l2", "up", "wk", "m", "links" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *p = tmp_path(dirs[i]);
                ASSERT_OK(mkdir_p_at(AT_FDCWD, p, 0755));
        }
        _cleanup_free_ char *a = tmp_path("l1/a"), *b = tmp_path("l1/b"), *c = tmp_path("l2/c");
        write_text(a, "a1\n");
        write_text(b, "b1\n");
        write_text(c, "c2\n");
        _cleanup_free_ char *wh = tmp_path("l2/b");
        ASSERT_OK(mknod(wh, S_IFCHR | 0000, makedev(0, 0)) < 0 ? -errno : 0);
        _cleanup_free_ char *l1 = tmp_path("l1"), *l2 = tmp_path("l2");
        _cleanup_free_ char *s1 = tmp_path("links/1"), *s2 = tmp_path("links/2");
        ASSERT_OK(symlink(l1, s1) < 0 ? -errno : 0);
        ASSERT_OK(symlink(l2, s2) < 0 ? -errno : 0);
        char *lowers[] = { l2, l1, NULL }, *shorts[] = { "links/2", "links/1", NULL };
        _cleanup_free_ char *up = tmp_path("up"), *wk = tmp_path("wk"), *m = tmp_path("m");
        struct runtime_overlay o = { .lowers = lowers,
                                     .short_lowers = shorts,
                                     .short_base = tap_tmpdir,
                                     .upper = up,
                                     .work = wk };
        _cleanup_error_ struct st_error *e = NULL;
        runtime_overlay_force_legacy(legacy);
        ASSERT_OK_E(runtime_overlay_mount(&o, m, &e), e);
        runtime_overlay_force_legacy(false);
        ASSERT_TRUE(runtime_is_mountpoint(m));
        _cleanup_free_ char *ma = tmp_path("m/a"), *mb = tmp_path("m/b"), *mc = tmp_path("m/c");
        _cleanup_free_ char *ta = read_text(ma), *tc = read_text(mc);
        ASSERT_STREQ(ta, "a1\n");
        ASSERT_STREQ(tc, "c2\n");
        ASSERT_TRUE(access(mb, F_OK) < 0);
        _cleanup_free_ char *mn = tmp_path("m/new");
        write_text(mn, "new\n");
        ASSERT_OK_E(runtime_overlay_unmount(m, &e), e);
        ASSERT_TRUE(!runtime_is_mountpoint(m));
        ASSERT_OK_E(runtime_overlay_unmount(m, &e), e); /* twice is fine */
        _cleanup_free_ char *un = tmp_path("up/new");
        _cleanup_free_ char *tn = read_text(un);
        ASSERT_STREQ(tn, "new\n");
        _cleanup_free_ char *l1new = tmp_path("l1/new");
        ASSERT_TRUE(access(l1new, F_OK) < 0);
}

TEST(overlay_new_mount_api)
{
        overlay_round_trip(false);
}

TEST(overlay_mount2_with_short_links)
{
        overlay_round_trip(true);
}

TEST(overlay_needs_a_lower)
{
        char *none[] = { NULL };
        struct runtime_overlay o = { .lowers = none, .upper = "/x", .work = "/y" };
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_ERR(runtime_overlay_mount(&o, "/nonexistent", &e), -EINVAL);
}

TEST(log_entries)
{
        _cleanup_free_ char *e1 = runtime_log_entry(RUNTIME_STDOUT, "hi \"x\"\n", 7, 0, 5);
        ASSERT_STREQ(e1, "{\"log\":\"hi \\\"x\\\"\\n\",\"stream\":\"stdout\","
                         "\"time\":\"1970-01-01T00:00:00.000000005Z\"}\n");
        _cleanup_free_ char *e2 = runtime_log_entry(RUNTIME_STDERR, "\xff\x01<é", 5, 1, 0);
        ASSERT_STREQ(e2, "{\"log\":\"\\ufffd\\u0001\\u003cé\",\"stream\":\"stderr\","
                         "\"time\":\"1970-01-01T00:00:01Z\"}\n");
        struct runtime_log_record r;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(runtime_log_parse(e1, &r, &e), e);
        ASSERT_STREQ(r.text, "hi \"x\"\n");
        ASSERT_EQ(r.stream, RUNTIME_STDOUT);
        runtime_log_record_release(&r);
        ASSERT_ERR(runtime_log_parse("{}", &r, &e), ST_E_PARSE);
}

TEST(log_lines_and_partials)
{
        _cleanup_free_ char *p = tmp_path("log");
        struct runtime_log *l = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(runtime_log_open(p, &l, &e), e);
        runtime_log_write(l, RUNTIME_STDOUT, "one\ntw", 6);
        runtime_log_write(l, RUNTIME_STDERR, "err\n", 4);
        runtime_log_write(l, RUNTIME_STDOUT, "o\nthree", 7);
        l = runtime_log_close(l); /* flushes "three" */
        _cleanup_free_ char *text = read_text(p);
        ASSERT_TRUE(text);
        const char *want[] = { "one\n", "err\n", "two\n", "three" };
        const char *line = text;
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                ASSERT_TRUE(line && *line);
                _cleanup_free_ char *one = xstrndup(line, strcspn(line, "\n"));
                struct runtime_log_record r;
                ASSERT_OK_E(runtime_log_parse(one, &r, &e), e);
                ASSERT_STREQ(r.text, want[i]);
                ASSERT_EQ(r.stream, i == 1 ? RUNTIME_STDERR : RUNTIME_STDOUT);
                runtime_log_record_release(&r);
                line = strchr(line, '\n');
                line = line ? line + 1 : NULL;
        }
        ASSERT_TRUE(!line || !*line);
}

TEST(runtime_errors_map_to_docker_exit_codes)
{
        ASSERT_EQ(runtime_oci_error_code("runc create failed: unable to start container process:"
                                         " exec: \"nope\": executable file not found in $PATH"),
                  ST_E_CMD_NOT_FOUND);
        ASSERT_EQ(runtime_oci_error_code("exec: \"/x\": stat /x: no such file or directory"),
                  ST_E_CMD_NOT_FOUND);
        ASSERT_EQ(runtime_oci_error_code("exec: \"/etc\": permission denied"),
                  ST_E_CMD_CANNOT_INVOKE);
        ASSERT_EQ(runtime_oci_error_code("cgroup: something else"), ST_E_RUNTIME);
        ASSERT_EQ(runtime_oci_error_code(NULL), ST_E_RUNTIME);
}

TEST(runtime_not_found)
{
        struct runtime_oci *rt = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_ERR(runtime_oci_new("no-such-runtime", "/nonexistent", "/tmp", &rt, &e),
                   ST_E_NOT_FOUND);
        ASSERT_TRUE(strstr(st_error_msg(e), "not found in PATH"));
        e = st_error_free(e);
        ASSERT_ERR(runtime_oci_new("/nonexistent/runc", NULL, "/tmp", &rt, &e), ST_E_NOT_FOUND);
        e = st_error_free(e);
        ASSERT_OK_E(runtime_oci_new("sh", "/nonexistent:/bin", "/tmp/st", &rt, &e), e);
        ASSERT_STREQ(rt->path, "/bin/sh");
        runtime_oci_free(rt);
}
