/* Word expansion: the first byte picks the escape character ('\' or '`'), the rest is the word,
 * expanded against a fixed environment. Must not crash or leak; failures are ST_E_PARSE or
 * ST_E_TOO_BIG with a message and nothing returned; the names looked up come sorted and unique
 * ("" is one: "${/x/y}" looks it up, as in BuildKit); ProcessWord and ProcessWords agree on
 * whether the syntax is valid. */
#include <stdint.h>
#include <stdlib.h>

#include "basic/util.h"
#include "dockerfile/expand.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const env[] = {
        "A",
        "abcab",
        "E",
        "",
        "S",
        " a  b c ",
        "P",
        "*b?",
        "Q",
        "$0-$$-${0}x",
        "N",
        "l1\nl2",
        "K",
        "한국어",
        "X",
        "\xff\xfe"
        "ab",
        "1",
        "one",
        NULL,
};

static const char *lookup(void *userdata, const char *name)
{
        (void)userdata;
        for (size_t i = 0; env[i]; i += 2)
                if (streq(env[i], name))
                        return env[i + 1];
        return NULL;
}

static void check_used(char **used)
{
        for (size_t i = 0; used && used[i]; i++)
                if (i > 0 && strcmp(used[i - 1], used[i]) >= 0)
                        abort();
}

static int expand(const char *word, char escape, char **res)
{
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_strv_ char **used = NULL;
        int r = dockerfile_expand_word(word, escape, lookup, NULL, res, &used, &e);

        if (r < 0) {
                if ((r != ST_E_PARSE && r != ST_E_TOO_BIG) || !e || !*st_error_msg(e) || *res ||
                    used)
                        abort();
                return r;
        }
        if (!*res || e)
                abort();
        check_used(used);
        return 0;
}

static int split(const char *word, char escape)
{
        _cleanup_error_ struct st_error *e = NULL;
        _cleanup_strv_ char **fields = NULL;
        int r = dockerfile_expand_words(word, escape, lookup, NULL, &fields, NULL, &e);

        if (r < 0) {
                if ((r != ST_E_PARSE && r != ST_E_TOO_BIG) || !e || fields)
                        abort();
                return r;
        }
        if (!fields)
                abort();
        STRV_FOREACH(f, fields)
                if (!**f)
                        abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 16384)
                return 0;
        char escape = data[0] & 1 ? '`' : '\\';
        _cleanup_free_ char *word = xstrndup((const char *)data + 1, size - 1);
        _cleanup_free_ char *res = NULL;
        int a = expand(word, escape, &res), b = split(word, escape);
        if ((a == ST_E_PARSE) != (b == ST_E_PARSE) && a != ST_E_TOO_BIG && b != ST_E_TOO_BIG)
                abort();
        return 0;
}
