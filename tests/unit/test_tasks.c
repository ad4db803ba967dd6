/*
 * Tasks owed to providers (core/task.h) on a real SQLite file: the retry
 * schedule and the "deadline near" time, the storage's claims and outcomes
 * (two runners never make one try twice), apply writing an event's task
 * once, and tries that end without reaching a provider (no executor, the
 * deadline passed, no credentials).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "cfg/cfg.h"
#include "core/apply.h"
#include "core/task.h"
#include "core/task_run.h"
#include "serve/svc_tasks.h"
#include "store/store.h"
#include "store/store_access.h"
#include "store/store_credits.h"
#include "store/store_rebuild.h"
#include "store/store_rows.h"
#include "store/store_tasks.h"
#include "t.h"
#include "t_db.h"

#define NOW   1700000000000LL
#define SEC   1000LL
#define MIN   (60 * SEC)
#define HOUR  (60 * MIN)
#define DAY   (24 * HOUR)
#define TOKEN "tok.AO-J1Ox-purchase-token-of-google-play-0123456789"

static struct cfg cfg;

static const char catalog[] =
    "{\"products\":{"
    "\"pack\":{\"kind\":\"pack\",\"credits\":500,\"match\":{\"stripe\":[\"price_pack\"]}}}}";

/* ------------------------------------------------------------ schedule */

TEST(backoff_doubles_from_a_minute_to_an_hour_without_a_deadline)
{
	static const int64_t want[] = { 1, 2, 4, 8, 16, 32, 60, 60, 60 };
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK_EQ(task_next_try((int64_t)i + 1, NOW, 0), NOW + want[i] * MIN);
	/* However many tries failed: an hour, and no overflow on the way. */
	CHECK_EQ(task_next_try(1000000, NOW, 0), NOW + HOUR);
	CHECK_EQ(task_next_try(INT64_MAX, NOW, 0), NOW + HOUR);
}

TEST(backoff_is_the_same_far_from_a_deadline)
{
	CHECK_EQ(task_next_try(1, NOW, NOW + 3 * DAY), NOW + MIN);
	CHECK_EQ(task_next_try(7, NOW, NOW + 3 * DAY), NOW + HOUR);
}

TEST(backoff_squeezes_the_last_tries_before_the_deadline)
{
	int64_t now = NOW, deadline = NOW + 10 * MIN, next;
	int tries = 0;

	/* An hour's wait with 10 minutes left: half of what is left. */
	CHECK_EQ(task_next_try(7, now, deadline), now + 5 * MIN);
	/* Each try halves what is left, never closer than 5 s, never past the deadline. */
	for (;;) {
		next = task_next_try(7, now, deadline);
		CHECK(next > now && next <= deadline);
		if (next == deadline)
			break;
		CHECK(next - now >= TASK_BACKOFF_MIN_MS);
		now = next;
		tries++;
	}
	CHECK(tries >= 6 && tries <= 9);
	CHECK(deadline - now < 2 * TASK_BACKOFF_MIN_MS);
}

TEST(backoff_gives_the_deadline_when_no_try_fits)
{
	CHECK_EQ(task_next_try(1, NOW, NOW + 4 * SEC), NOW + 4 * SEC);
	CHECK_EQ(task_next_try(1, NOW, NOW), NOW);
	CHECK_EQ(task_next_try(1, NOW, NOW - MIN), NOW - MIN);
}

TEST(license_testers_three_minutes_get_tries_each_minute_then_squeezed)
{
	int64_t deadline = NOW + 3 * MIN;

	CHECK_EQ(task_next_try(1, NOW, deadline), NOW + MIN);
	CHECK_EQ(task_next_try(2, NOW + MIN, deadline), NOW + 2 * MIN);
	CHECK_EQ(task_next_try(3, NOW + 2 * MIN, deadline), NOW + 2 * MIN + 30 * SEC);
}

TEST(near_is_a_day_before_three_days_and_the_last_third_of_a_short_life)
{
	CHECK_EQ(task_near_at(NOW, NOW + 3 * DAY), NOW + 2 * DAY);
	CHECK_EQ(task_near_at(NOW, NOW + 30 * DAY), NOW + 29 * DAY);
	CHECK_EQ(task_near_at(NOW, NOW + 3 * MIN), NOW + 2 * MIN);
	CHECK_EQ(task_near_at(NOW, 0), 0);
	CHECK_EQ(task_near_at(NOW, NOW), 0);
	CHECK_EQ(task_near_at(NOW, NOW - DAY), 0);
}

