/*
 * The storage module on a real SQLite file: a fresh file is created private
 * and migrated; each typed write reads back as written (round trip); UNIQUE
 * keys answer TERR_DUP and write nothing; input the schema refuses (an
 * unknown user, a negative remaining, an amount of 0) is an error that
 * writes nothing; the walks of due work page through their rows once each;
 * the jobs' leases and the outbox's deliveries move only from the state
 * they expect.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/text.h"
#include "store/store.h"
#include "store/store_access.h"
#include "store/store_credits.h"
#include "store/store_jobs.h"
#include "store/store_orders.h"
#include "store/store_rows.h"
#include "t.h"
#include "t_db.h"

#define NOW    1700000000000LL
#define DAY_MS (86400LL * 1000)

/* The permission bits of the file beside d's database named by suffix; -1 when absent. */
static int
mode_of(const struct t_db *d, const char *suffix)
{
	struct stat st;
	char p[320];

	t_db_file(d, suffix, p, sizeof(p));
	return stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static void
inbox_event(struct inbox_row *r, const char *provider, const char *id)
{
	memset(r, 0, sizeof(*r));
	text_copy(r->provider, sizeof(r->provider), provider);
	text_copy(r->event_id, sizeof(r->event_id), id);
	text_copy(r->type, sizeof(r->type), "invoice.paid");
	r->live = 1;
	r->event_at = NOW - 5;
	r->received_at = NOW;
	r->updated_at = NOW;
	r->state = INBOX_APPLIED;
	r->attempts = 1;
}

static void
sub_of(struct sub_row *r, const char *user, const char *ext_id, enum sub_state st, int64_t end)
{
	memset(r, 0, sizeof(*r));
	text_copy(r->provider, sizeof(r->provider), "stripe");
	text_copy(r->ext_id, sizeof(r->ext_id), ext_id);
	text_copy(r->user, sizeof(r->user), user);
	text_copy(r->product, sizeof(r->product), "pro");
	r->state = st;
	r->live = 1;
	r->period_start = NOW - DAY_MS;
	r->period_end = end;
	r->state_at = NOW;
	r->state_rank = sub_state_rank(st);
	r->created_at = r->updated_at = NOW;
}

static void
order_of(struct order_row *o, const char *id, const char *user, const char *ref, int64_t expires)
{
	memset(o, 0, sizeof(*o));
	text_copy(o->id, sizeof(o->id), id);
	text_copy(o->provider, sizeof(o->provider), "razorpay");
	text_copy(o->user, sizeof(o->user), user);
	text_copy(o->product, sizeof(o->product), "credits_500");
	o->amount = 49900;
	text_copy(o->currency, sizeof(o->currency), "INR");
	o->state = ORDER_PENDING;
	o->live = 1;
	text_copy(o->provider_ref, sizeof(o->provider_ref), ref);
	o->expires_at = expires;
	o->created_at = o->updated_at = NOW;
}

static void
outbox_of(struct outbox_row *r, const char *key, int64_t next_at)
{
	memset(r, 0, sizeof(*r));
	r->kind = OUTBOX_WEBHOOK;
	text_copy(r->topic, sizeof(r->topic), "subscription.updated");
	text_copy(r->dedup_key, sizeof(r->dedup_key), key);
	r->payload = "{\"a\":1}";
	r->next_at = next_at;
	r->created_at = NOW;
}

/* ------------------------------------------------------------ the file */

TEST(a_fresh_file_is_migrated_to_the_newest_schema_once)
{
	struct t_db d;
	struct store *s = NULL;
	int from = -1, to = -1, v = -1;

	CHECK(t_db_dir(&d) == 0);
	CHECK_EQ(store_open(&s, d.path, STORE_MIGRATE), TERR_OK);
	d.s = s;
	CHECK_EQ(store_schema_version(s, &v), TERR_OK);
	CHECK_EQ(v, 0);
	CHECK_EQ(store_migrate(s, 0, &from, &to), TERR_OK);
	CHECK_EQ(from, 0);
	CHECK_EQ(to, store_schema_latest());
	CHECK(store_schema_latest() >= 4);
	/* Again: nothing left to do. */
	CHECK_EQ(store_migrate(s, 0, &from, &to), TERR_OK);
	CHECK_EQ(from, store_schema_latest());
	CHECK_EQ(to, store_schema_latest());
	store_close(s);
	d.s = NULL;
	/* Current now: a writer opens it. */
	CHECK_EQ(store_open(&s, d.path, STORE_RW), TERR_OK);
	d.s = s;
	t_db_drop(&d);
}

TEST(a_new_database_and_its_lock_and_wal_are_private_whatever_the_umask)
{
	struct t_db d;
	struct store *s;
	mode_t old = umask(0); /* SQLite alone would make it 0644 */

	s = t_db_open(&d);
	umask(old);
	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	CHECK_EQ(mode_of(&d, ""), 0600);
	CHECK_EQ(mode_of(&d, ".lock"), 0600);
	/* SQLite gives the WAL the database's own mode. */
	CHECK_EQ(mode_of(&d, "-wal"), 0600);
	t_db_drop(&d);
}

TEST(opening_a_missing_file_without_migrate_fails_and_creates_nothing)
{
	struct t_db d;
	struct store *s = NULL;

	CHECK(t_db_dir(&d) == 0);
	CHECK_EQ(store_open(&s, d.path, STORE_RW), TERR_DB);
	CHECK(s == NULL);
	CHECK_EQ(mode_of(&d, ""), -1);
	CHECK_EQ(store_open(&s, d.path, STORE_RO), TERR_DB);
	CHECK_EQ(mode_of(&d, ""), -1);
	t_db_drop(&d);
}

TEST(a_rolled_back_transaction_and_savepoint_leave_nothing)
{
	struct t_db d;
	struct store *s = t_db_open(&d);

	CHECK(s != NULL);
	CHECK_EQ(store_begin(s), TERR_OK);
	CHECK_EQ(store_user_insert(s, "gone", NOW), TERR_OK);
	store_rollback(s);
	CHECK_EQ(store_user_exists(s, "gone"), TERR_NOTFOUND);
	CHECK_EQ(store_begin(s), TERR_OK);
	CHECK_EQ(store_user_insert(s, "kept", NOW), TERR_OK);
	CHECK_EQ(store_savepoint(s), TERR_OK);
	CHECK_EQ(store_user_insert(s, "undone", NOW), TERR_OK);
	store_rollback_to(s);
	CHECK_EQ(store_release(s), TERR_OK);
	CHECK_EQ(store_commit(s), TERR_OK);
	CHECK_EQ(store_user_exists(s, "kept"), TERR_OK);
	CHECK_EQ(store_user_exists(s, "undone"), TERR_NOTFOUND);
	t_db_drop(&d);
}

/* ------------------------------------------------------ users and links */

TEST(users_and_links_dedup_on_their_keys_and_merge)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	char user[USER_ID_MAX + 1], into[USER_ID_MAX + 1];
	struct link_row l[4];
	int64_t at = 0;
	size_t n = 0;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "u1", NOW), TERR_OK);
	CHECK_EQ(store_user_insert(s, "u1", NOW + 1), TERR_DUP);
	CHECK_EQ(store_user_created(s, "u1", &at), TERR_OK);
	CHECK_EQ(at, NOW);
	CHECK_EQ(store_user_insert(s, "u2", NOW), TERR_OK);
	CHECK_EQ(store_link_insert(s, "stripe", "customer", "cus_1", "u1", NOW), TERR_OK);
	CHECK_EQ(store_link_insert(s, "stripe", "customer", "cus_1", "u2", NOW), TERR_DUP);
	CHECK_EQ(store_link_find(s, "stripe", "customer", "cus_1", user), TERR_OK);
	CHECK_STR(user, "u1");
	CHECK_EQ(store_link_find(s, "stripe", "customer", "cus_2", user), TERR_NOTFOUND);
	/* A link to a user that does not exist is refused. */
	CHECK_EQ(store_link_insert(s, "stripe", "customer", "cus_3", "ghost", NOW), TERR_DB);
	CHECK_EQ(store_user_merge(s, "u1", "u2"), TERR_OK);
	CHECK_EQ(store_user_get(s, "u1", NULL, into), TERR_OK);
	CHECK_STR(into, "u2");
	CHECK_EQ(store_links_of(s, "u2", l, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_STR(l[0].ext_id, "cus_1");
	CHECK_EQ(l[0].created_at, NOW);
	CHECK_EQ(store_link_delete(s, "stripe", "customer", "cus_1"), TERR_OK);
	CHECK_EQ(store_link_delete(s, "stripe", "customer", "cus_1"), TERR_NOTFOUND);
	t_db_drop(&d);
}

TEST(a_users_access_columns_are_set_once)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct user_row u;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ref", NOW), TERR_OK);
	CHECK_EQ(store_user_insert(s, "ref2", NOW), TERR_OK);
	CHECK_EQ(store_user_insert(s, "kid", NOW), TERR_OK);
	CHECK_EQ(store_user_set_referrer(s, "kid", "ref"), TERR_OK);
	CHECK_EQ(store_user_set_referrer(s, "kid", "ref2"), TERR_CONFLICT);
	CHECK_EQ(store_user_set_registered(s, "kid", NOW + 1), TERR_OK);
	CHECK_EQ(store_user_set_registered(s, "kid", NOW + 2), TERR_DUP);
	CHECK_EQ(store_user_set_trial_used(s, "kid", NOW + 3), TERR_OK);
	CHECK_EQ(store_user_set_trial_used(s, "kid", NOW + 4), TERR_DUP);
	CHECK_EQ(store_user_set_free_next(s, "kid", NOW + 5), TERR_OK);
	CHECK_EQ(store_user_row(s, "kid", &u), TERR_OK);
	CHECK_STR(u.id, "kid");
	CHECK_STR(u.referrer, "ref");
	CHECK_STR(u.merged_into, "");
	CHECK_EQ(u.registered_at, NOW + 1);
	CHECK_EQ(u.trial_used_at, NOW + 3);
	CHECK_EQ(u.free_next_at, NOW + 5);
	CHECK_EQ(store_user_row(s, "nobody", &u), TERR_NOTFOUND);
	t_db_drop(&d);
}

