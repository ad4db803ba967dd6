/*
 * The credit ledger (lib/core/ledger.c) on a real SQLite file: grants and
 * their entries, the order spending draws in, never below zero, expiry,
 * zeroing (a reset) against adding (accumulation), and that every balance
 * stays the sum of its entries (invariant 8).
 */
#include <stdio.h>
#include <string.h>

#include "base/tally_limits.h"
#include "base/text.h"
#include "core/ledger.h"
#include "store/store.h"
#include "store/store_credits.h"
#include "store/store_rows.h"
#include "t.h"
#include "t_db.h"

#define NOW    1700000000000LL
#define DAY_MS (86400LL * 1000)

static const struct ledger_op op = { "job:test", "unit test", 0, NOW, NULL };

/* A user and a grant of amount to it expiring at expires (0: never); the grant's id, or 0. */
static int64_t
give(struct store *s, const char *user, int64_t amount, int64_t expires)
{
	struct grant_row g;

	store_user_insert(s, user, NOW);
	memset(&g, 0, sizeof(g));
	text_copy(g.user, sizeof(g.user), user);
	g.source = GRANT_PACK;
	g.amount = amount;
	g.expires_at = expires;
	return ledger_grant(s, &op, &g) == TERR_OK ? g.id : 0;
}

static int64_t
balance(struct store *s, const char *user)
{
	int64_t b = -1;

	return store_balance_live(s, user, NOW, &b) == TERR_OK ? b : -1;
}

/* The grant id's remaining, found among user's grants with credits left (0 when none). */
static int64_t
remaining(struct store *s, const char *user, int64_t id)
{
	struct grant_row g[64];
	size_t n = 0, i;

	store_grants_live(s, user, 0, g, 64, &n);
	for (i = 0; i < n; i++)
		if (g[i].id == id)
			return g[i].remaining;
	return 0;
}

/* 1 when user's ledger sums to what its grants hold and to want. */
static int
sums_hold(struct store *s, const char *user, int64_t want)
{
	int64_t ledger = -1, grants = -2;

	if (store_balance_sums(s, user, &ledger, &grants) != TERR_OK)
		return 0;
	return ledger == grants && ledger == want;
}

TEST(grant_writes_the_grant_and_one_grant_entry)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct ledger_row l[4];
	struct grant_row g;
	size_t n = 0;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	memset(&g, 0, sizeof(g));
	text_copy(g.user, sizeof(g.user), "ann");
	g.source = GRANT_PROMO;
	g.amount = 100;
	g.expires_at = NOW + DAY_MS;
	CHECK_EQ(ledger_grant(s, &op, &g), TERR_OK);
	CHECK(g.id > 0);
	CHECK_EQ(g.remaining, 100);
	CHECK_EQ(g.created_at, NOW);
	CHECK_EQ(balance(s, "ann"), 100);
	CHECK_EQ(store_ledger_of(s, "ann", l, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(l[0].amount, 100);
	CHECK_EQ(l[0].grant_id, g.id);
	CHECK_STR(l[0].kind, "grant");
	CHECK_STR(l[0].actor, "job:test");
	CHECK_STR(l[0].reason, "unit test");
	CHECK_EQ(l[0].inbox_id, 0);
	CHECK_EQ(l[0].created_at, NOW);
	CHECK(sums_hold(s, "ann", 100));
	t_db_drop(&d);
}

TEST(grant_refuses_zero_negative_and_more_than_credits_max)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct ledger_row l[4];
	size_t n = 9;

	CHECK(s != NULL);
	CHECK_EQ(give(s, "bo", 0, 0), 0);
	CHECK_EQ(give(s, "bo", -5, 0), 0);
	CHECK_EQ(give(s, "bo", CREDITS_MAX + 1, 0), 0);
	CHECK_EQ(store_ledger_of(s, "bo", l, 4, &n), TERR_OK);
	CHECK_EQ(n, 0);
	CHECK(give(s, "bo", CREDITS_MAX, 0) != 0);
	CHECK_EQ(balance(s, "bo"), CREDITS_MAX);
	t_db_drop(&d);
}