TEST(kinds_name_their_provider_and_unknown_ones_are_none)
{
	CHECK_STR(task_kind("google_ack_sub")->provider, "google");
	CHECK_STR(task_kind("google_ack_product")->provider, "google");
	CHECK_STR(task_kind("google_consume")->provider, "google");
	CHECK(task_kind("google_refund") == NULL);
	CHECK(task_kind("") == NULL);
}

/* ------------------------------------------------------------- storage */

static void
task_of(struct task_row *t, const char *kind, const char *key, int64_t deadline)
{
	memset(t, 0, sizeof(*t));
	text_copy(t->provider, sizeof(t->provider), "google");
	text_copy(t->kind, sizeof(t->kind), kind);
	text_copy(t->key, sizeof(t->key), key);
	text_copy(t->arg, sizeof(t->arg), "pro_monthly");
	t->deadline = deadline;
	t->near_at = task_near_at(NOW, deadline);
	t->created_at = t->due_at = NOW;
}

static int64_t
alerts(struct store *s, const char *topic)
{
	int64_t n = -1;

	store_outbox_count(s, "alert", topic, &n);
	return n;
}

TEST(store_a_task_is_owed_once_per_provider_kind_and_key)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct task_row t, again, out;

	CHECK(s != NULL);
	task_of(&t, "google_ack_sub", TOKEN, NOW + 3 * DAY);
	CHECK_EQ(store_task_insert(s, &t), TERR_OK);
	CHECK(t.id > 0);
	task_of(&again, "google_ack_sub", TOKEN, NOW + 4 * DAY);
	CHECK_EQ(store_task_insert(s, &again), TERR_DUP);
	/* Another kind of work on the same purchase is another task. */
	task_of(&again, "google_consume", TOKEN, NOW + 3 * DAY);
	CHECK_EQ(store_task_insert(s, &again), TERR_OK);
	CHECK_EQ(store_task_find(s, "google", "google_ack_sub", TOKEN, &out), TERR_OK);
	CHECK_EQ(out.id, t.id);
	CHECK_EQ(out.deadline, NOW + 3 * DAY);
	CHECK_EQ(out.near_at, NOW + 2 * DAY);
	CHECK_EQ(out.state, TASK_PENDING);
	CHECK_EQ(out.attempts, 0);
	CHECK_STR(out.arg, "pro_monthly");
	CHECK_EQ(store_task_find(s, "google", "google_ack_product", TOKEN, &out), TERR_NOTFOUND);
	t_db_drop(&d);
}

TEST(store_two_runners_claim_one_try_once)
{
	struct t_db d;
	struct store *s = t_db_open(&d), *other = NULL;
	struct task_row t, out;

	CHECK(s != NULL);
	CHECK_EQ(store_open(&other, d.path, STORE_RW), TERR_OK);
	task_of(&t, "google_ack_sub", TOKEN, 0);
	CHECK_EQ(store_task_insert(s, &t), TERR_OK);
	/* Both read attempts 0; the first claim wins, on either connection. */
	CHECK_EQ(store_task_claim(s, t.id, 0, NOW, NOW + MIN), TERR_OK);
	CHECK_EQ(store_task_claim(other, t.id, 0, NOW, NOW + MIN), TERR_CONFLICT);
	/* Held: not due again until the claim lapses, even with the right attempts. */
	CHECK_EQ(store_task_claim(other, t.id, 1, NOW + SEC, NOW + MIN), TERR_CONFLICT);
	CHECK_EQ(store_task_get(s, t.id, &out), TERR_OK);
	CHECK_EQ(out.attempts, 1);
	CHECK_EQ(out.due_at, NOW + MIN);
	CHECK_EQ(out.last_try_at, NOW);
	/* The claim lapsed (its runner died): another takes it; the first writes nothing after. */
	CHECK_EQ(store_task_claim(other, t.id, 1, NOW + MIN, NOW + 2 * MIN), TERR_OK);
	{
		struct task_end e = { TASK_DONE, 0, "", NOW + MIN, 0 };
		CHECK_EQ(store_task_finish(s, t.id, 1, &e, NULL), TERR_CONFLICT);
		CHECK_EQ(store_task_finish(other, t.id, 2, &e, NULL), TERR_OK);
		CHECK_EQ(store_task_finish(other, t.id, 2, &e, NULL), TERR_CONFLICT);
	}
	CHECK_EQ(store_task_get(s, t.id, &out), TERR_OK);
	CHECK_EQ(out.state, TASK_DONE);
	CHECK_EQ(out.done_at, NOW + MIN);
	CHECK_EQ(store_task_claim(s, t.id, 2, NOW + DAY, NOW + DAY + MIN), TERR_CONFLICT);
	store_close(other);
	t_db_drop(&d);
}

