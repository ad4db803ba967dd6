/*
 * apply(), the ledger and storage, on a real SQLite file: batch semantics
 * (savepoint per event), dedup inside one batch, the ledger's draw order,
 * migrations and the schema check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/text.h"
#include "cfg/cfg.h"
#include "core/apply.h"
#include "core/ledger.h"
#include "store/migrations.h"
#include "store/store.h"
#include "store/store_credits.h"
#include "store/store_rows.h"
#include "t.h"

static char dbpath[256];
static struct cfg cfg;

static const char catalog[] =
    "{\"products\":{"
    "\"pro\":{\"kind\":\"subscription\",\"entitlements\":[\"pro\"],\"credits\":1000,"
    "\"match\":{\"stripe\":[\"price_pro\"]}},"
    "\"pack\":{\"kind\":\"pack\",\"credits\":500,\"match\":{\"stripe\":[\"price_pack\"]}}}}";

static struct store *
fresh_db(void)
{
	struct store *s = NULL;
	int from, to;

	snprintf(dbpath, sizeof(dbpath), "/tmp/tally-unit-%d.db", (int)getpid());
	unlink(dbpath);
	if (store_open(&s, dbpath, STORE_MIGRATE) != TERR_OK)
		return NULL;
	if (store_migrate(s, 0, &from, &to) != TERR_OK) {
		store_close(s);
		return NULL;
	}
	return s;
}

static void
drop_db(struct store *s)
{
	char p[300];

	store_close(s);
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
}

/* A one-off purchase of the pack by user, keyed on key. */
static void
pack_event(struct bev *e, const char *id, const char *user, const char *key)
{
	bev_init(e);
	text_copy(e->provider, sizeof(e->provider), "stripe");
	text_copy(e->id, sizeof(e->id), id);
	text_copy(e->type, sizeof(e->type), "checkout.session.completed");
	text_copy(e->user, sizeof(e->user), user);
	e->at = 1700000000000;
	e->aspects = BEV_PAY;
	e->pay.kind = PAY_ONE_OFF;
	bev_key(&e->pay.keys, key);
	e->pay.amount = 500;
	text_copy(e->pay.currency, sizeof(e->pay.currency), "usd");
	text_copy(e->pay.product, sizeof(e->pay.product), "price_pack");
	e->raw = "{}";
	e->raw_len = 2;
}

static int64_t
balance(struct store *s, const char *user)
{
	int64_t b = -1;

	store_balance_live(s, user, 1700000000000, &b);
	return b;
}

TEST(batch_one_bad_event_leaves_the_others_committed)
{
	struct store *s = fresh_db();
	struct bev *ev = calloc(3, sizeof(*ev));
	struct apply_result res[3];

	CHECK(s != NULL && ev != NULL);
	pack_event(&ev[0], "evt_a", "alice", "pi_a");
	pack_event(&ev[1], "evt_b", "bob", "pi_b");
	text_copy(ev[1].pay.product, sizeof(ev[1].pay.product), "price_nope");
	pack_event(&ev[2], "evt_c", "carol", "pi_c");
	CHECK_EQ(apply_batch(s, &cfg, ev, 3, res, 1700000000000), TERR_OK);
	CHECK_EQ(res[0].state, INBOX_APPLIED);
	CHECK_EQ(res[1].state, INBOX_UNKNOWN_PRODUCT);
	CHECK_EQ(res[2].state, INBOX_APPLIED);
	CHECK_EQ(balance(s, "alice"), 500);
	CHECK_EQ(balance(s, "carol"), 500);
	CHECK_EQ(store_user_exists(s, "bob"), TERR_NOTFOUND);
	CHECK(res[1].inbox_id != 0);
	free(ev);
	drop_db(s);
}

TEST(batch_duplicates_inside_one_batch_apply_once)
{
	struct store *s = fresh_db();
	struct bev *ev = calloc(3, sizeof(*ev));
	struct apply_result res[3];

	CHECK(s != NULL && ev != NULL);
	pack_event(&ev[0], "evt_same", "dora", "pi_d");
	pack_event(&ev[1], "evt_same", "dora", "pi_d");
	pack_event(&ev[2], "evt_other_same_payment", "dora", "pi_d");
	CHECK_EQ(apply_batch(s, &cfg, ev, 3, res, 1700000000000), TERR_OK);
	CHECK_EQ(res[0].duplicate, 0);
	CHECK_EQ(res[1].duplicate, 1);
	CHECK_EQ(res[1].inbox_id, res[0].inbox_id);
	CHECK_EQ(res[2].duplicate, 0);
	CHECK_EQ(res[2].state, INBOX_APPLIED);
	CHECK(strstr(res[2].reason, "already recorded") != NULL);
	CHECK_EQ(balance(s, "dora"), 500);
	free(ev);
	drop_db(s);
}

