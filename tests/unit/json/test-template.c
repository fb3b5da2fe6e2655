#include <errno.h>

#include "basic/util.h"
#include "json/template.h"
#include "tap.h"

static const char doc[] =
        "{\"Repository\":\"alpine\",\"Tag\":\"3.19\",\"Size\":7381234,\"Ratio\":0.5,"
        "\"Big\":1234567.0,\"Neg\":-3,\"True\":true,\"False\":false,\"Null\":null,"
        "\"Empty\":\"\",\"EmptyList\":[],\"EmptyMap\":{},"
        "\"RepoTags\":[\"alpine:3.19\",\"alpine:latest\"],"
        "\"Config\":{\"Env\":[\"PATH=/usr/bin\",\"A=b c\"],\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"],"
        "\"Labels\":{\"b\":\"2\",\"a\":\"1\",\"with space\":\"x\"},\"Entrypoint\":null,"
        "\"ExposedPorts\":{\"80/tcp\":{}}},"
        "\"Mixed\":[1,\"two\",null,true,{\"k\":[1.5]}],"
        "\"Html\":\"<a&b>\\u2028\\n\\u0001\\\"\",\"Unicode\":\"héllo wörld\","
        "\"Nested\":[[1,2],[3]],\"Layers\":[{\"Size\":3},{\"Size\":4}]}";

static json_t *load_doc(void)
{
        json_t *j = json_loads(doc, 0, NULL);
        if (!j)
                abort();
        return j;
}

struct render_case {
        const char *tmpl;
        const char *want;
};