static void
alert_row(struct outbox_row *a, const char *topic, const char *dedup)
{
	memset(a, 0, sizeof(*a));
	a->kind = OUTBOX_ALERT;
	text_copy(a->topic, sizeof(a->topic), topic);
	text_copy(a->dedup_key, sizeof(a->dedup_key), dedup);
	a->payload = "{}";
	a->next_at = a->created_at = NOW;
}

TEST(store_an_outcome_and_its_alert_commit_together_and_the_alert_once)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct task_row t, u, out;
	struct outbox_row a;
	struct task_end retry = { TASK_PENDING, NOW + MIN, "HTTP 403", NOW, 0 };

	CHECK(s != NULL);
	task_of(&t, "google_ack_sub", "tok_1", 0);
	task_of(&u, "google_ack_sub", "tok_2", 0);
	CHECK_EQ(store_task_insert(s, &t), TERR_OK);
	CHECK_EQ(store_task_insert(s, &u), TERR_OK);
	alert_row(&a, "task.blocked", "alert:task:blocked:google:2023-11-14");
	CHECK_EQ(store_task_claim(s, t.id, 0, NOW, NOW + MIN), TERR_OK);
	CHECK_EQ(store_task_finish(s, t.id, 1, &retry, &a), TERR_OK);
	CHECK_EQ(store_task_claim(s, u.id, 0, NOW, NOW + MIN), TERR_OK);
	CHECK_EQ(store_task_finish(s, u.id, 1, &retry, &a), TERR_OK);
	CHECK_EQ(alerts(s, "task.blocked"), 1);
	CHECK_EQ(store_task_get(s, t.id, &out), TERR_OK);
	CHECK_EQ(out.state, TASK_PENDING);
	CHECK_EQ(out.due_at, NOW + MIN);
	CHECK_EQ(out.done_at, 0);
	CHECK_STR(out.last_error, "HTTP 403");
	/* An outcome not written (the claim was lost) writes no alert either. */
	alert_row(&a, "task.given_up", "alert:task:1:given_up");
	CHECK_EQ(store_task_finish(s, t.id, 7, &retry, &a), TERR_CONFLICT);
	CHECK_EQ(alerts(s, "task.given_up"), 0);
	t_db_drop(&d);
}

