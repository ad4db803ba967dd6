/*
 * bin/tally-appstore: App Store Server Notifications V2
 * (POST /webhooks/appstore).
 *
 * Config: apple.bundle_id (required), apple.app_apple_id (required to accept
 * Production), apple.sandbox, apple.roots, apple.account_token_is_user_id.
 * Limits: body BODY_MAX (413). Answers: 200 once committed (every stored
 * state, including a Sandbox notification refused as ignored when
 * apple.sandbox is off); 400 malformed body, or one carrying tally_status
 * (tally's own status envelope, appstore.h: never taken from the network);
 * 401 a signature, chain or algorithm that does not verify, or a chain
 * not valid at the signed date; 403 a notification for another app or
 * environment; 405, 411, 413; 503 when apple is not configured, storage
 * failed or verification ran out of memory (Apple retries non-2xx). Every
 * refusal's message (and log line) says why.
 */
#include <stdio.h>

#include "base/tally_limits.h"
#include "providers/appstore/appstore.h"
#include "serve/handler.h"

static enum terr
init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	struct appstore_verifier *v = NULL;
	enum terr rc = appstore_verifier_new(&v, c, why, whysize);

	*state = v;
	return rc;
}

static void
fini(void *state)
{
	appstore_verifier_free(state);
}

static int
intake(void *state, const struct cfg *c, struct http_req *r, int64_t now, struct bev *e,
    struct intake_err *err)
{
	const char *why = NULL;
	enum terr rc;

	rc = appstore_verify(state, buf_cstr(&r->body), r->body.len, now, &why);
	if (rc != TERR_OK) {
		switch (rc) {
		case TERR_INVAL:
			err->status = 400;
			err->code = "malformed_notification";
			break;
		case TERR_CONFLICT:
			err->status = 403;
			err->code = "wrong_app";
			break;
		case TERR_STALE:
			err->status = 401;
			err->code = "certificate_not_valid";
			break;
		case TERR_NOMEM:
		case TERR_INTERNAL:
			/* Not the sender's fault: Apple retries a 5xx (invariant 5). */
			err->status = 503;
			err->code = "verification_unavailable";
			break;
		default:
			err->status = 401;
			err->code = "bad_signature";
			break;
		}
		snprintf(err->message, sizeof(err->message), "%s", why != NULL ? why : err_str(rc));
		return err->status;
	}
	if (appstore_parse(c, buf_cstr(&r->body), r->body.len, e, err->message,
		sizeof(err->message)) != TERR_OK) {
		err->status = 400;
		err->code = "malformed_notification";
		return 400;
	}
	return 0;
}

static const struct handler appstore_handler = {
	.name = "appstore",
	.body_max = BODY_MAX,
	.init = init,
	.fini = fini,
	.intake = intake,
};

int
main(int argc, char **argv)
{
	return handler_main(&appstore_handler, argc, argv);
}
