#include <stdarg.h>
#include <string.h>

#include "base/text.h"

enum terr
text_copy(char *dst, size_t size, const char *src)
{
	return text_copyn(dst, size, src, strlen(src));
}

enum terr
text_copyn(char *dst, size_t size, const char *p, size_t n)
{
	if (size == 0)
		return TERR_TOOBIG;
	if (n >= size) {
		dst[0] = '\0';
		return TERR_TOOBIG;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
	return TERR_OK;
}

/* RFC 3629 section 4 (UTF8-octets syntax). */
int
text_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, len;
	unsigned c;

	while (i < n) {
		c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4;
		else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		/* Overlongs and surrogates, and code points past U+10FFFF. */
		if (c == 0xe0 && p[i + 1] < 0xa0)
			return 0;
		if (c == 0xed && p[i + 1] > 0x9f)
			return 0;
		if (c == 0xf0 && p[i + 1] < 0x90)
			return 0;
		if (c == 0xf4 && p[i + 1] > 0x8f)
			return 0;
		i += len;
	}
	return 1;
}

void
text_quote(char *out, size_t size, const char *s, size_t max)
{
	size_t n = strlen(s), i = 0, o = 0, len;
	unsigned char c;

	/* The smallest answer with a cut: a quote, one byte, a quote, "..." and the NUL. */
	if (size < 7) {
		if (size > 0)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	/* Room kept for the closing quote, "..." and the NUL. */
	while (i < n && i < max && o + 6 <= size) {
		c = (unsigned char)s[i];
		len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (c >= 0x80 && i + len <= n && i + len <= max && o + len + 5 <= size &&
		    text_utf8_valid(s + i, len)) {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
			continue;
		}
		out[o++] =
		    c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c >= 0x80 ? '?' : (char)c;
		i++;
	}
	out[o++] = '"';
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

int
text_id_valid(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return text_utf8_valid(s, n);
}

enum terr
text_i64(const char *p, size_t n, int64_t min, int64_t max, int64_t *out)
{
	uint64_t v = 0, lim;
	size_t i = 0;
	int neg = 0;

	if (n > 0 && p[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n)
		return TERR_INVAL;
	/* Magnitude limit: INT64_MAX, or INT64_MAX + 1 for negatives. */
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned d;
		if (p[i] < '0' || p[i] > '9')
			return TERR_INVAL;
		d = (unsigned)(p[i] - '0');
		if (v > (lim - d) / 10)
			return TERR_TOOBIG;
		v = v * 10 + d;
	}
	if (neg) {
		int64_t r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		if (r < min || r > max)
			return TERR_TOOBIG;
		*out = r;
	} else {
		if ((int64_t)v < min || (int64_t)v > max)
			return TERR_TOOBIG;
		*out = (int64_t)v;
	}
	return TERR_OK;
}

enum terr
text_i64s(const char *s, int64_t min, int64_t max, int64_t *out)
{
	return text_i64(s, strlen(s), min, max, out);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum terr
text_unhex(const char *p, size_t n, unsigned char *out, size_t outsize)
{
	size_t i;

	if (n % 2 != 0)
		return TERR_INVAL;
	if (n / 2 > outsize)
		return TERR_TOOBIG;
	for (i = 0; i < n; i += 2) {
		int hi = hexval(p[i]), lo = hexval(p[i + 1]);
		if (hi < 0 || lo < 0)
			return TERR_INVAL;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return TERR_OK;
}

void
text_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int
text_eq(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(p, s, n) == 0;
}

static int
b64val(char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

enum terr
text_b64dec(const char *p, size_t n, int url, unsigned char *out, size_t outsize, size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, bits = 0, k = 0, pad = 0;
	int v;

	*outlen = 0;
	/* Padding: at most two '=' at the end, and then the length must be a multiple of 4. */
	while (pad < 2 && n > 0 && p[n - 1] == '=') {
		n--;
		pad++;
	}
	if (pad > 0 && (n + pad) % 4 != 0)
		return TERR_INVAL;
	if (!url && pad == 0 && n % 4 != 0)
		return TERR_INVAL;
	if (n % 4 == 1)
		return TERR_INVAL;
	for (i = 0; i < n; i++) {
		if ((v = b64val(p[i], url)) < 0)
			return TERR_INVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (k == outsize)
				return TERR_TOOBIG;
			out[k++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero (a canonical encoding). */
	if ((acc & ((1u << bits) - 1)) != 0)
		return TERR_INVAL;
	*outlen = k;
	return TERR_OK;
}

size_t
text_b64enc(const unsigned char *in, size_t n, int url, char *out, size_t outsize)
{
	const char *alpha = url
	    ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	    : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, k = 0;
	uint32_t v;

	for (i = 0; i + 2 < n && k + 4 < outsize; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[k++] = alpha[v >> 18];
		out[k++] = alpha[(v >> 12) & 63];
		out[k++] = alpha[(v >> 6) & 63];
		out[k++] = alpha[v & 63];
	}
	if (i < n && k + 4 < outsize) {
		v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		out[k++] = alpha[v >> 18];
		out[k++] = alpha[(v >> 12) & 63];
		if (i + 1 < n)
			out[k++] = alpha[(v >> 6) & 63];
		else if (!url)
			out[k++] = '=';
		if (!url)
			out[k++] = '=';
	}
	if (k < outsize)
		out[k] = '\0';
	return k;
}

enum terr
text_keyv(char *out, size_t size, const char *first, va_list ap)
{
	const char *part;
	size_t n = 0, i, k;
	enum terr rc = TERR_OK;

	if (size == 0)
		return TERR_TOOBIG;
	out[0] = '\0';
	if (first == NULL)
		return TERR_INVAL;
	for (part = first, k = 0; part != NULL && rc == TERR_OK;
	     part = va_arg(ap, const char *), k++) {
		if (k > 0) {
			/* Room for the ':' and the NUL. */
			if (size - n < 2) {
				rc = TERR_TOOBIG;
				break;
			}
			out[n++] = ':';
		}
		for (i = 0; part[i] != '\0'; i++) {
			const char *esc = part[i] == '%' ? "%25" : part[i] == ':' ? "%3A" : NULL;
			size_t len = esc != NULL ? 3 : 1;
			if (size - n < len + 1) {
				rc = TERR_TOOBIG;
				break;
			}
			if (esc != NULL)
				memcpy(out + n, esc, 3);
			else
				out[n] = part[i];
			n += len;
		}
	}
	out[rc == TERR_OK ? n : 0] = '\0';
	return rc;
}

enum terr
text_key(char *out, size_t size, const char *first, ...)
{
	va_list ap;
	enum terr rc;

	va_start(ap, first);
	rc = text_keyv(out, size, first, ap);
	va_end(ap);
	return rc;
}