TEST(store_walks_see_pending_tasks_due_in_order_and_near_ones_until_alerted)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct store_pos pos = STORE_POS_START;
	struct task_row t[4], out[8];
	struct outbox_row a;
	struct task_end done = { TASK_DONE, 0, "", NOW, 0 };
	size_t n = 0;

	CHECK(s != NULL);
	task_of(&t[0], "google_ack_sub", "tok_a", NOW + 3 * DAY);
	task_of(&t[1], "google_ack_sub", "tok_b", NOW + 3 * DAY);
	task_of(&t[2], "google_ack_sub", "tok_c", 0);
	task_of(&t[3], "google_ack_sub", "tok_d", NOW + 3 * DAY);
	t[1].due_at = NOW - MIN;
	t[2].due_at = NOW + HOUR;
	for (n = 0; n < 4; n++)
		CHECK_EQ(store_task_insert(s, &t[n]), TERR_OK);
	CHECK_EQ(store_task_claim(s, t[3].id, 0, NOW, NOW + MIN), TERR_OK);
	CHECK_EQ(store_task_finish(s, t[3].id, 1, &done, NULL), TERR_OK);
	CHECK_EQ(store_due_tasks(s, &pos, NOW, out, 8, &n), TERR_OK);
	CHECK_EQ(n, 2);
	CHECK_EQ(out[0].id, t[1].id);
	CHECK_EQ(out[1].id, t[0].id);
	CHECK_EQ(store_due_tasks(s, &pos, NOW, out, 8, &n), TERR_OK);
	CHECK_EQ(n, 0);
	/* Near: the pending ones with a deadline, from near_at on, until alerted. */
	pos = (struct store_pos)STORE_POS_START;
	CHECK_EQ(store_near_tasks(s, &pos, NOW + 2 * DAY - 1, out, 8, &n), TERR_OK);
	CHECK_EQ(n, 0);
	pos = (struct store_pos)STORE_POS_START;
	CHECK_EQ(store_near_tasks(s, &pos, NOW + 2 * DAY, out, 8, &n), TERR_OK);
	CHECK_EQ(n, 2);
	alert_row(&a, "task.deadline_near", "alert:task:x:near");
	CHECK_EQ(store_task_near_alerted(s, t[0].id, NOW + 2 * DAY, &a), TERR_OK);
	CHECK_EQ(store_task_near_alerted(s, t[0].id, NOW + 2 * DAY, &a), TERR_CONFLICT);
	CHECK_EQ(store_task_near_alerted(s, t[3].id, NOW + 2 * DAY, &a), TERR_CONFLICT);
	pos = (struct store_pos)STORE_POS_START;
	CHECK_EQ(store_near_tasks(s, &pos, NOW + 3 * DAY, out, 8, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].id, t[1].id);
	/* The CLI's lists: pending by due time; all, newest first. */
	CHECK_EQ(store_tasks_list(s, 0, out, 8, &n), TERR_OK);
	CHECK_EQ(n, 3);
	CHECK_EQ(out[0].id, t[1].id);
	CHECK_EQ(out[2].id, t[2].id);
	CHECK_EQ(store_tasks_list(s, 1, out, 8, &n), TERR_OK);
	CHECK_EQ(n, 4);
	CHECK_EQ(out[0].id, t[3].id);
	CHECK_EQ(out[0].state, TASK_DONE);
	t_db_drop(&d);
}

TEST(store_expire_only_a_task_no_runner_holds)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct task_row t, out;

	CHECK(s != NULL);
	task_of(&t, "google_ack_sub", "tok_e", NOW + MIN);
	CHECK_EQ(store_task_insert(s, &t), TERR_OK);
	CHECK_EQ(store_task_claim(s, t.id, 0, NOW, NOW + 2 * MIN), TERR_OK);
	CHECK_EQ(store_task_expire(s, t.id, 1, NOW + MIN, "deadline passed", NULL), TERR_CONFLICT);
	CHECK_EQ(store_task_expire(s, t.id, 1, NOW + 2 * MIN, "deadline passed", NULL), TERR_OK);
	CHECK_EQ(store_task_get(s, t.id, &out), TERR_OK);
	CHECK_EQ(out.state, TASK_GIVEN_UP);
	CHECK_EQ(out.done_at, NOW + 2 * MIN);
	CHECK_EQ(out.late_alerted_at, NOW + 2 * MIN);
	CHECK_STR(out.last_error, "deadline passed");
	t_db_drop(&d);
}

/* --------------------------------------------------------------- apply */

/* A pack bought by user (keyed pay), owing kind on token. */
static void
owing_event(struct bev *e, const char *id, const char *user, const char *pay, const char *kind,
    const char *token)
{
	bev_init(e);
	text_copy(e->provider, sizeof(e->provider), "stripe");
	text_copy(e->id, sizeof(e->id), id);
	text_copy(e->type, sizeof(e->type), "checkout.session.completed");
	text_copy(e->user, sizeof(e->user), user);
	e->at = NOW;
	e->aspects = BEV_PAY | BEV_TASK;
	e->pay.kind = PAY_ONE_OFF;
	bev_key(&e->pay.keys, pay);
	e->pay.amount = 500;
	text_copy(e->pay.currency, sizeof(e->pay.currency), "usd");
	text_copy(e->pay.product, sizeof(e->pay.product), "price_pack");
	text_copy(e->task.kind, sizeof(e->task.kind), kind);
	text_copy(e->task.key, sizeof(e->task.key), token);
	text_copy(e->task.arg, sizeof(e->task.arg), "pack_100");
	e->task.deadline = NOW + 3 * DAY;
	e->raw = "{}";
	e->raw_len = 2;
}

