#include <stdio.h>
#include <string.h>

#include "core/op.h"
#include "core/provider.h"
#include "providers/appstore/appstore.h"
#include "providers/cryptobot/cryptobot.h"
#include "providers/razorpay/razorpay.h"
#include "providers/revenuecat/revenuecat.h"
#include "providers/stripe/stripe.h"
#include "providers/telegram/telegram.h"

enum terr
provider_parse(const struct cfg *c, const char *provider, const char *body, size_t n, struct bev *e,
    char *why, size_t whysize)
{
	if (strcmp(provider, "stripe") == 0)
		return stripe_parse(c, body, n, e, why, whysize);
	if (op_is_source(provider))
		return op_parse(provider, body, n, e, why, whysize);
	if (strcmp(provider, "apple") == 0)
		return appstore_parse(c, body, n, e, why, whysize);
	if (strcmp(provider, "revenuecat") == 0)
		return revenuecat_parse(c, body, n, e, why, whysize);
	/* Razorpay's event id is a header, not in the body: the inbox row keeps it. */
	if (strcmp(provider, "razorpay") == 0)
		return razorpay_parse(c, NULL, body, n, e, why, whysize);
	if (strcmp(provider, "telegram") == 0)
		return telegram_parse(c, body, n, e, why, whysize);
	if (strcmp(provider, "cryptobot") == 0)
		return cryptobot_parse(c, body, n, e, why, whysize);
	snprintf(why, whysize, "no parser for provider %s", provider);
	return TERR_NOTFOUND;
}

int
provider_test_allowed(const struct cfg *c, const char *provider)
{
	if (strcmp(provider, "stripe") == 0)
		return c->stripe.test_mode;
	if (strcmp(provider, "apple") == 0)
		return c->apple.sandbox;
	if (strcmp(provider, "revenuecat") == 0)
		return c->revenuecat.sandbox;
	if (strcmp(provider, "razorpay") == 0)
		return c->razorpay.test_mode;
	if (strcmp(provider, "cryptobot") == 0)
		return c->cryptobot.testnet;
	/* tally's own events (operator, app, job) have no test mode. */
	return op_is_source(provider);
}

const char *
provider_test_setting(const char *provider)
{
	if (strcmp(provider, "stripe") == 0)
		return "stripe.test_mode";
	if (strcmp(provider, "apple") == 0)
		return "apple.sandbox";
	if (strcmp(provider, "revenuecat") == 0)
		return "revenuecat.sandbox";
	if (strcmp(provider, "razorpay") == 0)
		return "razorpay.test_mode";
	if (strcmp(provider, "cryptobot") == 0)
		return "cryptobot.testnet";
	return "";
}

const char *
provider_ref_noun(const char *provider)
{
	if (strcmp(provider, "razorpay") == 0)
		return "order";
	if (strcmp(provider, "cryptobot") == 0)
		return "invoice";
	return "ref";
}
