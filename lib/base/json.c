#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"

#define JSON_INT_MAX 9007199254740992.0 /* 2^53: every integer below is exact in a double */

static _Thread_local struct json_arena *tl_arena;

static void *
arena_malloc(size_t n)
{
	struct json_arena *a = tl_arena;
	size_t need = (n + 15) & ~(size_t)15;

	if (a != NULL && need >= n && need <= a->size - a->used) {
		void *p = a->base + a->used;
		a->used += need;
		return p;
	}
	return malloc(n);
}

static void
arena_free(void *p)
{
	struct json_arena *a = tl_arena;

	if (a != NULL && (char *)p >= a->base && (char *)p < a->base + a->size)
		return; /* reclaimed all at once by json_arena_reset */
	free(p);
}

void
json_arena_install(void)
{
	cJSON_Hooks hooks = { arena_malloc, arena_free };

	cJSON_InitHooks(&hooks);
}

enum terr
json_arena_init(struct json_arena *a, size_t size)
{
	a->used = 0;
	a->size = size;
	if ((a->base = malloc(size)) == NULL) {
		a->size = 0;
		return TERR_NOMEM;
	}
	return TERR_OK;
}

void
json_arena_release(struct json_arena *a)
{
	if (tl_arena == a)
		tl_arena = NULL;
	free(a->base);
	a->base = NULL;
	a->size = a->used = 0;
}

void
json_arena_use(struct json_arena *a)
{
	tl_arena = a;
}

void
json_arena_reset(struct json_arena *a)
{
	a->used = 0;
}

static int
cmpname(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Depth and duplicate-key check of the parsed tree. */
static enum terr
walk(const cJSON *n, int depth, int maxdepth, const char **why)
{
	const cJSON *c;
	const char *small[32];
	const char **names = small;
	size_t k = 0, cnt = 0, i;
	enum terr rc = TERR_OK;

	if (!cJSON_IsObject(n) && !cJSON_IsArray(n))
		return TERR_OK;
	if (depth > maxdepth) {
		*why = "JSON nested too deeply";
		return TERR_TOOBIG;
	}
	for (c = n->child; c != NULL; c = c->next) {
		if ((rc = walk(c, depth + 1, maxdepth, why)) != TERR_OK)
			return rc;
		cnt++;
	}
	if (!cJSON_IsObject(n) || cnt < 2)
		return TERR_OK;
	if (cnt > sizeof(small) / sizeof(small[0])) {
		if ((names = malloc(cnt * sizeof(*names))) == NULL) {
			*why = "out of memory";
			return TERR_NOMEM;
		}
	}
	for (c = n->child; c != NULL; c = c->next)
		names[k++] = c->string != NULL ? c->string : "";
	qsort(names, k, sizeof(*names), cmpname);
	for (i = 1; i < k; i++)
		if (strcmp(names[i - 1], names[i]) == 0) {
			static _Thread_local char msg[96];
			snprintf(msg, sizeof(msg), "duplicate key \"%.60s\" in JSON object",
			    names[i]);
			*why = msg;
			rc = TERR_INVAL;
			break;
		}
	if (names != small)
		free(names);
	return rc;
}

/* An escaped NUL ("\u0000") would silently cut a cJSON string short. */
static int
has_escaped_nul(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 5 < n; i++)
		if (p[i] == '\\') {
			if (p[i + 1] == 'u' && p[i + 2] == '0' && p[i + 3] == '0' &&
			    p[i + 4] == '0' && p[i + 5] == '0')
				return 1;
			i++; /* skip the escaped character, so "\\u0000" is not a match */
		}
	return 0;
}

enum terr
json_parse(const char *p, size_t n, int maxdepth, cJSON **out, const char **why)
{
	cJSON *root;
	const char *end = NULL;
	enum terr rc;

	*out = NULL;
	*why = NULL;
	if (p == NULL || n == 0) { /* an empty answer has no buffer at all */
		*why = "empty JSON text";
		return TERR_INVAL;
	}
	if (memchr(p, '\0', n) != NULL) {
		*why = "NUL byte in JSON text";
		return TERR_INVAL;
	}
	if (!text_utf8_valid(p, n)) {
		*why = "JSON text is not valid UTF-8";
		return TERR_INVAL;
	}
	if (has_escaped_nul(p, n)) {
		*why = "escaped NUL in JSON string";
		return TERR_INVAL;
	}
	root = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	if (root == NULL) {
		*why = "malformed JSON";
		return TERR_INVAL;
	}
	/* Only white space may follow the value (RFC 8259 section 2). */
	while (end != NULL && end < p + n &&
	    (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != p + n) {
		cJSON_Delete(root);
		*why = "trailing data after JSON value";
		return TERR_INVAL;
	}
	if ((rc = walk(root, 1, maxdepth, why)) != TERR_OK) {
		cJSON_Delete(root);
		return rc;
	}
	*out = root;
	return TERR_OK;
}

const cJSON *
jget(const cJSON *o, const char *key)
{
	const cJSON *v;

	if (o == NULL || !cJSON_IsObject(o))
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	return v;
}

const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
jint(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = jget(o, key);
	double d;

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || d > JSON_INT_MAX || d < -JSON_INT_MAX)
		return -1;
	*out = (int64_t)d;
	return 1;
}