TEST(apply_writes_the_task_with_the_event_once)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct bev *e = calloc(1, sizeof(*e));
	struct apply_result r, r2, r3;
	struct task_row t, list[4];
	size_t n = 0;

	CHECK(s != NULL && e != NULL);
	owing_event(e, "evt_1", "ann", "pi_1", "google_consume", TOKEN);
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, NOW), TERR_OK);
	CHECK_EQ(r.state, INBOX_APPLIED);
	/* Its provider is the kind's, whichever provider's event owed it. */
	CHECK_EQ(store_task_find(s, "google", "google_consume", TOKEN, &t), TERR_OK);
	CHECK_EQ(t.inbox_id, r.inbox_id);
	CHECK_STR(t.user, "ann");
	CHECK_STR(t.arg, "pack_100");
	CHECK_EQ(t.deadline, NOW + 3 * DAY);
	CHECK_EQ(t.near_at, NOW + 2 * DAY);
	CHECK_EQ(t.due_at, NOW);
	CHECK_EQ(store_tasks_of_inbox(s, r.inbox_id, list, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	/* The same event again: a duplicate, nothing added. */
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r2, NOW + SEC), TERR_OK);
	CHECK(r2.duplicate);
	/* Another event owing the same work (the app handed the purchase in first): no second task. */
	owing_event(e, "evt_2", "ann", "pi_1", "google_consume", TOKEN);
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r3, NOW + 2 * SEC), TERR_OK);
	CHECK_EQ(r3.state, INBOX_APPLIED);
	CHECK_EQ(store_tasks_of_inbox(s, r3.inbox_id, list, 4, &n), TERR_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(store_tasks_list(s, 1, list, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(list[0].inbox_id, r.inbox_id);
	free(e);
	t_db_drop(&d);
}

TEST(apply_an_event_that_does_not_apply_owes_nothing)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct bev *e = calloc(1, sizeof(*e));
	struct apply_result r;
	struct task_row list[4];
	size_t n = 9;

	CHECK(s != NULL && e != NULL);
	owing_event(e, "evt_u", "bea", "pi_u", "google_ack_product", "tok_u");
	text_copy(e->pay.product, sizeof(e->pay.product), "price_unknown");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, NOW), TERR_OK);
	CHECK_EQ(r.state, INBOX_UNKNOWN_PRODUCT);
	CHECK_EQ(store_tasks_list(s, 1, list, 4, &n), TERR_OK);
	CHECK_EQ(n, 0);
	free(e);
	t_db_drop(&d);
}

TEST(apply_a_task_tally_cannot_do_fails_the_event_and_grants_nothing)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct bev *e = calloc(1, sizeof(*e));
	struct apply_result r;
	struct task_row list[4];
	int64_t bal = -1;
	size_t n = 9;

	CHECK(s != NULL && e != NULL);
	owing_event(e, "evt_k", "cal", "pi_k", "google_refund", "tok_k");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, NOW), TERR_OK);
	CHECK_EQ(r.state, INBOX_FAILED);
	CHECK(strstr(r.reason, "google_refund") != NULL);
	owing_event(e, "evt_k2", "cal", "pi_k2", "google_ack_product", "");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, NOW), TERR_OK);
	CHECK_EQ(r.state, INBOX_FAILED);
	CHECK_EQ(store_tasks_list(s, 1, list, 4, &n), TERR_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(store_balance_live(s, "cal", NOW, &bal), TERR_OK);
	CHECK_EQ(bal, 0);
	free(e);
	t_db_drop(&d);
}

static void
count_diff(void *arg, const char *table, const char *only_in, const char *row)
{
	(void)only_in;
	(void)row;
	if (strcmp(table, "tasks") == 0 || strcmp(table, "outbox") == 0)
		(*(int *)arg)++;
}

