/*
 * bin/tally-api: the app-facing API (GET/POST /v1/users/{id}..., GET
 * /metrics). A service: it answers every route itself (lib/api/api.c) and
 * applies its changes through the same group commit as the webhooks.
 *
 * Environment: TALLY_DB, TALLY_CONFIG, TALLY_JWT_SECRET (user tokens),
 * STRIPE_API_KEY (checkout), GOOGLE_SERVICE_ACCOUNT_FILE and
 * GOOGLE_IDENTITY_KEY (Google Play purchases the app hands in). Keys:
 * `tally keys create`. Limits: body API_BODY_MAX (16 KiB).
 */
#include "api/api.h"
#include "serve/handler.h"
#include "serve/svc_tasks.h"

static const struct handler api_handler = {
	.name = "api",
	.body_max = API_BODY_MAX,
	.init = api_init,
	.fini = api_fini,
	.serve = api_serve,
	/* The purchases route tries what a purchase owes Google right after its commit. */
	.after_commit_release = svc_tasks_release,
};

int
main(int argc, char **argv)
{
	return handler_main(&api_handler, argc, argv);
}
