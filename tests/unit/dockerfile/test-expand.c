#include "basic/util.h"
#include "dockerfile/expand.h"
#include "tap.h"

#define ERR NULL /* expected: an ST_E_PARSE error */

static const char *const env[] = {
        "PWD",     "/home",    "SHELL", "bash",   "KOREAN",      "한국어", "NULL",
        "",        "A",        "abcab", "STAR",   "a*b?c",       "FOO",    "/tmp/tmp/bar.txt",
        "SPACE",   "abc  def", "LEAD",  "  ab c", "NL",          "l1\nl2", "DOLLAR",
        "$0-$$-x", "NEEDLE",   "/tmp",  "URL",    "http://x.io", NULL,
};

static const char *lookup(void *userdata, const char *name)
{
        (void)userdata;
        for (size_t i = 0; env[i]; i += 2)
                if (streq(env[i], name))
                        return env[i + 1];
        return NULL;
}

static const struct {
        const char *in, *out;
} words_bs[] = {
        /* plain text, quotes, escapes */
        { "hello", "hello" },
        { "he'll'o", "hello" },
        { "he'llo", ERR },
        { "he\\'llo", "he'llo" },
        { "he\\\\'llo", ERR },
        { "abc\\tdef", "abctdef" },
        { "\"abc\\tdef\"", "abc\\tdef" },
        { "\"abc\\\\tdef\"", "abc\\tdef" },
        { "'abc\\tdef'", "abc\\tdef" },
        { "hello\\", "hello" },
        { "hello\\\\", "hello\\" },
        { "\"hello", ERR },
        { "\"hello\\\"", ERR },
        { "\"hel'lo\"", "hel'lo" },
        { "'hello", ERR },
        { "'hello\\'", "hello\\" },
        { "\"''\"", "''" },
        { "'\"hello\"'", "\"hello\"" },
        { "a  b\tc", "a  b\tc" },
        /* $ followed by no name stays */
        { "$.", "$." },
        { "he$.x", "he$.x" },
        { "$", "$" },
        { "a$ b", "a$ b" },
        { "\\${}", "${}" },
        { "he\\${}xx", "he${}xx" },
        /* special parameters and digits are looked up (unset here) */
        { "he$1x", "hex" },
        { "$12x", "x" },
        { "${1}", "" },
        { "${1:-bbb}", "bbb" },
        { "${1:+bbb}", "" },
        { "$@x$*$#$?$-$$$!", "x" },
        { "${#}", "" },
        /* $VAR and ${VAR} */
        { "he$pwd.", "he." },
        { "he$PWD", "he/home" },
        { "he\\$PWD", "he$PWD" },
        { "he\\\\$PWD", "he\\/home" },
        { "\"he\\$PWD\"", "he$PWD" },
        { "\"he\\\\$PWD\"", "he\\/home" },
        { "'he\\$PWD'", "he\\$PWD" },
        { "he${hi}xx", "hexx" },
        { "he${PWD}", "he/home" },
        { "$KOREAN", "한국어" },
        { "안녕$KOREAN", "안녕한국어" },
        { "\"he'$PWD'\"", "he'/home'" },
        { "'$PWD'", "$PWD" },
        { "${aaa}}", "}" },
        /* bad ${...} */
        { "${}", ERR },
        { "he${}xx", ERR },
        { "he${.}", ERR },
        { "${{aaa}", ERR },
        { "${:}", ERR },
        { "${:-bbb}", ERR },
        { "he${PWD", ERR },
        { "${aaa", ERR },
        { "${", ERR },
        { "he${PWD:=000}xx", ERR },
        { "he${XXX:YYY}", ERR },
        { "${PWD:}", ERR },
        { "${PWD:#x}", ERR },
        { "${PWD:%x}", ERR },
        { "${aaa:-bbb", ERR },
        { "${aaa:-bbb ${foo}", ERR },
        /* - and + with and without ':' */
        { "he${XXX:-000}xx", "he000xx" },
        { "he${PWD:-000}xx", "he/homexx" },
        { "he${XXX:-$PWD}xx", "he/homexx" },
        { "he${XXX:-${PWD:-yyy}}xx", "he/homexx" },
        { "he${XXX:-${YYY:-yyy}}xx", "heyyyxx" },
        { "${NULL:-x}", "x" },
        { "${NULL-x}", "" },
        { "${XXX-x}", "x" },
        { "${NULL:+x}", "" },
        { "${NULL+x}", "x" },
        { "${XXX+x}", "" },
        { "he${XXX:+${PWD}}xx", "hexx" },
        { "he${PWD:+${SHELL}}xx", "hebashxx" },
        { "he${PWD:+${PWD}:}xx", "he/home:xx" },
        { "he${XXX:-\\$PWD:}xx", "he$PWD:xx" },
        { "he${XXX:-\\${PWD}z}xx", "he${PWDz}xx" },
        { "${aaa:-bbb {foo}", "bbb {foo" },
        { "${aaa:-'a}b'}", "a}b" },
        { "${aaa:-\"a}b\"}", "a}b" },
        { "${aaa:-\\}}", "}" },
        /* ? and :? */
        { "he${PWD?}", "he/home" },
        { "he${PWD:?}", "he/home" },
        { "he${NULL?}", "he" },
        { "he${NULL:?}", ERR },
        { "he${XXX?}", ERR },
        { "he${XXX:?}", ERR },
        /* # ## % %% */
        { "${A#a}", "bcab" },
        { "${A#*b}", "cab" },
        { "${A##*b}", "" },
        { "${A#b}", "abcab" },
        { "${A#}", "abcab" },
        { "${A##}", "abcab" },
        { "${A%b}", "abca" },
        { "${A%a*}", "abc" },
        { "${A%%a*}", "" },
        { "${A%?}", "abca" },
        { "${A%%?}", "abca" },
        { "${FOO%.*}", "/tmp/tmp/bar" },
        { "${FOO##*/}", "bar.txt" },
        { "${FOO#*/}", "tmp/tmp/bar.txt" },
        { "${FOO%/*}", "/tmp/tmp" },
        { "${FOO%%/*}", "" },
        { "${STAR#*\\*}", "b?c" },
        { "${STAR%\\?*}", "a*b" },
        { "${STAR#a\\x}", ERR },
        { "${A#$NULL}", "abcab" },
        { "${XXX#a}", "" },
        { "${NL#*}", "l1\nl2" },
        { "${NL##*}", "\nl2" },
        { "${NL%%*}", "l1\n" },
        /* / and // */
        { "${A/b/X}", "aXcab" },
        { "${A//b/X}", "aXcaX" },
        { "${A/x/X}", "abcab" },
        { "${A//?/.}", "....." },
        { "${A/*/X}", "X" },
        { "${A/$NULL/X}", "Xabcab" },
        { "${A///}", "abcab" },
        { "${A//b}", ERR },
        { "${A//}", ERR },
        { "${A/b}", ERR },
        { "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", "/tmp/bar.txt - /bar.txt" },
        { "${FOO//\\//\\/}", "\\/tmp\\/tmp\\/bar.txt" },
        { "${URL/http:\\/\\//https:\\/\\/}", "https:\\/\\/x.io" },
        /* "$0" in a replacement is expanded first (unset); one from a value, or after a kept
         * escape, is the match with // (Go's ReplaceAllString), literal with / */
        { "${A//b/[$0]}", "a[]ca[]" },
        { "${A/b/[$0]}", "a[]cab" },
        { "${A//b/$DOLLAR}", "ab-$-xcab-$-x" },
        { "${A/b/$DOLLAR}", "a$0-$$-xcab" },
        { "${A//b/\\$0}", "a\\bca\\b" },
        { "${XXX/a/b}", "" },
        /* Unicode */
        { "${KOREAN#?}", "국어" },
        { "${KOREAN%?}", "한국" },
        { "$KOREAN_x", "" },
        { "$한국어x", "" },
        { "\"${PWD}\"'${PWD}'", "/home${PWD}" },
};

