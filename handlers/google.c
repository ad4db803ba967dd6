/*
 * bin/tally-google: Google Play's Real-time developer notifications, pushed
 * by Pub/Sub (POST /webhooks/google; a push subscription with
 * authentication: its service account and audience).
 *
 * Like tally-telegram this handler calls out: it verifies each push's OIDC
 * token against Google's published keys (fetched from google.certs_url,
 * cached by their max-age, refetched at most every 30 s for an unknown kid,
 * never per request) and reads the purchase a push names from the Android
 * Publisher API before storing (providers/google/google.h), and tries at
 * once what a committed purchase owes Google (acknowledge, consume:
 * serve/svc_tasks.h; the tasks job retries), so it names those calls
 * itself (google_hook_calls, svc_tasks) and starts libcurl.
 *
 * Environment: GOOGLE_SERVICE_ACCOUNT_FILE (the key file, read when the API
 * is called), GOOGLE_IDENTITY_KEY(_FILE) under google.identity hmac;
 * TALLY_DB, TALLY_CONFIG. Config: the google section (docs/google.md),
 * http.*. Limits: body BODY_MAX (413).
 * Answers: 200 once committed (every stored state: applied, ignored (a
 * license tester's purchase while google.test_mode is off), orphaned,
 * failed; an authentic push that cannot be read is stored failed and
 * alerted, and answered 200 too, since Pub/Sub resends anything else), 200
 * duplicate for a message stored already (Google is not asked again), 401
 * for a token that does not verify (nothing stored), 405, 411, 413, 503
 * when google or the key file is not configured, when Google's keys or its
 * API cannot be had (the API refusing tally's credentials included: the log
 * says which), or storage failed: Pub/Sub redelivers.
 */
#include "base/tally_limits.h"
#include "http/httpc.h"
#include "providers/google/google_hook.h"
#include "serve/handler.h"
#include "serve/svc_tasks.h"

/* Parsed and refused by the "google" row of the provider table; verified and read by these calls. */
static const struct handler google_handler = {
	.name = "google",
	.provider = "google",
	.body_max = BODY_MAX,
	.calls = &google_hook_calls,
	/* What a purchase owes Google (acknowledge, consume), tried as soon as it is committed. */
	.after_commit = svc_tasks,
	.after_commit_release = svc_tasks_release,
};

int
main(int argc, char **argv)
{
	/* Google's keys and API: libcurl once, before any thread starts. */
	httpc_init();
	return handler_main(&google_handler, argc, argv);
}
