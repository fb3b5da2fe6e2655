/* The Dockerfile parser, construct by construct: each case is a Dockerfile and the dump it
 * must give, or the error (with its position) it must fail with. Dumps of the syntax were
 * checked against BuildKit's own parser. */
#include "basic/util.h"
#include "dockerfile/dockerfile.h"
#include "json/json.h"
#include "tap.h"

#define F  "FROM a\n"
#define FD "(from \"a\")\n"

struct dump_case {
        const char *in, *dump;
};

struct error_case {
        const char *in, *msg;
};

/* The dump of S, or "error: MESSAGE"; caller frees. */
static char *parse_dump(const char *s, size_t len)
{
        _cleanup_dockerfile_ struct dockerfile *df = NULL;
        _cleanup_error_ struct st_error *err = NULL;
        if (dockerfile_parse("Dockerfile", s, len, &df, &err) < 0)
                return xasprintf("error: %s", err->msg);
        return dockerfile_dump(df);
}

static struct dockerfile *parse_ok(const char *s)
{
        struct dockerfile *df = NULL;
        struct st_error *err = NULL;
        if (dockerfile_parse("Dockerfile", s, strlen(s), &df, &err) < 0) {
                printf("# %s\n", err->msg);
                st_error_free(err);
        }
        return df;
}

static int check_dumps(const struct dump_case *c, size_t n)
{
        int bad = 0;
        for (size_t k = 0; k < n; k++) {
                _cleanup_free_ char *got = parse_dump(c[k].in, strlen(c[k].in));
                if (!streq(got, c[k].dump)) {
                        printf("#   case %zu: got\n%s#   want\n%s", k, got, c[k].dump);
                        bad++;
                }
        }
        return bad;
}

static int check_errors(const struct error_case *c, size_t n)
{
        int bad = 0;
        for (size_t k = 0; k < n; k++) {
                _cleanup_free_ char *got = parse_dump(c[k].in, strlen(c[k].in));
                _cleanup_free_ char *want = xasprintf("error: Dockerfile:%s", c[k].msg);
                if (!streq(got, want)) {
                        printf("#   case %zu: got %s\n#   want %s\n", k, got, want);
                        bad++;
                }
        }
        return bad;
}

/* The warnings of S as "LINE Rule" lines; caller frees. */
static char *warnings_of(const char *s)
{
        _cleanup_dockerfile_ struct dockerfile *df = parse_ok(s);
        char *out = xstrdup("");
        for (size_t k = 0; df && k < df->n_warnings; k++) {
                char *n = xasprintf("%s%u %s\n", out, df->warnings[k].line, df->warnings[k].rule);
                free(out);
                out = n;
        }
        return out;
}

TEST(directives)
{
        static const struct dump_case c[] = {
                { "# escape=`\n" F "RUN a `\n  b\n", FD "(run \"a   b\")\n" },
                { "# escape=`\n" F "RUN dir c:\\\n", FD "(run \"dir c:\\\\\")\n" },
                /* after an instruction, a blank line or an unknown directive: a comment */
                { F "# escape=`\nRUN a `\nRUN b\n", FD "(run \"a `\")\n(run \"b\")\n" },
                { "\n# escape=`\n" F "RUN a `\nRUN b\n", FD "(run \"a `\")\n(run \"b\")\n" },
                { "# foo=bar\n# escape=`\n" F "RUN a `\nRUN b\n",
                  FD "(run \"a `\")\n(run \"b\")\n" },
                { "# Escape = ` \n" F "RUN a `\n b\n", FD "(run \"a  b\")\n" },
                { "  #\tESCAPE\t=\t`\t\n" F "RUN a `\n b\n", FD "(run \"a  b\")\n" },
                { "\xef\xbb\xbf# escape=`\n" F "RUN a `\n b\n", FD "(run \"a  b\")\n" },
                { "# escape=\n" F, FD },
        };
        ASSERT_EQ(check_dumps(c, ELEMENTSOF(c)), 0);
        static const struct error_case e[] = {
                { "#escape=x\n" F, "1:1: invalid escape token 'x' does not match ` or \\" },
                { "# escape=   \n" F, "1:1: invalid escape token ' ' does not match ` or \\" },
                { "# escape=`\n# ESCAPE=\\\n" F,
                  "2:1: only one escape parser directive can be used" },
                { "# syntax=a\n# syntax=b\n" F,
                  "2:1: only one syntax parser directive can be used" },
                { "# check=foo\n" F, "1:1: invalid check option \"foo\"" },
                { "# check=error=maybe\n" F, "1:1: failed to parse check option \"error=maybe\"" },
        };
        ASSERT_EQ(check_errors(e, ELEMENTSOF(e)), 0);
        _cleanup_dockerfile_ struct dockerfile *df =
                parse_ok("# syntax=docker/dockerfile:1.7\n# escape=`\n# check=error=true\n" F);
        ASSERT_TRUE(df);
        ASSERT_EQ(df->n_directives, 3);
        ASSERT_STREQ(df->directives[0].name, "syntax");
        ASSERT_STREQ(df->directives[0].value, "docker/dockerfile:1.7");
        ASSERT_EQ(df->directives[1].line, 2);
        ASSERT_EQ(df->escape, '`');
        ASSERT_TRUE(df->check_error);
}

