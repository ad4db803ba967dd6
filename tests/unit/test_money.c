/*
 * lib/base/money.h: conversions of amounts from outside into minor units are
 * bounded before they multiply (a signed overflow is undefined, C11 6.5p5,
 * and in practice a wrong amount), and formatting holds at int64's ends.
 */
#include <stdint.h>
#include <string.h>

#include "base/money.h"
#include "providers/appstore/appstore.h"
#include "t.h"

TEST(rescale_milliunits_to_cents_drops_the_finer_digit)
{
	int64_t v = -1, max = 0;

	CHECK_EQ(money_rescale(4999, 3, "USD", &v, &max), TERR_OK);
	CHECK_EQ(v, 499);
	CHECK_EQ(max, MONEY_MINOR_MAX * 10);
}

TEST(rescale_to_a_finer_currency_is_refused_past_the_bound_not_overflowed)
{
	int64_t v = 7, max = 0;

	/* BTC: 10^-8 of a coin. 10^10 milliunits is 10^15 minor units: the largest that fits. */
	CHECK_EQ(money_rescale(10000000000LL, 3, "BTC", &v, &max), TERR_OK);
	CHECK_EQ(v, MONEY_MINOR_MAX);
	CHECK_EQ(max, 10000000000LL);
	v = 7;
	CHECK_EQ(money_rescale(10000000001LL, 3, "BTC", &v, NULL), TERR_INVAL);
	CHECK_EQ(v, 7);
	/* 2^53 milliunits times 10^5 passes INT64_MAX: refused before it is multiplied. */
	CHECK_EQ(money_rescale(9007199254740991LL, 3, "BTC", &v, NULL), TERR_INVAL);
	CHECK_EQ(money_rescale(INT64_MAX, 3, "BTC", &v, NULL), TERR_INVAL);
	CHECK_EQ(v, 7);
}

TEST(rescale_refuses_negative_amounts)
{
	int64_t v = 7;

	CHECK_EQ(money_rescale(-1, 3, "USD", &v, NULL), TERR_INVAL);
	CHECK_EQ(money_rescale(INT64_MIN, 3, "JPY", &v, NULL), TERR_INVAL);
	CHECK_EQ(v, 7);
}

TEST(rescale_to_a_coarser_currency_keeps_the_bound_in_minor_units)
{
	int64_t v = 0, max = 0;

	/* JPY has no minor unit: 10^15 yen is 10^18 milliunits. */
	CHECK_EQ(money_rescale(1000000000000000000LL, 3, "JPY", &v, &max), TERR_OK);
	CHECK_EQ(v, MONEY_MINOR_MAX);
	CHECK_EQ(max, 1000000000000000000LL);
	CHECK_EQ(money_rescale(INT64_MAX, 3, "JPY", &v, NULL), TERR_INVAL);
}

TEST(apple_price_past_the_bound_is_refused_with_the_largest_that_fits)
{
	int64_t v = 7, max = 0;

	/* KWD has three decimals: Apple's milliunits are its minor units. */
	CHECK_EQ(appstore_minor_units(9007199254740991LL, "KWD", &v, &max), TERR_INVAL);
	CHECK_EQ(v, 7);
	CHECK_EQ(max, MONEY_MINOR_MAX);
	CHECK_EQ(appstore_minor_units(9990, "USD", &v, &max), TERR_OK);
	CHECK_EQ(v, 999);
}

TEST(format_holds_at_int64_min_and_max)
{
	char out[64];

	money_format(INT64_MIN, "USD", out, sizeof(out));
	CHECK_STR(out, "-92233720368547758.08");
	money_format(INT64_MAX, "JPY", out, sizeof(out));
	CHECK_STR(out, "9223372036854775807");
	money_format(-5, "BTC", out, sizeof(out));
	CHECK_STR(out, "-0.00000005");
}

TEST(text_for_people_is_major_units_and_the_code_in_capitals)
{
	static const struct {
		int64_t minor;
		const char *currency, *want;
	} cases[] = {
		{ 1000, "usd", "10.00 USD" },
		{ 5, "EUR", "0.05 EUR" },
		/* ISO 4217: no minor unit for JPY, three for KWD. */
		{ 500, "jpy", "500 JPY" },
		{ 1500, "KWD", "1.500 KWD" },
		{ 250, "XTR", "250 XTR" },
		{ 499000000, "USDT", "4.99000000 USDT" },
		{ -120, "usd", "-1.20 USD" },
		/* The ends of int64 and a code past 15 characters still fit, the code cut. */
		{ INT64_MIN, "ABCDEFGHIJKLMNOPQRST", "-92233720368547758.08 ABCDEFGHIJKLMNO" },
		/* No code: the number alone. */
		{ 1000, "", "10.00" },
	};
	char out[MONEY_TEXT_SIZE];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		money_text(cases[i].minor, cases[i].currency, out, sizeof(out));
		CHECK_STR(out, cases[i].want);
	}
	/* A short buffer is cut, never overrun. */
	money_text(1000, "USD", out, 6);
	CHECK_STR(out, "10.00");
}

TEST(parse_bound_is_the_same_bound)
{
	int64_t v = 0;

	CHECK_EQ(money_parse("10000000.00000000", "BTC", &v), TERR_OK);
	CHECK_EQ(v, MONEY_MINOR_MAX);
	CHECK_EQ(money_parse("10000000.00000001", "BTC", &v), TERR_INVAL);
}

int
main(void)
{
	RUN(rescale_milliunits_to_cents_drops_the_finer_digit);
	RUN(rescale_to_a_finer_currency_is_refused_past_the_bound_not_overflowed);
	RUN(rescale_refuses_negative_amounts);
	RUN(rescale_to_a_coarser_currency_keeps_the_bound_in_minor_units);
	RUN(apple_price_past_the_bound_is_refused_with_the_largest_that_fits);
	RUN(format_holds_at_int64_min_and_max);
	RUN(text_for_people_is_major_units_and_the_code_in_capitals);
	RUN(parse_bound_is_the_same_bound);
	return t_done();
}
