/*
 * The subscription rules: which states give access and until when
 * (lib/core/sub.c), the lifecycle ranks and names of the states
 * (base/event.c), and, through apply on a real SQLite file, that the newest
 * state wins (invariant 3), a same-millisecond tie goes to the later state
 * of the lifecycle, and a payment does not undo a cancellation.
 */
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "cfg/cfg.h"
#include "core/apply.h"
#include "core/sub.h"
#include "store/store.h"
#include "store/store_credits.h"
#include "store/store_rows.h"
#include "t.h"
#include "t_db.h"

#define T0     1700000000000LL
#define DAY_MS (86400LL * 1000)

static struct cfg cfg;

static const char catalog[] =
    "{\"products\":{\"pro\":{\"kind\":\"subscription\",\"entitlements\":[\"pro\"],"
    "\"match\":{\"stripe\":[\"price_pro\"]}}}}";

static const struct cfg_policy policy = { 7 * DAY_MS, DAY_MS };

/* A row of state st with every end set apart, so a test sees which one is used. */
static struct sub_row
row(enum sub_state st)
{
	struct sub_row r;

	memset(&r, 0, sizeof(r));
	r.state = st;
	r.period_end = T0 + 30 * DAY_MS;
	r.trial_end = T0 + 14 * DAY_MS;
	r.grace_until = T0 + 3 * DAY_MS;
	r.state_at = T0;
	return r;
}

TEST(only_trialing_active_canceled_and_past_due_give_access)
{
	enum sub_state st;

	for (st = SUB_NONE; st < SUB__MAX; st++)
		CHECK_EQ(sub_state_grants_access(st),
		    st == SUB_TRIALING || st == SUB_ACTIVE || st == SUB_CANCELED ||
			st == SUB_PAST_DUE);
}

TEST(access_ends_at_the_end_each_state_names)
{
	struct sub_row r;

	r = row(SUB_TRIALING);
	CHECK_EQ(sub_access_end(&r, &policy), r.trial_end);
	r = row(SUB_ACTIVE);
	CHECK_EQ(sub_access_end(&r, &policy), r.period_end + policy.leeway);
	r = row(SUB_CANCELED);
	CHECK_EQ(sub_access_end(&r, &policy), r.period_end);
	r = row(SUB_PAST_DUE);
	CHECK_EQ(sub_access_end(&r, &policy), r.grace_until);
}

TEST(access_end_falls_back_when_the_provider_gave_no_date)
{
	struct sub_row r;

	r = row(SUB_TRIALING);
	r.trial_end = 0;
	CHECK_EQ(sub_access_end(&r, &policy), r.period_end);
	r = row(SUB_PAST_DUE);
	r.grace_until = 0;
	CHECK_EQ(sub_access_end(&r, &policy), r.state_at + policy.grace);
	/* An active row with no period end has no known end (not a leeway past 0). */
	r = row(SUB_ACTIVE);
	r.period_end = 0;
	CHECK_EQ(sub_access_end(&r, &policy), 0);
}

TEST(states_without_access_have_no_end)
{
	static const enum sub_state none[] = { SUB_NONE, SUB_INCOMPLETE, SUB_PAUSED, SUB_EXPIRED,
		SUB_REVOKED, SUB_REFUNDED };
	struct sub_row r;
	size_t i;

	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		r = row(none[i]);
		CHECK_EQ(sub_access_end(&r, &policy), 0);
		CHECK_EQ(sub_has_access(&r, &policy, T0), 0);
	}
}

TEST(access_holds_until_its_end_and_not_at_it)
{
	struct sub_row r = row(SUB_CANCELED);

	CHECK_EQ(sub_has_access(&r, &policy, r.period_end - 1), 1);
	CHECK_EQ(sub_has_access(&r, &policy, r.period_end), 0);
	r = row(SUB_ACTIVE);
	/* The leeway: a renewal may arrive a little late. */
	CHECK_EQ(sub_has_access(&r, &policy, r.period_end + policy.leeway - 1), 1);
	CHECK_EQ(sub_has_access(&r, &policy, r.period_end + policy.leeway), 0);
	/* No known end: access while the state lasts. */
	r.period_end = 0;
	CHECK_EQ(sub_has_access(&r, &policy, T0 + 1000 * DAY_MS), 1);
}

