/*
 * bin/tally-razorpay: Razorpay's webhook endpoint (POST /webhooks/razorpay).
 *
 * Environment: RAZORPAY_WEBHOOK_SECRET (or RAZORPAY_WEBHOOK_SECRET_FILE;
 * several secrets comma-separated while one is rotated), TALLY_DB,
 * TALLY_CONFIG. Config: razorpay.key_id (test keys make test events),
 * razorpay.test_mode, the catalog's match.razorpay plan ids. Limits: body
 * BODY_MAX (413 past it).
 * Answers: 200 once committed (applied, ignored, orphaned, unknown_product
 * and failed events alike: each is stored and replayable; a payment refused
 * against its order is failed and alerted, never retried), 401 for a missing
 * or wrong X-Razorpay-Signature, 400 for a missing X-Razorpay-Event-Id or a
 * body that is not a Razorpay event, 405, 411, 413, and 503 when the secret
 * is not configured or storage failed (Razorpay retries for 24 hours, then
 * disables the webhook). It never calls out.
 */
#include "base/tally_limits.h"
#include "serve/handler.h"

/* Verified, parsed and refused by the "razorpay" row of the provider table (core/provider.c). */
static const struct handler razorpay_handler = {
	.name = "razorpay",
	.provider = "razorpay",
	.body_max = BODY_MAX,
};

int
main(int argc, char **argv)
{
	return handler_main(&razorpay_handler, argc, argv);
}