static const struct render_case render_cases[] = {
        /* docker's typical formats */
        { "{{.Repository}}:{{.Tag}}", "alpine:3.19" },
        { "{{.Config.Env}}", "[PATH=/usr/bin A=b c]" },
        { "{{range .RepoTags}}{{.}} {{end}}", "alpine:3.19 alpine:latest " },
        { "{{index .Config.Labels \"a\"}}", "1" },
        { "{{index .Config.Labels \"with space\"}}", "x" },
        { "{{index .Config.Labels \"zz\"}}", "<no value>" }, /* nil any: no value */
        { "{{join .Config.Cmd \" \"}}", "/bin/sh -c echo hi" },
        { "{{if .True}}y{{else}}n{{end}}", "y" },
        { "{{if .False}}y{{else}}n{{end}}", "n" },
        { "{{json .Config.Labels}}", "{\"a\":\"1\",\"b\":\"2\",\"with space\":\"x\"}" },
        { "{{json .RepoTags}}", "[\"alpine:3.19\",\"alpine:latest\"]" },
        { "{{json .Missing}}", "null" },
        { "{{.Config.Labels}}", "map[a:1 b:2 with space:x]" },
        { "{{.Config.ExposedPorts}}", "map[80/tcp:map[]]" },
        { "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a=1;b=2;with space=x;" },
        { "{{range $i, $e := .RepoTags}}{{$i}}:{{$e}} {{end}}", "0:alpine:3.19 1:alpine:latest " },
        { "{{range $e := .RepoTags}}[{{$e}}]{{end}}", "[alpine:3.19][alpine:latest]" },
        { "{{range .EmptyList}}x{{else}}none{{end}}", "none" },
        { "{{range .Null}}x{{else}}none{{end}}", "none" },
        { "{{range .Missing}}x{{end}}", "" },
        { "{{range .Layers}}{{.Size}},{{end}}", "3,4," },
        { "{{range .Nested}}{{range .}}{{.}}{{end}}|{{end}}", "12|3|" },
        /* values as Go prints them */
        { "{{.Missing}}", "<no value>" },
        { "{{.Missing.Deeper}}", "<no value>" },
        { "{{.Null}}", "<no value>" },
        { "{{print .Null}} {{printf \"%d\" .Null}} {{printf \"%d\" .Mixed}}",
          "<nil> %!d(<nil>) [1 %!d(string=two) <nil> %!d(bool=true) map[%!d(string=k):[%!d(float64=1.5)]]]" },
        { "{{$n := .Null}}{{$n.X}} {{(.Null).X}} {{.Config.Entrypoint}}",
          "<no value> <no value> <no value>" },
        { "{{.Size}} {{.Neg}} {{.Ratio}} {{.Big}}", "7381234 -3 0.5 1.234567e+06" },
        { "{{.True}} {{.False}}", "true false" },
        { "{{.Mixed}}", "[1 two <nil> true map[k:[1.5]]]" },
        { "{{.EmptyList}}{{.EmptyMap}}{{.Empty}}.", "[]map[]." },
        { "{{.}}", "" }, /* replaced below: the whole document prints as a map */
        { "{{1.5}} {{1e6}} {{100000.0}} {{0.0001}} {{0.00001}} {{-0.0}}",
          "1.5 1e+06 100000 0.0001 1e-05 -0" },
        { "{{42}} {{-7}} {{0x1F}} {{'a'}} {{true}}", "42 -7 31 97 true" },
        { "{{\"a\\tb\\u00e9\\x41\\101\"}}", "a\tbéAA" },
        { "{{`raw \\n`}}", "raw \\n" },
        /* trim markers and comments */
        { "a  {{- .Tag -}}  b", "a3.19b" },
        { "a \n{{- /* note */ -}}\n b", "ab" },
        { "a{{/* note */}}b", "ab" },
        { "{{- .Tag}} x {{.Tag -}} \n", "3.19 x 3.19" },
        { "{{-3}}", "-3" },
        /* pipelines, variables, parentheses */
        { "{{.Repository | upper}}", "ALPINE" },
        { "{{.Repository | printf \"%s!\"}}", "alpine!" },
        { "{{$x := .Tag}}{{$x}}-{{$x}}", "3.19-3.19" },
        { "{{$x := 1}}{{if .True}}{{$x = 2}}{{end}}{{$x}}", "2" },
        { "{{$.Tag}}{{range .RepoTags}}{{$.Tag}}{{end}}", "3.193.193.19" },
        { "{{(index .Layers 1).Size}}", "4" },
        { "{{with .Config}}{{.Cmd}}{{end}}", "[/bin/sh -c echo hi]" },
        { "{{with .Missing}}y{{else}}n{{end}}", "n" },
        { "{{with $c := .Config}}{{len $c.Env}}{{end}}", "2" },
        { "{{if .False}}a{{else if .True}}b{{else}}c{{end}}", "b" },
        { "{{if .False}}a{{else if .Null}}b{{else}}c{{end}}", "c" },
        /* truthiness */
        { "{{if .Empty}}1{{end}}{{if .EmptyList}}2{{end}}{{if .EmptyMap}}3{{end}}"
          "{{if .Null}}4{{end}}{{if .Missing}}5{{end}}{{if 0}}6{{end}}{{if 0.0}}7{{end}}"
          "{{if .Neg}}8{{end}}{{if .RepoTags}}9{{end}}",
          "89" },
        /* functions */
        { "{{lower \"AbC\"}} {{upper \"héllo\"}} {{title \"hello wide-world_x\"}}",
          "abc HÉLLO Hello Wide-World_x" },
        { "{{upper \"ÿšσςжѐ\"}} {{lower \"ŸŠΣЖЀİ\"}} {{title \"élan ödön\"}} {{upper \"a\\xffb\"}}",
          "ŸŠΣΣЖЀ ÿšσжѐi Élan Ödön A\uFFFDB" },
        { "{{split \"a,b,,c\" \",\"}} {{len (split \"\" \",\")}} {{split \"hé\" \"\"}}",
          "[a b  c] 1 [h é]" },
        { "{{len .RepoTags}} {{len .Config.Labels}} {{len .Unicode}} {{len .Null}}", "2 3 13 0" },
        { "{{index .Nested 0 1}} {{index .Repository 0}} {{index .Null \"x\"}}",
          "2 97 <no value>" },
        { "{{truncate .Repository 3}}|{{truncate .Repository 30}}|{{truncate .Repository 6}}",
          "alp|alpine|alpine" },
        { "[{{pad .Tag 2 1}}][{{pad .Empty 2 1}}]", "[  3.19 ][]" },
        { "{{join .Null \",\"}}|{{join .Missing \",\"}}", "|" },
        { "{{println \"a\" 1}}{{print \"a\" 1 2 \"b\"}}", "a 1\na1 2b" },
        { "{{printf \"%s:%d %v %q\" .Repository .Size .True .Tag}}",
          "alpine:7381234 true \"3.19\"" },
        { "{{printf \"%5s|%-5s|%05d|%x|%X|%.2f|%e|%g\" \"ab\" \"cd\" -42 255 -255 3.14159 1.5 .Ratio}}",
          "   ab|cd   |-0042|ff|-FF|3.14|1.500000e+00|0.5" },
        { "{{printf \"%d %s\" \"x\" 5}}", "%!d(string=x) %!s(int=5)" },
        { "{{printf \"%s %s\" \"x\"}}", "x %!s(MISSING)" },
        { "{{printf \"%s\" \"x\" 5 .Null}}", "x%!(EXTRA int=5, <nil>)" },
        { "{{printf \"%v %s %d\" .Null .RepoTags .Nested}}",
          "<nil> [alpine:3.19 alpine:latest] [[1 2] [3]]" },
        { "{{printf \"%q\" .Html}}", "\"<a&b>\\u2028\\n\\x01\\\"\"" },
        { "{{printf \"100%%\"}}", "100%" },
        { "{{json .Html}} {{json .Unicode}}", "\"<a&b>\\u2028\\n\\u0001\\\"\" \"héllo wörld\"" },
        { "{{json .Mixed}} {{json 1e21}} {{json 1e20}} {{json 0.0000001}}",
          "[1,\"two\",null,true,{\"k\":[1.5]}] 1e+21 100000000000000000000 1e-7" },
        { "{{eq .Tag \"3.19\"}} {{eq .Size 1 7381234}} {{ne .Tag \"x\"}} {{eq .Null nil}}",
          "true true true true" },
        { "{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2}}", "true true true false" },
        { "{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" .Tag}} {{or 0 .Empty}} {{not .Empty}}",
          "0 2 3.19  true" },
        { "{{or .True .Missing.Bad}}", "true" },
        /* corners found by comparing with Go's text/template */
        { "{{.Missing.X \"arg\"}}|{{.Tag | .Missing.Y}}", "<no value>|<no value>" },
        { "{{printf \"%q %q %-4q|\" 97 12345 10}}", "'a' '\u3039' '\\n'|" },
        { "{{printf \"%5d|%-4d|\" \"ab\" .Null}}", "%!d(string=   ab)|%!d(<nil>)|" },
        { "{{printf \"%-3d|\" .RepoTags}}",
          "[%!d(string=alpine:3.19) %!d(string=alpine:latest)]|" },
        { "{{printf \"%9999999s|\" 1}} {{printf \"%5.\" 1}} {{printf \"%.1v\" 0.25}}",
          "%!(NOVERB)%!(EXTRA int=1) %!.(int=    1) 0.2" },
        { "{{eq .Missing .Config}} {{eq .Null .Null}} {{ne .Missing 1}}", "false true true" },
        { "{{index .Config.Labels \"zz\" | printf \"%v\"}}", "<nil>" },
};

