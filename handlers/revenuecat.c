/*
 * bin/tally-revenuecat: RevenueCat's webhook endpoint (POST /webhooks/revenuecat),
 * and through it Google Play's, Amazon's and the other stores RevenueCat serves.
 *
 * Environment: REVENUECAT_WEBHOOK_AUTH (or REVENUECAT_WEBHOOK_AUTH_FILE): the
 * Authorization header value set in RevenueCat's dashboard, compared whole;
 * TALLY_DB, TALLY_CONFIG. Config: revenuecat.sandbox,
 * revenuecat.transfer_packs, the catalog's match.apple / .google / .stripe /
 * .revenuecat ids. Limits: body BODY_MAX (413 past it).
 * Answers: 200 once committed (applied, ignored, orphaned, unknown_product
 * and failed events alike: each is stored and replayable), 401 for a missing
 * or wrong Authorization, 400 for a body that is not a RevenueCat event, 405,
 * 411, 413, and 503 when REVENUECAT_WEBHOOK_AUTH is not set or storage failed
 * (RevenueCat retries 5 times, 5 to 80 minutes apart). It never calls out.
 */
#include "base/tally_limits.h"
#include "serve/handler.h"

/* Verified, parsed and refused by the "revenuecat" row of the provider table (core/provider.c). */
static const struct handler revenuecat_handler = {
	.name = "revenuecat",
	.provider = "revenuecat",
	.body_max = BODY_MAX,
};

int
main(int argc, char **argv)
{
	return handler_main(&revenuecat_handler, argc, argv);
}