TEST(ranks_follow_the_lifecycle)
{
	static const enum sub_state order[] = { SUB_NONE, SUB_INCOMPLETE, SUB_TRIALING, SUB_ACTIVE,
		SUB_PAST_DUE, SUB_PAUSED, SUB_CANCELED, SUB_EXPIRED, SUB_REFUNDED, SUB_REVOKED };
	size_t i;

	CHECK_EQ(sizeof(order) / sizeof(order[0]), SUB__MAX);
	CHECK_EQ(sub_state_rank(SUB_NONE), 0);
	for (i = 1; i < sizeof(order) / sizeof(order[0]); i++)
		CHECK(sub_state_rank(order[i - 1]) < sub_state_rank(order[i]));
	CHECK_EQ(sub_state_rank((enum sub_state)SUB__MAX), 0);
}

TEST(state_names_round_trip_and_unknown_ones_are_none)
{
	enum sub_state st;

	for (st = SUB_INCOMPLETE; st < SUB__MAX; st++)
		CHECK_EQ(sub_state_parse(sub_state_str(st)), st);
	CHECK_STR(sub_state_str(SUB_PAST_DUE), "past_due");
	CHECK_EQ(sub_state_parse("Active"), SUB_NONE);
	CHECK_EQ(sub_state_parse(""), SUB_NONE);
	CHECK_STR(sub_state_str((enum sub_state)SUB__MAX), "none");
}

/* ------------------------------------------------ through apply, on a file */

/*
 * Apply a Stripe event id saying subscription sub_1 of sam is st as of at,
 * ranked as its state, with cancel_at_period_end cancel (-1: not said).
 * The event's inbox state, or -1 when the batch failed.
 */
static int
say(struct store *s, const char *id, enum sub_state st, int64_t at, int cancel)
{
	struct bev *e = calloc(1, sizeof(*e));
	struct apply_result res;
	int ret = -1;

	if (e == NULL)
		return -1;
	bev_init(e);
	text_copy(e->provider, sizeof(e->provider), "stripe");
	text_copy(e->id, sizeof(e->id), id);
	text_copy(e->type, sizeof(e->type), "customer.subscription.updated");
	text_copy(e->user, sizeof(e->user), "sam");
	e->at = at;
	e->rank = sub_state_rank(st);
	e->aspects = BEV_SUB;
	text_copy(e->sub.id, sizeof(e->sub.id), "sub_1");
	text_copy(e->sub.product, sizeof(e->sub.product), "price_pro");
	e->sub.state = st;
	e->sub.period_start = T0;
	e->sub.period_end = T0 + 30 * DAY_MS;
	e->sub.cancel_at_period_end = cancel;
	e->raw = "{}";
	e->raw_len = 2;
	if (apply_batch(s, &cfg, e, 1, &res, T0 + DAY_MS) == TERR_OK && res.err == TERR_OK)
		ret = (int)res.state;
	free(e);
	return ret;
}

/* sub_1 as stored; its state SUB_NONE when there is no such row. */
static struct sub_row
sub_1(struct store *s)
{
	struct sub_row r;

	memset(&r, 0, sizeof(r));
	if (store_sub_find(s, "stripe", "sub_1", &r) != TERR_OK)
		r.state = SUB_NONE;
	return r;
}

/* 1 when sam's entitlement pro is active. */
static int
pro_active(struct store *s)
{
	struct ent_row e[4];
	size_t n = 0, i;

	store_ents_of(s, "sam", e, 4, &n);
	for (i = 0; i < n; i++)
		if (strcmp(e[i].name, "pro") == 0)
			return e[i].active;
	return 0;
}

TEST(an_older_event_never_rolls_the_state_back)
{
	struct t_db d;
	struct store *s = t_db_open(&d);

	CHECK(s != NULL);
	CHECK_EQ(say(s, "evt_new", SUB_ACTIVE, T0 + 2000, -1), INBOX_APPLIED);
	CHECK_EQ(pro_active(s), 1);
	/* Delivered late: an expiry stamped before the activation, recorded but ignored. */
	CHECK(say(s, "evt_old", SUB_EXPIRED, T0 + 1000, -1) >= 0);
	CHECK_EQ(sub_1(s).state, SUB_ACTIVE);
	CHECK_EQ(sub_1(s).state_at, T0 + 2000);
	CHECK_EQ(pro_active(s), 1);
	/* A newer one does change it, and access follows. */
	CHECK_EQ(say(s, "evt_newer", SUB_EXPIRED, T0 + 3000, -1), INBOX_APPLIED);
	CHECK_EQ(sub_1(s).state, SUB_EXPIRED);
	CHECK_EQ(pro_active(s), 0);
	t_db_drop(&d);
}