/* -------------------------------------------------------------- inbox */

TEST(inbox_round_trips_a_row_and_its_raw_body)
{
	static const char body[] = "{\"id\":\"evt_1\"}\0tail";
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct inbox_row in, out;
	struct buf b;

	CHECK(s != NULL);
	inbox_event(&in, "stripe", "evt_1");
	text_copy(in.reason, sizeof(in.reason), "why not");
	in.live = 0;
	CHECK_EQ(store_inbox_insert(s, &in, body, sizeof(body)), TERR_OK);
	CHECK(in.id > 0);
	buf_init(&b, 1024);
	CHECK_EQ(store_inbox_get(s, in.id, &out, &b), TERR_OK);
	CHECK_EQ(out.id, in.id);
	CHECK_STR(out.provider, "stripe");
	CHECK_STR(out.event_id, "evt_1");
	CHECK_STR(out.type, "invoice.paid");
	CHECK_EQ(out.live, 0);
	CHECK_EQ(out.event_at, NOW - 5);
	CHECK_EQ(out.received_at, NOW);
	CHECK_EQ(out.state, INBOX_APPLIED);
	CHECK_STR(out.reason, "why not");
	CHECK_STR(out.user, "");
	CHECK_EQ(out.attempts, 1);
	/* The body byte for byte, a NUL inside it too. */
	CHECK_EQ(b.len, sizeof(body));
	CHECK(memcmp(b.p, body, sizeof(body)) == 0);
	buf_release(&b);
	CHECK_EQ(store_inbox_find(s, "stripe", "evt_1", &out), TERR_OK);
	CHECK_EQ(out.id, in.id);
	CHECK_EQ(store_inbox_find(s, "apple", "evt_1", &out), TERR_NOTFOUND);
	CHECK_EQ(store_inbox_get(s, in.id + 1, &out, NULL), TERR_NOTFOUND);
	t_db_drop(&d);
}

