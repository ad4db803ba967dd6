/*
 * What the fuzz targets share: a catalog that every provider's ids match,
 * parsed once, and a NUL-terminated copy of the input (parsers take text).
 */
#ifndef TALLY_FUZZ_H
#define TALLY_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "base/text.h"

static const char fuzz_catalog[] =
    "{\"stripe\":{\"test_mode\":true,\"tolerance\":\"1d\"},"
    "\"apple\":{\"bundle_id\":\"com.example.tally\",\"app_apple_id\":1234567890,\"sandbox\":true},"
    "\"revenuecat\":{\"sandbox\":true},"
    "\"free_tier\":{\"signup_credits\":10,\"monthly_credits\":5,\"entitlements\":[\"basic\"]},"
    "\"products\":{"
    "\"pro\":{\"kind\":\"subscription\",\"credits\":1000,\"entitlements\":[\"pro\"],"
    "\"match\":{\"stripe\":[\"price_pro_monthly\"],\"apple\":[\"com.example.pro.monthly\"],"
    "\"revenuecat\":[\"pro_monthly\"],\"google\":[\"pro:monthly\"]}},"
    "\"pack\":{\"kind\":\"pack\",\"credits\":500,\"prices\":{\"INR\":49900,\"XTR\":250,"
    "\"USDT\":\"4.99\"},\"match\":{\"stripe\":[\"price_credits_500\"],"
    "\"apple\":[\"com.example.credits100\"],\"revenuecat\":[\"credits_500\"]}}}}";

static inline struct cfg *
fuzz_cfg(void)
{
	static struct cfg c;
	static int ready;
	char why[256];

	if (!ready) {
		cfg_defaults(&c);
		if (cfg_parse(&c, fuzz_catalog, sizeof(fuzz_catalog) - 1, why, sizeof(why)) != TERR_OK)
			abort();
		ready = 1;
	}
	return &c;
}

/* The input as a NUL-terminated string (free it). */
static inline char *
fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