TEST(render_table)
{
        _cleanup_json_ json_t *dot = load_doc();

        for (size_t i = 0; i < ELEMENTSOF(render_cases); i++) {
                const struct render_case *c = &render_cases[i];
                _cleanup_template_ struct template *t = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                _cleanup_free_ char *out = NULL;
                if (streq(c->tmpl, "{{.}}"))
                        continue;
                ASSERT_OK_E(template_parse(c->tmpl, &t, &e), e);
                ASSERT_OK_E(template_render(t, dot, &out, &e), e);
                ASSERT_STREQ(out, c->want);
        }
}

TEST(render_dot_and_null_data)
{
        _cleanup_template_ struct template *t = NULL;
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        _cleanup_json_ json_t *dot = json_loads("{\"b\":[1,{\"c\":null}],\"a\":\"x\"}", 0, NULL);

        ASSERT_OK(template_parse("{{.}}|{{json .}}|{{.a}}", &t, NULL));
        ASSERT_OK(template_render(t, dot, &out, NULL));
        ASSERT_STREQ(out, "map[a:x b:[1 map[c:<nil>]]]|{\"a\":\"x\",\"b\":[1,{\"c\":null}]}|x");
        ASSERT_OK(template_render(t, NULL, &out2, NULL));
        ASSERT_STREQ(out2, "<no value>|null|<no value>");
}

struct error_case {
        const char *tmpl;
        int code;
        const char *msg;
};

