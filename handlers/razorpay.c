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
#include <stdio.h>
#include <stdlib.h>

#include "base/tally_limits.h"
#include "providers/razorpay/razorpay.h"
#include "serve/handler.h"

static enum terr
init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	struct razorpay_verifier *v;
	enum terr rc;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return TERR_NOMEM;
	if ((rc = razorpay_verifier_init(v, &c->razorpay)) != TERR_OK) {
		free(v);
		snprintf(why, whysize, "cannot prepare the webhook secret");
		return rc;
	}
	*state = v;
	if (v->n == 0) {
		snprintf(why, whysize, "RAZORPAY_WEBHOOK_SECRET is not set");
		return TERR_CONFIG;
	}
	return TERR_OK;
}

static void
fini(void *state)
{
	razorpay_verifier_release(state);
	free(state);
}

static int
intake(void *state, const struct cfg *c, struct http_req *r, int64_t now, struct bev *e,
    struct intake_err *err)
{
	const char *why = NULL, *id;
	enum terr rc;

	(void)now;
	rc = razorpay_verify(state, http_header(r, "X-Razorpay-Signature"), buf_cstr(&r->body),
	    r->body.len, &why);
	if (rc != TERR_OK) {
		err->status = rc == TERR_CONFIG ? 503 : rc == TERR_INTERNAL ? 500 : 401;
		err->code = rc == TERR_CONFIG ? "not_configured" : "bad_signature";
		snprintf(err->message, sizeof(err->message), "%s", why);
		return err->status;
	}
	/* The dedup key (best-practices.md): without it a retry could not be told apart. */
	if ((id = http_header(r, "X-Razorpay-Event-Id")) == NULL || *id == '\0') {
		err->status = 400;
		err->code = "missing_event_id";
		snprintf(err->message, sizeof(err->message), "missing X-Razorpay-Event-Id header");
		return 400;
	}
	if (razorpay_parse(c, id, buf_cstr(&r->body), r->body.len, e, err->message,
		sizeof(err->message)) != TERR_OK) {
		err->status = 400;
		err->code = "malformed_event";
		return 400;
	}
	return 0;
}

static const struct handler razorpay_handler = {
	.name = "razorpay",
	.body_max = BODY_MAX,
	.init = init,
	.fini = fini,
	.intake = intake,
};

int
main(int argc, char **argv)
{
	return handler_main(&razorpay_handler, argc, argv);
}
