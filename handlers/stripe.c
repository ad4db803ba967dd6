/*
 * bin/tally-stripe: Stripe's webhook endpoint (POST /webhooks/stripe).
 *
 * Environment: STRIPE_WEBHOOK_SECRET (or STRIPE_WEBHOOK_SECRET_FILE; several
 * secrets comma-separated while one is rolled), TALLY_DB, TALLY_CONFIG.
 * Config: stripe.test_mode, stripe.tolerance, stripe.user_metadata_key,
 * stripe.product_metadata_key. Limits: body BODY_MAX (413 past it).
 * Answers: 200 once committed (applied, ignored, orphaned, unknown_product
 * and failed events alike: each is stored and replayable), 401 for a
 * missing, wrong or stale signature, 400 for a malformed signature header or
 * body, 405, 411, 413, and 503 when the secret is not configured or storage
 * failed (Stripe retries).
 */
#include "base/tally_limits.h"
#include "serve/handler.h"

/* Verified, parsed and refused by the "stripe" row of the provider table (core/provider.c). */
static const struct handler stripe_handler = {
	.name = "stripe",
	.provider = "stripe",
	.body_max = BODY_MAX,
};

int
main(int argc, char **argv)
{
	return handler_main(&stripe_handler, argc, argv);
}