TEST(grant_to_an_unknown_user_fails_and_writes_nothing)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct grant_row g;
	int64_t v = 0;

	CHECK(s != NULL);
	memset(&g, 0, sizeof(g));
	text_copy(g.user, sizeof(g.user), "nobody");
	g.source = GRANT_ADMIN;
	g.amount = 5;
	CHECK_EQ(store_begin(s), TERR_OK);
	CHECK_EQ(ledger_grant(s, &op, &g), TERR_DB);
	store_rollback(s);
	CHECK_EQ(store_verify(s, NULL, NULL, &v), TERR_OK);
	CHECK_EQ(v, 0);
	CHECK_EQ(balance(s, "nobody"), 0);
	t_db_drop(&d);
}

TEST(debit_draws_soonest_expiring_first_and_never_expiring_last)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	int64_t never, late, soon, taken = 0;

	CHECK(s != NULL);
	never = give(s, "cy", 10, 0);
	late = give(s, "cy", 10, NOW + 2 * DAY_MS);
	soon = give(s, "cy", 10, NOW + DAY_MS);
	CHECK(never != 0 && late != 0 && soon != 0);
	CHECK_EQ(ledger_debit(s, &op, "cy", 15, "spend", 0, &taken), TERR_OK);
	CHECK_EQ(taken, 15);
	CHECK_EQ(remaining(s, "cy", soon), 0);
	CHECK_EQ(remaining(s, "cy", late), 5);
	CHECK_EQ(remaining(s, "cy", never), 10);
	CHECK_EQ(balance(s, "cy"), 15);
	CHECK(sums_hold(s, "cy", 15));
	t_db_drop(&d);
}

TEST(debit_writes_one_negative_entry_per_grant_drawn)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct ledger_row l[8];
	int64_t a, b;
	size_t n = 0;

	CHECK(s != NULL);
	a = give(s, "dee", 4, NOW + DAY_MS);
	b = give(s, "dee", 10, 0);
	CHECK_EQ(ledger_debit(s, &op, "dee", 6, "spend", 0, NULL), TERR_OK);
	/* Newest first: the entries of the debit, then the two grants'. */
	CHECK_EQ(store_ledger_of(s, "dee", l, 8, &n), TERR_OK);
	CHECK_EQ(n, 4);
	CHECK_STR(l[0].kind, "spend");
	CHECK_EQ(l[0].amount, -2);
	CHECK_EQ(l[0].grant_id, b);
	CHECK_STR(l[1].kind, "spend");
	CHECK_EQ(l[1].amount, -4);
	CHECK_EQ(l[1].grant_id, a);
	t_db_drop(&d);
}

TEST(debit_short_of_credits_answers_short_and_writes_nothing)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct ledger_row l[4];
	int64_t taken = -1;
	size_t n = 0;

	CHECK(s != NULL);
	CHECK(give(s, "eve", 10, 0) != 0);
	CHECK_EQ(ledger_debit(s, &op, "eve", 11, "spend", 0, &taken), TERR_SHORT);
	CHECK_EQ(taken, 0);
	CHECK_EQ(balance(s, "eve"), 10);
	CHECK_EQ(store_ledger_of(s, "eve", l, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	t_db_drop(&d);
}

TEST(debit_partial_takes_what_there_is_and_never_goes_below_zero)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct grant_row g[4];
	int64_t taken = -1;
	size_t n = 9;

	CHECK(s != NULL);
	CHECK(give(s, "fay", 7, 0) != 0);
	CHECK(give(s, "fay", 3, NOW + DAY_MS) != 0);
	CHECK_EQ(ledger_debit(s, &op, "fay", 25, "revoke", 1, &taken), TERR_OK);
	CHECK_EQ(taken, 10);
	CHECK_EQ(balance(s, "fay"), 0);
	/* Nothing left anywhere, not a negative remaining. */
	CHECK_EQ(store_grants_live(s, "fay", 0, g, 4, &n), TERR_OK);
	CHECK_EQ(n, 0);
	CHECK(sums_hold(s, "fay", 0));
	/* Once empty, a partial debit takes nothing and still succeeds. */
	CHECK_EQ(ledger_debit(s, &op, "fay", 1, "revoke", 1, &taken), TERR_OK);
	CHECK_EQ(taken, 0);
	t_db_drop(&d);
}

