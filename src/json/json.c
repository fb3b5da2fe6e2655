#include "json/json.h"

#include "basic/util.h"

int json_parse(const char *buf, size_t len, size_t cap, const char *what, json_t **ret,
               struct st_error **err)
{
        if (len > cap)
                return st_error_set(err, ST_E_TOO_BIG, "%s is %zu bytes, more than the %zu allowed",
                                    what, len, cap);
        json_error_t je;
        json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
        if (!j)
                return st_error_set(err, ST_E_PARSE, "%s: invalid JSON at line %d column %d: %s",
                                    what, je.line, je.column, je.text);
        *ret = j;
        return 0;
}

static char *dump(const json_t *j, size_t flags)
{
        char *s = json_dumps(j, flags | JSON_ENCODE_ANY);
        if (!s)
                return xstrdup("null");
        return s;
}

char *json_dump_canonical(const json_t *j)
{
        return dump(j, JSON_COMPACT | JSON_SORT_KEYS);
}

char *json_dump_compact(const json_t *j)
{
        return dump(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

char *json_dump_pretty(const json_t *j)
{
        return dump(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
}

const char *json_get_str(const json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

void json_set_str(json_t *obj, const char *key, const char *value)
{
        json_object_set_new(obj, key, value ? json_string(value) : json_null());
}