static const struct {
        const char *in, *out;
} words_bt[] = {
        { "he`$PWD", "he$PWD" },
        { "he\\$PWD", "he\\/home" },
        { "\"he`\"x\"", "he\"x" },
        { "\"a\\b\"", "a\\b" },
        { "c:\\path\\$SHELL", "c:\\path\\bash" },
        { "hello`", "hello" },
        { "a``b", "a`b" },
        { "${XXX:-`}}", "}" },
};

static void check_words(char escape, const char *in, const char *out)
{
        _cleanup_free_ char *res = NULL;
        _cleanup_error_ struct st_error *e = NULL;
        int r = dockerfile_expand_word(in, escape, lookup, NULL, &res, NULL, &e);

        printf("# %c %s\n", escape, in);
        if (!out) {
                ASSERT_ERR(r, ST_E_PARSE);
                ASSERT_TRUE(res == NULL);
                ASSERT_TRUE(startswith(st_error_msg(e), "failed to process '"));
                return;
        }
        ASSERT_OK_E(r, e);
        ASSERT_STREQ(res, out);
}

TEST(word_backslash)
{
        for (size_t i = 0; i < ELEMENTSOF(words_bs); i++) {
                check_words('\\', words_bs[i].in, words_bs[i].out);
                if (tap_failed_current)
                        return;
        }
}