TEST(inbox_dedups_on_provider_and_event_id)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct inbox_row in, again, other, list[4];
	size_t n = 0;

	CHECK(s != NULL);
	inbox_event(&in, "stripe", "evt_1");
	CHECK_EQ(store_inbox_insert(s, &in, "{}", 2), TERR_OK);
	inbox_event(&again, "stripe", "evt_1");
	again.id = -7;
	CHECK_EQ(store_inbox_insert(s, &again, "{\"other\":1}", 11), TERR_DUP);
	CHECK_EQ(again.id, -7);
	/* The same id from another provider is another event. */
	inbox_event(&other, "apple", "evt_1");
	CHECK_EQ(store_inbox_insert(s, &other, "{}", 2), TERR_OK);
	CHECK(other.id != in.id);
	CHECK_EQ(store_inbox_list(s, -1, NULL, 0, list, 4, &n), TERR_OK);
	CHECK_EQ(n, 2);
	t_db_drop(&d);
}

TEST(inbox_refuses_what_the_schema_does_not_allow)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct inbox_row in, list[2];
	size_t n = 9;

	CHECK(s != NULL);
	inbox_event(&in, "stripe", "evt_bad");
	in.live = 2;
	CHECK_EQ(store_inbox_insert(s, &in, "{}", 2), TERR_DB);
	CHECK_EQ(store_inbox_list(s, -1, NULL, 0, list, 2, &n), TERR_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(inbox_state_parse("bogus"), -1);
	CHECK_EQ(inbox_state_parse("unknown_product"), INBOX_UNKNOWN_PRODUCT);
	CHECK_STR(inbox_state_str(INBOX_ORPHANED), "orphaned");
	t_db_drop(&d);
}