TEST(apply_every_balance_equals_its_ledger)
{
	struct store *s = fresh_db();
	struct bev *ev = calloc(4, sizeof(*ev));
	struct apply_result res[4];
	int64_t lsum = -1, gsum = -2, violations = -1;
	char id[16], key[16];
	int i;

	CHECK(s != NULL && ev != NULL);
	for (i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "evt_%d", i);
		snprintf(key, sizeof(key), "pi_%d", i);
		pack_event(&ev[i], id, "erin", key);
	}
	CHECK_EQ(apply_batch(s, &cfg, ev, 4, res, 1700000000000), TERR_OK);
	CHECK_EQ(store_balance_sums(s, "erin", &lsum, &gsum), TERR_OK);
	CHECK_EQ(lsum, 2000);
	CHECK_EQ(gsum, 2000);
	CHECK_EQ(store_verify(s, NULL, NULL, &violations) == TERR_OK ? 0 : 1, 0);
	CHECK_EQ(violations, 0);
	free(ev);
	drop_db(s);
}

static struct grant_row
mkgrant(const char *user, int64_t amount, int64_t expires)
{
	struct grant_row g;

	memset(&g, 0, sizeof(g));
	text_copy(g.user, sizeof(g.user), user);
	g.source = GRANT_ADMIN;
	g.amount = amount;
	g.expires_at = expires;
	return g;
}

TEST(ledger_debit_draws_soonest_expiring_first)
{
	struct store *s = fresh_db();
	struct ledger_op op = { "test", "", 0, 1000, NULL };
	struct grant_row never = mkgrant("fay", 100, 0), late = mkgrant("fay", 100, 5000),
			 soon = mkgrant("fay", 100, 2000), gone = mkgrant("fay", 100, 500);
	struct grant_row live[8];
	int64_t taken = 0;
	size_t n;

	CHECK(s != NULL);
	CHECK_EQ(store_begin(s), TERR_OK);
	CHECK_EQ(store_user_insert(s, "fay", 0), TERR_OK);
	CHECK_EQ(ledger_grant(s, &op, &never), TERR_OK);
	CHECK_EQ(ledger_grant(s, &op, &late), TERR_OK);
	CHECK_EQ(ledger_grant(s, &op, &soon), TERR_OK);
	op.now = 100;
	CHECK_EQ(ledger_grant(s, &op, &gone), TERR_OK);
	op.now = 1000; /* gone expired at 500 */
	CHECK_EQ(ledger_debit(s, &op, "fay", 150, "spend", 0, &taken), TERR_OK);
	CHECK_EQ(taken, 150);
	CHECK_EQ(store_grants_live(s, "fay", 1000, live, 8, &n), TERR_OK);
	CHECK_EQ(n, 2);
	CHECK_EQ(live[0].id, late.id);
	CHECK_EQ(live[0].remaining, 50);
	CHECK_EQ(live[1].id, never.id);
	CHECK_EQ(live[1].remaining, 100);
	/* Never below zero: 151 more than the 150 left is refused whole. */
	CHECK_EQ(ledger_debit(s, &op, "fay", 151, "spend", 0, &taken), TERR_SHORT);
	CHECK_EQ(taken, 0);
	CHECK_EQ(ledger_debit(s, &op, "fay", 151, "clawback", 1, &taken), TERR_OK);
	CHECK_EQ(taken, 150);
	CHECK_EQ(ledger_debit(s, &op, "fay", 0, "spend", 0, &taken), TERR_INVAL);
	CHECK_EQ(store_commit(s), TERR_OK);
	drop_db(s);
}

