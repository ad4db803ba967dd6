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
#include "base/tally_limits.h"
#include "serve/handler.h"

/* Verified, parsed and refused by the "apple" row of the provider table (core/provider.c). */
static const struct handler appstore_handler = {
	.name = "appstore",
	.provider = "apple",
	.body_max = BODY_MAX,
};

int
main(int argc, char **argv)
{
	return handler_main(&appstore_handler, argc, argv);
}
