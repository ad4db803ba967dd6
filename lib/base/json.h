/*
 * JSON in and out. Prefixes: json_ parses, jstr/jint/jbool read one member
 * of a parsed object, jw_ is the bounded JSON writer (jw_k* write key and value).
 *
 * In: cJSON (Debian's libcjson 1.7.15) behind json_parse, which adds what
 * cJSON does not check: valid UTF-8 (RFC 8259 section 8.1), no escaped NUL
 * (cJSON would cut the string there), a nesting bound and no duplicate keys
 * (RFC 8259 section 4 leaves them undefined; we refuse them). Getters return
 * typed values and tell "absent" from "wrong type".
 *
 * Out: a small writer over struct buf that handles commas and escaping.
 */
#ifndef TALLY_JSON_H
#define TALLY_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/tally_limits.h"

/*
 * Parse p[0..n). On success *out is the root (free with cJSON_Delete) and
 * TERR_OK is returned. Otherwise *out is NULL and *why a description, valid
 * until the next json_parse in the same thread.
 */
enum terr json_parse(const char *p, size_t n, int maxdepth, cJSON **out, const char **why);

/*
 * Per-request memory for cJSON (STYLE.md 10): after json_arena_install(),
 * once per process before any thread starts, every cJSON allocation of a
 * thread that has an arena in use is a bump allocation in it, and freeing
 * it costs nothing; json_arena_reset() makes the whole arena free again at
 * the end of a request. Past its size, or in a thread without an arena,
 * cJSON falls back to malloc/free. A tree must be deleted before its
 * thread's arena is reset or unset.
 */
struct json_arena {
	char *base;
	size_t size;
	size_t used;
};

void json_arena_install(void);
/* Allocate a of size bytes; TERR_NOMEM. Release with json_arena_release. */
enum terr json_arena_init(struct json_arena *a, size_t size);
void json_arena_release(struct json_arena *a);
/* This thread's cJSON allocations come from a (NULL: from malloc again). */
void json_arena_use(struct json_arena *a);
void json_arena_reset(struct json_arena *a);

/* Value getters on an object. Absent and JSON null both count as absent. */
const cJSON *jget(const cJSON *o, const char *key);
/* The string at key, or NULL when absent, null or not a string. */
const char *jstr(const cJSON *o, const char *key);
/*
 * Integers: 1 and *out set when the value is a number that is integral and
 * within +-2^53; 0 when absent/null; -1 when present but not such a number.
 */
int jint(const cJSON *o, const char *key, int64_t *out);
/* Booleans: 1 and *out set; 0 when absent/null; -1 when not a boolean. */
int jbool(const cJSON *o, const char *key, int *out);
/* The object (or array) at key, or NULL when absent or of another type. */
const cJSON *jobj(const cJSON *o, const char *key);
const cJSON *jarr(const cJSON *o, const char *key);
/* Walk a dotted path of object keys ("data.object"); NULL if any step is missing. */
const cJSON *jpath(const cJSON *o, const char *path);

/* Append s[0..n) to b as a JSON string literal, quotes included. */
void json_escape(struct buf *b, const char *s, size_t n);

/* The writer. Nesting up to JSON_DEPTH_MAX. Errors land in the buf's err. */
struct jw {
	struct buf *b;
	int depth;
	unsigned char first[JSON_DEPTH_MAX + 1];
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj(struct jw *w);  /* { */
void jw_end(struct jw *w);  /* } */
void jw_arr(struct jw *w);  /* [ */
void jw_aend(struct jw *w); /* ] */
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s); /* null when s is NULL */
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
void jw_time(struct jw *w, int64_t ms);                 /* RFC 3339 string, null when 0 */
void jw_raw(struct jw *w, const char *json);            /* already-valid JSON text */
void jw_rawn(struct jw *w, const char *json, size_t n); /* the same, json[0..n) */

/* Key + value in one call. */
void jw_kstr(struct jw *w, const char *k, const char *s);
void jw_kint(struct jw *w, const char *k, int64_t v);
void jw_kbool(struct jw *w, const char *k, int v);
void jw_ktime(struct jw *w, const char *k, int64_t ms);

#endif
