#include <stdarg.h>
#include <stdio.h>

#include "base/jread.h"
#include "base/text.h"

void
jr_init(struct jread *r, char *why, size_t whysize)
{
	r->why = why;
	r->whysize = whysize;
	r->bad = 0;
	if (whysize > 0)
		why[0] = '\0';
}

void
jr_bad(struct jread *r, const char *fmt, ...)
{
	va_list ap;

	if (r->bad)
		return;
	r->bad = 1;
	va_start(ap, fmt);
	vsnprintf(r->why, r->whysize, fmt, ap);
	va_end(ap);
}

void
jr_str(struct jread *r, const cJSON *o, const char *key, char *out, size_t size)
{
	const cJSON *v = jget(o, key);

	out[0] = '\0';
	if (v == NULL)
		return;
	if (!cJSON_IsString(v))
		jr_bad(r, "field %s: expected a string", key);
	else if (text_copy(out, size, v->valuestring) != TERR_OK)
		jr_bad(r, "field %s: longer than %zu bytes", key, size - 1);
}

int64_t
jr_int(struct jread *r, const cJSON *o, const char *key, int64_t min, int64_t max)
{
	int64_t v = 0;
	int got = jint(o, key, &v);

	if (got < 0 || (got > 0 && (v < min || v > max))) {
		jr_bad(r, "field %s: expected an integer from %lld to %lld", key, (long long)min,
		    (long long)max);
		return 0;
	}
	return v;
}

int64_t
jr_secs(struct jread *r, const cJSON *o, const char *key)
{
	return jr_int(r, o, key, 0, INT64_MAX / 1000) * 1000;
}

int
jr_bool(struct jread *r, const cJSON *o, const char *key)
{
	int v = 0;

	if (jbool(o, key, &v) < 0) {
		jr_bad(r, "field %s: expected true or false", key);
		return 0;
	}
	return v;
}

void
jr_id(struct jread *r, const cJSON *o, const char *key, char *out, size_t size)
{
	const cJSON *v = jget(o, key);
	int64_t n;

	out[0] = '\0';
	if (v != NULL && cJSON_IsNumber(v)) {
		/* Integers up to 2^53 are exact in JSON (RFC 8259 section 6). */
		if (jint(o, key, &n) != 1 || n < 0)
			jr_bad(r, "field %s: expected a non-negative integer id", key);
		else
			snprintf(out, size, "%lld", (long long)n);
		return;
	}
	jr_str(r, o, key, out, size);
}

const cJSON *
jr_obj(struct jread *r, const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);

	if (v != NULL && !cJSON_IsObject(v)) {
		jr_bad(r, "field %s: expected an object", key);
		return NULL;
	}
	return v;
}