TEST(word_backtick)
{
        for (size_t i = 0; i < ELEMENTSOF(words_bt); i++) {
                check_words('`', words_bt[i].in, words_bt[i].out);
                if (tap_failed_current)
                        return;
        }
}

/* ProcessWords: fields joined with '|' for the table; ERR for an error. */
static const struct {
        const char *in, *out;
} fields[] = {
        { "hello", "hello" },
        { "", "" },
        { "   ", "" },
        { "hello there     ", "hello|there" },
        { "hello\\ there", "hello there" },
        { "hello\" there  \"", "hello there  " },
        { "hello\" there", ERR },
        { "hello\\\" there", "hello\"|there" },
        { "hello\"\\\\there\"", "hello\\there" },
        { "hello'\\\\there'", "hello\\\\there" },
        { "hello'$there'", "hello$there" },
        { "hello${SPACE}bye", "helloabc|defbye" },
        { "hello\"${SPACE}\"bye", "helloabc  defbye" },
        { "hello \"${SPACE}\"bye", "hello|abc  defbye" },
        { "hello${LEAD}def", "hello|ab|cdef" },
        { "hello\"${LEAD}\" def", "hello  ab c|def" },
        { "\"\" x ''", "x" },
        { "80/tcp ${XXX:-443}/udp", "80/tcp|443/udp" },
        /* BuildKit (since 2024) loses "ab" here; strata keeps it (docs) */
        { "ab${XXX:-cd}ef", "abcdef" },
        { "<<  EOF x", "<<  EOF|x" },
        { "a < b", "a|<|b" },
};

TEST(words)
{
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                _cleanup_strv_ char **res = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                int r = dockerfile_expand_words(fields[i].in, '\\', lookup, NULL, &res, NULL, &e);
                printf("# %s\n", fields[i].in);
                if (!fields[i].out) {
                        ASSERT_ERR(r, ST_E_PARSE);
                        continue;
                }
                ASSERT_OK_E(r, e);
                _cleanup_free_ char *joined = xstrdup("");
                STRV_FOREACH(w, res) {
                        char *j = xasprintf("%s%s%s", joined, w == res ? "" : "|", *w);
                        free(joined);
                        joined = j;
                }
                ASSERT_STREQ(joined, fields[i].out);
        }
}

static const struct {
        const char *in, *used;
} used[] = {
        { "x", "" },
        { "x ${UNUSED}", "UNUSED" },
        { "${FOO-aaa} ${BAR-bbb} ${BAZ-ccc} $FOO", "BAR BAZ FOO" },
        { "${XXX:-$PWD} ${PWD:+$SHELL}", "PWD SHELL XXX" },
        { "$1 $@", "1 @" },
        { "'$PWD' \\$PWD $", "" },
        { "${A/$NEEDLE/$URL}", "A NEEDLE URL" },
};

TEST(used_names)
{
        for (size_t i = 0; i < ELEMENTSOF(used); i++) {
                _cleanup_free_ char *res = NULL, *joined = xstrdup("");
                _cleanup_strv_ char **names = NULL;
                printf("# %s\n", used[i].in);
                ASSERT_OK(
                        dockerfile_expand_word(used[i].in, '\\', lookup, NULL, &res, &names, NULL));
                STRV_FOREACH(n, names) {
                        char *j = xasprintf("%s%s%s", joined, n == names ? "" : " ", *n);
                        free(joined);
                        joined = j;
                }
                ASSERT_STREQ(joined, used[i].used);
                ASSERT_TRUE(*used[i].used || names == NULL);
        }
}