TEST(comments_and_continuations)
{
        static const struct dump_case c[] = {
                { F "  # indented\nRUN echo # not a comment\n",
                  FD "(run \"echo # not a comment\")\n" },
                { F "RUN a \\\n# c\n   # c2\n  b\n", FD "(run \"a   b\")\n" },
                { F "RUN a \\  \t\n  b\n", FD "(run \"a   b\")\n" },
                { F "RUN a \\\n\n   \n  b\n", FD "(run \"a   b\")\n" },
                { F "RUN a \\", FD "(run \"a\")\n" },
                { F "RUN a \\\\\nRUN b\n", FD "(run \"a \\\\\\\\\")\n(run \"b\")\n" },
                { F "RUN a\\\n\\\n  b\n", FD "(run \"a  b\")\n" },
                { "from a\r\nrun a \\\r\n b\r\n", "(from \"a\")\n(run \"a  b\")\n" },
                { "FROM\ta\nRUN\x0b  a\n", FD "(run \"a\")\n" },
                { F "   \\\n  RUN b\n", FD "(run \"b\")\n" },
        };
        ASSERT_EQ(check_dumps(c, ELEMENTSOF(c)), 0);
        _cleanup_dockerfile_ struct dockerfile *df =
                parse_ok("# c\n\nFROM a\n\nRUN a \\\n\n  # c\n  b \\\n  c\nUSER x\n");
        ASSERT_TRUE(df);
        ASSERT_EQ(df->instructions[0].line, 3);
        ASSERT_EQ(df->instructions[1].line, 5);
        ASSERT_EQ(df->instructions[1].end_line, 9);
        ASSERT_STREQ(df->instructions[1].original, "RUN a   b   c");
        ASSERT_EQ(df->instructions[2].line, 10);
        ASSERT_EQ(df->n_warnings, 1);
        ASSERT_STREQ(df->warnings[0].rule, "NoEmptyContinuation");
        ASSERT_EQ(df->warnings[0].line, 9);
}

TEST(exec_and_shell_form)
{
        static const struct dump_case c[] = {
                { F "CMD [\"a\", \"b c\"]\n", FD "(cmd \"a\" \"b c\")\n" },
                { F "CMD\t[ \"a\" ,\t\"b\" ]\t\n", FD "(cmd \"a\" \"b\")\n" },
                { F "CMD [\"a\" \"b\"]\n", FD "(cmd \"[\\\"a\\\" \\\"b\\\"]\")\n" },
                { F "CMD [ -f x ]\n", FD "(cmd \"[ -f x ]\")\n" },
                { F "CMD ['a']\n", FD "(cmd \"['a']\")\n" },
                { F "CMD [\"a\"] x\n", FD "(cmd \"[\\\"a\\\"] x\")\n" },
                { F "CMD []\n", FD "(cmd)\n" },
                /* Go cannot decode 1e999 into a float64: not JSON to BuildKit */
                { F "CMD [\"a\", {\"b\": [1e999]}]\n",
                  FD "(cmd \"[\\\"a\\\", {\\\"b\\\": [1e999]}]\")\n" },
                { F "CMD\n", FD "(cmd)\n" },
                { F "ENTRYPOINT [\"/bin/sh\", \"-c\"]\n", FD "(entrypoint \"/bin/sh\" \"-c\")\n" },
                { F "RUN [\"echo\", \"\\u00e9\\n\\t\\/\"]\n", FD "(run \"echo\" \"é\\n\\t/\")\n" },
                { F "RUN [\"\\ud83d\\ude00\", \"\\ud800x\", \"\xff\"]\n",
                  FD "(run \"😀\" \"\xef\xbf\xbdx\" \"\xef\xbf\xbd\")\n" },
                { F "SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\n",
                  FD "(shell \"/bin/bash\" \"-eo\" \"pipefail\" \"-c\")\n" },
                { F "COPY [\"a b\", \"/c\"]\n", FD "(copy \"a b\" \"/c\")\n" },
                { F "COPY a  b \t /c\n", FD "(copy \"a\" \"b\" \"/c\")\n" },
                { F "VOLUME [\"/a\", \"/b\"]\nVOLUME /c /d\n",
                  FD "(volume \"/a\" \"/b\")\n(volume \"/c\" \"/d\")\n" },
                { F "HEALTHCHECK CMD [\"curl\", \"-f\", \"x\"]\n",
                  FD "(healthcheck \"CMD\" \"curl\" \"-f\" \"x\")\n" },
                { F "HEALTHCHECK --timeout=3s CMD curl -f x || exit 1\n",
                  FD "(healthcheck [\"--timeout=3s\"] \"CMD\" \"curl -f x || exit 1\")\n" },
                { F "HEALTHCHECK NONE\n", FD "(healthcheck \"NONE\")\n" },
        };
        ASSERT_EQ(check_dumps(c, ELEMENTSOF(c)), 0);
        static const struct error_case e[] = {
                { F "CMD [\"a\", 1]\n",
                  "2:5: when using JSON array syntax, arrays must be comprised of strings only" },
                { F "CMD [1e-999, 1E308, -0.5e+3]\n",
                  "2:5: when using JSON array syntax, arrays must be comprised of strings only" },
                { F "COPY [\"a\", [\"b\"]]\n",
                  "2:6: when using JSON array syntax, arrays must be comprised of strings only" },
                { F "SHELL /bin/bash -c\n",
                  "2:1: SHELL requires the arguments to be in JSON form" },
                { F "SHELL []\n", "2:1: SHELL requires at least one argument" },
                { F "RUN [\"a\\u0000b\"]\n", "2:5: JSON strings with \\u0000 are not supported" },
        };
        ASSERT_EQ(check_errors(e, ELEMENTSOF(e)), 0);
        _cleanup_dockerfile_ struct dockerfile *df = parse_ok(F "CMD [\"a\"]\nRUN a b\n");
        ASSERT_TRUE(df && df->instructions[1].exec_form && !df->instructions[2].exec_form);
        ASSERT_EQ(df->instructions[2].n_args, 1);
        _cleanup_free_ char *w = warnings_of(F "CMD [\"a\" \"b\"]\nRUN [ -f x ] && y\n");
        ASSERT_STREQ(w, "2 InvalidJSONArgs\n2 JSONArgsRecommended\n");
}

