/*
 * bin/tally-cryptobot: CryptoBot's Crypto Pay webhook endpoint
 * (POST /webhooks/cryptobot).
 *
 * Environment: CRYPTOBOT_TOKEN (or CRYPTOBOT_TOKEN_FILE): the app's API
 * token, whose SHA-256 keys the webhook's HMAC; TALLY_DB, TALLY_CONFIG.
 * Config: cryptobot.testnet, cryptobot.tolerance (request_date freshness).
 * Limits: body BODY_MAX (413 past it).
 * Answers: 200 once committed (an invoice_paid refused against its order is
 * stored, failed and alerted), 401 for a missing or wrong
 * crypto-pay-api-signature or a request_date outside the tolerance, 400 for
 * a body without a readable request_date or that is not a Crypto Pay
 * update, 405, 411, 413, and 503 when the token is not configured or
 * storage failed. It never calls out.
 */
#include "base/tally_limits.h"
#include "serve/handler.h"

/* Verified, parsed and refused by the "cryptobot" row of the provider table (core/provider.c). */
static const struct handler cryptobot_handler = {
	.name = "cryptobot",
	.provider = "cryptobot",
	.body_max = BODY_MAX,
};

int
main(int argc, char **argv)
{
	return handler_main(&cryptobot_handler, argc, argv);
}
