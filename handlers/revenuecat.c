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
#include <stdio.h>

#include "base/tally_limits.h"
#include "providers/revenuecat/revenuecat.h"
#include "serve/handler.h"

static enum terr
init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	*state = NULL;
	if (c->revenuecat.auth[0] == '\0') {
		snprintf(why, whysize, "REVENUECAT_WEBHOOK_AUTH is not set");
		return TERR_CONFIG;
	}
	return TERR_OK;
}

static int
intake(void *state, const struct cfg *c, struct http_req *r, int64_t now, struct bev *e,
    struct intake_err *err)
{
	const char *why = NULL;
	enum terr rc;

	(void)state;
	(void)now;
	if ((rc = revenuecat_verify(&c->revenuecat, http_header(r, "Authorization"), &why)) !=
	    TERR_OK) {
		err->status = rc == TERR_CONFIG ? 503 : 401;
		err->code = rc == TERR_CONFIG ? "not_configured" : "bad_authorization";
		snprintf(err->message, sizeof(err->message), "%s", why);
		return err->status;
	}
	if (revenuecat_parse(c, buf_cstr(&r->body), r->body.len, e, err->message,
		sizeof(err->message)) != TERR_OK) {
		err->status = 400;
		err->code = "malformed_event";
		return 400;
	}
	return 0;
}

static const struct handler revenuecat_handler = {
	.name = "revenuecat",
	.body_max = BODY_MAX,
	.init = init,
	.intake = intake,
};

int
main(int argc, char **argv)
{
	return handler_main(&revenuecat_handler, argc, argv);
}
