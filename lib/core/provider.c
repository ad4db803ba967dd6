/*
 * The provider table (provider.h): a row per provider, and the lookups the
 * core makes through it.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/op.h"
#include "core/provider.h"
#include "providers/appstore/appstore.h"
#include "providers/cryptobot/cryptobot.h"
#include "providers/google/google.h"
#include "providers/google/google_push.h"
#include "providers/razorpay/razorpay.h"
#include "providers/revenuecat/revenuecat.h"
#include "providers/stripe/stripe.h"
#include "providers/telegram/telegram.h"

static const struct provider providers[] = {
	{
	    .name = "stripe",
	    .parse = stripe_parse,
	    .test_key = "stripe.test_mode",
	    .test_flag = offsetof(struct cfg, stripe.test_mode),
	    .ref_noun = "ref",
	    .sig_header = "Stripe-Signature",
	    .init = stripe_hook_init,
	    .fini = stripe_hook_fini,
	    .verify = stripe_hook_verify,
	    .refuse = {
		[TERR_INVAL] = { 400, "bad_signature_header" },
		[TERR_STALE] = { 401, "stale_timestamp" },
		[TERR_CONFIG] = { 503, "not_configured" },
	    },
	    .refuse_else = { 401, "bad_signature" },
	    .malformed = "malformed_event",
	},
	{
	    .name = "apple",
	    .parse = appstore_parse,
	    .test_key = "apple.sandbox",
	    .test_flag = offsetof(struct cfg, apple.sandbox),
	    .ref_noun = "ref",
	    .sig_header = NULL, /* the body is Apple's JWS */
	    .init = appstore_hook_init,
	    .fini = appstore_hook_fini,
	    .verify = appstore_hook_verify,
	    .refuse = {
		[TERR_INVAL] = { 400, "malformed_notification" },
		[TERR_CONFLICT] = { 403, "wrong_app" },
		[TERR_STALE] = { 401, "certificate_not_valid" },
		/* Not the sender's fault: Apple retries a 5xx (invariant 5). */
		[TERR_NOMEM] = { 503, "verification_unavailable" },
		[TERR_INTERNAL] = { 503, "verification_unavailable" },
	    },
	    .refuse_else = { 401, "bad_signature" },
	    .malformed = "malformed_notification",
	},
	{
	    .name = "revenuecat",
	    .parse = revenuecat_parse,
	    .test_key = "revenuecat.sandbox",
	    .test_flag = offsetof(struct cfg, revenuecat.sandbox),
	    .ref_noun = "ref",
	    .sig_header = "Authorization",
	    .init = revenuecat_hook_init,
	    .verify = revenuecat_hook_verify,
	    .refuse = {
		[TERR_CONFIG] = { 503, "not_configured" },
	    },
	    .refuse_else = { 401, "bad_authorization" },
	    .malformed = "malformed_event",
	},
	{
	    .name = "razorpay",
	    .parse_id = razorpay_parse,
	    .test_key = "razorpay.test_mode",
	    .test_flag = offsetof(struct cfg, razorpay.test_mode),
	    .ref_noun = "order",
	    .sig_header = "X-Razorpay-Signature",
	    /* The dedup key (best-practices.md): without it a retry could not be told apart. */
	    .id_header = "X-Razorpay-Event-Id",
	    .init = razorpay_hook_init,
	    .fini = razorpay_hook_fini,
	    .verify = razorpay_hook_verify,
	    .refuse = {
		[TERR_CONFIG] = { 503, "not_configured" },
		[TERR_INTERNAL] = { 500, "bad_signature" },
	    },
	    .refuse_else = { 401, "bad_signature" },
	    .malformed = "malformed_event",
	},
	{
	    .name = "telegram",
	    .parse = telegram_parse,
	    .test_key = NULL, /* updates carry no test mode: live */
	    .ref_noun = "ref",
	    .sig_header = "X-Telegram-Bot-Api-Secret-Token",
	    .init = telegram_hook_init,
	    .verify = telegram_hook_verify,
	    /* pre_checkout_query and chat messages are answered, not stored. */
	    .classify = telegram_classify,
	    .refuse = {
		[TERR_CONFIG] = { 503, "not_configured" },
	    },
	    .refuse_else = { 401, "bad_secret_token" },
	    .malformed = "malformed_update",
	},
	{
	    .name = "cryptobot",
	    .parse = cryptobot_parse,
	    .test_key = "cryptobot.testnet",
	    .test_flag = offsetof(struct cfg, cryptobot.testnet),
	    .ref_noun = "invoice",
	    .sig_header = "Crypto-Pay-Api-Signature",
	    .init = cryptobot_hook_init,
	    .fini = cryptobot_hook_fini,
	    .verify = cryptobot_hook_verify,
	    .refuse = {
		[TERR_CONFIG] = { 503, "not_configured" },
		[TERR_INVAL] = { 400, "bad_request_date" },
		[TERR_STALE] = { 401, "stale_request_date" },
		[TERR_INTERNAL] = { 500, "bad_signature" },
	    },
	    .refuse_else = { 401, "bad_signature" },
	    .malformed = "malformed_event",
	},
	{
	    .name = "google",
	    .parse = google_parse, /* never refuses: an unreadable push is stored failed */
	    .test_key = "google.test_mode",
	    .test_flag = offsetof(struct cfg, google.test_mode),
	    .ref_noun = "ref",
	    .sig_header = "Authorization", /* Pub/Sub's OIDC token: "Bearer <JWT>" */
	    /*
	     * A push names a purchase, read from the Android Publisher API before
	     * it is stored; init, fini, verify (Google's keys) and that read call
	     * out: bin/tally-google names them (providers/google/google_hook.h).
	     */
	    .event_id = google_push_event_id,
	    .refuse = {
		[TERR_CONFIG] = { 503, "not_configured" },
		[TERR_STALE] = { 401, "expired_token" },
		[TERR_NOTFOUND] = { 401, "unknown_key" },
		/* Google's keys did not answer: not the sender's fault, Pub/Sub resends. */
		[TERR_IO] = { 503, "keys_unavailable" },
		[TERR_NOMEM] = { 503, "verification_unavailable" },
		[TERR_INTERNAL] = { 503, "verification_unavailable" },
	    },
	    .refuse_else = { 401, "bad_token" },
	    .malformed = "malformed_push",
	},
};

const struct provider *
provider_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (strcmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

enum terr
provider_parse(const struct cfg *c, const char *provider, const char *body, size_t n, struct bev *e,
    char *why, size_t whysize)
{
	const struct provider *p;

	if (op_is_source(provider))
		return op_parse(provider, body, n, e, why, whysize);
	if ((p = provider_find(provider)) == NULL) {
		snprintf(why, whysize, "no parser for provider %s", provider);
		return TERR_NOTFOUND;
	}
	if (p->parse != NULL)
		return p->parse(c, body, n, e, why, whysize);
	return p->parse_id(c, NULL, body, n, e, why, whysize);
}

int
provider_test_allowed(const struct cfg *c, const char *provider)
{
	const struct provider *p = provider_find(provider);

	if (p == NULL)
		/* tally's own events (operator, app, job) have no test mode. */
		return op_is_source(provider);
	if (p->test_key == NULL)
		return 0;
	return *(const int *)((const char *)c + p->test_flag);
}

const char *
provider_test_setting(const char *provider)
{
	const struct provider *p = provider_find(provider);

	return p != NULL && p->test_key != NULL ? p->test_key : "";
}

const char *
provider_ref_noun(const char *provider)
{
	const struct provider *p = provider_find(provider);

	return p != NULL ? p->ref_noun : "ref";
}
