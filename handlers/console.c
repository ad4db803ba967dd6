/*
 * bin/tally-console: the support console, HTML pages under /admin (the web
 * server routes /admin to it: deploy/nginx/tally.conf). A service: it
 * answers every route itself (lib/console*.c) and applies its changes as
 * operator events through the same group commit as the webhooks.
 *
 * Environment: TALLY_DB, TALLY_CONFIG (its console section: session_ttl,
 * secure_cookie). Admins: `tally admin create NAME`, or an API key of admin
 * scope. Limits: form body CONSOLE_BODY_MAX (16 KiB).
 */
#include "console/console.h"
#include "serve/handler.h"

static const struct handler console_handler = {
	.name = "console",
	.body_max = CONSOLE_BODY_MAX,
	.init = console_init,
	.fini = console_fini,
	.serve = console_serve,
};

int
main(int argc, char **argv)
{
	return handler_main(&console_handler, argc, argv);
}