TEST(flags)
{
        static const struct dump_case c[] = {
                { F "COPY --from=build --chown=1000:1000 --chmod=644 --link a /b\n",
                  FD "(copy [\"--from=build\" \"--chown=1000:1000\" \"--chmod=644\" \"--link\"] "
                     "\"a\" \"/b\")\n" },
                { F "COPY --parents --exclude=*.md --exclude=*.txt . /src/\n",
                  FD "(copy [\"--parents\" \"--exclude=*.md\" \"--exclude=*.txt\"] \".\" "
                     "\"/src/\")\n" },
                { F
                  "ADD --checksum=sha256:ab --keep-git-dir=true --unpack=FALSE --link=false x /y\n",
                  FD "(add [\"--checksum=sha256:ab\" \"--keep-git-dir=true\" \"--unpack=FALSE\" "
                     "\"--link=false\"] \"x\" \"/y\")\n" },
                { F "RUN --mount=from=build$,target=/x --mount=FROM=b,src=$D x\n", FD
                  "(run [\"--mount=from=build$,target=/x\" \"--mount=FROM=b,src=$D\"] \"x\")\n" },
                { F "RUN --mount=type=cache,target=/c --network=none --security=insecure make\n",
                  FD "(run [\"--mount=type=cache,target=/c\" \"--network=none\" "
                     "\"--security=insecure\"] \"make\")\n" },
                { "FROM --platform=$BUILDPLATFORM golang AS build\n",
                  "(from [\"--platform=$BUILDPLATFORM\"] \"golang\" \"AS\" \"build\")\n" },
                { F "COPY --chown=\"a b\" --chmod='7'\\55 x y\n",
                  FD "(copy [\"--chown=a b\" \"--chmod=755\"] \"x\" \"y\")\n" },
                { F "COPY -- --weird /d\n", FD "(copy \"--weird\" \"/d\")\n" },
                { F "RUN echo --foo\n", FD "(run \"echo --foo\")\n" },
                { F "COPY --chown=josé a b\n", FD "(copy [\"--chown=josé\"] \"a\" \"b\")\n" },
        };
        ASSERT_EQ(check_dumps(c, ELEMENTSOF(c)), 0);
        static const struct error_case e[] = {
                { F "COPY --form=x a b\n", "2:6: unknown flag: --form" },
                { F "COPY --from=a  --from=b x y\n", "2:16: duplicate flag specified: --from" },
                { F "COPY --from x y\n", "2:6: missing a value on flag: --from" },
                { F "COPY --link= x y\n", "2:6: missing a value on flag: --link" },
                { F "COPY --link=yes x y\n",
                  "2:6: expecting boolean value for flag --link, not: yes" },
                { F "ADD --from=x a b\n", "2:5: unknown flag: --from" },
                { F "COPY --unpack a b\n", "2:6: unknown flag: --unpack" },
                { F "RUN --network=bridge x\n", "2:5: invalid network mode \"bridge\"" },
                { F "RUN --security=x y\n", "2:5: security \"x\" is not valid" },
                { F "RUN --mount=type=bind,from=$STAGE,target=/x y\n",
                  "2:5: 'from' doesn't support variable expansion, define alias stage instead" },
                { F "ENV --x a=b\n", "2:5: unknown flag: --x" },
                { F "CMD --x y\n", "2:5: unknown flag: --x" },
                { F "USER --x y\n", "2:6: unknown flag: --x" },
                { "FROM --platform a\n", "1:6: missing a value on flag: --platform" },
        };
        ASSERT_EQ(check_errors(e, ELEMENTSOF(e)), 0);
        _cleanup_dockerfile_ struct dockerfile *df =
                parse_ok(F "COPY --exclude=a --link \\\n   --exclude=b x y\n");
        ASSERT_TRUE(df);
        const struct dockerfile_instruction *i = &df->instructions[1];
        ASSERT_EQ(i->n_flags, 3);
        ASSERT_TRUE(i->flags[1].value == NULL);
        ASSERT_EQ(i->flags[2].line, 3);
        ASSERT_EQ(i->flags[2].column, 4);
        ASSERT_STREQ(dockerfile_instruction_flag(i, "exclude")->value, "b");
        ASSERT_TRUE(dockerfile_instruction_flag(i, "from") == NULL);
        _cleanup_free_ char *w = warnings_of(F "ARG --x a\nSTOPSIGNAL --y 9\n");
        ASSERT_STREQ(w, "2 IgnoredFlags\n3 IgnoredFlags\n");
}

