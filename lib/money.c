#include <stdio.h>
#include <string.h>

#include "money.h"

/* ISO 4217 currencies without minor units, and those with three (the rest have two). */
static const char *const zero_decimal[] = { "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
	"PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF", "XTR", NULL };
static const char *const three_decimal[] = { "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND",
	NULL };
/* Crypto assets (CryptoBot's list): amounts kept in 10^-8 of a coin. */
static const char *const crypto[] = { "USDT", "USDC", "TON", "BTC", "ETH", "LTC", "BNB", "TRX",
	"JET", "SEND", "GRAM", NULL };

#define MINOR_MAX 1000000000000000LL

static int
in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
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

enum terr
money_parse(const char *s, const char *currency, int64_t *minor)
{
	int exp = money_exponent(currency), frac = -1;
	int64_t v = 0;

	if (*s == '\0' || *s == '.')
		return TERR_INVAL;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (frac >= 0 || s[1] == '\0')
				return TERR_INVAL;
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9')
			return TERR_INVAL;
		if (frac >= 0 && ++frac > exp)
			return TERR_INVAL;
		v = v * 10 + (*s - '0');
		if (v > MINOR_MAX)
			return TERR_INVAL;
	}
	for (frac = frac < 0 ? 0 : frac; frac < exp; frac++) {
		v *= 10;
		if (v > MINOR_MAX)
			return TERR_INVAL;
	}
	*minor = v;
	return TERR_OK;
}

void
money_format(int64_t minor, const char *currency, char *out, size_t size)
{
	int exp = money_exponent(currency), i;
	int64_t div = 1, a = minor < 0 ? -minor : minor;

	for (i = 0; i < exp; i++)
		div *= 10;
	if (exp == 0)
		snprintf(out, size, "%s%lld", minor < 0 ? "-" : "", (long long)a);
	else
		snprintf(out, size, "%s%lld.%0*lld", minor < 0 ? "-" : "", (long long)(a / div),
		    exp, (long long)(a % div));
}