static const struct error_case error_cases[] = {
        /* parse errors */
        { "{{.Foo}} {{foo .Bar}}", ST_E_PARSE, "template: 1:12: function \"foo\" not defined" },
        { "a\n  {{.X", ST_E_PARSE, "template: 2:7: unclosed action" },
        { "{{if .X}}a", ST_E_PARSE, "template: 1:11: unexpected EOF" },
        { "{{end}}", ST_E_PARSE, "template: 1:1: unexpected {{end}}" },
        { "{{else}}", ST_E_PARSE, "template: 1:1: unexpected {{else}}" },
        { "{{}}", ST_E_PARSE, "template: 1:3: missing value for command" },
        { "{{if}}{{end}}", ST_E_PARSE, "template: 1:5: missing value for if" },
        { "{{.X | }}", ST_E_PARSE, "template: 1:7: missing value for command" },
        { "{{$x}}", ST_E_PARSE, "template: 1:3: undefined variable \"$x\"" },
        { "{{if 1}}{{$x := 1}}{{end}}{{$x}}", ST_E_PARSE,
          "template: 1:29: undefined variable \"$x\"" },
        { "{{\"abc}}", ST_E_PARSE, "template: 1:3: unterminated quoted string" },
        { "{{\"\\q\"}}", ST_E_PARSE, "template: 1:4: invalid escape in quoted string" },
        { "{{.X #}}", ST_E_PARSE, "template: 1:6: unrecognized character in action: '#'" },
        { "{{(.X}}", ST_E_PARSE, "template: 1:6: unclosed left paren" },
        { "{{.X)}}", ST_E_PARSE, "template: 1:5: unexpected right paren" },
        { "{{nil}}", ST_E_PARSE, "template: 1:3: nil is not a command" },
        { "{{.X | \"s\"}}", ST_E_PARSE,
          "template: 1:8: non executable command in pipeline stage 2" },
        { "{{12ab}}", ST_E_PARSE, "template: 1:3: bad number syntax: \"12ab\"" },
        { "{{/* x }}", ST_E_PARSE, "template: 1:3: unclosed comment" },
        { "{{/* x */ }}", ST_E_PARSE, "template: 1:10: comment ends before closing delimiter" },
        { "{{define \"x\"}}{{end}}", ST_E_PARSE, "template: 1:3: unexpected <define> in command" },
        { "{{range .X}}{{else if .Y}}{{end}}", ST_E_PARSE,
          "template: 1:20: unexpected \"if\" in else" },
        { "{{.X.}}", ST_E_PARSE, "template: 1:5: unexpected \".\" in operand" },
        { "{{$a, $b := .Tag}}", ST_E_PARSE, "template: 1:3: too many declarations in command" },
        { "{{range $a, $b, $c := .Tag}}{{end}}", ST_E_PARSE,
          "template: 1:9: too many declarations in range" },
        /* execution errors */
        { "{{.Null.Foo}}", -EINVAL,
          "template: 1:3: executing at <.Null.Foo>: nil pointer evaluating interface {}.Foo" },
        { "{{.Tag.Foo}}", -EINVAL,
          "template: 1:3: executing at <.Tag.Foo>: can't evaluate field Foo in type interface {}" },
        { "{{index .RepoTags 5}}", -EINVAL,
          "template: 1:3: executing at <index .RepoTags 5>: error calling index: index out of "
          "range: 5" },
        { "{{upper .Size}}", -EINVAL,
          "template: 1:3: executing at <upper .Size>: wrong type for value; expected string; got "
          "int" },
        { "{{upper .Missing}}", -EINVAL,
          "template: 1:3: executing at <upper .Missing>: invalid value; expected string" },
        { "{{len 3}}", -EINVAL,
          "template: 1:3: executing at <len 3>: error calling len: len of type int" },
        { "{{range .Tag}}{{end}}", -EINVAL,
          "template: 1:9: executing at <.Tag>: range can't iterate over 3.19" },
        { "{{.Tag | .Repository}}", -EINVAL,
          "template: 1:10: executing at <.Repository>: Repository is not a method but has "
          "arguments" },
        { "{{.Config.Labels \"a\"}}", -EINVAL,
          "template: 1:3: executing at <.Config.Labels \"a\">: Labels is not a method but has "
          "arguments" },
        { "{{index .Missing}}", -EINVAL,
          "template: 1:3: executing at <index .Missing>: error calling index: index of untyped nil" },
        { "{{index .Config.Labels \"zz\" 0}}", -EINVAL,
          "template: 1:3: executing at <index .Config.Labels \"zz\" 0>: error calling index: index "
          "of nil pointer" },
        { "{{len}}", -EINVAL,
          "template: 1:3: executing at <len>: wrong number of args for len: want 1 got 0" },
        { "{{eq .RepoTags 1}}", -EINVAL,
          "template: 1:3: executing at <eq .RepoTags 1>: error calling eq: non-comparable type "
          "[]interface {}" },
        { "{{join .RepoTags 1}}", -EINVAL,
          "template: 1:3: executing at <join .RepoTags 1>: wrong type for value; expected string; "
          "got int" },
        { "{{join .Mixed \",\"}}", -EINVAL,
          "template: 1:3: executing at <join .Mixed \",\">: wrong type for value; expected "
          "[]string; got []interface {}" },
};