TEST(healthcheck)
{
        static const struct error_case e[] = {
                { F "HEALTHCHECK\n", "2:1: HEALTHCHECK requires at least one argument" },
                { F "HEALTHCHECK CMD\n", "2:1: Missing command after HEALTHCHECK CMD" },
                { F "HEALTHCHECK CMD []\n", "2:1: Missing command after HEALTHCHECK CMD" },
                { F "HEALTHCHECK NONE x\n", "2:1: HEALTHCHECK NONE takes no arguments" },
                { F "HEALTHCHECK connect tcp\n",
                  "2:1: Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)" },
                { F "HEALTHCHECK --interval=5x CMD x\n", "2:13: time: invalid duration \"5x\"" },
                { F "HEALTHCHECK --timeout=500us CMD x\n",
                  "2:13: Interval \"timeout\" cannot be less than 1ms" },
                { F "HEALTHCHECK --retries=-1 CMD x\n", "2:13: --retries cannot be negative (-1)" },
                { F "HEALTHCHECK --retries=x CMD x\n",
                  "2:13: strconv.ParseInt: parsing \"x\": invalid syntax" },
                { F "HEALTHCHECK --retries=2147483648 CMD x\n",
                  "2:13: strconv.ParseInt: parsing \"2147483648\": value out of range" },
                { F "HEALTHCHECK --start-after=1s CMD x\n", "2:13: unknown flag: --start-after" },
        };
        ASSERT_EQ(check_errors(e, ELEMENTSOF(e)), 0);
        _cleanup_dockerfile_ struct dockerfile *df =
                parse_ok(F "HEALTHCHECK --interval=0s --timeout=1m30s --start-period=1.5h "
                           "--start-interval=2s --retries=0 CMD x\nHEALTHCHECK --x=1 NONE\n");
        ASSERT_TRUE(df && df->n_instructions == 3);
}

TEST(heredocs)
{
        static const struct dump_case c[] = {
                { F "RUN <<EOF\necho hi\nEOF\n", FD "(run \"<<EOF\" \"echo hi\\n\")\n" },
                { F "RUN <<-EOF\n\techo hi\n\tEOF\n", FD "(run \"<<-EOF\" \"\\techo hi\\n\")\n" },
                { F "COPY <<a <<b /d/\n1\na\n2\nb\n",
                  FD "(copy \"<<a\" \"<<b\" \"/d/\" \"1\\n\" \"2\\n\")\n" },
                { F "RUN <<EOF python3\nprint(1)\nEOF\nUSER x\n",
                  FD "(run \"<<EOF python3\" \"print(1)\\n\")\n(user \"x\")\n" },
                { F "RUN [\"<<EOF\"]\nUSER x\n", FD "(run \"<<EOF\")\n(user \"x\")\n" },
                { F "RUN echo \"<<EOF\"\nUSER x\n",
                  FD "(run \"echo \\\"<<EOF\\\"\")\n(user \"x\")\n" },
                { F "CMD <<EOF\nUSER x\n", FD "(cmd \"<<EOF\")\n(user \"x\")\n" },
                { F "ONBUILD RUN <<EOF\nx\nEOF\n", FD "(onbuild (run \"<<EOF\" \"x\\n\"))\n" },
                { F "RUN cat <<EOF | sh \\\n  && echo done\nx\nEOF\n",
                  FD "(run \"cat <<EOF | sh   && echo done\" \"x\\n\")\n" },
                { F "RUN <<EOF\r\nx\r\nEOF\r\n", FD "(run \"<<EOF\" \"x\\r\\n\")\n" },
                { F "RUN <<EOF\n# not a comment\n\n  EOF\nEOF",
                  FD "(run \"<<EOF\" \"# not a comment\\n\\n  EOF\\n\")\n" },
                { F "RUN <<  EOF  > f\nEOF\n", FD "(run \"<<  EOF  > f\" \"\")\n" },
                { F "RUN echo 'x <<EOF\nUSER x\n", FD "(run \"echo 'x <<EOF\")\n(user \"x\")\n" },
        };
        ASSERT_EQ(check_dumps(c, ELEMENTSOF(c)), 0);
        static const struct error_case e[] = {
                { F "RUN <<EOF\nx\n", "2:5: unterminated heredoc 'EOF'" },
                { F "COPY <<a <<b /d\n1\na\n", "2:10: unterminated heredoc 'b'" },
                { F "COPY a <<EOF\nx\nEOF\n",
                  "2:1: COPY cannot accept a heredoc as a destination" },
        };
        ASSERT_EQ(check_errors(e, ELEMENTSOF(e)), 0);
        _cleanup_dockerfile_ struct dockerfile *df =
                parse_ok(F "RUN 3<<-'EOF' <<E\"O\"F2 <<EOF3 cat\n\t$x\n\tEOF\nb\nEOF2\nEOF3\n");
        ASSERT_TRUE(df);
        const struct dockerfile_instruction *i = &df->instructions[1];
        ASSERT_EQ(i->n_heredocs, 3);
        ASSERT_EQ(i->end_line, 7);
        ASSERT_STREQ(i->heredocs[0].name, "EOF");
        ASSERT_EQ(i->heredocs[0].fd, 3);
        ASSERT_TRUE(i->heredocs[0].chomp && !i->heredocs[0].expand);
        ASSERT_STREQ(i->heredocs[0].content, "\t$x\n");
        _cleanup_free_ char *text = dockerfile_heredoc_text(&i->heredocs[0]);
        ASSERT_STREQ(text, "$x\n");
        ASSERT_STREQ(i->heredocs[1].name, "EOF2");
        ASSERT_TRUE(!i->heredocs[1].expand && !i->heredocs[1].chomp);
        ASSERT_TRUE(i->heredocs[2].expand);
        ASSERT_STREQ(i->heredocs[2].content, "");
}