TEST(a_same_millisecond_tie_goes_to_the_later_state_of_the_lifecycle)
{
	struct t_db d;
	struct store *s = t_db_open(&d);

	CHECK(s != NULL);
	/* Created incomplete and made active within one second: the active wins either way. */
	CHECK_EQ(say(s, "evt_active", SUB_ACTIVE, T0, -1), INBOX_APPLIED);
	CHECK(say(s, "evt_incomplete", SUB_INCOMPLETE, T0, -1) >= 0);
	CHECK_EQ(sub_1(s).state, SUB_ACTIVE);
	CHECK_EQ(say(s, "evt_canceled", SUB_CANCELED, T0, -1), INBOX_APPLIED);
	CHECK_EQ(sub_1(s).state, SUB_CANCELED);
	CHECK_EQ(sub_1(s).state_rank, sub_state_rank(SUB_CANCELED));
	t_db_drop(&d);
}

TEST(a_payment_does_not_undo_a_cancellation_it_does_not_mention)
{
	struct t_db d;
	struct store *s = t_db_open(&d);

	CHECK(s != NULL);
	CHECK_EQ(say(s, "evt_1", SUB_ACTIVE, T0, -1), INBOX_APPLIED);
	CHECK_EQ(say(s, "evt_2", SUB_CANCELED, T0 + 1000, -1), INBOX_APPLIED);
	/* "active" with cancel_at_period_end not said: still canceled. */
	CHECK(say(s, "evt_3", SUB_ACTIVE, T0 + 2000, -1) >= 0);
	CHECK_EQ(sub_1(s).state, SUB_CANCELED);
	/* Said explicitly (renewal back on): active again. */
	CHECK_EQ(say(s, "evt_4", SUB_ACTIVE, T0 + 3000, 0), INBOX_APPLIED);
	CHECK_EQ(sub_1(s).state, SUB_ACTIVE);
	CHECK_EQ(sub_1(s).state_at, T0 + 3000);
	t_db_drop(&d);
}

TEST(past_due_without_a_date_gets_the_policy_grace_from_the_event)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct sub_row r;

	CHECK(s != NULL);
	CHECK_EQ(say(s, "evt_1", SUB_ACTIVE, T0, -1), INBOX_APPLIED);
	CHECK_EQ(say(s, "evt_2", SUB_PAST_DUE, T0 + 5000, -1), INBOX_APPLIED);
	r = sub_1(s);
	CHECK_EQ(r.state, SUB_PAST_DUE);
	CHECK_EQ(r.grace_until, T0 + 5000 + cfg.policy.grace);
	CHECK_EQ(sub_has_access(&r, &cfg.policy, r.grace_until - 1), 1);
	CHECK_EQ(sub_has_access(&r, &cfg.policy, r.grace_until), 0);
	/* Paid again: the grace is gone. */
	CHECK_EQ(say(s, "evt_3", SUB_ACTIVE, T0 + 6000, -1), INBOX_APPLIED);
	CHECK_EQ(sub_1(s).grace_until, 0);
	t_db_drop(&d);
}

/* ------------------------------------------------ the customer's detail */

static struct cfg dcfg;

static const char detail_catalog[] =
    "{\"stripe\":{\"portal_login_url\":\"https://billing.stripe.com/p/login/abc\"},"
    "\"google\":{\"package_name\":\"com.example.app\",\"push_audience\":\"aud\","
    "\"push_service_account\":\"push@example.iam.gserviceaccount.com\"},"
    "\"products\":{"
    "\"pro\":{\"kind\":\"subscription\",\"entitlements\":[\"pro\"],"
    "\"match\":{\"google\":[\"pro:monthly\"],\"revenuecat\":[\"rc_pro\"]}},"
    "\"odd\":{\"kind\":\"subscription\",\"entitlements\":[\"pro\"],"
    "\"match\":{\"google\":[\"a b+c&d\"]}},"
    "\"rconly\":{\"kind\":\"subscription\",\"entitlements\":[\"pro\"],"
    "\"match\":{\"revenuecat\":[\"com.x.ios\",\"gp.sub:base\"]}},"
    "\"bare\":{\"kind\":\"subscription\",\"entitlements\":[\"pro\"]}}}";

#define PLAY "https://play.google.com/store/account/subscriptions"

/* A row of provider, state and product with access at T0 (period and grace ahead). */
static struct sub_row
drow(const char *provider, const char *ext, enum sub_state st, const char *product)
{
	struct sub_row r = row(st);

	text_copy(r.provider, sizeof(r.provider), provider);
	text_copy(r.ext_id, sizeof(r.ext_id), ext);
	text_copy(r.product, sizeof(r.product), product);
	return r;
}

static struct sub_detail
detail_of(struct sub_row r, int64_t now)
{
	struct sub_detail d;

	sub_detail(&r, &dcfg, now, &d);
	return d;
}

