#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_init_fixed(struct buf *b, char *storage, size_t size)
{
	memset(b, 0, sizeof(*b));
	b->p = storage;
	b->cap = size;
	b->max = size > 0 ? size - 1 : 0;
	b->fixed = 1;
	if (size > 0)
		storage[0] = '\0';
}

void
buf_release(struct buf *b)
{
	size_t max = b->max;

	if (b->fixed) {
		buf_reset(b);
		return;
	}
	free(b->p);
	buf_init(b, max);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = TERR_OK;
	if (b->cap > 0)
		b->p[0] = '\0';
}

char *
buf_reserve(struct buf *b, size_t n)
{
	size_t need, ncap;
	char *np;

	if (b->err != TERR_OK)
		return NULL;
	if (n > b->max - b->len) {
		b->err = TERR_TOOBIG;
		return NULL;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return b->p + b->len;
	if (b->fixed) {
		b->err = TERR_TOOBIG;
		return NULL;
	}
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < need)
		ncap = ncap > (size_t)-1 / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	np = realloc(b->p, ncap);
	if (np == NULL) {
		b->err = TERR_NOMEM;
		return NULL;
	}
	b->p = np;
	b->cap = ncap;
	return b->p + b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	char *dst;

	if (n == 0 && b->err == TERR_OK) {
		if (buf_reserve(b, 0) != NULL)
			b->p[b->len] = '\0';
		return;
	}
	if ((dst = buf_reserve(b, n)) == NULL)
		return;
	memcpy(dst, p, n);
	buf_commit(b, n);
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	char small[256];
	char *dst;
	int n;

	if (b->err != TERR_OK)
		return;
	va_copy(cp, ap);
	n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->err = TERR_INVAL;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		buf_append(b, small, (size_t)n);
		return;
	}
	if ((dst = buf_reserve(b, (size_t)n)) == NULL)
		return;
	vsnprintf(dst, (size_t)n + 1, fmt, ap);
	buf_commit(b, (size_t)n);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

const char *
buf_cstr(const struct buf *b)
{
	return b->cap > 0 ? b->p : "";
}
