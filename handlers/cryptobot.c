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
#include <stdio.h>
#include <stdlib.h>

#include "base/tally_limits.h"
#include "providers/cryptobot/cryptobot.h"
#include "serve/handler.h"

static enum terr
init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	struct cryptobot_verifier *v;
	enum terr rc;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return TERR_NOMEM;
	if ((rc = cryptobot_verifier_init(v, &c->cryptobot)) != TERR_OK) {
		free(v);
		snprintf(why, whysize, "cannot prepare the webhook key");
		return rc;
	}
	*state = v;
	if (!v->have) {
		snprintf(why, whysize, "CRYPTOBOT_TOKEN is not set");
		return TERR_CONFIG;
	}
	return TERR_OK;
}

static void
fini(void *state)
{
	cryptobot_verifier_release(state);
	free(state);
}

static int
intake(void *state, const struct cfg *c, struct http_req *r, int64_t now, struct bev *e,
    struct intake_err *err)
{
	const char *why = NULL;
	enum terr rc;

	rc = cryptobot_verify(state, http_header(r, "Crypto-Pay-Api-Signature"), buf_cstr(&r->body),
	    r->body.len, now, &why);
	if (rc != TERR_OK) {
		err->status = rc == TERR_CONFIG ? 503
		    : rc == TERR_INVAL          ? 400
		    : rc == TERR_INTERNAL       ? 500
						: 401;
		err->code = rc == TERR_STALE ? "stale_request_date"
		    : rc == TERR_INVAL       ? "bad_request_date"
		    : rc == TERR_CONFIG      ? "not_configured"
					     : "bad_signature";
		snprintf(err->message, sizeof(err->message), "%s", why);
		return err->status;
	}
	if (cryptobot_parse(c, buf_cstr(&r->body), r->body.len, e, err->message,
		sizeof(err->message)) != TERR_OK) {
		err->status = 400;
		err->code = "malformed_event";
		return 400;
	}
	return 0;
}

static const struct handler cryptobot_handler = {
	.name = "cryptobot",
	.body_max = BODY_MAX,
	.init = init,
	.fini = fini,
	.intake = intake,
};

int
main(int argc, char **argv)
{
	return handler_main(&cryptobot_handler, argc, argv);
}
