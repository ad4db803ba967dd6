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
#include <stdio.h>
#include <stdlib.h>

#include "base/tally_limits.h"
#include "providers/stripe/stripe.h"
#include "serve/handler.h"

static enum terr
init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	struct stripe_verifier *v;
	enum terr rc;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return TERR_NOMEM;
	if ((rc = stripe_verifier_init(v, &c->stripe)) != TERR_OK) {
		free(v);
		snprintf(why, whysize, "cannot prepare the webhook secret");
		return rc;
	}
	*state = v;
	if (v->n == 0) {
		snprintf(why, whysize, "STRIPE_WEBHOOK_SECRET is not set");
		return TERR_CONFIG;
	}
	return TERR_OK;
}

static void
fini(void *state)
{
	stripe_verifier_release(state);
	free(state);
}

static int
intake(void *state, const struct cfg *c, struct http_req *r, int64_t now, struct bev *e,
    struct intake_err *err)
{
	const char *why = NULL;
	enum terr rc;

	rc = stripe_verify(state, http_header(r, "Stripe-Signature"), buf_cstr(&r->body),
	    r->body.len, now, &why);
	if (rc != TERR_OK) {
		err->status = rc == TERR_INVAL ? 400 : rc == TERR_CONFIG ? 503 : 401;
		err->code = rc == TERR_STALE ? "stale_timestamp"
		    : rc == TERR_INVAL       ? "bad_signature_header"
					     : "bad_signature";
		snprintf(err->message, sizeof(err->message), "%s", why);
		return err->status;
	}
	if (stripe_parse(c, buf_cstr(&r->body), r->body.len, e, err->message,
		sizeof(err->message)) != TERR_OK) {
		err->status = 400;
		err->code = "malformed_event";
		return 400;
	}
	return 0;
}

static const struct handler stripe_handler = {
	.name = "stripe",
	.body_max = BODY_MAX,
	.init = init,
	.fini = fini,
	.intake = intake,
};

int
main(int argc, char **argv)
{
	return handler_main(&stripe_handler, argc, argv);
}