TEST(inbox_update_records_the_outcome_and_lists_and_orphans_find_it)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct inbox_row in, out, list[4];
	int64_t ids[4];
	size_t n = 0;
	int any = -1;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	inbox_event(&in, "stripe", "evt_1");
	CHECK_EQ(store_inbox_insert(s, &in, "{}", 2), TERR_OK);
	CHECK_EQ(store_inbox_any_orphan(s, &any), TERR_OK);
	CHECK_EQ(any, 0);
	in.state = INBOX_ORPHANED;
	text_copy(in.reason, sizeof(in.reason), "no user");
	text_copy(in.orphan_kind, sizeof(in.orphan_kind), "customer");
	text_copy(in.orphan_id, sizeof(in.orphan_id), "cus_9");
	in.attempts = 3;
	in.updated_at = NOW + 10;
	CHECK_EQ(store_inbox_update(s, &in), TERR_OK);
	CHECK_EQ(store_inbox_get(s, in.id, &out, NULL), TERR_OK);
	CHECK_EQ(out.state, INBOX_ORPHANED);
	CHECK_STR(out.reason, "no user");
	CHECK_STR(out.orphan_kind, "customer");
	CHECK_STR(out.orphan_id, "cus_9");
	CHECK_EQ(out.attempts, 3);
	CHECK_EQ(out.updated_at, NOW + 10);
	CHECK_EQ(store_inbox_any_orphan(s, &any), TERR_OK);
	CHECK_EQ(any, 1);
	CHECK_EQ(store_inbox_orphans(s, "stripe", "customer", "cus_9", ids, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(ids[0], in.id);
	CHECK_EQ(store_inbox_list(s, INBOX_APPLIED, NULL, 0, list, 4, &n), TERR_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(store_inbox_list(s, INBOX_ORPHANED, NULL, 0, list, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	/* Resolved: applied to ann, no orphan key left. */
	in.state = INBOX_APPLIED;
	text_copy(in.user, sizeof(in.user), "ann");
	in.orphan_kind[0] = in.orphan_id[0] = '\0';
	CHECK_EQ(store_inbox_update(s, &in), TERR_OK);
	CHECK_EQ(store_inbox_list(s, -1, "ann", 0, list, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_STR(list[0].orphan_kind, "");
	CHECK_EQ(store_inbox_orphans(s, "stripe", "customer", "cus_9", ids, 4, &n), TERR_OK);
	CHECK_EQ(n, 0);
	t_db_drop(&d);
}

/* ------------------------------------------------------- subscriptions */

TEST(subscriptions_round_trip_and_dedup_on_provider_and_ext_id)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct sub_row r, out, dup;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	sub_of(&r, "ann", "sub_1", SUB_TRIALING, NOW + 30 * DAY_MS);
	r.trial_end = NOW + 7 * DAY_MS;
	r.cancel_at_period_end = 1;
	r.credits_through = NOW + 2;
	r.credits_next_at = NOW + 3;
	text_copy(r.store, sizeof(r.store), "PLAY_STORE");
	CHECK_EQ(store_sub_insert(s, &r), TERR_OK);
	CHECK(r.id > 0);
	CHECK_EQ(store_sub_find(s, "stripe", "sub_1", &out), TERR_OK);
	CHECK_EQ(out.id, r.id);
	CHECK_STR(out.user, "ann");
	CHECK_STR(out.product, "pro");
	CHECK_EQ(out.state, SUB_TRIALING);
	CHECK_EQ(out.live, 1);
	CHECK_EQ(out.period_start, NOW - DAY_MS);
	CHECK_EQ(out.period_end, NOW + 30 * DAY_MS);
	CHECK_EQ(out.trial_end, NOW + 7 * DAY_MS);
	CHECK_EQ(out.cancel_at_period_end, 1);
	CHECK_EQ(out.credits_through, NOW + 2);
	CHECK_EQ(out.state_at, NOW);
	CHECK_EQ(out.state_rank, sub_state_rank(SUB_TRIALING));
	CHECK_STR(out.store, "PLAY_STORE");
	CHECK_EQ(out.credits_next_at, NOW + 3);
	sub_of(&dup, "ann", "sub_1", SUB_ACTIVE, NOW);
	CHECK_EQ(store_sub_insert(s, &dup), TERR_DUP);
	CHECK_EQ(store_sub_get(s, r.id, &out), TERR_OK);
	CHECK_EQ(out.state, SUB_TRIALING);
	CHECK_EQ(store_sub_get(s, r.id + 1, &out), TERR_NOTFOUND);
	t_db_drop(&d);
}

TEST(subscription_update_writes_every_field_and_subs_of_is_newest_first)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct sub_row a, b, out, list[4];
	size_t n = 0;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	CHECK_EQ(store_user_insert(s, "bob", NOW), TERR_OK);
	sub_of(&a, "ann", "sub_a", SUB_ACTIVE, NOW + DAY_MS);
	sub_of(&b, "ann", "sub_b", SUB_ACTIVE, NOW + DAY_MS);
	CHECK_EQ(store_sub_insert(s, &a), TERR_OK);
	CHECK_EQ(store_sub_insert(s, &b), TERR_OK);
	a.state = SUB_PAST_DUE;
	a.grace_until = NOW + 3 * DAY_MS;
	a.period_end = NOW + 2 * DAY_MS;
	text_copy(a.product, sizeof(a.product), "pro_yearly");
	text_copy(a.user, sizeof(a.user), "bob");
	a.updated_at = NOW + 9;
	CHECK_EQ(store_sub_update(s, &a), TERR_OK);
	CHECK_EQ(store_sub_get(s, a.id, &out), TERR_OK);
	CHECK_EQ(out.state, SUB_PAST_DUE);
	CHECK_EQ(out.grace_until, NOW + 3 * DAY_MS);
	CHECK_EQ(out.period_end, NOW + 2 * DAY_MS);
	CHECK_STR(out.product, "pro_yearly");
	CHECK_STR(out.user, "bob");
	CHECK_EQ(out.updated_at, NOW + 9);
	CHECK_EQ(out.created_at, NOW);
	CHECK_EQ(store_subs_of(s, "ann", list, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(list[0].id, b.id);
	CHECK_EQ(store_subs_of(s, "bob", list, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	/* Moved to a user who does not exist: refused, the row stays. */
	text_copy(a.user, sizeof(a.user), "ghost");
	CHECK_EQ(store_sub_update(s, &a), TERR_DB);
	CHECK_EQ(store_sub_get(s, a.id, &out), TERR_OK);
	CHECK_STR(out.user, "bob");
	t_db_drop(&d);
}

TEST(a_subscription_of_an_unknown_user_is_refused)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct sub_row r, out;

	CHECK(s != NULL);
	sub_of(&r, "ghost", "sub_1", SUB_ACTIVE, NOW);
	CHECK_EQ(store_sub_insert(s, &r), TERR_DB);
	CHECK_EQ(store_sub_find(s, "stripe", "sub_1", &out), TERR_NOTFOUND);
	t_db_drop(&d);
}

TEST(entitlements_change_only_when_something_differs)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct ent_row e, list[4];
	size_t n = 0;
	int changed = -1;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	memset(&e, 0, sizeof(e));
	text_copy(e.user, sizeof(e.user), "ann");
	text_copy(e.name, sizeof(e.name), "pro");
	text_copy(e.source, sizeof(e.source), "promo");
	/* Switching off what is not there writes nothing. */
	CHECK_EQ(store_ent_set(s, &e, &changed), TERR_OK);
	CHECK_EQ(changed, 0);
	CHECK_EQ(store_ents_of(s, "ann", list, 4, &n), TERR_OK);
	CHECK_EQ(n, 0);
	e.active = 1;
	e.ends_at = NOW + DAY_MS;
	e.updated_at = NOW;
	CHECK_EQ(store_ent_set(s, &e, &changed), TERR_OK);
	CHECK_EQ(changed, 1);
	CHECK_EQ(store_ent_set(s, &e, &changed), TERR_OK);
	CHECK_EQ(changed, 0);
	e.ends_at = NOW + 2 * DAY_MS;
	CHECK_EQ(store_ent_set(s, &e, &changed), TERR_OK);
	CHECK_EQ(changed, 1);
	CHECK_EQ(store_ents_of(s, "ann", list, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(list[0].active, 1);
	CHECK_EQ(list[0].ends_at, NOW + 2 * DAY_MS);
	/* No subscription behind it: stored as none, read back as 0. */
	CHECK_EQ(list[0].sub_id, 0);
	t_db_drop(&d);
}

/* ------------------------------------------------------------ payments */

TEST(payments_dedup_on_their_business_keys)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct pay_row p, out;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	memset(&p, 0, sizeof(p));
	text_copy(p.provider, sizeof(p.provider), "stripe");
	text_copy(p.user, sizeof(p.user), "ann");
	p.kind = PAY_ONE_OFF;
	p.amount = 500;
	text_copy(p.currency, sizeof(p.currency), "usd");
	p.live = 1;
	p.created_at = NOW;
	CHECK_EQ(store_pay_insert(s, &p), TERR_OK);
	CHECK(p.id > 0);
	CHECK_EQ(store_pay_key_insert(s, "stripe", "pi_1", p.id), TERR_OK);
	CHECK_EQ(store_pay_key_insert(s, "stripe", "ch_1", p.id), TERR_OK);
	CHECK_EQ(store_pay_key_insert(s, "stripe", "pi_1", p.id), TERR_DUP);
	CHECK_EQ(store_pay_find_key(s, "stripe", "ch_1", &out), TERR_OK);
	CHECK_EQ(out.id, p.id);
	CHECK_EQ(out.kind, PAY_ONE_OFF);
	CHECK_EQ(out.amount, 500);
	CHECK_STR(out.currency, "usd");
	CHECK_EQ(out.state, PAY_PAID);
	CHECK_EQ(out.sub_id, 0);
	CHECK_STR(out.product, "");
	CHECK_EQ(store_pay_set_state(s, p.id, PAY_REFUNDED), TERR_OK);
	CHECK_EQ(store_pay_find_key(s, "stripe", "pi_1", &out), TERR_OK);
	CHECK_EQ(out.state, PAY_REFUNDED);
	CHECK_EQ(store_pay_find_key(s, "razorpay", "pi_1", &out), TERR_NOTFOUND);
	/* A key of a payment that does not exist is refused. */
	CHECK_EQ(store_pay_key_insert(s, "stripe", "pi_2", p.id + 1), TERR_DB);
	t_db_drop(&d);
}

/* ------------------------------------------------------ grants, ledger */

TEST(grants_and_entries_round_trip_and_the_schema_keeps_remaining_in_range)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct grant_row g, live[4];
	struct ledger_row l, list[4];
	struct ledger_line lines[4];
	int64_t sum = -1, rem = -1;
	size_t n = 0;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	memset(&g, 0, sizeof(g));
	text_copy(g.user, sizeof(g.user), "ann");
	g.source = GRANT_REFERRAL;
	text_copy(g.product, sizeof(g.product), "credits_500");
	g.amount = g.remaining = 50;
	g.expires_at = NOW + DAY_MS;
	g.created_at = NOW;
	CHECK_EQ(store_grant_insert(s, &g), TERR_OK);
	memset(&l, 0, sizeof(l));
	text_copy(l.user, sizeof(l.user), "ann");
	l.grant_id = g.id;
	l.amount = 50;
	text_copy(l.kind, sizeof(l.kind), "grant");
	text_copy(l.actor, sizeof(l.actor), "operator:root");
	l.created_at = NOW;
	CHECK_EQ(store_ledger_insert(s, &l), TERR_OK);
	CHECK(l.id > 0);
	CHECK_EQ(store_grants_live(s, "ann", NOW, live, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(live[0].id, g.id);
	CHECK_EQ(live[0].source, GRANT_REFERRAL);
	CHECK_STR(live[0].product, "credits_500");
	CHECK_EQ(live[0].remaining, 50);
	CHECK_EQ(live[0].expires_at, NOW + DAY_MS);
	CHECK_EQ(live[0].sub_id, 0);
	CHECK_EQ(live[0].pay_id, 0);
	CHECK_EQ(store_ledger_of(s, "ann", list, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_STR(list[0].actor, "operator:root");
	CHECK_EQ(store_ledger_lines_of(s, "ann", lines, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(lines[0].source, GRANT_REFERRAL);
	CHECK_EQ(lines[0].pay_kind, -1);
	CHECK_EQ(store_ledger_since(s, NOW, 0, list, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(store_ledger_since(s, NOW + 1, 0, list, 4, &n), TERR_OK);
	CHECK_EQ(n, 0);
	/* Never negative, never more than granted: the schema refuses both. */
	CHECK_EQ(store_grant_set_remaining(s, g.id, -1), TERR_DB);
	CHECK_EQ(store_grant_set_remaining(s, g.id, 51), TERR_DB);
	CHECK_EQ(store_balance_sums(s, "ann", &sum, &rem), TERR_OK);
	CHECK_EQ(sum, 50);
	CHECK_EQ(rem, 50);
	/* An entry of an unknown kind is refused. */
	text_copy(l.kind, sizeof(l.kind), "gift");
	CHECK_EQ(store_ledger_insert(s, &l), TERR_DB);
	t_db_drop(&d);
}

TEST(live_grants_come_soonest_expiring_first_and_expired_only_when_asked)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	static const int64_t exp[] = { 0, NOW + 2 * DAY_MS, NOW - 1, NOW + DAY_MS };
	struct grant_row g, live[4];
	size_t n = 0, i;
	int64_t b = -1;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	for (i = 0; i < 4; i++) {
		memset(&g, 0, sizeof(g));
		text_copy(g.user, sizeof(g.user), "ann");
		g.source = GRANT_PACK;
		g.amount = g.remaining = (int64_t)i + 1;
		g.expires_at = exp[i];
		g.created_at = NOW;
		CHECK_EQ(store_grant_insert(s, &g), TERR_OK);
	}
	CHECK_EQ(store_grants_live(s, "ann", NOW, live, 4, &n), TERR_OK);
	CHECK_EQ(n, 3);
	CHECK_EQ(live[0].expires_at, NOW + DAY_MS);
	CHECK_EQ(live[1].expires_at, NOW + 2 * DAY_MS);
	CHECK_EQ(live[2].expires_at, 0);
	CHECK_EQ(store_grants_live(s, "ann", 0, live, 4, &n), TERR_OK);
	CHECK_EQ(n, 4);
	CHECK_EQ(store_balance_live(s, "ann", NOW, &b), TERR_OK);
	CHECK_EQ(b, 1 + 2 + 4);
	t_db_drop(&d);
}

/* -------------------------------------------------------------- orders */

TEST(orders_round_trip_and_dedup_on_id_ref_and_charge)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct order_row o, other, out;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	order_of(&o, "ord_1", "ann", "order_R1", NOW + DAY_MS);
	CHECK_EQ(store_order_insert(s, &o), TERR_OK);
	CHECK_EQ(store_order_get(s, "ord_1", &out), TERR_OK);
	CHECK_STR(out.provider, "razorpay");
	CHECK_STR(out.user, "ann");
	CHECK_STR(out.product, "credits_500");
	CHECK_EQ(out.amount, 49900);
	CHECK_STR(out.currency, "INR");
	CHECK_EQ(out.state, ORDER_PENDING);
	CHECK_STR(out.provider_ref, "order_R1");
	CHECK_STR(out.charge_id, "");
	CHECK_EQ(out.pay_id, 0);
	CHECK_EQ(out.expires_at, NOW + DAY_MS);
	CHECK_EQ(store_order_insert(s, &o), TERR_DUP);
	order_of(&other, "ord_2", "ann", "order_R1", NOW + DAY_MS);
	CHECK_EQ(store_order_insert(s, &other), TERR_DUP);
	/* Two orders not yet made at the provider: no ref is no key. */
	order_of(&other, "ord_2", "ann", "", NOW + DAY_MS);
	CHECK_EQ(store_order_insert(s, &other), TERR_OK);
	order_of(&other, "ord_3", "ann", "", NOW + DAY_MS);
	CHECK_EQ(store_order_insert(s, &other), TERR_OK);
	CHECK_EQ(store_order_find_ref(s, "razorpay", "order_R1", &out), TERR_OK);
	CHECK_STR(out.id, "ord_1");
	CHECK_EQ(store_order_find_ref(s, "cryptobot", "order_R1", &out), TERR_NOTFOUND);
	/* Paid by charge pay_1; another order cannot claim the same charge. */
	o.state = ORDER_PAID;
	text_copy(o.charge_id, sizeof(o.charge_id), "pay_1");
	o.updated_at = NOW + 5;
	CHECK_EQ(store_order_update(s, &o), TERR_OK);
	CHECK_EQ(store_order_get(s, "ord_1", &out), TERR_OK);
	CHECK_EQ(out.state, ORDER_PAID);
	CHECK_STR(out.charge_id, "pay_1");
	CHECK_EQ(out.updated_at, NOW + 5);
	text_copy(other.charge_id, sizeof(other.charge_id), "pay_1");
	CHECK_EQ(store_order_update(s, &other), TERR_DUP);
	CHECK_EQ(store_order_get(s, "nope", &out), TERR_NOTFOUND);
	t_db_drop(&d);
}

TEST(orders_refuse_a_zero_amount_and_an_unknown_user)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct order_row o, out;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	order_of(&o, "ord_0", "ann", "", NOW);
	o.amount = 0;
	CHECK_EQ(store_order_insert(s, &o), TERR_DB);
	order_of(&o, "ord_g", "ghost", "", NOW);
	CHECK_EQ(store_order_insert(s, &o), TERR_DB);
	CHECK_EQ(store_order_get(s, "ord_0", &out), TERR_NOTFOUND);
	CHECK_EQ(store_order_get(s, "ord_g", &out), TERR_NOTFOUND);
	CHECK_STR(order_state_str(ORDER_EXPIRED), "expired");
	t_db_drop(&d);
}

TEST(pending_orders_walk_one_provider_oldest_expiry_first)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct store_pos pos = STORE_POS_START;
	struct due_order *page = calloc(4, sizeof(*page));
	struct order_row o;
	size_t n = 0;

	CHECK(s != NULL && page != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	order_of(&o, "ord_late", "ann", "r1", NOW + 3 * DAY_MS);
	CHECK_EQ(store_order_insert(s, &o), TERR_OK);
	order_of(&o, "ord_soon", "ann", "r2", NOW + DAY_MS);
	CHECK_EQ(store_order_insert(s, &o), TERR_OK);
	order_of(&o, "ord_past", "ann", "r3", NOW - DAY_MS);
	CHECK_EQ(store_order_insert(s, &o), TERR_OK);
	order_of(&o, "ord_cb", "ann", "r4", NOW);
	text_copy(o.provider, sizeof(o.provider), "cryptobot");
	CHECK_EQ(store_order_insert(s, &o), TERR_OK);
	CHECK_EQ(store_pending_orders(s, "razorpay", &pos, page, 2, &n), TERR_OK);
	CHECK_EQ(n, 2);
	CHECK_STR(page[0].o.id, "ord_past");
	CHECK_STR(page[1].o.id, "ord_soon");
	CHECK_EQ(store_pending_orders(s, "razorpay", &pos, page, 2, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_STR(page[0].o.id, "ord_late");
	CHECK_EQ(store_pending_orders(s, "razorpay", &pos, page, 2, &n), TERR_OK);
	CHECK_EQ(n, 0);
	/* Due: only the expired ones, of every provider. */
	pos = (struct store_pos)STORE_POS_START;
	CHECK_EQ(store_due_orders(s, &pos, NOW, page, 4, &n), TERR_OK);
	CHECK_EQ(n, 2);
	CHECK_STR(page[0].o.id, "ord_past");
	CHECK_STR(page[1].o.id, "ord_cb");
	free(page);
	t_db_drop(&d);
}

/* ---------------------------------------------------------------- jobs */

TEST(due_subscriptions_are_walked_in_pages_each_row_once_up_to_until)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct store_pos pos = STORE_POS_START;
	struct sub_row r, page[2];
	char ext[16];
	int64_t ids[8], last = INT64_MIN;
	size_t n = 0, k = 0, i, j;

	CHECK(s != NULL);
	CHECK_EQ(store_user_insert(s, "ann", NOW), TERR_OK);
	/* Five ending by NOW (two at the same ms), one later, one trialing (another walk). */
	for (i = 0; i < 7; i++) {
		snprintf(ext, sizeof(ext), "sub_%zu", i);
		sub_of(&r, "ann", ext, i == 6 ? SUB_TRIALING : SUB_ACTIVE,
		    i == 5 ? NOW + DAY_MS : NOW - (int64_t)(i / 2) * 1000);
		CHECK_EQ(store_sub_insert(s, &r), TERR_OK);
	}
	do {
		CHECK_EQ(store_due_subs(s, DUE_PERIOD, &pos, NOW, page, 2, &n), TERR_OK);
		for (i = 0; i < n; i++) {
			CHECK(k < 8);
			CHECK(page[i].period_end >= last && page[i].period_end <= NOW);
			for (j = 0; j < k; j++)
				CHECK(ids[j] != page[i].id);
			last = page[i].period_end;
			ids[k++] = page[i].id;
		}
	} while (n > 0);
	CHECK_EQ(k, 5);
	t_db_drop(&d);
}

TEST(a_job_lease_is_held_by_one_owner_until_it_ends)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct job_row rows[4];
	size_t n = 0;
	int got = -1;

	CHECK(s != NULL);
	CHECK_EQ(store_job_lease(s, "renewals", "a", NOW, 1000, &got), TERR_OK);
	CHECK_EQ(got, 1);
	CHECK_EQ(store_job_lease(s, "renewals", "b", NOW + 500, 1000, &got), TERR_OK);
	CHECK_EQ(got, 0);
	/* The owner may take it again (a rerun); then renew it. */
	CHECK_EQ(store_job_lease(s, "renewals", "a", NOW + 600, 1000, &got), TERR_OK);
	CHECK_EQ(got, 1);
	CHECK_EQ(store_job_renew(s, "renewals", "a", NOW + 5000), TERR_OK);
	CHECK_EQ(store_job_renew(s, "renewals", "b", NOW + 5000), TERR_CONFLICT);
	CHECK_EQ(store_job_lease(s, "renewals", "b", NOW + 4999, 1000, &got), TERR_OK);
	CHECK_EQ(got, 0);
	CHECK_EQ(store_job_release(s, "renewals", "a", NOW + 4000, 1, "ok"), TERR_OK);
	CHECK_EQ(store_jobs_list(s, rows, 4, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_STR(rows[0].name, "renewals");
	CHECK_STR(rows[0].lease_owner, "");
	CHECK_EQ(rows[0].last_success_at, NOW + 4000);
	CHECK_STR(rows[0].last_result, "ok");
	/* Released: anyone takes it; a failed run keeps the last success. */
	CHECK_EQ(store_job_lease(s, "renewals", "b", NOW + 4001, 1000, &got), TERR_OK);
	CHECK_EQ(got, 1);
	CHECK_EQ(store_job_release(s, "renewals", "b", NOW + 4500, 0, "failed"), TERR_OK);
	CHECK_EQ(store_jobs_list(s, rows, 4, &n), TERR_OK);
	CHECK_EQ(rows[0].last_success_at, NOW + 4000);
	CHECK_STR(rows[0].last_result, "failed");
	t_db_drop(&d);
}

TEST(a_lease_is_taken_over_only_from_its_holder)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct job_row rows[2];
	size_t n = 0;
	int got = -1;

	CHECK(s != NULL);
	CHECK_EQ(store_job_lease(s, "deliver", "dead", NOW, 60000, &got), TERR_OK);
	CHECK_EQ(got, 1);
	CHECK_EQ(store_job_takeover(s, "deliver", "someone", "new", NOW + 1, NOW + 2000),
	    TERR_CONFLICT);
	CHECK_EQ(store_job_takeover(s, "deliver", "dead", "new", NOW + 1, NOW + 2000), TERR_OK);
	CHECK_EQ(store_jobs_list(s, rows, 2, &n), TERR_OK);
	CHECK_STR(rows[0].lease_owner, "new");
	CHECK_EQ(rows[0].lease_until, NOW + 2000);
	CHECK_EQ(rows[0].last_started_at, NOW + 1);
	t_db_drop(&d);
}

TEST(outbox_rows_dedup_and_deliveries_move_only_from_pending)
{
	struct t_db d;
	struct store *s = t_db_open(&d);
	struct store_pos pos = STORE_POS_START;
	struct outbox_due *due = calloc(2, sizeof(*due));
	struct outbox_row r, later, alert;
	int64_t count = -1;
	size_t n = 0;

	CHECK(s != NULL && due != NULL);
	outbox_of(&r, "k1", NOW);
	CHECK_EQ(store_outbox_insert(s, &r), TERR_OK);
	CHECK(r.id > 0);
	outbox_of(&later, "k1", NOW);
	CHECK_EQ(store_outbox_insert(s, &later), TERR_DUP);
	outbox_of(&later, "k2", NOW + DAY_MS);
	CHECK_EQ(store_outbox_insert(s, &later), TERR_OK);
	CHECK_EQ(store_due_outbox(s, &pos, NOW, due, 2, &n), TERR_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(due[0].id, r.id);
	CHECK_EQ(due[0].kind, OUTBOX_WEBHOOK);
	CHECK_STR(due[0].payload, "{\"a\":1}");
	CHECK_EQ(due[0].payload_cut, 0);
	CHECK_EQ(due[0].attempts, 0);
	/* Claimed with the count it was read at; a second runner's claim conflicts. */
	CHECK_EQ(store_outbox_claim(s, r.id, 0, NOW + 60000), TERR_OK);
	CHECK_EQ(store_outbox_claim(s, r.id, 0, NOW + 60000), TERR_CONFLICT);
	CHECK_EQ(store_outbox_sent(s, r.id), TERR_OK);
	CHECK_EQ(store_outbox_sent(s, r.id), TERR_CONFLICT);
	/* The other one fails for good: dead, with its alert in the same transaction. */
	outbox_of(&alert, "alert:k2", NOW);
	alert.kind = OUTBOX_ALERT;
	text_copy(alert.topic, sizeof(alert.topic), "delivery_dead");
	CHECK_EQ(store_outbox_failed(s, later.id, "HTTP 500", NOW, 1, &alert), TERR_OK);
	CHECK_EQ(store_outbox_count(s, "alert", "delivery_dead", &count), TERR_OK);
	CHECK_EQ(count, 1);
	CHECK_EQ(store_outbox_failed(s, later.id, "HTTP 500", NOW, 1, &alert), TERR_CONFLICT);
	CHECK_EQ(store_outbox_retry(s, r.id, NOW), TERR_NOTFOUND);
	CHECK_EQ(store_outbox_retry(s, later.id, NOW + 7), TERR_OK);
	pos = (struct store_pos)STORE_POS_START;
	CHECK_EQ(store_due_outbox(s, &pos, NOW + 7, due, 2, &n), TERR_OK);
	/* Due now: the retried row and the alert. */
	CHECK_EQ(n, 2);
	CHECK_EQ(store_outbox_count(s, NULL, NULL, &count), TERR_OK);
	CHECK_EQ(count, 3);
	free(due);
	t_db_drop(&d);
}

int
main(void)
{
	RUN(a_fresh_file_is_migrated_to_the_newest_schema_once);
	RUN(a_new_database_and_its_lock_and_wal_are_private_whatever_the_umask);
	RUN(opening_a_missing_file_without_migrate_fails_and_creates_nothing);
	RUN(a_rolled_back_transaction_and_savepoint_leave_nothing);
	RUN(users_and_links_dedup_on_their_keys_and_merge);
	RUN(a_users_access_columns_are_set_once);
	RUN(inbox_round_trips_a_row_and_its_raw_body);
	RUN(inbox_dedups_on_provider_and_event_id);
	RUN(inbox_refuses_what_the_schema_does_not_allow);
	RUN(inbox_update_records_the_outcome_and_lists_and_orphans_find_it);
	RUN(subscriptions_round_trip_and_dedup_on_provider_and_ext_id);
	RUN(subscription_update_writes_every_field_and_subs_of_is_newest_first);
	RUN(a_subscription_of_an_unknown_user_is_refused);
	RUN(entitlements_change_only_when_something_differs);
	RUN(payments_dedup_on_their_business_keys);
	RUN(grants_and_entries_round_trip_and_the_schema_keeps_remaining_in_range);
	RUN(live_grants_come_soonest_expiring_first_and_expired_only_when_asked);
	RUN(orders_round_trip_and_dedup_on_id_ref_and_charge);
	RUN(orders_refuse_a_zero_amount_and_an_unknown_user);
	RUN(pending_orders_walk_one_provider_oldest_expiry_first);
	RUN(due_subscriptions_are_walked_in_pages_each_row_once_up_to_until);
	RUN(a_job_lease_is_held_by_one_owner_until_it_ends);
	RUN(a_lease_is_taken_over_only_from_its_holder);
	RUN(outbox_rows_dedup_and_deliveries_move_only_from_pending);
	return t_done();
}
