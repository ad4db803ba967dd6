/*
 * lib/core/provider.c, the provider table: every row is whole (the accept
 * loop calls what it names without checking; Google's calls that call out
 * are bin/tally-google's, google_hook.h), the lookups the core makes
 * through it answer as they did per provider, and lib/providers/hook.c's
 * one rule for a webhook's missing secret.
 */
#include <stdio.h>
#include <string.h>

#include "core/op.h"
#include "core/provider.h"
#include "providers/google/google_hook.h"
#include "providers/hook.h"
#include "t.h"

static const char *const names[] = { "stripe", "apple", "revenuecat", "razorpay", "telegram",
	"cryptobot", "google" };

/* Zeroed, then the caller sets what it tests: static, struct cfg is large. */
static struct cfg cfg;

TEST(provider_every_row_is_whole)
{
	const struct provider *p;
	size_t i;
	int e;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CHECK((p = provider_find(names[i])) != NULL);
		CHECK_STR(p->name, names[i]);
		/* Exactly one parser; the one with an id exactly when the id comes in a header. */
		CHECK((p->parse != NULL) != (p->parse_id != NULL));
		CHECK((p->parse_id != NULL) == (p->id_header != NULL));
		/* A verifier, in the row or (when it calls out) in the endpoint's hook_calls. */
		if (p->init == NULL || p->verify == NULL) {
			CHECK_STR(p->name, "google");
			CHECK(google_hook_calls.init != NULL && google_hook_calls.verify != NULL);
			CHECK(google_hook_calls.fini != NULL && google_hook_calls.prepare != NULL);
			CHECK(p->event_id != NULL);
		}
		CHECK(p->ref_noun != NULL && p->malformed != NULL);
		CHECK(p->refuse_else.status >= 400 && p->refuse_else.status < 600);
		CHECK(p->refuse_else.code != NULL);
		for (e = 0; e < TERR__MAX; e++)
			CHECK(p->refuse[e].status == 0 ||
			    (p->refuse[e].status >= 400 && p->refuse[e].status < 600 &&
				p->refuse[e].code != NULL));
		/* A verified request is never refused as if it were OK. */
		CHECK_EQ(p->refuse[TERR_OK].status, 0);
		/* A secret that is not configured is the server's fault: the provider retries. */
		CHECK(p->refuse[TERR_CONFIG].status == 0 || p->refuse[TERR_CONFIG].status == 503);
	}
}

TEST(provider_find_knows_only_providers)
{
	CHECK(provider_find("amazon") == NULL);
	CHECK(provider_find(OP_OPERATOR) == NULL);
	CHECK(provider_find("") == NULL);
	CHECK(provider_find("Stripe") == NULL);
}

TEST(provider_test_mode_follows_its_own_setting)
{
	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ(provider_test_allowed(&cfg, "stripe"), 0);
	cfg.stripe.test_mode = 1;
	CHECK_EQ(provider_test_allowed(&cfg, "stripe"), 1);
	CHECK_EQ(provider_test_allowed(&cfg, "apple"), 0);
	cfg.apple.sandbox = 1;
	cfg.revenuecat.sandbox = 1;
	cfg.razorpay.test_mode = 1;
	cfg.cryptobot.testnet = 1;
	CHECK_EQ(provider_test_allowed(&cfg, "apple"), 1);
	CHECK_EQ(provider_test_allowed(&cfg, "revenuecat"), 1);
	CHECK_EQ(provider_test_allowed(&cfg, "razorpay"), 1);
	CHECK_EQ(provider_test_allowed(&cfg, "cryptobot"), 1);
	/* Telegram's updates carry no test mode; tally's own events have none to refuse. */
	CHECK_EQ(provider_test_allowed(&cfg, "telegram"), 0);
	CHECK_EQ(provider_test_allowed(&cfg, OP_JOB), 1);
	CHECK_EQ(provider_test_allowed(&cfg, "google"), 0);
	cfg.google.test_mode = 1;
	CHECK_EQ(provider_test_allowed(&cfg, "google"), 1);
	cfg.stripe.test_mode = 0;
	CHECK_EQ(provider_test_allowed(&cfg, "stripe"), 0);
}

TEST(provider_test_setting_names_the_key)
{
	CHECK_STR(provider_test_setting("stripe"), "stripe.test_mode");
	CHECK_STR(provider_test_setting("apple"), "apple.sandbox");
	CHECK_STR(provider_test_setting("revenuecat"), "revenuecat.sandbox");
	CHECK_STR(provider_test_setting("razorpay"), "razorpay.test_mode");
	CHECK_STR(provider_test_setting("cryptobot"), "cryptobot.testnet");
	CHECK_STR(provider_test_setting("google"), "google.test_mode");
	CHECK_STR(provider_test_setting("telegram"), "");
	CHECK_STR(provider_test_setting(OP_APP), "");
}

TEST(provider_ref_noun_in_the_providers_words)
{
	CHECK_STR(provider_ref_noun("razorpay"), "order");
	CHECK_STR(provider_ref_noun("cryptobot"), "invoice");
	CHECK_STR(provider_ref_noun("telegram"), "ref");
	CHECK_STR(provider_ref_noun("stripe"), "ref");
	CHECK_STR(provider_ref_noun("google"), "ref");
}

TEST(provider_parse_without_a_parser_is_notfound)
{
	struct bev e;
	char why[128] = "";

	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ(provider_parse(&cfg, "amazon", "{}", 2, &e, why, sizeof(why)), TERR_NOTFOUND);
	CHECK_STR(why, "no parser for provider amazon");
	/* A row's parser answers for its provider: a body that is not its event is refused. */
	CHECK_EQ(provider_parse(&cfg, "stripe", "[]", 2, &e, why, sizeof(why)), TERR_INVAL);
	CHECK_EQ(provider_parse(&cfg, "razorpay", "[]", 2, &e, why, sizeof(why)), TERR_INVAL);
}

TEST(hook_ready_refuses_without_a_secret)
{
	char why[64] = "";

	CHECK_EQ(hook_ready(TERR_OK, 1, "X_SECRET", why, sizeof(why)), TERR_OK);
	CHECK_STR(why, "");
	CHECK_EQ(hook_ready(TERR_OK, 0, "X_SECRET", why, sizeof(why)), TERR_CONFIG);
	CHECK_STR(why, "X_SECRET is not set");
	/* Keys that cannot be prepared stop the start: not a refusal of requests. */
	CHECK_EQ(hook_ready(TERR_NOMEM, 0, "X_SECRET", why, sizeof(why)), TERR_NOMEM);
	CHECK_STR(why, "cannot prepare the webhook secret");
}

int
main(void)
{
	RUN(provider_every_row_is_whole);
	RUN(provider_find_knows_only_providers);
	RUN(provider_test_mode_follows_its_own_setting);
	RUN(provider_test_setting_names_the_key);
	RUN(provider_ref_noun_in_the_providers_words);
	RUN(provider_parse_without_a_parser_is_notfound);
	RUN(hook_ready_refuses_without_a_secret);
	return t_done();
}