TEST(detail_will_renew_only_when_a_renewal_is_due)
{
	struct sub_row r;

	CHECK(detail_of(drow("stripe", "sub_1", SUB_ACTIVE, "pro"), T0).will_renew);
	CHECK(detail_of(drow("stripe", "sub_1", SUB_TRIALING, "pro"), T0).will_renew);
	CHECK(!detail_of(drow("stripe", "sub_1", SUB_CANCELED, "pro"), T0).will_renew);
	CHECK(!detail_of(drow("stripe", "sub_1", SUB_PAST_DUE, "pro"), T0).will_renew);
	CHECK(!detail_of(drow("stripe", "sub_1", SUB_PAUSED, "pro"), T0).will_renew);
	CHECK(!detail_of(drow("stripe", "sub_1", SUB_EXPIRED, "pro"), T0).will_renew);
	r = drow("stripe", "sub_1", SUB_ACTIVE, "pro");
	r.cancel_at_period_end = 1;
	CHECK(!detail_of(r, T0).will_renew);
	CHECK(detail_of(r, T0).canceled_at_period_end);
	/* Access over (past the period and its leeway): nothing is due. */
	CHECK(!detail_of(drow("stripe", "sub_1", SUB_ACTIVE, "pro"), T0 + 40 * DAY_MS).will_renew);
	/* tally's own trial ends by itself; a plan paid once does not renew; a balance plan does. */
	CHECK(!detail_of(drow("app", "trial:u", SUB_TRIALING, "pro"), T0).will_renew);
	CHECK(!detail_of(drow("razorpay", "plan:u:pro", SUB_ACTIVE, "pro"), T0).will_renew);
	CHECK(!detail_of(drow("cryptobot", "plan:#0123", SUB_ACTIVE, "pro"), T0).will_renew);
	CHECK(detail_of(drow("balance", "plan:u:pro", SUB_ACTIVE, "pro"), T0).will_renew);
	CHECK(detail_of(drow("telegram", "order:ord_1", SUB_ACTIVE, "pro"), T0).will_renew);
	CHECK(detail_of(drow("razorpay", "order:ord_2", SUB_ACTIVE, "pro"), T0).will_renew);
}

TEST(detail_billing_problem_is_grace_while_access_lasts_then_retry)
{
	struct sub_row r = drow("apple", "1000", SUB_PAST_DUE, "pro");
	struct sub_detail d = detail_of(r, T0);

	CHECK_STR(d.problem, "grace");
	CHECK_EQ(d.problem_ends_at, r.grace_until);
	d = detail_of(r, r.grace_until);
	CHECK_STR(d.problem, "retry");
	CHECK_EQ(d.problem_ends_at, r.grace_until);
	/* No date from the store: the policy's grace from the failure. */
	r.grace_until = 0;
	d = detail_of(r, T0);
	CHECK_STR(d.problem, "grace");
	CHECK_EQ(d.problem_ends_at, r.state_at + dcfg.policy.grace);
	CHECK(detail_of(drow("apple", "1000", SUB_ACTIVE, "pro"), T0).problem == NULL);
}

TEST(detail_trial_ends_at_the_trial_or_the_period)
{
	struct sub_row r = drow("stripe", "sub_1", SUB_TRIALING, "pro");
	struct sub_detail d = detail_of(r, T0);

	CHECK(d.in_trial);
	CHECK_EQ(d.trial_ends_at, r.trial_end);
	r.trial_end = 0;
	CHECK_EQ(detail_of(r, T0).trial_ends_at, r.period_end);
	/* Over: no longer in a trial. */
	r = drow("stripe", "sub_1", SUB_TRIALING, "pro");
	CHECK(!detail_of(r, r.trial_end).in_trial);
	CHECK_EQ(detail_of(r, r.trial_end).trial_ends_at, 0);
	CHECK(!detail_of(drow("stripe", "sub_1", SUB_ACTIVE, "pro"), T0).in_trial);
}