int
jbool(const cJSON *o, const char *key, int *out)
{
	const cJSON *v = jget(o, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return -1;
	*out = cJSON_IsTrue(v) ? 1 : 0;
	return 1;
}

const cJSON *
jobj(const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);

	return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *
jarr(const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);

	return cJSON_IsArray(v) ? v : NULL;
}

const cJSON *
jpath(const cJSON *o, const char *path)
{
	char part[64];
	const char *dot;

	while (o != NULL && *path != '\0') {
		dot = strchr(path, '.');
		if (dot == NULL)
			return jget(o, path);
		if (text_copyn(part, sizeof(part), path, (size_t)(dot - path)) != TERR_OK)
			return NULL;
		o = jobj(o, part);
		path = dot + 1;
	}
	return o;
}

void
json_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int utf8 = text_utf8_valid(s, n);
	size_t i, run = 0;

	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[7];

		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c < 0x20 || c == 0x7f || (!utf8 && c >= 0x80)) {
			/* Control bytes, and bytes of invalid UTF-8 read as Latin-1. */
			u[0] = '\\';
			u[1] = 'u';
			u[2] = '0';
			u[3] = '0';
			u[4] = hex[c >> 4];
			u[5] = hex[c & 0xf];
			u[6] = '\0';
			esc = u;
		}
		if (esc == NULL) {
			run++;
			continue;
		}
		buf_append(b, s + i - run, run);
		run = 0;
		buf_puts(b, esc);
	}
	buf_append(b, s + n - run, run);
	buf_putc(b, '"');
}

void
jw_init(struct jw *w, struct buf *b)
{
	w->b = b;
	w->depth = 0;
	w->first[0] = 1;
}

/* Before a value: a comma unless it is the first in its container or follows a key. */
static void
sep(struct jw *w)
{
	if (w->first[w->depth] == 2) { /* after a key */
		w->first[w->depth] = 0;
		return;
	}
	if (!w->first[w->depth])
		buf_putc(w->b, ',');
	w->first[w->depth] = 0;
}

static void
nest_open(struct jw *w, char c)
{
	sep(w);
	buf_putc(w->b, c);
	if (w->depth + 1 >= (int)sizeof(w->first)) {
		w->b->err = TERR_TOOBIG;
		return;
	}
	w->first[++w->depth] = 1;
}

static void
nest_close(struct jw *w, char c)
{
	buf_putc(w->b, c);
	if (w->depth > 0)
		w->depth--;
}

void
jw_obj(struct jw *w)
{
	nest_open(w, '{');
}
void
jw_end(struct jw *w)
{
	nest_close(w, '}');
}
void
jw_arr(struct jw *w)
{
	nest_open(w, '[');
}
void
jw_aend(struct jw *w)
{
	nest_close(w, ']');
}

void
jw_key(struct jw *w, const char *k)
{
	sep(w);
	json_escape(w->b, k, strlen(k));
	buf_putc(w->b, ':');
	w->first[w->depth] = 2;
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	sep(w);
	json_escape(w->b, s, n);
}

void
jw_str(struct jw *w, const char *s)
{
	if (s == NULL)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

void
jw_int(struct jw *w, int64_t v)
{
	sep(w);
	buf_printf(w->b, "%lld", (long long)v);
}

void
jw_bool(struct jw *w, int v)
{
	sep(w);
	buf_puts(w->b, v ? "true" : "false");
}

void
jw_null(struct jw *w)
{
	sep(w);
	buf_puts(w->b, "null");
}

void
jw_time(struct jw *w, int64_t ms)
{
	char iso[TM_ISO_SIZE];

	if (ms == 0) {
		jw_null(w);
		return;
	}
	tm_iso(ms, iso);
	jw_str(w, iso);
}

void
jw_raw(struct jw *w, const char *json)
{
	sep(w);
	buf_puts(w->b, json);
}

void
jw_rawn(struct jw *w, const char *json, size_t n)
{
	sep(w);
	buf_append(w->b, json, n);
}

void
jw_kstr(struct jw *w, const char *k, const char *s)
{
	jw_key(w, k);
	jw_str(w, s);
}
void
jw_kint(struct jw *w, const char *k, int64_t v)
{
	jw_key(w, k);
	jw_int(w, v);
}
void
jw_kbool(struct jw *w, const char *k, int v)
{
	jw_key(w, k);
	jw_bool(w, v);
}
void
jw_ktime(struct jw *w, const char *k, int64_t ms)
{
	jw_key(w, k);
	jw_time(w, ms);
}
