/*
 * The readers every section of the config file uses (cfg_read.h), each
 * failing with a message that names the key. Below the sections: they call
 * these and nothing else of this folder's code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "cfg/cfg_read.h"

enum terr
cfg_fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return TERR_CONFIG;
}

enum terr
cfg_section(const cJSON *o, const char *path, const char *const *allowed, char *why, size_t size)
{
	if (!cJSON_IsObject(o))
		return cfg_fail(why, size, "config: %s: expected an object", path);
	return cfg_only_keys(o, path, allowed, why, size);
}

/* Reject keys of o not in allowed[] (typos in a billing catalog must not pass silently). */
enum terr
cfg_only_keys(const cJSON *o, const char *path, const char *const *allowed, char *why, size_t size)
{
	const cJSON *c;
	size_t i;

	for (c = o->child; c != NULL; c = c->next) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(c->string, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return cfg_fail(why, size, "config: %s%s%s: unknown key", path,
			    *path ? "." : "", c->string);
	}
	return TERR_OK;
}

enum terr
cfg_get_int(const cJSON *o, const char *key, const char *path, int64_t min, int64_t max,
    int64_t *out, char *why, size_t size)
{
	int64_t v;
	int r = jint(o, key, &v);

	if (r == 0)
		return TERR_OK; /* keep the default */
	if (r < 0 || v < min || v > max)
		return cfg_fail(why, size, "config: %s.%s: expected an integer from %lld to %lld",
		    path, key, (long long)min, (long long)max);
	*out = v;
	return TERR_OK;
}

enum terr
cfg_get_bool(const cJSON *o, const char *key, const char *path, int *out, char *why, size_t size)
{
	int r = jbool(o, key, out);

	if (r < 0)
		return cfg_fail(why, size, "config: %s.%s: expected true or false", path, key);
	return TERR_OK;
}

enum terr
cfg_get_name(const cJSON *o, const char *key, const char *path, char *out, size_t outsize,
    char *why, size_t size)
{
	const cJSON *v = jget(o, key);

	if (v == NULL)
		return TERR_OK;
	if (!cJSON_IsString(v) || !text_id_valid(v->valuestring, outsize - 1))
		return cfg_fail(why, size,
		    "config: %s.%s: expected a non-empty string of at most %zu bytes", path, key,
		    outsize - 1);
	return text_copy(out, outsize, v->valuestring);
}

/* A string of printable text (a URL, a path): non-empty, no control characters. */
enum terr
cfg_get_text(const cJSON *o, const char *key, const char *path, char *out, size_t outsize,
    char *why, size_t size)
{
	const cJSON *v = jget(o, key);

	if (v == NULL)
		return TERR_OK;
	if (!cJSON_IsString(v) || !text_id_valid(v->valuestring, outsize - 1))
		return cfg_fail(why, size,
		    "config: %s.%s: expected a non-empty string of at most %zu bytes", path, key,
		    outsize - 1);
	return text_copy(out, outsize, v->valuestring);
}

/* An http(s) URL: the scheme, then a host (RFC 3986 3.2.2: "http://" alone names nothing). */
enum terr
cfg_get_url(const cJSON *o, const char *key, const char *path, char *out, size_t outsize, char *why,
    size_t size)
{
	enum terr rc = cfg_get_text(o, key, path, out, outsize, why, size);
	const char *host = NULL;

	if (rc != TERR_OK || jget(o, key) == NULL)
		return rc;
	if (strncmp(out, "https://", 8) == 0)
		host = out + 8;
	else if (strncmp(out, "http://", 7) == 0)
		host = out + 7;
	if (host == NULL || *host == '\0' || strchr("/?#:", *host) != NULL)
		return cfg_fail(why, size,
		    "config: %s.%s: expected an http:// or https:// URL with a host", path, key);
	return TERR_OK;
}

/* A duration: seconds as an integer, or a string "90s", "15m", "12h", "7d". */
enum terr
cfg_get_duration(const cJSON *o, const char *key, const char *path, int64_t *out, char *why,
    size_t size)
{
	const cJSON *v = jget(o, key);
	int64_t secs;

	if (v == NULL)
		return TERR_OK;
	if (cJSON_IsString(v) && tm_parse_duration(v->valuestring, out) == TERR_OK)
		return TERR_OK;
	if (jint(o, key, &secs) == 1 && secs >= 0 && secs <= (int64_t)3660 * 86400) {
		*out = secs * 1000;
		return TERR_OK;
	}
	return cfg_fail(why, size,
	    "config: %s.%s: expected a duration (seconds, or a string like \"30m\", \"7d\")", path,
	    key);
}
