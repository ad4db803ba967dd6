/*
 * Forms of the support console (application/x-www-form-urlencoded, HTML's
 * form submission): a query string or a POST body decoded into names and
 * values, each text without control characters, no name twice.
 */
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "console/console_form.h"

/* Decode p[0..n) ('+' is a space, %XX a byte) to out; the end of out, or NULL when malformed. */
static char *
decode(const char *p, size_t n, char *out)
{
	unsigned char byte;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '+')
			*out++ = ' ';
		else if (p[i] != '%')
			*out++ = p[i];
		else {
			if (i + 2 >= n || text_unhex(p + i + 1, 2, &byte, 1) != TERR_OK)
				return NULL;
			*out++ = (char)byte;
			i += 2;
		}
	}
	*out++ = '\0';
	return out;
}

/* Decoded text must be UTF-8 without control characters (and so without NUL). */
static int
text_ok(const char *s, const char *end)
{
	const char *p;

	for (p = s; p < end - 1; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return text_utf8_valid(s, (size_t)(end - 1 - s));
}

void
form_parse(struct form *f, const char *p, size_t n)
{
	const char *end = p + n, *amp, *eq;
	char *w;

	memset(f, 0, sizeof(*f));
	if (n == 0)
		return;
	/* Decoding never lengthens: names and values with their NULs fit in n + n / 2 + 2. */
	if ((f->mem = malloc(n + n / 2 + 2)) == NULL) {
		f->bad = 1;
		return;
	}
	w = f->mem;
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp == p) {
			p++;
			continue;
		}
		if (f->n == FORM_FIELDS_MAX) {
			f->bad = 1;
			return;
		}
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			eq = amp;
		f->name[f->n] = w;
		if ((w = decode(p, (size_t)(eq - p), w)) == NULL || !text_ok(f->name[f->n], w)) {
			f->bad = 1;
			return;
		}
		/* A name given twice is ambiguous (which one did the person mean?): refused. */
		if (form_get(f, f->name[f->n]) != NULL) {
			f->bad = 1;
			return;
		}
		f->value[f->n] = w;
		if ((w = decode(eq < amp ? eq + 1 : amp, (size_t)(amp - (eq < amp ? eq + 1 : amp)),
			 w)) == NULL ||
		    !text_ok(f->value[f->n], w)) {
			f->bad = 1;
			return;
		}
		f->n++;
		p = amp + 1;
	}
}

void
form_release(struct form *f)
{
	free(f->mem);
	memset(f, 0, sizeof(*f));
}

const char *
form_get(const struct form *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0)
			return f->value[i];
	return NULL;
}