TEST(debit_refuses_zero_negative_and_more_than_credits_max)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	int64_t taken = -1;

	CHECK(s != NULL);
	CHECK(give(s, "gus", 10, 0) != 0);
	CHECK_EQ(ledger_debit(s, &op, "gus", 0, "spend", 1, &taken), TERR_INVAL);
	CHECK_EQ(taken, 0);
	CHECK_EQ(ledger_debit(s, &op, "gus", -3, "spend", 1, NULL), TERR_INVAL);
	CHECK_EQ(ledger_debit(s, &op, "gus", CREDITS_MAX + 1, "spend", 1, NULL), TERR_INVAL);
	CHECK_EQ(balance(s, "gus"), 10);
	t_db_drop(&d);
}

TEST(debit_never_draws_on_an_expired_grant)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	int64_t old, taken = 0;

	CHECK(s != NULL);
	old = give(s, "hal", 10, NOW - 1);
	CHECK(old != 0);
	CHECK(give(s, "hal", 5, 0) != 0);
	CHECK_EQ(balance(s, "hal"), 5);
	CHECK_EQ(ledger_debit(s, &op, "hal", 6, "spend", 0, &taken), TERR_SHORT);
	CHECK_EQ(ledger_debit(s, &op, "hal", 5, "spend", 0, &taken), TERR_OK);
	CHECK_EQ(taken, 5);
	CHECK_EQ(balance(s, "hal"), 0);
	/* The expired grant still holds its credits: expiring them is the job's entry. */
	CHECK_EQ(remaining(s, "hal", old), 10);
	/* At its expiry exactly it is already gone (expires_at > now is live). */
	CHECK(give(s, "ida", 4, NOW) != 0);
	CHECK_EQ(balance(s, "ida"), 0);
	t_db_drop(&d);
}

TEST(debit_spans_more_grants_than_one_page)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	int64_t taken = 0;
	int i;

	CHECK(s != NULL);
	/* ledger_debit reads 32 grants at a time: 40 need a second page. */
	for (i = 0; i < 40; i++)
		CHECK(give(s, "jo", 1, NOW + (i + 1) * DAY_MS) != 0);
	CHECK_EQ(balance(s, "jo"), 40);
	CHECK_EQ(ledger_debit(s, &op, "jo", 39, "spend", 0, &taken), TERR_OK);
	CHECK_EQ(taken, 39);
	CHECK_EQ(balance(s, "jo"), 1);
	CHECK(sums_hold(s, "jo", 1));
	t_db_drop(&d);
}

