#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/money.h"

/* ISO 4217 currencies without minor units, and those with three (the rest have two). */
static const char *const zero_decimal[] = { "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
	"PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF", "XTR", NULL };
static const char *const three_decimal[] = { "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND",
	NULL };
/* Crypto assets (CryptoBot's list): amounts kept in 10^-8 of a coin. */
static const char *const crypto[] = { "USDT", "USDC", "TON", "BTC", "ETH", "LTC", "BNB", "TRX",
	"JET", "SEND", "GRAM", NULL };

/*
 * Case does not matter: Stripe writes ISO 4217 codes in lower case ("jpy"),
 * the others in upper case, and a yen is a yen in both.
 */
static int
in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcasecmp(*list, s) == 0)
			return 1;
	return 0;
}

int
money_exponent(const char *currency)
{
	if (currency == NULL)
		return 2;
	if (in_list(zero_decimal, currency))
		return 0;
	if (in_list(three_decimal, currency))
		return 3;
	if (in_list(crypto, currency))
		return 8;
	return 2;
}

int
money_currency_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 3 || n > 8)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* money_parse, saying why it refuses s in why[whysize] when why is not NULL. */
static enum terr
parse(const char *s, const char *currency, int64_t *minor, char *why, size_t whysize)
{
	const char *bad = "is not a plain decimal number (digits and one point)";
	int exp = money_exponent(currency), frac = -1;
	int64_t v = 0;
	const char *p;
	enum terr rc = TERR_INVAL;

	if (*s == '-')
		bad = "is negative";
	if (*s == '\0' || *s == '.')
		goto out;
	for (p = s; *p != '\0'; p++) {
		if (*p == '.') {
			if (frac >= 0 || p[1] == '\0')
				goto out;
			frac = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			goto out;
		if (frac >= 0 && ++frac > exp) {
			bad = NULL;
			if (why != NULL)
				snprintf(why, whysize, "has more decimals than %s's %d",
				    currency != NULL ? currency : "the currency", exp);
			goto out;
		}
		v = v * 10 + (*p - '0');
		if (v > MONEY_MINOR_MAX) {
			bad = "is more than the 10^15 smallest units tally counts";
			goto out;
		}
	}
	for (frac = frac < 0 ? 0 : frac; frac < exp; frac++) {
		v *= 10;
		if (v > MONEY_MINOR_MAX) {
			bad = "is more than the 10^15 smallest units tally counts";
			goto out;
		}
	}
	*minor = v;
	rc = TERR_OK;
out:
	if (rc != TERR_OK && bad != NULL && why != NULL)
		snprintf(why, whysize, "%s", bad);
	return rc;
}

enum terr
money_parse(const char *s, const char *currency, int64_t *minor)
{
	return parse(s, currency, minor, NULL, 0);
}

enum terr
money_parse_why(const char *s, const char *currency, int64_t *minor, char *why, size_t whysize)
{
	if (whysize > 0)
		why[0] = '\0';
	return parse(s, currency, minor, why, whysize);
}

enum terr
money_rescale(int64_t v, int from_exp, const char *currency, int64_t *minor, int64_t *max_v)
{
	int exp = money_exponent(currency), i;
	int64_t limit = MONEY_MINOR_MAX;

	/*
	 * The bound is checked in v's own units before any multiplication, so
	 * no product is ever formed that could pass INT64_MAX (C11 6.5p5: a
	 * signed overflow is undefined, in practice a wrapped, wrong amount).
	 */
	for (i = exp; i < from_exp; i++) /* a coarser currency: more of v fits */
		limit = limit > INT64_MAX / 10 ? INT64_MAX : limit * 10;
	for (i = from_exp; i < exp; i++) /* a finer one: less */
		limit /= 10;
	if (max_v != NULL)
		*max_v = limit;
	if (v < 0 || v > limit)
		return TERR_INVAL;
	for (i = exp; i < from_exp; i++)
		v /= 10;
	for (i = from_exp; i < exp; i++)
		v *= 10;
	*minor = v;
	return TERR_OK;
}

void
money_format(int64_t minor, const char *currency, char *out, size_t size)
{
	int exp = money_exponent(currency), i;
	/* In unsigned: -INT64_MIN does not exist in int64 (C11 6.5p5). */
	uint64_t div = 1, a = minor < 0 ? 0 - (uint64_t)minor : (uint64_t)minor;

	for (i = 0; i < exp; i++)
		div *= 10;
	if (exp == 0)
		snprintf(out, size, "%s%llu", minor < 0 ? "-" : "", (unsigned long long)a);
	else
		snprintf(out, size, "%s%llu.%0*llu", minor < 0 ? "-" : "",
		    (unsigned long long)(a / div), exp, (unsigned long long)(a % div));
}

void
money_text(int64_t minor, const char *currency, char *out, size_t size)
{
	char num[32], code[16];
	size_t i;

	money_format(minor, currency, num, sizeof(num));
	/* ISO 4217 writes codes in capitals; Stripe sends them in lower case ("usd"). */
	for (i = 0; currency != NULL && currency[i] != '\0' && i + 1 < sizeof(code); i++)
		code[i] = currency[i] >= 'a' && currency[i] <= 'z' ? (char)(currency[i] - 'a' + 'A')
								   : currency[i];
	code[i] = '\0';
	snprintf(out, size, "%s%s%s", num, i > 0 ? " " : "", code);
}
