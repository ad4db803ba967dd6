#include <string.h>

#include "store/store_int.h"
#include "store/store_orders.h"
#include "store/store_orders_int.h"

static const char *const order_states[] = { "pending", "paid", "refunded", "expired", "canceled" };

const char *
order_state_str(enum order_state st)
{
	return (unsigned)st <= ORDER_CANCELED ? order_states[st] : "pending";
}

static enum order_state
order_state_parse(const char *s)
{
	unsigned i;

	for (i = 0; i <= ORDER_CANCELED; i++)
		if (strcmp(order_states[i], s) == 0)
			return (enum order_state)i;
	return ORDER_PENDING;
}

void
store_read_order(sqlite3_stmt *st, void *out)
{
	struct order_row *r = out;
	char state[16];

	store_col_text(st, 0, r->id, sizeof(r->id));
	store_col_text(st, 1, r->provider, sizeof(r->provider));
	store_col_text(st, 2, r->user, sizeof(r->user));
	store_col_text(st, 3, r->product, sizeof(r->product));
	r->amount = sqlite3_column_int64(st, 4);
	store_col_text(st, 5, r->currency, sizeof(r->currency));
	store_col_text(st, 6, state, sizeof(state));
	r->state = order_state_parse(state);
	r->live = sqlite3_column_int(st, 7);
	store_col_text(st, 8, r->provider_ref, sizeof(r->provider_ref));
	store_col_text(st, 9, r->charge_id, sizeof(r->charge_id));
	r->pay_id = sqlite3_column_int64(st, 10);
	r->expires_at = sqlite3_column_int64(st, 11);
	r->created_at = sqlite3_column_int64(st, 12);
	r->updated_at = sqlite3_column_int64(st, 13);
}

enum terr
store_order_insert(struct store *s, const struct order_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ORDER_INSERT);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, r->id);
	store_bind_text(st, 2, r->provider);
	store_bind_text(st, 3, r->user);
	store_bind_text(st, 4, r->product);
	store_bind_i64(st, 5, r->amount);
	store_bind_text(st, 6, r->currency);
	store_bind_text(st, 7, order_state_str(r->state));
	store_bind_i64(st, 8, r->live);
	store_bind_opt(st, 9, r->provider_ref);
	store_bind_opt(st, 10, r->charge_id);
	if (r->pay_id != 0)
		store_bind_i64(st, 11, r->pay_id);
	store_bind_i64(st, 12, r->expires_at);
	store_bind_i64(st, 13, r->created_at);
	store_bind_i64(st, 14, r->updated_at);
	return store_step_done(s, st, "order insert");
}

enum terr
store_order_get(struct store *s, const char *id, struct order_row *out)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ORDER_GET);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, id);
	return store_one_row(s, st, store_read_order, out, "order get");
}

enum terr
store_order_find_ref(struct store *s, const char *provider, const char *ref, struct order_row *out)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ORDER_FIND_REF);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, provider);
	store_bind_text(st, 2, ref);
	return store_one_row(s, st, store_read_order, out, "order find ref");
}

enum terr
store_order_update(struct store *s, const struct order_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ORDER_UPDATE);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, r->id);
	store_bind_text(st, 2, order_state_str(r->state));
	store_bind_opt(st, 3, r->provider_ref);
	store_bind_opt(st, 4, r->charge_id);
	if (r->pay_id != 0)
		store_bind_i64(st, 5, r->pay_id);
	store_bind_i64(st, 6, r->updated_at);
	return store_step_done(s, st, "order update");
}

enum terr
store_order_of_pay(struct store *s, int64_t pay_id, struct order_row *out)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ORDER_OF_PAY);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, pay_id);
	return store_one_row(s, st, store_read_order, out, "order of payment");
}

/* --- users --- */

static void
read_user(sqlite3_stmt *st, void *out)
{
	struct user_row *r = out;

	store_col_text(st, 0, r->id, sizeof(r->id));
	r->created_at = sqlite3_column_int64(st, 1);
	store_col_text(st, 2, r->merged_into, sizeof(r->merged_into));
	store_col_text(st, 3, r->referrer, sizeof(r->referrer));
	r->registered_at = sqlite3_column_int64(st, 4);
	r->trial_used_at = sqlite3_column_int64(st, 5);
	r->free_next_at = sqlite3_column_int64(st, 6);
}

enum terr
store_user_row(struct store *s, const char *id, struct user_row *out)
{
	sqlite3_stmt *st = store_stmt(s, STMT_USER_ROW);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, id);
	return store_one_row(s, st, read_user, out, "user row");
}

/* Run a "set once" update of a user; TERR_DUP (or dup) when it changed nothing. */
static enum terr
set_once(struct store *s, enum stmt i, const char *id, const char *text, int64_t v, enum terr dup,
    const char *what)
{
	sqlite3_stmt *st = store_stmt(s, i);
	enum terr rc;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, id);
	if (text != NULL)
		store_bind_text(st, 2, text);
	else
		store_bind_i64(st, 2, v);
	if ((rc = store_step_done(s, st, what)) != TERR_OK)
		return rc;
	return sqlite3_changes(s->db) == 0 ? dup : TERR_OK;
}

enum terr
store_user_set_referrer(struct store *s, const char *id, const char *referrer)
{
	return set_once(s, STMT_USER_SET_REFERRER, id, referrer, 0, TERR_CONFLICT,
	    "user set referrer");
}

enum terr
store_user_set_registered(struct store *s, const char *id, int64_t at)
{
	return set_once(s, STMT_USER_SET_REGISTERED, id, NULL, at, TERR_DUP, "user set registered");
}

enum terr
store_user_set_trial_used(struct store *s, const char *id, int64_t at)
{
	return set_once(s, STMT_USER_SET_TRIAL_USED, id, NULL, at, TERR_DUP, "user set trial used");
}

enum terr
store_user_set_free_next(struct store *s, const char *id, int64_t at)
{
	sqlite3_stmt *st = store_stmt(s, STMT_USER_SET_FREE_NEXT);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, id);
	store_bind_i64(st, 2, at);
	return store_step_done(s, st, "user set free next");
}

/* --- referral rewards --- */

enum terr
store_referral_insert(struct store *s, const struct referral_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_REFERRAL_INSERT);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, r->buyer);
	store_bind_i64(st, 2, r->pay_id);
	store_bind_text(st, 3, r->referrer);
	store_bind_i64(st, 4, r->percent);
	store_bind_i64(st, 5, r->credits);
	if (r->grant_id != 0)
		store_bind_i64(st, 6, r->grant_id);
	store_bind_i64(st, 7, r->created_at);
	return store_step_done(s, st, "referral insert");
}

enum terr
store_referral_stats(struct store *s, const char *referrer, int64_t *buyers, int64_t *credits)
{
	sqlite3_stmt *st = store_stmt(s, STMT_REFERRAL_STATS);
	int r;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, referrer);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*buyers = sqlite3_column_int64(st, 0);
		*credits = sqlite3_column_int64(st, 1);
	}
	store_stmt_done(st);
	return r == SQLITE_ROW ? TERR_OK : store_err(s, r, "referral stats");
}

enum terr
store_referral_has_buyer(struct store *s, const char *referrer, const char *buyer, int *yes)
{
	sqlite3_stmt *st = store_stmt(s, STMT_REFERRAL_HAS_BUYER);
	int r;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, referrer);
	store_bind_text(st, 2, buyer);
	r = sqlite3_step(st);
	*yes = r == SQLITE_ROW;
	store_stmt_done(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? TERR_OK
						   : store_err(s, r, "referral has buyer");
}