TEST(env_label_arg)
{
        static const struct dump_case c[] = {
                { F "ENV a=b c=\"d e\" f=g\\ h\n", FD
                  "(env \"a\" \"b\" \"=\" \"c\" \"\\\"d e\\\"\" \"=\" \"f\" \"g\\\\ h\" \"=\")\n" },
                { F "ENV name value with  spaces\n",
                  FD "(env \"name\" \"value with  spaces\" \"\")\n" },
                { F "ENV a='x y' b=\"x\\\"y\"\n",
                  FD "(env \"a\" \"'x y'\" \"=\" \"b\" \"\\\"x\\\\\\\"y\\\"\" \"=\")\n" },
                { F "LABEL \"com.example.vendor\"=\"ACME\" version=1.0 \\\n      empty=\n",
                  FD "(label \"\\\"com.example.vendor\\\"\" \"\\\"ACME\\\"\" \"=\" \"version\" "
                     "\"1.0\" \"=\" \"empty\" \"\" \"=\")\n" },
                { F "ENV x=\xff\n", FD "(env \"x\" \"\xef\xbf\xbd\" \"=\")\n" },
                { "ARG a\nARG b=1 c d=\nFROM x\n",
                  "(arg \"a\")\n(arg \"b=1\" \"c\" \"d=\")\n(from \"x\")\n" },
        };
        ASSERT_EQ(check_dumps(c, ELEMENTSOF(c)), 0);
        static const struct error_case e[] = {
                { F "ENV a\n", "2:1: ENV must have two arguments" },
                { F "LABEL a\n", "2:1: LABEL must have two arguments" },
                { F "ENV a=b  c\n",
                  "2:10: Syntax error - can't find = in \"c\". Must be of the form: name=value" },
                { F "ENV =x\n", "2:1: ENV names can not be blank" },
                { F "LABEL\n", "2:1: LABEL requires at least one argument" },
                { F "ARG\n", "2:1: ARG requires at least one argument" },
                { F "ARG =x\n", "2:1: ARG names can not be blank" },
        };
        ASSERT_EQ(check_errors(e, ELEMENTSOF(e)), 0);
        _cleanup_dockerfile_ struct dockerfile *df = parse_ok("ARG A B=2\n" F "ENV K V\n");
        ASSERT_TRUE(df);
        ASSERT_EQ(df->instructions[0].n_pairs, 2);
        ASSERT_TRUE(df->instructions[0].pairs[0].value == NULL);
        ASSERT_STREQ(df->instructions[0].pairs[1].value, "2");
        ASSERT_TRUE(df->instructions[2].pairs[0].legacy);
        ASSERT_EQ(df->n_warnings, 1);
        ASSERT_STREQ(df->warnings[0].rule, "LegacyKeyValueFormat");
}

TEST(onbuild)
{
        static const struct dump_case c[] = {
                { F "ONBUILD RUN make\n", FD "(onbuild (run \"make\"))\n" },
                { F "onbuild   copy --from=a a b  \n",
                  FD "(onbuild (copy [\"--from=a\"] \"a\" \"b\"))\n" },
                { F "ONBUILD ENV a=1\n", FD "(onbuild (env \"a\" \"1\" \"=\"))\n" },
        };
        ASSERT_EQ(check_dumps(c, ELEMENTSOF(c)), 0);
        static const struct error_case e[] = {
                { F "ONBUILD\n", "2:1: ONBUILD requires at least one argument" },
                { F "ONBUILD ONBUILD RUN x\n",
                  "2:1: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed" },
                { F "ONBUILD from x\n", "2:1: FROM isn't allowed as an ONBUILD trigger" },
                { F "ONBUILD MAINTAINER x\n",
                  "2:1: MAINTAINER isn't allowed as an ONBUILD trigger" },
                { F "ONBUILD FOO x\n", "2:9: unknown instruction: FOO" },
                { F "ONBUILD COPY --x a b\n", "2:14: unknown flag: --x" },
                { F "ONBUILD --x RUN y\n", "2:9: unknown flag: --x" },
        };
        ASSERT_EQ(check_errors(e, ELEMENTSOF(e)), 0);
        _cleanup_dockerfile_ struct dockerfile *df = parse_ok(F "ONBUILD   RUN  a \\\n b  \n");
        ASSERT_TRUE(df && df->instructions[1].trigger);
        ASSERT_STREQ(df->instructions[1].trigger->original, "RUN  a  b  ");
        ASSERT_EQ(df->instructions[1].trigger->kind, DOCKERFILE_RUN);
        ASSERT_EQ(df->instructions[1].trigger->column, 11);
}