TEST(store_refuses_a_database_behind_the_schema)
{
	struct store *s = NULL;

	snprintf(dbpath, sizeof(dbpath), "/tmp/tally-unit-%d.db", (int)getpid());
	unlink(dbpath);
	CHECK_EQ(store_open(&s, dbpath, STORE_MIGRATE), TERR_OK);
	store_close(s);
	s = NULL;
	CHECK_EQ(store_open(&s, dbpath, STORE_RW), TERR_SCHEMA);
	CHECK(s == NULL);
	unlink(dbpath);
}

TEST(migrations_from_empty_and_from_each_previous_version)
{
	struct store *s = NULL;
	int from, to, v, prev, i, latest = store_schema_latest();

	CHECK(latest >= 1);
	CHECK(tally_nmigrations >= 1);
	/*
	 * Each migration on top of its predecessor in the list: the numbers may
	 * have gaps (a number is taken by a change made apart and merged later).
	 */
	for (i = 0; i < tally_nmigrations; i++) {
		v = tally_migrations[i].version;
		prev = i > 0 ? tally_migrations[i - 1].version : 0;
		CHECK(v > prev);
		snprintf(dbpath, sizeof(dbpath), "/tmp/tally-unit-%d.db", (int)getpid());
		unlink(dbpath);
		CHECK_EQ(store_open(&s, dbpath, STORE_MIGRATE), TERR_OK);
		if (prev > 0) {
			CHECK_EQ(store_migrate(s, prev, &from, &to), TERR_OK);
			CHECK_EQ(to, prev);
		}
		CHECK_EQ(store_migrate(s, v, &from, &to), TERR_OK);
		CHECK_EQ(from, prev);
		CHECK_EQ(to, v);
		CHECK_EQ(store_migrate(s, 0, &from, &to), TERR_OK);
		CHECK_EQ(to, latest);
		CHECK_EQ(store_migrate(s, 0, &from, &to), TERR_OK);
		CHECK_EQ(from, to);
		drop_db(s);
		s = NULL;
	}
}

TEST(verify_reports_a_grant_that_disagrees_with_its_ledger)
{
	struct store *s = fresh_db();
	struct ledger_op op = { "test", "", 0, 1000, NULL };
	struct grant_row g = mkgrant("gus", 100, 0);
	int64_t violations = 0;

	CHECK(s != NULL);
	CHECK_EQ(store_begin(s), TERR_OK);
	CHECK_EQ(store_user_insert(s, "gus", 0), TERR_OK);
	CHECK_EQ(ledger_grant(s, &op, &g), TERR_OK);
	/* Bypass the ledger: the invariant check must notice. */
	CHECK_EQ(store_grant_set_remaining(s, g.id, 60), TERR_OK);
	CHECK_EQ(store_commit(s), TERR_OK);
	CHECK_EQ(store_verify(s, NULL, NULL, &violations), TERR_OK);
	CHECK_EQ(violations, 1);
	drop_db(s);
}

/* A subscription purchase of product "pro" (1000 credits) for user through links. */
static void
sub_event(struct bev *e, const char *id, const char *user, const char *link, const char *sub,
    const char *key)
{
	bev_init(e);
	text_copy(e->provider, sizeof(e->provider), "stripe");
	text_copy(e->id, sizeof(e->id), id);
	text_copy(e->type, sizeof(e->type), "invoice.paid");
	if (user != NULL)
		text_copy(e->user, sizeof(e->user), user);
	bev_link(e, "customer", link);
	e->at = 1700000000000;
	e->aspects = BEV_SUB | BEV_PAY;
	text_copy(e->sub.id, sizeof(e->sub.id), sub);
	text_copy(e->sub.product, sizeof(e->sub.product), "price_pro");
	e->sub.state = SUB_ACTIVE;
	e->sub.period_start = 1700000000000;
	e->sub.period_end = 1900000000000;
	e->pay.kind = PAY_INITIAL;
	bev_key(&e->pay.keys, key);
	e->pay.amount = 1000;
	text_copy(e->pay.currency, sizeof(e->pay.currency), "usd");
	text_copy(e->pay.product, sizeof(e->pay.product), "price_pro");
	e->pay.period_end = 1900000000000;
	e->raw = "{}";
	e->raw_len = 2;
}

/* Violations found by verify, printed as comments for the reader of a failure. */
static void
show_violation(void *arg, const char *check, const char *detail)
{
	(void)arg;
	printf("# verify %s: %s\n", check, detail);
}

