/*
 * The one buffer type for bytes from outside and for text we build.
 *
 * Invariants (after buf_init or buf_init_fixed):
 *  - p[0..len) holds the content and p[len] == '\0' whenever cap > 0, so the
 *    content is always usable as a C string (it may itself contain NULs).
 *  - len never exceeds max. An append that would pass max, or an allocation
 *    that fails, sets err (TERR_TOOBIG / TERR_NOMEM) and leaves the content
 *    unchanged; every later append is then a no-op. Check err once after a
 *    series of appends.
 *  - A fixed buffer (buf_init_fixed) never allocates; its max is size - 1.
 *
 * Ownership: the buffer owns p unless fixed. buf_release frees it and leaves
 * an empty buffer with the same max that may be reused.
 */
#ifndef TALLY_BUF_H
#define TALLY_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "base/err.h"

struct buf {
	char *p;
	size_t len;
	size_t cap; /* bytes allocated at p (content + NUL) */
	size_t max; /* largest len allowed */
	int fixed;  /* p is caller storage: never realloc'd or freed */
	enum terr err;
};

void buf_init(struct buf *b, size_t max);
void buf_init_fixed(struct buf *b, char *storage, size_t size);
void buf_release(struct buf *b);
/* Empty the content and clear err; keeps the allocation. */
void buf_reset(struct buf *b);

void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Make room for n more bytes; returns a pointer to write them or NULL (err set). */
char *buf_reserve(struct buf *b, size_t n);
/* After writing n bytes into the space buf_reserve returned. */
void buf_commit(struct buf *b, size_t n);

/* The content as a C string; "" for an empty unallocated buffer. */
const char *buf_cstr(const struct buf *b);

#endif