TEST(other_instructions)
{
        static const struct dump_case c[] = {
                { F "MAINTAINER Jane Doe <jane@example.com>\n",
                  FD "(maintainer \"Jane Doe <jane@example.com>\")\n" },
                { F "EXPOSE 80 443/tcp 53/udp 8000-8010 ${PORT}\n",
                  FD "(expose \"80\" \"443/tcp\" \"53/udp\" \"8000-8010\" \"${PORT}\")\n" },
                { F "STOPSIGNAL SIGKILL\nUSER app:app\nWORKDIR /a b\n",
                  FD "(stopsignal \"SIGKILL\")\n(user \"app:app\")\n(workdir \"/a b\")\n" },
                { "FROM a AS b\nFROM b as c\nfrom c\n",
                  "(from \"a\" \"AS\" \"b\")\n(from \"b\" \"as\" \"c\")\n(from \"c\")\n" },
        };
        ASSERT_EQ(check_dumps(c, ELEMENTSOF(c)), 0);
        static const struct error_case e[] = {
                { F "EXPOSE\n", "2:1: EXPOSE requires at least one argument" },
                { F "EXPOSE 80/xyz\n", "2:1: invalid port: \"80/xyz\": invalid proto: xyz" },
                { F "EXPOSE 70000\n", "2:1: invalid containerPort: 70000" },
                { F "EXPOSE 90-80\n", "2:1: invalid containerPort: 90-80" },
                { F "EXPOSE /tcp\n", "2:1: invalid port: \"/tcp\": no port specified" },
                { F "EXPOSE 80-81:90-92\n",
                  "2:1: invalid ranges specified for container and host Ports: 90-92 and 80-81" },
                { F "USER\n", "2:1: USER requires exactly one argument" },
                { F "WORKDIR\n", "2:1: WORKDIR requires exactly one argument" },
                { F "STOPSIGNAL\n", "2:1: STOPSIGNAL requires exactly one argument" },
                { F "MAINTAINER\n", "2:1: MAINTAINER requires exactly one argument" },
                { F "VOLUME\n", "2:1: VOLUME requires at least one argument" },
                { F "VOLUME [\"/a\", \" \"]\n",
                  "2:1: VOLUME specified can not be an empty string" },
                { F "RUN\n", "2:1: RUN requires at least one argument" },
                { F "COPY a\n",
                  "2:1: COPY requires at least two arguments, but only one was provided. "
                  "Destination could not be determined" },
                { F "ADD\n", "2:1: ADD requires at least two arguments, but only one was provided. "
                             "Destination could not be determined" },
                { "FROM a b\n", "1:1: FROM requires either one or three arguments" },
                { "FROM\n", "1:1: FROM requires either one or three arguments" },
                { "FROM a AS 1b\n",
                  "1:1: invalid name for build stage: \"1b\", name can't start with a number or "
                  "contain symbols" },
                { "FROM a AS b/c\n",
                  "1:1: invalid name for build stage: \"b/c\", name can't start with a number or "
                  "contain symbols" },
        };
        ASSERT_EQ(check_errors(e, ELEMENTSOF(e)), 0);
        _cleanup_dockerfile_ struct dockerfile *df = parse_ok("FROM a AS Build-1.x_y\n");
        ASSERT_TRUE(df);
}

TEST(errors_with_positions)
{
        static const struct error_case e[] = {
                { "FROMM a\n", "1:1: unknown instruction: FROMM" },
                { F "\n\n    FROMM b\n", "4:5: unknown instruction: FROMM" },
                { F "RUN a \\\n  b\nRUNN c \\\n d\n", "4:1: unknown instruction: RUNN" },
                { "", "1:1: file with no instructions" },
                { "# only\n\n# comments\n", "3:1: file with no instructions" },
                { "\n\n  \n", "3:1: file with no instructions" },
                { "RUN x\n",
                  "1:1: no build stage in current context: RUN before the first FROM (only ARG "
                  "may come first)" },
                { "ARG a\nARG b\n", "1:1: dockerfile contains no stages to build: no FROM" },
                { F "RUN a\x00 b\n", "2:6: NUL byte in Dockerfile" },
                { F "RUN é\x00\n", "2:6: NUL byte in Dockerfile" },
                { F "COPY --x=é a \\\n  é --y b\n", "2:6: unknown flag: --x" },
                { F "ENV a=é \\\n   é b=2\n",
                  "3:4: Syntax error - can't find = in \"é\". Must be of "
                  "the form: name=value" },
        };
        for (size_t k = 0; k < ELEMENTSOF(e); k++) {
                /* NUL bytes: the length is that of the literal, not strlen */
                const char *in = e[k].in;
                size_t len = strlen(in);
                if (strstr(e[k].msg, "NUL"))
                        len += 1 + strlen(in + len + 1);
                _cleanup_free_ char *got = parse_dump(in, len);
                _cleanup_free_ char *want = xasprintf("error: Dockerfile:%s", e[k].msg);
                if (!streq(got, want))
                        TAP_FAIL("case %zu: got %s, want %s", k, got, want);
        }
        _cleanup_error_ struct st_error *err = NULL;
        struct dockerfile *df = NULL;
        ASSERT_ERR(dockerfile_parse("sub/Dockerfile.dev", "FROM a\nFOO\n", 11, &df, &err),
                   ST_E_PARSE);
        ASSERT_STREQ(err->msg, "sub/Dockerfile.dev:2:1: unknown instruction: FOO");
        ASSERT_TRUE(df == NULL);
}