static int
ent_active(struct store *s, const char *user)
{
	struct ent_row r[8];
	size_t n, i;
	int active = 0;

	if (store_ents_of(s, user, r, 8, &n) != TERR_OK)
		return -1;
	for (i = 0; i < n; i++)
		active += r[i].active;
	return active;
}

TEST(transfer_moves_subscription_credits_and_entitlements)
{
	struct store *s = fresh_db();
	struct bev *e = calloc(1, sizeof(*e));
	struct apply_result r;
	int64_t violations = -1;
	char u[USER_ID_MAX + 1];

	CHECK(s != NULL && e != NULL);
	sub_event(e, "evt_t1", "alice", "cus_a", "sub_t", "in_t1");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000000000), TERR_OK);
	pack_event(e, "evt_t2", "alice", "pi_t2");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000000000), TERR_OK);
	CHECK_EQ(balance(s, "alice"), 1500);
	/* Bob receives alice's stripe subscription; her pack stays with her. */
	bev_init(e);
	text_copy(e->provider, sizeof(e->provider), "stripe");
	text_copy(e->id, sizeof(e->id), "evt_transfer");
	text_copy(e->user, sizeof(e->user), "bob");
	e->at = 1700000001000;
	e->aspects = BEV_TRANSFER;
	text_copy(e->transfer.from[0].kind, KIND_MAX, "customer");
	text_copy(e->transfer.from[0].id, ID_MAX, "cus_a");
	e->transfer.nfrom = 1;
	e->raw = "{}";
	e->raw_len = 2;
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000001000), TERR_OK);
	CHECK_EQ(r.state, INBOX_APPLIED);
	CHECK_EQ(balance(s, "alice"), 500);
	CHECK_EQ(balance(s, "bob"), 1000);
	CHECK_EQ(ent_active(s, "alice"), 0);
	CHECK_EQ(ent_active(s, "bob"), 1);
	CHECK_EQ(store_link_find(s, "stripe", "subscription", "sub_t", u), TERR_OK);
	CHECK_EQ(store_verify(s, show_violation, NULL, &violations), TERR_OK);
	CHECK_EQ(violations, 0);
	free(e);
	drop_db(s);
}

TEST(merge_links_joins_two_users_into_the_named_one)
{
	struct store *s = fresh_db();
	struct bev *e = calloc(1, sizeof(*e));
	struct apply_result r;
	char u[USER_ID_MAX + 1], merged[USER_ID_MAX + 1];
	int64_t violations = -1;

	CHECK(s != NULL && e != NULL);
	sub_event(e, "evt_m1", "anon_1", "cus_anon", "sub_m", "in_m1");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000000000), TERR_OK);
	pack_event(e, "evt_m2", "carl", "pi_m2");
	bev_link(e, "customer", "cus_carl");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000000000), TERR_OK);
	/* Without merge_links the two links of one event naming two users conflict. */
	pack_event(e, "evt_m3", "carl", "pi_m3");
	bev_link(e, "customer", "cus_carl");
	bev_link(e, "customer", "cus_anon");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000000000), TERR_OK);
	CHECK_EQ(r.state, INBOX_FAILED);
	e->merge_links = 1;
	text_copy(e->id, sizeof(e->id), "evt_m4");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000000000), TERR_OK);
	CHECK_EQ(r.state, INBOX_APPLIED);
	CHECK_EQ(balance(s, "carl"), 2000); /* 500 + the merged 1000 + 500 */
	CHECK_EQ(balance(s, "anon_1"), 0);
	CHECK_EQ(store_link_find(s, "stripe", "customer", "cus_anon", u), TERR_OK);
	CHECK_STR(u, "carl");
	CHECK_EQ(store_user_get(s, "anon_1", NULL, merged), TERR_OK);
	CHECK_STR(merged, "carl");
	CHECK_EQ(ent_active(s, "carl"), 1);
	/* An event naming the merged user lands on the one it joined. */
	pack_event(e, "evt_m5", "anon_1", "pi_m5");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000000000), TERR_OK);
	CHECK_STR(r.user, "carl");
	CHECK_EQ(balance(s, "carl"), 2500);
	CHECK_EQ(store_verify(s, show_violation, NULL, &violations), TERR_OK);
	CHECK_EQ(violations, 0);
	free(e);
	drop_db(s);
}