/* What rebuild compares of tasks: what is owed, not how far its tries got. */
TEST(rebuild_compares_what_is_owed_not_the_tries_nor_their_alerts)
{
	struct t_db live, rebuilt;
	struct store *s = t_db_open(&live), *r = t_db_open(&rebuilt);
	struct task_row t, u;
	struct outbox_row a;
	struct task_end done = { TASK_DONE, 0, "", NOW, 0 };
	int64_t ndiff = -1;
	int seen = 0;

	CHECK(s != NULL && r != NULL);
	task_of(&t, "google_ack_sub", TOKEN, NOW + 3 * DAY);
	u = t;
	CHECK_EQ(store_task_insert(s, &t), TERR_OK);
	CHECK_EQ(store_task_insert(r, &u), TERR_OK);
	/* Live: tried, done, alerted; rebuilt: owed and never tried. */
	alert_row(&a, "task.blocked", "alert:task:blocked:google:2023-11-14");
	CHECK_EQ(store_task_claim(s, t.id, 0, NOW, NOW + MIN), TERR_OK);
	CHECK_EQ(store_task_finish(s, t.id, 1, &done, &a), TERR_OK);
	store_close(r);
	rebuilt.s = NULL;
	CHECK_EQ(store_diff(s, rebuilt.path, 10, count_diff, &seen, &ndiff), TERR_OK);
	CHECK_EQ(ndiff, 0);
	/* A task no event owed (or one lost) is a difference. */
	task_of(&t, "google_consume", TOKEN, NOW + 3 * DAY);
	CHECK_EQ(store_task_insert(s, &t), TERR_OK);
	CHECK_EQ(store_diff(s, rebuilt.path, 10, count_diff, &seen, &ndiff), TERR_OK);
	CHECK_EQ(ndiff, 1);
	CHECK_EQ(seen, 1);
	t_db_drop(&rebuilt);
	t_db_drop(&live);
}

/* ------------------------------------------------- tries without a call */

TEST(try_past_the_deadline_gives_up_without_a_call_and_alerts_once)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct task_clients cl;
	struct task_outcome o;
	struct task_row t, out;

	CHECK(s != NULL);
	task_clients_init(&cl, &cfg);
	task_of(&t, "google_ack_sub", "tok_late", NOW + MIN);
	CHECK_EQ(store_task_insert(s, &t), TERR_OK);
	CHECK_EQ(task_try(s, &cl, &t, NOW + MIN, &o), TERR_OK);
	CHECK_EQ(o.result, TASK_R_LATE);
	CHECK(o.alerted);
	CHECK_EQ(alerts(s, "task.deadline_passed"), 1);
	CHECK_EQ(store_task_get(s, t.id, &out), TERR_OK);
	CHECK_EQ(out.state, TASK_GIVEN_UP);
	CHECK_EQ(out.attempts, 0);
	/* A stale read of it tries nothing and alerts nothing more. */
	CHECK_EQ(task_try(s, &cl, &t, NOW + 2 * MIN, &o), TERR_OK);
	CHECK_EQ(o.result, TASK_R_TAKEN);
	CHECK_EQ(alerts(s, "task.deadline_passed"), 1);
	task_clients_release(&cl);
	t_db_drop(&d);
}

TEST(try_a_task_not_due_is_left_alone)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct task_clients cl;
	struct task_outcome o;
	struct task_row t, out;

	CHECK(s != NULL);
	task_clients_init(&cl, &cfg);
	task_of(&t, "google_ack_sub", "tok_later", 0);
	t.due_at = NOW + HOUR;
	CHECK_EQ(store_task_insert(s, &t), TERR_OK);
	CHECK_EQ(task_try(s, &cl, &t, NOW, &o), TERR_OK);
	CHECK_EQ(o.result, TASK_R_TAKEN);
	CHECK_EQ(store_task_get(s, t.id, &out), TERR_OK);
	CHECK_EQ(out.attempts, 0);
	task_clients_release(&cl);
	t_db_drop(&d);
}

TEST(try_a_kind_without_executor_is_given_up_and_alerted)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct task_clients cl;
	struct task_outcome o;
	struct task_row t, out;

	CHECK(s != NULL);
	task_clients_init(&cl, &cfg);
	task_of(&t, "google_refund", "tok_new", 0);
	CHECK_EQ(store_task_insert(s, &t), TERR_OK);
	CHECK_EQ(task_try(s, &cl, &t, NOW, &o), TERR_OK);
	CHECK_EQ(o.result, TASK_R_GIVEN_UP);
	CHECK(strstr(o.why, "no executor") != NULL);
	CHECK_EQ(alerts(s, "task.given_up"), 1);
	CHECK_EQ(store_task_get(s, t.id, &out), TERR_OK);
	CHECK_EQ(out.state, TASK_GIVEN_UP);
	CHECK_EQ(out.attempts, 1);
	task_clients_release(&cl);
	t_db_drop(&d);
}

