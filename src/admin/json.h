/* json: building AdminServer replies with cJSON and printing them the way
 * ZooKeeper's AdminServer does (Jackson's default pretty printer).
 *
 * Numbers are stored as cJSON "raw" items holding their exact text, because
 * cJSON keeps numbers as doubles (a session id needs all 64 bits) and prints
 * 2.0 as 2 (ZooKeeper's doubles stay doubles: "avg_latency" : 2.0). Use the
 * json_add_* helpers, never cJSON_AddNumberToObject.
 *
 * Layout (Jackson DefaultPrettyPrinter): objects open a new line per entry,
 * indented by two spaces per level, `"key" : value`; arrays stay on one line,
 * `[ 1, 2 ]`; empty containers print `{ }` and `[ ]`; no final newline. */
#ifndef CORRAL_ADMIN_JSON_H
#define CORRAL_ADMIN_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"

cJSON *json_int(int64_t v);
cJSON *json_double(double v); /* Java's Double.toString: 0.0, 2.9543, 1.0E-4 */
/* ZooKeeper's average (sum/count rounded half-up to 4 decimals, 0.0 if none). */
cJSON *json_avg(int64_t count, int64_t sum);

void json_add_int(cJSON *obj, const char *key, int64_t v);
void json_add_double(cJSON *obj, const char *key, double v);
void json_add_avg(cJSON *obj, const char *key, int64_t count, int64_t sum);
void json_add_str(cJSON *obj, const char *key, const char *s); /* NULL -> null */
void json_add_bool(cJSON *obj, const char *key, bool b);
/* Adds and returns an empty object / array under key. */
cJSON *json_add_obj(cJSON *obj, const char *key);
cJSON *json_add_arr(cJSON *obj, const char *key);

/* Append `item` to `out` in Jackson's pretty layout. */
void json_print(const cJSON *item, buf_t *out);

#endif