TEST(caps)
{
        _cleanup_error_ struct st_error *err = NULL;
        struct dockerfile *df = NULL;
        _cleanup_free_ char *big = xmalloc(DOCKERFILE_SIZE_MAX + 1);
        memset(big, '\n', DOCKERFILE_SIZE_MAX + 1);
        memcpy(big, "FROM a\n", 7);
        ASSERT_ERR(dockerfile_parse("Dockerfile", big, DOCKERFILE_SIZE_MAX + 1, &df, &err),
                   ST_E_TOO_BIG);
        /* at the cap it parses */
        ASSERT_OK(dockerfile_parse("Dockerfile", big, DOCKERFILE_SIZE_MAX, &df, NULL));
        df = dockerfile_free(df);

        err = st_error_free(err);
        memset(big, 'a', DOCKERFILE_LINE_MAX + 20);
        memcpy(big, "FROM a\nRUN ", 11);
        big[DOCKERFILE_LINE_MAX + 8] = '\n'; /* line 2 is one byte too long */
        ASSERT_ERR(dockerfile_parse("Dockerfile", big, DOCKERFILE_LINE_MAX + 20, &df, &err),
                   ST_E_TOO_BIG);
        ASSERT_STREQ(err->msg, "Dockerfile:2:1: line is longer than the maximum of 65535 bytes");
        big[DOCKERFILE_LINE_MAX + 7] = '\n'; /* now it fits */
        ASSERT_OK(dockerfile_parse("Dockerfile", big, DOCKERFILE_LINE_MAX + 8, &df, NULL));
        df = dockerfile_free(df);

        err = st_error_free(err);
        size_t n = 0;
        n += (size_t)sprintf(big, "FROM a\n");
        for (int k = 0; k < DOCKERFILE_INSTRUCTIONS_MAX; k++)
                n += (size_t)sprintf(big + n, "USER a\n");
        ASSERT_ERR(dockerfile_parse("Dockerfile", big, n, &df, &err), ST_E_TOO_BIG);
        ASSERT_STREQ(err->msg, "Dockerfile:100001:1: more than 100000 instructions");

        err = st_error_free(err);
        n = (size_t)sprintf(big, "FROM a\n");
        for (int k = 0; k <= DOCKERFILE_HEREDOCS_MAX; k++)
                n += (size_t)sprintf(big + n, "RUN <<a\na\n");
        ASSERT_ERR(dockerfile_parse("Dockerfile", big, n, &df, &err), ST_E_TOO_BIG);
        ASSERT_STREQ(err->msg, "Dockerfile:20002:1: more than 10000 heredocs");
}

TEST(warnings)
{
        static const struct {
                const char *in, *want;
        } c[] = {
                { F "MAINTAINER x\n", "2 MaintainerDeprecated\n" },
                { F "CMD a\nENTRYPOINT b\n", "2 JSONArgsRecommended\n3 JSONArgsRecommended\n" },
                { F "SHELL [\"sh\", \"-c\"]\nCMD a\n", "" },
                { F "CMD a\n" F "CMD [\"b\"]\n", "2 JSONArgsRecommended\n" },
                { F "CMD [\"a\"]\nCMD [\"b\"]\nHEALTHCHECK NONE\nHEALTHCHECK NONE\n",
                  "2 MultipleInstructionsDisallowed\n4 MultipleInstructionsDisallowed\n" },
                { F "RUN x\nrun y\nRUN z\n", "3 ConsistentInstructionCasing\n" },
                { "from a\nrun x\nRUN y\nrun z\n", "3 ConsistentInstructionCasing\n" },
                { "FROM a AS Build\nFROM b as c\nFROM c AS scratch\nFROM d AS c\n",
                  "1 StageNameCasing\n2 FromAsCasing\n3 ReservedStageName\n4 DuplicateStageName\n" },
                { F "EXPOSE 80/TCP 8080:80 127.0.0.1:53:53/udp :80\n",
                  "2 ExposeProtoCasing\n2 ExposeInvalidFormat\n2 ExposeInvalidFormat\n" },
                { F "ENV a b\nLABEL c d\n", "2 LegacyKeyValueFormat\n3 LegacyKeyValueFormat\n" },
                { "# check=skip=MaintainerDeprecated, JSONArgsRecommended\n" F
                  "MAINTAINER x\nCMD a\nENV a b\n",
                  "5 LegacyKeyValueFormat\n" },
                { "# check=skip=all;error=true\n" F "MAINTAINER x\n", "" },
        };

        for (size_t k = 0; k < ELEMENTSOF(c); k++) {
                _cleanup_free_ char *got = warnings_of(c[k].in);
                if (!streq(got, c[k].want))
                        TAP_FAIL("case %zu: got\n%s#   want\n%s", k, got, c[k].want);
        }
        _cleanup_dockerfile_ struct dockerfile *df = parse_ok(F "MAINTAINER x\n");
        ASSERT_STREQ(df->warnings[0].message, "MAINTAINER is deprecated, use LABEL");
}