TEST(reinstate_gives_back_access_and_clawed_credits)
{
	struct store *s = fresh_db();
	struct bev *e = calloc(1, sizeof(*e));
	struct apply_result r;
	int64_t violations = -1;

	CHECK(s != NULL && e != NULL);
	sub_event(e, "evt_r1", "dana", "cus_d", "sub_r", "in_r1");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000000000), TERR_OK);
	bev_init(e);
	text_copy(e->provider, sizeof(e->provider), "stripe");
	text_copy(e->id, sizeof(e->id), "evt_refund");
	e->at = 1700000001000;
	e->aspects = BEV_REFUND;
	e->refund.kind = REFUND_FULL;
	bev_key(&e->refund.keys, "in_r1");
	e->raw = "{}";
	e->raw_len = 2;
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000001000), TERR_OK);
	CHECK_EQ(balance(s, "dana"), 0);
	CHECK_EQ(ent_active(s, "dana"), 0);
	text_copy(e->id, sizeof(e->id), "evt_reversed");
	e->at = 1700000002000;
	e->aspects = BEV_REINSTATE;
	bev_key(&e->reinstate, "in_r1");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000002000), TERR_OK);
	if (r.state != INBOX_APPLIED)
		printf("# reinstate: %s\n", r.reason);
	CHECK_EQ(r.state, INBOX_APPLIED);
	CHECK_EQ(balance(s, "dana"), 1000);
	CHECK_EQ(ent_active(s, "dana"), 1);
	/* Again: nothing more to give back. */
	text_copy(e->id, sizeof(e->id), "evt_reversed_again");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000002000), TERR_OK);
	CHECK(strstr(r.reason, "not refunded") != NULL);
	CHECK_EQ(balance(s, "dana"), 1000);
	CHECK_EQ(store_verify(s, show_violation, NULL, &violations), TERR_OK);
	CHECK_EQ(violations, 0);
	free(e);
	drop_db(s);
}

/* A's subscription ended by B, which replaces it (bev_sub.replaces): stripe's ids stand for any. */
static void
replacing(struct bev *e, const char *id, const char *user, const char *sub, const char *old,
    const char *key, int64_t at)
{
	sub_event(e, id, user, NULL, sub, key);
	e->nlinks = 0;
	text_copy(e->sub.replaces, sizeof(e->sub.replaces), old);
	e->at = at;
}

static int
sub_state_of(struct store *s, const char *sub)
{
	struct sub_row r;

	return store_sub_find(s, "stripe", sub, &r) == TERR_OK ? (int)r.state : -1;
}

TEST(replaces_ends_the_old_subscription_and_carries_its_user)
{
	struct store *s = fresh_db();
	struct bev *e = calloc(1, sizeof(*e));
	struct apply_result r;
	int64_t violations = -1;
	char u[USER_ID_MAX + 1];

	CHECK(s != NULL && e != NULL);
	sub_event(e, "evt_x1", "erin", "cus_e", "sub_old", "in_x1");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000000000), TERR_OK);
	CHECK_EQ(balance(s, "erin"), 1000);
	/* The upgrade names no user: it is the old one's. */
	replacing(e, "evt_x2", NULL, "sub_new", "sub_old", "in_x2", 1700000001000);
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000001000), TERR_OK);
	if (r.state != INBOX_APPLIED)
		printf("# replace: %s\n", r.reason);
	CHECK_EQ(r.state, INBOX_APPLIED);
	CHECK_STR(r.user, "erin");
	CHECK_EQ(sub_state_of(s, "sub_old"), SUB_EXPIRED);
	CHECK_EQ(sub_state_of(s, "sub_new"), SUB_ACTIVE);
	/* The new plan's credits replace the old's (SET), access from the new one only. */
	CHECK_EQ(balance(s, "erin"), 1000);
	CHECK_EQ(ent_active(s, "erin"), 1);
	CHECK_EQ(store_link_find(s, "stripe", "replaced_subscription", "sub_old", u), TERR_OK);
	CHECK_STR(u, "erin");
	/* A later event of the old one (paid again, newer) does not bring it back. */
	sub_event(e, "evt_x3", "erin", NULL, "sub_old", "in_x3");
	e->at = 1700000002000;
	e->pay.kind = PAY_RENEWAL;
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000002000), TERR_OK);
	CHECK_EQ(r.state, INBOX_APPLIED);
	CHECK(strstr(r.reason, "replaced") != NULL);
	CHECK_EQ(sub_state_of(s, "sub_old"), SUB_EXPIRED);
	CHECK_EQ(balance(s, "erin"), 1000);
	CHECK_EQ(ent_active(s, "erin"), 1);
	/* The same replacement again changes nothing. */
	replacing(e, "evt_x4", NULL, "sub_new", "sub_old", "in_x2", 1700000003000);
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000003000), TERR_OK);
	CHECK_EQ(r.state, INBOX_APPLIED);
	CHECK_EQ(balance(s, "erin"), 1000);
	CHECK_EQ(store_verify(s, show_violation, NULL, &violations), TERR_OK);
	CHECK_EQ(violations, 0);
	free(e);
	drop_db(s);
}

