/* json: cJSON helpers with exact number text, and Jackson's pretty layout
 * (see json.h). */
#include "admin/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "server/fourlw.h"

static cJSON *raw_from_buf(buf_t *b)
{
    buf_append(b, "", 1);
    cJSON *item = cJSON_CreateRaw((const char *)b->data);
    buf_free(b);
    return item;
}

cJSON *json_int(int64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, v);
    return cJSON_CreateRaw(s);
}

cJSON *json_double(double v)
{
    if (!isfinite(v)) /* Jackson writes NaN and infinities as strings */
        return cJSON_CreateString(isnan(v) ? "NaN" : v < 0 ? "-Infinity" : "Infinity");
    buf_t b;
    buf_init(&b);
    fourlw_append_java_double(&b, v);
    return raw_from_buf(&b);
}

cJSON *json_avg(int64_t count, int64_t sum)
{
    buf_t b;
    buf_init(&b);
    fourlw_append_avg(&b, count, sum);
    return raw_from_buf(&b);
}

void json_add_int(cJSON *obj, const char *key, int64_t v)
{
    cJSON_AddItemToObject(obj, key, json_int(v));
}

void json_add_double(cJSON *obj, const char *key, double v)
{
    cJSON_AddItemToObject(obj, key, json_double(v));
}

void json_add_avg(cJSON *obj, const char *key, int64_t count, int64_t sum)
{
    cJSON_AddItemToObject(obj, key, json_avg(count, sum));
}

void json_add_str(cJSON *obj, const char *key, const char *s)
{
    cJSON_AddItemToObject(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

void json_add_bool(cJSON *obj, const char *key, bool b)
{
    cJSON_AddItemToObject(obj, key, cJSON_CreateBool(b));
}

cJSON *json_add_obj(cJSON *obj, const char *key)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(obj, key, o);
    return o;
}

cJSON *json_add_arr(cJSON *obj, const char *key)
{
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToObject(obj, key, a);
    return a;
}

/* A JSON string as Jackson escapes it: quote, backslash and control
 * characters; everything else (UTF-8 included) as is. */
static void print_string(const char *s, buf_t *out)
{
    buf_append_str(out, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"':
            buf_append_str(out, "\\\"");
            break;
        case '\\':
            buf_append_str(out, "\\\\");
            break;
        case '\n':
            buf_append_str(out, "\\n");
            break;
        case '\r':
            buf_append_str(out, "\\r");
            break;
        case '\t':
            buf_append_str(out, "\\t");
            break;
        case '\b':
            buf_append_str(out, "\\b");
            break;
        case '\f':
            buf_append_str(out, "\\f");
            break;
        default:
            if (*p < 0x20)
                buf_printf(out, "\\u%04X", *p);
            else
                buf_append(out, p, 1);
        }
    }
    buf_append_str(out, "\"");
}

static void indent(buf_t *out, int depth)
{
    buf_append_str(out, "\n");
    for (int i = 0; i < depth; i++)
        buf_append_str(out, "  ");
}

static void print_value(const cJSON *it, int depth, buf_t *out)
{
    if (cJSON_IsObject(it)) {
        if (it->child == NULL) {
            buf_append_str(out, "{ }");
            return;
        }
        buf_append_str(out, "{");
        for (const cJSON *c = it->child; c; c = c->next) {
            indent(out, depth + 1);
            print_string(c->string, out);
            buf_append_str(out, " : ");
            print_value(c, depth + 1, out);
            if (c->next)
                buf_append_str(out, ",");
        }
        indent(out, depth);
        buf_append_str(out, "}");
    } else if (cJSON_IsArray(it)) {
        if (it->child == NULL) {
            buf_append_str(out, "[ ]");
            return;
        }
        buf_append_str(out, "[ ");
        for (const cJSON *c = it->child; c; c = c->next) {
            print_value(c, depth, out);
            if (c->next)
                buf_append_str(out, ", ");
        }
        buf_append_str(out, " ]");
    } else if (cJSON_IsRaw(it)) {
        buf_append_str(out, it->valuestring);
    } else if (cJSON_IsString(it)) {
        print_string(it->valuestring, out);
    } else if (cJSON_IsNumber(it)) {
        buf_printf(out, "%.17g", it->valuedouble);
    } else if (cJSON_IsTrue(it)) {
        buf_append_str(out, "true");
    } else if (cJSON_IsFalse(it)) {
        buf_append_str(out, "false");
    } else {
        buf_append_str(out, "null");
    }
}

void json_print(const cJSON *item, buf_t *out)
{
    print_value(item, 0, out);
}