TEST(go_quote)
{
        static const struct {
                const char *in, *out;
        } c[] = {
                { "", "\"\"" },
                { "a\"b\\", "\"a\\\"b\\\\\"" },
                { "\a\b\f\n\r\t\v", "\"\\a\\b\\f\\n\\r\\t\\v\"" },
                { "\x01\x1f\x7f", "\"\\x01\\x1f\\x7f\"" },
                { "é☃😀 ~", "\"é☃😀 ~\"" },
                { "\xff\xc3", "\"\\xff\\xc3\"" },
                { "\xed\xa0\x80", "\"\\xed\\xa0\\x80\"" },
                { "\xc2\xa0\xc2\x85\xc2\xad", "\"\\u00a0\\u0085\\u00ad\"" },
                { "\xe2\x80\x8b\xef\xbb\xbf\xee\x80\x80", "\"\\u200b\\ufeff\\ue000\"" },
                { "\xf3\xb0\x80\x80", "\"\\U000f0000\"" },
                { "\xef\xbf\xbd", "\"\xef\xbf\xbd\"" },
        };

        for (size_t k = 0; k < ELEMENTSOF(c); k++) {
                _cleanup_free_ char *q = dockerfile_go_quote(c[k].in);
                if (!streq(q, c[k].out))
                        TAP_FAIL("case %zu: got %s, want %s", k, q, c[k].out);
        }
}

TEST(durations)
{
        static const struct {
                const char *in;
                int r;
                int64_t ns;
        } c[] = {
                { "0", 0, 0 },
                { "-0", 0, 0 },
                { "1s", 0, 1000000000 },
                { "1m30s", 0, 90000000000 },
                { "1.5h", 0, 5400000000000 },
                { "300ms", 0, 300000000 },
                { "-1s", 0, -1000000000 },
                { "+2us", 0, 2000 },
                { "1\xc2\xb5s", 0, 1000 },
                { "1\xce\xbcs", 0, 1000 },
                { ".5s", 0, 500000000 },
                { "1.s", 0, 1000000000 },
                { "1h2m3s4ms5us6ns", 0, 3723004005006 },
                { "9223372036854775807ns", 0, INT64_MAX },
                { "-9223372036854775808ns", 0, INT64_MIN },
                { "9223372036854775808ns", -ERANGE, 0 },
                { "1", -EINVAL, 0 },
                { "", -EINVAL, 0 },
                { "-", -EINVAL, 0 },
                { "1x", -EINVAL, 0 },
                { "s", -EINVAL, 0 },
                { ".s", -EINVAL, 0 },
                { "1s ", -EINVAL, 0 },
        };

        for (size_t k = 0; k < ELEMENTSOF(c); k++) {
                int64_t ns = 0;
                int r = dockerfile_parse_duration(c[k].in, &ns);
                if (r != c[k].r || (r == 0 && ns != c[k].ns))
                        TAP_FAIL("case %zu '%s': got %d %lld", k, c[k].in, r, (long long)ns);
        }
}

TEST(kinds)
{
        for (int k = 0; k < _DOCKERFILE_KIND_MAX; k++) {
                const char *s = dockerfile_kind_to_string((enum dockerfile_kind)k);
                ASSERT_TRUE(s);
                ASSERT_EQ(dockerfile_kind_from_string(s), k);
        }
        ASSERT_EQ(dockerfile_kind_from_string("hEaLtHcHeCk"), DOCKERFILE_HEALTHCHECK);
        ASSERT_EQ(dockerfile_kind_from_string("RUNS"), _DOCKERFILE_KIND_INVALID);
        ASSERT_EQ(dockerfile_kind_from_string(""), _DOCKERFILE_KIND_INVALID);
        ASSERT_TRUE(dockerfile_kind_to_string(_DOCKERFILE_KIND_MAX) == NULL);
        ASSERT_TRUE(dockerfile_kind_to_string(_DOCKERFILE_KIND_INVALID) == NULL);
}

TEST(json)
{
        _cleanup_dockerfile_ struct dockerfile *df =
                parse_ok("# syntax=x\nARG V\nFROM a:$V AS b\nCOPY --link <<EOF /x\nhi\nEOF\n"
                         "ENV K=v\nONBUILD RUN y\nMAINTAINER m\nCMD [\"\xff\"]\n");
        ASSERT_TRUE(df);
        json_t *j = dockerfile_to_json(df);
        ASSERT_TRUE(j);
        _cleanup_free_ char *s = json_dump_compact(j);
        json_decref(j);
        ASSERT_TRUE(strstr(s, "\"file\":\"Dockerfile\",\"escape\":\"\\\\\""));
        ASSERT_TRUE(strstr(s, "\"directives\":[{\"name\":\"syntax\",\"value\":\"x\",\"line\":1}]"));
        ASSERT_TRUE(strstr(s, "\"pairs\":[{\"key\":\"V\",\"value\":null}]"));
        ASSERT_TRUE(strstr(s, "\"flags\":[{\"name\":\"link\",\"value\":null,\"line\":4,"
                              "\"column\":6}]"));
        ASSERT_TRUE(strstr(s, "\"heredocs\":[{\"name\":\"EOF\",\"content\":\"hi\\n\",\"fd\":0,"
                              "\"expand\":true,\"chomp\":false}]"));
        ASSERT_TRUE(strstr(s, "\"line\":4,\"column\":1,\"end_line\":6"));
        ASSERT_TRUE(strstr(s, "\"pairs\":[{\"key\":\"K\",\"value\":\"v\",\"legacy\":false}]"));
        ASSERT_TRUE(strstr(s, "\"trigger\":{\"kind\":\"RUN\""));
        ASSERT_TRUE(strstr(s, "\"args\":[\"\xef\xbf\xbd\"]"));
        ASSERT_TRUE(strstr(s, "\"warnings\":[{\"rule\":\"MaintainerDeprecated\""));
        ASSERT_TRUE(strstr(s, "\"check_error\":false}"));
}