TEST(replaces_before_the_old_is_known_records_it_expired)
{
	struct store *s = fresh_db();
	struct bev *e = calloc(1, sizeof(*e));
	struct apply_result r;
	int64_t violations = -1;

	CHECK(s != NULL && e != NULL);
	/* The new one first (out of order), naming its user. */
	replacing(e, "evt_y1", "finn", "sub_y_new", "sub_y_old", "in_y1", 1700000001000);
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000001000), TERR_OK);
	CHECK_EQ(r.state, INBOX_APPLIED);
	CHECK(strstr(r.reason, "not known yet") != NULL);
	CHECK_EQ(balance(s, "finn"), 1000);
	/* Then the old one's purchase: born expired, its payment grants nothing, the new untouched. */
	sub_event(e, "evt_y2", "finn", NULL, "sub_y_old", "in_y0");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000002000), TERR_OK);
	CHECK_EQ(r.state, INBOX_APPLIED);
	CHECK_EQ(sub_state_of(s, "sub_y_old"), SUB_EXPIRED);
	CHECK_EQ(sub_state_of(s, "sub_y_new"), SUB_ACTIVE);
	CHECK_EQ(balance(s, "finn"), 1000);
	CHECK_EQ(ent_active(s, "finn"), 1);
	CHECK_EQ(store_verify(s, show_violation, NULL, &violations), TERR_OK);
	CHECK_EQ(violations, 0);
	free(e);
	drop_db(s);
}

TEST(replaces_never_ends_another_users_subscription)
{
	struct store *s = fresh_db();
	struct bev *e = calloc(1, sizeof(*e));
	struct apply_result r;

	CHECK(s != NULL && e != NULL);
	sub_event(e, "evt_z1", "gina", "cus_g", "sub_z_old", "in_z1");
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000000000), TERR_OK);
	replacing(e, "evt_z2", "hank", "sub_z_new", "sub_z_old", "in_z2", 1700000001000);
	CHECK_EQ(apply_batch(s, &cfg, e, 1, &r, 1700000001000), TERR_OK);
	CHECK_EQ(r.state, INBOX_APPLIED);
	CHECK(strstr(r.reason, "belongs to user gina") != NULL);
	CHECK_EQ(sub_state_of(s, "sub_z_old"), SUB_ACTIVE);
	CHECK_EQ(balance(s, "gina"), 1000);
	CHECK_EQ(ent_active(s, "gina"), 1);
	free(e);
	drop_db(s);
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
	RUN(batch_one_bad_event_leaves_the_others_committed);
	RUN(batch_duplicates_inside_one_batch_apply_once);
	RUN(apply_every_balance_equals_its_ledger);
	RUN(ledger_debit_draws_soonest_expiring_first);
	RUN(store_refuses_a_database_behind_the_schema);
	RUN(migrations_from_empty_and_from_each_previous_version);
	RUN(verify_reports_a_grant_that_disagrees_with_its_ledger);
	RUN(transfer_moves_subscription_credits_and_entitlements);
	RUN(merge_links_joins_two_users_into_the_named_one);
	RUN(reinstate_gives_back_access_and_clawed_credits);
	RUN(replaces_ends_the_old_subscription_and_carries_its_user);
	RUN(replaces_before_the_old_is_known_records_it_expired);
	RUN(replaces_never_ends_another_users_subscription);
	cfg_release(&cfg);
	return t_done();
}
