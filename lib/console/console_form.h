/*
 * Forms of the support console (console_form.c): a query string or a POST
 * body, decoded. Prefix form_.
 */
#ifndef TALLY_CONSOLE_FORM_H
#define TALLY_CONSOLE_FORM_H

#include <stddef.h>

/* The largest request body read: a form of short fields (a reason is at most 500 bytes). */
#define CONSOLE_BODY_MAX (16 * 1024)
/* Fields of one form or query string. */
#define FORM_FIELDS_MAX  32

/* A decoded application/x-www-form-urlencoded text (a query string or a POST body). */
struct form {
	char *mem; /* the decoded names and values, NUL-separated; owned */
	const char *name[FORM_FIELDS_MAX];
	const char *value[FORM_FIELDS_MAX];
	size_t n;
	int bad; /* malformed: too many fields, a bad escape, not text, or a name twice */
};

/* Decode p[0..n) into f (release with form_release); f->bad when malformed. */
void form_parse(struct form *f, const char *p, size_t n);
void form_release(struct form *f);
/* The value of a query or form field, or NULL. */
const char *form_get(const struct form *f, const char *name);

#endif