TEST(detail_names_where_it_is_managed_and_the_link)
{
	struct sub_row r;
	struct sub_detail d;

	d = detail_of(drow("stripe", "sub_1", SUB_ACTIVE, "pro"), T0);
	CHECK_STR(d.managed_in, "stripe");
	CHECK_STR(d.manage_url, "https://billing.stripe.com/p/login/abc");
	d = detail_of(drow("apple", "1000", SUB_ACTIVE, "pro"), T0);
	CHECK_STR(d.managed_in, "app_store");
	CHECK_STR(d.manage_url, "https://apps.apple.com/account/subscriptions");
	d = detail_of(drow("google", "tok", SUB_ACTIVE, "pro"), T0);
	CHECK_STR(d.managed_in, "google_play");
	CHECK_STR(d.manage_url, PLAY "?sku=pro&package=com.example.app");
	/* Percent-encoded as a query value. */
	CHECK_STR(detail_of(drow("google", "tok", SUB_ACTIVE, "odd"), T0).manage_url,
	    PLAY "?sku=a%20b%2Bc%26d&package=com.example.app");
	/* No Play id: the list of every subscription of the customer. */
	CHECK_STR(detail_of(drow("google", "tok", SUB_ACTIVE, "bare"), T0).manage_url, PLAY);
	CHECK_STR(detail_of(drow("google", "tok", SUB_ACTIVE, "rconly"), T0).manage_url, PLAY);
	/* RevenueCat: where its store says; a Play id from match.revenuecat's subscription:base. */
	r = drow("revenuecat", "1", SUB_ACTIVE, "rconly");
	text_copy(r.store, sizeof(r.store), "PLAY_STORE");
	d = detail_of(r, T0);
	CHECK_STR(d.managed_in, "google_play");
	CHECK_STR(d.manage_url, PLAY "?sku=gp.sub&package=com.example.app");
	text_copy(r.product, sizeof(r.product), "pro");
	CHECK_STR(detail_of(r, T0).manage_url, PLAY "?sku=pro&package=com.example.app");
	text_copy(r.store, sizeof(r.store), "MAC_APP_STORE");
	CHECK_STR(detail_of(r, T0).managed_in, "app_store");
	text_copy(r.store, sizeof(r.store), "STRIPE");
	CHECK_STR(detail_of(r, T0).manage_url, "https://billing.stripe.com/p/login/abc");
	text_copy(r.store, sizeof(r.store), "AMAZON");
	d = detail_of(r, T0);
	CHECK_STR(d.managed_in, "amazon");
	CHECK_STR(d.manage_url, "");
	text_copy(r.store, sizeof(r.store), "PROMOTIONAL");
	CHECK_STR(detail_of(r, T0).managed_in, "revenuecat");
	/* Telegram Stars subscriptions are canceled in Telegram; what tally sells, in the app. */
	CHECK_STR(detail_of(drow("telegram", "order:o", SUB_ACTIVE, "pro"), T0).managed_in,
	    "telegram");
	CHECK_STR(detail_of(drow("telegram", "plan:u:pro", SUB_ACTIVE, "pro"), T0).managed_in,
	    "app");
	d = detail_of(drow("balance", "plan:u:pro", SUB_ACTIVE, "pro"), T0);
	CHECK_STR(d.managed_in, "app");
	CHECK_STR(d.manage_url, "");
	/* A paused or expired one is still managed where it was bought. */
	CHECK_STR(detail_of(drow("apple", "1", SUB_EXPIRED, "pro"), T0).manage_url,
	    "https://apps.apple.com/account/subscriptions");
}

int
main(void)
{
	char why[256];

	cfg_defaults(&cfg);
	if (cfg_parse(&cfg, catalog, sizeof(catalog) - 1, why, sizeof(why)) != TERR_OK) {
		printf("FAIL setup: %s\n", why);
		return 1;
	}
	RUN(only_trialing_active_canceled_and_past_due_give_access);
	RUN(access_ends_at_the_end_each_state_names);
	RUN(access_end_falls_back_when_the_provider_gave_no_date);
	RUN(states_without_access_have_no_end);
	RUN(access_holds_until_its_end_and_not_at_it);
	RUN(ranks_follow_the_lifecycle);
	RUN(state_names_round_trip_and_unknown_ones_are_none);
	RUN(an_older_event_never_rolls_the_state_back);
	RUN(a_same_millisecond_tie_goes_to_the_later_state_of_the_lifecycle);
	RUN(a_payment_does_not_undo_a_cancellation_it_does_not_mention);
	RUN(past_due_without_a_date_gets_the_policy_grace_from_the_event);
	cfg_defaults(&dcfg);
	if (cfg_parse(&dcfg, detail_catalog, sizeof(detail_catalog) - 1, why, sizeof(why)) !=
	    TERR_OK) {
		printf("FAIL setup: %s\n", why);
		return 1;
	}
	RUN(detail_will_renew_only_when_a_renewal_is_due);
	RUN(detail_billing_problem_is_grace_while_access_lasts_then_retry);
	RUN(detail_trial_ends_at_the_trial_or_the_period);
	RUN(detail_names_where_it_is_managed_and_the_link);
	cfg_release(&dcfg);
	cfg_release(&cfg);
	return t_done();
}
