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
	cfg_release(&cfg);
	return t_done();
}