TEST(try_without_google_credentials_is_blocked_retried_and_alerted_once_a_day)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct task_clients cl;
	struct task_outcome o;
	struct task_row t, u, out;

	CHECK(s != NULL);
	/* cfg names no service-account key file: no client can be made. */
	task_clients_init(&cl, &cfg);
	task_of(&t, "google_ack_sub", "tok_b1", NOW + 3 * DAY);
	task_of(&u, "google_ack_product", "tok_b2", NOW + 3 * DAY);
	CHECK_EQ(store_task_insert(s, &t), TERR_OK);
	CHECK_EQ(store_task_insert(s, &u), TERR_OK);
	CHECK_EQ(task_try(s, &cl, &t, NOW, &o), TERR_OK);
	CHECK_EQ(o.result, TASK_R_BLOCKED);
	CHECK_EQ(o.next_at, NOW + MIN);
	CHECK(o.alerted);
	CHECK_EQ(task_try(s, &cl, &u, NOW, &o), TERR_OK);
	CHECK_EQ(o.result, TASK_R_BLOCKED);
	CHECK_EQ(alerts(s, "task.blocked"), 1);
	CHECK_EQ(store_task_get(s, t.id, &out), TERR_OK);
	CHECK_EQ(out.state, TASK_PENDING);
	CHECK_EQ(out.attempts, 1);
	CHECK_EQ(out.due_at, NOW + MIN);
	CHECK(out.last_error[0] != '\0');
	/* The next day, still blocked: alerted again. */
	CHECK_EQ(task_try(s, &cl, &out, NOW + DAY, &o), TERR_OK);
	CHECK_EQ(o.result, TASK_R_BLOCKED);
	CHECK_EQ(o.next_at, NOW + DAY + 2 * MIN);
	CHECK_EQ(alerts(s, "task.blocked"), 2);
	task_clients_release(&cl);
	t_db_drop(&d);
}

TEST(run_event_tries_only_the_tasks_that_event_made)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct task_clients cl;
	struct task_row t, u, out;
	int tried = -1;

	CHECK(s != NULL);
	task_clients_init(&cl, &cfg);
	CHECK_EQ(store_user_insert(s, "dan", NOW), TERR_OK);
	{
		struct inbox_row row;
		memset(&row, 0, sizeof(row));
		text_copy(row.provider, sizeof(row.provider), "google");
		text_copy(row.event_id, sizeof(row.event_id), "m1");
		row.received_at = row.updated_at = NOW;
		CHECK_EQ(store_inbox_insert(s, &row, "{}", 2), TERR_OK);
		task_of(&t, "google_ack_sub", "tok_r1", 0);
		t.inbox_id = row.id;
		/* Stamped by a clock a little ahead of the caller's: still tried at once. */
		t.due_at = NOW + 5;
		CHECK_EQ(store_task_insert(s, &t), TERR_OK);
	}
	task_of(&u, "google_ack_sub", "tok_r2", 0);
	CHECK_EQ(store_task_insert(s, &u), TERR_OK);
	CHECK_EQ(task_run_event(s, &cl, t.inbox_id, NOW, &tried), TERR_OK);
	CHECK_EQ(tried, 1);
	CHECK_EQ(store_task_get(s, t.id, &out), TERR_OK);
	CHECK_EQ(out.attempts, 1);
	CHECK_EQ(store_task_get(s, u.id, &out), TERR_OK);
	CHECK_EQ(out.attempts, 0);
	/* Again at once: its retry is not due; nothing tried. */
	CHECK_EQ(task_run_event(s, &cl, t.inbox_id, NOW + SEC, &tried), TERR_OK);
	CHECK_EQ(tried, 0);
	CHECK_EQ(task_run_event(s, &cl, 0, NOW, &tried), TERR_OK);
	CHECK_EQ(tried, 0);
	task_clients_release(&cl);
	t_db_drop(&d);
}

