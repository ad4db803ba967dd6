/*
 * Bounded handling of text and numbers from outside (STYLE.md 9): no atoi,
 * no sscanf, no strcpy. Every parser takes explicit bounds.
 */
#ifndef TALLY_TEXT_H
#define TALLY_TEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/*
 * Copy the NUL-terminated src into dst[size]. Returns TERR_OK, or
 * TERR_TOOBIG when src does not fit (dst then holds "").
 */
enum terr text_copy(char *dst, size_t size, const char *src);

/* Copy p[0..n) into dst[size] as a C string; TERR_TOOBIG if n >= size. */
enum terr text_copyn(char *dst, size_t size, const char *p, size_t n);

/* 1 if p[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates), else 0. */
int text_utf8_valid(const char *p, size_t n);

/*
 * 1 if s is an acceptable identifier from outside: 1..max bytes, valid
 * UTF-8, no control characters (C0, DEL). Used for user ids and provider ids.
 */
int text_id_valid(const char *s, size_t max);

/*
 * Parse p[0..n) as a decimal integer (optional leading '-', digits only, no
 * spaces) within [min, max] (strtonum-style). TERR_INVAL or TERR_TOOBIG.
 */
enum terr text_i64(const char *p, size_t n, int64_t min, int64_t max, int64_t *out);

/* Same for a NUL-terminated string. */
enum terr text_i64s(const char *s, int64_t min, int64_t max, int64_t *out);

/* Decode lowercase or uppercase hex p[0..n) into out[n/2]; TERR_INVAL on odd length or a non-hex digit. */
enum terr text_unhex(const char *p, size_t n, unsigned char *out, size_t outsize);

/* Encode in[0..n) as lowercase hex into out[2n+1]. */
void text_hex(const unsigned char *in, size_t n, char *out);

/*
 * Base64 (RFC 4648 section 4) or base64url (section 5) decoding of
 * p[0..n) into out[outsize]; *outlen is set. Padding is optional for
 * base64url and required to be correct when present. TERR_INVAL on any
 * other character, TERR_TOOBIG when out is too small.
 */
enum terr text_b64dec(const char *p, size_t n, int url, unsigned char *out, size_t outsize,
    size_t *outlen);
/* Encode in[0..n) as base64 (url: base64url without padding) into out; returns its length. */
size_t text_b64enc(const unsigned char *in, size_t n, int url, char *out, size_t outsize);

/*
 * s quoted for a stored reason or a log line, where it is shown to support
 * as it was received: between double quotes, at most max bytes of it, each
 * control character, double quote, backslash or byte that is not part of
 * valid UTF-8 written as '?', and "..." after the closing quote when it was
 * cut. out[size] is always NUL-terminated: cut further when size is short,
 * "" when size is below 7.
 */
void text_quote(char *out, size_t size, const char *s, size_t max);

/* Case-sensitive equality of p[0..n) with the C string s. */
int text_eq(const char *p, size_t n, const char *s);

/*
 * A key made of several parts (an event id, a dedup key, a subscription's
 * key): the parts first, ... up to a NULL, each escaped ('%' as "%25", ':'
 * as "%3A", as in RFC 3986 section 2.1) and joined with ':'. No two
 * different lists of parts give one key, whatever bytes the parts hold (a
 * user id may hold ':'), and a list whose parts hold neither '%' nor ':'
 * gives the plain join it gave before parts were escaped, so keys already
 * stored still match. Into out[size]; TERR_OK, or TERR_TOOBIG when the key
 * does not fit (never cut: out is then ""), TERR_INVAL when first is NULL.
 */
enum terr text_key(char *out, size_t size, const char *first, ...) __attribute__((sentinel));
/* The same with the parts after first in ap (NULL-ended). */
enum terr text_keyv(char *out, size_t size, const char *first, va_list ap);

#endif