static const struct {
        const char *in, *msg;
} messages[] = {
        { "${XXX?}", "failed to process '${XXX?}': XXX: is not allowed to be unset" },
        { "${NULL:?}", "failed to process '${NULL:?}': NULL: is not allowed to be empty" },
        { "${XXX:?set it $PWD}", "failed to process '${XXX:?set it $PWD}': XXX: set it /home" },
        { "${A", "failed to process '${A': syntax error: missing '}'" },
        { "${A:-x", "failed to process '${A:-x': syntax error: missing '}'" },
        { "${}", "failed to process '${}': syntax error: bad substitution" },
        { "${A=x}", "failed to process '${A=x}': unsupported modifier (=) in substitution" },
        { "${A:#x}", "failed to process '${A:#x}': unsupported modifier (:#) in substitution" },
        { "${A/x}", "failed to process '${A/x}': syntax error: missing '/' in ${}" },
        { "'x", "failed to process ''x': unexpected end of statement while looking for matching "
                "single-quote" },
        { "${A#\\x}", "failed to process '${A#\\x}': invalid pattern (\\x) in substitution: "
                      "invalid escape '\\x'" },
};

TEST(error_messages)
{
        for (size_t i = 0; i < ELEMENTSOF(messages); i++) {
                _cleanup_free_ char *res = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                ASSERT_ERR(
                        dockerfile_expand_word(messages[i].in, '\\', lookup, NULL, &res, NULL, &e),
                        ST_E_PARSE);
                ASSERT_STREQ(st_error_msg(e), messages[i].msg);
        }
}

static char *repeat(const char *s, size_t n)
{
        size_t l = strlen(s);
        char *r = xmalloc(l * n + 1);
        for (size_t i = 0; i < n; i++)
                memcpy(r + i * l, s, l);
        r[l * n] = 0;
        return r;
}

static const char *big_lookup(void *userdata, const char *name)
{
        (void)name;
        return userdata;
}

TEST(caps)
{
        _cleanup_free_ char *open_ok = repeat("${X:-", DOCKERFILE_EXPAND_MAX_DEPTH);
        _cleanup_free_ char *close_ok = repeat("}", DOCKERFILE_EXPAND_MAX_DEPTH);
        _cleanup_free_ char *deep_ok = xasprintf("%sx%s", open_ok, close_ok);
        _cleanup_free_ char *deep = xasprintf("${X:-%s}", deep_ok);
        _cleanup_free_ char *res = NULL;
        _cleanup_error_ struct st_error *e = NULL;

        ASSERT_OK_E(dockerfile_expand_word(deep_ok, '\\', lookup, NULL, &res, NULL, &e), e);
        ASSERT_STREQ(res, "x");
        ASSERT_ERR(dockerfile_expand_word(deep, '\\', lookup, NULL, &res, NULL, &e), ST_E_TOO_BIG);

        /* 2 KiB value, 600 references: more than 1 MiB */
        _cleanup_free_ char *value = repeat("v", 2048), *many = repeat("$V", 600);
        st_error_free(e);
        e = NULL;
        ASSERT_ERR(dockerfile_expand_word(many, '\\', big_lookup, value, &res, NULL, &e),
                   ST_E_TOO_BIG);
        _cleanup_free_ char *replace = xasprintf("${V//?/%s}", value);
        st_error_free(e);
        e = NULL;
        ASSERT_ERR(dockerfile_expand_word(replace, '\\', big_lookup, value, &res, NULL, &e),
                   ST_E_TOO_BIG);
        _cleanup_free_ char *huge = repeat("x", DOCKERFILE_EXPAND_MAX_SIZE + 1);
        ASSERT_ERR(dockerfile_expand_word(huge, '\\', lookup, NULL, &res, NULL, NULL),
                   ST_E_TOO_BIG);
}

TEST(null_lookup_and_utf8)
{
        _cleanup_free_ char *res = NULL, *bad = NULL;
        ASSERT_OK(dockerfile_expand_word("${X:-d}\xff", '\\', NULL, NULL, &res, NULL, NULL));
        /* Go's scanner reads an invalid byte as U+FFFD */
        ASSERT_STREQ(res, "d\xef\xbf\xbd");
        ASSERT_OK(dockerfile_expand_word("\xef\xbb\xbfx", '\\', NULL, NULL, &bad, NULL, NULL));
        ASSERT_STREQ(bad, "x");
}

TEST(heredoc_skip_quotes)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "hi $A 'x' \"$A\"\n", "hi abcab 'x' \"abcab\"\n" },
                { "\\$A ${A:-'d'} ${NOPE:-'d'}", "$A abcab 'd'" },
                { "a\\b \\\\ `q`", "ab \\ `q`" },
                { "unterminated ' quote", "unterminated ' quote" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *res = NULL;
                struct st_error *e = NULL;
                int r = dockerfile_expand_heredoc(cases[i].in, lookup, NULL, &res, &e);
                ASSERT_OK_E(r, e);
                ASSERT_STREQ(res, cases[i].out);
        }
}
