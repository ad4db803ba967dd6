/*
 * bin/tally-api: the app-facing API (GET/POST /v1/users/{id}..., GET
 * /metrics). A service: it answers every route itself (lib/api/api.c) and
 * applies its changes through the same group commit as the webhooks.
 *
 * Environment: TALLY_DB, TALLY_CONFIG, TALLY_JWT_SECRET (user tokens),
 * STRIPE_API_KEY (checkout). Keys: `tally keys create`. Limits: body
 * API_BODY_MAX (16 KiB).
 */
#include "api/api.h"
#include "serve/handler.h"

static const struct handler api_handler = {
	.name = "api",
	.body_max = API_BODY_MAX,
	.init = api_init,
	.fini = api_fini,
	.serve = api_serve,
};

int
main(int argc, char **argv)
{
	return handler_main(&api_handler, argc, argv);
}
