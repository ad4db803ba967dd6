#include <stdio.h>
#include <string.h>

#include "appstore.h"
#include "op.h"
#include "provider.h"
#include "revenuecat.h"
#include "stripe.h"

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
	/* tally's own events (operator, app, job) have no test mode. */
	return op_is_source(provider);
}