TEST(errors)
{
        _cleanup_json_ json_t *dot = load_doc();

        for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
                const struct error_case *c = &error_cases[i];
                _cleanup_template_ struct template *t = NULL;
                _cleanup_error_ struct st_error *e = NULL;
                _cleanup_free_ char *out = NULL;
                int r;
                r = template_parse(c->tmpl, &t, &e);
                if (r >= 0)
                        r = template_render(t, dot, &out, &e);
                ASSERT_ERR(r, c->code);
                ASSERT_STREQ(st_error_msg(e), c->msg);
                ASSERT_TRUE(out == NULL);
        }
}

TEST(caps)
{
        _cleanup_json_ json_t *dot = load_doc();
        _cleanup_free_ char *deep = xmalloc(TEMPLATE_MAX_DEPTH * 10 + 100), *out = NULL;
        _cleanup_error_ struct st_error *e = NULL, *e2 = NULL, *e3 = NULL;
        struct template *t = NULL;
        char *p = deep;

        for (int i = 0; i <= TEMPLATE_MAX_DEPTH; i++)
                p = stpcpy(p, "{{if 1}}");
        *p = '\0';
        ASSERT_ERR(template_parse(deep, &t, &e), ST_E_TOO_BIG);
        ASSERT_TRUE(t == NULL);

        /* 2^24 bytes of output */
        ASSERT_OK(template_parse("{{range $a := split (printf \"%5000s\" \"\") \"\"}}"
                                 "{{range split (printf \"%5000s\" \"\") \"\"}}xx{{end}}{{end}}",
                                 &t, &e2));
        ASSERT_ERR(template_render(t, dot, &out, &e2), ST_E_TOO_BIG);
        t = template_free(t);

        ASSERT_OK(template_parse("{{range $a := split (printf \"%5000s\" \"\") \"\"}}"
                                 "{{range split (printf \"%5000s\" \"\") \"\"}}{{end}}{{end}}",
                                 &t, &e3));
        ASSERT_ERR(template_render(t, dot, &out, &e3), ST_E_TOO_BIG);
        ASSERT_TRUE(strstr(st_error_msg(e3), "steps") != NULL);
        template_free(t);
}

static const char *header_of(const char *field)
{
        if (streq(field, "Repository"))
                return "REPOSITORY";
        if (streq(field, "ID"))
                return "IMAGE ID";
        if (streq(field, "CreatedSince"))
                return "CREATED";
        return NULL;
}

TEST(table)
{
        const char *rest = NULL;
        bool table = false;

        ASSERT_TRUE(template_is_table("table {{.ID}}", &rest));
        ASSERT_STREQ(rest, "{{.ID}}");
        ASSERT_TRUE(!template_is_table("{{.ID}}", &rest));

        _cleanup_free_ char *prep =
                template_docker_prepare("table  {{.ID}}\\t{{.Repository}}\\n ", &table);
        ASSERT_TRUE(table);
        ASSERT_STREQ(prep, "{{.ID}}\t{{.Repository}}\n");
        _cleanup_free_ char *prep2 = template_docker_prepare(" {{json .}} ", &table);
        ASSERT_TRUE(!table);
        ASSERT_STREQ(prep2, "{{json .}}");

        _cleanup_free_ char *h = template_table_header(
                "{{.ID}}\t{{.Repository | upper}}\t{{truncate .CreatedSince 3}}\t{{.Other}}",
                header_of);
        ASSERT_STREQ(h, "IMAGE ID\tREPOSITORY\tCREATED\t<no value>");
        /* an error ends the header where it happened, like docker */
        _cleanup_free_ char *h2 =
                template_table_header("{{.ID}}\t{{range .ID}}{{end}}x", header_of);
        ASSERT_STREQ(h2, "IMAGE ID\t");
        ASSERT_TRUE(template_table_header("{{.ID", header_of) == NULL);
}