/* One handler thread: its own svc, the tasks of its own event. */
struct handler_thread {
	pthread_t id;
	struct cfg *cfg;
	int64_t inbox_id;
};

static void *
handler_thread(void *arg)
{
	struct handler_thread *h = arg;
	struct apply_result res;
	struct svc sv;

	memset(&sv, 0, sizeof(sv));
	memset(&res, 0, sizeof(res));
	sv.cfg = h->cfg;
	res.inbox_id = h->inbox_id;
	svc_tasks(&sv, &res);
	store_close(sv.rw);
	return NULL;
}

TEST(svc_tasks_from_many_threads_share_one_set_of_clients)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct handler_thread th[6];
	struct cfg c = cfg;
	struct task_row t, out;
	struct inbox_row row;
	size_t i;

	CHECK(s != NULL);
	text_copy(c.db_path, sizeof(c.db_path), d.path);
	for (i = 0; i < 6; i++) {
		char id[16], key[16];
		snprintf(id, sizeof(id), "m%zu", i);
		snprintf(key, sizeof(key), "tok_t%zu", i);
		memset(&row, 0, sizeof(row));
		text_copy(row.provider, sizeof(row.provider), "google");
		text_copy(row.event_id, sizeof(row.event_id), id);
		row.received_at = row.updated_at = NOW;
		CHECK_EQ(store_inbox_insert(s, &row, "{}", 2), TERR_OK);
		task_of(&t, "google_ack_sub", key, 0);
		t.inbox_id = row.id;
		t.due_at = 0;
		CHECK_EQ(store_task_insert(s, &t), TERR_OK);
		th[i].cfg = &c;
		th[i].inbox_id = row.id;
	}
	for (i = 0; i < 6; i++)
		CHECK(pthread_create(&th[i].id, NULL, handler_thread, &th[i]) == 0);
	for (i = 0; i < 6; i++)
		pthread_join(th[i].id, NULL);
	/* Each thread tried its own event's task once; no google section: blocked, alerted once. */
	for (i = 0; i < 6; i++) {
		char key[16];
		snprintf(key, sizeof(key), "tok_t%zu", i);
		CHECK_EQ(store_task_find(s, "google", "google_ack_sub", key, &out), TERR_OK);
		CHECK_EQ(out.attempts, 1);
		CHECK(strstr(out.last_error, "no google section") != NULL);
	}
	CHECK_EQ(alerts(s, "task.blocked"), 1);
	svc_tasks_release();
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
	RUN(backoff_doubles_from_a_minute_to_an_hour_without_a_deadline);
	RUN(backoff_is_the_same_far_from_a_deadline);
	RUN(backoff_squeezes_the_last_tries_before_the_deadline);
	RUN(backoff_gives_the_deadline_when_no_try_fits);
	RUN(license_testers_three_minutes_get_tries_each_minute_then_squeezed);
	RUN(near_is_a_day_before_three_days_and_the_last_third_of_a_short_life);
	RUN(kinds_name_their_provider_and_unknown_ones_are_none);
	RUN(store_a_task_is_owed_once_per_provider_kind_and_key);
	RUN(store_two_runners_claim_one_try_once);
	RUN(store_an_outcome_and_its_alert_commit_together_and_the_alert_once);
	RUN(store_walks_see_pending_tasks_due_in_order_and_near_ones_until_alerted);
	RUN(store_expire_only_a_task_no_runner_holds);
	RUN(apply_writes_the_task_with_the_event_once);
	RUN(apply_an_event_that_does_not_apply_owes_nothing);
	RUN(apply_a_task_tally_cannot_do_fails_the_event_and_grants_nothing);
	RUN(rebuild_compares_what_is_owed_not_the_tries_nor_their_alerts);
	RUN(try_past_the_deadline_gives_up_without_a_call_and_alerts_once);
	RUN(try_a_task_not_due_is_left_alone);
	RUN(try_a_kind_without_executor_is_given_up_and_alerted);
	RUN(try_without_google_credentials_is_blocked_retried_and_alerted_once_a_day);
	RUN(run_event_tries_only_the_tasks_that_event_made);
	RUN(svc_tasks_from_many_threads_share_one_set_of_clients);
	cfg_release(&cfg);
	return t_done();
}