TEST(zero_takes_each_remaining_with_one_entry_and_skips_empty_grants)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct grant_row g[4];
	struct ledger_row l[8];
	int64_t taken = -1;
	size_t n = 0, i, resets = 0;

	CHECK(s != NULL);
	CHECK(give(s, "kim", 10, NOW + DAY_MS) != 0);
	CHECK(give(s, "kim", 20, NOW + 2 * DAY_MS) != 0);
	CHECK_EQ(ledger_debit(s, &op, "kim", 15, "spend", 0, NULL), TERR_OK);
	/* The first grant is empty now (10 spent), the second holds 15. */
	CHECK_EQ(store_grants_live(s, "kim", 0, g, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	g[1] = g[0];
	g[1].remaining = 0; /* an empty grant among those given: no entry for it */
	CHECK_EQ(ledger_zero(s, &op, "reset", g, 2, &taken), TERR_OK);
	CHECK_EQ(taken, 15);
	CHECK_EQ(g[0].remaining, 0);
	CHECK_EQ(balance(s, "kim"), 0);
	CHECK_EQ(store_ledger_of(s, "kim", l, 8, &n), TERR_OK);
	for (i = 0; i < n; i++)
		if (strcmp(l[i].kind, "reset") == 0) {
			resets++;
			CHECK_EQ(l[i].amount, -15);
		}
	CHECK_EQ(resets, 1);
	CHECK(sums_hold(s, "kim", 0));
	t_db_drop(&d);
}

TEST(reset_replaces_the_balance_where_accumulation_adds_to_it)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct grant_row g[4];
	size_t n = 0;

	CHECK(s != NULL);
	/* A reset: what is left of the period's grant goes, the new period's comes. */
	CHECK(give(s, "lee", 100, NOW + DAY_MS) != 0);
	CHECK_EQ(ledger_debit(s, &op, "lee", 30, "spend", 0, NULL), TERR_OK);
	CHECK_EQ(store_grants_live(s, "lee", NOW, g, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(ledger_zero(s, &op, "reset", g, n, NULL), TERR_OK);
	CHECK(give(s, "lee", 100, NOW + 2 * DAY_MS) != 0);
	CHECK_EQ(balance(s, "lee"), 100);
	CHECK(sums_hold(s, "lee", 100));
	/* Accumulation: the new grant adds to what is left. */
	CHECK(give(s, "max", 100, NOW + DAY_MS) != 0);
	CHECK_EQ(ledger_debit(s, &op, "max", 30, "spend", 0, NULL), TERR_OK);
	CHECK(give(s, "max", 100, NOW + 2 * DAY_MS) != 0);
	CHECK_EQ(balance(s, "max"), 170);
	CHECK(sums_hold(s, "max", 170));
	t_db_drop(&d);
}

TEST(entries_name_the_event_behind_them)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct ledger_op by_event = op;
	struct inbox_row in;
	struct ledger_row l[2];
	struct grant_row g;
	size_t n = 0;
	int64_t v = -1;

	CHECK(s != NULL);
	memset(&in, 0, sizeof(in));
	text_copy(in.provider, sizeof(in.provider), "stripe");
	text_copy(in.event_id, sizeof(in.event_id), "evt_1");
	text_copy(in.type, sizeof(in.type), "checkout.session.completed");
	in.state = INBOX_APPLIED;
	CHECK_EQ(store_inbox_insert(s, &in, "{}", 2), TERR_OK);
	by_event.inbox_id = in.id;
	CHECK_EQ(store_user_insert(s, "ned", NOW), TERR_OK);
	memset(&g, 0, sizeof(g));
	text_copy(g.user, sizeof(g.user), "ned");
	g.source = GRANT_PACK;
	g.amount = 9;
	CHECK_EQ(ledger_grant(s, &by_event, &g), TERR_OK);
	CHECK_EQ(store_ledger_of(s, "ned", l, 2, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(l[0].inbox_id, in.id);
	CHECK_EQ(store_verify(s, NULL, NULL, &v), TERR_OK);
	CHECK_EQ(v, 0);
	t_db_drop(&d);
}

int
main(void)
{
	RUN(grant_writes_the_grant_and_one_grant_entry);
	RUN(grant_refuses_zero_negative_and_more_than_credits_max);
	RUN(grant_to_an_unknown_user_fails_and_writes_nothing);
	RUN(debit_draws_soonest_expiring_first_and_never_expiring_last);
	RUN(debit_writes_one_negative_entry_per_grant_drawn);
	RUN(debit_short_of_credits_answers_short_and_writes_nothing);
	RUN(debit_partial_takes_what_there_is_and_never_goes_below_zero);
	RUN(debit_refuses_zero_negative_and_more_than_credits_max);
	RUN(debit_never_draws_on_an_expired_grant);
	RUN(debit_spans_more_grants_than_one_page);
	RUN(zero_takes_each_remaining_with_one_entry_and_skips_empty_grants);
	RUN(reset_replaces_the_balance_where_accumulation_adds_to_it);
	RUN(entries_name_the_event_behind_them);
	return t_done();
}
